//! `KMeans`, as scikit-learn's (Lloyd's algorithm): `n_clusters` centres that minimise the
//! weighted sum of squared distances of the rows to their nearest centre (the *inertia*). A
//! model of kind *clusterer*: it fits without a target, predicts the index of the nearest
//! centre (`AMLIS_OUTPUT_VALUE`) and transforms a row into its distances to every centre
//! (`AMLIS_OUTPUT_TRANSFORM`, scikit-learn's `KMeans.transform`).
//!
//! As scikit-learn: the data are centred on their mean before the iterations; initial centres
//! come from k-means++ (`_kmeans_plusplus`), weighted random rows or an explicit array; each
//! iteration assigns every row to its nearest centre (`algorithm: "lloyd"`: all distances,
//! through a GEMM; `"elkan"`: Elkan's triangle-inequality bounds skip the distances that
//! cannot change a label, for the same result) and moves each centre to the weighted
//! mean of its rows (an empty cluster takes the row farthest from its centre,
//! `_relocate_empty_clusters`); it stops when no label changes or when the squared centre
//! shift is at most `tol` times the mean feature variance; the best of `n_init` runs (by
//! inertia) is kept. Distances of the iterations go through a GEMM over fixed row blocks run in
//! parallel and reduced in block order, and run `r` draws from `rng::for_task(seed, r)`, so a
//! seed gives the same model for any number of threads.
//!
//! ```
//! use amlis::data::DenseDataset;
//! use amlis::models::cluster::KMeans;
//! use amlis::traits::{Predictor, Trainer, TransformPredictor};
//! use ndarray::array;
//!
//! let x = array![[1.0, 2.0], [1.0, 4.0], [1.0, 0.0], [10.0, 2.0], [10.0, 4.0], [10.0, 0.0]];
//! let model = KMeans::default().n_clusters(2).fit(&DenseDataset::unsupervised(x)?)?;
//! let mut label = [0.0; 2];
//! model.predict_into(array![[0.0, 0.0], [12.0, 3.0]].view(), &mut label)?;
//! assert_ne!(label[0], label[1]);
//! assert!((model.inertia - 16.0).abs() < 1e-12);
//! let mut d = [0.0; 2];
//! model.transform_row_into(&[1.0, 2.0], &mut d)?;
//! assert_eq!(d.iter().copied().fold(f64::INFINITY, f64::min), 0.0);
//! # Ok::<(), amlis::Error>(())
//! ```

use ndarray::ArrayView2;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::init::{kmeans_plusplus, random_rows};
use crate::common::linalg::{gemm_abt, row_slice, sq_euclidean, sq_norm};
use crate::common::pages;
use crate::common::parallel::first_of_blocks;
use crate::common::rng;
use crate::common::simd::with_avx2;
use crate::error::{Error, Result};
use crate::models::kit::validate::{
    check_finite, check_numeric_kinds, check_predict_shapes, sample_weights,
};
use crate::traits::{
    Control, Dataset, FitContext, FitEvent, Model, Outputs, Predictor, Trainer, TransformPredictor,
};

const NAME: &str = <KMeans as Trainer>::NAME;

/// Rows per GEMM of the assignment step (scikit-learn's chunk of 256 rows: the chunk, its
/// distances and the cluster sums stay in cache between the GEMM and the argmin).
const CHUNK: usize = 256;

/// Rows per parallel block of a Lloyd pass over the training rows: each block has its own
/// partial sums, added in block order (fixed, so the bits never depend on the thread count).
pub(super) const LLOYD_BLOCK: usize = 2048;

/// Rows per block of prediction.
const PREDICT_BLOCK: usize = 1024;

/// How the initial centres are chosen: `"k-means++"`, `"random"`, or an explicit array of
/// `n_clusters` centres of `n_features` values each.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum KMeansInit {
    /// `"k-means++"` (the default) or `"random"`.
    Method(String),
    /// The initial centres, one row each.
    Centers(Vec<Vec<f64>>),
}

impl Default for KMeansInit {
    fn default() -> Self {
        KMeansInit::Method("k-means++".into())
    }
}

/// The number of runs: `"auto"` (1 for k-means++ or explicit centres, 10 for random, as
/// scikit-learn >= 1.4) or a count.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum NInit {
    /// A number of runs (>= 1).
    Count(usize),
    /// `"auto"`.
    Auto(String),
}

impl Default for NInit {
    fn default() -> Self {
        NInit::Auto("auto".into())
    }
}

/// The settings of k-means, with scikit-learn's names and defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KMeans {
    /// The number of clusters (default 8), at least 1 and at most the number of rows.
    pub n_clusters: usize,
    /// `"k-means++"` (default), `"random"`, or explicit initial centres.
    pub init: KMeansInit,
    /// Runs from different initial centres, the best kept (default `"auto"`).
    pub n_init: NInit,
    /// Iterations per run at most (default 300).
    pub max_iter: usize,
    /// Relative tolerance on the squared centre shift, multiplied by the mean of the feature
    /// variances of the data (default 1e-4).
    pub tol: f64,
    /// `"lloyd"` (default) or `"elkan"` (Elkan's exact variant: the same centres, fewer
    /// distance computations through triangle-inequality bounds; with one cluster, Lloyd's
    /// as scikit-learn).
    pub algorithm: String,
    /// The seed of the initialisation (`None`: the fit context's).
    pub random_state: Option<u64>,
}

impl Default for KMeans {
    fn default() -> Self {
        Self {
            n_clusters: 8,
            init: KMeansInit::default(),
            n_init: NInit::default(),
            max_iter: 300,
            tol: 1e-4,
            algorithm: "lloyd".into(),
            random_state: None,
        }
    }
}

crate::models::kit::setters!(KMeans {
    n_clusters: usize,
    init: KMeansInit,
    n_init: NInit,
    max_iter: usize,
    tol: f64,
    algorithm: String,
    random_state: u64 => Some,
});

/// A fitted [`KMeans`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KMeansModel {
    /// The centres, `n_clusters` rows of `n_features` values (scikit-learn's
    /// `cluster_centers_`).
    pub cluster_centers: Vec<Vec<f64>>,
    /// The weighted sum of squared distances of the training rows to their centre.
    pub inertia: f64,
    /// The iterations of the best run.
    pub n_iter: usize,
    /// The number of input features.
    pub n_features: usize,
}

/// The settings checked, in the form the iterations use.
pub(super) enum Start {
    PlusPlus,
    Random,
    Centers,
}

impl KMeans {
    /// Checks every setting that does not depend on the data; returns the initialisation, the
    /// number of runs and whether to run Elkan's variant.
    pub(super) fn checked(&self) -> Result<(Start, usize, bool)> {
        if self.n_clusters == 0 {
            return Err(Error::param("n_clusters", 0, "an integer >= 1"));
        }
        let start = match &self.init {
            KMeansInit::Method(m) if m == "k-means++" => Start::PlusPlus,
            KMeansInit::Method(m) if m == "random" => Start::Random,
            KMeansInit::Method(m) => {
                return Err(Error::param(
                    "init",
                    format!("{m:?}"),
                    "\"k-means++\", \"random\" or an array of initial centres",
                ))
            }
            KMeansInit::Centers(rows) => {
                if rows.len() != self.n_clusters {
                    return Err(Error::param(
                        "init",
                        format!("an array of {} centres", rows.len()),
                        &format!("n_clusters = {} centres", self.n_clusters),
                    ));
                }
                if rows.iter().flatten().any(|v| !v.is_finite()) {
                    return Err(Error::param(
                        "init",
                        "an array with a non-finite value",
                        "finite initial centres",
                    ));
                }
                Start::Centers
            }
        };
        let n_init = match &self.n_init {
            NInit::Count(0) => {
                return Err(Error::param("n_init", 0, "\"auto\" or an integer >= 1"))
            }
            NInit::Count(n) => *n,
            NInit::Auto(s) if s == "auto" => match start {
                Start::Random => 10,
                _ => 1,
            },
            NInit::Auto(s) => {
                return Err(Error::param(
                    "n_init",
                    format!("{s:?}"),
                    "\"auto\" or an integer >= 1",
                ))
            }
        };
        // Explicit centres give one run whatever n_init says (scikit-learn warns and does the
        // same).
        let n_init = if matches!(start, Start::Centers) {
            1
        } else {
            n_init
        };
        if self.max_iter == 0 {
            return Err(Error::param("max_iter", 0, "an integer >= 1"));
        }
        if !(self.tol.is_finite() && self.tol >= 0.0) {
            return Err(Error::param("tol", self.tol, "a finite value >= 0"));
        }
        let elkan = match self.algorithm.as_str() {
            "lloyd" => false,
            // One cluster has no bounds to use: Lloyd's algorithm, as scikit-learn does.
            "elkan" => self.n_clusters > 1,
            other => {
                return Err(Error::param(
                    "algorithm",
                    format!("{other:?}"),
                    "\"lloyd\" or \"elkan\"",
                ))
            }
        };
        Ok((start, n_init, elkan))
    }
}

/// The training rows (centred for k-means), row-major, with their weights.
pub(super) struct Problem<'a> {
    pub(super) x: &'a [f64],
    pub(super) n: usize,
    pub(super) p: usize,
    pub(super) w: &'a [f64],
}

/// What one assignment step found: per-block sums of the weighted rows of each cluster and the
/// cluster weights, reduced in block order.
pub(super) struct Sums {
    pub(super) centers: Vec<f64>,
    pub(super) weights: Vec<f64>,
}

impl Sums {
    /// The per-block sums added in block order (the same bits for any thread count).
    fn total(partials: Vec<Option<Sums>>, k: usize, p: usize) -> Sums {
        let mut total = Sums {
            centers: vec![0.0; k * p],
            weights: vec![0.0; k],
        };
        for s in partials.into_iter().flatten() {
            for (t, v) in total.centers.iter_mut().zip(&s.centers) {
                *t += v;
            }
            for (t, v) in total.weights.iter_mut().zip(&s.weights) {
                *t += v;
            }
        }
        total
    }
}

/// When a run stops, and how it assigns.
#[derive(Debug, Clone, Copy)]
struct Limits {
    max_iter: usize,
    /// The absolute tolerance on the squared centre shift.
    tol: f64,
    /// Elkan's variant.
    elkan: bool,
}

/// What an assignment pass computes besides the labels.
#[derive(Debug, Clone, Copy)]
pub(super) struct Pass {
    /// The weighted sums of the rows of every cluster (a Lloyd iteration).
    pub(super) sums: bool,
    /// The inertia of the new labels.
    pub(super) inertia: bool,
}

impl Pass {
    /// Labels and cluster sums (a Lloyd iteration).
    pub(super) const SUMS: Pass = Pass {
        sums: true,
        inertia: false,
    };
    /// Labels and their inertia.
    pub(super) const INERTIA: Pass = Pass {
        sums: false,
        inertia: true,
    };
}

/// The working memory of the assignment passes over one problem, allocated once per run: for
/// every fixed row block, the GEMM output of one chunk and the block's partial sums.
pub(super) struct Workspace {
    /// Rows per parallel block (a multiple of [`CHUNK`]).
    block: usize,
    blocks: Vec<BlockScratch>,
    /// `‖c‖²` of the current centres.
    c_sq: Vec<f64>,
}

struct BlockScratch {
    dots: Vec<f64>,
    sums: Vec<f64>,
    weights: Vec<f64>,
    inertia: f64,
}

impl BlockScratch {
    fn clear(&mut self, pass: Pass) {
        if pass.sums {
            self.sums.fill(0.0);
            self.weights.fill(0.0);
        }
        self.inertia = 0.0;
    }
}

impl Workspace {
    /// The workspace of `n` rows of `p` features and `k` centres, in blocks of `block` rows
    /// (rounded up to a multiple of [`CHUNK`]): [`LLOYD_BLOCK`] for full passes, smaller for
    /// mini-batches so that a batch still spreads over the threads. A block has at least
    /// `4·k` rows, so that the partial sums (`k·p` per block) stay under a quarter of the
    /// data's size however many centres there are.
    pub(super) fn new(n: usize, k: usize, p: usize, block: usize) -> Self {
        let block = block.max(4 * k).max(1).div_ceil(CHUNK) * CHUNK;
        let n_blocks = n.div_ceil(block);
        let chunk = CHUNK.min(n.max(1));
        let blocks = (0..n_blocks)
            .map(|_| BlockScratch {
                dots: vec![0.0; chunk * k],
                sums: vec![0.0; k * p],
                weights: vec![0.0; k],
                inertia: 0.0,
            })
            .collect();
        Self {
            block,
            blocks,
            c_sq: Vec::with_capacity(k),
        }
    }

    /// Makes the workspace fit `n` rows, `k` centres and `p` features (rebuilt only when it
    /// was made for other sizes).
    fn fit_to(&mut self, n: usize, k: usize, p: usize) {
        let n_blocks = n.div_ceil(self.block);
        let chunk = CHUNK.min(n.max(1));
        let fits = self.blocks.len() == n_blocks
            && self.blocks.iter().all(|b| {
                b.sums.len() == k * p && b.weights.len() == k && b.dots.len() >= chunk * k
            });
        if !fits {
            *self = Workspace::new(n, k, p, self.block);
        }
    }
}

impl Problem<'_> {
    pub(super) fn row(&self, i: usize) -> &[f64] {
        self.x.get(i * self.p..(i + 1) * self.p).unwrap_or(&[])
    }

    /// Assigns every row to its nearest centre (`‖c‖² − 2 x·c`, the first on ties, as
    /// scikit-learn's `_update_chunk_dense`), fused with what `pass` asks for: the weighted
    /// sums of the rows of every cluster and / or the inertia `Σ w_i ‖x_i − c_{label_i}‖²`
    /// (exact distances, as [`Problem::inertia`]).
    ///
    /// The rows are cut into the workspace's fixed blocks, run in parallel; each block takes
    /// its rows [`CHUNK`] at a time (one small GEMM with the centres, then the argmin and the
    /// accumulation while the chunk is in cache, as scikit-learn's `lloyd_iter_chunked_dense`)
    /// into the block's own partial sums, which are then added in block order: the same bits
    /// for any number of threads, and no allocation per iteration beyond `O(k·p)`.
    pub(super) fn assign(
        &self,
        centers: &[f64],
        k: usize,
        labels: &mut [usize],
        pass: Pass,
        ws: &mut Workspace,
    ) -> (Option<Sums>, f64) {
        let p = self.p;
        ws.fit_to(labels.len(), k, p);
        ws.c_sq.clear();
        ws.c_sq.extend((0..k).map(|j| {
            centers
                .get(j * p..(j + 1) * p)
                .map_or(0.0, |c| c.iter().map(|v| v * v).sum())
        }));
        let c_sq = &ws.c_sq;
        let block = ws.block;
        labels
            .par_chunks_mut(block)
            .zip(ws.blocks.par_iter_mut())
            .enumerate()
            .for_each(|(b, (lab, s))| {
                s.clear(pass);
                let start = b * block;
                with_avx2(
                    #[inline(always)]
                    || {
                        for (c, lab) in lab.chunks_mut(CHUNK).enumerate() {
                            let first = start + c * CHUNK;
                            let rows = lab.len();
                            let xs = self.x.get(first * p..(first + rows) * p).unwrap_or(&[]);
                            let dots = s.dots.get_mut(..rows * k).unwrap_or(&mut []);
                            if gemm_abt(xs, rows, centers, k, p, dots).is_err() {
                                dots.fill(0.0);
                            }
                            for (r, (l, d)) in lab.iter_mut().zip(dots.chunks_exact(k)).enumerate()
                            {
                                let mut best = 0;
                                let mut best_d = f64::INFINITY;
                                for (j, (dot, cs)) in d.iter().zip(c_sq).enumerate() {
                                    let v = cs - 2.0 * dot;
                                    if j == 0 || v < best_d {
                                        best = j;
                                        best_d = v;
                                    }
                                }
                                *l = best;
                                let i = first + r;
                                let wi = self.w.get(i).copied().unwrap_or(0.0);
                                let row = xs.get(r * p..(r + 1) * p).unwrap_or(&[]);
                                if pass.sums {
                                    if let Some(dst) = s.sums.get_mut(best * p..(best + 1) * p) {
                                        for (cv, xv) in dst.iter_mut().zip(row) {
                                            *cv += xv * wi;
                                        }
                                    }
                                    if let Some(sw) = s.weights.get_mut(best) {
                                        *sw += wi;
                                    }
                                }
                                if pass.inertia {
                                    let cb = centers.get(best * p..(best + 1) * p).unwrap_or(&[]);
                                    s.inertia += wi * sq_euclidean(row, cb);
                                }
                            }
                        }
                    },
                );
            });
        let sums = pass.sums.then(|| {
            let mut total = Sums {
                centers: vec![0.0; k * p],
                weights: vec![0.0; k],
            };
            for s in &ws.blocks {
                for (t, v) in total.centers.iter_mut().zip(&s.sums) {
                    *t += v;
                }
                for (t, v) in total.weights.iter_mut().zip(&s.weights) {
                    *t += v;
                }
            }
            total
        });
        let inertia = ws.blocks.iter().map(|s| s.inertia).sum();
        (sums, inertia)
    }

    /// `Σ w_i ‖x_i − c_{label_i}‖²`, by the workspace's row blocks in parallel, each summed in
    /// row order and the blocks added in block order (the same bits as the inertia of
    /// [`Problem::assign`] for the same labels).
    pub(super) fn inertia(&self, centers: &[f64], labels: &[usize], ws: &mut Workspace) -> f64 {
        let p = self.p;
        ws.fit_to(labels.len(), centers.len() / p.max(1), p);
        let block = ws.block;
        labels
            .par_chunks(block)
            .zip(ws.blocks.par_iter_mut())
            .enumerate()
            .for_each(|(b, (lab, s))| {
                s.inertia = lab
                    .iter()
                    .enumerate()
                    .map(|(r, &l)| {
                        let i = b * block + r;
                        let c = centers.get(l * p..(l + 1) * p).unwrap_or(&[]);
                        self.w.get(i).copied().unwrap_or(0.0) * sq_euclidean(self.row(i), c)
                    })
                    .fold(0.0, |a, v| a + v);
            });
        ws.blocks.iter().map(|s| s.inertia).sum()
    }

    /// scikit-learn's `_relocate_empty_clusters_dense`: each empty cluster takes one of the
    /// rows farthest from their (old) centre, farthest first (ties: the lower row).
    fn relocate_empty(&self, old: &[f64], sums: &mut Sums, labels: &[usize]) {
        let p = self.p;
        let empty: Vec<usize> = (0..sums.weights.len())
            .filter(|&j| sums.weights[j] == 0.0)
            .collect();
        if empty.is_empty() {
            return;
        }
        let distances: Vec<f64> = (0..self.n)
            .map(|i| {
                let l = labels.get(i).copied().unwrap_or(0);
                sq_euclidean(self.row(i), old.get(l * p..(l + 1) * p).unwrap_or(&[]))
            })
            .collect();
        if distances.iter().all(|&d| d == 0.0) {
            return;
        }
        let mut far: Vec<usize> = (0..self.n).collect();
        far.sort_by(|&a, &b| distances[b].total_cmp(&distances[a]).then(a.cmp(&b)));
        for (&new_id, &far_idx) in empty.iter().zip(&far) {
            let wi = self.w.get(far_idx).copied().unwrap_or(0.0);
            let old_id = labels.get(far_idx).copied().unwrap_or(0);
            let row = self.row(far_idx);
            for (f, &xv) in row.iter().enumerate() {
                if let Some(c) = sums.centers.get_mut(old_id * p + f) {
                    *c -= xv * wi;
                }
                if let Some(c) = sums.centers.get_mut(new_id * p + f) {
                    *c = xv * wi;
                }
            }
            if let Some(v) = sums.weights.get_mut(new_id) {
                *v = wi;
            }
            if let Some(v) = sums.weights.get_mut(old_id) {
                *v -= wi;
            }
        }
    }

    /// The update of the centres after an assignment (scikit-learn's
    /// `_relocate_empty_clusters`, `_average_centers`, `_center_shift`): the new centres and
    /// the shift of every centre.
    fn m_step(
        &self,
        old: &[f64],
        mut sums: Sums,
        labels: &[usize],
        k: usize,
    ) -> (Vec<f64>, Vec<f64>) {
        let p = self.p;
        self.relocate_empty(old, &mut sums, labels);
        // `_average_centers`: empty clusters go where the heaviest one is.
        let heaviest = sums
            .weights
            .iter()
            .enumerate()
            .fold((0, f64::NEG_INFINITY), |(bj, bw), (j, &w)| {
                if w > bw {
                    (j, w)
                } else {
                    (bj, bw)
                }
            })
            .0;
        for j in 0..k {
            let wj = sums.weights.get(j).copied().unwrap_or(0.0);
            if wj > 0.0 {
                let alpha = 1.0 / wj;
                if let Some(c) = sums.centers.get_mut(j * p..(j + 1) * p) {
                    c.iter_mut().for_each(|v| *v *= alpha);
                }
            } else if j != heaviest {
                for f in 0..p {
                    let v = sums.centers.get(heaviest * p + f).copied().unwrap_or(0.0);
                    if let Some(c) = sums.centers.get_mut(j * p + f) {
                        *c = v;
                    }
                }
            }
        }
        let shift: Vec<f64> = (0..k)
            .map(|j| {
                let a = old.get(j * p..(j + 1) * p).unwrap_or(&[]);
                let b = sums.centers.get(j * p..(j + 1) * p).unwrap_or(&[]);
                sq_euclidean(a, b).sqrt()
            })
            .collect();
        (sums.centers, shift)
    }

    /// One run from `centers` (scikit-learn's `_kmeans_single_lloyd` and
    /// `_kmeans_single_elkan`, which give the same labels and centres): the labels, inertia,
    /// centres and iterations.
    fn run(
        &self,
        mut centers: Vec<f64>,
        k: usize,
        limits: Limits,
        ws: &mut Workspace,
        ctx: &FitContext<'_>,
    ) -> Result<(Vec<usize>, f64, Vec<f64>, usize)> {
        let Limits {
            max_iter,
            tol,
            elkan,
        } = limits;
        let mut labels = vec![usize::MAX; self.n];
        let mut labels_old = labels.clone();
        let mut bounds = if elkan {
            Some(Bounds::new(self, &centers, k, &mut labels))
        } else {
            None
        };
        let mut strict = false;
        let mut n_iter = 0;
        for it in 0..max_iter {
            n_iter = it + 1;
            let sums = match bounds.as_mut() {
                Some(b) => b.assign(self, &centers, k, &mut labels, true),
                None => self
                    .assign(&centers, k, &mut labels, Pass::SUMS, ws)
                    .0
                    .unwrap_or_else(|| Sums {
                        centers: vec![0.0; k * self.p],
                        weights: vec![0.0; k],
                    }),
            };
            let (new_centers, shifts) = self.m_step(&centers, sums, &labels, k);
            if let Some(b) = bounds.as_mut() {
                b.shift(&shifts, &labels, k);
                b.set_centers(&new_centers, k, self.p);
            }
            let shift: f64 = shifts.iter().map(|s| s * s).sum();
            centers = new_centers;
            if labels == labels_old {
                strict = true;
                break;
            }
            let control = ctx.report(&FitEvent {
                stage: NAME,
                iteration: it + 1,
                total: Some(max_iter),
                values: &[("center_shift", shift)],
            });
            match control {
                Control::Continue => {}
                Control::Stop => break,
                Control::Cancel => {
                    return Err(Error::Cancelled(format!(
                        "{NAME}: cancelled by the callback"
                    )))
                }
            }
            if shift <= tol {
                break;
            }
            labels_old.copy_from_slice(&labels);
        }
        // A last assignment so that the labels match the centres (fused with the inertia),
        // unless the labels did not change.
        let inertia = match (strict, bounds.as_mut()) {
            (true, _) => self.inertia(&centers, &labels, ws),
            (false, Some(b)) => {
                b.assign(self, &centers, k, &mut labels, false);
                self.inertia(&centers, &labels, ws)
            }
            (false, None) => self.assign(&centers, k, &mut labels, Pass::INERTIA, ws).1,
        };
        Ok((labels, inertia, centers, n_iter))
    }
}

/// Elkan's bounds (scikit-learn's `_k_means_elkan`): for every row an upper bound on the
/// distance to its centre and a lower bound on the distance to every centre, plus half the
/// distances between centres and, for every centre, half the distance to its nearest other
/// centre. Rows whose bounds prove their centre nearest skip the distance computations.
struct Bounds {
    upper: Vec<f64>,
    lower: Vec<f64>,
    half: Vec<f64>,
    next: Vec<f64>,
}

fn dist(a: &[f64], b: &[f64]) -> f64 {
    sq_euclidean(a, b).sqrt()
}

impl Bounds {
    /// `init_bounds_dense`: the first labels and the bounds.
    fn new(pb: &Problem<'_>, centers: &[f64], k: usize, labels: &mut [usize]) -> Self {
        let (n, p) = (pb.n, pb.p);
        let mut b = Bounds {
            upper: vec![0.0; n],
            lower: vec![0.0; n * k],
            half: Vec::new(),
            next: Vec::new(),
        };
        b.set_centers(centers, k, p);
        let half = &b.half;
        labels
            .par_chunks_mut(CHUNK)
            .zip(b.upper.par_chunks_mut(CHUNK))
            .zip(b.lower.par_chunks_mut(CHUNK * k))
            .enumerate()
            .for_each(|(blk, ((lab, up), low))| {
                for (r, (l, u)) in lab.iter_mut().zip(up.iter_mut()).enumerate() {
                    let x = pb.row(blk * CHUNK + r);
                    let c = |j: usize| centers.get(j * p..(j + 1) * p).unwrap_or(&[]);
                    let lo = low.get_mut(r * k..(r + 1) * k).unwrap_or(&mut []);
                    let mut best = 0;
                    let mut min_dist = dist(x, c(0));
                    if let Some(v) = lo.get_mut(0) {
                        *v = min_dist;
                    }
                    for j in 1..k {
                        if min_dist > half.get(best * k + j).copied().unwrap_or(0.0) {
                            let d = dist(x, c(j));
                            if let Some(v) = lo.get_mut(j) {
                                *v = d;
                            }
                            if d < min_dist {
                                min_dist = d;
                                best = j;
                            }
                        }
                    }
                    *l = best;
                    *u = min_dist;
                }
            });
        b
    }

    /// Half the distances between the centres and half the distance of every centre to its
    /// nearest other one.
    fn set_centers(&mut self, centers: &[f64], k: usize, p: usize) {
        let c = |j: usize| centers.get(j * p..(j + 1) * p).unwrap_or(&[]);
        self.half = (0..k * k)
            .map(|ij| {
                let (i, j) = (ij / k, ij % k);
                if i == j {
                    0.0
                } else {
                    dist(c(i), c(j)) / 2.0
                }
            })
            .collect();
        self.next = (0..k)
            .map(|j| {
                (0..k)
                    .filter(|&i| i != j)
                    .map(|i| self.half.get(i * k + j).copied().unwrap_or(0.0))
                    .fold(f64::INFINITY, f64::min)
            })
            .collect();
    }

    /// `elkan_iter_chunked_dense`'s assignment: the labels from the bounds, tightened where
    /// they cannot decide; with `update`, the weighted sums of every cluster.
    fn assign(
        &mut self,
        pb: &Problem<'_>,
        centers: &[f64],
        k: usize,
        labels: &mut [usize],
        update: bool,
    ) -> Sums {
        let p = pb.p;
        let (half, next) = (&self.half, &self.next);
        let partials: Vec<Option<Sums>> = labels
            .par_chunks_mut(CHUNK)
            .zip(self.upper.par_chunks_mut(CHUNK))
            .zip(self.lower.par_chunks_mut(CHUNK * k))
            .enumerate()
            .map(|(blk, ((lab, up), low))| {
                let mut sums = update.then(|| Sums {
                    centers: vec![0.0; k * p],
                    weights: vec![0.0; k],
                });
                for (r, (l, u)) in lab.iter_mut().zip(up.iter_mut()).enumerate() {
                    let i = blk * CHUNK + r;
                    let x = pb.row(i);
                    let c = |j: usize| centers.get(j * p..(j + 1) * p).unwrap_or(&[]);
                    let lo = low.get_mut(r * k..(r + 1) * k).unwrap_or(&mut []);
                    let mut upper = *u;
                    let mut label = *l;
                    let mut tight = false;
                    // scikit-learn: `not next >= upper`; the same here, every value is finite.
                    if next.get(label).copied().unwrap_or(f64::INFINITY) < upper {
                        for j in 0..k {
                            let lj = lo.get(j).copied().unwrap_or(0.0);
                            let hj = half.get(label * k + j).copied().unwrap_or(0.0);
                            if j != label && upper > lj && upper > hj {
                                if !tight {
                                    upper = dist(x, c(label));
                                    if let Some(v) = lo.get_mut(label) {
                                        *v = upper;
                                    }
                                    tight = true;
                                }
                                let hj = half.get(label * k + j).copied().unwrap_or(0.0);
                                if upper > lj || upper > hj {
                                    let d = dist(x, c(j));
                                    if let Some(v) = lo.get_mut(j) {
                                        *v = d;
                                    }
                                    if d < upper {
                                        label = j;
                                        upper = d;
                                    }
                                }
                            }
                        }
                        *l = label;
                        *u = upper;
                    }
                    if let Some(s) = sums.as_mut() {
                        let wi = pb.w.get(i).copied().unwrap_or(0.0);
                        if let Some(dst) = s.centers.get_mut(label * p..(label + 1) * p) {
                            for (cv, xv) in dst.iter_mut().zip(x) {
                                *cv += xv * wi;
                            }
                        }
                        if let Some(sw) = s.weights.get_mut(label) {
                            *sw += wi;
                        }
                    }
                }
                sums
            })
            .collect();
        Sums::total(partials, k, p)
    }

    /// Moves the bounds by the centre shifts.
    fn shift(&mut self, shifts: &[f64], labels: &[usize], k: usize) {
        for (u, &l) in self.upper.iter_mut().zip(labels) {
            *u += shifts.get(l).copied().unwrap_or(0.0);
        }
        for row in self.lower.chunks_exact_mut(k) {
            for (v, s) in row.iter_mut().zip(shifts) {
                *v -= s;
                if *v < 0.0 {
                    *v = 0.0;
                }
            }
        }
    }
}

/// Whether two labelings are the same partition up to a renaming of the clusters
/// (scikit-learn's `_is_same_clustering`).
fn same_clustering(a: &[usize], b: &[usize], k: usize) -> bool {
    let mut map = vec![usize::MAX; k];
    for (&x, &y) in a.iter().zip(b) {
        match map.get_mut(x) {
            Some(m) if *m == usize::MAX => *m = y,
            Some(m) if *m == y => {}
            _ => return false,
        }
    }
    true
}

/// Scratch of [`nearest_of_chunk`]: the products of a chunk of rows with the centres (row
/// major), the screened values (`k × rows`, centre-major, so that the screen runs along the
/// rows and vectorizes) and, per row, the best and second best screened values and the best
/// centre; allocated once per block of a batch prediction.
struct Screen {
    dots: Vec<f64>,
    values: Vec<f64>,
    best: Vec<f64>,
    second: Vec<f64>,
    pick: Vec<f64>,
}

impl Screen {
    fn new(rows: usize, k: usize) -> Self {
        Screen {
            dots: vec![0.0; rows * k],
            values: vec![0.0; rows * k],
            best: vec![0.0; rows],
            second: vec![0.0; rows],
            pick: vec![0.0; rows],
        }
    }
}

/// The nearest of `centers` (row-major `k × p` in `flat`, one row each in `centers`, squared
/// norms `c_sq`) to every row of the chunk `xs` (`m × p`, row-major), as label values into
/// `labels`: the label of [`KMeansModel`]'s row path (exact squared distances, the first
/// centre on ties), bit for bit.
///
/// The rows go through one GEMM with the centres and are screened by `‖c‖² − 2 x·c` (the
/// distance less the row's own `‖x‖²`): a row whose second best screened value is beyond a
/// rounding bound of its best takes the best centre; any other row (a near tie, or values too
/// large to screen) compares the exact distances of the centres within the bound. A
/// non-finite value is an error naming its row (`first` is the chunk's first row).
fn nearest_of_chunk(
    xs: &[f64],
    first: usize,
    flat: &[f64],
    centers: &[Vec<f64>],
    c_sq: &[f64],
    s: &mut Screen,
    labels: &mut [f64],
) -> Result<()> {
    let (k, m) = (centers.len(), labels.len());
    let p = xs.len() / m.max(1);
    let (Some(best), Some(second), Some(pick), Some(dots), Some(values)) = (
        s.best.get_mut(..m),
        s.second.get_mut(..m),
        s.pick.get_mut(..m),
        s.dots.get_mut(..m * k),
        s.values.get_mut(..k * m),
    ) else {
        return Err(Error::shape(NAME, "a screen of the chunk's size", m));
    };
    gemm_abt(xs, m, flat, k, p, dots)?;
    with_avx2(
        #[inline(always)]
        || {
            for (r, d) in dots.chunks_exact(k).enumerate() {
                for ((&dot, &cs), v) in d.iter().zip(c_sq).zip(values.iter_mut().skip(r).step_by(m))
                {
                    *v = cs - 2.0 * dot;
                }
            }
            best.fill(f64::INFINITY);
            second.fill(f64::INFINITY);
            pick.fill(0.0);
            for (j, vs) in values.chunks_exact(m).enumerate() {
                let jf = j as f64;
                for (((&v, b), s2), pk) in vs
                    .iter()
                    .zip(best.iter_mut())
                    .zip(second.iter_mut())
                    .zip(pick.iter_mut())
                {
                    let above = if v > *b { v } else { *b };
                    *s2 = if above < *s2 { above } else { *s2 };
                    *pk = if v < *b { jf } else { *pk };
                    *b = if v < *b { v } else { *b };
                }
            }
        },
    );
    // |screen − exact| + |computed exact − exact| <= (4p + 8) ε (‖x‖² + ‖c‖²), generously;
    // every centre's bound is taken at the largest ‖c‖².
    let tol = (p as f64 + 8.0) * 8.0 * f64::EPSILON;
    let c_max = c_sq.iter().copied().fold(0.0, f64::max);
    for (r, (l, row)) in labels.iter_mut().zip(xs.chunks_exact(p.max(1))).enumerate() {
        let (b, s2) = (
            best.get(r).copied().unwrap_or(f64::NAN),
            second.get(r).copied().unwrap_or(f64::NAN),
        );
        // Candidates: the centres whose screened value is within twice the bound of the best.
        let limit = b + 2.0 * tol * (sq_norm(row) + c_max);
        let limit = if b.is_finite() { limit } else { f64::NAN };
        if limit.is_finite() && s2 > limit {
            *l = pick.get(r).copied().unwrap_or(0.0);
            continue;
        }
        // A non-finite value makes every product non-finite (an error); otherwise a near tie
        // or values too large to screen: exact distances, in centre order.
        KMeansModel::check_row(row, first + r)?;
        let mut nearest = None;
        let mut nearest_d = f64::INFINITY;
        for (j, c) in centers.iter().enumerate() {
            let v = values.get(j * m + r).copied().unwrap_or(f64::NAN);
            if limit.is_finite() && v > limit {
                continue;
            }
            let d = sq_euclidean(row, c);
            if nearest.is_none() || d < nearest_d {
                nearest = Some(j);
                nearest_d = d;
            }
        }
        *l = nearest.unwrap_or(0) as f64;
    }
    Ok(())
}

/// The rows of `x` centred on their mean, row-major ([`Centred`]). Fixed row blocks run in
/// parallel and their partial sums are added in block order (the same bits for any number
/// of threads).
fn centred(x: ArrayView2<'_, f64>) -> Centred {
    let (n, p) = x.dim();
    // Zeroed memory comes from the allocator untouched, so its pages are first written (and
    // faulted in) by the parallel centring pass below rather than by one thread.
    let mut c = pages::zeroed(n * p);
    let mut row_sq = vec![0.0; n];
    if n == 0 || p == 0 {
        return Centred {
            x: c,
            row_sq,
            mean: vec![0.0; p],
            mean_var: 0.0,
        };
    }
    let block = LLOYD_BLOCK * p;
    let column_sums = |parts: Vec<Vec<f64>>| {
        let mut total = vec![0.0; p];
        for part in parts {
            for (t, v) in total.iter_mut().zip(part) {
                *t += v;
            }
        }
        total
    };
    // The rows row-major (copied first only when the view is in another layout).
    let standard = x.as_standard_layout();
    let xs = standard.as_slice().unwrap_or(&[]);
    // The column sums of each block of rows, in row order, read in place.
    let sums = column_sums(
        xs.par_chunks(block)
            .map(|rows| {
                let mut s = vec![0.0; p];
                with_avx2(
                    #[inline(always)]
                    || {
                        for row in rows.chunks_exact(p) {
                            for (a, v) in s.iter_mut().zip(row) {
                                *a += v;
                            }
                        }
                    },
                );
                s
            })
            .collect(),
    );
    let mean: Vec<f64> = sums.iter().map(|s| s / n as f64).collect();
    // Then one pass writes the centred copy, sums its squares by column and takes the
    // squared norm of every centred row.
    let squares = column_sums(
        c.par_chunks_mut(block)
            .zip(row_sq.par_chunks_mut(LLOYD_BLOCK))
            .zip(xs.par_chunks(block))
            .map(|((rows, norms), source)| {
                let mut s = vec![0.0; p];
                with_avx2(
                    #[inline(always)]
                    || {
                        for ((dst, src), norm) in rows
                            .chunks_exact_mut(p)
                            .zip(source.chunks_exact(p))
                            .zip(norms.iter_mut())
                        {
                            for (((a, d), v), m) in
                                s.iter_mut().zip(dst.iter_mut()).zip(src).zip(&mean)
                            {
                                *d = v - m;
                                *a += *d * *d;
                            }
                            *norm = sq_norm(dst);
                        }
                    },
                );
                s
            })
            .collect(),
    );
    let mean_var = squares.iter().map(|s| s / n as f64).sum::<f64>() / p as f64;
    Centred {
        x: c,
        row_sq,
        mean,
        mean_var,
    }
}

/// The training rows centred on their mean, as the fit works on them.
struct Centred {
    /// The centred rows, row-major.
    x: Vec<f64>,
    /// The squared norm of every centred row.
    row_sq: Vec<f64>,
    /// The column means.
    mean: Vec<f64>,
    /// The mean of the column variances (scikit-learn's `_tolerance` scale).
    mean_var: f64,
}

impl Trainer for KMeans {
    type Model = KMeansModel;
    const NAME: &'static str = "k_means";

    /// Clusters the rows; a target is not needed (a given one is ignored); sample weights
    /// are scikit-learn's `sample_weight`.
    fn fit_with(&self, data: &dyn Dataset, ctx: &FitContext<'_>) -> Result<Self::Model> {
        let (start, n_init, elkan) = self.checked()?;
        let n = data.n_samples();
        let p = data.n_features();
        let k = self.n_clusters;
        if n == 0 {
            return Err(Error::Empty(format!("{NAME}: no rows to fit on")));
        }
        if n < k {
            return Err(Error::param(
                "n_clusters",
                k,
                &format!("at most the number of rows ({n})"),
            ));
        }
        if let KMeansInit::Centers(rows) = &self.init {
            if let Some(r) = rows.iter().find(|r| r.len() != p) {
                return Err(Error::param(
                    "init",
                    format!("a centre of {} values", r.len()),
                    &format!("centres of n_features = {p} values"),
                ));
            }
        }
        check_numeric_kinds(NAME, data.feature_kinds(), data.feature_names())?;
        let features = data.features();
        let w = sample_weights(NAME, data)?;
        // Centre the data on its (unweighted) mean, as scikit-learn; the tolerance is
        // scikit-learn's `_tolerance`: tol times the mean of the (unweighted) variances.
        let Centred {
            x,
            row_sq,
            mean,
            mean_var,
        } = ctx.install(|| centred(features.view()))?;
        // A NaN or infinite cell makes its column's sum non-finite, so finite means prove
        // finite data without another pass; otherwise the check names the first bad cell.
        if !mean.iter().all(|m| m.is_finite()) {
            check_finite(NAME, features.view(), data.feature_names())?;
        }
        drop(features);
        let tol = if self.tol == 0.0 || p == 0 {
            0.0
        } else {
            mean_var * self.tol
        };
        let problem = Problem { x: &x, n, p, w: &w };
        let seed = self.random_state.unwrap_or_else(|| ctx.seed());
        let gather = |idx: &[usize]| -> Vec<f64> {
            idx.iter()
                .flat_map(|&i| problem.row(i).iter().copied())
                .collect()
        };
        let mut ws = Workspace::new(n, k, p, LLOYD_BLOCK);
        let limits = Limits {
            max_iter: self.max_iter,
            tol,
            elkan,
        };
        ctx.install(|| {
            let mut best: Option<(Vec<usize>, f64, Vec<f64>, usize)> = None;
            for run in 0..n_init {
                let mut rng = rng::for_task(seed, run as u64);
                let init = match (&start, &self.init) {
                    (Start::PlusPlus, _) => {
                        gather(&kmeans_plusplus(&x, n, p, &w, k, &mut rng, Some(&row_sq))?)
                    }
                    (Start::Random, _) => gather(&random_rows(&w, k, &mut rng)?),
                    (Start::Centers, KMeansInit::Centers(rows)) => rows
                        .iter()
                        .flat_map(|r| r.iter().zip(&mean).map(|(v, m)| v - m))
                        .collect(),
                    (Start::Centers, KMeansInit::Method(_)) => {
                        return Err(Error::param("init", "a method", "explicit centres"))
                    }
                };
                let (labels, inertia, centers, n_iter) =
                    problem.run(init, k, limits, &mut ws, ctx)?;
                let better = match &best {
                    None => true,
                    Some((bl, bi, _, _)) => inertia < *bi && !same_clustering(&labels, bl, k),
                };
                if better {
                    best = Some((labels, inertia, centers, n_iter));
                }
            }
            let (_, inertia, centers, n_iter) =
                best.ok_or_else(|| Error::InvalidArgument(format!("{NAME}: no run was made")))?;
            let cluster_centers = centers
                .chunks(p.max(1))
                .take(k)
                .map(|c| c.iter().zip(&mean).map(|(v, m)| v + m).collect())
                .collect::<Vec<Vec<f64>>>();
            let cluster_centers = if p == 0 {
                vec![Vec::new(); k]
            } else {
                cluster_centers
            };
            Ok(KMeansModel {
                cluster_centers,
                inertia,
                n_iter,
                n_features: p,
            })
        })?
    }
}

impl KMeansModel {
    /// The number of clusters.
    pub fn n_clusters(&self) -> usize {
        self.cluster_centers.len()
    }

    /// Errors on the first non-finite value of `row`, naming row `index` and its column.
    fn check_row(row: &[f64], index: usize) -> Result<()> {
        match row.iter().position(|v| !v.is_finite()) {
            None => Ok(()),
            Some(j) => Err(Error::InvalidValue {
                context: NAME.into(),
                row: index,
                column: Some(format!("x{j}")),
                message: format!(
                    "{} is not a finite number; k-means takes finite values only (impute \
                     missing values first, e.g. with a `simple_imputer` step)",
                    row.get(j).copied().unwrap_or(f64::NAN)
                ),
            }),
        }
    }

    /// Writes the squared distance of `row` to every centre into `out` (one per centre).
    fn sq_distances(&self, row: &[f64], out: &mut [f64], index: usize) -> Result<()> {
        Self::check_row(row, index)?;
        for (o, c) in out.iter_mut().zip(&self.cluster_centers) {
            *o = sq_euclidean(row, c);
        }
        Ok(())
    }

    /// The index of the nearest centre of `row` (the first on ties); allocation-free.
    fn label(&self, row: &[f64], index: usize) -> Result<f64> {
        Self::check_row(row, index)?;
        let mut best = 0usize;
        let mut best_d = f64::INFINITY;
        for (j, c) in self.cluster_centers.iter().enumerate() {
            let d = sq_euclidean(row, c);
            if j == 0 || d < best_d {
                best = j;
                best_d = d;
            }
        }
        Ok(best as f64)
    }
}

impl Model for KMeansModel {
    fn n_features(&self) -> usize {
        self.n_features
    }

    fn validate(&self) -> Result<()> {
        let corrupt = |m: String| Err(Error::ModelCorrupt(format!("fitted {NAME}: {m}")));
        if self.cluster_centers.is_empty() {
            return corrupt("no cluster centre".into());
        }
        if let Some((j, c)) = self
            .cluster_centers
            .iter()
            .enumerate()
            .find(|(_, c)| c.len() != self.n_features)
        {
            return corrupt(format!(
                "centre {j} has {} values for {} features",
                c.len(),
                self.n_features
            ));
        }
        if self
            .cluster_centers
            .iter()
            .flatten()
            .any(|v| !v.is_finite())
        {
            return corrupt("a centre holds a non-finite value".into());
        }
        Ok(())
    }
}

impl Predictor for KMeansModel {
    /// The nearest centre of every row, in parallel over fixed blocks of rows: each
    /// [`CHUNK`] of rows is screened through one GEMM with the centres (`‖c‖² − 2 x·c`, as
    /// the fit's assignment), and the exact distances are recomputed only for the centres
    /// whose screened value is within a rounding bound of the best: the labels of
    /// [`predict_row_into`](Predictor::predict_row_into) (exact distances, the first centre
    /// on ties), bit for bit, whatever the thread count.
    fn predict_into(&self, x: ArrayView2<'_, f64>, out: &mut [f64]) -> Result<()> {
        check_predict_shapes(NAME, x, self.n_features, out.len(), 1)?;
        let p = self.n_features;
        let k = self.cluster_centers.len();
        let centers: Vec<f64> = self.cluster_centers.iter().flatten().copied().collect();
        if p == 0 || k == 0 || centers.len() != k * p {
            out.fill(0.0);
            return Ok(());
        }
        let c_sq: Vec<f64> = self
            .cluster_centers
            .iter()
            .map(|c| c.iter().map(|v| v * v).sum())
            .collect();
        let bad = first_of_blocks(out, PREDICT_BLOCK, |b, chunk| {
            let start = b * PREDICT_BLOCK;
            let mut rows_buf = Vec::new();
            let mut screen = Screen::new(CHUNK.min(chunk.len()), k);
            for (c, labels) in chunk.chunks_mut(CHUNK).enumerate() {
                let first = start + c * CHUNK;
                let m = labels.len();
                let view = x.slice(ndarray::s![first..first + m, ..]);
                let xs = match view.as_slice() {
                    Some(s) => s,
                    None => {
                        rows_buf.clear();
                        rows_buf.extend(view.iter().copied());
                        &rows_buf[..]
                    }
                };
                let done = nearest_of_chunk(
                    xs,
                    first,
                    &centers,
                    &self.cluster_centers,
                    &c_sq,
                    &mut screen,
                    labels,
                );
                if let Err(e) = done {
                    return Some(e);
                }
            }
            None
        });
        bad.map_or(Ok(()), Err)
    }

    /// Allocation-free.
    fn predict_row_into(&self, row: &[f64], out: &mut [f64]) -> Result<()> {
        if row.len() != self.n_features || out.len() != 1 {
            return Err(Error::shape(
                "k_means predict_row",
                format!("{} values in, 1 out", self.n_features),
                format!("{} in, {} out", row.len(), out.len()),
            ));
        }
        out[0] = self.label(row, 0)?;
        Ok(())
    }
}

/// scikit-learn's `KMeans.transform`: the (not squared) distance to every centre.
impl TransformPredictor for KMeansModel {
    fn n_outputs(&self) -> usize {
        self.cluster_centers.len()
    }

    fn transform_into(&self, x: ArrayView2<'_, f64>, out: &mut [f64]) -> Result<()> {
        let k = self.cluster_centers.len();
        check_predict_shapes(NAME, x, self.n_features, out.len(), k)?;
        let bad = first_of_blocks(out, PREDICT_BLOCK * k.max(1), |b, chunk| {
            let mut buf = Vec::new();
            for (r, o) in chunk.chunks_exact_mut(k.max(1)).enumerate() {
                let i = b * PREDICT_BLOCK + r;
                if let Err(e) = self.sq_distances(row_slice(x.row(i), &mut buf), o, i) {
                    return Some(e);
                }
                o.iter_mut().for_each(|v| *v = v.sqrt());
            }
            None
        });
        bad.map_or(Ok(()), Err)
    }

    /// Allocation-free.
    fn transform_row_into(&self, row: &[f64], out: &mut [f64]) -> Result<()> {
        if row.len() != self.n_features || out.len() != self.cluster_centers.len() {
            return Err(Error::shape(
                "k_means transform_row",
                format!(
                    "{} values in, {} out",
                    self.n_features,
                    self.cluster_centers.len()
                ),
                format!("{} in, {} out", row.len(), out.len()),
            ));
        }
        self.sq_distances(row, out, 0)?;
        out.iter_mut().for_each(|v| *v = v.sqrt());
        Ok(())
    }
}

impl Outputs for KMeansModel {
    fn as_transform(&self) -> Option<&dyn TransformPredictor> {
        Some(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::DenseDataset;
    use ndarray::array;

    fn data() -> DenseDataset {
        DenseDataset::unsupervised(array![
            [0.0, 0.0],
            [0.0, 1.0],
            [1.0, 0.0],
            [9.0, 9.0],
            [9.0, 10.0],
            [10.0, 9.0]
        ])
        .unwrap()
    }

    fn param_error(km: KMeans, name: &str) {
        let err = km.fit(&data()).err();
        assert_eq!(
            err.as_ref().and_then(Error::parameter),
            Some(name),
            "{err:?}"
        );
    }

    #[test]
    fn batch_labels_are_the_row_labels_ties_included() {
        // Four centres on a grid: the rows between them are at equal exact distances (the
        // first centre wins), and the GEMM screen must not reorder near ties.
        let model = KMeansModel {
            cluster_centers: vec![
                vec![0.0, 0.0, 0.5],
                vec![2.0, 0.0, 0.5],
                vec![0.0, 2.0, 0.5],
                vec![2.0, 2.0, 0.5],
            ],
            inertia: 0.0,
            n_iter: 1,
            n_features: 3,
        };
        let n = 3000;
        let x = ndarray::Array2::from_shape_fn((n, 3), |(i, j)| match i % 3 {
            // Exact ties on the grid's midlines.
            0 => [1.0, (i % 7) as f64 * 0.5, 0.5][j],
            1 => [(i % 5) as f64 * 0.5, 1.0, 0.5][j],
            // Near ties: one part in 1e15 off the midline, and far rows.
            _ => [
                1.0 + 1e-15 * ((i % 11) as f64 - 5.0),
                1e8 * (i % 2) as f64 + 1.0,
                0.5,
            ][j],
        });
        let mut batch = vec![0.0; n];
        model.predict_into(x.view(), &mut batch).unwrap();
        for (i, row) in x.outer_iter().enumerate() {
            let mut one = [0.0];
            model
                .predict_row_into(row.to_slice().unwrap(), &mut one)
                .unwrap();
            assert_eq!(one[0].to_bits(), batch[i].to_bits(), "row {i}");
        }
        assert_eq!(batch[0], 0.0, "a tie goes to the first centre");
        // A strided view (not contiguous) gives the same labels.
        let wide = ndarray::concatenate(ndarray::Axis(1), &[x.view(), x.view()]).unwrap();
        let strided = wide.slice(ndarray::s![.., ..;2]);
        let strided = strided.slice(ndarray::s![.., 0..3]);
        let mut again = vec![0.0; n];
        // Columns 0, 2, 4 of [x, x] are x0, x2, x1: compare with those rows' own labels.
        model.predict_into(strided, &mut again).unwrap();
        for (i, row) in strided.outer_iter().enumerate() {
            let mut one = [0.0];
            model.predict_row_into(&row.to_vec(), &mut one).unwrap();
            assert_eq!(one[0], again[i], "strided row {i}");
        }
    }

    #[test]
    fn bad_settings_are_errors_naming_the_parameter() {
        param_error(KMeans::default().n_clusters(0), "n_clusters");
        param_error(KMeans::default().n_clusters(7), "n_clusters");
        param_error(KMeans::default().n_clusters(2).max_iter(0), "max_iter");
        param_error(KMeans::default().n_clusters(2).tol(-1.0), "tol");
        param_error(KMeans::default().n_clusters(2).tol(f64::NAN), "tol");
        param_error(
            KMeans::default().n_clusters(2).n_init(NInit::Count(0)),
            "n_init",
        );
        param_error(
            KMeans::default()
                .n_clusters(2)
                .n_init(NInit::Auto("x".into())),
            "n_init",
        );
        param_error(
            KMeans::default()
                .n_clusters(2)
                .init(KMeansInit::Method("kmeans".into())),
            "init",
        );
        param_error(
            KMeans::default()
                .n_clusters(2)
                .init(KMeansInit::Centers(vec![vec![0.0, 0.0]])),
            "init",
        );
        param_error(
            KMeans::default()
                .n_clusters(1)
                .init(KMeansInit::Centers(vec![vec![0.0, 0.0, 0.0]])),
            "init",
        );
        param_error(
            KMeans::default().n_clusters(2).algorithm("full".into()),
            "algorithm",
        );
    }

    #[test]
    fn elkan_gives_lloyds_clusters() {
        let d = data();
        for k in 1..=4 {
            let lloyd = KMeans::default()
                .n_clusters(k)
                .random_state(3)
                .fit(&d)
                .unwrap();
            let elkan = KMeans::default()
                .n_clusters(k)
                .random_state(3)
                .algorithm("elkan".into())
                .fit(&d)
                .unwrap();
            assert_eq!(lloyd.n_iter, elkan.n_iter, "k = {k}");
            assert!((lloyd.inertia - elkan.inertia).abs() <= 1e-12 * (1.0 + lloyd.inertia));
        }
    }

    #[test]
    fn corrupt_state_and_non_finite_rows_are_errors() {
        let m = KMeans::default().n_clusters(2).fit(&data()).unwrap();
        assert_eq!(m.n_iter, 2);
        let mut bad = m.clone();
        bad.cluster_centers[1].pop();
        assert!(matches!(bad.validate(), Err(Error::ModelCorrupt(_))));
        let mut bad = m.clone();
        bad.cluster_centers.clear();
        assert!(matches!(bad.validate(), Err(Error::ModelCorrupt(_))));
        let mut bad = m.clone();
        bad.n_features = 3;
        assert!(matches!(bad.validate(), Err(Error::ModelCorrupt(_))));
        let mut out = [0.0];
        let e = m.predict_row_into(&[0.0, f64::NAN], &mut out).unwrap_err();
        assert!(e.to_string().contains("x1"), "{e}");
        let x = array![[0.0, 0.0], [f64::INFINITY, 0.0]];
        let mut out = [0.0; 4];
        match m.transform_into(x.view(), &mut out) {
            Err(Error::InvalidValue { row, column, .. }) => {
                assert_eq!((row, column.as_deref()), (1, Some("x0")))
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn same_clustering_is_up_to_renaming() {
        assert!(same_clustering(&[0, 0, 1, 2], &[2, 2, 0, 1], 3));
        assert!(!same_clustering(&[0, 0, 1, 2], &[2, 1, 0, 1], 3));
    }
}
