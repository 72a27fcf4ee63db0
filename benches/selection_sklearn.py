"""scikit-learn's side of benches/selection.rs: GridSearchCV on diamonds with the same
pipeline (imputer, one-hot, scaler, dummy regressor) and grid, 5-fold unshuffled KFold, r2.

Run from the crate root: /work/venv/bin/python benches/selection_sklearn.py
Prints the median of 10 runs with n_jobs=1 and n_jobs=-1.
"""
import time

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.dummy import DummyRegressor
from sklearn.impute import SimpleImputer
from sklearn.model_selection import GridSearchCV, KFold, cross_validate
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

MODEL = DummyRegressor(quantile=0.5)  # one line to change
GRID = {"model__strategy": ["mean", "median", "quantile"],
        "prep__num__strategy": ["mean", "median"]}  # one line to change

df = pd.read_csv("data/diamonds.csv")
y = df.pop("price").to_numpy()
num = list(df.select_dtypes("number").columns)
cat = [c for c in df.columns if c not in num]
prep = ColumnTransformer([("num", SimpleImputer(), num),
                          ("cat", OneHotEncoder(handle_unknown="ignore"), cat)])
pipe = Pipeline([("prep", prep), ("scale", StandardScaler(with_mean=False)), ("model", MODEL)])


def median_time(f, runs=10):
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        f()
        times.append(time.perf_counter() - t)
    return float(np.median(times))


for n_jobs in (1, -1):
    gs = GridSearchCV(pipe, GRID, cv=KFold(5), scoring="r2", refit=False, n_jobs=n_jobs)
    print(f"GridSearchCV diamonds 6 candidates x 5 folds, n_jobs={n_jobs}: "
          f"{median_time(lambda: gs.fit(df, y)) * 1e3:.1f} ms")
cv = lambda: cross_validate(pipe.set_params(model__strategy="mean"), df, y, cv=KFold(5), scoring="r2")
print(f"cross_validate diamonds 5 folds: {median_time(cv) * 1e3:.1f} ms")
