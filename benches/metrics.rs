//! Criterion benches of the metrics whose cost grows with the data: ROC AUC (sort), log loss,
//! macro F1 (counting) and the silhouette (all pairwise distances, parallel).
//!
//! Run: `cargo bench --bench metrics`

use amlis::metrics::{self, Average, PrfOptions};
use criterion::{black_box, criterion_group, criterion_main, Criterion};
use ndarray::{Array1, Array2};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn data(n: usize, k: usize, seed: u64) -> (Array1<f64>, Array2<f64>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let y = Array1::from_iter((0..n).map(|_| rng.gen_range(0..k) as f64));
    let mut p = Array2::from_shape_fn((n, k), |_| rng.gen::<f64>());
    for mut row in p.rows_mut() {
        let s: f64 = row.sum();
        row.mapv_inplace(|v| v / s);
    }
    (y, p)
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("metrics");
    g.sample_size(10);

    let (y, p) = data(100_000, 2, 1);
    let s = p.column(1).to_owned();
    g.bench_function("roc_auc_score n=100k", |b| {
        b.iter(|| metrics::roc_auc_score(black_box(y.view()), s.view(), None, None).unwrap())
    });

    let (y5, p5) = data(100_000, 5, 2);
    g.bench_function("log_loss n=100k k=5", |b| {
        b.iter(|| metrics::log_loss(black_box(y5.view()), p5.view(), None, true, None).unwrap())
    });
    let pred = Array1::from_iter(p5.rows().into_iter().map(|r| {
        r.iter()
            .enumerate()
            .fold(
                (0, f64::MIN),
                |a, (i, v)| if *v > a.1 { (i, *v) } else { a },
            )
            .0 as f64
    }));
    let opts = PrfOptions::average(Some(Average::Macro));
    g.bench_function("f1_macro n=100k k=5", |b| {
        b.iter(|| metrics::f1_score(black_box(y5.view()), pred.view(), &opts, None).unwrap())
    });

    let (lab, _) = data(4_000, 4, 3);
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    let x = Array2::from_shape_fn((4_000, 8), |(i, _)| lab[i] * 2.0 + rng.gen::<f64>());
    g.bench_function("silhouette_score n=4000 d=8", |b| {
        b.iter(|| metrics::silhouette_score(black_box(x.view()), lab.view()).unwrap())
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
