//! The search space: which registered families an automatic search may choose, each
//! family's hyperparameter ranges, the preprocessing each family needs, and how candidates
//! are drawn (defaults, random draws for the portfolio, neighbours of good candidates).
//!
//! Candidates are model configs as JSON objects (`{"type": "ridge", "alpha": 0.3}`), parsed
//! by the registry like any config, so the space never depends on a trainer's Rust types.

use rand::Rng;
use serde_json::{json, Map, Value};

use crate::error::{Error, Result};
use crate::models::{Estimator, ModelConfig};
use crate::preprocess::Step;

/// The range of one hyperparameter.
#[derive(Debug, Clone, Copy)]
enum Range {
    /// A real number drawn log-uniformly in `[lo, hi]`.
    LogFloat(f64, f64),
    /// A real number drawn uniformly in `[lo, hi]`.
    Float(f64, f64),
    /// An integer drawn log-uniformly in `[lo, hi]`.
    LogInt(u64, u64),
    /// One of these JSON values (as JSON text).
    Choice(&'static [&'static str]),
}

/// One family of the space.
struct Family {
    name: &'static str,
    kind: Estimator,
    /// Needs standardized inputs (linear models, kernels, neighbours).
    scale: bool,
    /// Takes missing values as they are.
    nan: bool,
    /// The settings every candidate starts from (beyond the trainer's defaults).
    base: &'static str,
    params: &'static [(&'static str, Range)],
}

const FOREST: &[(&str, Range)] = &[
    ("n_estimators", Range::LogInt(50, 400)),
    (
        "max_features",
        Range::Choice(&["\"sqrt\"", "0.3", "0.6", "1.0"]),
    ),
    ("min_samples_leaf", Range::LogInt(1, 20)),
];
const BOOSTING: &[(&str, Range)] = &[
    ("learning_rate", Range::LogFloat(0.01, 0.5)),
    ("max_iter", Range::LogInt(30, 500)),
    ("max_leaf_nodes", Range::LogInt(4, 128)),
    ("min_samples_leaf", Range::LogInt(2, 60)),
    (
        "l2_regularization",
        Range::Choice(&["0.0", "0.01", "0.1", "1.0", "10.0"]),
    ),
];
const NEIGHBOURS: &[(&str, Range)] = &[
    ("n_neighbors", Range::LogInt(1, 50)),
    ("weights", Range::Choice(&["\"uniform\"", "\"distance\""])),
];
const TREE: &[(&str, Range)] = &[
    (
        "max_depth",
        Range::Choice(&["3", "5", "8", "12", "20", "null"]),
    ),
    ("min_samples_leaf", Range::LogInt(1, 50)),
];

/// Every searchable family, classifiers then regressors. Only classifiers with
/// probabilities are searchable, so an `auto_classifier` always has them.
const FAMILIES: &[Family] = &[
    Family {
        name: "logistic_regression",
        kind: Estimator::Classifier,
        scale: true,
        nan: false,
        base: r#"{"max_iter": 1000}"#,
        params: &[("C", Range::LogFloat(1e-3, 1e3))],
    },
    Family {
        name: "random_forest_classifier",
        kind: Estimator::Classifier,
        scale: false,
        nan: true,
        base: "{}",
        params: FOREST,
    },
    Family {
        name: "extra_trees_classifier",
        kind: Estimator::Classifier,
        scale: false,
        nan: true,
        base: "{}",
        params: FOREST,
    },
    Family {
        name: "gradient_boosting_classifier",
        kind: Estimator::Classifier,
        scale: false,
        nan: true,
        base: r#"{"early_stopping": false}"#,
        params: BOOSTING,
    },
    Family {
        name: "k_neighbors_classifier",
        kind: Estimator::Classifier,
        scale: true,
        nan: false,
        base: "{}",
        params: NEIGHBOURS,
    },
    Family {
        name: "gaussian_nb",
        kind: Estimator::Classifier,
        scale: false,
        nan: false,
        base: "{}",
        params: &[("var_smoothing", Range::LogFloat(1e-11, 1e-3))],
    },
    Family {
        name: "svc",
        kind: Estimator::Classifier,
        scale: true,
        nan: false,
        base: r#"{"probability": true}"#,
        params: &[
            ("C", Range::LogFloat(1e-2, 1e3)),
            (
                "gamma",
                Range::Choice(&["\"scale\"", "0.001", "0.01", "0.1", "1.0"]),
            ),
        ],
    },
    Family {
        name: "decision_tree_classifier",
        kind: Estimator::Classifier,
        scale: false,
        nan: true,
        base: "{}",
        params: TREE,
    },
    Family {
        name: "ridge",
        kind: Estimator::Regressor,
        scale: true,
        nan: false,
        base: "{}",
        params: &[("alpha", Range::LogFloat(1e-3, 1e3))],
    },
    Family {
        name: "elastic_net",
        kind: Estimator::Regressor,
        scale: true,
        nan: false,
        base: r#"{"alpha": 0.01, "max_iter": 5000}"#,
        params: &[
            ("alpha", Range::LogFloat(1e-4, 10.0)),
            ("l1_ratio", Range::Float(0.05, 0.95)),
        ],
    },
    Family {
        name: "random_forest_regressor",
        kind: Estimator::Regressor,
        scale: false,
        nan: true,
        base: "{}",
        params: FOREST,
    },
    Family {
        name: "extra_trees_regressor",
        kind: Estimator::Regressor,
        scale: false,
        nan: true,
        base: "{}",
        params: FOREST,
    },
    Family {
        name: "gradient_boosting_regressor",
        kind: Estimator::Regressor,
        scale: false,
        nan: true,
        base: r#"{"early_stopping": false}"#,
        params: BOOSTING,
    },
    Family {
        name: "k_neighbors_regressor",
        kind: Estimator::Regressor,
        scale: true,
        nan: false,
        base: "{}",
        params: NEIGHBOURS,
    },
    Family {
        name: "svr",
        kind: Estimator::Regressor,
        scale: true,
        nan: false,
        base: "{}",
        params: &[
            ("C", Range::LogFloat(1e-2, 1e3)),
            ("epsilon", Range::LogFloat(1e-3, 1.0)),
        ],
    },
    Family {
        name: "decision_tree_regressor",
        kind: Estimator::Regressor,
        scale: false,
        nan: true,
        base: "{}",
        params: TREE,
    },
];

fn family(name: &str) -> Result<&'static Family> {
    FAMILIES
        .iter()
        .find(|f| f.name == name)
        .ok_or_else(|| Error::InvalidArgument(format!("`{name}` is not a searchable family")))
}

/// Families whose out-of-fold predictions never join an ensemble: a single decision tree.
/// Its predictions are piecewise constant and vary most between resamples, so one that
/// happens to fit the out-of-fold rows is picked round after round (salaries, 397 rows:
/// eight of 21 votes) and the ensemble loses on new rows what it gained there; the forests
/// and boosting of the search average trees already. It stays a candidate on its own.
const SOLO_ONLY: &[&str] = &["decision_tree_classifier", "decision_tree_regressor"];

/// Whether a candidate of family `name` may be a member of a selected ensemble.
pub fn joins_ensembles(name: &str) -> bool {
    !SOLO_ONLY.contains(&name)
}

/// The families an automatic search of kind `kind` may choose, in a fixed order.
pub fn searchable(kind: Estimator) -> Vec<&'static str> {
    FAMILIES
        .iter()
        .filter(|f| f.kind == kind)
        .map(|f| f.name)
        .collect()
}

fn parse_const(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or(Value::Null)
}

/// The starting config of `name`: its `type` and the family's base settings.
pub fn default_config(name: &str) -> Result<Value> {
    let f = family(name)?;
    let mut obj = match parse_const(f.base) {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    obj.insert("type".into(), json!(f.name));
    Ok(Value::Object(obj))
}

fn draw(range: Range, rng: &mut impl Rng) -> Value {
    match range {
        Range::LogFloat(lo, hi) => {
            let t: f64 = rng.gen();
            json!((lo.ln() + t * (hi.ln() - lo.ln())).exp())
        }
        Range::Float(lo, hi) => json!(lo + rng.gen::<f64>() * (hi - lo)),
        Range::LogInt(lo, hi) => {
            let t: f64 = rng.gen();
            let v = ((lo as f64).ln() + t * ((hi as f64 + 1.0).ln() - (lo as f64).ln())).exp();
            json!((v.floor() as u64).clamp(lo, hi))
        }
        Range::Choice(options) => {
            let i = rng.gen_range(0..options.len());
            options.get(i).map_or(Value::Null, |t| parse_const(t))
        }
    }
}

/// Moves one value a step from `current`: log-normal for log ranges, a uniform pick for
/// choices.
fn nudge(range: Range, current: Option<&Value>, rng: &mut impl Rng) -> Value {
    let step: f64 = (rng.gen::<f64>() - 0.5) * 1.5;
    match (range, current.and_then(Value::as_f64)) {
        (Range::LogFloat(lo, hi), Some(v)) if v > 0.0 => json!((v * step.exp()).clamp(lo, hi)),
        (Range::Float(lo, hi), Some(v)) => json!((v + step * (hi - lo) / 3.0).clamp(lo, hi)),
        (Range::LogInt(lo, hi), Some(v)) if v > 0.0 => {
            json!(((v * step.exp()).round() as u64).clamp(lo, hi))
        }
        _ => draw(range, rng),
    }
}

/// A random config of family `name` (the portfolio's grid).
pub fn random_config(name: &str, rng: &mut impl Rng) -> Result<Value> {
    let f = family(name)?;
    let mut config = default_config(name)?;
    if let Value::Object(obj) = &mut config {
        for &(key, range) in f.params {
            obj.insert(key.into(), draw(range, rng));
        }
    }
    Ok(config)
}

/// A neighbour of `parent`: each hyperparameter of its family moved with probability 1/2
/// (at least one).
pub fn neighbour(parent: &Value, rng: &mut impl Rng) -> Result<Value> {
    let name = parent
        .get("type")
        .and_then(Value::as_str)
        .ok_or_else(|| Error::InvalidArgument("a candidate without a `type`".into()))?;
    let f = family(name)?;
    let mut child = parent.clone();
    let forced = rng.gen_range(0..f.params.len().max(1));
    if let Value::Object(obj) = &mut child {
        for (i, &(key, range)) in f.params.iter().enumerate() {
            if i == forced || rng.gen::<bool>() {
                let v = nudge(range, obj.get(key), rng);
                obj.insert(key.into(), v);
            }
        }
    }
    Ok(child)
}

/// What the preprocessing of a table must handle.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct InputProfile {
    /// Whether any column is numeric.
    pub numeric: bool,
    /// Numeric columns with a missing cell.
    pub numeric_missing: Vec<String>,
    /// Categorical columns with a missing cell.
    pub categorical_missing: Vec<String>,
    /// Whether any column is categorical.
    pub categorical: bool,
}

/// What the preprocessing of `table`'s columns other than `target` must handle.
pub fn profile_of(table: &crate::data::Table, target: &str) -> InputProfile {
    use crate::data::Column;
    let mut profile = InputProfile::default();
    for (name, column) in table.iter() {
        if name == target {
            continue;
        }
        match column {
            Column::Numeric(v) => {
                profile.numeric = true;
                if v.iter().any(|x| x.is_nan()) {
                    profile.numeric_missing.push(name.to_string());
                }
            }
            Column::Categorical(c) => {
                profile.categorical = true;
                if c.n_missing() > 0 {
                    profile.categorical_missing.push(name.to_string());
                }
            }
        }
    }
    profile
}

fn step(type_name: &str, params: Value) -> Result<Step> {
    Step::from_json_parts(type_name, params, "preprocess")
}

/// The preprocessing a candidate of `model_type` needs on inputs like `profile`: a median
/// imputer over every numeric column unless the family takes missing values (every column,
/// not only those with a missing cell in training: the served model must take a missing
/// cell in any of them), a most-frequent imputer for the categorical columns with missing
/// cells (a missing category the training rows never had is an unknown category, which the
/// one-hot encoder ignores), a one-hot encoder when there are categories, a standard scaler
/// for the families that need scaled inputs.
pub fn preprocess_for(model_type: &str, profile: &InputProfile) -> Result<Vec<Step>> {
    let f = family(model_type)?;
    let mut steps = Vec::new();
    if !f.nan && profile.numeric {
        steps.push(step("simple_imputer", json!({"strategy": "median"}))?);
    }
    if !profile.categorical_missing.is_empty() {
        steps.push(step(
            "simple_imputer",
            json!({"strategy": "most_frequent", "columns": profile.categorical_missing}),
        )?);
    }
    if profile.categorical {
        steps.push(step(
            "one_hot_encoder",
            json!({"handle_unknown": "ignore"}),
        )?);
    }
    if f.scale {
        steps.push(step("standard_scaler", json!({}))?);
    }
    Ok(steps)
}

/// A coarse estimate of the memory a fit of `config` takes on `n` rows and `d` encoded
/// columns, in MiB: the trial's memory bound is checked against it before the fit.
pub fn estimated_mib(config: &ModelConfig, n: usize, d: usize) -> f64 {
    let n = n as f64;
    let d = d.max(1) as f64;
    let data = n * d * 8.0;
    let bytes = match config {
        ModelConfig::RandomForestClassifier(_)
        | ModelConfig::ExtraTreesClassifier(_)
        | ModelConfig::RandomForestRegressor(_)
        | ModelConfig::ExtraTreesRegressor(_) => {
            let v = serde_json::to_value(config).unwrap_or(Value::Null);
            let trees = v
                .get("n_estimators")
                .and_then(Value::as_f64)
                .unwrap_or(100.0);
            let leaf = v
                .get("min_samples_leaf")
                .and_then(Value::as_f64)
                .unwrap_or(1.0)
                .max(1.0);
            data * 2.0 + trees * (2.0 * n / leaf) * 64.0
        }
        ModelConfig::Svr(_) | ModelConfig::Svc(_) => data * 2.0 + 200.0 * 1024.0 * 1024.0,
        ModelConfig::KNeighborsClassifier(_) | ModelConfig::KNeighborsRegressor(_) => data * 3.0,
        _ => data * 4.0,
    };
    bytes / (1024.0 * 1024.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_family_is_registered_and_every_draw_parses() {
        let mut rng = crate::common::rng::from_seed(3);
        for f in FAMILIES {
            let r = crate::models::REGISTERED
                .iter()
                .find(|r| r.type_name == f.name)
                .unwrap();
            assert_eq!(r.estimator, f.kind, "{}", f.name);
            if f.kind == Estimator::Classifier {
                assert!(r.tags.probabilities, "{}", f.name);
            }
            let mut configs = vec![default_config(f.name).unwrap()];
            for _ in 0..20 {
                configs.push(random_config(f.name, &mut rng).unwrap());
                let parent = configs.last().unwrap().clone();
                configs.push(neighbour(&parent, &mut rng).unwrap());
            }
            for c in configs {
                let mut obj = c.as_object().unwrap().clone();
                let t = obj.remove("type").unwrap();
                ModelConfig::from_json_parts(t.as_str().unwrap(), Value::Object(obj))
                    .unwrap_or_else(|e| panic!("{c}: {e}"));
            }
        }
    }

    #[test]
    fn preprocessing_follows_the_family() {
        let profile = InputProfile {
            numeric: true,
            numeric_missing: vec!["a".into()],
            categorical_missing: vec![],
            categorical: true,
        };
        let names = |t: &str| -> Vec<&'static str> {
            preprocess_for(t, &profile)
                .unwrap()
                .iter()
                .map(|s| s.type_name())
                .collect()
        };
        assert_eq!(
            names("logistic_regression"),
            ["simple_imputer", "one_hot_encoder", "standard_scaler"]
        );
        assert_eq!(names("random_forest_classifier"), ["one_hot_encoder"]);
    }
}
