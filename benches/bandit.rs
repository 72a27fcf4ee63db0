//! Bandit latency: one `choose` + `update` of LinUCB with 10 actions x 50 features (the
//! issue's target is under 2 µs), on the thread-safe `Bandit` handle and on the bare policy.
//!
//!     cargo bench --bench bandit

use amlis::models::bandit::{BanditSpec, LinUcb, Policy, StartPolicy};
use amlis::service::bandit::Bandit;
use criterion::{black_box, criterion_group, criterion_main, Criterion};

fn contexts(n: usize, d: usize) -> Vec<Vec<f64>> {
    (0..n)
        .map(|i| {
            (0..d)
                .map(|j| (((i * 31 + j * 17) % 23) as f64) / 11.0 - 1.0)
                .collect()
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let (k, d) = (10, 50);
    let xs = contexts(1024, d);
    let bandit = Bandit::from_json(r#"{"policy": {"type": "lin_ucb"}}"#, k, d).unwrap();
    let mut pmf = vec![0.0; k];
    let mut t = 0u64;
    c.bench_function("lin_ucb choose+update 10x50 (Bandit handle)", |b| {
        b.iter(|| {
            let x = &xs[(t % 1024) as usize];
            let a = bandit.choose(x, t, &[], &mut pmf).unwrap();
            bandit
                .update(x, a, f64::from(a == (t % 10) as usize), pmf[a])
                .unwrap();
            t += 1;
            black_box(a)
        })
    });
    let mut policy = LinUcb::default().start(&BanditSpec::new(k, d)).unwrap();
    c.bench_function("lin_ucb choose 10x50", |b| {
        b.iter(|| {
            let x = &xs[(t % 1024) as usize];
            t += 1;
            black_box(policy.choose_into(x, t, &[], &mut pmf).unwrap())
        })
    });
    c.bench_function("lin_ucb update 10x50", |b| {
        b.iter(|| {
            let x = &xs[(t % 1024) as usize];
            t += 1;
            policy.update(x, (t % 10) as usize, 1.0, 0.1).unwrap();
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
