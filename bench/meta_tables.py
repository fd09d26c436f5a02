"""Markdown tables of the cold-start runs written by bench/eval_meta.sh (one JSON per run).

Usage: python3 bench/meta_tables.py <results dir>
"""
import glob, json, os, sys

KS = ["1", "3", "5", "10"]


def f(x, sd=None):
    if x is None or x != x:
        return "—"
    return f"{x:.4f}" if sd is None or sd != sd else f"{x:.4f} ± {sd:.4f}"


def load(d, pattern):
    out = {}
    for p in sorted(glob.glob(os.path.join(d, pattern))):
        if p.endswith(".config.json"):
            continue
        out[os.path.basename(p)] = json.load(open(p))
    return out


def points(vs):
    """`+d [lo, hi]` in points of AUC per test length, bold where the interval is above zero."""
    bold = lambda i: "**" if i["lo"] > 0 else ""
    return " / ".join(
        f"{bold(vs[k])}{100 * vs[k]['diff']:+.1f} [{100 * vs[k]['lo']:+.1f}, {100 * vs[k]['hi']:+.1f}]{bold(vs[k])}" for k in KS if k in vs
    )


def base_of(d, name, r):
    """The base, with `+pool` where its difficulties were pooled by skill (from the config beside)."""
    base = r.get("base", "irt1pl")
    try:
        cfg = json.load(open(os.path.join(d, name[: -len(".json")] + ".config.json")))
        if cfg.get("base_config", {}).get("skill_pooling_l2", 0) > 0:
            base += " +pool"
    except (OSError, ValueError):
        pass
    return base


def e4(d):
    for ds in ["assist2009_pid", "STATICS"]:
        runs = load(d, f"e4-{ds}-*.json")
        if not runs:
            continue
        print(f"\n**E4 `{ds}`** (test AUC, mean ± sd over 5 folds, 5 draws each)\n")
        print("| tester | base | n = 1 | n = 3 | n = 5 | n = 10 | − IRT-Active (Rasch) [95 %], n = 1 / 3 / 5 / 10 | max exposure | test overlap |")
        print("|---|---|---|---|---|---|---|---|---|")
        beside = []
        for name, r in runs.items():
            cells = " | ".join(f(r["auc_at"][k], r["auc_sd_at"][k]) for k in KS)
            base = base_of(d, name, r)
            print(f"| {r['model']} | {base} | {cells} | {points(r.get('vs_irt_active') or {})} | {r['max_exposure']:.3f} | {r['mean_overlap']:.3f} |")
            beside += [(r["model"], base, other, vs) for other, vs in (r.get("versus") or {}).items()]
        starts(runs)
        if beside:
            print("\n| tester | base | − tester beside it on the same draws | n = 1 / 3 / 5 / 10 [95 %] |")
            print("|---|---|---|---|")
            for model, base, other, vs in beside:
                print(f"| {model} | {base} | {other} | {points(vs)} |")


def starts(runs):
    """The 2PL fit each BiIRT-2PL tester started from, per fold and test length (chosen on validation)."""
    rows = [(r["model"], fold) for r in runs.values() for fold in r["folds"] if fold.get("start_priors")]
    if not rows:
        return
    print("\n| tester | fold | start kept on validation (slope prior, skill pooling), n = 1 / 3 / 5 / 10 |")
    print("|---|---|---|")
    for model, fold in rows:
        sp = fold["start_priors"]
        cells = " / ".join(f"({sp[k]['slope_l2']:g}, {sp[k]['skill_pooling_l2']:g})" for k in KS if k in sp)
        print(f"| {model} | {fold['fold']} | {cells} |")


def e5(d):
    for ds in ["assist2009_updated", "STATICS"]:
        for cohort in [None, 10, 20, 50]:
            suffix = "" if cohort is None else f"-cohort{cohort}"
            runs = {n: r for n, r in load(d, f"e5-{ds}-*.json").items() if n.endswith(f"{suffix}.json") and (cohort is not None or "cohort" not in n)}
            # One table per base learner; the DKT runs of one fold have their own section.
            by_base = {}
            for n, r in runs.items():
                if "fold1" not in n:
                    by_base.setdefault(r.get("base", "irt1pl"), {})[n] = r
            for base, runs in sorted(by_base.items(), key=lambda b: b[0] != "irt1pl"):
                table(ds, cohort, base, runs)


def table(ds, cohort, base, runs):
    what = "full training split, mean ± sd over 5 folds" if cohort is None else f"cohorts of {cohort} training learners, 10 cohorts of fold 1, mean ± sd"
    print(f"\n**E5 `{ds}`, base `{base}`** ({what}; AUC on answers k+1…k+20)\n")
    print("| learner | k = 1 | k = 3 | k = 5 | k = 10 | vs none (k = 1 / 3 / 5 / 10) | vs finetune |")
    print("|---|---|---|---|---|---|---|")
    rows = {r["model"]: r for r in runs.values()}
    for r in runs.values():
        for b, s in r["baselines"].items():
            rows.setdefault(b, {"model": b, **s})
    order = ["none", "finetune", "maml", "fomaml", "reptile", "metasgd", "anil", "lstm-opt"]
    for name in sorted(rows, key=lambda n: order.index(n) if n in order else 99):
        r = rows[name]
        cells = " | ".join(f(r["auc_at"][k], r["auc_sd_at"][k]) for k in KS)
        def vs(key):
            v = r.get(key)
            if not v:
                return ""
            return " / ".join(("**" if v[k]["lo"] > 0 else "") + f"{v[k]['diff']:+.4f} [{v[k]['lo']:+.4f}, {v[k]['hi']:+.4f}]" + ("**" if v[k]["lo"] > 0 else "") for k in KS)
        print(f"| {name} | {cells} | {vs('vs_none')} | {vs('vs_finetune')} |")


if __name__ == "__main__":
    d = sys.argv[1] if len(sys.argv) > 1 else "results/meta"
    e4(d)
    e5(d)
