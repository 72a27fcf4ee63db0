//! `svr` and `nu_svr`: scikit-learn's `SVR` and `NuSVR` (libsvm's epsilon-SVR and nu-SVR):
//! one problem over `2n` variables solved by the SMO solver; the prediction is
//! `Σ dual_coef · K(sv, x) + intercept`.
//!
//! ```
//! use amlis::data::DenseDataset;
//! use amlis::models::svm::{KernelType, Svr};
//! use amlis::traits::{Predictor, Trainer};
//! use ndarray::array;
//!
//! let x = array![[0.0], [1.0], [2.0], [3.0], [4.0]];
//! let y = array![1.0, 3.0, 5.0, 7.0, 9.0]; // y = 2x + 1
//! let data = DenseDataset::regression(x, y)?;
//! let model = Svr::default().kernel(KernelType::Linear).c(100.0).epsilon(0.01).fit(&data)?;
//! assert!((model.predict(array![[5.0]].view())?[0] - 11.0).abs() < 0.1);
//! # Ok::<(), amlis::Error>(())
//! ```

use ndarray::ArrayView2;
use serde::{Deserialize, Serialize};

use super::formulation::{self, Formulation};
use super::kernel::{Gamma, KernelSettings, KernelType, SupportVectors};
use super::kernel_cache::TrainRows;
use super::libsvm::{context_stage, prepare, report_max_iter, Common, Prepared, DEFAULT_KERNEL};
use super::problem::Monitor;
use crate::error::{Error, Result};
use crate::models::kit::{context, setters};
use crate::models::linear::prep;
use crate::traits::{Dataset, FitContext, Model, Outputs, Predictor, Trainer};

/// `svr` hyperparameters (scikit-learn's `SVR`: epsilon-SVR).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Svr {
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
    /// Cost of the loss (> 0).
    #[serde(rename = "C")]
    pub c: f64,
    /// Half-width of the tube inside which errors cost nothing (>= 0).
    pub epsilon: f64,
    /// Whether to use libsvm's shrinking heuristic.
    pub shrinking: bool,
    /// Size of the kernel cache in MB (> 0).
    pub cache_size: f64,
    /// Cap on solver iterations (-1: none).
    pub max_iter: i64,
}

impl Default for Svr {
    fn default() -> Self {
        Self {
            kernel: DEFAULT_KERNEL.kernel,
            degree: DEFAULT_KERNEL.degree,
            gamma: DEFAULT_KERNEL.gamma,
            coef0: DEFAULT_KERNEL.coef0,
            tol: 1e-3,
            c: 1.0,
            epsilon: 0.1,
            shrinking: true,
            cache_size: 200.0,
            max_iter: -1,
        }
    }
}

setters!(Svr {
    kernel: KernelType,
    degree: i64,
    gamma: Gamma,
    coef0: f64,
    tol: f64,
    c: f64,
    epsilon: f64,
    shrinking: bool,
    cache_size: f64,
    max_iter: i64,
});

/// `nu_svr` hyperparameters (scikit-learn's `NuSVR`: nu-SVR).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NuSvr {
    /// Upper bound on the fraction of training errors, lower bound on the fraction of
    /// support vectors (in `(0, 1]`).
    pub nu: f64,
    /// Cost of the loss (> 0).
    #[serde(rename = "C")]
    pub c: f64,
    /// The kernel (`rbf` by default).
    pub kernel: KernelType,
    /// Degree of the `poly` kernel (>= 0).
    pub degree: i64,
    /// `"scale"` (default), `"auto"` or a value >= 0.
    pub gamma: Gamma,
    /// Constant of the `poly` and `sigmoid` kernels.
    pub coef0: f64,
    /// Whether to use libsvm's shrinking heuristic.
    pub shrinking: bool,
    /// Stopping tolerance of the solver (> 0).
    pub tol: f64,
    /// Size of the kernel cache in MB (> 0).
    pub cache_size: f64,
    /// Cap on solver iterations (-1: none).
    pub max_iter: i64,
}

impl Default for NuSvr {
    fn default() -> Self {
        Self {
            nu: 0.5,
            c: 1.0,
            kernel: DEFAULT_KERNEL.kernel,
            degree: DEFAULT_KERNEL.degree,
            gamma: DEFAULT_KERNEL.gamma,
            coef0: DEFAULT_KERNEL.coef0,
            shrinking: true,
            tol: 1e-3,
            cache_size: 200.0,
            max_iter: -1,
        }
    }
}

setters!(NuSvr {
    nu: f64,
    c: f64,
    kernel: KernelType,
    degree: i64,
    gamma: Gamma,
    coef0: f64,
    shrinking: bool,
    tol: f64,
    cache_size: f64,
    max_iter: i64,
});

fn check_c(c: f64) -> Result<()> {
    if c.is_finite() && c > 0.0 {
        Ok(())
    } else {
        Err(Error::param("C", c, "a finite value > 0"))
    }
}

/// Checks `nu` (`(0, 1]`), as libsvm.
pub(crate) fn check_nu(nu: f64) -> Result<()> {
    if nu > 0.0 && nu <= 1.0 {
        Ok(())
    } else {
        Err(Error::param("nu", nu, "a value in (0, 1]"))
    }
}

impl Trainer for Svr {
    const NAME: &'static str = "svr";
    type Model = SvrModel;

    fn fit_with(&self, data: &dyn Dataset, ctx: &FitContext<'_>) -> Result<SvrModel> {
        check_c(self.c)?;
        if !(self.epsilon.is_finite() && self.epsilon >= 0.0) {
            return Err(Error::param("epsilon", self.epsilon, "a finite value >= 0"));
        }
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
        let (c, epsilon) = (self.c, self.epsilon);
        fit_expansion(&common, data, ctx, Self::NAME, true, |y, w| {
            Formulation::EpsilonSvr { y, w, c, epsilon }
        })
        .map(SvrModel::from)
    }
}

impl Trainer for NuSvr {
    const NAME: &'static str = "nu_svr";
    type Model = SvrModel;

    fn fit_with(&self, data: &dyn Dataset, ctx: &FitContext<'_>) -> Result<SvrModel> {
        check_nu(self.nu)?;
        check_c(self.c)?;
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
        let (c, nu) = (self.c, self.nu);
        fit_expansion(&common, data, ctx, Self::NAME, true, |y, w| {
            Formulation::NuSvr { y, w, c, nu }
        })
        .map(SvrModel::from)
    }
}

/// A single support-vector expansion `Σ coef · K(sv, x) + intercept`: what `svr`, `nu_svr`
/// and `one_class_svm` fit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Expansion {
    /// The kernel, the support vectors and their training rows (`support_`).
    pub support_vectors: SupportVectors,
    /// `dual_coef_` (one row in scikit-learn), one per support vector.
    pub dual_coef: Vec<f64>,
    /// `intercept_` (`−ρ`).
    pub intercept: f64,
    /// Solver iterations (`n_iter_`).
    pub n_iter: usize,
    /// Whether the solver met `tol` within `max_iter`.
    pub converged: bool,
}

/// Fits one expansion: `formulation(targets, weights)` over the rows of positive weight
/// (the regression targets `with_targets`, else none, as for the one-class SVM).
pub(crate) fn fit_expansion(
    common: &Common,
    data: &dyn Dataset,
    ctx: &FitContext<'_>,
    name: &str,
    with_targets: bool,
    formulation: impl for<'y> Fn(&'y [f64], &'y [f64]) -> Formulation<'y>,
) -> Result<Expansion> {
    let run = common.run()?;
    let prepared: Prepared<'_> = prepare(data, &common.kernel, name)?;
    let n = prepared.x.nrows();
    let targets = if with_targets {
        let y = prep::regression_targets(data, name)?;
        if y.len() != n {
            return Err(Error::shape(name, format!("{n} targets"), y.len()));
        }
        y.to_vec()
    } else {
        Vec::new()
    };
    let keep: Vec<usize> = (0..n).filter(|&i| prepared.sw[i] > 0.0).collect();
    let w: Vec<f64> = keep.iter().map(|&i| prepared.sw[i]).collect();
    let y: Vec<f64> = if targets.is_empty() {
        Vec::new()
    } else {
        keep.iter().map(|&i| targets[i]).collect()
    };
    let rows = TrainRows::new(prepared.rows(), prepared.x.ncols(), prepared.kernel);
    let problem = formulation(&y, &w);
    let monitor = Monitor {
        ctx,
        stage: context_stage(name),
        task: 0,
    };
    let f = ctx.install(|| formulation::solve(&rows, keep.clone(), problem, run, &monitor))??;
    if f.timed_out {
        report_max_iter(ctx, 0, f.n_iter);
    }
    if !f.rho.is_finite() || f.coef.iter().any(|v| !v.is_finite()) {
        return Err(Error::InvalidArgument(format!(
            "{name}: the solver diverged (non-finite coefficients)"
        )));
    }
    let (support, dual_coef): (Vec<usize>, Vec<f64>) = keep
        .iter()
        .zip(&f.coef)
        .filter(|(_, c)| c.abs() > 0.0)
        .map(|(&r, &c)| (r, c))
        .unzip();
    Ok(Expansion {
        support_vectors: SupportVectors {
            kernel: prepared.kernel,
            vectors: prepared.gather(&support)?,
            support,
        },
        dual_coef,
        intercept: if f.rho != 0.0 { -f.rho } else { 0.0 },
        n_iter: f.n_iter,
        converged: !(f.timed_out || f.stopped),
    })
}

impl Expansion {
    /// `Σ coef · K(sv, x) + intercept` with kernel values `kv`.
    #[inline]
    pub(crate) fn value(&self, kv: impl Fn(usize) -> f64) -> f64 {
        let mut sum = 0.0;
        for (s, c) in self.dual_coef.iter().enumerate() {
            sum += c * kv(s);
        }
        sum + self.intercept
    }

    /// The decision values of the rows of `x`, mapped by `map`.
    pub(crate) fn batch(
        &self,
        context: &str,
        x: ArrayView2<'_, f64>,
        out: &mut [f64],
        map: impl Fn(f64) -> f64 + Sync,
    ) -> Result<()> {
        self.support_vectors.batch(context, x, out, 1, |kv, o| {
            o[0] = map(self.value(|s| kv[s]))
        })
    }

    /// The decision value of one row, mapped by `map` (allocation-free).
    pub(crate) fn row(
        &self,
        context: &str,
        row: &[f64],
        out: &mut [f64],
        map: impl Fn(f64) -> f64,
    ) -> Result<()> {
        self.support_vectors.check_row(context, row, out.len(), 1)?;
        out[0] = map(self.value(|s| self.support_vectors.k(s, row)));
        Ok(())
    }

    /// Checks loaded state.
    pub(crate) fn validate(&self, context: &str) -> Result<()> {
        self.support_vectors.validate(context)?;
        if self.dual_coef.len() != self.support_vectors.len() {
            return Err(Error::ModelCorrupt(format!(
                "{context}: {} coefficients for {} support vectors",
                self.dual_coef.len(),
                self.support_vectors.len()
            )));
        }
        if !self.intercept.is_finite() || self.dual_coef.iter().any(|v| !v.is_finite()) {
            return Err(Error::ModelCorrupt(format!(
                "{context}: non-finite coefficients"
            )));
        }
        Ok(())
    }
}

/// A fitted `svr` or `nu_svr`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SvrModel {
    /// The fitted expansion.
    pub expansion: Expansion,
}

impl std::ops::Deref for SvrModel {
    type Target = Expansion;
    fn deref(&self) -> &Expansion {
        &self.expansion
    }
}

impl From<Expansion> for SvrModel {
    fn from(expansion: Expansion) -> Self {
        Self { expansion }
    }
}

impl Model for SvrModel {
    fn n_features(&self) -> usize {
        self.support_vectors.n_features()
    }

    fn validate(&self) -> Result<()> {
        self.expansion.validate("svr")
    }
}

impl Predictor for SvrModel {
    fn predict_into(&self, x: ArrayView2<'_, f64>, out: &mut [f64]) -> Result<()> {
        self.batch(context!("svr", "predict"), x, out, |v| v)
    }

    /// Allocation-free; the same sums as the batch path.
    fn predict_row_into(&self, row: &[f64], out: &mut [f64]) -> Result<()> {
        self.row(context!("svr", "predict_row"), row, out, |v| v)
    }
}

impl Outputs for SvrModel {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::DenseDataset;
    use ndarray::array;

    #[test]
    fn corrupt_expansions_are_rejected() {
        let x = array![[0.0], [1.0], [2.0], [3.0]];
        let data = DenseDataset::regression(x, array![0.0, 1.0, 2.0, 3.0]).unwrap();
        let m = Svr::default().fit(&data).unwrap();
        assert!(m.validate().is_ok());
        let mut bad = m.clone();
        bad.expansion.dual_coef.push(1.0);
        assert!(matches!(bad.validate(), Err(Error::ModelCorrupt(_))));
        let mut bad = m.clone();
        bad.expansion.intercept = f64::NAN;
        assert!(matches!(bad.validate(), Err(Error::ModelCorrupt(_))));
        let mut bad = m;
        bad.expansion.support_vectors.kernel.gamma = -1.0;
        assert!(matches!(bad.validate(), Err(Error::ModelCorrupt(_))));
    }

    #[test]
    fn nu_svr_checks_nu_then_c() {
        let data = DenseDataset::regression(array![[0.0], [1.0]], array![0.0, 1.0]).unwrap();
        let e = NuSvr::default().nu(2.0).fit(&data).unwrap_err().to_string();
        assert!(e.contains("`nu`"), "{e}");
        let e = NuSvr::default().c(-1.0).fit(&data).unwrap_err().to_string();
        assert!(e.contains("`C`"), "{e}");
    }
}
