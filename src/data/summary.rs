//! Summary statistics per column (stub: being written).

use crate::data::table::{ColumnKind, Table};
use crate::error::Result;

/// Summary of one column.
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnSummary {
    /// Column name.
    pub name: String,
    /// Column kind.
    pub kind: ColumnKind,
}

/// Summarises every column of a table.
pub fn describe(table: &Table) -> Result<Vec<ColumnSummary>> {
    Ok(table
        .iter()
        .map(|(n, c)| ColumnSummary {
            name: n.to_string(),
            kind: c.kind(),
        })
        .collect())
}
