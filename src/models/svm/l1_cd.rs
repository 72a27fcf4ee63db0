//! liblinear's `solve_l1r_l2_svc`: L1-regularized squared-hinge classification
//! (`penalty="l1"`, `dual=false`) by coordinate descent over the features with a
//! one-dimensional Newton step and line search (Yuan, Chang, Hsieh and Lin, 2010), on
//!
//! `‖w‖₁ + Σᵢ cᵢ max(0, 1 − yᵢ w·xᵢ)²`
//!
//! (the bias column, when present, is penalized like any feature, as in liblinear).
//! Features at zero whose gradient lies inside the subdifferential are shrunk away; the
//! solver stops when the summed violation is at most `tol` times that of the first sweep.

use super::problem::{Rows, Run, Solution};
use crate::error::Result;

/// Minimizes the objective above for labels `y` (±1) and per-row costs `c`.
pub(crate) fn minimize(rows: &Rows, y: &[f64], c: &[f64], run: &mut Run<'_>) -> Result<Solution> {
    const MAX_LINESEARCH: usize = 20;
    const SIGMA: f64 = 0.01;
    let n = rows.n();
    let d = rows.d;
    // Column j holds yᵢ xᵢⱼ.
    let mut cols = rows.columns();
    for col in cols.chunks_exact_mut(n.max(1)) {
        for (v, yi) in col.iter_mut().zip(y) {
            *v *= yi;
        }
    }
    let col = |j: usize| &cols[j * n..(j + 1) * n];
    let mut w = vec![0.0; d];
    // b = 1 − y w·x.
    let mut b = vec![1.0; n];
    let xj_sq: Vec<f64> = (0..d)
        .map(|j| col(j).iter().zip(c).map(|(v, ci)| ci * v * v).sum())
        .collect();
    let mut index: Vec<usize> = (0..d).collect();
    let mut active = d;
    let mut g_max_old = f64::INFINITY;
    let mut g_norm1_init = -1.0;
    let mut iter = 0;
    let mut converged = false;
    let nf = n as f64;
    while iter < run.max_iter {
        let mut g_max_new = 0.0f64;
        let mut g_norm1_new = 0.0;
        run.shuffle(&mut index, active);
        let mut s = 0;
        while s < active {
            let j = index[s];
            let xj = col(j);
            let mut g_loss = 0.0;
            let mut h = 0.0;
            for ((&v, &bi), &ci) in xj.iter().zip(&b).zip(c) {
                if bi > 0.0 {
                    let tmp = ci * v;
                    g_loss -= tmp * bi;
                    h += tmp * v;
                }
            }
            g_loss *= 2.0;
            let g = g_loss;
            let h = (2.0 * h).max(1e-12);
            let gp = g + 1.0;
            let gn = g - 1.0;
            let mut violation = 0.0;
            if w[j] == 0.0 {
                if gp < 0.0 {
                    violation = -gp;
                } else if gn > 0.0 {
                    violation = gn;
                } else if gp > g_max_old / nf && gn < -g_max_old / nf {
                    active -= 1;
                    index.swap(s, active);
                    continue;
                }
            } else if w[j] > 0.0 {
                violation = gp.abs();
            } else {
                violation = gn.abs();
            }
            g_max_new = g_max_new.max(violation);
            g_norm1_new += violation;
            s += 1;
            let mut dir = if gp < h * w[j] {
                -gp / h
            } else if gn > h * w[j] {
                -gn / h
            } else {
                -w[j]
            };
            if dir.abs() < 1e-12 {
                continue;
            }
            let mut delta = (w[j] + dir).abs() - w[j].abs() + g * dir;
            let mut d_old = 0.0;
            let mut loss_old = 0.0;
            let mut searched = 0;
            while searched < MAX_LINESEARCH {
                let d_diff = d_old - dir;
                let mut cond = (w[j] + dir).abs() - w[j].abs() - SIGMA * delta;
                let appxcond = xj_sq[j] * dir * dir + g_loss * dir + cond;
                if appxcond <= 0.0 {
                    for (bi, &v) in b.iter_mut().zip(xj) {
                        *bi += d_diff * v;
                    }
                    break;
                }
                let mut loss_new = 0.0;
                for ((bi, &v), &ci) in b.iter_mut().zip(xj).zip(c) {
                    if searched == 0 && *bi > 0.0 {
                        loss_old += ci * *bi * *bi;
                    }
                    let b_new = *bi + d_diff * v;
                    *bi = b_new;
                    if b_new > 0.0 {
                        loss_new += ci * b_new * b_new;
                    }
                }
                cond += loss_new - loss_old;
                if cond <= 0.0 {
                    break;
                }
                d_old = dir;
                dir *= 0.5;
                delta *= 0.5;
                searched += 1;
            }
            w[j] += dir;
            if searched >= MAX_LINESEARCH {
                // Too many halvings: recompute b from w.
                b.iter_mut().for_each(|v| *v = 1.0);
                for (k, &wk) in w.iter().enumerate() {
                    if wk != 0.0 {
                        for (bi, &v) in b.iter_mut().zip(col(k)) {
                            *bi -= wk * v;
                        }
                    }
                }
            }
        }
        if iter == 0 {
            g_norm1_init = g_norm1_new;
        }
        iter += 1;
        if !run.monitor.iteration(iter, run.max_iter, g_norm1_new)? {
            break;
        }
        if g_norm1_new <= run.tol * g_norm1_init {
            if active == d {
                converged = true;
                break;
            }
            active = d;
            g_max_old = f64::INFINITY;
            continue;
        }
        g_max_old = g_max_new;
    }
    Ok(Solution {
        w,
        n_iter: iter,
        converged,
    })
}
