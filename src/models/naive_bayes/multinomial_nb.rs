//! `MultinomialNB`, as scikit-learn's: for counts (word counts, pixel intensities).
//! `feature_log_prob_ = log((feature_count + α) / Σ_j (feature_count + α))` per class, and the
//! joint log-likelihood `x · feature_log_probᵀ + class_log_prior`.
//!
//! ```
//! use amlis::data::DenseDataset;
//! use amlis::models::naive_bayes::{MultinomialNb, NaiveBayes};
//! use amlis::traits::{Predictor, Trainer};
//! use ndarray::array;
//!
//! let x = array![[3.0, 0.0, 1.0], [4.0, 1.0, 0.0], [0.0, 2.0, 5.0], [1.0, 3.0, 4.0]];
//! let data = DenseDataset::classification(x.clone(), array![0.0, 0.0, 1.0, 1.0])?;
//! let model = MultinomialNb::default().alpha(0.5.into()).fit(&data)?;
//! assert_eq!(model.predict(x.view())?.to_vec(), vec![0.0, 0.0, 1.0, 1.0]);
//! let log_proba = model.predict_log_proba(x.view())?;
//! assert!(log_proba[[0, 0]] > log_proba[[0, 1]]);
//! # Ok::<(), amlis::Error>(())
//! ```

use super::discrete::{discrete_nb, Common, Counts, DiscreteKind, DiscreteNb, LogProbs};

discrete_nb!(
    /// `MultinomialNB` hyperparameters (config type `multinomial_nb`).
    MultinomialNb = "multinomial_nb" {}
);

/// `log(count + α) - log(Σ_j (count + α))` per class (`k × p`, row-major).
pub(crate) fn smoothed_log_freq(counts: &Counts, alpha: &[f64]) -> Vec<f64> {
    let p = counts.n_features.max(1);
    let mut out = Vec::with_capacity(counts.feature_count.len());
    for row in counts.feature_count.chunks_exact(p) {
        let smoothed: Vec<f64> = row.iter().zip(alpha).map(|(c, a)| c + a).collect();
        let total = smoothed.iter().sum::<f64>().ln();
        out.extend(smoothed.iter().map(|v| v.ln() - total));
    }
    out
}

impl DiscreteNb for MultinomialNb {
    const KIND: DiscreteKind = DiscreteKind::Multinomial;
    const SKLEARN: &'static str = "MultinomialNB";

    fn common(&self) -> Common<'_> {
        Common {
            alpha: &self.alpha,
            force_alpha: self.force_alpha,
            fit_prior: self.fit_prior,
            class_prior: self.class_prior.as_deref(),
        }
    }

    fn log_probs(&self, counts: &Counts, alpha: &[f64], log_prior: &[f64]) -> LogProbs {
        let flp = smoothed_log_freq(counts, alpha);
        LogProbs {
            coef: flp.clone(),
            feature_log_prob: flp,
            intercept: log_prior.to_vec(),
        }
    }
}
