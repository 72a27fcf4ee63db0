//! The randomized truncated SVD of Halko, Martinsson and Tropp (*Finding structure with
//! randomness*, 2011), as scikit-learn's `_randomized_svd` with `flip_sign=False`: a
//! Gaussian test matrix, power iterations (optionally re-orthonormalized), an orthonormal
//! basis `Q` of the sampled range, and the exact SVD of the small matrix `Qᵀ M`.

use ndarray::{Array2, ArrayView2};
use rand::Rng;
use rayon::prelude::*;

use crate::common::{linalg, rng};
use crate::error::{Error, Result};

/// Rows of the data matrix per block of the products with it: the blocks run in parallel and
/// their partial sums are added in block order, so the bits never depend on the thread count.
const BLOCK: usize = 4096;

/// `m · q` (`n × l`) into `out`, each block of rows of `m` on its own (row-major data; any
/// other layout goes through ndarray's product). `out` is reused when it has the right shape:
/// every value is overwritten, so a buffer kept across the power iterations is never zeroed
/// again.
fn times_into(m: ArrayView2<'_, f64>, q: &Array2<f64>, out: &mut Array2<f64>) -> Result<()> {
    let (n, p) = m.dim();
    let l = q.ncols();
    let (Some(ms), true) = (m.as_slice(), p > 0 && l > 0) else {
        *out = m.dot(q);
        return Ok(());
    };
    if out.dim() != (n, l) || !out.is_standard_layout() {
        *out = Array2::zeros((n, l));
    }
    let qt = q.t().as_standard_layout().to_owned();
    let qt = qt.as_slice().unwrap_or(&[]);
    if let Some(os) = out.as_slice_mut() {
        os.par_chunks_mut(BLOCK * l)
            .zip(ms.par_chunks(BLOCK * p))
            .try_for_each(|(o, a)| linalg::gemm_abt(a, a.len() / p, qt, l, p, o))?;
    }
    Ok(())
}

/// `y ← y · r` in place (`r` square), block by block of rows: the same products as
/// [`times_into`] with `y` for `m`.
fn right_multiply(y: &mut Array2<f64>, r: &Array2<f64>) -> Result<()> {
    let l = y.ncols();
    let rt = r.t().as_standard_layout().to_owned();
    let rt = rt.as_slice().unwrap_or(&[]);
    let Some(ys) = y.as_slice_mut().filter(|_| l > 0 && r.dim() == (l, l)) else {
        *y = y.dot(r);
        return Ok(());
    };
    ys.par_chunks_mut(BLOCK * l).try_for_each(|block| {
        let mut product = vec![0.0; block.len()];
        linalg::gemm_abt(block, block.len() / l, rt, l, l, &mut product)?;
        block.copy_from_slice(&product);
        Ok(())
    })
}

/// `mᵀ · y` (`p × l`): a partial product per block of rows, added in block order.
fn t_times(m: ArrayView2<'_, f64>, y: &Array2<f64>) -> Result<Array2<f64>> {
    let p = m.ncols();
    let l = y.ncols();
    let (Some(ms), Some(ys), true) = (m.as_slice(), y.as_slice(), p > 0 && l > 0) else {
        return Ok(m.t().dot(y));
    };
    let partials = ms
        .par_chunks(BLOCK * p)
        .zip(ys.par_chunks(BLOCK * l))
        .map(|(a, b)| {
            let mut part = vec![0.0; p * l];
            linalg::gemm_atb_add(a, b, a.len() / p, p, l, &mut part)?;
            Ok(part)
        })
        .collect::<Result<Vec<_>>>()?;
    let mut sum = vec![0.0; p * l];
    for part in &partials {
        sum.iter_mut().zip(part).for_each(|(s, v)| *s += v);
    }
    Array2::from_shape_vec((p, l), sum)
        .map_err(|e| Error::InvalidArgument(format!("randomized svd: a {p} x {l} product: {e}")))
}

/// The `k` leading right singular vectors (as rows, `k × p`) and singular values of the
/// `n × p` matrix `a`, from `k + n_oversamples` random directions drawn from `seed` and
/// `n_iter` power iterations (each followed by a QR re-orthonormalization when `normalize`).
/// The matrix is transposed first when it has fewer rows than columns, as scikit-learn.
pub(super) fn svd(
    a: ArrayView2<'_, f64>,
    k: usize,
    n_oversamples: usize,
    n_iter: usize,
    normalize: bool,
    seed: u64,
) -> Result<(Array2<f64>, ndarray::Array1<f64>)> {
    let transpose = a.nrows() < a.ncols();
    let m = if transpose { a.reversed_axes() } else { a };
    let l = k + n_oversamples;
    let mut q = gaussian(m.ncols(), l, seed);
    // The `n × l` range sample, one buffer for every product with `m`.
    let mut y = Array2::zeros((0, 0));
    for _ in 0..n_iter {
        times_into(m, &q, &mut y)?;
        if normalize {
            orthonormalize(&mut y)?;
        }
        q = t_times(m, &y)?;
        if normalize {
            orthonormalize(&mut q)?;
        }
    }
    times_into(m, &q, &mut y)?;
    orthonormalize(&mut y)?;
    let q = y;
    let b = t_times(m, &q)?.reversed_axes();
    let svd = linalg::thin_svd(b.view())?;
    let k = k.min(svd.s.len());
    let s = svd.s.slice(ndarray::s![..k]).to_owned();
    let vt = if transpose {
        // M = Aᵀ: A's right singular vectors are M's left ones, Q · Û.
        q.dot(&svd.u.slice(ndarray::s![.., ..k])).reversed_axes()
    } else {
        svd.v.slice(ndarray::s![.., ..k]).t().to_owned()
    };
    Ok((vt, s))
}

/// The largest ratio of the Cholesky factor's diagonal entries (an estimate of the condition
/// number of `y`) for which Cholesky QR is trusted; beyond it the Householder QR is used.
const CHOLESKY_QR_MAX_CONDITION: f64 = 1e6;

/// Replaces `y` (`n × l`, `n >= l`, as the range samples here are) by an orthonormal basis
/// of its column space: Cholesky QR applied twice (CholeskyQR2, Fukaya et al. 2014): `G = YᵀY = LLᵀ`,
/// `Q = Y L⁻ᵀ`, and once more on `Q` to bring its orthogonality to rounding level. Both the
/// Gram matrix and the product are the parallel block products above, so this costs two
/// passes over `y` per round instead of a sequential Householder QR. When `y` is nearly rank
/// deficient (the Gram matrix not numerically positive definite, or a condition estimate
/// above [`CHOLESKY_QR_MAX_CONDITION`]) the Householder QR of [`linalg::thin_q`] is used.
fn orthonormalize(y: &mut Array2<f64>) -> Result<()> {
    let (n, l) = y.dim();
    if l == 0 || n < l || y.as_slice().is_none() {
        *y = linalg::thin_q(y.view())?;
        return Ok(());
    }
    for _ in 0..2 {
        let gram = t_times(y.view(), y)?;
        let gram = gram.as_slice().unwrap_or(&[]);
        let Some(lower) = linalg::cholesky_lower(gram, l)? else {
            *y = linalg::thin_q(y.view())?;
            return Ok(());
        };
        let diag = (0..l).filter_map(|i| lower.get(i * l + i).copied());
        let (lo, hi) = diag.fold((f64::INFINITY, 0.0f64), |(lo, hi), d| {
            (lo.min(d), hi.max(d))
        });
        if !(lo > 0.0 && hi / lo <= CHOLESKY_QR_MAX_CONDITION) {
            *y = linalg::thin_q(y.view())?;
            return Ok(());
        }
        right_multiply(y, &lower_inverse_transposed(&lower, l))?;
    }
    Ok(())
}

/// `L⁻ᵀ` (`l × l`, upper triangular) of the lower triangular, row-major `L` with a positive
/// diagonal, by forward substitution on the columns of the identity.
fn lower_inverse_transposed(lower: &[f64], l: usize) -> Array2<f64> {
    let at = |i: usize, j: usize| lower.get(i * l + j).copied().unwrap_or(0.0);
    // Column c of L⁻¹ solves L x = e_c; it is row c of L⁻ᵀ.
    let mut out = Array2::zeros((l, l));
    for (c, mut row) in out.rows_mut().into_iter().enumerate() {
        for i in c..l {
            let mut v = if i == c { 1.0 } else { 0.0 };
            for j in c..i {
                v -= at(i, j) * row[j];
            }
            row[i] = v / at(i, i);
        }
    }
    out
}

/// A `rows × cols` matrix of independent standard normal draws (Box–Muller) from `seed`.
fn gaussian(rows: usize, cols: usize, seed: u64) -> Array2<f64> {
    let mut r = rng::from_seed(seed);
    Array2::from_shape_simple_fn((rows, cols), || {
        let u1: f64 = 1.0 - r.gen::<f64>();
        let u2: f64 = r.gen::<f64>();
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    })
}
