//! Shared plumbing of the preprocessing steps: which columns a step takes, where a fitted
//! column is in a later table, and how the output table is put back together.
//!
//! Every step follows the same rules: without explicit `columns` it takes every column of the
//! kind(s) it handles; the columns it does not touch pass through unchanged, in place; a
//! replaced column's outputs sit at its position (one for scalers, several for one-hot, none
//! for a dropped column). Work on the selected columns runs in parallel with rayon, one task
//! per column, and results (and the first error, in column order) come back in a fixed order.

use rayon::prelude::*;

use crate::data::{Column, ColumnKind, Table};
use crate::error::{Error, Result};

/// The `columns(...)` builder method shared by every step's settings.
macro_rules! column_builder {
    ($default:literal) => {
        #[doc = concat!("Restricts the step to these columns (default: ", $default, ").")]
        pub fn columns<S: Into<String>>(mut self, columns: impl IntoIterator<Item = S>) -> Self {
            self.columns = Some(columns.into_iter().map(Into::into).collect());
            self
        }
    };
}
pub(crate) use column_builder;

/// Names the kinds a step accepts, for error messages ("numeric", "numeric or categorical").
fn kinds_text(kinds: &[ColumnKind]) -> String {
    kinds
        .iter()
        .map(|k| k.to_string())
        .collect::<Vec<_>>()
        .join(" or ")
}

/// The columns a step fits on: the explicit list (checked for existence, kind and repeats), or
/// every column whose kind is in `kinds`, in table order.
pub(crate) fn select_fit_columns(
    table: &Table,
    explicit: Option<&[String]>,
    kinds: &[ColumnKind],
    step: &str,
) -> Result<Vec<String>> {
    let context = format!("{step} fit");
    match explicit {
        None => Ok(table
            .iter()
            .filter(|(_, c)| kinds.contains(&c.kind()))
            .map(|(n, _)| n.to_string())
            .collect()),
        Some(names) => {
            for (i, name) in names.iter().enumerate() {
                if names.iter().take(i).any(|n| n == name) {
                    return Err(Error::param(
                        "columns",
                        format!("{names:?}"),
                        &format!("distinct column names (`{name}` is repeated)"),
                    ));
                }
                let col = table.column(name).map_err(|_| Error::UnknownColumn {
                    name: name.clone(),
                    context: context.clone(),
                    available: table.names().to_vec(),
                })?;
                if !kinds.contains(&col.kind()) {
                    return Err(Error::ColumnKind {
                        column: name.clone(),
                        context: context.clone(),
                        found: col.kind().to_string(),
                        expected: kinds_text(kinds),
                    });
                }
            }
            Ok(names.to_vec())
        }
    }
}

/// The position of fitted column `name` in `table`, checking that it has `kind`.
pub(crate) fn locate(table: &Table, name: &str, kind: ColumnKind, step: &str) -> Result<usize> {
    let context = format!("{step} transform");
    let pos = table.index_of(name, &context)?;
    let found = table
        .columns()
        .get(pos)
        .map(Column::kind)
        .ok_or_else(|| Error::InvalidArgument(format!("column `{name}` vanished")))?;
    if found != kind {
        return Err(Error::ColumnKind {
            column: name.to_string(),
            context,
            found: found.to_string(),
            expected: kind.to_string(),
        });
    }
    Ok(pos)
}

/// The numeric values of fitted column `name` in `table`.
pub(crate) fn numeric<'t>(table: &'t Table, name: &str, step: &str) -> Result<&'t [f64]> {
    let pos = locate(table, name, ColumnKind::Numeric, step)?;
    table
        .columns()
        .get(pos)
        .and_then(Column::as_numeric)
        .ok_or_else(|| Error::InvalidArgument(format!("column `{name}` vanished")))
}

/// Runs `f` on every item in parallel and returns the results in order, or the first error in
/// item order (so the reported error does not depend on thread timing).
pub(crate) fn par_map<T, R, F>(items: &[T], f: F) -> Result<Vec<R>>
where
    T: Sync,
    R: Send,
    F: Fn(usize, &T) -> Result<R> + Sync,
{
    let results: Vec<Result<R>> = items
        .par_iter()
        .enumerate()
        .map(|(j, item)| f(j, item))
        .collect();
    results.into_iter().collect()
}

/// The outputs that replace one input column.
pub(crate) type Replacement = Vec<(String, Column)>;

/// Builds the output table: each input column in order, or its replacement (by input name).
///
/// `replaced` pairs an input column name with its outputs; an empty output list drops it.
pub(crate) fn assemble(table: &Table, replaced: Vec<(String, Replacement)>) -> Result<Table> {
    let mut slots: Vec<Option<Replacement>> = vec![None; table.n_columns()];
    for (name, outputs) in replaced {
        let pos = table.index_of(&name, "assembling the transformed table")?;
        if let Some(slot) = slots.get_mut(pos) {
            *slot = Some(outputs);
        }
    }
    let mut out = Table::default();
    for ((name, col), slot) in table.iter().zip(slots) {
        match slot {
            None => out.push_column(name, col.clone())?,
            Some(outputs) => {
                for (n, c) in outputs {
                    out.push_column(n, c)?;
                }
            }
        }
    }
    Ok(out)
}

/// Checks that the per-column vectors of a fitted step all have one entry per column (a
/// deserialized step could be inconsistent).
pub(crate) fn check_lengths(step: &str, n_columns: usize, lengths: &[(&str, usize)]) -> Result<()> {
    for &(what, len) in lengths {
        if len != n_columns {
            return Err(Error::ModelCorrupt(format!(
                "fitted {step}: `{what}` has {len} entries for {n_columns} columns"
            )));
        }
    }
    Ok(())
}

/// The first row of `values` holding an infinite value, if any (NaN is allowed: it marks a
/// missing cell).
pub(crate) fn first_infinite(values: &[f64]) -> Option<usize> {
    // Scan blocks with a branch-free test (vectorizes), then locate inside the first bad one.
    const BLOCK: usize = 64;
    values
        .chunks(BLOCK)
        .enumerate()
        .find(|(_, block)| block.iter().fold(false, |bad, x| bad | x.is_infinite()))
        .and_then(|(b, block)| {
            let i = block.iter().position(|x| x.is_infinite())?;
            Some(b * BLOCK + i)
        })
}

/// The error for an infinite value reaching a step.
pub(crate) fn infinite_error(step: &str, row: usize, column: &str) -> Error {
    Error::InvalidValue {
        context: step.to_string(),
        row,
        column: Some(column.to_string()),
        message: "infinite value; expected a finite number or NaN for a missing cell".into(),
    }
}

/// Checks that a table to fit on has rows.
pub(crate) fn require_rows(table: &Table, step: &str) -> Result<()> {
    if table.n_rows() == 0 {
        return Err(Error::Empty(format!(
            "{step} fit: the table has no rows; at least one is needed"
        )));
    }
    Ok(())
}

/// Fits a per-column statistic on numeric columns: selects the columns (explicit or all
/// numeric ones), runs `stat` on each column in parallel, and rejects infinite values (naming
/// row and column). `proves_finite` saves the scan for infinite values when the statistic
/// already shows there are none (e.g. a finite sum), which keeps the fit to the passes the
/// statistic needs. Returns the column names and one statistic per column, in order.
pub(crate) fn fit_numeric<T, F, P>(
    table: &Table,
    explicit: Option<&[String]>,
    step: &str,
    stat: F,
    proves_finite: P,
) -> Result<(Vec<String>, Vec<T>)>
where
    T: Send,
    F: Fn(&[f64]) -> T + Sync,
    P: Fn(&T) -> bool + Sync,
{
    require_rows(table, step)?;
    let names = select_fit_columns(table, explicit, &[ColumnKind::Numeric], step)?;
    let stats = par_map(&names, |_, name| {
        let values = numeric(table, name, step)?;
        let s = stat(values);
        if !proves_finite(&s) {
            if let Some(row) = first_infinite(values) {
                return Err(infinite_error(&format!("{step} fit"), row, name));
            }
        }
        Ok(s)
    })?;
    Ok((names, stats))
}
