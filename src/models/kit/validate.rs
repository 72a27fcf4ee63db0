//! Input checks shared by every model: feature kinds, column counts, output lengths, finite
//! values, sample weights.

use ndarray::ArrayView2;

use crate::common::linalg::ROW_BLOCK;
use crate::data::{FeatureKind, Task};
use crate::error::{Error, Result};
use crate::traits::Dataset;

/// The name of feature `j`: `names[j]`, or `x{j}` when `names` is short.
pub fn feature_name(names: &[String], j: usize) -> String {
    names.get(j).cloned().unwrap_or_else(|| format!("x{j}"))
}

/// Checks that `x` has `n_features` columns (as at fit).
pub fn check_n_features(context: &str, x: ArrayView2<'_, f64>, n_features: usize) -> Result<()> {
    if x.ncols() != n_features {
        return Err(Error::shape(
            context,
            format!("{n_features} feature columns (as at fit)"),
            format!("{} columns", x.ncols()),
        ));
    }
    Ok(())
}

/// Checks that `x` has `n_features` columns and `out` has `per_row` slots per row of `x`.
pub fn check_predict_shapes(
    context: &str,
    x: ArrayView2<'_, f64>,
    n_features: usize,
    out_len: usize,
    per_row: usize,
) -> Result<()> {
    check_n_features(context, x, n_features)?;
    let needed = x
        .nrows()
        .checked_mul(per_row)
        .ok_or_else(|| Error::shape(context, "a representable output size", "overflow"))?;
    if out_len != needed {
        return Err(Error::shape(
            context,
            format!(
                "an output of {needed} values ({} rows x {per_row})",
                x.nrows()
            ),
            format!("{out_len} values"),
        ));
    }
    Ok(())
}

/// Rejects categorical feature columns, for models that need numbers (category codes are
/// not): the error names the first such column and points to `one_hot_encoder`.
pub fn check_numeric_kinds(context: &str, kinds: &[FeatureKind], names: &[String]) -> Result<()> {
    match kinds
        .iter()
        .position(|k| matches!(k, FeatureKind::Categorical { .. }))
    {
        Some(j) => Err(Error::ColumnKind {
            column: feature_name(names, j),
            context: context.to_string(),
            found: "categorical".into(),
            expected: "numeric (encode categorical columns first, e.g. with a \
                       `one_hot_encoder` step)"
                .into(),
        }),
        None => Ok(()),
    }
}

/// Errors on the first non-finite value of `x` (smallest row, then smallest column), naming
/// the row and the column (`names[j]`, or `x{j}` when `names` is short).
///
/// Row blocks are probed in parallel; the exact search runs only in the first bad block.
pub fn check_finite(context: &str, x: ArrayView2<'_, f64>, names: &[String]) -> Result<()> {
    let n = x.nrows();
    let n_blocks = n.div_ceil(ROW_BLOCK);
    // `v · 0` is NaN exactly when `v` is NaN or infinite; summing it vectorizes.
    let bad_block = crate::common::parallel::first_block_where(n_blocks, |b| {
        let end = ((b + 1) * ROW_BLOCK).min(n);
        let probe: f64 = (b * ROW_BLOCK..end)
            .map(|i| {
                let row = x.row(i);
                match row.as_slice() {
                    Some(r) => nan_probe(r),
                    None => row.iter().map(|v| v * 0.0).sum::<f64>(),
                }
            })
            .sum();
        probe.is_nan()
    });
    let Some(b) = bad_block else { return Ok(()) };
    let end = ((b + 1) * ROW_BLOCK).min(n);
    for i in b * ROW_BLOCK..end {
        let row = x.row(i);
        if let Some(j) = row.iter().position(|v| !v.is_finite()) {
            return Err(Error::InvalidValue {
                context: context.to_string(),
                row: i,
                column: Some(feature_name(names, j)),
                message: format!(
                    "{} is not a finite number; impute or drop missing values first \
                     (e.g. with a `simple_imputer` step)",
                    row.get(j).copied().unwrap_or(f64::NAN)
                ),
            });
        }
    }
    Ok(())
}

/// `Σ v·0` over `v` with four independent lanes (vectorizes): NaN iff some `v` is not finite.
#[inline]
pub(crate) fn nan_probe(v: &[f64]) -> f64 {
    let mut acc = [0.0f64; 4];
    let mut chunks = v.chunks_exact(4);
    for c in &mut chunks {
        acc[0] += c[0] * 0.0;
        acc[1] += c[1] * 0.0;
        acc[2] += c[2] * 0.0;
        acc[3] += c[3] * 0.0;
    }
    let tail: f64 = chunks.remainder().iter().map(|x| x * 0.0).sum();
    acc[0] + acc[1] + acc[2] + acc[3] + tail
}

fn corrupt(context: &str, message: impl std::fmt::Display) -> Error {
    Error::ModelCorrupt(format!("{context}: {message}"))
}

/// Checks a loaded single-output linear model: finite coefficients and intercept.
pub fn linear_regressor_state(
    context: &str,
    coef: ndarray::ArrayView1<'_, f64>,
    intercept: f64,
) -> Result<()> {
    if let Some(j) = coef.iter().position(|v| !v.is_finite()) {
        return Err(corrupt(context, format!("coefficient {j} is not finite")));
    }
    if !intercept.is_finite() {
        return Err(corrupt(context, "the intercept is not finite"));
    }
    Ok(())
}

/// Checks a loaded linear classifier: one coefficient row for two classes, one per class
/// otherwise; one intercept per row; finite values.
pub fn linear_classifier_state(
    context: &str,
    coef: ArrayView2<'_, f64>,
    intercept: ndarray::ArrayView1<'_, f64>,
    n_classes: usize,
) -> Result<()> {
    let rows = match n_classes {
        0 | 1 => {
            return Err(corrupt(
                context,
                format!("{n_classes} classes, need at least 2"),
            ))
        }
        2 => 1,
        k => k,
    };
    if coef.nrows() != rows || intercept.len() != rows {
        return Err(corrupt(
            context,
            format!(
                "{n_classes} classes need {rows} coefficient rows and intercepts, found {} and {}",
                coef.nrows(),
                intercept.len()
            ),
        ));
    }
    if coef.iter().chain(intercept.iter()).any(|v| !v.is_finite()) {
        return Err(corrupt(context, "a coefficient or intercept is not finite"));
    }
    Ok(())
}
/// Class labels and class indices of a classification dataset, every target checked to be a
/// class index (the one check shared by every classifier's `fit`).
pub(crate) fn class_targets(data: &dyn Dataset, context: &str) -> Result<(Vec<String>, Vec<u32>)> {
    let classes = match data.task() {
        Task::Classification { classes } => classes.clone(),
        other => {
            return Err(Error::InvalidArgument(format!(
                "{context} needs a classification dataset, got {other:?}"
            )))
        }
    };
    let base = data
        .base_targets()
        .ok_or_else(|| Error::InvalidArgument(format!("{context} needs targets")))?;
    // The targets of the dataset's rows, borrowed when no gather is needed.
    let y = match data.sample_indices() {
        None => ndarray::CowArray::from(base),
        Some(idx) => ndarray::CowArray::from(base.select(ndarray::Axis(0), idx)),
    };
    // A target is class `c` when `v as i32` (truncated, saturating) is `c` in `0..k` and
    // converts back to `v` exactly (no fraction). Converted and checked in two passes that
    // vectorize; the first bad row is searched only on failure.
    let k = classes.len();
    let is_class = |v: f64, c: i32| ((c as u32 as usize) < k) & (f64::from(c) == v);
    let codes: Vec<i32> = y.iter().map(|&v| v as i32).collect();
    let ok = y
        .iter()
        .zip(&codes)
        .fold(true, |ok, (&v, &c)| ok & is_class(v, c));
    if !ok {
        if let Some((i, &v)) = y.iter().enumerate().find(|&(_, &v)| !is_class(v, v as i32)) {
            return Err(Error::InvalidValue {
                context: context.into(),
                row: i,
                column: None,
                message: format!(
                    "target {v} is not a class index in 0..{k} (unlabelled rows cannot train a classifier)"
                ),
            });
        }
    }
    let out = codes.into_iter().map(|c| c as u32).collect();
    Ok((classes, out))
}

/// The dataset's sample weights (all 1 when it has none), checked: every weight finite and
/// `>= 0` (else an error naming the first bad row) and a positive sum.
pub fn sample_weights(context: &str, data: &dyn Dataset) -> Result<Vec<f64>> {
    let w: Vec<f64> = match data.weights() {
        Some(w) => w.to_vec(),
        None => vec![1.0; data.n_samples()],
    };
    if let Some(i) = w.iter().position(|v| !(v.is_finite() && *v >= 0.0)) {
        return Err(Error::InvalidValue {
            context: format!("{context} sample weights"),
            row: i,
            column: None,
            message: "sample weights must be finite and >= 0".into(),
        });
    }
    if w.iter().sum::<f64>() <= 0.0 {
        return Err(Error::InvalidArgument(format!(
            "{context}: the sample weights sum to 0"
        )));
    }
    Ok(w)
}
