//! The confusion matrix and the per-class counts (true positives, predicted and true totals)
//! that precision, recall, F-scores and Jaccard are built from.

use ndarray::{Array2, ArrayView1};

use crate::error::{Error, Result};
use crate::evaluate::metrics::check;

/// How [`confusion_matrix`] normalizes its counts (scikit-learn's `normalize`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Normalize {
    /// Each row (true class) sums to 1.
    True,
    /// Each column (predicted class) sums to 1.
    Pred,
    /// The whole matrix sums to 1.
    All,
}

/// Validated classification targets: equal lengths, non-empty, integer labels, valid weights,
/// and the sorted union of the labels present in either vector.
pub(crate) struct Targets<'a> {
    pub y_true: ArrayView1<'a, f64>,
    pub y_pred: ArrayView1<'a, f64>,
    pub w: Option<ArrayView1<'a, f64>>,
    pub present: Vec<f64>,
}

/// Checks `y_true` / `y_pred` / `sample_weight` for a classification metric named `ctx`.
pub(crate) fn targets<'a, 'b: 'a, 'c: 'a, 'd: 'a>(
    ctx: &str,
    y_true: ArrayView1<'b, f64>,
    y_pred: ArrayView1<'c, f64>,
    w: Option<ArrayView1<'d, f64>>,
) -> Result<Targets<'a>> {
    let (y_true, y_pred) = (y_true.reborrow(), y_pred.reborrow());
    let w = w.map(|w| w.reborrow());
    check::same_len(ctx, ("y_true", y_true.len()), ("y_pred", y_pred.len()))?;
    check::non_empty(ctx, "y_true", y_true.len())?;
    check::class_labels(ctx, "y_true", y_true)?;
    check::class_labels(ctx, "y_pred", y_pred)?;
    let w = check::weights(ctx, w, y_true.len())?;
    let present = check::unique_sorted([y_true, y_pred]);
    Ok(Targets {
        y_true,
        y_pred,
        w,
        present,
    })
}

/// Maps label values to their position in `labels` (any order); `None` for other values.
pub(crate) struct LabelIndex {
    sorted: Vec<(f64, usize)>,
}

impl LabelIndex {
    pub(crate) fn new(labels: &[f64]) -> Self {
        let mut sorted: Vec<(f64, usize)> = labels
            .iter()
            .copied()
            .enumerate()
            .map(|(i, l)| (l, i))
            .collect();
        sorted.sort_by(|a, b| a.0.total_cmp(&b.0));
        Self { sorted }
    }

    pub(crate) fn get(&self, x: f64) -> Option<usize> {
        self.sorted
            .binary_search_by(|p| p.0.total_cmp(&x))
            .ok()
            .and_then(|i| self.sorted.get(i))
            .map(|p| p.1)
    }
}

/// The confusion matrix `C[i, j]`: the (weighted) number of samples of true label
/// `labels[i]` predicted as `labels[j]`, as `sklearn.metrics.confusion_matrix`.
///
/// `labels` defaults to the sorted union of the labels in `y_true` and `y_pred`; samples
/// whose true or predicted label is not in `labels` are left out. Given labels of which none
/// occurs in `y_true` are an error, as in scikit-learn. Normalization divides by row, column
/// or total sums, and a 0/0 cell becomes 0.
///
/// ```
/// use ndarray::arr1;
/// use amlis::evaluate::metrics::confusion_matrix;
///
/// let cm = confusion_matrix(arr1(&[0., 1., 1.]).view(), arr1(&[0., 0., 1.]).view(), None, None, None)?;
/// assert_eq!(cm, ndarray::arr2(&[[1., 0.], [1., 1.]]));
/// # Ok::<(), amlis::Error>(())
/// ```
pub fn confusion_matrix(
    y_true: ArrayView1<'_, f64>,
    y_pred: ArrayView1<'_, f64>,
    labels: Option<&[f64]>,
    sample_weight: Option<ArrayView1<'_, f64>>,
    normalize: Option<Normalize>,
) -> Result<Array2<f64>> {
    const CTX: &str = "confusion_matrix";
    let t = targets(CTX, y_true, y_pred, sample_weight)?;
    let labels: Vec<f64> = match labels {
        None => t.present.clone(),
        Some(l) => {
            check::label_list(CTX, l)?;
            if !t.y_true.iter().any(|y| l.contains(y)) {
                return Err(Error::InvalidArgument(format!(
                    "{CTX}: at least one label specified must be in y_true; labels = {l:?}"
                )));
            }
            l.to_vec()
        }
    };
    let index = LabelIndex::new(&labels);
    let k = labels.len();
    let mut cm = Array2::<f64>::zeros((k, k));
    for i in 0..t.y_true.len() {
        if let (Some(a), Some(b)) = (index.get(t.y_true[i]), index.get(t.y_pred[i])) {
            cm[[a, b]] += t.w.map_or(1.0, |w| w[i]);
        }
    }
    if let Some(n) = normalize {
        let fix = |x: f64| if x.is_nan() { 0.0 } else { x };
        match n {
            Normalize::True => {
                for mut row in cm.rows_mut() {
                    let s: f64 = row.sum();
                    row.mapv_inplace(|x| fix(x / s));
                }
            }
            Normalize::Pred => {
                for mut col in cm.columns_mut() {
                    let s: f64 = col.sum();
                    col.mapv_inplace(|x| fix(x / s));
                }
            }
            Normalize::All => {
                let s: f64 = cm.sum();
                cm.mapv_inplace(|x| fix(x / s));
            }
        }
    }
    Ok(cm)
}

/// Per-label counts in the order of the selected labels: true positives, predicted
/// totals and true totals (weighted), computed as scikit-learn's
/// `multilabel_confusion_matrix` does (including its `tp + (pred - tp)` round trip).
pub(crate) struct ClassCounts {
    pub labels: Vec<f64>,
    pub tp: Vec<f64>,
    pub pred: Vec<f64>,
    pub truth: Vec<f64>,
}

/// Counts for `labels` (default: every present label).
pub(crate) fn class_counts(t: &Targets<'_>, labels: Option<&[f64]>) -> ClassCounts {
    let labels: Vec<f64> = labels.map_or_else(|| t.present.clone(), <[f64]>::to_vec);
    // Accumulate over every label that occurs, then select, as scikit-learn does.
    let index = LabelIndex::new(&labels);
    let mut all = labels.clone();
    all.extend(t.present.iter().filter(|p| index.get(**p).is_none()));
    let all_index = LabelIndex::new(&all);
    let m = all.len();
    let (mut tp, mut pred, mut truth) = (vec![0.0; m], vec![0.0; m], vec![0.0; m]);
    for i in 0..t.y_true.len() {
        let w = t.w.map_or(1.0, |w| w[i]);
        let (a, b) = (all_index.get(t.y_true[i]), all_index.get(t.y_pred[i]));
        if let Some(a) = a {
            truth[a] += w;
            if t.y_true[i] == t.y_pred[i] {
                tp[a] += w;
            }
        }
        if let Some(b) = b {
            pred[b] += w;
        }
    }
    let k = labels.len();
    let tp: Vec<f64> = tp[..k].to_vec();
    let pred: Vec<f64> = (0..k).map(|j| tp[j] + (pred[j] - tp[j])).collect();
    let truth: Vec<f64> = (0..k).map(|j| tp[j] + (truth[j] - tp[j])).collect();
    ClassCounts {
        labels,
        tp,
        pred,
        truth,
    }
}
