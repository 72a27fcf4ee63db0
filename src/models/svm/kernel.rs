//! The kernels of the kernel SVMs (libsvm's `linear`, `poly`, `rbf`, `sigmoid`), scikit-learn's
//! `gamma` rule (`scale`, `auto` or a value), and the support-vector expansion every fitted
//! kernel SVM predicts with.

use ndarray::{Array2, ArrayView2};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::common::linalg::{row_slice, sq_euclidean};
use crate::common::parallel::first_of_blocks;
use crate::error::{Error, Result};
use crate::models::kit::validate::check_predict_shapes;
use crate::models::linear::prep::dot;

/// Rows per parallel prediction task.
const PREDICT_BLOCK: usize = 256;

/// The kernel function `K(x, z)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KernelType {
    /// `x·z`.
    Linear,
    /// `(γ x·z + coef0)^degree`.
    Poly,
    /// `exp(−γ ‖x − z‖²)` (the default).
    #[default]
    Rbf,
    /// `tanh(γ x·z + coef0)`.
    Sigmoid,
}

/// The `gamma` setting: scikit-learn's `"scale"` (`1 / (n_features · Var(X))`, the variance
/// of every entry of the training matrix; 1 when it is 0), `"auto"` (`1 / n_features`) or a
/// value `>= 0`.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum Gamma {
    /// `1 / (n_features · X.var())`.
    #[default]
    Scale,
    /// `1 / n_features`.
    Auto,
    /// A fixed value (`>= 0`).
    Value(f64),
}

impl Serialize for Gamma {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        match self {
            Gamma::Scale => s.serialize_str("scale"),
            Gamma::Auto => s.serialize_str("auto"),
            Gamma::Value(v) => s.serialize_f64(*v),
        }
    }
}

impl<'de> Deserialize<'de> for Gamma {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Value(f64),
            Word(String),
        }
        match Raw::deserialize(d)? {
            Raw::Value(v) => Ok(Gamma::Value(v)),
            Raw::Word(w) if w == "scale" => Ok(Gamma::Scale),
            Raw::Word(w) if w == "auto" => Ok(Gamma::Auto),
            Raw::Word(w) => Err(serde::de::Error::custom(format!(
                "gamma must be \"scale\", \"auto\" or a number >= 0, got {w:?}"
            ))),
        }
    }
}

/// The kernel settings every kernel SVM trainer shares (scikit-learn's names and defaults).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct KernelSettings {
    pub kernel: KernelType,
    pub degree: i64,
    pub gamma: Gamma,
    pub coef0: f64,
}

impl KernelSettings {
    /// Checks the settings (naming the parameter) and resolves `gamma` on the training rows
    /// (row-major `n × p`).
    pub fn resolve(&self, x: &[f64], p: usize) -> Result<Kernel> {
        if !(0..=i64::from(i32::MAX)).contains(&self.degree) {
            return Err(Error::param("degree", self.degree, "an integer >= 0"));
        }
        if !self.coef0.is_finite() {
            return Err(Error::param("coef0", self.coef0, "a finite value"));
        }
        let gamma = match self.gamma {
            Gamma::Value(g) if g.is_finite() && g >= 0.0 => g,
            Gamma::Value(g) => {
                return Err(Error::param(
                    "gamma",
                    g,
                    "\"scale\", \"auto\" or a finite value >= 0",
                ))
            }
            Gamma::Auto => 1.0 / p.max(1) as f64,
            Gamma::Scale => {
                let var = population_variance(x);
                if var != 0.0 {
                    1.0 / (p.max(1) as f64 * var)
                } else {
                    1.0
                }
            }
        };
        Ok(Kernel {
            kernel: self.kernel,
            degree: self.degree.clamp(0, i64::from(i32::MAX)) as i32,
            gamma,
            coef0: self.coef0,
        })
    }
}

/// The variance of every entry (numpy's `X.var()`: two passes, mean first).
fn population_variance(x: &[f64]) -> f64 {
    if x.is_empty() {
        return 0.0;
    }
    let n = x.len() as f64;
    let mean = x.iter().sum::<f64>() / n;
    x.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n
}

/// A resolved kernel: the function and its parameters (`gamma` a number).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Kernel {
    /// The kernel function.
    pub kernel: KernelType,
    /// The degree of `poly`.
    pub degree: i32,
    /// The resolved `gamma` (scikit-learn's `_gamma`).
    pub gamma: f64,
    /// The constant of `poly` and `sigmoid`.
    pub coef0: f64,
}

impl Kernel {
    /// `K(a, b)`; `sq_a`, `sq_b` are `‖a‖²`, `‖b‖²` (libsvm's training form of `rbf`).
    #[inline]
    pub(crate) fn with_norms(&self, a: &[f64], b: &[f64], sq_a: f64, sq_b: f64) -> f64 {
        match self.kernel {
            KernelType::Rbf => (-self.gamma * (sq_a + sq_b - 2.0 * dot(a, b))).exp(),
            _ => self.eval(a, b),
        }
    }

    /// `K(a, b)` (libsvm's prediction form: `rbf` from the squared distance).
    #[inline]
    pub(crate) fn eval(&self, a: &[f64], b: &[f64]) -> f64 {
        match self.kernel {
            KernelType::Linear => dot(a, b),
            KernelType::Poly => powi(self.gamma * dot(a, b) + self.coef0, self.degree),
            KernelType::Rbf => (-self.gamma * sq_euclidean(a, b)).exp(),
            KernelType::Sigmoid => (self.gamma * dot(a, b) + self.coef0).tanh(),
        }
    }

    /// Checks a loaded kernel.
    pub(crate) fn validate(&self, context: &str) -> Result<()> {
        if !(self.gamma.is_finite()
            && self.gamma >= 0.0
            && self.coef0.is_finite()
            && self.degree >= 0)
        {
            return Err(Error::ModelCorrupt(format!(
                "{context}: invalid kernel parameters {self:?}"
            )));
        }
        Ok(())
    }
}

/// libsvm's `powi`: binary exponentiation.
fn powi(base: f64, times: i32) -> f64 {
    let mut tmp = base;
    let mut ret = 1.0;
    let mut t = times;
    while t > 0 {
        if t % 2 == 1 {
            ret *= tmp;
        }
        tmp *= tmp;
        t /= 2;
    }
    ret
}

/// The support vectors and their kernel, with which a fitted kernel SVM evaluates
/// `K(svᵢ, x)` for a row `x`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SupportVectors {
    /// The kernel.
    pub kernel: Kernel,
    /// The support vectors, one per row (scikit-learn's `support_vectors_`).
    pub vectors: Array2<f64>,
    /// Their row indices in the training data (scikit-learn's `support_`).
    pub support: Vec<usize>,
}

impl SupportVectors {
    /// The number of support vectors.
    pub fn len(&self) -> usize {
        self.vectors.nrows()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.vectors.nrows() == 0
    }

    /// The number of features.
    pub fn n_features(&self) -> usize {
        self.vectors.ncols()
    }

    /// `K(sv_s, row)` (a checked row of `n_features` values).
    #[inline]
    pub(crate) fn k(&self, s: usize, row: &[f64]) -> f64 {
        let p = self.vectors.ncols();
        match self
            .vectors
            .as_slice()
            .and_then(|v| v.get(s * p..(s + 1) * p))
        {
            Some(sv) => self.kernel.eval(sv, row),
            None => 0.0,
        }
    }

    /// Checks one row for the single-row paths: `n_features` finite values, `out_len == width`.
    pub(crate) fn check_row(
        &self,
        context: &str,
        row: &[f64],
        out_len: usize,
        width: usize,
    ) -> Result<()> {
        if row.len() != self.n_features() || out_len != width {
            return Err(Error::shape(
                context,
                format!("{} values in, {width} out", self.n_features()),
                format!("{} in, {out_len} out", row.len()),
            ));
        }
        if let Some(j) = row.iter().position(|v| !v.is_finite()) {
            return Err(super::libsvm::not_finite(context, 0, j));
        }
        Ok(())
    }

    /// Writes `width` values per row of `x` with `f(kernel values, out)`, where the kernel
    /// values are `K(sv_s, row)` for every support vector; in parallel over fixed row blocks.
    pub(crate) fn batch<F>(
        &self,
        context: &str,
        x: ArrayView2<'_, f64>,
        out: &mut [f64],
        width: usize,
        f: F,
    ) -> Result<()>
    where
        F: Fn(&[f64], &mut [f64]) + Sync,
    {
        check_predict_shapes(context, x, self.n_features(), out.len(), width)?;
        let bad = first_of_blocks(out, PREDICT_BLOCK * width.max(1), |b, chunk| {
            let mut kv = vec![0.0; self.len()];
            let mut owned = Vec::new();
            for (r, o) in chunk.chunks_exact_mut(width.max(1)).enumerate() {
                let i = b * PREDICT_BLOCK + r;
                let row = row_slice(x.row(i), &mut owned);
                if let Some(j) = row.iter().position(|v| !v.is_finite()) {
                    return Some((i, j));
                }
                for (s, k) in kv.iter_mut().enumerate() {
                    *k = self.k(s, row);
                }
                f(&kv, o);
            }
            None
        });
        match bad {
            Some((i, j)) => Err(super::libsvm::not_finite(context, i, j)),
            None => Ok(()),
        }
    }

    /// Checks loaded state: matching lengths, finite values, a valid kernel.
    pub(crate) fn validate(&self, context: &str) -> Result<()> {
        self.kernel.validate(context)?;
        if self.support.len() != self.vectors.nrows() || !self.vectors.is_standard_layout() {
            return Err(Error::ModelCorrupt(format!(
                "{context}: {} support indices for {} support vectors",
                self.support.len(),
                self.vectors.nrows()
            )));
        }
        if self.vectors.iter().any(|v| !v.is_finite()) {
            return Err(Error::ModelCorrupt(format!(
                "{context}: non-finite support vectors"
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gamma_rules_are_scikit_learns() {
        let s = |gamma| KernelSettings {
            kernel: KernelType::Rbf,
            degree: 3,
            gamma,
            coef0: 0.0,
        };
        let x = [1.0, 2.0, 3.0, 4.0];
        // Var of every entry: 1.25; two features.
        assert_eq!(s(Gamma::Scale).resolve(&x, 2).unwrap().gamma, 1.0 / 2.5);
        assert_eq!(s(Gamma::Auto).resolve(&x, 2).unwrap().gamma, 0.5);
        assert_eq!(s(Gamma::Scale).resolve(&[3.0, 3.0], 2).unwrap().gamma, 1.0);
        let e = s(Gamma::Value(-1.0))
            .resolve(&x, 2)
            .unwrap_err()
            .to_string();
        assert!(e.contains("`gamma`"), "{e}");
        let g: Gamma = serde_json::from_str("\"auto\"").unwrap();
        assert_eq!(g, Gamma::Auto);
        assert_eq!(
            serde_json::from_str::<Gamma>("0.5").unwrap(),
            Gamma::Value(0.5)
        );
        assert!(serde_json::from_str::<Gamma>("\"x\"").is_err());
    }

    #[test]
    fn kernels_evaluate_as_libsvm() {
        let k = |kernel| Kernel {
            kernel,
            degree: 3,
            gamma: 0.5,
            coef0: 1.0,
        };
        let (a, b) = ([1.0, 2.0], [3.0, -1.0]);
        assert_eq!(k(KernelType::Linear).eval(&a, &b), 1.0);
        assert_eq!(k(KernelType::Poly).eval(&a, &b), 1.5f64.powi(3));
        assert!((k(KernelType::Rbf).eval(&a, &b) - (-0.5f64 * 13.0).exp()).abs() < 1e-15);
        assert!((k(KernelType::Rbf).with_norms(&a, &b, 5.0, 10.0) - (-6.5f64).exp()).abs() < 1e-15);
        assert_eq!(k(KernelType::Sigmoid).eval(&a, &b), 1.5f64.tanh());
        assert_eq!(powi(2.0, 0), 1.0);
        assert_eq!(powi(-2.0, 5), -32.0);
    }
}
