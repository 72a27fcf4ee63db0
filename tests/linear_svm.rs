//! Linear SVMs against scikit-learn 1.9 reference fits of `LinearSVC` / `LinearSVR`
//! (`tests/fixtures/svm_linear_generate.py` -> `tests/fixtures/svm_linear_sklearn.json`),
//! plus the convergence report, thread-count independence and parameter errors.

use std::sync::Mutex;

use amlis::data::{DenseDataset, TaskKind};
use amlis::models::kit::ClassWeight;
use amlis::models::svm::{
    Dual, LinearSvc, LinearSvr, MultiClass, Penalty, SvcLoss, SvrLoss, MAX_ITER_REACHED,
};
use amlis::models::{ModelConfig, PredictKind};
use amlis::traits::{Control, Dataset, FitContext, FitEvent, Predictor, ScorePredictor, Trainer};
use ndarray::{Array1, Array2};
use serde_json::Value;

mod linear_data;
use linear_data::{standardize, standardized, table};

fn fixture() -> Value {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/svm_linear_sklearn.json"
    ))
    .unwrap();
    serde_json::from_str(&text).unwrap()
}

/// The classification data sets, standardized as the generator does.
fn classification(name: &str) -> DenseDataset {
    match name {
        "iris" => standardized("iris.csv", "species"),
        "wine" => standardized("wine.csv", "cultivar"),
        "breast_cancer" => standardized("breast_cancer.csv", "diagnosis"),
        other => panic!("unknown dataset {other}"),
    }
}

/// Diabetes with standardized features and target.
fn diabetes() -> DenseDataset {
    let d = DenseDataset::from_table(&table("diabetes.csv"), "progression", TaskKind::Regression)
        .unwrap();
    let y = d.targets().unwrap();
    let n = y.len() as f64;
    let mean = y.sum() / n;
    let sd = (y.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n).sqrt();
    let y = y.mapv(|v| (v - mean) / sd);
    DenseDataset::new(
        standardize(&d.features().to_owned()),
        Some(y),
        d.task().clone(),
    )
    .unwrap()
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

fn matrix(v: &Value) -> Array2<f64> {
    let rows: Vec<Vec<f64>> = serde_json::from_value(v.clone()).unwrap();
    let (r, c) = (rows.len(), rows[0].len());
    Array2::from_shape_vec((r, c), rows.into_iter().flatten().collect()).unwrap()
}

fn vector(v: &Value) -> Vec<f64> {
    serde_json::from_value(v.clone()).unwrap()
}

/// `got` within `rel` of `want`, relative to the largest magnitude of `want` (at least 1e-3).
fn assert_close(got: &[f64], want: &[f64], rel: f64, what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: lengths");
    let scale = want.iter().fold(1e-3f64, |m, v| m.max(v.abs()));
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g - w).abs() <= rel * scale,
            "{what}[{i}]: {g} vs scikit-learn {w} (scale {scale})"
        );
    }
}

fn svc_for(case: &Value, tol: f64, max_iter: usize) -> LinearSvc {
    let mut t = LinearSvc::default()
        .tol(tol)
        .max_iter(max_iter)
        .c(case["C"].as_f64().unwrap())
        .random_state(0);
    if case.get("penalty").and_then(Value::as_str) == Some("l1") {
        t = t.penalty(Penalty::L1);
    }
    match case.get("loss").and_then(Value::as_str) {
        Some("hinge") => t = t.loss(SvcLoss::Hinge),
        Some("squared_hinge") | None => {}
        Some(other) => panic!("loss {other}"),
    }
    match case.get("dual").and_then(Value::as_bool) {
        Some(true) => t = t.dual(Dual::Dual),
        Some(false) => t = t.dual(Dual::Primal),
        None => {}
    }
    if case.get("class_weight").is_some() {
        t = t.class_weight(ClassWeight::balanced());
    }
    if case.get("multi_class").and_then(Value::as_str) == Some("crammer_singer") {
        t = t.multi_class(MultiClass::CrammerSinger);
    }
    if let Some(fi) = case.get("fit_intercept").and_then(Value::as_bool) {
        t = t.fit_intercept(fi);
    }
    if let Some(s) = case.get("intercept_scaling").and_then(Value::as_f64) {
        t = t.intercept_scaling(s);
    }
    t
}

#[test]
fn linear_svc_matches_scikit_learn() {
    let fx = fixture();
    let (tol, max_iter) = (
        fx["tol"].as_f64().unwrap(),
        fx["max_iter"].as_u64().unwrap(),
    );
    for case in fx["svc"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let mut data = classification(case["dataset"].as_str().unwrap());
        let n = data.n_samples();
        if case.get("sample_weight").is_some() {
            data = data.with_weights(weights(n)).unwrap();
        }
        let tol = case.get("tol").and_then(Value::as_f64).unwrap_or(tol);
        let model = svc_for(case, tol, max_iter as usize).fit(&data).unwrap();
        assert!(
            model.converged,
            "{name}: not converged after {}",
            model.n_iter
        );
        let classes: Vec<String> = serde_json::from_value(case["classes"].clone()).unwrap();
        assert_eq!(model.classes, classes, "{name}");
        let coef = matrix(&case["coef"]);
        assert_eq!(model.coef.dim(), coef.dim(), "{name}");
        for (r, (got, want)) in model.coef.outer_iter().zip(coef.outer_iter()).enumerate() {
            let mut g = got.to_vec();
            let mut w = want.to_vec();
            g.push(model.intercept[r]);
            w.push(vector(&case["intercept"])[r]);
            assert_close(&g, &w, 1e-5, &format!("{name} coef row {r}"));
        }
        let pred = model.predict(data.features().view()).unwrap();
        let want: Vec<f64> = vector(&case["predict"]);
        assert_eq!(pred.to_vec(), want, "{name}: predictions");
        let head = data.features().slice(ndarray::s![..10, ..]).to_owned();
        let scores = model.decision_function(head.view()).unwrap();
        let want = matrix(&case["decision_head"]);
        assert_close(
            scores.as_slice().unwrap(),
            want.as_slice().unwrap(),
            1e-5,
            &format!("{name} decision_function"),
        );
    }
}

#[test]
fn linear_svr_matches_scikit_learn() {
    let fx = fixture();
    let (tol, max_iter) = (
        fx["tol"].as_f64().unwrap(),
        fx["max_iter"].as_u64().unwrap(),
    );
    let base = diabetes();
    for case in fx["svr"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let mut data = base.clone();
        if case.get("sample_weight").is_some() {
            let n = data.n_samples();
            data = data.with_weights(weights(n)).unwrap();
        }
        let mut t = LinearSvr::default()
            .tol(tol)
            .max_iter(max_iter as usize)
            .c(case["C"].as_f64().unwrap())
            .epsilon(case["epsilon"].as_f64().unwrap())
            .dual(if case["dual"].as_bool().unwrap() {
                Dual::Dual
            } else {
                Dual::Primal
            });
        if case["loss"].as_str() == Some("squared_epsilon_insensitive") {
            t = t.loss(SvrLoss::SquaredEpsilonInsensitive);
        }
        if let Some(s) = case.get("intercept_scaling").and_then(Value::as_f64) {
            t = t.intercept_scaling(s);
        }
        let model = t.fit(&data).unwrap();
        assert!(
            model.converged,
            "{name}: not converged after {}",
            model.n_iter
        );
        let mut got = model.coef.to_vec();
        got.push(model.intercept);
        let mut want = vector(&case["coef"]);
        want.push(case["intercept"].as_f64().unwrap());
        assert_close(&got, &want, 1e-5, name);
        let head = data.features().slice(ndarray::s![..10, ..]).to_owned();
        let pred = model.predict(head.view()).unwrap();
        assert_close(
            pred.as_slice().unwrap(),
            &vector(&case["predict_head"]),
            1e-5,
            name,
        );
    }
}

#[test]
fn max_iter_reached_is_reported_to_the_callback_and_the_model() {
    let fx = fixture();
    let case = &fx["max_iter_case"];
    assert!(case["warned"].as_bool().unwrap());
    let data = classification("breast_cancer");
    let events = Mutex::new(Vec::new());
    let cb = |e: &FitEvent<'_>| {
        events
            .lock()
            .unwrap()
            .push((e.stage.to_string(), e.iteration));
        Control::Continue
    };
    let ctx = FitContext::new().callback(&cb);
    let model = LinearSvc::default()
        .loss(SvcLoss::Hinge)
        .dual(Dual::Dual)
        .c(10.0)
        .tol(1e-12)
        .max_iter(5)
        .fit_with(&data, &ctx)
        .unwrap();
    assert!(!model.converged);
    assert_eq!(model.n_iter as u64, case["n_iter"].as_u64().unwrap());
    let events = events.into_inner().unwrap();
    let iterations = events.iter().filter(|(s, _)| s == "linear_svc").count();
    assert_eq!(iterations, 5);
    assert_eq!(
        events.last().unwrap(),
        &(MAX_ITER_REACHED.to_string(), 5),
        "the last event says max_iter was reached"
    );
    // A converged fit sends no such event; the callback can stop a fit early.
    let stop = |e: &FitEvent<'_>| {
        assert_ne!(e.stage, MAX_ITER_REACHED);
        if e.iteration >= 2 {
            Control::Stop
        } else {
            Control::Continue
        }
    };
    let model = LinearSvc::default()
        .dual(Dual::Dual)
        .fit_with(&data, &FitContext::new().callback(&stop))
        .unwrap();
    assert_eq!((model.n_iter, model.converged), (2, false));
    let cancel = |_: &FitEvent<'_>| Control::Cancel;
    let err = LinearSvr::default()
        .fit_with(&diabetes(), &FitContext::new().callback(&cancel))
        .unwrap_err();
    assert!(err.to_string().contains("linear_svr"), "{err}");
}

#[test]
fn same_model_for_any_thread_count_and_seeded() {
    let data = classification("wine");
    for dual in [Dual::Dual, Dual::Primal] {
        let t = LinearSvc::default().dual(dual).max_iter(30);
        let a = t
            .fit_with(&data, &FitContext::new().n_threads(1).random_state(4))
            .unwrap();
        let b = t
            .fit_with(&data, &FitContext::new().n_threads(3).random_state(4))
            .unwrap();
        assert_eq!(a, b);
    }
    let t = LinearSvc::default()
        .penalty(Penalty::L1)
        .dual(Dual::Primal)
        .max_iter(20);
    let a = t.fit_with(&data, &FitContext::new().n_threads(1)).unwrap();
    let b = t.fit_with(&data, &FitContext::new().n_threads(3)).unwrap();
    assert_eq!(a, b);
    let t = LinearSvc::default()
        .multi_class(MultiClass::CrammerSinger)
        .max_iter(25);
    let a = t.fit_with(&data, &FitContext::new().n_threads(1)).unwrap();
    let b = t.fit_with(&data, &FitContext::new().n_threads(3)).unwrap();
    assert_eq!(a, b);
    assert_eq!(a.coef.nrows(), 3);
    // `random_state` overrides the context's seed.
    let t = LinearSvc::default()
        .dual(Dual::Dual)
        .max_iter(3)
        .random_state(9);
    let a = t
        .fit_with(&data, &FitContext::new().random_state(1))
        .unwrap();
    let b = t
        .fit_with(&data, &FitContext::new().random_state(2))
        .unwrap();
    assert_eq!(a, b);
}

#[test]
fn single_rows_equal_the_batch_and_outputs_are_scores() {
    let data = classification("iris");
    let model = LinearSvc::default().fit(&data).unwrap();
    let x = data.features().to_owned();
    let batch = model.predict(x.view()).unwrap();
    let scores = model.decision_function(x.view()).unwrap();
    let mut one = [0.0];
    let mut s = [0.0; 3];
    for (i, row) in x.outer_iter().enumerate() {
        model
            .predict_row_into(row.as_slice().unwrap(), &mut one)
            .unwrap();
        assert_eq!(one[0].to_bits(), batch[i].to_bits());
        model
            .score_row_into(row.as_slice().unwrap(), &mut s)
            .unwrap();
        for (a, b) in s.iter().zip(scores.row(i)) {
            assert_eq!(a.to_bits(), b.to_bits());
        }
    }
    let config =
        ModelConfig::from_json_parts("linear_svc", serde_json::json!({"dual": false})).unwrap();
    let any = config.fit(&data, &FitContext::new()).unwrap();
    assert_eq!(any.outputs(), vec![PredictKind::Value, PredictKind::Score]);
    assert_eq!(any.output_width(PredictKind::Score).unwrap(), 3);
    let bc = classification("breast_cancer");
    let any = config.fit(&bc, &FitContext::new()).unwrap();
    assert_eq!(any.output_width(PredictKind::Score).unwrap(), 1);
}

#[test]
fn unsupported_combinations_and_bad_parameters_are_named() {
    let data = classification("iris");
    let err = |t: LinearSvc| t.fit(&data).unwrap_err().to_string();
    let e = err(LinearSvc::default().loss(SvcLoss::Hinge).dual(Dual::Primal));
    assert!(
        e.contains(
            "The combination of penalty='l2' and loss='hinge' are not supported when dual=False"
        ),
        "{e}"
    );
    let e = err(LinearSvc::default()
        .penalty(Penalty::L1)
        .loss(SvcLoss::Hinge));
    assert!(
        e.contains("penalty='l1' and loss='hinge' is not supported"),
        "{e}"
    );
    let e = err(LinearSvc::default().penalty(Penalty::L1).dual(Dual::Dual));
    assert!(e.contains("when dual=True"), "{e}");
    assert!(err(LinearSvc::default().c(0.0)).contains("`C`"));
    assert!(err(LinearSvc::default().tol(-1.0)).contains("`tol`"));
    assert!(err(LinearSvc::default().max_iter(0)).contains("`max_iter`"));
    assert!(err(LinearSvc::default().intercept_scaling(0.0)).contains("intercept_scaling"));
    // dual = auto: l1 and hinge-with-l2 resolve to the side that exists.
    assert!(LinearSvc::default().penalty(Penalty::L1).fit(&data).is_ok());
    assert!(LinearSvc::default().loss(SvcLoss::Hinge).fit(&data).is_ok());
    let svr = diabetes();
    let e = LinearSvr::default()
        .dual(Dual::Primal)
        .fit(&svr)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("loss='epsilon_insensitive' are not supported when dual=False"),
        "{e}"
    );
    let e = LinearSvr::default()
        .epsilon(-1.0)
        .fit(&svr)
        .unwrap_err()
        .to_string();
    assert!(e.contains("epsilon"), "{e}");
    // The JSON forms of `dual`.
    for (text, dual) in [
        ("\"auto\"", Dual::Auto),
        ("true", Dual::Dual),
        ("false", Dual::Primal),
    ] {
        let t: LinearSvc = serde_json::from_str(&format!("{{\"dual\": {text}}}")).unwrap();
        assert_eq!(t.dual, dual);
        assert_eq!(serde_json::to_string(&t.dual).unwrap(), text);
    }
    assert!(serde_json::from_str::<LinearSvc>(r#"{"dual": "yes"}"#).is_err());
    assert!(serde_json::from_str::<LinearSvc>(r#"{"c": 1.0}"#).is_err());
}

#[test]
fn zero_weights_equal_dropped_rows() {
    let data = classification("wine");
    let n = data.n_samples();
    let w = Array1::from_iter((0..n).map(|i| if i % 4 == 0 { 0.0 } else { 1.0 }));
    let keep: Vec<usize> = (0..n).filter(|i| i % 4 != 0).collect();
    let x = data.features().select(ndarray::Axis(0), &keep);
    let y = data.targets().unwrap().select(ndarray::Axis(0), &keep);
    let dropped = DenseDataset::new(x, Some(y), data.task().clone()).unwrap();
    let t = LinearSvc::default()
        .dual(Dual::Dual)
        .tol(1e-6)
        .random_state(1);
    let a = t.fit(&data.with_weights(w).unwrap()).unwrap();
    let b = t.fit(&dropped).unwrap();
    assert_eq!(a, b);
}

#[test]
fn a_value_that_is_not_finite_is_named_and_a_finite_overflow_is_not() {
    for name in ["iris", "breast_cancer"] {
        let data = classification(name);
        let model = LinearSvc::default().fit(&data).unwrap();
        let mut x = data.features().to_owned();
        let clean = model.predict(x.view()).unwrap();
        for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            x[[5, 2]] = bad;
            let message = model.predict(x.view()).unwrap_err().to_string();
            assert!(message.contains("x2") && message.contains('5'), "{message}");
            let message = model.decision_function(x.view()).unwrap_err().to_string();
            assert!(message.contains("x2"), "{message}");
        }
        // Finite values whose scores overflow are predicted, not rejected.
        x.row_mut(5).fill(1e308);
        let predicted = model.predict(x.view()).unwrap();
        assert!(predicted.iter().all(|v| v.is_finite()));
        for (i, (a, b)) in predicted.iter().zip(&clean).enumerate() {
            if i != 5 {
                assert_eq!(a.to_bits(), b.to_bits());
            }
        }
    }
}
