//! The evaluation pillar: [`metrics`] (every scikit-learn metric, by scorer name),
//! [`selection`] (cross-validation and hyperparameter search) and [`report`] (an evaluation
//! report with plots).

pub mod metrics;
pub mod report;
pub mod selection;
