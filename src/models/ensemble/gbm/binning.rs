//! Quantile binning: every feature is mapped to at most `max_bins` bins (stored as `u8`) plus
//! one bin for missing values, as scikit-learn's `_BinMapper` does.
//!
//! Numeric features: with at most `max_bins` distinct values the thresholds are the midpoints
//! between consecutive distinct values; otherwise they are the `max_bins`-quantiles (midpoint
//! interpolation) of a seeded subsample of at most 200,000 rows. A value `x` falls in bin
//! `b = #{thresholds < x}`, so "bin <= b" is exactly "x <= thresholds[b]": trees store the real
//! threshold and predict from raw rows without binning.
//!
//! Categorical features: the bin is the category code (codes must lie in `0..max_bins`).
//! The missing bin of a feature is its last bin, `n_bins - 1`.

use ndarray::ArrayView2;
use rayon::prelude::*;

use crate::error::{Error, Result};

/// Rows drawn to compute the quantile thresholds of large data sets (as scikit-learn).
pub(crate) const BINNING_SUBSAMPLE: usize = 200_000;

/// How one feature is binned.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct FeatureBins {
    /// Sorted thresholds; `thresholds.len() + 1` non-missing bins for numeric features.
    pub thresholds: Vec<f64>,
    /// Number of non-missing bins; the missing bin is `n_bins_non_missing`.
    pub n_bins_non_missing: usize,
    /// True for a categorical feature (bins are category codes).
    pub categorical: bool,
}

impl FeatureBins {
    /// The bin of a non-missing numeric value.
    #[inline]
    fn bin_numeric(&self, x: f64) -> u8 {
        self.thresholds.partition_point(|&t| t < x) as u8
    }

    /// The real threshold of a numeric split "bin <= b goes left".
    pub fn threshold(&self, b: usize) -> f64 {
        self.thresholds.get(b).copied().unwrap_or(f64::INFINITY)
    }
}

/// Binned training data: feature-major `u8` codes.
#[derive(Debug, Clone)]
pub(crate) struct BinnedData {
    /// `codes[f * n_rows + i]` is the bin of row `i` for feature `f`.
    pub codes: Vec<u8>,
    /// Number of rows.
    pub n_rows: usize,
    /// Per-feature binning.
    pub features: Vec<FeatureBins>,
}

impl BinnedData {
    /// The codes of feature `f`.
    #[inline]
    pub fn column(&self, f: usize) -> &[u8] {
        &self.codes[f * self.n_rows..(f + 1) * self.n_rows]
    }
}

/// `np.percentile(sorted, q, method="midpoint")` for a sorted, non-empty slice.
fn percentile_midpoint(sorted: &[f64], q: f64) -> f64 {
    let pos = q / 100.0 * (sorted.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    let a = sorted[lo.min(sorted.len() - 1)];
    let b = sorted[hi.min(sorted.len() - 1)];
    0.5 * (a + b)
}

/// Thresholds of a numeric feature from its (sampled) values.
fn numeric_thresholds(mut values: Vec<f64>, max_bins: usize) -> Vec<f64> {
    values.retain(|v| !v.is_nan());
    if values.is_empty() {
        return Vec::new();
    }
    values.sort_unstable_by(f64::total_cmp);
    let mut distinct = values.clone();
    distinct.dedup();
    let mut th: Vec<f64> = if distinct.len() <= max_bins {
        distinct.windows(2).map(|w| 0.5 * (w[0] + w[1])).collect()
    } else {
        (1..max_bins)
            .map(|k| percentile_midpoint(&values, 100.0 * k as f64 / max_bins as f64))
            .collect()
    };
    th.dedup();
    // An infinite threshold would send +inf to the wrong side; clamp it like scikit-learn.
    for t in th.iter_mut() {
        if *t == f64::INFINITY {
            *t = f64::MAX;
        }
    }
    th
}

/// Learns the bins of every feature from the rows `rows` of `x` and bins those rows.
///
/// `categorical[f]` marks categorical features; `sample` holds the row positions (into
/// `rows`) used for the quantiles. Work is parallel over features; the result does not depend
/// on the thread count.
pub(crate) fn fit_bin(
    x: ArrayView2<'_, f64>,
    rows: &[usize],
    categorical: &[bool],
    names: &[String],
    max_bins: usize,
    sample: &[usize],
) -> Result<BinnedData> {
    let n = rows.len();
    let p = x.ncols();
    let per_feature: Vec<Result<(FeatureBins, Vec<u8>)>> = (0..p)
        .into_par_iter()
        .map(|f| {
            let col = x.column(f);
            if categorical.get(f).copied().unwrap_or(false) {
                let mut codes = Vec::with_capacity(n);
                let mut max_code = 0usize;
                for (pos, &r) in rows.iter().enumerate() {
                    let v = col[r];
                    if v.is_nan() {
                        codes.push(u8::MAX); // fixed below once n_bins is known
                        continue;
                    }
                    if !(v >= 0.0 && v.fract() == 0.0 && v < max_bins as f64) {
                        return Err(Error::InvalidValue {
                            context: "gradient boosting categorical feature".into(),
                            row: pos,
                            column: names.get(f).cloned(),
                            message: format!(
                                "{v} is not a category code in 0..{max_bins} (max_bins); \
                                 features with more categories than max_bins are not supported"
                            ),
                        });
                    }
                    let c = v as usize;
                    max_code = max_code.max(c);
                    codes.push(c as u8);
                }
                let nb = max_code + 1;
                for (c, &r) in codes.iter_mut().zip(rows) {
                    if col[r].is_nan() {
                        *c = nb as u8;
                    }
                }
                Ok((
                    FeatureBins {
                        thresholds: Vec::new(),
                        n_bins_non_missing: nb,
                        categorical: true,
                    },
                    codes,
                ))
            } else {
                let values: Vec<f64> = sample.iter().map(|&s| col[rows[s]]).collect();
                let thresholds = numeric_thresholds(values, max_bins);
                let fb = FeatureBins {
                    n_bins_non_missing: thresholds.len() + 1,
                    thresholds,
                    categorical: false,
                };
                let missing = fb.n_bins_non_missing as u8;
                let codes = rows
                    .iter()
                    .map(|&r| {
                        let v = col[r];
                        if v.is_nan() {
                            missing
                        } else {
                            fb.bin_numeric(v)
                        }
                    })
                    .collect();
                Ok((fb, codes))
            }
        })
        .collect();
    let mut codes = Vec::with_capacity(n * p);
    let mut features = Vec::with_capacity(p);
    for r in per_feature {
        let (fb, c) = r?;
        codes.extend_from_slice(&c);
        features.push(fb);
    }
    Ok(BinnedData {
        codes,
        n_rows: n,
        features,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn few_distinct_values_use_midpoints() {
        let th = numeric_thresholds(vec![3.0, 1.0, 2.0, 2.0, f64::NAN], 255);
        assert_eq!(th, vec![1.5, 2.5]);
    }

    #[test]
    fn many_values_use_quantiles() {
        let v: Vec<f64> = (0..1000).map(|i| i as f64).collect();
        let th = numeric_thresholds(v, 4);
        // np.percentile(arange(1000), [25, 50, 75], method="midpoint")
        assert_eq!(th, vec![249.5, 499.5, 749.5]);
    }

    #[test]
    fn bins_agree_with_thresholds_and_missing_bin() {
        let x = array![[1.0, 0.0], [2.0, 2.0], [f64::NAN, 1.0], [3.0, f64::NAN]];
        let rows = [0, 1, 2, 3];
        let names = vec!["a".to_string(), "b".to_string()];
        let b = fit_bin(x.view(), &rows, &[false, true], &names, 255, &[0, 1, 2, 3]).unwrap();
        assert_eq!(b.column(0), &[0, 1, 3, 2]);
        assert_eq!(b.features[0].n_bins_non_missing, 3);
        assert_eq!(b.column(1), &[0, 2, 1, 3]);
        assert!(b.features[1].categorical);
        // x <= threshold[b]  <=>  bin <= b
        for (i, &r) in rows.iter().enumerate() {
            let v = x[[r, 0]];
            if v.is_nan() {
                continue;
            }
            for t in 0..2 {
                assert_eq!(
                    v <= b.features[0].threshold(t),
                    b.column(0)[i] as usize <= t
                );
            }
        }
    }

    #[test]
    fn bad_category_code_is_an_error() {
        let x = array![[1.5]];
        let names = vec!["c".to_string()];
        let e = fit_bin(x.view(), &[0], &[true], &names, 255, &[0]).unwrap_err();
        assert!(e.to_string().contains("category code"), "{e}");
    }
}
