"""Gervet et al. (JEDM 2020) logistic models with scikit-learn, on protocol E2.

The features follow the definitions of the paper's `encode.py` (written anew here, not copied):
`-s` the item's skills (many-hot over the Q-matrix), `-i` one-hot item, and log(1 + n) counts of
the learner's earlier wins (`-w`) and attempts (`-a`) on each of the item's skills (`-sc`), on
the item itself (`-ic`) and overall (`-tc`); `-tw` splits every count into the whole history
plus the last 30 days, 7 days, 1 day and 1 hour. The model is their `train_lr.py`:
`LogisticRegression(solver="lbfgs", max_iter=1000)` (L2, C = 1) fitted on the train users,
AUC on the test users.

Usage (through bench/peers/gervet_lr.sh, which builds the venv and runs Attune beside it):
    gervet_lr.py <folder>... [--features irt,pfa,best-lr,best-lr-tw]

Prints one JSON line per folder and feature set.
"""
import argparse, bisect, json, os, time, warnings
from collections import defaultdict

import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

FEATURE_SETS = {
    "irt": ["i"],
    "pfa": ["s", "sc", "w", "a"],
    "best-lr": ["i", "s", "ic", "sc", "tc", "w", "a"],
    "best-lr-tw": ["i", "s", "ic", "sc", "tc", "w", "a", "tw"],
}
WINDOWS = [3600 * 24 * 30, 3600 * 24 * 7, 3600 * 24, 3600]


def read(folder):
    train = pd.read_csv(os.path.join(folder, "preprocessed_data_train.csv"), sep="\t")
    test = pd.read_csv(os.path.join(folder, "preprocessed_data_test.csv"), sep="\t")
    q = pd.read_csv(os.path.join(folder, "q_mat.csv"))
    skills_of = defaultdict(list)
    for item, skill in zip(q.item_id, q.skill_id):
        skills_of[int(item)].append(int(skill))
    n_skills = int(q.skill_id.max()) + 1
    return train, test, skills_of, n_skills


def window_counts(history, t, tw):
    """Counts of earlier events: all of them, then (with `tw`) those within each window."""
    n = len(history)
    if not tw:
        return [n]
    return [n] + [n - bisect.bisect_right(history, t - length) for length in WINDOWS]


def encode(df, skills_of, n_skills, flags):
    """Sparse design matrix (rows in `df` order, which is grouped by user and in time order)."""
    tw = "tw" in flags
    width = 1 + (len(WINDOWS) if tw else 0)
    kinds = [k for k in ("w", "a") if k in flags]
    rows, cols, vals = [], [], []
    col = 0
    item_col = {}
    if "i" in flags:
        for item in sorted(df.item_id.unique()):
            item_col[int(item)] = len(item_col)
        col = len(item_col)
    skill_base = col
    if "s" in flags:
        col += n_skills
    count_base = col
    # per kind: per skill `width` columns, then item counts, then total counts
    block = (n_skills + 2) * width
    col += block * len(kinds)
    histories = defaultdict(list)  # (user, scope, key, kind) -> timestamps of earlier events
    for r, (user, item, t, correct) in enumerate(zip(df.user_id, df.item_id, df.timestamp, df.correct)):
        user, item, t = int(user), int(item), int(t)
        skills = skills_of.get(item, [])
        if "i" in flags:
            rows.append(r); cols.append(item_col[item]); vals.append(1.0)
        if "s" in flags:
            for s in skills:
                rows.append(r); cols.append(skill_base + s); vals.append(1.0)
        scopes = []
        if "sc" in flags:
            scopes += [("skill", s, s * width) for s in skills]
        if "ic" in flags:
            scopes.append(("item", item, n_skills * width))
        if "tc" in flags:
            scopes.append(("total", 0, (n_skills + 1) * width))
        for k, kind in enumerate(kinds):
            for scope, key, offset in scopes:
                counts = window_counts(histories[user, scope, key, kind], t, tw)
                for j, n in enumerate(counts):
                    if n:
                        rows.append(r); cols.append(count_base + k * block + offset + j); vals.append(np.log1p(n))
        for scope, key, _ in scopes:
            histories[user, scope, key, "a"].append(t)
            if correct:
                histories[user, scope, key, "w"].append(t)
    return sparse.csr_matrix((vals, (rows, cols)), shape=(len(df), col))


def fit_and_score(x, y, train_rows, test_rows, solver="lbfgs"):
    model = LogisticRegression(solver=solver, max_iter=1000)
    # Best-LR stops at the 1,000 iterations on ASSIST2009, as in the paper's runs; the JSON
    # line records the iteration count instead of a warning per fit.
    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    t0 = time.perf_counter()
    model.fit(x[train_rows], y[train_rows])
    fit_s = time.perf_counter() - t0
    p = model.predict_proba(x[test_rows])[:, 1]
    return roc_auc_score(y[test_rows], p), fit_s, int(model.n_iter_[0])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("folders", nargs="+", help="Gervet folders (preprocessed_data_{train,test}.csv + q_mat.csv)")
    ap.add_argument("--features", default="pfa,best-lr")
    ap.add_argument("--solver", default="lbfgs", help="scikit-learn solver (the paper's: lbfgs)")
    args = ap.parse_args()
    for folder in args.folders:
        train, test, skills_of, n_skills = read(folder)
        if set(train.user_id) & set(test.user_id):
            raise SystemExit(f"{folder}: train and test share users")
        df = pd.concat([train, test], ignore_index=True)
        y = df.correct.to_numpy()
        rows = np.arange(len(df))
        for fs in args.features.split(","):
            t0 = time.perf_counter()
            x = encode(df, skills_of, n_skills, FEATURE_SETS[fs])
            encode_s = time.perf_counter() - t0
            auc, fit_s, iters = fit_and_score(x, y, rows[: len(train)], rows[len(train) :], args.solver)
            print(json.dumps({"dataset": folder, "model": fs, "flags": FEATURE_SETS[fs], "solver": args.solver,
                              "auc": round(auc, 4),
                              "n_test": len(test), "n_features": x.shape[1], "encode_seconds": round(encode_s, 2),
                              "fit_seconds": round(fit_s, 2), "iterations": iters}), flush=True)


if __name__ == "__main__":
    main()
