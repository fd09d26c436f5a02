"""Prints the E6 table of BENCHMARKS.md from bench/results/e6-<env>-<policy>-<seed>.json."""
import json, sys

out = sys.argv[1] if len(sys.argv) > 1 else "bench/results"
pols = ["random", "topological", "greedy", "lookahead"]
print("| env | seed | random | topological | greedy | lookahead |")
print("|---|---|---|---|---|---|")
for env in ["kss", "irt", "bkt", "dkt"]:
    for seed in [1, 2, 3]:
        vals = [json.load(open(f"{out}/e6-{env}-{p}-{seed}.json")) for p in pols]
        best = max(v["ep_mean"] for v in vals)
        cells = [(f"**{v['ep_mean']:.3f}**" if v["ep_mean"] == best else f"{v['ep_mean']:.3f}") + f" ± {v['ep_sd']:.3f}" for v in vals]
        print(f"| {env} | {seed} | " + " | ".join(cells) + " |")
