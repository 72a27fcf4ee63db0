//! Stochastic gradient descent for linear models, as scikit-learn's `SGDClassifier` and
//! `SGDRegressor`: plain per-sample SGD with the same losses, penalties, learning-rate
//! schedules, stopping rules and one-vs-all multiclass scheme, plus streaming through
//! [`SgdClassifierState::partial_fit`] and [`SgdRegressorState::partial_fit`].
//!
//! Each binary problem of a one-vs-all fit shuffles with its own seeded stream
//! (`rng::for_task(seed, class)`) and the problems run in parallel, so a seed gives the same
//! model for any thread count. The trajectory differs from scikit-learn's (another random
//! generator); the optimum and the accuracy do not.
//!
//! ```
//! use amlis::data::DenseDataset;
//! use amlis::models::linear::sgd::{SgdRegressor, SgdRegressorState};
//! use amlis::traits::{Predictor, Trainer};
//! use ndarray::{Array1, Array2};
//!
//! // y = 2 x0 - x1 + 0.5
//! let x = Array2::from_shape_fn((200, 2), |(i, j)| ((i * (j + 3)) % 17) as f64 / 8.5 - 1.0);
//! let y = Array1::from_iter(x.outer_iter().map(|r| 2.0 * r[0] - r[1] + 0.5));
//! let data = DenseDataset::regression(x, y)?;
//! let model = SgdRegressor::default().alpha(0.0).eta0(0.05).fit(&data)?;
//! assert!((model.coef[0] - 2.0).abs() < 0.05 && (model.intercept - 0.5).abs() < 0.05);
//!
//! // The same by streaming: chunks of 50 rows, 20 passes.
//! let mut state = SgdRegressorState::new(SgdRegressor::default().alpha(0.0).eta0(0.05), 2, 0)?;
//! for _ in 0..20 {
//!     for start in (0..200).step_by(50) {
//!         state.partial_fit(&data.view((start..start + 50).collect())?)?;
//!     }
//! }
//! let streamed = state.model()?;
//! assert!((streamed.coef[1] + 1.0).abs() < 0.05);
//! # Ok::<(), amlis::Error>(())
//! ```

mod engine;

use ndarray::{Array1, Array2, ArrayView2};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::common::parallel::first_of_blocks;
use crate::error::{Error, Result};
use crate::models::kit::{class_weight, context, setters, validate, ClassWeight};
use crate::models::linear::logistic::{
    argmax, check_two_classes, checked_features, class_targets, class_weights, dot_row, row_major,
    sigmoid,
};
use crate::models::linear::prep;
use crate::traits::{
    Dataset, FitContext, Incremental, IncrementalLearner, Model, Predictor, ProbabilisticPredictor,
    StreamSpec, Trainer,
};

pub use engine::{LearningRate, LinearState, SgdLoss, SgdPenalty};
use engine::{Problem, Settings};

/// scikit-learn's `average`: `false`, `true` (average from the first update) or the update
/// number from which to average. Named apart from [`crate::evaluate::metrics::Average`], the
/// averaging of precision, recall and F1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum SgdAverage {
    /// Off (`false`) or from the first update (`true`).
    Flag(bool),
    /// From update number `n` (>= 1).
    From(usize),
}

/// The former name of [`SgdAverage`].
#[deprecated(
    note = "renamed `SgdAverage` (`amlis::metrics::Average` averages precision/recall/F1)"
)]
pub type Average = SgdAverage;

impl Default for SgdAverage {
    fn default() -> Self {
        SgdAverage::Flag(false)
    }
}

impl SgdAverage {
    fn start(self) -> usize {
        match self {
            SgdAverage::Flag(false) => 0,
            SgdAverage::Flag(true) => 1,
            SgdAverage::From(n) => n,
        }
    }
}

/// Settings common to both SGD trainers, checked at the start of a fit.
#[allow(clippy::too_many_arguments)]
fn settings(
    loss: SgdLoss,
    epsilon: f64,
    penalty: SgdPenalty,
    alpha: f64,
    l1_ratio: f64,
    fit_intercept: bool,
    learning_rate: LearningRate,
    eta0: f64,
    power_t: f64,
    max_iter: usize,
    tol: Option<f64>,
    n_iter_no_change: usize,
    shuffle: bool,
    average: SgdAverage,
    early_stopping: bool,
    validation_fraction: f64,
) -> Result<Settings> {
    if !(alpha >= 0.0 && alpha.is_finite()) {
        return Err(Error::param("alpha", alpha, "finite and >= 0"));
    }
    if learning_rate == LearningRate::Optimal && alpha == 0.0 {
        return Err(Error::param(
            "alpha",
            alpha,
            "> 0 with learning_rate = optimal",
        ));
    }
    if !(0.0..=1.0).contains(&l1_ratio) {
        return Err(Error::param("l1_ratio", l1_ratio, "in [0, 1]"));
    }
    if learning_rate != LearningRate::Optimal && !(eta0 > 0.0 && eta0.is_finite()) {
        return Err(Error::param(
            "eta0",
            eta0,
            "> 0 with learning_rate constant, invscaling or adaptive",
        ));
    }
    if !power_t.is_finite() {
        return Err(Error::param("power_t", power_t, "a finite number"));
    }
    if max_iter == 0 {
        return Err(Error::param("max_iter", max_iter, ">= 1"));
    }
    if let Some(t) = tol {
        if !t.is_finite() {
            return Err(Error::param("tol", t, "a finite number or null"));
        }
    }
    if n_iter_no_change == 0 {
        return Err(Error::param("n_iter_no_change", n_iter_no_change, ">= 1"));
    }
    if !(epsilon >= 0.0 && epsilon.is_finite()) {
        return Err(Error::param("epsilon", epsilon, "finite and >= 0"));
    }
    if early_stopping && !(validation_fraction > 0.0 && validation_fraction < 1.0) {
        return Err(Error::param(
            "validation_fraction",
            validation_fraction,
            "in (0, 1)",
        ));
    }
    Ok(Settings {
        loss,
        epsilon,
        penalty,
        alpha,
        l1_ratio,
        fit_intercept,
        learning_rate,
        eta0,
        power_t,
        tol,
        n_iter_no_change,
        shuffle,
        average: average.start(),
    })
}

/// Picks `validation_fraction` of the rows (per stratum when `strata` is given) with a
/// seeded stream; returns (train, validation) row lists, both sorted.
fn split(
    n: usize,
    fraction: f64,
    strata: Option<&[usize]>,
    seed: u64,
) -> Result<(Vec<usize>, Vec<usize>)> {
    let mut rng = crate::common::rng::for_task(seed, u64::MAX);
    let groups: Vec<Vec<usize>> = match strata {
        None => vec![(0..n).collect()],
        Some(y) => {
            let k = y.iter().copied().max().map_or(0, |m| m + 1);
            let mut g = vec![Vec::new(); k];
            for (i, &c) in y.iter().enumerate() {
                g[c].push(i);
            }
            g
        }
    };
    let mut val = Vec::new();
    for mut g in groups {
        rand::seq::SliceRandom::shuffle(g.as_mut_slice(), &mut rng);
        let take = ((g.len() as f64) * fraction).ceil() as usize;
        val.extend(g.into_iter().take(take));
    }
    val.sort_unstable();
    let mut is_val = vec![false; n];
    for &i in &val {
        is_val[i] = true;
    }
    let train: Vec<usize> = (0..n).filter(|&i| !is_val[i]).collect();
    if train.is_empty() || val.is_empty() {
        return Err(Error::param(
            "validation_fraction",
            fraction,
            "a fraction leaving at least one training and one validation row",
        ));
    }
    Ok((train, val))
}

/// Defines an SGD hyperparameter struct: the fields both estimators share (same JSON keys,
/// same order), with the estimator's own fields before `average`.
macro_rules! sgd_params {
    (
        $(#[$meta:meta])*
        $name:ident(loss: $loss:expr, learning_rate: $lr:expr, power_t: $power_t:expr) {
            $($(#[$fmeta:meta])* $field:ident: $ty:ty = $default:expr,)*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        #[serde(deny_unknown_fields, default)]
        pub struct $name {
            /// The loss (classifier: `hinge` by default, `log_loss` and `modified_huber` give
            /// probabilities; regressor: `squared_error`, `huber`, `epsilon_insensitive`,
            /// `squared_epsilon_insensitive`).
            pub loss: SgdLoss,
            /// The penalty.
            pub penalty: SgdPenalty,
            /// Penalty strength (>= 0; > 0 with `optimal`).
            pub alpha: f64,
            /// L1 share of the elastic-net penalty, in [0, 1].
            pub l1_ratio: f64,
            /// Whether to fit an intercept.
            pub fit_intercept: bool,
            /// Maximum number of epochs (>= 1).
            pub max_iter: usize,
            /// Stop when the epoch objective (or validation score) improves by less than `tol`
            /// for `n_iter_no_change` epochs; `None` runs `max_iter` epochs.
            pub tol: Option<f64>,
            /// Shuffle the rows at every epoch.
            pub shuffle: bool,
            /// Width of the insensitive / quadratic zone of huber and epsilon-insensitive
            /// losses.
            pub epsilon: f64,
            /// Seed of the shuffles and of the validation split (`None`: the fit context's
            /// seed).
            pub random_state: Option<u64>,
            /// Step-size schedule.
            pub learning_rate: LearningRate,
            /// Initial step size (> 0 unless `optimal`).
            pub eta0: f64,
            /// Exponent of `invscaling`.
            pub power_t: f64,
            /// Hold out `validation_fraction` of the rows (stratified for the classifier) and
            /// stop on their accuracy (classifier) or R² (regressor).
            pub early_stopping: bool,
            /// Share of rows held out for early stopping, in (0, 1).
            pub validation_fraction: f64,
            /// Epochs without improvement before stopping (>= 1).
            pub n_iter_no_change: usize,
            $($(#[$fmeta])* pub $field: $ty,)*
            /// Averaged SGD (`false`, `true` or the update number to start from).
            pub average: SgdAverage,
        }

        impl Default for $name {
            fn default() -> Self {
                Self {
                    loss: $loss,
                    penalty: SgdPenalty::L2,
                    alpha: 1e-4,
                    l1_ratio: 0.15,
                    fit_intercept: true,
                    max_iter: 1000,
                    tol: Some(1e-3),
                    shuffle: true,
                    epsilon: 0.1,
                    random_state: None,
                    learning_rate: $lr,
                    eta0: 0.01,
                    power_t: $power_t,
                    early_stopping: false,
                    validation_fraction: 0.1,
                    n_iter_no_change: 5,
                    $($field: $default,)*
                    average: SgdAverage::Flag(false),
                }
            }
        }
    };
}

sgd_params!(
    /// `SGDClassifier` hyperparameters (config type `sgd_classifier`).
    SgdClassifier(loss: SgdLoss::Hinge, learning_rate: LearningRate::Optimal, power_t: 0.5) {
        /// Class weights: none, `"balanced"` or a map from label to weight.
        #[serde(deserialize_with = "class_weight::deserialize_without_subsample")]
        class_weight: Option<ClassWeight> = None,
    }
);

sgd_params!(
    /// `SGDRegressor` hyperparameters (config type `sgd_regressor`).
    SgdRegressor(
        loss: SgdLoss::SquaredError,
        learning_rate: LearningRate::Invscaling,
        power_t: 0.25
    ) {}
);

macro_rules! builders {
    ($t:ty) => {
        setters!($t {
            loss: SgdLoss,
            penalty: SgdPenalty,
            alpha: f64,
            l1_ratio: f64,
            fit_intercept: bool,
            max_iter: usize,
            tol: Option<f64>,
            shuffle: bool,
            epsilon: f64,
            random_state: u64 => Some,
            learning_rate: LearningRate,
            eta0: f64,
            power_t: f64,
            early_stopping: bool,
            validation_fraction: f64,
            n_iter_no_change: usize,
            average: SgdAverage,
        });

        impl $t {
            fn settings(&self) -> Result<Settings> {
                settings(
                    self.loss,
                    self.epsilon,
                    self.penalty,
                    self.alpha,
                    self.l1_ratio,
                    self.fit_intercept,
                    self.learning_rate,
                    self.eta0,
                    self.power_t,
                    self.max_iter,
                    self.tol,
                    self.n_iter_no_change,
                    self.shuffle,
                    self.average,
                    self.early_stopping,
                    self.validation_fraction,
                )
            }
        }
    };
}
builders!(SgdClassifier);
builders!(SgdRegressor);

setters!(SgdClassifier {
    class_weight: ClassWeight => Some,
});

/// A fitted SGD classifier.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SgdClassifierModel {
    /// Coefficients: one row for two classes (class 1 positive), one per class otherwise.
    pub coef: Array2<f64>,
    /// Intercepts, one per coefficient row.
    pub intercept: Array1<f64>,
    /// Class labels.
    pub classes: Vec<String>,
    /// The loss it was trained with (decides whether probabilities exist).
    pub loss: SgdLoss,
    /// Epochs run (the most over the one-vs-all problems).
    pub n_iter: usize,
}

/// A fitted SGD regressor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SgdRegressorModel {
    /// Coefficients, one per feature.
    pub coef: Array1<f64>,
    /// Intercept.
    pub intercept: f64,
    /// Epochs run.
    pub n_iter: usize,
}

/// A classifier under streaming training: the hyperparameters, the class labels given up
/// front (as scikit-learn's `classes=` on the first `partial_fit`), and one SGD state per
/// one-vs-all problem.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SgdClassifierState {
    params: SgdClassifier,
    classes: Vec<String>,
    n_features: usize,
    states: Vec<LinearState>,
    n_iter: usize,
    seed: u64,
}

/// A regressor under streaming training.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SgdRegressorState {
    params: SgdRegressor,
    n_features: usize,
    state: LinearState,
    n_iter: usize,
    seed: u64,
}

/// The ±1 targets and row weights of one-vs-all problem `c` (`c = 1` of a binary problem is
/// the positive class); `cw` holds one weight per class.
fn binary_problem(
    y: &[usize],
    sw: &[f64],
    cw: &[f64],
    c: usize,
    binary: bool,
) -> (Vec<f64>, Vec<f64>) {
    let neg_w = if binary {
        cw.first().copied().unwrap_or(1.0)
    } else {
        1.0
    };
    let pos_w = cw.get(c).copied().unwrap_or(1.0);
    y.iter()
        .zip(sw)
        .map(|(&yi, &s)| {
            if yi == c {
                (1.0, s * pos_w)
            } else {
                (-1.0, s * neg_w)
            }
        })
        .unzip()
}

impl SgdClassifierState {
    /// A fresh streaming classifier for `classes` (at least 2) and `n_features` columns.
    pub fn new(
        params: SgdClassifier,
        classes: Vec<String>,
        n_features: usize,
        seed: u64,
    ) -> Result<Self> {
        let s = params.settings()?;
        class_weight::reject_subsample(params.class_weight.as_ref())?;
        if classes.len() < 2 {
            return Err(Error::InvalidArgument(format!(
                "{} needs at least 2 classes, got {classes:?}",
                SgdClassifier::NAME
            )));
        }
        let k = if classes.len() == 2 { 1 } else { classes.len() };
        let seed = params.random_state.unwrap_or(seed);
        Ok(Self {
            states: vec![LinearState::new(n_features, s.eta0); k],
            params,
            classes,
            n_features,
            n_iter: 0,
            seed,
        })
    }

    /// One epoch over `chunk` (shuffled when `shuffle`), continuing the learning-rate
    /// schedule. The chunk's class labels must be the ones given to [`new`](Self::new).
    ///
    /// `class_weight: "balanced"` is an error here, as in scikit-learn: class frequencies of
    /// one chunk are not those of the stream; give the weights as a map instead.
    pub fn partial_fit(&mut self, chunk: &dyn Dataset) -> Result<()> {
        if self
            .params
            .class_weight
            .as_ref()
            .is_some_and(ClassWeight::is_balanced)
        {
            return Err(Error::param(
                "class_weight",
                "\"balanced\"",
                "null or a map of class weights for partial_fit (balanced weights need the \
                 class frequencies of the whole data; compute them and pass them as a map)",
            ));
        }
        self.epochs(chunk, 1, false, None).map(|_| ())
    }

    /// Runs `epochs` epochs over `data`; `check` applies the stopping rules; `split_seed`
    /// (a full `fit`) holds out the early-stopping validation rows. Class weights come from
    /// the rows of `data`. Returns the epochs done.
    fn epochs(
        &mut self,
        data: &dyn Dataset,
        epochs: usize,
        check: bool,
        split_seed: Option<u64>,
    ) -> Result<usize> {
        const CTX: &str = SgdClassifier::NAME;
        let s = self.params.settings()?;
        let (y, classes) = class_targets(data, CTX)?;
        if classes != self.classes {
            return Err(Error::InvalidArgument(format!(
                "{CTX}: the data's classes {classes:?} differ from the classes given up front {:?}",
                self.classes
            )));
        }
        let x = checked_features(data, CTX)?;
        validate::check_n_features(CTX, x.view(), self.n_features)?;
        let sw = prep::weights_or_ones(data, y.len())?;
        let cw = class_weights(&y, &classes, self.params.class_weight.as_ref())?;
        let (train, val) = match split_seed {
            Some(seed) if self.params.early_stopping => {
                split(y.len(), self.params.validation_fraction, Some(&y), seed)?
            }
            _ => ((0..y.len()).collect(), Vec::new()),
        };
        let binary = self.states.len() == 1;
        let call = self.n_iter as u64;
        let seed = self.seed;
        let done: Vec<usize> = self
            .states
            .par_iter_mut()
            .enumerate()
            .map(|(c, st)| {
                let cls = if binary { 1 } else { c };
                let (yb, wb) = binary_problem(&y, &sw, &cw, cls, binary);
                let prob = Problem {
                    x: x.view(),
                    y: &yb,
                    w: &wb,
                    train: &train,
                    validation: &val,
                };
                let mut rng = crate::common::rng::for_task(seed, (call << 20) ^ c as u64);
                engine::run(&s, &prob, st, &mut rng, epochs, check)
            })
            .collect();
        let n = done.into_iter().max().unwrap_or(0);
        self.n_iter += n;
        Ok(n)
    }

    /// The model as trained so far.
    pub fn model(&self) -> Result<SgdClassifierModel> {
        let s = self.params.settings()?;
        let k = self.states.len();
        let mut coef = Array2::zeros((k, self.n_features));
        let mut intercept = Array1::zeros(k);
        for (c, st) in self.states.iter().enumerate() {
            let (w, b) = st.coef(&s);
            coef.row_mut(c).assign(&Array1::from(w));
            intercept[c] = b;
        }
        Ok(SgdClassifierModel {
            coef,
            intercept,
            classes: self.classes.clone(),
            loss: self.params.loss,
            n_iter: self.n_iter,
        })
    }
}

impl SgdRegressorState {
    /// A fresh streaming regressor for `n_features` columns.
    pub fn new(params: SgdRegressor, n_features: usize, seed: u64) -> Result<Self> {
        let s = params.settings()?;
        if params.loss.is_classification() {
            return Err(Error::param(
                "loss",
                format!("{:?}", params.loss),
                "squared_error, huber, epsilon_insensitive or squared_epsilon_insensitive",
            ));
        }
        let seed = params.random_state.unwrap_or(seed);
        Ok(Self {
            state: LinearState::new(n_features, s.eta0),
            params,
            n_features,
            n_iter: 0,
            seed,
        })
    }

    /// One epoch over `chunk`, continuing the learning-rate schedule.
    pub fn partial_fit(&mut self, chunk: &dyn Dataset) -> Result<()> {
        self.epochs(chunk, 1, false).map(|_| ())
    }

    fn epochs(&mut self, data: &dyn Dataset, epochs: usize, check: bool) -> Result<usize> {
        const CTX: &str = SgdRegressor::NAME;
        let s = self.params.settings()?;
        let x = checked_features(data, CTX)?;
        validate::check_n_features(CTX, x.view(), self.n_features)?;
        let y = data
            .targets()
            .ok_or_else(|| Error::InvalidArgument(format!("{CTX} needs targets")))?;
        if let Some(i) = y.iter().position(|v| !v.is_finite()) {
            return Err(Error::InvalidValue {
                context: format!("{CTX} targets"),
                row: i,
                column: None,
                message: format!("{} is not a finite number", y[i]),
            });
        }
        let y = y.to_vec();
        let w = prep::weights_or_ones(data, y.len())?;
        let (train, val) = if check && self.params.early_stopping {
            split(y.len(), self.params.validation_fraction, None, self.seed)?
        } else {
            ((0..y.len()).collect(), Vec::new())
        };
        let prob = Problem {
            x: x.view(),
            y: &y,
            w: &w,
            train: &train,
            validation: &val,
        };
        let mut rng = crate::common::rng::for_task(self.seed, self.n_iter as u64);
        let n = engine::run(&s, &prob, &mut self.state, &mut rng, epochs, check);
        self.n_iter += n;
        Ok(n)
    }

    /// The model as trained so far.
    pub fn model(&self) -> Result<SgdRegressorModel> {
        let s = self.params.settings()?;
        let (w, b) = self.state.coef(&s);
        Ok(SgdRegressorModel {
            coef: Array1::from(w),
            intercept: b,
            n_iter: self.n_iter,
        })
    }
}

impl Trainer for SgdClassifier {
    const NAME: &'static str = "sgd_classifier";
    type Model = SgdClassifierModel;

    fn fit_with(&self, data: &dyn Dataset, ctx: &FitContext<'_>) -> Result<Self::Model> {
        self.settings()?;
        let (y, classes) = class_targets(data, Self::NAME)?;
        let sw: Vec<f64> = data
            .weights()
            .map_or_else(|| vec![1.0; y.len()], |w| w.to_vec());
        check_two_classes(&y, &sw, &classes, Self::NAME)?;
        let mut state =
            SgdClassifierState::new(self.clone(), classes, data.n_features(), ctx.seed())?;
        let seed = state.seed;
        ctx.install(|| state.epochs(data, self.max_iter, true, Some(seed)))??;
        state.model()
    }
}

impl Trainer for SgdRegressor {
    const NAME: &'static str = "sgd_regressor";
    type Model = SgdRegressorModel;

    fn fit_with(&self, data: &dyn Dataset, ctx: &FitContext<'_>) -> Result<Self::Model> {
        let mut state = SgdRegressorState::new(self.clone(), data.n_features(), ctx.seed())?;
        state.epochs(data, self.max_iter, true)?;
        state.model()
    }
}

/// Rows per parallel prediction task.
const PREDICT_BLOCK: usize = 4096;

/// The error context of the classifier's predictions.
const PREDICT: &str = context!(SgdClassifier::NAME, "predict");

/// The error context of the classifier's single-row predictions.
const PREDICT_ROW: &str = context!(SgdClassifier::NAME, "predict_row");

/// Most classes whose scores the single-row paths keep on the stack (more go through the
/// batch path).
const STACK_CLASSES: usize = 32;

/// Writes `coef.nrows()` linear scores per row of `x` into `out`. One block of rows runs on
/// the calling thread, and nothing is allocated for a contiguous `x` (the single-row path).
fn linear_scores(
    coef: ArrayView2<'_, f64>,
    intercept: &[f64],
    x: ArrayView2<'_, f64>,
    out: &mut [f64],
    ctx: &str,
) -> Result<()> {
    let k = coef.nrows();
    validate::check_predict_shapes(ctx, x, coef.ncols(), out.len(), k)?;
    let x = row_major(x);
    let coef = coef.as_standard_layout();
    let cs = coef.as_slice().unwrap_or(&[]);
    let p = coef.ncols();
    validate::check_finite(ctx, x.view(), &[])?;
    let run = |b: usize, chunk: &mut [f64]| {
        for (r, o) in chunk.chunks_exact_mut(k.max(1)).enumerate() {
            let row = x.row(b * PREDICT_BLOCK + r);
            if let Some(xi) = row.as_slice() {
                for ((o, c), w) in o.iter_mut().zip(intercept).zip(cs.chunks_exact(p.max(1))) {
                    *o = c + dot_row(xi, w);
                }
            }
        }
    };
    first_of_blocks(out, PREDICT_BLOCK * k.max(1), |b, chunk| {
        run(b, chunk);
        None::<()>
    });
    Ok(())
}

/// The class index from one row's decision scores: the sign of a single score, else the
/// first maximum.
fn label_of(scores: &[f64]) -> f64 {
    match scores {
        [z] => f64::from(u8::from(*z > 0.0)),
        _ => argmax(scores.iter().copied()) as f64,
    }
}

impl SgdClassifierModel {
    /// Decision scores: one column for two classes, one per class otherwise.
    pub fn decision_function(&self, x: ArrayView2<'_, f64>) -> Result<Array2<f64>> {
        let k = self.coef.nrows();
        let mut out = vec![0.0; x.nrows() * k];
        linear_scores(
            self.coef.view(),
            self.intercept.as_slice().unwrap_or(&[]),
            x,
            &mut out,
            PREDICT,
        )?;
        Array2::from_shape_vec((x.nrows(), k), out)
            .map_err(|e| Error::shape(PREDICT, format!("{}x{k}", x.nrows()), e))
    }
}

impl Model for SgdClassifierModel {
    fn n_features(&self) -> usize {
        self.coef.ncols()
    }

    fn validate(&self) -> Result<()> {
        crate::models::kit::validate::linear_classifier_state(
            SgdClassifier::NAME,
            self.coef.view(),
            self.intercept.view(),
            self.classes.len(),
        )
    }
}

impl SgdClassifierModel {
    /// The decision scores of one row into a stack buffer, handed to `finish`; `None` (no
    /// call) when there are more classes than the stack buffer holds.
    fn with_row_scores<R>(
        &self,
        row: &[f64],
        finish: impl FnOnce(&[f64]) -> Result<R>,
    ) -> Option<Result<R>> {
        let k = self.coef.nrows();
        if k > STACK_CLASSES {
            return None;
        }
        let mut scores = [0.0; STACK_CLASSES];
        let run = || -> Result<R> {
            let x = ArrayView2::from_shape((1, row.len()), row)
                .map_err(|e| Error::shape(PREDICT_ROW, "one row", e))?;
            linear_scores(
                self.coef.view(),
                self.intercept.as_slice().unwrap_or(&[]),
                x,
                &mut scores[..k],
                PREDICT,
            )?;
            finish(&scores[..k])
        };
        Some(run())
    }

    /// The probability link of the model's loss, or [`Error::Unsupported`].
    fn proba_link(&self) -> Result<fn(f64) -> f64> {
        match self.loss {
            SgdLoss::LogLoss => Ok(sigmoid),
            SgdLoss::ModifiedHuber => Ok(|z: f64| (z.clamp(-1.0, 1.0) + 1.0) / 2.0),
            other => Err(Error::Unsupported(format!(
                "predict_proba of an sgd_classifier trained with loss {other:?}; use log_loss or modified_huber"
            ))),
        }
    }
}

/// One row's class probabilities (`o`, one per class) from its decision scores.
fn proba_of(link: fn(f64) -> f64, scores: &[f64], o: &mut [f64]) {
    if let ([z], [p0, p1]) = (scores, &mut *o) {
        let p = link(*z);
        *p0 = 1.0 - p;
        *p1 = p;
    } else {
        let k = o.len();
        let mut sum = 0.0;
        for (oi, &z) in o.iter_mut().zip(scores) {
            *oi = link(z);
            sum += *oi;
        }
        for oi in o.iter_mut() {
            *oi = if sum > 0.0 { *oi / sum } else { 1.0 / k as f64 };
        }
    }
}

impl Predictor for SgdClassifierModel {
    fn predict_into(&self, x: ArrayView2<'_, f64>, out: &mut [f64]) -> Result<()> {
        if out.len() != x.nrows() {
            return Err(Error::shape(
                PREDICT,
                format!("{} outputs", x.nrows()),
                out.len(),
            ));
        }
        let scores = self.decision_function(x)?;
        for (o, row) in out.iter_mut().zip(scores.outer_iter()) {
            *o = match row.as_slice() {
                Some(r) => label_of(r),
                None => label_of(&row.to_vec()),
            };
        }
        Ok(())
    }

    /// Allocation-free for up to 32 classes.
    fn predict_row_into(&self, row: &[f64], out: &mut [f64]) -> Result<()> {
        if out.len() != 1 {
            return Err(Error::shape(
                context!(SgdClassifier::NAME, "predict_row output"),
                "1 value",
                out.len(),
            ));
        }
        match self.with_row_scores(row, |s| Ok(label_of(s))) {
            Some(label) => {
                let label = label?;
                out.iter_mut().for_each(|o| *o = label);
                Ok(())
            }
            None => {
                let x = ArrayView2::from_shape((1, row.len()), row)
                    .map_err(|e| Error::shape(PREDICT_ROW, "one row", e))?;
                self.predict_into(x, out)
            }
        }
    }
}

impl ProbabilisticPredictor for SgdClassifierModel {
    fn n_classes(&self) -> usize {
        self.classes.len()
    }

    fn classes(&self) -> &[String] {
        &self.classes
    }

    /// Probabilities for `log_loss` (sigmoid of each one-vs-all score) and `modified_huber`
    /// (`(clip(score, −1, 1) + 1) / 2`), normalized over classes as scikit-learn does; other
    /// losses have none ([`Error::Unsupported`]).
    fn predict_proba_into(&self, x: ArrayView2<'_, f64>, out: &mut [f64]) -> Result<()> {
        let link = self.proba_link()?;
        let k = self.classes.len();
        if out.len() != x.nrows() * k {
            return Err(Error::shape(
                context!(SgdClassifier::NAME, "predict_proba"),
                format!("{} values", x.nrows() * k),
                out.len(),
            ));
        }
        let scores = self.decision_function(x)?;
        for (o, row) in out.chunks_exact_mut(k).zip(scores.outer_iter()) {
            match row.as_slice() {
                Some(r) => proba_of(link, r, o),
                None => proba_of(link, &row.to_vec(), o),
            }
        }
        Ok(())
    }

    /// Allocation-free for up to 32 classes.
    fn predict_proba_row_into(&self, row: &[f64], out: &mut [f64]) -> Result<()> {
        let link = self.proba_link()?;
        if out.len() != self.classes.len() {
            return Err(Error::shape(
                context!(SgdClassifier::NAME, "predict_proba_row output"),
                format!("{} values", self.classes.len()),
                out.len(),
            ));
        }
        let finished = self.with_row_scores(row, |s| {
            proba_of(link, s, out);
            Ok(())
        });
        match finished {
            Some(r) => r,
            None => {
                let x = ArrayView2::from_shape((1, row.len()), row).map_err(|e| {
                    Error::shape(
                        context!(SgdClassifier::NAME, "predict_proba_row"),
                        "one row",
                        e,
                    )
                })?;
                self.predict_proba_into(x, out)
            }
        }
    }
}

prep::linear_regressor!(SgdRegressorModel, SgdRegressor);

impl crate::traits::Outputs for SgdClassifierModel {
    fn as_probabilistic(&self) -> Option<&dyn ProbabilisticPredictor> {
        Some(self)
    }

    /// Only the `log_loss` and `modified_huber` losses have probabilities.
    fn has_probabilities(&self) -> bool {
        self.proba_link().is_ok()
    }

    fn as_scorer(&self) -> Option<&dyn crate::traits::ScorePredictor> {
        Some(self)
    }
}

/// The decision function: one column for two classes, one per class otherwise.
impl crate::traits::ScorePredictor for SgdClassifierModel {
    fn n_scores(&self) -> usize {
        self.coef.nrows()
    }

    fn score_into(&self, x: ArrayView2<'_, f64>, out: &mut [f64]) -> Result<()> {
        linear_scores(
            self.coef.view(),
            self.intercept.as_slice().unwrap_or(&[]),
            x,
            out,
            "sgd_classifier decision_function",
        )
    }
}

/// An SGD regressor writes values only.
impl crate::traits::Outputs for SgdRegressorModel {}

impl IncrementalLearner for SgdClassifierState {
    type Model = SgdClassifierModel;

    fn partial_fit(&mut self, chunk: &dyn Dataset) -> Result<()> {
        SgdClassifierState::partial_fit(self, chunk)
    }

    fn model(&self) -> Result<SgdClassifierModel> {
        SgdClassifierState::model(self)
    }
}

impl Incremental for SgdClassifier {
    type Learner = SgdClassifierState;

    fn start(&self, spec: &StreamSpec, ctx: &FitContext<'_>) -> Result<SgdClassifierState> {
        SgdClassifierState::new(
            self.clone(),
            spec.classes.clone(),
            spec.n_features,
            ctx.seed(),
        )
    }
}

impl IncrementalLearner for SgdRegressorState {
    type Model = SgdRegressorModel;

    fn partial_fit(&mut self, chunk: &dyn Dataset) -> Result<()> {
        SgdRegressorState::partial_fit(self, chunk)
    }

    fn model(&self) -> Result<SgdRegressorModel> {
        SgdRegressorState::model(self)
    }
}

impl Incremental for SgdRegressor {
    type Learner = SgdRegressorState;

    fn start(&self, spec: &StreamSpec, ctx: &FitContext<'_>) -> Result<SgdRegressorState> {
        SgdRegressorState::new(self.clone(), spec.n_features, ctx.seed())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_params_keep_their_keys_and_order() {
        let keys = |v: serde_json::Value| -> Vec<String> {
            let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
            k.sort();
            k
        };
        let shared = [
            "loss",
            "penalty",
            "alpha",
            "l1_ratio",
            "fit_intercept",
            "max_iter",
            "tol",
            "shuffle",
            "epsilon",
            "random_state",
            "learning_rate",
            "eta0",
            "power_t",
            "early_stopping",
            "validation_fraction",
            "n_iter_no_change",
        ];
        let mut c: Vec<String> = shared.iter().map(|s| s.to_string()).collect();
        let mut r = c.clone();
        c.extend(["class_weight".to_string(), "average".to_string()]);
        r.push("average".to_string());
        let mut c_sorted = c.clone();
        c_sorted.sort();
        let mut r_sorted = r.clone();
        r_sorted.sort();
        assert_eq!(
            keys(serde_json::to_value(SgdClassifier::default()).unwrap()),
            c_sorted
        );
        assert_eq!(
            keys(serde_json::to_value(SgdRegressor::default()).unwrap()),
            r_sorted
        );
        // Field order (the serialized order) is the declaration order.
        let text = serde_json::to_string(&SgdClassifier::default()).unwrap();
        let pos: Vec<usize> = c
            .iter()
            .map(|k| text.find(&format!("\"{k}\"")).unwrap())
            .collect();
        assert!(pos.windows(2).all(|w| w[0] < w[1]), "{text}");
        let d = SgdRegressor::default();
        assert_eq!(
            (d.loss, d.learning_rate, d.power_t),
            (SgdLoss::SquaredError, LearningRate::Invscaling, 0.25)
        );
    }

    #[test]
    fn config_round_trip_and_validation() {
        let t: SgdClassifier = serde_json::from_str(
            r#"{"loss": "log_loss", "penalty": "elasticnet", "average": 10, "tol": null, "class_weight": "balanced"}"#,
        )
        .unwrap();
        assert_eq!(t.loss, SgdLoss::LogLoss);
        assert_eq!(t.average, SgdAverage::From(10));
        assert_eq!(t.tol, None);
        assert!(serde_json::from_str::<SgdRegressor>(r#"{"class_weight": "balanced"}"#).is_err());
        let err = SgdRegressor::default()
            .alpha(-1.0)
            .settings()
            .unwrap_err()
            .to_string();
        assert!(err.contains("alpha"), "{err}");
        let err = SgdRegressor::default()
            .eta0(0.0)
            .settings()
            .unwrap_err()
            .to_string();
        assert!(err.contains("eta0"), "{err}");
        let err = SgdClassifier::default()
            .early_stopping(true)
            .validation_fraction(1.0)
            .settings()
            .unwrap_err()
            .to_string();
        assert!(err.contains("validation_fraction"), "{err}");
    }
}
