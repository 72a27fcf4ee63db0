//! Dataset handles: `AmlisDataset`, built from a CSV file or from dense arrays.

use std::borrow::Cow;
use std::collections::HashMap;
use std::ffi::c_char;
use std::sync::Arc;

use ndarray::{Array1, Array2};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::data::{
    format_label, mark_unlabeled, read_csv, ColumnKind, CsvOptions, DenseDataset, Table, Task,
    TaskKind,
};
use crate::error::{Error, Result};
use crate::service::ffi::boundary::{
    self, arg_opt_str, arg_ref, arg_slice, arg_str, checked_len, free_handle, into_handle, Out,
};
use crate::service::ffi::status::AmlisStatus;
use crate::traits::Dataset;

/// An opaque dataset handle.
///
/// Made by `amlis_dataset_from_csv` or `amlis_dataset_from_dense`, freed by
/// `amlis_dataset_free`. It is immutable once made, so a `const AmlisDataset *` may be used
/// from several threads at once. (In Rust, its contents are shared through an `Arc`, so models
/// and other handles can keep them without a copy.)
pub struct AmlisDataset {
    contents: Arc<DatasetContents>,
}

impl AmlisDataset {
    /// The shared contents of this handle.
    pub fn contents(&self) -> &Arc<DatasetContents> {
        &self.contents
    }
}

/// What a dataset handle holds: the table as read (when it came from a CSV file, with its
/// categorical columns), the names of its target and weight columns, and the dense dataset of
/// features, targets and weights built from it.
#[derive(Debug, Clone)]
pub struct DatasetContents {
    table: Option<Table>,
    target: Option<String>,
    weights: Option<String>,
    dense: DenseDataset,
}

impl DatasetContents {
    /// The full table as read, including the target and weight columns; `None` for a dataset
    /// made from dense arrays.
    pub fn table(&self) -> Option<&Table> {
        self.table.as_ref()
    }

    /// The feature columns of the table: the table without its target and weight columns.
    pub fn feature_table(&self) -> Option<Result<Table>> {
        let table = self.table.as_ref()?;
        let exclude: Vec<&str> = [self.target.as_deref(), self.weights.as_deref()]
            .into_iter()
            .flatten()
            .collect();
        Some(table.drop(&exclude))
    }

    /// The target column name, when the dataset has one and came from a table.
    pub fn target_name(&self) -> Option<&str> {
        self.target.as_deref()
    }

    /// The sample-weight column name, when one was given.
    pub fn weights_name(&self) -> Option<&str> {
        self.weights.as_deref()
    }

    /// The dense dataset (features without target and weights; categorical columns as codes).
    pub fn dense(&self) -> &DenseDataset {
        &self.dense
    }

    /// The dense dataset for a task: targets given as plain numbers (a dense dataset from C,
    /// or a numeric CSV target read with `"task": "auto"`) become class indices for
    /// [`TaskKind::Classification`], labelled with their values and sorted numerically as
    /// scikit-learn sorts `classes_`. Asking for regression on class labels is an error.
    pub fn dense_for(&self, kind: TaskKind) -> Result<Cow<'_, DenseDataset>> {
        match (kind, self.dense.task()) {
            (TaskKind::Auto, _)
            | (TaskKind::Classification, Task::Classification { .. })
            | (TaskKind::Regression, Task::Regression) => Ok(Cow::Borrowed(&self.dense)),
            (TaskKind::Classification, Task::Regression) => {
                Ok(Cow::Owned(numbers_as_classes(&self.dense)?))
            }
            (_, Task::Unsupervised) => Err(Error::InvalidArgument(
                "the dataset has no target; give one (`target` in the CSV options, or `y`)".into(),
            )),
            (TaskKind::Regression, Task::Classification { .. }) => Err(Error::ColumnKind {
                column: self.target.clone().unwrap_or_else(|| "y".into()),
                context: "regression target".into(),
                found: "class labels".into(),
                expected: "a numeric target".into(),
            }),
        }
    }
}

/// Maps numeric targets to class indices, classes sorted numerically.
fn numbers_as_classes(dense: &DenseDataset) -> Result<DenseDataset> {
    let y = dense
        .targets()
        .ok_or_else(|| Error::InvalidArgument("no targets".into()))?;
    if let Some(row) = y.iter().position(|v| v.is_infinite()) {
        return Err(Error::InvalidValue {
            context: "classification target".into(),
            row,
            column: None,
            message: format!(
                "{} is not a class label (labels must be finite; NaN marks an unlabeled row)",
                y[row]
            ),
        });
    }
    // NaN marks an unlabeled row: it stays NaN and is no class.
    let mut values: Vec<f64> = y.iter().copied().filter(|v| !v.is_nan()).collect();
    values.sort_by(f64::total_cmp);
    values.dedup();
    let codes: Array1<f64> = y
        .iter()
        .map(|v| {
            if v.is_nan() {
                f64::NAN
            } else {
                values.partition_point(|c| c < v) as f64
            }
        })
        .collect();
    let classes = values.iter().map(|&v| format_label(v)).collect();
    let (x, _, w) = dense.clone().into_parts();
    let mut out = DenseDataset::new(x, Some(codes), Task::Classification { classes })?
        .with_feature_names(dense.feature_names().to_vec())?;
    if let Some(w) = w {
        out = out.with_weights(w)?;
    }
    Ok(out)
}

/// The keys of `options_json` in `amlis_dataset_from_csv`.
const CSV_OPTION_KEYS: &[&str] = &[
    "target",
    "task",
    "weights",
    "delimiter",
    "quote",
    "missing",
    "column_kinds",
    "unlabeled_token",
];

/// The options of `amlis_dataset_from_csv`, parsed from JSON.
#[derive(Debug, Default)]
struct CsvDatasetOptions {
    target: Option<String>,
    task: Option<TaskKind>,
    weights: Option<String>,
    unlabeled_token: Option<String>,
    csv: CsvOptions,
}

fn config_error(key: &str, message: impl Into<String>) -> Error {
    Error::Config {
        key: key.to_string(),
        message: message.into(),
    }
}

fn field<T: DeserializeOwned>(key: &str, value: Value) -> Result<T> {
    serde_json::from_value(value).map_err(|e| config_error(key, e.to_string()))
}

fn single_byte(key: &str, value: Value) -> Result<u8> {
    let s: String = field(key, value)?;
    match s.as_bytes() {
        [b] if b.is_ascii() => Ok(*b),
        _ => Err(config_error(
            key,
            format!("expected a single ASCII character, found {s:?}"),
        )),
    }
}

/// Parses `options_json`; every key is checked, and an unknown key or a wrong type is a
/// [`Error::Config`] naming the key.
fn parse_csv_options(json: Option<&str>) -> Result<CsvDatasetOptions> {
    let mut options = CsvDatasetOptions::default();
    let Some(json) = json else {
        return Ok(options);
    };
    let value: Value = serde_json::from_str(json)
        .map_err(|e| config_error("options_json", format!("not valid JSON: {e}")))?;
    let Value::Object(map) = value else {
        return Err(config_error(
            "options_json",
            "expected a JSON object such as {\"target\": \"species\"}",
        ));
    };
    for (key, value) in map {
        match key.as_str() {
            "target" => options.target = Some(field(&key, value)?),
            "task" => options.task = Some(field(&key, value)?),
            "weights" => options.weights = Some(field(&key, value)?),
            "unlabeled_token" => options.unlabeled_token = Some(field(&key, value)?),
            "delimiter" => options.csv.delimiter = single_byte(&key, value)?,
            "quote" => options.csv.quote = single_byte(&key, value)?,
            "missing" => options.csv.missing_tokens = field(&key, value)?,
            "column_kinds" => {
                options.csv.column_kinds = field::<HashMap<String, ColumnKind>>(&key, value)?
            }
            _ => {
                return Err(config_error(
                    &key,
                    format!(
                        "unknown key; expected one of {}",
                        CSV_OPTION_KEYS.join(", ")
                    ),
                ))
            }
        }
    }
    if options.task.is_some() && options.target.is_none() {
        return Err(config_error("task", "a task needs a `target` column"));
    }
    if options.unlabeled_token.is_some() && options.target.is_none() {
        return Err(config_error(
            "unlabeled_token",
            "an unlabeled token marks cells of the `target` column; name the target",
        ));
    }
    Ok(options)
}

/// Checks that a column named by an option exists, as a config error naming the key.
fn check_option_column(table: &Table, key: &str, name: &str, path: &str) -> Result<()> {
    if table.names().iter().any(|n| n == name) {
        return Ok(());
    }
    Err(config_error(
        key,
        format!(
            "column `{name}` is not in `{path}`; its columns are: {}",
            table.names().join(", ")
        ),
    ))
}

/// Reads a CSV file into dataset contents (the Rust side of `amlis_dataset_from_csv`).
fn contents_from_csv(path: &str, options_json: Option<&str>) -> Result<DatasetContents> {
    let options = parse_csv_options(options_json)?;
    let mut table = read_csv(path, &options.csv)?;
    let target = options.target.as_deref();
    if let (Some(t), Some(token)) = (target, options.unlabeled_token.as_deref()) {
        check_option_column(&table, "target", t, path)?;
        table = mark_unlabeled(&table, t, token)?;
    }
    let weights = options.weights.as_deref();
    if let Some(t) = target {
        check_option_column(&table, "target", t, path)?;
    }
    if let Some(w) = weights {
        check_option_column(&table, "weights", w, path)?;
        if target == Some(w) {
            return Err(config_error(
                "weights",
                format!("column `{w}` is already the target"),
            ));
        }
    }
    let dense = match target {
        Some(t) => DenseDataset::from_table_with_weights(
            &table,
            t,
            options.task.unwrap_or_default(),
            weights,
        )?,
        None => {
            let features = DenseDataset::features_from_table(
                &table.drop(&weights.into_iter().collect::<Vec<_>>())?,
            )?;
            match weights {
                None => features,
                Some(w) => features.with_weights(numeric_column(&table, w)?)?,
            }
        }
    };
    Ok(DatasetContents {
        target: options.target,
        weights: options.weights,
        table: Some(table),
        dense,
    })
}

fn numeric_column(table: &Table, name: &str) -> Result<Array1<f64>> {
    let col = table.column(name)?;
    let values = col.as_numeric().ok_or_else(|| Error::ColumnKind {
        column: name.to_string(),
        context: "sample weights".into(),
        found: col.kind().to_string(),
        expected: ColumnKind::Numeric.to_string(),
    })?;
    Ok(Array1::from(values.to_vec()))
}

/// Builds dataset contents from row-major features and optional targets (the Rust side of
/// `amlis_dataset_from_dense`). Targets are kept as numbers ([`Task::Regression`]); a trainer
/// that classifies turns them into classes with [`DatasetContents::dense_for`].
fn contents_from_dense(
    x: &[f64],
    n_rows: usize,
    n_cols: usize,
    y: Option<&[f64]>,
) -> Result<DatasetContents> {
    if n_rows == 0 || n_cols == 0 {
        return Err(Error::Empty(format!(
            "amlis_dataset_from_dense: n_rows = {n_rows}, n_cols = {n_cols}; a dataset needs at \
             least one row and one column"
        )));
    }
    let x = Array2::from_shape_vec((n_rows, n_cols), x.to_vec())
        .map_err(|e| Error::shape("x", format!("{n_rows} x {n_cols} values"), e))?;
    let dense = match y {
        None => DenseDataset::unsupervised(x)?,
        Some(y) => {
            if y.len() != n_rows {
                return Err(Error::shape(
                    "y",
                    format!("y_len = n_rows = {n_rows}"),
                    format!("y_len = {}", y.len()),
                ));
            }
            DenseDataset::regression(x, Array1::from(y.to_vec()))?
        }
    };
    Ok(DatasetContents {
        table: None,
        target: None,
        weights: None,
        dense,
    })
}

fn into_dataset_handle(contents: DatasetContents) -> *mut AmlisDataset {
    into_handle(AmlisDataset {
        contents: Arc::new(contents),
    })
}

/// Reads a CSV file (header row; numeric or categorical columns inferred) into a new dataset.
///
/// `options_json` is NULL or a JSON object with any of these keys (others are
/// `AMLIS_CONFIG_ERROR` naming the key):
/// - `"target"`: the target column (without it the dataset has features only);
/// - `"task"`: `"auto"` (default: categorical target = classification, numeric = regression),
///   `"classification"` or `"regression"`;
/// - `"weights"`: a numeric sample-weight column;
/// - `"delimiter"`, `"quote"`: one ASCII character each (default `","` and `"\""`);
/// - `"missing"`: the cell texts that mean missing (default `"", "NA", "N/A", "NaN", "nan",
///   "null", "NULL", "?"`);
/// - `"column_kinds"`: `{"column": "numeric" | "categorical"}` overriding inference;
/// - `"unlabeled_token"`: a target cell text that marks an unlabeled row (`"-1"`, as
///   scikit-learn marks them); a missing target cell marks one too, for a classification
///   target. Only the semi-supervised models (`label_propagation`, `label_spreading`,
///   `self_training_classifier`) train on unlabeled rows; the others refuse them naming the
///   count and the first row.
///
/// The target and weight columns are not features. On success `*out` receives a new handle to
/// free with `amlis_dataset_free`; on failure `*out` is not written. A missing or unreadable
/// file is `AMLIS_IO_ERROR`; malformed CSV is `AMLIS_INVALID_ARGUMENT`.
///
/// # Safety
///
/// `path` must be NULL or a NUL-terminated string; `options_json` NULL or a NUL-terminated
/// string; `out` NULL or a valid pointer to writable `AmlisDataset *` storage.
#[no_mangle]
pub unsafe extern "C" fn amlis_dataset_from_csv(
    path: *const c_char,
    options_json: *const c_char,
    out: *mut *mut AmlisDataset,
) -> AmlisStatus {
    boundary::run("amlis_dataset_from_csv", || {
        // SAFETY: the caller guarantees each pointer is NULL or valid as documented above.
        let (path, options, out) = unsafe {
            (
                arg_str(path, "path")?,
                arg_opt_str(options_json, "options_json")?,
                Out::new(out, "out")?,
            )
        };
        let contents = contents_from_csv(path, options)?;
        out.write(into_dataset_handle(contents));
        Ok(())
    })
}

/// Makes a dataset from a row-major `n_rows x n_cols` matrix `x` and optional targets `y`.
///
/// `y` is NULL (features only; `y_len` is ignored) or holds `y_len == n_rows` values
/// (otherwise `AMLIS_SHAPE_MISMATCH`). Targets are numbers: a classifier trained on the
/// dataset takes their distinct values, sorted, as its classes; a `NaN` target marks an
/// unlabeled row (for the semi-supervised models). `n_rows` and `n_cols` must be
/// at least 1, and `n_rows * n_cols` must not overflow (`AMLIS_INVALID_ARGUMENT`). The data are
/// copied: the caller may free `x` and `y` after the call. On success `*out` receives a new
/// handle to free with `amlis_dataset_free`; on failure `*out` is not written.
///
/// # Safety
///
/// `x` must be NULL or point to `n_rows * n_cols` readable, aligned doubles; `y` NULL or point
/// to `y_len` readable doubles; `out` NULL or a valid pointer to writable `AmlisDataset *`
/// storage.
#[no_mangle]
pub unsafe extern "C" fn amlis_dataset_from_dense(
    x: *const f64,
    n_rows: usize,
    n_cols: usize,
    y: *const f64,
    y_len: usize,
    out: *mut *mut AmlisDataset,
) -> AmlisStatus {
    boundary::run("amlis_dataset_from_dense", || {
        let len = checked_len::<f64>(n_rows, "n_rows", n_cols, "n_cols")?;
        // SAFETY: the caller guarantees `x` holds n_rows * n_cols doubles, `y` (when not NULL)
        // y_len doubles, and `out` is NULL or writable.
        let (x, y, out) = unsafe {
            (
                arg_slice(x, len, "x")?,
                if y.is_null() {
                    None
                } else {
                    Some(arg_slice(y, y_len, "y")?)
                },
                Out::new(out, "out")?,
            )
        };
        let contents = contents_from_dense(x, n_rows, n_cols, y)?;
        out.write(into_dataset_handle(contents));
        Ok(())
    })
}

/// Writes the dataset's shape: rows, and feature columns (the target and weight columns are
/// not counted; a categorical column counts as one). Nothing is written on failure.
///
/// # Safety
///
/// `d` must be NULL or a live handle from `amlis_dataset_from_*`; `n_rows` and `n_cols` NULL
/// or valid pointers to writable `size_t`.
#[no_mangle]
pub unsafe extern "C" fn amlis_dataset_shape(
    d: *const AmlisDataset,
    n_rows: *mut usize,
    n_cols: *mut usize,
) -> AmlisStatus {
    boundary::run("amlis_dataset_shape", || {
        // SAFETY: the caller guarantees `d` is NULL or live, and the out-pointers NULL or
        // writable.
        let (d, rows, cols) = unsafe {
            (
                arg_ref(d, "d")?,
                Out::new(n_rows, "n_rows")?,
                Out::new(n_cols, "n_cols")?,
            )
        };
        let dense = d.contents.dense();
        rows.write(dense.n_samples());
        cols.write(dense.n_features());
        Ok(())
    })
}

/// Frees a dataset handle. NULL does nothing. Models trained from the dataset stay valid.
///
/// # Safety
///
/// `d` must be NULL or a handle from `amlis_dataset_from_*` that has not been freed; it must
/// not be used afterwards, nor be in use by another thread during the call.
#[no_mangle]
pub unsafe extern "C" fn amlis_dataset_free(d: *mut AmlisDataset) {
    boundary::run_void("amlis_dataset_free", || {
        // SAFETY: the caller guarantees `d` is NULL or an unfreed handle made by into_handle.
        unsafe { free_handle(d) }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_parse_and_name_bad_keys() {
        let o = parse_csv_options(Some(
            r#"{"target": "y", "task": "regression", "delimiter": ";", "missing": ["-"],
                "column_kinds": {"a": "categorical"}}"#,
        ))
        .unwrap();
        assert_eq!(o.target.as_deref(), Some("y"));
        assert_eq!(o.task, Some(TaskKind::Regression));
        assert_eq!(o.csv.delimiter, b';');
        assert_eq!(o.csv.missing_tokens, vec!["-".to_string()]);
        assert_eq!(o.csv.column_kinds["a"], ColumnKind::Categorical);

        let msg = |json: &str| parse_csv_options(Some(json)).unwrap_err().to_string();
        assert!(msg(r#"{"tagret": "y"}"#).contains("`tagret`"));
        assert!(msg(r#"{"tagret": "y"}"#).contains("unknown key"));
        assert!(msg(r#"{"target": 3}"#).starts_with("config error at `target`"));
        assert!(msg(r#"{"target": "y", "task": "cluster"}"#).contains("`task`"));
        assert!(msg(r#"{"delimiter": ";;"}"#).contains("single ASCII character"));
        assert!(msg("[1]").contains("JSON object"));
        assert!(msg("{").contains("not valid JSON"));
        assert!(msg(r#"{"task": "regression"}"#).contains("needs a `target`"));
    }

    #[test]
    fn dense_contents_and_classes_from_numbers() {
        let x = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        let c = contents_from_dense(&x, 3, 2, Some(&[2.5, -1.0, 2.5])).unwrap();
        assert_eq!(c.dense().n_samples(), 3);
        assert_eq!(c.dense().n_features(), 2);
        assert!(c.table().is_none());
        let cls = c.dense_for(TaskKind::Classification).unwrap();
        assert_eq!(cls.task().classes(), &["-1", "2.5"]);
        assert_eq!(cls.targets().unwrap().to_vec(), vec![1.0, 0.0, 1.0]);

        let e = contents_from_dense(&x, 3, 2, Some(&[1.0, 2.0])).unwrap_err();
        assert!(matches!(e, Error::Shape { .. }), "{e}");
        let e = contents_from_dense(&[], 0, 2, None).unwrap_err();
        assert!(matches!(e, Error::Empty(_)), "{e}");
        let u = contents_from_dense(&x, 2, 3, None).unwrap();
        assert!(u.dense_for(TaskKind::Regression).is_err());
    }

    #[test]
    fn missing_csv_is_io_error() {
        let e = contents_from_csv("/nonexistent/amlis.csv", None).unwrap_err();
        assert_eq!(AmlisStatus::of(&e), AmlisStatus::AMLIS_IO_ERROR);
    }
}
