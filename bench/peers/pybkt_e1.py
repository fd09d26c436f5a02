"""pyBKT 1.4.3 (C++ core) on protocol E1: fit on <name>_train.csv, AUC on <name>_test.csv.

Run through bench/peers/pybkt.sh, which builds the venv. Prints one JSON line per variant with
fit and predict wall time, so that BENCHMARKS.md can put it beside `attune eval`.
"""
import gzip, json, os, sys, time

import numpy as np
import pandas as pd
from pyBKT.models import Model
from sklearn.metrics import roc_auc_score


def read_dkvmn(path, prefix):
    rows = []
    opener = open if os.path.exists(path) else (lambda p: gzip.open(p + ".gz", "rt"))
    with opener(path) as f:
        lines = [l.strip() for l in f if l.strip()]
    for r in range(0, len(lines), 3):
        skills = [s for s in lines[r + 1].split(",") if s]
        answers = [a for a in lines[r + 2].split(",") if a]
        for k, (s, a) in enumerate(zip(skills, answers)):
            rows.append((f"{prefix}{r // 3}", s, int(a), k))
    df = pd.DataFrame(rows, columns=["user_id", "skill_name", "correct", "order_id"])
    # pyBKT sorts by order_id; make it global and increasing within each learner
    df["order_id"] = np.arange(len(df))
    return df


def main():
    folder = sys.argv[1]
    name = os.path.basename(os.path.normpath(folder))
    train = read_dkvmn(os.path.join(folder, f"{name}_train.csv"), "tr")
    test = read_dkvmn(os.path.join(folder, f"{name}_test.csv"), "te")
    for variant, kw in [("bkt", {}), ("bkt-forgets", {"forgets": True})]:
        model = Model(seed=42, num_fits=5)
        t0 = time.perf_counter()
        model.fit(data=train, **kw)
        fit_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        pred = model.predict(data=test)
        pred_s = time.perf_counter() - t0
        auc = roc_auc_score(pred["correct"], pred["correct_predictions"])
        print(json.dumps({"peer": "pyBKT 1.4.3", "model": variant, "auc": round(auc, 4),
                          "fit_seconds": round(fit_s, 3), "predict_seconds": round(pred_s, 3),
                          "n_test": len(pred)}), flush=True)


if __name__ == "__main__":
    main()
