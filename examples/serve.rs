//! Trains three models and starts a contextual bandit, saves them into a model directory and
//! prints the command that serves them over the Open Inference Protocol (V2), with requests
//! to try.
//!
//! Run with `cargo run --release --example serve [-- DIR]` (DIR defaults to `models/`).

use amlis::config::TrainConfig;
use amlis::persist::Encoding;
use amlis::pipeline::Pipeline;
use amlis::traits::FitContext;

fn main() -> amlis::Result<()> {
    let dir = std::path::PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| "models".into()));
    std::fs::create_dir_all(&dir).map_err(|source| amlis::Error::Io {
        path: dir.clone(),
        source,
    })?;
    let ctx = FitContext::new();

    // A classifier on numeric columns: one [n, 4] FP64 tensor in, class index, label,
    // probabilities and decision scores out.
    let iris = amlis::datasets::iris_table()?;
    let config = TrainConfig::from_json(
        r#"{"model": {"type": "logistic_regression", "C": 1.0}, "preprocess": [{"type": "standard_scaler"}]}"#,
    )?;
    Pipeline::fit(&config, &iris, "species", &ctx)?
        .save(dir.join("iris.amlis"), Encoding::Binary)?;

    // A classifier with categorical columns (strings in, one tensor per column).
    let penguins = amlis::datasets::penguins_table()?;
    let config = TrainConfig::from_json(
        r#"{"model": {"type": "random_forest_classifier", "n_estimators": 50}, "random_state": 0,
            "preprocess": [{"type": "simple_imputer", "strategy": "most_frequent"},
                           {"type": "one_hot_encoder", "handle_unknown": "ignore"}]}"#,
    )?;
    Pipeline::fit(&config, &penguins, "species", &ctx)?
        .save(dir.join("penguins.amlis"), Encoding::Binary)?;

    // A regressor.
    let diabetes = amlis::datasets::diabetes_table()?;
    let config = TrainConfig::from_json(r#"{"model": {"type": "ridge", "alpha": 1.0}}"#)?;
    Pipeline::fit(&config, &diabetes, "progression", &ctx)?
        .save(dir.join("diabetes.amlis"), Encoding::Binary)?;

    // A contextual bandit that decides online and learns from rewards (choose / reward / save).
    amlis::service::bandit::Bandit::from_json(
        r#"{"policy": {"type": "lin_ucb", "alpha": 0.5}, "random_state": 7}"#,
        3,
        2,
    )?
    .save(dir.join("offers.amlis"), Encoding::Binary)?;

    let d = dir.display();
    println!("saved iris, penguins, diabetes and the bandit offers into {d}/");
    println!("serve them:\n  cargo run --release --features serve --bin amlis-serve -- --model-dir {d} --addr 127.0.0.1:8080");
    println!("then:");
    println!("  curl -s localhost:8080/v2/models/iris");
    println!(
        "  curl -s localhost:8080/v2/models/iris/infer -d '{{\"inputs\": [{{\"name\": \"input\", \"shape\": [1, 4], \"datatype\": \"FP64\", \"data\": [5.1, 3.5, 1.4, 0.2]}}]}}'"
    );
    println!(
        "  curl -s localhost:8080/v2/models/penguins/infer -d '{{\"inputs\": [{{\"name\": \"island\", \"shape\": [1], \"datatype\": \"BYTES\", \"data\": [\"Biscoe\"]}}, {{\"name\": \"bill_length_mm\", \"shape\": [1], \"datatype\": \"FP64\", \"data\": [45.0]}}, {{\"name\": \"bill_depth_mm\", \"shape\": [1], \"datatype\": \"FP64\", \"data\": [15.0]}}, {{\"name\": \"flipper_length_mm\", \"shape\": [1], \"datatype\": \"FP64\", \"data\": [220.0]}}, {{\"name\": \"body_mass_g\", \"shape\": [1], \"datatype\": \"FP64\", \"data\": [5000.0]}}, {{\"name\": \"sex\", \"shape\": [1], \"datatype\": \"BYTES\", \"data\": [\"male\"]}}, {{\"name\": \"year\", \"shape\": [1], \"datatype\": \"FP64\", \"data\": [2008]}}], \"outputs\": [{{\"name\": \"label\"}}]}}'"
    );
    println!("  curl -s localhost:8080/v1/models/diabetes:predict -d '{{\"instances\": [[0.03, 0.05, 0.06, 0.02, -0.04, -0.03, -0.04, 0.0, 0.02, -0.02]]}}'");
    println!(
        "  curl -s localhost:8080/v2/models/offers/choose -d '{{\"inputs\": [{{\"name\": \"context\", \"shape\": [1, 2], \"datatype\": \"FP64\", \"data\": [0.3, 1.0]}}, {{\"name\": \"event_id\", \"shape\": [1], \"datatype\": \"UINT64\", \"data\": [42]}}]}}'"
    );
    println!(
        "  curl -s localhost:8080/v2/models/offers/reward -d '{{\"inputs\": [{{\"name\": \"context\", \"shape\": [1, 2], \"datatype\": \"FP64\", \"data\": [0.3, 1.0]}}, {{\"name\": \"action\", \"shape\": [1], \"datatype\": \"INT64\", \"data\": [0]}}, {{\"name\": \"reward\", \"shape\": [1], \"datatype\": \"FP64\", \"data\": [1.0]}}, {{\"name\": \"probability\", \"shape\": [1], \"datatype\": \"FP64\", \"data\": [1.0]}}]}}'"
    );
    println!("  curl -s -X POST localhost:8080/v2/models/offers/save");
    println!("  curl -s --http2-prior-knowledge localhost:8080/v2/models/iris");
    println!("  curl -s localhost:8080/metrics");
    Ok(())
}
