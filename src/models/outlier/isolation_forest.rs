//! `IsolationForest`, as scikit-learn's: an outlier detector that isolates rows with random
//! trees. A model of kind *outlier detector*: it fits without a target, predicts `1`
//! (inlier) or `-1` (outlier) per row (`AMLIS_OUTPUT_VALUE`) and scores every row with
//! scikit-learn's `score_samples` (`AMLIS_OUTPUT_SCORE`, one column: the lower, the more
//! abnormal). scikit-learn's `decision_function` is that score minus
//! [`IsolationForestModel::offset`] ([`IsolationForestModel::decision_function`]); a row is an
//! outlier when it is negative.
//!
//! As scikit-learn: each of `n_estimators` trees is grown on `max_samples` rows drawn without
//! replacement (with replacement under `bootstrap`; with probability proportional to the
//! sample weight when there are weights) and `max_features` features drawn without
//! replacement; it is an extremely randomized tree (`ExtraTreeRegressor(max_features=1,
//! splitter="random")` on a random target): every node splits on one feature drawn among
//! those not constant in the node, at a threshold drawn uniformly between the node's minimum
//! and maximum of it (missing values go to a random side), down to depth
//! `ceil(log2(max_samples))`. The path length of a row in a tree is the depth of its leaf plus
//! [`average_path_length`] of the leaf's training rows; `score_samples` is
//! `-2^(-E[h(x)] / c(max_samples))`. `offset` is `-0.5` for `contamination: "auto"`, else the
//! `contamination` percentile of the training rows' scores. The trees are grown in parallel,
//! tree `t` drawing from `rng::for_task(seed, t)`, so a seed gives the same model for any
//! number of threads (scikit-learn's random numbers are not reproduced: the trees differ from
//! its trees, not their quality).
//!
//! ```
//! use amlis::data::DenseDataset;
//! use amlis::models::outlier::IsolationForest;
//! use amlis::traits::{Predictor, ScorePredictor, Trainer};
//! use ndarray::{array, Array2};
//!
//! // A grid of inliers in the unit square.
//! let x = Array2::from_shape_fn((100, 2), |(i, j)| if j == 0 { i % 10 } else { i / 10 } as f64 * 0.1);
//! let model = IsolationForest::default().random_state(0).fit(&DenseDataset::unsupervised(x)?)?;
//! let mut label = [0.0; 2];
//! model.predict_into(array![[0.45, 0.45], [25.0, -30.0]].view(), &mut label)?;
//! assert_eq!(label, [1.0, -1.0]);
//! let (mut inner, mut far) = ([0.0], [0.0]);
//! model.score_row_into(&[0.45, 0.45], &mut inner)?;
//! model.score_row_into(&[25.0, -30.0], &mut far)?;
//! assert!(far[0] < inner[0]);
//! assert!(far[0] < model.offset()); // decision_function < 0: an outlier
//! # Ok::<(), amlis::Error>(())
//! ```

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use ndarray::ArrayView2;
use rand::Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::common::rng::{self, ChaCha8Rng};
use crate::common::stats::percentile_linear;
use crate::error::{Error, Result};
use crate::models::kit::setters;
use crate::models::kit::validate::{check_numeric_kinds, check_predict_shapes};
use crate::models::tree::data::Columns;
use crate::models::tree::decision_tree::{fit_tree, Target};
use crate::models::tree::flat::{
    ensemble_block_rows, par_row_blocks, walk_error, FastTree, FlatTree, LazyCache, RawNode,
};
use crate::models::tree::params::{
    GrowthParams, MaxFeatures, RegressionCriterion, SampleCount, SplitStrategy, TreeConfig,
};
use crate::traits::{
    Control, Dataset, FitContext, FitEvent, Model, Outputs, Predictor, ScorePredictor, Trainer,
};

const NAME: &str = <IsolationForest as Trainer>::NAME;

/// Euler's constant (numpy's `np.euler_gamma`).
const EULER_GAMMA: f64 = 0.577_215_664_901_532_9;

/// The rows each tree is grown on: `"auto"` (`min(256, n_samples)`), a count (at most the
/// number of rows; more is cut to it, as scikit-learn after a warning), or a fraction of the
/// rows in `(0, 1]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum MaxSamples {
    /// A number of rows (>= 1).
    Count(usize),
    /// `floor(fraction * n_samples)` rows.
    Fraction(f64),
    /// `"auto"`.
    Auto(String),
}

impl Default for MaxSamples {
    fn default() -> Self {
        MaxSamples::Auto("auto".into())
    }
}

pub use crate::models::kit::Contamination;

/// The settings of an isolation forest, with scikit-learn's names and defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IsolationForest {
    /// The number of trees (default 100).
    pub n_estimators: usize,
    /// The rows each tree is grown on (default `"auto"`: `min(256, n_samples)`).
    pub max_samples: MaxSamples,
    /// The expected share of outliers (default `"auto"`).
    pub contamination: Contamination,
    /// The features each tree sees: a count in `[1, n_features]` or a fraction in `(0, 1]`
    /// (`max(1, floor(fraction * n_features))`; default 1.0, every feature).
    pub max_features: MaxFeatures,
    /// Draw each tree's rows with replacement (default false).
    pub bootstrap: bool,
    /// The seed (`None`: the fit context's).
    pub random_state: Option<u64>,
}

impl Default for IsolationForest {
    fn default() -> Self {
        Self {
            n_estimators: 100,
            max_samples: MaxSamples::default(),
            contamination: Contamination::default(),
            max_features: MaxFeatures::Fraction(1.0),
            bootstrap: false,
            random_state: None,
        }
    }
}

setters!(IsolationForest {
    n_estimators: usize,
    max_samples: MaxSamples,
    contamination: Contamination,
    max_features: MaxFeatures,
    bootstrap: bool,
    random_state: u64 => Some,
});

/// A fitted [`IsolationForest`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IsolationForestModel {
    /// The trees; a leaf's value is the path length of a row ending there (its depth plus
    /// [`average_path_length`] of its training rows).
    trees: Vec<FlatTree>,
    /// The rows each tree was grown on (scikit-learn's `max_samples_`).
    max_samples: usize,
    /// `decision_function = score_samples - offset` (scikit-learn's `offset_`).
    offset: f64,
    /// The number of input features.
    n_features: usize,
    /// The trees' compact prediction layout, built on first use (never saved).
    #[serde(skip)]
    fast: LazyCache<Option<Vec<FastTree>>>,
}

/// scikit-learn's `_average_path_length`: the average path length of an unsuccessful search
/// in a binary search tree of `n` keys, `c(n) = 2 (ln(n - 1) + γ) - 2 (n - 1) / n` (0 for
/// `n <= 1`, 1 for `n = 2`) — what a leaf holding `n` training rows adds to a path.
pub fn average_path_length(n: u64) -> f64 {
    match n {
        0 | 1 => 0.0,
        2 => 1.0,
        _ => {
            let n = n as f64;
            2.0 * ((n - 1.0).ln() + EULER_GAMMA) - 2.0 * (n - 1.0) / n
        }
    }
}

/// The depth limit of trees grown on `max_samples` rows: `ceil(log2(max(max_samples, 2)))`.
fn max_depth_for(max_samples: usize) -> usize {
    (max_samples.max(2) as f64).log2().ceil() as usize
}

/// The settings resolved for the data.
struct Plan {
    n_estimators: usize,
    max_samples: usize,
    max_features: usize,
    tree: TreeConfig,
    contamination: Option<f64>,
}

impl IsolationForest {
    /// Checks every setting and resolves it for `n` rows of `p` features.
    fn plan(&self, n: usize, p: usize) -> Result<Plan> {
        if self.n_estimators == 0 {
            return Err(Error::param("n_estimators", 0, "an integer >= 1"));
        }
        let contamination = self.contamination.fraction()?;
        let max_samples = match &self.max_samples {
            MaxSamples::Auto(s) if s == "auto" => n.min(256),
            MaxSamples::Count(c) if *c >= 1 => (*c).min(n),
            MaxSamples::Fraction(f) if *f > 0.0 && *f <= 1.0 => (f * n as f64) as usize,
            other => {
                return Err(Error::param(
                    "max_samples",
                    format!("{other:?}"),
                    "\"auto\", an integer >= 1 or a fraction in (0, 1]",
                ))
            }
        };
        if max_samples == 0 {
            return Err(Error::param(
                "max_samples",
                format!("{:?}", self.max_samples),
                &format!("at least one of the {n} rows"),
            ));
        }
        let max_features = match &self.max_features {
            MaxFeatures::Count(c) if *c >= 1 && *c <= p => *c,
            MaxFeatures::Fraction(f) if *f > 0.0 && *f <= 1.0 => ((f * p as f64) as usize).max(1),
            other => {
                return Err(Error::param(
                    "max_features",
                    format!("{other:?}"),
                    &format!("an integer in [1, {p}] or a fraction in (0, 1]"),
                ))
            }
        };
        // scikit-learn's base tree: ExtraTreeRegressor(max_features=1, splitter="random").
        let tree = GrowthParams {
            max_depth: Some(max_depth_for(max_samples).max(1)),
            min_samples_split: SampleCount::Count(2),
            min_samples_leaf: SampleCount::Count(1),
            min_weight_fraction_leaf: 0.0,
            max_features: Some(&MaxFeatures::Count(1)),
            max_leaf_nodes: None,
            min_impurity_decrease: 0.0,
            splitter: SplitStrategy::Random,
        }
        .resolve(max_samples, max_features)?;
        Ok(Plan {
            n_estimators: self.n_estimators,
            max_samples,
            max_features,
            tree,
            contamination,
        })
    }
}

/// The training rows (row-major, `NaN` missing) and the sampling weights.
struct Rows<'a> {
    x: &'a [f64],
    n: usize,
    p: usize,
    /// The sample weights and their running sums, when there are weights.
    weights: Option<(Vec<f64>, Vec<f64>)>,
}

impl Rows<'_> {
    /// The rows of one tree: `(row, times drawn)`, rows in increasing order.
    fn draw(&self, k: usize, bootstrap: bool, rng: &mut ChaCha8Rng) -> Vec<(usize, u32)> {
        let mut counts = vec![0u32; self.n];
        let mut add = |i: usize| {
            if let Some(c) = counts.get_mut(i) {
                *c += 1;
            }
        };
        match (&self.weights, bootstrap) {
            (None, false) => rand::seq::index::sample(rng, self.n, k)
                .into_iter()
                .for_each(add),
            (None, true) => (0..k).for_each(|_| add(rng.gen_range(0..self.n))),
            (Some((_, cum)), true) => {
                let total = cum.last().copied().unwrap_or(0.0);
                for _ in 0..k {
                    let u = rng.gen::<f64>() * total;
                    add(cum.partition_point(|&c| c <= u).min(self.n - 1));
                }
            }
            (Some((w, _)), false) => {
                // Weighted sampling without replacement (Efraimidis-Spirakis keys
                // `ln(u) / w`, the `k` largest): numpy's `choice(n, k, replace=False, p)`
                // in distribution.
                let mut keys: Vec<(f64, usize)> = w
                    .iter()
                    .enumerate()
                    .filter_map(|(i, &wi)| {
                        let u: f64 = rng.gen::<f64>();
                        (wi > 0.0).then(|| ((1.0 - u).ln() / wi, i))
                    })
                    .collect();
                keys.sort_unstable_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
                keys.iter().take(k).for_each(|&(_, i)| add(i));
            }
        }
        counts
            .iter()
            .enumerate()
            .filter(|(_, &c)| c > 0)
            .map(|(i, &c)| (i, c))
            .collect()
    }

    /// Grows tree `t`: draws its features and rows, then an extremely randomized tree on a
    /// random target, whose leaves are turned into path lengths.
    fn grow(&self, plan: &Plan, bootstrap: bool, mut rng: ChaCha8Rng) -> Option<FlatTree> {
        let features: Vec<usize> = if plan.max_features >= self.p {
            (0..self.p).collect()
        } else {
            rand::seq::index::sample(&mut rng, self.p, plan.max_features).into_vec()
        };
        let rows = self.draw(plan.max_samples, bootstrap, &mut rng);
        let m = rows.len();
        let mut cols = Vec::with_capacity(m * features.len());
        for &f in &features {
            cols.extend(
                rows.iter()
                    .map(|&(i, _)| self.x.get(i * self.p + f).copied().unwrap_or(f64::NAN)),
            );
        }
        let x = Columns::from_column_major(m, features.len(), cols)?;
        let y: Vec<f64> = (0..m).map(|_| rng.gen::<f64>()).collect();
        let w: Vec<f64> = rows.iter().map(|&(_, c)| f64::from(c)).collect();
        let target = Target::Values {
            y: &y,
            criterion: RegressionCriterion::SquaredError,
        };
        let tree = fit_tree(&target, &x, None, &w, &plan.tree, &mut rng);
        isolation_tree(&tree, &features)
    }
}

/// The tree with its features mapped back to the data's columns (`features[f]`) and each
/// leaf valued by the path length of a row ending there: scikit-learn's
/// `decision_path_length + average_path_length(n_node_samples) - 1`.
fn isolation_tree(tree: &FlatTree, features: &[usize]) -> Option<FlatTree> {
    let nodes = tree.nodes();
    let mut depth = vec![0usize; nodes.len()];
    let mut raw = Vec::with_capacity(nodes.len());
    let mut values = vec![0.0; nodes.len()];
    for (i, node) in nodes.iter().enumerate() {
        let d = *depth.get(i)?;
        let n = *tree.n_node_samples().get(i)?;
        let split = if node.is_leaf() {
            *values.get_mut(i)? = ((d + 1) as f64 + average_path_length(n)) - 1.0;
            None
        } else {
            for c in [node.left, node.right] {
                *depth.get_mut(c as usize)? = d + 1;
            }
            let f = u32::try_from(*features.get(node.feature as usize)?).ok()?;
            Some((f, node.threshold, node.missing_go_left))
        };
        raw.push(RawNode {
            split,
            left: node.left,
            right: node.right,
            impurity: *tree.impurity().get(i)?,
            n,
            w: *tree.weighted_n_node_samples().get(i)?,
        });
    }
    Some(FlatTree::from_raw(raw, &values, 1))
}

impl Trainer for IsolationForest {
    type Model = IsolationForestModel;
    const NAME: &'static str = "isolation_forest";

    /// Grows the forest; a target is not needed (a given one is ignored); sample weights
    /// are scikit-learn's `sample_weight` (the probability of a row to be drawn for a tree).
    fn fit_with(&self, data: &dyn Dataset, ctx: &FitContext<'_>) -> Result<Self::Model> {
        let n = data.n_samples();
        let p = data.n_features();
        if n == 0 || p == 0 {
            return Err(Error::Empty(format!(
                "{NAME} training data ({n} rows, {p} features)"
            )));
        }
        let plan = self.plan(n, p)?;
        check_numeric_kinds(NAME, data.feature_kinds(), data.feature_names())?;
        let features = data.features();
        let mut x = Vec::with_capacity(n * p);
        for (i, row) in features.outer_iter().enumerate() {
            if let Some(j) = row.iter().position(|v| v.is_infinite()) {
                return Err(Error::InvalidValue {
                    context: NAME.into(),
                    row: i,
                    column: Some(
                        data.feature_names()
                            .get(j)
                            .cloned()
                            .unwrap_or_else(|| format!("x{j}")),
                    ),
                    message: "an infinite value is not usable (NaN means missing)".into(),
                });
            }
            x.extend(row.iter());
        }
        drop(features);
        let weights = match data.weights() {
            None => None,
            Some(w) => {
                if let Some(i) = w.iter().position(|v| !(v.is_finite() && *v >= 0.0)) {
                    return Err(Error::InvalidValue {
                        context: format!("{NAME} sample weights"),
                        row: i,
                        column: None,
                        message: "sample weights must be finite and >= 0".into(),
                    });
                }
                let positive = w.iter().filter(|&&v| v > 0.0).count();
                if positive == 0 || (!self.bootstrap && positive < plan.max_samples) {
                    return Err(Error::InvalidArgument(format!(
                        "{NAME}: {positive} rows have a positive sample weight; drawing \
                         max_samples = {} rows without replacement needs as many",
                        plan.max_samples
                    )));
                }
                let mut acc = 0.0;
                let cum = w
                    .iter()
                    .map(|v| {
                        acc += v;
                        acc
                    })
                    .collect();
                Some((w.to_vec(), cum))
            }
        };
        let rows = Rows {
            x: &x,
            n,
            p,
            weights,
        };
        let seed = self.random_state.unwrap_or_else(|| ctx.seed());
        let done = AtomicUsize::new(0);
        let cancelled = AtomicBool::new(false);
        let stopped = AtomicBool::new(false);
        let trees: Vec<Option<FlatTree>> = ctx.install(|| {
            (0..plan.n_estimators)
                .into_par_iter()
                .map(|t| {
                    if cancelled.load(Ordering::Relaxed) || stopped.load(Ordering::Relaxed) {
                        return None;
                    }
                    let tree = rows.grow(&plan, self.bootstrap, rng::for_task(seed, t as u64));
                    let k = done.fetch_add(1, Ordering::Relaxed) + 1;
                    let event = FitEvent {
                        stage: NAME,
                        iteration: k,
                        total: Some(plan.n_estimators),
                        values: &[],
                    };
                    match ctx.report(&event) {
                        Control::Continue => {}
                        Control::Stop => stopped.store(true, Ordering::Relaxed),
                        Control::Cancel => cancelled.store(true, Ordering::Relaxed),
                    }
                    tree
                })
                .collect()
        })?;
        if cancelled.load(Ordering::Relaxed) {
            return Err(Error::Cancelled(format!(
                "{NAME}: fit cancelled by the callback"
            )));
        }
        let grown = trees.len();
        let trees: Vec<FlatTree> = trees.into_iter().flatten().collect();
        if trees.is_empty() || (trees.len() < grown && !stopped.load(Ordering::Relaxed)) {
            return Err(Error::InvalidArgument(format!(
                "{NAME}: a tree could not be grown"
            )));
        }
        let mut model = IsolationForestModel {
            trees,
            max_samples: plan.max_samples,
            offset: -0.5,
            n_features: p,
            fast: LazyCache::default(),
        };
        if let Some(c) = plan.contamination {
            let x = ndarray::ArrayView2::from_shape((n, p), &x)
                .map_err(|e| Error::shape(NAME, format!("{n}x{p}"), e))?;
            let mut scores = vec![0.0; n];
            ctx.install(|| model.score_into(x, &mut scores))??;
            model.offset = percentile_linear(&scores, 100.0 * c).unwrap_or(-0.5);
        }
        Ok(model)
    }
}

impl IsolationForestModel {
    /// The trees (leaf values are path lengths).
    pub fn trees(&self) -> &[FlatTree] {
        &self.trees
    }

    /// `decision_function = score_samples - offset` (scikit-learn's `offset_`): `-0.5` for
    /// `contamination: "auto"`, else the `contamination` percentile of the training scores.
    pub fn offset(&self) -> f64 {
        self.offset
    }

    /// The rows each tree was grown on (scikit-learn's `max_samples_`).
    pub fn max_samples(&self) -> usize {
        self.max_samples
    }

    /// scikit-learn's `decision_function`: `score_samples - offset`, one value per row of
    /// `x`; negative for outliers.
    pub fn decision_function(&self, x: ArrayView2<'_, f64>) -> Result<Vec<f64>> {
        let mut out = vec![0.0; x.nrows()];
        self.score_into(x, &mut out)?;
        out.iter_mut().for_each(|v| *v -= self.offset);
        Ok(out)
    }

    /// The trees' compact prediction layouts, built on first use.
    fn fast(&self) -> Result<&[FastTree]> {
        self.fast
            .get_or_init(|| self.trees.iter().map(|t| t.fast(self.n_features)).collect())
            .as_deref()
            .ok_or_else(|| walk_error(NAME))
    }

    /// `score_samples` of a block of contiguous rows (`n_features` values each), one per slot
    /// of `out`: the path lengths summed tree by tree in tree order (each tree's nodes stay
    /// in cache for the whole block), then `-2^(-Σh / (n_trees · c(max_samples)))`.
    fn score_block(&self, rows: &[f64], out: &mut [f64]) -> Result<()> {
        out.fill(0.0);
        let rows = rows.get(..out.len() * self.n_features).unwrap_or(&[]);
        for t in self.fast()? {
            t.add_to_block(rows, out, 1, 0);
        }
        let denominator = self.trees.len() as f64 * average_path_length(self.max_samples as u64);
        for v in out.iter_mut() {
            // One training row: path lengths and c(1) are 0; scikit-learn sets 2^-1.
            let ratio = if denominator != 0.0 {
                *v / denominator
            } else {
                1.0
            };
            *v = -(2f64).powf(-ratio);
        }
        Ok(())
    }

    /// Checks one row and one output slot.
    fn check_row(&self, row: &[f64], out: &[f64], what: &str) -> Result<()> {
        if row.len() != self.n_features || out.len() != 1 {
            return Err(Error::shape(
                what,
                format!("{} values in, 1 out", self.n_features),
                format!("{} in, {} out", row.len(), out.len()),
            ));
        }
        Ok(())
    }

    /// `+1` for a score at or above the offset, `-1` below it.
    fn label(&self, score: f64) -> f64 {
        if score - self.offset < 0.0 {
            -1.0
        } else {
            1.0
        }
    }
}

impl Model for IsolationForestModel {
    fn n_features(&self) -> usize {
        self.n_features
    }

    fn validate(&self) -> Result<()> {
        let corrupt = |m: String| Err(Error::ModelCorrupt(format!("fitted {NAME}: {m}")));
        if self.trees.is_empty() {
            return corrupt("no trees".into());
        }
        if self.n_features == 0 {
            return corrupt("0 features".into());
        }
        if self.max_samples == 0 {
            return corrupt("max_samples is 0".into());
        }
        if !self.offset.is_finite() {
            return corrupt(format!("offset {} is not finite", self.offset));
        }
        let max_depth = max_depth_for(self.max_samples).max(1);
        for (i, t) in self.trees.iter().enumerate() {
            t.validate(self.n_features)
                .map_err(|e| Error::ModelCorrupt(format!("{NAME}: tree {i}: {e}")))?;
            if t.n_outputs() != 1 {
                return corrupt(format!("tree {i} has {} values per leaf", t.n_outputs()));
            }
            if t.depth() > max_depth {
                return corrupt(format!(
                    "tree {i} is {} deep, more than {max_depth} for max_samples {}",
                    t.depth(),
                    self.max_samples
                ));
            }
            let bad_leaf = (0..t.node_count())
                .filter(|&j| t.nodes().get(j).is_some_and(|n| n.is_leaf()))
                .filter_map(|j| t.leaf_values(j).and_then(|v| v.first().copied()))
                .any(|v| v < 0.0);
            if bad_leaf {
                return corrupt(format!("tree {i} has a negative path length"));
            }
        }
        Ok(())
    }
}

/// `+1` (inlier) or `-1` (outlier) per row: the sign of `decision_function` (0 is an inlier).
impl Predictor for IsolationForestModel {
    fn predict_into(&self, x: ArrayView2<'_, f64>, out: &mut [f64]) -> Result<()> {
        self.score_into(x, out)?;
        out.iter_mut().for_each(|v| *v = self.label(*v));
        Ok(())
    }

    /// Allocation-free.
    fn predict_row_into(&self, row: &[f64], out: &mut [f64]) -> Result<()> {
        self.score_row_into(row, out)?;
        out.iter_mut().for_each(|v| *v = self.label(*v));
        Ok(())
    }
}

/// scikit-learn's `score_samples` (one column; `decision_function` is it minus
/// [`IsolationForestModel::offset`]).
impl ScorePredictor for IsolationForestModel {
    fn n_scores(&self) -> usize {
        1
    }

    fn score_into(&self, x: ArrayView2<'_, f64>, out: &mut [f64]) -> Result<()> {
        check_predict_shapes(NAME, x, self.n_features, out.len(), 1)?;
        let block = ensemble_block_rows(x.nrows());
        par_row_blocks(x, out, 1, block, |rows, chunk| {
            self.score_block(rows, chunk)
        })
    }

    /// Allocation-free.
    fn score_row_into(&self, row: &[f64], out: &mut [f64]) -> Result<()> {
        self.check_row(row, out, "isolation_forest score_row")?;
        self.score_block(row, out)
    }
}

impl Outputs for IsolationForestModel {
    fn as_scorer(&self) -> Option<&dyn ScorePredictor> {
        Some(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::DenseDataset;
    use ndarray::Array2;

    fn data() -> DenseDataset {
        let x = Array2::from_shape_fn((60, 3), |(i, j)| ((i * 7 + j * 5) % 13) as f64);
        DenseDataset::unsupervised(x).unwrap()
    }

    fn param_error(f: IsolationForest, name: &str) {
        let err = f.fit(&data()).err();
        assert_eq!(
            err.as_ref().and_then(Error::parameter),
            Some(name),
            "{err:?}"
        );
    }

    #[test]
    fn bad_settings_are_errors_naming_the_parameter() {
        let d = IsolationForest::default;
        param_error(d().n_estimators(0), "n_estimators");
        param_error(
            d().contamination(Contamination::Fraction(0.0)),
            "contamination",
        );
        param_error(
            d().contamination(Contamination::Fraction(0.6)),
            "contamination",
        );
        param_error(
            d().contamination(Contamination::Auto("x".into())),
            "contamination",
        );
        param_error(d().max_samples(MaxSamples::Count(0)), "max_samples");
        param_error(d().max_samples(MaxSamples::Fraction(1.5)), "max_samples");
        param_error(d().max_samples(MaxSamples::Fraction(0.001)), "max_samples");
        param_error(
            d().max_samples(MaxSamples::Auto("all".into())),
            "max_samples",
        );
        param_error(d().max_features(MaxFeatures::Count(4)), "max_features");
        param_error(d().max_features(MaxFeatures::Fraction(0.0)), "max_features");
    }

    #[test]
    fn average_path_length_small_values() {
        assert_eq!(average_path_length(0), 0.0);
        assert_eq!(average_path_length(1), 0.0);
        assert_eq!(average_path_length(2), 1.0);
        let c5 = 2.0 * (4f64.ln() + EULER_GAMMA) - 2.0 * 4.0 / 5.0;
        assert_eq!(average_path_length(5), c5);
        assert_eq!(max_depth_for(256), 8);
        assert_eq!(max_depth_for(257), 9);
        assert_eq!(max_depth_for(1), 1);
    }

    #[test]
    fn trees_respect_the_depth_limit_and_corruption_is_caught() {
        let m = IsolationForest::default()
            .n_estimators(10)
            .max_samples(MaxSamples::Count(16))
            .random_state(1)
            .fit(&data())
            .unwrap();
        m.validate().unwrap();
        assert!(m.trees().iter().all(|t| t.depth() <= 4));
        assert!(m.trees().iter().any(|t| t.depth() == 4));
        let mut bad = m.clone();
        bad.max_samples = 4;
        assert!(matches!(bad.validate(), Err(Error::ModelCorrupt(_))));
        let mut bad = m.clone();
        bad.n_features = 2;
        assert!(bad.validate().is_err());
        let mut bad = m.clone();
        bad.trees.clear();
        assert!(bad.validate().is_err());
        let mut bad = m;
        bad.offset = f64::NAN;
        assert!(bad.validate().is_err());
    }

    #[test]
    fn one_row_scores_as_scikit_learn() {
        let x = Array2::from_shape_vec((1, 2), vec![1.0, 2.0]).unwrap();
        let m = IsolationForest::default()
            .fit(&DenseDataset::unsupervised(x).unwrap())
            .unwrap();
        let mut s = [0.0];
        m.score_row_into(&[5.0, 5.0], &mut s).unwrap();
        assert_eq!(s[0], -0.5);
    }

    #[test]
    fn missing_values_are_taken() {
        let mut x = Array2::from_shape_fn((40, 2), |(i, j)| (i * (j + 1)) as f64);
        x[[3, 0]] = f64::NAN;
        x[[7, 1]] = f64::NAN;
        let m = IsolationForest::default()
            .n_estimators(5)
            .fit(&DenseDataset::unsupervised(x).unwrap())
            .unwrap();
        let mut s = [0.0];
        m.score_row_into(&[f64::NAN, 3.0], &mut s).unwrap();
        assert!(s[0] < 0.0 && s[0] > -1.0);
    }
}
