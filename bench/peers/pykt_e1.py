"""pyKT (pip `pykt-toolkit`, PyTorch on CPU) on protocol E1 beside `attune eval`.

Run through bench/peers/pykt.sh, which builds the venv. Trains pyKT's own DKT, SAKT, AKT or DKVMN module on
<name>_train1.csv, stops early on <name>_valid1.csv and scores <name>_test.csv, with pyKT's own
data pipeline (KTDataset: sequences cut into windows of 200, windows under 3 answers dropped, the
first answer of each window not scored), its loss (model_forward), its evaluation (evaluate) and
its early-stopping rule (validation AUC better by 1e-3, patience 10) -- the loop of
pykt.models.train_model, timed per epoch. Also scores the best model on whole test sequences
(every answer but each learner's first), the way `attune eval` scores E1.

Prints one JSON object (and writes it to --json): training interactions per second per epoch, time to the best validation
epoch, and test AUC under both scorings.
"""
import argparse, csv, gzip, json, os, sys, tempfile, time

import numpy as np
import torch
from sklearn.metrics import roc_auc_score

import pykt.datasets.data_loader as data_loader
from pykt.datasets.data_loader import KTDataset
from pykt.models.dkt import DKT
from pykt.models.sakt import SAKT
from pykt.models.akt import AKT
from pykt.models.dkvmn import DKVMN
from pykt.models.train_model import model_forward
from pykt.models.evaluate_model import evaluate
from torch.utils.data import DataLoader

# pyKT builds its tensors with torch.cuda.FloatTensor/LongTensor; on a CPU-only machine use the
# CPU constructors (same dtypes).
data_loader.FloatTensor = torch.FloatTensor
data_loader.LongTensor = torch.LongTensor

MAXLEN, MIN_LEN = 200, 3


def read_dkvmn(path):
    """Learners of a DKVMN 3-line file as (skills 0-based, answers)."""
    opener = open if os.path.exists(path) else (lambda p: gzip.open(p + ".gz", "rt"))
    with opener(path) as f:
        lines = [l.strip() for l in f if l.strip()]
    out = []
    for r in range(0, len(lines), 3):
        skills = [int(s) - 1 for s in lines[r + 1].split(",") if s]
        answers = [int(a) for a in lines[r + 2].split(",") if a]
        out.append((skills, answers))
    return out


def pykt_rows(learners, fold):
    """pyKT's generate_sequences: windows of MAXLEN, a remainder under MIN_LEN dropped, padded with -1."""
    rows = []
    for uid, (skills, answers) in enumerate(learners):
        n, j = len(answers), 0
        while n >= j + MAXLEN:
            rows.append((fold, uid, skills[j:j + MAXLEN], answers[j:j + MAXLEN], [1] * MAXLEN))
            j += MAXLEN
        rest = n - j
        if rest < MIN_LEN:
            continue
        pad = MAXLEN - rest
        rows.append((fold, uid, skills[j:] + [-1] * pad, answers[j:] + [-1] * pad, [1] * rest + [-1] * pad))
    return rows


def write_csv(path, rows):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["fold", "uid", "concepts", "responses", "selectmasks"])
        for fold, uid, c, r, m in rows:
            w.writerow([fold, uid, ",".join(map(str, c)), ",".join(map(str, r)), ",".join(map(str, m))])


def whole_sequence_auc(model, name, learners, num_c):
    """Every answer but each learner's first, each predicted from the whole history before it."""
    ys, ps = [], []
    model.eval()
    with torch.no_grad():
        for skills, answers in learners:
            if len(answers) < 2:
                continue
            c = torch.tensor([skills[:-1]])
            r = torch.tensor([answers[:-1]])
            nxt = torch.tensor([skills[1:]])
            if name == "dkt":
                y = model(c, r)
                p = (y * torch.nn.functional.one_hot(nxt, num_c)).sum(-1)
            elif name == "dkvmn":
                # DKVMN reads the memory for each position before writing its answer.
                p = model(torch.tensor([skills]), torch.tensor([answers]))[:, 1:]
            elif name == "akt":
                # AKT predicts every position of its input from the responses before it.
                q, a = torch.tensor([skills]), torch.tensor([answers])
                p = torch.cat([model(q[:, s:s + MAXLEN], a[:, s:s + MAXLEN])[0]
                               for s in range(0, q.shape[1], MAXLEN)], dim=1)[:, 1:]
            else:
                # SAKT's position table holds MAXLEN rows: score longer sequences window by window.
                p = torch.cat([model(c[:, s:s + MAXLEN - 1], r[:, s:s + MAXLEN - 1], nxt[:, s:s + MAXLEN - 1])
                               for s in range(0, c.shape[1], MAXLEN - 1)], dim=1)
            ps.extend(p[0].tolist())
            ys.extend(answers[1:])
    return roc_auc_score(ys, ps), len(ys)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("folder")
    ap.add_argument("--model", choices=["dkt", "sakt", "akt", "dkvmn"], default="dkt")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--max-epochs", type=int, default=50)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--blocks", type=int, default=1, help="SAKT attention blocks (pyKT's num_en; Attune's default 1)")
    ap.add_argument("--lr", type=float, default=1e-3, help="Adam's rate (Attune's DKVMN default: 3e-3)")
    ap.add_argument("--json", help="also write the result object to this file")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    np.random.seed(args.seed)

    name = os.path.basename(os.path.normpath(args.folder))
    train = read_dkvmn(os.path.join(args.folder, f"{name}_train1.csv"))
    valid = read_dkvmn(os.path.join(args.folder, f"{name}_valid1.csv"))
    test = read_dkvmn(os.path.join(args.folder, f"{name}_test.csv"))
    num_c = 1 + max(s for part in (train, valid, test) for skills, _ in part for s in skills)

    tmp = tempfile.mkdtemp(prefix="pykt-e1-")
    write_csv(os.path.join(tmp, "train_valid.csv"), pykt_rows(train, 1) + pykt_rows(valid, 0))
    write_csv(os.path.join(tmp, "test.csv"), pykt_rows(test, -1))
    tv = os.path.join(tmp, "train_valid.csv")
    train_loader = DataLoader(KTDataset(tv, ["concepts"], {1}), batch_size=64)
    valid_loader = DataLoader(KTDataset(tv, ["concepts"], {0}), batch_size=64)
    test_loader = DataLoader(KTDataset(os.path.join(tmp, "test.csv"), ["concepts"], {-1}), batch_size=64)
    answers = sum(len(a) for _, a in train)

    if args.model == "dkt":
        model = DKT(num_c, emb_size=200, dropout=0.1)
    elif args.model == "akt":
        # The AKT paper's block (d 256, 8 heads, read-out 512) with pyKT's d_ff and Attune's
        # defaults; no problem ids on the E1 files, so no Rasch embeddings (n_pid = 0).
        model = AKT(num_c, 0, d_model=256, n_blocks=1, dropout=0.05, d_ff=512, final_fc_dim=512)
    elif args.model == "dkvmn":
        # Attune's defaults: memory rows of 200, 20 slots, dropout 0.2 on the read-out.
        model = DKVMN(num_c, dim_s=200, size_m=20, dropout=0.2)
    else:
        model = SAKT(num_c, seq_len=MAXLEN, emb_size=200, num_attn_heads=8, dropout=0.2, num_en=args.blocks)
    opt = torch.optim.Adam(model.parameters(), args.lr)

    started = time.perf_counter()
    max_auc, best_epoch, best_state, epochs = 0.0, -1, None, []
    test_auc = float("nan")
    for epoch in range(1, args.max_epochs + 1):
        t0 = time.perf_counter()
        losses = []
        for data in train_loader:
            model.train()
            loss = model_forward(model, data)
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
        train_s = time.perf_counter() - t0
        auc, _ = evaluate(model, valid_loader, model.model_name)
        record = {"epoch": epoch, "train_seconds": train_s, "interactions_per_second": answers / train_s,
                  "train_loss": float(np.mean(losses)), "valid_auc": float(auc),
                  "elapsed_seconds": time.perf_counter() - started}
        if auc > max_auc + 1e-3:
            max_auc, best_epoch = auc, epoch
            test_auc, _ = evaluate(model, test_loader, model.model_name)
            best_state = {k: v.clone() for k, v in model.state_dict().items()}
            record["time_to_best_seconds"] = time.perf_counter() - started
        epochs.append(record)
        print(json.dumps(record), file=sys.stderr, flush=True)
        if epoch - best_epoch >= 10:
            break
    model.load_state_dict(best_state)
    whole_auc, whole_n = whole_sequence_auc(model, args.model, test, num_c)
    best = epochs[best_epoch - 1]
    result = json.dumps({
        "peer": "pykt-toolkit", "torch": torch.__version__, "threads": args.threads, "model": args.model,
        "dataset": name, "train_interactions": answers, "best_epoch": best_epoch,
        "best_valid_auc": float(max_auc), "time_to_best_seconds": best["time_to_best_seconds"],
        "interactions_per_second": float(np.mean([e["interactions_per_second"] for e in epochs])),
        "seconds_per_epoch": float(np.mean([e["train_seconds"] for e in epochs])),
        "test_auc_pykt_windows": float(test_auc), "test_auc_whole_sequences": float(whole_auc),
        "n_test_whole": whole_n, "epochs": epochs,
    })
    print(result)
    if args.json:
        with open(args.json, "w") as f:
            f.write(result + "\n")


if __name__ == "__main__":
    main()
