"""Writes K random 80/20 user splits of a Gervet folder (train and test users pooled).

Gervet et al.'s first `train_lr.py` drew its test users with an unseeded shuffle of all users,
on an older version of the files (3,241 users where the published folder holds 3,114), so the
published AUCs come from a split nobody can redraw. These folders show how far the AUC of one
model moves with the draw of test users. Usage: resplit.py <folder> <out dir> <K> [seed]
Writes <out dir>/split<k>/preprocessed_data_{train,test}.csv and q_mat.csv.
"""
import os, shutil, sys

import numpy as np
import pandas as pd


def main():
    folder, out, k = sys.argv[1], sys.argv[2], int(sys.argv[3])
    seed = int(sys.argv[4]) if len(sys.argv) > 4 else 42
    parts = [pd.read_csv(os.path.join(folder, f"preprocessed_data_{p}.csv"), sep="\t") for p in ("train", "test")]
    df = pd.concat(parts, ignore_index=True)
    users = df.user_id.unique()
    rng = np.random.default_rng(seed)
    for s in range(1, k + 1):
        test_users = rng.permutation(users)[int(0.8 * len(users)):]
        in_test = df.user_id.isin(test_users)
        d = os.path.join(out, f"split{s}")
        os.makedirs(d, exist_ok=True)
        # rows keep their order: grouped by user, in time order within each user
        df[~in_test].to_csv(os.path.join(d, "preprocessed_data_train.csv"), sep="\t", index=False)
        df[in_test].to_csv(os.path.join(d, "preprocessed_data_test.csv"), sep="\t", index=False)
        shutil.copy(os.path.join(folder, "q_mat.csv"), d)


if __name__ == "__main__":
    main()
