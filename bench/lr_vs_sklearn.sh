#!/usr/bin/env bash
# PFA and Best-LR fit time and AUC, Attune against scikit-learn on Gervet et al.'s features, same
# files, same machine, same run: E2 train -> test, 3 rounds. scikit-learn runs the paper's solver
# (lbfgs, max_iter 1000) and newton-cg, its fastest solver for this objective that converges.
# Usage: bench/lr_vs_sklearn.sh [lpp folder]   (default ../shared/data/lpp/assistments09)
set -euo pipefail
cd "$(dirname "$0")/.."
data=${1:-../shared/data/lpp/assistments09}
venv=${GERVET_VENV:-bench/peers/.venv-gervet}
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q "numpy<2" "scipy<1.14" "scikit-learn<1.4" "pandas<2.2"
fi
cargo build --release -q -p attune-cli
for round in 1 2 3; do
  echo "# round $round"
  for solver in lbfgs newton-cg; do
    "$venv/bin/python" bench/peers/gervet_lr.py "$data" --features pfa,best-lr --solver "$solver"
  done
  for m in pfa best-lr; do
    target/release/attune eval --protocol e2 --dataset "$data" --model "$m" --quiet --json /tmp/attune-$m.json >/dev/null
    python3 -c "import json; r = json.load(open('/tmp/attune-$m.json')); print(json.dumps({'peer': 'attune', 'model': r['model'], 'auc': round(r['auc'], 4), 'fit_seconds': round(r['fit_seconds'], 3), 'n_test': r['n_test']}))"
  done
done
