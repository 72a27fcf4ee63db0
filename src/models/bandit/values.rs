//! What the value-based policies (epsilon-greedy, softmax) estimate per arm: the mean reward
//! of each arm (context-free) or, with an `estimator`, a regressor per arm predicting the
//! reward from the context ([`super::estimator_arms`]).

use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::models::bandit::estimator_arms::EstimatorArms;
use crate::models::bandit::policy::{corrupt, BanditSpec};
use crate::models::ModelConfig;

/// One arm's reward count and sum.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArmStats {
    /// Outcomes learned.
    pub n: u64,
    /// Sum of their rewards.
    pub sum: f64,
}

impl ArmStats {
    /// The mean reward (0 for an arm never pulled).
    pub fn mean(&self) -> f64 {
        if self.n == 0 {
            0.0
        } else {
            self.sum / self.n as f64
        }
    }

    /// Learns one reward.
    pub fn add(&mut self, reward: f64) {
        self.n += 1;
        self.sum += reward;
    }

    /// Checks a table of arms read from a file.
    pub fn validate_all(arms: &[ArmStats], spec: &BanditSpec) -> Result<()> {
        if arms.len() != spec.n_actions {
            return Err(corrupt(format!(
                "{} arms for {} actions",
                arms.len(),
                spec.n_actions
            )));
        }
        if arms.iter().any(|a| !a.sum.is_finite()) {
            return Err(corrupt("a non-finite reward sum"));
        }
        Ok(())
    }
}

/// The per-arm value estimates of a value-based policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ArmValues {
    /// Mean reward per arm; the context is ignored.
    Means(Vec<ArmStats>),
    /// A regressor per arm, predicting the reward from the context.
    Estimators(Box<EstimatorArms>),
}

impl ArmValues {
    /// Fresh estimates: means, or untrained regressors of `estimator`.
    pub fn new(spec: &BanditSpec, estimator: Option<&ModelConfig>) -> Result<Self> {
        Ok(match estimator {
            None => ArmValues::Means(vec![ArmStats::default(); spec.n_actions]),
            Some(e) => ArmValues::Estimators(Box::new(EstimatorArms::new(spec, e)?)),
        })
    }

    /// Writes each arm's estimated reward for `context` into `scores`.
    pub fn scores_into(&self, context: &[f64], scores: &mut [f64]) -> Result<()> {
        match self {
            ArmValues::Means(arms) => {
                for (s, a) in scores.iter_mut().zip(arms) {
                    *s = a.mean();
                }
                Ok(())
            }
            ArmValues::Estimators(e) => e.scores_into(context, scores),
        }
    }

    /// Learns one outcome of `action`.
    pub fn update(&mut self, context: &[f64], action: usize, reward: f64) -> Result<()> {
        match self {
            ArmValues::Means(arms) => {
                if let Some(a) = arms.get_mut(action) {
                    a.add(reward);
                }
                Ok(())
            }
            ArmValues::Estimators(e) => e.update(context, action, reward),
        }
    }

    /// Checks the state read from a file.
    pub fn validate(&self, spec: &BanditSpec) -> Result<()> {
        match self {
            ArmValues::Means(arms) => ArmStats::validate_all(arms, spec),
            ArmValues::Estimators(e) => e.validate(spec),
        }
    }
}
