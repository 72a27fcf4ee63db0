//! Logistic regression against scikit-learn 1.9 reference fits
//! (`tests/fixtures/logistic_generate.py` -> `tests/fixtures/logistic_cases.json`), plus
//! degenerate inputs and invariants.

use std::collections::BTreeMap;

use amlis::data::{DenseDataset, Task};
use amlis::linear::logistic::{ClassWeight, LogisticRegression, Penalty, Solver};
use amlis::traits::{Control, Dataset, FitContext, Predictor, ProbabilisticPredictor, Trainer};
use ndarray::{s, Array1, Array2};
use serde_json::Value;

mod linear_data;
use linear_data::{classification, rebuild, standardized};

/// The dataset of a fixture case, prepared as the generator prepares it.
fn dataset(name: &str) -> DenseDataset {
    match name {
        "breast_cancer" => standardized("breast_cancer.csv", "diagnosis"),
        "wine" => standardized("wine.csv", "cultivar"),
        "iris" => classification("iris.csv", "species"),
        "iris_binary" => {
            let d = classification("iris.csv", "species");
            let x = d.features().slice(s![50.., ..]).to_owned();
            let y = d.targets().unwrap().slice(s![50..]).mapv(|v| v - 1.0);
            let classes = vec!["versicolor".to_string(), "virginica".to_string()];
            DenseDataset::new(x, Some(y), Task::Classification { classes }).unwrap()
        }
        "digits" => {
            let d = classification("digits.csv", "digit");
            rebuild(&d, d.features().mapv(|v| v / 16.0))
        }
        other => panic!("unknown dataset {other}"),
    }
}

fn fixture() -> Value {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/logistic_cases.json"
    ))
    .unwrap();
    serde_json::from_str(&text).unwrap()
}

fn matrix(v: &Value) -> Array2<f64> {
    let rows: Vec<Vec<f64>> = serde_json::from_value(v.clone()).unwrap();
    let (r, c) = (rows.len(), rows[0].len());
    Array2::from_shape_vec((r, c), rows.into_iter().flatten().collect()).unwrap()
}

fn trainer_for(case: &Value) -> LogisticRegression {
    let mut t = LogisticRegression::default()
        .tol(1e-10)
        .max_iter(20_000)
        .l1_ratio(case["l1_ratio"].as_f64().unwrap());
    t = match case["C"].as_f64() {
        Some(c) => t.c(c),
        None => t.penalty(Penalty::None),
    };
    if let Some(fi) = case.get("fit_intercept").and_then(Value::as_bool) {
        t = t.fit_intercept(fi);
    }
    match case.get("class_weight") {
        Some(Value::String(s)) if s == "balanced" => t = t.class_weight(ClassWeight::balanced()),
        Some(Value::Object(m)) => {
            let map: BTreeMap<String, f64> = m
                .iter()
                .map(|(k, v)| (k.clone(), v.as_f64().unwrap()))
                .collect();
            t = t.class_weight(ClassWeight::Map(map));
        }
        _ => {}
    }
    t
}

/// Sample weights 1 + i % 5, zero on every 7th row (as the generator).
fn weights(n: usize) -> Array1<f64> {
    Array1::from_iter((0..n).map(|i| {
        if i % 7 == 0 {
            0.0
        } else {
            1.0 + (i % 5) as f64
        }
    }))
}

#[test]
fn matches_scikit_learn_fixtures() {
    let fx = fixture();
    let mut worst = Vec::new();
    for case in fx["cases"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let mut data = dataset(case["dataset"].as_str().unwrap());
        if case.get("sample_weight").and_then(Value::as_bool) == Some(true) {
            let n = data.n_samples();
            data = data.with_weights(weights(n)).unwrap();
        }
        let model = trainer_for(case).fit(&data).unwrap();
        assert!(
            model.converged,
            "{name}: not converged after {}",
            model.n_iter
        );
        let classes: Vec<String> = serde_json::from_value(case["classes"].clone()).unwrap();
        assert_eq!(model.classes, classes, "{name}");

        let coef = matrix(&case["coef"]);
        let intercept: Vec<f64> = serde_json::from_value(case["intercept"].clone()).unwrap();
        assert_eq!(model.coef.dim(), coef.dim(), "{name}");
        let scale = coef.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        let mut err = 0.0f64;
        for (a, b) in model.coef.iter().zip(coef.iter()) {
            err = err.max((a - b).abs() / scale);
            if *b == 0.0 && case["l1_ratio"].as_f64().unwrap() == 1.0 {
                assert_eq!(*a, 0.0, "{name}: sklearn has an exact zero");
            }
        }
        for (a, b) in model.intercept.iter().zip(&intercept) {
            err = err.max((a - b).abs() / scale.max(b.abs()));
        }
        let proba_ref = matrix(&case["proba"]);
        let x = data.features();
        let proba = model
            .predict_proba(x.slice(s![..proba_ref.nrows(), ..]))
            .unwrap();
        let perr = proba
            .iter()
            .zip(proba_ref.iter())
            .fold(0.0f64, |m, (a, b)| m.max((a - b).abs()));
        worst.push(format!(
            "{name}: coef {err:.2e} proba {perr:.2e} iters {}",
            model.n_iter
        ));
        assert!(
            err < 1e-6,
            "{name}: coefficients differ by {err:e} (relative)"
        );
        assert!(perr < 1e-6, "{name}: probabilities differ by {perr:e}");

        let pred = model.predict(x.view()).unwrap();
        let y = data.targets().unwrap();
        let acc = pred.iter().zip(y.iter()).filter(|(a, b)| a == b).count() as f64 / y.len() as f64;
        let acc_ref = case["accuracy"].as_f64().unwrap();
        assert!(
            (acc - acc_ref).abs() < 1e-9,
            "{name}: accuracy {acc} vs {acc_ref}"
        );
    }
    eprintln!("{}", worst.join("\n"));
}

#[test]
fn probabilities_sum_to_one_and_agree_with_predict() {
    let data = dataset("wine");
    let model = LogisticRegression::default().fit(&data).unwrap();
    let x = data.features();
    let proba = model.predict_proba(x.view()).unwrap();
    let pred = model.predict(x.view()).unwrap();
    for (row, p) in proba.outer_iter().zip(pred.iter()) {
        assert!((row.sum() - 1.0).abs() < 1e-12);
        let best = row
            .iter()
            .enumerate()
            .fold((0, f64::MIN), |b, (i, &v)| if v > b.1 { (i, v) } else { b });
        assert_eq!(best.0 as f64, *p);
    }
    // Extreme inputs stay finite.
    let big = Array2::from_elem((2, 13), 1e6);
    let pb = model.predict_proba(big.view()).unwrap();
    assert!(pb.iter().all(|v| v.is_finite()));
    assert!((pb.row(0).sum() - 1.0).abs() < 1e-12);
}

#[test]
fn same_model_for_any_thread_count() {
    let data = dataset("digits");
    let t = LogisticRegression::default().c(0.1).max_iter(50);
    let a = t.fit_with(&data, &FitContext::new().n_threads(1)).unwrap();
    let b = t.fit_with(&data, &FitContext::new().n_threads(2)).unwrap();
    assert_eq!(a, b);
    let l1 = t.clone().l1_ratio(0.5);
    let a = l1.fit_with(&data, &FitContext::new().n_threads(1)).unwrap();
    let b = l1.fit_with(&data, &FitContext::new().n_threads(3)).unwrap();
    assert_eq!(a, b);
}

#[test]
fn callback_sees_every_iteration_and_can_stop() {
    let data = dataset("breast_cancer");
    let losses = std::sync::Mutex::new(Vec::new());
    let cb = |ev: &amlis::traits::FitEvent<'_>| {
        losses.lock().unwrap().push(ev.values[0].1);
        if ev.iteration == 5 {
            Control::Stop
        } else {
            Control::Continue
        }
    };
    let model = LogisticRegression::default()
        .fit_with(&data, &FitContext::new().callback(&cb))
        .unwrap();
    let losses = losses.into_inner().unwrap();
    assert_eq!(losses.len(), 5);
    assert_eq!(model.n_iter, 5);
    assert!(!model.converged);
    assert!(losses.windows(2).all(|w| w[1] <= w[0]), "{losses:?}");
    let cancel = |_: &amlis::traits::FitEvent<'_>| Control::Cancel;
    let err = LogisticRegression::default()
        .fit_with(&data, &FitContext::new().callback(&cancel))
        .unwrap_err();
    assert!(matches!(err, amlis::Error::Cancelled(_)));
}

#[test]
fn max_iter_reached_is_recorded() {
    let data = dataset("digits");
    let model = LogisticRegression::default()
        .max_iter(3)
        .fit(&data)
        .unwrap();
    assert_eq!(model.n_iter, 3);
    assert!(!model.converged);
}

#[test]
fn degenerate_inputs_are_errors() {
    // One class only.
    let x = Array2::from_shape_fn((6, 2), |(i, j)| (i + j) as f64);
    let one = DenseDataset::new(
        x.clone(),
        Some(Array1::zeros(6)),
        Task::Classification {
            classes: vec!["a".into(), "b".into()],
        },
    )
    .unwrap();
    let err = LogisticRegression::default()
        .fit(&one)
        .unwrap_err()
        .to_string();
    assert!(err.contains("at least 2 classes"), "{err}");

    // NaN names row and column.
    let mut xn = x.clone();
    xn[[3, 1]] = f64::NAN;
    let y = Array1::from(vec![0.0, 1.0, 0.0, 1.0, 0.0, 1.0]);
    let nan = DenseDataset::classification(xn, y.clone()).unwrap();
    let err = LogisticRegression::default().fit(&nan).unwrap_err();
    match err {
        amlis::Error::InvalidValue { row, column, .. } => {
            assert_eq!(row, 3);
            assert_eq!(column.as_deref(), Some("x1"));
        }
        other => panic!("{other}"),
    }

    // Predicting a NaN names the first bad row, in a small batch (on the calling thread)
    // and in a large one (parallel blocks).
    let good = DenseDataset::classification(x.clone(), y.clone()).unwrap();
    let model = LogisticRegression::default().fit(&good).unwrap();
    let big = ndarray::concatenate(ndarray::Axis(0), &vec![x.view(); 2000]).unwrap();
    for (input, first) in [(nan.features().to_owned(), 3), {
        let mut b = big.clone();
        b[[9001, 1]] = f64::NAN;
        b[[5003, 1]] = f64::NAN;
        (b, 5003)
    }] {
        match model.predict(input.view()).unwrap_err() {
            amlis::Error::InvalidValue { row, column, .. } => {
                assert_eq!(row, first);
                assert_eq!(column.as_deref(), Some("x1"));
            }
            other => panic!("{other}"),
        }
    }

    // Categorical features point to one-hot encoding.
    let peng = classification("penguins.csv", "species");
    let err = LogisticRegression::default()
        .fit(&peng)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("one_hot_encoder") || err.contains("finite"),
        "{err}"
    );

    // Regression targets.
    let reg = DenseDataset::regression(x.clone(), Array1::zeros(6)).unwrap();
    assert!(LogisticRegression::default().fit(&reg).is_err());

    // Bad hyperparameters are named before any work.
    let ok = DenseDataset::classification(x.clone(), y.clone()).unwrap();
    let err = LogisticRegression::default()
        .c(0.0)
        .fit(&ok)
        .unwrap_err()
        .to_string();
    assert!(err.contains("`C`") && err.contains("> 0"), "{err}");
    let err = LogisticRegression::default()
        .max_iter(0)
        .fit(&ok)
        .unwrap_err()
        .to_string();
    assert!(err.contains("max_iter"), "{err}");
    let err = LogisticRegression::default()
        .tol(-1.0)
        .fit(&ok)
        .unwrap_err()
        .to_string();
    assert!(err.contains("tol"), "{err}");

    // All weight on one class.
    let w = Array1::from(vec![1.0, 0.0, 1.0, 0.0, 1.0, 0.0]);
    let wd = DenseDataset::classification(x.clone(), y.clone())
        .unwrap()
        .with_weights(w)
        .unwrap();
    assert!(LogisticRegression::default().fit(&wd).is_err());

    // Wrong column count at predict.
    let model = LogisticRegression::default().fit(&ok).unwrap();
    assert!(model.predict(Array2::zeros((2, 3)).view()).is_err());
    let mut bad = Array2::zeros((2, 2));
    bad[[1, 0]] = f64::INFINITY;
    assert!(model.predict_proba(bad.view()).is_err());
}

#[test]
fn zero_weights_equal_dropped_rows() {
    let data = dataset("breast_cancer");
    let n = data.n_samples();
    let w = Array1::from_iter((0..n).map(|i| if i % 3 == 0 { 0.0 } else { 1.0 }));
    let keep: Vec<usize> = (0..n).filter(|i| i % 3 != 0).collect();
    let t = LogisticRegression::default().tol(1e-10).max_iter(1000);
    let a = t.fit(&data.clone().with_weights(w).unwrap()).unwrap();
    let b = t.fit(&data.view(keep).unwrap()).unwrap();
    for (x, y) in a.coef.iter().zip(b.coef.iter()) {
        assert!((x - y).abs() < 1e-7, "{x} vs {y}");
    }
}

#[test]
fn solver_choice_reaches_the_same_l2_optimum() {
    let data = dataset("breast_cancer");
    let t = LogisticRegression::default().tol(1e-10).max_iter(5000);
    let a = t.clone().solver(Solver::Lbfgs).fit(&data).unwrap();
    let b = t.solver(Solver::Owlqn).fit(&data).unwrap();
    for (x, y) in a.coef.iter().zip(b.coef.iter()) {
        assert!((x - y).abs() < 1e-6, "{x} vs {y}");
    }
}

#[test]
fn model_round_trips_through_json() {
    let data = dataset("iris");
    let model = LogisticRegression::default().fit(&data).unwrap();
    let text = serde_json::to_string(&model).unwrap();
    let back: amlis::linear::logistic::LogisticRegressionModel =
        serde_json::from_str(&text).unwrap();
    assert_eq!(model.classes, back.classes);
    for (a, b) in model
        .coef
        .iter()
        .chain(&model.intercept)
        .zip(back.coef.iter().chain(&back.intercept))
    {
        assert!((a - b).abs() <= 1e-15 * a.abs().max(1.0), "{a} vs {b}");
    }
}

proptest::proptest! {
    /// Probabilities are finite, in [0, 1] and sum to 1 for any coefficients and inputs,
    /// however extreme the scores (binary and multinomial).
    #[test]
    fn predict_proba_is_a_distribution(
        k in 1usize..5,
        coef in proptest::collection::vec(-1e3f64..1e3, 12),
        xs in proptest::collection::vec(-1e4f64..1e4, 9),
    ) {
        let p = 3;
        let rows = k.max(1);
        let model = amlis::linear::logistic::LogisticRegressionModel {
            coef: Array2::from_shape_vec((rows, p), coef[..rows * p].to_vec()).unwrap(),
            intercept: Array1::from(coef[..rows].to_vec()),
            classes: (0..if k == 1 { 2 } else { k }).map(|c| c.to_string()).collect(),
            n_iter: 0,
            converged: true,
        };
        let x = Array2::from_shape_vec((3, p), xs).unwrap();
        let proba = model.predict_proba(x.view()).unwrap();
        let pred = model.predict(x.view()).unwrap();
        for (row, c) in proba.outer_iter().zip(pred.iter()) {
            proptest::prop_assert!(row.iter().all(|v| v.is_finite() && (0.0..=1.0).contains(v)));
            proptest::prop_assert!((row.sum() - 1.0).abs() < 1e-12);
            let best = row.iter().cloned().fold(f64::MIN, f64::max);
            proptest::prop_assert!(row[*c as usize] >= best - 1e-12);
        }
    }
}
