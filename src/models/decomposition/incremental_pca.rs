//! `IncrementalPCA`, as scikit-learn's: principal component analysis learned batch by batch
//! (Ross et al.'s incremental SVD). Each batch updates the running mean and variance
//! (scikit-learn's `_incremental_mean_and_var`) and the SVD of the stacked matrix of the
//! current components scaled by their singular values, the centred batch and a
//! mean-correction row, with scikit-learn's sign rule. `fit` cuts the rows into batches of
//! `batch_size` (default `5 * n_features`) as scikit-learn's `gen_batches`; `partial_fit`
//! takes the batches of a stream ([`crate::models::AnyLearner`]). The fitted model is the
//! same [`PcaModel`] as `pca`'s.
//!
//! ```
//! use amlis::data::DenseDataset;
//! use amlis::models::decomposition::IncrementalPca;
//! use amlis::traits::Trainer;
//! use ndarray::Array2;
//!
//! let x = Array2::from_shape_fn((40, 3), |(i, j)| ((i * (j + 2)) % 7) as f64 + j as f64);
//! let model = IncrementalPca::default().n_components(2).batch_size(10).fit(&DenseDataset::unsupervised(x)?)?;
//! assert_eq!((model.n_components, model.n_samples), (2, 40));
//! # Ok::<(), amlis::Error>(())
//! ```

use ndarray::{s, Array1, Array2, ArrayView2, Axis};
use serde::{Deserialize, Serialize};

use crate::common::linalg;
use crate::common::pca::flip_rows;
use crate::error::{Error, Result};
use crate::models::kit::validate::{check_finite, check_numeric_kinds};
use crate::traits::{Dataset, FitContext, Incremental, IncrementalLearner, StreamSpec, Trainer};

use super::pca::PcaModel;

const NAME: &str = <IncrementalPca as Trainer>::NAME;

/// The settings of incremental PCA, with scikit-learn's names and defaults.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IncrementalPca {
    /// How many components to keep (default `None`: `min(rows of the first batch,
    /// n_features)`); at most `n_features` and at most the rows of the first batch.
    pub n_components: Option<usize>,
    /// Divide each output by the square root of its explained variance (default false).
    pub whiten: bool,
    /// Rows per batch of `fit` (default `None`: `5 * n_features`); at least 1.
    pub batch_size: Option<usize>,
}

crate::models::kit::setters!(IncrementalPca {
    n_components: usize => Some,
    whiten: bool,
    batch_size: usize => Some,
});

impl IncrementalPca {
    fn checked(&self) -> Result<()> {
        if self.n_components == Some(0) {
            return Err(Error::param(
                "n_components",
                0,
                "an integer >= 1 or null (all components)",
            ));
        }
        if self.batch_size == Some(0) {
            return Err(Error::param(
                "batch_size",
                0,
                "an integer >= 1 or null (5 * n_features)",
            ));
        }
        Ok(())
    }
}

/// The state of incremental PCA between batches.
#[derive(Debug, Clone, PartialEq)]
pub struct IncrementalPcaState {
    settings: IncrementalPca,
    n_features: usize,
    n_seen: usize,
    mean: Array1<f64>,
    var: Array1<f64>,
    /// The fitted model after the last batch (`None` before the first).
    fitted: Option<PcaModel>,
}

impl IncrementalPcaState {
    /// A learner for rows of `n_features` values.
    pub fn new(settings: IncrementalPca, n_features: usize) -> Result<Self> {
        settings.checked()?;
        if let Some(k) = settings.n_components {
            if k > n_features {
                return Err(Error::param(
                    "n_components",
                    k,
                    &format!("at most n_features = {n_features}"),
                ));
            }
        }
        Ok(Self {
            settings,
            n_features,
            n_seen: 0,
            mean: Array1::zeros(n_features),
            var: Array1::zeros(n_features),
            fitted: None,
        })
    }

    /// Learns from one batch of finite rows (scikit-learn's `partial_fit`).
    pub fn partial_fit_matrix(&mut self, x: ArrayView2<'_, f64>) -> Result<()> {
        let (n, p) = x.dim();
        if p != self.n_features {
            return Err(Error::shape(
                NAME,
                format!("{} feature columns (as at the start)", self.n_features),
                format!("{p} columns"),
            ));
        }
        if n == 0 {
            return Ok(());
        }
        let k = match (&self.fitted, self.settings.n_components) {
            (_, Some(k)) => {
                if self.fitted.is_none() && k > n {
                    return Err(Error::param(
                        "n_components",
                        k,
                        &format!("at most the rows of the first batch ({n})"),
                    ));
                }
                k
            }
            (None, None) => n.min(p),
            (Some(m), None) => m.n_components,
        };
        // scikit-learn's `_incremental_mean_and_var`, per column.
        let last_n = self.n_seen as f64;
        let new_n = n as f64;
        let total = last_n + new_n;
        let new_sum = x.sum_axis(Axis(0));
        let batch_mean = &new_sum / new_n;
        let mut new_unnorm = Array1::<f64>::zeros(p);
        let mut correction = Array1::<f64>::zeros(p);
        for row in x.outer_iter() {
            for (j, (&v, &t)) in row.iter().zip(&batch_mean).enumerate() {
                correction[j] += v - t;
                new_unnorm[j] += (v - t) * (v - t);
            }
        }
        new_unnorm = new_unnorm - correction.mapv(|c| c * c / new_n);
        let last_sum = &self.mean * last_n;
        let mean = (&last_sum + &new_sum) / total;
        let var = if self.n_seen == 0 {
            new_unnorm / total
        } else {
            let last_over_new = last_n / new_n;
            let mut v = Array1::zeros(p);
            for j in 0..p {
                let d = last_sum[j] / last_over_new - new_sum[j];
                v[j] =
                    (self.var[j] * last_n + new_unnorm[j] + last_over_new / total * d * d) / total;
            }
            v
        };
        // The matrix whose SVD gives the new components.
        let stacked = match &self.fitted {
            None => {
                let mut c = x.to_owned();
                c -= &mean;
                c
            }
            Some(m) => {
                let kk = m.components.len();
                let mut a = Array2::zeros((kk + n + 1, p));
                for (r, (c, &s)) in m.components.iter().zip(&m.singular_values).enumerate() {
                    for (d, &v) in a.row_mut(r).iter_mut().zip(c) {
                        *d = s * v;
                    }
                }
                let mut centred = x.to_owned();
                centred -= &batch_mean;
                a.slice_mut(s![kk..kk + n, ..]).assign(&centred);
                let f = ((last_n / total) * new_n).sqrt();
                for j in 0..p {
                    a[[kk + n, j]] = f * (self.mean[j] - batch_mean[j]);
                }
                a
            }
        };
        let svd = linalg::svd_right(stacked.view())?;
        let mut vt = svd.v.reversed_axes();
        flip_rows(&mut vt);
        let denom = total - 1.0;
        let ev_all = svd.s.mapv(|s| s * s / denom);
        let total_var: f64 = var.iter().map(|v| v * total).sum();
        let k = k.min(svd.s.len());
        let noise_variance = if k != n && k != p {
            let rest = ev_all.slice(s![k..]);
            if rest.is_empty() {
                0.0
            } else {
                rest.sum() / rest.len() as f64
            }
        } else {
            0.0
        };
        self.fitted = Some(PcaModel {
            components: vt.outer_iter().take(k).map(|r| r.to_vec()).collect(),
            mean: mean.to_vec(),
            explained_variance: ev_all.iter().take(k).copied().collect(),
            explained_variance_ratio: svd.s.iter().take(k).map(|s| s * s / total_var).collect(),
            singular_values: svd.s.iter().take(k).copied().collect(),
            noise_variance,
            n_components: k,
            n_samples: self.n_seen + n,
            n_features: p,
            whiten: self.settings.whiten,
        });
        self.n_seen += n;
        self.mean = mean;
        self.var = var;
        Ok(())
    }
}

impl IncrementalPcaState {
    /// Learns from one chunk of rows (a target is ignored).
    pub fn partial_fit(&mut self, chunk: &dyn Dataset) -> Result<()> {
        check_numeric_kinds(NAME, chunk.feature_kinds(), chunk.feature_names())?;
        let x = chunk.features();
        check_finite(NAME, x.view(), chunk.feature_names())?;
        self.partial_fit_matrix(x.view())
    }

    /// The model learned so far; [`Error::Empty`] before the first batch.
    pub fn model(&self) -> Result<PcaModel> {
        self.fitted
            .clone()
            .ok_or_else(|| Error::Empty(format!("{NAME}: no batch was learned yet")))
    }
}

impl IncrementalLearner for IncrementalPcaState {
    type Model = PcaModel;

    fn partial_fit(&mut self, chunk: &dyn Dataset) -> Result<()> {
        IncrementalPcaState::partial_fit(self, chunk)
    }

    fn model(&self) -> Result<PcaModel> {
        IncrementalPcaState::model(self)
    }
}

impl Incremental for IncrementalPca {
    type Learner = IncrementalPcaState;

    fn start(&self, spec: &StreamSpec, _ctx: &FitContext<'_>) -> Result<IncrementalPcaState> {
        IncrementalPcaState::new(self.clone(), spec.n_features)
    }
}

impl Trainer for IncrementalPca {
    type Model = PcaModel;
    const NAME: &'static str = "incremental_pca";

    /// Learns from batches of `batch_size` rows, as scikit-learn's `fit` (`gen_batches` with
    /// `min_batch_size = n_components`: a last batch smaller than that joins the one before).
    /// A target and sample weights are ignored.
    fn fit_with(&self, data: &dyn Dataset, ctx: &FitContext<'_>) -> Result<PcaModel> {
        self.checked()?;
        check_numeric_kinds(NAME, data.feature_kinds(), data.feature_names())?;
        let x = data.features();
        check_finite(NAME, x.view(), data.feature_names())?;
        let (n, p) = x.dim();
        if n == 0 {
            return Err(Error::Empty(format!("{NAME}: no rows to fit on")));
        }
        let batch = self.batch_size.unwrap_or(5 * p).max(1);
        let min_batch = self.n_components.unwrap_or(0);
        let mut state = IncrementalPcaState::new(self.clone(), p)?;
        ctx.install(|| {
            let mut start = 0;
            for _ in 0..n / batch {
                let end = start + batch;
                if end + min_batch > n {
                    continue;
                }
                state.partial_fit_matrix(x.slice(s![start..end, ..]))?;
                start = end;
            }
            if start < n {
                state.partial_fit_matrix(x.slice(s![start..n, ..]))?;
            }
            state.model()
        })?
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::DenseDataset;
    use crate::traits::Model;

    #[test]
    fn one_batch_is_exact_pca_and_bad_settings_are_errors() {
        let x = Array2::from_shape_fn((30, 4), |(i, j)| {
            ((i * 7 + j * 3) % 11) as f64 * (j + 1) as f64
        });
        let data = DenseDataset::unsupervised(x.clone()).unwrap();
        let inc = IncrementalPca::default().batch_size(30).fit(&data).unwrap();
        let full = crate::common::pca::Pca {
            svd_solver: "full".into(),
            ..Default::default()
        }
        .fit_matrix(x.view(), 0)
        .unwrap();
        inc.validate().unwrap();
        for (a, b) in inc.explained_variance.iter().zip(&full.explained_variance) {
            assert!((a - b).abs() < 1e-10 * b.max(1.0));
        }
        assert!(IncrementalPca::default().batch_size(0).fit(&data).is_err());
        assert!(IncrementalPca::default()
            .n_components(5)
            .fit(&data)
            .is_err());
        let spec = StreamSpec {
            n_features: 4,
            classes: vec![],
        };
        let mut l = IncrementalPca::default()
            .n_components(3)
            .start(&spec, &FitContext::new())
            .unwrap();
        assert!(l.model().is_err());
        assert!(l.partial_fit_matrix(x.slice(s![..2, ..])).is_err());
        l.partial_fit_matrix(x.slice(s![..10, ..])).unwrap();
        l.partial_fit_matrix(x.slice(s![10.., ..])).unwrap();
        assert_eq!(l.model().unwrap().n_samples, 30);
    }
}
