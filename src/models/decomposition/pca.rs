//! `PCA`, as scikit-learn's: principal component analysis of the rows, by an exact SVD, an
//! eigendecomposition of the covariance or a randomized SVD (see [`crate::common::pca`] for
//! the solvers, the `"auto"` rule and the sign convention). A model of kind *transformer*:
//! it fits without a target, writes the projection of each row on the components through
//! `transform` (`AMLIS_OUTPUT_TRANSFORM`) and the log-likelihood of each row under the
//! probabilistic PCA model through its scores (scikit-learn's `score_samples`,
//! `AMLIS_OUTPUT_SCORE`).
//!
//! ```
//! use amlis::data::DenseDataset;
//! use amlis::models::decomposition::{NComponents, Pca};
//! use amlis::traits::{Trainer, TransformPredictor};
//! use ndarray::array;
//!
//! let x = array![[2.0, 0.0], [0.0, 1.0], [-2.0, 0.0], [0.0, -1.0]];
//! let model = Pca::default()
//!     .n_components(NComponents::Count(1))
//!     .fit(&DenseDataset::unsupervised(x)?)?;
//! // The first axis is the first feature, where the variance is.
//! assert!((model.components[0][0] - 1.0).abs() < 1e-12);
//! assert!((model.explained_variance[0] - 8.0 / 3.0).abs() < 1e-12);
//! let mut z = [0.0];
//! model.transform_row_into(&[3.0, 5.0], &mut z)?;
//! assert!((z[0] - 3.0).abs() < 1e-12);
//! # Ok::<(), amlis::Error>(())
//! ```

use ndarray::{ArrayView1, ArrayView2};

use crate::common::parallel::first_of_blocks;
use crate::error::{Error, Result};
use crate::models::kit::context;
use crate::models::kit::validate::{check_finite, check_numeric_kinds, check_predict_shapes};
use crate::traits::{
    Dataset, FitContext, Model, Outputs, Predictor, ScorePredictor, Trainer, TransformPredictor,
};

pub use crate::common::pca::{IteratedPower, NComponents, Pca, PcaModel};

const NAME: &str = <Pca as Trainer>::NAME;

/// Rows per block of the batch outputs.
const BLOCK: usize = 1024;

crate::models::kit::setters!(Pca {
    n_components: NComponents => Some,
    whiten: bool,
    svd_solver: String,
    iterated_power: IteratedPower,
    n_oversamples: usize,
    power_iteration_normalizer: String,
    random_state: u64 => Some,
});

impl Trainer for Pca {
    type Model = PcaModel;
    const NAME: &'static str = "pca";

    /// Fits the principal axes; a target is not needed (a given one is ignored, as sample
    /// weights are: scikit-learn's `PCA` takes neither). The randomized solver draws from
    /// `random_state`, or the context's seed.
    fn fit_with(&self, data: &dyn Dataset, ctx: &FitContext<'_>) -> Result<PcaModel> {
        check_numeric_kinds(NAME, data.feature_kinds(), data.feature_names())?;
        let x = data.features();
        check_finite(NAME, x.view(), data.feature_names())?;
        ctx.install(|| self.fit_matrix(x.view(), ctx.seed()))?
    }
}

/// Errors on the first non-finite value of `row`, naming row `index` and its column.
pub(super) fn check_row(context: &str, row: &[f64], index: usize) -> Result<()> {
    match row.iter().position(|v| !v.is_finite()) {
        None => Ok(()),
        Some(j) => Err(Error::InvalidValue {
            context: context.into(),
            row: index,
            column: Some(format!("x{j}")),
            message: format!(
                "{} is not a finite number; PCA takes finite values only (impute missing \
                 values first, e.g. with a `simple_imputer` step)",
                row.get(j).copied().unwrap_or(f64::NAN)
            ),
        }),
    }
}

/// Runs `f(row, out, index)` over the rows of `x` in parallel blocks, `width` outputs per
/// row; the first error in row order wins.
fn per_row(
    x: ArrayView2<'_, f64>,
    out: &mut [f64],
    width: usize,
    f: impl Fn(&[f64], &mut [f64], usize) -> Result<()> + Sync,
) -> Result<()> {
    let width = width.max(1);
    let bad = first_of_blocks(out, BLOCK * width, |b, chunk| {
        let mut buf = Vec::new();
        for (r, o) in chunk.chunks_exact_mut(width).enumerate() {
            let i = b * BLOCK + r;
            let row: ArrayView1<'_, f64> = x.row(i);
            let slice = match row.as_slice() {
                Some(s) => s,
                None => {
                    buf.clear();
                    buf.extend(row.iter().copied());
                    &buf
                }
            };
            if let Err(e) = f(slice, o, i) {
                return Some(e);
            }
        }
        None
    });
    bad.map_or(Ok(()), Err)
}

/// Checks the lengths of a single-row call.
fn check_row_shapes(
    context: &str,
    n_in: usize,
    n_out: usize,
    row: &[f64],
    out: &[f64],
) -> Result<()> {
    if row.len() != n_in || out.len() != n_out {
        return Err(Error::shape(
            context,
            format!("{n_in} values in, {n_out} out"),
            format!("{} in, {} out", row.len(), out.len()),
        ));
    }
    Ok(())
}

impl Model for PcaModel {
    fn n_features(&self) -> usize {
        self.n_features
    }

    fn validate(&self) -> Result<()> {
        self.check(NAME)
    }
}

/// A transformer has no per-row prediction: [`Error::Unsupported`] (use `transform`).
impl Predictor for PcaModel {
    fn predict_into(&self, _x: ArrayView2<'_, f64>, _out: &mut [f64]) -> Result<()> {
        Err(Error::Unsupported(format!(
            "{NAME} is a transformer: it writes columns (transform) and scores \
             (score_samples), not a prediction per row"
        )))
    }
}

/// scikit-learn's `transform`: the projection on the components (whitened if asked).
impl TransformPredictor for PcaModel {
    fn n_outputs(&self) -> usize {
        self.n_components
    }

    fn transform_into(&self, x: ArrayView2<'_, f64>, out: &mut [f64]) -> Result<()> {
        const CONTEXT: &str = context!(NAME, "transform");
        check_predict_shapes(CONTEXT, x, self.n_features, out.len(), self.n_components)?;
        // Blocks of rows, each projected at once with the components side by side: the bits
        // of `transform_row_into`, row by row.
        let (p, k) = (self.n_features, self.n_components.max(1));
        let weights = self.components_transposed();
        let bad = first_of_blocks(out, BLOCK * k, |b, chunk| {
            let first = b * BLOCK;
            let m = chunk.len() / k;
            let view = x.slice(ndarray::s![first..first + m, ..]);
            let copy;
            let rows = match view.as_slice() {
                Some(s) => s,
                None => {
                    copy = view.iter().copied().collect::<Vec<f64>>();
                    &copy[..]
                }
            };
            // One branch-free pass over the block; the row-by-row search only when it fails.
            if !rows.iter().fold(true, |all, v| all & v.is_finite()) {
                for (r, row) in rows.chunks_exact(p.max(1)).enumerate() {
                    if let Err(e) = check_row(CONTEXT, row, first + r) {
                        return Some(e);
                    }
                }
            }
            self.project_rows(&weights, rows, chunk).err()
        });
        bad.map_or(Ok(()), Err)
    }

    /// Allocation-free.
    fn transform_row_into(&self, row: &[f64], out: &mut [f64]) -> Result<()> {
        const CONTEXT: &str = context!(NAME, "transform_row");
        check_row_shapes(CONTEXT, self.n_features, self.n_components, row, out)?;
        check_row(CONTEXT, row, 0)?;
        self.project_row(row, out);
        Ok(())
    }
}

/// scikit-learn's `score_samples`: the log-likelihood of each row under the probabilistic
/// PCA model.
impl ScorePredictor for PcaModel {
    fn n_scores(&self) -> usize {
        1
    }

    fn score_into(&self, x: ArrayView2<'_, f64>, out: &mut [f64]) -> Result<()> {
        const CONTEXT: &str = context!(NAME, "score_samples");
        check_predict_shapes(CONTEXT, x, self.n_features, out.len(), 1)?;
        per_row(x, out, 1, |row, o, i| {
            check_row(CONTEXT, row, i)?;
            o[0] = self.log_likelihood_row(row);
            Ok(())
        })
    }

    /// Allocation-free.
    fn score_row_into(&self, row: &[f64], out: &mut [f64]) -> Result<()> {
        const CONTEXT: &str = context!(NAME, "score_row");
        check_row_shapes(CONTEXT, self.n_features, 1, row, out)?;
        check_row(CONTEXT, row, 0)?;
        out[0] = self.log_likelihood_row(row);
        Ok(())
    }
}

impl PcaModel {
    /// scikit-learn's `score`: the mean log-likelihood of the rows of `x`.
    pub fn score(&self, x: ArrayView2<'_, f64>) -> Result<f64> {
        let mut ll = vec![0.0; x.nrows()];
        self.score_into(x, &mut ll)?;
        Ok(ll.iter().sum::<f64>() / ll.len().max(1) as f64)
    }
}

impl Outputs for PcaModel {
    fn as_scorer(&self) -> Option<&dyn ScorePredictor> {
        Some(self)
    }

    fn as_transform(&self) -> Option<&dyn TransformPredictor> {
        Some(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::DenseDataset;
    use ndarray::array;

    #[test]
    fn batch_transform_is_the_row_transform_bit_for_bit() {
        let x = ndarray::Array2::from_shape_fn((2500, 7), |(i, j)| {
            ((i * 31 + j * 17) % 23) as f64 / 7.0 + (j as f64) * ((i % 5) as f64)
        });
        for whiten in [false, true] {
            let data = DenseDataset::unsupervised(x.clone()).unwrap();
            let m = Pca::default()
                .n_components(NComponents::Count(3))
                .whiten(whiten)
                .fit(&data)
                .unwrap();
            let mut batch = vec![0.0; 2500 * 3];
            m.transform_into(x.view(), &mut batch).unwrap();
            // A non-contiguous view of the same rows.
            let xt = x.t().to_owned();
            let mut strided = vec![0.0; 2500 * 3];
            m.transform_into(xt.t(), &mut strided).unwrap();
            for (i, row) in x.outer_iter().enumerate() {
                let mut one = [0.0; 3];
                m.transform_row_into(row.to_slice().unwrap(), &mut one)
                    .unwrap();
                for c in 0..3 {
                    assert_eq!(one[c].to_bits(), batch[i * 3 + c].to_bits(), "row {i}");
                    assert_eq!(one[c].to_bits(), strided[i * 3 + c].to_bits(), "row {i}");
                }
            }
        }
    }

    #[test]
    fn corrupt_state_and_non_finite_rows_are_errors() {
        let x = array![
            [1.0, 2.0, 0.5],
            [3.0, 5.0, 1.5],
            [0.0, 1.0, -1.0],
            [2.0, 2.0, 2.0]
        ];
        let m = Pca::default()
            .n_components(NComponents::Count(2))
            .fit(&DenseDataset::unsupervised(x).unwrap())
            .unwrap();
        m.validate().unwrap();
        let mut bad = m.clone();
        bad.components[1].pop();
        assert!(matches!(bad.validate(), Err(Error::ModelCorrupt(_))));
        let mut bad = m.clone();
        bad.n_components = 3;
        assert!(matches!(bad.validate(), Err(Error::ModelCorrupt(_))));
        let mut bad = m.clone();
        bad.noise_variance = f64::NAN;
        assert!(matches!(bad.validate(), Err(Error::ModelCorrupt(_))));
        let mut out = [0.0; 2];
        assert!(m
            .transform_row_into(&[0.0, f64::NAN, 0.0], &mut out)
            .is_err());
        assert!(m.transform_row_into(&[0.0, 0.0], &mut out).is_err());
        assert!(m.predict(array![[0.0, 0.0, 0.0]].view()).is_err());
    }
}
