//! Feature selection against scikit-learn (tests/fixtures/feature_selection_sklearn.json, made
//! by tests/fixtures/feature_selection_generate.py), and a transformer trained without a
//! target through the pipeline: the transformer path of the registry, end to end.

mod common;

use amlis::config::TrainConfig;
use amlis::models::feature_selection::VarianceThreshold;
use amlis::models::{Estimator, PredictKind};
use amlis::persist::Encoding;
use amlis::pipeline::Pipeline;
use amlis::traits::{FitContext, Trainer};

#[test]
fn variance_threshold_matches_scikit_learn_on_real_data() {
    let fixture = common::fixture("feature_selection_sklearn.json");
    let cases = fixture["cases"].as_array().unwrap();
    assert!(cases.len() >= 10);
    for case in cases {
        let file = case["file"].as_str().unwrap();
        let data = common::fixture_features(case);
        let threshold = case["threshold"].as_f64().unwrap();
        let model = VarianceThreshold::default()
            .threshold(threshold)
            .fit(&data)
            .unwrap();
        assert_eq!(
            model.support(),
            common::usizes(&case["support"]).as_slice(),
            "{file} threshold {threshold}"
        );
        for (j, (ours, theirs)) in model
            .variances
            .iter()
            .zip(common::floats(&case["variances"]))
            .enumerate()
        {
            let tol = 1e-12 * theirs.abs().max(1e-300);
            assert!(
                (ours - theirs).abs() <= tol,
                "{file} t={threshold} column {j}: {ours} vs {theirs}"
            );
        }
    }
}

#[test]
fn a_transformer_trains_without_a_target_and_writes_its_columns() {
    let table = amlis::datasets::penguins_table()
        .unwrap()
        .drop(&["species"])
        .unwrap();
    let config = TrainConfig::from_json(
        r#"{"model": {"type": "variance_threshold", "threshold": 50.0},
            "preprocess": [{"type": "simple_imputer", "strategy": "most_frequent"},
                           {"type": "one_hot_encoder"}]}"#,
    )
    .unwrap();
    let p = Pipeline::fit(&config, &table, None, &FitContext::new()).unwrap();
    assert_eq!(p.estimator(), Estimator::Transformer);
    assert_eq!(p.meta().target, None);
    assert_eq!(p.outputs(), vec![PredictKind::Transform]);
    // Flipper length and body mass vary by more than 50; the indicators, the bill and the
    // year do not.
    let kept = p.output_width(PredictKind::Transform).unwrap();
    assert_eq!(kept, 2, "{:?}", p.model());
    let x = common::raw_rows(&p, &table);
    let mut out = vec![0.0; x.nrows() * kept];
    p.predict_rows_into(PredictKind::Transform, x.view(), &mut out)
        .unwrap();
    let features = p.transform_rows(x.view()).unwrap();
    let amlis::models::AnyModel::VarianceThreshold(m) = p.model() else {
        panic!("not a variance_threshold model");
    };
    for (i, row) in features.outer_iter().enumerate() {
        for (k, &j) in m.support().iter().enumerate() {
            assert_eq!(out[i * kept + k].to_bits(), row[j].to_bits());
        }
    }
    // A value per row is not what a transformer writes.
    let e = p.output_width(PredictKind::Value).unwrap_err().to_string();
    assert!(e.contains("it has: transform"), "{e}");
    // It saves and loads like every model.
    let back = Pipeline::from_bytes(&p.to_bytes(Encoding::Binary).unwrap()).unwrap();
    assert_eq!(back, p);

    // A model that needs a target says so by name.
    let logistic = TrainConfig::from_json(r#"{"model": {"type": "logistic_regression"}}"#).unwrap();
    let e = Pipeline::fit(&logistic, &table, None, &FitContext::new())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("`logistic_regression` is a classifier: it needs a target"),
        "{e}"
    );
}
