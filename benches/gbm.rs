//! Criterion bench of histogram gradient boosting: fit (100 iterations, 31 leaves, lr 0.1)
//! and batch predict on 100,000 × 50 rows of the side-by-side data
//! (`target/bench-data/gbm_{x,y}.f64`, written by `benches/gbm_compare.py`; a seeded synthetic
//! set of the same shape is used when the file is missing).
//!
//! `cargo bench --bench gbm`

use std::hint::black_box;

use amlis::ensemble::gbm::{EarlyStopping, GradientBoostingClassifier};
use amlis::prelude::*;
use criterion::{criterion_group, criterion_main, Criterion};
use ndarray::{s, Array1, Array2};
use rand::Rng;

const ROWS: usize = 100_000;
const P: usize = 50;

fn data() -> (Array2<f64>, Array1<f64>) {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/target/bench-data");
    let read = |f: &str| -> Option<Vec<f64>> {
        let b = std::fs::read(format!("{dir}/{f}")).ok()?;
        Some(
            b.chunks_exact(8)
                .map(|c| f64::from_le_bytes(c.try_into().unwrap()))
                .collect(),
        )
    };
    if let (Some(x), Some(y)) = (read("gbm_x.f64"), read("gbm_y.f64")) {
        let n = y.len();
        let x = Array2::from_shape_vec((n, P), x).unwrap();
        return (
            x.slice(s![..ROWS, ..]).to_owned(),
            Array1::from(y[..ROWS].to_vec()),
        );
    }
    let mut rng = amlis::rng::for_task(0, 0);
    let x = Array2::from_shape_fn((ROWS, P), |_| rng.gen_range(-3.0..3.0));
    let y = Array1::from_shape_fn(ROWS, |i| {
        let s: f64 = (0..10).map(|j| x[[i, j]] * (j as f64 - 4.5)).sum();
        (s + rng.gen_range(-2.0..2.0) > 0.0) as u8 as f64
    });
    (x, y)
}

fn bench(c: &mut Criterion) {
    let (x, y) = data();
    let train = DenseDataset::classification(x.clone(), y).unwrap();
    let params =
        GradientBoostingClassifier::default().early_stopping(EarlyStopping::Enabled(false));
    let ctx = FitContext::new().random_state(0).n_threads(2);
    let mut g = c.benchmark_group("gbm_100k_x_50");
    g.sample_size(10);
    g.bench_function("fit_binary_100_iter", |b| {
        b.iter(|| black_box(params.fit_with(&train, &ctx).unwrap()))
    });
    let model = params.fit_with(&train, &ctx).unwrap();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .unwrap();
    g.bench_function("predict_proba", |b| {
        b.iter(|| pool.install(|| black_box(model.predict_proba(x.view()).unwrap())))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
