//! Naive Bayes classifiers, as scikit-learn's `sklearn.naive_bayes`: every feature independent
//! given the class, a joint log-likelihood per class, and `predict_log_proba` through a
//! log-sum-exp. All learn from streams (`partial_fit` with the classes given up front) and
//! take sample weights.
//!
//! | type | trainer | features | model |
//! |---|---|---|---|
//! | `gaussian_nb` | [`GaussianNb`] (`priors`, `var_smoothing`) | real values | [`GaussianNbModel`] |
//! | `multinomial_nb` | [`MultinomialNb`] | counts `>= 0` | [`DiscreteNbModel`] |
//! | `complement_nb` | [`ComplementNb`] (`norm`) | counts `>= 0` | [`DiscreteNbModel`] |
//! | `bernoulli_nb` | [`BernoulliNb`] (`binarize`) | binary, or thresholded | [`DiscreteNbModel`] |
//! | `categorical_nb` | [`CategoricalNb`] (`min_categories`) | category codes | [`CategoricalNbModel`] |
//!
//! The discrete ones share `alpha` ([`Alpha`]: a number or one per feature; a number only for
//! `categorical_nb`), `force_alpha` (default true, as scikit-learn 1.9), `fit_prior` and
//! `class_prior` ([`discrete`]). Every fitted model implements [`NaiveBayes`]
//! (`predict_log_proba`, `predict_joint_log_proba`) on top of the usual outputs: the class
//! index (`AMLIS_OUTPUT_VALUE`) and the class probabilities (`AMLIS_OUTPUT_PROBA`).
//!
//! ```
//! use amlis::models::naive_bayes::GaussianNb;
//! use amlis::traits::{Incremental, IncrementalLearner, Predictor, StreamSpec, FitContext};
//!
//! // Streaming: the classes are given up front; each chunk updates the moments.
//! let iris = amlis::datasets::iris()?;
//! let spec = StreamSpec { n_features: 4, classes: vec!["setosa".into(), "versicolor".into(), "virginica".into()] };
//! let mut learner = GaussianNb::default().start(&spec, &FitContext::new())?;
//! for start in (0..150).step_by(50) {
//!     let rows: Vec<usize> = (start..150).step_by(3).collect();
//!     learner.partial_fit(&iris.view(rows)?)?;
//! }
//! let model = learner.model()?;
//! assert_eq!(model.predict(ndarray::array![[6.7, 3.0, 5.2, 2.3]].view())?[0], 2.0);
//! # Ok::<(), amlis::Error>(())
//! ```

pub mod bernoulli_nb;
pub mod categorical_nb;
pub mod complement_nb;
pub mod discrete;
pub mod gaussian_nb;
pub mod multinomial_nb;
pub mod posterior;

pub use bernoulli_nb::BernoulliNb;
pub use categorical_nb::{CategoricalNb, CategoricalNbLearner, CategoricalNbModel, MinCategories};
pub use complement_nb::ComplementNb;
pub use discrete::{Alpha, DiscreteKind, DiscreteNbLearner, DiscreteNbModel};
pub use gaussian_nb::{GaussianNb, GaussianNbLearner, GaussianNbModel};
pub use multinomial_nb::MultinomialNb;
pub use posterior::NaiveBayes;

/// The fitted `multinomial_nb`.
pub type MultinomialNbModel = DiscreteNbModel;
/// The fitted `complement_nb`.
pub type ComplementNbModel = DiscreteNbModel;
/// The fitted `bernoulli_nb`.
pub type BernoulliNbModel = DiscreteNbModel;
