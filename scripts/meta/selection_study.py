#!/usr/bin/env python3
"""Offline study of how auto_classifier / auto_regressor choose among their candidates.

Reads the amlis runs cached by `flaml_compare.py` (`<cache>/amlis/`, one binary hash) whose
`selection` block `examples/auto_fit` prints (every trial scored on all the rows, with its
fold scores, the prior defaults and the chosen trial) and the `--defaults` runs of the same
binary (each family default's holdout score). For each data set and split it replays choice
rules on the fold scores and scores the candidate each rule would choose on the holdout:

  current      the search's own rule (the one-standard-error pick, unless the better prior
               default by mean score is not clearly beaten: the paired gain, a 20% trimmed
               mean since session 14, <= its corrected SE);
               replayed, and checked against the choice the binary made;
  first_prior  the first prior default (the portfolio's best) is the incumbent unless another
               prior clearly beats it; then the pick must clearly beat that incumbent;
  pick         the one-standard-error pick alone (no prior-default rule).

A candidate's holdout score is known when it is the candidate the binary chose (the run's
score) or a prior default (its family default's score from the `--defaults` run). Splits where
an ensemble was used are left out (the ensemble, not the single choice, was scored), and so are
splits where a rule chooses a candidate whose holdout score is unknown (counted).

    python3 scripts/meta/selection_study.py --cache target/meta-compare --hash HASH \\
        --budget 10 --repeats 10
"""

import argparse
import json
import math
import re
from collections import defaultdict
from pathlib import Path


def read(path: Path):
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None


def test_to_train(validation: str) -> float:
    """n_test / n_train of one split of the search's validation ("5 folds", "holdout 0.2")."""
    m = re.match(r"(\d+) folds", validation)
    if m:
        k = int(m.group(1))
        return 1.0 / (k - 1)
    m = re.match(r"holdout ([0-9.]+)", validation)
    if m:
        f = float(m.group(1))
        return f / (1.0 - f)
    return 0.25


def paired_gain(sel: dict, a: int, b: int, sign: float):
    """Trimmed mean and corrected SE of the fold differences a - b (as the search computes them): the
    repeated rungs of all the rows (after the first full-row rung), else that first rung."""
    rungs = sel["rungs"]
    n = max(rungs)
    first = rungs.index(n)
    folds = {}
    for t in sel["full_row_trials"]:
        folds.setdefault((t["candidate"], t["rung"]), t["fold_scores"])
    for later in (True, False):
        diffs = []
        for rung, rows in enumerate(rungs):
            if rows != n or (rung > first) != later:
                continue
            fa, fb = folds.get((a, rung)), folds.get((b, rung))
            if fa and fb and len(fa) == len(fb):
                diffs += [sign * (x - y) for x, y in zip(fa, fb)]
        if diffs:
            break
    m = len(diffs)
    if m == 0:
        return 0.0, 0.0, 0
    # Yuen's 20% trimmed mean and winsorized standard error (src/meta/paired.rs).
    d = sorted(diffs)
    g = int(0.2 * m)
    middle = d[g:m - g]
    gain = sum(middle) / len(middle)
    if m == 1:
        return gain, 0.0, 1
    w = [min(max(x, middle[0]), middle[-1]) for x in d]
    wm = sum(w) / m
    wv = sum((x - wm) ** 2 for x in w) / (m - 1)
    se = math.sqrt(wv * (1.0 / m + test_to_train(sel["validation"]))) / (1 - 2 * g / m)
    return gain, se, m


def top_trial(sel: dict, candidate: int):
    """The candidate's trial on the highest rung it reached (the latest there)."""
    ts = [t for t in sel["full_row_trials"] if t["candidate"] == candidate]
    return max(ts, key=lambda t: (t["rung"], t["id"])) if ts else None


def replay(sel: dict, pick: int, sign: float) -> dict:
    """The candidate each rule chooses, given the one-standard-error pick."""
    priors = [p for p in sel["prior_defaults"] if top_trial(sel, p)]
    out = {"pick": pick}
    if not priors:
        out["current"] = out["first_prior"] = pick
        return out
    # current: the better prior by (rung, mean score), then the pick must clearly beat it.
    better = None
    for p in priors:
        t = top_trial(sel, p)
        if better is None:
            better = t
            continue
        key = (t["rung"], sign * t["score"])
        if key > (better["rung"], sign * better["score"]):
            better = t
    out["current"] = challenge(sel, pick, better["candidate"], sign)
    # first_prior: the first prior unless another clearly beats it.
    incumbent = priors[0]
    for p in priors[1:]:
        gain, se, m = paired_gain(sel, p, incumbent, sign)
        if m and gain > se:
            incumbent = p
    out["first_prior"] = challenge(sel, pick, incumbent, sign)
    return out


def challenge(sel: dict, pick: int, incumbent: int, sign: float) -> int:
    if pick == incumbent:
        return pick
    gain, se, m = paired_gain(sel, pick, incumbent, sign)
    if m == 0:
        return pick
    return pick if gain > se else incumbent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cache", type=Path, default=Path("target/meta-compare"))
    parser.add_argument("--hash", required=True, help="the auto_fit binary hash of the runs")
    parser.add_argument("--budget", type=float, default=10)
    parser.add_argument("--repeats", type=int, default=10)
    args = parser.parse_args()
    amlis = args.cache / "amlis"
    names = sorted({p.name.split("__")[0] for p in amlis.glob(f"*__{args.hash}.json")})
    totals = defaultdict(list)
    print("| data set | splits | current | first_prior | pick vs current (splits) | actual | unknown |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    mismatches = 0
    for name in names:
        scores = defaultdict(list)
        unknown = 0
        for k in range(args.repeats):
            tag = "" if k == 0 else f"__seed{k}"
            run = read(amlis / f"{name}{tag}__{args.budget:g}__{args.hash}.json")
            dft = read(amlis / f"{name}{tag}__defaults__{args.budget:g}__{args.hash}.json")
            if not run or not dft or "result" not in run or "result" not in dft:
                continue
            res = run["result"]
            sel = res.get("selection")
            if not sel or (res.get("ensemble") or {}).get("used"):
                continue
            sign = 1.0  # accuracy and r2: larger is better
            chosen_trial = next((t for t in sel["full_row_trials"] if t["id"] == sel["best_trial"]),
                                None)
            if chosen_trial is None:
                continue
            chosen = chosen_trial["candidate"]
            m = re.match(r"paired gain of candidate (\d+)", res.get("choice") or "")
            pick = int(m.group(1)) if m else chosen
            by_type = {d["type"]: d["score"] for d in dft["result"].get("defaults", [])}
            types = {t["candidate"]: t["type"] for t in sel["full_row_trials"]}
            known = {chosen: res["score"]}
            for p in sel["prior_defaults"]:
                if p != chosen and types.get(p) in by_type:
                    known[p] = by_type[types[p]]
            choice = replay(sel, pick, sign)
            if choice["current"] != chosen:
                mismatches += 1
            # The prior-default rules are compared on the splits where both choices are
            # known; the pick alone on those where it is known too.
            if any(choice[r] not in known for r in ("current", "first_prior")):
                unknown += 1
                continue
            for r in ("current", "first_prior"):
                scores[r].append(known[choice[r]])
            scores["actual"].append(res["score"])
            if choice["pick"] in known:
                scores["pick"].append(known[choice["pick"]])
                scores["pick_base"].append(known[choice["current"]])
        if not scores:
            continue
        def mean(v):
            return sum(v) / len(v) if v else float("nan")

        cells = [f"{mean(scores[r]):.4f}" for r in ("current", "first_prior")]
        cells.append(f"{mean(scores['pick']):.4f} vs {mean(scores['pick_base']):.4f} "
                     f"({len(scores['pick'])})")
        cells.append(f"{mean(scores['actual']):.4f}")
        for r in ("current", "first_prior", "actual"):
            totals[r].append(mean(scores[r]))
        print(f"| {name} | {len(scores['actual'])} | {' | '.join(cells)} | {unknown} |")
    if totals:
        means = [f"{sum(totals[r]) / len(totals[r]):.4f}" for r in ("current", "first_prior")]
        print(f"| mean over {len(totals['actual'])} | | {' | '.join(means)} | | "
              f"{sum(totals['actual']) / len(totals['actual']):.4f} | |")
    print(f"\nreplayed `current` differs from the binary's choice on {mismatches} split(s)")


if __name__ == "__main__":
    main()
