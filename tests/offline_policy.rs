//! Offline policy learning from logged bandit feedback (`amlis::models::rl::OfflinePolicyLearner`)
//! on a supervised-to-bandit simulation of iris (each class an action, reward 1 for the right
//! class, actions logged uniformly at random, 4 logged decisions per flower):
//!
//! - the greedy policies learned by the IPS, DM and DR reductions over a registered regressor
//!   classify at least 90% of the flowers (uniform logging scores 1/3);
//! - the off-policy estimate (DR, reward model cross-fitted) of the learned policy on fresh logs
//!   is within 0.06 of its true value, also through `amlis_evaluate_policy` with the policy
//!   read from its model file;
//! - the policy saves and reloads bit-identically; bad logs are named errors.

use std::ffi::CString;

use amlis::evaluate::policy::{evaluate_policy, LoggedFeedback, OpeOptions};
use amlis::models::rl::{BanditLogs, GreedyPolicy, OfflinePolicyLearner, Reduction};
use amlis::traits::{Dataset, FitContext};
use ndarray::{Array2, Axis};
use rand::{Rng, SeedableRng};

struct Logs {
    x: Array2<f64>,
    labels: Vec<usize>,
    actions: Vec<usize>,
    rewards: Vec<f64>,
    propensities: Vec<f64>,
}

/// `repeats` uniformly random decisions per iris flower.
fn iris_logs(repeats: usize, seed: u64) -> Logs {
    let iris = amlis::data::datasets::iris().unwrap();
    let x0 = iris.features().to_owned();
    let y = iris.targets().unwrap();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let rows: Vec<usize> = (0..repeats).flat_map(|_| 0..x0.nrows()).collect();
    let x = x0.select(Axis(0), &rows);
    let labels: Vec<usize> = rows.iter().map(|&i| y[i] as usize).collect();
    let actions: Vec<usize> = rows.iter().map(|_| rng.gen_range(0..3)).collect();
    let rewards = labels
        .iter()
        .zip(&actions)
        .map(|(l, a)| f64::from(u8::from(l == a)))
        .collect();
    Logs {
        x,
        labels,
        actions,
        rewards,
        propensities: vec![1.0 / 3.0; rows.len()],
    }
}

impl Logs {
    fn bandit(&self) -> BanditLogs<'_> {
        BanditLogs {
            contexts: self.x.view(),
            actions: &self.actions,
            rewards: &self.rewards,
            propensities: &self.propensities,
        }
    }

    fn accuracy(&self, policy: &GreedyPolicy) -> f64 {
        let chosen = policy.choose_batch(self.x.view()).unwrap();
        chosen
            .iter()
            .zip(&self.labels)
            .filter(|(a, l)| a == l)
            .count() as f64
            / chosen.len() as f64
    }
}

fn learn(reduction: Reduction, logs: &Logs) -> GreedyPolicy {
    OfflinePolicyLearner { reduction, ..Default::default() }
        .with_estimator(serde_json::json!({"type": "random_forest_regressor", "n_estimators": 10, "min_samples_leaf": 3}))
        .unwrap()
        .fit(&logs.bandit(), 3, &FitContext::new().random_state(1))
        .unwrap()
}

#[test]
fn ips_dm_and_dr_reductions_learn_good_policies() {
    let train = iris_logs(4, 1);
    for reduction in [Reduction::Ips, Reduction::Dm, Reduction::Dr] {
        let policy = learn(reduction, &train);
        let acc = train.accuracy(&policy);
        assert!(acc >= 0.9, "{reduction:?}: accuracy {acc}");
    }
}

#[test]
fn the_learned_policy_is_evaluated_off_policy_near_its_true_value() {
    let train = iris_logs(4, 1);
    let policy = learn(Reduction::Dr, &train);
    let test = iris_logs(4, 2);
    let truth = test.accuracy(&policy);
    let pmf = policy.pmf(test.x.view()).unwrap();
    let logs = LoggedFeedback::new(&test.actions, &test.rewards, pmf.view())
        .propensities(&test.propensities)
        .contexts(test.x.view());
    let options = OpeOptions::from_json(serde_json::json!({
        "estimator": {"type": "decision_tree_regressor", "max_depth": 4},
        "action_encoding": "per_action",
        "n_bootstrap": 0,
    }))
    .unwrap();
    let report = evaluate_policy(&logs, &options).unwrap();
    for name in ["replay", "ips", "snips", "dm", "dr", "sndr"] {
        let v = report.estimate(name).unwrap();
        assert!((v - truth).abs() < 0.06, "{name}: {v} vs true {truth}");
    }

    // The same through C, with the policy read from its model file.
    let dir = std::env::temp_dir().join(format!("amlis_offline_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let model = dir.join("policy.amlis");
    policy.save_file(&model).unwrap();
    assert_eq!(GreedyPolicy::load_file(&model).unwrap(), policy);
    let csv = dir.join("logs.csv");
    let mut text = String::from("f0,f1,f2,f3,action,reward,p\n");
    for i in 0..test.actions.len() {
        let r = test.x.row(i);
        text += &format!(
            "{},{},{},{},{},{},{}\n",
            r[0], r[1], r[2], r[3], test.actions[i], test.rewards[i], test.propensities[i]
        );
    }
    std::fs::write(&csv, text).unwrap();
    let options = serde_json::json!({
        "action": "action", "reward": "reward", "propensity": "p",
        "context_columns": ["f0", "f1", "f2", "f3"],
        "policy": {"model_file": model.to_str().unwrap()},
        "estimators": ["ips", "snips"], "n_bootstrap": 0,
    });
    let path = CString::new(csv.to_str().unwrap()).unwrap();
    let options = CString::new(options.to_string()).unwrap();
    let mut d = std::ptr::null_mut();
    let mut buf = vec![0 as std::ffi::c_char; 4096];
    let mut len = 0usize;
    // SAFETY: valid NUL-terminated strings, a writable handle slot and a buffer of its length.
    unsafe {
        let empty = CString::new("{}").unwrap();
        assert_eq!(
            amlis::ffi::amlis_dataset_from_csv(path.as_ptr(), empty.as_ptr(), &mut d) as i32,
            0
        );
        let st = amlis::ffi::amlis_evaluate_policy(
            d,
            options.as_ptr(),
            buf.as_mut_ptr(),
            buf.len(),
            &mut len,
        );
        amlis::ffi::amlis_dataset_free(d);
        assert_eq!(st as i32, 0);
    }
    let text: String = buf[..len - 1].iter().map(|&c| c as u8 as char).collect();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    let direct = evaluate_policy(
        &LoggedFeedback::new(&test.actions, &test.rewards, pmf.view())
            .propensities(&test.propensities),
        &OpeOptions {
            n_bootstrap: 0,
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(
        json["estimates"][0]["value"].as_f64(),
        direct.estimate("ips")
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn bad_logs_are_named_errors() {
    let mut logs = iris_logs(1, 3);
    logs.propensities[5] = 0.0;
    let e = OfflinePolicyLearner::default()
        .fit(&logs.bandit(), 3, &FitContext::new())
        .unwrap_err();
    assert!(
        e.to_string().contains("propensities") && e.to_string().contains("row 5"),
        "{e}"
    );
    let logs = iris_logs(1, 3);
    let e = OfflinePolicyLearner::default()
        .fit(&logs.bandit(), 2, &FitContext::new())
        .unwrap_err();
    assert!(e.to_string().contains("out of range"), "{e}");
}
