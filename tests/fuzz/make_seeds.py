#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Writes the seed inputs of tests/fuzz/corpus/ (run from the repository root, after `make`, which
builds build/rope for the `rope cache` seeds). The protobuf seeds are encoded here by hand so they
do not depend on the tool's own writer. Reproducers found by fuzzing are added beside the seeds
(named crash-* / leak-* / timeout-*) and never removed."""
import os, random, struct, subprocess, tempfile

root = os.path.join("tests", "fuzz", "corpus")

def varint(v):
    out = b""
    v &= (1 << 64) - 1
    while v >= 0x80:
        out += bytes([(v & 0x7F) | 0x80]); v >>= 7
    return out + bytes([v])

def key(num, wire): return varint(num << 3 | wire)
def vfield(num, v): return key(num, 0) + varint(v)
def bfield(num, b): return key(num, 2) + varint(len(b)) + b

def tensor(dims, dtype, name=b"", raw=None, typed=None):
    m = b"".join(vfield(1, d) for d in dims) + vfield(2, dtype)
    if name: m += bfield(8, name)
    if raw is not None: m += bfield(9, raw)
    if typed is not None:
        num, payload = typed
        m += bfield(num, payload)
    return m

def put(sub, name, data):
    d = os.path.join(root, sub); os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f: f.write(data)

# TensorProto: raw_data of each dtype, typed fields, empty and rank-0 tensors
put("tensor_proto", "seed-f32-raw", tensor([2, 3], 1, b"X", raw=struct.pack("<6f", *[0.5 * i - 1 for i in range(6)])))
put("tensor_proto", "seed-f16-raw", tensor([4], 10, b"h", raw=struct.pack("<4H", 0x3C00, 0xBC00, 0x7C00, 0x0001)))
put("tensor_proto", "seed-bf16-raw", tensor([1, 2], 16, b"b", raw=struct.pack("<2H", 0x3F80, 0xC000)))
put("tensor_proto", "seed-i64-raw", tensor([3], 7, b"ids", raw=struct.pack("<3q", 0, 5, -1)))
put("tensor_proto", "seed-i32-raw", tensor([2], 6, b"seqlen", raw=struct.pack("<2i", 3, 4)))
put("tensor_proto", "seed-f32-typed", tensor([3], 1, b"f", typed=(4, struct.pack("<3f", 1.0, -2.5, 3.25))))
put("tensor_proto", "seed-f16-int32data", tensor([2], 10, b"", typed=(5, varint(0x3C00) + varint(0x4000))))
put("tensor_proto", "seed-i64-typed", tensor([2, 1], 7, b"p", typed=(7, varint(7) + varint((1 << 64) - 2))))
put("tensor_proto", "seed-u32-uint64data", tensor([2], 12, b"u", typed=(11, varint(1) + varint(0xFFFFFFFF))))
put("tensor_proto", "seed-empty", tensor([0, 1 << 40], 1, b"empty", raw=b""))
put("tensor_proto", "seed-scalar", tensor([], 1, b"s", raw=struct.pack("<f", 2.0)))
with tempfile.TemporaryDirectory() as tmp:  # files of the tool's own writer
    for dt, layout, table in (("f32", "halves", "half"), ("f16", "coeff4", "full"), ("bf16", "halves", "half")):
        args = ["build/rope", "cache", "--dim", "8", "--positions", "3:6", "--dtype", dt, "--layout", layout, "-o", tmp]
        subprocess.run(args, check=True, stdout=subprocess.DEVNULL)
        with open(os.path.join(tmp, "cos.pb"), "rb") as f: put("tensor_proto", "seed-rope-cache-%s-%s" % (dt, table), f.read())

# ModelProto: a RotaryEmbedding node and an ATB-like custom node, attributes of every kind
def attr(name, atype, field):
    return bfield(1, name) + vfield(20, atype) + field
def node(op, domain, ins, outs, attrs):
    m = b"".join(bfield(1, i) for i in ins) + b"".join(bfield(2, o) for o in outs) + bfield(3, op.lower() + b"_0") + bfield(4, op)
    if domain: m += bfield(7, domain)
    return m + b"".join(bfield(5, a) for a in attrs)
def graph(nodes, inits, ins, outs):
    return (b"".join(bfield(1, n) for n in nodes) + bfield(2, b"g") + b"".join(bfield(5, t) for t in inits) +
            b"".join(bfield(11, bfield(1, i)) for i in ins) + b"".join(bfield(12, bfield(1, o)) for o in outs))
def model(g, opsets):
    return vfield(1, 8) + b"".join(bfield(8, (bfield(1, d) if d else b"") + vfield(2, v)) for d, v in opsets) + bfield(7, g)
rot = node(b"RotaryEmbedding", b"", [b"X", b"cos", b"sin", b"ids"], [b"Y"],
           [attr(b"interleaved", 2, vfield(3, 1)), attr(b"num_heads", 2, vfield(3, 4)), attr(b"rotary_embedding_dim", 2, vfield(3, 0))])
put("onnx_model", "seed-rotary", model(graph([rot], [], [b"X", b"cos", b"sin", b"ids"], [b"Y"]), [(b"", 23)]))
odd = node(b"Rope", b"com.example", [b"q", b"", b"k"], [b"rq", b"rk"],
           [attr(b"f", 1, key(2, 5) + struct.pack("<f", 0.5)), attr(b"s", 3, bfield(4, b"text")),
            attr(b"t", 4, bfield(5, tensor([2], 1, b"t", raw=struct.pack("<2f", 1, 2)))),
            attr(b"floats", 6, bfield(7, struct.pack("<3f", 1, 2, 3))), attr(b"ints", 7, bfield(8, varint(1) + varint(2))),
            attr(b"strings", 8, bfield(9, b"a") + bfield(9, b"b"))])
put("onnx_model", "seed-attributes", model(graph([odd, rot], [tensor([1], 7, b"ids", raw=struct.pack("<q", 0))], [b"q", b"k"], [b"rq"]),
                                           [(b"", 23), (b"com.example", 1), (b"ai.onnx", 22)]))
put("onnx_model", "seed-empty-graph", model(b"", []))
# ONNX Runtime's contrib ops (domain com.microsoft): INT, FLOAT (scale) and INTS (mrope_section) attributes
ort_in = [b"input", b"position_ids", b"cos_cache", b"sin_cache"]
ort_rot = node(b"RotaryEmbedding", b"com.microsoft", ort_in, [b"output"],
               [attr(b"interleaved", 2, vfield(3, 1)), attr(b"num_heads", 2, vfield(3, 2)), attr(b"rotary_embedding_dim", 2, vfield(3, 4)),
                attr(b"is_packed_batching", 2, vfield(3, 1)), attr(b"scale", 1, key(2, 5) + struct.pack("<f", 0.5))])
put("onnx_model", "seed-ort-rotary", model(graph([ort_rot], [], ort_in, [b"output"]), [(b"", 23), (b"com.microsoft", 1)]))
ort_mrope = node(b"MRotaryEmbedding", b"com.microsoft", ort_in, [b"output"],
                 [attr(b"num_heads", 2, vfield(3, 2)), attr(b"mrope_section", 7, bfield(8, varint(2) + varint(1) + varint(1))),
                  attr(b"mrope_layout", 2, vfield(3, 1)), attr(b"scale", 1, key(2, 5) + struct.pack("<f", 1.5))])
put("onnx_model", "seed-ort-mrotary", model(graph([ort_mrope], [], ort_in, [b"output"]), [(b"com.microsoft", 1)]))

# CLI arguments: byte 0 even = rope cache, odd = rope bench; arguments separated by NUL bytes
def cli(which, *args): return bytes([which]) + b"\0".join(a.encode() for a in args)
put("cli_args", "seed-cache-default", cli(0, "--dim", "8", "--positions", "0:16", "-o", "d"))
put("cli_args", "seed-cache-llama3", cli(0, "--dim", "16", "--positions", "5:9", "--base", "500000", "--scaling",
                                         "llama3:factor=8,original_max_position_embeddings=8192,low_freq_factor=1,high_freq_factor=4", "-o", "d"))
put("cli_args", "seed-cache-yarn", cli(0, "--dim", "8", "--positions", "3", "--scaling",
                                       "yarn:factor=16,original_max_position_embeddings=4096,beta_fast=32,beta_slow=1,mscale=1,mscale_all_dim=0.5,truncate=false",
                                       "--dtype", "bf16", "--layout", "coeff2", "-o", "d"))
put("cli_args", "seed-cache-longrope", cli(0, "--dim", "4", "--positions", "0:8", "--seq-len", "9000", "--scaling",
                                           "longrope:factor=4,original_max_position_embeddings=4096,short_factor=1/1.5,long_factor=2/4,attention_factor=1.2",
                                           "--dtype", "f16", "-o", "d"))
put("cli_args", "seed-cache-dynamic", cli(0, "--dim", "8", "--positions", "0:4", "--scaling", "dynamic:factor=2,original_max_position_embeddings=2", "-o", "d"))
put("cli_args", "seed-cache-linear-bad", cli(0, "--dim", "8", "--positions", "4:2", "--scaling", "linear:factor=x,factor=2", "-o", "d"))
put("cli_args", "seed-bench-atb", cli(1, "--op", "atb", "--dtype", "f16-f32cos", "--layout", "coeff4", "--tokens", "16", "--heads", "8",
                                      "--heads-k", "2", "--head-size", "64", "--threads", "2", "--reps", "3", "--fly", "--backward", "--csv"))
put("cli_args", "seed-bench-onnx", cli(1, "--quick", "--layout", "interleaved", "--dtype", "bf16", "--head-size", "7"))
put("cli_args", "seed-cache-vllm", cli(0, "--dim=16", "--positions=2:9", "--layout=vllm", "--dtype=bf16", "-o", "d"))
put("cli_args", "seed-cache-axes", cli(0, "--axes", "4,6,6", "--grid", "2x3x2", "--grid-start", "1,-2,0", "--theta", "256,1e4,500",
                                       "--layout", "coeffD", "--dtype", "f16", "-o", "d"))
put("cli_args", "seed-cache-axes-alternating", cli(0, "--axes=8,8", "--grid=3x4", "--axes-freq=alternating", "--layout=vllm", "-o", "d"))
put("cli_args", "seed-bench-axes", cli(1, "--op=atb", "--axes=16,56,56", "--grid=1x4x8", "--theta=256",
                                       "--layout=coeffD", "--head-size=128", "--backward", "--dtype=f16-f32cos"))
put("cli_args", "seed-bench-vllm", cli(1, "--op=vllm", "--layout=interleaved", "--dtype=bf16-f32cos", "--tokens=8", "--heads=4",
                                       "--heads-k=2", "--head-size=32", "--scatter", "--mrope=interleaved", "--pool=all",
                                       "--plot=p.png"))

# API: byte 0 the entry point (14 of them), byte 1 the context, then the bytes of the case's choices
rng = random.Random(12)
for e in range(14):
    for j in range(3):
        put("api", "seed-entry%02d-%d" % (e, j), bytes([e, j & 1]) + bytes(rng.randrange(256) for _ in range(64 + 192 * j)))

# ops (the table-driven API fuzzer): byte 0 the row of ops_table[] (30 of them: ONNX 0-4, ATB 5-9,
# cache fill 10, vLLM 11-15, the fused prologue 16-19, rope_cache_fill_axes 20-23, the operators on
# the fly from multi-axis positions 24-29), byte 1 the context. Rows are drawn in order, so earlier
# rows keep their bytes.
rng = random.Random(13)
for e in range(30):
    for j in range(3):
        put("ops", "seed-entry%02d-%d" % (e, j), bytes([e, j & 1]) + bytes(rng.randrange(256) for _ in range(48 + 160 * j)))
