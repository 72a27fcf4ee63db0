#!/bin/bash
# Re-learns the meta-learning portfolio shipped in data/meta/portfolio.json:
# exports the corpus of real data sets (Python packages, see requirements.txt), then runs
# amlis itself over it (examples/meta_portfolio.rs). Takes about 20-40 minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/../.."
corpus=${CORPUS:-target/meta-corpus}
python3 scripts/meta/corpus.py --out "$corpus"
cargo build --release --example meta_portfolio
target/release/examples/meta_portfolio --corpus "$corpus" --out data/meta/portfolio.json "$@"
