# SPDX-License-Identifier: MIT
"""librope: rotary position embedding (RoPE) on CPUs, on the tensors you already hold.

The operators take PyTorch tensors, NumPy arrays (bfloat16 through ml_dtypes) or anything else that
speaks DLPack or the buffer protocol, without copying them, and return the caller's tensor type:

- rotary_embedding_onnx: ONNX RotaryEmbedding-23;
- rope_atb: Ascend Transformer Boost's RopeOperation (query and key in one pass);
- rotary_embedding: vLLM's in-place rotary_embedding (the C library's vLLM-style operator);

plus cos_sin (caches from a Hugging Face config), set_num_threads, isa and __version__. Errors raise
RopeError (a ValueError) with the library's message and err.status, and write nothing. Torch inputs
that require grad get a grad_fn running the library's backward.

librope.transformers (imported on its own; it imports torch) serves Hugging Face transformers: a
drop-in apply_rotary_pos_emb and kernel_mapping() for the `kernels` package's kernelize.
"""
from . import _core
from ._core import RopeError
from ._ops import rotary_embedding_onnx, rope_atb, rotary_embedding
from ._config import cos_sin, rope_config

__version__ = _core.version
__all__ = ["RopeError", "rotary_embedding_onnx", "rope_atb", "rotary_embedding", "cos_sin", "rope_config",
           "set_num_threads", "get_num_threads", "isa", "has_vllm", "__version__"]


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
    """True when this build of the C library has the vLLM-style operator behind rotary_embedding."""
    return bool(_core.has_vllm)
