//! What a search collects (the k nearest rows, or every row within a radius) and the brute
//! force search. Candidates are offered to a [`Collector`] with their exact reduced distance;
//! the collector keeps them in the one total order of the module: by reduced distance, then
//! by training row (the smaller index first on ties, as scikit-learn).

use super::metric::Distance;
use crate::common::linalg::{gemm_abt, sq_norm};
use crate::common::simd::with_avx2;

/// Receives the candidate rows of a search for query rows `r` of a block.
pub(crate) trait Collector {
    /// The largest reduced distance that can still be kept for query row `r` (a row whose
    /// reduced distance, or lower bound, is above it may not be offered: no collector may
    /// keep one).
    fn limit(&self, r: usize) -> f64;
    /// Offers training row `i` at reduced distance `rd` to query row `r`.
    fn offer(&mut self, r: usize, i: usize, rd: f64);
}

/// Inserts `(rd, i)` into the sorted `len` first entries of `(rds, idx)` (capacity
/// `rds.len()`), keeping the smallest by `(rd, i)`; only entries `rd <= limit` are kept.
#[inline]
pub(crate) fn insert_sorted(
    rds: &mut [f64],
    idx: &mut [usize],
    len: &mut usize,
    limit: f64,
    rd: f64,
    i: usize,
) {
    let cap = rds.len().min(idx.len());
    if cap == 0 || rd > limit || rd.is_nan() {
        return;
    }
    let before = |a: f64, ia: usize, b: f64, ib: usize| a < b || (a == b && ia < ib);
    if *len >= cap {
        let last = cap - 1;
        if !before(rd, i, rds[last], idx[last]) {
            return;
        }
        *len = last;
    }
    let mut pos = *len;
    while pos > 0 && before(rd, i, rds[pos - 1], idx[pos - 1]) {
        rds[pos] = rds[pos - 1];
        idx[pos] = idx[pos - 1];
        pos -= 1;
    }
    rds[pos] = rd;
    idx[pos] = i;
    *len += 1;
}

/// The `k` nearest rows of each query row of a block (those within `limit`, all by default).
pub(crate) struct KnnCollector {
    pub(crate) k: usize,
    pub(crate) rds: Vec<f64>,
    pub(crate) idx: Vec<usize>,
    pub(crate) len: Vec<usize>,
}

impl KnnCollector {
    pub(crate) fn new(rows: usize, k: usize) -> Self {
        Self {
            k,
            rds: vec![f64::INFINITY; rows * k],
            idx: vec![usize::MAX; rows * k],
            len: vec![0; rows],
        }
    }
}

/// A radius in distance units, with the reduced-distance limit the searches prune by (a
/// hair above the radius, so rounding in the conversion cannot drop a row): a row is within
/// the radius when its reported distance is `<= radius`, the test scikit-learn's brute force
/// makes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Radius {
    pub(crate) dist: Distance,
    pub(crate) radius: f64,
    pub(crate) loose: f64,
}

impl Radius {
    pub(crate) fn new(dist: Distance, radius: f64) -> Self {
        let loose = if radius == f64::INFINITY {
            f64::INFINITY
        } else {
            dist.to_rdist(radius) * (1.0 + 1e-10)
        };
        Self {
            dist,
            radius,
            loose,
        }
    }

    /// Whether a row at reduced distance `rd` is within the radius.
    #[inline]
    pub(crate) fn holds(&self, rd: f64) -> bool {
        rd <= self.loose && self.dist.to_dist(rd) <= self.radius
    }
}

impl Collector for KnnCollector {
    #[inline]
    fn limit(&self, r: usize) -> f64 {
        let len = self.len.get(r).copied().unwrap_or(0);
        if len < self.k {
            f64::INFINITY
        } else {
            self.rds
                .get(r * self.k + self.k - 1)
                .copied()
                .unwrap_or(0.0)
        }
    }

    #[inline]
    fn offer(&mut self, r: usize, i: usize, rd: f64) {
        let k = self.k;
        let (Some(rds), Some(idx), Some(len)) = (
            self.rds.get_mut(r * k..(r + 1) * k),
            self.idx.get_mut(r * k..(r + 1) * k),
            self.len.get_mut(r),
        ) else {
            return;
        };
        insert_sorted(rds, idx, len, f64::INFINITY, rd, i);
    }
}

/// The k nearest rows of one query, in caller-owned buffers (the allocation-free row path).
pub(crate) struct OneKnn<'a> {
    pub(crate) rds: &'a mut [f64],
    pub(crate) idx: &'a mut [usize],
    pub(crate) len: usize,
    pub(crate) radius: Radius,
}

impl Collector for OneKnn<'_> {
    #[inline]
    fn limit(&self, _r: usize) -> f64 {
        if self.len < self.rds.len() {
            self.radius.loose
        } else {
            self.rds.last().copied().unwrap_or(0.0)
        }
    }

    #[inline]
    fn offer(&mut self, _r: usize, i: usize, rd: f64) {
        if self.radius.holds(rd) {
            insert_sorted(self.rds, self.idx, &mut self.len, f64::INFINITY, rd, i);
        }
    }
}

/// Every row within a reduced radius of each query row of a block, unsorted.
pub(crate) struct RadiusCollector {
    pub(crate) radius: Radius,
    pub(crate) found: Vec<Vec<(usize, f64)>>,
}

impl Collector for RadiusCollector {
    #[inline]
    fn limit(&self, _r: usize) -> f64 {
        self.radius.loose
    }

    #[inline]
    fn offer(&mut self, r: usize, i: usize, rd: f64) {
        if self.radius.holds(rd) {
            if let Some(f) = self.found.get_mut(r) {
                f.push((i, rd));
            }
        }
    }
}

/// Rows of the training set per GEMM block of the brute force search.
pub(crate) const DATA_BLOCK: usize = 256;

/// Brute force: offers every training row (`x`, `n × d`) to the collector for each query row
/// of `q` (`rows × d`).
///
/// For the euclidean distance the rows are screened a block at a time through a GEMM
/// (`‖q‖² + ‖x‖² − 2 q·x`, rearranged as `(1 − tol)‖x‖² − 2 q·x` against the limit less
/// `(1 − tol)‖q‖²`), and only those whose screened value is within a rounding bound of the
/// collector's limit have their exact reduced distance computed and offered: the screen never
/// drops a row the exact comparison keeps, so the result is the exact one (queries whose
/// norms are too large to screen, where the products could overflow, are offered every row).
/// The screen tests [`SCREEN_LANES`] rows at a time without branching (vectorized; with AVX2
/// when the CPU has it, which changes no bit: nothing is fused) and looks at the rows one by
/// one only in a group where one may be kept.
///
/// The GEMM runs in `f32` (twice the products per instruction) when every norm is small
/// enough for `f32` ([`F32_NORM_MAX`]) and `d` leaves a useful bound: each training row gets
/// an extra column `−(1 − tol)‖x‖² / 2` (each query row a 1), so that a product is the
/// screened value itself and the screen is one `f32` comparison against the query's bound
/// (rounded down to `f32`); `tol` is then the rounding bound of `f32` products
/// (`(d + 8) · 2⁻²¹`, over four times the worst case of the inputs' conversion and a
/// `(d + 1)`-term dot product in any order, fused or not) with an absolute term for `f32`
/// underflow. Else it runs in `f64` (`tol = (d + 8) · 8ε`). Either way only the screen
/// changes: the offered rows' distances are the exact `f64` ones.
///
/// Each GEMM takes `data_block` training rows ([`DATA_BLOCK`] by default; larger blocks
/// amortize the packing of the GEMM's inputs over more products; the neighbours found are the
/// same for any size).
#[allow(clippy::too_many_arguments)]
pub(crate) fn brute<C: Collector + ?Sized>(
    x: &[f64],
    sq_norms: &[f64],
    n: usize,
    d: usize,
    dist: Distance,
    q: &[f64],
    rows: usize,
    out: &mut C,
    data_block: usize,
) {
    let data_block = data_block.max(1);
    let offer_all = |out: &mut C, r: usize| {
        let qr = row(q, d, r);
        for i in 0..n {
            out.offer(r, i, dist.rdist(qr, row(x, d, i)));
        }
    };
    let gemm = dist == Distance::Euclidean && sq_norms.len() == n && d > 0 && rows > 1;
    if !gemm {
        for r in 0..rows {
            offer_all(out, r);
        }
        return;
    }
    let q_norms: Vec<f64> = (0..rows).map(|r| sq_norm(row(q, d, r))).collect();
    let tol32 = (d as f64 + 8.0) * F32_ROUNDING;
    let small = |v: &f64| *v <= F32_NORM_MAX;
    let single = tol32 <= 1.0 / 64.0 && sq_norms.iter().all(small) && q_norms.iter().all(small);
    let (tol, slack) = if single {
        (tol32, d as f64 * F32_UNDERFLOW)
    } else {
        // |fl(screen) − exact| <= (d + 8) · 8ε · (‖q‖² + ‖x‖²), generously.
        ((d as f64 + 8.0) * 8.0 * f64::EPSILON, 0.0)
    };
    let shrink = 1.0 - tol;
    // Norms that stay far from overflow keep every product and screened value finite.
    let safe = |v: f64| v.is_finite() && v < f64::MAX / 16.0;
    let x_safe = sq_norms.iter().all(|&v| safe(v));
    let x_shrunk: Vec<f64> = sq_norms.iter().map(|v| v * shrink).collect();
    let block_rows = data_block.min(n);
    // The f32 rows carry the extra column.
    let d1 = d + 1;
    let (mut dots, mut dots32, q32, mut block32) = if single {
        let mut q32 = vec![1.0f32; rows * d1];
        for (t, qr) in q32.chunks_exact_mut(d1).zip(q.chunks_exact(d)) {
            for (a, &v) in t.iter_mut().zip(qr) {
                *a = v as f32;
            }
        }
        (
            Vec::new(),
            vec![0.0f32; rows * block_rows],
            q32,
            vec![0.0f32; block_rows * d1],
        )
    } else {
        (
            vec![0.0; rows * block_rows],
            Vec::new(),
            Vec::new(),
            Vec::new(),
        )
    };
    let screen = Screen {
        x,
        d,
        dist,
        q,
        q_norms: &q_norms,
        shrink,
        slack,
    };
    with_avx2(
        #[inline(always)]
        || {
            let mut start = 0;
            while start < n {
                let end = (start + data_block).min(n);
                let m = end - start;
                let block = x.get(start * d..end * d).unwrap_or(&[]);
                let norms = x_shrunk.get(start..end).unwrap_or(&[]);
                let screened = if single {
                    let b32 = block32.get_mut(..m * d1).unwrap_or(&mut []);
                    for ((t, xr), &xn) in b32
                        .chunks_exact_mut(d1)
                        .zip(block.chunks_exact(d))
                        .zip(norms)
                    {
                        for (a, &v) in t.iter_mut().zip(xr) {
                            *a = v as f32;
                        }
                        if let Some(a) = t.last_mut() {
                            *a = (-0.5 * xn) as f32;
                        }
                    }
                    let buf = dots32.get_mut(..rows * m).unwrap_or(&mut []);
                    gemm_abt(&q32, rows, b32, m, d1, buf).is_ok()
                } else {
                    let buf = dots.get_mut(..rows * m).unwrap_or(&mut []);
                    gemm_abt(q, rows, block, m, d, buf).is_ok()
                };
                for r in 0..rows {
                    let qn = q_norms.get(r).copied().unwrap_or(f64::INFINITY);
                    if !(screened && x_safe && safe(qn)) {
                        if start == 0 {
                            offer_all(out, r);
                        }
                        continue;
                    }
                    if single {
                        let dr = dots32.get(r * m..(r + 1) * m).unwrap_or(&[]);
                        screen.row_f32(out, r, start, dr);
                    } else {
                        let dr = dots.get(r * m..(r + 1) * m).unwrap_or(&[]);
                        screen.row(out, r, start, dr, norms);
                    }
                }
                start = end;
            }
        },
    );
}

/// Row `i` of the row-major matrix `m` of `d` columns.
#[inline(always)]
fn row(m: &[f64], d: usize, i: usize) -> &[f64] {
    m.get(i * d..(i + 1) * d).unwrap_or(&[])
}

/// The largest squared norm the `f32` screen takes: every value is then below `2⁵⁰` in
/// magnitude, every product below `2¹⁰⁰` and every sum of fewer than `2²⁷` of them finite in
/// `f32`.
const F32_NORM_MAX: f64 = (1u128 << 100) as f64;

/// The `f32` screen's relative bound per feature, `2⁻²¹` (the unit roundoff of `f32` is
/// `2⁻²⁴`; a `(d + 1)`-term dot product of converted inputs is within `(d + 4) · 2⁻²⁴ ·
/// Σ|qᵢxᵢ|`, and `Σ|qᵢxᵢ| <= ‖q‖² + ‖x‖²` with the norm column).
const F32_ROUNDING: f64 = 1.0 / (1u64 << 21) as f64;

/// The `f32` screen's absolute bound per feature, `2⁻¹⁴⁰`: far above what underflow to
/// subnormal `f32` values can change a product sum by (`2⁻¹⁵⁰` per rounding).
const F32_UNDERFLOW: f64 = 1.0 / (1u128 << 70) as f64 / (1u128 << 70) as f64;

/// What the screen of one block's products needs besides the products.
struct Screen<'a> {
    x: &'a [f64],
    d: usize,
    dist: Distance,
    q: &'a [f64],
    q_norms: &'a [f64],
    shrink: f64,
    slack: f64,
}

impl Screen<'_> {
    /// The screen's bound for query row `r` (squared norm `qn`) under the collector's limit.
    #[inline(always)]
    fn bound<C: Collector + ?Sized>(&self, out: &C, r: usize, qn: f64) -> f64 {
        out.limit(r) - qn * self.shrink + self.slack
    }

    /// Offers training row `i` to query row `r`, at its exact reduced distance.
    #[inline(always)]
    fn offer<C: Collector + ?Sized>(&self, out: &mut C, r: usize, i: usize) {
        let qr = row(self.q, self.d, r);
        out.offer(r, i, self.dist.rdist(qr, row(self.x, self.d, i)));
    }

    /// Screens query row `r` against the block of training rows from `start` (their `f64`
    /// products with the query in `dots`, their shrunk squared norms in `norms`), offering
    /// the rows that may be kept: `(1 − tol)‖x‖² − 2 q·x <= bound`.
    #[inline(always)]
    fn row<C: Collector + ?Sized>(
        &self,
        out: &mut C,
        r: usize,
        start: usize,
        dots: &[f64],
        norms: &[f64],
    ) {
        let qn = self.q_norms.get(r).copied().unwrap_or(f64::INFINITY);
        // The limit changes only when a row is offered.
        let mut bar = self.bound(out, r, qn);
        let mut offset = 0;
        for (dg, ng) in dots.chunks(SCREEN_LANES).zip(norms.chunks(SCREEN_LANES)) {
            let any = match (
                <&[f64; SCREEN_LANES]>::try_from(dg),
                <&[f64; SCREEN_LANES]>::try_from(ng),
            ) {
                (Ok(dg), Ok(ng)) => {
                    let mut hit = [false; SCREEN_LANES];
                    for ((h, &dot), &xn) in hit.iter_mut().zip(dg).zip(ng) {
                        *h = xn - 2.0 * dot <= bar;
                    }
                    hit.iter().fold(false, |a, &h| a | h)
                }
                _ => true,
            };
            if any {
                for (t, (&dot, &xn)) in dg.iter().zip(ng).enumerate() {
                    if xn - 2.0 * dot <= bar {
                        self.offer(out, r, start + offset + t);
                        bar = self.bound(out, r, qn);
                    }
                }
            }
            offset += dg.len();
        }
    }

    /// [`row`](Self::row) from `f32` products with the norm column (`dots` holds
    /// `q·x − (1 − tol)‖x‖² / 2`): a row may be kept when its product is at least
    /// `−bound / 2`, rounded down to `f32`.
    #[inline(always)]
    fn row_f32<C: Collector + ?Sized>(&self, out: &mut C, r: usize, start: usize, dots: &[f32]) {
        let qn = self.q_norms.get(r).copied().unwrap_or(f64::INFINITY);
        let threshold = |bar: f64| {
            let t = -0.5 * bar;
            let t32 = t as f32;
            if f64::from(t32) <= t {
                t32
            } else if t32 == 0.0 {
                // Rounded up to zero: the largest negative value.
                -f32::from_bits(1)
            } else if t32 > 0.0 {
                // One step down (from +inf: f32::MAX).
                f32::from_bits(t32.to_bits() - 1)
            } else {
                // Negative: one step away from zero.
                f32::from_bits(t32.to_bits() + 1)
            }
        };
        let mut thr = threshold(self.bound(out, r, qn));
        let mut offset = 0;
        for dg in dots.chunks(F32_LANES) {
            let any = match <&[f32; F32_LANES]>::try_from(dg) {
                Ok(dg) => {
                    let mut hit = [false; F32_LANES];
                    for (h, &dot) in hit.iter_mut().zip(dg) {
                        *h = dot >= thr;
                    }
                    hit.iter().fold(false, |a, &h| a | h)
                }
                _ => true,
            };
            if any {
                for (t, &dot) in dg.iter().enumerate() {
                    if dot >= thr {
                        self.offer(out, r, start + offset + t);
                        thr = threshold(self.bound(out, r, qn));
                    }
                }
            }
            offset += dg.len();
        }
    }
}

/// Rows per branch-free group of the GEMM screen.
const SCREEN_LANES: usize = 8;

/// Rows per branch-free group of the `f32` screen.
const F32_LANES: usize = 16;
