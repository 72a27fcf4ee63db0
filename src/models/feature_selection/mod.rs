//! Feature selection (scikit-learn's `sklearn.feature_selection`): transformers that keep
//! some of the feature columns.
//!
//! | trainer | config `type` | model |
//! |---|---|---|
//! | [`VarianceThreshold`] | `variance_threshold` | [`VarianceThresholdModel`] |

pub mod variance_threshold;

pub use variance_threshold::{VarianceThreshold, VarianceThresholdModel};
