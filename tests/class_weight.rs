//! `class_weight="balanced"` in every classifier family against scikit-learn 1.9
//! (tests/fixtures/class_weight_generate.py -> class_weight_sklearn.json): imbalanced subsets
//! of iris and wine with uneven sample weights, where logistic regression and forests count
//! classes by sample weight and single trees and SGD count rows.

use std::collections::BTreeMap;

use amlis::data::DenseDataset;
use amlis::ensemble::forest::{ExtraTreesClassifier, RandomForestClassifier};
use amlis::linear::logistic::{ClassWeight as LinearClassWeight, LogisticRegression};
use amlis::linear::sgd::SgdClassifier;
use amlis::traits::{Dataset, FitContext, ProbabilisticPredictor, Trainer};
use amlis::tree::{ClassWeight, DecisionTreeClassifier, FlatTree};
use ndarray::{Array1, Axis};
use serde_json::{json, Value};

mod common;
use common::{floats, usizes};

#[path = "fixtures/tree_csv.rs"]
mod tree_csv;

fn fixture() -> Value {
    common::fixture("class_weight_sklearn.json")
}

/// The subset `name` of the fixture, with its sample weights.
fn subset(name: &str, d: &Value) -> DenseDataset {
    let full = tree_csv::dataset(name, true);
    let rows = usizes(&d["rows"]);
    let x = full.features().select(Axis(0), &rows);
    let y = full.targets().unwrap().select(Axis(0), &rows);
    let w = Array1::from(floats(&d["weights"]));
    DenseDataset::new(x, Some(y), full.task().clone())
        .unwrap()
        .with_weights(w)
        .unwrap()
        .with_feature_names(full.feature_names().to_vec())
        .unwrap()
}

/// The same data without sample weights.
fn unweighted(d: &DenseDataset) -> DenseDataset {
    DenseDataset::new(
        d.features().to_owned(),
        Some(d.targets().unwrap().to_owned()),
        d.task().clone(),
    )
    .unwrap()
}

/// A class-weight map giving class `classes[i]` the weight `w[i]`.
fn map(classes: &[String], w: &[f64]) -> BTreeMap<String, f64> {
    classes.iter().cloned().zip(w.iter().copied()).collect()
}

fn cases() -> Vec<(String, Value, DenseDataset)> {
    let fx = fixture();
    fx["data"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(name, d)| (name.clone(), d.clone(), subset(name, d)))
        .collect()
}

fn assert_close(what: &str, a: f64, b: f64, tol: f64) {
    assert!(
        (a - b).abs() <= tol * b.abs().max(1.0),
        "{what}: {a} vs sklearn {b}"
    );
}

fn assert_root(what: &str, tree: &FlatTree, want: &Value) {
    assert_close(
        &format!("{what}: root weight"),
        tree.weighted_n_node_samples()[0],
        want["root_weight"].as_f64().unwrap(),
        1e-12,
    );
    assert_close(
        &format!("{what}: root impurity"),
        tree.impurity()[0],
        want["root_impurity"].as_f64().unwrap(),
        1e-12,
    );
}

#[test]
fn logistic_regression_balances_by_weighted_counts() {
    for (name, d, data) in cases() {
        let (mean, std) = (
            floats(&d["standardize"]["mean"]),
            floats(&d["standardize"]["std"]),
        );
        let mut xs = data.features().to_owned();
        for mut row in xs.rows_mut() {
            for (j, v) in row.iter_mut().enumerate() {
                *v = (*v - mean[j]) / std[j];
            }
        }
        let data = DenseDataset::new(
            xs,
            Some(data.targets().unwrap().to_owned()),
            data.task().clone(),
        )
        .unwrap()
        .with_weights(data.weights().unwrap().to_owned())
        .unwrap();
        for case in d["logistic"].as_array().unwrap() {
            let weighted = case["weighted"].as_bool().unwrap();
            let train = if weighted {
                data.clone()
            } else {
                unweighted(&data)
            };
            let m = LogisticRegression::default()
                .class_weight(LinearClassWeight::balanced())
                .tol(1e-10)
                .max_iter(20_000)
                .fit(&train)
                .unwrap();
            let p = m.predict_proba(data.features().view()).unwrap();
            let mut worst = 0.0f64;
            for (row, want) in p.rows().into_iter().zip(case["proba"].as_array().unwrap()) {
                for (a, b) in row.iter().zip(floats(want)) {
                    worst = worst.max((a - b).abs());
                }
            }
            assert!(
                worst < 1e-5,
                "{name} (weighted {weighted}): probabilities differ by {worst:e}"
            );
        }
    }
}

#[test]
fn sgd_balances_by_row_counts() {
    for (name, d, data) in cases() {
        let counts = floats(&d["balanced_counts"]);
        assert_eq!(floats(&d["sgd_class_weight"]), counts, "{name}");
        let classes = data.task().classes().to_vec();
        let fit = |cw: LinearClassWeight| {
            SgdClassifier::default()
                .class_weight(cw)
                .fit_with(&data, &FitContext::new().random_state(0))
                .unwrap()
                .coef
        };
        let balanced = fit(LinearClassWeight::balanced());
        let by_counts = fit(LinearClassWeight::Map(map(&classes, &counts)));
        for (a, b) in balanced.iter().zip(by_counts.iter()) {
            assert_close(&format!("{name}: sgd coefficient"), *a, *b, 1e-9);
        }
        let by_weights = fit(LinearClassWeight::Map(map(
            &classes,
            &floats(&d["balanced_weighted"]),
        )));
        assert_ne!(balanced, by_weights, "{name}: the weighted counts differ");
    }
}

#[test]
fn decision_tree_balances_by_row_counts() {
    for (name, d, data) in cases() {
        let classes = data.task().classes().to_vec();
        let fit = |cw: ClassWeight| {
            DecisionTreeClassifier::default()
                .max_depth(Some(3))
                .class_weight(Some(cw))
                .fit(&data)
                .unwrap()
        };
        let m = fit(ClassWeight::Mode(amlis::tree::ClassWeightMode::Balanced));
        assert_root(&name, m.tree(), &d["tree"]);
        let by_map = fit(ClassWeight::Map(map(
            &classes,
            &floats(&d["balanced_counts"]),
        )));
        assert_eq!(m.get_n_leaves(), by_map.get_n_leaves(), "{name}");
        assert_root(&format!("{name} (map)"), by_map.tree(), &d["tree"]);
    }
}

#[test]
fn forests_balance_by_weighted_counts() {
    for (name, d, data) in cases() {
        for case in d["forests"].as_array().unwrap() {
            let params = json!({
                "class_weight": case["class_weight"],
                "bootstrap": case["bootstrap"],
                "max_features": null,
                "n_estimators": 3,
                "max_depth": 3,
            });
            let what = format!("{name} {} {}", case["model"], case["class_weight"]);
            let ctx = FitContext::new().random_state(0);
            let trees = if case["model"] == "RandomForestClassifier" {
                serde_json::from_value::<RandomForestClassifier>(params)
                    .unwrap()
                    .fit_with(&data, &ctx)
                    .unwrap()
                    .trees()
                    .to_vec()
            } else {
                serde_json::from_value::<ExtraTreesClassifier>(params)
                    .unwrap()
                    .fit_with(&data, &ctx)
                    .unwrap()
                    .trees()
                    .to_vec()
            };
            for t in &trees {
                assert_root(&what, t, case);
            }
        }
    }
}
