//! Clustering metrics that compare a partition with true labels (external scores): adjusted
//! Rand, Rand, mutual information and its normalized form, homogeneity, completeness,
//! V-measure, as scikit-learn computes them. The scores that need no labels (silhouette,
//! Calinski-Harabasz, Davies-Bouldin) are in [`super::internal`] and re-exported here.
//!
//! Labels are any finite values (cluster ids need not be contiguous); only their equality
//! matters.

use ndarray::ArrayView1;

use crate::error::{Error, Result};
use crate::evaluate::metrics::check;
pub use crate::evaluate::metrics::internal::{silhouette_samples, silhouette_score};

/// The contingency table of two labelings as its non-zero cells `(i, j, n_ij)` in row-major
/// order, with row and column totals.
struct Contingency {
    cells: Vec<(usize, usize, i64)>,
    rows: Vec<i64>,
    cols: Vec<i64>,
    n: i64,
}

/// Labels as indices `0..k` into their sorted distinct values, and `k`.
pub(crate) fn encode(v: ArrayView1<'_, f64>) -> (Vec<usize>, usize) {
    let u = check::unique_sorted([v]);
    let codes = v.iter().map(|x| check::find(&u, *x).unwrap_or(0)).collect();
    (codes, u.len())
}

fn check_pair(ctx: &str, a: ArrayView1<'_, f64>, b: ArrayView1<'_, f64>) -> Result<()> {
    check::same_len(ctx, ("labels_true", a.len()), ("labels_pred", b.len()))?;
    check::non_empty(ctx, "labels_true", a.len())?;
    check::finite(ctx, "labels_true", a)?;
    check::finite(ctx, "labels_pred", b)
}

fn contingency(a: ArrayView1<'_, f64>, b: ArrayView1<'_, f64>) -> Contingency {
    let (ca, ka) = encode(a);
    let (cb, kb) = encode(b);
    let mut pairs: Vec<(usize, usize)> = ca.iter().copied().zip(cb.iter().copied()).collect();
    pairs.sort_unstable();
    let mut cells: Vec<(usize, usize, i64)> = Vec::new();
    for (i, j) in pairs {
        match cells.last_mut() {
            Some(c) if c.0 == i && c.1 == j => c.2 += 1,
            _ => cells.push((i, j, 1)),
        }
    }
    let (mut rows, mut cols) = (vec![0i64; ka], vec![0i64; kb]);
    for &(i, j, c) in &cells {
        rows[i] += c;
        cols[j] += c;
    }
    Contingency {
        cells,
        rows,
        cols,
        n: ca.len() as i64,
    }
}

/// Adjusted Rand index (`sklearn.metrics.adjusted_rand_score`): pair agreement corrected for
/// chance; 1 for identical partitions (up to renaming).
///
/// ```
/// use ndarray::arr1;
/// let s = amlis::evaluate::metrics::adjusted_rand_score(arr1(&[0., 0., 1., 1.]).view(), arr1(&[1., 1., 0., 0.]).view())?;
/// assert_eq!(s, 1.0);
/// # Ok::<(), amlis::Error>(())
/// ```
pub fn adjusted_rand_score(
    labels_true: ArrayView1<'_, f64>,
    labels_pred: ArrayView1<'_, f64>,
) -> Result<f64> {
    let [tn, fp, fne, tp] = pair_confusion("adjusted_rand_score", labels_true, labels_pred)?;
    if fne == 0 && fp == 0 {
        return Ok(1.0);
    }
    let num = (tp * tn - fne * fp) as f64;
    let den = ((tp + fne) * (fne + tn) + (tp + fp) * (fp + tn)) as f64;
    Ok(2.0 * num / den)
}

/// Rand index (`sklearn.metrics.rand_score`): the fraction of sample pairs on which the two
/// labelings agree.
pub fn rand_score(
    labels_true: ArrayView1<'_, f64>,
    labels_pred: ArrayView1<'_, f64>,
) -> Result<f64> {
    let [tn, fp, fne, tp] = pair_confusion("rand_score", labels_true, labels_pred)?;
    let num = tn + tp;
    let den = tn + fp + fne + tp;
    if num == den || den == 0 {
        return Ok(1.0);
    }
    Ok(num as f64 / den as f64)
}

/// The pair confusion matrix `[tn, fp, fn, tp]` (`sklearn.metrics.cluster.pair_confusion_matrix`).
fn pair_confusion(ctx: &str, a: ArrayView1<'_, f64>, b: ArrayView1<'_, f64>) -> Result<[i128; 4]> {
    check_pair(ctx, a, b)?;
    let c = contingency(a, b);
    let n = i128::from(c.n);
    let sum_sq: i128 = c
        .cells
        .iter()
        .map(|&(_, _, v)| i128::from(v) * i128::from(v))
        .sum();
    let dot_k: i128 = c
        .cells
        .iter()
        .map(|&(_, j, v)| i128::from(v) * i128::from(c.cols[j]))
        .sum();
    let dot_c: i128 = c
        .cells
        .iter()
        .map(|&(i, _, v)| i128::from(v) * i128::from(c.rows[i]))
        .sum();
    let tp = sum_sq - n;
    let fp = dot_k - sum_sq;
    let fne = dot_c - sum_sq;
    let tn = n * n - fp - fne - sum_sq;
    Ok([tn, fp, fne, tp])
}

fn mutual_info(c: &Contingency) -> f64 {
    if c.rows.len() == 1 || c.cols.len() == 1 {
        return 0.0;
    }
    let total = c.n as f64;
    let ln_total = total.ln();
    let ln_pi_sum = (c.rows.iter().sum::<i64>() as f64).ln();
    let ln_pj_sum = (c.cols.iter().sum::<i64>() as f64).ln();
    let terms: Vec<f64> = c
        .cells
        .iter()
        .map(|&(i, j, v)| {
            let nm = v as f64 / total;
            let outer = (c.rows[i] * c.cols[j]) as f64;
            let log_outer = -outer.ln() + ln_pi_sum + ln_pj_sum;
            let mi = nm * ((v as f64).ln() - ln_total) + nm * log_outer;
            if mi.abs() < f64::EPSILON {
                0.0
            } else {
                mi
            }
        })
        .collect();
    check::np_sum(&terms).max(0.0)
}

fn entropy(counts: &[i64]) -> f64 {
    if counts.len() == 1 {
        return 0.0;
    }
    let pi: Vec<f64> = counts.iter().map(|&c| c as f64).collect();
    let s = check::np_sum(&pi);
    let ln_s = s.ln();
    let terms: Vec<f64> = pi.iter().map(|p| (p / s) * (p.ln() - ln_s)).collect();
    -check::np_sum(&terms)
}

/// Mutual information between two labelings, in nats (`sklearn.metrics.mutual_info_score`).
pub fn mutual_info_score(
    labels_true: ArrayView1<'_, f64>,
    labels_pred: ArrayView1<'_, f64>,
) -> Result<f64> {
    check_pair("mutual_info_score", labels_true, labels_pred)?;
    Ok(mutual_info(&contingency(labels_true, labels_pred)))
}

/// How [`normalized_mutual_info_score`] averages the two entropies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AverageMethod {
    /// The smaller entropy.
    Min,
    /// The geometric mean.
    Geometric,
    /// The arithmetic mean (scikit-learn's default).
    #[default]
    Arithmetic,
    /// The larger entropy.
    Max,
}

/// Normalized mutual information (`sklearn.metrics.normalized_mutual_info_score`): mutual
/// information divided by an average of the two entropies; 1 for identical partitions.
pub fn normalized_mutual_info_score(
    labels_true: ArrayView1<'_, f64>,
    labels_pred: ArrayView1<'_, f64>,
    average_method: AverageMethod,
) -> Result<f64> {
    check_pair("normalized_mutual_info_score", labels_true, labels_pred)?;
    let c = contingency(labels_true, labels_pred);
    if c.rows.len() == 1 && c.cols.len() == 1 {
        return Ok(1.0);
    }
    let mi = mutual_info(&c);
    if mi == 0.0 {
        return Ok(0.0);
    }
    let (u, v) = (entropy(&c.rows), entropy(&c.cols));
    let norm = match average_method {
        AverageMethod::Min => u.min(v),
        AverageMethod::Geometric => (u * v).sqrt(),
        AverageMethod::Arithmetic => (u + v) / 2.0,
        AverageMethod::Max => u.max(v),
    };
    Ok(mi / norm)
}

/// Homogeneity, completeness and V-measure (`sklearn.metrics.homogeneity_completeness_v_measure`);
/// `beta` weights completeness against homogeneity in the V-measure (default 1).
pub fn homogeneity_completeness_v_measure(
    labels_true: ArrayView1<'_, f64>,
    labels_pred: ArrayView1<'_, f64>,
    beta: f64,
) -> Result<(f64, f64, f64)> {
    check_pair(
        "homogeneity_completeness_v_measure",
        labels_true,
        labels_pred,
    )?;
    if beta.is_nan() || beta < 0.0 {
        return Err(Error::param("beta", beta, "a number >= 0"));
    }
    let c = contingency(labels_true, labels_pred);
    let (hc, hk) = (entropy(&c.rows), entropy(&c.cols));
    let mi = mutual_info(&c);
    let h = if hc != 0.0 { mi / hc } else { 1.0 };
    let cm = if hk != 0.0 { mi / hk } else { 1.0 };
    let v = if h + cm == 0.0 {
        0.0
    } else {
        (1.0 + beta) * h * cm / (beta * h + cm)
    };
    Ok((h, cm, v))
}

/// Homogeneity: each cluster holds members of a single class.
pub fn homogeneity_score(a: ArrayView1<'_, f64>, b: ArrayView1<'_, f64>) -> Result<f64> {
    Ok(homogeneity_completeness_v_measure(a, b, 1.0)?.0)
}

/// Completeness: all members of a class are in the same cluster.
pub fn completeness_score(a: ArrayView1<'_, f64>, b: ArrayView1<'_, f64>) -> Result<f64> {
    Ok(homogeneity_completeness_v_measure(a, b, 1.0)?.1)
}

/// V-measure: the harmonic mean of homogeneity and completeness.
pub fn v_measure_score(a: ArrayView1<'_, f64>, b: ArrayView1<'_, f64>) -> Result<f64> {
    Ok(homogeneity_completeness_v_measure(a, b, 1.0)?.2)
}
