//! The model registry: [`ModelConfig`] (every trainer, chosen by its config `type`) and
//! [`AnyModel`] (every fitted model), generated from one list so that adding a family is one
//! line here. Saved state never holds trait objects: a model file stores an `AnyModel`.
//!
//! ```
//! use amlis::models::{AnyModel, ModelConfig};
//! use amlis::traits::FitContext;
//!
//! let config: ModelConfig = serde_json::from_str(r#"{"type": "dummy_classifier", "strategy": "prior"}"#)
//!     .map_err(|e| amlis::Error::InvalidArgument(e.to_string()))?;
//! let model: AnyModel = config.fit(&amlis::data::datasets::iris()?, &FitContext::new())?;
//! assert_eq!((model.type_name(), model.n_classes()), ("dummy_classifier", 3));
//! # Ok::<(), amlis::Error>(())
//! ```

use ndarray::ArrayView2;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::traits::{Dataset, FitContext, Model, Predictor, ProbabilisticPredictor, Trainer};

/// Whether a model predicts classes or values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Estimator {
    /// Predicts class indices and class probabilities.
    Classifier,
    /// Predicts real values.
    Regressor,
}

macro_rules! registry {
    (
        classifiers { $( $cv:ident ( $ct:ty => $cm:ty ) = $cname:literal, )* }
        regressors { $( $rv:ident ( $rt:ty => $rm:ty ) = $rname:literal, )* }
    ) => {
        /// Every trainer, as the `model` section of a training config names it (`type` is
        /// scikit-learn's class name in snake_case; the other keys are the trainer's
        /// hyperparameters).
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        #[serde(tag = "type", rename_all = "snake_case")]
        #[non_exhaustive]
        pub enum ModelConfig {
            $(
                #[doc = concat!("`", $cname, "`")]
                #[serde(rename = $cname)]
                $cv($ct),
            )*
            $(
                #[doc = concat!("`", $rname, "`")]
                #[serde(rename = $rname)]
                $rv($rt),
            )*
        }

        /// Every fitted model.
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        #[serde(tag = "type", content = "model", rename_all = "snake_case")]
        #[non_exhaustive]
        pub enum AnyModel {
            $(
                #[doc = concat!("A fitted `", $cname, "`.")]
                #[serde(rename = $cname)]
                $cv($cm),
            )*
            $(
                #[doc = concat!("A fitted `", $rname, "`.")]
                #[serde(rename = $rname)]
                $rv($rm),
            )*
        }

        impl ModelConfig {
            /// The config `type` name.
            pub fn type_name(&self) -> &'static str {
                match self {
                    $( ModelConfig::$cv(_) => $cname, )*
                    $( ModelConfig::$rv(_) => $rname, )*
                }
            }

            /// Classifier or regressor.
            pub fn estimator(&self) -> Estimator {
                match self {
                    $( ModelConfig::$cv(_) => Estimator::Classifier, )*
                    $( ModelConfig::$rv(_) => Estimator::Regressor, )*
                }
            }

            /// Fits the trainer on `data`.
            pub fn fit(&self, data: &dyn Dataset, ctx: &FitContext<'_>) -> Result<AnyModel> {
                match self {
                    $( ModelConfig::$cv(t) => Ok(AnyModel::$cv(t.fit_with(data, ctx)?)), )*
                    $( ModelConfig::$rv(t) => Ok(AnyModel::$rv(t.fit_with(data, ctx)?)), )*
                }
            }

            /// Every config `type` name, classifiers first.
            pub fn type_names() -> &'static [&'static str] {
                &[$( $cname, )* $( $rname, )*]
            }

            /// Parses a trainer from its `type` and a JSON object of hyperparameters,
            /// reporting the exact key of an error (`model.C`, `model.max_iter`).
            pub fn from_json_parts(type_name: &str, params: serde_json::Value) -> Result<Self> {
                fn parse<T: serde::de::DeserializeOwned>(v: serde_json::Value) -> Result<T> {
                    serde_path_to_error::deserialize(v).map_err(|e| {
                        let path = e.path().to_string();
                        let key = if path == "." { "model".to_string() } else { format!("model.{path}") };
                        Error::Config { key, message: e.inner().to_string() }
                    })
                }
                match type_name {
                    $( $cname => Ok(ModelConfig::$cv(parse(params)?)), )*
                    $( $rname => Ok(ModelConfig::$rv(parse(params)?)), )*
                    other => Err(Error::Config {
                        key: "model.type".into(),
                        message: format!(
                            "unknown model type `{other}`; known types: {}",
                            Self::type_names().join(", ")
                        ),
                    }),
                }
            }
        }

        impl AnyModel {
            /// The config `type` name of the trainer that made this model.
            pub fn type_name(&self) -> &'static str {
                match self {
                    $( AnyModel::$cv(_) => $cname, )*
                    $( AnyModel::$rv(_) => $rname, )*
                }
            }

            /// The model as a [`Predictor`].
            pub fn as_predictor(&self) -> &dyn Predictor {
                match self {
                    $( AnyModel::$cv(m) => m, )*
                    $( AnyModel::$rv(m) => m, )*
                }
            }

            /// The model as a [`ProbabilisticPredictor`], for classifiers.
            pub fn as_probabilistic(&self) -> Option<&dyn ProbabilisticPredictor> {
                match self {
                    $( AnyModel::$cv(m) => Some(m), )*
                    $( AnyModel::$rv(_) => None, )*
                }
            }
        }
    };
}

registry! {
    classifiers {
        DummyClassifier(crate::models::dummy::DummyClassifier => crate::models::dummy::DummyClassifierModel) = "dummy_classifier",
        LogisticRegression(crate::models::linear::logistic::LogisticRegression => crate::models::linear::logistic::LogisticRegressionModel) = "logistic_regression",
        SgdClassifier(crate::models::linear::sgd::SgdClassifier => crate::models::linear::sgd::SgdClassifierModel) = "sgd_classifier",
        DecisionTreeClassifier(crate::models::tree::DecisionTreeClassifier => crate::models::tree::DecisionTreeClassifierModel) = "decision_tree_classifier",
        RandomForestClassifier(crate::models::ensemble::forest::RandomForestClassifier => crate::models::ensemble::forest::RandomForestClassifierModel) = "random_forest_classifier",
        ExtraTreesClassifier(crate::models::ensemble::forest::ExtraTreesClassifier => crate::models::ensemble::forest::ExtraTreesClassifierModel) = "extra_trees_classifier",
        GradientBoostingClassifier(crate::models::ensemble::gbm::GradientBoostingClassifier => crate::models::ensemble::gbm::GradientBoostingModel) = "gradient_boosting_classifier",
    }
    regressors {
        DummyRegressor(crate::models::dummy::DummyRegressor => crate::models::dummy::DummyRegressorModel) = "dummy_regressor",
        SgdRegressor(crate::models::linear::sgd::SgdRegressor => crate::models::linear::sgd::SgdRegressorModel) = "sgd_regressor",
        LinearRegression(crate::models::linear::least_squares::LinearRegression => crate::models::linear::least_squares::LinearRegressionModel) = "linear_regression",
        Ridge(crate::models::linear::ridge::Ridge => crate::models::linear::ridge::RidgeModel) = "ridge",
        Lasso(crate::models::linear::coordinate_descent::Lasso => crate::models::linear::coordinate_descent::ElasticNetModel) = "lasso",
        ElasticNet(crate::models::linear::coordinate_descent::ElasticNet => crate::models::linear::coordinate_descent::ElasticNetModel) = "elastic_net",
        DecisionTreeRegressor(crate::models::tree::DecisionTreeRegressor => crate::models::tree::DecisionTreeRegressorModel) = "decision_tree_regressor",
        RandomForestRegressor(crate::models::ensemble::forest::RandomForestRegressor => crate::models::ensemble::forest::RandomForestRegressorModel) = "random_forest_regressor",
        ExtraTreesRegressor(crate::models::ensemble::forest::ExtraTreesRegressor => crate::models::ensemble::forest::ExtraTreesRegressorModel) = "extra_trees_regressor",
        GradientBoostingRegressor(crate::models::ensemble::gbm::GradientBoostingRegressor => crate::models::ensemble::gbm::GradientBoostingModel) = "gradient_boosting_regressor",
    }
}

impl AnyModel {
    /// Classifier or regressor.
    pub fn estimator(&self) -> Estimator {
        if self.as_probabilistic().is_some() {
            Estimator::Classifier
        } else {
            Estimator::Regressor
        }
    }

    /// The number of classes (0 for a regressor).
    pub fn n_classes(&self) -> usize {
        self.as_probabilistic().map_or(0, |p| p.n_classes())
    }

    /// The class labels (empty for a regressor).
    pub fn classes(&self) -> &[String] {
        self.as_probabilistic().map_or(&[], |p| p.classes())
    }

    /// Class probabilities of one row, or [`Error::Unsupported`] for a regressor.
    pub fn predict_proba_row_into(&self, row: &[f64], out: &mut [f64]) -> Result<()> {
        match self.as_probabilistic() {
            Some(p) => p.predict_proba_row_into(row, out),
            None => Err(Error::Unsupported(format!(
                "{} is a regressor: it has no class probabilities",
                self.type_name()
            ))),
        }
    }

    /// Class probabilities, or [`Error::Unsupported`] for a regressor.
    pub fn predict_proba_into(&self, x: ArrayView2<'_, f64>, out: &mut [f64]) -> Result<()> {
        match self.as_probabilistic() {
            Some(p) => p.predict_proba_into(x, out),
            None => Err(Error::Unsupported(format!(
                "{} is a regressor: it has no class probabilities",
                self.type_name()
            ))),
        }
    }
}

impl Model for AnyModel {
    fn n_features(&self) -> usize {
        self.as_predictor().n_features()
    }

    fn validate(&self) -> Result<()> {
        self.as_predictor().validate()
    }
}

impl Predictor for AnyModel {
    fn predict_into(&self, x: ArrayView2<'_, f64>, out: &mut [f64]) -> Result<()> {
        self.as_predictor().predict_into(x, out)
    }

    fn predict_row_into(&self, row: &[f64], out: &mut [f64]) -> Result<()> {
        self.as_predictor().predict_row_into(row, out)
    }
}
