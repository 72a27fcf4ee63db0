//! Disjoint LinUCB (Li et al. 2010): a ridge regression per arm; the arm of the largest
//! `θ·x + alpha·sqrt(xᵀA⁻¹x)` is chosen (ties split evenly). The per-arm state is updated by
//! Sherman–Morrison in O(d²) per outcome and never re-inverted; arms never pulled score
//! `alpha·sqrt(xᵀx / l2_lambda)`, finite.

use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::models::bandit::linear::{check_alpha, check_l2_lambda, LinearArms};
use crate::models::bandit::policy::{corrupt, BanditSpec, Policy};
use crate::models::bandit::{LoggedFeedback, StartPolicy};
use crate::models::kit::setters;

/// LinUCB settings (`"type": "lin_ucb"`), MABWiser's names and defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LinUcb {
    /// Width of the upper confidence bound, >= 0 (default 1).
    pub alpha: f64,
    /// Ridge penalty, > 0 (default 1).
    pub l2_lambda: f64,
}

impl Default for LinUcb {
    fn default() -> Self {
        Self {
            alpha: 1.0,
            l2_lambda: 1.0,
        }
    }
}

setters!(LinUcb {
    alpha: f64,
    l2_lambda: f64
});

/// A LinUCB policy and its learning state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinUcbPolicy {
    params: LinUcb,
    spec: BanditSpec,
    arms: LinearArms,
}

impl LinUcbPolicy {
    /// The per-arm ridge states.
    pub fn arms(&self) -> &LinearArms {
        &self.arms
    }
}

impl StartPolicy for LinUcb {
    const NAME: &'static str = "lin_ucb";
    type Policy = LinUcbPolicy;

    fn start(&self, spec: &BanditSpec) -> Result<LinUcbPolicy> {
        check_alpha(self.alpha)?;
        check_l2_lambda(self.l2_lambda)?;
        Ok(LinUcbPolicy {
            params: self.clone(),
            spec: *spec,
            arms: LinearArms::new(spec, self.l2_lambda)?,
        })
    }
}

impl Policy for LinUcbPolicy {
    fn spec(&self) -> &BanditSpec {
        &self.spec
    }

    fn scores_into(&self, context: &[f64], scores: &mut [f64]) -> Result<()> {
        let alpha = self.params.alpha;
        self.arms.widths_into(context, scores);
        for (s, arm) in scores.iter_mut().zip(&self.arms.arms) {
            *s = arm.predict(context) + alpha * s.sqrt();
        }
        Ok(())
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
        check_alpha(self.params.alpha).map_err(corrupt)?;
        self.arms.validate(&self.spec)
    }
}
