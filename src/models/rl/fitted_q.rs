//! Fitted Q iteration (Ernst, Geurts and Wehenkel 2005, "Tree-based batch mode reinforcement
//! learning"): batch reinforcement learning from logged transitions by repeated regression.
//!
//! `Q_1(s, a)` is a regression of the reward; `Q_t` regresses
//! `r + gamma * (1 - done) * max_a' Q_{t-1}(s', a')` on `(s, a)`. The result is the greedy
//! policy of `Q_N`.

use ndarray::ArrayView2;
use serde::{Deserialize, Serialize};

use super::action_value::{
    check_actions, check_regressor, default_regressor, ActionEncoding, ActionValueModel,
};
use super::greedy::{GreedyPolicy, PolicyOrigin};
use crate::common::rng;
use crate::error::{Error, Result};
use crate::models::ModelConfig;
use crate::traits::{Control, FitContext, FitEvent};

/// Logged transitions `(state, action, reward, next_state, done)`, one per row.
#[derive(Debug, Clone, Copy)]
pub struct Transitions<'a> {
    /// States, one row per transition.
    pub states: ArrayView2<'a, f64>,
    /// Actions taken, in `0..n_actions`.
    pub actions: &'a [usize],
    /// Rewards received.
    pub rewards: &'a [f64],
    /// Next states, one row per transition.
    pub next_states: ArrayView2<'a, f64>,
    /// Whether the next state is terminal (its value is 0).
    pub dones: &'a [bool],
}

impl Transitions<'_> {
    fn check(&self, n_actions: usize) -> Result<()> {
        let n = self.states.nrows();
        if n == 0 {
            return Err(Error::Empty(
                "fitted Q iteration needs at least one transition".into(),
            ));
        }
        if self.next_states.dim() != self.states.dim() {
            return Err(Error::shape(
                "next_states",
                format!("{:?} (the shape of states)", self.states.dim()),
                format!("{:?}", self.next_states.dim()),
            ));
        }
        for (name, len) in [
            ("actions", self.actions.len()),
            ("rewards", self.rewards.len()),
            ("dones", self.dones.len()),
        ] {
            if len != n {
                return Err(Error::shape(
                    name,
                    format!("{n} values (one per transition)"),
                    len,
                ));
            }
        }
        if let Some(row) = self.rewards.iter().position(|r| !r.is_finite()) {
            return Err(Error::InvalidValue {
                context: "rewards".into(),
                row,
                column: None,
                message: format!("reward {} is not finite", self.rewards[row]),
            });
        }
        check_actions(self.actions, n_actions, "actions")
    }
}

/// The fitted Q iteration trainer.
///
/// ```
/// use amlis::models::rl::{FittedQIteration, Transitions};
/// use ndarray::array;
///
/// // Two states on a line; action 1 moves right and state 1 pays 1.
/// let states = array![[0.0], [0.0], [1.0], [1.0]];
/// let next = array![[0.0], [1.0], [0.0], [1.0]];
/// let actions = [0, 1, 0, 1];
/// let rewards = [0.0, 1.0, 0.0, 1.0];
/// let dones = [false; 4];
/// let logs = Transitions { states: states.view(), actions: &actions, rewards: &rewards,
///                          next_states: next.view(), dones: &dones };
/// let fqi = FittedQIteration { gamma: 0.9, n_iterations: 20, ..Default::default() }
///     .with_estimator(serde_json::json!({"type": "decision_tree_regressor"}))?;
/// let policy = fqi.fit(&logs, 2, &amlis::traits::FitContext::new())?;
/// assert_eq!(policy.choose(&[0.0])?, 1);
/// # Ok::<(), amlis::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FittedQIteration {
    /// Discount factor in `[0, 1]`.
    pub gamma: f64,
    /// Number of regressions (the horizon the values look ahead).
    pub n_iterations: usize,
    /// The regressor (any registered regressor; extra trees by default).
    pub estimator: ModelConfig,
    /// How the action enters the regression.
    pub action_encoding: ActionEncoding,
}

impl Default for FittedQIteration {
    fn default() -> Self {
        Self {
            gamma: 0.95,
            n_iterations: 50,
            estimator: default_regressor(),
            action_encoding: ActionEncoding::OneHot,
        }
    }
}

impl FittedQIteration {
    /// Sets the regressor from its JSON config (`{"type": ..., <hyperparameters>}`).
    pub fn with_estimator(mut self, config: serde_json::Value) -> Result<Self> {
        self.estimator = parse_estimator(config)?;
        Ok(self)
    }

    fn check(&self) -> Result<()> {
        if !(0.0..=1.0).contains(&self.gamma) {
            return Err(Error::param(
                "gamma",
                self.gamma,
                "a discount factor in [0, 1]",
            ));
        }
        if self.n_iterations == 0 {
            return Err(Error::param("n_iterations", 0, "at least 1"));
        }
        check_regressor(&self.estimator, "estimator")
    }

    /// Learns the greedy policy of `Q_N` from `logs` with actions in `0..n_actions`.
    ///
    /// Iteration `t` fits under the seed `for_task(ctx.seed(), t)`; the callback hears each
    /// iteration (stage `"fitted_q_iteration"`, with the mean target) and may stop early.
    pub fn fit(
        &self,
        logs: &Transitions<'_>,
        n_actions: usize,
        ctx: &FitContext<'_>,
    ) -> Result<GreedyPolicy> {
        self.check()?;
        if n_actions == 0 {
            return Err(Error::param("n_actions", 0, "at least 1"));
        }
        logs.check(n_actions)?;
        let n = logs.states.nrows();
        let mut targets = logs.rewards.to_vec();
        let mut next_values = vec![0.0; n * n_actions];
        let mut q = None;
        let mut done_iterations = 0;
        for t in 0..self.n_iterations {
            if let Some(prev) = &q {
                ActionValueModel::predict_into(prev, logs.next_states, &mut next_values)?;
                for (i, target) in targets.iter_mut().enumerate() {
                    let best = next_values
                        .get(i * n_actions..(i + 1) * n_actions)
                        .map_or(0.0, |v| v.iter().copied().fold(f64::NEG_INFINITY, f64::max));
                    let future = if logs.dones[i] {
                        0.0
                    } else {
                        self.gamma * best
                    };
                    *target = logs.rewards[i] + future;
                }
            }
            let seed: u64 = rand::Rng::gen(&mut rng::for_task(ctx.seed(), t as u64));
            let fit_ctx = match ctx.threads() {
                Some(k) => FitContext::new().random_state(seed).n_threads(k),
                None => FitContext::new().random_state(seed),
            };
            q = Some(ActionValueModel::fit(
                logs.states,
                logs.actions,
                &targets,
                None,
                n_actions,
                self.action_encoding,
                &self.estimator,
                &fit_ctx,
            )?);
            done_iterations = t + 1;
            let mean = targets.iter().sum::<f64>() / n as f64;
            let event = FitEvent {
                stage: "fitted_q_iteration",
                iteration: t + 1,
                total: Some(self.n_iterations),
                values: &[("mean_target", mean)],
            };
            match ctx.report(&event) {
                Control::Continue => {}
                Control::Stop => break,
                Control::Cancel => {
                    return Err(Error::Cancelled("fitted Q iteration".into()));
                }
            }
        }
        let q = q.ok_or_else(|| Error::Empty("no iteration ran".into()))?;
        Ok(GreedyPolicy::new(
            q,
            PolicyOrigin::FittedQIteration {
                gamma: self.gamma,
                n_iterations: done_iterations,
            },
        ))
    }
}

/// Parses a regressor config `{"type": ..., <hyperparameters>}` with exact error keys.
pub fn parse_estimator(config: serde_json::Value) -> Result<ModelConfig> {
    let mut object = match config {
        serde_json::Value::Object(o) => o,
        other => {
            return Err(Error::Config {
                key: "estimator".into(),
                message: format!("expected an object with a `type`, found {other}"),
            })
        }
    };
    let type_name = match object.remove("type") {
        Some(serde_json::Value::String(s)) => s,
        _ => {
            return Err(Error::Config {
                key: "estimator.type".into(),
                message: "expected the name of a registered regressor".into(),
            })
        }
    };
    let config = ModelConfig::from_json_parts(&type_name, serde_json::Value::Object(object))?;
    check_regressor(&config, "estimator")?;
    Ok(config)
}
