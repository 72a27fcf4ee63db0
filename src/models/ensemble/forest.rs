//! Random forests and extremely randomized trees, as scikit-learn's
//! `RandomForestClassifier` / `RandomForestRegressor` / `ExtraTreesClassifier` /
//! `ExtraTreesRegressor`.
//!
//! Trees are grown in parallel (rayon); tree `t` draws everything (its bootstrap sample, its
//! candidate features, its random thresholds) from `rng::for_task(random_state, t)`, so the
//! forest is the same bit for bit whatever the number of threads. A bootstrap sample is given
//! to its tree as sample weights (how many times each row was drawn), as scikit-learn does.
//! Class probabilities are the mean of the trees' probabilities; regression predictions the
//! mean of the trees' predictions.
//!
//! ```
//! use amlis::data::DenseDataset;
//! use amlis::models::ensemble::forest::RandomForestClassifier;
//! use amlis::traits::{FitContext, Predictor, Trainer};
//! use ndarray::{array, Array1, Array2};
//!
//! // two blobs
//! let x = Array2::from_shape_fn((40, 2), |(i, j)| (i % 20) as f64 * 0.1 + if i < 20 { 0.0 } else { 5.0 } + j as f64);
//! let y: Array1<f64> = (0..40).map(|i| if i < 20 { 0.0 } else { 1.0 }).collect();
//! let data = DenseDataset::classification(x, y)?;
//! let forest = RandomForestClassifier::default()
//!     .n_estimators(20)
//!     .oob_score(true)
//!     .fit_with(&data, &FitContext::new().random_state(1))?;
//! assert_eq!(forest.predict(array![[0.5, 1.5], [5.5, 6.5]].view())?.to_vec(), vec![0.0, 1.0]);
//! assert_eq!(forest.oob_score(), Some(1.0));
//! # Ok::<(), amlis::Error>(())
//! ```

use std::marker::PhantomData;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use ndarray::{Array2, ArrayView2};
use rand::Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::common::rng;
use crate::error::{Error, Result};
use crate::models::kit::setters;
use crate::models::kit::validate::check_predict_shapes;
use crate::models::tree::builder::shared_sort;
use crate::models::tree::classify::{check_proba_row, probabilistic_classifier};
use crate::models::tree::data::{
    class_targets, class_weight_factors, regression_targets, sample_weights, Columns,
};
use crate::models::tree::decision_tree::{
    argmax, check_weight_sum, fit_tree, growth_builders, with_growth_params, Target,
};
use crate::models::tree::flat::{
    ensemble_block_rows, par_row_blocks, walk_error, DecisionPath, FastTree, FlatTree, LazyCache,
    ROW_BLOCK,
};
use crate::models::tree::params::{
    ClassWeight, ClassificationCriterion, MaxFeatures, MaxFeaturesRule, RegressionCriterion,
    SampleCount, SplitStrategy, TreeConfig,
};
use crate::traits::{Control, Dataset, FitContext, FitEvent, Model, Predictor, Trainer};

/// The kind of forest: how trees choose thresholds and whether they bootstrap by default.
pub trait ForestKind: Send + Sync + std::fmt::Debug + Clone + Copy + PartialEq + Default {
    /// The splitter of every tree.
    const SPLITTER: SplitStrategy;
    /// The default of `bootstrap`.
    const BOOTSTRAP: bool;
    /// The config `type` name of the classifier (its trainer's `NAME`).
    const CLASSIFIER_NAME: &'static str;
    /// The config `type` name of the regressor (its trainer's `NAME`).
    const REGRESSOR_NAME: &'static str;
}

/// Random forests: best thresholds, bootstrap samples.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RandomForest;

/// Extremely randomized trees: random thresholds, the whole training set per tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ExtraTrees;

impl ForestKind for RandomForest {
    const SPLITTER: SplitStrategy = SplitStrategy::Best;
    const BOOTSTRAP: bool = true;
    const CLASSIFIER_NAME: &'static str = "random_forest_classifier";
    const REGRESSOR_NAME: &'static str = "random_forest_regressor";
}

impl ForestKind for ExtraTrees {
    const SPLITTER: SplitStrategy = SplitStrategy::Random;
    const BOOTSTRAP: bool = false;
    const CLASSIFIER_NAME: &'static str = "extra_trees_classifier";
    const REGRESSOR_NAME: &'static str = "extra_trees_regressor";
}

with_growth_params! {
/// A forest of classification trees (see [`RandomForestClassifier`],
/// [`ExtraTreesClassifier`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default, bound = "")]
pub struct ForestClassifier<K: ForestKind> {
    /// The number of trees.
    pub n_estimators: usize,
    /// The impurity to minimise: `gini`, `entropy` or `log_loss`.
    pub criterion: ClassificationCriterion,
    @growth {
        max_depth: "The maximum depth of each tree (`null`: unlimited).",
        max_features: "Candidate features per split (default `\"sqrt\"`; `null`: all).",
        max_leaf_nodes: "Grow each tree best-first to at most this many leaves.",
    }
    /// Whether each tree sees a bootstrap sample (default: true for random forests, false
    /// for extra trees).
    pub bootstrap: bool,
    /// Whether to compute the out-of-bag accuracy (needs `bootstrap`).
    pub oob_score: bool,
    /// Class weights: `null`, `"balanced"`, `"balanced_subsample"` or a label → weight map.
    pub class_weight: Option<ClassWeight>,
    /// Rows per bootstrap sample: a count, a fraction of the rows, or `null` for all.
    pub max_samples: Option<SampleCount>,
    #[serde(skip)]
    kind: PhantomData<K>,
}}

with_growth_params! {
/// A forest of regression trees (see [`RandomForestRegressor`], [`ExtraTreesRegressor`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default, bound = "")]
pub struct ForestRegressor<K: ForestKind> {
    /// The number of trees.
    pub n_estimators: usize,
    /// The impurity to minimise: `squared_error` or `friedman_mse`.
    pub criterion: RegressionCriterion,
    @growth {
        max_depth: "The maximum depth of each tree (`null`: unlimited).",
        max_features: "Candidate features per split (default `1.0`: all).",
        max_leaf_nodes: "Grow each tree best-first to at most this many leaves.",
    }
    /// Whether each tree sees a bootstrap sample.
    pub bootstrap: bool,
    /// Whether to compute the out-of-bag R² (needs `bootstrap`).
    pub oob_score: bool,
    /// Rows per bootstrap sample: a count, a fraction of the rows, or `null` for all.
    pub max_samples: Option<SampleCount>,
    #[serde(skip)]
    kind: PhantomData<K>,
}}

/// `RandomForestClassifier`: bootstrap samples, best splits among `sqrt(n_features)` features.
pub type RandomForestClassifier = ForestClassifier<RandomForest>;
/// `ExtraTreesClassifier`: the whole training set, random thresholds.
pub type ExtraTreesClassifier = ForestClassifier<ExtraTrees>;
/// `RandomForestRegressor`: bootstrap samples, best splits among all features.
pub type RandomForestRegressor = ForestRegressor<RandomForest>;
/// `ExtraTreesRegressor`: the whole training set, random thresholds.
pub type ExtraTreesRegressor = ForestRegressor<ExtraTrees>;

/// A fitted [`RandomForestClassifier`].
pub type RandomForestClassifierModel = ForestClassifierModel;
/// A fitted [`ExtraTreesClassifier`].
pub type ExtraTreesClassifierModel = ForestClassifierModel;
/// A fitted [`RandomForestRegressor`].
pub type RandomForestRegressorModel = ForestRegressorModel;
/// A fitted [`ExtraTreesRegressor`].
pub type ExtraTreesRegressorModel = ForestRegressorModel;

impl<K: ForestKind> Default for ForestClassifier<K> {
    fn default() -> Self {
        Self {
            n_estimators: 100,
            criterion: ClassificationCriterion::Gini,
            max_depth: None,
            min_samples_split: SampleCount::Count(2),
            min_samples_leaf: SampleCount::Count(1),
            min_weight_fraction_leaf: 0.0,
            max_features: Some(MaxFeatures::Rule(MaxFeaturesRule::Sqrt)),
            max_leaf_nodes: None,
            min_impurity_decrease: 0.0,
            bootstrap: K::BOOTSTRAP,
            oob_score: false,
            class_weight: None,
            max_samples: None,
            kind: PhantomData,
        }
    }
}

impl<K: ForestKind> Default for ForestRegressor<K> {
    fn default() -> Self {
        Self {
            n_estimators: 100,
            criterion: RegressionCriterion::SquaredError,
            max_depth: None,
            min_samples_split: SampleCount::Count(2),
            min_samples_leaf: SampleCount::Count(1),
            min_weight_fraction_leaf: 0.0,
            max_features: Some(MaxFeatures::Fraction(1.0)),
            max_leaf_nodes: None,
            min_impurity_decrease: 0.0,
            bootstrap: K::BOOTSTRAP,
            oob_score: false,
            max_samples: None,
            kind: PhantomData,
        }
    }
}

growth_builders!([K: ForestKind] ForestClassifier<K>, <Self as CriterionOf>::Criterion);
growth_builders!([K: ForestKind] ForestRegressor<K>, <Self as CriterionOf>::Criterion);

/// Builder methods and settings shared by both forest trainers.
macro_rules! forest_common {
    ($t:ident) => {
        setters!([K: ForestKind] $t<K> {
            n_estimators: usize,
            bootstrap: bool,
            oob_score: bool,
            max_samples: Option<SampleCount>,
        });

        impl<K: ForestKind> $t<K> {
            fn settings(&self, n: usize, n_features: usize) -> Result<Settings> {
                let tree = self.growth_params(K::SPLITTER).resolve(n, n_features)?;
                if self.n_estimators == 0 {
                    return Err(Error::param("n_estimators", 0, "an integer >= 1"));
                }
                if self.oob_score && !self.bootstrap {
                    return Err(Error::param(
                        "oob_score",
                        true,
                        "false when bootstrap is false (out-of-bag rows need bootstrap samples)",
                    ));
                }
                let n_boot = match (self.bootstrap, self.max_samples) {
                    (_, None) => n,
                    (false, Some(m)) => {
                        return Err(Error::param(
                            "max_samples",
                            format!("{m:?}"),
                            "null when bootstrap is false",
                        ))
                    }
                    (true, Some(SampleCount::Count(c))) if c >= 1 && c <= n => c,
                    (true, Some(SampleCount::Fraction(f))) if f > 0.0 && f <= 1.0 => {
                        ((n as f64 * f).round() as usize).max(1)
                    }
                    (true, Some(m)) => {
                        return Err(Error::param(
                            "max_samples",
                            format!("{m:?}"),
                            &format!("null, an integer in [1, {n}] or a fraction in (0, 1]"),
                        ))
                    }
                };
                Ok(Settings {
                    tree,
                    n_estimators: self.n_estimators,
                    bootstrap: self.bootstrap,
                    n_boot,
                    oob: self.oob_score,
                })
            }
        }
    };
}

/// The criterion type of a forest trainer (for the shared `criterion` builder).
pub trait CriterionOf {
    /// The criterion enum.
    type Criterion;
}
impl<K: ForestKind> CriterionOf for ForestClassifier<K> {
    type Criterion = ClassificationCriterion;
}
impl<K: ForestKind> CriterionOf for ForestRegressor<K> {
    type Criterion = RegressionCriterion;
}

forest_common!(ForestClassifier);
forest_common!(ForestRegressor);

setters!([K: ForestKind] ForestClassifier<K> {
    class_weight: Option<ClassWeight>,
});

/// Resolved forest settings.
struct Settings {
    tree: TreeConfig,
    n_estimators: usize,
    bootstrap: bool,
    n_boot: usize,
    oob: bool,
}

/// One grown tree and, when out-of-bag scores are wanted, which rows it trained on.
struct Grown {
    tree: FlatTree,
    in_bag: Option<Vec<bool>>,
}

/// Grows the forest's trees in parallel, tree `t` seeded by `for_task(seed, t)`.
/// When the callback answers [`Control::Stop`], no further tree starts and the trees grown
/// so far (those already started finish) make the forest, in tree order; each is the tree
/// a full fit with the same seed grows at its index. `balance` holds what `balanced_subsample` needs: the class of each row and the setting.
fn grow_forest(
    name: &str,
    target: &Target<'_>,
    x: &Columns,
    w: &[f64],
    s: &Settings,
    balance: Option<(&[String], &[u32], &ClassWeight)>,
    ctx: &FitContext<'_>,
) -> Result<Vec<Grown>> {
    let n = w.len();
    let done = AtomicUsize::new(0);
    let cancelled = AtomicBool::new(false);
    let stopped = AtomicBool::new(false);
    let seed = ctx.seed();
    let trees: Vec<Option<Grown>> = ctx.install(|| {
        let ranks = shared_sort(&s.tree, x);
        (0..s.n_estimators)
            .into_par_iter()
            .map(|t| {
                if cancelled.load(Ordering::Relaxed) || stopped.load(Ordering::Relaxed) {
                    return None;
                }
                let mut r = rng::for_task(seed, t as u64);
                let mut tw = w.to_vec();
                let mut counts = None;
                if s.bootstrap {
                    let mut c = vec![0.0f64; n];
                    for _ in 0..s.n_boot {
                        if let Some(slot) = c.get_mut(r.gen_range(0..n)) {
                            *slot += 1.0;
                        }
                    }
                    for (wi, ci) in tw.iter_mut().zip(&c) {
                        *wi *= ci;
                    }
                    counts = Some(c);
                }
                if let Some((classes, y, cw)) = balance {
                    let f = class_weight_factors(Some(cw), classes, y, counts.as_deref())
                        .unwrap_or_else(|_| vec![1.0; classes.len()]);
                    for (wi, &c) in tw.iter_mut().zip(y) {
                        *wi *= f.get(c as usize).copied().unwrap_or(1.0);
                    }
                }
                let tree = fit_tree(target, x, ranks.as_ref(), &tw, &s.tree, &mut r);
                let in_bag = if s.oob {
                    counts.map(|c| c.iter().map(|&v| v > 0.0).collect())
                } else {
                    None
                };
                let k = done.fetch_add(1, Ordering::Relaxed) + 1;
                let event = FitEvent {
                    stage: name,
                    iteration: k,
                    total: Some(s.n_estimators),
                    values: &[],
                };
                match ctx.report(&event) {
                    Control::Continue => {}
                    Control::Stop => stopped.store(true, Ordering::Relaxed),
                    Control::Cancel => cancelled.store(true, Ordering::Relaxed),
                }
                Some(Grown { tree, in_bag })
            })
            .collect()
    })?;
    if cancelled.load(Ordering::Relaxed) {
        return Err(Error::Cancelled(format!(
            "{name}: fit cancelled by the callback"
        )));
    }
    if stopped.load(Ordering::Relaxed) {
        // Stop: the trees grown so far (in tree order) make the forest.
        return Ok(trees.into_iter().flatten().collect());
    }
    trees
        .into_iter()
        .map(|g| g.ok_or_else(|| Error::Cancelled(format!("{name}: fit cancelled"))))
        .collect()
}

/// Mean of the out-of-bag predictions of every row (`per_row` values each): the sum over the
/// trees that did not train on the row, divided by their number (rows in every bootstrap
/// sample get zeros, as scikit-learn).
fn oob_predictions(grown: &[Grown], x: &Columns, per_row: usize) -> Vec<f64> {
    let n = x.n_rows();
    let nf = x.n_features();
    let mut out = vec![0.0; n * per_row];
    out.par_chunks_mut(ROW_BLOCK * per_row)
        .enumerate()
        .for_each(|(b, chunk)| {
            let mut row = vec![0.0; nf];
            for (k, o) in chunk.chunks_mut(per_row).enumerate() {
                let i = b * ROW_BLOCK + k;
                for (j, v) in row.iter_mut().enumerate() {
                    *v = x.col(j).get(i).copied().unwrap_or(f64::NAN);
                }
                let mut count = 0usize;
                for g in grown {
                    let oob = g
                        .in_bag
                        .as_ref()
                        .is_some_and(|m| !m.get(i).copied().unwrap_or(true));
                    if oob {
                        if let Some(v) = g.tree.predict_row(&row) {
                            for (a, b) in o.iter_mut().zip(v) {
                                *a += b;
                            }
                            count += 1;
                        }
                    }
                }
                if count > 0 {
                    for a in o.iter_mut() {
                        *a /= count as f64;
                    }
                }
            }
        });
    out
}

/// Mean feature importances over the trees that split at least once, normalised.
fn mean_importances(trees: &[FlatTree], n_features: usize) -> Vec<f64> {
    let mut imp = vec![0.0; n_features];
    let mut used = 0usize;
    for t in trees.iter().filter(|t| t.node_count() > 1) {
        for (a, b) in imp.iter_mut().zip(t.feature_importances(n_features)) {
            *a += b;
        }
        used += 1;
    }
    let total: f64 = imp.iter().sum();
    if used > 0 && total > 0.0 {
        for v in imp.iter_mut() {
            *v /= total;
        }
    }
    imp
}

/// Every tree's compact prediction layout (`None` if a tree cannot have one: a malformed
/// tree, which `validate` reports).
type FastCache = LazyCache<Option<Vec<FastTree>>>;

/// A fitted forest classifier (random forest or extra trees).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ForestClassifierModel {
    trees: Vec<FlatTree>,
    classes: Vec<String>,
    n_features: usize,
    feature_importances: Vec<f64>,
    oob_score: Option<f64>,
    /// The trees' compact prediction layout, built on first use (never saved).
    #[serde(skip)]
    fast: FastCache,
}

/// A fitted forest regressor (random forest or extra trees).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ForestRegressorModel {
    trees: Vec<FlatTree>,
    n_features: usize,
    feature_importances: Vec<f64>,
    oob_score: Option<f64>,
    /// The trees' compact prediction layout, built on first use (never saved).
    #[serde(skip)]
    fast: FastCache,
}

impl<K: ForestKind> Trainer for ForestClassifier<K> {
    const NAME: &'static str = K::CLASSIFIER_NAME;
    type Model = ForestClassifierModel;

    fn fit_with(&self, data: &dyn Dataset, ctx: &FitContext<'_>) -> Result<Self::Model> {
        let name = Self::NAME;
        let s = self.settings(data.n_samples(), data.n_features())?;
        let (classes, y) = class_targets(data, name)?;
        let x = Columns::from_dataset(data, name)?;
        let mut w = sample_weights(data, name)?;
        let balance_sub = self
            .class_weight
            .as_ref()
            .is_some_and(ClassWeight::is_balanced_subsample)
            && s.bootstrap;
        if !balance_sub {
            let cw = class_weight_factors(self.class_weight.as_ref(), &classes, &y, Some(&w))?;
            for (wi, &c) in w.iter_mut().zip(&y) {
                *wi *= cw.get(c as usize).copied().unwrap_or(1.0);
            }
        }
        check_weight_sum(&w, name)?;
        let target = Target::Classes {
            y: &y,
            n_classes: classes.len(),
            criterion: self.criterion,
        };
        let balance = match &self.class_weight {
            Some(cw) if balance_sub => Some((classes.as_slice(), y.as_slice(), cw)),
            _ => None,
        };
        let grown = grow_forest(name, &target, &x, &w, &s, balance, ctx)?;
        let k = classes.len();
        let oob_score = if s.oob {
            let p = ctx.install(|| oob_predictions(&grown, &x, k))?;
            let hits = p
                .chunks(k.max(1))
                .zip(&y)
                .filter(|(row, &c)| argmax(row) == c as usize)
                .count();
            Some(hits as f64 / y.len() as f64)
        } else {
            None
        };
        let trees: Vec<FlatTree> = grown.into_iter().map(|g| g.tree).collect();
        let feature_importances = mean_importances(&trees, x.n_features());
        let model = ForestClassifierModel {
            trees,
            classes,
            n_features: x.n_features(),
            feature_importances,
            oob_score,
            fast: FastCache::default(),
        };
        // the prediction layout is built once here rather than in the first predict
        model.fast();
        Ok(model)
    }
}

impl<K: ForestKind> Trainer for ForestRegressor<K> {
    const NAME: &'static str = K::REGRESSOR_NAME;
    type Model = ForestRegressorModel;

    fn fit_with(&self, data: &dyn Dataset, ctx: &FitContext<'_>) -> Result<Self::Model> {
        let name = Self::NAME;
        let s = self.settings(data.n_samples(), data.n_features())?;
        let y = regression_targets(data, name)?;
        let x = Columns::from_dataset(data, name)?;
        let w = sample_weights(data, name)?;
        check_weight_sum(&w, name)?;
        let target = Target::Values {
            y: &y,
            criterion: self.criterion,
        };
        let grown = grow_forest(name, &target, &x, &w, &s, None, ctx)?;
        let oob_score = if s.oob {
            let p = ctx.install(|| oob_predictions(&grown, &x, 1))?;
            let mean = y.iter().sum::<f64>() / y.len() as f64;
            let ss_tot: f64 = y.iter().map(|v| (v - mean) * (v - mean)).sum();
            let ss_res: f64 = y.iter().zip(&p).map(|(a, b)| (a - b) * (a - b)).sum();
            Some(if ss_tot > 0.0 {
                1.0 - ss_res / ss_tot
            } else if ss_res == 0.0 {
                1.0
            } else {
                0.0
            })
        } else {
            None
        };
        let trees: Vec<FlatTree> = grown.into_iter().map(|g| g.tree).collect();
        let feature_importances = mean_importances(&trees, x.n_features());
        let model = ForestRegressorModel {
            trees,
            n_features: x.n_features(),
            feature_importances,
            oob_score,
            fast: FastCache::default(),
        };
        // the prediction layout is built once here rather than in the first predict
        model.fast();
        Ok(model)
    }
}

/// Writes, for every row of the block (`n_features` values each), the mean of the trees'
/// leaf values (`per_row` each) into `out`: tree by tree, so each tree's nodes stay in cache
/// for the whole block, through the compact layouts `fast` when there are. The sum runs in
/// tree order, so the result does not depend on the layout or the block size.
fn block_mean(
    trees: &[FlatTree],
    fast: Option<&[FastTree]>,
    rows: &[f64],
    n_features: usize,
    per_row: usize,
    out: &mut [f64],
    name: &str,
) -> Result<()> {
    out.fill(0.0);
    let nf = n_features.max(1);
    let k = per_row.max(1);
    let n_rows = (rows.len() / nf).min(out.len() / k);
    let rows = rows.get(..n_rows * nf).unwrap_or(&[]);
    match fast {
        Some(fast) => {
            for t in fast {
                t.add_to_block(rows, out, k, 0);
            }
        }
        None => {
            for t in trees {
                for (row, o) in rows.chunks_exact(nf).zip(out.chunks_exact_mut(k)) {
                    let v = t.predict_row(row).ok_or_else(|| walk_error(name))?;
                    for (a, b) in o.iter_mut().zip(v) {
                        *a += b;
                    }
                }
            }
        }
    }
    let inv = 1.0 / trees.len().max(1) as f64;
    for v in out.iter_mut() {
        *v *= inv;
    }
    Ok(())
}

/// Inspection and validation shared by both fitted forests.
macro_rules! forest_model_common {
    ($t:ty, $name:literal) => {
        impl $t {
            /// The fitted trees.
            pub fn trees(&self) -> &[FlatTree] {
                &self.trees
            }

            /// Mean normalised impurity decrease per feature over the trees.
            pub fn feature_importances(&self) -> &[f64] {
                &self.feature_importances
            }

            /// The out-of-bag score (accuracy or R²) when fitted with `oob_score`.
            pub fn oob_score(&self) -> Option<f64> {
                self.oob_score
            }

            /// The leaf (node index within its tree) each row of `x` ends in, per tree:
            /// one row per row of `x`, one column per tree (scikit-learn's `apply`).
            pub fn apply(&self, x: ArrayView2<'_, f64>) -> Result<Array2<usize>> {
                let context = concat!($name, " apply");
                let (n, t) = (x.nrows(), self.trees.len());
                let mut out = vec![0.0; n * t];
                check_predict_shapes(context, x, self.n_features, out.len(), t)?;
                par_row_blocks(x, &mut out, t, ROW_BLOCK, |rows, chunk| {
                    for (row, o) in rows
                        .chunks_exact(self.n_features)
                        .zip(chunk.chunks_exact_mut(t))
                    {
                        for (tree, o) in self.trees.iter().zip(o) {
                            *o = tree.apply_row(row).ok_or_else(|| walk_error($name))? as f64;
                        }
                    }
                    Ok(())
                })?;
                Array2::from_shape_vec((n, t), out.into_iter().map(|v| v as usize).collect())
                    .map_err(|e| Error::shape(context, format!("{n}x{t}"), e))
            }

            /// The nodes each row of `x` passes through in every tree, as scikit-learn's
            /// `decision_path`: a sparse row-by-node indicator whose node columns are the
            /// trees' nodes one tree after another (`node_ptr`, scikit-learn's `n_nodes_ptr`).
            pub fn decision_path(&self, x: ArrayView2<'_, f64>) -> Result<DecisionPath> {
                let context = concat!($name, " decision_path");
                check_predict_shapes(context, x, self.n_features, x.nrows(), 1)?;
                let trees: Vec<&FlatTree> = self.trees.iter().collect();
                DecisionPath::new(&trees, x, context)
            }

            /// The trees' compact prediction layouts, built on first use.
            fn fast(&self) -> Option<&[FastTree]> {
                self.fast
                    .get_or_init(|| self.trees.iter().map(|t| t.fast(self.n_features)).collect())
                    .as_deref()
            }

            fn check(&self, n_outputs: usize) -> Result<()> {
                if self.trees.is_empty() {
                    return Err(Error::ModelCorrupt(concat!($name, ": no trees").into()));
                }
                for (i, t) in self.trees.iter().enumerate() {
                    t.validate(self.n_features)
                        .map_err(|e| Error::ModelCorrupt(format!("{}: tree {i}: {e}", $name)))?;
                    if t.n_outputs() != n_outputs {
                        return Err(Error::ModelCorrupt(format!(
                            "{}: tree {i} has {} values per leaf, expected {n_outputs}",
                            $name,
                            t.n_outputs()
                        )));
                    }
                }
                if self.feature_importances.len() != self.n_features {
                    return Err(Error::ModelCorrupt(format!(
                        "{}: {} feature importances for {} features",
                        $name,
                        self.feature_importances.len(),
                        self.n_features
                    )));
                }
                Ok(())
            }
        }
    };
}

forest_model_common!(ForestClassifierModel, "forest classifier");
forest_model_common!(ForestRegressorModel, "forest regressor");

/// Classes per row handled on the stack by the single-row path.
const STACK_CLASSES: usize = 64;

impl ForestClassifierModel {
    /// Writes the class probabilities of one row into `out` (`n_classes` slots) without
    /// allocating.
    pub fn predict_proba_row_into(&self, row: &[f64], out: &mut [f64]) -> Result<()> {
        check_proba_row(
            "forest classifier predict_proba_row",
            self.n_features,
            self.classes.len(),
            row,
            out,
        )?;
        block_mean(
            &self.trees,
            self.fast(),
            row,
            self.n_features,
            out.len(),
            out,
            "forest classifier",
        )
    }

    /// Writes the class probabilities (mean over the trees) of a block of contiguous rows
    /// into `chunk`.
    fn proba_block(&self, rows: &[f64], chunk: &mut [f64]) -> Result<()> {
        block_mean(
            &self.trees,
            self.fast(),
            rows,
            self.n_features,
            self.classes.len(),
            chunk,
            "forest classifier",
        )
    }

    /// Writes the predicted class index of one row into `out[0]`; allocation-free for up to
    /// 64 classes.
    pub fn predict_row_into(&self, row: &[f64], out: &mut [f64]) -> Result<()> {
        if out.len() != 1 {
            return Err(Error::shape(
                "forest classifier predict_row",
                "1 output slot",
                out.len(),
            ));
        }
        let k = self.classes.len();
        let mut stack = [0.0; STACK_CLASSES];
        let mut heap = Vec::new();
        let buf = if k <= STACK_CLASSES {
            stack.get_mut(..k).unwrap_or(&mut [])
        } else {
            heap.resize(k, 0.0);
            heap.as_mut_slice()
        };
        self.predict_proba_row_into(row, buf)?;
        if let Some(o) = out.first_mut() {
            *o = argmax(buf) as f64;
        }
        Ok(())
    }
}

impl ForestRegressorModel {
    /// Writes the prediction of one row into `out[0]` without allocating.
    pub fn predict_row_into(&self, row: &[f64], out: &mut [f64]) -> Result<()> {
        if row.len() != self.n_features || out.len() != 1 {
            return Err(Error::shape(
                "forest regressor predict_row",
                format!("a row of {} values and 1 output slot", self.n_features),
                format!("{} values and {} slots", row.len(), out.len()),
            ));
        }
        block_mean(
            &self.trees,
            self.fast(),
            row,
            self.n_features,
            1,
            out,
            "forest regressor",
        )
    }
}

impl Model for ForestClassifierModel {
    fn n_features(&self) -> usize {
        self.n_features
    }

    fn validate(&self) -> Result<()> {
        if self.classes.is_empty() {
            return Err(Error::ModelCorrupt("forest classifier: no classes".into()));
        }
        self.check(self.classes.len())
    }
}

impl Model for ForestRegressorModel {
    fn n_features(&self) -> usize {
        self.n_features
    }

    fn validate(&self) -> Result<()> {
        self.check(1)
    }
}

impl Predictor for ForestClassifierModel {
    fn predict_row_into(&self, row: &[f64], out: &mut [f64]) -> Result<()> {
        ForestClassifierModel::predict_row_into(self, row, out)
    }

    fn predict_into(&self, x: ArrayView2<'_, f64>, out: &mut [f64]) -> Result<()> {
        check_predict_shapes(
            "forest classifier predict",
            x,
            self.n_features,
            out.len(),
            1,
        )?;
        let k = self.classes.len();
        par_row_blocks(x, out, 1, ensemble_block_rows(x.nrows()), |rows, chunk| {
            let mut proba = vec![0.0; chunk.len() * k];
            self.proba_block(rows, &mut proba)?;
            for (o, p) in chunk.iter_mut().zip(proba.chunks_exact(k.max(1))) {
                *o = argmax(p) as f64;
            }
            Ok(())
        })
    }
}

probabilistic_classifier!(
    ForestClassifierModel,
    "forest classifier",
    ensemble_block_rows
);

impl Predictor for ForestRegressorModel {
    fn predict_row_into(&self, row: &[f64], out: &mut [f64]) -> Result<()> {
        ForestRegressorModel::predict_row_into(self, row, out)
    }

    fn predict_into(&self, x: ArrayView2<'_, f64>, out: &mut [f64]) -> Result<()> {
        check_predict_shapes("forest regressor predict", x, self.n_features, out.len(), 1)?;
        par_row_blocks(x, out, 1, ensemble_block_rows(x.nrows()), |rows, chunk| {
            block_mean(
                &self.trees,
                self.fast(),
                rows,
                self.n_features,
                1,
                chunk,
                "forest regressor",
            )
        })
    }
}

/// A regression forest writes values only.
impl crate::traits::Outputs for ForestRegressorModel {}
