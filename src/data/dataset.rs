//! Datasets: a dense feature matrix with targets, weights and their description, built from a
//! [`Table`] by naming the target column, and cheap index views of it.
//!
//! ```
//! use amlis::data::{DenseDataset, TaskKind};
//! use amlis::traits::Dataset;
//!
//! let table = amlis::data::datasets::iris_table()?;
//! let data = DenseDataset::from_table(&table, "species", TaskKind::Classification)?;
//! assert_eq!((data.n_samples(), data.n_features()), (150, 4));
//! assert_eq!(data.task().classes(), &["setosa", "versicolor", "virginica"]);
//! # Ok::<(), amlis::Error>(())
//! ```

use ndarray::{Array1, Array2, ArrayView1, ArrayView2};
use serde::{Deserialize, Serialize};

use crate::data::table::{CategoricalColumn, Column, ColumnKind, Table, MISSING_CODE};
use crate::error::{Error, Result};
use crate::traits::Dataset;

/// What a feature column of a dataset holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FeatureKind {
    /// A real value (`NaN` = missing).
    Numeric,
    /// A category code `0..categories.len()` stored as `f64` (`NaN` = missing).
    Categorical {
        /// The category labels; code `i` is `categories[i]`.
        categories: Vec<String>,
    },
}

/// The learning task of a dataset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Task {
    /// Targets are class indices into `classes` (sorted as scikit-learn sorts `classes_`).
    Classification {
        /// The class labels.
        classes: Vec<String>,
    },
    /// Targets are real values.
    Regression,
    /// No targets (clustering, decomposition).
    Unsupervised,
}

impl Task {
    /// The class labels (empty unless classification).
    pub fn classes(&self) -> &[String] {
        match self {
            Task::Classification { classes } => classes,
            _ => &[],
        }
    }

    /// True for classification.
    pub fn is_classification(&self) -> bool {
        matches!(self, Task::Classification { .. })
    }
}

/// Which task to build from a target column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskKind {
    /// Categorical target: classification; numeric target: regression.
    #[default]
    Auto,
    /// Map target values to class indices.
    Classification,
    /// Numeric target values.
    Regression,
}

/// Formats a numeric class label as scikit-learn would print it (integers without `.0`).
pub fn format_label(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

/// An owned dataset: features (row-major `n_samples × n_features`), optional targets and
/// weights, feature names and kinds, and the task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DenseDataset {
    x: Array2<f64>,
    y: Option<Array1<f64>>,
    w: Option<Array1<f64>>,
    feature_names: Vec<String>,
    feature_kinds: Vec<FeatureKind>,
    task: Task,
}

impl DenseDataset {
    /// A dataset from arrays. Feature names default to `x0, x1, ...`, all numeric.
    ///
    /// For [`Task::Classification`] every target must be a class index in `0..classes.len()`
    /// (or `NaN` for an unlabelled row).
    pub fn new(x: Array2<f64>, y: Option<Array1<f64>>, task: Task) -> Result<Self> {
        let names = (0..x.ncols()).map(|j| format!("x{j}")).collect();
        let kinds = vec![FeatureKind::Numeric; x.ncols()];
        let ds = Self {
            x,
            y,
            w: None,
            feature_names: names,
            feature_kinds: kinds,
            task,
        };
        ds.validate()?;
        Ok(ds)
    }

    /// A regression dataset from a matrix and a target vector.
    pub fn regression(x: Array2<f64>, y: Array1<f64>) -> Result<Self> {
        Self::new(x, Some(y), Task::Regression)
    }

    /// A classification dataset from a matrix and class indices `0..n_classes` (labels are
    /// the indices as text). A `NaN` target marks an unlabeled row (semi-supervised
    /// learning).
    pub fn classification(x: Array2<f64>, y: Array1<f64>) -> Result<Self> {
        let mut max = -1.0f64;
        for (i, &v) in y.iter().enumerate() {
            if v.is_nan() {
                continue;
            }
            if !(v >= 0.0 && v.fract() == 0.0) {
                return Err(Error::InvalidValue {
                    context: "classification targets".into(),
                    row: i,
                    column: None,
                    message: format!("{v} is not a class index (a whole number >= 0)"),
                });
            }
            max = max.max(v);
        }
        let classes = (0..(max + 1.0) as usize).map(|c| c.to_string()).collect();
        Self::new(x, Some(y), Task::Classification { classes })
    }

    /// An unsupervised dataset (no targets).
    pub fn unsupervised(x: Array2<f64>) -> Result<Self> {
        Self::new(x, None, Task::Unsupervised)
    }

    /// Builds a dataset from a table by naming its target column; every other column becomes
    /// a feature (categorical columns as category codes, see [`FeatureKind`]).
    ///
    /// Classification labels are sorted as scikit-learn sorts `classes_` (numerically for a
    /// numeric column, lexicographically for strings). A missing classification target (an
    /// empty cell, `NaN`) marks an unlabeled row, stored as a `NaN` target (see
    /// [`unlabeled_rows`]; [`mark_unlabeled`] turns a token such as `"-1"` into missing
    /// cells first); a missing regression target is an error naming the row.
    pub fn from_table(table: &Table, target: &str, task: TaskKind) -> Result<Self> {
        Self::from_table_with_weights(table, target, task, None)
    }

    /// Like [`from_table`](Self::from_table), with an optional numeric sample-weight column
    /// (non-negative, finite) that is not used as a feature.
    pub fn from_table_with_weights(
        table: &Table,
        target: &str,
        task: TaskKind,
        weights: Option<&str>,
    ) -> Result<Self> {
        let target_col = table.column(target)?;
        let (y, task) = encode_target(target, target_col, task)?;
        let w = match weights {
            None => None,
            Some(name) => Some(weight_column(table, name)?),
        };
        let mut exclude = vec![target];
        if let Some(name) = weights {
            exclude.push(name);
        }
        let features = table.drop(&exclude)?;
        let mut ds = Self::features_from_table(&features)?;
        ds.y = Some(y);
        ds.w = w;
        ds.task = task;
        ds.validate()?;
        Ok(ds)
    }

    /// An unsupervised dataset from every column of a table.
    pub fn features_from_table(table: &Table) -> Result<Self> {
        let n = table.n_rows();
        let p = table.n_columns();
        let mut x = Array2::<f64>::zeros((n, p));
        let mut kinds = Vec::with_capacity(p);
        for (j, (_, col)) in table.iter().enumerate() {
            let mut dst = x.column_mut(j);
            match col {
                Column::Numeric(v) => {
                    for (d, s) in dst.iter_mut().zip(v) {
                        *d = *s;
                    }
                    kinds.push(FeatureKind::Numeric);
                }
                Column::Categorical(c) => {
                    for (d, &code) in dst.iter_mut().zip(c.codes()) {
                        *d = if code == MISSING_CODE {
                            f64::NAN
                        } else {
                            code as f64
                        };
                    }
                    kinds.push(FeatureKind::Categorical {
                        categories: c.categories().to_vec(),
                    });
                }
            }
        }
        Ok(Self {
            x,
            y: None,
            w: None,
            feature_names: table.names().to_vec(),
            feature_kinds: kinds,
            task: Task::Unsupervised,
        })
    }

    /// Replaces the feature names (one per column).
    pub fn with_feature_names(mut self, names: Vec<String>) -> Result<Self> {
        if names.len() != self.x.ncols() {
            return Err(Error::shape(
                "feature names",
                format!("{} names", self.x.ncols()),
                names.len(),
            ));
        }
        self.feature_names = names;
        Ok(self)
    }

    /// Sets sample weights (one per row, finite and non-negative).
    pub fn with_weights(mut self, w: Array1<f64>) -> Result<Self> {
        self.w = Some(w);
        self.validate()?;
        Ok(self)
    }

    /// Sets the class labels of a classification dataset (one per class index).
    pub fn with_classes(mut self, classes: Vec<String>) -> Result<Self> {
        self.task = Task::Classification { classes };
        self.validate()?;
        Ok(self)
    }

    /// A view of the rows at `indices` (no copy of the data).
    pub fn view(&self, indices: Vec<usize>) -> Result<DatasetView<'_>> {
        DatasetView::new(self, indices)
    }

    /// Consumes the dataset into its feature matrix and targets.
    pub fn into_parts(self) -> (Array2<f64>, Option<Array1<f64>>, Option<Array1<f64>>) {
        (self.x, self.y, self.w)
    }

    fn validate(&self) -> Result<()> {
        let n = self.x.nrows();
        if let Some(y) = &self.y {
            if y.len() != n {
                return Err(Error::shape("targets", format!("{n} values"), y.len()));
            }
            if let Task::Classification { classes } = &self.task {
                for (i, &v) in y.iter().enumerate() {
                    if v.is_nan() {
                        continue;
                    }
                    if !(v >= 0.0 && v.fract() == 0.0 && (v as usize) < classes.len()) {
                        return Err(Error::InvalidValue {
                            context: "classification targets".into(),
                            row: i,
                            column: None,
                            message: format!("{v} is not a class index in 0..{}", classes.len()),
                        });
                    }
                }
            }
        }
        if let Some(w) = &self.w {
            if w.len() != n {
                return Err(Error::shape(
                    "sample weights",
                    format!("{n} values"),
                    w.len(),
                ));
            }
            if let Some(i) = w.iter().position(|v| !(v.is_finite() && *v >= 0.0)) {
                return Err(Error::InvalidValue {
                    context: "sample weights".into(),
                    row: i,
                    column: None,
                    message: format!("{} is not a finite non-negative weight", w[i]),
                });
            }
        }
        if self.feature_names.len() != self.x.ncols() || self.feature_kinds.len() != self.x.ncols()
        {
            return Err(Error::shape(
                "feature names and kinds",
                self.x.ncols(),
                self.feature_names.len(),
            ));
        }
        Ok(())
    }
}

pub(crate) fn weight_column(table: &Table, name: &str) -> Result<Array1<f64>> {
    let col = table.column(name)?;
    let v = col.as_numeric().ok_or_else(|| Error::ColumnKind {
        column: name.to_string(),
        context: "sample weights".into(),
        found: col.kind().to_string(),
        expected: ColumnKind::Numeric.to_string(),
    })?;
    Ok(Array1::from(v.to_vec()))
}

/// The unlabeled rows of `data` (targets that are `NaN`): their count and the first of them
/// (a position in `data`), or `None` when every row is labelled or there are no targets.
pub fn unlabeled_rows(data: &dyn Dataset) -> Option<(usize, usize)> {
    let y = data.base_targets()?;
    let n = data.n_samples();
    // Whether the target at base position `b` is NaN; the rows' positions are read from the
    // index slice (no call per row).
    let nan_at = |b: Option<usize>| b.and_then(|b| y.get(b)).is_some_and(|v| v.is_nan());
    match data.sample_indices() {
        None => count_and_first((0..n).map(|i| nan_at(Some(i)))),
        Some(idx) => count_and_first((0..n).map(|i| nan_at(idx.get(i).copied()))),
    }
}

/// How many of `flags` are true, and the position of the first, or `None` when none is.
fn count_and_first(flags: impl Iterator<Item = bool>) -> Option<(usize, usize)> {
    let mut count = 0usize;
    let mut first = None;
    for (i, f) in flags.enumerate() {
        if f {
            count += 1;
            first.get_or_insert(i);
        }
    }
    first.map(|f| (count, f))
}

/// A copy of `table` whose cells of column `target` equal to `token` are missing: the way a
/// file marks an unlabeled row with a value such as `"-1"` (scikit-learn's convention) or
/// `"unknown"`. A numeric column compares numerically (`"-1"` matches `-1.0`), a categorical
/// one by text.
///
/// ```
/// use amlis::data::{mark_unlabeled, unlabeled_rows, Column, DenseDataset, Table, TaskKind};
/// use amlis::traits::Dataset;
///
/// let table = Table::new(vec![
///     ("x".into(), Column::numeric(vec![0.0, 1.0, 2.0])),
///     ("y".into(), Column::numeric(vec![0.0, -1.0, 1.0])),
/// ])?;
/// let table = mark_unlabeled(&table, "y", "-1")?;
/// let data = DenseDataset::from_table(&table, "y", TaskKind::Classification)?;
/// assert_eq!(data.task().classes(), &["0", "1"]);
/// assert_eq!(unlabeled_rows(&data), Some((1, 1)));
/// # Ok::<(), amlis::Error>(())
/// ```
pub fn mark_unlabeled(table: &Table, target: &str, token: &str) -> Result<Table> {
    let column = match table.column(target)? {
        Column::Numeric(v) => {
            let Ok(value) = token.trim().parse::<f64>() else {
                return Err(Error::param(
                    "unlabeled_token",
                    token,
                    &format!("a number, since the target column `{target}` is numeric"),
                ));
            };
            Column::Numeric(
                v.iter()
                    .map(|&x| if x == value { f64::NAN } else { x })
                    .collect(),
            )
        }
        Column::Categorical(c) => {
            let cells: Vec<Option<&str>> = c.iter().map(|v| v.filter(|s| *s != token)).collect();
            Column::Categorical(CategoricalColumn::from_values(&cells))
        }
    };
    let mut out = table.clone();
    out.replace_column(target, column)?;
    Ok(out)
}

fn missing_target(name: &str, row: usize) -> Error {
    Error::InvalidValue {
        context: "target".into(),
        row,
        column: Some(name.to_string()),
        message: "the target is missing; drop or impute unlabelled rows first".into(),
    }
}

pub(crate) fn encode_target(
    name: &str,
    col: &Column,
    kind: TaskKind,
) -> Result<(Array1<f64>, Task)> {
    match (col, kind) {
        (Column::Numeric(v), TaskKind::Regression | TaskKind::Auto) => {
            // Read as it comes (`Auto`), a missing number stays `NaN`: the target may still
            // be read as class labels with unlabeled rows, and a trainer that needs every
            // label refuses it by name.
            if let Some(i) = v.iter().position(|x| x.is_nan()) {
                if kind == TaskKind::Regression {
                    return Err(missing_target(name, i));
                }
            }
            if let Some(i) = v.iter().position(|x| x.is_infinite()) {
                return Err(Error::InvalidValue {
                    context: "target".into(),
                    row: i,
                    column: Some(name.to_string()),
                    message: "the target is infinite".into(),
                });
            }
            Ok((Array1::from(v.clone()), Task::Regression))
        }
        (Column::Numeric(v), TaskKind::Classification) => {
            if let Some(i) = v.iter().position(|x| x.is_infinite()) {
                return Err(Error::InvalidValue {
                    context: "target".into(),
                    row: i,
                    column: Some(name.to_string()),
                    message: "the class label is infinite".into(),
                });
            }
            // NaN marks an unlabeled row: it is no class.
            let mut uniq: Vec<f64> = v.iter().copied().filter(|x| !x.is_nan()).collect();
            uniq.sort_by(f64::total_cmp);
            uniq.dedup();
            let y = v
                .iter()
                .map(|x| {
                    if x.is_nan() {
                        f64::NAN
                    } else {
                        uniq.partition_point(|u| u < x) as f64
                    }
                })
                .collect::<Vec<_>>();
            let classes = uniq.into_iter().map(format_label).collect();
            Ok((Array1::from(y), Task::Classification { classes }))
        }
        (Column::Categorical(c), TaskKind::Classification | TaskKind::Auto) => {
            let mut order: Vec<usize> = (0..c.categories().len()).collect();
            order.sort_by(|&a, &b| c.categories()[a].cmp(&c.categories()[b]));
            let mut rank = vec![0usize; order.len()];
            for (r, &o) in order.iter().enumerate() {
                rank[o] = r;
            }
            let mut y = Vec::with_capacity(c.len());
            for &code in c.codes() {
                // A missing cell (no category) marks an unlabeled row.
                y.push(rank.get(code as usize).map_or(f64::NAN, |&r| r as f64));
            }
            let classes = order.iter().map(|&o| c.categories()[o].clone()).collect();
            Ok((Array1::from(y), Task::Classification { classes }))
        }
        (Column::Categorical(_), TaskKind::Regression) => Err(Error::ColumnKind {
            column: name.to_string(),
            context: "regression target".into(),
            found: ColumnKind::Categorical.to_string(),
            expected: ColumnKind::Numeric.to_string(),
        }),
    }
}

impl Dataset for DenseDataset {
    fn n_samples(&self) -> usize {
        self.x.nrows()
    }
    fn n_features(&self) -> usize {
        self.x.ncols()
    }
    fn base_features(&self) -> ArrayView2<'_, f64> {
        self.x.view()
    }
    fn base_targets(&self) -> Option<ArrayView1<'_, f64>> {
        self.y.as_ref().map(|y| y.view())
    }
    fn base_weights(&self) -> Option<ArrayView1<'_, f64>> {
        self.w.as_ref().map(|w| w.view())
    }
    fn sample_indices(&self) -> Option<&[usize]> {
        None
    }
    fn feature_names(&self) -> &[String] {
        &self.feature_names
    }
    fn feature_kinds(&self) -> &[FeatureKind] {
        &self.feature_kinds
    }
    fn task(&self) -> &Task {
        &self.task
    }
}

/// A subset of the rows of a [`DenseDataset`], by index, without copying the data.
#[derive(Debug, Clone)]
pub struct DatasetView<'a> {
    base: &'a DenseDataset,
    indices: Vec<usize>,
}

impl<'a> DatasetView<'a> {
    /// A view of `base` holding the rows at `indices` (each must be `< base.n_samples()`).
    pub fn new(base: &'a DenseDataset, indices: Vec<usize>) -> Result<Self> {
        let n = base.n_samples();
        if let Some(&bad) = indices.iter().find(|&&i| i >= n) {
            return Err(Error::shape(
                "dataset view",
                format!("row indices < {n}"),
                bad,
            ));
        }
        Ok(Self { base, indices })
    }

    /// The dataset this view reads from.
    pub fn base(&self) -> &'a DenseDataset {
        self.base
    }

    /// Copies the selected rows into an owned dataset.
    pub fn to_dense(&self) -> DenseDataset {
        DenseDataset {
            x: self.features().into_owned(),
            y: self.targets(),
            w: self.weights(),
            feature_names: self.base.feature_names.clone(),
            feature_kinds: self.base.feature_kinds.clone(),
            task: self.base.task.clone(),
        }
    }
}

impl Dataset for DatasetView<'_> {
    fn n_samples(&self) -> usize {
        self.indices.len()
    }
    fn n_features(&self) -> usize {
        self.base.n_features()
    }
    fn base_features(&self) -> ArrayView2<'_, f64> {
        self.base.base_features()
    }
    fn base_targets(&self) -> Option<ArrayView1<'_, f64>> {
        self.base.base_targets()
    }
    fn base_weights(&self) -> Option<ArrayView1<'_, f64>> {
        self.base.base_weights()
    }
    fn sample_indices(&self) -> Option<&[usize]> {
        Some(&self.indices)
    }
    fn feature_names(&self) -> &[String] {
        self.base.feature_names()
    }
    fn feature_kinds(&self) -> &[FeatureKind] {
        self.base.feature_kinds()
    }
    fn task(&self) -> &Task {
        self.base.task()
    }
}

/// The features of a dataset as a table: numeric columns, and categorical columns rebuilt
/// from their codes and categories (the inverse of [`DenseDataset::features_from_table`]).
/// Only this dataset's rows are taken.
pub fn features_table(data: &dyn Dataset) -> Result<Table> {
    let x = data.features();
    let columns = data
        .feature_names()
        .iter()
        .zip(data.feature_kinds())
        .zip(x.columns())
        .map(|((name, kind), values)| {
            Ok((
                name.clone(),
                column_of(name, kind, values, "categorical feature")?,
            ))
        })
        .collect::<Result<Vec<_>>>()?;
    Table::new(columns)
}

/// A table column from numeric cells of a feature of `kind`: the values themselves for a
/// numeric feature; for a categorical one, each cell is an index into the feature's
/// categories (`NaN` = missing), anything else an error naming the row, the column and
/// `context`.
pub fn column_of(
    name: &str,
    kind: &FeatureKind,
    values: ArrayView1<'_, f64>,
    context: &str,
) -> Result<Column> {
    let FeatureKind::Categorical { categories } = kind else {
        return Ok(Column::Numeric(values.to_vec()));
    };
    let mut c = CategoricalColumn::new();
    for cat in categories {
        c.code_for(cat);
    }
    for (i, &v) in values.iter().enumerate() {
        let code = if v.is_nan() {
            MISSING_CODE
        } else if v >= 0.0 && v.fract() == 0.0 && (v as usize) < categories.len() {
            v as u32
        } else {
            return Err(Error::InvalidValue {
                context: context.into(),
                row: i,
                column: Some(name.to_string()),
                message: format!(
                    "{v} is not a category index in 0..{} (or NaN for missing)",
                    categories.len()
                ),
            });
        };
        c.push_code(code)?;
    }
    Ok(Column::Categorical(c))
}

/// The targets of `data` read for a model that learns a task of `kind`: class labels stay as
/// they are; plain numbers become classes for [`TaskKind::Classification`] (sorted
/// numerically, as scikit-learn sorts `classes_`); [`TaskKind::Auto`] keeps what is there.
/// Returns the targets aligned with `data`'s *base* rows, and the task. `target` names the
/// column in errors.
pub fn targets_for(
    data: &dyn Dataset,
    kind: TaskKind,
    target: &str,
) -> Result<Option<(Array1<f64>, Task)>> {
    let Some(y) = data.base_targets() else {
        return Ok(None);
    };
    Ok(Some(match (kind, data.task()) {
        (TaskKind::Auto, task)
        | (TaskKind::Classification, task @ Task::Classification { .. })
        | (TaskKind::Regression, task @ Task::Regression) => (y.to_owned(), task.clone()),
        (TaskKind::Classification, _) => encode_target(
            target,
            &Column::Numeric(y.to_vec()),
            TaskKind::Classification,
        )?,
        (TaskKind::Regression, Task::Classification { .. }) => {
            return Err(Error::ColumnKind {
                column: target.to_string(),
                context: "regression target".into(),
                found: "class labels".into(),
                expected: "a numeric target".into(),
            })
        }
        (TaskKind::Regression, Task::Unsupervised) => {
            encode_target(target, &Column::Numeric(y.to_vec()), TaskKind::Regression)?
        }
    }))
}

/// The feature rows of one dataset with targets, weights and a task of its own: what a
/// pipeline hands its model when the targets are read for the model's kind, without copying
/// the features. The targets and weights are aligned with the base rows of the features.
pub struct WithTargets<'a> {
    base: &'a dyn Dataset,
    y: Option<Array1<f64>>,
    w: Option<Array1<f64>>,
    task: Task,
}

impl<'a> WithTargets<'a> {
    /// `base`'s features with targets `y` and weights `w` (each as long as the base rows of
    /// `base`) for `task`.
    pub fn new(
        base: &'a dyn Dataset,
        y: Option<Array1<f64>>,
        w: Option<Array1<f64>>,
        task: Task,
    ) -> Result<Self> {
        let n = base.base_features().nrows();
        for (what, v) in [("targets", &y), ("sample weights", &w)] {
            if let Some(v) = v {
                if v.len() != n {
                    return Err(Error::shape(what, format!("{n} values"), v.len()));
                }
            }
        }
        Ok(Self { base, y, w, task })
    }
}

impl std::fmt::Debug for WithTargets<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WithTargets")
            .field("n_samples", &self.base.n_samples())
            .field("n_features", &self.base.n_features())
            .field("task", &self.task)
            .finish()
    }
}

impl Dataset for WithTargets<'_> {
    fn n_samples(&self) -> usize {
        self.base.n_samples()
    }
    fn n_features(&self) -> usize {
        self.base.n_features()
    }
    fn base_features(&self) -> ArrayView2<'_, f64> {
        self.base.base_features()
    }
    fn base_targets(&self) -> Option<ArrayView1<'_, f64>> {
        self.y.as_ref().map(|y| y.view())
    }
    fn base_weights(&self) -> Option<ArrayView1<'_, f64>> {
        self.w.as_ref().map(|w| w.view())
    }
    fn sample_indices(&self) -> Option<&[usize]> {
        self.base.sample_indices()
    }
    fn feature_names(&self) -> &[String] {
        self.base.feature_names()
    }
    fn feature_kinds(&self) -> &[FeatureKind] {
        self.base.feature_kinds()
    }
    fn task(&self) -> &Task {
        &self.task
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn missing_class_labels_are_unlabeled_rows() {
        let t = Table::new(vec![
            ("x".into(), Column::numeric(vec![1.0, 2.0, 3.0, 4.0])),
            ("y".into(), Column::numeric(vec![1.0, f64::NAN, 3.0, -1.0])),
            (
                "c".into(),
                Column::categorical_from(&[Some("b"), None, Some("?"), Some("a")]),
            ),
        ])
        .unwrap();
        let d = DenseDataset::from_table(&t.drop(&["c"]).unwrap(), "y", TaskKind::Classification)
            .unwrap();
        assert_eq!(d.task().classes(), &["-1", "1", "3"]);
        assert_eq!(unlabeled_rows(&d), Some((1, 1)));
        let marked = mark_unlabeled(&t.drop(&["c"]).unwrap(), "y", "-1").unwrap();
        let d = DenseDataset::from_table(&marked, "y", TaskKind::Classification).unwrap();
        assert_eq!(d.task().classes(), &["1", "3"]);
        assert_eq!(unlabeled_rows(&d), Some((2, 1)));
        let marked = mark_unlabeled(&t.drop(&["y"]).unwrap(), "c", "?").unwrap();
        let d = DenseDataset::from_table(&marked, "c", TaskKind::Auto).unwrap();
        assert_eq!(d.task().classes(), &["a", "b"]);
        assert_eq!(unlabeled_rows(&d), Some((2, 1)));
        assert_eq!(
            unlabeled_rows(&d.view(vec![3, 2, 0]).unwrap()),
            Some((1, 1))
        );
        assert!(mark_unlabeled(&t, "y", "none").is_err());
    }

    #[test]
    fn classes_sorted_like_sklearn() {
        let t = Table::new(vec![
            ("x".into(), Column::numeric(vec![1.0, 2.0, 3.0, 4.0])),
            (
                "y".into(),
                Column::categorical_from(&[Some("b"), Some("a"), Some("c"), Some("a")]),
            ),
        ])
        .unwrap();
        let d = DenseDataset::from_table(&t, "y", TaskKind::Auto).unwrap();
        assert_eq!(d.task().classes(), &["a", "b", "c"]);
        assert_eq!(d.targets().unwrap(), array![1.0, 0.0, 2.0, 0.0]);
    }

    #[test]
    fn numeric_classes_sorted_numerically() {
        let t = Table::new(vec![
            ("x".into(), Column::numeric(vec![1.0, 2.0, 3.0])),
            ("y".into(), Column::numeric(vec![10.0, 2.0, 2.5])),
        ])
        .unwrap();
        let d = DenseDataset::from_table(&t, "y", TaskKind::Classification).unwrap();
        assert_eq!(d.task().classes(), &["2", "2.5", "10"]);
        assert_eq!(d.targets().unwrap(), array![2.0, 0.0, 1.0]);
    }

    #[test]
    fn missing_target_names_row() {
        let t = Table::new(vec![
            ("x".into(), Column::numeric(vec![1.0, 2.0])),
            ("y".into(), Column::numeric(vec![1.0, f64::NAN])),
        ])
        .unwrap();
        let e = DenseDataset::from_table(&t, "y", TaskKind::Regression).unwrap_err();
        assert!(matches!(e, Error::InvalidValue { row: 1, .. }), "{e}");
        // Read as it comes, a missing number is carried (a classifier reads it as an
        // unlabeled row; a regressor refuses it by name).
        let d = DenseDataset::from_table(&t, "y", TaskKind::Auto).unwrap();
        assert!(d.targets().unwrap()[1].is_nan());
    }

    #[test]
    fn weights_column_and_view() {
        let t = Table::new(vec![
            ("x".into(), Column::numeric(vec![1.0, 2.0, 3.0])),
            ("w".into(), Column::numeric(vec![1.0, 0.5, 2.0])),
            ("y".into(), Column::numeric(vec![0.1, 0.2, 0.3])),
        ])
        .unwrap();
        let d = DenseDataset::from_table_with_weights(&t, "y", TaskKind::Auto, Some("w")).unwrap();
        assert_eq!(d.n_features(), 1);
        let v = d.view(vec![2, 0]).unwrap();
        assert_eq!(v.features().column(0).to_vec(), vec![3.0, 1.0]);
        assert_eq!(v.weights().unwrap().to_vec(), vec![2.0, 1.0]);
        assert!(d.view(vec![3]).is_err());
    }

    #[test]
    fn categorical_features_become_codes() {
        let t = Table::new(vec![
            (
                "c".into(),
                Column::categorical_from(&[Some("u"), None, Some("v")]),
            ),
            ("y".into(), Column::numeric(vec![1.0, 2.0, 3.0])),
        ])
        .unwrap();
        let d = DenseDataset::from_table(&t, "y", TaskKind::Auto).unwrap();
        let col = d.base_features().column(0).to_vec();
        assert_eq!(col[0], 0.0);
        assert!(col[1].is_nan());
        assert_eq!(col[2], 1.0);
        assert!(matches!(
            d.feature_kinds()[0],
            FeatureKind::Categorical { .. }
        ));
    }
}
