//! Learners that keep learning after `fit`: [`AnyLearner`] holds any model under streaming
//! training (`partial_fit` on chunks) or any online policy (choose an action, learn from its
//! reward), started from the same `model` config a batch fit takes. The C ABI's
//! `AmlisLearner` wraps one.
//!
//! ```
//! use amlis::data::DenseDataset;
//! use amlis::models::{AnyLearner, ModelConfig};
//! use amlis::traits::{FitContext, StreamSpec};
//! use ndarray::{Array1, Array2};
//!
//! let config = ModelConfig::from_json_parts("sgd_classifier", serde_json::json!({"loss": "log_loss"}))?;
//! let spec = StreamSpec { n_features: 1, classes: vec!["no".into(), "yes".into()] };
//! let mut learner = AnyLearner::start(&config, &spec, &FitContext::new())?;
//! let x = Array2::from_shape_fn((40, 1), |(i, _)| i as f64 / 20.0 - 1.0);
//! let y = Array1::from_iter((0..40).map(|i| f64::from(i >= 20)));
//! let chunk = DenseDataset::classification(x, y)?.with_classes(spec.classes.clone())?;
//! for _ in 0..5 {
//!     learner.partial_fit(&chunk)?;
//! }
//! assert_eq!(learner.model()?.classes(), &["no", "yes"]);
//! assert!(learner.as_online().is_none()); // a classifier, not a policy
//! # Ok::<(), amlis::Error>(())
//! ```

use crate::error::{Error, Result};
use crate::models::registry::{check_labelled_as, AnyModel, ModelConfig, REGISTERED};
use crate::traits::{Dataset, FitContext, Incremental, OnlineLearner, StreamSpec, Trainer};

macro_rules! learners {
    ( $( $v:ident ( $t:ty ) ),* $(,)? ) => {
        /// Any model under streaming training, or any online policy.
        #[derive(Debug, Clone)]
        #[non_exhaustive]
        pub enum AnyLearner {
            $(
                #[doc = concat!("A streaming `", stringify!($v), "`.")]
                $v(<$t as Incremental>::Learner),
            )*
        }

        impl AnyLearner {
            /// Starts a learner for the model `config` names; a type that cannot learn
            /// online is [`Error::Unsupported`] naming the types that can.
            pub fn start(config: &ModelConfig, spec: &StreamSpec, ctx: &FitContext<'_>) -> Result<Self> {
                match config {
                    $( ModelConfig::$v(t) => Ok(AnyLearner::$v(t.start(spec, ctx)?)), )*
                    other => Err(Error::Unsupported(format!(
                        "model `{}` cannot learn from a stream; types that can: {}",
                        other.type_name(),
                        Self::type_names().join(", ")
                    ))),
                }
            }

            /// Learns from one chunk of labelled rows. Unlabeled rows (`NaN` targets) are
            /// refused as by a batch fit, with [`Error::UnlabeledRows`] naming the type.
            pub fn partial_fit(&mut self, chunk: &dyn Dataset) -> Result<()> {
                match self {
                    $( AnyLearner::$v(l) => {
                        check_labelled_as(<$t as Trainer>::NAME, chunk)?;
                        l.partial_fit(chunk)
                    } )*
                }
            }

            /// The model learned so far.
            pub fn model(&self) -> Result<AnyModel> {
                match self {
                    $( AnyLearner::$v(l) => Ok(AnyModel::$v(l.model()?)), )*
                }
            }

            /// The learner as an online policy (choose / update), when it is one.
            pub fn as_online(&self) -> Option<&dyn OnlineLearner> {
                None
            }

            /// The learner as a mutable online policy, when it is one.
            pub fn as_online_mut(&mut self) -> Option<&mut dyn OnlineLearner> {
                None
            }
        }
    };
}

learners! {
    SgdClassifier(crate::models::linear::sgd::SgdClassifier),
    SgdRegressor(crate::models::linear::sgd::SgdRegressor),
    IncrementalPca(crate::models::decomposition::IncrementalPca),
    MiniBatchKMeans(crate::models::cluster::MiniBatchKMeans),
    GaussianNb(crate::models::naive_bayes::GaussianNb),
    MultinomialNb(crate::models::naive_bayes::MultinomialNb),
    ComplementNb(crate::models::naive_bayes::ComplementNb),
    BernoulliNb(crate::models::naive_bayes::BernoulliNb),
    CategoricalNb(crate::models::naive_bayes::CategoricalNb),
}

impl AnyLearner {
    /// The config `type` names of every type that can learn from a stream (those the
    /// registry tags `supports_partial_fit`).
    pub fn type_names() -> Vec<&'static str> {
        REGISTERED
            .iter()
            .filter(|r| r.tags.supports_partial_fit)
            .map(|r| r.type_name)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_type_tagged_partial_fit_starts_a_learner() {
        let classes = vec!["a".to_string(), "b".to_string()];
        let spec = StreamSpec {
            n_features: 3,
            classes,
        };
        for r in REGISTERED {
            let config = ModelConfig::from_json_parts(r.type_name, serde_json::json!({})).unwrap();
            let started = AnyLearner::start(&config, &spec, &FitContext::new());
            assert_eq!(
                started.is_ok(),
                r.tags.supports_partial_fit,
                "{}",
                r.type_name
            );
            if let Err(e) = started {
                assert!(e.to_string().contains("sgd_classifier"), "{e}");
            }
        }
    }
}
