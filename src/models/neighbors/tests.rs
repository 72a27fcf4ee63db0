//! Every algorithm against a naive O(n²) reference, on random data with duplicate rows and
//! many tied distances (small integer coordinates).

use ndarray::Array2;
use rand::Rng;

use super::*;
use crate::common::rng;

fn data(n: usize, d: usize, seed: u64, grid: bool) -> Array2<f64> {
    let mut r = rng::for_task(seed, 0);
    let mut x = Array2::from_shape_fn((n, d), |_| {
        if grid {
            r.gen_range(0..4) as f64
        } else {
            r.gen_range(-2.0..2.0)
        }
    });
    // Duplicates: row 3i copied to row 3i + 1.
    for i in (0..n.saturating_sub(1)).step_by(3) {
        let row = x.row(i).to_owned();
        x.row_mut(i + 1).assign(&row);
    }
    x
}

fn unit(v: &[f64]) -> Vec<f64> {
    let norm = v.iter().map(|a| a * a).sum::<f64>().sqrt();
    v.iter()
        .map(|a| if norm > 0.0 { a / norm } else { *a })
        .collect()
}

/// (index, reduced distance) of every training row, sorted by (distance, index).
fn naive(x: &Array2<f64>, q: &[f64], dist: Distance) -> Vec<(usize, f64)> {
    let prep = |v: &[f64]| {
        if dist == Distance::Cosine {
            unit(v)
        } else {
            v.to_vec()
        }
    };
    let q = prep(q);
    let mut all: Vec<(usize, f64)> = x
        .outer_iter()
        .enumerate()
        .map(|(i, r)| (i, dist.rdist(&q, &prep(r.as_slice().unwrap()))))
        .collect();
    all.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
    all
}

const METRICS: [(Metric, f64); 6] = [
    (Metric::Euclidean, 2.0),
    (Metric::Manhattan, 2.0),
    (Metric::Chebyshev, 2.0),
    (Metric::Minkowski, 3.0),
    (Metric::Minkowski, 1.5),
    (Metric::Cosine, 2.0),
];

fn algorithms(metric: Metric) -> Vec<Algorithm> {
    let mut a = vec![Algorithm::Brute, Algorithm::BallTree, Algorithm::Auto];
    if metric != Metric::Cosine {
        a.push(Algorithm::KdTree);
    }
    a
}

#[test]
fn every_algorithm_gives_the_naive_neighbours_bit_for_bit() {
    for (seed, grid, n, d) in [(1, true, 150, 3), (2, false, 131, 5), (3, true, 40, 2)] {
        let x = data(n, d, seed, grid);
        let queries = data(37, d, seed + 10, grid);
        for (metric, p) in METRICS {
            let dist = Distance::resolve(metric, p).unwrap();
            for algorithm in algorithms(metric) {
                for leaf_size in [1, 6] {
                    let params = IndexParams {
                        metric,
                        p,
                        algorithm,
                        leaf_size,
                    };
                    let ix = NeighborIndex::build(x.view(), &params, 5).unwrap();
                    let what = format!("{metric:?} p={p} {algorithm:?} leaf={leaf_size} n={n}");
                    let k = 7;
                    let got = ix.kneighbors(Queries::Rows(queries.view()), k).unwrap();
                    for (r, q) in queries.outer_iter().enumerate() {
                        let want = naive(&x, q.as_slice().unwrap(), dist);
                        for (t, w) in want.iter().take(k).enumerate() {
                            assert_eq!(got.indices[[r, t]], w.0, "{what} row {r}");
                            assert_eq!(
                                got.distances[[r, t]].to_bits(),
                                dist.to_dist(w.1).to_bits(),
                                "{what} row {r}"
                            );
                        }
                        // The one-row path agrees.
                        let one = ix
                            .with_kneighbors_of_row(q.as_slice().unwrap(), k, |i, d| {
                                (i.to_vec(), d.to_vec())
                            })
                            .unwrap();
                        assert_eq!(one.0, got.indices.row(r).to_vec(), "{what}");
                        assert_eq!(one.1, got.distances.row(r).to_vec(), "{what}");
                    }
                    // Radius queries of the fitted rows (themselves included).
                    let radius = dist.to_dist(naive(&x, x.row(0).as_slice().unwrap(), dist)[6].1);
                    let near = ix.radius_neighbors(Queries::Fitted, radius).unwrap();
                    let within = |rd: f64| dist.to_dist(rd) <= radius;
                    for (i, got) in near.iter().enumerate() {
                        let want: Vec<usize> = naive(&x, x.row(i).as_slice().unwrap(), dist)
                            .into_iter()
                            .filter(|w| within(w.1))
                            .map(|w| w.0)
                            .collect();
                        let got: Vec<usize> = got.iter().map(|g| g.0).collect();
                        assert_eq!(got, want, "{what} radius row {i}");
                    }
                    // Nearest within a radius.
                    for q in queries.outer_iter().take(10) {
                        let w = naive(&x, q.as_slice().unwrap(), dist)[0];
                        let got = ix.nearest_within(q.as_slice().unwrap(), radius).unwrap();
                        let want = within(w.1).then(|| (w.0, dist.to_dist(w.1)));
                        assert_eq!(got, want, "{what}");
                    }
                }
            }
        }
    }
}

#[test]
fn blocked_brute_screen_across_blocks_and_tiles_is_exact() {
    // More rows than a data block (ties and duplicates on a grid), queries that do not fill
    // the last tile, and far rows whose screen could round.
    // Scaled copies: values whose f32 products underflow (1e-30), large ones (1e12) and ones
    // too large for the f32 screen (1e20); near ties f32 cannot tell apart (1e-9).
    let cases = [
        (5, true, 601, 1.0, 0.0),
        (6, false, 530, 1.0, 0.0),
        (5, true, 601, 1e-30, 0.0),
        (6, false, 530, 1e12, 0.0),
        (6, false, 530, 1e20, 0.0),
        (7, true, 601, 1.0, 1e-9),
    ];
    for (seed, grid, n, scale, jitter) in cases {
        let mut x = data(n, 3, seed, grid);
        for (i, mut row) in x.outer_iter_mut().enumerate() {
            row[1] += (i % 5) as f64 * jitter;
        }
        x.row_mut(n - 1).fill(1e9);
        x *= scale;
        let queries = data(39, 3, seed + 10, grid) * scale;
        let params = IndexParams {
            algorithm: Algorithm::Brute,
            ..IndexParams::default()
        };
        let ix = NeighborIndex::build(x.view(), &params, 5).unwrap();
        let k = 9;
        let got = ix.kneighbors(Queries::Rows(queries.view()), k).unwrap();
        for (r, q) in queries.outer_iter().enumerate() {
            let want = naive(&x, q.as_slice().unwrap(), Distance::Euclidean);
            for (t, w) in want.iter().take(k).enumerate() {
                assert_eq!(got.indices[[r, t]], w.0, "n={n} x{scale} row {r}");
                assert_eq!(
                    got.distances[[r, t]].to_bits(),
                    w.1.sqrt().to_bits(),
                    "n={n} x{scale} row {r}"
                );
            }
        }
    }
}

#[test]
fn without_self_drops_the_row_itself_as_scikit_learn() {
    let x = data(60, 2, 4, true);
    let ix = NeighborIndex::build(x.view(), &IndexParams::default(), 3).unwrap();
    let got = ix.kneighbors(Queries::FittedWithoutSelf, 3).unwrap();
    for i in 0..x.nrows() {
        let all = naive(&x, x.row(i).as_slice().unwrap(), Distance::Euclidean);
        let mut top: Vec<usize> = all.iter().take(4).map(|a| a.0).collect();
        let drop = top.iter().position(|&j| j == i).unwrap_or(0);
        top.remove(drop);
        assert_eq!(got.indices.row(i).to_vec(), top, "row {i}");
    }
    let near = ix
        .radius_neighbors(Queries::FittedWithoutSelf, 1.0)
        .unwrap();
    assert!(near
        .iter()
        .enumerate()
        .all(|(i, n)| n.iter().all(|m| m.0 != i)));
}

#[test]
fn the_index_reloads_to_the_same_index_and_rejects_corrupt_state() {
    let x = data(100, 3, 5, false);
    let params = IndexParams {
        algorithm: Algorithm::BallTree,
        leaf_size: 4,
        ..Default::default()
    };
    let ix = NeighborIndex::build(x.view(), &params, 5).unwrap();
    let json = serde_json::to_value(&ix).unwrap();
    let back: NeighborIndex = serde_json::from_value(json.clone()).unwrap();
    assert_eq!(back, ix);
    let mut bad = json.clone();
    bad["data"].as_array_mut().unwrap().pop();
    assert!(serde_json::from_value::<NeighborIndex>(bad).is_err());
    let mut bad = json.clone();
    bad["algorithm"] = serde_json::json!("auto");
    assert!(serde_json::from_value::<NeighborIndex>(bad).is_err());
    let mut bad = json;
    bad["leaf_size"] = serde_json::json!(0);
    assert!(serde_json::from_value::<NeighborIndex>(bad).is_err());
}

#[test]
fn settings_and_queries_are_checked() {
    let x = data(20, 2, 6, false);
    let bad = |params: IndexParams, name: &str| match NeighborIndex::build(x.view(), &params, 5) {
        Err(crate::Error::InvalidParameter { name: n, .. }) => assert_eq!(n, name),
        other => panic!("{name}: {other:?}"),
    };
    bad(
        IndexParams {
            leaf_size: 0,
            ..Default::default()
        },
        "leaf_size",
    );
    bad(
        IndexParams {
            p: 0.0,
            ..Default::default()
        },
        "p",
    );
    bad(
        IndexParams {
            p: 0.5,
            algorithm: Algorithm::KdTree,
            ..Default::default()
        },
        "algorithm",
    );
    bad(
        IndexParams {
            metric: Metric::Cosine,
            algorithm: Algorithm::KdTree,
            ..Default::default()
        },
        "algorithm",
    );
    // auto as scikit-learn: brute for cosine, small n, many features; else a kd-tree.
    let auto = IndexParams::default();
    assert_eq!(auto.resolved(1000, 4, 5).unwrap(), Algorithm::KdTree);
    assert_eq!(auto.resolved(1000, 16, 5).unwrap(), Algorithm::Brute);
    assert_eq!(auto.resolved(10, 4, 5).unwrap(), Algorithm::Brute);
    let cos = IndexParams {
        metric: Metric::Cosine,
        ..Default::default()
    };
    assert_eq!(cos.resolved(1000, 4, 5).unwrap(), Algorithm::Brute);
    let ix = NeighborIndex::build(x.view(), &auto, 5).unwrap();
    assert!(ix.kneighbors(Queries::Fitted, 0).is_err());
    assert!(ix.kneighbors(Queries::Fitted, 21).is_err());
    assert!(ix.kneighbors(Queries::FittedWithoutSelf, 20).is_err());
    assert!(ix.kneighbors(Queries::FittedRows(&[20]), 1).is_err());
    let nan = ndarray::array![[f64::NAN, 0.0]];
    assert!(ix.kneighbors(Queries::Rows(nan.view()), 1).is_err());
    assert!(ix.nearest_within(&[0.0], 1.0).is_err());
}

#[test]
fn built_norms_are_the_plain_row_sums_and_bad_values_are_named() {
    let brute = IndexParams {
        algorithm: Algorithm::Brute,
        ..Default::default()
    };
    // Row counts around the lanes of the norm sums and the copy blocks, a strided view.
    for (n, d) in [(1, 3), (7, 5), (8, 5), (17, 3), (5000, 20), (3, 70_000)] {
        let x = data(n, d, 9, false);
        for view in [x.view(), x.slice(ndarray::s![..;2, ..])] {
            let ix = NeighborIndex::build(view, &brute, 1).unwrap();
            let want: Vec<u64> = view
                .rows()
                .into_iter()
                .map(|r| r.iter().map(|v| v * v).sum::<f64>().to_bits())
                .collect();
            let got: Vec<u64> = ix.sq_norms().iter().map(|v| v.to_bits()).collect();
            assert_eq!(got, want, "n = {n}, d = {d}");
            assert_eq!(ix.search_space(), view.iter().copied().collect::<Vec<_>>());
        }
    }
    let mut x = data(5000, 20, 10, false);
    // A finite row whose squared norm overflows is indexed.
    x[[4000, 3]] = 1e200;
    assert!(NeighborIndex::build(x.view(), &brute, 1).is_ok());
    for (bad, name) in [(f64::NAN, "NaN"), (f64::NEG_INFINITY, "-inf")] {
        x[[4321, 7]] = bad;
        for algorithm in [Algorithm::Brute, Algorithm::KdTree] {
            let params = IndexParams {
                algorithm,
                ..Default::default()
            };
            match NeighborIndex::build(x.view(), &params, 1) {
                Err(crate::Error::InvalidArgument(m)) => assert!(m.contains(name), "{m}"),
                other => panic!("{other:?}"),
            }
        }
    }
}
