# SPDX-License-Identifier: MIT
"""torch.autograd Functions for the two operators with a backward: the forward runs the library's
operator, the backward its exact transposed rotation (rope_*_backward). Only x / query / key get a
gradient; cos and sin are treated as constants (as caches from a configuration are)."""
import torch

from . import _core


def _dense(t):
    # Gradients may arrive in any layout (expanded, transposed); the backward writes a fresh tensor.
    return t if t.is_contiguous() else t.contiguous()


class _OnnxRope(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, cos, sin, position_ids, attrs):
        y = torch.empty(x.shape, dtype=x.dtype)
        _core.onnx(x.detach(), cos.detach(), sin.detach(), position_ids, y, *attrs, False)
        ctx.save_for_backward(cos, sin)
        ctx.position_ids, ctx.attrs = position_ids, attrs
        return y

    @staticmethod
    def backward(ctx, dy):
        cos, sin = ctx.saved_tensors
        dx = torch.empty(dy.shape, dtype=dy.dtype)
        _core.onnx(_dense(dy), cos.detach(), sin.detach(), ctx.position_ids, dx, *ctx.attrs, True)
        return dx, None, None, None, None


class _AtbRope(torch.autograd.Function):
    @staticmethod
    def forward(ctx, query, key, cos, sin, seqlen, rotary_coeff, cos_format):
        rq = torch.empty(query.shape, dtype=query.dtype)
        rk = torch.empty(key.shape, dtype=key.dtype)
        _core.atb(query.detach(), key.detach(), cos.detach(), sin.detach(), seqlen, rq, rk, rotary_coeff,
                  cos_format, False)
        ctx.save_for_backward(cos, sin, seqlen)
        ctx.param = (rotary_coeff, cos_format)
        ctx.shapes = (query.shape, key.shape, query.dtype)
        return rq, rk

    @staticmethod
    def backward(ctx, gq, gk):
        cos, sin, seqlen = ctx.saved_tensors
        qshape, kshape, dtype = ctx.shapes
        gq = torch.zeros(qshape, dtype=dtype) if gq is None else _dense(gq)
        gk = torch.zeros(kshape, dtype=dtype) if gk is None else _dense(gk)
        dq = torch.empty(qshape, dtype=dtype)
        dk = torch.empty(kshape, dtype=dtype)
        _core.atb(gq, gk, cos.detach(), sin.detach(), seqlen, dq, dk, *ctx.param, True)
        return dq, dk, None, None, None, None, None


def onnx_autograd(x, cos, sin, position_ids, attrs):
    return _OnnxRope.apply(x, cos, sin, position_ids, attrs)


def atb_autograd(query, key, cos, sin, seqlen, rotary_coeff, cos_format):
    return _AtbRope.apply(query, key, cos, sin, seqlen, rotary_coeff, cos_format)
