"""scikit-learn side of benches/linear.rs: the same data (written by the Rust bench under
target/bench-data/), the same fits, median of 5 timings.

    OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2 /work/venv/bin/python benches/linear_sklearn.py
"""
import os
import time

import numpy as np
from sklearn.linear_model import Lasso, Ridge

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(ROOT, "target", "bench-data")


def load(name, n, p):
    x = np.fromfile(os.path.join(DATA, f"linear_{name}_x.f64"), dtype="<f8").reshape(n, p)
    y = np.fromfile(os.path.join(DATA, f"linear_{name}_y.f64"), dtype="<f8")
    return x, y


def median_time(fit, repeats=5):
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        model = fit()
        times.append(time.perf_counter() - t)
    return float(np.median(times)), model


x, y = load("ridge", 160_000, 100)
t, m = median_time(lambda: Ridge(alpha=1.0).fit(x, y))
print(f"sklearn Ridge 160000x100: {t * 1000:.1f} ms (solver {m.solver_ if hasattr(m, 'solver_') else 'auto'})")
x, y = load("lasso", 80_000, 100)
t, m = median_time(lambda: Lasso(alpha=0.1).fit(x, y))
print(f"sklearn Lasso(alpha=0.1) 80000x100: {t * 1000:.1f} ms (n_iter {m.n_iter_}, nnz {np.count_nonzero(m.coef_)})")
print("coef[:3]", m.coef_[:3], "intercept", m.intercept_)
