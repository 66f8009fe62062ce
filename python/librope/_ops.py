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


def rotary_embedding_onnx(x, cos_cache, sin_cache, position_ids=None, *, interleaved=False,
                          rotary_embedding_dim=0, num_heads=0, out=None):
    """Y = RotaryEmbedding(X, cos_cache, sin_cache, position_ids), ONNX opset 23.

    x: [batch, num_heads, seq, head_size] or [batch, seq, num_heads*head_size] (num_heads required),
    float32, float16 or bfloat16; its rows may be strided (a slice of a fused QKV tensor).
    cos_cache, sin_cache: [max_pos, r/2] with position_ids ([batch, seq] int64), else [batch, seq, r/2],
    dense, x's dtype. out: where to write Y (x itself for in place); None allocates it.
    Returns Y, of x's type. With a torch x that requires grad (and grad mode on), Y has a grad_fn whose
    backward is the library's exact transposed rotation (cos/sin get no gradient; out must be None).
    Torch calls are the ops librope::rotary_embedding_onnx (and its _out / _inplace forms).
    """
    if isinstance(x, _Tensor) or _first_torch_call(x):
        return _torch_ops.onnx(x, cos_cache, sin_cache, position_ids, int(interleaved), rotary_embedding_dim,
                               num_heads, out)
    if out is None:
        out = _empty_like(x)
    _core.onnx(x, cos_cache, sin_cache, position_ids, out, int(interleaved), rotary_embedding_dim, num_heads,
               False)
    return out


def rope_atb(query, key, cos, sin, seqlen, *, rotary_coeff=4, cos_format=0, out=None):
    """ropeQ, ropeK = ATB RopeOperation(query, key, cos, sin, seqlen), in one pass over the tokens.

    query: [ntokens, hiddenQ] or [batch, seq, heads, head_size]; key the same with hiddenK dividing
    hiddenQ; rows may be strided (q and k split out of a fused QKV tensor). cos, sin: [rows, D], dense.
    seqlen: [batch] int32/uint32. out: a pair (rope_q, rope_k), which may be (query, key) for in place;
    None allocates both. Returns the pair, of the inputs' type. With torch inputs that require grad,
    the results carry a grad_fn running the library's backward (out must then be None). Torch calls
    are the ops librope::rope_atb (and its _out / _inplace forms).
    """
    if isinstance(query, _Tensor) or _first_torch_call(query):
        return _torch_ops.atb(query, key, cos, sin, seqlen, rotary_coeff, cos_format, out)
    if out is None:
        out = (_empty_like(query), _empty_like(key))
    rq, rk = out
    _core.atb(query, key, cos, sin, seqlen, rq, rk, rotary_coeff, cos_format, False)
    return rq, rk


def rotary_embedding(positions, query, key, head_size, cos_sin_cache, is_neox=True, *, mrope_section=None,
                     mrope_interleaved=False):
    """vLLM's rotary_embedding, in place, in vLLM's argument order: query and key are rotated where
    they sit by the rows of cos_sin_cache ([P, rot]: cos in the first half, sin in the second) that
    positions ([T] or [B, S], int64 or int32; [m, T] / [m, B, S] with MRoPE) select.

    query: [T, Hq*head_size], [T, Hq, head_size] or [B, S, Hq*head_size]; key likewise or None.
    is_neox: halves (GPT-NeoX) or adjacent pairs (GPT-J). mrope_section: 3 or 4 section sizes adding
    up to rot/2 (Qwen2-VL's MRoPE), mrope_interleaved: Qwen3-VL's interleaved sections.
    Returns None. For inference: tensors that require grad are refused. Raises NotImplementedError when
    the C library has no vLLM-style operator (see has_vllm()). Torch calls are the op
    librope::rotary_embedding, declared as mutating query and key.
    """
    if not _core.has_vllm:
        raise NotImplementedError("librope.rotary_embedding needs the C library's vLLM-style operator "
                                  "(issue 9), which this build of librope does not have")
    for name, t in (("query", query), ("key", key), ("cos_sin_cache", cos_sin_cache)):
        if getattr(t, "requires_grad", False) is True:
            raise RuntimeError(f"librope.rotary_embedding rotates {name} in place, for inference, and {name} "
                               "requires grad: call it under torch.no_grad() on tensors that do not require "
                               "grad, or use rotary_embedding_onnx / rope_atb, which have a backward")
    section = None if mrope_section is None else tuple(int(s) for s in mrope_section)
    if isinstance(query, _Tensor) or _first_torch_call(query):
        _torch_ops.vllm(positions, query, key, head_size, cos_sin_cache, bool(is_neox), section,
                        bool(mrope_interleaved))
        return
    _core.vllm(positions, query, key, head_size, cos_sin_cache, bool(is_neox), section, bool(mrope_interleaved))


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
                               mrope_interleaved=False):
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
    fused_qk_norm_rope does, with eps: the whole Qwen3 prologue in one pass.

    Returns None. Raises RopeError (nothing written, caches included) on bad input. Torch calls are
    the op librope::rotary_embedding_and_cache (mutates query, key, key_cache, value_cache).
    """
    _refuse_grad("rotary_embedding_and_cache", query=query, key=key, key_cache=key_cache, value_cache=value_cache)
    section = None if mrope_section is None else tuple(int(s) for s in mrope_section)
    if isinstance(query, _Tensor) or _first_torch_call(query):
        _torch_ops.rope_and_cache(positions, query, key, value, head_size, cos_sin_cache, bool(is_neox), key_cache,
                                  value_cache, slot_mapping, kv_cache_dtype, k_scale, v_scale, kv_layout, q_weight,
                                  k_weight, float(eps), section, bool(mrope_interleaved))
        return
    _core.rope_and_cache(positions, query, key, value, head_size, cos_sin_cache, bool(is_neox), key_cache,
                         value_cache, slot_mapping, kv_cache_dtype, k_scale, v_scale, kv_layout, q_weight, k_weight,
                         float(eps), section, bool(mrope_interleaved))
