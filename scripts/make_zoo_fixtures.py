#!/usr/bin/python3
"""Random-weight fixtures for the model zoo of issue 14, with reference logits.

Writes tests/fixtures/models/<name>/ for Qwen2ForCausalLM, Qwen3ForCausalLM,
MistralForCausalLM, GPTNeoXForCausalLM, Olmo2ForCausalLM, Phi3ForCausalLM and
Gemma3ForCausalLM (text), each in f32 and bf16, plus one small f32 folder per
further config key, in the tensor names and layouts Hugging Face checkpoints
use.  The reference forward passes below are plain float64 torch written from
the HF modeling semantics (transformers itself is not a dependency); besides
the logits (clean and with an additive hook at resid_post.1) every fixture
stores resid_post.L of every layer (resid.bin, [n_layers, T, d]).

Run from the repository root:  /usr/bin/python3 scripts/make_zoo_fixtures.py
Shares its writers with scripts/make_model_fixtures.py.
"""
import math
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_model_fixtures as mf  # noqa: E402

T_SEQ = mf.T_SEQ


def rms(x, w, eps, off=0.0):
    return x * torch.rsqrt((x * x).mean(-1, keepdim=True) + eps) * (off + w)


def rope_rot(x, inv):
    """x: [H, T, hd]; rotate-half over the first 2*len(inv) dims, the rest passes."""
    rot = 2 * inv.shape[0]
    xr, xp = x[..., :rot], x[..., rot:]
    ang = torch.arange(x.shape[1], dtype=torch.float64)[:, None] * inv[None, :]
    emb = torch.cat([ang, ang], dim=-1)
    xr = xr * torch.cos(emb) + mf.rotate_half(xr) * torch.sin(emb)
    return torch.cat([xr, xp], dim=-1)


def inv_freq(rot, theta, rp):
    """rp: the merged rope dict; only a typed, non-default entry scales."""
    t = (rp or {}).get("rope_type", (rp or {}).get("type", "default"))
    return mf.rope_inv_freq(rot, theta, None if t == "default" else rp)


QWEN = ("Qwen2ForCausalLM", "Qwen3ForCausalLM")


def decoder_forward(W, c, tokens, hook=None, capture=None, normalizer=None):
    """Qwen2/3, Mistral, OLMo-2, Phi-3 and Gemma-3 (text)."""
    arch = c["architectures"][0]
    gemma, olmo, phi = arch == "Gemma3ForCausalLM", arch == "Olmo2ForCausalLM", arch == "Phi3ForCausalLM"
    T, d, H, n_layers = len(tokens), c["hidden_size"], c["num_attention_heads"], c["num_hidden_layers"]
    kv_absent = {"Qwen2ForCausalLM": 32, "Qwen3ForCausalLM": 32, "MistralForCausalLM": 8,
                 "Gemma3ForCausalLM": 4}.get(arch, H)
    Hkv = c["num_key_value_heads"] if "num_key_value_heads" in c else kv_absent
    Hkv = Hkv or H
    hd = c.get("head_dim", 128 if arch == "Qwen3ForCausalLM" else 256 if gemma else None) or d // H
    eps = c.get("rms_norm_eps", 1e-5 if olmo or phi else 1e-6)
    off = 1.0 if gemma else 0.0
    rp = c.get("rope_scaling") or c.get("rope_parameters") or {}
    theta = rp.get("rope_theta", c.get("rope_theta", 1e6 if gemma else 1e4))
    prf = rp.get("partial_rotary_factor", c.get("partial_rotary_factor", 1.0)) if phi else 1.0
    rot = int(hd * prf)
    inv_g = inv_freq(rot, theta, rp)
    inv_l = inv_freq(rot, c.get("rope_local_base_freq", 1e4), None)
    # which layers slide, and the window
    if arch in QWEN:
        sw = c.get("sliding_window", 4096) if c.get("use_sliding_window", False) else None
        lt = c.get("layer_types") or ["sliding_attention" if sw is not None and i >= c.get("max_window_layers", 28)
                                      else "full_attention" for i in range(n_layers)]
    elif arch in ("MistralForCausalLM", "Phi3ForCausalLM"):
        sw = c.get("sliding_window", 4096 if arch == "MistralForCausalLM" else None)
        lt = ["sliding_attention"] * n_layers
    elif gemma:
        sw = c.get("sliding_window", 4096)
        pat = c.get("sliding_window_pattern", 6)
        lt = c.get("layer_types") or ["sliding_attention" if (i + 1) % pat else "full_attention"
                                      for i in range(n_layers)]
    else:
        sw, lt = None, ["full_attention"] * n_layers
    scale = c.get("query_pre_attn_scalar", 256) ** -0.5 if gemma else hd ** -0.5
    cap = c.get("attn_logit_softcapping") if gemma else None
    # biases on q/k/v and on o
    if arch == "Qwen2ForCausalLM":
        bqkv, bo = True, False
    elif arch in ("Qwen3ForCausalLM", "Olmo2ForCausalLM", "Gemma3ForCausalLM"):
        bqkv = bo = c.get("attention_bias", False)
    else:
        bqkv = bo = False
    act = mf.ACT[c.get("hidden_activation", "gelu_pytorch_tanh")] if gemma else mf.ACT[c.get("hidden_act", "silu")]

    def lin(h, name, bias):
        y = h @ W[name + ".weight"].T
        return y + W[name + ".bias"] if bias else y

    x = W["model.embed_tokens.weight"][tokens]
    if gemma:
        x = x * (normalizer if normalizer is not None else math.sqrt(d))
    for L in range(n_layers):
        p = "model.layers.%d." % L
        sliding = lt[L] == "sliding_attention" and sw is not None
        h = x if olmo else rms(x, W[p + "input_layernorm.weight"], eps, off)
        if phi:
            qkv = h @ W[p + "self_attn.qkv_proj.weight"].T
            q, k, v = qkv.split([H * hd, Hkv * hd, Hkv * hd], dim=-1)
        else:
            q = lin(h, p + "self_attn.q_proj", bqkv)
            k = lin(h, p + "self_attn.k_proj", bqkv)
            v = lin(h, p + "self_attn.v_proj", bqkv)
        if olmo:   # over the whole projection, before splitting into heads
            q, k = rms(q, W[p + "self_attn.q_norm.weight"], eps), rms(k, W[p + "self_attn.k_norm.weight"], eps)
        q = q.reshape(T, H, hd).transpose(0, 1)
        k = k.reshape(T, Hkv, hd).transpose(0, 1)
        v = v.reshape(T, Hkv, hd).transpose(0, 1)
        if arch == "Qwen3ForCausalLM" or gemma:   # per head
            q = rms(q, W[p + "self_attn.q_norm.weight"], eps, off)
            k = rms(k, W[p + "self_attn.k_norm.weight"], eps, off)
        inv = inv_l if gemma and lt[L] == "sliding_attention" else inv_g
        q, k = rope_rot(q, inv), rope_rot(k, inv)
        a = mf.attention(q, k, v, scale, cap, sw if sliding else None)
        o = lin(a, p + "self_attn.o_proj", bo)
        if gemma or olmo:
            o = rms(o, W[p + "post_attention_layernorm.weight"], eps, off)
        x = x + o
        if gemma:
            h = rms(x, W[p + "pre_feedforward_layernorm.weight"], eps, off)
        else:
            h = x if olmo else rms(x, W[p + "post_attention_layernorm.weight"], eps)
        if phi:
            g, u = (h @ W[p + "mlp.gate_up_proj.weight"].T).chunk(2, dim=-1)
        else:
            g, u = h @ W[p + "mlp.gate_proj.weight"].T, h @ W[p + "mlp.up_proj.weight"].T
        m = (act(g) * u) @ W[p + "mlp.down_proj.weight"].T
        if gemma or olmo:
            m = rms(m, W[p + "post_feedforward_layernorm.weight"], eps, off)
        x = mf.apply_hook(x + m, hook, L)
        if capture is not None:
            capture.append(x.clone())
    x = rms(x, W["model.norm.weight"], eps, off)
    tied = c.get("tie_word_embeddings", gemma)
    logits = x @ (W["model.embed_tokens.weight"] if tied else W["lm_head.weight"]).T
    fcap = c.get("final_logit_softcapping") if gemma else None
    return logits if fcap is None else torch.tanh(logits / fcap) * fcap


def neox_forward(W, c, tokens, hook=None, capture=None):
    T, d, H = len(tokens), c["hidden_size"], c["num_attention_heads"]
    hd = d // H
    eps = c.get("layer_norm_eps", 1e-5)
    rp = c.get("rope_scaling") or c.get("rope_parameters") or {}
    theta = rp.get("rope_theta", c.get("rotary_emb_base", 10000.0))
    rot = int(hd * rp.get("partial_rotary_factor", c.get("rotary_pct", 0.25)))
    inv = inv_freq(rot, theta, rp)
    ab = c.get("attention_bias", True)
    act = mf.ACT[c.get("hidden_act", "gelu")]
    x = W["gpt_neox.embed_in.weight"][tokens]

    def mlp(h, p):
        u = act(h @ W[p + "mlp.dense_h_to_4h.weight"].T + W[p + "mlp.dense_h_to_4h.bias"])
        return u @ W[p + "mlp.dense_4h_to_h.weight"].T + W[p + "mlp.dense_4h_to_h.bias"]

    for L in range(c["num_hidden_layers"]):
        p = "gpt_neox.layers.%d." % L
        h = mf.layer_norm(x, W[p + "input_layernorm.weight"], W[p + "input_layernorm.bias"], eps)
        qkv = h @ W[p + "attention.query_key_value.weight"].T
        if ab:
            qkv = qkv + W[p + "attention.query_key_value.bias"]
        qkv = qkv.reshape(T, H, 3 * hd)          # per head: q | k | v
        q, k, v = (qkv[..., i * hd:(i + 1) * hd].transpose(0, 1) for i in range(3))
        q, k = rope_rot(q, inv), rope_rot(k, inv)
        a = mf.attention(q, k, v, hd ** -0.5) @ W[p + "attention.dense.weight"].T
        if ab:
            a = a + W[p + "attention.dense.bias"]
        ln2 = (W[p + "post_attention_layernorm.weight"], W[p + "post_attention_layernorm.bias"])
        if c.get("use_parallel_residual", True):
            x = x + a + mlp(mf.layer_norm(x, ln2[0], ln2[1], eps), p)
        else:
            x = x + a
            x = x + mlp(mf.layer_norm(x, ln2[0], ln2[1], eps), p)
        x = mf.apply_hook(x, hook, L)
        if capture is not None:
            capture.append(x.clone())
    x = mf.layer_norm(x, W["gpt_neox.final_layer_norm.weight"], W["gpt_neox.final_layer_norm.bias"], eps)
    E = W["gpt_neox.embed_in.weight"] if c.get("tie_word_embeddings", False) else W["embed_out.weight"]
    return x @ E.T


# ---------------------------------------------------------------------------
# random weights in each architecture's tensor names
# ---------------------------------------------------------------------------


def make_decoder(rng, c):
    arch = c["architectures"][0]
    gemma, olmo, phi = arch == "Gemma3ForCausalLM", arch == "Olmo2ForCausalLM", arch == "Phi3ForCausalLM"
    d, V, I, H = c["hidden_size"], c["vocab_size"], c["intermediate_size"], c["num_attention_heads"]
    Hkv, hd = c["num_key_value_heads"], c.get("head_dim") or d // H
    nw = (lambda n: 0.1 * rng.standard_normal(n)) if gemma else (lambda n: 1 + 0.1 * rng.standard_normal(n))
    W = {"model.embed_tokens.weight": rng.normal(0, 0.7 if gemma else 1.0, (V, d)), "model.norm.weight": nw(d)}
    if not c.get("tie_word_embeddings", gemma):
        W["lm_head.weight"] = rng.normal(0, 0.5, (V, d))
    for L in range(c["num_hidden_layers"]):
        p = "model.layers.%d." % L
        norms = ["post_attention_layernorm"] + (["post_feedforward_layernorm"] if olmo else []) + \
                ([] if olmo else ["input_layernorm"]) + \
                (["pre_feedforward_layernorm", "post_feedforward_layernorm"] if gemma else [])
        for n in norms:
            W[p + n + ".weight"] = nw(d)
        q = rng.normal(0, 1.6 / math.sqrt(d), (H * hd, d))
        k = rng.normal(0, 1.6 / math.sqrt(d), (Hkv * hd, d))
        v = rng.normal(0, 1 / math.sqrt(d), (Hkv * hd, d))
        if phi:
            W[p + "self_attn.qkv_proj.weight"] = np.concatenate([q, k, v])
        else:
            W[p + "self_attn.q_proj.weight"], W[p + "self_attn.k_proj.weight"] = q, k
            W[p + "self_attn.v_proj.weight"] = v
        W[p + "self_attn.o_proj.weight"] = rng.normal(0, 1 / math.sqrt(H * hd), (d, H * hd))
        bqkv = arch == "Qwen2ForCausalLM" or c.get("attention_bias", False)
        if bqkv:
            for n, o in (("q_proj", H * hd), ("k_proj", Hkv * hd), ("v_proj", Hkv * hd)):
                W[p + "self_attn.%s.bias" % n] = 0.5 * rng.standard_normal(o)
            if arch != "Qwen2ForCausalLM":
                W[p + "self_attn.o_proj.bias"] = 0.5 * rng.standard_normal(d)
        if arch == "Qwen3ForCausalLM" or gemma:
            W[p + "self_attn.q_norm.weight"], W[p + "self_attn.k_norm.weight"] = nw(hd), nw(hd)
        if olmo:
            W[p + "self_attn.q_norm.weight"], W[p + "self_attn.k_norm.weight"] = nw(H * hd), nw(Hkv * hd)
        g = rng.normal(0, 1 / math.sqrt(d), (I, d))
        u = rng.normal(0, 1 / math.sqrt(d), (I, d))
        if phi:
            W[p + "mlp.gate_up_proj.weight"] = np.concatenate([g, u])
        else:
            W[p + "mlp.gate_proj.weight"], W[p + "mlp.up_proj.weight"] = g, u
        W[p + "mlp.down_proj.weight"] = rng.normal(0, 1 / math.sqrt(I), (d, I))
    return W


def make_neox(rng, c):
    d, V, I = c["hidden_size"], c["vocab_size"], c["intermediate_size"]
    W = {"gpt_neox.embed_in.weight": rng.normal(0, 1.0, (V, d)),
         "gpt_neox.final_layer_norm.weight": 1 + 0.1 * rng.standard_normal(d),
         "gpt_neox.final_layer_norm.bias": 0.1 * rng.standard_normal(d)}
    if not c.get("tie_word_embeddings", False):
        W["embed_out.weight"] = rng.normal(0, 0.5, (V, d))
    for L in range(c["num_hidden_layers"]):
        p = "gpt_neox.layers.%d." % L
        for n in ("input_layernorm", "post_attention_layernorm"):
            W[p + n + ".weight"] = 1 + 0.1 * rng.standard_normal(d)
            W[p + n + ".bias"] = 0.1 * rng.standard_normal(d)
        W[p + "attention.query_key_value.weight"] = rng.normal(0, 1.6 / math.sqrt(d), (3 * d, d))
        W[p + "attention.dense.weight"] = rng.normal(0, 1 / math.sqrt(d), (d, d))
        if c.get("attention_bias", True):
            W[p + "attention.query_key_value.bias"] = 0.3 * rng.standard_normal(3 * d)
            W[p + "attention.dense.bias"] = 0.1 * rng.standard_normal(d)
        W[p + "mlp.dense_h_to_4h.weight"] = rng.normal(0, 1.5 / math.sqrt(d), (I, d))
        W[p + "mlp.dense_h_to_4h.bias"] = 0.3 * rng.standard_normal(I)
        W[p + "mlp.dense_4h_to_h.weight"] = rng.normal(0, 1 / math.sqrt(I), (d, I))
        W[p + "mlp.dense_4h_to_h.bias"] = 0.1 * rng.standard_normal(d)
    return W


def single_write(folder, c, W, dtype):
    mf.write_safetensors(os.path.join(folder, "model.safetensors"), W, dtype, {"format": "pt"})


def base(arch, model_type, **over):
    c = {"architectures": [arch], "model_type": model_type, "hidden_size": 32, "intermediate_size": 64,
         "num_attention_heads": 4, "num_key_value_heads": 2, "num_hidden_layers": 2,
         "max_position_embeddings": 64, "vocab_size": 96, "bos_token_id": 1, "eos_token_id": 2}
    c.update(over)
    return {k: v for k, v in c.items() if v is not None}


# name, config, dtypes, writer, and a variant config whose logits must differ
# (the fixture's distinguishing keys matter)
def fixtures():
    out = []
    c = base("Qwen2ForCausalLM", "qwen2", rms_norm_eps=1e-6, rope_theta=100.0, tie_word_embeddings=False,
             use_sliding_window=False, sliding_window=4, max_window_layers=1, hidden_act="silu")
    out.append(("qwen2", c, ("F32", "BF16"), mf.llama_write, dict(c, use_sliding_window=True)))
    c = base("Qwen2ForCausalLM", "qwen2", rope_theta=100.0, tie_word_embeddings=True, use_sliding_window=True,
             sliding_window=5, max_window_layers=1)
    out.append(("qwen2-tied-swa", c, ("F32",), single_write, dict(c, use_sliding_window=False)))
    c = base("MistralForCausalLM", "mistral", head_dim=10, sliding_window=5, rope_theta=1000.0,
             rms_norm_eps=1e-5, tie_word_embeddings=False)
    out.append(("mistral", c, ("F32", "BF16"), single_write, dict(c, sliding_window=None)))
    c = base("Qwen3ForCausalLM", "qwen3", head_dim=12, rope_theta=1000.0, tie_word_embeddings=True,
             attention_bias=False, rms_norm_eps=1e-6)
    out.append(("qwen3", c, ("F32", "BF16"), single_write, None))
    c = base("Qwen3ForCausalLM", "qwen3", head_dim=6, rope_theta=50.0, tie_word_embeddings=False,
             attention_bias=True, use_sliding_window=True, sliding_window=4,
             layer_types=["sliding_attention", "full_attention"])
    out.append(("qwen3-bias-swa", c, ("F32",), single_write, dict(c, layer_types=["full_attention"] * 2)))
    c = base("GPTNeoXForCausalLM", "gpt_neox", num_attention_heads=2, num_key_value_heads=None,
             rotary_pct=0.25, rotary_emb_base=100, hidden_act="gelu", use_parallel_residual=True,
             layer_norm_eps=1e-5, tie_word_embeddings=False)
    out.append(("neox", c, ("F32", "BF16"), single_write, dict(c, use_parallel_residual=False)))
    c = base("GPTNeoXForCausalLM", "gpt_neox", num_key_value_heads=None, rotary_pct=0.5, rotary_emb_base=100,
             hidden_act="gelu_new", use_parallel_residual=False, tie_word_embeddings=True, attention_bias=False,
             rope_scaling={"type": "linear", "factor": 2.0})
    out.append(("neox-sequential", c, ("F32",), single_write, dict(c, use_parallel_residual=True)))
    c = base("Olmo2ForCausalLM", "olmo2", rope_theta=500.0, rms_norm_eps=1e-5, tie_word_embeddings=False,
             attention_bias=False)
    out.append(("olmo2", c, ("F32", "BF16"), single_write, None))
    c = base("Phi3ForCausalLM", "phi3", partial_rotary_factor=0.75, sliding_window=6, rope_theta=100.0,
             rms_norm_eps=1e-5, tie_word_embeddings=False, original_max_position_embeddings=64)
    out.append(("phi3", c, ("F32", "BF16"), single_write, dict(c, partial_rotary_factor=1.0)))
    c = base("Gemma3ForCausalLM", "gemma3_text", hidden_size=48, intermediate_size=48, head_dim=16,
             num_hidden_layers=3, sliding_window=4, sliding_window_pattern=2, rope_local_base_freq=10.0,
             rope_theta=1000.0, rope_scaling={"rope_type": "linear", "factor": 2.0}, query_pre_attn_scalar=24,
             rms_norm_eps=1e-6, hidden_activation="gelu_pytorch_tanh", tie_word_embeddings=True,
             attn_logit_softcapping=None, final_logit_softcapping=None)
    out.append(("gemma3", c, ("F32", "BF16"), single_write, dict(c, rope_local_base_freq=1000.0)))
    return out


def gemma3_mm(rng):
    """A Gemma3ForConditionalGeneration folder (the multimodal wrapper) whose
    text_config leaves out num_attention_heads and num_key_value_heads, as the
    hub's files do (Gemma3TextConfig: 8 and 4), with the language model's
    tensors under "language_model.model." and a vision tower interv skips."""
    tc = {"model_type": "gemma3_text", "hidden_size": 48, "intermediate_size": 64, "head_dim": 8,
          "num_hidden_layers": 2, "sliding_window": 3, "sliding_window_pattern": 2, "rope_theta": 500.0,
          "rope_local_base_freq": 20.0, "rope_scaling": {"rope_type": "linear", "factor": 4.0},
          "query_pre_attn_scalar": 8, "vocab_size": 96, "max_position_embeddings": 64}
    ref = dict(tc, architectures=["Gemma3ForCausalLM"], num_attention_heads=8, num_key_value_heads=4)
    c = {"architectures": ["Gemma3ForConditionalGeneration"], "model_type": "gemma3", "text_config": tc,
         "vision_config": {"model_type": "siglip_vision_model", "hidden_size": 8}, "mm_tokens_per_image": 256,
         "boi_token_index": 90, "eoi_token_index": 91, "image_token_index": 92, "eos_token_id": [1, 2],
         "initializer_range": 0.02}
    W = {k: np.float32(v) for k, v in make_decoder(rng, ref).items()}

    def write(folder, c, W, dtype):
        P = {"language_model." + k: v for k, v in W.items()}
        P["vision_tower.vision_model.post_layernorm.weight"] = np.ones(8, dtype=np.float32)  # not read
        mf.write_safetensors(os.path.join(folder, "model.safetensors"), P, dtype, {"format": "pt"})

    toks = rng.integers(0, tc["vocab_size"], T_SEQ)
    hv = np.float32(rng.normal(0, 1.0, tc["hidden_size"]))
    nz = float(np.float32(math.sqrt(tc["hidden_size"])))
    cap = []
    decoder_forward(mf.t64(W), ref, toks, capture=cap, normalizer=nz)
    extra = {"resid_post": {"file": "resid.bin", "layers": len(cap)}}
    cl, hk, _ = mf.emit("gemma3-mm", c, W, "F32", write, decoder_forward, toks, hv, extra=extra,
                        fwd_kw={"normalizer": nz}, ref_cfg=ref)
    mf.write_f32(os.path.join(mf.OUT, "gemma3-mm", "resid.bin"), torch.stack(cap).numpy())
    print("%-18s logits |max| %.3g; hook change %.3g" % ("gemma3-mm", cl.abs().max().item(),
                                                         (hk - cl).abs().max().item()))


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    os.chdir(root)
    rng = np.random.default_rng(1414)
    for name, c, dtypes, writer, alt in fixtures():
        arch = c["architectures"][0]
        neox = arch == "GPTNeoXForCausalLM"
        W = {k: np.float32(v) for k, v in (make_neox(rng, c) if neox else make_decoder(rng, c)).items()}
        fwd = neox_forward if neox else decoder_forward
        toks = rng.integers(0, c["vocab_size"], T_SEQ)
        hv = np.float32(rng.normal(0, 1.0, c["hidden_size"]))
        for dt in dtypes:
            nm = name if dt == "F32" else name + "-bf16"
            Wref = mf.t64({k: (mf.bf16_round(v) if dt == "BF16" else np.float32(v)) for k, v in W.items()})
            kw = {}
            if arch == "Gemma3ForCausalLM":   # sqrt(d) in the weights' dtype, as HF
                nz = math.sqrt(c["hidden_size"])
                kw["normalizer"] = float(np.float32(nz)) if dt == "F32" else float(mf.bf16_round(np.array([nz]))[0])
            cap = []
            fwd(Wref, c, toks, capture=cap, **kw)
            resid = torch.stack(cap)                          # [n_layers, T, d]
            extra = {"resid_post": {"file": "resid.bin", "layers": int(resid.shape[0])}}
            cl, hk, la = mf.emit(nm, c, W, dt, writer, fwd, toks, hv, extra=extra, fwd_kw=kw)
            mf.write_f32(os.path.join(mf.OUT, nm, "resid.bin"), resid.numpy())
            msg = "%-18s logits |max| %.3g; hook change %.3g" % (nm, cl.abs().max().item(),
                                                                 (hk - cl).abs().max().item())
            if alt is not None and dt == "F32":
                msg += "; variant changes logits by %.3g" % (fwd(Wref, alt, toks, **kw) - cl).abs().max().item()
            print(msg)
    gemma3_mm(rng)
    return 0


if __name__ == "__main__":
    sys.exit(main())
