//! Learns the meta-learning portfolio (`data/meta/portfolio.json`) from a corpus of data
//! sets: for each, its meta-features (on every row) and the cross-validated score of every
//! configuration of a fixed grid (each searchable family's default and random draws, seeded)
//! on a subsample. `scripts/meta/build_portfolio.sh` runs it after `scripts/meta/corpus.py`.
//!
//! ```text
//! cargo run --release --example meta_portfolio -- --corpus target/meta-corpus \
//!     --out data/meta/portfolio.json [--draws 3] [--max-rows 2000] [--folds 3] [--seed 0]
//! ```
//!
//! The corpus directory holds CSV files and an `index.json` listing `name`, `file`,
//! `target`, `task` (`classification` / `regression`), `source`.

use std::time::Instant;

use amlis::data::csv::{read_csv, CsvOptions};
use amlis::data::{ColumnKind, KFold, Splitter, StratifiedKFold};
use amlis::evaluate::selection::{cross_validate, CvOptions, TableData};
use amlis::meta::portfolio::{Portfolio, PortfolioDataset};
use amlis::meta::{features, space};
use amlis::models::{Estimator, ModelConfig};
use amlis::service::config::TrainConfig;
use amlis::traits::FitContext;
use rayon::prelude::*;
use serde_json::Value;

struct Args {
    corpus: String,
    out: String,
    draws: usize,
    max_rows: usize,
    folds: usize,
    seed: u64,
}

fn parse() -> Result<Args, String> {
    let mut a = Args {
        corpus: "target/meta-corpus".into(),
        out: "data/meta/portfolio.json".into(),
        draws: 3,
        max_rows: 2000,
        folds: 3,
        seed: 0,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or(format!("{flag} needs a value"));
        let num = |v: String| v.parse::<usize>().map_err(|e| format!("{flag}: {e}"));
        match flag.as_str() {
            "--corpus" => a.corpus = value()?,
            "--out" => a.out = value()?,
            "--draws" => a.draws = num(value()?)?,
            "--max-rows" => a.max_rows = num(value()?)?,
            "--folds" => a.folds = num(value()?)?,
            "--seed" => a.seed = num(value()?)? as u64,
            other => return Err(format!("unknown flag {other}")),
        }
    }
    Ok(a)
}

/// The grid: per kind, per family, its default then `draws` random configurations.
fn grid(draws: usize, seed: u64) -> Result<Vec<(Estimator, Value)>, amlis::Error> {
    let mut out = Vec::new();
    for kind in [Estimator::Classifier, Estimator::Regressor] {
        for (f, family) in space::searchable(kind).into_iter().enumerate() {
            out.push((kind, space::default_config(family)?));
            let mut rng = amlis::common::rng::for_task(
                seed,
                1000 + f as u64 + 100 * (kind == Estimator::Regressor) as u64,
            );
            for _ in 0..draws {
                out.push((kind, space::random_config(family, &mut rng)?));
            }
        }
    }
    Ok(out)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let a = parse()?;
    let index: Vec<Value> = serde_json::from_str(&std::fs::read_to_string(format!(
        "{}/index.json",
        a.corpus
    ))?)?;
    let configs = grid(a.draws, a.seed)?;
    let mut datasets = Vec::new();
    for entry in &index {
        let field = |k: &str| {
            entry
                .get(k)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        };
        let (name, file, target, task) =
            (field("name"), field("file"), field("target"), field("task"));
        let kind = if task == "classification" {
            Estimator::Classifier
        } else {
            Estimator::Regressor
        };
        let start = Instant::now();
        let mut options = CsvOptions::default();
        if kind == Estimator::Classifier {
            options = options.with_column_kind(target.clone(), ColumnKind::Categorical);
        }
        let table = match read_csv(format!("{}/{file}", a.corpus), &options) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("{name}: skipped, cannot read: {e}");
                continue;
            }
        };
        let data = TableData::new(&table, target.as_str(), kind)?;
        let mf = features::compute(&data, a.seed)?;
        // Scores on a seeded subsample of at most max_rows rows.
        let mut rng = amlis::common::rng::for_task(a.seed, 7);
        let mut rows = amlis::common::rng::permutation(table.n_rows(), &mut rng);
        rows.truncate(a.max_rows);
        rows.sort_unstable();
        let sub = table.take_rows(&rows)?;
        let sub_data = TableData::new(&sub, target.as_str(), kind)?;
        let profile = space::profile_of(&sub, &target);
        let splitter: Box<dyn Splitter> = if kind == Estimator::Classifier {
            Box::new(StratifiedKFold::new(a.folds).shuffle(a.seed))
        } else {
            Box::new(KFold::new(a.folds).shuffle(a.seed))
        };
        let metric = if kind == Estimator::Classifier {
            "accuracy"
        } else {
            "r2"
        };
        let scores: Vec<f64> = configs
            .par_iter()
            .map(|(k, model)| {
                if *k != kind {
                    return f64::NAN;
                }
                let family = model
                    .get("type")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                let mut params = model.clone();
                if let Value::Object(obj) = &mut params {
                    obj.remove("type");
                }
                let run = || -> Result<f64, amlis::Error> {
                    let config = TrainConfig {
                        model: ModelConfig::from_json_parts(family, params)?,
                        preprocess: space::preprocess_for(family, &profile)?,
                        random_state: Some(a.seed),
                        n_threads: Some(1),
                        unlabeled_token: None,
                    };
                    let cv = cross_validate(
                        &sub_data,
                        &config,
                        splitter.as_ref(),
                        &CvOptions::metrics(&[metric]),
                        &FitContext::new().random_state(a.seed).n_threads(1),
                    )?;
                    Ok(cv.metric(metric)?.mean)
                };
                run().unwrap_or(f64::NAN)
            })
            .collect();
        let best = scores
            .iter()
            .copied()
            .filter(|s| s.is_finite())
            .fold(f64::NEG_INFINITY, f64::max);
        eprintln!(
            "{name:<28} {task:<14} {:>6} rows  best {metric} {best:.4}  {:.1} s",
            table.n_rows(),
            start.elapsed().as_secs_f64()
        );
        datasets.push(PortfolioDataset {
            name,
            task,
            source: field("source"),
            n_rows: table.n_rows(),
            meta_features: mf,
            scores,
        });
    }
    let portfolio = Portfolio {
        format: 1,
        library_version: amlis::VERSION.to_string(),
        feature_names: features::NAMES.iter().map(|s| s.to_string()).collect(),
        configs: configs.into_iter().map(|(_, c)| c).collect(),
        datasets,
    };
    std::fs::write(&a.out, serde_json::to_string_pretty(&portfolio)? + "\n")?;
    eprintln!(
        "wrote {} ({} data sets, {} configurations)",
        a.out,
        portfolio.datasets.len(),
        portfolio.configs.len()
    );
    Ok(())
}
