"""Markdown tables of issue 13's runs written by bench/eval_readers.sh (one JSON per run).

Usage: python3 bench/readers_tables.py <results dir> [<E4 runs of readers trained on first answers>]
"""
import glob, json, os, sys

KS = ["1", "3", "5", "10"]
DATASETS = ["assist2009_updated", "STATICS", "assist2009_pid"]
OPTIMIZATION = ["finetune", "maml", "fomaml", "reptile", "metasgd", "anil", "lstm-opt"]
READERS = ["siamese", "matching", "protonet", "rnn-reader", "memory-reader"]


def f(x, sd=None):
    if x is None or x != x:
        return "—"
    return f"{x:.4f}" if sd is None or sd != sd else f"{x:.4f} ± {sd:.4f}"


def iv(i):
    if not i:
        return "—"
    bold = i["lo"] > 0
    s = f"{i['diff']:+.4f} [{i['lo']:+.4f}, {i['hi']:+.4f}]"
    return f"**{s}**" if bold else s


def load(path):
    return json.load(open(path)) if os.path.exists(path) else None


def scores(r, name):
    return r if r["model"] == name else r["baselines"].get(name)


def intervals(r, name, baseline):
    if r["model"] == name:
        return r.get(f"vs_{baseline}") or {}
    return r.get("baseline_intervals", {}).get(name, {}).get(baseline, {})


def e5_readers(d):
    for ds in DATASETS:
        r = load(os.path.join(d, f"e5-{ds}-readers.json"))
        if not r:
            continue
        print(f"\n**E5 `{ds}`, base `irt1pl`** (full training split, mean ± sd over 5 folds; AUC on answers k+1…k+20)\n")
        print("| learner | k = 1 | k = 3 | k = 5 | k = 10 | vs none (k = 1 / 3 / 5 / 10) | vs finetune | rnn-reader − it (k = 1 / 3 / 5 / 10) |")
        print("|---|---|---|---|---|---|---|---|")
        for name in ["none"] + OPTIMIZATION + READERS:
            s = scores(r, name)
            if not s:
                continue
            cells = " | ".join(f(s["auc_at"][k], s["auc_sd_at"][k]) for k in KS)
            vs = lambda b: " / ".join(iv(intervals(r, name, b).get(k)) for k in KS) if name not in ("none", b) else ""
            them = r.get("versus", {}).get(name) or (r.get(f"vs_{name}") if name in ("none", "finetune") else None)
            against = " / ".join(iv(them.get(k)) for k in KS) if them and name != "rnn-reader" else ""
            print(f"| {name} | {cells} | {vs('none')} | {vs('finetune')} | {against} |")


def e5_other(d):
    """The RNN reader over BKT and DKT, and on training cohorts."""
    runs = [
        (f"e5-{ds}-bkt-readers.json", f"E5 `{ds}`, base `bkt`", "full training split, mean ± sd over 5 folds")
        for ds in DATASETS
    ] + [
        ("e5-assist2009_updated-dkt-reader-fold1.json", "E5 `assist2009_updated`, base `dkt`", "fold 1"),
        ("e5-STATICS-dkt-reader.json", "E5 `STATICS`, base `dkt`", "full training split, mean ± sd over 5 folds"),
    ] + [
        (f"e5-assist2009_updated-readers-cohort{c}.json", f"E5 `assist2009_updated`, base `irt1pl`, cohorts of {c}",
         f"10 cohorts of {c} training learners from fold 1, mean ± sd")
        for c in (10, 20, 50)
    ]
    for name, title, what in runs:
        r = load(os.path.join(d, name))
        if not r:
            continue
        print(f"\n**{title}** ({what}; AUC on answers k+1…k+20)\n")
        print("| learner | k = 1 | k = 3 | k = 5 | k = 10 | vs none (k = 1 / 3 / 5 / 10) | vs finetune | rnn-reader − it |")
        print("|---|---|---|---|---|---|---|---|")
        names = ["none", "finetune"] + [n for n in r["baselines"] if n not in ("none", "finetune")] + [r["model"]]
        for n in names:
            s = scores(r, n)
            if not s:
                continue
            cells = " | ".join(f(s["auc_at"][k], s["auc_sd_at"].get(k)) for k in KS)
            vs = lambda b: " / ".join(iv(intervals(r, n, b).get(k)) for k in KS) if n not in ("none", b) else ""
            them = r.get("versus", {}).get(n) or (r.get(f"vs_{n}") if n in ("none", "finetune") else None)
            against = " / ".join(iv(them.get(k)) for k in KS) if them and n != r["model"] else ""
            print(f"| {n} | {cells} | {vs('none')} | {vs('finetune')} | {against} |")


def e5_strategy(d):
    for ds in DATASETS:
        r = load(os.path.join(d, f"e5-{ds}-strategy.json"))
        if not r:
            continue
        st = r["strategy"]
        print(f"\n**Strategy selection, E5 `{ds}`** (full training split, mean ± sd over 5 folds; AUC on answers k+1…k+20)\n")
        print("| learner | k = 1 | k = 3 | k = 5 | k = 10 |")
        print("|---|---|---|---|---|")
        for name in st["candidates"] + ["best-single", "strategy", "oracle"]:
            s = scores(r, name)
            if s:
                print(f"| {name} | " + " | ".join(f(s["auc_at"][k], s["auc_sd_at"][k]) for k in KS) + " |")
        print("\n| k | strategy − best single (AUC) | regret vs oracle (AUC / log-loss) | oracle headroom over best single (AUC / log-loss) | best single (folds) | chosen (share of test learners) |")
        print("|---|---|---|---|---|---|")
        for k in KS:
            chosen = ", ".join(f"{n} {v:.0%}" for n, v in sorted(st["chosen"][k].items(), key=lambda x: -x[1]))
            best = ", ".join(f"{n} ×{c}" for n, c in st["best_single"][k].items())
            print(f"| {k} | {iv(st['gain'].get(k))} | {st['regret_auc'][k]:.4f} / {st['regret_log_loss'][k]:.4f} | "
                  f"{st['headroom_auc'][k]:.4f} / {st['headroom_log_loss'][k]:.4f} | {best} | {chosen} |")


def e4_strategy(d):
    for ds in ["assist2009_pid", "assist2009_updated", "STATICS"]:
        r = load(os.path.join(d, f"e4-{ds}-strategy.json"))
        if not r:
            continue
        st = r["strategy"]
        print(f"\n**Strategy selection, E4 `{ds}`** (IRT-Active's tests; the response model chosen per learner; "
              "query AUC of every fold's tests pooled, 5 folds × 5 draws)\n")
        print("| response model | n = 1 | n = 3 | n = 5 | n = 10 | strategy − it (n = 1 / 3 / 5 / 10) |")
        print("|---|---|---|---|---|---|")
        for name in st["candidates"] + ["best-single", "strategy", "oracle"]:
            cells = " | ".join(f(st["auc"][k][name]) for k in KS)
            vs = " / ".join(iv(r.get("versus", {}).get(name, {}).get(k)) for k in KS) if name != "strategy" else ""
            print(f"| {name} | {cells} | {vs} |")
        print("\n| n | strategy − best single (AUC) | regret vs oracle (AUC / log-loss) | oracle headroom over best single (AUC / log-loss) | best single (folds) | chosen (share of tests) |")
        print("|---|---|---|---|---|---|")
        for k in KS:
            chosen = ", ".join(f"{n} {v:.0%}" for n, v in sorted(st["chosen"][k].items(), key=lambda x: -x[1]))
            best = ", ".join(f"{n} ×{c}" for n, c in st["best_single"][k].items())
            print(f"| {k} | {iv(st['gain'].get(k))} | {st['regret_auc'][k]:.4f} / {st['regret_log_loss'][k]:.4f} | "
                  f"{st['headroom_auc'][k]:.4f} / {st['headroom_log_loss'][k]:.4f} | {best} | {chosen} |")


def e4(d):
    for ds in ["assist2009_pid", "assist2009_updated", "STATICS"]:
        runs = [load(p) for p in sorted(glob.glob(os.path.join(d, f"e4-{ds}-*.json"))) if not p.endswith(".config.json")]
        runs = [r for r in runs if r]
        if not runs:
            continue
        print(f"\n**E4 `{ds}`, readers** (test AUC, mean ± sd over 5 folds, 5 draws each; each reader trained on IRT-Active's tests, "
              "testing with Active selection on what it writes; strategy: IRT-Active's items, the response model chosen per learner)\n")
        print("| tester | n = 1 | n = 3 | n = 5 | n = 10 | vs irt-active (n = 1 / 3 / 5 / 10) | max exposure | test overlap |")
        print("|---|---|---|---|---|---|---|---|")
        order = ["irt-active", "biirt-approx"] + READERS + ["strategy"]
        runs.sort(key=lambda r: order.index(r["model"]) if r["model"] in order else 99)
        for r in runs:
            cells = " | ".join(f(r["auc_at"][k], r["auc_sd_at"][k]) for k in KS)
            vs = " / ".join(iv((r.get("vs_irt_active") or {}).get(k)) for k in KS)
            print(f"| {r['model']} | {cells} | {vs} | {r['max_exposure']:.3f} | {r['mean_overlap']:.3f} |")


def e4_training(new, old):
    """The E4 readers trained on IRT-Active's tests against the same readers trained on first
    answers (the runs of an older build, same folds, draws and IRT-Active reference)."""
    print("\n**E4, readers trained on IRT-Active's tests minus trained on first answers** (mean test AUC over "
          "5 folds; in brackets: vs irt-active before → after, * an interval above zero, − below)\n")
    print("| dataset | reader | n = 1 | n = 3 | n = 5 | n = 10 |")
    print("|---|---|---|---|---|---|")
    mark = lambda i: "*" if i["lo"] > 0 else ("−" if i["hi"] < 0 else "")
    for ds in ["assist2009_pid", "assist2009_updated", "STATICS"]:
        for m in READERS:
            a = load(os.path.join(new, f"e4-{ds}-{m}.json"))
            b = load(os.path.join(old, f"e4-{ds}-{m}.json"))
            if not (a and b):
                continue
            cells = []
            for k in KS:
                va, vb = a["vs_irt_active"][k], b["vs_irt_active"][k]
                cells.append(f"{a['auc_at'][k] - b['auc_at'][k]:+.4f} ({vb['diff']:+.4f}{mark(vb)} → {va['diff']:+.4f}{mark(va)})")
            print(f"| {ds} | {m} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    d = sys.argv[1] if len(sys.argv) > 1 else "results/meta-readers"
    e5_readers(d)
    e5_other(d)
    e5_strategy(d)
    e4(d)
    e4_strategy(d)
    if len(sys.argv) > 2:
        e4_training(d, sys.argv[2])
