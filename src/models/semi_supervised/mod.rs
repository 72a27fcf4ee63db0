//! Semi-supervised classification: models that learn from a few labelled rows and many
//! unlabeled ones (a `NaN` target; a missing target cell in a table, or a token such as
//! `"-1"` marked with [`crate::data::mark_unlabeled`]), as scikit-learn's
//! `sklearn.semi_supervised`.
//!
//! | type | trainer | model |
//! |---|---|---|
//! | `label_propagation` | [`LabelPropagation`] | [`LabelPropagationModel`] |
//! | `label_spreading` | [`LabelSpreading`] | [`LabelPropagationModel`] |
//! | `self_training_classifier` | [`SelfTrainingClassifier`] | [`SelfTrainingModel`] |
//!
//! The two graph models share one iteration core ([`label_propagation`]) over the graphs of
//! [`graph`] (`rbf`: a dense kernel bounded by `max_kernel_bytes`; `knn`: a sparse graph from
//! the neighbour index). Self-training wraps any registered classifier with probabilities.
//! Every other supervised model refuses unlabeled rows with
//! [`crate::Error::UnlabeledRows`]; the registry tags these three `semi_supervised`.

pub mod graph;
pub mod label_propagation;
pub mod self_training;
pub mod symmetric;

pub use graph::Kernel;
pub use label_propagation::{LabelPropagation, LabelPropagationModel, LabelSpreading};
pub use self_training::{Criterion, SelfTrainingClassifier, SelfTrainingModel, Termination};
