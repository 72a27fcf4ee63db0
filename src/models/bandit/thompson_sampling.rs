//! Thompson sampling: each arm's reward mean is drawn from its posterior and the largest
//! draw wins. Two reward models: `"bernoulli"` (rewards in [0, 1], Beta(1 + Σr, 1 + n - Σr)
//! posterior from a uniform prior; MABWiser's) and `"gaussian"` (unit-variance rewards,
//! N(Σr / (n + 1), 1 / (n + 1)) posterior from a N(0, 1) prior; Agrawal and Goyal 2013).
//!
//! The chosen action is the winner of the first posterior draw; the reported pmf is the
//! frequency of each action's wins over `pmf_samples` draws (the first included), a Monte
//! Carlo estimate of the probability the policy chooses each action.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::models::bandit::pmf::DecisionRng;
use crate::models::bandit::policy::{corrupt, BanditSpec, Policy};
use crate::models::bandit::values::ArmStats;
use crate::models::bandit::{draw, pmf, StartPolicy};
use crate::models::kit::setters;

/// The reward model of Thompson sampling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RewardModel {
    /// Rewards in [0, 1] (successes), Beta posterior.
    #[default]
    Bernoulli,
    /// Real rewards of unit variance, normal posterior.
    Gaussian,
}

/// Thompson sampling settings (`"type": "thompson_sampling"`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ThompsonSampling {
    /// `"bernoulli"` (default) or `"gaussian"`.
    pub reward: RewardModel,
    /// Posterior draws that estimate the pmf, >= 1 (default 100).
    pub pmf_samples: usize,
}

impl Default for ThompsonSampling {
    fn default() -> Self {
        Self {
            reward: RewardModel::Bernoulli,
            pmf_samples: 100,
        }
    }
}

setters!(ThompsonSampling {
    reward: RewardModel,
    pmf_samples: usize
});

impl ThompsonSampling {
    fn check(&self) -> Result<()> {
        if self.pmf_samples == 0 {
            return Err(Error::param("pmf_samples", 0, "at least 1 draw"));
        }
        Ok(())
    }
}

/// A Thompson sampling policy and its learning state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThompsonSamplingPolicy {
    params: ThompsonSampling,
    spec: BanditSpec,
    arms: Vec<ArmStats>,
}

impl StartPolicy for ThompsonSampling {
    const NAME: &'static str = "thompson_sampling";
    type Policy = ThompsonSamplingPolicy;

    fn start(&self, spec: &BanditSpec) -> Result<ThompsonSamplingPolicy> {
        self.check()?;
        spec.check()?;
        Ok(ThompsonSamplingPolicy {
            params: self.clone(),
            spec: *spec,
            arms: vec![ArmStats::default(); spec.n_actions],
        })
    }
}

/// Counts the winners of `samples` draws of `score(arm, rng)` over the allowed arms (those of
/// `pmf` not `-inf`) into `pmf` as frequencies; returns the first draw's winner. Shared by
/// Thompson sampling and LinTS.
pub(crate) fn monte_carlo_pmf(
    pmf_out: &mut [f64],
    samples: usize,
    rng: &mut DecisionRng,
    mut score: impl FnMut(usize, &mut DecisionRng) -> f64,
) -> usize {
    for p in pmf_out.iter_mut() {
        if pmf::allowed(*p) {
            *p = 0.0;
        }
    }
    let mut first = usize::MAX;
    for _ in 0..samples {
        let (mut best, mut winner) = (f64::NEG_INFINITY, usize::MAX);
        for (a, p) in pmf_out.iter().enumerate() {
            if !pmf::allowed(*p) {
                continue;
            }
            let s = score(a, rng);
            if winner == usize::MAX || s > best {
                best = s;
                winner = a;
            }
        }
        if first == usize::MAX {
            first = winner;
        }
        pmf_out[winner] += 1.0;
    }
    for p in pmf_out.iter_mut() {
        *p = if pmf::allowed(*p) {
            *p / samples as f64
        } else {
            0.0
        };
    }
    first
}

impl Policy for ThompsonSamplingPolicy {
    fn spec(&self) -> &BanditSpec {
        &self.spec
    }

    /// Every allowed action starts at 0; the winners are counted by [`explore`](Self::explore).
    fn scores_into(&self, _context: &[f64], scores: &mut [f64]) -> Result<()> {
        scores.fill(0.0);
        Ok(())
    }

    fn explore(&self, _context: &[f64], pmf_out: &mut [f64], rng: &mut DecisionRng) -> usize {
        let arms = &self.arms;
        let model = self.params.reward;
        monte_carlo_pmf(pmf_out, self.params.pmf_samples, rng, |a, rng| {
            let s = arms[a];
            match model {
                RewardModel::Bernoulli => draw::beta(1.0 + s.sum, 1.0 + s.n as f64 - s.sum, rng),
                RewardModel::Gaussian => {
                    let n1 = s.n as f64 + 1.0;
                    s.sum / n1 + draw::normal(rng) / n1.sqrt()
                }
            }
        })
    }

    fn learn(&mut self, _context: &[f64], action: usize, reward: f64) -> Result<()> {
        if self.params.reward == RewardModel::Bernoulli && !(0.0..=1.0).contains(&reward) {
            return Err(Error::InvalidArgument(format!(
                "argument `reward` is {reward}; Bernoulli Thompson sampling takes rewards in \
                 [0, 1] (use \"reward\": \"gaussian\" for real rewards)"
            )));
        }
        let arm = self
            .arms
            .get_mut(action)
            .ok_or_else(|| corrupt("an action without an arm"))?;
        arm.add(reward);
        Ok(())
    }

    fn validate(&self) -> Result<()> {
        self.params.check().map_err(corrupt)?;
        ArmStats::validate_all(&self.arms, &self.spec)?;
        if self.params.reward == RewardModel::Bernoulli
            && self.arms.iter().any(|a| a.sum < 0.0 || a.sum > a.n as f64)
        {
            return Err(corrupt("a Bernoulli arm with more successes than pulls"));
        }
        Ok(())
    }
}
