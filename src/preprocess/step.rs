//! The step registry: [`Step`] (every step's settings, chosen by its config `type`) and
//! [`FittedStep`] (every fitted step), generated from one list so that adding a step is one
//! line here (see the [module docs](super) for the rest). `"type"` is scikit-learn's class
//! name in snake_case; the other keys are the step's parameters; an unknown key is an error.

use serde::{Deserialize, Serialize};

use super::encoder::{FittedOneHotEncoder, FittedOrdinalEncoder, OneHotEncoder, OrdinalEncoder};
use super::imputer::{FittedSimpleImputer, SimpleImputer};
use super::normalizer::{FittedNormalizer, Normalizer};
use super::pca::FittedPca;
use super::row::{RowKernel, RowSlot, RowStep};
use super::scaler::{
    FittedMinMaxScaler, FittedRobustScaler, FittedStandardScaler, MinMaxScaler, NumericScaler,
    RobustScaler, StandardScaler,
};
use crate::common::pca::Pca;
use crate::data::Table;
use crate::error::{Error, Result};
use crate::traits::{FittedTransformer, Transformer};

/// Generates [`Step`], [`FittedStep`] and everything that dispatches over them from the list
/// `Variant(Settings => Fitted) = "type_name"`. `Settings` must implement
/// [`Transformer<Fitted = Fitted>`](Transformer) and serde; `Fitted` must implement
/// [`FittedTransformer`], [`RowStep`] (its row path) and serde.
macro_rules! step_registry {
    ( $( $variant:ident ( $settings:ident => $fitted:ident ) = $name:literal, )* ) => {
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
        #[serde(tag = "type")]
        pub enum Step {
            $(
                #[doc = concat!("`", $name, "`: see [`", stringify!($settings), "`].")]
                #[serde(rename = $name)]
                $variant($settings),
            )*
        }

        /// A fitted preprocessing step of any kind (`#[non_exhaustive]`, as [`Step`]).
        #[non_exhaustive]
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        #[serde(tag = "type")]
        pub enum FittedStep {
            $(
                #[doc = concat!("A fitted `", $name, "`: see [`", stringify!($fitted), "`].")]
                #[serde(rename = $name)]
                $variant($fitted),
            )*
        }

        impl Step {
            /// The step's `type` name, as in a JSON config.
            pub fn type_name(&self) -> &'static str {
                match self {
                    $( Step::$variant(_) => $name, )*
                }
            }

            /// Every step `type` name, in registry order.
            pub fn type_names() -> &'static [&'static str] {
                &[$( $name, )*]
            }

            /// Parses a step from its `type` and a JSON object of parameters, reporting the
            /// exact key of an error under `at` (`preprocess.1.strategy`, or
            /// `preprocess.1.type` for an unknown type), as
            /// [`ModelConfig::from_json_parts`](crate::models::ModelConfig::from_json_parts)
            /// does under `model`.
            ///
            /// ```
            /// use amlis::preprocess::Step;
            ///
            /// let params = serde_json::json!({"strategy": "meen"});
            /// match Step::from_json_parts("simple_imputer", params, "preprocess.1") {
            ///     Err(amlis::Error::Config { key, .. }) => assert_eq!(key, "preprocess.1.strategy"),
            ///     other => panic!("{other:?}"),
            /// }
            /// ```
            pub fn from_json_parts(
                type_name: &str,
                params: serde_json::Value,
                at: &str,
            ) -> Result<Self> {
                fn parse<T: serde::de::DeserializeOwned>(
                    v: serde_json::Value,
                    at: &str,
                ) -> Result<T> {
                    serde_path_to_error::deserialize(v).map_err(|e| {
                        let path = e.path().to_string();
                        let key = if path == "." {
                            at.to_string()
                        } else {
                            format!("{at}.{path}")
                        };
                        Error::Config {
                            key,
                            message: e.inner().to_string(),
                        }
                    })
                }
                match type_name {
                    $( $name => Ok(Step::$variant(parse(params, at)?)), )*
                    other => Err(Error::Config {
                        key: format!("{at}.type"),
                        message: format!(
                            "unknown step type `{other}`; known types: {}",
                            Self::type_names().join(", ")
                        ),
                    }),
                }
            }
        }

        impl Transformer for Step {
            type Fitted = FittedStep;

            fn fit(&self, table: &Table) -> Result<FittedStep> {
                match self {
                    $( Step::$variant(s) => Ok(FittedStep::$variant(s.fit(table)?)), )*
                }
            }

            fn fit_transform(&self, table: &Table) -> Result<(FittedStep, Table)> {
                match self {
                    $(
                        Step::$variant(s) => {
                            let (fitted, out) = s.fit_transform(table)?;
                            Ok((FittedStep::$variant(fitted), out))
                        }
                    )*
                }
            }
        }

        $(
            impl From<$settings> for Step {
                fn from(s: $settings) -> Self {
                    Step::$variant(s)
                }
            }
        )*

        impl FittedStep {
            /// The step's `type` name, as in a JSON config.
            pub fn type_name(&self) -> &'static str {
                match self {
                    $( FittedStep::$variant(_) => $name, )*
                }
            }

            /// The fitted step as its row path sees it.
            fn as_row_step(&self) -> &dyn RowStep {
                match self {
                    $( FittedStep::$variant(s) => s, )*
                }
            }
        }

        impl FittedTransformer for FittedStep {
            fn transform(&self, table: &Table) -> Result<Table> {
                match self {
                    $( FittedStep::$variant(s) => s.transform(table), )*
                }
            }
        }
    };
}

step_registry! {
    StandardScaler(StandardScaler => FittedStandardScaler) = "standard_scaler",
    MinMaxScaler(MinMaxScaler => FittedMinMaxScaler) = "min_max_scaler",
    RobustScaler(RobustScaler => FittedRobustScaler) = "robust_scaler",
    Normalizer(Normalizer => FittedNormalizer) = "normalizer",
    SimpleImputer(SimpleImputer => FittedSimpleImputer) = "simple_imputer",
    OneHotEncoder(OneHotEncoder => FittedOneHotEncoder) = "one_hot_encoder",
    OrdinalEncoder(OrdinalEncoder => FittedOrdinalEncoder) = "ordinal_encoder",
    Pca(Pca => FittedPca) = "pca",
}

impl FittedStep {
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

impl RowStep for FittedStep {
    fn name(&self) -> &'static str {
        self.type_name()
    }

    fn compile_row(&self, layout: &[RowSlot]) -> Result<Box<dyn RowKernel>> {
        self.as_row_step().compile_row(layout)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::Column;

    /// Every registered step, fitted with default settings on a small mixed table.
    fn fitted_defaults() -> Vec<FittedStep> {
        let t = Table::new(vec![
            ("x".into(), Column::numeric(vec![1.0, 2.5, 4.0])),
            (
                "c".into(),
                Column::categorical_from(&[Some("a"), Some("b"), Some("a")]),
            ),
        ])
        .unwrap();
        Step::type_names()
            .iter()
            .map(|name| {
                let step = Step::from_json_parts(name, serde_json::json!({}), "s").unwrap();
                assert_eq!(step.type_name(), *name);
                step.fit(&t).unwrap()
            })
            .collect()
    }

    #[test]
    fn every_step_names_itself_as_the_registry_does() {
        let fitted = fitted_defaults();
        assert_eq!(fitted.len(), Step::type_names().len());
        for f in &fitted {
            assert_eq!(f.as_row_step().name(), f.type_name());
        }
    }

    #[test]
    fn the_serde_tag_is_the_registry_name() {
        for f in fitted_defaults() {
            let v = serde_json::to_value(&f).unwrap();
            assert_eq!(v["type"], f.type_name());
        }
    }

    #[test]
    fn json_errors_name_the_exact_key() {
        let err = |t: &str, v: serde_json::Value| match Step::from_json_parts(t, v, "preprocess.1")
        {
            Err(Error::Config { key, message }) => (key, message),
            other => panic!("{other:?}"),
        };
        let (key, _) = err("simple_imputer", serde_json::json!({"strategy": "meen"}));
        assert_eq!(key, "preprocess.1.strategy");
        // An unknown key is named as the model section names one (`model.strategee`).
        let (key, message) = err("simple_imputer", serde_json::json!({"strategee": "mean"}));
        assert_eq!(key, "preprocess.1.strategee");
        assert!(message.contains("unknown field `strategee`"), "{message}");
        let (key, message) = err("standard_scalar", serde_json::json!({}));
        assert_eq!(key, "preprocess.1.type");
        assert!(message.contains("standard_scaler"), "{message}");
        let (key, _) = err(
            "min_max_scaler",
            serde_json::json!({"feature_range": [0, "a"]}),
        );
        assert_eq!(key, "preprocess.1.feature_range[1]");
    }
}
