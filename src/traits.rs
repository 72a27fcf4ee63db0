//! The core traits: [`Dataset`], [`Trainer`], [`Model`], [`Predictor`],
//! [`ProbabilisticPredictor`], [`ScorePredictor`], [`TransformPredictor`] and [`Outputs`]
//! (what a fitted model writes), [`Incremental`] / [`IncrementalLearner`] (streaming
//! `partial_fit`), [`OnlineLearner`] (decide and learn from rewards), [`Transformer`],
//! [`FittedTransformer`] and [`Metric`], plus the [`FitContext`] every fit receives.
//!
//! The life of a model in these terms: a [`Trainer`] (hyperparameters) fits on a [`Dataset`]
//! under a [`FitContext`] (seed, threads, callback) and returns a [`Model`], which is immutable,
//! `Send + Sync` and serde-serializable, and which predicts through [`Predictor`]. A
//! [`Transformer`] fits on a table and returns a [`FittedTransformer`] that transforms later
//! tables the same way. A [`Metric`] scores predictions.

use ndarray::{Array1, Array2, ArrayView1, ArrayView2, Axis, CowArray, Ix2};

use crate::data::{FeatureKind, Table, Task};
use crate::error::{Error, Result};

/// A set of samples: a feature matrix, optional targets and weights, and their description.
///
/// A dataset either owns its rows ([`crate::data::DenseDataset`]) or is an index view into
/// another dataset ([`crate::data::DatasetView`]), so that splits and cross-validation folds do
/// not copy data. Algorithms that walk sample indices use [`Dataset::sample_indices`]
/// together with [`Dataset::base_features`]; algorithms that need a contiguous matrix call
/// [`Dataset::features`], which borrows when it can and gathers otherwise.
pub trait Dataset: Sync {
    /// Number of samples (rows) in this dataset.
    fn n_samples(&self) -> usize;

    /// Number of features (columns).
    fn n_features(&self) -> usize;

    /// The full feature matrix that this dataset's rows are taken from.
    fn base_features(&self) -> ArrayView2<'_, f64>;

    /// The full target vector that this dataset's targets are taken from, if any.
    ///
    /// For classification the targets are class indices `0..n_classes` stored as `f64`; a
    /// missing label (semi-supervised training) is `NaN`.
    fn base_targets(&self) -> Option<ArrayView1<'_, f64>>;

    /// The full sample-weight vector, if any.
    fn base_weights(&self) -> Option<ArrayView1<'_, f64>>;

    /// The rows of the base arrays that make up this dataset, in order; `None` means all rows.
    fn sample_indices(&self) -> Option<&[usize]>;

    /// Feature names, one per column.
    fn feature_names(&self) -> &[String];

    /// What each feature column holds (numeric, or categorical codes).
    fn feature_kinds(&self) -> &[FeatureKind];

    /// The learning task: classification with its class labels, regression, or none.
    fn task(&self) -> &Task;

    /// The feature matrix of this dataset's rows (borrowed when no gather is needed).
    fn features(&self) -> CowArray<'_, f64, Ix2> {
        match self.sample_indices() {
            None => CowArray::from(self.base_features()),
            Some(idx) => CowArray::from(self.base_features().select(Axis(0), idx)),
        }
    }

    /// The targets of this dataset's rows, if any.
    fn targets(&self) -> Option<Array1<f64>> {
        let base = self.base_targets()?;
        Some(match self.sample_indices() {
            None => base.to_owned(),
            Some(idx) => base.select(Axis(0), idx),
        })
    }

    /// The sample weights of this dataset's rows, if any.
    fn weights(&self) -> Option<Array1<f64>> {
        let base = self.base_weights()?;
        Some(match self.sample_indices() {
            None => base.to_owned(),
            Some(idx) => base.select(Axis(0), idx),
        })
    }

    /// The index into the base arrays of this dataset's `i`-th row.
    fn base_index(&self, i: usize) -> usize {
        match self.sample_indices() {
            None => i,
            Some(idx) => idx.get(i).copied().unwrap_or(usize::MAX),
        }
    }

    /// The number of classes for a classification task, 0 otherwise.
    fn n_classes(&self) -> usize {
        match self.task() {
            Task::Classification { classes } => classes.len(),
            _ => 0,
        }
    }
}

/// What the fit callback can tell the trainer to do next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    /// Go on training.
    Continue,
    /// Stop now and return the model as it is (early stopping by the caller).
    Stop,
    /// Abandon the fit: it returns [`Error::Cancelled`].
    Cancel,
}

/// A progress report sent to the fit callback.
#[derive(Debug, Clone)]
pub struct FitEvent<'a> {
    /// Which algorithm or phase reports (e.g. `"logistic_regression"`, `"cross_validate"`).
    pub stage: &'a str,
    /// The iteration (or step, or tree) just finished, counting from 1.
    pub iteration: usize,
    /// The planned number of iterations, when known.
    pub total: Option<usize>,
    /// Named values of this iteration (e.g. `("train_loss", 0.31)`).
    pub values: &'a [(&'a str, f64)],
}

/// The type of the fit callback.
pub type FitCallback<'a> = dyn Fn(&FitEvent<'_>) -> Control + Send + Sync + 'a;

/// What every fit receives besides the data: the seed, the thread bound and a callback.
///
/// The same `random_state` gives the same model bit for bit whatever `n_threads` is.
///
/// ```
/// use amlis::traits::{Control, FitContext};
///
/// let counted = std::sync::atomic::AtomicUsize::new(0);
/// let on_event = |_event: &amlis::traits::FitEvent<'_>| {
///     counted.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
///     Control::Continue
/// };
/// let ctx = FitContext::new().random_state(7).n_threads(2).callback(&on_event);
/// assert_eq!(ctx.seed(), 7);
/// assert_eq!(ctx.threads(), Some(2));
/// ```
#[derive(Clone, Copy, Default)]
pub struct FitContext<'a> {
    random_state: u64,
    n_threads: Option<usize>,
    callback: Option<&'a FitCallback<'a>>,
}

impl std::fmt::Debug for FitContext<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FitContext")
            .field("random_state", &self.random_state)
            .field("n_threads", &self.n_threads)
            .field("callback", &self.callback.is_some())
            .finish()
    }
}

impl<'a> FitContext<'a> {
    /// The default context: seed 0, rayon's current pool, no callback.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the seed from which every random choice of the fit is derived.
    pub fn random_state(mut self, seed: u64) -> Self {
        self.random_state = seed;
        self
    }

    /// Bounds the number of threads (`None` or 0: use the current rayon pool).
    pub fn n_threads(mut self, n: usize) -> Self {
        self.n_threads = if n == 0 { None } else { Some(n) };
        self
    }

    /// Sets the progress / early-stopping / cancellation callback.
    pub fn callback(mut self, cb: &'a FitCallback<'a>) -> Self {
        self.callback = Some(cb);
        self
    }

    /// The seed.
    pub fn seed(&self) -> u64 {
        self.random_state
    }

    /// The thread bound, if any.
    pub fn threads(&self) -> Option<usize> {
        self.n_threads
    }

    /// Sends an event to the callback; returns what it answered ([`Control::Continue`] when
    /// there is no callback).
    pub fn report(&self, event: &FitEvent<'_>) -> Control {
        match self.callback {
            Some(cb) => cb(event),
            None => Control::Continue,
        }
    }

    /// Runs `f` inside a rayon pool bounded by [`threads`](Self::threads), or in the current
    /// pool when there is no bound.
    ///
    /// The bounded pool is the calling thread's own for that bound, built by its first
    /// bounded fit and kept until the thread exits: a fit of a few milliseconds (indexing
    /// rows for nearest neighbours, refitting a bandit arm) would otherwise spend a good
    /// part of its time starting threads. Fits called from different threads never share a
    /// pool, so each keeps its bound (two threads fitting with `n_threads = 2` use four).
    pub fn install<R: Send>(&self, f: impl FnOnce() -> R + Send) -> Result<R> {
        match self.n_threads {
            None => Ok(f()),
            Some(n) => Ok(bounded_pool(n)?.install(f)),
        }
    }
}

thread_local! {
    /// The bounded pools of this thread's fits, by thread count (see [`FitContext::install`]).
    static POOLS: std::cell::RefCell<Vec<(usize, std::sync::Arc<rayon::ThreadPool>)>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

/// The calling thread's pool of `n` threads, built on first use.
fn bounded_pool(n: usize) -> Result<std::sync::Arc<rayon::ThreadPool>> {
    if let Some(pool) = POOLS.with(|p| {
        p.borrow()
            .iter()
            .find(|(k, _)| *k == n)
            .map(|(_, pool)| pool.clone())
    }) {
        return Ok(pool);
    }
    let pool = std::sync::Arc::new(crate::common::parallel::pool_of(n)?);
    POOLS.with(|p| p.borrow_mut().push((n, pool.clone())));
    Ok(pool)
}

/// A fitted model: immutable, shareable between threads, serializable.
pub trait Model: Send + Sync {
    /// The number of feature columns the model expects.
    fn n_features(&self) -> usize;

    /// Checks the internal consistency of the fitted state: every index (tree node links,
    /// feature ids, class ids) in range, every array of the right length. Called on every
    /// model read from a file, so that a corrupt or hostile file is an error, never a panic.
    fn validate(&self) -> Result<()> {
        Ok(())
    }
}

/// A model that predicts one value per row: a class index (as `f64`) for classifiers, a real
/// value for regressors, a cluster label for clusterers.
pub trait Predictor: Model {
    /// Writes one prediction per row of `x` into `out`.
    ///
    /// A wrong column count, an `out` of the wrong length, or a value the model cannot take
    /// is an `Err`, never a panic; `out` is left untouched on error where practical.
    fn predict_into(&self, x: ArrayView2<'_, f64>, out: &mut [f64]) -> Result<()>;

    /// Predicts one row (`row.len() == n_features()`) into `out[0]`.
    ///
    /// The default goes through [`predict_into`](Self::predict_into); models override it with
    /// an allocation-free path (the single-row latency path of a prediction service). Both
    /// give bit-identical results.
    fn predict_row_into(&self, row: &[f64], out: &mut [f64]) -> Result<()> {
        let x = ArrayView2::from_shape((1, row.len()), row)
            .map_err(|e| Error::shape("predict_row", "one row", e))?;
        self.predict_into(x, out)
    }

    /// Predicts one value per row.
    fn predict(&self, x: ArrayView2<'_, f64>) -> Result<Array1<f64>> {
        let mut out = vec![0.0; x.nrows()];
        self.predict_into(x, &mut out)?;
        Ok(Array1::from(out))
    }
}

/// A classifier that also gives class probabilities.
pub trait ProbabilisticPredictor: Predictor {
    /// The number of classes.
    fn n_classes(&self) -> usize;

    /// The class labels, sorted as scikit-learn sorts `classes_`; index `i` is class `i`.
    fn classes(&self) -> &[String];

    /// Writes `n_classes` probabilities per row, row-major, into `out`
    /// (`out.len() == x.nrows() * n_classes`). Each row sums to 1.
    fn predict_proba_into(&self, x: ArrayView2<'_, f64>, out: &mut [f64]) -> Result<()>;

    /// Class probabilities of one row into `out` (`n_classes` values). The default goes
    /// through [`predict_proba_into`](Self::predict_proba_into); models override it with an
    /// allocation-free path giving bit-identical results.
    fn predict_proba_row_into(&self, row: &[f64], out: &mut [f64]) -> Result<()> {
        let x = ArrayView2::from_shape((1, row.len()), row)
            .map_err(|e| Error::shape("predict_proba_row", "one row", e))?;
        self.predict_proba_into(x, out)
    }

    /// Class probabilities, one row per sample.
    fn predict_proba(&self, x: ArrayView2<'_, f64>) -> Result<Array2<f64>> {
        let k = self.n_classes();
        let n = x.nrows();
        let len = n
            .checked_mul(k)
            .ok_or_else(|| Error::shape("predict_proba", "a representable size", "overflow"))?;
        let mut out = vec![0.0; len];
        self.predict_proba_into(x, &mut out)?;
        Array2::from_shape_vec((n, k), out)
            .map_err(|e| Error::shape("predict_proba", format!("{n}x{k}"), e))
    }
}

/// Writes `f(x)` for a one-row `x` built over `row`: the default single-row path of the
/// output traits below.
fn one_row<R>(row: &[f64], context: &str, f: impl FnOnce(ArrayView2<'_, f64>) -> R) -> Result<R> {
    let x = ArrayView2::from_shape((1, row.len()), row)
        .map_err(|e| Error::shape(context, "one row", e))?;
    Ok(f(x))
}

/// A model that gives per-row scores: a classifier's decision function (`n_classes` columns,
/// one for a binary model), a boosting model's raw margins, an outlier detector's anomaly
/// score. The C ABI's `AMLIS_OUTPUT_SCORE`.
pub trait ScorePredictor: Model {
    /// The number of scores per row.
    fn n_scores(&self) -> usize;

    /// Writes `n_scores` values per row, row-major, into `out`.
    fn score_into(&self, x: ArrayView2<'_, f64>, out: &mut [f64]) -> Result<()>;

    /// The scores of one row; models override it with an allocation-free path giving
    /// bit-identical results.
    fn score_row_into(&self, row: &[f64], out: &mut [f64]) -> Result<()> {
        one_row(row, "score_row", |x| self.score_into(x, out))?
    }
}

/// A model that maps rows to new columns (PCA's `transform`, an embedding). The C ABI's
/// `AMLIS_OUTPUT_TRANSFORM`.
pub trait TransformPredictor: Model {
    /// The number of output columns.
    fn n_outputs(&self) -> usize;

    /// Writes `n_outputs` values per row, row-major, into `out`.
    fn transform_into(&self, x: ArrayView2<'_, f64>, out: &mut [f64]) -> Result<()>;

    /// The output columns of one row; models override it with an allocation-free path
    /// giving bit-identical results.
    fn transform_row_into(&self, row: &[f64], out: &mut [f64]) -> Result<()> {
        one_row(row, "transform_row", |x| self.transform_into(x, out))?
    }
}

/// Which outputs a fitted model has besides `predict`: every fitted model implements it,
/// answering with the views it supports (the defaults say none). The registry, the pipeline
/// and the C ABI ask through it, so a new family declares its outputs here and nowhere else.
///
/// ```
/// use amlis::traits::{Outputs, Trainer};
/// use amlis::models::linear::logistic::LogisticRegression;
///
/// let model = LogisticRegression::default().fit(&amlis::datasets::iris()?)?;
/// assert_eq!(model.as_probabilistic().map(|p| p.n_classes()), Some(3));
/// assert_eq!(model.as_scorer().map(|s| s.n_scores()), Some(3));
/// assert!(model.as_transform().is_none());
/// # Ok::<(), amlis::Error>(())
/// ```
pub trait Outputs: Predictor {
    /// The model as a classifier with class labels and probabilities.
    fn as_probabilistic(&self) -> Option<&dyn ProbabilisticPredictor> {
        None
    }

    /// Whether [`as_probabilistic`](Self::as_probabilistic)'s probabilities are available for
    /// this fitted model (a classifier trained with a loss that has no probability link has
    /// classes but no probabilities).
    fn has_probabilities(&self) -> bool {
        self.as_probabilistic().is_some()
    }

    /// The model's per-row scores.
    fn as_scorer(&self) -> Option<&dyn ScorePredictor> {
        None
    }

    /// The model's `transform`.
    fn as_transform(&self) -> Option<&dyn TransformPredictor> {
        None
    }
}

/// Hyperparameters of one algorithm; `fit` validates them, learns, and returns a model.
pub trait Trainer {
    /// The config `type` name of this trainer (e.g. `"logistic_regression"`), which also
    /// names the model in its errors and fit-callback stages.
    const NAME: &'static str;

    /// The fitted model type.
    type Model: Model;

    /// Fits on `data` under `ctx`. Invalid hyperparameters are reported first, naming the
    /// parameter and its allowed range.
    fn fit_with(&self, data: &dyn Dataset, ctx: &FitContext<'_>) -> Result<Self::Model>;

    /// Fits with the default context (seed 0, current thread pool, no callback).
    fn fit(&self, data: &dyn Dataset) -> Result<Self::Model> {
        self.fit_with(data, &FitContext::new())
    }
}

/// What a stream of chunks is about, given before the first chunk (as scikit-learn's
/// `classes=` on the first `partial_fit`): the column count and, for a classifier, every
/// class the stream will hold (a chunk need not contain all of them).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StreamSpec {
    /// The number of feature columns of every chunk.
    pub n_features: usize,
    /// The class labels of the whole stream, sorted as scikit-learn sorts `classes_`
    /// (classifiers only; empty otherwise).
    pub classes: Vec<String>,
}

/// A model under streaming training: learns chunk by chunk (`partial_fit`) and gives the
/// model learned so far at any time.
///
/// ```
/// use amlis::data::DenseDataset;
/// use amlis::models::linear::sgd::SgdRegressor;
/// use amlis::traits::{FitContext, Incremental, IncrementalLearner, Predictor, StreamSpec};
/// use ndarray::{Array1, Array2};
///
/// let x = Array2::from_shape_fn((200, 2), |(i, j)| ((i * (j + 3)) % 17) as f64 / 8.5 - 1.0);
/// let y = Array1::from_iter(x.outer_iter().map(|r| 2.0 * r[0] - r[1] + 0.5));
/// let data = DenseDataset::regression(x, y)?;
/// let spec = StreamSpec { n_features: 2, classes: vec![] };
/// let mut learner = SgdRegressor::default().alpha(0.0).eta0(0.05).start(&spec, &FitContext::new())?;
/// for _ in 0..20 {
///     for start in (0..200).step_by(50) {
///         learner.partial_fit(&data.view((start..start + 50).collect())?)?;
///     }
/// }
/// let model = learner.model()?;
/// assert!((model.coef[0] - 2.0).abs() < 0.05);
/// # Ok::<(), amlis::Error>(())
/// ```
pub trait IncrementalLearner: Send + Sync {
    /// The model the learner produces.
    type Model: Model;

    /// Learns from one chunk of labelled rows (one pass, continuing the schedule).
    fn partial_fit(&mut self, chunk: &dyn Dataset) -> Result<()>;

    /// The model learned so far.
    fn model(&self) -> Result<Self::Model>;
}

/// A trainer whose learning can go on chunk by chunk (scikit-learn's `partial_fit`).
pub trait Incremental: Trainer {
    /// The learner that holds the state between chunks.
    type Learner: IncrementalLearner<Model = Self::Model>;

    /// Starts a learner for a stream described by `spec`, seeded from `ctx` (or the
    /// trainer's own `random_state`).
    fn start(&self, spec: &StreamSpec, ctx: &FitContext<'_>) -> Result<Self::Learner>;
}

/// A policy that decides online and learns from each outcome: a contextual bandit. It
/// chooses an action for a context and learns from the reward observed for the action it
/// took (reinforcement learning in its deployable form).
///
/// Contract: [`choose`](Self::choose) does not change the learner and is reproducible: the
/// same state, context and `event_id` give the same action and the same probabilities on any
/// thread (its sampling is seeded from the learner's `random_state` and `event_id`).
pub trait OnlineLearner: Send + Sync {
    /// The number of actions.
    fn n_actions(&self) -> usize;

    /// The number of context features (0 for a context-free policy).
    fn n_features(&self) -> usize;

    /// Chooses an action for `context`; writes the probability of every action under the
    /// policy (the pmf, `n_actions` values summing to 1) into `pmf`, and returns the chosen
    /// action's index.
    fn choose(&self, context: &[f64], event_id: u64, pmf: &mut [f64]) -> Result<usize>;

    /// Learns from one outcome: `reward` was observed for `action` in `context`, which the
    /// logging policy chose with `probability`.
    fn update(
        &mut self,
        context: &[f64],
        action: usize,
        reward: f64,
        probability: f64,
    ) -> Result<()>;
}

/// A preprocessing step's settings: fits on a training table and returns the fitted step.
pub trait Transformer {
    /// The fitted step.
    type Fitted: FittedTransformer;

    /// Learns what the step needs (means, categories, ...) from `table`.
    fn fit(&self, table: &Table) -> Result<Self::Fitted>;

    /// Fits and transforms the same table.
    fn fit_transform(&self, table: &Table) -> Result<(Self::Fitted, Table)> {
        let fitted = self.fit(table)?;
        let out = fitted.transform(table)?;
        Ok((fitted, out))
    }
}

/// A fitted preprocessing step: transforms any table with the training table's columns.
pub trait FittedTransformer: Send + Sync {
    /// Transforms `table`. A table missing a fitted column, or with a column of another kind,
    /// is an error naming the column.
    fn transform(&self, table: &Table) -> Result<Table>;
}

/// What a metric scores: predicted values, or per-class scores / probabilities.
#[derive(Debug, Clone, Copy)]
pub enum Prediction<'a> {
    /// One predicted value per sample (class index or regression value).
    Values(ArrayView1<'a, f64>),
    /// One row of per-class scores or probabilities per sample.
    Scores(ArrayView2<'a, f64>),
}

/// The input a metric needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricInput {
    /// Predicted values (labels, regression values).
    Values,
    /// Per-class probabilities or decision scores.
    Scores,
}

/// A score of predictions against true targets.
pub trait Metric: Send + Sync {
    /// The scikit-learn scorer-style name, e.g. `"accuracy"`, `"roc_auc"`, `"r2"`.
    fn name(&self) -> &str;

    /// Whether a larger value is better (true for accuracy, false for an error).
    fn greater_is_better(&self) -> bool;

    /// The kind of prediction this metric reads.
    fn input(&self) -> MetricInput;

    /// Scores `y_pred` against `y_true`, optionally weighted per sample.
    fn score(
        &self,
        y_true: ArrayView1<'_, f64>,
        y_pred: Prediction<'_>,
        weights: Option<ArrayView1<'_, f64>>,
    ) -> Result<f64>;

    /// Whether the metric judges predicted labels by the features they were predicted from
    /// (the internal clustering scores: silhouette, Calinski-Harabasz, Davies-Bouldin) rather
    /// than against true targets. Such a metric needs no target and scores through
    /// [`score_features`](Self::score_features).
    fn reads_features(&self) -> bool {
        false
    }

    /// Scores predicted `labels` (one per row) by the features `x` the model saw: after a
    /// pipeline's preprocessing steps, as scikit-learn scores `silhouette_score(X_transformed,
    /// labels)`. The default is an error, for metrics that compare with true targets.
    fn score_features(&self, x: ArrayView2<'_, f64>, labels: ArrayView1<'_, f64>) -> Result<f64> {
        let _ = (x, labels);
        Err(Error::Unsupported(format!(
            "metric `{}` compares predictions with true targets; it does not score features",
            self.name()
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::FitContext;

    #[test]
    fn a_threads_bounded_fits_share_its_pool_and_other_threads_do_not() {
        let one = FitContext::new().n_threads(1);
        let worker = |ctx: &FitContext<'_>| ctx.install(|| std::thread::current().id()).unwrap();
        let first = worker(&one);
        assert_ne!(first, std::thread::current().id());
        assert_eq!(worker(&one), first);
        let elsewhere = std::thread::scope(|s| s.spawn(|| worker(&one)).join().unwrap());
        assert_ne!(elsewhere, first);
        // Another bound is another pool, of that size; nested fits keep their bound.
        let two = FitContext::new().n_threads(2);
        let nested = two
            .install(|| {
                (
                    rayon::current_num_threads(),
                    one.install(rayon::current_num_threads),
                )
            })
            .unwrap();
        assert_eq!((nested.0, nested.1.unwrap()), (2, 1));
    }
}
