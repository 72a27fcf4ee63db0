//! Ridge regression (`ridge`): least squares with an L2 penalty,
//! `Σ w_i (y_i − x_iᵀβ − b)² + alpha·‖β‖²` (scikit-learn's objective; weights are not
//! normalized).
//!
//! Solvers ([`RidgeSolver`]):
//! - `cholesky`: forms the `p × p` Gram matrix of the centred, `√w`-scaled data (in parallel
//!   over fixed row blocks, reduced in a fixed order; see [`crate::common::linalg::weighted_gram`]),
//!   adds `alpha` to its diagonal and solves by Cholesky. If the factorization fails, or its
//!   reciprocal condition estimate is below `1e-12` (the normal equations would lose too many
//!   digits), it falls back to the SVD;
//! - `svd`: thin SVD of the centred data, `β = V·diag(s / (s² + alpha))·Uᵀy` (singular values
//!   below `1e-15` dropped, as scikit-learn's `_solve_svd`);
//! - `auto` (default): as scikit-learn for dense input, Cholesky (with the fallback above),
//!   except when there are more features than rows, where the SVD is both cheaper and exact.
//!
//! The solver actually used is recorded in [`RidgeModel::solver`].
//!
//! ```
//! use amlis::data::DenseDataset;
//! use amlis::models::linear::Ridge;
//! use amlis::traits::{Predictor, Trainer};
//! use ndarray::array;
//!
//! let x = array![[0.0, 1.0], [1.0, 0.0], [2.0, 1.0], [3.0, 0.0]];
//! let y = array![1.0, 2.0, 5.0, 6.0];
//! let model = Ridge::default().alpha(0.1).fit(&DenseDataset::regression(x.clone(), y)?)?;
//! assert_eq!(model.coef.len(), 2);
//! let pred = model.predict(x.view())?;
//! assert!((pred[3] - 6.0).abs() < 0.2);
//! # Ok::<(), amlis::Error>(())
//! ```

use ndarray::{Array1, ArrayView1, ArrayView2};
use serde::{Deserialize, Serialize};

use crate::common::linalg;
use crate::error::{Error, Result};
use crate::models::kit::setters;
use crate::models::linear::prep;
use crate::traits::{Dataset, FitContext, Trainer};

/// How [`Ridge`] solves its linear system.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RidgeSolver {
    /// Cholesky when it is well conditioned, SVD otherwise (and when `p > n`).
    #[default]
    Auto,
    /// Cholesky on the normal equations (falls back to SVD if it fails).
    Cholesky,
    /// Thin SVD of the centred data.
    Svd,
}

/// Ridge regression hyperparameters (scikit-learn names).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Ridge {
    /// The L2 penalty, `>= 0`.
    pub alpha: f64,
    /// Whether to fit an intercept.
    pub fit_intercept: bool,
    /// The solver.
    pub solver: RidgeSolver,
}

impl Default for Ridge {
    fn default() -> Self {
        Self {
            alpha: 1.0,
            fit_intercept: true,
            solver: RidgeSolver::Auto,
        }
    }
}

setters!(Ridge {
    alpha: f64,
    fit_intercept: bool,
    solver: RidgeSolver,
});

impl Ridge {
    /// Checks the hyperparameters.
    pub fn validate(&self) -> Result<()> {
        if !(self.alpha.is_finite() && self.alpha >= 0.0) {
            return Err(Error::param("alpha", self.alpha, "a finite number >= 0"));
        }
        Ok(())
    }
}

/// A fitted ridge model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RidgeModel {
    /// One coefficient per feature.
    pub coef: Array1<f64>,
    /// The intercept (0 without `fit_intercept`).
    pub intercept: f64,
    /// The solver that produced the coefficients (`cholesky` or `svd`).
    pub solver: RidgeSolver,
}

prep::linear_regressor!(RidgeModel, Ridge);

impl Trainer for Ridge {
    const NAME: &'static str = "ridge";
    type Model = RidgeModel;

    fn fit_with(&self, data: &dyn Dataset, ctx: &FitContext<'_>) -> Result<Self::Model> {
        self.validate()?;
        let input = prep::regression_input(data, Self::NAME, self.fit_intercept)?;
        ctx.install(|| {
            let w = input.w.as_ref().map(|w| w.view());
            self.solve(input.x.view(), input.y.view(), w, &input.offsets)
        })?
    }
}

impl Ridge {
    fn solve(
        &self,
        x: ArrayView2<'_, f64>,
        y: ArrayView1<'_, f64>,
        w: Option<ArrayView1<'_, f64>>,
        off: &prep::Offsets,
    ) -> Result<RidgeModel> {
        let (n, p) = x.dim();
        let use_cholesky = match self.solver {
            RidgeSolver::Svd => false,
            RidgeSolver::Cholesky => true,
            RidgeSolver::Auto => p <= n,
        };
        if use_cholesky {
            let scale = prep::row_scale(w);
            let mut gram =
                linalg::weighted_gram(x, y, off.x.view(), off.y, scale.as_ref().map(|s| s.view()))?;
            for j in 0..p {
                gram.xtx[[j, j]] += self.alpha;
            }
            if let Some(sol) = linalg::cholesky_solve(gram.xtx.view(), gram.xty.view())? {
                let well_conditioned = sol.rcond > 1e-12 || self.solver == RidgeSolver::Cholesky;
                if well_conditioned && sol.x.iter().all(|v| v.is_finite()) {
                    let intercept = if self.fit_intercept {
                        prep::intercept(off, sol.x.view())
                    } else {
                        0.0
                    };
                    return Ok(RidgeModel {
                        coef: sol.x,
                        intercept,
                        solver: RidgeSolver::Cholesky,
                    });
                }
            }
        }
        let c = prep::center_scale_with(x, y, w, off.clone());
        let svd = linalg::thin_svd(c.x.view())?;
        let uty = svd.u.t().dot(&c.y);
        let d = Array1::from_shape_fn(svd.s.len(), |k| {
            let s = svd.s[k];
            if s > 1e-15 {
                s / (s * s + self.alpha) * uty[k]
            } else {
                0.0
            }
        });
        let coef = svd.v.dot(&d);
        let intercept = if self.fit_intercept {
            prep::intercept(&c.offsets, coef.view())
        } else {
            0.0
        };
        Ok(RidgeModel {
            coef,
            intercept,
            solver: RidgeSolver::Svd,
        })
    }
}

/// A linear regressor writes values only.
impl crate::traits::Outputs for RidgeModel {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::DenseDataset;
    use ndarray::array;

    #[test]
    fn solvers_agree_and_alpha_validated() {
        let x = array![[1.0, 0.5], [2.0, -1.0], [3.0, 2.0], [4.0, 0.0]];
        let y = array![1.0, 2.0, 4.0, 3.5];
        let d = DenseDataset::regression(x, y).unwrap();
        let a = Ridge::default()
            .solver(RidgeSolver::Cholesky)
            .fit(&d)
            .unwrap();
        let b = Ridge::default().solver(RidgeSolver::Svd).fit(&d).unwrap();
        assert_eq!(a.solver, RidgeSolver::Cholesky);
        assert_eq!(b.solver, RidgeSolver::Svd);
        for (u, v) in a.coef.iter().zip(&b.coef) {
            assert!((u - v).abs() < 1e-12);
        }
        assert!((a.intercept - b.intercept).abs() < 1e-12);
        let e = Ridge::default().alpha(-1.0).fit(&d).unwrap_err();
        assert!(e.to_string().contains("alpha"), "{e}");
    }
}
