//! What a model is: its [`Estimator`] kind and its capability [`Tags`], the one place that
//! meta-estimators, the pipeline, cross-validation, the C ABI and the conformance tests ask
//! (as scikit-learn's estimator tags).
//!
//! ```
//! use amlis::models::{Estimator, ModelConfig};
//! use amlis::data::TaskKind;
//!
//! let config = ModelConfig::from_json_parts("logistic_regression", serde_json::json!({}))?;
//! assert_eq!(config.estimator(), Estimator::Classifier);
//! let tags = config.tags();
//! assert!(tags.needs_target && tags.probabilities && tags.decision_function);
//! assert!(!tags.handles_nan);
//! assert_eq!(Estimator::Classifier.task(), TaskKind::Classification);
//! assert_eq!(Estimator::Regressor.default_scorer(), Some("r2"));
//! # Ok::<(), amlis::Error>(())
//! ```

use serde::{Deserialize, Serialize};

use crate::data::TaskKind;

/// The kind of a model: what it learns from and what it predicts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Estimator {
    /// Learns from class labels; predicts class indices (and, where tagged, probabilities).
    Classifier,
    /// Learns from real targets; predicts real values.
    Regressor,
    /// Learns without targets; predicts a cluster label per row (`-1` for noise).
    Clusterer,
    /// Learns without targets; maps rows to new columns (`transform`).
    Transformer,
    /// Learns without targets; predicts `1` (inlier) or `-1` (outlier) and a score per row.
    OutlierDetector,
}

impl Estimator {
    /// Every kind, in declaration order.
    pub const ALL: [Estimator; 5] = [
        Estimator::Classifier,
        Estimator::Regressor,
        Estimator::Clusterer,
        Estimator::Transformer,
        Estimator::OutlierDetector,
    ];

    /// The kind's name as JSON and the C ABI write it (`"classifier"`, `"outlier_detector"`).
    pub fn name(self) -> &'static str {
        match self {
            Estimator::Classifier => "classifier",
            Estimator::Regressor => "regressor",
            Estimator::Clusterer => "clusterer",
            Estimator::Transformer => "transformer",
            Estimator::OutlierDetector => "outlier_detector",
        }
    }

    /// How a target column is read for this kind: class labels for a classifier, numbers for
    /// a regressor, and [`TaskKind::Auto`] for the kinds that learn without targets (a target
    /// given to them is read as it comes, for scoring, and not used to fit).
    pub fn task(self) -> TaskKind {
        match self {
            Estimator::Classifier => TaskKind::Classification,
            Estimator::Regressor => TaskKind::Regression,
            Estimator::Clusterer | Estimator::Transformer | Estimator::OutlierDetector => {
                TaskKind::Auto
            }
        }
    }

    /// Whether a model of this kind needs a target to fit.
    pub fn needs_target(self) -> bool {
        matches!(self, Estimator::Classifier | Estimator::Regressor)
    }

    /// The scorer used when none is named (as scikit-learn's `score`): `accuracy` for a
    /// classifier, `r2` for a regressor, `silhouette_score` for a clusterer; `None` for kinds
    /// that have no default score.
    ///
    /// A clusterer's default needs no labels and applies to every clusterer: it scores the
    /// predicted partition of the held-out rows by their features (after the pipeline's
    /// steps). scikit-learn's `KMeans.score` (minus the inertia) is not used: it exists for
    /// k-means alone and always improves with more clusters, so it cannot choose
    /// `n_clusters`. To compare with known labels, name `adjusted_rand_score` (or another
    /// external score).
    pub fn default_scorer(self) -> Option<&'static str> {
        match self {
            Estimator::Classifier => Some("accuracy"),
            Estimator::Regressor => Some("r2"),
            Estimator::Clusterer => Some("silhouette_score"),
            Estimator::Transformer | Estimator::OutlierDetector => None,
        }
    }
}

impl std::fmt::Display for Estimator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// What a model type can do, declared once in the registry beside its kind.
///
/// A tag says the type *can*: a fitted model may still lack an output its settings rule out
/// (an `sgd_classifier` with `hinge` loss has no probabilities); ask the fitted model
/// ([`crate::models::AnyModel::outputs`]) for what it has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Tags {
    /// Fitting needs a target column.
    pub needs_target: bool,
    /// Gives class probabilities (`predict_proba`).
    pub probabilities: bool,
    /// Gives per-row scores (`decision_function`, raw margins, anomaly scores).
    pub decision_function: bool,
    /// Maps rows to new columns (`transform`).
    pub transforms: bool,
    /// Learns from streamed chunks (`partial_fit`).
    pub supports_partial_fit: bool,
    /// Takes missing values (`NaN`) in its features, at fit and predict.
    pub handles_nan: bool,
    /// Takes categorical features natively (as category codes).
    pub handles_categorical: bool,
    /// Learns from unlabeled rows too (a `NaN` target); every other type that needs a target
    /// refuses them with [`crate::Error::UnlabeledRows`].
    #[serde(default)]
    pub semi_supervised: bool,
}

impl Tags {
    /// The tags every model of `kind` has, before its own: a target for classifiers and
    /// regressors, `transform` for transformers, scores for outlier detectors.
    pub const fn of(kind: Estimator) -> Self {
        Self {
            needs_target: matches!(kind, Estimator::Classifier | Estimator::Regressor),
            probabilities: false,
            decision_function: matches!(kind, Estimator::OutlierDetector),
            transforms: matches!(kind, Estimator::Transformer),
            supports_partial_fit: false,
            handles_nan: false,
            handles_categorical: false,
            semi_supervised: false,
        }
    }

    /// Adds the `probabilities` tag.
    pub const fn probabilities(mut self) -> Self {
        self.probabilities = true;
        self
    }

    /// Adds the `decision_function` tag.
    pub const fn decision_function(mut self) -> Self {
        self.decision_function = true;
        self
    }

    /// Adds the `transforms` tag.
    pub const fn transforms(mut self) -> Self {
        self.transforms = true;
        self
    }

    /// Adds the `supports_partial_fit` tag.
    pub const fn partial_fit(mut self) -> Self {
        self.supports_partial_fit = true;
        self
    }

    /// Adds the `handles_nan` tag.
    pub const fn handles_nan(mut self) -> Self {
        self.handles_nan = true;
        self
    }

    /// Adds the `handles_categorical` tag.
    pub const fn handles_categorical(mut self) -> Self {
        self.handles_categorical = true;
        self
    }

    /// Adds the `semi_supervised` tag.
    pub const fn semi_supervised(mut self) -> Self {
        self.semi_supervised = true;
        self
    }

    /// The names of the tags that are set, as `amlis_model_info_json` lists them.
    pub fn names(&self) -> Vec<&'static str> {
        [
            (self.needs_target, "needs_target"),
            (self.probabilities, "probabilities"),
            (self.decision_function, "decision_function"),
            (self.transforms, "transforms"),
            (self.supports_partial_fit, "supports_partial_fit"),
            (self.handles_nan, "handles_nan"),
            (self.handles_categorical, "handles_categorical"),
            (self.semi_supervised, "semi_supervised"),
        ]
        .into_iter()
        .filter_map(|(on, name)| on.then_some(name))
        .collect()
    }
}

/// What a prediction writes per row: the C ABI's `AMLIS_OUTPUT_*` kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PredictKind {
    /// One value per row: a class index (into the model's classes), a regression value, a
    /// cluster label, or `1` / `-1` for inlier / outlier.
    Value,
    /// `n_classes` probabilities per row (classifiers with probabilities).
    Proba,
    /// The model's output columns (`transform`: PCA components, embeddings).
    Transform,
    /// Per-row scores: decision function, raw margins, anomaly scores.
    Score,
}

impl PredictKind {
    /// Every kind, in the order of their C values (`AMLIS_OUTPUT_VALUE` = 0 ... `SCORE` = 3).
    pub const ALL: [PredictKind; 4] = [
        PredictKind::Value,
        PredictKind::Proba,
        PredictKind::Transform,
        PredictKind::Score,
    ];

    /// The kind's name in messages and JSON (`"value"`, `"proba"`, `"transform"`, `"score"`).
    pub fn name(self) -> &'static str {
        match self {
            PredictKind::Value => "value",
            PredictKind::Proba => "proba",
            PredictKind::Transform => "transform",
            PredictKind::Score => "score",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_map_to_tasks_and_scorers_in_one_place() {
        for kind in Estimator::ALL {
            assert_eq!(kind.needs_target(), Tags::of(kind).needs_target);
            let json = serde_json::to_value(kind).unwrap();
            assert_eq!(json, serde_json::json!(kind.name()));
        }
        assert_eq!(Estimator::Regressor.task(), TaskKind::Regression);
        assert_eq!(Estimator::Transformer.default_scorer(), None);
        assert_eq!(
            Estimator::Clusterer.default_scorer(),
            Some("silhouette_score")
        );
        let t = Tags::of(Estimator::Classifier)
            .probabilities()
            .handles_nan();
        assert_eq!(t.names(), ["needs_target", "probabilities", "handles_nan"]);
    }
}
