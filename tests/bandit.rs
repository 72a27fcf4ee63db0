//! Contextual bandits: the linear policies' state against a direct ridge solve, stability
//! with arms never pulled, reproducible decisions on any thread, save / load resuming
//! bit-identically, and supervised-to-bandit simulations on shipped data sets.

use amlis::data::datasets;
use amlis::models::bandit::{
    AnyPolicy, BanditSpec, LinTs, LinUcb, LoggedFeedback, Policy, PolicyConfig,
};
use std::path::{Path, PathBuf};

use amlis::models::rl::{
    ActionEncoding, BanditLogs, GreedyPolicy, OfflinePolicyLearner, Reduction,
};
use amlis::service::bandit::Bandit;
use amlis::service::persist::{self, Encoding};
use amlis::traits::{Dataset, FitContext};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Solves `a x = b` (dense, n x n) by Gaussian elimination with partial pivoting.
fn solve(mut a: Vec<f64>, mut b: Vec<f64>, n: usize) -> Vec<f64> {
    for k in 0..n {
        let p = (k..n)
            .max_by(|&i, &j| a[i * n + k].abs().total_cmp(&a[j * n + k].abs()))
            .unwrap();
        for j in 0..n {
            a.swap(k * n + j, p * n + j);
        }
        b.swap(k, p);
        for i in k + 1..n {
            let f = a[i * n + k] / a[k * n + k];
            for j in k..n {
                a[i * n + j] -= f * a[k * n + j];
            }
            b[i] -= f * b[k];
        }
    }
    let mut x = vec![0.0; n];
    for i in (0..n).rev() {
        let s: f64 = (i + 1..n).map(|j| a[i * n + j] * x[j]).sum();
        x[i] = (b[i] - s) / a[i * n + i];
    }
    x
}

fn arms_of(p: &AnyPolicy) -> &amlis::models::bandit::linear::LinearArms {
    match p {
        AnyPolicy::LinUcb(p) => p.arms(),
        AnyPolicy::LinTs(p) => p.arms(),
        AnyPolicy::LinGreedy(p) => p.arms(),
        other => panic!("{} is not linear", other.type_name()),
    }
}

#[test]
fn linear_state_equals_a_direct_ridge_solve_after_10000_updates() {
    let (k, d, lambda) = (3, 5, 0.7);
    for config in [
        PolicyConfig::LinUcb(LinUcb::default().l2_lambda(lambda)),
        PolicyConfig::LinTs(LinTs::default().l2_lambda(lambda)),
    ] {
        let mut p = config.start(&BanditSpec::new(k, d)).unwrap();
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let mut gram = vec![vec![0.0; d * d]; k];
        let mut xty = vec![vec![0.0; d]; k];
        for i in 0..d {
            for g in gram.iter_mut() {
                g[i * d + i] = lambda;
            }
        }
        for _ in 0..10_000 {
            let x: Vec<f64> = (0..d).map(|_| rng.gen_range(-2.0..2.0)).collect();
            let a = rng.gen_range(0..k);
            let r = x
                .iter()
                .enumerate()
                .map(|(j, v)| (j as f64 - 2.0) * v)
                .sum::<f64>()
                + rng.gen_range(-1.0..1.0);
            p.update(&x, a, r, 1.0 / k as f64).unwrap();
            for i in 0..d {
                for j in 0..d {
                    gram[a][i * d + j] += x[i] * x[j];
                }
                xty[a][i] += r * x[i];
            }
        }
        for (a, arm) in arms_of(&p).arms.iter().enumerate() {
            let theta = solve(gram[a].clone(), xty[a].clone(), d);
            for j in 0..d {
                assert!(
                    (arm.theta[j] - theta[j]).abs() < 1e-9,
                    "{} arm {a} θ{j}",
                    p.type_name()
                );
                let mut e = vec![0.0; d];
                e[j] = 1.0;
                let col = solve(gram[a].clone(), e, d);
                for (i, c) in col.iter().enumerate() {
                    let diff = (arm.a_inv[i * d + j] - c).abs();
                    assert!(
                        diff < 1e-9,
                        "{} arm {a} A⁻¹[{i},{j}] off by {diff}",
                        p.type_name()
                    );
                }
                assert!((arm.b[j] - xty[a][j]).abs() < 1e-9 * xty[a][j].abs().max(1.0));
            }
        }
    }
}

#[test]
fn many_arms_never_pulled_give_finite_pmfs() {
    let (k, d) = (400, 20);
    for name in [
        "lin_ucb",
        "lin_ts",
        "lin_greedy",
        "ucb1",
        "thompson_sampling",
        "epsilon_greedy",
        "softmax",
    ] {
        let mut p = PolicyConfig::from_json_parts(name, serde_json::json!({}))
            .unwrap()
            .start(&BanditSpec::new(k, d))
            .unwrap();
        let x: Vec<f64> = (0..d).map(|j| 1e3 * (j as f64 - 9.5)).collect();
        for t in 0..5u64 {
            let (a, pmf) = p.choose(&x, t, &[]).unwrap();
            assert!(pmf.iter().all(|v| v.is_finite() && *v >= 0.0), "{name}");
            assert!((pmf.iter().sum::<f64>() - 1.0).abs() < 1e-9, "{name}");
            p.update(&x, a, 1.0, pmf[a]).unwrap();
        }
        let (_, pmf) = p.choose(&vec![0.0; d], 99, &[]).unwrap();
        assert!(pmf.iter().all(|v| v.is_finite()), "{name}");
    }
}

/// Every policy type with its defaults, and the two over a regressor, each with a name (the
/// name of its golden file).
fn named_configs() -> Vec<(String, String)> {
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

fn all_configs() -> Vec<String> {
    named_configs().into_iter().map(|(_, c)| c).collect()
}

fn context(t: u64, d: usize) -> Vec<f64> {
    (0..d)
        .map(|j| (((t * 31 + j as u64 * 17) % 23) as f64) / 11.0 - 1.0)
        .collect()
}

fn reward(t: u64, a: usize) -> f64 {
    f64::from((t as usize + a) % 3 == 0)
}

/// Runs `steps` decisions (each followed by its update when `learn`) from event `from`;
/// returns actions and pmf bits.
fn decisions(b: &Bandit, from: u64, steps: u64, learn: bool) -> Vec<(usize, Vec<u64>)> {
    let k = b.spec().n_actions;
    let d = b.spec().n_features;
    (from..from + steps)
        .map(|t| {
            let x = context(t, d);
            let mut pmf = vec![0.0; k];
            let a = b.choose(&x, t, &[], &mut pmf).unwrap();
            if learn {
                b.update(&x, a, reward(t, a), pmf[a]).unwrap();
            }
            (a, pmf.iter().map(|p| p.to_bits()).collect())
        })
        .collect()
}

/// Runs `steps` decisions and updates from event `from`; returns actions and pmf bits.
fn run(b: &Bandit, from: u64, steps: u64) -> Vec<(usize, Vec<u64>)> {
    decisions(b, from, steps, true)
}

#[test]
fn save_and_load_resume_bit_identically() {
    for config in all_configs() {
        let a = Bandit::from_json(&config, 4, 3).unwrap();
        run(&a, 0, 120);
        for encoding in [Encoding::Binary, Encoding::Json] {
            let bytes = a.to_bytes(encoding).unwrap();
            let b = Bandit::from_bytes(&bytes).unwrap();
            let reference = Bandit::from_bytes(&bytes).unwrap();
            assert_eq!(run(&b, 120, 80), run(&reference, 120, 80), "{config}");
            let a2 = Bandit::from_bytes(&a.to_bytes(Encoding::Binary).unwrap()).unwrap();
            // The original, continued, makes the same decisions as its reloaded copies.
            assert_eq!(
                run(&a2, 120, 80),
                run(&Bandit::from_bytes(&bytes).unwrap(), 120, 80),
                "{config}"
            );
            assert_eq!(
                a2.to_bytes(Encoding::Binary).unwrap(),
                b.to_bytes(Encoding::Binary).unwrap(),
                "{config}"
            );
        }
        // Every truncation is an error, never a panic.
        let bytes = a.to_bytes(Encoding::Binary).unwrap();
        for cut in (0..bytes.len()).step_by(bytes.len() / 50 + 1) {
            assert!(
                Bandit::from_bytes(&bytes[..cut]).is_err(),
                "{config} cut {cut}"
            );
        }
    }
}

#[test]
fn a_corrupt_state_is_model_corrupt() {
    let a = Bandit::from_json(r#"{"policy": {"type": "lin_ucb"}}"#, 3, 2).unwrap();
    run(&a, 0, 10);
    let json = String::from_utf8(a.to_bytes(Encoding::Json).unwrap()[28..].to_vec()).unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&json).unwrap();
    v["policy"]["state"]["arms"]["arms"][1]["theta"]
        .as_array_mut()
        .unwrap()
        .pop();
    let bytes = amlis::service::persist::encode(&v, 2, Encoding::Json).unwrap();
    let e = Bandit::from_bytes(&bytes).unwrap_err();
    assert!(matches!(e, amlis::Error::ModelCorrupt(_)), "{e}");
    let mut w: serde_json::Value = serde_json::from_str(&json).unwrap();
    w["policy"]["state"]["spec"]["n_actions"] = serde_json::json!(5);
    let bytes = amlis::service::persist::encode(&w, 2, Encoding::Json).unwrap();
    assert!(matches!(
        Bandit::from_bytes(&bytes),
        Err(amlis::Error::ModelCorrupt(_))
    ));
}

#[test]
fn the_same_event_gives_the_same_decision_on_any_thread() {
    for config in all_configs() {
        let b = Bandit::from_json(&config, 5, 3).unwrap();
        run(&b, 0, 60);
        let decide = |t: u64| {
            let mut pmf = vec![0.0; 5];
            let a = b.choose(&context(t, 3), t, &[1], &mut pmf).unwrap();
            assert_eq!(pmf[1], 0.0);
            (a, pmf.iter().map(|p| p.to_bits()).collect::<Vec<_>>())
        };
        let serial: Vec<_> = (0..100).map(decide).collect();
        std::thread::scope(|s| {
            let handles: Vec<_> = (0..4)
                .map(|_| s.spawn(|| (0..100).map(decide).collect::<Vec<_>>()))
                .collect();
            for h in handles {
                assert_eq!(h.join().unwrap(), serial, "{config}");
            }
        });
    }
}

#[test]
fn partial_fit_from_logs_equals_updates() {
    let cfg = r#"{"policy": {"type": "lin_ucb"}, "random_state": 1}"#;
    let a = Bandit::from_json(cfg, 3, 2).unwrap();
    let b = Bandit::from_json(cfg, 3, 2).unwrap();
    let (mut xs, mut acts, mut rs, mut ps) = (vec![], vec![], vec![], vec![]);
    for t in 0..50u64 {
        let x = context(t, 2);
        let act = (t % 3) as usize;
        a.update(&x, act, reward(t, act), 1.0 / 3.0).unwrap();
        xs.extend(x);
        acts.push(act);
        rs.push(reward(t, act));
        ps.push(1.0 / 3.0);
    }
    let logs = LoggedFeedback::new(2, xs, acts.clone(), rs.clone(), ps.clone()).unwrap();
    b.partial_fit(&logs).unwrap();
    assert_eq!(
        a.to_bytes(Encoding::Binary).unwrap(),
        b.to_bytes(Encoding::Binary).unwrap()
    );
    // A bad row (action out of range) is an error naming it, and nothing is learned.
    let mut bad = acts;
    bad[7] = 3;
    let logs = LoggedFeedback::new(2, vec![0.5; 100], bad, rs, ps).unwrap();
    let before = b.to_bytes(Encoding::Binary).unwrap();
    let e = b.partial_fit(&logs).unwrap_err();
    assert!(e.to_string().contains("row 7"), "{e}");
    assert_eq!(b.to_bytes(Encoding::Binary).unwrap(), before);
}

/// Standardized features (missing values at the column mean) plus a constant, and class
/// indices, of a shipped classification data set.
fn supervised(data: &dyn Dataset) -> (Vec<Vec<f64>>, Vec<usize>, usize) {
    let x = data.features().to_owned();
    let y = data.targets().unwrap();
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
        for i in 0..n {
            let v = x[[i, j]];
            rows[i][j] = if v.is_finite() && sd > 0.0 {
                (v - mean) / sd
            } else {
                0.0
            };
        }
    }
    let labels: Vec<usize> = y.iter().map(|&v| v as usize).collect();
    let k = labels.iter().max().unwrap() + 1;
    (rows, labels, k)
}

/// One pass over the rows in a seeded order: reward 1 when the action is the row's class.
fn simulate(config: &str, rows: &[Vec<f64>], labels: &[usize], k: usize, seed: u64) -> f64 {
    let b = Bandit::from_json(config, k, rows[0].len()).unwrap();
    let mut order: Vec<usize> = (0..rows.len()).collect();
    rand::seq::SliceRandom::shuffle(order.as_mut_slice(), &mut ChaCha8Rng::seed_from_u64(seed));
    let mut pmf = vec![0.0; k];
    let mut total = 0.0;
    for (t, &i) in order.iter().enumerate() {
        let a = b.choose(&rows[i], t as u64, &[], &mut pmf).unwrap();
        let r = f64::from(a == labels[i]);
        b.update(&rows[i], a, r, pmf[a]).unwrap();
        total += r;
    }
    total / rows.len() as f64
}

#[test]
fn lin_ucb_beats_uniform_random_on_supervised_to_bandit_simulations() {
    // (data set, rows used, least LinUCB and LinTS rewards per row over one pass)
    let sets = [
        ("wine", datasets::wine().unwrap(), 178, 0.8),
        ("penguins", datasets::penguins().unwrap(), 344, 0.9),
        ("digits", datasets::digits().unwrap(), 1000, 0.55),
    ];
    for (name, data, n, least) in sets {
        let (mut rows, mut labels, k) = supervised(&data);
        rows.truncate(n);
        labels.truncate(n);
        let random = 1.0 / k as f64;
        let lin_ucb = simulate(
            r#"{"policy": {"type": "lin_ucb", "alpha": 0.5}}"#,
            &rows,
            &labels,
            k,
            1,
        );
        let lin_ts = simulate(
            r#"{"policy": {"type": "lin_ts", "alpha": 0.2, "pmf_samples": 10}}"#,
            &rows,
            &labels,
            k,
            1,
        );
        println!("{name}: LinUCB {lin_ucb:.3}, LinTS {lin_ts:.3}, uniform {random:.3}");
        assert!(
            lin_ucb > least && lin_ucb > 2.5 * random,
            "{name}: LinUCB {lin_ucb}"
        );
        assert!(lin_ts > least - 0.1, "{name}: LinTS {lin_ts}");
    }
}

#[test]
fn contexts_pass_through_preprocessing_steps_fitted_on_logs() {
    let cfg = r#"{"policy": {"type": "lin_ucb", "alpha": 0.3}, "random_state": 2,
        "preprocess": [{"type": "simple_imputer", "strategy": "mean"}, {"type": "standard_scaler"}]}"#;
    let b = Bandit::from_json(cfg, 3, 2).unwrap();
    let mut pmf = vec![0.0; 3];
    assert!(
        b.choose(&[1.0, 2.0], 0, &[], &mut pmf).is_err(),
        "steps not fitted yet"
    );
    // Logs on a scale the policy would struggle with raw; a missing value is imputed.
    let (mut xs, mut acts, mut rs) = (vec![], vec![], vec![]);
    for t in 0..300u64 {
        let x = context(t, 2);
        let act = (t % 3) as usize;
        xs.extend([
            1000.0 + 100.0 * x[0],
            if t == 5 { f64::NAN } else { -3.0 * x[1] },
        ]);
        acts.push(act);
        rs.push(f64::from((x[0] > 0.0) as usize == act));
    }
    let logs = LoggedFeedback::new(2, xs, acts, rs, vec![1.0 / 3.0; 300]).unwrap();
    b.partial_fit(&logs).unwrap();
    let policy = b.snapshot().unwrap().unwrap();
    assert_eq!(policy.n_features(), 2);
    // The policy saw standardized contexts: its arms' b vectors are of order of the counts.
    let arms = arms_of(&policy);
    assert!(
        arms.arms
            .iter()
            .all(|a| a.b.iter().all(|v| v.abs() < 300.0)),
        "{arms:?}"
    );
    // Raw contexts are transformed before each decision and update; it learned the rule.
    let a = b.choose(&[1090.0, 0.0], 1, &[], &mut pmf).unwrap();
    assert_eq!(a, 1, "{pmf:?}");
    b.update(&[1090.0, 0.0], a, 1.0, pmf[a]).unwrap();
    assert!(b.choose(&[1.0], 2, &[], &mut pmf).is_err());
    // Save / load keeps the fitted steps and resumes bit-identically.
    for encoding in [Encoding::Binary, Encoding::Json] {
        let c = Bandit::from_bytes(&b.to_bytes(encoding).unwrap()).unwrap();
        let d = Bandit::from_bytes(&b.to_bytes(encoding).unwrap()).unwrap();
        for t in 0..50u64 {
            let x = [1000.0 + (t as f64) * 3.0 - 75.0, (t % 7) as f64];
            let (mut p1, mut p2) = (vec![0.0; 3], vec![0.0; 3]);
            let a1 = c.choose(&x, t, &[], &mut p1).unwrap();
            let a2 = d.choose(&x, t, &[], &mut p2).unwrap();
            assert_eq!((a1, p1.clone()), (a2, p2));
            c.update(&x, a1, 1.0, p1[a1]).unwrap();
            d.update(&x, a1, 1.0, p1[a1]).unwrap();
        }
        assert_eq!(
            c.to_bytes(Encoding::Binary).unwrap(),
            d.to_bytes(Encoding::Binary).unwrap()
        );
    }
}

// Golden files of the model file's bandit kinds: a bandit's learning state (envelope kind 2)
// for every named config, and a greedy policy learned from logs (kind 3). Each file was
// written with the decisions it made then; it must keep loading (binary and JSON) and decide
// the same actions with the same pmf bits — and, for kind 2, keep learning the same way.
// Files are never rewritten: a config gets one in the format version that introduced it.
// Write the missing ones with
// `cargo test --test bandit -- --ignored write_bandit_golden_files`: they are
// `tests/golden/v<major>.<minor>/<name>.{amlis,json,decisions.json}` (not `*.expected.json`,
// which the pipeline's golden test reads as pipelines).

/// The actions and pmf bits of decisions, as a golden file records them.
fn decisions_json(rows: &[(usize, Vec<u64>)]) -> serde_json::Value {
    rows.iter()
        .map(|(a, bits)| serde_json::json!({"action": a, "pmf_bits": bits}))
        .collect()
}

/// The greedy policy of the kind-3 golden file: DM over a ridge per action, from a small
/// simulated log of 4 actions and 3 features where the best action depends on the context.
fn golden_greedy_policy() -> GreedyPolicy {
    let (n, k, d) = (60, 4, 3);
    let mut x = ndarray::Array2::zeros((n, d));
    let (mut actions, mut rewards) = (vec![], vec![]);
    for t in 0..n {
        for (j, v) in context(t as u64, d).into_iter().enumerate() {
            x[[t, j]] = v;
        }
        let a = (t * 7 + 3) % k;
        actions.push(a);
        let bonus = |j: usize, arm: usize| if a == arm { 2.0 * x[[t, j]] } else { 0.0 };
        rewards.push(x[[t, 0]] * (a as f64 - 1.5) + bonus(1, 1) + bonus(2, 2));
    }
    let propensities = vec![1.0 / k as f64; n];
    let logs = BanditLogs {
        contexts: x.view(),
        actions: &actions,
        rewards: &rewards,
        propensities: &propensities,
    };
    OfflinePolicyLearner {
        reduction: Reduction::Dm,
        action_encoding: ActionEncoding::PerAction,
        ..Default::default()
    }
    .with_estimator(serde_json::json!({"type": "ridge", "alpha": 0.5}))
    .unwrap()
    .fit(&logs, k, &FitContext::new().random_state(2))
    .unwrap()
}

/// The greedy policy's decisions on events `0..steps`: its action and one-hot pmf.
fn greedy_decisions(p: &GreedyPolicy, steps: u64) -> Vec<(usize, Vec<u64>)> {
    (0..steps)
        .map(|t| {
            let a = p.choose(&context(t, p.n_features())).unwrap();
            let pmf = (0..p.n_actions()).map(|i| f64::from(u8::from(i == a)).to_bits());
            (a, pmf.collect())
        })
        .collect()
}

/// The first format version directory holding the golden file `name`.
fn golden_dir_of(name: &str) -> Option<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(root)
        .ok()?
        .flatten()
        .map(|e| e.path())
        .collect();
    dirs.sort();
    dirs.into_iter()
        .find(|v| v.join(format!("{name}.decisions.json")).exists())
}

fn write_pretty(path: PathBuf, v: &serde_json::Value) {
    std::fs::write(path, serde_json::to_string_pretty(v).unwrap() + "\n").unwrap();
}

fn read_decisions(dir: &Path, name: &str) -> serde_json::Value {
    let text = std::fs::read_to_string(dir.join(format!("{name}.decisions.json"))).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// Writes the golden files of the current format version that are missing.
#[test]
#[ignore = "writes tests/golden; run by hand when a new format version is released"]
fn write_bandit_golden_files() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!(
        "tests/golden/v{}.{}",
        persist::FORMAT_MAJOR,
        persist::FORMAT_MINOR
    ));
    std::fs::create_dir_all(&dir).unwrap();
    for (name, config) in named_configs() {
        if golden_dir_of(&name).is_some() {
            continue;
        }
        let b = Bandit::from_json(&config, 4, 3).unwrap();
        run(&b, 0, 120);
        b.save(dir.join(format!("{name}.amlis")), Encoding::Binary)
            .unwrap();
        b.save(dir.join(format!("{name}.json")), Encoding::Json)
            .unwrap();
        let choose = decisions_json(&decisions(&b, 200, 30, false));
        let resume = decisions_json(&run(&b, 120, 40));
        let record = serde_json::json!({"config": config, "choose": choose, "resume": resume});
        write_pretty(dir.join(format!("{name}.decisions.json")), &record);
    }
    let name = "greedy_policy";
    if golden_dir_of(name).is_none() {
        let p = golden_greedy_policy();
        for (file, encoding) in [("amlis", Encoding::Binary), ("json", Encoding::Json)] {
            std::fs::write(
                dir.join(format!("{name}.{file}")),
                p.to_bytes(encoding).unwrap(),
            )
            .unwrap();
        }
        let record = serde_json::json!({"choose": decisions_json(&greedy_decisions(&p, 30))});
        write_pretty(dir.join(format!("{name}.decisions.json")), &record);
    }
}

#[test]
fn bandit_golden_files_keep_deciding_and_learning() {
    for (name, config) in named_configs() {
        let dir = golden_dir_of(&name).unwrap_or_else(|| panic!("no golden file for {name}"));
        let want = read_decisions(&dir, &name);
        assert_eq!(want["config"], serde_json::json!(config), "{name}");
        for file in [format!("{name}.amlis"), format!("{name}.json")] {
            let b = Bandit::load(dir.join(&file)).unwrap_or_else(|e| panic!("{file}: {e}"));
            assert_eq!(
                decisions_json(&decisions(&b, 200, 30, false)),
                want["choose"],
                "{file}"
            );
            assert_eq!(decisions_json(&run(&b, 120, 40)), want["resume"], "{file}");
        }
    }
}

#[test]
fn greedy_policy_golden_file_keeps_deciding() {
    let name = "greedy_policy";
    let dir = golden_dir_of(name).expect("no greedy policy golden file");
    let want = read_decisions(&dir, name);
    for file in [format!("{name}.amlis"), format!("{name}.json")] {
        let p = GreedyPolicy::load_file(dir.join(&file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!(
            decisions_json(&greedy_decisions(&p, 30)),
            want["choose"],
            "{file}"
        );
    }
}

#[test]
fn a_greedy_policy_learned_from_logs_decides_through_the_bandit_handle() {
    let name = "greedy_policy";
    let dir = golden_dir_of(name).expect("no greedy policy golden file");
    let want = read_decisions(&dir, name);
    let policy = GreedyPolicy::load_file(dir.join(format!("{name}.amlis"))).unwrap();
    for file in [format!("{name}.amlis"), format!("{name}.json")] {
        // The handle loads kind 3 and decides as the policy does (any event id).
        let b = Bandit::load(dir.join(&file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!(b.greedy(), Some(&policy));
        assert!(b.config().is_none() && b.snapshot().unwrap().is_none());
        assert_eq!(
            decisions_json(&decisions(&b, 0, 30, false)),
            want["choose"],
            "{file}"
        );
        let (k, d) = (b.spec().n_actions, b.spec().n_features);
        // Excluding the greedy action moves all the mass to the best of the others.
        for t in 0..30u64 {
            let x = context(t, d);
            let mut pmf = vec![0.0; k];
            let best = b.choose(&x, t, &[], &mut pmf).unwrap();
            let values = policy.action_values(&x).unwrap();
            let next = (0..k).filter(|&a| a != best).fold(usize::MAX, |m, a| {
                if m == usize::MAX || values[a] > values[m] {
                    a
                } else {
                    m
                }
            });
            assert_eq!(b.choose(&x, t + 1000, &[best], &mut pmf).unwrap(), next);
            assert_eq!(pmf[next], 1.0);
            assert_eq!(pmf.iter().sum::<f64>(), 1.0);
        }
        // It does not learn: a clear error, the state unchanged.
        let e = b.update(&context(1, d), 0, 1.0, 0.5).unwrap_err();
        assert!(
            matches!(e, amlis::Error::Unsupported(ref m) if m.contains("greedy policy")),
            "{e}"
        );
        let logs = LoggedFeedback::new(d, context(1, d), vec![0], vec![1.0], vec![0.5]).unwrap();
        assert!(matches!(
            b.partial_fit(&logs),
            Err(amlis::Error::Unsupported(_))
        ));
        // It saves back as the same kind-3 image.
        let bytes = b.to_bytes(Encoding::Binary).unwrap();
        assert_eq!(bytes, policy.to_bytes(Encoding::Binary).unwrap());
        assert_eq!(Bandit::from_bytes(&bytes).unwrap().greedy(), Some(&policy));
    }
    // Wrong sizes are shape errors, as for any bandit.
    let b = Bandit::from_greedy(policy);
    let mut pmf = vec![0.0; 3];
    assert!(b.choose(&context(0, 3), 0, &[], &mut pmf).is_err());
    assert!(b.choose(&context(0, 2), 0, &[], &mut [0.0; 4]).is_err());
}
