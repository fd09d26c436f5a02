#!/usr/bin/env bash
# Runs protocol E5 for the metric- and model-based learners over the Rasch model (issue 13),
# both baselines beside each, on assist2009_updated, STATICS and akt/assist2009_pid with the
# full training split (5 folds), and the optimization-based learners on akt/assist2009_pid
# (the other two datasets have them from bench/eval_meta.sh). One JSON per run; then
# `python3 bench/meta_tables.py <results dir>` prints the tables.
# Usage: bench/eval_readers.sh [shared data dir] [results dir]
set -euo pipefail
cd "$(dirname "$0")/.."
shared=${1:-../shared/data}
out=${2:-results/meta-readers}
mkdir -p "$out"
cargo build --release -q -p attune-cli
bin=${ATTUNE_BIN:-target/release/attune}
for d in assist2009_updated STATICS akt/assist2009_pid; do
  for m in siamese matching protonet rnn-reader memory-reader; do
    $bin eval --protocol e5 --dataset "$shared/$d" --model $m --quiet --json "$out/e5-$(basename $d)-$m.json" | tail -4
  done
done
for m in maml fomaml reptile metasgd anil lstm-opt; do
  $bin eval --protocol e5 --dataset "$shared/akt/assist2009_pid" --model $m --quiet \
    --json "$out/e5-assist2009_pid-$m.json" | tail -4
done
