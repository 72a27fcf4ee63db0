//! Preprocessing speed: `StandardScaler` fit + transform on a 1,000,000 × 50 numeric table
//! (the issue's target: faster than scikit-learn's `StandardScaler().fit_transform(X)`),
//! plus the array fast path and the one-hot encoder.
//!
//! Run: `cargo bench --bench preprocess`
//!
//! scikit-learn on the same shape, same machine (median of 5):
//!
//! ```text
//! /work/venv/bin/python -c "import numpy as np, time; from sklearn.preprocessing import StandardScaler
//! X = np.random.default_rng(0).standard_normal((1_000_000, 50))
//! t = []
//! for _ in range(5):
//!     s = time.perf_counter(); StandardScaler().fit_transform(X); t.append(time.perf_counter() - s)
//! print(sorted(t)[2])"
//! ```

use amlis::data::{Column, Table};
use amlis::preprocess::{NumericScaler, OneHotEncoder, StandardScaler};
use amlis::traits::{FittedTransformer, Transformer};
use criterion::{criterion_group, criterion_main, Criterion};
use ndarray::Array2;
use rand::{Rng, SeedableRng};

const ROWS: usize = 1_000_000;
const COLS: usize = 50;

fn numeric_table(rows: usize, cols: usize) -> Table {
    let columns = (0..cols)
        .map(|j| {
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(j as u64);
            let values = (0..rows)
                .map(|_| rng.gen::<f64>() * 10.0 - 3.0 + j as f64)
                .collect();
            (format!("x{j}"), Column::numeric(values))
        })
        .collect();
    Table::new(columns).expect("distinct names, equal lengths")
}

fn standard_scaler(c: &mut Criterion) {
    let table = numeric_table(ROWS, COLS);
    let mut group = c.benchmark_group("preprocess");
    group.sample_size(10);
    group.bench_function("standard_scaler_fit_transform_1M_x_50", |b| {
        b.iter(|| {
            StandardScaler::default()
                .fit_transform(&table)
                .expect("numeric table")
        })
    });
    let fitted = StandardScaler::default()
        .fit(&table)
        .expect("numeric table");
    group.bench_function("standard_scaler_transform_1M_x_50", |b| {
        b.iter(|| fitted.transform(&table).expect("numeric table"))
    });
    let mut x = Array2::<f64>::zeros((ROWS, COLS));
    for (j, col) in table.columns().iter().enumerate() {
        if let Some(v) = col.as_numeric() {
            x.column_mut(j).iter_mut().zip(v).for_each(|(a, b)| *a = *b);
        }
    }
    group.bench_function("standard_scaler_transform_array_1M_x_50", |b| {
        // In place, repeatedly: the values stay finite (each pass is an affine map).
        b.iter(|| fitted.transform_array(x.view_mut()).expect("right width"))
    });
    let cats: Vec<Option<String>> = (0..ROWS).map(|i| Some(format!("c{}", i % 20))).collect();
    let cat_table =
        Table::new(vec![("c".into(), Column::categorical_from(&cats))]).expect("one column");
    group.bench_function("one_hot_fit_transform_1M_x_20_levels", |b| {
        b.iter(|| {
            OneHotEncoder::default()
                .fit_transform(&cat_table)
                .expect("categorical table")
        })
    });
    group.finish();
}

criterion_group!(benches, standard_scaler);
criterion_main!(benches);
