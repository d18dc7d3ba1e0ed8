#!/usr/bin/env python3
"""Writes the malformed-model corpus in tests/bad/models/: one case per folder or
file, each with a sibling `<case>.expect` holding a substring that interv's error
message must contain.  Plain Python (no numpy); deterministic."""
import json, os, shutil, struct

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "bad", "models")

D, H, L, NH, V, CTX = 8, 16, 1, 2, 16, 8

def llama_config(**over):
    c = {"architectures": ["LlamaForCausalLM"], "hidden_size": D, "intermediate_size": H,
         "num_hidden_layers": L, "num_attention_heads": NH, "num_key_value_heads": NH,
         "vocab_size": V, "max_position_embeddings": CTX, "rms_norm_eps": 1e-5,
         "tie_word_embeddings": True}
    c.update(over)
    return c

def tensors():
    shapes = {"model.embed_tokens.weight": [V, D], "model.norm.weight": [D]}
    for i in range(L):
        p = f"model.layers.{i}."
        shapes.update({p + "input_layernorm.weight": [D], p + "post_attention_layernorm.weight": [D],
                       p + "self_attn.q_proj.weight": [D, D], p + "self_attn.k_proj.weight": [D, D],
                       p + "self_attn.v_proj.weight": [D, D], p + "self_attn.o_proj.weight": [D, D],
                       p + "mlp.gate_proj.weight": [H, D], p + "mlp.up_proj.weight": [H, D],
                       p + "mlp.down_proj.weight": [D, H]})
    return shapes

def numel(s):
    n = 1
    for x in s: n *= x
    return n

def safetensors(shapes, hdr_patch=None, drop=None, data_cut=0, hl_override=None):
    hdr, off, blobs = {}, 0, []
    for i, (name, shape) in enumerate(sorted(shapes.items())):
        if name == drop: continue
        nb = numel(shape) * 4
        hdr[name] = {"dtype": "F32", "shape": shape, "data_offsets": [off, off + nb]}
        blobs.append(struct.pack(f"<{numel(shape)}f", *[((i * 7 + k) % 13 - 6) / 20 for k in range(numel(shape))]))
        off += nb
    if hdr_patch: hdr_patch(hdr)
    hj = json.dumps(hdr).encode()
    data = b"".join(blobs)
    if data_cut: data = data[:-data_cut]
    hl = len(hj) if hl_override is None else hl_override
    return struct.pack("<Q", hl) + hj + data

def hf_case(name, expect, cfg=None, st=None, raw_cfg=None):
    d = os.path.join(OUT, name)
    os.makedirs(d)
    with open(os.path.join(d, "config.json"), "w") as f:
        f.write(raw_cfg if raw_cfg is not None else json.dumps(cfg or llama_config()))
    if st is not None:
        with open(os.path.join(d, "model.safetensors"), "wb") as f: f.write(st)
    with open(os.path.join(OUT, name + ".expect"), "w") as f: f.write(expect + "\n")

def file_case(name, expect, data):
    with open(os.path.join(OUT, name), "wb") as f: f.write(data)
    with open(os.path.join(OUT, name + ".expect"), "w") as f: f.write(expect + "\n")

def l2c(header, n_floats):
    return struct.pack("<7i", *header) + struct.pack(f"<{n_floats}f", *([0.01] * n_floats))

def main():
    shutil.rmtree(OUT, ignore_errors=True)
    os.makedirs(OUT)
    good = tensors()
    hf_case("ok_control", "", st=safetensors(good))
    hf_case("st_truncated_header", "truncated", st=b"\x10\x00\x00")
    hf_case("st_header_past_eof", "runs past the end", st=safetensors(good, hl_override=1 << 30))
    hf_case("st_header_not_json", "malformed JSON header", st=struct.pack("<Q", 5) + b"{nope")
    hf_case("st_header_not_object", "not an object", st=struct.pack("<Q", 2) + b"[]")
    def off_range(h): h["model.norm.weight"]["data_offsets"] = [0, 10 ** 9]
    hf_case("st_offset_out_of_range", "outside the", st=safetensors(good, off_range))
    def neg(h): h["model.norm.weight"]["data_offsets"] = [-4, 28]
    hf_case("st_offset_negative", "data_offsets", st=safetensors(good, neg))
    def overlap(h):
        a = h["model.layers.0.self_attn.q_proj.weight"]["data_offsets"]
        h["model.layers.0.self_attn.k_proj.weight"]["data_offsets"] = list(a)
    hf_case("st_overlapping", "overlap", st=safetensors(good, overlap))
    def shape_bytes(h): h["model.norm.weight"]["shape"] = [D + 1]
    hf_case("st_shape_vs_bytes", "shape x dtype", st=safetensors(good, shape_bytes))
    def bad_dtype(h): h["model.norm.weight"]["dtype"] = "I64"
    hf_case("st_unknown_dtype", "unsupported dtype", st=safetensors(good, bad_dtype))
    def neg_shape(h): h["model.norm.weight"]["shape"] = [-8]
    hf_case("st_negative_shape", "bad shape", st=safetensors(good, neg_shape))
    def huge_shape(h): h["model.norm.weight"]["shape"] = [1 << 40, 1 << 40, 1 << 40]
    hf_case("st_huge_shape", "shape", st=safetensors(good, huge_shape))
    hf_case("st_data_truncated", "outside the", st=safetensors(good, data_cut=16))
    hf_case("missing_tensor", "missing tensor model.layers.0.mlp.up_proj.weight",
            st=safetensors(good, drop="model.layers.0.mlp.up_proj.weight"))
    wrong = dict(good); wrong["model.norm.weight"] = [D * 2]
    hf_case("wrong_shape", "has shape [16], expected [8]", st=safetensors(wrong))
    hf_case("config_malformed", "malformed JSON", raw_cfg='{"architectures": ["LlamaForCausalLM"], ', st=safetensors(good))
    hf_case("config_unknown_arch", "architecture MambaForCausalLM is not supported",
            cfg=llama_config(architectures=["MambaForCausalLM"]), st=safetensors(good))
    hf_case("config_missing_sizes", "missing or inconsistent sizes", cfg={"architectures": ["LlamaForCausalLM"]},
            st=safetensors(good))
    hf_case("config_heads_mismatch", "inconsistent sizes", cfg=llama_config(num_key_value_heads=3), st=safetensors(good))
    hf_case("config_bad_rope_scaling", "rope_scaling.type=\"yarn\" is not supported", cfg=llama_config(rope_scaling={"type": "yarn"}),
            st=safetensors(good))
    hf_case("no_weights", "no model.safetensors", st=None)
    # sharded: index naming a tensor its shard lacks
    d = os.path.join(OUT, "index_missing_in_shard"); os.makedirs(d)
    with open(os.path.join(d, "config.json"), "w") as f: json.dump(llama_config(), f)
    with open(os.path.join(d, "model-00001-of-00001.safetensors"), "wb") as f: f.write(safetensors(good))
    wm = {k: "model-00001-of-00001.safetensors" for k in good}; wm["model.extra.weight"] = "model-00001-of-00001.safetensors"
    with open(os.path.join(d, "model.safetensors.index.json"), "w") as f: json.dump({"weight_map": wm}, f)
    with open(os.path.join(OUT, "index_missing_in_shard.expect"), "w") as f: f.write("is listed but missing\n")
    d = os.path.join(OUT, "index_path_escape"); os.makedirs(d)
    with open(os.path.join(d, "config.json"), "w") as f: json.dump(llama_config(), f)
    with open(os.path.join(d, "model.safetensors.index.json"), "w") as f:
        json.dump({"weight_map": {"model.norm.weight": "../../etc/passwd"}}, f)
    with open(os.path.join(OUT, "index_path_escape.expect"), "w") as f: f.write("bad file name\n")
    # llama2.c checkpoints
    hdr = [D, H, L, NH, NH, V, CTX]
    n = V * D + L * D + 4 * L * D * D + L * D + 3 * L * H * D + D + CTX * (D // NH)
    file_case("l2c_ok_control.bin", "", l2c(hdr, n))
    file_case("l2c_truncated.bin", "truncated", l2c(hdr, n)[:-100])
    file_case("l2c_header_only.bin", "truncated", struct.pack("<3i", *hdr[:3]))
    file_case("l2c_implausible.bin", "implausible", l2c([D, H, L, NH, 3, V, CTX], n))
    file_case("l2c_huge_dims.bin", "implausible", l2c([1 << 30, H, L, NH, NH, V, CTX], 16))
    file_case("l2c_trailing_bytes.bin", "unexpected bytes", l2c(hdr, n + 3))
    file_case("l2c_v2_quantized.bin", "not supported", struct.pack("<Ii", 0x616b3432, 2) + bytes(248))
    file_case("empty.bin", "truncated", b"")

if __name__ == "__main__":
    main()
