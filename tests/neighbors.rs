//! The neighbour index, `dbscan` and `local_outlier_factor` against scikit-learn 1.9.1
//! (`tests/fixtures/neighbors_generate.py`, which stores the exact data it searched).
//!
//! - k-nearest and radius queries equal `NearestNeighbors` for every metric and algorithm:
//!   distances to 1e-12, indices exactly (rows at a tied distance compared as a set, since
//!   scikit-learn's order among exact ties is not specified; amlis orders them by index);
//! - DBSCAN: the same core samples and the same labels, numbering included;
//! - LOF: `negative_outlier_factor`, `offset` and novelty `score_samples` to 1e-10, the same
//!   labels and predictions (on rows whose k-th neighbour is tied, scikit-learn's three
//!   algorithms disagree with each other; there amlis equals one of them);
//! - the same results on 1 and 3 threads.

mod common;

use amlis::data::DenseDataset;
use amlis::models::cluster::Dbscan;
use amlis::models::neighbors::{
    Algorithm, Contamination, IndexParams, LocalOutlierFactor, Metric, NeighborIndex, Queries,
};
use amlis::traits::{Dataset, Predictor, ScorePredictor, Trainer};
use ndarray::Array2;
use serde_json::Value;

fn fixture() -> &'static Value {
    static F: std::sync::OnceLock<Value> = std::sync::OnceLock::new();
    F.get_or_init(|| common::fixture("neighbors_sklearn.json"))
}

fn data(name: &str) -> Array2<f64> {
    let rows = fixture()["data"][name].as_array().unwrap();
    let d = rows[0].as_array().unwrap().len();
    let flat: Vec<f64> = rows.iter().flat_map(common::floats).collect();
    Array2::from_shape_vec((rows.len(), d), flat).unwrap()
}

fn metric(name: &str) -> Metric {
    serde_json::from_value(Value::String(name.into())).unwrap()
}

fn algorithm(name: &str) -> Algorithm {
    serde_json::from_value(Value::String(name.into())).unwrap()
}

/// Compares one row of neighbours: distances to 1e-12; indices equal, as sets within a run
/// of tied distances (all of the row's tie group at the k-th distance need only have the
/// same distances when `k_th` says the list was cut at k). Returns whether the indices were
/// equal in order.
fn same_neighbours(
    what: &str,
    got: &[(usize, f64)],
    want_i: &[usize],
    want_d: &[f64],
    k_th: bool,
) -> bool {
    assert_eq!(got.len(), want_i.len(), "{what}: count");
    for (g, w) in got.iter().zip(want_d) {
        assert!((g.1 - w).abs() <= 1e-12, "{what}: distance {} vs {w}", g.1);
        MAX_ERR.fetch_max(
            (g.1 - w).abs().to_bits(),
            std::sync::atomic::Ordering::Relaxed,
        );
    }
    let tie = |a: f64, b: f64| (a - b).abs() <= 1e-12;
    let last = want_d.last().copied().unwrap_or(0.0);
    let mut t = 0;
    while t < got.len() {
        let mut end = t + 1;
        while end < got.len() && tie(want_d[end], want_d[t]) {
            end += 1;
        }
        if !k_th || !tie(want_d[t], last) {
            let mut a: Vec<usize> = got[t..end].iter().map(|g| g.0).collect();
            let mut b = want_i[t..end].to_vec();
            a.sort_unstable();
            b.sort_unstable();
            assert_eq!(a, b, "{what}: the neighbours at distance {}", want_d[t]);
        }
        t = end;
    }
    got.iter().map(|g| g.0).eq(want_i.iter().copied())
}

/// The largest distance difference seen (bits of a non-negative f64 order as the values).
static MAX_ERR: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

fn rows_of(v: &Value) -> Vec<Vec<f64>> {
    v.as_array().unwrap().iter().map(common::floats).collect()
}

fn index_rows(v: &Value) -> Vec<Vec<usize>> {
    v.as_array().unwrap().iter().map(common::usizes).collect()
}

#[test]
fn kneighbors_and_radius_queries_equal_scikit_learn() {
    let (mut rows, mut in_order) = (0, 0);
    for case in fixture()["knn"].as_array().unwrap() {
        let x = data(case["data"].as_str().unwrap());
        let params = IndexParams {
            metric: metric(case["metric"].as_str().unwrap()),
            p: case["p"].as_f64().unwrap(),
            algorithm: algorithm(case["algorithm"].as_str().unwrap()),
            leaf_size: 10,
        };
        let k = case["k"].as_u64().unwrap() as usize;
        let nq = case["n_queries"].as_u64().unwrap() as usize;
        let what = format!(
            "{} {} p={} {}",
            case["data"], case["metric"], case["p"], case["algorithm"]
        );
        let index = NeighborIndex::build(x.view(), &params, k).unwrap();
        let q = x.slice(ndarray::s![..nq, ..]);
        let got = index.kneighbors(Queries::Rows(q), k).unwrap();
        let without = index.kneighbors(Queries::FittedWithoutSelf, k).unwrap();
        let radius = case["radius"].as_f64().unwrap();
        let near = index.radius_neighbors(Queries::Rows(q), radius).unwrap();
        let checks = [
            (&got, "indices", "distances"),
            (&without, "indices_without_self", "distances_without_self"),
        ];
        for (found, ik, dk) in checks {
            let (wi, wd) = (index_rows(&case[ik]), rows_of(&case[dk]));
            for r in 0..nq {
                let g: Vec<(usize, f64)> = found
                    .indices
                    .row(r)
                    .iter()
                    .copied()
                    .zip(found.distances.row(r).iter().copied())
                    .collect();
                rows += 1;
                in_order += usize::from(same_neighbours(
                    &format!("{what} {ik} row {r}"),
                    &g,
                    &wi[r],
                    &wd[r],
                    true,
                ));
            }
        }
        let (wi, wd) = (
            index_rows(&case["radius_indices"]),
            rows_of(&case["radius_distances"]),
        );
        for r in 0..nq {
            // A radius query has no k-th boundary: every tie group is compared.
            let what = format!("{what} radius row {r}");
            same_neighbours(&what, &near[r], &wi[r], &wd[r], false);
        }
    }
    // Most rows come in scikit-learn's very order; the rest differ only within exact ties.
    let err = f64::from_bits(MAX_ERR.load(std::sync::atomic::Ordering::Relaxed));
    eprintln!(
        "{in_order} of {rows} k-nearest rows in scikit-learn's order; distances within {err:e}"
    );
    assert!(
        in_order * 10 >= rows * 9,
        "{in_order} of {rows} rows in order"
    );
}

fn dbscan_for(case: &Value, algorithm: Algorithm) -> Dbscan {
    Dbscan::default()
        .eps(case["eps"].as_f64().unwrap())
        .min_samples(case["min_samples"].as_u64().unwrap() as usize)
        .metric(metric(case["metric"].as_str().unwrap()))
        .p(case["p"].as_f64().unwrap())
        .algorithm(algorithm)
        .leaf_size(7)
}

fn dataset(case: &Value) -> DenseDataset {
    let x = data(case["data"].as_str().unwrap());
    let n = x.nrows();
    let d = DenseDataset::unsupervised(x).unwrap();
    if case["weighted"].as_bool() == Some(true) {
        d.with_weights(ndarray::Array1::from_shape_fn(n, |i| 1.0 + (i % 3) as f64))
            .unwrap()
    } else {
        d
    }
}

#[test]
fn dbscan_gives_scikit_learns_labels_and_core_samples() {
    for case in fixture()["dbscan"].as_array().unwrap() {
        let data = dataset(case);
        let want_labels: Vec<i64> = case["labels"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_i64().unwrap())
            .collect();
        let want_core = common::usizes(&case["core_sample_indices"]);
        let cosine = case["metric"] == "cosine";
        for algorithm in [
            Algorithm::Auto,
            Algorithm::Brute,
            Algorithm::KdTree,
            Algorithm::BallTree,
        ] {
            if cosine && algorithm == Algorithm::KdTree {
                continue;
            }
            let what = format!("{} {} {algorithm:?}", case["data"], case["metric"]);
            let m = dbscan_for(case, algorithm).fit(&data).unwrap();
            assert_eq!(m.core_sample_indices, want_core, "{what}");
            assert_eq!(m.labels, want_labels, "{what}");
            // A core sample predicts its own cluster.
            let x = data.features();
            for &i in m.core_sample_indices.iter().step_by(7) {
                let mut out = [0.0];
                m.predict_row_into(x.row(i).as_slice().unwrap(), &mut out)
                    .unwrap();
                assert_eq!(out[0], m.labels[i] as f64, "{what} row {i}");
            }
        }
    }
}

#[test]
fn dbscan_is_the_same_on_one_and_three_threads() {
    let case = &fixture()["dbscan"][0];
    let data = dataset(case);
    let fit = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| dbscan_for(case, Algorithm::KdTree).fit(&data).unwrap())
    };
    assert_eq!(fit(1), fit(3));
}

fn lof_for(case: &Value, algorithm: Algorithm, novelty: bool) -> LocalOutlierFactor {
    let contamination = match &case["contamination"] {
        Value::String(s) => Contamination::Auto(s.clone()),
        v => Contamination::Fraction(v.as_f64().unwrap()),
    };
    LocalOutlierFactor::default()
        .n_neighbors(case["n_neighbors"].as_u64().unwrap() as usize)
        .metric(metric(case["metric"].as_str().unwrap()))
        .p(case["p"].as_f64().unwrap())
        .algorithm(algorithm)
        .leaf_size(8)
        .contamination(contamination)
        .novelty(novelty)
}

/// Per row of `key`, its values under each of scikit-learn's algorithms.
fn by_algorithm(case: &Value, key: &str) -> Vec<Vec<f64>> {
    let per: Vec<Vec<f64>> = case["by_algorithm"]
        .as_object()
        .unwrap()
        .values()
        .map(|a| common::floats(&a[key]))
        .collect();
    (0..per[0].len())
        .map(|i| per.iter().map(|v| v[i]).collect())
        .collect()
}

/// `got` equals (to 1e-10, relative above 1) scikit-learn's value under at least one of its
/// algorithms (they differ among themselves only on rows with tied k-th neighbours); returns
/// whether all of them agree.
fn equals_one_of(what: &str, got: f64, want: &[f64]) -> bool {
    let close = |w: f64| (got - w).abs() <= 1e-10 * w.abs().max(1.0);
    assert!(want.iter().any(|&w| close(w)), "{what}: {got} vs {want:?}");
    want.iter()
        .all(|&w| (w - want[0]).abs() <= 1e-10 * w.abs().max(1.0))
}

#[test]
fn local_outlier_factor_equals_scikit_learn() {
    let (mut rows, mut agreed) = (0, 0);
    for case in fixture()["lof"].as_array().unwrap() {
        let x = data(case["data"].as_str().unwrap());
        let n = x.nrows();
        let train = DenseDataset::unsupervised(x).unwrap();
        let new = rows_of(&case["new"]);
        let new = Array2::from_shape_vec((new.len(), new[0].len()), new.concat()).unwrap();
        let cosine = case["metric"] == "cosine";
        for algorithm in [Algorithm::Brute, Algorithm::KdTree, Algorithm::BallTree] {
            if cosine && algorithm == Algorithm::KdTree {
                continue;
            }
            let what = format!("{} {} {algorithm:?}", case["data"], case["metric"]);
            let m = lof_for(case, algorithm, false).fit(&train).unwrap();
            let (want_nof, want_labels) = (
                by_algorithm(case, "negative_outlier_factor"),
                by_algorithm(case, "labels"),
            );
            assert_eq!(want_nof.len(), n);
            let got = m.negative_outlier_factor.iter().zip(m.labels());
            for (i, ((nof, label), (wn, wl))) in
                got.zip(want_nof.iter().zip(&want_labels)).enumerate()
            {
                let row = format!("{what} row {i}");
                rows += 1;
                agreed += usize::from(equals_one_of(&row, *nof, wn));
                equals_one_of(&row, label, wl);
            }
            let offsets: Vec<f64> = case["by_algorithm"]
                .as_object()
                .unwrap()
                .values()
                .map(|a| a["offset"].as_f64().unwrap())
                .collect();
            equals_one_of(&format!("{what} offset"), m.offset, &offsets);
            assert!(m.predict(new.view()).is_err(), "{what}: novelty false");

            let m = lof_for(case, algorithm, true).fit(&train).unwrap();
            let mut score = vec![0.0; new.nrows()];
            m.score_into(new.view(), &mut score).unwrap();
            let pred = m.predict(new.view()).unwrap();
            let (want_score, want_pred) = (
                by_algorithm(case, "score_samples"),
                by_algorithm(case, "predict"),
            );
            for (i, row) in new.outer_iter().enumerate() {
                equals_one_of(&format!("{what} new row {i}"), score[i], &want_score[i]);
                equals_one_of(&format!("{what} new row {i} label"), pred[i], &want_pred[i]);
                // The row path gives the batch's bits.
                let mut out = [0.0];
                m.score_row_into(row.as_slice().unwrap(), &mut out).unwrap();
                assert_eq!(out[0].to_bits(), score[i].to_bits(), "{what} row {i}");
            }
        }
    }
    // scikit-learn's own algorithms disagree only on the few rows with tied neighbours.
    eprintln!("{agreed} of {rows} LOF rows where scikit-learn's algorithms agree");
    assert!(agreed * 20 >= rows * 19, "{agreed} of {rows}");
}

#[test]
fn local_outlier_factor_is_the_same_on_one_and_three_threads() {
    let case = &fixture()["lof"][0];
    let train = DenseDataset::unsupervised(data(case["data"].as_str().unwrap())).unwrap();
    let new = data("blobs");
    let new = new.slice(ndarray::s![.., ..2]).to_owned();
    let fit = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            let m = lof_for(case, Algorithm::Brute, true).fit(&train).unwrap();
            let mut s = vec![0.0; new.nrows()];
            m.score_into(new.view(), &mut s).unwrap();
            (m, s)
        })
    };
    let (a, b) = (fit(1), fit(3));
    assert_eq!(a.0, b.0);
    assert_eq!(
        a.1.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
        b.1.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
    );
}

#[test]
fn configs_name_metric_and_algorithm_as_scikit_learn() {
    use amlis::models::ModelConfig;
    use amlis::traits::FitContext;
    let iris = DenseDataset::unsupervised(data("iris")).unwrap();
    let config = ModelConfig::from_json_parts(
        "dbscan",
        serde_json::json!({"eps": 0.8, "metric": "manhattan", "algorithm": "ball_tree", "leaf_size": 12}),
    )
    .unwrap();
    let model = config.fit(&iris, &FitContext::new()).unwrap();
    assert_eq!(model.estimator(), amlis::models::Estimator::Clusterer);
    let config = ModelConfig::from_json_parts(
        "local_outlier_factor",
        serde_json::json!({"n_neighbors": 10, "contamination": 0.1, "novelty": true, "p": 3}),
    )
    .unwrap();
    let model = config.fit(&iris, &FitContext::new()).unwrap();
    assert_eq!(
        model.outputs(),
        vec![
            amlis::models::PredictKind::Value,
            amlis::models::PredictKind::Score
        ]
    );
    for (kind, params, key) in [
        (
            "dbscan",
            serde_json::json!({"metric": "hamming"}),
            "model.metric",
        ),
        (
            "dbscan",
            serde_json::json!({"algorithm": "kdtree"}),
            "model.algorithm",
        ),
        (
            "local_outlier_factor",
            serde_json::json!({"radius": 1.0}),
            "model.radius",
        ),
    ] {
        match ModelConfig::from_json_parts(kind, params) {
            Err(amlis::Error::Config { key: k, .. }) => assert_eq!(k, key),
            other => panic!("{kind}: {other:?}"),
        }
    }
}

fn hdbscan_for(case: &Value, algorithm: Algorithm) -> amlis::models::cluster::Hdbscan {
    let mut h = amlis::models::cluster::Hdbscan::default()
        .min_cluster_size(case["min_cluster_size"].as_u64().unwrap() as usize)
        .cluster_selection_epsilon(case["cluster_selection_epsilon"].as_f64().unwrap())
        .cluster_selection_method(case["cluster_selection_method"].as_str().unwrap().into())
        .allow_single_cluster(case["allow_single_cluster"].as_bool().unwrap())
        .metric(metric(case["metric"].as_str().unwrap()))
        .alpha(case["alpha"].as_f64().unwrap())
        .algorithm(algorithm);
    if let Some(m) = case["min_samples"].as_u64() {
        h = h.min_samples(m as usize);
    }
    if let Some(m) = case["max_cluster_size"].as_u64() {
        h = h.max_cluster_size(m as usize);
    }
    h
}

#[test]
fn hdbscan_gives_scikit_learns_labels_and_probabilities() {
    use amlis::traits::ProbabilisticPredictor;
    for case in fixture()["hdbscan"].as_array().unwrap() {
        let x = data(case["data"].as_str().unwrap());
        let train = DenseDataset::unsupervised(x).unwrap();
        let ints = |v: &Value| -> Vec<i64> {
            v.as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_i64().unwrap())
                .collect()
        };
        // scikit-learn's tree code on the stably sorted spanning tree (amlis's tie order),
        // and HDBSCAN's own labels (an unstable sort of tied edge weights): at most 3 rows
        // apart.
        let want_labels = ints(&case["labels_stable_sort"]);
        let own_labels = ints(&case["labels"]);
        let want_prob = common::floats(&case["probabilities_stable_sort"]);
        let apart = want_labels
            .iter()
            .zip(&own_labels)
            .filter(|(a, b)| a != b)
            .count();
        assert!(apart <= 3, "{}: {apart} rows", case["data"]);
        for algorithm in [Algorithm::Auto, Algorithm::Brute, Algorithm::BallTree] {
            // scikit-learn's brute path also divides the core distances by alpha (the
            // reference is its tree path).
            if algorithm == Algorithm::Brute && case["alpha"].as_f64() != Some(1.0) {
                continue;
            }
            let what = format!(
                "{} {} {} {algorithm:?}",
                case["data"], case["cluster_selection_method"], case["metric"]
            );
            let m = hdbscan_for(case, algorithm).fit(&train).unwrap();
            assert_eq!(m.labels, want_labels, "{what}");
            for (i, (g, w)) in m.probabilities.iter().zip(&want_prob).enumerate() {
                assert!((g - w).abs() <= 1e-12, "{what} row {i}: {g} vs {w}");
            }
            let Some(approx) = case.get("approximate_labels") else {
                continue;
            };
            let new = rows_of(&case["new"]);
            let new = Array2::from_shape_vec((new.len(), new[0].len()), new.concat()).unwrap();
            let labels = m.predict(new.view()).unwrap();
            assert_eq!(
                labels.to_vec(),
                common::floats(approx),
                "{what}: approximate"
            );
            let mut strength = vec![0.0; new.nrows()];
            m.predict_proba_into(new.view(), &mut strength).unwrap();
            let want = common::floats(&case["approximate_probabilities"]);
            for (i, (g, w)) in strength.iter().zip(&want).enumerate() {
                assert!((g - w).abs() <= 1e-12, "{what} new row {i}: {g} vs {w}");
            }
        }
    }
}
