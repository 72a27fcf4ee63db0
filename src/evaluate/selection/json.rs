//! Cross-validation from JSON text, as the C ABI's `amlis_cross_validate` calls it.
//!
//! The options `cv_json` (every key optional):
//! `{"n_splits": 5, "shuffle": false, "stratified": false, "random_state": 0,
//!   "metrics": ["roc_auc", "accuracy"]}`. Unknown keys are an [`Error::Config`] naming the
//! key; `metrics` defaults to the task's default scorer (`accuracy` or `r2`).
//!
//! The report: `{"metrics": {"<name>": {"mean": .., "std": .., "folds": [..]}},
//! "n_splits": k, "fit_time": {"mean": .., "std": .., "folds": [..]},
//! "score_time": {...}}`.
//!
//! ```
//! let table = amlis::data::datasets::iris_table()?;
//! let report = amlis::evaluate::selection::cross_validate_json(
//!     &table, "species",
//!     r#"{"model": {"type": "dummy_classifier", "strategy": "most_frequent"}}"#,
//!     r#"{"n_splits": 3, "metrics": ["accuracy"]}"#)?;
//! let v: serde_json::Value = serde_json::from_str(&report).map_err(|e| amlis::Error::InvalidArgument(e.to_string()))?;
//! assert_eq!(v["n_splits"], 3);
//! assert_eq!(v["metrics"]["accuracy"]["folds"], serde_json::json!([0.0, 0.0, 0.0]));
//! # Ok::<(), amlis::Error>(())
//! ```

use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::data::{KFold, Splitter, StratifiedKFold, Table};
use crate::error::{Error, Result};
use crate::evaluate::selection::cross_validate::{cross_validate, mean_std, CvOptions, TableData};
use crate::service::config::TrainConfig;
use crate::traits::FitContext;

/// The options of [`cross_validate_json`].
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CvSpec {
    /// Number of folds.
    pub n_splits: usize,
    /// Shuffle the rows before cutting folds.
    pub shuffle: bool,
    /// Keep class proportions in each fold.
    pub stratified: bool,
    /// Seed of the shuffle and of every fold's fit.
    pub random_state: u64,
    /// Scorer names (empty: the task's default).
    pub metrics: Vec<String>,
}

impl Default for CvSpec {
    fn default() -> Self {
        Self {
            n_splits: 5,
            shuffle: false,
            stratified: false,
            random_state: 0,
            metrics: Vec::new(),
        }
    }
}

impl CvSpec {
    /// Parses the options, naming the key of any error.
    pub fn from_json(text: &str) -> Result<Self> {
        let v: Value = serde_json::from_str(text).map_err(|e| Error::Config {
            key: "<cv>".into(),
            message: format!("not valid JSON: {e}"),
        })?;
        serde_path_to_error::deserialize(v).map_err(|e| {
            let path = e.path().to_string();
            let inner = e.inner().to_string();
            // An unknown field is reported at the parent path; name the field itself.
            let key = match inner.split('`').nth(1) {
                Some(field) if inner.starts_with("unknown field") => field.to_string(),
                _ if path == "." => "<cv>".to_string(),
                _ => path,
            };
            Error::Config {
                key,
                message: inner,
            }
        })
    }

    /// The splitter these options describe.
    pub fn splitter(&self) -> Box<dyn Splitter> {
        match (self.stratified, self.shuffle) {
            (false, false) => Box::new(KFold::new(self.n_splits)),
            (false, true) => Box::new(KFold::new(self.n_splits).shuffle(self.random_state)),
            (true, false) => Box::new(StratifiedKFold::new(self.n_splits)),
            (true, true) => {
                Box::new(StratifiedKFold::new(self.n_splits).shuffle(self.random_state))
            }
        }
    }
}

fn summary(values: &[f64]) -> Value {
    let (mean, std) = mean_std(values);
    json!({"mean": mean, "std": std, "folds": values})
}

/// Cross-validates the pipeline of `config_json` on `table` with the options of `cv_json`
/// and returns the JSON report.
pub fn cross_validate_json(
    table: &Table,
    target: &str,
    config_json: &str,
    cv_json: &str,
) -> Result<String> {
    let config = TrainConfig::from_json(config_json)?;
    let spec = CvSpec::from_json(cv_json)?;
    let data = TableData::new(table, target, config.model.estimator())?;
    let ctx = FitContext::new().random_state(spec.random_state);
    let results = cross_validate(
        &data,
        &config,
        spec.splitter().as_ref(),
        &CvOptions::metrics(&spec.metrics),
        &ctx,
    )?;
    let mut metrics = Map::new();
    for m in &results.metrics {
        metrics.insert(
            m.name.clone(),
            json!({"mean": m.mean, "std": m.std, "folds": m.folds}),
        );
    }
    let report = json!({
        "metrics": metrics,
        "n_splits": results.n_splits(),
        "fit_time": summary(&results.fit_time),
        "score_time": summary(&results.score_time),
    });
    serde_json::to_string(&report)
        .map_err(|e| Error::InvalidArgument(format!("cannot serialize the report: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_defaults_and_unknown_keys() {
        assert_eq!(CvSpec::from_json("{}").unwrap(), CvSpec::default());
        match CvSpec::from_json(r#"{"n_split": 3}"#).unwrap_err() {
            Error::Config { key, .. } => assert_eq!(key, "n_split"),
            e => panic!("{e}"),
        }
        match CvSpec::from_json(r#"{"shuffle": 1}"#).unwrap_err() {
            Error::Config { key, .. } => assert_eq!(key, "shuffle"),
            e => panic!("{e}"),
        }
    }
}
