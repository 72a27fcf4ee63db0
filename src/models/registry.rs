//! The model registry: [`ModelConfig`] (every trainer, chosen by its config `type`) and
//! [`AnyModel`] (every fitted model), generated from one list that also says each type's
//! [`Estimator`] kind and [`Tags`]. Adding a family is one line here. Saved state never holds
//! trait objects: a model file stores an `AnyModel`.
//!
//! ```
//! use amlis::models::{AnyModel, Estimator, ModelConfig, PredictKind};
//! use amlis::traits::FitContext;
//!
//! let config: ModelConfig = serde_json::from_str(r#"{"type": "dummy_classifier", "strategy": "prior"}"#)
//!     .map_err(|e| amlis::Error::InvalidArgument(e.to_string()))?;
//! let model: AnyModel = config.fit(&amlis::data::datasets::iris()?, &FitContext::new())?;
//! assert_eq!((model.type_name(), model.n_classes()), ("dummy_classifier", 3));
//! assert_eq!(model.estimator(), Estimator::Classifier);
//! assert_eq!(model.outputs(), vec![PredictKind::Value, PredictKind::Proba]);
//! # Ok::<(), amlis::Error>(())
//! ```

use ndarray::ArrayView2;
use serde::{Deserialize, Serialize};

use super::kind::{Estimator, PredictKind, Tags};
use crate::error::{Error, Result};
use crate::traits::{Dataset, FitContext, Model, Outputs, Predictor, Trainer};

/// The view of a fitted model that writes one output kind.
enum OutputView<'a> {
    Value,
    Proba(&'a dyn crate::traits::ProbabilisticPredictor),
    Score(&'a dyn crate::traits::ScorePredictor),
    Transform(&'a dyn crate::traits::TransformPredictor),
}

/// One registered model type: its config `type` name, kind and tags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Registered {
    /// The config `type` name.
    pub type_name: &'static str,
    /// What the model is.
    pub estimator: Estimator,
    /// What it can do.
    pub tags: Tags,
}

macro_rules! registry {
    ( $( $v:ident ( $t:ty => $m:ty ) = $name:literal, $kind:ident $(+ $tag:ident)* ; )* ) => {
        /// Every trainer, as the `model` section of a training config names it (`type` is
        /// scikit-learn's class name in snake_case; the other keys are the trainer's
        /// hyperparameters).
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        #[serde(tag = "type", rename_all = "snake_case")]
        #[non_exhaustive]
        pub enum ModelConfig {
            $(
                #[doc = concat!("`", $name, "`")]
                #[serde(rename = $name)]
                $v($t),
            )*
        }

        /// Every fitted model.
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        #[serde(tag = "type", content = "model", rename_all = "snake_case")]
        #[non_exhaustive]
        pub enum AnyModel {
            $(
                #[doc = concat!("A fitted `", $name, "`.")]
                #[serde(rename = $name)]
                $v($m),
            )*
        }

        /// Every registered model type, in registry order.
        pub const REGISTERED: &[Registered] = &[
            $( Registered {
                type_name: $name,
                estimator: Estimator::$kind,
                tags: Tags::of(Estimator::$kind) $( .$tag() )*,
            }, )*
        ];

        impl ModelConfig {
            /// The config `type` name.
            pub fn type_name(&self) -> &'static str {
                match self {
                    $( ModelConfig::$v(_) => $name, )*
                }
            }


            /// Every config `type` name, in registry order.
            pub fn type_names() -> &'static [&'static str] {
                &[$( $name, )*]
            }

            /// Fits the trainer on `data`. A type that needs a target and is not
            /// semi-supervised refuses unlabeled rows (`NaN` targets) with
            /// [`Error::UnlabeledRows`], before its own checks.
            pub fn fit(&self, data: &dyn Dataset, ctx: &FitContext<'_>) -> Result<AnyModel> {
                self.check_labelled(data)?;
                match self {
                    $( ModelConfig::$v(t) => Ok(AnyModel::$v(t.fit_with(data, ctx)?)), )*
                }
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
                    $( $name => Ok(ModelConfig::$v(parse(params)?)), )*
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

        /// Calls `check(trainer NAME, registered name, trainer defaults as JSON)` for every
        /// entry (the registry's conformance test).
        #[cfg(test)]
        fn each_trainer(check: &mut dyn FnMut(&'static str, &'static str, serde_json::Value)) {
            $(
                check(
                    <$t as Trainer>::NAME,
                    $name,
                    serde_json::to_value(<$t>::default()).unwrap_or_default(),
                );
            )*
        }

        impl AnyModel {
            /// The config `type` name of the trainer that made this model.
            pub fn type_name(&self) -> &'static str {
                match self {
                    $( AnyModel::$v(_) => $name, )*
                }
            }

            /// The model's outputs ([`Outputs`]: probabilities, scores, transform).
            pub fn as_outputs(&self) -> &dyn Outputs {
                match self {
                    $( AnyModel::$v(m) => m, )*
                }
            }

            /// The model as a [`Predictor`].
            pub fn as_predictor(&self) -> &dyn Predictor {
                match self {
                    $( AnyModel::$v(m) => m, )*
                }
            }
        }

        impl Predictor for AnyModel {
            fn predict_into(&self, x: ArrayView2<'_, f64>, out: &mut [f64]) -> Result<()> {
                match self {
                    $( AnyModel::$v(m) => m.predict_into(x, out), )*
                }
            }

            /// Static dispatch to the model's own row path (the latency path: no virtual
            /// call).
            #[inline]
            fn predict_row_into(&self, row: &[f64], out: &mut [f64]) -> Result<()> {
                match self {
                    $( AnyModel::$v(m) => m.predict_row_into(row, out), )*
                }
            }
        }
    };
}

registry! {
    DummyClassifier(crate::models::dummy::DummyClassifier => crate::models::dummy::DummyClassifierModel) = "dummy_classifier", Classifier + probabilities + handles_nan + handles_categorical;
    LogisticRegression(crate::models::linear::logistic::LogisticRegression => crate::models::linear::logistic::LogisticRegressionModel) = "logistic_regression", Classifier + probabilities + decision_function;
    SgdClassifier(crate::models::linear::sgd::SgdClassifier => crate::models::linear::sgd::SgdClassifierModel) = "sgd_classifier", Classifier + probabilities + decision_function + partial_fit;
    DecisionTreeClassifier(crate::models::tree::DecisionTreeClassifier => crate::models::tree::DecisionTreeClassifierModel) = "decision_tree_classifier", Classifier + probabilities + handles_nan;
    RandomForestClassifier(crate::models::ensemble::forest::RandomForestClassifier => crate::models::ensemble::forest::RandomForestClassifierModel) = "random_forest_classifier", Classifier + probabilities + handles_nan;
    ExtraTreesClassifier(crate::models::ensemble::forest::ExtraTreesClassifier => crate::models::ensemble::forest::ExtraTreesClassifierModel) = "extra_trees_classifier", Classifier + probabilities + handles_nan;
    GradientBoostingClassifier(crate::models::ensemble::gbm::GradientBoostingClassifier => crate::models::ensemble::gbm::GradientBoostingModel) = "gradient_boosting_classifier", Classifier + probabilities + decision_function + handles_nan + handles_categorical;
    DummyRegressor(crate::models::dummy::DummyRegressor => crate::models::dummy::DummyRegressorModel) = "dummy_regressor", Regressor + handles_nan + handles_categorical;
    SgdRegressor(crate::models::linear::sgd::SgdRegressor => crate::models::linear::sgd::SgdRegressorModel) = "sgd_regressor", Regressor + partial_fit;
    LinearRegression(crate::models::linear::least_squares::LinearRegression => crate::models::linear::least_squares::LinearRegressionModel) = "linear_regression", Regressor;
    Ridge(crate::models::linear::ridge::Ridge => crate::models::linear::ridge::RidgeModel) = "ridge", Regressor;
    Lasso(crate::models::linear::coordinate_descent::Lasso => crate::models::linear::coordinate_descent::ElasticNetModel) = "lasso", Regressor;
    ElasticNet(crate::models::linear::coordinate_descent::ElasticNet => crate::models::linear::coordinate_descent::ElasticNetModel) = "elastic_net", Regressor;
    DecisionTreeRegressor(crate::models::tree::DecisionTreeRegressor => crate::models::tree::DecisionTreeRegressorModel) = "decision_tree_regressor", Regressor + handles_nan;
    RandomForestRegressor(crate::models::ensemble::forest::RandomForestRegressor => crate::models::ensemble::forest::RandomForestRegressorModel) = "random_forest_regressor", Regressor + handles_nan;
    ExtraTreesRegressor(crate::models::ensemble::forest::ExtraTreesRegressor => crate::models::ensemble::forest::ExtraTreesRegressorModel) = "extra_trees_regressor", Regressor + handles_nan;
    GradientBoostingRegressor(crate::models::ensemble::gbm::GradientBoostingRegressor => crate::models::ensemble::gbm::GradientBoostingModel) = "gradient_boosting_regressor", Regressor + decision_function + handles_nan + handles_categorical;
    VarianceThreshold(crate::models::feature_selection::VarianceThreshold => crate::models::feature_selection::VarianceThresholdModel) = "variance_threshold", Transformer + handles_nan;
    KMeans(crate::models::cluster::KMeans => crate::models::cluster::KMeansModel) = "k_means", Clusterer + transforms;
    Pca(crate::models::decomposition::Pca => crate::models::decomposition::PcaModel) = "pca", Transformer + decision_function;
    IncrementalPca(crate::models::decomposition::IncrementalPca => crate::models::decomposition::PcaModel) = "incremental_pca", Transformer + decision_function + partial_fit;
    GaussianMixture(crate::models::mixture::GaussianMixture => crate::models::mixture::GaussianMixtureModel) = "gaussian_mixture", Clusterer + probabilities + decision_function;
    MiniBatchKMeans(crate::models::cluster::MiniBatchKMeans => crate::models::cluster::KMeansModel) = "mini_batch_k_means", Clusterer + transforms + partial_fit;
    IsolationForest(crate::models::outlier::IsolationForest => crate::models::outlier::IsolationForestModel) = "isolation_forest", OutlierDetector + handles_nan;
    Dbscan(crate::models::cluster::Dbscan => crate::models::cluster::DbscanModel) = "dbscan", Clusterer;
    Hdbscan(crate::models::cluster::Hdbscan => crate::models::cluster::HdbscanModel) = "hdbscan", Clusterer + probabilities;
    LocalOutlierFactor(crate::models::neighbors::LocalOutlierFactor => crate::models::neighbors::LocalOutlierFactorModel) = "local_outlier_factor", OutlierDetector;
    LinearSvc(crate::models::svm::LinearSvc => crate::models::svm::LinearSvcModel) = "linear_svc", Classifier + decision_function;
    LinearSvr(crate::models::svm::LinearSvr => crate::models::svm::LinearSvrModel) = "linear_svr", Regressor;
    Svc(crate::models::svm::Svc => crate::models::svm::SvcModel) = "svc", Classifier + probabilities + decision_function;
    NuSvc(crate::models::svm::NuSvc => crate::models::svm::SvcModel) = "nu_svc", Classifier + probabilities + decision_function;
    Svr(crate::models::svm::Svr => crate::models::svm::SvrModel) = "svr", Regressor;
    NuSvr(crate::models::svm::NuSvr => crate::models::svm::SvrModel) = "nu_svr", Regressor;
    OneClassSvm(crate::models::svm::OneClassSvm => crate::models::svm::OneClassSvmModel) = "one_class_svm", OutlierDetector;
    KNeighborsClassifier(crate::models::neighbors::KNeighborsClassifier => crate::models::neighbors::NeighborsClassifierModel) = "k_neighbors_classifier", Classifier + probabilities;
    RadiusNeighborsClassifier(crate::models::neighbors::RadiusNeighborsClassifier => crate::models::neighbors::NeighborsClassifierModel) = "radius_neighbors_classifier", Classifier + probabilities;
    KNeighborsRegressor(crate::models::neighbors::KNeighborsRegressor => crate::models::neighbors::NeighborsRegressorModel) = "k_neighbors_regressor", Regressor;
    RadiusNeighborsRegressor(crate::models::neighbors::RadiusNeighborsRegressor => crate::models::neighbors::NeighborsRegressorModel) = "radius_neighbors_regressor", Regressor;
    GaussianNb(crate::models::naive_bayes::GaussianNb => crate::models::naive_bayes::GaussianNbModel) = "gaussian_nb", Classifier + probabilities + partial_fit;
    MultinomialNb(crate::models::naive_bayes::MultinomialNb => crate::models::naive_bayes::DiscreteNbModel) = "multinomial_nb", Classifier + probabilities + partial_fit;
    ComplementNb(crate::models::naive_bayes::ComplementNb => crate::models::naive_bayes::DiscreteNbModel) = "complement_nb", Classifier + probabilities + partial_fit;
    BernoulliNb(crate::models::naive_bayes::BernoulliNb => crate::models::naive_bayes::DiscreteNbModel) = "bernoulli_nb", Classifier + probabilities + partial_fit;
    CategoricalNb(crate::models::naive_bayes::CategoricalNb => crate::models::naive_bayes::CategoricalNbModel) = "categorical_nb", Classifier + probabilities + partial_fit;
    LabelPropagation(crate::models::semi_supervised::LabelPropagation => crate::models::semi_supervised::LabelPropagationModel) = "label_propagation", Classifier + probabilities + semi_supervised;
    LabelSpreading(crate::models::semi_supervised::LabelSpreading => crate::models::semi_supervised::LabelPropagationModel) = "label_spreading", Classifier + probabilities + semi_supervised;
    SelfTrainingClassifier(crate::models::semi_supervised::SelfTrainingClassifier => crate::models::semi_supervised::SelfTrainingModel) = "self_training_classifier", Classifier + probabilities + semi_supervised;
    VotingClassifier(crate::models::ensemble::voting::VotingClassifier => crate::models::ensemble::voting::VotingModel) = "voting_classifier", Classifier + probabilities + handles_nan + handles_categorical;
    VotingRegressor(crate::models::ensemble::voting::VotingRegressor => crate::models::ensemble::voting::VotingModel) = "voting_regressor", Regressor + handles_nan + handles_categorical;
    AutoClassifier(crate::meta::AutoClassifier => crate::meta::AutoModel) = "auto_classifier", Classifier + probabilities + handles_nan + handles_categorical;
    AutoRegressor(crate::meta::AutoRegressor => crate::meta::AutoModel) = "auto_regressor", Regressor + handles_nan + handles_categorical;
}

/// The registry entry of `type_name`.
fn entry(type_name: &str) -> &'static Registered {
    // Every name handed in comes from the registry's own list, so the lookup finds it; the
    // fallback keeps this total.
    const UNKNOWN: Registered = Registered {
        type_name: "",
        estimator: Estimator::Regressor,
        tags: Tags::of(Estimator::Regressor),
    };
    REGISTERED
        .iter()
        .find(|r| r.type_name == type_name)
        .unwrap_or(&UNKNOWN)
}

/// The one unlabeled-row check, for the registered type `type_name`: batch fits
/// ([`ModelConfig::check_labelled`]) and streaming `partial_fit` chunks go through it.
pub(crate) fn check_labelled_as(type_name: &str, data: &dyn Dataset) -> Result<()> {
    let tags = entry(type_name).tags;
    if !tags.needs_target || tags.semi_supervised {
        return Ok(());
    }
    match crate::data::unlabeled_rows(data) {
        None => Ok(()),
        Some((count, first_row)) => Err(Error::UnlabeledRows {
            model: type_name.to_string(),
            count,
            first_row,
        }),
    }
}

impl ModelConfig {
    /// The one check that every supervised type gets: unlabeled rows (`NaN` targets) are an
    /// [`Error::UnlabeledRows`] naming the model, their count and the first of them, unless
    /// the type is tagged `semi_supervised`.
    pub fn check_labelled(&self, data: &dyn Dataset) -> Result<()> {
        check_labelled_as(self.type_name(), data)
    }

    /// What the model is: classifier, regressor, clusterer, transformer, outlier detector.
    pub fn estimator(&self) -> Estimator {
        entry(self.type_name()).estimator
    }

    /// What the model type can do.
    pub fn tags(&self) -> Tags {
        entry(self.type_name()).tags
    }
}

impl AnyModel {
    /// What the model is: classifier, regressor, clusterer, transformer, outlier detector.
    pub fn estimator(&self) -> Estimator {
        entry(self.type_name()).estimator
    }

    /// What the model type can do (see [`outputs`](Self::outputs) for what this fitted model
    /// has).
    pub fn tags(&self) -> Tags {
        entry(self.type_name()).tags
    }

    /// The model as a classifier with class labels and probabilities (`None` for a model
    /// that is not a classifier).
    pub fn as_probabilistic(&self) -> Option<&dyn crate::traits::ProbabilisticPredictor> {
        self.as_outputs().as_probabilistic()
    }

    /// The task the model learned: classification with its classes, regression, or none
    /// (the kinds that learn without targets).
    pub fn task(&self) -> crate::data::Task {
        use crate::data::Task;
        match self.estimator() {
            Estimator::Classifier => Task::Classification {
                classes: self.classes().to_vec(),
            },
            Estimator::Regressor => Task::Regression,
            _ => Task::Unsupervised,
        }
    }

    /// The number of classes (0 when the model is not a classifier).
    pub fn n_classes(&self) -> usize {
        self.as_outputs()
            .as_probabilistic()
            .map_or(0, |p| p.n_classes())
    }

    /// The class labels (empty when the model is not a classifier).
    pub fn classes(&self) -> &[String] {
        self.as_outputs()
            .as_probabilistic()
            .map_or(&[], |p| p.classes())
    }

    /// The outputs this fitted model can write, in [`PredictKind::ALL`] order
    /// ([`PredictKind::Value`] first for every kind but a transformer).
    pub fn outputs(&self) -> Vec<PredictKind> {
        PredictKind::ALL
            .into_iter()
            .filter(|&k| self.width_of(k).is_some())
            .collect()
    }

    /// The number of values an output of `kind` writes per row; [`Error::Unsupported`]
    /// naming the outputs the model has when it cannot write `kind`.
    pub fn output_width(&self, kind: PredictKind) -> Result<usize> {
        self.width_of(kind).ok_or_else(|| self.unsupported(kind))
    }

    fn width_of(&self, kind: PredictKind) -> Option<usize> {
        let o = self.as_outputs();
        match kind {
            // A transformer writes columns, not a value per row.
            PredictKind::Value => (self.estimator() != Estimator::Transformer).then_some(1),
            PredictKind::Proba => o
                .as_probabilistic()
                .filter(|_| o.has_probabilities())
                .map(|p| p.n_classes()),
            PredictKind::Score => o.as_scorer().map(|s| s.n_scores()),
            PredictKind::Transform => o.as_transform().map(|t| t.n_outputs()),
        }
    }

    fn unsupported(&self, kind: PredictKind) -> Error {
        let has: Vec<&str> = PredictKind::ALL
            .into_iter()
            .filter(|&k| self.width_of(k).is_some())
            .map(PredictKind::name)
            .collect();
        Error::Unsupported(format!(
            "{} ({}) has no {} output; it has: {}",
            self.type_name(),
            self.estimator(),
            kind.name(),
            has.join(", ")
        ))
    }

    /// The view that writes output `kind`, or [`Error::Unsupported`] naming the outputs the
    /// model has (the one place batch and row paths resolve a kind).
    fn view(&self, kind: PredictKind) -> Result<OutputView<'_>> {
        let o = self.as_outputs();
        let view = match kind {
            PredictKind::Value => {
                (self.estimator() != Estimator::Transformer).then_some(OutputView::Value)
            }
            PredictKind::Proba => o
                .as_probabilistic()
                .filter(|_| o.has_probabilities())
                .map(OutputView::Proba),
            PredictKind::Score => o.as_scorer().map(OutputView::Score),
            PredictKind::Transform => o.as_transform().map(OutputView::Transform),
        };
        view.ok_or_else(|| self.unsupported(kind))
    }

    /// Writes the `kind` output of every row of `x` into `out`
    /// (`x.nrows() * output_width(kind)` values).
    pub fn predict_kind_into(
        &self,
        kind: PredictKind,
        x: ArrayView2<'_, f64>,
        out: &mut [f64],
    ) -> Result<()> {
        match self.view(kind)? {
            OutputView::Value => Predictor::predict_into(self, x, out),
            OutputView::Proba(p) => p.predict_proba_into(x, out),
            OutputView::Score(s) => s.score_into(x, out),
            OutputView::Transform(t) => t.transform_into(x, out),
        }
    }

    /// Writes the `kind` output of one row into `out` (`output_width(kind)` values), on the
    /// model's allocation-free single-row path.
    pub fn predict_kind_row_into(
        &self,
        kind: PredictKind,
        row: &[f64],
        out: &mut [f64],
    ) -> Result<()> {
        match self.view(kind)? {
            OutputView::Value => Predictor::predict_row_into(self, row, out),
            OutputView::Proba(p) => p.predict_proba_row_into(row, out),
            OutputView::Score(s) => s.score_row_into(row, out),
            OutputView::Transform(t) => t.transform_row_into(row, out),
        }
    }

    /// Class probabilities of one row, or [`Error::Unsupported`] for a model without them.
    pub fn predict_proba_row_into(&self, row: &[f64], out: &mut [f64]) -> Result<()> {
        self.predict_kind_row_into(PredictKind::Proba, row, out)
    }

    /// Class probabilities, or [`Error::Unsupported`] for a model without them.
    pub fn predict_proba_into(&self, x: ArrayView2<'_, f64>, out: &mut [f64]) -> Result<()> {
        self.predict_kind_into(PredictKind::Proba, x, out)
    }
}

impl Model for AnyModel {
    fn n_features(&self) -> usize {
        self.as_outputs().n_features()
    }

    fn validate(&self) -> Result<()> {
        self.as_outputs().validate()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each trainer's `NAME` is its registered `type`, and a config with no keys parses to
    /// the trainer's defaults.
    #[test]
    fn every_trainer_name_is_its_type_and_parses_to_its_defaults() {
        let mut count = 0;
        each_trainer(&mut |name, registered, defaults| {
            assert_eq!(name, registered);
            let config = ModelConfig::from_json_parts(name, serde_json::json!({})).unwrap();
            let mut params = serde_json::to_value(&config).unwrap();
            params.as_object_mut().unwrap().remove("type");
            assert_eq!(params, defaults, "{name}");
            count += 1;
        });
        assert_eq!(count, REGISTERED.len());
    }

    #[test]
    fn every_type_is_registered_once_with_its_kind() {
        let names = ModelConfig::type_names();
        let mut sorted = names.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), names.len());
        for r in REGISTERED {
            let config = ModelConfig::from_json_parts(r.type_name, serde_json::json!({})).unwrap();
            assert_eq!(config.type_name(), r.type_name);
            assert_eq!(config.estimator(), r.estimator);
            assert_eq!(config.tags(), r.tags);
            assert_eq!(r.tags.needs_target, r.estimator.needs_target());
        }
    }
}
