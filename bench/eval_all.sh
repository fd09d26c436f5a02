#!/usr/bin/env bash
# Runs every classical model under E1, E2 and E3 on the datasets of ../shared/data and writes
# one JSON per run under results/ (the numbers in BENCHMARKS.md come from here).
# Usage: [MODELS="pfa best-lr"] bench/eval_all.sh [shared data dir] [results dir]
set -euo pipefail
cd "$(dirname "$0")/.."
shared=${1:-../shared/data}
out=${2:-results}
cargo build --release -q -p attune-cli
bin=target/release/attune
models=${MODELS:-"bkt bkt-forgets bkt-multigs irt1pl irt2pl mirt pfa best-lr elo"}
run() { # protocol dataset-path
  local name; name=$(basename "$2")
  for m in $models; do
    $bin eval --protocol "$1" --dataset "$2" --model "$m" --quiet --json "$out/$1-$name-$m.json" | tail -1
  done
}
run e1 "$shared/assist2009_updated"
run e1 "$shared/STATICS"
run e2 "$shared/lpp/assistments09"
run e2 "$shared/lpp/statics"
run e3 "$shared/akt/assist2009_pid"
run e3 "$shared/akt/statics"
python3 bench/summarize.py "$out"
