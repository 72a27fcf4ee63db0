//! Evaluation from C: one metric of a fitted model on a dataset (`amlis_evaluate`), and
//! cross-validation of a training configuration (`amlis_cross_validate`).

use std::ffi::c_char;

use crate::data::{Column, Table};
use crate::error::{Error, Result};
use crate::service::ffi::boundary::{self, arg_ref, arg_str, Out, OutBuffer};
use crate::service::ffi::dataset::{AmlisDataset, DatasetContents};
use crate::service::ffi::model::{training_table, AmlisModel};
use crate::service::ffi::status::AmlisStatus;
use crate::service::pipeline::Pipeline;
use crate::traits::Dataset;

/// The raw table (inputs + target under the pipeline's target name) to evaluate on.
///
/// A dataset read from CSV is matched by column name; a dataset made from dense arrays gives
/// raw rows in the model's input order.
fn evaluation_table(contents: &DatasetContents, pipeline: &Pipeline) -> Result<Table> {
    let target = pipeline
        .meta()
        .target
        .clone()
        .or_else(|| contents.target_name().map(str::to_string))
        .unwrap_or_else(|| "y".into());
    if let (Some(table), Some(name)) = (contents.table(), contents.target_name()) {
        let mut t = table.clone();
        if name != target {
            if t.index_of(&target, "evaluation").is_ok() {
                t = t.drop(&[target.as_str()])?;
            }
            t.rename(name, &target)?;
        }
        return Ok(t);
    }
    let dense = contents.dense();
    let y = dense.targets().ok_or_else(|| {
        Error::InvalidArgument("argument `d` has no target to evaluate against".into())
    })?;
    let inputs = pipeline.inputs();
    if dense.n_features() != inputs.len() {
        return Err(Error::shape(
            "amlis_evaluate dataset",
            format!("{} columns (the model's inputs)", inputs.len()),
            format!("{} columns", dense.n_features()),
        ));
    }
    let raw = pipeline.table_from_rows(dense.features().view())?;
    let mut columns = raw.into_columns();
    columns.push((target, Column::Numeric(y.to_vec())));
    Table::new(columns)
}

/// Computes one metric of a model on a dataset with a target and writes it to `*out`.
///
/// `metric` is a scikit-learn scorer name: `accuracy`, `balanced_accuracy`, `f1_macro`,
/// `roc_auc`, `neg_log_loss`, `r2`, `neg_mean_squared_error`, `mean_squared_error`, ...
/// (`neg_` names are negated errors, greater is better; plain error names are the raw error).
/// A dataset read from CSV is matched to the model's inputs by column name (its target
/// column is the truth); a dense dataset gives rows in the model's input order and `y`.
///
/// Errors: an unknown metric name, or one that does not fit the model (ROC AUC of a
/// regressor), is `AMLIS_INVALID_ARGUMENT` with a message listing valid names; a dataset
/// without target is `AMLIS_INVALID_ARGUMENT`; a wrong column count is
/// `AMLIS_SHAPE_MISMATCH`. `*out` is written only on success.
///
/// # Safety
///
/// `m` must be NULL or a live model handle, `d` NULL or a live dataset handle, `metric` NULL
/// or a NUL-terminated string, `out` NULL or a valid pointer to a writable `double`.
#[no_mangle]
pub unsafe extern "C" fn amlis_evaluate(
    m: *const AmlisModel,
    d: *const AmlisDataset,
    metric: *const c_char,
    out: *mut f64,
) -> AmlisStatus {
    boundary::run("amlis_evaluate", || {
        // SAFETY: the caller guarantees each pointer is NULL or valid as documented above.
        let (m, d, metric, out) = unsafe {
            (
                arg_ref(m, "m")?,
                arg_ref(d, "d")?,
                arg_str(metric, "metric")?,
                Out::new(out, "out")?,
            )
        };
        let pipeline = m.pipeline();
        let table = evaluation_table(d.contents(), pipeline)?;
        let value = crate::evaluate::report::evaluate_metric(pipeline, &table, metric)?;
        out.write(value);
        Ok(())
    })
}

/// Cross-validates the training configuration `config_json` on a dataset with a target and
/// writes a JSON report as a NUL-terminated string, with two-call sizing (`report_json =
/// NULL, buf_len = 0` writes the size needed, counting the NUL, to `*out_len`; a `buf_len`
/// too small is `AMLIS_BUFFER_TOO_SMALL` with the size in `*out_len`).
///
/// `cv_json` (NULL for the defaults) is like `{"n_splits": 5, "shuffle": false, "stratified":
/// false, "random_state": 0, "metrics": ["roc_auc", "accuracy"]}`; metrics default to
/// `accuracy` for classifiers and `r2` for regressors. The report is
/// `{"metrics": {"<name>": {"mean": .., "std": .., "folds": [..]}}, "n_splits": k,
/// "fit_time": {..}, "score_time": {..}}` with one score per fold, in fold order. Folds run in
/// parallel; the scores do not depend on the thread count.
///
/// Errors: a malformed `config_json` or `cv_json`, or an unknown key, is
/// `AMLIS_CONFIG_ERROR` naming the key; an unknown metric or one that does not fit the task
/// is `AMLIS_INVALID_ARGUMENT`. Nothing is written on failure except the needed size on
/// `AMLIS_BUFFER_TOO_SMALL`. The folds are fitted again on each call, and the report holds
/// measured times, so its length may differ by a few bytes from one call to the next:
/// allocate the size returned plus some slack (256 bytes is plenty), or size generously up
/// front to avoid a second run.
///
/// # Safety
///
/// `d` must be NULL or a live dataset handle; `config_json` and `cv_json` NULL or
/// NUL-terminated strings (`cv_json` may be NULL); `report_json` NULL or `buf_len` writable
/// chars; `out_len` NULL or a valid pointer to a writable `size_t`.
#[no_mangle]
pub unsafe extern "C" fn amlis_cross_validate(
    d: *const AmlisDataset,
    config_json: *const c_char,
    cv_json: *const c_char,
    report_json: *mut c_char,
    buf_len: usize,
    out_len: *mut usize,
) -> AmlisStatus {
    boundary::run("amlis_cross_validate", || {
        // SAFETY: the caller guarantees each pointer is NULL or valid as documented above.
        let (d, config, cv, out) = unsafe {
            (
                arg_ref(d, "d")?,
                arg_str(config_json, "config_json")?,
                boundary::arg_opt_str(cv_json, "cv_json")?,
                OutBuffer::new(report_json, buf_len, "report_json", out_len, "out_len")?,
            )
        };
        let (table, target, weights) = training_table(d.contents())?;
        if let Some(w) = weights {
            return Err(Error::Unsupported(format!(
                "amlis_cross_validate does not use sample weights yet; read the dataset without \
                 `weights` (it names column `{w}`)"
            ))
            .into());
        }
        let report = crate::evaluate::selection::cross_validate_json(
            &table,
            &target,
            config,
            cv.unwrap_or("{}"),
        )?;
        out.fill_str(&report)
    })
}
