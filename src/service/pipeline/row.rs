//! The numeric row path of a pipeline: its fitted steps compiled into per-slot operations on
//! plain `f64` rows, so that predicting one row allocates nothing.
//!
//! A row at every stage has a *layout*: one slot per column, numeric (the value, `NaN` =
//! missing) or categorical (an index into that stage's categories, `NaN` = missing). The
//! layouts are found by running each step's table path on an empty table of the previous
//! layout, so they are exactly what the table path produces (names, kinds, category lists).
//! Each step then becomes a list of operations, one per output slot group, computed from the
//! fitted state's public accessors. The operations repeat the table path's arithmetic in the
//! same order, so both paths give bit-identical results (tested on penguins with imputer,
//! one-hot and scaler), and the same errors (an unknown category, an infinite value), here
//! naming the row of the batch.

use crate::data::{CategoricalColumn, Column, FeatureKind, Table};
use crate::error::{Error, Result};
use crate::preprocess::{
    AffineForm, ColumnCategories, FillValue, FittedStep, HandleUnknown, Norm, NumericScaler,
    OrdinalHandleUnknown,
};
use crate::traits::FittedTransformer;

use super::InputColumn;

/// A level that is not one of the encoder's (an unknown category, or a missing cell when
/// none was seen at fit).
const UNKNOWN: u32 = u32::MAX;

/// One output group of a compiled step.
#[derive(Debug, Clone, PartialEq)]
enum Op {
    /// Pass slot `src` through.
    Copy(usize),
    /// Numeric imputation: `NaN` becomes `fill`; an infinite value is an error.
    Impute { src: usize, fill: f64 },
    /// Categorical imputation: a missing cell becomes category `code`.
    ImputeCode { src: usize, code: f64 },
    /// A scaler's affine map; an infinite value is an error.
    Affine {
        src: usize,
        form: AffineForm,
        coef: (f64, f64),
    },
    /// A member of the normalizer's row: divided by the stage's norm.
    Normalized(usize),
    /// A categorical slot through an encoder: its level, then the encoding.
    Encode {
        src: usize,
        /// The level of each category of the input layout (`UNKNOWN` if not seen at fit).
        levels: Vec<u32>,
        /// The level of a missing cell.
        missing: u32,
        /// Whether an unknown level is an error.
        strict: bool,
        /// The step's hint for an unknown category.
        hint: &'static str,
        encoding: Encoding,
    },
}

/// How an encoder writes a level.
#[derive(Debug, Clone, PartialEq)]
enum Encoding {
    /// One-hot indicators for these levels (the dropped one left out).
    OneHot(Vec<u32>),
    /// The ordinal code: the level itself, `missing_value` for the missing level
    /// (`n_categories`), `unknown_value` for an unknown one.
    Ordinal {
        n_categories: u32,
        unknown_value: f64,
        missing_value: f64,
    },
}

impl Op {
    /// The number of output slots.
    fn width(&self) -> usize {
        match self {
            Op::Encode {
                encoding: Encoding::OneHot(kept),
                ..
            } => kept.len(),
            _ => 1,
        }
    }
}

/// The normalizer's row norm over some slots.
#[derive(Debug, Clone, PartialEq)]
struct NormSpec {
    srcs: Vec<usize>,
    norm: Norm,
}

/// One compiled step.
#[derive(Debug, Clone, PartialEq)]
struct Stage {
    step: &'static str,
    /// The names of the input slots, for errors.
    names: Vec<String>,
    norm: Option<NormSpec>,
    ops: Vec<Op>,
    width_out: usize,
}

/// How the last layout becomes the model's feature row.
#[derive(Debug, Clone, PartialEq)]
enum FeatureOp {
    /// A numeric slot, as is.
    Numeric,
    /// A categorical slot: its code mapped onto the feature's categories (`NaN` if absent).
    Remap(Vec<f64>),
}

/// The compiled row path of a pipeline.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RowPlan {
    inputs: Vec<InputColumn>,
    stages: Vec<Stage>,
    features: Vec<FeatureOp>,
    /// The widest layout, for scratch buffers.
    max_width: usize,
}

fn corrupt(step: &str, message: impl std::fmt::Display) -> Error {
    Error::ModelCorrupt(format!("fitted {step}: {message}"))
}

/// An empty table with the given layout.
fn empty_table(layout: &[InputColumn]) -> Result<Table> {
    let mut t = Table::default();
    for c in layout {
        let column = match &c.kind {
            FeatureKind::Numeric => Column::Numeric(Vec::new()),
            FeatureKind::Categorical { categories } => {
                let mut col = CategoricalColumn::new();
                for cat in categories {
                    col.code_for(cat);
                }
                Column::Categorical(col)
            }
        };
        t.push_column(c.name.clone(), column)?;
    }
    Ok(t)
}

/// The slot of `name` in `layout`, which must have the expected kind.
fn slot<'l>(
    layout: &'l [InputColumn],
    name: &str,
    categorical: bool,
    step: &str,
) -> Result<(usize, &'l InputColumn)> {
    let (pos, col) = layout
        .iter()
        .enumerate()
        .find(|(_, c)| c.name == name)
        .ok_or_else(|| corrupt(step, format!("column `{name}` is not in its input")))?;
    if matches!(col.kind, FeatureKind::Categorical { .. }) != categorical {
        return Err(corrupt(
            step,
            format!("column `{name}` does not have the kind it was fitted on"),
        ));
    }
    Ok((pos, col))
}

fn categories_of(col: &InputColumn) -> &[String] {
    match &col.kind {
        FeatureKind::Categorical { categories } => categories,
        FeatureKind::Numeric => &[],
    }
}

/// The levels of an encoder's column for each input category, and of a missing cell.
fn encoder_levels(
    spec: &ColumnCategories,
    input: &InputColumn,
    step: &str,
) -> Result<(Vec<u32>, u32)> {
    if spec.categories.windows(2).any(|w| w.first() >= w.get(1)) {
        return Err(corrupt(
            step,
            format!(
                "the categories of column `{}` are not sorted and distinct",
                spec.name
            ),
        ));
    }
    let levels = categories_of(input)
        .iter()
        .map(|c| {
            spec.categories
                .binary_search(c)
                .map_or(UNKNOWN, |k| k as u32)
        })
        .collect();
    let missing = if spec.has_missing {
        spec.categories.len() as u32
    } else {
        UNKNOWN
    };
    Ok((levels, missing))
}

/// Compiles one step for input `layout`; returns the stage (its output width is checked
/// against `out_layout` by the caller).
fn compile_step(step: &FittedStep, layout: &[InputColumn]) -> Result<Stage> {
    let name = step.type_name();
    // Per input slot: its replacement ops (None = pass through).
    let mut replaced: Vec<Option<Vec<Op>>> = vec![None; layout.len()];
    let mut set = |pos: usize, ops: Vec<Op>| -> Result<()> {
        match replaced.get_mut(pos) {
            Some(s @ None) => {
                *s = Some(ops);
                Ok(())
            }
            _ => Err(corrupt(name, "a column is listed twice")),
        }
    };
    let mut norm = None;
    if let Some(scaler) = step.as_numeric_scaler() {
        compile_scaler(scaler, layout, &mut set)?;
    }
    match step {
        FittedStep::SimpleImputer(imp) => {
            for spec in imp.columns() {
                let categorical = spec.kind == crate::data::ColumnKind::Categorical;
                let (pos, col) = slot(layout, &spec.name, categorical, name)?;
                let ops = match &spec.fill {
                    None => vec![],
                    Some(FillValue::Number(fill)) if !categorical => {
                        vec![Op::Impute {
                            src: pos,
                            fill: *fill,
                        }]
                    }
                    Some(FillValue::Text(fill)) if categorical => {
                        let cats = categories_of(col);
                        let code = cats.iter().position(|c| c == fill).unwrap_or(cats.len());
                        vec![Op::ImputeCode {
                            src: pos,
                            code: code as f64,
                        }]
                    }
                    Some(other) => {
                        return Err(corrupt(
                            name,
                            format!(
                                "fill value {other:?} does not suit {} column `{}`",
                                spec.kind, spec.name
                            ),
                        ))
                    }
                };
                set(pos, ops)?;
            }
        }
        FittedStep::Normalizer(n) => {
            let mut srcs = Vec::with_capacity(n.columns().len());
            for c in n.columns() {
                let (pos, _) = slot(layout, c, false, name)?;
                set(pos, vec![Op::Normalized(pos)])?;
                srcs.push(pos);
            }
            norm = Some(NormSpec {
                srcs,
                norm: n.norm(),
            });
        }
        FittedStep::OneHotEncoder(enc) => {
            if enc.drop_idx().len() != enc.categories().len() {
                return Err(corrupt(
                    name,
                    format!(
                        "`drop_idx` has {} entries for {} columns",
                        enc.drop_idx().len(),
                        enc.categories().len()
                    ),
                ));
            }
            for (spec, drop) in enc.categories().iter().zip(enc.drop_idx()) {
                let (pos, col) = slot(layout, &spec.name, true, name)?;
                let (levels, missing) = encoder_levels(spec, col, name)?;
                let n_levels = spec.categories.len() + usize::from(spec.has_missing);
                let kept = (0..n_levels as u32)
                    .filter(|&k| Some(k as usize) != *drop)
                    .collect();
                set(
                    pos,
                    vec![Op::Encode {
                        src: pos,
                        levels,
                        missing,
                        strict: enc.handle_unknown() == HandleUnknown::Error,
                        hint: "set handle_unknown to \"ignore\" to encode unknown categories \
                               as all zeros",
                        encoding: Encoding::OneHot(kept),
                    }],
                )?;
            }
        }
        FittedStep::OrdinalEncoder(enc) => {
            for spec in enc.categories() {
                let (pos, col) = slot(layout, &spec.name, true, name)?;
                let (levels, missing) = encoder_levels(spec, col, name)?;
                set(
                    pos,
                    vec![Op::Encode {
                        src: pos,
                        levels,
                        missing,
                        strict: enc.handle_unknown() == OrdinalHandleUnknown::Error,
                        hint: "set handle_unknown to \"use_encoded_value\" to encode unknown \
                               categories as unknown_value",
                        encoding: Encoding::Ordinal {
                            n_categories: spec.categories.len() as u32,
                            unknown_value: enc.unknown_value(),
                            missing_value: enc.encoded_missing_value(),
                        },
                    }],
                )?;
            }
        }
        // The scalers were compiled above.
        FittedStep::StandardScaler(_)
        | FittedStep::MinMaxScaler(_)
        | FittedStep::RobustScaler(_) => {}
    }
    let ops: Vec<Op> = replaced
        .into_iter()
        .enumerate()
        .flat_map(|(pos, r)| r.unwrap_or_else(|| vec![Op::Copy(pos)]))
        .collect();
    Ok(Stage {
        step: name,
        names: layout.iter().map(|c| c.name.clone()).collect(),
        width_out: ops.iter().map(Op::width).sum(),
        norm,
        ops,
    })
}

fn compile_scaler(
    scaler: &dyn NumericScaler,
    layout: &[InputColumn],
    set: &mut impl FnMut(usize, Vec<Op>) -> Result<()>,
) -> Result<()> {
    let name = scaler.step_name();
    scaler.check()?;
    for (j, c) in scaler.columns().iter().enumerate() {
        let (pos, _) = slot(layout, c, false, name)?;
        let coef = scaler
            .coefficients(j)
            .ok_or_else(|| corrupt(name, format!("no coefficients for column {j}")))?;
        set(
            pos,
            vec![Op::Affine {
                src: pos,
                form: scaler.form(),
                coef,
            }],
        )?;
    }
    Ok(())
}

/// The columns of a table as a layout.
pub(crate) fn describe(table: &Table) -> Vec<InputColumn> {
    table
        .iter()
        .map(|(name, col)| InputColumn {
            name: name.to_string(),
            kind: match col {
                Column::Numeric(_) => FeatureKind::Numeric,
                Column::Categorical(c) => FeatureKind::Categorical {
                    categories: c.categories().to_vec(),
                },
            },
        })
        .collect()
}

impl RowPlan {
    /// Compiles `steps` for raw rows of `inputs` feeding a model that takes `features`.
    ///
    /// Any inconsistency (a step column missing from its input, a kind mismatch, unsorted
    /// categories, a feature count or kind that the steps do not produce) is
    /// [`Error::ModelCorrupt`].
    pub(crate) fn compile(
        inputs: &[InputColumn],
        steps: &[FittedStep],
        features: &[InputColumn],
    ) -> Result<Self> {
        let mut layout = inputs.to_vec();
        let mut max_width = layout.len().max(features.len());
        let mut stages = Vec::with_capacity(steps.len());
        for (i, step) in steps.iter().enumerate() {
            let stage = compile_step(step, &layout)?;
            let out = step
                .transform(&empty_table(&layout)?)
                .map_err(|e| corrupt(step.type_name(), format!("step {i} does not apply: {e}")))?;
            let out_layout = describe(&out);
            if out_layout.len() != stage.width_out {
                return Err(corrupt(
                    step.type_name(),
                    format!(
                        "step {i} makes {} columns, its row path {}",
                        out_layout.len(),
                        stage.width_out
                    ),
                ));
            }
            max_width = max_width.max(stage.width_out);
            stages.push(stage);
            layout = out_layout;
        }
        if layout.len() != features.len() {
            return Err(Error::ModelCorrupt(format!(
                "the steps make {} columns but the model takes {} features",
                layout.len(),
                features.len()
            )));
        }
        let features = layout
            .iter()
            .zip(features)
            .map(|(have, want)| match (&have.kind, &want.kind) {
                (FeatureKind::Numeric, FeatureKind::Numeric) => Ok(FeatureOp::Numeric),
                (
                    FeatureKind::Categorical { categories: from },
                    FeatureKind::Categorical { categories: to },
                ) => Ok(FeatureOp::Remap(
                    from.iter()
                        .map(|s| {
                            to.iter()
                                .position(|t| t == s)
                                .map_or(f64::NAN, |p| p as f64)
                        })
                        .collect(),
                )),
                _ => Err(Error::ModelCorrupt(format!(
                    "feature `{}` has a different kind after the steps than the model takes",
                    want.name
                ))),
            })
            .collect::<Result<_>>()?;
        Ok(Self {
            inputs: inputs.to_vec(),
            stages,
            features,
            max_width,
        })
    }

    /// The scratch length each of the two buffers of [`features_of`](Self::features_of) needs.
    pub(crate) fn scratch_len(&self) -> usize {
        self.max_width
    }

    /// Checks one raw input row: categorical cells must be category indices or `NaN`.
    fn check_inputs(&self, row: &[f64], row_index: usize) -> Result<()> {
        for (input, &v) in self.inputs.iter().zip(row) {
            if let FeatureKind::Categorical { categories } = &input.kind {
                if !(v.is_nan() || (v >= 0.0 && v.fract() == 0.0 && v < categories.len() as f64)) {
                    return Err(Error::InvalidValue {
                        context: "pipeline input rows".into(),
                        row: row_index,
                        column: Some(input.name.clone()),
                        message: format!(
                            "{v} is not a category index in 0..{} (or NaN for missing)",
                            categories.len()
                        ),
                    });
                }
            }
        }
        Ok(())
    }

    /// Transforms one raw row (in input order, `row.len()` = the number of inputs) into the
    /// model's feature row, written to the start of `a` or `b` (each at least
    /// [`scratch_len`](Self::scratch_len) long); returns the number of features and which
    /// buffer holds them (`false`: `a`). Allocates nothing.
    pub(crate) fn features_of(
        &self,
        row: &[f64],
        row_index: usize,
        a: &mut [f64],
        b: &mut [f64],
    ) -> Result<bool> {
        self.check_inputs(row, row_index)?;
        let n = row.len();
        let first = a.get_mut(..n).ok_or_else(scratch_error)?;
        first.copy_from_slice(row);
        let mut in_b = false;
        let mut width = n;
        for stage in &self.stages {
            let (src, dst) = if in_b { (&*b, &mut *a) } else { (&*a, &mut *b) };
            let src = src.get(..width).ok_or_else(scratch_error)?;
            let dst = dst.get_mut(..stage.width_out).ok_or_else(scratch_error)?;
            stage.apply(src, dst, row_index)?;
            width = stage.width_out;
            in_b = !in_b;
        }
        let buf = if in_b { &mut *b } else { &mut *a };
        for (v, op) in buf.iter_mut().zip(&self.features) {
            if let FeatureOp::Remap(map) = op {
                *v = if v.is_nan() {
                    f64::NAN
                } else {
                    map.get(*v as usize).copied().unwrap_or(f64::NAN)
                };
            }
        }
        Ok(in_b)
    }
}

fn scratch_error() -> Error {
    Error::InvalidArgument("row scratch buffer shorter than the pipeline's widest row".into())
}

impl Stage {
    fn infinite(&self, row: usize, src: usize) -> Error {
        Error::InvalidValue {
            context: format!("{} transform", self.step),
            row,
            column: self.names.get(src).cloned(),
            message: "infinite value; expected a finite number or NaN for a missing cell".into(),
        }
    }

    /// The normalizer's norm of this row (1 when there is none), as its table path computes
    /// it: accumulated in column order, a zero norm divides by 1.
    fn norm(&self, src: &[f64], row: usize) -> Result<f64> {
        let Some(spec) = &self.norm else {
            return Ok(1.0);
        };
        let mut acc = 0.0f64;
        for &s in &spec.srcs {
            let x = src.get(s).copied().unwrap_or(f64::NAN);
            if !x.is_finite() {
                return Err(Error::InvalidValue {
                    context: "normalizer".into(),
                    row,
                    column: self.names.get(s).cloned(),
                    message: format!(
                        "{}; the normalizer needs finite values (impute missing values first)",
                        if x.is_nan() {
                            "missing value (NaN)".to_string()
                        } else {
                            format!("non-finite value {x}")
                        }
                    ),
                });
            }
            acc = match spec.norm {
                Norm::L1 => acc + x.abs(),
                Norm::L2 => acc + x * x,
                Norm::Max => acc.max(x.abs()),
            };
        }
        if spec.norm == Norm::L2 {
            acc = acc.sqrt();
        }
        if acc < 10.0 * f64::EPSILON {
            acc = 1.0;
        }
        Ok(acc)
    }

    fn apply(&self, src: &[f64], dst: &mut [f64], row: usize) -> Result<()> {
        let norm = self.norm(src, row)?;
        let get = |s: usize| src.get(s).copied().unwrap_or(f64::NAN);
        let mut out = dst.iter_mut();
        let mut put = |v: f64| {
            if let Some(d) = out.next() {
                *d = v;
            }
        };
        for op in &self.ops {
            match op {
                Op::Copy(s) => put(get(*s)),
                Op::Impute { src: s, fill } => {
                    let x = get(*s);
                    if x.is_infinite() {
                        return Err(self.infinite(row, *s));
                    }
                    put(if x.is_nan() { *fill } else { x });
                }
                Op::ImputeCode { src: s, code } => {
                    let x = get(*s);
                    put(if x.is_nan() { *code } else { x });
                }
                Op::Affine { src: s, form, coef } => {
                    let x = get(*s);
                    if x.is_infinite() {
                        return Err(self.infinite(row, *s));
                    }
                    put(affine(*form, *coef, x));
                }
                Op::Normalized(s) => put(get(*s) / norm),
                Op::Encode {
                    src: s,
                    levels,
                    missing,
                    strict,
                    hint,
                    encoding,
                } => {
                    let x = get(*s);
                    let level = if x.is_nan() {
                        *missing
                    } else {
                        levels.get(x as usize).copied().unwrap_or(UNKNOWN)
                    };
                    if level == UNKNOWN && *strict {
                        return Err(Error::InvalidValue {
                            context: format!("{} transform", self.step),
                            row,
                            column: self.names.get(*s).cloned(),
                            message: format!(
                                "{} not seen at fit; {hint}",
                                if x.is_nan() {
                                    "missing value".to_string()
                                } else {
                                    format!("category index {x}")
                                }
                            ),
                        });
                    }
                    match encoding {
                        Encoding::OneHot(kept) => {
                            for &k in kept {
                                put(if level == k { 1.0 } else { 0.0 });
                            }
                        }
                        Encoding::Ordinal {
                            n_categories,
                            unknown_value,
                            missing_value,
                        } => put(match level {
                            UNKNOWN => *unknown_value,
                            k if k == *n_categories => *missing_value,
                            k => k as f64,
                        }),
                    }
                }
            }
        }
        Ok(())
    }
}

/// A scaler's map of one value, as [`AffineForm`] documents it (the same arithmetic as
/// [`NumericScaler::transform_row`]).
#[inline(always)]
fn affine(form: AffineForm, (a, b): (f64, f64), x: f64) -> f64 {
    match form {
        AffineForm::SubDiv => (x - a) / b,
        AffineForm::MulAdd => x * a + b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn affine_matches_the_scalers_row_path() {
        use crate::preprocess::{MinMaxScaler, RobustScaler, StandardScaler};
        use crate::traits::Transformer;
        let t = Table::new(vec![
            ("a".into(), Column::numeric(vec![0.1, 2.7, -3.3, 9.1])),
            ("b".into(), Column::numeric(vec![1e-3, 5.5, 7.25, -0.4])),
        ])
        .unwrap();
        let scalers: Vec<FittedStep> = vec![
            FittedStep::StandardScaler(StandardScaler::default().fit(&t).unwrap()),
            FittedStep::MinMaxScaler(MinMaxScaler::default().fit(&t).unwrap()),
            FittedStep::RobustScaler(RobustScaler::default().fit(&t).unwrap()),
        ];
        for step in &scalers {
            let s = step.as_numeric_scaler().unwrap();
            let mut row = [0.37, -12.5];
            let mine: Vec<f64> = row
                .iter()
                .enumerate()
                .map(|(j, &x)| affine(s.form(), s.coefficients(j).unwrap(), x))
                .collect();
            s.transform_row(&mut row).unwrap();
            assert_eq!(mine[0].to_bits(), row[0].to_bits());
            assert_eq!(mine[1].to_bits(), row[1].to_bits());
        }
    }
}
