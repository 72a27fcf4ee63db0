//! Inference over a pipeline: the request's tensors become raw rows (or a raw table), the
//! pipeline predicts each requested output, and the outputs become tensors.
//!
//! Inputs are either one numeric tensor `[n, n_inputs]` in the pipeline's input order (a
//! categorical cell as the index of its category, as in `amlis_predict`), or one tensor per
//! input column named as the column (`[n]` or `[n, 1]`; `BYTES` labels for a categorical
//! column). The outputs are those of [`ModelOutput`].

use ndarray::ArrayView2;
use serde_json::{json, Value};

use super::error::ServeError;
use super::protocol::{InputTensor, OutputData, OutputTensor, RequestedOutput, TensorData};
use crate::data::{Column, FeatureKind, Table};
use crate::models::{Estimator, PredictKind};
use crate::service::pipeline::Pipeline;

/// An output a model can give.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModelOutput {
    /// `predict`: one FP64 value per row, as `amlis_predict`'s `AMLIS_OUTPUT_VALUE` (a class
    /// index for a classifier, a value for a regressor, a cluster, `1`/`-1` for outliers).
    Predict,
    /// `label`: the predicted class label per row (BYTES; classifiers).
    Label,
    /// `predict_proba`: `n_classes` probabilities per row.
    Proba,
    /// `transform`: the model's output columns.
    Transform,
    /// `score`: decision function, margins or anomaly scores.
    Score,
}

impl ModelOutput {
    /// The output's name on the wire.
    pub fn name(self) -> &'static str {
        match self {
            ModelOutput::Predict => "predict",
            ModelOutput::Label => "label",
            ModelOutput::Proba => "predict_proba",
            ModelOutput::Transform => "transform",
            ModelOutput::Score => "score",
        }
    }

    /// The library's prediction kind behind the output.
    fn kind(self) -> PredictKind {
        match self {
            ModelOutput::Predict | ModelOutput::Label => PredictKind::Value,
            ModelOutput::Proba => PredictKind::Proba,
            ModelOutput::Transform => PredictKind::Transform,
            ModelOutput::Score => PredictKind::Score,
        }
    }

    /// The outputs a pipeline has, in metadata order.
    pub fn of(p: &Pipeline) -> Vec<ModelOutput> {
        let kinds = p.outputs();
        let mut out = Vec::new();
        for kind in kinds {
            out.push(match kind {
                PredictKind::Value => ModelOutput::Predict,
                PredictKind::Proba => ModelOutput::Proba,
                PredictKind::Transform => ModelOutput::Transform,
                PredictKind::Score => ModelOutput::Score,
            });
            if kind == PredictKind::Value && p.estimator() == Estimator::Classifier {
                out.push(ModelOutput::Label);
            }
        }
        out
    }

    /// The values per row (`None` for a one-dimensional output, `[n]`).
    fn width(self, p: &Pipeline) -> Result<Option<usize>, ServeError> {
        Ok(match self {
            ModelOutput::Predict | ModelOutput::Label => None,
            other => Some(p.output_width(other.kind())?),
        })
    }
}

/// The V2 metadata of a model: its inputs (one `[-1, n]` FP64 tensor `input` when every
/// column is numeric; one tensor per column otherwise, BYTES for categorical ones) and its
/// outputs, `-1` standing for the batch dimension.
pub fn metadata(name: &str, version: &str, p: &Pipeline) -> Value {
    let all_numeric = p
        .inputs()
        .iter()
        .all(|c| matches!(c.kind, FeatureKind::Numeric));
    let inputs: Vec<Value> = if all_numeric {
        vec![json!({"name": "input", "datatype": "FP64", "shape": [-1, p.inputs().len()]})]
    } else {
        p.inputs()
            .iter()
            .map(|c| {
                let datatype = match c.kind {
                    FeatureKind::Numeric => "FP64",
                    FeatureKind::Categorical { .. } => "BYTES",
                };
                json!({"name": c.name, "datatype": datatype, "shape": [-1]})
            })
            .collect()
    };
    let outputs: Vec<Value> = ModelOutput::of(p)
        .into_iter()
        .map(|o| {
            let datatype = if o == ModelOutput::Label {
                "BYTES"
            } else {
                "FP64"
            };
            let shape = match o.width(p) {
                Ok(Some(w)) => json!([-1, w]),
                _ => json!([-1]),
            };
            json!({"name": o.name(), "datatype": datatype, "shape": shape})
        })
        .collect();
    json!({
        "name": name,
        "versions": [version],
        "platform": "amlis",
        "inputs": inputs,
        "outputs": outputs,
        "parameters": {
            "type": p.model().type_name(),
            "estimator": p.estimator(),
            "feature_names": p.inputs().iter().map(|c| c.name.as_str()).collect::<Vec<_>>(),
            "classes": p.classes(),
        },
    })
}

/// The request's inputs, made ready for the pipeline.
#[derive(Debug)]
pub enum Rows {
    /// Raw numeric rows, row-major, `n_inputs` per row.
    Dense {
        /// The number of rows.
        n: usize,
        /// The values.
        x: Vec<f64>,
    },
    /// A raw table (a categorical label the model has not seen goes through the pipeline's
    /// own handling of unknown categories).
    Table(Table),
}

impl Rows {
    /// The number of rows.
    pub fn n_rows(&self) -> usize {
        match self {
            Rows::Dense { n, .. } => *n,
            Rows::Table(t) => t.n_rows(),
        }
    }

    /// The number of values this input holds (to decide where to run the prediction).
    pub fn n_values(&self) -> usize {
        match self {
            Rows::Dense { x, .. } => x.len(),
            Rows::Table(t) => t.n_rows().saturating_mul(t.n_columns()),
        }
    }
}

/// Assembles the request's tensors into rows for `p`.
pub fn rows_of(p: &Pipeline, mut inputs: Vec<InputTensor>) -> Result<Rows, ServeError> {
    let k = p.inputs().len();
    // Exact integers are only asked for by the bandit routes; here they are numbers.
    for t in &mut inputs {
        if let TensorData::Ids(v) = &t.data {
            t.data = TensorData::Numbers(v.iter().map(|&i| i as f64).collect());
        }
    }
    let by_column = inputs.len() == k
        && inputs
            .iter()
            .all(|t| p.inputs().iter().any(|c| c.name == t.name));
    if by_column {
        return columns(p, inputs);
    }
    let [tensor] = <[InputTensor; 1]>::try_from(inputs).map_err(|inputs| {
        ServeError::bad_request(format!(
            "expected one tensor [n, {k}] or one tensor per input column ({}); got {} tensors \
             ({})",
            names(p),
            inputs.len(),
            inputs
                .iter()
                .map(|t| t.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ))
    })?;
    let n = match tensor.shape[..] {
        [n, cols] if cols == k => n,
        _ => {
            return Err(ServeError::bad_request(format!(
                "input `{}` has shape {:?}; expected [n, {k}] ({})",
                tensor.name,
                tensor.shape,
                names(p)
            )))
        }
    };
    match tensor.data {
        TensorData::Numbers(x) => Ok(Rows::Dense { n, x }),
        TensorData::Strings(_) | TensorData::Ids(_) => Err(ServeError::bad_request(format!(
            "input `{}` is BYTES; a single [n, {k}] tensor must be numeric (categorical cells as \
             category indices), or send one tensor per column",
            tensor.name
        ))),
    }
}

fn names(p: &Pipeline) -> String {
    p.inputs()
        .iter()
        .map(|c| c.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// One tensor per column: numeric rows when every label is known, a table otherwise.
fn columns(p: &Pipeline, mut inputs: Vec<InputTensor>) -> Result<Rows, ServeError> {
    let k = p.inputs().len();
    let n = inputs.first().map_or(0, |t| t.data.len());
    for t in &inputs {
        let column_shape = matches!(t.shape[..], [m] | [m, 1] if m == n);
        if !column_shape {
            return Err(ServeError::bad_request(format!(
                "input `{}` has shape {:?}; a column tensor is [n] or [n, 1] with the same n \
                 for every column ({n} for `{}`)",
                t.name,
                t.shape,
                inputs.first().map_or("", |t| t.name.as_str())
            )));
        }
    }
    let mut x = vec![0.0; n.saturating_mul(k)];
    let mut unknown = false;
    for (j, column) in p.inputs().iter().enumerate() {
        let t = inputs
            .iter()
            .find(|t| t.name == column.name)
            .ok_or_else(|| ServeError::bad_request(format!("missing input `{}`", column.name)))?;
        match (&column.kind, &t.data) {
            (_, TensorData::Numbers(v)) => {
                for (i, value) in v.iter().enumerate() {
                    x[i * k + j] = *value;
                }
            }
            (FeatureKind::Categorical { categories }, TensorData::Strings(v)) => {
                for (i, s) in v.iter().enumerate() {
                    x[i * k + j] = match categories.binary_search(s) {
                        Ok(code) => code as f64,
                        Err(_) => {
                            unknown = true;
                            f64::NAN
                        }
                    };
                }
            }
            (_, TensorData::Ids(_)) => return Err(integers_as_numbers()),
            (FeatureKind::Numeric, TensorData::Strings(_)) => {
                return Err(ServeError::bad_request(format!(
                    "input `{}` is BYTES but the column is numeric",
                    t.name
                )))
            }
        }
    }
    if !unknown {
        return Ok(Rows::Dense { n, x });
    }
    // A label unseen at training: the pipeline decides (an encoder's `handle_unknown`, or a
    // missing value for a model that takes categories natively).
    let mut table = Table::default();
    for column in p.inputs() {
        let pos = inputs
            .iter()
            .position(|t| t.name == column.name)
            .ok_or_else(|| ServeError::bad_request(format!("missing input `{}`", column.name)))?;
        let t = inputs.swap_remove(pos);
        let col = match (t.data, &column.kind) {
            (TensorData::Numbers(v), FeatureKind::Numeric) => Column::Numeric(v),
            (TensorData::Strings(v), _) => {
                let values: Vec<Option<&str>> = v.iter().map(|s| Some(s.as_str())).collect();
                Column::categorical_from(&values)
            }
            (TensorData::Numbers(v), FeatureKind::Categorical { categories }) => {
                let values = v
                    .iter()
                    .map(|&c| {
                        if c.is_nan() {
                            return Ok(None);
                        }
                        category(categories, c).map(Some).ok_or_else(|| {
                            ServeError::bad_request(format!(
                                "input `{}`: {c} is not a category index (0..{})",
                                column.name,
                                categories.len()
                            ))
                        })
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                Column::categorical_from(&values)
            }
            (TensorData::Ids(_), _) => return Err(integers_as_numbers()),
        };
        table.push_column(column.name.clone(), col)?;
    }
    Ok(Rows::Table(table))
}

/// [`rows_of`] turns exact integers into numbers first: they cannot reach a column.
fn integers_as_numbers() -> ServeError {
    ServeError::internal("exact integers reached a column of the inference input")
}

fn category(categories: &[String], code: f64) -> Option<&str> {
    if code < 0.0 || code.fract() != 0.0 {
        return None;
    }
    categories.get(code as usize).map(String::as_str)
}

/// The outputs to compute: those the request names (each one the model must have), or every
/// output of the model.
pub fn select_outputs(
    p: &Pipeline,
    requested: Option<&[RequestedOutput]>,
    binary_default: bool,
) -> Result<Vec<(ModelOutput, bool)>, ServeError> {
    let available = ModelOutput::of(p);
    let Some(requested) = requested else {
        return Ok(available.into_iter().map(|o| (o, binary_default)).collect());
    };
    requested
        .iter()
        .map(|r| {
            available
                .iter()
                .find(|o| o.name() == r.name)
                .map(|&o| (o, r.binary))
                .ok_or_else(|| {
                    ServeError::bad_request(format!(
                        "unknown output `{}`; this model has {}",
                        r.name,
                        available
                            .iter()
                            .map(|o| o.name())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ))
                })
        })
        .collect()
}

/// Predicts the selected outputs for `rows`.
pub fn predict(
    p: &Pipeline,
    rows: &Rows,
    outputs: &[(ModelOutput, bool)],
) -> Result<Vec<OutputTensor>, ServeError> {
    let n = rows.n_rows();
    let mut values: Option<Vec<f64>> = None;
    let mut tensors = Vec::with_capacity(outputs.len());
    for &(output, binary) in outputs {
        let width = output.width(p)?;
        let buffer = match (output.kind(), &values) {
            (PredictKind::Value, Some(v)) => v.clone(),
            (kind, _) => {
                let mut out = vec![0.0; n.saturating_mul(width.unwrap_or(1))];
                match rows {
                    Rows::Dense { x, .. } => {
                        let view = ArrayView2::from_shape((n, p.inputs().len()), x)
                            .map_err(|e| ServeError::bad_request(e.to_string()))?;
                        p.predict_rows_into(kind, view, &mut out)?;
                    }
                    Rows::Table(t) => p.predict_table_into(kind, t, &mut out)?,
                }
                if kind == PredictKind::Value {
                    values = Some(out.clone());
                }
                out
            }
        };
        let data = if output == ModelOutput::Label {
            let classes = p.classes();
            let labels = buffer
                .iter()
                .map(|&c| category(classes, c).map(str::to_string))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| ServeError::internal("a predicted class is out of range"))?;
            OutputData::Bytes(labels)
        } else {
            OutputData::Fp64(buffer)
        };
        tensors.push(OutputTensor {
            name: output.name().to_string(),
            shape: match width {
                Some(w) => vec![n, w],
                None => vec![n],
            },
            data,
            binary,
        });
    }
    Ok(tensors)
}
