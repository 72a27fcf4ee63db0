//! `DecisionTreeClassifier` and `DecisionTreeRegressor` (CART, as scikit-learn's) and their
//! fitted models.

use ndarray::ArrayView2;
use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::common::rng;
use crate::error::{Error, Result};
use crate::models::kit::validate::check_predict_shapes;
use crate::models::kit::{class_weight, context, setters};
use crate::traits::{Dataset, FitContext, Model, Predictor, Trainer};

use super::builder::grow;
use super::classify::{check_proba_row, probabilistic_classifier};
use super::criterion::{AbsErrorCriterion, ClassCriterion, RegCriterion};
use super::data::{
    class_targets, class_weight_factors, regression_targets, sample_weights, Columns,
};
use super::flat::{par_row_blocks, walk_error, DecisionPath, FlatTree, ROW_BLOCK};
use super::params::{
    ClassWeight, ClassificationCriterion, RegressionCriterion, SampleCount, SplitStrategy,
    TreeConfig,
};
use super::splitter::Ranks;

/// What a tree learns to predict.
pub(crate) enum Target<'a> {
    /// Class indices `< n_classes`.
    Classes {
        y: &'a [u32],
        n_classes: usize,
        criterion: ClassificationCriterion,
    },
    /// Real values.
    Values {
        y: &'a [f64],
        criterion: RegressionCriterion,
    },
}

/// Grows one tree on the rows of `x` with positive weight `w`.
pub(crate) fn fit_tree(
    target: &Target<'_>,
    x: &Columns,
    ranks: Option<&Ranks>,
    w: &[f64],
    cfg: &TreeConfig,
    rng: &mut impl Rng,
) -> FlatTree {
    let samples: Vec<u32> = w
        .iter()
        .enumerate()
        .filter(|(_, &wi)| wi > 0.0)
        .map(|(i, _)| i as u32)
        .collect();
    match *target {
        Target::Classes {
            y,
            n_classes,
            criterion,
        } => grow(
            &ClassCriterion::new(criterion, y, w, n_classes),
            x,
            ranks,
            cfg,
            samples,
            rng,
        ),
        Target::Values { y, criterion } => match criterion {
            RegressionCriterion::AbsoluteError => {
                grow(&AbsErrorCriterion::new(y, w), x, ranks, cfg, samples, rng)
            }
            RegressionCriterion::SquaredError | RegressionCriterion::FriedmanMse => {
                grow(&RegCriterion::new(y, w), x, ranks, cfg, samples, rng)
            }
        },
    }
}

/// Checks that the weights have a positive sum.
pub(crate) fn check_weight_sum(w: &[f64], context: &str) -> Result<()> {
    if w.iter().sum::<f64>() > 0.0 {
        Ok(())
    } else {
        Err(Error::InvalidArgument(format!(
            "{context}: the sample weights (times the class weights) sum to zero"
        )))
    }
}

/// Copies `src` into `dst` (as far as both reach).
#[inline]
pub(crate) fn copy_values(dst: &mut [f64], src: &[f64]) {
    for (d, s) in dst.iter_mut().zip(src) {
        *d = *s;
    }
}

/// Index of the first largest value (numpy's `argmax`).
#[inline]
pub(crate) fn argmax(v: &[f64]) -> usize {
    let mut best = 0;
    let mut best_v = f64::NEG_INFINITY;
    for (i, &x) in v.iter().enumerate() {
        if x > best_v {
            best = i;
            best_v = x;
        }
    }
    best
}

/// Declares a tree or forest trainer: its own leading fields, then the growth
/// hyperparameters shared by trees and forests (same names, so the same serde keys, in the
/// same place), then its own trailing fields. `@growth` gives the docs of the fields whose
/// meaning differs between trees and forests.
macro_rules! with_growth_params {
    (
        $(#[$attr:meta])*
        pub struct $name:ident $(<$g:ident: $bound:ident>)? {
            $($(#[$bm:meta])* pub $bf:ident: $bt:ty,)*
            @growth {
                max_depth: $md:literal,
                max_features: $mf:literal,
                max_leaf_nodes: $ml:literal,
            }
            $($(#[$am:meta])* $av:vis $af:ident: $at:ty,)*
        }
    ) => {
        $(#[$attr])*
        pub struct $name $(<$g: $bound>)? {
            $($(#[$bm])* pub $bf: $bt,)*
            #[doc = $md]
            pub max_depth: Option<usize>,
            /// The fewest samples a node needs to be split (count or fraction).
            pub min_samples_split: $crate::models::tree::SampleCount,
            /// The fewest samples each leaf must keep (count or fraction).
            pub min_samples_leaf: $crate::models::tree::SampleCount,
            /// The smallest fraction of the total weight each leaf must keep.
            pub min_weight_fraction_leaf: f64,
            #[doc = $mf]
            pub max_features: Option<$crate::models::tree::MaxFeatures>,
            #[doc = $ml]
            pub max_leaf_nodes: Option<usize>,
            /// Split only when the weighted impurity decrease is at least this.
            pub min_impurity_decrease: f64,
            $($(#[$am])* $av $af: $at,)*
        }
    };
}
pub(crate) use with_growth_params;

with_growth_params! {
/// A CART classification tree, as scikit-learn's `DecisionTreeClassifier`.
///
/// ```
/// use amlis::data::DenseDataset;
/// use amlis::models::tree::DecisionTreeClassifier;
/// use amlis::traits::{Predictor, ProbabilisticPredictor, Trainer};
/// use ndarray::array;
///
/// // class 1 when x0 > 2.5; one row has a missing x0 and class 1
/// let x = array![[1.0, 0.0], [2.0, 1.0], [3.0, 0.0], [4.0, 1.0], [f64::NAN, 0.0]];
/// let data = DenseDataset::classification(x, array![0.0, 0.0, 1.0, 1.0, 1.0])?;
/// let model = DecisionTreeClassifier::default().max_depth(Some(2)).fit(&data)?;
/// assert_eq!((model.get_depth(), model.get_n_leaves()), (1, 2));
/// assert_eq!(model.tree().nodes()[0].threshold, 2.5);
/// let q = array![[2.9, 5.0], [f64::NAN, 5.0]];
/// assert_eq!(model.predict(q.view())?.to_vec(), vec![1.0, 1.0]);
/// assert_eq!(model.predict_proba(q.view())?.row(0).to_vec(), vec![0.0, 1.0]);
/// # Ok::<(), amlis::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DecisionTreeClassifier {
    /// The impurity to minimise: `gini`, `entropy` or `log_loss`.
    pub criterion: ClassificationCriterion,
    /// `best` or `random` thresholds.
    pub splitter: SplitStrategy,
    @growth {
        max_depth: "The maximum depth (`null`: until leaves are pure or too small).",
        max_features: "Candidate features per split (`null`: all).",
        max_leaf_nodes: "Grow best-first to at most this many leaves (`null`: depth-first, unbounded).",
    }
    /// Class weights: `null`, `"balanced"` or a map from class label to weight.
    pub class_weight: Option<ClassWeight>,
}}

impl Default for DecisionTreeClassifier {
    fn default() -> Self {
        Self {
            criterion: ClassificationCriterion::Gini,
            splitter: SplitStrategy::Best,
            max_depth: None,
            min_samples_split: SampleCount::Count(2),
            min_samples_leaf: SampleCount::Count(1),
            min_weight_fraction_leaf: 0.0,
            max_features: None,
            max_leaf_nodes: None,
            min_impurity_decrease: 0.0,
            class_weight: None,
        }
    }
}

with_growth_params! {
/// A CART regression tree, as scikit-learn's `DecisionTreeRegressor`.
///
/// ```
/// use amlis::data::DenseDataset;
/// use amlis::models::tree::DecisionTreeRegressor;
/// use amlis::traits::{Predictor, Trainer};
/// use ndarray::array;
///
/// let x = array![[0.0], [1.0], [2.0], [3.0]];
/// let data = DenseDataset::regression(x, array![1.0, 1.0, 5.0, 7.0])?;
/// let model = DecisionTreeRegressor::default().max_depth(Some(1)).fit(&data)?;
/// assert_eq!(model.predict(array![[0.2], [2.7]].view())?.to_vec(), vec![1.0, 6.0]);
/// # Ok::<(), amlis::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DecisionTreeRegressor {
    /// The impurity to minimise: `squared_error`, `friedman_mse` or `absolute_error`.
    pub criterion: RegressionCriterion,
    /// `best` or `random` thresholds.
    pub splitter: SplitStrategy,
    @growth {
        max_depth: "The maximum depth (`null`: until leaves are pure or too small).",
        max_features: "Candidate features per split (`null`: all).",
        max_leaf_nodes: "Grow best-first to at most this many leaves (`null`: depth-first, unbounded).",
    }
}}

impl Default for DecisionTreeRegressor {
    fn default() -> Self {
        Self {
            criterion: RegressionCriterion::SquaredError,
            splitter: SplitStrategy::Best,
            max_depth: None,
            min_samples_split: SampleCount::Count(2),
            min_samples_leaf: SampleCount::Count(1),
            min_weight_fraction_leaf: 0.0,
            max_features: None,
            max_leaf_nodes: None,
            min_impurity_decrease: 0.0,
        }
    }
}

/// Builder methods shared by the tree and forest trainers (one per growth hyperparameter,
/// and `criterion`), and the growth hyperparameters of one tree.
macro_rules! growth_builders {
    ([$($g:tt)*] $t:ty, $criterion:ty) => {
        $crate::models::kit::setters!([$($g)*] $t {
            criterion: $criterion,
            max_depth: Option<usize>,
            min_samples_split: $crate::models::tree::SampleCount,
            min_samples_leaf: $crate::models::tree::SampleCount,
            min_weight_fraction_leaf: f64,
            max_features: Option<$crate::models::tree::MaxFeatures>,
            max_leaf_nodes: Option<usize>,
            min_impurity_decrease: f64,
        });

        impl<$($g)*> $t {
            /// The growth hyperparameters of one tree, with `splitter`.
            fn growth_params(
                &self,
                splitter: $crate::models::tree::SplitStrategy,
            ) -> $crate::models::tree::params::GrowthParams<'_> {
                $crate::models::tree::params::GrowthParams {
                    max_depth: self.max_depth,
                    min_samples_split: self.min_samples_split,
                    min_samples_leaf: self.min_samples_leaf,
                    min_weight_fraction_leaf: self.min_weight_fraction_leaf,
                    max_features: self.max_features.as_ref(),
                    max_leaf_nodes: self.max_leaf_nodes,
                    min_impurity_decrease: self.min_impurity_decrease,
                    splitter,
                }
            }
        }
    };
}
pub(crate) use growth_builders;

growth_builders!([] DecisionTreeClassifier, ClassificationCriterion);
growth_builders!([] DecisionTreeRegressor, RegressionCriterion);

setters!(DecisionTreeClassifier {
    splitter: SplitStrategy,
    class_weight: Option<ClassWeight>,
});
setters!(DecisionTreeRegressor {
    splitter: SplitStrategy
});

/// A fitted [`DecisionTreeClassifier`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DecisionTreeClassifierModel {
    tree: FlatTree,
    classes: Vec<String>,
    n_features: usize,
    feature_importances: Vec<f64>,
}

/// A fitted [`DecisionTreeRegressor`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DecisionTreeRegressorModel {
    tree: FlatTree,
    n_features: usize,
    feature_importances: Vec<f64>,
}

impl Trainer for DecisionTreeClassifier {
    const NAME: &'static str = "decision_tree_classifier";
    type Model = DecisionTreeClassifierModel;

    fn fit_with(&self, data: &dyn Dataset, ctx: &FitContext<'_>) -> Result<Self::Model> {
        const CTX: &str = DecisionTreeClassifier::NAME;
        let cfg = self
            .growth_params(self.splitter)
            .resolve(data.n_samples(), data.n_features())?;
        class_weight::reject_subsample(self.class_weight.as_ref())?;
        let (classes, y) = class_targets(data, CTX)?;
        let x = Columns::from_dataset(data, CTX)?;
        let mut w = sample_weights(data, CTX)?;
        let cw = class_weight_factors(self.class_weight.as_ref(), &classes, &y, None)?;
        for (wi, &c) in w.iter_mut().zip(&y) {
            *wi *= cw.get(c as usize).copied().unwrap_or(1.0);
        }
        check_weight_sum(&w, CTX)?;
        let target = Target::Classes {
            y: &y,
            n_classes: classes.len(),
            criterion: self.criterion,
        };
        let tree =
            ctx.install(|| fit_tree(&target, &x, None, &w, &cfg, &mut rng::from_seed(ctx.seed())))?;
        let feature_importances = tree.feature_importances(x.n_features());
        Ok(DecisionTreeClassifierModel {
            tree,
            classes,
            n_features: x.n_features(),
            feature_importances,
        })
    }
}

impl Trainer for DecisionTreeRegressor {
    const NAME: &'static str = "decision_tree_regressor";
    type Model = DecisionTreeRegressorModel;

    fn fit_with(&self, data: &dyn Dataset, ctx: &FitContext<'_>) -> Result<Self::Model> {
        const CTX: &str = DecisionTreeRegressor::NAME;
        let cfg = self
            .growth_params(self.splitter)
            .resolve(data.n_samples(), data.n_features())?;
        let y = regression_targets(data, CTX)?;
        let x = Columns::from_dataset(data, CTX)?;
        let w = sample_weights(data, CTX)?;
        check_weight_sum(&w, CTX)?;
        let target = Target::Values {
            y: &y,
            criterion: self.criterion,
        };
        let tree =
            ctx.install(|| fit_tree(&target, &x, None, &w, &cfg, &mut rng::from_seed(ctx.seed())))?;
        let feature_importances = tree.feature_importances(x.n_features());
        Ok(DecisionTreeRegressorModel {
            tree,
            n_features: x.n_features(),
            feature_importances,
        })
    }
}

/// Inspection methods shared by both fitted trees; `$trainer` names the model in errors.
macro_rules! tree_inspection {
    ($t:ty, $trainer:ty) => {
        impl $t {
            /// The fitted tree.
            pub fn tree(&self) -> &FlatTree {
                &self.tree
            }

            /// Normalised total impurity decrease per feature (sums to 1 unless the tree is a
            /// single leaf).
            pub fn feature_importances(&self) -> &[f64] {
                &self.feature_importances
            }

            /// The depth of the tree.
            pub fn get_depth(&self) -> usize {
                self.tree.depth()
            }

            /// The number of leaves.
            pub fn get_n_leaves(&self) -> usize {
                self.tree.n_leaves()
            }

            /// The index of the leaf (node id) each row of `x` ends in.
            pub fn apply(&self, x: ArrayView2<'_, f64>) -> Result<Vec<usize>> {
                let mut out = vec![0.0; x.nrows()];
                check_predict_shapes(
                    $crate::models::kit::context!(<$trainer as Trainer>::NAME, "apply"),
                    x,
                    self.n_features,
                    out.len(),
                    1,
                )?;
                par_row_blocks(x, &mut out, 1, ROW_BLOCK, |rows, chunk| {
                    for (row, o) in rows.chunks_exact(self.n_features).zip(chunk.iter_mut()) {
                        *o = self
                            .tree
                            .apply_row(row)
                            .ok_or_else(|| walk_error(<$trainer as Trainer>::NAME))?
                            as f64;
                    }
                    Ok(())
                })?;
                Ok(out.into_iter().map(|v| v as usize).collect())
            }

            /// The nodes each row of `x` passes through, root to leaf, as scikit-learn's
            /// `decision_path` (a sparse row-by-node indicator).
            ///
            /// ```
            /// use amlis::traits::{Dataset, Trainer};
            /// use amlis::models::tree::DecisionTreeClassifier;
            /// let data = amlis::data::datasets::iris()?;
            /// let model = DecisionTreeClassifier::default().max_depth(Some(2)).fit(&data)?;
            /// let x = data.features();
            /// let path = model.decision_path(x.view())?;
            /// let first = path.row(0).unwrap();
            /// assert_eq!(first[0], 0); // the root
            /// assert_eq!(*first.last().unwrap(), model.apply(x.view())?[0]);
            /// # Ok::<(), amlis::Error>(())
            /// ```
            pub fn decision_path(&self, x: ArrayView2<'_, f64>) -> Result<DecisionPath> {
                let context =
                    $crate::models::kit::context!(<$trainer as Trainer>::NAME, "decision_path");
                check_predict_shapes(context, x, self.n_features, x.nrows(), 1)?;
                DecisionPath::new(&[&self.tree], x, context)
            }

            /// Predicts one row without allocating: writes the class index (classifier) or the
            /// value (regressor) into `out[0]`.
            pub fn predict_row_into(&self, row: &[f64], out: &mut [f64]) -> Result<()> {
                if row.len() != self.n_features || out.len() != 1 {
                    return Err(Error::shape(
                        $crate::models::kit::context!(<$trainer as Trainer>::NAME, "predict_row"),
                        format!("a row of {} values and 1 output slot", self.n_features),
                        format!("{} values and {} slots", row.len(), out.len()),
                    ));
                }
                let v = self
                    .tree
                    .predict_row(row)
                    .ok_or_else(|| walk_error(<$trainer as Trainer>::NAME))?;
                if let Some(o) = out.first_mut() {
                    *o = self.point(v);
                }
                Ok(())
            }
        }

        impl Model for $t {
            fn n_features(&self) -> usize {
                self.n_features
            }

            fn validate(&self) -> Result<()> {
                self.tree.validate(self.n_features)?;
                self.check_outputs()?;
                if self.feature_importances.len() != self.n_features {
                    return Err(Error::ModelCorrupt(format!(
                        "{}: {} feature importances for {} features",
                        <$trainer as Trainer>::NAME,
                        self.feature_importances.len(),
                        self.n_features
                    )));
                }
                Ok(())
            }
        }

        impl Predictor for $t {
            fn predict_row_into(&self, row: &[f64], out: &mut [f64]) -> Result<()> {
                <$t>::predict_row_into(self, row, out)
            }

            fn predict_into(&self, x: ArrayView2<'_, f64>, out: &mut [f64]) -> Result<()> {
                check_predict_shapes(
                    $crate::models::kit::context!(<$trainer as Trainer>::NAME, "predict"),
                    x,
                    self.n_features,
                    out.len(),
                    1,
                )?;
                par_row_blocks(x, out, 1, ROW_BLOCK, |rows, chunk| {
                    for (row, o) in rows.chunks_exact(self.n_features).zip(chunk.iter_mut()) {
                        let v = self
                            .tree
                            .predict_row(row)
                            .ok_or_else(|| walk_error(<$trainer as Trainer>::NAME))?;
                        *o = self.point(v);
                    }
                    Ok(())
                })
            }
        }
    };
}

tree_inspection!(DecisionTreeClassifierModel, DecisionTreeClassifier);
tree_inspection!(DecisionTreeRegressorModel, DecisionTreeRegressor);

impl DecisionTreeClassifierModel {
    #[inline]
    fn point(&self, leaf: &[f64]) -> f64 {
        argmax(leaf) as f64
    }

    fn check_outputs(&self) -> Result<()> {
        if self.classes.is_empty() || self.tree.n_outputs() != self.classes.len() {
            return Err(Error::ModelCorrupt(format!(
                "{}: {} classes but {} values per leaf",
                DecisionTreeClassifier::NAME,
                self.classes.len(),
                self.tree.n_outputs()
            )));
        }
        Ok(())
    }

    /// Writes the class probabilities of one row into `out` (`n_classes` slots) without
    /// allocating.
    pub fn predict_proba_row_into(&self, row: &[f64], out: &mut [f64]) -> Result<()> {
        check_proba_row(
            context!(DecisionTreeClassifier::NAME, "predict_proba_row"),
            self.n_features,
            self.classes.len(),
            row,
            out,
        )?;
        let v = self
            .tree
            .predict_row(row)
            .ok_or_else(|| walk_error(DecisionTreeClassifier::NAME))?;
        copy_values(out, v);
        Ok(())
    }

    /// Writes the class probabilities of a block of contiguous rows into `chunk`.
    fn proba_block(&self, rows: &[f64], chunk: &mut [f64]) -> Result<()> {
        let k = self.classes.len();
        for (row, o) in rows
            .chunks_exact(self.n_features)
            .zip(chunk.chunks_exact_mut(k))
        {
            let v = self
                .tree
                .predict_row(row)
                .ok_or_else(|| walk_error(DecisionTreeClassifier::NAME))?;
            copy_values(o, v);
        }
        Ok(())
    }
}

impl DecisionTreeRegressorModel {
    #[inline]
    fn point(&self, leaf: &[f64]) -> f64 {
        leaf.first().copied().unwrap_or(f64::NAN)
    }

    fn check_outputs(&self) -> Result<()> {
        if self.tree.n_outputs() != 1 {
            return Err(Error::ModelCorrupt(format!(
                "{}: {} values per leaf, expected 1",
                DecisionTreeRegressor::NAME,
                self.tree.n_outputs()
            )));
        }
        Ok(())
    }
}

probabilistic_classifier!(
    DecisionTreeClassifierModel,
    DecisionTreeClassifier::NAME,
    |_| ROW_BLOCK
);

/// A regression tree writes values only.
impl crate::traits::Outputs for DecisionTreeRegressorModel {}
