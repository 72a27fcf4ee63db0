//! The one error type of amlis.
//!
//! Every fallible function in the crate returns [`Result<T>`]. Each variant's message says what
//! was wrong, where (file, line, row, column or parameter) and what was expected, so that the
//! message alone lets a user fix the input. The C ABI maps each variant onto one `AmlisStatus`
//! code.

use std::path::PathBuf;

/// The result type of every fallible amlis function.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in amlis.
///
/// The enum is `#[non_exhaustive]`: new variants may be added in minor releases, so a `match`
/// on it needs a wildcard arm.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading or writing a file failed at the operating-system level.
    #[error("I/O error on `{path}`: {source}")]
    Io {
        /// The file involved.
        path: PathBuf,
        /// The underlying operating-system error.
        #[source]
        source: std::io::Error,
    },

    /// A text input (CSV, JSON) could not be parsed.
    #[error("{origin}: line {line}{}: {message}", column.as_ref().map(|c| format!(", column `{c}`")).unwrap_or_default())]
    Parse {
        /// The file name, or a description such as `<buffer>`.
        origin: String,
        /// The 1-based line number (the header is line 1).
        line: u64,
        /// The column involved, when known.
        column: Option<String>,
        /// What was wrong and what was expected.
        message: String,
    },

    /// A column name that the table does not have.
    #[error("unknown column `{name}` in {context}; available columns: {}", available.join(", "))]
    UnknownColumn {
        /// The name that was asked for.
        name: String,
        /// Where it was asked for (e.g. "select", "join right key").
        context: String,
        /// The columns that do exist.
        available: Vec<String>,
    },

    /// A column has the wrong kind for the operation (e.g. a categorical target for regression).
    #[error("column `{column}` in {context} is {found}, expected {expected}")]
    ColumnKind {
        /// The column involved.
        column: String,
        /// Where it happened.
        context: String,
        /// The kind that was found.
        found: String,
        /// The kind that was expected.
        expected: String,
    },

    /// Array lengths or column counts do not agree.
    #[error("shape mismatch in {context}: expected {expected}, found {found}")]
    Shape {
        /// Where it happened.
        context: String,
        /// What was expected (e.g. "4 columns").
        expected: String,
        /// What was found.
        found: String,
    },

    /// A value that the operation cannot take: NaN, infinity, a missing target, a negative weight.
    #[error("invalid value in {context} at row {row}{}: {message}", column.as_ref().map(|c| format!(", column `{c}`")).unwrap_or_default())]
    InvalidValue {
        /// Where it happened.
        context: String,
        /// The 0-based row index.
        row: usize,
        /// The column, when there is one.
        column: Option<String>,
        /// What was wrong and what was expected.
        message: String,
    },

    /// A hyperparameter outside its allowed range.
    #[error("invalid parameter `{name}` = {value}: expected {expected}")]
    InvalidParameter {
        /// The parameter name (scikit-learn's name where it has one).
        name: String,
        /// The value that was given.
        value: String,
        /// The allowed range or set.
        expected: String,
    },

    /// Any other invalid argument, with a message that says what and where.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),

    /// The input is empty where at least one row or column is needed.
    #[error("empty input in {0}")]
    Empty(String),

    /// A training configuration key that is unknown, has the wrong type or an invalid value.
    #[error("config error at `{key}`: {message}")]
    Config {
        /// The JSON path of the offending key (e.g. `model.C`).
        key: String,
        /// What was wrong and what was expected.
        message: String,
    },

    /// A model file or buffer that is truncated, fails its checksum or holds inconsistent data.
    #[error("model data is corrupt: {0}")]
    ModelCorrupt(String),

    /// A model file written by a format version this reader does not support.
    #[error("model format version {found} is not supported; this reader supports {supported}")]
    ModelVersion {
        /// The version found in the file, as `major.minor`.
        found: String,
        /// The supported range, as text.
        supported: String,
    },

    /// A caller-provided buffer is too small.
    #[error("buffer too small for {context}: need {needed}, got {got}")]
    BufferTooSmall {
        /// What was being written.
        context: String,
        /// The size needed.
        needed: usize,
        /// The size given.
        got: usize,
    },

    /// An operation the model or transformer does not support (e.g. probabilities from a regressor).
    #[error("unsupported: {0}")]
    Unsupported(String),

    /// A supervised trainer was given rows without a label (a `NaN` target: a missing target
    /// cell). Only the semi-supervised models learn from unlabeled rows.
    #[error(
        "model `{model}` needs a label on every training row, but {count} row(s) are unlabeled \
         (the first is row {first_row}); drop them, or train a semi-supervised model \
         (self_training_classifier, label_propagation, label_spreading)"
    )]
    UnlabeledRows {
        /// The model's config `type`.
        model: String,
        /// How many training rows have no label.
        count: usize,
        /// The first of them (0-based, a position in the training data).
        first_row: usize,
    },

    /// The fit was stopped by the fit callback.
    #[error("training cancelled by the callback at {0}")]
    Cancelled(String),
}

impl Error {
    /// Shorthand for an [`Error::InvalidParameter`].
    pub fn param(name: &str, value: impl std::fmt::Display, expected: &str) -> Self {
        Error::InvalidParameter {
            name: name.to_string(),
            value: value.to_string(),
            expected: expected.to_string(),
        }
    }

    /// The parameter an [`Error::InvalidParameter`] names, `None` for every other error:
    /// what a caller highlights in a form or a config editor.
    ///
    /// ```
    /// use amlis::Error;
    ///
    /// let e = Error::param("alpha", -1, "a non-negative number");
    /// assert_eq!(e.parameter(), Some("alpha"));
    /// assert_eq!(Error::Cancelled("by the callback".into()).parameter(), None);
    /// ```
    pub fn parameter(&self) -> Option<&str> {
        match self {
            Error::InvalidParameter { name, .. } => Some(name),
            _ => None,
        }
    }

    /// Shorthand for an [`Error::Shape`].
    pub fn shape(
        context: &str,
        expected: impl std::fmt::Display,
        found: impl std::fmt::Display,
    ) -> Self {
        Error::Shape {
            context: context.to_string(),
            expected: expected.to_string(),
            found: found.to_string(),
        }
    }
}
