//! k-means against scikit-learn (tests/fixtures/cluster_sklearn.json, made by
//! tests/fixtures/cluster_generate.py): the same labels, inertia and iterations from the same
//! explicit initial centres (Lloyd and Elkan); k-means++ with ten runs as good as scikit-learn's. Plus: the
//! same seed gives the same model on 1 and 3 threads, the transform row path equals the
//! batch bit for bit, empty clusters are relocated, and a table without target trains
//! through the pipeline.

mod common;

use amlis::config::TrainConfig;
use amlis::data::DenseDataset;
use amlis::models::cluster::{KMeans, KMeansInit, KMeansModel, NInit};
use amlis::models::{Estimator, PredictKind};
use amlis::pipeline::Pipeline;
use amlis::traits::{Dataset, FitContext, Predictor, Trainer, TransformPredictor};
use ndarray::{Array1, Array2};
use serde_json::Value;

/// The case's data set as the script made it (features only; standardized as
/// `(x - mean) / std` when asked) and its weights.
fn load(case: &Value) -> (Array2<f64>, Option<Array1<f64>>) {
    let data = common::fixture_features(case);
    let mut x = data.features().to_owned();
    if case["standardize"].as_bool().unwrap() {
        let n = x.nrows() as f64;
        for mut col in x.columns_mut() {
            let mean = col.sum() / n;
            let std = (col.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n).sqrt();
            col.mapv_inplace(|v| (v - mean) / std);
        }
    }
    let w = case["weighted"]
        .as_bool()
        .unwrap()
        .then(|| Array1::from_shape_fn(x.nrows(), |i| 1.0 + (i % 3) as f64));
    (x, w)
}

fn dataset(x: Array2<f64>, w: Option<Array1<f64>>) -> DenseDataset {
    let d = DenseDataset::unsupervised(x).unwrap();
    match w {
        Some(w) => d.with_weights(w).unwrap(),
        None => d,
    }
}

fn labels(model: &KMeansModel, x: &Array2<f64>) -> Vec<usize> {
    let mut out = vec![0.0; x.nrows()];
    model.predict_into(x.view(), &mut out).unwrap();
    out.iter().map(|&v| v as usize).collect()
}

#[test]
fn same_start_same_clusters_as_scikit_learn() {
    let fixture = common::fixture("cluster_sklearn.json");
    let cases = fixture["cases"].as_array().unwrap();
    assert!(cases.len() >= 10);
    for case in cases {
        let (x, w) = load(case);
        let k = case["n_clusters"].as_u64().unwrap() as usize;
        let rows = common::usizes(&case["init_rows"]);
        let init: Vec<Vec<f64>> = rows.iter().map(|&i| x.row(i).to_vec()).collect();
        let data = dataset(x.clone(), w);
        for algorithm in ["lloyd", "elkan"] {
            let model = KMeans::default()
                .n_clusters(k)
                .init(KMeansInit::Centers(init.clone()))
                .algorithm(algorithm.into())
                .fit(&data)
                .unwrap();
            let want = match algorithm {
                "lloyd" => &case["explicit"],
                _ => &case["explicit_elkan"],
            };
            let what = format!(
                "{} k={k} weighted={} {algorithm}",
                case["file"], case["weighted"]
            );
            let inertia = want["inertia"].as_f64().unwrap();
            let rel = (model.inertia - inertia).abs() / inertia;
            eprintln!(
                "{what}: inertia {} vs {inertia} (rel {rel:.2e}), n_iter {} vs {}",
                model.inertia, model.n_iter, want["n_iter"]
            );
            assert!(
                rel <= 1e-10,
                "{what}: inertia {} vs {inertia}",
                model.inertia
            );
            assert_eq!(
                model.n_iter as u64,
                want["n_iter"].as_u64().unwrap(),
                "{what}"
            );
            assert_eq!(
                labels(&model, &x),
                common::usizes(&want["labels"]),
                "{what}"
            );
            for (ours, theirs) in model
                .cluster_centers
                .iter()
                .zip(want["cluster_centers"].as_array().unwrap())
            {
                for (a, b) in ours.iter().zip(common::floats(theirs)) {
                    assert!(
                        (a - b).abs() <= 1e-9 * (1.0 + b.abs()),
                        "{what}: {a} vs {b}"
                    );
                }
            }
        }
    }
}

#[test]
fn k_means_plus_plus_is_as_good_as_scikit_learn() {
    let fixture = common::fixture("cluster_sklearn.json");
    for case in fixture["cases"].as_array().unwrap() {
        let (x, w) = load(case);
        let k = case["n_clusters"].as_u64().unwrap() as usize;
        let data = dataset(x, w);
        let what = format!("{} k={k} weighted={}", case["file"], case["weighted"]);
        let plus = case["plusplus"].as_array().unwrap();
        let theirs: Vec<f64> = plus
            .iter()
            .map(|p| p["best_inertia_n_init_10"].as_f64().unwrap())
            .collect();
        let their_best = theirs.iter().copied().fold(f64::INFINITY, f64::min);
        let their_worst = theirs.iter().copied().fold(0.0, f64::max);
        let mut ours = Vec::new();
        for seed in 0..3u64 {
            let m = KMeans::default()
                .n_clusters(k)
                .n_init(NInit::Count(10))
                .random_state(seed)
                .fit(&data)
                .unwrap();
            ours.push(m.inertia);
            // One run ("auto") is a valid clustering, no better than the best of ten.
            let one = KMeans::default()
                .n_clusters(k)
                .random_state(seed)
                .fit(&data)
                .unwrap();
            assert!(one.inertia >= m.inertia * (1.0 - 1e-12), "{what}");
        }
        let our_best = ours.iter().copied().fold(f64::INFINITY, f64::min);
        eprintln!("{what}: ours (n_init=10, seeds 0..3) {ours:?}; scikit-learn {theirs:?}");
        // The best over three seeds is within 0.1% of scikit-learn's best over its three
        // seeds. A single seed's best of ten varies as scikit-learn's does (wine, k = 6:
        // scikit-learn's three seeds span 0.9%), so each seed is only held to within 1% of
        // scikit-learn's worst seed.
        for o in &ours {
            assert!(*o <= their_worst * 1.01, "{what}: {o} vs {theirs:?}");
        }
        assert!(
            our_best <= their_best * 1.001,
            "{what}: {ours:?} vs {theirs:?}"
        );
    }
}

fn blobs() -> Array2<f64> {
    Array2::from_shape_fn((3000, 5), |(i, j)| {
        let c = (i % 4) as f64 * 3.0;
        c + ((i * 7919 + j * 104_729) % 1000) as f64 / 500.0 + j as f64 * 0.1
    })
}

#[test]
fn same_seed_same_model_on_one_and_three_threads() {
    let data = DenseDataset::unsupervised(blobs()).unwrap();
    for (init, algorithm) in [
        ("k-means++", "lloyd"),
        ("random", "lloyd"),
        ("k-means++", "elkan"),
    ] {
        let km = KMeans::default()
            .n_clusters(6)
            .algorithm(algorithm.into())
            .init(KMeansInit::Method(init.into()));
        let one = km
            .fit_with(&data, &FitContext::new().random_state(5).n_threads(1))
            .unwrap();
        let three = km
            .fit_with(&data, &FitContext::new().random_state(5).n_threads(3))
            .unwrap();
        assert_eq!(one, three, "{init}");
        assert_eq!(one.inertia.to_bits(), three.inertia.to_bits());
        let other = km
            .fit_with(&data, &FitContext::new().random_state(6).n_threads(3))
            .unwrap();
        let mut l1 = vec![0.0; 3000];
        one.predict_into(data.features().view(), &mut l1).unwrap();
        assert!(other.inertia > 0.0 && l1.iter().all(|&l| l < 6.0));
    }
}

#[test]
fn transform_row_path_equals_the_batch_bit_for_bit() {
    let x = blobs();
    let data = DenseDataset::unsupervised(x.clone()).unwrap();
    let m = KMeans::default().n_clusters(4).fit(&data).unwrap();
    let k = m.n_outputs();
    assert_eq!(k, 4);
    let mut batch = vec![0.0; x.nrows() * k];
    m.transform_into(x.view(), &mut batch).unwrap();
    let mut labels = vec![0.0; x.nrows()];
    m.predict_into(x.view(), &mut labels).unwrap();
    let mut row_out = vec![0.0; k];
    let mut label = [0.0];
    for i in 0..x.nrows() {
        let row = x.row(i).to_vec();
        m.transform_row_into(&row, &mut row_out).unwrap();
        for (a, b) in row_out.iter().zip(&batch[i * k..(i + 1) * k]) {
            assert_eq!(a.to_bits(), b.to_bits(), "row {i}");
        }
        m.predict_row_into(&row, &mut label).unwrap();
        assert_eq!(label[0].to_bits(), labels[i].to_bits());
        // The label is the nearest centre of the transform.
        let nearest = row_out
            .iter()
            .enumerate()
            .fold(
                (0, f64::INFINITY),
                |b, (j, &d)| if d < b.1 { (j, d) } else { b },
            )
            .0;
        assert_eq!(label[0], nearest as f64);
    }
}

#[test]
fn an_empty_cluster_takes_the_farthest_row() {
    // Three centres start on the same duplicated point: two clusters are empty after the
    // first assignment and take the rows farthest from their centre.
    let x = ndarray::array![
        [0.0, 0.0],
        [0.0, 0.0],
        [0.0, 0.0],
        [1.0, 0.0],
        [10.0, 0.0],
        [0.0, 20.0]
    ];
    let data = DenseDataset::unsupervised(x.clone()).unwrap();
    let m = KMeans::default()
        .n_clusters(3)
        .init(KMeansInit::Centers(vec![vec![0.0, 0.0]; 3]))
        .fit(&data)
        .unwrap();
    let mut centers = m.cluster_centers.clone();
    centers.sort_by(|a, b| a[1].total_cmp(&b[1]).then(a[0].total_cmp(&b[0])));
    assert_eq!(
        centers,
        vec![vec![0.25, 0.0], vec![10.0, 0.0], vec![0.0, 20.0]]
    );
    assert!((m.inertia - 0.75).abs() < 1e-12, "{}", m.inertia);
    let l = labels(&m, &x);
    let distinct: std::collections::BTreeSet<_> = l.iter().collect();
    assert_eq!(distinct.len(), 3);
    // More clusters than distinct points: no relocation is possible, no panic.
    let dup =
        DenseDataset::unsupervised(ndarray::array![[1.0, 1.0], [1.0, 1.0], [1.0, 1.0]]).unwrap();
    let m = KMeans::default().n_clusters(3).fit(&dup).unwrap();
    assert_eq!(m.inertia, 0.0);
}

#[test]
fn trains_from_a_table_without_target_through_the_pipeline() {
    let table = amlis::datasets::iris_table()
        .unwrap()
        .drop(&["species"])
        .unwrap();
    let config = TrainConfig::from_json(
        r#"{"model": {"type": "k_means", "n_clusters": 3, "n_init": 10, "random_state": 0},
            "preprocess": [{"type": "standard_scaler"}]}"#,
    )
    .unwrap();
    let p = Pipeline::fit(&config, &table, None, &FitContext::new()).unwrap();
    assert_eq!(p.estimator(), Estimator::Clusterer);
    assert_eq!(
        p.outputs(),
        vec![PredictKind::Value, PredictKind::Transform]
    );
    assert_eq!(p.output_width(PredictKind::Transform).unwrap(), 3);
    let x = common::raw_rows(&p, &table);
    let mut out = vec![0.0; x.nrows()];
    p.predict_rows_into(PredictKind::Value, x.view(), &mut out)
        .unwrap();
    let distinct: std::collections::BTreeSet<u64> = out.iter().map(|v| *v as u64).collect();
    assert_eq!(distinct.len(), 3);
    // Bad settings name the parameter from the config too.
    let bad =
        TrainConfig::from_json(r#"{"model": {"type": "k_means", "algorithm": "full"}}"#).unwrap();
    let e = Pipeline::fit(&bad, &table, None, &FitContext::new()).unwrap_err();
    assert!(e.to_string().contains("algorithm"), "{e}");
    assert!(TrainConfig::from_json(r#"{"model": {"type": "k_means", "n_cluster": 3}}"#).is_err());
}
