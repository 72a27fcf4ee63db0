//! The naive Bayes models against scikit-learn 1.9.1 (`tests/fixtures/naive_bayes_generate.py`):
//!
//! - `predict_log_proba` within 1e-10 (absolute below 1, relative above) and the same
//!   `predict` for every case: `gaussian_nb` on iris, wine and breast_cancer (priors,
//!   var_smoothing, weights, several `partial_fit` chunks, chunks holding one class each);
//!   `multinomial_nb`, `complement_nb` and `bernoulli_nb` on digits pixel counts (alpha as a
//!   number or per feature, `force_alpha=false`, `fit_prior=false`, `class_prior`, `norm`,
//!   `binarize`, weights, chunks); `categorical_nb` on penguins' categorical columns as codes
//!   (weights, chunks whose categories grow, `min_categories`, and categories never seen);
//! - a category code beyond the fitted range is unseen (smoothed), not an index error;
//! - negative counts, non-integer codes and NaN are errors naming the row and the column;
//! - the same model bits on 1 and 3 threads.

mod common;

use amlis::data::DenseDataset;
use amlis::models::naive_bayes::{CategoricalNb, GaussianNb, MultinomialNb, NaiveBayes};
use amlis::models::{AnyLearner, AnyModel, ModelConfig};
use amlis::traits::{Dataset, FitContext, Model, Predictor, StreamSpec, Trainer};
use ndarray::{Array1, Array2};
use serde_json::Value;

fn fixture() -> &'static Value {
    static F: std::sync::OnceLock<Value> = std::sync::OnceLock::new();
    F.get_or_init(|| common::fixture("naive_bayes_sklearn.json"))
}

fn matrix(v: &Value) -> Array2<f64> {
    let rows: Vec<Vec<f64>> = v.as_array().unwrap().iter().map(common::floats).collect();
    let p = rows[0].len();
    Array2::from_shape_vec((rows.len(), p), rows.concat()).unwrap()
}

/// The case's training data: features, class indices, optional weights `1 + (i % 3)`.
fn dataset(case: &Value) -> DenseDataset {
    let x = match case.get("file") {
        Some(_) => common::fixture_features(case).features().to_owned(),
        None => matrix(&case["x"]),
    };
    let y = Array1::from(common::floats(&case["y"]));
    let k = case["n_classes"].as_u64().unwrap() as usize;
    let n = x.nrows();
    let mut data = DenseDataset::classification(x, y)
        .unwrap()
        .with_classes(classes(k))
        .unwrap();
    if case["weighted"].as_bool() == Some(true) {
        data = data
            .with_weights(Array1::from_iter((0..n).map(|i| 1.0 + (i % 3) as f64)))
            .unwrap();
    }
    data
}

fn classes(k: usize) -> Vec<String> {
    (0..k).map(|c| c.to_string()).collect()
}

fn as_nb(m: &AnyModel) -> &dyn NaiveBayes {
    match m {
        AnyModel::GaussianNb(m) => m,
        AnyModel::MultinomialNb(m) | AnyModel::ComplementNb(m) | AnyModel::BernoulliNb(m) => m,
        AnyModel::CategoricalNb(m) => m,
        other => panic!("not naive Bayes: {}", other.type_name()),
    }
}

/// Fits the case's model as the case says: one `fit`, or `partial_fit` over the chunks.
fn train(case: &Value, data: &DenseDataset, ctx: &FitContext<'_>) -> AnyModel {
    let config =
        ModelConfig::from_json_parts(case["type"].as_str().unwrap(), case["params"].clone())
            .unwrap();
    let chunks: Vec<(usize, usize)> = case["chunks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let c = common::usizes(c);
            (c[0], c[1])
        })
        .collect();
    if chunks.len() == 1 {
        return config.fit(data, ctx).unwrap();
    }
    let spec = StreamSpec {
        n_features: data.n_features(),
        classes: classes(data.n_classes()),
    };
    let mut learner = AnyLearner::start(&config, &spec, ctx).unwrap();
    for (a, b) in chunks {
        learner
            .partial_fit(&data.view((a..b).collect()).unwrap())
            .unwrap();
    }
    learner.model().unwrap()
}

fn assert_close(name: &str, got: &[f64], want: &[f64]) {
    assert_eq!(got.len(), want.len(), "{name}");
    let mut worst = 0.0f64;
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        let err = (g - w).abs() / w.abs().max(1.0);
        assert!(
            err <= 1e-10,
            "{name}: value {i}: {g} against scikit-learn's {w}"
        );
        worst = worst.max(err);
    }
    eprintln!("{name}: worst error {worst:.1e}");
}

#[test]
fn predict_log_proba_matches_scikit_learn() {
    let mut count = 0;
    for case in fixture()["cases"].as_array().unwrap() {
        let name = format!("{} {}", case["type"].as_str().unwrap(), case["name"]);
        let data = dataset(case);
        let model = train(case, &data, &FitContext::new());
        model.validate().unwrap();
        let eval = common::usizes(&case["eval"]);
        let x = data.features().select(ndarray::Axis(0), &eval);
        let lp = as_nb(&model).predict_log_proba(x.view()).unwrap();
        assert_close(
            &name,
            lp.as_slice().unwrap(),
            &common::floats(&case["log_proba"]),
        );
        let pred = model.predict(x.view()).unwrap();
        assert_eq!(pred.to_vec(), common::floats(&case["predict"]), "{name}");
        // Probabilities are the exponentials, and each row sums to 1.
        let proba = model
            .as_probabilistic()
            .unwrap()
            .predict_proba(x.view())
            .unwrap();
        for (p, l) in proba.iter().zip(lp.iter()) {
            assert_eq!(p.to_bits(), l.exp().to_bits(), "{name}");
        }
        count += 1;
    }
    assert_eq!(count, 29);
}

#[test]
fn categories_never_seen_are_smoothed() {
    let case = &fixture()["unseen"];
    let x = matrix(&case["x"]);
    let y = Array1::from(common::floats(&case["y"]));
    let data = DenseDataset::classification(x, y).unwrap();
    let config = ModelConfig::from_json_parts("categorical_nb", case["params"].clone()).unwrap();
    let model = config.fit(&data, &FitContext::new()).unwrap();
    let probe = matrix(&case["probe"]);
    let lp = as_nb(&model).predict_log_proba(probe.view()).unwrap();
    assert_close(
        "unseen",
        lp.as_slice().unwrap(),
        &common::floats(&case["log_proba"]),
    );
    assert_eq!(
        model.predict(probe.view()).unwrap().to_vec(),
        common::floats(&case["predict"])
    );

    // A code beyond every fitted category (island 9, quartile 40) is unseen too: its term is
    // log(alpha) - log(Σ (count + alpha)), the value of a zero count.
    let AnyModel::CategoricalNb(m) = &model else {
        panic!()
    };
    let beyond = ndarray::array![[9.0, 0.0, 1.0, 40.0]];
    let jll = m.predict_joint_log_proba(beyond.view()).unwrap();
    let k = m.classes.len();
    for c in 0..k {
        let mut want = 0.0;
        for (j, &v) in [9usize, 0, 1, 40].iter().enumerate() {
            let n = m.n_categories[j];
            let counts = &m.category_count[j][c * n..(c + 1) * n];
            let total: f64 = counts.iter().map(|v| v + 1.0).sum();
            want += if v < n {
                m.feature_log_prob[j][c * n + v]
            } else {
                -total.ln()
            };
        }
        want += m.class_log_prior[c];
        assert!(
            (jll[[0, c]] - want).abs() < 1e-12,
            "{} vs {want}",
            jll[[0, c]]
        );
    }
}

#[test]
fn bad_values_are_errors_naming_row_and_column() {
    let x = ndarray::array![[1.0, 2.0], [0.0, -3.0], [2.0, 0.0]];
    let y = ndarray::array![0.0, 1.0, 1.0];
    let data = DenseDataset::classification(x.clone(), y.clone()).unwrap();
    let msg = MultinomialNb::default().fit(&data).unwrap_err().to_string();
    assert!(
        msg.contains("row 1") && msg.contains("x1") && msg.contains("MultinomialNB"),
        "{msg}"
    );
    let msg = CategoricalNb::default().fit(&data).unwrap_err().to_string();
    assert!(
        msg.contains("row 1") && msg.contains("x1") && msg.contains("negative"),
        "{msg}"
    );
    let half =
        DenseDataset::classification(ndarray::array![[1.0], [0.5]], ndarray::array![0.0, 1.0])
            .unwrap();
    let msg = CategoricalNb::default().fit(&half).unwrap_err().to_string();
    assert!(
        msg.contains("row 1") && msg.contains("whole number"),
        "{msg}"
    );
    let nan = DenseDataset::classification(
        ndarray::array![[1.0, 2.0], [0.0, f64::NAN]],
        ndarray::array![0.0, 1.0],
    )
    .unwrap();
    let msg = GaussianNb::default().fit(&nan).unwrap_err().to_string();
    assert!(msg.contains("row 1"), "{msg}");
    // At predict: NaN for every model, non-integer codes for categorical_nb.
    let model = GaussianNb::default().fit(&data).unwrap();
    let msg = model
        .predict_log_proba(ndarray::array![[0.0, 1.0], [f64::NAN, 1.0]].view())
        .unwrap_err()
        .to_string();
    assert!(msg.contains("row 1") && msg.contains("x0"), "{msg}");
    let cat = CategoricalNb::default()
        .fit(&DenseDataset::classification(x.mapv(f64::abs), y).unwrap())
        .unwrap();
    let msg = cat
        .predict_log_proba(ndarray::array![[0.0, 1.0], [1.0, 1.5]].view())
        .unwrap_err()
        .to_string();
    assert!(msg.contains("row 1") && msg.contains("x1"), "{msg}");
    // Bad settings name the parameter.
    let msg = GaussianNb::default()
        .priors(vec![0.5, 0.6])
        .fit(&data)
        .unwrap_err()
        .to_string();
    assert!(msg.contains("priors"), "{msg}");
    let msg = MultinomialNb::default()
        .alpha(vec![1.0].into())
        .fit(&data.clone())
        .map(|_| ())
        .unwrap_err()
        .to_string();
    assert!(msg.contains("alpha"), "{msg}");
}

#[test]
fn same_bits_on_one_and_three_threads() {
    // Digits tiled to several row blocks, weighted, for every model of the family.
    let case = &fixture()["cases"].as_array().unwrap()[10];
    let base = dataset(case);
    let x = base.features().to_owned();
    let y = base.targets().unwrap();
    let reps = 4;
    let xt = ndarray::concatenate(ndarray::Axis(0), &vec![x.view(); reps]).unwrap();
    let yt = ndarray::concatenate(ndarray::Axis(0), &vec![y.view(); reps]).unwrap();
    let n = xt.nrows();
    let data = DenseDataset::classification(xt, yt)
        .unwrap()
        .with_weights(Array1::from_iter(
            (0..n).map(|i| 1.0 + (i % 7) as f64 / 3.0),
        ))
        .unwrap();
    for kind in [
        "gaussian_nb",
        "multinomial_nb",
        "complement_nb",
        "bernoulli_nb",
        "categorical_nb",
    ] {
        let config = ModelConfig::from_json_parts(kind, serde_json::json!({})).unwrap();
        let one = config.fit(&data, &FitContext::new().n_threads(1)).unwrap();
        let three = config.fit(&data, &FitContext::new().n_threads(3)).unwrap();
        assert_eq!(one, three, "{kind}");
    }
}
