//! The best split of a node from its histograms, as scikit-learn's `Splitter` finds it.
//!
//! Gain of a split (no 1/2 factor, as scikit-learn and LightGBM):
//! `G_L²/(H_L+λ) + G_R²/(H_R+λ) − G²/(H+λ)`; a split is kept only with a positive gain and
//! both children holding at least `min_samples_leaf` rows and `min_sum_hessian` hessian.
//!
//! Numeric features scan the bins left to right with missing values going right, then (when
//! the feature had missing values in training) right to left with missing values going left.
//! A feature without missing values in training sends them to the child with more rows.
//! Categorical features sort their categories (with at least [`MIN_CAT_SUPPORT`] rows) by
//! `G / (H + MIN_CAT_SUPPORT)` and scan prefixes from both ends up to half of them; the left
//! child is the set of categories of the best prefix (LightGBM's and scikit-learn's method).

use super::binning::BinnedData;
use super::histogram::{HistBin, BLOCK};

/// Minimum rows of a category to take part in a categorical split, and its smoothing.
pub(crate) const MIN_CAT_SUPPORT: f64 = 10.0;

/// A set of bins (categories) as a 256-bit set.
pub(crate) type Bitset = [u64; 4];

/// Whether `bin` is in `set`.
#[inline]
pub(crate) fn bitset_contains(set: &Bitset, bin: usize) -> bool {
    set.get(bin / 64)
        .is_some_and(|w| (w >> (bin % 64)) & 1 == 1)
}

fn bitset_insert(set: &mut Bitset, bin: usize) {
    if let Some(w) = set.get_mut(bin / 64) {
        *w |= 1 << (bin % 64);
    }
}

/// The constraints and regularisation of split finding.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SplitConfig {
    /// L2 regularisation λ.
    pub l2: f64,
    /// Minimum rows per child.
    pub min_samples_leaf: u64,
    /// Minimum hessian per child.
    pub min_sum_hessian: f64,
    /// The constant hessian per row, when hessians are constant.
    pub const_hess: Option<f64>,
}

impl SplitConfig {
    /// The hessian sum of a bin or node.
    #[inline]
    pub fn hess(&self, b: &HistBin) -> f64 {
        match self.const_hess {
            Some(k) => k * b.c as f64,
            None => b.h,
        }
    }

    /// `G²/(H+λ)`, the negated loss of a node at its optimal value.
    #[inline]
    fn score(&self, g: f64, h: f64) -> f64 {
        g * g / (h + self.l2)
    }
}

/// A chosen split.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SplitInfo {
    /// The gain.
    pub gain: f64,
    /// The feature.
    pub feature: usize,
    /// Numeric: rows with bin `<= bin` go left.
    pub bin: usize,
    /// Where missing values go.
    pub missing_left: bool,
    /// Categorical: the categories (bins) that go left.
    pub categories: Option<Bitset>,
    /// Sums of the left child (hessian filled in).
    pub left: HistBin,
    /// Sums of the right child (hessian filled in).
    pub right: HistBin,
}

impl SplitInfo {
    /// Whether a row in bin `bin` of the split feature goes left.
    #[inline]
    pub fn goes_left(&self, bin: u8, missing_bin: usize) -> bool {
        let b = bin as usize;
        if b == missing_bin {
            return self.missing_left;
        }
        match &self.categories {
            Some(set) => bitset_contains(set, b),
            None => b <= self.bin,
        }
    }
}

struct Best<'a> {
    cfg: &'a SplitConfig,
    total: HistBin,
    parent_score: f64,
    best: Option<SplitInfo>,
}

impl Best<'_> {
    /// Considers the split whose left child has sums `left`; `make` builds its description.
    #[inline]
    fn consider(
        &mut self,
        left: HistBin,
        feature: usize,
        bin: usize,
        missing_left: bool,
        cats: Option<Bitset>,
    ) -> Flow {
        let cfg = self.cfg;
        let right = HistBin {
            g: self.total.g - left.g,
            h: self.total.h - left.h,
            c: self.total.c - left.c,
        };
        if left.c < cfg.min_samples_leaf {
            return Flow::Continue;
        }
        if right.c < cfg.min_samples_leaf {
            return Flow::Break;
        }
        if left.h < cfg.min_sum_hessian {
            return Flow::Continue;
        }
        if right.h < cfg.min_sum_hessian {
            return Flow::Break;
        }
        let gain = cfg.score(left.g, left.h) + cfg.score(right.g, right.h) - self.parent_score;
        let better = match &self.best {
            None => gain > 0.0,
            Some(b) => gain > b.gain,
        };
        if better {
            self.best = Some(SplitInfo {
                gain,
                feature,
                bin,
                missing_left,
                categories: cats,
                left,
                right,
            });
        }
        Flow::Continue
    }
}

enum Flow {
    Continue,
    Break,
}

/// The best split of a node whose histograms are `hist` and sums `total` (hessian filled in)
/// over the features `features`; `has_missing[f]` says whether feature `f` had missing values
/// in training. `None` when no split has a positive gain within the constraints.
pub(crate) fn find_best_split(
    hist: &[HistBin],
    data: &BinnedData,
    has_missing: &[bool],
    total: HistBin,
    features: &[usize],
    cfg: &SplitConfig,
) -> Option<SplitInfo> {
    use rayon::prelude::*;
    let one = |f: usize| feature_best_split(hist, data, has_missing, total, f, cfg);
    // Per-feature bests, reduced in feature order: the first feature wins ties, whatever the
    // thread count.
    let bests: Vec<Option<SplitInfo>> = if features.len() >= 16 {
        features.par_iter().map(|&f| one(f)).collect()
    } else {
        features.iter().map(|&f| one(f)).collect()
    };
    let mut best: Option<SplitInfo> = None;
    for s in bests.into_iter().flatten() {
        if best.as_ref().is_none_or(|b| s.gain > b.gain) {
            best = Some(s);
        }
    }
    best
}

/// The best split on feature `f` alone.
fn feature_best_split(
    hist: &[HistBin],
    data: &BinnedData,
    has_missing: &[bool],
    total: HistBin,
    f: usize,
    cfg: &SplitConfig,
) -> Option<SplitInfo> {
    let mut best = Best {
        cfg,
        total,
        parent_score: cfg.score(total.g, total.h),
        best: None,
    };
    {
        let (Some(fb), Some(block)) = (data.features.get(f), hist.get(f * BLOCK..(f + 1) * BLOCK))
        else {
            return None;
        };
        let nb = fb.n_bins_non_missing;
        let with_h = |b: &HistBin| HistBin {
            g: b.g,
            h: cfg.hess(b),
            c: b.c,
        };
        let feature_has_missing = has_missing.get(f).copied().unwrap_or(false);
        if fb.categorical {
            categorical_scan(&mut best, block, nb, feature_has_missing, f, &with_h);
            return best.best;
        }
        // Left to right, missing values right.
        let end = if feature_has_missing { nb } else { nb - 1 };
        let mut left = HistBin::default();
        for (b, bin) in block.iter().enumerate().take(end) {
            let bin = with_h(bin);
            left.g += bin.g;
            left.h += bin.h;
            left.c += bin.c;
            let missing_left = !feature_has_missing && left.c > total.c - left.c;
            if let Flow::Break = best.consider(left, f, b, missing_left, None) {
                break;
            }
        }
        if !feature_has_missing || nb < 2 {
            return best.best;
        }
        // Right to left, missing values left.
        let mut right = HistBin::default();
        for b in (0..nb - 1).rev() {
            let bin = with_h(&block[b + 1]);
            right.g += bin.g;
            right.h += bin.h;
            right.c += bin.c;
            let left = HistBin {
                g: total.g - right.g,
                h: total.h - right.h,
                c: total.c - right.c,
            };
            if left.c < cfg.min_samples_leaf {
                break;
            }
            if let Flow::Break = best.consider(left, f, b, true, None) {
                // `consider` breaks on a too small right side, which only grows here.
                continue;
            }
        }
    }
    best.best
}

/// Category-subset splits of one categorical feature.
fn categorical_scan(
    best: &mut Best<'_>,
    block: &[HistBin],
    nb: usize,
    has_missing: bool,
    f: usize,
    with_h: &dyn Fn(&HistBin) -> HistBin,
) {
    let last = if has_missing { nb + 1 } else { nb };
    let mut cats: Vec<(f64, usize, HistBin)> = (0..last.min(BLOCK))
        .filter_map(|b| {
            let s = with_h(&block[b]);
            (s.c as f64 >= MIN_CAT_SUPPORT).then(|| (s.g / (s.h + MIN_CAT_SUPPORT), b, s))
        })
        .collect();
    cats.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    let n_used = cats.len();
    let middle = n_used.div_ceil(2);
    for reverse in [false, true] {
        let mut left = HistBin::default();
        let mut set: Bitset = [0; 4];
        for i in 0..middle {
            let idx = if reverse { n_used - 1 - i } else { i };
            let (_, b, s) = cats[idx];
            left.g += s.g;
            left.h += s.h;
            left.c += s.c;
            bitset_insert(&mut set, b);
            let missing_left = has_missing && bitset_contains(&set, nb);
            let mut cat_set = set;
            // The missing bin is routed by `missing_left`, not by the set.
            if nb < BLOCK {
                if let Some(w) = cat_set.get_mut(nb / 64) {
                    *w &= !(1u64 << (nb % 64));
                }
            }
            if let Flow::Break = best.consider(left, f, 0, missing_left, Some(cat_set)) {
                break;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::binning::FeatureBins;
    use super::*;

    fn setup(bins: &[(f64, u64)], categorical: bool) -> (Vec<HistBin>, BinnedData, HistBin) {
        let mut hist = vec![HistBin::default(); BLOCK];
        let mut total = HistBin::default();
        for (i, &(g, c)) in bins.iter().enumerate() {
            hist[i] = HistBin { g, h: 0.0, c };
            total.g += g;
            total.c += c;
        }
        total.h = total.c as f64;
        let data = BinnedData {
            codes: vec![],
            n_rows: 0,
            features: vec![FeatureBins {
                thresholds: vec![0.0; bins.len().saturating_sub(2)],
                n_bins_non_missing: bins.len() - 1,
                categorical,
            }],
        };
        (hist, data, total)
    }

    fn cfg(msl: u64) -> SplitConfig {
        SplitConfig {
            l2: 0.0,
            min_samples_leaf: msl,
            min_sum_hessian: 0.0,
            const_hess: Some(1.0),
        }
    }

    #[test]
    fn numeric_split_at_the_sign_change_with_hand_gain() {
        // bins 0..2 have negative gradients, bins 3..4 positive; missing bin empty.
        let (hist, data, total) = setup(
            &[
                (-3.0, 3),
                (-2.0, 2),
                (-1.0, 1),
                (2.0, 2),
                (4.0, 2),
                (0.0, 0),
            ],
            false,
        );
        let s = find_best_split(&hist, &data, &[false], total, &[0], &cfg(1)).unwrap();
        assert_eq!(s.bin, 2);
        assert_eq!(s.left.c, 6);
        // 36/6 + 36/4 - 0/10 = 15
        assert!((s.gain - 15.0).abs() < 1e-12);
        assert!(s.missing_left); // more rows on the left, no missing seen in training
                                 // min_samples_leaf forbids the best split.
        let s = find_best_split(&hist, &data, &[false], total, &[0], &cfg(5)).unwrap();
        assert!(s.left.c >= 5 && s.right.c >= 5);
        assert!(find_best_split(&hist, &data, &[false], total, &[0], &cfg(6)).is_none());
    }

    #[test]
    fn missing_values_go_where_they_help() {
        // Missing rows have strongly positive gradients like bin 2.
        let (hist, data, total) = setup(&[(-5.0, 5), (-4.0, 4), (6.0, 3), (8.0, 4)], false);
        let s = find_best_split(&hist, &data, &[true], total, &[0], &cfg(1)).unwrap();
        assert_eq!(s.bin, 1);
        assert!(!s.missing_left);
        // Missing rows with negative gradients go left with bins 0..1.
        let (hist, data, total) = setup(&[(-5.0, 5), (-4.0, 4), (6.0, 3), (-8.0, 4)], false);
        let s = find_best_split(&hist, &data, &[true], total, &[0], &cfg(1)).unwrap();
        assert_eq!(s.bin, 1);
        assert!(s.missing_left);
        assert_eq!(s.left.c, 13);
    }

    #[test]
    fn categorical_split_groups_categories_by_gradient() {
        // Categories 0 and 2 negative, 1 and 3 positive; each with enough support.
        let (hist, data, total) = setup(
            &[(-20.0, 10), (30.0, 10), (-25.0, 10), (15.0, 10), (0.0, 0)],
            true,
        );
        let s = find_best_split(&hist, &data, &[false], total, &[0], &cfg(1)).unwrap();
        let set = s.categories.unwrap();
        let left: Vec<bool> = (0..4).map(|b| bitset_contains(&set, b)).collect();
        assert!(left == vec![true, false, true, false] || left == vec![false, true, false, true]);
        assert_eq!(s.left.c, 20);
    }
}
