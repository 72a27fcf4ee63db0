//! Fitted Q iteration (`amlis::models::rl::FittedQIteration`) on two control tasks simulated
//! here with their published dynamics, from transitions logged under a uniformly random policy:
//!
//! - mountain car (Sutton & Barto 2018, section 10.1; gym `MountainCar-v0`): from the standard
//!   start (position -0.5, velocity 0; and from -0.6, -0.55, -0.45 and -0.4, the ends and inner
//!   points of Sutton & Barto's start interval) the greedy policy reaches the
//!   goal (position >= 0.5) within 200 simulation steps. The agent acts every 4 steps (the action
//!   is held, as in frame skipping), so 200 steps are 50 decisions;
//! - cart-pole (Barto, Sutton & Anderson 1983, with gym `CartPole-v1`'s constants and Euler
//!   steps): from 150 random-policy episodes (about 2,500 transitions) the greedy policy
//!   balances the pole (|angle| <= 12 degrees, |x| <= 2.4) for 200 steps from 5 of gym's start
//!   states (each variable uniform in +-0.05);
//! - the policy saves and reloads bit-identically, and a fit is the same on 1 and 2 threads.
//!
//! Both use small extra-trees forests (the default regressor family), so the file runs in a few
//! seconds in the debug profile.

use amlis::models::rl::{ActionEncoding, FittedQIteration, GreedyPolicy, Transitions};
use amlis::traits::FitContext;
use ndarray::Array2;
use rand::{Rng, SeedableRng};

/// Mountain car: state (position, velocity), actions push left / nothing / right.
struct MountainCar;

impl MountainCar {
    const FRAME_SKIP: usize = 4;

    /// One simulation step; `true` when the goal is reached.
    fn step(s: [f64; 2], action: usize) -> ([f64; 2], bool) {
        let [mut x, mut v] = s;
        v += 0.001 * (action as f64 - 1.0) - 0.0025 * (3.0 * x).cos();
        v = v.clamp(-0.07, 0.07);
        x += v;
        if x < -1.2 {
            x = -1.2;
            v = 0.0;
        }
        let x = x.min(0.5);
        ([x, v], x >= 0.5)
    }

    /// One decision: the action held for `FRAME_SKIP` steps; (next state, reached, steps).
    fn act(s: [f64; 2], action: usize) -> ([f64; 2], bool, usize) {
        let mut s = s;
        for k in 1..=Self::FRAME_SKIP {
            let (next, done) = Self::step(s, action);
            s = next;
            if done {
                return (s, true, k);
            }
        }
        (s, false, Self::FRAME_SKIP)
    }
}

/// Cart-pole: state (x, x_dot, theta, theta_dot), actions push left / right.
struct CartPole;

impl CartPole {
    fn step(s: [f64; 4], action: usize) -> ([f64; 4], bool) {
        let (gravity, masscart, masspole, length, force_mag, tau) =
            (9.8, 1.0, 0.1, 0.5, 10.0, 0.02);
        let total_mass = masscart + masspole;
        let polemass_length = masspole * length;
        let [x, x_dot, theta, theta_dot] = s;
        let force = if action == 1 { force_mag } else { -force_mag };
        let (sin, cos) = theta.sin_cos();
        let temp = (force + polemass_length * theta_dot * theta_dot * sin) / total_mass;
        let theta_acc = (gravity * sin - cos * temp)
            / (length * (4.0 / 3.0 - masspole * cos * cos / total_mass));
        let x_acc = temp - polemass_length * theta_acc * cos / total_mass;
        let next = [
            x + tau * x_dot,
            x_dot + tau * x_acc,
            theta + tau * theta_dot,
            theta_dot + tau * theta_acc,
        ];
        let failed = next[0].abs() > 2.4 || next[2].abs() > 12.0_f64.to_radians();
        (next, failed)
    }
}

/// One transition: (state, action, reward, next state, done).
type Row<const D: usize> = ([f64; D], usize, f64, [f64; D], bool);

/// Logged transitions (states, actions, rewards, next states, dones).
struct Logs {
    states: Array2<f64>,
    actions: Vec<usize>,
    rewards: Vec<f64>,
    next: Array2<f64>,
    dones: Vec<bool>,
}

impl Logs {
    fn new<const D: usize>(rows: Vec<Row<D>>) -> Self {
        let n = rows.len();
        let (mut states, mut next) = (Array2::zeros((n, D)), Array2::zeros((n, D)));
        let (mut actions, mut rewards, mut dones) = (vec![], vec![], vec![]);
        for (i, (s, a, r, s2, d)) in rows.into_iter().enumerate() {
            for j in 0..D {
                states[[i, j]] = s[j];
                next[[i, j]] = s2[j];
            }
            actions.push(a);
            rewards.push(r);
            dones.push(d);
        }
        Self {
            states,
            actions,
            rewards,
            next,
            dones,
        }
    }

    fn transitions(&self) -> Transitions<'_> {
        Transitions {
            states: self.states.view(),
            actions: &self.actions,
            rewards: &self.rewards,
            next_states: self.next.view(),
            dones: &self.dones,
        }
    }
}

/// Random-policy decisions from states drawn uniformly over the state space; reward -1 per
/// decision, 0 on the one that reaches the goal (which ends the episode).
fn mountain_car_logs(n: usize, seed: u64) -> Logs {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let rows = (0..n)
        .map(|_| {
            let s = [rng.gen_range(-1.2..0.5), rng.gen_range(-0.07..0.07)];
            let a = rng.gen_range(0..3);
            let (s2, done, _) = MountainCar::act(s, a);
            (s, a, if done { 0.0 } else { -1.0 }, s2, done)
        })
        .collect();
    Logs::new(rows)
}

/// Episodes of a uniformly random policy from start states spread over the track (x uniform in
/// +-2, velocities in +-1, angle in +-0.15), so that the logs also show the cart near the ends of
/// the track; reward 0 per step and -1 on failure (which ends the episode).
fn cart_pole_logs(episodes: usize, seed: u64) -> Logs {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut rows = vec![];
    for _ in 0..episodes {
        let mut s = [
            rng.gen_range(-2.0..2.0),
            rng.gen_range(-1.0..1.0),
            rng.gen_range(-0.15..0.15),
            rng.gen_range(-1.0..1.0),
        ];
        for _ in 0..200 {
            let a = rng.gen_range(0..2);
            let (s2, failed) = CartPole::step(s, a);
            rows.push((s, a, if failed { -1.0 } else { 0.0 }, s2, failed));
            if failed {
                break;
            }
            s = s2;
        }
    }
    Logs::new(rows)
}

fn extra_trees(n_estimators: usize) -> serde_json::Value {
    serde_json::json!({"type": "extra_trees_regressor", "n_estimators": n_estimators, "min_samples_leaf": 2})
}

/// 1,500 random decisions, 35 iterations (the horizon: about 140 steps), 6 trees per action.
fn fit_mountain_car(ctx: &FitContext<'_>) -> GreedyPolicy {
    let logs = mountain_car_logs(1500, 1);
    FittedQIteration {
        gamma: 0.98,
        n_iterations: 35,
        action_encoding: ActionEncoding::PerAction,
        ..Default::default()
    }
    .with_estimator(extra_trees(6))
    .unwrap()
    .fit(&logs.transitions(), 3, ctx)
    .unwrap()
}

#[test]
fn mountain_car_reaches_the_goal_within_200_steps() {
    let policy = fit_mountain_car(&FitContext::new().random_state(3));
    for start in [-0.5, -0.6, -0.55, -0.45, -0.4] {
        let mut s = [start, 0.0];
        let mut steps = 0;
        let mut reached = false;
        while steps < 200 && !reached {
            let a = policy.choose(&s).unwrap();
            let (next, done, k) = MountainCar::act(s, a);
            (s, reached, steps) = (next, done, steps + k);
        }
        assert!(
            reached,
            "from {start}: not at the goal after {steps} steps (at {s:?})"
        );
    }
}

#[test]
fn cart_pole_balances_for_200_steps() {
    let logs = cart_pole_logs(150, 2);
    let policy = FittedQIteration {
        gamma: 0.95,
        n_iterations: 20,
        action_encoding: ActionEncoding::PerAction,
        ..Default::default()
    }
    .with_estimator(extra_trees(6))
    .unwrap()
    .fit(&logs.transitions(), 2, &FitContext::new().random_state(5))
    .unwrap();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(99);
    for trial in 0..5 {
        let mut s = [0.0; 4].map(|_: f64| rng.gen_range(-0.05..0.05));
        for step in 0..200 {
            let (next, failed) = CartPole::step(s, policy.choose(&s).unwrap());
            assert!(
                !failed,
                "trial {trial}: the pole fell at step {step} ({next:?})"
            );
            s = next;
        }
    }
}

#[test]
fn the_policy_saves_reloads_and_ignores_the_thread_count() {
    let logs = mountain_car_logs(400, 4);
    let fqi = FittedQIteration {
        n_iterations: 5,
        ..Default::default()
    }
    .with_estimator(extra_trees(3))
    .unwrap();
    let fit = |threads| {
        fqi.fit(
            &logs.transitions(),
            3,
            &FitContext::new().random_state(8).n_threads(threads),
        )
        .unwrap()
    };
    let policy = fit(1);
    assert_eq!(policy, fit(2));
    for encoding in [
        amlis::service::persist::Encoding::Binary,
        amlis::service::persist::Encoding::Json,
    ] {
        let bytes = policy.to_bytes(encoding).unwrap();
        let back = GreedyPolicy::from_bytes(&bytes).unwrap();
        assert_eq!(back, policy);
        let s = [-0.3, 0.01];
        assert_eq!(
            back.action_values(&s).unwrap(),
            policy.action_values(&s).unwrap()
        );
        for cut in [0, 10, 28, bytes.len() / 2, bytes.len() - 1] {
            assert!(GreedyPolicy::from_bytes(&bytes[..cut]).is_err());
        }
    }
    // Bit flips are errors or harmless, never panics; an inflated action count is corrupt.
    let bytes = policy
        .to_bytes(amlis::service::persist::Encoding::Binary)
        .unwrap();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
    for _ in 0..300 {
        let mut b = bytes.clone();
        let i = rng.gen_range(0..b.len());
        b[i] ^= 1 << rng.gen_range(0..8);
        let _ = GreedyPolicy::from_bytes(&b);
    }
    let mut state = serde_json::to_value(&policy).unwrap();
    state["q"]["n_actions"] = serde_json::json!(4);
    let forged = amlis::service::persist::encode(
        &state,
        amlis::models::rl::POLICY_KIND,
        amlis::service::persist::Encoding::Json,
    )
    .unwrap();
    assert!(matches!(
        GreedyPolicy::from_bytes(&forged),
        Err(amlis::Error::ModelCorrupt(_))
    ));
    let path = std::env::temp_dir().join(format!("amlis_fqi_{}.amlis", std::process::id()));
    policy.save_file(&path).unwrap();
    assert_eq!(GreedyPolicy::load_file(&path).unwrap(), policy);
    std::fs::remove_file(&path).ok();
}

#[test]
fn bad_parameters_are_named() {
    let logs = mountain_car_logs(10, 4);
    let e = FittedQIteration {
        gamma: 1.5,
        ..Default::default()
    }
    .fit(&logs.transitions(), 3, &FitContext::new())
    .unwrap_err();
    assert!(e.to_string().contains("gamma"), "{e}");
    let e = FittedQIteration::default()
        .with_estimator(serde_json::json!({"type": "logistic_regression"}))
        .unwrap_err();
    assert!(e.to_string().contains("regressor"), "{e}");
    let e = FittedQIteration::default()
        .fit(&logs.transitions(), 2, &FitContext::new())
        .unwrap_err();
    assert!(e.to_string().contains("out of range"), "{e}");
}
