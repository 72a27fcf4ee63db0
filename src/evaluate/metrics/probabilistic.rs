//! Probabilistic losses: log loss (cross-entropy) and the Brier score, binary and multiclass,
//! with scikit-learn 1.9's validation.
//!
//! Like scikit-learn 1.9, probabilities outside [0, 1] are an error, probabilities are clipped
//! to `[eps, 1 - eps]` (`eps` = `f64::EPSILON`) before the logarithm, and rows that do not sum
//! to 1 are used as given (scikit-learn only warns; it no longer renormalizes).

use ndarray::{ArrayView1, ArrayView2};

use crate::error::{Error, Result};
use crate::evaluate::metrics::check;

/// Checks a probability matrix and returns, per sample, the classes (sorted) and the column of
/// each true label. A 1-column matrix is the probability of the greater class.
struct ProbInput {
    /// Column index (into the 2-or-more-column matrix) of each sample's true class.
    col: Vec<usize>,
    /// Number of classes (columns after expanding a single column to two).
    k: usize,
}

fn prob_values(ctx: &str, y_proba: ArrayView2<'_, f64>) -> Result<()> {
    check::finite2(ctx, "y_proba", y_proba)?;
    for ((i, j), &p) in y_proba.indexed_iter() {
        if !(0.0..=1.0).contains(&p) {
            return Err(Error::InvalidValue {
                context: ctx.into(),
                row: i,
                column: Some(format!("y_proba[:, {j}]")),
                message: format!("probability {p} is outside [0, 1]"),
            });
        }
    }
    Ok(())
}

fn multiclass_input(
    ctx: &str,
    y_true: ArrayView1<'_, f64>,
    y_proba: ArrayView2<'_, f64>,
    labels: Option<&[f64]>,
    w: Option<ArrayView1<'_, f64>>,
) -> Result<ProbInput> {
    check::non_empty(ctx, "y_true", y_true.len())?;
    prob_values(ctx, y_proba)?;
    check::same_len(
        ctx,
        ("y_true", y_true.len()),
        ("y_proba rows", y_proba.nrows()),
    )?;
    check::weights(ctx, w, y_true.len())?;
    check::class_labels(ctx, "y_true", y_true)?;
    let classes = match labels {
        Some(l) => {
            check::label_list(ctx, l)?;
            let mut c = l.to_vec();
            c.sort_by(f64::total_cmp);
            if let Some(i) = y_true.iter().position(|y| !c.contains(y)) {
                return Err(Error::InvalidValue {
                    context: ctx.into(),
                    row: i,
                    column: Some("y_true".into()),
                    message: format!(
                        "label {} does not belong to the passed labels {l:?}",
                        y_true[i]
                    ),
                });
            }
            if c.len() < 2 {
                return Err(Error::param(
                    "labels",
                    format!("{l:?}"),
                    "at least two labels",
                ));
            }
            c
        }
        None => {
            let c = check::unique_sorted([y_true]);
            if c.len() < 2 {
                return Err(Error::InvalidArgument(format!(
                    "{ctx}: y_true contains only one label ({}); pass all expected class labels \
                     through `labels`",
                    c.first().copied().unwrap_or(f64::NAN)
                )));
            }
            c
        }
    };
    let k = if y_proba.ncols() == 1 {
        2
    } else {
        y_proba.ncols()
    };
    if classes.len() != k {
        return Err(Error::shape(
            ctx,
            format!(
                "one y_proba column per class ({} classes: {classes:?}){}",
                classes.len(),
                if labels.is_none() {
                    "; pass `labels` if y_true lacks some classes"
                } else {
                    ""
                }
            ),
            format!("{k} columns"),
        ));
    }
    let col = y_true
        .iter()
        .map(|y| check::find(&classes, *y).unwrap_or(0))
        .collect();
    Ok(ProbInput { col, k })
}

/// Probability of class column `j` of sample `i`, expanding a single column `p` to `[1-p, p]`.
fn proba_at(y_proba: ArrayView2<'_, f64>, i: usize, j: usize) -> f64 {
    if y_proba.ncols() == 1 {
        let p = y_proba[[i, 0]];
        if j == 1 {
            p
        } else {
            1.0 - p
        }
    } else {
        y_proba[[i, j]]
    }
}

/// Log loss (`sklearn.metrics.log_loss`): the (weighted) mean, or sum when `normalize` is
/// false, of `-ln p(true class)`, with `p` clipped to `[eps, 1 - eps]`.
///
/// Column `j` of `y_proba` is the probability of the `j`-th smallest label of `labels`
/// (default: the labels of `y_true`, which must then number exactly one per column). A
/// single column is the probability of the greater of two labels.
///
/// ```
/// use ndarray::{arr1, arr2};
/// let y = arr1(&[1., 0., 0., 1.]);
/// let p = arr2(&[[0.1, 0.9], [0.9, 0.1], [0.8, 0.2], [0.35, 0.65]]);
/// let l = amlis::evaluate::metrics::log_loss(y.view(), p.view(), None, true, None)?;
/// assert!((l - 0.21616187468057912).abs() < 1e-15);
/// # Ok::<(), amlis::Error>(())
/// ```
pub fn log_loss(
    y_true: ArrayView1<'_, f64>,
    y_proba: ArrayView2<'_, f64>,
    labels: Option<&[f64]>,
    normalize: bool,
    sample_weight: Option<ArrayView1<'_, f64>>,
) -> Result<f64> {
    const CTX: &str = "log_loss";
    let inp = multiclass_input(CTX, y_true, y_proba, labels, sample_weight)?;
    let eps = f64::EPSILON;
    let loss: Vec<f64> = inp
        .col
        .iter()
        .enumerate()
        .map(|(i, &j)| -proba_at(y_proba, i, j).clamp(eps, 1.0 - eps).ln())
        .collect();
    check::average_or_sum(CTX, &loss, sample_weight, normalize)
}

/// Brier score (`sklearn.metrics.brier_score_loss`): the (weighted) mean squared distance
/// between the one-hot truth and the probabilities, summed over classes.
///
/// A 1-column `y_proba` is binary: the probability of `pos_label` (default 1 for labels in
/// {0, 1} or {-1, 1}, else the greater label). With 2 or more columns it is multiclass as in
/// [`log_loss`]. `scale_by_half` (default: fewer than 3 columns) halves the score, which makes
/// the binary score the mean of `(y - p)^2`.
pub fn brier_score_loss(
    y_true: ArrayView1<'_, f64>,
    y_proba: ArrayView2<'_, f64>,
    labels: Option<&[f64]>,
    pos_label: Option<f64>,
    sample_weight: Option<ArrayView1<'_, f64>>,
    scale_by_half: Option<bool>,
) -> Result<f64> {
    const CTX: &str = "brier_score_loss";
    let per_sample: Vec<f64> = if y_proba.ncols() == 1 {
        check::non_empty(CTX, "y_true", y_true.len())?;
        check::class_labels(CTX, "y_true", y_true)?;
        check::finite2(CTX, "y_proba", y_proba)?;
        check::same_len(
            CTX,
            ("y_true", y_true.len()),
            ("y_proba rows", y_proba.nrows()),
        )?;
        check::weights(CTX, sample_weight, y_true.len())?;
        let present = check::unique_sorted([y_true]);
        if present.len() > 2 {
            return Err(Error::InvalidArgument(format!(
                "{CTX}: y_true is multiclass ({} labels) but y_proba has one column; a binary \
                 target is expected",
                present.len()
            )));
        }
        prob_values(CTX, y_proba)?;
        let pos = match pos_label {
            Some(p) => p,
            None if check::standard_binary(&present) => 1.0,
            None => present.last().copied().unwrap_or(1.0),
        };
        y_true
            .iter()
            .zip(y_proba.column(0))
            .map(|(&y, &p)| {
                let t = f64::from(u8::from(y == pos));
                let a = (1.0 - t) - (1.0 - p);
                let b = t - p;
                a * a + b * b
            })
            .collect()
    } else {
        let inp = multiclass_input(CTX, y_true, y_proba, labels, sample_weight)?;
        inp.col
            .iter()
            .enumerate()
            .map(|(i, &c)| {
                let row: Vec<f64> = (0..inp.k)
                    .map(|j| {
                        let d = f64::from(u8::from(j == c)) - y_proba[[i, j]];
                        d * d
                    })
                    .collect();
                check::np_sum(&row)
            })
            .collect()
    };
    let mut score = check::average(CTX, &per_sample, sample_weight)?;
    if scale_by_half.unwrap_or(y_proba.ncols() < 3) {
        score *= 0.5;
    }
    Ok(score)
}
