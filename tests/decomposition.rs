//! PCA and IncrementalPCA against scikit-learn (tests/fixtures/decomposition_sklearn.json,
//! made by tests/fixtures/decomposition_generate.py): components (signs included),
//! explained variance and ratio, singular values, noise variance, transforms and
//! score_samples to 1e-8 relative for the exact solvers; the randomized solver within 1e-6
//! of the exact answer on data with a spectral gap; the same component counts from a
//! fraction and from "mle". Plus: the same model on 1 and 3 threads, the row paths equal the
//! batch bit for bit, and PCA as a preprocessing step of a pipeline.

mod common;

use amlis::config::TrainConfig;
use amlis::data::DenseDataset;
use amlis::models::decomposition::{IncrementalPca, IteratedPower, NComponents, Pca, PcaModel};
use amlis::models::PredictKind;
use amlis::pipeline::Pipeline;
use amlis::traits::{Dataset, FitContext, Model, ScorePredictor, Trainer, TransformPredictor};
use ndarray::{s, Array2};
use serde_json::Value;

/// The case's rows as the script made them.
fn load(case: &Value) -> Array2<f64> {
    let data = common::fixture_features(case);
    let every = case["every"].as_u64().unwrap() as usize;
    let mut x = data.features().slice(s![..;every, ..]).to_owned();
    if case["standardize"].as_bool().unwrap() {
        let n = x.nrows() as f64;
        for mut col in x.columns_mut() {
            let mean = col.sum() / n;
            let std = (col.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n).sqrt();
            col.mapv_inplace(|v| (v - mean) / std);
        }
    }
    x
}

fn matrix(v: &Value) -> Vec<Vec<f64>> {
    v.as_array().unwrap().iter().map(common::floats).collect()
}

fn close(what: &str, got: f64, want: f64, scale: f64, tol: f64) {
    assert!(
        (got - want).abs() <= tol * scale.max(want.abs()),
        "{what}: {got} vs scikit-learn's {want} (tol {tol}, scale {scale})"
    );
}

/// Compares a fitted model with a fixture entry; components whose eigenvalue is closer than
/// 1e-6 of the largest to a neighbour are not unique and are skipped (with their outputs).
fn compare(ctx: &str, m: &PcaModel, want: &Value, x: &Array2<f64>, tol: f64) {
    let k = want["n_components"].as_u64().unwrap() as usize;
    assert_eq!(m.n_components, k, "{ctx}: n_components");
    let ev = common::floats(&want["explained_variance"]);
    let top = ev[0];
    let gaps = common::floats(&want["gaps"]);
    let vecs = [
        (
            "explained_variance",
            &m.explained_variance,
            "explained_variance",
        ),
        (
            "explained_variance_ratio",
            &m.explained_variance_ratio,
            "explained_variance_ratio",
        ),
        ("singular_values", &m.singular_values, "singular_values"),
    ];
    for (what, got, key) in vecs {
        let w = common::floats(&want[key]);
        let scale = w.iter().fold(0.0f64, |a, v| a.max(v.abs()));
        for (g, w) in got.iter().zip(&w) {
            close(&format!("{ctx} {what}"), *g, *w, scale, tol);
        }
    }
    close(
        &format!("{ctx} noise_variance"),
        m.noise_variance,
        want["noise_variance"].as_f64().unwrap(),
        top,
        tol,
    );
    for (g, w) in m.mean.iter().zip(common::floats(&want["mean"])) {
        close(&format!("{ctx} mean"), *g, w, 1.0, 1e-12);
    }
    let comps = matrix(&want["components"]);
    let unique: Vec<bool> = gaps.iter().map(|g| *g > 1e-6 * top).collect();
    assert!(
        unique.iter().filter(|u| **u).count() * 2 >= k,
        "{ctx}: too few unique axes"
    );
    for (c, (g, w)) in m.components.iter().zip(&comps).enumerate() {
        if unique[c] {
            for (a, b) in g.iter().zip(w) {
                close(&format!("{ctx} component {c}"), *a, *b, 1.0, tol);
            }
        }
    }
    let n_rows = want["transform"].as_array().unwrap().len();
    let mut z = vec![0.0; n_rows * k];
    m.transform_into(x.slice(s![..n_rows, ..]), &mut z).unwrap();
    for (r, row) in matrix(&want["transform"]).iter().enumerate() {
        for (c, w) in row.iter().enumerate() {
            if unique[c] {
                let scale = if m.whiten { 1.0 } else { ev[c].sqrt() };
                close(
                    &format!("{ctx} transform [{r}, {c}]"),
                    z[r * k + c],
                    *w,
                    scale,
                    tol,
                );
            }
        }
    }
    if let Some(ll) = want.get("score_samples") {
        if unique.iter().all(|u| *u) {
            let mut got = vec![0.0; n_rows];
            m.score_into(x.slice(s![..n_rows, ..]), &mut got).unwrap();
            for (g, w) in got.iter().zip(common::floats(ll)) {
                close(&format!("{ctx} score_samples"), *g, w, 1.0, tol);
            }
        }
    }
}

fn pca_of(settings: &Value) -> Pca {
    serde_json::from_value(settings.clone()).unwrap()
}

fn data(x: &Array2<f64>) -> DenseDataset {
    DenseDataset::unsupervised(x.clone()).unwrap()
}

#[test]
fn pca_equals_scikit_learn_on_real_data() {
    let fixture = common::fixture("decomposition_sklearn.json");
    let cases = fixture["pca"].as_array().unwrap();
    assert!(cases.len() >= 15);
    for case in cases {
        let x = load(case);
        let ctx = format!("{} {}", case["file"], case["settings"]);
        let m = pca_of(&case["settings"]).fit(&data(&x)).unwrap();
        compare(&ctx, &m, case, &x, 1e-8);
    }
}

#[test]
fn incremental_pca_equals_scikit_learn() {
    let fixture = common::fixture("decomposition_sklearn.json");
    for case in fixture["incremental"].as_array().unwrap() {
        let x = load(case);
        let ctx = format!("incremental {} {}", case["file"], case["settings"]);
        let inc: IncrementalPca = serde_json::from_value(case["settings"].clone()).unwrap();
        let m = inc.fit(&data(&x)).unwrap();
        assert_eq!(m.n_samples, x.nrows());
        compare(&ctx, &m, case, &x, 1e-8);
    }
}

#[test]
fn randomized_finds_the_exact_axes_behind_a_spectral_gap() {
    let fixture = common::fixture("decomposition_sklearn.json");
    let syn = &fixture["synthetic"];
    let rows = matrix(&syn["x"]);
    let x = Array2::from_shape_fn((rows.len(), rows[0].len()), |(i, j)| rows[i][j]);
    let exact = &syn["exact"];
    let full = Pca::default()
        .n_components(NComponents::Count(5))
        .svd_solver("full".into());
    compare(
        "synthetic full",
        &full.fit(&data(&x)).unwrap(),
        exact,
        &x,
        1e-8,
    );
    for (iters, normalizer) in [
        (IteratedPower::default(), "auto"),
        (IteratedPower::Count(2), "none"),
        (IteratedPower::Count(3), "QR"),
    ] {
        let rand = Pca::default()
            .n_components(NComponents::Count(5))
            .svd_solver("randomized".into())
            .iterated_power(iters)
            .power_iteration_normalizer(normalizer.into())
            .random_state(3);
        let m = rand.fit(&data(&x)).unwrap();
        compare(
            &format!("synthetic randomized {normalizer}"),
            &m,
            exact,
            &x,
            1e-6,
        );
        // The same seed gives the same bits on 1 and 3 threads.
        let again = rand
            .fit_with(&data(&x), &FitContext::new().n_threads(3))
            .unwrap();
        let one = rand
            .fit_with(&data(&x), &FitContext::new().n_threads(1))
            .unwrap();
        assert_eq!(again, one);
        assert_eq!(m, one);
    }
    let mle = Pca::default().n_components(NComponents::Method("mle".into()));
    assert_eq!(
        mle.fit(&data(&x)).unwrap().n_components as u64,
        syn["mle"].as_u64().unwrap()
    );
}

#[test]
fn rows_equal_the_batch_and_threads_do_not_change_the_model() {
    let fixture = common::fixture("decomposition_sklearn.json");
    let case = &fixture["pca"][11]; // breast cancer, covariance_eigh (auto), whiten
    let x = load(case);
    let pca = pca_of(&case["settings"]);
    let one = pca
        .fit_with(&data(&x), &FitContext::new().n_threads(1))
        .unwrap();
    let three = pca
        .fit_with(&data(&x), &FitContext::new().n_threads(3))
        .unwrap();
    assert_eq!(one, three);
    let k = one.n_components;
    let mut batch = vec![0.0; x.nrows() * k];
    one.transform_into(x.view(), &mut batch).unwrap();
    let mut scores = vec![0.0; x.nrows()];
    one.score_into(x.view(), &mut scores).unwrap();
    let mut row_out = vec![0.0; k];
    let mut score = [0.0];
    for (i, row) in x.outer_iter().enumerate() {
        one.transform_row_into(row.as_slice().unwrap(), &mut row_out)
            .unwrap();
        assert_eq!(&batch[i * k..(i + 1) * k], &row_out[..]);
        one.score_row_into(row.as_slice().unwrap(), &mut score)
            .unwrap();
        assert_eq!(score[0].to_bits(), scores[i].to_bits());
    }
    // inverse_transform undoes transform when every component is kept.
    let all = Pca::default().whiten(true).fit(&data(&x)).unwrap();
    let mut z = vec![0.0; x.nrows() * x.ncols()];
    all.transform_into(x.view(), &mut z).unwrap();
    let back = all
        .inverse_transform(Array2::from_shape_vec(x.dim(), z).unwrap().view())
        .unwrap();
    for (a, b) in back.iter().zip(x.iter()) {
        assert!((a - b).abs() < 1e-9, "{a} vs {b}");
    }
    // scikit-learn's score is the mean of score_samples.
    let mean = scores.iter().sum::<f64>() / scores.len() as f64;
    assert!((one.score(x.view()).unwrap() - mean).abs() < 1e-12 * mean.abs());
}

#[test]
fn pca_as_a_preprocessing_step_of_a_pipeline() {
    let table = amlis::datasets::iris_table().unwrap();
    let config = TrainConfig::from_json(
        r#"{"model": {"type": "logistic_regression"},
            "preprocess": [{"type": "standard_scaler"}, {"type": "pca", "n_components": 2}],
            "random_state": 1}"#,
    )
    .unwrap();
    let p = Pipeline::fit(&config, &table, Some("species"), &FitContext::new()).unwrap();
    assert_eq!(p.model().n_features(), 2);
    let info = amlis::ffi::model::info_json(&p);
    assert_eq!(info["steps"], serde_json::json!(["standard_scaler", "pca"]));
    assert_eq!(info["n_model_features"], 2);
    let path = std::env::temp_dir().join(format!("amlis_pca_step_{}.amlis", std::process::id()));
    p.save(&path, amlis::persist::Encoding::Binary).unwrap();
    let q = Pipeline::load(&path).unwrap();
    std::fs::remove_file(&path).ok();
    let x = common::raw_rows(&p, &table);
    for kind in [PredictKind::Value, PredictKind::Proba] {
        let width = p.output_width(kind).unwrap();
        let mut a = vec![0.0; x.nrows() * width];
        let mut b = vec![0.0; x.nrows() * width];
        p.predict_rows_into(kind, x.view(), &mut a).unwrap();
        q.predict_rows_into(kind, x.view(), &mut b).unwrap();
        let bits = |v: &[f64]| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&a), bits(&b));
        let mut rp = q.row_predictor(kind).unwrap();
        let mut out = vec![0.0; width];
        for (i, row) in x.outer_iter().enumerate() {
            rp.predict_row(row.as_slice().unwrap(), &mut out).unwrap();
            assert_eq!(bits(&out), bits(&a[i * width..(i + 1) * width]));
        }
    }
    // Accuracy of two standardized components on iris.
    let mut pred = vec![0.0; x.nrows()];
    p.predict_rows_into(PredictKind::Value, x.view(), &mut pred)
        .unwrap();
    let labels = amlis::datasets::iris().unwrap();
    let y = labels.targets().unwrap();
    let acc = pred.iter().zip(y.iter()).filter(|(a, b)| a == b).count() as f64 / 150.0;
    assert!(acc > 0.85, "{acc}");
}
