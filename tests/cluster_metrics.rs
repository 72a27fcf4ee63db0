//! The internal clustering scores against scikit-learn 1.9.1
//! (`tests/fixtures/cluster_metrics_generate.py`), their scorer names, and the evaluation and
//! search of a clusterer on data without a target: `n_clusters` of `k_means` chosen by
//! silhouette as scikit-learn's search chooses it.

mod common;

use amlis::config::TrainConfig;
use amlis::data::{KFold, Split, Splitter};
use amlis::evaluate::metrics::{self, Distance, Silhouette};
use amlis::evaluate::selection::{
    cross_validate, CvOptions, Distribution, GridSearch, HalvingSearch, ParamDistributions,
    ParamGrid, RandomSearch, SearchOptions, TableData,
};
use amlis::models::Estimator;
use amlis::traits::FitContext;
use common::{fixture, floats, usizes};
use ndarray::{Array1, Array2};
use serde_json::Value;

fn matrix(v: &Value) -> Array2<f64> {
    let rows: Vec<Vec<f64>> = v.as_array().unwrap().iter().map(floats).collect();
    let (n, d) = (rows.len(), rows[0].len());
    Array2::from_shape_vec((n, d), rows.concat()).unwrap()
}

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol * b.abs().max(1.0)
}

#[test]
fn scores_equal_scikit_learn() {
    let f = fixture("cluster_metrics_sklearn.json");
    let mut worst: f64 = 0.0;
    for case in f["scores"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let x = matrix(&case["X"]);
        let labels = Array1::from(floats(&case["labels"]));
        let mut check = |what: &str, got: f64, want: f64| {
            let err = (got - want).abs() / want.abs().max(1.0);
            // scikit-learn's Davies-Bouldin spread of a singleton cluster is its distance to
            // itself through |x|² + |c|² - 2 x·c: 2.4e-7 rather than 0 here (rounding noise;
            // amlis computes the difference, exactly 0), which moves the index by 2e-8.
            let tol = if what == "davies_bouldin_score" && name.contains("singleton") {
                1e-7
            } else {
                worst = worst.max(err);
                1e-10
            };
            assert!(err <= tol, "{name} {what}: {got} vs scikit-learn {want}");
        };
        let samples = metrics::silhouette_samples(x.view(), labels.view()).unwrap();
        for (i, (g, w)) in samples
            .iter()
            .zip(floats(&case["silhouette_samples"]))
            .enumerate()
        {
            check(&format!("silhouette_samples[{i}]"), *g, w);
        }
        for (metric, distance) in [
            ("euclidean", Distance::Euclidean),
            ("manhattan", Distance::Manhattan),
            ("cosine", Distance::Cosine),
        ] {
            let got = Silhouette::default()
                .metric(distance)
                .score(x.view(), labels.view())
                .unwrap();
            let want = case["silhouette_score"][metric].as_f64().unwrap();
            check(&format!("silhouette_score {metric}"), got, want);
        }
        let ch = metrics::calinski_harabasz_score(x.view(), labels.view()).unwrap();
        check(
            "calinski_harabasz_score",
            ch,
            case["calinski_harabasz_score"].as_f64().unwrap(),
        );
        let db = metrics::davies_bouldin_score(x.view(), labels.view()).unwrap();
        check(
            "davies_bouldin_score",
            db,
            case["davies_bouldin_score"].as_f64().unwrap(),
        );
    }
    println!("largest relative difference from scikit-learn: {worst:e}");
}

#[test]
fn refusals_carry_scikit_learns_message() {
    let f = fixture("cluster_metrics_sklearn.json");
    for case in f["errors"].as_array().unwrap() {
        let x = matrix(&case["X"]);
        let labels = Array1::from(floats(&case["labels"]));
        let want = case["message"].as_str().unwrap();
        for e in [
            metrics::silhouette_score(x.view(), labels.view()).unwrap_err(),
            metrics::calinski_harabasz_score(x.view(), labels.view()).unwrap_err(),
            metrics::davies_bouldin_score(x.view(), labels.view()).unwrap_err(),
        ] {
            assert!(e.to_string().contains(want), "{e} lacks {want}");
        }
    }
}

#[test]
fn the_silhouette_is_the_same_on_1_and_3_threads() {
    let f = fixture("cluster_metrics_sklearn.json");
    let case = f["scores"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"].as_str().unwrap().contains("far from the origin"))
        .unwrap();
    let x = matrix(&case["X"]);
    let labels = Array1::from(floats(&case["labels"]));
    let on = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            let s = metrics::silhouette_samples(x.view(), labels.view()).unwrap();
            let sub = Silhouette::default()
                .sample_size(500)
                .random_state(3)
                .metric(Distance::Cosine)
                .score(x.view(), labels.view())
                .unwrap();
            (s.to_vec(), sub)
        })
    };
    let (one, three) = (on(1), on(3));
    assert!(one
        .0
        .iter()
        .zip(&three.0)
        .all(|(a, b)| a.to_bits() == b.to_bits()));
    assert_eq!(one.1.to_bits(), three.1.to_bits());
}

#[test]
fn scorer_names_directions_and_aliases() {
    for (name, alias, greater) in [
        ("silhouette_score", "silhouette", true),
        ("calinski_harabasz_score", "calinski_harabasz", true),
        ("davies_bouldin_score", "davies_bouldin", false),
    ] {
        let full = metrics::get(name).unwrap();
        let short = metrics::get(alias).unwrap();
        assert!(full.reads_features() && short.reads_features());
        assert_eq!(full.greater_is_better(), greater, "{name}");
        assert_eq!(short.greater_is_better(), greater, "{alias}");
        // Every task: they read no target.
        for task in [
            amlis::data::Task::Unsupervised,
            amlis::data::Task::Regression,
        ] {
            metrics::metric_fits_task(name, &task).unwrap();
        }
        let x = ndarray::arr2(&[[0.0], [1.0], [10.0], [11.0]]);
        let l = ndarray::arr1(&[0.0, 0.0, 1.0, 1.0]);
        assert_eq!(
            full.score_features(x.view(), l.view()).unwrap(),
            short.score_features(x.view(), l.view()).unwrap()
        );
        // Scoring against targets says how to score them instead.
        let e = full
            .score(l.view(), amlis::traits::Prediction::Values(l.view()), None)
            .unwrap_err();
        assert!(e.to_string().contains("score_features"), "{e}");
    }
    assert!(!metrics::get("adjusted_rand_score")
        .unwrap()
        .reads_features());
    assert_eq!(
        Estimator::Clusterer.default_scorer(),
        Some("silhouette_score")
    );
}

/// The folds scikit-learn's search used.
struct Folds(Vec<Split>);

impl Splitter for Folds {
    fn n_splits(&self) -> usize {
        self.0.len()
    }

    fn split_indices(&self, _: usize, _: Option<&[f64]>) -> amlis::Result<Vec<Split>> {
        Ok(self.0.clone())
    }
}

const KMEANS: &str = r#"{"model": {"type": "k_means", "n_init": 10, "random_state": 0},
                         "preprocess": [{"type": "standard_scaler"}]}"#;

#[test]
fn n_clusters_of_k_means_searched_by_silhouette_without_a_target() {
    let f = fixture("cluster_metrics_sklearn.json");
    let s = &f["search"];
    let folds = Folds(
        s["folds"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| Split {
                train: usizes(&f["train"]),
                test: usizes(&f["test"]),
            })
            .collect(),
    );
    let table = amlis::datasets::iris_table()
        .unwrap()
        .drop(&["species"])
        .unwrap();
    let base = TrainConfig::from_json(KMEANS).unwrap();
    let grid = ParamGrid::from_json(r#"{"model.n_clusters": [2, 3, 4, 5, 6]}"#).unwrap();
    // No metric named: a clusterer's default scorer, the silhouette.
    let search = GridSearch::new(grid, SearchOptions::default());
    let results = search
        .fit(&base, &table, None, &folds, &FitContext::new())
        .unwrap();
    assert_eq!(results.refit_metric, "silhouette_score");
    let want_best = s["best_n_clusters"].as_u64().unwrap();
    assert_eq!(want_best, s["best_n_clusters_all_rows"].as_u64().unwrap());
    assert_eq!(
        results.best_params["model.n_clusters"], want_best,
        "{results}"
    );
    // With 2 and 3 clusters k-means reaches the same partition from any start: the fold
    // scores are scikit-learn's to 1e-9 (scored on the features after the fold's own
    // scaler). With more, each side's seeded k-means++ draws (amlis's are not numpy's) can
    // end in another local optimum: the means agree within 0.03.
    for (c, want) in results
        .candidates
        .iter()
        .zip(s["candidates"].as_array().unwrap())
    {
        let k = want["n_clusters"].as_u64().unwrap();
        assert_eq!(c.params["model.n_clusters"], k);
        if k <= 3 {
            for (got, w) in c.scores[0].folds.iter().zip(floats(&want["folds"])) {
                assert!(
                    close(*got, w, 1e-9),
                    "n_clusters {k}: {got} vs {w}\n{results}"
                );
            }
        }
        let w = want["mean"].as_f64().unwrap();
        assert!(
            (c.scores[0].mean - w).abs() < 0.03,
            "n_clusters {k}: vs {w}\n{results}"
        );
    }
    // The refit pipeline has no target and predicts clusters.
    let best = results.best_pipeline.as_ref().unwrap();
    assert!(best.meta().target_name().is_err());
    assert_eq!(best.predict_table(&table).unwrap().len(), 150);
}

#[test]
fn lower_is_better_ranks_first_and_every_search_runs_without_a_target() {
    let table = amlis::datasets::iris_table()
        .unwrap()
        .drop(&["species"])
        .unwrap();
    let base = TrainConfig::from_json(
        r#"{"model": {"type": "k_means", "n_init": 2, "random_state": 0},
            "preprocess": [{"type": "standard_scaler"}]}"#,
    )
    .unwrap();
    let grid = ParamGrid::from_json(r#"{"model.n_clusters": [2, 3, 4]}"#).unwrap();
    let options = SearchOptions::metrics(&["davies_bouldin", "calinski_harabasz_score"]);
    let results = GridSearch::new(grid.clone(), options.clone())
        .fit(
            &base,
            &table,
            None,
            &KFold::new(3).shuffle(0),
            &FitContext::new(),
        )
        .unwrap();
    assert_eq!(results.greater_is_better, vec![false, true]);
    let db: Vec<f64> = results
        .candidates
        .iter()
        .map(|c| c.scores[0].mean)
        .collect();
    let min = db.iter().copied().fold(f64::INFINITY, f64::min);
    assert_eq!(results.best_score, min, "{results}");
    let best = &results.candidates[results.best_index];
    assert_eq!(best.scores[0].rank, 1);
    // Random and halving searches take the same data.
    let dist = ParamDistributions::new().param(
        "model.n_clusters",
        Distribution::IntRange { low: 2, high: 5 },
    );
    let random = RandomSearch::new(dist, 2, SearchOptions::default().refit(false))
        .fit(
            &base,
            &table,
            None,
            &KFold::new(3).shuffle(0),
            &FitContext::new(),
        )
        .unwrap();
    assert_eq!(random.candidates.len(), 2);
    let halving = HalvingSearch::new(grid.candidates().unwrap(), options)
        .fit(
            &base,
            &table,
            None,
            &KFold::new(3).shuffle(0),
            &FitContext::new(),
        )
        .unwrap();
    assert!(halving.best_pipeline.is_some());
}

#[test]
fn cross_validation_without_a_target_and_with_labels() {
    let iris = amlis::datasets::iris_table().unwrap();
    let config = TrainConfig::from_json(
        r#"{"model": {"type": "k_means", "n_clusters": 3, "n_init": 2, "random_state": 0},
            "preprocess": [{"type": "standard_scaler"}]}"#,
    )
    .unwrap();
    let splitter = KFold::new(3).shuffle(1);
    let features = iris.drop(&["species"]).unwrap();
    let data = TableData::new(&features, None, Estimator::Clusterer).unwrap();
    let cv = cross_validate(
        &data,
        &config,
        &splitter,
        &CvOptions::default(),
        &FitContext::new(),
    )
    .unwrap();
    let sil = cv.metric("silhouette_score").unwrap();
    assert!(sil.folds.iter().all(|s| *s > 0.3), "{sil:?}");
    // A metric that compares with labels needs a target; the error names the alternatives.
    let e = cross_validate(
        &data,
        &config,
        &splitter,
        &CvOptions::metrics(&["adjusted_rand_score"]),
        &FitContext::new(),
    )
    .unwrap_err();
    assert!(e.to_string().contains("silhouette_score"), "{e}");
    // With labels, external and internal scores together.
    let labelled = TableData::new(&iris, "species", Estimator::Clusterer).unwrap();
    let cv = cross_validate(
        &labelled,
        &config,
        &splitter,
        &CvOptions::metrics(&["adjusted_rand_score", "silhouette"]),
        &FitContext::new(),
    )
    .unwrap();
    assert!(cv.metric("adjusted_rand_score").unwrap().mean > 0.3);
    assert_eq!(
        cv.metric("silhouette").unwrap().folds,
        // The same fits on the same folds: the labels do not change the silhouette.
        cross_validate(
            &data,
            &config,
            &splitter,
            &CvOptions::metrics(&["silhouette"]),
            &FitContext::new()
        )
        .unwrap()
        .metric("silhouette")
        .unwrap()
        .folds
    );
    // A classifier without a target is refused.
    assert!(TableData::new(&features, None, Estimator::Classifier).is_err());
}
