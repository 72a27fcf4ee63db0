//! `class_weight` for every classifier (logistic regression, SGD, trees, forests): one
//! function turns a setting into one weight per class, as scikit-learn's
//! `compute_class_weight`.
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

use crate::error::{Error, Result};

/// A `class_weight` setting, whatever the estimator's config type spells it as.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum ClassWeighting<'a> {
    /// Every class weighs 1 (`class_weight: null`).
    Uniform,
    /// `"balanced"` (also `"balanced_subsample"`, computed on a bootstrap sample).
    Balanced,
    /// A weight per class label.
    Map(&'a BTreeMap<String, f64>),
}

impl<'a> From<Option<&'a crate::models::tree::ClassWeight>> for ClassWeighting<'a> {
    fn from(cw: Option<&'a crate::models::tree::ClassWeight>) -> Self {
        use crate::models::tree::ClassWeight;
        match cw {
            None => ClassWeighting::Uniform,
            Some(ClassWeight::Mode(_)) => ClassWeighting::Balanced,
            Some(ClassWeight::Map(m)) => ClassWeighting::Map(m),
        }
    }
}

impl<'a> From<Option<&'a crate::models::linear::logistic::ClassWeight>> for ClassWeighting<'a> {
    fn from(cw: Option<&'a crate::models::linear::logistic::ClassWeight>) -> Self {
        use crate::models::linear::logistic::ClassWeight;
        match cw {
            None => ClassWeighting::Uniform,
            Some(ClassWeight::Balanced(_)) => ClassWeighting::Balanced,
            Some(ClassWeight::Map(m)) => ClassWeighting::Map(m),
        }
    }
}

/// One weight per class of `classes`. `rows` gives each row's class index and the count it
/// contributes to `"balanced"` (see the module docs); rows whose class index is out of range
/// are ignored. Errors when a map names an unknown class or holds a weight that is not a
/// finite number `>= 0`. For example `y = [1, 1, 1, 1, 0, 0]`, each row counted once, gives
/// `[1.5, 0.75]`, as `compute_class_weight("balanced", classes=[0, 1], y=y)`.
pub(crate) fn class_weights(
    setting: ClassWeighting<'_>,
    classes: &[String],
    rows: impl IntoIterator<Item = (usize, f64)>,
) -> Result<Vec<f64>> {
    let k = classes.len();
    match setting {
        ClassWeighting::Uniform => Ok(vec![1.0; k]),
        ClassWeighting::Balanced => {
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
        ClassWeighting::Map(map) => {
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
            ClassWeighting::Balanced,
            &labels(2),
            y.iter().map(|&c| (c, 1.0)),
        )
        .unwrap();
        assert_eq!(w, vec![1.5, 0.75]);
        // weighted counts: class 0 weighs 2 + 2, class 1 weighs 1 · 4 -> 8 / (2 · 4) each
        let sw = [1.0, 1.0, 1.0, 1.0, 2.0, 2.0];
        let w = class_weights(
            ClassWeighting::Balanced,
            &labels(2),
            y.iter().copied().zip(sw),
        )
        .unwrap();
        assert_eq!(w, vec![1.0, 1.0]);
        // a class without rows is not counted among the classes and weighs 0
        let w = class_weights(
            ClassWeighting::Balanced,
            &labels(3),
            y.iter().map(|&c| (c, 1.0)),
        )
        .unwrap();
        assert_eq!(w, vec![1.5, 0.75, 0.0]);
        // bootstrap multiplicities (balanced_subsample): rows drawn 0 times do not count
        let boot = [2.0, 0.0, 1.0, 0.0, 0.0, 1.0];
        let w = class_weights(
            ClassWeighting::Balanced,
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
        let w = class_weights(ClassWeighting::Map(&m), &labels(3), []).unwrap();
        assert_eq!(w, vec![1.0, 3.0, 1.0]);
        m.insert("rose".to_string(), 1.0);
        assert!(class_weights(ClassWeighting::Map(&m), &labels(3), []).is_err());
        let mut bad = BTreeMap::new();
        bad.insert("c0".to_string(), -1.0);
        assert!(class_weights(ClassWeighting::Map(&bad), &labels(3), []).is_err());
        assert_eq!(
            class_weights(ClassWeighting::Uniform, &labels(2), []).unwrap(),
            vec![1.0, 1.0]
        );
        let mut w = vec![1.0, 2.0, 3.0];
        apply(&mut w, [1, 0, 2], &[10.0, 100.0, 0.5]);
        assert_eq!(w, vec![100.0, 20.0, 1.5]);
    }
}
