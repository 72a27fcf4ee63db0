//! The greedy policy the offline learners return: the action of highest estimated value,
//! saved in the model file envelope as its own kind.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::action_value::ActionValueModel;
use crate::error::{Error, Result};
use crate::models::bandit::pmf::{self, DecisionRng};
use crate::models::bandit::{BanditSpec, Policy};
use crate::service::persist::{self, Encoding};

/// The model file `kind` of a [`GreedyPolicy`] (a pipeline is kind 1).
pub const POLICY_KIND: u16 = 3;

/// How a greedy policy was learned (kept in its file, for the record).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "snake_case")]
pub enum PolicyOrigin {
    /// Offline contextual-bandit learning by a reduction (`ips`, `dm`, `dr`).
    Bandit {
        /// The reduction.
        reduction: String,
    },
    /// Fitted Q iteration.
    FittedQIteration {
        /// Discount factor.
        gamma: f64,
        /// Iterations run.
        n_iterations: usize,
    },
}

/// A greedy policy: the argmax over actions of an [`ActionValueModel`] (ties go to the lowest
/// action index).
///
/// It is immutable and `Send + Sync`; save it with [`save_file`](Self::save_file) /
/// [`to_bytes`](Self::to_bytes) (the model file envelope, kind [`POLICY_KIND`]) and read it
/// back with [`load_file`](Self::load_file) / [`from_bytes`](Self::from_bytes), which
/// bounds-check the whole state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GreedyPolicy {
    q: ActionValueModel,
    origin: PolicyOrigin,
}

impl GreedyPolicy {
    /// The greedy policy of `q`.
    pub fn new(q: ActionValueModel, origin: PolicyOrigin) -> Self {
        Self { q, origin }
    }

    /// Number of context (state) features.
    pub fn n_features(&self) -> usize {
        self.q.n_features()
    }

    /// Number of actions.
    pub fn n_actions(&self) -> usize {
        self.q.n_actions()
    }

    /// How the policy was learned.
    pub fn origin(&self) -> &PolicyOrigin {
        &self.origin
    }

    /// The action-value model.
    pub fn q(&self) -> &ActionValueModel {
        &self.q
    }

    /// The estimated value of every action in `context`.
    pub fn action_values(&self, context: &[f64]) -> Result<Vec<f64>> {
        self.q.action_values(context)
    }

    /// The greedy action in `context` (ties to the lowest index).
    pub fn choose(&self, context: &[f64]) -> Result<usize> {
        Ok(argmax(&self.action_values(context)?))
    }

    /// The greedy action of every row of `x`.
    pub fn choose_batch(&self, x: ndarray::ArrayView2<'_, f64>) -> Result<Vec<usize>> {
        let k = self.n_actions();
        let mut values = vec![0.0; x.nrows() * k];
        self.q.predict_into(x, &mut values)?;
        Ok(values.chunks(k.max(1)).map(argmax).collect())
    }

    /// The policy's action distribution on every row of `x` (`x.nrows() x n_actions`, one 1
    /// per row): the input of off-policy evaluation.
    pub fn pmf(&self, x: ndarray::ArrayView2<'_, f64>) -> Result<ndarray::Array2<f64>> {
        let chosen = self.choose_batch(x)?;
        let mut pmf = ndarray::Array2::zeros((x.nrows(), self.n_actions()));
        for (i, a) in chosen.into_iter().enumerate() {
            pmf[[i, a]] = 1.0;
        }
        Ok(pmf)
    }

    /// Bounds-checks the state (called on every load).
    pub fn validate(&self) -> Result<()> {
        self.q.validate()
    }

    /// The model file image of the policy.
    pub fn to_bytes(&self, encoding: Encoding) -> Result<Vec<u8>> {
        persist::encode(self, POLICY_KIND, encoding)
    }

    /// Reads a policy from a model file image, checking the envelope and the state.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let (header, _) = persist::read_header(bytes)?;
        if header.kind != POLICY_KIND {
            return Err(Error::ModelCorrupt(format!(
                "the file holds kind {}, expected a greedy policy (kind {POLICY_KIND})",
                header.kind
            )));
        }
        let (_, policy): (_, GreedyPolicy) = persist::decode(bytes)?;
        policy.validate()?;
        Ok(policy)
    }

    /// Saves the policy to `path` (written to a temporary name, then renamed).
    pub fn save_file(&self, path: impl AsRef<Path>) -> Result<()> {
        persist::write_atomic(path.as_ref(), &self.to_bytes(Encoding::Binary)?)
    }

    /// Loads a policy saved by [`save_file`](Self::save_file).
    pub fn load_file(path: impl AsRef<Path>) -> Result<Self> {
        Self::from_bytes(&persist::read_file(path.as_ref())?)
    }
}

/// A [`GreedyPolicy`] as a bandit [`Policy`], for the decisions of `service::bandit::Bandit`
/// (and so `amlis_bandit_choose`): the allowed action of highest estimated value (ties and
/// NaN as [`GreedyPolicy::choose`]: the lowest index wins, NaN never does) gets all the
/// probability. It draws nothing (the `event_id` does not matter) and does not learn
/// online: [`Policy::update`] is [`Error::Unsupported`].
#[derive(Debug, Clone, PartialEq)]
pub struct ServedGreedyPolicy {
    spec: BanditSpec,
    policy: GreedyPolicy,
}

impl ServedGreedyPolicy {
    /// Serves `policy` (its actions and context width; seed 0, never used).
    pub fn new(policy: GreedyPolicy) -> Self {
        Self {
            spec: BanditSpec::new(policy.n_actions(), policy.n_features()),
            policy,
        }
    }

    /// The greedy policy served.
    pub fn policy(&self) -> &GreedyPolicy {
        &self.policy
    }
}

impl Policy for ServedGreedyPolicy {
    fn spec(&self) -> &BanditSpec {
        &self.spec
    }

    fn scores_into(&self, context: &[f64], scores: &mut [f64]) -> Result<()> {
        let values = self.policy.action_values(context)?;
        if values.len() != scores.len() {
            return Err(Error::shape("action values", scores.len(), values.len()));
        }
        scores.copy_from_slice(&values);
        Ok(())
    }

    fn explore(&self, _context: &[f64], pmf: &mut [f64], _rng: &mut DecisionRng) -> usize {
        let (mut chosen, mut best) = (usize::MAX, f64::NEG_INFINITY);
        for (a, &s) in pmf.iter().enumerate() {
            if !pmf::allowed(s) {
                continue;
            }
            if chosen == usize::MAX || s > best {
                chosen = a;
                best = best.max(s);
            }
        }
        pmf.fill(0.0);
        if let Some(p) = pmf.get_mut(chosen) {
            *p = 1.0;
        }
        chosen
    }

    fn learn(&mut self, _context: &[f64], _action: usize, _reward: f64) -> Result<()> {
        Err(Error::Unsupported(
            "this bandit serves a greedy policy learned from logs (fitted Q iteration or the \
             offline IPS/DM/DR reductions; model file kind 3): it decides but does not learn \
             online; learn a new policy from the grown logs instead"
                .into(),
        ))
    }

    fn validate(&self) -> Result<()> {
        self.policy.validate()
    }
}

/// The index of the largest value (the first on ties; NaN never wins).
pub fn argmax(values: &[f64]) -> usize {
    let (mut best, mut best_value) = (0, f64::NEG_INFINITY);
    for (i, &v) in values.iter().enumerate() {
        if v > best_value {
            (best, best_value) = (i, v);
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argmax_takes_the_lowest_index_on_ties() {
        assert_eq!(argmax(&[1.0, 3.0, 3.0]), 1);
        assert_eq!(argmax(&[f64::NAN, 0.0]), 1);
        assert_eq!(argmax(&[]), 0);
    }
}
