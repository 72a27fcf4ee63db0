//! The single-row prediction path allocates nothing, for every registered model type and every
//! output kind it has: the Rust `RowPredictor` (with and without preprocessing steps) and the
//! C ABI's `amlis_predict_row`, each giving the batch path's bits. Allocations are counted per thread by this test binary's global
//! allocator; lazily built prediction layouts are made by a first warm-up call.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::Arc;

use amlis::config::TrainConfig;
use amlis::data::Table;
use amlis::ffi::{
    amlis_model_free, amlis_model_load_buffer, amlis_predict_row, amlis_predictor_free,
    amlis_predictor_new, AmlisModel, AmlisPredictor, AmlisStatus,
};
use amlis::models::{Estimator, ModelConfig};
use amlis::persist::Encoding;
use amlis::pipeline::{Pipeline, RowPredictor};
use amlis::traits::FitContext;

thread_local! {
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

fn count() {
    // `try_with`: no count (rather than a panic) while the thread-local is torn down.
    let _ = ALLOCATIONS.try_with(|c| c.set(c.get() + 1));
}

/// The system allocator, counting this thread's allocations.
struct Counting;

// SAFETY: every method forwards its arguments unchanged to `System`, which upholds the
// `GlobalAlloc` contract; the counting touches only a const-initialized thread-local `Cell`,
// which never allocates.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: forwarded as received (the caller's obligations are the same).
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: forwarded as received.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
        // SAFETY: forwarded as received; `ptr` came from this allocator, i.e. from `System`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded as received; `ptr` came from `System`.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Allocations made by this thread while running `f`.
fn allocations(f: impl FnOnce()) -> u64 {
    let before = ALLOCATIONS.with(Cell::get);
    f();
    ALLOCATIONS.with(Cell::get) - before
}

/// The first `n` rows of the table in input-column order (categorical cells as category
/// indices, NaN missing), as a prediction service receives them.
fn rows(pipeline: &Pipeline, table: &Table, n: usize) -> Vec<Vec<f64>> {
    let x = common::raw_rows(pipeline, table);
    x.rows().into_iter().take(n).map(|r| r.to_vec()).collect()
}

fn fit(config: &str, table: &Table, target: Option<&str>) -> Pipeline {
    let mut config = TrainConfig::from_json(config).unwrap();
    config.random_state = Some(0);
    Pipeline::fit(&config, table, target, &FitContext::new()).unwrap()
}

/// Checks the Rust row path and the C row path of `pipeline` on `rows`, for every output
/// kind the model has.
fn check(name: &str, pipeline: Pipeline, rows: &[Vec<f64>]) {
    let pipeline = Arc::new(pipeline);
    let kinds: Vec<_> = pipeline
        .outputs()
        .into_iter()
        .map(|k| (k, k.to_raw()))
        .collect();
    assert!(!kinds.is_empty(), "{name}");
    let bytes = pipeline.to_bytes(Encoding::Binary).unwrap();
    for &(kind, c_kind) in &kinds {
        let mut p = RowPredictor::new(pipeline.clone(), kind).unwrap();
        let mut out = vec![0.0; p.output_len()];
        p.predict_row(&rows[0], &mut out).unwrap(); // builds lazy layouts
        let n = allocations(|| {
            for row in rows {
                p.predict_row(row, &mut out).unwrap();
            }
        });
        assert_eq!(n, 0, "{name} {kind:?}: RowPredictor allocated {n} times");
        // The row path gives the batch path's bits (the trait's contract).
        let width = out.len();
        let flat: Vec<f64> = rows.concat();
        let x =
            ndarray::ArrayView2::from_shape((rows.len(), flat.len() / rows.len()), &flat).unwrap();
        let mut batch = vec![0.0; rows.len() * width];
        pipeline.predict_rows_into(kind, x, &mut batch).unwrap();
        for (i, row) in rows.iter().enumerate() {
            p.predict_row(row, &mut out).unwrap();
            let want = &batch[i * width..(i + 1) * width];
            assert!(
                out.iter()
                    .zip(want)
                    .all(|(a, b)| a.to_bits() == b.to_bits()),
                "{name} {kind:?} row {i}: {out:?} against the batch's {want:?}"
            );
        }

        let mut model: *mut AmlisModel = std::ptr::null_mut();
        let mut predictor: *mut AmlisPredictor = std::ptr::null_mut();
        // SAFETY: a valid buffer and out-pointers; both handles are freed below.
        unsafe {
            assert_eq!(
                amlis_model_load_buffer(bytes.as_ptr(), bytes.len(), &mut model),
                AmlisStatus::AMLIS_OK
            );
            assert_eq!(
                amlis_predictor_new(model, c_kind, &mut predictor),
                AmlisStatus::AMLIS_OK
            );
        }
        let call = |row: &[f64], out: &mut [f64]| {
            // SAFETY: a live predictor, `row.len()` readable doubles, `out.len()` writable.
            let st = unsafe {
                amlis_predict_row(
                    predictor,
                    row.as_ptr(),
                    row.len(),
                    out.as_mut_ptr(),
                    out.len(),
                )
            };
            assert_eq!(st, AmlisStatus::AMLIS_OK, "{name}");
        };
        let mut c_out = vec![0.0; out.len()];
        call(&rows[0], &mut c_out);
        let n = allocations(|| {
            for row in rows {
                call(row, &mut c_out);
            }
        });
        assert_eq!(
            n, 0,
            "{name} {kind:?}: amlis_predict_row allocated {n} times"
        );
        // The C path predicts what the Rust path does.
        p.predict_row(&rows[1], &mut out).unwrap();
        call(&rows[1], &mut c_out);
        assert_eq!(out, c_out, "{name} {kind:?}");
        // SAFETY: handles made above, each freed once.
        unsafe {
            amlis_predictor_free(predictor);
            amlis_model_free(model);
        }
    }
}

const PREP: &str = r#"[{"type": "simple_imputer", "strategy": "most_frequent"},
    {"type": "one_hot_encoder"}, {"type": "standard_scaler"}]"#;

/// Settings that keep each type's model small.
fn small_params(kind: &str) -> &'static str {
    if kind.contains("forest") || kind.contains("extra_trees") {
        r#", "n_estimators": 20"#
    } else if kind.starts_with("gradient_boosting") {
        r#", "max_iter": 20"#
    } else if kind == "sgd_classifier" {
        r#", "loss": "log_loss""#
    } else if kind == "local_outlier_factor" {
        r#", "novelty": true"#
    } else if kind == "svc" || kind == "nu_svc" {
        // Platt scaling: the probability output's row path too.
        r#", "probability": true, "random_state": 0"#
    } else {
        common::auto_small(kind)
    }
}

#[test]
fn every_registered_type_predicts_a_row_without_allocating() {
    let penguins = amlis::datasets::penguins_table().unwrap();
    let diabetes = amlis::datasets::diabetes_table().unwrap();
    let unlabelled = penguins.drop(&["species"]).unwrap();
    const SCALE: &str = r#"[{"type": "standard_scaler"}]"#;
    for &kind in ModelConfig::type_names() {
        let estimator = ModelConfig::from_json_parts(kind, serde_json::json!({}))
            .unwrap()
            .estimator();
        let coded;
        let (table, target, prep) = match estimator {
            Estimator::Classifier => {
                coded = common::penguins_for_type(kind, estimator).0;
                (&coded, Some("species"), common::prep_for(kind, PREP))
            }
            Estimator::Regressor => (&diabetes, Some("progression"), SCALE.to_string()),
            _ => (&unlabelled, None, PREP.to_string()),
        };
        let params = small_params(kind);
        let p = fit(
            &format!(r#"{{"model": {{"type": "{kind}"{params}}}, "preprocess": {prep}}}"#),
            table,
            target,
        );
        let r = rows(&p, table, 200);
        check(kind, p, &r);
    }
}

#[test]
fn other_settings_predict_a_row_without_allocating() {
    // Gradient boosting on raw tables: native categories and missing values (multiclass),
    // and a binary model (one output); a Poisson regressor (an inverse link).
    let penguins = amlis::datasets::penguins_table().unwrap();
    let cancer = amlis::datasets::breast_cancer_table().unwrap();
    for (table, target) in [(&penguins, "species"), (&cancer, "diagnosis")] {
        let model = r#"{"type": "gradient_boosting_classifier", "max_iter": 30}"#;
        let p = fit(&format!(r#"{{"model": {model}}}"#), table, Some(target));
        let r = rows(&p, table, 300);
        check(&format!("{model} (raw, {target})"), p, &r);
    }
    let diabetes = amlis::datasets::diabetes_table().unwrap();
    let model = r#"{"type": "gradient_boosting_regressor", "max_iter": 20, "loss": "poisson"}"#;
    let p = fit(
        &format!(r#"{{"model": {model}}}"#),
        &diabetes,
        Some("progression"),
    );
    let r = rows(&p, &diabetes, 200);
    check(model, p, &r);
}
