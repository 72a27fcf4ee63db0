//! Model handles: `AmlisModel` (a fitted pipeline, shared and immutable): train, save, load,
//! free, and what a caller needs to know about it.

use std::borrow::Cow;
use std::ffi::c_char;
use std::sync::Arc;

use serde_json::{json, Value};

use crate::data::{Column, FeatureKind, Table};
use crate::error::{Error, Result};
use crate::models::PredictKind;
use crate::service::config::TrainConfig;
use crate::service::ffi::boundary::{
    self, arg_ref, arg_slice, arg_str, free_handle, into_handle, FfiError, Out, OutBuffer,
};
use crate::service::ffi::dataset::{AmlisDataset, DatasetContents};
use crate::service::ffi::status::{AmlisOutput, AmlisStatus};
use crate::service::persist::{Encoding, FORMAT_MAJOR, FORMAT_MINOR};
use crate::service::pipeline::Pipeline;
use crate::traits::{Dataset, FitContext};

/// An opaque handle to a fitted model: preprocessing steps plus one estimator.
///
/// Made by `amlis_train`, `amlis_model_load_file` or `amlis_model_load_buffer`, freed by
/// `amlis_model_free`. It is immutable: every function taking a `const AmlisModel *` may be
/// called on the same model from any number of threads at once, without locks. (In Rust it
/// holds an `Arc<Pipeline>`; predictors made from it share it.)
pub struct AmlisModel {
    pipeline: Arc<Pipeline>,
}

impl AmlisModel {
    /// The shared pipeline.
    pub fn pipeline(&self) -> &Arc<Pipeline> {
        &self.pipeline
    }

    /// Wraps a pipeline into a handle.
    pub(crate) fn new(pipeline: Pipeline) -> Self {
        Self {
            pipeline: Arc::new(pipeline),
        }
    }
}

/// The table, target name and sample-weight column (if the dataset was read with one) that
/// cross-validation splits: the table as read (borrowed) for a CSV dataset; a dataset made
/// from dense arrays becomes a numeric table (its feature names, and the target as `y`).
pub(crate) fn training_table(
    contents: &DatasetContents,
) -> Result<(Cow<'_, Table>, String, Option<String>)> {
    let no_target = || {
        Error::InvalidArgument(
            "argument `train` has no target; give one (`target` in the options of \
             amlis_dataset_from_csv, or `y` in amlis_dataset_from_dense)"
                .into(),
        )
    };
    if let (Some(table), Some(target)) = (contents.table(), contents.target_name()) {
        let weights = contents.weights_name().map(str::to_string);
        return Ok((Cow::Borrowed(table), target.to_string(), weights));
    }
    let dense = contents.dense();
    let y = dense.targets().ok_or_else(no_target)?;
    let names = dense.feature_names();
    let mut target = String::from("y");
    while names.contains(&target) {
        target.push('_');
    }
    let x = dense.features();
    let mut columns: Vec<(String, Column)> = names
        .iter()
        .zip(x.columns())
        .map(|(n, c)| (n.clone(), Column::Numeric(c.to_vec())))
        .collect();
    columns.push((target.clone(), Column::Numeric(y.to_vec())));
    Ok((Cow::Owned(Table::new(columns)?), target, None))
}

/// Trains the model a JSON configuration describes on a dataset handle's features (and its
/// target and weights, when it has them), without copying them when the config has no
/// preprocessing steps.
fn train(contents: &DatasetContents, config_json: &str) -> Result<Pipeline> {
    let config = TrainConfig::from_json(config_json)?;
    Pipeline::fit_dataset(
        &config,
        contents.dense(),
        contents.target_name(),
        &FitContext::new(),
    )
}

/// The encoding a file is saved in: JSON when the path ends in `.json` (any case), binary
/// otherwise.
pub(crate) fn encoding_for_path(path: &str) -> Encoding {
    let lower = path.to_ascii_lowercase();
    if lower.ends_with(".json") {
        Encoding::Json
    } else {
        Encoding::Binary
    }
}

/// The JSON description of a model, for `amlis_model_info_json`.
pub fn info_json(p: &Pipeline) -> Value {
    let kinds: Vec<Value> = p
        .inputs()
        .iter()
        .map(|c| match &c.kind {
            FeatureKind::Numeric => json!({"kind": "numeric"}),
            FeatureKind::Categorical { categories } => {
                json!({"kind": "categorical", "categories": categories})
            }
        })
        .collect();
    let meta = p.meta();
    json!({
        "type": p.model().type_name(),
        "estimator": p.estimator(),
        "tags": p.model().tags().names(),
        "outputs": p.outputs().iter().map(|k| k.name()).collect::<Vec<_>>(),
        "library_version": meta.library_version,
        "format_version": format!("{FORMAT_MAJOR}.{FORMAT_MINOR}"),
        "n_features": p.inputs().len(),
        "feature_names": p.inputs().iter().map(|c| c.name.as_str()).collect::<Vec<_>>(),
        "feature_kinds": kinds,
        "n_classes": p.n_classes(),
        "classes": p.classes(),
        "target": meta.target,
        "steps": p.steps().iter().map(|s| s.type_name()).collect::<Vec<_>>(),
        "n_model_features": p.features().len(),
        "n_train_rows": meta.n_train_rows,
        "training_metrics": meta.training_metrics,
        "config": meta.config,
        "search": meta.search,
    })
}

/// Trains a model on `train` as `config_json` describes it, and returns it in `*out`.
///
/// `config_json` is a training configuration (ARCHITECTURE.md, and the README's "A training config"), e.g.
/// `{"model": {"type": "logistic_regression", "C": 1.0}, "preprocess": [{"type":
/// "simple_imputer"}, {"type": "standard_scaler"}], "random_state": 42}`. The model type
/// decides how the target is read (`estimator` in `amlis_model_info_json`): a classifier
/// reads classes, a regressor numbers, and the kinds that learn without a target
/// (transformers, clusterers, outlier detectors) train from a dataset without one; for
/// classification, class labels are sorted as
/// scikit-learn sorts `classes_` (numeric targets from `amlis_dataset_from_dense` become the
/// classes of their distinct values). The dataset's feature columns (without target and
/// weights) are the model's raw input columns, in order. A dataset read with a `weights`
/// column trains with those sample weights (as scikit-learn's `sample_weight`).
///
/// Errors: a malformed configuration, an unknown key or type is `AMLIS_CONFIG_ERROR` naming
/// the key (`model.C`, `preprocess.1.strategy`); a dataset without target for a model that
/// needs one is `AMLIS_INVALID_ARGUMENT` naming the model and its kind; a negative or non-finite sample weight is
/// `AMLIS_INVALID_ARGUMENT` naming its row. On success `*out` receives a new handle to free with
/// `amlis_model_free`; on failure it is not written.
///
/// # Safety
///
/// `train` must be NULL or a live dataset handle; `config_json` NULL or a NUL-terminated
/// string; `out` NULL or a valid pointer to writable `AmlisModel *` storage.
#[no_mangle]
pub unsafe extern "C" fn amlis_train(
    train: *const AmlisDataset,
    config_json: *const c_char,
    out: *mut *mut AmlisModel,
) -> AmlisStatus {
    boundary::run("amlis_train", || {
        // SAFETY: the caller guarantees each pointer is NULL or valid as documented above.
        let (d, config, out) = unsafe {
            (
                arg_ref(train, "train")?,
                arg_str(config_json, "config_json")?,
                Out::new(out, "out")?,
            )
        };
        let pipeline = self::train(d.contents(), config)?;
        out.write(into_handle(AmlisModel::new(pipeline)));
        Ok(())
    })
}

/// Saves a model to a file, atomically (a temporary file in the same folder, renamed over
/// `path`): a crash never leaves a half-written model.
///
/// The payload is JSON (readable, larger) when `path` ends in `.json` (any case), the compact
/// binary encoding otherwise; both load with `amlis_model_load_file`. A file that cannot be
/// written is `AMLIS_IO_ERROR` naming it.
///
/// # Safety
///
/// `m` must be NULL or a live model handle; `path` NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn amlis_model_save_file(
    m: *const AmlisModel,
    path: *const c_char,
) -> AmlisStatus {
    boundary::run("amlis_model_save_file", || {
        // SAFETY: the caller guarantees each pointer is NULL or valid as documented above.
        let (m, path) = unsafe { (arg_ref(m, "m")?, arg_str(path, "path")?) };
        m.pipeline.save(path, encoding_for_path(path))?;
        Ok(())
    })
}

/// Loads a model file written by `amlis_model_save_file` (JSON or binary, recognized from
/// the file's envelope, not its name).
///
/// Everything is checked before the model is returned: a truncated file, a checksum
/// mismatch or inconsistent contents are `AMLIS_MODEL_CORRUPT`; a file of a newer format
/// (or another major version) is `AMLIS_MODEL_VERSION`, naming the version found and the
/// versions supported; a missing or unreadable file is `AMLIS_IO_ERROR`. On success `*out`
/// receives a new handle to free with `amlis_model_free`; on failure it is not written.
///
/// # Safety
///
/// `path` must be NULL or a NUL-terminated string; `out` NULL or a valid pointer to writable
/// `AmlisModel *` storage.
#[no_mangle]
pub unsafe extern "C" fn amlis_model_load_file(
    path: *const c_char,
    out: *mut *mut AmlisModel,
) -> AmlisStatus {
    boundary::run("amlis_model_load_file", || {
        // SAFETY: the caller guarantees each pointer is NULL or valid as documented above.
        let (path, out) = unsafe { (arg_str(path, "path")?, Out::new(out, "out")?) };
        let pipeline = Pipeline::load(path)?;
        out.write(into_handle(AmlisModel::new(pipeline)));
        Ok(())
    })
}

/// Writes the model's file image (binary encoding) into `buf`, with two-call sizing.
///
/// `buf = NULL, buf_len = 0`: writes the size needed to `*out_len` and returns `AMLIS_OK`.
/// `buf_len` smaller than needed: writes the size needed to `*out_len`, leaves `buf`
/// untouched and returns `AMLIS_BUFFER_TOO_SMALL`. Otherwise writes the image to the start
/// of `buf` and its length to `*out_len`. The image is what `amlis_model_save_file` writes
/// to a non-`.json` path, and loads with `amlis_model_load_buffer`.
///
/// # Safety
///
/// `m` must be NULL or a live model handle; `buf` NULL or `buf_len` writable bytes;
/// `out_len` NULL or a valid pointer to a writable `size_t`.
#[no_mangle]
pub unsafe extern "C" fn amlis_model_save_buffer(
    m: *const AmlisModel,
    buf: *mut u8,
    buf_len: usize,
    out_len: *mut usize,
) -> AmlisStatus {
    boundary::run("amlis_model_save_buffer", || {
        // SAFETY: the caller guarantees each pointer is NULL or valid as documented above.
        let (m, out) = unsafe {
            (
                arg_ref(m, "m")?,
                OutBuffer::new(buf, buf_len, "buf", out_len, "out_len")?,
            )
        };
        let bytes = m.pipeline.to_bytes(Encoding::Binary)?;
        out.fill(&bytes)
    })
}

/// Loads a model from a file image in memory (`len` bytes at `buf`, as written by
/// `amlis_model_save_buffer` or read from a model file), with the same checks and errors as
/// `amlis_model_load_file`. The bytes are not used after the call returns.
///
/// # Safety
///
/// `buf` must be NULL or point to `len` readable bytes; `out` NULL or a valid pointer to
/// writable `AmlisModel *` storage.
#[no_mangle]
pub unsafe extern "C" fn amlis_model_load_buffer(
    buf: *const u8,
    len: usize,
    out: *mut *mut AmlisModel,
) -> AmlisStatus {
    boundary::run("amlis_model_load_buffer", || {
        // SAFETY: the caller guarantees each pointer is NULL or valid as documented above.
        let (bytes, out) = unsafe { (arg_slice(buf, len, "buf")?, Out::new(out, "out")?) };
        let pipeline = Pipeline::from_bytes(bytes)?;
        out.write(into_handle(AmlisModel::new(pipeline)));
        Ok(())
    })
}

/// Frees a model handle. NULL does nothing. Predictors made from the model stay valid (they
/// share it) until they are freed.
///
/// # Safety
///
/// `m` must be NULL or a model handle that has not been freed; it must not be used
/// afterwards, nor be in use by another thread during the call.
#[no_mangle]
pub unsafe extern "C" fn amlis_model_free(m: *const AmlisModel) {
    boundary::run_void("amlis_model_free", || {
        // SAFETY: the caller guarantees `m` is NULL or an unfreed handle made by into_handle.
        unsafe { free_handle(m.cast_mut()) }
    })
}

/// Writes the number of raw input columns the model takes: the `n_cols` of `amlis_predict`
/// and `amlis_predict_row` (the dataset's feature columns at training; a categorical column
/// counts as one).
///
/// # Safety
///
/// `m` must be NULL or a live model handle; `out` NULL or a valid pointer to a writable
/// `size_t`.
#[no_mangle]
pub unsafe extern "C" fn amlis_model_n_features(
    m: *const AmlisModel,
    out: *mut usize,
) -> AmlisStatus {
    boundary::run("amlis_model_n_features", || {
        // SAFETY: the caller guarantees each pointer is NULL or valid as documented above.
        let (m, out) = unsafe { (arg_ref(m, "m")?, Out::new(out, "out")?) };
        out.write(m.pipeline.inputs().len());
        Ok(())
    })
}

/// Writes the number of classes of a classifier (0 for a regressor): the number of values
/// per row of an `AMLIS_OUTPUT_PROBA` prediction.
///
/// # Safety
///
/// `m` must be NULL or a live model handle; `out` NULL or a valid pointer to a writable
/// `size_t`.
#[no_mangle]
pub unsafe extern "C" fn amlis_model_n_classes(
    m: *const AmlisModel,
    out: *mut usize,
) -> AmlisStatus {
    boundary::run("amlis_model_n_classes", || {
        // SAFETY: the caller guarantees each pointer is NULL or valid as documented above.
        let (m, out) = unsafe { (arg_ref(m, "m")?, Out::new(out, "out")?) };
        out.write(m.pipeline.n_classes());
        Ok(())
    })
}

/// Writes the number of values per row that a prediction of `kind` writes: 1 for
/// `AMLIS_OUTPUT_VALUE`, `n_classes` for `AMLIS_OUTPUT_PROBA`, the number of output columns
/// for `AMLIS_OUTPUT_TRANSFORM`, the number of scores for `AMLIS_OUTPUT_SCORE` (1 for a
/// binary classifier's decision function, `n_classes` for a multiclass one).
///
/// A kind the model cannot produce is `AMLIS_UNSUPPORTED`, and the message names the kinds
/// it has; a `kind` that is none of the constants is `AMLIS_INVALID_ARGUMENT`. `*out` is
/// written only on success.
///
/// # Safety
///
/// `m` must be NULL or a live model handle; `out` NULL or a valid pointer to a writable
/// `size_t`.
#[no_mangle]
pub unsafe extern "C" fn amlis_model_n_outputs(
    m: *const AmlisModel,
    kind: AmlisOutput,
    out: *mut usize,
) -> AmlisStatus {
    boundary::run("amlis_model_n_outputs", || {
        // SAFETY: the caller guarantees each pointer is NULL or valid as documented above.
        let (m, out) = unsafe { (arg_ref(m, "m")?, Out::new(out, "out")?) };
        let kind = PredictKind::from_raw(kind, "kind")?;
        out.write(m.pipeline.output_width(kind)?);
        Ok(())
    })
}

/// Writes a JSON description of the model as a NUL-terminated string, with two-call sizing
/// (`buf = NULL, buf_len = 0` writes the size needed, counting the NUL, to `*out_len`;
/// a `buf_len` too small is `AMLIS_BUFFER_TOO_SMALL` with the size in `*out_len`).
///
/// Keys: `type` (the model type, e.g. `"logistic_regression"`), `estimator` (the kind:
/// `"classifier"`, `"regressor"`, `"clusterer"`, `"transformer"` or `"outlier_detector"`),
/// `tags` (what the type can do: `needs_target`, `probabilities`, `decision_function`,
/// `transforms`, `supports_partial_fit`, `handles_nan`, `handles_categorical`), `outputs`
/// (the output kinds this model writes: `value`, `proba`, `transform`, `score`),
/// `library_version` (the amlis version that trained it),
/// `format_version` (the model-file format this library writes, `"major.minor"`),
/// `n_features`, `feature_names` and `feature_kinds` (the raw input columns in `amlis_predict`
/// order; each kind is `{"kind": "numeric"}` or `{"kind": "categorical", "categories":
/// [...]}`, a categorical cell being given as an index into `categories`), `n_classes`,
/// `classes` (class index `i` of `AMLIS_OUTPUT_VALUE` is `classes[i]`), `target` (`null`
/// for a model fitted without one), `steps`
/// (the preprocessing step types), `n_model_features`, `n_train_rows`, `training_metrics`
/// (e.g. `accuracy`, or `r2` and `mean_squared_error`) and `config` (the training
/// configuration).
///
/// # Safety
///
/// `m` must be NULL or a live model handle; `buf` NULL or `buf_len` writable chars;
/// `out_len` NULL or a valid pointer to a writable `size_t`.
#[no_mangle]
pub unsafe extern "C" fn amlis_model_info_json(
    m: *const AmlisModel,
    buf: *mut c_char,
    buf_len: usize,
    out_len: *mut usize,
) -> AmlisStatus {
    boundary::run("amlis_model_info_json", || {
        // SAFETY: the caller guarantees each pointer is NULL or valid as documented above.
        let (m, out) = unsafe {
            (
                arg_ref(m, "m")?,
                OutBuffer::new(buf, buf_len, "buf", out_len, "out_len")?,
            )
        };
        let text = serde_json::to_string_pretty(&info_json(&m.pipeline))
            .map_err(|e| FfiError::invalid(format!("cannot describe the model: {e}")))?;
        out.fill_str(&text)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_only_for_json_paths() {
        assert_eq!(encoding_for_path("m.json"), Encoding::Json);
        assert_eq!(encoding_for_path("dir/M.JSON"), Encoding::Json);
        assert_eq!(encoding_for_path("m.amlis"), Encoding::Binary);
        assert_eq!(encoding_for_path("json"), Encoding::Binary);
    }

    #[test]
    fn info_names_inputs_classes_and_kinds() {
        let table = crate::data::datasets::penguins_table().unwrap();
        let config = TrainConfig::from_json(
            r#"{"model": {"type": "dummy_classifier"},
                "preprocess": [{"type": "simple_imputer", "strategy": "most_frequent"},
                               {"type": "one_hot_encoder"}]}"#,
        )
        .unwrap();
        let p = Pipeline::fit(&config, &table, "species", &FitContext::new()).unwrap();
        let info = info_json(&p);
        assert_eq!(info["type"], "dummy_classifier");
        assert_eq!(info["n_classes"], 3);
        assert_eq!(info["classes"][2], "Gentoo");
        assert_eq!(info["target"], "species");
        assert_eq!(info["n_features"], p.inputs().len());
        let island = p.inputs().iter().position(|c| c.name == "island").unwrap();
        assert_eq!(info["feature_kinds"][island]["kind"], "categorical");
        assert_eq!(
            info["feature_kinds"][island]["categories"]
                .as_array()
                .unwrap()
                .len(),
            3
        );
        assert!(info["training_metrics"]["accuracy"].as_f64().unwrap() > 0.4);
        assert_eq!(info["config"]["model"]["type"], "dummy_classifier");
    }
}
