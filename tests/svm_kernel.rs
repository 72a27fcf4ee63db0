//! Kernel SVMs against scikit-learn 1.9 reference fits of `SVC`, `NuSVC`, `SVR`, `NuSVR` and
//! `OneClassSVM` at `tol=1e-6` (`tests/fixtures/svm_kernel_generate.py` ->
//! `tests/fixtures/svm_kernel_sklearn.json`): the same support set, dual coefficients and
//! intercepts within 1e-5, decision function within 1e-5, the same predictions; plus the
//! `max_iter` report, thread-count independence, the C-ABI score width and parameter errors.

use std::sync::Mutex;

use amlis::data::{DenseDataset, TaskKind};
use amlis::models::svm::{
    NuSvc, NuSvr, OneClassSvm, OneClassSvmModel, Svc, SvcModel, Svr, SvrModel, MAX_ITER_REACHED,
};
use amlis::models::{ModelConfig, PredictKind};
use amlis::traits::{
    Control, Dataset, FitContext, FitEvent, Predictor, ProbabilisticPredictor, ScorePredictor,
    Trainer,
};
use ndarray::{Array1, Array2, Axis};
use serde_json::{json, Value};

mod linear_data;
use linear_data::{classification, standardize, standardized, table};

/// The agreement asked of coefficients, intercepts and decision values.
const TOL: f64 = 1e-5;

fn fixture() -> &'static Value {
    static FIXTURE: std::sync::OnceLock<Value> = std::sync::OnceLock::new();
    FIXTURE.get_or_init(|| {
        let text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/svm_kernel_sklearn.json"
        ))
        .unwrap();
        serde_json::from_str(&text).unwrap()
    })
}

fn cases(model: &str) -> Vec<&'static Value> {
    fixture()["cases"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["model"] == model)
        .collect()
}

/// The data sets, standardized as the generator does.
fn dataset(name: &str) -> DenseDataset {
    match name {
        "iris" => standardized("iris.csv", "species"),
        "wine" => standardized("wine.csv", "cultivar"),
        "breast_cancer" => standardized("breast_cancer.csv", "diagnosis"),
        "digits" => {
            let d = classification("digits.csv", "digit");
            let rows: Vec<usize> = (0..d.n_samples()).step_by(6).collect();
            let x = d.features().select(Axis(0), &rows);
            let y = d.targets().unwrap().select(Axis(0), &rows);
            DenseDataset::new(standardize(&x), Some(y), d.task().clone()).unwrap()
        }
        "diabetes" => {
            let d = DenseDataset::from_table(
                &table("diabetes.csv"),
                "progression",
                TaskKind::Regression,
            )
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
        other => panic!("unknown dataset {other}"),
    }
}

/// The case's data, with its sample weights (1 + i % 5) when it has them.
fn data_for(case: &Value) -> DenseDataset {
    let d = dataset(case["dataset"].as_str().unwrap());
    if case.get("sample_weight").and_then(Value::as_bool) == Some(true) {
        let n = d.n_samples();
        d.with_weights(Array1::from_iter((0..n).map(|i| 1.0 + (i % 5) as f64)))
            .unwrap()
    } else {
        d
    }
}

/// The trainer's JSON parameters from the case (scikit-learn's names).
fn params(case: &Value) -> Value {
    let mut p = json!({"tol": fixture()["tol"]});
    for key in [
        "C",
        "nu",
        "epsilon",
        "kernel",
        "degree",
        "gamma",
        "coef0",
        "shrinking",
        "class_weight",
        "decision_function_shape",
        "break_ties",
        "random_state",
    ] {
        if let Some(v) = case.get(key) {
            p[key] = v.clone();
        }
    }
    p
}

fn vector(v: &Value) -> Vec<f64> {
    serde_json::from_value(v.clone()).unwrap()
}

fn matrix(v: &Value) -> Array2<f64> {
    let rows: Vec<Vec<f64>> = serde_json::from_value(v.clone()).unwrap();
    let (r, c) = (rows.len(), rows[0].len());
    Array2::from_shape_vec((r, c), rows.into_iter().flatten().collect()).unwrap()
}

fn assert_close(got: &[f64], want: &[f64], what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: lengths");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!((g - w).abs() <= TOL, "{what}[{i}]: {g} vs scikit-learn {w}");
    }
}

fn support(case: &Value) -> Vec<usize> {
    serde_json::from_value(case["support"].clone()).unwrap()
}

fn check_classifier(case: &Value, model: &SvcModel, data: &DenseDataset) {
    let name = case["name"].as_str().unwrap();
    let classes: Vec<String> = serde_json::from_value(case["classes"].clone()).unwrap();
    assert_eq!(model.classes, classes, "{name}: classes");
    assert!(
        (model.support_vectors.kernel.gamma - case["gamma_"].as_f64().unwrap()).abs() < 1e-12,
        "{name}: gamma"
    );
    assert_eq!(
        model.support_vectors.support,
        support(case),
        "{name}: support"
    );
    let n_support: Vec<usize> = serde_json::from_value(case["n_support"].clone()).unwrap();
    assert_eq!(model.n_support, n_support, "{name}: n_support");
    let dual = matrix(&case["dual_coef"]);
    assert_eq!(model.dual_coef.dim(), dual.dim(), "{name}: dual_coef shape");
    assert_close(
        model.dual_coef.as_slice().unwrap(),
        dual.as_slice().unwrap(),
        &format!("{name}: dual_coef"),
    );
    assert_close(
        &model.intercept,
        &vector(&case["intercept"]),
        &format!("{name}: intercept"),
    );
    assert!(model.converged);
    let xs = data.features();
    let x = xs.view();
    let dec = model.decision_function(x).unwrap();
    let want = matrix(&case["decision"]);
    assert_eq!(dec.dim(), want.dim(), "{name}: decision shape");
    assert_close(
        dec.as_slice().unwrap(),
        want.as_slice().unwrap(),
        &format!("{name}: decision_function"),
    );
    let pred = model.predict(x).unwrap();
    let want: Vec<f64> = vector(&case["predict"]);
    assert_eq!(pred.to_vec(), want, "{name}: predictions");
    let y = data.targets().unwrap();
    let acc = pred.iter().zip(y.iter()).filter(|(p, t)| p == t).count() as f64 / y.len() as f64;
    assert_eq!(acc, case["accuracy"].as_f64().unwrap(), "{name}: accuracy");
}

#[test]
fn svc_matches_scikit_learn() {
    for case in cases("svc") {
        let data = data_for(case);
        let t: Svc = serde_json::from_value(params(case)).unwrap();
        let model = t.fit(&data).unwrap();
        check_classifier(case, &model, &data);
    }
}

#[test]
fn nu_svc_matches_scikit_learn() {
    for case in cases("nu_svc") {
        let data = data_for(case);
        let t: NuSvc = serde_json::from_value(params(case)).unwrap();
        let model = t.fit(&data).unwrap();
        check_classifier(case, &model, &data);
    }
}

fn check_expansion(case: &Value, coef: &[f64], intercept: f64, gamma: f64, sv: &[usize]) {
    let name = case["name"].as_str().unwrap();
    assert!(
        (gamma - case["gamma_"].as_f64().unwrap()).abs() < 1e-12,
        "{name}: gamma"
    );
    assert_eq!(sv, support(case), "{name}: support");
    let dual = matrix(&case["dual_coef"]);
    assert_close(
        coef,
        dual.as_slice().unwrap(),
        &format!("{name}: dual_coef"),
    );
    assert_close(
        &[intercept],
        &vector(&case["intercept"]),
        &format!("{name}: intercept"),
    );
}

fn check_regressor(case: &Value, model: &SvrModel, data: &DenseDataset) {
    let name = case["name"].as_str().unwrap();
    check_expansion(
        case,
        &model.dual_coef,
        model.intercept,
        model.support_vectors.kernel.gamma,
        &model.support_vectors.support,
    );
    let pred = model.predict(data.features().view()).unwrap();
    assert_close(
        &pred.to_vec(),
        &vector(&case["predict"]),
        &format!("{name}: predict"),
    );
}

#[test]
fn svr_matches_scikit_learn() {
    for case in cases("svr") {
        let data = data_for(case);
        let t: Svr = serde_json::from_value(params(case)).unwrap();
        check_regressor(case, &t.fit(&data).unwrap(), &data);
    }
}

#[test]
fn nu_svr_matches_scikit_learn() {
    for case in cases("nu_svr") {
        let data = data_for(case);
        let t: NuSvr = serde_json::from_value(params(case)).unwrap();
        check_regressor(case, &t.fit(&data).unwrap(), &data);
    }
}

#[test]
fn one_class_svm_matches_scikit_learn() {
    for case in cases("one_class_svm") {
        let name = case["name"].as_str().unwrap();
        let data = data_for(case);
        let t: OneClassSvm = serde_json::from_value(params(case)).unwrap();
        let model: OneClassSvmModel = t.fit(&data).unwrap();
        check_expansion(
            case,
            &model.dual_coef,
            model.intercept,
            model.support_vectors.kernel.gamma,
            &model.support_vectors.support,
        );
        assert!((model.offset() - case["offset"].as_f64().unwrap()).abs() <= TOL);
        let xs = data.features();
        let x = xs.view();
        let mut dec = vec![0.0; x.nrows()];
        model.score_into(x, &mut dec).unwrap();
        assert_close(
            &dec,
            &vector(&case["decision"]),
            &format!("{name}: decision_function"),
        );
        let pred = model.predict(x).unwrap();
        assert_eq!(pred.to_vec(), vector(&case["predict"]), "{name}: predict");
    }
}

#[test]
fn max_iter_is_reported_and_counted() {
    let case = &fixture()["max_iter_case"];
    let events = Mutex::new(Vec::new());
    let cb = |e: &FitEvent<'_>| {
        if e.stage == MAX_ITER_REACHED {
            events.lock().unwrap().push(e.iteration);
        }
        Control::Continue
    };
    let ctx = FitContext::new().callback(&cb);
    let t = Svc::default()
        .c(case["C"].as_f64().unwrap())
        .tol(case["tol"].as_f64().unwrap())
        .max_iter(case["max_iter"].as_i64().unwrap());
    let model = t.fit_with(&dataset("breast_cancer"), &ctx).unwrap();
    let want: Vec<usize> = serde_json::from_value(case["n_iter"].clone()).unwrap();
    assert_eq!(model.n_iter, want);
    assert!(!model.converged);
    assert_eq!(*events.lock().unwrap(), want);
}

#[test]
fn same_model_for_one_and_two_threads() {
    let data = dataset("wine");
    let t = Svc::default().tol(1e-6).cache_size(0.01);
    let one = t.fit_with(&data, &FitContext::new().n_threads(1)).unwrap();
    let two = t.fit_with(&data, &FitContext::new().n_threads(2)).unwrap();
    assert_eq!(one, two);
}

#[test]
fn a_tiny_cache_gives_the_same_solution() {
    // A cache of two rows forces recomputation throughout; the iterates do not change.
    let data = dataset("iris");
    let big = Svc::default().tol(1e-6).fit(&data).unwrap();
    let tiny = Svc::default()
        .tol(1e-6)
        .cache_size(1e-6)
        .fit(&data)
        .unwrap();
    assert_eq!(big, tiny);
}

#[test]
fn score_width_follows_the_decision_shape() {
    let data = dataset("iris");
    for (shape, width) in [("ovr", 3), ("ovo", 3)] {
        let cfg = ModelConfig::from_json_parts(
            "svc",
            json!({"decision_function_shape": shape, "kernel": "linear"}),
        )
        .unwrap();
        let model = cfg.fit(&data, &FitContext::new()).unwrap();
        assert_eq!(model.output_width(PredictKind::Score).unwrap(), width);
        assert!(model.output_width(PredictKind::Proba).is_err());
    }
    let digits = dataset("digits");
    let ovo = Svc::default()
        .decision_function_shape(amlis::models::svm::DecisionShape::Ovo)
        .fit(&digits)
        .unwrap();
    assert_eq!(ovo.n_scores(), 45);
    let bc = dataset("breast_cancer");
    assert_eq!(Svc::default().fit(&bc).unwrap().n_scores(), 1);
}

#[test]
fn single_rows_equal_the_batch() {
    let data = dataset("wine");
    let model = Svc::default().break_ties(true).fit(&data).unwrap();
    let xs = data.features();
    let x = xs.view();
    let batch = model.decision_function(x).unwrap();
    let pred = model.predict(x).unwrap();
    let mut s = [0.0; 3];
    let mut p = [0.0];
    for i in 0..x.nrows() {
        let row = x.row(i).to_vec();
        model.score_row_into(&row, &mut s).unwrap();
        model.predict_row_into(&row, &mut p).unwrap();
        assert_eq!(
            s.map(f64::to_bits).to_vec(),
            batch.row(i).mapv(f64::to_bits).to_vec()
        );
        assert_eq!(p[0], pred[i]);
    }
}

#[test]
fn parameters_are_checked_first() {
    let data = dataset("iris");
    let err = |t: Svc| t.fit(&data).unwrap_err().to_string();
    assert!(err(Svc::default().c(0.0)).contains("`C`"));
    assert!(err(Svc::default().tol(-1.0)).contains("`tol`"));
    assert!(err(Svc::default().cache_size(0.0)).contains("`cache_size`"));
    assert!(err(Svc::default().max_iter(-2)).contains("`max_iter`"));
    assert!(err(Svc::default().probability(true).random_state(1 << 33)).contains("`random_state`"));
    assert!(err(Svc::default()
        .break_ties(true)
        .decision_function_shape(amlis::models::svm::DecisionShape::Ovo))
    .contains("`break_ties`"));
    assert!(err(Svc::default().gamma(amlis::models::svm::Gamma::Value(-1.0))).contains("`gamma`"));
    let e = NuSvc::default().nu(1.5).fit(&data).unwrap_err().to_string();
    assert!(e.contains("`nu`"), "{e}");
    let reg = dataset("diabetes");
    let e = Svr::default()
        .epsilon(-0.1)
        .fit(&reg)
        .unwrap_err()
        .to_string();
    assert!(e.contains("`epsilon`"), "{e}");
    let e = NuSvr::default().nu(0.0).fit(&reg).unwrap_err().to_string();
    assert!(e.contains("`nu`"), "{e}");
    assert!(serde_json::from_value::<Svc>(json!({"C": 1.0, "bogus": 1})).is_err());
}

/// The agreement asked of Platt's `probA_` / `probB_` and of the probabilities.
const PROBA_TOL: f64 = 1e-6;

fn worst(got: &[f64], want: &[f64]) -> f64 {
    assert_eq!(got.len(), want.len());
    got.iter()
        .zip(want)
        .map(|(g, w)| (g - w).abs())
        .fold(0.0, f64::max)
}

/// `probability=true`: libsvm's 5-fold cross-validation (same shuffles from
/// `random_state`), Platt's sigmoids and the pairwise coupling, against scikit-learn.
#[test]
fn probabilities_match_scikit_learn() {
    let mut report = Vec::new();
    for case in fixture()["proba_cases"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let data = data_for(case);
        let mut p = params(case);
        p["tol"] = case["tol"].clone();
        p["probability"] = json!(true);
        let model: SvcModel = match case["model"].as_str().unwrap() {
            "svc" => serde_json::from_value::<Svc>(p)
                .unwrap()
                .fit(&data)
                .unwrap(),
            _ => serde_json::from_value::<NuSvc>(p)
                .unwrap()
                .fit(&data)
                .unwrap(),
        };
        assert_eq!(
            model.support_vectors.support,
            support(case),
            "{name}: support"
        );
        let ea = worst(&model.prob_a, &vector(&case["prob_a"]));
        let eb = worst(&model.prob_b, &vector(&case["prob_b"]));
        let xs = data.features();
        let x = xs.view();
        let proba = model.predict_proba(x).unwrap();
        let ep = worst(
            proba.as_slice().unwrap(),
            matrix(&case["proba"]).as_slice().unwrap(),
        );
        let shifted = x.mapv(|v| v + 0.25);
        let ps = model.predict_proba(shifted.view()).unwrap();
        let es = worst(
            ps.as_slice().unwrap(),
            matrix(&case["proba_shifted"]).as_slice().unwrap(),
        );
        let lp = model
            .predict_log_proba(x.slice(ndarray::s![..20, ..]))
            .unwrap();
        let el = worst(
            lp.as_slice().unwrap(),
            matrix(&case["log_proba"]).as_slice().unwrap(),
        );
        report.push(format!(
            "{name}: A {ea:.1e} B {eb:.1e} proba {ep:.1e} shifted {es:.1e} log {el:.1e}"
        ));
        for (what, e) in [
            ("probA", ea),
            ("probB", eb),
            ("proba", ep),
            ("proba shifted", es),
            ("log_proba", el),
        ] {
            assert!(
                e <= PROBA_TOL,
                "{name}: {what} off by {e:e}\n{}",
                report.join("\n")
            );
        }
        // predict keeps the decision function's vote.
        assert_eq!(
            model.predict(x).unwrap().to_vec(),
            vector(&case["predict"]),
            "{name}: predict"
        );
        // The single-row path gives the batch's bits.
        let k = model.classes.len();
        let mut row_out = vec![0.0; k];
        for i in (0..x.nrows()).step_by(17) {
            model
                .predict_proba_row_into(&x.row(i).to_vec(), &mut row_out)
                .unwrap();
            assert_eq!(
                row_out.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                proba.row(i).iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                "{name}: row {i}"
            );
        }
    }
    eprintln!("{}", report.join("\n"));
}

#[test]
fn probabilities_are_seeded_and_thread_independent() {
    let data = dataset("iris");
    let t = Svc::default().probability(true).random_state(3);
    let one = t.fit_with(&data, &FitContext::new().n_threads(1)).unwrap();
    let two = t.fit_with(&data, &FitContext::new().n_threads(2)).unwrap();
    assert_eq!(one, two);
    let other = t.clone().random_state(4).fit(&data).unwrap();
    assert_ne!(one.prob_a, other.prob_a);
    // Without probability=true: no probabilities, and the PROBA output says so.
    let plain = Svc::default().fit(&data).unwrap();
    assert!(plain.prob_a.is_empty());
    assert!(plain.predict_proba(data.features().view()).is_err());
    let cfg = ModelConfig::from_json_parts("svc", json!({"probability": true, "random_state": 0}))
        .unwrap();
    let model = cfg.fit(&data, &FitContext::new()).unwrap();
    assert_eq!(model.output_width(PredictKind::Proba).unwrap(), 3);
}

#[test]
fn corrupt_probabilities_are_rejected() {
    use amlis::traits::Model;
    let data = dataset("iris");
    let m = Svc::default()
        .probability(true)
        .random_state(0)
        .fit(&data)
        .unwrap();
    assert!(m.validate().is_ok());
    let mut bad = m.clone();
    bad.prob_b.pop();
    assert!(bad.validate().is_err());
    let mut bad = m.clone();
    bad.prob_a.push(1.0);
    bad.prob_b.push(1.0);
    assert!(bad.validate().is_err());
    let mut bad = m;
    bad.prob_a[0] = f64::NAN;
    assert!(bad.validate().is_err());
}

/// The SMO solver reports every 100 iterations (stage = the type name, values `task` and
/// `violation`); `Cancel` ends the fit with `Error::Cancelled`, `Stop` returns the current
/// iterate as a model marked not converged. The cross-validation fits of `probability=true`
/// report under their own stage and can be cancelled too.
#[test]
fn smo_reports_progress_and_can_be_cancelled() {
    let data = dataset("breast_cancer");
    let t = Svc::default().c(10.0).tol(1e-6);
    let events = Mutex::new(Vec::new());
    let log = |e: &FitEvent<'_>| {
        if e.stage == "svc" {
            let violation = e.values.iter().find(|v| v.0 == "violation").unwrap().1;
            events.lock().unwrap().push((e.iteration, violation));
        }
        Control::Continue
    };
    let full = t
        .fit_with(&data, &FitContext::new().callback(&log))
        .unwrap();
    let seen = events.lock().unwrap().clone();
    assert!(full.n_iter[0] > 100, "{:?}", full.n_iter);
    assert_eq!(seen.len(), (full.n_iter[0] - 1) / 100, "{seen:?}");
    assert!(seen
        .iter()
        .all(|(i, v)| i % 100 == 0 && v.is_finite() && *v > 0.0));

    let calls = std::sync::atomic::AtomicUsize::new(0);
    let cancel = |e: &FitEvent<'_>| {
        calls.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if e.stage == "svc" {
            Control::Cancel
        } else {
            Control::Continue
        }
    };
    let err = t.fit_with(&data, &FitContext::new().callback(&cancel));
    assert!(matches!(err, Err(amlis::Error::Cancelled(_))), "{err:?}");
    assert_eq!(calls.load(std::sync::atomic::Ordering::Relaxed), 1);

    let stop = |e: &FitEvent<'_>| {
        if e.stage == "svc" {
            Control::Stop
        } else {
            Control::Continue
        }
    };
    let early = t
        .fit_with(&data, &FitContext::new().callback(&stop))
        .unwrap();
    assert_eq!(early.n_iter, vec![100]);
    assert!(!early.converged);

    let cancel_cv = |e: &FitEvent<'_>| {
        if e.stage == "svm_probability_cv" {
            Control::Cancel
        } else {
            Control::Continue
        }
    };
    let err = t
        .clone()
        .probability(true)
        .fit_with(&data, &FitContext::new().callback(&cancel_cv));
    assert!(matches!(err, Err(amlis::Error::Cancelled(_))), "{err:?}");

    let reg = dataset("diabetes");
    let cancel_svr = |e: &FitEvent<'_>| {
        if e.stage == "svr" {
            Control::Cancel
        } else {
            Control::Continue
        }
    };
    let err = Svr::default()
        .c(10.0)
        .tol(1e-6)
        .fit_with(&reg, &FitContext::new().callback(&cancel_svr));
    assert!(matches!(err, Err(amlis::Error::Cancelled(_))), "{err:?}");
}
