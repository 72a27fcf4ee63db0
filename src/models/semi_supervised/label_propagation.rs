//! scikit-learn's `LabelPropagation` and `LabelSpreading`: labels flow from the labelled rows
//! to the unlabeled ones along a graph of the training rows ([`Kernel::Rbf`] or
//! [`Kernel::Knn`], see [`super::graph`]). Both share one iteration core; they differ in the
//! graph's normalization and in how the labelled rows are held (propagation clamps them to
//! their labels, spreading pulls them back with weight `1 - alpha`).
//!
//! As scikit-learn: the iteration stops when the summed absolute change of the distributions
//! falls below `tol` (`n_iter` counts the products made), or after `max_iter`; the final
//! distributions are normalized per row; `transduction` is each row's most likely class
//! (first on ties); a new row's probabilities are the kernel-weighted (rbf) or summed (its
//! `n_neighbors` nearest training rows, knn) training distributions, normalized.
//!
//! Unlike scikit-learn, a row that receives no label mass (no path from any label) is
//! reported in the model (`n_no_mass`, `no_mass_rows`: the first ten) and in a fit event, and
//! its distribution is uniform rather than all zeros; a new row with no kernel mass is
//! uniform rather than `NaN`.

use ndarray::ArrayView2;
use serde::{Deserialize, Serialize};

use super::graph::{knn_graph, rbf_kernel, Graph, Kernel, KNN_BLOCKS};
use crate::common::linalg::{exp_in_place, sq_norm};
use crate::common::parallel::first_of_blocks;
use crate::common::simd::with_avx2;
use crate::data::Task;
use crate::error::{Error, Result};
use crate::models::kit::setters;
use crate::models::kit::validate::{check_finite, check_numeric_kinds, check_predict_shapes};
use crate::models::neighbors::{Algorithm, IndexParams, NeighborIndex, Queries};
use crate::traits::{
    Control, Dataset, FitContext, FitEvent, Model, Outputs, Predictor, ProbabilisticPredictor,
    Trainer,
};

/// The default `max_kernel_bytes`: 2 GiB.
pub const DEFAULT_MAX_KERNEL_BYTES: usize = 2 << 30;

/// How many rows without label mass a model lists (it counts them all).
pub const NO_MASS_LISTED: usize = 10;

/// Rows per block of the batch predictions.
const PREDICT_BLOCK: usize = 256;

/// Training rows whose rbf weights a prediction computes at a time (a stack buffer).
const RBF_CHUNK: usize = 128;

/// Query rows the batch rbf prediction computes side by side (one vector lane each).
const QUERY_LANES: usize = 8;

/// Training rows whose products with the query lanes the rbf prediction sums at once (four
/// named accumulators in the kernel).
const RBF_ROWS: usize = 4;

/// Which of the two algorithms the iteration core runs.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Variant {
    /// Row-normalized graph; labelled rows clamped to their labels.
    Propagation,
    /// Symmetrically normalized graph; `F = alpha S F + (1 - alpha) Y`.
    Spreading { alpha: f64 },
}

/// The settings the two trainers share.
struct Settings {
    name: &'static str,
    variant: Variant,
    kernel: Kernel,
    gamma: f64,
    n_neighbors: usize,
    max_iter: usize,
    tol: f64,
    max_kernel_bytes: usize,
}

/// scikit-learn's `LabelPropagation`: labels spread along a row-normalized graph, labelled
/// rows clamped to their labels (hard clamping). Unlabeled rows have a `NaN` target.
///
/// ```
/// use amlis::data::DenseDataset;
/// use amlis::models::semi_supervised::{Kernel, LabelPropagation};
/// use amlis::traits::{Predictor, Trainer};
/// use ndarray::array;
///
/// let x = array![[0.0], [0.1], [0.2], [5.0], [5.1], [5.2]];
/// let y = array![0.0, f64::NAN, f64::NAN, f64::NAN, f64::NAN, 1.0];
/// let data = DenseDataset::classification(x, y)?;
/// // Each row links to itself and its two nearest rows, so both labels reach their groups.
/// let model = LabelPropagation::default().kernel(Kernel::Knn).n_neighbors(3).fit(&data)?;
/// assert_eq!(model.transduction, vec![0, 0, 0, 1, 1, 1]);
/// assert_eq!(model.predict(array![[0.05], [5.05]].view())?.to_vec(), vec![0.0, 1.0]);
/// # Ok::<(), amlis::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LabelPropagation {
    /// The graph: `rbf` (default) or `knn`.
    pub kernel: Kernel,
    /// The rbf kernel's coefficient (default 20), finite and `> 0`.
    pub gamma: f64,
    /// Neighbours per row of the knn kernel (default 7), in `[1, training rows]`.
    pub n_neighbors: usize,
    /// The most iterations (default 1000), `>= 1`.
    pub max_iter: usize,
    /// Convergence: the summed absolute change of the distributions (default 1e-3), `>= 0`.
    pub tol: f64,
    /// The most bytes the dense rbf kernel may take (default 2 GiB); a larger one is an error
    /// suggesting `kernel = "knn"`.
    pub max_kernel_bytes: usize,
}

/// scikit-learn's `LabelSpreading`: labels spread along the symmetrically normalized graph,
/// each labelled row pulled back to its label with weight `1 - alpha` (soft clamping).
/// Unlabeled rows have a `NaN` target.
///
/// ```
/// use amlis::data::DenseDataset;
/// use amlis::models::semi_supervised::LabelSpreading;
/// use amlis::traits::{ProbabilisticPredictor, Trainer};
/// use ndarray::array;
///
/// let x = array![[0.0], [0.1], [0.2], [5.0], [5.1], [5.2]];
/// let y = array![0.0, f64::NAN, f64::NAN, f64::NAN, f64::NAN, 1.0];
/// let data = DenseDataset::classification(x, y)?;
/// let model = LabelSpreading::default().gamma(1.0).fit(&data)?;
/// assert_eq!(model.transduction, vec![0, 0, 0, 1, 1, 1]);
/// let p = model.predict_proba(array![[4.9]].view())?;
/// assert!(p[[0, 1]] > 0.99);
/// # Ok::<(), amlis::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LabelSpreading {
    /// The graph: `rbf` (default) or `knn`.
    pub kernel: Kernel,
    /// The rbf kernel's coefficient (default 20), finite and `> 0`.
    pub gamma: f64,
    /// Neighbours per row of the knn kernel (default 7), in `[1, training rows]`.
    pub n_neighbors: usize,
    /// The weight of the neighbours against the initial labels (default 0.2), in `(0, 1)`.
    pub alpha: f64,
    /// The most iterations (default 30), `>= 1`.
    pub max_iter: usize,
    /// Convergence: the summed absolute change of the distributions (default 1e-3), `>= 0`.
    pub tol: f64,
    /// The most bytes the dense rbf kernel may take (default 2 GiB); a larger one is an error
    /// suggesting `kernel = "knn"`.
    pub max_kernel_bytes: usize,
}

impl Default for LabelPropagation {
    fn default() -> Self {
        Self {
            kernel: Kernel::Rbf,
            gamma: 20.0,
            n_neighbors: 7,
            max_iter: 1000,
            tol: 1e-3,
            max_kernel_bytes: DEFAULT_MAX_KERNEL_BYTES,
        }
    }
}

impl Default for LabelSpreading {
    fn default() -> Self {
        Self {
            kernel: Kernel::Rbf,
            gamma: 20.0,
            n_neighbors: 7,
            alpha: 0.2,
            max_iter: 30,
            tol: 1e-3,
            max_kernel_bytes: DEFAULT_MAX_KERNEL_BYTES,
        }
    }
}

setters!(LabelPropagation {
    kernel: Kernel,
    gamma: f64,
    n_neighbors: usize,
    max_iter: usize,
    tol: f64,
    max_kernel_bytes: usize,
});

setters!(LabelSpreading {
    kernel: Kernel,
    gamma: f64,
    n_neighbors: usize,
    alpha: f64,
    max_iter: usize,
    tol: f64,
    max_kernel_bytes: usize,
});

/// A fitted [`LabelPropagation`] or [`LabelSpreading`]: the training rows, their label
/// distributions and what the fit found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LabelPropagationModel {
    /// The config `type` of the trainer (`label_propagation` or `label_spreading`).
    pub variant: String,
    /// The graph a new row is weighed by.
    pub kernel: Kernel,
    /// The rbf coefficient.
    pub gamma: f64,
    /// The knn neighbourhood.
    pub n_neighbors: usize,
    /// The training rows (and the knn search over them).
    pub index: NeighborIndex,
    /// Class labels; column `c` of the distributions is `classes[c]`.
    pub classes: Vec<String>,
    /// Every training row's class distribution, row-major `n × n_classes`, each row summing
    /// to 1 (scikit-learn's `label_distributions_`).
    pub label_distributions: Vec<f64>,
    /// Every training row's most likely class (scikit-learn's `transduction_`, as indices).
    pub transduction: Vec<u32>,
    /// The products made (scikit-learn's `n_iter_`).
    pub n_iter: usize,
    /// How many training rows received no label mass (their distribution is uniform).
    pub n_no_mass: usize,
    /// The first of them (at most [`NO_MASS_LISTED`]).
    pub no_mass_rows: Vec<usize>,
}

impl Settings {
    fn check(&self) -> Result<()> {
        if self.kernel == Kernel::Rbf && !(self.gamma.is_finite() && self.gamma > 0.0) {
            return Err(Error::param("gamma", self.gamma, "a finite value > 0"));
        }
        if self.kernel == Kernel::Knn && self.n_neighbors == 0 {
            return Err(Error::param("n_neighbors", 0, "an integer >= 1"));
        }
        if let Variant::Spreading { alpha } = self.variant {
            if !(alpha > 0.0 && alpha < 1.0) {
                return Err(Error::param(
                    "alpha",
                    alpha,
                    "a value in the open interval (0, 1)",
                ));
            }
        }
        if self.max_iter == 0 {
            return Err(Error::param("max_iter", 0, "an integer >= 1"));
        }
        if !(self.tol.is_finite() && self.tol >= 0.0) {
            return Err(Error::param("tol", self.tol, "a finite value >= 0"));
        }
        if self.max_kernel_bytes == 0 {
            return Err(Error::param("max_kernel_bytes", 0, "a byte count >= 1"));
        }
        Ok(())
    }

    fn fit(&self, data: &dyn Dataset, ctx: &FitContext<'_>) -> Result<LabelPropagationModel> {
        self.check()?;
        let name = self.name;
        let (classes, labels) = semi_targets(data, name)?;
        let n = data.n_samples();
        if n == 0 {
            return Err(Error::Empty(format!("{name} training data")));
        }
        if !labels.iter().any(Option::is_some) {
            return Err(Error::InvalidArgument(format!(
                "{name}: every one of the {n} training rows is unlabeled; label at least one"
            )));
        }
        if self.kernel == Kernel::Knn && self.n_neighbors > n {
            return Err(Error::param(
                "n_neighbors",
                self.n_neighbors,
                &format!("an integer in [1, {n}] (the training rows)"),
            ));
        }
        check_numeric_kinds(name, data.feature_kinds(), data.feature_names())?;
        let x = data.features();
        check_finite(name, x.view(), data.feature_names())?;
        let d = x.ncols();
        let k = classes.len();
        ctx.install(|| {
            let (algorithm, k_index) = match self.kernel {
                Kernel::Rbf => (Algorithm::Brute, 1),
                Kernel::Knn => (Algorithm::Auto, self.n_neighbors),
            };
            let params = IndexParams {
                algorithm,
                ..IndexParams::default()
            };
            let index = NeighborIndex::build(x.view(), &params, k_index)?;
            let rows: Vec<f64> = (0..n).flat_map(|i| index.row(i).to_vec()).collect();
            let mut graph = match self.kernel {
                Kernel::Rbf => rbf_kernel(name, &rows, n, d, self.gamma, self.max_kernel_bytes)?,
                Kernel::Knn => knn_graph(&index, self.n_neighbors)?,
            };
            match self.variant {
                Variant::Propagation => graph.row_normalize()?,
                Variant::Spreading { .. } => graph.spreading_normalize()?,
            }
            let (mut dist, n_iter) = self.iterate(&graph, &labels, k, ctx)?;
            let (n_no_mass, no_mass_rows) = finish_distributions(&mut dist, k);
            if n_no_mass > 0 {
                let values = [
                    ("no_mass_rows", n_no_mass as f64),
                    (
                        "first_no_mass_row",
                        no_mass_rows.first().copied().unwrap_or(0) as f64,
                    ),
                ];
                // Information only: the fit is over.
                let _ = ctx.report(&FitEvent {
                    stage: name,
                    iteration: n_iter,
                    total: Some(self.max_iter),
                    values: &values,
                });
            }
            let transduction = dist.chunks_exact(k.max(1)).map(argmax).collect();
            Ok(LabelPropagationModel {
                variant: name.to_string(),
                kernel: self.kernel,
                gamma: self.gamma,
                n_neighbors: self.n_neighbors,
                index,
                classes,
                label_distributions: dist,
                transduction,
                n_iter,
                n_no_mass,
                no_mass_rows,
            })
        })?
    }

    /// The iteration core of both variants, as scikit-learn's `BaseLabelPropagation.fit`:
    /// returns the (unnormalized) distributions and `n_iter`. Reports every iteration to the
    /// callback (`Stop` ends it, `Cancel` is [`Error::Cancelled`]).
    fn iterate(
        &self,
        graph: &Graph,
        labels: &[Option<usize>],
        k: usize,
        ctx: &FitContext<'_>,
    ) -> Result<(Vec<f64>, usize)> {
        let n = labels.len();
        let mut f = vec![0.0; n * k];
        for (row, label) in f.chunks_exact_mut(k.max(1)).zip(labels) {
            if let Some(v) = label.and_then(|c| row.get_mut(c)) {
                *v = 1.0;
            }
        }
        let y_static: Vec<f64> = match self.variant {
            Variant::Propagation => f.clone(),
            Variant::Spreading { alpha } => f.iter().map(|v| v * (1.0 - alpha)).collect(),
        };
        let mut previous = vec![0.0; n * k];
        let mut next = vec![0.0; n * k];
        for it in 0..self.max_iter {
            let change: f64 = f.iter().zip(&previous).map(|(a, b)| (a - b).abs()).sum();
            if change < self.tol {
                return Ok((f, it));
            }
            if it > 0 {
                let values = [("change", change)];
                match ctx.report(&FitEvent {
                    stage: self.name,
                    iteration: it,
                    total: Some(self.max_iter),
                    values: &values,
                }) {
                    Control::Continue => {}
                    Control::Stop => return Ok((f, it)),
                    Control::Cancel => {
                        return Err(Error::Cancelled(format!("{} iteration {it}", self.name)))
                    }
                }
            }
            graph.times(&f, k, &mut next)?;
            std::mem::swap(&mut previous, &mut f);
            std::mem::swap(&mut f, &mut next);
            match self.variant {
                Variant::Propagation => {
                    for ((row, label), fixed) in f
                        .chunks_exact_mut(k.max(1))
                        .zip(labels)
                        .zip(y_static.chunks_exact(k.max(1)))
                    {
                        if label.is_some() {
                            row.copy_from_slice(fixed);
                        } else {
                            normalize(row);
                        }
                    }
                }
                Variant::Spreading { alpha } => {
                    for (v, s) in f.iter_mut().zip(&y_static) {
                        *v = alpha * *v + s;
                    }
                }
            }
        }
        Ok((f, self.max_iter))
    }
}

/// Divides a row by its sum, unless the sum is 0.
fn normalize(row: &mut [f64]) {
    let s: f64 = row.iter().sum();
    if s != 0.0 {
        row.iter_mut().for_each(|v| *v /= s);
    }
}

/// Divides `out` by its sum, or makes it uniform when it has no (finite) mass.
fn normalize_or_uniform(out: &mut [f64]) {
    let s: f64 = out.iter().sum();
    if s > 0.0 && s.is_finite() {
        out.iter_mut().for_each(|v| *v /= s);
    } else {
        let u = 1.0 / out.len() as f64;
        out.fill(u);
    }
}

/// The index of the largest value (the first on ties).
fn argmax(row: &[f64]) -> u32 {
    let mut best = 0;
    for (c, &v) in row.iter().enumerate() {
        if v > row.get(best).copied().unwrap_or(f64::NEG_INFINITY) {
            best = c;
        }
    }
    best as u32
}

/// Normalizes every row; a row with no mass becomes uniform. Returns how many had none and
/// the first [`NO_MASS_LISTED`] of them.
fn finish_distributions(dist: &mut [f64], k: usize) -> (usize, Vec<usize>) {
    let mut count = 0;
    let mut first = Vec::new();
    for (i, row) in dist.chunks_exact_mut(k.max(1)).enumerate() {
        let s: f64 = row.iter().sum();
        if s > 0.0 && s.is_finite() {
            row.iter_mut().for_each(|v| *v /= s);
        } else {
            row.fill(1.0 / k as f64);
            count += 1;
            if first.len() < NO_MASS_LISTED {
                first.push(i);
            }
        }
    }
    (count, first)
}

/// The classes and every row's label (`None` = unlabeled, a `NaN` target) of a
/// semi-supervised classification dataset; anything else than a class index or `NaN` is an
/// error naming the row.
pub(crate) fn semi_targets(
    data: &dyn Dataset,
    context: &str,
) -> Result<(Vec<String>, Vec<Option<usize>>)> {
    let Task::Classification { classes } = data.task() else {
        return Err(Error::InvalidArgument(format!(
            "{context} learns class labels: it needs a classification target (unlabeled \
             rows as missing cells or NaN), got {:?}",
            data.task()
        )));
    };
    let y = data
        .targets()
        .ok_or_else(|| Error::InvalidArgument(format!("{context} needs targets")))?;
    let mut labels = Vec::with_capacity(y.len());
    for (i, &v) in y.iter().enumerate() {
        if v.is_nan() {
            labels.push(None);
        } else if v >= 0.0 && v.fract() == 0.0 && (v as usize) < classes.len() {
            labels.push(Some(v as usize));
        } else {
            return Err(Error::InvalidValue {
                context: context.into(),
                row: i,
                column: None,
                message: format!(
                    "target {v} is not a class index in 0..{} (or NaN for unlabeled)",
                    classes.len()
                ),
            });
        }
    }
    if classes.is_empty() {
        return Err(Error::InvalidArgument(format!(
            "{context}: the target has no class"
        )));
    }
    Ok((classes.clone(), labels))
}

impl Trainer for LabelPropagation {
    type Model = LabelPropagationModel;
    const NAME: &'static str = "label_propagation";

    /// Builds the graph and propagates; sample weights are not used (scikit-learn has none).
    fn fit_with(&self, data: &dyn Dataset, ctx: &FitContext<'_>) -> Result<Self::Model> {
        Settings {
            name: Self::NAME,
            variant: Variant::Propagation,
            kernel: self.kernel,
            gamma: self.gamma,
            n_neighbors: self.n_neighbors,
            max_iter: self.max_iter,
            tol: self.tol,
            max_kernel_bytes: self.max_kernel_bytes,
        }
        .fit(data, ctx)
    }
}

impl Trainer for LabelSpreading {
    type Model = LabelPropagationModel;
    const NAME: &'static str = "label_spreading";

    /// Builds the graph and spreads; sample weights are not used (scikit-learn has none).
    fn fit_with(&self, data: &dyn Dataset, ctx: &FitContext<'_>) -> Result<Self::Model> {
        Settings {
            name: Self::NAME,
            variant: Variant::Spreading { alpha: self.alpha },
            kernel: self.kernel,
            gamma: self.gamma,
            n_neighbors: self.n_neighbors,
            max_iter: self.max_iter,
            tol: self.tol,
            max_kernel_bytes: self.max_kernel_bytes,
        }
        .fit(data, ctx)
    }
}

impl LabelPropagationModel {
    fn context(&self) -> &'static str {
        if self.variant == LabelSpreading::NAME {
            "label_spreading predict"
        } else {
            "label_propagation predict"
        }
    }

    /// Errors on a non-finite value of `row` (query row `index`), naming its column.
    fn check_finite_row(&self, row: &[f64], index: usize) -> Result<()> {
        match row.iter().position(|v| !v.is_finite()) {
            None => Ok(()),
            Some(j) => Err(Error::InvalidValue {
                context: self.context().into(),
                row: index,
                column: Some(format!("x{j}")),
                message: "not a finite number; impute missing values first".into(),
            }),
        }
    }

    /// Adds `w` times training row `j`'s distribution to `out`.
    fn add_distribution(&self, j: usize, w: f64, out: &mut [f64]) {
        let k = out.len();
        if let Some(f) = self.label_distributions.get(j * k..(j + 1) * k) {
            for (o, &p) in out.iter_mut().zip(f) {
                *o += w * p;
            }
        }
    }

    /// The knn kernel's probabilities from a row's neighbours (`idx`, nearest first).
    fn knn_proba(&self, idx: &[usize], out: &mut [f64]) {
        out.fill(0.0);
        for &j in idx {
            self.add_distribution(j, 1.0, out);
        }
        normalize_or_uniform(out);
    }

    /// The class probabilities of one row into `out` (`n_classes` values): allocation-free
    /// (the knn search uses the index's per-thread scratch).
    fn proba_row(&self, row: &[f64], out: &mut [f64]) -> Result<()> {
        let k = self.classes.len();
        let context = self.context();
        if row.len() != self.index.n_features() || out.len() != k {
            return Err(Error::shape(
                context,
                format!("{} values in, {k} out", self.index.n_features()),
                format!("{} in, {} out", row.len(), out.len()),
            ));
        }
        self.check_finite_row(row, 0)?;
        match self.kernel {
            Kernel::Rbf => {
                // One query lane: the batch's arithmetic for one row (the row itself is its
                // feature-major form).
                self.rbf_lanes::<1>(row, out);
                normalize_or_uniform(out);
            }
            Kernel::Knn => {
                self.index
                    .with_kneighbors_of_row(row, self.n_neighbors, |idx, _| {
                        self.knn_proba(idx, out)
                    })?;
            }
        }
        Ok(())
    }

    /// Writes `width` values per row, `emit(probabilities, out)` for each, in parallel over
    /// row blocks. The knn kernel searches a block of rows at a time through the index (the
    /// blocked brute force or a tree: the neighbours of [`proba_row`](Self::proba_row),
    /// so the same bits).
    fn batch(
        &self,
        x: ArrayView2<'_, f64>,
        out: &mut [f64],
        width: usize,
        emit: impl Fn(&[f64], &mut [f64]) + Sync,
    ) -> Result<()> {
        check_predict_shapes(self.context(), x, self.index.n_features(), out.len(), width)?;
        let k = self.classes.len();
        let width = width.max(1);
        if self.kernel == Kernel::Knn {
            for (i, row) in x.outer_iter().enumerate() {
                if row.iter().any(|v| !v.is_finite()) {
                    self.check_finite_row(&row.to_vec(), i)?;
                }
            }
            let mut pos = 0;
            return self.index.kneighbors_blocks_sized(
                Queries::Rows(x),
                self.n_neighbors,
                KNN_BLOCKS,
                |b| {
                    let mut proba = vec![0.0; k];
                    let mut values = vec![0.0; b.len() * width];
                    for (r, o) in values.chunks_exact_mut(width).enumerate() {
                        self.knn_proba(b.row(r).0, &mut proba);
                        emit(&proba, o);
                    }
                    values
                },
                |values| {
                    let slot = out.get_mut(pos..pos + values.len()).ok_or_else(|| {
                        Error::shape(self.context(), "an output per row", "fewer")
                    })?;
                    slot.copy_from_slice(&values);
                    pos += values.len();
                    Ok(())
                },
            );
        }
        let d = self.index.n_features();
        let failed = first_of_blocks(out, PREDICT_BLOCK * width, |b, chunk| {
            let rows = chunk.len() / width;
            let first = b * PREDICT_BLOCK;
            let mut buf = Vec::new();
            for r in 0..rows {
                let row = crate::common::linalg::row_slice(x.row(first + r), &mut buf);
                if let Err(e) = self.check_finite_row(row, first + r) {
                    return Some(e);
                }
            }
            // Query rows side by side, feature-major (`qt[p * QUERY_LANES + l]`); a short
            // last group repeats its last row in the unused lanes.
            let mut qt = vec![0.0; d * QUERY_LANES];
            let mut proba = vec![0.0; k * QUERY_LANES];
            for (g, outs) in chunk.chunks_mut(QUERY_LANES * width).enumerate() {
                let used = outs.len() / width;
                for l in 0..QUERY_LANES {
                    let i = first + g * QUERY_LANES + l.min(used.saturating_sub(1));
                    for (p, &v) in x.row(i).iter().enumerate() {
                        if let Some(t) = qt.get_mut(p * QUERY_LANES + l) {
                            *t = v;
                        }
                    }
                }
                self.rbf_lanes::<QUERY_LANES>(&qt, &mut proba);
                let mut one = vec![0.0; k];
                for (l, o) in outs.chunks_exact_mut(width).enumerate() {
                    for (c, v) in one.iter_mut().enumerate() {
                        *v = proba.get(c * QUERY_LANES + l).copied().unwrap_or(0.0);
                    }
                    normalize_or_uniform(&mut one);
                    emit(&one, o);
                }
            }
            None
        });
        failed.map_or(Ok(()), Err)
    }

    /// The rbf kernel's unnormalized class masses of `L` query rows at once (`qt`,
    /// feature-major, `qt[p * L + l]`) into `mass` (class-major, `mass[c * L + l]`): the
    /// batch predict runs [`QUERY_LANES`] rows in vector lanes, the single-row predict one, and
    /// every row gets the same bits either way.
    ///
    /// The squared distances are expanded as scikit-learn's `euclidean_distances`
    /// (`(‖q‖² + ‖x‖²) − 2 q·x`, clipped at 0; `q·x` and `‖q‖²` summed feature by feature in
    /// order, `‖x‖²` the index's), [`RBF_ROWS`] training rows at a time against the query
    /// lanes; the weights of a chunk of rows get a vectorized `exp`, then the training rows'
    /// distributions are added in row order.
    fn rbf_lanes<const L: usize>(&self, qt: &[f64], mass: &mut [f64]) {
        let d = self.index.n_features();
        let k = self.classes.len();
        let n = self.index.n_samples();
        let norms = self.index.sq_norms();
        let lane = |p: usize| -> [f64; L] {
            qt.get(p * L..(p + 1) * L)
                .and_then(|q| <[f64; L]>::try_from(q).ok())
                .unwrap_or([0.0; L])
        };
        mass.fill(0.0);
        with_avx2(
            #[inline(always)]
            || {
                let mut qn = [0.0; L];
                for p in 0..d {
                    let q = lane(p);
                    for (a, &v) in qn.iter_mut().zip(&q) {
                        *a += v * v;
                    }
                }
                let mut weights = [[0.0; L]; RBF_CHUNK];
                let mut start = 0;
                while start < n {
                    let end = (start + RBF_CHUNK).min(n);
                    let used = weights.get_mut(..end - start).unwrap_or(&mut []);
                    for (g, wg) in used.chunks_mut(RBF_ROWS).enumerate() {
                        let j0 = start + g * RBF_ROWS;
                        // Four training rows (a short group repeats its last row; the
                        // extra products are not used).
                        let last = wg.len().saturating_sub(1);
                        let x = |r: usize| self.index.row(j0 + r.min(last));
                        let mut dots = [[0.0; L]; RBF_ROWS];
                        let mut d0 = [0.0; L];
                        let mut d1 = [0.0; L];
                        let mut d2 = [0.0; L];
                        let mut d3 = [0.0; L];
                        let rows = x(0).iter().zip(x(1)).zip(x(2)).zip(x(3));
                        for (q, (((&x0, &x1), &x2), &x3)) in qt.chunks_exact(L).zip(rows) {
                            let Ok(q) = <&[f64; L]>::try_from(q) else {
                                continue;
                            };
                            let q = *q;
                            for l in 0..L {
                                d0[l] += q[l] * x0;
                                d1[l] += q[l] * x1;
                                d2[l] += q[l] * x2;
                                d3[l] += q[l] * x3;
                            }
                        }
                        dots[0] = d0;
                        dots[1] = d1;
                        dots[2] = d2;
                        dots[3] = d3;
                        for (r, (w, dot)) in wg.iter_mut().zip(&dots).enumerate() {
                            let j = j0 + r;
                            let xn = match norms.get(j) {
                                Some(&v) => v,
                                None => sq_norm(self.index.row(j)),
                            };
                            // Computed in registers, then stored.
                            let mut v = [0.0; L];
                            for l in 0..L {
                                v[l] = -self.gamma * ((qn[l] + xn) - 2.0 * dot[l]).max(0.0);
                            }
                            *w = v;
                        }
                    }
                    exp_in_place(used.as_flattened_mut());
                    for (t, w) in used.iter().enumerate() {
                        let j = start + t;
                        let f = self.label_distributions.get(j * k..(j + 1) * k);
                        for (&fc, m) in f.unwrap_or(&[]).iter().zip(mass.chunks_exact_mut(L)) {
                            if let Ok(m) = <&mut [f64; L]>::try_from(m) {
                                // Register copies: the compiler cannot tell `mass` from the
                                // weights.
                                let (wv, mut mv) = (*w, *m);
                                for l in 0..L {
                                    mv[l] += wv[l] * fc;
                                }
                                *m = mv;
                            }
                        }
                    }
                    start = end;
                }
            },
        );
    }

    /// The class index of one row from its probabilities in `scratch`.
    fn predict_one(&self, row: &[f64], scratch: &mut [f64]) -> Result<f64> {
        self.proba_row(row, scratch)?;
        Ok(f64::from(argmax(scratch)))
    }
}

/// Classes per stack buffer of the allocation-free single-row predict.
const STACK_CLASSES: usize = 64;

impl Model for LabelPropagationModel {
    fn n_features(&self) -> usize {
        self.index.n_features()
    }

    fn validate(&self) -> Result<()> {
        let corrupt = |m: String| Error::ModelCorrupt(format!("{}: {m}", self.variant));
        if self.variant != LabelPropagation::NAME && self.variant != LabelSpreading::NAME {
            return Err(corrupt("unknown variant".into()));
        }
        let n = self.index.n_samples();
        let k = self.classes.len();
        if n == 0 || k == 0 {
            return Err(corrupt(format!("{n} training rows, {k} classes")));
        }
        if n.checked_mul(k) != Some(self.label_distributions.len()) {
            return Err(corrupt(format!(
                "{} distribution values for {n} rows of {k} classes",
                self.label_distributions.len()
            )));
        }
        if self
            .label_distributions
            .iter()
            .any(|v| !(v.is_finite() && *v >= 0.0))
        {
            return Err(corrupt(
                "a distribution value is not finite and >= 0".into(),
            ));
        }
        if self.transduction.len() != n || self.transduction.iter().any(|&c| c as usize >= k) {
            return Err(corrupt("the transduction is not one class per row".into()));
        }
        if self.no_mass_rows.iter().any(|&i| i >= n) || self.n_no_mass > n {
            return Err(corrupt("a row without label mass is out of range".into()));
        }
        match self.kernel {
            Kernel::Rbf if !(self.gamma.is_finite() && self.gamma > 0.0) => {
                Err(corrupt(format!("gamma = {}", self.gamma)))
            }
            Kernel::Knn if self.n_neighbors == 0 || self.n_neighbors > n => Err(corrupt(format!(
                "n_neighbors = {} over {n} rows",
                self.n_neighbors
            ))),
            _ => Ok(()),
        }
    }
}

impl Predictor for LabelPropagationModel {
    fn predict_into(&self, x: ArrayView2<'_, f64>, out: &mut [f64]) -> Result<()> {
        self.batch(x, out, 1, |proba, o| {
            if let Some(v) = o.first_mut() {
                *v = f64::from(argmax(proba));
            }
        })
    }

    /// Allocation-free for up to 64 classes.
    fn predict_row_into(&self, row: &[f64], out: &mut [f64]) -> Result<()> {
        if out.len() != 1 {
            return Err(Error::shape(self.context(), "1 output value", out.len()));
        }
        let k = self.classes.len();
        let mut stack = [0.0; STACK_CLASSES];
        let mut heap;
        let scratch = match stack.get_mut(..k) {
            Some(s) => s,
            None => {
                heap = vec![0.0; k];
                &mut heap[..]
            }
        };
        out[0] = self.predict_one(row, scratch)?;
        Ok(())
    }
}

impl ProbabilisticPredictor for LabelPropagationModel {
    fn n_classes(&self) -> usize {
        self.classes.len()
    }

    fn classes(&self) -> &[String] {
        &self.classes
    }

    fn predict_proba_into(&self, x: ArrayView2<'_, f64>, out: &mut [f64]) -> Result<()> {
        self.batch(x, out, self.classes.len(), |proba, o| {
            o.copy_from_slice(proba)
        })
    }

    fn predict_proba_row_into(&self, row: &[f64], out: &mut [f64]) -> Result<()> {
        self.proba_row(row, out)
    }
}

impl Outputs for LabelPropagationModel {
    fn as_probabilistic(&self) -> Option<&dyn ProbabilisticPredictor> {
        Some(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::DenseDataset;
    use ndarray::array;

    fn two_blobs() -> DenseDataset {
        let x = array![[0.0], [0.1], [0.2], [5.0], [5.1], [5.2], [50.0]];
        let y = array![0.0, f64::NAN, f64::NAN, f64::NAN, f64::NAN, 1.0, f64::NAN];
        DenseDataset::classification(x, y).unwrap()
    }

    #[test]
    fn parameters_are_checked_by_name() {
        let data = two_blobs();
        let e = LabelSpreading::default().alpha(1.0).fit(&data).unwrap_err();
        assert!(e.to_string().contains("`alpha`"), "{e}");
        let e = LabelPropagation::default()
            .gamma(0.0)
            .fit(&data)
            .unwrap_err();
        assert!(e.to_string().contains("`gamma`"), "{e}");
        let e = LabelPropagation::default()
            .kernel(Kernel::Knn)
            .n_neighbors(8)
            .fit(&data)
            .unwrap_err();
        assert!(e.to_string().contains("`n_neighbors`"), "{e}");
        let e = LabelPropagation::default()
            .max_iter(0)
            .fit(&data)
            .unwrap_err();
        assert!(e.to_string().contains("`max_iter`"), "{e}");
    }

    #[test]
    fn rows_without_mass_are_uniform_and_reported() {
        // gamma 20: the far row's kernel to every other row underflows to 0.
        let model = LabelPropagation::default().fit(&two_blobs()).unwrap();
        assert_eq!(model.n_no_mass, 1);
        assert_eq!(model.no_mass_rows, vec![6]);
        assert_eq!(&model.label_distributions[12..14], &[0.5, 0.5]);
        let p = model.predict_proba(array![[1000.0]].view()).unwrap();
        assert_eq!(p.row(0).to_vec(), vec![0.5, 0.5]);
        model.validate().unwrap();
    }

    #[test]
    fn kernel_memory_bound_suggests_knn() {
        let e = LabelSpreading::default()
            .max_kernel_bytes(100)
            .fit(&two_blobs())
            .unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.contains("392 bytes") && msg.contains("kernel = \"knn\""),
            "{msg}"
        );
    }

    #[test]
    fn batch_rbf_rows_have_the_single_row_bits() {
        // 300 training rows (over two weight chunks), 3 features (a four-lane tail), 13
        // queries (a short lane group).
        let x = ndarray::Array2::from_shape_fn((300, 3), |(i, j)| ((i * 7 + j * 5) % 17) as f64);
        let y = ndarray::Array1::from_shape_fn(300, |i| match i % 10 {
            0 => 0.0,
            5 => 1.0,
            _ => f64::NAN,
        });
        let data = DenseDataset::classification(x, y).unwrap();
        let model = LabelSpreading::default().gamma(0.1).fit(&data).unwrap();
        let q = ndarray::Array2::from_shape_fn((13, 3), |(i, j)| (i * 3 + j) as f64 / 2.0);
        let batch = model.predict_proba(q.view()).unwrap();
        let mut one = [0.0; 2];
        for (i, row) in q.outer_iter().enumerate() {
            model
                .predict_proba_row_into(row.as_slice().unwrap(), &mut one)
                .unwrap();
            assert_eq!(batch.row(i).to_vec(), one.to_vec(), "row {i}");
        }
    }

    #[test]
    fn corrupt_state_is_an_error() {
        let model = LabelSpreading::default()
            .gamma(1.0)
            .fit(&two_blobs())
            .unwrap();
        let mut bad = model.clone();
        bad.transduction[0] = 2;
        assert!(matches!(bad.validate(), Err(Error::ModelCorrupt(_))));
        let mut bad = model.clone();
        bad.label_distributions.pop();
        assert!(matches!(bad.validate(), Err(Error::ModelCorrupt(_))));
        let mut bad = model;
        bad.kernel = Kernel::Knn;
        bad.n_neighbors = 100;
        assert!(matches!(bad.validate(), Err(Error::ModelCorrupt(_))));
    }
}
