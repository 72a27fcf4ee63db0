//! What every naive Bayes model shares after fitting: a joint log-likelihood per class
//! (`log P(c) + log P(x | c)`, the [`NaiveBayes`] trait), turned into scikit-learn's outputs:
//! `predict` (the first class of largest joint log-likelihood), `predict_log_proba` (the joint
//! log-likelihood minus its log-sum-exp over classes, computed as scikit-learn's
//! `_logsumexp`) and `predict_proba` (its exponential).
//!
//! Batches run over fixed row blocks (in parallel, or on the calling thread under a one-thread
//! policy), each handed whole to [`NaiveBayes::joint_log_likelihood_rows`] (a model may compute
//! several rows at once, with each row's bits those of the single-row path); a single row goes
//! through the same code as a block of one row, so the row paths give the batch bits and
//! allocate nothing (for up to [`STACK_CLASSES`] classes).

use ndarray::{Array2, ArrayView2};

use crate::common::parallel::first_of_blocks;
use crate::error::{Error, Result};
use crate::models::kit::validate;
use crate::models::linear::logistic::{argmax, row_major};
use crate::traits::Model;

/// Rows per block of the batch paths.
pub(crate) const PREDICT_BLOCK: usize = 1024;

/// Most classes whose joint log-likelihoods `predict_row_into` keeps on the stack (more are
/// computed in a heap buffer).
pub const STACK_CLASSES: usize = 64;

/// Joint log-likelihoods that a batch `predict` keeps on the stack per block: the block's
/// rows are taken this many values' worth of rows at a time (a heap buffer of one row for
/// more classes than this).
const SCRATCH: usize = 1024;

/// A fitted naive Bayes classifier: its classes and the joint log-likelihood of a row.
///
/// ```
/// use amlis::models::naive_bayes::{GaussianNb, NaiveBayes};
/// use amlis::traits::Trainer;
///
/// let model = GaussianNb::default().fit(&amlis::datasets::iris()?)?;
/// let x = ndarray::array![[5.1, 3.5, 1.4, 0.2]];
/// let log_proba = model.predict_log_proba(x.view())?;
/// assert!(log_proba[[0, 0]] > -1e-9); // setosa, almost surely
/// # Ok::<(), amlis::Error>(())
/// ```
pub trait NaiveBayes: Model {
    /// The config `type` name of the model (for errors).
    fn type_name(&self) -> &'static str;

    /// The class labels, index `i` is class `i`.
    fn class_labels(&self) -> &[String];

    /// Writes the joint log-likelihood `log P(c) + log P(row | c)` of every class into `out`
    /// (`out.len() == n_classes`, `row.len() == n_features`, both checked by the callers).
    /// `index` names the row in errors about its values.
    fn joint_log_likelihood_row(&self, row: &[f64], index: usize, out: &mut [f64]) -> Result<()>;

    /// [`NaiveBayes::joint_log_likelihood_row`] over a block of rows: `rows` holds whole rows
    /// of `n_features` values (row-major) and `out` `n_classes` values per row; `first` names
    /// the first row in errors, and the error is that of the first bad row in order. Every
    /// value has the bits the single-row call gives it. By default, row by row.
    fn joint_log_likelihood_rows(&self, rows: &[f64], first: usize, out: &mut [f64]) -> Result<()> {
        let (p, k) = (self.n_features(), self.class_labels().len());
        let n = out.len().checked_div(k).unwrap_or(rows.len() / p.max(1));
        for i in 0..n {
            let row = rows.get(i * p..(i + 1) * p).unwrap_or(&[]);
            let o = out.get_mut(i * k..(i + 1) * k).unwrap_or(&mut []);
            self.joint_log_likelihood_row(row, first + i, o)?;
        }
        Ok(())
    }

    /// scikit-learn's `predict_joint_log_proba`: one row of joint log-likelihoods per sample.
    fn predict_joint_log_proba(&self, x: ArrayView2<'_, f64>) -> Result<Array2<f64>> {
        per_class(self, x, |_| {})
    }

    /// scikit-learn's `predict_log_proba`: log class probabilities, one row per sample.
    fn predict_log_proba(&self, x: ArrayView2<'_, f64>) -> Result<Array2<f64>> {
        per_class(self, x, normalize_log)
    }
}

/// Runs the per-row joint log-likelihood over every row of `x` and `finish` on each row.
fn per_class<M: NaiveBayes + ?Sized>(
    m: &M,
    x: ArrayView2<'_, f64>,
    finish: impl Fn(&mut [f64]) + Sync,
) -> Result<Array2<f64>> {
    let k = m.class_labels().len();
    let n = x.nrows();
    let mut out = vec![0.0; n * k];
    blocks_into(m, x, &mut out, k, |rows, first, o| {
        m.joint_log_likelihood_rows(rows, first, o)?;
        o.chunks_exact_mut(k.max(1)).for_each(&finish);
        Ok(())
    })?;
    Array2::from_shape_vec((n, k), out).map_err(|e| Error::shape(m.type_name(), "n x k", e))
}

/// Replaces joint log-likelihoods by log probabilities: `a - logsumexp(a)`, with
/// scikit-learn's `_logsumexp` (the maxima counted apart, `log1p` of the rest).
pub(crate) fn normalize_log(a: &mut [f64]) {
    let lse = log_sum_exp(a);
    a.iter_mut().for_each(|v| *v -= lse);
}

/// `log Σ exp(a)` as scikit-learn's `_logsumexp`: `log1p(s / m) + log(m) + max`, where `m`
/// counts the entries equal to the maximum and `s` sums `exp(a - max)` over the others.
pub(crate) fn log_sum_exp(a: &[f64]) -> f64 {
    let max = a.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let shift = if max.is_finite() { max } else { 0.0 };
    let mut m = 0.0;
    let mut s = 0.0;
    for &v in a {
        if v == max {
            m += 1.0;
        } else {
            s += (v - shift).exp();
        }
    }
    if s != 0.0 {
        s /= m;
    }
    s.ln_1p() + f64::ln(m) + max
}

/// Runs `f(rows, first, out_chunk)` over the rows of `x` (`width` outputs per row) in fixed
/// blocks of [`PREDICT_BLOCK`] rows (`rows` their values, row-major, `first` the index of the
/// first one), checking shapes and stopping at the first error in row order.
pub(crate) fn blocks_into<M: NaiveBayes + ?Sized>(
    m: &M,
    x: ArrayView2<'_, f64>,
    out: &mut [f64],
    width: usize,
    f: impl Fn(&[f64], usize, &mut [f64]) -> Result<()> + Sync,
) -> Result<()> {
    validate::check_predict_shapes(m.type_name(), x, m.n_features(), out.len(), width)?;
    let x = row_major(x);
    let p = x.ncols();
    let flat = x.as_slice().unwrap_or(&[]);
    let width = width.max(1);
    let err = first_of_blocks(out, PREDICT_BLOCK * width, |b, chunk| {
        let first = b * PREDICT_BLOCK;
        let n = chunk.len() / width;
        let rows = flat.get(first * p..(first + n) * p).unwrap_or(&[]);
        f(rows, first, chunk).err()
    });
    err.map_or(Ok(()), Err)
}

/// The class index of every row of a block into `out` (one value per row: the first
/// largest joint log-likelihood). The log-likelihoods are computed a few rows at a time into
/// a stack buffer of [`SCRATCH`] values (one row at a time in a heap buffer for more
/// classes).
pub(crate) fn labels_of_rows<M: NaiveBayes + ?Sized>(
    m: &M,
    rows: &[f64],
    first: usize,
    out: &mut [f64],
) -> Result<()> {
    let (p, k) = (m.n_features(), m.class_labels().len());
    let mut stack = [0.0; SCRATCH];
    let mut heap = Vec::new();
    let buf = if k <= SCRATCH {
        &mut stack[..]
    } else {
        heap.resize(k, 0.0);
        &mut heap[..]
    };
    let per = (buf.len() / k.max(1)).max(1);
    for (s, o) in out.chunks_mut(per).enumerate() {
        let start = s * per;
        let part = rows.get(start * p..(start + o.len()) * p).unwrap_or(&[]);
        let jll = buf.get_mut(..o.len() * k).unwrap_or(&mut []);
        m.joint_log_likelihood_rows(part, first + start, jll)?;
        for (label, j) in o.iter_mut().zip(jll.chunks_exact(k.max(1))) {
            *label = argmax(j.iter().copied()) as f64;
        }
    }
    Ok(())
}

/// The class index of one row (the first largest joint log-likelihood), with the
/// log-likelihoods in a stack buffer for up to [`STACK_CLASSES`] classes.
pub(crate) fn label_of_row<M: NaiveBayes + ?Sized>(
    m: &M,
    row: &[f64],
    index: usize,
) -> Result<f64> {
    let k = m.class_labels().len();
    let mut stack = [0.0; STACK_CLASSES];
    let mut heap = Vec::new();
    let buf = if k <= STACK_CLASSES {
        &mut stack[..k]
    } else {
        heap.resize(k, 0.0);
        &mut heap[..]
    };
    m.joint_log_likelihood_rows(row, index, buf)?;
    Ok(argmax(buf.iter().copied()) as f64)
}

/// Class probabilities of a block of rows into `out` (`n_classes` values per row).
pub(crate) fn proba_of_rows<M: NaiveBayes + ?Sized>(
    m: &M,
    rows: &[f64],
    first: usize,
    out: &mut [f64],
) -> Result<()> {
    m.joint_log_likelihood_rows(rows, first, out)?;
    for o in out.chunks_exact_mut(m.class_labels().len().max(1)) {
        normalize_log(o);
        o.iter_mut().for_each(|v| *v = v.exp());
    }
    Ok(())
}

/// Checks one row and its output for the single-row paths.
pub(crate) fn check_row<M: NaiveBayes + ?Sized>(
    m: &M,
    what: &str,
    row: &[f64],
    out_len: usize,
    width: usize,
) -> Result<()> {
    if row.len() != m.n_features() || out_len != width {
        return Err(Error::shape(
            what,
            format!("{} values in, {width} out", m.n_features()),
            format!("{} in, {out_len} out", row.len()),
        ));
    }
    Ok(())
}

/// The error for value `v` at (`row`, `column`) of a model's input.
pub(crate) fn bad_value(context: &str, row: usize, column: String, message: String) -> Error {
    Error::InvalidValue {
        context: context.to_string(),
        row,
        column: Some(column),
        message,
    }
}

/// The first non-finite value of `row`, as an error naming the row and column.
pub(crate) fn check_finite_row(context: &str, row: &[f64], index: usize) -> Result<()> {
    // `v · 0` is NaN exactly when `v` is not finite, and a NaN stays in its lane: eight
    // independent lanes (so the check vectorizes), the exact search only on a NaN.
    let mut lanes = [0.0f64; 8];
    let chunks = row.chunks_exact(8);
    let tail = chunks.remainder().iter().fold(0.0, |a, v| a + v * 0.0);
    for c in chunks {
        for (l, v) in lanes.iter_mut().zip(c) {
            *l += v * 0.0;
        }
    }
    if (lanes.iter().sum::<f64>() + tail).is_nan() {
        if let Some(j) = row.iter().position(|v| !v.is_finite()) {
            return Err(bad_value(
                context,
                index,
                format!("x{j}"),
                format!("{} is not a finite number", row[j]),
            ));
        }
    }
    Ok(())
}

/// Implements `Predictor`, `ProbabilisticPredictor` and `Outputs` of a [`NaiveBayes`] model
/// through the shared row code of this module.
macro_rules! naive_bayes_outputs {
    ($t:ty) => {
        impl $crate::traits::Predictor for $t {
            fn predict_into(
                &self,
                x: ndarray::ArrayView2<'_, f64>,
                out: &mut [f64],
            ) -> $crate::error::Result<()> {
                use $crate::models::naive_bayes::posterior as post;
                post::blocks_into(self, x, out, 1, |rows, first, o| {
                    post::labels_of_rows(self, rows, first, o)
                })
            }

            /// Allocation-free for up to 64 classes.
            fn predict_row_into(&self, row: &[f64], out: &mut [f64]) -> $crate::error::Result<()> {
                use $crate::models::naive_bayes::posterior as post;
                post::check_row(self, post::NaiveBayes::type_name(self), row, out.len(), 1)?;
                let label = post::label_of_row(self, row, 0)?;
                out.iter_mut().for_each(|o| *o = label);
                Ok(())
            }
        }

        impl $crate::traits::ProbabilisticPredictor for $t {
            fn n_classes(&self) -> usize {
                $crate::models::naive_bayes::posterior::NaiveBayes::class_labels(self).len()
            }

            fn classes(&self) -> &[String] {
                $crate::models::naive_bayes::posterior::NaiveBayes::class_labels(self)
            }

            fn predict_proba_into(
                &self,
                x: ndarray::ArrayView2<'_, f64>,
                out: &mut [f64],
            ) -> $crate::error::Result<()> {
                use $crate::models::naive_bayes::posterior as post;
                let k = post::NaiveBayes::class_labels(self).len();
                post::blocks_into(self, x, out, k, |rows, first, o| {
                    post::proba_of_rows(self, rows, first, o)
                })
            }

            /// Allocation-free.
            fn predict_proba_row_into(
                &self,
                row: &[f64],
                out: &mut [f64],
            ) -> $crate::error::Result<()> {
                use $crate::models::naive_bayes::posterior as post;
                let k = post::NaiveBayes::class_labels(self).len();
                post::check_row(self, post::NaiveBayes::type_name(self), row, out.len(), k)?;
                post::proba_of_rows(self, row, 0, out)
            }
        }

        impl $crate::traits::Outputs for $t {
            fn as_probabilistic(&self) -> Option<&dyn $crate::traits::ProbabilisticPredictor> {
                Some(self)
            }
        }
    };
}
pub(crate) use naive_bayes_outputs;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_sum_exp_counts_ties_and_handles_infinities() {
        let a = [0.0f64, 0.0, (0.5f64).ln()];
        assert!((log_sum_exp(&a) - (2.5f64).ln()).abs() < 1e-15);
        assert_eq!(log_sum_exp(&[f64::NEG_INFINITY, 1.0]), 1.0);
        assert_eq!(log_sum_exp(&[f64::NEG_INFINITY; 2]), f64::NEG_INFINITY);
        // The shift by -1000 costs bits (an ulp of 1000 is 1.1e-13), as in scikit-learn.
        let mut v = [-1000.0, -1001.0];
        normalize_log(&mut v);
        assert!((v[0].exp() + v[1].exp() - 1.0).abs() < 1e-12);
    }
}
