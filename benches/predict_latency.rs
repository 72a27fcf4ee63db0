//! Prediction latency: one row through the Rust `Pipeline` (`RowPredictor`) and through the C
//! ABI (`amlis_predict_row`, called as the extern function it is), and a batch of 200,000
//! rows through `amlis_predict`.
//!
//! ```text
//! cargo bench --bench predict_latency
//! ```
//!
//! The model: 50 numeric features, no preprocessing steps, trained on synthetic data.
//! `MODELS` lists the model kinds measured; add a line for another kind.

use std::hint::black_box;
use std::sync::Arc;

use amlis::config::TrainConfig;
use amlis::data::{Column, Table};
use amlis::ffi::{
    amlis_model_free, amlis_model_load_buffer, amlis_predict, amlis_predict_row,
    amlis_predictor_free, amlis_predictor_new, AmlisModel, AmlisPredictor, AmlisStatus,
    AMLIS_OUTPUT_VALUE,
};
use amlis::persist::Encoding;
use amlis::pipeline::{Pipeline, PredictKind, RowPredictor};
use amlis::traits::FitContext;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use rand::{Rng, SeedableRng};

/// The models under test, on 50 numeric features without preprocessing: logistic regression
/// (the linear floor is a 50-term dot product and a sigmoid), naive Bayes and the linear SVM
/// (issue 14's 1 µs single-row target), and gradient boosting with 100 trees of 31 leaves
/// (the tree-ensemble latency target).
const MODELS: &[(&str, &str)] = &[
    (
        "logistic_regression",
        r#"{"model": {"type": "logistic_regression"}}"#,
    ),
    ("gaussian_nb", r#"{"model": {"type": "gaussian_nb"}}"#),
    ("bernoulli_nb", r#"{"model": {"type": "bernoulli_nb"}}"#),
    ("linear_svc", r#"{"model": {"type": "linear_svc"}}"#),
    (
        "gbm_100_trees_31_leaves",
        r#"{"model": {"type": "gradient_boosting_classifier", "max_iter": 100,
                      "max_leaf_nodes": 31, "min_samples_leaf": 5, "early_stopping": false}}"#,
    ),
];
const N_FEATURES: usize = 50;
const N_TRAIN: usize = 2_000;
const N_BATCH: usize = 200_000;

fn rows(n: usize, seed: u64) -> Vec<f64> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    (0..n * N_FEATURES)
        .map(|_| rng.gen_range(-3.0..3.0))
        .collect()
}

fn train(model_config: &str) -> Pipeline {
    let x = rows(N_TRAIN, 1);
    let mut columns: Vec<(String, Column)> = (0..N_FEATURES)
        .map(|j| {
            let col = (0..N_TRAIN).map(|i| x[i * N_FEATURES + j]).collect();
            (format!("x{j}"), Column::numeric(col))
        })
        .collect();
    let y = (0..N_TRAIN)
        .map(|i| {
            let s: f64 = x[i * N_FEATURES..i * N_FEATURES + 5].iter().sum();
            f64::from(u8::from(s > 0.0))
        })
        .collect();
    columns.push(("y".into(), Column::numeric(y)));
    let table = Table::new(columns).unwrap();
    let mut config = TrainConfig::from_json(model_config).unwrap();
    config.random_state = Some(0);
    Pipeline::fit(&config, &table, "y", &FitContext::new()).unwrap()
}

fn bench(c: &mut Criterion) {
    for (name, config) in MODELS {
        bench_model(c, name, config);
    }
}

fn bench_model(c: &mut Criterion, name: &str, model_config: &str) {
    let pipeline = Arc::new(train(model_config));
    let test = rows(1024, 2);
    let batch = rows(N_BATCH, 3);

    // The C side: the model loaded from its file image, as a C program would.
    let bytes = pipeline.to_bytes(Encoding::Binary).unwrap();
    let mut model: *mut AmlisModel = std::ptr::null_mut();
    let mut predictor: *mut AmlisPredictor = std::ptr::null_mut();
    // SAFETY: valid buffers and out-pointers; the handles are freed at the end.
    unsafe {
        assert_eq!(
            amlis_model_load_buffer(bytes.as_ptr(), bytes.len(), &mut model),
            AmlisStatus::AMLIS_OK
        );
        assert_eq!(
            amlis_predictor_new(model, AMLIS_OUTPUT_VALUE, &mut predictor),
            AmlisStatus::AMLIS_OK
        );
    }

    let mut g = c.benchmark_group(format!("{name}/predict_row_50_features"));
    let mut rust = RowPredictor::new(pipeline.clone(), PredictKind::Value).unwrap();
    let mut i = 0;
    g.bench_function("rust_row_predictor", |b| {
        let mut out = [0.0];
        b.iter(|| {
            i = (i + 1) % 1024;
            let row = &test[i * N_FEATURES..(i + 1) * N_FEATURES];
            rust.predict_row(black_box(row), &mut out).unwrap();
            black_box(out[0])
        })
    });
    g.bench_function("c_abi_amlis_predict_row", |b| {
        let mut out = 0.0f64;
        b.iter(|| {
            i = (i + 1) % 1024;
            let row = test[i * N_FEATURES..].as_ptr();
            // SAFETY: a live predictor, a row of N_FEATURES doubles, one output double.
            let st =
                unsafe { amlis_predict_row(predictor, black_box(row), N_FEATURES, &mut out, 1) };
            debug_assert_eq!(st, AmlisStatus::AMLIS_OK);
            black_box(out)
        })
    });
    g.finish();

    let mut g = c.benchmark_group(format!("{name}/predict_batch_200k_rows"));
    g.throughput(Throughput::Elements(N_BATCH as u64));
    g.sample_size(10);
    g.bench_function("c_abi_amlis_predict", |b| {
        let mut out = vec![0.0; N_BATCH];
        b.iter(|| {
            // SAFETY: a live model, N_BATCH rows of N_FEATURES doubles, N_BATCH outputs.
            let st = unsafe {
                amlis_predict(
                    model,
                    AMLIS_OUTPUT_VALUE,
                    batch.as_ptr(),
                    N_BATCH,
                    N_FEATURES,
                    out.as_mut_ptr(),
                    out.len(),
                )
            };
            assert_eq!(st, AmlisStatus::AMLIS_OK);
            black_box(out[0])
        })
    });
    g.finish();

    // SAFETY: handles made above, freed once.
    unsafe {
        amlis_predictor_free(predictor);
        amlis_model_free(model);
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
