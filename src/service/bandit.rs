//! The deployable bandit: [`Bandit`] holds one policy's whole learning state behind a
//! read-write lock, so that many threads may choose and learn at once, and saves it in the
//! model file (the same envelope as models: versioned, checksummed, every length checked on
//! load) to resume learning bit-identically. The C ABI's `AmlisBandit` wraps one.
//!
//! Consistency: decisions share the read lock and learning takes the write lock, so an
//! update is visible to every decision that starts after it returns; a decision sees a
//! state from between two updates, never half of one.
//!
//! ```
//! use amlis::service::bandit::Bandit;
//!
//! let bandit = Bandit::from_json(r#"{"policy": {"type": "lin_ucb", "alpha": 0.5}, "random_state": 3}"#, 3, 2)?;
//! let mut pmf = [0.0; 3];
//! let action = bandit.choose(&[0.2, 1.0], 42, &[], &mut pmf)?;
//! bandit.update(&[0.2, 1.0], action, 1.0, pmf[action])?;
//! let copy = Bandit::from_bytes(&bandit.to_bytes(amlis::service::persist::Encoding::Binary)?)?;
//! let mut again = [0.0; 3];
//! assert_eq!(copy.choose(&[0.3, 1.0], 7, &[], &mut again)?, bandit.choose(&[0.3, 1.0], 7, &[], &mut pmf)?);
//! assert_eq!(pmf, again);
//! # Ok::<(), amlis::Error>(())
//! ```

use std::path::Path;
use std::sync::RwLock;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Error, Result};
use crate::models::bandit::{AnyPolicy, BanditSpec, LoggedFeedback, Policy, PolicyConfig};
use crate::service::persist::{self, Encoding};

/// The `kind` of a bandit in the model file's envelope (a pipeline is 1).
pub const BANDIT_KIND: u16 = 2;

/// A bandit config: `{"policy": {"type": "lin_ucb", "alpha": 1.0}, "random_state": 0}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BanditConfig {
    /// The policy and its settings.
    pub policy: PolicyConfig,
    /// The seed of every exploration draw (default 0).
    #[serde(default)]
    pub random_state: u64,
}

fn config_err(key: &str, message: impl Into<String>) -> Error {
    Error::Config {
        key: key.to_string(),
        message: message.into(),
    }
}

impl BanditConfig {
    /// Parses a config, naming the key of any error (`policy.alpha`, `random_state`).
    pub fn from_json(text: &str) -> Result<Self> {
        let root: Value = serde_json::from_str(text)
            .map_err(|e| config_err("<root>", format!("not valid JSON: {e}")))?;
        let Value::Object(mut root) = root else {
            return Err(config_err("<root>", "expected a JSON object"));
        };
        let policy = root
            .remove("policy")
            .ok_or_else(|| config_err("policy", "missing: the config needs a `policy` object"))?;
        let Value::Object(mut policy) = policy else {
            return Err(config_err("policy", "expected an object with a `type`"));
        };
        let type_name = match policy.remove("type") {
            Some(Value::String(s)) => s,
            _ => {
                return Err(config_err(
                    "policy.type",
                    format!(
                        "missing or not a string; known types: {}",
                        PolicyConfig::type_names().join(", ")
                    ),
                ))
            }
        };
        let policy = PolicyConfig::from_json_parts(&type_name, Value::Object(policy))?;
        let mut random_state = 0;
        for (key, value) in root {
            match key.as_str() {
                "random_state" => {
                    random_state = value.as_u64().ok_or_else(|| {
                        config_err(
                            "random_state",
                            format!("{value} is not a seed (an integer >= 0)"),
                        )
                    })?;
                }
                other => {
                    return Err(config_err(
                        other,
                        "unknown key; expected `policy` or `random_state`",
                    ))
                }
            }
        }
        Ok(Self {
            policy,
            random_state,
        })
    }
}

/// What a bandit file holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct BanditFile {
    library_version: String,
    config: BanditConfig,
    policy: AnyPolicy,
}

/// A policy shared between threads, with its config; saved and loaded as a model file.
#[derive(Debug)]
pub struct Bandit {
    config: BanditConfig,
    spec: BanditSpec,
    state: RwLock<AnyPolicy>,
}

fn poisoned() -> Error {
    Error::InvalidArgument(
        "the bandit is unusable: a call on another thread panicked while it learned".into(),
    )
}

impl Bandit {
    /// Starts a policy of `config` for `n_actions` actions and contexts of `n_features`.
    pub fn new(config: BanditConfig, n_actions: usize, n_features: usize) -> Result<Self> {
        let spec = BanditSpec::new(n_actions, n_features).random_state(config.random_state);
        let policy = config.policy.start(&spec)?;
        Ok(Self {
            config,
            spec,
            state: RwLock::new(policy),
        })
    }

    /// [`new`](Self::new) from a JSON config.
    pub fn from_json(config_json: &str, n_actions: usize, n_features: usize) -> Result<Self> {
        Self::new(BanditConfig::from_json(config_json)?, n_actions, n_features)
    }

    /// The config.
    pub fn config(&self) -> &BanditConfig {
        &self.config
    }

    /// What the policy decides between and from.
    pub fn spec(&self) -> &BanditSpec {
        &self.spec
    }

    /// Chooses an action (see [`Policy::choose_into`]); takes the read lock.
    pub fn choose(
        &self,
        context: &[f64],
        event_id: u64,
        excluded: &[usize],
        pmf: &mut [f64],
    ) -> Result<usize> {
        let state = self.state.read().map_err(|_| poisoned())?;
        state.choose_into(context, event_id, excluded, pmf)
    }

    /// Learns one outcome (see [`Policy::update`]); takes the write lock.
    pub fn update(
        &self,
        context: &[f64],
        action: usize,
        reward: f64,
        probability: f64,
    ) -> Result<()> {
        let mut state = self.state.write().map_err(|_| poisoned())?;
        state.update(context, action, reward, probability)
    }

    /// Learns from logged outcomes, in order (see [`Policy::partial_fit`]); takes the write
    /// lock once.
    pub fn partial_fit(&self, logs: &LoggedFeedback) -> Result<()> {
        let mut state = self.state.write().map_err(|_| poisoned())?;
        state.partial_fit(logs)
    }

    /// A copy of the policy's state now.
    pub fn snapshot(&self) -> Result<AnyPolicy> {
        Ok(self.state.read().map_err(|_| poisoned())?.clone())
    }

    /// The model-file image of the config and the whole learning state.
    pub fn to_bytes(&self, encoding: Encoding) -> Result<Vec<u8>> {
        let state = self.state.read().map_err(|_| poisoned())?;
        let file = BanditFile {
            library_version: env!("CARGO_PKG_VERSION").to_string(),
            config: self.config.clone(),
            policy: state.clone(),
        };
        drop(state);
        persist::encode(&file, BANDIT_KIND, encoding)
    }

    /// Reads a bandit from a model-file image, checking the envelope and every length and
    /// count of the state ([`Error::ModelCorrupt`] otherwise).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let (header, file): (_, BanditFile) = persist::decode(bytes)?;
        if header.kind != BANDIT_KIND {
            return Err(Error::ModelCorrupt(format!(
                "the file holds kind {}, expected a bandit (kind {BANDIT_KIND})",
                header.kind
            )));
        }
        let spec = *file.policy.spec();
        file.policy.validate()?;
        if spec.random_state != file.config.random_state
            || file.config.policy.type_name() != file.policy.type_name()
        {
            return Err(Error::ModelCorrupt(
                "bandit file: the config and the policy state disagree".into(),
            ));
        }
        Ok(Self {
            config: file.config,
            spec,
            state: RwLock::new(file.policy),
        })
    }

    /// Saves atomically (temporary file + rename); JSON when `encoding` says so.
    pub fn save(&self, path: impl AsRef<Path>, encoding: Encoding) -> Result<()> {
        persist::write_atomic(path.as_ref(), &self.to_bytes(encoding)?)
    }

    /// Loads and validates a bandit file.
    pub fn load(path: impl AsRef<Path>) -> Result<Self> {
        Self::from_bytes(&persist::read_file(path.as_ref())?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_keys_are_named() {
        for (json, key) in [
            (r#"{}"#, "policy"),
            (r#"{"policy": {"alpha": 1}}"#, "policy.type"),
            (
                r#"{"policy": {"type": "lin_ucb", "alpha": "x"}}"#,
                "policy.alpha",
            ),
            (r#"{"policy": {"type": "lin_ucb"}, "seed": 1}"#, "seed"),
            (
                r#"{"policy": {"type": "lin_ucb"}, "random_state": -1}"#,
                "random_state",
            ),
            (r#"[]"#, "<root>"),
        ] {
            match BanditConfig::from_json(json).unwrap_err() {
                Error::Config { key: k, .. } => assert_eq!(k, key, "{json}"),
                other => panic!("{json}: {other}"),
            }
        }
    }

    #[test]
    fn a_pipeline_file_is_not_a_bandit() {
        let bytes = persist::encode(&1u8, 1, Encoding::Binary).unwrap();
        assert!(matches!(
            Bandit::from_bytes(&bytes),
            Err(Error::ModelCorrupt(_))
        ));
    }
}
