//! Small statistics shared by every pillar, the one home of order statistics: numpy's
//! linear-interpolation percentile / quantile (by sort or by selection) and median, and
//! scikit-learn's weighted percentile and averaged weighted median; `moments` holds the
//! NaN-ignoring per-column moments the scalers and the imputer use.
//!
//! ```
//! use amlis::common::stats::{percentile_linear, weighted_percentile};
//! assert_eq!(percentile_linear(&[4.0, 1.0, 3.0, 2.0], 50.0), Some(2.5));
//! assert_eq!(weighted_percentile(&[1.0, 2.0, 3.0, 4.0], &[1.0; 4], 50.0), Some(2.0));
//! ```

pub(crate) mod moments;

/// The `q`-th percentile (`0..=100`) of the non-NaN values, with numpy's default `linear`
/// method; `None` when there is no non-NaN value.
pub fn percentile_linear(values: &[f64], q: f64) -> Option<f64> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| !x.is_nan()).collect();
    v.sort_unstable_by(f64::total_cmp);
    percentile_linear_sorted(&v, q)
}

/// Like [`percentile_linear`] on values already sorted ascending, without NaN.
pub fn percentile_linear_sorted(sorted: &[f64], q: f64) -> Option<f64> {
    quantile_linear_sorted(sorted, q.clamp(0.0, 100.0) / 100.0)
}

/// The `frac` quantile (`0..=1`) of values already sorted ascending, without NaN, with
/// numpy's `linear` method; `None` when `sorted` is empty.
pub fn quantile_linear_sorted(sorted: &[f64], frac: f64) -> Option<f64> {
    let n = sorted.len();
    if n == 0 {
        return None;
    }
    let (lo, t) = linear_position(n, frac);
    let a = *sorted.get(lo)?;
    let b = *sorted.get((lo + 1).min(n - 1))?;
    Some(lerp(a, b, t))
}

/// Like [`percentile_linear`] on non-NaN values, by selection instead of a full sort:
/// `buf` is partially reordered. `None` when `buf` is empty.
pub fn percentile_linear_select(buf: &mut [f64], q: f64) -> Option<f64> {
    if buf.is_empty() {
        return None;
    }
    let (lo, t) = linear_position(buf.len(), q.clamp(0.0, 100.0) / 100.0);
    order_pair(buf, lo).map(|(a, b)| lerp(a, b, t))
}

/// numpy's virtual index of quantile `frac` among `n >= 1` sorted values: the lower index
/// and the interpolation weight of the next value.
fn linear_position(n: usize, frac: f64) -> (usize, f64) {
    let pos = frac.clamp(0.0, 1.0) * (n - 1) as f64;
    let lo = pos.floor();
    (lo as usize, pos - lo)
}

/// numpy's `_lerp`: `a + (b - a) t`, computed from `b` when `t >= 0.5`, so the result stays
/// within `[a, b]`.
pub fn lerp(a: f64, b: f64, t: f64) -> f64 {
    let diff = b - a;
    if t >= 0.5 {
        b - diff * (1.0 - t)
    } else {
        a + diff * t
    }
}

/// The `k`-th smallest value and the next one (`k + 1`-th, or the same when `k` is last),
/// partially reordering `buf`. `None` when `buf` is empty.
pub(crate) fn order_pair(buf: &mut [f64], k: usize) -> Option<(f64, f64)> {
    if buf.is_empty() {
        return None;
    }
    let k = k.min(buf.len() - 1);
    let (_, kth, right) = buf.select_nth_unstable_by(k, f64::total_cmp);
    let kth = *kth;
    let next = right.iter().copied().min_by(f64::total_cmp).unwrap_or(kth);
    Some((kth, next))
}

/// scikit-learn's `_weighted_percentile` (the `inverted_cdf` method): the smallest value
/// whose cumulative weight reaches `q / 100` of the total. NaN values are ignored; `None`
/// when every weight is zero.
pub fn weighted_percentile(values: &[f64], weights: &[f64], q: f64) -> Option<f64> {
    let mut pairs: Vec<(f64, f64)> = values
        .iter()
        .zip(weights)
        .filter(|(v, _)| !v.is_nan())
        .map(|(&v, &w)| (v, w))
        .collect();
    pairs.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
    let total: f64 = pairs.iter().map(|p| p.1).sum();
    if total <= 0.0 {
        return None;
    }
    let target = q.clamp(0.0, 100.0) / 100.0 * total;
    let mut cdf = 0.0;
    let mut last = None;
    for &(v, w) in &pairs {
        cdf += w;
        if w > 0.0 {
            last = Some(v);
        }
        if cdf >= target && w > 0.0 {
            return Some(v);
        }
    }
    last
}

/// scikit-learn's weighted median `_weighted_percentile(a, w, 50, average=True)`: where the
/// cumulative weight lands exactly on half the total, the mean of that value and the next
/// one with positive weight. `None` when every weight is zero (or `a` is empty).
pub fn weighted_median_averaged(a: &[f64], w: &[f64]) -> Option<f64> {
    if a.is_empty() || w.len() != a.len() || w.iter().all(|x| *x == 0.0) {
        return None;
    }
    let mut idx: Vec<usize> = (0..a.len()).collect();
    idx.sort_by(|&i, &j| a[i].total_cmp(&a[j]));
    let sw: Vec<f64> = idx.iter().map(|&i| w[i]).collect();
    let mut cdf = Vec::with_capacity(sw.len());
    let mut acc = 0.0;
    for x in &sw {
        acc += x;
        cdf.push(acc);
    }
    let total = acc;
    let mut target = 0.5 * total;
    if target == 0.0 {
        target = f64::from_bits(target.to_bits() + 1);
    }
    let max_idx = a.len() - 1;
    let pi = cdf.partition_point(|c| *c < target).min(max_idx);
    let value = a[idx[pi]];
    let fraction_above = cdf[pi] - target;
    if fraction_above > f64::EPSILON {
        return Some(value);
    }
    let mut next = (pi + 1).min(max_idx);
    if sw[next] == 0.0 {
        let right = cdf.partition_point(|c| *c <= cdf[pi]);
        next = if right > max_idx { pi } else { right };
    }
    Some((value + *a.get(*idx.get(next)?)?) / 2.0)
}

/// `numpy.median` of non-NaN values by selection (`buf` is partially reordered): the middle
/// value, or the mean of the two middle values. `None` when `buf` is empty.
pub fn median_select(buf: &mut [f64]) -> Option<f64> {
    let n = buf.len();
    if n == 0 {
        return None;
    }
    if n % 2 == 1 {
        order_pair(buf, n / 2).map(|(a, _)| a)
    } else {
        order_pair(buf, n / 2 - 1).map(|(a, b)| (a + b) / 2.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linear_matches_numpy() {
        // np.percentile([1, 2, 3, 4, 10], [0, 25, 50, 90, 100])
        let v = [10.0, 1.0, 3.0, 2.0, 4.0];
        assert_eq!(percentile_linear(&v, 0.0), Some(1.0));
        assert_eq!(percentile_linear(&v, 25.0), Some(2.0));
        assert_eq!(percentile_linear(&v, 50.0), Some(3.0));
        assert!((percentile_linear(&v, 90.0).unwrap() - 7.6).abs() < 1e-12);
        assert_eq!(percentile_linear(&v, 100.0), Some(10.0));
        assert_eq!(percentile_linear(&[f64::NAN], 50.0), None);
    }

    #[test]
    fn medians_match_numpy_and_sklearn() {
        assert_eq!(median_select(&mut [3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median_select(&mut [4.0, 1.0, 3.0, 2.0]), Some(2.5));
        assert_eq!(median_select(&mut []), None);
        // _weighted_percentile([1, 2, 3, 4], w, 50, average=True)
        let v = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(weighted_median_averaged(&v, &[1.0; 4]), Some(2.5));
        assert_eq!(
            weighted_median_averaged(&v, &[1.0, 1.0, 1.0, 4.0]),
            Some(4.0)
        );
        assert_eq!(weighted_median_averaged(&v, &[0.0; 4]), None);
    }

    #[test]
    fn weighted_matches_sklearn() {
        // sklearn.utils.stats._weighted_percentile(np.array([1,2,3,4,5.]), np.array([1,1,1,1,4.]), 50) == 4
        let v = [1.0, 2.0, 3.0, 4.0, 5.0];
        assert_eq!(
            weighted_percentile(&v, &[1.0, 1.0, 1.0, 1.0, 4.0], 50.0),
            Some(4.0)
        );
        assert_eq!(weighted_percentile(&v, &[1.0; 5], 50.0), Some(3.0));
        assert_eq!(weighted_percentile(&v, &[0.0; 5], 50.0), None);
    }
}
