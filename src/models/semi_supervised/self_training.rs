//! scikit-learn's `SelfTrainingClassifier`: a classifier with probabilities (any registered
//! one, given as its config) is fitted on the labelled rows, labels the unlabeled rows it is
//! most confident about, and is fitted again, until no row is added, every row is labelled or
//! `max_iter` is reached.
//!
//! As scikit-learn: with `criterion = "threshold"` a row is labelled when its largest
//! probability is `> threshold`; with `"k_best"` the `k_best` rows of the largest
//! probabilities are (all remaining rows when there are no more; among equal probabilities
//! the earlier row first, where scikit-learn's `argpartition` leaves the choice open);
//! `labeled_iter` is the iteration a row was labelled in (0 = labelled in the data, -1 =
//! never); `transduction` the labels used for the final fit (-1 = none);
//! `termination_condition` is `max_iter`, `no_change` or `all_labeled`. Each iteration is
//! reported to the fit callback with the count of newly labelled rows; `Stop` ends the loop
//! (`termination_condition = "stopped"`), `Cancel` the fit.

use ndarray::{Array1, ArrayView1, ArrayView2, Axis};
use serde::{Deserialize, Serialize};

use super::label_propagation::semi_targets;
use crate::data::{FeatureKind, Task};
use crate::error::{Error, Result};
use crate::models::kit::setters;
use crate::models::{AnyModel, Estimator, ModelConfig};
use crate::traits::{
    Control, Dataset, FitContext, FitEvent, Model, Outputs, Predictor, ProbabilisticPredictor,
    Trainer,
};

/// How the unlabeled rows to label are chosen, as scikit-learn's `criterion`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Criterion {
    /// Every row whose largest probability is `> threshold`.
    #[default]
    Threshold,
    /// The `k_best` rows of the largest probabilities.
    KBest,
}

/// Why the self-training loop ended (scikit-learn's `termination_condition_`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Termination {
    /// `max_iter` iterations were made.
    MaxIter,
    /// An iteration labelled no row.
    NoChange,
    /// Every row is labelled.
    AllLabeled,
    /// The fit callback asked to stop.
    Stopped,
}

/// scikit-learn's `SelfTrainingClassifier` over any registered classifier with
/// probabilities (`estimator`, a model config; default `logistic_regression`). Unlabeled
/// rows have a `NaN` target.
///
/// ```
/// use amlis::data::DenseDataset;
/// use amlis::models::semi_supervised::{SelfTrainingClassifier, Termination};
/// use amlis::models::ModelConfig;
/// use amlis::traits::{Predictor, Trainer};
/// use ndarray::{array, Array1, Array2};
///
/// let x = Array2::from_shape_fn((40, 1), |(i, _)| if i < 20 { i as f64 * 0.1 } else { 5.0 + i as f64 * 0.1 });
/// let y = Array1::from_shape_fn(40, |i| match i { 0 => 0.0, 39 => 1.0, _ => f64::NAN });
/// let data = DenseDataset::classification(x, y)?;
/// let estimator: ModelConfig = serde_json::from_str(r#"{"type": "gaussian_nb"}"#).unwrap();
/// let model = SelfTrainingClassifier::default().estimator(estimator).fit(&data)?;
/// assert_eq!(model.termination_condition, Termination::AllLabeled);
/// assert_eq!(model.predict(array![[0.5], [7.0]].view())?.to_vec(), vec![0.0, 1.0]);
/// # Ok::<(), amlis::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SelfTrainingClassifier {
    /// The classifier to wrap (a registered type with probabilities), as its config.
    pub estimator: Box<ModelConfig>,
    /// The probability a row must exceed to be labelled (`criterion = "threshold"`; default
    /// 0.75), in `[0, 1)`.
    pub threshold: f64,
    /// `threshold` (default) or `k_best`.
    pub criterion: Criterion,
    /// Rows labelled per iteration with `criterion = "k_best"` (default 10), `>= 1`.
    pub k_best: usize,
    /// The most iterations (default 10); `None`: until no row is added.
    pub max_iter: Option<usize>,
}

impl Default for SelfTrainingClassifier {
    fn default() -> Self {
        Self {
            estimator: Box::new(ModelConfig::LogisticRegression(Default::default())),
            threshold: 0.75,
            criterion: Criterion::Threshold,
            k_best: 10,
            max_iter: Some(10),
        }
    }
}

setters!(SelfTrainingClassifier {
    threshold: f64,
    criterion: Criterion,
    k_best: usize,
    max_iter: Option<usize>,
});

impl SelfTrainingClassifier {
    /// Sets the wrapped classifier.
    pub fn estimator(mut self, estimator: ModelConfig) -> Self {
        self.estimator = Box::new(estimator);
        self
    }
}

/// A fitted [`SelfTrainingClassifier`]: the final wrapped model and the records of the loop.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SelfTrainingModel {
    /// The wrapped classifier fitted on every labelled row at the end.
    pub estimator: Box<AnyModel>,
    /// Per training row, the iteration it was labelled in (0: labelled in the data; -1:
    /// never).
    pub labeled_iter: Vec<i64>,
    /// Per training row, the class index it was fitted with at the end (-1: unlabeled).
    pub transduction: Vec<i64>,
    /// The iterations made (scikit-learn's `n_iter_`).
    pub n_iter: usize,
    /// Why the loop ended.
    pub termination_condition: Termination,
    /// Per iteration, how many rows it labelled.
    pub newly_labeled: Vec<usize>,
}

/// Some rows of a dataset with targets of their own: what the wrapped classifier fits on.
struct Labelled<'a> {
    base: &'a dyn Dataset,
    /// Base rows.
    rows: Vec<usize>,
    /// Targets aligned with the base rows.
    y: &'a Array1<f64>,
    task: &'a Task,
}

impl Dataset for Labelled<'_> {
    fn n_samples(&self) -> usize {
        self.rows.len()
    }
    fn n_features(&self) -> usize {
        self.base.n_features()
    }
    fn base_features(&self) -> ArrayView2<'_, f64> {
        self.base.base_features()
    }
    fn base_targets(&self) -> Option<ArrayView1<'_, f64>> {
        Some(self.y.view())
    }
    fn base_weights(&self) -> Option<ArrayView1<'_, f64>> {
        self.base.base_weights()
    }
    fn sample_indices(&self) -> Option<&[usize]> {
        Some(&self.rows)
    }
    fn feature_names(&self) -> &[String] {
        self.base.feature_names()
    }
    fn feature_kinds(&self) -> &[FeatureKind] {
        self.base.feature_kinds()
    }
    fn task(&self) -> &Task {
        self.task
    }
}

impl SelfTrainingClassifier {
    fn check(&self) -> Result<()> {
        let estimator = &self.estimator;
        let tags = estimator.tags();
        if estimator.estimator() != Estimator::Classifier || !tags.probabilities {
            return Err(Error::param(
                "estimator",
                estimator.type_name(),
                "a classifier with probabilities (predict_proba), e.g. logistic_regression",
            ));
        }
        if tags.semi_supervised {
            return Err(Error::param(
                "estimator",
                estimator.type_name(),
                "a supervised classifier (the wrapped model sees labelled rows only)",
            ));
        }
        if !(self.threshold.is_finite() && (0.0..1.0).contains(&self.threshold)) {
            return Err(Error::param(
                "threshold",
                self.threshold,
                "a value in [0, 1)",
            ));
        }
        if self.k_best == 0 {
            return Err(Error::param("k_best", 0, "an integer >= 1"));
        }
        Ok(())
    }

    /// Fits the wrapped classifier on the rows at positions `labelled` with targets `y`.
    fn fit_on(
        &self,
        data: &dyn Dataset,
        labelled: &[usize],
        y: &Array1<f64>,
        ctx: &FitContext<'_>,
    ) -> Result<AnyModel> {
        let rows = labelled.iter().map(|&i| data.base_index(i)).collect();
        let subset = Labelled {
            base: data,
            rows,
            y,
            task: data.task(),
        };
        let model = self.estimator.fit(&subset, ctx)?;
        if !model.as_outputs().has_probabilities() {
            return Err(Error::param(
                "estimator",
                self.estimator.type_name(),
                "settings that give probabilities (e.g. a probabilistic loss)",
            ));
        }
        Ok(model)
    }
}

impl Trainer for SelfTrainingClassifier {
    type Model = SelfTrainingModel;
    const NAME: &'static str = "self_training_classifier";

    /// Runs the self-training loop; sample weights reach the wrapped classifier.
    fn fit_with(&self, data: &dyn Dataset, ctx: &FitContext<'_>) -> Result<Self::Model> {
        self.check()?;
        let (classes, labels) = semi_targets(data, Self::NAME)?;
        let n = labels.len();
        if !labels.iter().any(Option::is_some) {
            return Err(Error::InvalidArgument(format!(
                "{}: every one of the {n} training rows is unlabeled; label at least one",
                Self::NAME
            )));
        }
        let k = classes.len();
        let base_rows = data.base_features().nrows();
        // Targets aligned with the base rows (what the wrapped fit reads).
        let mut y = Array1::from_elem(base_rows, f64::NAN);
        let mut transduction = vec![-1i64; n];
        let mut labeled_iter = vec![-1i64; n];
        for (i, label) in labels.iter().enumerate() {
            if let Some(c) = label {
                if let Some(v) = y.get_mut(data.base_index(i)) {
                    *v = *c as f64;
                }
                transduction[i] = *c as i64;
                labeled_iter[i] = 0;
            }
        }
        let x = data.features();
        let mut n_iter = 0usize;
        let mut termination = None;
        let mut newly_labeled = Vec::new();
        loop {
            let unlabeled: Vec<usize> = (0..n).filter(|&i| labeled_iter[i] < 0).collect();
            if unlabeled.is_empty() || self.max_iter.is_some_and(|m| n_iter >= m) {
                break;
            }
            n_iter += 1;
            let labelled: Vec<usize> = (0..n).filter(|&i| labeled_iter[i] >= 0).collect();
            let model = self.fit_on(data, &labelled, &y, ctx)?;
            let xu = x.select(Axis(0), &unlabeled);
            let mut proba = vec![0.0; unlabeled.len() * k];
            model.predict_proba_into(xu.view(), &mut proba)?;
            // Largest probability (the first class on ties, as numpy's argmax).
            let best: Vec<(usize, f64)> = proba
                .chunks_exact(k.max(1))
                .map(|p| {
                    p.iter()
                        .enumerate()
                        .fold(
                            (0, f64::NEG_INFINITY),
                            |b, (c, &v)| {
                                if v > b.1 {
                                    (c, v)
                                } else {
                                    b
                                }
                            },
                        )
                })
                .collect();
            let selected: Vec<usize> = match self.criterion {
                Criterion::Threshold => (0..unlabeled.len())
                    .filter(|&u| best[u].1 > self.threshold)
                    .collect(),
                Criterion::KBest => {
                    let take = self.k_best.min(unlabeled.len());
                    let mut order: Vec<usize> = (0..unlabeled.len()).collect();
                    order.sort_by(|&a, &b| best[b].1.total_cmp(&best[a].1).then(a.cmp(&b)));
                    order.truncate(take);
                    order.sort_unstable();
                    order
                }
            };
            for &u in &selected {
                let i = unlabeled[u];
                let c = best[u].0;
                transduction[i] = c as i64;
                labeled_iter[i] = n_iter as i64;
                if let Some(v) = y.get_mut(data.base_index(i)) {
                    *v = c as f64;
                }
            }
            newly_labeled.push(selected.len());
            let values = [
                ("newly_labeled", selected.len() as f64),
                ("unlabeled", (unlabeled.len() - selected.len()) as f64),
            ];
            let answer = ctx.report(&FitEvent {
                stage: Self::NAME,
                iteration: n_iter,
                total: self.max_iter,
                values: &values,
            });
            if selected.is_empty() {
                termination = Some(Termination::NoChange);
                break;
            }
            match answer {
                Control::Continue => {}
                Control::Stop => {
                    termination = Some(Termination::Stopped);
                    break;
                }
                Control::Cancel => {
                    return Err(Error::Cancelled(format!(
                        "{} iteration {n_iter}",
                        Self::NAME
                    )))
                }
            }
        }
        if self.max_iter == Some(n_iter) && termination != Some(Termination::Stopped) {
            termination = Some(Termination::MaxIter);
        }
        if labeled_iter.iter().all(|&it| it >= 0) {
            termination = Some(Termination::AllLabeled);
        }
        let labelled: Vec<usize> = (0..n).filter(|&i| labeled_iter[i] >= 0).collect();
        let estimator = self.fit_on(data, &labelled, &y, ctx)?;
        Ok(SelfTrainingModel {
            estimator: Box::new(estimator),
            labeled_iter,
            transduction,
            n_iter,
            termination_condition: termination.unwrap_or(Termination::NoChange),
            newly_labeled,
        })
    }
}

impl Model for SelfTrainingModel {
    fn n_features(&self) -> usize {
        self.estimator.n_features()
    }

    fn validate(&self) -> Result<()> {
        let corrupt = |m: &str| Error::ModelCorrupt(format!("self_training_classifier: {m}"));
        if self.estimator.estimator() != Estimator::Classifier
            || !self.estimator.as_outputs().has_probabilities()
        {
            return Err(corrupt(
                "the wrapped model is not a classifier with probabilities",
            ));
        }
        self.estimator.validate()?;
        let k = self.estimator.n_classes() as i64;
        let n_iter = i64::try_from(self.n_iter).unwrap_or(i64::MAX);
        if self.labeled_iter.len() != self.transduction.len() {
            return Err(corrupt("labeled_iter and transduction differ in length"));
        }
        if self.labeled_iter.iter().any(|&t| t < -1 || t > n_iter) {
            return Err(corrupt("an iteration out of range in labeled_iter"));
        }
        if self.transduction.iter().any(|&c| c < -1 || c >= k) {
            return Err(corrupt("a class out of range in transduction"));
        }
        if self.newly_labeled.len() > self.n_iter
            || self.newly_labeled.iter().sum::<usize>() > self.labeled_iter.len()
        {
            return Err(corrupt("the per-iteration counts do not fit the rows"));
        }
        Ok(())
    }
}

impl Predictor for SelfTrainingModel {
    fn predict_into(&self, x: ArrayView2<'_, f64>, out: &mut [f64]) -> Result<()> {
        self.estimator.predict_into(x, out)
    }

    fn predict_row_into(&self, row: &[f64], out: &mut [f64]) -> Result<()> {
        self.estimator.predict_row_into(row, out)
    }
}

impl Outputs for SelfTrainingModel {
    fn as_probabilistic(&self) -> Option<&dyn ProbabilisticPredictor> {
        self.estimator.as_outputs().as_probabilistic()
    }

    fn has_probabilities(&self) -> bool {
        self.estimator.as_outputs().has_probabilities()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::DenseDataset;
    use ndarray::Array2;

    fn data() -> DenseDataset {
        let x = Array2::from_shape_fn((30, 2), |(i, j)| {
            (if i < 15 { 0.0 } else { 3.0 }) + ((i * 7 + j * 3) % 5) as f64 * 0.2
        });
        let y = Array1::from_shape_fn(30, |i| match i {
            0 | 1 => 0.0,
            28 | 29 => 1.0,
            _ => f64::NAN,
        });
        DenseDataset::classification(x, y).unwrap()
    }

    #[test]
    fn parameters_are_checked_by_name() {
        let d = data();
        let reg: ModelConfig = serde_json::from_str(r#"{"type": "ridge"}"#).unwrap();
        let e = SelfTrainingClassifier::default()
            .estimator(reg)
            .fit(&d)
            .unwrap_err();
        assert!(e.to_string().contains("`estimator`"), "{e}");
        let e = SelfTrainingClassifier::default()
            .threshold(1.0)
            .fit(&d)
            .unwrap_err();
        assert!(e.to_string().contains("`threshold`"), "{e}");
        let e = SelfTrainingClassifier::default()
            .k_best(0)
            .fit(&d)
            .unwrap_err();
        assert!(e.to_string().contains("`k_best`"), "{e}");
    }

    #[test]
    fn cancel_and_stop_through_the_callback() {
        let d = data();
        let cancel = |e: &FitEvent<'_>| {
            if e.stage == SelfTrainingClassifier::NAME {
                Control::Cancel
            } else {
                Control::Continue
            }
        };
        let ctx = FitContext::new().callback(&cancel);
        let st = SelfTrainingClassifier::default()
            .criterion(Criterion::KBest)
            .k_best(3);
        assert!(matches!(st.fit_with(&d, &ctx), Err(Error::Cancelled(_))));
        let stop = |e: &FitEvent<'_>| {
            if e.stage == SelfTrainingClassifier::NAME {
                Control::Stop
            } else {
                Control::Continue
            }
        };
        let model = st.fit_with(&d, &FitContext::new().callback(&stop)).unwrap();
        assert_eq!(model.termination_condition, Termination::Stopped);
        assert_eq!(model.newly_labeled, vec![3]);
        assert_eq!(model.labeled_iter.iter().filter(|&&t| t == 1).count(), 3);
        model.validate().unwrap();
        let mut bad = model.clone();
        bad.transduction[3] = 7;
        assert!(matches!(bad.validate(), Err(Error::ModelCorrupt(_))));
    }
}
