"""The task table of the side-by-side benchmark: one dict per task. Adding a family is one entry.

Each task has:

- ``name``: the key used by ``--tasks``;
- ``kind``: ``"model"`` (fit + predict + quality), ``"scaler"`` (fit_transform + transform) or
  ``"csv"`` (read a file);
- ``data``: a dataset spec (``classification(...)`` / ``regression(...)``), generated once by
  ``data.py`` and shared by every task with the same spec; or ``csv``: a CSV spec;
- ``rows``: the table rows the task produces, ``{row key: title}``; ``main`` always, plus
  ``batch`` (batch predict on the ``x_batch`` rows), ``latency`` (single-row predict, µs per
  row) and ``array`` (the scaler's array path) when the task asks for them;
- ``amlis``: the amlis training config (``TrainConfig`` JSON) for model tasks; amlis runs
  through ``target/release/examples/compare_runner`` (the library itself). A model type not
  registered in this build is reported as "not yet available";
- ``metrics``: quality metrics, named as ``amlis::metrics::get`` and scikit-learn name them;
- ``libs``: ``{library name: factory}``, where the factory takes ``(threads, seed)`` and
  returns an estimator with scikit-learn's ``fit`` / ``predict`` / ``predict_proba`` (model
  tasks), or, for ``csv`` tasks, a function ``path -> number of rows``.

Sizes are the full-mode sizes; ``--quick`` divides every row count by 10.
"""


def classification(n_train, n_test, n_features, n_batch=0):
    return dict(task="classification", n_train=n_train, n_test=n_test,
                n_features=n_features, n_batch=n_batch)


def regression(n_train, n_test, n_features, n_batch=0):
    return dict(task="regression", n_train=n_train, n_test=n_test,
                n_features=n_features, n_batch=n_batch)


# ---- per-library factories (imports are lazy: a worker imports only its own library) ----

def pandas_read_csv(threads, seed):
    import pandas as pd

    return lambda path: len(pd.read_csv(path))


def sk_standard_scaler(threads, seed):
    from sklearn.preprocessing import StandardScaler

    return StandardScaler()


def sk_logistic(threads, seed):
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=1.0, solver="lbfgs", max_iter=100)


def sk_ridge(threads, seed):
    from sklearn.linear_model import Ridge

    return Ridge(alpha=1.0)


def sk_lasso(threads, seed):
    from sklearn.linear_model import Lasso

    return Lasso(alpha=0.1)


def sk_decision_tree(threads, seed):
    from sklearn.tree import DecisionTreeClassifier

    return DecisionTreeClassifier(max_depth=None, random_state=seed)


def sk_random_forest(threads, seed):
    from sklearn.ensemble import RandomForestClassifier

    return RandomForestClassifier(n_estimators=100, n_jobs=threads, random_state=seed)


# Gradient boosting: 100 iterations, 31 leaves, learning rate 0.1, 255 bins, 20 samples per
# leaf, no L2, early stopping off everywhere. XGBoost has no minimum-samples-per-leaf setting
# (its min_child_weight bounds the hessian sum); it keeps its default.
GBM = dict(iterations=100, leaves=31, learning_rate=0.1, bins=255, min_leaf=20)


def sk_hist_gbm(threads, seed):
    from sklearn.ensemble import HistGradientBoostingClassifier

    return HistGradientBoostingClassifier(
        max_iter=GBM["iterations"], max_leaf_nodes=GBM["leaves"],
        learning_rate=GBM["learning_rate"], max_bins=GBM["bins"],
        min_samples_leaf=GBM["min_leaf"], l2_regularization=0.0,
        early_stopping=False, random_state=seed)


def lightgbm_gbm(threads, seed):
    import lightgbm

    return lightgbm.LGBMClassifier(
        n_estimators=GBM["iterations"], num_leaves=GBM["leaves"],
        learning_rate=GBM["learning_rate"], max_bin=GBM["bins"],
        min_child_samples=GBM["min_leaf"], reg_lambda=0.0,
        num_threads=threads, random_state=seed, verbose=-1)


def xgboost_gbm(threads, seed):
    import xgboost

    return xgboost.XGBClassifier(
        tree_method="hist", grow_policy="lossguide", max_depth=0,
        n_estimators=GBM["iterations"], max_leaves=GBM["leaves"],
        learning_rate=GBM["learning_rate"], max_bin=GBM["bins"], reg_lambda=0.0,
        nthread=threads, random_state=seed)


TASKS = [
    dict(name="csv_diamonds", kind="csv", csv=dict(file="diamonds"),
         rows={"main": "CSV read: diamonds.csv (53,940 × 10, 3 categorical)"},
         libs={"pandas": pandas_read_csv}),
    dict(name="csv_numeric", kind="csv", csv=dict(file="numeric", n_rows=1_000_000, n_cols=20),
         rows={"main": "CSV read: numeric {n_rows} × 20"},
         libs={"pandas": pandas_read_csv}),
    dict(name="standard_scaler", kind="scaler", data=regression(1_000_000, 0, 50),
         rows={"main": "StandardScaler {n_train} × {p}: fit_transform; transform",
               "array": "StandardScaler {n_train} × {p}: transform (amlis array path)"},
         libs={"scikit-learn": sk_standard_scaler}),
    dict(name="logistic_regression", kind="model", data=classification(160_000, 40_000, 50),
         amlis={"model": {"type": "logistic_regression", "C": 1.0, "max_iter": 100}},
         metrics=["accuracy", "roc_auc"],
         rows={"main": "logistic regression (lbfgs, C=1) {n_train} × {p}, predict {n_test}",
               "latency": "logistic regression: single-row predict"},
         libs={"scikit-learn": sk_logistic}),
    dict(name="ridge", kind="model", data=regression(160_000, 40_000, 100),
         amlis={"model": {"type": "ridge", "alpha": 1.0}},
         metrics=["r2"],
         rows={"main": "ridge (alpha=1) {n_train} × {p}, predict {n_test}",
               "latency": "ridge: single-row predict"},
         libs={"scikit-learn": sk_ridge}),
    dict(name="lasso", kind="model", data=regression(80_000, 20_000, 100),
         amlis={"model": {"type": "lasso", "alpha": 0.1}},
         metrics=["r2"],
         rows={"main": "lasso (alpha=0.1) {n_train} × {p}, predict {n_test}"},
         libs={"scikit-learn": sk_lasso}),
    dict(name="decision_tree", kind="model", data=classification(80_000, 20_000, 20),
         amlis={"model": {"type": "decision_tree_classifier"}},
         metrics=["accuracy", "roc_auc"],
         rows={"main": "decision tree (unlimited depth) {n_train} × {p}, predict {n_test}"},
         libs={"scikit-learn": sk_decision_tree}),
    dict(name="random_forest", kind="model", data=classification(80_000, 20_000, 20),
         amlis={"model": {"type": "random_forest_classifier", "n_estimators": 100}},
         metrics=["accuracy", "roc_auc"],
         rows={"main": "random forest (100 trees) {n_train} × {p}, predict {n_test}"},
         libs={"scikit-learn": sk_random_forest}),
    dict(name="gradient_boosting", kind="model",
         data=classification(400_000, 100_000, 50, n_batch=500_000),
         amlis={"model": {"type": "gradient_boosting_classifier", "max_iter": GBM["iterations"],
                          "max_leaf_nodes": GBM["leaves"],
                          "learning_rate": GBM["learning_rate"], "max_bins": GBM["bins"],
                          "min_samples_leaf": GBM["min_leaf"], "early_stopping": False}},
         metrics=["accuracy", "roc_auc"],
         rows={"main": "gradient boosting (100 it, 31 leaves) {n_train} × {p}, predict {n_test}",
               "batch": "gradient boosting: batch predict {n_batch} rows",
               "latency": "gradient boosting: single-row predict"},
         libs={"LightGBM": lightgbm_gbm, "XGBoost (hist)": xgboost_gbm,
               "scikit-learn HGB": sk_hist_gbm}),
]

# Single-row latency: this many rows of the test set, one predict call each (quick: / 10).
LATENCY_ROWS = 10_000


def by_name(name):
    for task in TASKS:
        if task["name"] == name:
            return task
    raise KeyError(f"no task named {name!r}; known: {', '.join(t['name'] for t in TASKS)}")
