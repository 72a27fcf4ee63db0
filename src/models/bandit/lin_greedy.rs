//! LinGreedy (MABWiser's): a ridge regression per arm; the arm of the largest prediction
//! `θ·x` with probability `1 - epsilon` (ties split evenly), a uniform arm otherwise.

use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::models::bandit::linear::{check_l2_lambda, LinearArms, LinearPolicy, LinearRule};
use crate::models::bandit::policy::{check_epsilon, Exploration};
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

/// A LinGreedy policy and its learning state.
pub type LinGreedyPolicy = LinearPolicy<LinGreedy>;

impl LinearRule for LinGreedy {
    const NAME: &'static str = "lin_greedy";

    fn check(&self) -> Result<()> {
        check_epsilon(self.epsilon)?;
        check_l2_lambda(self.l2_lambda)
    }

    fn l2_lambda(&self) -> f64 {
        self.l2_lambda
    }

    /// The ridge prediction `θ·x` per arm.
    fn scores_into(&self, arms: &LinearArms, context: &[f64], scores: &mut [f64]) {
        for (s, arm) in scores.iter_mut().zip(&arms.arms) {
            *s = arm.predict(context);
        }
    }

    fn exploration(&self) -> Exploration {
        Exploration::EpsilonGreedy(self.epsilon)
    }
}
