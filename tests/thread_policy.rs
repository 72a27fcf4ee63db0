//! The one thread policy: a pipeline trained with `"n_threads": 1` predicts on the calling
//! thread only, down through its model, for every registered model type and every output
//! kind it has. Proved with a one-thread global rayon pool whose only thread is blocked: any
//! work handed to that pool would never run, so a prediction that finishes did not use it.
//!
//! (This file is its own test binary because it configures the global pool.)

mod common;

use std::sync::mpsc;
use std::time::Duration;

use amlis::config::TrainConfig;
use amlis::data::Table;
use amlis::models::ModelConfig;
use amlis::pipeline::Pipeline;
use amlis::traits::FitContext;
use ndarray::Array2;
use serde_json::json;

const ROWS: usize = 1000;

/// Raw rows in input order, repeated to `ROWS` rows (several blocks for every model).
fn rows(p: &Pipeline, table: &Table) -> Array2<f64> {
    let x = common::raw_rows(p, table);
    let reps = ROWS.div_ceil(x.nrows());
    let tiled = ndarray::concatenate(ndarray::Axis(0), &vec![x.view(); reps]).unwrap();
    tiled.slice(ndarray::s![..ROWS, ..]).to_owned()
}

#[test]
fn one_thread_models_predict_on_the_calling_thread_while_the_global_pool_is_blocked() {
    rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build_global()
        .expect("this test binary sets the global pool once");
    let steps = json!([{"type": "simple_imputer", "strategy": "most_frequent"},
                       {"type": "one_hot_encoder", "handle_unknown": "ignore"},
                       {"type": "standard_scaler"}]);
    // Fit every registered type first (fitting may use the pool).
    let mut cases = Vec::new();
    for &kind in ModelConfig::type_names() {
        let model = ModelConfig::from_json_parts(kind, json!({})).unwrap();
        let mut params = json!({"type": kind});
        if kind.contains("forest") || kind.contains("extra_trees") {
            params["n_estimators"] = json!(8);
        }
        if kind == "local_outlier_factor" {
            params["novelty"] = json!(true);
        }
        if !common::auto_small(kind).is_empty() {
            let small: serde_json::Value =
                serde_json::from_str(&format!("{{{}}}", &common::auto_small(kind)[1..])).unwrap();
            for (k, v) in small.as_object().unwrap() {
                params[k] = v.clone();
            }
        }
        let steps: serde_json::Value =
            serde_json::from_str(&common::prep_for(kind, &steps.to_string())).unwrap();
        let config = TrainConfig::from_value(json!({
            "model": params, "preprocess": steps, "n_threads": 1, "random_state": 3
        }))
        .unwrap();
        let (table, target) = common::penguins_for_type(kind, model.estimator());
        let p = Pipeline::fit(&config, &table, target, &FitContext::new()).unwrap();
        let x = rows(&p, &table);
        cases.push((kind, p, x));
    }

    // Block the global pool's only thread until the predictions are done.
    let (started_tx, started_rx) = mpsc::channel();
    let (release_tx, release_rx) = mpsc::channel::<()>();
    rayon::spawn(move || {
        started_tx.send(()).unwrap();
        let _ = release_rx.recv();
    });
    started_rx.recv().unwrap();

    let (done_tx, done_rx) = mpsc::channel();
    std::thread::spawn(move || {
        for (kind, p, x) in &cases {
            for output in p.outputs() {
                let width = p.output_width(output).unwrap();
                let mut out = vec![0.0; x.nrows() * width];
                p.predict_rows_into(output, x.view(), &mut out).unwrap();
                done_tx.send(format!("{kind} {output:?}")).unwrap();
            }
            assert!(!p.outputs().is_empty());
        }
        done_tx.send("all".into()).unwrap();
    });
    let mut finished = Vec::new();
    loop {
        match done_rx.recv_timeout(Duration::from_secs(60)) {
            Ok(s) if s == "all" => break,
            Ok(s) => finished.push(s),
            Err(e) => panic!(
                "a prediction waited on the blocked global pool ({e}); finished so far: {finished:?}"
            ),
        }
    }
    release_tx.send(()).unwrap();
    assert!(finished.len() >= ModelConfig::type_names().len());
}
