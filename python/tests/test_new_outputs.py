# SPDX-License-Identifier: MIT
"""New outputs of at least a MiB: the binding maps a fresh output's pages before the library writes
them (python/src/populate.c). The values must be those of the float64 reference and bitwise those
of the same call into an existing tensor; the pages around the output must stay untouched (checked
with mincore on Linux, where the binding uses MADV_POPULATE_WRITE)."""
import ctypes
import ctypes.util
import mmap
import sys

import numpy as np
import pytest

import librope
from librope import _core
from conftest import angles_cache, assert_close, need, make, make_int, uniform
from reference import atb_ref, onnx_ref

PAGE = mmap.PAGESIZE


def _resident(buf_address, npages):
    """mincore's residency of npages pages from buf_address (page aligned), as booleans."""
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    vec = (ctypes.c_ubyte * npages)()
    libc.mincore.argtypes = (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_void_p)
    if libc.mincore(ctypes.c_void_p(buf_address), ctypes.c_size_t(npages * PAGE), vec) != 0:
        pytest.fail(f"mincore failed: errno {ctypes.get_errno()}")
    return [bool(v & 1) for v in vec]


def _onnx_case(rng, heads, seq, head_size=128):
    x = uniform(rng, (1, heads, seq, head_size))
    cos, sin = angles_cache(rng, seq + 7, head_size // 2)
    pos = rng.permutation(seq + 7)[:seq][None]
    return x, cos, sin, pos


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="mincore and MADV_POPULATE_WRITE are Linux's")
@pytest.mark.parametrize("offset", [0, 64, 1000])
def test_fresh_output_in_a_new_mapping(rng, offset):
    """y in an anonymous mapping nothing has touched, between guard pages, at an offset into its first
    page: every value as the reference's, the guard pages never mapped in."""
    x, cos, sin, pos = _onnx_case(rng, heads=9, seq=300)  # 1.3 MiB of float32, not a whole number of pages
    nbytes = x.size * 4
    npages = 2 + (offset + nbytes + PAGE - 1) // PAGE
    region = mmap.mmap(-1, npages * PAGE)
    anchor = ctypes.c_char.from_buffer(region)
    base = ctypes.addressof(anchor)
    assert not any(_resident(base, npages)), "a new mapping has no pages yet"
    y = np.frombuffer(region, dtype=np.float32, count=x.size, offset=PAGE + offset).reshape(x.shape)
    xs, cs, ss = x.astype(np.float32), cos.astype(np.float32), sin.astype(np.float32)
    _core.onnx(xs, cs, ss, pos, y, 0, 0, 0, False, True)
    assert_close(y, onnx_ref(xs, cs, ss, pos), "float32", "fresh y")
    resident = _resident(base, npages)
    last_used = (PAGE + offset + nbytes - 1) // PAGE
    assert not resident[0] and not any(resident[last_used + 1:]), "a page outside the output was mapped"
    assert all(resident[1:last_used + 1]), "a page of the output is not mapped after the call"
    existing = np.full_like(xs, 7.0)
    _core.onnx(xs, cs, ss, pos, existing, 0, 0, 0, False, False)
    assert np.array_equal(existing.view(np.uint32), y.view(np.uint32))
    del y, anchor
    region.close()


@pytest.mark.parametrize("framework,dtype", [("torch", "float32"), ("torch", "bfloat16"), ("numpy", "float32")])
def test_new_onnx_output_matches_out(rng, framework, dtype):
    need(framework, dtype)
    x, cos, sin, pos = _onnx_case(rng, heads=32, seq=160)  # 2.5 MiB in float32
    xt, ct, st = make(framework, dtype, x), make(framework, dtype, cos), make(framework, dtype, sin)
    pt = make_int(framework, pos)
    for _ in range(3):  # fresh mappings and recycled memory alike
        y = librope.rotary_embedding_onnx(xt, ct, st, pt)
        assert_close(y, onnx_ref(xt, ct, st, pt), dtype, "new output")
        out = librope.rotary_embedding_onnx(xt, ct, st, pt, out=make(framework, dtype, np.full(x.shape, 3.0)))
        assert np.array_equal(np.asarray(_bits(y)), np.asarray(_bits(out)))


def _bits(t):
    if hasattr(t, "detach"):
        import torch
        return t.view(torch.int16 if t.element_size() == 2 else torch.int32).numpy()
    return t.view(np.uint16 if t.itemsize == 2 else np.uint32)


@pytest.mark.parametrize("framework", ["torch", "numpy"])
def test_new_atb_outputs(rng, framework):
    need(framework)
    t, hq, hk, d = 2100, 4, 1, 128  # query 4.1 MiB, key 1.03 MiB in float32
    q, k = uniform(rng, (t, hq * d)), uniform(rng, (t, hk * d))
    cos, sin = angles_cache(rng, t, d // 2)
    cos, sin = np.concatenate([cos, cos], 1), np.concatenate([sin, sin], 1)
    seqlen = make_int(framework, [t], "int32")
    args = [make(framework, "float32", a) for a in (q, k, cos, sin)]
    rq, rk = librope.rope_atb(*args, seqlen, rotary_coeff=2)
    want_q, want_k = atb_ref(*args, seqlen, 2, 0)
    assert_close(rq, want_q, "float32", "rope_q")
    assert_close(rk, want_k, "float32", "rope_k")


def test_new_onnx_gradient(rng):
    """The backward's dx, a new tensor of 2.5 MiB: the transposed rotation (sin negated)."""
    need("torch")
    import torch
    x, cos, sin, pos = _onnx_case(rng, heads=32, seq=160)
    xt = make("torch", "float32", x).requires_grad_()
    ct, st, pt = make("torch", "float32", cos), make("torch", "float32", sin), make_int("torch", pos)
    dy = uniform(rng, x.shape)
    librope.rotary_embedding_onnx(xt, ct, st, pt).backward(torch.from_numpy(dy).float())
    assert_close(xt.grad, onnx_ref(make("torch", "float32", dy), ct, -st, pt), "float32", "dx")


def test_fresh_flag_argument_counts():
    x = np.ones((1, 1, 2, 4), np.float32)
    c = np.ones((2, 2), np.float32)
    with pytest.raises(TypeError, match="takes 9 or 10 arguments"):
        _core.onnx(x, c, c, None, x.copy(), 0, 0, 0, False, True, True)
    q = np.ones((2, 8), np.float32)
    with pytest.raises(TypeError, match="takes 10, 12 or 13 arguments"):
        _core.atb(q, q, c, c, np.array([2], np.int32), q, q, 2, 0, False, 0)
