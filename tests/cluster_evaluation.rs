//! A clusterer through evaluation and cross-validation: its labels are compared with given
//! labels as a partition (categorical truth read as given, not mapped through class indices),
//! and the default metric is its kind's default scorer (`silhouette_score`, which needs no
//! labels).

use amlis::config::TrainConfig;
use amlis::evaluate::report::evaluate_metric;
use amlis::evaluate::selection::cross_validate_json;
use amlis::models::Estimator;
use amlis::pipeline::Pipeline;
use amlis::traits::FitContext;
use serde_json::Value;

const CONFIG: &str = r#"{"model": {"type": "k_means", "n_clusters": 3, "random_state": 0},
                         "preprocess": [{"type": "standard_scaler"}]}"#;

#[test]
fn a_clusterer_is_scored_against_categorical_labels() {
    let table = amlis::datasets::iris_table().unwrap();
    let config = TrainConfig::from_json(CONFIG).unwrap();
    // The target is named for scoring; a clusterer does not fit on it.
    let p = Pipeline::fit(&config, &table, "species", &FitContext::new()).unwrap();
    assert_eq!(p.estimator(), Estimator::Clusterer);
    assert_eq!(p.inputs().len(), 4);
    let ari = evaluate_metric(&p, &table, "adjusted_rand_score").unwrap();
    // scikit-learn's KMeans(3) on standardized iris: adjusted Rand ≈ 0.62 against species.
    assert!(ari > 0.55 && ari < 0.75, "{ari}");
    let nmi = evaluate_metric(&p, &table, "normalized_mutual_info_score").unwrap();
    assert!(nmi > 0.6, "{nmi}");
    // Classification metrics do not apply to a partition.
    assert!(evaluate_metric(&p, &table, "accuracy").is_err());
}

#[test]
fn a_clusterer_cross_validates_with_its_kinds_default_scorer() {
    let table = amlis::datasets::iris_table().unwrap();
    let report = cross_validate_json(
        &table,
        "species",
        CONFIG,
        r#"{"n_splits": 3, "shuffle": true}"#,
    )
    .unwrap();
    let v: Value = serde_json::from_str(&report).unwrap();
    let mean = v["metrics"]["silhouette_score"]["mean"].as_f64().unwrap();
    // KMeans(3) on standardized iris: silhouette ≈ 0.46 (scikit-learn), on held-out folds too.
    assert!(mean > 0.35 && mean < 0.55, "{report}");
    assert!(
        v["metrics"].get("adjusted_rand_score").is_none(),
        "{report}"
    );
}

#[test]
fn a_clusterer_cross_validates_against_labels_by_name() {
    let table = amlis::datasets::iris_table().unwrap();
    let report = cross_validate_json(
        &table,
        "species",
        CONFIG,
        r#"{"n_splits": 3, "shuffle": true, "metrics": ["adjusted_rand_score"]}"#,
    )
    .unwrap();
    let v: Value = serde_json::from_str(&report).unwrap();
    let folds = v["metrics"]["adjusted_rand_score"]["folds"]
        .as_array()
        .unwrap();
    assert_eq!(folds.len(), 3, "{report}");
    // Every fold's partition of its test rows agrees with species better than chance; the
    // mean as on the whole data (≈ 0.6).
    for f in folds {
        let ari = f.as_f64().unwrap();
        assert!(ari > 0.2, "{report}");
    }
    let mean = v["metrics"]["adjusted_rand_score"]["mean"]
        .as_f64()
        .unwrap();
    assert!(mean > 0.5, "{report}");
    assert!(v["metrics"].get("accuracy").is_none(), "{report}");
}
