# SPDX-License-Identifier: MIT
"""Writes tests/conformance/vllm-prologue/: conformance cases of the fused attention prologue for
`rope test`, as nodes in domain "vllm":

  FusedQKNormRope(positions, qkv, q_weight, k_weight, cos_sin_cache) -> qkv_out
      attributes num_heads_q, num_heads_k, num_heads_v, head_dim, eps, is_neox, mrope_section,
      mrope_interleaved (vLLM's fused_qk_norm_rope)
  RotaryEmbeddingAndCache(positions, query, key, value, cos_sin_cache, key_cache, value_cache,
                          slot_mapping[, q_weight, k_weight])
      -> query_out, key_out, key_cache_out, value_cache_out
      attributes head_size, is_neox, mrope_section, mrope_interleaved, kv_layout, k_scale, v_scale,
      eps, kv_cache_dtype, inverse (vLLM's rotary_embedding, inverse included: the negated angle, then
      reshape_and_cache_flash)

Each case is a directory in the ONNX backend node-test layout (model.onnx, test_data_set_0/input_K.pb,
output_K.pb). The expected outputs are computed here, in float64 with NumPy, from the operators'
definitions (written below, independent of librope): RMSNorm of each q and k head
x / sqrt(mean(x^2) + eps) * w, the rotation of the cos_sin_cache row at each position (halves or
adjacent pairs, MRoPE sections), each element rounded once to the tensor's dtype; then the rotated key
and the value stored at slot_mapping[t] (a negative slot writes nothing), as the key's dtype or as fp8
(element / scale, saturated to the finite range, rounded to nearest even by ml_dtypes).

Run with the pinned packages of a venv (never the system python), e.g. the one gen_ort_contrib.py uses:
    /work/venv-ort/bin/python tests/conformance/gen_vllm_prologue.py [OUTDIR]
(onnx 1.23.2, ml_dtypes 0.5.4, numpy). Fixed seeds: a rerun writes the same files.
"""
import os
import shutil
import sys

import ml_dtypes
import numpy as np
from onnx import TensorProto, helper

HERE = os.path.dirname(os.path.abspath(__file__))
NP = {"f32": np.float32, "f16": np.float16, "bf16": ml_dtypes.bfloat16,
      "fp8_e4m3": ml_dtypes.float8_e4m3fn, "fp8_e5m2": ml_dtypes.float8_e5m2}
ELEM = {"f32": TensorProto.FLOAT, "f16": TensorProto.FLOAT16, "bf16": TensorProto.BFLOAT16,
        "fp8_e4m3": TensorProto.FLOAT8E4M3FN, "fp8_e5m2": TensorProto.FLOAT8E5M2,
        "i64": TensorProto.INT64, "i32": TensorProto.INT32}
FP8_MAX = {"fp8_e4m3": 448.0, "fp8_e5m2": 57344.0}


# ---- the float64 reference -------------------------------------------------------------------------

def rounded(x, dtype):
    """float64 x rounded once to dtype (nearest even), as an array of that dtype."""
    return np.asarray(x, np.float64).astype(NP[dtype])


def pair_axes(half, section, interleaved):
    """The positions axis of each of the rot/2 pairs (MRoPE), plain RoPE: all axis 0."""
    if section is None:
        return np.zeros(half, np.int64)
    if interleaved:  # Qwen3-VL: pair j is axis j % 3 while that axis has pairs left, else axis 0
        axes = np.zeros(half, np.int64)
        for axis in (1, 2):
            axes[axis: section[axis] * 3: 3] = axis
        return axes
    return np.repeat(np.arange(len(section)), section)


def rotate(x, pos, hs, cache, is_neox, section=None, interleaved=False):
    """x [T, H*hs] float64 rotated by the cache rows at pos ([T] or [m, T])."""
    cache = cache.astype(np.float64)
    rot = cache.shape[1]
    half = rot // 2
    pos = np.asarray(pos, np.int64)
    pos = pos[None] if section is None else pos
    rows = pos[pair_axes(half, section, interleaved), :].T  # [T, half]
    c = cache[rows, np.arange(half)[None, :]][:, None, :]
    s = cache[rows, half + np.arange(half)[None, :]][:, None, :]
    t = x.shape[0]
    xs = x.reshape(t, -1, hs)
    y = xs.copy()
    if is_neox:
        x1, x2 = xs[..., :half], xs[..., half:rot]
        y[..., :half], y[..., half:rot] = x1 * c - x2 * s, x2 * c + x1 * s
    else:
        x1, x2 = xs[..., 0:rot:2], xs[..., 1:rot:2]
        y[..., 0:rot:2], y[..., 1:rot:2] = x1 * c - x2 * s, x2 * c + x1 * s
    return y.reshape(t, -1)


def rms_norm(x, hs, w, eps):
    t = x.shape[0]
    h = x.reshape(t, -1, hs)
    eps32 = float(np.float32(eps))  # the operator reads eps as float32
    return (h / np.sqrt((h * h).mean(-1, keepdims=True) + eps32) * w.astype(np.float64)).reshape(t, -1)


def to_cache(x, dtype, scale):
    """An element already in the key's dtype, stored in the cache: the bits (the key's dtype) or
    x / scale saturated to the fp8 format's finite range and rounded to nearest even (NaN kept)."""
    if not dtype.startswith("fp8"):
        return x
    y = x.astype(np.float64) / float(np.float32(scale))
    y = np.where(np.isnan(y), y, np.clip(y, -FP8_MAX[dtype], FP8_MAX[dtype]))
    return y.astype(NP[dtype])


def cache_write(cache, src, slots, block_size, layout):
    """reshape_and_cache_flash: token t's [Hk, hs] to block slot // block_size, entry slot % block_size."""
    out = cache.copy()
    view = out if layout == "NHD" else out.transpose(0, 2, 1, 3)
    hk, hs = view.shape[2], view.shape[3]
    for t, s in enumerate(slots):
        if s >= 0:
            view[s // block_size, s % block_size] = src[t].reshape(hk, hs)
    return out


# ---- writing cases ---------------------------------------------------------------------------------

def dtype_name(a):
    for k, v in NP.items():
        if a.dtype == np.dtype(v):
            return k
    return {np.dtype(np.int64): "i64", np.dtype(np.int32): "i32"}[a.dtype]


def tensor(name, a):
    a = np.ascontiguousarray(a)
    return helper.make_tensor(name, ELEM[dtype_name(a)], list(a.shape), vals=a.tobytes(), raw=True)


def write_case(root, name, op, attrs, inputs, outputs):
    """inputs / outputs: lists of (name, array); an input named "" is omitted."""
    node = helper.make_node(op, [n for n, _ in inputs], [n for n, _ in outputs], domain="vllm", **attrs)
    graph = helper.make_graph(
        [node], "vllm_prologue",
        [helper.make_tensor_value_info(n, ELEM[dtype_name(a)], list(a.shape)) for n, a in inputs if n],
        [helper.make_tensor_value_info(n, ELEM[dtype_name(a)], list(a.shape)) for n, a in outputs])
    model = helper.make_model(graph, ir_version=10, opset_imports=[helper.make_opsetid("", 23),
                                                                  helper.make_opsetid("vllm", 1)])
    d = os.path.join(root, name)
    sets = os.path.join(d, "test_data_set_0")
    os.makedirs(sets)
    with open(os.path.join(d, "model.onnx"), "wb") as f:
        f.write(model.SerializeToString())
    for k, (n, a) in enumerate([(n, a) for n, a in inputs if n]):
        with open(os.path.join(sets, "input_%d.pb" % k), "wb") as f:
            f.write(tensor(n, a).SerializeToString())
    for k, (n, a) in enumerate(outputs):
        with open(os.path.join(sets, "output_%d.pb" % k), "wb") as f:
            f.write(tensor(n, a).SerializeToString())
    print("wrote %s: %s %s" % (name, op, attrs))


def cos_sin_cache(rng, rows, rot, dtype):
    ang = rng.uniform(-np.pi, np.pi, size=(rows, rot // 2))  # arbitrary angles: no frequency table
    return rounded(np.concatenate([np.cos(ang), np.sin(ang)], axis=1), dtype)


def qk_norm_cases(root, rng):
    def case(name, dtype, *, t=5, hq=4, hk=2, hv=2, hd=32, rot=0, is_neox=1, w_dtype=None, c_dtype="f32",
             eps=1e-6, section=None, interleaved=0, pos_dtype=np.int64, p=24):
        rot = rot or hd
        qkv = rounded(rng.uniform(-2, 2, size=(t, (hq + hk + hv) * hd)), dtype)
        qw = rounded(rng.uniform(0.3, 1.7, size=hd), w_dtype or dtype)
        kw = rounded(rng.uniform(-1.5, 1.5, size=hd), w_dtype or dtype)
        cache = cos_sin_cache(rng, p, rot, c_dtype)
        pos = rng.integers(0, p, size=(t,) if section is None else (len(section), t)).astype(pos_dtype)
        x = qkv.astype(np.float64)
        want = x.copy()
        for lo, n, w in ((0, hq, qw), (hq * hd, hk, kw)):
            part = rms_norm(x[:, lo: lo + n * hd], hd, w, eps)
            want[:, lo: lo + n * hd] = rotate(part, pos, hd, cache, is_neox, section, interleaved)
        attrs = dict(num_heads_q=hq, num_heads_k=hk, num_heads_v=hv, head_dim=hd, eps=eps, is_neox=is_neox)
        if section is not None:
            attrs.update(mrope_section=section, mrope_interleaved=interleaved)
        write_case(root, name, "FusedQKNormRope", attrs,
                   [("positions", pos), ("qkv", qkv), ("q_weight", qw), ("k_weight", kw), ("cos_sin_cache", cache)],
                   [("qkv_out", rounded(want, dtype))])

    case("qknorm_neox_f32", "f32")
    case("qknorm_gptj_bf16_f32_weights", "bf16", is_neox=0, w_dtype="f32", hq=8, hk=1, hv=1, hd=64)
    case("qknorm_partial_f16_int32", "f16", rot=16, hd=48, c_dtype="f16", pos_dtype=np.int32, hv=0, t=7)
    case("qknorm_mrope_bf16", "bf16", section=[4, 6, 6], t=6)
    case("qknorm_mrope_interleaved_f32", "f32", section=[6, 5, 5], interleaved=1, eps=0.25, t=4)
    case("qknorm_decode_one_token_bf16", "bf16", t=1, hq=32, hk=8, hv=8, hd=128, p=64)


def kv_cache_cases(root, rng):
    def case(name, dtype, kv, *, layout="NHD", t=9, hq=4, hk=2, hs=32, rot=0, is_neox=1, blocks=3, bs=4,
             k_scale=1.0, v_scale=1.0, norm=False, section=None, interleaved=0, three_d=False, p=20,
             attr_kv=True, inverse=0):
        rot = rot or hs
        q = rounded(rng.uniform(-2, 2, size=(t, hq * hs)), dtype)
        k = rounded(rng.uniform(-2, 2, size=(t, hk * hs)), dtype)
        v = rng.uniform(-2, 2, size=(t, hk * hs))
        if kv.startswith("fp8"):  # saturation and NaN through the value (not rotated)
            v[0, :4] = [1e5, -np.inf, np.nan, 3e-4]
        v = rounded(v, dtype)
        cache = cos_sin_cache(rng, p, rot, "f32")
        pos = rng.integers(0, p, size=(t,) if section is None else (len(section), t)).astype(np.int64)
        slots = rng.permutation(blocks * bs)[:t].astype(np.int64)
        slots[[1, t - 1]] = -1  # padded tokens
        shape = (blocks, bs, hk, hs) if layout == "NHD" else (blocks, hk, bs, hs)
        cdt = dtype if kv == "auto" else {"fp8": "fp8_e4m3"}.get(kv, kv)
        kc0 = rounded(rng.uniform(-1, 1, size=shape), cdt)  # what is there before: kept where no slot points
        vc0 = rounded(rng.uniform(-1, 1, size=shape), cdt)
        xq, xk = q.astype(np.float64), k.astype(np.float64)
        inputs_w = []
        if norm:
            qw, kw = rounded(rng.uniform(0.5, 1.5, size=hs), dtype), rounded(rng.uniform(0.5, 1.5, size=hs), "f32")
            xq, xk = rms_norm(xq, hs, qw, 1e-6), rms_norm(xk, hs, kw, 1e-6)
            inputs_w = [("q_weight", qw), ("k_weight", kw)]
        turn = cache.astype(np.float64)
        if inverse:  # rotary_embedding's inverse: the rotation by the negated angle (sin negated)
            turn[:, rot // 2:] = -turn[:, rot // 2:]
        q_out = rounded(rotate(xq, pos, hs, turn, is_neox, section, interleaved), dtype)
        k_out = rounded(rotate(xk, pos, hs, turn, is_neox, section, interleaved), dtype)
        kc = cache_write(kc0, to_cache(k_out, cdt, k_scale), slots, bs, layout)
        vc = cache_write(vc0, to_cache(v, cdt, v_scale), slots, bs, layout)
        if three_d:
            q, k, v, q_out, k_out = (a.reshape(t, -1, hs) for a in (q, k, v, q_out, k_out))
        attrs = dict(head_size=hs, is_neox=is_neox, kv_layout=layout)
        if kv != "auto":
            attrs.update(k_scale=k_scale, v_scale=v_scale)
        if attr_kv:
            attrs["kv_cache_dtype"] = kv
        if section is not None:
            attrs.update(mrope_section=section, mrope_interleaved=interleaved)
        if norm:
            attrs["eps"] = 1e-6
        if inverse:
            attrs["inverse"] = 1
        write_case(root, name, "RotaryEmbeddingAndCache", attrs,
                   [("positions", pos), ("query", q), ("key", k), ("value", v), ("cos_sin_cache", cache),
                    ("key_cache", kc0), ("value_cache", vc0), ("slot_mapping", slots)] + inputs_w,
                   [("query_out", q_out), ("key_out", k_out), ("key_cache_out", kc), ("value_cache_out", vc)])

    case("kvcache_nhd_bf16_auto", "bf16", "auto")
    case("kvcache_hnd_f16_auto_gptj", "f16", "auto", layout="HND", is_neox=0, attr_kv=False)
    case("kvcache_nhd_bf16_fp8_e4m3", "bf16", "fp8_e4m3", k_scale=0.5, v_scale=2.0)
    case("kvcache_hnd_f32_fp8_e5m2", "f32", "fp8_e5m2", layout="HND", k_scale=0.25, v_scale=1.5, rot=16)
    case("kvcache_norm_bf16_fp8", "bf16", "fp8", norm=True, hq=8, hk=2, hs=64, t=6, blocks=2, bs=8)
    case("kvcache_mrope_f32_auto_3d", "f32", "auto", section=[4, 6, 6], three_d=True)
    case("kvcache_inverse_f16_fp8_e4m3", "f16", "fp8_e4m3", k_scale=0.5, v_scale=0.75, rot=16, inverse=1)


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "vllm-prologue")
    if os.path.isdir(root):
        shutil.rmtree(root)
    os.makedirs(root)
    rng = np.random.default_rng(20240616)
    qk_norm_cases(root, rng)
    kv_cache_cases(root, rng)


if __name__ == "__main__":
    main()
