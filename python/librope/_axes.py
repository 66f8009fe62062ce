# SPDX-License-Identifier: MIT
"""Multi-axis positions (vision towers, image and video diffusion): per-token cos/sin tables from each
token's coordinates, one slice of the rotated pairs per axis (rope_cache_fill_axes)."""
import numbers

from . import _core
from ._config import _alloc

_FREQ = {"per_axis": 0, "alternating": 1}
_LAYOUT = {"half": 0, "full": 1}


def _is_torch(x):
    return type(x).__module__.split(".")[0] == "torch"


def _positions(positions):
    """positions as a dense tensor of a dtype the library reads (int64, int32, float32, float64),
    converted only where that is exact (narrower integers and floats, lists) and needed."""
    if _is_torch(positions):
        import torch
        p = positions
        if p.dtype in (torch.int8, torch.uint8, torch.int16, torch.bool):
            p = p.to(torch.int64)
        elif p.dtype in (torch.float16, torch.bfloat16):
            p = p.to(torch.float32)
        return p.contiguous()
    import numpy as np
    p = np.asarray(positions)
    if p.dtype.kind in "iub" and p.dtype not in (np.int32, np.int64):
        if p.dtype == np.uint64 and p.size and p.max() > 2**53:
            raise ValueError(f"librope.cos_sin_axes: positions: {p.max()} is beyond 2^53")
        p = p.astype(np.int64)  # exact: narrower integers, booleans, unsigned ones up to 2^53
    elif p.dtype == np.float16 or str(p.dtype) == "bfloat16":
        p = p.astype(np.float32)  # exact
    return np.ascontiguousarray(p)


def cos_sin_axes(positions, axes_dims, theta=10000.0, *, dtype="float32", framework="numpy", freq="per_axis",
                 layout="half", rotary_coeff=2, attention=1.0):
    """(cos, sin) for T tokens at multi-axis positions, as rope_cache_fill_axes writes them: each
    value computed in float64 from the exact angle and rounded once to `dtype`.

    positions: [T, A] integer or float coordinates (a torch tensor, a NumPy array or a nested list;
    fractional and negative coordinates are taken as they are, as diffusers passes them).
    axes_dims: the A rotary widths (each even; rot = their sum), e.g. (16, 56, 56) for Flux.
    theta: one base for every axis or one per axis. freq: "per_axis" (axis a's pair j turns at
    theta_a^(-2j/axes_dims[a]); Flux, HunyuanVideo, Wan, Qwen2-VL vision, Llama 4 vision) or
    "alternating" (one sequence theta^(-2k/rot) dealt to the axes in turn; Pixtral). layout: "half"
    ([T, rot/2], axis 0's pairs first: ONNX's per-token cos/sin caches reshaped to [batch, seq, rot/2],
    the vLLM-style operator's cache at positions 0..T-1 once [cos | sin] are concatenated) or "full"
    ([T, rot], ATB's per-token rows, pairs placed as rotary_coeff 2, 4 or rot says). attention
    multiplies every value. dtype: "float32", "float16" or "bfloat16"; framework: "numpy" or "torch".
    Raises RopeError with the library's message (which axis, which token) and writes nothing on error.
    """
    if layout not in _LAYOUT:
        raise ValueError(f"librope.cos_sin_axes: layout must be 'half' or 'full', got {layout!r}")
    if freq not in _FREQ:
        raise ValueError(f"librope.cos_sin_axes: freq must be 'per_axis' or 'alternating', got {freq!r}")
    if dtype not in ("float32", "float16", "bfloat16"):
        raise ValueError(f"librope.cos_sin_axes: dtype must be float32, float16 or bfloat16, got {dtype!r}")
    dims = [int(d) for d in axes_dims]
    if isinstance(theta, numbers.Real):
        thetas = [float(theta)] * len(dims)
    else:
        thetas = [float(t) for t in theta]
        if len(thetas) != len(dims):
            raise ValueError(f"librope.cos_sin_axes: theta has {len(thetas)} values, expected 1 or {len(dims)} "
                             "(one per axis)")
    if any(t == 0 for t in thetas):  # the library reads 0 as "default": never silently
        raise ValueError("librope.cos_sin_axes: theta 0; expected > 1")
    if attention == 0:
        raise ValueError("librope.cos_sin_axes: attention 0; expected > 0")
    pos = _positions(positions)
    rot = sum(d for d in dims if d > 0)
    rows = pos.shape[0] if len(pos.shape) >= 1 else 0
    width = rot // 2 if layout == "half" else rot
    cos, sin = _alloc(framework, (rows, width), dtype), _alloc(framework, (rows, width), dtype)
    _core.cache_fill_axes(dims, thetas, _FREQ[freq], float(attention), pos, _LAYOUT[layout], rotary_coeff, cos, sin)
    return cos, sin
