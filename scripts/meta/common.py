"""Shared helpers of the meta-learning corpus scripts (corpus.py, splits.py, flaml_compare.py).

The corpus directory holds `<name>.csv` per data set and `index.json` (written by corpus.py);
the holdout splits live in `<split_dir>/<name>/train.csv` and `test.csv` (written by
splits.py or `ensure_splits`).
"""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

# Cells that a CSV reader takes as missing: amlis's defaults (src/data/csv.rs) and pandas'
# `read_csv` defaults. A categorical value must never be one of them.
MISSING_TOKENS = {
    "", "NA", "N/A", "NaN", "nan", "null", "NULL", "?",  # amlis
    "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN",
    "<NA>", "n/a", "None",  # pandas
}

TEST_SIZE = 0.25
SEED = 0


def load_index(corpus: Path) -> list[dict]:
    """The entries of `<corpus>/index.json`."""
    with open(corpus / "index.json", encoding="utf-8") as f:
        return json.load(f)


def index_by_name(corpus: Path) -> dict[str, dict]:
    return {entry["name"]: entry for entry in load_index(corpus)}


def read_text_rows(path: Path) -> tuple[list[str], list[list[str]]]:
    """Header and rows of a CSV as the exact strings of the file (no type conversion)."""
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        header = next(reader)
        rows = [row for row in reader]
    return header, rows


def write_text_rows(path: Path, header: list[str], rows: list[list[str]]) -> None:
    """Writes rows with the same dialect as pandas' `to_csv` (minimal quoting, `\\n` line ends)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(header)
    writer.writerows(rows)
    write_if_changed(path, buf.getvalue())


def write_if_changed(path: Path, text: str) -> None:
    """Writes `text` unless the file already holds exactly it (keeps mtimes stable on re-runs)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def holdout_indices(labels: list[str], task: str, seed: int = SEED, test_size: float = TEST_SIZE):
    """Deterministic 75/25 holdout: row indices of train and test, each in file order.

    Classification splits are stratified on the label text; regression splits are plain.
    Uses scikit-learn's `train_test_split`, so the split is the one a Python user would make.
    """
    from sklearn.model_selection import train_test_split

    idx = list(range(len(labels)))
    stratify = labels if task == "classification" else None
    train, test = train_test_split(idx, test_size=test_size, random_state=seed, stratify=stratify)
    return sorted(train), sorted(test)


def split_dir(out: Path, name: str, seed: int = SEED) -> Path:
    """Where the split of seed `seed` lives: `<out>/<name>` for the default seed, else
    `<out>/<name>/seed<seed>` (repeated holdouts)."""
    return out / name if seed == SEED else out / name / f"seed{seed}"


def split_dataset(corpus: Path, entry: dict, out: Path, seed: int = SEED) -> tuple[Path, Path]:
    """Writes the `train.csv` and `test.csv` of one index entry's holdout split of seed `seed`
    (in `split_dir`); returns their paths.

    The cells are copied as text from `<corpus>/<file>`, so the splits hold exactly the
    corpus's values.
    """
    header, rows = read_text_rows(corpus / entry["file"])
    col = header.index(entry["target"])
    train, test = holdout_indices([row[col] for row in rows], entry["task"], seed=seed)
    train_path = split_dir(out, entry["name"], seed) / "train.csv"
    test_path = split_dir(out, entry["name"], seed) / "test.csv"
    write_text_rows(train_path, header, [rows[i] for i in train])
    write_text_rows(test_path, header, [rows[i] for i in test])
    return train_path, test_path


def ensure_splits(corpus: Path, entry: dict, out: Path, seed: int = SEED) -> tuple[Path, Path]:
    """The split files of one data set for seed `seed`, written first if they are missing."""
    train_path = split_dir(out, entry["name"], seed) / "train.csv"
    test_path = split_dir(out, entry["name"], seed) / "test.csv"
    if train_path.exists() and test_path.exists():
        return train_path, test_path
    return split_dataset(corpus, entry, out, seed)


def load_xy(path: Path, target: str, categorical_from=None):
    """Reads a split for Python learners: (X, y, categorical column names).

    Columns that are not numbers are categorical and become pandas `category` columns, with
    the categories of `categorical_from` (the training frame) when given, so train and test
    share one coding; values unseen in training become missing.
    """
    import pandas as pd

    df = pd.read_csv(path, keep_default_na=False, na_values=[""])
    y = df.pop(target)
    cats = [c for c in df.columns if not pd.api.types.is_numeric_dtype(df[c])]
    for c in cats:
        if categorical_from is not None and c in categorical_from:
            categories = categorical_from[c].cat.categories
        else:
            categories = sorted(df[c].dropna().unique().tolist())
        df[c] = pd.Categorical(df[c], categories=categories)
    return df, y, cats
