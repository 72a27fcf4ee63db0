//! The evaluation pillar: [`metrics`] (every scikit-learn metric, by scorer name),
//! [`selection`] (cross-validation and hyperparameter search) and [`report`] (an evaluation
//! report with plots), and [`policy`] (off-policy evaluation of a policy on logged bandit feedback).

pub mod metrics;
pub mod policy;
pub mod report;
pub mod selection;
