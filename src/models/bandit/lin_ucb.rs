//! Disjoint LinUCB (Li et al. 2010): a ridge regression per arm; the arm of the largest
//! `θ·x + alpha·sqrt(xᵀA⁻¹x)` is chosen (ties split evenly). The per-arm state is updated by
//! Sherman–Morrison in O(d²) per outcome and never re-inverted; arms never pulled score
//! `alpha·sqrt(xᵀx / l2_lambda)`, finite.

use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::models::bandit::linear::{
    check_alpha, check_l2_lambda, LinearArms, LinearPolicy, LinearRule,
};
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
pub type LinUcbPolicy = LinearPolicy<LinUcb>;

impl LinearRule for LinUcb {
    const NAME: &'static str = "lin_ucb";

    fn check(&self) -> Result<()> {
        check_alpha(self.alpha)?;
        check_l2_lambda(self.l2_lambda)
    }

    fn l2_lambda(&self) -> f64 {
        self.l2_lambda
    }

    /// `θ·x + alpha·sqrt(xᵀA⁻¹x)` per arm, the widths of all arms in one pass.
    fn scores_into(&self, arms: &LinearArms, context: &[f64], scores: &mut [f64]) {
        arms.widths_into(context, scores);
        for (s, arm) in scores.iter_mut().zip(&arms.arms) {
            *s = arm.predict(context) + self.alpha * s.sqrt();
        }
    }
}
