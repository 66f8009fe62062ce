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


def _dims_thetas(fn, axes_dims, theta, attention):
    """(dims, thetas): the axes' widths as ints and one base per axis (a single theta repeated), with
    the checks cos_sin_axes and the on-the-fly calls share (messages naming librope.`fn`); attention
    is only checked."""
    dims = [int(d) for d in axes_dims]
    if isinstance(theta, numbers.Real):
        thetas = [float(theta)] * len(dims)
    else:
        thetas = [float(t) for t in theta]
        if len(thetas) != len(dims):
            raise ValueError(f"librope.{fn}: theta has {len(thetas)} values, expected 1 or {len(dims)} (one per axis)")
    if any(t == 0 for t in thetas):  # the library reads 0 as "default": never silently
        raise ValueError(f"librope.{fn}: theta 0; expected > 1")
    if attention == 0:
        raise ValueError(f"librope.{fn}: attention 0; expected > 0")
    return dims, thetas


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
    dims, thetas = _dims_thetas("cos_sin_axes", axes_dims, theta, attention)
    pos = _positions(positions)
    rot = sum(d for d in dims if d > 0)
    rows = pos.shape[0] if len(pos.shape) >= 1 else 0
    width = rot // 2 if layout == "half" else rot
    cos, sin = _alloc(framework, (rows, width), dtype), _alloc(framework, (rows, width), dtype)
    _core.cache_fill_axes(dims, thetas, _FREQ[freq], float(attention), pos, _LAYOUT[layout], rotary_coeff, cos, sin)
    return cos, sin


# ---- the operators on the fly from multi-axis positions (rope_*_fly_axes) -----------------------

def _config(fn, axes_dims, theta, freq, attention):
    """(dims, thetas, freq code, attention) of an axes configuration, checked as cos_sin_axes checks
    it (the library checks the rest and names the field)."""
    if freq not in _FREQ:
        raise ValueError(f"librope.{fn}: axes_freq must be 'per_axis' or 'alternating', got {freq!r}")
    dims, thetas = _dims_thetas(fn, axes_dims, theta, attention)
    return dims, thetas, _FREQ[freq], float(attention)


def _needs_table(*tensors):
    """True for torch calls the on-the-fly C call cannot serve: a tensor that records autograd
    history (the table form, bitwise the same values, carries the backward), or a traced call."""
    import torch
    if torch.compiler.is_compiling():
        raise NotImplementedError("librope: the multi-axis on-the-fly form runs eagerly; under torch.compile "
                                  "compute the tables with librope.cos_sin_axes and call the table form")
    return torch.is_grad_enabled() and any(getattr(t, "requires_grad", False) for t in tensors)


def _torch_dtype_name(t):
    return str(t.dtype).replace("torch.", "")


def onnx_fly(x, positions, out, layout, rotary_embedding_dim, num_heads, axes):
    """rotary_embedding_onnx with multi-axis positions (see its docstring)."""
    from . import _ops
    dims, thetas, freq, attention = axes
    pos = _positions(positions)
    if _is_torch(x) and _needs_table(x):
        # The per-token tables of the same coordinates (one row per token of x), then the table op.
        batch = x.shape[0]
        seq = x.shape[2] if x.dim() == 4 else x.shape[1]
        p = pos.reshape(-1, len(dims))
        if p.shape[0] == seq and batch > 1:
            p = p.repeat(batch, 1)  # [S, A] shared by the batch rows
        cos, sin = cos_sin_axes(p, dims, thetas, dtype=_torch_dtype_name(x), framework="torch",
                                freq=[k for k, v in _FREQ.items() if v == freq][0], attention=attention)
        half = cos.shape[1]
        cos, sin = cos.reshape(batch, -1, half), sin.reshape(batch, -1, half)
        return _ops._torch_ops.onnx(x, cos, sin, None, layout, rotary_embedding_dim, num_heads, out)
    if out is None:
        out = x.new_empty(x.shape) if _is_torch(x) else _ops._empty_like(x)
    _core.onnx_fly_axes(x, pos, out, layout, rotary_embedding_dim, num_heads, False, dims, thetas, freq, attention, 0)
    return out


def atb_fly(query, key, positions, seqlen, rotary_coeff, out, partial, head_size, axes):
    """rope_atb with multi-axis positions (see its docstring)."""
    from . import _ops
    dims, thetas, freq, attention = axes
    pos = _positions(positions)
    if seqlen is None:  # one sequence of every token: ATB's seqlen is then not read
        import numpy as np
        ntok = query.shape[0] * (query.shape[1] if len(query.shape) == 4 else 1)
        seqlen = np.array([ntok], dtype=np.int32)
    if _is_torch(query) and _needs_table(query, key):
        import torch
        if not _is_torch(seqlen):
            seqlen = torch.as_tensor(seqlen)
        cos, sin = cos_sin_axes(pos.reshape(-1, len(dims)), dims, thetas, dtype=_torch_dtype_name(query),
                                framework="torch", freq=[k for k, v in _FREQ.items() if v == freq][0],
                                attention=attention, layout="full", rotary_coeff=rotary_coeff)
        return _ops._torch_ops.atb(query, key, cos, sin, seqlen, rotary_coeff, 0, out, partial, head_size)
    if out is None:
        out = tuple(t.new_empty(t.shape) if _is_torch(t) else _ops._empty_like(t) for t in (query, key))
    rq, rk = out
    _core.atb_fly_axes(query, key, pos, seqlen, rq, rk, rotary_coeff, False, partial, head_size, dims, thetas, freq,
                       attention, 0)
    return rq, rk


def vllm_fly(positions, query, key, head_size, is_neox, later, axes):
    """rotary_embedding with multi-axis positions, in place (see its docstring)."""
    dims, thetas, freq, attention = axes
    if _is_torch(query):
        import torch
        if torch.compiler.is_compiling():
            raise NotImplementedError("librope.rotary_embedding: the multi-axis on-the-fly form runs eagerly")
    offset, inverse, partial, pairs_to_halves = later
    _core.vllm_fly_axes(_positions(positions), query, key, head_size, bool(is_neox), offset, inverse, partial,
                        pairs_to_halves, dims, thetas, freq, attention, 0)
