#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets into fuzz/corpus/<target>/: a few
small valid files of each kind (written here, or copied from the project's own
small fixtures) and a few malformed ones.  Plain Python; deterministic.
Run from anywhere: python3 fuzz/make_corpus.py"""
import json, os, shutil, struct, zipfile, io

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
OUT = os.path.join(ROOT, "fuzz", "corpus")
SHARED = os.environ.get("SHARED", os.path.join(ROOT, "..", "shared"))

def put(target, name, data):
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str): data = data.encode()
    with open(os.path.join(d, name), "wb") as f: f.write(data)

def copy(target, src, name=None, limit=64 << 10):
    if os.path.isfile(src) and os.path.getsize(src) <= limit:
        with open(src, "rb") as f: put(target, name or os.path.basename(src), f.read())

def st_bytes(tensors, meta=None, pad=True):
    """tensors: list of (name, dtype, shape, raw bytes)."""
    hdr, off, blob = {}, 0, b""
    if meta: hdr["__metadata__"] = meta
    for name, dt, shape, raw in tensors:
        hdr[name] = {"dtype": dt, "shape": shape, "data_offsets": [off, off + len(raw)]}
        off += len(raw); blob += raw
    h = json.dumps(hdr, separators=(",", ":")).encode()
    if pad: h += b" " * ((8 - len(h) % 8) % 8)
    return struct.pack("<Q", len(h)) + h + blob

def f32(n, k=0): return struct.pack(f"<{n}f", *[((i + k) % 7 - 3) / 4 for i in range(n)])

# --- safetensors ---------------------------------------------------------------
def seeds_safetensors():
    t = "safetensors"
    put(t, "f32.safetensors", st_bytes([("a", "F32", [2, 3], f32(6)), ("b", "F32", [4], f32(4, 1))]))
    put(t, "f16_bf16.safetensors", st_bytes([("h", "F16", [3], b"\x00\x3c\x00\xc0\x00\x7c"),
                                              ("g", "BF16", [2], b"\x80\x3f\x00\xc0")], {"k": "v"}))
    put(t, "scalar_empty.safetensors", st_bytes([("s", "F32", [], f32(1)), ("z", "F32", [0, 5], b"")]))
    put(t, "unpadded.safetensors", st_bytes([("x", "F32", [1], f32(1))], pad=False))
    put(t, "empty_header.safetensors", struct.pack("<Q", 2) + b"{}")
    put(t, "bad_i64.safetensors", st_bytes([("a", "I64", [1], b"\0" * 8)]))
    ov = b'{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}'
    put(t, "bad_overlap.safetensors", struct.pack("<Q", len(ov)) + ov + b"\0" * 8)
    put(t, "truncated.safetensors", b"\x40\x00\x00")

# --- model folders ---------------------------------------------------------------
# sizes must match fuzz/fuzz_models.h
D, H, L, V, CTX = 8, 16, 2, 16, 8

def llama_cfg(**o):
    c = {"architectures": ["LlamaForCausalLM"], "hidden_size": D, "intermediate_size": H,
         "num_hidden_layers": L, "num_attention_heads": 2, "num_key_value_heads": 2, "vocab_size": V,
         "max_position_embeddings": CTX, "rms_norm_eps": 1e-5, "rope_theta": 10000.0,
         "tie_word_embeddings": True, "hidden_act": "silu", "bos_token_id": 1, "eos_token_id": 2}
    c.update(o)
    return c

def seeds_config():
    t = "config"
    put(t, "llama.json", json.dumps(llama_cfg()))
    put(t, "llama_gqa_untied.json", json.dumps(llama_cfg(num_key_value_heads=1, tie_word_embeddings=False,
        head_dim=4, eos_token_id=[2, 3])))
    put(t, "llama3_rope.json", json.dumps(llama_cfg(rope_scaling={"rope_type": "llama3", "factor": 8.0,
        "low_freq_factor": 1.0, "high_freq_factor": 4.0, "original_max_position_embeddings": 4})))
    put(t, "gemma2.json", json.dumps({"architectures": ["Gemma2ForCausalLM"], "hidden_size": D,
        "intermediate_size": H, "num_hidden_layers": L, "num_attention_heads": 2, "num_key_value_heads": 1,
        "head_dim": 4, "vocab_size": V, "max_position_embeddings": CTX, "rms_norm_eps": 1e-6,
        "hidden_activation": "gelu_pytorch_tanh", "attn_logit_softcapping": 50.0,
        "final_logit_softcapping": 30.0, "sliding_window": 2, "query_pre_attn_scalar": 4}))
    put(t, "gpt2.json", json.dumps({"architectures": ["GPT2LMHeadModel"], "n_embd": D, "n_layer": L,
        "n_head": 2, "n_positions": CTX, "vocab_size": V, "layer_norm_epsilon": 1e-5,
        "activation_function": "gelu_new"}))
    put(t, "model_type_only.json", json.dumps({"model_type": "gpt2", "n_embd": D, "n_layer": 1, "n_head": 2,
        "n_ctx": CTX, "vocab_size": V}))
    put(t, "bad_arch.json", json.dumps(llama_cfg(architectures=["MambaForCausalLM"])))
    put(t, "bad_truncated.json", json.dumps(llama_cfg())[:40])

def tiny_names():
    """(name, shard) in the order of fuzz_models.h (only names matter here)."""
    out = [("model.embed_tokens.weight", 1), ("model.norm.weight", 1), ("lm_head.weight", 2)]
    for l in range(L):
        s = 1 if l == 0 else 2
        for v in ["input_layernorm", "post_attention_layernorm", "pre_feedforward_layernorm",
                  "post_feedforward_layernorm"]:
            out.append((f"model.layers.{l}.{v}.weight", s))
        for p in ["q_proj", "k_proj", "v_proj", "o_proj"]:
            out += [(f"model.layers.{l}.self_attn.{p}.weight", s), (f"model.layers.{l}.self_attn.{p}.bias", s)]
        for m in ["gate_proj", "up_proj", "down_proj"]:
            out.append((f"model.layers.{l}.mlp.{m}.weight", s))
    return out

def seeds_st_index():
    t = "st_index"
    wm = {n: f"model-0000{s}-of-00002.safetensors" for n, s in tiny_names()}
    put(t, "index.json", json.dumps({"metadata": {"total_size": 12345}, "weight_map": wm}, indent=1))
    one = {n: "model-00001-of-00002.safetensors" for n, s in tiny_names() if s == 1}
    put(t, "index_missing.json", json.dumps({"weight_map": one}))
    put(t, "index_escape.json", json.dumps({"weight_map": {"model.norm.weight": "../x.safetensors"}}))
    put(t, "index_wrong_shard.json", json.dumps({"weight_map": {"lm_head.weight": "model-00001-of-00002.safetensors"}}))
    put(t, "index_not_obj.json", json.dumps({"weight_map": [1, 2]}))

def l2c_model(version, shared=True, dims=(D, H, 1, 2, 2, V, CTX)):
    d, h, l, nh, nkv, v, ctx = dims
    kv = nkv * (d // nh)
    n = v * d + l * d * 2 + l * (d * d * 2 + kv * d * 2) + l * h * d * 3 + d
    if version == 0:
        n += ctx * (d // nh)
        hdr = struct.pack("<7i", d, h, l, nh, nkv, v if shared else -v, ctx)
    else:
        hdr = struct.pack("<Ii7iB", 0x616b3432, 1, d, h, l, nh, nkv, v, ctx, 1 if shared else 0)
        hdr += b"\0" * (256 - len(hdr))
    if not shared: n += v * d
    return hdr + f32(n)

def seeds_llama2c():
    t = "llama2c"
    put(t, "v0_shared.bin", l2c_model(0))
    put(t, "v0_unshared.bin", l2c_model(0, shared=False))
    put(t, "v1_shared.bin", l2c_model(1))
    put(t, "v1_gqa_unshared.bin", l2c_model(1, shared=False, dims=(D, H, 1, 2, 1, V, CTX)))
    put(t, "bad_truncated.bin", l2c_model(0)[:-40])
    put(t, "bad_v2.bin", struct.pack("<Ii", 0x616b3432, 2) + b"\0" * 248)

# --- tokenizers ---------------------------------------------------------------------
def l2c_tok(pieces, max_len=None):
    ml = max_len or max(len(p) for p in pieces)
    out = struct.pack("<i", ml)
    for i, p in enumerate(pieces):
        out += struct.pack("<fi", -float(i), len(p)) + p
    return out

def seeds_tok_llama2c():
    t = "tok_llama2c"
    copy(t, os.path.join(SHARED, "models", "stories260K", "tok512.bin"))
    base = [b"<unk>", b"<s>", b"</s>"] + [bytes([b]) if 32 <= b < 127 else b"<0x%02X>" % b for b in range(256)]
    put(t, "bytes_plus_merges.bin", l2c_tok(base + [b" O", b"nc", b"Once", b" a", b" time", b"\xc3\xa9"]))
    put(t, "tiny.bin", l2c_tok([b"<unk>", b"<s>", b"</s>", b" ", b"a", b"b", b"ab"]))
    put(t, "bad_len.bin", struct.pack("<i", 4) + struct.pack("<fi", 0.0, 99) + b"abcd")

def byte_unicode():
    bs = list(range(33, 127)) + list(range(161, 173)) + list(range(174, 256))
    cs, n = bs[:], 0
    for b in range(256):
        if b not in bs: bs.append(b); cs.append(256 + n); n += 1
    return {b: chr(c) for b, c in zip(bs, cs)}

def seeds_tokenizer_json():
    t = "tokenizer_json"
    bu = byte_unicode()
    vocab = {bu[b]: i for i, b in enumerate(range(256))}
    merges = ["H e", "l l", "He ll", "Hell o", "\u0120 w", "o r", "\u0120w or", "l d", "\u0120wor ld"]
    for m in merges:
        a, b = m.split(" ")
        vocab.setdefault(a + b, len(vocab))
    vocab["<|endoftext|>"] = len(vocab)
    gpt2 = {"version": "1.0", "added_tokens": [{"id": vocab["<|endoftext|>"], "content": "<|endoftext|>",
            "single_word": False, "lstrip": False, "rstrip": False, "normalized": False, "special": True}],
            "normalizer": None,
            "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True},
            "post_processor": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": False, "use_regex": True},
            "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
            "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": "",
                      "end_of_word_suffix": "", "fuse_unk": False, "byte_fallback": False, "vocab": vocab,
                      "merges": merges}}
    put(t, "gpt2_bytelevel.json", json.dumps(gpt2))
    put(t, "gpt2_bytelevel_text.json", json.dumps(gpt2).encode() + b"\0Hello world \xf0\x9f\x90\xb6\n")
    sp_vocab = {"<unk>": 0, "<s>": 1, "</s>": 2}
    for b in range(256): sp_vocab["<0x%02X>" % b] = len(sp_vocab)
    for p in ["\u2581", "H", "e", "l", "o", "w", "r", "d", "\u2581H", "el", "lo", "\u2581w", "or", "\u2581Hel", "\u2581Hello"]:
        sp_vocab.setdefault(p, len(sp_vocab))
    sp = {"version": "1.0", "added_tokens": [{"id": 0, "content": "<unk>", "special": True},
          {"id": 1, "content": "<s>", "special": True}, {"id": 2, "content": "</s>", "special": True}],
          "normalizer": {"type": "Sequence", "normalizers": [{"type": "Prepend", "prepend": "\u2581"},
                                                             {"type": "Replace", "pattern": {"String": " "}, "content": "\u2581"}]},
          "pre_tokenizer": None,
          "post_processor": {"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}},
                             {"Sequence": {"id": "A", "type_id": 0}}], "pair": [],
                             "special_tokens": {"<s>": {"id": "<s>", "ids": [1], "tokens": ["<s>"]}}},
          "decoder": {"type": "Sequence", "decoders": [{"type": "Replace", "pattern": {"String": "\u2581"}, "content": " "},
                      {"type": "ByteFallback"}, {"type": "Fuse"}, {"type": "Strip", "content": " ", "start": 1, "stop": 0}]},
          "model": {"type": "BPE", "unk_token": "<unk>", "fuse_unk": True, "byte_fallback": True, "vocab": sp_vocab,
                    "merges": ["e l", "l o", "\u2581 H", "\u2581 w", "o r", "\u2581H el", "\u2581Hel lo"]}}
    put(t, "llama_sentencepiece.json", json.dumps(sp))
    meta = dict(sp); meta["normalizer"] = None
    meta["pre_tokenizer"] = {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "first", "split": False}
    meta["decoder"] = {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "first", "split": False}
    put(t, "metaspace.json", json.dumps(meta))
    seqp = dict(gpt2); seqp["pre_tokenizer"] = {"type": "Sequence", "pretokenizers": [
        {"type": "Split", "pattern": {"Regex": "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}"},
         "behavior": "Isolated", "invert": False}, {"type": "Digits", "individual_digits": True},
        {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": False}]}
    seqp["normalizer"] = {"type": "NFC"}
    put(t, "llama3_split.json", json.dumps(seqp))
    put(t, "bad_deep.json", "[" * 2000 + "]" * 2000)
    put(t, "bad_no_model.json", json.dumps({"version": "1.0"}))

def seeds_gpt2_vocab():
    t = "gpt2_vocab"
    bu = byte_unicode()
    vocab = {bu[b]: i for i, b in enumerate(range(256))}
    merges = ["H e", "l l", "He ll", "Hell o", "\u0120 w", "o r", "\u0120w or"]
    for m in merges:
        a, b = m.split(" ")
        vocab.setdefault(a + b, len(vocab))
    vocab["<|endoftext|>"] = len(vocab)
    put(t, "vocab_merges", json.dumps(vocab).encode() + b"\0" + ("#version: 0.2\n" + "\n".join(merges) + "\n").encode())
    put(t, "no_merges", json.dumps(vocab).encode() + b"\0")
    put(t, "bad_merge_line", json.dumps({"a": 0, "b": 1}).encode() + b"\0a b c\nzz\n")

# --- CSV, sweep config ----------------------------------------------------------------
def seeds_csv():
    t = "csv"
    put(t, "prompts.csv", ",Home,Park\n0,\"One day, Tom saw a\",Lily ran to the\n1,\"She said \"\"hi\"\"\",\n")
    put(t, "pairs.csv", "pos_prompt,neg_prompt,note\nThe dog barked.,The girl smiled.,x\n\"A puppy, small.\",\"A sister, small.\",\n")
    put(t, "multiline.csv", "id,Travel\n0,\"line one\nline two\"\n")
    put(t, "bad_ragged.csv", ",A,B\n0,x\n")
    put(t, "bad_utf8.csv", b",A\n0,caf\xe9\n")
    with open(os.path.join(ROOT, "data", "prompts", "stories.csv"), "rb") as f:
        put(t, "stories_head.csv", b"".join(f.readlines()[:4]))
    copy(t, os.path.join(ROOT, "data", "concepts", "dog.csv"))

def seeds_sweep_config():
    t = "sweep_config"
    put(t, "full.conf", """# a sweep
models = m1.bin ../m2
layers = 0 2
methods = prompting logit tuned sae steering probe
concepts = dog cat
alphas = 1 2 4 8
alphas.steering = 2 4
bottleneck = yes
prompts = prompts.csv
concepts_file = concepts.json
pairs_dir = concepts
corpus = corpus.txt
heldout = heldout.txt
max_new = 30
batch = 8
seed = 7
at = all
keep_sae_error = no
normed_lens = yes
sae_k = 16
sae_d = 64
sae_steps = 100
lens_steps = 50
match_prompt = no
prompt_template = Let's talk about {concept}.
judge = judge.bin
judge_template = judge.txt
""")
    put(t, "minimal.conf", "models = a.bin\nlayers = 1\nmethods = logit\nconcepts = dog\nprompts = p.csv\nconcepts_file = c.json\n")
    put(t, "bad_key.conf", "models = a\nfrobnicate = 3\n")
    put(t, "bad_number.conf", "models = a\nlayers = x 99999999999999999999\n")

# --- io formats: the io helper's fixtures are small; reuse them ------------------------
def seeds_io():
    for target, sub, ext in [("npz", "npz", ".npz"), ("torchzip", "torch", ".pt"), ("gguf", "gguf", ".gguf")]:
        d = os.path.join(ROOT, "tests", "fixtures", "io", sub)
        if os.path.isdir(d):
            for f in sorted(os.listdir(d)):
                if f.endswith(ext): copy(target, os.path.join(d, f))
    copy("npz", os.path.join(ROOT, "tests", "fixtures", "methods", "gemmascope", "params.npz"), "gemmascope.npz")
    copy("torchzip", os.path.join(ROOT, "tests", "fixtures", "methods", "tuned-lens", "params.pt"), "tuned_lens.pt")
    # a stored (uncompressed) npz written here, so the corpus does not depend on numpy
    hdr = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"
    hdr += " " * ((64 - (10 + len(hdr) + 1) % 64) % 64) + "\n"
    npy = b"\x93NUMPY\x01\x00" + struct.pack("<H", len(hdr)) + hdr.encode() + f32(6)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        zi = zipfile.ZipInfo("W_enc.npy", (1980, 1, 1, 0, 0, 0)); z.writestr(zi, npy)
    put("npz", "stored_small.npz", buf.getvalue())

def main():
    shutil.rmtree(OUT, ignore_errors=True)
    for f in [seeds_safetensors, seeds_config, seeds_st_index, seeds_llama2c, seeds_tok_llama2c,
              seeds_tokenizer_json, seeds_gpt2_vocab, seeds_csv, seeds_sweep_config, seeds_io]:
        f()

if __name__ == "__main__":
    main()
