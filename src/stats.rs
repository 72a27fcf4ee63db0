//! Small statistics shared by every pillar: numpy's linear-interpolation percentile and
//! scikit-learn's weighted percentile.
//!
//! ```
//! use amlis::stats::{percentile_linear, weighted_percentile};
//! assert_eq!(percentile_linear(&[4.0, 1.0, 3.0, 2.0], 50.0), Some(2.5));
//! assert_eq!(weighted_percentile(&[1.0, 2.0, 3.0, 4.0], &[1.0; 4], 50.0), Some(2.0));
//! ```

/// The `q`-th percentile (`0..=100`) of the non-NaN values, with numpy's default `linear`
/// method; `None` when there is no non-NaN value.
pub fn percentile_linear(values: &[f64], q: f64) -> Option<f64> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| !x.is_nan()).collect();
    v.sort_unstable_by(f64::total_cmp);
    percentile_linear_sorted(&v, q)
}

/// Like [`percentile_linear`] on values already sorted ascending, without NaN.
pub fn percentile_linear_sorted(sorted: &[f64], q: f64) -> Option<f64> {
    let n = sorted.len();
    if n == 0 {
        return None;
    }
    let pos = (q.clamp(0.0, 100.0) / 100.0) * (n - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = (lo + 1).min(n - 1);
    let frac = pos - lo as f64;
    let a = *sorted.get(lo)?;
    let b = *sorted.get(hi)?;
    // numpy's _lerp: a + (b - a) * t, computed from the closer end for stability.
    Some(if frac >= 0.5 {
        b - (b - a) * (1.0 - frac)
    } else {
        a + (b - a) * frac
    })
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
