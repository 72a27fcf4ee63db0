//! `MiniBatchKMeans`, as scikit-learn 1.9's: k-means on random mini-batches, for data too
//! large for Lloyd's iterations, and streaming (`partial_fit`). The fitted model is a
//! [`KMeansModel`]: it predicts the nearest centre (`AMLIS_OUTPUT_VALUE`) and transforms a row
//! into its distances to the centres (`AMLIS_OUTPUT_TRANSFORM`), exactly as k-means.
//!
//! As scikit-learn: the initial centres (k-means++, random rows or explicit, the same
//! initialisations as [`super::KMeans`]) are drawn from `init_size` random rows, the best of
//! `n_init` by inertia on another `init_size` random rows; then each step draws `batch_size`
//! rows with replacement (with probability proportional to the sample weight), assigns them
//! to their nearest centre (the blocked GEMM of k-means) and moves each centre towards the
//! mean of its rows with a per-centre learning rate (the centre's accumulated weight:
//! `c ← (c · W + Σ w x) / (W + Σ w)`); every `10 · n_clusters` rows (or when a centre has no
//! weight yet), centres whose weight is below `reassignment_ratio` times the largest are moved
//! to random rows of the batch. It stops after `max_iter` passes over the data
//! (`max_iter · n_samples / batch_size` steps), when the squared centre change is at most
//! `tol` times the mean feature variance (when `tol > 0`), or when the exponentially
//! weighted average of the batch inertia has not improved for `max_no_improvement` steps.
//! `partial_fit` (through [`crate::traits::Incremental`]) makes one such step on each chunk,
//! with the chunk's own weights. One generator (`rng::for_task(seed, 0)`) draws everything
//! in order and the assignments are reduced in block order, so a seed gives the same model
//! for any number of threads; scikit-learn's random numbers are not reproduced.
//!
//! ```
//! use amlis::data::DenseDataset;
//! use amlis::models::cluster::MiniBatchKMeans;
//! use amlis::traits::{Predictor, Trainer};
//! use ndarray::{array, Array2};
//!
//! let x = Array2::from_shape_fn((200, 2), |(i, j)| (i % 2) as f64 * 10.0 + ((i * (j + 3)) % 7) as f64 * 0.1);
//! let model = MiniBatchKMeans::default()
//!     .n_clusters(2)
//!     .batch_size(32)
//!     .random_state(0)
//!     .fit(&DenseDataset::unsupervised(x)?)?;
//! let mut label = [0.0; 2];
//! model.predict_into(array![[0.3, 0.3], [10.3, 10.3]].view(), &mut label)?;
//! assert_ne!(label[0], label[1]);
//! # Ok::<(), amlis::Error>(())
//! ```

use rand::Rng;
use serde::{Deserialize, Serialize};

use super::init::{kmeans_plusplus, random_rows};
use super::k_means::{
    KMeans, KMeansInit, KMeansModel, NInit, Pass, Problem, Start, Workspace, LLOYD_BLOCK,
};
use crate::common::rng::{self, ChaCha8Rng};
use crate::error::{Error, Result};
use crate::models::kit::setters;
use crate::models::kit::validate::{check_finite, check_numeric_kinds, sample_weights};
use crate::traits::{
    Control, Dataset, FitContext, FitEvent, Incremental, IncrementalLearner, StreamSpec, Trainer,
};

const NAME: &str = <MiniBatchKMeans as Trainer>::NAME;

/// Rows per parallel block of a mini-batch's assignment (one GEMM chunk each: a batch of 1024
/// rows still spreads over the threads).
const BATCH_BLOCK: usize = 256;

/// The settings of mini-batch k-means, with scikit-learn's names and defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MiniBatchKMeans {
    /// The number of clusters (default 8), at least 1 and at most the number of rows.
    pub n_clusters: usize,
    /// `"k-means++"` (default), `"random"`, or explicit initial centres.
    pub init: KMeansInit,
    /// Initialisations tried, the best (by inertia on `init_size` random rows) kept:
    /// `"auto"` (default: 1 for k-means++ or explicit centres, 3 for random) or a count.
    pub n_init: NInit,
    /// Passes over the data at most (default 100).
    pub max_iter: usize,
    /// Rows per mini-batch (default 1024; at most the number of rows).
    pub batch_size: usize,
    /// Stop when the squared change of the centres in a step is at most `tol` times the mean
    /// feature variance (default 0: off).
    pub tol: f64,
    /// Stop after this many steps without improvement of the smoothed batch inertia
    /// (default 10; `null`: never).
    pub max_no_improvement: Option<usize>,
    /// Rows drawn for each initialisation (default `null`: `3 · batch_size`, at least
    /// `3 · n_clusters`, at most the number of rows).
    pub init_size: Option<usize>,
    /// Centres whose accumulated weight is below this share of the largest are moved to
    /// random rows (default 0.01; 0: never).
    pub reassignment_ratio: f64,
    /// The seed (`None`: the fit context's).
    pub random_state: Option<u64>,
}

impl Default for MiniBatchKMeans {
    fn default() -> Self {
        Self {
            n_clusters: 8,
            init: KMeansInit::default(),
            n_init: NInit::default(),
            max_iter: 100,
            batch_size: 1024,
            tol: 0.0,
            max_no_improvement: Some(10),
            init_size: None,
            reassignment_ratio: 0.01,
            random_state: None,
        }
    }
}

setters!(MiniBatchKMeans {
    n_clusters: usize,
    init: KMeansInit,
    n_init: NInit,
    max_iter: usize,
    batch_size: usize,
    tol: f64,
    max_no_improvement: Option<usize>,
    init_size: usize => Some,
    reassignment_ratio: f64,
    random_state: u64 => Some,
});

/// The training rows, row-major, their weights, and how they were checked.
struct Data {
    x: Vec<f64>,
    w: Vec<f64>,
    n: usize,
    p: usize,
}

impl Data {
    /// Reads and checks the rows and weights of `data`.
    fn read(data: &dyn Dataset) -> Result<Self> {
        let n = data.n_samples();
        let p = data.n_features();
        if n == 0 {
            return Err(Error::Empty(format!("{NAME}: no rows to fit on")));
        }
        check_numeric_kinds(NAME, data.feature_kinds(), data.feature_names())?;
        let features = data.features();
        check_finite(NAME, features.view(), data.feature_names())?;
        let x: Vec<f64> = features.iter().copied().collect();
        let w = sample_weights(NAME, data)?;
        Ok(Self { x, w, n, p })
    }

    fn problem(&self) -> Problem<'_> {
        Problem {
            x: &self.x,
            n: self.n,
            p: self.p,
            w: &self.w,
        }
    }

    /// The rows `idx` (with their weights) into `out`, reusing its buffers.
    fn take_into(&self, idx: &[usize], out: &mut Data) {
        let p = self.p;
        out.x.clear();
        out.w.clear();
        for &i in idx {
            out.x
                .extend_from_slice(self.x.get(i * p..(i + 1) * p).unwrap_or(&[]));
            out.w.push(self.w.get(i).copied().unwrap_or(0.0));
        }
        out.n = idx.len();
        out.p = p;
    }

    /// The rows `idx` (with their weights) as new data.
    fn take(&self, idx: &[usize]) -> Data {
        let p = self.p;
        Data {
            x: idx
                .iter()
                .flat_map(|&i| self.x.get(i * p..(i + 1) * p).unwrap_or(&[]))
                .copied()
                .collect(),
            w: idx
                .iter()
                .map(|&i| self.w.get(i).copied().unwrap_or(0.0))
                .collect(),
            n: idx.len(),
            p,
        }
    }
}

/// The settings resolved for a data set (scikit-learn's `_check_params_vs_input`).
struct Plan {
    start: Start,
    n_init: usize,
    batch_size: usize,
    init_size: usize,
}

impl MiniBatchKMeans {
    /// Checks every setting (naming the bad one) and resolves the sizes for `n` rows of `p`
    /// features.
    fn plan(&self, n: usize, p: usize) -> Result<Plan> {
        let km = KMeans {
            n_clusters: self.n_clusters,
            init: self.init.clone(),
            n_init: self.n_init.clone(),
            max_iter: self.max_iter,
            tol: self.tol,
            algorithm: "lloyd".into(),
            random_state: None,
        };
        let (start, n_init, _) = km.checked()?;
        // scikit-learn's MiniBatchKMeans runs 3 random initialisations for "auto".
        let n_init = match (&self.n_init, &start) {
            (NInit::Auto(_), Start::Random) => 3,
            _ => n_init,
        };
        if self.batch_size == 0 {
            return Err(Error::param("batch_size", 0, "an integer >= 1"));
        }
        if self.init_size == Some(0) {
            return Err(Error::param("init_size", 0, "null or an integer >= 1"));
        }
        if !(self.reassignment_ratio.is_finite() && self.reassignment_ratio >= 0.0) {
            return Err(Error::param(
                "reassignment_ratio",
                self.reassignment_ratio,
                "a finite value >= 0",
            ));
        }
        let k = self.n_clusters;
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
        let batch_size = self.batch_size.min(n);
        let init_size = match self.init_size {
            None if 3 * batch_size < k => 3 * k,
            None => 3 * batch_size,
            Some(s) if s < k => 3 * k,
            Some(s) => s,
        }
        .min(n);
        Ok(Plan {
            start,
            n_init,
            batch_size,
            init_size,
        })
    }

    /// Initial centres (row-major) drawn from `data` (scikit-learn's `_init_centroids`: from
    /// `init_size` random rows when that is fewer than the rows).
    fn init_centres(&self, plan: &Plan, data: &Data, rng: &mut ChaCha8Rng) -> Result<Vec<f64>> {
        let k = self.n_clusters;
        let sub;
        let d = if plan.init_size < data.n {
            let idx: Vec<usize> = (0..plan.init_size)
                .map(|_| rng.gen_range(0..data.n))
                .collect();
            sub = data.take(&idx);
            &sub
        } else {
            data
        };
        let chosen = match (&plan.start, &self.init) {
            (Start::PlusPlus, _) => kmeans_plusplus(&d.x, d.n, d.p, &d.w, k, rng, None)?,
            (Start::Random, _) => random_rows(&d.w, k, rng)?,
            (Start::Centers, KMeansInit::Centers(rows)) => {
                return Ok(rows.iter().flatten().copied().collect())
            }
            (Start::Centers, KMeansInit::Method(_)) => {
                return Err(Error::param("init", "a method", "explicit centres"))
            }
        };
        Ok(d.take(&chosen).x)
    }
}

/// The state of the mini-batch iterations: the centres and their accumulated weights.
#[derive(Debug, Clone)]
struct Steps {
    centres: Vec<f64>,
    counts: Vec<f64>,
    k: usize,
    p: usize,
    batch_size: usize,
    n_since_reassign: usize,
    reassignment_ratio: f64,
}

impl Steps {
    fn new(centres: Vec<f64>, k: usize, p: usize, batch_size: usize, ratio: f64) -> Self {
        Self {
            centres,
            counts: vec![0.0; k],
            k,
            p,
            batch_size,
            n_since_reassign: 0,
            reassignment_ratio: ratio,
        }
    }

    /// scikit-learn's `_random_reassign`: whether this step may reassign centres (every
    /// `10 · n_clusters` rows, or when a centre has no weight yet).
    fn reassign_due(&mut self) -> bool {
        self.n_since_reassign += self.batch_size;
        if self.counts.contains(&0.0) || self.n_since_reassign >= 10 * self.k {
            self.n_since_reassign = 0;
            true
        } else {
            false
        }
    }

    /// One step on `batch` (scikit-learn's `_mini_batch_step`): assigns its rows, moves the
    /// centres, reassigns low-weight centres when `reassign`; returns the batch inertia
    /// (before the move). `ws` is the assignment workspace, reused across steps.
    fn step(
        &mut self,
        batch: &Data,
        reassign: bool,
        rng: &mut ChaCha8Rng,
        ws: &mut Workspace,
    ) -> f64 {
        let (k, p) = (self.k, self.p);
        let problem = batch.problem();
        let mut labels = vec![0usize; batch.n];
        let pass = Pass {
            sums: true,
            inertia: true,
        };
        let (sums, inertia) = problem.assign(&self.centres, k, &mut labels, pass, ws);
        // `_minibatch_update_dense`: each centre with members in the batch moves to the mean
        // of its old position (weighted by its accumulated weight) and of its new rows.
        if let Some(sums) = sums {
            for (c, count) in self.counts.iter_mut().enumerate() {
                let wsum = sums.weights.get(c).copied().unwrap_or(0.0);
                let (Some(centre), Some(add)) = (
                    self.centres.get_mut(c * p..(c + 1) * p),
                    sums.centers.get(c * p..(c + 1) * p),
                ) else {
                    continue;
                };
                if wsum > 0.0 {
                    let old = *count;
                    *count += wsum;
                    let alpha = 1.0 / *count;
                    for (v, a) in centre.iter_mut().zip(add) {
                        *v = (*v * old + a) * alpha;
                    }
                }
            }
        }
        if reassign && self.reassignment_ratio > 0.0 {
            self.reassign(batch, rng);
        }
        inertia
    }

    /// Moves the centres of low weight to random rows of `batch` and gives them the smallest
    /// weight of the others.
    fn reassign(&mut self, batch: &Data, rng: &mut ChaCha8Rng) {
        let max = self.counts.iter().copied().fold(0.0, f64::max);
        let mut to: Vec<bool> = self
            .counts
            .iter()
            .map(|&c| c < self.reassignment_ratio * max)
            .collect();
        let half = batch.n / 2;
        if to.iter().filter(|&&t| t).count() > half {
            let mut order: Vec<usize> = (0..self.k).collect();
            order.sort_by(|&a, &b| self.counts[a].total_cmp(&self.counts[b]));
            for &c in order.iter().skip(half) {
                if let Some(t) = to.get_mut(c) {
                    *t = false;
                }
            }
        }
        let moved: Vec<usize> = (0..self.k)
            .filter(|&c| to.get(c).copied().unwrap_or(false))
            .collect();
        if moved.is_empty() || moved.len() > batch.n {
            return;
        }
        let rows = rand::seq::index::sample(rng, batch.n, moved.len());
        let p = self.p;
        for (&c, r) in moved.iter().zip(rows) {
            let src = batch.x.get(r * p..(r + 1) * p).unwrap_or(&[]);
            if let Some(dst) = self.centres.get_mut(c * p..(c + 1) * p) {
                dst.copy_from_slice(src);
            }
        }
        let floor = (0..self.k)
            .filter(|&c| !to.get(c).copied().unwrap_or(true))
            .map(|c| self.counts.get(c).copied().unwrap_or(0.0))
            .fold(f64::INFINITY, f64::min);
        if floor.is_finite() {
            for &c in &moved {
                if let Some(v) = self.counts.get_mut(c) {
                    *v = floor;
                }
            }
        }
    }

    /// The model: the centres, with `inertia` and `n_iter`.
    fn model(&self, inertia: f64, n_iter: usize) -> KMeansModel {
        let p = self.p;
        KMeansModel {
            cluster_centers: (0..self.k)
                .map(|c| self.centres.get(c * p..(c + 1) * p).unwrap_or(&[]).to_vec())
                .collect(),
            inertia,
            n_iter,
            n_features: p,
        }
    }
}

/// The weighted inertia of `data` with its nearest of `centres`.
fn inertia_of(data: &Data, centres: &[f64], k: usize) -> f64 {
    let problem = data.problem();
    let mut labels = vec![0usize; data.n];
    let mut ws = Workspace::new(data.n, k, data.p, LLOYD_BLOCK);
    problem
        .assign(centres, k, &mut labels, Pass::INERTIA, &mut ws)
        .1
}

impl Trainer for MiniBatchKMeans {
    type Model = KMeansModel;
    const NAME: &'static str = "mini_batch_k_means";

    /// Clusters the rows by mini-batches; a target is not needed (a given one is ignored);
    /// sample weights are scikit-learn's `sample_weight` (the probability of a row to be
    /// drawn into a batch, and its weight in the initialisation and the final inertia).
    fn fit_with(&self, data: &dyn Dataset, ctx: &FitContext<'_>) -> Result<Self::Model> {
        let plan = self.plan(data.n_samples(), data.n_features())?;
        let d = Data::read(data)?;
        let (n, p, k) = (d.n, d.p, self.n_clusters);
        // scikit-learn's `_tolerance`: tol times the mean of the feature variances.
        let tol = if self.tol == 0.0 || p == 0 {
            0.0
        } else {
            let mut var = 0.0;
            for j in 0..p {
                let col = || d.x.iter().skip(j).step_by(p);
                let mean = col().sum::<f64>() / n as f64;
                var += col().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n as f64;
            }
            var / p as f64 * self.tol
        };
        let seed = self.random_state.unwrap_or_else(|| ctx.seed());
        let mut rng = rng::for_task(seed, 0);
        ctx.install(|| {
            let valid: Vec<usize> = (0..plan.init_size).map(|_| rng.gen_range(0..n)).collect();
            let valid = d.take(&valid);
            let mut best: Option<(f64, Vec<f64>)> = None;
            for _ in 0..plan.n_init {
                let centres = self.init_centres(&plan, &d, &mut rng)?;
                let inertia = inertia_of(&valid, &centres, k);
                if best.as_ref().is_none_or(|(b, _)| inertia < *b) {
                    best = Some((inertia, centres));
                }
            }
            let (_, centres) =
                best.ok_or_else(|| Error::InvalidArgument(format!("{NAME}: no initialisation")))?;
            let bs = plan.batch_size;
            let mut steps = Steps::new(centres, k, p, bs, self.reassignment_ratio);
            let mut ws = Workspace::new(bs, k, p, BATCH_BLOCK);
            let mut idx = Vec::with_capacity(bs);
            let mut batch = Data {
                x: Vec::with_capacity(bs * p),
                w: Vec::with_capacity(bs),
                n: 0,
                p,
            };
            let mut cum = Vec::with_capacity(n);
            let mut acc = 0.0;
            for wi in &d.w {
                acc += wi;
                cum.push(acc);
            }
            let n_steps = self.max_iter.saturating_mul(n) / bs;
            let mut ewa: Option<f64> = None;
            let mut ewa_min: Option<f64> = None;
            let mut no_improvement = 0usize;
            let mut done = 0usize;
            for i in 0..n_steps {
                done = i + 1;
                idx.clear();
                idx.extend((0..bs).map(|_| {
                    let u = rng.gen::<f64>() * acc;
                    cum.partition_point(|&c| c <= u).min(n - 1)
                }));
                d.take_into(&idx, &mut batch);
                batch.w.iter_mut().for_each(|w| *w = 1.0);
                let old = (tol > 0.0).then(|| steps.centres.clone());
                let due = steps.reassign_due();
                let batch_inertia = steps.step(&batch, due, &mut rng, &mut ws) / bs as f64;
                let diff: f64 = old.map_or(0.0, |o| {
                    o.iter()
                        .zip(&steps.centres)
                        .map(|(a, b)| (a - b) * (a - b))
                        .sum()
                });
                match ctx.report(&FitEvent {
                    stage: NAME,
                    iteration: i + 1,
                    total: Some(n_steps),
                    values: &[("batch_inertia", batch_inertia)],
                }) {
                    Control::Continue => {}
                    Control::Stop => break,
                    Control::Cancel => {
                        return Err(Error::Cancelled(format!(
                            "{NAME}: cancelled by the callback"
                        )))
                    }
                }
                // `_mini_batch_convergence`; the first step's inertia is the
                // initialisation's and is ignored.
                if i == 0 {
                    continue;
                }
                let alpha = (bs as f64 * 2.0 / (n as f64 + 1.0)).min(1.0);
                let e = match ewa {
                    None => batch_inertia,
                    Some(e) => e * (1.0 - alpha) + batch_inertia * alpha,
                };
                ewa = Some(e);
                if tol > 0.0 && diff <= tol {
                    break;
                }
                if ewa_min.is_none_or(|m| e < m) {
                    no_improvement = 0;
                    ewa_min = Some(e);
                } else {
                    no_improvement += 1;
                }
                if self.max_no_improvement.is_some_and(|m| no_improvement >= m) {
                    break;
                }
            }
            let n_iter = (done * bs).div_ceil(n);
            let inertia = inertia_of(&d, &steps.centres, k);
            Ok(steps.model(inertia, n_iter))
        })?
    }
}

/// A mini-batch k-means learning from a stream (scikit-learn's `partial_fit`): the first
/// chunk initialises the centres (it needs at least `n_clusters` rows), every chunk makes one
/// step with its own weights.
#[derive(Debug, Clone)]
pub struct MiniBatchKMeansState {
    trainer: MiniBatchKMeans,
    n_features: usize,
    /// Boxed: the generator is most of the state's size.
    rng: Box<ChaCha8Rng>,
    steps: Option<Steps>,
    n_steps: usize,
    inertia: f64,
}

impl MiniBatchKMeansState {
    /// Learns from one chunk: one mini-batch step (the first chunk also initialises the
    /// centres).
    pub fn partial_fit(&mut self, chunk: &dyn Dataset) -> Result<()> {
        if chunk.n_features() != self.n_features {
            return Err(Error::shape(
                "mini_batch_k_means partial_fit",
                format!("{} features", self.n_features),
                chunk.n_features(),
            ));
        }
        let d = Data::read(chunk)?;
        let k = self.trainer.n_clusters;
        let mut steps = match self.steps.take() {
            Some(s) => s,
            None => {
                let plan = self.trainer.plan(d.n, d.p)?;
                let centres = self.trainer.init_centres(&plan, &d, &mut self.rng)?;
                Steps::new(
                    centres,
                    k,
                    d.p,
                    plan.batch_size,
                    self.trainer.reassignment_ratio,
                )
            }
        };
        let due = steps.reassign_due();
        let mut ws = Workspace::new(d.n, k, d.p, BATCH_BLOCK);
        steps.step(&d, due, &mut self.rng, &mut ws);
        self.inertia = inertia_of(&d, &steps.centres, k);
        self.steps = Some(steps);
        self.n_steps += 1;
        Ok(())
    }

    /// The centres so far; `inertia` is the last chunk's (scikit-learn's `inertia_` after
    /// `partial_fit`), `n_iter` the number of chunks.
    pub fn model(&self) -> Result<KMeansModel> {
        self.steps
            .as_ref()
            .map(|s| s.model(self.inertia, self.n_steps))
            .ok_or_else(|| Error::InvalidArgument(format!("{NAME}: no chunk has been learned yet")))
    }
}

impl IncrementalLearner for MiniBatchKMeansState {
    type Model = KMeansModel;

    fn partial_fit(&mut self, chunk: &dyn Dataset) -> Result<()> {
        MiniBatchKMeansState::partial_fit(self, chunk)
    }

    fn model(&self) -> Result<KMeansModel> {
        MiniBatchKMeansState::model(self)
    }
}

impl Incremental for MiniBatchKMeans {
    type Learner = MiniBatchKMeansState;

    fn start(&self, spec: &StreamSpec, ctx: &FitContext<'_>) -> Result<MiniBatchKMeansState> {
        // The settings that do not depend on the data are checked now.
        self.plan(self.n_clusters, spec.n_features)?;
        let seed = self.random_state.unwrap_or_else(|| ctx.seed());
        Ok(MiniBatchKMeansState {
            trainer: self.clone(),
            n_features: spec.n_features,
            rng: Box::new(rng::for_task(seed, 0)),
            steps: None,
            n_steps: 0,
            inertia: 0.0,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::DenseDataset;
    use ndarray::Array2;

    fn data() -> DenseDataset {
        let x = Array2::from_shape_fn((40, 2), |(i, j)| {
            (i % 2) as f64 * 10.0 + ((i * (j + 3)) % 7) as f64 * 0.1
        });
        DenseDataset::unsupervised(x).unwrap()
    }

    fn param_error(m: MiniBatchKMeans, name: &str) {
        let err = m.fit(&data()).err();
        assert_eq!(
            err.as_ref().and_then(Error::parameter),
            Some(name),
            "{err:?}"
        );
    }

    #[test]
    fn bad_settings_are_errors_naming_the_parameter() {
        let d = || MiniBatchKMeans::default().n_clusters(2);
        param_error(d().n_clusters(0), "n_clusters");
        param_error(d().n_clusters(41), "n_clusters");
        param_error(d().batch_size(0), "batch_size");
        param_error(d().init_size(0), "init_size");
        param_error(d().max_iter(0), "max_iter");
        param_error(d().tol(-1.0), "tol");
        param_error(d().reassignment_ratio(-0.1), "reassignment_ratio");
        param_error(d().n_init(NInit::Count(0)), "n_init");
        param_error(d().init(KMeansInit::Method("x".into())), "init");
    }

    #[test]
    fn finds_the_two_groups_and_streams() {
        let m = MiniBatchKMeans::default()
            .n_clusters(2)
            .batch_size(8)
            .random_state(3)
            .fit(&data())
            .unwrap();
        let mut c: Vec<f64> = m.cluster_centers.iter().map(|c| c[0]).collect();
        c.sort_by(f64::total_cmp);
        assert!(c[0] < 1.0 && c[1] > 9.0, "{c:?}");
        let spec = StreamSpec {
            n_features: 2,
            classes: vec![],
        };
        let mut l = MiniBatchKMeans::default()
            .n_clusters(2)
            .start(&spec, &FitContext::new())
            .unwrap();
        assert!(l.model().is_err());
        let d = data();
        for s in (0..40).step_by(10) {
            l.partial_fit(&d.view((s..s + 10).collect()).unwrap())
                .unwrap();
        }
        assert_eq!(l.model().unwrap().n_iter, 4);
    }
}
