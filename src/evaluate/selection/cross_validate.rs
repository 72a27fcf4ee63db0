//! Cross-validation: fit on each split's training rows, score each split's test rows.
//!
//! One engine serves every kind of estimator through [`CvData`]: the data (rows, targets, the
//! task with its global class list) and how to fit an estimator config on a subset of rows
//! and predict another subset. Two implementations ship: [`TableData`] (a raw [`Table`] with
//! or without a target column, fitting a whole [`Pipeline`] from a [`TrainConfig`]) and
//! [`DenseDataset`] (fitting any [`ModelConfig`]). Searches reuse the same fold loop.
//!
//! Data without a target (clusterers) are scored by metrics that read the features
//! ([`Metric::reads_features`]: `silhouette_score`, `calinski_harabasz_score`,
//! `davies_bouldin_score`): each test fold's predicted labels with the fold's features **as
//! the model saw them**, after the pipeline's preprocessing steps (fitted on the training
//! rows), as a scikit-learn user scores `silhouette_score(pipe[:-1].transform(X_test),
//! pipe.predict(X_test))`. Metrics that compare with labels (`adjusted_rand_score`) need a
//! target column.
//!
//! As scikit-learn's `cross_validate`, every fold's fit receives the same seed (the same
//! `random_state` for each fold's estimator), folds run in parallel and results are in fold
//! order, identical for any number of threads (fit and score times aside).

use std::time::Instant;

use ndarray::{Array1, Array2};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::data::{DenseDataset, Split, Splitter, Table, Task};
use crate::error::{Error, Result};
use crate::evaluate::metrics::{self, np_sum};
use crate::models::{AnyModel, Estimator, ModelConfig};
use crate::service::config::TrainConfig;
use crate::service::pipeline::Pipeline;
use crate::traits::{Dataset, FitContext, Metric, MetricInput, Prediction, Predictor};

/// What a fitted estimator predicted for some rows: values and, when asked, class scores.
#[derive(Debug, Clone)]
pub struct FoldPrediction {
    /// One predicted value per row (a global class index for classifiers).
    pub values: Array1<f64>,
    /// Class probabilities with one column per global class, when asked for.
    pub scores: Option<Array2<f64>>,
    /// The features the model predicted from (after a pipeline's steps), for the metrics that
    /// read them; `None` when the data cannot give them.
    pub features: Option<Array2<f64>>,
}

/// Data that cross-validation can split, and how to fit and predict an estimator config on
/// subsets of its rows.
pub trait CvData: Sync {
    /// The estimator description (hyperparameters) fitted on each fold.
    type Config: Sync;
    /// The fitted estimator.
    type Fitted: Send;

    /// The number of rows.
    fn n_rows(&self) -> usize;

    /// The task over all rows; for classification, every class of the whole data.
    fn target_task(&self) -> &Task;

    /// The kind of the estimators fitted, when the data knows it: its default scorer is the
    /// default metric (a clusterer is scored with `silhouette_score`, not with the accuracy
    /// the labels' task would suggest).
    fn estimator(&self) -> Option<Estimator> {
        None
    }

    /// The targets of all rows (global class indices for classification); empty when the data
    /// have no target.
    fn y(&self) -> &[f64];

    /// Fits `config` on the rows `rows`.
    fn fit(
        &self,
        config: &Self::Config,
        rows: &[usize],
        ctx: &FitContext<'_>,
    ) -> Result<Self::Fitted>;

    /// Predicts the rows `rows`; class probabilities too when `scores` is true.
    fn predict(
        &self,
        fitted: &Self::Fitted,
        rows: &[usize],
        scores: bool,
    ) -> Result<FoldPrediction>;
}

/// A raw table, with a target column or (for the kinds that learn without one) without:
/// cross-validates whole pipelines ([`TrainConfig`]).
#[derive(Debug, Clone)]
pub struct TableData<'a> {
    table: &'a Table,
    target: Option<String>,
    y: Vec<f64>,
    task: Task,
    estimator: Estimator,
}

impl<'a> TableData<'a> {
    /// The table and its target column, encoded for an estimator of kind `estimator`
    /// (classes sorted as scikit-learn sorts `classes_`). `None` (or a table read without a
    /// target) is an unsupervised task, for a clusterer, transformer or outlier detector; a
    /// classifier or regressor without a target is an error.
    pub fn new<'t>(
        table: &'a Table,
        target: impl Into<Option<&'t str>>,
        estimator: Estimator,
    ) -> Result<Self> {
        let Some(target) = target.into() else {
            if estimator.needs_target() {
                return Err(Error::InvalidArgument(format!(
                    "a {estimator} needs a target column to cross-validate; name one"
                )));
            }
            return Ok(Self {
                table,
                target: None,
                y: Vec::new(),
                task: Task::Unsupervised,
                estimator,
            });
        };
        let kind = estimator.task();
        let only_target = table.select(&[target])?;
        let data = DenseDataset::from_table(&only_target, target, kind)?;
        let y = data
            .targets()
            .ok_or_else(|| Error::InvalidArgument(format!("target `{target}` has no values")))?
            .to_vec();
        Ok(Self {
            table,
            target: Some(target.to_string()),
            y,
            task: data.task().clone(),
            estimator,
        })
    }

    /// The table.
    pub fn table(&self) -> &Table {
        self.table
    }

    /// The target column's name (`None` for an unsupervised task).
    pub fn target(&self) -> Option<&str> {
        self.target.as_deref()
    }
}

/// Maps a fitted model's class columns onto the global classes: `map[j]` is the global
/// index of the model's class `j`.
fn class_map(global: &[String], local: &[String]) -> Result<Vec<usize>> {
    local
        .iter()
        .map(|c| {
            global.iter().position(|g| g == c).ok_or_else(|| {
                Error::InvalidArgument(format!(
                    "the fitted model knows class `{c}`, which is not among the data's classes {global:?}"
                ))
            })
        })
        .collect()
}

/// Re-indexes local class predictions and probabilities onto the global classes.
fn globalize(
    task: &Task,
    local_classes: &[String],
    values: Array1<f64>,
    scores: Option<Array2<f64>>,
) -> Result<FoldPrediction> {
    let Task::Classification { classes } = task else {
        return Ok(FoldPrediction {
            values,
            scores,
            features: None,
        });
    };
    let map = class_map(classes, local_classes)?;
    if map.iter().enumerate().all(|(i, &g)| i == g) && map.len() == classes.len() {
        return Ok(FoldPrediction {
            values,
            scores,
            features: None,
        });
    }
    let values = values.mapv(|v| {
        if v >= 0.0 && v.fract() == 0.0 {
            map.get(v as usize).map_or(f64::NAN, |&g| g as f64)
        } else {
            f64::NAN
        }
    });
    let scores = scores.map(|s| {
        let mut out = Array2::zeros((s.nrows(), classes.len()));
        for (j, &g) in map.iter().enumerate() {
            out.column_mut(g).assign(&s.column(j));
        }
        out
    });
    Ok(FoldPrediction {
        values,
        scores,
        features: None,
    })
}

impl CvData for TableData<'_> {
    type Config = TrainConfig;
    type Fitted = Pipeline;

    fn n_rows(&self) -> usize {
        self.table.n_rows()
    }

    fn target_task(&self) -> &Task {
        &self.task
    }

    fn estimator(&self) -> Option<Estimator> {
        Some(self.estimator)
    }

    fn y(&self) -> &[f64] {
        &self.y
    }

    fn fit(&self, config: &TrainConfig, rows: &[usize], ctx: &FitContext<'_>) -> Result<Pipeline> {
        let train = self.table.take_rows(rows)?;
        Pipeline::fit(config, &train, self.target.as_deref(), ctx)
    }

    fn predict(&self, fitted: &Pipeline, rows: &[usize], scores: bool) -> Result<FoldPrediction> {
        let part = self.table.take_rows(rows)?;
        let x = fitted.transform_table(&part)?;
        let mut pred = predict_model(&self.task, fitted.model(), x.view(), scores)?;
        pred.features = Some(x);
        Ok(pred)
    }
}

fn predict_model(
    task: &Task,
    model: &AnyModel,
    x: ndarray::ArrayView2<'_, f64>,
    scores: bool,
) -> Result<FoldPrediction> {
    let values = model.predict(x)?;
    let proba = if scores {
        let width = model.output_width(crate::models::PredictKind::Proba)?;
        let mut out = vec![0.0; x.nrows() * width];
        model.predict_proba_into(x, &mut out)?;
        Some(
            Array2::from_shape_vec((x.nrows(), width), out)
                .map_err(|e| Error::shape("cross_validate scores", "rows x classes", e))?,
        )
    } else {
        None
    };
    // Only a classifier's predictions are class indices to map onto the data's classes; a
    // clusterer's labels are compared as a partition.
    if model.estimator() != Estimator::Classifier {
        return Ok(FoldPrediction {
            values,
            scores: proba,
            features: None,
        });
    }
    globalize(task, model.classes(), values, proba)
}

impl CvData for DenseDataset {
    type Config = ModelConfig;
    type Fitted = AnyModel;

    fn n_rows(&self) -> usize {
        Dataset::n_samples(self)
    }

    fn target_task(&self) -> &Task {
        Dataset::task(self)
    }

    fn y(&self) -> &[f64] {
        self.base_targets()
            .and_then(|y| y.to_slice())
            .unwrap_or_default()
    }

    fn fit(&self, config: &ModelConfig, rows: &[usize], ctx: &FitContext<'_>) -> Result<AnyModel> {
        let view = self.view(rows.to_vec())?;
        config.fit(&view, ctx)
    }

    fn predict(&self, fitted: &AnyModel, rows: &[usize], scores: bool) -> Result<FoldPrediction> {
        let view = self.view(rows.to_vec())?;
        let x = view.features().into_owned();
        let mut pred = predict_model(Dataset::task(self), fitted, x.view(), scores)?;
        pred.features = Some(x);
        Ok(pred)
    }
}

/// Scores of one metric over the folds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricScores {
    /// The metric's scorer name.
    pub name: String,
    /// One test score per fold, in fold order.
    #[serde(with = "crate::common::json_float::vec")]
    pub folds: Vec<f64>,
    /// The mean of the fold scores.
    #[serde(with = "crate::common::json_float::one")]
    pub mean: f64,
    /// The population standard deviation of the fold scores (as `np.std`).
    #[serde(with = "crate::common::json_float::one")]
    pub std: f64,
    /// One training score per fold, when asked for.
    #[serde(with = "crate::common::json_float::option_vec")]
    pub train: Option<Vec<f64>>,
}

/// What [`cross_validate`] returns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CvResults {
    /// Per metric, in the order asked.
    pub metrics: Vec<MetricScores>,
    /// Fit time of each fold, in seconds.
    pub fit_time: Vec<f64>,
    /// Score time of each fold, in seconds.
    pub score_time: Vec<f64>,
}

impl CvResults {
    /// The scores of metric `name`.
    pub fn metric(&self, name: &str) -> Result<&MetricScores> {
        self.metrics
            .iter()
            .find(|m| m.name == name)
            .ok_or_else(|| Error::InvalidArgument(format!("metric `{name}` was not computed")))
    }

    /// The number of folds.
    pub fn n_splits(&self) -> usize {
        self.fit_time.len()
    }
}

/// Mean and population standard deviation, summed as NumPy sums.
pub fn mean_std(values: &[f64]) -> (f64, f64) {
    if values.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    let n = values.len() as f64;
    let mean = np_sum(values) / n;
    let sq: Vec<f64> = values.iter().map(|v| (v - mean) * (v - mean)).collect();
    (mean, (np_sum(&sq) / n).sqrt())
}

/// The metrics of `names`, checked against the task before any fit. An empty list means the
/// default scorer of the estimator kind when it is known (`accuracy`, `r2`,
/// `silhouette_score`), else of the task (`accuracy` for classification, `r2` for
/// regression). On an unsupervised task (no target), a metric that compares with labels is an
/// error that names the ones that need none.
pub fn resolve_metrics(
    names: &[String],
    task: &Task,
    estimator: Option<Estimator>,
) -> Result<Vec<Box<dyn Metric>>> {
    let defaults;
    let names = if names.is_empty() {
        let default = match estimator.map(|e| (e, e.default_scorer())) {
            Some((_, Some(name))) => name,
            Some((kind, None)) => {
                return Err(Error::InvalidArgument(format!(
                    "a {kind} has no default scorer; name a metric"
                )))
            }
            None => default_metric(task)?,
        };
        defaults = vec![default.to_string()];
        &defaults
    } else {
        names
    };
    let mut seen = std::collections::HashSet::new();
    names
        .iter()
        .map(|n| {
            if !seen.insert(n.as_str()) {
                return Err(Error::InvalidArgument(format!(
                    "metric `{n}` is listed twice"
                )));
            }
            metrics::metric_fits_task(n, task)?;
            let m = metrics::get(n)?;
            if matches!(task, Task::Unsupervised) && !m.reads_features() {
                return Err(Error::InvalidArgument(format!(
                    "metric `{n}` compares predictions with true labels, and the data have no \
                     target; name a target column, or score without labels: \
                     silhouette_score, calinski_harabasz_score, davies_bouldin_score"
                )));
            }
            Ok(m)
        })
        .collect()
}

/// The splits of `data`: its targets go to the splitter (for stratification) when it has
/// any.
pub(crate) fn split_data<D: CvData>(data: &D, splitter: &dyn Splitter) -> Result<Vec<Split>> {
    let y = data.y();
    splitter.split_indices(data.n_rows(), (!y.is_empty()).then_some(y))
}

/// The default scorer of a task: the default scorer of the estimator kind that learns it
/// ([`Estimator::default_scorer`]: `accuracy` or `r2`).
pub fn default_metric(task: &Task) -> Result<&'static str> {
    let kind = match task {
        Task::Classification { .. } => Estimator::Classifier,
        Task::Regression => Estimator::Regressor,
        Task::Unsupervised => {
            return Err(Error::InvalidArgument(
                "the data have no target and the estimator's kind is not known: name a metric \
                 that needs no labels (silhouette_score, calinski_harabasz_score, \
                 davies_bouldin_score)"
                    .into(),
            ))
        }
    };
    kind.default_scorer().ok_or_else(|| {
        Error::InvalidArgument(format!("a {kind} has no default scorer; name a metric"))
    })
}

/// One fold's outcome.
#[derive(Debug, Clone)]
pub(crate) struct FoldOutcome {
    pub test: Vec<f64>,
    pub train: Option<Vec<f64>>,
    pub fit_time: f64,
    pub score_time: f64,
    /// The test rows' predictions (with class probabilities for a classifier), when asked
    /// for ([`run_fold_keeping`]).
    pub kept: Option<FoldPrediction>,
}

fn score_rows<D: CvData>(
    data: &D,
    fitted: &D::Fitted,
    rows: &[usize],
    metrics: &[Box<dyn Metric>],
) -> Result<Vec<f64>> {
    score_rows_keeping(data, fitted, rows, metrics, false).map(|(s, _)| s)
}

/// Scores `rows`; with `keep`, also returns their prediction, with class probabilities when
/// the data are a classification.
fn score_rows_keeping<D: CvData>(
    data: &D,
    fitted: &D::Fitted,
    rows: &[usize],
    metrics: &[Box<dyn Metric>],
    keep: bool,
) -> Result<(Vec<f64>, Option<FoldPrediction>)> {
    let classification = matches!(data.target_task(), Task::Classification { .. });
    let need_scores = (keep && classification)
        || metrics
            .iter()
            .any(|m| !m.reads_features() && m.input() == MetricInput::Scores);
    let all = data.y();
    // Unlabeled rows (semi-supervised training) are never scored.
    let labelled: Vec<usize>;
    let rows = if rows.iter().any(|&i| all.get(i).is_some_and(|v| v.is_nan())) {
        labelled = rows
            .iter()
            .copied()
            .filter(|&i| all.get(i).is_some_and(|v| !v.is_nan()))
            .collect();
        &labelled[..]
    } else {
        rows
    };
    let pred = data.predict(fitted, rows, need_scores)?;
    let y: Array1<f64> = if metrics.iter().all(|m| m.reads_features()) {
        Array1::zeros(0)
    } else {
        rows.iter()
            .map(|&i| {
                all.get(i).copied().ok_or_else(|| {
                    Error::InvalidArgument(format!(
                        "row {i} has no target (the data hold {} targets): the metrics that \
                         compare with labels need a target column",
                        all.len()
                    ))
                })
            })
            .collect::<Result<_>>()?
    };
    let scores = metrics
        .iter()
        .map(|m| {
            if m.reads_features() {
                let x = pred.features.as_ref().ok_or_else(|| {
                    Error::Unsupported(format!(
                        "metric `{}` reads the features, which this data does not give",
                        m.name()
                    ))
                })?;
                return m.score_features(x.view(), pred.values.view());
            }
            let p = match (m.input(), &pred.scores) {
                (MetricInput::Scores, Some(s)) => Prediction::Scores(s.view()),
                (MetricInput::Scores, None) => {
                    return Err(Error::Unsupported(format!(
                        "metric `{}` needs class scores",
                        m.name()
                    )))
                }
                (MetricInput::Values, _) => Prediction::Values(pred.values.view()),
            };
            m.score(y.view(), p, None)
        })
        .collect::<Result<Vec<f64>>>()?;
    Ok((scores, keep.then_some(pred)))
}

/// Fits `config` on one split under `ctx` (its seed, thread bound and callback) and scores
/// it.
pub(crate) fn run_fold<D: CvData>(
    data: &D,
    config: &D::Config,
    split: &Split,
    metrics: &[Box<dyn Metric>],
    train_scores: bool,
    ctx: &FitContext<'_>,
) -> Result<FoldOutcome> {
    run_fold_keeping(data, config, split, metrics, train_scores, false, ctx)
}

/// [`run_fold`] that, with `keep`, also keeps the test rows' predictions (class
/// probabilities for a classification) in [`FoldOutcome::kept`]: the out-of-fold
/// predictions an ensemble is selected on.
pub(crate) fn run_fold_keeping<D: CvData>(
    data: &D,
    config: &D::Config,
    split: &Split,
    metrics: &[Box<dyn Metric>],
    train_scores: bool,
    keep: bool,
    ctx: &FitContext<'_>,
) -> Result<FoldOutcome> {
    let start = Instant::now();
    let fitted = data.fit(config, &split.train, ctx)?;
    let fit_time = start.elapsed().as_secs_f64();
    let start = Instant::now();
    let (test, kept) = score_rows_keeping(data, &fitted, &split.test, metrics, keep)?;
    let score_time = start.elapsed().as_secs_f64();
    let train = if train_scores {
        Some(score_rows(data, &fitted, &split.train, metrics)?)
    } else {
        None
    };
    Ok(FoldOutcome {
        test,
        train,
        fit_time,
        score_time,
        kept,
    })
}

/// Gathers fold outcomes (in fold order) into per-metric results.
pub(crate) fn collect_results(metrics: &[Box<dyn Metric>], folds: &[FoldOutcome]) -> CvResults {
    let per_metric = metrics
        .iter()
        .enumerate()
        .map(|(k, m)| {
            let test: Vec<f64> = folds
                .iter()
                .map(|f| f.test.get(k).copied().unwrap_or(f64::NAN))
                .collect();
            let train = folds
                .iter()
                .map(|f| f.train.as_ref().and_then(|t| t.get(k).copied()))
                .collect::<Option<Vec<f64>>>();
            let (mean, std) = mean_std(&test);
            MetricScores {
                name: m.name().to_string(),
                folds: test,
                mean,
                std,
                train,
            }
        })
        .collect();
    CvResults {
        metrics: per_metric,
        fit_time: folds.iter().map(|f| f.fit_time).collect(),
        score_time: folds.iter().map(|f| f.score_time).collect(),
    }
}

/// Options of [`cross_validate`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CvOptions {
    /// Scorer names (empty: the task's default scorer).
    pub metrics: Vec<String>,
    /// Whether to also score the training rows of each fold.
    pub return_train_score: bool,
}

impl CvOptions {
    /// Options scoring the given metrics.
    pub fn metrics<S: AsRef<str>>(names: &[S]) -> Self {
        Self {
            metrics: names.iter().map(|s| s.as_ref().to_string()).collect(),
            return_train_score: false,
        }
    }

    /// Also scores the training rows.
    pub fn train_scores(mut self, yes: bool) -> Self {
        self.return_train_score = yes;
        self
    }
}

/// Cross-validates `config` on `data` with the splits of `splitter`.
///
/// Every metric is checked against the task before any fit (ROC AUC on a regressor is an
/// error); each fold's fit receives `ctx`'s seed; folds run in parallel within `ctx`'s thread
/// bound.
///
/// ```
/// use amlis::service::config::TrainConfig;
/// use amlis::data::KFold;
/// use amlis::models::Estimator;
/// use amlis::evaluate::selection::{cross_validate, CvOptions, TableData};
/// use amlis::traits::FitContext;
///
/// let table = amlis::data::datasets::iris_table()?;
/// let data = TableData::new(&table, "species", Estimator::Classifier)?;
/// let config = TrainConfig::from_json(r#"{"model": {"type": "dummy_classifier"}}"#)?;
/// let cv = cross_validate(&data, &config, &KFold::new(5), &CvOptions::metrics(&["accuracy"]),
///                         &FitContext::new())?;
/// // Unshuffled 5-fold on iris (sorted by species): the prior always misses the test fold.
/// assert_eq!(cv.metric("accuracy")?.folds, vec![0.0; 5]);
/// # Ok::<(), amlis::Error>(())
/// ```
pub fn cross_validate<D: CvData>(
    data: &D,
    config: &D::Config,
    splitter: &dyn Splitter,
    options: &CvOptions,
    ctx: &FitContext<'_>,
) -> Result<CvResults> {
    let metrics = resolve_metrics(&options.metrics, data.target_task(), data.estimator())?;
    let splits = split_data(data, splitter)?;
    let seed = ctx.seed();
    let folds = ctx.install(|| {
        splits
            .par_iter()
            .map(|s| {
                let fold_ctx = FitContext::new().random_state(seed);
                run_fold(
                    data,
                    config,
                    s,
                    &metrics,
                    options.return_train_score,
                    &fold_ctx,
                )
            })
            .collect::<Vec<Result<FoldOutcome>>>()
    })?;
    let folds = folds.into_iter().collect::<Result<Vec<_>>>()?;
    Ok(collect_results(&metrics, &folds))
}
