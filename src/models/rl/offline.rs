//! Offline contextual-bandit policy learning from logged feedback `(x, a, r, p)` by the
//! reductions of Vowpal Wabbit's `--cb_type ips|dm|dr` to regression of a per-action reward
//! estimate, over any registered regressor; the result is the greedy policy of the fitted
//! action values.
//!
//! - `dm`: regress the logged reward on `(x, a)` over the logged rows;
//! - `ips`: regress, for every row and every action `a`, `1[a = a_i] r_i / p_i`;
//! - `dr`: regress, for every row and action, `q(x_i, a) + 1[a = a_i] (r_i - q(x_i, a_i)) /
//!   p_i`, with `q` a direct-method model cross-fitted over `n_folds` folds.

use ndarray::{Array2, ArrayView2};
use serde::{Deserialize, Serialize};

use super::action_value::{
    check_actions, check_regressor, cross_fit_predict, default_regressor, ActionEncoding,
    ActionValueModel,
};
use super::greedy::{GreedyPolicy, PolicyOrigin};
use crate::error::{Error, Result};
use crate::models::ModelConfig;
use crate::traits::FitContext;

/// Logged bandit feedback: contexts, the actions taken, their rewards and the logging
/// policy's probability of each taken action.
#[derive(Debug, Clone, Copy)]
pub struct BanditLogs<'a> {
    /// Contexts, one row per decision.
    pub contexts: ArrayView2<'a, f64>,
    /// Actions taken, in `0..n_actions`.
    pub actions: &'a [usize],
    /// Rewards observed.
    pub rewards: &'a [f64],
    /// Logging propensities `p(a_i | x_i)` in `(0, 1]`.
    pub propensities: &'a [f64],
}

impl BanditLogs<'_> {
    fn check(&self, n_actions: usize) -> Result<()> {
        let n = self.contexts.nrows();
        if n == 0 {
            return Err(Error::Empty("the logs have no row".into()));
        }
        for (name, len) in [
            ("actions", self.actions.len()),
            ("rewards", self.rewards.len()),
            ("propensities", self.propensities.len()),
        ] {
            if len != n {
                return Err(Error::shape(name, format!("{n} values (one per row)"), len));
            }
        }
        check_actions(self.actions, n_actions, "actions")?;
        let bad = |v: &[f64], ok: &dyn Fn(f64) -> bool| v.iter().position(|&x| !ok(x));
        if let Some(row) = bad(self.rewards, &|r| r.is_finite()) {
            return Err(invalid("rewards", row, "a finite reward"));
        }
        if let Some(row) = bad(self.propensities, &|p| p > 0.0 && p <= 1.0) {
            return Err(invalid("propensities", row, "a probability in (0, 1]"));
        }
        Ok(())
    }
}

fn invalid(context: &str, row: usize, expected: &str) -> Error {
    Error::InvalidValue {
        context: context.to_string(),
        row,
        column: None,
        message: format!("expected {expected}"),
    }
}

/// The reduction from bandit feedback to regression.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reduction {
    /// Inverse propensity scoring.
    Ips,
    /// Direct method.
    Dm,
    /// Doubly robust.
    #[default]
    Dr,
}

impl Reduction {
    fn name(self) -> &'static str {
        match self {
            Reduction::Ips => "ips",
            Reduction::Dm => "dm",
            Reduction::Dr => "dr",
        }
    }
}

/// Learns a greedy policy from logged bandit feedback.
///
/// ```
/// use amlis::models::rl::{BanditLogs, OfflinePolicyLearner, Reduction};
/// use ndarray::array;
///
/// // Action 1 pays in context 1, action 0 in context 0; uniform logging.
/// let x = array![[0.0], [0.0], [1.0], [1.0]];
/// let logs = BanditLogs { contexts: x.view(), actions: &[0, 1, 0, 1],
///                         rewards: &[1.0, 0.0, 0.0, 1.0], propensities: &[0.5; 4] };
/// let learner = OfflinePolicyLearner { reduction: Reduction::Ips, ..Default::default() }
///     .with_estimator(serde_json::json!({"type": "decision_tree_regressor"}))?;
/// let policy = learner.fit(&logs, 2, &amlis::traits::FitContext::new())?;
/// assert_eq!((policy.choose(&[0.0])?, policy.choose(&[1.0])?), (0, 1));
/// # Ok::<(), amlis::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OfflinePolicyLearner {
    /// The reduction (`ips`, `dm`, `dr`).
    pub reduction: Reduction,
    /// The regressor (any registered regressor; extra trees by default).
    pub estimator: ModelConfig,
    /// How the action enters the regression.
    pub action_encoding: ActionEncoding,
    /// Folds of the cross-fitted direct-method model of `dr` (1: fitted in-sample).
    pub n_folds: usize,
}

impl Default for OfflinePolicyLearner {
    fn default() -> Self {
        Self {
            reduction: Reduction::Dr,
            estimator: default_regressor(),
            action_encoding: ActionEncoding::OneHot,
            n_folds: 2,
        }
    }
}

impl OfflinePolicyLearner {
    /// Sets the regressor from its JSON config (`{"type": ..., <hyperparameters>}`).
    pub fn with_estimator(mut self, config: serde_json::Value) -> Result<Self> {
        self.estimator = super::fitted_q::parse_estimator(config)?;
        Ok(self)
    }

    /// Learns the greedy policy from `logs` with actions in `0..n_actions`.
    pub fn fit(
        &self,
        logs: &BanditLogs<'_>,
        n_actions: usize,
        ctx: &FitContext<'_>,
    ) -> Result<GreedyPolicy> {
        check_regressor(&self.estimator, "estimator")?;
        if self.n_folds == 0 {
            return Err(Error::param("n_folds", 0, "at least 1"));
        }
        if n_actions == 0 {
            return Err(Error::param("n_actions", 0, "at least 1"));
        }
        logs.check(n_actions)?;
        let (x, a, r, p) = (logs.contexts, logs.actions, logs.rewards, logs.propensities);
        let q = match self.reduction {
            Reduction::Dm => ActionValueModel::fit(
                x,
                a,
                r,
                None,
                n_actions,
                self.action_encoding,
                &self.estimator,
                ctx,
            )?,
            Reduction::Ips | Reduction::Dr => {
                let baseline = if self.reduction == Reduction::Dr {
                    cross_fit_predict(
                        x,
                        a,
                        r,
                        n_actions,
                        self.action_encoding,
                        &self.estimator,
                        self.n_folds,
                        ctx,
                    )?
                } else {
                    vec![0.0; x.nrows() * n_actions]
                };
                // Every (row, action) pair with its pseudo-reward.
                let (n, d) = x.dim();
                let rows = n * n_actions;
                let mut xx = Array2::zeros((rows, d));
                let mut aa = Vec::with_capacity(rows);
                let mut yy = Vec::with_capacity(rows);
                for i in 0..n {
                    for act in 0..n_actions {
                        xx.row_mut(i * n_actions + act).assign(&x.row(i));
                        let base = baseline.get(i * n_actions + act).copied().unwrap_or(0.0);
                        let correction = if act == a[i] {
                            (r[i] - base) / p[i]
                        } else {
                            0.0
                        };
                        aa.push(act);
                        yy.push(base + correction);
                    }
                }
                ActionValueModel::fit(
                    xx.view(),
                    &aa,
                    &yy,
                    None,
                    n_actions,
                    self.action_encoding,
                    &self.estimator,
                    ctx,
                )?
            }
        };
        Ok(GreedyPolicy::new(
            q,
            PolicyOrigin::Bandit {
                reduction: self.reduction.name().to_string(),
            },
        ))
    }
}
