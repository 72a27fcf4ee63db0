//! The four covariance types of a Gaussian mixture (scikit-learn's `covariance_type`) and the
//! maths that depends on them: the shapes of `covariances_` and `precisions_cholesky_`, the
//! covariances from the responsibility-weighted scatter of the rows (the M-step, with
//! `reg_covar` on the diagonal), the Cholesky factors of the precisions, their log-determinant
//! and the squared Mahalanobis distance of a row to a component.
//!
//! As scikit-learn, a precision is kept as its Cholesky factor `U` (upper triangular for
//! `full` and `tied`, `P = U·Uᵀ`, `U = L⁻ᵀ` where `Σ = L·Lᵀ`; the square roots of the
//! precisions for `diag` and `spherical`), so that `(x − μ)ᵀ P (x − μ) = ‖(x − μ)ᵀ U‖²` and
//! `½·log det P = Σ log diag(U)`. All matrices are stored row-major and flat, in
//! scikit-learn's shapes: `full` `k × p × p`, `tied` `p × p`, `diag` `k × p`, `spherical` `k`.

use serde::{Deserialize, Serialize};

use crate::common::linalg::cholesky_lower;
use crate::error::{Error, Result};

/// The form of every component's covariance matrix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CovarianceType {
    /// Each component has its own general covariance matrix.
    Full,
    /// All components share one general covariance matrix.
    Tied,
    /// Each component has its own diagonal covariance matrix.
    Diag,
    /// Each component has its own single variance.
    Spherical,
}

impl CovarianceType {
    /// Every type, with its scikit-learn name.
    pub const ALL: [(CovarianceType, &'static str); 4] = [
        (CovarianceType::Full, "full"),
        (CovarianceType::Tied, "tied"),
        (CovarianceType::Diag, "diag"),
        (CovarianceType::Spherical, "spherical"),
    ];

    /// The type named `name` (`"full"`, `"tied"`, `"diag"`, `"spherical"`).
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.iter().find(|(_, n)| *n == name).map(|(t, _)| *t)
    }

    /// scikit-learn's shape of `covariances_` and `precisions_cholesky_` for `k` components
    /// of `p` features.
    pub fn shape(self, k: usize, p: usize) -> Vec<usize> {
        match self {
            CovarianceType::Full => vec![k, p, p],
            CovarianceType::Tied => vec![p, p],
            CovarianceType::Diag => vec![k, p],
            CovarianceType::Spherical => vec![k],
        }
    }

    /// The number of values of that shape (`None` on overflow).
    pub fn len(self, k: usize, p: usize) -> Option<usize> {
        self.shape(k, p)
            .into_iter()
            .try_fold(1usize, |a, d| a.checked_mul(d))
    }

    /// The number of free covariance parameters (scikit-learn's `_n_parameters`, less the
    /// means and weights).
    pub fn n_parameters(self, k: usize, p: usize) -> usize {
        match self {
            CovarianceType::Full => k * p * (p + 1) / 2,
            CovarianceType::Tied => p * (p + 1) / 2,
            CovarianceType::Diag => k * p,
            CovarianceType::Spherical => k,
        }
    }

    /// The values of component `j` in an array of this type's shape (the one shared matrix
    /// for `tied`); empty when out of range.
    fn block(self, values: &[f64], j: usize, p: usize) -> &[f64] {
        let range = match self {
            CovarianceType::Full => j * p * p..(j + 1) * p * p,
            CovarianceType::Tied => 0..p * p,
            CovarianceType::Diag => j * p..(j + 1) * p,
            CovarianceType::Spherical => j..j + 1,
        };
        values.get(range).unwrap_or(&[])
    }

    /// `μ_jᵀ U_j` of every component (`k × p`, row-major) for `full` and `tied` (scikit-learn's
    /// `np.dot(mu, prec_chol)`), so that `(x − μ_j)ᵀ U_j = xᵀ U_j − μ_jᵀ U_j`; empty for `diag`
    /// and `spherical`, which read the means directly.
    pub(crate) fn mean_factors(self, means: &[f64], pc: &[f64], k: usize, p: usize) -> Vec<f64> {
        match self {
            CovarianceType::Full | CovarianceType::Tied => {
                let mut out = vec![0.0; k * p];
                for (j, o) in out.chunks_exact_mut(p.max(1)).enumerate() {
                    let u = self.block(pc, j, p);
                    let mu = means.get(j * p..(j + 1) * p).unwrap_or(&[]);
                    for (r, m) in mu.iter().enumerate() {
                        let row = u.get(r * p..(r + 1) * p).unwrap_or(&[]);
                        for (v, uv) in o.iter_mut().zip(row) {
                            *v += m * uv;
                        }
                    }
                }
                out
            }
            CovarianceType::Diag | CovarianceType::Spherical => Vec::new(),
        }
    }

    /// `(x − μ_j)ᵀ P_j (x − μ_j)` of component `j` through its precision factor: for `full`
    /// and `tied`, `‖xᵀU_j − μ_jᵀU_j‖²` with the row of [`mean_factors`](Self::mean_factors)
    /// in `mf`, in column panels of eight that run along the rows of `U` (contiguous);
    /// for `diag` and `spherical`, `Σ ((x − μ)·s)²` with the means in `mu`. Allocation-free.
    pub(crate) fn sq_mahalanobis(
        self,
        pc: &[f64],
        j: usize,
        x: &[f64],
        mu: &[f64],
        mf: &[f64],
    ) -> f64 {
        const PANEL: usize = 8;
        let p = x.len();
        let u = self.block(pc, j, p);
        match self {
            CovarianceType::Full | CovarianceType::Tied => {
                let mut total = 0.0;
                let mut start = 0;
                while start < p {
                    let width = (p - start).min(PANEL);
                    let mut acc = [0.0; PANEL];
                    // U is upper triangular: rows past the panel are zero in its columns.
                    for (r, xv) in x.iter().enumerate().take(start + width) {
                        let from = r * p + start;
                        let row = u.get(from..from + width).unwrap_or(&[]);
                        for (a, uv) in acc.iter_mut().zip(row) {
                            *a += xv * uv;
                        }
                    }
                    let m = mf.get(start..start + width).unwrap_or(&[]);
                    for (a, mv) in acc.iter().zip(m) {
                        let y = a - mv;
                        total += y * y;
                    }
                    start += width;
                }
                total
            }
            CovarianceType::Diag => x
                .iter()
                .zip(mu)
                .zip(u)
                .map(|((xv, mv), s)| {
                    let y = (xv - mv) * s;
                    y * y
                })
                .sum(),
            CovarianceType::Spherical => {
                let s = u.first().copied().unwrap_or(0.0);
                x.iter()
                    .zip(mu)
                    .map(|(xv, mv)| {
                        let y = (xv - mv) * s;
                        y * y
                    })
                    .sum()
            }
        }
    }

    /// The columns of the precision factors stacked as rows, for the E-step's block product
    /// `X · [U_1 … U_k]`: `k · p` rows of `p` values for `full` (row `j·p + c` is column `c`
    /// of `U_j`), `p` rows for `tied` (one shared `U`); `None` for `diag` and `spherical`.
    pub(crate) fn stacked_columns(self, pc: &[f64], k: usize, p: usize) -> Option<Vec<f64>> {
        let count = match self {
            CovarianceType::Full => k,
            CovarianceType::Tied => 1,
            CovarianceType::Diag | CovarianceType::Spherical => return None,
        };
        let mut out = vec![0.0; count * p * p];
        for (j, block) in out.chunks_exact_mut((p * p).max(1)).enumerate() {
            let u = self.block(pc, j, p);
            for (c, column) in block.chunks_exact_mut(p.max(1)).enumerate() {
                for (r, v) in column.iter_mut().enumerate() {
                    *v = u.get(r * p + c).copied().unwrap_or(0.0);
                }
            }
        }
        Some(out)
    }

    /// `½·log det P_j`: the sum of the logs of the diagonal of the precision factor of
    /// component `j` (`p · log s` for `spherical`).
    pub(crate) fn half_log_det(self, pc: &[f64], j: usize, p: usize) -> f64 {
        let u = self.block(pc, j, p);
        match self {
            CovarianceType::Full | CovarianceType::Tied => (0..p)
                .map(|i| u.get(i * p + i).copied().unwrap_or(f64::NAN).ln())
                .sum(),
            CovarianceType::Diag => u.iter().map(|s| s.ln()).sum(),
            CovarianceType::Spherical => p as f64 * u.first().copied().unwrap_or(f64::NAN).ln(),
        }
    }

    /// The precisions `P_j` on the diagonal of every component (`k × p`, row-major: the
    /// squares of the factors, one value repeated over the features for `spherical`) for the
    /// E-step's expansion `(x − μ)ᵀP(x − μ) = Σ μ²P − 2 x·(μ∘P) + x²·P` (scikit-learn's
    /// `_estimate_log_gaussian_prob` for `diag` and `spherical`); `None` for `full` and
    /// `tied`.
    pub(crate) fn diagonal_precisions(self, pc: &[f64], k: usize, p: usize) -> Option<Vec<f64>> {
        if matches!(self, CovarianceType::Full | CovarianceType::Tied) {
            return None;
        }
        let mut out = Vec::with_capacity(k * p);
        for j in 0..k {
            let u = self.block(pc, j, p);
            for f in 0..p {
                let s = match self {
                    CovarianceType::Diag => u.get(f),
                    _ => u.first(),
                };
                let s = s.copied().unwrap_or(f64::NAN);
                out.push(s * s);
            }
        }
        Some(out)
    }

    /// The covariances (this type's shape) from the summed scatter of every component and
    /// the component weights `nk`, plus `reg` on the diagonal (scikit-learn's
    /// `_estimate_gaussian_covariances_*`; `tied` pools the scatters over `Σ nk`).
    pub(crate) fn covariances(self, scatter: &[f64], nk: &[f64], p: usize, reg: f64) -> Vec<f64> {
        // The full symmetric matrix of component j's scatter over `div`.
        let full = |j: usize, div: f64, out: &mut Vec<f64>| {
            let s = scatter.get(j * p * p..(j + 1) * p * p).unwrap_or(&[]);
            for a in 0..p {
                for b in 0..p {
                    let (hi, lo) = if a >= b { (a, b) } else { (b, a) };
                    out.push(s.get(hi * p + lo).copied().unwrap_or(0.0) / div);
                }
            }
        };
        let add_reg = |m: &mut [f64]| {
            for a in 0..p {
                if let Some(v) = m.get_mut(a * p + a) {
                    *v += reg;
                }
            }
        };
        match self {
            CovarianceType::Full => {
                let mut out = Vec::with_capacity(nk.len() * p * p);
                for (j, &n) in nk.iter().enumerate() {
                    let start = out.len();
                    full(j, n, &mut out);
                    add_reg(&mut out[start..]);
                }
                out
            }
            CovarianceType::Tied => {
                let mut pooled = vec![0.0; p * p];
                for j in 0..nk.len() {
                    let s = scatter.get(j * p * p..(j + 1) * p * p).unwrap_or(&[]);
                    for (t, v) in pooled.iter_mut().zip(s) {
                        *t += v;
                    }
                }
                let total: f64 = nk.iter().sum();
                let mut out = Vec::with_capacity(p * p);
                for a in 0..p {
                    for b in 0..p {
                        let (hi, lo) = if a >= b { (a, b) } else { (b, a) };
                        out.push(pooled.get(hi * p + lo).copied().unwrap_or(0.0) / total);
                    }
                }
                add_reg(&mut out);
                out
            }
            CovarianceType::Diag | CovarianceType::Spherical => {
                let diag = nk.iter().enumerate().flat_map(|(j, &n)| {
                    scatter
                        .get(j * p..(j + 1) * p)
                        .unwrap_or(&[])
                        .iter()
                        .map(move |v| v / n + reg)
                });
                if self == CovarianceType::Diag {
                    diag.collect()
                } else {
                    let d: Vec<f64> = diag.collect();
                    d.chunks(p.max(1))
                        .map(|c| c.iter().sum::<f64>() / p as f64)
                        .collect()
                }
            }
        }
    }

    /// The precision factors of `covariances` (scikit-learn's `_compute_precision_cholesky`):
    /// an ill-defined covariance (not positive definite) is an error naming the component and
    /// suggesting a larger `reg_covar`.
    pub(crate) fn precisions_cholesky(
        self,
        covariances: &[f64],
        k: usize,
        p: usize,
        reg_covar: f64,
    ) -> Result<Vec<f64>> {
        let ill = |which: String| {
            Error::InvalidArgument(format!(
                "gaussian_mixture: fitting failed because {which} has an ill-defined empirical \
                 covariance (not positive definite, e.g. from singleton or collapsed samples); \
                 increase reg_covar (now {reg_covar:e}), decrease n_components, or scale the \
                 input data"
            ))
        };
        match self {
            CovarianceType::Full | CovarianceType::Tied => {
                let count = if self == CovarianceType::Full { k } else { 1 };
                let mut out = Vec::with_capacity(count * p * p);
                for j in 0..count {
                    let l = cholesky_lower(self.block(covariances, j, p), p)?.ok_or_else(|| {
                        ill(match self {
                            CovarianceType::Full => format!("component {j}"),
                            _ => "the tied covariance of the components".into(),
                        })
                    })?;
                    out.extend(inverse_transpose(&l, p));
                }
                Ok(out)
            }
            CovarianceType::Diag | CovarianceType::Spherical => {
                let per = if self == CovarianceType::Diag { p } else { 1 };
                if let Some(i) = covariances
                    .iter()
                    .position(|&v| !(v > 0.0 && v.is_finite()))
                {
                    return Err(ill(format!("component {}", i / per.max(1))));
                }
                Ok(covariances.iter().map(|v| 1.0 / v.sqrt()).collect())
            }
        }
    }

    /// The precision factors of given precision matrices (scikit-learn's
    /// `_compute_precision_cholesky_from_precisions`: the upper factor `U` with `P = U·Uᵀ`,
    /// from the Cholesky factor of `P` with rows and columns reversed). A matrix that is not
    /// positive definite is an error on `precisions_init`.
    pub(crate) fn precisions_cholesky_from_precisions(
        self,
        precisions: &[f64],
        k: usize,
        p: usize,
    ) -> Result<Vec<f64>> {
        match self {
            CovarianceType::Full | CovarianceType::Tied => {
                let count = if self == CovarianceType::Full { k } else { 1 };
                let mut out = Vec::with_capacity(count * p * p);
                for j in 0..count {
                    let m = self.block(precisions, j, p);
                    let flipped: Vec<f64> = (0..p * p)
                        .map(|ij| m.get(p * p - 1 - ij).copied().unwrap_or(f64::NAN))
                        .collect();
                    let l = cholesky_lower(&flipped, p)?.ok_or_else(|| {
                        Error::param(
                            "precisions_init",
                            format!("matrix {j}"),
                            "symmetric positive-definite precision matrices",
                        )
                    })?;
                    out.extend(l.iter().rev());
                }
                Ok(out)
            }
            CovarianceType::Diag | CovarianceType::Spherical => {
                Ok(precisions.iter().map(|v| v.sqrt()).collect())
            }
        }
    }
}

/// `(L⁻¹)ᵀ` of a lower-triangular `p × p` matrix `L` with a positive diagonal (row-major):
/// scikit-learn's `solve_triangular(L, I, lower=True).T`, by forward substitution.
fn inverse_transpose(l: &[f64], p: usize) -> Vec<f64> {
    let at = |i: usize, j: usize| l.get(i * p + j).copied().unwrap_or(0.0);
    // m = L⁻¹ (lower triangular), column by column.
    let mut m = vec![0.0; p * p];
    for c in 0..p {
        for i in c..p {
            let rhs = if i == c { 1.0 } else { 0.0 };
            let s: f64 = (c..i).map(|t| at(i, t) * m[t * p + c]).sum();
            m[i * p + c] = (rhs - s) / at(i, i);
        }
    }
    let mut u = vec![0.0; p * p];
    for i in 0..p {
        for j in 0..p {
            u[j * p + i] = m[i * p + j];
        }
    }
    u
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn precision_factor_inverts_the_covariance_and_agrees_with_the_precision_path() {
        // Σ = [[4, 2], [2, 3]]; P = Σ⁻¹ = [[3, -2], [-2, 4]] / 8.
        let cov = [4.0, 2.0, 2.0, 3.0];
        let u = CovarianceType::Full
            .precisions_cholesky(&cov, 1, 2, 0.0)
            .unwrap();
        assert_eq!(u[2], 0.0, "upper triangular");
        let p = [3.0 / 8.0, -2.0 / 8.0, -2.0 / 8.0, 4.0 / 8.0];
        // U·Uᵀ = P
        for a in 0..2 {
            for b in 0..2 {
                let v: f64 = (0..2).map(|c| u[a * 2 + c] * u[b * 2 + c]).sum();
                assert!((v - p[a * 2 + b]).abs() < 1e-15);
            }
        }
        let u2 = CovarianceType::Full
            .precisions_cholesky_from_precisions(&p, 1, 2)
            .unwrap();
        for (a, b) in u.iter().zip(&u2) {
            assert!((a - b).abs() < 1e-15, "{u:?} {u2:?}");
        }
        // ‖(x − μ)ᵀU‖² = (x − μ)ᵀ P (x − μ); ½ log det P = −½ log 8.
        let mu = [0.5, -1.0];
        let mf = CovarianceType::Full.mean_factors(&mu, &u, 1, 2);
        let d = CovarianceType::Full.sq_mahalanobis(&u, 0, &[1.5, 1.0], &mu, &mf);
        assert!((d - (3.0 - 8.0 + 16.0) / 8.0).abs() < 1e-15);
        let h = CovarianceType::Full.half_log_det(&u, 0, 2);
        assert!((h + 0.5 * 8f64.ln()).abs() < 1e-15);
    }

    #[test]
    fn singular_covariances_name_the_component() {
        let cov = [1.0, 0.0, 0.0, 1.0, 1.0, 1.0, 1.0, 1.0];
        let e = CovarianceType::Full
            .precisions_cholesky(&cov, 2, 2, 0.0)
            .unwrap_err()
            .to_string();
        assert!(e.contains("component 1") && e.contains("reg_covar"), "{e}");
        let e = CovarianceType::Diag
            .precisions_cholesky(&[1.0, 1.0, 1.0, 0.0], 2, 2, 0.0)
            .unwrap_err()
            .to_string();
        assert!(e.contains("component 1"), "{e}");
        assert_eq!(CovarianceType::Tied.len(3, 4), Some(16));
        assert_eq!(CovarianceType::parse("diag"), Some(CovarianceType::Diag));
        assert_eq!(CovarianceType::parse("Diag"), None);
    }
}
