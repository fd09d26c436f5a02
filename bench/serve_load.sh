#!/usr/bin/env bash
# The service under load on loopback (server and load generator on the same cores), as
# BENCHMARKS.md reports it: answers per second and acknowledgement latency of POST
# /v1/answers on SQLite (fresh demo database) and on PostgreSQL where a URL is given, and the
# single-answer latency (one connection) of each model serving.
# Usage: bench/serve_load.sh [postgres URL]
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q -p attune-cli -p attune-serve --example load
bin=target/release/attune
load=target/release/examples/load
dir=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$dir"' EXIT

serve() { # database port -> prints the key once ready
  "$bin" serve --database "$1" --bind "127.0.0.1:$2" > "$dir/serve-$2.out" 2> "$dir/serve-$2.err" &
  for _ in $(seq 180); do grep -q "shown once" "$dir/serve-$2.out" 2>/dev/null && break; sleep 1; done
  sleep 1
  tail -1 "$dir/serve-$2.out"
}

db="$dir/attune.db"
key=$(serve "$db" 18090)
grep "demo tenant" "$dir/serve-18090.out" || true
echo "== SQLite, 32 connections, 1 answer per request, 20 s"
"$load" http://127.0.0.1:18090 "$key" 20 32 1
echo "== SQLite, 64 connections, 1 answer per request, 20 s"
"$load" http://127.0.0.1:18090 "$key" 20 64 1
echo "== SQLite, 32 connections, 10 answers per request, 10 s"
"$load" http://127.0.0.1:18090 "$key" 10 32 10

echo "== single-answer latency by serving model (1 connection, 10 s, 200 learners)"
for m in bkt irt1pl pfa elo dkt; do
  extra=()
  [ "$m" = dkt ] && extra=(--set max_epochs=2)
  "$bin" fit --dataset data/assist2009_updated --model "$m" "${extra[@]}" --out "$dir/$m.json" > /dev/null
  "$bin" tenant create --name "lat-$m" --database "$db" > "$dir/t-$m.out"
  k=$(tail -1 "$dir/t-$m.out")
  "$bin" tenant add-model --name "lat-$m" --model-file "$dir/$m.json" --serve --database "$db" > /dev/null
  printf '%s: ' "$m"
  "$load" http://127.0.0.1:18090 "$k" 10 1 1 200
done

if [ -n "${1:-}" ]; then
  pkey=$(serve "$1" 18091)
  echo "== PostgreSQL, 32 connections, 1 answer per request, 20 s"
  "$load" http://127.0.0.1:18091 "$pkey" 20 32 1
  echo "== PostgreSQL, 64 connections, 1 answer per request, 20 s"
  "$load" http://127.0.0.1:18091 "$pkey" 20 64 1
fi
