//! Mini-batch k-means against scikit-learn (tests/fixtures/mini_batch_sklearn.json, made by
//! tests/fixtures/mini_batch_generate.py): `partial_fit` over the same chunks from the same
//! explicit centres (no reassignment: nothing random) gives scikit-learn's centres to 1e-10,
//! with and without sample weights; `fit` with its own seeds reaches scikit-learn's mean
//! inertia within 3% on iris, standardized wine, a digits subsample and blobs. Plus: the
//! same seed gives the same model on 1 and 3 threads, and the learner streams through
//! `AnyLearner`.

mod common;

use amlis::data::DenseDataset;
use amlis::models::cluster::{KMeansInit, MiniBatchKMeans};
use amlis::models::stream::AnyLearner;
use amlis::models::ModelConfig;
use amlis::traits::{Dataset, FitContext, Incremental, StreamSpec, Trainer};
use ndarray::{Array1, Array2};
use serde_json::Value;

/// The case's rows as the script made them.
fn load(case: &Value) -> Array2<f64> {
    if let Some(rows) = case.get("x") {
        let rows = rows.as_array().unwrap();
        let p = rows[0].as_array().unwrap().len();
        let flat: Vec<f64> = rows.iter().flat_map(common::floats).collect();
        return Array2::from_shape_vec((rows.len(), p), flat).unwrap();
    }
    let mut x = common::fixture_features(case).features().to_owned();
    if case["standardize"].as_bool().unwrap() {
        let n = x.nrows() as f64;
        for mut col in x.columns_mut() {
            let mean = col.sum() / n;
            let std = (col.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n).sqrt();
            col.mapv_inplace(|v| (v - mean) / std);
        }
    }
    let step = case["step"].as_u64().unwrap() as usize;
    let rows: Vec<usize> = (0..x.nrows()).step_by(step).collect();
    x.select(ndarray::Axis(0), &rows)
}

fn spec(p: usize) -> StreamSpec {
    StreamSpec {
        n_features: p,
        classes: vec![],
    }
}

#[test]
fn partial_fit_gives_scikit_learns_centres() {
    let fixture = common::fixture("mini_batch_sklearn.json");
    for case in fixture["cases"].as_array().unwrap() {
        let x = load(case);
        let n = x.nrows();
        let k = case["n_clusters"].as_u64().unwrap() as usize;
        let chunk = case["chunk_size"].as_u64().unwrap() as usize;
        let init: Vec<Vec<f64>> = common::usizes(&case["init_rows"])
            .iter()
            .map(|&i| x.row(i).to_vec())
            .collect();
        for weighted in [false, true] {
            let mut data = DenseDataset::unsupervised(x.clone()).unwrap();
            if weighted {
                data = data
                    .with_weights(Array1::from_shape_fn(n, |i| 1.0 + (i % 3) as f64))
                    .unwrap();
            }
            let mut learner = MiniBatchKMeans::default()
                .n_clusters(k)
                .init(KMeansInit::Centers(init.clone()))
                .reassignment_ratio(0.0)
                .batch_size(case["batch_size"].as_u64().unwrap() as usize)
                .start(&spec(x.ncols()), &FitContext::new())
                .unwrap();
            for s in (0..n).step_by(chunk) {
                let rows: Vec<usize> = (s..(s + chunk).min(n)).collect();
                learner.partial_fit(&data.view(rows).unwrap()).unwrap();
            }
            let model = learner.model().unwrap();
            let want = &case[if weighted {
                "partial_fit_weighted"
            } else {
                "partial_fit"
            }];
            let mut worst: f64 = 0.0;
            for (c, w) in model
                .cluster_centers
                .iter()
                .zip(want["centers"].as_array().unwrap())
            {
                for (a, b) in c.iter().zip(common::floats(w)) {
                    worst = worst.max((a - b).abs() / (1.0 + b.abs()));
                }
            }
            let inertia = want["inertia"].as_f64().unwrap();
            println!(
                "{} weighted={weighted}: centres within {worst:.1e}",
                case["file"]
            );
            assert!(
                worst <= 1e-10,
                "{} weighted={weighted}: {worst}",
                case["file"]
            );
            assert!((model.inertia - inertia).abs() <= 1e-9 * inertia);
        }
    }
}

#[test]
fn fit_inertia_close_to_scikit_learns() {
    let fixture = common::fixture("mini_batch_sklearn.json");
    for case in fixture["cases"].as_array().unwrap() {
        let x = load(case);
        let data = DenseDataset::unsupervised(x).unwrap();
        let k = case["n_clusters"].as_u64().unwrap() as usize;
        let batch = case["batch_size"].as_u64().unwrap() as usize;
        let ours: f64 = (0..5)
            .map(|seed| {
                MiniBatchKMeans::default()
                    .n_clusters(k)
                    .batch_size(batch)
                    .random_state(seed)
                    .fit(&data)
                    .unwrap()
                    .inertia
            })
            .sum::<f64>()
            / 5.0;
        let theirs = case["fit"]["mean_inertia"].as_f64().unwrap();
        let rel = (ours - theirs) / theirs;
        println!(
            "{}: mean inertia amlis {ours:.4} scikit-learn {theirs:.4} ({:+.2}%)",
            case["file"],
            100.0 * rel
        );
        assert!(rel.abs() <= 0.03, "{}: {ours} vs {theirs}", case["file"]);
    }
}

#[test]
fn same_seed_same_model_on_one_and_three_threads_and_streams_through_any_learner() {
    let fixture = common::fixture("mini_batch_sklearn.json");
    let x = load(&fixture["cases"][3]);
    let data = DenseDataset::unsupervised(x.clone()).unwrap();
    let trainer = MiniBatchKMeans::default()
        .n_clusters(5)
        .batch_size(64)
        .n_init(amlis::models::cluster::NInit::Count(2));
    let fit = |t: usize| {
        trainer
            .fit_with(&data, &FitContext::new().random_state(4).n_threads(t))
            .unwrap()
    };
    assert_eq!(fit(1), fit(3));
    let config: ModelConfig = serde_json::from_value(serde_json::json!({
        "type": "mini_batch_k_means", "n_clusters": 5, "random_state": 1
    }))
    .unwrap();
    let mut learner = AnyLearner::start(&config, &spec(x.ncols()), &FitContext::new()).unwrap();
    for s in (0..x.nrows()).step_by(100) {
        learner
            .partial_fit(&data.view((s..s + 100).collect()).unwrap())
            .unwrap();
    }
    let model = learner.model().unwrap();
    assert_eq!(model.type_name(), "mini_batch_k_means");
    let mut labels = vec![0.0; x.nrows()];
    amlis::traits::Predictor::predict_into(model.as_predictor(), x.view(), &mut labels).unwrap();
    assert!(labels.iter().all(|&l| (0.0..5.0).contains(&l)));
}
