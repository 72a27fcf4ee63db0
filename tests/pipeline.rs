//! Pipelines as deployable units: the row path against the table path, save/load round
//! trips for every registered model kind, corrupt and hostile files, and the golden model
//! files of each released format version.
//!
//! Regenerate the golden files (only when a NEW format version is released; old ones must stay
//! as they are and keep loading) with:
//!
//! ```text
//! cargo test --test pipeline -- --ignored write_golden_files
//! ```
//!
//! It writes `tests/golden/v<major>.<minor>/<kind>.amlis` (binary), `<kind>.json` (JSON) and
//! `<kind>.expected.json` (raw input rows and the predictions made when the file was written)
//! for every registered model kind that has no golden file yet (existing ones are never
//! rewritten; run it after registering a new model kind, and commit the new files).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use amlis::config::TrainConfig;
use amlis::data::Table;
use amlis::model::{Estimator, ModelConfig};
use amlis::persist::{self, Encoding, FORMAT_MAJOR, FORMAT_MINOR};
use amlis::pipeline::{Pipeline, PredictKind, RowPredictor, PIPELINE_KIND};
use amlis::traits::{FitContext, Predictor};
use amlis::Error;
use common::raw_rows;
use ndarray::Array2;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};

mod common;
use common::floats;

/// The steps of the test pipelines: impute (numbers and categories), one-hot, scale.
const STEPS: &str = r#"[{"type": "simple_imputer", "strategy": "most_frequent"},
                        {"type": "one_hot_encoder", "handle_unknown": "ignore"},
                        {"type": "standard_scaler"}]"#;

/// Hyperparameters that keep each kind's model (and its golden file) small.
fn small_params(kind: &str) -> &'static str {
    if kind.starts_with("random_forest") || kind.starts_with("extra_trees") {
        r#", "n_estimators": 4, "max_depth": 5"#
    } else if kind.starts_with("decision_tree") {
        r#", "max_depth": 5"#
    } else if kind.starts_with("gradient_boosting") {
        r#", "max_iter": 8, "max_leaf_nodes": 8"#
    } else if kind == "isolation_forest" {
        r#", "n_estimators": 4, "max_samples": 32"#
    } else if kind == "local_outlier_factor" {
        // Scores new rows only as a novelty detector (as scikit-learn).
        r#", "novelty": true"#
    } else {
        common::auto_small(kind)
    }
}

fn config(kind: &str, steps: &str) -> TrainConfig {
    let params = small_params(kind);
    let steps = common::prep_for(kind, steps);
    TrainConfig::from_json(&format!(
        r#"{{"model": {{"type": "{kind}"{params}}}, "preprocess": {steps}, "random_state": 7}}"#
    ))
    .unwrap()
}

fn estimator_of(kind: &str) -> Estimator {
    ModelConfig::from_json_parts(kind, json!({}))
        .unwrap()
        .estimator()
}

/// Penguins, with the target for the kind: `species` for classifiers, `body_mass_g` (rows
/// where it is missing removed) for regressors.
fn penguins_for(kind: &str) -> (Table, Option<&'static str>) {
    common::penguins_for_type(kind, estimator_of(kind))
}

fn fit(kind: &str, steps: &str) -> (Pipeline, Table) {
    let (table, target) = penguins_for(kind);
    let p = Pipeline::fit(&config(kind, steps), &table, target, &FitContext::new()).unwrap();
    (p, table)
}

fn bits(v: &[f64]) -> Vec<u64> {
    v.iter().map(|x| x.to_bits()).collect()
}

/// Every output the pipeline's model has (value, proba, transform, score), batch-predicted:
/// `(kind, values per row, values)`.
fn predict_every_output(p: &Pipeline, x: &Array2<f64>) -> Vec<(PredictKind, usize, Vec<f64>)> {
    let outputs = p.outputs();
    // Every model writes something; all but transformers write a value per row.
    assert!(!outputs.is_empty());
    assert_eq!(
        outputs.contains(&PredictKind::Value),
        p.estimator() != Estimator::Transformer
    );
    for kind in PredictKind::ALL {
        if !outputs.contains(&kind) {
            // A kind the model lacks is Unsupported, and the message names what it has.
            let e = p.output_width(kind).unwrap_err();
            let first = outputs[0].name();
            assert!(
                matches!(&e, Error::Unsupported(m) if m.contains(first)),
                "{e}"
            );
        }
    }
    outputs
        .into_iter()
        .map(|kind| {
            let width = p.output_width(kind).unwrap();
            let mut out = vec![0.0; x.nrows() * width];
            p.predict_rows_into(kind, x.view(), &mut out).unwrap();
            (kind, width, out)
        })
        .collect()
}

/// The value and probability outputs (the latter empty when the model has none).
fn predict_all(p: &Pipeline, x: &Array2<f64>) -> (Vec<f64>, Vec<f64>) {
    let all = predict_every_output(p, x);
    let of = |k: PredictKind| all.iter().find(|o| o.0 == k).map(|o| o.2.clone());
    (
        of(PredictKind::Value).unwrap(),
        of(PredictKind::Proba).unwrap_or_default(),
    )
}

#[test]
fn row_path_equals_table_path_bit_for_bit() {
    let (p, table) = fit("dummy_classifier", STEPS);
    let x = raw_rows(&p, &table);
    // Penguins has missing numbers and missing categories: the imputer fills both.
    assert!(x.iter().any(|v| v.is_nan()));
    let by_table = p.transform_table(&table).unwrap();
    let by_rows = p.transform_rows(x.view()).unwrap();
    assert_eq!(by_table.dim(), by_rows.dim());
    assert_eq!(
        bits(by_table.as_slice().unwrap()),
        bits(by_rows.as_slice().unwrap())
    );
    // 3 islands + 2 sexes one-hot, 5 numeric: 10 features, scaled to mean 0.
    assert_eq!(by_rows.ncols(), 10);
    let mean: f64 = by_rows.column(0).sum() / by_rows.nrows() as f64;
    assert!(mean.abs() < 1e-12, "{mean}");

    // The single-row predictor gives the same features' predictions.
    let mut rp = RowPredictor::new(Arc::new(p.clone()), PredictKind::Proba).unwrap();
    let (_, proba) = predict_all(&p, &x);
    let mut out = [0.0; 3];
    for (i, row) in x.outer_iter().enumerate() {
        rp.predict_row(row.as_slice().unwrap(), &mut out).unwrap();
        assert_eq!(bits(&out), bits(&proba[i * 3..i * 3 + 3]));
    }
}

#[test]
fn row_path_covers_every_step_kind() {
    let steps = [
        r#"[{"type": "simple_imputer", "strategy": "median"}, {"type": "ordinal_encoder"},
            {"type": "min_max_scaler"}]"#,
        r#"[{"type": "simple_imputer", "strategy": "constant"},
            {"type": "one_hot_encoder", "drop": "first"}, {"type": "robust_scaler"},
            {"type": "normalizer", "norm": "l1"}]"#,
        r#"[{"type": "simple_imputer"}, {"type": "one_hot_encoder", "drop": "if_binary"},
            {"type": "normalizer", "norm": "max"}]"#,
        r#"[{"type": "simple_imputer", "strategy": "most_frequent"},
            {"type": "ordinal_encoder", "handle_unknown": "use_encoded_value",
             "unknown_value": -1}, {"type": "normalizer"}, {"type": "standard_scaler"}]"#,
    ];
    for s in steps {
        let (p, table) = fit("dummy_classifier", s);
        let x = raw_rows(&p, &table);
        let by_table = p.transform_table(&table);
        let by_rows = p.transform_rows(x.view());
        match (by_table, by_rows) {
            (Ok(t), Ok(r)) => {
                assert_eq!(
                    bits(t.as_slice().unwrap()),
                    bits(r.as_slice().unwrap()),
                    "{s}"
                )
            }
            // Both paths must agree on failing too (mean imputation leaves categorical
            // missing values, which the encoder then reports).
            (Err(_), Err(_)) => {}
            (a, b) => panic!("{s}: table {a:?} vs rows {b:?}"),
        }
    }
}

#[test]
fn unknown_categories_and_bad_indices_are_errors_naming_the_row() {
    let (p, table) = fit(
        "dummy_classifier",
        r#"[{"type": "simple_imputer", "strategy": "most_frequent"}, {"type": "one_hot_encoder"}]"#,
    );
    let mut x = raw_rows(&p, &table);
    let island = p.inputs().iter().position(|c| c.name == "island").unwrap();
    x[[5, island]] = 7.0; // not a category index
    let e = p.predict(x.view()).unwrap_err().to_string();
    assert!(e.contains("row 5") && e.contains("island"), "{e}");
    x[[5, island]] = 0.5;
    assert!(p.predict(x.view()).is_err());
    // Wrong column count.
    let narrow = Array2::<f64>::zeros((2, p.inputs().len() - 1));
    assert!(matches!(
        p.predict(narrow.view()).unwrap_err(),
        Error::Shape { .. }
    ));
}

#[test]
fn large_batches_in_parallel_equal_row_by_row() {
    let (p, table) = fit("dummy_classifier", STEPS);
    let x = raw_rows(&p, &table);
    // 344 rows repeated to 5,504 rows: several parallel blocks.
    let big = ndarray::concatenate(ndarray::Axis(0), &vec![x.view(); 16]).unwrap();
    let (_, proba) = predict_all(&p, &big);
    let mut rp = p.row_predictor(PredictKind::Proba).unwrap();
    let mut out = [0.0; 3];
    for (i, row) in big.outer_iter().enumerate() {
        rp.predict_row(row.as_slice().unwrap(), &mut out).unwrap();
        assert_eq!(bits(&out), bits(&proba[i * 3..i * 3 + 3]), "row {i}");
    }
}

#[test]
fn every_kind_single_row_path_equals_batch_bit_for_bit() {
    for &kind in ModelConfig::type_names() {
        let (p, table) = fit(kind, STEPS);
        let x = raw_rows(&p, &table);
        let outputs = predict_every_output(&p, &x);
        let shared = Arc::new(p);
        for (output, k, batch) in outputs {
            let mut by_row = RowPredictor::new(shared.clone(), output).unwrap();
            let mut out = vec![0.0; k];
            for (i, row) in x.outer_iter().enumerate() {
                by_row
                    .predict_row(row.to_slice().unwrap(), &mut out)
                    .unwrap();
                assert_eq!(
                    bits(&out),
                    bits(&batch[i * k..(i + 1) * k]),
                    "{kind} {output:?} row {i}"
                );
            }
        }
    }
}

#[test]
fn every_kind_round_trips_in_both_encodings() {
    for &kind in ModelConfig::type_names() {
        let (p, table) = fit(kind, STEPS);
        let x = raw_rows(&p, &table);
        let all = predict_every_output(&p, &x);
        let dir = std::env::temp_dir().join(format!("amlis-pipeline-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for enc in [Encoding::Binary, Encoding::Json] {
            let back = Pipeline::from_bytes(&p.to_bytes(enc).unwrap()).unwrap();
            assert_eq!(back, p, "{kind} {enc:?}");
            let path = dir.join(format!("{kind}-{enc:?}.amlis"));
            p.save(&path, enc).unwrap();
            let loaded = Pipeline::load(&path).unwrap();
            for ((k1, _, v1), (k2, _, v2)) in all.iter().zip(predict_every_output(&loaded, &x)) {
                assert_eq!(*k1, k2);
                assert_eq!(bits(v1), bits(&v2), "{kind} {k1:?} {enc:?}");
            }
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

#[test]
fn truncated_and_bit_flipped_files_are_errors() {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
    for &kind in ModelConfig::type_names() {
        let (p, _) = fit(kind, STEPS);
        for enc in [Encoding::Binary, Encoding::Json] {
            let bytes = p.to_bytes(enc).unwrap();
            for cut in 0..bytes.len() {
                let e = Pipeline::from_bytes(&bytes[..cut]).unwrap_err();
                assert!(matches!(e, Error::ModelCorrupt(_)), "{kind} cut {cut}: {e}");
            }
            for _ in 0..2000 {
                let mut b = bytes.clone();
                let i = rng.gen_range(0..b.len());
                b[i] ^= 1 << rng.gen_range(0..8);
                let e = Pipeline::from_bytes(&b).unwrap_err();
                assert!(
                    matches!(e, Error::ModelCorrupt(_) | Error::ModelVersion { .. }),
                    "{kind}: flip at byte {i}: {e}"
                );
            }
        }
    }
}

/// A file with a valid envelope and checksum but inconsistent contents (as a hostile writer
/// could make) is rejected by validation.
#[test]
fn hostile_payloads_are_rejected_by_validation() {
    let (p, _) = fit("dummy_classifier", STEPS);
    let good: Value = serde_json::to_value(&p).unwrap();
    type Edit = Box<dyn Fn(&mut Value)>;
    let edits: Vec<(&str, Edit)> = vec![
        (
            "a feature removed",
            Box::new(|v: &mut Value| {
                v["features"].as_array_mut().unwrap().pop();
            }),
        ),
        (
            "an input removed",
            Box::new(|v: &mut Value| {
                v["inputs"].as_array_mut().unwrap().pop();
            }),
        ),
        (
            "unsorted categories",
            Box::new(|v: &mut Value| {
                let cats = &mut v["steps"][1]["columns"][0]["categories"];
                cats.as_array_mut().unwrap().reverse();
            }),
        ),
        (
            "scaler with a short mean",
            Box::new(|v: &mut Value| {
                v["steps"][2]["mean"].as_array_mut().unwrap().pop();
            }),
        ),
        (
            "two inputs with one name",
            Box::new(|v: &mut Value| {
                v["inputs"][1]["name"] = v["inputs"][0]["name"].clone();
            }),
        ),
        (
            "a column kind changed",
            Box::new(|v: &mut Value| {
                v["inputs"][0]["kind"] = json!({"categorical": {"categories": ["a"]}});
            }),
        ),
    ];
    for (what, edit) in edits {
        let mut v = good.clone();
        edit(&mut v);
        let bytes = persist::encode(&v, PIPELINE_KIND, Encoding::Json).unwrap();
        match Pipeline::from_bytes(&bytes) {
            Err(Error::ModelCorrupt(_)) => {}
            other => panic!("{what}: {other:?}"),
        }
    }
}

#[test]
fn newer_format_is_a_version_error_naming_both() {
    let (p, _) = fit("dummy_regressor", "[]");
    let mut bytes = p.to_bytes(Encoding::Binary).unwrap();
    let newer = FORMAT_MINOR + 1; // a minor above the newest this library reads
    bytes[10..12].copy_from_slice(&newer.to_le_bytes());
    let e = Pipeline::from_bytes(&bytes).unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e, Error::ModelVersion { .. }), "{msg}");
    assert!(
        msg.contains(&format!("1.{newer}")) && msg.contains("1.0"),
        "{msg}"
    );
    bytes[10] = 0;
    bytes[8] = 2; // major 2
    assert!(matches!(
        Pipeline::from_bytes(&bytes).unwrap_err(),
        Error::ModelVersion { .. }
    ));
}

fn golden_dir(major: u16, minor: u16) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/golden/v{major}.{minor}"))
}

/// The first format version directory that holds a golden file of `kind`, if any.
fn golden_version_of(kind: &str) -> Option<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let mut versions: Vec<PathBuf> = std::fs::read_dir(root)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    versions.sort();
    versions
        .into_iter()
        .find(|v| v.join(format!("{kind}.expected.json")).exists())
}

/// Writes the golden files of the current format version (see the module docs).
#[test]
#[ignore = "writes tests/golden; run by hand when a new format version is released"]
fn write_golden_files() {
    let dir = golden_dir(FORMAT_MAJOR, FORMAT_MINOR);
    std::fs::create_dir_all(&dir).unwrap();
    for &kind in ModelConfig::type_names() {
        // Golden files are never rewritten: a kind gets one in the format version that
        // introduced it, and only kinds without one in any version get one.
        // An automatic type fits a pipeline of the family it chooses, whose own golden file
        // covers it.
        if golden_version_of(kind).is_some() || kind.starts_with("auto_") {
            continue;
        }
        let (p, table) = fit(kind, STEPS);
        let rows = table.take_rows(&(0..24).collect::<Vec<_>>()).unwrap();
        let x = raw_rows(&p, &rows);
        p.save(dir.join(format!("{kind}.amlis")), Encoding::Binary)
            .unwrap();
        p.save(dir.join(format!("{kind}.json")), Encoding::Json)
            .unwrap();
        let mut expected = json!({
            "kind": kind,
            "rows": x.outer_iter().map(|r| r.iter().map(|v| if v.is_nan() { None } else { Some(*v) }).collect::<Vec<_>>()).collect::<Vec<_>>(),
        });
        // Every output the model writes, under its name (`value`, `proba`, `transform`,
        // `score`).
        for (kind, _, values) in predict_every_output(&p, &x) {
            expected[kind.name()] = json!(values);
        }
        std::fs::write(
            dir.join(format!("{kind}.expected.json")),
            serde_json::to_string_pretty(&expected).unwrap() + "\n",
        )
        .unwrap();
    }
}

/// Every golden file of every format version still loads and predicts what it predicted
/// when it was written.
#[test]
fn golden_files_keep_loading() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let mut checked = 0;
    for version in std::fs::read_dir(&root).unwrap() {
        let version = version.unwrap().path();
        for entry in std::fs::read_dir(&version).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let Some(kind) = name.strip_suffix(".expected.json") else {
                continue;
            };
            let expected: Value =
                serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
            let rows: Vec<Vec<f64>> = expected["rows"]
                .as_array()
                .unwrap()
                .iter()
                .map(floats)
                .collect();
            let x = Array2::from_shape_vec(
                (rows.len(), rows[0].len()),
                rows.into_iter().flatten().collect(),
            )
            .unwrap();
            for file in [format!("{kind}.amlis"), format!("{kind}.json")] {
                let p = Pipeline::load(version.join(&file))
                    .unwrap_or_else(|e| panic!("{}/{file}: {e}", version.display()));
                assert_eq!(p.model().type_name(), kind);
                // Every output recorded when the file was written (files of format 1.0
                // recorded `value` and `proba`, the latter empty when the model had none).
                for (output, _, got) in predict_every_output(&p, &x) {
                    let what = output.name();
                    if expected.get(what).is_none() {
                        continue;
                    }
                    let want = floats(&expected[what]);
                    if want.is_empty() && output == PredictKind::Proba {
                        continue;
                    }
                    assert_eq!(got.len(), want.len(), "{file} {what}");
                    for (g, w) in got.iter().zip(&want) {
                        assert!(
                            (g - w).abs() <= 1e-12 * w.abs().max(1.0),
                            "{}/{file} {what}: {g} vs {w}",
                            version.display()
                        );
                    }
                }
                checked += 1;
            }
        }
    }
    assert!(checked >= 4, "only {checked} golden files found");
    // Every registered kind has a golden file, written in the format version that added it.
    let missing: Vec<&str> = ModelConfig::type_names()
        .iter()
        .copied()
        .filter(|kind| golden_version_of(kind).is_none() && !kind.starts_with("auto_"))
        .collect();
    assert!(
        missing.is_empty(),
        "no golden file for {missing:?}; run `cargo test --test pipeline -- --ignored \
         write_golden_files` and commit tests/golden/v{FORMAT_MAJOR}.{FORMAT_MINOR}/"
    );
}
