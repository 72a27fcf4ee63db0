//! SGD classifier and regressor: convergence to the closed-form optimum on well-posed
//! problems, partial_fit equivalence, accuracy against scikit-learn
//! (`tests/fixtures/sgd_accuracy.json`, from `tests/fixtures/logistic_generate.py`),
//! determinism and degenerate input.

use amlis::data::{DenseDataset, Task};
use amlis::linear::logistic::{ClassWeight, LogisticRegression};
use amlis::linear::sgd::{
    LearningRate, SgdAverage, SgdClassifier, SgdClassifierState, SgdLoss, SgdPenalty, SgdRegressor,
    SgdRegressorState,
};
use amlis::traits::{Dataset, FitContext, Predictor, ProbabilisticPredictor, Trainer};
use ndarray::{s, Array1, Array2};
use rand::Rng;

mod linear_data;
use linear_data::{classification, rebuild, standardize, standardized};

/// y = x·β + 1 + small noise, x standard normal-ish (uniform sums), deterministic.
fn regression_problem(n: usize, p: usize) -> (DenseDataset, Vec<f64>) {
    let mut rng = amlis::rng::for_task(11, 0);
    let beta: Vec<f64> = (0..p).map(|j| (j as f64 - 2.0) * 0.7).collect();
    let x = Array2::from_shape_fn((n, p), |_| {
        (0..3).map(|_| rng.gen::<f64>() - 0.5).sum::<f64>() * 2.0
    });
    let y = Array1::from_iter(x.outer_iter().map(|r| {
        r.iter().zip(&beta).map(|(a, b)| a * b).sum::<f64>() + 1.0 + 0.1 * (rng.gen::<f64>() - 0.5)
    }));
    (DenseDataset::regression(x, y).unwrap(), beta)
}

/// Solves `a z = b` by Gaussian elimination with partial pivoting (small systems).
fn solve(mut a: Array2<f64>, mut b: Vec<f64>) -> Vec<f64> {
    let n = b.len();
    for k in 0..n {
        let piv = (k..n)
            .max_by(|&i, &j| a[[i, k]].abs().total_cmp(&a[[j, k]].abs()))
            .unwrap();
        for j in 0..n {
            a.swap([k, j], [piv, j]);
        }
        b.swap(k, piv);
        for i in k + 1..n {
            let f = a[[i, k]] / a[[k, k]];
            for j in k..n {
                a[[i, j]] -= f * a[[k, j]];
            }
            b[i] -= f * b[k];
        }
    }
    let mut z = vec![0.0; n];
    for k in (0..n).rev() {
        let s: f64 = (k + 1..n).map(|j| a[[k, j]] * z[j]).sum();
        z[k] = (b[k] - s) / a[[k, k]];
    }
    z
}

/// The minimizer of `(1/2n) Σ (y − xw − b)² + (alpha/2) ‖w‖²` (intercept unpenalized).
fn ridge_optimum(data: &DenseDataset, alpha: f64) -> (Vec<f64>, f64) {
    let x = data.features().to_owned();
    let y = data.targets().unwrap();
    let n = x.nrows() as f64;
    let xm = x.mean_axis(ndarray::Axis(0)).unwrap();
    let ym = y.mean().unwrap();
    let xc = &x - &xm;
    let yc = &y - ym;
    let mut a = xc.t().dot(&xc) / n;
    for j in 0..a.nrows() {
        a[[j, j]] += alpha;
    }
    let b = (xc.t().dot(&yc) / n).to_vec();
    let w = solve(a, b);
    let icpt = ym - w.iter().zip(xm.iter()).map(|(a, b)| a * b).sum::<f64>();
    (w, icpt)
}

#[test]
fn regressor_converges_to_the_ridge_optimum() {
    let (data, _) = regression_problem(400, 5);
    let alpha = 0.05;
    let (w_star, b_star) = ridge_optimum(&data, alpha);
    let model = SgdRegressor::default()
        .alpha(alpha)
        .learning_rate(LearningRate::Constant)
        .eta0(0.002)
        .average(SgdAverage::From(400 * 100))
        .max_iter(400)
        .tol(None)
        .random_state(3)
        .fit(&data)
        .unwrap();
    let scale = w_star.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    for (a, b) in model.coef.iter().zip(&w_star) {
        assert!((a - b).abs() < 2e-3 * scale, "coef {a} vs ridge {b}");
    }
    assert!(
        (model.intercept - b_star).abs() < 2e-3 * scale,
        "{} vs {b_star}",
        model.intercept
    );
    assert_eq!(model.n_iter, 400);
}

#[test]
fn log_loss_classifier_reaches_the_logistic_optimum() {
    let data = standardized("breast_cancer.csv", "diagnosis");
    let n = data.n_samples() as f64;
    let alpha = 0.01;
    let sgd = SgdClassifier::default()
        .loss(SgdLoss::LogLoss)
        .alpha(alpha)
        .learning_rate(LearningRate::Optimal)
        .average(SgdAverage::From(569 * 200))
        .max_iter(1000)
        .tol(None)
        .random_state(1)
        .fit(&data)
        .unwrap();
    // Same objective: mean log-loss + alpha/2 ‖w‖²  <=>  C = 1 / (alpha n).
    let lr = LogisticRegression::default()
        .c(1.0 / (alpha * n))
        .tol(1e-10)
        .max_iter(1000)
        .fit(&data)
        .unwrap();
    let scale = lr.coef.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    for (a, b) in sgd.coef.iter().zip(lr.coef.iter()) {
        assert!((a - b).abs() < 3e-3 * scale, "sgd {a} vs logistic {b}");
    }
    assert!((sgd.intercept[0] - lr.intercept[0]).abs() < 3e-3 * scale);
    let x = data.features();
    let p1 = sgd.predict_proba(x.view()).unwrap();
    let p2 = lr.predict_proba(x.view()).unwrap();
    let worst = p1
        .iter()
        .zip(p2.iter())
        .fold(0.0f64, |m, (a, b)| m.max((a - b).abs()));
    assert!(worst < 5e-3, "probabilities differ by {worst}");
}

#[test]
fn partial_fit_epochs_equal_fit_without_shuffle() {
    let data = standardized("wine.csv", "cultivar");
    for loss in [SgdLoss::Hinge, SgdLoss::LogLoss] {
        for penalty in [SgdPenalty::L2, SgdPenalty::Elasticnet] {
            let params = SgdClassifier::default()
                .loss(loss)
                .penalty(penalty)
                .shuffle(false)
                .tol(None)
                .max_iter(4);
            let fitted = params.fit(&data).unwrap();
            let mut state =
                SgdClassifierState::new(params, data.task().classes().to_vec(), 13, 0).unwrap();
            for _ in 0..4 {
                state.partial_fit(&data).unwrap();
            }
            let streamed = state.model().unwrap();
            assert_eq!(fitted.coef, streamed.coef, "{loss:?} {penalty:?}");
            assert_eq!(fitted.intercept, streamed.intercept);
            assert_eq!(fitted.n_iter, 4);
        }
    }
    // Balanced class weights need the whole data's class frequencies: an error, as in
    // scikit-learn; the same weights given as a map stream fine.
    let balanced = SgdClassifier::default().class_weight(ClassWeight::balanced());
    let mut state =
        SgdClassifierState::new(balanced, data.task().classes().to_vec(), 13, 0).unwrap();
    let e = state.partial_fit(&data).unwrap_err();
    assert!(e.to_string().contains("class_weight"), "{e}");
    let map = ClassWeight::Map([("class_1".to_string(), 2.0)].into_iter().collect());
    let mut state = SgdClassifierState::new(
        SgdClassifier::default().class_weight(map),
        data.task().classes().to_vec(),
        13,
        0,
    )
    .unwrap();
    state.partial_fit(&data).unwrap();

    let (reg, _) = regression_problem(300, 4);
    let params = SgdRegressor::default().shuffle(false).tol(None).max_iter(6);
    let fitted = params.fit(&reg).unwrap();
    let mut state = SgdRegressorState::new(params, 4, 0).unwrap();
    for _ in 0..6 {
        state.partial_fit(&reg).unwrap();
    }
    assert_eq!(fitted, state.model().unwrap());
}

#[test]
fn partial_fit_on_chunks_learns() {
    let (data, beta) = regression_problem(2000, 4);
    let params = SgdRegressor::default().eta0(0.01);
    let mut state = SgdRegressorState::new(params, 4, 0).unwrap();
    for epoch in 0..5 {
        for start in (0..2000).step_by(256) {
            let idx: Vec<usize> = (start..(start + 256).min(2000)).collect();
            let _ = epoch;
            state.partial_fit(&data.view(idx).unwrap()).unwrap();
        }
    }
    let model = state.model().unwrap();
    for (a, b) in model.coef.iter().zip(&beta) {
        assert!((a - b).abs() < 0.05, "{a} vs {b}");
    }
}

fn accuracy(model: &impl Predictor, data: &DenseDataset) -> f64 {
    let x = data.features();
    let pred = model.predict(x.view()).unwrap();
    let y = data.targets().unwrap();
    pred.iter().zip(y.iter()).filter(|(a, b)| a == b).count() as f64 / y.len() as f64
}

#[test]
fn accuracy_comparable_to_scikit_learn() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/sgd_accuracy.json"
    ))
    .unwrap();
    let fx: serde_json::Value = serde_json::from_str(&text).unwrap();
    for case in fx["cases"].as_array().unwrap() {
        let data = match case["dataset"].as_str().unwrap() {
            "breast_cancer" => standardized("breast_cancer.csv", "diagnosis"),
            "iris_std" => standardized("iris.csv", "species"),
            "wine" => standardized("wine.csv", "cultivar"),
            other => panic!("{other}"),
        };
        let loss: SgdLoss = serde_json::from_value(case["loss"].clone()).unwrap();
        let acc: f64 = (0..5)
            .map(|seed| {
                accuracy(
                    &SgdClassifier::default()
                        .loss(loss)
                        .random_state(seed)
                        .fit(&data)
                        .unwrap(),
                    &data,
                )
            })
            .sum::<f64>()
            / 5.0;
        let reference = case["accuracy"].as_f64().unwrap();
        assert!(
            acc >= reference - 0.02,
            "{case}: amlis {acc:.4} vs scikit-learn {reference:.4}"
        );
    }
}

#[test]
fn same_model_for_any_thread_count() {
    let data = standardized("iris.csv", "species");
    let t = SgdClassifier::default()
        .loss(SgdLoss::ModifiedHuber)
        .random_state(5);
    let a = t.fit_with(&data, &FitContext::new().n_threads(1)).unwrap();
    let b = t.fit_with(&data, &FitContext::new().n_threads(3)).unwrap();
    assert_eq!(a, b);
    let c = t.clone().random_state(6).fit(&data).unwrap();
    assert_ne!(a.coef, c.coef);
}

#[test]
fn early_stopping_and_schedules() {
    let data = standardized("breast_cancer.csv", "diagnosis");
    for lr in [
        LearningRate::Optimal,
        LearningRate::Invscaling,
        LearningRate::Adaptive,
        LearningRate::Constant,
    ] {
        let model = SgdClassifier::default()
            .loss(SgdLoss::LogLoss)
            .learning_rate(lr)
            .eta0(0.01)
            .early_stopping(true)
            .random_state(2)
            .fit(&data)
            .unwrap();
        assert!(model.n_iter < 1000, "{lr:?} ran {} epochs", model.n_iter);
        assert!(accuracy(&model, &data) > 0.95, "{lr:?}");
    }
    let (reg, _) = regression_problem(500, 3);
    for loss in [
        SgdLoss::SquaredError,
        SgdLoss::Huber,
        SgdLoss::EpsilonInsensitive,
    ] {
        let model = SgdRegressor::default()
            .loss(loss)
            .early_stopping(true)
            .fit(&reg)
            .unwrap();
        let x = reg.features();
        let pred = model.predict(x.view()).unwrap();
        let y = reg.targets().unwrap();
        let mse = pred
            .iter()
            .zip(y.iter())
            .map(|(a, b)| (a - b) * (a - b))
            .sum::<f64>()
            / 500.0;
        assert!(mse < 0.05, "{loss:?}: mse {mse}");
    }
}

#[test]
fn l1_penalty_gives_exact_zeros() {
    let (data, _) = regression_problem(500, 5);
    // Add three pure-noise columns.
    let x0 = data.features().to_owned();
    let mut rng = amlis::rng::for_task(4, 0);
    let noise = Array2::from_shape_fn((500, 3), |_| rng.gen::<f64>() - 0.5);
    let x = ndarray::concatenate![ndarray::Axis(1), x0, noise];
    let d = DenseDataset::regression(x, data.targets().unwrap()).unwrap();
    let model = SgdRegressor::default()
        .penalty(SgdPenalty::L1)
        .alpha(0.05)
        .fit(&d)
        .unwrap();
    assert!(
        model.coef.slice(s![5..]).iter().all(|&v| v == 0.0),
        "{:?}",
        model.coef
    );
    // Column 2 has β = 0 as well.
    assert_eq!(model.coef[2], 0.0);
}

#[test]
fn probabilities_only_for_probabilistic_losses() {
    let data = standardized("iris.csv", "species");
    let x = data.features();
    let hinge = SgdClassifier::default().fit(&data).unwrap();
    assert!(matches!(
        hinge.predict_proba(x.view()),
        Err(amlis::Error::Unsupported(_))
    ));
    for loss in [SgdLoss::LogLoss, SgdLoss::ModifiedHuber] {
        let m = SgdClassifier::default().loss(loss).fit(&data).unwrap();
        let p = m.predict_proba(x.view()).unwrap();
        for row in p.outer_iter() {
            assert!((row.sum() - 1.0).abs() < 1e-12);
        }
    }
}

#[test]
fn class_weight_shifts_the_boundary() {
    let data = standardized("breast_cancer.csv", "diagnosis");
    let x = data.features();
    let base = SgdClassifier::default()
        .loss(SgdLoss::LogLoss)
        .random_state(0)
        .fit(&data)
        .unwrap();
    let mut map = std::collections::BTreeMap::new();
    map.insert("malignant".to_string(), 10.0);
    let heavy = SgdClassifier::default()
        .loss(SgdLoss::LogLoss)
        .random_state(0)
        .class_weight(amlis::linear::logistic::ClassWeight::Map(map))
        .fit(&data)
        .unwrap();
    let count = |m: &amlis::linear::sgd::SgdClassifierModel| m.predict(x.view()).unwrap().sum();
    assert!(count(&heavy) > count(&base));
}

#[test]
fn degenerate_inputs_are_errors() {
    let x = Array2::from_shape_fn((6, 2), |(i, j)| (i * 2 + j) as f64);
    let one = DenseDataset::new(
        x.clone(),
        Some(Array1::zeros(6)),
        Task::Classification {
            classes: vec!["a".into(), "b".into()],
        },
    )
    .unwrap();
    assert!(SgdClassifier::default()
        .fit(&one)
        .unwrap_err()
        .to_string()
        .contains("at least 2 classes"));
    let mut xn = x.clone();
    xn[[2, 0]] = f64::INFINITY;
    let reg = DenseDataset::regression(xn, Array1::zeros(6)).unwrap();
    match SgdRegressor::default().fit(&reg).unwrap_err() {
        amlis::Error::InvalidValue { row, column, .. } => {
            assert_eq!(row, 2);
            assert_eq!(column.as_deref(), Some("x0"));
        }
        other => panic!("{other}"),
    }
    let reg = DenseDataset::regression(x.clone(), Array1::zeros(6)).unwrap();
    let err = SgdRegressor::default()
        .loss(SgdLoss::Hinge)
        .fit(&reg)
        .unwrap_err()
        .to_string();
    assert!(err.contains("loss"), "{err}");
    let err = SgdRegressor::default()
        .max_iter(0)
        .fit(&reg)
        .unwrap_err()
        .to_string();
    assert!(err.contains("max_iter"), "{err}");
    let err = SgdClassifier::default()
        .alpha(0.0)
        .fit(&one)
        .unwrap_err()
        .to_string();
    assert!(err.contains("alpha"), "{err}");
    // Streaming chunk with other classes / columns.
    let data = classification("iris.csv", "species");
    let mut st =
        SgdClassifierState::new(SgdClassifier::default(), vec!["a".into(), "b".into()], 4, 0)
            .unwrap();
    assert!(st.partial_fit(&data).is_err());
    let mut st = SgdRegressorState::new(SgdRegressor::default(), 3, 0).unwrap();
    assert!(st.partial_fit(&reg).is_err());
    let _ = rebuild(&data, standardize(&data.features().to_owned()));
}
