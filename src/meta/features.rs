//! Meta-features: what a data set looks like to model selection, computed on the training
//! rows only (a search never looks at its holdout), then compared in a normalized space.
//!
//! Simple features: rows, columns, classes (log10), the shares of numeric, categorical and
//! missing cells, the normalized class entropy, the columns-per-row ratio. Landmarkers: the
//! holdout score of three cheap models on a subsample of at most 1,000 rows — a decision
//! stump, naive Bayes (a ridge for a regression) and 1-nearest-neighbour — each after the
//! imputer / one-hot / scaler steps it needs.

use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::data::{Column, KFold, Splitter, StratifiedKFold, Task};
use crate::error::Result;
use crate::evaluate::selection::cross_validate::{resolve_metrics, run_fold, CvData, TableData};
use crate::meta::space::InputProfile;
use crate::models::ModelConfig;
use crate::preprocess::Step;
use crate::service::config::TrainConfig;
use crate::traits::FitContext;

/// The names of the meta-features, in the order of [`MetaFeatures::values`].
pub const NAMES: [&str; 11] = [
    "log10_rows",
    "log10_features",
    "log10_classes",
    "numeric_share",
    "categorical_share",
    "missing_share",
    "class_entropy",
    "log10_features_per_row",
    "landmark_stump",
    "landmark_naive_bayes_or_ridge",
    "landmark_1nn",
];

/// The meta-features of one data set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetaFeatures {
    /// One value per name of [`NAMES`].
    #[serde(with = "crate::common::json_float::vec")]
    pub values: Vec<f64>,
}

/// The largest subsample the landmarkers fit on.
const LANDMARK_ROWS: usize = 1000;

/// What the preprocessing of `data`'s feature columns must handle.
pub fn profile(data: &TableData<'_>) -> InputProfile {
    crate::meta::space::profile_of(data.table(), data.target().unwrap_or_default())
}

/// The normalized Shannon entropy of the class counts (1: balanced; 0 for a regression).
fn class_entropy(y: &[f64], task: &Task) -> f64 {
    let Task::Classification { classes } = task else {
        return 0.0;
    };
    if classes.len() < 2 {
        return 0.0;
    }
    let mut counts = vec![0usize; classes.len()];
    for &v in y {
        if v >= 0.0 {
            if let Some(c) = counts.get_mut(v as usize) {
                *c += 1;
            }
        }
    }
    let n: usize = counts.iter().sum();
    let h: f64 = counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = c as f64 / n as f64;
            -p * p.ln()
        })
        .sum();
    h / (classes.len() as f64).ln()
}

fn model(type_name: &str, params: serde_json::Value) -> Result<ModelConfig> {
    ModelConfig::from_json_parts(type_name, params)
}

/// The landmarker configs of a task, with the steps each needs.
fn landmarkers(task: &Task, profile: &InputProfile) -> Result<Vec<TrainConfig>> {
    let classification = matches!(task, Task::Classification { .. });
    let stump = if classification {
        model("decision_tree_classifier", json!({"max_depth": 1}))?
    } else {
        model("decision_tree_regressor", json!({"max_depth": 1}))?
    };
    let simple = if classification {
        model("gaussian_nb", json!({}))?
    } else {
        model("ridge", json!({}))?
    };
    let nn = if classification {
        model("k_neighbors_classifier", json!({"n_neighbors": 1}))?
    } else {
        model("k_neighbors_regressor", json!({"n_neighbors": 1}))?
    };
    // Every landmarker gets the full preprocessing of a scaled, imputed family.
    let steps: Vec<Step> = crate::meta::space::preprocess_for(
        if classification {
            "logistic_regression"
        } else {
            "ridge"
        },
        profile,
    )?;
    Ok([stump, simple, nn]
        .into_iter()
        .map(|m| TrainConfig {
            model: m,
            preprocess: steps.clone(),
            random_state: None,
            n_threads: None,
            unlabeled_token: None,
        })
        .collect())
}

/// The meta-features of `data` (its table's feature columns and target), landmarkers seeded
/// from `seed`.
pub fn compute(data: &TableData<'_>, seed: u64) -> Result<MetaFeatures> {
    let table = data.table();
    let n = table.n_rows();
    let features: Vec<&Column> = table
        .iter()
        .filter(|(name, _)| Some(*name) != data.target())
        .map(|(_, c)| c)
        .collect();
    let d = features.len();
    let categorical = features
        .iter()
        .filter(|c| matches!(c, Column::Categorical(_)))
        .count();
    let missing: usize = features.iter().map(|c| c.n_missing()).sum();
    let cells = (n * d).max(1) as f64;
    let task = data.target_task();
    let n_classes = match task {
        Task::Classification { classes } => classes.len(),
        _ => 1,
    };
    let mut values = vec![
        (n.max(1) as f64).log10(),
        (d.max(1) as f64).log10(),
        (n_classes as f64).log10(),
        (d - categorical) as f64 / d.max(1) as f64,
        categorical as f64 / d.max(1) as f64,
        missing as f64 / cells,
        class_entropy(data.y(), task),
        (d.max(1) as f64 / n.max(1) as f64).log10(),
    ];
    values.extend(landmark_scores(data, seed)?);
    Ok(MetaFeatures { values })
}

/// The holdout score of each landmarker on a subsample (0 for a landmarker that fails).
fn landmark_scores(data: &TableData<'_>, seed: u64) -> Result<Vec<f64>> {
    let n = data.n_rows();
    let mut rng = crate::common::rng::for_task(seed, 0x6d65_7461);
    let mut rows = crate::common::rng::permutation(n, &mut rng);
    rows.truncate(LANDMARK_ROWS);
    rows.sort_unstable();
    let sub_table = data.table().take_rows(&rows)?;
    let kind = data
        .estimator()
        .unwrap_or(crate::models::Estimator::Regressor);
    let sub = TableData::new(&sub_table, data.target(), kind)?;
    let splitter: Box<dyn Splitter> = match sub.target_task() {
        Task::Classification { .. } => Box::new(StratifiedKFold::new(3).shuffle(seed)),
        _ => Box::new(KFold::new(3).shuffle(seed)),
    };
    let y = sub.y().to_vec();
    let splits = match splitter.split_indices(sub.n_rows(), Some(&y)) {
        Ok(s) => s,
        Err(_) => KFold::new(3)
            .shuffle(seed)
            .split_indices(sub.n_rows(), None)?,
    };
    let Some(split) = splits.first() else {
        return Ok(vec![0.0; 3]);
    };
    let metrics = resolve_metrics(&[], sub.target_task(), sub.estimator())?;
    let ctx = FitContext::new().random_state(seed);
    let configs = landmarkers(sub.target_task(), &profile(&sub))?;
    Ok(configs
        .iter()
        .map(|c| {
            run_fold(&sub, c, split, &metrics, false, &ctx)
                .ok()
                .and_then(|f| f.test.first().copied())
                .filter(|v| v.is_finite())
                .map_or(0.0, |v| v.max(-1.0))
        })
        .collect())
}
