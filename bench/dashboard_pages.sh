#!/usr/bin/env bash
# Times every dashboard page on a class of 1,000 learners x 110 skills (BENCHMARKS.md, "The
# dashboard"): a seeded class (each learner practises 66 of the 110 skills, 3 answers each:
# 198,000 answers) posted through the API, BKT (serving) and a 2PL bank fitted by training
# jobs, then each page timed with curl: the first request after a restart (once the start's
# background warm-up has read and traced the class; the warm-up's own time is printed),
# warm (median of 20), and right after one new answer (the class read incrementally and
# traced again).
# Usage: bench/dashboard_pages.sh (builds the release binary).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -p attune-cli >/dev/null
dir=$(mktemp -d)
pid=""
trap 'kill $pid 2>/dev/null; rm -rf "$dir"' EXIT
port=8098
u=http://127.0.0.1:$port
db="$dir/attune.db"
key=$(target/release/attune tenant create --name bench-class --database "$db" | tail -1)
serve() {
  target/release/attune serve --no-demo --database "$db" --bind 127.0.0.1:$port >"$dir/serve.log" 2>&1 &
  pid=$!
  until curl -sf $u/readyz >/dev/null; do sleep 0.2; done
}
serve
python3 - "$u" "$key" <<'PY'
import json, random, sys, time, urllib.request
url, key = sys.argv[1], sys.argv[2]
def post(path, body):
    req = urllib.request.Request(url + path, data=json.dumps(body).encode(), method="POST",
        headers={"Authorization": "Bearer " + key, "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=600) as r:
        return json.load(r)
rng = random.Random(7)
skills = [f"skill-{k:03d}" for k in range(110)]
post("/v1/items", [{"item": f"item-{k:03d}-{j}", "skills": [s]} for k, s in enumerate(skills) for j in range(10)])
post("/v1/prerequisites", [{"skill": skills[k], "requires": skills[k - 1]} for k in range(1, 110) if k % 5])
batch, t0 = [], 1_764_000_000
for l in range(1000):
    ability = rng.gauss(0, 1)
    for k in sorted(rng.sample(range(110), 66)):
        for j in range(3):
            p = 1 / (1 + pow(2.718281828, -(ability - (k % 7 - 3) / 3 + 0.4 * j)))
            batch.append({"id": f"a{l}-{k}-{j}", "learner": f"learner-{l:04d}", "item": f"item-{k:03d}-{rng.randrange(10)}",
                          "correct": rng.random() < p, "time": t0 + l * 600 + k * 5 + j})
for i in range(0, len(batch), 10000):
    post("/v1/answers", batch[i:i + 10000])
for model, serve in (("bkt", True), ("irt2pl", False)):
    job = post("/v1/jobs", {"model": model, "serve": serve})
    while True:
        req = urllib.request.Request(url + "/v1/jobs/" + job["id"], headers={"Authorization": "Bearer " + key})
        with urllib.request.urlopen(req) as r:
            j = json.load(r)
        if j["status"] in ("succeeded", "failed", "cancelled"):
            assert j["status"] == "succeeded", j
            break
        time.sleep(0.3)
print(f"class: 1000 learners, 110 skills, {len(batch)} answers")
PY
# A restart: the server reads and traces the class in the background before the first page.
kill $pid; wait $pid 2>/dev/null || true
serve
until grep -q "classes read and traced" "$dir/serve.log"; do sleep 0.1; done
grep -o "classes read and traced.*" "$dir/serve.log" | sed 's/\x1b\[[0-9;]*m//g'
cookie=$(curl -s -D - -o /dev/null --data-urlencode "key=$key" $u/dashboard/sign-in | tr -d '\r' \
  | sed -n 's/^set-cookie: attune_session=\([0-9a-f]*\).*/\1/Ip')
get() { curl -s -o /dev/null -w "%{time_total}\n" -b "attune_session=$cookie" "$u$1"; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
pages=("/dashboard" "/dashboard/learners/learner-0007" "/dashboard/items" "/dashboard/models")
printf "%-34s %10s %10s %14s %10s\n" page first warm after-answer size
n=0
for p in "${pages[@]}"; do
  first=$(get "$p")
  warm=$(for _ in $(seq 20); do get "$p"; done | median)
  n=$((n + 1))
  curl -s -o /dev/null -H "Authorization: Bearer $key" \
    -d "{\"id\": \"bench-$n\", \"learner\": \"learner-0007\", \"item\": \"item-001-1\", \"correct\": true}" $u/v1/answers
  after=$(get "$p")
  size=$(curl -s -b "attune_session=$cookie" "$u$p" | wc -c)
  printf "%-34s %9.0fms %9.0fms %13.0fms %9dkB\n" "$p" "$(echo "$first*1000" | bc)" "$(echo "$warm*1000" | bc)" \
    "$(echo "$after*1000" | bc)" $((size / 1024))
done
