//! The deployable unit: fitted preprocessing steps plus one fitted model, with the metadata
//! a user needs to call it (input columns, classes, config, training metrics).
//!
//! A [`Pipeline`] fits on a raw [`Table`] (missing values, strings and all), and predicts
//! from raw tables or raw numeric rows: it applies its own fitted steps first. It is itself a
//! [`Model`] and a [`Predictor`], and it is what a model file holds.
//!
//! ```
//! use amlis::service::config::TrainConfig;
//! use amlis::service::pipeline::Pipeline;
//! use amlis::traits::FitContext;
//!
//! let table = amlis::data::datasets::penguins_table()?;
//! let config = TrainConfig::from_json(r#"{
//!     "model": {"type": "dummy_classifier"},
//!     "preprocess": [{"type": "simple_imputer", "strategy": "most_frequent"},
//!                    {"type": "one_hot_encoder"}]}"#)?;
//! let pipeline = Pipeline::fit(&config, &table, "species", &FitContext::new())?;
//! let predicted = pipeline.predict_table(&table)?;
//! assert_eq!(predicted.len(), 344);
//! assert_eq!(pipeline.classes(), &["Adelie", "Chinstrap", "Gentoo"]);
//! # Ok::<(), amlis::Error>(())
//! ```

mod predict;
mod row;

pub use crate::models::PredictKind;
pub use predict::{RowPredictor, STACK_SCRATCH};

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::OnceLock;

use ndarray::{Array1, Array2, ArrayView2};
use serde::{Deserialize, Serialize};

use crate::data::dataset::{column_of, encode_target, weight_column};
use crate::data::mark_unlabeled;
use crate::data::{
    features_table, targets_for, Column, DenseDataset, FeatureKind, Table, Task, WithTargets,
};
use crate::error::{Error, Result};
use crate::models::{AnyModel, Estimator};
use crate::preprocess::FittedStep;
use crate::service::config::TrainConfig;
use crate::service::persist::{self, Encoding};
use crate::traits::{Dataset, FitContext, FittedTransformer, Model, Predictor, Transformer};
use row::RowPlan;

/// The `kind` code of a pipeline in the model-file envelope.
pub const PIPELINE_KIND: u16 = 1;

/// One raw input column of a pipeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InputColumn {
    /// The column name.
    pub name: String,
    /// Numeric, or categorical with the categories seen at fit; in raw numeric rows a
    /// categorical cell is given as an index into these categories (`NaN` = missing).
    pub kind: FeatureKind,
}

/// Facts about a fitted pipeline that travel with it in the model file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PipelineMeta {
    /// The amlis version that fitted the pipeline.
    pub library_version: String,
    /// The target column's name at fit (`None` for a model fitted without a target).
    #[serde(default)]
    pub target: Option<String>,
    /// The training config.
    pub config: TrainConfig,
    /// Metrics measured on the training data (e.g. `accuracy`, `r2`).
    pub training_metrics: BTreeMap<String, f64>,
    /// Number of training rows.
    pub n_train_rows: usize,
    /// For a pipeline chosen by `auto_classifier` / `auto_regressor`: the search that chose
    /// it (settings, meta-features, every trial).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub search: Option<Box<crate::meta::SearchReport>>,
}

impl PipelineMeta {
    /// The metadata of a pipeline fitted now by this library (training metrics added later).
    fn new(config: &TrainConfig, target: Option<&str>, n_train_rows: usize) -> Self {
        Self {
            library_version: crate::VERSION.to_string(),
            target: target.map(str::to_string),
            config: config.clone(),
            training_metrics: BTreeMap::new(),
            n_train_rows,
            search: None,
        }
    }

    /// The target column's name, or an error saying the model was fitted without one.
    pub fn target_name(&self) -> Result<&str> {
        self.target.as_deref().ok_or_else(|| {
            Error::InvalidArgument(
                "the model was fitted without a target column; name the column that holds the \
                 truth"
                    .into(),
            )
        })
    }
}

/// Fitted preprocessing steps and a fitted model.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Pipeline {
    inputs: Vec<InputColumn>,
    steps: Vec<FittedStep>,
    /// Names and kinds of the model's feature columns (after the steps).
    features: Vec<InputColumn>,
    model: AnyModel,
    meta: PipelineMeta,
    /// The steps compiled for numeric rows (derived; built by `fit`, `validate` or on first
    /// use).
    #[serde(skip)]
    plan: OnceLock<RowPlan>,
    /// Where predictions run (derived from the config's `n_threads` on first use).
    #[serde(skip)]
    threads: OnceLock<crate::common::parallel::ThreadPolicy>,
}

impl PartialEq for Pipeline {
    fn eq(&self, other: &Self) -> bool {
        self.inputs == other.inputs
            && self.steps == other.steps
            && self.features == other.features
            && self.model == other.model
            && self.meta == other.meta
    }
}

/// The raw inputs of a fit: a table (without target and weights) or a dataset's features.
enum Raw<'a> {
    Table(Table),
    Dataset(&'a dyn Dataset),
}

impl Raw<'_> {
    /// The raw input columns.
    fn layout(&self) -> Vec<InputColumn> {
        match self {
            Raw::Table(t) => row::describe(t),
            Raw::Dataset(d) => layout_of(*d),
        }
    }
}

/// The feature columns of a dataset as a layout.
fn layout_of(data: &dyn Dataset) -> Vec<InputColumn> {
    data.feature_names()
        .iter()
        .zip(data.feature_kinds())
        .map(|(name, kind)| InputColumn {
            name: name.clone(),
            kind: kind.clone(),
        })
        .collect()
}

/// The targets, sample weights and task a model fits with, aligned with the base rows of
/// the features.
struct Supervision {
    y: Option<Array1<f64>>,
    w: Option<Array1<f64>>,
    task: Task,
}

impl Supervision {
    /// The rows at `indices` (all rows for `None`).
    fn select(self, indices: Option<&[usize]>) -> Self {
        let Some(idx) = indices else {
            return self;
        };
        let pick = |v: Array1<f64>| v.select(ndarray::Axis(0), idx);
        Self {
            y: self.y.map(pick),
            w: self.w.map(pick),
            task: self.task,
        }
    }
}

/// The class named `token` of a classification target becomes unlabeled rows (`NaN`), and
/// the classes after it move down one index: the config's `unlabeled_token` applied to a
/// dataset's encoded classes (a numeric target's `-1` is the class `"-1"`).
fn unlabel_class(y: Array1<f64>, task: Task, token: &str) -> (Array1<f64>, Task) {
    let Task::Classification { mut classes } = task else {
        return (y, task);
    };
    let parsed = token.trim().parse::<f64>().ok();
    let same =
        |c: &String| c == token || parsed.is_some_and(|v| c.trim().parse::<f64>().ok() == Some(v));
    let Some(drop) = classes.iter().position(same) else {
        return (y, Task::Classification { classes });
    };
    classes.remove(drop);
    let d = drop as f64;
    let y = y.mapv(|v| {
        if v == d {
            f64::NAN
        } else if v > d {
            v - 1.0
        } else {
            v
        }
    });
    (y, Task::Classification { classes })
}

/// `unlabeled_token` marks target cells: without a target it is a config error.
fn no_token_without_target(config: &TrainConfig) -> Result<()> {
    if config.unlabeled_token.is_some() {
        return Err(Error::Config {
            key: "unlabeled_token".into(),
            message: "an unlabeled token marks cells of the target column; name the target".into(),
        });
    }
    Ok(())
}

/// A model that needs a target and has none is an error naming the model.
fn require_target(config: &TrainConfig, has_target: bool) -> Result<()> {
    let estimator = config.model.estimator();
    if has_target || !config.model.tags().needs_target {
        return Ok(());
    }
    Err(Error::InvalidArgument(format!(
        "model `{}` is a {estimator}: it needs a target; name the target column (`target` in \
         the CSV options, `y` in amlis_dataset_from_dense, or the `target` argument of \
         Pipeline::fit)",
        config.model.type_name()
    )))
}

impl Pipeline {
    /// Fits the config's steps on `table` (without the target column), then its model.
    ///
    /// `target` names the target column (`"species"`), or is `None` for a model that learns
    /// without one (a clusterer, a transformer, an outlier detector); a model that needs a
    /// target and gets none is an error naming the model. A target given to a model that
    /// learns without one is left out of the inputs and not used to fit.
    pub fn fit<'t>(
        config: &TrainConfig,
        table: &Table,
        target: impl Into<Option<&'t str>>,
        ctx: &FitContext<'_>,
    ) -> Result<Self> {
        Self::fit_weighted(config, table, target, None, ctx)
    }

    /// Like [`fit`](Self::fit), with per-row sample weights taken from the numeric column
    /// `weights` of `table` (finite, non-negative). The weights column is neither an input of
    /// the pipeline nor seen by its preprocessing steps; it reaches the model's `fit` as
    /// scikit-learn's `sample_weight` does. The training metrics stay unweighted.
    ///
    /// ```
    /// use amlis::config::TrainConfig;
    /// use amlis::data::{Column, Table};
    /// use amlis::pipeline::Pipeline;
    /// use amlis::traits::FitContext;
    ///
    /// let table = Table::new(vec![
    ///     ("x".into(), Column::Numeric(vec![0.0, 1.0, 2.0, 3.0])),
    ///     ("y".into(), Column::Numeric(vec![0.0, 1.0, 2.0, 30.0])),
    ///     ("w".into(), Column::Numeric(vec![1.0, 1.0, 1.0, 0.0])),
    /// ])?;
    /// let config = TrainConfig::from_json(r#"{"model": {"type": "linear_regression"}}"#)?;
    /// let p = Pipeline::fit_weighted(&config, &table, "y", Some("w"), &FitContext::new())?;
    /// // The zero-weight outlier is ignored: y = x exactly.
    /// let pred = p.predict_table(&table.drop(&["y", "w"])?)?;
    /// assert!((pred[3] - 3.0).abs() < 1e-9);
    /// assert_eq!(p.inputs().len(), 1);
    /// # Ok::<(), amlis::Error>(())
    /// ```
    pub fn fit_weighted<'t>(
        config: &TrainConfig,
        table: &Table,
        target: impl Into<Option<&'t str>>,
        weights: Option<&str>,
        ctx: &FitContext<'_>,
    ) -> Result<Self> {
        let target = target.into();
        if weights.is_some() && weights == target {
            return Err(Error::InvalidArgument(format!(
                "the sample-weight column `{}` is also the target; give a different column",
                weights.unwrap_or_default()
            )));
        }
        if crate::meta::search_of(&config.model).is_some() {
            if let Some(w) = weights {
                return Err(Error::Unsupported(format!(
                    "`{}` does not take sample weights (column `{w}`) yet; fit without them",
                    config.model.type_name()
                )));
            }
            return crate::meta::fit_pipeline(config, table, target, ctx);
        }
        let estimator = config.model.estimator();
        require_target(config, target.is_some())?;
        if target.is_none() {
            no_token_without_target(config)?;
        }
        let not_inputs: Vec<&str> = target.into_iter().chain(weights).collect();
        let raw = table.drop(&not_inputs)?;
        let marked;
        let (y, task) = match target {
            Some(t) if estimator.needs_target() => {
                let column = match config.unlabeled_token.as_deref() {
                    Some(token) => {
                        marked = mark_unlabeled(table, t, token)?;
                        marked.column(t)?
                    }
                    None => table.column(t)?,
                };
                let (y, task) = encode_target(t, column, estimator.task())?;
                (Some(y), task)
            }
            _ => (None, Task::Unsupervised),
        };
        let w = weights.map(|w| weight_column(table, w)).transpose()?;
        let supervision = Supervision { y, w, task };
        Self::fit_parts(config, Raw::Table(raw), supervision, target, ctx)
    }

    /// Fits on a dataset: its feature columns (names and kinds, categorical ones as codes)
    /// are the pipeline's inputs; its targets, if any, are read for the model's kind (plain
    /// numbers become classes for a classifier) and its sample weights are used. `target`
    /// names the target in the pipeline's metadata and in errors.
    ///
    /// Without preprocessing steps the model fits on `data` itself, without a copy of the
    /// features.
    ///
    /// ```
    /// use amlis::config::TrainConfig;
    /// use amlis::data::DenseDataset;
    /// use amlis::models::Estimator;
    /// use amlis::pipeline::Pipeline;
    /// use amlis::traits::FitContext;
    /// use ndarray::array;
    ///
    /// // Targets given as plain numbers become the classes "0" and "1" for a classifier.
    /// let data = DenseDataset::regression(array![[0.0], [1.0], [2.0], [3.0]], array![0.0, 0.0, 1.0, 1.0])?;
    /// let config = TrainConfig::from_json(r#"{"model": {"type": "logistic_regression"}}"#)?;
    /// let p = Pipeline::fit_dataset(&config, &data, Some("y"), &FitContext::new())?;
    /// assert_eq!((p.estimator(), p.classes()), (Estimator::Classifier, &["0".to_string(), "1".to_string()][..]));
    /// # Ok::<(), amlis::Error>(())
    /// ```
    pub fn fit_dataset(
        config: &TrainConfig,
        data: &dyn Dataset,
        target: Option<&str>,
        ctx: &FitContext<'_>,
    ) -> Result<Self> {
        if let Some((_, kind)) = crate::meta::search_of(&config.model) {
            let (table, name) = crate::meta::dataset_table(data, kind)?;
            return crate::meta::fit_pipeline(config, &table, Some(&name), ctx);
        }
        let estimator = config.model.estimator();
        let name = target.unwrap_or("y");
        if data.base_targets().is_none() {
            no_token_without_target(config)?;
        }
        let (y, task) = match targets_for(data, estimator.task(), name)? {
            Some((y, task)) if estimator.needs_target() => {
                let (y, task) = match config.unlabeled_token.as_deref() {
                    Some(token) => unlabel_class(y, task, token),
                    None => (y, task),
                };
                (Some(y), task)
            }
            _ => (None, Task::Unsupervised),
        };
        require_target(config, y.is_some())?;
        let w = data.base_weights().map(|w| w.to_owned());
        let supervision = Supervision { y, w, task };
        Self::fit_parts(
            config,
            Raw::Dataset(data),
            supervision,
            target
                .or(Some(name))
                .filter(|_| data.base_targets().is_some()),
            ctx,
        )
    }

    /// Fits the steps on the raw inputs, then the model on their output with `supervision`.
    fn fit_parts(
        config: &TrainConfig,
        raw: Raw<'_>,
        supervision: Supervision,
        target: Option<&str>,
        ctx: &FitContext<'_>,
    ) -> Result<Self> {
        let seed = config.random_state.unwrap_or(ctx.seed());
        let mut ctx = (*ctx).random_state(seed);
        if let Some(n) = config.n_threads {
            ctx = ctx.n_threads(n);
        }
        let inputs = raw.layout();
        let mut steps = Vec::with_capacity(config.preprocess.len());
        let transformed;
        let (features, supervision): (&dyn Dataset, Supervision) = match raw {
            Raw::Dataset(d) if config.preprocess.is_empty() => (d, supervision),
            raw => {
                // Rows of a dataset view are gathered into the table, so the targets and
                // weights are gathered to match.
                let (mut current, supervision) = match raw {
                    Raw::Table(t) => (t, supervision),
                    Raw::Dataset(d) => (features_table(d)?, supervision.select(d.sample_indices())),
                };
                for step in &config.preprocess {
                    let fitted = step.fit(&current)?;
                    current = fitted.transform(&current)?;
                    steps.push(fitted);
                }
                transformed = DenseDataset::features_from_table(&current)?;
                (&transformed, supervision)
            }
        };
        let data = WithTargets::new(features, supervision.y, supervision.w, supervision.task)?;
        let features_layout = layout_of(&data);
        let model = config.model.fit(&data, &ctx)?;
        let mut pipeline = Self {
            inputs,
            steps,
            features: features_layout,
            model,
            meta: PipelineMeta::new(config, target, data.n_samples()),
            plan: OnceLock::new(),
            threads: OnceLock::new(),
        };
        pipeline.meta.training_metrics = pipeline.score_training(&data)?;
        pipeline.plan()?;
        Ok(pipeline)
    }

    fn score_training(&self, data: &dyn Dataset) -> Result<BTreeMap<String, f64>> {
        let mut out = BTreeMap::new();
        let (Some(y), x) = (data.targets(), data.features()) else {
            return Ok(out);
        };
        let pred = self.model.predict(x.view())?;
        // Unlabeled rows (semi-supervised training) are not scored.
        let labelled = y.iter().filter(|v| !v.is_nan()).count();
        let n = labelled.max(1) as f64;
        match self.model.estimator() {
            Estimator::Classifier => {
                let hits = y.iter().zip(pred.iter()).filter(|(a, b)| a == b).count();
                out.insert("accuracy".into(), hits as f64 / n);
            }
            Estimator::Regressor => {
                let mean = y.sum() / n;
                let ss_res: f64 = y
                    .iter()
                    .zip(pred.iter())
                    .map(|(a, b)| (a - b).powi(2))
                    .sum();
                let ss_tot: f64 = y.iter().map(|a| (a - mean).powi(2)).sum();
                out.insert("mean_squared_error".into(), ss_res / n);
                if ss_tot > 0.0 {
                    out.insert("r2".into(), 1.0 - ss_res / ss_tot);
                }
            }
            // Models without targets report their own training figures (inertia, explained
            // variance) in their fitted state.
            _ => {}
        }
        Ok(out)
    }

    /// Records the search that chose this pipeline (see [`crate::meta`]).
    pub(crate) fn set_search_report(&mut self, report: crate::meta::SearchReport) {
        self.meta.search = Some(Box::new(report));
    }

    /// A pipeline without preprocessing steps around a model fitted elsewhere (the snapshot
    /// of a streaming learner): `inputs` are the model's feature columns, in order.
    pub fn from_model(
        config: &TrainConfig,
        model: AnyModel,
        inputs: Vec<InputColumn>,
        target: Option<&str>,
        n_train_rows: usize,
    ) -> Result<Self> {
        if !config.preprocess.is_empty() {
            return Err(Error::Config {
                key: "preprocess".into(),
                message: "a model fitted outside a pipeline takes its inputs as they are; \
                          remove the preprocessing steps"
                    .into(),
            });
        }
        let pipeline = Self {
            features: inputs.clone(),
            inputs,
            steps: Vec::new(),
            model,
            meta: PipelineMeta::new(config, target, n_train_rows),
            plan: OnceLock::new(),
            threads: OnceLock::new(),
        };
        pipeline.validate()?;
        Ok(pipeline)
    }

    /// The raw input columns, in the order raw numeric rows must follow.
    pub fn inputs(&self) -> &[InputColumn] {
        &self.inputs
    }

    /// The model's feature columns (after preprocessing).
    pub fn features(&self) -> &[InputColumn] {
        &self.features
    }

    /// The compiled row path (compiled once, on first use, when not yet done).
    fn plan(&self) -> Result<&RowPlan> {
        if let Some(plan) = self.plan.get() {
            return Ok(plan);
        }
        let plan = RowPlan::compile(&self.inputs, &self.steps, &self.features)?;
        Ok(self.plan.get_or_init(|| plan))
    }

    /// The fitted steps.
    pub fn steps(&self) -> &[FittedStep] {
        &self.steps
    }

    /// The fitted model.
    pub fn model(&self) -> &AnyModel {
        &self.model
    }

    /// Metadata: library version, target, config, training metrics.
    pub fn meta(&self) -> &PipelineMeta {
        &self.meta
    }

    /// Classifier or regressor.
    pub fn estimator(&self) -> Estimator {
        self.model.estimator()
    }

    /// The number of classes (0 for a regressor).
    pub fn n_classes(&self) -> usize {
        self.model.n_classes()
    }

    /// The class labels (empty for a regressor).
    pub fn classes(&self) -> &[String] {
        self.model.classes()
    }

    /// Applies the fitted steps to a raw table and returns the model's feature matrix.
    ///
    /// The table must hold every input column (extra columns, such as the target, are
    /// ignored). Categories unseen at fit become missing values for models that take
    /// categories natively; encoders decide for themselves (`handle_unknown`).
    pub fn transform_table(&self, table: &Table) -> Result<Array2<f64>> {
        let names: Vec<&str> = self.inputs.iter().map(|c| c.name.as_str()).collect();
        let mut current = table.select(&names)?;
        for (input, (name, col)) in self.inputs.iter().zip(current.clone().iter()) {
            if input.kind_name() != col.kind() {
                return Err(Error::ColumnKind {
                    column: name.to_string(),
                    context: "pipeline input".into(),
                    found: col.kind().to_string(),
                    expected: input.kind_name().to_string(),
                });
            }
        }
        for step in &self.steps {
            current = step.transform(&current)?;
        }
        self.feature_matrix(&current)
    }

    /// The model's feature matrix from a transformed table, with every categorical column's
    /// codes mapped onto the categories seen at fit.
    fn feature_matrix(&self, table: &Table) -> Result<Array2<f64>> {
        if table.n_columns() != self.features.len() {
            return Err(Error::shape(
                "pipeline features after preprocessing",
                format!("{} columns", self.features.len()),
                format!("{} columns", table.n_columns()),
            ));
        }
        let mut x = Array2::<f64>::zeros((table.n_rows(), self.features.len()));
        for (j, (feature, (name, col))) in self.features.iter().zip(table.iter()).enumerate() {
            let mut dst = x.column_mut(j);
            match (&feature.kind, col) {
                (FeatureKind::Numeric, Column::Numeric(v)) => {
                    dst.iter_mut().zip(v).for_each(|(d, s)| *d = *s);
                }
                (FeatureKind::Categorical { categories }, Column::Categorical(c)) => {
                    let map: Vec<f64> = c
                        .categories()
                        .iter()
                        .map(|s| {
                            categories
                                .iter()
                                .position(|t| t == s)
                                .map_or(f64::NAN, |p| p as f64)
                        })
                        .collect();
                    for (d, &code) in dst.iter_mut().zip(c.codes()) {
                        *d = map.get(code as usize).copied().unwrap_or(f64::NAN);
                    }
                }
                _ => {
                    return Err(Error::ColumnKind {
                        column: name.to_string(),
                        context: "pipeline features after preprocessing".into(),
                        found: col.kind().to_string(),
                        expected: feature.kind_name().to_string(),
                    })
                }
            }
        }
        Ok(x)
    }

    /// A raw table from raw numeric rows in input-column order (categorical cells as indices
    /// into the input categories, `NaN` = missing).
    pub fn table_from_rows(&self, x: ArrayView2<'_, f64>) -> Result<Table> {
        if x.ncols() != self.inputs.len() {
            return Err(Error::shape(
                "pipeline input rows",
                format!("{} columns (the pipeline's inputs)", self.inputs.len()),
                format!("{} columns", x.ncols()),
            ));
        }
        let mut t = Table::default();
        for (j, input) in self.inputs.iter().enumerate() {
            let column = column_of(&input.name, &input.kind, x.column(j), "pipeline input rows")?;
            t.push_column(input.name.clone(), column)?;
        }
        Ok(t)
    }

    /// Predicts one value per row of a raw table.
    pub fn predict_table(&self, table: &Table) -> Result<Array1<f64>> {
        let x = self.transform_table(table)?;
        self.model.predict(x.view())
    }

    /// Class probabilities per row of a raw table (classifiers with probabilities only).
    pub fn predict_proba_table(&self, table: &Table) -> Result<Array2<f64>> {
        let k = self.output_width(PredictKind::Proba)?;
        let mut out = vec![0.0; table.n_rows().saturating_mul(k)];
        self.predict_table_into(PredictKind::Proba, table, &mut out)?;
        Array2::from_shape_vec((table.n_rows(), k), out).map_err(|e| {
            Error::shape(
                "predict_proba_table",
                format!("{} x {k}", table.n_rows()),
                e,
            )
        })
    }

    /// Writes the `kind` output of every row of a raw table into `out`
    /// (`table.n_rows() * output_width(kind)` values).
    pub fn predict_table_into(
        &self,
        kind: PredictKind,
        table: &Table,
        out: &mut [f64],
    ) -> Result<()> {
        let x = self.transform_table(table)?;
        self.model.predict_kind_into(kind, x.view(), out)
    }

    /// Writes class probabilities for raw numeric rows into `out` (row-major, `n_classes`
    /// per row; classifiers only).
    pub fn predict_proba_rows_into(&self, x: ArrayView2<'_, f64>, out: &mut [f64]) -> Result<()> {
        self.predict_rows_into(PredictKind::Proba, x, out)
    }

    /// Serializes the pipeline into a model-file image.
    pub fn to_bytes(&self, encoding: Encoding) -> Result<Vec<u8>> {
        persist::encode(self, PIPELINE_KIND, encoding)
    }

    /// Reads a pipeline from a model-file image, validating everything in it.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let (header, pipeline): (_, Pipeline) = persist::decode(bytes)?;
        if header.kind != PIPELINE_KIND {
            return Err(Error::ModelCorrupt(format!(
                "the file holds kind {}, expected a pipeline (kind {PIPELINE_KIND})",
                header.kind
            )));
        }
        pipeline.validate()?;
        Ok(pipeline)
    }

    /// Saves to a file atomically (temporary file + rename).
    pub fn save(&self, path: impl AsRef<Path>, encoding: Encoding) -> Result<()> {
        persist::write_atomic(path.as_ref(), &self.to_bytes(encoding)?)
    }

    /// Loads and validates a pipeline file.
    pub fn load(path: impl AsRef<Path>) -> Result<Self> {
        Self::from_bytes(&persist::read_file(path.as_ref())?)
    }
}

impl InputColumn {
    fn kind_name(&self) -> crate::data::ColumnKind {
        match self.kind {
            FeatureKind::Numeric => crate::data::ColumnKind::Numeric,
            FeatureKind::Categorical { .. } => crate::data::ColumnKind::Categorical,
        }
    }
}

impl Model for Pipeline {
    fn n_features(&self) -> usize {
        self.inputs.len()
    }

    fn validate(&self) -> Result<()> {
        if self.model.n_features() != self.features.len() {
            return Err(Error::ModelCorrupt(format!(
                "the model takes {} features but the pipeline lists {}",
                self.model.n_features(),
                self.features.len()
            )));
        }
        if self.steps.is_empty() && self.inputs != self.features {
            return Err(Error::ModelCorrupt(
                "a pipeline without steps must feed its inputs to the model unchanged".into(),
            ));
        }
        self.model.validate()?;
        // Compiling the row path checks that every step finds its columns with the kinds it
        // was fitted on, that categories are sorted, and that the steps make the model's
        // features; any failure there means the file does not hold a consistent pipeline.
        self.plan().map(|_| ()).map_err(|e| match e {
            Error::ModelCorrupt(_) => e,
            other => {
                Error::ModelCorrupt(format!("the pipeline's steps do not fit together: {other}"))
            }
        })
    }
}

impl Predictor for Pipeline {
    /// Predicts from raw numeric rows in input-column order.
    fn predict_into(&self, x: ArrayView2<'_, f64>, out: &mut [f64]) -> Result<()> {
        self.predict_rows_into(PredictKind::Value, x, out)
    }
}
