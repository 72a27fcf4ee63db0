//! Label metrics: accuracy, balanced accuracy, precision / recall / F-beta (binary, micro,
//! macro, weighted, per class), Jaccard, Matthews correlation, Cohen's kappa, Hamming loss and
//! top-k accuracy, each with scikit-learn's semantics.
//!
//! Labels are class values stored as `f64`; they must be finite integers (scikit-learn
//! refuses "continuous" targets in these metrics). Where scikit-learn warns and substitutes a
//! value (an undefined precision, say), amlis substitutes the same value without a warning.

use ndarray::{ArrayView1, ArrayView2};

use crate::error::{Error, Result};
use crate::evaluate::metrics::check;
use crate::evaluate::metrics::confusion::{class_counts, confusion_matrix, targets, LabelIndex};

/// How per-class scores are combined (scikit-learn's `average`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Average {
    /// Only the class `pos_label` (binary targets only).
    Binary,
    /// Counts pooled over classes first.
    Micro,
    /// Unweighted mean of the per-class scores.
    Macro,
    /// Mean of the per-class scores weighted by each class's true count (support).
    Weighted,
}

impl Average {
    /// scikit-learn's name of the setting.
    pub fn as_str(self) -> &'static str {
        match self {
            Average::Binary => "binary",
            Average::Micro => "micro",
            Average::Macro => "macro",
            Average::Weighted => "weighted",
        }
    }
}

/// Settings of precision, recall, F-beta and Jaccard (scikit-learn's keyword arguments).
#[derive(Debug, Clone, PartialEq)]
pub struct PrfOptions {
    /// `None` gives one score per label; the default is [`Average::Binary`].
    pub average: Option<Average>,
    /// The positive class for [`Average::Binary`] (default 1).
    pub pos_label: f64,
    /// The labels to score, in this order (default: every label present, sorted).
    pub labels: Option<Vec<f64>>,
    /// The value of an undefined ratio (0/0): 0 (scikit-learn's default `"warn"`), 1 or NaN.
    pub zero_division: f64,
}

impl Default for PrfOptions {
    fn default() -> Self {
        Self {
            average: Some(Average::Binary),
            pos_label: 1.0,
            labels: None,
            zero_division: 0.0,
        }
    }
}

impl PrfOptions {
    /// Options with the given averaging and the other defaults.
    pub fn average(average: Option<Average>) -> Self {
        Self {
            average,
            ..Self::default()
        }
    }
}

/// Precision, recall, F-beta and support, per label or averaged.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Prfs {
    /// The labels the per-class values refer to (the selected labels when averaged).
    pub labels: Vec<f64>,
    /// Precision per label, or one averaged value.
    pub precision: Vec<f64>,
    /// Recall per label, or one averaged value.
    pub recall: Vec<f64>,
    /// F-beta per label, or one averaged value.
    pub fscore: Vec<f64>,
    /// The (weighted) true count per label; `None` when averaged (as scikit-learn).
    pub support: Option<Vec<f64>>,
}

/// Accuracy: the (weighted) fraction of exact matches, or their (weighted) count when
/// `normalize` is false (`sklearn.metrics.accuracy_score`).
///
/// ```
/// use ndarray::arr1;
/// let acc = amlis::evaluate::metrics::accuracy_score(arr1(&[0., 1., 2.]).view(), arr1(&[0., 2., 2.]).view(), true, None)?;
/// assert!((acc - 2.0 / 3.0).abs() < 1e-15);
/// # Ok::<(), amlis::Error>(())
/// ```
pub fn accuracy_score(
    y_true: ArrayView1<'_, f64>,
    y_pred: ArrayView1<'_, f64>,
    normalize: bool,
    sample_weight: Option<ArrayView1<'_, f64>>,
) -> Result<f64> {
    const CTX: &str = "accuracy_score";
    let t = targets(CTX, y_true, y_pred, sample_weight)?;
    let hits = indicator(t.y_true, t.y_pred, |a, b| a == b);
    check::average_or_sum(CTX, &hits, t.w, normalize)
}

/// Hamming loss: the (weighted) fraction of mismatches (`sklearn.metrics.hamming_loss`).
pub fn hamming_loss(
    y_true: ArrayView1<'_, f64>,
    y_pred: ArrayView1<'_, f64>,
    sample_weight: Option<ArrayView1<'_, f64>>,
) -> Result<f64> {
    const CTX: &str = "hamming_loss";
    let t = targets(CTX, y_true, y_pred, sample_weight)?;
    let miss = indicator(t.y_true, t.y_pred, |a, b| a != b);
    check::average(CTX, &miss, t.w)
}

fn indicator(
    a: ArrayView1<'_, f64>,
    b: ArrayView1<'_, f64>,
    f: impl Fn(f64, f64) -> bool,
) -> Vec<f64> {
    a.iter()
        .zip(b.iter())
        .map(|(&x, &y)| if f(x, y) { 1.0 } else { 0.0 })
        .collect()
}

/// Balanced accuracy: the mean recall over the classes present in `y_true`; `adjusted`
/// rescales it so that chance scores 0 (`sklearn.metrics.balanced_accuracy_score`).
pub fn balanced_accuracy_score(
    y_true: ArrayView1<'_, f64>,
    y_pred: ArrayView1<'_, f64>,
    adjusted: bool,
    sample_weight: Option<ArrayView1<'_, f64>>,
) -> Result<f64> {
    let c = confusion_matrix(y_true, y_pred, None, sample_weight, None)?;
    let per_class: Vec<f64> = c
        .rows()
        .into_iter()
        .enumerate()
        .map(|(i, row)| row[i] / check::np_sum(&row.to_vec()))
        .filter(|x| !x.is_nan())
        .collect();
    let mut score = check::np_mean(&per_class);
    if adjusted {
        let chance = 1.0 / per_class.len() as f64;
        score -= chance;
        score /= 1.0 - chance;
    }
    Ok(score)
}

fn validate_prf(ctx: &str, beta: f64, opts: &PrfOptions) -> Result<()> {
    if beta.is_nan() || beta < 0.0 {
        return Err(Error::param(
            "beta",
            beta,
            "a number >= 0 (infinity allowed)",
        ));
    }
    let z = opts.zero_division;
    if !(z == 0.0 || z == 1.0 || z.is_nan()) {
        return Err(Error::param("zero_division", z, "0, 1 or NaN"));
    }
    if let Some(l) = &opts.labels {
        check::label_list(ctx, l)?;
    }
    Ok(())
}

/// The labels to score for binary averaging, with scikit-learn's checks.
fn binary_labels(ctx: &str, present: &[f64], pos_label: f64) -> Result<Vec<f64>> {
    if present.len() > 2 {
        return Err(Error::InvalidArgument(format!(
            "{ctx}: target is multiclass ({} labels: {present:?}) but average='binary'; \
             choose another average setting, one of None, 'micro', 'macro', 'weighted'",
            present.len()
        )));
    }
    if !present.contains(&pos_label) && present.len() >= 2 {
        return Err(Error::param(
            "pos_label",
            pos_label,
            &format!("one of the labels present, {present:?}"),
        ));
    }
    Ok(vec![pos_label])
}

/// `num / den` elementwise, `zero_division` where `den == 0` (scikit-learn's `_prf_divide`).
fn prf_divide(num: &[f64], den: &[f64], zero_division: f64) -> Vec<f64> {
    num.iter()
        .zip(den)
        .map(|(&n, &d)| if d == 0.0 { zero_division } else { n / d })
        .collect()
}

/// scikit-learn's `_nanaverage`: the mean ignoring NaN, optionally weighted; all weights
/// zero falls back to the unweighted mean.
fn nanaverage(a: &[f64], w: Option<&[f64]>) -> f64 {
    if a.is_empty() || a.iter().all(|x| x.is_nan()) {
        return f64::NAN;
    }
    match w {
        None => {
            let zeroed: Vec<f64> = a
                .iter()
                .map(|&x| if x.is_nan() { 0.0 } else { x })
                .collect();
            let count = a.iter().filter(|x| !x.is_nan()).count();
            check::np_sum(&zeroed) / count as f64
        }
        Some(w) => {
            let (a, w): (Vec<f64>, Vec<f64>) = a
                .iter()
                .zip(w)
                .filter(|(x, _)| !x.is_nan())
                .map(|(x, w)| (*x, *w))
                .unzip();
            let scale = check::np_sum(&w);
            if scale == 0.0 {
                return check::np_mean(&a);
            }
            check::dot(&a, &w) / scale
        }
    }
}

/// Precision, recall, F-beta and support (`sklearn.metrics.precision_recall_fscore_support`).
///
/// With `opts.average == None` every vector holds one value per label; otherwise each holds
/// one averaged value and `support` is `None`.
pub fn precision_recall_fscore_support(
    y_true: ArrayView1<'_, f64>,
    y_pred: ArrayView1<'_, f64>,
    beta: f64,
    opts: &PrfOptions,
    sample_weight: Option<ArrayView1<'_, f64>>,
) -> Result<Prfs> {
    const CTX: &str = "precision_recall_fscore_support";
    validate_prf(CTX, beta, opts)?;
    let t = targets(CTX, y_true, y_pred, sample_weight)?;
    let labels = match opts.average {
        Some(Average::Binary) => Some(binary_labels(CTX, &t.present, opts.pos_label)?),
        _ => opts.labels.clone(),
    };
    let c = class_counts(&t, labels.as_deref());
    let (mut tp, mut pred, mut truth) = (c.tp, c.pred, c.truth);
    if opts.average == Some(Average::Micro) {
        tp = vec![check::np_sum(&tp)];
        pred = vec![check::np_sum(&pred)];
        truth = vec![check::np_sum(&truth)];
    }
    let z = opts.zero_division;
    let precision = prf_divide(&tp, &pred, z);
    let recall = prf_divide(&tp, &truth, z);
    let fscore = if beta.is_infinite() {
        recall.clone()
    } else if beta == 0.0 {
        precision.clone()
    } else {
        let b2 = beta * beta;
        let num: Vec<f64> = tp.iter().map(|x| (1.0 + b2) * x).collect();
        let den: Vec<f64> = truth.iter().zip(&pred).map(|(t, p)| b2 * t + p).collect();
        prf_divide(&num, &den, z)
    };
    match opts.average {
        None => Ok(Prfs {
            labels: c.labels,
            precision,
            recall,
            fscore,
            support: Some(truth),
        }),
        Some(avg) => {
            let w = (avg == Average::Weighted).then_some(truth.as_slice());
            Ok(Prfs {
                labels: c.labels,
                precision: vec![nanaverage(&precision, w)],
                recall: vec![nanaverage(&recall, w)],
                fscore: vec![nanaverage(&fscore, w)],
                support: None,
            })
        }
    }
}

/// Which of precision, recall, F-beta to return from [`prf_scalar`].
#[derive(Clone, Copy)]
enum Which {
    Precision,
    Recall,
    FScore,
}

fn prf_scalar(
    name: &str,
    which: Which,
    y_true: ArrayView1<'_, f64>,
    y_pred: ArrayView1<'_, f64>,
    beta: f64,
    opts: &PrfOptions,
    w: Option<ArrayView1<'_, f64>>,
) -> Result<f64> {
    if opts.average.is_none() {
        return Err(Error::param(
            "average",
            "None",
            &format!(
                "binary, micro, macro or weighted for {name}; per-label values come from \
                 precision_recall_fscore_support"
            ),
        ));
    }
    let r = precision_recall_fscore_support(y_true, y_pred, beta, opts, w)?;
    let v = match which {
        Which::Precision => r.precision,
        Which::Recall => r.recall,
        Which::FScore => r.fscore,
    };
    Ok(v.first().copied().unwrap_or(f64::NAN))
}

/// Defines a precision / recall / F1 function: [`prf_scalar`] with `beta = 1`.
macro_rules! prf_metric {
    ($(#[$doc:meta])* $name:ident, $which:expr) => {
        $(#[$doc])*
        pub fn $name(
            y_true: ArrayView1<'_, f64>,
            y_pred: ArrayView1<'_, f64>,
            opts: &PrfOptions,
            sample_weight: Option<ArrayView1<'_, f64>>,
        ) -> Result<f64> {
            prf_scalar(stringify!($name), $which, y_true, y_pred, 1.0, opts, sample_weight)
        }
    };
}

prf_metric!(
    /// Precision `tp / (tp + fp)`, averaged as `opts.average` says (`sklearn.metrics.precision_score`).
    precision_score,
    Which::Precision
);

prf_metric!(
    /// Recall `tp / (tp + fn)`, averaged as `opts.average` says (`sklearn.metrics.recall_score`).
    recall_score,
    Which::Recall
);

prf_metric!(
    /// F1, the harmonic mean of precision and recall (`sklearn.metrics.f1_score`).
    ///
    /// ```
    /// use ndarray::arr1;
    /// use amlis::evaluate::metrics::{f1_score, Average, PrfOptions};
    /// let y = arr1(&[0., 1., 2., 0., 1., 2.]);
    /// let p = arr1(&[0., 2., 1., 0., 0., 1.]);
    /// let f = f1_score(y.view(), p.view(), &PrfOptions::average(Some(Average::Macro)), None)?;
    /// assert!((f - 0.26666666666666666).abs() < 1e-15);
    /// # Ok::<(), amlis::Error>(())
    /// ```
    f1_score,
    Which::FScore
);

/// F-beta: recall weighted `beta` times as much as precision (`sklearn.metrics.fbeta_score`).
pub fn fbeta_score(
    y_true: ArrayView1<'_, f64>,
    y_pred: ArrayView1<'_, f64>,
    beta: f64,
    opts: &PrfOptions,
    sample_weight: Option<ArrayView1<'_, f64>>,
) -> Result<f64> {
    prf_scalar(
        "fbeta_score",
        Which::FScore,
        y_true,
        y_pred,
        beta,
        opts,
        sample_weight,
    )
}

/// Jaccard index `tp / (tp + fp + fn)` per label or averaged (`sklearn.metrics.jaccard_score`);
/// per-label values are returned as a vector (one value when averaged).
pub fn jaccard_score(
    y_true: ArrayView1<'_, f64>,
    y_pred: ArrayView1<'_, f64>,
    opts: &PrfOptions,
    sample_weight: Option<ArrayView1<'_, f64>>,
) -> Result<Vec<f64>> {
    const CTX: &str = "jaccard_score";
    validate_prf(CTX, 1.0, opts)?;
    let t = targets(CTX, y_true, y_pred, sample_weight)?;
    let labels = match opts.average {
        Some(Average::Binary) => Some(binary_labels(CTX, &t.present, opts.pos_label)?),
        _ => opts.labels.clone(),
    };
    let c = class_counts(&t, labels.as_deref());
    let fp: Vec<f64> = c.pred.iter().zip(&c.tp).map(|(p, t)| p - t).collect();
    let fneg: Vec<f64> = c.truth.iter().zip(&c.tp).map(|(p, t)| p - t).collect();
    let mut num = c.tp.clone();
    let mut den: Vec<f64> = (0..num.len()).map(|i| c.tp[i] + fp[i] + fneg[i]).collect();
    if opts.average == Some(Average::Micro) {
        num = vec![check::np_sum(&num)];
        den = vec![check::np_sum(&den)];
    }
    let j = prf_divide(&num, &den, opts.zero_division);
    Ok(match opts.average {
        None => j,
        Some(Average::Weighted) => {
            let w: Vec<f64> = (0..c.tp.len()).map(|i| fneg[i] + c.tp[i]).collect();
            if w.iter().all(|x| *x == 0.0) {
                vec![check::np_mean(&j)]
            } else {
                vec![check::dot(&j, &w) / check::np_sum(&w)]
            }
        }
        Some(_) => vec![check::np_mean(&j)],
    })
}

/// Matthews correlation coefficient, multiclass (`sklearn.metrics.matthews_corrcoef`);
/// 0 when undefined.
pub fn matthews_corrcoef(
    y_true: ArrayView1<'_, f64>,
    y_pred: ArrayView1<'_, f64>,
    sample_weight: Option<ArrayView1<'_, f64>>,
) -> Result<f64> {
    let c = confusion_matrix(y_true, y_pred, None, sample_weight, None)?;
    let (t_sum, p_sum) = check::axis_sums(c.view());
    let n_correct = c.diag().iter().fold(0.0, |s, x| s + x);
    let n = check::np_sum(&p_sum);
    let cov_ytyp = n_correct * n - check::dot(&t_sum, &p_sum);
    let cov_ypyp = n * n - check::dot(&p_sum, &p_sum);
    let cov_ytyt = n * n - check::dot(&t_sum, &t_sum);
    let prod = cov_ypyp * cov_ytyt;
    Ok(if prod == 0.0 {
        0.0
    } else {
        cov_ytyp / prod.sqrt()
    })
}

/// Disagreement weights of [`cohen_kappa_score`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KappaWeights {
    /// Every disagreement costs 1.
    None,
    /// Cost `|i - j|` between label positions.
    Linear,
    /// Cost `(i - j)^2` between label positions.
    Quadratic,
}

/// Cohen's kappa between two raters (`sklearn.metrics.cohen_kappa_score`); NaN where
/// scikit-learn's default `replace_undefined_by=np.nan` gives NaN.
pub fn cohen_kappa_score(
    y1: ArrayView1<'_, f64>,
    y2: ArrayView1<'_, f64>,
    labels: Option<&[f64]>,
    weights: KappaWeights,
    sample_weight: Option<ArrayView1<'_, f64>>,
) -> Result<f64> {
    let c = confusion_matrix(y1, y2, labels, sample_weight, None)?;
    let k = c.nrows();
    let (sum1, sum0) = check::axis_sums(c.view());
    let total = check::np_sum(&sum0);
    if total == 0.0 {
        return Ok(f64::NAN);
    }
    let mut wc = Vec::with_capacity(k * k);
    let mut we = Vec::with_capacity(k * k);
    for i in 0..k {
        for j in 0..k {
            let d = (i as f64 - j as f64).abs();
            let w = match weights {
                KappaWeights::None => f64::from(u8::from(i != j)),
                KappaWeights::Linear => d,
                KappaWeights::Quadratic => d * d,
            };
            wc.push(w * c[[i, j]]);
            we.push(w * (sum0[i] * sum1[j] / total));
        }
    }
    let den = check::np_sum(&we);
    if den == 0.0 {
        return Ok(f64::NAN);
    }
    Ok(1.0 - check::np_sum(&wc) / den)
}

/// Top-k accuracy: the (weighted) fraction of samples whose true label is among the `k`
/// highest scores (`sklearn.metrics.top_k_accuracy_score`).
///
/// `y_score` has one column per label (labels sorted, or `labels`), or a single column of
/// scores of the greater label for binary targets. Ties rank the later column first, as
/// scikit-learn's reversed stable sort does.
pub fn top_k_accuracy_score(
    y_true: ArrayView1<'_, f64>,
    y_score: ArrayView2<'_, f64>,
    k: usize,
    normalize: bool,
    labels: Option<&[f64]>,
    sample_weight: Option<ArrayView1<'_, f64>>,
) -> Result<f64> {
    const CTX: &str = "top_k_accuracy_score";
    check::non_empty(CTX, "y_true", y_true.len())?;
    check::class_labels(CTX, "y_true", y_true)?;
    check::same_len(CTX, ("y_true", y_true.len()), ("y_score", y_score.nrows()))?;
    check::finite2(CTX, "y_score", y_score)?;
    let w = check::weights(CTX, sample_weight, y_true.len())?;
    if k == 0 {
        return Err(Error::param("k", k, "an integer >= 1"));
    }
    let present = check::unique_sorted([y_true]);
    let binary = present.len() <= 2 && labels.is_none_or(|l| l.len() <= 2);
    let ncols = y_score.ncols();
    if binary && ncols != 1 {
        return Err(Error::shape(
            CTX,
            "y_score with 1 column (binary y_true); if y_true lacks some labels, pass `labels`",
            format!("{ncols} columns"),
        ));
    }
    let n_score_classes = if binary { 2 } else { ncols };
    let classes: Vec<f64> = match labels {
        None => {
            if present.len() != n_score_classes {
                return Err(Error::shape(
                    CTX,
                    format!(
                        "as many classes in y_score as in y_true ({})",
                        present.len()
                    ),
                    format!(
                        "{n_score_classes} classes in y_score; pass `labels` to name all classes"
                    ),
                ));
            }
            present
        }
        Some(l) => {
            check::label_list(CTX, l)?;
            if l.windows(2).any(|p| p[0] >= p[1]) {
                return Err(Error::param(
                    "labels",
                    format!("{l:?}"),
                    "labels in increasing order",
                ));
            }
            if l.len() != n_score_classes {
                return Err(Error::shape(
                    CTX,
                    format!("{} score classes (one per label)", l.len()),
                    format!("{n_score_classes} classes in y_score"),
                ));
            }
            if let Some(i) = y_true.iter().position(|y| !l.contains(y)) {
                return Err(Error::InvalidValue {
                    context: CTX.into(),
                    row: i,
                    column: Some("y_true".into()),
                    message: format!("label {} is not in `labels` {l:?}", y_true[i]),
                });
            }
            l.to_vec()
        }
    };
    let index = LabelIndex::new(&classes);
    let enc: Vec<usize> = y_true
        .iter()
        .map(|&y| index.get(y).unwrap_or(usize::MAX))
        .collect();
    let hits: Vec<f64> = if binary {
        if k == 1 {
            let col = y_score.column(0);
            let (mn, mx) = col
                .iter()
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| {
                    (a.min(x), b.max(x))
                });
            let thr = if mn >= 0.0 && mx <= 1.0 { 0.5 } else { 0.0 };
            col.iter()
                .zip(&enc)
                .map(|(&s, &e)| f64::from(u8::from(usize::from(s > thr) == e)))
                .collect()
        } else {
            vec![1.0; y_true.len()]
        }
    } else {
        y_score
            .rows()
            .into_iter()
            .zip(&enc)
            .map(|(row, &c)| {
                let Some(&sc) = row.get(c) else { return 0.0 };
                let above = row
                    .iter()
                    .enumerate()
                    .filter(|&(j, &s)| s > sc || (s == sc && j > c))
                    .count();
                f64::from(u8::from(above < k))
            })
            .collect()
    };
    check::average_or_sum(CTX, &hits, w, normalize)
}
