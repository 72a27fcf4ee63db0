//! Decision tree and random forest speed on the issue's task: make_classification
//! (n_samples=100000, n_features=20, random_state=0), first 80,000 rows to fit, last 20,000
//! to predict. The data come from `tests/fixtures/tree_bench_data.py` (raw little-endian f64
//! in target/bench-data/), which also times scikit-learn on the same data.
//!
//! ```text
//! /work/venv/bin/python tests/fixtures/tree_bench_data.py
//! cargo bench --bench tree
//! ```

use std::path::PathBuf;

use amlis::data::{DenseDataset, Task};
use amlis::ensemble::forest::RandomForestClassifier;
use amlis::traits::{FitContext, ProbabilisticPredictor, Trainer};
use amlis::tree::DecisionTreeClassifier;
use criterion::{criterion_group, criterion_main, Criterion};
use ndarray::{s, Array1, Array2};

const N: usize = 100_000;
const F: usize = 20;
const TRAIN: usize = 80_000;

fn read_f64(name: &str) -> Option<Vec<f64>> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("target/bench-data")
        .join(name);
    let bytes = std::fs::read(path).ok()?;
    Some(
        bytes
            .chunks_exact(8)
            .map(|c| f64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]))
            .collect(),
    )
}

fn bench(c: &mut Criterion) {
    let (Some(x), Some(y)) = (read_f64("tree_x.f64"), read_f64("tree_y.f64")) else {
        eprintln!("bench data missing: run `/work/venv/bin/python tests/fixtures/tree_bench_data.py --no-sklearn` first");
        return;
    };
    let x = Array2::from_shape_vec((N, F), x).unwrap();
    let y = Array1::from(y);
    let task = Task::Classification {
        classes: vec!["0".into(), "1".into()],
    };
    let train = DenseDataset::new(
        x.slice(s![..TRAIN, ..]).to_owned(),
        Some(y.slice(s![..TRAIN]).to_owned()),
        task,
    )
    .unwrap();
    let test = x.slice(s![TRAIN.., ..]).to_owned();
    let ctx = FitContext::new().random_state(0).n_threads(2);

    let tree = DecisionTreeClassifier::default()
        .fit_with(&train, &ctx)
        .unwrap();
    let forest = RandomForestClassifier::default()
        .fit_with(&train, &ctx)
        .unwrap();
    let acc = |p: &Array2<f64>| {
        let yt = y.slice(s![TRAIN..]);
        p.rows()
            .into_iter()
            .zip(yt.iter())
            .filter(|(r, &t)| ((r[1] > r[0]) as u8 as f64) == t)
            .count() as f64
            / yt.len() as f64
    };
    eprintln!(
        "amlis tree: {} nodes, test accuracy {:.4}; forest test accuracy {:.4}",
        tree.tree().node_count(),
        acc(&tree.predict_proba(test.view()).unwrap()),
        acc(&forest.predict_proba(test.view()).unwrap())
    );

    let mut g = c.benchmark_group("tree");
    g.sample_size(10);
    g.bench_function("decision_tree_fit_80000x20", |b| {
        b.iter(|| {
            DecisionTreeClassifier::default()
                .fit_with(&train, &ctx)
                .unwrap()
        })
    });
    g.bench_function("random_forest_100_fit_80000x20", |b| {
        b.iter(|| {
            RandomForestClassifier::default()
                .fit_with(&train, &ctx)
                .unwrap()
        })
    });
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .unwrap();
    g.bench_function("random_forest_100_predict_proba_20000", |b| {
        b.iter(|| pool.install(|| forest.predict_proba(test.view()).unwrap()))
    });
    g.bench_function("random_forest_100_predict_proba_100000", |b| {
        b.iter(|| pool.install(|| forest.predict_proba(x.view()).unwrap()))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
