//! Voting ensembles against scikit-learn's VotingClassifier / VotingRegressor
//! (`tests/fixtures/voting_generate.py`, which stores the exact rows it fitted and queried),
//! plus the single-row path, the config forms of a member and the parameter checks.

mod common;

use amlis::data::DenseDataset;
use amlis::models::ensemble::voting::{Member, Voting, VotingClassifier, VotingRegressor};
use amlis::service::config::TrainConfig;
use amlis::traits::{Predictor, ProbabilisticPredictor, Trainer};
use ndarray::{Array1, Array2};
use serde_json::Value;

fn matrix(v: &Value) -> Array2<f64> {
    let rows = v.as_array().unwrap();
    let d = rows[0].as_array().unwrap().len();
    Array2::from_shape_fn((rows.len(), d), |(i, j)| rows[i][j].as_f64().unwrap())
}

fn members(case: &Value) -> Vec<TrainConfig> {
    case["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| serde_json::from_value::<Member>(m.clone()).unwrap().0)
        .collect()
}

fn weights(case: &Value) -> Option<Vec<f64>> {
    case["weights"]
        .as_array()
        .map(|w| common::floats(&Value::Array(w.clone())))
}

/// A fixture case's training set (a classification one when `classes`), query rows and
/// scikit-learn's predictions for them.
fn case_data(case: &Value, classes: bool) -> (DenseDataset, Array2<f64>, Vec<f64>) {
    let (x, y) = (
        matrix(&case["x_train"]),
        Array1::from(common::floats(&case["y_train"])),
    );
    let data = if classes {
        DenseDataset::classification(x, y)
    } else {
        DenseDataset::regression(x, y)
    };
    (
        data.unwrap(),
        matrix(&case["x_query"]),
        common::floats(&case["predict"]),
    )
}

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol * (1.0 + b.abs())
}

#[test]
fn voting_classifier_equals_scikit_learn() {
    let fixture = common::fixture("voting_sklearn.json");
    for case in fixture["classification"].as_array().unwrap() {
        let (data, x, want) = case_data(case, true);
        let voting = match case["voting"].as_str().unwrap() {
            "soft" => Voting::Soft,
            _ => Voting::Hard,
        };
        let model = VotingClassifier::new(members(case))
            .voting(voting)
            .weights(weights(case))
            .fit(&data)
            .unwrap();
        let got = model.predict(x.view()).unwrap();
        let what = format!("{} {} {:?}", case["data"], case["voting"], case["weights"]);
        assert_eq!(got.to_vec(), want, "{what}");
        let mut one = [0.0];
        for (i, row) in x.rows().into_iter().enumerate() {
            model
                .predict_row_into(row.as_slice().unwrap(), &mut one)
                .unwrap();
            assert_eq!(one[0], got[i], "{what} row {i}");
        }
        match case.get("predict_proba") {
            Some(p) => {
                let want = matrix(p);
                let got = model.predict_proba(x.view()).unwrap();
                let k = want.ncols();
                let mut row_out = vec![0.0; k];
                for i in 0..want.nrows() {
                    model
                        .predict_proba_row_into(x.row(i).as_slice().unwrap(), &mut row_out)
                        .unwrap();
                    for j in 0..k {
                        assert!(close(got[[i, j]], want[[i, j]], 1e-12), "{what} ({i}, {j})");
                        assert_eq!(row_out[j].to_bits(), got[[i, j]].to_bits(), "{what}");
                    }
                }
            }
            None => {
                let e = model.predict_proba(x.view()).unwrap_err();
                assert!(e.to_string().contains("voting = \"hard\""), "{e}");
            }
        }
    }
}

#[test]
fn voting_regressor_equals_scikit_learn() {
    let fixture = common::fixture("voting_sklearn.json");
    for case in fixture["regression"].as_array().unwrap() {
        let (data, x, want) = case_data(case, false);
        let model = VotingRegressor::new(members(case))
            .weights(weights(case))
            .fit(&data)
            .unwrap();
        let got = model.predict(x.view()).unwrap();
        let mut one = [0.0];
        for (i, (g, w)) in got.iter().zip(&want).enumerate() {
            assert!(
                close(*g, *w, 1e-12),
                "{:?} row {i}: {g} vs {w}",
                case["weights"]
            );
            model
                .predict_row_into(x.row(i).as_slice().unwrap(), &mut one)
                .unwrap();
            assert_eq!(one[0].to_bits(), g.to_bits());
        }
    }
}

#[test]
fn members_are_models_or_pipelines_and_are_checked_by_name() {
    let config = TrainConfig::from_json(
        r#"{"model": {"type": "voting_regressor", "estimators": [
            {"type": "ridge", "alpha": 2},
            {"model": {"type": "lasso"}, "preprocess": [{"type": "standard_scaler"}]}]}}"#,
    )
    .unwrap();
    let json = serde_json::to_value(&config).unwrap();
    assert_eq!(json["model"]["estimators"][0]["model"]["type"], "ridge");
    assert_eq!(
        json["model"]["estimators"][1]["preprocess"][0]["type"],
        "standard_scaler"
    );
    let back: TrainConfig = serde_json::from_value(json).unwrap();
    assert_eq!(back, config);

    let e = TrainConfig::from_json(
        r#"{"model": {"type": "voting_regressor", "estimators": [{"alpha": 2}]}}"#,
    )
    .unwrap_err();
    assert!(e.to_string().contains("member"), "{e}");
    let e = TrainConfig::from_json(
        r#"{"model": {"type": "voting_regressor", "estimators": [{"type": "ridge", "alpah": 2}]}}"#,
    )
    .unwrap_err();
    assert!(e.to_string().contains("alpah"), "{e}");

    let iris = amlis::data::datasets::iris().unwrap();
    let ridge = TrainConfig::from_json(r#"{"model": {"type": "ridge"}}"#).unwrap();
    let nb = TrainConfig::from_json(r#"{"model": {"type": "gaussian_nb"}}"#).unwrap();
    let svc = TrainConfig::from_json(r#"{"model": {"type": "svc"}}"#).unwrap();
    let cases: Vec<(VotingClassifier, &str)> = vec![
        (VotingClassifier::new(vec![]), "`estimators`"),
        (
            VotingClassifier::new(vec![nb.clone(), ridge]),
            "`estimators[1]`",
        ),
        (
            VotingClassifier::new(vec![nb.clone(), svc]).voting(Voting::Soft),
            "`estimators[1]`",
        ),
        (
            VotingClassifier::new(vec![nb.clone()]).weights(Some(vec![1.0, 2.0])),
            "`weights`",
        ),
        (
            VotingClassifier::new(vec![nb.clone(), nb]).weights(Some(vec![0.0, 0.0])),
            "`weights`",
        ),
    ];
    for (model, name) in cases {
        let e = model.fit(&iris).unwrap_err();
        assert!(e.to_string().contains(name), "{name}: {e}");
    }
}
