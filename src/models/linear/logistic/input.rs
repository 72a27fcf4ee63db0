//! Input checks and weights shared by the linear classifiers (logistic regression, SGD):
//! numeric finite features, class targets, and per-sample weights from `class_weight`.

use ndarray::{Array2, ArrayView2, CowArray, Ix2};

use crate::error::{Error, Result};
use crate::models::kit::class_weight;
use crate::models::kit::validate;
use crate::models::kit::ClassWeight;
use crate::traits::Dataset;

/// The feature matrix of `data` in row-major layout, after checking that every column is
/// numeric and every value finite (errors name the row and the column).
pub(crate) fn checked_features<'a>(
    data: &'a dyn Dataset,
    context: &str,
) -> Result<CowArray<'a, f64, Ix2>> {
    validate::check_numeric_kinds(context, data.feature_kinds(), data.feature_names())?;
    let x = data.features();
    let x = if x.is_standard_layout() {
        x
    } else {
        CowArray::from(x.as_standard_layout().into_owned())
    };
    validate::check_finite(context, x.view(), data.feature_names())?;
    Ok(x)
}

/// The class index of every row, checked against the dataset's classification task.
/// Returns the indices and the class labels.
pub(crate) fn class_targets(
    data: &dyn Dataset,
    context: &str,
) -> Result<(Vec<usize>, Vec<String>)> {
    let (classes, y) = crate::models::kit::validate::class_targets(data, context)?;
    Ok((y.into_iter().map(|c| c as usize).collect(), classes))
}

/// Per-sample weights: the dataset's sample weights (or 1) times the class weight of each
/// row's class, `balanced` counting each row with its sample weight (scikit-learn's
/// `LogisticRegression`). Errors when a map names an unknown class or a weight is not finite
/// and non-negative.
pub(crate) fn sample_weights(
    data: &dyn Dataset,
    y: &[usize],
    classes: &[String],
    class_weight: Option<&ClassWeight>,
) -> Result<Vec<f64>> {
    let mut w = crate::models::linear::prep::weights_or_ones(data, y.len())?;
    let per_class = class_weight::class_weights(
        class_weight,
        classes,
        y.iter().copied().zip(w.iter().copied()),
    )?;
    class_weight::apply(&mut w, y.iter().copied(), &per_class);
    Ok(w)
}

/// One weight per class for the SGD classifier: `balanced` counts each row once, without its
/// sample weight (as scikit-learn's `SGDClassifier`).
pub(crate) fn class_weights(
    y: &[usize],
    classes: &[String],
    class_weight: Option<&ClassWeight>,
) -> Result<Vec<f64>> {
    class_weight::class_weights(class_weight, classes, y.iter().map(|&c| (c, 1.0)))
}

/// Checks that at least two classes carry positive weight.
pub(crate) fn check_two_classes(
    y: &[usize],
    w: &[f64],
    classes: &[String],
    context: &str,
) -> Result<()> {
    let mut seen: Vec<bool> = vec![false; classes.len()];
    for (&c, &s) in y.iter().zip(w) {
        if s > 0.0 {
            if let Some(v) = seen.get_mut(c) {
                *v = true;
            }
        }
    }
    let present: Vec<&String> = classes
        .iter()
        .zip(&seen)
        .filter(|(_, s)| **s)
        .map(|(c, _)| c)
        .collect();
    if present.len() < 2 {
        return Err(Error::InvalidArgument(format!(
            "{context} needs samples of at least 2 classes with positive weight; found only {present:?}"
        )));
    }
    Ok(())
}

/// A standard-layout copy of `x` when it is not row-major already.
pub(crate) fn row_major(x: ArrayView2<'_, f64>) -> CowArray<'_, f64, Ix2> {
    if x.is_standard_layout() {
        CowArray::from(x)
    } else {
        CowArray::from(Array2::from(x.as_standard_layout().into_owned()))
    }
}
