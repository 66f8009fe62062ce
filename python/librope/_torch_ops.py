# SPDX-License-Identifier: MIT
"""librope's operators as torch.library custom ops (namespace librope::), so that torch.compile
(fullgraph=True), AOTAutograd's backward and torch.export trace through them, and the torch path of
the public functions in _ops.py.

Loaded only where torch is: by librope/__init__.py when torch was imported first, else on the first
call with a torch tensor (or by librope.load_torch_ops()). Every kernel is a call of librope._core;
a fake implementation gives the result's shape and dtype for tracing. Bad inputs are refused by the
kernel, at run time, with the library's RopeError: the fake does not check them, because an error
raised while tracing would reach the caller wrapped in the compiler's own exception.

Eager calls on plain tensors with no grad to record and no torch mode active call librope._core
directly: the custom-op dispatcher costs ten times and more what a decode-sized call costs (figures
in the repository's README). The direct call is the very _core call the op's kernel makes, so the
results are the same bit for bit (test_torch_compile.py checks every form both ways).
"""
from typing import Optional, Sequence

import torch

from . import _core

_Tensor = torch.Tensor
_grad_enabled = torch.is_grad_enabled
# Dynamo folds is_dynamo_compiling() to True while it traces; torch.export's non-strict tracing and
# make_fx run the code on fake tensors under dispatch modes, which the other checks see.
_dynamo_compiling = torch.compiler.is_dynamo_compiling
# Private queries of torch's mode stacks and transforms (C calls of tens of nanoseconds each): where
# one is missing (another torch), every call takes the op, which is always right, only slower.
_dispatch_modes = getattr(torch._C, "_len_torch_dispatch_stack", None)
_function_modes = getattr(torch._C, "_is_torch_function_mode_enabled", None)
_functorch = getattr(torch._C, "_are_functorch_transforms_active", None)


def _plain(t):
    """True when an eager call may skip the dispatcher: t is a plain tensor (not a fake, functional or
    other subclass), Dynamo is not tracing, and no torch mode or transform would want to see the call."""
    return (type(t) is _Tensor and not _dynamo_compiling() and not _dispatch_modes() and not _function_modes()
            and not _functorch())


if None in (_dispatch_modes, _function_modes, _functorch):
    def _plain(t):  # noqa: F811
        return False


def _new(t):
    """A dense tensor of t's shape and dtype (results are dense whatever the input's row stride)."""
    return torch.empty(t.shape, dtype=t.dtype, device=t.device)


def _constant(t):
    """t without autograd history: cos and sin get no gradient (only a tensor that requires grad is
    detached, so traced graphs hold no needless detach)."""
    return t.detach() if t.requires_grad else t


def _dense(t):
    # Gradients may arrive in any layout (expanded, transposed): the backward reads a dense copy.
    return t if t.is_contiguous() else t.contiguous()


def _grad_like(dy):
    """The tensor a backward returns dx in: dy's shape, dtype and memory layout (torch.empty_like:
    dy's strides when dy is dense, else a dense layout in dy's dimension order). That is the layout
    the stock autograd formula (dy * cos + ...) gives, and a reduction downstream (the weight gradient
    of a QK-norm before the rotation) sums in memory order: another layout would move its rounding."""
    return torch.empty_like(dy)


# ---- ONNX RotaryEmbedding ------------------------------------------------------------------------

@torch.library.custom_op("librope::rotary_embedding_onnx", mutates_args=())
def _onnx_op(x: _Tensor, cos_cache: _Tensor, sin_cache: _Tensor, position_ids: Optional[_Tensor],
             interleaved: int, rotary_embedding_dim: int, num_heads: int) -> _Tensor:
    y = _new(x)
    _core.onnx(x, cos_cache, sin_cache, position_ids, y, interleaved, rotary_embedding_dim, num_heads, False, True)
    return y


@torch.library.custom_op("librope::rotary_embedding_onnx_backward", mutates_args=())
def _onnx_backward_op(dy: _Tensor, cos_cache: _Tensor, sin_cache: _Tensor, position_ids: Optional[_Tensor],
                      interleaved: int, rotary_embedding_dim: int, num_heads: int) -> _Tensor:
    dx = _grad_like(dy)
    out = dx if dx.is_contiguous() else _new(dx)  # else a dense scratch, copied into dx's layout (exact)
    _core.onnx(_dense(dy), cos_cache, sin_cache, position_ids, out, interleaved, rotary_embedding_dim, num_heads,
               True, True)
    return dx if out is dx else dx.copy_(out)


@torch.library.custom_op("librope::rotary_embedding_onnx_out", mutates_args=("out",))
def _onnx_out_op(x: _Tensor, cos_cache: _Tensor, sin_cache: _Tensor, position_ids: Optional[_Tensor],
                 interleaved: int, rotary_embedding_dim: int, num_heads: int, out: _Tensor) -> None:
    _core.onnx(x, cos_cache, sin_cache, position_ids, out, interleaved, rotary_embedding_dim, num_heads, False)


@torch.library.custom_op("librope::rotary_embedding_onnx_inplace", mutates_args=("x",))
def _onnx_inplace_op(x: _Tensor, cos_cache: _Tensor, sin_cache: _Tensor, position_ids: Optional[_Tensor],
                     interleaved: int, rotary_embedding_dim: int, num_heads: int) -> None:
    _core.onnx(x, cos_cache, sin_cache, position_ids, x, interleaved, rotary_embedding_dim, num_heads, False)


@_onnx_op.register_fake
def _onnx_fake(x, cos_cache, sin_cache, position_ids, interleaved, rotary_embedding_dim, num_heads):
    return x.new_empty(x.shape)


@_onnx_backward_op.register_fake
def _onnx_backward_fake(dy, cos_cache, sin_cache, position_ids, interleaved, rotary_embedding_dim, num_heads):
    return _grad_like(dy)


@_onnx_out_op.register_fake
def _onnx_out_fake(x, cos_cache, sin_cache, position_ids, interleaved, rotary_embedding_dim, num_heads, out):
    return None


@_onnx_inplace_op.register_fake
def _onnx_inplace_fake(x, cos_cache, sin_cache, position_ids, interleaved, rotary_embedding_dim, num_heads):
    return None


def _onnx_save(ctx, inputs, output):
    _, cos, sin, position_ids, *attrs = inputs
    ctx.save_for_backward(cos, sin, position_ids)
    ctx.attrs = attrs


def _onnx_grad(ctx, dy):
    """The transposed rotation (the library's backward); cos, sin and position_ids get no gradient."""
    cos, sin, position_ids = ctx.saved_tensors
    return _onnx_backward(dy, cos, sin, position_ids, *ctx.attrs), None, None, None, None, None, None


def _onnx_grad_of_backward(ctx, ddx):
    """The backward is linear in dy with the transposed matrix: its own gradient is the forward."""
    cos, sin, position_ids = ctx.saved_tensors
    return _onnx(ddx.contiguous(), cos, sin, position_ids, *ctx.attrs), None, None, None, None, None, None


_onnx_op.register_autograd(_onnx_grad, setup_context=_onnx_save)
_onnx_backward_op.register_autograd(_onnx_grad_of_backward, setup_context=_onnx_save)

_onnx = torch.ops.librope.rotary_embedding_onnx.default
_onnx_backward = torch.ops.librope.rotary_embedding_onnx_backward.default
_onnx_out = torch.ops.librope.rotary_embedding_onnx_out.default
_onnx_inplace = torch.ops.librope.rotary_embedding_onnx_inplace.default


def onnx(x, cos, sin, position_ids, interleaved, rotary_embedding_dim, num_heads, out):
    """librope.rotary_embedding_onnx on a torch x (interleaved already an int)."""
    grad = x.requires_grad and _grad_enabled()
    if grad and out is not None:
        raise ValueError("librope.rotary_embedding_onnx: out= is not supported when x requires grad")
    if not grad and _plain(x):
        y = _new(x) if out is None else out
        _core.onnx(x, cos, sin, position_ids, y, interleaved, rotary_embedding_dim, num_heads, False, out is None)
        return y
    cos, sin = _constant(cos), _constant(sin)  # constants to the operator, as they always were
    if out is None:
        return _onnx(x, cos, sin, position_ids, interleaved, rotary_embedding_dim, num_heads)
    if out is x:
        _onnx_inplace(x, cos, sin, position_ids, interleaved, rotary_embedding_dim, num_heads)
    else:
        _onnx_out(x, cos, sin, position_ids, interleaved, rotary_embedding_dim, num_heads, out)
    return out


# ---- ATB RopeOperation ---------------------------------------------------------------------------

@torch.library.custom_op("librope::rope_atb", mutates_args=())
def _atb_op(query: _Tensor, key: _Tensor, cos: _Tensor, sin: _Tensor, seqlen: _Tensor, rotary_coeff: int,
            cos_format: int, partial: int = 0, head_size: int = 0) -> tuple[_Tensor, _Tensor]:
    rope_q, rope_k = _new(query), _new(key)
    _core.atb(query, key, cos, sin, seqlen, rope_q, rope_k, rotary_coeff, cos_format, False, partial, head_size, True)
    return rope_q, rope_k


@torch.library.custom_op("librope::rope_atb_backward", mutates_args=())
def _atb_backward_op(grad_q: _Tensor, grad_k: _Tensor, cos: _Tensor, sin: _Tensor, seqlen: _Tensor,
                     rotary_coeff: int, cos_format: int, partial: int = 0, head_size: int = 0
                     ) -> tuple[_Tensor, _Tensor]:
    dense_q, dense_k = _dense(grad_q), _dense(grad_k)
    dq, dk = _grad_like(grad_q), _grad_like(grad_k)
    if dq.is_contiguous() and dk.is_contiguous():
        _core.atb(dense_q, dense_k, cos, sin, seqlen, dq, dk, rotary_coeff, cos_format, True, partial, head_size,
                  True)
        return dq, dk
    out_q, out_k = _new(dq), _new(dk)  # dense scratch, copied into the gradients' layouts (exact)
    _core.atb(dense_q, dense_k, cos, sin, seqlen, out_q, out_k, rotary_coeff, cos_format, True, partial, head_size,
              True)
    return dq.copy_(out_q), dk.copy_(out_k)


@torch.library.custom_op("librope::rope_atb_out", mutates_args=("rope_q", "rope_k"))
def _atb_out_op(query: _Tensor, key: _Tensor, cos: _Tensor, sin: _Tensor, seqlen: _Tensor, rotary_coeff: int,
                cos_format: int, rope_q: _Tensor, rope_k: _Tensor, partial: int = 0, head_size: int = 0) -> None:
    _core.atb(query, key, cos, sin, seqlen, rope_q, rope_k, rotary_coeff, cos_format, False, partial, head_size)


@torch.library.custom_op("librope::rope_atb_inplace", mutates_args=("query", "key"))
def _atb_inplace_op(query: _Tensor, key: _Tensor, cos: _Tensor, sin: _Tensor, seqlen: _Tensor, rotary_coeff: int,
                    cos_format: int, partial: int = 0, head_size: int = 0) -> None:
    _core.atb(query, key, cos, sin, seqlen, query, key, rotary_coeff, cos_format, False, partial, head_size)


@_atb_op.register_fake
def _atb_fake(query, key, cos, sin, seqlen, rotary_coeff, cos_format, partial=0, head_size=0):
    return query.new_empty(query.shape), key.new_empty(key.shape)


@_atb_backward_op.register_fake
def _atb_backward_fake(grad_q, grad_k, cos, sin, seqlen, rotary_coeff, cos_format, partial=0, head_size=0):
    return _grad_like(grad_q), _grad_like(grad_k)


@_atb_out_op.register_fake
def _atb_out_fake(query, key, cos, sin, seqlen, rotary_coeff, cos_format, rope_q, rope_k, partial=0, head_size=0):
    return None


@_atb_inplace_op.register_fake
def _atb_inplace_fake(query, key, cos, sin, seqlen, rotary_coeff, cos_format, partial=0, head_size=0):
    return None


def _atb_save(ctx, inputs, output):
    query, key, cos, sin, seqlen, *param = inputs  # rotary_coeff, cos_format, partial, head_size
    ctx.save_for_backward(cos, sin, seqlen)
    ctx.param = tuple(param)
    ctx.like = (query.shape, key.shape, query.dtype, query.device)


def _atb_zeros_for_none(ctx, gq, gk):
    # autograd passes zeros for an unused output; a None is made zeros all the same
    qshape, kshape, dtype, device = ctx.like
    if gq is None:
        gq = torch.zeros(qshape, dtype=dtype, device=device)
    if gk is None:
        gk = torch.zeros(kshape, dtype=dtype, device=device)
    return gq, gk


def _atb_grad(ctx, gq, gk):
    cos, sin, seqlen = ctx.saved_tensors
    gq, gk = _atb_zeros_for_none(ctx, gq, gk)
    dq, dk = _atb_backward(gq, gk, cos, sin, seqlen, *ctx.param)
    return (dq, dk, None, None, None) + (None,) * len(ctx.param)


def _atb_grad_of_backward(ctx, gq, gk):
    cos, sin, seqlen = ctx.saved_tensors
    gq, gk = _atb_zeros_for_none(ctx, gq, gk)
    dq, dk = _atb(gq.contiguous(), gk.contiguous(), cos, sin, seqlen, *ctx.param)
    return (dq, dk, None, None, None) + (None,) * len(ctx.param)


_atb_op.register_autograd(_atb_grad, setup_context=_atb_save)
_atb_backward_op.register_autograd(_atb_grad_of_backward, setup_context=_atb_save)

_atb = torch.ops.librope.rope_atb.default
_atb_backward = torch.ops.librope.rope_atb_backward.default
_atb_out = torch.ops.librope.rope_atb_out.default
_atb_inplace = torch.ops.librope.rope_atb_inplace.default


def atb(query, key, cos, sin, seqlen, rotary_coeff, cos_format, out, partial=0, head_size=0):
    """librope.rope_atb on a torch query (partial already the rope_partial code)."""
    grad = (query.requires_grad or key.requires_grad) and _grad_enabled()
    if grad and out is not None:
        raise ValueError("librope.rope_atb: out= is not supported when query or key requires grad")
    if not grad and _plain(query):
        rope_q, rope_k = (_new(query), _new(key)) if out is None else out
        _core.atb(query, key, cos, sin, seqlen, rope_q, rope_k, rotary_coeff, cos_format, False, partial, head_size,
                  out is None)
        return rope_q, rope_k
    cos, sin = _constant(cos), _constant(sin)
    if out is None:
        return _atb(query, key, cos, sin, seqlen, rotary_coeff, cos_format, partial, head_size)
    rope_q, rope_k = out
    if rope_q is query and rope_k is key:
        _atb_inplace(query, key, cos, sin, seqlen, rotary_coeff, cos_format, partial, head_size)
    elif rope_q is not query and rope_k is not key:
        _atb_out(query, key, cos, sin, seqlen, rotary_coeff, cos_format, rope_q, rope_k, partial, head_size)
    else:
        # one output in place, the other not: no op has that signature; the same values, copied in
        new_q, new_k = _atb(query, key, cos, sin, seqlen, rotary_coeff, cos_format, partial, head_size)
        rope_q.copy_(new_q)
        rope_k.copy_(new_k)
    return rope_q, rope_k


# ---- vLLM's rotary_embedding (in place) ----------------------------------------------------------

@torch.library.custom_op("librope::rotary_embedding", mutates_args=("query", "key"))
def _vllm_op(positions: _Tensor, query: _Tensor, key: Optional[_Tensor], head_size: int, cos_sin_cache: _Tensor,
             is_neox: bool, mrope_section: Optional[Sequence[int]], mrope_interleaved: bool,
             rope_dim_offset: int = 0, inverse: bool = False, partial: int = 0, pairs_to_halves: bool = False) -> None:
    _core.vllm(positions, query, key, head_size, cos_sin_cache, is_neox, mrope_section, mrope_interleaved,
               rope_dim_offset, inverse, partial, pairs_to_halves)


@_vllm_op.register_fake
def _vllm_fake(positions, query, key, head_size, cos_sin_cache, is_neox, mrope_section, mrope_interleaved,
               rope_dim_offset=0, inverse=False, partial=0, pairs_to_halves=False):
    return None


_vllm = torch.ops.librope.rotary_embedding.default


def vllm(positions, query, key, head_size, cos_sin_cache, is_neox, mrope_section, mrope_interleaved,
         rope_dim_offset=0, inverse=False, partial=0, pairs_to_halves=False):
    """librope.rotary_embedding on a torch query (tensors requiring grad already refused)."""
    call = _core.vllm if _plain(query) else _vllm
    call(positions, query, key, head_size, cos_sin_cache, is_neox, mrope_section, mrope_interleaved, rope_dim_offset,
         inverse, partial, pairs_to_halves)


# ---- the fused attention prologue (in place) -----------------------------------------------------

@torch.library.custom_op("librope::fused_qk_norm_rope", mutates_args=("qkv",))
def _qk_norm_op(qkv: _Tensor, num_heads_q: int, num_heads_k: int, num_heads_v: int, head_dim: int, eps: float,
                q_weight: _Tensor, k_weight: _Tensor, cos_sin_cache: _Tensor, is_neox: bool, position_ids: _Tensor,
                mrope_section: Optional[Sequence[int]], mrope_interleaved: bool) -> None:
    _core.qk_norm_rope(qkv, num_heads_q, num_heads_k, num_heads_v, head_dim, eps, q_weight, k_weight, cos_sin_cache,
                       is_neox, position_ids, mrope_section, mrope_interleaved)


@_qk_norm_op.register_fake
def _qk_norm_fake(qkv, num_heads_q, num_heads_k, num_heads_v, head_dim, eps, q_weight, k_weight, cos_sin_cache,
                  is_neox, position_ids, mrope_section, mrope_interleaved):
    return None


_qk_norm = torch.ops.librope.fused_qk_norm_rope.default


def qk_norm_rope(qkv, num_heads_q, num_heads_k, num_heads_v, head_dim, eps, q_weight, k_weight, cos_sin_cache,
                 is_neox, position_ids, mrope_section, mrope_interleaved):
    """librope.fused_qk_norm_rope on a torch qkv (requiring grad already refused)."""
    call = _core.qk_norm_rope if _plain(qkv) else _qk_norm
    call(qkv, num_heads_q, num_heads_k, num_heads_v, head_dim, eps, q_weight, k_weight, cos_sin_cache, is_neox,
         position_ids, mrope_section, mrope_interleaved)


@torch.library.custom_op("librope::rotary_embedding_and_cache",
                         mutates_args=("query", "key", "key_cache", "value_cache"))
def _rope_cache_op(positions: _Tensor, query: _Tensor, key: _Tensor, value: _Tensor, head_size: int,
                   cos_sin_cache: _Tensor, is_neox: bool, key_cache: _Tensor, value_cache: _Tensor,
                   slot_mapping: _Tensor, kv_cache_dtype: str, k_scale: Optional[_Tensor],
                   v_scale: Optional[_Tensor], kv_layout: str, q_weight: Optional[_Tensor],
                   k_weight: Optional[_Tensor], eps: float, mrope_section: Optional[Sequence[int]],
                   mrope_interleaved: bool, inverse: bool = False) -> None:
    _core.rope_and_cache(positions, query, key, value, head_size, cos_sin_cache, is_neox, key_cache, value_cache,
                         slot_mapping, kv_cache_dtype, k_scale, v_scale, kv_layout, q_weight, k_weight, eps,
                         mrope_section, mrope_interleaved, inverse)


@_rope_cache_op.register_fake
def _rope_cache_fake(positions, query, key, value, head_size, cos_sin_cache, is_neox, key_cache, value_cache,
                     slot_mapping, kv_cache_dtype, k_scale, v_scale, kv_layout, q_weight, k_weight, eps,
                     mrope_section, mrope_interleaved, inverse=False):
    return None


_rope_cache = torch.ops.librope.rotary_embedding_and_cache.default


def _scale_tensor(s):
    """A scale as the op's schema takes it (a tensor or None): vLLM's scales are one-element tensors,
    a Python number becomes one (a constant to torch.compile)."""
    return s if s is None or isinstance(s, _Tensor) else torch.tensor(float(s), dtype=torch.float32)


def rope_and_cache(positions, query, key, value, head_size, cos_sin_cache, is_neox, key_cache, value_cache,
                   slot_mapping, kv_cache_dtype, k_scale, v_scale, kv_layout, q_weight, k_weight, eps,
                   mrope_section, mrope_interleaved, inverse=False):
    """librope.rotary_embedding_and_cache on a torch query (requiring grad already refused)."""
    if _plain(query):
        _core.rope_and_cache(positions, query, key, value, head_size, cos_sin_cache, is_neox, key_cache, value_cache,
                             slot_mapping, kv_cache_dtype, k_scale, v_scale, kv_layout, q_weight, k_weight, eps,
                             mrope_section, mrope_interleaved, inverse)
        return
    _rope_cache(positions, query, key, value, head_size, cos_sin_cache, is_neox, key_cache, value_cache,
                slot_mapping, kv_cache_dtype, _scale_tensor(k_scale), _scale_tensor(v_scale), kv_layout, q_weight,
                k_weight, eps, mrope_section, mrope_interleaved, inverse)
