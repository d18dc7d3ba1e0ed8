#!/usr/bin/python3
"""PyTorch twin of bench_intervene's logit-lens row, for a side-by-side run.

Plain torch (no transformers): a random-weight GPT-2-small shape (d 768, 12 layers,
12 heads, vocab 50257, ctx 1024, tied unembedding), KV cache, greedy.
  workload: the same 210 prompts (lengths and ids from bench_intervene's xorshift,
            seed 11) x 30 new tokens at batch 32, clean and with the edit.
  batch 1:  a 16-token prompt, then decode steps alternating clean and edit on the
            same state; median ms per step of each (as bench_intervene's steps).
Edit, at block `layer`'s output, last position of every forward call:
  z = W_U x; z'_t = alpha * max_j z_j for the target ids; x' = x + sum_t (z'_t - z_t) P[:,t]
with the P = pinv(W_U) columns of the targets precomputed once (the same cheap form
interv uses). Each step also reads the target probabilities from the softmax, as
bench_intervene's per-step reader does.
Prints `RESULT key=value ...` lines for bench/side_by_side.sh.
Run with Debian's /usr/bin/python3 (it has torch)."""
import argparse
import math
import os
import statistics
import time

import torch
import torch.nn.functional as F

D, L, H, V, CTX = 768, 12, 12, 50257, 1024
HD = D // H
M64 = (1 << 64) - 1
TARGETS = [1000, 20000]


def xorshift(s):
    s ^= (s << 13) & M64
    s ^= s >> 7
    s ^= (s << 17) & M64
    return s


def prompts(n):
    """bench_intervene's prompts: 4..19 tokens, ids mod V, xorshift64 from 11."""
    s, out = 11, []
    for _ in range(n):
        s = xorshift(s)
        ln = 4 + s % 16
        p = []
        for _ in range(ln):
            s = xorshift(s)
            p.append(s % V)
        out.append(p)
    return out


def rand_w(gen, *shape, dtype):
    # |w| in [2^-6, 2^-5) with random sign, as bench_intervene fills its weights
    mag = (1 + torch.rand(*shape, generator=gen)) / 64
    sign = torch.randint(0, 2, shape, generator=gen) * 2 - 1
    return (mag * sign).to(dtype)


class Model:
    def __init__(self, dtype):
        g = torch.Generator().manual_seed(7)
        self.dtype = dtype
        self.wte = rand_w(g, V, D, dtype=dtype)  # [V, d], also W_U (tied)
        self.wpe = rand_w(g, CTX, D, dtype=dtype)  # [ctx, d]
        one, zero = torch.ones(D, dtype=dtype), torch.zeros(D, dtype=dtype)
        self.ln = (one, zero)
        self.layers = []
        for _ in range(L):
            self.layers.append(dict(
                qkv=rand_w(g, 3 * D, D, dtype=dtype), bqkv=torch.zeros(3 * D, dtype=dtype),
                wo=rand_w(g, D, D, dtype=dtype), bo=zero.clone(),
                up=rand_w(g, 4 * D, D, dtype=dtype), bup=torch.zeros(4 * D, dtype=dtype),
                down=rand_w(g, D, 4 * D, dtype=dtype), bdown=zero.clone()))

    def new_cache(self, b, t):
        return [torch.zeros(2, b, H, t, HD, dtype=self.dtype) for _ in range(L)]

    def forward(self, tok, pos, cache, start, keymask, hook):
        """tok, pos: [b, T] (long); cache slots start..start+T; keymask: [b, 1, 1, S]
        additive (-inf on pad keys); returns logits of the last position [b, V]."""
        b, T = tok.shape
        x = self.wte[tok] + self.wpe[pos]  # [b, T, d]
        S = start + T
        causal = torch.full((T, S), float("-inf")).triu(start + 1).to(self.dtype)  # [T, S]
        mask = keymask[..., :S] + causal  # [b, 1, T, S]
        for li, w in enumerate(self.layers):
            h = F.layer_norm(x, (D,), *self.ln, 1e-5)
            q, k, v = F.linear(h, w["qkv"], w["bqkv"]).view(b, T, 3, H, HD).permute(2, 0, 3, 1, 4)
            cache[li][0, :, :, start:S] = k
            cache[li][1, :, :, start:S] = v
            att = (q @ cache[li][0, :, :, :S].transpose(-1, -2)) * (1 / math.sqrt(HD)) + mask
            a = torch.softmax(att, -1) @ cache[li][1, :, :, :S]  # [b, H, T, hd]
            x = x + F.linear(a.transpose(1, 2).reshape(b, T, D), w["wo"], w["bo"])
            h = F.layer_norm(x, (D,), *self.ln, 1e-5)
            x = x + F.linear(F.gelu(F.linear(h, w["up"], w["bup"]), approximate="tanh"), w["down"], w["bdown"])
            if hook is not None and li == hook.layer:
                x[:, -1] = hook(x[:, -1])
        h = F.layer_norm(x[:, -1], (D,), *self.ln, 1e-5)
        return F.linear(h, self.wte)  # [b, V]


class LogitLensEdit:
    def __init__(self, m, layer, alpha):
        self.layer, self.alpha, self.WU = layer, alpha, m.wte
        W = m.wte.double()  # [V, d]
        # pinv(W) = (W^T W)^-1 W^T: its column t is (W^T W)^-1 W[t]
        cols = torch.linalg.solve(W.T @ W, W[TARGETS].T)  # [d, n_tgt]
        self.P = cols.T.contiguous().to(m.dtype)  # [n_tgt, d]
        self.tgt = torch.tensor(TARGETS)

    def __call__(self, x):  # x: [b, d]
        z = F.linear(x, self.WU)  # [b, V]
        zmax = z.max(-1).values  # [b]
        delta = self.alpha * zmax[:, None] - z[:, self.tgt]  # [b, n_tgt], weights 1
        return x + delta @ self.P


def read_probs(logits):
    return torch.softmax(logits.float(), -1)[:, TARGETS].sum().item()


def generate(m, prs, new, batch, hook):
    """Greedy, chunks of `batch` prompts left-padded; returns generated tokens/s."""
    t0, n = time.perf_counter(), 0
    acc = 0.0
    for c in range(0, len(prs), batch):
        ch = prs[c:c + batch]
        b, Tm = len(ch), max(len(p) for p in ch)
        pad = torch.tensor([Tm - len(p) for p in ch])  # [b]
        tok = torch.tensor([[0] * (Tm - len(p)) + p for p in ch])  # [b, Tm]
        pos = (torch.arange(Tm)[None] - pad[:, None]).clamp(min=0)  # [b, Tm]
        S = Tm + new
        keymask = torch.where(torch.arange(S)[None] < pad[:, None], float("-inf"), 0.0)
        keymask = keymask.to(m.dtype)[:, None, None]  # [b, 1, 1, S]
        cache = m.new_cache(b, S)
        logits = m.forward(tok, pos, cache, 0, keymask, hook)
        lens = Tm - pad  # [b]
        for s in range(new):
            acc += read_probs(logits)
            nxt = logits.argmax(-1)  # [b]
            n += b
            if s == new - 1:
                break
            logits = m.forward(nxt[:, None], (lens + s)[:, None], cache, Tm + s, keymask, hook)
    return n / (time.perf_counter() - t0)


def b1_steps(m, hook, steps):
    cache = m.new_cache(1, 16 + 2 * steps + 2)
    km = torch.zeros(1, 1, 1, 16 + 2 * steps + 2, dtype=m.dtype)
    tok = torch.tensor([[(i * 7919 + 13) % V for i in range(16)]])
    m.forward(tok, torch.arange(16)[None], cache, 0, km, None)
    tc, te = [], []
    for k in range(2 * steps):
        t = torch.tensor([[(k * 31 + 5) % V]])
        t0 = time.perf_counter()
        lg = m.forward(t, torch.tensor([[16 + k]]), cache, 16 + k, km, hook if k & 1 else None)
        read_probs(lg)
        (te if k & 1 else tc).append(time.perf_counter() - t0)
    return statistics.median(tc), statistics.median(te)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dtype", choices=["f32", "bf16"], default="f32")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--prompts", type=int, default=210)
    ap.add_argument("--new", type=int, default=30)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--reps", type=int, default=1)
    ap.add_argument("--b1-steps", type=int, default=40)
    ap.add_argument("--layer", type=int, default=9)
    ap.add_argument("--alpha", type=float, default=4)
    ap.add_argument("--no-batched", action="store_true")
    ap.add_argument("--no-b1", action="store_true")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    dt = torch.float32 if a.dtype == "f32" else torch.bfloat16
    m = Model(dt)
    hook = LogitLensEdit(m, a.layer, a.alpha)
    prs = prompts(a.prompts)
    print(f"# torch {torch.__version__}, {a.dtype} weights+activations, {torch.get_num_threads()} threads, "
          f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '(unset)')}; logit-lens edit at layer "
          f"{a.layer} in the cheap form x' = x + sum_t (z'_t - z_t) P[:,t] (P columns precomputed once)",
          flush=True)
    with torch.inference_mode():
        if not a.no_batched:
            bc = be = 0.0
            for _ in range(a.reps):
                bc = max(bc, generate(m, prs, a.new, a.batch, None))
                be = max(be, generate(m, prs, a.new, a.batch, hook))
            print(f"RESULT stack=torch dtype={a.dtype} kind=workload clean={bc:.1f} edit={be:.1f}", flush=True)
        if not a.no_b1:
            c1, e1 = b1_steps(m, hook, a.b1_steps)
            print(f"RESULT stack=torch dtype={a.dtype} kind=b1 clean={c1 * 1e3:.2f} edit={e1 * 1e3:.2f}", flush=True)


if __name__ == "__main__":
    main()
