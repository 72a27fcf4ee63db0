//! `VarianceThreshold`, as scikit-learn's: learns each feature's variance without targets and
//! keeps the features whose variance exceeds a threshold (by default, drops the constant
//! ones). A model of kind *transformer*: it fits without a target and writes its output
//! columns through `transform` (`AMLIS_OUTPUT_TRANSFORM` from C).
//!
//! ```
//! use amlis::data::DenseDataset;
//! use amlis::models::feature_selection::VarianceThreshold;
//! use amlis::traits::{Trainer, TransformPredictor};
//! use ndarray::array;
//!
//! // The first and last columns are constant.
//! let x = array![[0.0, 2.0, 0.0, 3.0], [0.0, 1.0, 4.0, 3.0], [0.0, 1.0, 1.0, 3.0]];
//! let model = VarianceThreshold::default().fit(&DenseDataset::unsupervised(x.clone())?)?;
//! assert_eq!(model.support(), &[1, 2]);
//! let mut out = vec![0.0; 3 * 2];
//! model.transform_into(x.view(), &mut out)?;
//! assert_eq!(out, [2.0, 0.0, 1.0, 4.0, 1.0, 1.0]);
//! # Ok::<(), amlis::Error>(())
//! ```

use ndarray::ArrayView2;
use serde::{Deserialize, Serialize};

use crate::common::stats::moments::{min_max, moments};
use crate::error::{Error, Result};
use crate::models::kit::validate::check_predict_shapes;
use crate::traits::{Dataset, FitContext, Model, Outputs, Predictor, Trainer, TransformPredictor};

const NAME: &str = <VarianceThreshold as Trainer>::NAME;

/// The settings: features with a variance not above `threshold` are dropped.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct VarianceThreshold {
    /// Features with a training-set variance not above this are removed (default 0: keep
    /// the features that are not constant). Finite and `>= 0`.
    pub threshold: f64,
}

impl Default for VarianceThreshold {
    fn default() -> Self {
        Self { threshold: 0.0 }
    }
}

crate::models::kit::setters!(VarianceThreshold { threshold: f64 });

/// A fitted [`VarianceThreshold`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VarianceThresholdModel {
    /// The variance of each training feature (population variance, missing values ignored,
    /// `NaN` for a feature with no value; with `threshold = 0` the smaller of the variance
    /// and the peak-to-peak range of a column without missing values, as scikit-learn, so
    /// that rounding cannot keep a constant feature).
    #[serde(with = "crate::common::json_float::vec")]
    pub variances: Vec<f64>,
    /// The kept feature columns, ascending (scikit-learn's `get_support(indices=True)`).
    pub support: Vec<usize>,
    /// The number of input features.
    pub n_features: usize,
}

impl Trainer for VarianceThreshold {
    type Model = VarianceThresholdModel;
    const NAME: &'static str = "variance_threshold";

    /// Learns the variances; no target is needed (a given one is ignored, as sample
    /// weights are: scikit-learn's `VarianceThreshold` takes neither).
    fn fit_with(&self, data: &dyn Dataset, _ctx: &FitContext<'_>) -> Result<Self::Model> {
        if !(self.threshold.is_finite() && self.threshold >= 0.0) {
            return Err(Error::param(
                "threshold",
                self.threshold,
                "a finite value >= 0",
            ));
        }
        if data.n_samples() == 0 {
            return Err(Error::Empty(format!("{NAME}: no rows to fit on")));
        }
        let x = data.features();
        let mut column = Vec::with_capacity(x.nrows());
        let mut variances = Vec::with_capacity(x.ncols());
        for (j, col) in x.columns().into_iter().enumerate() {
            column.clear();
            column.extend(col.iter().copied());
            if let Some(i) = column.iter().position(|v| v.is_infinite()) {
                return Err(Error::InvalidValue {
                    context: NAME.into(),
                    row: i,
                    column: data.feature_names().get(j).cloned(),
                    message: "an infinite value has no variance; only finite values and NaN \
                              (missing) are allowed"
                        .into(),
                });
            }
            let var = moments(&column).var;
            variances.push(if self.threshold == 0.0 {
                // numpy's `ptp` is NaN when the column holds a NaN; `nanmin` then keeps the
                // variance (scikit-learn's arithmetic, kept exactly).
                let (lo, hi) = min_max(&column);
                let ptp = if column.iter().any(|v| v.is_nan()) {
                    f64::NAN
                } else {
                    hi - lo
                };
                match (var.is_nan(), ptp.is_nan()) {
                    (false, false) => var.min(ptp),
                    (true, _) => ptp,
                    (_, true) => var,
                }
            } else {
                var
            });
        }
        let support: Vec<usize> = variances
            .iter()
            .enumerate()
            .filter(|(_, v)| **v > self.threshold)
            .map(|(j, _)| j)
            .collect();
        if support.is_empty() {
            return Err(Error::InvalidArgument(format!(
                "{NAME}: no feature has a variance above the threshold {}; the largest is {}",
                self.threshold,
                variances.iter().copied().fold(f64::NAN, f64::max)
            )));
        }
        Ok(VarianceThresholdModel {
            n_features: variances.len(),
            variances,
            support,
        })
    }
}

impl VarianceThresholdModel {
    /// The kept feature columns, ascending.
    pub fn support(&self) -> &[usize] {
        &self.support
    }

    /// Copies the kept columns of one row; an infinite kept value is an error.
    fn select_row(&self, row: &[f64], out: &mut [f64], index: usize) -> Result<()> {
        for (o, &j) in out.iter_mut().zip(&self.support) {
            let v = row.get(j).copied().unwrap_or(f64::NAN);
            if v.is_infinite() {
                return Err(Error::InvalidValue {
                    context: format!("{NAME} transform"),
                    row: index,
                    column: Some(format!("x{j}")),
                    message: "an infinite value; only finite values and NaN are allowed".into(),
                });
            }
            *o = v;
        }
        Ok(())
    }
}

impl Model for VarianceThresholdModel {
    fn n_features(&self) -> usize {
        self.n_features
    }

    fn validate(&self) -> Result<()> {
        let corrupt = |m: String| Err(Error::ModelCorrupt(format!("fitted {NAME}: {m}")));
        if self.variances.len() != self.n_features {
            return corrupt(format!(
                "{} variances for {} features",
                self.variances.len(),
                self.n_features
            ));
        }
        if self.support.is_empty() {
            return corrupt("no kept feature".into());
        }
        if self.support.windows(2).any(|w| w[0] >= w[1])
            || self.support.iter().any(|&j| j >= self.n_features)
        {
            return corrupt(format!(
                "kept features {:?} are not ascending indices below {}",
                self.support, self.n_features
            ));
        }
        Ok(())
    }
}

/// A transformer has no per-row prediction: [`Error::Unsupported`] (use `transform`).
impl Predictor for VarianceThresholdModel {
    fn predict_into(&self, _x: ArrayView2<'_, f64>, _out: &mut [f64]) -> Result<()> {
        Err(Error::Unsupported(format!(
            "{NAME} is a transformer: it writes columns (transform), not a prediction per row"
        )))
    }
}

impl TransformPredictor for VarianceThresholdModel {
    fn n_outputs(&self) -> usize {
        self.support.len()
    }

    fn transform_into(&self, x: ArrayView2<'_, f64>, out: &mut [f64]) -> Result<()> {
        let k = self.support.len();
        check_predict_shapes(NAME, x, self.n_features, out.len(), k)?;
        for (i, (row, o)) in x.outer_iter().zip(out.chunks_exact_mut(k)).enumerate() {
            match row.as_slice() {
                Some(r) => self.select_row(r, o, i)?,
                None => self.select_row(&row.to_vec(), o, i)?,
            }
        }
        Ok(())
    }

    /// Allocation-free.
    fn transform_row_into(&self, row: &[f64], out: &mut [f64]) -> Result<()> {
        if row.len() != self.n_features || out.len() != self.support.len() {
            return Err(Error::shape(
                "variance_threshold transform_row",
                format!("{} values in, {} out", self.n_features, self.support.len()),
                format!("{} in, {} out", row.len(), out.len()),
            ));
        }
        self.select_row(row, out, 0)
    }
}

impl Outputs for VarianceThresholdModel {
    fn as_transform(&self) -> Option<&dyn TransformPredictor> {
        Some(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::DenseDataset;
    use ndarray::array;

    #[test]
    fn nan_is_ignored_and_bad_settings_or_state_are_errors() {
        let x = array![[1.0, f64::NAN, 5.0], [1.0, 2.0, f64::NAN], [1.0, 4.0, 5.0]];
        let data = DenseDataset::unsupervised(x).unwrap();
        let m = VarianceThreshold::default().fit(&data).unwrap();
        assert_eq!(m.support(), &[1]);
        assert_eq!(m.variances, vec![0.0, 1.0, 0.0]);
        assert!(VarianceThreshold::default()
            .threshold(-1.0)
            .fit(&data)
            .is_err());
        let e = VarianceThreshold::default()
            .threshold(5.0)
            .fit(&data)
            .unwrap_err();
        assert!(e.to_string().contains("largest is 1"), "{e}");
        let mut bad = m.clone();
        bad.support = vec![1, 3];
        assert!(matches!(bad.validate(), Err(Error::ModelCorrupt(_))));
        let mut out = [0.0];
        assert!(m
            .transform_row_into(&[0.0, f64::INFINITY, 0.0], &mut out)
            .is_err());
        m.transform_row_into(&[0.0, f64::NAN, 0.0], &mut out)
            .unwrap();
        assert!(out[0].is_nan());
    }
}
