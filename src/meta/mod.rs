//! Meta-learning: automatic model selection across every family, warm-started from what
//! past data sets taught.
//!
//! `auto_classifier` and `auto_regressor` are registered model types whose settings are an
//! [`AutoSearch`]. Fitted through a [`Pipeline`] (the JSON config, `amlis_train` from C, or
//! [`Pipeline::fit`]) they run a search and return an **ordinary pipeline** whose model is
//! the chosen family's and whose steps are the chosen preprocessing, with the whole
//! [`SearchReport`] (the leaderboard) in its metadata. Fitted as a bare model on a dataset
//! ([`ModelConfig::fit`](crate::models::ModelConfig::fit)), the result is an [`AutoModel`]
//! that holds that pipeline.
//!
//! A search:
//! 1. computes the training data's [meta-features](features) (no holdout row is read);
//! 2. proposes first the best configurations of the nearest data sets of the shipped
//!    [`Portfolio`] (zero-shot), then each family's default;
//! 3. runs successive halving over them and over random neighbours of the best, on growing
//!    subsamples, trials in parallel, each under its own time and memory limit ([`search`]);
//!    a trial that fails or runs out of time is recorded and skipped, never fatal;
//! 4. chooses a candidate: the one-standard-error pick on the highest rung, unless the better
//!    of the two *prior defaults* (the family defaults that ranked best across the
//!    portfolio's data sets, scored on every rung) is not clearly beaten — the pick's paired
//!    gain over it (a trimmed mean, robust to a fold where one model collapses; see
//!    [`paired`]) must exceed its standard error, corrected for the training rows that
//!    cross-validation folds share (Nadeau and Bengio, 2003); then ensemble selection
//!    ([`ensemble`]) may replace it by a weighted vote of the best candidates;
//! 5. refits the chosen pipeline on every training row, inside the budget.
//!
//! ```
//! use amlis::pipeline::Pipeline;
//! use amlis::service::config::TrainConfig;
//! use amlis::traits::FitContext;
//!
//! let table = amlis::data::datasets::iris_table()?;
//! let config = TrainConfig::from_json(
//!     r#"{"model": {"type": "auto_classifier", "max_trials": 3,
//!                   "families": ["logistic_regression", "gaussian_nb"]}}"#)?;
//! let pipeline = Pipeline::fit(&config, &table, "species", &FitContext::new())?;
//! let report = pipeline.meta().search.as_ref().expect("a search report");
//! assert_eq!(report.trials.len(), 3);
//! assert!(["logistic_regression", "gaussian_nb"].contains(&pipeline.model().type_name()));
//! # Ok::<(), amlis::Error>(())
//! ```

pub mod ensemble;
pub mod features;
pub mod model;
pub mod paired;
pub mod portfolio;
pub mod search;
pub mod space;
pub mod spec;

use std::time::Instant;

pub use features::MetaFeatures;
pub use model::AutoModel;
pub use portfolio::Portfolio;
pub use search::{Origin, SearchReport, StoppedBy, Trial, TrialStatus};
pub use spec::{AutoClassifier, AutoRegressor, AutoSearch, CvChoice};

use crate::data::{features_table, Column, Table, Task};
use crate::error::{Error, Result};
use crate::models::{Estimator, ModelConfig};
use crate::service::config::TrainConfig;
use crate::service::pipeline::Pipeline;
use crate::traits::{Dataset, FitContext};

/// The search settings and kind of an automatic model type (`None` for any other type).
pub fn search_of(model: &ModelConfig) -> Option<(&AutoSearch, Estimator)> {
    match model {
        ModelConfig::AutoClassifier(a) => Some((&a.search, Estimator::Classifier)),
        ModelConfig::AutoRegressor(a) => Some((&a.search, Estimator::Regressor)),
        _ => None,
    }
}

/// Runs the search of `config` (an `auto_*` model) on `table` and fits the chosen pipeline
/// on every row; what [`Pipeline::fit`] does for the automatic types.
pub fn fit_pipeline(
    config: &TrainConfig,
    table: &Table,
    target: Option<&str>,
    ctx: &FitContext<'_>,
) -> Result<Pipeline> {
    let start = Instant::now();
    let (spec, kind) = search_of(&config.model).ok_or_else(|| {
        Error::InvalidArgument(format!(
            "`{}` is not an automatic model type",
            config.model.type_name()
        ))
    })?;
    let type_name = config.model.type_name();
    let target = target.ok_or_else(|| {
        Error::InvalidArgument(format!(
            "`{type_name}` needs a target column to search against; name one"
        ))
    })?;
    let seed = spec
        .random_state
        .or(config.random_state)
        .unwrap_or(ctx.seed());
    let threads = spec.n_threads.or(config.n_threads).or(ctx.threads());
    let search = search::Search::new(spec, kind, config, table, target, seed)?;
    let (mut best, mut report) = search.run_all(type_name, start, ctx, threads)?;
    best.random_state = Some(seed);
    best.n_threads = config.n_threads;
    let mut fit_ctx = FitContext::new().random_state(seed);
    if let Some(n) = threads {
        fit_ctx = fit_ctx.n_threads(n);
    }
    let mut pipeline = Pipeline::fit(&best, table, target, &fit_ctx)?;
    report.elapsed = start.elapsed().as_secs_f64();
    pipeline.set_search_report(report);
    Ok(pipeline)
}

/// The name of the target column added to a dataset's features: `y`, or `y_` repeated
/// until it is not a feature name.
fn target_name(data: &dyn Dataset) -> String {
    let mut name = "y".to_string();
    while data.feature_names().contains(&name) {
        name.push('_');
    }
    name
}

/// A dataset's features and targets as one table (the target as class labels for a
/// classifier), and the target column's name.
pub fn dataset_table(data: &dyn Dataset, kind: Estimator) -> Result<(Table, String)> {
    let y = data.targets().ok_or_else(|| {
        Error::InvalidArgument("an automatic search needs targets; the dataset has none".into())
    })?;
    let mut table = features_table(data)?;
    let name = target_name(data);
    let column = match (kind, data.task()) {
        (Estimator::Classifier, Task::Classification { classes }) => {
            let labels: Vec<Option<&str>> = y
                .iter()
                .map(|&v| {
                    if v.is_nan() || v < 0.0 {
                        None
                    } else {
                        classes.get(v as usize).map(String::as_str)
                    }
                })
                .collect();
            Column::categorical_from(&labels)
        }
        _ => Column::Numeric(y.to_vec()),
    };
    table.push_column(name.clone(), column)?;
    Ok((table, name))
}

/// Fits an automatic model type on a dataset: what [`AutoClassifier`] and [`AutoRegressor`]
/// do as bare trainers.
pub fn fit_dataset(
    spec: &AutoSearch,
    kind: Estimator,
    data: &dyn Dataset,
    ctx: &FitContext<'_>,
) -> Result<AutoModel> {
    let (table, target) = dataset_table(data, kind)?;
    let model = match kind {
        Estimator::Classifier => ModelConfig::AutoClassifier(AutoClassifier::new(spec.clone())),
        _ => ModelConfig::AutoRegressor(AutoRegressor::new(spec.clone())),
    };
    let config = TrainConfig::new(model);
    let pipeline = fit_pipeline(&config, &table, Some(&target), ctx)?;
    AutoModel::new(pipeline, data.task())
}
