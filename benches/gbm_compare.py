"""Side-by-side gradient boosting: amlis vs LightGBM, XGBoost (hist) and scikit-learn HGB.

Same data (make_classification(500000, 50, n_informative=10, random_state=0); the first 80%
train, the rest test), same hyperparameters (100 iterations, 31 leaves, learning rate 0.1,
min 20 rows per leaf, 255 bins), 2 threads. Each library runs in its own process under
/usr/bin/time -v for its peak memory (max RSS).

    cargo build --release --example gbm_bench
    /work/venv/bin/python benches/gbm_compare.py [rows]

Writes the data once to target/bench-data/gbm_{x,y}.f64 (raw little-endian f64, row-major).
"""

import json
import os
import re
import subprocess
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
DATA = os.path.join(ROOT, "target", "bench-data")
THREADS = 2

RUNNER = r"""
import json, sys, time, numpy as np
from sklearn.metrics import roc_auc_score
lib, n = sys.argv[1], int(sys.argv[2])
x = np.fromfile(sys.argv[3] + "/gbm_x.f64", dtype="<f8").reshape(-1, 50)[:n]
y = np.fromfile(sys.argv[3] + "/gbm_y.f64", dtype="<f8")[:n]
nt = n * 4 // 5
xt, yt = x[:nt], y[:nt]
if lib == "lightgbm":
    import lightgbm as lgb
    m = lgb.LGBMClassifier(n_estimators=100, num_leaves=31, learning_rate=0.1,
                           min_child_samples=20, max_bin=255, num_threads=2, verbose=-1)
elif lib == "xgboost":
    import xgboost as xgb
    m = xgb.XGBClassifier(n_estimators=100, tree_method="hist", max_leaves=31, max_depth=0,
                          grow_policy="lossguide", learning_rate=0.1, max_bin=256, nthread=2)
else:
    from sklearn.ensemble import HistGradientBoostingClassifier
    m = HistGradientBoostingClassifier(max_iter=100, max_leaf_nodes=31, learning_rate=0.1,
                                       min_samples_leaf=20, max_bins=255, early_stopping=False)
t = time.perf_counter(); m.fit(xt, yt); fit = time.perf_counter() - t
t = time.perf_counter(); p = m.predict_proba(x)[:, 1]; pred = time.perf_counter() - t
auc = roc_auc_score(y[nt:], p[nt:])
print(json.dumps(dict(library=lib, fit_s=round(fit, 3), predict_s=round(pred, 3),
                      predict_rows=n, auc=round(auc, 5), n_train=nt, threads=2)))
"""


def write_data():
    if os.path.exists(os.path.join(DATA, "gbm_y.f64")):
        return
    import numpy as np
    from sklearn.datasets import make_classification
    os.makedirs(DATA, exist_ok=True)
    x, y = make_classification(n_samples=500000, n_features=50, n_informative=10,
                               random_state=0)
    x.astype("<f8").tofile(os.path.join(DATA, "gbm_x.f64"))
    y.astype("<f8").tofile(os.path.join(DATA, "gbm_y.f64"))


def timed(cmd, env):
    r = subprocess.run(["/usr/bin/time", "-v"] + cmd, capture_output=True, text=True, env=env)
    if r.returncode != 0:
        raise SystemExit(f"{cmd} failed: {r.stderr[-2000:]}")
    out = json.loads(r.stdout.strip().splitlines()[-1])
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", r.stderr)
    out["max_rss_mb"] = round(int(rss.group(1)) / 1024, 1) if rss else None
    return out


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 500000
    write_data()
    env = dict(os.environ, OMP_NUM_THREADS=str(THREADS), RAYON_NUM_THREADS=str(THREADS))
    results = [timed([os.path.join(ROOT, "target", "release", "examples", "gbm_bench"), str(n),
                      str(THREADS)], dict(env, AMLIS_BENCH_DATA=DATA))]
    print(json.dumps(results[-1]), flush=True)
    for lib in ["lightgbm", "xgboost", "sklearn"]:
        results.append(timed([sys.executable, "-c", RUNNER, lib, str(n), DATA], env))
        print(json.dumps(results[-1]), flush=True)
    print("ratios:", flush=True)
    lgb = next(r for r in results if r["library"] == "lightgbm")
    xgb = next(r for r in results if r["library"] == "xgboost")
    for r in results:
        r["fit_vs_lightgbm"] = round(r["fit_s"] / lgb["fit_s"], 3)
        r["predict_vs_xgboost"] = round(r["predict_s"] / xgb["predict_s"], 3)
        print(json.dumps(r))


if __name__ == "__main__":
    main()
