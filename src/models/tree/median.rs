//! Weighted medians and weighted absolute deviations of growing sets, for the
//! `absolute_error` criterion: a Fenwick tree over the target ranks of a node holds prefix
//! sums of `w` and `w·y`, so that inserting a sample and finding the weighted median of the
//! samples inserted so far each take `O(log n)` (scikit-learn 1.9's `WeightedFenwickTree` and
//! `precompute_absolute_errors`, reproduced operation for operation).
//!
//! The weighted median of a set is the smallest value whose cumulative weight (values in
//! increasing order) exceeds half the total weight; when the cumulative weight of some value
//! equals half the total exactly, it is the midpoint of that value and the next one. The
//! absolute error of the set is `Σ w_i |y_i - median|`.

/// Prefix sums of weights and of weighted targets over ranks `0..size` (1-based inside).
#[derive(Debug, Default, Clone)]
struct WeightedFenwick {
    size: usize,
    max_pow2: usize,
    w: Vec<f64>,
    wy: Vec<f64>,
    total_w: f64,
    total_wy: f64,
}

/// What a search for half the weight found.
struct Found {
    /// The smallest rank whose cumulative weight exceeds the target.
    idx: usize,
    /// The rank whose cumulative weight equals the target exactly, else `idx`.
    prev: usize,
    /// Weight and weighted target of the ranks before `idx`.
    cum_w: f64,
    cum_wy: f64,
}

impl WeightedFenwick {
    /// Empties the tree and sizes it for ranks `0..size`.
    fn reset(&mut self, size: usize) {
        self.size = size;
        self.w.clear();
        self.w.resize(size + 1, 0.0);
        self.wy.clear();
        self.wy.resize(size + 1, 0.0);
        self.total_w = 0.0;
        self.total_wy = 0.0;
        let mut p = 1;
        while p <= size {
            p <<= 1;
        }
        self.max_pow2 = p >> 1;
    }

    /// Inserts a sample of target `y` and weight `weight` at rank `idx`.
    #[inline]
    fn add(&mut self, idx: usize, y: f64, weight: f64) {
        let wy = weight * y;
        let mut i = idx + 1;
        while i <= self.size {
            if let (Some(a), Some(b)) = (self.w.get_mut(i), self.wy.get_mut(i)) {
                *a += weight;
                *b += wy;
            }
            i += i & i.wrapping_neg();
        }
        self.total_w += weight;
        self.total_wy += wy;
    }

    #[inline]
    fn node(&self, i: usize) -> (f64, f64) {
        (
            self.w.get(i).copied().unwrap_or(0.0),
            self.wy.get(i).copied().unwrap_or(0.0),
        )
    }

    /// The smallest rank whose cumulative weight exceeds `target` (and, on an exact match of
    /// `target` by a cumulative weight, the rank reaching it), with the sums before it.
    #[inline]
    fn search(&self, target: f64) -> Found {
        let (mut cur, mut cum_w, mut cum_wy) = (0usize, 0.0, 0.0);
        let mut t = target;
        let mut bit = self.max_pow2;
        let mut exact = None;
        while bit != 0 {
            let next = cur + bit;
            if next <= self.size {
                let (nw, nwy) = self.node(next);
                if t == nw {
                    exact = Some((t, bit));
                    break;
                } else if t > nw {
                    t -= nw;
                    cur = next;
                    cum_w += nw;
                    cum_wy += nwy;
                }
            }
            bit >>= 1;
        }
        let Some((eq_t, eq_bit)) = exact else {
            return Found {
                idx: cur,
                prev: cur,
                cum_w,
                cum_wy,
            };
        };
        // The largest prefix with cumulative weight below the target.
        let mut prev = cur;
        let (mut t, mut bit) = (eq_t, eq_bit);
        while bit != 0 {
            let next = prev + bit;
            if next <= self.size {
                let nw = self.node(next).0;
                if t > nw {
                    t -= nw;
                    prev = next;
                }
            }
            bit >>= 1;
        }
        // The largest prefix with cumulative weight at most the target.
        let (mut t, mut bit) = (eq_t, eq_bit);
        while bit != 0 {
            let next = cur + bit;
            if next <= self.size {
                let (nw, nwy) = self.node(next);
                if t >= nw {
                    t -= nw;
                    cur = next;
                    cum_w += nw;
                    cum_wy += nwy;
                }
            }
            bit >>= 1;
        }
        Found {
            idx: cur,
            prev,
            cum_w,
            cum_wy,
        }
    }
}

/// Weighted medians and absolute errors of every prefix and every suffix of a sequence of
/// samples, with reusable buffers.
#[derive(Debug, Default, Clone)]
pub(crate) struct AbsErrorSweep {
    /// The sequence: sample ids, targets, weights, ranks of the targets within it.
    samples: Vec<u32>,
    ys: Vec<f64>,
    ws: Vec<f64>,
    ranks: Vec<u32>,
    keys: Vec<u64>,
    sorted_y: Vec<f64>,
    fen: WeightedFenwick,
    /// `prefix[k]`: absolute error of the first `k` samples.
    prefix: Vec<f64>,
    /// `suffix[k]`: absolute error of the samples from position `k` on.
    suffix: Vec<f64>,
}

/// Which pass of a sweep: samples inserted first to last, or last to first.
#[derive(Clone, Copy, PartialEq)]
enum Pass {
    Forward,
    Backward,
}

impl AbsErrorSweep {
    /// Loads the samples of `order` (targets `y`, weights `w`, and `rank`: each sample's rank
    /// among all samples by target, so that sorting the sequence sorts ranks, not floats).
    fn load(&mut self, y: &[f64], w: &[f64], rank: &[u32], order: impl Iterator<Item = u32>) {
        self.samples.clear();
        self.samples.extend(order);
        let m = self.samples.len();
        self.ys.clear();
        self.ws.clear();
        self.keys.clear();
        for (pos, &s) in self.samples.iter().enumerate() {
            let s = s as usize;
            self.ys.push(y.get(s).copied().unwrap_or(0.0));
            self.ws.push(w.get(s).copied().unwrap_or(0.0));
            let r = rank.get(s).copied().unwrap_or(0);
            self.keys.push((u64::from(r) << 32) | pos as u64);
        }
        self.keys.sort_unstable();
        self.ranks.clear();
        self.ranks.resize(m, 0);
        self.sorted_y.clear();
        for (i, &k) in self.keys.iter().enumerate() {
            let pos = (k & 0xffff_ffff) as usize;
            if let Some(r) = self.ranks.get_mut(pos) {
                *r = i as u32;
            }
            self.sorted_y.push(self.ys.get(pos).copied().unwrap_or(0.0));
        }
    }

    /// Inserts the loaded samples one by one (in `pass` order) and calls `record(position,
    /// median, absolute error)` after each insertion.
    fn pass(&mut self, pass: Pass, mut record: impl FnMut(usize, f64, f64)) {
        let m = self.samples.len();
        self.fen.reset(m);
        for step in 0..m {
            let p = match pass {
                Pass::Forward => step,
                Pass::Backward => m - 1 - step,
            };
            let rank = self.ranks.get(p).copied().unwrap_or(0) as usize;
            let y = self.sorted_y.get(rank).copied().unwrap_or(0.0);
            self.fen
                .add(rank, y, self.ws.get(p).copied().unwrap_or(0.0));
            let half = 0.5 * self.fen.total_w;
            let f = self.fen.search(half);
            let at = |i: usize| self.sorted_y.get(i.min(m - 1)).copied().unwrap_or(f64::NAN);
            let median = if f.idx != f.prev {
                (at(f.prev) + at(f.idx)) / 2.0
            } else {
                at(f.idx)
            };
            let w_right = self.fen.total_w - f.cum_w;
            let wy_right = self.fen.total_wy - f.cum_wy;
            let ae = (wy_right - median * w_right) + (median * f.cum_w - f.cum_wy);
            record(p, median, ae);
        }
    }

    /// Computes the absolute error of every prefix and every suffix of `order`.
    pub fn prepare(
        &mut self,
        y: &[f64],
        w: &[f64],
        rank: &[u32],
        order: impl Iterator<Item = u32>,
    ) {
        self.load(y, w, rank, order);
        let m = self.samples.len();
        let mut prefix = std::mem::take(&mut self.prefix);
        let mut suffix = std::mem::take(&mut self.suffix);
        prefix.clear();
        prefix.resize(m + 1, 0.0);
        suffix.clear();
        suffix.resize(m + 1, 0.0);
        self.pass(Pass::Forward, |p, _, ae| {
            if let Some(slot) = prefix.get_mut(p + 1) {
                *slot = ae;
            }
        });
        self.pass(Pass::Backward, |p, _, ae| {
            if let Some(slot) = suffix.get_mut(p) {
                *slot = ae;
            }
        });
        self.prefix = prefix;
        self.suffix = suffix;
    }

    /// The absolute error of the first `k` samples of the prepared sequence and that of the
    /// rest.
    #[inline]
    pub fn errors_at(&self, k: usize) -> (f64, f64) {
        (
            self.prefix.get(k).copied().unwrap_or(f64::NAN),
            self.suffix.get(k).copied().unwrap_or(f64::NAN),
        )
    }

    /// The weighted median and absolute error of all the samples of `order` (inserted last to
    /// first, as scikit-learn computes a node's value); `(0, 0)` for no sample.
    pub fn median_and_error(
        &mut self,
        y: &[f64],
        w: &[f64],
        rank: &[u32],
        order: impl Iterator<Item = u32>,
    ) -> (f64, f64) {
        self.load(y, w, rank, order);
        let mut out = (0.0, 0.0);
        self.pass(Pass::Backward, |p, median, ae| {
            if p == 0 {
                out = (median, ae);
            }
        });
        out
    }
}

/// Each sample's rank by target (ties by sample index).
pub(crate) fn target_ranks(y: &[f64]) -> Vec<u32> {
    let mut idx: Vec<u32> = (0..y.len() as u32).collect();
    idx.sort_unstable_by(|&a, &b| {
        let (ya, yb) = (y[a as usize], y[b as usize]);
        ya.total_cmp(&yb).then(a.cmp(&b))
    });
    let mut rank = vec![0u32; y.len()];
    for (r, &i) in idx.iter().enumerate() {
        if let Some(slot) = rank.get_mut(i as usize) {
            *slot = r as u32;
        }
    }
    rank
}

#[cfg(test)]
mod tests {
    use super::*;

    fn median_and_error(y: &[f64], w: &[f64]) -> (f64, f64) {
        let rank = target_ranks(y);
        AbsErrorSweep::default().median_and_error(y, w, &rank, 0..y.len() as u32)
    }

    /// The definition, computed naively.
    fn naive(y: &[f64], w: &[f64]) -> (f64, f64) {
        let mut p: Vec<(f64, f64)> = y.iter().copied().zip(w.iter().copied()).collect();
        p.sort_by(|a, b| a.0.total_cmp(&b.0));
        let half = 0.5 * w.iter().sum::<f64>();
        let mut cum = 0.0;
        let mut median = f64::NAN;
        for (i, &(v, wi)) in p.iter().enumerate() {
            cum += wi;
            if cum == half {
                median = (v + p[i + 1].0) / 2.0;
                break;
            }
            if cum > half {
                median = v;
                break;
            }
        }
        let ae = p.iter().map(|(v, wi)| wi * (v - median).abs()).sum();
        (median, ae)
    }

    #[test]
    fn hand_checked_weighted_medians_and_errors() {
        // odd count: the middle value; |1-2| + 0 + |7-2| = 6
        assert_eq!(median_and_error(&[7.0, 1.0, 2.0], &[1.0; 3]), (2.0, 6.0));
        // even count: half the weight is reached exactly at 2, so the midpoint of 2 and 3
        assert_eq!(
            median_and_error(&[4.0, 3.0, 2.0, 1.0], &[1.0; 4]),
            (2.5, 1.5 + 0.5 + 0.5 + 1.5)
        );
        // weights: cumulative 3 of 4 at y=1 passes half (2): median 1, error 1·|2-1|
        assert_eq!(median_and_error(&[1.0, 2.0], &[3.0, 1.0]), (1.0, 1.0));
        // weights 1, 2, 1: cumulative 1, 3 -> median 2; error 1 + 0 + 1·2
        assert_eq!(
            median_and_error(&[1.0, 2.0, 4.0], &[1.0, 2.0, 1.0]),
            (2.0, 3.0)
        );
        // weights 1, 1, 2: cumulative 2 equals half of 4 at y=2 -> midpoint of 2 and 4
        assert_eq!(
            median_and_error(&[1.0, 2.0, 4.0], &[1.0, 1.0, 2.0]),
            (3.0, 2.0 + 1.0 + 2.0)
        );
        // ties in the targets
        assert_eq!(
            median_and_error(&[5.0, 5.0, 5.0, 1.0], &[1.0; 4]),
            (5.0, 4.0)
        );
        assert_eq!(median_and_error(&[3.5], &[2.0]), (3.5, 0.0));
    }

    proptest::proptest! {
        /// Any targets (with ties) and weights: the sweep's median and error of every prefix
        /// and suffix match the definition.
        #[test]
        fn sweep_matches_the_definition(
            rows in proptest::collection::vec((0u8..12, 1u8..5), 1..40),
        ) {
            let y: Vec<f64> = rows.iter().map(|r| f64::from(r.0) / 2.0).collect();
            let w: Vec<f64> = rows.iter().map(|r| f64::from(r.1) * 0.5).collect();
            let rank = target_ranks(&y);
            let mut sw = AbsErrorSweep::default();
            let n = y.len();
            sw.prepare(&y, &w, &rank, 0..n as u32);
            for k in 1..n {
                let (l, r) = sw.errors_at(k);
                proptest::prop_assert!((l - naive(&y[..k], &w[..k]).1).abs() < 1e-9);
                proptest::prop_assert!((r - naive(&y[k..], &w[k..]).1).abs() < 1e-9);
            }
            let (m, e) = sw.median_and_error(&y, &w, &rank, 0..n as u32);
            let (nm, ne) = naive(&y, &w);
            proptest::prop_assert_eq!(m, nm);
            proptest::prop_assert!((e - ne).abs() < 1e-9);
        }
    }

    #[test]
    fn prefixes_and_suffixes_match_the_definition() {
        let y = [3.0, -1.0, 4.0, 1.0, 5.0, 9.0, 2.0, 6.0, 5.0, 3.0, 5.0];
        let w = [1.0, 2.0, 0.5, 1.0, 3.0, 1.0, 1.0, 2.0, 0.25, 1.0, 1.5];
        let rank = target_ranks(&y);
        let mut sw = AbsErrorSweep::default();
        let order = [4u32, 0, 10, 2, 7, 1, 9, 3, 5, 8, 6];
        sw.prepare(&y, &w, &rank, order.iter().copied());
        for k in 0..=order.len() {
            let pick = |ids: &[u32]| -> (Vec<f64>, Vec<f64>) {
                (
                    ids.iter().map(|&s| y[s as usize]).collect(),
                    ids.iter().map(|&s| w[s as usize]).collect(),
                )
            };
            let (l, r) = sw.errors_at(k);
            if k > 0 {
                let (ly, lw) = pick(&order[..k]);
                assert!((l - naive(&ly, &lw).1).abs() < 1e-12, "prefix {k}");
            } else {
                assert_eq!(l, 0.0);
            }
            if k < order.len() {
                let (ry, rw) = pick(&order[k..]);
                assert!((r - naive(&ry, &rw).1).abs() < 1e-12, "suffix {k}");
            } else {
                assert_eq!(r, 0.0);
            }
        }
    }
}
