//! The primal solver of the L2-regularized squared losses (`dual=false`: liblinear's
//! `L2R_L2LOSS_SVC` and `L2R_L2LOSS_SVR`): a truncated Newton method on
//!
//! `f(w) = ½‖w‖² + Σᵢ cᵢ qᵢ(w·xᵢ)²`
//!
//! where `qᵢ` is the squared hinge's `max(0, 1 − yᵢ zᵢ)` or the squared tube's
//! `max(0, |zᵢ − yᵢ| − ε)`. `f` is strictly convex with a piecewise-constant generalized
//! Hessian `I + 2 Σ_{active} cᵢ xᵢ xᵢᵀ`; each iteration solves the Newton system by
//! conjugate gradients (stopped at a relative residual of `min(0.1, √(‖g‖/‖g₀‖))`) and
//! takes a backtracking Armijo step. liblinear reaches the same unique optimum with a
//! trust-region Newton method; both stop when `‖∇f(w)‖ ≤ tol · ‖∇f(0)‖`.

use super::problem::{axpy, dot, Rows, Run, Solution};
use crate::error::Result;

/// The squared loss of one row.
#[derive(Debug, Clone, Copy)]
pub(crate) enum SquaredLoss<'a> {
    /// Classification: `max(0, 1 − y z)²` with labels ±1.
    Hinge { y: &'a [f64] },
    /// Regression: `max(0, |z − y| − ε)²`.
    Tube { y: &'a [f64], epsilon: f64 },
}

impl SquaredLoss<'_> {
    /// `(q, dq/dz)` of row `i` at score `z`: the loss is `q²`, `q = 0` off the active set.
    #[inline]
    fn margin(&self, i: usize, z: f64) -> (f64, f64) {
        match *self {
            SquaredLoss::Hinge { y } => {
                let q = 1.0 - y[i] * z;
                if q > 0.0 {
                    (q, -y[i])
                } else {
                    (0.0, 0.0)
                }
            }
            SquaredLoss::Tube { y, epsilon } => {
                let r = z - y[i];
                if r > epsilon {
                    (r - epsilon, 1.0)
                } else if r < -epsilon {
                    (-r - epsilon, -1.0)
                } else {
                    (0.0, 0.0)
                }
            }
        }
    }
}

/// Objective at `w` whose scores are `z`.
fn objective(w: &[f64], z: &[f64], c: &[f64], loss: &SquaredLoss<'_>) -> f64 {
    let mut f = 0.5 * dot(w, w);
    for (i, (&zi, &ci)) in z.iter().zip(c).enumerate() {
        let (q, _) = loss.margin(i, zi);
        f += ci * q * q;
    }
    f
}

/// Minimizes `f` from `w = 0`; `run.tol` is relative to the gradient norm at 0.
pub(crate) fn minimize(
    rows: &Rows,
    c: &[f64],
    loss: SquaredLoss<'_>,
    run: &mut Run<'_>,
) -> Result<Solution> {
    let n = rows.n();
    let d = rows.d;
    let mut w = vec![0.0; d];
    let mut z = vec![0.0; n];
    let mut g = vec![0.0; d];
    // 2 cᵢ on the active set, 0 elsewhere: the generalized Hessian's row weights.
    let mut h = vec![0.0; n];
    let mut step = vec![0.0; d];
    let mut xs = vec![0.0; n];
    let mut g0 = f64::NAN;
    let mut f = objective(&w, &z, c, &loss);
    let mut iter = 0;
    let mut converged = false;
    loop {
        g.copy_from_slice(&w);
        for i in 0..n {
            let (q, dq) = loss.margin(i, z[i]);
            h[i] = if q > 0.0 { 2.0 * c[i] } else { 0.0 };
            if q > 0.0 {
                axpy(2.0 * c[i] * q * dq, rows.row(i), &mut g);
            }
        }
        let gnorm = dot(&g, &g).sqrt();
        if iter == 0 {
            g0 = gnorm;
        }
        if gnorm <= run.tol * g0 || gnorm == 0.0 {
            converged = true;
            break;
        }
        if iter >= run.max_iter {
            break;
        }
        let forcing = (gnorm / g0).sqrt().min(0.1);
        conjugate_gradient(rows, &h, &g, forcing * gnorm, &mut step);
        for (i, o) in xs.iter_mut().enumerate() {
            *o = dot(rows.row(i), &step);
        }
        let slope = dot(&g, &step);
        let mut t = 1.0;
        let mut accepted = None;
        for _ in 0..40 {
            let wt: f64 = {
                // ½‖w + t s‖² without building w + t s.
                0.5 * (dot(&w, &w) + 2.0 * t * dot(&w, &step) + t * t * dot(&step, &step))
            };
            let mut ft = wt;
            for i in 0..n {
                let (q, _) = loss.margin(i, z[i] + t * xs[i]);
                ft += c[i] * q * q;
            }
            if ft <= f + 1e-2 * t * slope {
                accepted = Some(ft);
                break;
            }
            t *= 0.5;
        }
        iter += 1;
        let Some(ft) = accepted else {
            // No step decreases f in floating point: the optimum is reached to rounding.
            converged = true;
            break;
        };
        axpy(t, &step, &mut w);
        axpy(t, &xs, &mut z);
        f = ft;
        if !run.monitor.iteration(iter, run.max_iter, gnorm)? {
            break;
        }
    }
    Ok(Solution {
        w,
        n_iter: iter,
        converged,
    })
}

/// Solves `(I + Σ hᵢ xᵢ xᵢᵀ) s = −g` by conjugate gradients until the residual norm is at
/// most `tol` (or `d` steps, the exact-arithmetic bound, times two).
fn conjugate_gradient(rows: &Rows, h: &[f64], g: &[f64], tol: f64, s: &mut [f64]) {
    let d = rows.d;
    s.iter_mut().for_each(|v| *v = 0.0);
    let mut r: Vec<f64> = g.iter().map(|v| -v).collect();
    let mut p = r.clone();
    let mut hp = vec![0.0; d];
    let mut rr = dot(&r, &r);
    for _ in 0..2 * d + 10 {
        if rr.sqrt() <= tol {
            break;
        }
        hp.copy_from_slice(&p);
        for (i, &hi) in h.iter().enumerate() {
            if hi > 0.0 {
                let xi = rows.row(i);
                axpy(hi * dot(xi, &p), xi, &mut hp);
            }
        }
        let php = dot(&p, &hp);
        if php <= 0.0 {
            break;
        }
        let a = rr / php;
        axpy(a, &p, s);
        axpy(-a, &hp, &mut r);
        let rr_new = dot(&r, &r);
        let b = rr_new / rr;
        rr = rr_new;
        for (pi, ri) in p.iter_mut().zip(&r) {
            *pi = ri + b * *pi;
        }
    }
}
