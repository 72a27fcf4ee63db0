//! The [`Policy`] trait every bandit policy implements, what a policy is made for
//! ([`BanditSpec`]), and the input checks every policy shares.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::models::bandit::logs::LoggedFeedback;
use crate::models::bandit::pmf::{self, DecisionRng};

/// What a policy decides between and from: `n_actions` actions, contexts of `n_features`
/// numbers (0 for a context-free policy; a context-free policy given `n_features > 0` checks
/// the length and ignores the values), and the seed of its exploration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BanditSpec {
    /// The number of actions (arms), at least 1.
    pub n_actions: usize,
    /// The number of context features after preprocessing.
    pub n_features: usize,
    /// The seed of every random choice; a decision's generator is the stream `event_id` of it.
    pub random_state: u64,
}

impl BanditSpec {
    /// A spec for `n_actions` actions and contexts of `n_features` numbers, seed 0.
    pub fn new(n_actions: usize, n_features: usize) -> Self {
        Self {
            n_actions,
            n_features,
            random_state: 0,
        }
    }

    /// Sets the seed.
    pub fn random_state(mut self, seed: u64) -> Self {
        self.random_state = seed;
        self
    }

    /// Checks the counts (at least one action).
    pub fn check(&self) -> Result<()> {
        if self.n_actions == 0 {
            return Err(Error::InvalidArgument(
                "argument `n_actions` is 0; a bandit needs at least 1 action".into(),
            ));
        }
        Ok(())
    }

    /// Checks a context: `n_features` finite numbers.
    pub fn check_context(&self, context: &[f64]) -> Result<()> {
        if context.len() != self.n_features {
            return Err(Error::shape(
                "context",
                format!("{} features", self.n_features),
                format!("{} values", context.len()),
            ));
        }
        // The common case in one branch-free pass (vectorized), the position only on failure.
        if context.iter().fold(true, |ok, v| ok & v.is_finite()) {
            return Ok(());
        }
        if let Some(j) = context.iter().position(|v| !v.is_finite()) {
            return Err(Error::InvalidValue {
                context: "bandit context".into(),
                row: 0,
                column: Some(j.to_string()),
                message: format!(
                    "feature {j} is {}; contexts must be finite (impute missing values with a \
                     preprocessing step)",
                    context[j]
                ),
            });
        }
        Ok(())
    }

    /// Checks the pmf buffer of a decision: one value per action.
    pub fn check_pmf(&self, pmf: &[f64]) -> Result<()> {
        if pmf.len() != self.n_actions {
            return Err(Error::shape(
                "pmf",
                format!("{} values (the number of actions)", self.n_actions),
                format!("{} values", pmf.len()),
            ));
        }
        Ok(())
    }

    /// Checks one outcome: a context, an action index, a finite reward and a probability in
    /// (0, 1].
    pub fn check_outcome(
        &self,
        context: &[f64],
        action: usize,
        reward: f64,
        probability: f64,
    ) -> Result<()> {
        self.check_context(context)?;
        if action >= self.n_actions {
            return Err(Error::InvalidArgument(format!(
                "argument `action` is {action}; expected an action index below {}",
                self.n_actions
            )));
        }
        if !reward.is_finite() {
            return Err(Error::InvalidArgument(format!(
                "argument `reward` is {reward}; expected a finite number"
            )));
        }
        if !(probability > 0.0 && probability <= 1.0) {
            return Err(Error::InvalidArgument(format!(
                "argument `probability` is {probability}; expected the probability the action \
                 was chosen with, in (0, 1]"
            )));
        }
        Ok(())
    }
}

/// How a policy turns its per-action scores into the probabilities of a decision.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Exploration {
    /// The best-scored allowed actions share `1 - epsilon` (ties split evenly; `+inf` beats
    /// every finite score) and `epsilon` is spread over every allowed action
    /// ([`pmf::epsilon_greedy`]); `EpsilonGreedy(0.0)` is greedy.
    EpsilonGreedy(f64),
    /// Probabilities proportional to `exp(score / tau)` ([`pmf::softmax`]).
    Softmax(f64),
}

impl Exploration {
    /// Turns `scores` (excluded actions at `-inf`) into the decision's pmf in place and draws
    /// the action from it.
    pub fn decide(self, scores: &mut [f64], rng: &mut DecisionRng) -> usize {
        match self {
            Exploration::EpsilonGreedy(epsilon) => pmf::epsilon_greedy(scores, epsilon),
            Exploration::Softmax(tau) => pmf::softmax(scores, tau),
        }
        pmf::sample(scores, rng)
    }
}

/// A policy that decides online and learns from each outcome: a (contextual) bandit.
///
/// # Contract
///
/// - [`choose_into`](Self::choose_into) takes `&self`: it never changes the policy. It writes
///   the probability of every action under the policy (`n_actions` values summing to 1,
///   0 for excluded actions) into `pmf` and returns the chosen action, drawn from that pmf
///   with a generator seeded from the policy's `random_state` and `event_id`. The same state,
///   context, `event_id` and exclusions give the same action and the same bits in `pmf` on
///   any thread. Deterministic policies (UCB, greedy) put all the mass on their best actions
///   (ties split evenly); Thompson sampling reports the Monte Carlo frequency with which each
///   action wins over its `pmf_samples` posterior draws (the chosen action is the winner of
///   the first draw, so its reported probability is never 0).
/// - [`update`](Self::update) takes `&mut self`: it learns from one outcome — `reward` was
///   observed after `action` in `context`, which the logging policy chose with
///   `probability` (in (0, 1]; the policies here learn on-policy and check but do not weight
///   by it). Rewards are "larger is better".
/// - Neither allocates in the hot path of the linear policies; inputs are checked first
///   (context length and finiteness, action index, finite reward, probability range) and an
///   invalid input leaves the policy unchanged.
/// - A policy is plain data (`Send + Sync`). Sharing one between threads is the job of the
///   handle that owns it (`service::bandit::Bandit` holds it under a read-write lock:
///   decisions share the read lock, updates take the write lock, so an update is visible to
///   every decision that starts after it returns).
///
/// Implementing it for a new policy: [`scores_into`](Self::scores_into) writes a score per
/// action, [`exploration`](Self::exploration) names the rule that turns scores into
/// probabilities (greedy by default), and [`learn`](Self::learn) takes one checked outcome
/// (a policy that does not learn online returns [`Error::Unsupported`]). The checks, the
/// exclusions, the decision's generator and the draw are the provided
/// [`choose_into`](Self::choose_into) and [`update`](Self::update); a policy whose draw is
/// not "scores -> pmf -> one draw" (Thompson sampling) overrides [`explore`](Self::explore).
pub trait Policy: Send + Sync + std::fmt::Debug {
    /// What the policy decides between and from.
    fn spec(&self) -> &BanditSpec;

    /// The number of actions.
    fn n_actions(&self) -> usize {
        self.spec().n_actions
    }

    /// The number of context features (0 for a context-free policy made without features).
    fn n_features(&self) -> usize {
        self.spec().n_features
    }

    /// Writes a score per action for a checked `context` into `scores` (`n_actions` values;
    /// larger is better).
    fn scores_into(&self, context: &[f64], scores: &mut [f64]) -> Result<()>;

    /// The rule that turns scores into the decision's pmf (default: greedy, ties split).
    fn exploration(&self) -> Exploration {
        Exploration::EpsilonGreedy(0.0)
    }

    /// Turns the scores in `pmf` (excluded actions at `-inf`) into the decision's pmf in place
    /// and draws the action with `rng`; by default by [`exploration`](Self::exploration).
    fn explore(&self, context: &[f64], pmf: &mut [f64], rng: &mut DecisionRng) -> usize {
        let _ = context;
        self.exploration().decide(pmf, rng)
    }

    /// Chooses an action for `context` with the actions in `excluded` ruled out; writes the
    /// decision's pmf into `pmf` (`n_actions` values) and returns the chosen action.
    fn choose_into(
        &self,
        context: &[f64],
        event_id: u64,
        excluded: &[usize],
        pmf: &mut [f64],
    ) -> Result<usize> {
        let spec = self.spec();
        spec.check_context(context)?;
        spec.check_pmf(pmf)?;
        self.scores_into(context, pmf)?;
        pmf::mark_excluded(pmf, excluded)?;
        let mut rng = DecisionRng::new(spec.random_state, event_id);
        Ok(self.explore(context, pmf, &mut rng))
    }

    /// [`choose_into`](Self::choose_into) returning the pmf as a new vector.
    fn choose(
        &self,
        context: &[f64],
        event_id: u64,
        excluded: &[usize],
    ) -> Result<(usize, Vec<f64>)> {
        let mut pmf = vec![0.0; self.n_actions()];
        let action = self.choose_into(context, event_id, excluded, &mut pmf)?;
        Ok((action, pmf))
    }

    /// Learns from one checked outcome (context, action index, finite reward); an error must
    /// leave the policy unchanged.
    fn learn(&mut self, context: &[f64], action: usize, reward: f64) -> Result<()>;

    /// Learns from one outcome: checks it, then [`learn`](Self::learn)s it.
    fn update(
        &mut self,
        context: &[f64],
        action: usize,
        reward: f64,
        probability: f64,
    ) -> Result<()> {
        self.spec()
            .check_outcome(context, action, reward, probability)?;
        self.learn(context, action, reward)
    }

    /// Learns from a batch of logged outcomes, row by row in order (the same as calling
    /// [`update`](Self::update) on each row). Every row is checked before the first is
    /// learned, so a bad row leaves the policy unchanged.
    fn partial_fit(&mut self, logs: &LoggedFeedback) -> Result<()> {
        logs.check_against(self.spec())?;
        for row in 0..logs.n_rows() {
            let (context, action, reward, probability) = logs.row(row);
            self.update(context, action, reward, probability)?;
        }
        Ok(())
    }

    /// Bounds-checks a state read from a file: every length and count a corrupt file could
    /// break (an error is [`Error::ModelCorrupt`]).
    fn validate(&self) -> Result<()>;
}

/// Checks an exploration probability (`epsilon`, in [0, 1]).
pub(crate) fn check_epsilon(epsilon: f64) -> Result<()> {
    if !(0.0..=1.0).contains(&epsilon) {
        return Err(Error::param("epsilon", epsilon, "a probability in [0, 1]"));
    }
    Ok(())
}

/// A `ModelCorrupt` error for a loaded policy.
pub(crate) fn corrupt(what: impl std::fmt::Display) -> Error {
    Error::ModelCorrupt(format!("bandit state: {what}"))
}
