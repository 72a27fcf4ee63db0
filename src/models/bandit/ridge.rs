//! The per-arm ridge regression state of the linear policies (disjoint LinUCB, LinTS,
//! LinGreedy): the inverse `A⁻¹` of `A = l2_lambda·I + Σ x xᵀ`, `b = Σ r x` and the
//! coefficients `θ = A⁻¹ b`, updated in O(d²) per outcome by the Sherman–Morrison formula —
//! never re-inverted — and with θ by the recursive least-squares step. An arm never pulled
//! has `A⁻¹ = I / l2_lambda` and `θ = 0`: finite scores, no NaN. `A⁻¹` is held as a packed
//! symmetric matrix ([`SymmetricMatrix`]); the model file stores it in full.

use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::models::bandit::packed::{
    dot, quadratic_forms_into, sherman_morrison_rows, SymmetricMatrix,
};
use crate::models::bandit::policy::corrupt;

/// One arm's ridge state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RidgeArm {
    /// Outcomes learned.
    pub n: u64,
    /// `A⁻¹` (`d x d`, symmetric; indexed and saved as the row-major matrix).
    pub a_inv: SymmetricMatrix,
    /// `b = Σ r x`.
    pub b: Vec<f64>,
    /// `θ = A⁻¹ b`.
    pub theta: Vec<f64>,
}

impl RidgeArm {
    /// A fresh arm: `A = l2_lambda · I` (`l2_lambda > 0`).
    pub fn new(d: usize, l2_lambda: f64) -> Self {
        Self {
            n: 0,
            a_inv: SymmetricMatrix::scaled_identity(d, 1.0 / l2_lambda),
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

    /// `xᵀ A⁻¹ x` (the width of the confidence ellipsoid along `x`). Never negative. (For
    /// every arm at once, [`LinearArms::widths_into`](super::linear::LinearArms::widths_into)
    /// shares the work that depends on `x` alone.)
    #[inline]
    pub fn variance(&self, x: &[f64]) -> f64 {
        let mut out = [0.0];
        quadratic_forms_into(x, |_| Some(&self.a_inv), &mut out);
        out[0].max(0.0)
    }

    /// Learns `(x, r)`: `v = A⁻¹x`, `A⁻¹ -= v vᵀ / (1 + xᵀv)`, `θ += v (r - θ·x) / (1 + xᵀv)`,
    /// `b += r x`. `scratch` is working memory (resized as needed, contents overwritten).
    pub fn update(&mut self, x: &[f64], r: f64, scratch: &mut Vec<f64>) {
        self.update_rows(std::iter::once((x, r)), scratch);
    }

    /// Learns the rows `(x, r)` in order: the state, to the bit, of [`update`](Self::update)
    /// on each, with the update of `A⁻¹` of one row and the product `A⁻¹x` of the next in one
    /// pass (see [`sherman_morrison_rows`]). Rows of another length than `d` are skipped.
    pub fn update_rows<'x>(
        &mut self,
        rows: impl IntoIterator<Item = (&'x [f64], f64)>,
        scratch: &mut Vec<f64>,
    ) {
        let d = self.dim();
        let (b, n) = (&mut self.b, &mut self.n);
        let rows = rows
            .into_iter()
            .filter(|(x, _)| x.len() == d)
            .inspect(|&(x, r)| {
                for (bi, &xi) in b.iter_mut().zip(x) {
                    *bi += r * xi;
                }
                *n += 1;
            });
        sherman_morrison_rows(&mut self.a_inv, &mut self.theta, rows, scratch);
    }

    /// Checks lengths and values read from a file.
    pub fn validate(&self, d: usize, arm: usize) -> Result<()> {
        if self.a_inv.dim() != d || self.b.len() != d || self.theta.len() != d {
            return Err(corrupt(format!(
                "arm {arm}: expected {d}x{d} inverse and {d}-vectors, found {}, {}, {} values",
                self.a_inv.len(),
                self.b.len(),
                self.theta.len()
            )));
        }
        let finite = |v: &[f64]| v.iter().all(|x| x.is_finite());
        if !self.a_inv.is_finite() || !finite(&self.b) || !finite(&self.theta) {
            return Err(corrupt(format!("arm {arm}: a non-finite value")));
        }
        if self.a_inv.diagonal().any(|v| v <= 0.0) {
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
        let mut s = Vec::new();
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
