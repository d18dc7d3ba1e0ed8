#!/usr/bin/python3
"""PyTorch reference for the reference study's probe recipe (--protocol paper).

The recipe as we read it (DESIGN.md 3b): nn.Sequential(nn.Linear(d, 1), nn.Sigmoid())
with weight ~ N(0, 0.02), bias 0; per batch of 16 (shuffled each epoch, last batch
short) loss = BCELoss + 0.3 * (sum|w| + |b|); torch.optim.Adam(lr=1e-3,
betas=(0.9, 0.95), weight_decay=0.1) (coupled L2: grad += 0.1 * param); after each
epoch ReduceLROnPlateau(mode="min", factor=0.75, patience=0) steps on the test
BCE; 50 epochs; the final epoch's weights are kept.

PyTorch's RNG cannot be reproduced in C, so the initial weights, the split and
every epoch's batch order are drawn here and stored with the result; the C test
(tests/unit/test_probe_paper.c) trains from the same ones and compares w and b.
Runs in float64 (the C trainer computes in double).

Writes tests/fixtures/probe_paper/{separable,plateau,floor}.safetensors (all F32): the
first with classes far enough apart that the weights outgrow the L1 pull, the
second with overlapping classes where the test loss stalls and the plateau rule
cuts the learning rate (10 times), and a third where it cuts it 36 times until a
cut would be below eps = 1e-8 and stops.  Each holds
  x [n, d], y [n], is_train [n], w0 [d], order [50, n_train],
  lr [50] (lr used in each epoch), test_loss [50], w [d], b [1].
Run: /usr/bin/python3 scripts/make_probe_paper_fixture.py
"""
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_model_fixtures as mm  # noqa: E402  (safetensors writer)

OUT = os.path.join("tests", "fixtures", "probe_paper")
EPOCHS, BATCH = 50, 16


def make_data(rs, n_per, d, sep):
    """Two overlapping classes, activation-like scale, f32-representable."""
    mu = rs.normal(0, 1, d) * sep
    pos = rs.normal(0, 1.5, (n_per, d)) + mu
    neg = rs.normal(0, 1.5, (n_per, d)) - mu
    x = np.concatenate([pos, neg]).astype(np.float32)
    y = np.concatenate([np.ones(n_per), np.zeros(n_per)])
    return x, y


def split(rs, y):
    """Stratified 80/20 by label (the C side has its own seeded split; here any
    stratified one will do since it is stored)."""
    n = len(y)
    n_test = int(np.ceil(0.2 * n))
    tr = np.zeros(n, dtype=bool)
    for k in (0, 1):
        idx = np.flatnonzero(y == k)
        rs.shuffle(idx)
        n_tr_k = len(idx) - n_test // 2
        tr[idx[:n_tr_k]] = True
    return tr


def train(x, y, tr, w0, orders):
    torch.set_default_dtype(torch.float64)
    X = torch.tensor(x, dtype=torch.float64)
    Y = torch.tensor(y, dtype=torch.float64)[:, None]
    Xtr, Ytr = X[tr], Y[tr]
    Xte, Yte = X[~tr], Y[~tr]
    model = torch.nn.Sequential(torch.nn.Linear(x.shape[1], 1), torch.nn.Sigmoid())
    with torch.no_grad():
        model[0].weight.copy_(torch.tensor(w0, dtype=torch.float64)[None, :])
        model[0].bias.zero_()
    crit = torch.nn.BCELoss()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.95), weight_decay=0.1)
    sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, mode="min", factor=0.75, patience=0)
    lrs, tls = [], []
    for e in range(EPOCHS):
        lrs.append(opt.param_groups[0]["lr"])
        order = orders[e]
        for s in range(0, len(order), BATCH):
            b = torch.tensor(order[s:s + BATCH])
            opt.zero_grad()
            loss = crit(model(Xtr[b]), Ytr[b])
            loss = loss + 0.3 * sum(p.abs().sum() for p in model.parameters())
            loss.backward()
            opt.step()
        with torch.no_grad():
            tl = crit(model(Xte), Yte).item()
        tls.append(tl)
        sched.step(tl)
    return (model[0].weight.detach().numpy()[0], model[0].bias.detach().numpy(),
            np.array(lrs), np.array(tls))


def case(name, seed, n_per, d, sep):
    rs = np.random.RandomState(seed)
    torch.manual_seed(seed)
    x, y = make_data(rs, n_per, d, sep)
    tr = split(rs, y)
    n_train = int(tr.sum())
    w0 = (rs.normal(0, 0.02, d)).astype(np.float32)
    orders = np.stack([torch.randperm(n_train).numpy() for _ in range(EPOCHS)])
    w, b, lrs, tls = train(x, y, tr, w0.astype(np.float64), orders)
    n_red = int(np.sum(lrs[1:] < lrs[:-1]))
    print(f"{name}: n={len(y)} d={d} n_train={n_train}  lr reductions {n_red}  final lr {lrs[-1]:.3e}  "
          f"test loss {tls[0]:.5f} -> {tls[-1]:.5f}  |w| {np.abs(w).sum():.4f} b {b[0]:.5f}")
    os.makedirs(OUT, exist_ok=True)
    mm.write_safetensors(os.path.join(OUT, name + ".safetensors"), {
        "x": x, "y": y, "is_train": tr.astype(np.float64), "w0": w0,
        "order": orders.astype(np.float64), "lr": lrs, "test_loss": tls, "w": w, "b": b,
    }, "F32", {"generator": "scripts/make_probe_paper_fixture.py"})


def main():
    case("separable", 20261130, 40, 24, 1.5)
    case("plateau", 7, 45, 24, 0.35)
    case("floor", 20261130, 45, 24, 0.35)


if __name__ == "__main__":
    main()
