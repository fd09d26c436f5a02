"""Prints the results/*.json of bench/eval_all.sh as Markdown tables (one per protocol/dataset)."""
import glob, json, os, sys
from collections import defaultdict

rows = defaultdict(list)
for path in sorted(glob.glob(os.path.join(sys.argv[1] if len(sys.argv) > 1 else "results", "*.json"))):
    if path.endswith(".config.json"):
        continue
    r = json.load(open(path))
    if "protocol" not in r:  # other benchmarks share the folder
        continue
    rows[(r["protocol"], r["dataset"])].append(r)
order = ["bkt", "bkt-forgets", "bkt-multigs", "irt1pl", "irt2pl", "mirt", "pfa", "best-lr", "elo"]
for (protocol, dataset), rs in rows.items():
    rs.sort(key=lambda r: order.index(r["model"]) if r["model"] in order else 99)
    print(f"\n**{protocol.upper()} `{dataset}`** (test interactions: {rs[0]['n_test']:,})\n")
    print("| model | AUC | accuracy | RMSE | log-loss | ECE | fit s | predict s |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rs:
        auc = f"{r['auc']:.4f}" + (f" ± {r['auc_sd']:.4f}" if r.get("auc_sd") is not None else "")
        print(f"| {r['model']} | {auc} | {r['accuracy']:.4f} | {r['rmse']:.4f} | {r['log_loss']:.4f} | "
              f"{r['ece']:.4f} | {r['fit_seconds']:.3f} | {r['predict_seconds']:.3f} |")
