//! LinGreedy (MABWiser's): a ridge regression per arm; the arm of the largest prediction
//! `θ·x` with probability `1 - epsilon` (ties split evenly), a uniform arm otherwise.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::models::bandit::linear::{check_l2_lambda, LinearArms};
use crate::models::bandit::policy::{corrupt, BanditSpec, Exploration, Policy};
use crate::models::bandit::{LoggedFeedback, StartPolicy};
use crate::models::kit::setters;

/// LinGreedy settings (`"type": "lin_greedy"`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LinGreedy {
    /// Exploration probability, in [0, 1] (default 0.1).
    pub epsilon: f64,
    /// Ridge penalty, > 0 (default 1).
    pub l2_lambda: f64,
}

impl Default for LinGreedy {
    fn default() -> Self {
        Self {
            epsilon: 0.1,
            l2_lambda: 1.0,
        }
    }
}

setters!(LinGreedy {
    epsilon: f64,
    l2_lambda: f64
});

impl LinGreedy {
    fn check(&self) -> Result<()> {
        if !(0.0..=1.0).contains(&self.epsilon) {
            return Err(Error::param(
                "epsilon",
                self.epsilon,
                "a probability in [0, 1]",
            ));
        }
        check_l2_lambda(self.l2_lambda)
    }
}

/// A LinGreedy policy and its learning state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinGreedyPolicy {
    params: LinGreedy,
    spec: BanditSpec,
    arms: LinearArms,
}

impl LinGreedyPolicy {
    /// The per-arm ridge states.
    pub fn arms(&self) -> &LinearArms {
        &self.arms
    }
}

impl StartPolicy for LinGreedy {
    const NAME: &'static str = "lin_greedy";
    type Policy = LinGreedyPolicy;

    fn start(&self, spec: &BanditSpec) -> Result<LinGreedyPolicy> {
        self.check()?;
        Ok(LinGreedyPolicy {
            params: self.clone(),
            spec: *spec,
            arms: LinearArms::new(spec, self.l2_lambda)?,
        })
    }
}

impl Policy for LinGreedyPolicy {
    fn spec(&self) -> &BanditSpec {
        &self.spec
    }

    fn scores_into(&self, context: &[f64], scores: &mut [f64]) -> Result<()> {
        for (s, arm) in scores.iter_mut().zip(&self.arms.arms) {
            *s = arm.predict(context);
        }
        Ok(())
    }

    fn exploration(&self) -> Exploration {
        Exploration::EpsilonGreedy(self.params.epsilon)
    }

    fn learn(&mut self, context: &[f64], action: usize, reward: f64) -> Result<()> {
        self.arms.update(context, action, reward);
        Ok(())
    }

    /// Every row checked first, then each arm's rows in log order (the same state as row by
    /// row updates, faster: see [`LinearArms::learn_logs`]).
    fn partial_fit(&mut self, logs: &LoggedFeedback) -> Result<()> {
        logs.check_against(&self.spec)?;
        self.arms.learn_logs(logs);
        Ok(())
    }

    fn validate(&self) -> Result<()> {
        self.params.check().map_err(corrupt)?;
        self.arms.validate(&self.spec)
    }
}
