//! The kNN models against scikit-learn 1.9.1 (`tests/fixtures/knn_generate.py`, which stores
//! the exact data): fitted on the even rows of iris / wine (standardized), a digits
//! subsample, diabetes (standardized) and an integer grid full of duplicates, queried on the
//! first 16 rows (half of them training rows: exact matches), for every metric and algorithm,
//! `uniform` and `distance` weights:
//!
//! - `kneighbors` / `radius_neighbors`: distances to 1e-12, indices exactly (as sets within
//!   a run of tied distances; at a tie on the k-th distance scikit-learn's trees keep the
//!   row they visit first, amlis the smallest row, so that run is compared by distance);
//! - `predict` exactly and `predict_proba` / regression to 1e-12, on every row whose
//!   neighbour set is scikit-learn's (all rows but those with a k-th distance tie where
//!   scikit-learn kept another row; the test counts them and requires few);
//! - the radius classifier with `outlier_label` `"most_frequent"` and a class, and without
//!   (an error naming the first row without neighbours); the radius regressor's NaN rows;
//! - the single-row path gives the batch path's bits; 1 and 3 threads give the same bits.

mod common;

use amlis::data::DenseDataset;
use amlis::models::neighbors::{
    Algorithm, KNeighborsClassifier, KNeighborsRegressor, Metric, RadiusNeighborsClassifier,
    RadiusNeighborsRegressor, Weights,
};
use amlis::traits::{Dataset, Model, Predictor, ProbabilisticPredictor, Trainer};
use amlis::Error;
use ndarray::{s, Array1, Array2};
use serde_json::Value;

fn fixture() -> &'static Value {
    static F: std::sync::OnceLock<Value> = std::sync::OnceLock::new();
    F.get_or_init(|| common::fixture("knn_sklearn.json"))
}

const TOL: f64 = 1e-12;

/// The training set (even rows) and the queries of a data set.
fn data(name: &str) -> (DenseDataset, Array2<f64>) {
    let d = &fixture()["data"][name];
    let rows = d["x"].as_array().unwrap();
    let width = rows[0].as_array().unwrap().len();
    let flat: Vec<f64> = rows.iter().flat_map(common::floats).collect();
    let x = Array2::from_shape_vec((rows.len(), width), flat).unwrap();
    let y = Array1::from(common::floats(&d["y"]));
    let (xt, yt) = (
        x.slice(s![..;2, ..]).to_owned(),
        y.slice(s![..;2]).to_owned(),
    );
    let nq = fixture()["n_queries"].as_u64().unwrap() as usize;
    let q = x.slice(s![..nq, ..]).to_owned();
    let train = if d["task"] == "classification" {
        DenseDataset::classification(xt, yt)
    } else {
        DenseDataset::regression(xt, yt)
    };
    (train.unwrap(), q)
}

fn parse<T: serde::de::DeserializeOwned>(v: &Value) -> T {
    serde_json::from_value(v.clone()).unwrap()
}

fn rows_of(v: &Value) -> Vec<Vec<f64>> {
    v.as_array().unwrap().iter().map(common::floats).collect()
}

fn index_rows(v: &Value) -> Vec<Vec<usize>> {
    v.as_array().unwrap().iter().map(common::usizes).collect()
}

/// Compares one row of neighbours (distances to 1e-12, indices as sets within tied runs; the
/// run at the last distance only by distance when `k_th`); returns whether the neighbour
/// sets are equal.
fn same_neighbours(
    what: &str,
    got: (&[usize], &[f64]),
    want: (&[usize], &[f64]),
    k_th: bool,
) -> bool {
    let (gi, gd) = got;
    let (wi, wd) = want;
    assert_eq!(gi.len(), wi.len(), "{what}: count");
    for (g, w) in gd.iter().zip(wd) {
        assert!((g - w).abs() <= TOL, "{what}: distance {g} vs {w}");
    }
    let last = wd.last().copied().unwrap_or(0.0);
    let mut t = 0;
    while t < gi.len() {
        let mut end = t + 1;
        while end < gi.len() && (wd[end] - wd[t]).abs() <= TOL {
            end += 1;
        }
        if !k_th || (wd[t] - last).abs() > TOL {
            let mut a = gi[t..end].to_vec();
            let mut b = wi[t..end].to_vec();
            a.sort_unstable();
            b.sort_unstable();
            assert_eq!(a, b, "{what}: the neighbours at distance {}", wd[t]);
        }
        t = end;
    }
    let mut a = gi.to_vec();
    let mut b = wi.to_vec();
    a.sort_unstable();
    b.sort_unstable();
    a == b
}

fn close(what: &str, got: &[f64], want: &[f64]) {
    assert_eq!(got.len(), want.len(), "{what}");
    for (g, w) in got.iter().zip(want) {
        let ok = (g.is_nan() && w.is_nan()) || (g - w).abs() <= TOL * (1.0 + w.abs());
        assert!(ok, "{what}: {got:?} vs {want:?}");
    }
}

/// The single-row path gives the batch's bits (predict and, for classifiers, predict_proba).
fn row_path_is_batch(
    what: &str,
    m: &dyn Predictor,
    p: Option<&dyn ProbabilisticPredictor>,
    q: &Array2<f64>,
) {
    let batch = m.predict(q.view());
    for (i, row) in q.outer_iter().enumerate() {
        let mut out = [0.0];
        let one = m.predict_row_into(row.as_slice().unwrap(), &mut out);
        match &batch {
            Ok(b) => assert_eq!(out[0].to_bits(), b[i].to_bits(), "{what} row {i}"),
            Err(_) => {
                let _ = one;
            }
        }
    }
    if let (Some(p), Ok(_)) = (p, &batch) {
        let all = p.predict_proba(q.view()).unwrap();
        for (i, row) in q.outer_iter().enumerate() {
            let mut out = vec![0.0; p.n_classes()];
            p.predict_proba_row_into(row.as_slice().unwrap(), &mut out)
                .unwrap();
            let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(
                bits(&out),
                bits(all.row(i).as_slice().unwrap()),
                "{what} proba row {i}"
            );
        }
    }
}

struct Case<'a> {
    v: &'a Value,
    what: String,
}

impl Case<'_> {
    fn metric(&self) -> Metric {
        parse(&self.v["metric"])
    }
    fn algorithm(&self) -> Algorithm {
        parse(&self.v["algorithm"])
    }
    fn p(&self) -> f64 {
        self.v["p"].as_f64().unwrap()
    }
}

fn cases(key: &str) -> Vec<Case<'static>> {
    fixture()[key]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| Case {
            v,
            what: format!("{} {} {} {}", key, v["data"], v["metric"], v["algorithm"]),
        })
        .collect()
}

const WEIGHTS: [(&str, Weights); 2] = [
    ("uniform", Weights::Uniform),
    ("distance", Weights::Distance),
];

#[test]
fn k_neighbors_models_equal_scikit_learn() {
    let (mut rows, mut compared, mut by_rule) = (0, 0, 0);
    for c in cases("knn") {
        let (train, q) = data(c.v["data"].as_str().unwrap());
        let k = c.v["k"].as_u64().unwrap() as usize;
        let (wi, wd) = (index_rows(&c.v["indices"]), rows_of(&c.v["distances"]));
        let classify = train.n_classes() > 0;
        for (wname, weights) in WEIGHTS {
            let want = &c.v["by_weights"][wname];
            let what = format!("{} {wname}", c.what);
            macro_rules! trainer {
                ($t:ty) => {
                    <$t>::default()
                        .n_neighbors(k)
                        .weights(weights)
                        .metric(c.metric())
                        .p(c.p())
                        .algorithm(c.algorithm())
                        .leaf_size(7)
                };
            }
            let (pred, proba, near) = if classify {
                let m = trainer!(KNeighborsClassifier).fit(&train).unwrap();
                row_path_is_batch(&what, &m, Some(&m), &q);
                let near = m.neighbors.kneighbors(Some(q.view()), None).unwrap();
                (
                    m.predict(q.view()).unwrap(),
                    Some(m.predict_proba(q.view()).unwrap()),
                    near,
                )
            } else {
                let m = trainer!(KNeighborsRegressor).fit(&train).unwrap();
                row_path_is_batch(&what, &m, None, &q);
                let near = m.neighbors.kneighbors(Some(q.view()), None).unwrap();
                (m.predict(q.view()).unwrap(), None, near)
            };
            for r in 0..q.nrows() {
                let got = (
                    near.indices.row(r).to_slice().unwrap(),
                    near.distances.row(r).to_slice().unwrap(),
                );
                let same = same_neighbours(&format!("{what} row {r}"), got, (&wi[r], &wd[r]), true);
                rows += 1;
                // A tie at the k-th distance where scikit-learn kept other rows: the
                // reference under amlis's rule (the smallest rows), with scikit-learn's weights.
                let rule = &want["index_rule"][r.to_string()];
                let want = if same {
                    compared += 1;
                    want.clone()
                } else {
                    assert_eq!(
                        got.0,
                        common::usizes(&rule["indices"]).as_slice(),
                        "{what} row {r}"
                    );
                    by_rule += 1;
                    serde_json::json!({"predict": {r.to_string(): rule["predict"]}, "proba": {r.to_string(): rule["proba"]}})
                };
                let key = |v: &Value| {
                    if same {
                        v[r].clone()
                    } else {
                        v[r.to_string()].clone()
                    }
                };
                let want_pred = key(&want["predict"]).as_f64().unwrap();
                if classify {
                    assert_eq!(pred[r], want_pred, "{what} predict row {r}");
                } else {
                    close(&format!("{what} predict row {r}"), &[pred[r]], &[want_pred]);
                }
                if let Some(p) = &proba {
                    let wp = common::floats(&key(&want["proba"]));
                    close(
                        &format!("{what} proba row {r}"),
                        p.row(r).as_slice().unwrap(),
                        &wp,
                    );
                }
            }
        }
    }
    eprintln!(
        "{compared} of {rows} rows equal scikit-learn's; {by_rule} (a tie at the k-th distance \
         where scikit-learn kept another row) equal it under the smallest-row rule"
    );
    assert_eq!(compared + by_rule, rows);
}

#[test]
fn radius_neighbors_models_equal_scikit_learn() {
    for c in cases("radius") {
        let (train, q) = data(c.v["data"].as_str().unwrap());
        let radius = c.v["radius"].as_f64().unwrap();
        let (wi, wd) = (index_rows(&c.v["indices"]), rows_of(&c.v["distances"]));
        let empty = common::usizes(&c.v["no_neighbours"]);
        let classify = train.n_classes() > 0;
        for (wname, weights) in WEIGHTS {
            let want = &c.v["by_weights"][wname];
            let what = format!("{} {wname}", c.what);
            macro_rules! trainer {
                ($t:ty) => {
                    <$t>::default()
                        .radius(radius)
                        .weights(weights)
                        .metric(c.metric())
                        .p(c.p())
                        .algorithm(c.algorithm())
                        .leaf_size(7)
                };
            }
            if !classify {
                let m = trainer!(RadiusNeighborsRegressor).fit(&train).unwrap();
                row_path_is_batch(&what, &m, None, &q);
                let got = m.predict(q.view()).unwrap();
                close(
                    &what,
                    got.as_slice().unwrap(),
                    &common::floats(&want["predict"]),
                );
                continue;
            }
            for label in ["most_frequent", "1"] {
                let m = trainer!(RadiusNeighborsClassifier)
                    .outlier_label(label)
                    .fit(&train)
                    .unwrap();
                let what = format!("{what} outlier_label {label}");
                row_path_is_batch(&what, &m, Some(&m), &q);
                let want = &want[if label == "1" { "1" } else { label }];
                let pred = m.predict(q.view()).unwrap();
                assert_eq!(pred.to_vec(), common::floats(&want["predict"]), "{what}");
                let proba = m.predict_proba(q.view()).unwrap();
                for r in 0..q.nrows() {
                    close(
                        &format!("{what} row {r}"),
                        proba.row(r).as_slice().unwrap(),
                        &common::floats(&want["proba"][r]),
                    );
                }
                let near = m.neighbors.radius_neighbors(Some(q.view()), None).unwrap();
                for (r, n) in near.iter().enumerate() {
                    let (i, d): (Vec<usize>, Vec<f64>) = n.iter().copied().unzip();
                    same_neighbours(
                        &format!("{what} row {r}"),
                        (&i, &d),
                        (&wi[r], &wd[r]),
                        false,
                    );
                }
            }
            let m = trainer!(RadiusNeighborsClassifier).fit(&train).unwrap();
            match (m.predict(q.view()), empty.first()) {
                (Ok(_), None) => {}
                (Err(Error::InvalidValue { row, .. }), Some(&first)) => {
                    assert_eq!(row, first, "{what}")
                }
                (other, _) => panic!("{what}: {other:?} with rows {empty:?} without neighbours"),
            }
        }
    }
}

#[test]
fn one_and_three_threads_give_the_same_bits() {
    let (train, q) = data("digits");
    let big = ndarray::concatenate(ndarray::Axis(0), &vec![q.view(); 20]).unwrap() + 0.5;
    let m = KNeighborsClassifier::default()
        .weights(Weights::Distance)
        .fit(&train)
        .unwrap();
    let r = RadiusNeighborsClassifier::default()
        .radius(20.0)
        .outlier_label("most_frequent")
        .fit(&train)
        .unwrap();
    let run = |n: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build()
            .unwrap();
        pool.install(|| {
            (
                m.predict_proba(big.view()).unwrap(),
                r.predict_proba(big.view()).unwrap(),
            )
        })
    };
    let bits = |a: &Array2<f64>| a.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
    let (a, b) = (run(1), run(3));
    assert_eq!(bits(&a.0), bits(&b.0));
    assert_eq!(bits(&a.1), bits(&b.1));
}

#[test]
fn bad_settings_and_corrupt_models_are_errors() {
    let (train, q) = data("iris");
    let bad = |r: amlis::Result<amlis::models::neighbors::NeighborsClassifierModel>, name: &str| {
        match r {
            Err(Error::InvalidParameter { name: n, .. }) => assert_eq!(n, name),
            other => panic!("{name}: {other:?}"),
        }
    };
    bad(
        KNeighborsClassifier::default().n_neighbors(0).fit(&train),
        "n_neighbors",
    );
    bad(
        KNeighborsClassifier::default().n_neighbors(76).fit(&train),
        "n_neighbors",
    );
    bad(
        KNeighborsClassifier::default().leaf_size(0).fit(&train),
        "leaf_size",
    );
    bad(KNeighborsClassifier::default().p(0.0).fit(&train), "p");
    for r in [-1.0, f64::NAN, f64::INFINITY] {
        bad(
            RadiusNeighborsClassifier::default().radius(r).fit(&train),
            "radius",
        );
    }
    bad(
        RadiusNeighborsClassifier::default()
            .outlier_label("7")
            .fit(&train),
        "outlier_label",
    );
    let config: amlis::models::ModelConfig =
        serde_json::from_str(r#"{"type": "radius_neighbors_classifier", "radius": 0.5, "outlier_label": "most_frequent", "weights": "distance"}"#).unwrap();
    assert_eq!(config.type_name(), "radius_neighbors_classifier");
    assert!(serde_json::from_str::<amlis::models::ModelConfig>(
        r#"{"type": "k_neighbors_regressor", "k": 3}"#
    )
    .is_err());

    let m = KNeighborsClassifier::default().fit(&train).unwrap();
    m.validate().unwrap();
    let mut c = m.clone();
    c.y[0] = 3;
    assert!(matches!(c.validate(), Err(Error::ModelCorrupt(_))));
    let mut c = m.clone();
    c.y.pop();
    assert!(matches!(c.validate(), Err(Error::ModelCorrupt(_))));
    let mut c = m.clone();
    c.neighbors.neighborhood = amlis::models::neighbors::Neighborhood::KNearest(76);
    assert!(matches!(c.validate(), Err(Error::ModelCorrupt(_))));
    let mut nan = q.clone();
    nan[[2, 1]] = f64::NAN;
    match m.predict(nan.view()) {
        Err(Error::InvalidValue { row, .. }) => assert_eq!(row, 2),
        other => panic!("{other:?}"),
    }
    let json = serde_json::to_string(&m).unwrap();
    let back: amlis::models::neighbors::NeighborsClassifierModel =
        serde_json::from_str(&json).unwrap();
    assert_eq!(back, m);
}
