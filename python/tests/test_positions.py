# SPDX-License-Identifier: MIT
"""Positions inside the head from Python (issue 17 items 1-3): vLLM's rope_dim_offset and inverse,
the split-half partial layout (partial="split") of the three operators, adjacent pairs in / halves out
(ONNX interleaved="pairs_to_halves", vLLM pairs_to_halves=True), and the [n, rot/2] table cos_sin gives
a proportional config. Each against a float64 reference written here from the definitions in rope.h,
on random inputs, in every dtype, in place and out, with one and two library threads."""
import re

import numpy as np
import pytest

import librope
from conftest import KINDS, angles_cache, assert_close, make, make_int, need, uniform
from reference import f64


@pytest.fixture(params=[1, 2], ids=["1thread", "2threads"])
def threads(request):
    before = librope.get_num_threads()
    librope.set_num_threads(request.param)
    yield request.param
    librope.set_num_threads(before)


def rotate_heads(x, c, s, *, head_size, rot, mode, offset=0, inverse=False):
    """The float64 rotation of every head of x [T, H*head_size] (float64) by c, s [T, rot/2]:
    mode "halves" pairs (o+j, o+half+j), "pairs" (o+2j, o+2j+1), "split" (j, head_size/2 + j),
    "pairs_to_halves" reads (o+2j, o+2j+1) and writes o+j, o+half+j. Every other element copied."""
    t = x.shape[0]
    xs = x.reshape(t, -1, head_size)
    y = xs.copy()
    half = rot // 2
    c, s = c[:, None, :], (-s if inverse else s)[:, None, :]
    j = np.arange(half)
    if mode == "halves":
        a, b = offset + j, offset + half + j
        out_a, out_b = a, b
    elif mode == "pairs":
        a, b = offset + 2 * j, offset + 2 * j + 1
        out_a, out_b = a, b
    elif mode == "split":
        a, b = j, head_size // 2 + j
        out_a, out_b = a, b
    elif mode == "pairs_to_halves":
        a, b = offset + 2 * j, offset + 2 * j + 1
        out_a, out_b = offset + j, offset + half + j
    else:
        raise AssertionError(mode)
    x1, x2 = xs[..., a], xs[..., b]
    y[..., out_a] = x1 * c - x2 * s
    y[..., out_b] = x2 * c + x1 * s
    return y.reshape(x.shape)


# ---- vLLM rotary_embedding: rope_dim_offset, inverse, partial, pairs_to_halves --------------------

VLLM_CASES = [  # tokens, heads_q, heads_k (0: no key), head_size, rot, is_neox, offset, inverse, mode
    (7, 4, 2, 64, 16, True, 48, False, "halves"),       # the tail (DeepSeek V4 indexer)
    (5, 2, 1, 32, 8, False, 12, True, "pairs"),        # inside the head, inverse
    (9, 3, 3, 128, 32, True, 0, False, "split"),       # Gemma 4 proportional: 0.25 of 128
    (4, 2, 0, 64, 64, False, 0, False, "pairs_to_halves"),
    (6, 4, 1, 192, 64, False, 128, True, "pairs_to_halves"),  # DeepSeek: nope 128 then rope 64
    (3, 1, 1, 48, 48, True, 0, True, "split"),         # split at full width is halves
    (8, 2, 2, 40, 12, True, 0, True, "split"),
]


@pytest.mark.parametrize("framework,dtype", KINDS)
@pytest.mark.parametrize("case", VLLM_CASES)
def test_vllm_positions_vs_float64(framework, dtype, case, threads, rng):
    need(framework, dtype)
    t, hq, hk, hs, rot, is_neox, offset, inverse, mode = case
    p = 50
    c, s = angles_cache(rng, p, rot // 2)
    cache = make(framework, dtype, np.concatenate([c, s], axis=1))
    pos = rng.integers(0, p, size=t)
    q = make(framework, dtype, uniform(rng, (t, hq * hs)))
    k = make(framework, dtype, uniform(rng, (t, hk * hs))) if hk else None
    cr, sr = f64(cache)[pos, : rot // 2], f64(cache)[pos, rot // 2:]
    kw = dict(head_size=hs, rot=rot, mode=mode, offset=offset, inverse=inverse)
    want_q = rotate_heads(f64(q), cr, sr, **kw)
    want_k = rotate_heads(f64(k), cr, sr, **kw) if hk else None
    librope.rotary_embedding(make_int(framework, pos), q, k, hs, cache, is_neox, offset, inverse,
                             partial="split" if mode == "split" else "leading",
                             pairs_to_halves=mode == "pairs_to_halves")
    assert_close(q, want_q, dtype, "query")
    if hk:
        assert_close(k, want_k, dtype, "key")


def test_vllm_inverse_undoes_the_rotation(rng):
    """inverse takes a rotated key back (float64 reference: the exact inverse; float32 within rounding)."""
    hs, rot, t = 64, 64, 6
    c, s = angles_cache(rng, 20, rot // 2)
    cache = np.concatenate([c, s], axis=1).astype(np.float32)
    pos = rng.integers(0, 20, size=t)
    k0 = uniform(rng, (t, 2 * hs)).astype(np.float32)
    k = k0.copy()
    librope.rotary_embedding(pos, k, None, hs, cache, True)
    librope.rotary_embedding(pos, k, None, hs, cache, True, 0, True)
    assert np.abs(k - k0).max() < 4e-7 * 4


def test_vllm_positional_order_is_vllms(rng):
    """rope_dim_offset and inverse are the 7th and 8th positional arguments, as in vLLM."""
    hs, rot = 32, 8
    c, s = angles_cache(rng, 10, rot // 2)
    cache = np.concatenate([c, s], axis=1).astype(np.float32)
    pos = np.arange(4)
    q1 = uniform(rng, (4, hs)).astype(np.float32)
    q2 = q1.copy()
    librope.rotary_embedding(pos, q1, None, hs, cache, True, 24, True)
    librope.rotary_embedding(pos, q2, None, hs, cache, is_neox=True, rope_dim_offset=24, inverse=True)
    assert np.array_equal(q1, q2)
    assert not np.array_equal(q1[:, 24:], uniform(np.random.default_rng(0), (4, 8)))


@pytest.mark.parametrize("kwargs,match", [
    (dict(partial="middle"), "partial must be 'leading' or 'split'"),
    (dict(partial=1), "partial must be 'leading' or 'split'"),
    (dict(rope_dim_offset=1.5), "rope_dim_offset must be an integer"),
    (dict(rope_dim_offset=True), "rope_dim_offset must be an integer"),
    (dict(inverse="yes"), "inverse must be True or False"),
    (dict(pairs_to_halves=2), "pairs_to_halves must be True or False"),
    (dict(rope_dim_offset=25), "rope_dim_offset"),                       # 25 + 8 > 32: the library
    (dict(rope_dim_offset=-1), "rope_dim_offset"),
    (dict(partial="split", is_neox=False), "partial"),                  # split needs halves
    (dict(pairs_to_halves=True), "pairs_to_halves"),                    # needs is_neox False
    (dict(partial="split", rope_dim_offset=4), "partial|rope_dim_offset"),
])
def test_vllm_bad_arguments_name_them_and_write_nothing(kwargs, match, rng):
    hs, rot = 32, 8
    c, s = angles_cache(rng, 10, rot // 2)
    cache = np.concatenate([c, s], axis=1).astype(np.float32)
    pos = np.arange(4)
    q = uniform(rng, (4, 2 * hs)).astype(np.float32)
    k = uniform(rng, (4, hs)).astype(np.float32)
    q0, k0 = q.copy(), k.copy()
    is_neox = kwargs.pop("is_neox", True)
    with pytest.raises(ValueError, match=match):
        librope.rotary_embedding(pos, q, k, hs, cache, is_neox, **kwargs)
    assert np.array_equal(q, q0) and np.array_equal(k, k0)


def test_vllm_torch_op_schema_and_compile(rng):
    """The new arguments reach torch.ops.librope.rotary_embedding (defaults at the end of its schema),
    and torch.compile(fullgraph=True) gives the eager values."""
    torch = pytest.importorskip("torch")
    librope.load_torch_ops()
    schema = str(torch.ops.librope.rotary_embedding.default._schema)
    # torch prints an int argument as int or SymInt
    want = r", (Sym)?[Ii]nt rope_dim_offset=0, bool inverse=False, (Sym)?[Ii]nt partial=0, bool pairs_to_halves=False\)"
    assert re.search(want, schema), schema
    hs, rot = 64, 16
    c, s = angles_cache(rng, 30, rot // 2)
    cache = torch.tensor(np.concatenate([c, s], axis=1), dtype=torch.float32)
    pos = torch.tensor(rng.integers(0, 30, size=5))
    q = torch.tensor(uniform(rng, (5, 2 * hs)), dtype=torch.float32)

    def f(q):
        librope.rotary_embedding(pos, q, None, hs, cache, False, 48, True, pairs_to_halves=True)
        return q

    want = f(q.clone())
    got = torch.compile(f, fullgraph=True, backend="eager")(q.clone())
    assert torch.equal(got, want)
    ref = rotate_heads(f64(q), f64(cache)[pos.numpy(), :8], f64(cache)[pos.numpy(), 8:], head_size=hs, rot=rot,
                       mode="pairs_to_halves", offset=48, inverse=True)
    assert_close(want, ref, "float32")


# ---- ONNX: partial="split" and interleaved="pairs_to_halves" -------------------------------------

ONNX_CASES = [  # batch, heads, seq, head_size, rot, mode, 3-D x
    (2, 3, 5, 64, 16, "split", False), (1, 2, 7, 128, 32, "split", True), (2, 2, 4, 32, 32, "split", False),
    (2, 4, 3, 64, 64, "pairs_to_halves", False), (1, 3, 6, 32, 16, "pairs_to_halves", True),
    (3, 1, 2, 40, 12, "split", False),
]


@pytest.mark.parametrize("framework,dtype", KINDS)
@pytest.mark.parametrize("case", ONNX_CASES)
@pytest.mark.parametrize("where", ["new", "out", "inplace"])
def test_onnx_layouts_vs_float64(framework, dtype, case, where, threads, rng):
    need(framework, dtype)
    b, h, s, hs, rot, mode, three_d = case
    p = 40
    c, sn = angles_cache(rng, p, rot // 2)
    cos, sin = make(framework, dtype, c), make(framework, dtype, sn)
    pos = rng.integers(0, p, size=(b, s))
    x4 = uniform(rng, (b, h, s, hs))
    x = make(framework, dtype, x4.transpose(0, 2, 1, 3).reshape(b, s, h * hs) if three_d else x4)
    # the reference on [B*S, H*hs] rows of the token-major form
    tok = f64(x).reshape(b, s, h * hs) if three_d else f64(x).transpose(0, 2, 1, 3).reshape(b, s, h * hs)
    cr, sr = f64(cos)[pos].reshape(b * s, -1), f64(sin)[pos].reshape(b * s, -1)
    want = rotate_heads(tok.reshape(b * s, h * hs), cr, sr, head_size=hs, rot=rot, mode=mode)
    want = want.reshape(b, s, h * hs) if three_d else want.reshape(b, s, h, hs).transpose(0, 2, 1, 3)
    kw = dict(rotary_embedding_dim=rot, num_heads=h if three_d else 0)
    if mode == "split":
        kw["partial"] = "split"
    else:
        kw["interleaved"] = "pairs_to_halves"
    ids = make_int(framework, pos)
    if where == "new":
        y = librope.rotary_embedding_onnx(x, cos, sin, ids, **kw)
    elif where == "out":
        out = make(framework, dtype, np.zeros(tuple(x.shape)) + 7.0)
        y = librope.rotary_embedding_onnx(x, cos, sin, ids, out=out, **kw)
        assert y is out
    else:
        y = librope.rotary_embedding_onnx(x, cos, sin, ids, out=x, **kw)
        assert y is x
    assert_close(y, want, dtype, f"{mode} {where}")


@pytest.mark.parametrize("mode", ["split", "pairs_to_halves"])
def test_onnx_layouts_backward_is_the_transpose(mode, rng):
    """The gradient through the new layouts is the transposed rotation (float64: the reference's
    matrix transposed), and gradcheck-style: <dy, J dx> == <J^T dy, dx>."""
    torch = pytest.importorskip("torch")
    b, h, s, hs, rot = 2, 2, 3, 32, 16
    c, sn = angles_cache(rng, 10, rot // 2)
    cos, sin = torch.tensor(c, dtype=torch.float32), torch.tensor(sn, dtype=torch.float32)
    pos = torch.tensor(rng.integers(0, 10, size=(b, s)))
    kw = dict(rotary_embedding_dim=rot)
    kw.update(partial="split") if mode == "split" else kw.update(interleaved="pairs_to_halves")
    x = torch.tensor(uniform(rng, (b, h, s, hs)), dtype=torch.float32, requires_grad=True)
    y = librope.rotary_embedding_onnx(x, cos, sin, pos, **kw)
    dy = torch.tensor(uniform(rng, (b, h, s, hs)), dtype=torch.float32)
    (dx,) = torch.autograd.grad(y, x, dy)
    # float64 transpose: build the reference's Jacobian column by column on one token's head
    cr, sr = f64(cos)[pos.numpy()], f64(sin)[pos.numpy()]
    want = np.zeros((b, h, s, hs))
    eye = np.eye(hs)
    for bi in range(b):
        for si in range(s):
            jac = np.stack([rotate_heads(eye[i][None], cr[bi, si][None], sr[bi, si][None], head_size=hs, rot=rot,
                                         mode=mode)[0] for i in range(hs)], axis=1)  # [out, in]
            for hi in range(h):
                want[bi, hi, si] = jac.T @ f64(dy)[bi, hi, si]
    assert_close(dx, want, "float32", "dx")


@pytest.mark.parametrize("kwargs,match", [
    (dict(partial="split", interleaved=True), "partial='split'.*interleaved=False"),
    (dict(partial="split", interleaved="pairs_to_halves"), "partial='split'.*interleaved=False"),
    (dict(partial="tail"), "partial must be 'leading' or 'split'"),
    (dict(interleaved="halves_to_pairs"), "interleaved must be False, True or 'pairs_to_halves'"),
    (dict(interleaved=4), "interleaved"),
])
def test_onnx_bad_layouts_name_the_argument(kwargs, match, rng):
    c, sn = angles_cache(rng, 8, 4)
    x = uniform(rng, (1, 2, 3, 16)).astype(np.float32)
    out = np.full_like(x, 3.0)
    with pytest.raises(ValueError, match=match):
        librope.rotary_embedding_onnx(x, c.astype(np.float32), sin := sn.astype(np.float32),
                                      np.zeros((1, 3), np.int64), rotary_embedding_dim=8, out=out, **kwargs)
    assert (out == 3.0).all() and sin.shape == (8, 4)


# ---- ATB: partial="split" with head_size ---------------------------------------------------------

ATB_CASES = [  # tokens, heads_q, heads_k, head_size, D (rotated width), 4-D
    (6, 4, 2, 64, 16, True), (5, 2, 1, 128, 32, False), (3, 3, 3, 32, 32, True), (4, 2, 2, 48, 8, False),
]


def _atb_split_ref(x, cos, sin, head_size):
    """ATB split: element j < D/2 of a head takes cos/sin[j], its partner head_size/2 + j takes
    cos/sin[D/2 + j] (the two halves of the row may differ)."""
    t = x.shape[0]
    d = cos.shape[1]
    xs = x.reshape(t, -1, head_size)
    y = xs.copy()
    j = np.arange(d // 2)
    a, b = j, head_size // 2 + j
    x1, x2 = xs[..., a], xs[..., b]
    y[..., a] = x1 * cos[:, None, : d // 2] - x2 * sin[:, None, : d // 2]
    y[..., b] = x2 * cos[:, None, d // 2:] + x1 * sin[:, None, d // 2:]
    return y.reshape(x.shape)


@pytest.mark.parametrize("framework,dtype", KINDS)
@pytest.mark.parametrize("case", ATB_CASES)
@pytest.mark.parametrize("where", ["new", "out", "inplace"])
def test_atb_split_vs_float64(framework, dtype, case, where, threads, rng):
    need(framework, dtype)
    t, hq, hk, hs, d, four_d = case
    cos_dtype = "float32" if dtype == "float16" and framework == "torch" else dtype
    cos = make(framework, cos_dtype, uniform(rng, (t, d)))   # halves differ: each element its own value
    sin = make(framework, cos_dtype, uniform(rng, (t, d)))
    shape_q, shape_k = ((1, t, hq, hs), (1, t, hk, hs)) if four_d else ((t, hq * hs), (t, hk * hs))
    q = make(framework, dtype, uniform(rng, shape_q))
    k = make(framework, dtype, uniform(rng, shape_k))
    seqlen = make_int(framework, [t], "int32")
    want_q = _atb_split_ref(f64(q).reshape(t, -1), f64(cos), f64(sin), hs).reshape(shape_q)
    want_k = _atb_split_ref(f64(k).reshape(t, -1), f64(cos), f64(sin), hs).reshape(shape_k)
    kw = dict(rotary_coeff=2, partial="split", head_size=None if four_d else hs)
    if where == "new":
        rq, rk = librope.rope_atb(q, k, cos, sin, seqlen, **kw)
    elif where == "out":
        out = (make(framework, dtype, np.zeros(shape_q)), make(framework, dtype, np.zeros(shape_k)))
        rq, rk = librope.rope_atb(q, k, cos, sin, seqlen, out=out, **kw)
        assert rq is out[0] and rk is out[1]
    else:
        rq, rk = librope.rope_atb(q, k, cos, sin, seqlen, out=(q, k), **kw)
        assert rq is q and rk is k
    assert_close(rq, want_q, dtype, "rope_q")
    assert_close(rk, want_k, dtype, "rope_k")


def test_atb_split_backward_and_schema(rng):
    torch = pytest.importorskip("torch")
    librope.load_torch_ops()
    for op in ("rope_atb", "rope_atb_backward", "rope_atb_out", "rope_atb_inplace"):
        schema = str(getattr(torch.ops.librope, op).default._schema)
        assert re.search(r", (Sym)?[Ii]nt partial=0, (Sym)?[Ii]nt head_size=0\) ->", schema), schema
    t, hs, d = 4, 32, 8
    cos = torch.tensor(uniform(rng, (t, d)), dtype=torch.float32)
    sin = torch.tensor(uniform(rng, (t, d)), dtype=torch.float32)
    q = torch.tensor(uniform(rng, (1, t, 2, hs)), dtype=torch.float32, requires_grad=True)
    k = torch.tensor(uniform(rng, (1, t, 1, hs)), dtype=torch.float32, requires_grad=True)
    seqlen = torch.tensor([t], dtype=torch.int32)
    rq, rk = librope.rope_atb(q, k, cos, sin, seqlen, rotary_coeff=2, partial="split")
    gq, gk = torch.randn(rq.shape, dtype=torch.float32), torch.randn(rk.shape, dtype=torch.float32)
    dq, dk = torch.autograd.grad((rq, rk), (q, k), (gq, gk))
    # <g, J x> == <J^T g, x> in float64 on the reference
    for x, g, dx in ((q, gq, dq), (k, gk, dk)):
        jx = _atb_split_ref(f64(x).reshape(t, -1), f64(cos), f64(sin), hs)
        lhs = float((f64(g).reshape(t, -1) * jx).sum())
        rhs = float((f64(dx).reshape(t, -1) * f64(x).reshape(t, -1)).sum())
        assert abs(lhs - rhs) <= 1e-5 * max(1.0, abs(lhs))
    # and torch.compile through the op with its new arguments
    f = torch.compile(lambda a, b: librope.rope_atb(a, b, cos, sin, seqlen, rotary_coeff=2, partial="split"),
                      fullgraph=True, backend="eager")
    cq, ck = f(q.detach(), k.detach())
    assert torch.equal(cq, rq.detach()) and torch.equal(ck, rk.detach())


@pytest.mark.parametrize("kwargs,match", [
    (dict(partial="split"), "head_size= with a 2-D"),
    (dict(partial="both", head_size=32), "partial must be 'leading' or 'split'"),
    (dict(partial="split", head_size=30), "head_size"),      # does not divide hidden 64: the library
    (dict(partial="split", head_size=32, rotary_coeff=4), "rotary_coeff|partial"),
])
def test_atb_bad_split_names_the_argument(kwargs, match, rng):
    t, d = 3, 8
    cos, sin = uniform(rng, (t, d)).astype(np.float32), uniform(rng, (t, d)).astype(np.float32)
    q, k = uniform(rng, (t, 64)).astype(np.float32), uniform(rng, (t, 32)).astype(np.float32)
    out = (np.full_like(q, 5.0), np.full_like(k, 5.0))
    kw = dict(rotary_coeff=2)
    kw.update(kwargs)
    with pytest.raises(ValueError, match=match):
        librope.rope_atb(q, k, cos, sin, np.array([t], np.int32), out=out, **kw)
    assert (out[0] == 5.0).all() and (out[1] == 5.0).all()


# ---- cos_sin of a proportional config: the [n, rot/2] table --------------------------------------

def _proportional(head, partial, factor=None, theta=1e6):
    p = {"rope_type": "proportional", "rope_theta": theta, "partial_rotary_factor": partial}
    if factor is not None:
        p["factor"] = factor
    return {"hidden_size": 4 * head, "num_attention_heads": 4, "head_dim": head, "max_position_embeddings": 1 << 20,
            "rope_parameters": p}


def _ulps(got, want, dtype):
    eps = {"float32": 2.0 ** -24, "float16": 2.0 ** -11, "bfloat16": 2.0 ** -8}[dtype]
    return np.abs(f64(got) - want) / (np.maximum(np.abs(want), 2.0 ** -14) * eps)


@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16"])
@pytest.mark.parametrize("framework", ["numpy", "torch"])
@pytest.mark.parametrize("head,partial,factor", [(256, 0.25, None), (128, 0.5, 8.0), (64, 0.3, None),
                                                 (512, 0.25, 2.0)])
def test_proportional_table_rotated_pairs_only(framework, dtype, head, partial, factor):
    """[count, n] columns, frequency 1 / theta^(2i / head) / factor (head in the exponent), i < n; the
    full layout [count, 2n] as rotary_coeff places the pairs; head_wide=True the transformers form."""
    need(framework, dtype)
    n = int(partial * head // 2)
    start, end = 12345, 12345 + 37
    cfg = _proportional(head, partial, factor)
    cos, sin = librope.cos_sin(cfg, start, end, dtype=dtype, framework=framework)
    assert tuple(cos.shape) == (end - start, n) and tuple(sin.shape) == (end - start, n)
    inv = 1.0 / 1e6 ** (2 * np.arange(n) / head) / (factor or 1.0)
    ang = np.arange(start, end, dtype=np.float64)[:, None] * inv[None]
    assert _ulps(cos, np.cos(ang), dtype).max() <= 1.0 and _ulps(sin, np.sin(ang), dtype).max() <= 1.0
    wide_c, wide_s = librope.cos_sin(cfg, start, end, dtype=dtype, framework=framework, head_wide=True)
    assert tuple(wide_c.shape) == (end - start, head // 2)
    assert np.array_equal(f64(wide_c)[:, :n], f64(cos)) and np.array_equal(f64(wide_s)[:, :n], f64(sin))
    assert (f64(wide_c)[:, n:] == 1).all() and (f64(wide_s)[:, n:] == 0).all()
    for coeff in (2, 4, 2 * n):
        if (2 * n) % coeff:
            continue
        fc, fs = librope.cos_sin(cfg, start, end, dtype=dtype, framework=framework, layout="full",
                                 rotary_coeff=coeff)
        assert tuple(fc.shape) == (end - start, 2 * n)
        rs = 2 * n // coeff
        e = np.arange(2 * n)
        pair = (e // (2 * rs)) * rs + (e % (2 * rs)) % rs
        assert np.array_equal(f64(fc), f64(cos)[:, pair]) and np.array_equal(f64(fs), f64(sin)[:, pair])


def test_proportional_table_serves_split_as_the_head_wide_table_serves_halves(rng):
    """Rotating with the [n] table and partial="split" gives what the head-wide table gives at full
    width (the pairs past n: cos 1, sin 0, i.e. x unchanged), bitwise in float32."""
    head, partial = 64, 0.25
    cfg = _proportional(head, partial)
    cos, sin = librope.cos_sin(cfg, 0, 32)
    wc, ws = librope.cos_sin(cfg, 0, 32, head_wide=True)
    x = uniform(rng, (2, 3, 5, head)).astype(np.float32)
    pos = rng.integers(0, 32, size=(2, 5))
    a = librope.rotary_embedding_onnx(x, cos, sin, pos, rotary_embedding_dim=cos.shape[1] * 2, partial="split")
    b = librope.rotary_embedding_onnx(x, wc, ws, pos)
    assert np.array_equal(a, b)
    n = cos.shape[1]
    untouched = np.ones(head, bool)
    untouched[:n] = untouched[head // 2: head // 2 + n] = False
    assert np.array_equal(a[..., untouched], x[..., untouched])


def test_proportional_bad_rotary_coeff_names_it():
    with pytest.raises(ValueError, match="rotary_coeff"):
        librope.cos_sin(_proportional(64, 0.25), 0, 4, layout="full", rotary_coeff=3)


# ---- opcheck: the ops with the new arguments -----------------------------------------------------

def _copy_strided(torch, a):
    b = torch.empty_strided(a.shape, a.stride(), dtype=a.dtype)
    b.copy_(a)
    return b


def test_opcheck_new_layouts(rng):
    """torch.library.opcheck (schema, fake, autograd registration, AOT dispatch) on samples using the
    new arguments: ONNX layouts 2 and 3, ATB split with head_size, vLLM offset / inverse / split /
    pairs_to_halves."""
    torch = pytest.importorskip("torch")
    librope.load_torch_ops()
    ops = torch.ops.librope

    def tt(shape, dtype=torch.float32):
        return torch.tensor(uniform(rng, shape), dtype=dtype)

    c, s = angles_cache(rng, 12, 8)
    cos, sin = torch.tensor(c, dtype=torch.float32), torch.tensor(s, dtype=torch.float32)
    ids = torch.from_numpy(rng.integers(0, 12, size=(2, 5)))
    for layout, rdim in ((_ONNX_SPLIT, 16), (_ONNX_P2H, 16)):
        args = (tt((2, 3, 5, 64)), cos, sin, ids, layout, rdim, 0)
        grad = (args[0].clone().requires_grad_(True),) + args[1:]
        torch.library.opcheck(ops.rotary_embedding_onnx, grad)
        torch.library.opcheck(ops.rotary_embedding_onnx_backward, grad)
        torch.library.opcheck(ops.rotary_embedding_onnx_out, (args[0].clone(),) + args[1:] + (torch.zeros(2, 3, 5, 64),))
        torch.library.opcheck(ops.rotary_embedding_onnx_inplace, (args[0].clone(),) + args[1:])
    ca, sa = tt((5, 16)), tt((5, 16))
    seqlen = torch.tensor([5], dtype=torch.int32)
    for q, k, hs in ((tt((5, 4 * 64)), tt((5, 64)), 64), (tt((1, 5, 2, 32), torch.bfloat16),
                                                          tt((1, 5, 2, 32), torch.bfloat16), 32)):
        if q.dtype is torch.bfloat16:
            ca, sa = ca.to(torch.bfloat16), sa.to(torch.bfloat16)
        base = (q, k, ca, sa, seqlen, 2, 0)
        grad = (q.clone().requires_grad_(True), k.clone().requires_grad_(True)) + base[2:]
        torch.library.opcheck(ops.rope_atb, grad + (1, hs))
        torch.library.opcheck(ops.rope_atb_backward, grad + (1, hs))
        outs = (torch.zeros(q.shape, dtype=q.dtype), torch.zeros(k.shape, dtype=k.dtype))
        torch.library.opcheck(ops.rope_atb_out, (q.clone(), k.clone()) + base[2:] + outs + (1, hs))
        torch.library.opcheck(ops.rope_atb_inplace, (q.clone(), k.clone()) + base[2:] + (1, hs))
    cache = torch.tensor(np.concatenate(angles_cache(rng, 20, 16), axis=1), dtype=torch.float32)
    pos = torch.from_numpy(rng.integers(0, 20, size=6))
    qkv = tt((6, (4 + 2) * 64))
    q, k = qkv[:, : 4 * 64], qkv[:, 4 * 64:]
    for later in ((32, True, 0, False), (0, False, 1, False), (32, True, 0, True)):
        is_neox = not later[3]
        torch.library.opcheck(ops.rotary_embedding, (pos, _copy_strided(torch, q), _copy_strided(torch, k), 64,
                                                     cache, is_neox, None, False) + later)


_ONNX_P2H, _ONNX_SPLIT = 2, 3
