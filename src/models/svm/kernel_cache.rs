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
///
/// As in libsvm's `Cache`, a cached row covers the variables of a prefix of the solver's
/// order of the variables (libsvm's positions `0..len` of `get_Q(i, len)`; the order starts
/// as the identity), and a request for a longer prefix computes only the entries the row
/// lacks (after the active set grew back, only the variables that had been shrunk). Rows
/// are stored by variable, so the solver's swaps move no data; it reports them
/// ([`Self::swapped`], [`Self::cut`]) so that a row's prefix keeps naming variables it has.
pub(crate) struct QMatrix<'a> {
    rows: &'a TrainRows<'a>,
    index: Vec<usize>,
    kind: QKind,
    qd: Vec<f64>,
    cache: LruRows,
    /// The solver's order of the variables, the position of each variable in it, and per
    /// kernel column the first position of its variables (SVR's `α` and `α*` of one
    /// training row share a column).
    order: Vec<usize>,
    pos: Vec<usize>,
    first: Vec<usize>,
    /// The swaps reported so far.
    swaps: u64,
    /// The kernel columns of the last few ranges of positions rows were computed over.
    gathered: Vec<Gathered>,
    /// The entry of `gathered` to replace next.
    next_gathered: usize,
    /// A row evicted from the cache, whose buffer the next new row reuses.
    free: Option<Arc<[f32]>>,
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
            cache: LruRows::new(l, capacity),
            order: (0..qd.len()).collect(),
            pos: (0..qd.len()).collect(),
            first: (0..l).collect(),
            qd,
            swaps: 0,
            gathered: Vec::new(),
            next_gathered: 0,
            free: None,
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

    /// The cache key (training row) of variable `v`.
    #[inline]
    fn key(&self, v: usize) -> usize {
        let n = self.index.len();
        if v >= n {
            v - n
        } else {
            v
        }
    }

    /// Row `i` of `Q` as `(data, sign)`: `Q_ij = sign · data[j]` for every variable `j` at
    /// the positions `0..len` of the solver's order (the entries of other variables may be
    /// stale). As libsvm's `get_Q(i, len)`, only the entries the cached row lacks are
    /// computed.
    pub fn row(&mut self, i: usize, len: usize) -> (Arc<[f32]>, f64) {
        let key = self.key(i);
        let sign = if i >= self.index.len() { -1.0 } else { 1.0 };
        let data = match self.cache.get(key) {
            Some(c) if c.len >= len => Arc::clone(&c.data),
            _ => self.compute(key, len),
        };
        if matches!(self.kind, QKind::Svr) {
            (self.expand(&data), sign)
        } else {
            (data, sign)
        }
    }

    /// Extends (or makes) the cached row `key` to cover the positions `0..len`.
    fn compute(&mut self, key: usize, len: usize) -> Arc<[f32]> {
        let n = self.index.len();
        let (mut data, have) = match self.cache.take(key) {
            Some(c) => (c.data, c.len),
            None => {
                let reuse = self.free.take().filter(|b| Arc::strong_count(b) == 1);
                (reuse.unwrap_or_else(|| Arc::from(vec![0.0f32; n])), 0)
            }
        };
        let g = self.missing_columns(have, len);
        if Arc::get_mut(&mut data).is_none() {
            // The solver still reads the old row: extend a copy.
            data = Arc::from(&data[..]);
        }
        let a = self.index[key];
        let signs = match &self.kind {
            QKind::Svc(y) => Some((&y[..], y[key])),
            QKind::OneClass | QKind::Svr => None,
        };
        if let Some(out) = Arc::get_mut(&mut data) {
            let columns = &self.gathered[g].columns;
            self.rows.fill(a, &self.index, columns, signs, out);
        }
        let row = Cached {
            data: Arc::clone(&data),
            len: have.max(len),
        };
        if let Some(old) = self.cache.put(key, row) {
            self.free = Some(old.data);
        }
        data
    }

    /// The entry of `gathered` listing the kernel columns, ascending, whose first variable
    /// is at a position in `from..to` (those of `0..from` the row has).
    fn missing_columns(&mut self, from: usize, to: usize) -> usize {
        let at = (self.swaps, from, to);
        if let Some(g) = self.gathered.iter().position(|g| g.at == at) {
            return g;
        }
        let g = if self.gathered.len() < GATHERED {
            self.gathered.push(Gathered {
                at,
                columns: Vec::new(),
            });
            self.gathered.len() - 1
        } else {
            self.next_gathered = (self.next_gathered + 1) % GATHERED;
            self.next_gathered
        };
        let n = self.index.len();
        let first = &self.first;
        let entry = &mut self.gathered[g];
        entry.at = at;
        let columns = &mut entry.columns;
        columns.clear();
        if from == 0 && to >= self.pos.len() {
            columns.extend(0..n);
        } else if (to - from) * 16 < n {
            // Few positions: their columns (each from its first variable), sorted.
            for (p, &v) in (from..to).zip(&self.order[from..to]) {
                let c = if v >= n { v - n } else { v };
                if first[c] == p {
                    columns.push(c);
                }
            }
            columns.sort_unstable();
        } else {
            // Many: one branch-free pass over the columns.
            columns.resize(n, 0);
            let mut k = 0;
            for (c, &f) in first.iter().enumerate() {
                columns[k] = c;
                k += usize::from(f.wrapping_sub(from) < to - from);
            }
            columns.truncate(k);
        }
        g
    }

    /// The solver swapped the variables at positions `i` and `j` of its order (libsvm's
    /// `swap_index`), `order` being the order after the swap. Their rows become the most
    /// recently used, as in libsvm's `Cache` (its `SVR_Q` keeps its cache out of the
    /// swaps).
    pub fn swapped(&mut self, i: usize, j: usize, order: &[usize]) {
        let n = self.index.len();
        self.swaps += 1;
        for p in [i, j] {
            let v = order[p];
            self.order[p] = v;
            self.pos[v] = p;
            let c = self.key(v);
            self.first[c] = if self.pos.len() > n {
                self.pos[c].min(self.pos[c + n])
            } else {
                p
            };
        }
        if !matches!(self.kind, QKind::Svr) {
            self.cache.touch(self.key(order[i]));
            self.cache.touch(self.key(order[j]));
        }
    }

    /// The solver's shrinking pass swapped positions, the first pair being `i < j` (the
    /// later pairs lie inside it): a row covering the positions `0..len` with
    /// `i < len <= j` now has at `i..len` variables it may lack, so it is cut to `0..i`
    /// (libsvm drops it).
    pub fn cut(&mut self, i: usize, j: usize) {
        self.cache.for_each(|c| {
            if c.len > i && c.len <= j {
                c.len = i;
            }
        });
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

/// How many ranges of positions [`QMatrix`] keeps the kernel columns of.
const GATHERED: usize = 8;

/// The kernel columns of a range of positions `(swaps, from, to)`.
struct Gathered {
    at: (u64, usize, usize),
    columns: Vec<usize>,
}

/// A cached row, with the number of leading positions of the solver's order it covers.
struct Cached {
    data: Arc<[f32]>,
    len: usize,
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
            rows: std::iter::repeat_with(|| None).take(n).collect(),
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

    /// Makes row `k`, if cached, the most recently used.
    fn touch(&mut self, k: usize) {
        if self.rows.get(k).is_some_and(Option::is_some) {
            self.unlink(k);
            self.link_last(k);
        }
    }

    /// Row `k` if cached (now the most recently used).
    fn get(&mut self, k: usize) -> Option<&Cached> {
        self.touch(k);
        self.rows.get(k)?.as_ref()
    }

    /// Takes row `k` out of the cache.
    fn take(&mut self, k: usize) -> Option<Cached> {
        let c = self.rows.get_mut(k)?.take()?;
        self.unlink(k);
        self.held -= 1;
        Some(c)
    }

    /// Caches row `k` (not cached) as the most recently used; returns the row evicted for
    /// it.
    fn put(&mut self, k: usize, row: Cached) -> Option<Cached> {
        let mut evicted = None;
        if self.held >= self.capacity {
            let oldest = self.next[self.head()];
            if oldest != self.head() {
                evicted = self.take(oldest);
            }
        }
        self.rows[k] = Some(row);
        self.held += 1;
        self.link_last(k);
        evicted
    }

    /// Calls `f` on every cached row.
    fn for_each(&mut self, mut f: impl FnMut(&mut Cached)) {
        let h = self.head();
        let mut k = self.next[h];
        while k != h {
            if let Some(c) = self.rows[k].as_mut() {
                f(c);
            }
            k = self.next[k];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::svm::kernel::KernelType;

    #[test]
    fn lru_evicts_the_least_recently_used() {
        let mut c = LruRows::new(4, 2);
        let r = |v: f32| Cached {
            data: Arc::from(vec![v]),
            len: 1,
        };
        assert!(c.put(0, r(0.0)).is_none());
        assert!(c.put(1, r(1.0)).is_none());
        assert!(c.get(0).is_some()); // 1 is now the oldest
        assert_eq!(c.put(2, r(2.0)).map(|e| e.data[0]), Some(1.0));
        assert!(c.get(1).is_none());
        c.touch(0); // 2 is now the oldest
        assert!(c.take(2).is_some() && c.take(2).is_none());
        assert_eq!(c.held, 1);
        c.for_each(|x| x.len = 0);
        assert_eq!(c.get(0).map(|x| x.len), Some(0));
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
        let x = [0.0, 1.0, 2.0, 3.0];
        let kernel = Kernel {
            kernel: KernelType::Linear,
            degree: 3,
            gamma: 1.0,
            coef0: 0.0,
        };
        let rows = TrainRows::new(&x, 1, kernel);
        let mut svc = QMatrix::new(&rows, vec![1, 2], QKind::Svc(vec![1, -1]), 0.0);
        let (r, s) = svc.row(1, 2);
        assert_eq!((&r[..], s), (&[-2.0f32, 4.0][..], 1.0));
        assert_eq!(svc.qd(), &[1.0, 4.0]);
        // Only the entries of the requested prefix are computed; a longer prefix adds the
        // missing ones, a cut prefix recomputes from the cut.
        let mut part = QMatrix::new(&rows, vec![1, 2, 3], QKind::OneClass, 1e9);
        part.swapped(0, 2, &[2, 1, 0]);
        part.swapped(1, 2, &[2, 0, 1]);
        let (r, _) = part.row(0, 1);
        assert_eq!(&r[..], &[0.0f32, 0.0, 3.0][..]);
        drop(r);
        let (r, _) = part.row(0, 3);
        assert_eq!(&r[..], &[1.0f32, 2.0, 3.0][..]);
        part.cut(1, 2);
        assert_eq!(part.cache.get(0).map(|c| c.len), Some(3));
        part.cut(1, 3);
        assert_eq!(part.cache.get(0).map(|c| c.len), Some(1));
        let mut svr = QMatrix::new(&rows, vec![1, 2], QKind::Svr, 1e9);
        let (r, s) = svr.row(3, 4);
        assert_eq!((&r[..], s), (&[2.0f32, 4.0, -2.0, -4.0][..], -1.0));
        assert_eq!(svr.len(), 4);
        // SVR: the `α*` of a training row whose `α` the row covers adds no column.
        let mut svr = QMatrix::new(&rows, vec![1, 2], QKind::Svr, 1e9);
        svr.swapped(0, 3, &[3, 1, 2, 0]);
        svr.swapped(1, 3, &[3, 0, 2, 1]);
        svr.swapped(2, 3, &[3, 0, 1, 2]);
        svr.row(0, 1);
        let g = svr.missing_columns(1, 3);
        assert_eq!(svr.gathered[g].columns, [0]);
        // Both ways of gathering give the columns whose first variable is in the range.
        let x: Vec<f64> = (0..40).map(f64::from).collect();
        let rows = TrainRows::new(&x, 1, kernel);
        let mut q = QMatrix::new(&rows, (0..40).collect(), QKind::Svr, 1e9);
        let mut order: Vec<usize> = (0..80).collect();
        let mut r = 7u64;
        for _ in 0..200 {
            r = r
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let (i, j) = ((r >> 33) as usize % 80, (r >> 13) as usize % 80);
            order.swap(i, j);
            q.swapped(i, j, &order);
        }
        for from in 0..80 {
            for to in from..=80 {
                let want: Vec<usize> = (0..40)
                    .filter(|&c| {
                        let p = order.iter().position(|&v| v % 40 == c).unwrap_or(80);
                        (from..to).contains(&p)
                    })
                    .collect();
                let g = q.missing_columns(from, to);
                assert_eq!(q.gathered[g].columns, want, "{from}..{to}");
            }
        }
    }
}
