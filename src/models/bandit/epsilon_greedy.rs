//! Epsilon-greedy: the best estimated arm with probability `1 - ε` (ties split), a uniform
//! arm with probability `ε`; `ε` decays by the factor `decay` per update. Estimates are mean
//! rewards, or a regressor per arm with an `estimator` (a contextual policy).

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::models::bandit::policy::{check_epsilon, BanditSpec, Exploration, Policy};
use crate::models::bandit::values::ArmValues;
use crate::models::bandit::StartPolicy;
use crate::models::kit::setters;
use crate::models::ModelConfig;

/// Epsilon-greedy settings (`"type": "epsilon_greedy"`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EpsilonGreedy {
    /// Exploration probability, in [0, 1] (default 0.1, MABWiser's default).
    pub epsilon: f64,
    /// Factor applied to `epsilon` after each update, in (0, 1] (default 1: no decay): the
    /// exploration after `t` updates is `epsilon * decay^t`.
    pub decay: f64,
    /// A regressor per arm (any registered regressor config) instead of mean rewards.
    pub estimator: Option<ModelConfig>,
}

impl Default for EpsilonGreedy {
    fn default() -> Self {
        Self {
            epsilon: 0.1,
            decay: 1.0,
            estimator: None,
        }
    }
}

setters!(EpsilonGreedy { epsilon: f64, decay: f64, estimator: ModelConfig => Some });

impl EpsilonGreedy {
    fn check(&self) -> Result<()> {
        check_epsilon(self.epsilon)?;
        if !(self.decay > 0.0 && self.decay <= 1.0) {
            return Err(Error::param("decay", self.decay, "a factor in (0, 1]"));
        }
        Ok(())
    }
}

/// An epsilon-greedy policy and its learning state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EpsilonGreedyPolicy {
    params: EpsilonGreedy,
    spec: BanditSpec,
    values: ArmValues,
    /// The exploration probability now (after decay).
    epsilon_now: f64,
}

impl StartPolicy for EpsilonGreedy {
    const NAME: &'static str = "epsilon_greedy";
    type Policy = EpsilonGreedyPolicy;

    fn start(&self, spec: &BanditSpec) -> Result<EpsilonGreedyPolicy> {
        self.check()?;
        spec.check()?;
        Ok(EpsilonGreedyPolicy {
            params: self.clone(),
            spec: *spec,
            values: ArmValues::new(spec, self.estimator.as_ref())?,
            epsilon_now: self.epsilon,
        })
    }
}

impl Policy for EpsilonGreedyPolicy {
    fn spec(&self) -> &BanditSpec {
        &self.spec
    }

    fn scores_into(&self, context: &[f64], scores: &mut [f64]) -> Result<()> {
        self.values.scores_into(context, scores)
    }

    fn exploration(&self) -> Exploration {
        Exploration::EpsilonGreedy(self.epsilon_now)
    }

    fn learn(&mut self, context: &[f64], action: usize, reward: f64) -> Result<()> {
        self.values.update(context, action, reward)?;
        self.epsilon_now *= self.params.decay;
        Ok(())
    }

    fn validate(&self) -> Result<()> {
        self.params.check().map_err(super::policy::corrupt)?;
        if !(0.0..=1.0).contains(&self.epsilon_now) {
            return Err(super::policy::corrupt("epsilon out of [0, 1]"));
        }
        self.values.validate(&self.spec)
    }
}
