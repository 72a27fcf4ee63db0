//! Golden files of the model file's bandit kinds: a bandit's learning state (envelope kind 2)
//! for every policy type, and a greedy policy learned from logs (kind 3). Each file was written
//! with the decisions it made then; it must keep loading (binary and JSON) and decide the
//! same actions with the same pmf bits — and, for kind 2, keep learning the same way.
//!
//! Regenerate only when a new format version is released (files are never rewritten; a type
//! gets one in the format version that introduced it):
//!
//! ```text
//! cargo test --test bandit_golden -- --ignored write_bandit_golden_files
//! ```
//!
//! The files are `tests/golden/v<major>.<minor>/bandit_<type>.{amlis,json,decisions.json}` and
//! `greedy_policy.{amlis,json,decisions.json}` (not `*.expected.json`, which the pipeline's
//! golden test reads as pipelines).

use std::path::{Path, PathBuf};

use amlis::models::bandit::PolicyConfig;
use amlis::models::rl::{BanditLogs, GreedyPolicy, OfflinePolicyLearner, Reduction};
use amlis::persist::{Encoding, FORMAT_MAJOR, FORMAT_MINOR};
use amlis::service::bandit::Bandit;
use amlis::traits::FitContext;
use ndarray::Array2;
use serde_json::{json, Value};

const K: usize = 4;
const D: usize = 3;

fn context(t: u64, d: usize) -> Vec<f64> {
    (0..d)
        .map(|j| (((t * 31 + j as u64 * 17) % 23) as f64) / 11.0 - 1.0)
        .collect()
}

fn reward(t: u64, a: usize) -> f64 {
    f64::from((t as usize + a) % 3 == 0)
}

/// One policy config per bandit golden file: every policy type, and the two over a regressor.
fn configs() -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = PolicyConfig::type_names()
        .iter()
        .map(|n| {
            (
                format!("bandit_{n}"),
                format!(r#"{{"policy": {{"type": "{n}"}}, "random_state": 9}}"#),
            )
        })
        .collect();
    v.push(("bandit_epsilon_greedy_sgd".into(), r#"{"policy": {"type": "epsilon_greedy", "estimator": {"type": "sgd_regressor", "eta0": 0.05}}, "random_state": 4}"#.into()));
    v.push(("bandit_softmax_ridge".into(), r#"{"policy": {"type": "softmax", "tau": 0.2, "estimator": {"type": "ridge", "alpha": 1.0}}, "random_state": 4}"#.into()));
    v
}

/// Decisions on events `from..from + steps` (action and pmf bits); with `learn`, each is
/// followed by the update of its reward.
fn decide(b: &Bandit, from: u64, steps: u64, learn: bool) -> Value {
    let k = b.spec().n_actions;
    let d = b.spec().n_features;
    let rows: Vec<Value> = (from..from + steps)
        .map(|t| {
            let x = context(t, d);
            let mut pmf = vec![0.0; k];
            let a = b.choose(&x, t, &[], &mut pmf).unwrap();
            if learn {
                b.update(&x, a, reward(t, a), pmf[a]).unwrap();
            }
            json!({"action": a, "pmf_bits": pmf.iter().map(|p| p.to_bits()).collect::<Vec<_>>()})
        })
        .collect();
    Value::Array(rows)
}

/// The greedy policy of the kind-3 golden file: DM over ridge, one-hot actions, on a small
/// simulated log where action `t % 3` pays in context `t`.
fn greedy_policy() -> GreedyPolicy {
    let n = 60;
    let mut x = Array2::zeros((n, D));
    let (mut actions, mut rewards) = (vec![], vec![]);
    for t in 0..n {
        for (j, v) in context(t as u64, D).into_iter().enumerate() {
            x[[t, j]] = v;
        }
        let a = (t * 7 + 3) % K;
        actions.push(a);
        rewards.push(reward(t as u64, a) + 0.1 * x[[t, 0]] * a as f64);
    }
    let propensities = vec![1.0 / K as f64; n];
    let logs = BanditLogs {
        contexts: x.view(),
        actions: &actions,
        rewards: &rewards,
        propensities: &propensities,
    };
    OfflinePolicyLearner {
        reduction: Reduction::Dm,
        ..Default::default()
    }
    .with_estimator(json!({"type": "ridge", "alpha": 0.5}))
    .unwrap()
    .fit(&logs, K, &FitContext::new().random_state(2))
    .unwrap()
}

/// The greedy policy's decisions on events `0..steps`: its action and one-hot pmf.
fn greedy_decisions(p: &GreedyPolicy, steps: u64) -> Value {
    let rows: Vec<Value> = (0..steps)
        .map(|t| {
            let x = context(t, D);
            let a = p.choose(&x).unwrap();
            let pmf: Vec<u64> = (0..K).map(|i| f64::from(u8::from(i == a)).to_bits()).collect();
            json!({"action": a, "pmf_bits": pmf})
        })
        .collect();
    Value::Array(rows)
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

/// The first format version directory holding the golden file `name`.
fn golden_version_of(name: &str) -> Option<PathBuf> {
    let mut versions: Vec<PathBuf> = std::fs::read_dir(root())
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    versions.sort();
    versions
        .into_iter()
        .find(|v| v.join(format!("{name}.decisions.json")).exists())
}

fn write_json(path: &Path, v: &Value) {
    std::fs::write(path, serde_json::to_string_pretty(v).unwrap() + "\n").unwrap();
}

/// Writes the golden files of the current format version (see the module docs).
#[test]
#[ignore = "writes tests/golden; run by hand when a new format version is released"]
fn write_bandit_golden_files() {
    let dir = root().join(format!("v{FORMAT_MAJOR}.{FORMAT_MINOR}"));
    std::fs::create_dir_all(&dir).unwrap();
    for (name, config) in configs() {
        if golden_version_of(&name).is_some() {
            continue;
        }
        let b = Bandit::from_json(&config, K, D).unwrap();
        decide(&b, 0, 120, true);
        b.save(dir.join(format!("{name}.amlis")), Encoding::Binary)
            .unwrap();
        b.save(dir.join(format!("{name}.json")), Encoding::Json)
            .unwrap();
        let choose = decide(&b, 200, 30, false);
        let resume = decide(&b, 120, 40, true);
        write_json(
            &dir.join(format!("{name}.decisions.json")),
            &json!({"config": config, "choose": choose, "resume": resume}),
        );
    }
    let name = "greedy_policy";
    if golden_version_of(name).is_none() {
        let p = greedy_policy();
        std::fs::write(
            dir.join(format!("{name}.amlis")),
            p.to_bytes(Encoding::Binary).unwrap(),
        )
        .unwrap();
        std::fs::write(
            dir.join(format!("{name}.json")),
            p.to_bytes(Encoding::Json).unwrap(),
        )
        .unwrap();
        write_json(
            &dir.join(format!("{name}.decisions.json")),
            &json!({"choose": greedy_decisions(&p, 30)}),
        );
    }
}

fn expected(dir: &Path, name: &str) -> Value {
    serde_json::from_str(
        &std::fs::read_to_string(dir.join(format!("{name}.decisions.json"))).unwrap(),
    )
    .unwrap()
}

#[test]
fn bandit_golden_files_keep_deciding_and_learning() {
    let mut checked = 0;
    for (name, config) in configs() {
        let dir = golden_version_of(&name)
            .unwrap_or_else(|| panic!("no golden file for {name}; run write_bandit_golden_files"));
        let want = expected(&dir, &name);
        assert_eq!(want["config"], json!(config), "{name}");
        for file in [format!("{name}.amlis"), format!("{name}.json")] {
            let b = Bandit::load(dir.join(&file)).unwrap_or_else(|e| panic!("{file}: {e}"));
            assert_eq!(decide(&b, 200, 30, false), want["choose"], "{file}");
            assert_eq!(decide(&b, 120, 40, true), want["resume"], "{file}");
            checked += 1;
        }
    }
    assert_eq!(checked, 2 * configs().len());
}

#[test]
fn greedy_policy_golden_file_keeps_deciding() {
    let name = "greedy_policy";
    let dir = golden_version_of(name).expect("no greedy policy golden file");
    let want = expected(&dir, name);
    for file in [format!("{name}.amlis"), format!("{name}.json")] {
        let p = GreedyPolicy::load_file(dir.join(&file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!(greedy_decisions(&p, 30), want["choose"], "{file}");
    }
}
