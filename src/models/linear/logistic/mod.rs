//! Logistic regression: binary (sigmoid) and multinomial (softmax) with L2, L1 or
//! elastic-net penalties, as scikit-learn 1.9's `LogisticRegression`.
//!
//! The objective is scikit-learn's, scaled by `1 / (C · S)` (which moves no optimum):
//!
//! `(1/S) Σ_i s_i ℓ_i + (1 − l1_ratio)/(2 C S) ‖W‖² + l1_ratio/(C S) ‖W‖₁`
//!
//! where `s_i` is the sample weight times the class weight of row `i`, `S = Σ s_i`, `ℓ_i` the
//! log-loss, and `W` the coefficients (intercepts are not penalized). Two classes fit one
//! coefficient row (class 1 is positive); three or more fit one row per class (softmax).
//!
//! Smooth problems (`l1_ratio = 0`, or no penalty) are solved by L-BFGS; problems with an L1
//! part by OWL-QN (orthant-wise L-BFGS), which reaches the exact optimum, zeros included.
//! `tol` bounds the largest absolute entry of the (pseudo-)gradient of the objective above,
//! as scikit-learn's `lbfgs` does.
//!
//! ```
//! use amlis::data::DenseDataset;
//! use amlis::models::linear::logistic::LogisticRegression;
//! use amlis::traits::{Predictor, ProbabilisticPredictor, Trainer};
//! use ndarray::array;
//!
//! // Three classes along one axis, with some overlap.
//! let x = array![[0.0], [0.4], [1.1], [0.9], [2.0], [2.3], [1.6], [3.1], [3.4], [2.6]];
//! let y = array![0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 2.0, 2.0, 2.0, 1.0];
//! let data = DenseDataset::classification(x, y)?;
//! let model = LogisticRegression::default().c(10.0).fit(&data)?;
//! assert!(model.converged);
//! assert_eq!(model.coef.dim(), (3, 1)); // one row per class: softmax
//! let proba = model.predict_proba(array![[0.1], [3.3]].view())?;
//! assert!((proba.row(0).sum() - 1.0).abs() < 1e-12);
//! assert_eq!(model.predict(array![[0.1], [3.3]].view())?.to_vec(), vec![0.0, 2.0]);
//! # Ok::<(), amlis::Error>(())
//! ```

mod input;
mod lbfgs;
mod objective;

use ndarray::{Array1, Array2, ArrayView2};
use serde::{Deserialize, Serialize};

use crate::common::parallel::first_of_blocks;
use crate::error::{Error, Result};
use crate::models::kit::{class_weight, context, setters, validate};
use crate::traits::{
    Control, Dataset, FitContext, FitEvent, Model, Predictor, ProbabilisticPredictor, Trainer,
};

/// The `class_weight` setting, shared by every classifier (now [`crate::models::kit::ClassWeight`]).
pub use crate::models::kit::ClassWeight;
pub(crate) use input::{
    check_two_classes, checked_features, class_targets, class_weights, row_major, sample_weights,
};

/// The string `"balanced"` of the former logistic `ClassWeight::Balanced(BalancedTag)`.
#[deprecated(
    note = "use `ClassWeightMode` (`amlis::models::kit::ClassWeightMode`) or `ClassWeight::balanced()`"
)]
pub type BalancedTag = crate::models::kit::ClassWeightMode;
pub(crate) use objective::{dot_row, sigmoid};

/// The older `penalty` key of scikit-learn, accepted as an alias of `l1_ratio` / `C`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Penalty {
    /// Squared L2 norm (`l1_ratio = 0`).
    L2,
    /// L1 norm (`l1_ratio = 1`).
    L1,
    /// Mix of both, weighted by `l1_ratio` (which must then be given).
    Elasticnet,
    /// No penalty (same as `C = inf`).
    None,
}

/// The optimizer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Solver {
    /// L-BFGS without an L1 part, OWL-QN with one.
    #[default]
    Auto,
    /// L-BFGS (smooth penalties only: `l1_ratio = 0` or no penalty).
    Lbfgs,
    /// OWL-QN, orthant-wise L-BFGS: any penalty. `"saga"` is accepted as an alias: it
    /// reaches the same optimum as scikit-learn's saga (not the same iterates).
    #[serde(alias = "saga")]
    Owlqn,
}

/// Logistic regression hyperparameters (scikit-learn names; config type
/// `logistic_regression`). See the [module docs](self) for the objective.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogisticRegression {
    /// Inverse regularization strength (> 0; `inf` = no penalty).
    #[serde(rename = "C")]
    pub c: f64,
    /// Share of L1 in the penalty: 0 = L2, 1 = L1, between = elastic net (`None` = 0 unless
    /// `penalty` says otherwise).
    pub l1_ratio: Option<f64>,
    /// scikit-learn's older penalty key; `l1` / `l2` set `l1_ratio`, `none` removes the penalty.
    pub penalty: Option<Penalty>,
    /// Whether to fit intercepts (never penalized).
    pub fit_intercept: bool,
    /// Class weights: none, `"balanced"` or a map from label to weight.
    #[serde(deserialize_with = "class_weight::deserialize_without_subsample")]
    pub class_weight: Option<ClassWeight>,
    /// Maximum number of solver iterations (>= 1).
    pub max_iter: usize,
    /// Stopping tolerance on the largest absolute (pseudo-)gradient entry (>= 0).
    pub tol: f64,
    /// The optimizer.
    pub solver: Solver,
    /// Accepted for compatibility; both solvers are deterministic and do not use it.
    pub random_state: Option<u64>,
}

impl Default for LogisticRegression {
    fn default() -> Self {
        Self {
            c: 1.0,
            l1_ratio: None,
            penalty: None,
            fit_intercept: true,
            class_weight: None,
            max_iter: 100,
            tol: 1e-4,
            solver: Solver::Auto,
            random_state: None,
        }
    }
}

setters!(LogisticRegression {
    c: f64,
    l1_ratio: f64 => Some,
    penalty: Penalty => Some,
    fit_intercept: bool,
    class_weight: ClassWeight => Some,
    max_iter: usize,
    tol: f64,
    solver: Solver,
});

impl LogisticRegression {
    /// Validates the hyperparameters and resolves the penalty: `None` for no penalty,
    /// otherwise `Some(l1_ratio)`.
    fn resolve_penalty(&self) -> Result<Option<f64>> {
        class_weight::reject_subsample(self.class_weight.as_ref())?;
        if self.c.is_nan() || self.c <= 0.0 {
            return Err(Error::param("C", self.c, "> 0 (inf for no penalty)"));
        }
        if let Some(r) = self.l1_ratio {
            if !(0.0..=1.0).contains(&r) {
                return Err(Error::param("l1_ratio", r, "in [0, 1]"));
            }
        }
        if self.max_iter == 0 {
            return Err(Error::param("max_iter", self.max_iter, ">= 1"));
        }
        if !(self.tol >= 0.0 && self.tol.is_finite()) {
            return Err(Error::param("tol", self.tol, "finite and >= 0"));
        }
        let ratio = match self.penalty {
            Some(Penalty::None) => return Ok(None),
            Some(Penalty::L2) => 0.0,
            Some(Penalty::L1) => 1.0,
            Some(Penalty::Elasticnet) => self.l1_ratio.ok_or_else(|| {
                Error::param(
                    "l1_ratio",
                    "null",
                    "a value in [0, 1] when penalty = elasticnet",
                )
            })?,
            None => self.l1_ratio.unwrap_or(0.0),
        };
        if self.c.is_infinite() {
            return Ok(None);
        }
        if ratio > 0.0 && self.solver == Solver::Lbfgs {
            return Err(Error::param(
                "solver",
                "lbfgs",
                "owlqn (or auto) when the penalty has an L1 part (l1_ratio > 0)",
            ));
        }
        Ok(Some(ratio))
    }
}

/// A fitted logistic regression.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogisticRegressionModel {
    /// Coefficients: one row for two classes (class 1 is positive), one row per class
    /// otherwise; `p` columns.
    pub coef: Array2<f64>,
    /// Intercepts, one per coefficient row (zeros without `fit_intercept`; centred to sum
    /// to zero for a multinomial model, as they are defined up to a common shift).
    pub intercept: Array1<f64>,
    /// Class labels; prediction `i` means `classes[i]`.
    pub classes: Vec<String>,
    /// Solver iterations done.
    pub n_iter: usize,
    /// Whether the solver met its tolerance within `max_iter`.
    pub converged: bool,
}

impl Trainer for LogisticRegression {
    const NAME: &'static str = "logistic_regression";
    type Model = LogisticRegressionModel;

    fn fit_with(&self, data: &dyn Dataset, ctx: &FitContext<'_>) -> Result<Self::Model> {
        let penalty = self.resolve_penalty()?;
        const CTX: &str = LogisticRegression::NAME;
        let (y, classes) = class_targets(data, CTX)?;
        let x = checked_features(data, CTX)?;
        let n = x.nrows();
        let p = x.ncols();
        if n == 0 {
            return Err(Error::Empty(CTX.into()));
        }
        let w = sample_weights(data, &y, &classes, self.class_weight.as_ref())?;
        check_two_classes(&y, &w, &classes, CTX)?;
        let total: f64 = w.iter().sum();
        let s: Vec<f64> = w.iter().map(|v| v / total).collect();
        let k = if classes.len() == 2 { 1 } else { classes.len() };
        let (l2, l1) = match penalty {
            None => (0.0, 0.0),
            Some(r) => ((1.0 - r) / (self.c * total), r / (self.c * total)),
        };
        let obj = objective::Objective {
            x: x.view(),
            y: &y,
            s: &s,
            k,
            fit_intercept: self.fit_intercept,
            l2,
        };
        let n_params = obj.n_params();
        let l1_weights: Option<Vec<f64>> = (l1 > 0.0).then(|| {
            (0..n_params)
                .map(|i| if i < k * p { l1 } else { 0.0 })
                .collect()
        });
        let opts = lbfgs::Options {
            max_iter: self.max_iter,
            gtol: self.tol,
            ..lbfgs::Options::default()
        };
        let mut cancelled = false;
        let out = ctx.install(|| {
            lbfgs::minimize(
                |w, g| obj.eval(w, g),
                vec![0.0; n_params],
                l1_weights.as_deref(),
                &opts,
                |iter, f| {
                    let values = [("loss", f)];
                    let ev = FitEvent {
                        stage: CTX,
                        iteration: iter,
                        total: Some(self.max_iter),
                        values: &values,
                    };
                    match ctx.report(&ev) {
                        Control::Continue => lbfgs::Step::Continue,
                        Control::Stop => lbfgs::Step::Stop,
                        Control::Cancel => {
                            cancelled = true;
                            lbfgs::Step::Stop
                        }
                    }
                },
            )
        })?;
        if cancelled {
            return Err(Error::Cancelled(format!("{CTX} iteration {}", out.n_iter)));
        }
        if out.x.iter().any(|v| !v.is_finite()) {
            return Err(Error::InvalidArgument(format!(
                "{CTX} diverged (non-finite coefficients); the data may be separable with no penalty: set a finite C"
            )));
        }
        let coef = Array2::from_shape_vec((k, p), out.x[..k * p].to_vec())
            .map_err(|e| Error::shape(CTX, format!("{k}x{p}"), e))?;
        let intercept = if self.fit_intercept {
            let mut b = Array1::from(out.x[k * p..].to_vec());
            if k > 1 {
                // Softmax intercepts are defined up to a common shift: report them centred.
                let mean = b.sum() / k as f64;
                b.mapv_inplace(|v| v - mean);
            }
            b
        } else {
            Array1::zeros(k)
        };
        Ok(LogisticRegressionModel {
            coef,
            intercept,
            classes,
            n_iter: out.n_iter,
            converged: out.converged,
        })
    }
}

/// Rows per parallel prediction task.
const PREDICT_BLOCK: usize = 4096;

impl LogisticRegressionModel {
    /// Decision scores `x Wᵀ + b`: one column for a binary model (the log-odds of class 1),
    /// one per class otherwise.
    pub fn decision_function(&self, x: ArrayView2<'_, f64>) -> Result<Array2<f64>> {
        let k = self.coef.nrows();
        let mut out = vec![0.0; x.nrows() * k];
        self.scores_into(x, &mut out, false)?;
        Array2::from_shape_vec((x.nrows(), k), out)
            .map_err(|e| Error::shape("decision_function", format!("{}x{k}", x.nrows()), e))
    }

    /// Writes scores (`proba = false`, `k` per row) or probabilities (`n_classes` per row).
    fn scores_into(&self, x: ArrayView2<'_, f64>, out: &mut [f64], proba: bool) -> Result<()> {
        const CTX: &str = context!(LogisticRegression::NAME, "predict");
        let k = self.coef.nrows();
        let width = if proba { self.classes.len().max(k) } else { k };
        validate::check_predict_shapes(CTX, x, self.coef.ncols(), out.len(), width)?;
        let x = row_major(x);
        let coef = self.coef.as_standard_layout();
        let coef = coef.as_slice().unwrap_or(&[]);
        let p = self.coef.ncols();
        let block = |b: usize, chunk: &mut [f64]| -> Option<(usize, usize)> {
            let mut z = vec![0.0; k];
            for (r, o) in chunk.chunks_exact_mut(width).enumerate() {
                let i = b * PREDICT_BLOCK + r;
                let row = x.row(i);
                let xi = row.as_slice()?;
                for c in 0..k {
                    z[c] = self.intercept[c] + dot_row(xi, &coef[c * p..(c + 1) * p]);
                }
                // A NaN or infinite value makes every score it enters non-finite (times a
                // zero coefficient it is NaN), so only a row with a non-finite score is
                // searched for the bad cell.
                if z.iter().any(|v| !v.is_finite()) {
                    if let Some(j) = xi.iter().position(|v| !v.is_finite()) {
                        return Some((i, j));
                    }
                }
                if !proba {
                    o.copy_from_slice(&z);
                } else if k == 1 {
                    let p1 = sigmoid(z[0]);
                    o[0] = 1.0 - p1;
                    o[1] = p1;
                } else {
                    softmax_into(&z, o);
                }
            }
            None
        };
        // The first bad row in row order.
        let bad = first_of_blocks(out, PREDICT_BLOCK * width, block);
        if let Some((i, j)) = bad {
            return Err(Error::InvalidValue {
                context: CTX.into(),
                row: i,
                column: Some(format!("x{j}")),
                message: "not a finite number".into(),
            });
        }
        Ok(())
    }
}

/// Numerically stable softmax of `z` into `out`.
fn softmax_into(z: &[f64], out: &mut [f64]) {
    let m = z.iter().fold(f64::NEG_INFINITY, |a, &b| a.max(b));
    let mut sum = 0.0;
    for (o, &v) in out.iter_mut().zip(z) {
        *o = (v - m).exp();
        sum += *o;
    }
    for o in out.iter_mut() {
        *o /= sum;
    }
}

impl Model for LogisticRegressionModel {
    fn n_features(&self) -> usize {
        self.coef.ncols()
    }

    fn validate(&self) -> Result<()> {
        crate::models::kit::validate::linear_classifier_state(
            LogisticRegression::NAME,
            self.coef.view(),
            self.intercept.view(),
            self.classes.len(),
        )
    }
}

impl LogisticRegressionModel {
    /// Checks one row (length, finite values) for the single-row paths.
    fn check_row(&self, row: &[f64], out_len: usize, width: usize) -> Result<()> {
        const CTX: &str = context!(LogisticRegression::NAME, "predict_row");
        if row.len() != self.coef.ncols() || out_len != width {
            return Err(Error::shape(
                CTX,
                format!("{} values in, {width} out", self.coef.ncols()),
                format!("{} in, {out_len} out", row.len()),
            ));
        }
        if let Some(j) = row.iter().position(|v| !v.is_finite()) {
            return Err(Error::InvalidValue {
                context: CTX.into(),
                row: 0,
                column: Some(format!("x{j}")),
                message: "not a finite number".into(),
            });
        }
        Ok(())
    }

    /// The score of class row `c` for one row, computed exactly as the batch path does.
    #[inline]
    fn row_score(&self, row: &[f64], c: usize) -> f64 {
        let coef = self.coef.row(c);
        let dot = match coef.as_slice() {
            Some(w) => dot_row(row, w),
            None => coef.iter().zip(row).map(|(a, b)| a * b).sum(),
        };
        self.intercept.get(c).copied().unwrap_or(0.0) + dot
    }
}

impl Predictor for LogisticRegressionModel {
    fn predict_row_into(&self, row: &[f64], out: &mut [f64]) -> Result<()> {
        self.check_row(row, out.len(), 1)?;
        let k = self.coef.nrows();
        let class = if k == 1 {
            if self.row_score(row, 0) > 0.0 {
                1
            } else {
                0
            }
        } else {
            argmax((0..k).map(|c| self.row_score(row, c)))
        };
        if let Some(o) = out.first_mut() {
            *o = class as f64;
        }
        Ok(())
    }

    fn predict_into(&self, x: ArrayView2<'_, f64>, out: &mut [f64]) -> Result<()> {
        let k = self.coef.nrows();
        if out.len() != x.nrows() {
            return Err(Error::shape(
                context!(LogisticRegression::NAME, "predict"),
                format!("{} outputs", x.nrows()),
                out.len(),
            ));
        }
        let scores = self.decision_function(x)?;
        for (o, row) in out.iter_mut().zip(scores.outer_iter()) {
            *o = if k == 1 {
                if row[0] > 0.0 {
                    1.0
                } else {
                    0.0
                }
            } else {
                argmax(row.iter().copied()) as f64
            };
        }
        Ok(())
    }
}

/// Index of the largest value (the first on ties, as numpy's argmax).
pub(crate) fn argmax(v: impl Iterator<Item = f64>) -> usize {
    let mut best = 0;
    let mut bv = f64::NEG_INFINITY;
    for (i, x) in v.enumerate() {
        if x > bv {
            bv = x;
            best = i;
        }
    }
    best
}

impl ProbabilisticPredictor for LogisticRegressionModel {
    fn predict_proba_row_into(&self, row: &[f64], out: &mut [f64]) -> Result<()> {
        let k = self.coef.nrows();
        let width = self.classes.len().max(k);
        self.check_row(row, out.len(), width)?;
        if k == 1 {
            let p1 = sigmoid(self.row_score(row, 0));
            if let [o0, o1] = out {
                *o0 = 1.0 - p1;
                *o1 = p1;
            }
        } else {
            // softmax_into's arithmetic, in place.
            for (c, o) in out.iter_mut().enumerate() {
                *o = self.row_score(row, c);
            }
            let m = out.iter().fold(f64::NEG_INFINITY, |a, &b| a.max(b));
            let mut sum = 0.0;
            for o in out.iter_mut() {
                *o = (*o - m).exp();
                sum += *o;
            }
            for o in out.iter_mut() {
                *o /= sum;
            }
        }
        Ok(())
    }

    fn n_classes(&self) -> usize {
        self.classes.len()
    }

    fn classes(&self) -> &[String] {
        &self.classes
    }

    fn predict_proba_into(&self, x: ArrayView2<'_, f64>, out: &mut [f64]) -> Result<()> {
        self.scores_into(x, out, true)
    }
}

impl crate::traits::Outputs for LogisticRegressionModel {
    fn as_probabilistic(&self) -> Option<&dyn ProbabilisticPredictor> {
        Some(self)
    }

    fn as_scorer(&self) -> Option<&dyn crate::traits::ScorePredictor> {
        Some(self)
    }
}

/// The decision function: one log-odds column for a binary model, one score per class
/// otherwise (scikit-learn's `decision_function`).
impl crate::traits::ScorePredictor for LogisticRegressionModel {
    fn n_scores(&self) -> usize {
        self.coef.nrows()
    }

    fn score_into(&self, x: ArrayView2<'_, f64>, out: &mut [f64]) -> Result<()> {
        self.scores_into(x, out, false)
    }

    /// Allocation-free; the same sums as the batch path.
    fn score_row_into(&self, row: &[f64], out: &mut [f64]) -> Result<()> {
        self.check_row(row, out.len(), self.coef.nrows())?;
        for (c, o) in out.iter_mut().enumerate() {
            *o = self.row_score(row, c);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_names_and_aliases() {
        let t: LogisticRegression =
            serde_json::from_str(r#"{"C": 0.5, "penalty": "l1", "solver": "saga"}"#).unwrap();
        assert_eq!(t.c, 0.5);
        assert_eq!(t.resolve_penalty().unwrap(), Some(1.0));
        assert_eq!(t.solver, Solver::Owlqn);
        let none: LogisticRegression = serde_json::from_str(r#"{"penalty": "none"}"#).unwrap();
        assert_eq!(none.resolve_penalty().unwrap(), None);
        assert!(serde_json::from_str::<LogisticRegression>(r#"{"c": 1.0}"#).is_err());
        let cw: LogisticRegression =
            serde_json::from_str(r#"{"class_weight": "balanced"}"#).unwrap();
        assert_eq!(cw.class_weight, Some(ClassWeight::balanced()));
        let cw: LogisticRegression =
            serde_json::from_str(r#"{"class_weight": {"a": 2.0}}"#).unwrap();
        assert!(matches!(cw.class_weight, Some(ClassWeight::Map(_))));
        let s = serde_json::to_string(&LogisticRegression::default()).unwrap();
        assert!(s.contains("\"C\":1.0"), "{s}");
    }

    #[test]
    fn invalid_parameters_are_named() {
        let err = LogisticRegression::default()
            .c(-1.0)
            .resolve_penalty()
            .unwrap_err();
        assert!(err.to_string().contains("`C`"), "{err}");
        let err = LogisticRegression::default()
            .l1_ratio(2.0)
            .resolve_penalty()
            .unwrap_err();
        assert!(err.to_string().contains("l1_ratio"), "{err}");
        let err = LogisticRegression::default()
            .l1_ratio(0.5)
            .solver(Solver::Lbfgs)
            .resolve_penalty()
            .unwrap_err();
        assert!(err.to_string().contains("solver"), "{err}");
        let err = LogisticRegression::default()
            .penalty(Penalty::Elasticnet)
            .resolve_penalty()
            .unwrap_err();
        assert!(err.to_string().contains("l1_ratio"), "{err}");
    }
}
