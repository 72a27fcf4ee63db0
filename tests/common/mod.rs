//! Helpers shared by the integration tests (`mod common;` in each test file).
#![allow(dead_code)]

use amlis::data::{Column, FeatureKind, Table, MISSING_CODE};
use amlis::pipeline::Pipeline;
use ndarray::Array2;
use serde_json::Value;

/// Parses the JSON fixture `tests/fixtures/<name>`.
pub fn fixture(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap()
}

/// A JSON array of non-negative integers as indices.
pub fn usizes(v: &Value) -> Vec<usize> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_u64().unwrap() as usize)
        .collect()
}

/// A JSON array of numbers as floats: strings as Rust parses them (`"inf"`, `"-inf"`, `"NaN"`,
/// or digits kept exact as text); `null` and anything else that is not a number (a class
/// label) read as NaN.
pub fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| match x {
            Value::String(t) => t.parse::<f64>().unwrap_or(f64::NAN),
            _ => x.as_f64().unwrap_or(f64::NAN),
        })
        .collect()
}

/// The raw numeric rows of `table` in the pipeline's input order (categories as indices into
/// the input categories, NaN for missing or unseen).
pub fn raw_rows(p: &Pipeline, table: &Table) -> Array2<f64> {
    let mut x = Array2::<f64>::zeros((table.n_rows(), p.inputs().len()));
    for (j, input) in p.inputs().iter().enumerate() {
        let col = table.column(&input.name).unwrap();
        for i in 0..table.n_rows() {
            x[[i, j]] = match (col, &input.kind) {
                (Column::Numeric(v), _) => v[i],
                (Column::Categorical(c), FeatureKind::Categorical { categories }) => {
                    let code = c.codes()[i];
                    if code == MISSING_CODE {
                        f64::NAN
                    } else {
                        let label = &c.categories()[code as usize];
                        categories
                            .iter()
                            .position(|s| s == label)
                            .map_or(f64::NAN, |k| k as f64)
                    }
                }
                _ => panic!("kind mismatch"),
            };
        }
    }
    x
}

/// The penguins for a model of kind `estimator`: with `species` as the target for
/// classifiers, `body_mass_g` (rows where it is missing removed) for regressors, and without
/// `species` and no target for the kinds that learn without one.
pub fn penguins_for(estimator: amlis::models::Estimator) -> (Table, Option<&'static str>) {
    use amlis::models::Estimator;
    let table = amlis::datasets::penguins_table().unwrap();
    match estimator {
        Estimator::Classifier => (table, Some("species")),
        Estimator::Regressor => {
            let mass = table.column("body_mass_g").unwrap().as_numeric().unwrap();
            let keep: Vec<usize> = (0..table.n_rows()).filter(|&i| !mass[i].is_nan()).collect();
            (table.take_rows(&keep).unwrap(), Some("body_mass_g"))
        }
        _ => (table.drop(&["species"]).unwrap(), None),
    }
}

/// The feature columns a fixture case names (`file` in `data/`, `columns`) as a dataset, read
/// as the library reads them.
pub fn fixture_features(case: &Value) -> amlis::data::DenseDataset {
    let file = case["file"].as_str().unwrap();
    let path = format!("{}/data/{file}", env!("CARGO_MANIFEST_DIR"));
    let table = amlis::data::read_csv(&path, &amlis::data::CsvOptions::default()).unwrap();
    let columns: Vec<&str> = case["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    amlis::data::DenseDataset::features_from_table(&table.select(&columns).unwrap()).unwrap()
}

/// The preprocessing steps a model type needs instead of `usual` (a JSON array of steps):
/// the count models (`multinomial_nb`, `complement_nb`) take values `>= 0`, so they are scaled
/// to [0, 1] instead of standardized; `categorical_nb` takes category codes (the imputed,
/// ordinal-encoded categories, an unknown one as the unseen code 99, which
/// `categorical_nb` smooths; see [`penguins_for_type`] for its columns).
pub fn prep_for(type_name: &str, usual: &str) -> String {
    match type_name {
        "multinomial_nb" | "complement_nb" => usual.replace("standard_scaler", "min_max_scaler"),
        "categorical_nb" => r#"[{"type": "simple_imputer", "strategy": "most_frequent"},
                               {"type": "ordinal_encoder", "handle_unknown": "use_encoded_value",
                                "unknown_value": 99, "encoded_missing_value": 98}]"#
            .to_string(),
        _ => usual.to_string(),
    }
}

/// [`penguins_for`] for a model type: `categorical_nb` reads only the penguins' categorical
/// columns and the (whole-number) year, as category codes.
pub fn penguins_for_type(
    type_name: &str,
    estimator: amlis::models::Estimator,
) -> (Table, Option<&'static str>) {
    let (table, target) = penguins_for(estimator);
    if type_name == "categorical_nb" {
        let year = table.column("year").unwrap().as_numeric().unwrap();
        let base: Vec<f64> = year.iter().map(|y| y - 2007.0).collect();
        let mut codes = table.select(&["species", "island", "sex"]).unwrap();
        codes.push_column("year", Column::numeric(base)).unwrap();
        return (codes, target);
    }
    (table, target)
}

/// Settings that a meta type needs in a test that fits every registered type: an automatic
/// search (`auto_classifier`, `auto_regressor`) kept small (two trials over two cheap
/// families), a voting ensemble's members. Empty for the other types.
pub fn auto_small(type_name: &str) -> &'static str {
    match type_name {
        "auto_classifier" => {
            r#", "max_trials": 2, "families": ["gaussian_nb", "logistic_regression"]"#
        }
        "auto_regressor" => r#", "max_trials": 2, "families": ["ridge", "k_neighbors_regressor"]"#,
        // Members bring their own preprocessing: the ensemble takes raw columns.
        "voting_classifier" => {
            r#", "voting": "soft", "weights": [2, 1], "estimators": [
                {"model": {"type": "gaussian_nb"}, "preprocess": [
                    {"type": "simple_imputer", "strategy": "most_frequent"},
                    {"type": "one_hot_encoder", "handle_unknown": "ignore"}]},
                {"model": {"type": "gradient_boosting_classifier", "max_iter": 5}}]"#
        }
        "voting_regressor" => {
            r#", "estimators": [
                {"model": {"type": "ridge"}, "preprocess": [
                    {"type": "simple_imputer", "strategy": "most_frequent"},
                    {"type": "one_hot_encoder", "handle_unknown": "ignore"}]},
                {"model": {"type": "gradient_boosting_regressor", "max_iter": 5}}]"#
        }
        _ => "",
    }
}
