#!/usr/bin/env python3
"""Regenerates tests/fixtures/io/{npz,torch,gguf}/ for tests/unit/test_{npz,torchzip,gguf}.c.

Run with the Python that has numpy and torch 1.13 (/usr/bin/python3 here):
    /usr/bin/python3 scripts/make_io_fixtures.py
The outputs are committed so CI needs neither numpy nor torch.  Every value is a
small dyadic rational (exact in f16/bf16/f32) given by a formula the C tests
recompute.  Malformed files are built by hand (zip members replaced, pickle bytes
or GGUF fields written with struct) to hit one validation each.
"""
import io
import os
import struct
import sys
import zipfile
from collections import OrderedDict

import numpy as np

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "io")
STAMP = (1980, 1, 1, 0, 0, 0)  # fixed zip timestamps keep the files reproducible


def out(sub, name):
    d = os.path.join(ROOT, sub)
    os.makedirs(d, exist_ok=True)
    return os.path.join(d, name)


def write_zip(path, members, deflate=False):
    """members: list of (name, bytes)."""
    with zipfile.ZipFile(path, "w") as z:
        for name, data in members:
            info = zipfile.ZipInfo(name, STAMP)
            info.compress_type = zipfile.ZIP_DEFLATED if deflate else zipfile.ZIP_STORED
            z.writestr(info, data)


# ---------------------------------------------------------------- npz ----------

def npy(arr, version=None):
    b = io.BytesIO()
    np.lib.format.write_array(b, arr, version=version, allow_pickle=True)
    return b.getvalue()


def npy_raw(header_dict_text, payload=b"", major=1):
    """A .npy member with an arbitrary header text (padded like numpy does)."""
    h = header_dict_text.encode("latin1")
    pre = 10 if major == 1 else 12
    h += b" " * ((64 - (pre + len(h) + 1) % 64) % 64) + b"\n"
    lenf = struct.pack("<H", len(h)) if major == 1 else struct.pack("<I", len(h))
    return b"\x93NUMPY" + bytes([major, 0]) + lenf + h + payload


def npz_good_members():
    return [
        ("W_enc.npy", npy(((np.arange(24) - 7) / 4).astype("<f4").reshape(4, 6))),
        ("b_enc.npy", npy(((np.arange(6) * 3 - 5) / 8).astype("<f4"))),
        ("W_dec.npy", npy(((np.arange(24) - 11) / 16).astype("<f2").reshape(6, 4))),
        ("threshold.npy", npy((0.1 * (np.arange(6) + 1)).astype("<f8"))),
        ("count.npy", npy(np.array([-2, 0, 7], dtype="<i4"))),
        ("big.npy", npy(np.array([-(1 << 40), 12345], dtype="<i8"))),
        ("scalar.npy", npy(np.array(2.5, dtype="<f4"))),
        ("empty.npy", npy(np.zeros((0, 3), dtype="<f4"))),
        ("v2.npy", npy(np.array([1, -1, 0.5], dtype="<f4"), version=(2, 0))),
        ("v3.npy", npy(np.array([0.25, 8], dtype="<f4"), version=(3, 0))),
    ]


def patch_zip_sizes(data, usize):
    """Rewrites the uncompressed size of the (single) member in both headers."""
    b = bytearray(data)
    assert b[:4] == b"PK\x03\x04"
    struct.pack_into("<I", b, 22, usize)
    cd = b.find(b"PK\x01\x02")
    struct.pack_into("<I", b, cd + 24, usize)
    return bytes(b)


def make_npz():
    write_zip(out("npz", "good.npz"), npz_good_members())
    write_zip(out("npz", "good_deflate.npz"), npz_good_members(), deflate=True)
    f4 = np.arange(4, dtype="<f4").tobytes()
    bad = {
        "bad_magic": [("a.npy", b"\x93NUMPX" + npy(np.zeros(2, "<f4"))[6:])],
        "bad_version": [("a.npy", b"\x93NUMPY\x04\x00" + npy(np.zeros(2, "<f4"))[8:])],
        "bad_fortran": [("a.npy", npy(np.asfortranarray(np.zeros((2, 3), "<f4"))))],
        "bad_bigendian": [("a.npy", npy(np.zeros(3, ">f4")))],
        "bad_object": [("a.npy", npy(np.array([1, "x"], dtype=object)))],
        "bad_structured": [("a.npy", npy(np.zeros(2, dtype=[("x", "<f4"), ("y", "<i4")])))],
        "bad_complex": [("a.npy", npy(np.zeros(2, "<c8")))],
        "bad_negative": [("a.npy", npy_raw("{'descr': '<f4', 'fortran_order': False, 'shape': (-1, 4), }", f4))],
        "bad_overflow": [("a.npy", npy_raw("{'descr': '<f4', 'fortran_order': False, 'shape': (281474976710656, 281474976710656, 65536), }", f4))],
        "bad_cap": [("a.npy", npy_raw("{'descr': '<f4', 'fortran_order': False, 'shape': (2147483648,), }", f4))],
        "bad_ndim": [("a.npy", npy_raw("{'descr': '<f4', 'fortran_order': False, 'shape': (1,1,1,1,1,1,1,1,1), }", f4))],
        "bad_dict": [("a.npy", npy_raw("{'descr': '<f4', 'fortran_order': False 'shape': (4,), }", f4))],
        "bad_nokey": [("a.npy", npy_raw("{'descr': '<f4', 'fortran_order': False, }", f4))],
        "bad_short": [("a.npy", npy_raw("{'descr': '<f4', 'fortran_order': False, 'shape': (100,), }", f4))],
        "bad_hlen": [("a.npy", b"\x93NUMPY\x01\x00\xff\xff{'descr'")],
        "bad_truncheader": [("a.npy", b"\x93NUMPY\x01")],
        "bad_member": [("a.npy", npy(np.zeros(2, "<f4"))), ("readme.txt", b"hello")],
        # a zip bomb: a 2-element header followed by 16 MiB of zeros that deflate to ~16 KiB
        "bad_bomb": [("a.npy", npy(np.zeros(2, "<f4")) + bytes(16 << 20))],
    }
    for name, members in bad.items():
        write_zip(out("npz", name + ".npz"), members, deflate=(name == "bad_bomb"))
    # the same bomb with sizes forged to match the header: only a bounded read notices
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        info = zipfile.ZipInfo("a.npy", STAMP)
        info.compress_type = zipfile.ZIP_DEFLATED
        z.writestr(info, npy(np.zeros(2, "<f4")) + bytes(1 << 20))
    with open(out("npz", "bad_bomb_forged.npz"), "wb") as f:
        f.write(patch_zip_sizes(buf.getvalue(), len(npy(np.zeros(2, "<f4")))))
    with open(out("npz", "bad_notzip.npz"), "wb") as f:
        f.write(b"this is not a zip archive\n" * 4)
    good = open(out("npz", "good.npz"), "rb").read()
    with open(out("npz", "bad_truncated.npz"), "wb") as f:
        f.write(good[: len(good) // 2])


# ---------------------------------------------------------------- torch ---------

def lens_values(i, d=4):
    w = [[(r * d + c + 16 * i - 5) / 8 for c in range(d)] for r in range(d)]
    b = [(j - i) / 4 for j in range(d)]
    return w, b


def pk_str(s):
    b = s.encode()
    return b"X" + struct.pack("<I", len(b)) + b


def pk_int(n):
    if 0 <= n < 256:
        return b"K" + bytes([n])
    if 0 <= n < 65536:
        return b"M" + struct.pack("<H", n)
    if -(1 << 31) <= n < (1 << 31):
        return b"J" + struct.pack("<i", n)
    return b"\x8a\x08" + struct.pack("<q", n)


def pk_tuple(xs):
    return b")" if not xs else b"(" + b"".join(pk_int(x) for x in xs) + b"t"


def pk_tensor(stype, key, numel, offset, size, stride, pid_len=5):
    pid = [pk_str("storage"), b"ctorch\n" + stype.encode() + b"\n", pk_str(key), pk_str("cpu"), pk_int(numel)]
    return (b"ctorch._utils\n_rebuild_tensor_v2\n(" + b"(" + b"".join(pid[:pid_len]) + b"tQ"
            + pk_int(offset) + pk_tuple(size) + pk_tuple(stride)
            + b"\x89ccollections\nOrderedDict\n)Rt" + b"R")


def pk_state_dict(entries):
    """entries: list of (name, tensor pickle bytes)."""
    body = b"".join(pk_str(n) + t for n, t in entries)
    return b"\x80\x02ccollections\nOrderedDict\n)R(" + body + b"u."


def torch_members(path):
    with zipfile.ZipFile(path) as z:
        return [(i.filename, z.read(i.filename)) for i in z.infolist()]


def replace(members, suffix, data):
    """Replaces (or with data=None drops) every member whose name ends with suffix."""
    res = []
    for n, d in members:
        if n.endswith(suffix):
            if data is not None:
                res.append((n, data))
        else:
            res.append((n, d))
    return res


def make_torch():
    import torch

    lens = torch.nn.ModuleList([torch.nn.Linear(4, 4) for _ in range(3)])
    with torch.no_grad():
        for i, lin in enumerate(lens):
            w, b = lens_values(i)
            lin.weight.copy_(torch.tensor(w))
            lin.bias.copy_(torch.tensor(b))
    torch.save(lens.state_dict(), out("torch", "lens.pt"))  # OrderedDict with _metadata

    w, b = lens_values(0)
    params = {"0.weight": torch.nn.Parameter(torch.tensor(w)), "0.bias": torch.nn.Parameter(torch.tensor(b))}
    torch.save(params, out("torch", "params.pt"))  # plain dict of nn.Parameter

    base = torch.arange(8, dtype=torch.float32)
    mixed = OrderedDict([
        ("half", ((torch.arange(6) - 3) / 4).to(torch.float16).reshape(2, 3)),
        ("bf16", ((torch.arange(5) - 2) / 2).to(torch.bfloat16)),
        ("base", base),
        ("view", base[2:6]),  # shares base's storage at offset 2
        ("scalar", torch.tensor(1.5)),
        ("cube", (torch.arange(8, dtype=torch.float32) / 2).reshape(2, 2, 2)),
        ("four", torch.arange(6, dtype=torch.float32).reshape(1, 2, 1, 3)),
        ("empty", torch.zeros(0, 4)),
        ("wide", (torch.arange(300, dtype=torch.float32) / 4)[260:263]),  # BININT2 offset and numel
    ])
    torch.save(mixed, out("torch", "mixed.pt"))
    torch.save(mixed, out("torch", "mixed_p4.pt"), pickle_protocol=4)  # FRAME, MEMOIZE, STACK_GLOBAL

    good = torch_members(out("torch", "lens.pt"))
    f32 = lambda k, n, off, size, stride: pk_tensor("FloatStorage", k, n, off, size, stride)
    crafted = {
        "bad_os_system": b"\x80\x02cos\nsystem\nX\x04\x00\x00\x00echo\x85R.",
        "bad_builtins": b"\x80\x04\x8c\x08builtins\x8c\x04eval\x93\x8c\x011\x85R.",
        "bad_opcode": b"\x80\x02I42\n.",
        "bad_trunc_pkl": dict(good)["lens/data.pkl"][:200],
        "bad_offset": pk_state_dict([("0.weight", f32("0", 16, 10, [4, 4], [4, 1]))]),
        "bad_huge_shape": pk_state_dict([("0.weight", f32("0", 16, 0, [1 << 30, 1 << 30], [1 << 30, 1]))]),
        "bad_numel": pk_state_dict([("0.weight", f32("0", 1000, 0, [4, 4], [4, 1]))]),
        "bad_persid": pk_state_dict([("0.weight", pk_tensor("FloatStorage", "0", 16, 0, [4, 4], [4, 1], pid_len=4))]),
        "bad_storage_type": pk_state_dict([("0.weight", pk_tensor("LongStorage", "0", 16, 0, [4, 4], [4, 1]))]),
        "bad_memo": b"\x80\x02}h\x07.",
        "bad_stack": b"\x80\x02}(X\x01\x00\x00\x00a\x86u.",
        "bad_not_dict": b"\x80\x02]K\x01a.",
        "bad_nested": b"\x80\x02}X\x01\x00\x00\x00a}s.",
        "bad_storage_key": pk_state_dict([("0.weight", f32("../0", 16, 0, [4, 4], [4, 1]))]),
        "bad_trailing": pk_state_dict([]) + b"N",
    }
    for name, pkl in crafted.items():
        write_zip(out("torch", name + ".pt"), replace(good, "/data.pkl", pkl))
    write_zip(out("torch", "bad_short_storage.pt"), replace(good, "lens/data/0", dict(good)["lens/data/0"][:-4]))
    write_zip(out("torch", "bad_missing_storage.pt"), replace(good, "lens/data/0", None))
    write_zip(out("torch", "bad_no_pkl.pt"), replace(good, "/data.pkl", None))
    write_zip(out("torch", "bad_byteorder.pt"), good + [("lens/byteorder", b"big")])
    write_zip(out("torch", "bad_version.pt"), replace(good, "/version", b"banana\n"))
    torch.save({"w": torch.arange(16, dtype=torch.float32).reshape(4, 4).t()}, out("torch", "bad_noncontig.pt"))
    raw = open(out("torch", "lens.pt"), "rb").read()
    with open(out("torch", "bad_trunc_zip.pt"), "wb") as f:
        f.write(raw[: len(raw) * 3 // 5])


# ---------------------------------------------------------------- gguf ----------

T_U8, T_I8, T_U16, T_I16, T_U32, T_I32, T_F32, T_BOOL, T_STR, T_ARR, T_U64, T_I64, T_F64 = range(13)


def g_str(s):
    b = s.encode() if isinstance(s, str) else s
    return struct.pack("<Q", len(b)) + b


def g_kv(key, t, payload):
    return g_str(key) + struct.pack("<I", t) + payload


def cv_value(layer, j):
    return ((layer * 7 + j * 3) % 17 - 8) / 4


def gguf(kvs, tensors, data, version=3, align=32, magic=b"GGUF", n_tensors=None, n_kv=None):
    """kvs: encoded KV bytes list; tensors: list of (name, dims, type, offset)."""
    head = magic + struct.pack("<IQQ", version, len(tensors) if n_tensors is None else n_tensors,
                               len(kvs) if n_kv is None else n_kv)
    head += b"".join(kvs)
    for name, dims, typ, off in tensors:
        head += g_str(name) + struct.pack("<I", len(dims)) + b"".join(struct.pack("<Q", d) for d in dims)
        head += struct.pack("<IQ", typ, off)
    head += bytes((-len(head)) % align)
    return head + data


def cv_file(layers, d, hint="llama", version=3, align=32, extra_kvs=(), layer_count_kv=None,
            order=None, typ=0, dims=None, names=None):
    """A control vector laid out exactly as iv_gguf_cv_write does (for version 3, align 32)."""
    kvs = [g_kv("general.architecture", T_STR, g_str("controlvector"))]
    if hint is not None:
        kvs.append(g_kv("controlvector.model_hint", T_STR, g_str(hint)))
    kvs.append(layer_count_kv if layer_count_kv is not None
               else g_kv("controlvector.layer_count", T_U32, struct.pack("<I", len(layers))))
    kvs += list(extra_kvs)
    stride = (d * 4 + align - 1) // align * align
    order = order or layers
    tensors, data = [], b""
    for k, L in enumerate(order):
        name = names[k] if names else "direction.%d" % L
        tensors.append((name, dims or [d], typ, k * stride))
        vals = struct.pack("<%df" % d, *[cv_value(L, j) for j in range(d)])
        data += vals + bytes(stride - len(vals))
    return gguf(kvs, tensors, data, version=version, align=align)


def make_gguf():
    def w(name, b):
        with open(out("gguf", name + ".gguf"), "wb") as f:
            f.write(b)

    good = cv_file([1, 2, 3], 8)
    w("cv", good)
    w("cv_v2", cv_file(
        [5, 2], 5, hint=None, version=2, align=64,
        layer_count_kv=g_kv("controlvector.layer_count", T_I32, struct.pack("<i", 2)),
        extra_kvs=[g_kv("general.alignment", T_U32, struct.pack("<I", 64)),
                   g_kv("general.tags", T_ARR, struct.pack("<IQ", T_STR, 2) + g_str("a") + g_str("bc")),
                   g_kv("x.sizes", T_ARR, struct.pack("<IQ", T_U64, 3) + struct.pack("<3Q", 1, 2, 3)),
                   g_kv("x.flag", T_BOOL, b"\x01"),
                   g_kv("x.scale", T_F32, struct.pack("<f", 0.5)),
                   g_kv("x.nested", T_ARR, struct.pack("<IQ", T_ARR, 1) + struct.pack("<IQ", T_U8, 2) + b"\x01\x02")]))
    arch = g_kv("general.architecture", T_STR, g_str("controlvector"))
    one = struct.pack("<8f", *[cv_value(1, j) for j in range(8)])
    bad = {
        "bad_magic": b"GGUX" + good[4:],
        "bad_version1": good[:4] + struct.pack("<I", 1) + good[8:],
        "bad_version4": good[:4] + struct.pack("<I", 4) + good[8:],
        "bad_bigendian": good[:4] + struct.pack(">I", 3) + good[8:],
        "bad_trunc_header": good[:40],
        "bad_trunc_data": good[:-40],
        "bad_huge_key": gguf([struct.pack("<Q", 1 << 62) + b"general"], [], b""),
        "bad_huge_tensors": gguf([arch], [], b"", n_tensors=1 << 40),
        "bad_huge_kv": gguf([arch], [], b"", n_kv=1 << 40),
        "bad_huge_array": gguf([arch, g_kv("x", T_ARR, struct.pack("<IQ", T_U32, 1 << 61))], [], b""),
        "bad_kv_type": gguf([arch, g_kv("x", 99, b"\0" * 8)], [], b""),
        "bad_bool": gguf([arch, g_kv("x", T_BOOL, b"\x02")], [("direction.1", [8], 0, 0)], one),
        "bad_deep_array": gguf([arch, g_kv("x", T_ARR, (struct.pack("<IQ", T_ARR, 1)) * 4 + struct.pack("<IQ", T_U8, 0))], [], b""),
        "bad_arch": gguf([g_kv("general.architecture", T_STR, g_str("llama"))], [("direction.1", [8], 0, 0)], one),
        "bad_no_arch": gguf([], [("direction.1", [8], 0, 0)], one),
        "bad_dup_key": gguf([arch, arch], [("direction.1", [8], 0, 0)], one),
        "bad_no_tensors": gguf([arch], [], b""),
        "bad_type_f16": cv_file([1, 2], 8, typ=1),
        "bad_2d": cv_file([1], 8, dims=[4, 2]),
        "bad_name": cv_file([1], 8, names=["blk.1.direction"]),
        "bad_name_num": cv_file([1], 8, names=["direction.x"]),
        "bad_dup_tensor": cv_file([1, 1], 8),
        "bad_dims_mismatch": gguf([arch], [("direction.1", [8], 0, 0), ("direction.2", [4], 0, 32)], one + one),
        "bad_offset_past_end": gguf([arch], [("direction.1", [8], 0, 4096)], one),
        "bad_misaligned": gguf([arch], [("direction.1", [8], 0, 4)], one + bytes(32)),
        "bad_overlap": gguf([arch], [("direction.1", [16], 0, 0), ("direction.2", [16], 0, 32)], one * 6),
        "bad_alignment": gguf([arch, g_kv("general.alignment", T_U32, struct.pack("<I", 48))], [("direction.1", [8], 0, 0)], one, align=48),
        "bad_layer_count": cv_file([1], 8, layer_count_kv=g_kv("controlvector.layer_count", T_STR, g_str("3"))),
        "bad_nan": gguf([arch], [("direction.1", [8], 0, 0)], struct.pack("<f", float("nan")) + one[4:]),
        "bad_hint_len": gguf([arch, struct.pack("<Q", 24) + b"controlvector.model_hint" + struct.pack("<IQ", T_STR, 1 << 40)], [], b""),
    }
    for name, b in bad.items():
        w(name, b)


if __name__ == "__main__":
    what = sys.argv[1:] or ["npz", "torch", "gguf"]
    if "npz" in what:
        make_npz()
    if "torch" in what:
        make_torch()
    if "gguf" in what:
        make_gguf()
