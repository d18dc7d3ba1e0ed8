#!/usr/bin/python3
"""Tiny random-weight Hugging Face model folders with reference logits.

Writes tests/fixtures/models/<name>/ for GPT-2, Llama (GQA, Llama-3 rope
scaling, sharded) and Gemma-2 (soft-capping, sliding window, explicit head_dim),
each in f32 and bf16, in the on-disk layouts HF checkpoints use.  The reference
logits come from the forward passes below, written in plain torch float64 from
the HF modeling semantics (transformers itself is not a dependency).

Run from the repository root:  /usr/bin/python3 scripts/make_model_fixtures.py
Needs torch and numpy only; safetensors files are written by hand.
"""
import json
import math
import os
import struct
import sys

import numpy as np
import torch

OUT = os.path.join("tests", "fixtures", "models")
T_SEQ = 16          # tokens per fixture sequence
HOOK_LAYER = 1      # block whose output the hook references perturb

# ---------------------------------------------------------------------------
# safetensors writer (format: u64 LE header length, JSON header, raw data)
# ---------------------------------------------------------------------------


def to_bf16_bits(a):
    """float array -> uint16 bf16 bit patterns, round to nearest even."""
    t = torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32)).to(torch.bfloat16)
    return t.view(torch.int16).numpy().view(np.uint16)


def bf16_round(a):
    """float array -> float64 values exactly representable in bf16."""
    bits = to_bf16_bits(a).astype(np.uint32) << 16
    return bits.view(np.float32).astype(np.float64)


def tensor_bytes(a, dtype):
    if dtype == "F32":
        return np.ascontiguousarray(a, dtype="<f4").tobytes()
    if dtype == "BF16":
        return to_bf16_bits(a).astype("<u2").tobytes()
    raise ValueError(dtype)


def write_safetensors(path, tensors, dtype, metadata=None):
    """tensors: {name: float ndarray}; every tensor stored as `dtype`.
    Names sorted, data contiguous, header padded with spaces to 8 bytes as the
    reference implementation does."""
    header = {}
    if metadata is not None:
        header["__metadata__"] = metadata
    blobs = []
    off = 0
    for name in sorted(tensors):
        b = tensor_bytes(tensors[name], dtype)
        header[name] = {"dtype": dtype, "shape": list(tensors[name].shape),
                        "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    hj = json.dumps(header, separators=(",", ":")).encode()
    hj += b" " * ((8 - len(hj) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hj)))
        f.write(hj)
        for b in blobs:
            f.write(b)
    return off


def read_safetensors(path):
    """{name: float64 ndarray} from an F32/BF16 safetensors file."""
    with open(path, "rb") as f:
        buf = f.read()
    n = struct.unpack("<Q", buf[:8])[0]
    hdr = json.loads(buf[8:8 + n])
    out = {}
    for name, t in hdr.items():
        if name == "__metadata__":
            continue
        a, b = t["data_offsets"]
        raw = buf[8 + n + a:8 + n + b]
        if t["dtype"] == "F32":
            v = np.frombuffer(raw, dtype="<f4").astype(np.float64)
        else:
            v = (np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16).view(np.float32)
            v = v.astype(np.float64)
        out[name] = v.reshape(t["shape"])
    return out


def write_json(path, obj):
    with open(path, "w") as f:
        json.dump(obj, f, indent=2, sort_keys=False)
        f.write("\n")


def write_f32(path, a):
    np.ascontiguousarray(a, dtype="<f4").tofile(path)


# ---------------------------------------------------------------------------
# shared pieces of the reference forward passes (float64 throughout)
# ---------------------------------------------------------------------------


def gelu_tanh(x):
    # gelu_new == gelu_pytorch_tanh
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)))


def layer_norm(x, w, b, eps):
    mu = x.mean(-1, keepdim=True)
    var = ((x - mu) ** 2).mean(-1, keepdim=True)
    return (x - mu) / torch.sqrt(var + eps) * w + b


def rms_norm(x, w, eps, gemma=False):
    y = x * torch.rsqrt((x * x).mean(-1, keepdim=True) + eps)
    return y * (1.0 + w) if gemma else y * w


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat([-x[..., h:], x[..., :h]], dim=-1)


# Hugging Face ACT2FN entries, each written from its definition in
# transformers/activations.py (float64).
ACT = {
    "gelu_new": gelu_tanh,
    "gelu_pytorch_tanh": lambda x: torch.nn.functional.gelu(x, approximate="tanh"),
    "gelu_fast": lambda x: 0.5 * x * (1.0 + torch.tanh(x * 0.7978845608 * (1.0 + 0.044715 * x * x))),
    "gelu_accurate": lambda x: 0.5 * x * (1 + torch.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3))),
    "gelu": lambda x: torch.nn.functional.gelu(x),
    "gelu_python": lambda x: x * 0.5 * (1.0 + torch.erf(x / math.sqrt(2.0))),
    "gelu_10": lambda x: torch.clip(torch.nn.functional.gelu(x), -10, 10),
    "quick_gelu": lambda x: x * torch.sigmoid(1.702 * x),
    "relu": torch.relu,
    "relu2": lambda x: torch.square(torch.relu(x)),
    "relu6": torch.nn.functional.relu6,
    "leaky_relu": torch.nn.functional.leaky_relu,
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "mish": torch.nn.functional.mish,
    "linear": lambda x: x,
    "silu": torch.nn.functional.silu,
    "swish": torch.nn.functional.silu,
}


def rope_inv_freq(hd, theta, scaling=None):
    inv = 1.0 / (theta ** (torch.arange(0, hd, 2, dtype=torch.float64) / hd))
    if scaling is None or scaling.get("rope_type", scaling.get("type")) == "default":
        return inv
    if scaling.get("rope_type", scaling.get("type")) == "linear":
        return inv / scaling["factor"]     # positions / factor, the same angles
    # Llama-3 ("rope_type": "llama3") frequency remapping
    factor = scaling["factor"]
    lo, hi = scaling["low_freq_factor"], scaling["high_freq_factor"]
    old = scaling["original_max_position_embeddings"]
    lo_wl, hi_wl = old / lo, old / hi
    wl = 2 * math.pi / inv
    out = torch.where(wl > lo_wl, inv / factor, inv)
    smooth = (old / wl - lo) / (hi - lo)
    smoothed = (1 - smooth) * out / factor + smooth * out
    medium = (wl >= hi_wl) & (wl <= lo_wl)
    return torch.where(medium, smoothed, out)


def apply_rope(x, inv_freq):
    """x: [H, T, hd]; rotate-half convention, positions 0..T-1."""
    T = x.shape[1]
    ang = torch.arange(T, dtype=torch.float64)[:, None] * inv_freq[None, :]
    emb = torch.cat([ang, ang], dim=-1)
    return x * torch.cos(emb) + rotate_half(x) * torch.sin(emb)


def attention(q, k, v, scale, softcap=None, window=None, stats=None):
    """q: [H,T,hd], k/v: [Hkv,T,hd] -> [T, H*hd].  GQA: query head h reads kv
    head h // (H/Hkv) (HF repeat_kv)."""
    H, T, hd = q.shape
    rep = H // k.shape[0]
    k = k.repeat_interleave(rep, dim=0)
    v = v.repeat_interleave(rep, dim=0)
    s = q @ k.transpose(1, 2) * scale
    i = torch.arange(T)[:, None]
    j = torch.arange(T)[None, :]
    allowed = j <= i
    if window is not None:
        allowed = allowed & (j > i - window)   # window keys, the current one included
    if stats is not None:
        stats.append(s[:, allowed].abs().max().item())
    if softcap is not None:
        s = torch.tanh(s / softcap) * softcap
    s = s.masked_fill(~allowed, float("-inf"))
    p = torch.softmax(s, dim=-1)
    return (p @ v).transpose(0, 1).reshape(T, H * v.shape[-1])


def apply_hook(x, hook, layer):
    """hook: (L, vec, 'all'|'last'); adds vec to block L's output."""
    if hook is None or hook[0] != layer:
        return x
    x = x.clone()
    if hook[2] == "all":
        x += hook[1]
    else:
        x[-1] += hook[1]
    return x


# ---------------------------------------------------------------------------
# GPT-2
# ---------------------------------------------------------------------------


def gpt2_forward(W, c, tokens, hook=None, capture=None):
    """capture (optional list) receives HF's hidden_states[0..n_layer-1]:
    the embeddings, then each block's output but the last."""
    d, H = c["n_embd"], c["n_head"]
    hd = d // H
    eps = c["layer_norm_epsilon"]
    act = ACT[c.get("activation_function", "gelu_new")]
    T = len(tokens)
    x = W["wte.weight"][tokens] + W["wpe.weight"][:T]
    for L in range(c["n_layer"]):
        p = "h.%d." % L
        if capture is not None:
            capture.append(x.clone())
        h = layer_norm(x, W[p + "ln_1.weight"], W[p + "ln_1.bias"], eps)
        qkv = h @ W[p + "attn.c_attn.weight"] + W[p + "attn.c_attn.bias"]   # Conv1D: x @ W
        q, k, v = qkv.split(d, dim=-1)
        q, k, v = (t.reshape(T, H, hd).transpose(0, 1) for t in (q, k, v))
        # scores / sqrt(hd) if scale_attn_weights, then / (L+1) if
        # scale_attn_by_inverse_layer_idx (GPT2Attention._attn)
        scale = 1.0 / math.sqrt(hd) if c.get("scale_attn_weights", True) else 1.0
        if c.get("scale_attn_by_inverse_layer_idx", False):
            scale /= float(L + 1)
        a = attention(q, k, v, scale)
        x = x + a @ W[p + "attn.c_proj.weight"] + W[p + "attn.c_proj.bias"]
        h = layer_norm(x, W[p + "ln_2.weight"], W[p + "ln_2.bias"], eps)
        m = act(h @ W[p + "mlp.c_fc.weight"] + W[p + "mlp.c_fc.bias"])
        x = x + m @ W[p + "mlp.c_proj.weight"] + W[p + "mlp.c_proj.bias"]
        x = apply_hook(x, hook, L)
    x = layer_norm(x, W["ln_f.weight"], W["ln_f.bias"], eps)
    if not c.get("tie_word_embeddings", True):
        return x @ W["lm_head.weight"].T  # GPT2LMHeadModel.lm_head, no bias
    return x @ W["wte.weight"].T          # tied lm_head


def gpt2_make(rng):
    c = {"activation_function": "gelu_new", "architectures": ["GPT2LMHeadModel"],
         "attn_pdrop": 0.1, "bos_token_id": 95, "embd_pdrop": 0.1, "eos_token_id": 95,
         "initializer_range": 0.02, "layer_norm_epsilon": 1e-05, "model_type": "gpt2",
         "n_ctx": 32, "n_embd": 32, "n_head": 4, "n_layer": 2, "n_positions": 32,
         "resid_pdrop": 0.1, "scale_attn_weights": True, "summary_activation": None,
         "summary_first_dropout": 0.1, "summary_proj_to_labels": True,
         "summary_type": "cls_index", "summary_use_proj": True,
         "tie_word_embeddings": True, "use_cache": True, "vocab_size": 96}
    d, V, P = c["n_embd"], c["vocab_size"], c["n_positions"]
    W = {"wte.weight": rng.normal(0, 0.5, (V, d)), "wpe.weight": rng.normal(0, 0.3, (P, d))}
    for L in range(c["n_layer"]):
        p = "h.%d." % L
        W[p + "ln_1.weight"] = 1 + 0.1 * rng.standard_normal(d)
        W[p + "ln_1.bias"] = 0.1 * rng.standard_normal(d)
        W[p + "attn.c_attn.weight"] = rng.normal(0, 1.4 / math.sqrt(d), (d, 3 * d))
        W[p + "attn.c_attn.bias"] = 0.1 * rng.standard_normal(3 * d)
        W[p + "attn.c_proj.weight"] = rng.normal(0, 1 / math.sqrt(d), (d, d))
        W[p + "attn.c_proj.bias"] = 0.1 * rng.standard_normal(d)
        W[p + "ln_2.weight"] = 1 + 0.1 * rng.standard_normal(d)
        W[p + "ln_2.bias"] = 0.1 * rng.standard_normal(d)
        W[p + "mlp.c_fc.weight"] = rng.normal(0, 1 / math.sqrt(d), (d, 4 * d))
        W[p + "mlp.c_fc.bias"] = 0.1 * rng.standard_normal(4 * d)
        W[p + "mlp.c_proj.weight"] = rng.normal(0, 1 / math.sqrt(4 * d), (4 * d, d))
        W[p + "mlp.c_proj.bias"] = 0.1 * rng.standard_normal(d)
    W["ln_f.weight"] = 1 + 0.1 * rng.standard_normal(d)
    W["ln_f.bias"] = 0.1 * rng.standard_normal(d)
    return c, W


def gpt2_write(folder, c, W, dtype):
    # As in the original gpt2 checkpoint: no prefix, and the causal-mask buffers
    # h.{i}.attn.bias [1,1,n_positions,n_positions] stored too (a loader skips them).
    P = dict(W)
    n = c["n_positions"]
    for L in range(c["n_layer"]):
        P["h.%d.attn.bias" % L] = np.tril(np.ones((n, n), dtype=np.float32))[None, None]
    write_safetensors(os.path.join(folder, "model.safetensors"), P, dtype, {"format": "pt"})


def gpt2_prefixed_write(folder, c, W, dtype):
    # "transformer." prefix plus an explicit (tied, identical) lm_head.weight
    P = {"transformer." + k: v for k, v in W.items()}
    P["lm_head.weight"] = W["wte.weight"]
    write_safetensors(os.path.join(folder, "model.safetensors"), P, dtype, {"format": "pt"})


# ---------------------------------------------------------------------------
# Llama
# ---------------------------------------------------------------------------


def llama_forward(W, c, tokens, hook=None):
    d, H = c["hidden_size"], c["num_attention_heads"]
    Hkv = c.get("num_key_value_heads") or H
    hd = c.get("head_dim") or d // H
    T = len(tokens)
    # transformers merges rope_scaling (v4) / rope_parameters (v5); theta from
    # inside it, else the top-level rope_theta
    rp = c.get("rope_scaling") or c.get("rope_parameters")
    theta = (rp or {}).get("rope_theta", c.get("rope_theta", 10000.0))
    inv = rope_inv_freq(hd, theta, rp)
    act = ACT[c.get("hidden_act", "silu")]
    ab, mb = c.get("attention_bias", False), c.get("mlp_bias", False)

    def lin(h, name, bias):      # nn.Linear(bias=config.<flag>)
        y = h @ W[name + ".weight"].T
        return y + W[name + ".bias"] if bias else y

    x = W["model.embed_tokens.weight"][tokens]
    for L in range(c["num_hidden_layers"]):
        p = "model.layers.%d." % L
        h = rms_norm(x, W[p + "input_layernorm.weight"], c["rms_norm_eps"])
        q = lin(h, p + "self_attn.q_proj", ab).reshape(T, H, hd).transpose(0, 1)
        k = lin(h, p + "self_attn.k_proj", ab).reshape(T, Hkv, hd).transpose(0, 1)
        v = lin(h, p + "self_attn.v_proj", ab).reshape(T, Hkv, hd).transpose(0, 1)
        q, k = apply_rope(q, inv), apply_rope(k, inv)
        a = attention(q, k, v, 1.0 / math.sqrt(hd))
        x = x + lin(a, p + "self_attn.o_proj", ab)
        h = rms_norm(x, W[p + "post_attention_layernorm.weight"], c["rms_norm_eps"])
        g = lin(h, p + "mlp.gate_proj", mb)
        u = lin(h, p + "mlp.up_proj", mb)
        x = x + lin(act(g) * u, p + "mlp.down_proj", mb)
        x = apply_hook(x, hook, L)
    x = rms_norm(x, W["model.norm.weight"], c["rms_norm_eps"])
    if c.get("tie_word_embeddings", False):
        return x @ W["model.embed_tokens.weight"].T
    return x @ W["lm_head.weight"].T


def llama_make(rng):
    # head_dim 8, rope_theta 100 and original_max_position_embeddings 32 put the
    # four frequencies in all three Llama-3 bands: 1 high (kept), 1 medium
    # (smoothed), 2 low (divided by factor).
    c = {"architectures": ["LlamaForCausalLM"], "attention_bias": False,
         "attention_dropout": 0.0, "bos_token_id": 1, "eos_token_id": 2,
         "hidden_act": "silu", "hidden_size": 32, "initializer_range": 0.02,
         "intermediate_size": 80, "max_position_embeddings": 64, "mlp_bias": False,
         "model_type": "llama", "num_attention_heads": 4, "num_hidden_layers": 2,
         "num_key_value_heads": 2, "pretraining_tp": 1, "rms_norm_eps": 1e-05,
         "rope_scaling": {"factor": 8.0, "high_freq_factor": 4.0, "low_freq_factor": 1.0,
                          "original_max_position_embeddings": 32, "rope_type": "llama3"},
         "rope_theta": 100.0, "tie_word_embeddings": False, "use_cache": True,
         "vocab_size": 96}
    d, V, I = c["hidden_size"], c["vocab_size"], c["intermediate_size"]
    H, Hkv = c["num_attention_heads"], c["num_key_value_heads"]
    hd = d // H
    W = {"model.embed_tokens.weight": rng.normal(0, 1.0, (V, d)),
         "lm_head.weight": rng.normal(0, 0.5, (V, d)),
         "model.norm.weight": 1 + 0.1 * rng.standard_normal(d)}
    for L in range(c["num_hidden_layers"]):
        p = "model.layers.%d." % L
        W[p + "input_layernorm.weight"] = 1 + 0.1 * rng.standard_normal(d)
        W[p + "post_attention_layernorm.weight"] = 1 + 0.1 * rng.standard_normal(d)
        W[p + "self_attn.q_proj.weight"] = rng.normal(0, 1.5 / math.sqrt(d), (H * hd, d))
        W[p + "self_attn.k_proj.weight"] = rng.normal(0, 1.5 / math.sqrt(d), (Hkv * hd, d))
        W[p + "self_attn.v_proj.weight"] = rng.normal(0, 1 / math.sqrt(d), (Hkv * hd, d))
        W[p + "self_attn.o_proj.weight"] = rng.normal(0, 1 / math.sqrt(H * hd), (d, H * hd))
        W[p + "mlp.gate_proj.weight"] = rng.normal(0, 1 / math.sqrt(d), (I, d))
        W[p + "mlp.up_proj.weight"] = rng.normal(0, 1 / math.sqrt(d), (I, d))
        W[p + "mlp.down_proj.weight"] = rng.normal(0, 1 / math.sqrt(I), (d, I))
    return c, W


def llama_write(folder, c, W, dtype):
    # two shards: embeddings + layer 0 in the first, the rest in the second
    names = sorted(W)
    first = [n for n in names if n == "model.embed_tokens.weight" or n.startswith("model.layers.0.")]
    second = [n for n in names if n not in first]
    files = ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"]
    total = 0
    wmap = {}
    for fn, group in zip(files, (first, second)):
        total += write_safetensors(os.path.join(folder, fn), {n: W[n] for n in group}, dtype,
                                   {"format": "pt"})
        for n in group:
            wmap[n] = fn
    write_json(os.path.join(folder, "model.safetensors.index.json"),
               {"metadata": {"total_size": total},
                "weight_map": {n: wmap[n] for n in sorted(wmap)}})


# ---------------------------------------------------------------------------
# Gemma-2
# ---------------------------------------------------------------------------


def gemma2_forward(W, c, tokens, hook=None, normalizer=None, stats=None):
    d, H, Hkv, hd = (c["hidden_size"], c["num_attention_heads"],
                     c["num_key_value_heads"], c["head_dim"])
    eps = c["rms_norm_eps"]
    T = len(tokens)
    inv = rope_inv_freq(hd, c["rope_theta"])
    scale = c["query_pre_attn_scalar"] ** -0.5
    if normalizer is None:
        normalizer = math.sqrt(d)
    x = W["model.embed_tokens.weight"][tokens] * normalizer
    for L in range(c["num_hidden_layers"]):
        p = "model.layers.%d." % L
        window = c["sliding_window"] if L % 2 == 0 else None   # even layers slide (None: off)
        h = rms_norm(x, W[p + "input_layernorm.weight"], eps, gemma=True)
        q = (h @ W[p + "self_attn.q_proj.weight"].T).reshape(T, H, hd).transpose(0, 1)
        k = (h @ W[p + "self_attn.k_proj.weight"].T).reshape(T, Hkv, hd).transpose(0, 1)
        v = (h @ W[p + "self_attn.v_proj.weight"].T).reshape(T, Hkv, hd).transpose(0, 1)
        q, k = apply_rope(q, inv), apply_rope(k, inv)
        a = attention(q, k, v, scale, c["attn_logit_softcapping"], window,
                      stats["attn"] if stats else None)
        a = a @ W[p + "self_attn.o_proj.weight"].T
        x = x + rms_norm(a, W[p + "post_attention_layernorm.weight"], eps, gemma=True)
        h = rms_norm(x, W[p + "pre_feedforward_layernorm.weight"], eps, gemma=True)
        g = gelu_tanh(h @ W[p + "mlp.gate_proj.weight"].T)
        m = (g * (h @ W[p + "mlp.up_proj.weight"].T)) @ W[p + "mlp.down_proj.weight"].T
        x = x + rms_norm(m, W[p + "post_feedforward_layernorm.weight"], eps, gemma=True)
        x = apply_hook(x, hook, L)
    x = rms_norm(x, W["model.norm.weight"], eps, gemma=True)
    logits = x @ W["model.embed_tokens.weight"].T       # tied
    if stats is not None:
        stats["final"].append(logits.abs().max().item())
    cap = c["final_logit_softcapping"]
    if cap is None:
        return logits
    return torch.tanh(logits / cap) * cap


def gemma2_make(rng):
    # head_dim*heads = 64 != hidden 48; query_pre_attn_scalar 24 != head_dim 16;
    # caps small enough that random weights exceed them.
    c = {"architectures": ["Gemma2ForCausalLM"], "attention_bias": False,
         "attention_dropout": 0.0, "attn_logit_softcapping": 5.0, "bos_token_id": 2,
         "cache_implementation": "hybrid", "eos_token_id": 1,
         "final_logit_softcapping": 10.0, "head_dim": 16,
         "hidden_act": "gelu_pytorch_tanh", "hidden_activation": "gelu_pytorch_tanh",
         "hidden_size": 48, "initializer_range": 0.02, "intermediate_size": 48,
         "max_position_embeddings": 32, "model_type": "gemma2",
         "num_attention_heads": 4, "num_hidden_layers": 3, "num_key_value_heads": 2,
         "pad_token_id": 0, "query_pre_attn_scalar": 24, "rms_norm_eps": 1e-06,
         "rope_theta": 10000.0, "sliding_window": 4, "tie_word_embeddings": True,
         "use_cache": True, "vocab_size": 96}
    d, V, I = c["hidden_size"], c["vocab_size"], c["intermediate_size"]
    H, Hkv, hd = c["num_attention_heads"], c["num_key_value_heads"], c["head_dim"]
    W = {"model.embed_tokens.weight": rng.normal(0, 0.5, (V, d)),
         "model.norm.weight": 0.1 * rng.standard_normal(d)}
    for L in range(c["num_hidden_layers"]):
        p = "model.layers.%d." % L
        for n in ("input_layernorm", "post_attention_layernorm",
                  "pre_feedforward_layernorm", "post_feedforward_layernorm"):
            W[p + n + ".weight"] = 0.1 * rng.standard_normal(d)
        W[p + "self_attn.q_proj.weight"] = rng.normal(0, 1.6 / math.sqrt(d), (H * hd, d))
        W[p + "self_attn.k_proj.weight"] = rng.normal(0, 1.6 / math.sqrt(d), (Hkv * hd, d))
        W[p + "self_attn.v_proj.weight"] = rng.normal(0, 1 / math.sqrt(d), (Hkv * hd, d))
        W[p + "self_attn.o_proj.weight"] = rng.normal(0, 1 / math.sqrt(H * hd), (d, H * hd))
        W[p + "mlp.gate_proj.weight"] = rng.normal(0, 1 / math.sqrt(d), (I, d))
        W[p + "mlp.up_proj.weight"] = rng.normal(0, 1 / math.sqrt(d), (I, d))
        W[p + "mlp.down_proj.weight"] = rng.normal(0, 1 / math.sqrt(I), (d, I))
    return c, W


def gemma2_write(folder, c, W, dtype):
    write_safetensors(os.path.join(folder, "model.safetensors"), W, dtype, {"format": "pt"})


# ---------------------------------------------------------------------------
# config.json keys (docs/config-keys.md): one small f32 fixture per key that
# interv honours beyond the base fixtures above
# ---------------------------------------------------------------------------


def small_gpt2(rng, **over):
    """d 16, 2 heads, vocab 64, 16 positions; `over` replaces config keys."""
    c = {"activation_function": "gelu_new", "architectures": ["GPT2LMHeadModel"],
         "layer_norm_epsilon": 1e-05, "model_type": "gpt2", "n_ctx": 16, "n_embd": 16,
         "n_head": 2, "n_layer": 2, "n_positions": 16, "vocab_size": 64}
    c.update(over)
    d, V, P = c["n_embd"], c["vocab_size"], c["n_positions"]
    inner = c.get("n_inner") or 4 * d
    W = {"wte.weight": rng.normal(0, 0.5, (V, d)), "wpe.weight": rng.normal(0, 0.3, (P, d))}
    for L in range(c["n_layer"]):
        p = "h.%d." % L
        W[p + "ln_1.weight"] = 1 + 0.1 * rng.standard_normal(d)
        W[p + "ln_1.bias"] = 0.1 * rng.standard_normal(d)
        W[p + "attn.c_attn.weight"] = rng.normal(0, 1.4 / math.sqrt(d), (d, 3 * d))
        W[p + "attn.c_attn.bias"] = 0.1 * rng.standard_normal(3 * d)
        W[p + "attn.c_proj.weight"] = rng.normal(0, 1 / math.sqrt(d), (d, d))
        W[p + "attn.c_proj.bias"] = 0.1 * rng.standard_normal(d)
        W[p + "ln_2.weight"] = 1 + 0.1 * rng.standard_normal(d)
        W[p + "ln_2.bias"] = 0.1 * rng.standard_normal(d)
        W[p + "mlp.c_fc.weight"] = rng.normal(0, 1.5 / math.sqrt(d), (d, inner))
        W[p + "mlp.c_fc.bias"] = 0.3 * rng.standard_normal(inner)
        W[p + "mlp.c_proj.weight"] = rng.normal(0, 1 / math.sqrt(inner), (inner, d))
        W[p + "mlp.c_proj.bias"] = 0.1 * rng.standard_normal(d)
    W["ln_f.weight"] = 1 + 0.1 * rng.standard_normal(d)
    W["ln_f.bias"] = 0.1 * rng.standard_normal(d)
    if not c.get("tie_word_embeddings", True):
        W["lm_head.weight"] = rng.normal(0, 0.7, (V, d))
    return c, W


def small_llama(rng, **over):
    """d 16, 2 heads (1 kv head), vocab 64; `over` replaces config keys."""
    c = {"architectures": ["LlamaForCausalLM"], "hidden_size": 16, "intermediate_size": 40,
         "max_position_embeddings": 32, "model_type": "llama", "num_attention_heads": 2,
         "num_hidden_layers": 2, "num_key_value_heads": 1, "rms_norm_eps": 1e-05,
         "rope_theta": 100.0, "tie_word_embeddings": False, "vocab_size": 64}
    c.update(over)
    d, V, I = c["hidden_size"], c["vocab_size"], c["intermediate_size"]
    H, Hkv = c["num_attention_heads"], c.get("num_key_value_heads") or c["num_attention_heads"]
    hd = c.get("head_dim") or d // H
    W = {"model.embed_tokens.weight": rng.normal(0, 1.0, (V, d)),
         "model.norm.weight": 1 + 0.1 * rng.standard_normal(d)}
    if not c.get("tie_word_embeddings", False):
        W["lm_head.weight"] = rng.normal(0, 0.5, (V, d))
    shapes = {"self_attn.q_proj": (H * hd, d), "self_attn.k_proj": (Hkv * hd, d),
              "self_attn.v_proj": (Hkv * hd, d), "self_attn.o_proj": (d, H * hd),
              "mlp.gate_proj": (I, d), "mlp.up_proj": (I, d), "mlp.down_proj": (d, I)}
    for L in range(c["num_hidden_layers"]):
        p = "model.layers.%d." % L
        W[p + "input_layernorm.weight"] = 1 + 0.1 * rng.standard_normal(d)
        W[p + "post_attention_layernorm.weight"] = 1 + 0.1 * rng.standard_normal(d)
        for n, (o, i) in shapes.items():
            W[p + n + ".weight"] = rng.normal(0, 1.5 / math.sqrt(i), (o, i))
            # biases stored only where the config asks for them
            if c.get("attention_bias") and n.startswith("self_attn") or c.get("mlp_bias") and n.startswith("mlp"):
                W[p + n + ".bias"] = 0.5 * rng.standard_normal(o)
    return c, W


def small_gemma2_defaults(rng):
    """A Gemma-2 config.json that leaves out num_key_value_heads,
    query_pre_attn_scalar, attn_logit_softcapping, final_logit_softcapping and
    sliding_window: transformers' Gemma2Config fills in 4, 256, 50.0, 30.0 and
    4096.  Weights large enough that both caps change the logits."""
    c = {"architectures": ["Gemma2ForCausalLM"], "head_dim": 8, "hidden_size": 16,
         "intermediate_size": 32, "max_position_embeddings": 32, "model_type": "gemma2",
         "num_attention_heads": 8, "num_hidden_layers": 2, "rms_norm_eps": 1e-06,
         "rope_theta": 10000.0, "vocab_size": 64}
    ref = dict(c, num_key_value_heads=4, query_pre_attn_scalar=256, attn_logit_softcapping=50.0,
               final_logit_softcapping=30.0, sliding_window=4096)
    d, V, I, H, Hkv, hd = 16, 64, 32, 8, 4, 8
    W = {"model.embed_tokens.weight": rng.normal(0, 1.5, (V, d)),
         "model.norm.weight": 0.1 * rng.standard_normal(d)}
    for L in range(c["num_hidden_layers"]):
        p = "model.layers.%d." % L
        for n in ("input_layernorm", "post_attention_layernorm",
                  "pre_feedforward_layernorm", "post_feedforward_layernorm"):
            W[p + n + ".weight"] = 0.1 * rng.standard_normal(d)
        W[p + "self_attn.q_proj.weight"] = rng.normal(0, 1.5, (H * hd, d))
        W[p + "self_attn.k_proj.weight"] = rng.normal(0, 1.5, (Hkv * hd, d))
        W[p + "self_attn.v_proj.weight"] = rng.normal(0, 1 / math.sqrt(d), (Hkv * hd, d))
        W[p + "self_attn.o_proj.weight"] = rng.normal(0, 1 / math.sqrt(H * hd), (d, H * hd))
        W[p + "mlp.gate_proj.weight"] = rng.normal(0, 1 / math.sqrt(d), (I, d))
        W[p + "mlp.up_proj.weight"] = rng.normal(0, 1 / math.sqrt(d), (I, d))
        W[p + "mlp.down_proj.weight"] = rng.normal(0, 1 / math.sqrt(I), (d, I))
    return c, ref, W


def activation_table(path):
    """Each ACT2FN entry on fixed inputs, for tests/unit/test_config_keys.c."""
    x = torch.cat([torch.linspace(-12, 12, 49, dtype=torch.float64),
                   torch.tensor([-0.3, -1e-3, 1e-3, 0.7, 2.5, 5.9, 6.1, 25.0], dtype=torch.float64)])
    out = {"x": x.tolist(), "act": {k: f(x).tolist() for k, f in sorted(ACT.items())}}
    with open(path, "w") as f:
        json.dump(out, f)
        f.write("\n")


def key_fixtures(report):
    """(name, what the fixture exercises); returns the list for the summary."""
    rng = np.random.default_rng(4242)
    done = []

    def one(name, c, W, writer, forward, ref=None, alt=None):
        """alt: a config the reference also runs to show the key matters."""
        W = {k: np.float32(v) for k, v in W.items()}
        toks = rng.integers(0, c["vocab_size"], T_SEQ)
        hv = np.float32(rng.normal(0, 1.0, c.get("n_embd") or c["hidden_size"]))
        cl, hk, la = emit(name, c, W, "F32", writer, forward, toks, hv, ref_cfg=ref)
        report.append((name, cl, hk, la))
        if alt is not None:
            d = (forward(t64(W), alt, toks) - cl).abs().max().item()
            done.append((name, d))

    c, W = small_gpt2(rng, scale_attn_by_inverse_layer_idx=True, reorder_and_upcast_attn=True)
    one("gpt2-layer-scale", c, W, gpt2_write, gpt2_forward,
        alt=dict(c, scale_attn_by_inverse_layer_idx=False))
    c, W = small_gpt2(rng, scale_attn_weights=False)
    one("gpt2-no-attn-scale", c, W, gpt2_write, gpt2_forward, alt=dict(c, scale_attn_weights=True))
    c, W = small_gpt2(rng, tie_word_embeddings=False)
    one("gpt2-untied", c, W, gpt2_write, gpt2_forward, alt=dict(c, tie_word_embeddings=True))
    c, W = small_gpt2(rng, activation_function="gelu", n_inner=24, layer_norm_epsilon=0.05)
    one("gpt2-act-inner-eps", c, W, gpt2_write, gpt2_forward,
        alt=dict(c, activation_function="gelu_new", layer_norm_epsilon=1e-5))
    c, W = small_llama(rng, mlp_bias=True)
    one("llama-mlp-bias", c, W, llama_write, llama_forward, alt=dict(c, mlp_bias=False))
    c, W = small_llama(rng, attention_bias=True)
    one("llama-attn-bias", c, W, llama_write, llama_forward, alt=dict(c, attention_bias=False))
    c, W = small_llama(rng, rope_scaling={"type": "linear", "factor": 4.0})
    one("llama-rope-linear", c, W, llama_write, llama_forward, alt={k: v for k, v in c.items() if k != "rope_scaling"})
    # v5 layout: theta inside rope_parameters; explicit head_dim != hidden/heads;
    # erf GELU; tied embeddings
    c, W = small_llama(rng, hidden_act="gelu", head_dim=12, tie_word_embeddings=True, rope_theta=None,
                       rope_parameters={"rope_type": "default", "rope_theta": 500.0})
    del c["rope_theta"]
    one("llama-act-headdim-v5", c, W, llama_write, llama_forward, alt=dict(c, hidden_act="silu"))
    c, ref, W = small_gemma2_defaults(rng)
    old = dict(ref, query_pre_attn_scalar=8, attn_logit_softcapping=None, final_logit_softcapping=None)
    one("gemma2-defaults", c, W, gemma2_write, gemma2_forward, ref=ref, alt=old)
    return done


# ---------------------------------------------------------------------------
# driver
# ---------------------------------------------------------------------------


def t64(W):
    return {k: torch.from_numpy(np.asarray(v, dtype=np.float64)) for k, v in W.items()}


def emit(name, c, Wstore, dtype, writer, forward, tokens, hook_vec, extra=None, fwd_kw=None, ref_cfg=None):
    """Writes one folder: config, weights, expected.json, logits files.
    ref_cfg: the configuration the reference runs with when it differs from
    the config.json written (keys left out that take Hugging Face defaults)."""
    folder = os.path.join(OUT, name)
    os.makedirs(folder, exist_ok=True)
    for f in os.listdir(folder):
        os.remove(os.path.join(folder, f))
    cfg = dict(c)
    cfg["torch_dtype"] = "float32" if dtype == "F32" else "bfloat16"
    cfg["transformers_version"] = "4.44.0"
    write_json(os.path.join(folder, "config.json"), cfg)
    writer(folder, c, Wstore, dtype)
    # reference from exactly the stored values, upcast to float64
    Wref = t64({k: (bf16_round(v) if dtype == "BF16" else np.float32(v)) for k, v in Wstore.items()})
    kw = fwd_kw or {}
    v = torch.from_numpy(hook_vec.astype(np.float64))
    rc = ref_cfg or c
    clean = forward(Wref, rc, tokens, **kw)
    hooked = forward(Wref, rc, tokens, hook=(HOOK_LAYER, v, "all"), **kw)
    last = forward(Wref, rc, tokens, hook=(HOOK_LAYER, v, "last"), **kw)
    write_f32(os.path.join(folder, "logits.bin"), clean.numpy())
    write_f32(os.path.join(folder, "hook.bin"), hook_vec)
    write_f32(os.path.join(folder, "logits_hook.bin"), hooked.numpy())
    write_f32(os.path.join(folder, "logits_hook_last.bin"), last.numpy())
    exp = {"tokens": [int(t) for t in tokens], "vocab": int(clean.shape[1]),
           "dim": int(hook_vec.shape[0]), "weights_dtype": dtype,
           "logits_f32": "logits.bin",
           "hook": {"layer": HOOK_LAYER, "point": "resid_post.%d" % HOOK_LAYER,
                    "vector": "hook.bin", "logits_all": "logits_hook.bin",
                    "logits_last": "logits_hook_last.bin"}}
    if extra:
        exp.update(extra)
    write_json(os.path.join(folder, "expected.json"), exp)
    return clean, hooked, last


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    os.chdir(root)
    os.makedirs(OUT, exist_ok=True)
    report = []

    # ---- GPT-2 ------------------------------------------------------------
    rng = np.random.default_rng(1234)
    c, W = gpt2_make(rng)
    W = {k: np.float32(v) for k, v in W.items()}
    toks = rng.integers(0, c["vocab_size"], T_SEQ)
    hv = np.float32(rng.normal(0, 1.0, c["n_embd"]))
    for name, dt, wr in (("gpt2", "F32", gpt2_write), ("gpt2-bf16", "BF16", gpt2_write),
                         ("gpt2-prefixed", "F32", gpt2_prefixed_write)):
        cl, hk, la = emit(name, c, W, dt, wr, gpt2_forward, toks, hv)
        report.append((name, cl, hk, la))

    # ---- Llama ------------------------------------------------------------
    rng = np.random.default_rng(5678)
    c, W = llama_make(rng)
    W = {k: np.float32(v) for k, v in W.items()}
    toks = rng.integers(0, c["vocab_size"], T_SEQ)
    hv = np.float32(rng.normal(0, 1.0, c["hidden_size"]))
    for name, dt in (("llama", "F32"), ("llama-bf16", "BF16")):
        cl, hk, la = emit(name, c, W, dt, llama_write, llama_forward, toks, hv)
        report.append((name, cl, hk, la))
    # scaling must matter: compare with unscaled rope
    c0 = dict(c)
    del c0["rope_scaling"]
    W64 = t64(W)
    d_scale = (llama_forward(W64, c, toks) - llama_forward(W64, c0, toks)).abs().max().item()
    inv = rope_inv_freq(8, c["rope_theta"], c["rope_scaling"])
    print("llama: inv_freq scaled %s vs plain %s; max logit change from rope_scaling %.3g"
          % (inv.numpy(), rope_inv_freq(8, c["rope_theta"]).numpy(), d_scale))

    # ---- Gemma-2 ----------------------------------------------------------
    rng = np.random.default_rng(9012)
    c, W = gemma2_make(rng)
    W = {k: np.float32(v) for k, v in W.items()}
    toks = rng.integers(0, c["vocab_size"], T_SEQ)
    hv = np.float32(rng.normal(0, 2.0, c["hidden_size"]))
    d = c["hidden_size"]
    norm_f32 = float(np.float32(math.sqrt(d)))
    # HF builds the normalizer as a tensor of the hidden dtype: bf16 for a
    # bf16 model, so sqrt(48) = 6.928... becomes 6.9375 there.
    norm_bf16 = float(bf16_round(np.array([math.sqrt(d)]))[0])
    for name, dt, nz in (("gemma2", "F32", norm_f32), ("gemma2-bf16", "BF16", norm_bf16)):
        cl, hk, la = emit(name, c, W, dt, gemma2_write, gemma2_forward, toks, hv,
                          extra={"embed_normalizer": nz}, fwd_kw={"normalizer": nz})
        report.append((name, cl, hk, la))
    st = {"attn": [], "final": []}
    W64 = t64(W)
    gemma2_forward(W64, c, toks, stats=st)
    print("gemma2: max |attn logit| per layer %s (cap %g); max |final logit| %.3g (cap %g)"
          % (["%.2f" % s for s in st["attn"]], c["attn_logit_softcapping"], st["final"][0],
             c["final_logit_softcapping"]))
    Wb = t64({k: bf16_round(v) for k, v in W.items()})
    dn = (gemma2_forward(Wb, c, toks, normalizer=norm_bf16)
          - gemma2_forward(Wb, c, toks, normalizer=norm_f32)).abs().max().item()
    print("gemma2-bf16: normalizer %.6f (bf16) vs %.6f: max logit difference %.3g"
          % (norm_bf16, norm_f32, dn))
    c1 = dict(c)
    c1["sliding_window"] = 10 ** 6
    dw = (gemma2_forward(W64, c, toks) - gemma2_forward(W64, c1, toks)).abs().max().item()
    print("gemma2: max logit change from the sliding window %.3g" % dw)

    for name, d in key_fixtures(report):
        print("%-22s max logit change without the key's effect: %.3g" % (name, d))
    activation_table(os.path.join(OUT, "activations.json"))

    for name, cl, hk, la in report:
        print("%-14s logits |max| %.3g std %.3g; hook(all) max change %.3g; hook(last) "
              "change on earlier rows %.1g, last row %.3g"
              % (name, cl.abs().max().item(), cl.std().item(), (hk - cl).abs().max().item(),
                 (la - cl)[:-1].abs().max().item(), (la - cl)[-1].abs().max().item()))
    total = 0
    for dp, _, fs in os.walk(OUT):
        total += sum(os.path.getsize(os.path.join(dp, f)) for f in fs)
    print("total fixture size: %d bytes" % total)
    return 0


if __name__ == "__main__":
    sys.exit(main())
