"""scikit-learn side of benches/logistic.rs: the same 160,000 x 50 rows (written by
`cargo bench --bench logistic` to target/bench-data/), LogisticRegression(lbfgs) fit time,
median of 5, and predict_proba on 200,000 rows (the first 160,000 rows + 40,000 again).

    OMP_NUM_THREADS=2 /work/venv/bin/python benches/logistic_sklearn.py
"""

import time

import numpy as np
from sklearn.linear_model import LogisticRegression

x = np.fromfile("target/bench-data/logistic_x.f64", dtype="<f8").reshape(160_000, 50)
y = np.fromfile("target/bench-data/logistic_y.f64", dtype="<f8")

times = []
for _ in range(5):
    t = time.perf_counter()
    clf = LogisticRegression().fit(x, y)
    times.append(time.perf_counter() - t)
print(f"sklearn fit lbfgs 160000x50: median {np.median(times):.4f} s  (all {np.round(times, 4)})")
print(f"  n_iter {clf.n_iter_[0]}  train accuracy {clf.score(x, y):.5f}")

xp = np.vstack([x, x[:40_000]])
times = []
for _ in range(5):
    t = time.perf_counter()
    clf.predict_proba(xp)
    times.append(time.perf_counter() - t)
print(f"sklearn predict_proba 200000x50: median {np.median(times) * 1e3:.2f} ms")
