#!/usr/bin/env python3
"""amlis against scikit-learn, pandas, LightGBM and XGBoost: same data, same threads, one run.

    python3 benches/compare/run.py [--quick] [--threads 2] [--tasks a,b] [--runs 3]

What it does, in order:

1. creates ``benches/compare/.venv`` with the pinned Python libraries (from PyPI) unless it is
   already there with the same pins, and re-runs itself inside it;
2. builds the amlis runner once: ``cargo build --release --example compare_runner``;
3. generates each task's data once (``data.py``; reused across runs) under
   ``benches/compare/data/``;
4. for each task (``tasks.py``), starts one process per library (amlis through the Rust
   runner, which calls the library itself; each Python library in its own ``worker.py``), all
   with the same thread limit, then alternates them A B C A B C ...: one warm-up round and
   ``--runs`` timed rounds, and takes medians. Peak RSS is each worker process's VmHWM
   (read from /proc before it quits), measured the same way for every side;
5. prints a markdown table and writes it to ``BENCHMARKS.md`` with the machine, its load,
   the versions and the command.

Ratios are amlis time / other library's time: below 1 means amlis is faster.
"""
import argparse
import datetime
import json
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
VENV = os.path.join(HERE, ".venv")
DATA = os.path.join(HERE, "data")
PINS = ["numpy==2.4.6", "pandas==3.1.1", "scipy==1.17.1", "scikit-learn==1.9.1",
        "lightgbm==4.7.0", "xgboost==3.2.0"]
THREAD_VARS = ["RAYON_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
               "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS", "VECLIB_MAXIMUM_THREADS"]


def log(msg):
    print(msg, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- environment

def ensure_venv():
    """Creates the pinned venv if needed and re-executes this script inside it."""
    py = os.path.join(VENV, "bin", "python")
    marker = os.path.join(VENV, "pins.txt")
    wanted = "\n".join(PINS) + "\n"
    have = open(marker).read() if os.path.exists(marker) else None
    if not os.path.exists(py) or have != wanted:
        log(f"creating {VENV} with {' '.join(PINS)} (one time)")
        if not os.path.exists(py):
            subprocess.run([sys.executable, "-m", "venv", VENV], check=True)
        subprocess.run([py, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                        *PINS], check=True)
        with open(marker, "w") as f:
            f.write(wanted)
    if os.path.realpath(sys.prefix) != os.path.realpath(VENV):
        os.execv(py, [py, os.path.abspath(__file__), *sys.argv[1:]])


def build_runner():
    log("building the amlis runner: cargo build --release --example compare_runner")
    subprocess.run(["cargo", "build", "--release", "--example", "compare_runner"],
                   cwd=REPO, check=True)
    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(REPO, "target"))
    return os.path.join(target, "release", "examples", "compare_runner")


def capture(argv, cwd=REPO):
    try:
        return subprocess.run(argv, cwd=cwd, capture_output=True, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def machine():
    cpu = "unknown"
    mem = "unknown"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        for line in open("/proc/meminfo"):
            if line.startswith("MemTotal"):
                mem = f"{int(line.split()[1]) / 1024 / 1024:.1f} GB"
                break
    except OSError:
        pass
    return dict(nproc=os.cpu_count(), cpu=cpu, mem=mem)


def versions():
    from importlib.metadata import version

    commit = capture(["git", "rev-parse", "--short=12", "HEAD"])
    if capture(["git", "status", "--porcelain", "--untracked-files=no"]) not in ("", "unknown"):
        commit += " (with uncommitted changes)"
    v = dict(rustc=capture(["rustc", "-V"]), amlis=commit,
             python=sys.version.split()[0])
    for lib in ("numpy", "pandas", "scikit-learn", "lightgbm", "xgboost"):
        try:
            v[lib] = version(lib)
        except Exception:  # --system-python without it
            v[lib] = "not installed"
    return v


# ---------------------------------------------------------------- workers

class Worker:
    """One library's process for one task, spoken to one JSON line at a time."""

    def __init__(self, lib, argv, env):
        self.lib = lib
        self.err = tempfile.TemporaryFile(mode="w+")
        self.p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=self.err, text=True, env=env, cwd=REPO)
        self.rss_mb = None

    def read(self):
        line = self.p.stdout.readline()
        if not line:
            self.err.seek(0)
            tail = self.err.read()[-600:].strip().replace("\n", " | ")
            return {"status": "error", "reason": f"process ended: {tail or 'no output'}"}
        try:
            return json.loads(line)
        except json.JSONDecodeError:
            return {"status": "error", "reason": f"not JSON: {line.strip()[:200]}"}

    def ask(self, cmd):
        try:
            self.p.stdin.write(cmd + "\n")
            self.p.stdin.flush()
        except (BrokenPipeError, OSError):
            pass
        return self.read()

    def peak_rss_mb(self):
        """VmHWM of the live worker: its peak resident set since exec. (`ru_maxrss` from
        wait4 would also count the pages the child shared with this harness between fork and
        exec, so every worker would report at least the harness's own size.)"""
        try:
            with open(f"/proc/{self.p.pid}/status") as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        return int(line.split()[1]) / 1024
        except (OSError, ValueError, IndexError):
            pass
        return None

    def finish(self):
        if self.p.poll() is None:
            self.rss_mb = self.peak_rss_mb()
            self.ask("quit")
            try:
                self.p.stdin.close()
            except OSError:
                pass
        try:
            _, status, _usage = os.wait4(self.p.pid, 0)
            self.p.returncode = os.waitstatus_to_exitcode(status)
        except ChildProcessError:
            pass
        self.err.close()


def task_spec(task, args, runner_dir):
    """The task JSON both sides read, with row counts scaled for --quick."""
    scale = 10 if args.quick else 1
    spec = dict(name=task["name"], kind=task["kind"], threads=args.threads, seed=0)
    fmt = {}
    if "data" in task:
        d = {k: (v // scale if k.startswith("n_") and k not in ("n_features", "n_classes")
                 else v)
             for k, v in task["data"].items()}
        from data import ensure_dataset
        d["dir"] = ensure_dataset(DATA, d)
        spec["data"] = d
        fmt = dict(n_train=f"{d['n_train']:,}", n_test=f"{d['n_test']:,}",
                   n_batch=f"{d['n_batch']:,}", p=d["n_features"])
    if "csv" in task:
        from data import ensure_csv
        csv = dict(task["csv"])
        if "n_rows" in csv:
            csv["n_rows"] //= scale
            fmt["n_rows"] = f"{csv['n_rows']:,}"
        spec["csv_path"] = ensure_csv(DATA, REPO, csv)
    if "amlis" in task:
        spec["config"] = task["amlis"]
    spec["metrics"] = task.get("metrics", [])
    if "output" in task:
        spec["output"] = task["output"]
    if "latency" in task["rows"]:
        import tasks
        spec["latency_rows"] = tasks.LATENCY_ROWS // scale
    spec["batch"] = "batch" in task["rows"]
    titles = {k: v.format(**fmt) for k, v in task["rows"].items()}
    path = os.path.join(runner_dir, f"{task['name']}.json")
    with open(path, "w") as f:
        json.dump(spec, f, indent=1)
    return path, spec, titles


def run_task(task, args, runner, env, runner_dir):
    path, spec, titles = task_spec(task, args, runner_dir)
    libs = ["amlis", *task["libs"]]
    workers, status = [], {}
    for lib in libs:
        argv = [runner, path] if lib == "amlis" else [sys.executable,
                                                     os.path.join(HERE, "worker.py"), path, lib]
        workers.append(Worker(lib, argv, env))
    active = []
    for w in workers:  # all load their data at once; nothing is timed yet
        r = w.read()
        if r.get("status") == "ready":
            active.append(w)
            status[w.lib] = "ok"
        elif r.get("status") == "unavailable":
            status[w.lib] = "not yet available"
            log(f"  {w.lib}: not yet available ({r.get('reason')})")
        else:
            status[w.lib] = f"error: {r.get('reason')}"
            log(f"  {w.lib}: {status[w.lib]}")
    samples = {k: {lib: [] for lib in libs} for k in titles}
    for rnd in range(1 + args.runs):  # round 0 is the warm-up
        for w in list(active):
            r = w.ask("run")
            if r.get("status") != "ok":
                status[w.lib] = f"error: {r.get('reason')}"
                log(f"  {w.lib}: {status[w.lib]}")
                active.remove(w)
                continue
            if rnd > 0:
                for key, vals in r["rows"].items():
                    if key in samples:
                        samples[key][w.lib].append(vals)
        log(f"  {task['name']}: round {rnd}{' (warm-up)' if rnd == 0 else ''} done")
    for w in workers:
        w.finish()
    rss = {w.lib: w.rss_mb for w in workers}
    return dict(name=task["name"], titles=titles, samples=samples, status=status, rss=rss,
                libs=libs)


# ---------------------------------------------------------------- table

def median_of(runs, key):
    vals = [r[key] for r in runs if r.get(key) is not None]
    return statistics.median(vals) if vals else None


def quality_text(runs):
    q = [r["quality"] for r in runs if "quality" in r]
    if not q:
        return ""
    parts = []
    for name in q[0]:
        v = statistics.median(x[name] for x in q if name in x)
        parts.append(f"{name} {int(v):,}" if name == "rows" else f"{name} {v:.6g}")
    return ", ".join(parts)


def ratio(a, b):
    if a is None or b is None or b == 0:
        return "—"
    r = a / b
    return f"{r:.2f}" if r >= 0.1 else f"{r:.2g}"


def fmt_s(v):
    return "—" if v is None else f"{v:.3g}" if v < 0.1 else f"{v:.3f}" if v < 100 else f"{v:.1f}"


def table(results):
    head = ("| task | library | fit / read median (s) | predict median (s, or µs/row) | quality (median) "
            "| fit ratio amlis/other | predict ratio amlis/other | peak RSS (MB) |\n"
            "|---|---|---:|---:|---|---:|---:|---:|\n")
    lines = []
    for res in results:
        for key, title in res["titles"].items():
            rows = res["samples"][key]
            am = rows.get("amlis", [])
            a_fit = median_of(am, "fit")
            a_pred = median_of(am, "predict") or median_of(am, "predict_us")
            for lib in res["libs"]:
                runs = rows[lib]
                st = res["status"].get(lib, "ok")
                rss = res["rss"].get(lib)
                rss_s = "—" if rss is None else f"{rss:,.0f}"
                heap = median_of(runs, "fit_heap_mb")
                if heap is not None:
                    rss_s += f" (fit heap {heap:,.0f})" if heap >= 10 else f" (fit heap {heap:.2g})"
                fit_rss = median_of(runs, "fit_rss_mb")
                if fit_rss is not None:
                    rss_s += (f" (fit RSS +{fit_rss:,.0f})" if fit_rss >= 10
                              else f" (fit RSS +{fit_rss:.2g})")
                if not runs:
                    msg = (st if st != "ok" else "no result").replace("|", "\\|")
                    msg = " ".join(msg.split())[:300]
                    lines.append(f"| {title} | {lib} | {msg} | — | — | — | — | {rss_s} |")
                    continue
                fit = median_of(runs, "fit")
                us = median_of(runs, "predict_us")
                pred = median_of(runs, "predict")
                pred_cell = (f"{us:,.0f} µs/row" if us >= 100 else f"{us:.3g} µs/row") if us is not None else fmt_s(pred)
                if lib == "amlis":
                    fr = "1 (base)" if fit is not None else "—"
                    pr = "1 (base)" if (pred or us) is not None else "—"
                else:
                    fr = ratio(a_fit, fit)
                    pr = ratio(a_pred, us if us is not None else pred)
                lines.append(f"| {title} | {lib} | {fmt_s(fit)} | {pred_cell} | "
                             f"{quality_text(runs)} | {fr} | {pr} | {rss_s} |")
    return head + "\n".join(lines) + "\n"


def write_report(path, tbl, args, info):
    m, v = info["machine"], info["versions"]
    mode = "quick (`--quick`: every row count / 10)" if args.quick else "full"
    note = f"\n> **{args.note}**\n" if args.note else ""
    doc = f"""# Benchmarks: amlis against scikit-learn, pandas, LightGBM and XGBoost

Produced by `benches/compare/run.py` (do not edit by hand; re-run it).
{note}
- **Command:** `{info['command']}`
- **Mode:** {mode}; {args.runs} timed runs per library after one warm-up, libraries
  alternated A B C A B C; medians reported.
- **Date:** {info['start']} UTC, {info['elapsed']:.0f} s wall time in all.
- **Threads:** {args.threads} for every library (`RAYON_NUM_THREADS`, `OMP_NUM_THREADS`,
  `OPENBLAS_NUM_THREADS`, `MKL_NUM_THREADS`, `n_jobs`, LightGBM `num_threads`,
  XGBoost `nthread`); OpenMP wait policy: {info['omp']} (passive unless `--omp-active`:
  spinning OpenMP threads stall badly when the machine is oversubscribed).
- **Machine:** {m['nproc']} CPUs ({m['cpu']}), {m['mem']} RAM. Load average (1, 5, 15 min)
  at start {info['load_start']}, at end {info['load_end']}. The machine is shared: absolute
  times drift with its load, ratios measured in the same run hold better.
- **Versions:** {v['rustc']}; amlis commit {v['amlis']}; Python {v['python']}, numpy {v['numpy']},
  pandas {v['pandas']}, scikit-learn {v['scikit-learn']}, LightGBM {v['lightgbm']},
  XGBoost {v['xgboost']}.

**Ratios are amlis time / other library's time: below 1 means amlis is faster** (the amlis
row is the base, 1). "Not yet available" means the model type is not registered in this
amlis build; the other libraries are still measured.

{tbl}
## What is measured

- **fit / read**: the library call only (`fit`; `fit_transform` for the scaler; reading the
  whole file into a table / DataFrame for CSV), data already in memory (CSV: on disk, in the
  page cache after the warm-up).
- **predict**: `predict` on the test rows (class labels for classifiers); the scaler row times
  `transform` of the training table (amlis: `Table` path; the `array` row: amlis's in-place
  `transform_array`, scikit-learn's `transform` again); batch predict times `predict` on the
  batch rows; single-row latency is the mean of one `predict` call per test row over
  {info['latency_rows']:,} rows (amlis: `Predictor::predict_into` on a 1-row view; Python:
  `predict` on a 1-row array).
- **quality**: computed outside the timed region on the test rows (accuracy and ROC AUC for
  classifiers, R² for regressors, the standard deviation of the first scaled column for the
  scaler, the row count for CSV); amlis scores with `amlis::metrics`, Python with
  `sklearn.metrics`.
- **peak RSS**: VmHWM (peak resident set since exec) of each library's own process (data loading included), the same
  measure for every side. For amlis models, "fit heap" is the fit's own working memory: the
  peak of heap bytes allocated during `fit` above those live when it started (the training data
  is already in memory), counted by a global-allocator wrapper in `benches/compare/runner.rs`.
  For the Python side of unsupervised tasks, "fit RSS +" is the peak resident set during
  `fit` above the resident set at its start (VmHWM reset through `/proc/self/clear_refs`):
  a page-level measure, close to but not the same as the allocator count.
- **unsupervised tasks** (k-means, mini-batch k-means, DBSCAN, HDBSCAN, PCA, incremental
  PCA, Gaussian mixtures, isolation forest): fit on the training rows without a target, then
  the task's output on the same rows (`predict`, `transform` or `score_samples`; DBSCAN and
  HDBSCAN have no `predict` in scikit-learn, which reads `labels_` from the fit, while amlis
  times `predict` on the training rows). Quality: inertia, iterations and time per
  iteration, silhouette on a seeded 10,000-row subsample (each side its own draw), adjusted
  Rand index against the planted blobs / moons, clusters found and noise share, explained
  variance of the 10 components, mean log-likelihood, ROC AUC against planted outliers (see
  `UNSUPERVISED_QUALITY` in `benches/compare/tasks.py`). Same settings on both sides
  (k-means: k-means++, `n_init=1`, Lloyd, `max_iter=300`, `tol=1e-4`; PCA `svd_solver`
  full / randomized; mixtures: same covariance type, `max_iter=100`, `n_init=1`, k-means
  initialisation).
- **data**: `make_classification` / `make_regression` (random_state 0), written once as raw
  little-endian f64 under `benches/compare/data/` and read by both sides; see
  `benches/compare/data.py`.
- Gradient boosting everywhere: 100 iterations, 31 leaves, learning rate 0.1, 255 bins,
  20 samples per leaf (XGBoost has no such setting and keeps `min_child_weight=1`), no L2,
  no early stopping; XGBoost `tree_method="hist"`, `grow_policy="lossguide"`.

## Reproduce

```
python3 benches/compare/run.py            # full mode, the record
python3 benches/compare/run.py --quick    # everyday check, under 2 minutes on an idle 2-core machine
python3 benches/compare/run.py --tasks ridge,lasso --runs 5 --threads 4
```

The first run also creates `benches/compare/.venv` from PyPI (pinned versions, a few
minutes), builds the release runner and generates the data (about a minute in full mode).
Full mode: an estimated 10–15 minutes on an idle 2-core machine once every model family is
registered (the quick run uses about 1 CPU-minute; full mode has 10× the rows, and gradient
boosting on 400,000 × 50, the random forest and the single-row loops dominate), plus about a
minute to generate the data the first time.
"""
    # Sections other harnesses write (after KEEP_MARKER) survive a rewrite of the table.
    try:
        with open(path) as f:
            previous = f.read()
        if KEEP_MARKER in previous:
            doc += "\n" + previous[previous.index(KEEP_MARKER):]
    except FileNotFoundError:
        pass
    with open(path, "w") as f:
        f.write(doc)


#: Everything from this line on in BENCHMARKS.md is kept when the table is rewritten.
KEEP_MARKER = "<!-- sections below are written by other harnesses and kept by run.py -->"


# ---------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="every row count / 10")
    ap.add_argument("--threads", type=int, default=2, help="threads for every library")
    ap.add_argument("--tasks", default="", help="comma-separated task names (default: all)")
    ap.add_argument("--runs", type=int, default=3, help="timed runs after one warm-up")
    ap.add_argument("--output", default=os.path.join(REPO, "BENCHMARKS.md"),
                    help="where to write the report ('-' for nowhere)")
    ap.add_argument("--note", default="", help="a line to put at the top of the report")
    ap.add_argument("--omp-active", action="store_true",
                    help="leave OpenMP's wait policy at the library default (spinning); by "
                         "default OMP_WAIT_POLICY=PASSIVE, since spinning threads collapse on "
                         "a loaded shared machine")
    ap.add_argument("--skip-build", action="store_true", help="use the runner as built")
    ap.add_argument("--system-python", action="store_true",
                    help="run the Python libraries from this interpreter instead of the pinned "
                         "venv (a library it lacks is reported as an error in its rows; the "
                         "versions in the report are this interpreter's)")
    args = ap.parse_args()
    if args.runs < 1 or args.threads < 1:
        ap.error("--runs and --threads must be at least 1")
    command = shlex.join(["python3", "benches/compare/run.py", *sys.argv[1:]])
    if not args.system_python:
        ensure_venv()

    sys.path.insert(0, HERE)
    import tasks

    chosen = tasks.TASKS
    if args.tasks:
        try:
            chosen = [tasks.by_name(n.strip()) for n in args.tasks.split(",") if n.strip()]
        except KeyError as e:
            ap.error(str(e.args[0]))
    runner = os.path.join(REPO, "target", "release", "examples", "compare_runner")
    if not args.skip_build or not os.path.exists(runner):
        runner = build_runner()

    env = dict(os.environ)
    for var in THREAD_VARS:
        env[var] = str(args.threads)
    if not args.omp_active:
        env["OMP_WAIT_POLICY"] = "PASSIVE"
    start = time.time()
    load_start = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    os.makedirs(DATA, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="amlis-compare-") as runner_dir:
        results = []
        for task in chosen:
            t0 = time.time()
            log(f"task {task['name']}")
            results.append(run_task(task, args, runner, env, runner_dir))
            log(f"  {task['name']}: {time.time() - t0:.1f} s")
    tbl = table(results)
    with open(os.path.join(DATA, "last_results.json"), "w") as f:
        json.dump(dict(args=vars(args), results=results), f, indent=1)
    print(tbl)
    info = dict(command=command, machine=machine(), versions=versions(),
                start=datetime.datetime.fromtimestamp(start, datetime.timezone.utc)
                .strftime("%Y-%m-%d %H:%M"),
                elapsed=time.time() - start, load_start=load_start,
                load_end=", ".join(f"{x:.2f}" for x in os.getloadavg()),
                omp="library default" if args.omp_active else "PASSIVE",
                latency_rows=tasks.LATENCY_ROWS // (10 if args.quick else 1))
    if args.output != "-":
        write_report(args.output, tbl, args, info)
        log(f"wrote {args.output}")


if __name__ == "__main__":
    main()
