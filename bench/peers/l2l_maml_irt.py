"""MAML over the Rasch model in PyTorch + learn2learn: the task of Attune's
`cargo run --release -p attune-meta --example maml_throughput`, side by side.

Every learner of a DKVMN dataset folder (`<prefix>_train.csv` + `<prefix>_test.csv`, 3-line
records: length / ids / answers) is a task: support = the first 5 answers, query = the next 20.
The model is sigma(theta - b_item); the inner loop takes 5 SGD steps of rate 0.3 on the mean
support cross-entropy with second-order gradients (learn2learn MAML, first_order=False) over
all parameters (theta and the difficulties; only the support's items move), the outer loop Adam
0.01 on the query loss, meta-batches of 32. The starting difficulties are each item's logit of
its wrong rate (Attune starts from its 1PL fit), theta0 = 0.

Usage: bench/peers/l2l_maml_irt.sh [dataset folder] [epochs]
"""
import argparse, glob, gzip, os, time

import numpy as np
import torch
import learn2learn as l2l
from sklearn.metrics import roc_auc_score


def read_dkvmn(folder):
    prefix = os.path.basename(os.path.normpath(folder))
    seqs = []
    for split in ("train", "test"):
        path = next(p for p in glob.glob(os.path.join(folder, f"{prefix}_{split}.csv*")))
        opener = gzip.open if path.endswith(".gz") else open
        with opener(path, "rt") as f:
            lines = [l.strip() for l in f if l.strip()]
        for i in range(0, len(lines) - 2, 3):
            ids = [int(x) for x in lines[i + 1].split(",") if x]
            ans = [int(x) for x in lines[i + 2].split(",") if x]
            seqs.append(list(zip(ids, ans)))
    return seqs


class Rasch(torch.nn.Module):
    def __init__(self, b):
        super().__init__()
        self.theta = torch.nn.Parameter(torch.zeros(1, dtype=torch.float64))
        self.b = torch.nn.Parameter(torch.tensor(b, dtype=torch.float64))

    def forward(self, items):
        return self.theta - self.b[items]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("folder", nargs="?", default="../shared/data/assist2009_updated")
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    seqs = [s for s in read_dkvmn(a.folder) if len(s) > 5]
    n_items = max(i for s in seqs for i, _ in s) + 1
    right = np.ones(n_items); seen = np.full(n_items, 2.0)
    for s in seqs:
        for i, c in s:
            right[i] += c; seen[i] += 1
    b0 = -np.log(right / (seen - right))
    tasks = []
    for s in seqs:
        sup, qry = s[:5], s[5:25]
        tasks.append((torch.tensor([i for i, _ in sup]), torch.tensor([c for _, c in sup], dtype=torch.float64),
                      torch.tensor([i for i, _ in qry]), torch.tensor([c for _, c in qry], dtype=torch.float64)))
    model = Rasch(b0)
    maml = l2l.algorithms.MAML(model, lr=0.3, first_order=False)
    opt = torch.optim.Adam(maml.parameters(), lr=0.01)
    bce = torch.nn.functional.binary_cross_entropy_with_logits
    rng = np.random.default_rng(42)
    start = time.perf_counter()
    for _ in range(a.epochs):
        order = rng.permutation(len(tasks))
        for k in range(0, len(order), 32):
            opt.zero_grad()
            batch = order[k:k + 32]
            for t in batch:
                si, sy, qi, qy = tasks[t]
                learner = maml.clone()
                for _ in range(5):
                    learner.adapt(bce(learner(si), sy))
                (bce(learner(qi), qy) / len(batch)).backward()
            opt.step()
    seconds = time.perf_counter() - start
    p, y = [], []
    for si, sy, qi, qy in tasks:
        learner = maml.clone()
        for _ in range(5):
            learner.adapt(bce(learner(si), sy))
        p.extend(torch.sigmoid(learner(qi)).detach().numpy().tolist()); y.extend(qy.numpy().tolist())
    print(f"{len(tasks)} tasks x {a.epochs} epochs in {seconds:.3f} s: {len(tasks) * a.epochs / seconds:.0f} tasks/s; "
          f"query AUC after adaptation {roc_auc_score(y, p):.4f}")


if __name__ == "__main__":
    main()
