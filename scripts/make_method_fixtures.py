#!/usr/bin/python3
"""Tiny SAE and tuned-lens checkpoints in the layouts their tools write, with
expected outputs from a numpy reference.

Writes tests/fixtures/methods/:
  inputs.bin                 x [8, 32] f32 (row-major, little-endian)
  manifest.json              what each folder is and where its expectations are
  saelens-jumprelu/          sae-lens >= 6 nested cfg (architecture jumprelu)
  saelens-standard-old/      old flat cfg (hook_point, architecture standard)
  saelens-topk/              sae-lens >= 6 nested cfg, top-level "k"
  saelens-topk-old/          sae-lens 3-5 flat cfg: activation_fn_str "topk" +
                             activation_fn_kwargs {"k": 4}
  gemmascope/params.npz      Gemma Scope JumpReLU (np.savez, float32)
  <sae>/expected_f.bin [8, 64], <sae>/expected_xhat.bin [8, 32]
  tuned-lens/                config.json + params.pt for the gpt2 fixture
                             (d_model 32, 2 layers) and expected_logits.bin
                             [n_layers, T, vocab] on that fixture's tokens.

Run from anywhere: /usr/bin/python3 scripts/make_method_fixtures.py
(needs tests/fixtures/models/gpt2 from make_model_fixtures.py).
"""
import collections
import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_model_fixtures as mm  # noqa: E402  (safetensors writer, GPT-2 reference)

OUT = os.path.join("tests", "fixtures", "methods")
N, D_IN, D_SAE, K = 8, 32, 64, 4
MARGIN = 1e-3   # no pre-activation this close to a decision boundary


# ---- numpy references (float64 from the stored f32 values) ----------------

def enc_pre(p, x, apply_b_dec):
    xin = x - p["b_dec"] if apply_b_dec else x
    return xin @ p["W_enc"] + p["b_enc"]


def relu(h):
    return np.maximum(h, 0.0)


def jumprelu(h, thr):
    return relu(h) * (h > thr)


def topk(h, k):
    # top k pre-activations per row, then ReLU on those values
    f = np.zeros_like(h)
    idx = np.argsort(-h, axis=-1)[:, :k]
    rows = np.arange(h.shape[0])[:, None]
    f[rows, idx] = relu(h[rows, idx])
    return f


def decode(p, f):
    return f @ p["W_dec"] + p["b_dec"]


def margin_ok(h, kind, p):
    if kind == "jumprelu":
        return np.abs(h - p["threshold"]).min() > MARGIN and np.abs(h).min() > MARGIN
    if kind == "topk":
        s = -np.sort(-h, axis=-1)
        return (s[:, K - 1] - s[:, K]).min() > MARGIN and np.abs(s[:, :K]).min() > MARGIN
    return np.abs(h).min() > MARGIN


def make_params(rng, kind, x, apply_b_dec):
    """Random f32 params (rounded) whose pre-activations keep clear of every
    boundary, so an f32 implementation picks the same active set."""
    for _ in range(200):
        p = {"W_enc": rng.normal(0, 1 / np.sqrt(D_IN), (D_IN, D_SAE)),
             "W_dec": rng.normal(0, 1 / np.sqrt(D_SAE), (D_SAE, D_IN)),
             # TopK: biases low enough that some rows have fewer than k positive
             # pre-activations, so the ReLU after the top-k selection matters
             "b_enc": rng.normal(-1.5 if kind == "topk" else 0.0, 0.3, D_SAE),
             "b_dec": rng.normal(0, 0.3, D_IN)}
        if kind == "jumprelu":
            p["threshold"] = np.abs(rng.normal(0.4, 0.3, D_SAE))
        p = {k: np.float32(v).astype(np.float64) for k, v in p.items()}
        h = enc_pre(p, x, apply_b_dec)
        if margin_ok(h, kind, p):
            return p, h
    raise RuntimeError("no parameter draw kept clear of the boundaries")


def encode(kind, p, h):
    if kind == "jumprelu":
        return jumprelu(h, p["threshold"])
    if kind == "topk":
        return topk(h, K)
    return relu(h)


def write_expect(folder, f, xhat):
    mm.write_f32(os.path.join(folder, "expected_f.bin"), f)
    mm.write_f32(os.path.join(folder, "expected_xhat.bin"), xhat)


def clean(folder):
    os.makedirs(folder, exist_ok=True)
    for fn in os.listdir(folder):
        os.remove(os.path.join(folder, fn))


def saelens_new_cfg(arch, apply_b_dec, hook_name, extra=None):
    # sae-lens >= 6 (SAEConfig.to_dict): flat core fields, "architecture",
    # and the hook/model facts inside "metadata"
    cfg = {"d_in": D_IN, "d_sae": D_SAE, "dtype": "float32", "device": "cpu",
           "apply_b_dec_to_input": apply_b_dec, "normalize_activations": "none",
           "reshape_activations": "none",
           "metadata": {"sae_lens_version": "6.5.1", "sae_lens_training_version": "6.5.1",
                        "model_name": "interv-fixture-gpt2", "hook_name": hook_name,
                        "hook_head_index": None, "prepend_bos": True,
                        "context_size": 128, "dataset_path": "none",
                        "model_class_name": "HookedTransformer",
                        "model_from_pretrained_kwargs": {}, "neuronpedia_id": None,
                        "seqpos_slice": [None], "exclude_special_tokens": False},
           "architecture": arch}
    if extra:
        cfg.update(extra)
    return cfg


def saelens_old_cfg(hook_point, layer, apply_b_dec, extra=None):
    # the flat layout of early sae-lens releases (hook_point, hook_point_layer)
    cfg = {"model_name": "interv-fixture-gpt2", "hook_point": hook_point,
           "hook_point_layer": layer, "hook_point_head_index": None,
           "dataset_path": "none", "is_dataset_tokenized": True, "context_size": 128,
           "use_cached_activations": False, "d_in": D_IN, "expansion_factor": D_SAE // D_IN,
           "b_dec_init_method": "geometric_median", "architecture": "standard",
           "activation_fn_str": "relu", "activation_fn_kwargs": {},
           "apply_b_dec_to_input": apply_b_dec, "normalize_activations": "none",
           "finetuning_scaling_factor": False, "d_sae": D_SAE, "dtype": "torch.float32",
           "device": "cpu", "prepend_bos": True, "sae_lens_training_version": "3.13.1"}
    if extra:
        cfg.update(extra)
    return cfg


def st_write(folder, p):
    mm.write_safetensors(os.path.join(folder, "sae_weights.safetensors"), p, "F32", None)


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    os.chdir(root)
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(2024)
    x = np.float32(rng.normal(0, 1.0, (N, D_IN))).astype(np.float64)
    mm.write_f32(os.path.join(OUT, "inputs.bin"), x)
    manifest = {"inputs": "inputs.bin", "n": N, "d_in": D_IN, "d_sae": D_SAE, "saes": {}}

    specs = [  # name, encoding kind, apply_b_dec_to_input, layer, format
        ("saelens-jumprelu", "jumprelu", False, 1, "saelens"),
        ("saelens-standard-old", "relu", True, 0, "saelens"),
        ("saelens-topk", "topk", True, 1, "saelens"),
        ("saelens-topk-old", "topk", True, 1, "saelens"),
        ("gemmascope", "jumprelu", False, 1, "gemmascope"),
    ]
    for name, kind, abd, layer, fmt in specs:
        folder = os.path.join(OUT, name)
        clean(folder)
        p, h = make_params(rng, kind, x, abd)
        f = encode(kind, p, h)
        xhat = decode(p, f)
        hook = "blocks.%d.hook_resid_post" % layer
        if name == "saelens-jumprelu":
            mm.write_json(os.path.join(folder, "cfg.json"), saelens_new_cfg("jumprelu", abd, hook))
            st_write(folder, p)
        elif name == "saelens-standard-old":
            mm.write_json(os.path.join(folder, "cfg.json"), saelens_old_cfg(hook, layer, abd))
            st_write(folder, p)
        elif name == "saelens-topk":
            mm.write_json(os.path.join(folder, "cfg.json"),
                          saelens_new_cfg("topk", abd, hook, {"k": K}))
            st_write(folder, p)
        elif name == "saelens-topk-old":
            cfg = saelens_old_cfg(hook, layer, abd,
                                  {"activation_fn_str": "topk", "activation_fn_kwargs": {"k": K}})
            cfg["hook_name"] = cfg.pop("hook_point")        # sae-lens 3-5 naming
            cfg["hook_layer"] = cfg.pop("hook_point_layer")
            cfg["hook_head_index"] = cfg.pop("hook_point_head_index")
            mm.write_json(os.path.join(folder, "cfg.json"), cfg)
            st_write(folder, p)
        else:
            np.savez(os.path.join(folder, "params.npz"),
                     **{k: np.float32(p[k]) for k in ("W_enc", "W_dec", "b_enc", "b_dec", "threshold")})
        write_expect(folder, f, xhat)
        l0 = (f > 0).sum(-1)
        print("%-22s %-8s apply_b_dec=%d  L0 per row %s  |xhat| max %.3g"
              % (name, kind, abd, l0.tolist(), np.abs(xhat).max()))
        manifest["saes"][name] = {"dir": name, "format": fmt, "activation": kind,
                                  "apply_b_dec_to_input": abd, "layer": layer,
                                  "k": K if kind == "topk" else None,
                                  "expected_f": name + "/expected_f.bin",
                                  "expected_xhat": name + "/expected_xhat.bin"}

    # ---- tuned lens for the gpt2 fixture ------------------------------------
    gdir = os.path.join("tests", "fixtures", "models", "gpt2")
    gcfg = json.load(open(os.path.join(gdir, "config.json")))
    gexp = json.load(open(os.path.join(gdir, "expected.json")))
    W = {k: torch.from_numpy(v) for k, v in
         mm.read_safetensors(os.path.join(gdir, "model.safetensors")).items()}
    d, nl = gcfg["n_embd"], gcfg["n_layer"]
    folder = os.path.join(OUT, "tuned-lens")
    clean(folder)
    state = collections.OrderedDict()
    for i in range(nl):
        # separate storages per tensor, as nn.Linear parameters have
        state["%d.weight" % i] = torch.from_numpy(np.float32(rng.normal(0, 0.2 / np.sqrt(d), (d, d)))).clone()
        state["%d.bias" % i] = torch.from_numpy(np.float32(rng.normal(0, 0.2, d))).clone()
    torch.save(state, os.path.join(folder, "params.pt"))
    mm.write_json(os.path.join(folder, "config.json"),
                  {"base_model_name_or_path": "interv-fixture-gpt2", "d_model": d,
                   "num_hidden_layers": nl, "bias": True, "base_model_revision": None,
                   "unembed_hash": None, "lens_type": "linear_tuned_lens"})
    hs = []
    tokens = gexp["tokens"]
    full = mm.gpt2_forward(W, gcfg, tokens, capture=hs)
    ref = np.fromfile(os.path.join(gdir, "logits.bin"), dtype="<f4").reshape(len(tokens), -1)
    assert np.abs(full.numpy() - ref).max() < 1e-5, "gpt2 fixture and reference disagree"
    outs = []
    for i in range(nl):
        h = hs[i]
        Wt, bt = state["%d.weight" % i].double(), state["%d.bias" % i].double()
        h = h + h @ Wt.T + bt                       # residual translator
        h = mm.layer_norm(h, W["ln_f.weight"], W["ln_f.bias"], gcfg["layer_norm_epsilon"])
        outs.append((h @ W["wte.weight"].T).numpy())
    mm.write_f32(os.path.join(folder, "expected_logits.bin"), np.stack(outs))
    manifest["tuned_lens"] = {"dir": "tuned-lens", "model": "tests/fixtures/models/gpt2",
                              "expected_logits": "tuned-lens/expected_logits.bin",
                              "shape": [nl, len(tokens), gcfg["vocab_size"]],
                              "note": "row i: unembed(h_i + W_i h_i + b_i), h_0 = embeddings, "
                                      "h_i = block i-1 output; unembed = ln_f then tied lm_head"}
    mm.write_json(os.path.join(OUT, "manifest.json"), manifest)
    total = sum(os.path.getsize(os.path.join(dp, f)) for dp, _, fs in os.walk(OUT) for f in fs)
    print("tuned-lens: %d translators; total method fixture size %d bytes" % (nl, total))
    return 0


if __name__ == "__main__":
    sys.exit(main())
