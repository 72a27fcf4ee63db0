//! Linear models: least squares, ridge, lasso / elastic net, logistic regression and SGD.
//!
//! (Being written: `least_squares`, `ridge`, `coordinate_descent` and `prep` by one hand;
//! `logistic` and `sgd` by another.)

pub mod coordinate_descent;
pub mod least_squares;
pub mod logistic;
pub mod prep;
pub mod ridge;
pub mod sgd;
