//! Input checks shared by every model: column counts, output lengths, finite values.

use ndarray::ArrayView2;

use crate::error::{Error, Result};

/// Checks that `x` has `n_features` columns and `out` has `per_row` slots per row of `x`.
pub fn check_predict_shapes(
    context: &str,
    x: ArrayView2<'_, f64>,
    n_features: usize,
    out_len: usize,
    per_row: usize,
) -> Result<()> {
    if x.ncols() != n_features {
        return Err(Error::shape(
            context,
            format!("{n_features} feature columns (as at fit)"),
            format!("{} columns", x.ncols()),
        ));
    }
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

/// The first non-finite cell of `x`, as an error naming its row and column.
pub fn check_finite(context: &str, x: ArrayView2<'_, f64>, names: &[String]) -> Result<()> {
    for (i, row) in x.outer_iter().enumerate() {
        if let Some(j) = row.iter().position(|v| !v.is_finite()) {
            let v = row.get(j).copied().unwrap_or(f64::NAN);
            return Err(Error::InvalidValue {
                context: context.to_string(),
                row: i,
                column: Some(names.get(j).cloned().unwrap_or_else(|| format!("x{j}"))),
                message: format!(
                    "{v} cannot be used here; impute missing values (simple_imputer) or drop the row"
                ),
            });
        }
    }
    Ok(())
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
