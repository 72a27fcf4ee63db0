//! Expectation-maximisation of a Gaussian mixture, as scikit-learn's `_e_step` / `_m_step`:
//! the weighted log-density of a row under every component (through the precision factors of
//! [`CovarianceType`]), the log-sum-exp that turns them into responsibilities and a
//! log-likelihood, and the re-estimation of the weights, means and covariances from the
//! responsibilities. Both steps run over fixed row blocks in parallel and add the blocks'
//! sums in block order, so their results do not depend on the number of threads. The E-step
//! takes each block's densities from one matrix product (scikit-learn's expansions); the
//! predictions of a fitted model take them row by row ([`Components::weighted_log_prob`]),
//! which agrees with the E-step to rounding.

use rayon::prelude::*;

use super::covariance::CovarianceType;
use crate::common::linalg::{exp_in_place, gemm_abt, gemm_atb_add};
use crate::error::{Error, Result};
use crate::traits::Dataset;

/// Rows per block of the E- and M-steps.
const BLOCK: usize = 256;

/// The parameters of a mixture, flat: `k` weights, `k × p` means (row-major), covariances
/// and precision factors in the covariance type's shape.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Params {
    pub(super) weights: Vec<f64>,
    pub(super) means: Vec<f64>,
    pub(super) covariances: Vec<f64>,
    pub(super) precisions_cholesky: Vec<f64>,
}

/// The components of a mixture as the E-step and the predictions read them: every
/// component's weighted log-density of a row is `offset_j − ½ ‖(x − μ_j)ᵀU_j‖²`.
pub(super) struct Components<'a> {
    pub(super) ct: CovarianceType,
    pub(super) means: &'a [f64],
    pub(super) pc: &'a [f64],
    /// `μ_jᵀ U_j` per component (`full`, `tied`; see [`CovarianceType::mean_factors`]).
    pub(super) factors: &'a [f64],
    pub(super) offsets: &'a [f64],
    pub(super) p: usize,
}

/// `log w_j + ½ log det P_j − ½ p log 2π` of every component.
pub(super) fn offsets(ct: CovarianceType, weights: &[f64], pc: &[f64], p: usize) -> Vec<f64> {
    let norm = 0.5 * p as f64 * (2.0 * std::f64::consts::PI).ln();
    weights
        .iter()
        .enumerate()
        .map(|(j, w)| w.ln() + ct.half_log_det(pc, j, p) - norm)
        .collect()
}

/// `log Σ exp(v)` in one pass (a running maximum, the sum rescaled when it moves), as the
/// E-step, `score_samples` and `predict_proba` all compute it.
pub(super) fn log_sum_exp(values: impl Iterator<Item = f64>) -> f64 {
    let mut max = f64::NEG_INFINITY;
    let mut sum = 0.0;
    for v in values {
        if v == f64::NEG_INFINITY {
            continue;
        }
        if v > max {
            sum = sum * (max - v).exp() + 1.0;
            max = v;
        } else {
            sum += (v - max).exp();
        }
    }
    if max == f64::NEG_INFINITY {
        return max;
    }
    max + sum.ln()
}

impl Components<'_> {
    /// The weighted log-density of `x` under component `j`.
    pub(super) fn weighted_log_prob(&self, x: &[f64], j: usize) -> f64 {
        let part = j * self.p..(j + 1) * self.p;
        let mu = self.means.get(part.clone()).unwrap_or(&[]);
        let mf = self.factors.get(part).unwrap_or(&[]);
        self.offsets.get(j).copied().unwrap_or(f64::NAN)
            - 0.5 * self.ct.sq_mahalanobis(self.pc, j, x, mu, mf)
    }

    pub(super) fn k(&self) -> usize {
        self.offsets.len()
    }

    /// The log-likelihood of `x` (scikit-learn's `score_samples` of one row).
    pub(super) fn log_likelihood(&self, x: &[f64]) -> f64 {
        log_sum_exp((0..self.k()).map(|j| self.weighted_log_prob(x, j)))
    }

    /// The most probable component of `x` (the first on ties).
    pub(super) fn argmax(&self, x: &[f64]) -> usize {
        let mut best = 0;
        let mut best_v = f64::NEG_INFINITY;
        for j in 0..self.k() {
            let v = self.weighted_log_prob(x, j);
            if j == 0 || v > best_v {
                best = j;
                best_v = v;
            }
        }
        best
    }

    /// Writes the responsibilities of every component for `x` into `out` (`k` values) and
    /// returns the log-likelihood of `x`.
    pub(super) fn responsibilities(&self, x: &[f64], out: &mut [f64]) -> f64 {
        for (j, o) in out.iter_mut().enumerate() {
            *o = self.weighted_log_prob(x, j);
        }
        normalize(out)
    }

    /// The weighted log-densities of a block of `rows` rows (row-major in `x`) under every
    /// component into `out` (`rows × k`), for `full` and `tied` through one matrix product
    /// `X · [U_1 … U_k]` with the stacked factor columns `stacked` (scikit-learn's
    /// `np.dot(X, prec_chol) − np.dot(mu, prec_chol)`); `xu` is the block's scratch.
    fn block_log_probs(
        &self,
        x: &[f64],
        rows: usize,
        stacked: &[f64],
        xu: &mut Vec<f64>,
        out: &mut [f64],
    ) -> Result<()> {
        let (p, k) = (self.p, self.k());
        let width = stacked.len() / p.max(1);
        xu.resize(rows * width, 0.0);
        gemm_abt(x, rows, stacked, width, p, xu)?;
        let shared = width == p;
        for (xr, lp) in xu
            .chunks_exact(width.max(1))
            .zip(out.chunks_exact_mut(k.max(1)))
        {
            for (j, o) in lp.iter_mut().enumerate() {
                let col = if shared { 0 } else { j * p };
                let y = xr.get(col..col + p).unwrap_or(&[]);
                let mf = self.factors.get(j * p..(j + 1) * p).unwrap_or(&[]);
                let maha: f64 = y.iter().zip(mf).map(|(a, m)| (a - m) * (a - m)).sum();
                *o = self.offsets.get(j).copied().unwrap_or(f64::NAN) - 0.5 * maha;
            }
        }
        Ok(())
    }
}

/// The E-step's expansion of `diag` and `spherical` densities: `weights` holds the rows
/// `[−2 μ_j∘P_j | P_j]` (`k × 2p`) and `consts` the values `Σ μ_j²P_j`, so that the squared
/// Mahalanobis distance of `x` to component `j` is `consts_j + [x | x∘x] · weights_j`.
pub(super) struct Diagonal {
    weights: Vec<f64>,
    consts: Vec<f64>,
}

impl Diagonal {
    /// The weighted log-densities of a block of `rows` rows (row-major in `x`) under every
    /// component into `out` (`rows × k`); `xx` is the block's scratch for `[X | X∘X]`.
    fn block_log_probs(
        &self,
        c: &Components<'_>,
        x: &[f64],
        rows: usize,
        xx: &mut Vec<f64>,
        out: &mut [f64],
    ) -> Result<()> {
        let (p, k) = (c.p, c.k());
        with_squares(x, rows, p, xx);
        gemm_abt(xx, rows, &self.weights, k, 2 * p, out)?;
        for lp in out.chunks_exact_mut(k.max(1)) {
            for ((o, off), cj) in lp.iter_mut().zip(c.offsets).zip(&self.consts) {
                *o = off - 0.5 * (cj + *o);
            }
        }
        Ok(())
    }
}

impl Components<'_> {
    /// The [`Diagonal`] expansion of `diag` and `spherical` components (`None` for `full`
    /// and `tied`).
    pub(super) fn diagonal(&self) -> Option<Diagonal> {
        let (k, p) = (self.k(), self.p);
        let prec = self.ct.diagonal_precisions(self.pc, k, p)?;
        let mut weights = Vec::with_capacity(k * 2 * p);
        let mut consts = Vec::with_capacity(k);
        for (j, pj) in prec.chunks_exact(p.max(1)).enumerate() {
            let mu = self.means.get(j * p..(j + 1) * p).unwrap_or(&[]);
            weights.extend(mu.iter().zip(pj).map(|(m, q)| -2.0 * (m * q)));
            weights.extend_from_slice(pj);
            consts.push(mu.iter().zip(pj).map(|(m, q)| m * m * q).sum());
        }
        Some(Diagonal { weights, consts })
    }
}

/// `[X | X∘X]` of the `rows × p` block `x` into `xx` (`rows × 2p`, resized): the rows next to
/// their squares, for the `diag` / `spherical` expansions of both EM steps.
fn with_squares(x: &[f64], rows: usize, p: usize, xx: &mut Vec<f64>) {
    xx.resize(rows * 2 * p, 0.0);
    for (dst, src) in xx
        .chunks_exact_mut((2 * p).max(1))
        .zip(x.chunks_exact(p.max(1)))
    {
        let (lin, sq) = dst.split_at_mut(p);
        lin.copy_from_slice(src);
        sq.iter_mut().zip(src).for_each(|(d, v)| *d = v * v);
    }
}

/// Turns weighted log-densities into responsibilities in place; returns their log-sum-exp
/// (the row's log-likelihood): `e = exp(v − max)` through the vectorized
/// [`exp_in_place`], `lse = max + ln Σe` and `r = e / Σe`. A row whose largest value is not
/// finite takes the one-pass [`log_sum_exp`] and `exp(v − lse)`.
fn normalize(out: &mut [f64]) -> f64 {
    let max = out
        .iter()
        .fold(f64::NEG_INFINITY, |m, &v| if v > m { v } else { m });
    if !max.is_finite() {
        let lse = log_sum_exp(out.iter().copied());
        for o in out.iter_mut() {
            *o = (*o - lse).exp();
        }
        return lse;
    }
    out.iter_mut().for_each(|v| *v -= max);
    exp_in_place(out);
    let sum: f64 = out.iter().sum();
    out.iter_mut().for_each(|v| *v /= sum);
    max + sum.ln()
}

/// The training rows, row-major, with their weights (and the dataset they come from, for
/// the k-means initialisation).
pub(super) struct Problem<'a> {
    pub(super) data: &'a dyn Dataset,
    pub(super) x: &'a [f64],
    pub(super) n: usize,
    pub(super) p: usize,
    pub(super) w: &'a [f64],
    pub(super) w_sum: f64,
}

impl<'a> Problem<'a> {
    pub(super) fn new(
        data: &'a dyn Dataset,
        x: &'a [f64],
        w: &'a [f64],
        n: usize,
        p: usize,
    ) -> Self {
        Self {
            data,
            x,
            n,
            p,
            w,
            w_sum: w.iter().sum(),
        }
    }

    pub(super) fn row(&self, i: usize) -> &[f64] {
        self.x.get(i * self.p..(i + 1) * self.p).unwrap_or(&[])
    }

    pub(super) fn weight(&self, i: usize) -> f64 {
        self.w.get(i).copied().unwrap_or(0.0)
    }

    /// The E-step: the responsibilities of every row into `resp` (`n × k`) and the weighted
    /// mean log-likelihood (the lower bound of the parameters that `c` describes). Each
    /// block's densities come from one matrix product: `X · [U_1 … U_k]` for `full` and
    /// `tied`, `[X | X∘X] · [−2 μ∘P | P]ᵀ` for `diag` and `spherical` (scikit-learn's
    /// expansion).
    pub(super) fn e_step(&self, c: &Components<'_>, resp: &mut [f64]) -> Result<f64> {
        let k = c.k().max(1);
        let p = self.p;
        let stacked = c.ct.stacked_columns(c.pc, c.k(), p);
        let diagonal = c.diagonal();
        let partials: Vec<Result<f64>> = resp
            .par_chunks_mut(BLOCK * k)
            .enumerate()
            .map(|(b, block)| {
                let start = b * BLOCK;
                let rows = block.len() / k;
                let x = self.x.get(start * p..(start + rows) * p).unwrap_or(&[]);
                let mut scratch = Vec::new();
                // Every type has one of the two (`full` / `tied` the stacked factors,
                // `diag` / `spherical` the expansion).
                match (&stacked, &diagonal) {
                    (Some(stacked), _) => {
                        c.block_log_probs(x, rows, stacked, &mut scratch, block)?
                    }
                    (None, Some(diagonal)) => {
                        diagonal.block_log_probs(c, x, rows, &mut scratch, block)?
                    }
                    (None, None) => {
                        return Err(Error::InvalidArgument(format!(
                            "gaussian_mixture: no density product for covariance type {:?}",
                            c.ct
                        )))
                    }
                }
                let mut acc = 0.0;
                for (r, out) in block.chunks_exact_mut(k).enumerate() {
                    let lse = normalize(out);
                    let wi = self.weight(start + r);
                    if wi != 0.0 {
                        acc += wi * lse;
                    }
                }
                Ok(acc)
            })
            .collect();
        let mut total = 0.0;
        for part in partials {
            total += part?;
        }
        Ok(total / self.w_sum)
    }

    /// The scatter `Σ r_ij w_i (x_i − μ_j)(x_i − μ_j)ᵀ` of every component (`k × p × p`,
    /// `full` and `tied`): one product `(r∘D)ᵀ D` per block and component, `D` the block's
    /// rows minus the mean, the blocks added in block order.
    fn scatter(&self, resp: &[f64], means: &[f64], k: usize, p: usize) -> Result<Vec<f64>> {
        let len = k * p * p;
        let partials: Vec<Result<Vec<f64>>> = resp
            .par_chunks(BLOCK * k)
            .enumerate()
            .map(|(b, block)| {
                let mut s = vec![0.0; len];
                let rows = block.len() / k;
                let mut d = vec![0.0; rows * p];
                let mut rd = vec![0.0; rows * p];
                for j in 0..k {
                    let mu = means.get(j * p..(j + 1) * p).unwrap_or(&[]);
                    for (r, (dr, rdr)) in d
                        .chunks_exact_mut(p.max(1))
                        .zip(rd.chunks_exact_mut(p.max(1)))
                        .enumerate()
                    {
                        let i = b * BLOCK + r;
                        let rw = block.get(r * k + j).copied().unwrap_or(0.0) * self.weight(i);
                        for (((dv, rv), xv), mv) in
                            dr.iter_mut().zip(rdr.iter_mut()).zip(self.row(i)).zip(mu)
                        {
                            *dv = xv - mv;
                            *rv = rw * *dv;
                        }
                    }
                    let sj = s.get_mut(j * p * p..(j + 1) * p * p).unwrap_or(&mut []);
                    gemm_atb_add(&rd, &d, rows, p, p, sj)?;
                }
                Ok(s)
            })
            .collect();
        let mut scatter = vec![0.0; len];
        for s in partials {
            scatter.iter_mut().zip(s?).for_each(|(t, v)| *t += v);
        }
        Ok(scatter)
    }

    /// scikit-learn's `_estimate_gaussian_parameters` with sample weights: the component
    /// weights `nk` (plus `10 ε`), the means and the covariances of the responsibilities
    /// `resp` (`n × k`), and the precision factors of the covariances.
    pub(super) fn estimate(
        &self,
        resp: &[f64],
        k: usize,
        ct: CovarianceType,
        reg_covar: f64,
    ) -> Result<Params> {
        let p = self.p;
        let diagonal = matches!(ct, CovarianceType::Diag | CovarianceType::Spherical);
        // Pass 1, one product per block added in block order: `R̃ᵀ · X` (and `R̃ᵀ · (X∘X)` for
        // `diag` and `spherical`, scikit-learn's `avg_X2`), `R̃` the responsibilities times
        // the row weights, and the column sums of `R̃`.
        let width = if diagonal { 2 * p } else { p };
        let partials: Vec<Result<(Vec<f64>, Vec<f64>)>> = resp
            .par_chunks(BLOCK * k)
            .enumerate()
            .map(|(b, block)| {
                let start = b * BLOCK;
                let rows = block.len() / k.max(1);
                let mut nk = vec![0.0; k];
                let mut rw = vec![0.0; block.len()];
                for (r, (dst, src)) in rw
                    .chunks_exact_mut(k.max(1))
                    .zip(block.chunks_exact(k.max(1)))
                    .enumerate()
                {
                    let wi = self.weight(start + r);
                    for ((d, v), n) in dst.iter_mut().zip(src).zip(nk.iter_mut()) {
                        *d = v * wi;
                        *n += *d;
                    }
                }
                let x = self.x.get(start * p..(start + rows) * p).unwrap_or(&[]);
                let mut sums = vec![0.0; k * width];
                if diagonal {
                    let mut xx = Vec::new();
                    with_squares(x, rows, p, &mut xx);
                    gemm_atb_add(&rw, &xx, rows, k, width, &mut sums)?;
                } else {
                    gemm_atb_add(&rw, x, rows, k, width, &mut sums)?;
                }
                Ok((nk, sums))
            })
            .collect();
        let mut nk = vec![0.0; k];
        let mut sums = vec![0.0; k * width];
        for part in partials {
            let (pn, ps) = part?;
            nk.iter_mut().zip(&pn).for_each(|(t, v)| *t += v);
            sums.iter_mut().zip(&ps).for_each(|(t, v)| *t += v);
        }
        nk.iter_mut().for_each(|v| *v += 10.0 * f64::EPSILON);
        let mut means = vec![0.0; k * p];
        for ((m, s), n) in means
            .chunks_exact_mut(p.max(1))
            .zip(sums.chunks_exact(width.max(1)))
            .zip(&nk)
        {
            m.iter_mut().zip(s).for_each(|(m, v)| *m = v / n);
        }
        let scatter = if diagonal {
            // Σ r (x − μ)² = Σ r x² − 2 μ Σ r x + μ² Σ r, per component and feature.
            let mut scatter = vec![0.0; k * p];
            for (((sc, s), m), n) in scatter
                .chunks_exact_mut(p.max(1))
                .zip(sums.chunks_exact(width.max(1)))
                .zip(means.chunks_exact(p.max(1)))
                .zip(&nk)
            {
                let (s1, s2) = s.split_at(p);
                for (((v, a), b), mu) in sc.iter_mut().zip(s1).zip(s2).zip(m) {
                    *v = (b - 2.0 * (mu * a)) + mu * mu * n;
                }
            }
            scatter
        } else {
            self.scatter(resp, &means, k, p)?
        };
        let covariances = ct.covariances(&scatter, &nk, p, reg_covar);
        let precisions_cholesky = ct.precisions_cholesky(&covariances, k, p, reg_covar)?;
        Ok(Params {
            weights: nk,
            means,
            covariances,
            precisions_cholesky,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_sum_exp_is_stable() {
        let v = [1000.0, 1000.0, f64::NEG_INFINITY];
        assert!((log_sum_exp(v.iter().copied()) - (1000.0 + 2f64.ln())).abs() < 1e-12);
        assert_eq!(
            log_sum_exp([f64::NEG_INFINITY].iter().copied()),
            f64::NEG_INFINITY
        );
    }
}
