//! `class_weight` for every classifier (logistic regression, SGD, trees, forests): the one
//! setting type [`ClassWeight`], and one function that turns a setting into one weight per
//! class, as scikit-learn's `compute_class_weight`.
//!
//! `"balanced"` gives class `c` the weight `total / (n_present · count(c))`, where each row
//! counts with a weight the estimator chooses, as scikit-learn 1.9 does:
//!
//! | estimator | a row counts |
//! |---|---|
//! | `LogisticRegression` | its sample weight |
//! | `RandomForest*` / `ExtraTrees*` (`balanced`, or `balanced_subsample` without bootstrap) | its sample weight |
//! | `balanced_subsample` with bootstrap | its multiplicity in the tree's bootstrap sample |
//! | `DecisionTreeClassifier`, `SGDClassifier` | once (sample weights not used) |
//!
//! `n_present` is the number of classes with a positive count (scikit-learn's classes are
//! those found in the targets); a class with no count gets weight 0 (no row of it carries
//! weight). A map gives its classes their weight and the others 1.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, Deserializer, MapAccess, Unexpected, Visitor};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The named `class_weight` modes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClassWeightMode {
    /// `"balanced"`: `total / (n_classes · count(class))` over the classes present, rows
    /// counted as the estimator counts them (see the module docs).
    Balanced,
    /// `"balanced_subsample"`: as `balanced`, computed on each tree's bootstrap sample
    /// (forests only; other classifiers reject it).
    BalancedSubsample,
}

/// How classes are weighted, as scikit-learn's `class_weight`: the one setting of every
/// classifier that has it (logistic regression, SGD, decision trees, forests).
///
/// In JSON: `"balanced"`, `"balanced_subsample"` (forests only) or a map from class label to
/// weight (`{"malignant": 2.0}`; classes not named weigh 1). Leave the key out (or `null`) for
/// equal weights.
///
/// ```
/// use amlis::models::kit::{ClassWeight, ClassWeightMode};
///
/// let cw: ClassWeight = serde_json::from_str(r#""balanced""#).unwrap();
/// assert_eq!(cw, ClassWeight::balanced());
/// assert_eq!(cw, ClassWeight::Mode(ClassWeightMode::Balanced));
/// let cw: ClassWeight = serde_json::from_str(r#"{"malignant": 2.0}"#).unwrap();
/// assert_eq!(serde_json::to_string(&cw).unwrap(), r#"{"malignant":2.0}"#);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum ClassWeight {
    /// `"balanced"` or `"balanced_subsample"`.
    Mode(ClassWeightMode),
    /// `{"label": weight, ...}`: an explicit weight per class label; classes not named keep
    /// weight 1.
    Map(BTreeMap<String, f64>),
}

impl ClassWeight {
    /// The `"balanced"` setting.
    pub fn balanced() -> Self {
        ClassWeight::Mode(ClassWeightMode::Balanced)
    }

    /// The `"balanced_subsample"` setting (forests only).
    pub fn balanced_subsample() -> Self {
        ClassWeight::Mode(ClassWeightMode::BalancedSubsample)
    }

    /// Whether this is `"balanced"` or `"balanced_subsample"` (weights from class counts).
    pub fn is_balanced(&self) -> bool {
        matches!(self, ClassWeight::Mode(_))
    }

    /// Whether this is `"balanced_subsample"`.
    pub fn is_balanced_subsample(&self) -> bool {
        matches!(self, ClassWeight::Mode(ClassWeightMode::BalancedSubsample))
    }
}

/// What a `class_weight` value may be, for serde's messages.
const EXPECTED: &str = "\"balanced\", \"balanced_subsample\" or a map from class label to weight";

/// What the `class_weight` of a classifier without bootstrap samples may be.
const EXPECTED_NO_SUBSAMPLE: &str =
    "null, \"balanced\" or a map from class label to weight (balanced_subsample is for forests)";

/// Reads a [`ClassWeight`]; `"balanced_subsample"` only when `subsample` allows it.
struct ClassWeightVisitor {
    subsample: bool,
}

impl<'de> Visitor<'de> for ClassWeightVisitor {
    type Value = ClassWeight;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.subsample {
            EXPECTED
        } else {
            EXPECTED_NO_SUBSAMPLE
        })
    }

    fn visit_str<E: de::Error>(self, v: &str) -> std::result::Result<ClassWeight, E> {
        match v {
            "balanced" => Ok(ClassWeight::balanced()),
            "balanced_subsample" if self.subsample => Ok(ClassWeight::balanced_subsample()),
            other => Err(E::invalid_value(Unexpected::Str(other), &self)),
        }
    }

    fn visit_map<A: MapAccess<'de>>(
        self,
        mut map: A,
    ) -> std::result::Result<ClassWeight, A::Error> {
        let mut weights = BTreeMap::new();
        while let Some((label, weight)) = map.next_entry::<String, f64>()? {
            weights.insert(label, weight);
        }
        Ok(ClassWeight::Map(weights))
    }
}

impl<'de> Deserialize<'de> for ClassWeight {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        d.deserialize_any(ClassWeightVisitor { subsample: true })
    }
}

/// Reads an optional [`ClassWeight`] without `"balanced_subsample"`.
struct WithoutSubsample;

impl<'de> Visitor<'de> for WithoutSubsample {
    type Value = Option<ClassWeight>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(EXPECTED_NO_SUBSAMPLE)
    }

    fn visit_none<E: de::Error>(self) -> std::result::Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_unit<E: de::Error>(self) -> std::result::Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> std::result::Result<Self::Value, D::Error> {
        d.deserialize_any(ClassWeightVisitor { subsample: false })
            .map(Some)
    }
}

/// serde `deserialize_with` for the `class_weight` of a classifier without bootstrap samples
/// (logistic regression, SGD): an optional [`ClassWeight`], `"balanced_subsample"` rejected
/// at parse time.
pub(crate) fn deserialize_without_subsample<'de, D: Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<ClassWeight>, D::Error> {
    d.deserialize_option(WithoutSubsample)
}

/// Rejects `"balanced_subsample"` at fit, for the classifiers that draw no bootstrap sample
/// (set through the Rust API; configs reject it at parse time where
/// [`deserialize_without_subsample`] is used).
pub(crate) fn reject_subsample(class_weight: Option<&ClassWeight>) -> Result<()> {
    if class_weight.is_some_and(ClassWeight::is_balanced_subsample) {
        return Err(Error::param(
            "class_weight",
            "balanced_subsample",
            EXPECTED_NO_SUBSAMPLE,
        ));
    }
    Ok(())
}

/// One weight per class of `classes` for `setting` (`None`: every class weighs 1; both
/// balanced modes compute the same formula, over the counts the caller gives). `rows` gives
/// each row's class index and the count it contributes to `"balanced"` (see the module docs);
/// rows whose class index is out of range are ignored. Errors when a map names an unknown class or holds a weight that is not a
/// finite number `>= 0`. For example `y = [1, 1, 1, 1, 0, 0]`, each row counted once, gives
/// `[1.5, 0.75]`, as `compute_class_weight("balanced", classes=[0, 1], y=y)`.
pub(crate) fn class_weights(
    setting: Option<&ClassWeight>,
    classes: &[String],
    rows: impl IntoIterator<Item = (usize, f64)>,
) -> Result<Vec<f64>> {
    let k = classes.len();
    match setting {
        None => Ok(vec![1.0; k]),
        Some(ClassWeight::Mode(_)) => {
            let mut counts = vec![0.0; k];
            for (c, n) in rows {
                if let Some(slot) = counts.get_mut(c) {
                    *slot += n;
                }
            }
            let total: f64 = counts.iter().sum();
            let present = counts.iter().filter(|&&c| c > 0.0).count() as f64;
            Ok(counts
                .iter()
                .map(|&c| if c > 0.0 { total / (present * c) } else { 0.0 })
                .collect())
        }
        Some(ClassWeight::Map(map)) => {
            let mut out = vec![1.0; k];
            for (label, &w) in map {
                let pos = classes.iter().position(|c| c == label).ok_or_else(|| {
                    Error::param(
                        "class_weight",
                        format!("a weight for class {label:?}"),
                        &format!("weights for known classes only: {classes:?}"),
                    )
                })?;
                if !(w.is_finite() && w >= 0.0) {
                    return Err(Error::param(
                        "class_weight",
                        format!("{label:?}: {w}"),
                        "finite weights >= 0",
                    ));
                }
                if let Some(slot) = out.get_mut(pos) {
                    *slot = w;
                }
            }
            Ok(out)
        }
    }
}

/// Multiplies each weight of `w` by the class weight of its row's class (`classes_of[i]`).
pub(crate) fn apply(w: &mut [f64], classes_of: impl IntoIterator<Item = usize>, per_class: &[f64]) {
    for (wi, c) in w.iter_mut().zip(classes_of) {
        *wi *= per_class.get(c).copied().unwrap_or(1.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(k: usize) -> Vec<String> {
        (0..k).map(|i| format!("c{i}")).collect()
    }

    #[test]
    fn balanced_matches_sklearn_docstring_and_weighted_counts() {
        // compute_class_weight("balanced", classes=[0, 1], y=[1, 1, 1, 1, 0, 0]) = [1.5, 0.75]
        let y = [1usize, 1, 1, 1, 0, 0];
        let w = class_weights(
            Some(&ClassWeight::balanced()),
            &labels(2),
            y.iter().map(|&c| (c, 1.0)),
        )
        .unwrap();
        assert_eq!(w, vec![1.5, 0.75]);
        // weighted counts: class 0 weighs 2 + 2, class 1 weighs 1 · 4 -> 8 / (2 · 4) each
        let sw = [1.0, 1.0, 1.0, 1.0, 2.0, 2.0];
        let w = class_weights(
            Some(&ClassWeight::balanced()),
            &labels(2),
            y.iter().copied().zip(sw),
        )
        .unwrap();
        assert_eq!(w, vec![1.0, 1.0]);
        // a class without rows is not counted among the classes and weighs 0
        let w = class_weights(
            Some(&ClassWeight::balanced()),
            &labels(3),
            y.iter().map(|&c| (c, 1.0)),
        )
        .unwrap();
        assert_eq!(w, vec![1.5, 0.75, 0.0]);
        // bootstrap multiplicities (balanced_subsample): rows drawn 0 times do not count
        let boot = [2.0, 0.0, 1.0, 0.0, 0.0, 1.0];
        let w = class_weights(
            Some(&ClassWeight::balanced()),
            &labels(2),
            y.iter().copied().zip(boot),
        )
        .unwrap();
        assert_eq!(w, vec![4.0 / 2.0, 4.0 / 6.0]);
    }

    #[test]
    fn maps_name_known_classes_with_valid_weights() {
        let mut m = BTreeMap::new();
        m.insert("c1".to_string(), 3.0);
        let w = class_weights(Some(&ClassWeight::Map(m.clone())), &labels(3), []).unwrap();
        assert_eq!(w, vec![1.0, 3.0, 1.0]);
        m.insert("rose".to_string(), 1.0);
        assert!(class_weights(Some(&ClassWeight::Map(m.clone())), &labels(3), []).is_err());
        let mut bad = BTreeMap::new();
        bad.insert("c0".to_string(), -1.0);
        assert!(class_weights(Some(&ClassWeight::Map(bad)), &labels(3), []).is_err());
        assert_eq!(class_weights(None, &labels(2), []).unwrap(), vec![1.0, 1.0]);
        let mut w = vec![1.0, 2.0, 3.0];
        apply(&mut w, [1, 0, 2], &[10.0, 100.0, 0.5]);
        assert_eq!(w, vec![100.0, 20.0, 1.5]);
    }
}

#[cfg(test)]
mod serde_tests {
    use super::*;

    /// Parses `json` as a logistic-style optional class weight (no `balanced_subsample`).
    fn without_subsample(json: &str) -> std::result::Result<Option<ClassWeight>, String> {
        let mut de = serde_json::Deserializer::from_str(json);
        deserialize_without_subsample(&mut de).map_err(|e| e.to_string())
    }

    #[test]
    fn json_formats_are_the_old_ones() {
        for (json, cw) in [
            (r#""balanced""#, ClassWeight::balanced()),
            (r#""balanced_subsample""#, ClassWeight::balanced_subsample()),
            (
                r#"{"a":2.0,"b":0.5}"#,
                ClassWeight::Map([("a".into(), 2.0), ("b".into(), 0.5)].into()),
            ),
        ] {
            assert_eq!(serde_json::from_str::<ClassWeight>(json).unwrap(), cw);
            assert_eq!(serde_json::to_string(&cw).unwrap(), json);
            // CBOR (the binary model files) round-trips too.
            let mut bytes = Vec::new();
            ciborium::into_writer(&cw, &mut bytes).unwrap();
            assert_eq!(
                ciborium::from_reader::<ClassWeight, _>(&bytes[..]).unwrap(),
                cw
            );
        }
        // Integer weights are numbers too.
        assert_eq!(
            serde_json::from_str::<ClassWeight>(r#"{"a": 2}"#).unwrap(),
            ClassWeight::Map([("a".into(), 2.0)].into())
        );
    }

    #[test]
    fn errors_say_what_is_accepted() {
        let e = serde_json::from_str::<ClassWeight>(r#""balancd""#).unwrap_err();
        assert!(
            e.to_string()
                .contains("\"balanced\", \"balanced_subsample\" or a map"),
            "{e}"
        );
        let e = serde_json::from_str::<ClassWeight>("3").unwrap_err();
        assert!(
            e.to_string().contains("a map from class label to weight"),
            "{e}"
        );
        let e = serde_json::from_str::<ClassWeight>(r#"{"a": "x"}"#).unwrap_err();
        assert!(e.to_string().contains("f64"), "{e}");

        assert_eq!(without_subsample("null"), Ok(None));
        assert_eq!(
            without_subsample(r#""balanced""#),
            Ok(Some(ClassWeight::balanced()))
        );
        let e = without_subsample(r#""balanced_subsample""#).unwrap_err();
        assert!(e.contains("balanced_subsample is for forests"), "{e}");
        assert!(reject_subsample(Some(&ClassWeight::balanced_subsample())).is_err());
        assert!(reject_subsample(Some(&ClassWeight::balanced())).is_ok());
        assert!(reject_subsample(None).is_ok());
    }
}

#[cfg(test)]
mod config_tests {
    use crate::error::Error;
    use crate::models::ModelConfig;

    /// The key and message of the config error for `model` = `params` of type `kind`.
    fn config_error(kind: &str, params: serde_json::Value) -> (String, String) {
        match ModelConfig::from_json_parts(kind, params) {
            Err(Error::Config { key, message }) => (key, message),
            other => panic!("{kind}: expected a config error, got {other:?}"),
        }
    }

    #[test]
    fn config_errors_name_the_key_and_what_is_accepted() {
        use serde_json::json;
        for kind in ["logistic_regression", "sgd_classifier"] {
            let (key, message) = config_error(kind, json!({"class_weight": "balanced_subsample"}));
            assert_eq!(key, "model.class_weight", "{kind}");
            assert!(
                message.contains("balanced_subsample is for forests"),
                "{message}"
            );
        }
        for kind in [
            "logistic_regression",
            "sgd_classifier",
            "decision_tree_classifier",
            "random_forest_classifier",
        ] {
            let (key, message) = config_error(kind, json!({"class_weight": "balancd"}));
            assert_eq!(key, "model.class_weight", "{kind}");
            assert!(message.contains("\"balancd\""), "{message}");
            let (key, _) = config_error(kind, json!({"class_weight": {"a": "heavy"}}));
            assert_eq!(key, "model.class_weight.a", "{kind}");
        }
        // Forests (and, parsed, single trees, which reject it at fit) take balanced_subsample.
        for kind in [
            "random_forest_classifier",
            "extra_trees_classifier",
            "decision_tree_classifier",
        ] {
            assert!(
                ModelConfig::from_json_parts(kind, json!({"class_weight": "balanced_subsample"}))
                    .is_ok(),
                "{kind}"
            );
        }
    }
}
