//! The kernel matrix as the SMO solver reads it: rows of `Q` computed on demand (in parallel
//! over fixed blocks of columns) and kept in an LRU cache bounded by `cache_size` megabytes,
//! as libsvm's `Cache`. The full `n × n` matrix is never allocated. Entries are stored in
//! single precision, as libsvm's `Qfloat`, so that the solver follows libsvm's iterates.

use std::sync::Arc;

use super::kernel::{Kernel, KernelType};
use crate::common::linalg::exp_in_place;
use crate::common::parallel::for_each_mut;
use crate::models::linear::prep::dot;

/// Columns of a kernel row computed per parallel task.
const ROW_BLOCK: usize = 2048;

/// Exponents computed before each call of [`exp_in_place`] (a buffer on the stack).
const EXP_BATCH: usize = 256;

/// The training rows a problem reads (row-major `n × p`), their squared norms and the kernel.
pub(crate) struct TrainRows<'a> {
    pub x: &'a [f64],
    pub p: usize,
    sq: Vec<f64>,
    pub kernel: Kernel,
}

impl<'a> TrainRows<'a> {
    /// Wraps `x` (row-major, `p >= 1` values per row).
    pub fn new(x: &'a [f64], p: usize, kernel: Kernel) -> Self {
        let sq = x.chunks_exact(p.max(1)).map(|r| dot(r, r)).collect();
        Self { x, p, sq, kernel }
    }

    #[inline]
    fn row(&self, i: usize) -> &[f64] {
        &self.x[i * self.p..(i + 1) * self.p]
    }

    /// `K(x_a, x_b)` in libsvm's training form.
    #[inline]
    pub fn k(&self, a: usize, b: usize) -> f64 {
        self.kernel
            .with_norms(self.row(a), self.row(b), self.sq[a], self.sq[b])
    }

    /// `K(x_a, x_b)` in libsvm's prediction form (`k_function(x_a, x_b)`: `rbf` from the
    /// squared distance), as a fitted model evaluates a row against a support vector.
    #[inline]
    pub fn k_predict(&self, a: usize, b: usize) -> f64 {
        self.kernel.eval(self.row(a), self.row(b))
    }

    /// Writes `out[c] = sign(c) · K(x_a, x_{index[c]})` (in single precision) for
    /// every `c` of `cols` (ascending), in parallel over fixed blocks of `cols`; the other
    /// entries of `out` are left as they are. `sign(c)` is `y[c]` times `y_a` for `Some((y,
    /// y_a))`, else 1. The `rbf` entries are computed four columns at a time (AVX2 dot
    /// products with the lanes and additions of [`dot`]) and exponentiated with
    /// [`exp_in_place`], with the bits of [`Self::k`] up to the last place of the exponential.
    fn fill(
        &self,
        a: usize,
        index: &[usize],
        cols: &[usize],
        signs: Option<(&[i8], i8)>,
        out: &mut [f32],
    ) {
        // Fixed blocks of columns, each with the disjoint slice of `out` its columns fall in.
        let mut tasks = Vec::with_capacity(cols.len().div_ceil(ROW_BLOCK));
        let mut rest = out;
        let mut at = 0;
        for block in cols.chunks(ROW_BLOCK) {
            let end = block[block.len() - 1] + 1;
            let (part, tail) = std::mem::take(&mut rest).split_at_mut(end - at);
            tasks.push((block, at, part));
            rest = tail;
            at = end;
        }
        let sign = |c: usize| match signs {
            Some((y, ya)) => f64::from(ya) * f64::from(y[c]),
            None => 1.0,
        };
        for_each_mut(&mut tasks, |_, (block, at, part)| {
            let at = *at;
            if self.kernel.kernel != KernelType::Rbf {
                for &c in block.iter() {
                    part[c - at] = (sign(c) * self.k(a, index[c])) as f32;
                }
                return;
            }
            let mut e = [0.0f64; EXP_BATCH];
            for sub in block.chunks(EXP_BATCH) {
                let e = &mut e[..sub.len()];
                self.rbf_exponents(a, index, sub, e);
                exp_in_place(e);
                for (&c, &k) in sub.iter().zip(e.iter()) {
                    part[c - at] = (sign(c) * k) as f32;
                }
            }
        });
    }

    /// `e[t] = −γ (‖x_a‖² + ‖x_j‖² − 2 x_a·x_j)` for `j = index[cols[t]]`: the exponents of
    /// the `rbf` entries, as [`Self::k`] computes them.
    fn rbf_exponents(&self, a: usize, index: &[usize], cols: &[usize], e: &mut [f64]) {
        #[allow(unused_mut)]
        let mut t = 0;
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU has AVX2 (checked just above).
            t = unsafe { self.rbf_exponents_avx2(a, index, cols, e) };
        }
        let xa = self.row(a);
        for (&c, e) in cols[t..].iter().zip(&mut e[t..]) {
            let j = index[c];
            *e = self.exponent(a, j, dot(xa, self.row(j)));
        }
    }

    /// [`Self::rbf_exponents`] over the first `4 ⌊len / 4⌋` columns, four at a time; returns
    /// how many it wrote.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn rbf_exponents_avx2(
        &self,
        a: usize,
        index: &[usize],
        cols: &[usize],
        e: &mut [f64],
    ) -> usize {
        let xa = self.row(a);
        let mut t = 0;
        for (q, e) in cols.chunks_exact(4).zip(e.chunks_exact_mut(4)) {
            let j = [index[q[0]], index[q[1]], index[q[2]], index[q[3]]];
            let d = dot4_avx2(
                xa,
                self.row(j[0]),
                self.row(j[1]),
                self.row(j[2]),
                self.row(j[3]),
            );
            for s in 0..4 {
                e[s] = self.exponent(a, j[s], d[s]);
            }
            t += 4;
        }
        t
    }

    /// The exponent of the `rbf` entry `(a, j)` from the dot product `d = x_a·x_j`.
    #[inline(always)]
    fn exponent(&self, a: usize, j: usize, d: f64) -> f64 {
        -self.kernel.gamma * (self.sq[a] + self.sq[j] - 2.0 * d)
    }
}

/// The dot products of `a` with each of `rows` (every one at least `a.len()` long), with the
/// bits of [`dot`]: the same four lanes summed in the same order, `(l₀ + l₁) + (l₂ + l₃)`,
/// then the tail. Four rows share each load of `a`, and the four lane sums are reduced
/// together.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[inline]
unsafe fn dot4_avx2(a: &[f64], r0: &[f64], r1: &[f64], r2: &[f64], r3: &[f64]) -> [f64; 4] {
    use std::arch::x86_64::*;
    let p = a.len();
    let (r0, r1, r2, r3) = (&r0[..p], &r1[..p], &r2[..p], &r3[..p]);
    let full = p - p % 4;
    let (mut s0, mut s1, mut s2, mut s3) = (
        _mm256_setzero_pd(),
        _mm256_setzero_pd(),
        _mm256_setzero_pd(),
        _mm256_setzero_pd(),
    );
    let mut t = 0;
    while t < full {
        // SAFETY: `t + 4 <= full <= p`, and every slice holds `p` values.
        let va = _mm256_loadu_pd(a.as_ptr().add(t));
        s0 = _mm256_add_pd(s0, _mm256_mul_pd(va, _mm256_loadu_pd(r0.as_ptr().add(t))));
        s1 = _mm256_add_pd(s1, _mm256_mul_pd(va, _mm256_loadu_pd(r1.as_ptr().add(t))));
        s2 = _mm256_add_pd(s2, _mm256_mul_pd(va, _mm256_loadu_pd(r2.as_ptr().add(t))));
        s3 = _mm256_add_pd(s3, _mm256_mul_pd(va, _mm256_loadu_pd(r3.as_ptr().add(t))));
        t += 4;
    }
    // [s0₀+s0₁, s1₀+s1₁, s0₂+s0₃, s1₂+s1₃] and the same for rows 2 and 3, then the halves added.
    let h01 = _mm256_hadd_pd(s0, s1);
    let h23 = _mm256_hadd_pd(s2, s3);
    let lo = _mm256_permute2f128_pd::<0x20>(h01, h23);
    let hi = _mm256_permute2f128_pd::<0x31>(h01, h23);
    let mut d = [0.0f64; 4];
    _mm256_storeu_pd(d.as_mut_ptr(), _mm256_add_pd(lo, hi));
    for (d, r) in d.iter_mut().zip([r0, r1, r2, r3]) {
        *d += dot_tail(&a[full..], &r[full..]);
    }
    d
}

/// The sum of the products of the last `len % 4` values, as [`dot`] adds it.
#[inline(always)]
fn dot_tail(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Which entries of a row of `Q` the solver reads.
#[derive(Clone, Copy)]
pub(crate) enum Span<'s> {
    /// Every entry.
    All,
    /// The entries of the active variables `positions` (libsvm's `get_Q(i, active_size)`).
    /// `epoch` counts the times the active set grew back to every variable: within one
    /// epoch the active set only shrinks, so a row computed earlier in the epoch still
    /// covers it.
    Active { positions: &'s [usize], epoch: u64 },
}

/// How `Q` is made from the kernel.
pub(crate) enum QKind {
    /// `Q_ij = y_i y_j K_ij` (C-SVC, nu-SVC).
    Svc(Vec<i8>),
    /// `Q_ij = K_ij` (one-class).
    OneClass,
    /// `2l` variables (`α`, `α*`): `Q_ij = s_i s_j K_{i mod l, j mod l}`, `s = +1` then `−1`.
    Svr,
}

/// The `Q` matrix of one problem over the training rows `index` (a sub-problem's rows).
///
/// The cache holds rows of `n = index.len()` entries whatever the kind: the `2n` variables
/// of SVR share one kernel row per training row (as libsvm's `SVR_Q`), expanded with their
/// signs into a reused buffer when the solver asks for a row.
pub(crate) struct QMatrix<'a> {
    rows: &'a TrainRows<'a>,
    index: Vec<usize>,
    kind: QKind,
    qd: Vec<f64>,
    cache: LruRows,
    /// The kernel columns (`0..n`, ascending) the rows are computed over, the active set
    /// they were made for (`(epoch, size)`; `None`: every column), and the marks that make
    /// them.
    columns: Vec<usize>,
    columns_for: Option<(u64, usize)>,
    mark: Vec<bool>,
    /// SVR's expanded rows, reused once the solver has dropped them.
    spare: Vec<Arc<[f32]>>,
}

impl<'a> QMatrix<'a> {
    /// The matrix of `kind` over `index`, with a cache of `cache_bytes`.
    pub fn new(rows: &'a TrainRows<'a>, index: Vec<usize>, kind: QKind, cache_bytes: f64) -> Self {
        let l = index.len();
        let mut qd: Vec<f64> = index.iter().map(|&i| rows.k(i, i)).collect();
        if matches!(kind, QKind::Svr) {
            qd.extend_from_within(..);
        }
        let row_bytes = (l.max(1) * std::mem::size_of::<f32>()) as f64;
        let capacity = ((cache_bytes / row_bytes).floor() as usize).clamp(2, l.max(2));
        Self {
            rows,
            index,
            kind,
            qd,
            cache: LruRows::new(l, capacity),
            columns: Vec::new(),
            columns_for: None,
            mark: Vec::new(),
            spare: Vec::new(),
        }
    }

    /// The number of variables.
    pub fn len(&self) -> usize {
        self.qd.len()
    }

    /// The diagonal `Q_ii`.
    pub fn qd(&self) -> &[f64] {
        &self.qd
    }

    /// Row `i` of `Q` as `(data, sign)`: `Q_ij = sign · data[j]` for every `j` in `span`
    /// (entries outside it may be stale zeros). As libsvm's `get_Q(i, len)`, only the
    /// requested entries are computed; a cached row is reused when it covers `span`.
    pub fn row(&mut self, i: usize, span: Span<'_>) -> (Arc<[f32]>, f64) {
        let l = self.index.len();
        let (key, sign) = if i >= l { (i - l, -1.0) } else { (i, 1.0) };
        let epoch = match span {
            Span::All => None,
            Span::Active { epoch, .. } => Some(epoch),
        };
        let data = match self.cache.get(key, epoch) {
            Some(r) => r,
            None => self.compute(key, span),
        };
        if matches!(self.kind, QKind::Svr) {
            (self.expand(&data), sign)
        } else {
            (data, sign)
        }
    }

    /// Computes (and caches) the `n` entries of row `key` that `span` needs.
    fn compute(&mut self, key: usize, span: Span<'_>) -> Arc<[f32]> {
        let l = self.index.len();
        let epoch = match span {
            Span::Active { positions, epoch } if positions.len() < self.qd.len() => {
                let set = Some((epoch, positions.len()));
                if self.columns_for != set {
                    // The kernel columns of the active variables, ascending (SVR's `α` and
                    // `α*` of one row share a column). Within an epoch the active set only
                    // shrinks, so its size names it.
                    self.mark.clear();
                    self.mark.resize(l, false);
                    for &c in positions {
                        self.mark[if c >= l { c - l } else { c }] = true;
                    }
                    self.columns.clear();
                    self.columns.extend((0..l).filter(|&c| self.mark[c]));
                    self.columns_for = set;
                }
                Some(epoch)
            }
            _ => {
                if self.columns_for.is_some() || self.columns.len() != l {
                    self.columns.clear();
                    self.columns.extend(0..l);
                    self.columns_for = None;
                }
                None
            }
        };
        let a = self.index[key];
        let signs = match &self.kind {
            QKind::Svc(y) => Some((&y[..], y[key])),
            QKind::OneClass | QKind::Svr => None,
        };
        let mut data: Arc<[f32]> = std::iter::repeat_n(0.0f32, l).collect();
        if let Some(out) = Arc::get_mut(&mut data) {
            self.rows.fill(a, &self.index, &self.columns, signs, out);
        }
        self.cache.put(key, Arc::clone(&data), epoch);
        data
    }

    /// SVR's row over the `2n` variables from a kernel row: the `n` first variables are `α`
    /// (`+K`), the `n` others `α*` (`−K`).
    fn expand(&mut self, k: &[f32]) -> Arc<[f32]> {
        let vars = self.qd.len();
        let mut out = match self.spare.iter().position(|b| Arc::strong_count(b) == 1) {
            Some(t) => self.spare.swap_remove(t),
            None => Arc::from(vec![0.0f32; vars]),
        };
        if let Some(buf) = Arc::get_mut(&mut out) {
            let (pos, neg) = buf.split_at_mut(k.len());
            for ((p, n), &v) in pos.iter_mut().zip(neg.iter_mut()).zip(k) {
                *p = v;
                *n = -v;
            }
        }
        self.spare.push(Arc::clone(&out));
        if self.spare.len() > 8 {
            self.spare.remove(0);
        }
        out
    }
}

/// A cached row: complete, or computed for the active set of `epoch`.
#[derive(Clone)]
struct Cached {
    data: Arc<[f32]>,
    /// `None`: every entry; `Some(e)`: the active entries of epoch `e`.
    epoch: Option<u64>,
}

/// Rows kept by key with least-recently-used eviction (a doubly linked list over the keys,
/// as libsvm's `Cache`).
struct LruRows {
    rows: Vec<Option<Cached>>,
    prev: Vec<usize>,
    next: Vec<usize>,
    capacity: usize,
    held: usize,
}

impl LruRows {
    /// A cache of keys `0..n` holding at most `capacity` rows. Key `n` is the list's head.
    fn new(n: usize, capacity: usize) -> Self {
        Self {
            rows: vec![None; n],
            prev: vec![n; n + 1],
            next: vec![n; n + 1],
            capacity: capacity.max(1),
            held: 0,
        }
    }

    fn head(&self) -> usize {
        self.rows.len()
    }

    fn unlink(&mut self, k: usize) {
        let (p, n) = (self.prev[k], self.next[k]);
        self.next[p] = n;
        self.prev[n] = p;
    }

    /// Links `k` as the most recently used.
    fn link_last(&mut self, k: usize) {
        let h = self.head();
        let last = self.prev[h];
        self.next[k] = h;
        self.prev[k] = last;
        self.next[last] = k;
        self.prev[h] = k;
    }

    /// Row `k` if cached and covering `want` (`None`: every entry; `Some(e)`: the active
    /// entries of epoch `e`).
    fn get(&mut self, k: usize, want: Option<u64>) -> Option<Arc<[f32]>> {
        let c = self.rows.get(k)?.as_ref()?;
        let covers = c.epoch.is_none() || c.epoch == want;
        if !covers {
            return None;
        }
        let r = Arc::clone(&c.data);
        self.unlink(k);
        self.link_last(k);
        Some(r)
    }

    fn put(&mut self, k: usize, row: Arc<[f32]>, epoch: Option<u64>) {
        if self.rows[k].is_some() {
            // A partial row replaced by a wider one.
            self.unlink(k);
            self.rows[k] = None;
            self.held -= 1;
        }
        if self.held >= self.capacity {
            let oldest = self.next[self.head()];
            if oldest != self.head() {
                self.unlink(oldest);
                self.rows[oldest] = None;
                self.held -= 1;
            }
        }
        self.rows[k] = Some(Cached { data: row, epoch });
        self.held += 1;
        self.link_last(k);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::svm::kernel::KernelType;

    #[test]
    fn lru_evicts_the_least_recently_used() {
        let mut c = LruRows::new(4, 2);
        let r = |v: f32| -> Arc<[f32]> { Arc::from(vec![v]) };
        c.put(0, r(0.0), None);
        c.put(1, r(1.0), None);
        assert!(c.get(0, None).is_some()); // 1 is now the oldest
        c.put(2, r(2.0), None);
        assert!(c.get(1, None).is_none());
        assert!(c.get(0, None).is_some() && c.get(2, Some(3)).is_some());
        assert_eq!(c.held, 2);
        // A partial row serves its epoch only, and is replaced in place.
        c.put(2, r(2.5), Some(1));
        assert_eq!(c.held, 2);
        assert!(c.get(2, Some(1)).is_some());
        assert!(c.get(2, Some(2)).is_none() && c.get(2, None).is_none());
    }

    #[test]
    fn the_vectorized_exp_is_libms_in_single_precision() {
        let mut x: Vec<f64> = (0..20_000)
            .map(|i| -40.0 + f64::from(i) * 0.002_000_3)
            .chain([
                -800.0,
                -708.5,
                -707.9,
                0.0,
                -0.0,
                1e-300,
                700.0,
                710.0,
                f64::NAN,
            ])
            .collect();
        let want: Vec<f64> = x.iter().map(|v| v.exp()).collect();
        exp_in_place(&mut x);
        let mut f32_diffs = 0;
        for (g, w) in x.iter().zip(&want) {
            if w.is_nan() {
                assert!(g.is_nan());
                continue;
            }
            let ulps = (g.to_bits() as i64 - w.to_bits() as i64).abs();
            assert!(ulps <= 2, "{g} vs {w}");
            f32_diffs += usize::from(*g as f32 != *w as f32);
        }
        assert_eq!(f32_diffs, 0);
    }

    #[test]
    fn four_dots_at_a_time_are_dots_bits() {
        for p in [1usize, 3, 4, 7, 20, 33] {
            let v = |s: f64| -> Vec<f64> {
                (0..p)
                    .map(|t| ((t as f64 + s) * 0.37).sin() * 1e3_f64.powf(s.cos()))
                    .collect()
            };
            let a = v(0.5);
            let rows = [v(1.0), v(2.0), v(3.0), v(4.0)];
            #[cfg(target_arch = "x86_64")]
            if std::arch::is_x86_feature_detected!("avx2") {
                // SAFETY: the CPU has AVX2.
                let d = unsafe { dot4_avx2(&a, &rows[0], &rows[1], &rows[2], &rows[3]) };
                for (d, r) in d.iter().zip(&rows) {
                    assert_eq!(d.to_bits(), dot(&a, r).to_bits(), "p = {p}");
                }
            }
            // Rows of every kind of the kernel: the batched path gives `k`'s bits.
            let x: Vec<f64> = rows.concat();
            let rbf = Kernel {
                kernel: KernelType::Rbf,
                degree: 3,
                gamma: 0.01,
                coef0: 0.0,
            };
            let t = TrainRows::new(&x, p, rbf);
            let index = vec![3, 1, 0, 2, 1];
            let cols: Vec<usize> = (0..5).collect();
            let mut out = vec![0.0f32; 5];
            t.fill(2, &index, &cols, Some((&[1, -1, 1, 1, -1], -1)), &mut out);
            for (c, o) in out.iter().enumerate() {
                let s = if [1, 4].contains(&c) { 1.0 } else { -1.0 };
                assert_eq!(*o, (s * t.k(2, index[c])) as f32);
            }
        }
    }

    #[test]
    fn q_rows_follow_their_kind() {
        let x = [0.0, 1.0, 2.0];
        let kernel = Kernel {
            kernel: KernelType::Linear,
            degree: 3,
            gamma: 1.0,
            coef0: 0.0,
        };
        let rows = TrainRows::new(&x, 1, kernel);
        let mut svc = QMatrix::new(&rows, vec![1, 2], QKind::Svc(vec![1, -1]), 0.0);
        let (r, s) = svc.row(1, Span::All);
        assert_eq!((&r[..], s), (&[-2.0f32, 4.0][..], 1.0));
        // Only the active entries are computed.
        let mut part = QMatrix::new(&rows, vec![1, 2], QKind::Svc(vec![1, -1]), 1e9);
        let (r, _) = part.row(
            1,
            Span::Active {
                positions: &[1],
                epoch: 0,
            },
        );
        assert_eq!(&r[..], &[0.0f32, 4.0][..]);
        let (r, _) = part.row(1, Span::All);
        assert_eq!(&r[..], &[-2.0f32, 4.0][..]);
        assert_eq!(svc.qd(), &[1.0, 4.0]);
        let mut svr = QMatrix::new(&rows, vec![1, 2], QKind::Svr, 1e9);
        let (r, s) = svr.row(3, Span::All);
        assert_eq!((&r[..], s), (&[2.0f32, 4.0, -2.0, -4.0][..], -1.0));
        assert_eq!(svr.len(), 4);
    }
}
