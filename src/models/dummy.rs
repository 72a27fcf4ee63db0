//! Baselines that ignore the features: `DummyClassifier` and `DummyRegressor`, as
//! scikit-learn's `sklearn.dummy`. Every real model should beat them; they also make the
//! smallest complete pipeline for tests of the service pillar.
//!
//! ```
//! use amlis::models::dummy::{DummyClassifier, DummyStrategy};
//! use amlis::traits::{ProbabilisticPredictor, Trainer};
//!
//! let data = amlis::data::datasets::breast_cancer()?;
//! let model = DummyClassifier::new(DummyStrategy::Prior).fit(&data)?;
//! let x = ndarray::Array2::<f64>::zeros((1, 30));
//! let p = model.predict_proba(x.view())?;
//! assert!((p[[0, 0]] - 357.0 / 569.0).abs() < 1e-12); // the share of benign tumours
//! # Ok::<(), amlis::Error>(())
//! ```

use ndarray::ArrayView2;
use serde::{Deserialize, Serialize};

use crate::common::rng;
use crate::common::stats::{percentile_linear, weighted_percentile};
use crate::error::{Error, Result};
use crate::models::kit::context;
use crate::models::kit::validate::check_predict_shapes;
use crate::traits::{Dataset, FitContext, Model, Predictor, ProbabilisticPredictor, Trainer};

/// How a [`DummyClassifier`] predicts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DummyStrategy {
    /// Always the most frequent class; probabilities one-hot on it.
    MostFrequent,
    /// Always the most frequent class; probabilities the class prior (the default).
    #[default]
    Prior,
    /// Random classes drawn from the prior (seeded).
    Stratified,
    /// Random classes drawn uniformly (seeded).
    Uniform,
    /// Always the class named by `constant`.
    Constant,
}

/// A classifier that ignores the features.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DummyClassifier {
    /// The prediction strategy.
    pub strategy: DummyStrategy,
    /// The class label predicted by [`DummyStrategy::Constant`].
    pub constant: Option<String>,
}

impl DummyClassifier {
    /// A dummy classifier with the given strategy.
    pub fn new(strategy: DummyStrategy) -> Self {
        Self {
            strategy,
            constant: None,
        }
    }

    /// Sets the class label for [`DummyStrategy::Constant`].
    pub fn constant(mut self, label: impl Into<String>) -> Self {
        self.constant = Some(label.into());
        self
    }
}

/// A fitted [`DummyClassifier`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DummyClassifierModel {
    strategy: DummyStrategy,
    classes: Vec<String>,
    prior: Vec<f64>,
    constant: usize,
    seed: u64,
    n_features: usize,
}

/// Weighted class counts of a classification dataset, validated.
fn class_weights(data: &dyn Dataset, context: &str) -> Result<(Vec<String>, Vec<f64>)> {
    let (classes, y) = crate::models::kit::validate::class_targets(data, context)?;
    if y.is_empty() {
        return Err(Error::Empty(format!("{context} training data")));
    }
    let w = data.weights();
    let mut counts = vec![0.0; classes.len()];
    for (i, &c) in y.iter().enumerate() {
        let wi = w.as_ref().and_then(|w| w.get(i).copied()).unwrap_or(1.0);
        if let Some(slot) = counts.get_mut(c as usize) {
            *slot += wi;
        }
    }
    Ok((classes, counts))
}

impl Trainer for DummyClassifier {
    const NAME: &'static str = "dummy_classifier";
    type Model = DummyClassifierModel;

    fn fit_with(&self, data: &dyn Dataset, ctx: &FitContext<'_>) -> Result<Self::Model> {
        let (classes, counts) = class_weights(data, Self::NAME)?;
        let total: f64 = counts.iter().sum();
        if total <= 0.0 {
            return Err(Error::InvalidArgument(format!(
                "{}: the sample weights sum to zero",
                Self::NAME
            )));
        }
        let prior: Vec<f64> = counts.iter().map(|c| c / total).collect();
        let constant = match self.strategy {
            DummyStrategy::Constant => {
                let label = self.constant.as_deref().ok_or_else(|| {
                    Error::param(
                        "constant",
                        "null",
                        "a class label when strategy is constant",
                    )
                })?;
                classes.iter().position(|c| c == label).ok_or_else(|| {
                    Error::param("constant", label, &format!("one of {classes:?}"))
                })?
            }
            // argmax with the first maximum, as numpy's argmax.
            _ => {
                prior
                    .iter()
                    .enumerate()
                    .fold((0, f64::NEG_INFINITY), |best, (i, &p)| {
                        if p > best.1 {
                            (i, p)
                        } else {
                            best
                        }
                    })
                    .0
            }
        };
        Ok(DummyClassifierModel {
            strategy: self.strategy,
            classes,
            prior,
            constant,
            seed: ctx.seed(),
            n_features: data.n_features(),
        })
    }
}

impl DummyClassifierModel {
    /// The class prior seen at fit (weighted).
    pub fn class_prior(&self) -> &[f64] {
        &self.prior
    }

    fn check(&self) -> Result<()> {
        let k = self.classes.len();
        if k == 0 || self.prior.len() != k || self.constant >= k {
            return Err(Error::ModelCorrupt(format!(
                "{}: {k} classes, {} prior values, constant class {}",
                DummyClassifier::NAME,
                self.prior.len(),
                self.constant
            )));
        }
        Ok(())
    }

    /// The class drawn for row `i` by the random strategies (deterministic per row).
    fn draw(&self, i: usize) -> usize {
        use rand::Rng;
        let mut r = rng::for_task(self.seed, i as u64);
        match self.strategy {
            DummyStrategy::Uniform => r.gen_range(0..self.classes.len()),
            _ => {
                let u: f64 = r.gen();
                let mut acc = 0.0;
                for (c, p) in self.prior.iter().enumerate() {
                    acc += p;
                    if u < acc {
                        return c;
                    }
                }
                self.classes.len().saturating_sub(1)
            }
        }
    }
}

impl Model for DummyClassifierModel {
    fn n_features(&self) -> usize {
        self.n_features
    }

    fn validate(&self) -> Result<()> {
        self.check()
    }
}

impl Predictor for DummyClassifierModel {
    fn predict_into(&self, x: ArrayView2<'_, f64>, out: &mut [f64]) -> Result<()> {
        check_predict_shapes(
            context!(DummyClassifier::NAME, "predict"),
            x,
            self.n_features,
            out.len(),
            1,
        )?;
        for (i, o) in out.iter_mut().enumerate() {
            *o = match self.strategy {
                DummyStrategy::Stratified | DummyStrategy::Uniform => self.draw(i),
                _ => self.constant,
            } as f64;
        }
        Ok(())
    }
}

impl ProbabilisticPredictor for DummyClassifierModel {
    fn n_classes(&self) -> usize {
        self.classes.len()
    }

    fn classes(&self) -> &[String] {
        &self.classes
    }

    fn predict_proba_into(&self, x: ArrayView2<'_, f64>, out: &mut [f64]) -> Result<()> {
        let k = self.classes.len();
        check_predict_shapes(
            context!(DummyClassifier::NAME, "predict_proba"),
            x,
            self.n_features,
            out.len(),
            k,
        )?;
        for (i, row) in out.chunks_mut(k.max(1)).enumerate() {
            row.fill(0.0);
            match self.strategy {
                DummyStrategy::Prior => row.copy_from_slice(&self.prior),
                DummyStrategy::Uniform => row.fill(1.0 / k as f64),
                DummyStrategy::Stratified => {
                    if let Some(v) = row.get_mut(self.draw(i)) {
                        *v = 1.0;
                    }
                }
                DummyStrategy::MostFrequent | DummyStrategy::Constant => {
                    if let Some(v) = row.get_mut(self.constant) {
                        *v = 1.0;
                    }
                }
            }
        }
        Ok(())
    }
}

/// How a [`DummyRegressor`] predicts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DummyRegressorStrategy {
    /// The (weighted) mean of the targets (the default).
    #[default]
    Mean,
    /// The median (weighted: scikit-learn's weighted percentile).
    Median,
    /// The `quantile` of the targets.
    Quantile,
    /// The value `constant`.
    Constant,
}

/// A regressor that predicts one value whatever the features.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DummyRegressor {
    /// The prediction strategy.
    pub strategy: DummyRegressorStrategy,
    /// The quantile in `[0, 1]` for [`DummyRegressorStrategy::Quantile`].
    pub quantile: Option<f64>,
    /// The value for [`DummyRegressorStrategy::Constant`].
    pub constant: Option<f64>,
}

/// A fitted [`DummyRegressor`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DummyRegressorModel {
    /// The predicted value.
    pub constant: f64,
    n_features: usize,
}

impl Trainer for DummyRegressor {
    const NAME: &'static str = "dummy_regressor";
    type Model = DummyRegressorModel;

    fn fit_with(&self, data: &dyn Dataset, _ctx: &FitContext<'_>) -> Result<Self::Model> {
        let y = data
            .targets()
            .ok_or_else(|| Error::InvalidArgument(format!("{} needs targets", Self::NAME)))?;
        if y.is_empty() {
            return Err(Error::Empty(format!("{} training data", Self::NAME)));
        }
        let y = y.to_vec();
        let w = data.weights().map(|w| w.to_vec());
        let pct = |q: f64| -> Result<f64> {
            match &w {
                None => percentile_linear(&y, q),
                Some(w) => weighted_percentile(&y, w, q),
            }
            .ok_or_else(|| Error::InvalidArgument(format!("{}: no usable targets", Self::NAME)))
        };
        let constant = match self.strategy {
            DummyRegressorStrategy::Mean => {
                let (s, t) = match &w {
                    None => (y.iter().sum::<f64>(), y.len() as f64),
                    Some(w) => (y.iter().zip(w).map(|(a, b)| a * b).sum(), w.iter().sum()),
                };
                if t <= 0.0 {
                    return Err(Error::InvalidArgument(format!(
                        "{}: the sample weights sum to zero",
                        Self::NAME
                    )));
                }
                s / t
            }
            DummyRegressorStrategy::Median => pct(50.0)?,
            DummyRegressorStrategy::Quantile => match self.quantile {
                Some(q) if (0.0..=1.0).contains(&q) => pct(q * 100.0)?,
                other => {
                    return Err(Error::param(
                        "quantile",
                        format!("{other:?}"),
                        "a number in [0, 1] when strategy is quantile",
                    ))
                }
            },
            DummyRegressorStrategy::Constant => match self.constant {
                Some(c) if c.is_finite() => c,
                other => {
                    return Err(Error::param(
                        "constant",
                        format!("{other:?}"),
                        "a finite number when strategy is constant",
                    ))
                }
            },
        };
        Ok(DummyRegressorModel {
            constant,
            n_features: data.n_features(),
        })
    }
}

impl Model for DummyRegressorModel {
    fn n_features(&self) -> usize {
        self.n_features
    }

    fn validate(&self) -> Result<()> {
        if self.constant.is_finite() {
            Ok(())
        } else {
            Err(Error::ModelCorrupt(format!(
                "{}: non-finite constant",
                DummyRegressor::NAME
            )))
        }
    }
}

impl Predictor for DummyRegressorModel {
    fn predict_into(&self, x: ArrayView2<'_, f64>, out: &mut [f64]) -> Result<()> {
        check_predict_shapes(
            context!(DummyRegressor::NAME, "predict"),
            x,
            self.n_features,
            out.len(),
            1,
        )?;
        out.fill(self.constant);
        Ok(())
    }
}

impl crate::traits::Outputs for DummyClassifierModel {
    fn as_probabilistic(&self) -> Option<&dyn ProbabilisticPredictor> {
        Some(self)
    }
}

/// A dummy regressor writes values only.
impl crate::traits::Outputs for DummyRegressorModel {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::DenseDataset;
    use ndarray::{array, Array2};

    #[test]
    fn regressor_strategies_match_sklearn() {
        // DummyRegressor(strategy=...).fit(X, [1, 2, 3, 10]).constant_
        let d =
            DenseDataset::regression(Array2::zeros((4, 1)), array![1.0, 2.0, 3.0, 10.0]).unwrap();
        let fit = |s, q| {
            DummyRegressor {
                strategy: s,
                quantile: q,
                constant: None,
            }
            .fit(&d)
            .unwrap()
            .constant
        };
        assert_eq!(fit(DummyRegressorStrategy::Mean, None), 4.0);
        assert_eq!(fit(DummyRegressorStrategy::Median, None), 2.5);
        assert!((fit(DummyRegressorStrategy::Quantile, Some(0.9)) - 7.9).abs() < 1e-12);
        assert!(DummyRegressor {
            strategy: DummyRegressorStrategy::Quantile,
            quantile: Some(1.5),
            constant: None
        }
        .fit(&d)
        .is_err());
    }

    #[test]
    fn classifier_constant_and_errors() {
        let data = crate::data::datasets::iris().unwrap();
        let m = DummyClassifier::new(DummyStrategy::Constant)
            .constant("virginica")
            .fit(&data)
            .unwrap();
        let x = Array2::zeros((2, 4));
        assert_eq!(m.predict(x.view()).unwrap().to_vec(), vec![2.0, 2.0]);
        assert!(DummyClassifier::new(DummyStrategy::Constant)
            .constant("rose")
            .fit(&data)
            .is_err());
        let bad = Array2::zeros((2, 3));
        assert!(m.predict(bad.view()).is_err());
    }

    #[test]
    fn stratified_is_seeded_and_sums_to_one() {
        let data = crate::data::datasets::wine().unwrap();
        let ctx = FitContext::new().random_state(5);
        let m = DummyClassifier::new(DummyStrategy::Stratified)
            .fit_with(&data, &ctx)
            .unwrap();
        let x = Array2::zeros((50, 13));
        let a = m.predict(x.view()).unwrap();
        let b = m.predict(x.view()).unwrap();
        assert_eq!(a, b);
        let p = m.predict_proba(x.view()).unwrap();
        for row in p.rows() {
            assert_eq!(row.sum(), 1.0);
        }
    }
}
