//! Joining tables on key columns (stub: being written).

use crate::data::table::Table;
use crate::error::{Error, Result};

/// Inner or left join.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum JoinKind {
    /// Rows whose keys appear on both sides.
    #[default]
    Inner,
    /// Every left row; unmatched right columns are missing.
    Left,
}

/// How to join.
#[derive(Debug, Clone, Default)]
pub struct JoinOptions {
    /// Key columns (same names on both sides).
    pub on: Vec<String>,
    /// Inner or left.
    pub kind: JoinKind,
}

/// Joins two tables.
pub fn join(left: &Table, right: &Table, options: &JoinOptions) -> Result<Table> {
    let _ = (left, right, options);
    Err(Error::Unsupported("join is not written yet".into()))
}
