//! Learning policies from logs: offline contextual-bandit policy learning by the IPS, DM and
//! DR reductions ([`OfflinePolicyLearner`]) and batch reinforcement learning by fitted Q
//! iteration ([`FittedQIteration`]). Both fit an [`ActionValueModel`] over any registered
//! regressor and return a [`GreedyPolicy`] (`action_values`, `choose`), saved in the model
//! file envelope as kind [`POLICY_KIND`].
//!
//! Off-policy evaluation of a policy on logs is `crate::evaluate::policy`.

pub mod action_value;
pub mod fitted_q;
pub mod greedy;
pub mod offline;

pub use action_value::{cross_fit_predict, ActionEncoding, ActionValueModel};
pub use fitted_q::{FittedQIteration, Transitions};
pub use greedy::{argmax, GreedyPolicy, PolicyOrigin, ServedGreedyPolicy, POLICY_KIND};
pub use offline::{BanditLogs, OfflinePolicyLearner, Reduction};
