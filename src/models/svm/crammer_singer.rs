//! Crammer and Singer's multiclass SVM by dual coordinate descent with shrinking: liblinear's
//! `Solver_MCSVM_CS` (Keerthi, Sundararajan, Chang, Hsieh and Lin, 2008).
//!
//! It solves, over one weight vector `w_m` per class (the bias column included),
//!
//! `min ½ Σ_m ‖w_m‖² + Σᵢ cᵢ max(0, max_{m≠yᵢ} (1 + w_m·xᵢ − w_{yᵢ}·xᵢ))`
//!
//! through its dual: one block of `k` variables per row with `Σ_m αᵢᵐ = 0`,
//! `αᵢᵐ ≤ cᵢ` for the row's class and `αᵢᵐ ≤ 0` for the others, and `w_m = Σᵢ αᵢᵐ xᵢ`. Each
//! sweep visits the active rows in a random order (the run's seeded stream in place of
//! liblinear's `rand()`) and solves each row's block exactly (the sorting step of the
//! paper's appendix). Classes of a row whose variable sits at its bound with a small
//! gradient are shrunk away, and rows left with one class are dropped, until the active set
//! meets a tolerance that halves down to `tol`; then every row and class comes back, and
//! the solver stops when a sweep over all of them meets `tol`, as in liblinear.

use super::problem::{Rows, Run};
use crate::error::{Error, Result};

/// Below this, a change of a dual variable is not applied to the weights and a gradient
/// spread counts as zero (liblinear's `1e-12`).
const NEGLIGIBLE: f64 = 1e-12;

/// The fitted weights: `k` rows of `rows.d` values (class `m`'s weights, bias last).
pub(crate) struct Weights {
    /// Row-major `k × d`.
    pub w: Vec<f64>,
    /// Sweeps run.
    pub n_iter: usize,
    /// Whether a sweep over every row and class met `tol` within `max_iter`.
    pub converged: bool,
}

/// One row's scratch space, reused across rows (`k` values each).
struct Scratch {
    g: Vec<f64>,
    b: Vec<f64>,
    sorted: Vec<f64>,
    alpha_new: Vec<f64>,
    changed: Vec<(usize, f64)>,
}

/// liblinear's `Solver_MCSVM_CS::Solve` on rows with class indices `y` (`< k`) and per-row
/// costs `c` (`C` × class weight × sample weight, > 0).
pub(crate) fn solve(
    rows: &Rows,
    y: &[usize],
    c: &[f64],
    k: usize,
    run: &mut Run<'_>,
) -> Result<Weights> {
    let n = rows.n();
    let d = rows.d;
    if y.len() != n || c.len() != n || y.iter().any(|&m| m >= k) {
        return Err(Error::shape(
            "linear_svc (crammer_singer)",
            format!("{n} class indices below {k} and {n} costs"),
            format!("{} classes, {} costs", y.len(), c.len()),
        ));
    }
    // Feature-major weights (`w[j·k + m]`), as liblinear keeps them: a row's update touches
    // `k` adjacent values per feature.
    let mut w = vec![0.0; d * k];
    let mut alpha = vec![0.0; n * k];
    // Per row: the order of its classes (the active ones first) and where its own class is.
    let mut alpha_index: Vec<usize> = (0..n).flat_map(|_| 0..k).collect();
    let mut y_index: Vec<usize> = y.to_vec();
    let mut active_k = vec![k; n];
    let qd: Vec<f64> = (0..n)
        .map(|i| rows.row(i).iter().map(|v| v * v).sum())
        .collect();
    let mut index: Vec<usize> = (0..n).collect();
    let mut active = n;
    let eps = run.tol;
    let mut eps_shrink = (10.0 * eps).max(1.0);
    let mut start_from_all = true;
    let mut s = Scratch {
        g: vec![0.0; k],
        b: vec![0.0; k],
        sorted: Vec::with_capacity(k),
        alpha_new: vec![0.0; k],
        changed: Vec::with_capacity(k),
    };
    let mut iter = 0;
    let mut converged = false;
    while iter < run.max_iter {
        let mut stopping = f64::NEG_INFINITY;
        run.shuffle(&mut index, active);
        let mut pos = 0;
        while pos < active {
            let i = index[pos];
            let ai = qd[i];
            if ai <= 0.0 {
                pos += 1;
                continue;
            }
            let xi = rows.row(i);
            let ci = c[i];
            let alpha_i = &mut alpha[i * k..(i + 1) * k];
            let order = &mut alpha_index[i * k..(i + 1) * k];
            let mut act = active_k[i];
            let mut yi = y_index[i];
            // Gradients of the active classes.
            s.g[..act].fill(1.0);
            if yi < act {
                s.g[yi] = 0.0;
            }
            for (j, &v) in xi.iter().enumerate() {
                let wj = &w[j * k..(j + 1) * k];
                for (g, &m) in s.g[..act].iter_mut().zip(order.iter()) {
                    *g += wj[m] * v;
                }
            }
            let mut min_g = f64::INFINITY;
            let mut max_g = f64::NEG_INFINITY;
            for (&g, &m) in s.g[..act].iter().zip(order.iter()) {
                if alpha_i[m] < 0.0 && g < min_g {
                    min_g = g;
                }
                max_g = max_g.max(g);
            }
            if yi < act && alpha_i[y[i]] < ci && s.g[yi] < min_g {
                min_g = s.g[yi];
            }
            // Shrink the classes at their bound whose gradient is below every free one.
            let shrunk = |slot: usize, yi: usize, a: f64, g: f64| {
                let bound = if slot == yi { ci } else { 0.0 };
                a == bound && g < min_g
            };
            let mut m = 0;
            while m < act {
                if shrunk(m, yi, alpha_i[order[m]], s.g[m]) {
                    act -= 1;
                    while act > m {
                        if !shrunk(act, yi, alpha_i[order[act]], s.g[act]) {
                            order.swap(m, act);
                            s.g.swap(m, act);
                            if yi == act {
                                yi = m;
                            } else if yi == m {
                                yi = act;
                            }
                            break;
                        }
                        act -= 1;
                    }
                }
                m += 1;
            }
            active_k[i] = act;
            y_index[i] = yi;
            if act <= 1 {
                active -= 1;
                index.swap(pos, active);
                continue;
            }
            pos += 1;
            if max_g - min_g <= NEGLIGIBLE {
                continue;
            }
            stopping = stopping.max(max_g - min_g);
            for ((b, &g), &m) in s.b[..act].iter_mut().zip(&s.g[..act]).zip(order.iter()) {
                *b = g - ai * alpha_i[m];
            }
            sub_problem(ai, yi, ci, act, &mut s);
            s.changed.clear();
            for (&new, &m) in s.alpha_new[..act].iter().zip(order.iter()) {
                let delta = new - alpha_i[m];
                alpha_i[m] = new;
                if delta.abs() >= NEGLIGIBLE {
                    s.changed.push((m, delta));
                }
            }
            for (j, &v) in xi.iter().enumerate() {
                let wj = &mut w[j * k..(j + 1) * k];
                for &(m, delta) in &s.changed {
                    wj[m] += delta * v;
                }
            }
        }
        iter += 1;
        if !run.monitor.iteration(iter, run.max_iter, stopping)? {
            break;
        }
        if stopping < eps_shrink {
            if stopping < eps && start_from_all {
                converged = true;
                break;
            }
            active = n;
            active_k.fill(k);
            eps_shrink = (eps_shrink / 2.0).max(eps);
            start_from_all = true;
        } else {
            start_from_all = false;
        }
    }
    // Class-major output: row `m` holds class `m`'s weights.
    let mut out = vec![0.0; k * d];
    for (j, wj) in w.chunks_exact(k).enumerate() {
        for (m, v) in wj.iter().enumerate() {
            out[m * d + j] = *v;
        }
    }
    Ok(Weights {
        w: out,
        n_iter: iter,
        converged,
    })
}

/// The exact solution of one row's block over its `act` active classes (liblinear's
/// `solve_sub_problem`): `B` holds `gᵐ − Aᵢ αᵢᵐ`, `yi` is the slot of the row's class
/// (`>= act` when shrunk), `ci` its bound; writes the new values to `s.alpha_new`.
fn sub_problem(ai: f64, yi: usize, ci: f64, act: usize, s: &mut Scratch) {
    s.sorted.clear();
    s.sorted.extend_from_slice(&s.b[..act]);
    if let Some(v) = s.sorted.get_mut(yi) {
        *v += ai * ci;
    }
    s.sorted.sort_unstable_by(|a, b| b.total_cmp(a));
    let mut beta = s.sorted.first().copied().unwrap_or(0.0) - ai * ci;
    let mut r = 1;
    while r < act && beta < r as f64 * s.sorted[r] {
        beta += s.sorted[r];
        r += 1;
    }
    beta /= r as f64;
    for (slot, (new, &b)) in s.alpha_new[..act].iter_mut().zip(&s.b[..act]).enumerate() {
        let bound = if slot == yi { ci } else { 0.0 };
        *new = bound.min((beta - b) / ai);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common::rng;
    use crate::models::svm::problem::Monitor;
    use crate::traits::FitContext;

    /// The primal objective `½ Σ‖w_m‖² + Σ cᵢ max(0, max_{m≠y} 1 + w_m·x − w_y·x)`.
    fn primal(rows: &Rows, y: &[usize], c: &[f64], k: usize, w: &[f64]) -> f64 {
        let d = rows.d;
        let reg = 0.5 * w.iter().map(|v| v * v).sum::<f64>();
        let score = |i: usize, m: usize| -> f64 {
            rows.row(i)
                .iter()
                .zip(&w[m * d..(m + 1) * d])
                .map(|(a, b)| a * b)
                .sum()
        };
        let loss: f64 = (0..rows.n())
            .map(|i| {
                let own = score(i, y[i]);
                let worst = (0..k)
                    .filter(|&m| m != y[i])
                    .map(|m| 1.0 + score(i, m) - own)
                    .fold(0.0f64, f64::max);
                c[i] * worst
            })
            .sum();
        reg + loss
    }

    fn fit(rows: &Rows, y: &[usize], c: &[f64], k: usize, tol: f64, seed: u64) -> Weights {
        let ctx = FitContext::new();
        let mut run = Run {
            tol,
            max_iter: 100_000,
            rng: rng::for_task(seed, 0),
            monitor: Monitor {
                ctx: &ctx,
                stage: "test",
                task: 0,
            },
        };
        solve(rows, y, c, k, &mut run).unwrap()
    }

    #[test]
    fn reaches_the_same_optimum_from_any_order_and_beats_perturbations() {
        // Three overlapping classes in two dimensions with a bias column.
        let pts: Vec<(f64, f64, usize)> = (0..60)
            .map(|i| {
                let t = i as f64 * 0.37;
                let m = i % 3;
                (m as f64 + t.sin(), (m as f64 * 1.3) + (1.7 * t).cos(), m)
            })
            .collect();
        let x: Vec<f64> = pts.iter().flat_map(|p| [p.0, p.1]).collect();
        let y: Vec<usize> = pts.iter().map(|p| p.2).collect();
        let keep = vec![true; y.len()];
        let rows = Rows::new(&x, 2, &keep, Some(1.0));
        let c: Vec<f64> = (0..y.len()).map(|i| 0.5 + (i % 4) as f64 * 0.25).collect();
        let a = fit(&rows, &y, &c, 3, 1e-10, 1);
        let b = fit(&rows, &y, &c, 3, 1e-10, 7);
        assert!(a.converged && b.converged);
        for (u, v) in a.w.iter().zip(&b.w) {
            assert!((u - v).abs() < 1e-7, "{u} vs {v}");
        }
        let best = primal(&rows, &y, &c, 3, &a.w);
        for t in 0..a.w.len() {
            for step in [1e-3, -1e-3] {
                let mut w = a.w.clone();
                w[t] += step;
                assert!(primal(&rows, &y, &c, 3, &w) >= best - 1e-9);
            }
        }
    }
}
