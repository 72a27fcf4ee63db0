//! Ranking metrics: ROC and precision-recall curves, the area under a curve, ROC AUC (binary,
//! multiclass one-vs-rest and one-vs-one) and average precision, as scikit-learn computes
//! them: thresholds at the distinct score values, ties grouped, weights accumulated in score
//! order, and ROC points on straight segments dropped.

use ndarray::{Array2, ArrayView1, ArrayView2, Axis};

use crate::error::{Error, Result};
use crate::evaluate::metrics::check;
use crate::evaluate::metrics::classification::Average;

/// A ROC curve: false and true positive rates at decreasing thresholds.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RocCurve {
    /// False positive rate at each threshold (NaN everywhere if there is no negative sample).
    #[serde(with = "crate::common::json_float::vec")]
    pub fpr: Vec<f64>,
    /// True positive rate at each threshold (NaN everywhere if there is no positive sample).
    #[serde(with = "crate::common::json_float::vec")]
    pub tpr: Vec<f64>,
    /// Decreasing thresholds; the first is `+inf` (no sample predicted positive), written to
    /// JSON as the string `"inf"` (non-finite values are strings, see `json_float`).
    #[serde(with = "crate::common::json_float::vec")]
    pub thresholds: Vec<f64>,
}

/// A precision-recall curve at increasing thresholds, ending at (recall 0, precision 1).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PrCurve {
    /// Precision at each threshold, then 1.
    #[serde(with = "crate::common::json_float::vec")]
    pub precision: Vec<f64>,
    /// Recall at each threshold, then 0.
    #[serde(with = "crate::common::json_float::vec")]
    pub recall: Vec<f64>,
    /// Increasing thresholds (one fewer than the points).
    #[serde(with = "crate::common::json_float::vec")]
    pub thresholds: Vec<f64>,
}

/// How a multiclass ROC AUC pairs the classes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MultiClass {
    /// One class against the rest, per class.
    Ovr,
    /// Every pair of classes (Hand & Till).
    Ovo,
}

/// The positive label, as scikit-learn's `_check_pos_label_consistency`.
fn pos_label_of(ctx: &str, present: &[f64], pos_label: Option<f64>) -> Result<f64> {
    if let Some(p) = pos_label {
        return Ok(p);
    }
    if !check::standard_binary(present) {
        return Err(Error::param(
            "pos_label",
            "None",
            &format!(
                "an explicit positive label in {ctx}: y_true takes values {present:?}, not \
                 {{0, 1}} or {{-1, 1}}"
            ),
        ));
    }
    Ok(1.0)
}

/// Checked binary inputs: (y_true as 0/1 of the positive label, scores, weights).
struct BinaryInput {
    y: Vec<f64>,
    s: Vec<f64>,
    w: Option<Vec<f64>>,
}

fn binary_input(
    ctx: &str,
    y_true: ArrayView1<'_, f64>,
    y_score: ArrayView1<'_, f64>,
    pos_label: Option<f64>,
    w: Option<ArrayView1<'_, f64>>,
) -> Result<BinaryInput> {
    check::same_len(ctx, ("y_true", y_true.len()), ("y_score", y_score.len()))?;
    check::non_empty(ctx, "y_true", y_true.len())?;
    check::class_labels(ctx, "y_true", y_true)?;
    check::finite(ctx, "y_score", y_score)?;
    let w = check::weights(ctx, w, y_true.len())?;
    let present = check::unique_sorted([y_true]);
    if present.len() > 2 && pos_label.is_none() {
        return Err(Error::InvalidArgument(format!(
            "{ctx}: y_true is multiclass ({} labels) and no pos_label was given; a binary curve \
             needs two classes or an explicit pos_label",
            present.len()
        )));
    }
    let pos = pos_label_of(ctx, &present, pos_label)?;
    let mut out = BinaryInput {
        y: Vec::with_capacity(y_true.len()),
        s: Vec::with_capacity(y_true.len()),
        w: w.map(|_| Vec::with_capacity(y_true.len())),
    };
    for i in 0..y_true.len() {
        let wi = w.map_or(1.0, |w| w[i]);
        if w.is_some() && wi == 0.0 {
            continue; // scikit-learn drops zero-weight samples
        }
        out.y.push(f64::from(u8::from(y_true[i] == pos)));
        out.s.push(y_score[i]);
        if let Some(v) = out.w.as_mut() {
            v.push(wi);
        }
    }
    Ok(out)
}

/// (fps, tps, thresholds) at each distinct score, as `confusion_matrix_at_thresholds`.
fn clf_curve(b: &BinaryInput) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let n = b.y.len();
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&i, &j| b.s[j].total_cmp(&b.s[i]));
    let (mut fps, mut tps, mut thr) = (Vec::new(), Vec::new(), Vec::new());
    let (mut tp, mut fp) = (0.0, 0.0);
    for (k, &i) in order.iter().enumerate() {
        let w = b.w.as_ref().map_or(1.0, |w| w[i]);
        tp += b.y[i] * w;
        if b.w.is_some() {
            fp += (1.0 - b.y[i]) * w;
        }
        let last = order.get(k + 1).is_none_or(|&j| b.s[j] != b.s[i]);
        if last {
            tps.push(tp);
            fps.push(if b.w.is_some() {
                fp
            } else {
                1.0 + k as f64 - tp
            });
            thr.push(b.s[i]);
        }
    }
    (fps, tps, thr)
}

fn ratio_to_last(v: &[f64]) -> Vec<f64> {
    match v.last() {
        Some(&l) if l > 0.0 => v.iter().map(|x| x / l).collect(),
        _ => vec![f64::NAN; v.len()],
    }
}

/// The ROC curve of binary scores (`sklearn.metrics.roc_curve`).
///
/// `pos_label` defaults to 1 when `y_true` takes values in {0, 1} or {-1, 1}; other label
/// sets need it. `drop_intermediate` drops thresholds on straight segments of the curve.
///
/// ```
/// use ndarray::arr1;
/// let c = amlis::evaluate::metrics::roc_curve(
///     arr1(&[0., 0., 1., 1.]).view(), arr1(&[0.1, 0.4, 0.35, 0.8]).view(), None, None, true)?;
/// assert_eq!(c.tpr, vec![0.0, 0.5, 0.5, 1.0, 1.0]);
/// assert_eq!(c.thresholds[0], f64::INFINITY);
/// # Ok::<(), amlis::Error>(())
/// ```
pub fn roc_curve(
    y_true: ArrayView1<'_, f64>,
    y_score: ArrayView1<'_, f64>,
    pos_label: Option<f64>,
    sample_weight: Option<ArrayView1<'_, f64>>,
    drop_intermediate: bool,
) -> Result<RocCurve> {
    let b = binary_input("roc_curve", y_true, y_score, pos_label, sample_weight)?;
    Ok(roc_from(&b, drop_intermediate))
}

fn roc_from(b: &BinaryInput, drop_intermediate: bool) -> RocCurve {
    let (mut fps, mut tps, mut thr) = clf_curve(b);
    if drop_intermediate && fps.len() > 2 {
        let second_diff_nonzero = |v: &[f64], i: usize| {
            let d0 = v[i] - v[i - 1];
            let d1 = v[i + 1] - v[i];
            d1 - d0 != 0.0
        };
        let keep = kept_points(fps.len(), |i| {
            second_diff_nonzero(&fps, i) || second_diff_nonzero(&tps, i)
        });
        (fps, tps, thr) = (pick(&fps, &keep), pick(&tps, &keep), pick(&thr, &keep));
    }
    fps.insert(0, 0.0);
    tps.insert(0, 0.0);
    thr.insert(0, f64::INFINITY);
    RocCurve {
        fpr: ratio_to_last(&fps),
        tpr: ratio_to_last(&tps),
        thresholds: thr,
    }
}

/// The precision-recall curve of binary scores (`sklearn.metrics.precision_recall_curve`).
pub fn precision_recall_curve(
    y_true: ArrayView1<'_, f64>,
    y_score: ArrayView1<'_, f64>,
    pos_label: Option<f64>,
    sample_weight: Option<ArrayView1<'_, f64>>,
    drop_intermediate: bool,
) -> Result<PrCurve> {
    let b = binary_input(
        "precision_recall_curve",
        y_true,
        y_score,
        pos_label,
        sample_weight,
    )?;
    Ok(pr_from(&b, drop_intermediate))
}

/// The indices `0..n` a `drop_intermediate` curve keeps: the first, the last, and every
/// interior point `i` where `interior(i)` holds.
fn kept_points(n: usize, interior: impl Fn(usize) -> bool) -> Vec<usize> {
    (0..n)
        .filter(|&i| i == 0 || i == n - 1 || interior(i))
        .collect()
}

/// The values of `v` at `idx`.
fn pick(v: &[f64], idx: &[usize]) -> Vec<f64> {
    idx.iter().map(|&i| v[i]).collect()
}

fn pr_from(b: &BinaryInput, drop_intermediate: bool) -> PrCurve {
    let (mut fps, mut tps, mut thr) = clf_curve(b);
    if drop_intermediate && fps.len() > 2 {
        let keep = kept_points(tps.len(), |i| {
            tps[i] - tps[i - 1] != 0.0 || tps[i + 1] - tps[i] != 0.0
        });
        (fps, tps, thr) = (pick(&fps, &keep), pick(&tps, &keep), pick(&thr, &keep));
    }
    let mut precision: Vec<f64> = tps
        .iter()
        .zip(&fps)
        .map(|(t, f)| {
            let ps = t + f;
            if ps != 0.0 {
                t / ps
            } else {
                0.0
            }
        })
        .collect();
    let mut recall = match tps.last() {
        Some(&l) if l != 0.0 => tps.iter().map(|t| t / l).collect(),
        _ => vec![1.0; tps.len()],
    };
    precision.reverse();
    precision.push(1.0);
    recall.reverse();
    recall.push(0.0);
    thr.reverse();
    PrCurve {
        precision,
        recall,
        thresholds: thr,
    }
}

/// Area under a curve by the trapezoidal rule (`sklearn.metrics.auc`); `x` must be
/// monotonic (increasing or decreasing).
pub fn auc(x: &[f64], y: &[f64]) -> Result<f64> {
    const CTX: &str = "auc";
    check::same_len(CTX, ("x", x.len()), ("y", y.len()))?;
    if x.len() < 2 {
        return Err(Error::shape(
            CTX,
            "at least 2 points",
            format!("{} points", x.len()),
        ));
    }
    check::finite(CTX, "x", ArrayView1::from(x))?;
    check::finite(CTX, "y", ArrayView1::from(y))?;
    let dx: Vec<f64> = x.windows(2).map(|p| p[1] - p[0]).collect();
    let mut direction = 1.0;
    if dx.iter().any(|d| *d < 0.0) {
        if dx.iter().all(|d| *d <= 0.0) {
            direction = -1.0;
        } else {
            return Err(Error::InvalidArgument(format!(
                "{CTX}: x is neither increasing nor decreasing: {x:?}"
            )));
        }
    }
    Ok(direction * trapezoid(x, y))
}

fn trapezoid(x: &[f64], y: &[f64]) -> f64 {
    let terms: Vec<f64> = (1..x.len())
        .map(|i| (x[i] - x[i - 1]) * (y[i] + y[i - 1]) / 2.0)
        .collect();
    check::np_sum(&terms)
}

const ONE_CLASS: &str =
    "Only one class present in y_true. ROC AUC score is not defined in that case.";

/// AUC of a checked binary input; NaN when one class is missing (the caller decides whether
/// that is an error).
fn binary_auc(b: &BinaryInput, max_fpr: Option<f64>) -> Result<f64> {
    let has_pos = b.y.contains(&1.0);
    let has_neg = b.y.contains(&0.0);
    if !(has_pos && has_neg) {
        return Ok(f64::NAN);
    }
    let c = roc_from(b, true);
    let (fpr, tpr) = (c.fpr, c.tpr);
    match max_fpr {
        None | Some(1.0) => Ok(trapezoid(&fpr, &tpr)),
        Some(m) => {
            if !(m > 0.0 && m <= 1.0) {
                return Err(Error::param("max_fpr", m, "a number in (0, 1]"));
            }
            let stop = fpr.partition_point(|f| *f <= m);
            let (Some(&x0), Some(&x1)) = (fpr.get(stop.wrapping_sub(1)), fpr.get(stop)) else {
                return Err(Error::InvalidArgument(format!(
                    "roc_auc_score: cannot place max_fpr = {m} on the ROC curve"
                )));
            };
            let (y0, y1) = (tpr[stop - 1], tpr[stop]);
            let slope = if x1 == x0 { 0.0 } else { (y1 - y0) / (x1 - x0) };
            let yi = slope * (m - x0) + y0;
            let mut f: Vec<f64> = fpr[..stop].to_vec();
            let mut t: Vec<f64> = tpr[..stop].to_vec();
            f.push(m);
            t.push(yi);
            let partial = trapezoid(&f, &t);
            let min_area = 0.5 * m * m;
            let max_area = m;
            Ok(0.5 * (1.0 + (partial - min_area) / (max_area - min_area)))
        }
    }
}

/// Binary ROC AUC (`sklearn.metrics.roc_auc_score` on binary targets): the greater label of
/// `y_true` is positive; `max_fpr` gives the standardized partial AUC (McClish).
///
/// A `y_true` with a single class is an error ("Only one class present in y_true. ROC AUC
/// score is not defined in that case."); scikit-learn 1.9 warns and returns NaN instead.
///
/// ```
/// use ndarray::arr1;
/// let auc = amlis::evaluate::metrics::roc_auc_score(
///     arr1(&[0., 0., 1., 1.]).view(), arr1(&[0.1, 0.4, 0.35, 0.8]).view(), None, None)?;
/// assert_eq!(auc, 0.75);
/// # Ok::<(), amlis::Error>(())
/// ```
pub fn roc_auc_score(
    y_true: ArrayView1<'_, f64>,
    y_score: ArrayView1<'_, f64>,
    sample_weight: Option<ArrayView1<'_, f64>>,
    max_fpr: Option<f64>,
) -> Result<f64> {
    const CTX: &str = "roc_auc_score";
    check::class_labels(CTX, "y_true", y_true)?;
    let present = check::unique_sorted([y_true]);
    if present.len() > 2 {
        return Err(Error::InvalidArgument(format!(
            "{CTX}: y_true has {} classes; a multiclass ROC AUC needs a score matrix \
             (roc_auc_score_multiclass with ovr or ovo)",
            present.len()
        )));
    }
    if present.len() < 2 {
        return Err(Error::InvalidArgument(format!("{CTX}: {ONE_CLASS}")));
    }
    let pos = present[1];
    let b = binary_input(CTX, y_true, y_score, Some(pos), sample_weight)?;
    let v = binary_auc(&b, max_fpr)?;
    if v.is_nan() {
        return Err(Error::InvalidArgument(format!(
            "{CTX}: {ONE_CLASS} (after dropping zero-weight samples)"
        )));
    }
    Ok(v)
}

/// Classes of a score matrix: `labels` (checked: unique, increasing, one per column,
/// covering `y_true`) or the sorted labels of `y_true` (one per column).
fn score_classes(
    ctx: &str,
    y_true: ArrayView1<'_, f64>,
    ncols: usize,
    labels: Option<&[f64]>,
) -> Result<Vec<f64>> {
    match labels {
        Some(l) => {
            check::label_list(ctx, l)?;
            if l.windows(2).any(|p| p[0] >= p[1]) {
                return Err(Error::param(
                    "labels",
                    format!("{l:?}"),
                    "labels in increasing order",
                ));
            }
            if l.len() != ncols {
                return Err(Error::shape(
                    ctx,
                    format!("one y_score column per label ({})", l.len()),
                    format!("{ncols} columns"),
                ));
            }
            if let Some(i) = y_true.iter().position(|y| !l.contains(y)) {
                return Err(Error::InvalidValue {
                    context: ctx.into(),
                    row: i,
                    column: Some("y_true".into()),
                    message: format!("label {} is not in `labels` {l:?}", y_true[i]),
                });
            }
            Ok(l.to_vec())
        }
        None => {
            let c = check::unique_sorted([y_true]);
            if c.len() != ncols {
                return Err(Error::shape(
                    ctx,
                    format!(
                        "one y_score column per class in y_true ({} classes: {c:?}); pass \
                         `labels` if y_true lacks some classes",
                        c.len()
                    ),
                    format!("{ncols} columns"),
                ));
            }
            Ok(c)
        }
    }
}

/// One-hot `y_true` over `classes` (scikit-learn's `label_binarize`).
fn binarize(y_true: ArrayView1<'_, f64>, classes: &[f64]) -> Array2<f64> {
    let mut out = Array2::zeros((y_true.len(), classes.len()));
    for (i, y) in y_true.iter().enumerate() {
        if let Some(j) = check::find(classes, *y) {
            out[[i, j]] = 1.0;
        }
    }
    out
}

/// scikit-learn's `_average_binary_score` over the columns of an indicator matrix.
fn average_binary_score(
    metric: impl Fn(&BinaryInput) -> Result<f64>,
    y: &Array2<f64>,
    s: ArrayView2<'_, f64>,
    average: Average,
    w: Option<ArrayView1<'_, f64>>,
) -> Result<f64> {
    let input = |yc: Vec<f64>, sc: Vec<f64>, wc: Option<Vec<f64>>| {
        // Zero-weight samples are dropped, as in the binary metrics.
        match wc {
            None => BinaryInput {
                y: yc,
                s: sc,
                w: None,
            },
            Some(wc) => {
                let keep: Vec<usize> = (0..yc.len()).filter(|&i| wc[i] != 0.0).collect();
                BinaryInput {
                    y: keep.iter().map(|&i| yc[i]).collect(),
                    s: keep.iter().map(|&i| sc[i]).collect(),
                    w: Some(keep.iter().map(|&i| wc[i]).collect()),
                }
            }
        }
    };
    match average {
        Average::Binary => Err(Error::param(
            "average",
            "binary",
            "micro, macro or weighted for a multiclass score",
        )),
        Average::Micro => {
            let k = y.ncols();
            let wc = w.map(|w| w.iter().flat_map(|x| std::iter::repeat_n(*x, k)).collect());
            metric(&input(
                y.iter().copied().collect(),
                s.iter().copied().collect(),
                wc,
            ))
        }
        Average::Macro | Average::Weighted => {
            let k = y.ncols();
            let mut scores = Vec::with_capacity(k);
            for c in 0..k {
                scores.push(metric(&input(
                    y.column(c).to_vec(),
                    s.column(c).to_vec(),
                    w.map(|w| w.to_vec()),
                ))?);
            }
            if average == Average::Macro {
                return Ok(check::np_mean(&scores));
            }
            let aw: Vec<f64> = (0..k)
                .map(|c| {
                    let mut acc = 0.0;
                    for (i, v) in y.column(c).iter().enumerate() {
                        acc += v * w.map_or(1.0, |w| w[i]);
                    }
                    acc
                })
                .collect();
            let total = check::np_sum(&aw);
            if total.abs() <= 1e-8 {
                return Ok(0.0);
            }
            for (sc, a) in scores.iter_mut().zip(&aw) {
                if *a == 0.0 {
                    *sc = 0.0;
                }
            }
            Ok(check::dot(&scores, &aw) / total)
        }
    }
}

fn check_matrix(
    ctx: &str,
    y_true: ArrayView1<'_, f64>,
    y_score: ArrayView2<'_, f64>,
    w: Option<ArrayView1<'_, f64>>,
) -> Result<()> {
    check::non_empty(ctx, "y_true", y_true.len())?;
    check::same_len(
        ctx,
        ("y_true", y_true.len()),
        ("y_score rows", y_score.nrows()),
    )?;
    check::class_labels(ctx, "y_true", y_true)?;
    check::finite2(ctx, "y_score", y_score)?;
    check::weights(ctx, w, y_true.len())?;
    Ok(())
}

/// Multiclass ROC AUC from a probability matrix (`sklearn.metrics.roc_auc_score` with
/// `multi_class="ovr"` or `"ovo"`), averaged `Macro` or `Weighted` (and `Micro` for `Ovr`).
///
/// Column `j` scores class `labels[j]` (default: the sorted classes of `y_true`, which must
/// then number exactly one per column). Rows must sum to 1. One-vs-one takes no sample
/// weights. A class given in `labels` but absent from `y_true` makes the one-vs-rest macro
/// average NaN, as in scikit-learn.
pub fn roc_auc_score_multiclass(
    y_true: ArrayView1<'_, f64>,
    y_score: ArrayView2<'_, f64>,
    multi_class: MultiClass,
    average: Average,
    labels: Option<&[f64]>,
    sample_weight: Option<ArrayView1<'_, f64>>,
) -> Result<f64> {
    const CTX: &str = "roc_auc_score";
    check_matrix(CTX, y_true, y_score, sample_weight)?;
    if check::unique_sorted([y_true]).len() < 2 {
        return Err(Error::InvalidArgument(format!("{CTX}: {ONE_CLASS}")));
    }
    for (i, row) in y_score.rows().into_iter().enumerate() {
        let s: f64 = row.sum();
        if (1.0 - s).abs() > 1e-8 + 1e-5 * s.abs() {
            return Err(Error::InvalidValue {
                context: CTX.into(),
                row: i,
                column: Some("y_score".into()),
                message: format!(
                    "row sums to {s}; multiclass ROC AUC needs probabilities that sum to 1 over \
                     the classes"
                ),
            });
        }
    }
    if average == Average::Binary || (average == Average::Micro && multi_class == MultiClass::Ovo) {
        return Err(Error::param(
            "average",
            average.as_str(),
            "macro or weighted (micro only with ovr) for multiclass ROC AUC",
        ));
    }
    let classes = score_classes(CTX, y_true, y_score.ncols(), labels)?;
    let auc_nan_ok = |b: &BinaryInput| binary_auc(b, None);
    match multi_class {
        MultiClass::Ovr => {
            let y = binarize(y_true, &classes);
            average_binary_score(auc_nan_ok, &y, y_score, average, sample_weight)
        }
        MultiClass::Ovo => {
            if sample_weight.is_some() {
                return Err(Error::InvalidArgument(format!(
                    "{CTX}: sample_weight is not supported for multiclass one-vs-one ROC AUC"
                )));
            }
            let enc: Vec<usize> = y_true
                .iter()
                .map(|y| check::find(&classes, *y).unwrap_or(usize::MAX))
                .collect();
            let mut present: Vec<usize> = enc.clone();
            present.sort_unstable();
            present.dedup();
            let n = enc.len() as f64;
            let (mut pair_scores, mut prevalence) = (Vec::new(), Vec::new());
            for (ia, &a) in present.iter().enumerate() {
                for &b in &present[ia + 1..] {
                    let rows: Vec<usize> = (0..enc.len())
                        .filter(|&i| enc[i] == a || enc[i] == b)
                        .collect();
                    let one = |cls: usize| {
                        let bi = BinaryInput {
                            y: rows
                                .iter()
                                .map(|&i| f64::from(u8::from(enc[i] == cls)))
                                .collect(),
                            s: rows.iter().map(|&i| y_score[[i, cls]]).collect(),
                            w: None,
                        };
                        binary_auc(&bi, None)
                    };
                    pair_scores.push((one(a)? + one(b)?) / 2.0);
                    prevalence.push(rows.len() as f64 / n);
                }
            }
            Ok(match average {
                Average::Weighted => {
                    check::dot(&pair_scores, &prevalence) / check::np_sum(&prevalence)
                }
                _ => check::np_mean(&pair_scores),
            })
        }
    }
}

fn ap_of(b: &BinaryInput) -> f64 {
    let c = pr_from(b, false);
    let terms: Vec<f64> = (0..c.recall.len().saturating_sub(1))
        .map(|i| (c.recall[i + 1] - c.recall[i]) * c.precision[i])
        .collect();
    let v = -check::np_sum(&terms);
    if 0.0 >= v {
        0.0
    } else {
        v
    }
}

/// Average precision of binary scores (`sklearn.metrics.average_precision_score`): the
/// precision-weighted sum of recall steps, without interpolation.
pub fn average_precision_score(
    y_true: ArrayView1<'_, f64>,
    y_score: ArrayView1<'_, f64>,
    pos_label: f64,
    sample_weight: Option<ArrayView1<'_, f64>>,
) -> Result<f64> {
    const CTX: &str = "average_precision_score";
    check::class_labels(CTX, "y_true", y_true)?;
    let present = check::unique_sorted([y_true]);
    if present.len() > 2 {
        return Err(Error::InvalidArgument(format!(
            "{CTX}: y_true has {} classes; multiclass average precision needs a score matrix \
             (average_precision_score_multiclass)",
            present.len()
        )));
    }
    if present.len() == 2 && !present.contains(&pos_label) {
        return Err(Error::param(
            "pos_label",
            pos_label,
            &format!("one of the labels of y_true, {present:?}"),
        ));
    }
    let b = binary_input(CTX, y_true, y_score, Some(pos_label), sample_weight)?;
    Ok(ap_of(&b))
}

/// Multiclass average precision, one-vs-rest over the columns of `y_score` (one per sorted
/// class of `y_true`), averaged `Micro`, `Macro` or `Weighted`.
pub fn average_precision_score_multiclass(
    y_true: ArrayView1<'_, f64>,
    y_score: ArrayView2<'_, f64>,
    average: Average,
    sample_weight: Option<ArrayView1<'_, f64>>,
) -> Result<f64> {
    const CTX: &str = "average_precision_score";
    check_matrix(CTX, y_true, y_score, sample_weight)?;
    let classes = check::unique_sorted([y_true]);
    if classes.len() < 3 {
        return Err(Error::InvalidArgument(format!(
            "{CTX}: y_true is binary ({classes:?}); pass the positive class's scores as a vector \
             to average_precision_score"
        )));
    }
    let classes = score_classes(CTX, y_true, y_score.ncols(), None)?;
    let y = binarize(y_true, &classes);
    average_binary_score(|b| Ok(ap_of(b)), &y, y_score, average, sample_weight)
}

/// The column of a score matrix used as the positive score of a binary metric: column 1 of a
/// 2-column probability matrix, the only column of a 1-column decision score.
pub fn positive_scores<'a>(ctx: &str, y_score: ArrayView2<'a, f64>) -> Result<ArrayView1<'a, f64>> {
    match y_score.ncols() {
        1 => Ok(y_score.index_axis_move(Axis(1), 0)),
        2 => Ok(y_score.index_axis_move(Axis(1), 1)),
        k => Err(Error::shape(
            ctx,
            "a binary score: 2 probability columns or 1 decision column",
            format!("{k} columns (use a multiclass variant, e.g. roc_auc_ovr)"),
        )),
    }
}
