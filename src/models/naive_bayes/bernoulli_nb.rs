//! `BernoulliNB`, as scikit-learn's: for binary features (or features made binary by
//! `binarize`: `x > binarize` is 1). `feature_log_prob_ = log((count + α) / (class_count +
//! 2α))`, and the joint log-likelihood `Σ_j x_j log p_j + (1 - x_j) log(1 - p_j) + log prior`,
//! computed as `x · (log p - log(1 - p))ᵀ + Σ_j log(1 - p_j) + log prior`.
//!
//! With `binarize` set (the default, 0) any finite value is accepted; with `binarize: null`
//! the values are taken as they are and must be `>= 0` (0/1 data).
//!
//! ```
//! use amlis::data::DenseDataset;
//! use amlis::models::naive_bayes::BernoulliNb;
//! use amlis::traits::{Predictor, Trainer};
//! use ndarray::array;
//!
//! let x = array![[3.0, 0.0, 1.0], [4.0, 1.0, 0.0], [0.0, 2.0, 5.0], [0.0, 3.0, 4.0]];
//! let data = DenseDataset::classification(x.clone(), array![0.0, 0.0, 1.0, 1.0])?;
//! let model = BernoulliNb::default().fit(&data)?;
//! assert_eq!(model.predict(x.view())?.to_vec(), vec![0.0, 0.0, 1.0, 1.0]);
//! # Ok::<(), amlis::Error>(())
//! ```

use super::discrete::{discrete_nb, Common, Counts, DiscreteKind, DiscreteNb, LogProbs};

discrete_nb!(
    /// `BernoulliNB` hyperparameters (config type `bernoulli_nb`).
    BernoulliNb = "bernoulli_nb" {
        /// Threshold above which a value counts as 1 (`None`: the input is binary already).
        binarize: Option<f64> = Some(0.0),
    }
);

impl DiscreteNb for BernoulliNb {
    const KIND: DiscreteKind = DiscreteKind::Bernoulli;
    const SKLEARN: &'static str = "BernoulliNB";

    fn common(&self) -> Common<'_> {
        Common {
            alpha: &self.alpha,
            force_alpha: self.force_alpha,
            fit_prior: self.fit_prior,
            class_prior: self.class_prior.as_deref(),
        }
    }

    fn binarize(&self) -> Option<f64> {
        self.binarize
    }

    fn counts_only(&self) -> bool {
        self.binarize.is_none()
    }

    fn log_probs(&self, counts: &Counts, alpha: &[f64], log_prior: &[f64]) -> LogProbs {
        let p = counts.n_features.max(1);
        let mut flp = Vec::with_capacity(counts.feature_count.len());
        let mut coef = Vec::with_capacity(counts.feature_count.len());
        let mut intercept = Vec::with_capacity(log_prior.len());
        for ((row, cc), lp) in counts
            .feature_count
            .chunks_exact(p)
            .zip(&counts.class_count)
            .zip(log_prior)
        {
            let mut neg_sum = 0.0;
            for (c, a) in row.iter().zip(alpha) {
                let l = (c + a).ln() - (cc + a * 2.0).ln();
                let neg = (1.0 - l.exp()).ln();
                flp.push(l);
                coef.push(l - neg);
                neg_sum += neg;
            }
            intercept.push(lp + neg_sum);
        }
        LogProbs {
            feature_log_prob: flp,
            coef,
            intercept,
        }
    }
}
