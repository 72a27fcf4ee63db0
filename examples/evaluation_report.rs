//! Fits a pipeline on breast_cancer, evaluates it on a held-out stratified 25 %, and writes
//! the text report and its SVG plots (ROC, precision-recall, confusion matrix) to
//! `target/report/`.
//!
//! Run: `cargo run --example evaluation_report`

use amlis::config::TrainConfig;
use amlis::data::{SplitSize, TrainTestSplit};
use amlis::pipeline::Pipeline;
use amlis::traits::{Dataset, FitContext};

/// The model: one line to change (e.g. to `{"type": "logistic_regression", "C": 1.0}`).
const MODEL: &str = r#"{"type": "logistic_regression", "C": 1.0}"#;

fn main() -> amlis::Result<()> {
    let table = amlis::datasets::breast_cancer_table()?;
    let config = TrainConfig::from_json(&format!(
        r#"{{"model": {MODEL}, "preprocess": [{{"type": "standard_scaler"}}], "random_state": 0}}"#
    ))?;
    let y: Vec<f64> = amlis::datasets::breast_cancer()?
        .targets()
        .map(|y| y.to_vec())
        .unwrap_or_default();
    let split = TrainTestSplit::new(SplitSize::Fraction(0.25))
        .stratify(true)
        .random_state(0)
        .indices(table.n_rows(), Some(&y))?;
    let train = table.take_rows(&split.train)?;
    let test = table.take_rows(&split.test)?;

    let pipeline = Pipeline::fit(&config, &train, "diagnosis", &FitContext::new())?;
    let report = amlis::report::evaluate(&pipeline, &test)?;
    println!("{report}");

    let dir = std::path::Path::new("target/report");
    let files = report.write_svg(dir)?;
    std::fs::write(dir.join("report.txt"), report.to_string()).map_err(|source| {
        amlis::Error::Io {
            path: dir.join("report.txt"),
            source,
        }
    })?;
    for f in files {
        println!("wrote {}", f.display());
    }
    Ok(())
}
