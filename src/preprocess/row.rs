//! The row path of a fitted step: [`RowStep`] compiles a step, for a given input layout, into
//! a [`RowKernel`] that maps one plain `f64` row to the next layout without allocating.
//!
//! A row at every stage has a *layout*: one slot per column ([`RowSlot`]), numeric (the
//! value, `NaN` = missing) or categorical (an index into that slot's categories, `NaN` =
//! missing). A step's output layout is what its table path makes of an empty table of the
//! input layout ([`RowStep::row_layout`]), so both paths agree on names, kinds and category
//! lists by construction.
//!
//! The building blocks are in [`SlotMap`]: per-slot operations ([`SlotOp`]: copy, impute,
//! affine scaler map, normalized member, level encoding, and the matrix map [`LinearMap`] that
//! computes several output slots from several input slots), assembled by a
//! [`SlotMapBuilder`] with the table path's placement rules (untouched columns pass through in
//! place; a replaced column's outputs sit at its position; a group of columns replaced
//! together by a matrix map puts its outputs at the leftmost one). The operations repeat the
//! table path's arithmetic in the same order, so that the row path is bit-identical to it, and
//! raise the same errors (an unknown category, an infinite value), naming the row of the batch.
//!
//! Compiling validates the fitted state against the layout (columns present with the kind
//! they were fitted on, consistent per-column vectors, sorted categories): a file-derived step
//! that does not fit is [`Error::ModelCorrupt`], never a panic.

use std::fmt::Debug;

use super::normalizer::Norm;
use super::scaler::AffineForm;
use crate::data::{CategoricalColumn, Column, ColumnKind, FeatureKind, Table};
use crate::error::{Error, Result};
use crate::traits::FittedTransformer;

/// A level that is not one of an encoder's (an unknown category, or a missing cell when none
/// was seen at fit).
pub(crate) const UNKNOWN_LEVEL: u32 = u32::MAX;

/// One slot of a row layout: a column's name and kind (with its categories when categorical).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RowSlot {
    /// The column name.
    pub(crate) name: String,
    /// Numeric, or categorical with the categories its indices refer to.
    pub(crate) kind: FeatureKind,
}

impl RowSlot {
    /// The slot's column kind.
    pub(crate) fn column_kind(&self) -> ColumnKind {
        match self.kind {
            FeatureKind::Numeric => ColumnKind::Numeric,
            FeatureKind::Categorical { .. } => ColumnKind::Categorical,
        }
    }

    /// The categories of a categorical slot (empty for a numeric one).
    pub(crate) fn categories(&self) -> &[String] {
        match &self.kind {
            FeatureKind::Categorical { categories } => categories,
            FeatureKind::Numeric => &[],
        }
    }
}

/// The layout of a table's columns.
pub(crate) fn layout_of(table: &Table) -> Vec<RowSlot> {
    table
        .iter()
        .map(|(name, col)| RowSlot {
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

/// An empty table with the given layout.
pub(crate) fn empty_table(layout: &[RowSlot]) -> Result<Table> {
    let mut t = Table::default();
    for slot in layout {
        let column = match &slot.kind {
            FeatureKind::Numeric => Column::Numeric(Vec::new()),
            FeatureKind::Categorical { categories } => {
                let mut col = CategoricalColumn::new();
                for cat in categories {
                    col.code_for(cat);
                }
                Column::Categorical(col)
            }
        };
        t.push_column(slot.name.clone(), column)?;
    }
    Ok(t)
}

/// A compiled step: maps a row of its input layout to a row of its output layout.
pub(crate) trait RowKernel: Debug + Send + Sync {
    /// The number of output slots.
    fn width_out(&self) -> usize;

    /// Writes the outputs for input row `src` (its input layout's width) into `dst`
    /// ([`width_out`](Self::width_out) long). Errors name row `row` of the batch and the
    /// column. Allocates nothing on success.
    fn apply_row(&self, src: &[f64], dst: &mut [f64], row: usize) -> Result<()>;
}

/// A fitted step that has a row path as well as its table path.
///
/// Every step in the registry ([`FittedStep`](super::FittedStep)) implements it; the row path
/// of a pipeline compiles its steps through it without knowing their types.
pub(crate) trait RowStep: FittedTransformer {
    /// The step's `type` name, for errors.
    fn name(&self) -> &'static str;

    /// Compiles the step for rows of `layout`. A fitted state that does not suit the layout
    /// (a column missing or of another kind, inconsistent per-column vectors, unsorted
    /// categories) is [`Error::ModelCorrupt`].
    fn compile_row(&self, layout: &[RowSlot]) -> Result<Box<dyn RowKernel>>;

    /// The output layout for input `layout`: the table path applied to an empty table.
    fn row_layout(&self, layout: &[RowSlot]) -> Result<Vec<RowSlot>> {
        Ok(layout_of(&self.transform(&empty_table(layout)?)?))
    }
}

/// The error for fitted state that does not fit together.
pub(crate) fn corrupt(step: &str, message: impl std::fmt::Display) -> Error {
    Error::ModelCorrupt(format!("fitted {step}: {message}"))
}

// ---------------------------------------------------------------------------------------------
// Building blocks

/// How an encoder writes a level.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum LevelEncoding {
    /// One-hot indicators for these levels (the dropped one left out).
    OneHot(Vec<u32>),
    /// The ordinal code: the level itself, `missing_value` for the missing level
    /// (`n_categories`), `unknown_value` for an unknown one.
    Ordinal {
        /// The number of categories (the missing level's number).
        n_categories: u32,
        /// The code of an unknown level.
        unknown_value: f64,
        /// The code of the missing level.
        missing_value: f64,
    },
}

/// A categorical slot through an encoder: its level, then the encoding.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct LevelEncoder {
    /// The input slot.
    pub(crate) src: usize,
    /// The level of each category of the input slot ([`UNKNOWN_LEVEL`] if not seen at fit).
    pub(crate) levels: Vec<u32>,
    /// The level of a missing cell.
    pub(crate) missing: u32,
    /// Whether an unknown level is an error.
    pub(crate) strict: bool,
    /// The step's hint for an unknown category.
    pub(crate) hint: &'static str,
    /// How the level is written.
    pub(crate) encoding: LevelEncoding,
}

/// A matrix map: output `k` is `Σ_j (x[srcs[j]] - center[j]) * weights[k * n_in + j]`,
/// accumulated from 0 in `j` order (e.g. a PCA projection; a 0/1 selection matrix selects
/// columns). Every input must be finite: `NaN` or an infinite value is an error naming the
/// row and the first such input column.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct LinearMap {
    srcs: Vec<usize>,
    center: Vec<f64>,
    /// Row-major `n_out × srcs.len()`.
    weights: Vec<f64>,
    n_out: usize,
}

impl LinearMap {
    /// A map of input slots `srcs` to `n_out` outputs; [`Error::ModelCorrupt`] (naming
    /// `step`) when `center` or `weights` do not have `srcs.len()` and
    /// `n_out * srcs.len()` entries.
    pub(crate) fn new(
        step: &str,
        srcs: Vec<usize>,
        center: Vec<f64>,
        weights: Vec<f64>,
        n_out: usize,
    ) -> Result<Self> {
        let n_in = srcs.len();
        if center.len() != n_in {
            return Err(corrupt(
                step,
                format!("the center has {} entries for {n_in} inputs", center.len()),
            ));
        }
        if n_out.checked_mul(n_in) != Some(weights.len()) {
            return Err(corrupt(
                step,
                format!(
                    "the weights have {} entries for {n_out} outputs of {n_in} inputs",
                    weights.len()
                ),
            ));
        }
        Ok(Self {
            srcs,
            center,
            weights,
            n_out,
        })
    }

    /// Output `k` for the row read by `get` (inputs already checked finite).
    #[inline]
    fn output(&self, k: usize, get: impl Fn(usize) -> f64) -> f64 {
        let n_in = self.srcs.len();
        let w = self.weights.get(k * n_in..(k + 1) * n_in).unwrap_or(&[]);
        let mut acc = 0.0;
        for ((&s, &c), &w) in self.srcs.iter().zip(&self.center).zip(w) {
            acc += (get(s) - c) * w;
        }
        acc
    }
}

/// One output group of a [`SlotMap`]: it writes [`width`](Self::width) consecutive slots.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum SlotOp {
    /// Pass slot `src` through.
    Copy(usize),
    /// Numeric imputation: `NaN` becomes `fill`; an infinite value is an error.
    Impute {
        /// The input slot.
        src: usize,
        /// The fill value.
        fill: f64,
    },
    /// Categorical imputation: a missing cell becomes category index `code`.
    ImputeCode {
        /// The input slot.
        src: usize,
        /// The fill category's index in the output layout.
        code: f64,
    },
    /// A scaler's affine map; an infinite value is an error.
    Affine {
        /// The input slot.
        src: usize,
        /// The shape of the map.
        form: AffineForm,
        /// Its coefficients.
        coef: (f64, f64),
    },
    /// A member of the row norm's slots, divided by the norm.
    Normalized(usize),
    /// A categorical slot through an encoder.
    Encode(LevelEncoder),
    /// Several output slots from several input slots.
    Linear(LinearMap),
}

impl SlotOp {
    /// The number of output slots.
    fn width(&self) -> usize {
        match self {
            SlotOp::Encode(LevelEncoder {
                encoding: LevelEncoding::OneHot(kept),
                ..
            }) => kept.len(),
            SlotOp::Linear(map) => map.n_out,
            _ => 1,
        }
    }
}

/// A row norm computed before the operations (the normalizer's).
#[derive(Debug, Clone, PartialEq)]
struct RowNorm {
    srcs: Vec<usize>,
    norm: Norm,
}

/// The kernel built from [`SlotOp`]s: the operations write the output row in order, after an
/// optional row norm over some input slots.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SlotMap {
    step: &'static str,
    /// The names of the input slots, for errors.
    names: Vec<String>,
    norm: Option<RowNorm>,
    ops: Vec<SlotOp>,
    width_out: usize,
}

/// Builds a [`SlotMap`] for one input layout with the table path's placement rules: slots
/// not replaced pass through in place.
#[derive(Debug)]
pub(crate) struct SlotMapBuilder<'l> {
    step: &'static str,
    layout: &'l [RowSlot],
    /// Per input slot: its replacement ops (`None`: pass through; empty: dropped).
    replaced: Vec<Option<Vec<SlotOp>>>,
    norm: Option<RowNorm>,
}

impl<'l> SlotMapBuilder<'l> {
    /// A builder for step `step` (its `type` name, for errors) on rows of `layout`.
    pub(crate) fn new(step: &'static str, layout: &'l [RowSlot]) -> Self {
        Self {
            step,
            layout,
            replaced: vec![None; layout.len()],
            norm: None,
        }
    }

    /// [`Error::ModelCorrupt`] naming the step.
    pub(crate) fn corrupt(&self, message: impl std::fmt::Display) -> Error {
        corrupt(self.step, message)
    }

    /// The slot of fitted column `name`, which must have the kind it was fitted on.
    pub(crate) fn find(&self, name: &str, kind: ColumnKind) -> Result<(usize, &'l RowSlot)> {
        let layout = self.layout;
        let (pos, slot) = layout
            .iter()
            .enumerate()
            .find(|(_, c)| c.name == name)
            .ok_or_else(|| self.corrupt(format!("column `{name}` is not in its input")))?;
        if slot.column_kind() != kind {
            return Err(self.corrupt(format!(
                "column `{name}` does not have the kind it was fitted on"
            )));
        }
        Ok((pos, slot))
    }

    /// Replaces input slot `pos` by the outputs of `ops` (none: the slot is dropped). A slot
    /// replaced twice is an error (a column listed twice).
    pub(crate) fn replace(&mut self, pos: usize, ops: Vec<SlotOp>) -> Result<()> {
        match self.replaced.get_mut(pos) {
            Some(s @ None) => {
                *s = Some(ops);
                Ok(())
            }
            Some(Some(_)) => Err(self.corrupt("a column is listed twice")),
            None => Err(self.corrupt(format!("slot {pos} is not in its input"))),
        }
    }

    /// Replaces the group of input slots `srcs` by `op` (a matrix map reading them): its
    /// outputs sit at the leftmost slot of the group, the other slots are dropped.
    pub(crate) fn replace_group(&mut self, srcs: &[usize], op: SlotOp) -> Result<()> {
        let Some(&first) = srcs.iter().min() else {
            return Err(self.corrupt("a matrix map without inputs"));
        };
        let mut op = Some(op);
        for &s in srcs {
            let ops = if s == first {
                op.take().into_iter().collect()
            } else {
                Vec::new()
            };
            self.replace(s, ops)?;
        }
        Ok(())
    }

    /// Computes the row `norm` over slots `srcs` before the operations; [`SlotOp::Normalized`]
    /// divides by it.
    pub(crate) fn row_norm(&mut self, srcs: Vec<usize>, norm: Norm) {
        self.norm = Some(RowNorm { srcs, norm });
    }

    /// The kernel.
    pub(crate) fn finish(self) -> Box<dyn RowKernel> {
        let ops: Vec<SlotOp> = self
            .replaced
            .into_iter()
            .enumerate()
            .flat_map(|(pos, r)| r.unwrap_or_else(|| vec![SlotOp::Copy(pos)]))
            .collect();
        Box::new(SlotMap {
            step: self.step,
            names: self.layout.iter().map(|c| c.name.clone()).collect(),
            width_out: ops.iter().map(SlotOp::width).sum(),
            norm: self.norm,
            ops,
        })
    }
}

/// A scaler's map of one value, as [`AffineForm`] documents it (the same arithmetic as the
/// scalers' table path).
#[inline(always)]
pub(crate) fn affine(form: AffineForm, (a, b): (f64, f64), x: f64) -> f64 {
    match form {
        AffineForm::SubDiv => (x - a) / b,
        AffineForm::MulAdd => x * a + b,
    }
}

impl SlotMap {
    fn column(&self, src: usize) -> Option<String> {
        self.names.get(src).cloned()
    }

    fn infinite(&self, row: usize, src: usize) -> Error {
        Error::InvalidValue {
            context: format!("{} transform", self.step),
            row,
            column: self.column(src),
            message: "infinite value; expected a finite number or NaN for a missing cell".into(),
        }
    }

    /// The row norm (1 when there is none), as the normalizer's table path computes it:
    /// accumulated in column order, a zero norm divides by 1.
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
                    column: self.column(s),
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

    fn encode_level(&self, enc: &LevelEncoder, x: f64, row: usize) -> Result<u32> {
        let level = if x.is_nan() {
            enc.missing
        } else {
            enc.levels.get(x as usize).copied().unwrap_or(UNKNOWN_LEVEL)
        };
        if level == UNKNOWN_LEVEL && enc.strict {
            return Err(Error::InvalidValue {
                context: format!("{} transform", self.step),
                row,
                column: self.column(enc.src),
                message: format!(
                    "{} not seen at fit; {}",
                    if x.is_nan() {
                        "missing value".to_string()
                    } else {
                        format!("category index {x}")
                    },
                    enc.hint
                ),
            });
        }
        Ok(level)
    }
}

impl RowKernel for SlotMap {
    fn width_out(&self) -> usize {
        self.width_out
    }

    fn apply_row(&self, src: &[f64], dst: &mut [f64], row: usize) -> Result<()> {
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
                SlotOp::Copy(s) => put(get(*s)),
                SlotOp::Impute { src: s, fill } => {
                    let x = get(*s);
                    if x.is_infinite() {
                        return Err(self.infinite(row, *s));
                    }
                    put(if x.is_nan() { *fill } else { x });
                }
                SlotOp::ImputeCode { src: s, code } => {
                    let x = get(*s);
                    put(if x.is_nan() { *code } else { x });
                }
                SlotOp::Affine { src: s, form, coef } => {
                    let x = get(*s);
                    if x.is_infinite() {
                        return Err(self.infinite(row, *s));
                    }
                    put(affine(*form, *coef, x));
                }
                SlotOp::Normalized(s) => put(get(*s) / norm),
                SlotOp::Encode(enc) => {
                    let x = get(enc.src);
                    let level = self.encode_level(enc, x, row)?;
                    match &enc.encoding {
                        LevelEncoding::OneHot(kept) => {
                            for &k in kept {
                                put(if level == k { 1.0 } else { 0.0 });
                            }
                        }
                        LevelEncoding::Ordinal {
                            n_categories,
                            unknown_value,
                            missing_value,
                        } => put(match level {
                            UNKNOWN_LEVEL => *unknown_value,
                            k if k == *n_categories => *missing_value,
                            k => k as f64,
                        }),
                    }
                }
                SlotOp::Linear(map) => {
                    if let Some(&s) = map.srcs.iter().find(|&&s| !get(s).is_finite()) {
                        return Err(non_finite_error(self.step, row, self.column(s), get(s)));
                    }
                    for k in 0..map.n_out {
                        put(map.output(k, get));
                    }
                }
            }
        }
        Ok(())
    }
}

/// The error of a matrix map for a non-finite input (the table path of a step built on
/// [`LinearMap`] reports the same).
pub(crate) fn non_finite_error(step: &str, row: usize, column: Option<String>, x: f64) -> Error {
    Error::InvalidValue {
        context: format!("{step} transform"),
        row,
        column,
        message: format!(
            "{}; {step} needs finite values (impute missing values first)",
            if x.is_nan() {
                "missing value (NaN)".to_string()
            } else {
                format!("non-finite value {x}")
            }
        ),
    }
}

/// A test-only matrix step: a fixed linear projection of some numeric columns (as a fitted
/// PCA is), replacing them by `out_names` at the leftmost one's position. It is not in the
/// registry; it proves that the row path takes a step that mixes columns and changes the
/// column count.
#[cfg(test)]
pub(crate) mod testing {
    use super::*;
    use crate::preprocess::columns;

    /// `out[k] = Σ_j (x_j - center[j]) * weights[k][j]` over `columns`.
    #[derive(Debug, Clone, PartialEq)]
    pub(crate) struct Projection {
        /// The input columns, in the order of `center` and the weights' rows.
        pub(crate) columns: Vec<String>,
        /// Subtracted from each input first.
        pub(crate) center: Vec<f64>,
        /// One row of weights per output.
        pub(crate) weights: Vec<Vec<f64>>,
        /// The output column names.
        pub(crate) out_names: Vec<String>,
    }

    const STEP: &str = "projection";

    impl FittedTransformer for Projection {
        fn transform(&self, table: &Table) -> Result<Table> {
            let inputs: Vec<&[f64]> = self
                .columns
                .iter()
                .map(|c| columns::numeric(table, c, STEP))
                .collect::<Result<_>>()?;
            let mut outs = vec![Vec::with_capacity(table.n_rows()); self.out_names.len()];
            for i in 0..table.n_rows() {
                for (name, v) in self.columns.iter().zip(&inputs) {
                    if !v[i].is_finite() {
                        return Err(non_finite_error(STEP, i, Some(name.clone()), v[i]));
                    }
                }
                for (out, w) in outs.iter_mut().zip(&self.weights) {
                    let mut acc = 0.0;
                    for ((v, &c), &w) in inputs.iter().zip(&self.center).zip(w) {
                        acc += (v[i] - c) * w;
                    }
                    out.push(acc);
                }
            }
            let first = self
                .columns
                .iter()
                .min_by_key(|c| table.index_of(c, STEP).unwrap_or(usize::MAX))
                .cloned()
                .unwrap_or_default();
            let replaced = self
                .columns
                .iter()
                .map(|c| {
                    let outputs = if *c == first {
                        self.out_names
                            .iter()
                            .cloned()
                            .zip(outs.iter().cloned().map(Column::Numeric))
                            .collect()
                    } else {
                        vec![]
                    };
                    (c.clone(), outputs)
                })
                .collect();
            columns::assemble(table, replaced)
        }
    }

    impl RowStep for Projection {
        fn name(&self) -> &'static str {
            STEP
        }

        fn compile_row(&self, layout: &[RowSlot]) -> Result<Box<dyn RowKernel>> {
            let mut b = SlotMapBuilder::new(STEP, layout);
            let srcs = self
                .columns
                .iter()
                .map(|c| Ok(b.find(c, ColumnKind::Numeric)?.0))
                .collect::<Result<Vec<_>>>()?;
            let weights = self.weights.iter().flatten().copied().collect();
            let map = LinearMap::new(
                STEP,
                srcs.clone(),
                self.center.clone(),
                weights,
                self.out_names.len(),
            )?;
            b.replace_group(&srcs, SlotOp::Linear(map))?;
            Ok(b.finish())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::testing::Projection;
    use super::*;

    fn layout() -> Vec<RowSlot> {
        vec![
            RowSlot {
                name: "c".into(),
                kind: FeatureKind::Categorical {
                    categories: vec!["x".into()],
                },
            },
            RowSlot {
                name: "a".into(),
                kind: FeatureKind::Numeric,
            },
            RowSlot {
                name: "b".into(),
                kind: FeatureKind::Numeric,
            },
        ]
    }

    #[test]
    fn a_matrix_map_replaces_its_group_at_the_leftmost_slot() {
        let p = Projection {
            columns: vec!["b".into(), "a".into()],
            center: vec![1.0, 2.0],
            weights: vec![vec![1.0, 0.0], vec![0.5, -1.0], vec![0.0, 3.0]],
            out_names: vec!["p0".into(), "p1".into(), "p2".into()],
        };
        let kernel = p.compile_row(&layout()).unwrap();
        assert_eq!(kernel.width_out(), 4);
        let out_layout = p.row_layout(&layout()).unwrap();
        let names: Vec<&str> = out_layout.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["c", "p0", "p1", "p2"]);
        let mut dst = [0.0; 4];
        kernel.apply_row(&[0.0, 5.0, 3.0], &mut dst, 0).unwrap();
        assert_eq!(dst, [0.0, 2.0, 1.0 - 3.0, 9.0]);
        match kernel.apply_row(&[0.0, f64::NAN, 3.0], &mut dst, 7) {
            Err(Error::InvalidValue { row, column, .. }) => {
                assert_eq!((row, column.as_deref()), (7, Some("a")))
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn inconsistent_matrix_state_is_model_corrupt() {
        let mut p = Projection {
            columns: vec!["a".into(), "b".into()],
            center: vec![0.0, 0.0],
            weights: vec![vec![1.0, 0.0], vec![0.5]],
            out_names: vec!["p0".into(), "p1".into()],
        };
        assert!(matches!(
            p.compile_row(&layout()),
            Err(Error::ModelCorrupt(_))
        ));
        p.weights = vec![vec![1.0, 0.0], vec![0.5, 1.0]];
        p.center = vec![0.0];
        assert!(matches!(
            p.compile_row(&layout()),
            Err(Error::ModelCorrupt(_))
        ));
        p.center = vec![0.0, 0.0];
        p.columns = vec!["a".into(), "a".into()];
        assert!(matches!(
            p.compile_row(&layout()),
            Err(Error::ModelCorrupt(_))
        ));
        p.columns = vec!["a".into(), "c".into()];
        assert!(matches!(
            p.compile_row(&layout()),
            Err(Error::ModelCorrupt(_))
        ));
    }

    #[test]
    fn affine_matches_the_scalers_row_path() {
        use crate::preprocess::{MinMaxScaler, NumericScaler, RobustScaler, StandardScaler};
        use crate::traits::Transformer;
        let t = Table::new(vec![
            ("a".into(), Column::numeric(vec![0.1, 2.7, -3.3, 9.1])),
            ("b".into(), Column::numeric(vec![1e-3, 5.5, 7.25, -0.4])),
        ])
        .unwrap();
        let scalers: Vec<Box<dyn NumericScaler>> = vec![
            Box::new(StandardScaler::default().fit(&t).unwrap()),
            Box::new(MinMaxScaler::default().fit(&t).unwrap()),
            Box::new(RobustScaler::default().fit(&t).unwrap()),
        ];
        for s in &scalers {
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
