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

/// Binned training data: row-major `u8` codes.
///
/// Row-major, so that the histograms of a node read one cache line per row of the node
/// whatever its features, instead of one line per row and feature.
#[derive(Debug, Clone)]
pub(crate) struct BinnedData {
    /// `codes[i * n_features + f]` is the bin of row `i` for feature `f`.
    pub codes: Vec<u8>,
    /// Number of rows.
    pub n_rows: usize,
    /// Per-feature binning.
    pub features: Vec<FeatureBins>,
}

impl BinnedData {
    /// Number of features.
    #[inline]
    pub fn n_features(&self) -> usize {
        self.features.len()
    }

    /// The bin of row `i` for feature `f` (0 outside the data).
    #[inline]
    pub fn code(&self, i: usize, f: usize) -> u8 {
        self.codes
            .get(i * self.n_features() + f)
            .copied()
            .unwrap_or(0)
    }

    /// The codes of feature `f`, gathered (tests and diagnostics).
    #[cfg(test)]
    pub fn column(&self, f: usize) -> Vec<u8> {
        (0..self.n_rows).map(|i| self.code(i, f)).collect()
    }

    /// Whether each feature has a row in its missing bin.
    pub fn has_missing(&self) -> Vec<bool> {
        let p = self.n_features();
        let missing: Vec<usize> = self.features.iter().map(|f| f.n_bins_non_missing).collect();
        if p == 0 {
            return Vec::new();
        }
        self.codes
            .par_chunks(p * ROW_CHUNK)
            .map(|chunk| {
                let mut seen = vec![false; p];
                for row in chunk.chunks_exact(p) {
                    for ((s, &c), &m) in seen.iter_mut().zip(row).zip(&missing) {
                        *s |= c as usize == m;
                    }
                }
                seen
            })
            .reduce(
                || vec![false; p],
                |mut a, b| {
                    for (x, y) in a.iter_mut().zip(b) {
                        *x |= y;
                    }
                    a
                },
            )
    }
}

/// Rows per parallel task when binning.
const ROW_CHUNK: usize = 4096;

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

/// The bins of a categorical feature: checks every code of the rows `rows` of `col`.
fn categorical_bins(
    col: ndarray::ArrayView1<'_, f64>,
    rows: &[usize],
    name: Option<&String>,
    max_bins: usize,
) -> Result<FeatureBins> {
    let mut max_code = 0usize;
    for (pos, &r) in rows.iter().enumerate() {
        let v = col[r];
        if v.is_nan() {
            continue;
        }
        if !(v >= 0.0 && v.fract() == 0.0 && v < max_bins as f64) {
            return Err(Error::InvalidValue {
                context: "gradient boosting categorical feature".into(),
                row: pos,
                column: name.cloned(),
                message: format!(
                    "{v} is not a category code in 0..{max_bins} (max_bins); \
                     features with more categories than max_bins are not supported"
                ),
            });
        }
        max_code = max_code.max(v as usize);
    }
    Ok(FeatureBins {
        thresholds: Vec::new(),
        n_bins_non_missing: max_code + 1,
        categorical: true,
    })
}

impl FeatureBins {
    /// The bin of a value (categorical values are checked category codes).
    #[inline]
    fn bin(&self, v: f64) -> u8 {
        if v.is_nan() {
            self.n_bins_non_missing as u8
        } else if self.categorical {
            v as u8
        } else {
            self.bin_numeric(v)
        }
    }
}

/// Learns the bins of every feature from the rows `rows` of `x` and bins those rows.
///
/// `categorical[f]` marks categorical features; `sample` holds the row positions (into
/// `rows`) used for the quantiles. The bins are learnt in parallel over features, the codes
/// written in parallel over rows; the result does not depend on the thread count.
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
    let features: Vec<FeatureBins> = (0..p)
        .into_par_iter()
        .map(|f| {
            let col = x.column(f);
            if categorical.get(f).copied().unwrap_or(false) {
                categorical_bins(col, rows, names.get(f), max_bins)
            } else {
                let values: Vec<f64> = sample.iter().map(|&s| col[rows[s]]).collect();
                let thresholds = numeric_thresholds(values, max_bins);
                Ok(FeatureBins {
                    n_bins_non_missing: thresholds.len() + 1,
                    thresholds,
                    categorical: false,
                })
            }
        })
        .collect::<Result<_>>()?;
    let mut codes = vec![0u8; n * p];
    if p > 0 {
        codes
            .par_chunks_mut(p * ROW_CHUNK)
            .zip(rows.par_chunks(ROW_CHUNK))
            .for_each(|(out, rows)| {
                let mut buf = vec![0.0; p];
                for (o, &r) in out.chunks_exact_mut(p).zip(rows) {
                    let xr = x.row(r);
                    let xr: &[f64] = match xr.to_slice() {
                        Some(s) => s,
                        None => {
                            for (b, &v) in buf.iter_mut().zip(xr.iter()) {
                                *b = v;
                            }
                            &buf
                        }
                    };
                    for ((c, &v), fb) in o.iter_mut().zip(xr).zip(&features) {
                        *c = fb.bin(v);
                    }
                }
            });
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

    #[test]
    fn codes_are_row_major_and_missing_is_found_past_the_first_chunk() {
        // More rows than one binning chunk; the only NaN of feature 1 is in the last row.
        let n = ROW_CHUNK + 10;
        let mut x = ndarray::Array2::from_shape_fn((n, 3), |(i, f)| ((i * (f + 1)) % 7) as f64);
        x[[n - 1, 1]] = f64::NAN;
        let rows: Vec<usize> = (0..n).collect();
        let names = vec!["a".into(), "b".into(), "c".into()];
        let b = fit_bin(x.view(), &rows, &[false, false, true], &names, 255, &rows).unwrap();
        assert_eq!(b.codes.len(), n * 3);
        for i in [0, 1, 5, ROW_CHUNK, n - 2] {
            for f in 0..3 {
                // Values 0..6 have midpoint thresholds 0.5..5.5, so the bin is the value; the
                // categorical feature's code is the value too.
                assert_eq!(b.codes[i * 3 + f], x[[i, f]] as u8, "row {i} feature {f}");
            }
        }
        assert_eq!(b.code(n - 1, 1), 7); // the missing bin after 7 non-missing bins
        assert_eq!(b.has_missing(), vec![false, true, false]);
    }
}
