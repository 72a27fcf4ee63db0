//! The numeric row path of a pipeline: its fitted steps compiled into row kernels on plain
//! `f64` rows, so that predicting one row allocates nothing.
//!
//! Each step compiles itself for the layout its input rows have ([`RowStep`]: names, kinds,
//! categories; see `crate::preprocess::row`); this module only chains the compiled stages,
//! checks that each makes the layout its table path makes, and maps the last layout onto the
//! model's features. It knows no step type. The kernels repeat the table path's arithmetic in
//! the same order, so both paths give bit-identical results (tested on penguins with every
//! step kind, and with a test-only matrix step below), and the same errors (an unknown
//! category, an infinite value), here naming the row of the batch.

use std::sync::Arc;

use crate::data::{FeatureKind, Table};
use crate::error::{Error, Result};
use crate::preprocess::{layout_of, RowKernel, RowSlot, RowStep};

use super::InputColumn;

/// How the last layout becomes the model's feature row.
#[derive(Debug, Clone, PartialEq)]
enum FeatureOp {
    /// A numeric slot, as is.
    Numeric,
    /// A categorical slot: its code mapped onto the feature's categories (`NaN` if absent).
    Remap(Vec<f64>),
}

/// The compiled row path of a pipeline.
#[derive(Debug, Clone)]
pub(crate) struct RowPlan {
    inputs: Vec<InputColumn>,
    stages: Vec<Arc<dyn RowKernel>>,
    features: Vec<FeatureOp>,
    /// The widest layout, for scratch buffers.
    max_width: usize,
}

fn corrupt(step: &str, message: impl std::fmt::Display) -> Error {
    Error::ModelCorrupt(format!("fitted {step}: {message}"))
}

/// The columns of a table as a layout.
pub(crate) fn describe(table: &Table) -> Vec<InputColumn> {
    layout_of(table)
        .into_iter()
        .map(|RowSlot { name, kind }| InputColumn { name, kind })
        .collect()
}

impl RowPlan {
    /// Compiles `steps` for raw rows of `inputs` feeding a model that takes `features`.
    ///
    /// Any inconsistency (a step column missing from its input, a kind mismatch, unsorted
    /// categories, a feature count or kind that the steps do not produce) is
    /// [`Error::ModelCorrupt`].
    pub(crate) fn compile<S: RowStep>(
        inputs: &[InputColumn],
        steps: &[S],
        features: &[InputColumn],
    ) -> Result<Self> {
        let mut layout: Vec<RowSlot> = inputs
            .iter()
            .map(|c| RowSlot {
                name: c.name.clone(),
                kind: c.kind.clone(),
            })
            .collect();
        let mut max_width = layout.len().max(features.len());
        let mut stages = Vec::with_capacity(steps.len());
        for (i, step) in steps.iter().enumerate() {
            let kernel = step.compile_row(&layout)?;
            let out_layout = step
                .row_layout(&layout)
                .map_err(|e| corrupt(step.name(), format!("step {i} does not apply: {e}")))?;
            if out_layout.len() != kernel.width_out() {
                return Err(corrupt(
                    step.name(),
                    format!(
                        "step {i} makes {} columns, its row path {}",
                        out_layout.len(),
                        kernel.width_out()
                    ),
                ));
            }
            max_width = max_width.max(kernel.width_out());
            stages.push(Arc::from(kernel));
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
    /// [`scratch_len`](Self::scratch_len) long); returns which buffer holds them (`false`:
    /// `a`). Allocates nothing.
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
            let dst = dst.get_mut(..stage.width_out()).ok_or_else(scratch_error)?;
            stage.apply_row(src, dst, row_index)?;
            width = stage.width_out();
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::Column;
    use crate::preprocess::testing::Projection;
    use crate::preprocess::{FittedStep, OneHotEncoder, SimpleImputer, StandardScaler};
    use crate::traits::{FittedTransformer, Transformer};

    /// A registered step or the test-only matrix step.
    #[derive(Debug)]
    enum AnyStep {
        Fitted(FittedStep),
        Matrix(Projection),
    }

    impl AnyStep {
        fn inner(&self) -> &dyn RowStep {
            match self {
                AnyStep::Fitted(s) => s,
                AnyStep::Matrix(s) => s,
            }
        }
    }

    impl FittedTransformer for AnyStep {
        fn transform(&self, table: &Table) -> Result<Table> {
            self.inner().transform(table)
        }
    }

    impl RowStep for AnyStep {
        fn name(&self) -> &'static str {
            self.inner().name()
        }
        fn compile_row(&self, layout: &[RowSlot]) -> Result<Box<dyn RowKernel>> {
            self.inner().compile_row(layout)
        }
    }

    fn raw() -> Table {
        Table::new(vec![
            (
                "a".into(),
                Column::numeric(vec![0.5, f64::NAN, 2.25, -1.0, 3.5, 0.1]),
            ),
            (
                "c".into(),
                Column::categorical_from(&[Some("x"), Some("y"), None, Some("x"), Some("z"), None]),
            ),
            (
                "b".into(),
                Column::numeric(vec![10.0, 11.5, 9.0, f64::NAN, 12.0, 7.5]),
            ),
            (
                "d".into(),
                Column::numeric(vec![-3.0, 0.0, 1.0, 2.0, 4.5, 1e-3]),
            ),
        ])
        .unwrap()
    }

    /// The raw rows of `t` (categorical cells as category indices, `NaN` missing).
    fn rows(t: &Table) -> Vec<Vec<f64>> {
        (0..t.n_rows())
            .map(|i| {
                t.columns()
                    .iter()
                    .map(|c| match c {
                        Column::Numeric(v) => v[i],
                        Column::Categorical(c) => match c.get(i) {
                            None => f64::NAN,
                            Some(s) => c.categories().iter().position(|x| x == s).unwrap() as f64,
                        },
                    })
                    .collect()
            })
            .collect()
    }

    /// Fits imputer → projection of (b, a, d) onto 2 outputs (4 columns become 3) → one-hot
    /// (3 columns become 5) → scaler; returns the steps and the table path's output.
    fn fit_chain(t: &Table) -> (Vec<AnyStep>, Table) {
        let (imputer, t1) = SimpleImputer::default()
            .strategy(crate::preprocess::ImputeStrategy::MostFrequent)
            .fit_transform(t)
            .unwrap();
        let projection = Projection {
            columns: vec!["b".into(), "a".into(), "d".into()],
            center: vec![10.1, 0.7, 0.3],
            weights: vec![vec![0.25, -1.5, 1.0 / 3.0], vec![1e-3, 0.7, -2.0]],
            out_names: vec!["pc0".into(), "pc1".into()],
        };
        let t2 = projection.transform(&t1).unwrap();
        assert_eq!(t2.names(), &["pc0", "pc1", "c"]);
        let (onehot, t3) = OneHotEncoder::default().fit_transform(&t2).unwrap();
        let (scaler, t4) = StandardScaler::default().fit_transform(&t3).unwrap();
        let steps = vec![
            AnyStep::Fitted(FittedStep::SimpleImputer(imputer)),
            AnyStep::Matrix(projection),
            AnyStep::Fitted(FittedStep::OneHotEncoder(onehot)),
            AnyStep::Fitted(FittedStep::StandardScaler(scaler)),
        ];
        (steps, t4)
    }

    #[test]
    fn a_matrix_step_goes_through_the_row_path_bit_for_bit() {
        let t = raw();
        let (steps, out) = fit_chain(&t);
        let plan = RowPlan::compile(&describe(&t), &steps, &describe(&out)).unwrap();
        assert_eq!(out.names(), &["pc0", "pc1", "c_x", "c_y", "c_z"]);
        let mut a = vec![0.0; plan.scratch_len()];
        let mut b = vec![0.0; plan.scratch_len()];
        for (i, row) in rows(&t).iter().enumerate() {
            let in_b = plan.features_of(row, i, &mut a, &mut b).unwrap();
            let got = if in_b { &b } else { &a };
            for (j, (_, col)) in out.iter().enumerate() {
                let want = col.as_numeric().unwrap()[i];
                assert_eq!(got[j].to_bits(), want.to_bits(), "row {i} column {j}");
            }
        }
    }

    #[test]
    fn a_matrix_step_fails_as_its_table_path_does() {
        // Without the imputer, the projection meets the missing values.
        let t = raw();
        let (mut steps, _) = fit_chain(&t);
        steps.remove(0);
        let steps = &steps[..1];
        let out = steps[0].transform(&t).unwrap_err();
        let plan_out = steps[0].transform(&t.take_rows(&[0]).unwrap()).unwrap();
        let plan = RowPlan::compile(&describe(&t), steps, &describe(&plan_out)).unwrap();
        let mut a = vec![0.0; plan.scratch_len()];
        let mut b = vec![0.0; plan.scratch_len()];
        let by_rows = rows(&t)
            .iter()
            .enumerate()
            .find_map(|(i, row)| plan.features_of(row, i, &mut a, &mut b).err())
            .unwrap();
        assert_eq!(out.to_string(), by_rows.to_string());
        assert!(out.to_string().contains("row 1"), "{out}");
    }
}
