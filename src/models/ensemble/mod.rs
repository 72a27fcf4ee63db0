//! Ensembles of trees: random forests, extra trees, and histogram gradient boosting.

pub mod forest;
pub mod gbm;
