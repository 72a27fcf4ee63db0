"""Deterministic benchmark data, generated once and reused across runs.

Model and scaler data: scikit-learn's ``make_classification`` / ``make_regression`` with
``random_state=0``, split in order into train / test / batch rows, written as raw
little-endian f64, row-major (``x_train.f64``, ``y_train.f64``, ``x_test.f64``, ...) plus a
``meta.json`` shape header, in ``benches/compare/data/<spec>/``. Both sides read these files.

Unsupervised data (training rows only; ``y_train.f64`` holds what was planted, for quality
only, never given to a fit):

- ``blobs``: ``make_blobs(n, d, centers, cluster_std)``, ``y`` = the true blob;
- ``moons``: ``make_moons(n, noise)`` (2-D), ``y`` = the moon;
- ``outliers``: ``make_blobs`` inliers plus a ``contamination`` fraction of rows drawn
  uniformly over the inliers' bounding box widened by 20 %, shuffled; ``y`` = 1 for a planted
  outlier, 0 for an inlier.

Semi-supervised data: a ``classification`` spec with ``labeled_fraction`` keeps the target of
that share of the training rows (a seeded draw, ``default_rng(0)``) and stores ``NaN`` for the
others: amlis reads a ``NaN`` classification target as unlabeled, the Python worker passes
``-1`` (scikit-learn's unlabeled marker). Test rows keep every label (quality only).

Count data (``counts``, classification on non-negative counts for multinomial naive Bayes):
per-class word distributions drawn from Dirichlet(3000 · a shared distribution), Poisson(100)
row lengths, multinomial draws, seeded with 0.

CSV data: ``data/diamonds.csv`` as shipped; the numeric file has the layout of
``benches/csv_read.rs`` (columns ``c0..c19``: even columns decimals with 4 places in
[-1000, 1000), odd ones integers in [0, 100000), ``c19`` 6 places in [0, 1)). In full mode the
file that bench already wrote (``target/bench-data/numeric_1m_20.csv``) is reused when present.
"""
import json
import os
import shutil

import numpy as np


def dataset_dir(root, spec):
    s = spec
    base = (f"{s['task']}_{s['n_train']}x{s['n_features']}"
            f"_test{s['n_test']}_batch{s['n_batch']}")
    extra = sorted(k for k in s if k not in ("task", "n_train", "n_features", "n_test",
                                             "n_batch", "dir"))
    return os.path.join(root, base + "".join(f"_{k}{s[k]}" for k in extra))


def write_f64(path, arr):
    np.ascontiguousarray(arr, dtype="<f8").tofile(path)


def ensure_dataset(root, spec):
    """Generates the arrays of ``spec`` unless a matching ``meta.json`` is already there."""
    d = dataset_dir(root, spec)
    meta_path = os.path.join(d, "meta.json")
    if os.path.exists(meta_path):
        with open(meta_path) as f:
            if json.load(f).get("spec") == spec:
                return d
    from sklearn.datasets import make_blobs, make_classification, make_moons, make_regression

    n = spec["n_train"] + spec["n_test"] + spec["n_batch"]
    p = spec["n_features"]
    if spec["task"] == "blobs":
        gen = dict(n_samples=n, n_features=p, centers=spec["centers"],
                   cluster_std=spec["cluster_std"], random_state=0)
        x, y = make_blobs(**gen)
        generator = "sklearn.datasets.make_blobs"
    elif spec["task"] == "moons":
        gen = dict(n_samples=n, noise=spec["noise"], random_state=0)
        x, y = make_moons(**gen)
        generator = "sklearn.datasets.make_moons"
    elif spec["task"] == "outliers":
        n_out = int(round(n * spec["contamination"]))
        gen = dict(n_samples=n - n_out, n_features=p, centers=spec["centers"], random_state=0)
        inliers, _ = make_blobs(**gen)
        rng = np.random.default_rng(0)
        lo, hi = inliers.min(axis=0), inliers.max(axis=0)
        pad = 0.2 * (hi - lo)
        outliers = rng.uniform(lo - pad, hi + pad, size=(n_out, p))
        x = np.vstack([inliers, outliers])
        y = np.r_[np.zeros(n - n_out), np.ones(n_out)]
        order = rng.permutation(n)
        x, y = x[order], y[order]
        generator = "sklearn.datasets.make_blobs + uniform outliers"
    elif spec["task"] == "counts":
        # Word-count-like rows: each class has its own word distribution, a Dirichlet draw
        # close to one shared distribution (so that the classes overlap), each row a
        # Poisson(100) length of multinomial draws from its class's distribution.
        rng = np.random.default_rng(0)
        k = spec["n_classes"]
        gen = dict(n_samples=n, n_features=p, n_classes=k, mean_length=100, seed=0)
        shared = rng.dirichlet(np.ones(p))
        word_p = rng.dirichlet(3000.0 * shared, size=k)
        y = rng.integers(0, k, size=n)
        lengths = rng.poisson(100, size=n)
        x = rng.multinomial(lengths, word_p[y]).astype(np.float64)
        generator = ("numpy multinomial counts (per-class Dirichlet(3000 · shared) words, "
                     "Poisson(100) lengths)")
    elif spec["task"] == "classification":
        gen = dict(n_samples=n, n_features=p, n_informative=max(2, p // 2),
                   n_redundant=p // 10, random_state=0)
        x, y = make_classification(**gen)
        generator = "sklearn.datasets.make_classification"
    else:
        gen = dict(n_samples=n, n_features=p, n_informative=min(p, 10), noise=1.0,
                   random_state=0)
        x, y = make_regression(**gen)
        generator = "sklearn.datasets.make_regression"
    y = y.astype(np.float64)
    frac = spec.get("labeled_fraction")
    if frac is not None:
        # Unlabel all but `frac` of the training rows (test and batch rows keep their labels).
        n_lab = int(round(spec["n_train"] * frac))
        keep = np.random.default_rng(0).permutation(spec["n_train"])[:n_lab]
        y_train = np.full(spec["n_train"], np.nan)
        y_train[keep] = y[keep]
        y = np.r_[y_train, y[spec["n_train"]:]]
    tmp = d + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    a, b = spec["n_train"], spec["n_train"] + spec["n_test"]
    for part, lo, hi in (("train", 0, a), ("test", a, b), ("batch", b, n)):
        if hi > lo:
            write_f64(os.path.join(tmp, f"x_{part}.f64"), x[lo:hi])
            write_f64(os.path.join(tmp, f"y_{part}.f64"), y[lo:hi].astype(np.float64))
    meta = dict(spec=spec, generator=generator, params=gen, dtype="<f8", order="C")
    with open(os.path.join(tmp, "meta.json"), "w") as f:
        json.dump(meta, f, indent=1)
    shutil.rmtree(d, ignore_errors=True)
    os.rename(tmp, d)
    return d


def counts(n_train, n_test, n_features, n_classes=3, n_batch=0):
    """Classification on non-negative counts (multinomial naive Bayes): each class draws its
    rows' counts from its own word distribution."""
    return dict(task="counts", n_train=n_train, n_test=n_test, n_features=n_features,
                n_batch=n_batch, n_classes=n_classes)


def blobs(n, d, centers, cluster_std=1.0):
    """Unsupervised: ``make_blobs`` rows (the blob of each row kept for quality only)."""
    return dict(task="blobs", n_train=n, n_test=0, n_batch=0, n_features=d, centers=centers,
                cluster_std=cluster_std)


def moons(n, noise=0.05):
    """Unsupervised, 2-D: ``make_moons`` rows."""
    return dict(task="moons", n_train=n, n_test=0, n_batch=0, n_features=2, noise=noise)


def outliers(n, d, centers=3, contamination=0.01):
    """Unsupervised: blob inliers with uniform planted outliers (flagged for quality only)."""
    return dict(task="outliers", n_train=n, n_test=0, n_batch=0, n_features=d,
                centers=centers, contamination=contamination)


def write_numeric_csv(path, n_rows, n_cols, seed=0):
    rng = np.random.default_rng(seed)
    cols, fmts = [], []
    for j in range(n_cols):
        if j == n_cols - 1:
            cols.append(rng.random(n_rows))
            fmts.append("%.6f")
        elif j % 2 == 0:
            cols.append(rng.uniform(-1000.0, 1000.0, n_rows))
            fmts.append("%.4f")
        else:
            cols.append(rng.integers(0, 100_000, n_rows).astype(np.float64))
            fmts.append("%d")
    tmp = path + ".tmp"
    np.savetxt(tmp, np.column_stack(cols), fmt=fmts, delimiter=",",
               header=",".join(f"c{j}" for j in range(n_cols)), comments="")
    os.rename(tmp, path)


def ensure_csv(root, repo, csv):
    """The path of the CSV file of a ``csv`` spec, writing it if needed."""
    if csv["file"] == "diamonds":
        return os.path.join(repo, "data", "diamonds.csv")
    n, p = csv["n_rows"], csv["n_cols"]
    if (n, p) == (1_000_000, 20):
        shared = os.path.join(repo, "target", "bench-data", "numeric_1m_20.csv")
        if os.path.exists(shared):
            return shared
    path = os.path.join(root, f"numeric_{n}x{p}.csv")
    if not os.path.exists(path):
        os.makedirs(root, exist_ok=True)
        write_numeric_csv(path, n, p)
    return path
