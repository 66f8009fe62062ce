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
