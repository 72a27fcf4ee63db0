//! LinGreedy (MABWiser's): a ridge regression per arm; the arm of the largest prediction
//! `θ·x` with probability `1 - epsilon` (ties split evenly), a uniform arm otherwise.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::models::bandit::linear::{check_l2_lambda, LinearArms};
use crate::models::bandit::policy::{corrupt, BanditSpec, Policy};
use crate::models::bandit::{pmf, StartPolicy};
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

    fn choose_into(
        &self,
        context: &[f64],
        event_id: u64,
        excluded: &[usize],
        pmf_out: &mut [f64],
    ) -> Result<usize> {
        self.spec.check_context(context)?;
        self.spec.check_pmf(pmf_out)?;
        for (s, arm) in pmf_out.iter_mut().zip(&self.arms.arms) {
            *s = arm.predict(context);
        }
        pmf::mark_excluded(pmf_out, excluded)?;
        pmf::epsilon_greedy(pmf_out, self.params.epsilon);
        let mut rng = pmf::decision_rng(self.spec.random_state, event_id);
        Ok(pmf::sample(pmf_out, &mut rng))
    }

    fn update(
        &mut self,
        context: &[f64],
        action: usize,
        reward: f64,
        probability: f64,
    ) -> Result<()> {
        self.spec
            .check_outcome(context, action, reward, probability)?;
        self.arms.update(context, action, reward);
        Ok(())
    }

    fn validate(&self) -> Result<()> {
        self.params.check().map_err(corrupt)?;
        self.arms.validate(&self.spec)
    }
}
