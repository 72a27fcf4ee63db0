//! Conformance of every registered model type, with no list to update: the outputs a model
//! writes agree with its tags, every fitted array of a model file is validated on load (a
//! hostile payload is `ModelCorrupt` or harmless, never a panic), and a seed gives the same
//! model for any thread count. (Found by adding toy families along ARCHITECTURE.md's guide:
//! without these, an empty `impl Outputs`, a missing tag or a `validate()` that checks
//! nothing passed every other test.)

use amlis::config::TrainConfig;
use amlis::data::Table;
use amlis::models::{Estimator, PredictKind, REGISTERED};
use amlis::pipeline::Pipeline;
use amlis::traits::FitContext;
use serde_json::{json, Value};

mod common;

const STEPS: &str = r#"[{"type": "simple_imputer", "strategy": "most_frequent"},
                        {"type": "one_hot_encoder", "handle_unknown": "ignore"},
                        {"type": "standard_scaler"}]"#;

/// Settings that keep each type's model small (debug builds).
fn small(type_name: &str) -> &'static str {
    if type_name.contains("forest") || type_name.contains("extra_trees") {
        r#", "n_estimators": 4"#
    } else if type_name.starts_with("gradient_boosting") {
        r#", "max_iter": 10"#
    } else if type_name == "local_outlier_factor" {
        r#", "novelty": true"#
    } else {
        common::auto_small(type_name)
    }
}

/// A small model of `type_name` with the usual steps fitted on `table` (`extra`: more keys of
/// the config's top level).
fn fit(type_name: &str, table: &Table, target: Option<&str>, extra: &str) -> Pipeline {
    let config = TrainConfig::from_json(&format!(
        r#"{{"model": {{"type": "{type_name}"{}}}, "preprocess": {}{extra}}}"#,
        small(type_name),
        common::prep_for(type_name, STEPS)
    ))
    .unwrap();
    Pipeline::fit(&config, table, target, &FitContext::new()).unwrap()
}

/// The outputs a fitted model has are among those its tags allow, and a classifier exposes
/// its classes (an empty `impl Outputs` compiles: this catches it).
#[test]
fn every_type_has_only_the_outputs_its_tags_allow() {
    for r in REGISTERED {
        let (table, target) = common::penguins_for_type(r.type_name, r.estimator);
        let p = fit(r.type_name, &table, target, "");
        // An automatic type fits an ordinary pipeline of the family it chose: that family's
        // tags apply.
        let chosen = REGISTERED
            .iter()
            .find(|e| e.type_name == p.model().type_name())
            .unwrap();
        let r = if r.type_name.starts_with("auto_") {
            chosen
        } else {
            r
        };
        for kind in p.outputs() {
            let allowed = match kind {
                PredictKind::Value => r.estimator != Estimator::Transformer,
                PredictKind::Proba => r.tags.probabilities,
                PredictKind::Score => r.tags.decision_function,
                PredictKind::Transform => r.tags.transforms,
            };
            assert!(
                allowed,
                "{} writes {kind:?} but its tags say no",
                r.type_name
            );
        }
        // The other way round (an empty `impl Outputs for M {}` compiles, every method having
        // a default): a classifier must expose its classes through `as_probabilistic` (the
        // registry, `amlis_model_info_json` and evaluation read them there), and a type
        // tagged `probabilities` must have the view even when a setting turns them off.
        let model = p.model();
        if r.estimator == Estimator::Classifier {
            assert!(model.n_classes() >= 2, "{}: no classes", r.type_name);
        }
        if r.tags.probabilities {
            assert!(model.as_probabilistic().is_some(), "{}", r.type_name);
        }
    }
}

/// `validate()` of every type is reached (truncations and bit flips stop at the envelope's
/// CRC): for every type, a file with
/// a valid envelope whose fitted model has one array shortened, or one number made huge,
/// either fails to load with `ModelCorrupt` or loads and predicts every output without a
/// panic.
#[test]
fn every_type_rejects_or_survives_a_hostile_model_payload() {
    use amlis::persist::{self, Encoding};
    use amlis::pipeline::PIPELINE_KIND;
    use std::panic::{catch_unwind, AssertUnwindSafe};

    for r in REGISTERED {
        let (table, target) = common::penguins_for_type(r.type_name, r.estimator);
        let p = fit(r.type_name, &table, target, "");
        let x = common::raw_rows(&p, &table);
        let x = x.slice(ndarray::s![..20, ..]).to_owned();
        let good = serde_json::to_value(&p).unwrap();
        // Every array and every count inside the fitted model (JSON pointers), nested ones
        // too (ndarray's `{"v", "dim", "data"}`, tree node lists), at most 60 of each per type.
        let mut pointers = Vec::new();
        collect_pointers(&good["model"]["model"], "/model/model", &mut pointers);
        let mut edits = 0;
        for (field, is_array) in pointers {
            {
                let edit = if is_array { "pop" } else { "huge" };
                let mut v = good.clone();
                let Some(target) = v.pointer_mut(&field) else {
                    continue;
                };
                match target {
                    Value::Array(a) => {
                        a.pop();
                    }
                    _ => *target = json!(1u64 << 40),
                }
                edits += 1;
                let bytes = persist::encode(&v, PIPELINE_KIND, Encoding::Json).unwrap();
                let what = format!("{} `{field}` {edit}", r.type_name);
                let outcome =
                    catch_unwind(AssertUnwindSafe(|| match Pipeline::from_bytes(&bytes) {
                        Err(amlis::Error::ModelCorrupt(_)) => {}
                        Err(e) => panic!("{what}: {e}"),
                        Ok(loaded) => {
                            for kind in loaded.outputs() {
                                let Ok(w) = loaded.output_width(kind) else {
                                    continue;
                                };
                                let mut out = vec![0.0; x.nrows() * w];
                                let _ = loaded.predict_rows_into(kind, x.view(), &mut out);
                            }
                        }
                    }));
                assert!(outcome.is_ok(), "{what}: a panic");
            }
        }
        assert!(
            edits > 0,
            "{}: no fitted array or count to edit",
            r.type_name
        );
    }
}

/// Same seed, same model for any thread count: every registered type fits the same model
/// with 1 and 2 threads.
#[test]
fn every_type_fits_the_same_model_for_any_thread_count() {
    for r in REGISTERED {
        let (table, target) = common::penguins_for_type(r.type_name, r.estimator);
        let fit = |threads: usize| {
            let extra = format!(r#", "random_state": 5, "n_threads": {threads}"#);
            fit(r.type_name, &table, target, &extra).model().clone()
        };
        assert_eq!(fit(1), fit(2), "{}", r.type_name);
    }
}

/// The JSON pointers of the non-empty arrays (`true`) and unsigned integers (`false`) under
/// `v`, at most 60 of each kind, in document order.
fn collect_pointers(v: &Value, at: &str, out: &mut Vec<(String, bool)>) {
    let count = |out: &Vec<(String, bool)>, kind: bool| out.iter().filter(|p| p.1 == kind).count();
    match v {
        Value::Array(a) if !a.is_empty() => {
            if count(out, true) < 60 {
                out.push((at.to_string(), true));
            }
            for (i, item) in a.iter().enumerate().take(3) {
                collect_pointers(item, &format!("{at}/{i}"), out);
            }
        }
        Value::Object(o) => {
            for (k, item) in o {
                collect_pointers(item, &format!("{at}/{k}"), out);
            }
        }
        Value::Number(n) if n.is_u64() && count(out, false) < 60 => {
            out.push((at.to_string(), false));
        }
        _ => {}
    }
}
