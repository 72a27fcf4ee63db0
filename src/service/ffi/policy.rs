//! Off-policy evaluation from C: `amlis_evaluate_policy` estimates the value of a policy on
//! logged bandit feedback held in a dataset.

use std::ffi::c_char;

use ndarray::Array2;
use serde_json::{Map, Value};

use crate::data::{Column, Table};
use crate::error::{Error, Result};
use crate::evaluate::policy::{evaluate_policy, LoggedFeedback, OpeOptions};
use crate::models::rl::GreedyPolicy;
use crate::service::ffi::boundary::{self, arg_ref, arg_str, OutBuffer};
use crate::service::ffi::dataset::{AmlisDataset, DatasetContents};
use crate::service::ffi::status::AmlisStatus;
use crate::traits::Dataset;

/// The keys of `options_json` besides those of the estimators' options.
const LOG_KEYS: &[&str] = &[
    "action",
    "reward",
    "propensity",
    "policy",
    "reward_model",
    "context_columns",
];

fn config_error(key: &str, message: impl Into<String>) -> Error {
    Error::Config {
        key: key.to_string(),
        message: message.into(),
    }
}

/// A numeric column of the dataset by name: a CSV column (the target and weight columns
/// included), or a dense dataset's feature name (`x0`, `x1`, ... unless named).
fn column(contents: &DatasetContents, name: &str) -> Result<Vec<f64>> {
    if let Some(table) = contents.table() {
        return numeric(table, name);
    }
    let dense = contents.dense();
    let j = dense
        .feature_names()
        .iter()
        .position(|n| n == name)
        .ok_or_else(|| Error::UnknownColumn {
            name: name.to_string(),
            context: "amlis_evaluate_policy".into(),
            available: dense.feature_names().to_vec(),
        })?;
    Ok(dense.features().column(j).to_vec())
}

fn numeric(table: &Table, name: &str) -> Result<Vec<f64>> {
    match table.column(name)? {
        Column::Numeric(v) => Ok(v.clone()),
        other => Err(Error::ColumnKind {
            column: name.to_string(),
            context: "amlis_evaluate_policy".into(),
            found: other.kind().to_string(),
            expected: "a numeric column".into(),
        }),
    }
}

fn string_key(options: &Map<String, Value>, key: &str) -> Result<Option<String>> {
    match options.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(config_error(
            key,
            format!("expected a column name, found {other}"),
        )),
    }
}

fn names_key(options: &Map<String, Value>, key: &str) -> Result<Option<Vec<String>>> {
    match options.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => serde_json::from_value(v.clone())
            .map(Some)
            .map_err(|_| config_error(key, format!("expected a list of column names, found {v}"))),
    }
}

/// Columns `names` as an `n x names.len()` matrix.
fn matrix(contents: &DatasetContents, names: &[String], n: usize) -> Result<Array2<f64>> {
    let mut m = Array2::zeros((n, names.len()));
    for (j, name) in names.iter().enumerate() {
        let col = column(contents, name)?;
        m.column_mut(j).assign(&ndarray::ArrayView1::from(&col[..]));
    }
    Ok(m)
}

/// Logged actions as indices (whole numbers >= 0).
fn actions_of(values: &[f64], key: &str) -> Result<Vec<usize>> {
    values
        .iter()
        .enumerate()
        .map(|(row, &v)| {
            if v >= 0.0 && v.fract() == 0.0 && v < 4_294_967_296.0 {
                Ok(v as usize)
            } else {
                Err(Error::InvalidValue {
                    context: key.to_string(),
                    row,
                    column: Some(key.to_string()),
                    message: format!("{v} is not an action index (a whole number >= 0)"),
                })
            }
        })
        .collect()
}

/// The evaluation report of `options_json` on the dataset.
pub(crate) fn evaluate_policy_json(
    contents: &DatasetContents,
    options_json: &str,
) -> Result<String> {
    let parsed: Value = serde_json::from_str(options_json)
        .map_err(|e| config_error("options_json", e.to_string()))?;
    let Value::Object(mut options) = parsed else {
        return Err(config_error("options_json", "expected a JSON object"));
    };
    let mut logs = Map::new();
    for key in LOG_KEYS {
        if let Some(v) = options.remove(*key) {
            logs.insert(key.to_string(), v);
        }
    }
    let ope = OpeOptions::from_json(Value::Object(options))?;
    let action_col = string_key(&logs, "action")?
        .ok_or_else(|| config_error("action", "name the column of the logged actions"))?;
    let reward_col = string_key(&logs, "reward")?
        .ok_or_else(|| config_error("reward", "name the column of the rewards"))?;
    let actions = actions_of(&column(contents, &action_col)?, &action_col)?;
    let rewards = column(contents, &reward_col)?;
    let n = actions.len();
    let propensities = string_key(&logs, "propensity")?
        .map(|name| column(contents, &name))
        .transpose()?;
    let context_names = names_key(&logs, "context_columns")?;
    let contexts = context_names
        .as_ref()
        .map(|names| matrix(contents, names, n))
        .transpose()?;
    let policy = policy_matrix(contents, logs.get("policy"), contexts.as_ref(), n)?;
    let reward_model = names_key(&logs, "reward_model")?
        .map(|names| matrix(contents, &names, n))
        .transpose()?;
    let mut feedback = LoggedFeedback::new(&actions, &rewards, policy.view());
    if let Some(p) = &propensities {
        feedback = feedback.propensities(p);
    }
    if let Some(q) = &reward_model {
        feedback = feedback.reward_model(q.view());
    }
    if let Some(x) = &contexts {
        feedback = feedback.contexts(x.view());
    }
    evaluate_policy(&feedback, &ope)?.to_json()
}

/// The evaluated policy's action distribution from the `policy` option.
fn policy_matrix(
    contents: &DatasetContents,
    policy: Option<&Value>,
    contexts: Option<&Array2<f64>>,
    n: usize,
) -> Result<Array2<f64>> {
    let spec =
        match policy {
            Some(Value::Object(o)) => o,
            _ => return Err(config_error(
                "policy",
                "expected {\"pmf_columns\": [..]}, {\"action_column\": .., \"n_actions\": k} or \
                 {\"model_file\": ..} (a greedy policy applied to `context_columns`)",
            )),
        };
    if let Some(unknown) = spec.keys().find(|k| {
        !["pmf_columns", "action_column", "n_actions", "model_file"].contains(&k.as_str())
    }) {
        return Err(config_error(&format!("policy.{unknown}"), "unknown key"));
    }
    if let Some(names) = names_key(spec, "pmf_columns")? {
        return matrix(contents, &names, n);
    }
    if let Some(name) = string_key(spec, "action_column")? {
        let k = spec
            .get("n_actions")
            .and_then(Value::as_u64)
            .ok_or_else(|| config_error("policy.n_actions", "give the number of actions (>= 1)"))?
            as usize;
        let chosen = actions_of(&column(contents, &name)?, &name)?;
        let mut pmf = Array2::zeros((n, k));
        for (i, a) in chosen.into_iter().enumerate() {
            if a >= k {
                return Err(Error::InvalidValue {
                    context: "policy.action_column".into(),
                    row: i,
                    column: Some(name.clone()),
                    message: format!("action {a} is out of range (expected 0..{k})"),
                });
            }
            pmf[[i, a]] = 1.0;
        }
        return Ok(pmf);
    }
    if let Some(path) = string_key(spec, "model_file")? {
        let policy = GreedyPolicy::load_file(&path)?;
        let x = contexts.ok_or_else(|| {
            config_error(
                "context_columns",
                "a policy from a model file needs the context columns",
            )
        })?;
        return policy.pmf(x.view());
    }
    Err(config_error(
        "policy",
        "give `pmf_columns`, `action_column` or `model_file`",
    ))
}

/// Estimates the value of a policy on logged bandit feedback in `logs` and writes a JSON
/// report as a NUL-terminated string, with two-call sizing (`report_json = NULL, buf_len = 0`
/// writes the size needed, counting the NUL, to `*out_len`; a `buf_len` too small is
/// `AMLIS_BUFFER_TOO_SMALL` with the size in `*out_len`).
///
/// `options_json` names the columns of `logs` (a CSV dataset's columns, the target and weight
/// columns included, or a dense dataset's feature names `x0`, `x1`, ...):
/// `{"action": "a", "reward": "r", "propensity": "p", "policy": {...}, "reward_model":
/// ["q0", "q1"], "context_columns": ["x0", "x1"]}`, where `policy` is one of
/// `{"pmf_columns": ["pi0", "pi1"]}` (the evaluated policy's probabilities),
/// `{"action_column": "chosen", "n_actions": 2}` (a deterministic policy's actions) or
/// `{"model_file": "policy.amlis"}` (a greedy policy saved by amlis, applied to
/// `context_columns`). The other keys are the estimators' options: `estimators` (`replay`,
/// `ips`, `snips`, `dm`, `dr`, `sndr`, `switch_dr`; default every one the inputs allow),
/// `clip`, `tau`, `n_bootstrap` (100), `alpha` (0.05), `random_state`, and for a reward model
/// fitted on `context_columns`, `estimator` (`{"type": "ridge"}`, any registered regressor),
/// `n_folds` (2) and `action_encoding` (`one_hot` or `per_action`).
///
/// The report is `{"n_rows", "n_actions", "effective_sample_size", "max_weight", "n_matched",
/// "n_bootstrap", "alpha", "estimates": [{"estimator": "dr", "value": .., "interval":
/// {"lower": .., "upper": .., "mean": ..}}, ..]}`; it is the same for any thread count.
///
/// Errors: a malformed option or an unknown key is `AMLIS_CONFIG_ERROR` naming the key; an
/// unknown column is `AMLIS_INVALID_ARGUMENT` listing the columns; a bad row (an action out of
/// range, a propensity outside (0, 1], a policy row not summing to 1) names the row.
///
/// # Safety
///
/// `logs` must be NULL or a live dataset handle; `options_json` NULL or a NUL-terminated
/// string; `report_json` NULL or `buf_len` writable chars; `out_len` NULL or a valid pointer to
/// a writable `size_t`.
#[no_mangle]
pub unsafe extern "C" fn amlis_evaluate_policy(
    logs: *const AmlisDataset,
    options_json: *const c_char,
    report_json: *mut c_char,
    buf_len: usize,
    out_len: *mut usize,
) -> AmlisStatus {
    boundary::run("amlis_evaluate_policy", || {
        // SAFETY: the caller guarantees each pointer is NULL or valid as documented above.
        let (logs, options, out) = unsafe {
            (
                arg_ref(logs, "logs")?,
                arg_str(options_json, "options_json")?,
                OutBuffer::new(report_json, buf_len, "report_json", out_len, "out_len")?,
            )
        };
        let report = evaluate_policy_json(logs.contents(), options)?;
        out.fill_str(&report)
    })
}
