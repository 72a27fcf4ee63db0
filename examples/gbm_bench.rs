//! Gradient-boosting side-by-side runner: fits amlis on the benchmark data written by
//! `benches/gbm_compare.py` (raw little-endian f64 files in `target/bench-data/`) and prints
//! one JSON line of timings.
//!
//! ```text
//! cargo build --release --example gbm_bench
//! target/release/examples/gbm_bench [rows_total] [threads]
//! ```

use std::time::Instant;

use amlis::ensemble::gbm::{EarlyStopping, GradientBoostingClassifier};
use amlis::prelude::*;
use ndarray::{s, Array1, Array2};

fn read_f64(path: &str) -> Vec<f64> {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"));
    bytes
        .chunks_exact(8)
        .map(|c| f64::from_le_bytes(c.try_into().unwrap()))
        .collect()
}

/// Binary ROC AUC (ties averaged), by the crate's metric.
fn auc(y: &[f64], score: &[f64]) -> f64 {
    amlis::metrics::roc_auc_score(
        ndarray::ArrayView1::from(y),
        ndarray::ArrayView1::from(score),
        None,
        None,
    )
    .unwrap()
}

fn main() -> amlis::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let dir = std::env::var("AMLIS_BENCH_DATA").unwrap_or_else(|_| "target/bench-data".into());
    let threads: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(2);
    let x = read_f64(&format!("{dir}/gbm_x.f64"));
    let y = read_f64(&format!("{dir}/gbm_y.f64"));
    let p = 50;
    let n_all = y.len();
    let n: usize = args
        .get(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(n_all)
        .min(n_all);
    let x = Array2::from_shape_vec((n_all, p), x).expect("x shape");
    let n_train = n * 4 / 5;
    let train = DenseDataset::classification(
        x.slice(s![..n_train, ..]).to_owned(),
        Array1::from(y[..n_train].to_vec()),
    )?;
    let params = GradientBoostingClassifier::default()
        .max_iter(100)
        .max_leaf_nodes(31)
        .learning_rate(0.1)
        .min_samples_leaf(20)
        .early_stopping(EarlyStopping::Enabled(false));
    let ctx = FitContext::new().random_state(0).n_threads(threads);
    let t0 = Instant::now();
    let model = params.fit_with(&train, &ctx)?;
    let fit_s = t0.elapsed().as_secs_f64();
    drop(train);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("pool");
    let xa = x.slice(s![..n, ..]);
    let t1 = Instant::now();
    let proba = pool.install(|| model.predict_proba(xa))?;
    let predict_s = t1.elapsed().as_secs_f64();
    let scores: Vec<f64> = (n_train..n).map(|i| proba[[i, 1]]).collect();
    let a = auc(&y[n_train..n], &scores);
    println!(
        "{{\"library\": \"amlis\", \"fit_s\": {fit_s:.3}, \"predict_s\": {predict_s:.3}, \
         \"predict_rows\": {n}, \"auc\": {a:.5}, \"n_train\": {n_train}, \"threads\": {threads}}}"
    );
    Ok(())
}
