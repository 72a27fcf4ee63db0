//! Early stopping of histogram gradient boosting scored by a metric (`scoring`), against
//! scikit-learn's curves on an explicit validation set (`tests/fixtures/gbm_scoring_generate.py`
//! -> `tests/fixtures/gbm_scoring_reference.json`), plus the patience rule, the training
//! subsample, the callback and the validation of the name.

use std::sync::Mutex;

use amlis::data::{DatasetView, DenseDataset};
use amlis::ensemble::gbm::{
    EarlyStopping, GradientBoostingClassifier, GradientBoostingModel, GradientBoostingRegressor,
};
use amlis::prelude::*;
use amlis::traits::Prediction;
use ndarray::{Array1, Array2, ArrayView1};
use serde_json::Value;

mod common;
use common::{floats, usizes};

fn shipped(file: &str) -> DenseDataset {
    match file {
        "breast_cancer.csv" => amlis::datasets::breast_cancer(),
        "wine.csv" => amlis::datasets::wine(),
        "diabetes.csv" => amlis::datasets::diabetes(),
        other => panic!("no loader for {other}"),
    }
    .unwrap()
}

/// The metric of `name` on `model`'s predictions of `data`, computed from the public
/// prediction API (not from the boosting loop's raw outputs).
fn score_of(name: &str, model: &GradientBoostingModel, data: &dyn Dataset) -> f64 {
    let metric = amlis::metrics::get(name).unwrap();
    let x = data.features();
    let y = data.targets().unwrap();
    let pred;
    let proba;
    let p = match metric.input() {
        MetricInput::Values => {
            pred = model.predict(x.view()).unwrap();
            Prediction::Values(pred.view())
        }
        MetricInput::Scores => {
            proba = model.predict_proba(x.view()).unwrap();
            Prediction::Scores(proba.view())
        }
    };
    metric.score(y.view(), p, None).unwrap()
}

/// Fits one fixture case with amlis on the same train / validation rows.
fn fit_case(case: &Value) -> (GradientBoostingModel, DatasetView<'static>) {
    let data: &'static DenseDataset = Box::leak(Box::new(shipped(case["data"].as_str().unwrap())));
    let train = DatasetView::new(data, usizes(&case["train"])).unwrap();
    let val = DatasetView::new(data, usizes(&case["validation"])).unwrap();
    let prm = &case["params"];
    let scoring = case["scoring"].as_str().unwrap();
    let lr = prm["learning_rate"].as_f64().unwrap();
    let max_iter = prm["max_iter"].as_u64().unwrap() as usize;
    let ctx = FitContext::new().random_state(0);
    let model = if case["classifier"].as_bool().unwrap() {
        GradientBoostingClassifier::default()
            .learning_rate(lr)
            .max_iter(max_iter)
            .early_stopping(EarlyStopping::Enabled(true))
            .scoring(scoring)
            .fit_with_validation(&train, &val, &ctx)
    } else {
        GradientBoostingRegressor::default()
            .learning_rate(lr)
            .max_iter(max_iter)
            .early_stopping(EarlyStopping::Enabled(true))
            .scoring(scoring)
            .fit_with_validation(&train, &val, &ctx)
    }
    .unwrap();
    (model, val)
}

/// scikit-learn's `_should_stop` on the whole curve: the fit ended at the first iteration
/// where the rule fired, or at `max_iter`.
fn first_stop(scores: &[f64], n_iter_no_change: usize, tol: f64) -> Option<usize> {
    (n_iter_no_change + 1..=scores.len()).find(|&len| {
        let s = &scores[..len];
        let reference = s[len - n_iter_no_change - 1] + tol;
        s[len - n_iter_no_change..].iter().all(|&v| v <= reference)
    })
}

#[test]
fn scoring_curves_and_stopping_match_scikit_learn() {
    let fx = common::fixture("gbm_scoring_reference.json");
    let mut report = Vec::new();
    let mut failures = Vec::new();
    for case in fx["cases"].as_array().unwrap() {
        let scoring = case["scoring"].as_str().unwrap();
        let label = format!("{} {scoring}", case["data"].as_str().unwrap());
        let (model, val) = fit_case(case);
        let ours = model.validation_score();
        let theirs = floats(&case["validation_score"]);
        let sk_iter = case["n_iter"].as_u64().unwrap() as usize;

        // The curve is recorded from the baseline on, one score per iteration.
        assert_eq!(ours.len(), model.n_iter() + 1, "{label}");
        assert_eq!(model.train_score().len(), model.n_iter() + 1, "{label}");
        // The baseline model is the same (the loss's intercept): same first score.
        let scale = theirs[0].abs().max(1.0);
        assert!(
            (ours[0] - theirs[0]).abs() < 1e-9 * scale,
            "{label}: baseline score {} vs scikit-learn {}",
            ours[0],
            theirs[0]
        );
        // The patience rule ended the fit exactly where it first fires on our own curve.
        assert_eq!(
            first_stop(ours, 10, 1e-7).map_or(300, |len| len - 1),
            model.n_iter(),
            "{label}: {ours:?}"
        );
        // The last validation score is the metric of the fitted model on the validation set.
        let last = *ours.last().unwrap();
        let direct = if scoring == "loss" {
            None
        } else {
            Some(score_of(scoring, &model, &val))
        };
        if let Some(d) = direct {
            assert!(
                (last - d).abs() < 1e-9 * d.abs().max(1.0),
                "{label}: recorded {last}, recomputed {d}"
            );
        }
        // Same stopping behaviour within reason: the curves track each other over the
        // common iterations, and the best scores are close.
        let common = ours.len().min(theirs.len());
        let best = |v: &[f64]| v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let rel = (best(ours) - best(&theirs)).abs() / best(&theirs).abs().max(1.0);
        let mean_gap = (0..common)
            .map(|i| (ours[i] - theirs[i]).abs() / theirs[i].abs().max(1.0))
            .sum::<f64>()
            / common as f64;
        report.push(format!(
            "{label}: n_iter {} vs {sk_iter}, best {:.4} vs {:.4}, mean gap {mean_gap:.4}",
            model.n_iter(),
            best(ours),
            best(&theirs)
        ));
        let (a, b) = (model.n_iter() as f64, sk_iter as f64);
        if rel >= 0.03 || mean_gap >= 0.03 || (a - b).abs() > 20.0_f64.max(0.4 * b) {
            failures.push(label);
        }
    }
    eprintln!("{}", report.join("\n"));
    assert!(failures.is_empty(), "off scikit-learn: {failures:?}");
}

/// Noisy binary data: 3 informative features of 8.
fn noisy(n: usize, seed: u64) -> DenseDataset {
    use rand::Rng;
    let mut rng = amlis::rng::for_task(seed, 0);
    let x = Array2::from_shape_fn((n, 8), |_| rng.gen_range(-1.0..1.0));
    let y = Array1::from_shape_fn(n, |i| {
        let s = x[[i, 0]] + 0.5 * x[[i, 1]] - x[[i, 2]];
        f64::from(u8::from(s + rng.gen_range(-1.0..1.0) > 0.0))
    });
    DenseDataset::classification(x, y).unwrap()
}

#[test]
fn scorer_without_validation_set_scores_a_training_subsample() {
    // 12,000 rows, 10% held out => 10,800 training rows > 10,000: the train score is the
    // metric on a stratified 10,000-row subsample; with early stopping "auto" on a held-out
    // fraction, the validation curve drives the stopping.
    let data = noisy(12_000, 1);
    let events = Mutex::new(Vec::new());
    let cb = |e: &FitEvent<'_>| {
        let names: Vec<&str> = e.values.iter().map(|v| v.0).collect();
        events.lock().unwrap().push((
            names.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
            e.values.to_vec().iter().map(|v| v.1).collect::<Vec<f64>>(),
        ));
        Control::Continue
    };
    let m = GradientBoostingClassifier::default()
        .max_iter(40)
        .scoring("roc_auc")
        .fit_with(&data, &FitContext::new().random_state(0).callback(&cb))
        .unwrap();
    let ts = m.train_score();
    let vs = m.validation_score();
    assert_eq!(ts.len(), m.n_iter() + 1);
    assert_eq!(vs.len(), m.n_iter() + 1);
    // A constant model ranks nothing: AUC 0.5 at the baseline, then far better.
    assert_eq!(ts[0], 0.5);
    assert_eq!(vs[0], 0.5);
    assert!(
        ts[ts.len() - 1] > 0.85 && vs[vs.len() - 1] > 0.8,
        "{ts:?} {vs:?}"
    );
    let ev = events.lock().unwrap();
    assert_eq!(ev.len(), m.n_iter());
    for (i, (names, values)) in ev.iter().enumerate() {
        assert_eq!(
            names,
            &[
                "train_loss",
                "validation_loss",
                "train_score",
                "validation_score"
            ]
        );
        assert_eq!(values[2], ts[i + 1]);
        assert_eq!(values[3], vs[i + 1]);
        assert!(values[0] > 0.0 && values[1] > 0.0);
    }

    // Early stopping off, no validation: the train score is still recorded (subsample), and
    // the subsample is drawn from the seed only.
    let p = GradientBoostingClassifier::default()
        .max_iter(5)
        .early_stopping(EarlyStopping::Enabled(false))
        .scoring("accuracy");
    let a = p
        .fit_with(&data, &FitContext::new().random_state(2).n_threads(1))
        .unwrap();
    let b = p
        .fit_with(&data, &FitContext::new().random_state(2).n_threads(2))
        .unwrap();
    assert_eq!(a.train_score(), b.train_score());
    assert!(a.validation_score().is_empty());
    assert_eq!(a.n_iter(), 5);
    // On the subsample, not on all 12,000 rows: accuracy is a multiple of 1/10,000.
    for s in a.train_score() {
        let k = s * 10_000.0;
        assert!((k - k.round()).abs() < 1e-6, "{s}");
    }
}

#[test]
fn patience_with_a_scorer_stops_on_a_plateau() {
    // Pure noise labels: validation accuracy plateaus; the rule must fire exactly when the
    // last 10 scores do not beat the 11th-last by more than tol.
    use rand::Rng;
    let mut rng = amlis::rng::for_task(5, 0);
    let n = 3000;
    let x = Array2::from_shape_fn((n, 4), |_| rng.gen_range(0.0..1.0));
    let y = Array1::from_shape_fn(n, |_| f64::from(u8::from(rng.gen_bool(0.5))));
    let data = DenseDataset::classification(x, y).unwrap();
    let train = DatasetView::new(&data, (0..2000).collect()).unwrap();
    let val = DatasetView::new(&data, (2000..n).collect()).unwrap();
    for (scoring, tol) in [("accuracy", 0.0), ("balanced_accuracy", 0.01), ("f1", 0.0)] {
        let m = GradientBoostingClassifier::default()
            .max_iter(200)
            .n_iter_no_change(5)
            .tol(tol)
            .scoring(scoring)
            .fit_with_validation(&train, &val, &FitContext::new())
            .unwrap();
        let vs = m.validation_score();
        assert!(m.n_iter() < 200, "{scoring}: never stopped");
        assert_eq!(
            first_stop(vs, 5, tol).map(|len| len - 1),
            Some(m.n_iter()),
            "{scoring}: {vs:?}"
        );
        assert!(vs.iter().all(|v| (0.0..=1.0).contains(v)));
    }
    // A higher tol stops no later.
    let fit_tol = |tol: f64| {
        GradientBoostingClassifier::default()
            .max_iter(200)
            .tol(tol)
            .scoring("neg_log_loss")
            .fit_with_validation(&train, &val, &FitContext::new())
            .unwrap()
            .n_iter()
    };
    assert!(fit_tol(0.05) <= fit_tol(0.0));
}

#[test]
fn regression_scorers_match_the_metrics() {
    let data = amlis::datasets::diabetes().unwrap();
    let train = DatasetView::new(&data, (0..300).collect()).unwrap();
    let val = DatasetView::new(&data, (300..data.n_samples()).collect()).unwrap();
    let y = val.targets().unwrap();
    let mut finals = Vec::new();
    for scoring in [
        "r2",
        "neg_mean_squared_error",
        "neg_root_mean_squared_error",
        "neg_mean_absolute_error",
    ] {
        let m = GradientBoostingRegressor::default()
            .max_iter(30)
            .early_stopping(EarlyStopping::Enabled(false))
            .scoring(scoring)
            .fit_with_validation(&train, &val, &FitContext::new())
            .unwrap();
        let pred = m.predict(val.features().view()).unwrap();
        let expected = match scoring {
            "r2" => amlis::metrics::r2_score(y.view(), pred.view(), None, true).unwrap(),
            "neg_mean_squared_error" => {
                -amlis::metrics::mean_squared_error(y.view(), pred.view(), None).unwrap()
            }
            "neg_root_mean_squared_error" => {
                -amlis::metrics::root_mean_squared_error(y.view(), pred.view(), None).unwrap()
            }
            _ => -amlis::metrics::mean_absolute_error(y.view(), pred.view(), None).unwrap(),
        };
        let last = *m.validation_score().last().unwrap();
        assert!(
            (last - expected).abs() < 1e-9 * expected.abs().max(1.0),
            "{scoring}"
        );
        finals.push(last);
    }
    // Same trees whatever the scoring (it only observes): RMSE^2 == MSE.
    assert!((finals[2] * finals[2] + finals[1]).abs() < 1e-6 * finals[1].abs());
    // A hand-checked baseline: the intercept is the training mean, so r2 on the validation
    // set is 1 - SS(y - mean_train) / SS(y - mean_val).
    let mt = train.targets().unwrap().mean().unwrap();
    let mv = y.mean().unwrap();
    let r2_0 = 1.0
        - y.iter().map(|v| (v - mt).powi(2)).sum::<f64>()
            / y.iter().map(|v| (v - mv).powi(2)).sum::<f64>();
    let m = GradientBoostingRegressor::default()
        .max_iter(1)
        .early_stopping(EarlyStopping::Enabled(false))
        .scoring("r2")
        .fit_with_validation(&train, &val, &FitContext::new())
        .unwrap();
    assert!((m.validation_score()[0] - r2_0).abs() < 1e-12);
    let _ = ArrayView1::from(&[0.0][..]);
}

#[test]
fn scoring_names_are_checked_at_fit_start() {
    let data = amlis::datasets::iris().unwrap();
    let fit = |s: &str| {
        GradientBoostingClassifier::default()
            .max_iter(2)
            .scoring(s)
            .fit(&data)
    };
    for bad in ["r2", "roc_auc", "f1", "mean_squared_error", "accuracyy", ""] {
        let e = fit(bad).unwrap_err().to_string();
        assert!(e.contains("scoring"), "{bad}: {e}");
        assert!(
            e.contains("\"accuracy\"") && e.contains("\"loss\""),
            "{bad}: {e}"
        );
        assert!(!e.contains("\"r2\""), "{bad}: {e}");
    }
    for good in [
        "loss",
        "accuracy",
        "roc_auc_ovr",
        "neg_log_loss",
        "f1_macro",
    ] {
        assert!(fit(good).is_ok(), "{good}");
    }
    let reg = amlis::datasets::diabetes().unwrap();
    let e = GradientBoostingRegressor::default()
        .scoring("accuracy")
        .fit(&reg)
        .unwrap_err()
        .to_string();
    assert!(e.contains("scoring") && e.contains("\"r2\""), "{e}");
    assert!(!e.contains("\"accuracy\""), "{e}");
    // Config names reach the same field.
    let p: GradientBoostingClassifier =
        serde_json::from_str(r#"{"scoring": "balanced_accuracy", "tol": 0.001}"#).unwrap();
    assert_eq!(p.scoring, "balanced_accuracy");
}
