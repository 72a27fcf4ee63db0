//! Linear models: least squares, ridge, lasso / elastic net, logistic regression and SGD.
//!
//! | trainer | config `type` | model | solver |
//! |---|---|---|---|
//! | [`LinearRegression`] | `linear_regression` | [`LinearRegressionModel`] | SVD + refinement |
//! | [`Ridge`] | `ridge` | [`RidgeModel`] | Cholesky on the Gram matrix, or SVD |
//! | [`Lasso`] | `lasso` | [`ElasticNetModel`] | coordinate descent |
//! | [`ElasticNet`] | `elastic_net` | [`ElasticNetModel`] | coordinate descent |
//!
//! [`enet_path`] computes a regularization path with warm starts. Shared input checks,
//! centring and prediction live in [`prep`].

pub mod coordinate_descent;
pub mod least_squares;
pub mod logistic;
pub mod prep;
pub mod ridge;
pub mod sgd;

pub use coordinate_descent::{
    enet_path, ElasticNet, ElasticNetModel, Lasso, PathAlphas, Precompute, RegularizationPath,
    Selection,
};
pub use least_squares::{LinearRegression, LinearRegressionModel};
pub use ridge::{Ridge, RidgeModel, RidgeSolver};
