//! A registered regressor per arm, predicting the reward from the context: the value
//! estimates of epsilon-greedy and softmax with an `"estimator": {...}`.
//!
//! An estimator that learns from a stream (its tags list `supports_partial_fit`, e.g.
//! `sgd_regressor`) is refitted by `partial_fit` on each outcome; any other regressor is
//! refitted on its arm's whole history after each outcome (exact, but its cost grows with
//! the history: use it for short streams or warm starts from logs). Until an arm's
//! estimator has fitted (no outcome yet, or too few rows for the model) its estimate is 0.
//!
//! The state that lasts is the estimator config and every arm's history: loading a saved
//! policy replays the history through the same seeded learners, so it resumes bit-identically.

use ndarray::{Array1, Array2};
use serde::{Deserialize, Serialize};

use crate::data::DenseDataset;
use crate::error::{Error, Result};
use crate::models::bandit::policy::{corrupt, BanditSpec};
use crate::models::{AnyLearner, AnyModel, Estimator, ModelConfig, PredictKind};
use crate::traits::{FitContext, StreamSpec};

/// One arm's learned outcomes (row-major contexts and their rewards).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArmHistory {
    /// Contexts, row-major.
    pub x: Vec<f64>,
    /// Rewards, one per context.
    pub y: Vec<f64>,
}

/// What a file stores of [`EstimatorArms`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EstimatorArmsState {
    /// The regressor config every arm uses.
    pub estimator: ModelConfig,
    /// The context width.
    pub n_features: usize,
    /// The seed each arm's estimator is fitted with (offset by the arm index).
    pub random_state: u64,
    /// Every arm's history.
    pub history: Vec<ArmHistory>,
}

/// A fitted arm: its streaming learner (if the estimator streams) and current model.
#[derive(Debug, Clone)]
struct Fitted {
    learner: Option<AnyLearner>,
    model: Option<AnyModel>,
}

/// A regressor per arm (see the module docs).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(try_from = "EstimatorArmsState", into = "EstimatorArmsState")]
pub struct EstimatorArms {
    state: EstimatorArmsState,
    fitted: Vec<Fitted>,
}

impl PartialEq for EstimatorArms {
    fn eq(&self, other: &Self) -> bool {
        self.state == other.state
    }
}

impl From<EstimatorArms> for EstimatorArmsState {
    fn from(e: EstimatorArms) -> Self {
        e.state
    }
}

impl TryFrom<EstimatorArmsState> for EstimatorArms {
    type Error = Error;

    fn try_from(state: EstimatorArmsState) -> Result<Self> {
        let d = state.n_features;
        for (a, h) in state.history.iter().enumerate() {
            if h.x.len() != h.y.len().saturating_mul(d) || h.y.iter().any(|v| !v.is_finite()) {
                return Err(corrupt(format!(
                    "arm {a}: history of inconsistent length or values"
                )));
            }
        }
        if state.estimator.estimator() != Estimator::Regressor {
            return Err(corrupt("the per-arm estimator is not a regressor"));
        }
        let mut arms = Self {
            fitted: Vec::new(),
            state: EstimatorArmsState {
                history: vec![ArmHistory::default(); state.history.len()],
                ..state.clone()
            },
        };
        arms.fitted = (0..state.history.len())
            .map(|a| arms.start(a))
            .collect::<Result<_>>()?;
        for (a, h) in state.history.iter().enumerate() {
            for (x, &y) in h.x.chunks_exact(d.max(1)).zip(&h.y) {
                arms.update(&x[..d], a, y)?;
            }
        }
        Ok(arms)
    }
}

impl EstimatorArms {
    /// Untrained regressors of `estimator`, one per action.
    pub fn new(spec: &BanditSpec, estimator: &ModelConfig) -> Result<Self> {
        if estimator.estimator() != Estimator::Regressor {
            return Err(Error::param(
                "estimator",
                estimator.type_name(),
                "a regressor (e.g. sgd_regressor, ridge, random_forest_regressor)",
            ));
        }
        if spec.n_features == 0 {
            return Err(Error::param(
                "n_features",
                0,
                "at least 1 context feature for a policy with an `estimator`",
            ));
        }
        Self::try_from(EstimatorArmsState {
            estimator: estimator.clone(),
            n_features: spec.n_features,
            random_state: spec.random_state,
            history: vec![ArmHistory::default(); spec.n_actions],
        })
    }

    fn ctx(&self, arm: usize) -> FitContext<'static> {
        FitContext::new()
            .random_state(self.state.random_state.wrapping_add(arm as u64))
            .n_threads(1)
    }

    fn start(&self, arm: usize) -> Result<Fitted> {
        let spec = StreamSpec {
            n_features: self.state.n_features,
            classes: Vec::new(),
        };
        let learner = match AnyLearner::start(&self.state.estimator, &spec, &self.ctx(arm)) {
            Ok(l) => Some(l),
            Err(Error::Unsupported(_)) => None,
            Err(e) => return Err(e),
        };
        Ok(Fitted {
            learner,
            model: None,
        })
    }

    /// Writes each arm's predicted reward for `context` into `scores` (0 before an arm's
    /// estimator has fitted).
    pub fn scores_into(&self, context: &[f64], scores: &mut [f64]) -> Result<()> {
        for (s, f) in scores.iter_mut().zip(&self.fitted) {
            *s = match &f.model {
                Some(m) => {
                    let mut out = [0.0];
                    m.predict_kind_row_into(PredictKind::Value, context, &mut out)?;
                    out[0]
                }
                None => 0.0,
            };
        }
        Ok(())
    }

    /// Learns one outcome of `arm`: `partial_fit` on the one row, or a refit on the arm's
    /// whole history.
    pub fn update(&mut self, context: &[f64], arm: usize, reward: f64) -> Result<()> {
        let d = self.state.n_features;
        let ctx = self.ctx(arm);
        let (Some(history), Some(fitted)) =
            (self.state.history.get_mut(arm), self.fitted.get_mut(arm))
        else {
            return Err(Error::param("action", arm, "an action index"));
        };
        history.x.extend_from_slice(context);
        history.y.push(reward);
        match &mut fitted.learner {
            Some(learner) => {
                let x = Array2::from_shape_vec((1, d), context.to_vec())
                    .map_err(|e| Error::shape("context", d, e))?;
                let row = DenseDataset::regression(x, Array1::from(vec![reward]))?;
                learner.partial_fit(&row)?;
                fitted.model = Some(learner.model()?);
            }
            None => {
                let n = history.y.len();
                let x = Array2::from_shape_vec((n, d), history.x.clone())
                    .map_err(|e| Error::shape("arm history", n * d, e))?;
                let data = DenseDataset::regression(x, Array1::from(history.y.clone()))?;
                // Too few rows for the model (k-NN with more neighbours than rows, ...)
                // leaves the arm unfitted, estimated at 0, until it has enough.
                fitted.model = self.state.estimator.fit(&data, &ctx).ok();
            }
        }
        Ok(())
    }

    /// Checks the state against the policy's spec.
    pub fn validate(&self, spec: &BanditSpec) -> Result<()> {
        if self.state.history.len() != spec.n_actions || self.state.n_features != spec.n_features {
            return Err(corrupt(format!(
                "{} estimator arms of {} features for {} actions of {} features",
                self.state.history.len(),
                self.state.n_features,
                spec.n_actions,
                spec.n_features
            )));
        }
        Ok(())
    }
}
