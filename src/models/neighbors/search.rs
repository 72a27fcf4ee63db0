//! What a search collects (the k nearest rows, or every row within a radius) and the brute
//! force search. Candidates are offered to a [`Collector`] with their exact reduced distance;
//! the collector keeps them in the one total order of the module: by reduced distance, then
//! by training row (the smaller index first on ties, as scikit-learn).

use super::metric::Distance;

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

/// Rows of the training set per block of the brute force search (packed once per block).
const DATA_BLOCK: usize = 256;

/// Training rows per vector group of the screen (the lanes of its dot products).
const GROUP: usize = 8;

/// Query rows per register tile of the screen.
const Q_TILE: usize = 4;

/// Brute force: offers every training row (`x`, `n × d`) to the collector for each query row
/// of `q` (`rows × d`).
///
/// For the euclidean distance the rows are screened through the expansion
/// `‖q‖² + ‖x‖² − 2 q·x`: a block of [`DATA_BLOCK`] training rows is packed by groups of
/// [`GROUP`] rows, and the dot products of a tile of [`Q_TILE`] query rows with a group stay in
/// registers (a GEMM micro-kernel fused with the screen; AVX2 and FMA when the CPU has them),
/// compared at once with each query's limit. Only the rows whose screened value is within a
/// rounding bound of the collector's limit have their exact reduced distance computed and
/// offered, in training-row order: the screen never drops a row the exact comparison keeps,
/// so the result is the exact one, the same bits whatever the CPU.
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
) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
        {
            // SAFETY: the CPU has AVX2 and FMA (checked just above).
            unsafe { brute_avx2(x, sq_norms, n, d, dist, q, rows, out) };
            return;
        }
    }
    brute_kernel::<C, false>(x, sq_norms, n, d, dist, q, rows, out);
}

/// [`brute_kernel`] compiled for AVX2, its screen's dot products with fused multiply-adds.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
#[allow(clippy::too_many_arguments)]
unsafe fn brute_avx2<C: Collector + ?Sized>(
    x: &[f64],
    sq_norms: &[f64],
    n: usize,
    d: usize,
    dist: Distance,
    q: &[f64],
    rows: usize,
    out: &mut C,
) {
    brute_kernel::<C, true>(x, sq_norms, n, d, dist, q, rows, out);
}

/// The loop of [`brute`]; `FUSED` computes the screen's dot products with `mul_add` (only
/// where the CPU fuses it: the screen's bound covers either rounding).
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn brute_kernel<C: Collector + ?Sized, const FUSED: bool>(
    x: &[f64],
    sq_norms: &[f64],
    n: usize,
    d: usize,
    dist: Distance,
    q: &[f64],
    rows: usize,
    out: &mut C,
) {
    fn row(m: &[f64], d: usize, i: usize) -> &[f64] {
        m.get(i * d..(i + 1) * d).unwrap_or(&[])
    }
    let gemm = dist == Distance::Euclidean && sq_norms.len() == n && d > 0 && rows > 1;
    if !gemm {
        for r in 0..rows {
            let qr = row(q, d, r);
            for i in 0..n {
                out.offer(r, i, dist.rdist(qr, row(x, d, i)));
            }
        }
        return;
    }
    let q_norms: Vec<f64> = (0..rows)
        .map(|r| row(q, d, r).iter().map(|v| v * v).sum())
        .collect();
    // |fl(screen) − exact| <= (d + 8) · 8ε · (‖q‖² + ‖x‖²), generously.
    let tol = (d as f64 + 8.0) * 8.0 * f64::EPSILON;
    // The query rows padded with zero rows to whole tiles.
    let tiles = rows.div_ceil(Q_TILE);
    let mut qp = vec![0.0; tiles * Q_TILE * d];
    if let (Some(dst), Some(src)) = (qp.get_mut(..rows * d), q.get(..rows * d)) {
        dst.copy_from_slice(src);
    }
    // A block of training rows by groups: group `g` holds `d × GROUP` values, feature-major
    // (zero rows pad the last group), and the rows' squared norms.
    let groups_max = DATA_BLOCK.div_ceil(GROUP);
    let mut packed = vec![0.0; groups_max * d * GROUP];
    let mut norms = vec![0.0; groups_max * GROUP];
    let mut start = 0;
    while start < n {
        let end = (start + DATA_BLOCK).min(n);
        let m = end - start;
        let groups = m.div_ceil(GROUP);
        packed.fill(0.0);
        norms.fill(0.0);
        for t in 0..m {
            let (g, l) = (t / GROUP, t % GROUP);
            for (j, &v) in row(x, d, start + t).iter().enumerate() {
                if let Some(p) = packed.get_mut((g * d + j) * GROUP + l) {
                    *p = v;
                }
            }
            if let Some(p) = norms.get_mut(t) {
                *p = sq_norms.get(start + t).copied().unwrap_or(0.0);
            }
        }
        for tile in 0..tiles {
            let qt = qp
                .get(tile * Q_TILE * d..(tile + 1) * Q_TILE * d)
                .unwrap_or(&[]);
            for g in 0..groups {
                let pg = packed
                    .get(g * d * GROUP..(g + 1) * d * GROUP)
                    .unwrap_or(&[]);
                let mut acc = [[0.0f64; GROUP]; Q_TILE];
                for (j, xv) in pg.chunks_exact(GROUP).enumerate() {
                    let Ok(xv) = <&[f64; GROUP]>::try_from(xv) else {
                        continue;
                    };
                    for (t, a) in acc.iter_mut().enumerate() {
                        let qv = qt.get(t * d + j).copied().unwrap_or(0.0);
                        for (al, &xl) in a.iter_mut().zip(xv) {
                            *al = if FUSED {
                                qv.mul_add(xl, *al)
                            } else {
                                *al + qv * xl
                            };
                        }
                    }
                }
                let ng = norms.get(g * GROUP..(g + 1) * GROUP).unwrap_or(&[]);
                let valid = (m - g * GROUP).min(GROUP);
                for (t, dots) in acc.iter().enumerate() {
                    let r = tile * Q_TILE + t;
                    if r >= rows {
                        break;
                    }
                    let qn = q_norms.get(r).copied().unwrap_or(0.0);
                    // Whether a row may be kept: its screened value is within the rounding
                    // bound of the limit, or the screen overflowed.
                    let may_keep = |dot: f64, xn: f64, limit: f64| {
                        let screen = qn + xn - 2.0 * dot;
                        (screen - tol * (qn + xn) <= limit) | !screen.is_finite()
                    };
                    let mut limit = out.limit(r);
                    let mut any = false;
                    for (&dot, &xn) in dots.iter().zip(ng) {
                        any |= may_keep(dot, xn, limit);
                    }
                    if !any {
                        continue;
                    }
                    let qr = row(q, d, r);
                    for (l, (&dot, &xn)) in dots.iter().zip(ng).enumerate().take(valid) {
                        if may_keep(dot, xn, limit) {
                            let i = start + g * GROUP + l;
                            out.offer(r, i, dist.rdist(qr, row(x, d, i)));
                            limit = out.limit(r);
                        }
                    }
                }
            }
        }
        start = end;
    }
}
