//! The neighbour models, as scikit-learn's: `KNeighborsClassifier`, `KNeighborsRegressor`,
//! `RadiusNeighborsClassifier` and `RadiusNeighborsRegressor`. A fitted model is its training
//! rows indexed ([`NeighborIndex`], saved as its rows and settings, the tree rebuilt on load)
//! with their targets; a prediction is a vote ([`Weights`]) of the neighbours of the row: its
//! `n_neighbors` nearest training rows, or every training row within `radius` (`<=`).
//!
//! As scikit-learn:
//! - neighbours are ordered by distance, then training row; the k-th neighbour, when several
//!   rows are at its distance, is the one of the smallest training row (scikit-learn's trees
//!   take the first they visit, so on such rows its algorithms may differ from each other);
//! - `predict` is the class of the largest vote (the first class on ties); `predict_proba`
//!   the votes over their total, columns in class order;
//! - a radius classifier's row without neighbours is an error naming the row, unless
//!   `outlier_label` is set: a class label, or `"most_frequent"` (the most frequent training
//!   class), predicted with probability 1 (scikit-learn also takes a label that is not a class;
//!   here it must be one);
//! - a radius regressor's row without neighbours predicts NaN (scikit-learn warns and does
//!   the same);
//! - `n_neighbors` above the number of training rows is an error (at fit here; scikit-learn
//!   errs at predict); sample weights are not used (scikit-learn's kNN has none).
//!
//! ```
//! use amlis::models::neighbors::{KNeighborsClassifier, Weights};
//! use amlis::traits::{Predictor, ProbabilisticPredictor, Trainer};
//! use ndarray::array;
//!
//! let data = amlis::data::DenseDataset::classification(
//!     array![[0.0], [1.0], [2.0], [10.0], [11.0]],
//!     array![0.0, 0.0, 0.0, 1.0, 1.0],
//! )?;
//! let model = KNeighborsClassifier::default().n_neighbors(3).fit(&data)?;
//! assert_eq!(model.predict(array![[1.5], [9.0]].view())?.to_vec(), vec![0.0, 1.0]);
//! let p = model.predict_proba(array![[9.0]].view())?;
//! assert!((p[[0, 1]] - 2.0 / 3.0).abs() < 1e-15);
//! // Distance weights: an exact match takes the whole weight.
//! let model = KNeighborsClassifier::default().weights(Weights::Distance).fit(&data)?;
//! assert_eq!(model.predict_proba(array![[10.0]].view())?.row(0).to_vec(), vec![0.0, 1.0]);
//! // The neighbours themselves: distances and training rows.
//! let near = model.neighbors.kneighbors(Some(array![[1.4]].view()), Some(2))?;
//! assert_eq!(near.indices.row(0).to_vec(), vec![1, 2]);
//! # Ok::<(), amlis::Error>(())
//! ```

use ndarray::ArrayView2;
use serde::{Deserialize, Serialize};

use super::index::{IndexParams, KNeighbors, NeighborIndex, Queries};
use super::metric::Metric;
use super::vote::{self, Weights};
use super::{finite_row, Algorithm};
use crate::error::{Error, Result};
use crate::models::kit::setters;
use crate::models::kit::validate::{
    check_finite, check_numeric_kinds, check_predict_shapes, class_targets,
};
use crate::traits::{
    Dataset, FitContext, Model, Outputs, Predictor, ProbabilisticPredictor, Trainer,
};

/// Which training rows are a row's neighbours.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Neighborhood {
    /// The `n` nearest.
    KNearest(usize),
    /// Every row within this distance (`<=`).
    Radius(f64),
}

/// The searching half of a fitted neighbour model: the indexed training rows, which of them
/// are a row's neighbours, and how they weigh.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Neighbors {
    /// The training rows, indexed.
    pub index: NeighborIndex,
    /// The neighbours of a row.
    pub neighborhood: Neighborhood,
    /// How they weigh.
    pub weights: Weights,
}

impl Neighbors {
    /// The fitted settings of a trainer: checks the neighbourhood against `n` training rows.
    fn fit(
        x: ArrayView2<'_, f64>,
        params: &IndexParams,
        neighborhood: Neighborhood,
        weights: Weights,
    ) -> Result<Self> {
        let n = x.nrows();
        let k = match neighborhood {
            Neighborhood::KNearest(k) if k > n => {
                return Err(Error::param(
                    "n_neighbors",
                    k,
                    &format!("an integer in [1, {n}] (the training rows)"),
                ))
            }
            Neighborhood::KNearest(k) => k,
            Neighborhood::Radius(_) => 5,
        };
        Ok(Self {
            index: NeighborIndex::build(x, params, k)?,
            neighborhood,
            weights,
        })
    }

    fn check(&self, context: &str) -> Result<()> {
        let n = self.index.n_samples();
        let ok = match self.neighborhood {
            Neighborhood::KNearest(k) => k >= 1 && k <= n,
            Neighborhood::Radius(r) => r >= 0.0 && r.is_finite(),
        };
        if n == 0 || !ok {
            return Err(Error::ModelCorrupt(format!(
                "{context}: {:?} over {n} training rows",
                self.neighborhood
            )));
        }
        Ok(())
    }

    /// Writes `width` values per row of `x` into `out`, `write(row, indices, distances,
    /// values)` making them from the row's neighbours, in parallel over query blocks.
    fn batch<W>(
        &self,
        context: &str,
        x: ArrayView2<'_, f64>,
        width: usize,
        out: &mut [f64],
        write: W,
    ) -> Result<()>
    where
        W: Fn(usize, &[usize], &[f64], &mut [f64]) -> Result<()> + Sync,
    {
        check_predict_shapes(context, x, self.index.n_features(), out.len(), width)?;
        for (i, row) in x.outer_iter().enumerate() {
            if row.iter().any(|v| !v.is_finite()) {
                finite_row(context, &row.to_vec(), i)?;
            }
        }
        let map = |b: &super::NeighborBlock| -> Result<Vec<f64>> {
            let mut values = vec![0.0; b.len() * width];
            for (r, v) in values.chunks_exact_mut(width.max(1)).enumerate() {
                let (idx, dist) = b.row(r);
                write(b.start + r, idx, dist, v)?;
            }
            Ok(values)
        };
        let mut pos = 0;
        let fold = |values: Result<Vec<f64>>| -> Result<()> {
            let values = values?;
            let slot = out
                .get_mut(pos..pos + values.len())
                .ok_or_else(|| Error::shape(context, "an output per row", "fewer"))?;
            slot.copy_from_slice(&values);
            pos += values.len();
            Ok(())
        };
        match self.neighborhood {
            Neighborhood::KNearest(k) => {
                self.index.kneighbors_blocks(Queries::Rows(x), k, map, fold)
            }
            Neighborhood::Radius(r) => self.index.radius_blocks(Queries::Rows(x), r, map, fold),
        }
    }

    /// Writes the values of one row into `out` (`width` of them) as [`batch`](Self::batch)
    /// does; allocation-free after the first call on a thread.
    fn one<W>(
        &self,
        context: &str,
        row: &[f64],
        width: usize,
        out: &mut [f64],
        write: W,
    ) -> Result<()>
    where
        W: FnOnce(usize, &[usize], &[f64], &mut [f64]) -> Result<()>,
    {
        if row.len() != self.index.n_features() || out.len() != width {
            return Err(Error::shape(
                context,
                format!("{} values in, {width} out", self.index.n_features()),
                format!("{} in, {} out", row.len(), out.len()),
            ));
        }
        finite_row(context, row, 0)?;
        let f = |idx: &[usize], dist: &[f64]| write(0, idx, dist, out);
        match self.neighborhood {
            Neighborhood::KNearest(k) => self.index.with_kneighbors_of_row(row, k, f)?,
            Neighborhood::Radius(r) => self.index.with_radius_of_row(row, r, f)?,
        }
    }

    /// scikit-learn's `kneighbors`: the `n_neighbors` (default: the model's, or 5 for a radius
    /// model) nearest training rows of each row of `x`, or, with `x = None`, of each training
    /// row without itself.
    pub fn kneighbors(
        &self,
        x: Option<ArrayView2<'_, f64>>,
        n_neighbors: Option<usize>,
    ) -> Result<KNeighbors> {
        let k = n_neighbors.unwrap_or(match self.neighborhood {
            Neighborhood::KNearest(k) => k,
            Neighborhood::Radius(_) => 5,
        });
        self.index.kneighbors(queries(x), k)
    }

    /// scikit-learn's `radius_neighbors` (with `sort_results=True`): the training rows within
    /// `radius` (default: the model's, or 1 for a k-nearest model) of each row of `x`, or,
    /// with `x = None`, of each training row without itself; per row `(training row,
    /// distance)` sorted by distance, then row.
    pub fn radius_neighbors(
        &self,
        x: Option<ArrayView2<'_, f64>>,
        radius: Option<f64>,
    ) -> Result<Vec<Vec<(usize, f64)>>> {
        let r = radius.unwrap_or(match self.neighborhood {
            Neighborhood::Radius(r) => r,
            Neighborhood::KNearest(_) => 1.0,
        });
        self.index.radius_neighbors(queries(x), r)
    }
}

/// Writes the one value of a row.
fn put(out: &mut [f64], v: f64) -> Result<()> {
    match out.first_mut() {
        Some(o) => {
            *o = v;
            Ok(())
        }
        None => Err(Error::shape("neighbour prediction", "one value", "none")),
    }
}

fn queries(x: Option<ArrayView2<'_, f64>>) -> Queries<'_> {
    x.map_or(Queries::FittedWithoutSelf, Queries::Rows)
}

/// The training rows of `data` indexed for the searches: numeric, finite, some. The index
/// build checks that every value is finite while it copies the rows (no pass of its own);
/// when it fails, the check of the whole table names the first bad cell and its feature.
fn indexed(
    data: &dyn Dataset,
    context: &str,
    ctx: &FitContext<'_>,
    params: &IndexParams,
    neighborhood: Neighborhood,
    weights: Weights,
) -> Result<Neighbors> {
    if data.n_samples() == 0 {
        return Err(Error::Empty(format!("{context} training data")));
    }
    check_numeric_kinds(context, data.feature_kinds(), data.feature_names())?;
    let x = data.features();
    ctx.install(|| Neighbors::fit(x.view(), params, neighborhood, weights))?
        .or_else(|e| {
            check_finite(context, x.view(), data.feature_names())?;
            Err(e)
        })
}

/// The settings every neighbour trainer shares (scikit-learn's names and defaults), written
/// once for the four trainers.
macro_rules! neighbor_trainer {
    (
        $(#[$doc:meta])* $name:ident { $(#[$fdoc:meta])* $field:ident: $ty:ty, $($extra:tt)* }
    ) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        #[serde(deny_unknown_fields, default)]
        pub struct $name {
            $(#[$fdoc])*
            pub $field: $ty,
            /// How neighbours weigh: `uniform` (default) or `distance`.
            pub weights: Weights,
            /// The distance (default `"minkowski"` with `p = 2`).
            pub metric: Metric,
            /// The power of `minkowski` (default 2).
            pub p: f64,
            /// The neighbour search (all give the same result).
            pub algorithm: Algorithm,
            /// Rows per leaf of the trees (default 30).
            pub leaf_size: usize,
            $($extra)*
        }

        impl $name {
            fn index_params(&self) -> IndexParams {
                IndexParams {
                    metric: self.metric,
                    p: self.p,
                    algorithm: self.algorithm,
                    leaf_size: self.leaf_size,
                }
            }
        }

        setters!($name {
            $field: $ty,
            weights: Weights,
            metric: Metric,
            p: f64,
            algorithm: Algorithm,
            leaf_size: usize,
        });
    };
}

neighbor_trainer! {
    /// scikit-learn's `KNeighborsClassifier`: the vote of the `n_neighbors` nearest training
    /// rows.
    KNeighborsClassifier {
        /// Neighbours per row (default 5), in `[1, training rows]`.
        n_neighbors: usize,
    }
}

neighbor_trainer! {
    /// scikit-learn's `KNeighborsRegressor`: the (weighted) mean target of the `n_neighbors`
    /// nearest training rows.
    KNeighborsRegressor {
        /// Neighbours per row (default 5), in `[1, training rows]`.
        n_neighbors: usize,
    }
}

neighbor_trainer! {
    /// scikit-learn's `RadiusNeighborsClassifier`: the vote of the training rows within
    /// `radius`; a row without any is an error unless `outlier_label` is set.
    RadiusNeighborsClassifier {
        /// The neighbourhood radius (default 1), finite and `>= 0`.
        radius: f64,
        /// The class of rows without neighbours: a class label or `"most_frequent"`; none
        /// (the default) makes such a row an error.
        pub outlier_label: Option<String>,
    }
}

neighbor_trainer! {
    /// scikit-learn's `RadiusNeighborsRegressor`: the (weighted) mean target of the training
    /// rows within `radius`; NaN for a row without any (as scikit-learn, which warns).
    RadiusNeighborsRegressor {
        /// The neighbourhood radius (default 1), finite and `>= 0`.
        radius: f64,
    }
}

macro_rules! neighbor_default {
    ($name:ident { $field:ident: $default:expr $(, $extra:ident: $value:expr)* }) => {
        impl Default for $name {
            fn default() -> Self {
                let index = IndexParams::default();
                Self {
                    $field: $default,
                    weights: Weights::Uniform,
                    metric: index.metric,
                    p: index.p,
                    algorithm: index.algorithm,
                    leaf_size: index.leaf_size,
                    $($extra: $value,)*
                }
            }
        }
    };
}

neighbor_default!(KNeighborsClassifier { n_neighbors: 5 });
neighbor_default!(KNeighborsRegressor { n_neighbors: 5 });
neighbor_default!(RadiusNeighborsClassifier {
    radius: 1.0,
    outlier_label: None
});
neighbor_default!(RadiusNeighborsRegressor { radius: 1.0 });

impl RadiusNeighborsClassifier {
    /// Sets `outlier_label` (a class label or `"most_frequent"`).
    pub fn outlier_label(mut self, label: impl Into<String>) -> Self {
        self.outlier_label = Some(label.into());
        self
    }
}

fn k_nearest(n_neighbors: usize) -> Result<Neighborhood> {
    if n_neighbors == 0 {
        return Err(Error::param("n_neighbors", 0, "an integer >= 1"));
    }
    Ok(Neighborhood::KNearest(n_neighbors))
}

fn within(radius: f64) -> Result<Neighborhood> {
    if !(radius.is_finite() && radius >= 0.0) {
        return Err(Error::param("radius", radius, "a finite value >= 0"));
    }
    Ok(Neighborhood::Radius(radius))
}

/// A fitted neighbour classifier ([`KNeighborsClassifier`] or [`RadiusNeighborsClassifier`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NeighborsClassifierModel {
    /// The training rows and the neighbour search.
    pub neighbors: Neighbors,
    /// The class of every training row (an index into `classes`).
    pub y: Vec<u32>,
    /// Class labels; prediction `i` means `classes[i]`.
    pub classes: Vec<String>,
    /// The class predicted for a row without neighbours (radius models), if any.
    pub outlier_class: Option<usize>,
}

/// A fitted neighbour regressor ([`KNeighborsRegressor`] or [`RadiusNeighborsRegressor`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NeighborsRegressorModel {
    /// The training rows and the neighbour search.
    pub neighbors: Neighbors,
    /// The target of every training row.
    pub y: Vec<f64>,
}

/// Fits a classifier model: the shared steps of the two classifier trainers.
fn fit_classifier(
    context: &'static str,
    data: &dyn Dataset,
    ctx: &FitContext<'_>,
    params: &IndexParams,
    neighborhood: Neighborhood,
    weights: Weights,
    outlier_label: Option<&str>,
) -> Result<NeighborsClassifierModel> {
    params.check()?;
    let (classes, y) = class_targets(data, context)?;
    let outlier_class = match outlier_label {
        None => None,
        Some("most_frequent") => {
            let mut counts = vec![0usize; classes.len()];
            for &c in &y {
                if let Some(n) = counts.get_mut(c as usize) {
                    *n += 1;
                }
            }
            // The first class of the largest count, as numpy's argmax of a bincount.
            let best = counts
                .iter()
                .enumerate()
                .fold((0, 0), |b, (c, &n)| if n > b.1 { (c, n) } else { b });
            Some(best.0)
        }
        Some(label) => Some(classes.iter().position(|c| c == label).ok_or_else(|| {
            Error::param(
                "outlier_label",
                label,
                &format!("one of the classes {classes:?} or \"most_frequent\""),
            )
        })?),
    };
    let neighbors = indexed(data, context, ctx, params, neighborhood, weights)?;
    Ok(NeighborsClassifierModel {
        neighbors,
        y,
        classes,
        outlier_class,
    })
}

fn fit_regressor(
    context: &'static str,
    data: &dyn Dataset,
    ctx: &FitContext<'_>,
    params: &IndexParams,
    neighborhood: Neighborhood,
    weights: Weights,
) -> Result<NeighborsRegressorModel> {
    params.check()?;
    let y = crate::models::linear::prep::regression_targets(data, context)?.to_vec();
    let neighbors = indexed(data, context, ctx, params, neighborhood, weights)?;
    Ok(NeighborsRegressorModel { neighbors, y })
}

impl Trainer for KNeighborsClassifier {
    type Model = NeighborsClassifierModel;
    const NAME: &'static str = "k_neighbors_classifier";

    /// Indexes the training rows; sample weights are not used (scikit-learn has none).
    fn fit_with(&self, data: &dyn Dataset, ctx: &FitContext<'_>) -> Result<Self::Model> {
        let hood = k_nearest(self.n_neighbors)?;
        let params = self.index_params();
        fit_classifier(Self::NAME, data, ctx, &params, hood, self.weights, None)
    }
}

impl Trainer for RadiusNeighborsClassifier {
    type Model = NeighborsClassifierModel;
    const NAME: &'static str = "radius_neighbors_classifier";

    /// Indexes the training rows; sample weights are not used (scikit-learn has none).
    fn fit_with(&self, data: &dyn Dataset, ctx: &FitContext<'_>) -> Result<Self::Model> {
        let hood = within(self.radius)?;
        let params = self.index_params();
        let label = self.outlier_label.as_deref();
        fit_classifier(Self::NAME, data, ctx, &params, hood, self.weights, label)
    }
}

impl Trainer for KNeighborsRegressor {
    type Model = NeighborsRegressorModel;
    const NAME: &'static str = "k_neighbors_regressor";

    /// Indexes the training rows; sample weights are not used (scikit-learn has none).
    fn fit_with(&self, data: &dyn Dataset, ctx: &FitContext<'_>) -> Result<Self::Model> {
        let hood = k_nearest(self.n_neighbors)?;
        fit_regressor(
            Self::NAME,
            data,
            ctx,
            &self.index_params(),
            hood,
            self.weights,
        )
    }
}

impl Trainer for RadiusNeighborsRegressor {
    type Model = NeighborsRegressorModel;
    const NAME: &'static str = "radius_neighbors_regressor";

    /// Indexes the training rows; sample weights are not used (scikit-learn has none).
    fn fit_with(&self, data: &dyn Dataset, ctx: &FitContext<'_>) -> Result<Self::Model> {
        let hood = within(self.radius)?;
        fit_regressor(
            Self::NAME,
            data,
            ctx,
            &self.index_params(),
            hood,
            self.weights,
        )
    }
}

impl Neighborhood {
    /// The config `type` of the trainer of a classifier (`classifier`) or regressor with this
    /// neighbourhood, which names the model in its errors.
    fn model_name(self, classifier: bool) -> &'static str {
        match (self, classifier) {
            (Neighborhood::KNearest(_), true) => KNeighborsClassifier::NAME,
            (Neighborhood::Radius(_), true) => RadiusNeighborsClassifier::NAME,
            (Neighborhood::KNearest(_), false) => KNeighborsRegressor::NAME,
            (Neighborhood::Radius(_), false) => RadiusNeighborsRegressor::NAME,
        }
    }
}

impl NeighborsClassifierModel {
    fn name(&self) -> &'static str {
        self.neighbors.neighborhood.model_name(true)
    }

    /// The error of a row without neighbours and no `outlier_label`, naming the row.
    fn no_neighbours(&self, row: usize) -> Error {
        let r = match self.neighbors.neighborhood {
            Neighborhood::Radius(r) => r,
            Neighborhood::KNearest(_) => 0.0,
        };
        Error::InvalidValue {
            context: self.name().into(),
            row,
            column: None,
            message: format!(
                "no training row within radius {r}; use a larger radius, set \
                 `outlier_label` (a class or \"most_frequent\"), or remove the row"
            ),
        }
    }

    /// The class of a row from its neighbours.
    fn class_of(&self, row: usize, idx: &[usize], dist: &[f64]) -> Result<f64> {
        if idx.is_empty() {
            return self
                .outlier_class
                .map(|c| c as f64)
                .ok_or_else(|| self.no_neighbours(row));
        }
        let n = self.classes.len();
        Ok(vote::vote(self.neighbors.weights, idx, dist, &self.y, n) as f64)
    }

    /// The class probabilities of a row from its neighbours.
    fn proba_of(&self, row: usize, idx: &[usize], dist: &[f64], out: &mut [f64]) -> Result<()> {
        if idx.is_empty() {
            let c = self.outlier_class.ok_or_else(|| self.no_neighbours(row))?;
            out.fill(0.0);
            if let Some(p) = out.get_mut(c) {
                *p = 1.0;
            }
            return Ok(());
        }
        vote::proba(self.neighbors.weights, idx, dist, &self.y, out);
        Ok(())
    }
}

impl Model for NeighborsClassifierModel {
    fn n_features(&self) -> usize {
        self.neighbors.index.n_features()
    }

    fn validate(&self) -> Result<()> {
        self.neighbors.check(self.name())?;
        let (n, k) = (self.neighbors.index.n_samples(), self.classes.len());
        let corrupt = |m: String| Err(Error::ModelCorrupt(format!("fitted {}: {m}", self.name())));
        if self.y.len() != n {
            return corrupt(format!("{} classes for {n} training rows", self.y.len()));
        }
        if k == 0 || self.y.iter().any(|&c| c as usize >= k) {
            return corrupt(format!("a class id out of {k} classes"));
        }
        if self.outlier_class.is_some_and(|c| c >= k) {
            return corrupt(format!("outlier class {:?} of {k}", self.outlier_class));
        }
        Ok(())
    }
}

impl Predictor for NeighborsClassifierModel {
    fn predict_into(&self, x: ArrayView2<'_, f64>, out: &mut [f64]) -> Result<()> {
        self.neighbors
            .batch(self.name(), x, 1, out, |r, idx, dist, o| {
                put(o, self.class_of(r, idx, dist)?)
            })
    }

    /// Allocation-free after the first call on a thread.
    fn predict_row_into(&self, row: &[f64], out: &mut [f64]) -> Result<()> {
        self.neighbors
            .one(self.name(), row, 1, out, |r, idx, dist, o| {
                put(o, self.class_of(r, idx, dist)?)
            })
    }
}

impl ProbabilisticPredictor for NeighborsClassifierModel {
    fn n_classes(&self) -> usize {
        self.classes.len()
    }

    fn classes(&self) -> &[String] {
        &self.classes
    }

    fn predict_proba_into(&self, x: ArrayView2<'_, f64>, out: &mut [f64]) -> Result<()> {
        let k = self.classes.len();
        self.neighbors
            .batch(self.name(), x, k, out, |r, idx, dist, o| {
                self.proba_of(r, idx, dist, o)
            })
    }

    /// Allocation-free after the first call on a thread.
    fn predict_proba_row_into(&self, row: &[f64], out: &mut [f64]) -> Result<()> {
        let k = self.classes.len();
        self.neighbors
            .one(self.name(), row, k, out, |r, idx, dist, o| {
                self.proba_of(r, idx, dist, o)
            })
    }
}

impl Outputs for NeighborsClassifierModel {
    fn as_probabilistic(&self) -> Option<&dyn ProbabilisticPredictor> {
        Some(self)
    }
}

impl Model for NeighborsRegressorModel {
    fn n_features(&self) -> usize {
        self.neighbors.index.n_features()
    }

    fn validate(&self) -> Result<()> {
        let name = self.neighbors.neighborhood.model_name(false);
        self.neighbors.check(name)?;
        let n = self.neighbors.index.n_samples();
        if self.y.len() != n || self.y.iter().any(|v| !v.is_finite()) {
            return Err(Error::ModelCorrupt(format!(
                "fitted {name}: {n} finite targets needed, {} given",
                self.y.len()
            )));
        }
        Ok(())
    }
}

/// The (weighted) mean target of the neighbours; NaN for a radius model's row without any.
impl Predictor for NeighborsRegressorModel {
    fn predict_into(&self, x: ArrayView2<'_, f64>, out: &mut [f64]) -> Result<()> {
        let w = self.neighbors.weights;
        let name = self.neighbors.neighborhood.model_name(false);
        self.neighbors.batch(name, x, 1, out, |_, idx, dist, o| {
            put(o, vote::mean(w, idx, dist, &self.y))
        })
    }

    /// Allocation-free after the first call on a thread.
    fn predict_row_into(&self, row: &[f64], out: &mut [f64]) -> Result<()> {
        let name = self.neighbors.neighborhood.model_name(false);
        let w = self.neighbors.weights;
        self.neighbors.one(name, row, 1, out, |_, idx, dist, o| {
            put(o, vote::mean(w, idx, dist, &self.y))
        })
    }
}

impl Outputs for NeighborsRegressorModel {}
