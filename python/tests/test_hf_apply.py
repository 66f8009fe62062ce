# SPDX-License-Identifier: MIT
"""librope.transformers.apply_rotary_pos_emb on its own: against a float64 reference written here
(q*cos + rotate_half(q)*sin on the leading rot elements, the rest passed through), against transformers'
own functions (bitwise in float32), at many shapes and in the layouts models pass (transposed views,
slices of fused QKV projections, partial rotation, a batch-1 cos shared by the batch), with gradients,
and the eager formula where librope's table operator cannot give the same result."""
import subprocess
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import librope  # noqa: E402
from conftest import assert_close, uniform  # noqa: E402
from reference import f64  # noqa: E402

lt = pytest.importorskip("librope.transformers")


# ---- the float64 reference ------------------------------------------------------------------------

def ref_apply(x, cos, sin, unsqueeze_dim):
    """x rotated by the full-width cos/sin rows (each element its own value), in float64."""
    x, cos, sin = f64(x), np.expand_dims(f64(cos), unsqueeze_dim), np.expand_dims(f64(sin), unsqueeze_dim)
    rot, half = cos.shape[-1], cos.shape[-1] // 2
    y = x.copy()
    x1, x2 = x[..., :half], x[..., half:rot]
    y[..., :half] = x1 * cos[..., :half] - x2 * sin[..., :half]
    y[..., half:rot] = x2 * cos[..., half:rot] + x1 * sin[..., half:rot]
    return y


def ref_grad(w, cos, sin, unsqueeze_dim):
    """d(sum(w * apply(x)))/dx in float64: the transposed rotation of w."""
    w, cos, sin = f64(w), np.expand_dims(f64(cos), unsqueeze_dim), np.expand_dims(f64(sin), unsqueeze_dim)
    rot, half = cos.shape[-1], cos.shape[-1] // 2
    g = np.broadcast_to(w, np.broadcast_shapes(w.shape, cos.shape[:-1] + (w.shape[-1],))).copy()
    w1, w2 = g[..., :half].copy(), g[..., half:rot].copy()
    g[..., :half] = w1 * cos[..., :half] + w2 * sin[..., half:rot]
    g[..., half:rot] = w2 * cos[..., half:rot] - w1 * sin[..., :half]
    return g


# ---- inputs in the layouts models pass --------------------------------------------------------------

def rope_rows(rng, batch, seq, rot, scale=1.0, halves_equal=True):
    """cos, sin [batch, seq, rot] as a rotary embedding returns them: the two halves equal (unless
    asked otherwise), scaled by an attention factor."""
    ang = rng.uniform(-np.pi, np.pi, size=(batch, seq, rot // 2))
    cos, sin = np.cos(ang) * scale, np.sin(ang) * scale
    if halves_equal:
        return np.concatenate([cos, cos], -1), np.concatenate([sin, sin], -1)
    ang2 = rng.uniform(-np.pi, np.pi, size=(batch, seq, rot // 2))
    return np.concatenate([cos, np.cos(ang2)], -1), np.concatenate([sin, np.sin(ang2)], -1)


def laid_out(rng, layout, b, h, s, d, unsqueeze_dim, dtype):
    """A q/k tensor [B, H, S, D] (unsqueeze_dim 1) or [B, S, H, D] (2) in the given memory layout."""
    t = lambda shape: torch.from_numpy(uniform(rng, shape)).to(dtype)  # noqa: E731
    if layout == "token":  # the projection's [B, S, H*D] viewed per head (every transformers attention)
        x = t((b, s, h * d)).view(b, s, h, d)
    elif layout == "head":  # dense heads first
        x = t((b, h, s, d)).transpose(1, 2)
    elif layout == "fused_qkv":  # q sliced out of a fused [B, S, (3H)*D] projection (Phi-3)
        x = t((b, s, 3 * h * d))[..., h * d: 2 * h * d].view(b, s, h, d)
    elif layout == "neox_fused":  # GPT-NeoX: [B, S, H, 3*D] chunked per head
        x = t((b, s, h, 3 * d))[..., d: 2 * d]
    elif layout == "strided_d":  # not even the head's elements contiguous
        x = t((b, s, d, h)).transpose(2, 3)
    else:
        raise AssertionError(layout)
    assert x.shape == (b, s, h, d)
    return x.transpose(1, 2) if unsqueeze_dim == 1 else x


def hf_function(partial):
    """transformers' own apply_rotary_pos_emb: Llama's, or GPT-NeoX's partial form."""
    transformers = pytest.importorskip("transformers")
    import importlib
    name = "gpt_neox" if partial else "llama"
    module = importlib.import_module(f"transformers.models.{name}.modeling_{name}")
    assert transformers is not None
    return module.apply_rotary_pos_emb


def counting(monkeypatch):
    from hf_support import count_librope_ops
    return count_librope_ops(monkeypatch)


# ---- forward ------------------------------------------------------------------------------------------

SHAPES = [  # batch, q heads, k heads, seq, head size, rot, cos batch
    (1, 4, 2, 7, 16, 16, 1),
    (2, 4, 4, 5, 8, 8, 2),
    (3, 6, 2, 4, 16, 16, 1),   # a batch-1 cos shared by three sequences
    (2, 2, 1, 1, 32, 32, 2),   # a decode step
    (1, 8, 1, 33, 64, 64, 1),
    (2, 4, 2, 6, 16, 4, 1),    # GPT-NeoX: rotary_pct 0.25
    (2, 3, 3, 5, 32, 8, 2),
    (1, 2, 2, 9, 24, 12, 1),   # a partial width that is no power of two
]
LAYOUTS = ["token", "head", "fused_qkv", "neox_fused", "strided_d"]


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("unsqueeze_dim", [1, 2])
def test_float32_matches_reference_and_transformers(shape, layout, unsqueeze_dim, rng, monkeypatch):
    b, hq, hk, s, d, rot, cb = shape
    q = laid_out(rng, layout, b, hq, s, d, unsqueeze_dim, torch.float32)
    k = laid_out(rng, layout, b, hk, s, d, unsqueeze_dim, torch.float32)
    cos, sin = (torch.from_numpy(a).float() for a in rope_rows(rng, cb, s, rot, scale=1.25))
    ops = counting(monkeypatch)
    yq, yk = lt.apply_rotary_pos_emb(q, k, cos, sin, unsqueeze_dim)
    # a librope operator did the work: rope_atb (one call) or the ONNX operator (one per tensor)
    assert ops["rope_atb"].calls + ops["rotary_embedding_onnx"].calls // 2 == 1
    if rot < d:
        assert ops["rotary_embedding_onnx"].calls == 2
    assert yq.shape == q.shape and yk.shape == k.shape and yq.dtype == yk.dtype == torch.float32
    assert_close(yq, ref_apply(q, cos, sin, unsqueeze_dim), "float32", "q")
    assert_close(yk, ref_apply(k, cos, sin, unsqueeze_dim), "float32", "k")
    hq_, hk_ = hf_function(rot < d)(q, k, cos, sin, unsqueeze_dim=unsqueeze_dim)
    assert torch.equal(yq, hq_) and torch.equal(yk, hk_), "not bitwise transformers' float32 result"
    # the inputs are untouched
    assert_close(q, f64(q), "float32")


@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
@pytest.mark.parametrize("shape", SHAPES[:3] + SHAPES[5:6], ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize("layout", ["token", "head", "neox_fused"])
def test_half_precision_within_one_rounding(dtype, shape, layout, rng, monkeypatch):
    """float16/bfloat16: computed in float32 from the rounded inputs, rounded once."""
    b, hq, hk, s, d, rot, cb = shape
    tdtype = getattr(torch, dtype)
    q = laid_out(rng, layout, b, hq, s, d, 1, tdtype)
    k = laid_out(rng, layout, b, hk, s, d, 1, tdtype)
    cos, sin = (torch.from_numpy(a).to(tdtype) for a in rope_rows(rng, cb, s, rot))
    ops = counting(monkeypatch)
    yq, yk = lt.apply_rotary_pos_emb(q, k, cos, sin)
    assert ops["rope_atb"].calls + ops["rotary_embedding_onnx"].calls == (1 if ops["rope_atb"].calls else 2)
    assert yq.dtype == yk.dtype == tdtype
    assert_close(yq, ref_apply(q, cos, sin, 1), dtype, "q")
    assert_close(yk, ref_apply(k, cos, sin, 1), dtype, "k")


def test_float32_cos_with_bfloat16_q_as_olmo2(rng, monkeypatch):
    """OLMo 2 passes float32 cos/sin with bfloat16 q/k, computes in float32 and returns bfloat16:
    bitwise its function's result, through librope."""
    transformers = pytest.importorskip("transformers")
    from transformers.models.olmo2 import modeling_olmo2
    assert transformers
    q = laid_out(rng, "token", 2, 4, 6, 16, 1, torch.bfloat16)
    k = laid_out(rng, "token", 2, 2, 6, 16, 1, torch.bfloat16)
    cos, sin = (torch.from_numpy(a).float() for a in rope_rows(rng, 1, 6, 16))
    ops = counting(monkeypatch)
    yq, yk = lt.apply_rotary_pos_emb(q, k, cos, sin)
    assert ops["rope_atb"].calls == 1
    oq, ok = modeling_olmo2.apply_rotary_pos_emb(q, k, cos, sin)
    assert yq.dtype == oq.dtype == torch.bfloat16
    assert torch.equal(yq, oq) and torch.equal(yk, ok)


@pytest.mark.parametrize("layout", ["token", "head", "neox_fused"])
@pytest.mark.parametrize("partial", [False, True])
def test_cos_halves_differ(partial, layout, rng, monkeypatch):
    """cos/sin whose two halves differ are no RoPE table, and the half-width ONNX table cannot hold
    them: rope_atb serves (it reads every element's own value), on a copy of each head's rotated part
    where the layout or partial rotation asks for one, and the result is still exact: transformers'."""
    d, rot = 16, (8 if partial else 16)
    q = laid_out(rng, layout, 2, 4, 5, d, 1, torch.float32)
    k = laid_out(rng, layout, 2, 2, 5, d, 1, torch.float32)
    cos, sin = (torch.from_numpy(a).float() for a in rope_rows(rng, 2, 5, rot, halves_equal=False))
    ops = counting(monkeypatch)
    yq, yk = lt.apply_rotary_pos_emb(q, k, cos, sin)
    assert (ops["rope_atb"].calls, ops["rotary_embedding_onnx"].calls) == (1, 0)
    assert_close(yq, ref_apply(q, cos, sin, 1), "float32", "q")
    assert_close(yk, ref_apply(k, cos, sin, 1), "float32", "k")
    hq_, hk_ = hf_function(partial)(q, k, cos, sin)
    assert torch.equal(yq, hq_) and torch.equal(yk, hk_)


def test_negative_unsqueeze_dims_and_float64(rng, monkeypatch):
    q = laid_out(rng, "token", 2, 4, 5, 16, 2, torch.float32)
    k = laid_out(rng, "token", 2, 2, 5, 16, 2, torch.float32)
    cos, sin = (torch.from_numpy(a).float() for a in rope_rows(rng, 2, 5, 16))
    want = lt.apply_rotary_pos_emb(q, k, cos, sin, 2)
    got = lt.apply_rotary_pos_emb(q, k, cos, sin, unsqueeze_dim=-2)
    assert torch.equal(want[0], got[0]) and torch.equal(want[1], got[1])
    # float64 is not a librope dtype: the eager formula, transformers' exact result
    q64, k64, c64, s64 = q.double(), k.double(), cos.double(), sin.double()
    ops = counting(monkeypatch)
    yq, yk = lt.apply_rotary_pos_emb(q64, k64, c64, s64, 2)
    assert ops["rope_atb"].calls == ops["rotary_embedding_onnx"].calls == 0
    hq_, hk_ = hf_function(False)(q64, k64, c64, s64, unsqueeze_dim=2)
    assert yq.dtype == torch.float64 and torch.equal(yq, hq_) and torch.equal(yk, hk_)


def test_shapes_that_do_not_broadcast_raise_as_transformers_does(rng):
    q = laid_out(rng, "token", 2, 4, 5, 16, 1, torch.float32)
    k = laid_out(rng, "token", 2, 2, 5, 16, 1, torch.float32)
    cos, sin = (torch.from_numpy(a).float() for a in rope_rows(rng, 2, 6, 16))  # seq 6 against 5
    with pytest.raises(RuntimeError):
        hf_function(False)(q, k, cos, sin)
    with pytest.raises(RuntimeError):
        lt.apply_rotary_pos_emb(q, k, cos, sin)


# ---- gradients ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("shape", [SHAPES[0], SHAPES[2], SHAPES[5]], ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize("layout", ["token", "head", "neox_fused"])
@pytest.mark.parametrize("unsqueeze_dim", [1, 2])
def test_gradients(shape, layout, unsqueeze_dim, rng, monkeypatch):
    b, hq, hk, s, d, rot, cb = shape
    q = laid_out(rng, layout, b, hq, s, d, unsqueeze_dim, torch.float32).requires_grad_(False)
    k = laid_out(rng, layout, b, hk, s, d, unsqueeze_dim, torch.float32)
    # leaves in the layout given: gradients arrive in q.grad / k.grad
    q = q.detach().requires_grad_(True)
    k = k.detach().requires_grad_(True)
    cos, sin = (torch.from_numpy(a).float() for a in rope_rows(rng, cb, s, rot, scale=0.9))
    wq = torch.from_numpy(uniform(rng, tuple(q.shape))).float()
    wk = torch.from_numpy(uniform(rng, tuple(k.shape))).float()
    ops = counting(monkeypatch)
    yq, yk = lt.apply_rotary_pos_emb(q, k, cos, sin, unsqueeze_dim)
    assert ops["rope_atb"].calls + ops["rotary_embedding_onnx"].calls >= 1
    assert yq.requires_grad and yk.requires_grad
    ((yq * wq).sum() + (yk * wk).sum()).backward()
    assert_close(q.grad, ref_grad(wq, cos, sin, unsqueeze_dim), "float32", "dq")
    assert_close(k.grad, ref_grad(wk, cos, sin, unsqueeze_dim), "float32", "dk")
    # and the same values as autograd through transformers' formula
    q2, k2 = q.detach().clone().requires_grad_(True), k.detach().clone().requires_grad_(True)
    hq_, hk_ = hf_function(rot < d)(q2, k2, cos, sin, unsqueeze_dim=unsqueeze_dim)
    ((hq_ * wq).sum() + (hk_ * wk).sum()).backward()
    assert torch.equal(q.grad, q2.grad) and torch.equal(k.grad, k2.grad)


@pytest.mark.parametrize("rot", [16, 4])
@pytest.mark.parametrize("layout", ["token", "head", "neox_fused"])
@pytest.mark.parametrize("dy_layout", ["head", "token"])
def test_gradient_layout_and_a_weight_gradient_are_stock(rot, layout, dy_layout, rng):
    """q's and k's gradients leave the rotation in the memory layout transformers' formula gives them
    (contiguous in q's shape, whatever layout the attention's gradient has: eager attention passes it
    head-major, SDPA token-major), so that a reduction over them (a QK-norm's weight gradient before the
    rotation: Qwen3, Gemma 3) sums in the same order: its gradient bitwise the stock one."""
    b, hq, hk, s, d = 2, 4, 2, 5, 16
    q0 = laid_out(rng, layout, b, hq, s, d, 1, torch.float32)
    k0 = laid_out(rng, layout, b, hk, s, d, 1, torch.float32)
    cos, sin = (torch.from_numpy(a).float() for a in rope_rows(rng, 1, s, rot))
    wq = torch.from_numpy(uniform(rng, (d,))).float()
    wk = torch.from_numpy(uniform(rng, (d,))).float()

    def dy(h):  # an upstream gradient [B, H, S, D] in the layout asked for
        g = torch.from_numpy(uniform(rng, (b, h, s, d) if dy_layout == "head" else (b, s, h, d))).float()
        return g if dy_layout == "head" else g.transpose(1, 2)

    dyq, dyk = dy(hq), dy(hk)

    def run(fn):
        weights = wq.clone().requires_grad_(True), wk.clone().requires_grad_(True)
        q, k = q0 * weights[0], k0 * weights[1]  # q and k in q0's and k0's layouts
        seen = {}
        q.register_hook(lambda g: seen.update(q=(g.stride(), g.clone())))
        k.register_hook(lambda g: seen.update(k=(g.stride(), g.clone())))
        yq, yk = fn(q, k, cos, sin)
        torch.autograd.backward((yq, yk), (dyq, dyk))
        return seen, weights[0].grad, weights[1].grad

    stock, librope_ = run(hf_function(rot < d)), run(lt.apply_rotary_pos_emb)
    for name in ("q", "k"):
        assert librope_[0][name][0] == stock[0][name][0], f"d{name} strides {librope_[0][name][0]} != stock"
        assert torch.equal(librope_[0][name][1], stock[0][name][1])
    assert torch.equal(librope_[1], stock[1]) and torch.equal(librope_[2], stock[2]), "weight gradients differ"


# ---- torch.compile and imports ------------------------------------------------------------------------

@pytest.mark.parametrize("unsqueeze_dim", [1, 2])
@pytest.mark.parametrize("rot", [16, 4])
def test_under_torch_compile(rot, unsqueeze_dim, rng):
    """Under torch.compile(fullgraph=True) every call is librope's: the value check of the ONNX path
    cannot run in a graph, so rope_atb serves (on copies where the layout or partial rotation asks for
    them), for any cos/sin; the results and gradients are transformers' bit for bit (the gradients in its
    layouts)."""
    q0 = laid_out(rng, "token", 2, 4, 5, 16, unsqueeze_dim, torch.float32)
    k0 = laid_out(rng, "head", 2, 2, 5, 16, unsqueeze_dim, torch.float32)
    wq, wk = (torch.from_numpy(uniform(rng, tuple(x.shape))).float() for x in (q0, k0))
    targets = []

    def backend(gm, example_inputs):
        targets.extend(str(n.target) for n in gm.graph.nodes if n.op == "call_function")
        return gm.forward

    for halves_equal in (True, False):
        cos, sin = (torch.from_numpy(a).float() for a in rope_rows(rng, 1, 5, rot, halves_equal=halves_equal))
        torch._dynamo.reset()
        targets.clear()
        fn = torch.compile(lt.apply_rotary_pos_emb, backend=backend, fullgraph=True)
        results = []
        for f in (fn, hf_function(rot < 16)):
            q, k = q0.detach().clone().requires_grad_(True), k0.detach().clone().requires_grad_(True)
            yq, yk = f(q, k, cos, sin, unsqueeze_dim=unsqueeze_dim)
            ((yq * wq).sum() + (yk * wk).sum()).backward()
            results.append((yq.detach(), yk.detach(), q.grad, k.grad))
        assert targets.count("librope.rope_atb.default") == 1, targets
        for got, want in zip(*results):
            assert torch.equal(got, want)
        assert [g.stride() for g in results[0][2:]] == [g.stride() for g in results[1][2:]]


def test_import_librope_does_not_import_torch():
    code = "import sys, librope; assert 'torch' not in sys.modules, 'torch imported'; print('ok')"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr


def test_kernel_mapping_without_kernels(monkeypatch):
    monkeypatch.setitem(sys.modules, "kernels", None)
    with pytest.raises(ImportError, match="kernels"):
        lt.kernel_mapping()


def test_package_docstring_mentions_module():
    assert "librope.transformers" in librope.__doc__
