# SPDX-License-Identifier: MIT
"""librope: rotary position embedding (RoPE) on CPUs, on the tensors you already hold.

The operators take PyTorch tensors, NumPy arrays (bfloat16 through ml_dtypes) or anything else that
speaks DLPack or the buffer protocol, without copying them, and return the caller's tensor type:

- rotary_embedding_onnx: ONNX RotaryEmbedding-23;
- rope_atb: Ascend Transformer Boost's RopeOperation (query and key in one pass);
- rotary_embedding: vLLM's in-place rotary_embedding (the C library's vLLM-style operator);
- fused_qk_norm_rope, rotary_embedding_and_cache: the fused attention prologue (vLLM's QK-norm +
  RoPE, and RoPE + the paged KV-cache write, f16/bf16/fp8 caches), in place;

plus cos_sin (caches from a Hugging Face config), cos_sin_axes (per-token tables of multi-axis
positions: vision towers, image and video diffusion; the three operators also take such positions
directly with axes_dims=, computing the values on the fly), set_num_threads, isa and __version__. Errors raise
RopeError (a ValueError) with the library's message and err.status, and write nothing. Torch inputs
that require grad get a grad_fn running the library's backward.

With torch, the operators are torch.library custom ops (torch.ops.librope.*): torch.compile
(fullgraph=True), compiled backward and torch.export trace through every call. Importing librope
never imports torch; the ops are registered here when torch was imported first, otherwise on the
first call with a torch tensor or by load_torch_ops().

librope.transformers (imported on its own; it imports torch) serves Hugging Face transformers: a
drop-in apply_rotary_pos_emb and kernel_mapping() for the `kernels` package's kernelize.
"""
import sys as _sys

from . import _core
from ._core import RopeError
from ._ops import rotary_embedding_onnx, rope_atb, rotary_embedding, load_torch_ops
from ._ops import fused_qk_norm_rope, rotary_embedding_and_cache
from ._config import cos_sin, rope_config
from ._axes import cos_sin_axes

__version__ = _core.version
__all__ = ["RopeError", "rotary_embedding_onnx", "rope_atb", "rotary_embedding", "cos_sin", "rope_config",
           "cos_sin_axes", "set_num_threads", "get_num_threads", "isa", "has_vllm", "load_torch_ops",
           "__version__", "fused_qk_norm_rope", "rotary_embedding_and_cache"]

# With torch already imported the ops exist as soon as librope does, as a program exported with them
# (torch.export.load) or code calling torch.ops.librope.* directly expects; without torch, nothing.
if _sys.modules.get("torch") is not None:
    load_torch_ops()


def set_num_threads(n: int) -> None:
    """Use n threads for librope's calls from now on (0: every online CPU). Calls already running keep
    their threads. Raises RopeError (ROPE_ERROR_ATTRIBUTE) outside 0..1024."""
    _core.set_num_threads(n)


def get_num_threads() -> int:
    """The number of threads librope's calls use."""
    return _core.get_num_threads()


def isa() -> str:
    """The instruction set librope's kernels use here: 'avx512', 'avx2', 'neon' or 'scalar'."""
    return _core.isa()


def has_vllm() -> bool:
    """True: every build of the C library has the vLLM-style operator behind rotary_embedding (kept for
    callers that asked before it was there)."""
    return bool(_core.has_vllm)
