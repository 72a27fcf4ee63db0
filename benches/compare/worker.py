"""One Python library's side of one task, in its own process (so its peak memory is its own).

    worker.py TASK.json LIBRARY

Speaks the protocol of ``runner.rs``: prints ``{"status": "ready"}`` once the data are loaded
(untimed), then answers each ``run`` line on stdin with one JSON line of timings, and ``quit``
with ``{"status": "done"}``. Only the library call is inside the timed region.
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
    else:
        x = load_matrix(d, "x_train", d["n_train"], d["n_features"])
        y = load_vector(d, "y_train", d["n_train"])
        xt = load_matrix(d, "x_test", d["n_test"], d["n_features"])
        yt = load_vector(d, "y_test", d["n_test"])
        if d["task"] == "classification":
            y, yt = y.astype(np.int64), yt.astype(np.int64)
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
            elif kind == "scaler":
                est = factory(threads, seed)
                fit_s, out = timed(est.fit_transform, x)
                tr_s, _ = timed(est.transform, x)
                rows = {"main": {"fit": fit_s, "predict": tr_s,
                                 "quality": {"std_col0": float(out[:, 0].std())}},
                        "array": {"predict": tr_s}}
            else:
                est = factory(threads, seed)
                fit_s, _ = timed(est.fit, x, y)
                pred_s, pred = timed(est.predict, xt)
                rows = {"main": {"fit": fit_s, "predict": pred_s,
                                 "quality": quality(spec["metrics"], est, xt, yt, pred)}}
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
