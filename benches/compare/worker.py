"""One Python library's side of one task, in its own process (so its peak memory is its own).

    worker.py TASK.json LIBRARY

Speaks the protocol of ``runner.rs``: prints ``{"status": "ready"}`` once the data are loaded
(untimed), then answers each ``run`` line on stdin with one JSON line of timings, and ``quit``
with ``{"status": "done"}``. Only the library call is inside the timed region.

Model and unsupervised tasks also report ``fit_rss_mb``: the peak resident set during ``fit`` above the
resident set when it started (the kernel's peak is reset through ``/proc/self/clear_refs``
just before the fit). That is Python's counterpart of the amlis runner's ``fit_heap_mb``
(heap bytes counted by its allocator): a page-level measure that also counts memory the
allocator keeps after freeing it.
"""
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402

import tasks  # noqa: E402


def say(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def load_matrix(d, name, rows, cols):
    return np.fromfile(os.path.join(d["dir"], f"{name}.f64"), dtype="<f8").reshape(rows, cols)


def load_vector(d, name, rows):
    return np.fromfile(os.path.join(d["dir"], f"{name}.f64"), dtype="<f8")


def timed(f, *args):
    t = time.perf_counter()
    r = f(*args)
    return time.perf_counter() - t, r


def _status_mb(key):
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(key):
                    return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def fit_with_rss(est, *data):
    """Fits ``est`` on ``data`` (``x`` or ``x, y``); returns (seconds, peak RSS above the start
    in MB or None)."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")  # resets VmHWM to the current RSS
        base = _status_mb("VmRSS:")
    except OSError:
        base = None
    s, _ = timed(est.fit, *data)
    peak = _status_mb("VmHWM:")
    return s, (None if base is None or peak is None else max(peak - base, 0.0))


def unsupervised_quality(task, est, x, y, labels, out, fit_s):
    from sklearn import metrics as skm

    q = {}
    for name in task["metrics"]:
        if name == "inertia":
            q[name] = float(est.inertia_)
        elif name == "n_iter":
            q[name] = int(est.n_iter_)
        elif name == "ms_per_iter":
            q[name] = fit_s * 1000 / max(int(est.n_iter_), 1)
        elif name == "silhouette":
            n = min(tasks.SILHOUETTE_SAMPLE, len(x))
            q[name] = float(skm.silhouette_score(x, labels, sample_size=n, random_state=0))
        elif name == "ari":
            q[name] = float(skm.adjusted_rand_score(y, labels))
        elif name == "n_clusters":
            q[name] = int(len(set(labels.tolist()) - {-1}))
        elif name == "noise_frac":
            q[name] = float(np.mean(labels == -1))
        elif name == "explained_variance":
            q[name] = float(out.var(axis=0).sum() / x.var(axis=0).sum())
        elif name == "mean_log_likelihood":
            q[name] = float(np.mean(est.score_samples(x)))
        elif name == "roc_auc":
            q[name] = float(skm.roc_auc_score(y, -out))
        else:
            raise ValueError(f"unknown quality measure {name}")
    return q


def run_unsupervised(task, factory, threads, seed, x, y):
    est = factory(threads, seed)
    fit_s, fit_rss = fit_with_rss(est, x)
    output = task["output"]
    pred_s, out, labels = None, None, None
    if output == "labels":
        labels = est.labels_
    elif output == "predict":
        pred_s, labels = timed(est.predict, x)
    elif output == "transform":
        pred_s, out = timed(est.transform, x)
    elif output == "score":
        pred_s, out = timed(est.score_samples, x)
    else:
        raise ValueError(f"unknown output {output}")
    main = {"fit": fit_s, "predict": pred_s,
            "quality": unsupervised_quality(task, est, x, y, labels, out, fit_s)}
    if fit_rss is not None:
        main["fit_rss_mb"] = fit_rss
    return {"main": main}


def quality(metrics, est, x, y, pred):
    from sklearn import metrics as skm

    out = {}
    for name in metrics:
        if name == "accuracy":
            out[name] = float(skm.accuracy_score(y, pred))
        elif name == "roc_auc":
            out[name] = float(skm.roc_auc_score(y, est.predict_proba(x)[:, 1]))
        elif name == "r2":
            out[name] = float(skm.r2_score(y, pred))
        else:
            raise ValueError(f"unknown metric {name}")
    return out


def main():
    spec = json.load(open(sys.argv[1]))
    lib = sys.argv[2]
    task = tasks.by_name(spec["name"])
    factory = task["libs"][lib]
    threads, seed = spec["threads"], spec["seed"]
    kind = spec["kind"]
    d = spec.get("data")
    if kind == "csv":
        read = factory(threads, seed)
    elif kind == "scaler":
        x = load_matrix(d, "x_train", d["n_train"], d["n_features"])
    elif kind == "unsupervised":
        x = load_matrix(d, "x_train", d["n_train"], d["n_features"])
        y = load_vector(d, "y_train", d["n_train"])
    else:
        x = load_matrix(d, "x_train", d["n_train"], d["n_features"])
        y = load_vector(d, "y_train", d["n_train"])
        xt = load_matrix(d, "x_test", d["n_test"], d["n_features"])
        yt = load_vector(d, "y_test", d["n_test"])
        if d["task"] in ("classification", "counts"):
            # NaN marks an unlabeled training row (``labeled_fraction``); scikit-learn's
            # marker is -1.
            y, yt = np.where(np.isnan(y), -1, y).astype(np.int64), yt.astype(np.int64)
        xb = load_matrix(d, "x_batch", d["n_batch"], d["n_features"]) if spec.get("batch") else None
    say({"status": "ready"})

    for line in sys.stdin:
        cmd = line.strip()
        if cmd == "quit":
            break
        if cmd != "run":
            say({"status": "error", "reason": "expected `run` or `quit`"})
            continue
        try:
            if kind == "csv":
                s, n = timed(read, spec["csv_path"])
                rows = {"main": {"fit": s, "quality": {"rows": n}}}
            elif kind == "unsupervised":
                rows = run_unsupervised(spec, factory, threads, seed, x, y)
            elif kind == "scaler":
                est = factory(threads, seed)
                fit_s, out = timed(est.fit_transform, x)
                tr_s, _ = timed(est.transform, x)
                rows = {"main": {"fit": fit_s, "predict": tr_s,
                                 "quality": {"std_col0": float(out[:, 0].std())}},
                        "array": {"predict": tr_s}}
            else:
                est = factory(threads, seed)
                fit_s, fit_rss = fit_with_rss(est, x, y)
                pred_s, pred = timed(est.predict, xt)
                rows = {"main": {"fit": fit_s, "predict": pred_s,
                                 "quality": quality(spec["metrics"], est, xt, yt, pred)}}
                if fit_rss is not None:
                    rows["main"]["fit_rss_mb"] = fit_rss
                if xb is not None:
                    s, _ = timed(est.predict, xb)
                    rows["batch"] = {"predict": s}
                n = min(spec.get("latency_rows", 0), len(xt))
                if n:
                    t = time.perf_counter()
                    for i in range(n):
                        est.predict(xt[i:i + 1])
                    rows["latency"] = {"predict_us": (time.perf_counter() - t) / n * 1e6}
            say({"status": "ok", "rows": rows})
        except Exception as e:  # report, keep serving
            say({"status": "error", "reason": f"{type(e).__name__}: {e}"})
    say({"status": "done"})


if __name__ == "__main__":
    main()
