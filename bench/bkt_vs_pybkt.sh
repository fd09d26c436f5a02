#!/usr/bin/env bash
# BKT fit time and AUC, Attune against pyBKT 1.4.3 (C++ core), same files, same machine, same
# run: E1 assist2009_updated train -> test, 5 restarts each, both variants, 3 rounds.
# Usage: bench/bkt_vs_pybkt.sh [dataset folder]
set -euo pipefail
cd "$(dirname "$0")/.."
data=${1:-data/assist2009_updated}
cargo build --release -q -p attune-cli
for round in 1 2 3; do
  echo "# round $round"
  bench/peers/pybkt.sh "$data"
  for m in bkt bkt-forgets; do
    target/release/attune eval --protocol e1 --dataset "$data" --model "$m" --quiet --json /tmp/attune-$m.json >/dev/null
    python3 -c "import json; r = json.load(open('/tmp/attune-$m.json')); print(json.dumps({'peer': 'attune', 'model': r['model'], 'auc': round(r['auc'], 4), 'fit_seconds': round(r['fit_seconds'], 3), 'predict_seconds': round(r['predict_seconds'], 3), 'n_test': r['n_test']}))"
  done
done
