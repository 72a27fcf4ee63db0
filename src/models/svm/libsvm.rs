//! What the five kernel SVM trainers share: the checks of libsvm's solver settings (`tol`,
//! `shrinking`, `cache_size`, `max_iter`), the training rows with their sample weights, and
//! the report of a solve that stopped at `max_iter`.

use ndarray::{Array2, CowArray, Ix2};

use super::formulation::Run;
use super::kernel::{Gamma, Kernel, KernelSettings, KernelType};
use super::problem::MAX_ITER_REACHED;
use crate::error::{Error, Result};
use crate::models::linear::logistic::checked_features;
use crate::models::linear::prep;
use crate::traits::{Dataset, FitContext, FitEvent};

/// The kernel and solver settings of a trainer, checked.
pub(crate) struct Common {
    pub kernel: KernelSettings,
    pub tol: f64,
    pub shrinking: bool,
    pub cache_size: f64,
    pub max_iter: i64,
}

impl Common {
    /// The solver settings, or the error naming the first bad parameter.
    pub fn run(&self) -> Result<Run> {
        if !(self.tol.is_finite() && self.tol > 0.0) {
            return Err(Error::param("tol", self.tol, "a finite value > 0"));
        }
        if !(self.cache_size.is_finite() && self.cache_size > 0.0) {
            return Err(Error::param(
                "cache_size",
                self.cache_size,
                "a finite size in MB > 0",
            ));
        }
        if self.max_iter < -1 {
            return Err(Error::param(
                "max_iter",
                self.max_iter,
                "an integer >= 0, or -1 for no limit",
            ));
        }
        Ok(Run {
            tol: self.tol,
            shrinking: self.shrinking,
            max_iter: usize::try_from(self.max_iter).ok(),
            cache_bytes: self.cache_size * f64::from(1u32 << 20),
        })
    }
}

/// The default kernel settings (scikit-learn's).
pub(crate) const DEFAULT_KERNEL: KernelSettings = KernelSettings {
    kernel: KernelType::Rbf,
    degree: 3,
    gamma: Gamma::Scale,
    coef0: 0.0,
};

/// The training rows of a fit: features (checked finite, row-major), the resolved kernel and
/// the sample weights (all 1 without).
pub(crate) struct Prepared<'a> {
    pub x: CowArray<'a, f64, Ix2>,
    pub kernel: Kernel,
    pub sw: Vec<f64>,
}

impl Prepared<'_> {
    /// Row-major features.
    pub fn rows(&self) -> &[f64] {
        self.x.as_slice().unwrap_or(&[])
    }

    /// The support vectors `rows` (indices into the training rows), row-major.
    pub fn gather(&self, rows: &[usize]) -> Result<Array2<f64>> {
        let p = self.x.ncols();
        let mut v = Vec::with_capacity(rows.len() * p);
        for &i in rows {
            v.extend(self.x.row(i).iter().copied());
        }
        Array2::from_shape_vec((rows.len(), p), v)
            .map_err(|e| Error::shape("support vectors", format!("{}x{p}", rows.len()), e))
    }
}

/// Reads the features and weights of `data` for `context` and resolves the kernel.
pub(crate) fn prepare<'a>(
    data: &'a dyn Dataset,
    settings: &KernelSettings,
    context: &str,
) -> Result<Prepared<'a>> {
    let x = checked_features(data, context)?;
    let (n, p) = x.dim();
    if n == 0 || p == 0 {
        return Err(Error::Empty(format!("{context}: {n} rows, {p} features")));
    }
    let kernel = settings.resolve(x.as_slice().unwrap_or(&[]), p)?;
    let sw = prep::sample_weights(data, context)?.map_or_else(|| vec![1.0; n], |w| w.to_vec());
    if sw.len() != n {
        return Err(Error::shape(
            context,
            format!("{n} sample weights"),
            sw.len(),
        ));
    }
    Ok(Prepared { x, kernel, sw })
}

/// The `'static` stage name of a kernel SVM's progress events (its type name).
pub(crate) fn context_stage(name: &str) -> &'static str {
    match name {
        "svc" => "svc",
        "nu_svc" => "nu_svc",
        "svr" => "svr",
        "nu_svr" => "nu_svr",
        "one_class_svm" => "one_class_svm",
        _ => "kernel_svm",
    }
}

/// The stage of the progress events of `probability=true`'s cross-validation fits (task:
/// `5 · pair + fold`).
pub(crate) const PLATT_CV_STAGE: &str = "svm_probability_cv";

/// Sends [`MAX_ITER_REACHED`] for problem `task` (scikit-learn's `ConvergenceWarning`).
pub(crate) fn report_max_iter(ctx: &FitContext<'_>, task: usize, n_iter: usize) {
    let values = [("task", task as f64), ("n_iter", n_iter as f64)];
    // The solver has stopped already: the callback's answer changes nothing.
    let _ = ctx.report(&FitEvent {
        stage: MAX_ITER_REACHED,
        iteration: n_iter,
        total: Some(n_iter),
        values: &values,
    });
}

/// A row-major slice of checked rows of `x`, for the prediction paths (a copy when `x` is
/// strided).
pub(crate) fn not_finite(context: &str, row: usize, j: usize) -> Error {
    Error::InvalidValue {
        context: context.into(),
        row,
        column: Some(format!("x{j}")),
        message: "not a finite number".into(),
    }
}
