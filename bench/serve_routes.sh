#!/usr/bin/env bash
# Times the routes beside the answer loop on the demo tenant (BENCHMARKS.md, "The routes
# beside the answer loop"): analytics cold, cached and after one new answer, the learner
# list, an adaptive-test start. Usage: bench/serve_routes.sh (builds the release binary).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -p attune-cli >/dev/null
dir=$(mktemp -d)
trap 'kill $pid 2>/dev/null; rm -rf "$dir"' EXIT
port=8097
# First start: the demo set-up; then a restart so the first analytics request reads the log.
target/release/attune serve --database "$dir/attune.db" --bind 127.0.0.1:$port >"$dir/first.log" 2>&1 &
pid=$!
until grep -q "demo API key" "$dir/first.log" 2>/dev/null; do sleep 0.2; done
grep "demo tenant" "$dir/first.log"
kill $pid; wait $pid 2>/dev/null || true
target/release/attune serve --database "$dir/attune.db" --bind 127.0.0.1:$port >"$dir/serve.log" 2>&1 &
pid=$!
until grep -q "demo API key" "$dir/serve.log" 2>/dev/null; do sleep 0.2; done
key=$(tail -1 "$dir/serve.log")
u=http://127.0.0.1:$port
t() { curl -s -o /dev/null -w "$1 %{http_code} %{time_total}s\n" -H "Authorization: Bearer $key" "${@:2}"; }
t "mastery (first)" $u/v1/analytics/mastery
t "mastery (cached)" $u/v1/analytics/mastery
curl -s -o /dev/null -H "Authorization: Bearer $key" -d '{"id": "bench-1", "learner": "assist2009_updated_train#0", "item": "41", "correct": true}' $u/v1/answers
t "mastery (after an answer)" $u/v1/analytics/mastery
for r in at-risk items skills curves; do t "$r" $u/v1/analytics/$r; done
t "learners" $u/v1/learners
t "cat start" -d '{"stop": {"max_items": 10}}' $u/v1/cat/sessions
