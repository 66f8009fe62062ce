# SPDX-License-Identifier: MIT
"""rotary_embedding_onnx against the float64 reference: torch and NumPy, f32/f16/bf16, 3-D and 4-D,
with and without position_ids, interleaved, partial rotation, in place, out=, strided views of a fused
QKV tensor."""
import numpy as np
import pytest

import librope
from conftest import KINDS, angles_cache, assert_close, kind_of, make, make_int, need, uniform
from reference import f64, onnx_ref

SHAPES = [  # (rank, batch, seq, heads, head_size, rotary_dim)
    (4, 1, 1, 1, 2, 0), (4, 2, 5, 3, 8, 0), (4, 1, 7, 2, 64, 32), (4, 3, 4, 1, 128, 0),
    (3, 1, 1, 2, 4, 0), (3, 2, 6, 4, 16, 8), (3, 1, 9, 3, 64, 0), (3, 2, 3, 8, 128, 64),
]


@pytest.mark.parametrize("framework,dtype", KINDS)
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("interleaved", [0, 1])
@pytest.mark.parametrize("with_ids", [True, False])
def test_random(framework, dtype, shape, interleaved, with_ids, rng):
    need(framework, dtype)
    rank, b, s, n, h, rdim = shape
    r = rdim or h
    xs = (b, n, s, h) if rank == 4 else (b, s, n * h)
    x = make(framework, dtype, uniform(rng, xs))
    if with_ids:
        max_pos = 13
        c, sn = angles_cache(rng, max_pos, r // 2)
        ids = make_int(framework, rng.integers(0, max_pos, size=(b, s)))
    else:
        c, sn = angles_cache(rng, b * s, r // 2)
        c, sn = c.reshape(b, s, r // 2), sn.reshape(b, s, r // 2)
        ids = None
    cos, sin = make(framework, dtype, c), make(framework, dtype, sn)
    before = f64(x).copy()
    y = librope.rotary_embedding_onnx(x, cos, sin, ids, interleaved=bool(interleaved), rotary_embedding_dim=rdim,
                                      num_heads=n if rank == 3 else 0)
    assert kind_of(y) == framework and y.dtype == x.dtype
    ref = onnx_ref(x, cos, sin, ids, interleaved, rdim, n)
    assert_close(y, ref, dtype, "out of place")
    assert np.array_equal(f64(x), before), "x changed by an out-of-place call"
    # out= a tensor of the caller's, in place: bitwise the same result
    y3 = make(framework, dtype, np.zeros(xs))
    assert librope.rotary_embedding_onnx(x, cos, sin, ids, interleaved=bool(interleaved), rotary_embedding_dim=rdim,
                                         num_heads=n if rank == 3 else 0, out=y3) is y3
    assert np.array_equal(f64(y3), f64(y)), "out= differs from a new output"
    y2 = librope.rotary_embedding_onnx(x, cos, sin, ids, interleaved=bool(interleaved), rotary_embedding_dim=rdim,
                                       num_heads=n if rank == 3 else 0, out=x)
    assert y2 is x
    assert np.array_equal(f64(x), f64(y)), "in place differs from out of place"


@pytest.mark.parametrize("framework,dtype", KINDS)
def test_fused_qkv_view_rotated_where_it_sits(framework, dtype, rng):
    """q and k of a [batch, seq, (nq + 2 nk) * h] fused QKV output, split along the last dim, are
    rotated in place inside the fused buffer; v and everything else stays as it was."""
    need(framework, dtype)
    b, s, nq, nk, h = 2, 5, 4, 2, 16
    qkv = make(framework, dtype, uniform(rng, (b, s, (nq + 2 * nk) * h)))
    before = f64(qkv).copy()
    if framework == "torch":
        import torch
        q, k, v = torch.split(qkv, [nq * h, nk * h, nk * h], dim=-1)
    else:
        q, k, v = qkv[..., : nq * h], qkv[..., nq * h:(nq + nk) * h], qkv[..., (nq + nk) * h:]
    c, sn = angles_cache(rng, 32, h // 2)
    cos, sin = make(framework, dtype, c), make(framework, dtype, sn)
    ids = make_int(framework, rng.integers(0, 32, size=(b, s)))
    want_q = onnx_ref(q, cos, sin, ids, 0, 0, nq)
    want_k = onnx_ref(k, cos, sin, ids, 0, 0, nk)
    librope.rotary_embedding_onnx(q, cos, sin, ids, num_heads=nq, out=q)
    librope.rotary_embedding_onnx(k, cos, sin, ids, num_heads=nk, out=k)
    after = f64(qkv)
    assert_close(after[..., : nq * h], want_q, dtype, "q inside qkv")
    assert_close(after[..., nq * h:(nq + nk) * h], want_k, dtype, "k inside qkv")
    assert np.array_equal(after[..., (nq + nk) * h:], before[..., (nq + nk) * h:]), "v was touched"
    # out of place from a strided view: a dense result
    y = librope.rotary_embedding_onnx(v, cos, sin, ids, num_heads=nk)
    assert_close(y, onnx_ref(v, cos, sin, ids, 0, 0, nk), dtype, "from a strided view")
