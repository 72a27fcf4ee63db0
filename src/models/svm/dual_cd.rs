//! Dual coordinate descent with shrinking (Hsieh, Chang, Lin, Keerthi and Sundararajan,
//! 2008): liblinear's `solve_l2r_l1l2_svc` (L2-regularized hinge / squared-hinge
//! classification) and `solve_l2r_l1l2_svr` (epsilon-insensitive / squared regression).
//!
//! Each sweep visits the active dual variables in a random order (the run's seeded stream in
//! place of liblinear's `rand()`), updates one variable exactly and keeps `w = Σ αᵢ yᵢ xᵢ`
//! up to date. Variables stuck at a bound are shrunk away; when the active set meets the
//! tolerance, every variable is checked once more before stopping, as in liblinear.

use super::problem::{axpy, dot, Rows, Run, Solution};
use crate::error::Result;

/// Which loss: `L1` is the hinge / epsilon-insensitive loss (box-constrained dual),
/// `L2` its square (an unbounded dual with a diagonal term).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DualLoss {
    /// Hinge or epsilon-insensitive.
    L1,
    /// Squared hinge or squared epsilon-insensitive.
    L2,
}

impl DualLoss {
    /// The diagonal term and the upper bound of a variable whose cost is `c`.
    fn diag_bound(self, c: f64) -> (f64, f64) {
        match self {
            DualLoss::L1 => (0.0, c),
            DualLoss::L2 => (0.5 / c, f64::INFINITY),
        }
    }
}

/// liblinear's `solve_l2r_l1l2_svc`: classification with labels `y` (±1) and per-row costs
/// `c` (> 0). Stops when the spread of projected gradients is at most `run.tol`.
pub(crate) fn svc(
    rows: &Rows,
    y: &[f64],
    c: &[f64],
    loss: DualLoss,
    run: &mut Run<'_>,
) -> Result<Solution> {
    let n = rows.n();
    let mut w = vec![0.0; rows.d];
    let mut alpha = vec![0.0; n];
    let (diag, upper): (Vec<f64>, Vec<f64>) = c.iter().map(|&ci| loss.diag_bound(ci)).unzip();
    let qd: Vec<f64> = (0..n)
        .map(|i| {
            let xi = rows.row(i);
            diag[i] + dot(xi, xi)
        })
        .collect();
    // Rows of zero cost keep a zero dual variable: they take no part.
    let mut index: Vec<usize> = (0..n).filter(|&i| c[i] > 0.0).collect();
    let n = index.len();
    let mut active = n;
    let mut pg_max_old = f64::INFINITY;
    let mut pg_min_old = f64::NEG_INFINITY;
    let mut iter = 0;
    let mut converged = false;
    while iter < run.max_iter {
        let mut pg_max_new = f64::NEG_INFINITY;
        let mut pg_min_new = f64::INFINITY;
        run.shuffle(&mut index, active);
        let mut s = 0;
        while s < active {
            let i = index[s];
            let yi = y[i];
            let xi = rows.row(i);
            let g = yi * dot(&w, xi) - 1.0 + alpha[i] * diag[i];
            let ub = upper[i];
            let mut pg = 0.0;
            if alpha[i] == 0.0 {
                if g > pg_max_old {
                    active -= 1;
                    index.swap(s, active);
                    continue;
                } else if g < 0.0 {
                    pg = g;
                }
            } else if alpha[i] == ub {
                if g < pg_min_old {
                    active -= 1;
                    index.swap(s, active);
                    continue;
                } else if g > 0.0 {
                    pg = g;
                }
            } else {
                pg = g;
            }
            pg_max_new = pg_max_new.max(pg);
            pg_min_new = pg_min_new.min(pg);
            if pg.abs() > 1e-12 {
                let old = alpha[i];
                alpha[i] = (old - g / qd[i]).max(0.0).min(ub);
                axpy((alpha[i] - old) * yi, xi, &mut w);
            }
            s += 1;
        }
        iter += 1;
        let spread = pg_max_new - pg_min_new;
        if !run.monitor.iteration(iter, run.max_iter, spread)? {
            break;
        }
        if spread <= run.tol {
            if active == n {
                converged = true;
                break;
            }
            active = n;
            pg_max_old = f64::INFINITY;
            pg_min_old = f64::NEG_INFINITY;
            continue;
        }
        pg_max_old = if pg_max_new <= 0.0 {
            f64::INFINITY
        } else {
            pg_max_new
        };
        pg_min_old = if pg_min_new >= 0.0 {
            f64::NEG_INFINITY
        } else {
            pg_min_new
        };
    }
    Ok(Solution {
        w,
        n_iter: iter,
        converged,
    })
}

/// liblinear's `solve_l2r_l1l2_svr`: regression on targets `y` with per-row costs `c` and
/// tube half-width `epsilon`. Stops when the sum of violations is at most `run.tol` times
/// that of the first sweep.
pub(crate) fn svr(
    rows: &Rows,
    y: &[f64],
    c: &[f64],
    epsilon: f64,
    loss: DualLoss,
    run: &mut Run<'_>,
) -> Result<Solution> {
    let n = rows.n();
    let mut w = vec![0.0; rows.d];
    let mut beta = vec![0.0; n];
    let (lambda, upper): (Vec<f64>, Vec<f64>) = c.iter().map(|&ci| loss.diag_bound(ci)).unzip();
    let qd: Vec<f64> = (0..n)
        .map(|i| {
            let xi = rows.row(i);
            dot(xi, xi)
        })
        .collect();
    // Rows of zero cost keep a zero dual variable: they take no part.
    let mut index: Vec<usize> = (0..n).filter(|&i| c[i] > 0.0).collect();
    let n = index.len();
    let mut active = n;
    let mut g_max_old = f64::INFINITY;
    let mut g_norm1_init = -1.0;
    let mut iter = 0;
    let mut converged = false;
    while iter < run.max_iter {
        let mut g_max_new = 0.0f64;
        let mut g_norm1_new = 0.0;
        run.shuffle(&mut index, active);
        let mut s = 0;
        while s < active {
            let i = index[s];
            let xi = rows.row(i);
            let g = -y[i] + lambda[i] * beta[i] + dot(&w, xi);
            let h = qd[i] + lambda[i];
            let ub = upper[i];
            let gp = g + epsilon;
            let gn = g - epsilon;
            let mut violation = 0.0;
            if beta[i] == 0.0 {
                if gp < 0.0 {
                    violation = -gp;
                } else if gn > 0.0 {
                    violation = gn;
                } else if gp > g_max_old && gn < -g_max_old {
                    active -= 1;
                    index.swap(s, active);
                    continue;
                }
            } else if beta[i] >= ub {
                if gp > 0.0 {
                    violation = gp;
                } else if gp < -g_max_old {
                    active -= 1;
                    index.swap(s, active);
                    continue;
                }
            } else if beta[i] <= -ub {
                if gn < 0.0 {
                    violation = -gn;
                } else if gn > g_max_old {
                    active -= 1;
                    index.swap(s, active);
                    continue;
                }
            } else if beta[i] > 0.0 {
                violation = gp.abs();
            } else {
                violation = gn.abs();
            }
            g_max_new = g_max_new.max(violation);
            g_norm1_new += violation;
            s += 1;
            // The Newton direction of the one-variable problem.
            let d = if gp < h * beta[i] {
                -gp / h
            } else if gn > h * beta[i] {
                -gn / h
            } else {
                -beta[i]
            };
            if d.abs() < 1e-12 {
                continue;
            }
            let old = beta[i];
            beta[i] = (old + d).max(-ub).min(ub);
            let d = beta[i] - old;
            if d != 0.0 {
                axpy(d, xi, &mut w);
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
            if active == n {
                converged = true;
                break;
            }
            active = n;
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
