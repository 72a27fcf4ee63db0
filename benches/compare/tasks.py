"""The task table of the side-by-side benchmark: one dict per task. Adding a family is one entry.

Each task has:

- ``name``: the key used by ``--tasks``;
- ``kind``: ``"model"`` (fit + predict + quality), ``"unsupervised"`` (fit without a target,
  then one output on the training rows, + quality), ``"scaler"`` (fit_transform + transform)
  or ``"csv"`` (read a file);
- ``data``: a dataset spec (``classification(...)`` (with ``labeled_fraction=f`` for
  semi-supervised tasks: the other training rows are unlabeled) / ``regression(...)`` /
  ``counts(...)``
  (non-negative counts, for multinomial naive Bayes); for unsupervised
  tasks ``blobs(n, d, centers)``, ``moons(n)``, ``outliers(n, d)`` from ``data.py``),
  generated once by ``data.py`` and shared by every task with the same spec; or ``csv``: a
  CSV spec;
- ``rows``: the table rows the task produces, ``{row key: title}``; ``main`` always, plus
  ``batch`` (batch predict on the ``x_batch`` rows), ``latency`` (single-row predict, µs per
  row) and ``array`` (the scaler's array path) when the task asks for them;
- ``amlis``: the amlis training config (``TrainConfig`` JSON) for model tasks; amlis runs
  through ``target/release/examples/compare_runner`` (the library itself). A model type not
  registered in this build is reported as "not yet available";
- ``metrics``: quality metrics, named as ``amlis::metrics::get`` and scikit-learn name them;
  for unsupervised tasks, the quality measures of ``UNSUPERVISED_QUALITY`` (below);
- ``output`` (unsupervised tasks): what is timed after the fit, on the training rows:
  ``"predict"`` (labels), ``"transform"`` (PCA), ``"score"`` (``score_samples``), or
  ``"labels"`` (DBSCAN / HDBSCAN, which have no ``predict`` in scikit-learn: the Python side
  reads ``labels_`` from the fit and times nothing; amlis times ``predict`` on the training
  rows);
- ``libs``: ``{library name: factory}``, where the factory takes ``(threads, seed)`` and
  returns an estimator with scikit-learn's ``fit`` / ``predict`` / ``predict_proba`` (model
  tasks), or, for ``csv`` tasks, a function ``path -> number of rows``.

Sizes are the full-mode sizes; ``--quick`` divides every row count by 10.
"""
from data import blobs, counts, moons, outliers  # noqa: F401  (dataset specs)

# Quality measures of unsupervised tasks, computed outside the timed region the same way on
# both sides (amlis from its outputs and its model file's fields, Python from the
# estimator's attributes and outputs):
UNSUPERVISED_QUALITY = {
    "inertia": "sum of squared distances to the nearest centre (amlis: the model's `inertia`, "
               "scikit-learn: `inertia_`)",
    "n_iter": "iterations of the (best) run (amlis: the model's `n_iter`; `n_iter_`)",
    "ms_per_iter": "fit time / n_iter, in ms",
    "silhouette": "silhouette of the predicted labels on a seeded subsample of 10,000 rows "
                  "(each side its own draw)",
    "ari": "adjusted Rand index of the labels against the planted blobs / moons",
    "n_clusters": "clusters found (labels other than -1)",
    "noise_frac": "share of rows labelled -1",
    "explained_variance": "variance of the transformed training rows over the total variance "
                          "of the rows",
    "mean_log_likelihood": "mean of score_samples on the training rows",
    "roc_auc": "ROC AUC of -score_samples against the planted outliers",
}

# Silhouette subsample (rows); both sides draw their own seeded subsample of this size.
SILHOUETTE_SAMPLE = 10_000


def classification(n_train, n_test, n_features, n_batch=0, labeled_fraction=None):
    """Classification rows; with ``labeled_fraction``, only that share of the training rows
    keeps its label (the others are unlabeled: ``NaN`` for amlis, ``-1`` for scikit-learn)."""
    spec = dict(task="classification", n_train=n_train, n_test=n_test,
                n_features=n_features, n_batch=n_batch)
    if labeled_fraction is not None:
        spec["labeled_fraction"] = labeled_fraction
    return spec


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


# ---- unsupervised (fit without target); equal settings on both sides

def sk_kmeans(threads, seed):
    from sklearn.cluster import KMeans

    return KMeans(n_clusters=8, init="k-means++", n_init=1, max_iter=300, tol=1e-4,
                  algorithm="lloyd", random_state=seed)


def sk_mini_batch_kmeans(threads, seed):
    from sklearn.cluster import MiniBatchKMeans

    return MiniBatchKMeans(n_clusters=8, batch_size=1024, n_init=1, max_iter=100,
                           random_state=seed)


DBSCAN_2D = dict(eps=0.03, min_samples=10)
DBSCAN_10D = dict(eps=3.0, min_samples=10)


def sk_dbscan_2d(threads, seed):
    from sklearn.cluster import DBSCAN

    return DBSCAN(**DBSCAN_2D, n_jobs=threads)


def sk_dbscan_10d(threads, seed):
    from sklearn.cluster import DBSCAN

    return DBSCAN(**DBSCAN_10D, n_jobs=threads)


HDBSCAN_PARAMS = dict(min_cluster_size=50)


def sk_hdbscan(threads, seed):
    from sklearn.cluster import HDBSCAN

    return HDBSCAN(**HDBSCAN_PARAMS, n_jobs=threads)


def pypi_hdbscan(threads, seed):
    """The `hdbscan` package from PyPI, when it is installed in the venv (not pinned: it
    builds from source; `benches/compare/.venv/bin/pip install hdbscan` adds it)."""
    import hdbscan

    return hdbscan.HDBSCAN(**HDBSCAN_PARAMS, core_dist_n_jobs=threads)


def sk_pca(solver):
    def make(threads, seed):
        from sklearn.decomposition import PCA

        return PCA(n_components=10, svd_solver=solver, random_state=seed)
    return make


def sk_incremental_pca(threads, seed):
    from sklearn.decomposition import IncrementalPCA

    return IncrementalPCA(n_components=10, batch_size=5000)


def sk_gaussian_mixture(covariance_type):
    def make(threads, seed):
        from sklearn.mixture import GaussianMixture

        return GaussianMixture(n_components=8, covariance_type=covariance_type, max_iter=100,
                               n_init=1, init_params="kmeans", tol=1e-3, random_state=seed)
    return make


def sk_isolation_forest(threads, seed):
    from sklearn.ensemble import IsolationForest

    return IsolationForest(n_estimators=100, max_samples=256, n_jobs=threads,
                           random_state=seed)


# ---- neighbours, naive Bayes, linear SVMs (issue 14); equal settings on both sides

KNN = dict(n_neighbors=5)


def sk_knn(algorithm):
    def make(threads, seed):
        from sklearn.neighbors import KNeighborsClassifier

        return KNeighborsClassifier(**KNN, algorithm=algorithm, n_jobs=threads)
    return make


def sk_gaussian_nb(threads, seed):
    from sklearn.naive_bayes import GaussianNB

    return GaussianNB()


def sk_multinomial_nb(threads, seed):
    from sklearn.naive_bayes import MultinomialNB

    return MultinomialNB(alpha=1.0)


def sk_linear_svc(threads, seed):
    from sklearn.svm import LinearSVC

    return LinearSVC(C=1.0, random_state=seed)


def supervised_tasks_14():
    # The data of gradient boosting / logistic regression, so that they are generated once.
    big = classification(400_000, 100_000, 50, n_batch=500_000)
    t = []
    for name, algorithm, p, title in (("knn_brute", "brute", 20, "brute"),
                                      ("knn_kd_tree", "kd_tree", 3, "kd-tree")):
        t.append(dict(
            name=name, kind="model", data=classification(50_000, 5_000, p),
            amlis={"model": {"type": "k_neighbors_classifier", **KNN,
                             "algorithm": algorithm}},
            metrics=["accuracy", "roc_auc"],
            rows={"main": f"kNN classifier (k=5, {title}) {{n_train}} × {{p}}, "
                          "predict {n_test}"},
            libs={"scikit-learn": sk_knn(algorithm)}))
    t += [
        dict(name="gaussian_nb", kind="model", data=big,
             amlis={"model": {"type": "gaussian_nb"}},
             metrics=["accuracy", "roc_auc"],
             rows={"main": "GaussianNB {n_train} × {p}, predict {n_test}",
                   "batch": "GaussianNB: batch predict {n_batch} rows",
                   "latency": "GaussianNB: single-row predict"},
             libs={"scikit-learn": sk_gaussian_nb}),
        dict(name="multinomial_nb", kind="model", data=counts(400_000, 100_000, 50, n_classes=2),
             amlis={"model": {"type": "multinomial_nb", "alpha": 1.0}},
             metrics=["accuracy", "roc_auc"],
             rows={"main": "MultinomialNB (counts) {n_train} × {p}, predict {n_test}",
                   "latency": "MultinomialNB: single-row predict"},
             libs={"scikit-learn": sk_multinomial_nb}),
        dict(name="linear_svc", kind="model", data=classification(160_000, 40_000, 50),
             amlis={"model": {"type": "linear_svc", "C": 1.0}},
             metrics=["accuracy"],
             rows={"main": "LinearSVC (squared hinge, C=1) {n_train} × {p}, predict {n_test}",
                   "latency": "LinearSVC: single-row predict"},
             libs={"scikit-learn": sk_linear_svc}),
    ]
    return t


# Kernel SVMs: scikit-learn's defaults on both sides (rbf, gamma "scale", tol 1e-3, 200 MB
# kernel cache, shrinking).
SVM = dict(C=1.0, kernel="rbf", gamma="scale", tol=1e-3, cache_size=200.0)


def sk_svc(threads, seed):
    from sklearn.svm import SVC

    return SVC(**SVM, random_state=seed)


def sk_svr(threads, seed):
    from sklearn.svm import SVR

    return SVR(**SVM, epsilon=0.1)


def svm_tasks():
    return [
        dict(name="svc_rbf", kind="model", data=classification(20_000, 5_000, 20),
             amlis={"model": {"type": "svc", **SVM}},
             metrics=["accuracy"],
             rows={"main": "SVC (rbf, C=1) {n_train} × {p}, predict {n_test}"},
             libs={"scikit-learn": sk_svc}),
        dict(name="svc_rbf_50k", kind="model", data=classification(50_000, 5_000, 20),
             amlis={"model": {"type": "svc", **SVM}},
             metrics=["accuracy"],
             rows={"main": "SVC (rbf, C=1) {n_train} × {p}, predict {n_test}"},
             libs={"scikit-learn": sk_svc}),
        dict(name="svr_rbf", kind="model", data=regression(20_000, 5_000, 20),
             amlis={"model": {"type": "svr", **SVM, "epsilon": 0.1}},
             metrics=["r2"],
             rows={"main": "SVR (rbf, C=1, epsilon=0.1) {n_train} × {p}, predict {n_test}"},
             libs={"scikit-learn": sk_svr}),
    ]


# ---- semi-supervised (issue 15); 5 % of the training rows labelled, equal settings.
# The rbf graph's gamma is set for make_classification's scale (squared distances of some
# 2 · p), where the default 20 would underflow every off-diagonal weight.
SPREAD_KNN = dict(kernel="knn", n_neighbors=7, alpha=0.2, max_iter=30, tol=1e-3)
SPREAD_RBF = dict(kernel="rbf", gamma=0.05, alpha=0.2, max_iter=30, tol=1e-3)
SELF_TRAINING = dict(threshold=0.75, criterion="threshold", max_iter=10)


def sk_label_spreading(params):
    def make(threads, seed):
        from sklearn.semi_supervised import LabelSpreading

        return LabelSpreading(**params, n_jobs=threads)
    return make


def sk_self_training_logistic(threads, seed):
    from sklearn.linear_model import LogisticRegression
    from sklearn.semi_supervised import SelfTrainingClassifier

    return SelfTrainingClassifier(LogisticRegression(C=1.0, solver="lbfgs", max_iter=100),
                                  **SELF_TRAINING)


def semi_supervised_tasks():
    return [
        dict(name="label_spreading_knn", kind="model",
             data=classification(70_000, 10_000, 50, labeled_fraction=0.05),
             amlis={"model": {"type": "label_spreading", **SPREAD_KNN}},
             metrics=["accuracy", "roc_auc"],
             rows={"main": "label spreading (knn, 7 neighbours) {n_train} × {p}, 5 % labelled, "
                           "predict {n_test}"},
             libs={"scikit-learn": sk_label_spreading(SPREAD_KNN)}),
        dict(name="label_spreading_rbf", kind="model",
             data=classification(5_000, 1_000, 20, labeled_fraction=0.05),
             amlis={"model": {"type": "label_spreading", **SPREAD_RBF}},
             metrics=["accuracy", "roc_auc"],
             rows={"main": "label spreading (rbf, gamma=0.05) {n_train} × {p}, 5 % labelled, "
                           "predict {n_test}"},
             libs={"scikit-learn": sk_label_spreading(SPREAD_RBF)}),
        dict(name="self_training_logistic", kind="model",
             data=classification(100_000, 20_000, 20, labeled_fraction=0.05),
             amlis={"model": {"type": "self_training_classifier", **SELF_TRAINING,
                              "estimator": {"type": "logistic_regression", "C": 1.0,
                                            "max_iter": 100}}},
             metrics=["accuracy", "roc_auc"],
             rows={"main": "self-training (logistic regression, threshold 0.75) "
                           "{n_train} × {p}, 5 % labelled, predict {n_test}"},
             libs={"scikit-learn": sk_self_training_logistic}),
    ]


def unsupervised_tasks():
    # cluster_std 4: overlapping blobs, so that k-means runs some 30 iterations (not 2).
    km = blobs(500_000, 20, centers=8, cluster_std=4.0)
    pca_data = blobs(200_000, 100, centers=8)
    gm_data = blobs(100_000, 10, centers=8)
    t = [
        dict(name="k_means", kind="unsupervised", data=km, output="predict",
             amlis={"model": {"type": "k_means", "n_clusters": 8, "init": "k-means++",
                              "n_init": 1, "max_iter": 300, "tol": 1e-4,
                              "algorithm": "lloyd"}},
             metrics=["inertia", "n_iter", "ms_per_iter", "silhouette", "ari"],
             rows={"main": "k-means (k=8, lloyd, n_init=1) {n_train} × {p}, predict {n_train}"},
             libs={"scikit-learn": sk_kmeans}),
        dict(name="mini_batch_k_means", kind="unsupervised", data=km, output="predict",
             amlis={"model": {"type": "mini_batch_k_means", "n_clusters": 8,
                              "batch_size": 1024, "n_init": 1, "max_iter": 100}},
             metrics=["inertia", "n_iter", "silhouette", "ari"],
             rows={"main": "mini-batch k-means (k=8, batch 1024) {n_train} × {p}, "
                           "predict {n_train}"},
             libs={"scikit-learn": sk_mini_batch_kmeans}),
        dict(name="dbscan_2d", kind="unsupervised", data=moons(100_000), output="labels",
             amlis={"model": {"type": "dbscan", **DBSCAN_2D}},
             metrics=["n_clusters", "noise_frac", "ari"],
             rows={"main": "DBSCAN (eps=0.03, min_samples=10) moons {n_train} × 2"},
             libs={"scikit-learn": sk_dbscan_2d}),
        dict(name="dbscan_10d", kind="unsupervised", data=blobs(100_000, 10, centers=8),
             output="labels", amlis={"model": {"type": "dbscan", **DBSCAN_10D}},
             metrics=["n_clusters", "noise_frac", "ari"],
             rows={"main": "DBSCAN (eps=3, min_samples=10) blobs {n_train} × {p}"},
             libs={"scikit-learn": sk_dbscan_10d}),
        dict(name="hdbscan", kind="unsupervised", data=blobs(50_000, 10, centers=8),
             output="labels", amlis={"model": {"type": "hdbscan", **HDBSCAN_PARAMS}},
             metrics=["n_clusters", "noise_frac", "ari"],
             rows={"main": "HDBSCAN (min_cluster_size=50) blobs {n_train} × {p}"},
             libs={"scikit-learn": sk_hdbscan, "hdbscan (PyPI)": pypi_hdbscan}),
    ]
    for solver in ("full", "randomized"):
        t.append(dict(
            name=f"pca_{solver}", kind="unsupervised", data=pca_data, output="transform",
            amlis={"model": {"type": "pca", "n_components": 10, "svd_solver": solver}},
            metrics=["explained_variance"],
            rows={"main": f"PCA ({solver}, 10 components) {{n_train}} × {{p}}, "
                          "transform {n_train}"},
            libs={"scikit-learn": sk_pca(solver)}))
    t.append(dict(
        name="incremental_pca", kind="unsupervised", data=pca_data, output="transform",
        amlis={"model": {"type": "incremental_pca", "n_components": 10, "batch_size": 5000}},
        metrics=["explained_variance"],
        rows={"main": "incremental PCA (10 components, batch 5000) {n_train} × {p}, "
                      "transform {n_train}"},
        libs={"scikit-learn": sk_incremental_pca}))
    for ct in ("full", "tied", "diag", "spherical"):
        t.append(dict(
            name=f"gaussian_mixture_{ct}", kind="unsupervised", data=gm_data, output="predict",
            amlis={"model": {"type": "gaussian_mixture", "n_components": 8,
                             "covariance_type": ct, "max_iter": 100, "n_init": 1,
                             "init_params": "kmeans", "tol": 1e-3}},
            metrics=["mean_log_likelihood", "n_iter", "ms_per_iter", "ari"],
            rows={"main": f"Gaussian mixture (8 components, {ct}) {{n_train}} × {{p}}, "
                          "predict {n_train}"},
            libs={"scikit-learn": sk_gaussian_mixture(ct)}))
    t.append(dict(
        name="isolation_forest", kind="unsupervised", data=outliers(200_000, 10),
        output="score",
        amlis={"model": {"type": "isolation_forest", "n_estimators": 100, "max_samples": 256}},
        metrics=["roc_auc"],
        rows={"main": "isolation forest (100 trees, 256 samples) {n_train} × {p}, "
                      "score_samples {n_train}"},
        libs={"scikit-learn": sk_isolation_forest}))
    return t


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
    *supervised_tasks_14(),
    *svm_tasks(),
    *semi_supervised_tasks(),
    *unsupervised_tasks(),
]

# Single-row latency: this many rows of the test set, one predict call each (quick: / 10).
LATENCY_ROWS = 10_000


def by_name(name):
    for task in TASKS:
        if task["name"] == name:
            return task
    raise KeyError(f"no task named {name!r}; known: {', '.join(t['name'] for t in TASKS)}")
