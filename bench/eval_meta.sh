#!/usr/bin/env bash
# Runs the cold-start protocols as BENCHMARKS.md reports them, one JSON per run under the
# results directory: E4 (classic IRT testers and BOBCAT's BiIRT) on akt/assist2009_pid and
# STATICS; E5 (every optimization-based learner over the Rasch model, both baselines beside
# each, and over BKT) on assist2009_updated and STATICS with the full training split (5 folds), and MAML on
# cohorts of 10/20/50 training learners (10 cohorts of fold 1). Then
# `python3 bench/meta_tables.py <results dir>` prints the tables. About 8 hours on 2 cores
# (the DKT runs and BiNN testers are most of it).
# Usage: bench/eval_meta.sh [shared data dir] [results dir]
set -euo pipefail
cd "$(dirname "$0")/.."
shared=${1:-../shared/data}
out=${2:-results/meta}
mkdir -p "$out"
cargo build --release -q -p attune-cli
bin=${ATTUNE_BIN:-target/release/attune}
for d in akt/assist2009_pid STATICS; do
  for m in irt-random irt-active irt-mfi irt-kli biirt-random biirt-active biirt-approx biirt-unbiased \
    binn-random binn-active binn-approx binn-unbiased; do
    $bin eval --protocol e4 --dataset "$shared/$d" --model $m --quiet --json "$out/e4-$(basename $d)-$m.json" | tail -4
  done
  # Over the 2PL: the classic tester with Fisher information, BiIRT learning slopes too
  # (vs_irt_active stays against IRT-Active over the Rasch model).
  for m in irt-mfi biirt-mfi biirt-approx; do
    $bin eval --protocol e4 --dataset "$shared/$d" --model $m --base irt2pl --quiet \
      --json "$out/e4-$(basename $d)-$m-2pl.json" | tail -4
  done
  # The same with item difficulties pooled by skill (a rare item borrows its skills'
  # difficulty); --versus pairs BiIRT with the classic tester on the same item model.
  $bin eval --protocol e4 --dataset "$shared/$d" --model irt-active --set skill_pooling_l2=1 --quiet \
    --json "$out/e4-$(basename $d)-irt-active-pool.json" | tail -4
  for m in biirt-mfi biirt-approx; do
    $bin eval --protocol e4 --dataset "$shared/$d" --model $m --base irt2pl --set skill_pooling_l2=1 \
      --versus irt-mfi --quiet --json "$out/e4-$(basename $d)-$m-2pl-pool.json" | tail -4
  done
done
for d in assist2009_updated STATICS; do
  for m in none finetune maml fomaml reptile metasgd anil lstm-opt; do
    $bin eval --protocol e5 --dataset "$shared/$d" --model $m --quiet --json "$out/e5-$d-$m.json" | tail -4
  done
  for c in 10 20 50; do
    $bin eval --protocol e5 --dataset "$shared/$d" --model maml --cohort $c --fold 1 --quiet \
      --json "$out/e5-$d-maml-cohort$c.json" | tail -4
  done
  # Over BKT: every learner, 5 folds (minutes each).
  for m in maml fomaml reptile metasgd anil; do
    $bin eval --protocol e5 --dataset "$shared/$d" --model $m --base bkt --quiet \
      --json "$out/e5-$d-$m-bkt.json" | tail -4
  done
  # Over DKT: fold 1 only (about 25 minutes per learner on 2 cores).
  for m in maml fomaml reptile metasgd anil; do
    $bin eval --protocol e5 --dataset "$shared/$d" --model $m --base dkt --fold 1 --quiet \
      --json "$out/e5-$d-$m-dkt-fold1.json" | tail -4
  done
done
