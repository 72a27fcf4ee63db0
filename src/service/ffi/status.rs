//! Status codes returned by every fallible export, the output kinds of prediction, and the
//! mapping from [`crate::Error`] onto status codes.

use crate::error::Error;

/// The result of every fallible amlis C function. `AMLIS_OK` (0) is success; every other value
/// names a class of failure, and `amlis_last_error_message()` then gives this thread's message
/// saying what was wrong, where and what was expected.
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AmlisStatus {
    /// Success.
    AMLIS_OK = 0,
    /// A pointer argument that must not be NULL was NULL; the message names the argument.
    AMLIS_NULL_ARGUMENT,
    /// An argument has an invalid value: bad UTF-8, a size whose arithmetic overflows, invalid
    /// data values (NaN where none may be, a missing target, a malformed CSV cell), an unknown
    /// column.
    AMLIS_INVALID_ARGUMENT,
    /// Lengths or column counts do not agree (e.g. `y_len != n_rows`).
    AMLIS_SHAPE_MISMATCH,
    /// A caller-provided buffer is too small; `*out_len` holds the size needed.
    AMLIS_BUFFER_TOO_SMALL,
    /// Reading or writing a file failed at the operating-system level.
    AMLIS_IO_ERROR,
    /// A model file or buffer is truncated, fails its checksum or holds inconsistent data.
    AMLIS_MODEL_CORRUPT,
    /// A model file was written by a format version this library does not read.
    AMLIS_MODEL_VERSION,
    /// A JSON options or training configuration is malformed, has an unknown key or an
    /// out-of-range value; the message names the key.
    AMLIS_CONFIG_ERROR,
    /// The operation is not supported (e.g. probabilities from a regressor).
    AMLIS_UNSUPPORTED,
    /// A bug: amlis panicked. The panic was caught at the C boundary; the message holds the
    /// panic message. Please report it.
    AMLIS_PANIC,
}

impl AmlisStatus {
    /// The status code that a C caller sees for this error.
    ///
    /// The match is exhaustive on purpose (no wildcard): a new [`Error`] variant must choose
    /// its status here.
    pub fn of(error: &Error) -> Self {
        match error {
            Error::Io { .. } => Self::AMLIS_IO_ERROR,
            Error::Shape { .. } => Self::AMLIS_SHAPE_MISMATCH,
            // Malformed input data (a CSV cell, a ragged row), values the operation cannot take,
            // unknown columns, wrong column kinds and empty inputs are all bad arguments.
            Error::Parse { .. }
            | Error::UnknownColumn { .. }
            | Error::ColumnKind { .. }
            | Error::InvalidValue { .. }
            | Error::InvalidArgument(_)
            | Error::Empty(_)
            | Error::UnlabeledRows { .. } => Self::AMLIS_INVALID_ARGUMENT,
            // From C, hyperparameters always arrive through a JSON configuration.
            Error::InvalidParameter { .. } | Error::Config { .. } => Self::AMLIS_CONFIG_ERROR,
            Error::ModelCorrupt(_) => Self::AMLIS_MODEL_CORRUPT,
            Error::ModelVersion { .. } => Self::AMLIS_MODEL_VERSION,
            Error::BufferTooSmall { .. } => Self::AMLIS_BUFFER_TOO_SMALL,
            Error::Unsupported(_) => Self::AMLIS_UNSUPPORTED,
            // The C ABI has no fit callback yet, so a cancellation cannot reach it; should one
            // arrive, the caller asked for something that was not carried out.
            Error::Cancelled(_) => Self::AMLIS_INVALID_ARGUMENT,
        }
    }
}

impl From<&Error> for AmlisStatus {
    fn from(error: &Error) -> Self {
        Self::of(error)
    }
}

/// What a prediction writes per row: `AMLIS_OUTPUT_VALUE` (0) a class index, regression
/// value or cluster label; `AMLIS_OUTPUT_PROBA` (1) `n_classes` probabilities;
/// `AMLIS_OUTPUT_TRANSFORM` (2) the model's output columns; `AMLIS_OUTPUT_SCORE` (3) per-row
/// scores (decision function, raw margins, anomaly scores). `amlis_model_n_outputs` gives the
/// values per row of each kind.
///
/// In C this is a `uint32_t`, not an `enum`: a value that is none of the constants is then an
/// `AMLIS_INVALID_ARGUMENT` error instead of undefined behaviour. (Rust code converts it with
/// `OutputKind::from_raw`.)
pub type AmlisOutput = u32;

/// Prediction output: one value per row (class index, regression value, cluster label).
pub const AMLIS_OUTPUT_VALUE: AmlisOutput = 0;

/// Prediction output: `n_classes` probabilities per row.
pub const AMLIS_OUTPUT_PROBA: AmlisOutput = 1;

/// Prediction output: the model's output columns (`transform`, e.g. PCA components).
pub const AMLIS_OUTPUT_TRANSFORM: AmlisOutput = 2;

/// Prediction output: per-row scores (decision function, raw margins, anomaly scores).
pub const AMLIS_OUTPUT_SCORE: AmlisOutput = 3;

/// The Rust view of an [`AmlisOutput`] value: the pipeline's [`PredictKind`].
pub use crate::models::PredictKind as OutputKind;
use crate::models::PredictKind;

impl PredictKind {
    /// Converts a raw [`AmlisOutput`] from C; any other value is an
    /// [`Error::InvalidArgument`] naming the argument.
    pub fn from_raw(raw: AmlisOutput, argument: &str) -> crate::Result<Self> {
        match raw {
            AMLIS_OUTPUT_VALUE => Ok(Self::Value),
            AMLIS_OUTPUT_PROBA => Ok(Self::Proba),
            AMLIS_OUTPUT_TRANSFORM => Ok(Self::Transform),
            AMLIS_OUTPUT_SCORE => Ok(Self::Score),
            other => Err(Error::InvalidArgument(format!(
                "argument `{argument}` = {other} is not an output kind; expected \
                 AMLIS_OUTPUT_VALUE (0), AMLIS_OUTPUT_PROBA (1), AMLIS_OUTPUT_TRANSFORM (2) or \
                 AMLIS_OUTPUT_SCORE (3)"
            ))),
        }
    }

    /// The C value of this kind.
    pub fn to_raw(self) -> AmlisOutput {
        match self {
            Self::Value => AMLIS_OUTPUT_VALUE,
            Self::Proba => AMLIS_OUTPUT_PROBA,
            Self::Transform => AMLIS_OUTPUT_TRANSFORM,
            Self::Score => AMLIS_OUTPUT_SCORE,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_codes_are_stable() {
        assert_eq!(AmlisStatus::AMLIS_OK as i32, 0);
        assert_eq!(AmlisStatus::AMLIS_NULL_ARGUMENT as i32, 1);
        assert_eq!(AmlisStatus::AMLIS_CONFIG_ERROR as i32, 8);
        assert_eq!(AmlisStatus::AMLIS_PANIC as i32, 10);
    }

    #[test]
    fn errors_map_to_their_status() {
        let io = Error::Io {
            path: "x".into(),
            source: std::io::Error::from(std::io::ErrorKind::NotFound),
        };
        assert_eq!(AmlisStatus::of(&io), AmlisStatus::AMLIS_IO_ERROR);
        assert_eq!(
            AmlisStatus::of(&Error::shape("y", 3, 4)),
            AmlisStatus::AMLIS_SHAPE_MISMATCH
        );
        assert_eq!(
            AmlisStatus::of(&Error::param("C", -1, "> 0")),
            AmlisStatus::AMLIS_CONFIG_ERROR
        );
        assert_eq!(
            AmlisStatus::of(&Error::ModelCorrupt("x".into())),
            AmlisStatus::AMLIS_MODEL_CORRUPT
        );
        assert_eq!(
            AmlisStatus::of(&Error::Unsupported("x".into())),
            AmlisStatus::AMLIS_UNSUPPORTED
        );
    }

    #[test]
    fn output_kind_rejects_unknown_values() {
        assert_eq!(OutputKind::from_raw(0, "kind").unwrap(), OutputKind::Value);
        assert_eq!(OutputKind::from_raw(1, "kind").unwrap(), OutputKind::Proba);
        for kind in PredictKind::ALL {
            assert_eq!(OutputKind::from_raw(kind.to_raw(), "kind").unwrap(), kind);
        }
        assert_eq!(AMLIS_OUTPUT_TRANSFORM, 2);
        assert_eq!(AMLIS_OUTPUT_SCORE, 3);
        let err = OutputKind::from_raw(7, "kind").unwrap_err().to_string();
        assert!(err.contains("`kind` = 7"), "{err}");
    }
}
