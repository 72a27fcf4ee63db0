//! amlis::metrics against scikit-learn 1.9 (fixtures from tests/fixtures/metrics_generate.py),
//! plus hand-checked cases, error messages, the scorer registry and invariants.

use std::collections::BTreeMap;

use amlis::data::Task;
use amlis::metrics::{self, Average, KappaWeights, MultiClass, Normalize, PrfOptions};
use amlis::traits::Prediction;
use amlis::{Error, Result};
use ndarray::{arr1, arr2, Array1, Array2, ArrayView1};
use proptest::prelude::*;
use serde_json::{json, Value};

const TOL: f64 = 1e-12;

fn num(v: &Value) -> f64 {
    match v {
        Value::Number(n) => n.as_f64().unwrap(),
        Value::String(s) => match s.as_str() {
            "nan" => f64::NAN,
            "inf" => f64::INFINITY,
            "-inf" => f64::NEG_INFINITY,
            other => other
                .parse()
                .unwrap_or_else(|_| panic!("not a number: {other}")),
        },
        other => panic!("not a number: {other}"),
    }
}

fn vec1(v: &Value) -> Array1<f64> {
    Array1::from(v.as_array().unwrap().iter().map(num).collect::<Vec<_>>())
}

fn opt_vec(v: &Value) -> Option<Array1<f64>> {
    (!v.is_null()).then(|| vec1(v))
}

fn opt_list(v: &Value) -> Option<Vec<f64>> {
    opt_vec(v).map(|a| a.to_vec())
}

fn mat(v: &Value) -> Array2<f64> {
    let rows = v.as_array().unwrap();
    let k = rows.first().map_or(0, |r| r.as_array().unwrap().len());
    let flat: Vec<f64> = rows
        .iter()
        .flat_map(|r| r.as_array().unwrap().iter().map(num))
        .collect();
    Array2::from_shape_vec((rows.len(), k), flat).unwrap()
}

fn opt_f(v: &Value) -> Option<f64> {
    (!v.is_null()).then(|| num(v))
}

fn j(x: f64) -> Value {
    if x.is_finite() {
        json!(x)
    } else if x.is_nan() {
        json!("nan")
    } else if x > 0.0 {
        json!("inf")
    } else {
        json!("-inf")
    }
}

fn jv(x: &[f64]) -> Value {
    Value::Array(x.iter().map(|v| j(*v)).collect())
}

fn jm(m: &Array2<f64>) -> Value {
    Value::Array(m.rows().into_iter().map(|r| jv(&r.to_vec())).collect())
}

fn average(v: &Value) -> Option<Average> {
    match v.as_str() {
        None => None,
        Some("binary") => Some(Average::Binary),
        Some("micro") => Some(Average::Micro),
        Some("macro") => Some(Average::Macro),
        Some("weighted") => Some(Average::Weighted),
        Some(o) => panic!("average {o}"),
    }
}

/// A metric of `(y_true, y_pred, sample_weight)`.
type WeightedMetric =
    fn(ArrayView1<'_, f64>, ArrayView1<'_, f64>, Option<ArrayView1<'_, f64>>) -> Result<f64>;

/// Calls the amlis function a fixture case names and returns its result as JSON.
fn run(f: &str, a: &Value) -> Result<Value> {
    let w = opt_vec(&a["sample_weight"]);
    let wv = w.as_ref().map(|w| w.view());
    let yt = || vec1(&a["y_true"]);
    let yp = || vec1(&a["y_pred"]);
    let b = |k: &str| a[k].as_bool().unwrap();
    // Metrics of (y_true, y_pred, sample_weight) alone.
    let weighted: [(&str, WeightedMetric); 10] = [
        ("matthews_corrcoef", metrics::matthews_corrcoef),
        ("hamming_loss", metrics::hamming_loss),
        ("mean_squared_error", metrics::mean_squared_error),
        ("root_mean_squared_error", metrics::root_mean_squared_error),
        ("mean_absolute_error", metrics::mean_absolute_error),
        ("median_absolute_error", metrics::median_absolute_error),
        (
            "mean_absolute_percentage_error",
            metrics::mean_absolute_percentage_error,
        ),
        ("mean_squared_log_error", metrics::mean_squared_log_error),
        ("mean_poisson_deviance", metrics::mean_poisson_deviance),
        ("mean_gamma_deviance", metrics::mean_gamma_deviance),
    ];
    if let Some((_, m)) = weighted.iter().find(|(name, _)| *name == f) {
        return Ok(j(m(yt().view(), yp().view(), wv)?));
    }
    Ok(match f {
        "accuracy_score" => j(metrics::accuracy_score(
            yt().view(),
            yp().view(),
            b("normalize"),
            wv,
        )?),
        "balanced_accuracy_score" => j(metrics::balanced_accuracy_score(
            yt().view(),
            yp().view(),
            b("adjusted"),
            wv,
        )?),
        "cohen_kappa_score" => {
            let weights = match a["weights"].as_str() {
                None => KappaWeights::None,
                Some("linear") => KappaWeights::Linear,
                Some(_) => KappaWeights::Quadratic,
            };
            let labels = opt_list(&a["labels"]);
            j(metrics::cohen_kappa_score(
                vec1(&a["y1"]).view(),
                vec1(&a["y2"]).view(),
                labels.as_deref(),
                weights,
                wv,
            )?)
        }
        "confusion_matrix" => {
            let normalize = match a["normalize"].as_str() {
                None => None,
                Some("true") => Some(Normalize::True),
                Some("pred") => Some(Normalize::Pred),
                Some(_) => Some(Normalize::All),
            };
            let labels = opt_list(&a["labels"]);
            jm(&metrics::confusion_matrix(
                yt().view(),
                yp().view(),
                labels.as_deref(),
                wv,
                normalize,
            )?)
        }
        "precision_recall_fscore_support" | "jaccard_score" => {
            let opts = PrfOptions {
                average: average(&a["average"]),
                pos_label: num(&a["pos_label"]),
                labels: opt_list(&a["labels"]),
                zero_division: num(&a["zero_division"]),
            };
            if f == "jaccard_score" {
                jv(&metrics::jaccard_score(
                    yt().view(),
                    yp().view(),
                    &opts,
                    wv,
                )?)
            } else {
                let r = metrics::precision_recall_fscore_support(
                    yt().view(),
                    yp().view(),
                    num(&a["beta"]),
                    &opts,
                    wv,
                )?;
                json!({"precision": jv(&r.precision), "recall": jv(&r.recall),
                       "fscore": jv(&r.fscore),
                       "support": r.support.as_ref().map_or(Value::Null, |s| jv(s))})
            }
        }
        "classification_report" => {
            let labels = opt_list(&a["labels"]);
            let names: Option<Vec<String>> = a["target_names"]
                .as_array()
                .map(|v| v.iter().map(|s| s.as_str().unwrap().to_string()).collect());
            let r = metrics::classification_report(
                yt().view(),
                yp().view(),
                labels.as_deref(),
                names.as_deref(),
                wv,
                a["digits"].as_u64().unwrap() as usize,
                num(&a["zero_division"]),
            )?;
            json!({"text": r.to_string()})
        }
        "top_k_accuracy_score" => {
            let labels = opt_list(&a["labels"]);
            j(metrics::top_k_accuracy_score(
                yt().view(),
                mat(&a["y_score"]).view(),
                a["k"].as_u64().unwrap() as usize,
                b("normalize"),
                labels.as_deref(),
                wv,
            )?)
        }
        "roc_curve" => {
            let c = metrics::roc_curve(
                yt().view(),
                vec1(&a["y_score"]).view(),
                opt_f(&a["pos_label"]),
                wv,
                b("drop_intermediate"),
            )?;
            json!({"fpr": jv(&c.fpr), "tpr": jv(&c.tpr), "thresholds": jv(&c.thresholds)})
        }
        "precision_recall_curve" => {
            let c = metrics::precision_recall_curve(
                yt().view(),
                vec1(&a["y_score"]).view(),
                opt_f(&a["pos_label"]),
                wv,
                b("drop_intermediate"),
            )?;
            json!({"precision": jv(&c.precision), "recall": jv(&c.recall),
                   "thresholds": jv(&c.thresholds)})
        }
        "roc_auc_score" => j(metrics::roc_auc_score(
            yt().view(),
            vec1(&a["y_score"]).view(),
            wv,
            opt_f(&a["max_fpr"]),
        )?),
        "roc_auc_score_multiclass" => {
            let mc = if a["multi_class"] == "ovo" {
                MultiClass::Ovo
            } else {
                MultiClass::Ovr
            };
            let labels = opt_list(&a["labels"]);
            j(metrics::roc_auc_score_multiclass(
                yt().view(),
                mat(&a["y_score"]).view(),
                mc,
                average(&a["average"]).unwrap(),
                labels.as_deref(),
                wv,
            )?)
        }
        "average_precision_score" => j(metrics::average_precision_score(
            yt().view(),
            vec1(&a["y_score"]).view(),
            num(&a["pos_label"]),
            wv,
        )?),
        "average_precision_score_multiclass" => j(metrics::average_precision_score_multiclass(
            yt().view(),
            mat(&a["y_score"]).view(),
            average(&a["average"]).unwrap(),
            wv,
        )?),
        "auc" => j(metrics::auc(
            &vec1(&a["x"]).to_vec(),
            &vec1(&a["y"]).to_vec(),
        )?),
        "log_loss" => {
            let labels = opt_list(&a["labels"]);
            j(metrics::log_loss(
                yt().view(),
                mat(&a["y_proba"]).view(),
                labels.as_deref(),
                b("normalize"),
                wv,
            )?)
        }
        "brier_score_loss" => {
            let labels = opt_list(&a["labels"]);
            j(metrics::brier_score_loss(
                yt().view(),
                mat(&a["y_proba"]).view(),
                labels.as_deref(),
                opt_f(&a["pos_label"]),
                wv,
                a["scale_by_half"].as_bool(),
            )?)
        }
        "mean_tweedie_deviance" | "d2_tweedie_score" => {
            let m = if f == "d2_tweedie_score" {
                metrics::d2_tweedie_score
            } else {
                metrics::mean_tweedie_deviance
            };
            j(m(yt().view(), yp().view(), wv, num(&a["power"]))?)
        }
        "r2_score" | "explained_variance_score" => {
            let m = if f == "r2_score" {
                metrics::r2_score
            } else {
                metrics::explained_variance_score
            };
            j(m(yt().view(), yp().view(), wv, b("force_finite"))?)
        }
        "max_error" => j(metrics::max_error(yt().view(), yp().view())?),
        "adjusted_rand_score"
        | "rand_score"
        | "mutual_info_score"
        | "normalized_mutual_info_score"
        | "homogeneity_completeness_v_measure" => {
            let (lt, lp) = (vec1(&a["labels_true"]), vec1(&a["labels_pred"]));
            let (lt, lp) = (lt.view(), lp.view());
            match f {
                "adjusted_rand_score" => j(metrics::adjusted_rand_score(lt, lp)?),
                "rand_score" => j(metrics::rand_score(lt, lp)?),
                "mutual_info_score" => j(metrics::mutual_info_score(lt, lp)?),
                "normalized_mutual_info_score" => {
                    let m = match a["average_method"].as_str().unwrap() {
                        "min" => metrics::AverageMethod::Min,
                        "geometric" => metrics::AverageMethod::Geometric,
                        "arithmetic" => metrics::AverageMethod::Arithmetic,
                        _ => metrics::AverageMethod::Max,
                    };
                    j(metrics::normalized_mutual_info_score(lt, lp, m)?)
                }
                _ => {
                    let (h, c, v) =
                        metrics::homogeneity_completeness_v_measure(lt, lp, num(&a["beta"]))?;
                    jv(&[h, c, v])
                }
            }
        }
        "silhouette_samples" => jv(&metrics::silhouette_samples(
            mat(&a["X"]).view(),
            vec1(&a["labels"]).view(),
        )?
        .to_vec()),
        "silhouette_score" => j(metrics::silhouette_score(
            mat(&a["X"]).view(),
            vec1(&a["labels"]).view(),
        )?),
        "scorer" => {
            let m = metrics::get(a["name"].as_str().unwrap())?;
            let pred_v = opt_vec(&a["y_pred"]);
            let score = (!a["y_score"].is_null()).then(|| mat(&a["y_score"]));
            let pred = match (&pred_v, &score) {
                (Some(v), _) => Prediction::Values(v.view()),
                (None, Some(s)) => Prediction::Scores(s.view()),
                _ => panic!("scorer case without prediction"),
            };
            j(m.score(yt().view(), pred, wv)?)
        }
        other => panic!("fixture names unknown function {other}"),
    })
}

thread_local! {
    /// The largest relative difference seen (|a - e| / max(|e|, 1)) and how many values matched
    /// bit for bit, out of how many.
    static STATS: std::cell::Cell<(f64, usize, usize)> = const { std::cell::Cell::new((0.0, 0, 0)) };
}

fn close(a: f64, e: f64) -> bool {
    STATS.with(|s| {
        let (m, exact, total) = s.get();
        let d = if a.is_nan() && e.is_nan() || a == e {
            0.0
        } else {
            (a - e).abs() / e.abs().max(1.0)
        };
        s.set((
            m.max(d),
            exact + usize::from(a == e || (a.is_nan() && e.is_nan())),
            total + 1,
        ));
    });
    (a.is_nan() && e.is_nan()) || a == e || (a - e).abs() <= TOL + TOL * e.abs()
}

fn compare(actual: &Value, expected: &Value, path: &str) -> std::result::Result<(), String> {
    match (actual, expected) {
        (Value::Array(a), Value::Array(e)) => {
            if a.len() != e.len() {
                return Err(format!(
                    "{path}: length {} != expected {}",
                    a.len(),
                    e.len()
                ));
            }
            for (i, (x, y)) in a.iter().zip(e).enumerate() {
                compare(x, y, &format!("{path}[{i}]"))?;
            }
            Ok(())
        }
        (Value::Object(a), Value::Object(e)) => {
            for (k, ev) in e {
                compare(a.get(k).unwrap_or(&Value::Null), ev, &format!("{path}.{k}"))?;
            }
            Ok(())
        }
        (Value::Null, Value::Null) => Ok(()),
        (Value::String(a), Value::String(e)) if e.parse::<f64>().is_err() => {
            if a == e {
                Ok(())
            } else {
                Err(format!(
                    "{path}: text differs\n--- amlis\n{a}\n--- sklearn\n{e}"
                ))
            }
        }
        (a, e) if (a.is_number() || a.is_string()) && (e.is_number() || e.is_string()) => {
            let (x, y) = (num(a), num(e));
            if close(x, y) {
                Ok(())
            } else {
                Err(format!(
                    "{path}: {x:e} != expected {y:e} (diff {:e})",
                    x - y
                ))
            }
        }
        (a, e) => Err(format!("{path}: {a} != expected {e}")),
    }
}

fn fixture() -> Value {
    let text = include_str!("fixtures/metrics_cases.json");
    serde_json::from_str(text).unwrap()
}

#[test]
fn every_fixture_case_matches_scikit_learn() {
    let fx = fixture();
    let cases = fx["cases"].as_array().unwrap();
    let mut failures = Vec::new();
    let mut per_fn: BTreeMap<String, usize> = BTreeMap::new();
    for (i, c) in cases.iter().enumerate() {
        let f = c["fn"].as_str().unwrap();
        *per_fn.entry(f.to_string()).or_default() += 1;
        let out = run(f, &c["args"]);
        if c["expect_error"].as_bool().unwrap_or(false) {
            match out {
                Err(e) => assert!(!e.to_string().is_empty()),
                Ok(v) => failures.push(format!(
                    "case {i} {f}: expected an error (scikit-learn {}), got {v}",
                    c["sklearn"]
                )),
            }
            continue;
        }
        match out {
            Err(e) => failures.push(format!("case {i} {f}: unexpected error: {e}")),
            Ok(v) => {
                if let Err(msg) = compare(&v, &c["expected"], f) {
                    failures.push(format!("case {i} {f} {}: {msg}", short(&c["args"])));
                }
            }
        }
    }
    assert!(cases.len() > 2000, "fixture has {} cases", cases.len());
    let (max_rel, exact, total) = STATS.with(|s| s.get());
    eprintln!(
        "{} cases; {total} numbers compared, {exact} bit-identical, max relative difference {max_rel:e}",
        cases.len()
    );
    for name in [
        "accuracy_score",
        "balanced_accuracy_score",
        "precision_recall_fscore_support",
        "jaccard_score",
        "confusion_matrix",
        "classification_report",
        "matthews_corrcoef",
        "cohen_kappa_score",
        "top_k_accuracy_score",
        "hamming_loss",
        "roc_curve",
        "roc_auc_score",
        "roc_auc_score_multiclass",
        "precision_recall_curve",
        "average_precision_score",
        "average_precision_score_multiclass",
        "auc",
        "log_loss",
        "brier_score_loss",
        "mean_squared_error",
        "root_mean_squared_error",
        "mean_absolute_error",
        "median_absolute_error",
        "mean_absolute_percentage_error",
        "r2_score",
        "explained_variance_score",
        "max_error",
        "mean_squared_log_error",
        "mean_poisson_deviance",
        "mean_gamma_deviance",
        "mean_tweedie_deviance",
        "d2_tweedie_score",
        "silhouette_samples",
        "silhouette_score",
        "adjusted_rand_score",
        "rand_score",
        "normalized_mutual_info_score",
        "mutual_info_score",
        "homogeneity_completeness_v_measure",
        "scorer",
    ] {
        assert!(per_fn.contains_key(name), "no fixture case for {name}");
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures
            .iter()
            .take(30)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}

fn short(v: &Value) -> String {
    let mut s = v.to_string();
    if s.len() > 300 {
        s.truncate(300);
        s.push_str("...");
    }
    s
}

// ------------------------------------------------------------------ hand-checked values

#[test]
fn hand_checked_binary_metrics() {
    let y = arr1(&[1., 1., 1., 0., 0., 0., 0., 0.]);
    let p = arr1(&[1., 1., 0., 1., 0., 0., 0., 0.]);
    // tp 2, fp 1, fn 1, tn 4
    let o = PrfOptions::default();
    assert_eq!(
        metrics::precision_score(y.view(), p.view(), &o, None).unwrap(),
        2.0 / 3.0
    );
    assert_eq!(
        metrics::recall_score(y.view(), p.view(), &o, None).unwrap(),
        2.0 / 3.0
    );
    assert_eq!(
        metrics::accuracy_score(y.view(), p.view(), false, None).unwrap(),
        6.0
    );
    let mcc = metrics::matthews_corrcoef(y.view(), p.view(), None).unwrap();
    let expect = (2.0 * 4.0 - 1.0 * 1.0) / ((3.0f64) * 3.0 * 5.0 * 5.0).sqrt();
    assert!((mcc - expect).abs() < 1e-15);
    let cm = metrics::confusion_matrix(y.view(), p.view(), None, None, None).unwrap();
    assert_eq!(cm, arr2(&[[4., 1.], [1., 2.]]));
}

#[test]
fn hand_checked_roc_with_ties() {
    // Two tied scores of opposite classes make one diagonal step: AUC counts the tie as 1/2.
    let y = arr1(&[0., 1., 0., 1.]);
    let s = arr1(&[0.2, 0.5, 0.5, 0.9]);
    let c = metrics::roc_curve(y.view(), s.view(), None, None, false).unwrap();
    assert_eq!(c.thresholds, vec![f64::INFINITY, 0.9, 0.5, 0.2]);
    assert_eq!(c.tpr, vec![0.0, 0.5, 1.0, 1.0]);
    assert_eq!(c.fpr, vec![0.0, 0.0, 0.5, 1.0]);
    assert_eq!(
        metrics::roc_auc_score(y.view(), s.view(), None, None).unwrap(),
        0.875
    );
}

#[test]
fn hand_checked_regression_and_clustering() {
    let t = arr1(&[1., 2., 3., 4.]);
    let p = arr1(&[1., 2., 3., 6.]);
    assert_eq!(metrics::max_error(t.view(), p.view()).unwrap(), 2.0);
    assert_eq!(
        metrics::mean_squared_error(t.view(), p.view(), None).unwrap(),
        1.0
    );
    // constant truth: force_finite gives 0 for imperfect, 1 for perfect predictions
    let c = arr1(&[2., 2., 2.]);
    assert_eq!(
        metrics::r2_score(c.view(), arr1(&[1., 2., 3.]).view(), None, true).unwrap(),
        0.0
    );
    assert_eq!(
        metrics::r2_score(c.view(), c.view(), None, true).unwrap(),
        1.0
    );
    assert_eq!(
        metrics::r2_score(c.view(), arr1(&[1., 2., 3.]).view(), None, false).unwrap(),
        f64::NEG_INFINITY
    );
    let a = arr1(&[0., 0., 1., 1.]);
    assert_eq!(
        metrics::normalized_mutual_info_score(
            a.view(),
            arr1(&[5., 5., 3., 3.]).view(),
            Default::default()
        )
        .unwrap(),
        1.0
    );
}

#[test]
fn classification_report_text_layout() {
    let r = metrics::classification_report(
        arr1(&[0., 1., 2., 2., 2.]).view(),
        arr1(&[0., 0., 2., 2., 1.]).view(),
        None,
        Some(&[
            "class 0".to_string(),
            "class 1".to_string(),
            "class 2".to_string(),
        ]),
        None,
        2,
        0.0,
    )
    .unwrap();
    let expected = "              precision    recall  f1-score   support

     class 0       0.50      1.00      0.67         1
     class 1       0.00      0.00      0.00         1
     class 2       1.00      0.67      0.80         3

    accuracy                           0.60         5
   macro avg       0.50      0.56      0.49         5
weighted avg       0.70      0.60      0.61         5
";
    assert_eq!(r.to_string(), expected);
    assert_eq!(r.classes[2].support, 3.0);
    assert_eq!(r.accuracy, Some(0.6));
}

// ------------------------------------------------------------------ errors say what and where

/// Asserts that the error message `e` says every one of `parts`.
fn assert_says(e: &str, parts: &[&str]) {
    assert!(parts.iter().all(|p| e.contains(p)), "{e}");
}

fn err<T: std::fmt::Debug>(r: Result<T>) -> String {
    r.unwrap_err().to_string()
}

#[test]
fn errors_name_what_and_where() {
    let e = err(metrics::accuracy_score(
        arr1(&[0., 1., 1.]).view(),
        arr1(&[0., 1.]).view(),
        true,
        None,
    ));
    assert_says(&e, &["y_pred of length 2", "(3)"]);

    let e = err(metrics::mean_squared_error(
        arr1(&[]).view(),
        arr1(&[]).view(),
        None,
    ));
    assert_says(&e, &["empty", "mean_squared_error"]);

    let e = err(metrics::roc_auc_score(
        arr1(&[0., 1., 1.]).view(),
        arr1(&[0.1, f64::NAN, 0.3]).view(),
        None,
        None,
    ));
    assert_says(&e, &["row 1", "y_score", "NaN"]);

    let e = err(metrics::roc_auc_score(
        arr1(&[1., 1.]).view(),
        arr1(&[0.1, 0.3]).view(),
        None,
        None,
    ));
    assert_says(
        &e,
        &["Only one class present in y_true. ROC AUC score is not defined in that case."],
    );

    let w = arr1(&[1.0, -0.5, 1.0]);
    let e = err(metrics::r2_score(
        arr1(&[1., 2., 3.]).view(),
        arr1(&[1., 2., 2.]).view(),
        Some(w.view()),
        true,
    ));
    assert_says(&e, &["row 1", "sample_weight", "non-negative"]);

    let p = arr2(&[[0.5, 0.5], [0.2, 0.8]]);
    let e = err(metrics::log_loss(
        arr1(&[0., 3.]).view(),
        p.view(),
        Some(&[0., 1.]),
        true,
        None,
    ));
    assert_says(&e, &["row 1", "label 3"]);

    let e = err(metrics::f1_score(
        arr1(&[0., 1., 2.]).view(),
        arr1(&[0., 1., 2.]).view(),
        &PrfOptions::default(),
        None,
    ));
    assert_says(&e, &["multiclass", "average='binary'"]);

    let e = err(metrics::roc_auc_score_multiclass(
        arr1(&[0., 1., 2.]).view(),
        arr2(&[[0.5, 0.5, 0.0], [0.2, 0.8, 0.0], [0.2, 0.7, 0.5]]).view(),
        MultiClass::Ovr,
        Average::Macro,
        None,
        None,
    ));
    assert_says(&e, &["row 2", "sum"]);
}

// ------------------------------------------------------------------ the scorer registry

#[test]
fn registry_knows_sklearn_scorer_names_and_signs() {
    let names = metrics::names();
    for n in [
        "accuracy",
        "balanced_accuracy",
        "f1",
        "f1_macro",
        "f1_micro",
        "f1_weighted",
        "precision",
        "precision_macro",
        "recall_weighted",
        "roc_auc",
        "roc_auc_ovr",
        "roc_auc_ovo",
        "roc_auc_ovr_weighted",
        "roc_auc_ovo_weighted",
        "average_precision",
        "neg_log_loss",
        "log_loss",
        "neg_brier_score",
        "matthews_corrcoef",
        "top_k_accuracy",
        "r2",
        "explained_variance",
        "max_error",
        "neg_mean_squared_error",
        "mean_squared_error",
        "neg_root_mean_squared_error",
        "neg_mean_absolute_error",
        "neg_median_absolute_error",
        "neg_mean_absolute_percentage_error",
        "adjusted_rand_score",
        "normalized_mutual_info_score",
    ] {
        assert!(names.contains(&n), "missing {n}");
        let m = metrics::get(n).unwrap();
        assert_eq!(m.name(), n);
        let is_raw_error = ["log_loss", "max_error", "mean_squared_error"].contains(&n);
        assert_eq!(m.greater_is_better(), !is_raw_error, "{n}");
    }
    let mut sorted = names.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), names.len(), "duplicate names");

    let e = err(metrics::get("f1_marco").map(|_| ()));
    assert_says(&e, &["unknown metric `f1_marco`", "Did you mean: f1_macro"]);
    let e = err(metrics::get("rocauc").map(|_| ()));
    assert_says(&e, &["roc_auc"]);
}

#[test]
fn scorer_input_kinds_are_checked() {
    let y = arr1(&[0., 1., 1.]);
    let e =
        err(metrics::get("roc_auc")
            .unwrap()
            .score(y.view(), Prediction::Values(y.view()), None));
    assert_says(&e, &["roc_auc", "scores"]);
    let s = arr2(&[[0.2, 0.8], [0.3, 0.7], [0.9, 0.1]]);
    let e =
        err(metrics::get("accuracy")
            .unwrap()
            .score(y.view(), Prediction::Scores(s.view()), None));
    assert_says(&e, &["accuracy", "3x2"]);
    // A 1-column decision score and the 2-column probabilities give the same binary AUC.
    let m = metrics::get("roc_auc").unwrap();
    let one = s.slice(ndarray::s![.., 1..2]).to_owned();
    let a = m
        .score(y.view(), Prediction::Scores(s.view()), None)
        .unwrap();
    let b = m
        .score(y.view(), Prediction::Scores(one.view()), None)
        .unwrap();
    assert_eq!(a, b);
}

#[test]
fn scorer_labels_outside_the_score_columns_are_errors() {
    let p = arr2(&[[0.2, 0.5, 0.3], [0.3, 0.3, 0.4], [0.1, 0.1, 0.8]]);
    let y = arr1(&[0., 1., 5.]);
    for name in [
        "neg_log_loss",
        "roc_auc_ovr",
        "neg_brier_score",
        "top_k_accuracy",
    ] {
        let e =
            err(metrics::get(name)
                .unwrap()
                .score(y.view(), Prediction::Scores(p.view()), None));
        assert!(e.contains("row 2") && e.contains('5'), "{name}: {e}");
    }
    // A fold missing class 1 still scores: the columns name the classes 0..k.
    let y = arr1(&[0., 2., 2.]);
    let l = metrics::get("log_loss")
        .unwrap()
        .score(y.view(), Prediction::Scores(p.view()), None)
        .unwrap();
    let expect = -(0.2f64.ln() + 0.4f64.ln() + 0.8f64.ln()) / 3.0;
    assert!((l - expect).abs() < 1e-15, "{l} vs {expect}");
}

#[test]
fn metric_task_fit_is_checked() {
    let binary = Task::Classification {
        classes: vec!["a".into(), "b".into()],
    };
    let three = Task::Classification {
        classes: vec!["a".into(), "b".into(), "c".into()],
    };
    assert!(metrics::metric_fits_task("roc_auc", &binary).is_ok());
    assert!(metrics::metric_fits_task("f1_macro", &three).is_ok());
    assert!(metrics::metric_fits_task("r2", &Task::Regression).is_ok());
    assert!(metrics::metric_fits_task("adjusted_rand_score", &Task::Unsupervised).is_ok());
    let e = err(metrics::metric_fits_task("roc_auc", &Task::Regression));
    assert_says(&e, &["roc_auc", "regression"]);
    let e = err(metrics::metric_fits_task("f1", &three));
    assert_says(&e, &["exactly 2 classes", "f1_macro"]);
    let e = err(metrics::metric_fits_task("neg_mean_squared_error", &binary));
    assert_says(&e, &["regressor"]);
    assert!(matches!(
        metrics::metric_fits_task("nope", &binary),
        Err(Error::InvalidArgument(_))
    ));
}

// ------------------------------------------------------------------ invariants

fn labels(n: usize, k: u32) -> impl Strategy<Value = Vec<f64>> {
    proptest::collection::vec((0..k).prop_map(f64::from), n)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn confusion_matrix_counts_every_sample((yt, yp) in (5usize..60).prop_flat_map(|n| (labels(n, 4), labels(n, 4)))) {
        let cm = metrics::confusion_matrix(ArrayView1::from(&yt), ArrayView1::from(&yp), None, None, None).unwrap();
        prop_assert_eq!(cm.sum(), yt.len() as f64);
        let acc = metrics::accuracy_score(ArrayView1::from(&yt), ArrayView1::from(&yp), true, None).unwrap();
        prop_assert!((cm.diag().sum() / yt.len() as f64 - acc).abs() < 1e-12);
        let micro = metrics::f1_score(ArrayView1::from(&yt), ArrayView1::from(&yp), &PrfOptions::average(Some(Average::Micro)), None).unwrap();
        prop_assert!((micro - acc).abs() < 1e-12);
    }

    #[test]
    fn auc_is_rank_statistic(ys in proptest::collection::vec((0u8..2, 0u8..10), 4..50)) {
        let y: Vec<f64> = ys.iter().map(|p| f64::from(p.0)).collect();
        let s: Vec<f64> = ys.iter().map(|p| f64::from(p.1)).collect();
        prop_assume!(y.contains(&0.0) && y.contains(&1.0));
        let auc = metrics::roc_auc_score(ArrayView1::from(&y), ArrayView1::from(&s), None, None).unwrap();
        // Mann-Whitney: P(score_pos > score_neg) + P(tie)/2
        let (mut num, mut den) = (0.0, 0.0);
        for i in 0..y.len() { for k in 0..y.len() {
            if y[i] == 1.0 && y[k] == 0.0 {
                den += 1.0;
                num += if s[i] > s[k] { 1.0 } else if s[i] == s[k] { 0.5 } else { 0.0 };
            }
        }}
        prop_assert!((auc - num / den).abs() < 1e-12);
    }

    #[test]
    fn silhouette_same_for_any_thread_count(pts in proptest::collection::vec((-5.0f64..5.0, -5.0f64..5.0, 0u8..3), 6..80)) {
        let x = Array2::from_shape_vec((pts.len(), 2), pts.iter().flat_map(|p| [p.0, p.1]).collect()).unwrap();
        let l: Vec<f64> = pts.iter().map(|p| f64::from(p.2)).collect();
        let k = { let mut u = l.clone(); u.sort_by(f64::total_cmp); u.dedup(); u.len() };
        prop_assume!(k >= 2 && k < pts.len());
        let one = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap()
            .install(|| metrics::silhouette_samples(x.view(), ArrayView1::from(&l)).unwrap());
        let many = rayon::ThreadPoolBuilder::new().num_threads(3).build().unwrap()
            .install(|| metrics::silhouette_samples(x.view(), ArrayView1::from(&l)).unwrap());
        prop_assert_eq!(one.clone(), many);
        prop_assert!(one.iter().all(|v| (-1.0..=1.0).contains(v)));
    }
}
