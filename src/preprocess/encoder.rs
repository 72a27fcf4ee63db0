//! Categorical encoders: [`OneHotEncoder`] and [`OrdinalEncoder`].
//!
//! Both learn, per categorical column, the categories present at fit, sorted as scikit-learn
//! sorts them (Python string order, i.e. by code point). A missing cell at fit is a category of
//! its own, placed last, as scikit-learn treats NaN in object columns read by pandas: one-hot
//! gives it an indicator column `<col>_nan`; ordinal encoding gives it `encoded_missing_value`
//! (NaN by default). A missing cell at transform when none was seen at fit is an unknown
//! category, as in scikit-learn. (scikit-learn treats a Python `None`, unlike NaN, as an
//! ordinary category named `None`; amlis follows the NaN behaviour, which is what a
//! `pandas.read_csv` workflow sees.)

use rayon::prelude::*;
use serde::{Deserialize, Deserializer, Serialize};

use super::columns::{self, column_builder};
use super::row::{
    LevelEncoder, LevelEncoding, RowKernel, RowSlot, RowStep, SlotMapBuilder, SlotOp,
    UNKNOWN_LEVEL as UNKNOWN,
};
use crate::data::{CategoricalColumn, Column, ColumnKind, Table, MISSING_CODE};
use crate::error::{Error, Result};
use crate::traits::{FittedTransformer, Transformer};

/// The categories one encoder learnt for one column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ColumnCategories {
    /// The column name.
    pub name: String,
    /// The categories present at fit, sorted.
    pub categories: Vec<String>,
    /// Whether missing cells were present at fit (the extra, last category).
    pub has_missing: bool,
}

/// The one-hot encoder's hint for an unknown category.
const ONE_HOT_HINT: &str =
    "set handle_unknown to \"ignore\" to encode unknown categories as all zeros";

/// The ordinal encoder's hint for an unknown category.
const ORDINAL_HINT: &str = "set handle_unknown to \"use_encoded_value\" to encode unknown \
                            categories as unknown_value";

impl ColumnCategories {
    fn fit(name: &str, col: &CategoricalColumn) -> Self {
        let mut present = vec![false; col.categories().len()];
        let mut has_missing = false;
        for &code in col.codes() {
            match present.get_mut(code as usize) {
                Some(p) => *p = true,
                None => has_missing = true,
            }
        }
        let mut categories: Vec<String> = col
            .categories()
            .iter()
            .zip(&present)
            .filter(|(_, &p)| p)
            .map(|(c, _)| c.clone())
            .collect();
        categories.sort_unstable();
        Self {
            name: name.to_string(),
            categories,
            has_missing,
        }
    }

    /// The number of levels: the categories plus the missing level when seen at fit.
    fn n_levels(&self) -> usize {
        self.categories.len() + usize::from(self.has_missing)
    }

    /// Checks that the categories are sorted and distinct (a deserialized encoder could be
    /// inconsistent, and lookups rely on the order).
    fn check(&self, step: &str) -> Result<()> {
        if self.categories.windows(2).any(|w| w.first() >= w.get(1)) {
            return Err(Error::ModelCorrupt(format!(
                "fitted {step}: the categories of column `{}` are not sorted and distinct",
                self.name
            )));
        }
        Ok(())
    }

    /// The level of each of `categories` (`UNKNOWN` for one not seen at fit).
    fn levels_of(&self, categories: &[String]) -> Vec<u32> {
        categories
            .iter()
            .map(|c| {
                self.categories
                    .binary_search(c)
                    .map_or(UNKNOWN, |k| k as u32)
            })
            .collect()
    }

    /// The level of a missing cell (`UNKNOWN` when none was seen at fit).
    fn missing_level(&self) -> u32 {
        if self.has_missing {
            self.categories.len() as u32
        } else {
            UNKNOWN
        }
    }

    /// The row path's view of the levels: the level of each category of input slot `slot`,
    /// and the level of a missing cell.
    fn slot_levels(&self, slot: &RowSlot, step: &str) -> Result<(Vec<u32>, u32)> {
        self.check(step)?;
        Ok((self.levels_of(slot.categories()), self.missing_level()))
    }

    /// The level of every row of `table`'s column (`UNKNOWN` for a category not seen at
    /// fit); with `strict`, an unknown category is an error naming the row.
    fn levels(&self, table: &Table, step: &str, strict: bool, hint: &str) -> Result<Vec<u32>> {
        let pos = columns::locate(table, &self.name, ColumnKind::Categorical, step)?;
        let col = table
            .columns()
            .get(pos)
            .and_then(Column::as_categorical)
            .ok_or_else(|| Error::InvalidArgument(format!("column `{}` vanished", self.name)))?;
        let by_code = self.levels_of(col.categories());
        let missing_level = self.missing_level();
        let levels: Vec<u32> = col
            .codes()
            .iter()
            .map(|&code| {
                if code == MISSING_CODE {
                    missing_level
                } else {
                    by_code.get(code as usize).copied().unwrap_or(UNKNOWN)
                }
            })
            .collect();
        if strict {
            if let Some(row) = levels.iter().position(|&l| l == UNKNOWN) {
                let what = match col.get(row) {
                    Some(c) => format!("unknown category `{c}`"),
                    None => "missing value, which was not seen at fit".to_string(),
                };
                return Err(Error::InvalidValue {
                    context: format!("{step} transform"),
                    row,
                    column: Some(self.name.clone()),
                    message: format!(
                        "{what} (categories seen at fit: {}); {hint}",
                        self.categories.join(", ")
                    ),
                });
            }
        }
        Ok(levels)
    }
}

/// Learns the categories of the selected categorical columns.
fn fit_categories(
    table: &Table,
    explicit: Option<&[String]>,
    step: &str,
) -> Result<Vec<ColumnCategories>> {
    columns::require_rows(table, step)?;
    let names = columns::select_fit_columns(table, explicit, &[ColumnKind::Categorical], step)?;
    columns::par_map(&names, |_, name| {
        let col = table
            .column(name)?
            .as_categorical()
            .ok_or_else(|| Error::InvalidArgument(format!("column `{name}` vanished")))?;
        Ok(ColumnCategories::fit(name, col))
    })
}

// ---------------------------------------------------------------------------------------------

/// What a [`OneHotEncoder`] does with a category not seen at fit (scikit-learn
/// `handle_unknown`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HandleUnknown {
    /// Fail, naming the row, the column and the category (the default).
    #[default]
    Error,
    /// Encode it as all zeros.
    Ignore,
}

/// Which indicator column a [`OneHotEncoder`] leaves out per feature (scikit-learn `drop`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OneHotDrop {
    /// Keep every indicator (the default; also JSON `null`, scikit-learn's `None`).
    #[default]
    None,
    /// Drop the first category's indicator.
    First,
    /// Drop the first indicator of features with exactly two categories.
    IfBinary,
}

/// Reads `drop`, taking JSON `null` as [`OneHotDrop::None`].
fn drop_or_null<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<OneHotDrop, D::Error> {
    Ok(Option::<OneHotDrop>::deserialize(d)?.unwrap_or_default())
}

/// Replaces each categorical column by 0/1 indicator columns, one per category, named
/// `<col>_<category>` as scikit-learn's `get_feature_names_out`, at the column's position.
///
/// ```
/// use amlis::data::{Column, Table};
/// use amlis::preprocess::OneHotEncoder;
/// use amlis::traits::{FittedTransformer, Transformer};
///
/// let train = Table::new(vec![(
///     "c".into(),
///     Column::categorical_from(&[Some("b"), None, Some("a")]),
/// )])?;
/// let (fitted, out) = OneHotEncoder::default().fit_transform(&train)?;
/// assert_eq!(out.names(), &["c_a", "c_b", "c_nan"]);
/// assert_eq!(out.column("c_nan")?.as_numeric().unwrap(), &[0.0, 1.0, 0.0]);
///
/// let test = Table::new(vec![("c".into(), Column::categorical_from(&[Some("z")]))])?;
/// assert!(fitted.transform(&test).is_err()); // handle_unknown = error
/// # Ok::<(), amlis::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OneHotEncoder {
    /// Unknown categories at transform: `error` (default) or `ignore` (all zeros).
    pub handle_unknown: HandleUnknown,
    /// `none` (default, or JSON `null`), `first` or `if_binary`.
    #[serde(deserialize_with = "drop_or_null")]
    pub drop: OneHotDrop,
    /// The columns to encode (default: every categorical column).
    pub columns: Option<Vec<String>>,
}

impl OneHotEncoder {
    /// Sets `handle_unknown`.
    pub fn handle_unknown(mut self, h: HandleUnknown) -> Self {
        self.handle_unknown = h;
        self
    }

    /// Sets `drop`.
    pub fn drop(mut self, d: OneHotDrop) -> Self {
        self.drop = d;
        self
    }

    column_builder!("every categorical column");
}

/// A fitted [`OneHotEncoder`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FittedOneHotEncoder {
    handle_unknown: HandleUnknown,
    columns: Vec<ColumnCategories>,
    /// Per column, the level whose indicator is left out (scikit-learn `drop_idx_`).
    drop_idx: Vec<Option<usize>>,
}

impl Transformer for OneHotEncoder {
    type Fitted = FittedOneHotEncoder;

    fn fit(&self, table: &Table) -> Result<FittedOneHotEncoder> {
        let columns = fit_categories(table, self.columns.as_deref(), "one_hot_encoder")?;
        let drop_idx = columns
            .iter()
            .map(|c| match self.drop {
                OneHotDrop::None => None,
                OneHotDrop::First => Some(0),
                OneHotDrop::IfBinary => (c.n_levels() == 2).then_some(0),
            })
            .collect();
        Ok(FittedOneHotEncoder {
            handle_unknown: self.handle_unknown,
            columns,
            drop_idx,
        })
    }
}

impl FittedOneHotEncoder {
    /// The learnt categories per column.
    pub fn categories(&self) -> &[ColumnCategories] {
        &self.columns
    }

    /// What happens to a category not seen at fit.
    pub fn handle_unknown(&self) -> HandleUnknown {
        self.handle_unknown
    }

    /// Per column, the level whose indicator is left out (scikit-learn `drop_idx_`); levels
    /// are the sorted categories, then the missing level when seen at fit.
    pub fn drop_idx(&self) -> &[Option<usize>] {
        &self.drop_idx
    }

    /// The output column names, per input column, in output order (scikit-learn's
    /// `get_feature_names_out`); the missing category is named `<col>_nan`.
    pub fn feature_names_out(&self) -> Vec<Vec<String>> {
        self.columns
            .iter()
            .zip(&self.drop_idx)
            .map(|(c, drop)| {
                c.categories
                    .iter()
                    .map(String::as_str)
                    .chain(c.has_missing.then_some("nan"))
                    .enumerate()
                    .filter(|(k, _)| Some(*k) != *drop)
                    .map(|(_, cat)| format!("{}_{cat}", c.name))
                    .collect()
            })
            .collect()
    }
}

/// The one-hot encoder's `type` name.
const ONE_HOT: &str = "one_hot_encoder";

impl FittedTransformer for FittedOneHotEncoder {
    fn transform(&self, table: &Table) -> Result<Table> {
        const STEP: &str = ONE_HOT;
        columns::check_lengths(
            STEP,
            self.columns.len(),
            &[("drop_idx", self.drop_idx.len())],
        )?;
        let names = self.feature_names_out();
        let strict = self.handle_unknown == HandleUnknown::Error;
        let outputs = columns::par_map(&self.columns, |j, spec| {
            spec.check(STEP)?;
            let levels = spec.levels(table, STEP, strict, ONE_HOT_HINT)?;
            let drop = self.drop_idx.get(j).copied().flatten();
            let out_names = names.get(j).cloned().unwrap_or_default();
            let kept: Vec<usize> = (0..spec.n_levels()).filter(|&k| Some(k) != drop).collect();
            let cols: Vec<(String, Column)> = kept
                .par_iter()
                .zip(out_names)
                .map(|(&k, name)| {
                    let ind = levels
                        .iter()
                        .map(|&l| if l as usize == k { 1.0 } else { 0.0 })
                        .collect();
                    (name, Column::Numeric(ind))
                })
                .collect();
            Ok((spec.name.clone(), cols))
        })?;
        columns::assemble(table, outputs)
    }
}

// ---------------------------------------------------------------------------------------------

/// What an [`OrdinalEncoder`] does with a category not seen at fit (scikit-learn
/// `handle_unknown`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrdinalHandleUnknown {
    /// Fail, naming the row, the column and the category (the default).
    #[default]
    Error,
    /// Encode it as `unknown_value`.
    UseEncodedValue,
}

/// Replaces each categorical column by the index of its category in sorted order (as `f64`),
/// as scikit-learn's `OrdinalEncoder`. Missing cells become `encoded_missing_value` (NaN by
/// default).
///
/// `unknown_value` (used with `handle_unknown = use_encoded_value`) is NaN unless set (JSON
/// `null` is NaN); scikit-learn requires it to be set explicitly. It must be NaN or an integer
/// that is not the code of a known category.
///
/// ```
/// use amlis::data::{Column, Table};
/// use amlis::preprocess::OrdinalEncoder;
/// use amlis::traits::Transformer;
///
/// let t = Table::new(vec![(
///     "c".into(),
///     Column::categorical_from(&[Some("b"), None, Some("a")]),
/// )])?;
/// let (_, out) = OrdinalEncoder::default().fit_transform(&t)?;
/// let codes = out.column("c")?.as_numeric().unwrap();
/// assert_eq!((codes[0], codes[2]), (1.0, 0.0));
/// assert!(codes[1].is_nan());
/// # Ok::<(), amlis::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OrdinalEncoder {
    /// Unknown categories at transform: `error` (default) or `use_encoded_value`.
    pub handle_unknown: OrdinalHandleUnknown,
    /// The code of unknown categories with `use_encoded_value` (default NaN).
    #[serde(with = "crate::common::json_float::one")]
    pub unknown_value: f64,
    /// The code of missing cells (default NaN).
    #[serde(with = "crate::common::json_float::one")]
    pub encoded_missing_value: f64,
    /// The columns to encode (default: every categorical column).
    pub columns: Option<Vec<String>>,
}

impl Default for OrdinalEncoder {
    fn default() -> Self {
        Self {
            handle_unknown: OrdinalHandleUnknown::Error,
            unknown_value: f64::NAN,
            encoded_missing_value: f64::NAN,
            columns: None,
        }
    }
}

impl OrdinalEncoder {
    /// Sets `handle_unknown`.
    pub fn handle_unknown(mut self, h: OrdinalHandleUnknown) -> Self {
        self.handle_unknown = h;
        self
    }

    /// Sets `unknown_value`.
    pub fn unknown_value(mut self, v: f64) -> Self {
        self.unknown_value = v;
        self
    }

    /// Sets `encoded_missing_value`.
    pub fn encoded_missing_value(mut self, v: f64) -> Self {
        self.encoded_missing_value = v;
        self
    }

    column_builder!("every categorical column");
}

/// A fitted [`OrdinalEncoder`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FittedOrdinalEncoder {
    handle_unknown: OrdinalHandleUnknown,
    #[serde(with = "crate::common::json_float::one")]
    unknown_value: f64,
    #[serde(with = "crate::common::json_float::one")]
    encoded_missing_value: f64,
    columns: Vec<ColumnCategories>,
}

impl FittedOrdinalEncoder {
    /// The learnt categories per column.
    pub fn categories(&self) -> &[ColumnCategories] {
        &self.columns
    }

    /// What happens to a category not seen at fit.
    pub fn handle_unknown(&self) -> OrdinalHandleUnknown {
        self.handle_unknown
    }

    /// The code of an unknown category (with `use_encoded_value`).
    pub fn unknown_value(&self) -> f64 {
        self.unknown_value
    }

    /// The code of a missing cell when missing cells were seen at fit.
    pub fn encoded_missing_value(&self) -> f64 {
        self.encoded_missing_value
    }
}

/// Checks that `value` is NaN or an integer outside `0..used`.
fn check_code(name: &str, value: f64, used: usize) -> Result<()> {
    if value.is_nan() {
        return Ok(());
    }
    if value.fract() != 0.0 || !value.is_finite() {
        return Err(Error::param(name, value, "NaN or an integer"));
    }
    if value >= 0.0 && value < used as f64 {
        return Err(Error::param(
            name,
            value,
            &format!("NaN or an integer outside 0..{used}, the codes of known categories"),
        ));
    }
    Ok(())
}

impl Transformer for OrdinalEncoder {
    type Fitted = FittedOrdinalEncoder;

    fn fit(&self, table: &Table) -> Result<FittedOrdinalEncoder> {
        let columns = fit_categories(table, self.columns.as_deref(), "ordinal_encoder")?;
        if self.handle_unknown == OrdinalHandleUnknown::UseEncodedValue {
            let used = columns
                .iter()
                .map(|c| c.categories.len())
                .max()
                .unwrap_or(0);
            check_code("unknown_value", self.unknown_value, used)?;
        }
        let used_with_missing = columns
            .iter()
            .filter(|c| c.has_missing)
            .map(|c| c.categories.len())
            .max()
            .unwrap_or(0);
        check_code(
            "encoded_missing_value",
            self.encoded_missing_value,
            used_with_missing,
        )?;
        Ok(FittedOrdinalEncoder {
            handle_unknown: self.handle_unknown,
            unknown_value: self.unknown_value,
            encoded_missing_value: self.encoded_missing_value,
            columns,
        })
    }
}

/// The ordinal encoder's `type` name.
const ORDINAL: &str = "ordinal_encoder";

impl FittedTransformer for FittedOrdinalEncoder {
    fn transform(&self, table: &Table) -> Result<Table> {
        const STEP: &str = ORDINAL;
        let strict = self.handle_unknown == OrdinalHandleUnknown::Error;
        let outputs = columns::par_map(&self.columns, |_, spec| {
            spec.check(STEP)?;
            let levels = spec.levels(table, STEP, strict, ORDINAL_HINT)?;
            let n_categories = spec.categories.len();
            let codes = levels
                .iter()
                .map(|&l| match l as usize {
                    _ if l == UNKNOWN => self.unknown_value,
                    k if k == n_categories => self.encoded_missing_value,
                    k => k as f64,
                })
                .collect();
            Ok((
                spec.name.clone(),
                vec![(spec.name.clone(), Column::Numeric(codes))],
            ))
        })?;
        columns::assemble(table, outputs)
    }
}

impl RowStep for FittedOneHotEncoder {
    fn name(&self) -> &'static str {
        ONE_HOT
    }

    fn compile_row(&self, layout: &[RowSlot]) -> Result<Box<dyn RowKernel>> {
        let mut b = SlotMapBuilder::new(ONE_HOT, layout);
        if self.drop_idx.len() != self.columns.len() {
            return Err(b.corrupt(format!(
                "`drop_idx` has {} entries for {} columns",
                self.drop_idx.len(),
                self.columns.len()
            )));
        }
        for (spec, drop) in self.columns.iter().zip(&self.drop_idx) {
            let (pos, slot) = b.find(&spec.name, ColumnKind::Categorical)?;
            let (levels, missing) = spec.slot_levels(slot, ONE_HOT)?;
            let kept = (0..spec.n_levels() as u32)
                .filter(|&k| Some(k as usize) != *drop)
                .collect();
            let op = SlotOp::Encode(LevelEncoder {
                src: pos,
                levels,
                missing,
                strict: self.handle_unknown == HandleUnknown::Error,
                hint: ONE_HOT_HINT,
                encoding: LevelEncoding::OneHot(kept),
            });
            b.replace(pos, vec![op])?;
        }
        Ok(b.finish())
    }
}

impl RowStep for FittedOrdinalEncoder {
    fn name(&self) -> &'static str {
        ORDINAL
    }

    fn compile_row(&self, layout: &[RowSlot]) -> Result<Box<dyn RowKernel>> {
        let mut b = SlotMapBuilder::new(ORDINAL, layout);
        for spec in &self.columns {
            let (pos, slot) = b.find(&spec.name, ColumnKind::Categorical)?;
            let (levels, missing) = spec.slot_levels(slot, ORDINAL)?;
            let op = SlotOp::Encode(LevelEncoder {
                src: pos,
                levels,
                missing,
                strict: self.handle_unknown == OrdinalHandleUnknown::Error,
                hint: ORDINAL_HINT,
                encoding: LevelEncoding::Ordinal {
                    n_categories: spec.categories.len() as u32,
                    unknown_value: self.unknown_value,
                    missing_value: self.encoded_missing_value,
                },
            });
            b.replace(pos, vec![op])?;
        }
        Ok(b.finish())
    }
}
