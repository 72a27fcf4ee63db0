//! Shared preparation for linear models: input checks, sample weights, centring for the
//! intercept, and fast linear prediction.
//!
//! Every linear trainer starts the same way, through [`regression_input`] (or the smaller
//! pieces it is made of, for classifiers):
//!
//! 1. the features must all be numeric: a categorical column is an error that points to
//!    `one_hot_encoder` ([`check_numeric_features`]);
//! 2. every feature value must be finite: the first NaN or infinity is an error naming its row
//!    and column ([`check_finite_features`]);
//! 3. targets must be present and finite ([`regression_targets`]);
//! 4. sample weights, when the dataset has them, must be finite, non-negative and not all zero
//!    ([`sample_weights`]).
//!
//! Centring follows scikit-learn's `_preprocess_data`: with `fit_intercept`, each column is
//! centred on its (sample-)weighted mean and the target on its weighted mean; rows are then
//! scaled by `√w` ([`center_scale`]), so that ordinary least squares on the result is the
//! weighted problem, and the intercept is recovered as `y_offset − x_offsetᵀ·coef`
//! ([`intercept`]).
//!
//! Reductions over rows run in parallel over fixed blocks of [`ROW_BLOCK`] rows and are added
//! in block order, so results do not depend on the thread count.

use ndarray::{Array1, Array2, ArrayView1, ArrayView2, CowArray, Ix2, ShapeBuilder};
use rayon::prelude::*;

pub use crate::common::linalg::ROW_BLOCK;
use crate::common::parallel::first_of_blocks;
use crate::error::{Error, Result};
use crate::models::kit::validate;
use crate::traits::Dataset;

/// Rejects categorical features: linear models need numbers, and category codes are not
/// ([`validate::check_numeric_kinds`] with context `"{estimator} features"`).
pub fn check_numeric_features(data: &dyn Dataset, estimator: &str) -> Result<()> {
    validate::check_numeric_kinds(
        &format!("{estimator} features"),
        data.feature_kinds(),
        data.feature_names(),
    )
}

/// Errors on the first non-finite value of `x` (smallest row, then smallest column), naming
/// the row and the column (`names[j]`, or `x{j}` when `names` is short); the same check as
/// [`validate::check_finite`].
pub fn check_finite_features(
    x: ArrayView2<'_, f64>,
    names: &[String],
    context: &str,
) -> Result<()> {
    validate::check_finite(context, x, names)
}

/// The targets of a regression dataset: present and finite, else an error naming the row.
pub fn regression_targets(data: &dyn Dataset, estimator: &str) -> Result<Array1<f64>> {
    let y = data.targets().ok_or_else(|| {
        Error::InvalidArgument(format!("{estimator} needs targets; the dataset has none"))
    })?;
    if let Some(i) = y.iter().position(|v| !v.is_finite()) {
        return Err(Error::InvalidValue {
            context: format!("{estimator} targets"),
            row: i,
            column: None,
            message: format!("{} is not a finite target", y[i]),
        });
    }
    Ok(y)
}

/// The sample weights of `data`, if any: finite and non-negative (an error names the first bad
/// row), and with a positive sum.
pub fn sample_weights(data: &dyn Dataset, estimator: &str) -> Result<Option<Array1<f64>>> {
    let Some(w) = data.weights() else {
        return Ok(None);
    };
    if let Some(i) = w.iter().position(|v| !(v.is_finite() && *v >= 0.0)) {
        return Err(Error::InvalidValue {
            context: format!("{estimator} sample weights"),
            row: i,
            column: None,
            message: format!("{} is not a finite non-negative weight", w[i]),
        });
    }
    if w.sum() <= 0.0 {
        return Err(Error::InvalidArgument(format!(
            "{estimator}: every sample weight is zero; at least one must be positive"
        )));
    }
    Ok(Some(w))
}

/// The sample weights of `data` as they are, or 1 per row when it has none; an error when
/// their count is not `n` (the row count of the targets).
pub fn weights_or_ones(data: &dyn Dataset, n: usize) -> Result<Vec<f64>> {
    let w = match data.weights() {
        Some(w) => w.to_vec(),
        None => vec![1.0; n],
    };
    if w.len() != n {
        return Err(Error::shape(
            "sample weights",
            format!("{n} values"),
            w.len(),
        ));
    }
    Ok(w)
}

/// Checked inputs of a regression fit: features, targets and optional weights.
#[derive(Debug, Clone)]
pub struct RegressionInput<'a> {
    /// The feature matrix (borrowed when the dataset allows).
    pub x: CowArray<'a, f64, Ix2>,
    /// The targets.
    pub y: Array1<f64>,
    /// The sample weights, if any.
    pub w: Option<Array1<f64>>,
    /// The centring offsets: weighted means with `fit_intercept`, zeros without.
    pub offsets: Offsets,
}

/// Runs every check of the module on a regression dataset and returns its arrays and its
/// centring [`Offsets`] (weighted means with `fit_intercept`, computed in the same pass over
/// the features as the finiteness check).
///
/// Errors on: no rows, no feature column, a categorical feature, a non-finite feature value or
/// target, bad sample weights.
pub fn regression_input<'a>(
    data: &'a dyn Dataset,
    estimator: &str,
    fit_intercept: bool,
) -> Result<RegressionInput<'a>> {
    if data.n_samples() == 0 {
        return Err(Error::Empty(format!("{estimator} training data (no rows)")));
    }
    if data.n_features() == 0 {
        return Err(Error::Empty(format!(
            "{estimator} training data (no feature columns)"
        )));
    }
    check_numeric_features(data, estimator)?;
    let x = data.features();
    let y = regression_targets(data, estimator)?;
    let w = sample_weights(data, estimator)?;
    let context = format!("{estimator} features");
    let offsets = if fit_intercept {
        // A NaN or infinity anywhere makes its column sum non-finite (0·inf is NaN too), so
        // the means double as the finiteness check; the exact search runs only on failure.
        let means = weighted_column_means(x.view(), w.as_ref().map(|w| w.view()));
        if let Some(j) = means.iter().position(|m| !m.is_finite()) {
            check_finite_features(x.view(), data.feature_names(), &context)?;
            return Err(Error::InvalidArgument(format!(
                "{context}: the values of column `{}` are too large to average (overflow)",
                validate::feature_name(data.feature_names(), j)
            )));
        }
        Offsets {
            x: means,
            y: weighted_mean(y.view(), w.as_ref().map(|w| w.view())),
        }
    } else {
        check_finite_features(x.view(), data.feature_names(), &context)?;
        Offsets::zeros(x.ncols())
    };
    Ok(RegressionInput { x, y, w, offsets })
}

/// Adds `f(block)` over fixed row blocks `[b·ROW_BLOCK, (b+1)·ROW_BLOCK)` of `0..n`, in
/// parallel, reducing in block order (deterministic for any thread count).
pub fn block_sum(
    n: usize,
    len: usize,
    f: impl Fn(std::ops::Range<usize>, &mut [f64]) + Sync,
) -> Vec<f64> {
    let n_blocks = n.div_ceil(ROW_BLOCK);
    let parts: Vec<Vec<f64>> = (0..n_blocks)
        .into_par_iter()
        .map(|b| {
            let mut acc = vec![0.0; len];
            f(b * ROW_BLOCK..((b + 1) * ROW_BLOCK).min(n), &mut acc);
            acc
        })
        .collect();
    let mut total = vec![0.0; len];
    for part in &parts {
        for (t, v) in total.iter_mut().zip(part) {
            *t += v;
        }
    }
    total
}

/// Column means of `x`, weighted by `w` when given (`Σ w_i x_ij / Σ w_i`, as `np.average`).
pub fn weighted_column_means(
    x: ArrayView2<'_, f64>,
    w: Option<ArrayView1<'_, f64>>,
) -> Array1<f64> {
    let (n, p) = x.dim();
    let sums = block_sum(n, p + 1, |rows, acc| {
        for i in rows {
            let wi = w.map_or(1.0, |w| w[i]);
            let row = x.row(i);
            match row.as_slice() {
                Some(r) => axpy(wi, r, &mut acc[..p]),
                None => {
                    for (a, v) in acc.iter_mut().zip(row) {
                        *a += wi * v;
                    }
                }
            }
            acc[p] += wi;
        }
    });
    let total = sums[p];
    Array1::from_iter(sums[..p].iter().map(|s| s / total))
}

/// The mean of `y`, weighted by `w` when given.
pub fn weighted_mean(y: ArrayView1<'_, f64>, w: Option<ArrayView1<'_, f64>>) -> f64 {
    let sums = block_sum(y.len(), 2, |rows, acc| {
        for i in rows {
            let wi = w.map_or(1.0, |w| w[i]);
            acc[0] += wi * y[i];
            acc[1] += wi;
        }
    });
    sums[0] / sums[1]
}

/// The offsets removed before fitting: weighted column means and weighted target mean with
/// `fit_intercept`, zeros without.
#[derive(Debug, Clone)]
pub struct Offsets {
    /// Subtracted from each feature column.
    pub x: Array1<f64>,
    /// Subtracted from the target.
    pub y: f64,
}

impl Offsets {
    /// No centring (`fit_intercept = false`): zeros for `p` columns and the target.
    pub fn zeros(p: usize) -> Self {
        Self {
            x: Array1::zeros(p),
            y: 0.0,
        }
    }
}

/// The offsets of scikit-learn's `_preprocess_data` (weighted means, or zeros).
pub fn offsets(
    x: ArrayView2<'_, f64>,
    y: ArrayView1<'_, f64>,
    w: Option<ArrayView1<'_, f64>>,
    fit_intercept: bool,
) -> Offsets {
    if fit_intercept {
        Offsets {
            x: weighted_column_means(x, w),
            y: weighted_mean(y, w),
        }
    } else {
        Offsets::zeros(x.ncols())
    }
}

/// The centred, row-scaled problem: `x_c[i, j] = s_i·(x[i, j] − x_offset[j])` (column-major)
/// and `y_c[i] = s_i·(y[i] − y_offset)`, with `s_i = √w_i` (or 1).
#[derive(Debug, Clone)]
pub struct Centered {
    /// The centred, scaled features, in column-major (Fortran) layout.
    pub x: Array2<f64>,
    /// The centred, scaled targets.
    pub y: Array1<f64>,
    /// The offsets that were removed.
    pub offsets: Offsets,
    /// `√w_i` per row, when there are weights.
    pub row_scale: Option<Array1<f64>>,
}

/// `√w` per row.
pub fn row_scale(w: Option<ArrayView1<'_, f64>>) -> Option<Array1<f64>> {
    w.map(|w| w.mapv(f64::sqrt))
}

/// Builds the centred, row-scaled copy of the problem (see [`Centered`]).
pub fn center_scale(
    x: ArrayView2<'_, f64>,
    y: ArrayView1<'_, f64>,
    w: Option<ArrayView1<'_, f64>>,
    fit_intercept: bool,
) -> Centered {
    center_scale_with(x, y, w, offsets(x, y, w, fit_intercept))
}

/// Like [`center_scale`], with offsets already computed (e.g. by [`regression_input`]).
pub fn center_scale_with(
    x: ArrayView2<'_, f64>,
    y: ArrayView1<'_, f64>,
    w: Option<ArrayView1<'_, f64>>,
    off: Offsets,
) -> Centered {
    let scale = row_scale(w);
    let (n, p) = x.dim();
    let mut xc = Array2::<f64>::zeros((n, p).f());
    {
        let s = scale.as_ref().map(|s| s.view());
        let ox = off.x.view();
        let cols = xc.as_slice_memory_order_mut();
        if let Some(cols) = cols {
            cols.par_chunks_mut(n.max(1))
                .enumerate()
                .for_each(|(j, col)| {
                    let xj = x.column(j);
                    let oj = ox[j];
                    for (i, c) in col.iter_mut().enumerate() {
                        *c = s.map_or(1.0, |s| s[i]) * (xj[i] - oj);
                    }
                });
        }
    }
    let yc = Array1::from_shape_fn(n, |i| scale.as_ref().map_or(1.0, |s| s[i]) * (y[i] - off.y));
    Centered {
        x: xc,
        y: yc,
        offsets: off,
        row_scale: scale,
    }
}

/// The intercept that goes with coefficients fitted on centred data:
/// `y_offset − x_offsetᵀ·coef`.
pub fn intercept(offsets: &Offsets, coef: ArrayView1<'_, f64>) -> f64 {
    offsets.y - offsets.x.dot(&coef)
}

/// Writes `x·coef + intercept` into `out`, one row at a time, in parallel over row blocks for
/// large batches.
///
/// Errors when `x` has another column count than `coef`, when `out` has another length than
/// the row count, or when a prediction is not finite because of a NaN or infinite input (the
/// error names the row and column).
pub fn predict_linear_into(
    coef: ArrayView1<'_, f64>,
    intercept: f64,
    x: ArrayView2<'_, f64>,
    out: &mut [f64],
    estimator: &str,
) -> Result<()> {
    // No allocation on success (this is also the single-row path): the context string is
    // the estimator's name, and an owned coefficient array is already contiguous.
    validate::check_predict_shapes(estimator, x, coef.len(), out.len(), 1)?;
    let owned;
    let coef_s: &[f64] = match coef.as_slice() {
        Some(s) => s,
        None => {
            owned = coef.to_vec();
            &owned
        }
    };
    let run = |start: usize, chunk: &mut [f64]| -> Option<usize> {
        let mut bad = None;
        for (k, o) in chunk.iter_mut().enumerate() {
            let row = x.row(start + k);
            let v = match row.as_slice() {
                Some(r) => dot(r, coef_s),
                None => row.dot(&coef),
            } + intercept;
            if !v.is_finite() && bad.is_none() {
                bad = Some(start + k);
            }
            *o = v;
        }
        bad
    };
    let bad = first_of_blocks(out, ROW_BLOCK, |b, chunk| run(b * ROW_BLOCK, chunk));
    if let Some(i) = bad {
        if let Some(j) = x.row(i).iter().position(|v| !v.is_finite()) {
            return Err(Error::InvalidValue {
                context: format!("{estimator} prediction input"),
                row: i,
                column: Some(format!("x{j}")),
                message: format!("{} is not a finite number", x[[i, j]]),
            });
        }
    }
    Ok(())
}

/// Implements [`Model`](crate::traits::Model) and [`Predictor`](crate::traits::Predictor)
/// for a fitted single-output linear model — a struct with the fields `coef: Array1<f64>`
/// (one per feature) and `intercept: f64` — named in errors by `$trainer`'s
/// [`NAME`](crate::traits::Trainer::NAME): `n_features` is the coefficient count, `validate`
/// is [`validate::linear_regressor_state`], and prediction is [`predict_linear_into`]
/// (`x·coef + intercept`; its single-row path allocates nothing). Serialization is the
/// model's own (its fields stay where they are).
///
/// ```ignore
/// linear_regressor!(RidgeModel, Ridge);
/// ```
macro_rules! linear_regressor {
    ($model:ty, $trainer:ty) => {
        impl $crate::traits::Model for $model {
            fn n_features(&self) -> usize {
                self.coef.len()
            }

            fn validate(&self) -> $crate::error::Result<()> {
                $crate::models::kit::validate::linear_regressor_state(
                    <$trainer as $crate::traits::Trainer>::NAME,
                    self.coef.view(),
                    self.intercept,
                )
            }
        }

        impl $crate::traits::Predictor for $model {
            fn predict_into(
                &self,
                x: ::ndarray::ArrayView2<'_, f64>,
                out: &mut [f64],
            ) -> $crate::error::Result<()> {
                $crate::models::linear::prep::predict_linear_into(
                    self.coef.view(),
                    self.intercept,
                    x,
                    out,
                    <$trainer as $crate::traits::Trainer>::NAME,
                )
            }
        }
    };
}
pub(crate) use linear_regressor;

/// Dot product of two equal-length slices, with four independent accumulators.
#[inline(always)]
pub fn dot(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut acc = [0.0f64; 4];
    let mut ca = a.chunks_exact(4);
    let mut cb = b.chunks_exact(4);
    for (x, y) in (&mut ca).zip(&mut cb) {
        acc[0] += x[0] * y[0];
        acc[1] += x[1] * y[1];
        acc[2] += x[2] * y[2];
        acc[3] += x[3] * y[3];
    }
    let tail: f64 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(x, y)| x * y)
        .sum();
    (acc[0] + acc[1]) + (acc[2] + acc[3]) + tail
}

/// `y += a·x` over equal-length slices.
pub fn axpy(a: f64, x: &[f64], y: &mut [f64]) {
    for (yi, xi) in y.iter_mut().zip(x) {
        *yi += a * xi;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{Column, DenseDataset, Table, TaskKind};
    use ndarray::array;

    #[test]
    fn nan_error_names_row_and_column() {
        let x = array![[1.0, 2.0], [3.0, f64::NAN], [f64::INFINITY, 0.0]];
        let names = vec!["a".to_string(), "b".to_string()];
        let e = check_finite_features(x.view(), &names, "ridge features").unwrap_err();
        match e {
            Error::InvalidValue { row, column, .. } => {
                assert_eq!(row, 1);
                assert_eq!(column.as_deref(), Some("b"));
            }
            other => panic!("{other}"),
        }
    }

    #[test]
    fn categorical_feature_points_to_one_hot() {
        let t = Table::new(vec![
            (
                "c".into(),
                Column::categorical_from(&[Some("u"), Some("v")]),
            ),
            ("y".into(), Column::numeric(vec![1.0, 2.0])),
        ])
        .unwrap();
        let d = DenseDataset::from_table(&t, "y", TaskKind::Regression).unwrap();
        let e = check_numeric_features(&d, "lasso").unwrap_err();
        assert!(e.to_string().contains("one_hot_encoder"), "{e}");
        assert!(e.to_string().contains("`c`"), "{e}");
    }

    #[test]
    fn weighted_centering_matches_hand_values() {
        let x = array![[1.0, 10.0], [3.0, 20.0], [5.0, 60.0]];
        let y = array![1.0, 2.0, 6.0];
        let w = array![1.0, 0.0, 3.0];
        let c = center_scale(x.view(), y.view(), Some(w.view()), true);
        assert_eq!(c.offsets.x.to_vec(), vec![4.0, 47.5]);
        assert_eq!(c.offsets.y, 4.75);
        assert_eq!(c.x[[0, 0]], -3.0);
        assert_eq!(c.x[[1, 1]], 0.0); // zero weight row
        assert!((c.x[[2, 0]] - 3f64.sqrt()).abs() < 1e-15);
        assert!((c.y[2] - 3f64.sqrt() * 1.25).abs() < 1e-15);
    }

    #[test]
    fn predict_checks_columns_and_nan() {
        let coef = array![1.0, 2.0];
        let mut out = vec![0.0; 2];
        let x = array![[1.0, 1.0], [2.0, 0.5]];
        predict_linear_into(coef.view(), 0.5, x.view(), &mut out, "t").unwrap();
        assert_eq!(out, vec![3.5, 3.5]);
        let bad = array![[1.0], [2.0]];
        assert!(predict_linear_into(coef.view(), 0.5, bad.view(), &mut out, "t").is_err());
        let nan = array![[1.0, 1.0], [f64::NAN, 0.5]];
        let e = predict_linear_into(coef.view(), 0.5, nan.view(), &mut out, "t").unwrap_err();
        assert!(matches!(e, Error::InvalidValue { row: 1, .. }), "{e}");
    }
}
