//! Early stopping: the held-out validation split, the score (the loss or a named metric)
//! and scikit-learn's stopping rule.

use ndarray::{ArrayView1, ArrayView2};
use rand_chacha::ChaCha8Rng;

use super::loss::LossKind;
use crate::data::Task;
use crate::error::{Error, Result};
use crate::traits::{Metric, MetricInput, Prediction};

/// Rows of the training subsample scored by a metric when there is no validation set
/// (scikit-learn's `_get_small_trainset`).
pub(crate) const SMALL_TRAINSET: usize = 10_000;

/// What early stopping scores: the negated loss, or a metric by its scorer name
/// (greater is better).
pub(crate) enum Scoring {
    /// `"loss"`: the negated training loss, from the raw predictions.
    Loss,
    /// A scikit-learn scorer name resolved by [`crate::evaluate::metrics::get`].
    Metric(Box<dyn Metric>),
}

impl Scoring {
    /// Resolves `scoring` for `task`: `"loss"`, or a metric name that fits the task and whose
    /// greater value is better (scikit-learn's scorer names: `accuracy`, `roc_auc`,
    /// `neg_log_loss`, `r2`, `neg_mean_squared_error`, ...). The error names `scoring` and
    /// lists every value allowed for the task.
    pub(crate) fn resolve(name: &str, task: &Task) -> Result<Scoring> {
        if name == "loss" {
            return Ok(Scoring::Loss);
        }
        let usable = |n: &str| {
            crate::evaluate::metrics::metric_fits_task(n, task).is_ok()
                && crate::evaluate::metrics::get(n).is_ok_and(|m| m.greater_is_better())
        };
        if usable(name) {
            return crate::evaluate::metrics::get(name).map(Scoring::Metric);
        }
        let mut allowed = vec!["\"loss\"".to_string()];
        allowed.extend(
            crate::evaluate::metrics::names()
                .into_iter()
                .filter(|n| usable(n))
                .map(|n| format!("\"{n}\"")),
        );
        Err(Error::param(
            "scoring",
            name,
            &format!("one of {} for this task", allowed.join(", ")),
        ))
    }

    /// The metric, or `None` for the loss.
    pub(crate) fn metric(&self) -> Option<&dyn Metric> {
        match self {
            Scoring::Loss => None,
            Scoring::Metric(m) => Some(m.as_ref()),
        }
    }
}

/// Raw predictions of a model in the boosting loop's layout: output-major, `n` rows per
/// output (`raw[c * n + i]`).
pub(crate) struct RawOutputs<'a> {
    /// The raw values.
    pub raw: &'a [f64],
    /// Rows per output.
    pub n: usize,
}

/// Scores rows `positions` (all rows when `None`) of `raw` against `y` (class indices or
/// targets, indexed like the rows of `raw`) with `metric`: label metrics read the predicted
/// class index (classifier) or the prediction in the target's scale (regressor); score
/// metrics read the class probabilities (two columns for a binary model).
pub(crate) fn metric_score(
    metric: &dyn Metric,
    loss: LossKind,
    n_classes: usize,
    outputs: RawOutputs<'_>,
    positions: Option<&[usize]>,
    y: &[f64],
    w: Option<&[f64]>,
) -> Result<f64> {
    let RawOutputs { raw, n } = outputs;
    let k = raw.len() / n.max(1);
    let m = positions.map_or(n, <[usize]>::len);
    let row = |r: usize| positions.map_or(r, |p| p[r]);
    // One row's outputs, then through the inverse link.
    let mut buf = vec![0.0; k.max(n_classes)];
    let fill = |r: usize, buf: &mut [f64]| {
        let i = row(r);
        for (c, b) in buf[..k].iter_mut().enumerate() {
            *b = raw[c * n + i];
        }
    };
    let y_sub: Vec<f64> = (0..m).map(|r| y[row(r)]).collect();
    let w_sub: Option<Vec<f64>> = w.map(|w| (0..m).map(|r| w[row(r)]).collect());
    let w_view = w_sub.as_deref().map(ArrayView1::from);
    let score = match metric.input() {
        MetricInput::Values => {
            let pred: Vec<f64> = (0..m)
                .map(|r| {
                    fill(r, &mut buf);
                    let v = &mut buf[..k];
                    if n_classes == 0 {
                        loss.inverse_link(v);
                        v[0]
                    } else if k == 1 {
                        f64::from(u8::from(v[0] > 0.0))
                    } else {
                        // First maximum, as numpy's argmax.
                        let mut best = 0;
                        for c in 1..k {
                            if v[c] > v[best] {
                                best = c;
                            }
                        }
                        best as f64
                    }
                })
                .collect();
            metric.score(
                ArrayView1::from(&y_sub),
                Prediction::Values(ArrayView1::from(&pred)),
                w_view,
            )
        }
        MetricInput::Scores => {
            let nc = n_classes.max(1);
            let mut proba = Vec::with_capacity(m * nc);
            for r in 0..m {
                fill(r, &mut buf);
                let v = &mut buf[..k];
                loss.inverse_link(v);
                if k == 1 && nc == 2 {
                    proba.extend_from_slice(&[1.0 - v[0], v[0]]);
                } else {
                    proba.extend_from_slice(v);
                }
            }
            let proba = ArrayView2::from_shape((m, nc), &proba)
                .map_err(|e| Error::InvalidArgument(format!("scoring probabilities: {e}")))?;
            metric.score(ArrayView1::from(&y_sub), Prediction::Scores(proba), w_view)
        }
    };
    score.map_err(|e| {
        Error::InvalidArgument(format!(
            "early-stopping scoring `{}` on {m} rows failed: {e}",
            metric.name()
        ))
    })
}

/// scikit-learn's `_should_stop`: stop when none of the last `n_iter_no_change` scores beats
/// the score just before them by more than `tol` (scores: greater is better).
pub(crate) fn should_stop(scores: &[f64], n_iter_no_change: usize, tol: f64) -> bool {
    let reference_position = n_iter_no_change + 1;
    if scores.len() < reference_position {
        return false;
    }
    let reference = scores[scores.len() - reference_position] + tol;
    !scores[scores.len() - n_iter_no_change..]
        .iter()
        .any(|&s| s > reference)
}

/// Splits `0..n` into sorted (train, validation) positions, `ceil(fraction * n)` for
/// validation, stratified by class when `classes` is given (see [`stratified_sample`]).
pub(crate) fn validation_split(
    n: usize,
    classes: Option<(&[f64], usize)>,
    fraction: f64,
    rng: &mut ChaCha8Rng,
) -> Result<(Vec<usize>, Vec<usize>)> {
    let n_val = (fraction * n as f64).ceil() as usize;
    if n_val == 0 || n_val >= n {
        return Err(Error::InvalidArgument(format!(
            "validation_fraction {fraction} of {n} rows leaves an empty training or \
             validation set; use more rows or disable early_stopping"
        )));
    }
    let val = stratified_sample(n, classes, n_val, rng);
    let mut is_val = vec![false; n];
    for &v in &val {
        is_val[v] = true;
    }
    let train = (0..n).filter(|&i| !is_val[i]).collect();
    Ok((train, val))
}

/// Draws `count` (`<= n`) sorted positions of `0..n` without replacement, stratified by class
/// when `classes` (class index per row, number of classes) is given: each class gets its
/// share, the remainders going to the largest fractional parts.
pub(crate) fn stratified_sample(
    n: usize,
    classes: Option<(&[f64], usize)>,
    count: usize,
    rng: &mut ChaCha8Rng,
) -> Vec<usize> {
    let count = count.min(n);
    let mut val = Vec::with_capacity(count);
    match classes {
        None => {
            let perm = crate::common::rng::permutation(n, rng);
            val.extend_from_slice(&perm[..count]);
        }
        Some((y, k)) => {
            let mut by_class: Vec<Vec<usize>> = vec![Vec::new(); k];
            for (i, &c) in y.iter().enumerate() {
                if let Some(v) = by_class.get_mut(c as usize) {
                    v.push(i);
                }
            }
            let exact: Vec<f64> = by_class
                .iter()
                .map(|v| count as f64 * v.len() as f64 / n as f64)
                .collect();
            let mut take: Vec<usize> = exact.iter().map(|e| e.floor() as usize).collect();
            let mut order: Vec<usize> = (0..k).collect();
            order.sort_by(|&a, &b| {
                let fa = exact[a] - exact[a].floor();
                let fb = exact[b] - exact[b].floor();
                fb.total_cmp(&fa).then(a.cmp(&b))
            });
            let mut missing = count.saturating_sub(take.iter().sum());
            for &c in order.iter().cycle().take(4 * k) {
                if missing == 0 {
                    break;
                }
                if take[c] < by_class[c].len() {
                    take[c] += 1;
                    missing -= 1;
                }
            }
            for (c, idx) in by_class.iter_mut().enumerate() {
                rand::seq::SliceRandom::shuffle(idx.as_mut_slice(), rng);
                val.extend_from_slice(&idx[..take[c].min(idx.len())]);
            }
        }
    }
    val.sort_unstable();
    val
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stopping_rule_like_scikit_learn() {
        // Reference = scores[-3]; stop when neither of the last 2 beats it by tol.
        assert!(!should_stop(&[0.0, 1.0], 2, 0.0));
        assert!(!should_stop(&[0.0, 1.0, 2.0], 2, 0.0));
        assert!(should_stop(&[0.0, 1.0, 1.0, 1.0], 2, 0.0));
        assert!(!should_stop(&[0.0, 1.0, 1.0, 1.5], 2, 0.0));
        assert!(should_stop(&[0.0, 1.0, 1.0, 1.5], 2, 0.6));
    }

    #[test]
    fn stratified_split_keeps_class_shares() {
        let y: Vec<f64> = (0..100).map(|i| if i < 80 { 0.0 } else { 1.0 }).collect();
        let mut rng = crate::common::rng::for_task(0, 0);
        let (tr, va) = validation_split(100, Some((&y, 2)), 0.1, &mut rng).unwrap();
        assert_eq!(va.len(), 10);
        assert_eq!(tr.len(), 90);
        assert_eq!(va.iter().filter(|&&i| y[i] == 1.0).count(), 2);
        let (_, va2) = validation_split(
            100,
            Some((&y, 2)),
            0.1,
            &mut crate::common::rng::for_task(0, 0),
        )
        .unwrap();
        assert_eq!(va, va2);
        assert!(validation_split(3, None, 0.1, &mut rng).is_ok());
        assert!(validation_split(1, None, 0.5, &mut rng).is_err());
    }
}
