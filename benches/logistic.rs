//! Logistic regression speed: L-BFGS fit on 160,000 × 50 binary data and predict_proba on
//! 200,000 rows.
//!
//! The data (make_classification-like, deterministic) is written to
//! `target/bench-data/logistic_{x,y}.f64` (raw little-endian f64, row-major) so that
//! `benches/logistic_sklearn.py` times scikit-learn on the very same rows:
//!
//! ```text
//! cargo bench --bench logistic
//! OMP_NUM_THREADS=2 /work/venv/bin/python benches/logistic_sklearn.py
//! ```

use std::io::Write;

use amlis::data::DenseDataset;
use amlis::linear::logistic::LogisticRegression;
use amlis::traits::{Dataset, ProbabilisticPredictor, Trainer};
use criterion::{criterion_group, criterion_main, Criterion};
use ndarray::{Array1, Array2};
use rand::Rng;

const N: usize = 160_000;
const P: usize = 50;
const INFORMATIVE: usize = 10;

/// Two classes with shifted means on 10 informative features, 10 redundant features (linear
/// mixes of the informative ones) and 30 noise features; 1% of labels flipped.
fn make_classification(n: usize, seed: u64) -> (Array2<f64>, Array1<f64>) {
    let mut rng = amlis::rng::for_task(seed, 0);
    let mut normal = move || {
        // Box–Muller.
        let u1: f64 = rng.gen::<f64>().max(1e-300);
        let u2: f64 = rng.gen();
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    };
    let centre: Vec<f64> = (0..INFORMATIVE)
        .map(|j| if j % 2 == 0 { 0.6 } else { -0.4 })
        .collect();
    let mix: Vec<f64> = (0..INFORMATIVE * 10).map(|_| normal() * 0.5).collect();
    let mut x = Array2::zeros((n, P));
    let mut y = Array1::zeros(n);
    for i in 0..n {
        let class = i % 2;
        for j in 0..INFORMATIVE {
            let sign = if class == 1 { 1.0 } else { -1.0 };
            x[[i, j]] = sign * centre[j] + normal();
        }
        for r in 0..10 {
            let v: f64 = (0..INFORMATIVE)
                .map(|j| mix[r * INFORMATIVE + j] * x[[i, j]])
                .sum();
            x[[i, INFORMATIVE + r]] = v;
        }
        for j in INFORMATIVE + 10..P {
            x[[i, j]] = normal();
        }
        let flip = normal().abs() > 2.576; // ~1%
        y[i] = if flip {
            1.0 - class as f64
        } else {
            class as f64
        };
    }
    (x, y)
}

fn write_raw(path: &std::path::Path, v: &[f64]) {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    for x in v {
        f.write_all(&x.to_le_bytes()).unwrap();
    }
}

fn bench(c: &mut Criterion) {
    let (x, y) = make_classification(N, 0);
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench-data");
    std::fs::create_dir_all(&dir).unwrap();
    write_raw(&dir.join("logistic_x.f64"), x.as_slice().unwrap());
    write_raw(&dir.join("logistic_y.f64"), y.as_slice().unwrap());
    let data = DenseDataset::classification(x, y).unwrap();

    let trainer = LogisticRegression::default();
    let model = trainer.fit(&data).unwrap();
    let xv = data.features();
    let pred = model.predict_proba(xv.view()).unwrap();
    let yv = data.targets().unwrap();
    let acc = pred
        .outer_iter()
        .zip(yv.iter())
        .filter(|(p, &t)| (p[1] > 0.5) == (t == 1.0))
        .count() as f64
        / N as f64;
    eprintln!(
        "amlis lbfgs: n_iter {} converged {} train accuracy {acc:.5}",
        model.n_iter, model.converged
    );

    let mut g = c.benchmark_group("logistic");
    g.sample_size(10);
    g.bench_function("fit_lbfgs_160000x50", |b| {
        b.iter(|| trainer.fit(&data).unwrap())
    });

    let (xp, _) = make_classification(200_000, 1);
    let mut out = vec![0.0; 200_000 * 2];
    g.bench_function("predict_proba_200000x50", |b| {
        b.iter(|| model.predict_proba_into(xp.view(), &mut out).unwrap())
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
