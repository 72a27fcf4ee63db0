"""Supervised-to-bandit comparison: amlis (through its C ABI) against Vowpal Wabbit and MABWiser.

Each row of a classification data set is a context (standardized features plus an intercept),
each class an action, reward 1 when the action is the row's class. Every learner makes one
pass over the rows in the same shuffled order per seed (5 seeds) and the script prints the mean
reward per row, averaged over the seeds, per data set and learner.

    pip install vowpalwabbit==9.11.* mabwiser==2.7.* numpy pandas
    cargo build --release        # or set AMLIS_LIB to a built libamlis.so
    python benches/compare/bandit_compare.py

Learners (same exploration settings where the libraries share them):
- amlis lin_ucb (alpha 0.5, l2_lambda 1), lin_ts (alpha 0.2), lin_greedy (epsilon 0.05);
- VW --cb_explore_adf --epsilon 0.05, and --cb_explore_adf --squarecb (VW's defaults otherwise),
  shared context features interacted with the action (-q sa);
- MABWiser LearningPolicy.LinUCB(alpha=0.5, l2_lambda=1), learning one row at a time.
"""

import ctypes
import os
import sys
import time

import numpy as np
import pandas as pd

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SETS = [("wine.csv", "cultivar"), ("penguins.csv", "species"), ("digits.csv", "digit")]
SEEDS = range(5)


def load(file, target):
    df = pd.read_csv(os.path.join(ROOT, "data", file))
    y = pd.factorize(df[target], sort=True)[0]
    x = df.drop(columns=[target])
    x = pd.get_dummies(x, dtype=float)
    x = x.to_numpy(dtype=float)
    mean = np.nanmean(x, axis=0)
    sd = np.nanstd(x, axis=0)
    sd[sd == 0] = 1
    x = np.where(np.isnan(x), mean, x)
    x = (x - mean) / sd
    return np.hstack([x, np.ones((len(x), 1))]), y


class Amlis:
    def __init__(self):
        path = os.environ.get("AMLIS_LIB") or next(
            p for p in (os.path.join(ROOT, "target", b, "libamlis.so") for b in ("release", "debug"))
            if os.path.exists(p))
        self.lib = ctypes.CDLL(path)
        self.lib.amlis_bandit_new.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_size_t,
                                              ctypes.POINTER(ctypes.c_void_p)]
        self.lib.amlis_bandit_choose.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_double),
                                                 ctypes.c_size_t, ctypes.c_uint64,
                                                 ctypes.POINTER(ctypes.c_size_t),
                                                 ctypes.POINTER(ctypes.c_double), ctypes.c_size_t]
        self.lib.amlis_bandit_update.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_double),
                                                 ctypes.c_size_t, ctypes.c_size_t, ctypes.c_double,
                                                 ctypes.c_double]
        self.lib.amlis_bandit_free.argtypes = [ctypes.c_void_p]

    def run(self, config, x, y, order, seed):
        k, d = int(y.max()) + 1, x.shape[1]
        b = ctypes.c_void_p()
        cfg = config.replace("}}", '}, "random_state": %d}' % seed, 1)
        assert self.lib.amlis_bandit_new(cfg.encode(), k, d, ctypes.byref(b)) == 0, cfg
        pmf = (ctypes.c_double * k)()
        a = ctypes.c_size_t()
        total = 0.0
        for t, i in enumerate(order):
            row = np.ascontiguousarray(x[i])
            ptr = row.ctypes.data_as(ctypes.POINTER(ctypes.c_double))
            assert self.lib.amlis_bandit_choose(b, ptr, d, t, ctypes.byref(a), pmf, k) == 0
            r = float(a.value == y[i])
            assert self.lib.amlis_bandit_update(b, ptr, d, a.value, r, pmf[a.value]) == 0
            total += r
        self.lib.amlis_bandit_free(b)
        return total / len(order)


def vw_run(args, x, y, order, seed):
    import vowpalwabbit
    k = int(y.max()) + 1
    vw = vowpalwabbit.Workspace(f"{args} -q sa --quiet --random_seed {seed}")
    total = 0.0
    for i in order:
        shared = "shared |s " + " ".join(f"f{j}:{v:.6g}" for j, v in enumerate(x[i]))
        lines = [shared] + [f"|a a{c}" for c in range(k)]
        pmf = np.array(vw.predict(lines), dtype=float)
        pmf /= pmf.sum()
        rng = np.random.default_rng((seed, int(i)))
        a = int(rng.choice(k, p=pmf))
        r = float(a == y[i])
        total += r
        lines[1 + a] = f"0:{-r}:{pmf[a]} " + lines[1 + a]
        vw.learn(lines)
    vw.finish()
    return total / len(order)


def mabwiser_run(x, y, order, seed):
    from mabwiser.mab import MAB, LearningPolicy
    k = int(y.max()) + 1
    mab = MAB(arms=list(range(k)), learning_policy=LearningPolicy.LinUCB(alpha=0.5, l2_lambda=1.0),
              seed=seed)
    first = order[0]
    mab.fit(decisions=[0], rewards=[float(y[first] == 0)], contexts=x[[first]])
    total = 0.0
    for i in order[1:]:
        a = mab.predict(x[[i]])
        r = float(a == y[i])
        total += r
        mab.partial_fit(decisions=[a], rewards=[r], contexts=x[[i]])
    return total / (len(order) - 1)


def main():
    amlis = Amlis()
    learners = {
        "amlis lin_ucb": lambda *a: amlis.run('{"policy": {"type": "lin_ucb", "alpha": 0.5}}', *a),
        "amlis lin_ts": lambda *a: amlis.run('{"policy": {"type": "lin_ts", "alpha": 0.2}}', *a),
        "amlis lin_greedy": lambda *a: amlis.run('{"policy": {"type": "lin_greedy", "epsilon": 0.05}}', *a),
        "vw cb_explore_adf epsilon 0.05": lambda *a: vw_run("--cb_explore_adf --epsilon 0.05", *a),
        "vw cb_explore_adf squarecb": lambda *a: vw_run("--cb_explore_adf --squarecb", *a),
        "mabwiser LinUCB": mabwiser_run,
    }
    only = sys.argv[1:]
    for file, target in SETS:
        x, y = load(file, target)
        print(f"{file}: {len(y)} rows, {x.shape[1]} features, {int(y.max()) + 1} actions")
        for name, run in learners.items():
            if only and not any(o in name for o in only):
                continue
            start = time.perf_counter()
            scores = [run(x, y, np.random.default_rng(s).permutation(len(y)), s) for s in SEEDS]
            took = time.perf_counter() - start
            print(f"  {name:<34} mean reward {np.mean(scores):.4f} (sd {np.std(scores):.4f})"
                  f"  {took / len(SEEDS):.2f} s per pass")


if __name__ == "__main__":
    main()
