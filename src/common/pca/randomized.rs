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

/// `m · q` (`n × l`), each block of rows of `m` on its own (row-major data; any other layout
/// goes through ndarray's product).
fn times(m: ArrayView2<'_, f64>, q: &Array2<f64>) -> Result<Array2<f64>> {
    let (n, p) = m.dim();
    let l = q.ncols();
    let (Some(ms), true) = (m.as_slice(), p > 0 && l > 0) else {
        return Ok(m.dot(q));
    };
    let qt = q.t().as_standard_layout().to_owned();
    let qt = qt.as_slice().unwrap_or(&[]);
    let mut out = Array2::zeros((n, l));
    if let Some(os) = out.as_slice_mut() {
        os.par_chunks_mut(BLOCK * l)
            .zip(ms.par_chunks(BLOCK * p))
            .try_for_each(|(o, a)| linalg::gemm_abt(a, a.len() / p, qt, l, p, o))?;
    }
    Ok(out)
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
    let orthonormal = |y: Array2<f64>| -> Result<Array2<f64>> {
        if normalize {
            linalg::thin_q(y.view())
        } else {
            Ok(y)
        }
    };
    for _ in 0..n_iter {
        q = orthonormal(times(m, &q)?)?;
        q = orthonormal(t_times(m, &q)?)?;
    }
    let q = linalg::thin_q(times(m, &q)?.view())?;
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

/// A `rows × cols` matrix of independent standard normal draws (Box–Muller) from `seed`.
fn gaussian(rows: usize, cols: usize, seed: u64) -> Array2<f64> {
    let mut r = rng::from_seed(seed);
    Array2::from_shape_simple_fn((rows, cols), || {
        let u1: f64 = 1.0 - r.gen::<f64>();
        let u2: f64 = r.gen::<f64>();
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    })
}
