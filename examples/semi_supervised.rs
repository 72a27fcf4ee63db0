//! Semi-supervised learning on a shipped table: the digits (1,797 images of 8 x 8 pixels)
//! split 75/25 stratified, and only 5% of the training labels kept (the other target cells
//! emptied, as a file with missing labels would have them). Three models are fitted from
//! JSON configs and scored on the held-out rows:
//!
//! - the supervised-only baseline: logistic regression on the labelled rows alone;
//! - self-training: the same logistic regression, labelling the unlabeled rows it is sure of;
//! - label spreading over the k-nearest-neighbour graph of every training row.
//!
//! Run with `cargo run --release --example semi_supervised`.

use std::time::Instant;

use amlis::config::TrainConfig;
use amlis::data::{format_label, Column, DenseDataset, SplitSize, Table, TaskKind, TrainTestSplit};
use amlis::models::AnyModel;
use amlis::pipeline::Pipeline;
use amlis::traits::{Dataset, FitContext};

const FRACTION_LABELLED: f64 = 0.05;

const BASELINE: &str = r#"{
    "model": {"type": "logistic_regression", "max_iter": 1000},
    "preprocess": [{"type": "standard_scaler"}]
}"#;

const SELF_TRAINING: &str = r#"{
    "model": {"type": "self_training_classifier",
              "estimator": {"type": "logistic_regression", "max_iter": 1000},
              "threshold": 0.9, "max_iter": 10},
    "preprocess": [{"type": "standard_scaler"}]
}"#;

const LABEL_SPREADING: &str = r#"{
    "model": {"type": "label_spreading", "kernel": "knn", "n_neighbors": 7, "alpha": 0.2},
    "preprocess": [{"type": "standard_scaler"}]
}"#;

/// The share of `test` rows whose `digit` the pipeline predicts.
fn holdout_accuracy(pipeline: &Pipeline, test: &Table) -> amlis::Result<f64> {
    let predicted = pipeline.predict_table(test)?;
    let truth = test
        .column("digit")?
        .as_numeric()
        .ok_or_else(|| amlis::Error::InvalidArgument("digit is numeric".into()))?;
    let classes = pipeline.classes();
    let hits = predicted
        .iter()
        .zip(truth)
        .filter(|(p, t)| classes.get(**p as usize) == Some(&format_label(**t)))
        .count();
    Ok(hits as f64 / test.n_rows() as f64)
}

fn main() -> amlis::Result<()> {
    let table = amlis::datasets::digits_table()?;
    let labels = DenseDataset::from_table(&table, "digit", TaskKind::Classification)?;
    let y = labels.targets().map(|y| y.to_vec());
    let split = TrainTestSplit::new(SplitSize::Fraction(0.25))
        .stratify(true)
        .random_state(0)
        .indices(table.n_rows(), y.as_deref())?;
    let mut train = table.take_rows(&split.train)?;
    let test = table.take_rows(&split.test)?;

    // Keep 5% of the training labels: a seeded stratified draw of the rows that keep theirs.
    let keep = TrainTestSplit::new(SplitSize::Fraction(FRACTION_LABELLED))
        .stratify(true)
        .random_state(1)
        .indices(
            train.n_rows(),
            Some(
                &split
                    .train
                    .iter()
                    .filter_map(|&i| y.as_ref()?.get(i).copied())
                    .collect::<Vec<_>>(),
            ),
        )?
        .test;
    let digits = train
        .column("digit")?
        .as_numeric()
        .ok_or_else(|| amlis::Error::InvalidArgument("digit is numeric".into()))?;
    let mut semi = vec![f64::NAN; digits.len()];
    for &i in &keep {
        semi[i] = digits[i];
    }
    train.replace_column("digit", Column::Numeric(semi))?;
    println!(
        "digits: {} training rows, {} of them labelled ({:.0}%), {} held out",
        train.n_rows(),
        keep.len(),
        100.0 * keep.len() as f64 / train.n_rows() as f64,
        test.n_rows()
    );
    let labelled_only = train.take_rows(&keep)?;

    let runs: [(&str, &str, &Table); 3] = [
        (
            "supervised only (logistic regression)",
            BASELINE,
            &labelled_only,
        ),
        ("self-training (logistic regression)", SELF_TRAINING, &train),
        ("label spreading (knn graph)", LABEL_SPREADING, &train),
    ];
    for (name, config, data) in runs {
        let config = TrainConfig::from_json(config)?;
        let start = Instant::now();
        let pipeline = Pipeline::fit(&config, data, "digit", &FitContext::new())?;
        let fit = start.elapsed();
        let accuracy = holdout_accuracy(&pipeline, &test)?;
        println!(
            "{name:<40} holdout accuracy {accuracy:.3}   (fit on {} rows in {:.2?})",
            data.n_rows(),
            fit
        );
        match pipeline.model() {
            AnyModel::SelfTrainingClassifier(m) => println!(
                "    {} iterations, newly labelled per iteration {:?}, stopped: {:?}",
                m.n_iter, m.newly_labeled, m.termination_condition
            ),
            AnyModel::LabelSpreading(m) => println!(
                "    {} iterations, {} rows without label mass",
                m.n_iter, m.n_no_mass
            ),
            _ => {}
        }
    }
    Ok(())
}
