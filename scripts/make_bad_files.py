#!/usr/bin/env python3
"""Writes the malformed-file corpus in tests/bad/<kind>/ (all kinds except models,
which scripts/make_bad_models.py writes).  Each case is a file or a folder with a
sibling `<case>.expect` holding a substring the error message must contain.
tests/cli/bad_files.sh feeds each case to the interv command that reads its kind.
Plain Python (no numpy, no torch); deterministic."""
import json, os, shutil, struct, zipfile, zlib, io

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
BAD = os.path.join(ROOT, "tests", "bad")
KINDS = ["tokenizers", "csv", "steering", "npz", "torch", "sweep", "concepts", "jsonl"]
DIM, LAYERS = 64, 5  # stories260K, the model the checks run against

def case(kind, name, data, expect):
    d = os.path.join(BAD, kind)
    os.makedirs(d, exist_ok=True)
    p = os.path.join(d, name)
    if isinstance(data, dict):  # a folder: {file: bytes}
        os.makedirs(p)
        for f, b in data.items():
            with open(os.path.join(p, f), "wb") as fh: fh.write(b if isinstance(b, bytes) else b.encode())
    else:
        with open(p, "wb") as fh: fh.write(data if isinstance(data, bytes) else data.encode())
    with open(p + ".expect", "w") as fh: fh.write(expect + "\n")

def f32(n, v=0.01): return struct.pack(f"<{n}f", *([v] * n))

def st_bytes(hdr, data=b"", hl=None):
    h = json.dumps(hdr).encode() if not isinstance(hdr, bytes) else hdr
    return struct.pack("<Q", len(h) if hl is None else hl) + h + data

# --- tokenizers (interv tokenize --tokenizer F) ------------------------------------
def tokenizers():
    k = "tokenizers"
    bpe = lambda vocab, merges, **o: json.dumps(dict({"model": dict({"type": "BPE", "vocab": vocab, "merges": merges}, **o)}))
    small = {"a": 0, "b": 1, "ab": 2}
    case(k, "empty.json", b"", "empty")
    case(k, "not_json.json", "{this is not json", "malformed JSON")
    case(k, "truncated.json", bpe(small, ["a b"])[:30], "malformed JSON")
    case(k, "deep_arrays.json", "[" * 100000 + "]" * 100000, "object")
    case(k, "deep_in_model.json", '{"model": ' + '{"x": ' * 100000 + "1" + "}" * 100000 + "}", "deep")
    case(k, "top_not_object.json", "[1, 2, 3]", "object")
    case(k, "no_model.json", '{"version": "1.0"}', "model")
    case(k, "model_not_object.json", '{"model": 42}', "model")
    case(k, "unknown_model_type.json", json.dumps({"model": {"type": "Mystery", "vocab": small}}), "Mystery")
    case(k, "vocab_not_object.json", json.dumps({"model": {"type": "BPE", "vocab": [1, 2], "merges": []}}), "vocab")
    case(k, "vocab_id_negative.json", bpe({"a": -1, "b": 1}, []), "-1")
    case(k, "vocab_id_huge.json", bpe({"a": 0, "b": 1 << 40}, []), "vocab")
    case(k, "vocab_id_string.json", bpe({"a": "zero"}, []), "vocab")
    case(k, "merge_unknown_token.json", bpe(small, ["a zz"]), "merge")
    case(k, "merges_not_array.json", bpe(small, {"a": "b"}), "merges")
    case(k, "invalid_utf8_vocab.json", b'{"model": {"type": "BPE", "vocab": {"\xff\xfe": 0}, "merges": []}}', "0xff")
    case(k, "lone_surrogate.json", bpe({"\ud800": 0}, []), "surrogate")
    case(k, "bad_regex.json", json.dumps({"pre_tokenizer": {"type": "Split", "pattern": {"Regex": "(unclosed["},
         "behavior": "Isolated"}, "model": {"type": "BPE", "vocab": small, "merges": []}}), "regex")
    case(k, "unknown_pretokenizer.json", json.dumps({"pre_tokenizer": {"type": "Frobnicate"},
         "model": {"type": "BPE", "vocab": small, "merges": []}}), "Frobnicate")
    case(k, "unknown_normalizer.json", json.dumps({"normalizer": {"type": "Frobnicate"},
         "model": {"type": "BPE", "vocab": small, "merges": []}}), "Frobnicate")
    case(k, "added_token_bad_id.json", json.dumps({"added_tokens": [{"id": -5, "content": "<x>", "special": True}],
         "model": {"type": "BPE", "vocab": small, "merges": []}}), "added")
    case(k, "nul_in_file.json", b'{"model": {"type": "BPE", "vocab": {"a": 0}\x00, "merges": []}}', "JSON")
    # llama2.c tok*.bin
    case(k, "l2c_empty.bin", b"", "truncated")
    case(k, "l2c_neg_max_len.bin", struct.pack("<i", -4), "max_token_length")
    case(k, "l2c_piece_past_end.bin", struct.pack("<i", 8) + struct.pack("<fi", 0.0, 8) + b"abc", "length")
    case(k, "l2c_piece_negative.bin", struct.pack("<i", 8) + struct.pack("<fi", 0.0, -3), "length")
    case(k, "l2c_two_tokens.bin", struct.pack("<i", 4) + struct.pack("<fi", 0.0, 1) + b"a" + struct.pack("<fi", 0.0, 1) + b"b", "tokens")
    case(k, "l2c_cut_score.bin", struct.pack("<i", 4) + b"\x00\x00", "truncated")
    # GPT-2 vocab.json + merges.txt folders (checked through DIR/vocab.json)
    case(k, "gpt2_no_merges", {"vocab.json": json.dumps(small)}, "merges.txt")
    case(k, "gpt2_vocab_not_object", {"vocab.json": "[1, 2]", "merges.txt": "#version: 0.2\n"}, "vocab")
    case(k, "gpt2_merge_unknown", {"vocab.json": json.dumps(small), "merges.txt": "#version: 0.2\nq r\n"}, "not in the vocabulary")
    case(k, "gpt2_merge_one_token", {"vocab.json": json.dumps(small), "merges.txt": "#version: 0.2\nab\n"}, "merges.txt")
    case(k, "gpt2_deep_vocab", {"vocab.json": "[" * 100000 + "]" * 100000, "merges.txt": ""}, "depth")

# --- prompt CSV (interv run --method clean --prompts F) -------------------------------
def csvs():
    k = "csv"
    case(k, "empty.csv", b"", "empty")
    case(k, "header_only.csv", ",Home,Park\n", "no prompt")
    case(k, "no_categories.csv", "idx\n0\n1\n", "categor")
    case(k, "ragged.csv", ",A,B\n0,x,y\n1,z\n", "line 3")
    case(k, "unclosed_quote.csv", ',A\n0,"never closed\n', "quot")
    case(k, "invalid_utf8.csv", b",A\n0,caf\xe9 au lait\n", "UTF-8")
    case(k, "overlong_utf8.csv", b",A\n0,\xc0\xafslash\n", "UTF-8")
    case(k, "duplicate_category.csv", ",A,A\n0,x,y\n", "duplicate")
    case(k, "empty_category.csv", ",A,\n0,x,y\n", "empty")
    case(k, "nul_byte.csv", b",A\n0,x\x00y\n", "csv")
    case(k, "stray_quote.csv", ',A\n0,ab"cd"ef\n', "quot")

# --- steering artifacts (interv run --method steering --artifact F) -------------------
def gguf_str(s):
    b = s.encode()
    return struct.pack("<Q", len(b)) + b

def gguf(kvs, tensors, version=3, magic=b"GGUF", data=b"", n_kv=None, n_t=None, align=32):
    """kvs: list of (key, type, payload bytes); tensors: (name, dims, type, offset)."""
    out = magic + struct.pack("<IQQ", version, len(tensors) if n_t is None else n_t, len(kvs) if n_kv is None else n_kv)
    for key, t, payload in kvs: out += gguf_str(key) + struct.pack("<I", t) + payload
    for name, dims, t, off in tensors:
        out += gguf_str(name) + struct.pack("<I", len(dims)) + b"".join(struct.pack("<Q", x) for x in dims)
        out += struct.pack("<IQ", t, off)
    out += b"\0" * ((align - len(out) % align) % align)
    return out + data

ARCH = ("general.architecture", 8, gguf_str("controlvector"))
HINT = ("controlvector.model_hint", 8, gguf_str("llama"))
LC = ("controlvector.layer_count", 4, struct.pack("<I", 1))

def steering():
    k = "steering"
    case(k, "st_empty.safetensors", b"", "truncated")
    case(k, "st_no_direction.safetensors", st_bytes({"other": {"dtype": "F32", "shape": [DIM], "data_offsets": [0, DIM * 4]}}, f32(DIM)), "direction")
    case(k, "st_wrong_dim.safetensors", st_bytes({"direction": {"dtype": "F32", "shape": [DIM + 1], "data_offsets": [0, DIM * 4 + 4]}}, f32(DIM + 1)), "direction")
    case(k, "st_2d_direction.safetensors", st_bytes({"direction": {"dtype": "F32", "shape": [2, DIM], "data_offsets": [0, DIM * 8]}}, f32(2 * DIM)), "direction")
    case(k, "st_f64.safetensors", st_bytes({"direction": {"dtype": "F64", "shape": [DIM], "data_offsets": [0, DIM * 8]}}, f32(2 * DIM)), "dtype")
    case(k, "st_header_huge.safetensors", st_bytes(b"{}", hl=1 << 62), "header length")
    case(k, "st_deep_header.safetensors", st_bytes(("[" * 100000 + "]" * 100000).encode()), "header")
    case(k, "st_nan_direction.safetensors", st_bytes({"direction": {"dtype": "F32", "shape": [DIM], "data_offsets": [0, DIM * 4]}}, f32(DIM, float("nan"))), "finite")
    d = f32(DIM)
    case(k, "cv_bad_magic.gguf", gguf([ARCH, HINT, LC], [("direction.1", [DIM], 0, 0)], magic=b"FUGG", data=d), "magic")
    case(k, "cv_version4.gguf", gguf([ARCH, HINT, LC], [("direction.1", [DIM], 0, 0)], version=4, data=d), "version")
    case(k, "cv_huge_kv_count.gguf", gguf([ARCH], [], n_kv=1 << 60), "cv_huge_kv_count")
    case(k, "cv_huge_string.gguf", b"GGUF" + struct.pack("<IQQ", 3, 0, 1) + struct.pack("<Q", 1 << 62) + b"abc", "cv_huge_string")
    case(k, "cv_truncated.gguf", gguf([ARCH, HINT, LC], [("direction.1", [DIM], 0, 0)], data=d)[:-100], "cv_truncated")
    case(k, "cv_wrong_arch.gguf", gguf([("general.architecture", 8, gguf_str("llama")), LC], [("direction.1", [DIM], 0, 0)], data=d), "controlvector")
    case(k, "cv_wrong_dim.gguf", gguf([ARCH, HINT, LC], [("direction.1", [DIM + 3], 0, 0)], data=f32(DIM + 3)), "dim")
    case(k, "cv_f16_tensor.gguf", gguf([ARCH, HINT, LC], [("direction.1", [DIM], 1, 0)], data=d), "F32")
    case(k, "cv_offset_past_end.gguf", gguf([ARCH, HINT, LC], [("direction.1", [DIM], 0, 1 << 40)], data=d), "cv_offset_past_end")
    case(k, "cv_nested_array.gguf", gguf([ARCH, ("x", 9, struct.pack("<IQ", 9, 1) * 64 + struct.pack("<IQ", 4, 0))], []), "cv_nested_array")

# --- Gemma Scope params.npz (interv run --method sae --artifact F) ------------------------
def npy(shape, descr="<f4", fortran=False, data=None, version=1):
    h = "{'descr': '%s', 'fortran_order': %s, 'shape': (%s), }" % (descr, fortran, "".join(f"{x}, " for x in shape))
    pre = 10 if version == 1 else 12
    h += " " * ((64 - (pre + len(h) + 1) % 64) % 64) + "\n"
    n = 1
    for x in shape: n *= max(x, 0)
    hl = struct.pack("<H", len(h)) if version == 1 else struct.pack("<I", len(h))
    return b"\x93NUMPY" + bytes([version, 0]) + hl + h.encode() + (data if data is not None else b"\0" * (n * 4))

def npz(members, method=zipfile.ZIP_STORED):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as z:
        for name, b in members.items():
            z.writestr(zipfile.ZipInfo(name + ".npy", (1980, 1, 1, 0, 0, 0)), b, compress_type=method)
    return buf.getvalue()

def gemmascope(**over):
    m = {"W_enc": npy([DIM, 16]), "W_dec": npy([16, DIM]), "b_enc": npy([16]), "b_dec": npy([DIM]),
         "threshold": npy([16])}
    m.update(over)
    return {k: v for k, v in m.items() if v is not None}

def npzs():
    k = "npz"
    case(k, "not_a_zip.npz", b"this is plain text, not a zip archive\n" * 4, "zip")
    case(k, "empty.npz", b"", "zip")
    case(k, "missing_W_enc.npz", npz(gemmascope(W_enc=None)), "W_enc")
    case(k, "fortran_order.npz", npz(gemmascope(W_enc=npy([DIM, 16], fortran=True))), "Fortran")
    case(k, "big_endian.npz", npz(gemmascope(W_enc=npy([DIM, 16], descr=">f4"))), "endian")
    case(k, "object_dtype.npz", npz(gemmascope(W_enc=npy([DIM, 16], descr="|O"))), "dtype")
    case(k, "negative_shape.npz", npz(gemmascope(W_enc=npy([DIM, -16]))), "shape")
    case(k, "huge_shape.npz", npz(gemmascope(W_enc=npy([1 << 31, 1 << 31], data=b""))), "W_enc")
    case(k, "nine_dims.npz", npz(gemmascope(W_enc=npy([1] * 9, data=b"\0" * 4))), "dimensions")
    case(k, "data_short.npz", npz(gemmascope(W_enc=npy([DIM, 16], data=b"\0" * 100))), "W_enc")
    case(k, "header_len_past_end.npz", npz(gemmascope(W_enc=b"\x93NUMPY\x01\x00\xff\xff{'descr'")), "W_enc")
    case(k, "wrong_dim.npz", npz(gemmascope(W_enc=npy([DIM + 1, 16]), W_dec=npy([16, DIM + 1]), b_dec=npy([DIM + 1]))), "dim")
    # zip bomb: 200 MB of zeros in a member that claims the shape of a small array
    bomb = zlib.compressobj(9, zlib.DEFLATED, -15)
    raw = bomb.compress(npy([DIM, 16])[:128]) + bomb.compress(b"\0" * (200 << 20)) + bomb.flush()
    good = npz(gemmascope(W_enc=npy([DIM, 16])), zipfile.ZIP_DEFLATED)
    case(k, "zip_bomb.npz", bomb_zip(good, "W_enc.npy", raw, (200 << 20) + 128), "W_enc")

def bomb_zip(_good, name, raw, usize):
    """A one-member deflated zip whose member inflates to usize bytes."""
    crc = 0
    nb = name.encode()
    lh = struct.pack("<IHHHHHIIIHH", 0x04034b50, 20, 0, 8, 0, 0x21, crc, len(raw), usize, len(nb), 0) + nb
    cd = struct.pack("<IHHHHHHIIIHHHHHII", 0x02014b50, 20, 20, 0, 8, 0, 0x21, crc, len(raw), usize, len(nb), 0, 0, 0, 0, 0, 0) + nb
    eocd = struct.pack("<IHHHHIIH", 0x06054b50, 0, 0, 1, 1, len(cd), len(lh) + len(raw), 0)
    return lh + raw + cd + eocd

# --- tuned-lens params.pt (interv run --method tuned --artifact DIR) ---------------------------
CFG = json.dumps({"d_model": DIM, "num_hidden_layers": LAYERS, "bias": True, "lens_type": "linear_tuned_lens"})

def torch_zip(pkl, storages=None, version=b"3\n", drop=()):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        files = {"archive/data.pkl": pkl, "archive/version": version}
        for key, b in (storages or {}).items(): files["archive/data/" + key] = b
        for f, b in files.items():
            if f not in drop: z.writestr(zipfile.ZipInfo(f, (1980, 1, 1, 0, 0, 0)), b)
    return buf.getvalue()

def pk_str(s):
    b = s.encode()
    return b"X" + struct.pack("<I", len(b)) + b

def pk_tensor(key, shape, storage="FloatStorage", numel=None):
    """Protocol-2 opcodes for torch._utils._rebuild_tensor_v2(persistent storage, 0, shape, stride, False, {})."""
    n = numel if numel is not None else (shape[0] * (shape[1] if len(shape) > 1 else 1))
    stride = [shape[1], 1] if len(shape) == 2 else [1]
    tup = lambda xs: b"(" + b"".join(b"J" + struct.pack("<i", x) for x in xs) + b"t"
    return (b"ctorch._utils\n_rebuild_tensor_v2\n(" + b"(" + pk_str("storage") + b"ctorch\n" + storage.encode() + b"\n"
            + pk_str(key) + pk_str("cpu") + b"J" + struct.pack("<i", n) + b"tQ" + b"K\x00" + tup(shape) + tup(stride)
            + b"\x89" + b"ccollections\nOrderedDict\n)R" + b"tR")

def pk_dict(items):
    return b"\x80\x02}(" + b"".join(pk_str(k) + v for k, v in items) + b"u."

def torchs():
    k = "torch"
    w = pk_tensor("0", [DIM, DIM])
    sto = {"0": f32(DIM * DIM)}
    good = pk_dict([("0.weight", w)])
    tz = lambda pt: {"config.json": CFG, "params.pt": pt}
    case(k, "os_system", tz(torch_zip(b"\x80\x02cos\nsystem\n" + pk_str("echo pwned") + b"\x85R.")), "os")
    case(k, "builtins_eval", tz(torch_zip(b"\x80\x02cbuiltins\neval\n" + pk_str("1+1") + b"\x85R.")), "builtins")
    case(k, "unknown_opcode", tz(torch_zip(b"\x80\x02\xff.")), "opcode")
    case(k, "truncated_pickle", tz(torch_zip(good[:len(good) // 2], sto)), "data.pkl")
    case(k, "not_a_dict", tz(torch_zip(b"\x80\x02K\x07.")), "dict")
    case(k, "deep_marks", tz(torch_zip(b"\x80\x02" + b"(" * 100000 + b".")), "data.pkl")
    case(k, "deep_lists", tz(torch_zip(b"\x80\x02" + b"]" * 100000 + b"a" * 99999 + b".")), "data.pkl")
    case(k, "memo_get_empty", tz(torch_zip(b"\x80\x02h\x05.")), "memo")
    case(k, "missing_storage", tz(torch_zip(good, {})), "0")
    case(k, "storage_short", tz(torch_zip(good, {"0": f32(10)})), "storage")
    case(k, "storage_type_int", tz(torch_zip(pk_dict([("0.weight", pk_tensor("0", [DIM, DIM], "LongStorage"))]), sto)), "LongStorage")
    case(k, "huge_shape", tz(torch_zip(pk_dict([("0.weight", pk_tensor("0", [1 << 30, 1 << 30], numel=DIM * DIM))]), sto)), "0.weight")
    case(k, "no_data_pkl", tz(torch_zip(good, sto, drop=("archive/data.pkl",))), "data.pkl")
    case(k, "not_a_zip", tz(b"\x80\x02}."), "zip")

# --- sweep configs (interv sweep --config F --out DIR) ---------------------------------------
def sweeps():
    k = "sweep"
    base = "models = m.bin\nlayers = 1\nmethods = logit\nconcepts = dog\nprompts = p.csv\nconcepts_file = c.json\n"
    case(k, "empty.conf", b"", "models")
    case(k, "unknown_key.conf", base + "frobnicate = 3\n", "frobnicate")
    case(k, "no_equals.conf", base + "layers 3\n", "no_equals.conf:7")
    case(k, "bad_layer.conf", base.replace("layers = 1", "layers = one"), "one")
    case(k, "huge_layer.conf", base.replace("layers = 1", "layers = 99999999999999999999"), "99999999999999999999")
    case(k, "unknown_method.conf", base.replace("methods = logit", "methods = magic"), "magic")
    case(k, "nan_alpha.conf", base + "alphas = 1 nan\n", "nan")
    case(k, "missing_models.conf", base.replace("models = m.bin\n", ""), "models")

# --- concepts JSON (interv run --concepts F) and results JSONL (interv report F) ----------------------
def concepts():
    k = "concepts"
    case(k, "deep.json", "[" * 100000 + "]" * 100000, "depth")
    case(k, "not_json.json", "{dog: [", "line 1")
    case(k, "forms_not_strings.json", json.dumps({"dog": [1, 2]}), "dog")
    case(k, "number.json", "42", "concepts")
    k = "jsonl"
    case(k, "not_json.jsonl", '{"model": "m", "layer": 1\n', ":1:")
    case(k, "deep.jsonl", "[" * 100000 + "]" * 100000 + "\n", ":1:")
    case(k, "wrong_types.jsonl", json.dumps({"model": 5, "layer": "two", "method": [], "concept": {}, "alpha": "x",
                                             "mode": "sideways", "success": "maybe"}) + "\n", ":1:")
    case(k, "invalid_utf8.jsonl", b'{"model": "\xff"}\n', ":1:")

def main():
    for kind in KINDS: shutil.rmtree(os.path.join(BAD, kind), ignore_errors=True)
    tokenizers(); csvs(); steering(); npzs(); torchs(); sweeps(); concepts()
    n = sum(1 for kind in KINDS for f in os.listdir(os.path.join(BAD, kind)) if not f.endswith(".expect"))
    print(f"{n} malformed cases in tests/bad/{{{','.join(KINDS)}}}")

if __name__ == "__main__":
    main()
