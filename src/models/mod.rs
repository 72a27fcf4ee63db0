//! The model pillar: every model family, the registry that names them, and the kit they
//! share.
//!
//! - [`kind`]: what a model is ([`Estimator`] kind, capability [`Tags`]) and what it can
//!   write per row ([`PredictKind`]);
//! - [`registry`]: [`ModelConfig`] (every trainer, chosen by its config `type`) and
//!   [`AnyModel`] (every fitted model), generated from one list;
//! - the families: [`dummy`] baselines, [`linear`] models, decision [`tree`]s, tree
//!   [`ensemble`]s, [`feature_selection`], [`cluster`]ing, [`decomposition`], [`mixture`]
//!   models, [`neighbors`], [`outlier`] detection, [`naive_bayes`] classifiers, [`svm`]s
//!   (support vector machines);
//! - [`stream`]: [`AnyLearner`], models under streaming training (`partial_fit`) and online
//!   policies;
//! - [`kit`]: what families share (class weights, input checks).
//!
//! ```
//! use amlis::models::{AnyModel, ModelConfig};
//! use amlis::traits::FitContext;
//!
//! let config = ModelConfig::from_json_parts("ridge", serde_json::json!({"alpha": 0.5}))?;
//! let model: AnyModel = config.fit(&amlis::data::datasets::diabetes()?, &FitContext::new())?;
//! assert_eq!(model.type_name(), "ridge");
//! # Ok::<(), amlis::Error>(())
//! ```

pub mod bandit;
pub mod cluster;
pub mod decomposition;
pub mod dummy;
pub mod ensemble;
pub mod feature_selection;
pub mod kind;
pub mod kit;
pub mod linear;
pub mod mixture;
pub mod naive_bayes;
pub mod neighbors;
pub mod outlier;
pub mod registry;
pub mod rl;
pub mod semi_supervised;
pub mod stream;
pub mod svm;
pub mod tree;

pub use kind::{Estimator, PredictKind, Tags};
pub use registry::{AnyModel, ModelConfig, Registered, REGISTERED};
pub use stream::AnyLearner;

#[cfg(test)]
mod tests {
    /// The public paths of the types that moved or were renamed still name them.
    #[test]
    #[allow(deprecated)]
    fn old_public_paths_still_compile() {
        use crate::models::kit::{ClassWeight, ClassWeightMode};

        let logistic: crate::linear::logistic::ClassWeight = ClassWeight::balanced();
        let tree: crate::tree::ClassWeight =
            ClassWeight::Mode(crate::tree::ClassWeightMode::Balanced);
        assert_eq!(logistic, tree);
        let tag: crate::linear::logistic::BalancedTag = ClassWeightMode::Balanced;
        assert_eq!(
            ClassWeight::Mode(tag),
            crate::tree::params::ClassWeight::balanced()
        );
        let splitter: crate::tree::Splitter = crate::tree::params::Splitter::Random;
        assert_eq!(splitter, crate::tree::SplitStrategy::Random);
        let average: crate::linear::sgd::Average = crate::linear::sgd::Average::From(3);
        assert_eq!(average, crate::linear::sgd::SgdAverage::From(3));
    }
}
