# SPDX-License-Identifier: MIT
"""librope.rotary_embedding (vLLM's in-place call) against the float64 reference and transformers'
Qwen2-VL MRoPE. The reference itself is checked too, against the ONNX operator and against
transformers."""
import numpy as np
import pytest

import librope
from conftest import KINDS, angles_cache, assert_close, make, make_int, need, uniform
from reference import f64, onnx_ref, vllm_pair_axes, vllm_ref


def _cache(rng, rows, rot):
    c, s = angles_cache(rng, rows, rot // 2)
    return np.concatenate([c, s], axis=1)  # [P, rot]: cos | sin


# ---- the reference, checked now ----------------------------------------------------------------

@pytest.mark.parametrize("is_neox", [True, False])
def test_reference_plain_equals_onnx(is_neox, rng):
    """Plain vLLM RoPE = ONNX RotaryEmbedding (halves = neox, interleaved = GPT-J) with the same rows."""
    t, h, hs, rot, p = 7, 3, 16, 8, 20
    cache = _cache(rng, p, rot)
    pos = rng.integers(0, p, size=t)
    q = uniform(rng, (t, h * hs))
    want = vllm_ref(pos, q, hs, cache, is_neox)
    onnx = onnx_ref(q[None].astype(np.float32), cache[:, : rot // 2], cache[:, rot // 2:], pos[None],
                    0 if is_neox else 1, rot, h)[0]
    assert np.allclose(want, onnx, atol=1e-6)


def _qwen2_vl_mrope():
    """transformers' Qwen2-VL MRoPE as f(q, k, cos3, sin3, section): 4.x's apply_multimodal_rotary_pos_emb
    (cos3 / sin3 [3, B, S, hs], each axis's full row); in 5.x the section assembly moved into
    Qwen2VLRotaryEmbedding.recomposition_frequencies (reading self.mrope_section), followed by the
    plain apply_rotary_pos_emb."""
    from transformers.models.qwen2_vl import modeling_qwen2_vl as m
    if hasattr(m, "apply_multimodal_rotary_pos_emb"):
        return m.apply_multimodal_rotary_pos_emb
    from types import SimpleNamespace

    def mrope(q, k, cos3, sin3, section):
        owner, half = SimpleNamespace(mrope_section=section), cos3.shape[-1] // 2
        cos = m.Qwen2VLRotaryEmbedding.recomposition_frequencies(owner, cos3[..., :half])
        sin = m.Qwen2VLRotaryEmbedding.recomposition_frequencies(owner, sin3[..., :half])
        return m.apply_rotary_pos_emb(q, k, cos, sin)
    return mrope


def _qwen3_vl_interleaved(freqs, section):
    """Qwen3-VL's interleaved MRoPE assembly of freqs [3, B, S, hs/2] into [B, S, hs/2]: 4.x's
    apply_interleaved_mrope, 5.x's recomposition_frequencies (which returns both halves)."""
    from types import SimpleNamespace
    from transformers.models.qwen3_vl.modeling_qwen3_vl import Qwen3VLTextRotaryEmbedding as R
    if hasattr(R, "apply_interleaved_mrope"):
        return R.apply_interleaved_mrope(None, freqs, section)
    return R.recomposition_frequencies(SimpleNamespace(mrope_section=section), freqs.clone())[..., : freqs.shape[-1]]


def test_reference_mrope_vs_qwen2_vl(rng):
    torch = pytest.importorskip("torch")
    pytest.importorskip("transformers")
    apply_multimodal_rotary_pos_emb = _qwen2_vl_mrope()
    t, h, hk, hs, p = 11, 4, 2, 32, 50
    section = [4, 6, 6]  # sums to hs/2
    cache = _cache(rng, p, hs)
    pos = rng.integers(0, p, size=(3, t))
    q, k = uniform(rng, (t, h * hs)), uniform(rng, (t, hk * hs))
    half = hs // 2
    cos3 = np.concatenate([cache[pos, :half]] * 2, axis=-1)[:, None]  # [3, 1, t, hs]
    sin3 = np.concatenate([cache[pos, half:]] * 2, axis=-1)[:, None]
    tq = torch.from_numpy(q.reshape(1, t, h, hs).transpose(0, 2, 1, 3).copy())
    tk = torch.from_numpy(k.reshape(1, t, hk, hs).transpose(0, 2, 1, 3).copy())
    wq, wk = apply_multimodal_rotary_pos_emb(tq, tk, torch.from_numpy(cos3), torch.from_numpy(sin3), section)
    assert np.allclose(vllm_ref(pos, q, hs, cache, True, section), wq[0].transpose(0, 1).reshape(t, -1).numpy(),
                       atol=1e-12)
    assert np.allclose(vllm_ref(pos, k, hs, cache, True, section), wk[0].transpose(0, 1).reshape(t, -1).numpy(),
                       atol=1e-12)


def test_reference_interleaved_axes_vs_qwen3_vl():
    torch = pytest.importorskip("torch")
    pytest.importorskip("transformers")
    try:
        from transformers.models.qwen3_vl.modeling_qwen3_vl import Qwen3VLTextRotaryEmbedding
    except ImportError:
        pytest.skip("this transformers has no Qwen3-VL")
    section, half = [24, 20, 20], 64
    freqs = torch.arange(3, dtype=torch.float64)[:, None, None, None].expand(3, 1, 1, half).clone()
    axes = _qwen3_vl_interleaved(freqs, section)[0, 0].long().numpy()
    assert np.array_equal(vllm_pair_axes(half, section, True), axes)


# ---- the operator (skipped until the C library has it) -------------------------------------------

CASES = [  # (query layout, tokens, heads_q, heads_k or 0, head_size, rot, is_neox)
    ("2d", 1, 1, 1, 8, 8, True), ("2d", 9, 8, 2, 64, 64, True), ("2d", 5, 4, 4, 32, 16, False),
    ("3d", 6, 4, 1, 16, 16, False), ("bs", 8, 2, 2, 64, 32, True), ("2d", 7, 3, 0, 16, 16, True),
]


def _layout(framework, dtype, rng, layout, t, heads, hs):
    if layout == "3d":
        return make(framework, dtype, uniform(rng, (t, heads, hs)))
    if layout == "bs":
        return make(framework, dtype, uniform(rng, (2, t // 2, heads * hs)))
    return make(framework, dtype, uniform(rng, (t, heads * hs)))


@pytest.mark.parametrize("framework,dtype", KINDS)
@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("cache_f32", [False, True])
def test_plain(framework, dtype, case, cache_f32, rng):
    need(framework, dtype)
    layout, t, hq, hk, hs, rot, is_neox = case
    p = 40
    cache = make(framework, "float32" if cache_f32 else dtype, _cache(rng, p, rot))
    pos_shape = (2, t // 2) if layout == "bs" else (t,)
    pos = make_int(framework, rng.integers(0, p, size=pos_shape), "int64" if t % 2 else "int32")
    q = _layout(framework, dtype, rng, layout, t, hq, hs)
    k = _layout(framework, dtype, rng, layout, t, hk, hs) if hk else None
    want_q = vllm_ref(pos, q, hs, cache, is_neox)
    want_k = vllm_ref(pos, k, hs, cache, is_neox) if hk else None
    assert librope.rotary_embedding(pos, q, k, hs, cache, is_neox) is None
    assert_close(q, want_q, dtype, "query")
    if hk:
        assert_close(k, want_k, dtype, "key")


@pytest.mark.parametrize("framework,dtype", KINDS)
@pytest.mark.parametrize("section,interleaved", [([4, 6, 6], False), ([2, 2, 6, 6], False), ([6, 5, 5], True),
                                                 ([5, 6, 5], False)])
def test_mrope(framework, dtype, section, interleaved, rng):
    need(framework, dtype)
    t, hq, hk, hs, p = 10, 4, 2, 32, 64
    cache = make(framework, "float32", _cache(rng, p, hs))
    pos = make_int(framework, rng.integers(0, p, size=(len(section), t)))
    q = make(framework, dtype, uniform(rng, (t, hq * hs)))
    k = make(framework, dtype, uniform(rng, (t, hk * hs)))
    want_q = vllm_ref(pos, q, hs, cache, True, section, interleaved)
    want_k = vllm_ref(pos, k, hs, cache, True, section, interleaved)
    librope.rotary_embedding(pos, q, k, hs, cache, True, mrope_section=section, mrope_interleaved=interleaved)
    assert_close(q, want_q, dtype, "query")
    assert_close(k, want_k, dtype, "key")


def test_mrope_vs_qwen2_vl_operator(rng):
    torch = pytest.importorskip("torch")
    pytest.importorskip("transformers")
    apply_multimodal_rotary_pos_emb = _qwen2_vl_mrope()
    t, h, hk, hs, p = 12, 4, 2, 64, 100
    section = [8, 12, 12]
    cache = torch.from_numpy(_cache(rng, p, hs)).float()
    pos = torch.from_numpy(rng.integers(0, p, size=(3, t)))
    q = torch.from_numpy(uniform(rng, (t, h * hs))).float()
    k = torch.from_numpy(uniform(rng, (t, hk * hs))).float()
    half = hs // 2
    cos3 = torch.cat([cache[pos, :half]] * 2, dim=-1)[:, None]
    sin3 = torch.cat([cache[pos, half:]] * 2, dim=-1)[:, None]
    wq, wk = apply_multimodal_rotary_pos_emb(q.view(1, t, h, hs).transpose(1, 2), k.view(1, t, hk, hs).transpose(1, 2),
                                             cos3, sin3, section)
    librope.rotary_embedding(pos, q, k, hs, cache, True, mrope_section=section)
    assert torch.allclose(q, wq[0].transpose(0, 1).reshape(t, -1), atol=2e-6)
    assert torch.allclose(k, wk[0].transpose(0, 1).reshape(t, -1), atol=2e-6)


@pytest.mark.parametrize("framework,dtype", KINDS)
def test_fused_qkv_in_place(framework, dtype, rng):
    need(framework, dtype)
    t, hq, hk, hs, p = 6, 4, 2, 16, 30
    qkv = make(framework, dtype, uniform(rng, (t, (hq + 2 * hk) * hs)))
    before = f64(qkv).copy()
    q, k = qkv[:, : hq * hs], qkv[:, hq * hs:(hq + hk) * hs]
    cache = make(framework, dtype, _cache(rng, p, hs))
    pos = make_int(framework, rng.integers(0, p, size=t))
    want_q, want_k = vllm_ref(pos, q, hs, cache, True), vllm_ref(pos, k, hs, cache, True)
    librope.rotary_embedding(pos, q, k, hs, cache)
    after = f64(qkv)
    assert_close(after[:, : hq * hs], want_q, dtype, "q in qkv")
    assert_close(after[:, hq * hs:(hq + hk) * hs], want_k, dtype, "k in qkv")
    assert np.array_equal(after[:, (hq + hk) * hs:], before[:, (hq + hk) * hs:])


def test_errors_write_nothing(rng):
    q = uniform(rng, (4, 32)).astype(np.float32)
    k = uniform(rng, (4, 16)).astype(np.float32)
    cache = _cache(rng, 10, 16).astype(np.float32)
    q0, k0 = q.copy(), k.copy()
    with pytest.raises(librope.RopeError) as e:
        librope.rotary_embedding(np.array([1, 2, 10, 3]), q, k, 16, cache)
    assert e.value.status == "ROPE_ERROR_INDEX"
    with pytest.raises(librope.RopeError) as e:
        librope.rotary_embedding(np.array([1, 2, 3, 4]), q, k, 16, cache, mrope_section=[2, 2, 2])
    assert e.value.status in ("ROPE_ERROR_ATTRIBUTE", "ROPE_ERROR_RANK", "ROPE_ERROR_SHAPE")
    with pytest.raises(librope.RopeError) as e:
        librope.rotary_embedding(np.array([1, 2, 3, 4]), q.T, k, 16, cache)
    assert e.value.status == "ROPE_ERROR_STRIDE" and "query" in str(e.value)
    assert np.array_equal(q, q0) and np.array_equal(k, k0)


def test_refuses_tensors_that_require_grad(rng):
    torch = pytest.importorskip("torch")
    q = torch.zeros(2, 16, requires_grad=True)
    with pytest.raises(RuntimeError, match="query requires grad"):
        librope.rotary_embedding(torch.tensor([0, 1]), q, None, 16, torch.zeros(4, 16))


def test_every_build_has_the_operator():
    assert librope.has_vllm() is True
