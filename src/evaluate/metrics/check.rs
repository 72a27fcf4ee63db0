//! Input checks and numeric helpers shared by every metric.
//!
//! The checks mirror scikit-learn's validation (lengths, emptiness, finiteness, integer class
//! labels) and add two of amlis's own: weights must be finite and non-negative, and a weight
//! vector that sums to zero is an error where a weighted mean is taken.
//!
//! The sums follow NumPy's pairwise summation ([`np_sum`]), so that means and weighted means
//! round the way scikit-learn's do.

use std::cmp::Ordering;

use ndarray::{ArrayView1, ArrayView2};

use crate::error::{Error, Result};

/// Whether the labels present are one of scikit-learn's standard binary sets ({0, 1},
/// {-1, 1} or a subset), whose positive label defaults to 1.
pub(crate) fn standard_binary(present: &[f64]) -> bool {
    const STANDARD: [&[f64]; 5] = [&[0.0, 1.0], &[-1.0, 1.0], &[0.0], &[-1.0], &[1.0]];
    STANDARD.contains(&present)
}

/// Row sums and column sums of a matrix, each with NumPy's pairwise summation.
pub(crate) fn axis_sums(m: ArrayView2<'_, f64>) -> (Vec<f64>, Vec<f64>) {
    let sums = |lanes: ndarray::iter::Lanes<'_, f64, ndarray::Ix1>| -> Vec<f64> {
        lanes.into_iter().map(|r| np_sum(&r.to_vec())).collect()
    };
    (sums(m.rows()), sums(m.columns()))
}

/// Fails unless `a` and `b` have the same length; the message names both and their lengths.
pub(crate) fn same_len(ctx: &str, a: (&str, usize), b: (&str, usize)) -> Result<()> {
    if a.1 != b.1 {
        return Err(Error::shape(
            ctx,
            format!("{} of the same length as {} ({})", b.0, a.0, a.1),
            format!("{} of length {}", b.0, b.1),
        ));
    }
    Ok(())
}

/// Fails on an empty input.
pub(crate) fn non_empty(ctx: &str, name: &str, n: usize) -> Result<()> {
    if n == 0 {
        return Err(Error::Empty(format!(
            "{ctx}: `{name}` has no samples, at least 1 is required"
        )));
    }
    Ok(())
}

/// Fails on the first NaN or infinite value, naming the index.
pub(crate) fn finite(ctx: &str, name: &str, v: ArrayView1<'_, f64>) -> Result<()> {
    match v.iter().position(|x| !x.is_finite()) {
        Some(i) => Err(Error::InvalidValue {
            context: ctx.to_string(),
            row: i,
            column: Some(name.to_string()),
            message: format!("found {}, expected a finite number", v[i]),
        }),
        None => Ok(()),
    }
}

/// Fails on the first NaN or infinite value of a matrix, naming row and column index.
pub(crate) fn finite2(ctx: &str, name: &str, m: ArrayView2<'_, f64>) -> Result<()> {
    for ((i, j), x) in m.indexed_iter() {
        if !x.is_finite() {
            return Err(Error::InvalidValue {
                context: ctx.to_string(),
                row: i,
                column: Some(format!("{name}[:, {j}]")),
                message: format!("found {x}, expected a finite number"),
            });
        }
    }
    Ok(())
}

/// Fails unless every value is a finite integer (a class label); scikit-learn calls other
/// targets "continuous" and refuses them in classification metrics.
pub(crate) fn class_labels(ctx: &str, name: &str, v: ArrayView1<'_, f64>) -> Result<()> {
    finite(ctx, name, v)?;
    match v.iter().position(|x| x.fract() != 0.0) {
        Some(i) => Err(Error::InvalidValue {
            context: ctx.to_string(),
            row: i,
            column: Some(name.to_string()),
            message: format!(
                "found {}, expected an integer class label (continuous targets are not \
                 supported by classification metrics)",
                v[i]
            ),
        }),
        None => Ok(()),
    }
}

/// Checks optional sample weights against `n` samples: same length, finite, non-negative.
pub(crate) fn weights<'a>(
    ctx: &str,
    w: Option<ArrayView1<'a, f64>>,
    n: usize,
) -> Result<Option<ArrayView1<'a, f64>>> {
    let Some(w) = w else { return Ok(None) };
    same_len(ctx, ("y_true", n), ("sample_weight", w.len()))?;
    finite(ctx, "sample_weight", w)?;
    if let Some(i) = w.iter().position(|&x| x < 0.0) {
        return Err(Error::InvalidValue {
            context: ctx.to_string(),
            row: i,
            column: Some("sample_weight".to_string()),
            message: format!("found {}, expected a non-negative weight", w[i]),
        });
    }
    Ok(Some(w))
}

/// The sorted distinct values of one or more slices (the union of labels, as
/// scikit-learn's `unique_labels`).
pub(crate) fn unique_sorted<'a>(parts: impl IntoIterator<Item = ArrayView1<'a, f64>>) -> Vec<f64> {
    let mut all: Vec<f64> = parts.into_iter().flat_map(|p| p.to_vec()).collect();
    all.sort_by(f64::total_cmp);
    all.dedup_by(|a, b| a == b);
    all
}

/// Index of `x` in the sorted slice `labels`.
pub(crate) fn find(labels: &[f64], x: f64) -> Option<usize> {
    labels
        .binary_search_by(|l| l.partial_cmp(&x).unwrap_or(Ordering::Less))
        .ok()
}

/// Checks a user-given label list: non-empty, finite, without duplicates.
pub(crate) fn label_list(ctx: &str, labels: &[f64]) -> Result<()> {
    if labels.is_empty() {
        return Err(Error::param(
            "labels",
            "[]",
            "at least one label (or None to infer them)",
        ));
    }
    if let Some(x) = labels.iter().find(|x| !x.is_finite()) {
        return Err(Error::param(
            "labels",
            x,
            &format!("finite labels in {ctx}"),
        ));
    }
    let mut s = labels.to_vec();
    s.sort_by(f64::total_cmp);
    if let Some(w) = s.windows(2).find(|w| w[0] == w[1]) {
        return Err(Error::param(
            "labels",
            format!("{labels:?}"),
            &format!("distinct labels in {ctx} ({} is repeated)", w[0]),
        ));
    }
    Ok(())
}

/// NumPy's pairwise summation (`np.sum` of a contiguous 1-D float64 array): blocks of 8
/// partial sums below 128 elements, recursive halving above.
pub fn np_sum(a: &[f64]) -> f64 {
    const BLOCK: usize = 128;
    let n = a.len();
    if n < 8 {
        // NumPy starts the short loop from -0.0 so that an all -0.0 sum stays -0.0.
        return a.iter().fold(-0.0, |s, x| s + x);
    }
    if n <= BLOCK {
        let mut r = [0.0f64; 8];
        r.copy_from_slice(&a[..8]);
        let mut i = 8;
        while i + 8 <= n {
            for k in 0..8 {
                r[k] += a[i + k];
            }
            i += 8;
        }
        let mut res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for x in &a[i..] {
            res += x;
        }
        return res;
    }
    let mut n2 = n / 2;
    n2 -= n2 % 8;
    np_sum(&a[..n2]) + np_sum(&a[n2..])
}

/// The mean of `a`, as `np.mean` computes it.
pub(crate) fn np_mean(a: &[f64]) -> f64 {
    np_sum(a) / a.len() as f64
}

/// `np.average(a, weights=w)`: the (weighted) mean; a zero weight sum is an error naming
/// `ctx`.
pub(crate) fn average(ctx: &str, a: &[f64], w: Option<ArrayView1<'_, f64>>) -> Result<f64> {
    match w {
        None => {
            if a.is_empty() {
                return Err(Error::Empty(format!("{ctx}: nothing to average")));
            }
            Ok(np_mean(a))
        }
        Some(w) => {
            let wv: Vec<f64> = w.to_vec();
            let prod: Vec<f64> = a.iter().zip(&wv).map(|(x, w)| x * w).collect();
            let scale = np_sum(&wv);
            if scale == 0.0 {
                return Err(Error::InvalidArgument(format!(
                    "{ctx}: the sample weights sum to zero, the weighted mean is undefined"
                )));
            }
            Ok(np_sum(&prod) / scale)
        }
    }
}

/// `_average(a, weights, normalize)`: the weighted mean, or the weighted sum when
/// `normalize` is false.
pub(crate) fn average_or_sum(
    ctx: &str,
    a: &[f64],
    w: Option<ArrayView1<'_, f64>>,
    normalize: bool,
) -> Result<f64> {
    if normalize {
        return average(ctx, a, w);
    }
    Ok(match w {
        None => np_sum(a),
        Some(w) => dot(a, &w.to_vec()),
    })
}

/// `np.dot` of two vectors (sequential accumulation is what BLAS-free paths do; the
/// difference is far below the 1e-12 tolerance).
pub(crate) fn dot(a: &[f64], b: &[f64]) -> f64 {
    let prod: Vec<f64> = a.iter().zip(b).map(|(x, y)| x * y).collect();
    np_sum(&prod)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairwise_sum_matches_plain_sum_on_exact_values() {
        let a: Vec<f64> = (0..1000).map(|i| i as f64).collect();
        assert_eq!(np_sum(&a), 499_500.0);
        assert_eq!(np_sum(&a[..7]), 21.0);
        assert_eq!(np_sum(&a[..100]), 4950.0);
    }

    #[test]
    fn unique_and_find() {
        let v = ndarray::arr1(&[3.0, 1.0, 3.0, 2.0]);
        let u = unique_sorted([v.view()]);
        assert_eq!(u, vec![1.0, 2.0, 3.0]);
        assert_eq!(find(&u, 2.0), Some(1));
        assert_eq!(find(&u, 5.0), None);
    }

    #[test]
    fn weights_are_checked() {
        let w = ndarray::arr1(&[1.0, -1.0]);
        let e = weights("t", Some(w.view()), 2).unwrap_err().to_string();
        assert!(e.contains("row 1") && e.contains("non-negative"), "{e}");
        let e = weights("t", Some(w.view()), 3).unwrap_err().to_string();
        assert!(e.contains("length 2") && e.contains("(3)"), "{e}");
    }
}
