# SPDX-License-Identifier: MIT
"""librope under the PyTorch compiler: the torch.library ops (torch.ops.librope.*) pass opcheck,
torch.compile(fullgraph=True) traces a function calling all three operators (functional, out= and in
place) with no graph break, backward runs through a compiled graph, torch.export exports and runs a
module calling them, and dynamic sequence lengths compile once. Results are compared bit for bit with
eager calls and against float64 references (reference.py, and the transposed rotations written here)."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")

import librope  # noqa: E402
from conftest import angles_cache, assert_close, uniform  # noqa: E402
from reference import atb_ref, f64, onnx_ref, vllm_ref  # noqa: E402

librope.load_torch_ops()  # librope may have been imported before torch: register the ops now
# opcheck and torch.export touch torch.jit, which warns of its own deprecation
pytestmark = pytest.mark.filterwarnings("ignore:.*torch.jit.*:DeprecationWarning")
OPS = torch.ops.librope
DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}


def t(rng, shape, dtype="float32"):
    return torch.from_numpy(uniform(rng, shape)).to(DTYPES[dtype])


def onnx_tables(rng, rows, half, dtype="float32"):
    c, s = angles_cache(rng, rows, half)
    return torch.from_numpy(c).to(DTYPES[dtype]), torch.from_numpy(s).to(DTYPES[dtype])


def atb_tables(rng, rows, d, coeff, dtype="float32"):
    """Full-width cos/sin in ATB's layout (each pair's angle in both of its elements)."""
    rs = d // coeff
    ang = np.zeros((rows, d))
    for g in range(d // (2 * rs)):
        a = rng.uniform(-np.pi, np.pi, size=(rows, rs))
        ang[:, 2 * g * rs: 2 * g * rs + rs] = a
        ang[:, 2 * g * rs + rs: 2 * (g + 1) * rs] = a
    return torch.from_numpy(np.cos(ang)).to(DTYPES[dtype]), torch.from_numpy(np.sin(ang)).to(DTYPES[dtype])


def vllm_cache(rng, rows, rot, dtype="float32"):
    c, s = angles_cache(rng, rows, rot // 2)
    return torch.from_numpy(np.concatenate([c, s], axis=1)).to(DTYPES[dtype])


def same(a, b, what=""):
    assert a.dtype == b.dtype and a.shape == b.shape, what
    assert torch.equal(a, b), f"{what}: differs by {(a.float() - b.float()).abs().max()}"


# ---- float64 references of the transposed rotations (the backward passes) ------------------------

def onnx_transposed(w, cos, sin, ids, r):
    """d<w, Y>/dX for 4-D halves ONNX RotaryEmbedding: (y1, y2) = (c x1 - s x2, s x1 + c x2) transposed."""
    w = f64(w)
    p = f64(ids).astype(np.int64)
    c, s = f64(cos)[p][:, None], f64(sin)[p][:, None]
    h = r // 2
    g = w.copy()
    g[..., :h] = c * w[..., :h] + s * w[..., h:r]
    g[..., h:r] = -s * w[..., :h] + c * w[..., h:r]
    return g


def atb_transposed(w, cos, sin, coeff):
    """d<w, rope(X)>/dX for ATB rows [T, hidden] with full-width cos/sin [T, D] (any table values)."""
    w, cos, sin = f64(w), f64(cos), f64(sin)
    d = cos.shape[1]
    rs = d // coeff
    g = np.empty_like(w)
    for c0 in range(0, w.shape[1], d):
        for i in range(d):
            j = c0 + i
            if i % (2 * rs) < rs:  # out[j] = x[j] c - x[j+rs] s;  out[j+rs] = x[j+rs] c + x[j] s[i+rs]
                g[:, j] = w[:, j] * cos[:, i] + w[:, j + rs] * sin[:, i + rs]
            else:
                g[:, j] = w[:, j] * cos[:, i] - w[:, j - rs] * sin[:, i - rs]
    return g


# ---- opcheck on every op -------------------------------------------------------------------------

def _onnx_samples(rng):
    """(args of librope::rotary_embedding_onnx): f32 4-D with ids; bf16 3-D partial interleaved with a
    3-D cache; f16 strided rows (a slice of a fused QKV) with ids and partial rotation."""
    cos, sin = onnx_tables(rng, 12, 8)
    ids = torch.from_numpy(rng.integers(0, 12, size=(2, 5)))
    yield t(rng, (2, 3, 5, 16)), cos, sin, ids, 0, 0, 0
    c3, s3 = (torch.from_numpy(a).to(torch.bfloat16) for a in angles_cache(rng, 2 * 4, 4))
    yield t(rng, (2, 4, 2 * 16), "bfloat16"), c3.view(2, 4, 4), s3.view(2, 4, 4), None, 1, 8, 2
    qkv = t(rng, (2, 5, 3 * 2 * 16), "float16")
    c16, s16 = onnx_tables(rng, 12, 4, "float16")
    yield qkv[..., : 2 * 16], c16, s16, ids, 0, 8, 2


def _atb_samples(rng):
    """(query, key, cos, sin, seqlen, rotary_coeff, cos_format): f32 2-D GQA coeff 2; bf16 4-D coeff 4
    in two packed sequences; f16 q and k split from a fused QKV (strided rows) with f32 cos/sin."""
    c, s = atb_tables(rng, 6, 16, 2)
    yield t(rng, (6, 4 * 16)), t(rng, (6, 2 * 16)), c, s, torch.tensor([6], dtype=torch.int32), 2, 0
    c, s = atb_tables(rng, 3, 16, 4, "bfloat16")
    yield (t(rng, (2, 3, 2, 16), "bfloat16"), t(rng, (2, 3, 1, 16), "bfloat16"), c, s,
           torch.tensor([3, 3], dtype=torch.int32), 4, 1)
    qkv = t(rng, (5, (4 + 2 * 2) * 32), "float16")
    q, k, _ = qkv.split([4 * 32, 2 * 32, 2 * 32], dim=-1)
    c, s = atb_tables(rng, 5, 32, 2)
    yield q, k, c, s, torch.tensor([5], dtype=torch.int32), 2, 0


def _vllm_samples(rng):
    """(positions, query, key, head_size, cos_sin_cache, is_neox, mrope_section, mrope_interleaved):
    f32 2-D neox; bf16 3-D GPT-J partial rotation, no key; f16 q and k split from a fused QKV with
    int32 positions; f32 MRoPE [3, T] interleaved."""
    yield torch.from_numpy(rng.integers(0, 20, size=7)), t(rng, (7, 4 * 16)), t(rng, (7, 2 * 16)), 16, \
        vllm_cache(rng, 20, 16), True, None, False
    yield torch.from_numpy(rng.integers(0, 20, size=6)), t(rng, (6, 3, 16), "bfloat16"), None, 16, \
        vllm_cache(rng, 20, 8, "bfloat16"), False, None, False
    qkv = t(rng, (5, (4 + 2 * 1) * 32), "float16")
    q, k, _ = qkv.split([4 * 32, 32, 32], dim=-1)
    yield torch.from_numpy(rng.integers(0, 20, size=5).astype(np.int32)), q, k, 32, \
        vllm_cache(rng, 20, 32, "float16"), True, None, False
    yield torch.from_numpy(rng.integers(0, 20, size=(3, 6))), t(rng, (6, 2 * 32)), t(rng, (6, 32)), 32, \
        vllm_cache(rng, 20, 32), True, [6, 5, 5], True


def _copy(a):
    """A copy of tensor a with a's strides (a strided row view stays strided: clone() would not)."""
    b = torch.empty_strided(a.shape, a.stride(), dtype=a.dtype)
    b.copy_(a)
    return b


def _grad(args, which):
    """args with the tensors at `which` made leaves that require grad (they then test the autograd)."""
    return tuple(_copy(a).requires_grad_(True) if i in which else a for i, a in enumerate(args))


def _fresh(args):
    return tuple(_copy(a) if isinstance(a, torch.Tensor) else a for a in args)


def test_opcheck_onnx(rng):
    strided = 0
    for args in _onnx_samples(rng):
        strided += not _fresh(args)[0].is_contiguous()
        x, cos, sin, ids, inter, rdim, heads = args
        torch.library.opcheck(OPS.rotary_embedding_onnx, _grad(args, {0}))
        torch.library.opcheck(OPS.rotary_embedding_onnx_backward, _grad(args, {0}))
        out = torch.full(x.shape, 7.0, dtype=x.dtype)
        torch.library.opcheck(OPS.rotary_embedding_onnx_out, _fresh(args) + (out,))
        torch.library.opcheck(OPS.rotary_embedding_onnx_inplace, _fresh(args))
    assert strided == 1


def test_opcheck_atb(rng):
    for args in _atb_samples(rng):
        q, k = args[0], args[1]
        torch.library.opcheck(OPS.rope_atb, _grad(args, {0, 1}))
        torch.library.opcheck(OPS.rope_atb_backward, _grad(args, {0, 1}))
        outs = (torch.zeros(q.shape, dtype=q.dtype), torch.zeros(k.shape, dtype=k.dtype))
        torch.library.opcheck(OPS.rope_atb_out, _fresh(args) + outs)
        torch.library.opcheck(OPS.rope_atb_inplace, _fresh(args))


def test_opcheck_vllm(rng):
    for args in _vllm_samples(rng):
        torch.library.opcheck(OPS.rotary_embedding, _fresh(args))


MUTATES = {  # op -> the arguments its schema marks as written, and its results
    "rotary_embedding_onnx": (set(), "Tensor"),
    "rotary_embedding_onnx_backward": (set(), "Tensor"),
    "rotary_embedding_onnx_out": ({"out"}, "()"),
    "rotary_embedding_onnx_inplace": ({"x"}, "()"),
    "rope_atb": (set(), "(Tensor, Tensor)"),
    "rope_atb_backward": (set(), "(Tensor, Tensor)"),
    "rope_atb_out": ({"rope_q", "rope_k"}, "()"),
    "rope_atb_inplace": ({"query", "key"}, "()"),
    "rotary_embedding": ({"query", "key"}, "()"),
}


@pytest.mark.parametrize("name", sorted(MUTATES))
def test_op_schema(name):
    """Each op's schema declares exactly the arguments it writes (what functionalization relies on)."""
    schema = getattr(OPS, name).default._schema
    written = {a.name for a in schema.arguments if a.alias_info is not None and a.alias_info.is_write}
    assert written == MUTATES[name][0], str(schema)
    assert str(schema).endswith("-> " + MUTATES[name][1]), str(schema)


# ---- eager: the direct path and the op agree ------------------------------------------------------

def test_eager_direct_call_equals_the_op(rng):
    """Eager calls on plain tensors skip the dispatcher; the op gives the same bits."""
    for x, cos, sin, ids, inter, rdim, heads in _onnx_samples(rng):
        direct = librope.rotary_embedding_onnx(x, cos, sin, ids, interleaved=bool(inter),
                                               rotary_embedding_dim=rdim, num_heads=heads)
        same(direct, OPS.rotary_embedding_onnx(x, cos, sin, ids, inter, rdim, heads), "onnx")
    for q, k, cos, sin, seqlen, coeff, fmt in _atb_samples(rng):
        dq, dk = librope.rope_atb(q, k, cos, sin, seqlen, rotary_coeff=coeff, cos_format=fmt)
        oq, ok = OPS.rope_atb(q, k, cos, sin, seqlen, coeff, fmt)
        same(dq, oq, "atb q")
        same(dk, ok, "atb k")


class _Record:
    """A dispatch mode (as make_fx and non-strict export use) recording the ops it sees."""

    def __init__(self):
        from torch.utils._python_dispatch import TorchDispatchMode

        seen = self.seen = []

        class Mode(TorchDispatchMode):
            def __torch_dispatch__(self, func, types, args=(), kwargs=None):
                seen.append(str(func))
                return func(*args, **(kwargs or {}))

        self.mode = Mode()


def _forms(rng):
    """(op the form goes through, the call on fresh tensors returning what to compare) for every form
    of the three operators."""
    x, cos, sin, ids, *_ = next(_onnx_samples(rng))
    q, k, acos, asin, seqlen, coeff, fmt = next(_atb_samples(rng))
    vllm_args = next(_vllm_samples(rng))

    def onnx_out():
        y = torch.zeros_like(x)
        librope.rotary_embedding_onnx(x, cos, sin, ids, out=y)
        return (y,)

    def onnx_inplace():
        xi = x.clone()
        librope.rotary_embedding_onnx(xi, cos, sin, ids, out=xi)
        return (xi,)

    def atb_out():
        outs = (torch.zeros_like(q), torch.zeros_like(k))
        return librope.rope_atb(q, k, acos, asin, seqlen, rotary_coeff=coeff, cos_format=fmt, out=outs)

    def atb_inplace():
        qi, ki = q.clone(), k.clone()
        return librope.rope_atb(qi, ki, acos, asin, seqlen, rotary_coeff=coeff, cos_format=fmt, out=(qi, ki))

    def atb_mixed():
        qi = q.clone()
        return librope.rope_atb(qi, k, acos, asin, seqlen, rotary_coeff=coeff, cos_format=fmt,
                                out=(qi, torch.zeros_like(k)))

    def vllm():
        pos, vq, vk, hs, cache, neox, section, inter = _fresh(vllm_args)
        librope.rotary_embedding(pos, vq, vk, hs, cache, neox, mrope_section=section, mrope_interleaved=inter)
        return vq, vk

    yield "rotary_embedding_onnx", lambda: (librope.rotary_embedding_onnx(x, cos, sin, ids),)
    yield "rotary_embedding_onnx_out", onnx_out
    yield "rotary_embedding_onnx_inplace", onnx_inplace
    yield "rope_atb", lambda: librope.rope_atb(q, k, acos, asin, seqlen, rotary_coeff=coeff, cos_format=fmt)
    yield "rope_atb_out", atb_out
    yield "rope_atb_inplace", atb_inplace
    yield "rope_atb", atb_mixed  # one output in place: the functional op, copied into the outputs
    yield "rotary_embedding", vllm


def test_every_form_through_the_op_equals_the_direct_call(rng):
    """Eager calls on plain tensors skip the dispatcher; under a dispatch mode every form is its op
    (which the mode sees), with the same bits."""
    for op, call in _forms(rng):
        direct = call()
        record = _Record()
        with record.mode:
            through_op = call()
        assert f"librope.{op}.default" in record.seen, (op, record.seen)
        for a, b in zip(direct, through_op):
            same(b, a, op)


def test_fake_tensors(rng):
    """Under FakeTensorMode the fakes give the results' shapes and dtypes (dense, whatever the input's
    row stride)."""
    try:
        from torch._subclasses.fake_tensor import FakeTensorMode
    except ImportError:
        pytest.skip("this torch has no torch._subclasses.fake_tensor")
    with FakeTensorMode():
        qkv = torch.empty(4, 128, dtype=torch.bfloat16)
        rq, rk = librope.rope_atb(qkv[:, :64], qkv[:, 64:96], torch.empty(4, 16), torch.empty(4, 16),
                                  torch.empty(1, dtype=torch.int32))
        assert rq.shape == (4, 64) and rk.shape == (4, 32) and rq.dtype == torch.bfloat16
        assert rq.is_contiguous() and rk.is_contiguous()
        y = librope.rotary_embedding_onnx(torch.empty(2, 5, 48, dtype=torch.float16), torch.empty(9, 8),
                                          torch.empty(9, 8), torch.empty(2, 5, dtype=torch.int64), num_heads=3)
        assert y.shape == (2, 5, 48) and y.dtype == torch.float16


def test_errors_unchanged_through_the_op(rng):
    """A bad call raises the library's RopeError whether it goes through the op (grad) or not."""
    x, cos, sin, _, *_ = next(_onnx_samples(rng))
    bad = torch.tensor([[0, 1, 12, 3, 4], [0, 0, 0, 0, 0]])
    with pytest.raises(librope.RopeError) as direct:
        librope.rotary_embedding_onnx(x, cos, sin, bad)
    with pytest.raises(librope.RopeError) as through_op:
        librope.rotary_embedding_onnx(x.clone().requires_grad_(True), cos, sin, bad)
    assert str(direct.value) == str(through_op.value) and direct.value.status == through_op.value.status
    assert direct.value.status == "ROPE_ERROR_INDEX" and "position_ids[0][2] = 12" in str(direct.value)


def test_double_backward(rng):
    """The backward op's own gradient is the forward: grad of <v, R^T w> by w is R v."""
    x, cos, sin, ids, *_ = next(_onnx_samples(rng))
    x = x.clone().requires_grad_(True)
    w = t(rng, x.shape).requires_grad_(True)
    v = t(rng, x.shape)
    (gx,) = torch.autograd.grad((librope.rotary_embedding_onnx(x, cos, sin, ids) * w).sum(), x, create_graph=True)
    assert_close(gx, onnx_transposed(w, cos, sin, ids, 16), "float32", "R^T w")
    (gx * v).sum().backward()
    assert_close(w.grad, onnx_ref(v, cos, sin, ids), "float32", "R v")


def test_backward_ops_return_the_gradient_in_its_layout(rng):
    """A backward op returns dx laid out as dy (torch.empty_like), as an elementwise autograd formula
    would, whatever the kernel's own rows: a transposed (dense) dy gives a transposed dx, an expanded
    one a dense dx in its dimension order; the values are the float64 transposed rotation's in every
    layout, and the fake implementation gives the real strides (opcheck compares them)."""
    b, h, s, d = 2, 3, 5, 16
    cos, sin = onnx_tables(rng, 12, d // 2)
    ids = torch.from_numpy(rng.integers(0, 12, size=(b, s)))
    layouts = {
        "dense": t(rng, (b, h, s, d)),
        "transposed": t(rng, (b, s, h, d)).transpose(1, 2),
        "expanded": t(rng, (b, 1, s, d)).expand(b, h, s, d),
    }
    for name, dy in layouts.items():
        dx = OPS.rotary_embedding_onnx_backward(dy, cos, sin, ids, 0, 0, 0)
        assert dx.stride() == torch.empty_like(dy).stride(), (name, dx.stride())
        assert_close(dx, onnx_transposed(dy, cos, sin, ids, d), "float32", name)
        torch.library.opcheck(OPS.rotary_embedding_onnx_backward, (dy, cos, sin, ids, 0, 0, 0))
    acos, asin = atb_tables(rng, s, d, 2)
    seqlen = torch.tensor([s] * b, dtype=torch.int32)
    gq = t(rng, (b, 4, s, d)).transpose(1, 2)  # [B, S, H, D] head-major: eager attention's dq
    gk = t(rng, (b, s, 2, d))
    dq, dk = OPS.rope_atb_backward(gq, gk, acos, asin, seqlen, 2, 1)
    assert dq.stride() == gq.stride() and dk.stride() == gk.stride()
    rows = lambda a: a.reshape(b * s, -1)  # noqa: E731 -- token rows, cos row = position in its sequence
    cos_rows, sin_rows = acos.repeat(b, 1), asin.repeat(b, 1)
    assert_close(rows(dq), atb_transposed(rows(gq), cos_rows, sin_rows, 2), "float32", "dq")
    assert_close(rows(dk), atb_transposed(rows(gk), cos_rows, sin_rows, 2), "float32", "dk")
    torch.library.opcheck(OPS.rope_atb_backward, (gq, gk, acos, asin, seqlen, 2, 1))


# ---- torch.compile ------------------------------------------------------------------------------

def _step_inputs(rng, dtype):
    """A decode/prefill-like step's tensors: ONNX x with ids, a fused QKV for ATB, another for vLLM."""
    b, h, s, d = 2, 4, 6, 32
    x = t(rng, (b, h, s, d), dtype)
    cos, sin = onnx_tables(rng, 40, d // 2, dtype)
    ids = torch.from_numpy(rng.integers(0, 40, size=(b, s)))
    hq, hk, n = 4, 2, b * s
    qkv = t(rng, (n, (hq + 2 * hk) * d), dtype)
    acos, asin = atb_tables(rng, n, d, 2, dtype)
    seqlen = torch.tensor([s] * b, dtype=torch.int32)
    qkv2 = t(rng, (n, (hq + 2 * hk) * d), dtype)
    cache = vllm_cache(rng, 40, d, dtype)
    positions = torch.from_numpy(rng.integers(0, 40, size=n))
    return x, cos, sin, ids, qkv, acos, asin, seqlen, qkv2, cache, positions


def _step(x, cos, sin, ids, qkv, acos, asin, seqlen, qkv2, cache, positions):
    """Every operator and every form: ONNX new / out= / in place, ATB new / in place on q and k split
    from a fused QKV, vLLM in place on another fused QKV (when the build has it)."""
    d = x.shape[-1]
    y = librope.rotary_embedding_onnx(x, cos, sin, ids)
    y_half = torch.empty_like(x)
    librope.rotary_embedding_onnx(x, cos[:, : d // 4].contiguous(), sin[:, : d // 4].contiguous(), ids,
                                  rotary_embedding_dim=d // 2, out=y_half)
    x_inter = x.clone()
    librope.rotary_embedding_onnx(x_inter, cos, sin, ids, interleaved=True, out=x_inter)
    q, k, v = qkv.split([4 * d, 2 * d, 2 * d], dim=-1)
    rq, rk = librope.rope_atb(q, k, acos, asin, seqlen, rotary_coeff=2, cos_format=1)
    librope.rope_atb(q, k, acos, asin, seqlen, rotary_coeff=2, out=(q, k))
    q2, k2, _ = qkv2.split([4 * d, 2 * d, 2 * d], dim=-1)
    librope.rotary_embedding(positions, q2, k2, d, cache, True)
    return y, y_half, x_inter, rq, rk


@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
def test_compile_fullgraph_all_operators(dtype, rng):
    inputs = _step_inputs(rng, dtype)
    x, cos, sin, ids, qkv, acos, asin, seqlen, qkv2, cache, positions = inputs
    eager_in, compiled_in = _fresh(inputs), _fresh(inputs)
    want = _step(*eager_in)
    got = torch.compile(_step, fullgraph=True)(*compiled_in)  # fullgraph: a graph break is an error
    for name, a, b in zip(("y", "y_half", "x_inter", "rq", "rk"), got, want):
        same(a, b, name)
    same(compiled_in[4], eager_in[4], "qkv rotated in place")
    same(compiled_in[8], eager_in[8], "qkv2 rotated in place")
    same(compiled_in[0], x, "x untouched")

    # against the float64 references
    d = x.shape[-1]
    assert_close(got[0], onnx_ref(x, cos, sin, ids), dtype, "onnx")
    half_cos, half_sin = f64(cos)[:, : d // 4], f64(sin)[:, : d // 4]
    assert_close(got[1], onnx_ref(x, half_cos, half_sin, ids, 0, d // 2), dtype, "onnx partial")
    assert_close(got[2], onnx_ref(x, cos, sin, ids, 1), dtype, "onnx interleaved in place")
    q, k, v = qkv.split([4 * d, 2 * d, 2 * d], dim=-1)
    want_q1, want_k1 = atb_ref(q, k, acos, asin, seqlen, 2, 1)
    assert_close(got[3], want_q1, dtype, "atb q")
    assert_close(got[4], want_k1, dtype, "atb k")
    want_q0, want_k0 = atb_ref(q, k, acos, asin, seqlen, 2, 0)
    after = compiled_in[4]
    assert_close(after[:, : 4 * d], want_q0, dtype, "atb q in place")
    assert_close(after[:, 4 * d: 6 * d], want_k0, dtype, "atb k in place")
    same(after[:, 6 * d:], v, "v untouched")
    q2, k2, v2 = qkv2.split([4 * d, 2 * d, 2 * d], dim=-1)
    after2 = compiled_in[8]
    assert_close(after2[:, : 4 * d], vllm_ref(positions, q2, d, cache, True), dtype, "vllm q")
    assert_close(after2[:, 4 * d: 6 * d], vllm_ref(positions, k2, d, cache, True), dtype, "vllm k")
    same(after2[:, 6 * d:], v2, "v2 untouched")


def test_explain_one_graph_with_the_ops(rng):
    """Dynamo's own count: one graph, no break, holding the ops of every form."""
    inputs = _step_inputs(rng, "float32")
    explain = torch._dynamo.explain(_step)(*_fresh(inputs))
    assert explain.graph_break_count == 0 and explain.graph_count == 1, explain.break_reasons
    ops = {str(op) for graph_ops in explain.ops_per_graph for op in graph_ops}
    want = {"librope.rotary_embedding_onnx.default", "librope.rotary_embedding_onnx_out.default",
            "librope.rotary_embedding_onnx_inplace.default", "librope.rope_atb.default",
            "librope.rope_atb_inplace.default"}
    want.add("librope.rotary_embedding.default")
    assert want <= ops, ops


def test_compiled_backward(rng):
    """x, q and k require grad; the forward and backward graphs are compiled (AOTAutograd + inductor)
    and the backward graph runs the library's backward ops."""
    b, h, s, d, hq, hk = 2, 3, 5, 16, 4, 2
    x0 = t(rng, (b, h, s, d))
    cos, sin = onnx_tables(rng, 20, d // 2)
    ids = torch.from_numpy(rng.integers(0, 20, size=(b, s)))
    q0, k0 = t(rng, (b * s, hq * d)), t(rng, (b * s, hk * d))
    acos, asin = t(rng, (b * s, d)), t(rng, (b * s, d))  # the transpose holds for any table
    seqlen = torch.tensor([b * s], dtype=torch.int32)
    wy, wq, wk = t(rng, x0.shape), t(rng, q0.shape), t(rng, k0.shape)

    def loss(x, q, k):
        y = librope.rotary_embedding_onnx(x, cos, sin, ids)
        rq, rk = librope.rope_atb(q, k, acos, asin, seqlen, rotary_coeff=4)
        return (y * wy).sum() + (rq * wq).sum() + (rk * wk).sum()

    leaves_eager = [a.clone().requires_grad_(True) for a in (x0, q0, k0)]
    leaves_compiled = [a.clone().requires_grad_(True) for a in (x0, q0, k0)]
    loss(*leaves_eager).backward()
    torch.compile(loss, fullgraph=True)(*leaves_compiled).backward()
    for name, e, c in zip("xqk", leaves_eager, leaves_compiled):
        same(c.grad, e.grad, f"grad {name}")
    assert_close(leaves_compiled[0].grad, onnx_transposed(wy, cos, sin, ids, d), "float32", "grad x")
    assert_close(leaves_compiled[1].grad, atb_transposed(wq, acos, asin, 4), "float32", "grad q")
    assert_close(leaves_compiled[2].grad, atb_transposed(wk, acos, asin, 4), "float32", "grad k")


def test_backward_graph_holds_the_backward_ops(rng):
    """AOTAutograd's backward graph calls the library's backward ops (the forward graph the forward
    ops): the backward is traced and compiled, not run eagerly beside the graph."""
    try:
        from functorch.compile import make_boxed_func
        from torch._dynamo.backends.common import aot_autograd
    except ImportError:
        pytest.skip("this torch has no torch._dynamo.backends.common.aot_autograd or make_boxed_func")
    graphs = {"forward": [], "backward": []}

    def recorder(kind):
        def compiler(gm, example_inputs):
            graphs[kind] += [str(n.target) for n in gm.graph.nodes if n.op == "call_function"]
            return make_boxed_func(gm.forward)
        return compiler

    backend = aot_autograd(fw_compiler=recorder("forward"), bw_compiler=recorder("backward"))
    x, cos, sin, ids, *_ = next(_onnx_samples(rng))
    q, k, acos, asin, seqlen, coeff, fmt = next(_atb_samples(rng))

    def f(x, q, k):
        rq, rk = librope.rope_atb(q, k, acos, asin, seqlen, rotary_coeff=coeff, cos_format=fmt)
        return librope.rotary_embedding_onnx(x, cos, sin, ids).sum() + (rq * rk.repeat(1, 2)).sum()

    leaves = [a.clone().requires_grad_(True) for a in (x, q, k)]
    torch.compile(f, backend=backend, fullgraph=True)(*leaves).backward()
    assert {"librope.rotary_embedding_onnx.default", "librope.rope_atb.default"} <= set(graphs["forward"])
    assert {"librope.rotary_embedding_onnx_backward.default",
            "librope.rope_atb_backward.default"} <= set(graphs["backward"]), graphs["backward"]
    assert all(a.grad is not None for a in leaves)


def test_dynamic_sequence_length_compiles_once(rng):
    """The sequence dim marked dynamic: one graph serves every length (the fakes keep it symbolic)."""
    try:
        from torch._dynamo.testing import CompileCounterWithBackend
    except ImportError:
        pytest.skip("this torch has no torch._dynamo.testing.CompileCounterWithBackend")
    counter = CompileCounterWithBackend("aot_eager")
    cos, sin = onnx_tables(rng, 64, 8)
    acos, asin = atb_tables(rng, 64, 16, 2)

    def f(x, ids, q, k, seqlen):
        y = librope.rotary_embedding_onnx(x, cos, sin, ids)
        rq, rk = librope.rope_atb(q, k, acos, asin, seqlen, rotary_coeff=2, cos_format=1)
        return y, rq, rk

    compiled = torch.compile(f, backend=counter, fullgraph=True)
    for s in (5, 9, 17):
        x, ids = t(rng, (1, 2, s, 16)), torch.from_numpy(rng.integers(0, 64, size=(1, s)))
        q, k, seqlen = t(rng, (s, 32)), t(rng, (s, 16)), torch.tensor([s], dtype=torch.int32)
        for a, dim in ((x, 2), (ids, 1), (q, 0), (k, 0)):
            torch._dynamo.mark_dynamic(a, dim)
        y, rq, rk = compiled(x, ids, q, k, seqlen)
        same(y, librope.rotary_embedding_onnx(x, cos, sin, ids), "onnx")
        wq, wk = librope.rope_atb(q, k, acos, asin, seqlen, rotary_coeff=2, cos_format=1)
        same(rq, wq, "atb q")
        same(rk, wk, "atb k")
    assert counter.frame_count == 1


def test_compiled_errors_are_the_library_s(rng):
    """A bad input met at run time by a compiled graph raises the library's RopeError, unchanged."""
    x, cos, sin, ids, *_ = next(_onnx_samples(rng))
    f = torch.compile(lambda x, ids: librope.rotary_embedding_onnx(x, cos, sin, ids), fullgraph=True,
                      backend="aot_eager")
    same(f(x, ids), librope.rotary_embedding_onnx(x, cos, sin, ids), "good ids")
    bad = ids.clone()
    bad[1, 3] = 12
    with pytest.raises(librope.RopeError) as e:
        f(x, bad)
    assert e.value.status == "ROPE_ERROR_INDEX" and "position_ids[1][3] = 12: expected in [0, 12)" in str(e.value)


# ---- torch.export --------------------------------------------------------------------------------

class Attention(torch.nn.Module):
    """A toy attention block's rotary part: ONNX on x, ATB on q and k split from a fused projection
    (then rotated in place by vLLM's operator where the build has it), caches as buffers."""

    def __init__(self, rng, d=16, hq=2, hk=1):
        super().__init__()
        self.d, self.hq, self.hk = d, hq, hk
        cos, sin = onnx_tables(rng, 64, d // 2)
        acos, asin = atb_tables(rng, 64, d, 2)
        self.register_buffer("cos", cos)
        self.register_buffer("sin", sin)
        self.register_buffer("acos", acos)
        self.register_buffer("asin", asin)
        self.register_buffer("cache", vllm_cache(rng, 64, d))

    def forward(self, x, ids, qkv, seqlen, positions):
        d = self.d
        y = librope.rotary_embedding_onnx(x, self.cos, self.sin, ids)
        q, k, v = qkv.split([self.hq * d, self.hk * d, self.hk * d], dim=-1)
        n = q.shape[0]
        rq, rk = librope.rope_atb(q, k, self.acos[:n], self.asin[:n], seqlen, rotary_coeff=2)
        rq, rk = rq.clone(), rk.clone()
        librope.rotary_embedding(positions, rq, rk, d, self.cache, False)
        return y, rq, rk, v


@pytest.mark.parametrize("strict", [False, True])
def test_export(strict, rng, tmp_path):
    model = Attention(rng)
    s = 6
    args = (t(rng, (1, 2, s, 16)), torch.from_numpy(rng.integers(0, 64, size=(1, s))), t(rng, (s, 64)),
            torch.tensor([s], dtype=torch.int32), torch.from_numpy(rng.integers(0, 64, size=s)))
    ep = torch.export.export(model, args, strict=strict)
    targets = {str(n.target) for n in ep.graph.nodes if n.op == "call_function"}
    assert "librope.rotary_embedding_onnx.default" in targets and "librope.rope_atb.default" in targets, targets
    want = model(*args)
    for name, a, b in zip(("y", "rq", "rk", "v"), ep.module()(*args), want):
        same(a, b, name)
    q, k, _ = args[2].split([32, 16, 16], dim=-1)
    wq, wk = atb_ref(q, k, model.acos[:s], model.asin[:s], args[3], 2, 0)
    wq, wk = (vllm_ref(args[4], w, 16, model.cache, False) for w in (wq, wk))
    assert_close(want[0], onnx_ref(args[0], model.cos, model.sin, args[1]), "float32", "onnx")
    assert_close(want[1], wq, "float32", "q")
    assert_close(want[2], wk, "float32", "k")
    if not strict:
        # saved and loaded back (the ops must be registered before torch.export.load: import librope)
        path = tmp_path / "attention.pt2"
        torch.export.save(ep, str(path))
        loaded = torch.export.load(str(path))
        for name, a, b in zip(("y", "rq", "rk", "v"), loaded.module()(*args), want):
            same(a, b, f"loaded {name}")
