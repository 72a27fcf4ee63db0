//! Decision trees (CART, as scikit-learn's `sklearn.tree`): [`DecisionTreeClassifier`] and
//! [`DecisionTreeRegressor`], the building blocks of the forests in
//! [`crate::models::ensemble::forest`].
//!
//! - criteria `gini`, `entropy` / `log_loss` (bits), `squared_error`, `friedman_mse`,
//!   `absolute_error` (weighted median leaves, `O(n log n)` split search per feature);
//! - `best` splitter (sorts each node's values per candidate feature; thresholds at midpoints
//!   between consecutive distinct values) or `random` splitter (extremely randomized trees);
//! - depth-first growth, or best-first growth to `max_leaf_nodes` leaves;
//! - missing values (`NaN`) at fit are sent to the side that scores better, per split (as
//!   scikit-learn 1.3+); when a split saw no missing value, a missing value at predict goes
//!   to the child that received more training samples;
//! - the fitted tree is a [`FlatTree`]: compact node records walked by prediction, leaf
//!   values apart, bounds-checked by [`crate::traits::Model::validate`].
//!
//! ```
//! use amlis::data::DenseDataset;
//! use amlis::models::tree::{DecisionTreeRegressor, SampleCount};
//! use amlis::traits::{Predictor, Trainer};
//! use ndarray::{Array1, Array2};
//!
//! let x = Array2::from_shape_fn((100, 3), |(i, j)| ((i * 7 + j * 13) % 17) as f64);
//! let y: Array1<f64> = x.rows().into_iter().map(|r| 2.0 * r[0] - r[2]).collect();
//! let data = DenseDataset::regression(x.clone(), y)?;
//! let model = DecisionTreeRegressor::default()
//!     .min_samples_leaf(SampleCount::Count(5))
//!     .fit(&data)?;
//! assert!(model.tree().validate(3).is_ok());
//! assert!(model.get_n_leaves() <= 20); // every leaf keeps at least 5 of the 100 rows
//! assert_eq!(model.predict(x.view())?.len(), 100);
//! # Ok::<(), amlis::Error>(())
//! ```

pub(crate) mod builder;
pub(crate) mod classify;
pub(crate) mod criterion;
pub(crate) mod data;
pub mod decision_tree;
pub mod flat;
pub(crate) mod median;
pub mod params;
pub(crate) mod splitter;

pub use decision_tree::{
    DecisionTreeClassifier, DecisionTreeClassifierModel, DecisionTreeRegressor,
    DecisionTreeRegressorModel,
};
pub use flat::{DecisionPath, FlatTree, TreeNode};
#[allow(deprecated)]
pub use params::Splitter;
pub use params::{
    ClassWeight, ClassWeightMode, ClassificationCriterion, MaxFeatures, MaxFeaturesRule,
    RegressionCriterion, SampleCount, SplitStrategy,
};
