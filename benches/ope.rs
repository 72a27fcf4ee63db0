//! Criterion bench of off-policy evaluation (`evaluate::policy::evaluate_policy`) on 1,000,000
//! logged rows with 10 actions: every estimator (given reward model), without and with 100
//! bootstrap resamples.
//!
//! Run: `cargo bench --bench ope`

use amlis::evaluate::policy::{evaluate_policy, LoggedFeedback, OpeOptions};
use criterion::{black_box, criterion_group, criterion_main, Criterion};
use ndarray::Array2;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn bench(c: &mut Criterion) {
    let (n, k) = (1_000_000, 10);
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let actions: Vec<usize> = (0..n).map(|_| rng.gen_range(0..k)).collect();
    let rewards: Vec<f64> = (0..n)
        .map(|_| f64::from(u8::from(rng.gen::<f64>() < 0.3)))
        .collect();
    let propensities = vec![1.0 / k as f64; n];
    let mut policy = Array2::from_shape_fn((n, k), |_| rng.gen::<f64>());
    for mut row in policy.rows_mut() {
        let s: f64 = row.sum();
        row.mapv_inplace(|v| v / s);
    }
    let q = Array2::from_shape_fn((n, k), |_| rng.gen::<f64>());
    let logs = LoggedFeedback::new(&actions, &rewards, policy.view())
        .propensities(&propensities)
        .reward_model(q.view());

    let mut g = c.benchmark_group("ope");
    g.sample_size(10);
    let point = OpeOptions {
        n_bootstrap: 0,
        ..Default::default()
    };
    g.bench_function("all estimators n=1M k=10", |b| {
        b.iter(|| evaluate_policy(black_box(&logs), &point).unwrap())
    });
    let boot = OpeOptions {
        n_bootstrap: 100,
        ..Default::default()
    };
    g.bench_function("all estimators n=1M k=10 + 100 bootstrap resamples", |b| {
        b.iter(|| evaluate_policy(black_box(&logs), &boot).unwrap())
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
