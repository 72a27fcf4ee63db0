//! Finding the split of one node: the best threshold of each candidate feature (sorting the
//! node's values, as scikit-learn's `BestSplitter`) or one random threshold per feature
//! (`RandomSplitter`), with missing values sent to the side that scores better.
//!
//! The best split of a node is the one with the largest score; ties go to the lowest feature
//! index, so the result does not depend on the order features are evaluated in, nor on the
//! number of threads evaluating them.

use std::cmp::Ordering;

use rand::Rng;
use rayon::prelude::*;

use super::criterion::Criterion;
use super::data::Columns;
use super::params::{SplitStrategy, TreeConfig};

/// Values closer than this are treated as equal (scikit-learn's `FEATURE_THRESHOLD`).
pub(crate) const FEATURE_THRESHOLD: f64 = 1e-7;

/// Nodes with at least this many samples evaluate their candidate features in parallel.
const PARALLEL_MIN_SAMPLES: usize = 8192;

/// A candidate split: `x[feature] <= threshold` goes left; a missing value goes left when
/// `missing_go_left`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Split {
    pub feature: usize,
    pub threshold: f64,
    pub missing_go_left: bool,
    pub proxy: f64,
}

impl Split {
    /// Whether `self` beats `other`: larger score, then lower feature index.
    fn beats(&self, other: &Split) -> bool {
        self.proxy > other.proxy || (self.proxy == other.proxy && self.feature < other.feature)
    }

    /// Whether a sample with value `v` goes left.
    #[inline]
    pub fn goes_left(&self, v: f64) -> bool {
        if v.is_nan() {
            self.missing_go_left
        } else {
            v <= self.threshold
        }
    }
}

/// What evaluating one feature found.
enum Outcome {
    /// The feature takes one value in the node (and has no missing value).
    Constant,
    /// The feature varies; its best valid split, if any split is valid.
    Varies(Option<Split>),
}

/// Reusable buffers of one feature evaluation.
pub(crate) struct Scratch<C: Criterion> {
    pairs: Vec<(f64, u32)>,
    keys: Vec<u64>,
    missing: Vec<u32>,
    /// Scratch space of the radix sort of `keys`.
    radix: Vec<u64>,
    /// The sorted keys and missing samples of the node's best feature so far (sequential
    /// rank scans only), and that feature: the node's samples are partitioned from them.
    kept_keys: Vec<u64>,
    kept_missing: Vec<u32>,
    kept: Option<usize>,
    acc: Accs<C>,
}

/// The accumulators of one feature scan, and the criterion's sweep over the scan order.
struct Accs<C: Criterion> {
    zero: C::Acc,
    left: C::Acc,
    right: C::Acc,
    miss: C::Acc,
    sweep: C::Sweep,
}

impl<C: Criterion> Scratch<C> {
    /// Buffers for criterion `crit`.
    pub fn new(crit: &C) -> Self {
        let zero = crit.empty();
        Self {
            pairs: Vec::new(),
            keys: Vec::new(),
            missing: Vec::new(),
            radix: Vec::new(),
            kept_keys: Vec::new(),
            kept_missing: Vec::new(),
            kept: None,
            acc: Accs {
                left: zero.clone(),
                right: zero.clone(),
                miss: zero.clone(),
                zero,
                sweep: C::Sweep::default(),
            },
        }
    }
}

/// The samples of one node and the constraints a split must meet.
pub(crate) struct NodeView<'a, C: Criterion> {
    pub crit: &'a C,
    pub x: &'a Columns,
    pub samples: &'a [u32],
    pub total: &'a C::Acc,
    pub min_samples_leaf: usize,
    pub min_weight_leaf: f64,
    /// The tree's presorted feature orders and the node's first position in them, when the
    /// best splitter grows the tree (the node's values are then read in order, not sorted).
    pub order: Option<(&'a Presorted, usize)>,
    /// The features' value ranks, when the best splitter sorts each node's values.
    pub ranks: Option<&'a Ranks>,
}

/// Rank of a missing value in [`Ranks`].
const MISSING_RANK: u32 = u32::MAX;

/// [`Ranks`] need fewer rows than this (a rank takes 31 bits plus a flag).
pub(crate) const MAX_RANKED_ROWS: usize = 1 << 31;

/// Sorting done once per training set and shared by all trees of a forest: every feature's
/// values replaced by their rank among the feature's distinct values (for trees that sort
/// each node's values, [`Ranks::new`]), or every feature's rows in value order (for trees
/// that presort, [`Ranks::ordered`]: a tree's [`Presorted`] orders are these filtered to its
/// samples).
///
/// With ranks, a node sorts `(rank, sample)` pairs packed in one `u64` (half the bytes of
/// `(value, sample)` pairs, integer comparisons), which orders the samples exactly as their
/// values do.
///
/// A stored rank is `2 * r + close`, where `r` is the index of the value among the distinct
/// values and `close` says whether the next distinct value is within
/// [`FEATURE_THRESHOLD`] of it. Two values in a node are then "the same" for the splitter
/// exactly when their `r` are equal, or the lower one is `close` and the values themselves
/// are within the threshold: the value table is only read at near-ties and for thresholds.
/// Missing values get [`MISSING_RANK`].
pub(crate) struct Ranks {
    n_rows: usize,
    rank: Vec<u32>,
    values: Vec<Vec<f64>>,
    /// Bits of the largest stored rank of each feature.
    bits: Vec<u32>,
    /// Every feature's rows in [`Presorted`] order, one feature after the other (empty
    /// unless made by [`Ranks::ordered`]).
    order: Vec<u32>,
}

impl Ranks {
    /// Ranks the values of every feature of `x` (in parallel over features); needs fewer
    /// than [`MAX_RANKED_ROWS`] rows.
    pub fn new(x: &Columns) -> Self {
        let n_rows = x.n_rows();
        let per: Vec<(Vec<u32>, Vec<f64>)> = (0..x.n_features())
            .into_par_iter()
            .map(|f| {
                let col = x.col(f);
                let mut values: Vec<f64> = col.iter().copied().filter(|v| !v.is_nan()).collect();
                values.sort_unstable_by(|a, b| a.partial_cmp(b).unwrap_or(Ordering::Equal));
                values.dedup();
                let rank = col
                    .iter()
                    .map(|v| {
                        if v.is_nan() {
                            return MISSING_RANK;
                        }
                        let r = values.partition_point(|u| u < v);
                        let close = values
                            .get(r + 1)
                            .is_some_and(|next| *next <= *v + FEATURE_THRESHOLD);
                        (2 * r + usize::from(close)) as u32
                    })
                    .collect();
                (rank, values)
            })
            .collect();
        let mut rank = Vec::with_capacity(n_rows * per.len());
        let mut values = Vec::with_capacity(per.len());
        for (r, v) in per {
            rank.extend_from_slice(&r);
            values.push(v);
        }
        let bits = values
            .iter()
            .map(|v| usize::BITS - (2 * v.len()).leading_zeros())
            .collect();
        Self {
            n_rows,
            rank,
            values,
            bits,
            order: Vec::new(),
        }
    }

    /// Every feature's rows of `x` in value order (missing values last, ties by row), for
    /// presorting trees (no ranks).
    pub fn ordered(x: &Columns) -> Self {
        let n_rows = x.n_rows();
        let rows: Vec<u32> = (0..n_rows as u32).collect();
        Self {
            n_rows,
            rank: Vec::new(),
            values: Vec::new(),
            bits: Vec::new(),
            order: sorted_orders(x, &rows),
        }
    }

    /// Whether the value ranks were computed ([`Ranks::new`]).
    pub fn is_ranked(&self) -> bool {
        self.rank.len() == self.n_rows * self.values.len() && !self.values.is_empty()
    }

    /// The ranks of feature `f`, one per row.
    #[inline]
    fn col(&self, f: usize) -> &[u32] {
        self.rank
            .get(f * self.n_rows..(f + 1) * self.n_rows)
            .unwrap_or(&[])
    }

    /// The distinct values of feature `f`, in increasing order.
    #[inline]
    fn values(&self, f: usize) -> &[f64] {
        self.values.get(f).map_or(&[], Vec::as_slice)
    }
}

/// Every feature's sample order by value, computed once at the root and stably partitioned
/// at each split, so that a node's samples are in value order for every feature (missing
/// values last) without sorting at each node.
pub(crate) struct Presorted {
    n: usize,
    idx: Vec<u32>,
    tmp: Vec<u32>,
}

impl Presorted {
    /// Sorts `samples` (in increasing order) by each feature of `x` (ties by sample index,
    /// missing values last); filters the row orders of `shared` to them when it has them
    /// (`O(rows)` per feature instead of a sort).
    pub fn new(x: &Columns, samples: &[u32], shared: Option<&Ranks>) -> Self {
        let n = samples.len();
        let n_rows = x.n_rows();
        let idx = match shared {
            Some(r) if r.n_rows == n_rows && r.order.len() == n_rows * x.n_features() => {
                filter_orders(&r.order, n_rows, samples)
            }
            _ => sorted_orders(x, samples),
        };
        Self {
            n,
            idx,
            tmp: Vec::new(),
        }
    }

    /// The samples at positions `start..end` of feature `f`'s order.
    #[inline]
    fn segment(&self, f: usize, start: usize, end: usize) -> &[u32] {
        self.idx
            .get(f * self.n + start..f * self.n + end)
            .unwrap_or(&[])
    }

    /// Splits positions `start..end` of every non-constant feature's order: samples with
    /// `left[s]` first, each side keeping its order.
    pub fn split(&mut self, start: usize, end: usize, left: &[bool], constant: &[bool]) {
        if self.n == 0 || end <= start {
            return;
        }
        let part = |tmp: &mut Vec<u32>, (f, chunk): (usize, &mut [u32])| {
            if constant.get(f).copied().unwrap_or(true) {
                return;
            }
            if let Some(seg) = chunk.get_mut(start..end) {
                stable_partition(seg, left, tmp);
            }
        };
        if end - start >= PARALLEL_MIN_SAMPLES {
            self.idx
                .par_chunks_mut(self.n)
                .enumerate()
                .for_each_init(Vec::new, part);
        } else {
            let mut tmp = std::mem::take(&mut self.tmp);
            for item in self.idx.chunks_mut(self.n).enumerate() {
                part(&mut tmp, item);
            }
            self.tmp = tmp;
        }
    }
}

/// Sorts `samples` by each feature of `x` (missing values last, ties by sample index): the
/// orders one feature after the other.
fn sorted_orders(x: &Columns, samples: &[u32]) -> Vec<u32> {
    let n = samples.len();
    let mut idx = vec![0u32; n * x.n_features()];
    let fill = |(f, out): (usize, &mut [u32])| {
        let col = x.col(f);
        let mut pairs: Vec<(f64, u32)> = samples
            .iter()
            .map(|&s| (col.get(s as usize).copied().unwrap_or(f64::NAN), s))
            .collect();
        pairs.sort_unstable_by(|a, b| {
            a.0.is_nan()
                .cmp(&b.0.is_nan())
                .then_with(|| a.0.total_cmp(&b.0))
                .then_with(|| a.1.cmp(&b.1))
        });
        for (o, p) in out.iter_mut().zip(&pairs) {
            *o = p.1;
        }
    };
    if n > 0 {
        idx.par_chunks_mut(n).enumerate().for_each(fill);
    }
    idx
}

/// The orders of [`sorted_orders`] of `samples` (distinct rows), from those of all `n_rows`
/// rows (`orders`): each feature's rows that are samples, in the same order (the order of a
/// subset under a total order is the filtered order of the whole).
fn filter_orders(orders: &[u32], n_rows: usize, samples: &[u32]) -> Vec<u32> {
    let n = samples.len();
    let mut member = vec![false; n_rows];
    for &s in samples {
        if let Some(m) = member.get_mut(s as usize) {
            *m = true;
        }
    }
    let mut idx = vec![0u32; n * (orders.len() / n_rows.max(1))];
    if n > 0 && n_rows > 0 {
        idx.par_chunks_mut(n)
            .zip(orders.par_chunks(n_rows))
            .for_each(|(out, all)| {
                let kept = all
                    .iter()
                    .filter(|&&r| member.get(r as usize).copied().unwrap_or(false));
                for (o, &r) in out.iter_mut().zip(kept) {
                    *o = r;
                }
            });
    }
    idx
}

/// Moves the samples `s` of `seg` with `left[s]` to the front, keeping the order of each side.
fn stable_partition(seg: &mut [u32], left: &[bool], tmp: &mut Vec<u32>) -> usize {
    stable_partition_by(seg, tmp, |s| left.get(s as usize).copied().unwrap_or(false))
}

/// Moves the samples `s` of `seg` with `goes_left(s)` to the front, keeping the order of each
/// side; returns how many go left. `tmp` is scratch space.
#[inline]
fn stable_partition_by(
    seg: &mut [u32],
    tmp: &mut Vec<u32>,
    goes_left: impl Fn(u32) -> bool,
) -> usize {
    // Branch-free: every sample is written to both sides' next slot and only the side it
    // belongs to advances (the direction is unpredictable, a branch on it mispredicts).
    tmp.clear();
    tmp.resize(seg.len(), 0);
    let (mut w, mut r) = (0, 0);
    for i in 0..seg.len() {
        let Some(&s) = seg.get(i) else { break };
        let left = goes_left(s);
        if let Some(slot) = seg.get_mut(w) {
            *slot = s;
        }
        if let Some(slot) = tmp.get_mut(r) {
            *slot = s;
        }
        w += usize::from(left);
        r += usize::from(!left);
    }
    if let (Some(rest), Some(right)) = (seg.get_mut(w..), tmp.get(..r)) {
        rest.copy_from_slice(right);
    }
    w
}

/// The midpoint of two consecutive distinct values, as scikit-learn computes it.
#[inline]
fn midpoint(a: f64, b: f64) -> f64 {
    let t = a / 2.0 + b / 2.0;
    if t == b || t.is_infinite() {
        a
    } else {
        t
    }
}

impl<C: Criterion> NodeView<'_, C> {
    /// Scores the split with `left` statistics (and `n_left` samples): its score when it is
    /// valid and beats `best` (the score to beat, if any).
    #[inline]
    fn consider(
        &self,
        sweep: &C::Sweep,
        left: &C::Acc,
        right: &mut C::Acc,
        n_left: usize,
        best: Option<f64>,
    ) -> Option<f64> {
        let n_right = self.samples.len() - n_left;
        if n_left < self.min_samples_leaf || n_right < self.min_samples_leaf {
            return None;
        }
        C::subtract(self.total, left, right);
        if C::weight(left) < self.min_weight_leaf || C::weight(right) < self.min_weight_leaf {
            return None;
        }
        let proxy = self.crit.proxy(sweep, left, right);
        best.is_none_or(|b| proxy > b).then_some(proxy)
    }

    /// The best threshold of feature `f`: reads the node's values in order (presorted, or
    /// sorted here) and scans every boundary between distinct values.
    fn best_for_feature(&self, f: usize, sc: &mut Scratch<C>) -> Outcome {
        sc.missing.clear();
        let Scratch {
            pairs,
            keys,
            missing,
            radix,
            acc,
            ..
        } = sc;
        if let (None, Some(ranks)) = (self.order, self.ranks) {
            keys.clear();
            let rank = ranks.col(f);
            for &s in self.samples {
                let r = rank.get(s as usize).copied().unwrap_or(MISSING_RANK);
                if r == MISSING_RANK {
                    missing.push(s);
                } else {
                    keys.push(u64::from(r) << 32 | u64::from(s));
                }
            }
            sort_keys(keys, radix, ranks.bits.get(f).copied().unwrap_or(32));
            let values = ranks.values(f);
            let keys = keys.as_slice();
            let rank_at = |i: usize| keys.get(i).map_or(0, |k| (k >> 32) as usize);
            let value = |i: usize| values.get(rank_at(i) >> 1).copied().unwrap_or(f64::NAN);
            return self.scan(
                f,
                keys.len(),
                value,
                |p| {
                    let (a, b) = (rank_at(p - 1), rank_at(p));
                    a >> 1 == b >> 1 || (a & 1 == 1 && value(p) <= value(p - 1) + FEATURE_THRESHOLD)
                },
                |i| keys.get(i).map_or(0, |&k| k as u32),
                missing,
                acc,
            );
        }
        let col = self.x.col(f);
        pairs.clear();
        let sorted = self
            .order
            .map(|(o, start)| o.segment(f, start, start + self.samples.len()));
        for &s in sorted.unwrap_or(self.samples) {
            let v = col.get(s as usize).copied().unwrap_or(f64::NAN);
            if v.is_nan() {
                missing.push(s);
            } else {
                pairs.push((v, s));
            }
        }
        if sorted.is_none() {
            sort_pairs(pairs);
        }
        let pairs = pairs.as_slice();
        let value = |i: usize| pairs.get(i).map_or(f64::NAN, |p| p.0);
        self.scan(
            f,
            pairs.len(),
            value,
            |p| value(p) <= value(p - 1) + FEATURE_THRESHOLD,
            |i| pairs.get(i).map_or(0, |p| p.1),
            missing,
            acc,
        )
    }

    /// Scans the `n_non` present values of feature `f` in value order (`value(i)` and
    /// `sample(i)` of position `i`, `same(p)` when position `p` holds the same value as
    /// `p - 1` up to [`FEATURE_THRESHOLD`]; the samples with a missing value are `missing`):
    /// every boundary between distinct values, once with missing values on the right and once
    /// on the left, then the split "every value left, missing right".
    #[allow(clippy::too_many_arguments)]
    #[inline]
    fn scan(
        &self,
        f: usize,
        n_non: usize,
        value: impl Fn(usize) -> f64,
        same: impl Fn(usize) -> bool,
        sample: impl Fn(usize) -> u32,
        missing: &[u32],
        sc: &mut Accs<C>,
    ) -> Outcome {
        let nm = missing.len();
        if n_non == 0 {
            return Outcome::Constant;
        }
        let (lo, hi) = (value(0), value(n_non - 1));
        if nm == 0 && hi <= lo + FEATURE_THRESHOLD {
            return Outcome::Constant;
        }
        sc.miss.clone_from(&sc.zero);
        for &s in missing {
            self.crit.add(&mut sc.miss, s);
        }
        // The best split so far: its score, its position (`n_non` for "every value left")
        // and where missing values go; its threshold is computed once, at the end.
        let mut best: Option<(f64, usize, bool)> = None;
        let passes = if nm > 0 { 2 } else { 1 };
        for pass in 0..passes {
            let mgl = pass == 1;
            let present = (0..n_non).map(&sample);
            let absent = missing.iter().copied();
            if mgl {
                self.crit.prepare(&mut sc.sweep, absent.chain(present));
            } else {
                self.crit.prepare(&mut sc.sweep, present.chain(absent));
            }
            sc.left.clone_from(if mgl { &sc.miss } else { &sc.zero });
            let mut next = 0;
            for p in 1..n_non {
                if same(p) {
                    continue;
                }
                let n_left = p + if mgl { nm } else { 0 };
                if self.samples.len() - n_left < self.min_samples_leaf {
                    break;
                }
                if n_left < self.min_samples_leaf {
                    continue;
                }
                for i in next..p {
                    self.crit.add(&mut sc.left, sample(i));
                }
                next = p;
                let n_right = self.samples.len() - n_left;
                let dir = if nm == 0 { n_left > n_right } else { mgl };
                let to_beat = best.map(|b| b.0);
                if let Some(proxy) =
                    self.consider(&sc.sweep, &sc.left, &mut sc.right, n_left, to_beat)
                {
                    best = Some((proxy, p, dir));
                }
            }
            if nm > 0 && !mgl {
                // Every present value left, every missing value right (the last split of the
                // first pass, as scikit-learn).
                let mut left = sc.zero.clone();
                C::subtract(self.total, &sc.miss, &mut left);
                let to_beat = best.map(|b| b.0);
                if let Some(proxy) = self.consider(&sc.sweep, &left, &mut sc.right, n_non, to_beat)
                {
                    best = Some((proxy, n_non, false));
                }
            }
        }
        Outcome::Varies(best.map(|(proxy, p, missing_go_left)| Split {
            feature: f,
            threshold: if p >= n_non {
                f64::INFINITY
            } else {
                midpoint(value(p - 1), value(p))
            },
            missing_go_left,
            proxy,
        }))
    }

    /// One random threshold of feature `f`, drawn uniformly in `[min, max)` of the node's
    /// values; missing values go to a random side.
    fn random_for_feature(&self, f: usize, sc: &mut Scratch<C>, rng: &mut impl Rng) -> Outcome {
        let col = self.x.col(f);
        let (mut lo, mut hi, mut nm) = (f64::INFINITY, f64::NEG_INFINITY, 0usize);
        for &s in self.samples {
            let v = col.get(s as usize).copied().unwrap_or(f64::NAN);
            if v.is_nan() {
                nm += 1;
            } else {
                lo = lo.min(v);
                hi = hi.max(v);
            }
        }
        if nm == self.samples.len() || (nm == 0 && hi <= lo + FEATURE_THRESHOLD) {
            return Outcome::Constant;
        }
        let (threshold, drawn_mgl) = if hi <= lo + FEATURE_THRESHOLD {
            (f64::INFINITY, false)
        } else {
            let mut t = rng.gen_range(lo..hi);
            if t >= hi {
                t = lo;
            }
            (t, nm > 0 && rng.gen_bool(0.5))
        };
        let probe = Split {
            feature: f,
            threshold,
            missing_go_left: drawn_mgl,
            proxy: 0.0,
        };
        sc.acc.left.clone_from(&sc.acc.zero);
        let mut n_left = 0;
        for &s in self.samples {
            let v = col.get(s as usize).copied().unwrap_or(f64::NAN);
            if probe.goes_left(v) {
                self.crit.add(&mut sc.acc.left, s);
                n_left += 1;
            }
        }
        let n_right = self.samples.len() - n_left;
        let dir = if nm == 0 { n_left > n_right } else { drawn_mgl };
        let side = |s: &u32, left: bool| {
            probe.goes_left(col.get(*s as usize).copied().unwrap_or(f64::NAN)) == left
        };
        let lefts = self.samples.iter().filter(|s| side(s, true));
        let rights = self.samples.iter().filter(|s| side(s, false));
        self.crit
            .prepare(&mut sc.acc.sweep, lefts.chain(rights).copied());
        let best = self
            .consider(&sc.acc.sweep, &sc.acc.left, &mut sc.acc.right, n_left, None)
            .map(|proxy| Split {
                feature: f,
                threshold,
                missing_go_left: dir,
                proxy,
            });
        Outcome::Varies(best)
    }
}

/// Nodes with fewer samples than this sort their keys by comparison, larger ones by radix.
const RADIX_MIN_SAMPLES: usize = 512;

/// Largest digit of the radix sort, in bits.
const RADIX_BITS: u32 = 11;

/// Sorts `keys` (`rank << 32 | sample`, in increasing sample order) into increasing order:
/// by comparison when they are few, else by a stable least-significant-digit radix sort of
/// the ranks (`rank_bits` bits of them), which keeps equal ranks in sample order and so gives
/// the same order. `buf` is scratch space.
fn sort_keys(keys: &mut Vec<u64>, buf: &mut Vec<u64>, rank_bits: u32) {
    if keys.len() < RADIX_MIN_SAMPLES || rank_bits == 0 || rank_bits > 32 {
        keys.sort_unstable();
        return;
    }
    let passes = rank_bits.div_ceil(RADIX_BITS);
    let width = rank_bits.div_ceil(passes);
    let mask = (1u64 << width) - 1;
    let mut counts = [0usize; 1 << RADIX_BITS];
    buf.clear();
    buf.resize(keys.len(), 0);
    for pass in 0..passes {
        let shift = 32 + pass * width;
        let hist = counts.get_mut(..1 << width).unwrap_or(&mut []);
        hist.fill(0);
        for &k in keys.iter() {
            if let Some(h) = hist.get_mut(((k >> shift) & mask) as usize) {
                *h += 1;
            }
        }
        let mut sum = 0;
        for h in hist.iter_mut() {
            let c = *h;
            *h = sum;
            sum += c;
        }
        for &k in keys.iter() {
            if let Some(h) = hist.get_mut(((k >> shift) & mask) as usize) {
                if let Some(slot) = buf.get_mut(*h) {
                    *slot = k;
                }
                *h += 1;
            }
        }
        std::mem::swap(keys, buf);
    }
}

/// Sorts `(value, sample)` pairs by value (no NaN among them).
fn sort_pairs(pairs: &mut [(f64, u32)]) {
    pairs.sort_unstable_by(|a, b| a.0.partial_cmp(&b.0).unwrap_or(Ordering::Equal));
}

/// What [`find_split`] has found so far in a node.
struct Taken<'a> {
    constant: &'a mut [bool],
    found: &'a mut bool,
    best: &'a mut Option<Split>,
}

impl Taken<'_> {
    /// Records the outcome `o` of feature `f`; when it is the best split so far and `keep` is
    /// given, keeps the feature's sorted keys there (they are the node's order by `f`).
    fn take<C: Criterion>(&mut self, f: usize, o: Outcome, keep: Option<&mut Scratch<C>>) {
        match o {
            Outcome::Constant => {
                if let Some(c) = self.constant.get_mut(f) {
                    *c = true;
                }
            }
            Outcome::Varies(s) => {
                *self.found = true;
                if let Some(s) = s {
                    if self.best.as_ref().is_none_or(|b| s.beats(b)) {
                        *self.best = Some(s);
                        if let Some(sc) = keep {
                            std::mem::swap(&mut sc.keys, &mut sc.kept_keys);
                            std::mem::swap(&mut sc.missing, &mut sc.kept_missing);
                            sc.kept = Some(f);
                        }
                    }
                }
            }
        }
    }
}

/// Finds the split of a node: draws candidate features (all of them in index order when
/// `max_features` covers every feature, else a random sample without replacement, going on
/// past `max_features` until one non-constant feature is found, as scikit-learn does) and
/// keeps the best split among them. Features found constant are marked in `constant` (they
/// stay constant in the node's descendants).
pub(crate) fn find_split<C: Criterion>(
    node: &NodeView<'_, C>,
    cfg: &TreeConfig,
    features: &mut [usize],
    constant: &mut [bool],
    rng: &mut impl Rng,
    sc: &mut Scratch<C>,
) -> Option<Split> {
    let n = features.len();
    let shuffle = cfg.max_features < n;
    let mut best: Option<Split> = None;
    let mut found = false;
    // Whether the sorted keys of the best feature are kept in `sc` (sequential rank scans).
    let mut keeps =
        cfg.splitter == SplitStrategy::Best && node.order.is_none() && node.ranks.is_some();
    sc.kept = None;
    let mut i = 0;
    while i < n && (i < cfg.max_features || !found) {
        let end = if i < cfg.max_features {
            cfg.max_features
        } else {
            i + 1
        }
        .min(n);
        if shuffle {
            for k in i..end {
                let j = rng.gen_range(k..n);
                features.swap(k, j);
            }
        }
        let batch = features.get(i..end).unwrap_or(&[]);
        let known = |constant: &[bool], f: usize| constant.get(f).copied().unwrap_or(true);
        let mut ctx = Taken {
            constant: &mut *constant,
            found: &mut found,
            best: &mut best,
        };
        match cfg.splitter {
            SplitStrategy::Best
                if node.samples.len() >= PARALLEL_MIN_SAMPLES && batch.len() > 1 =>
            {
                let outcomes: Vec<(usize, Outcome)> = batch
                    .par_iter()
                    .map_init(
                        || Scratch::new(node.crit),
                        |sc, &f| {
                            let o = if known(ctx.constant, f) {
                                Outcome::Constant
                            } else {
                                node.best_for_feature(f, sc)
                            };
                            (f, o)
                        },
                    )
                    .collect();
                keeps = false;
                sc.kept = None;
                for (f, o) in outcomes {
                    ctx.take::<C>(f, o, None);
                }
            }
            SplitStrategy::Best => {
                for &f in batch {
                    let o = if known(ctx.constant, f) {
                        Outcome::Constant
                    } else {
                        node.best_for_feature(f, sc)
                    };
                    ctx.take(f, o, keeps.then_some(&mut *sc));
                }
            }
            SplitStrategy::Random => {
                for &f in batch {
                    let o = if known(ctx.constant, f) {
                        Outcome::Constant
                    } else {
                        node.random_for_feature(f, sc, rng)
                    };
                    ctx.take::<C>(f, o, None);
                }
            }
        }
        i = end;
    }
    best
}

/// Moves the samples that go left under `split` to the front of `samples`, each side
/// keeping its order (so a node's samples stay in row order and reading their values walks
/// each column forwards); returns how many go left. `tmp` is scratch space.
pub(crate) fn partition(
    x: &Columns,
    samples: &mut [u32],
    split: &Split,
    tmp: &mut Vec<u32>,
) -> usize {
    let col = x.col(split.feature);
    stable_partition_by(samples, tmp, |s| {
        split.goes_left(col.get(s as usize).copied().unwrap_or(f64::NAN))
    })
}

/// [`partition`] from the node's order by the split's feature when `sc` kept it (the last
/// [`find_split`] scanned the node's ranks sequentially): the samples before the threshold's
/// position in that order are marked in `marks` (one per row), which is read instead of the
/// feature's values (a row-indexed mark is far likelier in cache than a value). `None` when
/// no order of the feature is kept.
pub(crate) fn partition_kept<C: Criterion>(
    ranks: &Ranks,
    samples: &mut [u32],
    split: &Split,
    sc: &Scratch<C>,
    marks: &mut [bool],
    tmp: &mut Vec<u32>,
) -> Option<usize> {
    if sc.kept != Some(split.feature) || sc.kept_keys.len() + sc.kept_missing.len() != samples.len()
    {
        return None;
    }
    let values = ranks.values(split.feature);
    let value = |k: u64| values.get((k >> 33) as usize).copied().unwrap_or(f64::NAN);
    // Present values are sorted, so those at most the threshold are a prefix.
    let p = sc
        .kept_keys
        .partition_point(|&k| value(k) <= split.threshold);
    for (i, &k) in sc.kept_keys.iter().enumerate() {
        if let Some(m) = marks.get_mut(k as u32 as usize) {
            *m = i < p;
        }
    }
    for &s in &sc.kept_missing {
        if let Some(m) = marks.get_mut(s as usize) {
            *m = split.missing_go_left;
        }
    }
    Some(stable_partition(samples, marks, tmp))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stable_partition_keeps_each_side_in_order() {
        let mut seg = [5u32, 2, 7, 0, 3, 6];
        let left = [true, false, false, true, false, true, false, true];
        let mut tmp = Vec::new();
        stable_partition(&mut seg, &left, &mut tmp);
        assert_eq!(seg, [5, 7, 0, 3, 2, 6]);
    }

    #[test]
    fn ranks_order_values_and_flag_near_ties() {
        use crate::data::DenseDataset;
        let x = ndarray::array![[3.0], [1.0], [f64::NAN], [1.0 + 5e-8], [2.0], [-0.0], [0.0]];
        let data = DenseDataset::regression(x, ndarray::array![0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
            .unwrap();
        let cols = Columns::from_dataset(&data, "test").unwrap();
        let r = Ranks::new(&cols);
        // distinct values -0/0, 1, 1 + 5e-8, 2, 3; 2 * index + (next within 1e-7)
        assert_eq!(r.col(0), &[8, 3, MISSING_RANK, 4, 6, 0, 0]);
        assert_eq!(r.values(0), &[0.0, 1.0, 1.0 + 5e-8, 2.0, 3.0]);
    }

    #[test]
    fn midpoints_follow_sklearn() {
        assert_eq!(midpoint(1.0, 2.0), 1.5);
        assert_eq!(midpoint(f64::MAX, f64::MAX), f64::MAX);
        // when the midpoint rounds to the upper value, the lower value is used
        let b = 1.0f64;
        let a = b - f64::EPSILON / 2.0;
        assert_eq!(midpoint(a, b), a);
    }

    proptest::proptest! {
        /// The radix sort of keys in sample order gives the order of a comparison sort, for
        /// any ranks (with repeats) and any rank width.
        #[test]
        fn radix_sorted_keys_match_a_comparison_sort(
            rows in proptest::collection::vec((0u32..1 << 20, 0u32..4), 0..3000),
            bits in 1u32..21,
        ) {
            let mut sample = 0u32;
            let keys: Vec<u64> = rows
                .iter()
                .map(|&(r, gap)| {
                    sample += gap + 1;
                    u64::from(r & ((1 << bits) - 1)) << 32 | u64::from(sample)
                })
                .collect();
            let mut want = keys.clone();
            want.sort_unstable();
            let (mut got, mut buf) = (keys, Vec::new());
            sort_keys(&mut got, &mut buf, bits);
            proptest::prop_assert_eq!(got, want);
        }

        /// Partitioning a node from the kept order of its best feature moves the same
        /// samples as partitioning by the feature's values (missing values, near-ties and
        /// repeated values included), for nodes small and large.
        #[test]
        fn partition_from_the_kept_order_matches_the_values(
            rows in proptest::collection::vec((0u8..40, 0u8..40, 0u8..3, 0u8..4), 2..1500),
            keep_every in 1usize..4,
            max_features in 1usize..3,
        ) {
            use crate::data::DenseDataset;
            use crate::models::tree::criterion::ClassCriterion;
            use crate::models::tree::params::ClassificationCriterion;
            let n = rows.len();
            let x = ndarray::Array2::from_shape_fn((n, 2), |(i, j)| {
                let (a, b, _, m) = rows[i];
                if j == 0 && m == 0 {
                    f64::NAN
                } else if j == 0 {
                    f64::from(a) + if a % 3 == 0 { 5e-8 } else { 0.0 }
                } else {
                    f64::from(b) * 0.25
                }
            });
            let yv: Vec<u32> = rows.iter().map(|r| u32::from(r.2)).collect();
            let y = ndarray::Array1::from_iter(yv.iter().map(|&c| f64::from(c)));
            let data = DenseDataset::regression(x, y).unwrap();
            let cols = Columns::from_dataset(&data, "test").unwrap();
            let ranks = Ranks::new(&cols);
            let w = vec![1.0; n];
            let crit = ClassCriterion::new(ClassificationCriterion::Gini, &yv, &w, 3);
            let mut samples: Vec<u32> = (0..n as u32).filter(|s| *s as usize % keep_every == 0).collect();
            let total = crit.node_acc(&samples);
            let cfg = TreeConfig {
                max_depth: usize::MAX,
                min_samples_split: 2,
                min_samples_leaf: 1,
                min_weight_fraction_leaf: 0.0,
                max_features,
                max_leaf_nodes: None,
                min_impurity_decrease: 0.0,
                splitter: SplitStrategy::Best,
            };
            let mut sc = Scratch::new(&crit);
            let mut rng = crate::common::rng::for_task(7, 0);
            let (mut features, mut constant) = (vec![0, 1], vec![false; 2]);
            let split = {
                let node = NodeView {
                    crit: &crit,
                    x: &cols,
                    samples: &samples,
                    total: &total,
                    min_samples_leaf: 1,
                    min_weight_leaf: 0.0,
                    order: None,
                    ranks: Some(&ranks),
                };
                find_split(&node, &cfg, &mut features, &mut constant, &mut rng, &mut sc)
            };
            let Some(split) = split else { return Ok(()) };
            proptest::prop_assert_eq!(sc.kept, Some(split.feature));
            let mut by_value = samples.clone();
            let mut tmp = Vec::new();
            let n_value = partition(&cols, &mut by_value, &split, &mut tmp);
            let mut marks = vec![false; n];
            let n_kept = partition_kept(&ranks, &mut samples, &split, &sc, &mut marks, &mut tmp);
            proptest::prop_assert_eq!(n_kept, Some(n_value));
            proptest::prop_assert_eq!(samples, by_value);
        }

        /// A tree's presorted orders filtered from the forest's row orders equal a fresh
        /// sort of its samples (missing values, repeated values and signed zeros included).
        #[test]
        fn filtered_row_orders_match_a_fresh_sort(
            rows in proptest::collection::vec((0u8..12, 0u8..6, 0u8..3), 1..400),
        ) {
            use crate::data::DenseDataset;
            let n = rows.len();
            let x = ndarray::Array2::from_shape_fn((n, 2), |(i, j)| {
                let (a, b, _) = rows[i];
                match (j, a) {
                    (0, 0) => f64::NAN,
                    (0, 1) => -0.0,
                    (0, 2) => 0.0,
                    (0, a) => f64::from(a) / 3.0,
                    _ => f64::from(b),
                }
            });
            let data = DenseDataset::regression(x, ndarray::Array1::zeros(n)).unwrap();
            let cols = Columns::from_dataset(&data, "test").unwrap();
            let shared = Ranks::ordered(&cols);
            let samples: Vec<u32> = (0..n as u32).filter(|&s| rows[s as usize].2 > 0).collect();
            let filtered = Presorted::new(&cols, &samples, Some(&shared));
            let sorted = Presorted::new(&cols, &samples, None);
            proptest::prop_assert_eq!(filtered.idx, sorted.idx);
        }
    }
}
