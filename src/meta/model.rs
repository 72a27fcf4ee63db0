//! [`AutoModel`]: what an automatic model type fitted as a bare model holds — the chosen
//! pipeline (which records its search), predicting from the dataset's feature columns.

use ndarray::ArrayView2;
use serde::{Deserialize, Serialize};

use crate::data::Task;
use crate::error::{Error, Result};
use crate::models::PredictKind;
use crate::service::pipeline::Pipeline;
use crate::traits::{Model, Outputs, Predictor, ProbabilisticPredictor};

use crate::service::pipeline::STACK_SCRATCH;

/// A fitted `auto_classifier` / `auto_regressor` outside a pipeline: the chosen pipeline,
/// whose inputs are the training dataset's feature columns, and the dataset's classes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AutoModel {
    /// The chosen pipeline; its metadata holds the search report.
    pub pipeline: Box<Pipeline>,
    /// The dataset's classes (empty for a regressor).
    pub classes: Vec<String>,
    /// Per pipeline class, its index in `classes`.
    pub class_map: Vec<usize>,
}

impl AutoModel {
    /// Wraps a chosen pipeline fitted on a dataset of task `task`.
    pub fn new(pipeline: Pipeline, task: &Task) -> Result<Self> {
        let classes = match task {
            Task::Classification { classes } => classes.clone(),
            _ => Vec::new(),
        };
        let class_map = crate::models::ensemble::voting::class_map(pipeline.classes(), &classes)?;
        Ok(Self {
            pipeline: Box::new(pipeline),
            classes,
            class_map,
        })
    }

    /// The search report of the fit.
    pub fn report(&self) -> Option<&crate::meta::SearchReport> {
        self.pipeline.meta().search.as_deref()
    }

    fn map_value(&self, v: f64) -> f64 {
        if self.classes.is_empty() || v.is_nan() || v < 0.0 {
            return v;
        }
        self.class_map
            .get(v as usize)
            .map_or(f64::NAN, |&g| g as f64)
    }

    /// Writes the pipeline's `kind` output of one row (stack scratch when it fits).
    fn row_kind(&self, kind: PredictKind, row: &[f64], out: &mut [f64]) -> Result<()> {
        self.pipeline.predict_kind_row_into(kind, row, out)
    }

    /// Moves pipeline-class columns of `buf` (`k` per row) to the dataset's class order in
    /// `out`.
    fn map_proba(&self, buf: &[f64], out: &mut [f64]) {
        let k = self.classes.len();
        for (src, dst) in buf
            .chunks(self.class_map.len().max(1))
            .zip(out.chunks_mut(k.max(1)))
        {
            dst.fill(0.0);
            for (j, &g) in self.class_map.iter().enumerate() {
                if let (Some(d), Some(&s)) = (dst.get_mut(g), src.get(j)) {
                    *d = s;
                }
            }
        }
    }
}

impl Model for AutoModel {
    fn n_features(&self) -> usize {
        self.pipeline.n_inputs()
    }

    fn validate(&self) -> Result<()> {
        self.pipeline.validate()?;
        let n = self.classes.len();
        if self.class_map.len() != self.pipeline.classes().len()
            || self.class_map.iter().any(|&g| g >= n.max(1))
            || (n == 0 && !self.class_map.is_empty())
        {
            return Err(Error::ModelCorrupt(
                "auto model: the class map does not fit the classes".into(),
            ));
        }
        Ok(())
    }
}

impl Predictor for AutoModel {
    fn predict_into(&self, x: ArrayView2<'_, f64>, out: &mut [f64]) -> Result<()> {
        self.pipeline
            .predict_rows_into(PredictKind::Value, x, out)?;
        for v in out.iter_mut() {
            *v = self.map_value(*v);
        }
        Ok(())
    }

    fn predict_row_into(&self, row: &[f64], out: &mut [f64]) -> Result<()> {
        self.row_kind(PredictKind::Value, row, out)?;
        for v in out.iter_mut() {
            *v = self.map_value(*v);
        }
        Ok(())
    }
}

impl ProbabilisticPredictor for AutoModel {
    fn n_classes(&self) -> usize {
        self.classes.len()
    }

    fn classes(&self) -> &[String] {
        &self.classes
    }

    fn predict_proba_into(&self, x: ArrayView2<'_, f64>, out: &mut [f64]) -> Result<()> {
        let k = self.class_map.len();
        let mut buf = vec![0.0; x.nrows() * k];
        self.pipeline
            .predict_rows_into(PredictKind::Proba, x, &mut buf)?;
        crate::models::kit::validate::check_predict_shapes(
            "auto predict_proba",
            x,
            self.n_features(),
            out.len(),
            self.classes.len(),
        )?;
        self.map_proba(&buf, out);
        Ok(())
    }

    fn predict_proba_row_into(&self, row: &[f64], out: &mut [f64]) -> Result<()> {
        let k = self.class_map.len();
        if k > STACK_SCRATCH || out.len() != self.classes.len() {
            return Err(Error::shape(
                "auto predict_proba row",
                format!(
                    "{} values (at most {STACK_SCRATCH} classes)",
                    self.classes.len()
                ),
                format!("{} values", out.len()),
            ));
        }
        let mut buf = [0.0; STACK_SCRATCH];
        let part = buf
            .get_mut(..k)
            .ok_or_else(|| Error::ModelCorrupt("classes".into()))?;
        self.row_kind(PredictKind::Proba, row, part)?;
        self.map_proba(part, out);
        Ok(())
    }
}

impl Outputs for AutoModel {
    fn as_probabilistic(&self) -> Option<&dyn ProbabilisticPredictor> {
        (!self.classes.is_empty()).then_some(self as &dyn ProbabilisticPredictor)
    }

    fn has_probabilities(&self) -> bool {
        !self.classes.is_empty()
    }
}
