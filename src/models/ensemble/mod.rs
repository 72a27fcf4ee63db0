//! Ensembles: random forests, extra trees, histogram gradient boosting, and voting over
//! member pipelines.

pub mod forest;
pub mod gbm;
pub mod voting;
