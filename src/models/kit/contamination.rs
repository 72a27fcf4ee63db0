//! The expected share of outliers, shared by the outlier detectors (isolation forest, local
//! outlier factor).

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The expected share of outliers, as scikit-learn's `contamination`: `"auto"` (the
/// detector's own threshold from its paper) or a fraction in `(0, 0.5]` (the offset is that
/// percentile of the training scores).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Contamination {
    /// A fraction in `(0, 0.5]`.
    Fraction(f64),
    /// `"auto"`.
    Auto(String),
}

impl Default for Contamination {
    fn default() -> Self {
        Contamination::Auto("auto".into())
    }
}

impl Contamination {
    /// The checked fraction: `None` for `"auto"`, else the fraction; any other value is an
    /// error naming `contamination`.
    pub fn fraction(&self) -> Result<Option<f64>> {
        match self {
            Contamination::Auto(s) if s == "auto" => Ok(None),
            Contamination::Fraction(c) if *c > 0.0 && *c <= 0.5 => Ok(Some(*c)),
            Contamination::Fraction(c) => Err(Error::param(
                "contamination",
                c,
                "\"auto\" or a fraction in (0, 0.5]",
            )),
            Contamination::Auto(s) => Err(Error::param(
                "contamination",
                format!("{s:?}"),
                "\"auto\" or a fraction in (0, 0.5]",
            )),
        }
    }
}
