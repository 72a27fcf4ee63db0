//! CSV reading into typed [`Table`]s (stub: being written).

use std::collections::HashMap;
use std::path::Path;

use crate::data::table::{ColumnKind, Table};
use crate::error::{Error, Result};

/// Options of the CSV reader.
#[derive(Debug, Clone)]
pub struct CsvOptions {
    /// Field delimiter (default `b','`).
    pub delimiter: u8,
    /// Quote character (default `b'"'`).
    pub quote: u8,
    /// Cell texts that mean "missing" (default `""`, `NA`, `N/A`, `NaN`, `nan`, `null`, `NULL`, `?`).
    pub missing_tokens: Vec<String>,
    /// Explicit kinds for some columns, overriding inference.
    pub column_kinds: HashMap<String, ColumnKind>,
}

impl Default for CsvOptions {
    fn default() -> Self {
        Self {
            delimiter: b',',
            quote: b'"',
            missing_tokens: ["", "NA", "N/A", "NaN", "nan", "null", "NULL", "?"]
                .iter()
                .map(|s| s.to_string())
                .collect(),
            column_kinds: HashMap::new(),
        }
    }
}

/// Reads a CSV file with a header row into a [`Table`].
pub fn read_csv(path: impl AsRef<Path>, options: &CsvOptions) -> Result<Table> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    read_csv_bytes(&bytes, &path.display().to_string(), options)
}

/// Reads CSV text held in memory; `origin` names it in error messages.
pub fn read_csv_bytes(bytes: &[u8], origin: &str, options: &CsvOptions) -> Result<Table> {
    let _ = (bytes, options);
    Err(Error::Unsupported(format!(
        "{origin}: CSV reading is not written yet"
    )))
}
