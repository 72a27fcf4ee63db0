//! The `pca` step: principal component analysis of the numeric columns (scikit-learn's
//! `PCA` in a pipeline). It fits with the same code and settings as the `pca` model
//! ([`Pca`], [`crate::common::pca`]) and replaces every numeric column by the outputs
//! `pca0`, `pca1`, ... (scikit-learn's `get_feature_names_out`), placed where the leftmost
//! of them was; categorical columns pass through. Its row path is a [`LinearMap`]
//! (`(x - mean) · Wᵀ`, whitening folded into `W`), and the table path repeats that
//! arithmetic, so both give the same bits. Every input must be finite (impute first).
//!
//! ```
//! use amlis::data::{Column, Table};
//! use amlis::preprocess::{NComponents, Pca};
//! use amlis::traits::Transformer;
//!
//! let t = Table::new(vec![
//!     ("a".into(), Column::numeric(vec![1.0, 2.0, 3.0, 4.0])),
//!     ("b".into(), Column::numeric(vec![2.0, 4.1, 5.9, 8.0])),
//! ])?;
//! let pca = Pca { n_components: Some(NComponents::Count(1)), ..Pca::default() };
//! let (_, out) = pca.fit_transform(&t)?;
//! assert_eq!(out.names(), &["pca0"]);
//! # Ok::<(), amlis::Error>(())
//! ```

use serde::{Deserialize, Serialize};

use super::columns::{self, require_rows, select_fit_columns};
use super::row::{
    non_finite_error, LinearMap, RowKernel, RowSlot, RowStep, SlotMapBuilder, SlotOp,
};
use crate::common::pca::{Pca, PcaModel};
use crate::data::{Column, ColumnKind, Table};
use crate::error::{Error, Result};
use crate::traits::{FittedTransformer, Transformer};

const STEP: &str = "pca";

/// A fitted `pca` step: the numeric columns it read, in order, and the fitted axes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FittedPca {
    /// The input columns, in the order of the model's features.
    pub columns: Vec<String>,
    /// The fitted principal axes.
    pub model: PcaModel,
}

impl Transformer for Pca {
    type Fitted = FittedPca;

    /// Fits on every numeric column of `table` (finite values only); the randomized solver
    /// draws from `random_state` (0 when unset).
    fn fit(&self, table: &Table) -> Result<FittedPca> {
        require_rows(table, STEP)?;
        let names = select_fit_columns(table, None, &[ColumnKind::Numeric], STEP)?;
        if names.is_empty() {
            return Err(Error::InvalidArgument(format!(
                "{STEP} fit: the table has no numeric column"
            )));
        }
        let inputs: Vec<&[f64]> = names
            .iter()
            .map(|c| columns::numeric(table, c, STEP))
            .collect::<Result<_>>()?;
        let (n, p) = (table.n_rows(), names.len());
        let mut x = ndarray::Array2::<f64>::zeros((n, p));
        for (j, (col, name)) in inputs.iter().zip(&names).enumerate() {
            for (i, &v) in col.iter().enumerate() {
                if !v.is_finite() {
                    return Err(Error::InvalidValue {
                        context: format!("{STEP} fit"),
                        row: i,
                        column: Some(name.clone()),
                        message: format!(
                            "{v} is not a finite number; impute missing values first \
                             (e.g. with a `simple_imputer` step)"
                        ),
                    });
                }
                x[[i, j]] = v;
            }
        }
        let model = self.fit_matrix(x.view(), 0)?;
        Ok(FittedPca {
            columns: names,
            model,
        })
    }
}

impl FittedPca {
    /// The output column names, `pca0` ... `pca{k-1}`.
    pub fn output_names(&self) -> Vec<String> {
        (0..self.model.n_components)
            .map(|k| format!("{STEP}{k}"))
            .collect()
    }

    fn check(&self) -> Result<()> {
        self.model.check(STEP)?;
        columns::check_lengths(
            STEP,
            self.model.n_features,
            &[("columns", self.columns.len())],
        )
    }
}

impl FittedTransformer for FittedPca {
    fn transform(&self, table: &Table) -> Result<Table> {
        self.check()?;
        let inputs: Vec<&[f64]> = self
            .columns
            .iter()
            .map(|c| columns::numeric(table, c, STEP))
            .collect::<Result<_>>()?;
        let k = self.model.n_components;
        let weights = self.model.projection_weights();
        let p = self.columns.len();
        let mut outs = vec![Vec::with_capacity(table.n_rows()); k];
        for i in 0..table.n_rows() {
            for (name, v) in self.columns.iter().zip(&inputs) {
                if !v[i].is_finite() {
                    return Err(non_finite_error(STEP, i, Some(name.clone()), v[i]));
                }
            }
            // The arithmetic of `LinearMap`, in the same order.
            for (o, out) in outs.iter_mut().enumerate() {
                let w = weights.get(o * p..(o + 1) * p).unwrap_or(&[]);
                let mut acc = 0.0;
                for ((v, &c), &w) in inputs.iter().zip(&self.model.mean).zip(w) {
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
        let mut outs = Some(outs);
        let replaced = self
            .columns
            .iter()
            .map(|c| {
                let outputs = match outs.take_if(|_| *c == first) {
                    Some(o) => self
                        .output_names()
                        .into_iter()
                        .zip(o.into_iter().map(Column::Numeric))
                        .collect(),
                    None => vec![],
                };
                (c.clone(), outputs)
            })
            .collect();
        columns::assemble(table, replaced)
    }
}

impl RowStep for FittedPca {
    fn name(&self) -> &'static str {
        STEP
    }

    fn compile_row(&self, layout: &[RowSlot]) -> Result<Box<dyn RowKernel>> {
        self.check()?;
        let mut b = SlotMapBuilder::new(STEP, layout);
        let srcs = self
            .columns
            .iter()
            .map(|c| Ok(b.find(c, ColumnKind::Numeric)?.0))
            .collect::<Result<Vec<_>>>()?;
        let map = LinearMap::new(
            STEP,
            srcs.clone(),
            self.model.mean.clone(),
            self.model.projection_weights(),
            self.model.n_components,
        )?;
        b.replace_group(&srcs, SlotOp::Linear(map))?;
        Ok(b.finish())
    }
}
