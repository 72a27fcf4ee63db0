//! Model selection: cross-validation, grid / random / successive-halving search over pipeline
//! parameters set by path, and their results table.
//!
//! - [`cross_validate()`] over any [`CvData`]: a raw table fitting whole pipelines
//!   ([`TableData`] + [`TrainConfig`](crate::service::config::TrainConfig)) or a dense dataset fitting
//!   any [`ModelConfig`](crate::models::ModelConfig); [`cross_validate_json`] for the C ABI.
//! - [`GridSearch`] ([`ParamGrid`]), [`RandomSearch`] ([`ParamDistributions`]) and
//!   [`HalvingSearch`], returning [`SearchResults`]; parameters are set by path
//!   ([`set_params`]: `model.C`, `preprocess.0.strategy`).
//!
//! Every fold of every candidate runs in one flat rayon loop; each fit gets the same seed
//! (the context's), results are reduced in a fixed order, so the scores are the same for any
//! number of threads.

pub mod cross_validate;
pub mod grid;
pub mod halving;
pub mod json;
pub mod param_path;
pub mod random;
pub mod results;
pub mod search;

pub use cross_validate::{
    cross_validate, default_metric, mean_std, resolve_metrics, CvData, CvOptions, CvResults,
    FoldPrediction, MetricScores, TableData,
};
pub use grid::ParamGrid;
pub use halving::{HalvingSearch, MinResources, Schedule};
pub use json::{cross_validate_json, CvSpec};
pub use param_path::{set_params, set_path, Params};
pub use random::{Distribution, ParamDistributions};
pub use results::{rank_min, CandidateResult, CandidateScore, SearchResults};
pub use search::{GridSearch, RandomSearch, SearchOptions};
