//! [`Step`] and [`FittedStep`]: one enum over every preprocessing step, as a pipeline stores
//! them and a JSON training config names them (`"type"` is scikit-learn's class name in
//! snake_case; the other keys are the step's parameters; an unknown key is an error).

use serde::{Deserialize, Serialize};

use super::encoder::{FittedOneHotEncoder, FittedOrdinalEncoder, OneHotEncoder, OrdinalEncoder};
use super::imputer::{FittedSimpleImputer, SimpleImputer};
use super::normalizer::{FittedNormalizer, Normalizer};
use super::scaler::{
    FittedMinMaxScaler, FittedRobustScaler, FittedStandardScaler, MinMaxScaler, NumericScaler,
    RobustScaler, StandardScaler,
};
use crate::data::Table;
use crate::error::Result;
use crate::traits::{FittedTransformer, Transformer};

/// The settings of any preprocessing step.
///
/// ```
/// use amlis::preprocess::Step;
///
/// let steps: Vec<Step> = serde_json::from_str(
///     r#"[{"type": "simple_imputer", "strategy": "median"},
///         {"type": "one_hot_encoder", "handle_unknown": "ignore"},
///         {"type": "standard_scaler"}]"#,
/// )?;
/// assert_eq!(steps[2].type_name(), "standard_scaler");
/// assert!(serde_json::from_str::<Step>(r#"{"type": "standard_scaler", "with_mena": true}"#).is_err());
/// # Ok::<(), serde_json::Error>(())
/// ```
///
/// The enum is `#[non_exhaustive]`: later releases add steps.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Step {
    /// See [`StandardScaler`].
    StandardScaler(StandardScaler),
    /// See [`MinMaxScaler`].
    MinMaxScaler(MinMaxScaler),
    /// See [`RobustScaler`].
    RobustScaler(RobustScaler),
    /// See [`Normalizer`].
    Normalizer(Normalizer),
    /// See [`SimpleImputer`].
    SimpleImputer(SimpleImputer),
    /// See [`OneHotEncoder`].
    OneHotEncoder(OneHotEncoder),
    /// See [`OrdinalEncoder`].
    OrdinalEncoder(OrdinalEncoder),
}

/// A fitted preprocessing step of any kind (`#[non_exhaustive]`, as [`Step`]).
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum FittedStep {
    /// See [`FittedStandardScaler`].
    StandardScaler(FittedStandardScaler),
    /// See [`FittedMinMaxScaler`].
    MinMaxScaler(FittedMinMaxScaler),
    /// See [`FittedRobustScaler`].
    RobustScaler(FittedRobustScaler),
    /// See [`FittedNormalizer`].
    Normalizer(FittedNormalizer),
    /// See [`FittedSimpleImputer`].
    SimpleImputer(FittedSimpleImputer),
    /// See [`FittedOneHotEncoder`].
    OneHotEncoder(FittedOneHotEncoder),
    /// See [`FittedOrdinalEncoder`].
    OrdinalEncoder(FittedOrdinalEncoder),
}

/// Runs `$body` with `$s` bound to the inner value of any variant of `$enum`.
macro_rules! each_variant {
    ($enum:ident, $value:expr, $s:ident => $body:expr) => {
        match $value {
            $enum::StandardScaler($s) => $body,
            $enum::MinMaxScaler($s) => $body,
            $enum::RobustScaler($s) => $body,
            $enum::Normalizer($s) => $body,
            $enum::SimpleImputer($s) => $body,
            $enum::OneHotEncoder($s) => $body,
            $enum::OrdinalEncoder($s) => $body,
        }
    };
}

/// The `type` name of each variant, shared by both enums.
macro_rules! type_name {
    ($enum:ident, $value:expr) => {
        match $value {
            $enum::StandardScaler(_) => "standard_scaler",
            $enum::MinMaxScaler(_) => "min_max_scaler",
            $enum::RobustScaler(_) => "robust_scaler",
            $enum::Normalizer(_) => "normalizer",
            $enum::SimpleImputer(_) => "simple_imputer",
            $enum::OneHotEncoder(_) => "one_hot_encoder",
            $enum::OrdinalEncoder(_) => "ordinal_encoder",
        }
    };
}

impl Step {
    /// The step's `type` name, as in a JSON config.
    pub fn type_name(&self) -> &'static str {
        type_name!(Step, self)
    }
}

impl FittedStep {
    /// The step's `type` name, as in a JSON config.
    pub fn type_name(&self) -> &'static str {
        type_name!(FittedStep, self)
    }

    /// The fast row / array paths when the step is a numeric scaler.
    pub fn as_numeric_scaler(&self) -> Option<&dyn NumericScaler> {
        match self {
            FittedStep::StandardScaler(s) => Some(s),
            FittedStep::MinMaxScaler(s) => Some(s),
            FittedStep::RobustScaler(s) => Some(s),
            _ => None,
        }
    }
}

impl Transformer for Step {
    type Fitted = FittedStep;

    fn fit(&self, table: &Table) -> Result<FittedStep> {
        Ok(match self {
            Step::StandardScaler(s) => FittedStep::StandardScaler(s.fit(table)?),
            Step::MinMaxScaler(s) => FittedStep::MinMaxScaler(s.fit(table)?),
            Step::RobustScaler(s) => FittedStep::RobustScaler(s.fit(table)?),
            Step::Normalizer(s) => FittedStep::Normalizer(s.fit(table)?),
            Step::SimpleImputer(s) => FittedStep::SimpleImputer(s.fit(table)?),
            Step::OneHotEncoder(s) => FittedStep::OneHotEncoder(s.fit(table)?),
            Step::OrdinalEncoder(s) => FittedStep::OrdinalEncoder(s.fit(table)?),
        })
    }
}

impl FittedTransformer for FittedStep {
    fn transform(&self, table: &Table) -> Result<Table> {
        each_variant!(FittedStep, self, s => s.transform(table))
    }
}

macro_rules! step_from {
    ($($variant:ident),*) => {$(
        impl From<$variant> for Step {
            fn from(s: $variant) -> Self {
                Step::$variant(s)
            }
        }
    )*};
}

step_from!(
    StandardScaler,
    MinMaxScaler,
    RobustScaler,
    Normalizer,
    SimpleImputer,
    OneHotEncoder,
    OrdinalEncoder
);
