"""Markdown table from gervet_lr.sh's two JSON-lines files (scikit-learn and Attune)."""
import json, statistics, sys


def load(path):
    out = {}
    for line in open(path):
        r = json.loads(line)
        split = r["dataset"].rstrip("/").split("/")[-1]
        out[split if split.startswith("split") else "e2", r["model"]] = r["auc"]
    return out


def summary(aucs):
    return f"{statistics.mean(aucs):.4f} ± {statistics.stdev(aucs):.4f} ({min(aucs):.4f}–{max(aucs):.4f})"


def main():
    sk, at = load(sys.argv[1]), load(sys.argv[2])
    splits = sorted({s for s, _ in sk if s != "e2"}, key=lambda s: int(s[5:]))
    print("| model | E2 split: scikit-learn | E2 split: Attune | "
          f"{len(splits)} random splits: scikit-learn | Attune | largest per-split gap |")
    print("|---|---|---|---|---|---|")
    for m in ("irt", "pfa", "best-lr"):
        if ("e2", m) not in sk:
            continue
        row = [m, f"{sk['e2', m]:.4f}", f"{at['e2', m]:.4f}" if ("e2", m) in at else "–"]
        sk_r = [sk[s, m] for s in splits]
        row.append(summary(sk_r) if len(sk_r) > 1 else "–")
        at_r = [at[s, m] for s in splits if (s, m) in at]
        if len(at_r) == len(sk_r) > 1:
            row += [summary(at_r), f"{max(abs(a - b) for a, b in zip(at_r, sk_r)):.4f}"]
        else:
            row += ["–", "–"]
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
