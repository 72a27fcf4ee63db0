//! The settings of an automatic model selection: what `auto_classifier` and `auto_regressor`
//! take in a training config.
//!
//! ```json
//! {"model": {"type": "auto_classifier", "time_budget": 30, "metric": "accuracy",
//!            "cv": 5, "families": ["logistic_regression", "random_forest_classifier"]}}
//! ```

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::models::kit::setters;
use crate::models::{Estimator, REGISTERED};

/// How each trial is scored: k-fold cross-validation or one holdout split. In JSON:
/// `"auto"`, an integer `>= 2` (folds) or a fraction in `(0, 0.5]` (holdout).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
#[serde(try_from = "CvRepr", into = "CvRepr")]
pub enum CvChoice {
    /// `"auto"` (default): 5 folds below 2,000 training rows, else a 0.2 holdout.
    #[default]
    Auto,
    /// This many folds, stratified for a classifier, shuffled.
    Folds(usize),
    /// One holdout split with this fraction of the rows.
    Holdout(f64),
}

/// The JSON form of a [`CvChoice`].
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(untagged)]
enum CvRepr {
    Folds(u64),
    Fraction(f64),
    Name(String),
}

impl TryFrom<CvRepr> for CvChoice {
    type Error = String;

    fn try_from(r: CvRepr) -> std::result::Result<Self, String> {
        match r {
            CvRepr::Folds(k) => Ok(CvChoice::Folds(usize::try_from(k).unwrap_or(usize::MAX))),
            CvRepr::Fraction(f) => Ok(CvChoice::Holdout(f)),
            CvRepr::Name(s) if s == "auto" => Ok(CvChoice::Auto),
            CvRepr::Name(s) => Err(format!(
                "expected \"auto\", an integer >= 2 (folds) or a fraction in (0, 0.5] (holdout), found \"{s}\""
            )),
        }
    }
}

impl From<CvChoice> for CvRepr {
    fn from(c: CvChoice) -> Self {
        match c {
            CvChoice::Auto => CvRepr::Name("auto".into()),
            CvChoice::Folds(k) => CvRepr::Folds(k as u64),
            CvChoice::Holdout(f) => CvRepr::Fraction(f),
        }
    }
}

impl CvChoice {
    /// The folds (`Some(k)`) or holdout fraction (`None`, with the fraction) for `n_rows`
    /// training rows.
    pub fn resolve(self, n_rows: usize) -> CvChoice {
        match self {
            CvChoice::Auto if n_rows < 2000 => CvChoice::Folds(5),
            CvChoice::Auto => CvChoice::Holdout(0.2),
            other => other,
        }
    }
}

/// The most rounds of ensemble selection.
pub const MAX_ENSEMBLE_SIZE: usize = 1000;

/// The settings of an automatic model selection (see the [module](crate::meta) for what it
/// does). Every key is optional.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AutoSearch {
    /// The wall-clock budget of the whole search, final refit included, in seconds. Default:
    /// 60 s, or no time bound when `max_trials` is set.
    pub time_budget: Option<f64>,
    /// Stop after this many trials (a trial is one candidate scored on one rung). With a
    /// `max_trials` and no `time_budget`, no trial is ever cut by time, so the result is the
    /// same bit for bit for a seed whatever the machine and thread count.
    pub max_trials: Option<usize>,
    /// The scorer that ranks trials (any scorer name; default `accuracy` / `r2`). Losses
    /// (`neg_*` scorers) are maximized as scikit-learn does.
    pub metric: Option<String>,
    /// Folds or holdout fraction of each trial (default `"auto"`).
    pub cv: CvChoice,
    /// The model types the search may choose (default: every suitable registered type).
    pub families: Vec<String>,
    /// Bound on the number of threads (default: the context's).
    pub n_threads: Option<usize>,
    /// Seed of every split, subsample, candidate and fit (default: the config's or context's).
    pub random_state: Option<u64>,
    /// Each trial's own time limit in seconds (default: a quarter of the budget).
    pub trial_time_limit: Option<f64>,
    /// Each trial's estimated memory bound in MiB (default 2048); a candidate whose estimate
    /// exceeds it is recorded as skipped.
    pub trial_memory_limit: f64,
    /// How many portfolio configurations the zero-shot step proposes first (default 6).
    pub zero_shot: usize,
    /// Portfolio data sets to leave out (for leave-one-data-set-out evaluation).
    pub portfolio_exclude: Vec<String>,
    /// Rounds of ensemble selection (Caruana et al. 2004, as auto-sklearn's
    /// `ensemble_size`) over the out-of-fold predictions of the best candidates (default
    /// 25; 0: never an ensemble). When the ensemble scores better out of fold than the best
    /// single candidate, the result is a `voting_classifier` (soft) / `voting_regressor`
    /// over the selected candidates' pipelines, weighted by how often each was selected.
    pub ensemble_size: usize,
    /// Keep the prior default (the family default that ranked best across the portfolio's
    /// data sets of the task, among the searched families) unless the best candidate's
    /// paired cross-validated gain over it is larger than the gain's standard error
    /// (default true). The prior default is scored on every rung for this.
    pub keep_prior_default: bool,
}

impl Default for AutoSearch {
    fn default() -> Self {
        Self {
            time_budget: None,
            max_trials: None,
            metric: None,
            cv: CvChoice::Auto,
            families: Vec::new(),
            n_threads: None,
            random_state: None,
            trial_time_limit: None,
            trial_memory_limit: 2048.0,
            zero_shot: 6,
            portfolio_exclude: Vec::new(),
            ensemble_size: 25,
            keep_prior_default: true,
        }
    }
}

setters!(AutoSearch {
    /// Sets the budget in seconds.
    time_budget: Option<f64>,
    /// Sets the trial count.
    max_trials: Option<usize>,
    /// Sets the scorer.
    metric: Option<String>,
    /// Sets the folds or holdout.
    cv: CvChoice,
    /// Sets the families.
    families: Vec<String>,
    /// Sets the seed.
    random_state: Option<u64>,
    /// Sets the per-trial time limit.
    trial_time_limit: Option<f64>,
    /// Sets the zero-shot count.
    zero_shot: usize,
    /// Sets the excluded portfolio data sets.
    portfolio_exclude: Vec<String>,
    /// Sets the rounds of ensemble selection.
    ensemble_size: usize,
    /// Sets whether the prior default is kept unless clearly beaten.
    keep_prior_default: bool,
});

impl AutoSearch {
    /// The budget in seconds (`None`: no time bound).
    pub fn budget(&self) -> Option<f64> {
        match (self.time_budget, self.max_trials) {
            (Some(b), _) => Some(b),
            (None, Some(_)) => None,
            (None, None) => Some(60.0),
        }
    }

    /// Checks every setting for a search whose candidates are of kind `kind`, naming the
    /// parameter at fault.
    pub fn check(&self, kind: Estimator) -> Result<()> {
        if let Some(b) = self.time_budget {
            if !(b.is_finite() && b > 0.0) {
                return Err(Error::param(
                    "time_budget",
                    b,
                    "a positive number of seconds",
                ));
            }
        }
        if self.max_trials == Some(0) {
            return Err(Error::param("max_trials", 0, "at least 1 trial"));
        }
        if let Some(t) = self.trial_time_limit {
            if !(t.is_finite() && t > 0.0) {
                return Err(Error::param(
                    "trial_time_limit",
                    t,
                    "a positive number of seconds",
                ));
            }
        }
        if !(self.trial_memory_limit.is_finite() && self.trial_memory_limit > 0.0) {
            return Err(Error::param(
                "trial_memory_limit",
                self.trial_memory_limit,
                "a positive number of MiB",
            ));
        }
        match self.cv {
            CvChoice::Folds(k) if k < 2 => {
                return Err(Error::param(
                    "cv",
                    k,
                    "at least 2 folds, or a holdout fraction",
                ))
            }
            CvChoice::Holdout(f) if !(f > 0.0 && f <= 0.5) => {
                return Err(Error::param(
                    "cv",
                    f,
                    "a holdout fraction in (0, 0.5], or folds",
                ))
            }
            _ => {}
        }
        if self.ensemble_size > MAX_ENSEMBLE_SIZE {
            return Err(Error::param(
                "ensemble_size",
                self.ensemble_size,
                &format!("at most {MAX_ENSEMBLE_SIZE} rounds (0: no ensemble)"),
            ));
        }
        if self.n_threads == Some(0) {
            return Err(Error::param("n_threads", 0, "at least 1 thread"));
        }
        for f in &self.families {
            let known = crate::meta::space::searchable(kind);
            if !known.contains(&f.as_str()) {
                let registered = REGISTERED.iter().any(|r| r.type_name == f);
                let why = if registered {
                    format!("`{f}` is registered but not searchable by an auto {kind}")
                } else {
                    format!("`{f}` is not a registered model type")
                };
                return Err(Error::param(
                    "families",
                    why,
                    &format!("a subset of: {}", known.join(", ")),
                ));
            }
        }
        if let Some(m) = &self.metric {
            crate::evaluate::metrics::get(m)
                .map_err(|e| Error::param("metric", m, &format!("a scorer name ({e})")))?;
        }
        Ok(())
    }
}

macro_rules! auto_trainer {
    ($(#[$doc:meta])* $name:ident, $type_name:literal, $kind:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
        #[serde(transparent)]
        pub struct $name {
            /// The search settings.
            pub search: AutoSearch,
        }

        impl $name {
            /// The search settings of this trainer.
            pub fn new(search: AutoSearch) -> Self {
                Self { search }
            }
        }

        impl crate::traits::Trainer for $name {
            type Model = crate::meta::AutoModel;
            const NAME: &'static str = $type_name;

            fn fit_with(
                &self,
                data: &dyn crate::traits::Dataset,
                ctx: &crate::traits::FitContext<'_>,
            ) -> Result<Self::Model> {
                crate::meta::fit_dataset(&self.search, Estimator::$kind, data, ctx)
            }
        }
    };
}

auto_trainer!(
    /// `auto_classifier`: chooses a classifier family, its hyperparameters and its
    /// preprocessing by a budgeted search warm-started from the portfolio.
    AutoClassifier,
    "auto_classifier",
    Classifier
);
auto_trainer!(
    /// `auto_regressor`: chooses a regressor family, its hyperparameters and its
    /// preprocessing by a budgeted search warm-started from the portfolio.
    AutoRegressor,
    "auto_regressor",
    Regressor
);
