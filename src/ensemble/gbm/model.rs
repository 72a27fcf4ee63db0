//! The fitted gradient-boosting model: baseline, trees, history and importances.

use ndarray::ArrayView2;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::loss::LossKind;
use super::tree::{FastTree, Tree};
use crate::error::{Error, Result};
use crate::traits::{Model, Predictor, ProbabilisticPredictor};
use crate::tree::flat::FastForest;

/// Rows per parallel prediction block (all trees are walked for one block before the next,
/// so the trees stay in cache while the block's rows stay in L1/L2).
const PREDICT_BLOCK: usize = 64;

/// A fitted histogram gradient-boosting classifier or regressor.
///
/// Trees are stored iteration-major: the tree of output `c` at iteration `t` is
/// `trees[t * n_outputs + c]` (one output for regression and binary classification, one per
/// class for multinomial classification). Prediction reads raw `f64` rows (NaN = missing,
/// categorical features as category codes); no binning happens at predict time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GradientBoostingModel {
    pub(crate) loss: LossKind,
    pub(crate) n_features: usize,
    pub(crate) feature_names: Vec<String>,
    /// Class labels (empty for a regressor).
    pub(crate) classes: Vec<String>,
    pub(crate) baseline: Vec<f64>,
    pub(crate) trees: Vec<Tree>,
    pub(crate) n_iter: usize,
    pub(crate) train_score: Vec<f64>,
    pub(crate) validation_score: Vec<f64>,
    pub(crate) importance_gain: Vec<f64>,
    pub(crate) importance_split: Vec<u64>,
    /// The compact prediction layout of every tree, built once on first use (never saved).
    #[serde(skip)]
    pub(crate) fast: FastCache,
}

/// Batches of fewer rows than this take the single-row walk (the batch walk interleaves this
/// many rows per tree).
const FEW_ROWS: usize = 8;

/// Per tree: its compact layout, or its depth for the general (categorical) walk.
type Plan = std::result::Result<FastTree, usize>;

/// The derived prediction layouts: per tree for batches, and all trees in one array for
/// single rows (when every tree has the compact layout).
struct Layouts {
    plans: Vec<Plan>,
    forest: Option<FastForest>,
}

/// Most outputs the single-row path sums on the stack (more fall back to a per-class walk).
const STACK_OUTPUTS: usize = 32;

/// A lazily built, never serialized cache of the trees' compact layouts. It is derived from
/// the trees alone, so two models compare equal whatever their caches hold.
#[derive(Default)]
pub(crate) struct FastCache(std::sync::OnceLock<Layouts>);

impl Clone for FastCache {
    fn clone(&self) -> Self {
        Self::default()
    }
}

impl PartialEq for FastCache {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl std::fmt::Debug for FastCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FastCache")
    }
}

impl GradientBoostingModel {
    /// Raw outputs per row (1, or the number of classes for multinomial models).
    pub fn n_outputs(&self) -> usize {
        self.baseline.len()
    }

    /// Number of boosting iterations actually run (early stopping may end before `max_iter`).
    pub fn n_iter(&self) -> usize {
        self.n_iter
    }

    /// The loss the model was trained with.
    pub fn loss(&self) -> LossKind {
        self.loss
    }

    /// The trees, iteration-major (see the type's documentation).
    pub fn trees(&self) -> &[Tree] {
        &self.trees
    }

    /// Feature names, one per column.
    pub fn feature_names(&self) -> &[String] {
        &self.feature_names
    }

    /// Scores on the training rows: the baseline first, then one per iteration, as
    /// scikit-learn's `train_score_`. With `scoring = "loss"` the score is the negated loss
    /// over all training rows; with a metric name it is that metric (greater is better) on a
    /// stratified subsample of at most 10,000 training rows.
    pub fn train_score(&self) -> &[f64] {
        &self.train_score
    }

    /// Scores on the validation rows, baseline first (negated loss or the `scoring` metric;
    /// empty without early stopping or a validation set).
    pub fn validation_score(&self) -> &[f64] {
        &self.validation_score
    }

    /// Total split gain per feature (LightGBM's `importance_type="gain"`).
    pub fn feature_importance_gain(&self) -> &[f64] {
        &self.importance_gain
    }

    /// Number of splits per feature (LightGBM's `importance_type="split"`).
    pub fn feature_importance_split(&self) -> &[u64] {
        &self.importance_split
    }

    /// Checks every index and size: tree links, feature ids and category-set ids, the number
    /// of trees against the iterations and outputs. Used when a model is loaded.
    pub fn validate(&self) -> Result<()> {
        self.loss.validate()?;
        let k = self.n_outputs();
        let corrupt = |m: String| Error::ModelCorrupt(format!("gradient boosting: {m}"));
        if k == 0 {
            return Err(corrupt("no baseline".into()));
        }
        if self.baseline.iter().any(|b| !b.is_finite()) {
            return Err(corrupt("non-finite baseline".into()));
        }
        let expected_k = match (self.loss, self.classes.len()) {
            (LossKind::LogLoss, 2) => 1,
            (LossKind::LogLoss, c) if c > 2 => c,
            (LossKind::LogLoss, c) => {
                return Err(corrupt(format!("log loss with {c} classes")));
            }
            (_, 0) => 1,
            (_, c) => return Err(corrupt(format!("regression loss with {c} classes"))),
        };
        if k != expected_k {
            return Err(corrupt(format!(
                "{k} outputs, expected {expected_k} for {} classes",
                self.classes.len()
            )));
        }
        if self.trees.len() != self.n_iter * k {
            return Err(corrupt(format!(
                "{} trees, expected n_iter {} x {k} outputs",
                self.trees.len(),
                self.n_iter
            )));
        }
        let p = self.n_features;
        if self.feature_names.len() != p
            || self.importance_gain.len() != p
            || self.importance_split.len() != p
        {
            return Err(corrupt(format!(
                "feature names / importances do not have {p} entries"
            )));
        }
        for (i, t) in self.trees.iter().enumerate() {
            t.validate(p, &format!("gradient boosting tree {i}"))?;
        }
        Ok(())
    }

    fn check_input(&self, x: &ArrayView2<'_, f64>, out_len: usize, per_row: usize) -> Result<()> {
        if x.ncols() != self.n_features {
            return Err(Error::shape(
                "gradient boosting predict",
                format!("{} columns", self.n_features),
                format!("{} columns", x.ncols()),
            ));
        }
        if out_len != x.nrows() * per_row {
            return Err(Error::shape(
                "gradient boosting predict output",
                format!("{} values", x.nrows() * per_row),
                out_len,
            ));
        }
        Ok(())
    }

    /// Adds the raw outputs of one row to `out` (`n_outputs` values, starting from the
    /// baseline). Allocation-free.
    #[inline]
    fn raw_row(&self, row: &[f64], out: &mut [f64]) {
        let k = self.n_outputs();
        let out = &mut out[..k];
        out.copy_from_slice(&self.baseline);
        let layouts = self.layouts();
        if let Some(forest) = &layouts.forest {
            if k == 1 {
                let mut sum = out[0];
                if forest.for_each_value(row, |_, v| sum += v) {
                    out[0] = sum;
                    return;
                }
            } else if forest.for_each_value(row, |t, v| {
                if let Some(o) = out.get_mut(t % k) {
                    *o += v;
                }
            }) {
                return;
            }
        }
        for (t, (tree, plan)) in self.trees.iter().zip(&layouts.plans).enumerate() {
            out[t % k] += match plan {
                Ok(fast) => fast.predict_one(row),
                Err(_) => tree.predict_row(row),
            };
        }
    }

    /// The derived layouts, built once per model and reused by every later call.
    fn layouts(&self) -> &Layouts {
        let p = self.n_features;
        self.fast.0.get_or_init(|| {
            let plans: Vec<Plan> = self
                .trees
                .iter()
                .map(|t| t.fast(p).ok_or_else(|| t.depth()))
                .collect();
            let all_fast: Option<Vec<&FastTree>> =
                plans.iter().map(|pl| pl.as_ref().ok()).collect();
            let forest = all_fast
                .and_then(FastForest::new)
                .filter(|f| f.n_features() == p);
            Layouts { plans, forest }
        })
    }

    /// Per tree: the compact layout, or the depth for the general (categorical) walk.
    fn plans(&self) -> &[Plan] {
        &self.layouts().plans
    }

    /// Raw outputs (before the inverse link) of every row of `x`, `n_outputs` per row,
    /// row-major. Parallel over row blocks.
    pub fn decision_function_into(&self, x: ArrayView2<'_, f64>, out: &mut [f64]) -> Result<()> {
        let k = self.n_outputs();
        self.check_input(&x, out.len(), k)?;
        // A few rows (fewer than the batch walk's lanes): the single-row walk, trees side by
        // side. It sums in the same tree order as the batch walk, so the results are the same.
        if x.nrows() < FEW_ROWS && self.layouts().forest.is_some() {
            for (i, o) in out.chunks_exact_mut(k).enumerate() {
                let row = x.row(i);
                match row.as_slice() {
                    Some(r) => self.raw_row(r, o),
                    None => self.raw_row(&row.to_vec(), o),
                }
            }
            return Ok(());
        }
        let p = self.n_features;
        let contiguous = x.as_slice();
        let plans = self.plans();
        let block = |(blk, o): (usize, &mut [f64])| {
            let first = blk * PREDICT_BLOCK;
            let n = o.len() / k;
            let mut local = Vec::new();
            let rows: &[f64] = match contiguous {
                Some(s) => &s[first * p..(first + n) * p],
                None => {
                    local.reserve(n * p);
                    for i in first..first + n {
                        local.extend(x.row(i).iter());
                    }
                    &local
                }
            };
            for i in 0..n {
                o[i * k..(i + 1) * k].copy_from_slice(&self.baseline);
            }
            for (t, (tree, plan)) in self.trees.iter().zip(plans).enumerate() {
                match plan {
                    Ok(fast) => fast.add_to_block(rows, o, k, t % k),
                    Err(depth) => tree.add_to_block(rows, p, *depth, o, k, t % k),
                }
            }
        };
        // One block (a single row, a small batch) runs on the calling thread: no task
        // hand-off for the latency path.
        if x.nrows() <= PREDICT_BLOCK {
            out.chunks_mut(PREDICT_BLOCK * k)
                .enumerate()
                .for_each(block);
        } else {
            out.par_chunks_mut(PREDICT_BLOCK * k)
                .enumerate()
                .for_each(block);
        }
        Ok(())
    }

    /// Predicts one row into `out[0]`: the class index for a classifier, the value for a
    /// regressor. Allocation-free (the single-row path of a prediction service).
    pub fn predict_row_into(&self, row: &[f64], out: &mut [f64]) -> Result<()> {
        if row.len() != self.n_features {
            return Err(Error::shape(
                "gradient boosting predict_row",
                format!("{} values", self.n_features),
                row.len(),
            ));
        }
        let Some(o) = out.first_mut() else {
            return Err(Error::shape("predict_row output", "1 value", 0));
        };
        let k = self.n_outputs();
        *o = if self.classes.is_empty() {
            let mut v = [0.0];
            self.raw_row(row, &mut v);
            self.loss.inverse_link(&mut v);
            v[0]
        } else if k == 1 {
            let mut v = [0.0];
            self.raw_row(row, &mut v);
            if v[0] > 0.0 {
                1.0
            } else {
                0.0
            }
        } else if k <= STACK_OUTPUTS {
            let mut v = [0.0; STACK_OUTPUTS];
            self.raw_row(row, &mut v[..k]);
            // First maximum, as the batch path.
            let mut best = 0;
            for c in 1..k {
                if v[c] > v[best] {
                    best = c;
                }
            }
            best as f64
        } else {
            // Argmax over classes, one class at a time: no buffer needed.
            let mut best = (f64::NEG_INFINITY, 0usize);
            for c in 0..k {
                let s = self.baseline[c]
                    + self
                        .trees
                        .iter()
                        .skip(c)
                        .step_by(k)
                        .map(|t| t.predict_row(row))
                        .sum::<f64>();
                if s > best.0 {
                    best = (s, c);
                }
            }
            best.1 as f64
        };
        Ok(())
    }

    /// Class probabilities of one row into `out` (`n_classes` values). Allocation-free.
    pub fn predict_proba_row_into(&self, row: &[f64], out: &mut [f64]) -> Result<()> {
        let nc = self.classes.len();
        if nc == 0 {
            return Err(Error::Unsupported(
                "probabilities from a gradient boosting regressor".into(),
            ));
        }
        if row.len() != self.n_features || out.len() != nc {
            return Err(Error::shape(
                "gradient boosting predict_proba_row",
                format!("{} values in, {nc} out", self.n_features),
                format!("{} in, {} out", row.len(), out.len()),
            ));
        }
        if self.n_outputs() == 1 {
            self.raw_row(row, &mut out[1..]);
            self.loss.inverse_link(&mut out[1..]);
            out[0] = 1.0 - out[1];
        } else {
            self.raw_row(row, out);
            self.loss.inverse_link(out);
        }
        Ok(())
    }
}

impl Model for GradientBoostingModel {
    fn n_features(&self) -> usize {
        self.n_features
    }

    fn validate(&self) -> Result<()> {
        GradientBoostingModel::validate(self)
    }
}

impl Predictor for GradientBoostingModel {
    fn predict_row_into(&self, row: &[f64], out: &mut [f64]) -> Result<()> {
        GradientBoostingModel::predict_row_into(self, row, out)
    }

    fn predict_into(&self, x: ArrayView2<'_, f64>, out: &mut [f64]) -> Result<()> {
        self.check_input(&x, out.len(), 1)?;
        let k = self.n_outputs();
        let mut raw = vec![0.0; x.nrows() * k];
        self.decision_function_into(x, &mut raw)?;
        let classifier = !self.classes.is_empty();
        out.par_iter_mut()
            .zip(raw.par_chunks(k))
            .for_each(|(o, r)| {
                *o = if !classifier {
                    let mut v = [r[0]];
                    self.loss.inverse_link(&mut v);
                    v[0]
                } else if k == 1 {
                    if r[0] > 0.0 {
                        1.0
                    } else {
                        0.0
                    }
                } else {
                    let mut best = 0;
                    for c in 1..k {
                        if r[c] > r[best] {
                            best = c;
                        }
                    }
                    best as f64
                };
            });
        Ok(())
    }
}

impl ProbabilisticPredictor for GradientBoostingModel {
    fn predict_proba_row_into(&self, row: &[f64], out: &mut [f64]) -> Result<()> {
        GradientBoostingModel::predict_proba_row_into(self, row, out)
    }

    fn n_classes(&self) -> usize {
        self.classes.len()
    }

    fn classes(&self) -> &[String] {
        &self.classes
    }

    fn predict_proba_into(&self, x: ArrayView2<'_, f64>, out: &mut [f64]) -> Result<()> {
        let nc = self.classes.len();
        if nc == 0 {
            return Err(Error::Unsupported(
                "probabilities from a gradient boosting regressor".into(),
            ));
        }
        self.check_input(&x, out.len(), nc)?;
        let k = self.n_outputs();
        if k == 1 {
            let mut raw = vec![0.0; x.nrows()];
            self.decision_function_into(x, &mut raw)?;
            out.par_chunks_mut(2)
                .zip(raw.par_iter())
                .for_each(|(o, r)| {
                    let mut v = [*r];
                    self.loss.inverse_link(&mut v);
                    o[0] = 1.0 - v[0];
                    o[1] = v[0];
                });
        } else {
            self.decision_function_into(x, out)?;
            out.par_chunks_mut(k)
                .for_each(|o| self.loss.inverse_link(o));
        }
        Ok(())
    }
}
