//! Hyperparameters of histogram gradient boosting, named as scikit-learn's
//! `HistGradientBoostingClassifier` / `HistGradientBoostingRegressor` name them.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::models::kit::setters;

/// The loss of a gradient-boosting classifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClassificationLoss {
    /// Binomial (two classes, one tree per iteration) or multinomial (softmax, one tree per
    /// class per iteration) log loss.
    #[default]
    LogLoss,
}

/// The loss of a gradient-boosting regressor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RegressionLoss {
    /// Half squared error; constant hessians.
    #[default]
    SquaredError,
    /// Absolute error; leaf values are re-fitted to the median of the residuals.
    AbsoluteError,
    /// Pinball loss at level `quantile`; leaf values are re-fitted to that quantile of the
    /// residuals.
    Quantile,
    /// Huber loss whose threshold is the `quantile`-quantile of the absolute residuals,
    /// recomputed at every iteration (scikit-learn's `GradientBoostingRegressor(loss="huber")`
    /// calls that level `alpha`). Leaf values are Newton steps.
    Huber,
    /// Half Poisson deviance with a log link; targets must be non-negative with a positive sum.
    Poisson,
}

/// Whether to stop early on a validation set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(untagged)]
pub enum EarlyStopping {
    /// `true` / `false`.
    Enabled(bool),
    /// `"auto"`: on when the training set has more than 10,000 rows.
    #[default]
    #[serde(with = "auto_str")]
    Auto,
}

mod auto_str {
    use serde::{de::Error as _, Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str("auto")
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<(), D::Error> {
        let s = String::deserialize(d)?;
        if s == "auto" {
            Ok(())
        } else {
            Err(D::Error::custom(format!(
                "early_stopping must be \"auto\", true or false, got \"{s}\""
            )))
        }
    }
}

/// A feature named by position or by name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum FeatureRef {
    /// The 0-based column index.
    Index(usize),
    /// The column name.
    Name(String),
}

/// Which features are categorical.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(untagged)]
pub enum CategoricalFeatures {
    /// `"from_dtype"`: the dataset's [`crate::data::FeatureKind::Categorical`] columns.
    #[default]
    #[serde(with = "from_dtype_str")]
    FromDtype,
    /// Exactly these columns (their values must be category codes: whole numbers in
    /// `0..max_bins`, or NaN for missing).
    List(Vec<FeatureRef>),
}

mod from_dtype_str {
    use serde::{de::Error as _, Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str("from_dtype")
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<(), D::Error> {
        let s = String::deserialize(d)?;
        if s == "from_dtype" {
            Ok(())
        } else {
            Err(D::Error::custom(format!(
                "categorical_features must be \"from_dtype\" or a list, got \"{s}\""
            )))
        }
    }
}

/// Hyperparameters of histogram gradient boosting; `L` is the loss type
/// ([`ClassificationLoss`] or [`RegressionLoss`]). Use the aliases
/// [`GradientBoostingClassifier`](super::GradientBoostingClassifier) and
/// [`GradientBoostingRegressor`](super::GradientBoostingRegressor).
///
/// Names and defaults follow scikit-learn's `HistGradientBoosting*`; `min_sum_hessian`,
/// `subsample` and `max_features` per tree are LightGBM's additions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HistGradientBoosting<L> {
    /// The loss to minimise.
    pub loss: L,
    /// Level of the `quantile` loss, and of the Huber threshold (in `(0, 1)`).
    pub quantile: f64,
    /// Shrinkage of every leaf value (`> 0`).
    pub learning_rate: f64,
    /// Number of boosting iterations (`>= 1`); alias `n_estimators`.
    #[serde(alias = "n_estimators")]
    pub max_iter: usize,
    /// Maximum number of leaves per tree (`>= 2`); trees grow best-first.
    pub max_leaf_nodes: usize,
    /// Maximum depth of a tree (root at depth 0); `None`: unlimited.
    pub max_depth: Option<usize>,
    /// Minimum number of training rows in a leaf (`>= 1`).
    pub min_samples_leaf: usize,
    /// Minimum sum of hessians in a leaf (LightGBM's `min_sum_hessian_in_leaf`, `>= 0`).
    pub min_sum_hessian: f64,
    /// L2 regularisation of the leaf values (`>= 0`).
    pub l2_regularization: f64,
    /// Fraction of the features considered at each split node, drawn afresh at every node
    /// as scikit-learn >= 1.4 does (`(0, 1]`).
    pub max_features: f64,
    /// Fraction of the training rows drawn (without replacement) for each iteration
    /// (`(0, 1]`; LightGBM's `bagging_fraction` with `bagging_freq = 1`).
    pub subsample: f64,
    /// Maximum number of bins for non-missing values per feature (`2..=255`); one more bin
    /// holds the missing values.
    pub max_bins: usize,
    /// Which features are categorical.
    pub categorical_features: CategoricalFeatures,
    /// Early stopping: `"auto"`, `true` or `false`.
    pub early_stopping: EarlyStopping,
    /// Fraction of the training rows held out for early stopping (`(0, 1)`), stratified for
    /// classification. Unused when a validation set is given.
    pub validation_fraction: f64,
    /// Stop when the last `n_iter_no_change` scores did not beat the score before them by
    /// more than `tol` (`>= 1`).
    pub n_iter_no_change: usize,
    /// Minimum improvement for early stopping (`>= 0`).
    pub tol: f64,
    /// Early-stopping score: `"loss"` (the negated loss), or a scikit-learn scorer name that
    /// fits the task and whose greater value is better, computed with [`crate::evaluate::metrics`]:
    /// `"accuracy"`, `"balanced_accuracy"`, `"roc_auc"`, `"roc_auc_ovr"`, `"neg_log_loss"`,
    /// `"f1"`, ... for a classifier; `"r2"`, `"neg_mean_squared_error"`,
    /// `"neg_root_mean_squared_error"`, `"neg_mean_absolute_error"`, ... for a regressor.
    /// Without a validation set, a metric scores a stratified subsample of at most 10,000
    /// training rows, as scikit-learn does.
    pub scoring: String,
}

impl<L: Default> Default for HistGradientBoosting<L> {
    fn default() -> Self {
        Self {
            loss: L::default(),
            quantile: 0.5,
            learning_rate: 0.1,
            max_iter: 100,
            max_leaf_nodes: 31,
            max_depth: None,
            min_samples_leaf: 20,
            min_sum_hessian: 1e-3,
            l2_regularization: 0.0,
            max_features: 1.0,
            subsample: 1.0,
            max_bins: 255,
            categorical_features: CategoricalFeatures::FromDtype,
            early_stopping: EarlyStopping::Auto,
            validation_fraction: 0.1,
            n_iter_no_change: 10,
            tol: 1e-7,
            scoring: "loss".to_string(),
        }
    }
}

setters!([L] HistGradientBoosting<L> {
    loss: L,
    quantile: f64,
    learning_rate: f64,
    max_iter: usize,
    max_leaf_nodes: usize,
    max_depth: Option<usize>,
    min_samples_leaf: usize,
    l2_regularization: f64,
    max_features: f64,
    subsample: f64,
    max_bins: usize,
    categorical_features: CategoricalFeatures,
    early_stopping: EarlyStopping,
    validation_fraction: f64,
    n_iter_no_change: usize,
    tol: f64,
});

impl<L> HistGradientBoosting<L> {
    /// Sets `scoring` (`"loss"` or a scorer name, see the field).
    pub fn scoring(mut self, v: &str) -> Self {
        self.scoring = v.to_string();
        self
    }

    /// Checks every hyperparameter; the error names the first bad one and its range.
    pub(crate) fn validate(&self) -> Result<()> {
        let in_open01 = |v: f64| v > 0.0 && v < 1.0;
        if !(self.learning_rate > 0.0 && self.learning_rate.is_finite()) {
            return Err(Error::param(
                "learning_rate",
                self.learning_rate,
                "a finite number > 0",
            ));
        }
        if !in_open01(self.quantile) {
            return Err(Error::param(
                "quantile",
                self.quantile,
                "a number in (0, 1)",
            ));
        }
        if self.max_iter == 0 {
            return Err(Error::param("max_iter", self.max_iter, "an integer >= 1"));
        }
        if self.max_leaf_nodes < 2 {
            return Err(Error::param(
                "max_leaf_nodes",
                self.max_leaf_nodes,
                "an integer >= 2",
            ));
        }
        if self.max_depth == Some(0) {
            return Err(Error::param("max_depth", 0, "an integer >= 1 or null"));
        }
        if self.min_samples_leaf == 0 {
            return Err(Error::param("min_samples_leaf", 0, "an integer >= 1"));
        }
        if !(self.min_sum_hessian >= 0.0 && self.min_sum_hessian.is_finite()) {
            return Err(Error::param(
                "min_sum_hessian",
                self.min_sum_hessian,
                "a finite number >= 0",
            ));
        }
        if !(self.l2_regularization >= 0.0 && self.l2_regularization.is_finite()) {
            return Err(Error::param(
                "l2_regularization",
                self.l2_regularization,
                "a finite number >= 0",
            ));
        }
        if !(self.max_features > 0.0 && self.max_features <= 1.0) {
            return Err(Error::param(
                "max_features",
                self.max_features,
                "a fraction in (0, 1]",
            ));
        }
        if !(self.subsample > 0.0 && self.subsample <= 1.0) {
            return Err(Error::param(
                "subsample",
                self.subsample,
                "a fraction in (0, 1]",
            ));
        }
        if !(2..=255).contains(&self.max_bins) {
            return Err(Error::param(
                "max_bins",
                self.max_bins,
                "an integer in 2..=255",
            ));
        }
        if !in_open01(self.validation_fraction) {
            return Err(Error::param(
                "validation_fraction",
                self.validation_fraction,
                "a fraction in (0, 1)",
            ));
        }
        if self.n_iter_no_change == 0 {
            return Err(Error::param("n_iter_no_change", 0, "an integer >= 1"));
        }
        if !(self.tol >= 0.0 && self.tol.is_finite()) {
            return Err(Error::param("tol", self.tol, "a finite number >= 0"));
        }
        // `scoring` depends on the task: checked at fit start (`Scoring::resolve`).
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serde_names_alias_and_unknown_keys() {
        let p: HistGradientBoosting<RegressionLoss> = serde_json::from_str(
            r#"{"loss": "quantile", "n_estimators": 7, "early_stopping": "auto",
                "categorical_features": ["island", 3]}"#,
        )
        .unwrap();
        assert_eq!(p.max_iter, 7);
        assert_eq!(p.loss, RegressionLoss::Quantile);
        assert_eq!(p.early_stopping, EarlyStopping::Auto);
        assert_eq!(
            p.categorical_features,
            CategoricalFeatures::List(vec![
                FeatureRef::Name("island".into()),
                FeatureRef::Index(3)
            ])
        );
        let p: HistGradientBoosting<ClassificationLoss> =
            serde_json::from_str(r#"{"early_stopping": false}"#).unwrap();
        assert_eq!(p.early_stopping, EarlyStopping::Enabled(false));
        assert!(
            serde_json::from_str::<HistGradientBoosting<ClassificationLoss>>(r#"{"max_iters": 3}"#)
                .is_err()
        );
        assert!(
            serde_json::from_str::<HistGradientBoosting<ClassificationLoss>>(
                r#"{"early_stopping": "sometimes"}"#
            )
            .is_err()
        );
        // Round trip.
        let s = serde_json::to_string(&HistGradientBoosting::<RegressionLoss>::default()).unwrap();
        let back: HistGradientBoosting<RegressionLoss> = serde_json::from_str(&s).unwrap();
        assert_eq!(back, HistGradientBoosting::default());
    }

    #[test]
    fn validation_names_the_parameter() {
        let p = HistGradientBoosting::<RegressionLoss>::default().learning_rate(0.0);
        let e = p.validate().unwrap_err().to_string();
        assert!(e.contains("learning_rate"), "{e}");
        let p = HistGradientBoosting::<RegressionLoss>::default().max_bins(256);
        assert!(p.validate().unwrap_err().to_string().contains("max_bins"));
        let p = HistGradientBoosting::<RegressionLoss>::default().max_leaf_nodes(1);
        assert!(p
            .validate()
            .unwrap_err()
            .to_string()
            .contains("max_leaf_nodes"));
        assert!(HistGradientBoosting::<RegressionLoss>::default()
            .validate()
            .is_ok());
    }
}
