//! Grid search on diamonds (53,940 rows, 3 categorical and 6 numeric features), timed against
//! scikit-learn's `GridSearchCV` on the same grid (`benches/selection_sklearn.py`).
//!
//! Run: `cargo bench --bench selection` and
//! `/work/venv/bin/python benches/selection_sklearn.py` (both 5-fold unshuffled KFold, r2).
//!
//! Until real models are registered the model is a dummy regressor, so the time is mostly
//! preprocessing (imputer, one-hot, scaler) and fold bookkeeping; to time a model grid change
//! `MODEL` and `GRID` (one line each), and the same two lines in the Python script.

use amlis::config::TrainConfig;
use amlis::data::{read_csv, CsvOptions, KFold};
use amlis::selection::{
    cross_validate, CvOptions, GridSearch, ParamGrid, SearchOptions, TableData,
};
use amlis::traits::FitContext;
use criterion::{criterion_group, criterion_main, Criterion};

/// The model under search (one line).
const MODEL: &str = r#"{"type": "dummy_regressor"}"#;
/// The grid (one line): 3 model strategies x 2 imputer strategies = 6 candidates x 5 folds.
const GRID: &str = r#"{"model.strategy": ["mean", "median", "quantile"], "model.quantile": [0.5],
                       "preprocess.0.strategy": ["mean", "median"]}"#;

fn bench(c: &mut Criterion) {
    let table = read_csv(amlis::datasets::diamonds_path(), &CsvOptions::default()).unwrap();
    let base = TrainConfig::from_json(&format!(
        r#"{{"model": {MODEL}, "preprocess": [{{"type": "simple_imputer"}},
            {{"type": "one_hot_encoder", "handle_unknown": "ignore"}}, {{"type": "standard_scaler"}}]}}"#
    ))
    .unwrap();
    let search = GridSearch::new(
        ParamGrid::from_json(GRID).unwrap(),
        SearchOptions::metrics(&["r2"]).refit(false),
    );
    let mut g = c.benchmark_group("selection");
    g.sample_size(10);
    g.bench_function("grid_search diamonds 6 candidates x 5 folds", |b| {
        b.iter(|| {
            search
                .fit(&base, &table, "price", &KFold::new(5), &FitContext::new())
                .unwrap()
        })
    });
    let data = TableData::new(&table, "price", base.model.estimator()).unwrap();
    g.bench_function("cross_validate diamonds 5 folds", |b| {
        b.iter(|| {
            cross_validate(
                &data,
                &base,
                &KFold::new(5),
                &CvOptions::metrics(&["r2"]),
                &FitContext::new(),
            )
            .unwrap()
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
