#!/usr/bin/env bash
# Gervet et al.'s logistic models (IRT, PFA, Best-LR) in scikit-learn beside `attune eval` under
# E2, on the shipped train/test split and on K random 80/20 user splits of the same learners.
# Usage: bench/peers/gervet_lr.sh [lpp folder] [K]   (default ../shared/data/lpp/assistments09, 10)
# Not run by CI. Writes bench/results/gervet/<dataset>/{sklearn,attune}.jsonl.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$here/../..
venv=${GERVET_VENV:-$here/.venv-gervet}
data=${1:-$root/../shared/data/lpp/assistments09}
k=${2:-10}
name=$(basename "$data")
out=$root/bench/results/gervet/$name
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q "numpy<2" "scipy<1.14" "scikit-learn<1.4" "pandas<2.2"
fi
cargo build --release -q -p attune-cli --manifest-path "$root/Cargo.toml"
attune=$root/target/release/attune
mkdir -p "$out"
splits=$(mktemp -d)
trap 'rm -rf "$splits"' EXIT
"$venv/bin/python" "$here/resplit.py" "$data" "$splits" "$k"
folders=("$data")
for s in $(seq 1 "$k"); do folders+=("$splits/split$s"); done
"$venv/bin/python" "$here/gervet_lr.py" --features irt,pfa,best-lr "${folders[@]}" > "$out/sklearn.jsonl"
: > "$out/attune.jsonl"
for f in "${folders[@]}"; do
  for m in pfa best-lr; do
    "$attune" eval --protocol e2 --dataset "$f" --model "$m" --quiet --json "$splits/one.json" > /dev/null
    python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); r["dataset"]=sys.argv[2]; print(json.dumps(r))' \
      "$splits/one.json" "$f" >> "$out/attune.jsonl"
  done
done
python3 "$here/gervet_table.py" "$out/sklearn.jsonl" "$out/attune.jsonl"
