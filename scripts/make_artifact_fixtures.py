#!/usr/bin/python3
"""Artifacts whose format asks for a rescaling, files refused by name, and the
reference study's own torch.save files, with expectations from a PyTorch
(float64) reference written from the formulas (docs/artifact-fields.md).

Writes tests/fixtures/artifacts/:
  inputs.bin                x [8, 32] f32 (row-major, little-endian)
  sae/<name>/               an SAE (d_in 32 = the GPT-2 fixture, d_sae 64) with
                            expected_f.bin [8, 64]      features f = E(x)
                            expected_xhat.bin [8, 32]   D(E(x))
                            expected_edit.bin [8, 32]   D(f') with f'_K = ALPHA max f
    rescale-topk            sae-lens 6 TopK, rescale_acts_by_decoder_norm: true
    finetune-v5             sae-lens 5 flat cfg, finetuning_scaling_factor: true
                            + tensor "finetuning_scaling_factor"
    scaling-legacy          jumprelu, finetuning_scaling_factor: true + the legacy
                            tensor name "scaling_factor"
    scaling-ones            scaling_factor all ones, finetuning false (a no-op)
    expected-avg            normalize_activations expected_average_only_in with
                            activation_scaler.json {"scaling_factor": C}
    gemmascope-scaled       params.npz with a "scaling_factor" [d_sae] array
  bad/<name>/               files refused with a message naming the field;
                            bad/expect.json maps name -> [substrings]
  tuned-nobias/             tuned-lens config "bias": false, params.pt of
                            weights only; expected_logits.bin [8, 96] =
                            W_U ln_f(x + A_1 x) on the inputs (translator 1 =
                            resid_post.0) of the GPT-2 fixture
  steer/                    the reference study's layouts (torch.save):
    steering.pt             torch.save of a [1, 32] f32 tensor
    steering_f16.pt         the same in float16 (the study ran in fp16)
    steering_1d.pt          a [32] tensor
    steering_view.pt        a [1, 32] slice of a [3, 32] tensor (storage offset)
    probe.pt                state_dict of Sequential(Linear(32, 1), Sigmoid)
                            under "proj" (proj.0.weight [1, 32], proj.0.bias [1])
    vectors.bin             v, v16 (as f32), v1d, vview, w: [5, 32]; then b, pad
    expected_probe_z.bin    sigmoid(w.x + b) [8]
    steering_d64.pt / .safetensors, probe_d64.pt / .safetensors: the same vector
                            in both formats for stories260K (dim 64), CLI test
    bad_*.pt                shapes and layouts refused with a clear line
    bad_cv_direction0.gguf  a control vector with direction.0 (llama.cpp refuses it)

Run from anywhere: /usr/bin/python3 scripts/make_artifact_fixtures.py
(needs tests/fixtures/models/gpt2 from make_model_fixtures.py).
"""
import collections
import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_model_fixtures as mm  # noqa: E402  (safetensors/json writers, layer_norm)

OUT = os.path.join("tests", "fixtures", "artifacts")
N, D_IN, D_SAE, K = 8, 32, 64, 4
FEAT, ALPHA = 5, 2.5          # the edit: f'_FEAT = ALPHA * max_j f_j
ACT_SCALE = 0.37              # expected_average_only_in training-time scale
MARGIN = 1e-3
HOOK = "blocks.1.hook_resid_post"


# ---- PyTorch reference, float64, from the formulas -------------------------

class Sae:
    """What the file means: hidden = (c x - b_dec [apply]) W_enc + b_enc,
    times n_j = |W_dec[j]| when rescale; f = act(hidden); x^ = ((f * s / n)
    W_dec + b_dec) / c with s the finetuning scale (1 when none), n = 1 unless
    rescale, c = 1 unless expected_average_only_in."""

    def __init__(self, p, act, apply_b_dec=True, rescale=False, fscale=None, c=1.0, k=K):
        self.p = {n: torch.tensor(v, dtype=torch.float64) for n, v in p.items()}
        self.act, self.apply, self.rescale, self.c, self.k = act, apply_b_dec, rescale, c, k
        self.s = torch.ones(D_SAE, dtype=torch.float64) if fscale is None else \
            torch.tensor(fscale, dtype=torch.float64)
        self.n = self.p["W_dec"].norm(dim=-1) if rescale else torch.ones(D_SAE, dtype=torch.float64)

    def hidden(self, x):
        xin = self.c * x - (self.p["b_dec"] if self.apply else 0)
        return (xin @ self.p["W_enc"] + self.p["b_enc"]) * self.n

    def encode(self, x):
        h = self.hidden(x)
        if self.act == "relu":
            return torch.relu(h)
        if self.act == "jumprelu":
            return torch.relu(h) * (h > self.p["threshold"])
        top = torch.topk(h, self.k, dim=-1)
        return torch.zeros_like(h).scatter(-1, top.indices, torch.relu(top.values))

    def decode(self, f):
        return ((f * self.s / self.n) @ self.p["W_dec"] + self.p["b_dec"]) / self.c

    def clear_of_boundaries(self, x):
        h = self.hidden(x)
        if self.act == "topk":
            s = torch.sort(h, dim=-1, descending=True).values
            return bool((s[:, K - 1] - s[:, K]).min() > MARGIN and s[:, :K].abs().min() > MARGIN)
        if self.act == "jumprelu" and (h - self.p["threshold"]).abs().min() <= MARGIN:
            return False
        return bool(h.abs().min() > MARGIN)


def draw(rng, act, row_norms=None, d_sae=D_SAE):
    p = {"W_enc": rng.normal(0, 1 / np.sqrt(D_IN), (D_IN, d_sae)),
         "W_dec": rng.normal(0, 1 / np.sqrt(d_sae), (d_sae, D_IN)),
         "b_enc": rng.normal(-1.0 if act == "topk" else 0.0, 0.3, d_sae),
         "b_dec": rng.normal(0, 0.3, D_IN)}
    if row_norms is not None:
        p["W_dec"] *= row_norms[:, None]
    if act == "jumprelu":
        p["threshold"] = np.abs(rng.normal(0.4, 0.3, d_sae))
    return {k: np.float32(v).astype(np.float64) for k, v in p.items()}


def make_sae(rng, x, act, **kw):
    """Parameters whose pre-activations keep clear of every boundary, so an f32
    implementation picks the same active set."""
    for _ in range(500):
        norms = np.float32(rng.uniform(0.2, 3.0, D_SAE)) if kw.get("rescale") else None
        p = draw(rng, act, norms)
        s = Sae(p, act, **kw)
        if s.clear_of_boundaries(x):
            return p, s
    raise RuntimeError("no draw kept clear of the boundaries")


def write_expect(folder, s, x):
    f = s.encode(x)
    xhat = s.decode(f)
    fe = f.clone()
    fe[:, FEAT] = ALPHA * f.max(dim=-1).values
    mm.write_f32(os.path.join(folder, "expected_f.bin"), f.numpy())
    mm.write_f32(os.path.join(folder, "expected_xhat.bin"), xhat.numpy())
    mm.write_f32(os.path.join(folder, "expected_edit.bin"), s.decode(fe).numpy())
    return f


def clean(folder):
    os.makedirs(folder, exist_ok=True)
    for fn in os.listdir(folder):
        os.remove(os.path.join(folder, fn))


def cfg_v6(arch, extra=None, apply_b_dec=True):
    cfg = {"d_in": D_IN, "d_sae": D_SAE, "dtype": "float32", "device": "cpu",
           "apply_b_dec_to_input": apply_b_dec, "normalize_activations": "none",
           "reshape_activations": "none", "architecture": arch,
           "metadata": {"sae_lens_version": "6.5.1", "model_name": "interv-fixture-gpt2",
                        "hook_name": HOOK, "hook_head_index": None, "prepend_bos": True}}
    cfg.update(extra or {})
    return cfg


def cfg_v5(arch="standard", extra=None, apply_b_dec=True):
    cfg = {"architecture": arch, "d_in": D_IN, "d_sae": D_SAE, "activation_fn_str": "relu",
           "apply_b_dec_to_input": apply_b_dec, "finetuning_scaling_factor": False,
           "context_size": 128, "model_name": "interv-fixture-gpt2", "hook_name": HOOK,
           "hook_layer": 1, "hook_head_index": None, "prepend_bos": True,
           "dataset_path": "none", "dataset_trust_remote_code": False,
           "normalize_activations": "none", "dtype": "float32", "device": "cpu",
           "sae_lens_training_version": "5.4.0", "activation_fn_kwargs": {},
           "neuronpedia_id": None, "model_from_pretrained_kwargs": {}}
    cfg.update(extra or {})
    return cfg


def write_sae(folder, cfg, tensors):
    clean(folder)
    mm.write_json(os.path.join(folder, "cfg.json"), cfg)
    mm.write_safetensors(os.path.join(folder, "sae_weights.safetensors"),
                         {k: np.asarray(v) for k, v in tensors.items()}, "F32", None)


def good_saes(rng, x, manifest):
    root = os.path.join(OUT, "sae")
    # TopK with rescale_acts_by_decoder_norm (sae-lens 6 TopKSAE)
    p, s = make_sae(rng, x, "topk", rescale=True)
    d = os.path.join(root, "rescale-topk")
    write_sae(d, cfg_v6("topk", {"k": K, "rescale_acts_by_decoder_norm": True}), p)
    write_expect(d, s, x)
    # sae-lens 5: finetuning_scaling_factor tensor
    fs = np.float32(rng.uniform(0.3, 2.0, D_SAE)).astype(np.float64)
    p, s = make_sae(rng, x, "relu", fscale=fs)
    d = os.path.join(root, "finetune-v5")
    write_sae(d, cfg_v5("standard", {"finetuning_scaling_factor": True}),
              dict(p, finetuning_scaling_factor=fs))
    write_expect(d, s, x)
    # legacy tensor name "scaling_factor", jumprelu, no b_dec subtraction
    fs = np.float32(rng.uniform(0.3, 2.0, D_SAE)).astype(np.float64)
    p, s = make_sae(rng, x, "jumprelu", fscale=fs, apply_b_dec=False)
    d = os.path.join(root, "scaling-legacy")
    write_sae(d, cfg_v5("jumprelu", {"finetuning_scaling_factor": True}, apply_b_dec=False),
              dict(p, scaling_factor=fs))
    write_expect(d, s, x)
    # an all-ones scaling_factor with the flag false: dropped, as sae-lens does
    p, s = make_sae(rng, x, "relu")
    d = os.path.join(root, "scaling-ones")
    write_sae(d, cfg_v5("standard"), dict(p, scaling_factor=np.ones(D_SAE)))
    write_expect(d, s, x)
    # expected_average_only_in + activation_scaler.json
    p, s = make_sae(rng, x, "relu", c=ACT_SCALE)
    d = os.path.join(root, "expected-avg")
    write_sae(d, cfg_v6("standard", {"normalize_activations": "expected_average_only_in"}), p)
    mm.write_json(os.path.join(d, "activation_scaler.json"), {"scaling_factor": ACT_SCALE})
    write_expect(d, s, x)
    # Gemma Scope params.npz with a per-feature scaling_factor
    fs = np.float32(rng.uniform(0.3, 2.0, D_SAE)).astype(np.float64)
    p, s = make_sae(rng, x, "jumprelu", fscale=fs, apply_b_dec=False)
    d = os.path.join(root, "gemmascope-scaled")
    clean(d)
    np.savez(os.path.join(d, "params.npz"), scaling_factor=np.float32(fs),
             **{k: np.float32(p[k]) for k in ("W_enc", "W_dec", "b_enc", "b_dec", "threshold")})
    write_expect(d, s, x)
    manifest["sae"] = {"dir": "sae", "feature": FEAT, "alpha": ALPHA, "layer": 1,
                       "names": sorted(os.listdir(root))}


def bad_saes(rng):
    """Small files (d_sae 4) refused with a message naming the field."""
    root = os.path.join(OUT, "bad")
    os.makedirs(root, exist_ok=True)
    ds = 4
    base = {k: v for k, v in draw(rng, "jumprelu", d_sae=ds).items()}
    plain = {k: base[k] for k in ("W_enc", "W_dec", "b_enc", "b_dec")}
    small = {"d_sae": ds}
    expect = {}

    def bad(name, cfg, tensors, want, scaler=None):
        d = os.path.join(root, name)
        write_sae(d, cfg, tensors)
        if scaler is not None:
            mm.write_json(os.path.join(d, "activation_scaler.json"), scaler)
        expect[name] = want

    bad("norm-constant", cfg_v6("standard", dict(small, normalize_activations="constant_norm_rescale")),
        plain, ['normalize_activations "constant_norm_rescale"', "cfg.json"])
    bad("norm-layer", cfg_v6("standard", dict(small, normalize_activations="layer_norm")),
        plain, ['normalize_activations "layer_norm"', "cfg.json"])
    bad("norm-expected-noscaler",
        cfg_v6("standard", dict(small, normalize_activations="expected_average_only_in")),
        plain, ['normalize_activations "expected_average_only_in"', "activation_scaler.json"])
    bad("norm-expected-badscale",
        cfg_v6("standard", dict(small, normalize_activations="expected_average_only_in")),
        plain, ["activation_scaler.json", "scaling_factor"], scaler={"scaling_factor": -2.0})
    bad("act-tanh-relu", cfg_v5("standard", dict(small, activation_fn_str="tanh-relu")),
        plain, ['activation_fn_str "tanh-relu"', "cfg.json"])
    bad("act-tanh-relu-jumprelu", cfg_v5("jumprelu", dict(small, activation_fn_str="tanh-relu")),
        base, ['activation_fn_str "tanh-relu"', "jumprelu"])
    bad("arch-gated", cfg_v5("gated", small),
        dict(plain, b_gate=np.zeros(ds), r_mag=np.zeros(ds), b_mag=np.zeros(ds)),
        ['architecture', '"gated"'])
    bad("head-index", cfg_v5("standard", dict(small, hook_head_index=3)), plain,
        ["hook_head_index"])
    bad("reshape-hook-z", cfg_v6("standard", dict(small, reshape_activations="hook_z")), plain,
        ['reshape_activations "hook_z"'])
    bad("finetune-no-tensor", cfg_v5("standard", dict(small, finetuning_scaling_factor=True)),
        plain, ["finetuning_scaling_factor", "sae_weights.safetensors"])
    bad("scaling-without-flag", cfg_v5("standard", small),
        dict(plain, scaling_factor=np.full(ds, 0.5)), ['"scaling_factor"', "finetuning_scaling_factor false"])
    bad("extra-tensor", cfg_v5("standard", small), dict(plain, b_gate=np.zeros(ds)),
        ['tensor "b_gate"', "sae_weights.safetensors"])
    bad("rescale-standard", cfg_v6("standard", dict(small, rescale_acts_by_decoder_norm=True)),
        plain, ["rescale_acts_by_decoder_norm", "standard"])
    zero_row = dict(plain, W_dec=plain["W_dec"].copy())
    zero_row["W_dec"][2] = 0
    bad("rescale-zero-row", cfg_v6("topk", dict(small, k=2, rescale_acts_by_decoder_norm=True)),
        zero_row, ["rescale_acts_by_decoder_norm", "decoder row 2"])
    bad("topk-no-k", cfg_v6("topk", small), plain, ["topk SAE needs an integer k"])
    bad("apply-b-dec-string", cfg_v5("standard", dict(small, apply_b_dec_to_input="yes")), plain,
        ["apply_b_dec_to_input must be true or false"])
    bad("center-writing-weights",
        cfg_v5("standard", dict(small, model_from_pretrained_kwargs={"center_writing_weights": True})),
        plain, ["center_writing_weights"])
    bad("d-in-mismatch", cfg_v6("standard", {"d_sae": ds, "d_in": 16}),
        {"W_enc": np.zeros((16, ds)), "W_dec": np.zeros((ds, 16)), "b_enc": np.zeros(ds),
         "b_dec": np.zeros(16)}, ["d_in 16", "dim 32"])
    d = os.path.join(root, "npz-extra-array")
    clean(d)
    np.savez(os.path.join(d, "params.npz"), mystery=np.zeros(ds, np.float32),
             **{k: np.float32(base[k]) for k in ("W_enc", "W_dec", "b_enc", "b_dec", "threshold")})
    expect["npz-extra-array"] = ['array "mystery"', "params.npz"]
    return root, expect


def tuned_fixtures(rng, x, expect, manifest):
    gdir = os.path.join("tests", "fixtures", "models", "gpt2")
    gcfg = json.load(open(os.path.join(gdir, "config.json")))
    W = {k: torch.from_numpy(v) for k, v in
         mm.read_safetensors(os.path.join(gdir, "model.safetensors")).items()}
    d, nl = gcfg["n_embd"], gcfg["n_layer"]
    conf = {"base_model_name_or_path": "interv-fixture-gpt2", "d_model": d,
            "num_hidden_layers": nl, "bias": False, "base_model_revision": None,
            "unembed_hash": None, "lens_type": "linear_tuned_lens"}
    weights = collections.OrderedDict()
    biases = collections.OrderedDict()
    for i in range(nl):
        weights["%d.weight" % i] = torch.from_numpy(
            np.float32(rng.normal(0, 0.3 / np.sqrt(d), (d, d)))).clone()
        biases["%d.bias" % i] = torch.from_numpy(np.float32(rng.normal(0, 0.2, d))).clone()
    folder = os.path.join(OUT, "tuned-nobias")
    clean(folder)
    # the package's translators: nn.Linear(d, d, bias=False), state dict "{i}.weight"
    lin = torch.nn.ModuleList([torch.nn.Linear(d, d, bias=False) for _ in range(nl)])
    with torch.no_grad():
        for i in range(nl):
            lin[i].weight.copy_(weights["%d.weight" % i])
    torch.save(lin.state_dict(), os.path.join(folder, "params.pt"))
    mm.write_json(os.path.join(folder, "config.json"), conf)
    xs = torch.tensor(x, dtype=torch.float64)
    A = weights["1.weight"].double()
    h = xs + xs @ A.T                                     # residual translator, no bias
    h = mm.layer_norm(h, W["ln_f.weight"].double(), W["ln_f.bias"].double(),
                      gcfg["layer_norm_epsilon"])
    mm.write_f32(os.path.join(folder, "expected_logits.bin"), (h @ W["wte.weight"].double().T).numpy())
    manifest["tuned_nobias"] = {"dir": "tuned-nobias", "layer": 0, "translator": 1,
                                "shape": [N, gcfg["vocab_size"]]}

    def bad(name, conf_over, state, want):
        f = os.path.join(OUT, "bad", name)
        clean(f)
        torch.save(state, os.path.join(f, "params.pt"))
        mm.write_json(os.path.join(f, "config.json"), dict(conf, **conf_over))
        expect[name] = want

    both = collections.OrderedDict()
    for i in range(nl):
        both["%d.weight" % i] = weights["%d.weight" % i]
        both["%d.bias" % i] = biases["%d.bias" % i]
    bad("tuned-lens-type", {"lens_type": "mystery_lens", "bias": True}, both,
        ['lens_type "mystery_lens"', "config.json"])
    bad("tuned-bias-false-has-bias", {}, both, ['"bias": false', "params.pt"])
    bad("tuned-bias-true-no-bias", {"bias": True}, weights, ['"bias": true', "params.pt"])
    bad("tuned-d-model", {"d_model": 16, "bias": True}, both, ["d_model 16"])
    bad("tuned-num-layers", {"num_hidden_layers": 5, "bias": True}, both, ["num_hidden_layers 5"])


def write_cv_gguf(path, dirs):
    """A llama.cpp control vector (GGUF v3): general.architecture =
    "controlvector", F32 tensors direction.N, data aligned to 32 bytes."""
    import struct

    def gstr(b):
        return struct.pack("<Q", len(b)) + b
    kv = [(b"general.architecture", b"controlvector"), (b"controlvector.model_hint", b"fixture")]
    out = b"GGUF" + struct.pack("<IQQ", 3, len(dirs), len(kv))
    for k, v in kv:
        out += gstr(k) + struct.pack("<I", 8) + gstr(v)
    off, blobs = 0, []
    for n in sorted(dirs):
        b = np.asarray(dirs[n], dtype="<f4").tobytes()
        out += gstr(b"direction.%d" % n) + struct.pack("<IQIQ", 1, len(dirs[n]), 0, off)
        blobs.append(b + b"\0" * ((32 - len(b) % 32) % 32))
        off += len(blobs[-1])
    out += b"\0" * ((32 - len(out) % 32) % 32)
    with open(path, "wb") as f:
        f.write(out + b"".join(blobs))


def steer_fixtures(rng, x, manifest):
    folder = os.path.join(OUT, "steer")
    clean(folder)
    P = lambda n: os.path.join(folder, n)  # noqa: E731
    v = torch.from_numpy(np.float32(rng.normal(0, 1, (1, D_IN))))
    torch.save(v, P("steering.pt"))
    v16 = v.half()
    torch.save(v16, P("steering_f16.pt"))
    v1 = torch.from_numpy(np.float32(rng.normal(0, 1, D_IN)))
    torch.save(v1, P("steering_1d.pt"))
    big = torch.from_numpy(np.float32(rng.normal(0, 1, (3, D_IN))))
    vview = big[1:2]
    torch.save(vview, P("steering_view.pt"))       # saves all of big's storage, offset 32
    # the reference's probe: a module with proj = Sequential(Linear(d, 1), Sigmoid())
    torch.manual_seed(7)

    class Probe(torch.nn.Module):
        def __init__(self, d):
            super().__init__()
            self.proj = torch.nn.Sequential(torch.nn.Linear(d, 1), torch.nn.Sigmoid())

    pr = Probe(D_IN)
    torch.save(pr.state_dict(), P("probe.pt"))
    w = pr.proj[0].weight.detach()[0]
    b = pr.proj[0].bias.detach()[0]
    vec = torch.stack([v[0], v16[0].float(), v1, vview[0], w]).double()
    mm.write_f32(P("vectors.bin"), np.concatenate([vec.numpy().ravel(), [float(b), 0.0]]))
    xs = torch.tensor(x, dtype=torch.float64)
    mm.write_f32(P("expected_probe_z.bin"), torch.sigmoid(xs @ w.double() + float(b)).numpy())
    # stories260K (dim 64): the same vectors as torch.save and as interv safetensors
    v64 = torch.from_numpy(np.float32(rng.normal(0, 1, (1, 64))))
    torch.save(v64, P("steering_d64.pt"))
    mm.write_safetensors(P("steering_d64.safetensors"), {"direction": v64[0].numpy().astype(np.float64)},
                         "F32", {"interv_method": "steering", "d_model": "64"})
    pr64 = Probe(64)
    torch.save(pr64.state_dict(), P("probe_d64.pt"))
    mm.write_safetensors(P("probe_d64.safetensors"),
                         {"weight": pr64.proj[0].weight.detach()[0].double().numpy(),
                          "bias": pr64.proj[0].bias.detach().double().numpy()},
                         "F32", {"interv_method": "probe", "d_model": "64"})
    # refused layouts
    torch.save(torch.zeros(2, D_IN), P("bad_steering_2rows.pt"))
    torch.save(torch.zeros(1, 16), P("bad_steering_dim.pt"))
    torch.save(collections.OrderedDict(a=torch.zeros(D_IN), b=torch.zeros(D_IN)), P("bad_steering_dict2.pt"))
    mlp = collections.OrderedDict([("proj.0.weight", torch.zeros(1, D_IN)), ("proj.0.bias", torch.zeros(1)),
                                   ("proj.2.weight", torch.zeros(1, 1))])
    torch.save(mlp, P("bad_probe_mlp.pt"))
    torch.save(collections.OrderedDict([("proj.0.weight", torch.zeros(1, D_IN)),
                                        ("proj.0.bias", torch.zeros(2))]), P("bad_probe_bias.pt"))
    torch.save(collections.OrderedDict([("head.weight", torch.zeros(1, D_IN))]), P("bad_probe_noweight.pt"))
    torch.save(collections.OrderedDict([("proj.0.weight", torch.zeros(3, D_IN)),
                                        ("proj.0.bias", torch.zeros(3))]), P("bad_probe_3out.pt"))
    write_cv_gguf(P("bad_cv_direction0.gguf"), {0: np.ones(D_IN), 1: np.ones(D_IN)})
    manifest["steer"] = {"dir": "steer", "vectors": "v, v16, v1d, vview, w; then b",
                         "expected_probe_z": "sigmoid(w.x + b) on inputs.bin"}


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    os.chdir(root)
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(1212)
    x = np.float32(rng.normal(0, 1.0, (N, D_IN))).astype(np.float64)
    mm.write_f32(os.path.join(OUT, "inputs.bin"), x)
    manifest = {"inputs": "inputs.bin", "n": N, "d_in": D_IN, "d_sae": D_SAE}
    good_saes(rng, torch.tensor(x), manifest)
    bad_root, expect = bad_saes(rng)
    tuned_fixtures(rng, x, expect, manifest)
    steer_fixtures(rng, x, manifest)
    mm.write_json(os.path.join(bad_root, "expect.json"), expect)
    mm.write_json(os.path.join(OUT, "manifest.json"), manifest)
    total = sum(os.path.getsize(os.path.join(dp, f)) for dp, _, fs in os.walk(OUT) for f in fs)
    print("artifact fixtures: %d SAEs, %d refused files, total %d bytes"
          % (len(manifest["sae"]["names"]), len(expect), total))
    return 0


if __name__ == "__main__":
    sys.exit(main())
