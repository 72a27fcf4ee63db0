//! The model pillar: every model family, the registry that names them, and the kit they
//! share.
//!
//! - [`kind`]: what a model is ([`Estimator`] kind, capability [`Tags`]) and what it can
//!   write per row ([`PredictKind`]);
//! - [`registry`]: [`ModelConfig`] (every trainer, chosen by its config `type`) and
//!   [`AnyModel`] (every fitted model), generated from one list;
//! - the families: [`dummy`] baselines, [`linear`] models, decision [`tree`]s, tree
//!   [`ensemble`]s, [`feature_selection`];
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

pub mod dummy;
pub mod ensemble;
pub mod feature_selection;
pub mod kind;
pub mod kit;
pub mod linear;
pub mod registry;
pub mod stream;
pub mod tree;

pub use kind::{Estimator, PredictKind, Tags};
pub use registry::{AnyModel, ModelConfig, Registered, REGISTERED};
pub use stream::AnyLearner;
