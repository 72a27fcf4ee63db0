//! Typed tables: named numeric and categorical columns with missing values.
//!
//! A [`Table`] is column-major: each [`Column`] is either numeric (`f64`, missing = `NaN`) or
//! categorical (dictionary-encoded strings, missing = `None`). Tables come from CSV files
//! ([`crate::data::csv`]), from joins ([`mod@crate::data::join`]) or from code, and become
//! [`crate::data::DenseDataset`]s once a target is chosen.
//!
//! ```
//! use amlis::data::{Column, Table};
//!
//! let table = Table::new(vec![
//!     ("height".to_string(), Column::numeric(vec![1.62, f64::NAN, 1.80])),
//!     ("team".to_string(), Column::categorical_from(&[Some("a"), Some("b"), None])),
//! ])?;
//! assert_eq!(table.n_rows(), 3);
//! assert_eq!(table.missing_counts(), vec![("height".to_string(), 1), ("team".to_string(), 1)]);
//! # Ok::<(), amlis::Error>(())
//! ```

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The kind of a column: what its cells hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ColumnKind {
    /// `f64` values; missing is `NaN`.
    Numeric,
    /// Strings from a finite set of categories; missing is `None`.
    Categorical,
}

impl std::fmt::Display for ColumnKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ColumnKind::Numeric => "numeric",
            ColumnKind::Categorical => "categorical",
        })
    }
}

/// Code that marks a missing cell in a [`CategoricalColumn`].
pub const MISSING_CODE: u32 = u32::MAX;

/// A dictionary-encoded column of strings.
///
/// Each cell is a code into `categories` (in order of first appearance), or [`MISSING_CODE`].
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct CategoricalColumn {
    codes: Vec<u32>,
    categories: Vec<String>,
    #[serde(skip)]
    lookup: HashMap<String, u32>,
}

impl CategoricalColumn {
    /// An empty column.
    pub fn new() -> Self {
        Self::default()
    }

    /// Builds a column from optional strings (`None` = missing).
    pub fn from_values<S: AsRef<str>>(values: &[Option<S>]) -> Self {
        let mut col = Self::new();
        for v in values {
            col.push(v.as_ref().map(|s| s.as_ref()));
        }
        col
    }

    /// Appends one cell.
    pub fn push(&mut self, value: Option<&str>) {
        let code = match value {
            None => MISSING_CODE,
            Some(s) => self.code_for(s),
        };
        self.codes.push(code);
    }

    /// The code of a category, adding the category if it is new.
    pub fn code_for(&mut self, value: &str) -> u32 {
        if self.lookup.len() != self.categories.len() {
            self.rebuild_lookup();
        }
        if let Some(&c) = self.lookup.get(value) {
            return c;
        }
        let c = self.categories.len() as u32;
        self.categories.push(value.to_string());
        self.lookup.insert(value.to_string(), c);
        c
    }

    /// Appends a cell by code (must be [`MISSING_CODE`] or a valid index into the categories).
    pub fn push_code(&mut self, code: u32) -> Result<()> {
        if code != MISSING_CODE && code as usize >= self.categories.len() {
            return Err(Error::InvalidArgument(format!(
                "category code {code} out of range 0..{}",
                self.categories.len()
            )));
        }
        self.codes.push(code);
        Ok(())
    }

    fn rebuild_lookup(&mut self) {
        self.lookup = self
            .categories
            .iter()
            .enumerate()
            .map(|(i, s)| (s.clone(), i as u32))
            .collect();
    }

    /// Number of cells.
    pub fn len(&self) -> usize {
        self.codes.len()
    }

    /// True when the column has no cells.
    pub fn is_empty(&self) -> bool {
        self.codes.is_empty()
    }

    /// The cell at `row`: `None` when missing or out of range.
    pub fn get(&self, row: usize) -> Option<&str> {
        let code = *self.codes.get(row)?;
        self.categories.get(code as usize).map(|s| s.as_str())
    }

    /// The raw codes, one per cell ([`MISSING_CODE`] = missing).
    pub fn codes(&self) -> &[u32] {
        &self.codes
    }

    /// The distinct categories, in order of first appearance.
    pub fn categories(&self) -> &[String] {
        &self.categories
    }

    /// Iterates over the cells as optional strings.
    pub fn iter(&self) -> impl Iterator<Item = Option<&str>> + '_ {
        self.codes
            .iter()
            .map(|&c| self.categories.get(c as usize).map(|s| s.as_str()))
    }

    /// A new column holding the rows at `indices` (same category dictionary).
    pub fn take(&self, indices: &[usize]) -> Result<Self> {
        let mut codes = Vec::with_capacity(indices.len());
        for &i in indices {
            let c = self.codes.get(i).ok_or_else(|| {
                Error::shape(
                    "categorical column take",
                    format!("row index < {}", self.codes.len()),
                    i,
                )
            })?;
            codes.push(*c);
        }
        Ok(Self {
            codes,
            categories: self.categories.clone(),
            lookup: HashMap::new(),
        })
    }

    /// Like [`take`](Self::take) with optional indices: `None` gives a missing cell
    /// (the unmatched rows of a left join).
    pub fn take_optional(&self, indices: &[Option<usize>]) -> Result<Self> {
        let mut codes = Vec::with_capacity(indices.len());
        for idx in indices {
            codes.push(match idx {
                None => MISSING_CODE,
                Some(i) => *self
                    .codes
                    .get(*i)
                    .ok_or_else(|| Error::shape("categorical column take", self.codes.len(), *i))?,
            });
        }
        Ok(Self {
            codes,
            categories: self.categories.clone(),
            lookup: HashMap::new(),
        })
    }

    /// Number of missing cells.
    pub fn n_missing(&self) -> usize {
        self.codes.iter().filter(|&&c| c == MISSING_CODE).count()
    }

    /// Count of each category (same order as [`categories`](Self::categories)).
    pub fn value_counts(&self) -> Vec<(String, usize)> {
        let mut counts = vec![0usize; self.categories.len()];
        for &c in &self.codes {
            if let Some(n) = counts.get_mut(c as usize) {
                *n += 1;
            }
        }
        self.categories.iter().cloned().zip(counts).collect()
    }
}

/// One column of a [`Table`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "values", rename_all = "snake_case")]
pub enum Column {
    /// Numbers; missing = `NaN`.
    Numeric(Vec<f64>),
    /// Dictionary-encoded strings; missing = `None`.
    Categorical(CategoricalColumn),
}

impl Column {
    /// A numeric column.
    pub fn numeric(values: Vec<f64>) -> Self {
        Column::Numeric(values)
    }

    /// A categorical column from optional strings.
    pub fn categorical_from<S: AsRef<str>>(values: &[Option<S>]) -> Self {
        Column::Categorical(CategoricalColumn::from_values(values))
    }

    /// The column's kind.
    pub fn kind(&self) -> ColumnKind {
        match self {
            Column::Numeric(_) => ColumnKind::Numeric,
            Column::Categorical(_) => ColumnKind::Categorical,
        }
    }

    /// Number of cells.
    pub fn len(&self) -> usize {
        match self {
            Column::Numeric(v) => v.len(),
            Column::Categorical(c) => c.len(),
        }
    }

    /// True when the column has no cells.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Number of missing cells.
    pub fn n_missing(&self) -> usize {
        match self {
            Column::Numeric(v) => v.iter().filter(|x| x.is_nan()).count(),
            Column::Categorical(c) => c.n_missing(),
        }
    }

    /// The numeric values, or `None` for a categorical column.
    pub fn as_numeric(&self) -> Option<&[f64]> {
        match self {
            Column::Numeric(v) => Some(v),
            Column::Categorical(_) => None,
        }
    }

    /// The categorical column, or `None` for a numeric column.
    pub fn as_categorical(&self) -> Option<&CategoricalColumn> {
        match self {
            Column::Numeric(_) => None,
            Column::Categorical(c) => Some(c),
        }
    }

    /// Whether the cell at `row` is missing (out-of-range rows count as missing).
    pub fn is_missing(&self, row: usize) -> bool {
        match self {
            Column::Numeric(v) => v.get(row).is_none_or(|x| x.is_nan()),
            Column::Categorical(c) => c.get(row).is_none(),
        }
    }

    /// A new column holding the rows at `indices`.
    pub fn take(&self, indices: &[usize]) -> Result<Self> {
        Ok(match self {
            Column::Numeric(v) => {
                let mut out = Vec::with_capacity(indices.len());
                for &i in indices {
                    out.push(
                        *v.get(i)
                            .ok_or_else(|| Error::shape("numeric column take", v.len(), i))?,
                    );
                }
                Column::Numeric(out)
            }
            Column::Categorical(c) => Column::Categorical(c.take(indices)?),
        })
    }

    /// Like [`take`](Self::take) with optional indices; `None` gives a missing cell.
    pub fn take_optional(&self, indices: &[Option<usize>]) -> Result<Self> {
        Ok(match self {
            Column::Numeric(v) => {
                let mut out = Vec::with_capacity(indices.len());
                for idx in indices {
                    out.push(match idx {
                        None => f64::NAN,
                        Some(i) => *v
                            .get(*i)
                            .ok_or_else(|| Error::shape("numeric column take", v.len(), *i))?,
                    });
                }
                Column::Numeric(out)
            }
            Column::Categorical(c) => Column::Categorical(c.take_optional(indices)?),
        })
    }
}

/// A table of named, typed columns of equal length.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Table {
    names: Vec<String>,
    columns: Vec<Column>,
    n_rows: usize,
}

impl Table {
    /// Builds a table; all columns must have the same length and distinct names.
    pub fn new(columns: Vec<(String, Column)>) -> Result<Self> {
        let mut t = Table::default();
        for (name, col) in columns {
            t.push_column(name, col)?;
        }
        Ok(t)
    }

    /// Appends a column at the end.
    pub fn push_column(&mut self, name: impl Into<String>, column: Column) -> Result<()> {
        let name = name.into();
        if self.names.contains(&name) {
            return Err(Error::InvalidArgument(format!(
                "duplicate column name `{name}`"
            )));
        }
        if !self.columns.is_empty() && column.len() != self.n_rows {
            return Err(Error::shape(
                &format!("adding column `{name}`"),
                format!("{} rows", self.n_rows),
                format!("{} rows", column.len()),
            ));
        }
        self.n_rows = column.len();
        self.names.push(name);
        self.columns.push(column);
        Ok(())
    }

    /// Number of rows.
    pub fn n_rows(&self) -> usize {
        self.n_rows
    }

    /// Number of columns.
    pub fn n_columns(&self) -> usize {
        self.columns.len()
    }

    /// Column names in order.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// Columns in order.
    pub fn columns(&self) -> &[Column] {
        &self.columns
    }

    /// (name, column) pairs in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Column)> + '_ {
        self.names
            .iter()
            .map(|s| s.as_str())
            .zip(self.columns.iter())
    }

    /// The kinds of the columns in order.
    pub fn kinds(&self) -> Vec<ColumnKind> {
        self.columns.iter().map(Column::kind).collect()
    }

    /// The position of a column, with an error naming the available columns.
    pub fn index_of(&self, name: &str, context: &str) -> Result<usize> {
        self.names
            .iter()
            .position(|n| n == name)
            .ok_or_else(|| Error::UnknownColumn {
                name: name.to_string(),
                context: context.to_string(),
                available: self.names.clone(),
            })
    }

    /// The column called `name`.
    pub fn column(&self, name: &str) -> Result<&Column> {
        let i = self.index_of(name, "column lookup")?;
        self.columns
            .get(i)
            .ok_or_else(|| Error::InvalidArgument(format!("column `{name}` vanished")))
    }

    /// Mutable access to the column called `name`.
    pub fn column_mut(&mut self, name: &str) -> Result<&mut Column> {
        let i = self.index_of(name, "column lookup")?;
        self.columns
            .get_mut(i)
            .ok_or_else(|| Error::InvalidArgument(format!("column `{name}` vanished")))
    }

    /// Replaces the column called `name` with one of the same length (the kind may change).
    pub fn replace_column(&mut self, name: &str, column: Column) -> Result<()> {
        if column.len() != self.n_rows {
            return Err(Error::shape(
                &format!("replacing column `{name}`"),
                format!("{} rows", self.n_rows),
                format!("{} rows", column.len()),
            ));
        }
        *self.column_mut(name)? = column;
        Ok(())
    }

    /// A new table with only the named columns, in the order given.
    pub fn select(&self, names: &[&str]) -> Result<Table> {
        let mut t = Table::default();
        for &n in names {
            let i = self.index_of(n, "select")?;
            if let Some(c) = self.columns.get(i) {
                t.push_column(n, c.clone())?;
            }
        }
        t.n_rows = self.n_rows;
        Ok(t)
    }

    /// A new table without the named columns.
    pub fn drop(&self, names: &[&str]) -> Result<Table> {
        for &n in names {
            self.index_of(n, "drop")?;
        }
        let mut t = Table::default();
        for (n, c) in self.iter() {
            if !names.contains(&n) {
                t.push_column(n, c.clone())?;
            }
        }
        t.n_rows = self.n_rows;
        Ok(t)
    }

    /// Renames one column in place.
    pub fn rename(&mut self, from: &str, to: &str) -> Result<()> {
        let i = self.index_of(from, "rename")?;
        if from != to && self.names.iter().any(|n| n == to) {
            return Err(Error::InvalidArgument(format!(
                "cannot rename `{from}` to `{to}`: a column `{to}` already exists"
            )));
        }
        if let Some(n) = self.names.get_mut(i) {
            *n = to.to_string();
        }
        Ok(())
    }

    /// A new table with the rows at `indices` (in that order; repeats allowed).
    pub fn take_rows(&self, indices: &[usize]) -> Result<Table> {
        let mut t = Table::default();
        for (n, c) in self.iter() {
            t.push_column(n, c.take(indices)?)?;
        }
        t.n_rows = indices.len();
        Ok(t)
    }

    /// Missing-cell count per column, in column order.
    pub fn missing_counts(&self) -> Vec<(String, usize)> {
        self.iter()
            .map(|(n, c)| (n.to_string(), c.n_missing()))
            .collect()
    }

    /// Names of the columns of one kind, in order.
    pub fn names_of_kind(&self, kind: ColumnKind) -> Vec<String> {
        self.iter()
            .filter(|(_, c)| c.kind() == kind)
            .map(|(n, _)| n.to_string())
            .collect()
    }

    /// Consumes the table into (name, column) pairs.
    pub fn into_columns(self) -> Vec<(String, Column)> {
        self.names.into_iter().zip(self.columns).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Table {
        Table::new(vec![
            ("a".into(), Column::numeric(vec![1.0, f64::NAN, 3.0])),
            (
                "b".into(),
                Column::categorical_from(&[Some("x"), None, Some("x")]),
            ),
            ("c".into(), Column::numeric(vec![4.0, 5.0, 6.0])),
        ])
        .unwrap()
    }

    #[test]
    fn select_drop_rename() {
        let mut t = sample();
        let s = t.select(&["c", "a"]).unwrap();
        assert_eq!(s.names(), &["c".to_string(), "a".to_string()]);
        let d = t.drop(&["b"]).unwrap();
        assert_eq!(d.names(), &["a".to_string(), "c".to_string()]);
        t.rename("a", "z").unwrap();
        assert_eq!(t.names()[0], "z");
        assert!(t.rename("z", "c").is_err());
        assert!(matches!(
            t.select(&["nope"]),
            Err(Error::UnknownColumn { .. })
        ));
    }

    #[test]
    fn missing_and_categories() {
        let t = sample();
        assert_eq!(
            t.missing_counts(),
            vec![("a".into(), 1), ("b".into(), 1), ("c".into(), 0)]
        );
        let b = t.column("b").unwrap().as_categorical().unwrap();
        assert_eq!(b.categories(), &["x".to_string()]);
        assert_eq!(b.value_counts(), vec![("x".to_string(), 2)]);
        assert_eq!(b.get(1), None);
    }

    #[test]
    fn length_mismatch_is_error() {
        let mut t = sample();
        assert!(t.push_column("d", Column::numeric(vec![1.0])).is_err());
        assert!(t.push_column("a", Column::numeric(vec![1.0; 3])).is_err());
    }

    #[test]
    fn take_rows_repeats_and_bounds() {
        let t = sample();
        let r = t.take_rows(&[2, 2, 0]).unwrap();
        assert_eq!(r.n_rows(), 3);
        assert_eq!(
            r.column("c").unwrap().as_numeric().unwrap(),
            &[6.0, 6.0, 4.0]
        );
        assert!(t.take_rows(&[3]).is_err());
    }
}
