//! Outlier detection (scikit-learn's `IsolationForest`, ...): models of kind *outlier
//! detector*, trained without a target; they predict `1` (inlier) or `-1` (outlier) per row
//! and score every row (`score_samples`: the lower, the more abnormal).
//!
//! | trainer | config `type` | model |
//! |---|---|---|
//! | [`IsolationForest`] | `isolation_forest` | [`IsolationForestModel`] |

pub mod isolation_forest;

pub use isolation_forest::{
    average_path_length, Contamination, IsolationForest, IsolationForestModel, MaxSamples,
};
