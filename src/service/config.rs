//! The JSON training config: which model, which preprocessing steps, which seed.
//!
//! ```json
//! {
//!   "model": {"type": "logistic_regression", "C": 1.0, "max_iter": 200},
//!   "preprocess": [{"type": "simple_imputer", "strategy": "median"},
//!                  {"type": "one_hot_encoder", "handle_unknown": "ignore"},
//!                  {"type": "standard_scaler"}],
//!   "random_state": 42
//! }
//! ```
//!
//! `"unlabeled_token": "-1"` marks the target cells equal to `-1` as unlabeled rows (as the
//! option of the same name of `amlis_dataset_from_csv`).
//!
//! Model and step `type` names are scikit-learn's class names in snake_case; every other key
//! is a hyperparameter with scikit-learn's name. Unknown keys, unknown types and values of the
//! wrong type are [`Error::Config`] naming the key (`model.C`, `preprocess.1.strategy`);
//! out-of-range values are reported by the trainer when it fits, naming the parameter.
//!
//! ```
//! use amlis::service::config::TrainConfig;
//!
//! let config = TrainConfig::from_json(r#"{"model": {"type": "dummy_regressor", "strategy": "median"},
//!                                        "preprocess": [{"type": "standard_scaler"}],
//!                                        "random_state": 7}"#)?;
//! assert_eq!(config.model.type_name(), "dummy_regressor");
//! let err = TrainConfig::from_json(r#"{"model": {"type": "dummy_regressor", "strategee": "median"}}"#)
//!     .unwrap_err();
//! assert!(err.to_string().contains("strategee"));
//! # Ok::<(), amlis::Error>(())
//! ```

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::models::ModelConfig;
use crate::preprocess::Step as StepConfig;

/// A whole training config.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainConfig {
    /// The trainer and its hyperparameters.
    pub model: ModelConfig,
    /// Preprocessing steps, applied in order before the model.
    #[serde(default)]
    pub preprocess: Vec<StepConfig>,
    /// The seed of every random choice (default 0: amlis is deterministic by default).
    #[serde(default)]
    pub random_state: Option<u64>,
    /// Bound on the number of threads (default: all cores of the current rayon pool).
    #[serde(default)]
    pub n_threads: Option<usize>,
    /// A target value that marks an unlabeled row (`"-1"`, scikit-learn's convention, or
    /// `"?"`), as the `unlabeled_token` option of `amlis_dataset_from_csv`: the target cells
    /// equal to it are missing (a numeric target compares numerically). Semi-supervised
    /// models learn from such rows; every other model that needs a target refuses them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unlabeled_token: Option<String>,
}

fn config_err(key: impl Into<String>, message: impl Into<String>) -> Error {
    Error::Config {
        key: key.into(),
        message: message.into(),
    }
}

fn take_type(obj: &mut Map<String, Value>, at: &str) -> Result<String> {
    match obj.remove("type") {
        Some(Value::String(s)) => Ok(s),
        Some(other) => Err(config_err(
            format!("{at}.type"),
            format!("expected a string, found {other}"),
        )),
        None => Err(config_err(
            format!("{at}.type"),
            "missing: every model and step needs a `type`",
        )),
    }
}

fn object(v: Value, at: &str) -> Result<Map<String, Value>> {
    match v {
        Value::Object(m) => Ok(m),
        other => Err(config_err(at, format!("expected an object, found {other}"))),
    }
}

impl TrainConfig {
    /// A config with just a model.
    pub fn new(model: ModelConfig) -> Self {
        Self {
            model,
            preprocess: Vec::new(),
            random_state: None,
            n_threads: None,
            unlabeled_token: None,
        }
    }

    /// Adds a preprocessing step.
    pub fn step(mut self, step: StepConfig) -> Self {
        self.preprocess.push(step);
        self
    }

    /// Sets the seed.
    pub fn random_state(mut self, seed: u64) -> Self {
        self.random_state = Some(seed);
        self
    }

    /// Sets the target value that marks unlabeled rows.
    pub fn unlabeled_token(mut self, token: impl Into<String>) -> Self {
        self.unlabeled_token = Some(token.into());
        self
    }

    /// Parses a config, naming the exact key of any error.
    pub fn from_json(text: &str) -> Result<Self> {
        let root: Value = serde_json::from_str(text).map_err(|e| {
            config_err(
                "<root>",
                format!(
                    "not valid JSON: {e} (line {}, column {})",
                    e.line(),
                    e.column()
                ),
            )
        })?;
        Self::from_value(root)
    }

    /// Parses a config from a JSON value.
    pub fn from_value(root: Value) -> Result<Self> {
        let mut root = object(root, "<root>")?;
        let model = root
            .remove("model")
            .ok_or_else(|| config_err("model", "missing: the config needs a `model` object"))?;
        let mut model = object(model, "model")?;
        let model_type = take_type(&mut model, "model")?;
        let model = ModelConfig::from_json_parts(&model_type, Value::Object(model))?;

        let mut preprocess = Vec::new();
        match root.remove("preprocess") {
            None | Some(Value::Null) => {}
            Some(Value::Array(steps)) => {
                for (i, step) in steps.into_iter().enumerate() {
                    let at = format!("preprocess.{i}");
                    let mut obj = object(step, &at)?;
                    let step_type = take_type(&mut obj, &at)?;
                    let step = StepConfig::from_json_parts(&step_type, Value::Object(obj), &at)?;
                    preprocess.push(step);
                }
            }
            Some(other) => {
                return Err(config_err(
                    "preprocess",
                    format!("expected a list of steps, found {other}"),
                ))
            }
        }

        let random_state = match root.remove("random_state") {
            None | Some(Value::Null) => None,
            Some(v) => Some(v.as_u64().ok_or_else(|| {
                config_err(
                    "random_state",
                    format!("expected a non-negative integer, found {v}"),
                )
            })?),
        };
        let n_threads = match root.remove("n_threads") {
            None | Some(Value::Null) => None,
            Some(v) => Some(
                v.as_u64()
                    .and_then(|n| usize::try_from(n).ok())
                    .ok_or_else(|| {
                        config_err(
                            "n_threads",
                            format!("expected a non-negative integer, found {v}"),
                        )
                    })?,
            ),
        };
        let unlabeled_token = match root.remove("unlabeled_token") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s),
            // A number is the token of a numeric target (`-1`).
            Some(Value::Number(n)) => Some(n.to_string()),
            Some(v) => {
                return Err(config_err(
                    "unlabeled_token",
                    format!("expected a string such as \"-1\" or \"?\", found {v}"),
                ))
            }
        };
        if let Some(key) = root.keys().next() {
            return Err(config_err(
                key.clone(),
                "unknown key; expected `model`, `preprocess`, `random_state`, `n_threads` or \
                 `unlabeled_token`",
            ));
        }
        Ok(Self {
            model,
            preprocess,
            random_state,
            n_threads,
            unlabeled_token,
        })
    }

    /// The config as JSON text (what a model file stores).
    pub fn to_json(&self) -> Result<String> {
        serde_json::to_string(self)
            .map_err(|e| Error::InvalidArgument(format!("cannot serialize config: {e}")))
    }
}
