//! Grid and random search over pipeline parameters set by path, with one flat parallel loop
//! over (candidate, fold) pairs.
//!
//! Every candidate's config is built and validated before any fit (a bad path is an
//! [`Error::Config`] naming it). A fit or score that fails stops the search with that error
//! (the first in (candidate, fold) order); scikit-learn's `error_score=nan` is not offered.
//!
//! Candidates are ranked by the mean score, the best first: the highest for a metric whose
//! `greater_is_better()` (every scikit-learn scorer name), the lowest for a plain error
//! (`mean_squared_error`) or `davies_bouldin_score`.
//!
//! Without a target (`None`), a clusterer is searched by the scores that need no labels,
//! computed on each test fold's features after the pipeline's steps: for instance
//! `n_clusters` of `k_means` by `silhouette_score` (a clusterer's default scorer):
//!
//! ```
//! use amlis::service::config::TrainConfig;
//! use amlis::data::KFold;
//! use amlis::evaluate::selection::{GridSearch, ParamGrid, SearchOptions};
//! use amlis::traits::FitContext;
//!
//! let table = amlis::data::datasets::iris_table()?.drop(&["species"])?;
//! let base = TrainConfig::from_json(r#"{"model": {"type": "k_means", "n_init": 1},
//!     "preprocess": [{"type": "standard_scaler"}]}"#)?;
//! let grid = ParamGrid::from_json(r#"{"model.n_clusters": [2, 3, 4]}"#)?;
//! let search = GridSearch::new(grid, SearchOptions::default());
//! // Shuffled folds: iris is sorted by species, so an unshuffled test fold can fall into a
//! // single cluster, whose silhouette is undefined (an error that stops the search).
//! let results = search.fit(&base, &table, None, &KFold::new(3).shuffle(0), &FitContext::new())?;
//! assert_eq!(results.refit_metric, "silhouette_score");
//! assert_eq!(results.candidates.len(), 3);
//! # Ok::<(), amlis::Error>(())
//! ```
//!
//! ```
//! use amlis::service::config::TrainConfig;
//! use amlis::data::KFold;
//! use amlis::evaluate::selection::{GridSearch, ParamGrid, SearchOptions};
//! use amlis::traits::FitContext;
//!
//! let table = amlis::data::datasets::penguins_table()?;
//! let base = TrainConfig::from_json(r#"{"model": {"type": "dummy_classifier"},
//!     "preprocess": [{"type": "simple_imputer"}, {"type": "one_hot_encoder"}]}"#)?;
//! let grid = ParamGrid::from_json(r#"{"model.strategy": ["most_frequent", "uniform", "stratified"]}"#)?;
//! let search = GridSearch::new(grid, SearchOptions::metrics(&["accuracy"]));
//! let results = search.fit(&base, &table, "species", &KFold::new(5), &FitContext::new())?;
//! assert_eq!(results.candidates.len(), 3);
//! assert!(results.best_pipeline.is_some());
//! println!("{results}");
//! # Ok::<(), amlis::Error>(())
//! ```

use std::sync::Mutex;

use rayon::prelude::*;

use crate::data::{Split, Splitter, Table};
use crate::error::{Error, Result};
use crate::evaluate::selection::cross_validate::{
    mean_std, resolve_metrics, run_fold, split_data, CvData, FoldOutcome, TableData,
};
use crate::evaluate::selection::grid::ParamGrid;
use crate::evaluate::selection::param_path::{set_params, Params};
use crate::evaluate::selection::random::ParamDistributions;
use crate::evaluate::selection::results::{candidate_score, CandidateResult, SearchResults};
use crate::models::kit::setters;
use crate::service::config::TrainConfig;
use crate::service::pipeline::Pipeline;
use crate::traits::{FitContext, FitEvent, Metric};

/// What every search shares: the metrics, which one picks the best, whether to refit.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchOptions {
    /// Scorer names (empty: the estimator kind's default scorer: `accuracy`, `r2`,
    /// `silhouette_score`).
    pub metrics: Vec<String>,
    /// The metric that picks the best candidate (default: the first metric).
    pub refit_metric: Option<String>,
    /// Whether to refit the best config on all rows.
    pub refit: bool,
}

impl Default for SearchOptions {
    fn default() -> Self {
        Self {
            metrics: Vec::new(),
            refit_metric: None,
            refit: true,
        }
    }
}

impl SearchOptions {
    /// Options scoring these metrics, refitting on the first.
    pub fn metrics<S: AsRef<str>>(names: &[S]) -> Self {
        Self {
            metrics: names.iter().map(|s| s.as_ref().to_string()).collect(),
            ..Self::default()
        }
    }

    /// Picks the best candidate by this metric.
    pub fn refit_metric(mut self, name: &str) -> Self {
        self.refit_metric = Some(name.to_string());
        self
    }
}

setters!(SearchOptions {
    /// Whether to refit the best config on all rows.
    refit: bool,
});

/// Counts finished candidates and reports them to the callback, in increasing order.
pub(crate) struct Progress<'c, 'a> {
    ctx: &'c FitContext<'a>,
    state: Mutex<(Vec<usize>, usize)>,
    n_splits: usize,
    offset: usize,
    total: usize,
}

impl<'c, 'a> Progress<'c, 'a> {
    pub(crate) fn new(
        ctx: &'c FitContext<'a>,
        n_candidates: usize,
        n_splits: usize,
        offset: usize,
        total: usize,
    ) -> Self {
        Self {
            ctx,
            state: Mutex::new((vec![0; n_candidates], 0)),
            n_splits,
            offset,
            total,
        }
    }

    fn fold_done(&self, candidate: usize) {
        let Ok(mut st) = self.state.lock() else {
            return;
        };
        let finished = match st.0.get_mut(candidate) {
            Some(c) => {
                *c += 1;
                *c == self.n_splits
            }
            None => false,
        };
        if finished {
            st.1 += 1;
            self.ctx.report(&FitEvent {
                stage: "search",
                iteration: self.offset + st.1,
                total: Some(self.total),
                values: &[],
            });
        }
    }
}

/// The setup every search shares: metrics checked against the task, the refit metric.
pub(crate) struct Prepared {
    pub metrics: Vec<Box<dyn Metric>>,
    pub names: Vec<String>,
    pub refit_metric: String,
}

impl Prepared {
    /// Whether a larger mean of each metric is better.
    pub fn greater_is_better(&self) -> Vec<bool> {
        self.metrics.iter().map(|m| m.greater_is_better()).collect()
    }
}

pub(crate) fn prepare(data: &TableData<'_>, options: &SearchOptions) -> Result<Prepared> {
    let metrics = resolve_metrics(&options.metrics, data.target_task(), data.estimator())?;
    let names: Vec<String> = metrics.iter().map(|m| m.name().to_string()).collect();
    let refit_metric = match &options.refit_metric {
        None => names.first().cloned().unwrap_or_default(),
        Some(r) if names.contains(r) => r.clone(),
        Some(r) => {
            return Err(Error::InvalidArgument(format!(
                "refit metric `{r}` is not among the search metrics {names:?}"
            )))
        }
    };
    Ok(Prepared {
        metrics,
        names,
        refit_metric,
    })
}

/// Every candidate's config, validated before any fit (a bad path is named).
pub(crate) fn candidate_configs(
    base: &TrainConfig,
    candidates: &[Params],
) -> Result<Vec<TrainConfig>> {
    candidates.iter().map(|p| set_params(base, p)).collect()
}

/// Fits and scores every (candidate, split) pair in one flat parallel loop; returns the rows
/// of the results table (ranks not yet filled).
#[allow(clippy::too_many_arguments)]
pub(crate) fn evaluate_candidates(
    data: &TableData<'_>,
    candidates: &[Params],
    configs: &[TrainConfig],
    splits: &[Split],
    metrics: &[Box<dyn Metric>],
    ctx: &FitContext<'_>,
    progress: &Progress<'_, '_>,
    iteration: usize,
    n_resources: usize,
) -> Result<Vec<CandidateResult>> {
    let n_splits = splits.len();
    let pairs: Vec<(usize, usize)> = (0..configs.len())
        .flat_map(|c| (0..n_splits).map(move |f| (c, f)))
        .collect();
    let seed = ctx.seed();
    let outcomes = ctx.install(|| {
        pairs
            .par_iter()
            .map(|&(c, f)| {
                let (Some(config), Some(split)) = (configs.get(c), splits.get(f)) else {
                    return Err(Error::InvalidArgument(
                        "candidate index out of range".into(),
                    ));
                };
                let out = run_fold(
                    data,
                    config,
                    split,
                    metrics,
                    false,
                    &FitContext::new().random_state(seed),
                );
                progress.fold_done(c);
                out
            })
            .collect::<Vec<Result<FoldOutcome>>>()
    })?;
    let outcomes = outcomes.into_iter().collect::<Result<Vec<_>>>()?;
    let mut rows = Vec::with_capacity(configs.len());
    for (c, params) in candidates.iter().enumerate() {
        let folds = outcomes
            .get(c * n_splits..(c + 1) * n_splits)
            .unwrap_or_default();
        let scores = (0..metrics.len())
            .map(|k| {
                candidate_score(
                    folds
                        .iter()
                        .map(|o| o.test.get(k).copied().unwrap_or(f64::NAN))
                        .collect(),
                )
            })
            .collect();
        let fit: Vec<f64> = folds.iter().map(|o| o.fit_time).collect();
        let score: Vec<f64> = folds.iter().map(|o| o.score_time).collect();
        let (mean_fit_time, std_fit_time) = mean_std(&fit);
        rows.push(CandidateResult {
            params: params.clone(),
            scores,
            mean_fit_time,
            std_fit_time,
            mean_score_time: mean_std(&score).0,
            iteration,
            n_resources,
        });
    }
    Ok(rows)
}

/// Ranks the rows, picks the best among `eligible` rows by the refit metric's mean (the
/// first on ties; all rows when `eligible` is `None` the best rank), and refits.
#[allow(clippy::too_many_arguments)]
pub(crate) fn finish(
    data: &TableData<'_>,
    base: &TrainConfig,
    prepared: Prepared,
    rows: Vec<CandidateResult>,
    eligible: Option<&[usize]>,
    refit: bool,
    ctx: &FitContext<'_>,
) -> Result<SearchResults> {
    let mut results = SearchResults {
        greater_is_better: prepared.greater_is_better(),
        metrics: prepared.names,
        refit_metric: prepared.refit_metric,
        candidates: rows,
        best_index: 0,
        best_params: Params::new(),
        best_score: f64::NAN,
        best_pipeline: None,
    };
    results.rank();
    let k = results.refit_index();
    let mean_of = |i: usize| {
        results
            .candidates
            .get(i)
            .and_then(|c| c.scores.get(k))
            .map_or(f64::NAN, |s| s.mean)
    };
    // The mean oriented so that larger is better.
    let oriented = |i: usize| results.oriented(k, mean_of(i));
    let best = match eligible {
        None => (0..results.candidates.len())
            .min_by_key(|&i| {
                results
                    .candidates
                    .get(i)
                    .and_then(|c| c.scores.get(k))
                    .map_or(usize::MAX, |s| s.rank)
            })
            .unwrap_or(0),
        Some(idx) => {
            // np.nanargmax: the first maximum, NaN skipped.
            let mut best: Option<usize> = None;
            for &i in idx {
                let m = oriented(i);
                if m.is_nan() {
                    continue;
                }
                if best.is_none_or(|b| m > oriented(b)) {
                    best = Some(i);
                }
            }
            best.or_else(|| idx.first().copied()).unwrap_or(0)
        }
    };
    results.best_index = best;
    results.best_score = mean_of(best);
    results.best_params = results
        .candidates
        .get(best)
        .map(|c| c.params.clone())
        .unwrap_or_default();
    if refit {
        let config = set_params(base, &results.best_params)?;
        results.best_pipeline = Some(Pipeline::fit(&config, data.table(), data.target(), ctx)?);
    }
    Ok(results)
}

/// Evaluates explicit candidates with every split of `splitter` (grid and random search).
pub(crate) fn search_candidates(
    base: &TrainConfig,
    table: &Table,
    target: Option<&str>,
    candidates: &[Params],
    splitter: &dyn Splitter,
    options: &SearchOptions,
    ctx: &FitContext<'_>,
) -> Result<SearchResults> {
    let data = TableData::new(table, target, base.model.estimator())?;
    let prepared = prepare(&data, options)?;
    let configs = candidate_configs(base, candidates)?;
    let splits = split_data(&data, splitter)?;
    let progress = Progress::new(ctx, configs.len(), splits.len(), 0, configs.len());
    let rows = evaluate_candidates(
        &data,
        candidates,
        &configs,
        &splits,
        &prepared.metrics,
        ctx,
        &progress,
        0,
        data.n_rows(),
    )?;
    finish(&data, base, prepared, rows, None, options.refit, ctx)
}

/// Exhaustive search over a [`ParamGrid`], as scikit-learn's `GridSearchCV`.
#[derive(Debug, Clone, PartialEq)]
pub struct GridSearch {
    /// The grid(s) of parameter values by path.
    pub grid: ParamGrid,
    /// Metrics, refit metric, refit.
    pub options: SearchOptions,
}

impl GridSearch {
    /// A grid search.
    pub fn new(grid: ParamGrid, options: SearchOptions) -> Self {
        Self { grid, options }
    }

    /// Cross-validates every combination of the grid on `table` (pipelines built from
    /// `base` with the parameters set by path), ranks them, and refits the best. `target` is
    /// the target column, or `None` for a model that learns without one (scored by metrics
    /// that need no labels).
    pub fn fit<'t>(
        &self,
        base: &TrainConfig,
        table: &Table,
        target: impl Into<Option<&'t str>>,
        splitter: &dyn Splitter,
        ctx: &FitContext<'_>,
    ) -> Result<SearchResults> {
        let candidates = self.grid.candidates()?;
        search_candidates(
            base,
            table,
            target.into(),
            &candidates,
            splitter,
            &self.options,
            ctx,
        )
    }
}

/// Random search: `n_iter` candidates drawn from [`ParamDistributions`], as scikit-learn's
/// `RandomizedSearchCV`.
#[derive(Debug, Clone, PartialEq)]
pub struct RandomSearch {
    /// The distributions by path.
    pub distributions: ParamDistributions,
    /// Number of candidates.
    pub n_iter: usize,
    /// Seed of the draws.
    pub random_state: u64,
    /// Metrics, refit metric, refit.
    pub options: SearchOptions,
}

setters!(RandomSearch {
    /// Sets the seed of the draws.
    random_state: u64,
});

impl RandomSearch {
    /// A random search of `n_iter` candidates (seed 0).
    pub fn new(distributions: ParamDistributions, n_iter: usize, options: SearchOptions) -> Self {
        Self {
            distributions,
            n_iter,
            random_state: 0,
            options,
        }
    }

    /// Draws the candidates, cross-validates them, ranks them and refits the best (`target`
    /// as in [`GridSearch::fit`]).
    pub fn fit<'t>(
        &self,
        base: &TrainConfig,
        table: &Table,
        target: impl Into<Option<&'t str>>,
        splitter: &dyn Splitter,
        ctx: &FitContext<'_>,
    ) -> Result<SearchResults> {
        let candidates = self.distributions.sample(self.n_iter, self.random_state)?;
        search_candidates(
            base,
            table,
            target.into(),
            &candidates,
            splitter,
            &self.options,
            ctx,
        )
    }
}
