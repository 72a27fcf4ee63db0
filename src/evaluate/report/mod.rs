//! The evaluation report: one call that scores a fitted model on a data set with every metric
//! that fits its task, with the curves, the confusion matrix and the residuals; rendered as
//! text ([`Display`](std::fmt::Display)), serializable with serde, and drawn as SVG plots
//! ([`EvaluationReport::write_svg`]).
//!
//! - classification: accuracy, balanced accuracy, precision / recall / F1 (macro and
//!   weighted), log loss, ROC AUC (binary, or one-vs-rest macro), average precision (binary),
//!   Matthews correlation, Cohen's kappa; the confusion matrix, the classification report, and
//!   the ROC and precision-recall curves (the positive class for binary tasks, one per class
//!   otherwise);
//! - regression: R², explained variance, MSE, RMSE, MAE, median AE, MAPE, max error, and the
//!   true / predicted values for the residual plots;
//! - clustering: the silhouette, Calinski-Harabasz and Davies-Bouldin scores of the predicted
//!   partition, computed on the features the clusterer saw (after the pipeline's steps), with
//!   no labels needed; when the table holds the pipeline's target column (the truth named at
//!   fit), also adjusted Rand, normalized mutual information, homogeneity, completeness and
//!   V-measure against it; the cluster sizes and the number of noise rows (label `-1`, which
//!   the scores count as one more cluster, as scikit-learn does).
//!
//! Every number is computed by the functions of [`crate::evaluate::metrics`] under their scorer names;
//! a metric that is undefined on this data (ROC AUC with one class present) is listed in
//! [`EvaluationReport::skipped`] with the reason.
//!
//! ```
//! use amlis::service::config::TrainConfig;
//! use amlis::service::pipeline::Pipeline;
//! use amlis::traits::FitContext;
//!
//! let table = amlis::data::datasets::breast_cancer_table()?;
//! let config = TrainConfig::from_json(r#"{"model": {"type": "dummy_classifier", "strategy": "prior"}}"#)?;
//! let pipeline = Pipeline::fit(&config, &table, "diagnosis", &FitContext::new())?;
//! let report = amlis::evaluate::report::evaluate(&pipeline, &table)?;
//! assert_eq!(report.metric("roc_auc"), Some(0.5));
//! assert_eq!(amlis::evaluate::report::evaluate_metric(&pipeline, &table, "accuracy")?, 357.0 / 569.0);
//! println!("{report}");
//! # Ok::<(), amlis::Error>(())
//! ```

mod plot;

use std::fmt;

use ndarray::{Array1, Array2, ArrayView2};
use serde::{Deserialize, Serialize};

use crate::data::{Column, Table, Task};
use crate::error::{Error, Result};
use crate::evaluate::metrics::{
    self, classification_report, confusion_matrix, precision_recall_curve, roc_curve,
    ClassificationReport, PrCurve, RocCurve,
};
use crate::models::{AnyModel, Estimator};
use crate::service::pipeline::Pipeline;
use crate::traits::{Dataset, MetricInput, Prediction, Predictor};

/// The scorer names a classification report computes, in order.
const CLASSIFICATION: &[&str] = &[
    "accuracy",
    "balanced_accuracy",
    "precision_macro",
    "recall_macro",
    "f1_macro",
    "precision_weighted",
    "recall_weighted",
    "f1_weighted",
    "log_loss",
    "roc_auc",
    "roc_auc_ovr",
    "average_precision",
    "matthews_corrcoef",
    "cohen_kappa",
];

/// The scorer names a regression report computes, in order.
const REGRESSION: &[&str] = &[
    "r2",
    "explained_variance",
    "mean_squared_error",
    "root_mean_squared_error",
    "mean_absolute_error",
    "median_absolute_error",
    "mean_absolute_percentage_error",
    "max_error",
];

/// The scorer names a clustering report computes, in order: first the scores of the features
/// (always), then those against true labels (when the truth is given).
const CLUSTERING: &[&str] = &[
    "silhouette_score",
    "calinski_harabasz_score",
    "davies_bouldin_score",
    "adjusted_rand_score",
    "normalized_mutual_info_score",
    "homogeneity_score",
    "completeness_score",
    "v_measure_score",
];

/// One curve of one class.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassCurves {
    /// The class the curve treats as positive.
    pub class: String,
    /// The ROC curve (`drop_intermediate = true`, as scikit-learn's default).
    pub roc: RocCurve,
    /// Area under the ROC curve.
    #[serde(with = "crate::common::json_float::one")]
    pub roc_auc: f64,
    /// The precision-recall curve.
    pub pr: PrCurve,
    /// Average precision.
    #[serde(with = "crate::common::json_float::one")]
    pub average_precision: f64,
}

/// What a classifier's report holds beyond the scalar metrics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassificationDetails {
    /// The class labels.
    pub classes: Vec<String>,
    /// Counts: row = true class, column = predicted class.
    pub confusion_matrix: Vec<Vec<f64>>,
    /// Per-class precision, recall, F1 and support.
    pub report: ClassificationReport,
    /// ROC and precision-recall curves: the positive class for a binary task, one per class
    /// (one against the rest) otherwise; empty when there are no probabilities.
    pub curves: Vec<ClassCurves>,
}

/// What a regressor's report holds beyond the scalar metrics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegressionDetails {
    /// The true values.
    pub y_true: Vec<f64>,
    /// The predicted values.
    pub y_pred: Vec<f64>,
}

/// The rows of one cluster label.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ClusterSize {
    /// The predicted label (`-1`: noise).
    pub label: f64,
    /// How many rows have it.
    pub size: usize,
}

/// What a clusterer's report holds beyond the scalar metrics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClusteringDetails {
    /// The number of clusters found in the data (distinct labels other than `-1`).
    pub n_clusters: usize,
    /// Rows labelled `-1` (noise, as DBSCAN and HDBSCAN label them).
    pub n_noise: usize,
    /// Rows per label, by ascending label (noise first when present).
    pub cluster_sizes: Vec<ClusterSize>,
    /// Whether true labels were given (the agreement scores were computed).
    pub labelled: bool,
}

/// Task-specific details.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "task", rename_all = "snake_case")]
pub enum Details {
    /// A classifier's.
    Classification(Box<ClassificationDetails>),
    /// A regressor's.
    Regression(RegressionDetails),
    /// A clusterer's.
    Clustering(ClusteringDetails),
}

/// Every metric that fits the task, and the details to plot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvaluationReport {
    /// The model's type name.
    pub model: String,
    /// The number of rows evaluated.
    pub n_samples: usize,
    /// Scorer name → value, in a fixed order (errors as positive values: `log_loss`,
    /// `mean_squared_error`).
    #[serde(with = "crate::common::json_float::pairs")]
    pub metrics: Vec<(String, f64)>,
    /// Metrics that fit the task but are undefined on this data, with the reason.
    pub skipped: Vec<(String, String)>,
    /// Confusion matrix and curves, or residuals.
    pub details: Details,
}

impl EvaluationReport {
    /// The value of metric `name`, if it was computed.
    pub fn metric(&self, name: &str) -> Option<f64> {
        self.metrics
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| *v)
    }

    /// Writes the plots into `dir` (created if needed) and returns their paths:
    /// `roc.svg`, `precision_recall.svg`, `confusion_matrix.svg` for a classifier;
    /// `predicted_vs_actual.svg`, `residuals.svg` for a regressor; `cluster_sizes.svg` for a
    /// clusterer.
    pub fn write_svg(&self, dir: impl AsRef<std::path::Path>) -> Result<Vec<std::path::PathBuf>> {
        plot::write_all(self, dir.as_ref())
    }
}

/// Evaluates a fitted pipeline on a raw table that holds its input columns and its target.
///
/// A clusterer needs no target: it is scored on the features after the pipeline's steps, and
/// against the truth too when the pipeline was fitted naming a target column that `table`
/// holds.
///
/// ```
/// use amlis::service::config::TrainConfig;
/// use amlis::service::pipeline::Pipeline;
/// use amlis::traits::FitContext;
///
/// let table = amlis::data::datasets::iris_table()?.drop(&["species"])?;
/// let config = TrainConfig::from_json(r#"{"model": {"type": "k_means", "n_clusters": 3},
///     "preprocess": [{"type": "standard_scaler"}]}"#)?;
/// let pipeline = Pipeline::fit(&config, &table, None, &FitContext::new())?;
/// let report = amlis::evaluate::report::evaluate(&pipeline, &table)?;
/// assert!(report.metric("silhouette_score").is_some_and(|s| s > 0.4));
/// assert!(report.metric("adjusted_rand_score").is_none());
/// println!("{report}");
/// # Ok::<(), amlis::Error>(())
/// ```
pub fn evaluate(pipeline: &Pipeline, table: &Table) -> Result<EvaluationReport> {
    if pipeline.estimator() == Estimator::Clusterer {
        let x = pipeline.transform_table(table)?;
        let truth = match pipeline.meta().target_name() {
            Ok(target) if table.names().iter().any(|n| n == target) => {
                Some(truth(pipeline, table, target)?)
            }
            _ => None,
        };
        return build_clustering(pipeline.model(), x.view(), truth);
    }
    let (y, pred, proba) = pipeline_predictions(pipeline, table)?;
    build(pipeline.model(), y, pred, proba)
}

/// Evaluates a fitted model on a dataset whose targets use the model's class indices (a
/// clusterer: on the dataset's features, and against its targets when it has any).
pub fn evaluate_model(model: &AnyModel, data: &dyn Dataset) -> Result<EvaluationReport> {
    if model.estimator() == Estimator::Clusterer {
        let x = data.features();
        return build_clustering(model, x.view(), data.targets());
    }
    let y = data
        .targets()
        .ok_or_else(|| Error::InvalidArgument("the dataset has no targets to evaluate".into()))?;
    let x = data.features();
    let pred = model.predict(x.view())?;
    let proba = match model.as_probabilistic() {
        Some(p) => Some(p.predict_proba(x.view())?),
        None => None,
    };
    build(model, y, pred, proba)
}

/// One metric of a fitted pipeline on a raw table (what `amlis_evaluate` calls). The name is
/// a scorer name (`accuracy`, `roc_auc`, `neg_mean_squared_error`, `r2`, ...); a name that
/// does not fit the model's task is an error. A metric that reads the features
/// (`silhouette_score`, ...) scores the predicted labels on the features after the
/// pipeline's steps and needs no target.
pub fn evaluate_metric(pipeline: &Pipeline, table: &Table, metric: &str) -> Result<f64> {
    let m = metrics::get(metric)?;
    metrics::metric_fits_task(metric, &task_of(pipeline.model()))?;
    if m.reads_features() {
        let x = pipeline.transform_table(table)?;
        let labels = pipeline.model().predict(x.view())?;
        return m.score_features(x.view(), labels.view());
    }
    let (y, pred, proba) = pipeline_predictions(pipeline, table)?;
    score(m.as_ref(), &y, &pred, proba.as_ref())
}

fn task_of(model: &AnyModel) -> Task {
    model.task()
}

type Predictions = (Array1<f64>, Array1<f64>, Option<Array2<f64>>);

/// The targets of `table` (as the pipeline's class indices) and the pipeline's predictions.
fn pipeline_predictions(pipeline: &Pipeline, table: &Table) -> Result<Predictions> {
    let target = pipeline.meta().target_name()?;
    let y = truth(pipeline, table, target)?;
    let pred = pipeline.predict_table(table)?;
    let proba = if pipeline.n_classes() > 0 {
        Some(pipeline.predict_proba_table(table)?)
    } else {
        None
    };
    Ok((y, pred, proba))
}

/// Column `target` of `table` as the truth for the pipeline's model: a classifier's class
/// indices, numbers as they are, and for the kinds that learn without targets categories as
/// their codes (a partition).
fn truth(pipeline: &Pipeline, table: &Table, target: &str) -> Result<Array1<f64>> {
    let target = &target.to_string();
    let col = table.column(target)?;
    let estimator = pipeline.estimator();
    let y = match (col, pipeline.model().as_probabilistic()) {
        (_, Some(p)) if estimator == Estimator::Classifier => {
            let classes = p.classes();
            let mut y = Vec::with_capacity(col.len());
            for row in 0..col.len() {
                let label = match col {
                    Column::Categorical(c) => c.get(row).map(str::to_string),
                    Column::Numeric(v) => v
                        .get(row)
                        .filter(|x| x.is_finite())
                        .map(|x| crate::data::format_label(*x)),
                };
                let label = label.ok_or_else(|| Error::InvalidValue {
                    context: "evaluation target".into(),
                    row,
                    column: Some(target.clone()),
                    message: "the target is missing".into(),
                })?;
                let k = classes.iter().position(|c| *c == label).ok_or_else(|| {
                    Error::InvalidValue {
                        context: "evaluation target".into(),
                        row,
                        column: Some(target.clone()),
                        message: format!(
                            "class `{label}` was not seen at fit; the model knows {classes:?}"
                        ),
                    }
                })?;
                y.push(k as f64);
            }
            Array1::from(y)
        }
        (Column::Numeric(v), _) => Array1::from(v.clone()),
        // The kinds that learn without targets are scored against labels as given (a
        // partition compared with a partition): categories as their indices.
        (Column::Categorical(c), _) if !estimator.needs_target() => {
            let mut y = Vec::with_capacity(c.len());
            for (row, &code) in c.codes().iter().enumerate() {
                if code == crate::data::MISSING_CODE {
                    return Err(Error::InvalidValue {
                        context: "evaluation labels".into(),
                        row,
                        column: Some(target.clone()),
                        message: "the label is missing".into(),
                    });
                }
                y.push(f64::from(code));
            }
            Array1::from(y)
        }
        (Column::Categorical(_), _) => {
            return Err(Error::ColumnKind {
                column: target.clone(),
                context: format!("evaluation of a {estimator}"),
                found: col.kind().to_string(),
                expected: "numeric".into(),
            })
        }
    };
    Ok(y)
}

fn score(
    m: &dyn crate::traits::Metric,
    y: &Array1<f64>,
    pred: &Array1<f64>,
    proba: Option<&Array2<f64>>,
) -> Result<f64> {
    let p = match (m.input(), proba) {
        (MetricInput::Scores, Some(s)) => Prediction::Scores(s.view()),
        (MetricInput::Scores, None) => {
            return Err(Error::Unsupported(format!(
                "metric `{}` needs class probabilities",
                m.name()
            )))
        }
        (MetricInput::Values, _) => Prediction::Values(pred.view()),
    };
    m.score(y.view(), p, None)
}

fn build(
    model: &AnyModel,
    y: Array1<f64>,
    pred: Array1<f64>,
    proba: Option<Array2<f64>>,
) -> Result<EvaluationReport> {
    if y.is_empty() {
        return Err(Error::Empty("evaluation data".into()));
    }
    let task = task_of(model);
    let names = if task.is_classification() {
        CLASSIFICATION
    } else {
        REGRESSION
    };
    let mut values = Vec::new();
    let mut skipped = Vec::new();
    for &name in names {
        if metrics::metric_fits_task(name, &task).is_err() {
            continue;
        }
        // Multiclass ROC AUC is reported as roc_auc_ovr; binary as roc_auc.
        if name == "roc_auc_ovr" && task.classes().len() == 2 {
            continue;
        }
        let m = metrics::get(name)?;
        match score(m.as_ref(), &y, &pred, proba.as_ref()) {
            Ok(v) => values.push((name.to_string(), v)),
            Err(e) => skipped.push((name.to_string(), e.to_string())),
        }
    }
    let details = match &task {
        Task::Classification { classes } => Details::Classification(Box::new(
            classification_details(classes, &y, &pred, proba.as_ref())?,
        )),
        _ => Details::Regression(RegressionDetails {
            y_true: y.to_vec(),
            y_pred: pred.to_vec(),
        }),
    };
    Ok(EvaluationReport {
        model: model.type_name().to_string(),
        n_samples: y.len(),
        metrics: values,
        skipped,
        details,
    })
}

/// The report of a clusterer on features `x` (as the model sees them), with the truth when
/// given.
fn build_clustering(
    model: &AnyModel,
    x: ArrayView2<'_, f64>,
    truth: Option<Array1<f64>>,
) -> Result<EvaluationReport> {
    if x.nrows() == 0 {
        return Err(Error::Empty("evaluation data".into()));
    }
    let pred = model.predict(x)?;
    let mut values = Vec::new();
    let mut skipped = Vec::new();
    for &name in CLUSTERING {
        let m = metrics::get(name)?;
        let v = if m.reads_features() {
            m.score_features(x, pred.view())
        } else if let Some(y) = &truth {
            m.score(y.view(), Prediction::Values(pred.view()), None)
        } else {
            continue;
        };
        match v {
            Ok(v) => values.push((name.to_string(), v)),
            Err(e) => skipped.push((name.to_string(), e.to_string())),
        }
    }
    Ok(EvaluationReport {
        model: model.type_name().to_string(),
        n_samples: pred.len(),
        metrics: values,
        skipped,
        details: Details::Clustering(clustering_details(&pred, truth.is_some())),
    })
}

/// Cluster sizes and noise count of predicted labels.
fn clustering_details(pred: &Array1<f64>, labelled: bool) -> ClusteringDetails {
    let mut sorted = pred.to_vec();
    sorted.sort_by(f64::total_cmp);
    let mut cluster_sizes: Vec<ClusterSize> = Vec::new();
    for label in sorted {
        match cluster_sizes.last_mut() {
            Some(c) if c.label == label => c.size += 1,
            _ => cluster_sizes.push(ClusterSize { label, size: 1 }),
        }
    }
    let noise = |c: &&ClusterSize| c.label == -1.0;
    ClusteringDetails {
        n_clusters: cluster_sizes.iter().filter(|c| !noise(c)).count(),
        n_noise: cluster_sizes.iter().filter(noise).map(|c| c.size).sum(),
        cluster_sizes,
        labelled,
    }
}

fn classification_details(
    classes: &[String],
    y: &Array1<f64>,
    pred: &Array1<f64>,
    proba: Option<&Array2<f64>>,
) -> Result<ClassificationDetails> {
    let labels: Vec<f64> = (0..classes.len()).map(|k| k as f64).collect();
    let cm = confusion_matrix(y.view(), pred.view(), Some(&labels), None, None)?;
    let report = classification_report(
        y.view(),
        pred.view(),
        Some(&labels),
        Some(classes),
        None,
        2,
        0.0,
    )?;
    let mut curves = Vec::new();
    if let Some(p) = proba {
        let positives: Vec<usize> = if classes.len() == 2 {
            vec![1]
        } else {
            (0..classes.len()).collect()
        };
        for k in positives {
            let y_bin = y.mapv(|v| f64::from(u8::from(v == k as f64)));
            // A class absent from the data has no curve (its rates are undefined).
            if !y_bin.iter().any(|&v| v == 1.0) || !y_bin.iter().any(|&v| v == 0.0) {
                continue;
            }
            let s = p.column(k);
            let roc = roc_curve(y_bin.view(), s, Some(1.0), None, true)?;
            let pr = precision_recall_curve(y_bin.view(), s, Some(1.0), None, false)?;
            curves.push(ClassCurves {
                class: classes.get(k).cloned().unwrap_or_default(),
                roc_auc: metrics::auc(&roc.fpr, &roc.tpr)?,
                average_precision: metrics::average_precision_score(y_bin.view(), s, 1.0, None)?,
                roc,
                pr,
            });
        }
    }
    Ok(ClassificationDetails {
        classes: classes.to_vec(),
        confusion_matrix: cm.rows().into_iter().map(|r| r.to_vec()).collect(),
        report,
        curves,
    })
}

impl fmt::Display for EvaluationReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "Evaluation of {} on {} samples",
            self.model, self.n_samples
        )?;
        let w = self.metrics.iter().map(|(n, _)| n.len()).max().unwrap_or(0);
        for (name, v) in &self.metrics {
            writeln!(f, "  {name:<w$}  {v:.6}")?;
        }
        for (name, why) in &self.skipped {
            writeln!(f, "  {name:<w$}  undefined: {why}")?;
        }
        match &self.details {
            Details::Classification(d) => {
                writeln!(f, "\nConfusion matrix (rows: true, columns: predicted)")?;
                let cw = d
                    .classes
                    .iter()
                    .map(|c| c.len())
                    .chain(
                        d.confusion_matrix
                            .iter()
                            .flatten()
                            .map(|v| format!("{v}").len()),
                    )
                    .max()
                    .unwrap_or(1);
                write!(f, "  {:>cw$}", "")?;
                for c in &d.classes {
                    write!(f, "  {c:>cw$}")?;
                }
                writeln!(f)?;
                for (c, row) in d.classes.iter().zip(&d.confusion_matrix) {
                    write!(f, "  {c:>cw$}")?;
                    for v in row {
                        write!(f, "  {v:>cw$}")?;
                    }
                    writeln!(f)?;
                }
                writeln!(f, "\nClassification report\n{}", d.report)?;
                for c in &d.curves {
                    writeln!(
                        f,
                        "  class {}: ROC AUC {:.6}, average precision {:.6} ({} ROC points)",
                        c.class,
                        c.roc_auc,
                        c.average_precision,
                        c.roc.fpr.len()
                    )?;
                }
            }
            Details::Clustering(d) => {
                writeln!(
                    f,
                    "\n{} clusters, {} noise rows (label -1){}",
                    d.n_clusters,
                    d.n_noise,
                    if d.labelled {
                        ""
                    } else {
                        "; no true labels given"
                    }
                )?;
                writeln!(f, "  {:>8}  {:>8}", "label", "rows")?;
                for c in &d.cluster_sizes {
                    writeln!(f, "  {:>8}  {:>8}", c.label, c.size)?;
                }
            }
            Details::Regression(d) => {
                let res: Vec<f64> = d.y_true.iter().zip(&d.y_pred).map(|(a, b)| a - b).collect();
                let (mean, std) = crate::evaluate::selection::mean_std(&res);
                writeln!(
                    f,
                    "\nResiduals (true - predicted): mean {mean:.6}, std {std:.6}"
                )?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn noise_is_counted_apart_from_the_clusters() {
        let d = clustering_details(&ndarray::arr1(&[2.0, -1.0, 0.0, 2.0, -1.0, 2.0]), false);
        assert_eq!((d.n_clusters, d.n_noise), (2, 2));
        let sizes: Vec<(f64, usize)> = d.cluster_sizes.iter().map(|c| (c.label, c.size)).collect();
        assert_eq!(sizes, vec![(-1.0, 2), (0.0, 1), (2.0, 3)]);
    }
}
