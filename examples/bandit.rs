//! Contextual bandits from Rust: a supervised-to-bandit simulation on shipped data sets.
//! Each row is a context, each class an action, and the reward is 1 when the action is the
//! row's class. Every policy makes one pass over the rows in the same shuffled order; the
//! example prints each policy's cumulative reward (uniform random gets 1 / classes).
//!
//!     cargo run --release --example bandit

use amlis::data::datasets;
use amlis::service::bandit::Bandit;
use amlis::traits::Dataset;
use rand::SeedableRng;

/// Standardized features (missing values at the mean) plus an intercept, and class indices.
fn contexts(data: &dyn Dataset) -> (Vec<Vec<f64>>, Vec<usize>, usize) {
    let x = data.features().to_owned();
    let (n, d) = x.dim();
    let mut rows = vec![vec![1.0; d + 1]; n];
    for j in 0..d {
        let col: Vec<f64> = x
            .column(j)
            .iter()
            .copied()
            .filter(|v| v.is_finite())
            .collect();
        let mean = col.iter().sum::<f64>() / col.len() as f64;
        let sd = (col.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / col.len() as f64).sqrt();
        for (i, row) in rows.iter_mut().enumerate() {
            let v = x[[i, j]];
            row[j] = if v.is_finite() && sd > 0.0 {
                (v - mean) / sd
            } else {
                0.0
            };
        }
    }
    let labels: Vec<usize> = data
        .targets()
        .map_or(vec![], |y| y.iter().map(|&v| v as usize).collect());
    let k = labels.iter().max().map_or(0, |m| m + 1);
    (rows, labels, k)
}

fn main() -> amlis::Result<()> {
    let policies = [
        (
            "lin_ucb",
            r#"{"policy": {"type": "lin_ucb", "alpha": 0.5}, "random_state": 1}"#,
        ),
        (
            "lin_ts",
            r#"{"policy": {"type": "lin_ts", "alpha": 0.2}, "random_state": 1}"#,
        ),
        (
            "lin_greedy",
            r#"{"policy": {"type": "lin_greedy", "epsilon": 0.05}, "random_state": 1}"#,
        ),
        (
            "epsilon_greedy + sgd_regressor",
            r#"{"policy": {"type": "epsilon_greedy", "epsilon": 0.05,
                "estimator": {"type": "sgd_regressor", "eta0": 0.05}}, "random_state": 1}"#,
        ),
        (
            "softmax (context-free)",
            r#"{"policy": {"type": "softmax", "tau": 0.1}, "random_state": 1}"#,
        ),
        (
            "ucb1 (context-free)",
            r#"{"policy": {"type": "ucb1"}, "random_state": 1}"#,
        ),
    ];
    for (name, data) in [
        ("wine", datasets::wine()?),
        ("penguins", datasets::penguins()?),
        ("digits", datasets::digits()?),
    ] {
        let (rows, labels, k) = contexts(&data);
        let mut order: Vec<usize> = (0..rows.len()).collect();
        rand::seq::SliceRandom::shuffle(
            order.as_mut_slice(),
            &mut rand_chacha::ChaCha8Rng::seed_from_u64(42),
        );
        println!(
            "\n{name}: {} rows, {} context features, {k} actions",
            rows.len(),
            rows[0].len()
        );
        println!("  {:<32} {:>10} {:>7}", "policy", "cumulative", "mean");
        println!(
            "  {:<32} {:>10.1} {:>7.3}",
            "uniform random (expected)",
            rows.len() as f64 / k as f64,
            1.0 / k as f64
        );
        for (policy, config) in policies {
            let bandit = Bandit::from_json(config, k, rows[0].len())?;
            let mut pmf = vec![0.0; k];
            let mut total = 0.0;
            for (t, &i) in order.iter().enumerate() {
                let action = bandit.choose(&rows[i], t as u64, &[], &mut pmf)?;
                let reward = f64::from(action == labels[i]);
                bandit.update(&rows[i], action, reward, pmf[action])?;
                total += reward;
            }
            println!(
                "  {policy:<32} {total:>10.0} {:>7.3}",
                total / rows.len() as f64
            );
        }
    }
    Ok(())
}
