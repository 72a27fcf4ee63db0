//! `GaussianMixture`, as scikit-learn's: a mixture of `n_components` Gaussians fitted by
//! expectation-maximisation. A model of kind *clusterer*: it fits without a target, predicts
//! the most probable component of a row (`AMLIS_OUTPUT_VALUE`), the posterior probability of
//! every component (`AMLIS_OUTPUT_PROBA`, scikit-learn's `predict_proba`) and the
//! log-likelihood of the row (`AMLIS_OUTPUT_SCORE`, `score_samples`, one column); from Rust
//! also [`score`](GaussianMixtureModel::score), [`bic`](GaussianMixtureModel::bic) and
//! [`aic`](GaussianMixtureModel::aic).
//!
//! As scikit-learn: the precisions are kept as Cholesky factors (`precisions_cholesky_`, see
//! [`CovarianceType`]); each run starts from responsibilities given by `init_params` (k-means
//! labels from amlis's own [`KMeans`] with one run, k-means++ seeds, random
//! responsibilities, or random rows) or from the explicit `weights_init`, `means_init`,
//! `precisions_init`; each iteration computes the log-responsibilities by a log-sum-exp of
//! the weighted component log-densities (E-step) and re-estimates the weights, means and
//! covariances from them with `reg_covar` on the diagonals (M-step); a run stops when the
//! mean log-likelihood (the lower bound) changes by less than `tol`; the run with the best
//! lower bound of `n_init` is kept. The E-step and the sums of the M-step run over fixed row
//! blocks in parallel, reduced in block order, and run `r` draws from
//! `rng::for_task(seed, r)`, so a seed gives the same model for any number of threads.
//!
//! Sample weights (not in scikit-learn) weight every row's responsibilities in the M-step and
//! its log-likelihood in the lower bound: an integer weight acts as repeated rows.
//!
//! ```
//! use amlis::data::DenseDataset;
//! use amlis::models::mixture::GaussianMixture;
//! use amlis::traits::{Predictor, ProbabilisticPredictor, ScorePredictor, Trainer};
//! use ndarray::array;
//!
//! let x = array![[1.0, 2.0], [1.1, 4.0], [0.9, 0.0], [10.0, 2.0], [10.2, 4.0], [9.8, 0.0]];
//! let model = GaussianMixture::default()
//!     .n_components(2)
//!     .covariance_type("diag".into())
//!     .random_state(0)
//!     .fit(&DenseDataset::unsupervised(x.clone())?)?;
//! assert!(model.converged());
//! let mut label = [0.0; 2];
//! model.predict_into(array![[1.0, 1.0], [10.0, 1.0]].view(), &mut label)?;
//! assert_ne!(label[0], label[1]);
//! let mut proba = [0.0; 2];
//! model.predict_proba_row_into(&[1.0, 1.0], &mut proba)?;
//! assert!((proba[0] + proba[1] - 1.0).abs() < 1e-12);
//! let mut loglik = [0.0];
//! model.score_row_into(&[1.0, 1.0], &mut loglik)?;
//! assert!(loglik[0].is_finite());
//! // 2·2 variances, 2·2 means and 1 free weight.
//! assert_eq!(model.n_parameters(), 9);
//! let (bic, aic) = (model.bic(x.view())?, model.aic(x.view())?);
//! assert!((bic - aic - 9.0 * (6f64.ln() - 2.0)).abs() < 1e-9);
//! # Ok::<(), amlis::Error>(())
//! ```

use std::sync::OnceLock;

use ndarray::{ArrayView2, ArrayViewD, IxDyn};
use rand::Rng;
use serde::{Deserialize, Serialize};

use super::covariance::CovarianceType;
use super::em::{offsets, Components, Params, Problem};
use crate::common::parallel::first_of_blocks;
use crate::common::rng;
use crate::error::{Error, Result};
use crate::models::cluster::init::{kmeans_plusplus, random_rows};
use crate::models::cluster::{KMeans, NInit};
use crate::models::kit::validate::{
    check_finite, check_numeric_kinds, check_predict_shapes, sample_weights,
};
use crate::traits::{
    Control, Dataset, FitContext, FitEvent, Model, Outputs, Predictor, ProbabilisticPredictor,
    ScorePredictor, Trainer,
};

const NAME: &str = <GaussianMixture as Trainer>::NAME;

/// Rows per block of prediction.
const PREDICT_BLOCK: usize = 1024;

/// Given initial precision matrices (scikit-learn's `precisions_init`), in the shape of the
/// covariance type: `spherical` one value per component, `diag` one row of `n_features`
/// values per component, `tied` one `n_features × n_features` matrix, `full` one such matrix
/// per component.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum PrecisionsInit {
    /// One value per component (`spherical`).
    Values(Vec<f64>),
    /// Rows of values (`diag`: a row per component; `tied`: the matrix).
    Matrix(Vec<Vec<f64>>),
    /// One matrix per component (`full`).
    Matrices(Vec<Vec<Vec<f64>>>),
}

/// The settings of a Gaussian mixture, with scikit-learn's names and defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GaussianMixture {
    /// The number of components (default 1), at most the number of rows.
    pub n_components: usize,
    /// `"full"` (default), `"tied"`, `"diag"` or `"spherical"` (see [`CovarianceType`]).
    pub covariance_type: String,
    /// The run stops when the lower bound changes by less than this (default 1e-3).
    pub tol: f64,
    /// Added to the diagonal of every covariance, keeping it positive definite (default
    /// 1e-6).
    pub reg_covar: f64,
    /// EM iterations per run at most (default 100, at least 1).
    pub max_iter: usize,
    /// Runs from different initialisations, the best lower bound kept (default 1).
    pub n_init: usize,
    /// How the initial responsibilities are drawn: `"kmeans"` (default: the labels of a
    /// one-run k-means), `"k-means++"` (its seeds), `"random"` or `"random_from_data"` (one
    /// random row per component).
    pub init_params: String,
    /// The initial component weights (summing to 1), instead of those of `init_params`.
    pub weights_init: Option<Vec<f64>>,
    /// The initial means, one row of `n_features` values per component.
    pub means_init: Option<Vec<Vec<f64>>>,
    /// The initial precision matrices (inverse covariances), in the covariance type's shape.
    pub precisions_init: Option<PrecisionsInit>,
    /// The seed of the initialisation (`None`: the fit context's).
    pub random_state: Option<u64>,
}

impl Default for GaussianMixture {
    fn default() -> Self {
        Self {
            n_components: 1,
            covariance_type: "full".into(),
            tol: 1e-3,
            reg_covar: 1e-6,
            max_iter: 100,
            n_init: 1,
            init_params: "kmeans".into(),
            weights_init: None,
            means_init: None,
            precisions_init: None,
            random_state: None,
        }
    }
}

crate::models::kit::setters!(GaussianMixture {
    n_components: usize,
    covariance_type: String,
    tol: f64,
    reg_covar: f64,
    max_iter: usize,
    n_init: usize,
    init_params: String,
    weights_init: Vec<f64> => Some,
    means_init: Vec<Vec<f64>> => Some,
    precisions_init: PrecisionsInit => Some,
    random_state: u64 => Some,
});

/// How the initial responsibilities are drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum InitParams {
    KMeans,
    PlusPlus,
    Random,
    RandomFromData,
}

/// What one EM run ends with.
struct Run {
    params: Params,
    lower_bound: f64,
    n_iter: usize,
    converged: bool,
}

/// The settings checked, in the form the fit uses.
struct Checked {
    ct: CovarianceType,
    init: InitParams,
}

impl GaussianMixture {
    /// Checks every setting that does not depend on the data.
    fn checked(&self) -> Result<Checked> {
        let k = self.n_components;
        if k == 0 {
            return Err(Error::param("n_components", 0, "an integer >= 1"));
        }
        let ct = CovarianceType::parse(&self.covariance_type).ok_or_else(|| {
            Error::param(
                "covariance_type",
                format!("{:?}", self.covariance_type),
                "\"full\", \"tied\", \"diag\" or \"spherical\"",
            )
        })?;
        if !(self.tol.is_finite() && self.tol >= 0.0) {
            return Err(Error::param("tol", self.tol, "a finite value >= 0"));
        }
        if !(self.reg_covar.is_finite() && self.reg_covar >= 0.0) {
            return Err(Error::param(
                "reg_covar",
                self.reg_covar,
                "a finite value >= 0",
            ));
        }
        if self.max_iter == 0 {
            return Err(Error::param("max_iter", 0, "an integer >= 1"));
        }
        if self.n_init == 0 {
            return Err(Error::param("n_init", 0, "an integer >= 1"));
        }
        let init = match self.init_params.as_str() {
            "kmeans" => InitParams::KMeans,
            "k-means++" => InitParams::PlusPlus,
            "random" => InitParams::Random,
            "random_from_data" => InitParams::RandomFromData,
            other => {
                return Err(Error::param(
                    "init_params",
                    format!("{other:?}"),
                    "\"kmeans\", \"k-means++\", \"random\" or \"random_from_data\"",
                ))
            }
        };
        if let Some(w) = &self.weights_init {
            if w.len() != k {
                return Err(Error::param(
                    "weights_init",
                    format!("{} weights", w.len()),
                    &format!("n_components = {k} weights"),
                ));
            }
            if w.iter().any(|v| !(*v >= 0.0 && *v <= 1.0)) {
                return Err(Error::param(
                    "weights_init",
                    "a weight outside [0, 1]",
                    "weights in [0, 1]",
                ));
            }
            let sum: f64 = w.iter().sum();
            if (1.0 - sum).abs() > 1e-8 {
                return Err(Error::param(
                    "weights_init",
                    format!("weights summing to {sum}"),
                    "weights summing to 1",
                ));
            }
        }
        if let Some(m) = &self.means_init {
            if m.len() != k {
                return Err(Error::param(
                    "means_init",
                    format!("{} means", m.len()),
                    &format!("n_components = {k} means"),
                ));
            }
            if m.iter().flatten().any(|v| !v.is_finite()) {
                return Err(Error::param(
                    "means_init",
                    "a non-finite value",
                    "finite means",
                ));
            }
        }
        Ok(Checked { ct, init })
    }

    /// `precisions_init` as flat values of the covariance type's shape for `p` features,
    /// checked (positive values; symmetric matrices, positive definiteness being checked by
    /// their factorisation).
    fn flat_precisions(&self, ct: CovarianceType, k: usize, p: usize) -> Result<Option<Vec<f64>>> {
        let Some(init) = &self.precisions_init else {
            return Ok(None);
        };
        let shape = ct.shape(k, p);
        let bad = |what: String| {
            Error::param(
                "precisions_init",
                what,
                &format!(
                    "an array of shape {shape:?} for covariance_type {:?}",
                    self.covariance_type
                ),
            )
        };
        let rows_of = |m: &Vec<Vec<f64>>, rows: usize| -> Result<Vec<f64>> {
            if m.len() != rows || m.iter().any(|r| r.len() != p) {
                return Err(bad(format!(
                    "{} rows of {:?} values",
                    m.len(),
                    m.iter().map(Vec::len).collect::<Vec<_>>()
                )));
            }
            Ok(m.iter().flatten().copied().collect())
        };
        let flat = match (ct, init) {
            (CovarianceType::Spherical, PrecisionsInit::Values(v)) if v.len() == k => v.clone(),
            (CovarianceType::Diag, PrecisionsInit::Matrix(m)) => rows_of(m, k)?,
            (CovarianceType::Tied, PrecisionsInit::Matrix(m)) => rows_of(m, p)?,
            (CovarianceType::Full, PrecisionsInit::Matrices(ms)) if ms.len() == k => {
                let mut flat = Vec::with_capacity(k * p * p);
                for m in ms {
                    flat.extend(rows_of(m, p)?);
                }
                flat
            }
            _ => return Err(bad("an array of another shape".into())),
        };
        if flat.iter().any(|v| !v.is_finite()) {
            return Err(bad("an array with a non-finite value".into()));
        }
        match ct {
            CovarianceType::Diag | CovarianceType::Spherical => {
                if flat.iter().any(|&v| v <= 0.0) {
                    return Err(Error::param(
                        "precisions_init",
                        "a value <= 0",
                        "positive precisions",
                    ));
                }
            }
            CovarianceType::Full | CovarianceType::Tied => {
                for m in flat.chunks_exact(p * p) {
                    for a in 0..p {
                        for b in 0..a {
                            let (u, v) = (m[a * p + b], m[b * p + a]);
                            if (u - v).abs() > 1e-8 + 1e-5 * v.abs() {
                                return Err(Error::param(
                                    "precisions_init",
                                    "a matrix that is not symmetric",
                                    "symmetric positive-definite precision matrices",
                                ));
                            }
                        }
                    }
                }
            }
        }
        Ok(Some(flat))
    }

    /// The initial responsibilities of run `run` (`n × k`).
    fn initial_resp(
        &self,
        init: InitParams,
        problem: &Problem<'_>,
        k: usize,
        seed: u64,
        run: usize,
    ) -> Result<Vec<f64>> {
        let n = problem.n;
        let mut rng = rng::for_task(seed, run as u64);
        let mut resp = vec![0.0; n * k];
        let one_per_component = |rows: &[usize], resp: &mut [f64]| {
            for (j, &i) in rows.iter().enumerate() {
                if let Some(v) = resp.get_mut(i * k + j) {
                    *v = 1.0;
                }
            }
        };
        match init {
            InitParams::KMeans => {
                let km = KMeans::default()
                    .n_clusters(k)
                    .n_init(NInit::Count(1))
                    .random_state(rng.gen())
                    .fit_with(problem.data, &FitContext::new())?;
                let x = ArrayView2::from_shape((n, problem.p), problem.x)
                    .map_err(|e| Error::shape(NAME, "the training rows", e))?;
                let mut labels = vec![0.0; n];
                km.predict_into(x, &mut labels)?;
                for (i, l) in labels.iter().enumerate() {
                    if let Some(v) = resp.get_mut(i * k + *l as usize) {
                        *v = 1.0;
                    }
                }
            }
            InitParams::PlusPlus => {
                let rows = kmeans_plusplus(problem.x, n, problem.p, problem.w, k, &mut rng, None)?;
                one_per_component(&rows, &mut resp);
            }
            InitParams::RandomFromData => {
                let rows = random_rows(problem.w, k, &mut rng)?;
                one_per_component(&rows, &mut resp);
            }
            InitParams::Random => {
                for row in resp.chunks_exact_mut(k) {
                    row.iter_mut().for_each(|v| *v = rng.gen::<f64>());
                    let s: f64 = row.iter().sum();
                    row.iter_mut().for_each(|v| *v /= s);
                }
            }
        }
        Ok(resp)
    }

    /// The initial parameters of run `run` (scikit-learn's `_initialize_parameters`): the
    /// explicit ones where given, the others estimated from the initial responsibilities.
    fn initial_params(
        &self,
        checked: &Checked,
        problem: &Problem<'_>,
        k: usize,
        seed: u64,
        run: usize,
    ) -> Result<Params> {
        let ct = checked.ct;
        let p = problem.p;
        let precisions = self.flat_precisions(ct, k, p)?;
        let mut params = match (&self.weights_init, &self.means_init, &precisions) {
            (Some(w), Some(m), Some(_)) => Params {
                weights: w.clone(),
                means: m.iter().flatten().copied().collect(),
                covariances: Vec::new(),
                precisions_cholesky: Vec::new(),
            },
            _ => {
                let resp = self.initial_resp(checked.init, problem, k, seed, run)?;
                let mut est = problem.estimate(&resp, k, ct, self.reg_covar)?;
                est.weights.iter_mut().for_each(|v| *v /= problem.w_sum);
                est
            }
        };
        if let Some(w) = &self.weights_init {
            params.weights = w.clone();
        }
        if let Some(m) = &self.means_init {
            params.means = m.iter().flatten().copied().collect();
        }
        if let Some(prec) = &precisions {
            params.precisions_cholesky = ct.precisions_cholesky_from_precisions(prec, k, p)?;
        }
        Ok(params)
    }

    /// One EM run from `params`, the lower bound starting at `lower_bound`.
    fn run(
        &self,
        ct: CovarianceType,
        problem: &Problem<'_>,
        mut params: Params,
        mut lower_bound: f64,
        k: usize,
        ctx: &FitContext<'_>,
    ) -> Result<Run> {
        let p = problem.p;
        let mut resp = vec![0.0; problem.n * k];
        let mut converged = false;
        let mut n_iter = 0;
        for it in 1..=self.max_iter {
            n_iter = it;
            let previous = lower_bound;
            let offs = offsets(ct, &params.weights, &params.precisions_cholesky, p);
            let factors = ct.mean_factors(&params.means, &params.precisions_cholesky, k, p);
            let comps = Components {
                ct,
                means: &params.means,
                pc: &params.precisions_cholesky,
                factors: &factors,
                offsets: &offs,
                p,
            };
            lower_bound = problem.e_step(&comps, &mut resp)?;
            params = problem.estimate(&resp, k, ct, self.reg_covar)?;
            let total: f64 = params.weights.iter().sum();
            params.weights.iter_mut().for_each(|v| *v /= total);
            let change = lower_bound - previous;
            let control = ctx.report(&FitEvent {
                stage: NAME,
                iteration: it,
                total: Some(self.max_iter),
                values: &[("lower_bound", lower_bound), ("change", change)],
            });
            if change.abs() < self.tol {
                converged = true;
                break;
            }
            match control {
                Control::Continue => {}
                Control::Stop => break,
                Control::Cancel => {
                    return Err(Error::Cancelled(format!(
                        "{NAME}: cancelled by the callback"
                    )))
                }
            }
        }
        Ok(Run {
            params,
            lower_bound,
            n_iter,
            converged,
        })
    }

    /// The training rows (row-major), their weights and checks shared by every fit.
    fn rows(&self, data: &dyn Dataset) -> Result<(Vec<f64>, Vec<f64>, usize, usize)> {
        let n = data.n_samples();
        let p = data.n_features();
        let k = self.n_components;
        if n < 2 {
            return Err(Error::Empty(format!(
                "{NAME}: fitting needs at least 2 rows, got {n}"
            )));
        }
        if p == 0 {
            return Err(Error::Empty(format!("{NAME}: no feature column")));
        }
        if n < k {
            return Err(Error::param(
                "n_components",
                k,
                &format!("at most the number of rows ({n})"),
            ));
        }
        if let Some(r) = self
            .means_init
            .as_ref()
            .and_then(|m| m.iter().find(|r| r.len() != p))
        {
            return Err(Error::param(
                "means_init",
                format!("a mean of {} values", r.len()),
                &format!("means of n_features = {p} values"),
            ));
        }
        check_numeric_kinds(NAME, data.feature_kinds(), data.feature_names())?;
        let features = data.features();
        check_finite(NAME, features.view(), data.feature_names())?;
        let w = sample_weights(NAME, data)?;
        let x: Vec<f64> = features.iter().copied().collect();
        Ok((x, w, n, p))
    }

    /// Fits from the parameters of `previous` (scikit-learn's `warm_start=True` on a fitted
    /// estimator): one run, its lower bound starting at `previous`'s; `n_init`,
    /// `init_params` and the explicit initial parameters are not used. `previous` must have
    /// this trainer's `n_components` and covariance type and the data's feature count.
    pub fn fit_warm_start(
        &self,
        previous: &GaussianMixtureModel,
        data: &dyn Dataset,
        ctx: &FitContext<'_>,
    ) -> Result<GaussianMixtureModel> {
        let checked = self.checked()?;
        previous.validate()?;
        if previous.covariance_type != checked.ct || previous.n_components() != self.n_components {
            return Err(Error::InvalidArgument(format!(
                "{NAME}: a warm start needs a model of {} {:?} components; the previous one \
                 has {} {:?} components",
                self.n_components,
                self.covariance_type,
                previous.n_components(),
                previous.covariance_type,
            )));
        }
        let (x, w, n, p) = self.rows(data)?;
        if previous.n_features != p {
            return Err(Error::shape(
                "gaussian_mixture warm start",
                format!("{} features (as the previous model)", previous.n_features),
                format!("{p} features"),
            ));
        }
        let problem = Problem::new(data, &x, &w, n, p);
        let params = Params {
            weights: previous.weights.clone(),
            means: previous.means.clone(),
            covariances: previous.covariances.clone(),
            precisions_cholesky: previous.precisions_cholesky.clone(),
        };
        let run = ctx.install(|| {
            self.run(
                checked.ct,
                &problem,
                params,
                previous.lower_bound,
                self.n_components,
                ctx,
            )
        })??;
        Ok(GaussianMixtureModel::from_run(checked.ct, p, run))
    }
}

impl Trainer for GaussianMixture {
    type Model = GaussianMixtureModel;
    const NAME: &'static str = "gaussian_mixture";

    /// Fits the mixture; a target is not needed (a given one is ignored).
    fn fit_with(&self, data: &dyn Dataset, ctx: &FitContext<'_>) -> Result<Self::Model> {
        let checked = self.checked()?;
        let k = self.n_components;
        let (x, w, n, p) = self.rows(data)?;
        // Errors in the explicit precisions come before any work.
        self.flat_precisions(checked.ct, k, p)?;
        let problem = Problem::new(data, &x, &w, n, p);
        let seed = self.random_state.unwrap_or_else(|| ctx.seed());
        let best = ctx.install(|| -> Result<Run> {
            let mut best: Option<Run> = None;
            for run in 0..self.n_init {
                let params = self.initial_params(&checked, &problem, k, seed, run)?;
                let r = self.run(checked.ct, &problem, params, f64::NEG_INFINITY, k, ctx)?;
                let better = match &best {
                    None => true,
                    Some(b) => r.lower_bound > b.lower_bound,
                };
                if better {
                    best = Some(r);
                }
            }
            best.ok_or_else(|| Error::InvalidArgument(format!("{NAME}: no run was made")))
        })??;
        Ok(GaussianMixtureModel::from_run(checked.ct, p, best))
    }
}

/// What the predictions derive from the parameters once: every component's offset
/// `log w_j + ½ log det P_j − ½ p log 2π`, its mean factor `μ_jᵀ U_j` (`full`, `tied`) and
/// the component names (`"0"`, `"1"`, ...).
#[derive(Debug, Clone)]
struct Derived {
    offsets: Vec<f64>,
    factors: Vec<f64>,
    names: Vec<String>,
}

/// A lazily built [`Derived`]: not serialized (rebuilt from the parameters), and equal for any
/// two models (it follows from the parameters they are compared by).
#[derive(Debug, Clone, Default)]
struct Cache(OnceLock<Derived>);

impl PartialEq for Cache {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

/// A fitted [`GaussianMixture`] (scikit-learn's fitted attributes without the trailing `_`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GaussianMixtureModel {
    covariance_type: CovarianceType,
    weights: Vec<f64>,
    means: Vec<f64>,
    covariances: Vec<f64>,
    precisions_cholesky: Vec<f64>,
    converged: bool,
    n_iter: usize,
    #[serde(with = "crate::common::json_float::one")]
    lower_bound: f64,
    n_features: usize,
    #[serde(skip)]
    cache: Cache,
}

impl GaussianMixtureModel {
    fn from_run(ct: CovarianceType, p: usize, run: Run) -> Self {
        let model = Self {
            covariance_type: ct,
            weights: run.params.weights,
            means: run.params.means,
            covariances: run.params.covariances,
            precisions_cholesky: run.params.precisions_cholesky,
            converged: run.converged,
            n_iter: run.n_iter,
            lower_bound: run.lower_bound,
            n_features: p,
            cache: Cache::default(),
        };
        model.derived();
        model
    }

    fn derived(&self) -> &Derived {
        self.cache.0.get_or_init(|| Derived {
            offsets: offsets(
                self.covariance_type,
                &self.weights,
                &self.precisions_cholesky,
                self.n_features,
            ),
            factors: self.covariance_type.mean_factors(
                &self.means,
                &self.precisions_cholesky,
                self.weights.len(),
                self.n_features,
            ),
            names: (0..self.weights.len()).map(|j| j.to_string()).collect(),
        })
    }

    fn components(&self) -> Components<'_> {
        Components {
            ct: self.covariance_type,
            means: &self.means,
            pc: &self.precisions_cholesky,
            factors: &self.derived().factors,
            offsets: &self.derived().offsets,
            p: self.n_features,
        }
    }

    /// The number of components.
    pub fn n_components(&self) -> usize {
        self.weights.len()
    }

    /// The covariance type.
    pub fn covariance_type(&self) -> CovarianceType {
        self.covariance_type
    }

    /// The weight of every component (scikit-learn's `weights_`).
    pub fn weights(&self) -> &[f64] {
        &self.weights
    }

    /// The means, `n_components × n_features` (scikit-learn's `means_`).
    pub fn means(&self) -> ArrayView2<'_, f64> {
        ArrayView2::from_shape((self.n_components(), self.n_features), &self.means)
            .unwrap_or_else(|_| ndarray::aview2::<f64, 0>(&[]))
    }

    /// The covariances in scikit-learn's shape for the covariance type (`full`:
    /// `k × p × p`, `tied`: `p × p`, `diag`: `k × p`, `spherical`: `k`).
    pub fn covariances(&self) -> ArrayViewD<'_, f64> {
        self.shaped(&self.covariances)
    }

    /// The Cholesky factors of the precisions (scikit-learn's `precisions_cholesky_`), in the
    /// covariances' shape.
    pub fn precisions_cholesky(&self) -> ArrayViewD<'_, f64> {
        self.shaped(&self.precisions_cholesky)
    }

    fn shaped<'a>(&self, v: &'a [f64]) -> ArrayViewD<'a, f64> {
        let shape = self
            .covariance_type
            .shape(self.n_components(), self.n_features);
        ArrayViewD::from_shape(IxDyn(&shape), v).unwrap_or_else(|_| ndarray::aview1(v).into_dyn())
    }

    /// Whether the best run converged (its lower bound changed by less than `tol`).
    pub fn converged(&self) -> bool {
        self.converged
    }

    /// The EM iterations of the best run.
    pub fn n_iter(&self) -> usize {
        self.n_iter
    }

    /// The weighted mean log-likelihood of the training rows at the best run's last E-step
    /// (scikit-learn's `lower_bound_`).
    pub fn lower_bound(&self) -> f64 {
        self.lower_bound
    }

    /// The number of free parameters (scikit-learn's `_n_parameters`).
    pub fn n_parameters(&self) -> usize {
        let (k, p) = (self.n_components(), self.n_features);
        self.covariance_type.n_parameters(k, p) + k * p + k - 1
    }

    /// The mean log-likelihood of the rows of `x` (scikit-learn's `score`).
    pub fn score(&self, x: ArrayView2<'_, f64>) -> Result<f64> {
        if x.nrows() == 0 {
            return Err(Error::Empty(format!("{NAME} score: no rows")));
        }
        let mut out = vec![0.0; x.nrows()];
        self.score_into(x, &mut out)?;
        Ok(out.iter().sum::<f64>() / x.nrows() as f64)
    }

    /// The Bayesian information criterion on `x` (lower is better):
    /// `−2 · score · n + n_parameters · ln n`.
    pub fn bic(&self, x: ArrayView2<'_, f64>) -> Result<f64> {
        let n = x.nrows() as f64;
        Ok(-2.0 * self.score(x)? * n + self.n_parameters() as f64 * n.ln())
    }

    /// The Akaike information criterion on `x` (lower is better):
    /// `−2 · score · n + 2 · n_parameters`.
    pub fn aic(&self, x: ArrayView2<'_, f64>) -> Result<f64> {
        let n = x.nrows() as f64;
        Ok(-2.0 * self.score(x)? * n + 2.0 * self.n_parameters() as f64)
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
                    "{} is not a finite number; a Gaussian mixture takes finite values only \
                     (impute missing values first, e.g. with a `simple_imputer` step)",
                    row.get(j).copied().unwrap_or(f64::NAN)
                ),
            }),
        }
    }

    /// Checks a single row's lengths: `n_features` values in, `width` out.
    fn check_row_shapes(&self, what: &str, row: &[f64], out: &[f64], width: usize) -> Result<()> {
        if row.len() != self.n_features || out.len() != width {
            return Err(Error::shape(
                &format!("{NAME} {what}"),
                format!("{} values in, {width} out", self.n_features),
                format!("{} in, {} out", row.len(), out.len()),
            ));
        }
        Ok(())
    }

    /// Runs `f(row, out, index)` over every row of `x` with `width` outputs each, in
    /// parallel over row blocks; the first error in row order is returned.
    fn each_row(
        &self,
        x: ArrayView2<'_, f64>,
        out: &mut [f64],
        width: usize,
        f: impl Fn(&[f64], &mut [f64]) + Sync,
    ) -> Result<()> {
        check_predict_shapes(NAME, x, self.n_features, out.len(), width)?;
        self.derived();
        let p = self.n_features;
        let bad = first_of_blocks(out, PREDICT_BLOCK * width.max(1), |b, chunk| {
            let mut buf = vec![0.0; p];
            for (r, o) in chunk.chunks_exact_mut(width.max(1)).enumerate() {
                let i = b * PREDICT_BLOCK + r;
                let row = x.row(i);
                let row = match row.as_slice() {
                    Some(s) => s,
                    None => {
                        buf.iter_mut().zip(row.iter()).for_each(|(d, v)| *d = *v);
                        &buf
                    }
                };
                if let Err(e) = Self::check_row(row, i) {
                    return Some(e);
                }
                f(row, o);
            }
            None
        });
        bad.map_or(Ok(()), Err)
    }
}

impl Model for GaussianMixtureModel {
    fn n_features(&self) -> usize {
        self.n_features
    }

    fn validate(&self) -> Result<()> {
        let corrupt = |m: String| Err(Error::ModelCorrupt(format!("fitted {NAME}: {m}")));
        let (k, p) = (self.weights.len(), self.n_features);
        if k == 0 || p == 0 {
            return corrupt(format!("{k} components of {p} features"));
        }
        if k.checked_mul(p) != Some(self.means.len()) {
            return corrupt(format!(
                "{} mean values for {k} components of {p} features",
                self.means.len()
            ));
        }
        let len = self.covariance_type.len(k, p);
        for (what, v) in [
            ("covariance", &self.covariances),
            ("precision factor", &self.precisions_cholesky),
        ] {
            if len != Some(v.len()) {
                return corrupt(format!(
                    "{} {what} values for {k} {:?} components of {p} features",
                    v.len(),
                    self.covariance_type
                ));
            }
        }
        if self
            .weights
            .iter()
            .chain(&self.means)
            .chain(&self.covariances)
            .chain(&self.precisions_cholesky)
            .any(|v| !v.is_finite())
        {
            return corrupt("a non-finite parameter".into());
        }
        if self.weights.iter().any(|&w| !(0.0..=1.0).contains(&w)) {
            return corrupt("a component weight outside [0, 1]".into());
        }
        // The log-determinants need positive diagonals of the precision factors.
        let positive = match self.covariance_type {
            CovarianceType::Full | CovarianceType::Tied => self
                .precisions_cholesky
                .chunks_exact(p * p)
                .all(|u| (0..p).all(|i| u[i * p + i] > 0.0)),
            CovarianceType::Diag | CovarianceType::Spherical => {
                self.precisions_cholesky.iter().all(|&v| v > 0.0)
            }
        };
        if !positive {
            return corrupt("a precision factor with a non-positive diagonal".into());
        }
        Ok(())
    }
}

impl Predictor for GaussianMixtureModel {
    /// The most probable component of every row (scikit-learn's `predict`).
    fn predict_into(&self, x: ArrayView2<'_, f64>, out: &mut [f64]) -> Result<()> {
        let c = self.components();
        self.each_row(x, out, 1, |row, o| o[0] = c.argmax(row) as f64)
    }

    /// Allocation-free.
    fn predict_row_into(&self, row: &[f64], out: &mut [f64]) -> Result<()> {
        self.check_row_shapes("predict_row", row, out, 1)?;
        Self::check_row(row, 0)?;
        out[0] = self.components().argmax(row) as f64;
        Ok(())
    }
}

/// The responsibilities (scikit-learn's `predict_proba`); the "classes" are the component
/// indices `"0"`, `"1"`, ...
impl ProbabilisticPredictor for GaussianMixtureModel {
    fn n_classes(&self) -> usize {
        self.weights.len()
    }

    fn classes(&self) -> &[String] {
        &self.derived().names
    }

    fn predict_proba_into(&self, x: ArrayView2<'_, f64>, out: &mut [f64]) -> Result<()> {
        let c = self.components();
        self.each_row(x, out, self.weights.len(), |row, o| {
            c.responsibilities(row, o);
        })
    }

    /// Allocation-free.
    fn predict_proba_row_into(&self, row: &[f64], out: &mut [f64]) -> Result<()> {
        self.check_row_shapes("predict_proba_row", row, out, self.weights.len())?;
        Self::check_row(row, 0)?;
        self.components().responsibilities(row, out);
        Ok(())
    }
}

/// The log-likelihood of every row (scikit-learn's `score_samples`), one column.
impl ScorePredictor for GaussianMixtureModel {
    fn n_scores(&self) -> usize {
        1
    }

    fn score_into(&self, x: ArrayView2<'_, f64>, out: &mut [f64]) -> Result<()> {
        let c = self.components();
        self.each_row(x, out, 1, |row, o| o[0] = c.log_likelihood(row))
    }

    /// Allocation-free.
    fn score_row_into(&self, row: &[f64], out: &mut [f64]) -> Result<()> {
        self.check_row_shapes("score_row", row, out, 1)?;
        Self::check_row(row, 0)?;
        out[0] = self.components().log_likelihood(row);
        Ok(())
    }
}

impl Outputs for GaussianMixtureModel {
    fn as_probabilistic(&self) -> Option<&dyn ProbabilisticPredictor> {
        Some(self)
    }

    fn as_scorer(&self) -> Option<&dyn ScorePredictor> {
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
            [1.0, 0.3],
            [9.0, 9.0],
            [9.0, 10.0],
            [10.0, 9.5]
        ])
        .unwrap()
    }

    fn param_error(gm: GaussianMixture, name: &str) {
        let err = gm.fit(&data()).err();
        assert_eq!(
            err.as_ref().and_then(Error::parameter),
            Some(name),
            "{err:?}"
        );
    }

    #[test]
    fn bad_settings_are_errors_naming_the_parameter() {
        let g = || GaussianMixture::default().n_components(2);
        param_error(g().n_components(0), "n_components");
        param_error(g().n_components(7), "n_components");
        param_error(g().covariance_type("Full".into()), "covariance_type");
        param_error(g().tol(-1.0), "tol");
        param_error(g().reg_covar(f64::NAN), "reg_covar");
        param_error(g().max_iter(0), "max_iter");
        param_error(g().n_init(0), "n_init");
        param_error(g().init_params("k-means".into()), "init_params");
        param_error(g().weights_init(vec![0.5, 0.6]), "weights_init");
        param_error(g().weights_init(vec![1.0]), "weights_init");
        param_error(g().means_init(vec![vec![0.0, 0.0]]), "means_init");
        param_error(
            g().means_init(vec![vec![0.0, 0.0], vec![1.0]]),
            "means_init",
        );
        param_error(
            g().precisions_init(PrecisionsInit::Values(vec![1.0, 1.0])),
            "precisions_init",
        );
        param_error(
            g().covariance_type("spherical".into())
                .precisions_init(PrecisionsInit::Values(vec![1.0, -1.0])),
            "precisions_init",
        );
        param_error(
            g().covariance_type("tied".into())
                .precisions_init(PrecisionsInit::Matrix(vec![vec![1.0, 0.5], vec![0.0, 1.0]])),
            "precisions_init",
        );
        param_error(
            g().covariance_type("tied".into())
                .precisions_init(PrecisionsInit::Matrix(vec![vec![1.0, 2.0], vec![2.0, 1.0]])),
            "precisions_init",
        );
    }

    #[test]
    fn corrupt_state_and_non_finite_rows_are_errors() {
        let m = GaussianMixture::default()
            .n_components(2)
            .random_state(1)
            .fit(&data())
            .unwrap();
        assert!(m.validate().is_ok());
        let mut bad = m.clone();
        bad.means.pop();
        assert!(matches!(bad.validate(), Err(Error::ModelCorrupt(_))));
        let mut bad = m.clone();
        bad.precisions_cholesky.pop();
        assert!(matches!(bad.validate(), Err(Error::ModelCorrupt(_))));
        let mut bad = m.clone();
        bad.precisions_cholesky[0] = -1.0;
        assert!(matches!(bad.validate(), Err(Error::ModelCorrupt(_))));
        let mut bad = m.clone();
        bad.n_features = 1 << 40;
        assert!(matches!(bad.validate(), Err(Error::ModelCorrupt(_))));
        let mut out = [0.0];
        let e = m.score_row_into(&[0.0, f64::NAN], &mut out).unwrap_err();
        assert!(e.to_string().contains("x1"), "{e}");
        let mut out = [0.0; 4];
        match m.predict_proba_into(array![[0.0, 0.0], [f64::INFINITY, 0.0]].view(), &mut out) {
            Err(Error::InvalidValue { row, column, .. }) => {
                assert_eq!((row, column.as_deref()), (1, Some("x0")))
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(m.covariances().shape(), &[2, 2, 2]);
        assert_eq!(m.means().shape(), &[2, 2]);
        assert_eq!(m.classes(), ["0", "1"]);
    }
}
