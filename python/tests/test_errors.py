# SPDX-License-Identifier: MIT
"""Every refusal: RopeError (a ValueError) with the library's message and status name, the argument
named, and nothing written; TypeError for what is no tensor."""
import numpy as np
import pytest

import librope
from conftest import angles_cache, make, make_int, need, uniform
from reference import f64


def _onnx_args(framework, rng, dtype="float32"):
    x = make(framework, dtype, uniform(rng, (1, 2, 3, 8)))
    c, s = angles_cache(rng, 10, 4)
    return x, make(framework, dtype, c), make(framework, dtype, s), make_int(framework, [[1, 2, 3]])


def _refused(status, words, fn, out=None):
    """fn() raises RopeError with `status`, a message containing every word, and leaves out as it was."""
    before = None if out is None else f64(out).copy()
    with pytest.raises(librope.RopeError) as e:
        fn()
    assert isinstance(e.value, ValueError)
    assert e.value.status == status, f"{e.value.status}: {e.value}"
    for w in words:
        assert w in str(e.value), f"{w!r} not in {e.value}"
    if out is not None:
        assert np.array_equal(f64(out), before), "output written on error"


@pytest.mark.parametrize("framework", ["torch", "numpy"])
def test_onnx_statuses(framework, rng):
    need(framework)
    x, cos, sin, ids = _onnx_args(framework, rng)
    y = make(framework, "float32", np.full((1, 2, 3, 8), 7.0))
    cos3, sin3 = make(framework, "float32", f64(cos)[:, :3]), make(framework, "float32", f64(sin)[:, :3])
    _refused("ROPE_ERROR_SHAPE", ["cos_cache dim 1", "expected 4", "found 3"],
             lambda: librope.rotary_embedding_onnx(x, cos3, sin3, ids, out=y), y)
    _refused("ROPE_ERROR_RANK", ["X"], lambda: librope.rotary_embedding_onnx(x[0, 0], cos, sin, ids, out=y[0, 0]), y)
    _refused("ROPE_ERROR_ATTRIBUTE", ["interleaved"],
             lambda: librope.rotary_embedding_onnx(x, cos, sin, ids, interleaved=4, out=y), y)
    _refused("ROPE_ERROR_ATTRIBUTE", ["rotary_embedding_dim"],
             lambda: librope.rotary_embedding_onnx(x, cos, sin, ids, rotary_embedding_dim=3, out=y), y)
    bad_ids = make_int(framework, [[1, 10, 3]])
    _refused("ROPE_ERROR_INDEX", ["10"], lambda: librope.rotary_embedding_onnx(x, cos, sin, bad_ids, out=y), y)
    cos16 = make(framework, "float16", f64(cos))
    _refused("ROPE_ERROR_DTYPE", ["cos"], lambda: librope.rotary_embedding_onnx(x, cos16, sin, ids, out=y), y)
    # a dtype no kernel takes (float64: only multi-axis coordinates are f64) is refused, naming X
    x64 = make(framework, "float64", f64(x))
    _refused("ROPE_ERROR_DTYPE", ["X dtype", "found f64"], lambda: librope.rotary_embedding_onnx(x64, cos, sin, ids, out=y), y)


@pytest.mark.parametrize("framework", ["torch", "numpy"])
def test_unaddressable_views(framework, rng):
    """A view the library cannot address (transposed, uneven row spacing) is an error naming the argument;
    nothing is copied behind the caller's back and nothing is written."""
    need(framework)
    x, cos, sin, ids = _onnx_args(framework, rng)
    y = make(framework, "float32", np.full((1, 2, 3, 8), 7.0))
    xt = x.transpose(2, 3) if framework == "torch" else x.transpose(0, 1, 3, 2)  # last dim not contiguous
    yt = make(framework, "float32", np.full((1, 2, 8, 3), 7.0))
    _refused("ROPE_ERROR_STRIDE", ["x dim 3", "stride"],
             lambda: librope.rotary_embedding_onnx(xt, cos, sin, ids, out=yt), yt)
    # a [B, S, H, D] buffer seen as [B, H, S, D]: the rows are not evenly spaced
    buf = make(framework, "float32", uniform(rng, (1, 3, 2, 8)))
    xbhsd = buf.permute(0, 2, 1, 3) if framework == "torch" else buf.transpose(0, 2, 1, 3)
    _refused("ROPE_ERROR_STRIDE", ["x dim", "evenly spaced"],
             lambda: librope.rotary_embedding_onnx(xbhsd, cos, sin, ids, out=y), y)
    # an output view that cannot be addressed: refused, and the buffer behind it untouched
    big = make(framework, "float32", np.full((1, 3, 2, 8), 5.0))
    ybad = big.permute(0, 2, 1, 3) if framework == "torch" else big.transpose(0, 2, 1, 3)
    _refused("ROPE_ERROR_STRIDE", ["y dim"], lambda: librope.rotary_embedding_onnx(x, cos, sin, ids, out=ybad), big)
    # the cache must be dense
    cwide = make(framework, "float32", uniform(rng, (10, 8)))
    _refused("ROPE_ERROR_STRIDE", ["cos_cache"],
             lambda: librope.rotary_embedding_onnx(x, cwide[:, :4], sin, ids, out=y), y)


@pytest.mark.parametrize("framework", ["torch", "numpy"])
def test_atb_statuses(framework, rng):
    need(framework)
    q = make(framework, "float32", uniform(rng, (4, 32)))
    k = make(framework, "float32", uniform(rng, (4, 16)))
    c, s = angles_cache(rng, 4, 16)
    cos, sin = make(framework, "float32", c), make(framework, "float32", s)
    seqlen = make_int(framework, [4], "int32")
    rq = make(framework, "float32", np.full((4, 32), 3.0))
    rk = make(framework, "float32", np.full((4, 16), 3.0))
    _refused("ROPE_ERROR_ATTRIBUTE", ["rotary"],
             lambda: librope.rope_atb(q, k, cos, sin, seqlen, rotary_coeff=3, out=(rq, rk)), rq)
    _refused("ROPE_ERROR_ATTRIBUTE", ["cos"],
             lambda: librope.rope_atb(q, k, cos, sin, seqlen, rotary_coeff=2, cos_format=2, out=(rq, rk)), rk)
    _refused("ROPE_ERROR_INDEX", ["seqlen"],
             lambda: librope.rope_atb(q, k, cos, sin, make_int(framework, [5], "int32"), rotary_coeff=2,
                                      cos_format=1, out=(rq, rk)), rq)
    _refused("ROPE_ERROR_SHAPE", [], lambda: librope.rope_atb(q, k[:3], cos, sin, seqlen, rotary_coeff=2,
                                                              out=(rq, rk)), rq)
    # ropeQ partly overlapping query: refused as aliasing
    if framework == "torch":
        import torch
        buf = torch.zeros(4 * 32 + 8)
        qa, ra = buf[:128].view(4, 32), buf[8:136].view(4, 32)
    else:
        buf = np.zeros(4 * 32 + 8, np.float32)
        qa, ra = buf[:128].reshape(4, 32), buf[8:136].reshape(4, 32)
    _refused("ROPE_ERROR_ALIASING", [], lambda: librope.rope_atb(qa, k, cos, sin, seqlen, rotary_coeff=2,
                                                                 out=(ra, rk)), rk)


def test_not_a_tensor_and_read_only(rng):
    x = uniform(rng, (1, 1, 2, 4)).astype(np.float32)
    c, s = angles_cache(rng, 2, 2)
    cos, sin = c.reshape(1, 2, 2).astype(np.float32), s.reshape(1, 2, 2).astype(np.float32)
    with pytest.raises(TypeError, match="x: expected a tensor .* got list"):
        librope.rotary_embedding_onnx(x.tolist(), cos, sin, out=x)
    cos.flags.writeable = False  # read-only inputs are fine
    librope.rotary_embedding_onnx(x, cos, sin)
    x.flags.writeable = False  # but not as the output
    with pytest.raises(TypeError, match="y: read-only"):
        librope.rotary_embedding_onnx(x, cos, sin, out=x)


def test_a_tensor_dlpack_cannot_export(rng):
    torch = pytest.importorskip("torch")
    x = torch.empty(1, 1, 2, 4, device="meta")
    with pytest.raises(TypeError, match="x: Tensor could not be exported through DLPack"):
        librope.rotary_embedding_onnx(x, torch.ones(1, 2, 2), torch.zeros(1, 2, 2), out=torch.empty(1, 1, 2, 4))


def test_threads_and_queries():
    assert librope.isa() in ("avx512", "avx2", "neon", "scalar")
    assert librope.__version__.count(".") == 2
    with pytest.raises(librope.RopeError) as e:
        librope.set_num_threads(5000)
    assert e.value.status == "ROPE_ERROR_ATTRIBUTE"
    librope.set_num_threads(1)
    assert librope.get_num_threads() == 1
    librope.set_num_threads(0)
    assert librope.get_num_threads() >= 1


def test_buffer_protocol_objects(rng):
    """Objects with only the buffer protocol (a memoryview, strided too) are read and written in place."""
    x = uniform(rng, (1, 2, 3, 8)).astype(np.float32)
    c, s = angles_cache(rng, 2 * 3, 4)
    cos, sin = c.reshape(2, 3, 4).astype(np.float32), s.reshape(2, 3, 4).astype(np.float32)
    xr = x.reshape(2, 3, 8)  # 3-D [batch, seq, heads*head_size] with one head
    want = librope.rotary_embedding_onnx(xr, cos, sin, num_heads=1)
    buf = np.zeros((2, 3, 16), np.float32)
    buf[..., :8] = xr
    view = memoryview(buf[..., :8])  # strided: rows 16 floats apart
    assert not view.c_contiguous
    librope.rotary_embedding_onnx(view, cos, sin, num_heads=1, out=view)
    assert np.array_equal(buf[..., :8], want) and not buf[..., 8:].any()


@pytest.mark.parametrize("fp8", ["float8_e4m3fn", "float8_e5m2"])
def test_float8_outside_a_kv_cache(rng, fp8):
    """torch's float8 tensors reach the operators as ROPE_FP8_* (rope_tensor_from_dlpack maps DLPack's
    float8 codes), which take them for KV caches only: as X, or as an output, a DTYPE refusal naming
    the argument and the dtype, nothing written."""
    need("torch")
    import torch
    x, c, s, p = _onnx_args("torch", rng)
    x8 = x.to(getattr(torch, fp8))
    _refused("ROPE_ERROR_DTYPE", ["X dtype", fp8.replace("float8_", "fp8_")[:8]],
             lambda: librope.rotary_embedding_onnx(x8, c.to(x8.dtype), s.to(x8.dtype), p))
    y8 = torch.zeros_like(x8)
    _refused("ROPE_ERROR_DTYPE", ["Y dtype", fp8.replace("float8_", "fp8_")[:8]], lambda: librope.rotary_embedding_onnx(x, c, s, p, out=y8))
    assert not y8.view(torch.uint8).any(), "y written on error"
