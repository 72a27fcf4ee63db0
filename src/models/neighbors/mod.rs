//! Neighbour searches (scikit-learn's `sklearn.neighbors`): the exact index every
//! neighbour-based model shares, and the models built on it.
//!
//! - [`NeighborIndex`]: the rows of a training set indexed for k-nearest and radius queries,
//!   by brute force (blocked, GEMM-screened for euclidean), a kd-tree or a ball tree
//!   ([`Algorithm`], `leaf_size`), under a [`Metric`] (`euclidean`, `manhattan`,
//!   `chebyshev`, `minkowski` with `p`, `cosine`). Every algorithm returns the same
//!   neighbours in the same order with the same distance bits: sorted by distance, ties by
//!   training row (smaller first); a radius query keeps distances `<= radius`. Queries run in
//!   parallel over fixed blocks of query rows and have a streaming form (a `map` per block in
//!   parallel, a `fold` in block order) so callers never hold every neighbourhood at once.
//!   Models carry [`IndexParams`] (scikit-learn's `metric`, `p`, `algorithm`, `leaf_size`).
//! - [`LocalOutlierFactor`] (`local_outlier_factor`, an outlier detector).
//! - The kNN models ([`knn`]): [`KNeighborsClassifier`], [`KNeighborsRegressor`],
//!   [`RadiusNeighborsClassifier`], [`RadiusNeighborsRegressor`], voting through one piece of
//!   code ([`vote`], scikit-learn's `weights`).
//!
//! Used by `dbscan` ([`crate::models::cluster::Dbscan`]) and local outlier factor; kNN models
//! and the kNN models; label spreading is to build on the same index.
//!
//! | trainer | config `type` | model |
//! |---|---|---|
//! | [`LocalOutlierFactor`] | `local_outlier_factor` | [`LocalOutlierFactorModel`] |
//! | [`KNeighborsClassifier`] | `k_neighbors_classifier` | [`NeighborsClassifierModel`] |
//! | [`RadiusNeighborsClassifier`] | `radius_neighbors_classifier` | [`NeighborsClassifierModel`] |
//! | [`KNeighborsRegressor`] | `k_neighbors_regressor` | [`NeighborsRegressorModel`] |
//! | [`RadiusNeighborsRegressor`] | `radius_neighbors_regressor` | [`NeighborsRegressorModel`] |

pub mod index;
pub mod knn;
pub mod lof;
pub mod metric;
mod search;
mod tree;
pub mod vote;

pub use index::BlockSizes;
pub use index::{Algorithm, IndexParams, KNeighbors, NeighborBlock, NeighborIndex, Queries};
pub use knn::{
    KNeighborsClassifier, KNeighborsRegressor, Neighborhood, Neighbors, NeighborsClassifierModel,
    NeighborsRegressorModel, RadiusNeighborsClassifier, RadiusNeighborsRegressor,
};
pub use lof::{Contamination, LocalOutlierFactor, LocalOutlierFactorModel};
pub use metric::{Distance, Metric};
pub(crate) use search::Radius;
pub(crate) use tree::{Tree, Visitor};
pub use vote::Weights;

/// Errors on the first non-finite value of a row to predict, naming row `index` and its
/// column (the neighbour-based models take finite values only).
pub(crate) fn finite_row(context: &str, row: &[f64], index: usize) -> crate::error::Result<()> {
    match row.iter().position(|v| !v.is_finite()) {
        None => Ok(()),
        Some(j) => Err(crate::error::Error::InvalidValue {
            context: context.into(),
            row: index,
            column: Some(format!("x{j}")),
            message: format!(
                "{} is not a finite number; neighbour searches take finite values only \
                 (impute missing values first, e.g. with a `simple_imputer` step)",
                row.get(j).copied().unwrap_or(f64::NAN)
            ),
        }),
    }
}

#[cfg(test)]
mod tests;
