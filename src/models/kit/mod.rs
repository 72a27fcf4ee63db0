//! What model families share, so that a new family is a few obvious steps:
//!
//! - [`ClassWeight`]: the one `class_weight` setting of every classifier, and the per-class
//!   weights it gives ([`class_weight`]);
//! - [`validate`]: the input checks every model makes (feature kinds, column counts, output
//!   lengths, finite values, loaded state);
//! - `setters!`: builder-style setters of a settings struct, one line per field;
//! - `context!`: a trainer's [`NAME`](crate::traits::Trainer::NAME) with a suffix
//!   (`"ridge predict"`), made at compile time for the allocation-free prediction paths.
//!
//! A new family implements [`Trainer`](crate::traits::Trainer) (with its config `type` as
//! `NAME`), [`Model`](crate::traits::Model), [`Predictor`](crate::traits::Predictor), the
//! output traits it has ([`ProbabilisticPredictor`](crate::traits::ProbabilisticPredictor),
//! [`ScorePredictor`](crate::traits::ScorePredictor),
//! [`TransformPredictor`](crate::traits::TransformPredictor)) and
//! [`Outputs`](crate::traits::Outputs) saying which, declares its builder methods with
//! `setters!`, names itself in errors through `NAME`, and is registered with one line in
//! [`crate::models::registry`] (ARCHITECTURE.md, "Adding a model family").

pub mod class_weight;
pub mod contamination;
pub(crate) mod name;
pub(crate) mod setters;
pub mod validate;

pub use class_weight::{ClassWeight, ClassWeightMode};
pub use contamination::Contamination;
pub(crate) use name::context;
pub(crate) use setters::setters;
