//! `one_class_svm`: scikit-learn's `OneClassSVM` (libsvm's one-class SVM), an outlier
//! detector. The decision function is `Σ dual_coef · K(sv, x) + intercept` (`intercept =
//! −ρ`, scikit-learn's `offset_` is `ρ`); a row is an inlier (`1`) when it is positive, else
//! an outlier (`−1`). The score output is the decision function.
//!
//! ```
//! use amlis::data::DenseDataset;
//! use amlis::models::svm::OneClassSvm;
//! use amlis::traits::{Predictor, Trainer};
//! use ndarray::array;
//!
//! let x = array![[0.0, 0.1], [0.1, 0.0], [-0.1, 0.0], [0.0, -0.1], [0.05, 0.05]];
//! let model = OneClassSvm::default().nu(0.2).gamma_value(1.0).fit(&DenseDataset::unsupervised(x)?)?;
//! assert_eq!(model.predict(array![[0.0, 0.0], [5.0, 5.0]].view())?.to_vec(), vec![1.0, -1.0]);
//! # Ok::<(), amlis::Error>(())
//! ```

use ndarray::ArrayView2;
use serde::{Deserialize, Serialize};

use super::formulation::Formulation;
use super::kernel::{Gamma, KernelSettings, KernelType};
use super::libsvm::{Common, DEFAULT_KERNEL};
use super::svr::{check_nu, fit_expansion, Expansion};
use crate::error::Result;
use crate::models::kit::{context, setters};
use crate::traits::{Dataset, FitContext, Model, Outputs, Predictor, ScorePredictor, Trainer};

/// `one_class_svm` hyperparameters (scikit-learn's `OneClassSVM`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OneClassSvm {
    /// The kernel (`rbf` by default).
    pub kernel: KernelType,
    /// Degree of the `poly` kernel (>= 0).
    pub degree: i64,
    /// `"scale"` (default), `"auto"` or a value >= 0.
    pub gamma: Gamma,
    /// Constant of the `poly` and `sigmoid` kernels.
    pub coef0: f64,
    /// Stopping tolerance of the solver (> 0).
    pub tol: f64,
    /// Upper bound on the fraction of training outliers, lower bound on the fraction of
    /// support vectors (in `(0, 1]`).
    pub nu: f64,
    /// Whether to use libsvm's shrinking heuristic.
    pub shrinking: bool,
    /// Size of the kernel cache in MB (> 0).
    pub cache_size: f64,
    /// Cap on solver iterations (-1: none).
    pub max_iter: i64,
}

impl Default for OneClassSvm {
    fn default() -> Self {
        Self {
            kernel: DEFAULT_KERNEL.kernel,
            degree: DEFAULT_KERNEL.degree,
            gamma: DEFAULT_KERNEL.gamma,
            coef0: DEFAULT_KERNEL.coef0,
            tol: 1e-3,
            nu: 0.5,
            shrinking: true,
            cache_size: 200.0,
            max_iter: -1,
        }
    }
}

setters!(OneClassSvm {
    kernel: KernelType,
    degree: i64,
    gamma: Gamma,
    coef0: f64,
    tol: f64,
    nu: f64,
    shrinking: bool,
    cache_size: f64,
    max_iter: i64,
});

impl OneClassSvm {
    /// Sets `gamma` to a value.
    pub fn gamma_value(self, gamma: f64) -> Self {
        self.gamma(Gamma::Value(gamma))
    }
}

impl Trainer for OneClassSvm {
    const NAME: &'static str = "one_class_svm";
    type Model = OneClassSvmModel;

    fn fit_with(&self, data: &dyn Dataset, ctx: &FitContext<'_>) -> Result<OneClassSvmModel> {
        check_nu(self.nu)?;
        let common = Common {
            kernel: KernelSettings {
                kernel: self.kernel,
                degree: self.degree,
                gamma: self.gamma,
                coef0: self.coef0,
            },
            tol: self.tol,
            shrinking: self.shrinking,
            cache_size: self.cache_size,
            max_iter: self.max_iter,
        };
        let nu = self.nu;
        let expansion = fit_expansion(&common, data, ctx, Self::NAME, false, |_, w| {
            Formulation::OneClass { w, nu }
        })?;
        Ok(OneClassSvmModel { expansion })
    }
}

/// A fitted `one_class_svm`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OneClassSvmModel {
    /// The fitted expansion (`intercept` is scikit-learn's `intercept_ = −offset_`).
    pub expansion: Expansion,
}

impl std::ops::Deref for OneClassSvmModel {
    type Target = Expansion;
    fn deref(&self) -> &Expansion {
        &self.expansion
    }
}

impl OneClassSvmModel {
    /// scikit-learn's `offset_` (`ρ`): `score_samples = decision_function + offset`.
    pub fn offset(&self) -> f64 {
        -self.intercept
    }
}

/// libsvm's label: inlier when the decision value is positive.
fn label(v: f64) -> f64 {
    if v > 0.0 {
        1.0
    } else {
        -1.0
    }
}

impl Model for OneClassSvmModel {
    fn n_features(&self) -> usize {
        self.support_vectors.n_features()
    }

    fn validate(&self) -> Result<()> {
        self.expansion.validate(OneClassSvm::NAME)
    }
}

impl Predictor for OneClassSvmModel {
    fn predict_into(&self, x: ArrayView2<'_, f64>, out: &mut [f64]) -> Result<()> {
        self.batch(context!(OneClassSvm::NAME, "predict"), x, out, label)
    }

    /// Allocation-free; the same sums as the batch path.
    fn predict_row_into(&self, row: &[f64], out: &mut [f64]) -> Result<()> {
        self.row(context!(OneClassSvm::NAME, "predict_row"), row, out, label)
    }
}

/// The decision function (positive for inliers).
impl ScorePredictor for OneClassSvmModel {
    fn n_scores(&self) -> usize {
        1
    }

    fn score_into(&self, x: ArrayView2<'_, f64>, out: &mut [f64]) -> Result<()> {
        self.batch(
            context!(OneClassSvm::NAME, "decision_function"),
            x,
            out,
            |v| v,
        )
    }

    /// Allocation-free; the same sums as the batch path.
    fn score_row_into(&self, row: &[f64], out: &mut [f64]) -> Result<()> {
        self.row(
            context!(OneClassSvm::NAME, "decision_function"),
            row,
            out,
            |v| v,
        )
    }
}

impl Outputs for OneClassSvmModel {
    fn as_scorer(&self) -> Option<&dyn ScorePredictor> {
        Some(self)
    }
}
