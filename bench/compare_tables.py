"""Before/after AUCs: the tables of BENCHMARKS.md (before) against a results folder of
`attune eval --json` files (after). Usage: python3 bench/compare_tables.py <results dir>"""
import glob, json, os, re, sys

before = {}
table = None
for line in open(os.path.join(os.path.dirname(__file__), "..", "BENCHMARKS.md")):
    m = re.match(r"\*\*(E\d) `([^`]+)`\*\*", line)
    if m:
        table = (m.group(1).lower(), m.group(2))
        continue
    m = re.match(r"\| ([a-z0-9-]+) \| ([0-9.]+)", line)
    if table and m:
        before.setdefault((table, m.group(1)), float(m.group(2)))
    elif not line.strip().startswith("|") and line.strip():
        table = None if not line.startswith("|") and table and not line.startswith("**") and "model" not in line else table

print("| protocol | dataset | model | before | after | change |")
print("|---|---|---|---|---|---|")
for path in sorted(glob.glob(os.path.join(sys.argv[1], "*.json"))):
    if path.endswith(".config.json"):
        continue
    r = json.load(open(path))
    if "protocol" not in r:
        continue
    key = ((r["protocol"], r["dataset"]), r["model"])
    b = before.get(key)
    a = r["auc"]
    sd = f" ± {r['auc_sd']:.4f}" if r.get("auc_sd") is not None else ""
    change = "" if b is None else ("same" if abs(a - b) < 5e-5 else f"{a - b:+.4f}")
    print(f"| {r['protocol'].upper()} | {r['dataset']} | {r['model']} | {'' if b is None else f'{b:.4f}'} | {a:.4f}{sd} | {change} |")
