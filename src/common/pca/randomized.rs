//! The randomized truncated SVD of Halko, Martinsson and Tropp (*Finding structure with
//! randomness*, 2011), as scikit-learn's `_randomized_svd` with `flip_sign=False`: a
//! Gaussian test matrix, power iterations (optionally re-orthonormalized), an orthonormal
//! basis `Q` of the sampled range, and the exact SVD of the small matrix `Qᵀ M`.

use ndarray::{Array2, ArrayView2};
use rand::Rng;

use crate::common::{linalg, rng};
use crate::error::Result;

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
        q = orthonormal(m.dot(&q))?;
        q = orthonormal(m.t().dot(&q))?;
    }
    let q = linalg::thin_q(m.dot(&q).view())?;
    let b = q.t().dot(&m);
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
