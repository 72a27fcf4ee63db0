//! The training problem every liblinear solver reads: the rows with liblinear's bias column
//! appended, per-row costs, and the solver's report of each outer iteration.

use rand::Rng;

use crate::common::rng::ChaCha8Rng;
use crate::error::{Error, Result};
use crate::traits::{Control, FitContext, FitEvent};

/// Rows of the training matrix, row-major, each followed by the bias value
/// `intercept_scaling` when an intercept is fitted (liblinear's `bias >= 0`): the bias weight
/// is an ordinary, regularized coefficient, exactly as in liblinear.
pub(crate) struct Rows {
    /// `n × d` values.
    pub x: Vec<f64>,
    /// Values per row (features, plus one with a bias column).
    pub d: usize,
}

impl Rows {
    /// Copies the rows of `x` (row-major `n × p`, `p >= 1`) whose `keep` flag is set (the
    /// rows of positive weight: liblinear's `remove_zero_weight`), appending `bias` to each
    /// when it is `Some`.
    pub fn new(x: &[f64], p: usize, keep: &[bool], bias: Option<f64>) -> Self {
        let d = p + usize::from(bias.is_some());
        let mut out = Vec::with_capacity(keep.iter().filter(|k| **k).count() * d);
        for (row, _) in x.chunks_exact(p.max(1)).zip(keep).filter(|(_, k)| **k) {
            out.extend_from_slice(row);
            if let Some(b) = bias {
                out.push(b);
            }
        }
        Self { x: out, d }
    }

    /// The number of rows.
    pub fn n(&self) -> usize {
        self.x.len().checked_div(self.d).unwrap_or(0)
    }

    /// Row `i`.
    #[inline]
    pub fn row(&self, i: usize) -> &[f64] {
        &self.x[i * self.d..(i + 1) * self.d]
    }

    /// The transpose (`d × n`, column `j` contiguous), for the feature-wise solvers.
    pub fn columns(&self) -> Vec<f64> {
        let n = self.n();
        let mut t = vec![0.0; self.x.len()];
        for (i, row) in self.x.chunks_exact(self.d.max(1)).enumerate() {
            for (j, v) in row.iter().enumerate() {
                t[j * n + i] = *v;
            }
        }
        t
    }
}

/// What a solver returns: the weights (bias last), its outer iterations and whether it met
/// its tolerance.
#[derive(Debug, Clone)]
pub(crate) struct Solution {
    pub w: Vec<f64>,
    pub n_iter: usize,
    pub converged: bool,
}

/// A solver's settings: tolerance, iteration cap, its random stream and where it reports.
pub(crate) struct Run<'a> {
    /// The stopping tolerance as the solver reads it.
    pub tol: f64,
    /// The cap on outer iterations.
    pub max_iter: usize,
    /// liblinear's `rand()`: the order of coordinate-descent sweeps.
    pub rng: ChaCha8Rng,
    /// Where the solver reports each outer iteration.
    pub monitor: Monitor<'a>,
}

impl Run<'_> {
    /// A uniform index in `lo..hi` (`hi > lo`).
    #[inline]
    pub fn index(&mut self, lo: usize, hi: usize) -> usize {
        self.rng.gen_range(lo..hi)
    }

    /// Shuffles the first `active` entries of `index` as liblinear does each sweep.
    pub fn shuffle(&mut self, index: &mut [usize], active: usize) {
        for i in 0..active {
            let j = self.index(i, active);
            index.swap(i, j);
        }
    }
}

/// Reports one model's solver iterations to the fit's callback.
pub(crate) struct Monitor<'a> {
    /// The fit's context.
    pub ctx: &'a FitContext<'a>,
    /// The trainer's name (the event stage).
    pub stage: &'static str,
    /// Which one-vs-rest problem (0 for binary and regression).
    pub task: usize,
}

/// Stage of the event sent when a solver stops at `max_iter` without meeting its tolerance
/// (scikit-learn's `ConvergenceWarning`); its values are `task` and `n_iter`.
pub const MAX_ITER_REACHED: &str = "liblinear: max_iter reached without convergence";

impl Monitor<'_> {
    /// Reports iteration `iteration` (1-based) with the solver's stopping measure:
    /// `Ok(true)` to go on, `Ok(false)` when the callback asked to stop.
    pub fn iteration(&self, iteration: usize, total: usize, measure: f64) -> Result<bool> {
        self.progress(iteration, Some(total), measure)
    }

    /// As [`iteration`](Self::iteration), for a solver whose cap may be absent (`total`).
    pub fn progress(&self, iteration: usize, total: Option<usize>, measure: f64) -> Result<bool> {
        let values = [("task", self.task as f64), ("violation", measure)];
        match self.ctx.report(&FitEvent {
            stage: self.stage,
            iteration,
            total,
            values: &values,
        }) {
            Control::Continue => Ok(true),
            Control::Stop => Ok(false),
            Control::Cancel => Err(Error::Cancelled(format!(
                "{} (problem {}) iteration {iteration}",
                self.stage, self.task
            ))),
        }
    }

    /// Sends the [`MAX_ITER_REACHED`] event.
    pub fn max_iter_reached(&self, n_iter: usize) {
        let values = [("task", self.task as f64), ("n_iter", n_iter as f64)];
        // The solver has stopped already: the callback's answer changes nothing.
        let _ = self.ctx.report(&FitEvent {
            stage: MAX_ITER_REACHED,
            iteration: n_iter,
            total: Some(n_iter),
            values: &values,
        });
    }
}

/// Dot product of a row with the weights (the crate's four-accumulator sum).
#[inline]
pub(crate) fn dot(a: &[f64], b: &[f64]) -> f64 {
    crate::models::linear::prep::dot(a, b)
}

/// `w += a·x`.
#[inline]
pub(crate) fn axpy(a: f64, x: &[f64], w: &mut [f64]) {
    crate::models::linear::prep::axpy(a, x, w)
}
