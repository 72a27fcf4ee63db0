//! Linear Thompson sampling (Agrawal and Goyal 2013; MABWiser's LinTS): a ridge regression
//! per arm with coefficients drawn from N(θ, alpha² A⁻¹). For one context the drawn score
//! `x·β` of an arm is N(θ·x, alpha² xᵀA⁻¹x) — the same distribution, drawn with one normal
//! per arm instead of a d-dimensional one. The chosen action wins the first draw; the pmf is
//! the frequency of wins over `pmf_samples` draws (see `thompson_sampling`).

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::models::bandit::draw;
use crate::models::bandit::linear::{
    check_alpha, check_l2_lambda, LinearArms, LinearPolicy, LinearRule,
};
use crate::models::bandit::pmf::DecisionRng;
use crate::models::bandit::thompson_sampling::monte_carlo_pmf;
use crate::models::kit::setters;

/// LinTS settings (`"type": "lin_ts"`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LinTs {
    /// Scale of the posterior's standard deviation, >= 0 (default 1).
    pub alpha: f64,
    /// Ridge penalty, > 0 (default 1).
    pub l2_lambda: f64,
    /// Posterior draws that estimate the pmf, >= 1 (default 100).
    pub pmf_samples: usize,
}

impl Default for LinTs {
    fn default() -> Self {
        Self {
            alpha: 1.0,
            l2_lambda: 1.0,
            pmf_samples: 100,
        }
    }
}

setters!(LinTs {
    alpha: f64,
    l2_lambda: f64,
    pmf_samples: usize
});

/// A LinTS policy and its learning state.
pub type LinTsPolicy = LinearPolicy<LinTs>;

impl LinearRule for LinTs {
    const NAME: &'static str = "lin_ts";

    fn check(&self) -> Result<()> {
        check_alpha(self.alpha)?;
        check_l2_lambda(self.l2_lambda)?;
        if self.pmf_samples == 0 {
            return Err(Error::param("pmf_samples", 0, "at least 1 draw"));
        }
        Ok(())
    }

    fn l2_lambda(&self) -> f64 {
        self.l2_lambda
    }

    /// Every allowed action starts at 0; the winners are counted by [`explore`](Self::explore).
    fn scores_into(&self, _arms: &LinearArms, _context: &[f64], scores: &mut [f64]) {
        scores.fill(0.0);
    }

    fn explore(
        &self,
        arms: &LinearArms,
        context: &[f64],
        pmf_out: &mut [f64],
        rng: &mut DecisionRng,
    ) -> usize {
        // Each arm's mean and standard deviation, computed once (excluded arms are never
        // drawn).
        let mut sd = vec![0.0; arms.arms.len()];
        arms.widths_into(context, &mut sd);
        let stats: Vec<(f64, f64)> = arms
            .arms
            .iter()
            .zip(&sd)
            .map(|(arm, w)| (arm.predict(context), self.alpha * w.sqrt()))
            .collect();
        monte_carlo_pmf(pmf_out, self.pmf_samples, rng, |a, rng| {
            let (mean, sd) = stats[a];
            mean + sd * draw::normal(rng)
        })
    }
}
