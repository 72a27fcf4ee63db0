//! The per-arm ridge regression state of the linear policies (disjoint LinUCB, LinTS,
//! LinGreedy): the inverse `A⁻¹` of `A = l2_lambda·I + Σ x xᵀ`, `b = Σ r x` and the
//! coefficients `θ = A⁻¹ b`, updated in O(d²) per outcome by the Sherman–Morrison formula —
//! never re-inverted — and with θ by the recursive least-squares step. An arm never pulled
//! has `A⁻¹ = I / l2_lambda` and `θ = 0`: finite scores, no NaN.

use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::models::bandit::policy::corrupt;

/// One arm's ridge state (row-major `d x d` inverse; kept exactly symmetric).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RidgeArm {
    /// Outcomes learned.
    pub n: u64,
    /// `A⁻¹`, row-major `d x d`.
    pub a_inv: Vec<f64>,
    /// `b = Σ r x`.
    pub b: Vec<f64>,
    /// `θ = A⁻¹ b`.
    pub theta: Vec<f64>,
}

#[inline]
fn dot(a: &[f64], b: &[f64]) -> f64 {
    // Four partial sums: lets the compiler vectorize without reassociating floats itself.
    let mut s = [0.0; 4];
    let chunks = a.len() / 4 * 4;
    for (ca, cb) in a[..chunks].chunks_exact(4).zip(b[..chunks].chunks_exact(4)) {
        for k in 0..4 {
            s[k] += ca[k] * cb[k];
        }
    }
    let mut tail = 0.0;
    for (x, y) in a[chunks..].iter().zip(&b[chunks..]) {
        tail += x * y;
    }
    (s[0] + s[1]) + (s[2] + s[3]) + tail
}

impl RidgeArm {
    /// A fresh arm: `A = l2_lambda · I` (`l2_lambda > 0`).
    pub fn new(d: usize, l2_lambda: f64) -> Self {
        let mut a_inv = vec![0.0; d * d];
        for i in 0..d {
            a_inv[i * d + i] = 1.0 / l2_lambda;
        }
        Self {
            n: 0,
            a_inv,
            b: vec![0.0; d],
            theta: vec![0.0; d],
        }
    }

    /// The number of features.
    pub fn dim(&self) -> usize {
        self.theta.len()
    }

    /// The ridge prediction `θ·x`.
    #[inline]
    pub fn predict(&self, x: &[f64]) -> f64 {
        dot(&self.theta, x)
    }

    /// `xᵀ A⁻¹ x` (the width of the confidence ellipsoid along `x`), from the upper triangle:
    /// `Σ_i x_i (A⁻¹_ii x_i + 2 Σ_{j>i} A⁻¹_ij x_j)`. Never negative.
    #[inline]
    pub fn variance(&self, x: &[f64]) -> f64 {
        let d = x.len();
        let mut total = 0.0;
        for (i, &xi) in x.iter().enumerate() {
            let row = &self.a_inv[i * d..(i + 1) * d];
            let off = dot(&row[i + 1..], &x[i + 1..]);
            total += xi * (row[i] * xi + 2.0 * off);
        }
        total.max(0.0)
    }

    /// Learns `(x, r)`: `v = A⁻¹x`, `A⁻¹ -= v vᵀ / (1 + xᵀv)`, `θ += v (r - θ·x) / (1 + xᵀv)`,
    /// `b += r x`. `scratch` holds `d` values (its contents are overwritten).
    pub fn update(&mut self, x: &[f64], r: f64, scratch: &mut [f64]) {
        let d = x.len();
        let v = &mut scratch[..d];
        for (i, vi) in v.iter_mut().enumerate() {
            *vi = dot(&self.a_inv[i * d..(i + 1) * d], x);
        }
        let denom = 1.0 + dot(x, v);
        let residual = r - dot(&self.theta, x);
        // Update the upper triangle, then mirror it: A⁻¹ stays exactly symmetric.
        for i in 0..d {
            let scaled = v[i] / denom;
            let row = &mut self.a_inv[i * d + i..(i + 1) * d];
            for (a, &vj) in row.iter_mut().zip(&v[i..]) {
                *a -= scaled * vj;
            }
        }
        for i in 0..d {
            for j in i + 1..d {
                self.a_inv[j * d + i] = self.a_inv[i * d + j];
            }
        }
        for ((t, bi), (&vi, &xi)) in self
            .theta
            .iter_mut()
            .zip(self.b.iter_mut())
            .zip(v.iter().zip(x))
        {
            *t += vi * residual / denom;
            *bi += r * xi;
        }
        self.n += 1;
    }

    /// Checks lengths and values read from a file.
    pub fn validate(&self, d: usize, arm: usize) -> Result<()> {
        if self.a_inv.len() != d * d || self.b.len() != d || self.theta.len() != d {
            return Err(corrupt(format!(
                "arm {arm}: expected {d}x{d} inverse and {d}-vectors, found {}, {}, {} values",
                self.a_inv.len(),
                self.b.len(),
                self.theta.len()
            )));
        }
        let finite = |v: &[f64]| v.iter().all(|x| x.is_finite());
        if !finite(&self.a_inv) || !finite(&self.b) || !finite(&self.theta) {
            return Err(corrupt(format!("arm {arm}: a non-finite value")));
        }
        if (0..d).any(|i| self.a_inv[i * d + i] <= 0.0) {
            return Err(corrupt(format!("arm {arm}: A⁻¹ is not positive definite")));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_direct_solve_on_a_small_case() {
        let mut arm = RidgeArm::new(2, 1.0);
        let mut s = [0.0; 2];
        arm.update(&[1.0, 0.0], 2.0, &mut s);
        arm.update(&[0.0, 1.0], -1.0, &mut s);
        arm.update(&[1.0, 1.0], 1.0, &mut s);
        // A = [[3, 1], [1, 3]], b = [3, 0]: θ = A⁻¹ b = [9/8, -3/8].
        assert!((arm.theta[0] - 9.0 / 8.0).abs() < 1e-14);
        assert!((arm.theta[1] + 3.0 / 8.0).abs() < 1e-14);
        assert!((arm.variance(&[1.0, 0.0]) - 3.0 / 8.0).abs() < 1e-14);
        arm.validate(2, 0).unwrap();
        let mut bad = arm.clone();
        bad.b.pop();
        assert!(bad.validate(2, 0).is_err());
    }
}
