//! Preprocessing transformers against scikit-learn fixtures (tests/fixtures/preprocess_*.json,
//! made by tests/fixtures/preprocess_generate.py), hand-checked error cases and property tests.

use amlis::data::{Column, Table};
use amlis::preprocess::{
    FittedStep, HandleUnknown, ImputeStrategy, MinMaxScaler, Norm, Normalizer, NumericScaler,
    OneHotEncoder, OrdinalEncoder, RobustScaler, SimpleImputer, StandardScaler, Step,
};
use amlis::traits::{FittedTransformer, Transformer};
use amlis::Error;
use proptest::prelude::*;
use serde_json::Value;

// ------------------------------------------------------------------------------------------
// A small CSV reader for the shipped data (no quoted fields; empty cell = missing), so these
// tests do not depend on the crate's own CSV reader.

fn load(name: &str) -> Table {
    let path = format!("{}/data/{name}.csv", env!("CARGO_MANIFEST_DIR"));
    let mut reader = csv::Reader::from_path(&path).unwrap();
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    let mut cells: Vec<Vec<String>> = vec![vec![]; header.len()];
    for record in reader.records() {
        let record = record.unwrap();
        for (col, cell) in cells.iter_mut().zip(record.iter()) {
            col.push(cell.to_string());
        }
    }
    let columns = header
        .into_iter()
        .zip(cells)
        .map(|(name, col)| {
            let numeric = col.iter().all(|c| c.is_empty() || c.parse::<f64>().is_ok());
            let column = if numeric {
                Column::numeric(
                    col.iter()
                        .map(|c| c.parse::<f64>().unwrap_or(f64::NAN))
                        .collect(),
                )
            } else {
                let values: Vec<Option<&str>> = col
                    .iter()
                    .map(|c| (!c.is_empty()).then_some(c.as_str()))
                    .collect();
                Column::categorical_from(&values)
            };
            (name, column)
        })
        .collect();
    Table::new(columns).unwrap()
}

fn fixture(name: &str) -> Value {
    let path = format!(
        "{}/tests/fixtures/preprocess_{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn num(v: &Value) -> f64 {
    v.as_f64().unwrap_or(f64::NAN)
}

/// Equal within 1e-12 relative to the magnitude of the column (cancellation in `x - mean`
/// makes errors relative to the data's scale, not to each tiny output).
fn assert_close_column(got: &[f64], want: &[Value], what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    let scale = want
        .iter()
        .map(num)
        .filter(|x| !x.is_nan())
        .fold(0.0f64, |m, x| m.max(x.abs()));
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        let w = num(w);
        if w.is_nan() {
            assert!(g.is_nan(), "{what}[{i}]: got {g}, want NaN");
        } else {
            let tol = 1e-12 * w.abs().max(scale).max(f64::MIN_POSITIVE);
            assert!((g - w).abs() <= tol, "{what}[{i}]: got {g}, want {w}");
        }
    }
}

fn assert_table(out: &Table, expected: &Value, what: &str) {
    let names: Vec<String> = expected["names"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    assert_eq!(out.names(), &names[..], "{what}: column names");
    for ((name, col), want) in out.iter().zip(expected["columns"].as_array().unwrap()) {
        let want = want.as_array().unwrap();
        match col {
            Column::Numeric(v) => assert_close_column(v, want, &format!("{what} `{name}`")),
            Column::Categorical(c) => {
                let got: Vec<Option<&str>> = c.iter().collect();
                let want: Vec<Option<&str>> = want.iter().map(|v| v.as_str()).collect();
                assert_eq!(got, want, "{what} `{name}`");
            }
        }
    }
}

fn floats(v: &Value) -> Vec<Value> {
    v.as_array().unwrap().clone()
}

fn check_attributes(fitted: &FittedStep, attrs: &Value, what: &str) {
    let attr = |name: &str| attrs.get(name).map(floats);
    let check = |name: &str, got: &[f64]| {
        if let Some(want) = attr(name) {
            assert_close_column(got, &want, &format!("{what} {name}"));
        }
    };
    match fitted {
        FittedStep::StandardScaler(s) => {
            check("mean_", s.mean());
            check("var_", s.var());
            check("scale_", s.scale());
        }
        FittedStep::MinMaxScaler(s) => {
            check("data_min_", s.data_min());
            check("data_max_", s.data_max());
            check("scale_", s.scale());
            check("min_", s.min());
        }
        FittedStep::RobustScaler(s) => {
            check("center_", s.center());
            check("scale_", s.scale());
        }
        FittedStep::SimpleImputer(s) => {
            let numeric: Vec<f64> = s
                .columns()
                .iter()
                .filter_map(|c| match &c.fill {
                    Some(amlis::preprocess::FillValue::Number(x)) => Some(*x),
                    _ => None,
                })
                .collect();
            let text: Vec<Value> = s
                .columns()
                .iter()
                .filter_map(|c| match &c.fill {
                    Some(amlis::preprocess::FillValue::Text(x)) => Some(Value::from(x.clone())),
                    _ => None,
                })
                .collect();
            let stats = attr("statistics_").unwrap();
            if stats.iter().all(Value::is_string) {
                assert_eq!(text, stats, "{what} statistics_");
            } else {
                check("statistics_", &numeric);
                if let Some(cat) = attr("statistics_categorical") {
                    assert_eq!(text, cat, "{what} categorical statistics_");
                }
            }
        }
        FittedStep::OneHotEncoder(_) | FittedStep::OrdinalEncoder(_) => {
            let cats = match fitted {
                FittedStep::OneHotEncoder(s) => s.categories(),
                FittedStep::OrdinalEncoder(s) => s.categories(),
                _ => unreachable!(),
            };
            let got: Vec<Value> = cats
                .iter()
                .map(|c| {
                    let mut v: Vec<Value> = c
                        .categories
                        .iter()
                        .map(|s| Value::from(s.as_str()))
                        .collect();
                    if c.has_missing {
                        v.push(Value::Null);
                    }
                    Value::from(v)
                })
                .collect();
            assert_eq!(Value::from(got), attrs["categories_"], "{what} categories_");
        }
        FittedStep::Normalizer(_) => {}
        _ => panic!("unexpected step"),
    }
}

fn run_fixture(name: &str) -> usize {
    let fx = fixture(name);
    let cases = fx["cases"].as_array().unwrap();
    for (i, case) in cases.iter().enumerate() {
        let dataset = case["dataset"].as_str().unwrap();
        let what = format!("{name} case {i} ({dataset}, {})", case["config"]);
        let step: Step = serde_json::from_value(case["config"].clone()).unwrap();
        let table = load(dataset);
        let fit_table = match case["fit_rows"].as_array() {
            None => table.clone(),
            Some(rows) => {
                let rows: Vec<usize> = rows.iter().map(|r| r.as_u64().unwrap() as usize).collect();
                table.take_rows(&rows).unwrap()
            }
        };
        let fitted = step.fit(&fit_table).unwrap();
        check_attributes(&fitted, &case["attributes"], &what);
        let out = fitted.transform(&table).unwrap();
        assert_table(&out, &case["expected"], &what);
        // The fitted state survives JSON (serde_json may round the last bit of a float).
        let json = serde_json::to_string(&fitted).unwrap();
        let back: FittedStep = serde_json::from_str(&json).unwrap();
        assert_table(
            &back.transform(&table).unwrap(),
            &case["expected"],
            &format!("{what} after JSON"),
        );
    }
    cases.len()
}

#[test]
fn scalers_and_normalizer_match_sklearn_on_wine_breast_cancer_diabetes_penguins() {
    assert_eq!(run_fixture("scalers"), 24);
}

#[test]
fn imputer_and_encoders_match_sklearn_on_penguins() {
    assert_eq!(run_fixture("penguins"), 12);
}

// ------------------------------------------------------------------------------------------
// Hand-checked cases and errors.

fn invalid_value(r: Result<Table, Error>) -> (usize, String, String) {
    match r {
        Err(Error::InvalidValue {
            row,
            column,
            message,
            ..
        }) => (row, column.unwrap_or_default(), message),
        other => panic!("expected InvalidValue, got {other:?}"),
    }
}

#[test]
fn unknown_category_errors_name_row_column_and_category() {
    let penguins = load("penguins");
    let island = penguins.column("island").unwrap().as_categorical().unwrap();
    let no_torgersen: Vec<usize> = (0..penguins.n_rows())
        .filter(|&i| island.get(i) != Some("Torgersen"))
        .collect();
    let train = penguins.take_rows(&no_torgersen).unwrap();
    let onehot = OneHotEncoder::default().fit(&train).unwrap();
    let (row, column, message) = invalid_value(onehot.transform(&penguins));
    assert_eq!((row, column.as_str()), (0, "island"));
    assert!(message.contains("`Torgersen`"), "{message}");
    let ordinal = OrdinalEncoder::default().fit(&train).unwrap();
    let (row, column, _) = invalid_value(ordinal.transform(&penguins));
    assert_eq!((row, column.as_str()), (0, "island"));

    // A missing value not seen at fit is unknown too (row 3 has no sex).
    let sex = penguins.column("sex").unwrap().as_categorical().unwrap();
    let with_sex: Vec<usize> = (0..penguins.n_rows())
        .filter(|&i| sex.get(i).is_some())
        .collect();
    let onehot = OneHotEncoder::default()
        .columns(["sex"])
        .fit(&penguins.take_rows(&with_sex).unwrap())
        .unwrap();
    let (row, column, message) = invalid_value(onehot.transform(&penguins));
    assert_eq!((row, column.as_str()), (3, "sex"));
    assert!(message.contains("missing"), "{message}");
    let ignoring = OneHotEncoder::default()
        .columns(["sex"])
        .handle_unknown(HandleUnknown::Ignore)
        .fit(&penguins.take_rows(&with_sex).unwrap())
        .unwrap();
    let out = ignoring.transform(&penguins).unwrap();
    assert_eq!(
        out.column("sex_female").unwrap().as_numeric().unwrap()[3],
        0.0
    );
    assert_eq!(
        out.column("sex_male").unwrap().as_numeric().unwrap()[3],
        0.0
    );
}

#[test]
fn normalizer_rejects_nan_naming_row_and_column() {
    let penguins = load("penguins");
    let (row, column, message) = match Normalizer::default().fit(&penguins) {
        Err(Error::InvalidValue {
            row,
            column,
            message,
            ..
        }) => (row, column.unwrap(), message),
        other => panic!("{other:?}"),
    };
    assert_eq!((row, column.as_str()), (3, "bill_length_mm"));
    assert!(message.contains("NaN"));
    // Fitted on clean rows, a later table with NaN fails the same way.
    let fitted = Normalizer::default()
        .norm(Norm::L1)
        .fit(&penguins.take_rows(&[0, 1, 2]).unwrap())
        .unwrap();
    let (row, column, _) = invalid_value(fitted.transform(&penguins));
    assert_eq!((row, column.as_str()), (3, "bill_length_mm"));
}

#[test]
fn transform_with_other_columns_is_an_error() {
    let wine = load("wine");
    let fitted = StandardScaler::default().fit(&wine).unwrap();
    match fitted.transform(&wine.drop(&["proline"]).unwrap()) {
        Err(Error::UnknownColumn { name, .. }) => assert_eq!(name, "proline"),
        other => panic!("{other:?}"),
    }
    // Same name, other kind.
    let mut swapped = wine.drop(&["proline"]).unwrap();
    swapped
        .push_column(
            "proline",
            Column::categorical_from(&vec![Some("x"); wine.n_rows()]),
        )
        .unwrap();
    assert!(matches!(
        fitted.transform(&swapped),
        Err(Error::ColumnKind { .. })
    ));
    let onehot = OneHotEncoder::default().fit(&wine).unwrap();
    let mut numeric_target = wine.drop(&["cultivar"]).unwrap();
    numeric_target
        .push_column("cultivar", Column::numeric(vec![1.0; wine.n_rows()]))
        .unwrap();
    assert!(matches!(
        onehot.transform(&numeric_target),
        Err(Error::ColumnKind { .. })
    ));
    // Explicit columns of the wrong kind are refused at fit.
    assert!(matches!(
        SimpleImputer::default().columns(["cultivar"]).fit(&wine),
        Err(Error::ColumnKind { .. })
    ));
    assert!(matches!(
        OneHotEncoder::default().columns(["alcohol"]).fit(&wine),
        Err(Error::ColumnKind { .. })
    ));
    assert!(matches!(
        StandardScaler::default().fit(&Table::default()),
        Err(Error::Empty(_))
    ));
}

#[test]
fn configs_use_sklearn_names_and_reject_unknown_keys() {
    for (json, name) in [
        (
            r#"{"type": "standard_scaler", "with_mean": false}"#,
            "standard_scaler",
        ),
        (
            r#"{"type": "min_max_scaler", "feature_range": [-1, 1]}"#,
            "min_max_scaler",
        ),
        (
            r#"{"type": "robust_scaler", "quantile_range": [10, 90]}"#,
            "robust_scaler",
        ),
        (r#"{"type": "normalizer", "norm": "max"}"#, "normalizer"),
        (
            r#"{"type": "simple_imputer", "strategy": "constant", "fill_value": "?"}"#,
            "simple_imputer",
        ),
        (
            r#"{"type": "one_hot_encoder", "drop": null, "handle_unknown": "ignore"}"#,
            "one_hot_encoder",
        ),
        (
            r#"{"type": "ordinal_encoder", "handle_unknown": "use_encoded_value", "unknown_value": -1}"#,
            "ordinal_encoder",
        ),
    ] {
        let step: Step = serde_json::from_str(json).unwrap();
        assert_eq!(step.type_name(), name);
        let again: Step = serde_json::from_str(&serde_json::to_string(&step).unwrap()).unwrap();
        assert_eq!(format!("{again:?}"), format!("{step:?}"));
        let bad = json.replacen('{', r#"{"colums": ["a"], "#, 1);
        let err = serde_json::from_str::<Step>(&bad).unwrap_err().to_string();
        assert!(err.contains("colums"), "{err}");
    }
    assert!(serde_json::from_str::<Step>(r#"{"type": "standard_scalar"}"#).is_err());
    assert!(serde_json::from_str::<Step>(r#"{"type": "normalizer", "norm": "l3"}"#).is_err());
    let step: Step =
        serde_json::from_str(r#"{"type": "one_hot_encoder", "drop": "if_binary"}"#).unwrap();
    assert_eq!(
        Step::from(OneHotEncoder::default().drop(amlis::preprocess::OneHotDrop::IfBinary)),
        step
    );
}

#[test]
fn imputer_drops_or_keeps_entirely_missing_columns_as_sklearn() {
    let t = Table::new(vec![
        ("empty".into(), Column::numeric(vec![f64::NAN, f64::NAN])),
        ("x".into(), Column::numeric(vec![1.0, f64::NAN])),
        ("c".into(), Column::categorical_from(&[None::<&str>, None])),
    ])
    .unwrap();
    let (_, out) = SimpleImputer::default()
        .strategy(ImputeStrategy::MostFrequent)
        .fit_transform(&t)
        .unwrap();
    assert_eq!(out.names(), &["x"]);
    let (fitted, out) = SimpleImputer::default()
        .strategy(ImputeStrategy::Mean)
        .keep_empty_features(true)
        .fit_transform(&t)
        .unwrap();
    assert_eq!(
        out.column("empty").unwrap().as_numeric().unwrap(),
        &[0.0, 0.0]
    );
    assert_eq!(out.column("x").unwrap().as_numeric().unwrap(), &[1.0, 1.0]);
    assert_eq!(out.column("c").unwrap(), t.column("c").unwrap()); // mean: numeric only
    let back: FittedStep =
        serde_json::from_str(&serde_json::to_string(&FittedStep::SimpleImputer(fitted)).unwrap())
            .unwrap();
    assert_eq!(back.transform(&t).unwrap(), out);
    assert!(matches!(
        SimpleImputer::default()
            .strategy(ImputeStrategy::Constant)
            .fill_value(amlis::preprocess::FillValue::Text("a".into()))
            .columns(["x"])
            .fit(&t),
        Err(Error::InvalidParameter { .. })
    ));
}

#[test]
fn nan_statistics_survive_json() {
    // An all-missing column gives NaN mean and scale (as scikit-learn); JSON writes them as null.
    let t = Table::new(vec![
        ("a".into(), Column::numeric(vec![f64::NAN, f64::NAN])),
        ("b".into(), Column::numeric(vec![1.0, 2.0])),
    ])
    .unwrap();
    let fitted = FittedStep::StandardScaler(StandardScaler::default().fit(&t).unwrap());
    let back: FittedStep = serde_json::from_str(&serde_json::to_string(&fitted).unwrap()).unwrap();
    let out = back.transform(&t).unwrap();
    assert_eq!(out.column("b").unwrap().as_numeric().unwrap(), &[-1.0, 1.0]);
    assert!(out.column("a").unwrap().as_numeric().unwrap()[0].is_nan());
}

#[test]
fn results_do_not_depend_on_thread_count() {
    let cancer = load("breast_cancer");
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            let steps: Vec<Step> = vec![
                StandardScaler::default().into(),
                RobustScaler::default().into(),
                Normalizer::default().into(),
                OneHotEncoder::default().into(),
            ];
            steps
                .iter()
                .map(|s| s.fit_transform(&cancer).unwrap().1)
                .map(|t| serde_json::to_string(&t).unwrap())
                .collect::<Vec<_>>()
        })
    };
    assert_eq!(run(1), run(3));
}

#[test]
fn ordinal_encoder_validates_codes() {
    let t = Table::new(vec![(
        "c".into(),
        Column::categorical_from(&[Some("a"), Some("b"), None]),
    )])
    .unwrap();
    let err = OrdinalEncoder::default()
        .handle_unknown(amlis::preprocess::OrdinalHandleUnknown::UseEncodedValue)
        .unknown_value(1.0)
        .fit(&t);
    assert!(matches!(err, Err(Error::InvalidParameter { .. })));
    let (_, out) = OrdinalEncoder::default()
        .encoded_missing_value(-1.0)
        .fit_transform(&t)
        .unwrap();
    assert_eq!(
        out.column("c").unwrap().as_numeric().unwrap(),
        &[0.0, 1.0, -1.0]
    );
}

// ------------------------------------------------------------------------------------------
// Property tests.

fn numeric_table() -> impl Strategy<Value = Table> {
    (1usize..4, 2usize..40).prop_flat_map(|(k, n)| {
        proptest::collection::vec(
            proptest::collection::vec(prop_oneof![9 => -1e4..1e4f64, 1 => Just(f64::NAN)], n),
            k,
        )
        .prop_map(|cols| {
            Table::new(
                cols.into_iter()
                    .enumerate()
                    .map(|(j, v)| (format!("x{j}"), Column::numeric(v)))
                    .collect(),
            )
            .unwrap()
        })
    })
}

fn categorical_values(n: usize) -> impl Strategy<Value = Vec<Option<String>>> {
    proptest::collection::vec(prop_oneof![4 => "[a-e]".prop_map(Some), 1 => Just(None)], n)
}

fn assert_round_trip<S: NumericScaler + FittedTransformer>(fitted: &S, t: &Table) {
    let back = fitted
        .inverse_transform(&fitted.transform(t).unwrap())
        .unwrap();
    for ((name, a), (_, b)) in t.iter().zip(back.iter()) {
        let (a, b) = (a.as_numeric().unwrap(), b.as_numeric().unwrap());
        let scale = a
            .iter()
            .filter(|x| !x.is_nan())
            .fold(1.0f64, |m, x| m.max(x.abs()));
        for (x, y) in a.iter().zip(b) {
            assert!(
                (x.is_nan() && y.is_nan()) || (x - y).abs() <= 1e-9 * scale,
                "{name}: {x} -> {y}"
            );
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn scalers_round_trip(t in numeric_table()) {
        assert_round_trip(&StandardScaler::default().fit(&t).unwrap(), &t);
        assert_round_trip(&MinMaxScaler::default().feature_range(-2.0, 3.0).fit(&t).unwrap(), &t);
        assert_round_trip(&RobustScaler::default().fit(&t).unwrap(), &t);
    }

    #[test]
    fn imputed_tables_have_no_missing_cells(
        t in numeric_table(),
        cats in categorical_values(40),
        most_frequent in any::<bool>(),
    ) {
        let mut t = t;
        let cats: Vec<Option<String>> = cats.into_iter().take(t.n_rows()).collect();
        t.push_column("c", Column::categorical_from(&cats)).unwrap();
        let strategy = if most_frequent { ImputeStrategy::MostFrequent } else { ImputeStrategy::Constant };
        let (_, out) = SimpleImputer::default().strategy(strategy).fit_transform(&t).unwrap();
        prop_assert!(out.missing_counts().iter().all(|(_, n)| *n == 0), "{:?}", out.missing_counts());
        for (name, col) in t.iter() {
            // Only entirely missing columns are dropped.
            prop_assert_eq!(out.column(name).is_ok(), col.n_missing() < col.len());
        }
    }

    #[test]
    fn one_hot_rows_sum_to_one_or_zero_for_ignored_unknowns(
        train in categorical_values(30),
        test in categorical_values(30),
    ) {
        let train_t = Table::new(vec![("c".into(), Column::categorical_from(&train))]).unwrap();
        let test_t = Table::new(vec![("c".into(), Column::categorical_from(&test))]).unwrap();
        let fitted = OneHotEncoder::default().handle_unknown(HandleUnknown::Ignore).fit(&train_t).unwrap();
        let out = fitted.transform(&test_t).unwrap();
        for (i, value) in test.iter().enumerate() {
            let sum: f64 = out.columns().iter().map(|c| c.as_numeric().unwrap()[i]).sum();
            let known = train.contains(value);
            prop_assert_eq!(sum, if known { 1.0 } else { 0.0 });
        }
    }
}

#[test]
fn fused_fit_transform_equals_fit_then_transform_bit_for_bit() {
    let bits = |t: &Table| -> Vec<Vec<u64>> {
        t.columns()
            .iter()
            .filter_map(|c| c.as_numeric())
            .map(|v| v.iter().map(|x| x.to_bits()).collect())
            .collect()
    };
    for name in ["wine", "penguins"] {
        let t = load(name);
        let steps: Vec<Step> = vec![
            StandardScaler::default().into(),
            StandardScaler::default().with_mean(false).into(),
            MinMaxScaler::default().feature_range(-3.0, 0.5).into(),
            RobustScaler::default().with_scaling(false).into(),
        ];
        for step in steps {
            let fused = match &step {
                Step::StandardScaler(s) => s.fit_transform(&t).unwrap().1,
                Step::MinMaxScaler(s) => s.fit_transform(&t).unwrap().1,
                Step::RobustScaler(s) => s.fit_transform(&t).unwrap().1,
                _ => unreachable!(),
            };
            let apart = step.fit(&t).unwrap().transform(&t).unwrap();
            assert_eq!(fused.names(), apart.names());
            assert_eq!(bits(&fused), bits(&apart), "{name} {step:?}");
        }
    }
}

#[test]
fn label_encoder_sorts_like_sklearn() {
    let enc = amlis::preprocess::LabelEncoder::fit(&["b", "B", "a", "b", "é"]).unwrap();
    // Python sorts by code point: uppercase before lowercase, accents last.
    assert_eq!(enc.classes(), &["B", "a", "b", "é"]);
    assert_eq!(enc.transform(&["é", "B"]).unwrap(), vec![3, 0]);
    match enc.transform(&["a", "z"]) {
        Err(Error::InvalidValue { row, message, .. }) => {
            assert_eq!(row, 1);
            assert!(message.contains("`z`"));
        }
        other => panic!("{other:?}"),
    }
    assert!(enc.inverse_transform(&[4]).is_err());
}

#[test]
fn standard_scaler_is_exact_on_a_column_of_many_blocks() {
    // The generator's formula (tests/fixtures/preprocess_generate.py, `synthetic`).
    let fx = fixture("scalers");
    let case = &fx["synthetic_standard_scaler"];
    let n = case["n"].as_u64().unwrap() as usize;
    let x: Vec<f64> = (0..n)
        .map(|i| {
            if i % 97 == 0 {
                f64::NAN
            } else {
                1e6 + ((i * 7919) % 1000) as f64 / 7.0
            }
        })
        .collect();
    let y: Vec<f64> = (0..n)
        .map(|i| {
            if i % 89 == 0 {
                f64::NAN
            } else {
                ((i * 104729) % 5003) as f64 * 1e-3 - 2.5
            }
        })
        .collect();
    let t = Table::new(vec![
        ("x".into(), Column::numeric(x)),
        ("y".into(), Column::numeric(y)),
    ])
    .unwrap();
    let (fitted, out) = StandardScaler::default().fit_transform(&t).unwrap();
    // Against exact (rational) mean and variance, and the outputs they give.
    let exact = &case["exact"];
    assert_close_column(fitted.mean(), &floats(&exact["mean"]), "exact mean");
    assert_close_column(fitted.var(), &floats(&exact["var"]), "exact var");
    let rows = case["exact_first_rows"].as_array().unwrap();
    for (j, name) in ["x", "y"].iter().enumerate() {
        let want: Vec<Value> = rows.iter().map(|r| r[j].clone()).collect();
        let got = &out.column(name).unwrap().as_numeric().unwrap()[..want.len()];
        assert_close_column(got, &want, name);
    }
    // And scikit-learn's attributes, within its own summation error.
    let sk = &case["sklearn"];
    for ((got, want), scale) in fitted
        .mean()
        .iter()
        .zip(floats(&sk["mean_"]))
        .zip(fitted.scale())
    {
        let tol = 1e-14 * (got.abs() + scale);
        assert!((got - num(&want)).abs() <= tol, "{got} vs {want}");
    }
    assert_close_column(fitted.scale(), &floats(&sk["scale_"]), "sklearn scale_");
}
