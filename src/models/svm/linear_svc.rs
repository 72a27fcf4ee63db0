//! `linear_svc`: scikit-learn's `LinearSVC` (liblinear), one-vs-rest for more than two
//! classes.
//!
//! For each binary problem (class 1 against class 0, or one class against the rest) it
//! minimizes, over `w` with the bias column appended when `fit_intercept`,
//!
//! `R(w) + Σᵢ cᵢ ℓ(yᵢ w·xᵢ)`,  `R = ½‖w‖²` (`penalty="l2"`) or `‖w‖₁` (`"l1"`),
//!
//! with `ℓ` the hinge `max(0, 1 − m)` or its square, and `cᵢ = C · class weight · sample
//! weight` (in one-vs-rest the rest keep `C` times their sample weight, as in liblinear).
//! See the [family docs](super) for the solvers and the convergence report.
//!
//! ```
//! use amlis::data::DenseDataset;
//! use amlis::models::svm::LinearSvc;
//! use amlis::traits::{Predictor, ScorePredictor, Trainer};
//! use ndarray::array;
//!
//! // Three classes along one axis.
//! let x = array![[0.0], [0.3], [0.6], [2.0], [2.4], [2.2], [4.1], [4.5], [3.9]];
//! let y = array![0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 2.0, 2.0, 2.0];
//! let data = DenseDataset::classification(x, y)?;
//! let model = LinearSvc::default().c(10.0).tol(1e-8).fit(&data)?;
//! assert!(model.converged);
//! assert_eq!(model.coef.dim(), (3, 1)); // one row per class: one-vs-rest
//! let scores = model.decision_function(array![[0.1], [4.3]].view())?;
//! assert_eq!(scores.dim(), (2, 3));
//! assert_eq!(model.predict(array![[0.1], [4.3]].view())?.to_vec(), vec![0.0, 2.0]);
//! # Ok::<(), amlis::Error>(())
//! ```

use ndarray::{Array1, Array2, ArrayView2};
use serde::{Deserialize, Serialize};

use super::problem::{Monitor, Rows, Run};
use super::{
    check_common, choose_solver, crammer_singer, not_with_dual, solve_all, Dual, Penalty, Plan,
    Solver, Task,
};
use crate::common::parallel::first_of_blocks;
use crate::common::rng;
use crate::error::{Error, Result};
use crate::models::kit::{class_weight, context, setters, validate, ClassWeight};
use crate::models::linear::logistic::{argmax, check_two_classes, checked_features, class_targets};
use crate::models::linear::prep::{self, dot};
use crate::traits::{
    Dataset, FitContext, Model, Outputs, Predictor, ProbabilisticPredictor, ScorePredictor, Trainer,
};

/// The loss of `linear_svc`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SvcLoss {
    /// `max(0, 1 − y w·x)` (the dual solver only).
    Hinge,
    /// `max(0, 1 − y w·x)²`.
    #[default]
    SquaredHinge,
}

impl SvcLoss {
    fn name(self) -> &'static str {
        match self {
            SvcLoss::Hinge => "hinge",
            SvcLoss::SquaredHinge => "squared_hinge",
        }
    }
}

/// The multiclass strategy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MultiClass {
    /// One binary problem per class against the rest (solved in parallel).
    #[default]
    Ovr,
    /// Crammer and Singer's joint multiclass problem (liblinear's `MCSVM_CS`, solved on one
    /// thread): one weight row per class, a single row `w₁ − w₀` for two classes.
    CrammerSinger,
}

/// `linear_svc` hyperparameters (scikit-learn's `LinearSVC` names and defaults).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LinearSvc {
    /// `l2` (default) or `l1` (squared hinge, primal only).
    pub penalty: Penalty,
    /// `squared_hinge` (default) or `hinge`.
    pub loss: SvcLoss,
    /// `"auto"` (default), `true` or `false`: see [`Dual`].
    pub dual: Dual,
    /// Stopping tolerance (> 0), read by each solver as liblinear reads it.
    pub tol: f64,
    /// Cost of the loss (> 0); larger is less regularized.
    #[serde(rename = "C")]
    pub c: f64,
    /// `ovr` (default) or `crammer_singer` (one joint problem; `penalty`, `loss` and `dual`
    /// are then ignored, as in scikit-learn).
    pub multi_class: MultiClass,
    /// Whether to fit intercepts (through a bias column, regularized as in liblinear).
    pub fit_intercept: bool,
    /// The value of the bias column (> 0); the intercept is `intercept_scaling · w_bias`.
    pub intercept_scaling: f64,
    /// Class weights: none, `"balanced"` (counting sample weights) or a map from label to
    /// weight; they scale `C` of the class's rows.
    #[serde(deserialize_with = "class_weight::deserialize_without_subsample")]
    pub class_weight: Option<ClassWeight>,
    /// The seed of the coordinate-descent order (`None`: the fit context's seed).
    pub random_state: Option<u64>,
    /// Cap on solver iterations (>= 1): sweeps for coordinate descent, Newton steps.
    pub max_iter: usize,
}

impl Default for LinearSvc {
    fn default() -> Self {
        Self {
            penalty: Penalty::L2,
            loss: SvcLoss::SquaredHinge,
            dual: Dual::Auto,
            tol: 1e-4,
            c: 1.0,
            multi_class: MultiClass::Ovr,
            fit_intercept: true,
            intercept_scaling: 1.0,
            class_weight: None,
            random_state: None,
            max_iter: 1000,
        }
    }
}

setters!(LinearSvc {
    penalty: Penalty,
    loss: SvcLoss,
    dual: Dual,
    tol: f64,
    c: f64,
    multi_class: MultiClass,
    fit_intercept: bool,
    intercept_scaling: f64,
    class_weight: ClassWeight => Some,
    random_state: u64 => Some,
    max_iter: usize,
});

/// scikit-learn's solver table of `LinearSVC`.
fn svc_solver(loss: SvcLoss) -> super::SolverTable {
    match loss {
        SvcLoss::Hinge => |penalty, dual| match (penalty, dual) {
            (Penalty::L2, true) => Ok(Solver::DualL1),
            (Penalty::L2, false) => Err(not_with_dual(penalty, "hinge", dual)),
            (Penalty::L1, _) => {
                Err("The combination of penalty='l1' and loss='hinge' is not supported".into())
            }
        },
        SvcLoss::SquaredHinge => |penalty, dual| match (penalty, dual) {
            (Penalty::L2, true) => Ok(Solver::DualL2),
            (Penalty::L2, false) => Ok(Solver::Newton),
            (Penalty::L1, false) => Ok(Solver::L1Cd),
            (Penalty::L1, true) => Err(not_with_dual(penalty, "squared_hinge", dual)),
        },
    }
}

/// A fitted `linear_svc`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinearSvcModel {
    /// Coefficients: one row for two classes (class 1 is positive), one per class
    /// otherwise; one column per feature.
    pub coef: Array2<f64>,
    /// Intercepts, one per coefficient row (zeros without `fit_intercept`).
    pub intercept: Array1<f64>,
    /// Class labels; prediction `i` means `classes[i]`.
    pub classes: Vec<String>,
    /// The most solver iterations of any binary problem (scikit-learn's `n_iter_`).
    pub n_iter: usize,
    /// Whether every binary problem met `tol` within `max_iter`.
    pub converged: bool,
}

impl Trainer for LinearSvc {
    const NAME: &'static str = "linear_svc";
    type Model = LinearSvcModel;

    fn fit_with(&self, data: &dyn Dataset, ctx: &FitContext<'_>) -> Result<Self::Model> {
        const CTX: &str = LinearSvc::NAME;
        check_common(
            self.c,
            self.tol,
            self.max_iter,
            self.fit_intercept,
            self.intercept_scaling,
        )?;
        class_weight::reject_subsample(self.class_weight.as_ref())?;
        let (y, classes) = class_targets(data, CTX)?;
        let x = checked_features(data, CTX)?;
        let (n, p) = x.dim();
        if n == 0 || p == 0 {
            return Err(Error::Empty(format!("{CTX}: {n} rows, {p} features")));
        }
        // Crammer–Singer ignores `penalty`, `loss` and `dual`, as in scikit-learn.
        let solver = match self.multi_class {
            MultiClass::Ovr => Some(choose_solver(
                svc_solver(self.loss),
                self.penalty,
                self.loss.name(),
                self.dual,
                n,
                p,
            )?),
            MultiClass::CrammerSinger => None,
        };
        let sw = prep::sample_weights(data, CTX)?.map_or_else(|| vec![1.0; n], |w| w.to_vec());
        // scikit-learn 1.9 counts sample weights in "balanced".
        let per_class = class_weight::class_weights(
            self.class_weight.as_ref(),
            &classes,
            y.iter().copied().zip(sw.iter().copied()),
        )?;
        let mut cw = sw.clone();
        class_weight::apply(&mut cw, y.iter().copied(), &per_class);
        check_two_classes(&y, &cw, &classes, CTX)?;
        let keep: Vec<bool> = sw.iter().map(|w| *w > 0.0).collect();
        let xs = x
            .as_slice()
            .ok_or_else(|| Error::shape(CTX, "row-major features", "a strided view"))?;
        let bias = self.fit_intercept.then_some(self.intercept_scaling);
        let rows = Rows::new(xs, p, &keep, bias);
        let kept: Vec<(usize, f64)> = y
            .iter()
            .zip(&sw)
            .filter(|(_, w)| **w > 0.0)
            .map(|(&c, &w)| (c, w))
            .collect();
        let k = classes.len();
        let seed = self.random_state.unwrap_or_else(|| ctx.seed());
        let Some(solver) = solver else {
            return self.fit_crammer_singer(&rows, &kept, &per_class, classes, seed, ctx);
        };
        // (positive class, cost of the positive rows, cost of the others).
        let problems: Vec<(usize, f64, f64)> = if k == 2 {
            vec![(1, self.c * per_class[1], self.c * per_class[0])]
        } else {
            (0..k).map(|j| (j, self.c * per_class[j], self.c)).collect()
        };
        let tasks: Vec<Task> = problems
            .iter()
            .map(|&(pos, cp, cn)| Task {
                y: kept
                    .iter()
                    .map(|&(c, _)| if c == pos { 1.0 } else { -1.0 })
                    .collect(),
                c: kept
                    .iter()
                    .map(|&(c, w)| w * if c == pos { cp } else { cn })
                    .collect(),
            })
            .collect();
        let plan = Plan {
            solver,
            epsilon: None,
            tol: self.tol,
            max_iter: self.max_iter,
            seed,
            stage: CTX,
        };
        let solved = solve_all(&rows, &tasks, &plan, ctx)?;
        let m = tasks.len();
        let mut coef = Array2::zeros((m, p));
        let mut intercept = Array1::zeros(m);
        for (t, w) in solved.w.iter().enumerate() {
            coef.row_mut(t).iter_mut().zip(w).for_each(|(o, v)| *o = *v);
            if self.fit_intercept {
                intercept[t] = self.intercept_scaling * w.get(p).copied().unwrap_or(0.0);
            }
        }
        Ok(LinearSvcModel {
            coef,
            intercept,
            classes,
            n_iter: solved.n_iter,
            converged: solved.converged,
        })
    }
}

impl LinearSvc {
    /// Crammer and Singer's joint problem over the kept rows (`(class, sample weight)`
    /// each): one weight row per class; for two classes, scikit-learn's single row
    /// `w₁ − w₀` (and intercept `b₁ − b₀`).
    fn fit_crammer_singer(
        &self,
        rows: &Rows,
        kept: &[(usize, f64)],
        per_class: &[f64],
        classes: Vec<String>,
        seed: u64,
        ctx: &FitContext<'_>,
    ) -> Result<LinearSvcModel> {
        let k = classes.len();
        let p = rows.d - usize::from(self.fit_intercept);
        let y: Vec<usize> = kept.iter().map(|&(c, _)| c).collect();
        let costs: Vec<f64> = kept
            .iter()
            .map(|&(c, w)| self.c * w * per_class.get(c).copied().unwrap_or(1.0))
            .collect();
        let monitor = Monitor {
            ctx,
            stage: LinearSvc::NAME,
            task: 0,
        };
        let mut run = Run {
            tol: self.tol,
            max_iter: self.max_iter,
            rng: rng::for_task(seed, 0),
            monitor,
        };
        let solved = crammer_singer::solve(rows, &y, &costs, k, &mut run)?;
        if !solved.converged && solved.n_iter >= self.max_iter {
            run.monitor.max_iter_reached(solved.n_iter);
        }
        if solved.w.iter().any(|v| !v.is_finite()) {
            return Err(Error::InvalidArgument(format!(
                "{}: the solver diverged (non-finite coefficients)",
                LinearSvc::NAME
            )));
        }
        let d = rows.d;
        let weight = |m: usize, j: usize| solved.w.get(m * d + j).copied().unwrap_or(0.0);
        let bias = |m: usize| {
            if self.fit_intercept {
                self.intercept_scaling * weight(m, p)
            } else {
                0.0
            }
        };
        let (coef, intercept) = if k == 2 {
            (
                Array2::from_shape_fn((1, p), |(_, j)| weight(1, j) - weight(0, j)),
                Array1::from(vec![bias(1) - bias(0)]),
            )
        } else {
            (
                Array2::from_shape_fn((k, p), |(m, j)| weight(m, j)),
                Array1::from_iter((0..k).map(bias)),
            )
        };
        Ok(LinearSvcModel {
            coef,
            intercept,
            classes,
            n_iter: solved.n_iter,
            converged: solved.converged,
        })
    }
}

/// Rows per parallel prediction task.
const PREDICT_BLOCK: usize = 4096;

impl LinearSvcModel {
    /// The decision function `x Wᵀ + b`: one column for two classes (positive means class
    /// 1), one per class otherwise (scikit-learn's `decision_function`).
    pub fn decision_function(&self, x: ArrayView2<'_, f64>) -> Result<Array2<f64>> {
        let k = self.coef.nrows();
        let mut out = vec![0.0; x.nrows() * k];
        self.score_into(x, &mut out)?;
        Array2::from_shape_vec((x.nrows(), k), out)
            .map_err(|e| Error::shape("decision_function", format!("{}x{k}", x.nrows()), e))
    }

    /// The score of class row `c` for one checked row: the sum every path computes.
    #[inline]
    fn score(&self, row: &[f64], c: usize) -> f64 {
        let w = self.coef.row(c);
        let dotted = match w.as_slice() {
            Some(w) => dot(row, w),
            None => w.iter().zip(row).map(|(a, b)| a * b).sum(),
        };
        self.intercept.get(c).copied().unwrap_or(0.0) + dotted
    }

    /// The class of one checked row: the sign of the score for two classes, else the first
    /// largest score.
    #[inline]
    fn class_of(&self, row: &[f64]) -> f64 {
        self.class_from(row, self.score(row, 0))
    }

    /// [`class_of`](Self::class_of) given the row's first score, `first`.
    #[inline]
    fn class_from(&self, row: &[f64], first: f64) -> f64 {
        match self.coef.nrows() {
            1 => f64::from(u8::from(first > 0.0)),
            k => argmax(std::iter::once(first).chain((1..k).map(|c| self.score(row, c)))) as f64,
        }
    }

    /// Checks one row (length, finite values) for the single-row paths.
    fn check_row(&self, row: &[f64], out_len: usize, width: usize) -> Result<()> {
        const CTX: &str = context!(LinearSvc::NAME, "predict_row");
        if row.len() != self.coef.ncols() || out_len != width {
            return Err(Error::shape(
                CTX,
                format!("{} values in, {width} out", self.coef.ncols()),
                format!("{} in, {out_len} out", row.len()),
            ));
        }
        if let Some(j) = row.iter().position(|v| !v.is_finite()) {
            return Err(not_finite(CTX, 0, j));
        }
        Ok(())
    }

    /// Writes `width` values per row of `x` (the scores, or the class when `classes`), in
    /// parallel over row blocks.
    fn batch_into(&self, x: ArrayView2<'_, f64>, out: &mut [f64], classes: bool) -> Result<()> {
        const CTX: &str = context!(LinearSvc::NAME, "predict");
        let k = self.coef.nrows();
        let width = if classes { 1 } else { k };
        validate::check_predict_shapes(CTX, x, self.coef.ncols(), out.len(), width)?;
        let bad = first_of_blocks(out, PREDICT_BLOCK * width, |b, chunk| {
            let mut owned = Vec::new();
            for (r, o) in chunk.chunks_exact_mut(width).enumerate() {
                let i = b * PREDICT_BLOCK + r;
                let view = x.row(i);
                let row = match view.as_slice() {
                    Some(s) => s,
                    None => {
                        owned.clear();
                        owned.extend(view.iter().copied());
                        &owned
                    }
                };
                // A value that is not finite makes every score NaN or infinite, so the row
                // is searched only when the first score is (a finite row can overflow too).
                let first = self.score(row, 0);
                if !first.is_finite() {
                    if let Some(j) = row.iter().position(|v| !v.is_finite()) {
                        return Some((i, j));
                    }
                }
                if classes {
                    o[0] = self.class_from(row, first);
                } else {
                    for (c, v) in o.iter_mut().enumerate() {
                        *v = if c == 0 { first } else { self.score(row, c) };
                    }
                }
            }
            None
        });
        match bad {
            Some((i, j)) => Err(not_finite(CTX, i, j)),
            None => Ok(()),
        }
    }
}

fn not_finite(context: &str, row: usize, j: usize) -> Error {
    Error::InvalidValue {
        context: context.into(),
        row,
        column: Some(format!("x{j}")),
        message: "not a finite number".into(),
    }
}

impl Model for LinearSvcModel {
    fn n_features(&self) -> usize {
        self.coef.ncols()
    }

    fn validate(&self) -> Result<()> {
        validate::linear_classifier_state(
            LinearSvc::NAME,
            self.coef.view(),
            self.intercept.view(),
            self.classes.len(),
        )
    }
}

impl Predictor for LinearSvcModel {
    fn predict_into(&self, x: ArrayView2<'_, f64>, out: &mut [f64]) -> Result<()> {
        self.batch_into(x, out, true)
    }

    /// Allocation-free; the same sums as the batch path.
    fn predict_row_into(&self, row: &[f64], out: &mut [f64]) -> Result<()> {
        self.check_row(row, out.len(), 1)?;
        let class = self.class_of(row);
        if let Some(o) = out.first_mut() {
            *o = class;
        }
        Ok(())
    }
}

/// The decision function: one column for two classes, one per class otherwise.
impl ScorePredictor for LinearSvcModel {
    fn n_scores(&self) -> usize {
        self.coef.nrows()
    }

    fn score_into(&self, x: ArrayView2<'_, f64>, out: &mut [f64]) -> Result<()> {
        self.batch_into(x, out, false)
    }

    /// Allocation-free; the same sums as the batch path.
    fn score_row_into(&self, row: &[f64], out: &mut [f64]) -> Result<()> {
        self.check_row(row, out.len(), self.coef.nrows())?;
        for (c, o) in out.iter_mut().enumerate() {
            *o = self.score(row, c);
        }
        Ok(())
    }
}

/// The classes only: a linear SVM has no probabilities (every `predict_proba*` call is
/// [`Error::Unsupported`]); the view exists because classifiers expose their classes here.
impl ProbabilisticPredictor for LinearSvcModel {
    fn n_classes(&self) -> usize {
        self.classes.len()
    }

    fn classes(&self) -> &[String] {
        &self.classes
    }

    fn predict_proba_into(&self, _x: ArrayView2<'_, f64>, _out: &mut [f64]) -> Result<()> {
        Err(no_probabilities())
    }

    fn predict_proba_row_into(&self, _row: &[f64], _out: &mut [f64]) -> Result<()> {
        Err(no_probabilities())
    }
}

fn no_probabilities() -> Error {
    Error::Unsupported(format!(
        "{} has no probabilities; use the decision function (score output)",
        LinearSvc::NAME
    ))
}

impl Outputs for LinearSvcModel {
    fn as_probabilistic(&self) -> Option<&dyn ProbabilisticPredictor> {
        Some(self)
    }

    fn has_probabilities(&self) -> bool {
        false
    }

    fn as_scorer(&self) -> Option<&dyn ScorePredictor> {
        Some(self)
    }
}
