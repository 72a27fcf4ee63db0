//! Metrics with scikit-learn's names and semantics, equal to scikit-learn 1.9 to 1e-12.
//!
//! - [`classification`]: accuracy, balanced accuracy, precision / recall / F-beta / Jaccard
//!   (binary, micro, macro, weighted, per class), Matthews correlation, Cohen's kappa, Hamming
//!   loss, top-k accuracy; [`confusion`]: the confusion matrix; [`report`]: the
//!   classification report (struct and text).
//! - [`ranking`]: ROC and precision-recall curves, `auc`, ROC AUC (binary; multiclass ovr and
//!   ovo, macro and weighted; partial with `max_fpr`), average precision.
//! - [`probabilistic`]: log loss and the Brier score.
//! - [`regression`]: MSE, RMSE, MAE, median AE, MAPE, max error, MSLE, R², explained variance,
//!   Poisson and Gamma deviance.
//! - [`clustering`]: adjusted Rand, Rand, mutual information, normalized mutual information,
//!   homogeneity, completeness, V-measure (a partition against true labels);
//!   [`internal`]: the silhouette (euclidean, manhattan, cosine; parallel, optionally on a
//!   subsample), Calinski-Harabasz and Davies-Bouldin (a partition judged by the features).
//! - [`get`] / [`names`]: the same metrics as [`Metric`](crate::traits::Metric) objects under
//!   scikit-learn's scorer names (see [`scorers`] for the sign convention), and
//!   [`metric_fits_task`] to check a metric against a task.
//!
//! Every function takes ndarray views: `y_true` and `y_pred` as class labels or values,
//! score / probability matrices with one column per class, optional sample weights. Bad input
//! (mismatched lengths, empty input, NaN, negative weights, labels that do not fit the score
//! matrix) is an [`Error`](crate::Error) that says what and where, never a panic. Where
//! scikit-learn warns and returns a substitute value (an undefined precision is 0), amlis
//! returns the same value without a warning.
//!
//! Where amlis deliberately differs from scikit-learn 1.9 (each is an error here, because a
//! silent value would hide a broken evaluation):
//! - binary ROC AUC with a single class in `y_true` is an error ("Only one class present in
//!   y_true. ROC AUC score is not defined in that case."); scikit-learn warns and returns NaN;
//! - negative sample weights are an error; scikit-learn accepts them in most metrics;
//! - empty inputs are an error everywhere; scikit-learn returns 1.0 for some clustering scores;
//! - `log_loss` cannot warn: rows that do not sum to 1 are used as given, as scikit-learn
//!   does after its warning.
//!
//! ```
//! use ndarray::{arr1, arr2};
//! use amlis::evaluate::metrics::{self, Average, PrfOptions};
//! use amlis::traits::Prediction;
//!
//! let y = arr1(&[0., 1., 1., 0.]);
//! let pred = arr1(&[0., 1., 0., 0.]);
//! assert_eq!(metrics::accuracy_score(y.view(), pred.view(), true, None)?, 0.75);
//! let f1 = metrics::f1_score(y.view(), pred.view(), &PrfOptions::default(), None)?;
//! assert!((f1 - 2.0 / 3.0).abs() < 1e-15);
//!
//! // By name, on class probabilities: column 1 is the positive class.
//! let proba = arr2(&[[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.7, 0.3]]);
//! let auc = metrics::get("roc_auc")?.score(y.view(), Prediction::Scores(proba.view()), None)?;
//! assert_eq!(auc, 1.0);
//! # Ok::<(), amlis::Error>(())
//! ```

pub(crate) mod check;
pub mod classification;
pub mod clustering;
pub mod confusion;
pub mod internal;
pub mod probabilistic;
pub mod ranking;
pub mod regression;
pub mod report;
pub mod scorers;

pub use check::np_sum;
pub use classification::{
    accuracy_score, balanced_accuracy_score, cohen_kappa_score, f1_score, fbeta_score,
    hamming_loss, jaccard_score, matthews_corrcoef, precision_recall_fscore_support,
    precision_score, recall_score, top_k_accuracy_score, Average, KappaWeights, PrfOptions, Prfs,
};
pub use clustering::{
    adjusted_rand_score, completeness_score, homogeneity_completeness_v_measure, homogeneity_score,
    mutual_info_score, normalized_mutual_info_score, rand_score, v_measure_score, AverageMethod,
};
pub use confusion::{confusion_matrix, Normalize};
pub use internal::{
    calinski_harabasz_score, davies_bouldin_score, silhouette_samples, silhouette_score, Distance,
    Silhouette,
};
pub use probabilistic::{brier_score_loss, log_loss};
pub use ranking::{
    auc, average_precision_score, average_precision_score_multiclass, positive_scores,
    precision_recall_curve, roc_auc_score, roc_auc_score_multiclass, roc_curve, MultiClass,
    PrCurve, RocCurve,
};
pub use regression::{
    d2_tweedie_score, explained_variance_score, max_error, mean_absolute_error,
    mean_absolute_percentage_error, mean_gamma_deviance, mean_poisson_deviance, mean_squared_error,
    mean_squared_log_error, mean_tweedie_deviance, median_absolute_error, r2_score,
    root_mean_squared_error,
};
pub use report::{classification_report, ClassificationReport, ReportRow};
pub use scorers::{get, metric_fits_task, names};
