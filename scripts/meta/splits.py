#!/usr/bin/env python3
"""Writes the deterministic 75/25 holdout split of every corpus data set.

Usage:
    python scripts/meta/splits.py --corpus target/meta-corpus [--out DIR] [--datasets a,b]

For each entry of `<corpus>/index.json`: `<out>/<name>/train.csv` and `<out>/<name>/test.csv`
(default `<out>` = the corpus), split by scikit-learn's `train_test_split(test_size=0.25,
random_state=0)`, stratified on the target for classification. Rows keep the corpus file's
order and its exact cell text, so re-running gives identical files.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import REPO, load_index, read_text_rows, split_dataset  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=REPO / "target" / "meta-corpus")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--datasets", default="", help="comma-separated names (default all)")
    args = parser.parse_args()
    out = args.out or args.corpus
    only = set(filter(None, args.datasets.split(",")))
    for entry in load_index(args.corpus):
        if only and entry["name"] not in only:
            continue
        train, test = split_dataset(args.corpus, entry, out)
        n_train = len(read_text_rows(train)[1])
        n_test = len(read_text_rows(test)[1])
        print(f"{entry['name']:24s} train {n_train:6d}  test {n_test:6d}  -> {train.parent}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
