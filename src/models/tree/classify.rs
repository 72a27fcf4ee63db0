//! Prediction plumbing shared by the fitted tree classifiers (decision tree and forests):
//! the single-row shape check and the [`crate::traits::ProbabilisticPredictor`] impl that
//! turns per-row class scores into probabilities, block by block in parallel.

use crate::error::{Error, Result};

/// Checks that `row` has `n_features` values and `out` has `n_classes` slots, for the
/// single-row probability path of the model named by `context`.
pub(crate) fn check_proba_row(
    context: &str,
    n_features: usize,
    n_classes: usize,
    row: &[f64],
    out: &[f64],
) -> Result<()> {
    if row.len() != n_features || out.len() != n_classes {
        return Err(Error::shape(
            context,
            format!("a row of {n_features} values and {n_classes} output slots"),
            format!("{} values and {} slots", row.len(), out.len()),
        ));
    }
    Ok(())
}

/// Implements [`crate::traits::ProbabilisticPredictor`] for a fitted classifier that has the
/// fields `classes: Vec<String>` and `n_features: usize`, an inherent
/// `predict_proba_row_into(&self, row, out)`, and an inherent
/// `proba_block(&self, rows, chunk) -> Result<()>` writing `n_classes` probabilities per
/// row of a contiguous block. `$name` (a constant, e.g. the trainer's
/// [`NAME`](crate::traits::Trainer::NAME)) prefixes shape errors; `$block_rows` maps the
/// number of rows to the rows per parallel block.
macro_rules! probabilistic_classifier {
    ($model:ty, $name:expr, $block_rows:expr) => {
        impl $crate::traits::Outputs for $model {
            fn as_probabilistic(&self) -> Option<&dyn $crate::traits::ProbabilisticPredictor> {
                Some(self)
            }
        }

        impl $crate::traits::ProbabilisticPredictor for $model {
            fn predict_proba_row_into(
                &self,
                row: &[f64],
                out: &mut [f64],
            ) -> $crate::error::Result<()> {
                <$model>::predict_proba_row_into(self, row, out)
            }

            fn n_classes(&self) -> usize {
                self.classes.len()
            }

            fn classes(&self) -> &[String] {
                &self.classes
            }

            fn predict_proba_into(
                &self,
                x: ::ndarray::ArrayView2<'_, f64>,
                out: &mut [f64],
            ) -> $crate::error::Result<()> {
                let k = self.classes.len();
                $crate::models::kit::validate::check_predict_shapes(
                    $crate::models::kit::context!($name, "predict_proba"),
                    x,
                    self.n_features,
                    out.len(),
                    k,
                )?;
                let block_rows: fn(usize) -> usize = $block_rows;
                $crate::models::tree::flat::par_row_blocks(
                    x,
                    out,
                    k,
                    block_rows(x.nrows()),
                    |rows, chunk| self.proba_block(rows, chunk),
                )
            }
        }
    };
}
pub(crate) use probabilistic_classifier;
