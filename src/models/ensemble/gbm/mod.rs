//! Histogram gradient boosting, the design of LightGBM and scikit-learn's
//! `HistGradientBoosting*`.
//!
//! - **Binning** ([`binning`](self)): each feature is cut into at most `max_bins` quantile bins
//!   (stored as `u8`, feature-major) plus one bin for missing values; categorical features use
//!   their category codes as bins.
//! - **Histograms**: per node, the sums of gradients and hessians and the row count per bin,
//!   built in parallel over features from ordered gradients; the larger child of every split
//!   is the parent minus the smaller child.
//! - **Growth**: leaf-wise (best-first), bounded by `max_leaf_nodes`, `max_depth`,
//!   `min_samples_leaf` and `min_sum_hessian`; missing values go to the side that gains more
//!   (learned per split); categorical features split on category subsets.
//! - **Losses**: log loss (binary, and multinomial with one tree per class per iteration),
//!   squared error, absolute error, quantile, Huber, Poisson.
//! - **Early stopping** on a held-out (stratified) fraction or a given validation set, with
//!   scikit-learn's rule, scored by the loss or by a metric named in `scoring` (`"roc_auc"`,
//!   `"accuracy"`, `"r2"`, ...; on a 10,000-row training subsample when there is no
//!   validation set); the fit callback receives `train_loss` and `validation_loss` (and, with
//!   a metric, `train_score` and `validation_score`) every iteration and may stop or cancel
//!   the fit.
//! - **Prediction** walks flat node arrays from raw `f64` rows, in parallel over row blocks;
//!   the single-row path ([`GradientBoostingModel::predict_row_into`]) allocates nothing.
//!
//! The same `random_state` gives the same model bit for bit for any thread count: histograms
//! are built per feature by one task, and every reduction runs in a fixed order.
//!
//! Categorical features: the codes must be whole numbers in `0..max_bins` (a feature with more
//! categories is an error at fit). At predict time, a NaN follows the learned missing
//! direction, and a code outside the split's category set (including codes never seen in
//! training) goes right, as LightGBM does.
//!
//! ```
//! use amlis::data::DenseDataset;
//! use amlis::models::ensemble::gbm::GradientBoostingClassifier;
//! use amlis::traits::{FitContext, Predictor, ProbabilisticPredictor, Trainer};
//! use ndarray::{Array1, Array2};
//!
//! // y = 1 when x0 + x1 > 1 (x0 has missing values).
//! let x = Array2::from_shape_fn((400, 2), |(i, j)| {
//!     if j == 0 && i % 10 == 0 { f64::NAN } else { ((i * (j + 3)) % 17) as f64 / 17.0 }
//! });
//! let y = Array1::from_shape_fn(400, |i| (x[[i, 0]].max(0.0) + x[[i, 1]] > 1.0) as u8 as f64);
//! let data = DenseDataset::classification(x.clone(), y.clone())?;
//! let model = GradientBoostingClassifier::default()
//!     .max_iter(30)
//!     .min_samples_leaf(5)
//!     .fit_with(&data, &FitContext::new().random_state(0))?;
//! let proba = model.predict_proba(x.view())?;
//! assert_eq!(proba.ncols(), 2);
//! let labels = model.predict(x.view())?;
//! let correct = labels.iter().zip(&y).filter(|(a, b)| a == b).count();
//! assert!(correct > 380);
//! # Ok::<(), amlis::Error>(())
//! ```

mod binning;
mod boosting;
mod early_stopping;
mod grower;
mod histogram;
mod loss;
mod model;
mod params;
mod split;
mod tree;

pub use loss::LossKind;
pub use model::GradientBoostingModel;
pub use params::{
    CategoricalFeatures, ClassificationLoss, EarlyStopping, FeatureRef, HistGradientBoosting,
    RegressionLoss,
};
pub use tree::{Node, Tree, NUMERIC};

use crate::error::{Error, Result};
use crate::traits::{Dataset, FitContext, Trainer};

/// Histogram gradient-boosting classifier (`gradient_boosting_classifier`); scikit-learn's
/// `HistGradientBoostingClassifier`.
pub type GradientBoostingClassifier = HistGradientBoosting<ClassificationLoss>;

/// Histogram gradient-boosting regressor (`gradient_boosting_regressor`); scikit-learn's
/// `HistGradientBoostingRegressor`.
pub type GradientBoostingRegressor = HistGradientBoosting<RegressionLoss>;

/// The loss of a trainer, resolved for the data.
trait ResolveLoss {
    /// The config `type` name of the trainer with this loss type.
    const NAME: &'static str;

    fn resolve(&self, quantile: f64, data: &dyn Dataset) -> Result<(LossKind, Vec<String>)>;
}

impl ResolveLoss for ClassificationLoss {
    const NAME: &'static str = "gradient_boosting_classifier";

    fn resolve(&self, _: f64, data: &dyn Dataset) -> Result<(LossKind, Vec<String>)> {
        let classes = data.task().classes().to_vec();
        if !data.task().is_classification() {
            return Err(Error::InvalidArgument(format!(
                "{} needs a classification dataset",
                Self::NAME
            )));
        }
        Ok((LossKind::LogLoss, classes))
    }
}

impl ResolveLoss for RegressionLoss {
    const NAME: &'static str = "gradient_boosting_regressor";

    fn resolve(&self, quantile: f64, _: &dyn Dataset) -> Result<(LossKind, Vec<String>)> {
        let loss = match self {
            RegressionLoss::SquaredError => LossKind::SquaredError,
            RegressionLoss::AbsoluteError => LossKind::AbsoluteError,
            RegressionLoss::Quantile => LossKind::Quantile { quantile },
            RegressionLoss::Huber => LossKind::Huber { quantile },
            RegressionLoss::Poisson => LossKind::Poisson,
        };
        Ok((loss, Vec::new()))
    }
}

#[allow(private_bounds)]
impl<L: ResolveLoss + Sync> HistGradientBoosting<L> {
    /// Fits with early stopping scored on the given validation set instead of a held-out
    /// fraction of `data` (`early_stopping = "auto"` turns stopping on; `false` only records
    /// the validation scores).
    pub fn fit_with_validation(
        &self,
        data: &dyn Dataset,
        validation: &dyn Dataset,
        ctx: &FitContext<'_>,
    ) -> Result<GradientBoostingModel> {
        let (loss, classes) = self.loss.resolve(self.quantile, data)?;
        boosting::fit(self, loss, classes, data, Some(validation), ctx)
    }
}

#[allow(private_bounds)]
impl<L: ResolveLoss + Sync> Trainer for HistGradientBoosting<L> {
    const NAME: &'static str = L::NAME;
    type Model = GradientBoostingModel;

    fn fit_with(&self, data: &dyn Dataset, ctx: &FitContext<'_>) -> Result<GradientBoostingModel> {
        let (loss, classes) = self.loss.resolve(self.quantile, data)?;
        boosting::fit(self, loss, classes, data, None, ctx)
    }
}
