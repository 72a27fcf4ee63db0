//! Prediction from raw numeric rows: batches (in parallel over row blocks) and the
//! allocation-free single-row [`RowPredictor`].

use std::sync::Arc;

use ndarray::{Array2, ArrayView2};

use super::Pipeline;
use crate::common::parallel::{first_of_blocks, ThreadPolicy};
use crate::error::{Error, Result};
use crate::models::kit::validate::check_predict_shapes;
use crate::models::{AnyModel, PredictKind};
use crate::traits::Model;

/// Rows per block of a batch prediction; blocks run in parallel when there are several.
const BLOCK_ROWS: usize = 1024;

/// Scratch values per buffer that [`Pipeline::predict_kind_row_into`] keeps on the stack.
pub const STACK_SCRATCH: usize = 512;

impl Pipeline {
    /// The number of values a prediction of `kind` writes per row (1 for
    /// [`PredictKind::Value`], `n_classes` for [`PredictKind::Proba`], ...);
    /// [`Error::Unsupported`] naming the kinds the model has when it cannot write `kind`.
    pub fn output_width(&self, kind: PredictKind) -> Result<usize> {
        self.model.output_width(kind)
    }

    /// The outputs this pipeline's model can write.
    pub fn outputs(&self) -> Vec<PredictKind> {
        self.model.outputs()
    }

    /// Predicts raw numeric rows (input-column order; categorical cells as category indices,
    /// `NaN` = missing) into `out`, which must hold exactly
    /// `x.nrows() * output_width(kind)` values.
    ///
    /// The fitted steps run on each row through the compiled row path (bit-identical to
    /// [`predict_table`](Self::predict_table)); batches of more than 1024 rows run in parallel
    /// over row blocks. The training config's `n_threads` bounds the work, down into the
    /// model ([`ThreadPolicy`]): `"n_threads": 1` predicts on the calling thread only, `k`
    /// in a pool of `k` threads of the pipeline's own; without it, in the current rayon pool.
    pub fn predict_rows_into(
        &self,
        kind: PredictKind,
        x: ArrayView2<'_, f64>,
        out: &mut [f64],
    ) -> Result<()> {
        let width = self.output_width(kind)?;
        check_predict_shapes("pipeline predict", x, self.inputs.len(), out.len(), width)?;
        if width == 0 {
            return Ok(());
        }
        self.thread_policy().run(|| {
            let x = x.as_standard_layout();
            let block = |b: usize, chunk: &mut [f64]| {
                let first = b * BLOCK_ROWS;
                let rows = x.slice(ndarray::s![first..first + chunk.len() / width, ..]);
                self.predict_block(kind, rows, chunk, first).err()
            };
            // The first error in row order, whatever the thread timing.
            match first_of_blocks(out, BLOCK_ROWS * width, block) {
                Some(e) => Err(e),
                None => Ok(()),
            }
        })?
    }

    /// The thread policy of the training config's `n_threads` (built on first use).
    pub fn thread_policy(&self) -> &ThreadPolicy {
        self.threads
            .get_or_init(|| ThreadPolicy::new(self.meta.config.n_threads))
    }

    /// Predicts one block of rows whose first row is row `first` of the batch.
    fn predict_block(
        &self,
        kind: PredictKind,
        x: ArrayView2<'_, f64>,
        out: &mut [f64],
        first: usize,
    ) -> Result<()> {
        if self.steps.is_empty() {
            return predict_features(&self.model, kind, x, out);
        }
        let features = self.transform_rows_from(x, first)?;
        predict_features(&self.model, kind, features.view(), out)
    }

    /// The model's feature matrix for raw numeric rows, through the row path.
    pub fn transform_rows(&self, x: ArrayView2<'_, f64>) -> Result<Array2<f64>> {
        if x.ncols() != self.inputs.len() {
            return Err(Error::shape(
                "pipeline input rows",
                format!("{} columns (the pipeline's inputs)", self.inputs.len()),
                format!("{} columns", x.ncols()),
            ));
        }
        self.transform_rows_from(x.as_standard_layout().view(), 0)
    }

    fn transform_rows_from(&self, x: ArrayView2<'_, f64>, first: usize) -> Result<Array2<f64>> {
        let plan = self.plan()?;
        let d = self.features.len();
        let mut a = vec![0.0; plan.scratch_len()];
        let mut b = vec![0.0; plan.scratch_len()];
        let mut features = Array2::<f64>::zeros((x.nrows(), d));
        for (i, (row, mut dst)) in x.outer_iter().zip(features.outer_iter_mut()).enumerate() {
            let row = row.to_slice().ok_or_else(not_contiguous)?;
            let in_b = plan.features_of(row, first + i, &mut a, &mut b)?;
            let src = if in_b { &b } else { &a };
            for (d, s) in dst.iter_mut().zip(src) {
                *d = *s;
            }
        }
        Ok(features)
    }
}

fn not_contiguous() -> Error {
    Error::InvalidArgument("rows are not contiguous in memory".into())
}

/// Runs the model on feature rows.
fn predict_features(
    model: &AnyModel,
    kind: PredictKind,
    x: ArrayView2<'_, f64>,
    out: &mut [f64],
) -> Result<()> {
    model.predict_kind_into(kind, x, out)
}

/// Single-row prediction without allocation: a shared pipeline plus scratch buffers.
///
/// Make one per thread (it is `Send` but takes `&mut self`), and call
/// [`predict_row`](Self::predict_row) as often as needed.
///
/// ```
/// use std::sync::Arc;
/// use amlis::service::config::TrainConfig;
/// use amlis::service::pipeline::{Pipeline, PredictKind, RowPredictor};
/// use amlis::traits::FitContext;
///
/// let table = amlis::data::datasets::penguins_table()?;
/// let config = TrainConfig::from_json(r#"{"model": {"type": "dummy_classifier"},
///     "preprocess": [{"type": "simple_imputer", "strategy": "most_frequent"},
///                    {"type": "one_hot_encoder"}, {"type": "standard_scaler"}]}"#)?;
/// let pipeline = Arc::new(Pipeline::fit(&config, &table, "species", &FitContext::new())?);
/// let mut p = RowPredictor::new(pipeline.clone(), PredictKind::Proba)?;
/// let mut proba = [0.0; 3];
/// // island (category index), bill length, bill depth, flipper length, body mass, sex, year
/// let n = pipeline.inputs().len();
/// let row = vec![0.0; n];
/// p.predict_row(&row, &mut proba)?;
/// assert!((proba.iter().sum::<f64>() - 1.0).abs() < 1e-12);
/// # Ok::<(), amlis::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct RowPredictor {
    pipeline: Arc<Pipeline>,
    kind: PredictKind,
    width: usize,
    a: Vec<f64>,
    b: Vec<f64>,
}

impl RowPredictor {
    /// A predictor of `kind` over a shared pipeline; [`Error::Unsupported`] for a kind the
    /// model cannot write (probabilities from a regressor).
    pub fn new(pipeline: Arc<Pipeline>, kind: PredictKind) -> Result<Self> {
        let width = pipeline.output_width(kind)?;
        let n = pipeline.plan()?.scratch_len();
        Ok(Self {
            pipeline,
            kind,
            width,
            a: vec![0.0; n],
            b: vec![0.0; n],
        })
    }

    /// The pipeline.
    pub fn pipeline(&self) -> &Arc<Pipeline> {
        &self.pipeline
    }

    /// The number of values [`predict_row`](Self::predict_row) writes.
    pub fn output_len(&self) -> usize {
        self.width
    }

    /// Predicts one raw row (input-column order) into `out` (exactly
    /// [`output_len`](Self::output_len) values). Allocates nothing on success.
    pub fn predict_row(&mut self, row: &[f64], out: &mut [f64]) -> Result<()> {
        if out.len() != self.width {
            return Err(Error::shape(
                "pipeline predict_row output",
                format!("{} values", self.width),
                format!("{} values", out.len()),
            ));
        }
        self.pipeline
            .predict_row_with(self.kind, row, out, &mut self.a, &mut self.b)
    }
}

impl Pipeline {
    /// A [`RowPredictor`] of `kind` over this pipeline (cloned into an [`Arc`]; use
    /// [`RowPredictor::new`] to share an existing one).
    pub fn row_predictor(&self, kind: PredictKind) -> Result<RowPredictor> {
        RowPredictor::new(Arc::new(self.clone()), kind)
    }

    /// The length each scratch buffer of [`predict_row_with`](Self::predict_row_with) needs.
    pub fn scratch_len(&self) -> Result<usize> {
        Ok(self.plan()?.scratch_len())
    }

    /// Predicts output `kind` of one raw row (input-column order) into `out`, with the
    /// caller's scratch buffers `a` and `b` (each at least [`scratch_len`](Self::scratch_len)
    /// long; too short is an error, never a panic). Allocates nothing on success.
    pub fn predict_row_with(
        &self,
        kind: PredictKind,
        row: &[f64],
        out: &mut [f64],
        a: &mut [f64],
        b: &mut [f64],
    ) -> Result<()> {
        let n_inputs = self.inputs.len();
        if row.len() != n_inputs {
            return Err(Error::shape(
                "pipeline predict_row",
                format!("{n_inputs} columns (the pipeline's inputs)"),
                format!("{} columns", row.len()),
            ));
        }
        let features: &[f64] = if self.steps.is_empty() {
            row
        } else {
            let plan = self.plan()?;
            let in_b = plan.features_of(row, 0, a, b)?;
            let buf: &[f64] = if in_b { b } else { a };
            buf.get(..self.features.len())
                .ok_or_else(|| Error::ModelCorrupt("feature row longer than scratch".into()))?
        };
        self.model.predict_kind_row_into(kind, features, out)
    }

    /// Predicts output `kind` of one raw row into `out`, with scratch on the stack when the
    /// steps need at most [`STACK_SCRATCH`] values per buffer (on the heap otherwise): the
    /// single-row path of models that hold pipelines (`auto_*`, `voting_*`).
    pub fn predict_kind_row_into(
        &self,
        kind: PredictKind,
        row: &[f64],
        out: &mut [f64],
    ) -> Result<()> {
        let need = self.scratch_len()?;
        if need <= STACK_SCRATCH {
            let mut a = [0.0; STACK_SCRATCH];
            let mut b = [0.0; STACK_SCRATCH];
            self.predict_row_with(kind, row, out, &mut a, &mut b)
        } else {
            let mut a = vec![0.0; need];
            let mut b = vec![0.0; need];
            self.predict_row_with(kind, row, out, &mut a, &mut b)
        }
    }

    /// The number of raw input columns (as [`Model::n_features`]).
    pub fn n_inputs(&self) -> usize {
        self.n_features()
    }
}
