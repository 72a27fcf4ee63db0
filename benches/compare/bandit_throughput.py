"""LinUCB learning throughput on one logged stream: amlis (through its C ABI) against MABWiser's
LinUCB and Vowpal Wabbit's contextual bandit (10 actions, 50 features, the issue's size).

The stream: contexts N(0, 1) of 50 features, 10 actions chosen uniformly at random (the
logging policy, propensity 0.1), reward x . theta_a + N(0, 0.1) for a fixed random theta per
action. Each library learns every logged row once, and the script prints updates per second:

- batch: the whole log in one call where the library has one (amlis_bandit_partial_fit from C;
  MABWiser's partial_fit on arrays) - VW has no batch call from Python, so its row is per row;
- online: choose then update, one row at a time, from Python (amlis_bandit_choose +
  amlis_bandit_update through ctypes; MABWiser predict + partial_fit of one row; VW predict +
  learn of one multi-line example), on the first rows of the stream. The Python call overhead
  counts here for every library; the C-side latency of amlis is `cargo bench --bench bandit`.

    pip install vowpalwabbit mabwiser numpy
    cargo build --release        # or set AMLIS_LIB to a built libamlis.so
    python benches/compare/bandit_throughput.py [n_rows] [n_online]
"""

import ctypes
import os
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
K, D = 10, 50


def stream(n, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, D))
    theta = rng.standard_normal((K, D)) / np.sqrt(D)
    actions = rng.integers(0, K, n)
    rewards = np.einsum("ij,ij->i", x, theta[actions]) + 0.1 * rng.standard_normal(n)
    return np.ascontiguousarray(x), actions, rewards


def lib():
    path = os.environ.get("AMLIS_LIB") or next(
        p for p in (os.path.join(ROOT, "target", b, "libamlis.so") for b in ("release", "debug"))
        if os.path.exists(p))
    lib = ctypes.CDLL(path)
    dp = ctypes.POINTER(ctypes.c_double)
    lib.amlis_bandit_new.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_size_t,
                                     ctypes.POINTER(ctypes.c_void_p)]
    lib.amlis_bandit_choose.argtypes = [ctypes.c_void_p, dp, ctypes.c_size_t, ctypes.c_uint64,
                                        ctypes.POINTER(ctypes.c_size_t), dp, ctypes.c_size_t]
    lib.amlis_bandit_update.argtypes = [ctypes.c_void_p, dp, ctypes.c_size_t, ctypes.c_size_t,
                                        ctypes.c_double, ctypes.c_double]
    lib.amlis_bandit_partial_fit.argtypes = [ctypes.c_void_p, dp, ctypes.c_size_t,
                                             ctypes.c_size_t, ctypes.POINTER(ctypes.c_size_t),
                                             dp, dp]
    lib.amlis_bandit_free.argtypes = [ctypes.c_void_p]
    return lib, path


def amlis_new(lib):
    b = ctypes.c_void_p()
    cfg = b'{"policy": {"type": "lin_ucb", "alpha": 1.0, "l2_lambda": 1.0}}'
    assert lib.amlis_bandit_new(cfg, K, D, ctypes.byref(b)) == 0
    return b


def amlis_batch(lib, x, actions, rewards):
    b = amlis_new(lib)
    dp = ctypes.POINTER(ctypes.c_double)
    acts = np.ascontiguousarray(actions, dtype=np.uintp)
    probs = np.full(len(actions), 1.0 / K)
    r = np.ascontiguousarray(rewards, dtype=float)
    start = time.perf_counter()
    st = lib.amlis_bandit_partial_fit(b, x.ctypes.data_as(dp), len(acts), D,
                                      acts.ctypes.data_as(ctypes.POINTER(ctypes.c_size_t)),
                                      r.ctypes.data_as(dp), probs.ctypes.data_as(dp))
    took = time.perf_counter() - start
    assert st == 0
    lib.amlis_bandit_free(b)
    return took


def amlis_online(lib, x, actions, rewards):
    b = amlis_new(lib)
    dp = ctypes.POINTER(ctypes.c_double)
    pmf = (ctypes.c_double * K)()
    a = ctypes.c_size_t()
    rows = [x[i].ctypes.data_as(dp) for i in range(len(x))]
    start = time.perf_counter()
    for t, ptr in enumerate(rows):
        lib.amlis_bandit_choose(b, ptr, D, t, ctypes.byref(a), pmf, K)
        lib.amlis_bandit_update(b, ptr, D, int(actions[t]), float(rewards[t]), 0.1)
    took = time.perf_counter() - start
    lib.amlis_bandit_free(b)
    return took


def mabwiser(x, actions, rewards, online):
    from mabwiser.mab import MAB, LearningPolicy
    mab = MAB(arms=list(range(K)), learning_policy=LearningPolicy.LinUCB(alpha=1.0, l2_lambda=1.0),
              seed=0)
    mab.fit(decisions=[0], rewards=[0.0], contexts=np.zeros((1, D)))
    start = time.perf_counter()
    if online:
        for i in range(len(x)):
            mab.predict(x[i:i + 1])
            mab.partial_fit(decisions=[int(actions[i])], rewards=[float(rewards[i])],
                            contexts=x[i:i + 1])
    else:
        mab.partial_fit(decisions=actions.tolist(), rewards=rewards.tolist(), contexts=x)
    return time.perf_counter() - start


def vw(x, actions, rewards, online):
    import vowpalwabbit
    w = vowpalwabbit.Workspace("--cb_explore_adf --epsilon 0.05 -q sa --quiet --random_seed 0")
    examples = []
    for i in range(len(x)):
        shared = "shared |s " + " ".join(f"f{j}:{v:.6g}" for j, v in enumerate(x[i]))
        lines = [shared] + [f"|a a{c}" for c in range(K)]
        # VW minimizes cost: the cost of the logged action is -reward.
        lines[1 + int(actions[i])] = f"0:{-rewards[i]:.6g}:0.1 " + lines[1 + int(actions[i])]
        examples.append(lines)
    start = time.perf_counter()
    for lines in examples:
        if online:
            w.predict(lines)
        w.learn(lines)
    took = time.perf_counter() - start
    w.finish()
    return took


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    n_online = int(sys.argv[2]) if len(sys.argv) > 2 else 5_000
    x, actions, rewards = stream(n)
    amlis, path = lib()
    print(f"LinUCB-style learning, {K} actions x {D} features; amlis from {path}")
    rows = [
        ("amlis partial_fit (C, one call)", n, amlis_batch(amlis, x, actions, rewards)),
        ("MABWiser LinUCB partial_fit (one call)", n, mabwiser(x, actions, rewards, False)),
        ("VW cb_explore_adf learn (per row)", n, vw(x, actions, rewards, False)),
        ("amlis choose+update (ctypes, per row)", n_online,
         amlis_online(amlis, x[:n_online], actions, rewards)),
        ("MABWiser predict+partial_fit (per row)", n_online,
         mabwiser(x[:n_online], actions, rewards, True)),
        ("VW predict+learn (per row)", n_online, vw(x[:n_online], actions, rewards, True)),
    ]
    print(f"{'learner':<42} {'rows':>8} {'seconds':>9} {'updates/s':>12}")
    for name, m, took in rows:
        print(f"{name:<42} {m:>8} {took:>9.3f} {m / took:>12,.0f}")


if __name__ == "__main__":
    main()
