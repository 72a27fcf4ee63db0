//! `GaussianNB`, as scikit-learn's: one normal distribution per class and feature. The mean
//! and variance of every class are updated chunk by chunk exactly as scikit-learn's
//! `_update_mean_variance` (Chan et al.'s pairwise combination of sums of squared
//! differences), and every variance is raised by `epsilon_ = var_smoothing · max_j var(x_j)`
//! of the latest chunk, with scikit-learn's rule across `partial_fit` calls (the new chunk's
//! epsilon is taken off before the update and added back after it).
//!
//! Missing values are not accepted (scikit-learn's `GaussianNB` rejects NaN too).
//!
//! ```
//! use amlis::models::naive_bayes::{GaussianNb, NaiveBayes};
//! use amlis::traits::{Predictor, ProbabilisticPredictor, Trainer};
//!
//! let iris = amlis::datasets::iris()?;
//! let model = GaussianNb::default().fit(&iris)?;
//! let x = ndarray::array![[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]];
//! assert_eq!(model.predict(x.view())?.to_vec(), vec![0.0, 2.0]);
//! let proba = model.predict_proba(x.view())?;
//! assert!((proba.row(1).sum() - 1.0).abs() < 1e-12);
//! # Ok::<(), amlis::Error>(())
//! ```

use serde::{Deserialize, Serialize};

use super::discrete::{
    check_spec, class_and_total_sums, read_chunk, spec_of, FiniteCheck, ValueCheck,
};
use super::posterior::{check_finite_row, NaiveBayes};
use crate::error::{Error, Result};
use crate::traits::{
    Dataset, FitContext, Incremental, IncrementalLearner, Model, StreamSpec, Trainer,
};

const NAME: &str = <GaussianNb as Trainer>::NAME;

/// `GaussianNB` hyperparameters (config type `gaussian_nb`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GaussianNb {
    /// Prior probability of each class (non-negative, summing to 1); `None`: the class
    /// frequencies (weighted).
    pub priors: Option<Vec<f64>>,
    /// Share of the largest feature variance added to every variance, `>= 0`.
    pub var_smoothing: f64,
}

impl Default for GaussianNb {
    fn default() -> Self {
        Self {
            priors: None,
            var_smoothing: 1e-9,
        }
    }
}

crate::models::kit::setters!(GaussianNb {
    priors: Vec<f64> => Some,
    var_smoothing: f64,
});

impl GaussianNb {
    fn check(&self, k: usize) -> Result<()> {
        if !(self.var_smoothing.is_finite() && self.var_smoothing >= 0.0) {
            return Err(Error::param(
                "var_smoothing",
                self.var_smoothing,
                "a finite value >= 0",
            ));
        }
        super::discrete::check_prior("priors", self.priors.as_deref(), k)?;
        if let Some(p) = &self.priors {
            let sum: f64 = p.iter().sum();
            // numpy's isclose(sum, 1)
            if (sum - 1.0).abs() > 1e-8 + 1e-5 {
                return Err(Error::param("priors", sum, "priors summing to 1"));
            }
        }
        Ok(())
    }
}

/// A Gaussian naive Bayes model under streaming training (scikit-learn's state between
/// `partial_fit` calls).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GaussianNbLearner {
    params: GaussianNb,
    classes: Vec<String>,
    n_features: usize,
    /// `theta_`, `k × p`.
    theta: Vec<f64>,
    /// `var_` including the current `epsilon`, `k × p`.
    var: Vec<f64>,
    /// `class_count_`.
    class_count: Vec<f64>,
    /// `epsilon_` of the latest chunk.
    epsilon: f64,
    /// Whether a chunk has been learned.
    started: bool,
}

impl GaussianNbLearner {
    /// A learner for the stream `spec` describes.
    pub fn new(params: GaussianNb, spec: &StreamSpec) -> Result<Self> {
        check_spec(NAME, spec)?;
        params.check(spec.classes.len())?;
        let (k, p) = (spec.classes.len(), spec.n_features);
        Ok(Self {
            params,
            classes: spec.classes.clone(),
            n_features: p,
            theta: vec![0.0; k * p],
            var: vec![0.0; k * p],
            class_count: vec![0.0; k],
            epsilon: 0.0,
            started: false,
        })
    }

    /// Learns one chunk (scikit-learn's `partial_fit`).
    pub fn partial_fit(&mut self, data: &dyn Dataset) -> Result<()> {
        let spec = StreamSpec {
            n_features: self.n_features,
            classes: self.classes.clone(),
        };
        let chunk = read_chunk(data, NAME, &spec, true, FiniteCheck::InSums)?;
        let (k, p) = (self.classes.len(), self.n_features);
        if chunk.y.is_empty() {
            return Ok(());
        }
        // Two passes: the class sums with the sums over every row, then the class squared
        // deviations with those from the mean of every row (whose largest variance scales
        // `var_smoothing`, scikit-learn's `np.var(X, axis=0).max()`).
        let check = ValueCheck {
            data,
            context: NAME,
            counts_of: None,
        };
        let (first, all) =
            class_and_total_sums(&chunk, k, |_, _, v| v, Some(|_, v| v), Some(&check))?;
        let new_mu: Vec<f64> = mean_of(&first, p);
        let mean = mean_of(&all, p);
        let (second, spread) = class_and_total_sums(
            &chunk,
            k,
            |c, j, v| {
                let d = v - new_mu[c * p + j];
                d * d
            },
            Some(|j: usize, v: f64| {
                let d = v - mean[j];
                d * d
            }),
            None,
        )?;
        let new_var = mean_of(&second, p);
        let max_variance = mean_of(&spread, p)
            .into_iter()
            .fold(f64::NEG_INFINITY, f64::max)
            .max(0.0);
        let epsilon = self.params.var_smoothing * max_variance;
        if self.started {
            self.var.iter_mut().for_each(|v| *v -= epsilon);
        }
        self.started = true;
        self.epsilon = epsilon;
        // The classes present in the chunk (scikit-learn's `unique(y)`), whatever their weight.
        let mut present = vec![false; k];
        for &c in &chunk.y {
            if let Some(s) = present.get_mut(c as usize) {
                *s = true;
            }
        }
        for c in (0..k).filter(|&c| present[c]) {
            let n_new = first.weight[c];
            let n_past = self.class_count[c];
            // numpy's isclose(n_new, 0): an all-zero-weight class keeps its moments.
            if n_new.abs() > 1e-8 {
                let range = c * p..(c + 1) * p;
                let (mu, var) = (&mut self.theta[range.clone()], &mut self.var[range.clone()]);
                let (nm, nv) = (&new_mu[range.clone()], &new_var[range]);
                if n_past == 0.0 {
                    mu.copy_from_slice(nm);
                    var.copy_from_slice(nv);
                } else {
                    let n_total = n_past + n_new;
                    for j in 0..p {
                        let total_mu = (n_new * nm[j] + n_past * mu[j]) / n_total;
                        let old_ssd = n_past * var[j];
                        let new_ssd = n_new * nv[j];
                        let d = mu[j] - nm[j];
                        let total_ssd = old_ssd + new_ssd + (n_new * n_past / n_total) * (d * d);
                        mu[j] = total_mu;
                        var[j] = total_ssd / n_total;
                    }
                }
            }
            self.class_count[c] += n_new;
        }
        self.var.iter_mut().for_each(|v| *v += epsilon);
        Ok(())
    }

    /// The model learned so far.
    pub fn model(&self) -> Result<GaussianNbModel> {
        if !self.started {
            return Err(Error::InvalidArgument(format!(
                "{NAME}: no chunk has been learned yet"
            )));
        }
        let (k, p) = (self.classes.len(), self.n_features);
        if let Some(at) = self.var.iter().position(|&v| v.is_nan() || v <= 0.0) {
            return Err(Error::InvalidArgument(format!(
                "{NAME}: feature x{} has variance {} in class {:?}; set var_smoothing > 0 \
                 (or drop constant features)",
                at % p.max(1),
                self.var[at],
                self.classes.get(at / p.max(1)).map_or("?", |s| s.as_str())
            )));
        }
        let class_prior = match &self.params.priors {
            Some(pr) => pr.clone(),
            None => {
                let total: f64 = self.class_count.iter().sum();
                self.class_count.iter().map(|c| c / total).collect()
            }
        };
        let mut log_norm = Vec::with_capacity(k);
        for row in self.var.chunks_exact(p.max(1)).take(k) {
            log_norm.push(
                -0.5 * row
                    .iter()
                    .map(|v| (2.0 * std::f64::consts::PI * v).ln())
                    .sum::<f64>(),
            );
        }
        if p == 0 {
            log_norm = vec![0.0; k];
        }
        Ok(GaussianNbModel {
            classes: self.classes.clone(),
            n_features: p,
            theta: self.theta.clone(),
            var: self.var.clone(),
            class_count: self.class_count.clone(),
            class_log_prior: class_prior.iter().map(|v| v.ln()).collect(),
            class_prior,
            epsilon: self.epsilon,
            inv_var: self.var.iter().map(|v| 1.0 / v).collect(),
            log_norm,
        })
    }
}

/// `Σ w·f / Σ w` per class and feature (0 for a class without weight).
fn mean_of(s: &super::discrete::ClassSums, p: usize) -> Vec<f64> {
    let mut out = s.sums.clone();
    for (row, &w) in out.chunks_exact_mut(p.max(1)).zip(&s.weight) {
        row.iter_mut()
            .for_each(|v| *v = if w != 0.0 { *v / w } else { 0.0 });
    }
    out
}

/// A fitted Gaussian naive Bayes model (scikit-learn's fitted attributes, plus the per-class
/// constants of the joint log-likelihood).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GaussianNbModel {
    /// Class labels.
    pub classes: Vec<String>,
    /// The number of features.
    pub n_features: usize,
    /// `theta_`: per-class feature means, `k × p` row-major.
    pub theta: Vec<f64>,
    /// `var_`: per-class feature variances (smoothed), `k × p` row-major.
    pub var: Vec<f64>,
    /// `class_count_`: the weight of each class.
    pub class_count: Vec<f64>,
    /// `class_prior_`.
    pub class_prior: Vec<f64>,
    /// `log(class_prior_)` (`-inf` for a class of prior 0).
    #[serde(with = "crate::common::json_float::vec")]
    pub class_log_prior: Vec<f64>,
    /// `epsilon_`: what was added to every variance.
    pub epsilon: f64,
    /// `1 / var_`.
    pub inv_var: Vec<f64>,
    /// `-½ Σ_j log(2π var_cj)` per class.
    pub log_norm: Vec<f64>,
}

impl GaussianNbModel {
    /// `theta_` as a `k × p` matrix.
    pub fn theta(&self) -> Result<ndarray::ArrayView2<'_, f64>> {
        ndarray::ArrayView2::from_shape((self.classes.len(), self.n_features), &self.theta)
            .map_err(|e| Error::shape(NAME, "k x p", e))
    }

    /// `var_` as a `k × p` matrix.
    pub fn var(&self) -> Result<ndarray::ArrayView2<'_, f64>> {
        ndarray::ArrayView2::from_shape((self.classes.len(), self.n_features), &self.var)
            .map_err(|e| Error::shape(NAME, "k x p", e))
    }
}

impl Model for GaussianNbModel {
    fn n_features(&self) -> usize {
        self.n_features
    }

    fn validate(&self) -> Result<()> {
        let k = self.classes.len();
        let kp = k.checked_mul(self.n_features);
        let ok = k >= 1
            && [
                &self.class_count,
                &self.class_prior,
                &self.class_log_prior,
                &self.log_norm,
            ]
            .iter()
            .all(|v| v.len() == k)
            && [&self.theta, &self.var, &self.inv_var]
                .iter()
                .all(|v| Some(v.len()) == kp);
        if !ok {
            return Err(Error::ModelCorrupt(format!(
                "{NAME}: the fitted arrays do not match {k} classes and {} features",
                self.n_features
            )));
        }
        Ok(())
    }
}

impl NaiveBayes for GaussianNbModel {
    fn type_name(&self) -> &'static str {
        NAME
    }

    fn class_labels(&self) -> &[String] {
        &self.classes
    }

    /// `log prior + (-½ Σ log(2π var) - ½ Σ (x - θ)² / var)`, in scikit-learn's order.
    fn joint_log_likelihood_row(&self, row: &[f64], index: usize, out: &mut [f64]) -> Result<()> {
        check_finite_row(NAME, row, index)?;
        let p = row.len().max(1);
        for (((o, (theta, inv)), lp), ln) in out
            .iter_mut()
            .zip(self.theta.chunks_exact(p).zip(self.inv_var.chunks_exact(p)))
            .zip(&self.class_log_prior)
            .zip(&self.log_norm)
        {
            *o = lp + (ln - 0.5 * scaled_sq(row, theta, inv));
        }
        Ok(())
    }
}

/// `Σ_j (x_j - θ_j)² · inv_j` in four independent lanes.
fn scaled_sq(x: &[f64], theta: &[f64], inv: &[f64]) -> f64 {
    let mut acc = [0.0f64; 4];
    let mut j = 0;
    let n = x.len().min(theta.len()).min(inv.len());
    while j + 4 <= n {
        for l in 0..4 {
            let d = x[j + l] - theta[j + l];
            acc[l] += d * d * inv[j + l];
        }
        j += 4;
    }
    let mut tail = 0.0;
    while j < n {
        let d = x[j] - theta[j];
        tail += d * d * inv[j];
        j += 1;
    }
    (acc[0] + acc[1]) + (acc[2] + acc[3]) + tail
}

super::posterior::naive_bayes_outputs!(GaussianNbModel);

impl Trainer for GaussianNb {
    const NAME: &'static str = "gaussian_nb";
    type Model = GaussianNbModel;

    fn fit_with(&self, data: &dyn Dataset, ctx: &FitContext<'_>) -> Result<GaussianNbModel> {
        let spec = spec_of(data, NAME)?;
        let mut learner = self.start(&spec, ctx)?;
        ctx.install(|| learner.partial_fit(data))??;
        learner.model()
    }
}

impl IncrementalLearner for GaussianNbLearner {
    type Model = GaussianNbModel;

    fn partial_fit(&mut self, chunk: &dyn Dataset) -> Result<()> {
        GaussianNbLearner::partial_fit(self, chunk)
    }

    fn model(&self) -> Result<GaussianNbModel> {
        GaussianNbLearner::model(self)
    }
}

impl Incremental for GaussianNb {
    type Learner = GaussianNbLearner;

    fn start(&self, spec: &StreamSpec, _ctx: &FitContext<'_>) -> Result<GaussianNbLearner> {
        GaussianNbLearner::new(self.clone(), spec)
    }
}
