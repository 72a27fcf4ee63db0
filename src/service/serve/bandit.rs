//! Contextual bandits over the V2 wire format: `POST /v2/models/{name}/choose` decides and
//! `POST /v2/models/{name}/reward` learns, on the [`Bandit`] handle of a bandit model file.
//!
//! Both take V2 tensors, as `infer` does (JSON or Triton's binary extension):
//!
//! - `choose`: the context, one FP64 tensor `[n, n_features]` (any name; conventionally
//!   `context`), `event_id`, one non-negative integer per row (`[n]`, read exactly, all 64
//!   bits), and optionally `excluded`, `[n, n_actions]` (BOOL or any number, non-zero = the
//!   action is ruled out for that row). It answers `action` (INT64 `[n]`) and `pmf` (FP64
//!   `[n, n_actions]`): [`Bandit::choose`] on each row, so the same state, context and event id
//!   give the same action and the same pmf bits as the Rust or C API.
//! - `reward`: the context `[n, n_features]`, `action` (integers `[n]`), `reward` and
//!   `probability` (FP64 `[n]`, the probability the action was chosen with, in (0, 1]). The
//!   rows are learned in order as one batch ([`Bandit::partial_fit`]: every row is checked
//!   before the first is learned, so a bad row changes nothing; the same as one `update` per
//!   row). Decisions share the bandit's read lock and learning takes its write lock, so an
//!   update is visible to every `choose` that starts after the `reward` answer.

use serde_json::{json, Value};

use super::error::ServeError;
use super::protocol::{InputTensor, OutputData, OutputTensor, RequestedOutput, TensorData};
use crate::models::bandit::LoggedFeedback;
use crate::service::bandit::Bandit;

/// The input holding each decision's event id.
pub const EVENT_ID: &str = "event_id";
/// The optional input of the actions excluded per decision.
pub const EXCLUDED: &str = "excluded";
/// The input of the actions taken (`reward`).
pub const ACTION: &str = "action";
/// The input of the rewards observed (`reward`).
pub const REWARD: &str = "reward";
/// The input of the probabilities the actions were chosen with (`reward`).
pub const PROBABILITY: &str = "probability";
/// The inputs read as exact integers.
pub const ID_INPUTS: [&str; 2] = [EVENT_ID, ACTION];

/// The V2 metadata of a bandit: `choose`'s inputs and outputs, with the size of the
/// decision problem and the policy under `parameters` (and `reward`'s inputs when it learns).
pub fn metadata(name: &str, version: &str, b: &Bandit) -> Value {
    let (k, d) = (b.spec().n_actions, b.spec().n_features);
    let learns = b.greedy().is_none();
    let context = json!({"name": "context", "datatype": "FP64", "shape": [-1, d]});
    let mut parameters = json!({
        "kind": if learns { "bandit" } else { "greedy_policy" },
        "n_actions": k,
        "n_features": d,
        "random_state": b.spec().random_state,
        "learns": learns,
        "optional_inputs": [EXCLUDED],
    });
    if let Some(config) = b.config() {
        parameters["policy"] = json!(config.policy.type_name());
        parameters["preprocess"] = json!(config.preprocess.len());
        parameters["reward_inputs"] = json!([
            context,
            {"name": ACTION, "datatype": "INT64", "shape": [-1]},
            {"name": REWARD, "datatype": "FP64", "shape": [-1]},
            {"name": PROBABILITY, "datatype": "FP64", "shape": [-1]},
        ]);
    }
    if let Some(g) = b.greedy() {
        parameters["policy"] = json!("greedy");
        parameters["origin"] = serde_json::to_value(g.origin()).unwrap_or(Value::Null);
    }
    json!({
        "name": name,
        "versions": [version],
        "platform": "amlis-bandit",
        "inputs": [
            context,
            {"name": EVENT_ID, "datatype": "UINT64", "shape": [-1]},
            {"name": EXCLUDED, "datatype": "BOOL", "shape": [-1, k]},
        ],
        "outputs": [
            {"name": "action", "datatype": "INT64", "shape": [-1]},
            {"name": "pmf", "datatype": "FP64", "shape": [-1, k]},
        ],
        "parameters": parameters,
    })
}

/// The decisions of a `choose` request.
#[derive(Debug, Clone, PartialEq)]
pub struct Decisions {
    /// The number of rows.
    pub n: usize,
    /// The chosen action per row.
    pub actions: Vec<i64>,
    /// The pmf of each decision, row-major, `n_actions` per row.
    pub pmf: Vec<f64>,
}

/// Takes the input named `name` out of `inputs`.
fn take(inputs: &mut Vec<InputTensor>, name: &str) -> Option<InputTensor> {
    let i = inputs.iter().position(|t| t.name == name)?;
    Some(inputs.remove(i))
}

/// The one input left, the contexts: `[n, n_features]` numbers.
fn contexts(
    b: &Bandit,
    inputs: Vec<InputTensor>,
    named: &str,
) -> Result<(usize, Vec<f64>), ServeError> {
    let d = b.spec().n_features;
    let [tensor] = <[InputTensor; 1]>::try_from(inputs).map_err(|rest| {
        ServeError::bad_request(format!(
            "expected one context tensor [n, {d}] besides {named}; got {} other tensors ({})",
            rest.len(),
            rest.iter()
                .map(|t| t.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ))
    })?;
    let n = match tensor.shape[..] {
        [n, cols] if cols == d => n,
        _ => {
            return Err(ServeError::bad_request(format!(
                "context `{}` has shape {:?}; expected [n, {d}] (this bandit's n_features is {d})",
                tensor.name, tensor.shape
            )))
        }
    };
    match tensor.data {
        TensorData::Numbers(x) => Ok((n, x)),
        _ => Err(ServeError::bad_request(format!(
            "context `{}` must be numeric (FP64)",
            tensor.name
        ))),
    }
}

/// Checks that a per-row input has shape `[n]` or `[n, 1]`.
fn check_rows(t: &InputTensor, n: usize) -> Result<(), ServeError> {
    if matches!(t.shape[..], [m] | [m, 1] if m == n) {
        Ok(())
    } else {
        Err(ServeError::bad_request(format!(
            "input `{}` has shape {:?}; expected [{n}] (one value per context row)",
            t.name, t.shape
        )))
    }
}

/// A required per-row input of exact integers.
fn integers(inputs: &mut Vec<InputTensor>, name: &str) -> Result<InputTensor, ServeError> {
    take(inputs, name).ok_or_else(|| {
        ServeError::bad_request(format!(
            "missing input `{name}` (one non-negative integer per row)"
        ))
    })
}

fn ids_of(t: InputTensor) -> Vec<u64> {
    match t.data {
        TensorData::Ids(v) => v,
        _ => Vec::new(),
    }
}

/// A required per-row input of numbers.
fn numbers(inputs: &mut Vec<InputTensor>, name: &str, n: usize) -> Result<Vec<f64>, ServeError> {
    let t = take(inputs, name).ok_or_else(|| {
        ServeError::bad_request(format!("missing input `{name}` (FP64, one value per row)"))
    })?;
    check_rows(&t, n)?;
    match t.data {
        TensorData::Numbers(v) => Ok(v),
        _ => Err(ServeError::bad_request(format!(
            "input `{name}` must be numeric (FP64)"
        ))),
    }
}

/// Decides every row of a `choose` request.
pub fn choose(b: &Bandit, mut inputs: Vec<InputTensor>) -> Result<Decisions, ServeError> {
    let k = b.spec().n_actions;
    let d = b.spec().n_features;
    let event_ids = integers(&mut inputs, EVENT_ID)?;
    let excluded = take(&mut inputs, EXCLUDED);
    let (n, x) = contexts(b, inputs, "`event_id` and `excluded`")?;
    check_rows(&event_ids, n)?;
    let event_ids = ids_of(event_ids);
    let mask = match excluded {
        None => None,
        Some(t) => {
            if t.shape[..] != [n, k] {
                return Err(ServeError::bad_request(format!(
                    "input `{EXCLUDED}` has shape {:?}; expected [{n}, {k}] (a flag per row and \
                     action, non-zero = excluded)",
                    t.shape
                )));
            }
            match t.data {
                TensorData::Numbers(v) if v.iter().all(|f| !f.is_nan()) => Some(v),
                _ => {
                    return Err(ServeError::bad_request(format!(
                        "input `{EXCLUDED}` must hold BOOL or numeric flags (non-zero = excluded)"
                    )))
                }
            }
        }
    };
    let mut actions = Vec::with_capacity(n);
    let mut pmf = vec![0.0; n.saturating_mul(k)];
    let mut ruled_out = Vec::with_capacity(k);
    for (i, &event_id) in event_ids.iter().enumerate().take(n) {
        ruled_out.clear();
        if let Some(mask) = &mask {
            let flags = mask.get(i * k..(i + 1) * k).unwrap_or(&[]);
            ruled_out.extend(
                flags
                    .iter()
                    .enumerate()
                    .filter(|(_, f)| **f != 0.0)
                    .map(|(a, _)| a),
            );
        }
        let context = x.get(i * d..(i + 1) * d).unwrap_or(&[]);
        let pmf = pmf.get_mut(i * k..(i + 1) * k).unwrap_or(&mut []);
        let action = b
            .choose(context, event_id, &ruled_out, pmf)
            .map_err(|e| ServeError::bad_request(format!("row {i}: {e}")))?;
        actions.push(i64::try_from(action).unwrap_or(i64::MAX));
    }
    Ok(Decisions { n, actions, pmf })
}

/// The output tensors of a `choose` answer: `action` and `pmf`, or those the request names.
pub fn choose_outputs(
    decisions: Decisions,
    k: usize,
    requested: Option<&[RequestedOutput]>,
    binary_default: bool,
) -> Result<Vec<OutputTensor>, ServeError> {
    let wanted: Vec<(&str, bool)> = match requested {
        None => vec![("action", binary_default), ("pmf", binary_default)],
        Some(r) => r.iter().map(|o| (o.name.as_str(), o.binary)).collect(),
    };
    let Decisions { n, actions, pmf } = decisions;
    let mut actions = Some(actions);
    let mut pmf = Some(pmf);
    let mut out = Vec::with_capacity(wanted.len());
    for (name, binary) in wanted {
        let (shape, data) = match name {
            "action" => (vec![n], actions.take().map(OutputData::Int64)),
            "pmf" => (vec![n, k], pmf.take().map(OutputData::Fp64)),
            other => {
                return Err(ServeError::bad_request(format!(
                    "unknown output `{other}`; a bandit has action, pmf"
                )))
            }
        };
        let data = data.ok_or_else(|| {
            ServeError::bad_request(format!("output `{name}` is asked for twice"))
        })?;
        out.push(OutputTensor {
            name: name.to_string(),
            shape,
            data,
            binary,
        });
    }
    Ok(out)
}

/// The logged outcomes of a `reward` request, checked for shape (the bandit checks the
/// values: action indices, finite rewards, probabilities in (0, 1]).
pub fn outcomes(
    b: &Bandit,
    mut inputs: Vec<InputTensor>,
) -> Result<LoggedFeedback<'static>, ServeError> {
    let d = b.spec().n_features;
    let action = integers(&mut inputs, ACTION)?;
    let rewards = take(&mut inputs, REWARD);
    let probabilities = take(&mut inputs, PROBABILITY);
    let others = format!("`{ACTION}`, `{REWARD}` and `{PROBABILITY}`");
    let (n, x) = contexts(b, inputs, &others)?;
    check_rows(&action, n)?;
    let actions = ids_of(action)
        .into_iter()
        .map(|a| usize::try_from(a).unwrap_or(usize::MAX))
        .collect();
    let mut rest: Vec<InputTensor> = rewards.into_iter().chain(probabilities).collect();
    let rewards = numbers(&mut rest, REWARD, n)?;
    let probabilities = numbers(&mut rest, PROBABILITY, n)?;
    Ok(LoggedFeedback::new(d, x, actions, rewards, probabilities)?)
}
