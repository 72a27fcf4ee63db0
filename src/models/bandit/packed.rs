//! The symmetric matrices of the linear policies (each arm's `A⁻¹`), stored as their packed
//! upper triangle, and the kernels the policies spend their time in: the quadratic forms
//! `xᵀA⁻¹x` of every arm for one context (a decision), and the Sherman–Morrison steps of one
//! arm (an update, or a batch of logged rows: the same bits either way).
//!
//! Packing halves the memory a decision streams through (10 arms × 50 features: 100 KB
//! instead of 200 KB) and turns every quadratic form into one long dot product: with
//! `c_ii = x_i²` and `c_ij = 2 x_i x_j` (`i < j`) in the same packed order, `xᵀAx = Σ c·p`
//! over the packed values `p`, and `c` is computed once per context for all arms. The
//! kernels run compiled for AVX2 when the CPU has it, with the same bits as without (no
//! multiply-add is fused and every sum keeps its order).
//!
//! In the model file a matrix is the full row-major `d × d` matrix (the format of every
//! version): [`SymmetricMatrix`] serializes as that and reads it back, checking that it is
//! square and exactly symmetric.

use std::mem::MaybeUninit;

use serde::{Deserialize, Serialize};

/// A symmetric `d × d` matrix stored as its packed upper triangle: row `i` holds
/// `A[i, i..d]`. It indexes like the row-major `d × d` matrix (`m[i * d + j]`), serializes
/// as that matrix and reads one back (which must be square and exactly symmetric).
///
/// ```
/// use amlis::models::bandit::packed::SymmetricMatrix;
///
/// let m = SymmetricMatrix::try_from(vec![2.0, 1.0, 1.0, 3.0])?;
/// assert_eq!((m.dim(), m[1], m[2], m[3]), (2, 1.0, 1.0, 3.0));
/// assert_eq!(Vec::from(m), vec![2.0, 1.0, 1.0, 3.0]);
/// assert!(SymmetricMatrix::try_from(vec![2.0, 1.0, 0.0, 3.0]).is_err());
/// # Ok::<(), String>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "Vec<f64>", into = "Vec<f64>")]
pub struct SymmetricMatrix {
    d: usize,
    packed: LineBuffer,
}

/// A value aligned to a cache line (64 bytes).
#[derive(Debug, Clone, Copy, PartialEq)]
#[repr(C, align(64))]
struct CacheAligned<T>(T);

/// `len` values in storage that starts on a cache line: the 32-byte loads of the kernels
/// then never straddle two lines where they would not have to (a plain `Vec` is 16-byte
/// aligned, by the luck of the allocator: the sweeps of [`quadratic_forms_into`] over
/// matrices 16 bytes off a 32-byte boundary measured about 10% slower, 10 × 50). The values
/// after `len` in the last line are 0 and never read.
#[derive(Clone)]
struct LineBuffer {
    lines: Vec<CacheAligned<[f64; 8]>>,
    len: usize,
}

impl LineBuffer {
    /// `len` zeros.
    fn zeros(len: usize) -> Self {
        Self {
            lines: vec![CacheAligned([0.0; 8]); len.div_ceil(8)],
            len,
        }
    }

    /// The values.
    #[inline]
    fn as_slice(&self) -> &[f64] {
        // SAFETY: `CacheAligned<[f64; 8]>` is `repr(C)` around 8 `f64`s and exactly 64 bytes
        // (its alignment), so the lines are contiguous `f64`s, `8 * lines.len() >= len` of
        // them (`zeros` made it so and `len` never changes), borrowed with `self`.
        unsafe { std::slice::from_raw_parts(self.lines.as_ptr().cast::<f64>(), self.len) }
    }

    /// The values, mutably.
    #[inline]
    fn as_mut_slice(&mut self) -> &mut [f64] {
        // SAFETY: as in `as_slice`, borrowed mutably with `self`.
        unsafe { std::slice::from_raw_parts_mut(self.lines.as_mut_ptr().cast::<f64>(), self.len) }
    }
}

impl PartialEq for LineBuffer {
    /// As the values' `Vec`s compare.
    fn eq(&self, other: &Self) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl std::fmt::Debug for LineBuffer {
    /// As the values' `Vec` prints.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.as_slice().fmt(f)
    }
}

impl std::ops::Deref for LineBuffer {
    type Target = [f64];

    #[inline]
    fn deref(&self) -> &[f64] {
        self.as_slice()
    }
}

impl std::ops::DerefMut for LineBuffer {
    #[inline]
    fn deref_mut(&mut self) -> &mut [f64] {
        self.as_mut_slice()
    }
}

/// The offset of row `i`'s first (diagonal) value in the packed upper triangle of order `d`.
#[inline]
fn row_offset(d: usize, i: usize) -> usize {
    i * d - i * i.saturating_sub(1) / 2
}

impl SymmetricMatrix {
    /// `value · I` of order `d`.
    pub fn scaled_identity(d: usize, value: f64) -> Self {
        let mut packed = LineBuffer::zeros(d * (d + 1) / 2);
        for i in 0..d {
            packed[row_offset(d, i)] = value;
        }
        Self { d, packed }
    }

    /// The order `d`.
    pub fn dim(&self) -> usize {
        self.d
    }

    /// The number of values of the full matrix, `d²`.
    pub fn len(&self) -> usize {
        self.d * self.d
    }

    /// Whether the matrix is `0 × 0`.
    pub fn is_empty(&self) -> bool {
        self.d == 0
    }

    /// The value at row `i`, column `j` (`None` out of range).
    pub fn get(&self, i: usize, j: usize) -> Option<f64> {
        if i >= self.d || j >= self.d {
            return None;
        }
        let (i, j) = if i <= j { (i, j) } else { (j, i) };
        self.packed.get(row_offset(self.d, i) + j - i).copied()
    }

    /// The packed upper triangle (row `i` holds `A[i, i..d]`).
    pub fn packed(&self) -> &[f64] {
        &self.packed
    }

    /// Every value finite.
    pub fn is_finite(&self) -> bool {
        self.packed.iter().all(|v| v.is_finite())
    }

    /// The diagonal values, in order.
    pub fn diagonal(&self) -> impl Iterator<Item = f64> + '_ {
        (0..self.d).map(move |i| self.packed[row_offset(self.d, i)])
    }
}

impl std::ops::Index<usize> for SymmetricMatrix {
    type Output = f64;

    /// The value at `index = i * d + j` of the row-major matrix. Panics out of range, as a
    /// slice does.
    fn index(&self, index: usize) -> &f64 {
        assert!(
            index < self.len(),
            "index {index} out of range for a {0}x{0} matrix",
            self.d
        );
        let (i, j) = (index / self.d, index % self.d);
        let (i, j) = if i <= j { (i, j) } else { (j, i) };
        &self.packed[row_offset(self.d, i) + j - i]
    }
}

impl TryFrom<Vec<f64>> for SymmetricMatrix {
    type Error = String;

    /// Packs a full row-major matrix, which must be square and exactly symmetric.
    fn try_from(full: Vec<f64>) -> Result<Self, String> {
        let d = (full.len() as f64).sqrt().round() as usize;
        if d.checked_mul(d) != Some(full.len()) {
            return Err(format!(
                "a symmetric matrix of {} values is not square",
                full.len()
            ));
        }
        let mut packed = LineBuffer::zeros(d * (d + 1) / 2);
        let mut slots = packed.iter_mut();
        for i in 0..d {
            for j in i..d {
                let (upper, lower) = (full[i * d + j], full[j * d + i]);
                if upper.to_bits() != lower.to_bits() {
                    return Err(format!(
                        "the {d}x{d} matrix is not symmetric at ({i}, {j}): {upper} vs {lower}"
                    ));
                }
                if let Some(slot) = slots.next() {
                    *slot = upper;
                }
            }
        }
        Ok(Self { d, packed })
    }
}

impl From<SymmetricMatrix> for Vec<f64> {
    /// The full row-major matrix.
    fn from(m: SymmetricMatrix) -> Vec<f64> {
        let d = m.d;
        let mut full = vec![0.0; d * d];
        let mut values = m.packed.iter();
        for i in 0..d {
            for j in i..d {
                let v = values.next().copied().unwrap_or(0.0);
                full[i * d + j] = v;
                full[j * d + i] = v;
            }
        }
        full
    }
}

/// Packed values per pass of [`quadratic_forms_into`] (the coefficients of a pass live on
/// the stack, 8 KiB, and stay in the L1 cache while every arm's slice streams past them).
const CHUNK: usize = 1024;

/// The most arms whose quadratic forms one sweep over a pass's coefficients computes
/// together: each coefficient is loaded once for all of them, and their sums are independent
/// chains that keep the adders busy (3 arms × 4 AVX2 accumulators take 12 of the 16
/// registers). The arms are split into as few sweeps as that allows, of sizes differing by
/// at most one (10 arms: 3, 3, 2, 2 rather than 3, 3, 3, 1, a few percent faster: no sweep
/// loads a coefficient for a single arm). Each arm's sum keeps its own lanes and order, so
/// the grouping never changes a bit.
const ARMS_PER_SWEEP: usize = 3;

/// Writes `out[a] = xᵀ M_a x` for the symmetric matrices `M_a = matrix(a)` of order
/// `x.len()` (`a < out.len()`), from their packed upper triangles. Each value is
/// `Σ_t c_t p_t` over the packed order with `c_ii = x_i²`, `c_ij = 2 x_i x_j`, summed in
/// passes of a fixed number of values (a function of `d` only), so the bits depend on the
/// inputs alone. A missing matrix, or one of another order, gives 0.
pub fn quadratic_forms_into<'m>(
    x: &[f64],
    matrix: impl Fn(usize) -> Option<&'m SymmetricMatrix>,
    out: &mut [f64],
) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU has AVX2 (checked just above).
            unsafe { quadratic_forms_avx2(x, &matrix, out) };
            return;
        }
    }
    quadratic_forms_kernel::<Portable>(x, &matrix, out);
}

/// [`quadratic_forms_kernel`] compiled for AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn quadratic_forms_avx2<'m>(
    x: &[f64],
    matrix: &impl Fn(usize) -> Option<&'m SymmetricMatrix>,
    out: &mut [f64],
) {
    quadratic_forms_kernel::<Avx2>(x, matrix, out);
}

/// The loop of [`quadratic_forms_into`]: per pass, the coefficients once, then the arms in
/// balanced sweeps of at most [`ARMS_PER_SWEEP`].
#[inline(always)]
fn quadratic_forms_kernel<'m, D: Dots>(
    x: &[f64],
    matrix: &impl Fn(usize) -> Option<&'m SymmetricMatrix>,
    out: &mut [f64],
) {
    let d = x.len();
    let total = d * (d + 1) / 2;
    out.fill(0.0);
    // Only the first `len` coefficients of a pass are written, then read: the buffer is
    // never zeroed (8 KiB per decision). On a cache line, as the matrices.
    let mut c = CacheAligned([MaybeUninit::<f64>::uninit(); CHUNK]);
    // The packed position (row i, column j) of the next coefficient.
    let (mut i, mut j) = (0, 0);
    let mut start = 0;
    while start < total {
        let len = CHUNK.min(total - start);
        let mut t = 0;
        while t < len {
            let run = (d - j).min(len - t);
            let (Some(&xi), Some(xs), Some(cs)) =
                (x.get(i), x.get(j..j + run), c.0.get_mut(t..t + run))
            else {
                return;
            };
            let twice = 2.0 * xi;
            for (cv, &xj) in cs.iter_mut().zip(xs) {
                cv.write(twice * xj);
            }
            if j == i {
                cs[0].write(xi * xi);
            }
            t += run;
            j += run;
            if j == d {
                i += 1;
                j = i;
            }
        }
        // SAFETY: the loop above wrote c[0..len] (runs of positions t..t + run from 0 to
        // len, each run in full); MaybeUninit<f64> has the layout of f64.
        let coefficients: &[f64] =
            unsafe { std::slice::from_raw_parts(c.0.as_ptr().cast::<f64>(), len) };
        let slice = |a: usize| {
            matrix(a)
                .filter(|m| m.d == d)
                .and_then(|m| m.packed.get(start..start + len))
        };
        let sweeps = out.len().div_ceil(ARMS_PER_SWEEP);
        let mut a = 0;
        for sweep in 0..sweeps {
            // The arms left, shared evenly by the sweeps left (at most ARMS_PER_SWEEP each).
            let end = a + (out.len() - a).div_ceil(sweeps - sweep);
            let mut ps: [&[f64]; ARMS_PER_SWEEP] = [&[]; ARMS_PER_SWEEP];
            let mut arms = [0usize; ARMS_PER_SWEEP];
            let mut n = 0;
            for arm in a..end {
                if let Some(p) = slice(arm) {
                    ps[n] = p;
                    arms[n] = arm;
                    n += 1;
                }
            }
            let mut sums = [0.0; ARMS_PER_SWEEP];
            // SAFETY: `D` is `Avx2` only in the kernel compiled for AVX2, which runs after
            // the CPU was checked.
            unsafe { D::lanes16_many(&ps[..n], coefficients, &mut sums[..n]) };
            for (&arm, &s) in arms[..n].iter().zip(&sums) {
                out[arm] += s;
            }
            a = end;
        }
        start += len;
    }
}

/// `Σ a_t b_t` over 16 lanes (lane `l` sums the positions `l mod 16` in order), the lanes
/// added pairwise in a fixed tree, then the tail in order: four AVX2 registers of
/// independent sums, the same bits on any CPU.
#[inline(always)]
fn dot_lanes(a: &[f64], b: &[f64]) -> f64 {
    const LANES: usize = 16;
    let n = a.len().min(b.len());
    let body = n / LANES * LANES;
    let mut acc = [0.0f64; LANES];
    for (ca, cb) in a[..body]
        .chunks_exact(LANES)
        .zip(b[..body].chunks_exact(LANES))
    {
        for l in 0..LANES {
            acc[l] += ca[l] * cb[l];
        }
    }
    let mut width = LANES;
    while width > 1 {
        width /= 2;
        for l in 0..width {
            acc[l] += acc[l + width];
        }
    }
    let mut total = acc[0];
    for (x, y) in a[body..n].iter().zip(&b[body..n]) {
        total += x * y;
    }
    total
}

/// `Σ a_t b_t` over four lanes (lane `l` sums positions `l mod 4`), added as
/// `(s0 + s1) + (s2 + s3)`, then the tail in order.
#[inline(always)]
pub(crate) fn dot4(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len().min(b.len());
    let body = n / 4 * 4;
    let mut s = [0.0; 4];
    for (ca, cb) in a[..body].chunks_exact(4).zip(b[..body].chunks_exact(4)) {
        for k in 0..4 {
            s[k] += ca[k] * cb[k];
        }
    }
    let mut tail = 0.0;
    for (x, y) in a[body..n].iter().zip(&b[body..n]) {
        tail += x * y;
    }
    (s[0] + s[1]) + (s[2] + s[3]) + tail
}

/// [`dot4`]`(a, b)`, in AVX2 when the CPU has it (the same bits).
#[inline]
pub fn dot(a: &[f64], b: &[f64]) -> f64 {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU has AVX2 (checked just above).
            return unsafe { avx2::dot4(a, b) };
        }
    }
    dot4(a, b)
}

/// One Sherman–Morrison step of a ridge state: with `v = M x` and `denom = 1 + xᵀv`,
/// `M -= v vᵀ / denom` and `theta += v (r - theta·x) / denom` (see
/// [`sherman_morrison_rows`], of which this is the one-row case).
pub fn sherman_morrison(
    m: &mut SymmetricMatrix,
    theta: &mut [f64],
    x: &[f64],
    r: f64,
    scratch: &mut Vec<f64>,
) {
    sherman_morrison_rows(m, theta, std::iter::once((x, r)), scratch);
}

/// Sherman–Morrison steps of a ridge state for `rows` of `(x, r)` in order, each as
/// [`sherman_morrison`]: `v = M x` — `v_j = Σ_{i<j} x_i M_ij` summed in row order from 0,
/// plus [`dot4`]`(M[j, j..], x[j..])` — `denom = 1 + `[`dot4`]`(x, v)`,
/// `M_ij -= (v_i / denom) v_j`, `theta_i += v_i (r - `[`dot4`]`(theta, x)) / denom`. The bits
/// are those of the steps taken one by one, whatever the grouping of the rows, on any CPU.
/// `scratch` is resized to `2 d` values. Lengths are the caller's to match (`M` of order
/// `d = theta.len()`, every `x` of `d` values); a row of another length is skipped.
///
/// Per row, `M` is read twice (its column sums with `x`, its rows' dot products with `x`)
/// and written once (the rank-one update), each pass with independent sums in flight: the
/// column sums of up to [`PANEL`] column blocks at once, held in registers over all the
/// rows; the dot products of four rows at once. Between two rows, the rank-one update of
/// the first and the dot products of the next are one pass.
pub fn sherman_morrison_rows<'x>(
    m: &mut SymmetricMatrix,
    theta: &mut [f64],
    rows: impl IntoIterator<Item = (&'x [f64], f64)>,
    scratch: &mut Vec<f64>,
) {
    let d = m.d;
    if theta.len() != d {
        return;
    }
    if scratch.len() < 2 * d {
        scratch.resize(2 * d, 0.0);
    }
    let (v, w) = scratch.split_at_mut(d);
    let rows = rows.into_iter().filter(|(x, _)| x.len() == d);
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU has AVX2 (checked just above).
            unsafe { sherman_morrison_avx2(&mut m.packed, theta, rows, v, &mut w[..d]) };
            return;
        }
    }
    sherman_morrison_kernel::<Portable>(&mut m.packed, theta, rows, v, &mut w[..d]);
}

/// [`sherman_morrison_kernel`] compiled for AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn sherman_morrison_avx2<'x>(
    packed: &mut [f64],
    theta: &mut [f64],
    rows: impl Iterator<Item = (&'x [f64], f64)>,
    v: &mut [f64],
    w: &mut [f64],
) {
    sherman_morrison_kernel::<Avx2>(packed, theta, rows, v, w);
}

/// The steps of [`sherman_morrison_rows`] (lengths checked by the caller: `theta`, `v`, `w`
/// and every row of `d` values, `packed` of `d (d + 1) / 2`): `v = M x` of the first row;
/// then per row `denom`, the residual and `theta`; then the rank-one update fused with the
/// next row's dot products (into `w`), and the next row's column sums (`v = cols + w`).
#[inline(always)]
fn sherman_morrison_kernel<'x, D: Dots>(
    packed: &mut [f64],
    theta: &mut [f64],
    mut rows: impl Iterator<Item = (&'x [f64], f64)>,
    v: &mut [f64],
    w: &mut [f64],
) {
    let Some(mut row) = rows.next() else {
        return;
    };
    row_dots::<D, false>(packed, row.0, &[], 1.0, w);
    column_sums::<D>(packed, row.0, v);
    add_into(v, w);
    loop {
        let (x, r) = row;
        // SAFETY (both): `D` is `Avx2` only in the kernel compiled for AVX2.
        let denom = 1.0 + unsafe { D::lanes4(x, v) };
        let residual = r - unsafe { D::lanes4(theta, x) };
        for (t, &vi) in theta.iter_mut().zip(v.iter()) {
            *t += vi * residual / denom;
        }
        match rows.next() {
            Some(next) => {
                row_dots::<D, true>(packed, next.0, v, denom, w);
                column_sums::<D>(packed, next.0, v);
                add_into(v, w);
                row = next;
            }
            None => {
                rank_one::<D>(packed, v, denom);
                return;
            }
        }
    }
}

/// `v[j] += w[j]`: a column sum plus its row's dot product.
#[inline(always)]
fn add_into(v: &mut [f64], w: &[f64]) {
    for (a, &b) in v.iter_mut().zip(w) {
        *a += b;
    }
}

/// The most 4-column blocks whose sums [`column_sums`] keeps in registers at once.
const PANEL: usize = 8;

/// Writes `out[c] = Σ_{i<c} x_i M_ic` (summed in row order from 0) for every column `c`
/// (`out` and `x` of `d` values, `packed` of order `d`). The columns from `r0 = d mod 4` on
/// are blocks of four, taken [`PANEL`] at a time (as few passes as that allows, of sizes
/// differing by at most one); the first `r0` columns (at most 3) one by one.
#[inline(always)]
fn column_sums<D: Dots>(packed: &[f64], x: &[f64], out: &mut [f64]) {
    let d = x.len();
    if packed.len() != d * (d + 1) / 2 || out.len() != d {
        return;
    }
    let r0 = d % 4;
    for c in 0..r0 {
        let mut s = 0.0;
        for (i, &xi) in x.iter().enumerate().take(c) {
            s += xi * packed[row_offset(d, i) + c - i];
        }
        out[c] = s;
    }
    let blocks = d / 4;
    let passes = blocks.div_ceil(PANEL);
    let mut q = 0;
    for pass in 0..passes {
        let end = q + (blocks - q).div_ceil(passes - pass);
        let c0 = r0 + 4 * q;
        // SAFETY (every arm): `c0 + 4 n <= d` for the `n` blocks of the pass, and the
        // lengths were checked above; `D` is `Avx2` only in the kernels compiled for AVX2.
        unsafe {
            match end - q {
                1 => column_panel::<D, 1>(packed, x, c0, out),
                2 => column_panel::<D, 2>(packed, x, c0, out),
                3 => column_panel::<D, 3>(packed, x, c0, out),
                4 => column_panel::<D, 4>(packed, x, c0, out),
                5 => column_panel::<D, 5>(packed, x, c0, out),
                6 => column_panel::<D, 6>(packed, x, c0, out),
                7 => column_panel::<D, 7>(packed, x, c0, out),
                _ => column_panel::<D, PANEL>(packed, x, c0, out),
            }
        }
        q = end;
    }
}

/// The column sums of the `N` blocks of four columns from `c0` (see [`column_sums`]): one
/// sum per block in a register, over the rows `i < c0` (every column of the blocks is
/// after `i`), then over the rows within the blocks, each block's first three rows masked
/// to the columns after the row (the 4 rows of block `G` in the expansion `tri!(G)`, so that
/// every loop over the blocks has constant bounds and the sums stay in registers).
///
/// # Safety
///
/// `packed` of order `d = x.len()`, `out` of `d` values, `c0 + 4 N <= d`; the CPU has the
/// instructions of `D`.
#[inline(always)]
unsafe fn column_panel<D: Dots, const N: usize>(
    packed: &[f64],
    x: &[f64],
    c0: usize,
    out: &mut [f64],
) {
    let d = x.len();
    let p = packed.as_ptr();
    // SAFETY (the whole body): row `i <= c0 + 4 N - 2` holds columns `i..d` from
    // `row_offset(d, i)`, so the 4 values of row `i` from column `c >= i - 3` (and
    // `c + 4 <= d`) are at `row_offset(d, i) + c - i >= 0` (`row_offset(d, i) >= d >= 4`
    // for `i >= 1`; `c >= 0 = i` for `i = 0`), within `packed`: the values before column `i`
    // are the end of row `i - 1`, masked out. `x[i]` for `i < c0 + 4 N <= d`.
    unsafe {
        let mut acc = [D::V::zero(); N];
        let mut off = 0usize;
        for i in 0..c0 {
            let xi = D::V::splat(*x.get_unchecked(i));
            let base = off + c0 - i;
            for (q, a) in acc.iter_mut().enumerate() {
                *a = a.add(xi.mul(D::V::load(p.add(base + 4 * q))));
            }
            off += d - i;
        }
        macro_rules! tri {
            ($g:literal) => {
                if $g < N {
                    for t in 0..4 {
                        let i = c0 + 4 * $g + t;
                        if t < 3 || $g + 1 < N {
                            let xi = D::V::splat(*x.get_unchecked(i));
                            let base = off + c0 - i;
                            if t < 3 {
                                let m = D::V::load(p.add(base + 4 * $g));
                                acc[$g] = acc[$g].add(xi.mul(m).above(t));
                            }
                            for q in $g + 1..N {
                                acc[q] = acc[q].add(xi.mul(D::V::load(p.add(base + 4 * q))));
                            }
                        }
                        off += d - i;
                    }
                }
            };
        }
        tri!(0);
        tri!(1);
        tri!(2);
        tri!(3);
        tri!(4);
        tri!(5);
        tri!(6);
        tri!(7);
        for (q, a) in acc.iter().enumerate() {
            a.store(out.as_mut_ptr().add(c0 + 4 * q));
        }
    }
}

/// Writes `out[i] = `[`dot4`]`(M[i, i..], x[i..])` for every row `i` (`x`, `out` of `d`
/// values, `packed` of order `d`), four rows at a time: their four sums are independent.
/// With `UPDATE`, each row first gets the rank-one update `M[i, j] -= (vp_i / denom) vp_j`
/// (`vp` of `d` values), and its dot product is of the updated row.
#[inline(always)]
fn row_dots<D: Dots, const UPDATE: bool>(
    packed: &mut [f64],
    x: &[f64],
    vp: &[f64],
    denom: f64,
    out: &mut [f64],
) {
    let d = x.len();
    if packed.len() != d * (d + 1) / 2 || out.len() != d || (UPDATE && vp.len() != d) {
        return;
    }
    let p = packed.as_mut_ptr();
    let (xp, vpp) = (x.as_ptr(), vp.as_ptr());
    let mut i = 0;
    let mut off = 0;
    // SAFETY (the whole loop): the rows `i..i + 4` (`i + 4 <= d`) of lengths `n - r`
    // (`n = d - i`) start at `offs[r]`; each is read and written within its own length
    // (vectors at `k + 4 <= n - r`, then single values), as are `x[i + r..]` and
    // `vp[i + r..]` (`d` values each); `out[i..i + 4]`; `D` is `Avx2` only in the kernels
    // compiled for AVX2.
    unsafe {
        while i + 4 <= d {
            let n = d - i;
            let offs = [off, off + n, off + 2 * n - 1, off + 3 * n - 3];
            let mut scaled = [0.0; 4];
            if UPDATE {
                for (r, s) in scaled.iter_mut().enumerate() {
                    *s = *vpp.add(i + r) / denom;
                }
            }
            let sv = scaled.map(|s| D::V::splat(s));
            let mut acc = [D::V::zero(); 4];
            // Every row has its vectors up to `common`; then each its last one, if any.
            let common = (n - 3) / 4 * 4;
            let step = |r: usize, k: usize, a: D::V| {
                let at = p.add(offs[r] + k);
                let mut m = D::V::load(at);
                if UPDATE {
                    m = m.sub(sv[r].mul(D::V::load(vpp.add(i + r + k))));
                    m.store(at);
                }
                a.add(m.mul(D::V::load(xp.add(i + r + k))))
            };
            let mut k = 0;
            while k < common {
                for (r, a) in acc.iter_mut().enumerate() {
                    *a = step(r, k, *a);
                }
                k += 4;
            }
            let mut tails = [0.0; 4];
            for (r, (a, tail)) in acc.iter_mut().zip(&mut tails).enumerate() {
                let len = n - r;
                let body = len / 4 * 4;
                if body > common {
                    *a = step(r, common, *a);
                }
                for k in body..len {
                    let at = p.add(offs[r] + k);
                    if UPDATE {
                        *at -= scaled[r] * *vpp.add(i + r + k);
                    }
                    *tail += *at * *xp.add(i + r + k);
                }
            }
            D::V::sums4(acc)
                .add(D::V::load(tails.as_ptr()))
                .store(out.as_mut_ptr().add(i));
            off += 4 * n - 6;
            i += 4;
        }
    }
    // The last rows, of fewer than 4 values: no vector, only the tail.
    while i < d {
        let n = d - i;
        let scaled = if UPDATE { vp[i] / denom } else { 0.0 };
        let mut tail = 0.0;
        for (k, mij) in packed[off..off + n].iter_mut().enumerate() {
            if UPDATE {
                *mij -= scaled * vp[i + k];
            }
            tail += *mij * x[i + k];
        }
        out[i] = 0.0 + tail;
        off += n;
        i += 1;
    }
}

/// `M -= v vᵀ / denom`, row `i` of the packed triangle at a time.
#[inline(always)]
fn rank_one<D: Dots>(packed: &mut [f64], v: &[f64], denom: f64) {
    let d = v.len();
    let mut off = 0;
    for i in 0..d {
        rank_one_row::<D>(&mut packed[off..off + d - i], v, i, denom);
        off += d - i;
    }
}

/// Row `i` of [`rank_one`].
#[inline(always)]
fn rank_one_row<D: Dots>(row: &mut [f64], v: &[f64], i: usize, denom: f64) {
    let scaled = v[i] / denom;
    // SAFETY: `D` is `Avx2` only in the kernels compiled for AVX2.
    unsafe { D::sub_scaled(row, scaled, &v[i..]) };
}

/// The dot products the kernels are made of: [`dot_lanes`] and [`dot4`], portable or in
/// AVX2 intrinsics (the same lanes, the same bits).
trait Dots {
    /// [`dot_lanes`] of each slice of `ps` with `c` into `out` (`out.len() == ps.len()`, at
    /// most [`ARMS_PER_SWEEP`]): the same bits as one call per slice.
    ///
    /// # Safety
    ///
    /// The CPU must have the instructions of the implementation.
    unsafe fn lanes16_many(ps: &[&[f64]], c: &[f64], out: &mut [f64]);

    /// [`dot4`].
    ///
    /// # Safety
    ///
    /// As [`lanes16_many`](Self::lanes16_many).
    unsafe fn lanes4(a: &[f64], b: &[f64]) -> f64;

    /// Four lanes of values, in the registers of the implementation.
    type V: Lanes;

    /// `y[k] -= a * x[k]` (elementwise).
    ///
    /// # Safety
    ///
    /// As [`lanes16_many`](Self::lanes16_many).
    unsafe fn sub_scaled(y: &mut [f64], a: f64, x: &[f64]);
}

/// Four `f64` lanes and the elementwise operations the kernels use, portable (an array) or
/// an AVX2 register: the same operations in the same order per lane, so the same bits (no
/// multiply-add is fused).
trait Lanes: Copy {
    /// Every lane 0.
    ///
    /// # Safety
    ///
    /// The CPU must have the instructions of the implementation (every method).
    unsafe fn zero() -> Self;

    /// Every lane `v`.
    unsafe fn splat(v: f64) -> Self;

    /// The 4 values at `p`.
    ///
    /// # Safety
    ///
    /// Also: `p` valid for reading 4 values.
    unsafe fn load(p: *const f64) -> Self;

    /// Writes the lanes to `p`.
    ///
    /// # Safety
    ///
    /// Also: `p` valid for writing 4 values.
    unsafe fn store(self, p: *mut f64);

    /// `self + o` per lane.
    unsafe fn add(self, o: Self) -> Self;

    /// `self - o` per lane.
    unsafe fn sub(self, o: Self) -> Self;

    /// `self * o` per lane.
    unsafe fn mul(self, o: Self) -> Self;

    /// The lanes after lane `t` (`t < 4`), the others +0.
    unsafe fn above(self, t: usize) -> Self;

    /// `(a0 + a1) + (a2 + a3)` of each of the four, as the four lanes.
    unsafe fn sums4(a: [Self; 4]) -> Self;
}

impl Lanes for [f64; 4] {
    #[inline(always)]
    unsafe fn zero() -> Self {
        [0.0; 4]
    }

    #[inline(always)]
    unsafe fn splat(v: f64) -> Self {
        [v; 4]
    }

    #[inline(always)]
    unsafe fn load(p: *const f64) -> Self {
        // SAFETY: the caller guarantees 4 readable values at `p`.
        unsafe { p.cast::<[f64; 4]>().read_unaligned() }
    }

    #[inline(always)]
    unsafe fn store(self, p: *mut f64) {
        // SAFETY: the caller guarantees 4 writable values at `p`.
        unsafe { p.cast::<[f64; 4]>().write_unaligned(self) }
    }

    #[inline(always)]
    unsafe fn add(self, o: Self) -> Self {
        [
            self[0] + o[0],
            self[1] + o[1],
            self[2] + o[2],
            self[3] + o[3],
        ]
    }

    #[inline(always)]
    unsafe fn sub(self, o: Self) -> Self {
        [
            self[0] - o[0],
            self[1] - o[1],
            self[2] - o[2],
            self[3] - o[3],
        ]
    }

    #[inline(always)]
    unsafe fn mul(self, o: Self) -> Self {
        [
            self[0] * o[0],
            self[1] * o[1],
            self[2] * o[2],
            self[3] * o[3],
        ]
    }

    #[inline(always)]
    unsafe fn above(self, t: usize) -> Self {
        let mut out = [0.0; 4];
        for (l, (o, v)) in out.iter_mut().zip(self).enumerate() {
            if l > t {
                *o = v;
            }
        }
        out
    }

    #[inline(always)]
    unsafe fn sums4(a: [Self; 4]) -> Self {
        a.map(|v| (v[0] + v[1]) + (v[2] + v[3]))
    }
}

#[cfg(target_arch = "x86_64")]
impl Lanes for std::arch::x86_64::__m256d {
    #[inline(always)]
    unsafe fn zero() -> Self {
        // SAFETY (every method): the caller guarantees the CPU has AVX2, and for loads and
        // stores 4 valid values at the pointer.
        unsafe { std::arch::x86_64::_mm256_setzero_pd() }
    }

    #[inline(always)]
    unsafe fn splat(v: f64) -> Self {
        unsafe { std::arch::x86_64::_mm256_set1_pd(v) }
    }

    #[inline(always)]
    unsafe fn load(p: *const f64) -> Self {
        unsafe { std::arch::x86_64::_mm256_loadu_pd(p) }
    }

    #[inline(always)]
    unsafe fn store(self, p: *mut f64) {
        unsafe { std::arch::x86_64::_mm256_storeu_pd(p, self) }
    }

    #[inline(always)]
    unsafe fn add(self, o: Self) -> Self {
        unsafe { std::arch::x86_64::_mm256_add_pd(self, o) }
    }

    #[inline(always)]
    unsafe fn sub(self, o: Self) -> Self {
        unsafe { std::arch::x86_64::_mm256_sub_pd(self, o) }
    }

    #[inline(always)]
    unsafe fn mul(self, o: Self) -> Self {
        unsafe { std::arch::x86_64::_mm256_mul_pd(self, o) }
    }

    #[inline(always)]
    unsafe fn above(self, t: usize) -> Self {
        /// Lane `l` kept (all ones) when `l > t`, for `t` = 0, 1, 2, 3.
        static ABOVE: [[u64; 4]; 4] =
            [[0, !0, !0, !0], [0, 0, !0, !0], [0, 0, 0, !0], [0, 0, 0, 0]];
        let mask = &ABOVE[t.min(3)];
        unsafe {
            let m = std::arch::x86_64::_mm256_loadu_pd(mask.as_ptr().cast());
            std::arch::x86_64::_mm256_and_pd(self, m)
        }
    }

    #[inline(always)]
    unsafe fn sums4(a: [Self; 4]) -> Self {
        use std::arch::x86_64::{_mm256_add_pd, _mm256_hadd_pd, _mm256_permute2f128_pd};
        unsafe {
            // [a0 (0+1), a1 (0+1), a0 (2+3), a1 (2+3)] and the same of a2, a3.
            let h01 = _mm256_hadd_pd(a[0], a[1]);
            let h23 = _mm256_hadd_pd(a[2], a[3]);
            let pairs01 = _mm256_permute2f128_pd::<0x20>(h01, h23);
            let pairs23 = _mm256_permute2f128_pd::<0x31>(h01, h23);
            _mm256_add_pd(pairs01, pairs23)
        }
    }
}

/// The portable dot products.
struct Portable;

impl Dots for Portable {
    #[inline(always)]
    unsafe fn lanes16_many(ps: &[&[f64]], c: &[f64], out: &mut [f64]) {
        for (o, p) in out.iter_mut().zip(ps) {
            *o = dot_lanes(p, c);
        }
    }

    #[inline(always)]
    unsafe fn lanes4(a: &[f64], b: &[f64]) -> f64 {
        dot4(a, b)
    }

    type V = [f64; 4];

    #[inline(always)]
    unsafe fn sub_scaled(y: &mut [f64], a: f64, x: &[f64]) {
        for (yk, &xk) in y.iter_mut().zip(x) {
            *yk -= a * xk;
        }
    }
}

/// The dot products in AVX2 intrinsics (for the kernels compiled for AVX2 only).
#[cfg(target_arch = "x86_64")]
struct Avx2;

#[cfg(target_arch = "x86_64")]
impl Dots for Avx2 {
    #[inline(always)]
    unsafe fn lanes16_many(ps: &[&[f64]], c: &[f64], out: &mut [f64]) {
        // SAFETY (each arm): forwarded from the caller (the CPU has AVX2).
        unsafe {
            match (ps, out) {
                ([a, b, e], [oa, ob, oe]) => {
                    [*oa, *ob, *oe] = avx2::dot_lanes_n([a, b, e], c);
                }
                ([a, b], [oa, ob]) => [*oa, *ob] = avx2::dot_lanes_n([a, b], c),
                ([a], [oa]) => [*oa] = avx2::dot_lanes_n([a], c),
                (ps, out) => {
                    for (o, p) in out.iter_mut().zip(ps) {
                        [*o] = avx2::dot_lanes_n([p], c);
                    }
                }
            }
        }
    }

    #[inline(always)]
    unsafe fn lanes4(a: &[f64], b: &[f64]) -> f64 {
        // SAFETY: forwarded from the caller (the CPU has AVX2).
        unsafe { avx2::dot4(a, b) }
    }

    type V = std::arch::x86_64::__m256d;

    #[inline(always)]
    unsafe fn sub_scaled(y: &mut [f64], a: f64, x: &[f64]) {
        // SAFETY: forwarded from the caller (the CPU has AVX2).
        unsafe { avx2::sub_scaled(y, a, x) }
    }
}

/// [`dot_lanes`] and [`dot4`] in AVX2: a register holds four lanes, multiplied and added
/// separately (no fused multiply-add), reduced in the portable functions' order.
#[cfg(target_arch = "x86_64")]
mod avx2 {
    use std::arch::x86_64::{
        __m256d, _mm256_add_pd, _mm256_castpd256_pd128, _mm256_extractf128_pd, _mm256_loadu_pd,
        _mm256_mul_pd, _mm256_set1_pd, _mm256_setzero_pd, _mm256_storeu_pd, _mm256_sub_pd,
        _mm_add_pd, _mm_add_sd, _mm_cvtsd_f64, _mm_hadd_pd, _mm_unpackhi_pd,
    };

    /// `Σ a_i b_i` of the positions `body..n` in order, from `start`.
    #[inline(always)]
    fn tail(a: &[f64], b: &[f64], start: f64) -> f64 {
        a.iter().zip(b).fold(start, |t, (x, y)| t + x * y)
    }

    /// [`super::dot_lanes`] of each of `N` slices with `c` (each to the length of the
    /// shortest of all), in one sweep: each 4-lane block of `c` is loaded once for all
    /// of them.
    #[target_feature(enable = "avx2")]
    #[inline]
    pub(super) unsafe fn dot_lanes_n<const N: usize>(ps: [&&[f64]; N], c: &[f64]) -> [f64; N] {
        let n = ps.iter().fold(c.len(), |n, p| n.min(p.len()));
        let body = n / 16 * 16;
        let mut acc: [[__m256d; 4]; N] = [[_mm256_setzero_pd(); 4]; N];
        let mut t = 0;
        while t < body {
            for j in 0..4 {
                // SAFETY: t + 4j + 4 <= body <= n, within `c` and every slice.
                let y = unsafe { _mm256_loadu_pd(c.as_ptr().add(t + 4 * j)) };
                for (a, p) in acc.iter_mut().zip(&ps) {
                    // SAFETY: as above.
                    let x = unsafe { _mm256_loadu_pd(p.as_ptr().add(t + 4 * j)) };
                    a[j] = _mm256_add_pd(a[j], _mm256_mul_pd(x, y));
                }
            }
            t += 16;
        }
        let mut out = [0.0; N];
        for ((o, a), p) in out.iter_mut().zip(&acc).zip(&ps) {
            // Lanes 0..8 += 8..16, 0..4 += 4..8, 0..2 += 2..4, 0 += 1: the portable tree.
            let s4 = _mm256_add_pd(_mm256_add_pd(a[0], a[2]), _mm256_add_pd(a[1], a[3]));
            let s2 = _mm_add_pd(_mm256_castpd256_pd128(s4), _mm256_extractf128_pd(s4, 1));
            let s1 = _mm_add_sd(s2, _mm_unpackhi_pd(s2, s2));
            *o = tail(&p[body..n], &c[body..n], _mm_cvtsd_f64(s1));
        }
        out
    }

    /// [`super::dot4`].
    #[target_feature(enable = "avx2")]
    #[inline]
    pub(super) unsafe fn dot4(a: &[f64], b: &[f64]) -> f64 {
        let n = a.len().min(b.len());
        let body = n / 4 * 4;
        let mut acc = _mm256_setzero_pd();
        for (ca, cb) in a[..body].chunks_exact(4).zip(b[..body].chunks_exact(4)) {
            // SAFETY: 4-value chunks.
            let (x, y) = unsafe { (_mm256_loadu_pd(ca.as_ptr()), _mm256_loadu_pd(cb.as_ptr())) };
            acc = _mm256_add_pd(acc, _mm256_mul_pd(x, y));
        }
        // [s0 + s1, s2 + s3], then their sum, then the tail summed from 0.
        let h = _mm_hadd_pd(_mm256_castpd256_pd128(acc), _mm256_extractf128_pd(acc, 1));
        let s = _mm_cvtsd_f64(_mm_add_sd(h, _mm_unpackhi_pd(h, h)));
        s + tail(&a[body..n], &b[body..n], 0.0)
    }

    /// [`super::Dots::sub_scaled`].
    #[target_feature(enable = "avx2")]
    #[inline]
    pub(super) unsafe fn sub_scaled(y: &mut [f64], a: f64, x: &[f64]) {
        let n = y.len().min(x.len());
        let body = n / 4 * 4;
        let av = _mm256_set1_pd(a);
        let mut k = 0;
        while k < body {
            // SAFETY: k + 4 <= body <= n, within `y` and `x`.
            unsafe {
                let yp = y.as_mut_ptr().add(k);
                let xv = _mm256_loadu_pd(x.as_ptr().add(k));
                _mm256_storeu_pd(
                    yp,
                    _mm256_sub_pd(_mm256_loadu_pd(yp), _mm256_mul_pd(av, xv)),
                );
            }
            k += 4;
        }
        each_tail(body, n, |k| y[k] -= a * x[k]);
    }

    /// `f(k)` for the (at most 3) positions `body..n` after a 4-wide loop, as straight-line
    /// code: a loop here is vectorized with masked loads and stores, which are slow on some
    /// CPUs (microcoded on AMD Zen).
    #[inline(always)]
    fn each_tail(body: usize, n: usize, mut f: impl FnMut(usize)) {
        if body < n {
            f(body);
        }
        if body + 1 < n {
            f(body + 1);
        }
        if body + 2 < n {
            f(body + 2);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn full(d: usize, seed: u64) -> Vec<f64> {
        let mut m = vec![0.0; d * d];
        for i in 0..d {
            for j in i..d {
                let v = (((i * 7 + j * 13) as u64 + seed) % 17) as f64 / 5.0 - 1.0;
                m[i * d + j] = v;
                m[j * d + i] = v;
            }
        }
        m
    }

    #[test]
    fn packs_indexes_and_unpacks_the_full_matrix() {
        for d in [0, 1, 2, 5, 46] {
            let f = full(d, 3);
            let m = SymmetricMatrix::try_from(f.clone()).unwrap();
            assert_eq!(m.dim(), d);
            for (k, v) in f.iter().enumerate() {
                assert_eq!(m[k], *v);
                assert_eq!(m.get(k / d, k % d), Some(*v));
            }
            assert_eq!(Vec::from(m), f);
        }
        assert!(SymmetricMatrix::try_from(vec![0.0; 3]).is_err());
        let i = SymmetricMatrix::scaled_identity(3, 0.5);
        assert_eq!(
            Vec::from(i),
            vec![0.5, 0.0, 0.0, 0.0, 0.5, 0.0, 0.0, 0.0, 0.5]
        );
    }

    #[test]
    fn quadratic_forms_equal_the_direct_sum_across_passes() {
        // d = 50: 1275 packed values, two passes.
        for d in [0, 1, 3, 17, 50] {
            // 7 arms: sweeps of 3, 2 and 2.
            let ms: Vec<SymmetricMatrix> = (0..7)
                .map(|s| SymmetricMatrix::try_from(full(d, s)).unwrap())
                .collect();
            let x: Vec<f64> = (0..d).map(|j| (j as f64 * 0.37).sin()).collect();
            let mut out = vec![f64::NAN; 7];
            quadratic_forms_into(&x, |a| ms.get(a), &mut out);
            for (a, m) in ms.iter().enumerate() {
                let mut want = 0.0;
                for i in 0..d {
                    for j in 0..d {
                        want += x[i] * m[i * d + j] * x[j];
                    }
                }
                assert!(
                    (out[a] - want).abs() < 1e-12 * (1.0 + want.abs()),
                    "{d} {a}"
                );
                assert_eq!(
                    out[a].to_bits(),
                    {
                        let mut one = [0.0];
                        quadratic_forms_kernel::<Portable>(&x, &|_| Some(m), &mut one);
                        one[0].to_bits()
                    },
                    "dispatch and portable kernel agree"
                );
            }
        }
    }

    #[test]
    fn dispatched_kernels_give_the_portable_bits() {
        for n in [0, 1, 3, 4, 5, 15, 16, 17, 33, 50, 63] {
            let a: Vec<f64> = (0..n).map(|j| (j as f64 * 0.91).cos() * 1e3).collect();
            let b: Vec<f64> = (0..n).map(|j| (j as f64 * 1.37).sin() / 7.0).collect();
            #[cfg(target_arch = "x86_64")]
            if std::arch::is_x86_feature_detected!("avx2") {
                // SAFETY: the CPU has AVX2 (checked just above).
                let l4 = unsafe { Avx2::lanes4(&a, &b) };
                assert_eq!(l4.to_bits(), dot4(&a, &b).to_bits(), "{n}");
                assert_eq!(dot(&a, &b).to_bits(), dot4(&a, &b).to_bits(), "{n}");
                let (mut v1, mut v2) = (b.clone(), b.clone());
                // SAFETY: as above.
                unsafe {
                    Avx2::sub_scaled(&mut v1, 0.3, &a);
                    Portable::sub_scaled(&mut v2, 0.3, &a);
                }
                assert_eq!(v1, v2, "{n}");
                let c: Vec<f64> = (0..n).map(|j| (j as f64 * 0.21).sin() * 3.0).collect();
                for k in 1..=ARMS_PER_SWEEP {
                    let ps = [&a[..], &c[..], &b[..]];
                    let mut out = vec![0.0; k];
                    // SAFETY: as above.
                    unsafe { Avx2::lanes16_many(&ps[..k], &b, &mut out) };
                    for (o, p) in out.iter().zip(&ps) {
                        assert_eq!(o.to_bits(), dot_lanes(p, &b).to_bits(), "{n} {k}");
                    }
                }
            }
            // Sherman–Morrison steps, dispatched and portable.
            let mut m1 = SymmetricMatrix::scaled_identity(n, 0.5);
            let (mut t1, mut v) = (vec![0.1; n], Vec::new());
            sherman_morrison(&mut m1, &mut t1, &a, 1.5, &mut v);
            sherman_morrison(&mut m1, &mut t1, &b, -0.5, &mut v);
            let mut m2 = SymmetricMatrix::scaled_identity(n, 0.5);
            let mut t2 = vec![0.1; n];
            let (v, w) = v.split_at_mut(n);
            for (x, r) in [(&a[..], 1.5), (&b[..], -0.5)] {
                let row = std::iter::once((x, r));
                sherman_morrison_kernel::<Portable>(&mut m2.packed, &mut t2, row, v, w);
            }
            assert_eq!(m1, m2, "{n}");
            assert_eq!(t1, t2, "{n}");
        }
    }

    /// One Sherman–Morrison step as [`sherman_morrison_rows`] defines it, row by row:
    /// `v_j = Σ_{i<j} x_i M_ij` from 0 in row order, then `+ dot4(M[j, j..], x[j..])`.
    fn reference_step(m: &mut SymmetricMatrix, theta: &mut [f64], x: &[f64], r: f64) {
        let d = x.len();
        let mut v = vec![0.0; d];
        for i in 0..d {
            let row = &m.packed[row_offset(d, i)..row_offset(d, i) + d - i];
            for k in i + 1..d {
                v[k] += x[i] * row[k - i];
            }
            v[i] += dot4(row, &x[i..]);
        }
        let denom = 1.0 + dot4(x, &v);
        let residual = r - dot4(theta, x);
        for i in 0..d {
            let scaled = v[i] / denom;
            let off = row_offset(d, i);
            for (mij, &vk) in m.packed[off..off + d - i].iter_mut().zip(&v[i..]) {
                *mij -= scaled * vk;
            }
        }
        for (t, &vi) in theta.iter_mut().zip(&v) {
            *t += vi * residual / denom;
        }
    }

    #[test]
    fn steps_give_the_portable_bits_at_every_order() {
        for d in [
            0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 16, 17, 23, 29, 31, 32, 33, 50, 53, 65,
        ] {
            let xs: Vec<Vec<f64>> = (0..7)
                .map(|t| {
                    (0..d)
                        .map(|j| ((t * 13 + j * 7) as f64 * 0.37).sin())
                        .collect()
                })
                .collect();
            let rs: Vec<f64> = (0..7).map(|t| (t as f64 * 0.9).cos()).collect();
            let mut m1 = SymmetricMatrix::scaled_identity(d, 0.25);
            let (mut t1, mut v) = (vec![0.0; d], Vec::new());
            let mut m2 = m1.clone();
            let mut t2 = t1.clone();
            let mut w = vec![0.0; 2 * d];
            let (w1, w2) = w.split_at_mut(d);
            for (x, &r) in xs.iter().zip(&rs) {
                sherman_morrison(&mut m1, &mut t1, x, r, &mut v);
                let row = std::iter::once((&x[..], r));
                sherman_morrison_kernel::<Portable>(&mut m2.packed, &mut t2, row, w1, w2);
            }
            assert_eq!((&m1, &t1), (&m2, &t2), "{d}");
            // The bits of the definition, step by step.
            let mut m0 = SymmetricMatrix::scaled_identity(d, 0.25);
            let mut t0 = vec![0.0; d];
            for (x, &r) in xs.iter().zip(&rs) {
                reference_step(&mut m0, &mut t0, x, r);
            }
            assert_eq!((&m1, &t1), (&m0, &t0), "{d}");
            // Rows learned in groups of any size, dispatched or portable: the same bits.
            for group in [2, 3, 7] {
                let mut m3 = SymmetricMatrix::scaled_identity(d, 0.25);
                let mut t3 = vec![0.0; d];
                let mut m4 = m3.clone();
                let mut t4 = t3.clone();
                let rows: Vec<(&[f64], f64)> = xs.iter().map(|x| &x[..]).zip(rs.clone()).collect();
                for chunk in rows.chunks(group) {
                    sherman_morrison_rows(&mut m3, &mut t3, chunk.iter().copied(), &mut v);
                    let chunk = chunk.iter().copied();
                    sherman_morrison_kernel::<Portable>(&mut m4.packed, &mut t4, chunk, w1, w2);
                }
                assert_eq!((&m1, &t1), (&m3, &t3), "{d} {group}");
                assert_eq!((&m1, &t1), (&m4, &t4), "{d} {group}");
            }
        }
    }
}
