# SPDX-License-Identifier: MIT
"""The three operators: torch tensors go through _torch_ops (torch.library custom ops, which
torch.compile and torch.export trace; eager calls reach the C extension directly), everything else
(NumPy, other DLPack or buffer-protocol objects) through librope._core, with the output allocated in
the caller's array type."""
import sys

from . import _core

# librope._torch_ops once torch has been imported and a torch tensor seen (or librope imported after
# torch): never imported here otherwise, so librope itself does not need torch. _Tensor is the type
# torch tensors are checked against: () (no type: isinstance is False) until then, torch.Tensor after.
_torch_ops = None
_Tensor = ()


def load_torch_ops():
    """Registers librope's operators with torch.library (torch.ops.librope.*) and returns the module
    holding them. Imports torch. Done by itself when librope is imported after torch, or on the first
    call with a torch tensor; call it before torch.export.load of a program that uses the ops."""
    global _torch_ops, _Tensor
    if _torch_ops is None:
        from . import _torch_ops as module
        _torch_ops, _Tensor = module, module.torch.Tensor
    return _torch_ops


def _first_torch_call(x):
    """True when x is a torch tensor and the ops were not loaded yet: loads them. Reads sys.modules
    only: an object can be a torch tensor only once torch has been imported."""
    if _torch_ops is not None:
        return False  # loaded, and x failed isinstance(x, _Tensor): not a torch tensor
    torch = sys.modules.get("torch")
    if torch is None or not isinstance(x, torch.Tensor):
        return False
    load_torch_ops()
    return True


def _empty_like(x):
    """A dense, uninitialised NumPy array of x's shape and dtype."""
    import numpy as np
    return np.empty(x.shape, dtype=x.dtype)


# partial= of the three operators: where the rotated part of a head sits when it is narrower than the
# head (rope.h's rope_partial)
_PARTIAL = {"leading": 0, "split": 1}
# interleaved= of rotary_embedding_onnx beyond ONNX's booleans (rope.h's rope_onnx_layout)
_ONNX_PAIRS_TO_HALVES = 2
_ONNX_HALVES_SPLIT = 3


def _partial(fn, partial):
    """rope_partial of the partial= keyword; ValueError naming it otherwise."""
    if isinstance(partial, str) and partial in _PARTIAL:
        return _PARTIAL[partial]
    raise ValueError(f"librope.{fn}: partial must be 'leading' or 'split', got {partial!r}")


def _onnx_layout(interleaved, partial):
    """rope_onnx_attrs.interleaved from interleaved= (False/0 halves, True/1 adjacent pairs,
    "pairs_to_halves", or librope's 2 / 3 as integers) and partial=."""
    split = _partial("rotary_embedding_onnx", partial) == _PARTIAL["split"]
    if isinstance(interleaved, str):
        if interleaved != "pairs_to_halves":
            raise ValueError("librope.rotary_embedding_onnx: interleaved must be False, True or "
                             f"'pairs_to_halves', got {interleaved!r}")
        layout = _ONNX_PAIRS_TO_HALVES
    else:
        layout = int(interleaved)  # out-of-domain integers: the library's RopeError names interleaved
    if not split:
        return layout
    if layout == 0 or layout == _ONNX_HALVES_SPLIT:
        return _ONNX_HALVES_SPLIT
    raise ValueError("librope.rotary_embedding_onnx: partial='split' pairs x[j] with x[head_size/2 + j] (halves) "
                     f"and needs interleaved=False, got interleaved={interleaved!r}")


def _axes_form(fn, axes_dims, theta, axes_freq, attention, tables):
    """The checked axes configuration of an operator's multi-axis on-the-fly call (axes_dims given),
    or None for the table form; `tables` names the table arguments, which must then be None."""
    if axes_dims is None:
        return None
    for name, t in tables.items():
        if t is not None:
            raise ValueError(f"librope.{fn}: with axes_dims the values come from the positions' coordinates: "
                             f"{name} must be None")
    from . import _axes
    return _axes._config(fn, axes_dims, theta, axes_freq, attention)


def rotary_embedding_onnx(x, cos_cache, sin_cache, position_ids=None, *, interleaved=False,
                          rotary_embedding_dim=0, num_heads=0, out=None, partial="leading", axes_dims=None,
                          theta=10000.0, axes_freq="per_axis", attention=1.0):
    """Y = RotaryEmbedding(X, cos_cache, sin_cache, position_ids), ONNX opset 23.

    x: [batch, num_heads, seq, head_size] or [batch, seq, num_heads*head_size] (num_heads required),
    float32, float16 or bfloat16; its rows may be strided (a slice of a fused QKV tensor).
    cos_cache, sin_cache: [max_pos, r/2] with position_ids ([batch, seq] int64), else [batch, seq, r/2],
    dense, x's dtype. out: where to write Y (x itself for in place); None allocates it.
    Returns Y, of x's type. With a torch x that requires grad (and grad mode on), Y has a grad_fn whose
    backward is the library's exact transposed rotation (cos/sin get no gradient; out must be None).
    Torch calls are the ops librope::rotary_embedding_onnx (and its _out / _inplace forms).

    Beyond ONNX (r = rotary_embedding_dim below the head size, or any r for the first):
    interleaved="pairs_to_halves": adjacent input pairs (x[2j], x[2j+1]) rotated and written as halves,
    y[j] = x[2j]*c - x[2j+1]*s, y[r/2 + j] = x[2j+1]*c + x[2j]*s (DeepSeek V2/V3 MLA's rope_interleave;
    its backward is the transpose). partial="split" (with interleaved=False): the pairs are
    (x[j], x[head_size/2 + j]) for j < r/2, every other element copied (Gemma 4's proportional RoPE);
    "leading" (the default) rotates the first r elements as ONNX does.

    On the fly from multi-axis positions (vision towers, image and video diffusion): with axes_dims
    (the A axes' rotary widths, summing to r), cos_cache and sin_cache are None and position_ids holds
    each token's A coordinates, [batch*seq, A], [batch, seq, A] or [seq, A] (shared by the batch rows),
    integer or float (fractional and negative ones too, as diffusers passes them). theta (one base or
    one per axis), axes_freq ("per_axis" or "alternating") and attention as cos_sin_axes takes them.
    The result is bitwise that of the table form on cos_sin_axes' tables of the same coordinates, and
    no table is made. Torch inputs that require grad take that table form (the same bits, with its
    backward); the on-the-fly form runs eagerly (not under torch.compile).
    """
    layout = _onnx_layout(interleaved, partial)
    axes = _axes_form("rotary_embedding_onnx", axes_dims, theta, axes_freq, attention,
                      {"cos_cache": cos_cache, "sin_cache": sin_cache})
    if axes is not None:
        if position_ids is None:
            raise ValueError("librope.rotary_embedding_onnx: with axes_dims, position_ids holds the coordinates "
                             "[batch*seq, A] (it is None)")
        _first_torch_call(x)  # the torch ops, for the table form of a call with grad
        from . import _axes
        return _axes.onnx_fly(x, position_ids, out, layout, rotary_embedding_dim, num_heads, axes)
    if isinstance(x, _Tensor) or _first_torch_call(x):
        return _torch_ops.onnx(x, cos_cache, sin_cache, position_ids, layout, rotary_embedding_dim, num_heads, out)
    fresh = out is None
    if fresh:
        out = _empty_like(x)
    _core.onnx(x, cos_cache, sin_cache, position_ids, out, layout, rotary_embedding_dim, num_heads, False, fresh)
    return out


def _atb_head_size(query, partial, head_size):
    """rope_atb_param's (partial, head_size): head_size defaults to a 4-D query's last dim with 'split'."""
    code = _partial("rope_atb", partial)
    if head_size is None:
        if code == _PARTIAL["leading"]:
            return code, 0
        shape = getattr(query, "shape", ())
        if len(shape) != 4:
            raise ValueError("librope.rope_atb: partial='split' needs head_size= with a 2-D [ntokens, hidden] query "
                             f"(a 4-D query gives it), got a query of shape {tuple(shape)}")
        return code, int(shape[3])
    return code, int(head_size)


def rope_atb(query, key, cos, sin, seqlen, *, rotary_coeff=4, cos_format=0, out=None, partial="leading",
             head_size=None, positions=None, axes_dims=None, theta=10000.0, axes_freq="per_axis", attention=1.0):
    """ropeQ, ropeK = ATB RopeOperation(query, key, cos, sin, seqlen), in one pass over the tokens.

    query: [ntokens, hiddenQ] or [batch, seq, heads, head_size]; key the same with hiddenK dividing
    hiddenQ; rows may be strided (q and k split out of a fused QKV tensor). cos, sin: [rows, D], dense.
    seqlen: [batch] int32/uint32. out: a pair (rope_q, rope_k), which may be (query, key) for in place;
    None allocates both. Returns the pair, of the inputs' type. With torch inputs that require grad,
    the results carry a grad_fn running the library's backward (out must then be None). Torch calls
    are the ops librope::rope_atb (and its _out / _inplace forms).

    partial="split" (librope's, rotary_coeff 2): the rows are heads of head_size elements (default: a
    4-D query's last dim; required with 2-D rows) and in each head element j < D/2 pairs with
    head_size/2 + j, taking cos/sin[j] and cos/sin[D/2 + j] of the D-wide rotate-half row; every other
    element is copied (Gemma 4's proportional RoPE with the [rows, rot] table). "leading" (the
    default) is ATB's: every D-wide chunk of a row rotated.

    On the fly from multi-axis positions: with axes_dims (summing to D), cos and sin are None and
    positions= holds each token's A coordinates [ntokens, A] (integer or float); seqlen may be None
    (it is not read); theta, axes_freq and attention as cos_sin_axes takes them. Bitwise the table
    form on cos_sin_axes(..., layout="full", rotary_coeff=rotary_coeff)'s rows; torch inputs that
    require grad take that table form.
    """
    code, hs = _atb_head_size(query, partial, head_size)
    axes = _axes_form("rope_atb", axes_dims, theta, axes_freq, attention, {"cos": cos, "sin": sin})
    if axes is not None:
        if positions is None:
            raise ValueError("librope.rope_atb: with axes_dims, positions= holds the coordinates [ntokens, A]")
        _first_torch_call(query)
        from . import _axes
        return _axes.atb_fly(query, key, positions, seqlen, rotary_coeff, out, code, hs, axes)
    if positions is not None:
        raise ValueError("librope.rope_atb: positions= is the multi-axis form's and needs axes_dims")
    if isinstance(query, _Tensor) or _first_torch_call(query):
        return _torch_ops.atb(query, key, cos, sin, seqlen, rotary_coeff, cos_format, out, code, hs)
    fresh = out is None
    if fresh:
        out = (_empty_like(query), _empty_like(key))
    rq, rk = out
    _core.atb(query, key, cos, sin, seqlen, rq, rk, rotary_coeff, cos_format, False, code, hs, fresh)
    return rq, rk


def rotary_embedding(positions, query, key, head_size, cos_sin_cache, is_neox=True, rope_dim_offset=0,
                     inverse=False, *, mrope_section=None, mrope_interleaved=False, partial="leading",
                     pairs_to_halves=False, axes_dims=None, theta=10000.0, axes_freq="per_axis", attention=1.0):
    """vLLM's rotary_embedding, in place, in vLLM's argument order: query and key are rotated where
    they sit by the rows of cos_sin_cache ([P, rot]: cos in the first half, sin in the second) that
    positions ([T] or [B, S], int64 or int32; [m, T] / [m, B, S] with MRoPE) select.

    query: [T, Hq*head_size], [T, Hq, head_size] or [B, S, Hq*head_size]; key likewise or None.
    is_neox: halves (GPT-NeoX) or adjacent pairs (GPT-J). mrope_section: 3 or 4 section sizes adding
    up to rot/2 (Qwen2-VL's MRoPE), mrope_interleaved: Qwen3-VL's interleaved sections.
    rope_dim_offset (vLLM's): each head's rotated part is [offset, offset + rot) (head_size - rot: the
    tail), the rest copied. inverse (vLLM's): rotate by the negated angle (a cached key back to
    position 0). partial="split" (is_neox, offset 0): the pairs are (x[j], x[head_size/2 + j]) for
    j < rot/2 (Gemma 4's proportional RoPE); "leading" (the default) is vLLM's. pairs_to_halves
    (is_neox False): adjacent pairs in, halves out (DeepSeek V2/V3 rope_interleave).
    On the fly from multi-axis positions: with axes_dims (summing to rot), cos_sin_cache is None and
    positions holds each token's A coordinates [T, A] ([B, S, A] with a [B, S, Hq*head_size] query),
    integer or float; theta, axes_freq and attention as cos_sin_axes takes them; mrope_section must
    be None. Bitwise the table form on cos_sin_axes' [cos | sin] rows at positions 0 .. T-1.
    Returns None. For inference: tensors that require grad are refused. Torch calls are the op
    librope::rotary_embedding, declared as mutating query and key.
    """
    for name, t in (("query", query), ("key", key), ("cos_sin_cache", cos_sin_cache)):
        if getattr(t, "requires_grad", False) is True:
            raise RuntimeError(f"librope.rotary_embedding rotates {name} in place, for inference, and {name} "
                               "requires grad: call it under torch.no_grad() on tensors that do not require "
                               "grad, or use rotary_embedding_onnx / rope_atb, which have a backward")
    section = None if mrope_section is None else tuple(int(s) for s in mrope_section)
    code = _partial("rotary_embedding", partial)
    later = (_index("rope_dim_offset", rope_dim_offset), _truth("inverse", inverse), code,
             _truth("pairs_to_halves", pairs_to_halves))
    axes = _axes_form("rotary_embedding", axes_dims, theta, axes_freq, attention, {"cos_sin_cache": cos_sin_cache})
    if axes is not None:
        if section is not None:
            raise ValueError("librope.rotary_embedding: mrope_section with axes_dims; the axes place the pairs")
        from . import _axes
        _axes.vllm_fly(positions, query, key, head_size, is_neox, later, axes)
        return
    if isinstance(query, _Tensor) or _first_torch_call(query):
        _torch_ops.vllm(positions, query, key, head_size, cos_sin_cache, bool(is_neox), section,
                        bool(mrope_interleaved), *later)
        return
    _core.vllm(positions, query, key, head_size, cos_sin_cache, bool(is_neox), section, bool(mrope_interleaved),
               *later)


def _index(name, value):
    """An integer argument of rotary_embedding (bool refused: True is no offset)."""
    if isinstance(value, bool) or not hasattr(value, "__index__"):
        raise ValueError(f"librope.rotary_embedding: {name} must be an integer, got {value!r}")
    return int(value.__index__())


def _flag(function, name, value):
    """A flag: a bool or 0 / 1 (vLLM passes Python bools)."""
    if value in (0, 1) and not isinstance(value, str):
        return bool(value)
    raise ValueError(f"librope.{function}: {name} must be True or False, got {value!r}")


def _truth(name, value):
    """A flag of rotary_embedding."""
    return _flag("rotary_embedding", name, value)


# ---- the fused attention prologue (issue 16) -----------------------------------------------------

def _refuse_grad(fn, **tensors):
    for name, t in tensors.items():
        if getattr(t, "requires_grad", False) is True:
            raise RuntimeError(f"librope.{fn} writes {name} in place, for inference, and {name} requires grad: "
                               "call it under torch.no_grad() on tensors that do not require grad")


def fused_qk_norm_rope(qkv, num_heads_q, num_heads_k, num_heads_v, head_dim, eps, q_weight, k_weight,
                       cos_sin_cache, is_neox, position_ids, *, mrope_section=None, mrope_interleaved=False):
    """vLLM's fused_qk_norm_rope, in place, in vLLM's argument order: in the packed
    qkv [T, (Hq + Hk + Hv) * head_dim] (rows may be strided), each q and k head becomes
    x * rsqrt(mean(x^2) + eps) * weight (q_weight / k_weight [head_dim], qkv's dtype or float32),
    computed in float32, then rotated by the row of cos_sin_cache ([P, rot], cos | sin, rot <= head_dim)
    at position_ids[t] ([T] int64/int32; [m, T] with mrope_section) as rotary_embedding does; each
    element is rounded once to qkv's dtype; v is untouched. Gemma's (1 + w) norm: pass 1 + w.

    Returns None. Raises RopeError (nothing written) on bad input. For inference: tensors that
    require grad are refused. Torch calls are the op librope::fused_qk_norm_rope (mutates qkv).
    """
    _refuse_grad("fused_qk_norm_rope", qkv=qkv)
    section = None if mrope_section is None else tuple(int(s) for s in mrope_section)
    if isinstance(qkv, _Tensor) or _first_torch_call(qkv):
        _torch_ops.qk_norm_rope(qkv, num_heads_q, num_heads_k, num_heads_v, head_dim, float(eps), q_weight,
                                k_weight, cos_sin_cache, bool(is_neox), position_ids, section,
                                bool(mrope_interleaved))
        return
    _core.qk_norm_rope(qkv, num_heads_q, num_heads_k, num_heads_v, head_dim, float(eps), q_weight, k_weight,
                       cos_sin_cache, bool(is_neox), position_ids, section, bool(mrope_interleaved))


def rotary_embedding_and_cache(positions, query, key, value, head_size, cos_sin_cache, is_neox, key_cache,
                               value_cache, slot_mapping, kv_cache_dtype="auto", k_scale=None, v_scale=None,
                               kv_layout="NHD", *, q_weight=None, k_weight=None, eps=1e-6, mrope_section=None,
                               mrope_interleaved=False, inverse=False):
    """vLLM's rotary_embedding(positions, query, key, head_size, cos_sin_cache, is_neox) followed by
    reshape_and_cache_flash(key, value, key_cache, value_cache, slot_mapping, kv_cache_dtype, k_scale,
    v_scale), in one pass: query and key rotated in place, then token t's rotated key and its value
    written to slot slot_mapping[t] of the paged caches (a negative slot: a padded token, nothing
    written).

    query, key, value: [T, H*head_size] or [T, H, head_size] (rows may be strided); positions [T]
    (int64/int32; [m, T] with mrope_section). key_cache, value_cache: [num_blocks, block_size, Hk,
    head_size] (kv_layout "NHD") or [num_blocks, Hk, block_size, head_size] ("HND"), dense.
    kv_cache_dtype: "auto" (the caches have the key's dtype) or "fp8" / "fp8_e4m3" / "fp8_e5m2": the
    caches are torch.float8_e4m3fn / float8_e5m2 tensors, or uint8 holding their bits, and hold
    element / scale rounded to nearest even, saturated to the finite range (NaN kept). k_scale,
    v_scale: floats or one-element tensors (vLLM's layer._k_scale), None meaning 1.0; read for fp8
    caches only. q_weight, k_weight (both or neither, [head_size]): normalise q and k first, as
    fused_qk_norm_rope does, with eps: the whole Qwen3 prologue in one pass. inverse (vLLM
    rotary_embedding's): rotate by the negated angle before the cache write. rotary_embedding's
    rope_dim_offset and librope's partial= / pairs_to_halves layouts are not taken here (the cache write
    stores heads rotated from their start).

    Returns None. Raises RopeError (nothing written, caches included) on bad input. Torch calls are
    the op librope::rotary_embedding_and_cache (mutates query, key, key_cache, value_cache).
    """
    _refuse_grad("rotary_embedding_and_cache", query=query, key=key, key_cache=key_cache, value_cache=value_cache)
    section = None if mrope_section is None else tuple(int(s) for s in mrope_section)
    inv = _flag("rotary_embedding_and_cache", "inverse", inverse)
    if isinstance(query, _Tensor) or _first_torch_call(query):
        _torch_ops.rope_and_cache(positions, query, key, value, head_size, cos_sin_cache, bool(is_neox), key_cache,
                                  value_cache, slot_mapping, kv_cache_dtype, k_scale, v_scale, kv_layout, q_weight,
                                  k_weight, float(eps), section, bool(mrope_interleaved), inv)
        return
    _core.rope_and_cache(positions, query, key, value, head_size, cos_sin_cache, bool(is_neox), key_cache,
                         value_cache, slot_mapping, kv_cache_dtype, k_scale, v_scale, kv_layout, q_weight, k_weight,
                         float(eps), section, bool(mrope_interleaved), inv)
