//! Ordinary least squares (`linear_regression`), solved by SVD and refined to full accuracy.
//!
//! The solver never forms `XᵀX`. With `fit_intercept` the columns are centred on their
//! (weighted) means and the rows scaled by `√w`, as scikit-learn does; the centred matrix is
//! decomposed by a thin SVD (faer, see [`crate::common::linalg`]), singular values below
//! `eps · max(n, p) · s_max` are treated as zero (numpy's `lstsq` default `rcond`), and the
//! minimum-norm solution is returned, so rank-deficient designs give numpy's / scikit-learn's
//! answer.
//!
//! When the design has full column rank, the SVD solution is then refined by iterative
//! refinement of the augmented system `[I A; Aᵀ 0]·[r; β] = [y; 0]` (Björck), with the
//! residuals `y − r − Aβ` and `Aᵀr` accumulated in twice the working precision (error-free
//! products and sums). A backward-stable solver alone loses about `cond(A)²·eps` when the
//! residual is large; the refinement recovers the digits, so that the NIST StRD problems
//! (Longley, Wampler 1–5, Filip) match their certified values to 10+ significant digits.
//!
//! A design that is numerically rank deficient by that cutoff is decomposed a second time with
//! its columns scaled to unit norm. If the equilibrated design has full rank, the least-squares
//! solution is unique and is computed (and refined) in that basis, and `rank` reports full
//! rank: this is how the degree-10 polynomial of NIST's Filip (condition 1.4e15 centred, 3.8e9
//! equilibrated) reaches its certified digits, where numpy's `lstsq` and scikit-learn truncate
//! a singular value and return a different, minimum-norm fit. A design that stays deficient
//! after equilibration (duplicate or constant columns) gets numpy's minimum-norm solution.
//!
//! ```
//! use amlis::data::DenseDataset;
//! use amlis::models::linear::{LinearRegression};
//! use amlis::traits::{Predictor, Trainer};
//! use ndarray::array;
//!
//! let x = array![[0.0], [1.0], [2.0], [3.0]];
//! let y = array![1.0, 3.0, 5.0, 7.0];
//! let model = LinearRegression::default().fit(&DenseDataset::regression(x.clone(), y)?)?;
//! assert!((model.coef[0] - 2.0).abs() < 1e-12 && (model.intercept - 1.0).abs() < 1e-12);
//! assert!((model.predict(x.view())?[3] - 7.0).abs() < 1e-12);
//! # Ok::<(), amlis::Error>(())
//! ```

use ndarray::{Array1, ArrayView1, ArrayView2};
use serde::{Deserialize, Serialize};

use crate::common::linalg::{self, ThinSvd};
use crate::error::Result;
use crate::models::kit::setters;
use crate::models::linear::prep::{self, block_sum, Offsets};
use crate::traits::{Dataset, FitContext, Trainer};

/// Ordinary least squares: minimizes `Σ w_i (y_i − x_iᵀβ − b)²`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LinearRegression {
    /// Whether to fit an intercept (else the model goes through the origin).
    pub fit_intercept: bool,
}

impl Default for LinearRegression {
    fn default() -> Self {
        Self {
            fit_intercept: true,
        }
    }
}

setters!(LinearRegression {
    fit_intercept: bool
});

/// A fitted least-squares model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinearRegressionModel {
    /// One coefficient per feature.
    pub coef: Array1<f64>,
    /// The intercept (0 without `fit_intercept`).
    pub intercept: f64,
    /// The numerical rank of the (centred, weighted) design.
    pub rank: usize,
    /// The singular values of the (centred, weighted) design, non-increasing.
    pub singular_values: Array1<f64>,
}

prep::linear_regressor!(LinearRegressionModel, LinearRegression);

impl Trainer for LinearRegression {
    const NAME: &'static str = "linear_regression";
    type Model = LinearRegressionModel;

    fn fit_with(&self, data: &dyn Dataset, ctx: &FitContext<'_>) -> Result<Self::Model> {
        let input = prep::regression_input(data, Self::NAME, self.fit_intercept)?;
        let fit_intercept = self.fit_intercept;
        ctx.install(|| {
            let w = input.w.as_ref().map(|w| w.view());
            let c =
                prep::center_scale_with(input.x.view(), input.y.view(), w, input.offsets.clone());
            lstsq_centered(input.x.view(), input.y.view(), c, fit_intercept)
        })?
    }
}

/// The minimum-norm weighted least-squares fit (see the module documentation).
pub fn lstsq(
    x: ArrayView2<'_, f64>,
    y: ArrayView1<'_, f64>,
    w: Option<ArrayView1<'_, f64>>,
    fit_intercept: bool,
) -> Result<LinearRegressionModel> {
    let c = prep::center_scale(x, y, w, fit_intercept);
    lstsq_centered(x, y, c, fit_intercept)
}

fn lstsq_centered(
    x: ArrayView2<'_, f64>,
    y: ArrayView1<'_, f64>,
    c: prep::Centered,
    fit_intercept: bool,
) -> Result<LinearRegressionModel> {
    let (n, p) = x.dim();
    let svd = linalg::thin_svd(c.x.view())?;
    let singular_values = svd.s.clone();
    let mut rank = numerical_rank(&svd.s, n, p);
    let mut basis = Basis { svd, d: None };
    if rank < p && n > p {
        // Numerically rank deficient as given: look again with every column scaled to unit
        // norm. When the equilibrated design has full rank, the solution is unique and the
        // equilibrated basis finds it (Filip's centred design has condition 1.4e15, 3.8e9
        // once equilibrated). Otherwise the minimum-norm solution of the design as given
        // stands, as numpy's lstsq computes it.
        if let Some(scaled) = Basis::equilibrated(c.x.view())? {
            if numerical_rank(&scaled.svd.s, n, p) == p {
                rank = p;
                basis = scaled;
            }
        }
    }
    let mut coef = basis.solve(rank, c.y.view());
    let mut intercept = if fit_intercept {
        prep::intercept(&c.offsets, coef.view())
    } else {
        0.0
    };
    if rank == p && n > p && rank > 0 {
        let scale = c.row_scale.as_ref().map(|s| s.view());
        refine(
            x,
            y,
            scale,
            &basis,
            &c.offsets,
            fit_intercept,
            &mut coef,
            &mut intercept,
        );
    }
    Ok(LinearRegressionModel {
        coef,
        intercept,
        rank,
        singular_values,
    })
}

/// The number of singular values above numpy's `lstsq` cutoff `eps · max(n, p) · s_max`.
fn numerical_rank(s: &Array1<f64>, n: usize, p: usize) -> usize {
    let smax = s.first().copied().unwrap_or(0.0);
    let cutoff = f64::EPSILON * n.max(p) as f64 * smax;
    s.iter().filter(|&&v| v > cutoff).count()
}

/// A factorization of the centred design `A` used as its approximate inverse:
/// `A·D = U·diag(s)·Vᵀ`, with `D = diag(d)` a column scaling (the identity when `d` is `None`).
struct Basis {
    svd: ThinSvd,
    d: Option<Array1<f64>>,
}

impl Basis {
    /// The SVD of `a` with its columns scaled to unit Euclidean norm, or `None` when a column
    /// is zero (a constant feature after centring, which no scaling can make independent).
    fn equilibrated(a: ArrayView2<'_, f64>) -> Result<Option<Self>> {
        let norms: Array1<f64> = a.columns().into_iter().map(|c| c.dot(&c).sqrt()).collect();
        if norms.iter().any(|&v| v == 0.0 || !v.is_finite()) {
            return Ok(None);
        }
        let d = norms.mapv(|v| 1.0 / v);
        let svd = linalg::thin_svd((&a * &d).view())?;
        Ok(Some(Self { svd, d: Some(d) }))
    }

    /// `D·v`.
    fn scale(&self, v: Array1<f64>) -> Array1<f64> {
        match &self.d {
            Some(d) => v * d,
            None => v,
        }
    }

    /// The minimum-norm solution of `A·β ≈ b` over the leading `rank` singular triplets.
    fn solve(&self, rank: usize, b: ArrayView1<'_, f64>) -> Array1<f64> {
        self.scale(svd_solve(&self.svd, rank, b))
    }
}

/// `V[:, :rank]·diag(1/s)·U[:, :rank]ᵀ·b`.
fn svd_solve(svd: &ThinSvd, rank: usize, b: ArrayView1<'_, f64>) -> Array1<f64> {
    let p = svd.v.nrows();
    let mut coef = Array1::<f64>::zeros(p);
    for k in 0..rank {
        let t = svd.u.column(k).dot(&b) / svd.s[k];
        coef.scaled_add(t, &svd.v.column(k));
    }
    coef
}

/// A double-double accumulator: an unevaluated sum `hi + lo` (Ogita–Rump–Oishi `Dot2`).
#[derive(Debug, Clone, Copy, Default)]
struct Dd {
    hi: f64,
    lo: f64,
}

impl Dd {
    #[inline]
    fn two_sum(a: f64, b: f64) -> (f64, f64) {
        let s = a + b;
        let bb = s - a;
        (s, (a - (s - bb)) + (b - bb))
    }
    #[inline]
    fn add(&mut self, v: f64) {
        let (s, e) = Self::two_sum(self.hi, v);
        self.hi = s;
        self.lo += e;
    }
    #[inline]
    fn add_prod(&mut self, a: f64, b: f64) {
        let p = a * b;
        let e = a.mul_add(b, -p);
        self.add(p);
        self.lo += e;
    }
    fn value(self) -> f64 {
        self.hi + self.lo
    }
}

/// Iterative refinement of the augmented system, in the raw (uncentred) parametrization
/// `A = diag(s)·[1 X]` (or `diag(s)·X` without intercept), using the centred (and possibly
/// column-scaled, see [`Basis`]) SVD as the approximate solver: with `B = [s, A_c]`, `A = B·T`, `T = [[1, x̄ᵀ], [0, I]]`, and
/// `B = U_b·diag(S_b)·V_bᵀ` where `U_b = [s/‖s‖, U]`, `S_b = [‖s‖, S]`.
#[allow(clippy::too_many_arguments)]
fn refine(
    x: ArrayView2<'_, f64>,
    y: ArrayView1<'_, f64>,
    s: Option<ArrayView1<'_, f64>>,
    basis: &Basis,
    off: &Offsets,
    fit_intercept: bool,
    coef: &mut Array1<f64>,
    intercept: &mut f64,
) {
    let (n, p) = x.dim();
    let svd = &basis.svd;
    let si = |i: usize| s.map_or(1.0, |s| s[i]);
    let s_norm = if fit_intercept {
        (0..n).map(|i| si(i) * si(i)).sum::<f64>().sqrt()
    } else {
        1.0
    };
    // Residual r = s∘y − A·β, computed in double-double.
    let residual_f = |coef: &Array1<f64>, b0: f64, r: Option<&Array1<f64>>| -> Array1<f64> {
        let mut f = Array1::<f64>::zeros(n);
        let cs = coef.to_vec();
        let chunks: Vec<(usize, Vec<f64>)> = {
            use rayon::prelude::*;
            (0..n.div_ceil(prep::ROW_BLOCK))
                .into_par_iter()
                .map(|b| {
                    let start = b * prep::ROW_BLOCK;
                    let end = (start + prep::ROW_BLOCK).min(n);
                    let v = (start..end)
                        .map(|i| {
                            let sc = si(i);
                            let mut acc = Dd::default();
                            acc.add_prod(sc, y[i]);
                            if fit_intercept {
                                acc.add_prod(-sc, b0);
                            }
                            for (xij, cj) in x.row(i).iter().zip(&cs) {
                                acc.add_prod(-(sc * xij), *cj);
                            }
                            if let Some(r) = r {
                                acc.add(-r[i]);
                            }
                            acc.value()
                        })
                        .collect();
                    (start, v)
                })
                .collect()
        };
        for (start, v) in chunks {
            for (k, val) in v.into_iter().enumerate() {
                f[start + k] = val;
            }
        }
        f
    };
    let original = (coef.clone(), *intercept);
    let mut b0 = *intercept;
    let mut r = residual_f(coef, b0, None);
    let q = p + usize::from(fit_intercept);
    for _ in 0..8 {
        let f = residual_f(coef, b0, Some(&r));
        // g = −Aᵀ r in double-double, reduced over fixed row blocks in order.
        let parts = block_sum(n, 2 * q, |rows, acc| {
            let mut dd = vec![Dd::default(); q];
            for i in rows {
                let sc = si(i);
                let ri = r[i];
                if fit_intercept {
                    dd[p].add_prod(-sc, ri);
                }
                for (j, xij) in x.row(i).iter().enumerate() {
                    dd[j].add_prod(-(sc * xij), ri);
                }
            }
            for (k, d) in dd.iter().enumerate() {
                acc[2 * k] = d.hi;
                acc[2 * k + 1] = d.lo;
            }
        });
        let g: Vec<f64> = (0..q).map(|k| parts[2 * k] + parts[2 * k + 1]).collect();
        // gB = T⁻ᵀ g.
        let g0 = if fit_intercept { g[p] } else { 0.0 };
        let gb: Array1<f64> = Array1::from_shape_fn(p, |j| g[j] - off.x[j] * g0);
        // Projections of f on the basis U_b.
        let uf: Array1<f64> = svd.u.t().dot(&f);
        let uf0 = if fit_intercept {
            (0..n).map(|i| si(i) * f[i]).sum::<f64>() / s_norm
        } else {
            0.0
        };
        // t = V_bᵀ gB / S_b.
        let t: Array1<f64> = svd.v.t().dot(&basis.scale(gb)) / &svd.s;
        let t0 = g0 / s_norm;
        // dz = V_b·((U_bᵀ f − t) / S_b).
        let dz: Array1<f64> = basis.scale(svd.v.dot(&((&uf - &t) / &svd.s)));
        let dz0 = (uf0 - t0) / s_norm;
        // dr = U_b t + f − U_b U_bᵀ f.
        let corr = &t - &uf;
        let mut dr = svd.u.dot(&corr) + &f;
        if fit_intercept {
            let c0 = (t0 - uf0) / s_norm;
            for i in 0..n {
                dr[i] += si(i) * c0;
            }
        }
        let db0 = dz0 - off.x.dot(&dz);
        let step = dz.iter().map(|v| v.abs()).fold(0.0, f64::max);
        let size = coef.iter().map(|v| v.abs()).fold(0.0, f64::max);
        *coef += &dz;
        if fit_intercept {
            b0 += db0;
        }
        r += &dr;
        if step.is_nan() || step <= f64::EPSILON * size {
            break;
        }
    }
    if coef.iter().all(|v| v.is_finite()) && b0.is_finite() {
        if fit_intercept {
            *intercept = b0;
        }
    } else {
        (*coef, *intercept) = original;
    }
}

/// A linear regressor writes values only.
impl crate::traits::Outputs for LinearRegressionModel {}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn exact_line_and_min_norm() {
        let x = array![[1.0, 1.0], [2.0, 2.0], [3.0, 3.0]];
        let y = array![2.0, 4.0, 6.0];
        let m = lstsq(x.view(), y.view(), None, false).unwrap();
        assert_eq!(m.rank, 1);
        assert!((m.coef[0] - 1.0).abs() < 1e-12 && (m.coef[1] - 1.0).abs() < 1e-12);
    }

    #[test]
    fn equilibration_recovers_badly_scaled_full_rank_design() {
        // The second column is 1e-15 times the scale of the first: numpy's cutoff
        // eps·max(n, p)·s_max drops its singular value, yet the solution is unique.
        let n = 40;
        let x = ndarray::Array2::from_shape_fn((n, 2), |(i, j)| {
            let t = i as f64;
            if j == 0 {
                (t * 0.7).sin()
            } else {
                1e-15 * (t * 1.3).cos()
            }
        });
        let y = x.column(0).mapv(|v| 2.0 * v) + x.column(1).mapv(|v| 5e15 * v) + 1.5;
        let m = lstsq(x.view(), y.view(), None, true).unwrap();
        assert_eq!(m.rank, 2);
        assert!((m.coef[0] - 2.0).abs() < 1e-12, "{}", m.coef[0]);
        assert!((m.coef[1] / 5e15 - 1.0).abs() < 1e-12, "{}", m.coef[1]);
        assert!((m.intercept - 1.5).abs() < 1e-12);
        // The reported singular values stay those of the centred design itself.
        assert!(m.singular_values[1] < 1e-13 * m.singular_values[0]);
    }
}
