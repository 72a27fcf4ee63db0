//! Gaussian mixtures against scikit-learn (tests/fixtures/mixture_sklearn.json, made by
//! tests/fixtures/mixture_generate.py): from the same explicit start, every covariance type
//! gives the same per-row log-likelihood (to 1e-6), iterations and convergence, and close
//! parameters, BIC and AIC, on iris and wine (standardized), blobs and anisotropic blobs; a
//! warm start continues as scikit-learn's; amlis's own initialisations reach lower bounds as
//! good as scikit-learn's. Plus: the same seed gives the same model on 1 and 3 threads, the
//! row paths equal the batch bit for bit, an ill-conditioned covariance is an error naming
//! the component, integer sample weights act as repeated rows, and a table without target
//! trains through the pipeline.

mod common;

use amlis::data::DenseDataset;
use amlis::models::mixture::{GaussianMixture, GaussianMixtureModel, PrecisionsInit};
use amlis::traits::{FitContext, Predictor, ProbabilisticPredictor, ScorePredictor, Trainer};
use ndarray::Array2;
use serde_json::Value;

/// The case's rows as the script made them.
fn load(case: &Value) -> Array2<f64> {
    if let Some(rows) = case.get("x") {
        let rows: Vec<Vec<f64>> = rows
            .as_array()
            .unwrap()
            .iter()
            .map(common::floats)
            .collect();
        let p = rows[0].len();
        return Array2::from_shape_vec((rows.len(), p), rows.concat()).unwrap();
    }
    let data = common::fixture_features(case);
    let mut x = amlis::traits::Dataset::features(&data).to_owned();
    let n = x.nrows() as f64;
    for mut col in x.columns_mut() {
        let mean = col.sum() / n;
        let std = (col.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n).sqrt();
        col.mapv_inplace(|v| (v - mean) / std);
    }
    x
}

fn matrix(v: &Value) -> Vec<Vec<f64>> {
    v.as_array().unwrap().iter().map(common::floats).collect()
}

/// The explicit start of a fixture entry, in amlis's terms.
fn explicit(x: &Array2<f64>, k: usize, e: &Value) -> GaussianMixture {
    let ct = e["covariance_type"].as_str().unwrap();
    let rows = common::usizes(&e["init_rows"]);
    let prec = &e["precisions_init"];
    let precisions = match ct {
        "spherical" => PrecisionsInit::Values(common::floats(prec)),
        "full" => PrecisionsInit::Matrices(prec.as_array().unwrap().iter().map(matrix).collect()),
        _ => PrecisionsInit::Matrix(matrix(prec)),
    };
    GaussianMixture::default()
        .n_components(k)
        .covariance_type(ct.into())
        .weights_init(common::floats(&e["weights_init"]))
        .means_init(rows.iter().map(|&i| x.row(i).to_vec()).collect())
        .precisions_init(precisions)
}

fn close(what: &str, ours: &[f64], theirs: &[f64], tol: f64) -> f64 {
    assert_eq!(ours.len(), theirs.len(), "{what}: lengths");
    let mut worst = 0.0f64;
    for (i, (a, b)) in ours.iter().zip(theirs).enumerate() {
        let d = (a - b).abs() / (1.0 + b.abs());
        worst = worst.max(d);
        assert!(d <= tol, "{what}[{i}]: {a} vs {b}");
    }
    worst
}

fn score_samples(m: &GaussianMixtureModel, x: &Array2<f64>) -> Vec<f64> {
    let mut out = vec![0.0; x.nrows()];
    m.score_into(x.view(), &mut out).unwrap();
    out
}

#[test]
fn same_start_same_mixture_as_scikit_learn() {
    let fixture = common::fixture("mixture_sklearn.json");
    let cases = fixture["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 4);
    for case in cases {
        let x = load(case);
        let k = case["n_components"].as_u64().unwrap() as usize;
        let data = DenseDataset::unsupervised(x.clone()).unwrap();
        for e in case["explicit"].as_array().unwrap() {
            let what = format!("{} {}", case["name"], e["covariance_type"]);
            let m = explicit(&x, k, e).fit(&data).unwrap();
            let ll = close(
                &format!("{what} score_samples"),
                &score_samples(&m, &x),
                &common::floats(&e["score_samples"]),
                1e-6,
            );
            assert_eq!(m.n_iter() as u64, e["n_iter"].as_u64().unwrap(), "{what}");
            assert_eq!(m.converged(), e["converged"].as_bool().unwrap(), "{what}");
            let lb = e["lower_bound"].as_f64().unwrap();
            assert!(
                (m.lower_bound() - lb).abs() <= 1e-8,
                "{what}: {} vs {lb}",
                m.lower_bound()
            );
            let weights = close(
                &format!("{what} weights"),
                m.weights(),
                &common::floats(&e["weights"]),
                1e-6,
            );
            let means: Vec<f64> = m.means().iter().copied().collect();
            let their_means: Vec<f64> = matrix(&e["means"]).concat();
            let means = close(&format!("{what} means"), &means, &their_means, 1e-6);
            let cov: Vec<f64> = m.covariances().iter().copied().collect();
            let cov = close(
                &format!("{what} covariances"),
                &cov,
                &common::floats(&e["covariances"]),
                1e-6,
            );
            let pc: Vec<f64> = m.precisions_cholesky().iter().copied().collect();
            close(
                &format!("{what} precisions_cholesky"),
                &pc,
                &common::floats(&e["precisions_cholesky"]),
                1e-5,
            );
            let mut labels = vec![0.0; x.nrows()];
            m.predict_into(x.view(), &mut labels).unwrap();
            let labels: Vec<usize> = labels.iter().map(|&v| v as usize).collect();
            assert_eq!(labels, common::usizes(&e["labels"]), "{what}");
            let head = x.slice(ndarray::s![..10, ..]);
            let mut proba = vec![0.0; 10 * k];
            m.predict_proba_into(head, &mut proba).unwrap();
            close(
                &format!("{what} proba"),
                &proba,
                &matrix(&e["proba_head"]).concat(),
                1e-6,
            );
            let bic = e["bic"].as_f64().unwrap();
            let aic = e["aic"].as_f64().unwrap();
            assert!(
                (m.bic(x.view()).unwrap() - bic).abs() <= 1e-6 * bic.abs(),
                "{what} bic"
            );
            assert!(
                (m.aic(x.view()).unwrap() - aic).abs() <= 1e-6 * aic.abs(),
                "{what} aic"
            );
            eprintln!(
                "{what}: n_iter {}, max rel. diff: log-lik {ll:.1e}, weights {weights:.1e}, means {means:.1e}, covariances {cov:.1e}",
                m.n_iter()
            );
        }
    }
}

#[test]
fn warm_start_continues_as_scikit_learn() {
    let fixture = common::fixture("mixture_sklearn.json");
    for case in fixture["cases"].as_array().unwrap() {
        let x = load(case);
        let k = case["n_components"].as_u64().unwrap() as usize;
        let data = DenseDataset::unsupervised(x.clone()).unwrap();
        let e = &case["explicit"][0];
        let ws = &case["warm_start"];
        let what = format!("{} warm start", case["name"]);
        let first = explicit(&x, k, e).max_iter(2).fit(&data).unwrap();
        assert!(!first.converged());
        let lb = ws["first"]["lower_bound"].as_f64().unwrap();
        assert!((first.lower_bound() - lb).abs() <= 1e-8, "{what}");
        let second = GaussianMixture::default()
            .n_components(k)
            .fit_warm_start(&first, &data, &FitContext::new())
            .unwrap();
        assert_eq!(
            second.n_iter() as u64,
            ws["n_iter"].as_u64().unwrap(),
            "{what}"
        );
        assert_eq!(
            second.converged(),
            ws["converged"].as_bool().unwrap(),
            "{what}"
        );
        close(
            &what,
            &score_samples(&second, &x),
            &common::floats(&ws["score_samples"]),
            1e-6,
        );
    }
}

#[test]
fn own_initialisations_are_as_good_as_scikit_learn() {
    let fixture = common::fixture("mixture_sklearn.json");
    for case in fixture["cases"].as_array().unwrap() {
        let x = load(case);
        let k = case["n_components"].as_u64().unwrap() as usize;
        let data = DenseDataset::unsupervised(x.clone()).unwrap();
        for own in case["own_init"].as_array().unwrap() {
            let ct = own["covariance_type"].as_str().unwrap();
            let init = own["init_params"].as_str().unwrap();
            let theirs = common::floats(&own["lower_bounds"]);
            let ours: Vec<f64> = (0..3u64)
                .map(|seed| {
                    GaussianMixture::default()
                        .n_components(k)
                        .covariance_type(ct.into())
                        .init_params(init.into())
                        .n_init(3)
                        .random_state(seed)
                        .fit(&data)
                        .unwrap()
                        .lower_bound()
                })
                .collect();
            let best = |v: &[f64]| v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let worst = |v: &[f64]| v.iter().copied().fold(f64::INFINITY, f64::min);
            eprintln!(
                "{} {ct} {init}: ours {ours:?}, scikit-learn {theirs:?}",
                case["name"]
            );
            // Different random streams reach different local optima: the best of ours is
            // at least as good as the worst of scikit-learn's, less 0.5% of its magnitude.
            let floor = worst(&theirs) - 0.005 * worst(&theirs).abs();
            assert!(
                best(&ours) >= floor,
                "{} {ct} {init}: {ours:?} vs {theirs:?}",
                case["name"]
            );
        }
    }
}

#[test]
fn same_seed_same_model_on_one_and_three_threads() {
    // 600 rows: three row blocks, so the E- and M-steps really run in parallel.
    let n = 600;
    let x = Array2::from_shape_fn((n, 3), |(i, j)| {
        let c = (i % 3) as f64 * 4.0;
        let t = ((i * 7919 + j * 104_729) % 1000) as f64 / 1000.0 - 0.5;
        c + t * (1.0 + j as f64) + 0.3 * ((i * 31) % 17) as f64 / 17.0
    });
    let data = DenseDataset::unsupervised(x.clone()).unwrap();
    for ct in ["full", "tied", "diag", "spherical"] {
        for init in ["kmeans", "k-means++", "random", "random_from_data"] {
            let fit = |threads: usize| {
                GaussianMixture::default()
                    .n_components(3)
                    .covariance_type(ct.into())
                    .init_params(init.into())
                    .n_init(2)
                    .fit_with(&data, &FitContext::new().random_state(5).n_threads(threads))
                    .unwrap()
            };
            let (one, three) = (fit(1), fit(3));
            let bits = |m: &GaussianMixtureModel| serde_json::to_string(m).unwrap();
            assert_eq!(bits(&one), bits(&three), "{ct} {init}");
            // Row paths equal the batch bit for bit.
            let mut batch = vec![0.0; n * 3];
            one.predict_proba_into(x.view(), &mut batch).unwrap();
            let mut scores = vec![0.0; n];
            one.score_into(x.view(), &mut scores).unwrap();
            let mut labels = vec![0.0; n];
            one.predict_into(x.view(), &mut labels).unwrap();
            for i in (0..n).step_by(97) {
                let row = x.row(i).to_vec();
                let mut p = [0.0; 3];
                one.predict_proba_row_into(&row, &mut p).unwrap();
                assert_eq!(
                    p.map(f64::to_bits),
                    [0, 1, 2].map(|j| batch[i * 3 + j].to_bits())
                );
                let mut s = [0.0];
                one.score_row_into(&row, &mut s).unwrap();
                assert_eq!(s[0].to_bits(), scores[i].to_bits());
                one.predict_row_into(&row, &mut s).unwrap();
                assert_eq!(s[0], labels[i]);
            }
        }
    }
}

#[test]
fn an_ill_conditioned_covariance_names_the_component_and_reg_covar() {
    // One k-means cluster is three copies of the origin: with reg_covar = 0 its covariance
    // is 0 (exactly: its mean is 0).
    let mut rows = vec![[5.0, 5.0], [6.0, 5.2], [5.3, 6.0], [5.8, 5.9], [5.1, 5.5]];
    rows.extend([[0.0, 0.0]; 3]);
    let x = Array2::from_shape_vec((rows.len(), 2), rows.concat()).unwrap();
    let data = DenseDataset::unsupervised(x).unwrap();
    for ct in ["full", "diag", "spherical"] {
        let gm = GaussianMixture::default()
            .n_components(2)
            .covariance_type(ct.into())
            .init_params("kmeans".into())
            .random_state(0)
            .reg_covar(0.0);
        let e = gm.fit(&data).unwrap_err().to_string();
        assert!(
            e.contains("component 1") || e.contains("component 0"),
            "{ct}: {e}"
        );
        assert!(e.contains("increase reg_covar"), "{ct}: {e}");
        // The default reg_covar keeps it positive definite.
        assert!(gm.reg_covar(1e-6).fit(&data).is_ok(), "{ct}");
    }
}

#[test]
fn integer_weights_act_as_repeated_rows() {
    let fixture = common::fixture("mixture_sklearn.json");
    let case = &fixture["cases"][2];
    let x = load(case);
    let n = x.nrows();
    let w = ndarray::Array1::from_shape_fn(n, |i| 1.0 + (i % 2) as f64);
    let weighted = DenseDataset::unsupervised(x.clone())
        .unwrap()
        .with_weights(w)
        .unwrap();
    let mut rows = Vec::new();
    for i in 0..n {
        rows.extend(x.row(i).iter().copied());
        if i % 2 == 1 {
            rows.extend(x.row(i).iter().copied());
        }
    }
    let repeated =
        DenseDataset::unsupervised(Array2::from_shape_vec((rows.len() / 2, 2), rows).unwrap())
            .unwrap();
    let e = &case["explicit"][0];
    let a = explicit(&x, 3, e).fit(&weighted).unwrap();
    let b = explicit(&x, 3, e).fit(&repeated).unwrap();
    assert_eq!(a.n_iter(), b.n_iter());
    close(
        "weighted",
        &score_samples(&a, &x),
        &score_samples(&b, &x),
        1e-10,
    );
}

#[test]
fn trains_through_the_pipeline_without_a_target() {
    use amlis::config::TrainConfig;
    use amlis::models::{Estimator, PredictKind};
    use amlis::pipeline::Pipeline;

    let (table, target) = common::penguins_for(Estimator::Clusterer);
    let config = TrainConfig::from_json(
        r#"{"model": {"type": "gaussian_mixture", "n_components": 3, "covariance_type": "diag"},
            "preprocess": [{"type": "simple_imputer", "strategy": "most_frequent"},
                           {"type": "one_hot_encoder", "handle_unknown": "ignore"},
                           {"type": "standard_scaler"}],
            "random_state": 3}"#,
    )
    .unwrap();
    let p = Pipeline::fit(&config, &table, target, &FitContext::new()).unwrap();
    assert_eq!(p.estimator(), Estimator::Clusterer);
    assert_eq!(
        p.outputs(),
        [PredictKind::Value, PredictKind::Proba, PredictKind::Score]
    );
    assert_eq!(p.output_width(PredictKind::Proba).unwrap(), 3);
    assert_eq!(p.output_width(PredictKind::Score).unwrap(), 1);
}
