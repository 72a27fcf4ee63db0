//! `linear_svr`: scikit-learn's `LinearSVR` (liblinear). It minimizes, over `w` with the
//! bias column appended when `fit_intercept`,
//!
//! `½‖w‖² + Σᵢ cᵢ ℓ(w·xᵢ − yᵢ)`,  `ℓ(r) = max(0, |r| − ε)` or its square,
//!
//! with `cᵢ = C · sample weight`. The epsilon-insensitive loss is solved in the dual, the
//! squared one in the dual or the primal (see the [family docs](super)).
//!
//! ```
//! use amlis::data::DenseDataset;
//! use amlis::models::svm::LinearSvr;
//! use amlis::traits::{Predictor, Trainer};
//! use ndarray::array;
//!
//! let x = array![[0.0], [1.0], [2.0], [3.0], [4.0]];
//! let y = array![1.0, 3.0, 5.0, 7.0, 9.0]; // y = 2x + 1
//! let data = DenseDataset::regression(x, y)?;
//! let model = LinearSvr::default().c(100.0).tol(1e-10).max_iter(100_000).fit(&data)?;
//! assert!((model.coef[0] - 2.0).abs() < 1e-3 && (model.intercept - 1.0).abs() < 1e-2);
//! let pred = model.predict(array![[5.0]].view())?;
//! assert!((pred[0] - 11.0).abs() < 1e-2);
//! # Ok::<(), amlis::Error>(())
//! ```

use ndarray::Array1;
use serde::{Deserialize, Serialize};

use super::problem::Rows;
use super::{
    check_common, choose_solver, not_with_dual, solve_all, Dual, Penalty, Plan, Solver, Task,
};
use crate::error::{Error, Result};
use crate::models::kit::setters;
use crate::models::linear::logistic::checked_features;
use crate::models::linear::prep::{self, linear_regressor};
use crate::traits::{Dataset, FitContext, Outputs, Trainer};

/// The loss of `linear_svr`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SvrLoss {
    /// `max(0, |r| − ε)` (the dual solver only).
    #[default]
    EpsilonInsensitive,
    /// `max(0, |r| − ε)²`.
    SquaredEpsilonInsensitive,
}

impl SvrLoss {
    fn name(self) -> &'static str {
        match self {
            SvrLoss::EpsilonInsensitive => "epsilon_insensitive",
            SvrLoss::SquaredEpsilonInsensitive => "squared_epsilon_insensitive",
        }
    }
}

/// `linear_svr` hyperparameters (scikit-learn's `LinearSVR` names and defaults).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LinearSvr {
    /// Half-width of the tube inside which errors cost nothing (>= 0).
    pub epsilon: f64,
    /// Stopping tolerance (> 0), read by each solver as liblinear reads it.
    pub tol: f64,
    /// Cost of the loss (> 0); larger is less regularized.
    #[serde(rename = "C")]
    pub c: f64,
    /// `epsilon_insensitive` (default) or `squared_epsilon_insensitive`.
    pub loss: SvrLoss,
    /// Whether to fit an intercept (through a bias column, regularized as in liblinear).
    pub fit_intercept: bool,
    /// The value of the bias column (> 0); the intercept is `intercept_scaling · w_bias`.
    pub intercept_scaling: f64,
    /// `"auto"` (default), `true` or `false`: see [`Dual`].
    pub dual: Dual,
    /// The seed of the coordinate-descent order (`None`: the fit context's seed).
    pub random_state: Option<u64>,
    /// Cap on solver iterations (>= 1).
    pub max_iter: usize,
}

impl Default for LinearSvr {
    fn default() -> Self {
        Self {
            epsilon: 0.0,
            tol: 1e-4,
            c: 1.0,
            loss: SvrLoss::EpsilonInsensitive,
            fit_intercept: true,
            intercept_scaling: 1.0,
            dual: Dual::Auto,
            random_state: None,
            max_iter: 1000,
        }
    }
}

setters!(LinearSvr {
    epsilon: f64,
    tol: f64,
    c: f64,
    loss: SvrLoss,
    fit_intercept: bool,
    intercept_scaling: f64,
    dual: Dual,
    random_state: u64 => Some,
    max_iter: usize,
});

/// scikit-learn's solver table of `LinearSVR` (the penalty is always L2).
fn svr_solver(loss: SvrLoss) -> super::SolverTable {
    match loss {
        SvrLoss::EpsilonInsensitive => |penalty, dual| {
            if dual {
                Ok(Solver::DualL1)
            } else {
                Err(not_with_dual(penalty, "epsilon_insensitive", dual))
            }
        },
        SvrLoss::SquaredEpsilonInsensitive => {
            |_, dual| Ok(if dual { Solver::DualL2 } else { Solver::Newton })
        }
    }
}

/// A fitted `linear_svr`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinearSvrModel {
    /// One coefficient per feature.
    pub coef: Array1<f64>,
    /// The intercept (0 without `fit_intercept`).
    pub intercept: f64,
    /// Solver iterations done (scikit-learn's `n_iter_`).
    pub n_iter: usize,
    /// Whether the solver met `tol` within `max_iter`.
    pub converged: bool,
}

impl Trainer for LinearSvr {
    const NAME: &'static str = "linear_svr";
    type Model = LinearSvrModel;

    fn fit_with(&self, data: &dyn Dataset, ctx: &FitContext<'_>) -> Result<Self::Model> {
        const CTX: &str = LinearSvr::NAME;
        check_common(
            self.c,
            self.tol,
            self.max_iter,
            self.fit_intercept,
            self.intercept_scaling,
        )?;
        if !(self.epsilon.is_finite() && self.epsilon >= 0.0) {
            return Err(Error::param("epsilon", self.epsilon, "a finite value >= 0"));
        }
        let x = checked_features(data, CTX)?;
        let y = prep::regression_targets(data, CTX)?;
        let (n, p) = x.dim();
        if n == 0 || p == 0 {
            return Err(Error::Empty(format!("{CTX}: {n} rows, {p} features")));
        }
        if y.len() != n {
            return Err(Error::shape(CTX, format!("{n} targets"), y.len()));
        }
        let solver = choose_solver(
            svr_solver(self.loss),
            Penalty::L2,
            self.loss.name(),
            self.dual,
            n,
            p,
        )?;
        let sw = prep::sample_weights(data, CTX)?.map_or_else(|| vec![1.0; n], |w| w.to_vec());
        let keep: Vec<bool> = sw.iter().map(|w| *w > 0.0).collect();
        let xs = x
            .as_slice()
            .ok_or_else(|| Error::shape(CTX, "row-major features", "a strided view"))?;
        let rows = Rows::new(
            xs,
            p,
            &keep,
            self.fit_intercept.then_some(self.intercept_scaling),
        );
        let task = Task {
            y: y.iter()
                .zip(&keep)
                .filter(|(_, k)| **k)
                .map(|(v, _)| *v)
                .collect(),
            c: sw
                .iter()
                .filter(|w| **w > 0.0)
                .map(|w| w * self.c)
                .collect(),
        };
        let plan = Plan {
            solver,
            epsilon: Some(self.epsilon),
            tol: self.tol,
            max_iter: self.max_iter,
            seed: self.random_state.unwrap_or_else(|| ctx.seed()),
            stage: CTX,
        };
        let solved = solve_all(&rows, std::slice::from_ref(&task), &plan, ctx)?;
        let w = solved.w.first().map(Vec::as_slice).unwrap_or(&[]);
        let coef = Array1::from_iter((0..p).map(|j| w.get(j).copied().unwrap_or(0.0)));
        let intercept = if self.fit_intercept {
            self.intercept_scaling * w.get(p).copied().unwrap_or(0.0)
        } else {
            0.0
        };
        Ok(LinearSvrModel {
            coef,
            intercept,
            n_iter: solved.n_iter,
            converged: solved.converged,
        })
    }
}

linear_regressor!(LinearSvrModel, LinearSvr);

impl Outputs for LinearSvrModel {}
