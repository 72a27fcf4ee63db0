//! Softmax (Boltzmann) exploration: arms drawn with probability proportional to
//! `exp(estimate / tau)`. Estimates are mean rewards, or a regressor per arm with an
//! `estimator` (a contextual policy).

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::models::bandit::policy::{corrupt, BanditSpec, Exploration, Policy};
use crate::models::bandit::values::ArmValues;
use crate::models::bandit::StartPolicy;
use crate::models::kit::setters;
use crate::models::ModelConfig;

/// Softmax settings (`"type": "softmax"`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Softmax {
    /// Temperature, > 0 (default 1, MABWiser's): smaller is greedier.
    pub tau: f64,
    /// A regressor per arm (any registered regressor config) instead of mean rewards.
    pub estimator: Option<ModelConfig>,
}

impl Default for Softmax {
    fn default() -> Self {
        Self {
            tau: 1.0,
            estimator: None,
        }
    }
}

setters!(Softmax { tau: f64, estimator: ModelConfig => Some });

impl Softmax {
    fn check(&self) -> Result<()> {
        if !(self.tau > 0.0 && self.tau.is_finite()) {
            return Err(Error::param("tau", self.tau, "a finite temperature > 0"));
        }
        Ok(())
    }
}

/// A softmax policy and its learning state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SoftmaxPolicy {
    params: Softmax,
    spec: BanditSpec,
    values: ArmValues,
}

impl StartPolicy for Softmax {
    const NAME: &'static str = "softmax";
    type Policy = SoftmaxPolicy;

    fn start(&self, spec: &BanditSpec) -> Result<SoftmaxPolicy> {
        self.check()?;
        spec.check()?;
        Ok(SoftmaxPolicy {
            params: self.clone(),
            spec: *spec,
            values: ArmValues::new(spec, self.estimator.as_ref())?,
        })
    }
}

impl Policy for SoftmaxPolicy {
    fn spec(&self) -> &BanditSpec {
        &self.spec
    }

    fn scores_into(&self, context: &[f64], scores: &mut [f64]) -> Result<()> {
        self.values.scores_into(context, scores)
    }

    fn exploration(&self) -> Exploration {
        Exploration::Softmax(self.params.tau)
    }

    fn learn(&mut self, context: &[f64], action: usize, reward: f64) -> Result<()> {
        self.values.update(context, action, reward)
    }

    fn validate(&self) -> Result<()> {
        self.params.check().map_err(corrupt)?;
        self.values.validate(&self.spec)
    }
}
