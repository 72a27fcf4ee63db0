//! Learner handles: `AmlisLearner`, a model that keeps learning after it is made, from C:
//! streaming training on chunks (`amlis_learner_partial_fit`), online decisions and their
//! rewards (`amlis_learner_choose`, `amlis_learner_update`, for policies), and snapshots
//! taken as ordinary models (`amlis_learner_model`) that predict, save and load like any
//! other.

use std::ffi::c_char;
use std::sync::RwLock;

use ndarray::Array1;
use serde_json::Value;

use crate::data::{format_label, targets_for, FeatureKind, Task, TaskKind, WithTargets};
use crate::error::{Error, Result};
use crate::models::{AnyLearner, Estimator};
use crate::service::config::TrainConfig;
use crate::service::ffi::boundary::{
    self, arg_ref, arg_slice, arg_slice_mut, arg_str, free_handle, into_handle, Out,
};
use crate::service::ffi::dataset::AmlisDataset;
use crate::service::ffi::model::AmlisModel;
use crate::service::ffi::status::AmlisStatus;
use crate::service::pipeline::{InputColumn, Pipeline};
use crate::traits::{Dataset, FitContext, StreamSpec};

/// An opaque handle to a learner: a model under streaming training, or an online policy.
///
/// Made by `amlis_learner_new`, freed by `amlis_learner_free`. Every function on it may be
/// called from any thread, also at once: decisions (`amlis_learner_choose`) and snapshots
/// share a read lock, learning (`amlis_learner_partial_fit`, `amlis_learner_update`) takes
/// the write lock.
pub struct AmlisLearner {
    config: TrainConfig,
    state: RwLock<LearnerState>,
}

/// What the lock guards.
struct LearnerState {
    learner: AnyLearner,
    spec: StreamSpec,
    /// The input columns, named after the first chunk (`x0, x1, ...` until then).
    inputs: Vec<InputColumn>,
    n_seen: usize,
}

fn poisoned() -> Error {
    Error::InvalidArgument(
        "the learner is unusable: a call on another thread panicked while learning".into(),
    )
}

/// Parses `{"n_features": 4, "classes": ["a", "b"]}`.
fn parse_stream(json: &str) -> Result<StreamSpec> {
    let bad = |key: &str, message: String| Error::Config {
        key: key.to_string(),
        message,
    };
    let root: Value = serde_json::from_str(json)
        .map_err(|e| bad("stream_json", format!("not valid JSON: {e}")))?;
    let Value::Object(map) = root else {
        return Err(bad("stream_json", "expected a JSON object".into()));
    };
    let mut spec = StreamSpec::default();
    let mut has_features = false;
    for (key, value) in map {
        match key.as_str() {
            "n_features" => {
                spec.n_features = value
                    .as_u64()
                    .filter(|&n| n > 0)
                    .and_then(|n| usize::try_from(n).ok())
                    .ok_or_else(|| bad("n_features", format!("{value} is not a count > 0")))?;
                has_features = true;
            }
            "classes" => {
                spec.classes = serde_json::from_value(value.clone()).map_err(|_| {
                    bad("classes", format!("{value} is not a list of class labels"))
                })?;
                spec.classes.sort();
                spec.classes.dedup();
            }
            other => {
                return Err(bad(
                    other,
                    "unknown key; expected `n_features` or `classes`".into(),
                ))
            }
        }
    }
    if !has_features {
        return Err(bad("n_features", "missing; give the column count".into()));
    }
    Ok(spec)
}

fn new_learner(config_json: &str, stream_json: &str) -> Result<AmlisLearner> {
    let config = TrainConfig::from_json(config_json)?;
    if !config.preprocess.is_empty() {
        return Err(Error::Config {
            key: "preprocess".into(),
            message: "a learner takes its rows as they are; preprocessing steps do not learn \
                      from a stream yet"
                .into(),
        });
    }
    let spec = parse_stream(stream_json)?;
    let estimator = config.model.estimator();
    if estimator == Estimator::Classifier && spec.classes.len() < 2 {
        return Err(Error::Config {
            key: "classes".into(),
            message: format!(
                "`{}` is a classifier: give every class of the stream (at least 2) up front",
                config.model.type_name()
            ),
        });
    }
    let ctx = FitContext::new().random_state(config.random_state.unwrap_or(0));
    let learner = AnyLearner::start(&config.model, &spec, &ctx)?;
    let inputs = (0..spec.n_features)
        .map(|j| InputColumn {
            name: format!("x{j}"),
            kind: FeatureKind::Numeric,
        })
        .collect();
    Ok(AmlisLearner {
        config,
        state: RwLock::new(LearnerState {
            learner,
            spec,
            inputs,
            n_seen: 0,
        }),
    })
}

/// One chunk's targets as indices into the stream's classes (labels matched by name).
fn stream_class_targets(chunk: &dyn Dataset, classes: &[String]) -> Result<Array1<f64>> {
    let Some((y, task)) = targets_for(chunk, TaskKind::Auto, "target")? else {
        return Err(Error::InvalidArgument(
            "argument `chunk` has no target; a stream learns from labelled rows".into(),
        ));
    };
    y.iter()
        .enumerate()
        .map(|(row, &v)| {
            let label = match &task {
                Task::Classification { classes } => classes.get(v as usize).cloned(),
                _ => Some(format_label(v)),
            }
            .filter(|_| v.is_finite());
            let known = label
                .as_ref()
                .and_then(|l| classes.iter().position(|c| c == l));
            known.map(|k| k as f64).ok_or_else(|| Error::InvalidValue {
                context: "stream chunk target".into(),
                row,
                column: None,
                message: format!(
                    "label {} is not one of the stream's classes {classes:?}",
                    label.unwrap_or_else(|| "(missing)".into())
                ),
            })
        })
        .collect()
}

impl AmlisLearner {
    fn partial_fit(&self, chunk: &dyn Dataset) -> Result<()> {
        // Unlabeled rows: the batch fit's check, before the labels are matched to the stream's.
        self.config.model.check_labelled(chunk)?;
        let mut state = self.state.write().map_err(|_| poisoned())?;
        if chunk.n_features() != state.spec.n_features {
            return Err(Error::shape(
                "chunk",
                format!(
                    "{} columns (`n_features` of the stream)",
                    state.spec.n_features
                ),
                format!("{} columns", chunk.n_features()),
            ));
        }
        let w = chunk.base_weights().map(|w| w.to_owned());
        let data = if self.config.model.estimator() == Estimator::Classifier {
            let classes = state.spec.classes.clone();
            let y = stream_class_targets(chunk, &classes)?;
            WithTargets::new(chunk, Some(y), w, Task::Classification { classes })?
        } else {
            let (y, task) =
                targets_for(chunk, TaskKind::Regression, "target")?.ok_or_else(|| {
                    Error::InvalidArgument(
                        "argument `chunk` has no target; a stream learns from labelled rows".into(),
                    )
                })?;
            WithTargets::new(chunk, Some(y), w, task)?
        };
        state.learner.partial_fit(&data)?;
        if state.n_seen == 0 {
            state.inputs = chunk
                .feature_names()
                .iter()
                .map(|name| InputColumn {
                    name: name.clone(),
                    kind: FeatureKind::Numeric,
                })
                .collect();
        }
        state.n_seen += chunk.n_samples();
        Ok(())
    }

    fn snapshot(&self) -> Result<Pipeline> {
        let state = self.state.read().map_err(|_| poisoned())?;
        let model = state.learner.model()?;
        Pipeline::from_model(
            &self.config,
            model,
            state.inputs.clone(),
            None,
            state.n_seen,
        )
    }

    fn not_a_policy(&self) -> Error {
        Error::Unsupported(format!(
            "`{}` learns from labelled chunks (amlis_learner_partial_fit); choosing actions and \
             learning from rewards needs a policy type",
            self.config.model.type_name()
        ))
    }
}

/// Makes a learner: a model that learns from a stream of chunks, or an online policy.
///
/// `config_json` is a training configuration whose model supports streaming (its `tags` in
/// `amlis_model_info_json` list `supports_partial_fit`, e.g. `sgd_classifier`,
/// `sgd_regressor`), without preprocessing steps. `stream_json` describes the stream:
/// `{"n_features": 4, "classes": ["a", "b", "c"]}` (`classes` — every class of the stream,
/// as scikit-learn's `classes=` — for classifiers only; a chunk need not hold all of them).
///
/// Errors: a malformed or unknown key is `AMLIS_CONFIG_ERROR` naming it; a model type that
/// cannot learn from a stream is `AMLIS_UNSUPPORTED` naming those that can. On success `*out`
/// receives a new handle to free with `amlis_learner_free`; on failure it is not written.
///
/// # Safety
///
/// `config_json` and `stream_json` must be NULL or NUL-terminated strings; `out` NULL or a
/// valid pointer to writable `AmlisLearner *` storage.
#[no_mangle]
pub unsafe extern "C" fn amlis_learner_new(
    config_json: *const c_char,
    stream_json: *const c_char,
    out: *mut *mut AmlisLearner,
) -> AmlisStatus {
    boundary::run("amlis_learner_new", || {
        // SAFETY: the caller guarantees each pointer is NULL or valid as documented above.
        let (config, stream, out) = unsafe {
            (
                arg_str(config_json, "config_json")?,
                arg_str(stream_json, "stream_json")?,
                Out::new(out, "out")?,
            )
        };
        out.write(into_handle(new_learner(config, stream)?));
        Ok(())
    })
}

/// Learns from one chunk of labelled rows: a dataset with a target (from
/// `amlis_dataset_from_dense` with `y`, or `amlis_dataset_from_csv` with `target`) and the
/// stream's `n_features` columns. A classifier matches the chunk's labels to the stream's
/// classes by name (numbers as they print: `1`, `2.5`); a label not among them is
/// `AMLIS_INVALID_ARGUMENT` naming the row. One pass over the chunk, continuing the
/// learning-rate schedule (scikit-learn's `partial_fit`).
///
/// # Safety
///
/// `l` must be NULL or a live learner handle; `chunk` NULL or a live dataset handle.
#[no_mangle]
pub unsafe extern "C" fn amlis_learner_partial_fit(
    l: *const AmlisLearner,
    chunk: *const AmlisDataset,
) -> AmlisStatus {
    boundary::run("amlis_learner_partial_fit", || {
        // SAFETY: the caller guarantees each pointer is NULL or live.
        let (l, chunk) = unsafe { (arg_ref(l, "l")?, arg_ref(chunk, "chunk")?) };
        l.partial_fit(chunk.contents().dense())?;
        Ok(())
    })
}

/// Chooses an action for a context (`n_features` doubles): writes the chosen action's index
/// to `*action` and the probability of every action under the policy (`pmf_len` =
/// the number of actions) to `pmf`, so that policies can be evaluated offline later.
/// Reproducible: the same learner state, context and `event_id` give the same action on any
/// thread. A learner that is not a policy (a streaming classifier or regressor) is
/// `AMLIS_UNSUPPORTED`. Outputs are written only on success.
///
/// # Safety
///
/// `l` must be NULL or a live learner handle; `context` NULL or `n_features` readable
/// doubles; `action` NULL or a writable `size_t`; `pmf` NULL or `pmf_len` writable doubles.
#[no_mangle]
pub unsafe extern "C" fn amlis_learner_choose(
    l: *const AmlisLearner,
    context: *const f64,
    n_features: usize,
    event_id: u64,
    action: *mut usize,
    pmf: *mut f64,
    pmf_len: usize,
) -> AmlisStatus {
    boundary::run("amlis_learner_choose", || {
        // SAFETY: the caller guarantees each pointer is NULL or valid as documented above.
        let (l, context, action) = unsafe {
            (
                arg_ref(l, "l")?,
                arg_slice(context, n_features, "context")?,
                Out::new(action, "action")?,
            )
        };
        boundary::non_null(pmf, "pmf")?;
        let state = l.state.read().map_err(|_| poisoned())?;
        let policy = state.learner.as_online().ok_or_else(|| l.not_a_policy())?;
        // SAFETY: the caller guarantees `pmf` holds pmf_len writable doubles.
        let pmf = unsafe { arg_slice_mut(pmf, pmf_len, "pmf")? };
        let mut probabilities = vec![0.0; policy.n_actions()];
        let chosen = policy.choose(context, event_id, &mut probabilities)?;
        if pmf.len() != probabilities.len() {
            return Err(Error::shape(
                "`pmf_len`",
                format!("{} (the number of actions)", probabilities.len()),
                pmf.len(),
            )
            .into());
        }
        pmf.copy_from_slice(&probabilities);
        action.write(chosen);
        Ok(())
    })
}

/// Learns from one outcome of a decision: `reward` was observed for `action` in `context`
/// (`n_features` doubles), which the logging policy chose with `probability` (in (0, 1]).
/// A learner that is not a policy is `AMLIS_UNSUPPORTED`.
///
/// # Safety
///
/// `l` must be NULL or a live learner handle; `context` NULL or `n_features` readable
/// doubles.
#[no_mangle]
pub unsafe extern "C" fn amlis_learner_update(
    l: *const AmlisLearner,
    context: *const f64,
    n_features: usize,
    action: usize,
    reward: f64,
    probability: f64,
) -> AmlisStatus {
    boundary::run("amlis_learner_update", || {
        // SAFETY: the caller guarantees each pointer is NULL or valid as documented above.
        let (l, context) =
            unsafe { (arg_ref(l, "l")?, arg_slice(context, n_features, "context")?) };
        let mut state = l.state.write().map_err(|_| poisoned())?;
        let not_a_policy = l.not_a_policy();
        let policy = state.learner.as_online_mut().ok_or(not_a_policy)?;
        policy.update(context, action, reward, probability)?;
        Ok(())
    })
}

/// Takes the model learned so far as an ordinary model handle: it predicts, saves and loads
/// like a trained one, and later learning does not change it. Its inputs are the stream's
/// columns (named after the first chunk's features).
///
/// # Safety
///
/// `l` must be NULL or a live learner handle; `out` NULL or a valid pointer to writable
/// `AmlisModel *` storage.
#[no_mangle]
pub unsafe extern "C" fn amlis_learner_model(
    l: *const AmlisLearner,
    out: *mut *mut AmlisModel,
) -> AmlisStatus {
    boundary::run("amlis_learner_model", || {
        // SAFETY: the caller guarantees each pointer is NULL or valid as documented above.
        let (l, out) = unsafe { (arg_ref(l, "l")?, Out::new(out, "out")?) };
        out.write(into_handle(AmlisModel::new(l.snapshot()?)));
        Ok(())
    })
}

/// Frees a learner. NULL does nothing. Model snapshots taken from it stay valid.
///
/// # Safety
///
/// `l` must be NULL or a learner handle that has not been freed; it must not be used
/// afterwards.
#[no_mangle]
pub unsafe extern "C" fn amlis_learner_free(l: *mut AmlisLearner) {
    boundary::run_void("amlis_learner_free", || {
        // SAFETY: the caller guarantees `l` is NULL or an unfreed handle made by into_handle.
        unsafe { free_handle(l) }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_options_parse_and_name_bad_keys() {
        let s = parse_stream(r#"{"n_features": 3, "classes": ["b", "a", "b"]}"#).unwrap();
        assert_eq!((s.n_features, s.classes), (3, vec!["a".into(), "b".into()]));
        for (json, key) in [
            (r#"{"n_features": 0}"#, "n_features"),
            (r#"{"classes": ["a"]}"#, "n_features"),
            (r#"{"n_features": 2, "clases": []}"#, "clases"),
            (r#"[1]"#, "stream_json"),
        ] {
            match parse_stream(json).unwrap_err() {
                Error::Config { key: k, .. } => assert_eq!(k, key, "{json}"),
                other => panic!("{json}: {other}"),
            }
        }
    }
}
