//! Voting ensembles: `voting_classifier` and `voting_regressor`, scikit-learn's
//! `VotingClassifier` / `VotingRegressor` over any registered models, each member a whole
//! pipeline (its own preprocessing and model).
//!
//! Every member is fitted on the same rows. A regressor predicts the weighted mean of the
//! members' predictions. A classifier votes `hard` (the class with the largest sum of the
//! weights of the members that predict it; scikit-learn's default) or `soft` (the class with
//! the largest weighted mean probability, which `predict_proba` returns). Ties go to the
//! first class, as `numpy.argmax`. Sums run over members in order and are divided by the
//! sum of the weights afterwards, as `numpy.average`, so the results equal scikit-learn's
//! for members that do.
//!
//! A member is a model config (`{"type": "gaussian_nb"}`) or a pipeline config
//! (`{"model": {...}, "preprocess": [...]}`); its inputs are the ensemble's inputs, so
//! members with different preprocessing (a scaler for one, none for a tree) sit side by
//! side. `auto_classifier` / `auto_regressor` return such an ensemble when the ensemble of
//! their best candidates scores better out of fold than the best single one.
//!
//! ```
//! use amlis::pipeline::Pipeline;
//! use amlis::service::config::TrainConfig;
//! use amlis::traits::FitContext;
//!
//! let table = amlis::data::datasets::iris_table()?;
//! let config = TrainConfig::from_json(r#"{"model": {
//!     "type": "voting_classifier", "voting": "soft", "weights": [2, 1],
//!     "estimators": [
//!         {"model": {"type": "k_neighbors_classifier"}, "preprocess": [{"type": "standard_scaler"}]},
//!         {"type": "gaussian_nb"}]}}"#)?;
//! let pipeline = Pipeline::fit(&config, &table, "species", &FitContext::new())?;
//! assert!(pipeline.meta().training_metrics["accuracy"] > 0.9);
//! # Ok::<(), amlis::Error>(())
//! ```

use ndarray::ArrayView2;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{Error, Result};
use crate::models::kit::setters;
use crate::models::kit::validate::check_predict_shapes;
use crate::models::{Estimator, ModelConfig, PredictKind};
use crate::service::config::TrainConfig;
use crate::service::pipeline::Pipeline;
use crate::traits::{Dataset, FitContext, Model, Outputs, Predictor, ProbabilisticPredictor};

/// How a voting classifier combines its members.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Voting {
    /// Each member votes for its predicted class with its weight (scikit-learn's default).
    #[default]
    Hard,
    /// The weighted mean of the members' probabilities; every member needs probabilities.
    Soft,
}

/// One member of a voting ensemble: a pipeline config. In a config it is written either
/// as a model (`{"type": "ridge", "alpha": 2}`) or as a pipeline (`{"model": {...},
/// "preprocess": [...]}`); it is saved as a pipeline.
#[derive(Debug, Clone, PartialEq)]
pub struct Member(pub TrainConfig);

impl Serialize for Member {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

impl<'de> Deserialize<'de> for Member {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        use serde::de::Error as _;
        let value = serde_json::Value::deserialize(d)?;
        if value.get("model").is_some() {
            serde_json::from_value::<TrainConfig>(value)
                .map(Member)
                .map_err(D::Error::custom)
        } else if value.get("type").is_some() {
            serde_json::from_value::<ModelConfig>(value)
                .map(|m| Member(TrainConfig::new(m)))
                .map_err(D::Error::custom)
        } else {
            Err(D::Error::custom(
                "a member is a model config with a `type` or a pipeline config with a `model`",
            ))
        }
    }
}

/// `voting_classifier`: scikit-learn's `VotingClassifier` over member pipelines.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct VotingClassifier {
    /// The members (at least one; each a classifier, with probabilities for soft voting).
    pub estimators: Vec<Member>,
    /// `hard` (default) or `soft`.
    pub voting: Voting,
    /// One weight per member (finite, `>= 0`, not all zero); `None`: equal weights.
    pub weights: Option<Vec<f64>>,
}

/// `voting_regressor`: scikit-learn's `VotingRegressor` over member pipelines.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct VotingRegressor {
    /// The members (at least one regressor).
    pub estimators: Vec<Member>,
    /// One weight per member (finite, `>= 0`, not all zero); `None`: equal weights.
    pub weights: Option<Vec<f64>>,
}

setters!(VotingClassifier {
    voting: Voting,
    weights: Option<Vec<f64>>,
});

setters!(VotingRegressor {
    weights: Option<Vec<f64>>,
});

impl VotingClassifier {
    /// A soft- or hard-voting classifier over `members` with `weights`.
    pub fn new(members: Vec<TrainConfig>) -> Self {
        Self {
            estimators: members.into_iter().map(Member).collect(),
            ..Self::default()
        }
    }
}

impl VotingRegressor {
    /// An averaging regressor over `members`.
    pub fn new(members: Vec<TrainConfig>) -> Self {
        Self {
            estimators: members.into_iter().map(Member).collect(),
            ..Self::default()
        }
    }
}

/// A fitted voting ensemble: the member pipelines, their weights and how they vote.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VotingModel {
    /// The fitted members, in config order; all take the ensemble's inputs.
    pub members: Vec<Pipeline>,
    /// One weight per member.
    pub weights: Vec<f64>,
    /// How a classifier votes (`soft` for a regressor: its members are averaged).
    pub voting: Voting,
    /// The classes (empty for a regressor).
    pub classes: Vec<String>,
    /// Per member, the index in `classes` of each of its classes.
    pub class_maps: Vec<Vec<usize>>,
}

/// Per class of `pipeline`, its index in `classes` (a class not among them is an error).
pub(crate) fn class_map(pipeline_classes: &[String], classes: &[String]) -> Result<Vec<usize>> {
    pipeline_classes
        .iter()
        .map(|c| {
            classes.iter().position(|g| g == c).ok_or_else(|| {
                Error::InvalidArgument(format!(
                    "a member pipeline knows class `{c}`, not among {classes:?}"
                ))
            })
        })
        .collect()
}

/// Checks the members and weights of an ensemble of `kind` before any fit.
fn check(
    name: &str,
    estimators: &[Member],
    weights: Option<&[f64]>,
    kind: Estimator,
    soft: bool,
) -> Result<Vec<f64>> {
    if estimators.is_empty() {
        return Err(Error::param(
            "estimators",
            "[]",
            "at least one member (a model or pipeline config)",
        ));
    }
    for (i, m) in estimators.iter().enumerate() {
        let model = &m.0.model;
        if model.estimator() != kind {
            return Err(Error::param(
                &format!("estimators[{i}]"),
                model.type_name(),
                &format!("a {kind} (a {name} combines {kind}s)"),
            ));
        }
        if soft && !model.tags().probabilities {
            return Err(Error::param(
                &format!("estimators[{i}]"),
                model.type_name(),
                "a classifier with probabilities (voting = \"soft\" averages them)",
            ));
        }
    }
    let weights = match weights {
        None => vec![1.0; estimators.len()],
        Some(w) => {
            if w.len() != estimators.len() {
                return Err(Error::param(
                    "weights",
                    format!("{} values", w.len()),
                    &format!("one weight per member ({})", estimators.len()),
                ));
            }
            if w.iter().any(|v| !v.is_finite() || *v < 0.0) || w.iter().sum::<f64>() <= 0.0 {
                return Err(Error::param(
                    "weights",
                    format!("{w:?}"),
                    "finite weights >= 0, not all zero",
                ));
            }
            w.to_vec()
        }
    };
    Ok(weights)
}

/// Fits every member on `data` (members name themselves in errors).
fn fit_members(
    estimators: &[Member],
    data: &dyn Dataset,
    ctx: &FitContext<'_>,
) -> Result<Vec<Pipeline>> {
    estimators
        .iter()
        .enumerate()
        .map(|(i, m)| {
            Pipeline::fit_dataset(&m.0, data, None, ctx).map_err(|e| match e {
                Error::Cancelled(_) => e,
                other => Error::InvalidArgument(format!(
                    "estimators[{i}] (`{}`): {other}",
                    m.0.model.type_name()
                )),
            })
        })
        .collect()
}

impl crate::traits::Trainer for VotingClassifier {
    type Model = VotingModel;
    const NAME: &'static str = "voting_classifier";

    fn fit_with(&self, data: &dyn Dataset, ctx: &FitContext<'_>) -> Result<VotingModel> {
        let soft = self.voting == Voting::Soft;
        let weights = check(
            Self::NAME,
            &self.estimators,
            self.weights.as_deref(),
            Estimator::Classifier,
            soft,
        )?;
        let classes = match data.task() {
            crate::data::Task::Classification { classes } => classes.clone(),
            _ => {
                return Err(Error::InvalidArgument(format!(
                    "{} needs a classification target",
                    Self::NAME
                )))
            }
        };
        let members = fit_members(&self.estimators, data, ctx)?;
        // A type tagged with probabilities may have them turned off (`svc` without
        // `probability = true`): what counts is the fitted member.
        if let Some(i) = members
            .iter()
            .position(|p| soft && !p.outputs().contains(&PredictKind::Proba))
        {
            return Err(Error::param(
                &format!("estimators[{i}]"),
                self.estimators
                    .get(i)
                    .map_or("?", |m| m.0.model.type_name()),
                "a classifier with probabilities (voting = \"soft\" averages them; `svc` needs \
                 `probability = true`)",
            ));
        }
        let class_maps = members
            .iter()
            .map(|p| class_map(p.classes(), &classes))
            .collect::<Result<Vec<_>>>()?;
        Ok(VotingModel {
            members,
            weights,
            voting: self.voting,
            classes,
            class_maps,
        })
    }
}

impl crate::traits::Trainer for VotingRegressor {
    type Model = VotingModel;
    const NAME: &'static str = "voting_regressor";

    fn fit_with(&self, data: &dyn Dataset, ctx: &FitContext<'_>) -> Result<VotingModel> {
        let weights = check(
            Self::NAME,
            &self.estimators,
            self.weights.as_deref(),
            Estimator::Regressor,
            false,
        )?;
        let members = fit_members(&self.estimators, data, ctx)?;
        Ok(VotingModel {
            class_maps: vec![Vec::new(); members.len()],
            members,
            weights,
            voting: Voting::Soft,
            classes: Vec::new(),
        })
    }
}

/// The index of the first largest value (`numpy.argmax`; NaN never wins).
pub(crate) fn argmax(values: &[f64]) -> f64 {
    let mut best = 0;
    let mut top = f64::NEG_INFINITY;
    for (j, &v) in values.iter().enumerate() {
        if v > top {
            top = v;
            best = j;
        }
    }
    best as f64
}

impl VotingModel {
    fn is_classifier(&self) -> bool {
        !self.classes.is_empty()
    }

    fn weight_sum(&self) -> f64 {
        self.weights.iter().sum()
    }

    /// What each member contributes: its probabilities (soft) or its predicted values
    /// (hard votes, regression values).
    fn member_kind(&self) -> PredictKind {
        if self.is_classifier() && self.voting == Voting::Soft {
            PredictKind::Proba
        } else {
            PredictKind::Value
        }
    }

    /// Adds member `m`'s output of one row (`part`: its probabilities or its value) into
    /// `acc` (one value per class, or one value for a regressor).
    fn accumulate(&self, m: usize, part: &[f64], acc: &mut [f64]) -> Result<()> {
        let w = self.weights.get(m).copied().unwrap_or(0.0);
        let map = self.class_maps.get(m).map(Vec::as_slice).unwrap_or(&[]);
        let corrupt = || Error::ModelCorrupt("voting: a class index out of range".into());
        match (self.is_classifier(), self.voting) {
            (false, _) => {
                if let (Some(a), Some(&v)) = (acc.first_mut(), part.first()) {
                    *a += v * w;
                }
            }
            (true, Voting::Soft) => {
                for (j, &p) in part.iter().enumerate() {
                    let g = *map.get(j).ok_or_else(corrupt)?;
                    *acc.get_mut(g).ok_or_else(corrupt)? += p * w;
                }
            }
            (true, Voting::Hard) => {
                let v = part.first().copied().unwrap_or(f64::NAN);
                if v.is_finite() && v >= 0.0 {
                    let g = *map.get(v as usize).ok_or_else(corrupt)?;
                    *acc.get_mut(g).ok_or_else(corrupt)? += w;
                }
            }
        }
        Ok(())
    }

    /// The width of one member's output for `member_kind`.
    fn member_width(&self, m: usize) -> usize {
        match self.member_kind() {
            PredictKind::Proba => self.class_maps.get(m).map_or(0, Vec::len),
            _ => 1,
        }
    }

    /// The accumulated sums of every row of `x` (`acc_width` values per row).
    fn sums(&self, x: ArrayView2<'_, f64>, acc_width: usize) -> Result<Vec<f64>> {
        let n = x.nrows();
        let mut acc = vec![0.0; n * acc_width];
        let kind = self.member_kind();
        for (m, member) in self.members.iter().enumerate() {
            let width = self.member_width(m);
            let mut part = vec![0.0; n * width];
            member.predict_rows_into(kind, x, &mut part)?;
            for (p, a) in part
                .chunks(width.max(1))
                .zip(acc.chunks_mut(acc_width.max(1)))
            {
                self.accumulate(m, p, a)?;
            }
        }
        Ok(acc)
    }

    /// The accumulated sums of one row into `acc`, allocation-free.
    fn row_sums(&self, row: &[f64], acc: &mut [f64]) -> Result<()> {
        acc.fill(0.0);
        let kind = self.member_kind();
        let mut part = [0.0; crate::service::pipeline::STACK_SCRATCH];
        for (m, member) in self.members.iter().enumerate() {
            let width = self.member_width(m);
            let slot = part.get_mut(..width).ok_or_else(|| {
                Error::Unsupported(format!(
                    "voting: a member with {width} classes (single-row prediction takes at \
                     most {})",
                    crate::service::pipeline::STACK_SCRATCH
                ))
            })?;
            member.predict_kind_row_into(kind, row, slot)?;
            self.accumulate(m, slot, acc)?;
        }
        Ok(())
    }

    /// Turns one row's sums into its prediction.
    fn finish(&self, acc: &[f64]) -> f64 {
        if self.is_classifier() {
            argmax(acc)
        } else {
            acc.first().copied().unwrap_or(f64::NAN) / self.weight_sum()
        }
    }

    fn no_proba(&self) -> Error {
        Error::Unsupported(
            "predict_proba is not available with voting = \"hard\" (as scikit-learn); fit \
             with voting = \"soft\""
                .into(),
        )
    }
}

impl Model for VotingModel {
    fn n_features(&self) -> usize {
        self.members.first().map_or(0, Pipeline::n_inputs)
    }

    fn validate(&self) -> Result<()> {
        let corrupt = |m: &str| Error::ModelCorrupt(format!("voting: {m}"));
        let first = self.members.first().ok_or_else(|| corrupt("no member"))?;
        if self.weights.len() != self.members.len() || self.class_maps.len() != self.members.len() {
            return Err(corrupt("weights or class maps do not fit the members"));
        }
        if self.weights.iter().any(|w| !w.is_finite() || *w < 0.0) || self.weight_sum() <= 0.0 {
            return Err(corrupt("weights must be finite, >= 0 and not all zero"));
        }
        let k = self.classes.len();
        for (member, map) in self.members.iter().zip(&self.class_maps) {
            member.validate()?;
            if member.inputs() != first.inputs() {
                return Err(corrupt("members take different inputs"));
            }
            let classifier = member.estimator() == Estimator::Classifier;
            if classifier != (k > 0)
                || map.len() != member.classes().len()
                || map.iter().any(|&g| g >= k.max(1))
                || (k == 0 && !map.is_empty())
            {
                return Err(corrupt("a member's classes do not fit the ensemble's"));
            }
            if k > 0
                && self.voting == Voting::Soft
                && !member.outputs().contains(&PredictKind::Proba)
            {
                return Err(corrupt("soft voting over a member without probabilities"));
            }
        }
        Ok(())
    }
}

impl Predictor for VotingModel {
    fn predict_into(&self, x: ArrayView2<'_, f64>, out: &mut [f64]) -> Result<()> {
        check_predict_shapes("voting predict", x, self.n_features(), out.len(), 1)?;
        let width = self.classes.len().max(1);
        let acc = self.sums(x, width)?;
        for (o, a) in out.iter_mut().zip(acc.chunks(width)) {
            *o = self.finish(a);
        }
        Ok(())
    }

    fn predict_row_into(&self, row: &[f64], out: &mut [f64]) -> Result<()> {
        let width = self.classes.len().max(1);
        if out.len() != 1 || width > crate::service::pipeline::STACK_SCRATCH {
            return Err(Error::shape(
                "voting predict row",
                "1 value",
                format!("{} values", out.len()),
            ));
        }
        let mut acc = [0.0; crate::service::pipeline::STACK_SCRATCH];
        let acc = acc.get_mut(..width).ok_or_else(|| self.no_proba())?;
        self.row_sums(row, acc)?;
        if let Some(o) = out.first_mut() {
            *o = self.finish(acc);
        }
        Ok(())
    }
}

impl ProbabilisticPredictor for VotingModel {
    fn n_classes(&self) -> usize {
        self.classes.len()
    }

    fn classes(&self) -> &[String] {
        &self.classes
    }

    fn predict_proba_into(&self, x: ArrayView2<'_, f64>, out: &mut [f64]) -> Result<()> {
        if self.voting == Voting::Hard {
            return Err(self.no_proba());
        }
        let k = self.classes.len();
        check_predict_shapes("voting predict_proba", x, self.n_features(), out.len(), k)?;
        let acc = self.sums(x, k)?;
        let total = self.weight_sum();
        for (o, a) in out.iter_mut().zip(&acc) {
            *o = a / total;
        }
        Ok(())
    }

    fn predict_proba_row_into(&self, row: &[f64], out: &mut [f64]) -> Result<()> {
        if self.voting == Voting::Hard {
            return Err(self.no_proba());
        }
        if out.len() != self.classes.len() {
            return Err(Error::shape(
                "voting predict_proba row",
                format!("{} values", self.classes.len()),
                format!("{} values", out.len()),
            ));
        }
        self.row_sums(row, out)?;
        let total = self.weight_sum();
        for o in out.iter_mut() {
            *o /= total;
        }
        Ok(())
    }
}

impl Outputs for VotingModel {
    fn as_probabilistic(&self) -> Option<&dyn ProbabilisticPredictor> {
        self.is_classifier()
            .then_some(self as &dyn ProbabilisticPredictor)
    }

    fn has_probabilities(&self) -> bool {
        self.is_classifier() && self.voting == Voting::Soft
    }
}
