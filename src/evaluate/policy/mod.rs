//! Off-policy evaluation: the value of a policy estimated from bandit feedback logged under
//! another policy, by `replay`, `ips`, `snips`, `dm`, `dr`, `sndr` and `switch_dr`, with
//! weight clipping, the effective sample size and seeded bootstrap confidence intervals.
//!
//! The estimators restate the formulas of the Open Bandit Pipeline (`obp` 0.5.7; checked to
//! 1e-10 against `tests/fixtures/ope_generate.py`). The reward model of the model-based
//! estimators is given (`q(x, a)` per row and action) or cross-fitted over `n_folds` folds
//! with any registered regressor on the contexts and the one-hot action.
//!
//! ```
//! use amlis::evaluate::policy::{evaluate_policy, LoggedFeedback, OpeOptions};
//! use ndarray::array;
//!
//! // Two actions logged uniformly; the evaluated policy always picks action 1.
//! let policy = array![[0.0, 1.0], [0.0, 1.0], [0.0, 1.0], [0.0, 1.0]];
//! let logs = LoggedFeedback::new(&[0, 1, 0, 1], &[0.0, 1.0, 1.0, 0.0], policy.view())
//!     .propensities(&[0.5; 4]);
//! let report = evaluate_policy(&logs, &OpeOptions { n_bootstrap: 50, ..Default::default() })?;
//! assert_eq!(report.estimate("ips"), Some(0.5));
//! assert_eq!(report.estimate("replay"), Some(0.5));
//! # Ok::<(), amlis::Error>(())
//! ```

mod bootstrap;
mod estimator;

use ndarray::ArrayView2;
use serde::{Deserialize, Serialize};

pub use estimator::OpeEstimator;

use crate::common::parallel::{map_chunks_mut, map_fold_blocks};
use crate::error::{Error, Result};
use crate::models::rl::{cross_fit_predict, ActionEncoding};
use crate::models::ModelConfig;
use crate::traits::FitContext;
use estimator::{RowTerms, Sums, Weighting, MATCHED_TERM, N_TERMS};

/// Rows per parallel block (a fixed size: the sums do not depend on the thread count).
const BLOCK_ROWS: usize = 8192;

/// Logged bandit feedback and the evaluated policy's action distribution on the same rows.
#[derive(Debug, Clone, Copy)]
pub struct LoggedFeedback<'a> {
    /// The logged actions, in `0..n_actions`.
    pub actions: &'a [usize],
    /// The observed rewards.
    pub rewards: &'a [f64],
    /// The logging policy's probability of each logged action (needed by every estimator but
    /// `replay` and `dm`).
    pub propensities: Option<&'a [f64]>,
    /// The evaluated policy's action distribution, `n x n_actions`, rows summing to 1.
    pub policy: ArrayView2<'a, f64>,
    /// A given reward model `q(x_i, a)`, `n x n_actions`.
    pub reward_model: Option<ArrayView2<'a, f64>>,
    /// Contexts, `n x d`: what a reward model is cross-fitted on when none is given.
    pub contexts: Option<ArrayView2<'a, f64>>,
}

impl<'a> LoggedFeedback<'a> {
    /// Logs of `actions` and `rewards` against the evaluated `policy` (`n x n_actions`).
    pub fn new(actions: &'a [usize], rewards: &'a [f64], policy: ArrayView2<'a, f64>) -> Self {
        Self {
            actions,
            rewards,
            propensities: None,
            policy,
            reward_model: None,
            contexts: None,
        }
    }

    /// With the logging propensities.
    pub fn propensities(mut self, p: &'a [f64]) -> Self {
        self.propensities = Some(p);
        self
    }

    /// With a given reward model `q(x_i, a)` (`n x n_actions`).
    pub fn reward_model(mut self, q: ArrayView2<'a, f64>) -> Self {
        self.reward_model = Some(q);
        self
    }

    /// With the contexts a reward model is cross-fitted on.
    pub fn contexts(mut self, x: ArrayView2<'a, f64>) -> Self {
        self.contexts = Some(x);
        self
    }

    fn n_actions(&self) -> usize {
        self.policy.ncols()
    }
}

/// The options of [`evaluate_policy`] (all optional in JSON).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OpeOptions {
    /// The estimators to report; empty: every estimator the inputs allow.
    pub estimators: Vec<OpeEstimator>,
    /// Upper bound on the importance weights of `ips`, `snips`, `dr` and `sndr` (`null`: no
    /// clipping).
    pub clip: Option<f64>,
    /// The switch threshold of `switch_dr` on the raw weight (`null`: never switch, which is
    /// `dr` without clipping).
    pub tau: Option<f64>,
    /// Bootstrap resamples of the confidence intervals (0: no interval).
    pub n_bootstrap: usize,
    /// Intervals are `1 - alpha` percentile intervals.
    pub alpha: f64,
    /// Seed of the bootstrap and of the reward model's folds.
    pub random_state: u64,
    /// The regressor cross-fitted as the reward model when none is given
    /// (`{"type": "ridge", "alpha": 1.0}`; any registered regressor).
    pub estimator: Option<serde_json::Value>,
    /// Folds of the reward model's cross-fitting (1: fitted and predicted in-sample).
    pub n_folds: usize,
    /// How the action enters the reward model.
    pub action_encoding: ActionEncoding,
}

impl Default for OpeOptions {
    fn default() -> Self {
        Self {
            estimators: Vec::new(),
            clip: None,
            tau: None,
            n_bootstrap: 100,
            alpha: 0.05,
            random_state: 0,
            estimator: None,
            n_folds: 2,
            action_encoding: ActionEncoding::OneHot,
        }
    }
}

impl OpeOptions {
    /// Parses options from JSON, naming the key of an error.
    pub fn from_json(value: serde_json::Value) -> Result<Self> {
        serde_path_to_error::deserialize(value).map_err(|e| {
            let path = e.path().to_string();
            Error::Config {
                key: if path == "." { "options".into() } else { path },
                message: e.inner().to_string(),
            }
        })
    }

    fn check(&self) -> Result<Weighting> {
        if let Some(c) = self.clip {
            if c.is_nan() || c <= 0.0 {
                return Err(Error::param(
                    "clip",
                    c,
                    "a weight bound > 0 (or null for none)",
                ));
            }
        }
        if let Some(t) = self.tau {
            if t.is_nan() || t < 0.0 {
                return Err(Error::param(
                    "tau",
                    t,
                    "a threshold >= 0 (or null for none)",
                ));
            }
        }
        if !(self.alpha > 0.0 && self.alpha < 1.0) {
            return Err(Error::param("alpha", self.alpha, "a level in (0, 1)"));
        }
        if self.n_folds == 0 {
            return Err(Error::param("n_folds", 0, "at least 1"));
        }
        Ok(Weighting {
            clip: self.clip.unwrap_or(f64::INFINITY),
            tau: self.tau.unwrap_or(f64::INFINITY),
        })
    }
}

/// A percentile bootstrap interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Interval {
    /// Lower bound (`alpha / 2` percentile of the resampled estimates).
    pub lower: f64,
    /// Upper bound (`1 - alpha / 2` percentile).
    pub upper: f64,
    /// Mean of the resampled estimates.
    pub mean: f64,
}

/// One estimator's estimate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Estimate {
    /// The estimator's name.
    pub estimator: OpeEstimator,
    /// The estimated policy value.
    pub value: f64,
    /// The bootstrap interval, when resamples were asked for.
    pub interval: Option<Interval>,
}

/// What [`evaluate_policy`] reports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PolicyEvaluation {
    /// Logged rows.
    pub n_rows: usize,
    /// Actions.
    pub n_actions: usize,
    /// Kish's effective sample size `(sum w)^2 / sum w^2` of the (clipped) importance
    /// weights (`None` without propensities).
    pub effective_sample_size: Option<f64>,
    /// The largest (clipped) importance weight.
    pub max_weight: Option<f64>,
    /// Rows where the evaluated policy is deterministic on the logged action (what `replay`
    /// averages over).
    pub n_matched: usize,
    /// Bootstrap resamples behind the intervals, and their level.
    pub n_bootstrap: usize,
    /// Interval level `alpha`.
    pub alpha: f64,
    /// The estimates, in the order asked.
    pub estimates: Vec<Estimate>,
}

impl PolicyEvaluation {
    /// The value estimated by the estimator named `name`, if it was reported.
    pub fn estimate(&self, name: &str) -> Option<f64> {
        self.get(name).map(|e| e.value)
    }

    /// The estimate named `name`, if it was reported.
    pub fn get(&self, name: &str) -> Option<&Estimate> {
        self.estimates.iter().find(|e| e.estimator.name() == name)
    }

    /// The report as JSON (non-finite values as strings, as every JSON output of amlis).
    pub fn to_json(&self) -> Result<String> {
        serde_json::to_string(self).map_err(|e| Error::InvalidArgument(e.to_string()))
    }
}

/// Estimates the value of the evaluated policy on the logs by every estimator asked for.
///
/// Work runs in parallel over fixed blocks of rows, with sums combined in a fixed order; the
/// bootstrap intervals are Poisson-bootstrap percentile intervals whose counts come from one
/// seeded stream per (block of rows, resample): the report is the same for any thread count.
///
/// Errors name the first bad row: an action out of range, a non-finite reward, a propensity
/// outside `(0, 1]`, a policy row that is negative or does not sum to 1 (within 1e-6); an
/// estimator that needs propensities or a reward model without one is an
/// [`Error::InvalidArgument`].
pub fn evaluate_policy(
    logs: &LoggedFeedback<'_>,
    options: &OpeOptions,
) -> Result<PolicyEvaluation> {
    let weighting = options.check()?;
    let n = logs.actions.len();
    let k = logs.n_actions();
    if n == 0 {
        return Err(Error::Empty(
            "off-policy evaluation needs at least one logged row".into(),
        ));
    }
    if k == 0 {
        return Err(Error::shape("policy", "at least one action column", 0));
    }
    check_len("rewards", logs.rewards.len(), n)?;
    check_len("policy rows", logs.policy.nrows(), n)?;
    if let Some(p) = logs.propensities {
        check_len("propensities", p.len(), n)?;
    }
    let estimators = chosen_estimators(logs, options)?;
    let mut kept_terms = Vec::new();
    let fitted;
    let q: Option<ArrayView2<'_, f64>> = match (&logs.reward_model, &options.estimator) {
        (Some(q), _) => Some(q.view()),
        (None, Some(config)) if estimators.iter().any(|e| e.needs_reward_model()) => {
            fitted = fit_reward_model(logs, options, config.clone())?;
            Some(fitted.view())
        }
        _ => None,
    };
    if let Some(q) = q {
        if q.dim() != (n, k) {
            return Err(Error::shape(
                "reward_model",
                format!("{n}x{k} (rows x actions)"),
                format!("{}x{}", q.nrows(), q.ncols()),
            ));
        }
    }
    // One pass over the rows, in parallel over fixed blocks: each row's distinct terms
    // (`N_TERMS` per row, row after row: kept for the bootstrap, which resamples them) and
    // each block's sums, folded in block order.
    let n_blocks = n.div_ceil(BLOCK_ROWS);
    let pass = |b: usize, out: Option<&mut [f64]>| block_pass(logs, q, weighting, b, out);
    let blocks: Vec<Result<(Sums, usize)>> = if options.n_bootstrap > 0 {
        let mut terms = vec![0.0; n * N_TERMS];
        let blocks = map_chunks_mut(&mut terms, BLOCK_ROWS * N_TERMS, |b, chunk| {
            pass(b, Some(chunk))
        });
        kept_terms = terms;
        blocks
    } else {
        let mut blocks = Vec::with_capacity(n_blocks);
        map_fold_blocks(
            n_blocks,
            |b| pass(b, None),
            |_, r| {
                blocks.push(r);
                Ok(())
            },
        )?;
        blocks
    };
    let mut sums = Sums::default();
    let mut n_matched = 0;
    for block in blocks {
        let (s, matched) = block?;
        sums.merge(&s);
        n_matched += matched;
    }
    let intervals = bootstrap::intervals(&kept_terms, &estimators, options)?;
    let has_weights = logs.propensities.is_some();
    Ok(PolicyEvaluation {
        n_rows: n,
        n_actions: k,
        effective_sample_size: has_weights.then(|| sums.effective_sample_size()),
        max_weight: has_weights.then_some(sums.w_max),
        n_matched,
        n_bootstrap: options.n_bootstrap,
        alpha: options.alpha,
        estimates: estimators
            .iter()
            .enumerate()
            .map(|(j, &e)| Estimate {
                estimator: e,
                value: sums.estimate(e),
                interval: intervals.get(j).copied(),
            })
            .collect(),
    })
}

fn check_len(name: &str, len: usize, n: usize) -> Result<()> {
    if len == n {
        Ok(())
    } else {
        Err(Error::shape(
            name,
            format!("{n} (one per logged action)"),
            len,
        ))
    }
}

/// The estimators to report: those asked for (checked against the inputs), or every one the
/// inputs allow.
fn chosen_estimators(logs: &LoggedFeedback<'_>, options: &OpeOptions) -> Result<Vec<OpeEstimator>> {
    let has_q =
        logs.reward_model.is_some() || (options.estimator.is_some() && logs.contexts.is_some());
    let has_p = logs.propensities.is_some();
    let allowed =
        |e: OpeEstimator| (has_q || !e.needs_reward_model()) && (has_p || !e.needs_propensities());
    if options.estimators.is_empty() {
        return Ok(OpeEstimator::ALL
            .into_iter()
            .filter(|&e| allowed(e))
            .collect());
    }
    for &e in &options.estimators {
        if !allowed(e) {
            let missing = if !has_p && e.needs_propensities() {
                "logging propensities"
            } else {
                "a reward model (give `reward_model`, or `contexts` and an `estimator` to fit one)"
            };
            return Err(Error::InvalidArgument(format!(
                "estimator `{}` needs {missing}",
                e.name()
            )));
        }
    }
    Ok(options.estimators.clone())
}

/// Cross-fits the reward model `q(x, a)` on the contexts.
fn fit_reward_model(
    logs: &LoggedFeedback<'_>,
    options: &OpeOptions,
    config: serde_json::Value,
) -> Result<ndarray::Array2<f64>> {
    let config: ModelConfig = crate::models::rl::fitted_q::parse_estimator(config)?;
    let x = logs.contexts.ok_or_else(|| {
        Error::InvalidArgument(
            "a reward model is fitted on `contexts`, which were not given".into(),
        )
    })?;
    check_len("contexts rows", x.nrows(), logs.actions.len())?;
    let k = logs.n_actions();
    crate::models::rl::action_value::check_actions(logs.actions, k, "actions")?;
    let ctx = FitContext::new().random_state(options.random_state);
    let q = cross_fit_predict(
        x,
        logs.actions,
        logs.rewards,
        k,
        options.action_encoding,
        &config,
        options.n_folds,
        &ctx,
    )?;
    ndarray::Array2::from_shape_vec((x.nrows(), k), q)
        .map_err(|e| Error::shape("reward model", format!("{}x{k}", x.nrows()), e))
}

/// The sums of the rows of block `b` and how many of them the evaluated policy matches
/// (chooses with probability 1), writing each row's terms into `out` when given (`N_TERMS`
/// per row); the first bad row is the error.
fn block_pass(
    logs: &LoggedFeedback<'_>,
    q: Option<ArrayView2<'_, f64>>,
    weighting: Weighting,
    b: usize,
    mut out: Option<&mut [f64]>,
) -> Result<(Sums, usize)> {
    let start = b * BLOCK_ROWS;
    let end = (start + BLOCK_ROWS).min(logs.actions.len());
    let mut sums = Sums::default();
    let mut matched = 0;
    for i in start..end {
        let t = row_terms(logs, q, i)?.terms(weighting);
        sums.add(&t);
        matched += usize::from(t[MATCHED_TERM] == 1.0);
        if let Some(slot) = out
            .as_deref_mut()
            .and_then(|o| o.get_mut((i - start) * N_TERMS..(i - start + 1) * N_TERMS))
        {
            slot.copy_from_slice(&t);
        }
    }
    Ok((sums, matched))
}

/// The checked terms of row `i`.
#[inline]
fn row_terms(
    logs: &LoggedFeedback<'_>,
    q: Option<ArrayView2<'_, f64>>,
    i: usize,
) -> Result<RowTerms> {
    let bad = |context: &str, message: String| Error::InvalidValue {
        context: context.to_string(),
        row: i,
        column: None,
        message,
    };
    let k = logs.n_actions();
    let a = logs.actions.get(i).copied().unwrap_or(usize::MAX);
    if a >= k {
        return Err(bad(
            "actions",
            format!("action {a} is out of range (expected 0..{k})"),
        ));
    }
    let reward = logs.rewards.get(i).copied().unwrap_or(f64::NAN);
    if !reward.is_finite() {
        return Err(bad("rewards", format!("reward {reward} is not finite")));
    }
    let pi = logs.policy.row(i);
    let q_row = q.as_ref().map(|q| q.row(i));
    let mut total = 0.0;
    let mut dm_num = 0.0;
    for (j, &p) in pi.iter().enumerate() {
        if !(p >= 0.0 && p.is_finite()) {
            return Err(bad(
                "policy",
                format!("probability {p} of action {j} is not in [0, 1]"),
            ));
        }
        total += p;
        if let Some(v) = q_row.as_ref().and_then(|r| r.get(j).copied()) {
            if !v.is_finite() {
                return Err(bad(
                    "reward_model",
                    format!("q for action {j} is {v}, not finite"),
                ));
            }
            dm_num += p * v;
        }
    }
    if (total - 1.0).abs() > 1e-6 {
        return Err(bad(
            "policy",
            format!("the action probabilities sum to {total}, not 1"),
        ));
    }
    let pi_a = pi[a];
    let weight = match logs.propensities {
        Some(ps) => {
            let p = ps.get(i).copied().unwrap_or(f64::NAN);
            if !(p > 0.0 && p <= 1.0) {
                return Err(bad(
                    "propensities",
                    format!("propensity {p} is not in (0, 1]"),
                ));
            }
            pi_a / p
        }
        None => 0.0,
    };
    Ok(RowTerms {
        reward,
        weight,
        matched: f64::from(u8::from(pi_a == 1.0)),
        dm: dm_num / total,
        q_logged: q.map_or(0.0, |q| q[[i, a]]),
    })
}
