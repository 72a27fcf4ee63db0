//! Split criteria: impurity of a node, the score a split is chosen by, and leaf values, with
//! scikit-learn's formulas (entropy in bits).

use super::median::{target_ranks, AbsErrorSweep};
use super::params::ClassificationCriterion;

/// A split criterion over the samples of one tree (targets and per-sample weights).
///
/// An accumulator (`Acc`) holds the sufficient statistics of a set of samples; the splitter
/// adds samples to a left accumulator and gets the right one by subtraction.
///
/// A criterion whose impurity is not a function of additive statistics (`absolute_error`)
/// keeps only weights and counts in the accumulators the splitter scans with, and scores the
/// splits of a node from a *sweep*: before scanning, the splitter calls [`Criterion::prepare`]
/// with the node's samples in the order they move to the left, and the criterion precomputes
/// the impurity of every prefix and suffix of that order; [`Criterion::proxy`] then reads the
/// sweep at the left accumulator's count. Node and child statistics come from
/// [`Criterion::node_acc`] and [`Criterion::children_acc`], which see the samples themselves.
/// Additive criteria use `()` as sweep and the default methods.
pub(crate) trait Criterion: Sync {
    /// Sufficient statistics of a set of samples.
    type Acc: Clone + Send + Sync;

    /// Working memory of a split scan (`()` for additive criteria).
    type Sweep: Default + Send;

    /// Prepares `sweep` for scoring the splits of a node whose samples move to the left in
    /// the order `order` (every left set is a prefix of it). Additive criteria do nothing.
    #[inline]
    fn prepare(&self, _sweep: &mut Self::Sweep, _order: impl Iterator<Item = u32>) {}

    /// The statistics of the samples `samples` (of a node).
    fn node_acc(&self, samples: &[u32]) -> Self::Acc {
        let mut acc = self.empty();
        for &s in samples {
            self.add(&mut acc, s);
        }
        acc
    }

    /// Whether the right-hand statistics of [`Criterion::children_acc`] are exactly those
    /// [`Criterion::node_acc`] computes from the right child's samples (the left-hand ones
    /// must always be), so that the children reuse them.
    const EXACT_RIGHT: bool = false;

    /// The statistics of the children of `node` holding the samples `left` and `right`: the
    /// left-hand ones as [`Criterion::node_acc`] computes them (the right-hand ones may come
    /// from a subtraction, see [`Criterion::EXACT_RIGHT`]).
    fn children_acc(
        &self,
        node: &Self::Acc,
        left: &[u32],
        _right: &[u32],
    ) -> (Self::Acc, Self::Acc) {
        let l = self.node_acc(left);
        let mut r = self.empty();
        Self::subtract(node, &l, &mut r);
        (l, r)
    }

    /// The statistics of no sample.
    fn empty(&self) -> Self::Acc;

    /// Adds sample `s`.
    fn add(&self, acc: &mut Self::Acc, s: u32);

    /// The weight of the samples in `acc`.
    fn weight(acc: &Self::Acc) -> f64;

    /// `out = total - part`.
    fn subtract(total: &Self::Acc, part: &Self::Acc, out: &mut Self::Acc);

    /// The impurity of the samples in `acc`.
    fn impurity(&self, acc: &Self::Acc) -> f64;

    /// The score a split is chosen by (larger is better); differs from the impurity
    /// improvement by terms constant within a node. `sweep` is the one prepared for the scan
    /// the accumulators come from.
    fn proxy(&self, _sweep: &Self::Sweep, left: &Self::Acc, right: &Self::Acc) -> f64 {
        -Self::weight(right) * self.impurity(right) - Self::weight(left) * self.impurity(left)
    }

    /// The weighted impurity decrease of splitting `node` into `left` and `right`, relative to
    /// the total weight `w_total` of the tree's samples (compared with `min_impurity_decrease`
    /// and used to rank best-first growth).
    fn improvement(
        &self,
        node: &Self::Acc,
        left: &Self::Acc,
        right: &Self::Acc,
        w_total: f64,
    ) -> f64 {
        let (wn, wl, wr) = (Self::weight(node), Self::weight(left), Self::weight(right));
        (wn / w_total)
            * (self.impurity(node) - wr / wn * self.impurity(right) - wl / wn * self.impurity(left))
    }

    /// Values per leaf (class fractions, or one mean).
    fn n_outputs(&self) -> usize;

    /// Writes the leaf value of the samples in `acc` into `out` (`n_outputs` values).
    fn leaf_value(&self, acc: &Self::Acc, out: &mut [f64]);
}

/// Class counts (weighted) and their total.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ClassAcc {
    w: f64,
    counts: Vec<f64>,
}

/// Gini or entropy over class labels.
pub(crate) struct ClassCriterion<'a> {
    y: &'a [u32],
    w: &'a [f64],
    n_classes: usize,
    entropy: bool,
}

impl<'a> ClassCriterion<'a> {
    /// The criterion for class indices `y` (each `< n_classes`) and weights `w`.
    pub fn new(
        kind: ClassificationCriterion,
        y: &'a [u32],
        w: &'a [f64],
        n_classes: usize,
    ) -> Self {
        Self {
            y,
            w,
            n_classes,
            entropy: !matches!(kind, ClassificationCriterion::Gini),
        }
    }
}

impl Criterion for ClassCriterion<'_> {
    type Acc = ClassAcc;
    type Sweep = ();

    fn empty(&self) -> ClassAcc {
        ClassAcc {
            w: 0.0,
            counts: vec![0.0; self.n_classes],
        }
    }

    #[inline]
    fn add(&self, acc: &mut ClassAcc, s: u32) {
        let s = s as usize;
        let (Some(&c), Some(&w)) = (self.y.get(s), self.w.get(s)) else {
            return;
        };
        if let Some(slot) = acc.counts.get_mut(c as usize) {
            *slot += w;
        }
        acc.w += w;
    }

    #[inline]
    fn weight(acc: &ClassAcc) -> f64 {
        acc.w
    }

    #[inline]
    fn subtract(total: &ClassAcc, part: &ClassAcc, out: &mut ClassAcc) {
        out.w = total.w - part.w;
        for ((o, t), p) in out.counts.iter_mut().zip(&total.counts).zip(&part.counts) {
            *o = t - p;
        }
    }

    #[inline]
    fn impurity(&self, acc: &ClassAcc) -> f64 {
        if self.entropy {
            let mut e = 0.0;
            for &c in &acc.counts {
                if c > 0.0 {
                    let p = c / acc.w;
                    e -= p * p.log2();
                }
            }
            e
        } else {
            let sq: f64 = acc.counts.iter().map(|c| c * c).sum();
            1.0 - sq / (acc.w * acc.w)
        }
    }

    /// The default score, inlined into the scan.
    #[inline]
    fn proxy(&self, _: &(), left: &ClassAcc, right: &ClassAcc) -> f64 {
        -right.w * self.impurity(right) - left.w * self.impurity(left)
    }

    fn n_outputs(&self) -> usize {
        self.n_classes
    }

    fn leaf_value(&self, acc: &ClassAcc, out: &mut [f64]) {
        for (o, c) in out.iter_mut().zip(&acc.counts) {
            *o = if acc.w > 0.0 { c / acc.w } else { 0.0 };
        }
    }
}

/// Weighted sums of a real target: weight, sum, sum of squares.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct RegAcc {
    w: f64,
    sum: f64,
    sq: f64,
}

/// Squared error over a real target (`friedman_mse` is the same criterion, as in
/// scikit-learn 1.9, which maps it to `squared_error`).
pub(crate) struct RegCriterion<'a> {
    y: &'a [f64],
    w: &'a [f64],
}

impl<'a> RegCriterion<'a> {
    /// The criterion for targets `y` and weights `w`.
    pub fn new(y: &'a [f64], w: &'a [f64]) -> Self {
        Self { y, w }
    }
}

impl Criterion for RegCriterion<'_> {
    type Acc = RegAcc;
    type Sweep = ();

    fn empty(&self) -> RegAcc {
        RegAcc {
            w: 0.0,
            sum: 0.0,
            sq: 0.0,
        }
    }

    #[inline]
    fn add(&self, acc: &mut RegAcc, s: u32) {
        let s = s as usize;
        let (Some(&y), Some(&w)) = (self.y.get(s), self.w.get(s)) else {
            return;
        };
        let wy = w * y;
        acc.w += w;
        acc.sum += wy;
        acc.sq += wy * y;
    }

    #[inline]
    fn weight(acc: &RegAcc) -> f64 {
        acc.w
    }

    #[inline]
    fn subtract(total: &RegAcc, part: &RegAcc, out: &mut RegAcc) {
        out.w = total.w - part.w;
        out.sum = total.sum - part.sum;
        out.sq = total.sq - part.sq;
    }

    #[inline]
    fn impurity(&self, acc: &RegAcc) -> f64 {
        let mean = acc.sum / acc.w;
        acc.sq / acc.w - mean * mean
    }

    #[inline]
    fn proxy(&self, _: &(), l: &RegAcc, r: &RegAcc) -> f64 {
        l.sum * l.sum / l.w + r.sum * r.sum / r.w
    }

    fn n_outputs(&self) -> usize {
        1
    }

    fn leaf_value(&self, acc: &RegAcc, out: &mut [f64]) {
        if let Some(o) = out.first_mut() {
            *o = if acc.w > 0.0 { acc.sum / acc.w } else { 0.0 };
        }
    }
}

/// Statistics of a set of samples under `absolute_error`: weight and count (all the split
/// scan needs), and, when computed from the samples themselves ([`Criterion::node_acc`]),
/// their weighted median and absolute error (`NaN` in scan accumulators).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct AbsErrorAcc {
    w: f64,
    n: usize,
    median: f64,
    error: f64,
}

/// Mean absolute error from the weighted median over a real target, as scikit-learn's `MAE`:
/// impurity `Σ w_i |y_i - median| / Σ w_i`, leaves predict the weighted median, and splits are
/// scored by `-(error_left + error_right)` from an [`AbsErrorSweep`] (`O(n log n)` per feature
/// and node).
pub(crate) struct AbsErrorCriterion<'a> {
    y: &'a [f64],
    w: &'a [f64],
    rank: Vec<u32>,
}

impl<'a> AbsErrorCriterion<'a> {
    /// The criterion for targets `y` and weights `w` (ranks the targets once).
    pub fn new(y: &'a [f64], w: &'a [f64]) -> Self {
        Self {
            y,
            w,
            rank: target_ranks(y),
        }
    }
}

impl Criterion for AbsErrorCriterion<'_> {
    type Acc = AbsErrorAcc;
    type Sweep = AbsErrorSweep;
    const EXACT_RIGHT: bool = true;

    fn prepare(&self, sweep: &mut AbsErrorSweep, order: impl Iterator<Item = u32>) {
        sweep.prepare(self.y, self.w, &self.rank, order);
    }

    fn node_acc(&self, samples: &[u32]) -> AbsErrorAcc {
        let w: f64 = samples
            .iter()
            .map(|&s| self.w.get(s as usize).copied().unwrap_or(0.0))
            .sum();
        let (median, error) = AbsErrorSweep::default().median_and_error(
            self.y,
            self.w,
            &self.rank,
            samples.iter().copied(),
        );
        AbsErrorAcc {
            w,
            n: samples.len(),
            median,
            error,
        }
    }

    fn children_acc(
        &self,
        _node: &AbsErrorAcc,
        left: &[u32],
        right: &[u32],
    ) -> (AbsErrorAcc, AbsErrorAcc) {
        (self.node_acc(left), self.node_acc(right))
    }

    fn empty(&self) -> AbsErrorAcc {
        AbsErrorAcc {
            w: 0.0,
            n: 0,
            median: 0.0,
            error: 0.0,
        }
    }

    #[inline]
    fn add(&self, acc: &mut AbsErrorAcc, s: u32) {
        if let Some(&w) = self.w.get(s as usize) {
            acc.w += w;
            acc.n += 1;
            acc.median = f64::NAN;
            acc.error = f64::NAN;
        }
    }

    #[inline]
    fn weight(acc: &AbsErrorAcc) -> f64 {
        acc.w
    }

    #[inline]
    fn subtract(total: &AbsErrorAcc, part: &AbsErrorAcc, out: &mut AbsErrorAcc) {
        out.w = total.w - part.w;
        out.n = total.n.saturating_sub(part.n);
        out.median = f64::NAN;
        out.error = f64::NAN;
    }

    #[inline]
    fn impurity(&self, acc: &AbsErrorAcc) -> f64 {
        acc.error / acc.w
    }

    /// `-(w_r · impurity_r) - (w_l · impurity_l)`, computed as scikit-learn does.
    #[inline]
    fn proxy(&self, sweep: &AbsErrorSweep, l: &AbsErrorAcc, r: &AbsErrorAcc) -> f64 {
        let (el, er) = sweep.errors_at(l.n);
        -r.w * (er / r.w) - l.w * (el / l.w)
    }

    fn n_outputs(&self) -> usize {
        1
    }

    fn leaf_value(&self, acc: &AbsErrorAcc, out: &mut [f64]) {
        if let Some(o) = out.first_mut() {
            *o = acc.median;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gini_and_entropy_of_a_hand_checked_node() {
        let y = [0, 0, 1, 1, 1, 2];
        let w = [1.0; 6];
        let g = ClassCriterion::new(ClassificationCriterion::Gini, &y, &w, 3);
        let mut acc = g.empty();
        for s in 0..6 {
            g.add(&mut acc, s);
        }
        // 1 - (4 + 9 + 1) / 36
        assert!((g.impurity(&acc) - (1.0 - 14.0 / 36.0)).abs() < 1e-15);
        let e = ClassCriterion::new(ClassificationCriterion::Entropy, &y, &w, 3);
        let h = -(2.0 / 6.0 * (2.0f64 / 6.0).log2()
            + 3.0 / 6.0 * (0.5f64).log2()
            + 1.0 / 6.0 * (1.0f64 / 6.0).log2());
        assert!((e.impurity(&acc) - h).abs() < 1e-15);
    }

    #[test]
    fn squared_error_is_the_weighted_variance() {
        let y = [1.0, 2.0, 4.0];
        let w = [1.0, 2.0, 1.0];
        let c = RegCriterion::new(&y, &w);
        let mut acc = c.empty();
        for s in 0..3 {
            c.add(&mut acc, s);
        }
        let mean = (1.0 + 4.0 + 4.0) / 4.0;
        let var = (1.0 * (1.0 - mean) * (1.0 - mean)
            + 2.0 * (2.0 - mean) * (2.0 - mean)
            + (4.0 - mean) * (4.0 - mean))
            / 4.0;
        assert!((c.impurity(&acc) - var).abs() < 1e-12);
        let mut v = [0.0];
        c.leaf_value(&acc, &mut v);
        assert_eq!(v[0], mean);
    }

    #[test]
    fn absolute_error_is_the_mean_deviation_from_the_weighted_median() {
        let y = [1.0, 2.0, 4.0, 10.0];
        let w = [1.0, 2.0, 1.0, 1.0];
        let c = AbsErrorCriterion::new(&y, &w);
        let acc = c.node_acc(&[3, 0, 2, 1]);
        // cumulative weights 1, 3 pass half of 5 at y=2: median 2
        let mut v = [0.0];
        c.leaf_value(&acc, &mut v);
        assert_eq!(v[0], 2.0);
        // (1·1 + 0 + 1·2 + 1·8) / 5
        assert!((c.impurity(&acc) - 11.0 / 5.0).abs() < 1e-15);
        // splits of the order [0, 1, 2, 3] scored from the sweep
        let mut sweep = AbsErrorSweep::default();
        c.prepare(&mut sweep, 0..4u32);
        let mut left = c.empty();
        c.add(&mut left, 0);
        c.add(&mut left, 1);
        let mut right = c.empty();
        AbsErrorCriterion::subtract(&acc, &left, &mut right);
        // left {1 (w1), 2 (w2)}: median 2, error 1; right {4, 10}: median 7, error 6
        assert!((c.proxy(&sweep, &left, &right) + 7.0).abs() < 1e-12);
        let (l, r) = c.children_acc(&acc, &[0, 1], &[2, 3]);
        assert_eq!((l.median, r.median), (2.0, 7.0));
        assert!((c.improvement(&acc, &l, &r, 5.0) - (11.0 - 7.0) / 5.0).abs() < 1e-12);
    }
}
