//! Linear-model benchmarks: `Ridge` on 160,000 × 100 and `Lasso(alpha=0.1)` on 80,000 × 100,
//! on make_regression-like data (standard normal features, 10 informative ones with
//! coefficients 100·U(0, 1), no noise) generated deterministically here.
//!
//! The data are also written once to `target/bench-data/linear_{ridge,lasso}_{x,y}.f64`
//! (little-endian f64, row-major) so that `benches/linear_sklearn.py` fits scikit-learn on the
//! very same numbers:
//!
//! ```text
//! cargo bench --bench linear
//! OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2 /work/venv/bin/python benches/linear_sklearn.py
//! ```

use std::path::PathBuf;

use amlis::data::DenseDataset;
use amlis::linear::{Lasso, Ridge};
use amlis::traits::Trainer;
use criterion::{criterion_group, criterion_main, Criterion};
use ndarray::{Array1, Array2};
use rand::Rng;

/// make_regression-like data: X ~ N(0, 1), y = X·coef with 10 informative features.
fn make_regression(n: usize, p: usize, seed: u64) -> (Array2<f64>, Array1<f64>) {
    let mut rng = amlis::rng::for_task(seed, 0);
    let mut normal = || {
        // Box–Muller.
        let u1: f64 = rng.gen::<f64>().max(f64::MIN_POSITIVE);
        let u2: f64 = rng.gen();
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    };
    let x = Array2::from_shape_simple_fn((n, p), &mut normal);
    let mut crng = amlis::rng::for_task(seed, 1);
    let mut coef = Array1::<f64>::zeros(p);
    for j in 0..p.min(10) {
        coef[j] = 100.0 * crng.gen::<f64>();
    }
    let y = x.dot(&coef);
    (x, y)
}

fn write_f64(path: &PathBuf, data: &[f64]) {
    if path.exists() {
        return;
    }
    let mut bytes = Vec::with_capacity(data.len() * 8);
    for v in data {
        bytes.extend_from_slice(&v.to_le_bytes());
    }
    let _ = std::fs::write(path, bytes);
}

fn dataset(name: &str, n: usize, p: usize) -> DenseDataset {
    let (x, y) = make_regression(n, p, 0);
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("target")
        .join("bench-data");
    let _ = std::fs::create_dir_all(&dir);
    if let (Some(xs), Some(ys)) = (x.as_slice(), y.as_slice()) {
        write_f64(&dir.join(format!("linear_{name}_x.f64")), xs);
        write_f64(&dir.join(format!("linear_{name}_y.f64")), ys);
    }
    DenseDataset::regression(x, y).expect("bench data")
}

fn bench(c: &mut Criterion) {
    let ridge_data = dataset("ridge", 160_000, 100);
    let mut g = c.benchmark_group("linear");
    g.sample_size(10);
    g.bench_function("ridge_160000x100", |b| {
        b.iter(|| Ridge::default().fit(&ridge_data).expect("ridge"))
    });
    drop(ridge_data);
    let lasso_data = dataset("lasso", 80_000, 100);
    g.bench_function("lasso_alpha0.1_80000x100", |b| {
        b.iter(|| Lasso::default().alpha(0.1).fit(&lasso_data).expect("lasso"))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
