#!/usr/bin/env bash
# Issue 13's runs: protocol E5 for the metric- and model-based learners beside the
# optimization-based ones and both baselines on the same folds (one run per dataset, paired
# intervals of every learner against each baseline and of the RNN reader against every other),
# the RNN reader over BKT, strategy selection (its candidates, the best single one and the
# oracle), and protocol E4 for the readers (Active selection on what each writes) and for
# strategy selection (IRT-Active's tests, the response model chosen per learner) beside
# IRT-Active, on assist2009_updated, STATICS and akt/assist2009_pid, full training split,
# 5 folds, seed 42. One JSON per run; then `python3 bench/readers_tables.py <results dir>`
# prints the tables.
# Usage: bench/eval_readers.sh [shared data dir] [results dir]
set -euo pipefail
cd "$(dirname "$0")/.."
shared=${1:-../shared/data}
out=${2:-results/meta-readers}
mkdir -p "$out"
cargo build --release -q -p attune-cli
bin=${ATTUNE_BIN:-target/release/attune}
others=siamese,matching,protonet,memory-reader,maml,fomaml,reptile,metasgd,anil,lstm-opt
e5() { # dataset
  local name
  name=$(basename "$1")
  $bin eval --protocol e5 --dataset "$shared/$1" --model strategy --quiet --json "$out/e5-$name-strategy.json" | tail -4
  $bin eval --protocol e5 --dataset "$shared/$1" --model rnn-reader --versus $others --quiet \
    --json "$out/e5-$name-readers.json" | tail -4
}
e5 STATICS
e5 assist2009_updated
e5 akt/assist2009_pid
for d in akt/assist2009_pid STATICS; do
  for m in siamese matching protonet rnn-reader memory-reader; do
    $bin eval --protocol e4 --dataset "$shared/$d" --model $m --quiet --json "$out/e4-$(basename $d)-$m.json" | tail -6
  done
done
for d in assist2009_updated STATICS; do
  $bin eval --protocol e5 --dataset "$shared/$d" --model rnn-reader --base bkt --versus maml,metasgd,memory-reader --quiet \
    --json "$out/e5-$d-bkt-readers.json" | tail -4
done
for m in irt-active biirt-approx siamese matching protonet rnn-reader memory-reader; do
  $bin eval --protocol e4 --dataset "$shared/assist2009_updated" --model $m --quiet \
    --json "$out/e4-assist2009_updated-$m.json" | tail -6
done
for d in akt/assist2009_pid STATICS; do
  $bin eval --protocol e4 --dataset "$shared/$d" --model irt-active --quiet --json "$out/e4-$(basename $d)-irt-active.json" | tail -6
done
# E4 strategy selection: IRT-Active's tests, the response model chosen per learner among the
# default candidates (irt1pl:none,metasgd,siamese,protonet,memory-reader).
for d in STATICS assist2009_updated akt/assist2009_pid; do
  $bin eval --protocol e4 --dataset "$shared/$d" --model strategy --quiet --json "$out/e4-$(basename $d)-strategy.json" | tail -12
done
# The RNN reader over DKT (one fold on assist2009_updated: every step runs DKT's LSTM).
$bin eval --protocol e5 --dataset "$shared/assist2009_updated" --model rnn-reader --base dkt --versus memory-reader --fold 1 --quiet \
  --json "$out/e5-assist2009_updated-dkt-reader-fold1.json" | tail -8
$bin eval --protocol e5 --dataset "$shared/STATICS" --model rnn-reader --base dkt --versus memory-reader --quiet \
  --json "$out/e5-STATICS-dkt-reader.json" | tail -8
# Training cohorts of 10, 20 and 50 learners (10 cohorts of fold 1).
for c in 10 20 50; do
  $bin eval --protocol e5 --dataset "$shared/assist2009_updated" --model rnn-reader --versus memory-reader,protonet,metasgd \
    --cohort $c --fold 1 --quiet --json "$out/e5-assist2009_updated-readers-cohort$c.json" | tail -4
done
