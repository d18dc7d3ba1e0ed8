#!/usr/bin/python3
"""PyTorch reference for the reference study's tuned lens (--protocol paper), written
the way the study writes it: the translator as one augmented matrix over [x, 1],
no final norm, and torch.linalg.pinv of the whole (d+1) x V map.

  T  = [[A + I]^T ; b]            (d+1) x d  (row vectors: [x, 1] @ T = x + A x + b)
  M  = T @ W_U^T                  (d+1) x V
  z  = [x, 1] @ M
  z'[t_k] = alpha * w_k * max(z)  (targets t = (17, 42), weights w = (2, 1))
  x' = (z' @ pinv(M))[:d]         edit;  bottleneck: (z @ pinv(M))[:d]
  decode(z') = (z' @ pinv(M))[:d]

The translator for resid_post.L is translator index L (the study's choice), on the
GPT-2 test model (tests/fixtures/models/gpt2: d 32, V 96, tied W_U = wte).
Translators have A ~ N(0, 0.15^2) and b ~ N(0, 0.7^2), large enough that the
bottleneck visibly differs from the identity (the reference's defect).

Writes tests/fixtures/tuned_paper/:
  lens/config.json, lens/params.safetensors   translators 0 and 1 ("{i}.weight" [d, d]
                                               out x in, "{i}.bias" [d]); the config
                                               says final_norm true, which the paper
                                               form ignores
  cases.safetensors  x [6, d]; targets [2]; target_w [2]; and for L in 0, 1:
                     z.L [6, V]; bottleneck.L [6, d]; edit.L.a2, edit.L.a6 [6, d];
                     decode.L.a2 [6, d] (decode of the edited z' at alpha 2)
Run: /usr/bin/python3 scripts/make_tuned_paper_fixture.py
"""
import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_model_fixtures as mm  # noqa: E402  (safetensors reader/writer)

OUT = os.path.join("tests", "fixtures", "tuned_paper")
TARGETS, WEIGHTS, ALPHAS = (17, 42), (2.0, 1.0), (2.0, 6.0)


def main():
    torch.set_default_dtype(torch.float64)
    W_U = mm.read_safetensors(os.path.join("tests", "fixtures", "models", "gpt2", "model.safetensors"))["wte.weight"]
    V, d = W_U.shape
    rs = np.random.RandomState(3)
    lens, tr = {}, {}
    for i in range(2):
        A = (rs.normal(0, 0.15, (d, d))).astype(np.float32)
        b = (rs.normal(0, 0.7, d)).astype(np.float32)
        lens[f"{i}.weight"], lens[f"{i}.bias"] = A, b
        tr[i] = (torch.tensor(A.astype(np.float64)), torch.tensor(b.astype(np.float64)))
    os.makedirs(os.path.join(OUT, "lens"), exist_ok=True)
    mm.write_safetensors(os.path.join(OUT, "lens", "params.safetensors"), lens, "F32")
    with open(os.path.join(OUT, "lens", "config.json"), "w") as f:
        json.dump({"d_model": int(d), "num_hidden_layers": 2, "final_norm": True}, f, indent=2)
        f.write("\n")

    x = rs.normal(0, 1.0, (6, d)).astype(np.float32)
    X = torch.tensor(x.astype(np.float64))
    Wt = torch.tensor(W_U).T                                   # d x V
    out = {"x": x, "targets": np.array(TARGETS, dtype=np.float64), "target_w": np.array(WEIGHTS)}
    ones = torch.ones(X.shape[0], 1)
    for L in range(2):
        A, b = tr[L]
        T = torch.cat([(A + torch.eye(d)).T, b[None, :]], dim=0)   # (d+1) x d
        M = T @ Wt                                                 # (d+1) x V
        Mp = torch.linalg.pinv(M)                                  # V x (d+1)
        Xa = torch.cat([X, ones], dim=1)
        z = Xa @ M
        out[f"z.{L}"] = z.numpy()
        out[f"bottleneck.{L}"] = (z @ Mp)[:, :d].numpy()
        for a in ALPHAS:
            zp = z.clone()
            zmax = z.max(dim=1).values
            for t, w in zip(TARGETS, WEIGHTS):
                zp[:, t] = a * w * zmax
            xe = (zp @ Mp)[:, :d]
            out[f"edit.{L}.a{int(a)}"] = xe.numpy()
            if a == 2.0:
                out[f"decode.{L}.a2"] = xe.numpy()
                out[f"zedit.{L}.a2"] = zp.numpy()
        C_dev = (out[f"bottleneck.{L}"] - x).std()
        print(f"L={L}: |bottleneck - x| std {C_dev:.4f}, rank(M) {torch.linalg.matrix_rank(M).item()}")
    mm.write_safetensors(os.path.join(OUT, "cases.safetensors"), out, "F32",
                         {"generator": "scripts/make_tuned_paper_fixture.py"})


if __name__ == "__main__":
    main()
