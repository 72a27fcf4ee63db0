//! [`SimpleImputer`]: fills missing cells with a per-column statistic or a constant.

use serde::{Deserialize, Serialize};

use super::columns::{self, column_builder};
use super::row::{RowKernel, RowSlot, RowStep, SlotMapBuilder, SlotOp};
use crate::common::stats::moments as stats;
use crate::data::{CategoricalColumn, Column, ColumnKind, Table, MISSING_CODE};
use crate::error::{Error, Result};
use crate::traits::{FittedTransformer, Transformer};

/// How a [`SimpleImputer`] picks the fill value (scikit-learn `strategy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ImputeStrategy {
    /// The mean of the present values (numeric columns only; the default).
    #[default]
    Mean,
    /// The median of the present values (numeric columns only).
    Median,
    /// The most frequent present value; ties go to the smallest value (numeric or categorical).
    MostFrequent,
    /// `fill_value` (numeric or categorical).
    Constant,
}

/// A fill value: a number for numeric columns, text for categorical ones.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum FillValue {
    /// A number.
    Number(f64),
    /// A category.
    Text(String),
}

/// Fills missing cells, as scikit-learn's `SimpleImputer`.
///
/// Which columns: `mean` and `median` take every numeric column; `most_frequent` and
/// `constant` take every column, numeric and categorical (scikit-learn needs one imputer per
/// dtype; here one step does both). `fill_value` defaults to 0 for numeric columns and
/// `"missing_value"` for categorical ones, as scikit-learn. A column with no present value at
/// fit is dropped from the output, as scikit-learn does, unless `keep_empty_features` is set:
/// then it is kept and filled with 0 (`"0"` for categories), or with `fill_value` for
/// `constant`. Infinite values are errors, as scikit-learn rejects them.
///
/// ```
/// use amlis::data::{Column, Table};
/// use amlis::preprocess::{ImputeStrategy, SimpleImputer};
/// use amlis::traits::Transformer;
///
/// let table = Table::new(vec![
///     ("x".into(), Column::numeric(vec![1.0, f64::NAN, 5.0])),
///     ("c".into(), Column::categorical_from(&[Some("b"), None, Some("a")])),
/// ])?;
/// let (_, out) = SimpleImputer::default()
///     .strategy(ImputeStrategy::MostFrequent)
///     .fit_transform(&table)?;
/// assert_eq!(out.column("x")?.as_numeric().unwrap(), &[1.0, 1.0, 5.0]);
/// assert_eq!(out.column("c")?.as_categorical().unwrap().get(1), Some("a"));
/// # Ok::<(), amlis::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SimpleImputer {
    /// The strategy (default `mean`).
    pub strategy: ImputeStrategy,
    /// The constant for `strategy = constant` (default 0 / `"missing_value"`).
    pub fill_value: Option<FillValue>,
    /// Keep columns that are entirely missing at fit instead of dropping them.
    pub keep_empty_features: bool,
    /// The columns to impute (default: see the type's documentation).
    pub columns: Option<Vec<String>>,
}

impl SimpleImputer {
    /// Sets `strategy`.
    pub fn strategy(mut self, strategy: ImputeStrategy) -> Self {
        self.strategy = strategy;
        self
    }

    /// Sets `fill_value`.
    pub fn fill_value(mut self, value: FillValue) -> Self {
        self.fill_value = Some(value);
        self
    }

    /// Sets `keep_empty_features`.
    pub fn keep_empty_features(mut self, yes: bool) -> Self {
        self.keep_empty_features = yes;
        self
    }

    column_builder!("numeric columns for mean and median, all columns otherwise");
}

/// What a fitted [`SimpleImputer`] does with one column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImputedColumn {
    /// The column name.
    pub name: String,
    /// Its kind at fit.
    pub kind: ColumnKind,
    /// The fill value (scikit-learn's `statistics_` entry); `None`: the column is dropped.
    pub fill: Option<FillValue>,
}

/// A fitted [`SimpleImputer`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FittedSimpleImputer {
    strategy: ImputeStrategy,
    columns: Vec<ImputedColumn>,
}

impl FittedSimpleImputer {
    /// The imputed columns with their fill values.
    pub fn columns(&self) -> &[ImputedColumn] {
        &self.columns
    }
}

/// The most frequent category (ties: the smallest string), or `None` when all are missing.
fn most_frequent_category(col: &CategoricalColumn) -> Option<String> {
    col.value_counts()
        .into_iter()
        .filter(|(_, n)| *n > 0)
        .max_by(|(a, na), (b, nb)| na.cmp(nb).then_with(|| b.cmp(a)))
        .map(|(s, _)| s)
}

impl SimpleImputer {
    fn fit_column(&self, name: &str, col: &Column) -> Result<ImputedColumn> {
        let empty = col.n_missing() == col.len();
        let kind = col.kind();
        let fill = match (col, self.strategy) {
            (_, _) if empty && !self.keep_empty_features => None,
            (_, ImputeStrategy::Constant) => Some(self.constant(name, kind)?),
            (Column::Numeric(_), _) if empty => Some(FillValue::Number(0.0)),
            (Column::Categorical(_), _) if empty => Some(FillValue::Text("0".into())),
            (Column::Numeric(v), ImputeStrategy::Mean) => {
                Some(FillValue::Number(stats::moments(v).mean))
            }
            (Column::Numeric(v), ImputeStrategy::Median) => {
                Some(FillValue::Number(stats::median(&mut stats::present(v))))
            }
            (Column::Numeric(v), ImputeStrategy::MostFrequent) => {
                Some(FillValue::Number(stats::most_frequent(v)))
            }
            (Column::Categorical(c), ImputeStrategy::MostFrequent) => {
                most_frequent_category(c).map(FillValue::Text)
            }
            (Column::Categorical(_), _) => {
                return Err(Error::ColumnKind {
                    column: name.to_string(),
                    context: "simple_imputer fit".into(),
                    found: "categorical".into(),
                    expected: "numeric (strategy mean or median)".into(),
                })
            }
        };
        Ok(ImputedColumn {
            name: name.to_string(),
            kind,
            fill,
        })
    }

    fn constant(&self, name: &str, kind: ColumnKind) -> Result<FillValue> {
        Ok(match (&self.fill_value, kind) {
            (None, ColumnKind::Numeric) => FillValue::Number(0.0),
            (None, ColumnKind::Categorical) => FillValue::Text("missing_value".into()),
            (Some(FillValue::Number(x)), ColumnKind::Numeric) if x.is_finite() => {
                FillValue::Number(*x)
            }
            (Some(FillValue::Number(x)), ColumnKind::Categorical) if x.is_finite() => {
                FillValue::Text(x.to_string())
            }
            (Some(FillValue::Text(s)), ColumnKind::Categorical) => FillValue::Text(s.clone()),
            (Some(v), _) => {
                return Err(Error::param(
                    "fill_value",
                    format!("{v:?}"),
                    &format!(
                        "a finite number for numeric column `{name}` (text only fills \
                         categorical columns)"
                    ),
                ))
            }
        })
    }
}

impl Transformer for SimpleImputer {
    type Fitted = FittedSimpleImputer;

    fn fit(&self, table: &Table) -> Result<FittedSimpleImputer> {
        columns::require_rows(table, "simple_imputer")?;
        let kinds: &[ColumnKind] = match self.strategy {
            ImputeStrategy::Mean | ImputeStrategy::Median => &[ColumnKind::Numeric],
            _ => &[ColumnKind::Numeric, ColumnKind::Categorical],
        };
        let names =
            columns::select_fit_columns(table, self.columns.as_deref(), kinds, "simple_imputer")?;
        let columns = columns::par_map(&names, |_, name| {
            let col = table.column(name)?;
            if let Some(row) = col.as_numeric().and_then(columns::first_infinite) {
                return Err(columns::infinite_error("simple_imputer fit", row, name));
            }
            self.fit_column(name, col)
        })?;
        Ok(FittedSimpleImputer {
            strategy: self.strategy,
            columns,
        })
    }
}

/// A copy of `col` with missing cells replaced by `fill`.
fn fill_categorical(col: &CategoricalColumn, fill: &str) -> Result<CategoricalColumn> {
    let mut out = CategoricalColumn::new();
    for c in col.categories() {
        out.code_for(c);
    }
    let fill_code = out.code_for(fill);
    for &code in col.codes() {
        out.push_code(if code == MISSING_CODE {
            fill_code
        } else {
            code
        })?;
    }
    Ok(out)
}

/// The step's `type` name.
const STEP: &str = "simple_imputer";

impl FittedTransformer for FittedSimpleImputer {
    fn transform(&self, table: &Table) -> Result<Table> {
        let outputs = columns::par_map(&self.columns, |_, spec| {
            let pos = columns::locate(table, &spec.name, spec.kind, STEP)?;
            let col = table.columns().get(pos).ok_or_else(|| {
                Error::InvalidArgument(format!("column `{}` vanished", spec.name))
            })?;
            let out = match (col, &spec.fill) {
                (_, None) => vec![],
                (Column::Numeric(v), Some(FillValue::Number(f))) => {
                    if let Some(row) = columns::first_infinite(v) {
                        return Err(columns::infinite_error(
                            "simple_imputer transform",
                            row,
                            &spec.name,
                        ));
                    }
                    let filled = v.iter().map(|&x| if x.is_nan() { *f } else { x }).collect();
                    vec![(spec.name.clone(), Column::Numeric(filled))]
                }
                (Column::Categorical(c), Some(FillValue::Text(s))) => {
                    vec![(
                        spec.name.clone(),
                        Column::Categorical(fill_categorical(c, s)?),
                    )]
                }
                _ => {
                    return Err(Error::ModelCorrupt(format!(
                        "fitted simple_imputer: fill value {:?} does not suit {} column `{}`",
                        spec.fill, spec.kind, spec.name
                    )))
                }
            };
            Ok((spec.name.clone(), out))
        })?;
        columns::assemble(table, outputs)
    }
}

impl RowStep for FittedSimpleImputer {
    fn name(&self) -> &'static str {
        STEP
    }

    fn compile_row(&self, layout: &[RowSlot]) -> Result<Box<dyn RowKernel>> {
        let mut b = SlotMapBuilder::new(STEP, layout);
        for spec in &self.columns {
            let (pos, slot) = b.find(&spec.name, spec.kind)?;
            let ops = match (&spec.fill, spec.kind) {
                (None, _) => vec![],
                (Some(FillValue::Number(fill)), ColumnKind::Numeric) => {
                    vec![SlotOp::Impute {
                        src: pos,
                        fill: *fill,
                    }]
                }
                (Some(FillValue::Text(fill)), ColumnKind::Categorical) => {
                    // The table path appends the fill category when it is new.
                    let cats = slot.categories();
                    let code = cats.iter().position(|c| c == fill).unwrap_or(cats.len());
                    vec![SlotOp::ImputeCode {
                        src: pos,
                        code: code as f64,
                    }]
                }
                (Some(other), _) => {
                    return Err(b.corrupt(format!(
                        "fill value {other:?} does not suit {} column `{}`",
                        spec.kind, spec.name
                    )))
                }
            };
            b.replace(pos, ops)?;
        }
        Ok(b.finish())
    }
}
