//! Clustering (scikit-learn's `sklearn.cluster`): models of kind *clusterer*, trained without
//! a target; they predict a cluster label per row and transform rows into distances to the
//! cluster centres.
//!
//! | trainer | config `type` | model |
//! |---|---|---|
//! | [`KMeans`] | `k_means` | [`KMeansModel`] |
//! | [`MiniBatchKMeans`] | `mini_batch_k_means` | [`KMeansModel`] |
//! | [`Dbscan`] | `dbscan` | [`DbscanModel`] |
//! | [`Hdbscan`] | `hdbscan` | [`HdbscanModel`] |

pub mod dbscan;
mod dbscan_tree;
pub mod hdbscan;
pub(crate) mod init;
pub mod k_means;
pub mod mini_batch_k_means;

pub use dbscan::{Dbscan, DbscanModel};
pub use hdbscan::{Hdbscan, HdbscanModel};
pub use k_means::{KMeans, KMeansInit, KMeansModel, NInit};
pub use mini_batch_k_means::{MiniBatchKMeans, MiniBatchKMeansState};
