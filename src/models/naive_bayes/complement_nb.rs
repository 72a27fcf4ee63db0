//! `ComplementNB`, as scikit-learn's: the multinomial model fitted on each class's
//! complement (the counts of every other class), suited to imbalanced text data.
//! `feature_log_prob_ = -log((all + α - count) / Σ_j (all + α - count))`, or with `norm` the
//! complement log frequencies divided by their sum; the joint log-likelihood is
//! `x · feature_log_probᵀ` (plus the class log prior when there is a single class).
//!
//! ```
//! use amlis::data::DenseDataset;
//! use amlis::models::naive_bayes::ComplementNb;
//! use amlis::traits::{Predictor, Trainer};
//! use ndarray::array;
//!
//! let x = array![[3.0, 0.0, 1.0], [4.0, 1.0, 0.0], [0.0, 2.0, 5.0], [1.0, 3.0, 4.0]];
//! let data = DenseDataset::classification(x.clone(), array![0.0, 0.0, 1.0, 1.0])?;
//! let model = ComplementNb::default().norm(true).fit(&data)?;
//! assert_eq!(model.predict(x.view())?.to_vec(), vec![0.0, 0.0, 1.0, 1.0]);
//! # Ok::<(), amlis::Error>(())
//! ```

use super::discrete::{discrete_nb, Common, Counts, DiscreteKind, DiscreteNb, LogProbs};

discrete_nb!(
    /// `ComplementNB` hyperparameters (config type `complement_nb`).
    ComplementNb = "complement_nb" {
        /// Normalize the weights by their sum per class (scikit-learn's second normalization).
        norm: bool = false,
    }
);

impl DiscreteNb for ComplementNb {
    const KIND: DiscreteKind = DiscreteKind::Complement;
    const SKLEARN: &'static str = "ComplementNB";

    fn common(&self) -> Common<'_> {
        Common {
            alpha: &self.alpha,
            force_alpha: self.force_alpha,
            fit_prior: self.fit_prior,
            class_prior: self.class_prior.as_deref(),
        }
    }

    fn log_probs(&self, counts: &Counts, alpha: &[f64], log_prior: &[f64]) -> LogProbs {
        let p = counts.n_features.max(1);
        // feature_all_: the count of each feature over every class.
        let mut all = vec![0.0; counts.n_features];
        for row in counts.feature_count.chunks_exact(p) {
            for (a, c) in all.iter_mut().zip(row) {
                *a += c;
            }
        }
        let mut flp = Vec::with_capacity(counts.feature_count.len());
        for row in counts.feature_count.chunks_exact(p) {
            let comp: Vec<f64> = row
                .iter()
                .zip(&all)
                .zip(alpha)
                .map(|((c, a), al)| a + al - c)
                .collect();
            let total: f64 = comp.iter().sum();
            let logged: Vec<f64> = comp.iter().map(|v| (v / total).ln()).collect();
            if self.norm {
                let summed: f64 = logged.iter().sum();
                flp.extend(logged.iter().map(|v| v / summed));
            } else {
                flp.extend(logged.iter().map(|v| -v));
            }
        }
        let single = log_prior.len() == 1;
        LogProbs {
            coef: flp.clone(),
            feature_log_prob: flp,
            intercept: if single {
                log_prior.to_vec()
            } else {
                vec![0.0; log_prior.len()]
            },
        }
    }
}
