//! Unlabeled rows (a missing classification target: an empty cell, `NaN`, or a configured
//! token such as `"-1"`) through the data layer, the pipeline, the C ABI, splits and
//! cross-validation:
//!
//! - every registered supervised type that is not semi-supervised refuses them with
//!   `Error::UnlabeledRows` naming the model, the count and the first row (Rust, pipeline);
//! - the semi-supervised types train on them from a table, a dense dataset and C;
//! - stratified and plain splits and CV folds never put an unlabeled row on the test side
//!   and keep every one of them on each training side; CV scores only labelled rows.

use std::ffi::{CStr, CString};

use amlis::data::{
    mark_unlabeled, unlabeled_rows, Column, DenseDataset, KFold, Split, SplitSize, Splitter,
    StratifiedKFold, Table, TaskKind, TrainTestSplit,
};
use amlis::evaluate::selection::{cross_validate, CvOptions, TableData};
use amlis::models::{Estimator, ModelConfig, REGISTERED};
use amlis::service::config::TrainConfig;
use amlis::service::ffi::*;
use amlis::service::pipeline::Pipeline;
use amlis::traits::{Dataset, FitContext};
use amlis::Error;
use ndarray::Array1;

/// Iris with rows 3, 10 and 77 unlabeled.
fn iris_with_gaps() -> DenseDataset {
    let iris = amlis::datasets::iris().unwrap();
    let (x, y, _) = iris.clone().into_parts();
    let mut y = y.unwrap();
    for i in [3, 10, 77] {
        y[i] = f64::NAN;
    }
    DenseDataset::new(x, Some(y), iris.task().clone()).unwrap()
}

#[test]
fn every_supervised_type_names_the_unlabeled_rows() {
    let classes = iris_with_gaps();
    let (x, y, _) = classes.clone().into_parts();
    let numbers = DenseDataset::regression(x, y.unwrap()).unwrap();
    let mut checked = 0;
    for r in REGISTERED {
        if !r.tags.needs_target || r.tags.semi_supervised {
            continue;
        }
        let config = ModelConfig::from_json_parts(r.type_name, serde_json::json!({})).unwrap();
        let data = match r.estimator {
            Estimator::Classifier => &classes,
            _ => &numbers,
        };
        match config.fit(data, &FitContext::new()) {
            Err(Error::UnlabeledRows {
                model,
                count,
                first_row,
            }) => {
                assert_eq!((model.as_str(), count, first_row), (r.type_name, 3, 3));
            }
            other => panic!("{}: {other:?}", r.type_name),
        }
        checked += 1;
    }
    assert!(checked >= 20, "{checked}");
    // The message says what to do.
    let e = ModelConfig::from_json_parts("logistic_regression", serde_json::json!({}))
        .unwrap()
        .fit(&classes, &FitContext::new())
        .unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.contains("3 row(s) are unlabeled") && msg.contains("row 3"),
        "{msg}"
    );
    assert!(msg.contains("label_spreading"), "{msg}");
}

#[test]
fn pipeline_reads_missing_cells_and_tokens_as_unlabeled() {
    let mut table = amlis::datasets::iris_table().unwrap();
    let species: Vec<Option<String>> = table
        .column("species")
        .unwrap()
        .as_categorical()
        .unwrap()
        .iter()
        .enumerate()
        .map(|(i, v)| match i % 4 {
            0 => v.map(str::to_string),
            1 => Some("unknown".to_string()),
            _ => None,
        })
        .collect();
    table
        .replace_column("species", Column::categorical_from(&species))
        .unwrap();
    let table = mark_unlabeled(&table, "species", "unknown").unwrap();
    let supervised = TrainConfig::from_json(r#"{"model": {"type": "gaussian_nb"}}"#).unwrap();
    let e = Pipeline::fit(&supervised, &table, "species", &FitContext::new()).unwrap_err();
    assert!(
        matches!(
            e,
            Error::UnlabeledRows {
                count: 112,
                first_row: 1,
                ..
            }
        ),
        "{e}"
    );
    let semi = TrainConfig::from_json(
        r#"{"model": {"type": "label_spreading", "kernel": "knn"},
            "preprocess": [{"type": "standard_scaler"}]}"#,
    )
    .unwrap();
    let p = Pipeline::fit(&semi, &table, "species", &FitContext::new()).unwrap();
    assert_eq!(p.classes(), &["setosa", "versicolor", "virginica"]);
    // The training accuracy is measured on the 38 labelled rows only.
    let acc = p.meta().training_metrics["accuracy"];
    assert!(acc > 0.8 && acc <= 1.0, "{acc}");
    // A numeric target with -1 for unlabeled, as scikit-learn marks them.
    let t = Table::new(vec![
        (
            "x".into(),
            Column::numeric(vec![0.0, 0.1, 0.2, 5.0, 5.1, 5.2]),
        ),
        (
            "y".into(),
            Column::numeric(vec![0.0, -1.0, -1.0, -1.0, -1.0, 1.0]),
        ),
    ])
    .unwrap();
    let t = mark_unlabeled(&t, "y", "-1").unwrap();
    let d = DenseDataset::from_table(&t, "y", TaskKind::Classification).unwrap();
    assert_eq!(unlabeled_rows(&d), Some((4, 1)));
}

fn no_unlabeled_in_test(splits: &[Split], y: &[f64]) {
    let unlabeled: Vec<usize> = (0..y.len()).filter(|&i| y[i].is_nan()).collect();
    assert!(!unlabeled.is_empty());
    for s in splits {
        assert!(s.test.iter().all(|&i| !y[i].is_nan()), "{:?}", s.test);
        assert!(unlabeled.iter().all(|i| s.train.contains(i)));
        let mut all: Vec<usize> = s.train.iter().chain(&s.test).copied().collect();
        all.sort_unstable();
        all.dedup();
        assert_eq!(all.len(), s.train.len() + s.test.len());
    }
}

#[test]
fn splits_and_folds_keep_unlabeled_rows_in_training() {
    let data = iris_with_gaps();
    let y = data.targets().unwrap().to_vec();
    let n = y.len();
    for splitter in [
        &StratifiedKFold::new(5) as &dyn Splitter,
        &StratifiedKFold::new(3).shuffle(4),
        &KFold::new(4),
        &KFold::new(5).shuffle(1),
    ] {
        let splits = splitter.split(&data).unwrap();
        no_unlabeled_in_test(&splits, &y);
        // Every labelled row is tested exactly once.
        let mut tested: Vec<usize> = splits.iter().flat_map(|s| s.test.clone()).collect();
        tested.sort_unstable();
        assert_eq!(tested.len(), n - 3);
    }
    for stratify in [false, true] {
        let split = TrainTestSplit::new(SplitSize::Fraction(0.3))
            .stratify(stratify)
            .random_state(3)
            .indices(n, Some(&y))
            .unwrap();
        assert_eq!(split.test.len(), 45); // ceil(0.3 * 147)
        no_unlabeled_in_test(&[split], &y);
    }
    // Stratified folds of the labelled rows: each class within one of proportional.
    let folds = StratifiedKFold::new(5).split(&data).unwrap();
    for f in &folds {
        let per_class = |c: f64| f.test.iter().filter(|&&i| y[i] == c).count();
        assert!((9..=10).contains(&per_class(0.0)) && (9..=10).contains(&per_class(1.0)));
    }
}

#[test]
fn cross_validation_scores_labelled_rows_only() {
    let mut table = amlis::datasets::iris_table().unwrap();
    let species: Vec<Option<String>> = table
        .column("species")
        .unwrap()
        .as_categorical()
        .unwrap()
        .iter()
        .enumerate()
        .map(|(i, v)| {
            if i % 3 == 0 {
                v.map(str::to_string)
            } else {
                None
            }
        })
        .collect();
    table
        .replace_column("species", Column::categorical_from(&species))
        .unwrap();
    let data = TableData::new(&table, "species", Estimator::Classifier).unwrap();
    let config = TrainConfig::from_json(
        r#"{"model": {"type": "label_spreading", "kernel": "knn"},
            "preprocess": [{"type": "standard_scaler"}]}"#,
    )
    .unwrap();
    let cv = cross_validate(
        &data,
        &config,
        &StratifiedKFold::new(5),
        &CvOptions::metrics(&["accuracy"]).train_scores(true),
        &FitContext::new(),
    )
    .unwrap();
    let acc = cv.metric("accuracy").unwrap();
    assert!(
        acc.folds.iter().all(|a| a.is_finite() && *a > 0.7),
        "{:?}",
        acc.folds
    );
    // A supervised model in the same folds is refused by name.
    let config = TrainConfig::from_json(r#"{"model": {"type": "logistic_regression"}}"#).unwrap();
    let e = cross_validate(
        &data,
        &config,
        &StratifiedKFold::new(5),
        &CvOptions::metrics(&["accuracy"]),
        &FitContext::new(),
    )
    .unwrap_err();
    assert!(matches!(e, Error::UnlabeledRows { .. }), "{e}");
}

fn last_error() -> String {
    // SAFETY: the message is a NUL-terminated string owned by this thread's slot.
    unsafe { CStr::from_ptr(amlis_last_error_message()) }
        .to_string_lossy()
        .into_owned()
}

#[test]
fn c_abi_carries_unlabeled_rows() {
    let data = iris_with_gaps();
    let x = data.features().to_owned();
    let xs = x.as_slice().unwrap();
    let y: Vec<f64> = data.targets().unwrap().to_vec();
    let mut d: *mut AmlisDataset = std::ptr::null_mut();
    // SAFETY: the pointers and lengths describe live buffers.
    let status = unsafe { amlis_dataset_from_dense(xs.as_ptr(), 150, 4, y.as_ptr(), 150, &mut d) };
    assert_eq!(status, AmlisStatus::AMLIS_OK, "{}", last_error());
    let train = |d: *const AmlisDataset, config: &str| {
        let config = CString::new(config).unwrap();
        let mut m: *mut AmlisModel = std::ptr::null_mut();
        // SAFETY: `d` is a live handle, `config` a C string, `m` writable.
        let status = unsafe { amlis_train(d, config.as_ptr(), &mut m) };
        (status, m)
    };
    let (status, _) = train(d, r#"{"model": {"type": "logistic_regression"}}"#);
    assert_eq!(status, AmlisStatus::AMLIS_INVALID_ARGUMENT);
    let msg = last_error();
    assert!(
        msg.contains("logistic_regression") && msg.contains("3 row(s)"),
        "{msg}"
    );
    let (status, m) = train(d, r#"{"model": {"type": "label_spreading", "gamma": 1.0}}"#);
    assert_eq!(status, AmlisStatus::AMLIS_OK, "{}", last_error());
    let mut k = 0usize;
    // SAFETY: `m` is a live model handle.
    unsafe {
        assert_eq!(amlis_model_n_classes(m, &mut k), AmlisStatus::AMLIS_OK);
        amlis_model_free(m);
        amlis_dataset_free(d);
    }
    assert_eq!(k, 3);

    // A CSV whose target has empty cells and `-1` tokens.
    let dir = std::env::temp_dir().join(format!("amlis-unlabeled-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("semi.csv");
    let mut text = String::from("a,b,label\n");
    for i in 0..40 {
        let label = match i {
            0 | 1 => "low",
            38 | 39 => "high",
            _ if i % 2 == 0 => "",
            _ => "-1",
        };
        let v = if i < 20 {
            i as f64 * 0.1
        } else {
            5.0 + i as f64 * 0.1
        };
        text.push_str(&format!("{v},{},{label}\n", -v));
    }
    std::fs::write(&path, text).unwrap();
    let path_c = CString::new(path.to_str().unwrap()).unwrap();
    let options = CString::new(r#"{"target": "label", "unlabeled_token": "-1"}"#).unwrap();
    let mut d: *mut AmlisDataset = std::ptr::null_mut();
    // SAFETY: C strings and a writable out pointer.
    let status = unsafe { amlis_dataset_from_csv(path_c.as_ptr(), options.as_ptr(), &mut d) };
    assert_eq!(status, AmlisStatus::AMLIS_OK, "{}", last_error());
    let (status, _) = train(d, r#"{"model": {"type": "gaussian_nb"}}"#);
    assert_eq!(status, AmlisStatus::AMLIS_INVALID_ARGUMENT);
    assert!(last_error().contains("36 row(s)"), "{}", last_error());
    let (status, m) = train(
        d,
        r#"{"model": {"type": "self_training_classifier", "estimator": {"type": "gaussian_nb"}}}"#,
    );
    assert_eq!(status, AmlisStatus::AMLIS_OK, "{}", last_error());
    // SAFETY: live handles, freed once.
    unsafe {
        amlis_model_free(m);
        amlis_dataset_free(d);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn unlabeled_targets_stay_nan_through_views() {
    let data = iris_with_gaps();
    let view = data.view(vec![10, 11, 3]).unwrap();
    assert_eq!(unlabeled_rows(&view), Some((2, 0)));
    let y = Array1::from(vec![0.0, f64::NAN, 1.0]);
    let d = DenseDataset::classification(ndarray::Array2::zeros((3, 1)), y).unwrap();
    assert_eq!(d.task().classes(), &["0", "1"]);
}

/// Streaming learners (`partial_fit`, from Rust and C) refuse unlabeled rows through the same
/// check as a batch fit: `Error::UnlabeledRows` naming the type, the count and the first row.
#[test]
fn streaming_learners_refuse_unlabeled_rows() {
    use amlis::models::AnyLearner;
    use amlis::traits::StreamSpec;
    let data = iris_with_gaps();
    let spec = StreamSpec {
        n_features: 4,
        classes: data.task().classes().to_vec(),
    };
    for name in ["gaussian_nb", "sgd_classifier"] {
        let config = ModelConfig::from_json_parts(name, serde_json::json!({})).unwrap();
        let mut learner = AnyLearner::start(&config, &spec, &FitContext::new()).unwrap();
        match learner.partial_fit(&data) {
            Err(Error::UnlabeledRows {
                model,
                count,
                first_row,
            }) => assert_eq!((model.as_str(), count, first_row), (name, 3, 3)),
            other => panic!("{name}: {other:?}"),
        }
        // Labelled chunks still learn.
        let labelled = data.view((0..150).filter(|i| ![3, 10, 77].contains(i)).collect());
        learner.partial_fit(&labelled.unwrap()).unwrap();
    }

    // From C: the chunk of a dense dataset with NaN targets.
    let x = data.features().to_owned();
    let xs = x.as_slice().unwrap();
    let y: Vec<f64> = data.targets().unwrap().to_vec();
    let mut d: *mut AmlisDataset = std::ptr::null_mut();
    // SAFETY: the pointers and lengths describe live buffers.
    let status = unsafe { amlis_dataset_from_dense(xs.as_ptr(), 150, 4, y.as_ptr(), 150, &mut d) };
    assert_eq!(status, AmlisStatus::AMLIS_OK, "{}", last_error());
    let config = CString::new(r#"{"model": {"type": "gaussian_nb"}}"#).unwrap();
    let stream = CString::new(r#"{"n_features": 4, "classes": ["0", "1", "2"]}"#).unwrap();
    let mut l: *mut AmlisLearner = std::ptr::null_mut();
    // SAFETY: C strings, live handles, writable out pointer; each handle freed once.
    unsafe {
        let status = amlis_learner_new(config.as_ptr(), stream.as_ptr(), &mut l);
        assert_eq!(status, AmlisStatus::AMLIS_OK, "{}", last_error());
        let status = amlis_learner_partial_fit(l, d);
        assert_eq!(status, AmlisStatus::AMLIS_INVALID_ARGUMENT);
        let msg = last_error();
        assert!(
            msg.contains("gaussian_nb") && msg.contains("3 row(s)"),
            "{msg}"
        );
        amlis_learner_free(l);
        amlis_dataset_free(d);
    }
}

/// The training config's `unlabeled_token` marks target values as unlabeled rows, as the
/// CSV option of the same name: from a table and from a dataset, refused by a supervised
/// model and learned from by a semi-supervised one; without a target it is a config error.
#[test]
fn the_training_config_reads_an_unlabeled_token() {
    let t = Table::new(vec![
        (
            "x".into(),
            Column::numeric(vec![0.0, 0.1, 0.2, 5.0, 5.1, 5.2]),
        ),
        (
            "y".into(),
            Column::numeric(vec![0.0, -1.0, -1.0, -1.0, -1.0, 1.0]),
        ),
    ])
    .unwrap();
    let supervised =
        TrainConfig::from_json(r#"{"model": {"type": "gaussian_nb"}, "unlabeled_token": "-1"}"#)
            .unwrap();
    assert_eq!(supervised.unlabeled_token.as_deref(), Some("-1"));
    let e = Pipeline::fit(&supervised, &t, "y", &FitContext::new()).unwrap_err();
    assert!(
        matches!(
            e,
            Error::UnlabeledRows {
                count: 4,
                first_row: 1,
                ..
            }
        ),
        "{e}"
    );
    // A number is accepted too.
    let semi = TrainConfig::from_json(
        r#"{"model": {"type": "label_spreading", "kernel": "knn", "n_neighbors": 2},
            "unlabeled_token": -1}"#,
    )
    .unwrap();
    let p = Pipeline::fit(&semi, &t, "y", &FitContext::new()).unwrap();
    assert_eq!(p.classes(), &["0", "1"]);
    // A dataset whose numeric targets use -1: the class "-1" becomes unlabeled rows.
    let d = DenseDataset::regression(
        ndarray::Array2::from_shape_vec((6, 1), vec![0.0, 0.1, 0.2, 5.0, 5.1, 5.2]).unwrap(),
        Array1::from(vec![0.0, -1.0, -1.0, -1.0, -1.0, 1.0]),
    )
    .unwrap();
    let e = Pipeline::fit_dataset(&supervised, &d, Some("y"), &FitContext::new()).unwrap_err();
    assert!(
        matches!(
            e,
            Error::UnlabeledRows {
                count: 4,
                first_row: 1,
                ..
            }
        ),
        "{e}"
    );
    let p = Pipeline::fit_dataset(&semi, &d, Some("y"), &FitContext::new()).unwrap();
    assert_eq!(p.classes(), &["0", "1"]);
    // Without a target, or with a value of the wrong type, the key is named.
    let cluster = TrainConfig::from_json(
        r#"{"model": {"type": "k_means", "n_clusters": 2}, "unlabeled_token": "-1"}"#,
    )
    .unwrap();
    let e =
        Pipeline::fit(&cluster, &t.drop(&["y"]).unwrap(), None, &FitContext::new()).unwrap_err();
    assert!(e.to_string().contains("unlabeled_token"), "{e}");
    let e = TrainConfig::from_json(r#"{"model": {"type": "gaussian_nb"}, "unlabeled_token": [1]}"#)
        .unwrap_err();
    assert!(e.to_string().contains("unlabeled_token"), "{e}");
}
