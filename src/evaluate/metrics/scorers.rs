//! Metrics as [`Metric`] trait objects, looked up by scikit-learn's scorer names.
//!
//! Sign convention: a `neg_` name (`neg_mean_squared_error`, `neg_log_loss`, ...) returns the
//! negated error and `greater_is_better() == true`, exactly like scikit-learn's scorers; the
//! plain name of an error (`mean_squared_error`, `log_loss`, `max_error`, ...) returns the raw
//! error and `greater_is_better() == false`. (scikit-learn's own `max_error` scorer returns
//! the negated value; here it is `neg_max_error`.) Scores (`accuracy`, `r2`, `roc_auc`, ...)
//! are returned as they are, with `greater_is_better() == true`.
//!
//! Predictions: label metrics read [`Prediction::Values`] (class indices); ranking and
//! probabilistic metrics read [`Prediction::Scores`], one column per class `0..k`. A binary
//! metric given a 2-column probability matrix scores column 1; a 1-column matrix is the
//! decision score of class 1. Multiclass score metrics pass the labels `0..k` (one per
//! column), so a fold that misses a class still has a defined column layout.
//!
//! Internal clustering scores judge predicted labels by the features, with no target:
//! `silhouette_score`, `calinski_harabasz_score` and `davies_bouldin_score` (scikit-learn has
//! no scorer names for them; the short names `silhouette`, `calinski_harabasz` and
//! `davies_bouldin` are accepted as aliases). They answer
//! [`Metric::reads_features`] and score through [`Metric::score_features`] (euclidean
//! silhouette on every row); `davies_bouldin_score` is lower-is-better
//! (`greater_is_better() == false`), as searches take into account.

use ndarray::{ArrayView1, ArrayView2};

use crate::data::Task;
use crate::error::{Error, Result};
use crate::evaluate::metrics::classification::{self as cls, Average, KappaWeights, PrfOptions};
use crate::evaluate::metrics::clustering::{self as clu, AverageMethod};
use crate::evaluate::metrics::internal;
use crate::evaluate::metrics::probabilistic as prob;
use crate::evaluate::metrics::ranking::{self as rk, MultiClass};
use crate::evaluate::metrics::regression as reg;
use crate::traits::{Metric, MetricInput, Prediction};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PrfKind {
    Precision,
    Recall,
    F1,
    Jaccard,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RegKind {
    R2,
    ExplainedVariance,
    MaxError,
    Mse,
    Rmse,
    Mae,
    MedAe,
    Mape,
    Msle,
    Poisson,
    Gamma,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ClusterKind {
    Ari,
    Rand,
    Nmi,
    Mi,
    Homogeneity,
    Completeness,
    VMeasure,
}

/// The scores of a partition by the features alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum InternalKind {
    Silhouette,
    CalinskiHarabasz,
    DaviesBouldin,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Accuracy,
    BalancedAccuracy,
    Prf(PrfKind, Average),
    Mcc,
    CohenKappa,
    Hamming,
    RocAuc,
    RocAucMulti(MultiClass, Average),
    AveragePrecision,
    LogLoss,
    Brier,
    TopK,
    Reg(RegKind),
    Cluster(ClusterKind),
    Internal(InternalKind),
}

/// What a task must be for a metric to apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Needs {
    Classification,
    Binary,
    Regression,
    Labels,
    /// Reads no target: fits every task.
    Features,
}

impl Kind {
    fn input(self) -> MetricInput {
        match self {
            Kind::RocAuc
            | Kind::RocAucMulti(..)
            | Kind::AveragePrecision
            | Kind::LogLoss
            | Kind::Brier
            | Kind::TopK => MetricInput::Scores,
            _ => MetricInput::Values,
        }
    }

    fn needs(self) -> Needs {
        match self {
            Kind::Prf(_, Average::Binary) | Kind::RocAuc | Kind::AveragePrecision => Needs::Binary,
            Kind::Reg(_) => Needs::Regression,
            Kind::Cluster(_) => Needs::Labels,
            Kind::Internal(_) => Needs::Features,
            _ => Needs::Classification,
        }
    }
}

/// One named scorer: a metric, its sign and direction.
#[derive(Debug, Clone, Copy)]
struct Scorer {
    name: &'static str,
    kind: Kind,
    negate: bool,
    greater: bool,
}

/// Pushes the scorers of label metrics: the binary name and its `_micro`, `_macro` and
/// `_weighted` variants, in that order.
macro_rules! prf_scorers {
    ($t:ident, $score:ident, $($name:literal => $k:expr),* $(,)?) => {$(
        $t.push($score($name, Kind::Prf($k, Average::Binary)));
        $t.push($score(concat!($name, "_micro"), Kind::Prf($k, Average::Micro)));
        $t.push($score(concat!($name, "_macro"), Kind::Prf($k, Average::Macro)));
        $t.push($score(concat!($name, "_weighted"), Kind::Prf($k, Average::Weighted)));
    )*};
}

/// The negated scorer name of an error: `neg_<plain>` unless given with `as`.
macro_rules! negated_name {
    ($plain:literal) => {
        concat!("neg_", $plain)
    };
    ($plain:literal, $neg:literal) => {
        $neg
    };
}

/// Pushes the scorers of errors: the raw error (lower is better), then its negation
/// (greater is better).
macro_rules! error_scorers {
    ($t:ident, $($plain:literal $(as $neg:literal)? => $kind:expr),* $(,)?) => {$(
        for negate in [false, true] {
            $t.push(Scorer {
                name: if negate { negated_name!($plain $(, $neg)?) } else { $plain },
                kind: $kind,
                negate,
                greater: negate,
            });
        }
    )*};
}

fn table() -> Vec<Scorer> {
    use Average::{Macro, Weighted};
    let score = |name, kind| Scorer {
        name,
        kind,
        negate: false,
        greater: true,
    };
    let mut t = vec![
        score("accuracy", Kind::Accuracy),
        score("balanced_accuracy", Kind::BalancedAccuracy),
        score("top_k_accuracy", Kind::TopK),
        score("matthews_corrcoef", Kind::Mcc),
        score("cohen_kappa", Kind::CohenKappa),
        score("roc_auc", Kind::RocAuc),
        score("roc_auc_ovr", Kind::RocAucMulti(MultiClass::Ovr, Macro)),
        score("roc_auc_ovo", Kind::RocAucMulti(MultiClass::Ovo, Macro)),
        score(
            "roc_auc_ovr_weighted",
            Kind::RocAucMulti(MultiClass::Ovr, Weighted),
        ),
        score(
            "roc_auc_ovo_weighted",
            Kind::RocAucMulti(MultiClass::Ovo, Weighted),
        ),
        score("average_precision", Kind::AveragePrecision),
        score("r2", Kind::Reg(RegKind::R2)),
        score("explained_variance", Kind::Reg(RegKind::ExplainedVariance)),
        score("adjusted_rand_score", Kind::Cluster(ClusterKind::Ari)),
        score("rand_score", Kind::Cluster(ClusterKind::Rand)),
        score(
            "normalized_mutual_info_score",
            Kind::Cluster(ClusterKind::Nmi),
        ),
        score("mutual_info_score", Kind::Cluster(ClusterKind::Mi)),
        score("homogeneity_score", Kind::Cluster(ClusterKind::Homogeneity)),
        score(
            "completeness_score",
            Kind::Cluster(ClusterKind::Completeness),
        ),
        score("v_measure_score", Kind::Cluster(ClusterKind::VMeasure)),
    ];
    for (names, kind, greater) in [
        (
            ["silhouette_score", "silhouette"],
            InternalKind::Silhouette,
            true,
        ),
        (
            ["calinski_harabasz_score", "calinski_harabasz"],
            InternalKind::CalinskiHarabasz,
            true,
        ),
        (
            ["davies_bouldin_score", "davies_bouldin"],
            InternalKind::DaviesBouldin,
            false,
        ),
    ] {
        for name in names {
            t.push(Scorer {
                name,
                kind: Kind::Internal(kind),
                negate: false,
                greater,
            });
        }
    }
    prf_scorers!(
        t,
        score,
        "f1" => PrfKind::F1,
        "precision" => PrfKind::Precision,
        "recall" => PrfKind::Recall,
        "jaccard" => PrfKind::Jaccard,
    );
    error_scorers!(
        t,
        "log_loss" => Kind::LogLoss,
        "brier_score_loss" as "neg_brier_score" => Kind::Brier,
        "hamming_loss" => Kind::Hamming,
        "max_error" => Kind::Reg(RegKind::MaxError),
        "mean_squared_error" => Kind::Reg(RegKind::Mse),
        "root_mean_squared_error" => Kind::Reg(RegKind::Rmse),
        "mean_absolute_error" => Kind::Reg(RegKind::Mae),
        "median_absolute_error" => Kind::Reg(RegKind::MedAe),
        "mean_absolute_percentage_error" => Kind::Reg(RegKind::Mape),
        "mean_squared_log_error" => Kind::Reg(RegKind::Msle),
        "mean_poisson_deviance" => Kind::Reg(RegKind::Poisson),
        "mean_gamma_deviance" => Kind::Reg(RegKind::Gamma),
    );
    t
}

fn values<'a>(name: &str, p: Prediction<'a>) -> Result<ArrayView1<'a, f64>> {
    match p {
        Prediction::Values(v) => Ok(v),
        Prediction::Scores(s) => Err(Error::InvalidArgument(format!(
            "metric `{name}` reads predicted values (one label or value per sample), got a \
             {}x{} score matrix",
            s.nrows(),
            s.ncols()
        ))),
    }
}

/// The score matrix of a prediction; every `y_true` must be a class index `0..k` of its
/// columns (`0..2` for a single decision column).
fn scores<'a>(
    name: &str,
    y: ArrayView1<'_, f64>,
    p: Prediction<'a>,
) -> Result<ArrayView2<'a, f64>> {
    match p {
        Prediction::Scores(s) => {
            let k = s.ncols().max(2);
            if let Some(i) = y
                .iter()
                .position(|v| !(v.fract() == 0.0 && *v >= 0.0 && *v < k as f64))
            {
                return Err(Error::InvalidValue {
                    context: format!("metric `{name}`"),
                    row: i,
                    column: Some("y_true".into()),
                    message: format!(
                        "label {} is not a class index of the {}-column score matrix (expected \
                         0..{k})",
                        y[i],
                        s.ncols()
                    ),
                });
            }
            Ok(s)
        }
        Prediction::Values(v) => Err(Error::InvalidArgument(format!(
            "metric `{name}` reads per-class scores or probabilities (a matrix), got {} \
             predicted values",
            v.len()
        ))),
    }
}

/// The labels `0..k` of a score matrix with `k` columns (2 for a single column).
fn column_labels(s: ArrayView2<'_, f64>) -> Vec<f64> {
    (0..s.ncols().max(2)).map(|c| c as f64).collect()
}

impl Metric for Scorer {
    fn name(&self) -> &str {
        self.name
    }

    fn greater_is_better(&self) -> bool {
        self.greater
    }

    fn input(&self) -> MetricInput {
        self.kind.input()
    }

    fn score(
        &self,
        y_true: ArrayView1<'_, f64>,
        y_pred: Prediction<'_>,
        weights: Option<ArrayView1<'_, f64>>,
    ) -> Result<f64> {
        let (y, p, w, n) = (y_true, y_pred, weights, self.name);
        let v = match self.kind {
            Kind::Accuracy => cls::accuracy_score(y, values(n, p)?, true, w),
            Kind::BalancedAccuracy => cls::balanced_accuracy_score(y, values(n, p)?, false, w),
            Kind::Prf(k, avg) => {
                let opts = PrfOptions::average(Some(avg));
                let v = values(n, p)?;
                match k {
                    PrfKind::Precision => cls::precision_score(y, v, &opts, w),
                    PrfKind::Recall => cls::recall_score(y, v, &opts, w),
                    PrfKind::F1 => cls::f1_score(y, v, &opts, w),
                    PrfKind::Jaccard => Ok(cls::jaccard_score(y, v, &opts, w)?
                        .first()
                        .copied()
                        .unwrap_or(f64::NAN)),
                }
            }
            Kind::Mcc => cls::matthews_corrcoef(y, values(n, p)?, w),
            Kind::CohenKappa => {
                cls::cohen_kappa_score(y, values(n, p)?, None, KappaWeights::None, w)
            }
            Kind::Hamming => cls::hamming_loss(y, values(n, p)?, w),
            Kind::RocAuc => {
                rk::roc_auc_score(y, rk::positive_scores(n, scores(n, y, p)?)?, w, None)
            }
            Kind::RocAucMulti(mc, avg) => {
                let s = scores(n, y, p)?;
                if s.ncols() <= 2 {
                    rk::roc_auc_score(y, rk::positive_scores(n, s)?, w, None)
                } else {
                    rk::roc_auc_score_multiclass(y, s, mc, avg, Some(&column_labels(s)), w)
                }
            }
            Kind::AveragePrecision => {
                rk::average_precision_score(y, rk::positive_scores(n, scores(n, y, p)?)?, 1.0, w)
            }
            Kind::LogLoss => {
                let s = scores(n, y, p)?;
                prob::log_loss(y, s, Some(&column_labels(s)), true, w)
            }
            Kind::Brier => {
                let s = scores(n, y, p)?;
                if s.ncols() == 2 {
                    let pos = s.slice(ndarray::s![.., 1..2]);
                    prob::brier_score_loss(y, pos, None, Some(1.0), w, None)
                } else {
                    prob::brier_score_loss(y, s, Some(&column_labels(s)), Some(1.0), w, None)
                }
            }
            Kind::TopK => {
                let s = scores(n, y, p)?;
                if s.ncols() <= 2 {
                    let pos = rk::positive_scores(n, s)?.insert_axis(ndarray::Axis(1));
                    cls::top_k_accuracy_score(y, pos, 2, true, Some(&[0.0, 1.0]), w)
                } else {
                    cls::top_k_accuracy_score(y, s, 2, true, Some(&column_labels(s)), w)
                }
            }
            Kind::Reg(k) => {
                let v = values(n, p)?;
                match k {
                    RegKind::R2 => reg::r2_score(y, v, w, true),
                    RegKind::ExplainedVariance => reg::explained_variance_score(y, v, w, true),
                    RegKind::MaxError => reg::max_error(y, v),
                    RegKind::Mse => reg::mean_squared_error(y, v, w),
                    RegKind::Rmse => reg::root_mean_squared_error(y, v, w),
                    RegKind::Mae => reg::mean_absolute_error(y, v, w),
                    RegKind::MedAe => reg::median_absolute_error(y, v, w),
                    RegKind::Mape => reg::mean_absolute_percentage_error(y, v, w),
                    RegKind::Msle => reg::mean_squared_log_error(y, v, w),
                    RegKind::Poisson => reg::mean_poisson_deviance(y, v, w),
                    RegKind::Gamma => reg::mean_gamma_deviance(y, v, w),
                }
            }
            Kind::Cluster(k) => {
                let v = values(n, p)?;
                match k {
                    ClusterKind::Ari => clu::adjusted_rand_score(y, v),
                    ClusterKind::Rand => clu::rand_score(y, v),
                    ClusterKind::Nmi => {
                        clu::normalized_mutual_info_score(y, v, AverageMethod::Arithmetic)
                    }
                    ClusterKind::Mi => clu::mutual_info_score(y, v),
                    ClusterKind::Homogeneity => clu::homogeneity_score(y, v),
                    ClusterKind::Completeness => clu::completeness_score(y, v),
                    ClusterKind::VMeasure => clu::v_measure_score(y, v),
                }
            }
            Kind::Internal(_) => Err(Error::Unsupported(format!(
                "metric `{n}` judges predicted labels by the features, not against true \
                 targets: score it with `score_features(X, labels)`"
            ))),
        }?;
        Ok(if self.negate { -v } else { v })
    }

    fn reads_features(&self) -> bool {
        matches!(self.kind, Kind::Internal(_))
    }

    fn score_features(&self, x: ArrayView2<'_, f64>, labels: ArrayView1<'_, f64>) -> Result<f64> {
        match self.kind {
            Kind::Internal(InternalKind::Silhouette) => internal::silhouette_score(x, labels),
            Kind::Internal(InternalKind::CalinskiHarabasz) => {
                internal::calinski_harabasz_score(x, labels)
            }
            Kind::Internal(InternalKind::DaviesBouldin) => {
                internal::davies_bouldin_score(x, labels)
            }
            _ => Err(Error::Unsupported(format!(
                "metric `{}` compares predictions with true targets; it does not score features",
                self.name
            ))),
        }
    }
}

/// Every metric name [`get`] knows, in a fixed order.
pub fn names() -> Vec<&'static str> {
    table().iter().map(|s| s.name).collect()
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

fn find(name: &str) -> Result<Scorer> {
    let t = table();
    if let Some(s) = t.iter().find(|s| s.name == name) {
        return Ok(*s);
    }
    let mut close: Vec<(usize, &str)> = t
        .iter()
        .map(|s| (edit_distance(name, s.name), s.name))
        .filter(|(d, n)| *d <= 3 || (name.len() >= 3 && n.contains(name)))
        .collect();
    close.sort();
    let hint = if close.is_empty() {
        String::new()
    } else {
        let c: Vec<&str> = close.iter().take(5).map(|c| c.1).collect();
        format!(" Did you mean: {}?", c.join(", "))
    };
    Err(Error::InvalidArgument(format!(
        "unknown metric `{name}`.{hint} Valid names: {}",
        names().join(", ")
    )))
}

/// The metric of that scikit-learn scorer name, e.g. `"accuracy"`, `"f1_macro"`, `"roc_auc"`,
/// `"neg_log_loss"`, `"r2"`, `"neg_mean_squared_error"`, `"adjusted_rand_score"`,
/// `"silhouette_score"`.
///
/// An unknown name is an [`Error::InvalidArgument`] that lists close matches and every valid
/// name.
///
/// ```
/// use amlis::traits::Prediction;
/// use ndarray::arr1;
///
/// let m = amlis::evaluate::metrics::get("neg_mean_squared_error")?;
/// assert!(m.greater_is_better());
/// let s = m.score(arr1(&[1., 2.]).view(), Prediction::Values(arr1(&[1., 4.]).view()), None)?;
/// assert_eq!(s, -2.0);
/// let e = amlis::evaluate::metrics::get("f1_marco").err().map(|e| e.to_string()).unwrap_or_default();
/// assert!(e.contains("Did you mean: f1_macro"));
/// # Ok::<(), amlis::Error>(())
/// ```
pub fn get(name: &str) -> Result<Box<dyn Metric>> {
    Ok(Box::new(find(name)?))
}

/// Checks that metric `name` applies to `task`: label and score metrics need a classification
/// task (binary ones exactly two classes), regression metrics a regression task, clustering
/// metrics that compare with labels a classification or unsupervised task (the labels are
/// read when scoring), internal clustering scores (which read no target) any task. The error
/// says why and what to use instead.
pub fn metric_fits_task(name: &str, task: &Task) -> Result<()> {
    let s = find(name)?;
    let task_name = match task {
        Task::Classification { classes } => {
            format!("a classification task with {} classes", classes.len())
        }
        Task::Regression => "a regression task".to_string(),
        Task::Unsupervised => "an unsupervised task".to_string(),
    };
    let fail = |why: &str| {
        Err(Error::InvalidArgument(format!(
            "metric `{name}` does not fit {task_name}: {why}"
        )))
    };
    match (s.kind.needs(), task) {
        (Needs::Features, _) | (Needs::Regression, Task::Regression) => Ok(()),
        (Needs::Regression, _) => fail("it scores real-valued predictions of a regressor"),
        (Needs::Labels, Task::Regression) => fail("it compares labelings (clusters or classes)"),
        (Needs::Labels, _) => Ok(()),
        (Needs::Classification, Task::Classification { .. }) => Ok(()),
        (Needs::Binary, Task::Classification { classes }) if classes.len() == 2 => Ok(()),
        (Needs::Binary, Task::Classification { .. }) => fail(
            "it is a binary metric and needs exactly 2 classes; use a multiclass variant \
             (e.g. f1_macro, roc_auc_ovr)",
        ),
        (_, _) => fail("it scores a classifier's labels or class scores"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_distance_counts_single_edits() {
        assert_eq!(edit_distance("f1_marco", "f1_macro"), 2);
        assert_eq!(edit_distance("r2", "r2"), 0);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("accuracy", "acuracy"), 1);
    }

    #[test]
    fn every_error_has_a_raw_and_a_negated_name() {
        let t = table();
        for s in t.iter().filter(|s| s.negate) {
            let plain = s.name.trim_start_matches("neg_");
            let raw = t.iter().find(|r| r.kind == s.kind && !r.negate);
            assert!(raw.is_some(), "{} has no raw twin", s.name);
            assert!(s.greater, "{}", s.name);
            assert!(!raw.is_none_or(|r| r.greater), "{plain}");
        }
        // Every Scores metric says so; every Values metric reads values.
        assert_eq!(
            find("roc_auc_ovo").map(|s| s.kind.input()).ok(),
            Some(MetricInput::Scores)
        );
        assert_eq!(
            find("r2").map(|s| s.kind.input()).ok(),
            Some(MetricInput::Values)
        );
    }
}
