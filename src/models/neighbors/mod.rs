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
//!
//! Used by `dbscan` ([`crate::models::cluster::Dbscan`]) and local outlier factor; kNN models
//! and label spreading are to build on the same index.
//!
//! | trainer | config `type` | model |
//! |---|---|---|
//! | [`LocalOutlierFactor`] | `local_outlier_factor` | [`LocalOutlierFactorModel`] |

pub mod index;
pub mod lof;
pub mod metric;
mod search;
mod tree;

pub use index::{Algorithm, IndexParams, KNeighbors, NeighborBlock, NeighborIndex, Queries};
pub use lof::{Contamination, LocalOutlierFactor, LocalOutlierFactorModel};
pub use metric::{Distance, Metric};

#[cfg(test)]
mod tests;
