//! Bandit latency: one `choose` + `update` of LinUCB with 10 actions x 50 features (the
//! issue's target is under 2 µs), through the C ABI (`amlis_bandit_choose` +
//! `amlis_bandit_update`, the calls a C program makes), on the thread-safe `Bandit` handle
//! and on the bare policy.
//!
//!     cargo bench --bench bandit

use amlis::models::bandit::{BanditSpec, LinUcb, Policy, StartPolicy};
use amlis::service::bandit::Bandit;
use amlis::service::ffi;
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
    // The same through the C ABI: the exported functions a C caller links to.
    let config = std::ffi::CString::new(r#"{"policy": {"type": "lin_ucb"}}"#).unwrap();
    let mut handle = std::ptr::null_mut();
    // SAFETY: a NUL-terminated config and a writable handle slot.
    let status = unsafe { ffi::amlis_bandit_new(config.as_ptr(), k, d, &mut handle) };
    assert_eq!(status, ffi::AmlisStatus::AMLIS_OK);
    c.bench_function("lin_ucb choose+update 10x50 (C ABI)", |b| {
        b.iter(|| {
            let x = &xs[(t % 1024) as usize];
            let mut a = 0usize;
            // SAFETY: a live handle, a context of d values, a pmf buffer of k values.
            unsafe {
                let s1 =
                    ffi::amlis_bandit_choose(handle, x.as_ptr(), d, t, &mut a, pmf.as_mut_ptr(), k);
                let r = f64::from(a == (t % 10) as usize);
                let s2 = ffi::amlis_bandit_update(handle, x.as_ptr(), d, a, r, pmf[a]);
                assert!(s1 == ffi::AmlisStatus::AMLIS_OK && s2 == ffi::AmlisStatus::AMLIS_OK);
            }
            t += 1;
            black_box(a)
        })
    });
    // SAFETY: the live handle, freed once.
    unsafe { ffi::amlis_bandit_free(handle) };
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
