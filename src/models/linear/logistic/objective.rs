//! The logistic objective and its gradient, computed over row blocks in parallel and reduced
//! in block order (so the value is the same for any number of threads).
//!
//! For coefficients `W` (`k × p`, `k = 1` for a binary problem, `k = n_classes` for the
//! multinomial one) and intercepts `b`, with normalized sample weights `s_i` (`Σ s_i = 1`):
//!
//! `f(W, b) = Σ_i s_i ℓ(y_i, x_i Wᵀ + b) + ½ λ₂ ‖W‖²`
//!
//! where `ℓ` is the binomial log-loss `log(1 + e^z) − y z` or the multinomial
//! `logsumexp(z) − z_y`. Parameters are one flat vector: `W` row-major, then `b`.

use ndarray::ArrayView2;
use rayon::prelude::*;

/// Rows per block of the parallel reduction. Fixed, so the summation order never depends on
/// the thread count.
const BLOCK: usize = 2048;

/// The data and the smooth part of one logistic problem.
pub(crate) struct Objective<'a> {
    /// Feature matrix in standard (row-major) layout.
    pub x: ArrayView2<'a, f64>,
    /// Class index of each row (`0/1` for binary).
    pub y: &'a [usize],
    /// Sample weights normalized to sum to 1.
    pub s: &'a [f64],
    /// Number of score columns: 1 (binary) or the number of classes.
    pub k: usize,
    /// Whether the parameter vector ends with `k` intercepts.
    pub fit_intercept: bool,
    /// The L2 strength λ₂ on the coefficients (never on intercepts).
    pub l2: f64,
}

/// The logistic sigmoid without overflow.
pub(crate) fn sigmoid(z: f64) -> f64 {
    if z >= 0.0 {
        1.0 / (1.0 + (-z).exp())
    } else {
        let e = z.exp();
        e / (1.0 + e)
    }
}

impl Objective<'_> {
    /// Length of the parameter vector.
    pub fn n_params(&self) -> usize {
        let p = self.x.ncols();
        self.k * p + if self.fit_intercept { self.k } else { 0 }
    }

    /// The smooth objective at `w`; writes its gradient into `grad`.
    pub fn eval(&self, w: &[f64], grad: &mut [f64]) -> f64 {
        let n = self.x.nrows();
        let p = self.x.ncols();
        let n_blocks = n.div_ceil(BLOCK);
        let partial: Vec<(f64, Vec<f64>)> = (0..n_blocks)
            .into_par_iter()
            .map(|b| self.block(w, b * BLOCK, ((b + 1) * BLOCK).min(n)))
            .collect();
        grad.iter_mut().for_each(|g| *g = 0.0);
        let mut loss = 0.0;
        for (l, g) in &partial {
            loss += l;
            for (a, b) in grad.iter_mut().zip(g) {
                *a += b;
            }
        }
        let kp = self.k * p;
        let mut pen = 0.0;
        for (gi, wi) in grad[..kp].iter_mut().zip(&w[..kp]) {
            *gi += self.l2 * wi;
            pen += wi * wi;
        }
        loss + 0.5 * self.l2 * pen
    }

    /// Loss and gradient of rows `lo..hi` (weighted, unpenalized).
    fn block(&self, w: &[f64], lo: usize, hi: usize) -> (f64, Vec<f64>) {
        let p = self.x.ncols();
        let k = self.k;
        let kp = k * p;
        let mut g = vec![0.0; self.n_params()];
        let mut loss = 0.0;
        let coef = &w[..kp];
        let icpt: Vec<f64> = if self.fit_intercept {
            w[kp..kp + k].to_vec()
        } else {
            vec![0.0; k]
        };
        let mut z = vec![0.0; k];
        for i in lo..hi {
            let s = self.s[i];
            if s == 0.0 {
                continue;
            }
            let row = self.x.row(i);
            let Some(xi) = row.as_slice() else {
                continue;
            };
            for c in 0..k {
                z[c] = icpt[c] + dot_row(xi, &coef[c * p..(c + 1) * p]);
            }
            let yi = self.y[i];
            if k == 1 {
                let zi = z[0];
                let yf = if yi == 1 { 1.0 } else { 0.0 };
                // One exponential serves both log(1 + e^z) and the sigmoid.
                let e = (-zi.abs()).exp();
                loss += s * (zi.max(0.0) + e.ln_1p() - yf * zi);
                let sig = if zi >= 0.0 {
                    1.0 / (1.0 + e)
                } else {
                    e / (1.0 + e)
                };
                z[0] = s * (sig - yf);
            } else {
                let m = z.iter().fold(f64::NEG_INFINITY, |a, &b| a.max(b));
                let mut sum = 0.0;
                for v in z.iter_mut() {
                    *v = (*v - m).exp();
                    sum += *v;
                }
                let zy = z.get(yi).copied().unwrap_or(1.0);
                loss += s * (sum.ln() - zy.ln());
                for (c, v) in z.iter_mut().enumerate() {
                    *v = s * (*v / sum - if c == yi { 1.0 } else { 0.0 });
                }
            }
            for c in 0..k {
                let r = z[c];
                axpy_row(r, xi, &mut g[c * p..(c + 1) * p]);
                if self.fit_intercept {
                    g[kp + c] += r;
                }
            }
        }
        (loss, g)
    }
}

/// Dot product of two equal-length slices, in four independent lanes (vectorizes).
#[inline]
pub(crate) fn dot_row(a: &[f64], b: &[f64]) -> f64 {
    let mut acc = [0.0f64; 4];
    let ca = a.chunks_exact(4);
    let cb = b.chunks_exact(4);
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        acc[0] += x[0] * y[0];
        acc[1] += x[1] * y[1];
        acc[2] += x[2] * y[2];
        acc[3] += x[3] * y[3];
    }
    let mut tail = 0.0;
    for (x, y) in ra.iter().zip(rb) {
        tail += x * y;
    }
    (acc[0] + acc[1]) + (acc[2] + acc[3]) + tail
}

/// `y += a·x` for equal-length slices.
pub(crate) fn axpy_row(a: f64, x: &[f64], y: &mut [f64]) {
    for (yi, xi) in y.iter_mut().zip(x) {
        *yi += a * xi;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    fn check_gradient(k: usize, fit_intercept: bool) {
        let x = array![
            [0.5, -1.0, 2.0],
            [1.5, 0.3, -0.7],
            [-0.2, 0.8, 0.1],
            [1.0, 1.0, 1.0]
        ];
        let y = [0usize, 1, if k > 1 { 2 } else { 1 }, 0];
        let s = [0.1, 0.4, 0.3, 0.2];
        let obj = Objective {
            x: x.view(),
            y: &y,
            s: &s,
            k,
            fit_intercept,
            l2: 0.3,
        };
        let n = obj.n_params();
        let w: Vec<f64> = (0..n).map(|i| 0.1 * i as f64 - 0.3).collect();
        let mut g = vec![0.0; n];
        obj.eval(&w, &mut g);
        let h = 1e-6;
        for i in 0..n {
            let mut wp = w.clone();
            wp[i] += h;
            let mut wm = w.clone();
            wm[i] -= h;
            let mut t = vec![0.0; n];
            let fd = (obj.eval(&wp, &mut t) - obj.eval(&wm, &mut t)) / (2.0 * h);
            assert!((fd - g[i]).abs() < 1e-8, "param {i}: {fd} vs {}", g[i]);
        }
    }

    #[test]
    fn binary_gradient_matches_finite_differences() {
        check_gradient(1, true);
        check_gradient(1, false);
    }

    #[test]
    fn multinomial_gradient_matches_finite_differences() {
        check_gradient(3, true);
        check_gradient(3, false);
    }

    #[test]
    fn stable_functions_at_extremes() {
        assert_eq!(sigmoid(-1000.0), 0.0);
        assert_eq!(sigmoid(1000.0), 1.0);
    }
}
