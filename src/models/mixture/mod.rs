//! Mixture models (scikit-learn's `sklearn.mixture`): models of kind *clusterer*, trained
//! without a target by expectation-maximisation; they predict the most probable component of
//! a row (`AMLIS_OUTPUT_VALUE`), the responsibilities of every component
//! (`AMLIS_OUTPUT_PROBA`, `predict_proba`) and the log-likelihood of the row
//! (`AMLIS_OUTPUT_SCORE`, `score_samples`).
//!
//! | trainer | config `type` | model |
//! |---|---|---|
//! | [`GaussianMixture`] | `gaussian_mixture` | [`GaussianMixtureModel`] |

pub mod covariance;
mod em;
pub mod gaussian_mixture;

pub use covariance::CovarianceType;
pub use gaussian_mixture::{GaussianMixture, GaussianMixtureModel, PrecisionsInit};
