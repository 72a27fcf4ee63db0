//! The main job, end to end, on a real table shipped in `data/`:
//! read penguins (missing numbers and strings), summarise it, split it stratified by
//! species, fit a pipeline (impute, one-hot encode, scale, model) from a JSON config,
//! evaluate it on the held-out rows, save it as one versioned file, load it back, and
//! predict new rows with the loaded copy.
//!
//! Run with `cargo run --release --example quickstart`.

use amlis::config::TrainConfig;
use amlis::data::{
    describe, read_csv, CsvOptions, DenseDataset, SplitSize, TaskKind, TrainTestSplit,
};
use amlis::persist::Encoding;
use amlis::pipeline::Pipeline;
use amlis::traits::{Dataset, FitContext};

const CONFIG: &str = r#"{
    "model": {"type": "logistic_regression", "C": 1.0, "max_iter": 200},
    "preprocess": [
        {"type": "simple_imputer", "strategy": "median"},
        {"type": "simple_imputer", "strategy": "most_frequent"},
        {"type": "one_hot_encoder", "handle_unknown": "ignore"},
        {"type": "standard_scaler"}
    ],
    "random_state": 42
}"#;

fn main() -> amlis::Result<()> {
    // 1. Data: read the CSV into typed columns and look at it.
    let path = amlis::datasets::data_path("penguins.csv");
    let table = read_csv(&path, &CsvOptions::default())?;
    println!(
        "read {} rows x {} columns from {}",
        table.n_rows(),
        table.n_columns(),
        path.display()
    );
    println!("{}", amlis::data::SummaryTable(&describe(&table)?));

    // 2. Split 75/25, stratified by species, with a seed.
    let labels = DenseDataset::from_table(&table, "species", TaskKind::Classification)?;
    let y = labels.targets().map(|y| y.to_vec());
    let split = TrainTestSplit::new(SplitSize::Fraction(0.25))
        .stratify(true)
        .random_state(42)
        .indices(table.n_rows(), y.as_deref())?;
    let train = table.take_rows(&split.train)?;
    let test = table.take_rows(&split.test)?;
    println!(
        "train: {} rows, test: {} rows",
        train.n_rows(),
        test.n_rows()
    );

    // 3. Model: fit the whole pipeline from the JSON config.
    let config = TrainConfig::from_json(CONFIG)?;
    let pipeline = Pipeline::fit(&config, &train, "species", &FitContext::new())?;
    println!(
        "fitted {} on {} features after preprocessing; training metrics {:?}",
        pipeline.model().type_name(),
        pipeline.features().len(),
        pipeline.meta().training_metrics
    );

    // 4. Evaluate on the held-out rows.
    let truth = DenseDataset::from_table(&test, "species", TaskKind::Classification)?;
    let predicted = pipeline.predict_table(&test)?;
    let accuracy = accuracy(&truth, &predicted.to_vec(), pipeline.classes());
    println!("held-out accuracy: {accuracy:.4}");

    // 5. Service: save one versioned file, load it back, predict with the loaded copy.
    let file = std::env::temp_dir().join("amlis-quickstart-penguins.amlis");
    pipeline.save(&file, Encoding::Binary)?;
    let loaded = Pipeline::load(&file)?;
    let again = loaded.predict_table(&test)?;
    assert_eq!(predicted, again, "the reloaded pipeline predicts the same");
    let proba = loaded.predict_proba_table(&test.take_rows(&[0, 1, 2])?)?;
    println!(
        "saved {} ({} bytes), reloaded; first rows' class probabilities over {:?}:\n{proba:.3}",
        file.display(),
        std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0),
        loaded.classes()
    );
    Ok(())
}

/// Share of rows whose predicted label equals the true label (labels compared by name, since
/// the test split may lack a class).
fn accuracy(truth: &DenseDataset, predicted: &[f64], classes: &[String]) -> f64 {
    let Some(y) = truth.targets() else {
        return f64::NAN;
    };
    let true_labels = truth.task().classes();
    let hits = y
        .iter()
        .zip(predicted)
        .filter(|(t, p)| true_labels.get(**t as usize) == classes.get(**p as usize))
        .count();
    hits as f64 / y.len().max(1) as f64
}
