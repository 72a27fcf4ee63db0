//! The paired comparison of two candidates' fold scores: is one clearly better than the
//! other, or within the noise of cross-validation?
//!
//! The statistic is Yuen's (1974) trimmed mean of the paired differences, with the
//! standard error from the winsorized variance, and the correction of Nadeau and Bengio
//! (2003) for the training rows that the folds of repeated cross-validation share.
//!
//! Why trimmed: fold scores can be heavy-tailed. An r2 on a fold of a few dozen rows whose
//! target barely varies can be −3 for a model that scores 0.8 on every other fold. One such
//! fold among 20 inflates the standard deviation of the differences about tenfold, so a
//! candidate that wins 18 folds of 20 by a wide margin is not "clearly better" by the
//! plain mean's test (and one such fold of the challenger's fakes a win or a loss just as
//! easily). The trimmed mean ignores the most extreme fifth of the
//! differences at each end, and the winsorized variance clamps them instead of squaring
//! them. On well-behaved (normal) differences the test keeps nearly all the power of the
//! mean's (its efficiency is about 0.94 at a 20% trim).

/// The share of the paired differences trimmed at each end.
pub const TRIM: f64 = 0.2;

/// The trimmed mean of the paired differences `diffs` (larger: the first candidate is
/// better) and its corrected standard error, given the ratio of test to training rows of
/// one split (`n_test / n_train`; 0 for independent pairs).
///
/// With `g = ⌊TRIM·m⌋` of the `m` differences trimmed at each end, the gain is the mean of
/// the middle `m − 2g`, and its standard error is
/// `s_w · √(1/m + n_test/n_train) / (1 − 2g/m)`, where `s_w` is the standard deviation of
/// the differences winsorized at the same ranks. The error is 0 for fewer than two
/// differences, and both are 0 for none.
///
/// ```
/// use amlis::meta::paired::trimmed_gain;
///
/// // One fold where the second model collapses does not hide 19 clear wins.
/// let mut diffs = vec![0.1; 19];
/// diffs.push(4.0);
/// let (gain, se) = trimmed_gain(&diffs, 0.25);
/// assert!((gain - 0.1).abs() < 1e-12);
/// assert!(gain > se);
/// ```
pub fn trimmed_gain(diffs: &[f64], test_to_train: f64) -> (f64, f64) {
    let m = diffs.len();
    if m == 0 {
        return (0.0, 0.0);
    }
    let mut sorted = diffs.to_vec();
    sorted.sort_by(f64::total_cmp);
    let g = (TRIM * m as f64).floor() as usize;
    let middle = sorted.get(g..m - g).unwrap_or(&sorted);
    let gain = middle.iter().sum::<f64>() / middle.len() as f64;
    if m < 2 {
        return (gain, 0.0);
    }
    let (lo, hi) = (
        middle.first().copied().unwrap_or(gain),
        middle.last().copied().unwrap_or(gain),
    );
    let winsorized = || sorted.iter().map(|d| d.clamp(lo, hi));
    let wmean = winsorized().sum::<f64>() / m as f64;
    let wvar = winsorized().map(|w| (w - wmean) * (w - wmean)).sum::<f64>() / (m - 1) as f64;
    let kept = 1.0 - 2.0 * g as f64 / m as f64;
    let se = (wvar * (1.0 / m as f64 + test_to_train.max(0.0))).sqrt() / kept;
    (gain, se)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Yuen's statistic written out for 10 differences (g = 2).
    #[test]
    fn the_gain_and_error_follow_yuens_formulas() {
        let d = [0.3, -0.1, 0.2, 0.05, 0.4, -2.0, 0.15, 0.1, 0.25, 0.0];
        let (gain, se) = trimmed_gain(&d, 0.5);
        // Sorted: -2.0, -0.1 | 0.0 0.05 0.1 0.15 0.2 0.25 | 0.3, 0.4.
        let mid = [0.0, 0.05, 0.1, 0.15, 0.2, 0.25];
        let want_gain = mid.iter().sum::<f64>() / 6.0;
        assert!((gain - want_gain).abs() < 1e-15, "{gain}");
        let w = [0.0, 0.0, 0.0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.25, 0.25];
        let wm = w.iter().sum::<f64>() / 10.0;
        let wv = w.iter().map(|x| (x - wm) * (x - wm)).sum::<f64>() / 9.0;
        let want_se = (wv * (0.1 + 0.5)).sqrt() / 0.6;
        assert!((se - want_se).abs() < 1e-15, "{se} {want_se}");
    }

    #[test]
    fn one_collapsed_fold_does_not_hide_a_clear_gain() {
        // 18 wins of about 0.1 and two folds where the incumbent collapsed (r2 of -3).
        let mut d: Vec<f64> = (0..18).map(|i| 0.08 + 0.002 * i as f64).collect();
        d.extend([3.7, -0.1]);
        let (gain, se) = trimmed_gain(&d, 0.25);
        assert!(gain > se, "{gain} {se}");
        // The plain mean and corrected error would not have said so.
        let mean = d.iter().sum::<f64>() / 20.0;
        let var = d.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / 19.0;
        assert!(mean <= (var * (0.05 + 0.25)).sqrt());
    }

    #[test]
    fn noise_is_not_a_gain_and_degenerate_inputs_are_zero() {
        let d = [
            0.02, -0.03, 0.01, -0.02, 0.03, -0.01, 0.015, -0.025, 0.0, 0.005,
        ];
        let (gain, se) = trimmed_gain(&d, 0.5);
        assert!(gain <= se, "{gain} {se}");
        assert_eq!(trimmed_gain(&[], 0.5), (0.0, 0.0));
        assert_eq!(trimmed_gain(&[0.3], 0.5), (0.3, 0.0));
        // Equal differences: no spread, the gain itself.
        let (gain, se) = trimmed_gain(&[0.2; 7], 0.25);
        assert!((gain - 0.2).abs() < 1e-15 && se < 1e-15, "{gain} {se}");
    }
}
