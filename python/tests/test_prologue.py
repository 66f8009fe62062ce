# SPDX-License-Identifier: MIT
"""The fused attention prologue from Python: librope.fused_qk_norm_rope (vLLM's fused_qk_norm_rope) and
librope.rotary_embedding_and_cache (vLLM's rotary_embedding followed by reshape_and_cache_flash, with
the QK-norm optionally), against float64 references written here (RMSNorm in float64, then the
rotation of reference.vllm_ref), fp8 caches against torch's own float8 conversion (saturated first,
as vLLM's kernels saturate: torch's .to(float8) does not), the paged-cache write against vLLM's
reshape_and_cache_flash semantics written out slot by slot, and transformers' Qwen3 attention steps
(q_norm / k_norm, then apply_rotary_pos_emb). Then the torch ops (opcheck, torch.compile fullgraph),
thread counts, and bad input refused with nothing written, caches included."""
import numpy as np
import pytest

import librope
from conftest import angles_cache, make, make_int, need, uniform
from reference import f64, vllm_ref

DTYPES = ["float32", "float16", "bfloat16"]
_REL = {"float32": 2.0 ** -24, "float16": 2.0 ** -11, "bfloat16": 2.0 ** -8}
F32_ULP = 2.0 ** -24
FP8_MAX = {"fp8_e4m3": 448.0, "fp8_e5m2": 57344.0}


def _cache(rng, rows, rot):
    c, s = angles_cache(rng, rows, rot // 2)
    return np.concatenate([c, s], axis=1)  # [P, rot]: cos | sin


def _raw(t):
    """The bytes of a tensor or array (any dtype, float8 included), to compare bit for bit."""
    if hasattr(t, "detach"):
        import torch
        return t.detach().contiguous().view(torch.uint8).numpy().tobytes()
    return np.ascontiguousarray(t).view(np.uint8).tobytes()


def _assert_close(got, ref, mag, dtype, what):
    """|got - ref| within half an ulp of the output dtype (the one rounding) plus the float32 error of
    the computation (a few float32 ulps of `mag`, the size of the terms that were summed)."""
    g = f64(got)
    assert g.shape == ref.shape, f"{what}: shape {g.shape}, expected {ref.shape}"
    tol = _REL[dtype] * np.maximum(np.abs(ref), np.abs(g)) * 1.001 + 64 * F32_ULP * mag
    if dtype == "float16":
        tol = tol + 2.0 ** -25  # subnormals: half the smallest step
    bad = ~(np.abs(g - ref) <= tol)
    assert not bad.any(), f"{what}: {bad.sum()} of {bad.size} off; worst {np.nanmax(np.abs(g - ref)):.3g} ({dtype})"


def _rms_norm(h, w, eps):
    """x * rsqrt(mean(x^2) + eps) * weight over the last axis, in float64 (eps as float32, as rope.h)."""
    r = 1.0 / np.sqrt((h * h).mean(-1, keepdims=True) + float(np.float32(eps)))
    return h * r * f64(w)


def _head_mag(x, hd):
    """Per element: twice the largest |value| of its head (a rotation adds two products)."""
    shape = x.shape
    xs = np.abs(x).reshape(shape[0], -1, hd)
    return np.broadcast_to(2 * xs.max(-1, keepdims=True), xs.shape).reshape(shape)


def qk_norm_ref(qkv, hq, hk, hd, eps, qw, kw, cache, is_neox, pos, section=None, inter=False):
    """fused_qk_norm_rope in float64: (result, magnitude for the tolerance)."""
    x = f64(qkv)
    t = x.shape[0]
    out, mag = x.copy(), np.abs(x)
    for lo, n, w in ((0, hq, qw), (hq * hd, hk, kw)):
        nrm = _rms_norm(x[:, lo: lo + n * hd].reshape(t, n, hd), w, eps).reshape(t, n * hd)
        out[:, lo: lo + n * hd] = vllm_ref(pos, nrm, hd, cache, is_neox, section, inter)
        mag[:, lo: lo + n * hd] = _head_mag(nrm, hd)
    return out, mag


def _qkv(rng, fw, dtype, t, heads, hd, pad):
    """A [T, heads*hd] qkv of random values, its rows `pad` elements apart beyond the row when pad > 0
    (a column slice of a wider buffer, as a fused projection's output is split)."""
    data = uniform(rng, (t, heads * hd + pad), -2.0, 2.0)
    buf = make(fw, dtype, data)
    return buf[:, : heads * hd] if pad else buf


# ---- fused_qk_norm_rope against the float64 reference --------------------------------------------

@pytest.mark.parametrize("fw", ["torch", "numpy"])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("is_neox", [True, False])
@pytest.mark.parametrize("case", range(4))
def test_qk_norm_rope_matches_float64(fw, dtype, is_neox, case, rng):
    need(fw, dtype)
    hd = [64, 128, 80, 32][case]
    rot = [hd, hd, 32, 16][case]  # full and partial rotation
    hq, hk, hv = [(4, 2, 2), (8, 1, 1), (3, 3, 0), (2, 1, 5)][case]
    t, p = [5, 1, 17, 9][case], 40
    pad = [0, 8, 3 * hd, 1][case]  # dense, and strided rows
    w_dtype = [dtype, "float32"][case % 2]  # weights in qkv's dtype or f32
    c_dtype = ["float32", dtype][case // 2]  # cache f32 or qkv's dtype
    eps = [1e-6, 1e-5, 0.0, 0.25][case]
    qkv = _qkv(rng, fw, dtype, t, hq + hk + hv, hd, pad)
    qw, kw = make(fw, w_dtype, uniform(rng, hd, 0.2, 1.8)), make(fw, w_dtype, uniform(rng, hd, -1.5, 1.5))
    cache = make(fw, c_dtype, _cache(rng, p, rot))
    pos = make_int(fw, rng.integers(0, p, size=t), ["int64", "int32"][case % 2])
    want, mag = qk_norm_ref(qkv, hq, hk, hd, eps, qw, kw, cache, is_neox, pos)
    v_before = f64(qkv)[:, (hq + hk) * hd:]
    librope.fused_qk_norm_rope(qkv, hq, hk, hv, hd, eps, qw, kw, cache, is_neox, pos)
    _assert_close(qkv, want, mag, dtype, "qkv")
    assert np.array_equal(f64(qkv)[:, (hq + hk) * hd:], v_before), "v was written"


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("section,inter", [([4, 6, 6], False), ([8, 4, 4], True), ([2, 6, 4, 4], False)])
def test_qk_norm_rope_mrope(dtype, section, inter, rng):
    need("torch")
    t, hq, hk, hv, hd, p = 9, 4, 2, 2, 48, 30
    rot = 2 * sum(section)
    qkv = _qkv(rng, "torch", dtype, t, hq + hk + hv, hd, 0)
    qw, kw = make("torch", dtype, uniform(rng, hd, 0.5, 1.5)), make("torch", "float32", uniform(rng, hd))
    cache = make("torch", "float32", _cache(rng, p, rot))
    pos = make_int("torch", rng.integers(0, p, size=(len(section), t)))
    want, mag = qk_norm_ref(qkv, hq, hk, hd, 1e-6, qw, kw, cache, True, pos, section, inter)
    librope.fused_qk_norm_rope(qkv, hq, hk, hv, hd, 1e-6, qw, kw, cache, True, pos, mrope_section=section,
                               mrope_interleaved=inter)
    _assert_close(qkv, want, mag, dtype, "qkv")


def test_qk_norm_rope_gemma_one_plus_w(rng):
    """Gemma 3's norm multiplies by (1 + w): the caller passes 1 + w, and gets Gemma's result."""
    need("torch")
    import torch
    t, hq, hk, hd = 4, 2, 1, 32
    qkv = _qkv(rng, "torch", "float32", t, hq + 2 * hk, hd, 0)
    w = torch.from_numpy(uniform(rng, hd, -0.5, 0.5)).float()
    cache = make("torch", "float32", _cache(rng, 10, hd))
    pos = make_int("torch", rng.integers(0, 10, size=t))
    x = f64(qkv)
    want = x.copy()
    for lo, n in ((0, hq), (hq * hd, hk)):
        h = x[:, lo: lo + n * hd].reshape(t, n, hd)
        g = h / np.sqrt((h * h).mean(-1, keepdims=True) + 1e-6) * (1.0 + f64(w))
        want[:, lo: lo + n * hd] = vllm_ref(pos, g.reshape(t, -1), hd, cache, True)
    librope.fused_qk_norm_rope(qkv, hq, hk, hk, hd, 1e-6, 1 + w, 1 + w, cache, True, pos)
    assert np.allclose(f64(qkv), want, rtol=1e-5, atol=1e-5)


# ---- rotary_embedding_and_cache ------------------------------------------------------------------

def _fp8_torch(x, scale, kind):
    """torch's float8 conversion of x / scale (float32 division), saturated first as vLLM's kernels do."""
    import torch
    y = x.float() / torch.tensor(scale, dtype=torch.float32)
    y = torch.clamp(y, -FP8_MAX[kind], FP8_MAX[kind])  # NaN stays NaN
    return y.to(torch.float8_e4m3fn if kind == "fp8_e4m3" else torch.float8_e5m2)


def _slots(rng, t, n_slots, padded):
    """Distinct slots in [0, n_slots), some -1 (padded tokens) when padded."""
    s = rng.permutation(n_slots)[:t].astype(np.int64)
    if padded:
        s[rng.random(t) < 0.3] = -1
        s[0] = -1
    return s


def _cache_view(cache, layout):
    """The cache as [num_blocks, block_size, Hk, hs] whatever its layout (a view)."""
    return cache if layout == "NHD" else cache.transpose(1, 2)


def _reshape_and_cache_flash(src, cache, slots, block_size, layout, convert):
    """vLLM's reshape_and_cache_flash, written out slot by slot: token t's [Hk, hs] goes to block
    slot // block_size, entry slot % block_size; a negative slot writes nothing."""
    view = _cache_view(cache, layout)
    t = src.shape[0]
    hk, hs = view.shape[2], view.shape[3]
    for i in range(t):
        s = int(slots[i])
        if s < 0:
            continue
        view[s // block_size, s % block_size] = convert(src[i].reshape(hk, hs))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kv", ["auto", "fp8", "fp8_e4m3", "fp8_e5m2"])
@pytest.mark.parametrize("layout", ["NHD", "HND"])
@pytest.mark.parametrize("is_neox", [True, False])
def test_rope_and_cache_torch(dtype, kv, layout, is_neox, rng):
    need("torch")
    import torch
    kind = "fp8_e4m3" if kv == "fp8" else kv
    t, hq, hk, hs, p = 11, 4, 2, 64, 50
    rot = [hs, 32][int(is_neox)]  # partial rotation with neox
    blocks, bs = 4, 8
    qkv = _qkv(rng, "torch", dtype, t, hq + 2 * hk, hs, 16)  # q, k, v split from a strided qkv
    q, k, v = qkv.split([hq * hs, hk * hs, hk * hs], dim=-1)
    v[0, :6] = torch.tensor([1e5, -1e5, float("inf"), float("nan"), 3e-5, -600.0]).to(v.dtype)  # saturation, NaN
    cache = make("torch", "float32", _cache(rng, p, rot))
    pos = make_int("torch", rng.integers(0, p, size=t))
    slots = _slots(rng, t, blocks * bs, padded=True)
    shape = (blocks, bs, hk, hs) if layout == "NHD" else (blocks, hk, bs, hs)
    cdtype = {"auto": v.dtype, "fp8_e4m3": torch.float8_e4m3fn, "fp8_e5m2": torch.float8_e5m2}[kind]
    kc = torch.from_numpy(rng.integers(0, 256, size=shape, dtype=np.uint8)).view(torch.uint8)
    vc = torch.from_numpy(rng.integers(0, 256, size=shape, dtype=np.uint8))
    if kind == "auto":  # bytes of random values of the dtype (no NaN from random bits)
        kc, vc = make("torch", dtype, uniform(rng, shape)), make("torch", dtype, uniform(rng, shape))
    else:
        kc, vc = kc.view(cdtype), vc.view(cdtype)
    k_scale, v_scale = (torch.tensor(0.75), 1.5) if kind != "auto" else (None, None)
    q_want, k_want = vllm_ref(pos, q, hs, cache, is_neox), vllm_ref(pos, k, hs, cache, is_neox)
    v_before, kc_want, vc_want = v.clone(), kc.clone(), vc.clone()
    librope.rotary_embedding_and_cache(pos, q, k, v, hs, cache, is_neox, kc, vc, torch.from_numpy(slots), kv,
                                       k_scale, v_scale, layout)
    _assert_close(q, q_want, _head_mag(f64(q), hs), dtype, "query")
    _assert_close(k, k_want, _head_mag(f64(k), hs), dtype, "key")
    assert _raw(v) == _raw(v_before), "value was written"
    # the caches: exactly what reshape_and_cache_flash stores from the rotated key and the value
    if kind == "auto":
        conv_k = conv_v = (lambda x: x)
    else:
        conv_k = (lambda x: _fp8_torch(x, 0.75, kind))
        conv_v = (lambda x: _fp8_torch(x, 1.5, kind))
    _reshape_and_cache_flash(k, kc_want, slots, bs, layout, conv_k)
    _reshape_and_cache_flash(v, vc_want, slots, bs, layout, conv_v)
    assert _raw(kc) == _raw(kc_want), "key_cache differs from reshape_and_cache_flash's"
    if kind == "auto":
        assert _raw(vc) == _raw(vc_want), "value_cache differs"
    else:  # NaN's payload aside: the same bytes, and a NaN where torch has one
        a, b = vc.view(torch.uint8), vc_want.view(torch.uint8)
        nan = vc_want.float().isnan()
        assert torch.equal(a[~nan], b[~nan]), "value_cache differs from reshape_and_cache_flash's"
        assert vc[nan].float().isnan().all() and nan.sum() >= 1


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kv", ["auto", "fp8_e4m3", "fp8_e5m2"])
def test_rope_and_cache_numpy_uint8(dtype, kv, rng):
    """NumPy arrays: the caches as uint8 holding fp8 bits (or the key's dtype with "auto"); the bytes
    written are those of the torch path on the same values."""
    need("numpy", dtype)
    need("torch")
    import torch
    t, hq, hk, hs, p, blocks, bs = 6, 2, 1, 32, 20, 3, 4
    q, k, v = (make("numpy", dtype, uniform(rng, (t, h * hs))) for h in (hq, hk, hk))
    cache = make("numpy", dtype, _cache(rng, p, hs))
    pos = rng.integers(0, p, size=t).astype(np.int32)
    slots = _slots(rng, t, blocks * bs, padded=True).astype(np.int32)
    shape = (blocks, bs, hk, hs)
    if kv == "auto":
        kc, vc = make("numpy", dtype, np.zeros(shape)), make("numpy", dtype, np.zeros(shape))
    else:
        kc, vc = np.full(shape, 0x33, np.uint8), np.full(shape, 0x44, np.uint8)
    tq, tk, tv = (torch.from_numpy(f64(x)).to(getattr(torch, dtype)) for x in (q, k, v))
    tdt = {"auto": getattr(torch, dtype), "fp8_e4m3": torch.float8_e4m3fn, "fp8_e5m2": torch.float8_e5m2}[kv]
    tkc = torch.from_numpy(kc.copy().view(np.uint16 if dtype != "float32" else np.float32)
                           if kv == "auto" else kc.copy()).view(tdt)
    tvc = torch.from_numpy(vc.copy().view(np.uint16 if dtype != "float32" else np.float32)
                           if kv == "auto" else vc.copy()).view(tdt)
    k_want = vllm_ref(pos, k, hs, cache, True)
    librope.rotary_embedding_and_cache(pos, q, k, v, hs, cache, True, kc, vc, slots, kv, 0.5, 2.0)
    librope.rotary_embedding_and_cache(torch.from_numpy(pos), tq, tk, tv, hs, torch.from_numpy(f64(cache)).to(tq.dtype),
                                       True, tkc, tvc, torch.from_numpy(slots), kv, 0.5, 2.0)
    assert _raw(kc) == _raw(tkc) and _raw(vc) == _raw(tvc)
    assert np.array_equal(f64(q), f64(tq)) and np.array_equal(f64(k), f64(tk))
    _assert_close(k, k_want, _head_mag(f64(k), hs), dtype, "key")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("layout", ["NHD", "HND"])
def test_rope_and_cache_with_norm_is_the_qwen3_prologue(dtype, layout, rng):
    """With q_weight / k_weight: query and key bitwise those of fused_qk_norm_rope on the packed qkv,
    within the float64 reference, and the cache holds the normalised rotated key."""
    need("torch")
    import torch
    t, hq, hk, hs, p, blocks, bs = 13, 4, 2, 64, 40, 2, 16
    qkv = _qkv(rng, "torch", dtype, t, hq + 2 * hk, hs, 0)
    packed = qkv.clone()
    q, k, v = qkv.split([hq * hs, hk * hs, hk * hs], dim=-1)
    qw, kw = make("torch", "float32", uniform(rng, hs, 0.5, 1.5)), make("torch", dtype, uniform(rng, hs, 0.5, 1.5))
    cache = make("torch", "float32", _cache(rng, p, hs))
    pos = make_int("torch", rng.integers(0, p, size=t))
    slots = torch.from_numpy(_slots(rng, t, blocks * bs, padded=True))
    shape = (blocks, bs, hk, hs) if layout == "NHD" else (blocks, hk, bs, hs)
    kc, vc = torch.zeros(shape, dtype=torch.float8_e4m3fn), torch.zeros(shape, dtype=torch.float8_e4m3fn)
    want, mag = qk_norm_ref(packed, hq, hk, hs, 1e-6, qw, kw, cache, True, pos)
    librope.rotary_embedding_and_cache(pos, q, k, v, hs, cache, True, kc, vc, slots, "fp8", 1.0, 1.0, layout,
                                       q_weight=qw, k_weight=kw, eps=1e-6)
    librope.fused_qk_norm_rope(packed, hq, hk, hk, hs, 1e-6, qw, kw, cache, True, pos)
    assert _raw(qkv) == _raw(packed), "the norm + cache operator differs from fused_qk_norm_rope"
    _assert_close(qkv, want, mag, dtype, "qkv")
    kc_want = torch.zeros(shape, dtype=torch.float8_e4m3fn)
    _reshape_and_cache_flash(k, kc_want, slots.numpy(), bs, layout, lambda x: _fp8_torch(x, 1.0, "fp8_e4m3"))
    assert _raw(kc) == _raw(kc_want)


def test_rope_and_cache_equals_rotary_embedding(rng):
    """Without the norm, query and key are bitwise what librope.rotary_embedding leaves (MRoPE too)."""
    need("torch")
    import torch
    t, hq, hk, hs, p = 10, 4, 2, 64, 30
    section = [8, 12, 12]
    q, k, v = (make("torch", "bfloat16", uniform(rng, (t, h, hs))) for h in (hq, hk, hk))
    cache = make("torch", "float32", _cache(rng, p, hs))
    pos = make_int("torch", rng.integers(0, p, size=(3, t)))
    q2, k2 = q.clone(), k.clone()
    kc, vc = torch.zeros(2, 8, hk, hs, dtype=torch.bfloat16), torch.zeros(2, 8, hk, hs, dtype=torch.bfloat16)
    slots = torch.arange(t)
    librope.rotary_embedding_and_cache(pos, q, k, v, hs, cache, True, kc, vc, slots, mrope_section=section,
                                       mrope_interleaved=True)
    librope.rotary_embedding(pos, q2, k2, hs, cache, True, mrope_section=section, mrope_interleaved=True)
    assert torch.equal(q, q2) and torch.equal(k, k2)
    assert torch.equal(kc.view(-1, hk, hs)[:t], k) and torch.equal(vc.view(-1, hk, hs)[:t], v)


@pytest.mark.parametrize("fw", ["torch", "numpy"])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("is_neox", [True, False])
def test_rope_and_cache_inverse(fw, dtype, is_neox, rng):
    """inverse=True (vLLM rotary_embedding's): query and key rotated by the negated angle, against the
    float64 reference on the cache with its sin half negated; the key cache holds the rotated key;
    bitwise librope.rotary_embedding(..., inverse=True) followed by the cache write."""
    if fw == "torch":
        need("torch")
    t, hq, hk, hs, p = 9, 3, 2, 32, 20
    rot = [hs, 16][int(is_neox)]
    q, k, v = (make(fw, dtype, uniform(rng, (t, h * hs))) for h in (hq, hk, hk))
    table = _cache(rng, p, rot)
    cache = make(fw, "float32", table)
    negated = f64(cache).copy()
    negated[:, rot // 2:] = -negated[:, rot // 2:]
    pos = make_int(fw, rng.integers(0, p, size=t))
    slots = _slots(rng, t, 4 * 4, padded=True)
    kc, vc = (make(fw, dtype, np.zeros((4, 4, hk, hs))) for _ in range(2))
    q_want, k_want = vllm_ref(pos, q, hs, negated, is_neox), vllm_ref(pos, k, hs, negated, is_neox)
    q2, k2 = (x.clone() if fw == "torch" else x.copy() for x in (q, k))
    librope.rotary_embedding_and_cache(pos, q, k, v, hs, cache, is_neox, kc, vc,
                                       make_int(fw, slots), inverse=True)
    _assert_close(q, q_want, _head_mag(f64(q), hs), dtype, "query")
    _assert_close(k, k_want, _head_mag(f64(k), hs), dtype, "key")
    librope.rotary_embedding(pos, q2, k2, hs, cache, is_neox, 0, True)
    assert _raw(q) == _raw(q2) and _raw(k) == _raw(k2), "not bitwise rotary_embedding(..., inverse=True)"
    kc_want, vc_want = (make(fw, dtype, np.zeros((4, 4, hk, hs))) for _ in range(2))
    _reshape_and_cache_flash(k, kc_want, slots, 4, "NHD", lambda x: x)
    _reshape_and_cache_flash(v, vc_want, slots, 4, "NHD", lambda x: x)
    assert _raw(kc) == _raw(kc_want) and _raw(vc) == _raw(vc_want), "the caches differ from the rotated key's write"


def test_rope_and_cache_inverse_refused(rng):
    """inverse must be a flag; the C attributes' refusals name the field (rope_dim_offset is not
    taken with the cache write: rotary_embedding then the cache write does it)."""
    need("torch")
    a = _kv_args(rng, "auto")
    with pytest.raises(ValueError, match="rotary_embedding_and_cache: inverse must be True or False"):
        librope.rotary_embedding_and_cache(*a.values(), inverse=2)


# ---- transformers' Qwen3 attention steps ---------------------------------------------------------

def _qwen3_steps():
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    from families import make_config, modeling
    return make_config("qwen3"), modeling("qwen3")


@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
def test_qwen3_attention_prologue(dtype, rng):
    """transformers' Qwen3Attention: q_proj / k_proj / v_proj, q_norm / k_norm (Qwen3RMSNorm), then
    apply_rotary_pos_emb with the model's own rotary embedding; librope does the norm and rotation on
    the packed projections in one call. float32: within a few float32 ulps of the head's size;
    bfloat16: transformers rounds four times (the normalised x, x * w, each product and the sum) where
    librope rounds once, so within two bf16 ulps of the head's size."""
    import torch
    config, m = _qwen3_steps()
    torch.manual_seed(int(rng.integers(1 << 30)))
    tdt = getattr(torch, dtype)
    attn = m.Qwen3Attention(config, layer_idx=0).to(tdt).eval()
    with torch.no_grad():
        attn.q_norm.weight.uniform_(0.5, 1.5)
        attn.k_norm.weight.uniform_(0.5, 1.5)
    rotary = m.Qwen3RotaryEmbedding(config=config)
    hd, hq, hk = config.head_dim, config.num_attention_heads, config.num_key_value_heads
    t, p = 12, 200
    pos = torch.from_numpy(rng.integers(0, p, size=t))
    hidden = torch.randn(1, t, config.hidden_size).to(tdt)
    with torch.no_grad():
        q = attn.q_proj(hidden).view(1, t, hq, hd)
        k = attn.k_proj(hidden).view(1, t, hk, hd)
        v = attn.v_proj(hidden).view(1, t, hk, hd)
        cos, sin = rotary(hidden.float(), pos[None])
        want_q, want_k = m.apply_rotary_pos_emb(attn.q_norm(q).transpose(1, 2), attn.k_norm(k).transpose(1, 2),
                                                cos.to(tdt), sin.to(tdt))
        # the cache: each position's row [cos(0..hd/2) | sin(0..hd/2)], from the same rotary embedding
        call, sall = rotary(hidden.float(), torch.arange(p)[None])
        table = torch.cat([call[0, :, : hd // 2], sall[0, :, : hd // 2]], dim=-1).float()
        qkv = torch.cat([q, k, v], dim=2).reshape(t, -1).contiguous()
        librope.fused_qk_norm_rope(qkv, hq, hk, hk, hd, attn.q_norm.variance_epsilon, attn.q_norm.weight,
                                   attn.k_norm.weight, table, True, pos)
    got_q = qkv[:, : hq * hd].view(t, hq, hd).float()
    got_k = qkv[:, hq * hd: (hq + hk) * hd].view(t, hk, hd).float()
    for got, want in ((got_q, want_q[0].transpose(0, 1).float()), (got_k, want_k[0].transpose(0, 1).float())):
        scale = want.abs().amax(-1, keepdim=True)
        tol = scale * (16 * F32_ULP if dtype == "float32" else 2 * 2.0 ** -7)
        assert ((got - want).abs() <= tol).all(), f"worst {(got - want).abs().max():.3g}"


# ---- threads -------------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES)
def test_threads_bitwise(dtype, rng):
    """1 and 2 threads give the same bits (the sum of squares has one order), both operators."""
    need("torch")
    import torch
    t, hq, hk, hs, p = 300, 8, 2, 128, 400
    base = _qkv(rng, "torch", dtype, t, hq + 2 * hk, hs, 0)
    qw, kw = make("torch", dtype, uniform(rng, hs, 0.5, 1.5)), make("torch", dtype, uniform(rng, hs, 0.5, 1.5))
    cache = make("torch", "float32", _cache(rng, p, hs))
    pos = make_int("torch", rng.integers(0, p, size=t))
    slots = torch.from_numpy(_slots(rng, t, 320, padded=True))
    before = librope.get_num_threads()
    results = []
    try:
        for n in (1, 2):
            librope.set_num_threads(n)
            a = base.clone()
            librope.fused_qk_norm_rope(a, hq, hk, hk, hs, 1e-6, qw, kw, cache, False, pos)
            b = base.clone()
            q, k, v = b.split([hq * hs, hk * hs, hk * hs], dim=-1)
            kc = torch.zeros(20, 16, hk, hs, dtype=torch.float8_e5m2)
            vc = torch.zeros(20, 16, hk, hs, dtype=torch.float8_e5m2)
            librope.rotary_embedding_and_cache(pos, q, k, v, hs, cache, True, kc, vc, slots, "fp8_e5m2", 0.5, 0.5,
                                               q_weight=qw, k_weight=kw)
            results.append((_raw(a), _raw(b), _raw(kc), _raw(vc)))
    finally:
        librope.set_num_threads(before)
    assert results[0] == results[1]


# ---- bad input: a precise error, nothing written -------------------------------------------------

def _qk_args(rng):
    import torch
    t, hq, hk, hv, hd, p = 4, 2, 1, 1, 32, 10
    return dict(qkv=make("torch", "bfloat16", uniform(rng, (t, (hq + hk + hv) * hd))), num_heads_q=hq,
                num_heads_k=hk, num_heads_v=hv, head_dim=hd, eps=1e-6,
                q_weight=make("torch", "bfloat16", uniform(rng, hd)), k_weight=torch.ones(hd),
                cos_sin_cache=make("torch", "float32", _cache(rng, p, hd)), is_neox=True,
                position_ids=torch.from_numpy(rng.integers(0, p, size=t)))


QK_BAD = [  # (change, status, words the message must hold)
    (dict(num_heads_q=3), "ROPE_ERROR_SHAPE", ["qkv"]),
    (dict(num_heads_k=-1), "ROPE_ERROR_ATTRIBUTE", ["num_heads_k"]),
    (dict(head_dim=16), "ROPE_ERROR_SHAPE", []),
    (dict(eps=float("nan")), "ROPE_ERROR_ATTRIBUTE", ["eps"]),
    (dict(eps=-1.0), "ROPE_ERROR_ATTRIBUTE", ["eps"]),
    (dict(q_weight="ones31"), "ROPE_ERROR_SHAPE", ["q_weight"]),
    (dict(k_weight="f16"), "ROPE_ERROR_DTYPE", ["k_weight"]),
    (dict(position_ids="oob"), "ROPE_ERROR_INDEX", ["10"]),
    (dict(position_ids="short"), "ROPE_ERROR_SHAPE", []),
    (dict(cos_sin_cache="odd"), "ROPE_ERROR_SHAPE", []),
    (dict(mrope_section=[4, 6, 6]), "ROPE_ERROR", []),
]


def _apply_change(args, change):
    import torch
    a = dict(args)
    for key, val in change.items():
        if val == "ones31":
            val = torch.ones(31, dtype=torch.bfloat16)
        elif val == "f16":
            val = torch.ones(a["head_dim"], dtype=torch.float16)
        elif val == "oob":
            val = a["position_ids"].clone()
            val[-1] = 10
        elif val == "short":
            val = a["position_ids"][:-1].clone()
        elif val == "odd":
            val = torch.ones(10, 31)
        a[key] = val
    return a


@pytest.mark.parametrize("index", range(len(QK_BAD)))
def test_qk_norm_rope_errors(index, rng):
    need("torch")
    change, status, words = QK_BAD[index]
    a = _apply_change(_qk_args(rng), change)
    before = _raw(a["qkv"])
    kw = {k: a.pop(k) for k in ("mrope_section",) if k in a}
    with pytest.raises(librope.RopeError) as e:
        librope.fused_qk_norm_rope(*a.values(), **kw)
    assert e.value.status.startswith(status), (e.value.status, str(e.value))
    for w in words:
        assert w in str(e.value), str(e.value)
    assert _raw(a["qkv"]) == before, "qkv written on error"


def _kv_args(rng, kv="fp8"):
    import torch
    t, hq, hk, hs, p = 6, 2, 1, 32, 12
    q, k, v = (make("torch", "float16", uniform(rng, (t, h * hs))) for h in (hq, hk, hk))
    dt = torch.float16 if kv == "auto" else torch.float8_e4m3fn
    kc = torch.from_numpy(rng.integers(0, 120, size=(3, 4, hk, hs), dtype=np.uint8))
    vc = torch.from_numpy(rng.integers(0, 120, size=(3, 4, hk, hs), dtype=np.uint8))
    if kv == "auto":
        kc, vc = make("torch", "float16", uniform(rng, (3, 4, hk, hs))), make("torch", "float16",
                                                                                 uniform(rng, (3, 4, hk, hs)))
    return dict(positions=torch.from_numpy(rng.integers(0, p, size=t)), query=q, key=k, value=v, head_size=hs,
                cos_sin_cache=make("torch", "float32", _cache(rng, p, hs)), is_neox=True, key_cache=kc.view(dt),
                value_cache=vc.view(dt), slot_mapping=torch.tensor([0, 5, -1, 11, 2, 7]), kv_cache_dtype=kv,
                k_scale=0.5, v_scale=0.5, kv_layout="NHD")


def _bad_kv(a, what):
    import torch
    if what == "slot_oob":
        a["slot_mapping"] = torch.tensor([0, 5, -1, 12, 2, 7])
    elif what == "slot_twice":
        a["slot_mapping"] = torch.tensor([0, 5, -1, 5, 2, 7])
    elif what == "slot_short":
        a["slot_mapping"] = torch.tensor([0, 5, -1, 4, 2])
    elif what == "pos_oob":
        a["positions"] = torch.tensor([0, 1, 2, 3, 4, 12])
    elif what == "scale_zero":
        a["k_scale"] = 0.0
    elif what == "scale_nan":
        a["v_scale"] = torch.tensor(float("nan"))
    elif what == "layout":
        a["kv_layout"] = "NCHW"
    elif what == "kv_name":
        a["kv_cache_dtype"] = "int8"
    elif what == "kv_kind":
        a["kv_cache_dtype"] = "fp8_e5m2"
    elif what == "kv_auto_u8":
        a["kv_cache_dtype"] = "auto"
        a["key_cache"] = a["key_cache"].view(torch.uint8)
    elif what == "cache_heads":
        a["value_cache"] = a["value_cache"][:, :, :0]
    elif what == "cache_dims":
        a["key_cache"] = a["key_cache"][:2]
    elif what == "value_shape":
        a["value"] = a["value"][:, :16]
    elif what == "one_weight":
        a["q_weight"] = torch.ones(32)
    elif what == "weight_shape":
        a["q_weight"], a["k_weight"] = torch.ones(32), torch.ones(16)
    return a


KV_BAD = [("slot_oob", "ROPE_ERROR_INDEX", ["slot_mapping[3]"]), ("slot_twice", "ROPE_ERROR_INDEX", ["slot_mapping"]),
          ("slot_short", "ROPE_ERROR_SHAPE", ["slot_mapping"]), ("pos_oob", "ROPE_ERROR_INDEX", []),
          ("scale_zero", "ROPE_ERROR_ATTRIBUTE", ["scale"]), ("scale_nan", "ROPE_ERROR_ATTRIBUTE", ["scale"]),
          ("layout", "ROPE_ERROR_ATTRIBUTE", ["kv_layout", "NCHW"]),
          ("kv_name", "ROPE_ERROR_ATTRIBUTE", ["kv_cache_dtype", "int8"]),
          ("kv_kind", "ROPE_ERROR_DTYPE", ["key_cache", "fp8_e5m2"]),
          ("kv_auto_u8", "ROPE_ERROR_DTYPE", ["key_cache", "uint8"]),
          ("cache_heads", "ROPE_ERROR_SHAPE", ["value_cache"]), ("cache_dims", "ROPE_ERROR_SHAPE", ["key_cache"]),
          ("value_shape", "ROPE_ERROR_SHAPE", ["value"]), ("one_weight", "ROPE_ERROR_NULL_ARGUMENT", ["weight"]),
          ("weight_shape", "ROPE_ERROR_SHAPE", ["k_weight"])]


@pytest.mark.parametrize("index", range(len(KV_BAD)))
def test_rope_and_cache_errors(index, rng):
    need("torch")
    what, status, words = KV_BAD[index]
    a = _bad_kv(_kv_args(rng), what)
    kw = {k: a.pop(k) for k in ("q_weight", "k_weight") if k in a}
    written = ("query", "key", "key_cache", "value_cache")
    before = {n: _raw(a[n]) for n in written}
    with pytest.raises(librope.RopeError) as e:
        librope.rotary_embedding_and_cache(*a.values(), **kw)
    assert e.value.status == status, (e.value.status, str(e.value))
    for w in words:
        assert w in str(e.value), str(e.value)
    for n in written:
        assert _raw(a[n]) == before[n], f"{n} written on error"


def test_errors_numpy_nothing_written(rng):
    """The same refusals from NumPy arrays (uint8 caches): a slot past the cache, nothing written."""
    t, hk, hs = 4, 1, 16
    q, k, v = (uniform(rng, (t, hk * hs)).astype(np.float32) for _ in range(3))
    kc, vc = np.full((2, 2, hk, hs), 7, np.uint8), np.full((2, 2, hk, hs), 9, np.uint8)
    cache = _cache(rng, 5, hs).astype(np.float32)
    before = [x.copy() for x in (q, k, kc, vc)]
    with pytest.raises(librope.RopeError, match="slot_mapping"):
        librope.rotary_embedding_and_cache(np.arange(t), q, k, v, hs, cache, True, kc, vc, np.array([0, 1, 2, 4]),
                                           "fp8_e4m3", 1.0, 1.0)
    for b, x in zip(before, (q, k, kc, vc)):
        assert np.array_equal(b, x)


def test_requires_grad_refused(rng):
    need("torch")
    a = _qk_args(rng)
    a["qkv"].requires_grad_(True)
    with pytest.raises(RuntimeError, match="requires grad"):
        librope.fused_qk_norm_rope(*a.values())


# ---- torch.library ops ---------------------------------------------------------------------------

def _ops():
    torch = pytest.importorskip("torch")
    librope.load_torch_ops()
    return torch, torch.ops.librope


def _qk_samples(rng):
    import torch
    a = _qk_args(rng)
    yield tuple(a.values()) + (None, False)
    t, hd = 5, 64
    qkv = make("torch", "float16", uniform(rng, (t, 8 * hd + 8)))[:, : 6 * hd]  # strided rows
    yield (qkv, 3, 2, 1, hd, 1e-5, torch.ones(hd), make("torch", "float16", uniform(rng, hd)),
           make("torch", "float32", _cache(rng, 9, 32)), False, torch.from_numpy(rng.integers(0, 9, size=(3, t))),
           [4, 6, 6], False)


def _kv_samples(rng):
    import torch
    a = _kv_args(rng)
    args = list(a.values())
    args[11], args[12] = torch.tensor(0.5), torch.tensor(0.25)
    # opcheck compares the mutated caches with arithmetic torch lacks for float8 ("mul" not implemented
    # for Float8_e4m3fn): the same bits as uint8 here (test_torch_compile_fullgraph runs float8 caches)
    args[7], args[8] = args[7].view(torch.uint8), args[8].view(torch.uint8)
    yield tuple(args) + (None, None, 1e-6, None, False)
    yield tuple(args) + (None, None, 1e-6, None, False, True)  # inverse
    b = _kv_args(rng, "auto")
    hs = b["head_size"]
    b["key_cache"], b["value_cache"] = (b[n].transpose(1, 2).contiguous() for n in ("key_cache", "value_cache"))
    yield tuple(b.values())[:11] + (None, None, "HND", torch.ones(hs), torch.ones(hs, dtype=torch.float16), 1e-6,
                                    None, False)


def test_opcheck_fused_qk_norm_rope(rng):
    torch, ops = _ops()
    for args in _qk_samples(rng):
        torch.library.opcheck(ops.fused_qk_norm_rope, args)


def test_opcheck_rotary_embedding_and_cache(rng):
    torch, ops = _ops()
    for args in _kv_samples(rng):
        torch.library.opcheck(ops.rotary_embedding_and_cache, args)


def test_op_schemas():
    torch, ops = _ops()
    for name, written in (("fused_qk_norm_rope", {"qkv"}),
                          ("rotary_embedding_and_cache", {"query", "key", "key_cache", "value_cache"})):
        schema = getattr(ops, name).default._schema
        got = {a.name for a in schema.arguments if a.alias_info is not None and a.alias_info.is_write}
        assert got == written and str(schema).endswith("-> ()"), str(schema)


def test_torch_compile_fullgraph(rng):
    """torch.compile(fullgraph=True) traces both ops (float scales become constants) and leaves the
    eager call's bits, fp8 caches included."""
    torch, _ = _ops()
    t, hq, hk, hs, p = 7, 4, 2, 64, 30
    qkv0 = make("torch", "bfloat16", uniform(rng, (t, (hq + 2 * hk) * hs)))
    qw, kw = make("torch", "bfloat16", uniform(rng, hs, 0.5, 1.5)), make("torch", "bfloat16", uniform(rng, hs))
    cache = make("torch", "float32", _cache(rng, p, hs))
    pos = torch.from_numpy(rng.integers(0, p, size=t))
    slots = torch.from_numpy(_slots(rng, t, 16, padded=True))

    def prologue(qkv, kc, vc):
        librope.fused_qk_norm_rope(qkv, hq, hk, hk, hs, 1e-6, qw, kw, cache, True, pos)
        q, k, v = qkv.split([hq * hs, hk * hs, hk * hs], dim=-1)
        q2, k2 = q * 1, k * 1  # a second, unnormalised pass into the cache
        librope.rotary_embedding_and_cache(pos, q2, k2, v, hs, cache, True, kc, vc, slots, "fp8", 0.5, 2.0, "HND")
        return q2 + 1, k2

    compiled = torch.compile(prologue, fullgraph=True, backend="aot_eager")
    outs = []
    for fn in (prologue, compiled):
        qkv = qkv0.clone()
        kc = torch.zeros(2, hk, 8, hs, dtype=torch.float8_e4m3fn)
        vc = torch.zeros(2, hk, 8, hs, dtype=torch.float8_e4m3fn)
        r = fn(qkv, kc, vc)
        outs.append((_raw(qkv), _raw(kc), _raw(vc), _raw(r[0]), _raw(r[1])))
    assert outs[0] == outs[1]
