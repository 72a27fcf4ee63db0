//! Matrix decomposition (scikit-learn's `sklearn.decomposition`): transformers that project
//! rows onto principal axes.
//!
//! | trainer | config `type` | model |
//! |---|---|---|
//! | [`Pca`] | `pca` | [`PcaModel`] |
//! | [`IncrementalPca`] | `incremental_pca` | [`PcaModel`] |
//!
//! Both fit the same [`PcaModel`] (scikit-learn's fitted attributes of `PCA` and
//! `IncrementalPCA`); it transforms rows (`AMLIS_OUTPUT_TRANSFORM`), maps them back
//! ([`PcaModel::inverse_transform`]) and scores them under the probabilistic PCA model
//! (`score_samples`, `AMLIS_OUTPUT_SCORE`). The fitting core is
//! [`crate::common::pca`], shared with the `pca` preprocessing step.

pub mod incremental_pca;
pub mod pca;

pub use incremental_pca::{IncrementalPca, IncrementalPcaState};
pub use pca::{IteratedPower, NComponents, Pca, PcaModel};
