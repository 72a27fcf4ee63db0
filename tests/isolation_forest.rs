//! The isolation forest against scikit-learn (tests/fixtures/outlier_sklearn.json, made by
//! tests/fixtures/outlier_generate.py): `average_path_length` equal to scikit-learn's bit for
//! bit; on data sets with known outliers (two synthetic, breast_cancer, a diamonds
//! subsample, digits) the mean roc_auc over five seeds within 0.01 of scikit-learn's with the
//! same number of trees; `contamination` flags the same share of the training rows. Plus:
//! the same seed gives the same model on 1 and 3 threads, the row path equals the batch bit
//! for bit, and `decision_function` is the score minus the offset.

mod common;

use amlis::data::DenseDataset;
use amlis::evaluate::metrics::roc_auc_score;
use amlis::models::outlier::{
    average_path_length, Contamination, IsolationForest, IsolationForestModel, MaxSamples,
};
use amlis::models::tree::MaxFeatures;
use amlis::traits::{Dataset, FitContext, Predictor, ScorePredictor, Trainer};
use ndarray::{Array1, Array2};
use serde_json::Value;

/// The case's rows (stored, or read from `data/` and subsampled) and outlier flags.
fn load(case: &Value) -> (Array2<f64>, Vec<f64>) {
    let outlier = common::floats(&case["outlier"]);
    let x = match case.get("x") {
        Some(rows) => {
            let rows = rows.as_array().unwrap();
            let p = rows[0].as_array().unwrap().len();
            let flat: Vec<f64> = rows.iter().flat_map(common::floats).collect();
            Array2::from_shape_vec((rows.len(), p), flat).unwrap()
        }
        None => {
            let all = common::fixture_features(case).features().to_owned();
            match case.get("rows") {
                Some(r) => all.select(ndarray::Axis(0), &common::usizes(r)),
                None => all,
            }
        }
    };
    assert_eq!(x.nrows(), outlier.len());
    (x, outlier)
}

fn scores(model: &IsolationForestModel, x: &Array2<f64>) -> Vec<f64> {
    let mut out = vec![0.0; x.nrows()];
    model.score_into(x.view(), &mut out).unwrap();
    out
}

#[test]
fn average_path_length_is_scikit_learns_bit_for_bit() {
    let fixture = common::fixture("outlier_sklearn.json");
    let apl = &fixture["average_path_length"];
    let ns = common::usizes(&apl["n"]);
    let want = common::floats(&apl["value"]);
    assert!(ns.len() > 1000);
    for (n, w) in ns.iter().zip(&want) {
        assert_eq!(
            average_path_length(*n as u64).to_bits(),
            w.to_bits(),
            "n = {n}"
        );
    }
}

#[test]
fn roc_auc_and_contamination_as_scikit_learn() {
    let fixture = common::fixture("outlier_sklearn.json");
    let seeds = fixture["seeds"].as_u64().unwrap();
    for case in fixture["cases"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let (x, outlier) = load(case);
        let inlier = Array1::from_iter(outlier.iter().map(|&o| 1.0 - o));
        let data = DenseDataset::unsupervised(x.clone()).unwrap();
        let n_estimators = case["n_estimators"].as_u64().unwrap() as usize;
        let mut aucs = Vec::new();
        for seed in 0..seeds {
            let model = IsolationForest::default()
                .n_estimators(n_estimators)
                .random_state(seed)
                .fit(&data)
                .unwrap();
            assert_eq!(model.offset(), -0.5);
            let s = Array1::from(scores(&model, &x));
            aucs.push(roc_auc_score(inlier.view(), s.view(), None, None).unwrap());
        }
        let ours = aucs.iter().sum::<f64>() / aucs.len() as f64;
        let theirs = case["roc_auc_mean"].as_f64().unwrap();
        println!("{name}: roc_auc amlis {ours:.4} scikit-learn {theirs:.4}");
        assert!((ours - theirs).abs() <= 0.01, "{name}: {ours} vs {theirs}");

        let c = case["contamination"].as_f64().unwrap();
        let model = IsolationForest::default()
            .contamination(Contamination::Fraction(c))
            .random_state(0)
            .fit(&data)
            .unwrap();
        let mut label = vec![0.0; x.nrows()];
        model.predict_into(x.view(), &mut label).unwrap();
        let share = label.iter().filter(|&&v| v == -1.0).count() as f64 / x.nrows() as f64;
        let theirs = case["outlier_share"].as_f64().unwrap();
        println!("{name}: outlier share amlis {share:.5} scikit-learn {theirs:.5}");
        assert!(
            (share - theirs).abs() * x.nrows() as f64 <= 1.0 + 1e-9,
            "{name}: {share} vs {theirs}"
        );
        // The offset is the contamination percentile of the training scores.
        let s = scores(&model, &x);
        let want = amlis::common::stats::percentile_linear(&s, 100.0 * c).unwrap();
        assert_eq!(model.offset(), want);
        let d = model.decision_function(x.view()).unwrap();
        for (di, si) in d.iter().zip(&s) {
            assert_eq!(*di, si - model.offset());
        }
    }
}

#[test]
fn same_seed_same_model_on_one_and_three_threads_and_rows_match_the_batch() {
    let fixture = common::fixture("outlier_sklearn.json");
    let (x, _) = load(&fixture["cases"][1]);
    let mut x = x;
    x[[3, 1]] = f64::NAN;
    x[[10, 0]] = f64::NAN;
    let w = Array1::from_shape_fn(x.nrows(), |i| 1.0 + (i % 3) as f64);
    for (bootstrap, weighted) in [(false, false), (true, false), (false, true), (true, true)] {
        let mut data = DenseDataset::unsupervised(x.clone()).unwrap();
        if weighted {
            data = data.with_weights(w.clone()).unwrap();
        }
        let trainer = IsolationForest::default()
            .n_estimators(30)
            .max_samples(MaxSamples::Fraction(0.5))
            .max_features(MaxFeatures::Fraction(0.5))
            .contamination(Contamination::Fraction(0.05))
            .bootstrap(bootstrap);
        let fit = |threads: usize| {
            trainer
                .fit_with(&data, &FitContext::new().random_state(5).n_threads(threads))
                .unwrap()
        };
        let one = fit(1);
        let three = fit(3);
        assert_eq!(one, three, "bootstrap {bootstrap} weighted {weighted}");
        assert_eq!(one.max_samples(), x.nrows() / 2);
        let batch = scores(&one, &x);
        let mut labels = vec![0.0; x.nrows()];
        one.predict_into(x.view(), &mut labels).unwrap();
        for (i, row) in x.rows().into_iter().enumerate() {
            let row = row.to_vec();
            let mut s = [0.0];
            one.score_row_into(&row, &mut s).unwrap();
            assert_eq!(s[0].to_bits(), batch[i].to_bits(), "row {i}");
            let mut l = [0.0];
            one.predict_row_into(&row, &mut l).unwrap();
            assert_eq!(l[0], labels[i]);
        }
        // The flagged share is the contamination, and the outliers score lowest.
        let flagged = labels.iter().filter(|&&v| v == -1.0).count();
        assert!(
            (flagged as f64 - 0.05 * x.nrows() as f64).abs() <= 1.0,
            "{flagged}"
        );
        let other = trainer
            .fit_with(&data, &FitContext::new().random_state(6))
            .unwrap();
        assert_ne!(one, other);
    }
}
