# SPDX-License-Identifier: MIT
"""Autograd: a torch input that requires grad gets a grad_fn whose backward is the library's; its
gradients match torch's own autograd of the reference formula written here in torch (f32, 1e-6)."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")

import librope  # noqa: E402
from conftest import angles_cache, uniform  # noqa: E402


def torch_onnx(x, cos, sin, ids, interleaved, rdim):
    """ONNX RotaryEmbedding on 4-D x in plain torch ops (differentiable)."""
    r = rdim or x.shape[-1]
    c, s = cos[ids][:, None], sin[ids][:, None]  # [b, 1, seq, r/2]
    if interleaved:
        x1, x2 = x[..., 0:r:2], x[..., 1:r:2]
        rot = torch.stack((c * x1 - s * x2, s * x1 + c * x2), dim=-1).flatten(-2)
    else:
        x1, x2 = x[..., : r // 2], x[..., r // 2: r]
        rot = torch.cat((c * x1 - s * x2, s * x1 + c * x2), dim=-1)
    return torch.cat((rot, x[..., r:]), dim=-1)


def torch_atb(x, cos, sin, coeff):
    """ATB Rope on [T, hidden] x with full-width cos/sin [T, D], in plain torch ops."""
    t, hidden = x.shape
    d = cos.shape[1]
    rs = d // coeff
    i = torch.arange(d)
    first = (i % (2 * rs)) < rs
    partner = torch.where(first, i + rs, i - rs)
    sign = torch.where(first, -1.0, 1.0)
    xc = x.reshape(t, hidden // d, d)
    out = xc * cos[:, None, :] + sign * xc[..., partner] * sin[:, None, :]
    return out.reshape(t, hidden)


@pytest.mark.parametrize("interleaved", [0, 1])
@pytest.mark.parametrize("rdim", [0, 8])
def test_onnx_grad(interleaved, rdim, rng):
    b, n, s, h = 2, 3, 5, 16
    x0 = torch.from_numpy(uniform(rng, (b, n, s, h))).float()
    c, sn = angles_cache(rng, 9, (rdim or h) // 2)
    cos, sin = torch.from_numpy(c).float(), torch.from_numpy(sn).float()
    ids = torch.from_numpy(rng.integers(0, 9, size=(b, s)))
    w = torch.from_numpy(uniform(rng, (b, n, s, h))).float()

    x = x0.clone().requires_grad_(True)
    y = librope.rotary_embedding_onnx(x, cos, sin, ids, interleaved=bool(interleaved), rotary_embedding_dim=rdim)
    assert y.grad_fn is not None
    (y * w).sum().backward()

    xr = x0.clone().requires_grad_(True)
    yr = torch_onnx(xr, cos, sin, ids, interleaved, rdim)
    (yr * w).sum().backward()
    assert torch.allclose(y.detach(), yr.detach(), atol=1e-6, rtol=0)
    assert torch.allclose(x.grad, xr.grad, atol=1e-6, rtol=0), (x.grad - xr.grad).abs().max()


@pytest.mark.parametrize("coeff", [2, 4, 16])
def test_atb_grad(coeff, rng):
    t, d, hq, hk = 6, 16, 4, 2
    q0 = torch.from_numpy(uniform(rng, (t, hq * d))).float()
    k0 = torch.from_numpy(uniform(rng, (t, hk * d))).float()
    cos = torch.from_numpy(uniform(rng, (t, d))).float()  # the backward's transpose holds for any table
    sin = torch.from_numpy(uniform(rng, (t, d))).float()
    seqlen = torch.tensor([t], dtype=torch.int32)
    wq = torch.from_numpy(uniform(rng, (t, hq * d))).float()
    wk = torch.from_numpy(uniform(rng, (t, hk * d))).float()

    q, k = q0.clone().requires_grad_(True), k0.clone().requires_grad_(True)
    rq, rk = librope.rope_atb(q, k, cos, sin, seqlen, rotary_coeff=coeff)
    ((rq * wq).sum() + (rk * wk).sum()).backward()

    qr, kr = q0.clone().requires_grad_(True), k0.clone().requires_grad_(True)
    ((torch_atb(qr, cos, sin, coeff) * wq).sum() + (torch_atb(kr, cos, sin, coeff) * wk).sum()).backward()
    assert torch.allclose(rq.detach(), torch_atb(q0, cos, sin, coeff), atol=1e-6, rtol=0)
    assert torch.allclose(q.grad, qr.grad, atol=1e-6, rtol=0), (q.grad - qr.grad).abs().max()
    assert torch.allclose(k.grad, kr.grad, atol=1e-6, rtol=0), (k.grad - kr.grad).abs().max()


def test_training_step_through_a_fused_qkv(rng):
    """A training step: q split from a projection's output, rotated, attention-like loss, SGD update."""
    t, d, hq = 4, 8, 2
    proj = torch.nn.Linear(16, 3 * hq * d, bias=False)
    inp = torch.from_numpy(uniform(rng, (t, 16))).float()
    c, sn = angles_cache(rng, t, d // 2)
    cos = torch.from_numpy(np.concatenate([c, c], 1)).float()
    sin = torch.from_numpy(np.concatenate([sn, sn], 1)).float()
    seqlen = torch.tensor([t], dtype=torch.int32)
    q, k, v = proj(inp).split(hq * d, dim=-1)
    rq, rk = librope.rope_atb(q, k, cos, sin, seqlen, rotary_coeff=2)
    loss = (rq * rk).sum() + v.sum()
    loss.backward()
    g = proj.weight.grad.clone()
    proj.weight.grad = None
    q2, k2, v2 = proj(inp).split(hq * d, dim=-1)
    ((torch_atb(q2, cos, sin, 2) * torch_atb(k2, cos, sin, 2)).sum() + v2.sum()).backward()
    assert torch.allclose(g, proj.weight.grad, atol=1e-5, rtol=1e-5)


def test_no_grad_mode_takes_the_plain_path(rng):
    x = torch.from_numpy(uniform(rng, (1, 1, 2, 4))).float().requires_grad_(True)
    cos = torch.ones(1, 2, 2)
    sin = torch.zeros(1, 2, 2)
    with torch.no_grad():
        y = librope.rotary_embedding_onnx(x, cos, sin)
    assert y.grad_fn is None and torch.equal(y, x.detach())
    with pytest.raises(ValueError, match="out= is not supported"):
        librope.rotary_embedding_onnx(x, cos, sin, out=torch.empty(1, 1, 2, 4))
