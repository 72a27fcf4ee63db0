//! Lasso and elastic net (`lasso`, `elastic_net`) by coordinate descent, as scikit-learn's
//! `enet_coordinate_descent`.
//!
//! The objective is exactly scikit-learn's:
//!
//! `1/(2·n)·‖y − Xβ − b‖² + alpha·l1_ratio·‖β‖₁ + ½·alpha·(1 − l1_ratio)·‖β‖²`
//!
//! With sample weights, the weights are first rescaled to sum to `n` and the squared loss
//! becomes `Σ w_i (…)² / (2·n)` (scikit-learn's handling); the intercept comes from the
//! weighted means (see [`crate::models::linear::prep`]).
//!
//! The solver minimizes `n` times the objective, one coordinate at a time, keeping the residual
//! (or, with a precomputed Gram matrix, `Xᵀ X β`) updated in place. After an epoch whose largest
//! coefficient change is at most `tol` times the largest coefficient, it computes the duality
//! gap; it stops when the gap is at most `tol·‖y‖²` (the centred, weighted `y`). Gap-safe
//! screening drops features proven to be zero at the optimum. `n_iter`, the final duality gap
//! (divided by `n`, as scikit-learn's `dual_gap_`) and whether it converged are in the model.
//!
//! [`Precompute::Auto`] (the default) uses the Gram formulation when `n > 2·p`: one blocked,
//! parallel `Xᵀ X` (see [`crate::common::linalg::weighted_gram`]), after which every epoch costs `O(p²)`
//! instead of `O(n·p)`. The optimum is the same.
//!
//! ```
//! use amlis::data::DenseDataset;
//! use amlis::models::linear::Lasso;
//! use amlis::traits::Trainer;
//! use ndarray::{Array1, Array2};
//!
//! // y depends on the first two of four features.
//! let x = Array2::from_shape_fn((50, 4), |(i, j)| ((i * (j + 3)) % 7) as f64 - 3.0);
//! let y = Array1::from_shape_fn(50, |i| 2.0 * x[[i, 0]] - x[[i, 1]]);
//! let model = Lasso::default().alpha(0.5).fit(&DenseDataset::regression(x, y)?)?;
//! assert!(model.converged);
//! assert!(model.coef.iter().any(|&c| c == 0.0)); // the L1 penalty zeroes some coefficients
//! # Ok::<(), amlis::Error>(())
//! ```

use ndarray::{Array1, Array2, ArrayView1, ArrayView2};
use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::common::linalg;
use crate::common::rng::ChaCha8Rng;
use crate::error::{Error, Result};
use crate::models::kit::setters;
use crate::models::linear::prep::{self, axpy, dot, Offsets};
use crate::traits::{Control, Dataset, FitContext, FitEvent, Trainer};

/// The order in which coordinates are updated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Selection {
    /// Features in order, every epoch.
    #[default]
    Cyclic,
    /// A random feature (with replacement) at each step, from the seed.
    Random,
}

/// Whether to precompute the Gram matrix `Xᵀ X` (scikit-learn's `precompute`: `true`, `false`
/// or `"auto"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(try_from = "PrecomputeRepr", into = "PrecomputeRepr")]
pub enum Precompute {
    /// Gram matrix when `n_samples > 2 · n_features`.
    #[default]
    Auto,
    /// Always.
    True,
    /// Never (coordinate descent on the residual).
    False,
}

#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum PrecomputeRepr {
    Flag(bool),
    Name(String),
}

impl TryFrom<PrecomputeRepr> for Precompute {
    type Error = String;
    fn try_from(r: PrecomputeRepr) -> std::result::Result<Self, String> {
        match r {
            PrecomputeRepr::Flag(true) => Ok(Precompute::True),
            PrecomputeRepr::Flag(false) => Ok(Precompute::False),
            PrecomputeRepr::Name(s) if s == "auto" => Ok(Precompute::Auto),
            PrecomputeRepr::Name(s) => Err(format!(
                "invalid precompute `{s}`: expected true, false or \"auto\""
            )),
        }
    }
}

impl From<Precompute> for PrecomputeRepr {
    fn from(p: Precompute) -> Self {
        match p {
            Precompute::Auto => PrecomputeRepr::Name("auto".into()),
            Precompute::True => PrecomputeRepr::Flag(true),
            Precompute::False => PrecomputeRepr::Flag(false),
        }
    }
}

/// Defines [`ElasticNet`] and [`Lasso`] from one list of the fields they share (after
/// `alpha`, and `l1_ratio` for the elastic net), with their defaults: same JSON keys in the
/// same order as scikit-learn's parameters.
macro_rules! cd_params {
    ($($(#[$doc:meta])* $field:ident: $ty:ty = $default:expr,)*) => {
        /// Elastic-net hyperparameters (scikit-learn names and defaults).
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        #[serde(deny_unknown_fields, default)]
        pub struct ElasticNet {
            /// The penalty strength, `>= 0`.
            pub alpha: f64,
            /// The L1 share of the penalty, in `[0, 1]` (1 = lasso, 0 = ridge).
            pub l1_ratio: f64,
            $($(#[$doc])* pub $field: $ty,)*
        }

        impl Default for ElasticNet {
            fn default() -> Self {
                Self {
                    alpha: 1.0,
                    l1_ratio: 0.5,
                    $($field: $default,)*
                }
            }
        }

        /// Lasso hyperparameters: an [`ElasticNet`] with `l1_ratio = 1` (scikit-learn names
        /// and defaults).
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        #[serde(deny_unknown_fields, default)]
        pub struct Lasso {
            /// The penalty strength, `>= 0`.
            pub alpha: f64,
            $($(#[$doc])* pub $field: $ty,)*
        }

        impl Default for Lasso {
            fn default() -> Self {
                let e = ElasticNet::default();
                Self {
                    alpha: e.alpha,
                    $($field: e.$field,)*
                }
            }
        }

        setters!(ElasticNet { alpha: f64, l1_ratio: f64, $($field: $ty),* });
        setters!(Lasso { alpha: f64, $($field: $ty),* });

        impl Lasso {
            /// The equivalent elastic net (`l1_ratio = 1`).
            pub fn to_elastic_net(&self) -> ElasticNet {
                ElasticNet {
                    alpha: self.alpha,
                    l1_ratio: 1.0,
                    $($field: self.$field,)*
                }
            }
        }
    };
}

cd_params! {
    /// Whether to fit an intercept.
    fit_intercept: bool = true,
    /// Whether to precompute the Gram matrix.
    precompute: Precompute = Precompute::Auto,
    /// The maximum number of epochs, `>= 1`.
    max_iter: usize = 1000,
    /// The tolerance on the duality gap (relative to `‖y‖²`), `>= 0`.
    tol: f64 = 1e-4,
    /// Whether [`fit_warm`](ElasticNet::fit_warm) starts from the previous model's
    /// coefficients.
    warm_start: bool = false,
    /// Whether to constrain the coefficients to be non-negative.
    positive: bool = false,
    /// The seed for `selection = "random"` (default: the fit context's seed).
    random_state: Option<u64> = None,
    /// The coordinate order.
    selection: Selection = Selection::Cyclic,
}

/// A fitted lasso / elastic-net model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ElasticNetModel {
    /// One coefficient per feature.
    pub coef: Array1<f64>,
    /// The intercept (0 without `fit_intercept`).
    pub intercept: f64,
    /// The number of coordinate-descent epochs run (0 if the start was already optimal).
    pub n_iter: usize,
    /// The final duality gap, on the scale of the objective (scikit-learn's `dual_gap_`).
    pub dual_gap: f64,
    /// Whether the duality gap reached the tolerance.
    pub converged: bool,
}

prep::linear_regressor!(ElasticNetModel, ElasticNet);

impl ElasticNet {
    /// Checks the hyperparameters.
    pub fn validate(&self) -> Result<()> {
        if !(self.alpha.is_finite() && self.alpha >= 0.0) {
            return Err(Error::param("alpha", self.alpha, "a finite number >= 0"));
        }
        if !(0.0..=1.0).contains(&self.l1_ratio) {
            return Err(Error::param(
                "l1_ratio",
                self.l1_ratio,
                "a number in [0, 1]",
            ));
        }
        if self.max_iter == 0 {
            return Err(Error::param("max_iter", self.max_iter, "an integer >= 1"));
        }
        if !(self.tol.is_finite() && self.tol >= 0.0) {
            return Err(Error::param("tol", self.tol, "a finite number >= 0"));
        }
        Ok(())
    }

    /// The name of this fit in errors and callback stages: `lasso` when `l1_ratio` is 1.
    fn stage(&self) -> &'static str {
        if self.l1_ratio == 1.0 {
            Lasso::NAME
        } else {
            Self::NAME
        }
    }

    /// Fits starting from `previous`'s coefficients when `warm_start` is true (scikit-learn's
    /// warm start); from zero otherwise.
    pub fn fit_warm(
        &self,
        data: &dyn Dataset,
        ctx: &FitContext<'_>,
        previous: &ElasticNetModel,
    ) -> Result<ElasticNetModel> {
        self.validate()?;
        if previous.coef.len() != data.n_features() {
            return Err(Error::shape(
                &format!("{} warm start", Self::NAME),
                format!("{} coefficients", data.n_features()),
                previous.coef.len(),
            ));
        }
        let init = self.warm_start.then(|| previous.coef.view());
        self.fit_from(data, ctx, init)
    }

    fn fit_from(
        &self,
        data: &dyn Dataset,
        ctx: &FitContext<'_>,
        init: Option<ArrayView1<'_, f64>>,
    ) -> Result<ElasticNetModel> {
        let stage = self.stage();
        let input = prep::regression_input(data, stage, self.fit_intercept)?;
        ctx.install(|| {
            let w = input.w.as_ref().map(|w| w.view());
            let mut problem =
                CdProblem::new(input.x.view(), input.y.view(), w, &input.offsets, self)?;
            let mut coef = match init {
                Some(c) => c.to_owned(),
                None => Array1::zeros(problem.p),
            };
            let seed = self.random_state.unwrap_or(ctx.seed());
            let out = problem.solve(
                coef.as_slice_mut().unwrap_or(&mut []),
                self,
                self.alpha,
                seed,
                ctx,
            )?;
            Ok(problem.model(coef, out))
        })?
    }
}

impl Trainer for ElasticNet {
    const NAME: &'static str = "elastic_net";
    type Model = ElasticNetModel;

    fn fit_with(&self, data: &dyn Dataset, ctx: &FitContext<'_>) -> Result<ElasticNetModel> {
        self.validate()?;
        self.fit_from(data, ctx, None)
    }
}

impl Trainer for Lasso {
    const NAME: &'static str = "lasso";
    type Model = ElasticNetModel;

    fn fit_with(&self, data: &dyn Dataset, ctx: &FitContext<'_>) -> Result<ElasticNetModel> {
        self.to_elastic_net().fit_with(data, ctx)
    }
}

/// The state a coordinate-descent run works on: either the residual `R = y − Xβ` of the
/// centred data, or the Gram matrix and `H = Qβ`.
enum Design {
    Dense {
        /// Centred, scaled features, column-major, `n × p`.
        x: Array2<f64>,
        y: Array1<f64>,
        r: Vec<f64>,
    },
    Gram {
        q: Array2<f64>,
        xty: Array1<f64>,
        h: Vec<f64>,
    },
}

struct CdProblem {
    n: usize,
    p: usize,
    design: Design,
    norms: Vec<f64>,
    yty: f64,
    offsets: Offsets,
    fit_intercept: bool,
}

struct CdOutcome {
    n_iter: usize,
    gap: f64,
    converged: bool,
}

impl CdProblem {
    fn new(
        x: ArrayView2<'_, f64>,
        y: ArrayView1<'_, f64>,
        w: Option<ArrayView1<'_, f64>>,
        offsets: &Offsets,
        params: &ElasticNet,
    ) -> Result<Self> {
        let (n, p) = x.dim();
        // Weights rescaled to sum to n (scikit-learn).
        let w = w.map(|w| {
            let s = w.sum();
            w.mapv(|v| v * n as f64 / s)
        });
        let wv = w.as_ref().map(|w| w.view());
        let use_gram = match params.precompute {
            Precompute::True => true,
            Precompute::False => false,
            Precompute::Auto => n > 2 * p,
        };
        if use_gram {
            let offsets = offsets.clone();
            let scale = prep::row_scale(wv);
            let g = linalg::weighted_gram(
                x,
                y,
                offsets.x.view(),
                offsets.y,
                scale.as_ref().map(|s| s.view()),
            )?;
            let norms = (0..p).map(|j| g.xtx[[j, j]]).collect();
            Ok(Self {
                n,
                p,
                design: Design::Gram {
                    q: g.xtx,
                    xty: g.xty,
                    h: vec![0.0; p],
                },
                norms,
                yty: g.yty,
                offsets,
                fit_intercept: params.fit_intercept,
            })
        } else {
            let c = prep::center_scale_with(x, y, wv, offsets.clone());
            let norms = c.x.columns().into_iter().map(|col| col.dot(&col)).collect();
            let yty = c.y.dot(&c.y);
            Ok(Self {
                n,
                p,
                design: Design::Dense {
                    r: c.y.to_vec(),
                    x: c.x,
                    y: c.y,
                },
                norms,
                yty,
                offsets: c.offsets,
                fit_intercept: params.fit_intercept,
            })
        }
    }

    fn col(x: &Array2<f64>, j: usize) -> &[f64] {
        let n = x.nrows();
        x.as_slice_memory_order()
            .and_then(|s| s.get(j * n..(j + 1) * n))
            .unwrap_or(&[])
    }

    /// Resets the residual state for coefficients `w`.
    fn reset(&mut self, w: &[f64]) {
        match &mut self.design {
            Design::Dense { x, y, r } => {
                r.copy_from_slice(y.as_slice().unwrap_or(&[]));
                for (j, &wj) in w.iter().enumerate() {
                    if wj != 0.0 {
                        axpy(-wj, Self::col(x, j), r);
                    }
                }
            }
            Design::Gram { q, h, .. } => {
                for (i, hi) in h.iter_mut().enumerate() {
                    *hi = q.row(i).iter().zip(w).map(|(a, b)| a * b).sum();
                }
            }
        }
    }

    /// `X_jᵀ R`.
    #[inline]
    fn xtr(&self, j: usize) -> f64 {
        match &self.design {
            Design::Dense { x, r, .. } => dot(Self::col(x, j), r),
            Design::Gram { xty, h, .. } => xty[j] - h[j],
        }
    }

    /// Applies `β_j += delta`.
    #[inline]
    fn update(&mut self, j: usize, delta: f64) {
        match &mut self.design {
            Design::Dense { x, r, .. } => axpy(-delta, Self::col(x, j), r),
            Design::Gram { q, h, .. } => {
                let n = q.nrows();
                if let Some(col) = q
                    .as_slice_memory_order()
                    .and_then(|s| s.get(j * n..(j + 1) * n))
                {
                    axpy(delta, col, h);
                }
            }
        }
    }

    /// `(‖R‖², Rᵀy)` for coefficients `w`.
    fn residual_terms(&self, w: &[f64]) -> (f64, f64) {
        match &self.design {
            Design::Dense { y, r, .. } => (dot(r, r), dot(r, y.as_slice().unwrap_or(&[]))),
            Design::Gram { xty, h, .. } => {
                let wq = dot(w, xty.as_slice().unwrap_or(&[]));
                let wh = dot(w, h);
                ((self.yty - 2.0 * wq + wh).max(0.0), self.yty - wq)
            }
        }
    }

    /// The duality gap (scikit-learn's `gap_enet`) and `‖XᵀR − βw‖∞`; fills `xta`.
    fn gap(&self, w: &[f64], l1: f64, l2: f64, positive: bool, xta: &mut [f64]) -> (f64, f64) {
        let (r_norm2, ry) = self.residual_terms(w);
        let w_l2 = if l2 > 0.0 { dot(w, w) } else { 0.0 };
        for (j, v) in xta.iter_mut().enumerate() {
            *v = self.xtr(j);
        }
        if l1 == 0.0 {
            let dual = dot(xta, xta);
            if l2 == 0.0 {
                return (dual, dual);
            }
            return (r_norm2 + 0.5 * l2 * w_l2 - ry + dual / (2.0 * l2), dual);
        }
        for (v, wj) in xta.iter_mut().zip(w) {
            *v -= l2 * wj;
        }
        let dual_norm = if positive {
            xta.iter().copied().fold(f64::NEG_INFINITY, f64::max)
        } else {
            xta.iter().fold(0.0f64, |m, v| m.max(v.abs()))
        };
        let w_l1: f64 = w.iter().map(|v| v.abs()).sum();
        let primal = 0.5 * (r_norm2 + l2 * w_l2) + l1 * w_l1;
        let scale = if dual_norm > l1 { l1 / dual_norm } else { 1.0 };
        let dual = -0.5 * scale * scale * (r_norm2 + l2 * w_l2) + scale * ry;
        (primal - dual, dual_norm)
    }

    /// Gap-safe screening (Fercoq et al. 2015): keeps in `active` the features that may be
    /// non-zero at the optimum, and zeroes the others.
    #[allow(clippy::too_many_arguments)]
    fn screen(
        &mut self,
        w: &mut [f64],
        xta: &[f64],
        dual_norm: f64,
        gap: f64,
        l1: f64,
        l2: f64,
        excluded: &mut [bool],
        active: &mut Vec<usize>,
    ) {
        active.clear();
        let radius = (2.0 * gap).sqrt() / l1;
        for j in 0..self.p {
            if excluded[j] {
                continue;
            }
            if self.norms[j] == 0.0 {
                w[j] = 0.0;
                excluded[j] = true;
                continue;
            }
            let xj_theta = xta[j] / l1.max(dual_norm);
            let d_j = (1.0 - xj_theta.abs()) / (self.norms[j] + l2).sqrt();
            if d_j <= radius {
                active.push(j);
            } else {
                if w[j] != 0.0 {
                    let old = w[j];
                    w[j] = 0.0;
                    self.update(j, -old);
                }
                excluded[j] = true;
            }
        }
    }

    /// Runs coordinate descent from `w` at penalty `alpha`.
    fn solve(
        &mut self,
        w: &mut [f64],
        params: &ElasticNet,
        alpha: f64,
        seed: u64,
        ctx: &FitContext<'_>,
    ) -> Result<CdOutcome> {
        let n = self.n as f64;
        let l1 = alpha * params.l1_ratio * n;
        let l2 = alpha * (1.0 - params.l1_ratio) * n;
        let positive = params.positive;
        let tol = params.tol * self.yty;
        let d_w_tol = params.tol;
        let stage = params.stage();
        let mut rng: Option<ChaCha8Rng> =
            (params.selection == Selection::Random).then(|| crate::common::rng::for_task(seed, 0));
        self.reset(w);
        let p = self.p;
        let mut xta = vec![0.0; p];
        let (mut gap, dual_norm) = self.gap(w, l1, l2, positive, &mut xta);
        if gap <= tol {
            return Ok(CdOutcome {
                n_iter: 0,
                gap,
                converged: true,
            });
        }
        let screening = l1 > 0.0;
        let mut excluded = vec![false; p];
        let mut active: Vec<usize> = (0..p).collect();
        if screening {
            self.screen(w, &xta, dual_norm, gap, l1, l2, &mut excluded, &mut active);
        }
        let mut converged = false;
        let mut n_iter = 0;
        for epoch in 0..params.max_iter {
            n_iter = epoch + 1;
            let mut w_max = 0.0f64;
            let mut d_w_max = 0.0f64;
            let n_active = active.len();
            for f in 0..n_active {
                let k = match rng.as_mut() {
                    Some(r) => r.gen_range(0..n_active),
                    None => f,
                };
                let j = active[k];
                let norm = self.norms[j];
                if norm == 0.0 {
                    continue;
                }
                let w_j = w[j];
                let tmp = self.xtr(j) + w_j * norm;
                let new = if positive && tmp < 0.0 {
                    0.0
                } else {
                    tmp.signum() * (tmp.abs() - l1).max(0.0) / (norm + l2)
                };
                let new = if tmp == 0.0 { 0.0 } else { new };
                if new != w_j {
                    w[j] = new;
                    self.update(j, new - w_j);
                }
                d_w_max = d_w_max.max((new - w_j).abs());
                w_max = w_max.max(new.abs());
            }
            let mut gap_now = None;
            if w_max == 0.0 || d_w_max / w_max <= d_w_tol || epoch + 1 == params.max_iter {
                let (g, dual_norm) = self.gap(w, l1, l2, positive, &mut xta);
                gap = g;
                gap_now = Some(g);
                if gap <= tol {
                    converged = true;
                } else if screening {
                    self.screen(w, &xta, dual_norm, gap, l1, l2, &mut excluded, &mut active);
                }
            }
            let gap_value = gap_now.map_or(f64::NAN, |g| g / n);
            let values = [("max_coef_change", d_w_max), ("dual_gap", gap_value)];
            let control = ctx.report(&FitEvent {
                stage,
                iteration: epoch + 1,
                total: Some(params.max_iter),
                values: &values,
            });
            if converged {
                break;
            }
            match control {
                Control::Continue => {}
                Control::Stop => break,
                Control::Cancel => {
                    return Err(Error::Cancelled(format!("{stage} epoch {}", epoch + 1)));
                }
            }
        }
        Ok(CdOutcome {
            n_iter,
            gap,
            converged,
        })
    }

    fn model(&self, coef: Array1<f64>, out: CdOutcome) -> ElasticNetModel {
        let intercept = if self.fit_intercept {
            prep::intercept(&self.offsets, coef.view())
        } else {
            0.0
        };
        ElasticNetModel {
            coef,
            intercept,
            n_iter: out.n_iter,
            dual_gap: out.gap / self.n as f64,
            converged: out.converged,
        }
    }
}

/// The penalties of a regularization path.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PathAlphas {
    /// scikit-learn's `_alpha_grid`: `n_alphas` values spaced evenly on a log scale from
    /// `alpha_max = max_j |X_jᵀ y| / (n · l1_ratio)` (the smallest alpha giving all-zero
    /// coefficients) down to `eps · alpha_max`.
    Grid {
        /// The number of penalties (scikit-learn's default: 100).
        n_alphas: usize,
        /// `alpha_min / alpha_max` (scikit-learn's default: 1e-3).
        eps: f64,
    },
    /// Explicit penalties (sorted into decreasing order before use).
    Values(Vec<f64>),
}

/// A regularization path: one fit per alpha, in decreasing alpha order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegularizationPath {
    /// The penalties, decreasing.
    pub alphas: Vec<f64>,
    /// The coefficients, one row per alpha (`n_alphas × n_features`).
    pub coefs: Array2<f64>,
    /// The intercept per alpha.
    pub intercepts: Vec<f64>,
    /// The final duality gap per alpha (objective scale).
    pub dual_gaps: Vec<f64>,
    /// The epochs run per alpha.
    pub n_iters: Vec<usize>,
}

/// Fits `params` along a path of penalties (its own `alpha` is ignored), each fit starting
/// from the previous solution (warm starts), on data prepared once.
pub fn enet_path(
    data: &dyn Dataset,
    params: &ElasticNet,
    alphas: &PathAlphas,
    ctx: &FitContext<'_>,
) -> Result<RegularizationPath> {
    params.validate()?;
    let input = prep::regression_input(data, "enet_path", params.fit_intercept)?;
    ctx.install(|| {
        let w = input.w.as_ref().map(|w| w.view());
        let mut problem =
            CdProblem::new(input.x.view(), input.y.view(), w, &input.offsets, params)?;
        let p = problem.p;
        let alphas: Vec<f64> = match alphas {
            PathAlphas::Values(v) => {
                if let Some(a) = v.iter().find(|a| !(a.is_finite() && **a >= 0.0)) {
                    return Err(Error::param("alphas", a, "finite numbers >= 0"));
                }
                let mut v = v.clone();
                v.sort_by(|a, b| b.total_cmp(a));
                v
            }
            PathAlphas::Grid { n_alphas, eps } => {
                if *n_alphas == 0 {
                    return Err(Error::param("n_alphas", n_alphas, "an integer >= 1"));
                }
                if !(*eps > 0.0 && eps.is_finite()) {
                    return Err(Error::param("eps", eps, "a finite number > 0"));
                }
                if params.l1_ratio == 0.0 {
                    return Err(Error::param(
                        "l1_ratio",
                        params.l1_ratio,
                        "> 0 for an automatic alpha grid (give explicit alphas instead)",
                    ));
                }
                problem.reset(&vec![0.0; p]);
                let xty_max = (0..p).map(|j| problem.xtr(j).abs()).fold(0.0, f64::max);
                let alpha_max = xty_max / (problem.n as f64 * params.l1_ratio);
                let resolution = 1e-15;
                if alpha_max <= resolution {
                    vec![resolution; *n_alphas]
                } else if *n_alphas == 1 {
                    vec![alpha_max]
                } else {
                    let (lo, hi) = ((alpha_max * eps).ln(), alpha_max.ln());
                    (0..*n_alphas)
                        .map(|k| (hi + (lo - hi) * k as f64 / (*n_alphas - 1) as f64).exp())
                        .collect()
                }
            }
        };
        let mut coefs = Array2::<f64>::zeros((alphas.len(), p));
        let mut intercepts = Vec::with_capacity(alphas.len());
        let mut dual_gaps = Vec::with_capacity(alphas.len());
        let mut n_iters = Vec::with_capacity(alphas.len());
        let mut coef = vec![0.0; p];
        let seed = params.random_state.unwrap_or(ctx.seed());
        for (k, &alpha) in alphas.iter().enumerate() {
            let out = problem.solve(&mut coef, params, alpha, seed.wrapping_add(k as u64), ctx)?;
            let model = problem.model(Array1::from(coef.clone()), out);
            coefs.row_mut(k).assign(&model.coef);
            intercepts.push(model.intercept);
            dual_gaps.push(model.dual_gap);
            n_iters.push(model.n_iter);
        }
        Ok(RegularizationPath {
            alphas,
            coefs,
            intercepts,
            dual_gaps,
            n_iters,
        })
    })?
}

/// A linear regressor writes values only.
impl crate::traits::Outputs for ElasticNetModel {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::DenseDataset;

    #[test]
    fn lasso_and_elastic_net_config_keys_are_sklearn_names() {
        use crate::models::ModelConfig;
        use crate::service::config::TrainConfig;
        let c =
            TrainConfig::from_json(r#"{"model": {"type": "lasso", "alpha": 0.5, "max_iter": 10}}"#)
                .unwrap();
        let ModelConfig::Lasso(l) = c.model else {
            panic!("not a lasso: {:?}", c.model)
        };
        assert_eq!(
            l,
            Lasso {
                alpha: 0.5,
                max_iter: 10,
                ..Lasso::default()
            }
        );
        assert_eq!(l.to_elastic_net().l1_ratio, 1.0);
        assert_eq!(l.to_elastic_net().tol, 1e-4);
        // Lasso has no `l1_ratio`; unknown keys are rejected for both.
        for bad in [
            r#"{"model": {"type": "lasso", "l1_ratio": 0.5}}"#,
            r#"{"model": {"type": "lasso", "alpha": 0.5, "max_iters": 10}}"#,
            r#"{"model": {"type": "elastic_net", "alpha_": 1.0}}"#,
        ] {
            assert!(TrainConfig::from_json(bad).is_err(), "{bad}");
        }
        // Keys in scikit-learn's order, as before the shared definition.
        assert_eq!(
            serde_json::to_string(&Lasso::default()).unwrap(),
            r#"{"alpha":1.0,"fit_intercept":true,"precompute":"auto","max_iter":1000,"tol":0.0001,"warm_start":false,"positive":false,"random_state":null,"selection":"cyclic"}"#
        );
        assert_eq!(
            serde_json::to_string(&ElasticNet::default()).unwrap(),
            r#"{"alpha":1.0,"l1_ratio":0.5,"fit_intercept":true,"precompute":"auto","max_iter":1000,"tol":0.0001,"warm_start":false,"positive":false,"random_state":null,"selection":"cyclic"}"#
        );
    }

    #[test]
    fn dense_and_gram_agree() {
        let x = Array2::from_shape_fn((60, 5), |(i, j)| {
            (((i * 7 + j * 3) % 11) as f64).sin() + j as f64
        });
        let y = Array1::from_shape_fn(60, |i| x[[i, 0]] - 2.0 * x[[i, 3]] + ((i % 5) as f64) * 0.1);
        let data = DenseDataset::regression(x, y).unwrap();
        let base = ElasticNet::default()
            .alpha(0.05)
            .tol(1e-12)
            .max_iter(100_000);
        let a = base
            .clone()
            .precompute(Precompute::True)
            .fit(&data)
            .unwrap();
        let b = base.precompute(Precompute::False).fit(&data).unwrap();
        assert!(a.converged && b.converged);
        for (u, v) in a.coef.iter().zip(&b.coef) {
            assert!((u - v).abs() < 1e-6 * (1.0 + v.abs()), "{u} {v}");
        }
    }

    #[test]
    fn params_validated_and_serde() {
        let data =
            DenseDataset::regression(ndarray::array![[1.0], [2.0]], ndarray::array![1.0, 2.0])
                .unwrap();
        let e = ElasticNet::default().l1_ratio(1.5).fit(&data).unwrap_err();
        assert!(e.to_string().contains("l1_ratio"), "{e}");
        let e = Lasso::default().max_iter(0).fit(&data).unwrap_err();
        assert!(e.to_string().contains("max_iter"), "{e}");
        let l: Lasso = serde_json::from_str(r#"{"alpha": 0.2, "precompute": "auto"}"#).unwrap();
        assert_eq!(l.alpha, 0.2);
        let l: Lasso = serde_json::from_str(r#"{"precompute": false}"#).unwrap();
        assert_eq!(l.precompute, Precompute::False);
        assert!(serde_json::from_str::<Lasso>(r#"{"l1_ratio": 0.2}"#).is_err());
    }
}
