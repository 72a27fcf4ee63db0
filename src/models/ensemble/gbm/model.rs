//! The fitted gradient-boosting model: baseline, trees, history and importances.

use ndarray::ArrayView2;
use serde::{Deserialize, Serialize};

use super::loss::LossKind;
use super::tree::{FastTree, Tree};
use crate::common::parallel::first_of_blocks;
use crate::error::{Error, Result};
use crate::models::tree::flat::FastForest;
use crate::traits::{Model, Predictor, ProbabilisticPredictor};

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
        self.for_each_raw(x, out, self.n_outputs(), |raw, o| {
            for (o, r) in o.iter_mut().zip(raw) {
                *o = *r;
            }
        })
    }

    /// Computes the raw outputs of every row of `x` and hands each row's (`n_outputs`
    /// values) to `finish`, with that row's `per_row` slots of `out`. A few rows take the
    /// single-row walk on the calling thread. More are walked in blocks of `PREDICT_BLOCK`
    /// rows, each into a buffer of its own that is finished while cached; the blocks run in
    /// parallel when there are several (one block runs on the calling thread: no task
    /// hand-off for small batches).
    fn for_each_raw<F>(
        &self,
        x: ArrayView2<'_, f64>,
        out: &mut [f64],
        per_row: usize,
        finish: F,
    ) -> Result<()>
    where
        F: Fn(&[f64], &mut [f64]) + Sync,
    {
        self.check_input(&x, out.len(), per_row)?;
        let k = self.n_outputs();
        if per_row == 0 || k == 0 {
            return Ok(());
        }
        let n = x.nrows();
        // A few rows (fewer than the batch walk's lanes): the single-row walk, trees side by
        // side. It sums in the same tree order as the batch walk, so the results are the same.
        if n < FEW_ROWS && self.layouts().forest.is_some() {
            let (mut stack, mut heap) = ([0.0; STACK_OUTPUTS], Vec::new());
            let raw = scratch(&mut stack, &mut heap, k);
            for (i, o) in out.chunks_exact_mut(per_row).enumerate() {
                let row = x.row(i);
                match row.as_slice() {
                    Some(r) => self.raw_row(r, raw),
                    None => self.raw_row(&row.to_vec(), raw),
                }
                finish(raw, o);
            }
            return Ok(());
        }
        let p = self.n_features;
        let contiguous = x.as_slice();
        let plans = self.plans();
        let block = |blk: usize, o: &mut [f64]| {
            let first = blk * PREDICT_BLOCK;
            let rows_in = o.len() / per_row;
            let mut local = Vec::new();
            let rows: &[f64] = match contiguous {
                Some(s) => &s[first * p..(first + rows_in) * p],
                None => {
                    local.reserve(rows_in * p);
                    for i in first..first + rows_in {
                        local.extend(x.row(i).iter());
                    }
                    &local
                }
            };
            let (mut stack, mut heap) = ([0.0; PREDICT_BLOCK], Vec::new());
            let raw = scratch(&mut stack, &mut heap, rows_in * k);
            for r in raw.chunks_exact_mut(k) {
                r.copy_from_slice(&self.baseline);
            }
            for (t, (tree, plan)) in self.trees.iter().zip(plans).enumerate() {
                match plan {
                    Ok(fast) => fast.add_to_block(rows, raw, k, t % k),
                    Err(depth) => tree.add_to_block(rows, p, *depth, raw, k, t % k),
                }
            }
            for (r, o) in raw.chunks_exact(k).zip(o.chunks_exact_mut(per_row)) {
                finish(r, o);
            }
            None::<()>
        };
        first_of_blocks(out, PREDICT_BLOCK * per_row, block);
        Ok(())
    }

    /// A row's prediction from its raw outputs: for a classifier the class index (class 1
    /// when a single output is positive, else the first maximum), for a regressor the value
    /// through the inverse link.
    fn label_of(&self, raw: &[f64]) -> f64 {
        match raw {
            [r] if self.classes.is_empty() => {
                let mut v = [*r];
                self.loss.inverse_link(&mut v);
                v[0]
            }
            [r] => f64::from(u8::from(*r > 0.0)),
            _ => {
                let mut best = 0;
                for (c, v) in raw.iter().enumerate() {
                    if *v > raw[best] {
                        best = c;
                    }
                }
                best as f64
            }
        }
    }

    /// A row's class probabilities (`out`, one per class) from its raw outputs.
    fn proba_of(&self, raw: &[f64], out: &mut [f64]) {
        if let ([r], [p0, p1]) = (raw, &mut *out) {
            let mut v = [*r];
            self.loss.inverse_link(&mut v);
            *p0 = 1.0 - v[0];
            *p1 = v[0];
        } else {
            for (o, r) in out.iter_mut().zip(raw) {
                *o = *r;
            }
            self.loss.inverse_link(out);
        }
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
        *o = if k <= STACK_OUTPUTS {
            let mut v = [0.0; STACK_OUTPUTS];
            self.raw_row(row, &mut v[..k]);
            self.label_of(&v[..k])
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
            let mut v = [0.0];
            self.raw_row(row, &mut v);
            self.proba_of(&v, out);
        } else {
            self.raw_row(row, out);
            self.loss.inverse_link(out);
        }
        Ok(())
    }
}

/// `len` values of scratch space: the start of `stack` when it is long enough (no
/// allocation), else `heap` grown to `len`.
fn scratch<'a>(stack: &'a mut [f64], heap: &'a mut Vec<f64>, len: usize) -> &'a mut [f64] {
    if len <= stack.len() {
        &mut stack[..len]
    } else {
        heap.resize(len, 0.0);
        heap
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
        self.for_each_raw(x, out, 1, |raw, o| {
            if let Some(o) = o.first_mut() {
                *o = self.label_of(raw);
            }
        })
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
        self.for_each_raw(x, out, nc, |raw, o| self.proba_of(raw, o))
    }
}

impl crate::traits::Outputs for GradientBoostingModel {
    /// Classifiers only (a regressor has no classes).
    fn as_probabilistic(&self) -> Option<&dyn ProbabilisticPredictor> {
        (!self.classes.is_empty()).then_some(self as &dyn ProbabilisticPredictor)
    }

    fn as_scorer(&self) -> Option<&dyn crate::traits::ScorePredictor> {
        Some(self)
    }
}

/// The raw outputs before the inverse link (scikit-learn's `decision_function` for a
/// classifier, LightGBM's `raw_score`): one per row for a regressor or a binary classifier,
/// one per class otherwise.
impl crate::traits::ScorePredictor for GradientBoostingModel {
    fn n_scores(&self) -> usize {
        self.n_outputs()
    }

    fn score_into(&self, x: ArrayView2<'_, f64>, out: &mut [f64]) -> Result<()> {
        self.decision_function_into(x, out)
    }

    /// Allocation-free; the same sums in the same tree order as the batch path.
    fn score_row_into(&self, row: &[f64], out: &mut [f64]) -> Result<()> {
        if row.len() != self.n_features || out.len() != self.n_outputs() {
            return Err(Error::shape(
                "gradient boosting score_row",
                format!("{} values in, {} out", self.n_features, self.n_outputs()),
                format!("{} in, {} out", row.len(), out.len()),
            ));
        }
        self.raw_row(row, out);
        Ok(())
    }
}
