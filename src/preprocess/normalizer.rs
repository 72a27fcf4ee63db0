//! [`Normalizer`]: scales each row of the selected numeric columns to unit norm.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::columns::{self, column_builder};
use super::row::{RowKernel, RowSlot, RowStep, SlotMapBuilder, SlotOp};
use crate::data::{Column, ColumnKind, Table};
use crate::error::{Error, Result};
use crate::traits::{FittedTransformer, Transformer};

/// The row norm a [`Normalizer`] divides by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Norm {
    /// Sum of absolute values.
    L1,
    /// Euclidean norm (the default).
    #[default]
    L2,
    /// Largest absolute value.
    Max,
}

/// Scales each row (over the selected numeric columns) to unit `norm`, as scikit-learn's
/// `Normalizer`. A row of zeros stays zeros. The step is stateless apart from the columns it
/// remembers; a missing (NaN) or infinite cell is an error naming its row and column, as
/// scikit-learn rejects them.
///
/// ```
/// use amlis::data::{Column, Table};
/// use amlis::preprocess::{Norm, Normalizer};
/// use amlis::traits::Transformer;
///
/// let table = Table::new(vec![
///     ("a".into(), Column::numeric(vec![3.0, 0.0])),
///     ("b".into(), Column::numeric(vec![4.0, 0.0])),
/// ])?;
/// let (_, out) = Normalizer::default().fit_transform(&table)?;
/// assert_eq!(out.column("a")?.as_numeric().unwrap(), &[0.6, 0.0]);
/// let (_, out) = Normalizer::default().norm(Norm::Max).fit_transform(&table)?;
/// assert_eq!(out.column("b")?.as_numeric().unwrap(), &[1.0, 0.0]);
/// # Ok::<(), amlis::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Normalizer {
    /// The norm (scikit-learn `norm`: `l1`, `l2` or `max`; default `l2`).
    pub norm: Norm,
    /// The columns that make up a row (default: every numeric column).
    pub columns: Option<Vec<String>>,
}

impl Normalizer {
    /// Sets `norm`.
    pub fn norm(mut self, norm: Norm) -> Self {
        self.norm = norm;
        self
    }

    column_builder!("every numeric column");
}

/// A fitted [`Normalizer`]: the norm and the columns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FittedNormalizer {
    norm: Norm,
    columns: Vec<String>,
}

impl FittedNormalizer {
    /// The columns normalized together.
    pub fn columns(&self) -> &[String] {
        &self.columns
    }

    /// The norm each row is divided by.
    pub fn norm(&self) -> Norm {
        self.norm
    }
}

impl Transformer for Normalizer {
    type Fitted = FittedNormalizer;

    fn fit(&self, table: &Table) -> Result<FittedNormalizer> {
        columns::require_rows(table, "normalizer")?;
        let columns = columns::select_fit_columns(
            table,
            self.columns.as_deref(),
            &[ColumnKind::Numeric],
            "normalizer",
        )?;
        let fitted = FittedNormalizer {
            norm: self.norm,
            columns,
        };
        // scikit-learn validates at fit too: reject NaN / infinity now.
        fitted.inputs(table)?;
        Ok(fitted)
    }
}

/// Rows per parallel block when accumulating norms.
const ROW_BLOCK: usize = 4096;

impl FittedNormalizer {
    /// The input columns, checked for non-finite cells (reporting the first in row order).
    fn inputs<'t>(&self, table: &'t Table) -> Result<Vec<&'t [f64]>> {
        let inputs = columns::par_map(&self.columns, |_, name| {
            columns::numeric(table, name, "normalizer")
        })?;
        let first_bad = inputs
            .par_iter()
            .enumerate()
            .filter_map(|(j, v)| v.iter().position(|x| !x.is_finite()).map(|i| (i, j)))
            .min();
        if let Some((row, j)) = first_bad {
            let value = inputs.get(j).and_then(|v| v.get(row)).copied();
            return Err(Error::InvalidValue {
                context: "normalizer".into(),
                row,
                column: self.columns.get(j).cloned(),
                message: format!(
                    "{}; the normalizer needs finite values (impute missing values first)",
                    match value {
                        Some(x) if x.is_nan() => "missing value (NaN)".to_string(),
                        Some(x) => format!("non-finite value {x}"),
                        None => "non-finite value".to_string(),
                    }
                ),
            });
        }
        Ok(inputs)
    }
}

impl FittedTransformer for FittedNormalizer {
    fn transform(&self, table: &Table) -> Result<Table> {
        let inputs = self.inputs(table)?;
        let mut norms = vec![0.0f64; table.n_rows()];
        let norm = self.norm;
        norms
            .par_chunks_mut(ROW_BLOCK)
            .enumerate()
            .for_each(|(b, block)| {
                let start = b * ROW_BLOCK;
                for values in &inputs {
                    let part = values.get(start..start + block.len()).unwrap_or(&[]);
                    for (acc, &x) in block.iter_mut().zip(part) {
                        *acc = match norm {
                            Norm::L1 => *acc + x.abs(),
                            Norm::L2 => *acc + x * x,
                            Norm::Max => acc.max(x.abs()),
                        };
                    }
                }
                for acc in block.iter_mut() {
                    if norm == Norm::L2 {
                        *acc = acc.sqrt();
                    }
                    // scikit-learn's _handle_zeros_in_scale: a zero norm divides by 1.
                    if *acc < 10.0 * f64::EPSILON {
                        *acc = 1.0;
                    }
                }
            });
        let outputs = columns::par_map(&self.columns, |j, name| {
            let values = inputs.get(j).copied().unwrap_or(&[]);
            let out = values.iter().zip(&norms).map(|(x, n)| x / n).collect();
            Ok((name.clone(), vec![(name.clone(), Column::Numeric(out))]))
        })?;
        columns::assemble(table, outputs)
    }
}

impl RowStep for FittedNormalizer {
    fn name(&self) -> &'static str {
        "normalizer"
    }

    fn compile_row(&self, layout: &[RowSlot]) -> Result<Box<dyn RowKernel>> {
        let mut b = SlotMapBuilder::new("normalizer", layout);
        let mut srcs = Vec::with_capacity(self.columns.len());
        for c in &self.columns {
            let (pos, _) = b.find(c, ColumnKind::Numeric)?;
            b.replace(pos, vec![SlotOp::Normalized(pos)])?;
            srcs.push(pos);
        }
        b.row_norm(srcs, self.norm);
        Ok(b.finish())
    }
}
