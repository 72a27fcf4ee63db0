//! Per-column statistics that ignore missing values (NaN), computed as numpy does.

/// Number of independent accumulators: breaks the dependency chain so the loops vectorize,
/// and sums in 8 interleaved partial sums (more accurate than one running sum).
const LANES: usize = 8;

/// Count, mean and population variance (ddof = 0) of the non-NaN values.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Moments {
    /// Number of non-NaN values.
    pub n: usize,
    /// Their mean (NaN when `n == 0`).
    pub mean: f64,
    /// Their population variance (NaN when `n == 0`).
    pub var: f64,
}

/// Sums of the two outputs of `f(x)`, and the count, over the non-NaN values, in `LANES`
/// interleaved partial sums (fixed-size lanes without bounds checks, so the loop vectorizes;
/// the count is kept in `f64` lanes too, exact up to 2^53 values).
fn lane_sum(values: &[f64], f: impl Fn(f64) -> (f64, f64)) -> (f64, f64, usize) {
    let mut acc = [[0.0f64; LANES]; 3];
    let chunks = values.chunks_exact(LANES);
    let rest = chunks.remainder();
    for chunk in chunks {
        if let Ok(x) = <&[f64; LANES]>::try_from(chunk) {
            add_lanes(&mut acc, x, &f);
        }
    }
    // The tail, padded with NaN (which counts as missing).
    let mut tail = [f64::NAN; LANES];
    for (t, &x) in tail.iter_mut().zip(rest) {
        *t = x;
    }
    add_lanes(&mut acc, &tail, &f);
    let [s1, s2, counts] = acc;
    (
        s1.iter().sum(),
        s2.iter().sum(),
        counts.iter().sum::<f64>() as usize,
    )
}

/// One step of [`lane_sum`]: adds `f(x)` and the presence of each of `LANES` values.
#[inline(always)]
fn add_lanes(acc: &mut [[f64; LANES]; 3], x: &[f64; LANES], f: &impl Fn(f64) -> (f64, f64)) {
    let [s1, s2, c] = acc;
    for (k, &v) in x.iter().enumerate() {
        let present = !v.is_nan();
        let (a, b) = f(v);
        if let (Some(p), Some(q), Some(n)) = (s1.get_mut(k), s2.get_mut(k), c.get_mut(k)) {
            *p += if present { a } else { 0.0 };
            *q += if present { b } else { 0.0 };
            *n += if present { 1.0 } else { 0.0 };
        }
    }
}

/// Values per block of [`moments`]: small enough to stay in L1/L2 cache between the two
/// passes over the block.
const MOMENT_BLOCK: usize = 4096;

/// Mean and population variance of the non-NaN values in one pass over memory.
///
/// Each block of [`MOMENT_BLOCK`] values gets scikit-learn's two-pass treatment while it is in
/// cache (its sum, then the centred sum of squares with the rounding correction
/// `Σd² − (Σd)²/n`); the blocks are then combined exactly as the parallel-variance formula
/// (Chan et al.) says: `M2 = Σ M2_b + Σ n_b (mean_b − mean)²`, where `mean = Σ sum_b / n`
/// plus the rounding correction `Σ (x − mean) / n` (so the mean is close to exact even for
/// large offsets). The results agree with scikit-learn's `StandardScaler` to rounding
/// (tests: 1e-12 relative); where they differ, amlis's mean is the closer to exact, since
/// scikit-learn sums rows sequentially and does not correct the mean.
pub(crate) fn moments(values: &[f64]) -> Moments {
    // Per block: (count, sum, mean, M2, Σ (x - mean_b)).
    let blocks: Vec<(f64, f64, f64, f64, f64)> = values
        .chunks(MOMENT_BLOCK)
        .filter_map(|block| {
            let (sum, _, n) = lane_sum(block, |x| (x, 0.0));
            if n == 0 {
                return None;
            }
            let nf = n as f64;
            let mean = sum / nf;
            let (correction, ss, _) = lane_sum(block, |x| {
                let d = x - mean;
                (d, d * d)
            });
            Some((nf, sum, mean, ss - correction * correction / nf, correction))
        })
        .collect();
    let n: f64 = blocks.iter().map(|b| b.0).sum();
    if n == 0.0 {
        return Moments {
            n: 0,
            mean: f64::NAN,
            var: f64::NAN,
        };
    }
    let rough = blocks.iter().map(|b| b.1).sum::<f64>() / n;
    // The rounding error of the summed mean, recovered from the block statistics:
    // Σ (x - rough) = Σ_b [Σ_{i∈b} (x_i - mean_b) + n_b (mean_b - rough)].
    let correction: f64 = blocks
        .iter()
        .map(|&(nb, _, mb, _, corr_b)| corr_b + nb * (mb - rough))
        .sum();
    let mean = rough + correction / n;
    let m2: f64 = blocks
        .iter()
        .map(|&(nb, _, mb, m2b, _)| m2b + nb * (mb - mean) * (mb - mean))
        .sum();
    Moments {
        n: n as usize,
        mean,
        var: m2 / n,
    }
}

/// Minimum and maximum of the non-NaN values (NaN, NaN when there are none).
pub(crate) fn min_max(values: &[f64]) -> (f64, f64) {
    values
        .iter()
        .filter(|x| !x.is_nan())
        .fold((f64::NAN, f64::NAN), |(lo, hi), &x| {
            (
                if lo.is_nan() || x < lo { x } else { lo },
                if hi.is_nan() || x > hi { x } else { hi },
            )
        })
}

/// The non-NaN values of a column, for order statistics.
pub(crate) fn present(values: &[f64]) -> Vec<f64> {
    values.iter().copied().filter(|x| !x.is_nan()).collect()
}

/// `numpy.percentile(values, q)` with the default linear interpolation, over the non-NaN
/// values gathered in `buf` (reordered in place). NaN when `buf` is empty.
pub(crate) fn percentile(buf: &mut [f64], q: f64) -> f64 {
    crate::common::stats::percentile_linear_select(buf, q).unwrap_or(f64::NAN)
}

/// `numpy.median` over the non-NaN values in `buf` (reordered in place): the middle value, or
/// the mean of the two middle values. NaN when `buf` is empty.
pub(crate) fn median(buf: &mut [f64]) -> f64 {
    crate::common::stats::median_select(buf).unwrap_or(f64::NAN)
}

/// The most frequent non-NaN value; ties go to the smallest value (as scikit-learn's
/// `SimpleImputer(strategy="most_frequent")`). NaN when there are none.
pub(crate) fn most_frequent(values: &[f64]) -> f64 {
    let mut buf = present(values);
    buf.sort_unstable_by(f64::total_cmp);
    let mut best = (f64::NAN, 0usize);
    let mut i = 0;
    while let Some(&x) = buf.get(i) {
        let run = buf
            .get(i..)
            .map_or(0, |rest| rest.iter().take_while(|&&y| y == x).count())
            .max(1);
        if run > best.1 {
            best = (x, run);
        }
        i += run;
    }
    best.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocked_moments_match_two_pass() {
        // Several blocks, NaN scattered, a large offset: compare with a plain two-pass sum.
        let v: Vec<f64> = (0..3 * MOMENT_BLOCK + 17)
            .map(|i| {
                if i % 97 == 0 {
                    f64::NAN
                } else {
                    1e6 + ((i * 7919) % 1000) as f64 / 7.0
                }
            })
            .collect();
        let present: Vec<f64> = v.iter().copied().filter(|x| !x.is_nan()).collect();
        let n = present.len() as f64;
        let mean = present.iter().sum::<f64>() / n;
        let var = present.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / n;
        let m = moments(&v);
        assert_eq!(m.n, present.len());
        assert!((m.mean - mean).abs() <= 1e-12 * mean.abs());
        assert!((m.var - var).abs() <= 1e-10 * var, "{} vs {var}", m.var);
    }

    #[test]
    fn moments_ignore_nan() {
        let m = moments(&[1.0, f64::NAN, 3.0, 5.0]);
        assert_eq!(m.n, 3);
        assert_eq!(m.mean, 3.0);
        assert!((m.var - 8.0 / 3.0).abs() < 1e-15);
        assert!(moments(&[f64::NAN]).mean.is_nan());
    }

    #[test]
    fn percentiles_match_numpy() {
        // numpy.percentile([1, 2, 3, 4], [25, 50, 75]) == [1.75, 2.5, 3.25]
        let mut b = vec![4.0, 1.0, 3.0, 2.0];
        assert_eq!(percentile(&mut b, 25.0), 1.75);
        assert_eq!(percentile(&mut b, 50.0), 2.5);
        assert_eq!(percentile(&mut b, 75.0), 3.25);
        assert_eq!(percentile(&mut b, 100.0), 4.0);
        assert_eq!(percentile(&mut b, 0.0), 1.0);
        assert_eq!(median(&mut b), 2.5);
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), 2.0);
        assert!(median(&mut []).is_nan());
    }

    #[test]
    fn most_frequent_ties_go_to_smallest() {
        assert_eq!(most_frequent(&[2.0, 1.0, 2.0, 1.0, f64::NAN]), 1.0);
        assert_eq!(most_frequent(&[3.0, 2.0, 3.0]), 3.0);
        assert!(most_frequent(&[f64::NAN]).is_nan());
        assert_eq!(min_max(&[f64::NAN, 2.0, -1.0]), (-1.0, 2.0));
    }
}
