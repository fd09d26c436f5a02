#!/usr/bin/env bash
# Runs the neural models under E1, E2 and E3 as BENCHMARKS.md reports them and writes one JSON
# per run under the results directory. About 70 minutes on 2 cores.
# Usage: [MODELS="dkt sakt"] bench/eval_neural.sh [shared data dir] [results dir]
set -euo pipefail
cd "$(dirname "$0")/.."
shared=${1:-../shared/data}
out=${2:-results}
mkdir -p "$out"
cargo build --release -q -p attune-cli
bin=target/release/attune
models=${MODELS:-"dkt dkvmn sakt akt"}
run() { # protocol dataset-path [extra args]
  local p=$1 d=$2 name; name=$(basename "$2"); shift 2
  for m in $models; do
    $bin eval --protocol "$p" --dataset "$d" --model "$m" --quiet --json "$out/$p-$name-$m.json" "$@" | tail -1
  done
}
run e1 "$shared/assist2009_updated"
run e1 "$shared/STATICS"
# DKVMN's memory size on STATICS, as chosen on its validation split (see BENCHMARKS.md)
$bin eval --protocol e1 --dataset "$shared/STATICS" --model dkvmn --set slots=10 --quiet \
  --json "$out/e1-STATICS-dkvmn-slots10.json" | tail -1
run e2 "$shared/lpp/assistments09"
run e2 "$shared/lpp/statics"
run e3 "$shared/akt/assist2009_pid"
