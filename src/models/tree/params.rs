//! Hyperparameter types shared by trees and forests (scikit-learn names and values), and
//! their resolution into the settings one tree is grown with.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
/// The `class_weight` setting, shared by every classifier (now
/// [`crate::models::kit::ClassWeight`] and [`crate::models::kit::ClassWeightMode`]).
pub use crate::models::kit::{ClassWeight, ClassWeightMode};

/// The impurity a classification tree minimises.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClassificationCriterion {
    /// Gini impurity `1 - Σ p_k²` (the default).
    #[default]
    Gini,
    /// Shannon entropy in bits.
    Entropy,
    /// The same as `entropy` (scikit-learn's alias).
    LogLoss,
}

/// The impurity a regression tree minimises.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RegressionCriterion {
    /// Weighted variance (mean squared error); leaves predict the weighted mean (the default).
    #[default]
    SquaredError,
    /// Accepted for compatibility; the same as `squared_error` (scikit-learn 1.9 deprecates it
    /// and maps it to `squared_error`, the two always choosing the same splits).
    FriedmanMse,
    /// Weighted mean absolute deviation from the weighted median; leaves predict the weighted
    /// median (the smallest target whose cumulative weight exceeds half the node's weight, or
    /// the midpoint of two targets when a cumulative weight equals half exactly).
    AbsoluteError,
}

/// How the threshold of each candidate feature is chosen: scikit-learn's `splitter`
/// parameter (`"best"` or `"random"`). Named apart from [`crate::data::Splitter`], the
/// cross-validation splitters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SplitStrategy {
    /// The best threshold of every candidate feature (the default).
    #[default]
    Best,
    /// One threshold drawn uniformly between the feature's minimum and maximum in the node
    /// (extremely randomized trees).
    Random,
}

/// The former name of [`SplitStrategy`].
#[deprecated(
    note = "renamed `SplitStrategy` (`amlis::data::Splitter` is the cross-validation splitter)"
)]
pub type Splitter = SplitStrategy;

/// A named rule for [`MaxFeatures`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MaxFeaturesRule {
    /// `max(1, floor(sqrt(n_features)))`.
    Sqrt,
    /// `max(1, floor(log2(n_features)))`.
    Log2,
}

/// How many features are drawn as split candidates at each node: a count, a fraction of the
/// features, or a named rule. `null` in a config means all features.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum MaxFeatures {
    /// Exactly this many features (`1..=n_features`).
    Count(usize),
    /// `max(1, floor(fraction * n_features))`, fraction in `(0, 1]`.
    Fraction(f64),
    /// `"sqrt"` or `"log2"`.
    Rule(MaxFeaturesRule),
}

/// A number of samples given as a count or as a fraction of the training samples
/// (`ceil(fraction * n_samples)`), as scikit-learn's `min_samples_split` / `min_samples_leaf`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum SampleCount {
    /// A count of samples.
    Count(usize),
    /// A fraction of the training samples.
    Fraction(f64),
}

/// The settings one tree is grown with, resolved from a trainer and the data size.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct TreeConfig {
    pub max_depth: usize,
    pub min_samples_split: usize,
    pub min_samples_leaf: usize,
    pub min_weight_fraction_leaf: f64,
    pub max_features: usize,
    pub max_leaf_nodes: Option<usize>,
    pub min_impurity_decrease: f64,
    pub splitter: SplitStrategy,
}

/// The hyperparameters common to every tree trainer, before resolution.
#[derive(Debug, Clone, Copy)]
pub(crate) struct GrowthParams<'a> {
    pub max_depth: Option<usize>,
    pub min_samples_split: SampleCount,
    pub min_samples_leaf: SampleCount,
    pub min_weight_fraction_leaf: f64,
    pub max_features: Option<&'a MaxFeatures>,
    pub max_leaf_nodes: Option<usize>,
    pub min_impurity_decrease: f64,
    pub splitter: SplitStrategy,
}

impl GrowthParams<'_> {
    /// Validates the parameters (naming the bad one) and resolves them for `n_samples` rows of
    /// `n_features` features.
    pub fn resolve(&self, n_samples: usize, n_features: usize) -> Result<TreeConfig> {
        if self.max_depth == Some(0) {
            return Err(Error::param("max_depth", 0, "null or an integer >= 1"));
        }
        let min_samples_leaf = match self.min_samples_leaf {
            SampleCount::Count(c) if c >= 1 => c,
            SampleCount::Fraction(f) if f > 0.0 && f < 1.0 => {
                (f * n_samples as f64).ceil() as usize
            }
            other => {
                return Err(Error::param(
                    "min_samples_leaf",
                    format!("{other:?}"),
                    "an integer >= 1 or a fraction in (0, 1)",
                ))
            }
        };
        let min_samples_split = match self.min_samples_split {
            SampleCount::Count(c) if c >= 2 => c,
            SampleCount::Fraction(f) if f > 0.0 && f <= 1.0 => {
                ((f * n_samples as f64).ceil() as usize).max(2)
            }
            other => {
                return Err(Error::param(
                    "min_samples_split",
                    format!("{other:?}"),
                    "an integer >= 2 or a fraction in (0, 1]",
                ))
            }
        };
        if !(0.0..=0.5).contains(&self.min_weight_fraction_leaf) {
            return Err(Error::param(
                "min_weight_fraction_leaf",
                self.min_weight_fraction_leaf,
                "a number in [0, 0.5]",
            ));
        }
        if !(self.min_impurity_decrease >= 0.0 && self.min_impurity_decrease.is_finite()) {
            return Err(Error::param(
                "min_impurity_decrease",
                self.min_impurity_decrease,
                "a finite number >= 0",
            ));
        }
        if let Some(m) = self.max_leaf_nodes {
            if m < 2 {
                return Err(Error::param("max_leaf_nodes", m, "null or an integer >= 2"));
            }
        }
        let max_features = match self.max_features {
            None => n_features,
            Some(MaxFeatures::Count(c)) if *c >= 1 && *c <= n_features => *c,
            Some(MaxFeatures::Fraction(f)) if *f > 0.0 && *f <= 1.0 => {
                ((f * n_features as f64) as usize).max(1)
            }
            Some(MaxFeatures::Rule(MaxFeaturesRule::Sqrt)) => {
                ((n_features as f64).sqrt() as usize).max(1)
            }
            Some(MaxFeatures::Rule(MaxFeaturesRule::Log2)) => {
                ((n_features as f64).log2() as usize).max(1)
            }
            Some(other) => {
                return Err(Error::param(
                    "max_features",
                    format!("{other:?}"),
                    &format!(
                        "null, \"sqrt\", \"log2\", an integer in [1, {n_features}] or a fraction in (0, 1]"
                    ),
                ))
            }
        };
        Ok(TreeConfig {
            max_depth: self.max_depth.unwrap_or(usize::MAX),
            min_samples_split: min_samples_split.max(2 * min_samples_leaf),
            min_samples_leaf,
            min_weight_fraction_leaf: self.min_weight_fraction_leaf,
            max_features: max_features.min(n_features).max(1),
            max_leaf_nodes: self.max_leaf_nodes,
            min_impurity_decrease: self.min_impurity_decrease,
            splitter: self.splitter,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn untagged_values_parse_as_sklearn_spells_them() {
        let m: MaxFeatures = serde_json::from_str("\"sqrt\"").unwrap();
        assert_eq!(m, MaxFeatures::Rule(MaxFeaturesRule::Sqrt));
        let m: MaxFeatures = serde_json::from_str("3").unwrap();
        assert_eq!(m, MaxFeatures::Count(3));
        let m: MaxFeatures = serde_json::from_str("1.0").unwrap();
        assert_eq!(m, MaxFeatures::Fraction(1.0));
        let c: ClassWeight = serde_json::from_str("\"balanced_subsample\"").unwrap();
        assert_eq!(c, ClassWeight::Mode(ClassWeightMode::BalancedSubsample));
        let c: ClassWeight = serde_json::from_str("{\"a\": 2.0}").unwrap();
        assert!(matches!(c, ClassWeight::Map(_)));
    }

    #[test]
    fn resolution_matches_sklearn_rules() {
        let mf = MaxFeatures::Rule(MaxFeaturesRule::Sqrt);
        let p = GrowthParams {
            max_depth: None,
            min_samples_split: SampleCount::Fraction(0.1),
            min_samples_leaf: SampleCount::Count(3),
            min_weight_fraction_leaf: 0.0,
            max_features: Some(&mf),
            max_leaf_nodes: None,
            min_impurity_decrease: 0.0,
            splitter: SplitStrategy::Best,
        };
        let c = p.resolve(101, 30).unwrap();
        assert_eq!(c.max_features, 5);
        assert_eq!(c.min_samples_split, 11);
        let bad = GrowthParams {
            min_samples_leaf: SampleCount::Count(0),
            ..p
        };
        assert!(matches!(
            bad.resolve(10, 3),
            Err(Error::InvalidParameter { name, .. }) if name == "min_samples_leaf"
        ));
    }
}
