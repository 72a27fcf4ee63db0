//! Numeric scalers: [`StandardScaler`], [`MinMaxScaler`] and [`RobustScaler`].
//!
//! Each fitted scaler is a per-column affine map. Besides the table path
//! ([`FittedTransformer::transform`]) they share, through [`NumericScaler`], fast paths on
//! plain `f64` rows and arrays (for the predict path of a pipeline) and the inverse transform.

use ndarray::{ArrayViewMut2, Axis};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::columns::{self, column_builder};
use super::row::{RowKernel, RowSlot, RowStep, SlotMapBuilder, SlotOp};
use crate::common::stats::moments as stats;
use crate::data::{Column, ColumnKind, Table};
use crate::error::{Error, Result};
use crate::traits::{FittedTransformer, Transformer};

/// The shape of a scaler's per-column affine map, with coefficients `(a, b)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AffineForm {
    /// `y = (x - a) / b` (standard and robust scaling, as scikit-learn computes them).
    SubDiv,
    /// `y = x * a + b` (min-max scaling, as scikit-learn computes it).
    MulAdd,
}

/// Runs `$body` with `$k` bound to the per-value kernel `|(a, b), x| -> y` of `$form` in the
/// given direction, so that each of the four kernels is compiled into its own loop.
macro_rules! with_kernel {
    ($form:expr, $inverse:expr, |$k:ident| $body:expr) => {
        match ($form, $inverse) {
            (AffineForm::SubDiv, false) => {
                let $k = |(a, b): (f64, f64), x: f64| (x - a) / b;
                $body
            }
            (AffineForm::SubDiv, true) => {
                let $k = |(a, b): (f64, f64), x: f64| x * b + a;
                $body
            }
            (AffineForm::MulAdd, false) => {
                let $k = |(a, b): (f64, f64), x: f64| x * a + b;
                $body
            }
            (AffineForm::MulAdd, true) => {
                let $k = |(a, b): (f64, f64), x: f64| (x - b) / a;
                $body
            }
        }
    };
}

/// A fitted numeric scaler: a per-column affine map over named numeric columns.
///
/// The provided methods give the fast paths for the predict path of a pipeline: a row or an
/// array holds exactly the fitted [`columns`](Self::columns), in that order. NaN (a missing
/// value) passes through as NaN; an infinite value is an error naming its row and column.
pub trait NumericScaler: Sync {
    /// The step's `type` name (e.g. `"standard_scaler"`), for error messages.
    fn step_name(&self) -> &'static str;

    /// The fitted columns, in order.
    fn columns(&self) -> &[String];

    /// The shape of the per-column map.
    fn form(&self) -> AffineForm;

    /// The coefficients `(a, b)` of column `j` (see [`AffineForm`]); `None` past the end.
    fn coefficients(&self, j: usize) -> Option<(f64, f64)>;

    /// Checks that the fitted state is consistent (one entry per column everywhere).
    fn check(&self) -> Result<()>;

    /// Scales one row in place.
    fn transform_row(&self, row: &mut [f64]) -> Result<()> {
        map_row(self, row, false)
    }

    /// Undoes [`transform_row`](Self::transform_row).
    fn inverse_transform_row(&self, row: &mut [f64]) -> Result<()> {
        map_row(self, row, true)
    }

    /// Scales every row of `x` in place (in parallel over row blocks).
    fn transform_array(&self, x: ArrayViewMut2<'_, f64>) -> Result<()> {
        map_array(self, x, false)
    }

    /// Undoes [`transform_array`](Self::transform_array).
    fn inverse_transform_array(&self, x: ArrayViewMut2<'_, f64>) -> Result<()> {
        map_array(self, x, true)
    }

    /// Undoes [`FittedTransformer::transform`] on the fitted columns of `table`; other columns
    /// pass through.
    fn inverse_transform(&self, table: &Table) -> Result<Table> {
        map_table(self, table, true)
    }
}

fn coefficient_vec<S: NumericScaler + ?Sized>(s: &S) -> Result<Vec<(f64, f64)>> {
    s.check()?;
    (0..s.columns().len())
        .map(|j| {
            s.coefficients(j).ok_or_else(|| {
                Error::ModelCorrupt(format!(
                    "fitted {}: no coefficients for column {j}",
                    s.step_name()
                ))
            })
        })
        .collect()
}

fn width_error<S: NumericScaler + ?Sized>(s: &S, what: &str, found: usize) -> Error {
    Error::shape(
        &format!("{} {what}", s.step_name()),
        format!(
            "{} values (the fitted columns {:?})",
            s.columns().len(),
            s.columns()
        ),
        format!("{found} values"),
    )
}

fn infinite_in<S: NumericScaler + ?Sized>(s: &S, row: usize, j: usize) -> Error {
    let name = s.columns().get(j).map_or("?", |n| n.as_str());
    columns::infinite_error(&format!("{} transform", s.step_name()), row, name)
}

fn map_row<S: NumericScaler + ?Sized>(s: &S, row: &mut [f64], inverse: bool) -> Result<()> {
    if row.len() != s.columns().len() {
        return Err(width_error(s, "row", row.len()));
    }
    if let Some(j) = row.iter().position(|x| x.is_infinite()) {
        return Err(infinite_in(s, 0, j));
    }
    s.check()?;
    with_kernel!(s.form(), inverse, |kernel| {
        for (j, x) in row.iter_mut().enumerate() {
            let c = s.coefficients(j).unwrap_or((f64::NAN, f64::NAN));
            *x = kernel(c, *x);
        }
    });
    Ok(())
}

/// Rows per parallel block of the array path.
const ROW_BLOCK: usize = 4096;

fn map_array<S: NumericScaler + ?Sized>(
    s: &S,
    mut x: ArrayViewMut2<'_, f64>,
    inverse: bool,
) -> Result<()> {
    if x.ncols() != s.columns().len() {
        return Err(width_error(s, "array", x.ncols()));
    }
    let coef = coefficient_vec(s)?;
    // Check everything first so that `x` is untouched on error; report the first bad cell in
    // row order whatever the thread timing.
    let first_bad = x
        .axis_chunks_iter(Axis(0), ROW_BLOCK)
        .into_par_iter()
        .enumerate()
        .filter_map(|(b, block)| {
            block.rows().into_iter().enumerate().find_map(|(i, row)| {
                let j = row.iter().position(|v| v.is_infinite())?;
                Some((b * ROW_BLOCK + i, j))
            })
        })
        .min();
    if let Some((i, j)) = first_bad {
        return Err(infinite_in(s, i, j));
    }
    with_kernel!(s.form(), inverse, |kernel| {
        x.axis_chunks_iter_mut(Axis(0), ROW_BLOCK)
            .into_par_iter()
            .for_each(|mut block| {
                for mut row in block.rows_mut() {
                    for (v, &c) in row.iter_mut().zip(&coef) {
                        *v = kernel(c, *v);
                    }
                }
            })
    });
    Ok(())
}

fn map_table<S: NumericScaler + ?Sized>(s: &S, table: &Table, inverse: bool) -> Result<Table> {
    let coef = coefficient_vec(s)?;
    let step = s.step_name();
    let form = s.form();
    let outputs = columns::par_map(s.columns(), |j, name| {
        let values = columns::numeric(table, name, step)?;
        let c = coef.get(j).copied().unwrap_or((f64::NAN, f64::NAN));
        let (out, infinite_out) = affine_column(form, inverse, c, values);
        // With finite coefficients and a nonzero factor, an infinite input gives an infinite
        // output: only then look for the culprit in the input.
        let factor = match form {
            AffineForm::SubDiv => c.1,
            AffineForm::MulAdd => c.0,
        };
        let propagates = c.0.is_finite() && c.1.is_finite() && factor != 0.0;
        if !propagates || infinite_out {
            if let Some(row) = columns::first_infinite(values) {
                return Err(columns::infinite_error(
                    &format!("{step} transform"),
                    row,
                    name,
                ));
            }
        }
        Ok((name.clone(), vec![(name.clone(), Column::Numeric(out))]))
    })?;
    columns::assemble(table, outputs)
}

/// One column through the affine map `c` of shape `form`, and whether any output is infinite
/// (checked block by block while the block is in L1 cache).
fn affine_column(
    form: AffineForm,
    inverse: bool,
    c: (f64, f64),
    values: &[f64],
) -> (Vec<f64>, bool) {
    const BLOCK: usize = 512;
    let mut out = Vec::with_capacity(values.len());
    let mut infinite = false;
    with_kernel!(form, inverse, |kernel| {
        for block in values.chunks(BLOCK) {
            let start = out.len();
            out.extend(block.iter().map(|&x| kernel(c, x)));
            infinite |= out
                .get(start..)
                .unwrap_or(&[])
                .iter()
                .fold(false, |bad, y| bad | y.is_infinite());
        }
    });
    (out, infinite)
}

/// The coefficients `(a, b)` of `(x - a) / b` for a standard scaler column.
fn standard_coef(with_mean: bool, with_std: bool, mean: f64, scale: f64) -> (f64, f64) {
    (
        if with_mean { mean } else { 0.0 },
        if with_std { scale } else { 1.0 },
    )
}

/// The fitting side of a numeric scaler: a per-column statistic, the coefficients it gives,
/// and the fitted scaler built from every column's statistic. `fit` and a fused
/// `fit_transform` (which transforms each column right after fitting it, while it is in cache)
/// are written once over this trait.
trait ScalerSettings: Sync {
    /// What fitting learns about one column.
    type Stat: Send + Sync;
    /// The fitted scaler.
    type Fitted: NumericScaler;
    /// The step name.
    const STEP: &'static str;
    /// The shape of the map.
    const FORM: AffineForm;

    /// Checks the parameters.
    fn validate(&self) -> Result<()>;
    /// The explicit columns, if any.
    fn explicit_columns(&self) -> Option<&[String]>;
    /// Fits one column (infinite values give a meaningless statistic, rejected afterwards).
    fn stat(&self, values: &[f64]) -> Self::Stat;
    /// True when the statistic shows the column holds no infinite value (saves a scan).
    fn proves_finite(stat: &Self::Stat) -> bool;
    /// The forward coefficients of a fitted column.
    fn coef(&self, stat: &Self::Stat) -> (f64, f64);
    /// The fitted scaler from all columns.
    fn build(&self, columns: Vec<String>, stats: Vec<Self::Stat>) -> Self::Fitted;
}

fn fit_scaler<S: ScalerSettings>(s: &S, table: &Table) -> Result<S::Fitted> {
    s.validate()?;
    let (columns, stats) = columns::fit_numeric(
        table,
        s.explicit_columns(),
        S::STEP,
        |v| s.stat(v),
        |t| S::proves_finite(t),
    )?;
    Ok(s.build(columns, stats))
}

fn fit_transform_scaler<S: ScalerSettings>(s: &S, table: &Table) -> Result<(S::Fitted, Table)> {
    s.validate()?;
    let (columns, results) = columns::fit_numeric(
        table,
        s.explicit_columns(),
        S::STEP,
        |v| {
            let stat = s.stat(v);
            // Transforming right away, while the column is in cache; an infinite value gives
            // an error just after, and the output is then dropped.
            let (out, _) = affine_column(S::FORM, false, s.coef(&stat), v);
            (stat, out)
        },
        |(stat, _)| S::proves_finite(stat),
    )?;
    let (stats, outs): (Vec<S::Stat>, Vec<Vec<f64>>) = results.into_iter().unzip();
    let replaced = columns
        .iter()
        .zip(outs)
        .map(|(n, o)| (n.clone(), vec![(n.clone(), Column::Numeric(o))]))
        .collect();
    let out = columns::assemble(table, replaced)?;
    Ok((s.build(columns, stats), out))
}

/// `Transformer` for a scaler's settings, through [`ScalerSettings`].
macro_rules! scaler_transformer {
    ($settings:ident, $fitted:ident) => {
        impl Transformer for $settings {
            type Fitted = $fitted;

            fn fit(&self, table: &Table) -> Result<$fitted> {
                fit_scaler(self, table)
            }

            fn fit_transform(&self, table: &Table) -> Result<($fitted, Table)> {
                fit_transform_scaler(self, table)
            }
        }
    };
}

/// The row path of a fitted scaler: its affine map on each of its slots.
fn compile_scaler(s: &dyn NumericScaler, layout: &[RowSlot]) -> Result<Box<dyn RowKernel>> {
    s.check()?;
    let mut b = SlotMapBuilder::new(s.step_name(), layout);
    for (j, c) in s.columns().iter().enumerate() {
        let (pos, _) = b.find(c, ColumnKind::Numeric)?;
        let coef = s
            .coefficients(j)
            .ok_or_else(|| b.corrupt(format!("no coefficients for column {j}")))?;
        let op = SlotOp::Affine {
            src: pos,
            form: s.form(),
            coef,
        };
        b.replace(pos, vec![op])?;
    }
    Ok(b.finish())
}

/// `RowStep` for a fitted scaler, through [`compile_scaler`].
macro_rules! scaler_row_step {
    ($fitted:ident) => {
        impl RowStep for $fitted {
            fn name(&self) -> &'static str {
                self.step_name()
            }

            fn compile_row(&self, layout: &[RowSlot]) -> Result<Box<dyn RowKernel>> {
                compile_scaler(self, layout)
            }
        }
    };
}

/// scikit-learn's test for a constant feature in `StandardScaler` (`_is_constant_feature`):
/// a variance within rounding error of zero.
fn is_constant(var: f64, mean: f64, n: usize) -> bool {
    let eps = f64::EPSILON;
    let n = n as f64;
    var <= n * eps * var + (n * mean * eps) * (n * mean * eps)
}

/// scikit-learn's `_handle_zeros_in_scale` without a constant mask: a scale below
/// `10 * eps` becomes 1.
fn nonzero_scale(scale: f64) -> f64 {
    if scale < 10.0 * f64::EPSILON {
        1.0
    } else {
        scale
    }
}

// ---------------------------------------------------------------------------------------------

/// Standardizes numeric columns: `(x - mean) / std`, as scikit-learn's `StandardScaler`.
///
/// The standard deviation is the population one (ddof = 0); a constant column gets scale 1.
/// NaN cells are ignored when fitting and stay NaN when transforming.
///
/// ```
/// use amlis::data::{Column, Table};
/// use amlis::preprocess::StandardScaler;
/// use amlis::traits::Transformer;
///
/// let table = Table::new(vec![("x".into(), Column::numeric(vec![1.0, 2.0, 3.0, f64::NAN]))])?;
/// let (fitted, out) = StandardScaler::default().fit_transform(&table)?;
/// assert_eq!(fitted.mean(), &[2.0]);
/// let x = out.column("x")?.as_numeric().unwrap();
/// assert!((x[0] + 1.224744871391589).abs() < 1e-15 && x[3].is_nan());
/// # Ok::<(), amlis::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StandardScaler {
    /// Subtract the mean (scikit-learn `with_mean`, default true).
    pub with_mean: bool,
    /// Divide by the standard deviation (scikit-learn `with_std`, default true).
    pub with_std: bool,
    /// The columns to scale (default: every numeric column).
    pub columns: Option<Vec<String>>,
}

impl Default for StandardScaler {
    fn default() -> Self {
        Self {
            with_mean: true,
            with_std: true,
            columns: None,
        }
    }
}

impl StandardScaler {
    /// Sets `with_mean`.
    pub fn with_mean(mut self, yes: bool) -> Self {
        self.with_mean = yes;
        self
    }

    /// Sets `with_std`.
    pub fn with_std(mut self, yes: bool) -> Self {
        self.with_std = yes;
        self
    }

    column_builder!("every numeric column");
}

/// A fitted [`StandardScaler`]: per-column mean, variance and scale (scikit-learn's `mean_`,
/// `var_`, `scale_`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FittedStandardScaler {
    with_mean: bool,
    with_std: bool,
    columns: Vec<String>,
    #[serde(with = "crate::common::json_float::vec")]
    mean: Vec<f64>,
    #[serde(with = "crate::common::json_float::vec")]
    var: Vec<f64>,
    #[serde(with = "crate::common::json_float::vec")]
    scale: Vec<f64>,
    n_samples_seen: Vec<usize>,
}

impl FittedStandardScaler {
    /// Per-column means of the non-missing values.
    pub fn mean(&self) -> &[f64] {
        &self.mean
    }

    /// Per-column population variances.
    pub fn var(&self) -> &[f64] {
        &self.var
    }

    /// Per-column scales: the standard deviation, or 1 for a constant column.
    pub fn scale(&self) -> &[f64] {
        &self.scale
    }

    /// Per-column count of non-missing values seen at fit.
    pub fn n_samples_seen(&self) -> &[usize] {
        &self.n_samples_seen
    }
}

impl ScalerSettings for StandardScaler {
    type Stat = (stats::Moments, f64);
    type Fitted = FittedStandardScaler;
    const STEP: &'static str = "standard_scaler";
    const FORM: AffineForm = AffineForm::SubDiv;

    fn validate(&self) -> Result<()> {
        Ok(())
    }
    fn explicit_columns(&self) -> Option<&[String]> {
        self.columns.as_deref()
    }
    fn stat(&self, values: &[f64]) -> Self::Stat {
        let m = stats::moments(values);
        let scale = if is_constant(m.var, m.mean, m.n) {
            1.0
        } else {
            m.var.sqrt()
        };
        (m, scale)
    }
    fn proves_finite((m, _): &Self::Stat) -> bool {
        // An infinite value makes the mean infinite or NaN.
        m.mean.is_finite()
    }
    fn coef(&self, (m, scale): &Self::Stat) -> (f64, f64) {
        standard_coef(self.with_mean, self.with_std, m.mean, *scale)
    }
    fn build(&self, columns: Vec<String>, stats: Vec<Self::Stat>) -> FittedStandardScaler {
        FittedStandardScaler {
            with_mean: self.with_mean,
            with_std: self.with_std,
            columns,
            mean: stats.iter().map(|s| s.0.mean).collect(),
            var: stats.iter().map(|s| s.0.var).collect(),
            scale: stats.iter().map(|s| s.1).collect(),
            n_samples_seen: stats.iter().map(|s| s.0.n).collect(),
        }
    }
}

scaler_transformer!(StandardScaler, FittedStandardScaler);

impl NumericScaler for FittedStandardScaler {
    fn step_name(&self) -> &'static str {
        "standard_scaler"
    }
    fn columns(&self) -> &[String] {
        &self.columns
    }
    fn form(&self) -> AffineForm {
        AffineForm::SubDiv
    }
    fn coefficients(&self, j: usize) -> Option<(f64, f64)> {
        Some(standard_coef(
            self.with_mean,
            self.with_std,
            *self.mean.get(j)?,
            *self.scale.get(j)?,
        ))
    }
    fn check(&self) -> Result<()> {
        let n = self.columns.len();
        columns::check_lengths(
            self.step_name(),
            n,
            &[
                ("mean", self.mean.len()),
                ("var", self.var.len()),
                ("scale", self.scale.len()),
                ("n_samples_seen", self.n_samples_seen.len()),
            ],
        )
    }
}

impl FittedTransformer for FittedStandardScaler {
    fn transform(&self, table: &Table) -> Result<Table> {
        map_table(self, table, false)
    }
}

scaler_row_step!(FittedStandardScaler);

// ---------------------------------------------------------------------------------------------

/// Scales numeric columns to `feature_range` (default `[0, 1]`), as scikit-learn's
/// `MinMaxScaler`: `x * scale + min` with `scale = (hi - lo) / (data_max - data_min)`.
///
/// A constant column gets range 1. NaN cells are ignored when fitting and stay NaN.
///
/// ```
/// use amlis::data::{Column, Table};
/// use amlis::preprocess::MinMaxScaler;
/// use amlis::traits::Transformer;
///
/// let table = Table::new(vec![("x".into(), Column::numeric(vec![2.0, 4.0, 6.0]))])?;
/// let (_, out) = MinMaxScaler::default().feature_range(-1.0, 1.0).fit_transform(&table)?;
/// assert_eq!(out.column("x")?.as_numeric().unwrap(), &[-1.0, 0.0, 1.0]);
/// # Ok::<(), amlis::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MinMaxScaler {
    /// The output range `(lo, hi)`, `lo < hi` (scikit-learn `feature_range`).
    pub feature_range: (f64, f64),
    /// The columns to scale (default: every numeric column).
    pub columns: Option<Vec<String>>,
}

impl Default for MinMaxScaler {
    fn default() -> Self {
        Self {
            feature_range: (0.0, 1.0),
            columns: None,
        }
    }
}

impl MinMaxScaler {
    /// Sets `feature_range`.
    pub fn feature_range(mut self, lo: f64, hi: f64) -> Self {
        self.feature_range = (lo, hi);
        self
    }

    column_builder!("every numeric column");
}

/// A fitted [`MinMaxScaler`] (scikit-learn's `data_min_`, `data_max_`, `scale_`, `min_`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FittedMinMaxScaler {
    feature_range: (f64, f64),
    columns: Vec<String>,
    #[serde(with = "crate::common::json_float::vec")]
    data_min: Vec<f64>,
    #[serde(with = "crate::common::json_float::vec")]
    data_max: Vec<f64>,
    #[serde(with = "crate::common::json_float::vec")]
    scale: Vec<f64>,
    #[serde(with = "crate::common::json_float::vec")]
    min: Vec<f64>,
}

impl FittedMinMaxScaler {
    /// Per-column minimum seen at fit.
    pub fn data_min(&self) -> &[f64] {
        &self.data_min
    }
    /// Per-column maximum seen at fit.
    pub fn data_max(&self) -> &[f64] {
        &self.data_max
    }
    /// Per-column multiplier.
    pub fn scale(&self) -> &[f64] {
        &self.scale
    }
    /// Per-column offset added after the multiplication.
    pub fn min(&self) -> &[f64] {
        &self.min
    }
}

impl ScalerSettings for MinMaxScaler {
    /// (data_min, data_max, scale, min)
    type Stat = (f64, f64, f64, f64);
    type Fitted = FittedMinMaxScaler;
    const STEP: &'static str = "min_max_scaler";
    const FORM: AffineForm = AffineForm::MulAdd;

    fn validate(&self) -> Result<()> {
        let (lo, hi) = self.feature_range;
        if !(lo.is_finite() && hi.is_finite() && lo < hi) {
            return Err(Error::param(
                "feature_range",
                format!("({lo}, {hi})"),
                "(min, max) with finite min < max",
            ));
        }
        Ok(())
    }
    fn explicit_columns(&self) -> Option<&[String]> {
        self.columns.as_deref()
    }
    fn stat(&self, values: &[f64]) -> Self::Stat {
        let (lo, hi) = self.feature_range;
        let (dmin, dmax) = stats::min_max(values);
        let scale = (hi - lo) / nonzero_scale(dmax - dmin);
        (dmin, dmax, scale, lo - dmin * scale)
    }
    fn proves_finite(s: &Self::Stat) -> bool {
        s.0.is_finite() && s.1.is_finite()
    }
    fn coef(&self, s: &Self::Stat) -> (f64, f64) {
        (s.2, s.3)
    }
    fn build(&self, columns: Vec<String>, stats: Vec<Self::Stat>) -> FittedMinMaxScaler {
        FittedMinMaxScaler {
            feature_range: self.feature_range,
            columns,
            data_min: stats.iter().map(|s| s.0).collect(),
            data_max: stats.iter().map(|s| s.1).collect(),
            scale: stats.iter().map(|s| s.2).collect(),
            min: stats.iter().map(|s| s.3).collect(),
        }
    }
}

scaler_transformer!(MinMaxScaler, FittedMinMaxScaler);

impl NumericScaler for FittedMinMaxScaler {
    fn step_name(&self) -> &'static str {
        "min_max_scaler"
    }
    fn columns(&self) -> &[String] {
        &self.columns
    }
    fn form(&self) -> AffineForm {
        AffineForm::MulAdd
    }
    fn coefficients(&self, j: usize) -> Option<(f64, f64)> {
        Some((*self.scale.get(j)?, *self.min.get(j)?))
    }
    fn check(&self) -> Result<()> {
        columns::check_lengths(
            self.step_name(),
            self.columns.len(),
            &[
                ("data_min", self.data_min.len()),
                ("data_max", self.data_max.len()),
                ("scale", self.scale.len()),
                ("min", self.min.len()),
            ],
        )
    }
}

impl FittedTransformer for FittedMinMaxScaler {
    fn transform(&self, table: &Table) -> Result<Table> {
        map_table(self, table, false)
    }
}

scaler_row_step!(FittedMinMaxScaler);

// ---------------------------------------------------------------------------------------------

/// Centres numeric columns on the median and scales by an inter-quantile range, as
/// scikit-learn's `RobustScaler`: `(x - median) / (q_hi - q_lo)`.
///
/// Quantiles use numpy's linear interpolation over the non-missing values; a zero range gives
/// scale 1.
///
/// ```
/// use amlis::data::{Column, Table};
/// use amlis::preprocess::RobustScaler;
/// use amlis::traits::Transformer;
///
/// let table = Table::new(vec![("x".into(), Column::numeric(vec![1.0, 2.0, 3.0, 4.0, 100.0]))])?;
/// let (fitted, out) = RobustScaler::default().fit_transform(&table)?;
/// assert_eq!((fitted.center()[0], fitted.scale()[0]), (3.0, 2.0));
/// assert_eq!(out.column("x")?.as_numeric().unwrap(), &[-1.0, -0.5, 0.0, 0.5, 48.5]);
/// # Ok::<(), amlis::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RobustScaler {
    /// Subtract the median (scikit-learn `with_centering`, default true).
    pub with_centering: bool,
    /// Divide by the quantile range (scikit-learn `with_scaling`, default true).
    pub with_scaling: bool,
    /// The percentiles `(q_lo, q_hi)` with `0 <= q_lo <= q_hi <= 100` (default `(25, 75)`).
    pub quantile_range: (f64, f64),
    /// The columns to scale (default: every numeric column).
    pub columns: Option<Vec<String>>,
}

impl Default for RobustScaler {
    fn default() -> Self {
        Self {
            with_centering: true,
            with_scaling: true,
            quantile_range: (25.0, 75.0),
            columns: None,
        }
    }
}

impl RobustScaler {
    /// Sets `with_centering`.
    pub fn with_centering(mut self, yes: bool) -> Self {
        self.with_centering = yes;
        self
    }

    /// Sets `with_scaling`.
    pub fn with_scaling(mut self, yes: bool) -> Self {
        self.with_scaling = yes;
        self
    }

    /// Sets `quantile_range` (percentiles).
    pub fn quantile_range(mut self, lo: f64, hi: f64) -> Self {
        self.quantile_range = (lo, hi);
        self
    }

    column_builder!("every numeric column");
}

/// A fitted [`RobustScaler`] (scikit-learn's `center_`, `scale_`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FittedRobustScaler {
    with_centering: bool,
    with_scaling: bool,
    columns: Vec<String>,
    #[serde(with = "crate::common::json_float::vec")]
    center: Vec<f64>,
    #[serde(with = "crate::common::json_float::vec")]
    scale: Vec<f64>,
}

impl FittedRobustScaler {
    /// Per-column medians.
    pub fn center(&self) -> &[f64] {
        &self.center
    }
    /// Per-column quantile ranges (1 where the range is zero).
    pub fn scale(&self) -> &[f64] {
        &self.scale
    }
}

impl ScalerSettings for RobustScaler {
    /// (center, scale)
    type Stat = (f64, f64);
    type Fitted = FittedRobustScaler;
    const STEP: &'static str = "robust_scaler";
    const FORM: AffineForm = AffineForm::SubDiv;

    fn validate(&self) -> Result<()> {
        let (q_lo, q_hi) = self.quantile_range;
        if !(0.0 <= q_lo && q_lo <= q_hi && q_hi <= 100.0) {
            return Err(Error::param(
                "quantile_range",
                format!("({q_lo}, {q_hi})"),
                "percentiles with 0 <= q_min <= q_max <= 100",
            ));
        }
        Ok(())
    }
    fn explicit_columns(&self) -> Option<&[String]> {
        self.columns.as_deref()
    }
    fn stat(&self, values: &[f64]) -> Self::Stat {
        let (q_lo, q_hi) = self.quantile_range;
        let mut buf = stats::present(values);
        let center = stats::median(&mut buf);
        let lo = stats::percentile(&mut buf, q_lo);
        let hi = stats::percentile(&mut buf, q_hi);
        (center, nonzero_scale(hi - lo))
    }
    fn proves_finite(_: &Self::Stat) -> bool {
        false
    }
    fn coef(&self, &(center, scale): &Self::Stat) -> (f64, f64) {
        (
            if self.with_centering { center } else { 0.0 },
            if self.with_scaling { scale } else { 1.0 },
        )
    }
    fn build(&self, columns: Vec<String>, stats: Vec<Self::Stat>) -> FittedRobustScaler {
        FittedRobustScaler {
            with_centering: self.with_centering,
            with_scaling: self.with_scaling,
            columns,
            center: stats.iter().map(|s| s.0).collect(),
            scale: stats.iter().map(|s| s.1).collect(),
        }
    }
}

scaler_transformer!(RobustScaler, FittedRobustScaler);

impl NumericScaler for FittedRobustScaler {
    fn step_name(&self) -> &'static str {
        "robust_scaler"
    }
    fn columns(&self) -> &[String] {
        &self.columns
    }
    fn form(&self) -> AffineForm {
        AffineForm::SubDiv
    }
    fn coefficients(&self, j: usize) -> Option<(f64, f64)> {
        let center = *self.center.get(j)?;
        let scale = *self.scale.get(j)?;
        Some((
            if self.with_centering { center } else { 0.0 },
            if self.with_scaling { scale } else { 1.0 },
        ))
    }
    fn check(&self) -> Result<()> {
        columns::check_lengths(
            self.step_name(),
            self.columns.len(),
            &[("center", self.center.len()), ("scale", self.scale.len())],
        )
    }
}

impl FittedTransformer for FittedRobustScaler {
    fn transform(&self, table: &Table) -> Result<Table> {
        map_table(self, table, false)
    }
}

scaler_row_step!(FittedRobustScaler);

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    fn table() -> Table {
        Table::new(vec![
            ("a".into(), Column::numeric(vec![1.0, 2.0, 3.0, 4.0])),
            (
                "s".into(),
                Column::categorical_from(&[Some("x"), None, Some("y"), Some("x")]),
            ),
            ("b".into(), Column::numeric(vec![5.0, 5.0, 5.0, f64::NAN])),
        ])
        .unwrap()
    }

    #[test]
    fn standard_constant_column_gets_scale_one_and_passthrough_in_place() {
        let t = table();
        let (f, out) = StandardScaler::default().fit_transform(&t).unwrap();
        assert_eq!(f.scale()[1], 1.0);
        assert_eq!(f.n_samples_seen(), &[4, 3]);
        assert_eq!(out.names(), t.names());
        assert_eq!(out.column("s").unwrap(), t.column("s").unwrap());
        let b = out.column("b").unwrap().as_numeric().unwrap();
        assert_eq!(&b[..3], &[0.0, 0.0, 0.0]);
        assert!(b[3].is_nan());
    }

    #[test]
    fn array_and_row_paths_agree_with_table_path() {
        let t = table();
        for fitted in [
            Box::new(StandardScaler::default().fit(&t).unwrap()) as Box<dyn NumericScaler>,
            Box::new(MinMaxScaler::default().fit(&t).unwrap()),
            Box::new(RobustScaler::default().fit(&t).unwrap()),
        ] {
            let mut x = array![[1.0, 5.0], [2.5, 7.0]];
            fitted.transform_array(x.view_mut()).unwrap();
            let mut row = [2.5, 7.0];
            fitted.transform_row(&mut row).unwrap();
            assert_eq!(row, [x[[1, 0]], x[[1, 1]]]);
            fitted.inverse_transform_array(x.view_mut()).unwrap();
            assert!((x[[1, 0]] - 2.5).abs() < 1e-12 && (x[[1, 1]] - 7.0).abs() < 1e-12);
            assert!(matches!(
                fitted.transform_row(&mut [1.0]),
                Err(Error::Shape { .. })
            ));
            assert!(matches!(
                fitted.transform_row(&mut [1.0, f64::INFINITY]),
                Err(Error::InvalidValue { .. })
            ));
        }
    }

    #[test]
    fn bad_parameters_and_inputs_are_errors() {
        let t = table();
        assert!(matches!(
            MinMaxScaler::default().feature_range(1.0, 1.0).fit(&t),
            Err(Error::InvalidParameter { .. })
        ));
        assert!(matches!(
            RobustScaler::default().quantile_range(80.0, 20.0).fit(&t),
            Err(Error::InvalidParameter { .. })
        ));
        assert!(matches!(
            StandardScaler::default().columns(["s"]).fit(&t),
            Err(Error::ColumnKind { .. })
        ));
        assert!(matches!(
            StandardScaler::default().columns(["zz"]).fit(&t),
            Err(Error::UnknownColumn { .. })
        ));
        let inf = Table::new(vec![(
            "a".into(),
            Column::numeric(vec![1.0, f64::INFINITY]),
        )])
        .unwrap();
        match StandardScaler::default().fit(&inf) {
            Err(Error::InvalidValue { row, column, .. }) => {
                assert_eq!((row, column.as_deref()), (1, Some("a")))
            }
            other => panic!("{other:?}"),
        }
        let f = StandardScaler::default().fit(&t).unwrap();
        assert!(matches!(
            f.transform(&t.drop(&["b"]).unwrap()),
            Err(Error::UnknownColumn { .. })
        ));
        // An infinite value at transform, for every scaler and both directions.
        let later = Table::new(vec![
            (
                "a".into(),
                Column::numeric(vec![1.0, 2.0, f64::NEG_INFINITY]),
            ),
            ("b".into(), Column::numeric(vec![1.0, 2.0, 3.0])),
        ])
        .unwrap();
        let scalers: Vec<Box<dyn NumericScaler>> = vec![
            Box::new(f),
            Box::new(MinMaxScaler::default().fit(&t).unwrap()),
            Box::new(
                RobustScaler::default()
                    .with_centering(false)
                    .fit(&t)
                    .unwrap(),
            ),
        ];
        for s in &scalers {
            for result in [
                map_table(s.as_ref(), &later, false),
                s.inverse_transform(&later),
            ] {
                match result {
                    Err(Error::InvalidValue { row, column, .. }) => {
                        assert_eq!((row, column.as_deref()), (2, Some("a")))
                    }
                    other => panic!("{other:?}"),
                }
            }
        }
    }
}
