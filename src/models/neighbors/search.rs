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
    /// lower bound is above it is not offered).
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
    fn row(m: &[f64], d: usize, i: usize) -> &[f64] {
        m.get(i * d..(i + 1) * d).unwrap_or(&[])
    }
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
    // |fl(screen) − exact| <= (d + 8) · 8ε · (‖q‖² + ‖x‖²), generously.
    let tol = (d as f64 + 8.0) * 8.0 * f64::EPSILON;
    let shrink = 1.0 - tol;
    let q_norms: Vec<f64> = (0..rows).map(|r| sq_norm(row(q, d, r))).collect();
    // Norms that stay far from overflow keep every product and screened value finite.
    let safe = |v: f64| v.is_finite() && v < f64::MAX / 16.0;
    let x_safe = sq_norms.iter().all(|&v| safe(v));
    let x_shrunk: Vec<f64> = sq_norms.iter().map(|v| v * shrink).collect();
    let mut dots = vec![0.0; rows * data_block.min(n)];
    with_avx2(
        #[inline(always)]
        || {
            let mut start = 0;
            while start < n {
                let end = (start + data_block).min(n);
                let m = end - start;
                let block = x.get(start * d..end * d).unwrap_or(&[]);
                let norms = x_shrunk.get(start..end).unwrap_or(&[]);
                let buf = dots.get_mut(..rows * m).unwrap_or(&mut []);
                let screened = gemm_abt(q, rows, block, m, d, buf).is_ok();
                for r in 0..rows {
                    let qn = q_norms.get(r).copied().unwrap_or(f64::INFINITY);
                    if !(screened && x_safe && safe(qn)) {
                        if start == 0 {
                            offer_all(out, r);
                        }
                        continue;
                    }
                    let qr = row(q, d, r);
                    // Whether a row may be kept: `(1 − tol)‖x‖² − 2 q·x <= bound`. The limit
                    // changes only when a row is offered.
                    let bound = |limit: f64| limit - qn * shrink;
                    let mut bar = bound(out.limit(r));
                    let dr = buf.get(r * m..(r + 1) * m).unwrap_or(&[]);
                    let mut offset = 0;
                    for (dg, ng) in dr.chunks(SCREEN_LANES).zip(norms.chunks(SCREEN_LANES)) {
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
                                    let i = start + offset + t;
                                    out.offer(r, i, dist.rdist(qr, row(x, d, i)));
                                    bar = bound(out.limit(r));
                                }
                            }
                        }
                        offset += dg.len();
                    }
                }
                start = end;
            }
        },
    );
}

/// Rows per branch-free group of the GEMM screen.
const SCREEN_LANES: usize = 8;
