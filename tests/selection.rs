//! Cross-validation and searches against scikit-learn fixtures
//! (tests/fixtures/selection_generate.py), plus determinism, progress and bad input.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use amlis::config::TrainConfig;
use amlis::data::{KFold, StratifiedKFold, Table};
use amlis::model::{Estimator, ModelConfig};
use amlis::selection::*;
use amlis::traits::{Control, FitContext, FitEvent};
use amlis::Error;
use serde_json::{json, Value};

fn fixture() -> Value {
    let text = std::fs::read_to_string("tests/fixtures/selection_sklearn.json").unwrap();
    serde_json::from_str(&text).unwrap()
}

fn num(v: &Value) -> f64 {
    v.as_str().unwrap().parse().unwrap()
}

fn nums(v: &Value) -> Vec<f64> {
    v.as_array().unwrap().iter().map(num).collect()
}

fn close(a: f64, b: f64, what: &str) {
    assert!(
        (a - b).abs() <= 1e-12 * b.abs().max(1.0),
        "{what}: amlis {a} vs scikit-learn {b}"
    );
}

fn table(name: &str) -> Table {
    match name {
        "iris" => amlis::datasets::iris_table(),
        "breast_cancer" => amlis::datasets::breast_cancer_table(),
        "diabetes" => amlis::datasets::diabetes_table(),
        "penguins" => amlis::datasets::penguins_table(),
        other => panic!("{other}"),
    }
    .unwrap()
}

#[test]
fn cross_validate_matches_scikit_learn() {
    let fx = fixture();
    for case in fx["cross_validate"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let t = table(case["data"].as_str().unwrap());
        let config = TrainConfig::from_value(case["config"].clone()).unwrap();
        let data = TableData::new(
            &t,
            case["target"].as_str().unwrap(),
            config.model.estimator(),
        )
        .unwrap();
        let metrics: Vec<&String> = case["metrics"].as_object().unwrap().keys().collect();
        let k = case["n_splits"].as_u64().unwrap() as usize;
        let opts = CvOptions::metrics(&metrics).train_scores(true);
        let cv = cross_validate(&data, &config, &KFold::new(k), &opts, &FitContext::new())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(cv.n_splits(), k);
        for (m, expected) in case["metrics"].as_object().unwrap() {
            let got = cv.metric(m).unwrap();
            let folds = nums(&expected["folds"]);
            assert_eq!(got.folds.len(), folds.len());
            for (i, (a, b)) in got.folds.iter().zip(&folds).enumerate() {
                close(*a, *b, &format!("{name} {m} fold {i}"));
            }
            for (a, b) in got
                .train
                .as_ref()
                .unwrap()
                .iter()
                .zip(nums(&expected["train"]))
            {
                close(*a, b, &format!("{name} {m} train"));
            }
            close(
                got.mean,
                num(&expected["mean"]),
                &format!("{name} {m} mean"),
            );
            close(got.std, num(&expected["std"]), &format!("{name} {m} std"));
        }
    }
}

#[test]
fn grid_search_matches_scikit_learn() {
    let fx = fixture();
    for case in fx["grid_search"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let t = table(case["data"].as_str().unwrap());
        let base = TrainConfig::from_value(case["config"].clone()).unwrap();
        let grid = ParamGrid::from_json(&case["grids"].to_string()).unwrap();
        let metrics: Vec<String> = case["metrics"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m.as_str().unwrap().to_string())
            .collect();
        let refit = case["refit"].as_str().unwrap();
        let search = GridSearch::new(grid, SearchOptions::metrics(&metrics).refit_metric(refit));
        let k = case["n_splits"].as_u64().unwrap() as usize;
        let r = search
            .fit(
                &base,
                &t,
                case["target"].as_str().unwrap(),
                &KFold::new(k),
                &FitContext::new(),
            )
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let params = case["params"].as_array().unwrap();
        assert_eq!(r.candidates.len(), params.len(), "{name}");
        for (c, p) in r.candidates.iter().zip(params) {
            assert_eq!(serde_json::to_value(&c.params).unwrap(), *p, "{name}");
        }
        for (j, m) in metrics.iter().enumerate() {
            let exp = &case["scores"][m];
            let (means, stds) = (nums(&exp["mean"]), nums(&exp["std"]));
            for (i, c) in r.candidates.iter().enumerate() {
                close(c.scores[j].mean, means[i], &format!("{name} {m} mean #{i}"));
                close(c.scores[j].std, stds[i], &format!("{name} {m} std #{i}"));
                assert_eq!(
                    c.scores[j].rank as u64,
                    exp["rank"][i].as_u64().unwrap(),
                    "{name} {m} rank #{i}"
                );
            }
        }
        assert_eq!(
            r.best_index as u64,
            case["best_index"].as_u64().unwrap(),
            "{name}"
        );
        close(r.best_score, num(&case["best_score"]), name);
        assert_eq!(r.refit_metric, refit);
        let best = r.best_pipeline.as_ref().unwrap();
        assert_eq!(
            serde_json::to_value(&best.meta().config).unwrap()["model"]["strategy"],
            r.best_params["model.strategy"]
        );
        assert!(r.to_string().contains("rank"));
    }
}

#[test]
fn dataset_and_table_paths_agree() {
    // The same model through a plain dataset (ModelConfig) and through a pipeline.
    let data = amlis::datasets::diabetes().unwrap();
    let model: ModelConfig =
        serde_json::from_value(json!({"type": "dummy_regressor", "strategy": "median"})).unwrap();
    let opts = CvOptions::metrics(&["r2", "neg_mean_absolute_error"]);
    let a = cross_validate(&data, &model, &KFold::new(5), &opts, &FitContext::new()).unwrap();
    let t = amlis::datasets::diabetes_table().unwrap();
    let td = TableData::new(&t, "progression", Estimator::Regressor).unwrap();
    let config = TrainConfig::new(model);
    let b = cross_validate(&td, &config, &KFold::new(5), &opts, &FitContext::new()).unwrap();
    assert_eq!(a.metrics.len(), 2);
    for (x, y) in a.metrics.iter().zip(&b.metrics) {
        assert_eq!(x.folds, y.folds);
    }
}

#[test]
fn results_do_not_depend_on_the_thread_count() {
    let t = amlis::datasets::penguins_table().unwrap();
    let base = TrainConfig::from_json(
        r#"{"model": {"type": "dummy_classifier"},
            "preprocess": [{"type": "simple_imputer"}, {"type": "one_hot_encoder"}]}"#,
    )
    .unwrap();
    let grid =
        ParamGrid::from_json(r#"{"model.strategy": ["stratified", "uniform", "prior"]}"#).unwrap();
    let search = GridSearch::new(grid, SearchOptions::metrics(&["accuracy", "f1_macro"]));
    let splitter = StratifiedKFold::new(5).shuffle(3);
    let run = |threads| {
        let ctx = FitContext::new().random_state(11).n_threads(threads);
        search.fit(&base, &t, "species", &splitter, &ctx).unwrap()
    };
    let (one, three) = (run(1), run(3));
    for (a, b) in one.candidates.iter().zip(&three.candidates) {
        assert_eq!(a.scores, b.scores);
    }
    assert_eq!(one.best_index, three.best_index);
}

#[test]
fn progress_reports_candidates_done_in_order() {
    let t = amlis::datasets::iris_table().unwrap();
    let base = TrainConfig::from_json(r#"{"model": {"type": "dummy_classifier"}}"#).unwrap();
    let grid = ParamGrid::from_json(
        r#"{"model.strategy": ["most_frequent", "prior", "uniform", "stratified"]}"#,
    )
    .unwrap();
    let seen = Mutex::new(Vec::new());
    let other = AtomicUsize::new(0);
    let cb = |e: &FitEvent<'_>| {
        if e.stage == "search" {
            seen.lock().unwrap().push((e.iteration, e.total));
        } else {
            other.fetch_add(1, Ordering::Relaxed);
        }
        Control::Continue
    };
    let ctx = FitContext::new().callback(&cb);
    GridSearch::new(grid, SearchOptions::default().refit(false))
        .fit(&base, &t, "species", &KFold::new(3), &ctx)
        .unwrap();
    let seen = seen.into_inner().unwrap();
    assert_eq!(seen, (1..=4).map(|i| (i, Some(4))).collect::<Vec<_>>());
}

#[test]
fn random_search_is_seeded_and_draws_in_range() {
    let t = amlis::datasets::diabetes_table().unwrap();
    let base =
        TrainConfig::from_json(r#"{"model": {"type": "dummy_regressor", "strategy": "quantile"}}"#)
            .unwrap();
    let d = ParamDistributions::new().param(
        "model.quantile",
        Distribution::Uniform {
            low: 0.2,
            high: 0.8,
        },
    );
    let s = RandomSearch::new(d, 6, SearchOptions::metrics(&["neg_mean_absolute_error"]))
        .random_state(5);
    let a = s
        .fit(&base, &t, "progression", &KFold::new(3), &FitContext::new())
        .unwrap();
    let b = s
        .fit(&base, &t, "progression", &KFold::new(3), &FitContext::new())
        .unwrap();
    assert_eq!(a.candidates.len(), 6);
    for (x, y) in a.candidates.iter().zip(&b.candidates) {
        assert_eq!(x.params, y.params);
        assert_eq!(x.scores, y.scores);
        let q = x.params["model.quantile"].as_f64().unwrap();
        assert!((0.2..0.8).contains(&q));
    }
    // The best is the candidate of rank 1, and its score is the best mean.
    let best = &a.candidates[a.best_index];
    assert_eq!(best.scores[0].rank, 1);
    assert!(a
        .candidates
        .iter()
        .all(|c| c.scores[0].mean <= a.best_score));
    // An invalid distribution names its path.
    let bad = ParamDistributions::new().param(
        "model.quantile",
        Distribution::Uniform {
            low: 1.0,
            high: 0.0,
        },
    );
    let e = RandomSearch::new(bad, 2, SearchOptions::default())
        .fit(&base, &t, "progression", &KFold::new(3), &FitContext::new())
        .unwrap_err();
    assert!(e.to_string().contains("model.quantile"), "{e}");
}

#[test]
fn halving_keeps_the_best_third_each_iteration() {
    let t = amlis::datasets::breast_cancer_table().unwrap();
    let base = TrainConfig::from_json(r#"{"model": {"type": "dummy_classifier"}}"#).unwrap();
    let grid = ParamGrid::from_json(
        r#"[{"model.strategy": ["constant"], "model.constant": ["benign", "malignant"]},
            {"model.strategy": ["most_frequent", "prior", "uniform", "stratified"]}]"#,
    )
    .unwrap();
    let search = HalvingSearch::new(
        grid.candidates().unwrap(),
        SearchOptions::metrics(&["accuracy"]),
    )
    .min_resources(MinResources::Smallest);
    // 569 rows, 5 folds, 2 classes: smallest = 20; required = 1 + floor(log3 6) = 2 iterations.
    assert_eq!(
        search.schedule(569, 5, 2).unwrap(),
        Schedule {
            n_resources: vec![20, 60],
            n_candidates: vec![6, 2]
        }
    );
    let r = search
        .fit(&base, &t, "diagnosis", &KFold::new(5), &FitContext::new())
        .unwrap();
    let first: Vec<_> = r.candidates.iter().filter(|c| c.iteration == 0).collect();
    let second: Vec<_> = r.candidates.iter().filter(|c| c.iteration == 1).collect();
    assert_eq!((first.len(), second.len()), (6, 2));
    assert!(second.iter().all(|c| c.n_resources == 60));
    // The survivors are the two best of the first iteration.
    let mut means: Vec<f64> = first.iter().map(|c| c.scores[0].mean).collect();
    means.sort_by(f64::total_cmp);
    for c in &second {
        let m = first.iter().find(|f| f.params == c.params).unwrap().scores[0].mean;
        assert!(m >= means[4], "{m} vs {means:?}");
    }
    // The best is the best of the last iteration.
    assert!(r.best_index >= 6);
    assert!(r.best_pipeline.is_some());
}

#[test]
fn bad_input_is_an_error_before_fitting() {
    let t = amlis::datasets::diabetes_table().unwrap();
    let config = TrainConfig::from_json(r#"{"model": {"type": "dummy_regressor"}}"#).unwrap();
    let data = TableData::new(&t, "progression", Estimator::Regressor).unwrap();
    let fits = AtomicUsize::new(0);
    let cb = |_: &FitEvent<'_>| {
        fits.fetch_add(1, Ordering::Relaxed);
        Control::Continue
    };
    let ctx = FitContext::new().callback(&cb);
    let e = cross_validate(
        &data,
        &config,
        &KFold::new(5),
        &CvOptions::metrics(&["roc_auc"]),
        &ctx,
    )
    .unwrap_err();
    assert!(
        e.to_string().contains("roc_auc") && e.to_string().contains("regression"),
        "{e}"
    );
    let e = cross_validate(
        &data,
        &config,
        &KFold::new(5),
        &CvOptions::metrics(&["r3"]),
        &ctx,
    )
    .unwrap_err();
    assert!(e.to_string().contains("unknown metric `r3`"), "{e}");

    let base = TrainConfig::from_json(
        r#"{"model": {"type": "dummy_regressor"}, "preprocess": [{"type": "standard_scaler"}]}"#,
    )
    .unwrap();
    for (path, key) in [
        ("preprocess.5.strategy", "preprocess.5.strategy"),
        ("model.C", "model.C"),
        ("preprocess.0.with_mena", "preprocess.0.with_mena"),
    ] {
        let grid = ParamGrid::new().param(path, vec![json!(1.0)]);
        let e = GridSearch::new(grid, SearchOptions::default())
            .fit(&base, &t, "progression", &KFold::new(3), &ctx)
            .unwrap_err();
        match e {
            Error::Config { key: k, .. } => assert_eq!(k, key),
            other => panic!("{path}: {other}"),
        }
    }
    let e = GridSearch::new(
        ParamGrid::new().param("model.strategy", vec![json!("mean")]),
        SearchOptions::metrics(&["r2"]).refit_metric("accuracy"),
    )
    .fit(&base, &t, "progression", &KFold::new(3), &ctx)
    .unwrap_err();
    assert!(e.to_string().contains("refit metric `accuracy`"), "{e}");
    assert_eq!(fits.load(Ordering::Relaxed), 0);
}

#[test]
fn cross_validate_json_report() {
    let t = amlis::datasets::breast_cancer_table().unwrap();
    let config = r#"{"model": {"type": "dummy_classifier", "strategy": "prior"},
                     "preprocess": [{"type": "standard_scaler"}]}"#;
    let report = cross_validate_json(
        &t,
        "diagnosis",
        config,
        r#"{"n_splits": 5, "metrics": ["roc_auc", "accuracy", "neg_log_loss"]}"#,
    )
    .unwrap();
    let v: Value = serde_json::from_str(&report).unwrap();
    assert_eq!(v["n_splits"], 5);
    assert_eq!(v["fit_time"]["folds"].as_array().unwrap().len(), 5);
    let fx = fixture();
    let case = &fx["cross_validate"][1];
    assert_eq!(case["name"], "breast_cancer_prior");
    for m in ["roc_auc", "accuracy", "neg_log_loss"] {
        let got: Vec<f64> = v["metrics"][m]["folds"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap())
            .collect();
        for (a, b) in got.iter().zip(nums(&case["metrics"][m]["folds"])) {
            close(*a, b, m);
        }
        close(
            v["metrics"][m]["mean"].as_f64().unwrap(),
            num(&case["metrics"][m]["mean"]),
            m,
        );
    }
    // Defaults: 5 unshuffled folds, the task's default scorer.
    let v: Value =
        serde_json::from_str(&cross_validate_json(&t, "diagnosis", config, "{}").unwrap()).unwrap();
    assert_eq!(
        v["metrics"].as_object().unwrap().keys().collect::<Vec<_>>(),
        vec!["accuracy"]
    );
    close(
        v["metrics"]["accuracy"]["mean"].as_f64().unwrap(),
        num(&case["metrics"]["accuracy"]["mean"]),
        "default accuracy",
    );
    // Stratified + shuffled runs; unknown keys are named.
    assert!(cross_validate_json(
        &t,
        "diagnosis",
        config,
        r#"{"stratified": true, "shuffle": true, "random_state": 3}"#
    )
    .is_ok());
    match cross_validate_json(&t, "diagnosis", config, r#"{"folds": 3}"#).unwrap_err() {
        Error::Config { key, .. } => assert_eq!(key, "folds"),
        e => panic!("{e}"),
    }
}
