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
