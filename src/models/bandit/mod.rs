//! Contextual bandits: policies that choose an action for a context, report the full
//! probability vector (pmf) of every decision, and learn online from the reward of the
//! action taken — reinforcement learning in its deployable form.
//!
//! | `type` | policy | settings |
//! |---|---|---|
//! | `epsilon_greedy` | best estimate w.p. `1-ε`, uniform w.p. `ε` | `epsilon`, `decay`, `estimator` |
//! | `ucb1` | mean + `alpha`·sqrt(2 ln N / n) | `alpha` |
//! | `thompson_sampling` | Beta–Bernoulli or Gaussian posterior draws | `reward`, `pmf_samples` |
//! | `softmax` | ∝ exp(estimate / `tau`) | `tau`, `estimator` |
//! | `lin_ucb` | disjoint LinUCB, ridge per arm | `alpha`, `l2_lambda` |
//! | `lin_ts` | linear Thompson sampling | `alpha`, `l2_lambda`, `pmf_samples` |
//! | `lin_greedy` | ridge per arm, epsilon-greedy | `epsilon`, `l2_lambda` |
//!
//! `epsilon_greedy` and `softmax` estimate each arm's mean reward, or — with
//! `"estimator": {"type": "sgd_regressor", ...}` (any registered regressor) — learn a
//! regressor per arm from the context ([`estimator_arms`]).
//!
//! Every policy implements [`Policy`] (`choose_into`, `update`, `partial_fit` from
//! [`LoggedFeedback`]); [`PolicyConfig`] parses one from JSON and [`AnyPolicy`] holds any of
//! them as serializable state. The thread-safe handle with preprocessing and the model file
//! is `service::bandit::Bandit`.
//!
//! ```
//! use amlis::models::bandit::{BanditSpec, LinUcb, Policy, StartPolicy};
//!
//! let mut policy = LinUcb::default().alpha(0.5).start(&BanditSpec::new(3, 2).random_state(7))?;
//! for event in 0..200u64 {
//!     let context = [(event % 5) as f64 / 4.0, 1.0];
//!     let (action, pmf) = policy.choose(&context, event, &[])?;
//!     assert!((pmf.iter().sum::<f64>() - 1.0).abs() < 1e-12);
//!     let reward = if action == (event % 3) as usize { 1.0 } else { 0.0 };
//!     policy.update(&context, action, reward, pmf[action])?;
//! }
//! // Excluded actions get probability 0.
//! let (action, pmf) = policy.choose(&[0.5, 1.0], 999, &[0, 2])?;
//! assert_eq!((action, pmf[0], pmf[2]), (1, 0.0, 0.0));
//! # Ok::<(), amlis::Error>(())
//! ```

pub mod draw;
pub mod epsilon_greedy;
pub mod estimator_arms;
pub mod lin_greedy;
pub mod lin_ts;
pub mod lin_ucb;
pub mod linear;
pub mod logs;
pub mod packed;
pub mod pmf;
pub mod policy;
pub mod ridge;
pub mod softmax;
pub mod thompson_sampling;
pub mod ucb1;
pub mod values;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::models::bandit::pmf::DecisionRng;

pub use epsilon_greedy::{EpsilonGreedy, EpsilonGreedyPolicy};
pub use lin_greedy::{LinGreedy, LinGreedyPolicy};
pub use lin_ts::{LinTs, LinTsPolicy};
pub use lin_ucb::{LinUcb, LinUcbPolicy};
pub use logs::{LogColumns, LoggedFeedback};
pub use policy::{BanditSpec, Exploration, Policy};
pub use softmax::{Softmax, SoftmaxPolicy};
pub use thompson_sampling::{RewardModel, ThompsonSampling, ThompsonSamplingPolicy};
pub use ucb1::{Ucb1, Ucb1Policy};

/// A policy's settings: they start a fresh policy for a [`BanditSpec`].
pub trait StartPolicy {
    /// The config `type` name.
    const NAME: &'static str;
    /// The policy with its learning state.
    type Policy: Policy;

    /// Validates the settings (naming the parameter) and starts a policy that has learned
    /// nothing.
    fn start(&self, spec: &BanditSpec) -> Result<Self::Policy>;
}

macro_rules! policies {
    ( $( $v:ident ( $c:ty => $p:ty ) = $name:literal ; )* ) => {
        /// The settings of any policy, as the `policy` section of a bandit config names it.
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        #[serde(tag = "type", rename_all = "snake_case")]
        #[non_exhaustive]
        pub enum PolicyConfig {
            $(
                #[doc = concat!("`", $name, "`")]
                #[serde(rename = $name)]
                $v($c),
            )*
        }

        /// Any policy with its whole learning state (what a bandit file stores).
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        #[serde(tag = "type", content = "state", rename_all = "snake_case")]
        #[non_exhaustive]
        pub enum AnyPolicy {
            $(
                #[doc = concat!("A `", $name, "` policy.")]
                #[serde(rename = $name)]
                $v($p),
            )*
        }

        impl PolicyConfig {
            /// The config `type` name.
            pub fn type_name(&self) -> &'static str {
                match self {
                    $( PolicyConfig::$v(_) => <$c as StartPolicy>::NAME, )*
                }
            }

            /// Every policy `type` name.
            pub fn type_names() -> &'static [&'static str] {
                &[$( $name ),*]
            }

            /// Starts a fresh policy.
            pub fn start(&self, spec: &BanditSpec) -> Result<AnyPolicy> {
                match self {
                    $( PolicyConfig::$v(c) => Ok(AnyPolicy::$v(c.start(spec)?)), )*
                }
            }

            /// Parses a policy from its `type` and a JSON object of settings, reporting the
            /// exact key of an error (`policy.alpha`).
            pub fn from_json_parts(type_name: &str, params: serde_json::Value) -> Result<Self> {
                fn parse<T: serde::de::DeserializeOwned>(v: serde_json::Value) -> Result<T> {
                    serde_path_to_error::deserialize(v).map_err(|e| {
                        let path = e.path().to_string();
                        let key = if path == "." { "policy".to_string() } else { format!("policy.{path}") };
                        Error::Config { key, message: e.inner().to_string() }
                    })
                }
                match type_name {
                    $( $name => Ok(PolicyConfig::$v(parse(params)?)), )*
                    other => Err(Error::Config {
                        key: "policy.type".into(),
                        message: format!(
                            "unknown policy type `{other}`; known types: {}",
                            Self::type_names().join(", ")
                        ),
                    }),
                }
            }
        }

        impl AnyPolicy {
            /// The policy as a trait object.
            pub fn as_policy(&self) -> &dyn Policy {
                match self {
                    $( AnyPolicy::$v(p) => p, )*
                }
            }

            /// The policy as a mutable trait object.
            pub fn as_policy_mut(&mut self) -> &mut dyn Policy {
                match self {
                    $( AnyPolicy::$v(p) => p, )*
                }
            }

            /// The config `type` name of the policy.
            pub fn type_name(&self) -> &'static str {
                match self {
                    $( AnyPolicy::$v(_) => <$c as StartPolicy>::NAME, )*
                }
            }
        }
    };
}

policies! {
    EpsilonGreedy(EpsilonGreedy => EpsilonGreedyPolicy) = "epsilon_greedy";
    Ucb1(Ucb1 => Ucb1Policy) = "ucb1";
    ThompsonSampling(ThompsonSampling => ThompsonSamplingPolicy) = "thompson_sampling";
    Softmax(Softmax => SoftmaxPolicy) = "softmax";
    LinUcb(LinUcb => LinUcbPolicy) = "lin_ucb";
    LinTs(LinTs => LinTsPolicy) = "lin_ts";
    LinGreedy(LinGreedy => LinGreedyPolicy) = "lin_greedy";
}

impl Policy for AnyPolicy {
    fn spec(&self) -> &BanditSpec {
        self.as_policy().spec()
    }

    fn scores_into(&self, context: &[f64], scores: &mut [f64]) -> Result<()> {
        self.as_policy().scores_into(context, scores)
    }

    fn exploration(&self) -> Exploration {
        self.as_policy().exploration()
    }

    fn explore(&self, context: &[f64], pmf: &mut [f64], rng: &mut DecisionRng) -> usize {
        self.as_policy().explore(context, pmf, rng)
    }

    fn learn(&mut self, context: &[f64], action: usize, reward: f64) -> Result<()> {
        self.as_policy_mut().learn(context, action, reward)
    }

    fn partial_fit(&mut self, logs: &LoggedFeedback) -> Result<()> {
        self.as_policy_mut().partial_fit(logs)
    }

    fn validate(&self) -> Result<()> {
        self.as_policy().validate()
    }
}

impl crate::traits::OnlineLearner for AnyPolicy {
    fn n_actions(&self) -> usize {
        Policy::n_actions(self)
    }

    fn n_features(&self) -> usize {
        Policy::n_features(self)
    }

    fn choose(&self, context: &[f64], event_id: u64, pmf: &mut [f64]) -> Result<usize> {
        self.choose_into(context, event_id, &[], pmf)
    }

    fn update(
        &mut self,
        context: &[f64],
        action: usize,
        reward: f64,
        probability: f64,
    ) -> Result<()> {
        Policy::update(self, context, action, reward, probability)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_policy_parses_from_empty_settings_and_names_bad_keys() {
        for name in PolicyConfig::type_names() {
            let c = PolicyConfig::from_json_parts(name, serde_json::json!({})).unwrap();
            assert_eq!(c.type_name(), *name);
            let p = c.start(&BanditSpec::new(4, 3)).unwrap();
            assert_eq!(p.type_name(), *name);
            p.validate().unwrap();
            let (a, pmf) = p.choose(&[0.1, 0.2, 0.3], 1, &[]).unwrap();
            assert!(a < 4 && pmf[a] > 0.0, "{name}");
            assert!((pmf.iter().sum::<f64>() - 1.0).abs() < 1e-12, "{name}");
        }
        let e =
            PolicyConfig::from_json_parts("lin_ucb", serde_json::json!({"alpa": 1})).unwrap_err();
        assert!(
            matches!(e, Error::Config { ref key, .. } if key == "policy.alpa"),
            "{e}"
        );
        let e = PolicyConfig::from_json_parts("lin_ucb", serde_json::json!({"alpha": "x"}))
            .unwrap_err();
        assert!(
            matches!(e, Error::Config { ref key, .. } if key == "policy.alpha"),
            "{e}"
        );
        assert!(PolicyConfig::from_json_parts("nope", serde_json::json!({})).is_err());
    }

    #[test]
    fn invalid_settings_name_the_parameter() {
        let spec = BanditSpec::new(2, 1);
        let cases: Vec<(PolicyConfig, &str)> = vec![
            (
                PolicyConfig::LinUcb(LinUcb::default().l2_lambda(0.0)),
                "l2_lambda",
            ),
            (PolicyConfig::LinUcb(LinUcb::default().alpha(-1.0)), "alpha"),
            (
                PolicyConfig::EpsilonGreedy(EpsilonGreedy::default().epsilon(1.5)),
                "epsilon",
            ),
            (
                PolicyConfig::EpsilonGreedy(EpsilonGreedy::default().decay(0.0)),
                "decay",
            ),
            (PolicyConfig::Softmax(Softmax::default().tau(0.0)), "tau"),
            (
                PolicyConfig::ThompsonSampling(ThompsonSampling::default().pmf_samples(0)),
                "pmf_samples",
            ),
            (
                PolicyConfig::LinGreedy(LinGreedy::default().epsilon(-0.1)),
                "epsilon",
            ),
        ];
        for (c, name) in cases {
            match c.start(&spec).unwrap_err() {
                Error::InvalidParameter { name: n, .. } => assert_eq!(n, name),
                other => panic!("{other}"),
            }
        }
        assert!(matches!(
            PolicyConfig::LinUcb(LinUcb::default()).start(&BanditSpec::new(0, 1)),
            Err(Error::InvalidArgument(_))
        ));
    }

    #[test]
    fn bad_outcomes_are_errors_and_leave_the_state_unchanged() {
        let mut p = PolicyConfig::LinUcb(LinUcb::default())
            .start(&BanditSpec::new(3, 2))
            .unwrap();
        let before = p.clone();
        assert!(p.update(&[1.0], 0, 1.0, 1.0).is_err());
        assert!(p.update(&[1.0, f64::NAN], 0, 1.0, 1.0).is_err());
        assert!(p.update(&[1.0, 2.0], 3, 1.0, 1.0).is_err());
        assert!(p.update(&[1.0, 2.0], 0, f64::INFINITY, 1.0).is_err());
        assert!(p.update(&[1.0, 2.0], 0, 1.0, 0.0).is_err());
        assert_eq!(p, before);
        let mut pmf = [0.0; 2];
        assert!(p.choose_into(&[1.0, 2.0], 0, &[], &mut pmf).is_err());
        let mut ts = PolicyConfig::ThompsonSampling(ThompsonSampling::default())
            .start(&BanditSpec::new(2, 0))
            .unwrap();
        assert!(ts.update(&[], 0, 2.0, 1.0).is_err());
    }

    #[test]
    fn context_free_policies_find_the_best_arm() {
        // Arm 2 pays 0.8, the others 0.2 (Bernoulli, from a fixed stream).
        for name in ["epsilon_greedy", "ucb1", "thompson_sampling", "softmax"] {
            let settings = if name == "softmax" {
                serde_json::json!({"tau": 0.05})
            } else {
                serde_json::json!({})
            };
            let mut p = PolicyConfig::from_json_parts(name, settings)
                .unwrap()
                .start(&BanditSpec::new(4, 0).random_state(3))
                .unwrap();
            let mut rng = crate::common::rng::for_task(11, 0);
            let mut late = 0;
            for t in 0..2000u64 {
                let (a, pmf) = p.choose(&[], t, &[]).unwrap();
                let pay = if a == 2 { 0.8 } else { 0.2 };
                let r = f64::from(rand::Rng::gen::<f64>(&mut rng) < pay);
                p.update(&[], a, r, pmf[a]).unwrap();
                if t >= 1000 && a == 2 {
                    late += 1;
                }
            }
            assert!(
                late > 800,
                "{name}: arm 2 chosen {late} of the last 1000 times"
            );
        }
    }
}
