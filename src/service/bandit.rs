//! The deployable bandit: [`Bandit`] holds one policy's whole learning state behind a
//! read-write lock, so that many threads may choose and learn at once, and saves it in the
//! model file (the same envelope as models: versioned, checksummed, every length checked on
//! load) to resume learning bit-identically. It also serves a greedy policy learned from
//! logs (fitted Q iteration, offline IPS/DM/DR; model file kind 3) for decisions only. The C
//! ABI's `AmlisBandit` wraps one.
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

use crate::data::{Column, Table};
use crate::error::{Error, Result};
use crate::models::bandit::{
    AnyPolicy, BanditSpec, LogColumns, LoggedFeedback, Policy, PolicyConfig,
};
use crate::models::rl::{GreedyPolicy, ServedGreedyPolicy, POLICY_KIND};
use crate::preprocess::{FittedStep, Step};
use crate::service::persist::{self, Encoding};
use crate::traits::{FittedTransformer, Transformer};

/// The `kind` of a bandit in the model file's envelope (a pipeline is 1).
pub const BANDIT_KIND: u16 = 2;

/// A bandit config: `{"policy": {"type": "lin_ucb", "alpha": 1.0}, "random_state": 0,
/// "preprocess": [{"type": "standard_scaler"}]}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BanditConfig {
    /// The policy and its settings.
    pub policy: PolicyConfig,
    /// Preprocessing steps every context passes through before the policy sees it (the
    /// pipeline's steps: imputer, scalers, normalizer, pca, ...). They are fitted on the
    /// contexts of the first logged data the bandit learns from
    /// ([`Bandit::partial_fit_table`]); until then the bandit cannot decide.
    #[serde(default)]
    pub preprocess: Vec<Step>,
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
        let mut preprocess = Vec::new();
        for (key, value) in root {
            match key.as_str() {
                "preprocess" => {
                    let Value::Array(steps) = value else {
                        return Err(config_err("preprocess", "expected a list of steps"));
                    };
                    for (i, step) in steps.into_iter().enumerate() {
                        let at = format!("preprocess.{i}");
                        let Value::Object(mut obj) = step else {
                            return Err(config_err(&at, "expected an object with a `type`"));
                        };
                        let Some(Value::String(t)) = obj.remove("type") else {
                            return Err(config_err(
                                &format!("{at}.type"),
                                "missing or not a string",
                            ));
                        };
                        preprocess.push(Step::from_json_parts(&t, Value::Object(obj), &at)?);
                    }
                }
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
                        "unknown key; expected `policy`, `preprocess` or `random_state`",
                    ))
                }
            }
        }
        Ok(Self {
            policy,
            random_state,
            preprocess,
        })
    }
}

/// The fitted preprocessing of contexts: numeric input columns through fitted steps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContextSteps {
    /// The raw context's column names.
    pub inputs: Vec<String>,
    /// The fitted steps, in order.
    pub steps: Vec<FittedStep>,
}

impl ContextSteps {
    /// Fits `steps` in order on the raw contexts (`n` rows of `inputs.len()` values,
    /// row-major).
    pub fn fit(steps: &[Step], inputs: Vec<String>, contexts: &[f64]) -> Result<Self> {
        let mut table = Self::table(&inputs, contexts)?;
        let mut fitted = Vec::with_capacity(steps.len());
        for step in steps {
            let (f, t) = step.fit_transform(&table)?;
            fitted.push(f);
            table = t;
        }
        Ok(Self {
            inputs,
            steps: fitted,
        })
    }

    fn table(inputs: &[String], contexts: &[f64]) -> Result<Table> {
        let d = inputs.len();
        let n = contexts.len().checked_div(d).unwrap_or(0);
        let columns = inputs
            .iter()
            .enumerate()
            .map(|(j, name)| {
                let col: Vec<f64> = (0..n).map(|i| contexts[i * d + j]).collect();
                (name.clone(), Column::Numeric(col))
            })
            .collect();
        Table::new(columns)
    }

    /// Transforms raw contexts (row-major, `inputs.len()` per row) into the policy's
    /// features (row-major); returns them with their width.
    pub fn transform(&self, contexts: &[f64]) -> Result<(Vec<f64>, usize)> {
        let mut table = Self::table(&self.inputs, contexts)?;
        for step in &self.steps {
            table = step.transform(&table)?;
        }
        let n = table.n_rows();
        let d = table.n_columns();
        let mut out = vec![0.0; n * d];
        for (j, (name, col)) in table.iter().enumerate() {
            let Column::Numeric(v) = col else {
                return Err(Error::ColumnKind {
                    column: name.to_string(),
                    context: "bandit context after preprocessing".into(),
                    found: col.kind().to_string(),
                    expected: "numeric".into(),
                });
            };
            for (i, x) in v.iter().enumerate() {
                out[i * d + j] = *x;
            }
        }
        Ok((out, d))
    }
}

/// What a bandit file holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct BanditFile {
    library_version: String,
    config: BanditConfig,
    /// The raw context width.
    n_features: usize,
    n_actions: usize,
    steps: Option<ContextSteps>,
    policy: Option<AnyPolicy>,
}

/// What the lock guards: the fitted steps and the policy (both `None` until the steps are
/// fitted, when the config has steps).
#[derive(Debug, Clone, PartialEq)]
struct State {
    steps: Option<ContextSteps>,
    policy: Option<AnyPolicy>,
}

impl State {
    fn policy(&self) -> Result<&AnyPolicy> {
        self.policy.as_ref().ok_or_else(unfitted)
    }
}

fn unfitted() -> Error {
    Error::InvalidArgument(
        "the bandit's preprocessing steps are not fitted yet: learn from logged contexts first \
         (Bandit::partial_fit, Bandit::partial_fit_table; amlis_bandit_partial_fit from C)"
            .into(),
    )
}

/// A policy shared between threads, with its config and the fitted preprocessing of its
/// contexts; saved and loaded as a model file.
///
/// It holds either a policy that learns online (made from a [`BanditConfig`]; model file
/// kind [`BANDIT_KIND`]) or a [`GreedyPolicy`] learned from logs by fitted Q iteration or
/// the offline IPS/DM/DR reductions (kind [`POLICY_KIND`], made by
/// [`from_greedy`](Self::from_greedy) or loaded from its file): it decides the same way
/// (action and pmf, exclusions) but learns nothing, so `update` and `partial_fit` on it are
/// [`Error::Unsupported`].
#[derive(Debug)]
pub struct Bandit {
    /// Actions, raw context width and seed.
    spec: BanditSpec,
    served: Served,
}

/// A policy of a config that learns, and its lock.
#[derive(Debug)]
struct Learning {
    config: BanditConfig,
    state: RwLock<State>,
}

/// What a bandit serves.
#[derive(Debug)]
enum Served {
    /// A policy that learns, behind the lock (boxed: the config and lock are large).
    Learning(Box<Learning>),
    /// A greedy policy learned from logs: read-only, so no lock.
    Greedy(ServedGreedyPolicy),
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
        spec.check()?;
        let policy = if config.preprocess.is_empty() {
            Some(config.policy.start(&spec)?)
        } else {
            // Checks the settings now; the policy starts when the steps are fitted.
            config.policy.start(&BanditSpec::new(n_actions, 1))?;
            None
        };
        Ok(Self {
            spec,
            served: Served::Learning(Box::new(Learning {
                config,
                state: RwLock::new(State {
                    steps: None,
                    policy,
                }),
            })),
        })
    }

    /// Serves a greedy policy learned from logs (decisions only).
    pub fn from_greedy(policy: GreedyPolicy) -> Self {
        let served = ServedGreedyPolicy::new(policy);
        Self {
            spec: *served.spec(),
            served: Served::Greedy(served),
        }
    }

    /// [`new`](Self::new) from a JSON config.
    pub fn from_json(config_json: &str, n_actions: usize, n_features: usize) -> Result<Self> {
        Self::new(BanditConfig::from_json(config_json)?, n_actions, n_features)
    }

    /// The config (`None` for a greedy policy learned from logs).
    pub fn config(&self) -> Option<&BanditConfig> {
        match &self.served {
            Served::Learning(l) => Some(&l.config),
            Served::Greedy(_) => None,
        }
    }

    /// The greedy policy served, if the bandit holds one learned from logs.
    pub fn greedy(&self) -> Option<&GreedyPolicy> {
        match &self.served {
            Served::Learning(_) => None,
            Served::Greedy(g) => Some(g.policy()),
        }
    }

    /// The lock of a learning policy, or the error of a greedy one (`what` it cannot do).
    fn learning(&self, what: &str) -> Result<(&BanditConfig, &RwLock<State>)> {
        match &self.served {
            Served::Learning(l) => Ok((&l.config, &l.state)),
            Served::Greedy(_) => Err(Error::Unsupported(format!(
                "{what}: this bandit serves a greedy policy learned from logs (fitted Q \
                 iteration or the offline IPS/DM/DR reductions; model file kind \
                 {POLICY_KIND}), which decides but does not learn online"
            ))),
        }
    }

    /// The number of actions, the raw context width (before preprocessing) and the seed.
    pub fn spec(&self) -> &BanditSpec {
        &self.spec
    }

    fn check_raw(&self, context: &[f64]) -> Result<()> {
        if context.len() != self.spec.n_features {
            return Err(Error::shape(
                "context",
                format!("{} features", self.spec.n_features),
                format!("{} values", context.len()),
            ));
        }
        Ok(())
    }

    /// Chooses an action (see [`Policy::choose_into`]); takes the read lock. With
    /// preprocessing steps the context passes through them first (allocating; without steps
    /// the decision allocates nothing beyond what the policy does).
    pub fn choose(
        &self,
        context: &[f64],
        event_id: u64,
        excluded: &[usize],
        pmf: &mut [f64],
    ) -> Result<usize> {
        let state = match &self.served {
            Served::Greedy(g) => return g.choose_into(context, event_id, excluded, pmf),
            Served::Learning(l) => l.state.read().map_err(|_| poisoned())?,
        };
        let policy = state.policy()?;
        match &state.steps {
            None => policy.choose_into(context, event_id, excluded, pmf),
            Some(steps) => {
                self.check_raw(context)?;
                let (x, _) = steps.transform(context)?;
                policy.choose_into(&x, event_id, excluded, pmf)
            }
        }
    }

    /// Learns one outcome (see [`Policy::update`]); takes the write lock.
    pub fn update(
        &self,
        context: &[f64],
        action: usize,
        reward: f64,
        probability: f64,
    ) -> Result<()> {
        let (_, lock) = self.learning("update")?;
        let mut state = lock.write().map_err(|_| poisoned())?;
        let State { steps, policy } = &mut *state;
        let policy = policy.as_mut().ok_or_else(unfitted)?;
        match steps {
            None => policy.update(context, action, reward, probability),
            Some(steps) => {
                self.check_raw(context)?;
                let (x, _) = steps.transform(context)?;
                policy.update(&x, action, reward, probability)
            }
        }
    }

    /// Learns from logged outcomes whose contexts are raw (before preprocessing), in order
    /// (see [`Policy::partial_fit`]); takes the write lock once. The first logs a bandit with
    /// preprocessing steps learns from also fit its steps, on their contexts. A bad log
    /// leaves the bandit unchanged.
    pub fn partial_fit(&self, logs: &LoggedFeedback) -> Result<()> {
        if logs.n_features() != self.spec.n_features {
            return Err(Error::shape(
                "logged contexts",
                format!("{} features", self.spec.n_features),
                format!("{} columns", logs.n_features()),
            ));
        }
        let (config, lock) = self.learning("partial_fit")?;
        let mut state = lock.write().map_err(|_| poisoned())?;
        if config.preprocess.is_empty() {
            let policy = state.policy.as_mut().ok_or_else(unfitted)?;
            return policy.partial_fit(logs);
        }
        let n = logs.n_rows();
        let mut raw = Vec::with_capacity(n * logs.n_features());
        let (mut actions, mut rewards, mut propensities) = (vec![], vec![], vec![]);
        for i in 0..n {
            let (x, a, r, p) = logs.row(i);
            raw.extend_from_slice(x);
            actions.push(a);
            rewards.push(r);
            propensities.push(p);
        }
        let fresh = match &state.steps {
            Some(_) => None,
            None => Some(ContextSteps::fit(
                &config.preprocess,
                logs.context_names().to_vec(),
                &raw,
            )?),
        };
        let steps = fresh
            .as_ref()
            .or(state.steps.as_ref())
            .ok_or_else(unfitted)?;
        let (x, width) = steps.transform(&raw)?;
        let transformed = LoggedFeedback::new(width, x, actions, rewards, propensities)?;
        let mut policy = match &state.policy {
            Some(p) => p.clone(),
            None => config.policy.start(
                &BanditSpec::new(self.spec.n_actions, width).random_state(self.spec.random_state),
            )?,
        };
        policy.partial_fit(&transformed)?;
        if fresh.is_some() {
            state.steps = fresh;
        }
        state.policy = Some(policy);
        Ok(())
    }

    /// Learns from a table of logged outcomes (e.g. read from CSV): `columns` names the
    /// action, reward, propensity and context columns. See [`partial_fit`](Self::partial_fit).
    pub fn partial_fit_table(&self, table: &Table, columns: &LogColumns) -> Result<()> {
        self.partial_fit(&LoggedFeedback::from_table(table, columns)?)
    }

    /// A copy of the policy's state now (`None` while preprocessing steps are unfitted, and
    /// for a greedy policy learned from logs: see [`greedy`](Self::greedy)).
    pub fn snapshot(&self) -> Result<Option<AnyPolicy>> {
        match &self.served {
            Served::Learning(l) => Ok(l.state.read().map_err(|_| poisoned())?.policy.clone()),
            Served::Greedy(_) => Ok(None),
        }
    }

    /// The model-file image of the config and the whole learning state (kind
    /// [`BANDIT_KIND`]), or of the greedy policy served (kind [`POLICY_KIND`]).
    pub fn to_bytes(&self, encoding: Encoding) -> Result<Vec<u8>> {
        let (config, lock) = match &self.served {
            Served::Greedy(g) => return g.policy().to_bytes(encoding),
            Served::Learning(l) => (&l.config, &l.state),
        };
        let state = lock.read().map_err(|_| poisoned())?;
        let file = BanditFile {
            library_version: env!("CARGO_PKG_VERSION").to_string(),
            config: config.clone(),
            n_features: self.spec.n_features,
            n_actions: self.spec.n_actions,
            steps: state.steps.clone(),
            policy: state.policy.clone(),
        };
        drop(state);
        persist::encode(&file, BANDIT_KIND, encoding)
    }

    /// Reads a bandit (kind [`BANDIT_KIND`]) or a greedy policy learned from logs (kind
    /// [`POLICY_KIND`]) from a model-file image, checking the envelope and every length and
    /// count of the state ([`Error::ModelCorrupt`] otherwise).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        if persist::read_header(bytes)?.0.kind == POLICY_KIND {
            return Ok(Self::from_greedy(GreedyPolicy::from_bytes(bytes)?));
        }
        let (header, file): (_, BanditFile) = persist::decode(bytes)?;
        if header.kind != BANDIT_KIND {
            return Err(Error::ModelCorrupt(format!(
                "the file holds kind {}, expected a bandit (kind {BANDIT_KIND}) or a greedy \
                 policy (kind {POLICY_KIND})",
                header.kind
            )));
        }
        let disagree = |what: &str| Error::ModelCorrupt(format!("bandit file: {what}"));
        let spec =
            BanditSpec::new(file.n_actions, file.n_features).random_state(file.config.random_state);
        let has_steps = !file.config.preprocess.is_empty();
        match (&file.steps, &file.policy) {
            (None, None) if has_steps => {}
            (None, Some(p)) if !has_steps => {
                if *p.spec() != spec {
                    return Err(disagree("the policy's spec differs from the bandit's"));
                }
            }
            (Some(steps), Some(p)) if has_steps => {
                if steps.inputs.len() != spec.n_features
                    || steps.steps.len() != file.config.preprocess.len()
                {
                    return Err(disagree("the fitted steps do not match the config"));
                }
                // The steps must turn a raw context into the policy's features.
                let (_, width) = steps
                    .transform(&vec![0.0; spec.n_features])
                    .map_err(|e| disagree(&format!("the fitted steps do not apply: {e}")))?;
                let ps = p.spec();
                if width != ps.n_features
                    || ps.n_actions != spec.n_actions
                    || ps.random_state != spec.random_state
                {
                    return Err(disagree("the steps' output and the policy's spec differ"));
                }
            }
            _ => return Err(disagree("the steps and the policy do not match the config")),
        }
        if let Some(p) = &file.policy {
            p.validate()?;
            if p.type_name() != file.config.policy.type_name() {
                return Err(disagree("the config and the policy state disagree"));
            }
        }
        Ok(Self {
            spec,
            served: Served::Learning(Box::new(Learning {
                config: file.config,
                state: RwLock::new(State {
                    steps: file.steps,
                    policy: file.policy,
                }),
            })),
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
