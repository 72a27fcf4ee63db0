//! Automatic model selection from the command line: fits `auto_classifier` /
//! `auto_regressor` on a training CSV and scores the chosen pipeline on a test CSV. The
//! comparison script `scripts/meta/flaml_compare.py` drives it.
//!
//! ```text
//! cargo run --release --example auto_fit -- --train train.csv --test test.csv \
//!     --target species --task classification --time-budget 10 [--max-trials N] \
//!     [--exclude NAME] [--seed 0] [--n-threads 2] [--defaults]
//! ```
//!
//! Prints one JSON object on its last line: `score` (accuracy or r2 on the test rows),
//! `metric`, `best` (the chosen config), `n_trials`, `fit_seconds`; with `--defaults`, also
//! every family's default config scored the same way (`defaults`), and `score` is the best
//! of them. Without `--defaults`, `selection` holds what the choice rested on (the trials
//! scored on all the rows, with their fold scores), to study selection rules offline.

use std::time::Instant;

use amlis::data::csv::{read_csv, CsvOptions};
use amlis::data::{ColumnKind, Table};
use amlis::meta::space;
use amlis::models::{Estimator, ModelConfig};
use amlis::pipeline::Pipeline;
use amlis::service::config::TrainConfig;
use amlis::traits::FitContext;
use serde_json::{json, Value};

struct Args {
    train: String,
    test: String,
    target: String,
    classification: bool,
    budget: Option<f64>,
    max_trials: Option<usize>,
    exclude: Vec<String>,
    seed: u64,
    threads: usize,
    defaults: bool,
    leaderboard: bool,
}

fn parse() -> Result<Args, String> {
    let mut a = Args {
        train: String::new(),
        test: String::new(),
        target: String::new(),
        classification: true,
        budget: None,
        max_trials: None,
        exclude: Vec::new(),
        seed: 0,
        threads: 2,
        defaults: false,
        leaderboard: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--train" => a.train = value()?,
            "--test" => a.test = value()?,
            "--target" => a.target = value()?,
            "--task" => a.classification = value()? == "classification",
            "--time-budget" => a.budget = Some(value()?.parse().map_err(|e| format!("{e}"))?),
            "--max-trials" => a.max_trials = Some(value()?.parse().map_err(|e| format!("{e}"))?),
            "--exclude" => a.exclude.push(value()?),
            "--seed" => a.seed = value()?.parse().map_err(|e| format!("{e}"))?,
            "--n-threads" => a.threads = value()?.parse().map_err(|e| format!("{e}"))?,
            "--defaults" => a.defaults = true,
            "--leaderboard" => a.leaderboard = true,
            other => return Err(format!("unknown flag {other}")),
        }
    }
    if a.train.is_empty() || a.test.is_empty() || a.target.is_empty() {
        return Err("--train, --test and --target are required".into());
    }
    Ok(a)
}

fn read(path: &str, a: &Args) -> Result<Table, Box<dyn std::error::Error>> {
    let mut options = CsvOptions::default();
    if a.classification {
        options = options.with_column_kind(a.target.clone(), ColumnKind::Categorical);
    }
    Ok(read_csv(path, &options)?)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let a = parse()?;
    let train = read(&a.train, &a)?;
    let test = read(&a.test, &a)?;
    let metric = if a.classification { "accuracy" } else { "r2" };
    let ctx = FitContext::new().random_state(a.seed).n_threads(a.threads);
    let start = Instant::now();
    if a.defaults {
        let kind = if a.classification {
            Estimator::Classifier
        } else {
            Estimator::Regressor
        };
        let mut rows = Vec::new();
        let mut best = f64::NEG_INFINITY;
        for family in space::searchable(kind) {
            let mut model = space::default_config(family)?;
            if let Value::Object(obj) = &mut model {
                obj.remove("type");
            }
            let config = TrainConfig {
                model: ModelConfig::from_json_parts(family, model)?,
                preprocess: space::preprocess_for(family, &space::profile_of(&train, &a.target))?,
                random_state: Some(a.seed),
                n_threads: Some(a.threads),
                unlabeled_token: None,
            };
            let score = Pipeline::fit(&config, &train, a.target.as_str(), &ctx)
                .and_then(|p| amlis::evaluate::report::evaluate_metric(&p, &test, metric));
            let score = score.unwrap_or(f64::NAN);
            if score > best {
                best = score;
            }
            rows.push(json!({"type": family, "score": score}));
        }
        println!(
            "{}",
            json!({"score": best, "metric": metric, "defaults": rows,
                   "fit_seconds": start.elapsed().as_secs_f64()})
        );
        return Ok(());
    }
    let mut search = json!({"metric": metric, "portfolio_exclude": a.exclude,
                            "random_state": a.seed, "n_threads": a.threads});
    if let Some(b) = a.budget {
        search["time_budget"] = json!(b);
    }
    if let Some(m) = a.max_trials {
        search["max_trials"] = json!(m);
    }
    let model_type = if a.classification {
        "auto_classifier"
    } else {
        "auto_regressor"
    };
    let config = TrainConfig::new(ModelConfig::from_json_parts(model_type, search)?);
    let pipeline = Pipeline::fit(&config, &train, a.target.as_str(), &ctx)?;
    let fit_seconds = start.elapsed().as_secs_f64();
    let score = amlis::evaluate::report::evaluate_metric(&pipeline, &test, metric)?;
    let report = pipeline.meta().search.as_ref();
    if let (true, Some(r)) = (a.leaderboard, report) {
        for t in &r.trials {
            eprintln!(
                "{:>5} cand {:>4} rung {} {:>6} rows {:<30} {:<14} score {:>9} fit {:.3}s {}",
                t.id,
                t.candidate,
                t.rung,
                t.n_rows,
                t.config.model.type_name(),
                format!("{:?}", t.status),
                t.score.map_or("-".into(), |s| format!("{s:.4}")),
                t.fit_time,
                t.message.as_deref().unwrap_or("")
            );
        }
    }
    println!(
        "{}",
        json!({
            "score": score,
            "metric": metric,
            "best": pipeline.meta().config,
            "n_trials": report.map_or(0, |r| r.trials.len()),
            "fit_seconds": fit_seconds,
            "stopped_by": report.map(|r| r.stopped_by),
            "neighbours": report.map(|r| r.neighbours.clone()),
            "ensemble": report.and_then(|r| r.ensemble.clone()),
            "choice": report.and_then(|r| r.choice.clone()),
            "selection": report.map(|r| selection(r)),
        })
    );
    Ok(())
}

/// What the choice among candidates rested on, for studying selection rules offline: the
/// rows of each rung, the prior defaults' candidates, the chosen trial, and every trial
/// scored on all the rows (candidate, rung, type, mean and fold scores). The default
/// configs' test scores (`--defaults`) then give the holdout score of any prior default.
fn selection(r: &amlis::meta::SearchReport) -> Value {
    let n = r.rungs.iter().copied().max().unwrap_or(0);
    let trials: Vec<Value> = r
        .trials
        .iter()
        .filter(|t| t.n_rows == n && t.status == amlis::meta::TrialStatus::Ok)
        .map(|t| {
            json!({"id": t.id, "candidate": t.candidate, "rung": t.rung,
                   "type": t.config.model.type_name(), "origin": t.origin,
                   "score": t.repeated_score.or(t.score), "fold_scores": t.fold_scores})
        })
        .collect();
    json!({"rungs": r.rungs, "validation": r.validation, "prior_defaults": r.prior_defaults,
           "best_trial": r.best_trial, "full_row_trials": trials})
}
