//! UCB1 (Auer et al. 2002): the arm of the largest `mean + alpha·sqrt(2 ln N / n_arm)`
//! (MABWiser's form); an arm never pulled goes first (ties split evenly).

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::models::bandit::policy::{corrupt, BanditSpec, Policy};
use crate::models::bandit::values::ArmStats;
use crate::models::bandit::StartPolicy;
use crate::models::kit::setters;

/// UCB1 settings (`"type": "ucb1"`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Ucb1 {
    /// Width of the confidence bound, >= 0 (default 1).
    pub alpha: f64,
}

impl Default for Ucb1 {
    fn default() -> Self {
        Self { alpha: 1.0 }
    }
}

setters!(Ucb1 { alpha: f64 });

impl Ucb1 {
    fn check(&self) -> Result<()> {
        if !(self.alpha >= 0.0 && self.alpha.is_finite()) {
            return Err(Error::param("alpha", self.alpha, "a finite value >= 0"));
        }
        Ok(())
    }
}

/// A UCB1 policy and its learning state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ucb1Policy {
    params: Ucb1,
    spec: BanditSpec,
    arms: Vec<ArmStats>,
    total: u64,
}

impl StartPolicy for Ucb1 {
    const NAME: &'static str = "ucb1";
    type Policy = Ucb1Policy;

    fn start(&self, spec: &BanditSpec) -> Result<Ucb1Policy> {
        self.check()?;
        spec.check()?;
        Ok(Ucb1Policy {
            params: self.clone(),
            spec: *spec,
            arms: vec![ArmStats::default(); spec.n_actions],
            total: 0,
        })
    }
}

impl Policy for Ucb1Policy {
    fn spec(&self) -> &BanditSpec {
        &self.spec
    }

    fn scores_into(&self, _context: &[f64], scores: &mut [f64]) -> Result<()> {
        let log_total = (self.total.max(1) as f64).ln();
        for (s, a) in scores.iter_mut().zip(&self.arms) {
            *s = if a.n == 0 {
                f64::INFINITY
            } else {
                a.mean() + self.params.alpha * (2.0 * log_total / a.n as f64).sqrt()
            };
        }
        Ok(())
    }

    fn learn(&mut self, _context: &[f64], action: usize, reward: f64) -> Result<()> {
        let arm = self
            .arms
            .get_mut(action)
            .ok_or_else(|| corrupt("an action without an arm"))?;
        arm.add(reward);
        self.total += 1;
        Ok(())
    }

    fn validate(&self) -> Result<()> {
        self.params.check().map_err(corrupt)?;
        ArmStats::validate_all(&self.arms, &self.spec)?;
        if self.arms.iter().map(|a| a.n).sum::<u64>() != self.total {
            return Err(corrupt("the arm counts do not add up to the total"));
        }
        Ok(())
    }
}
