//! Training data as trees read it: column-major features, checked targets and weights.

use crate::error::{Error, Result};
use crate::models::kit::class_weight::class_weights;
use crate::models::kit::ClassWeight;
use crate::traits::Dataset;

/// The feature matrix stored column by column (a node's values of one feature are read from
/// one contiguous column). `NaN` is a missing value; infinities are rejected.
#[derive(Debug, Clone)]
pub(crate) struct Columns {
    n_rows: usize,
    n_features: usize,
    data: Vec<f64>,
}

impl Columns {
    /// Copies the features of `data`, rejecting infinite values.
    pub fn from_dataset(data: &dyn Dataset, context: &str) -> Result<Self> {
        let x = data.features();
        let (n_rows, n_features) = x.dim();
        if n_rows == 0 || n_features == 0 {
            return Err(Error::Empty(format!(
                "{context} training data ({n_rows} rows, {n_features} features)"
            )));
        }
        if u32::try_from(n_rows).is_err() {
            return Err(Error::InvalidArgument(format!(
                "{context}: {n_rows} rows is more than a tree can index (at most {})",
                u32::MAX
            )));
        }
        let mut cols = vec![0.0; n_rows * n_features];
        for (i, row) in x.outer_iter().enumerate() {
            for (j, &v) in row.iter().enumerate() {
                if v.is_infinite() {
                    return Err(Error::InvalidValue {
                        context: context.into(),
                        row: i,
                        column: Some(
                            data.feature_names()
                                .get(j)
                                .cloned()
                                .unwrap_or_else(|| format!("x{j}")),
                        ),
                        message: format!("{v} is not a usable feature value (NaN means missing; infinities are not allowed)"),
                    });
                }
                if let Some(slot) = cols.get_mut(j * n_rows + i) {
                    *slot = v;
                }
            }
        }
        Ok(Self {
            n_rows,
            n_features,
            data: cols,
        })
    }

    /// Columns gathered by the caller: `data[j * n_rows + i]` is row `i` of feature `j`
    /// (`NaN` missing, no infinity). `None` when `data` does not hold `n_rows * n_features`
    /// values, a dimension is 0 or the rows do not fit a tree's `u32` indices.
    pub fn from_column_major(n_rows: usize, n_features: usize, data: Vec<f64>) -> Option<Self> {
        let ok = n_rows > 0
            && n_features > 0
            && u32::try_from(n_rows).is_ok()
            && n_rows.checked_mul(n_features) == Some(data.len());
        ok.then_some(Self {
            n_rows,
            n_features,
            data,
        })
    }

    /// Number of rows.
    pub fn n_rows(&self) -> usize {
        self.n_rows
    }

    /// Number of features.
    pub fn n_features(&self) -> usize {
        self.n_features
    }

    /// Column `f` (empty when out of range).
    #[inline]
    pub fn col(&self, f: usize) -> &[f64] {
        self.data
            .get(f * self.n_rows..(f + 1) * self.n_rows)
            .unwrap_or(&[])
    }
}

pub(crate) use crate::models::kit::validate::class_targets;

/// Finite real targets of a regression dataset.
pub(crate) fn regression_targets(data: &dyn Dataset, context: &str) -> Result<Vec<f64>> {
    let y = data
        .targets()
        .ok_or_else(|| Error::InvalidArgument(format!("{context} needs targets")))?;
    if let Some(i) = y.iter().position(|v| !v.is_finite()) {
        return Err(Error::InvalidValue {
            context: context.into(),
            row: i,
            column: None,
            message: format!("target {} is not a finite number", y[i]),
        });
    }
    Ok(y.to_vec())
}

/// The sample weights of `data` (ones when it has none), each finite and `>= 0`.
pub(crate) fn sample_weights(data: &dyn Dataset, context: &str) -> Result<Vec<f64>> {
    match data.weights() {
        None => Ok(vec![1.0; data.n_samples()]),
        Some(w) => {
            if let Some(i) = w.iter().position(|v| !(v.is_finite() && *v >= 0.0)) {
                return Err(Error::InvalidValue {
                    context: context.into(),
                    row: i,
                    column: None,
                    message: format!("sample weight {} is not a finite number >= 0", w[i]),
                });
            }
            Ok(w.to_vec())
        }
    }
}

/// One weight per class for `class_weight` ([`crate::models::kit::class_weight::class_weights`]): for
/// `balanced`, sample `i` counts `counts[i]` (the sample weights for a forest's `balanced`,
/// the bootstrap multiplicities for `balanced_subsample`) or once when `counts` is `None` (a
/// single tree, as scikit-learn's `DecisionTreeClassifier`, which does not weigh the counts).
pub(crate) fn class_weight_factors(
    class_weight: Option<&ClassWeight>,
    classes: &[String],
    y: &[u32],
    counts: Option<&[f64]>,
) -> Result<Vec<f64>> {
    let count = |i: usize| counts.and_then(|cs| cs.get(i).copied()).unwrap_or(1.0);
    class_weights(
        class_weight,
        classes,
        y.iter().enumerate().map(|(i, &c)| (c as usize, count(i))),
    )
}
