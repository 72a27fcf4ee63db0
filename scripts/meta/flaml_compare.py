#!/usr/bin/env python3
"""Compares amlis's auto_classifier / auto_regressor with FLAML at the same time budget.

Usage:
    python scripts/meta/flaml_compare.py --corpus target/meta-corpus --budgets 10,60 \
        [--datasets a,b,c] [--amlis target/release/examples/auto_fit] \
        [--cache target/meta-compare] [--output report.md] [--flaml-only] [--repeats R]

For each data set (default: DEFAULT_DATASETS below) the 75/25 holdout split of
`common.split_dataset` (seed 0, stratified for classification) is used, written to
`<corpus>/<name>/{train,test}.csv` if missing. With `--repeats R` the splits of seeds
0..R-1 are all used (repeated holdout: seed s > 0 in `<corpus>/<name>/seed<s>/`) and every
score in the report is the mean over the R test splits: a 25% test split of a few hundred
rows moves accuracy or r2 by several hundredths from one seed to the next, more than most
differences between the learners compared. For each budget and split:
  * FLAML 2.x: `AutoML().fit(X_train, y_train, task=..., time_budget=B, metric="accuracy" | "r2",
    n_jobs=2, seed=0)` with categorical columns as pandas `category` (categories of the training
    split); scored on the test split. Cached in `<cache>/flaml/<name>__<B>.json`, so FLAML runs
    once per data set and budget (delete the file to rerun it).
  * amlis: `auto_fit --train ... --test ... --target ... --task ... --time-budget B --exclude <name>
    --seed 0 --n-threads 2` (leave-one-data-set-out: the portfolio never holds the scored data set),
    and once per data set `--defaults` (at the largest budget) for the best single default model.
    Its last stdout line is one JSON object (score, metric, best, n_trials, fit_seconds,
    defaults). Cached in `<cache>/amlis/` under the binary's hash, so a rebuilt binary reruns.
A failed run is recorded (and shown as "fail") but never stops the others. The markdown report
(per budget: data set, task, rows, FLAML, amlis auto, best amlis default, winner; averages and
counts) goes to --output (default `<cache>/report.md`) and stdout.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import REPO, ensure_splits, index_by_name, load_xy  # noqa: E402

# Small-to-medium, mixed: 10 classification (binary and multiclass, missing values, categorical
# columns) and 10 regression. Every name must be in corpus.py's SPECS.
DEFAULT_DATASETS = [
    # classification
    "breast_cancer", "wine", "penguins", "pima_tr2", "biopsy", "chile", "titanic",
    "participation", "fgl", "heating",
    # regression
    "diabetes", "airquality", "boston", "salaries", "slid", "computers", "housing_windsor",
    "mpg", "tips", "cpus",
]

METRIC = {"classification": "accuracy", "regression": "r2"}


def load_avg() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


def write_json(path: Path, obj) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(obj, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def read_cached(path: Path, retry_failed: bool):
    """A cached run record, or None when it must run (absent, unreadable, or failed and retried)."""
    record = read_json(path)
    if record is not None and retry_failed and "error" in record:
        return None
    return record


def read_json(path: Path):
    if path.exists():
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError:
            return None
    return None


# --- FLAML -------------------------------------------------------------------------------


def run_flaml(entry: dict, train: Path, test: Path, budget: float, n_jobs: int) -> dict:
    import flaml
    from flaml import AutoML
    from sklearn.metrics import accuracy_score, r2_score

    task, target = entry["task"], entry["target"]
    X_train, y_train, cats = load_xy(train, target)
    X_test, y_test, _ = load_xy(test, target, categorical_from=X_train)
    automl = AutoML()
    started = time.monotonic()
    load_before = load_avg()
    automl.fit(X_train, y_train, task=task, time_budget=budget, metric=METRIC[task],
               n_jobs=n_jobs, seed=0, verbose=0)
    fit_seconds = time.monotonic() - started
    pred = automl.predict(X_test)
    if task == "classification":
        score = float(accuracy_score(y_test.astype(str), [str(v) for v in pred]))
    else:
        score = float(r2_score(y_test, pred))
    return {
        "name": entry["name"], "task": task, "budget": budget, "metric": METRIC[task],
        "score": score, "best_estimator": automl.best_estimator,
        "best_config": _jsonable(automl.best_config),
        # config_history holds only the improvements; the per-learner iteration counts hold all trials.
        "n_trials": int(sum(getattr(automl, "_iter_per_learner", {}).values())) or None,
        "n_trials_per_learner": {k: int(v) for k, v in getattr(automl, "_iter_per_learner", {}).items()},
        "n_best_updates": len(automl.config_history),
        "fit_seconds": round(fit_seconds, 3), "n_train": len(X_train), "n_test": len(X_test),
        "categorical": cats, "flaml_version": flaml.__version__, "n_jobs": n_jobs,
        "load_before": load_before, "load_after": load_avg(),
    }


def _jsonable(obj):
    return json.loads(json.dumps(obj, default=lambda o: o.item() if hasattr(o, "item") else str(o)))


# --- amlis -------------------------------------------------------------------------------


def file_hash(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()[:16]


def run_amlis(binary: Path, entry: dict, train: Path, test: Path, budget: float, defaults: bool,
              n_threads: int) -> dict:
    cmd = [str(binary), "--train", str(train), "--test", str(test), "--target", entry["target"],
           "--task", entry["task"], "--time-budget", f"{budget:g}", "--exclude", entry["name"],
           "--seed", "0", "--n-threads", str(n_threads)]
    if defaults:
        cmd.append("--defaults")
    record = {"name": entry["name"], "task": entry["task"], "budget": budget, "defaults": defaults,
              "command": shlex.join(cmd), "load_before": load_avg()}
    started = time.monotonic()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=3 * budget + 300)
    except subprocess.TimeoutExpired:
        record.update(error=f"timed out after {3 * budget + 300:g} s")
        return record
    except OSError as e:
        record.update(error=f"could not start: {e}")
        return record
    record["wall_seconds"] = round(time.monotonic() - started, 3)
    record["load_after"] = load_avg()
    lines = [line for line in proc.stdout.splitlines() if line.strip()]
    if proc.returncode != 0 or not lines:
        record.update(error=f"exit {proc.returncode}", stderr=proc.stderr[-2000:])
        return record
    try:
        result = json.loads(lines[-1])
        float(result["score"])
    except (json.JSONDecodeError, KeyError, TypeError, ValueError) as e:
        record.update(error=f"bad output: {e}", stdout_tail=lines[-1][:2000])
        return record
    record["result"] = result
    return record


def best_default(record: dict | None):
    """(score, type) of the best default model in a --defaults record."""
    if not record or "result" not in record:
        return None, None
    defaults = record["result"].get("defaults") or []
    scored = [(float(d["score"]), str(d.get("type", "?"))) for d in defaults
              if isinstance(d, dict) and _finite(d.get("score"))]
    if scored:
        return max(scored, key=lambda t: t[0])
    return float(record["result"]["score"]), "?"


def all_defaults(record: dict | None) -> dict:
    """{type: holdout score} of every default model in a --defaults record."""
    if not record or "result" not in record:
        return {}
    return {str(d.get("type")): float(d["score"]) for d in record["result"].get("defaults") or []
            if isinstance(d, dict) and _finite(d.get("score"))}


def single_default(rows: list, entries: dict) -> dict:
    """Per task, the one default model type with the best mean holdout score over that task's
    data sets (a user who always fits the same default model): {task: (type, mean)}."""
    out = {}
    for task in ("classification", "regression"):
        scores: dict = {}
        for r in rows:
            if entries[r["name"]]["task"] != task:
                continue
            for t, v in r.get("defaults_all", {}).items():
                scores.setdefault(t, []).append(v)
        n = max((len(v) for v in scores.values()), default=0)
        full = {t: sum(v) / len(v) for t, v in scores.items() if len(v) == n and n > 0}
        if full:
            best = max(full, key=full.get)
            out[task] = (best, full[best])
    return out


def amlis_model(record: dict | None) -> str | None:
    """The chosen model type of an auto run, from `best` ("type" or the first key)."""
    if not record or "result" not in record:
        return None
    best = record["result"].get("best")
    if isinstance(best, dict) and isinstance(best.get("model"), dict):
        best = best["model"]  # a pipeline config: {"model": {"type": ...}, "preprocess": [...]}
    if isinstance(best, dict):
        members = best.get("estimators")
        weights = best.get("weights") or []
        if best.get("type", "").startswith("voting_") and isinstance(members, list):
            # An ensemble of the best candidates: "voting(type x weight, ...)".
            parts = []
            for i, m in enumerate(members):
                inner = m.get("model", m) if isinstance(m, dict) else {}
                w = weights[i] if i < len(weights) else 1
                parts.append(f"{inner.get('type', '?')} x{w:g}")
            return "voting(" + ", ".join(parts) + ")"
        for key in ("type", "model", "estimator", "family"):
            if isinstance(best.get(key), str):
                return best[key]
    return None


def _load1(record: dict | None) -> list[float]:
    """The 1-minute load average recorded when a run started, as a 0- or 1-element list."""
    try:
        return [float(record["load_before"].split()[0])]
    except (TypeError, KeyError, ValueError, IndexError, AttributeError):
        return []


def _finite(v) -> bool:
    try:
        return v is not None and float(v) == float(v) and abs(float(v)) != float("inf")
    except (TypeError, ValueError):
        return False


def _mean_if_all(values: list):
    """The mean of `values`, or None when any is missing (a data set is compared only on the
    splits where every run finished)."""
    if not values or any(v is None for v in values):
        return None
    return sum(values) / len(values)


def split_row(name: str, runs: list, amlis_ran: bool) -> dict:
    """One report row of a data set from its runs on every split seed: `runs` holds
    (FLAML record, amlis record, defaults record) per seed. Scores are means over the seeds;
    the per-seed values are kept (`*_per_split`) for paired differences."""
    flaml = [f.get("score") if f else None for f, _, _ in runs]
    amlis = [float(a["result"]["score"]) if a and "result" in a else None for _, a, _ in runs]
    defaults = [all_defaults(d) for _, _, d in runs]
    types = set.intersection(*(set(d) for d in defaults)) if defaults else set()
    defaults_all = {t: sum(d[t] for d in defaults) / len(defaults) for t in types}
    default = max(((v, t) for t, v in defaults_all.items()), default=(None, None))
    first_f, first_a, _ = runs[0]
    return {
        "name": name,
        "flaml": _mean_if_all(flaml),
        "flaml_model": first_f.get("best_estimator") if first_f else None,
        "amlis_ran": amlis_ran,
        "amlis": _mean_if_all(amlis),
        "amlis_model": amlis_model(first_a),
        "amlis_trials": first_a["result"].get("n_trials") if first_a and "result" in first_a else None,
        "flaml_trials": first_f.get("n_trials") if first_f else None,
        "flaml_load": [x for f, _, _ in runs for x in _load1(f)],
        "amlis_load": [x for _, a, d in runs for x in _load1(a) + _load1(d)],
        "default": default,
        "defaults_all": defaults_all,
        "amlis_per_split": amlis,
        "defaults_per_split": defaults,
        "splits": len(runs),
    }


def paired(a: list, b: list):
    """Mean and standard error of the paired differences a - b (None when a value is
    missing; standard error 0 for one pair)."""
    if not a or len(a) != len(b) or any(v is None for v in a + b):
        return None, None
    d = [x - y for x, y in zip(a, b)]
    m = sum(d) / len(d)
    if len(d) < 2:
        return m, 0.0
    var = sum((x - m) ** 2 for x in d) / (len(d) - 1)
    return m, (var / len(d)) ** 0.5


# --- report ------------------------------------------------------------------------------


def fmt(v) -> str:
    return "fail" if v is None else f"{v:.4f}"


def report(rows_by_budget: dict, entries: dict, command: str, amlis_note: str, loads: list[str]) -> str:
    n_splits = max((r["splits"] for rows in rows_by_budget.values() for r in rows), default=1)
    what = "seed 0" if n_splits == 1 else f"split seeds 0-{n_splits - 1}, means over the {n_splits} test splits"
    out = [f"# amlis auto_fit vs FLAML (holdout 75/25, {what}, 2 threads)", ""]
    out.append(f"Command: `{command}`")
    out.append("")
    out.append(amlis_note)
    out.append("")
    out.append("Load average (1/5/15 min) at start and end of this invocation: " + "; ".join(loads)
               + ". Machine: 2 cores shared with other builds; every number is one run.")
    for side in ("flaml", "amlis"):
        values = sorted(x for rows in rows_by_budget.values() for r in rows for x in r[f"{side}_load"])
        if values:
            out.append(f"1-minute load average when the {'FLAML' if side == 'flaml' else 'amlis'} runs "
                       f"started (from the cached records): min {values[0]:.1f}, "
                       f"median {values[len(values) // 2]:.1f}, max {values[-1]:.1f} over {len(values)} runs.")
    out.append("")
    for budget, rows in rows_by_budget.items():
        out.append(f"## Budget {budget:g} s")
        out.append("")
        out.append("| data set | task | rows | FLAML | FLAML model (trials) | amlis auto | amlis model (trials) "
                   "| best amlis default (type) | winner | auto >= default |")
        out.append("|---|---|---:|---:|---|---:|---|---:|---|---|")
        both, triple, ge_flaml, ge_default, n_default = [], [], 0, 0, 0
        for r in rows:
            e = entries[r["name"]]
            f, a, (d, dtype) = r["flaml"], r["amlis"], r["default"]
            ran = r["amlis_ran"]
            winner = "-" if a is None or f is None else ("amlis" if a >= f else "FLAML")
            vs_default = "-" if a is None or d is None else ("yes" if a >= d else "no")
            acell = fmt(a) if ran else "-"
            trials = "?" if r["amlis_trials"] is None else r["amlis_trials"]
            mcell = f"{r['amlis_model'] or '-'} ({trials})" if ran else "-"
            dcell = (f"{fmt(d)} ({dtype})" if d is not None else "fail") if ran else "-"
            out.append(f"| {e['name']} | {e['task'][:5]}. | {e['n_rows']} | {fmt(f)} | "
                       f"{r['flaml_model'] or '-'} ({r['flaml_trials'] or '?'}) | {acell} | {mcell} | {dcell} | "
                       f"{winner} | {vs_default} |")
            if a is not None and f is not None:
                both.append((f, a))
                ge_flaml += a >= f
            if a is not None and d is not None:
                n_default += 1
                ge_default += a >= d
            if a is not None and f is not None and d is not None:
                triple.append((f, a, d))
        flaml_scores = [r["flaml"] for r in rows if r["flaml"] is not None]
        out.append("")
        if flaml_scores:
            out.append(f"FLAML mean over {len(flaml_scores)} data sets: "
                       f"{sum(flaml_scores) / len(flaml_scores):.4f} "
                       f"(classification accuracy and regression r2 averaged together).")
        if both:
            mf = sum(f for f, _ in both) / len(both)
            ma = sum(a for _, a in both) / len(both)
            out.append(f"Over the {len(both)} data sets where both ran: FLAML mean {mf:.4f}, "
                       f"amlis auto mean {ma:.4f}; amlis >= FLAML on {ge_flaml} of {len(both)}.")
        if triple:
            means = [sum(t[i] for t in triple) / len(triple) for i in range(3)]
            out.append(f"Over the {len(triple)} data sets with all three: FLAML {means[0]:.4f}, "
                       f"amlis auto {means[1]:.4f}, best amlis default {means[2]:.4f}.")
        if n_default:
            out.append(f"amlis auto >= the best amlis default of each data set (chosen on its test "
                       f"split, an oracle) on {ge_default} of {n_default}.")
        for task, (dtype, mean) in single_default(rows, entries).items():
            pairs = [(r["amlis"], r["defaults_all"].get(dtype)) for r in rows
                     if entries[r["name"]]["task"] == task and r["amlis"] is not None
                     and r["defaults_all"].get(dtype) is not None]
            if pairs:
                ge = sum(a >= d for a, d in pairs)
                ma = sum(a for a, _ in pairs) / len(pairs)
                md = sum(d for _, d in pairs) / len(pairs)
                out.append(f"{task}: the best single default model is `{dtype}` (mean {md:.4f} over "
                           f"{len(pairs)} data sets); amlis auto mean {ma:.4f}, >= it on {ge} of "
                           f"{len(pairs)}.")
            if n_splits > 1:
                lines = []
                for r in rows:
                    if entries[r["name"]]["task"] != task:
                        continue
                    m, se = paired(r["amlis_per_split"], [d.get(dtype) for d in r["defaults_per_split"]])
                    if m is not None:
                        lines.append((r["name"], m, se))
                if lines:
                    within = sum(m >= -se for _, m, se in lines)
                    below = [f"{n} {m:+.4f} (SE {se:.4f})" for n, m, se in lines if m < -se]
                    out.append(f"  paired over the {n_splits} splits (amlis auto - `{dtype}`, mean and "
                               f"standard error): at least it or within one standard error on "
                               f"{within} of {len(lines)}" + (f"; below by more: {', '.join(below)}"
                                                              if below else "") + ".")
        out.append("")
    return "\n".join(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=REPO / "target" / "meta-corpus")
    parser.add_argument("--splits", type=Path, default=None, help="split directory (default: the corpus)")
    parser.add_argument("--budgets", default="10,60")
    parser.add_argument("--datasets", default=",".join(DEFAULT_DATASETS))
    parser.add_argument("--amlis", type=Path, default=REPO / "target" / "release" / "examples" / "auto_fit")
    parser.add_argument("--cache", type=Path, default=REPO / "target" / "meta-compare")
    parser.add_argument("--output", type=Path, default=None)
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--flaml-only", action="store_true", help="skip the amlis runs")
    parser.add_argument("--amlis-only", action="store_true",
                        help="skip the FLAML runs (cached FLAML results are still reported)")
    parser.add_argument("--repeats", type=int, default=1,
                        help="holdout splits of seeds 0..R-1; scores are means over them")
    parser.add_argument("--report-only", action="store_true",
                        help="run nothing: build the report from the cache (absent runs show as fail)")
    parser.add_argument("--retry-failed", action="store_true",
                        help="rerun cached runs that failed (by default a cached failure is kept)")
    args = parser.parse_args()

    command = "python " + shlex.join([os.path.relpath(sys.argv[0], REPO)] + sys.argv[1:])
    budgets = [float(b) for b in args.budgets.split(",") if b]
    entries = index_by_name(args.corpus)
    names = [n for n in args.datasets.split(",") if n]
    unknown = [n for n in names if n not in entries]
    if unknown:
        parser.error(f"not in {args.corpus}/index.json: {unknown}")
    splits = args.splits or args.corpus
    loads = [load_avg()]

    binary = args.amlis if args.amlis.exists() and not args.flaml_only else None
    if binary is None:
        why = "--flaml-only" if args.flaml_only else f"{args.amlis} is missing"
        amlis_note = f"amlis runs: not done ({why}); only the FLAML side ran."
        print(amlis_note, flush=True)
    else:
        bhash = file_hash(binary)
        amlis_note = f"amlis binary: `{os.path.relpath(binary, REPO)}` (sha256 {bhash}...)."

    rows_by_budget = {b: [] for b in budgets}
    for name in names:
        entry = entries[name]
        per_budget = {b: [] for b in budgets}  # one record dict per split seed
        defaults_records = []
        for seed in range(args.repeats):
            tag = "" if seed == 0 else f"__seed{seed}"
            train, test = ensure_splits(args.corpus, entry, splits, seed)
            defaults_record = None
            if binary is not None:
                path = args.cache / "amlis" / f"{name}{tag}__defaults__{max(budgets):g}__{bhash}.json"
                defaults_record = read_cached(path, args.retry_failed)
                if defaults_record is None and not args.report_only:
                    defaults_record = run_amlis(binary, entry, train, test, max(budgets), True, args.n_jobs)
                    write_json(path, defaults_record)
                if defaults_record and "error" in defaults_record:
                    print(f"[amlis defaults] {name}{tag}: {defaults_record['error']}", flush=True)
            defaults_records.append(defaults_record)
            for budget in budgets:
                fpath = args.cache / "flaml" / f"{name}__{budget:g}{tag}.json"
                frec = read_cached(fpath, args.retry_failed)
                if frec is None and (args.report_only or args.amlis_only):
                    frec = {"name": name, "budget": budget, "error": "not in the cache"}
                if frec is None:
                    print(f"[flaml] {name}{tag} budget {budget:g} s ... (load {load_avg()})", flush=True)
                    try:
                        frec = run_flaml(entry, train, test, budget, args.n_jobs)
                    except Exception as e:  # one failed fit never stops the comparison
                        frec = {"name": name, "budget": budget, "error": f"{type(e).__name__}: {e}"}
                    write_json(fpath, frec)
                print(f"[flaml] {name}{tag} {budget:g} s: score {frec.get('score', frec.get('error'))} "
                      f"({frec.get('best_estimator', '-')}, {frec.get('fit_seconds', '-')} s)", flush=True)
                arec = None
                if binary is not None:
                    apath = args.cache / "amlis" / f"{name}{tag}__{budget:g}__{bhash}.json"
                    arec = read_cached(apath, args.retry_failed)
                    if arec is None and args.report_only:
                        arec = {"error": "not in the cache"}
                    if arec is None:
                        arec = run_amlis(binary, entry, train, test, budget, False, args.n_jobs)
                        write_json(apath, arec)
                    shown = arec["result"]["score"] if "result" in arec else arec.get("error")
                    print(f"[amlis] {name}{tag} {budget:g} s: score {shown}", flush=True)
                per_budget[budget].append((frec, arec, defaults_record))
        for budget in budgets:
            rows_by_budget[budget].append(split_row(name, per_budget[budget], binary is not None))
    loads.append(load_avg())
    text = report(rows_by_budget, entries, command, amlis_note, loads)
    output = args.output or args.cache / "report.md"
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text + "\n", encoding="utf-8")
    print(text)
    print(f"\nreport written to {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
