//! The only module that talks to the linear-algebra crate ([faer](https://docs.rs/faer)).
//!
//! Everything else in amlis speaks ndarray; this module converts at the boundary and offers the
//! few dense kernels the models need:
//!
//! - [`thin_svd`]: `A = U·diag(s)·Vᵀ` (singular values in non-increasing order);
//! - [`svd_right`]: the singular values and right vectors only (PCA), through a parallel
//!   tall-skinny QR when the matrix is tall;
//! - [`cholesky_solve`]: solves `A x = b` for a symmetric positive-definite `A`, or says it is not;
//! - [`cholesky_lower`]: the lower Cholesky factor of a symmetric positive-definite `A`, or
//!   `None` (Gaussian mixtures' precision factors);
//! - [`weighted_gram`]: `Xᵀ X` and `Xᵀ y` of a centred, row-weighted matrix, computed in
//!   parallel over fixed row blocks and reduced in a fixed order (the same bits for any number of
//!   threads).
//! - [`gemm_abt`]: `A·Bᵀ` of two row-major blocks, sequential, for callers that run fixed row
//!   blocks in parallel (k-means distances);
//! - [`gemm_atb_add`]: `out += Aᵀ·B` of two row-major blocks, sequential (Gaussian mixtures'
//!   scatter matrices);
//! - [`sym_eigh`]: the eigendecomposition of a symmetric matrix (PCA's covariance solver);
//! - [`thin_q`]: an orthonormal basis of a matrix's columns (randomized SVD's range finder);
//! - [`sq_euclidean`]: the squared distance of two rows, in four lanes the compiler vectorizes
//!   (the one-row kernel of nearest-centre predictions), and [`sq_norm`], a row's squared norm;
//! - [`shifted_dots_ordered`]: `(A − 1·sᵀ)·B` with each output accumulated in feature order
//!   and the outputs of a row side by side (vectorized; the bits of a per-output loop: PCA's
//!   batch transform);
//! - [`exp_in_place`]: `exp` of every value of a slice, vectorized, within about 1 ulp (rbf
//!   kernel weights).
//!
//! Factorizations run sequentially inside faer (`Par::Seq`): they act on `p × p` matrices or on
//! problems where determinism matters more than the last bit of speed, and faer's parallel
//! kernels are not guaranteed to give identical bits for different thread counts.
//!
//! ```
//! use ndarray::array;
//! let a = array![[3.0, 0.0], [0.0, 4.0], [0.0, 0.0]];
//! let svd = amlis::common::linalg::thin_svd(a.view())?;
//! assert!((svd.s[0] - 4.0).abs() < 1e-12 && (svd.s[1] - 3.0).abs() < 1e-12);
//! # Ok::<(), amlis::Error>(())
//! ```

use faer::diag::Diag;
use faer::dyn_stack::{MemBuffer, MemStack};
use faer::linalg::matmul::triangular::{self as tri, BlockStructure};
use faer::linalg::svd::ComputeSvdVectors;
use faer::{Accum, Mat, MatMut, MatRef, Par};
use ndarray::{Array1, Array2, ArrayView1, ArrayView2};
use rayon::prelude::*;

use super::simd::with_avx2;
use crate::error::{Error, Result};

/// Rows per block in blocked, parallel kernels. Fixed (not derived from the thread count), so
/// that block boundaries and hence the floating-point reduction order never change.
pub const ROW_BLOCK: usize = 2048;

/// The squared euclidean distance `Σ (aᵢ − bᵢ)²` of two rows of equal length, summed in four
/// interleaved lanes (added as `(l0 + l1) + (l2 + l3)`, then the tail) so that it vectorizes;
/// the same bits for the same inputs on every call. Extra values of the longer row are ignored.
///
/// ```
/// let d = amlis::common::linalg::sq_euclidean(&[1.0, 2.0, 3.0], &[1.0, 0.0, 1.0]);
/// assert_eq!(d, 8.0);
/// ```
#[inline]
pub fn sq_euclidean(a: &[f64], b: &[f64]) -> f64 {
    four_lane_sum(a, b, |x, y| (x - y) * (x - y))
}

/// The squared norm `Σ aᵢ²` of a row, summed in four interleaved lanes as [`sq_euclidean`]
/// (vectorized; the same bits on every call).
///
/// ```
/// assert_eq!(amlis::common::linalg::sq_norm(&[1.0, 2.0, 3.0, 4.0, 5.0]), 55.0);
/// ```
#[inline]
pub fn sq_norm(a: &[f64]) -> f64 {
    four_lane_sum(a, a, |x, _| x * x)
}

/// `Σ term(aᵢ, bᵢ)` over the common length, in four interleaved lanes added as
/// `(l0 + l1) + (l2 + l3)`, then the tail in order.
#[inline(always)]
fn four_lane_sum(a: &[f64], b: &[f64], term: impl Fn(f64, f64) -> f64) -> f64 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut lanes = [0.0f64; 4];
    let (a4, a_tail) = a.split_at(n - n % 4);
    let (b4, b_tail) = b.split_at(n - n % 4);
    for (x, y) in a4.chunks_exact(4).zip(b4.chunks_exact(4)) {
        for l in 0..4 {
            lanes[l] += term(x[l], y[l]);
        }
    }
    let mut sum = (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]);
    for (x, y) in a_tail.iter().zip(b_tail) {
        sum += term(*x, *y);
    }
    sum
}

/// The values of `row` as a slice: borrowed when the view is contiguous, else copied into
/// `buf` (a per-block scratch the caller reuses).
#[inline]
pub fn row_slice<'a>(row: ArrayView1<'a, f64>, buf: &'a mut Vec<f64>) -> &'a [f64] {
    match row.to_slice() {
        Some(s) => s,
        None => {
            buf.clear();
            buf.extend(row.iter());
            buf
        }
    }
}

/// Rows centred at a time inside a [`ROW_BLOCK`] by [`weighted_gram`] (a buffer that stays in
/// cache).
const SUB_BLOCK: usize = 256;

/// `out = a · bᵀ`, where `a` is the row-major `m × p` matrix in `a`, `b` the row-major `k × p`
/// matrix in `b` and `out` the row-major `m × k` result (overwritten).
///
/// Runs on the calling thread (faer with `Par::Seq`): callers cut their rows into fixed blocks
/// and run the blocks in parallel, so the bits never depend on the number of threads. Wrong
/// lengths are an error.
///
/// ```
/// let (a, b) = ([1.0, 2.0, 3.0, 4.0], [1.0, 0.0, 1.0, 1.0, 0.0, 2.0]);
/// let mut out = [0.0; 6];
/// amlis::common::linalg::gemm_abt(&a, 2, &b, 3, 2, &mut out)?;
/// assert_eq!(out, [1.0, 3.0, 4.0, 3.0, 7.0, 8.0]);
/// # Ok::<(), amlis::Error>(())
/// ```
pub fn gemm_abt<T: GemmScalar>(
    a: &[T],
    m: usize,
    b: &[T],
    k: usize,
    p: usize,
    out: &mut [T],
) -> Result<()> {
    let fits = |len: usize, rows: usize, cols: usize| rows.checked_mul(cols) == Some(len);
    if !(fits(a.len(), m, p) && fits(b.len(), k, p) && fits(out.len(), m, k)) {
        return Err(Error::shape(
            "gemm_abt",
            format!("{m} x {p}, {k} x {p} and {m} x {k} matrices"),
            format!(
                "slices of {}, {} and {} values",
                a.len(),
                b.len(),
                out.len()
            ),
        ));
    }
    if m == 0 || k == 0 {
        return Ok(());
    }
    if p == 0 {
        out.fill(T::ZERO);
        return Ok(());
    }
    let am = MatRef::from_row_major_slice(a, m, p);
    let bm = MatRef::from_row_major_slice(b, k, p);
    let om = MatMut::from_row_major_slice_mut(out, m, k);
    faer::linalg::matmul::matmul(om, Accum::Replace, am, bm.transpose(), T::ONE, Par::Seq);
    Ok(())
}

/// The element types [`gemm_abt`] multiplies: `f64`, and `f32` for screens that bound its
/// rounding (twice the products per instruction).
pub trait GemmScalar: faer::traits::ComplexField + Copy {
    /// 0.
    const ZERO: Self;
    /// 1.
    const ONE: Self;
}

impl GemmScalar for f64 {
    const ZERO: Self = 0.0;
    const ONE: Self = 1.0;
}

impl GemmScalar for f32 {
    const ZERO: Self = 0.0;
    const ONE: Self = 1.0;
}

/// `out += aᵀ · b`, where `a` is the row-major `m × p` matrix in `a`, `b` the row-major `m × q`
/// matrix in `b` and `out` the row-major `p × q` accumulator: a weighted scatter matrix
/// `Σᵢ rᵢ dᵢ dᵢᵀ` is `gemm_atb_add(r∘d, d, ...)`.
///
/// Runs on the calling thread (faer with `Par::Seq`), like [`gemm_abt`]. Wrong lengths are an
/// error.
///
/// ```
/// // Rows (1, 2) and (3, 4): aᵀa = [[10, 14], [14, 20]], added to the identity.
/// let a = [1.0, 2.0, 3.0, 4.0];
/// let mut out = [1.0, 0.0, 0.0, 1.0];
/// amlis::common::linalg::gemm_atb_add(&a, &a, 2, 2, 2, &mut out)?;
/// assert_eq!(out, [11.0, 14.0, 14.0, 21.0]);
/// # Ok::<(), amlis::Error>(())
/// ```
pub fn gemm_atb_add(
    a: &[f64],
    b: &[f64],
    m: usize,
    p: usize,
    q: usize,
    out: &mut [f64],
) -> Result<()> {
    let fits = |len: usize, rows: usize, cols: usize| rows.checked_mul(cols) == Some(len);
    if !(fits(a.len(), m, p) && fits(b.len(), m, q) && fits(out.len(), p, q)) {
        return Err(Error::shape(
            "gemm_atb_add",
            format!("{m} x {p}, {m} x {q} and {p} x {q} matrices"),
            format!(
                "slices of {}, {} and {} values",
                a.len(),
                b.len(),
                out.len()
            ),
        ));
    }
    if m == 0 || p == 0 || q == 0 {
        return Ok(());
    }
    let am = MatRef::from_row_major_slice(a, m, p);
    let bm = MatRef::from_row_major_slice(b, m, q);
    let om = MatMut::from_row_major_slice_mut(out, p, q);
    faer::linalg::matmul::matmul(om, Accum::Add, am.transpose(), bm, 1.0, Par::Seq);
    Ok(())
}

/// A thin singular value decomposition `A = U·diag(s)·Vᵀ` of an `n × p` matrix, `k = min(n, p)`.
#[derive(Debug, Clone)]
pub struct ThinSvd {
    /// Left singular vectors, `n × k`.
    pub u: Array2<f64>,
    /// Singular values, non-negative, non-increasing, length `k`.
    pub s: Array1<f64>,
    /// Right singular vectors, `p × k` (not transposed).
    pub v: Array2<f64>,
}

/// Views an ndarray matrix as a faer matrix without copying when its layout allows, otherwise
/// copies it into a column-major faer matrix.
fn with_faer<R>(a: ArrayView2<'_, f64>, f: impl FnOnce(MatRef<'_, f64>) -> R) -> R {
    let (n, p) = a.dim();
    if let Some(s) = a.as_slice() {
        return f(MatRef::from_row_major_slice(s, n, p));
    }
    let t = a.t();
    if let Some(s) = t.as_slice() {
        return f(MatRef::from_column_major_slice(s, n, p));
    }
    let m = Mat::from_fn(n, p, |i, j| a[[i, j]]);
    f(m.as_ref())
}

fn to_ndarray(m: MatRef<'_, f64>) -> Array2<f64> {
    Array2::from_shape_fn((m.nrows(), m.ncols()), |(i, j)| m[(i, j)])
}

/// The thin SVD of `a` (any shape; an empty dimension gives empty factors).
///
/// Errors when `a` holds a non-finite value or the iteration fails to converge.
pub fn thin_svd(a: ArrayView2<'_, f64>) -> Result<ThinSvd> {
    let (n, p) = a.dim();
    let k = n.min(p);
    if k == 0 {
        return Ok(ThinSvd {
            u: Array2::zeros((n, 0)),
            s: Array1::zeros(0),
            v: Array2::zeros((p, 0)),
        });
    }
    if a.iter().any(|v| !v.is_finite()) {
        return Err(Error::InvalidArgument(
            "SVD of a matrix holding NaN or infinite values".into(),
        ));
    }
    let par = Par::Seq;
    let mut u = Mat::<f64>::zeros(n, k);
    let mut v = Mat::<f64>::zeros(p, k);
    let mut s = Diag::<f64>::zeros(k);
    let req = faer::linalg::svd::svd_scratch::<f64>(
        n,
        p,
        ComputeSvdVectors::Thin,
        ComputeSvdVectors::Thin,
        par,
        Default::default(),
    );
    let mut mem = MemBuffer::new(req);
    let res = with_faer(a, |m| {
        faer::linalg::svd::svd(
            m,
            s.as_mut(),
            Some(u.as_mut()),
            Some(v.as_mut()),
            par,
            MemStack::new(&mut mem),
            Default::default(),
        )
    });
    res.map_err(|e| Error::InvalidArgument(format!("SVD did not converge: {e:?}")))?;
    let s = Array1::from_iter(s.column_vector().iter().copied());
    Ok(ThinSvd {
        u: to_ndarray(u.as_ref()),
        s,
        v: to_ndarray(v.as_ref()),
    })
}

/// The singular values and right singular vectors of an `n × p` matrix, `k = min(n, p)`
/// (what PCA needs: no left vectors).
#[derive(Debug, Clone)]
pub struct RightSvd {
    /// Singular values, non-negative, non-increasing, length `k`.
    pub s: Array1<f64>,
    /// Right singular vectors, `p × k` (not transposed).
    pub v: Array2<f64>,
}

/// Fewest rows per block of [`svd_right`]'s tall-skinny QR.
const TSQR_MIN_ROWS: usize = ROW_BLOCK;

/// Most blocks of [`svd_right`]'s tall-skinny QR (the stacked triangular factors, at most
/// this many times `p × p`, are factored once more on one thread).
const TSQR_MAX_BLOCKS: usize = 32;

/// The singular values and right singular vectors of `a` (any shape), without the left
/// vectors: the same values and vectors as [`thin_svd`] (up to rounding and the signs of the
/// vectors), at a fraction of the cost for a tall matrix.
///
/// A matrix with at least `2·p` and `2·2048` rows goes through a tall-skinny QR: fixed blocks
/// of rows (their number depends only on the shape) are QR-factored in parallel, their `R`
/// factors stacked and the SVD taken of that small stack — the right singular vectors and
/// values of `A = Q·R` are those of `R`, and Householder QR is backward stable, so this is as
/// exact as the direct SVD (unlike the eigendecomposition of `AᵀA`, which squares the
/// condition number). Any other shape takes faer's SVD without left vectors. Each block runs
/// sequentially and the stack is in block order: the same bits for any number of threads.
///
/// Errors when `a` holds a non-finite value or the iteration fails to converge.
///
/// ```
/// use ndarray::Array2;
/// let a = Array2::from_shape_fn((5000, 3), |(i, j)| ((i * (j + 2)) % 7) as f64 - 3.0 + j as f64);
/// let fast = amlis::common::linalg::svd_right(a.view())?;
/// let full = amlis::common::linalg::thin_svd(a.view())?;
/// for (x, y) in fast.s.iter().zip(full.s.iter()) {
///     assert!((x - y).abs() <= 1e-10 * full.s[0]);
/// }
/// # Ok::<(), amlis::Error>(())
/// ```
pub fn svd_right(a: ArrayView2<'_, f64>) -> Result<RightSvd> {
    let (n, p) = a.dim();
    let k = n.min(p);
    if k == 0 {
        return Ok(RightSvd {
            s: Array1::zeros(0),
            v: Array2::zeros((p, 0)),
        });
    }
    if a.iter().any(|v| !v.is_finite()) {
        return Err(Error::InvalidArgument(
            "SVD of a matrix holding NaN or infinite values".into(),
        ));
    }
    let min_rows = TSQR_MIN_ROWS.max(p);
    if n < 2 * min_rows {
        return with_faer(a, svd_right_faer);
    }
    let n_blocks = (n / min_rows).clamp(1, TSQR_MAX_BLOCKS);
    let rows = n.div_ceil(n_blocks);
    let factors: Vec<Mat<f64>> = (0..n_blocks)
        .into_par_iter()
        .map(|b| {
            let start = (b * rows).min(n);
            let end = ((b + 1) * rows).min(n);
            let block = a.slice(ndarray::s![start..end, ..]);
            r_factor(block)
        })
        .collect();
    let stacked = Mat::from_fn(n_blocks * p, p, |i, j| factors[i / p][(i % p, j)]);
    svd_right_faer(stacked.as_ref())
}

/// The `p × p` upper-triangular `R` of the Householder QR of the `m × p` block `a`
/// (`m >= p`), sequential.
fn r_factor(a: ArrayView2<'_, f64>) -> Mat<f64> {
    let (m, p) = a.dim();
    let par = Par::Seq;
    let mut qr = Mat::from_fn(m, p, |i, j| a[[i, j]]);
    let bs = faer::linalg::qr::no_pivoting::factor::recommended_blocksize::<f64>(m, p);
    let mut coeff = Mat::<f64>::zeros(bs, m.min(p));
    let mut mem = MemBuffer::new(
        faer::linalg::qr::no_pivoting::factor::qr_in_place_scratch::<f64>(
            m,
            p,
            bs,
            par,
            Default::default(),
        ),
    );
    faer::linalg::qr::no_pivoting::factor::qr_in_place(
        qr.as_mut(),
        coeff.as_mut(),
        par,
        MemStack::new(&mut mem),
        Default::default(),
    );
    Mat::from_fn(p, p, |i, j| if i <= j && i < m { qr[(i, j)] } else { 0.0 })
}

/// faer's SVD of `a`, singular values and right vectors only (sequential).
fn svd_right_faer(a: MatRef<'_, f64>) -> Result<RightSvd> {
    let (n, p) = (a.nrows(), a.ncols());
    let k = n.min(p);
    let par = Par::Seq;
    let mut v = Mat::<f64>::zeros(p, k);
    let mut s = Diag::<f64>::zeros(k);
    let req = faer::linalg::svd::svd_scratch::<f64>(
        n,
        p,
        ComputeSvdVectors::No,
        ComputeSvdVectors::Thin,
        par,
        Default::default(),
    );
    let mut mem = MemBuffer::new(req);
    faer::linalg::svd::svd(
        a,
        s.as_mut(),
        None,
        Some(v.as_mut()),
        par,
        MemStack::new(&mut mem),
        Default::default(),
    )
    .map_err(|e| Error::InvalidArgument(format!("SVD did not converge: {e:?}")))?;
    Ok(RightSvd {
        s: Array1::from_iter(s.column_vector().iter().copied()),
        v: to_ndarray(v.as_ref()),
    })
}

/// The eigendecomposition `A = V·diag(w)·Vᵀ` of a symmetric `p × p` matrix (only its lower
/// triangle is read): eigenvalues ascending in `w`, eigenvectors as the columns of `v`.
#[derive(Debug, Clone)]
pub struct SymEigen {
    /// Eigenvalues, ascending.
    pub w: Array1<f64>,
    /// Eigenvectors, one per column, `p × p`.
    pub v: Array2<f64>,
}

/// The eigendecomposition of a symmetric matrix (faer's self-adjoint solver, sequential).
///
/// Errors when `a` is not square, holds a non-finite value or the iteration fails.
///
/// ```
/// use ndarray::array;
/// let e = amlis::common::linalg::sym_eigh(array![[2.0, 1.0], [1.0, 2.0]].view())?;
/// assert!((e.w[0] - 1.0).abs() < 1e-12 && (e.w[1] - 3.0).abs() < 1e-12);
/// # Ok::<(), amlis::Error>(())
/// ```
pub fn sym_eigh(a: ArrayView2<'_, f64>) -> Result<SymEigen> {
    let p = a.nrows();
    if a.ncols() != p {
        return Err(Error::shape(
            "sym_eigh",
            "a square matrix",
            format!("{}x{}", a.nrows(), a.ncols()),
        ));
    }
    if a.iter().any(|v| !v.is_finite()) {
        return Err(Error::InvalidArgument(
            "eigendecomposition of a matrix holding NaN or infinite values".into(),
        ));
    }
    let par = Par::Seq;
    let m = Mat::from_fn(p, p, |i, j| if i >= j { a[[i, j]] } else { a[[j, i]] });
    let mut u = Mat::<f64>::zeros(p, p);
    let mut s = Diag::<f64>::zeros(p);
    let req = faer::linalg::evd::self_adjoint_evd_scratch::<f64>(
        p,
        faer::linalg::evd::ComputeEigenvectors::Yes,
        par,
        Default::default(),
    );
    let mut mem = MemBuffer::new(req);
    faer::linalg::evd::self_adjoint_evd(
        m.as_ref(),
        s.as_mut(),
        Some(u.as_mut()),
        par,
        MemStack::new(&mut mem),
        Default::default(),
    )
    .map_err(|e| Error::InvalidArgument(format!("eigendecomposition did not converge: {e:?}")))?;
    Ok(SymEigen {
        w: Array1::from_iter(s.column_vector().iter().copied()),
        v: to_ndarray(u.as_ref()),
    })
}

/// An orthonormal basis of the column space of the `n × k` matrix `a`: the economic `Q` of
/// its Householder QR factorization, `n × min(n, k)` (faer, sequential; LAPACK's and
/// SciPy's `qr(mode="economic")` up to the signs of the columns).
pub fn thin_q(a: ArrayView2<'_, f64>) -> Result<Array2<f64>> {
    let (n, k_in) = a.dim();
    let k = n.min(k_in);
    if k == 0 {
        return Ok(Array2::zeros((n, 0)));
    }
    if a.iter().any(|v| !v.is_finite()) {
        return Err(Error::InvalidArgument(
            "QR factorization of a matrix holding NaN or infinite values".into(),
        ));
    }
    let par = Par::Seq;
    let mut qr = Mat::from_fn(n, k_in, |i, j| a[[i, j]]);
    let bs = faer::linalg::qr::no_pivoting::factor::recommended_blocksize::<f64>(n, k_in);
    let mut coeff = Mat::<f64>::zeros(bs, k);
    let mut mem = MemBuffer::new(
        faer::linalg::qr::no_pivoting::factor::qr_in_place_scratch::<f64>(
            n,
            k_in,
            bs,
            par,
            Default::default(),
        ),
    );
    faer::linalg::qr::no_pivoting::factor::qr_in_place(
        qr.as_mut(),
        coeff.as_mut(),
        par,
        MemStack::new(&mut mem),
        Default::default(),
    );
    let mut q = Mat::<f64>::identity(n, k);
    let mut mem = MemBuffer::new(
        faer::linalg::householder::apply_block_householder_sequence_on_the_left_in_place_scratch::<
            f64,
        >(n, bs, k),
    );
    faer::linalg::householder::apply_block_householder_sequence_on_the_left_in_place_with_conj(
        qr.as_ref().subcols(0, k),
        coeff.as_ref(),
        faer::Conj::No,
        q.as_mut(),
        par,
        MemStack::new(&mut mem),
    );
    Ok(to_ndarray(q.as_ref()))
}

/// The outcome of [`cholesky_solve`].
#[derive(Debug, Clone)]
pub struct CholeskySolution {
    /// The solution `x` of `A x = b`.
    pub x: Array1<f64>,
    /// A cheap estimate of the reciprocal condition number of `A`:
    /// `(min_i L_ii / max_i L_ii)²` from the Cholesky factor `L`.
    pub rcond: f64,
}

/// Solves `A x = b` for a symmetric positive-definite `p × p` matrix `A` (only its lower
/// triangle is read) by Cholesky factorization.
///
/// Returns `None` when `A` is not numerically positive definite (the caller then falls back to
/// an SVD), and an error when the shapes disagree.
pub fn cholesky_solve(
    a: ArrayView2<'_, f64>,
    b: ArrayView1<'_, f64>,
) -> Result<Option<CholeskySolution>> {
    let p = a.nrows();
    if a.ncols() != p || b.len() != p {
        return Err(Error::shape(
            "cholesky_solve",
            format!("a square matrix and a vector of length {p}"),
            format!("{}x{} and {}", a.nrows(), a.ncols(), b.len()),
        ));
    }
    let par = Par::Seq;
    let mut l = Mat::from_fn(p, p, |i, j| if i >= j { a[[i, j]] } else { 0.0 });
    let req = faer::linalg::cholesky::llt::factor::cholesky_in_place_scratch::<f64>(
        p,
        par,
        Default::default(),
    );
    let mut mem = MemBuffer::new(req);
    let fact = faer::linalg::cholesky::llt::factor::cholesky_in_place(
        l.as_mut(),
        Default::default(),
        par,
        MemStack::new(&mut mem),
        Default::default(),
    );
    if fact.is_err() {
        return Ok(None);
    }
    let diag: Vec<f64> = (0..p).map(|i| l[(i, i)]).collect();
    let dmax = diag.iter().fold(0.0f64, |m, &d| m.max(d));
    let dmin = diag.iter().fold(f64::INFINITY, |m, &d| m.min(d));
    if !(dmin > 0.0 && dmin.is_finite()) {
        return Ok(None);
    }
    let mut rhs = Mat::from_fn(p, 1, |i, _| b[i]);
    faer::linalg::triangular_solve::solve_lower_triangular_in_place(l.as_ref(), rhs.as_mut(), par);
    faer::linalg::triangular_solve::solve_upper_triangular_in_place(
        l.as_ref().transpose(),
        rhs.as_mut(),
        par,
    );
    let x = Array1::from_shape_fn(p, |i| rhs[(i, 0)]);
    Ok(Some(CholeskySolution {
        x,
        rcond: (dmin / dmax).powi(2),
    }))
}

/// The lower Cholesky factor `L` (`A = L·Lᵀ`) of a symmetric positive-definite `p × p`
/// matrix `A` given row-major in `a` (only its lower triangle is read), returned row-major
/// with zeros above the diagonal.
///
/// `None` when `A` is not numerically positive definite (a factor with a non-positive or
/// non-finite diagonal); a length other than `p²` is an error.
///
/// ```
/// let l = amlis::common::linalg::cholesky_lower(&[4.0, 2.0, 2.0, 5.0], 2)?.unwrap();
/// assert_eq!(l, [2.0, 0.0, 1.0, 2.0]);
/// assert!(amlis::common::linalg::cholesky_lower(&[1.0, 2.0, 2.0, 1.0], 2)?.is_none());
/// # Ok::<(), amlis::Error>(())
/// ```
pub fn cholesky_lower(a: &[f64], p: usize) -> Result<Option<Vec<f64>>> {
    if p.checked_mul(p) != Some(a.len()) {
        return Err(Error::shape(
            "cholesky_lower",
            format!("{p} x {p} values"),
            format!("{} values", a.len()),
        ));
    }
    let par = Par::Seq;
    let mut l = Mat::from_fn(p, p, |i, j| if i >= j { a[i * p + j] } else { 0.0 });
    let req = faer::linalg::cholesky::llt::factor::cholesky_in_place_scratch::<f64>(
        p,
        par,
        Default::default(),
    );
    let mut mem = MemBuffer::new(req);
    let fact = faer::linalg::cholesky::llt::factor::cholesky_in_place(
        l.as_mut(),
        Default::default(),
        par,
        MemStack::new(&mut mem),
        Default::default(),
    );
    if fact.is_err() || (0..p).any(|i| !(l[(i, i)] > 0.0 && l[(i, i)].is_finite())) {
        return Ok(None);
    }
    Ok(Some(
        (0..p * p)
            .map(|ij| {
                let (i, j) = (ij / p, ij % p);
                if i >= j {
                    l[(i, j)]
                } else {
                    0.0
                }
            })
            .collect(),
    ))
}

/// The Gram quantities of a centred, row-weighted least-squares problem.
#[derive(Debug, Clone)]
pub struct Gram {
    /// `Xᵀ X`, `p × p`, symmetric (both triangles filled).
    pub xtx: Array2<f64>,
    /// `Xᵀ y`, length `p`.
    pub xty: Array1<f64>,
    /// `yᵀ y`.
    pub yty: f64,
}

/// `Xᵀ X`, `Xᵀ y` and `yᵀ y` of the matrix with rows `s_i · (x_i − x_offset)` and targets
/// `s_i · (y_i − y_offset)`, where `s_i` is `row_scale[i]` (e.g. `√w_i`) or 1.
///
/// The rows are cut into blocks of [`ROW_BLOCK`]; each block is centred into a buffer and
/// multiplied by faer (lower triangle only), blocks run in parallel with rayon, and the partial
/// sums are added in block order, so the result does not depend on the number of threads.
pub fn weighted_gram(
    x: ArrayView2<'_, f64>,
    y: ArrayView1<'_, f64>,
    x_offset: ArrayView1<'_, f64>,
    y_offset: f64,
    row_scale: Option<ArrayView1<'_, f64>>,
) -> Result<Gram> {
    let (n, p) = x.dim();
    if y.len() != n || x_offset.len() != p || row_scale.is_some_and(|s| s.len() != n) {
        return Err(Error::shape(
            "weighted_gram",
            format!("{n} targets, {p} offsets and {n} row scales"),
            format!(
                "{} targets, {} offsets, {} row scales",
                y.len(),
                x_offset.len(),
                row_scale.map_or(n, |s| s.len())
            ),
        ));
    }
    let n_blocks = n.div_ceil(ROW_BLOCK);
    let partials: Vec<(Mat<f64>, Vec<f64>, f64)> = (0..n_blocks)
        .into_par_iter()
        .map(|b| {
            let start = b * ROW_BLOCK;
            let end = (start + ROW_BLOCK).min(n);
            let rows = end - start;
            // Centre SUB_BLOCK rows at a time into a small, cache-resident row-major buffer and
            // accumulate their Gram product (lower triangle) into `g`.
            let mut buf = vec![0.0; SUB_BLOCK * p];
            let mut yb = vec![0.0; rows];
            let mut xty = vec![0.0; p];
            let mut g = Mat::<f64>::zeros(p, p);
            let mut sub = start;
            while sub < end {
                let sub_end = (sub + SUB_BLOCK).min(end);
                let sub_rows = sub_end - sub;
                for (r, i) in (sub..sub_end).enumerate() {
                    let s = row_scale.map_or(1.0, |w| w[i]);
                    let dst = &mut buf[r * p..(r + 1) * p];
                    let xi = x.row(i);
                    match (xi.as_slice(), x_offset.as_slice()) {
                        (Some(xs), Some(os)) => {
                            for ((d, xv), o) in dst.iter_mut().zip(xs).zip(os) {
                                *d = s * (xv - o);
                            }
                        }
                        _ => {
                            for ((d, xv), o) in dst.iter_mut().zip(xi.iter()).zip(x_offset.iter()) {
                                *d = s * (xv - o);
                            }
                        }
                    }
                    let yv = s * (y[i] - y_offset);
                    yb[i - start] = yv;
                    for (t, d) in xty.iter_mut().zip(dst.iter()) {
                        *t += d * yv;
                    }
                }
                let bm = MatRef::from_row_major_slice(&buf[..sub_rows * p], sub_rows, p);
                tri::matmul(
                    g.as_mut(),
                    BlockStructure::TriangularLower,
                    if sub == start {
                        Accum::Replace
                    } else {
                        Accum::Add
                    },
                    bm.transpose(),
                    BlockStructure::Rectangular,
                    bm,
                    BlockStructure::Rectangular,
                    1.0,
                    Par::Seq,
                );
                sub = sub_end;
            }
            let yty = yb.iter().map(|v| v * v).sum();
            (g, xty, yty)
        })
        .collect();
    let mut xtx = Array2::<f64>::zeros((p, p));
    let mut xty = Array1::<f64>::zeros(p);
    let mut yty = 0.0;
    for (g, v, s) in &partials {
        for j in 0..p {
            for i in j..p {
                xtx[[i, j]] += g[(i, j)];
            }
            xty[j] += v[j];
        }
        yty += s;
    }
    for j in 0..p {
        for i in 0..j {
            xtx[[i, j]] = xtx[[j, i]];
        }
    }
    Ok(Gram { xtx, xty, yty })
}

/// `out[r·k + c] = Σ_j (a[r·p + j] − shift[j]) · bt[j·k + c]` for `m` rows `a` (row-major
/// `m × p`), the `p × k` matrix `bt` (row-major: column `c` holds output `c`'s weights) and a
/// shift per input column, each output accumulated from 0 in `j` order with a separate
/// subtraction, multiplication and addition. These are the bits of the plain loop
/// `acc += (a_j − shift_j) · w_j` over one output at a time (a row path), but the `k` outputs
/// of a row accumulate side by side, so the loop vectorizes (AVX2 when the CPU has it: the
/// same bits, since no multiply-add is fused). Sequential, for callers that run fixed row
/// blocks in parallel. Wrong lengths are an error.
///
/// ```
/// // Rows [1, 2] and [3, 4] shifted by [1, 1], times columns [1, 0] and [1, 1].
/// let mut out = [0.0; 4];
/// amlis::common::linalg::shifted_dots_ordered(
///     &[1.0, 2.0, 3.0, 4.0], 2, &[1.0, 1.0], &[1.0, 1.0, 0.0, 1.0], 2, &mut out,
/// )?;
/// assert_eq!(out, [0.0, 1.0, 2.0, 5.0]);
/// # Ok::<(), amlis::Error>(())
/// ```
pub fn shifted_dots_ordered(
    a: &[f64],
    m: usize,
    shift: &[f64],
    bt: &[f64],
    k: usize,
    out: &mut [f64],
) -> Result<()> {
    let p = shift.len();
    if m.checked_mul(p) != Some(a.len())
        || p.checked_mul(k) != Some(bt.len())
        || m.checked_mul(k) != Some(out.len())
    {
        return Err(Error::shape(
            "shifted_dots_ordered",
            format!("{m} x {p}, {p} x {k} and {m} x {k} matrices"),
            format!(
                "slices of {}, {} and {} values",
                a.len(),
                bt.len(),
                out.len()
            ),
        ));
    }
    with_avx2(
        #[inline(always)]
        || shifted_dots_kernel(a, shift, bt, k, out),
    );
    Ok(())
}

/// Outputs per group of [`shifted_dots_kernel`] (two AVX2 registers).
const DOT_LANES: usize = 8;
/// Rows per group of [`shifted_dots_kernel`]: `DOT_ROWS × DOT_LANES` independent sums, enough
/// to hide the latency of the additions.
const DOT_ROWS: usize = 4;

/// The loop of [`shifted_dots_ordered`] (lengths checked by the caller): the outputs in groups
/// of [`DOT_LANES`] (weights copied side by side, zero-padded), [`DOT_ROWS`] rows at a time,
/// with the sums held in registers; each sum still runs over `j` in order.
#[inline(always)]
fn shifted_dots_kernel(a: &[f64], shift: &[f64], bt: &[f64], k: usize, out: &mut [f64]) {
    let p = shift.len();
    if k == 0 || p == 0 {
        out.fill(0.0);
        return;
    }
    let mut w = vec![[0.0f64; DOT_LANES]; p];
    for c0 in (0..k).step_by(DOT_LANES) {
        let width = DOT_LANES.min(k - c0);
        for (wj, row) in w.iter_mut().zip(bt.chunks_exact(k)) {
            wj.fill(0.0);
            if let Some(src) = row.get(c0..c0 + width) {
                wj[..width].copy_from_slice(src);
            }
        }
        let mut rows = a.chunks_exact(p * DOT_ROWS);
        let mut outs = out.chunks_exact_mut(k * DOT_ROWS);
        for (xs, os) in (&mut rows).zip(&mut outs) {
            shifted_dots_group::<DOT_ROWS>(xs, shift, &w, k, c0, width, os);
        }
        for (xs, os) in rows
            .remainder()
            .chunks_exact(p)
            .zip(outs.into_remainder().chunks_exact_mut(k))
        {
            shifted_dots_group::<1>(xs, shift, &w, k, c0, width, os);
        }
    }
}

/// Outputs `c0..c0 + width` of `R` rows (`xs`: `R × p`, `os`: `R × k`).
#[inline(always)]
fn shifted_dots_group<const R: usize>(
    xs: &[f64],
    shift: &[f64],
    w: &[[f64; DOT_LANES]],
    k: usize,
    c0: usize,
    width: usize,
    os: &mut [f64],
) {
    let p = shift.len();
    let mut acc = [[0.0f64; DOT_LANES]; R];
    for (j, (&s, wj)) in shift.iter().zip(w).enumerate() {
        for (r, accr) in acc.iter_mut().enumerate() {
            let t = xs.get(r * p + j).copied().unwrap_or(0.0) - s;
            for (o, &wv) in accr.iter_mut().zip(wj) {
                *o += t * wv;
            }
        }
    }
    for (r, accr) in acc.iter().enumerate() {
        if let Some(dst) = os.get_mut(r * k + c0..r * k + c0 + width) {
            dst.copy_from_slice(&accr[..width]);
        }
    }
}

/// Lanes per step of [`exp_in_place`].
const EXP_LANES: usize = 8;

/// Replaces every value `v` of `values` by `exp(v)`, within about 1 ulp of the exact value
/// (Cody–Waite reduction by `ln 2` and a degree-13 polynomial), vectorized: the same bits on
/// every call and every CPU (plain multiplies and adds, nothing fused, so the AVX2 path and
/// the scalar one agree), whether a value is alone or in a long slice. Results below the
/// smallest subnormal are 0 and above `f64::MAX` are `inf`; a `NaN` gives `NaN`.
///
/// ```
/// let mut v = [0.0, 1.0, -2.5, -800.0, 710.0];
/// amlis::common::linalg::exp_in_place(&mut v);
/// assert_eq!(v[0], 1.0);
/// assert!((v[1] - std::f64::consts::E).abs() <= 2.0 * f64::EPSILON * v[1]);
/// assert!((v[2] - (-2.5f64).exp()).abs() <= 2.0 * f64::EPSILON * v[2]);
/// assert_eq!((v[3], v[4]), (0.0, f64::INFINITY));
/// ```
pub fn exp_in_place(values: &mut [f64]) {
    with_avx2(
        #[inline(always)]
        || {
            let mut chunks = values.chunks_exact_mut(EXP_LANES);
            for c in &mut chunks {
                for v in c.iter_mut() {
                    *v = exp_lane(*v);
                }
            }
            for v in chunks.into_remainder() {
                *v = exp_lane(*v);
            }
        },
    );
}

/// One value of [`exp_in_place`] (branch-free, so that a loop of it vectorizes).
#[inline(always)]
fn exp_lane(x: f64) -> f64 {
    const LOG2E: f64 = std::f64::consts::LOG2_E;
    // ln 2 split so that `n · LN2_HI` is exact for |n| < 2^11.
    const LN2_HI: f64 = f64::from_bits(0x3fe6_2e42_fee0_0000);
    const LN2_LO: f64 = f64::from_bits(0x3dea_39ef_3579_3c76);
    // Adding 1.5 · 2^52 rounds to an integer held in the low mantissa bits.
    const MAGIC: f64 = 6_755_399_441_055_744.0;
    let nan = x.is_nan();
    let x = if x < -746.0 { -746.0 } else { x };
    let x = if x > 710.0 { 710.0 } else { x };
    let t = x * LOG2E + MAGIC;
    let nf = t - MAGIC;
    let n = t.to_bits().wrapping_sub(MAGIC.to_bits()) as i64;
    let r = (x - nf * LN2_HI) - nf * LN2_LO;
    // exp(r) on |r| <= ln 2 / 2 by its Taylor series to r^13 (truncation below 1e-17).
    let mut p = 1.0 / 6_227_020_800.0;
    for c in [
        1.0 / 479_001_600.0,
        1.0 / 39_916_800.0,
        1.0 / 3_628_800.0,
        1.0 / 362_880.0,
        1.0 / 40_320.0,
        1.0 / 5_040.0,
        1.0 / 720.0,
        1.0 / 120.0,
        1.0 / 24.0,
        1.0 / 6.0,
        0.5,
        1.0,
        1.0,
    ] {
        p = p * r + c;
    }
    // 2^n as two factors, each a normal number for n in [-1076, 1024].
    let n1 = n >> 1;
    let n2 = n.wrapping_sub(n1);
    let scale = |e: i64| f64::from_bits((e.wrapping_add(1023) as u64) << 52);
    let y = p * scale(n1) * scale(n2);
    if nan {
        f64::NAN
    } else {
        y
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn svd_reconstructs() {
        let a = array![[1.0, 2.0], [3.0, 4.0], [5.0, 6.5]];
        let svd = thin_svd(a.view()).unwrap();
        let us = &svd.u * &svd.s;
        let back = us.dot(&svd.v.t());
        for (x, y) in back.iter().zip(a.iter()) {
            assert!((x - y).abs() < 1e-12);
        }
        assert!(svd.s[0] >= svd.s[1]);
        // Same through a transposed (column-major) view.
        let at = a.t().to_owned();
        let svd2 = thin_svd(at.t()).unwrap();
        assert!((svd2.s[0] - svd.s[0]).abs() < 1e-12);
    }

    #[test]
    fn exp_in_place_is_within_two_ulp_of_libm_everywhere() {
        let mut xs: Vec<f64> = (0..200_001)
            .map(|i| -745.0 + 1454.0 * f64::from(i) / 200_000.0)
            .collect();
        xs.extend([0.0, -0.0, 1e-300, -1e-300, 0.5, -0.5, 0.346, -0.347, 708.0]);
        let mut ys = xs.clone();
        exp_in_place(&mut ys);
        for (&x, &y) in xs.iter().zip(&ys) {
            let want = x.exp();
            // Subnormal results: an absolute bound of a few of the smallest subnormals.
            let tol = (2.0 * f64::EPSILON * want).max(4.0 * f64::from_bits(1));
            assert!((y - want).abs() <= tol, "exp({x}) = {y}, libm {want}");
        }
        // A value alone gives the bits it gives in a long slice.
        for (&x, &y) in xs.iter().zip(&ys).step_by(997) {
            let mut one = [x];
            exp_in_place(&mut one);
            assert_eq!(one[0].to_bits(), y.to_bits());
        }
        let mut edge = [-1e9, 1e9, f64::NAN, f64::NEG_INFINITY];
        exp_in_place(&mut edge);
        assert_eq!(&edge[..2], &[0.0, f64::INFINITY]);
        assert!(edge[2].is_nan());
        assert_eq!(edge[3], 0.0);
    }

    #[test]
    fn svd_right_equals_the_full_svd_on_tall_and_wide_matrices() {
        // 9001 rows: a tall-skinny QR over blocks of unequal length; 40 x 7: faer directly.
        for (n, p) in [(9001, 7), (40, 7), (7, 40)] {
            let a = Array2::from_shape_fn((n, p), |(i, j)| {
                (((i * 31 + j * 17) % 23) as f64 - 11.0) * (1.0 + j as f64) + (i % 5) as f64
            });
            let fast = svd_right(a.view()).unwrap();
            let full = thin_svd(a.view()).unwrap();
            assert_eq!(fast.s.len(), full.s.len());
            for (x, y) in fast.s.iter().zip(full.s.iter()) {
                assert!((x - y).abs() <= 1e-10 * full.s[0], "{n}x{p}: {x} vs {y}");
            }
            // The same vectors up to sign (the singular values are distinct here).
            for c in 0..fast.s.len() {
                let dot: f64 = (0..p).map(|r| fast.v[[r, c]] * full.v[[r, c]]).sum();
                assert!((dot.abs() - 1.0).abs() < 1e-9, "{n}x{p} vector {c}: {dot}");
            }
        }
    }

    #[test]
    fn cholesky_solves_and_detects_indefinite() {
        let a = array![[4.0, 2.0], [2.0, 3.0]];
        let b = array![2.0, 1.0];
        let sol = cholesky_solve(a.view(), b.view()).unwrap().unwrap();
        assert!((sol.x[0] - 0.5).abs() < 1e-14 && sol.x[1].abs() < 1e-14);
        let bad = array![[1.0, 2.0], [2.0, 1.0]];
        assert!(cholesky_solve(bad.view(), b.view()).unwrap().is_none());
    }

    #[test]
    fn gram_matches_direct_product() {
        let n = ROW_BLOCK * 2 + 17;
        let x = Array2::from_shape_fn((n, 3), |(i, j)| ((i * 7 + j * 13) % 11) as f64 - 3.0);
        let y = Array1::from_shape_fn(n, |i| (i % 5) as f64);
        let w = Array1::from_shape_fn(n, |i| ((i % 3) as f64 + 0.5).sqrt());
        let off = array![0.5, -1.0, 2.0];
        let g = weighted_gram(x.view(), y.view(), off.view(), 1.5, Some(w.view())).unwrap();
        let xc = Array2::from_shape_fn((n, 3), |(i, j)| w[i] * (x[[i, j]] - off[j]));
        let yc = Array1::from_shape_fn(n, |i| w[i] * (y[i] - 1.5));
        let want = xc.t().dot(&xc);
        for (a, b) in g.xtx.iter().zip(want.iter()) {
            assert!((a - b).abs() < 1e-9 * b.abs().max(1.0));
        }
        let xty = xc.t().dot(&yc);
        for (a, b) in g.xty.iter().zip(xty.iter()) {
            assert!((a - b).abs() < 1e-9 * b.abs().max(1.0));
        }
        assert!((g.yty - yc.dot(&yc)).abs() < 1e-9 * g.yty);
    }
}
