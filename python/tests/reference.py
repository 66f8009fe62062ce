# SPDX-License-Identifier: MIT
"""Float64 references of the three operators, written from their definitions (rope.h, ONNX
RotaryEmbedding-23, ATB RopeOperation, vLLM rotary_embedding) with NumPy, independent of librope."""
import numpy as np


def f64(a):
    """Any tensor (torch of any dtype, NumPy including ml_dtypes bfloat16) as a float64 NumPy array."""
    if hasattr(a, "detach"):
        import torch
        a = a.detach()
        if a.dtype in (torch.bfloat16, torch.float16):
            a = a.float()
        return a.numpy().astype(np.float64)
    return np.asarray(a).astype(np.float64)


def onnx_ref(x, cos, sin, pos=None, interleaved=0, rdim=0, num_heads=0):
    x, cos, sin = f64(x), f64(cos), f64(sin)
    three_d = x.ndim == 3
    if three_d:
        b, s, hidden = x.shape
        x4 = x.reshape(b, s, num_heads, hidden // num_heads).transpose(0, 2, 1, 3)
    else:
        x4 = x
    b, n, s, h = x4.shape
    r = rdim or h
    if pos is not None:
        p = np.asarray(f64(pos)).astype(np.int64)
        c, sn = cos[p], sin[p]  # [b, s, r/2]
    else:
        c, sn = cos, sin
    c, sn = c[:, None, :, :], sn[:, None, :, :]
    y = x4.copy()
    if interleaved:
        x1, x2 = x4[..., 0:r:2], x4[..., 1:r:2]
        y[..., 0:r:2] = c * x1 - sn * x2
        y[..., 1:r:2] = sn * x1 + c * x2
    else:
        x1, x2 = x4[..., : r // 2], x4[..., r // 2: r]
        y[..., : r // 2] = c * x1 - sn * x2
        y[..., r // 2: r] = sn * x1 + c * x2
    if three_d:
        y = y.transpose(0, 2, 1, 3).reshape(b, s, -1)
    return y


def atb_rows(seqlen, ntokens, cos_format):
    if cos_format == 0:
        return np.arange(ntokens)
    return np.concatenate([np.arange(int(n)) for n in f64(seqlen).astype(np.int64)] + [np.zeros(0, np.int64)])


def atb_one(x, cos, sin, rows, coeff):
    x = f64(x)
    shape = x.shape
    t = shape[0] * shape[1] if x.ndim == 4 else shape[0]
    x = x.reshape(t, -1)
    cos, sin = f64(cos)[rows], f64(sin)[rows]  # [t, D]
    d = cos.shape[1]
    rs = d // coeff
    y = np.empty_like(x)
    for chunk in range(x.shape[1] // d):
        xc = x[:, chunk * d:(chunk + 1) * d]
        for i in range(d):
            if i % (2 * rs) < rs:
                y[:, chunk * d + i] = xc[:, i] * cos[:, i] - xc[:, i + rs] * sin[:, i]
            else:
                y[:, chunk * d + i] = xc[:, i] * cos[:, i] + xc[:, i - rs] * sin[:, i]
    return y.reshape(shape)


def atb_ref(q, k, cos, sin, seqlen, coeff, cos_format):
    t = q.shape[0] * q.shape[1] if q.ndim == 4 else q.shape[0]
    rows = atb_rows(seqlen, t, cos_format)
    return atb_one(q, cos, sin, rows, coeff), atb_one(k, cos, sin, rows, coeff)


def vllm_pair_axes(half, mrope_section, interleaved):
    """Which positions axis each of the rot/2 pairs takes (MRoPE), as Qwen2-VL / Qwen3-VL define it."""
    if mrope_section is None:
        return np.zeros(half, np.int64)
    if interleaved:  # Qwen3-VL: pair j is axis j % 3 while that axis has pairs left, else axis 0
        axes = np.zeros(half, np.int64)
        for axis in (1, 2):
            axes[axis: mrope_section[axis] * 3: 3] = axis
        return axes
    return np.repeat(np.arange(len(mrope_section)), mrope_section)


def vllm_ref(positions, x, head_size, cache, is_neox, mrope_section=None, interleaved=False):
    """x: query or key, [T, H*hs], [T, H, hs] or [B, S, H*hs]; positions [T] / [B, S] (or [m, ...])."""
    x, cache = f64(x), f64(cache)
    pos = np.asarray(f64(positions)).astype(np.int64)
    rot = cache.shape[1]
    half = rot // 2
    if mrope_section is None:
        pos = pos[None]
    pos = pos.reshape(pos.shape[0], -1)  # [m, T]
    t = pos.shape[1]
    axes = vllm_pair_axes(half, mrope_section, interleaved)
    rows = pos[axes, :].T  # [T, half]: each pair's position
    cos = cache[rows, np.arange(half)[None, :]]
    sin = cache[rows, half + np.arange(half)[None, :]]
    shape = x.shape
    xs = x.reshape(t, -1, head_size)
    y = xs.copy()
    c, s = cos[:, None, :], sin[:, None, :]
    if is_neox:
        x1, x2 = xs[..., :half], xs[..., half:rot]
        y[..., :half] = x1 * c - x2 * s
        y[..., half:rot] = x2 * c + x1 * s
    else:
        x1, x2 = xs[..., 0:rot:2], xs[..., 1:rot:2]
        y[..., 0:rot:2] = x1 * c - x2 * s
        y[..., 1:rot:2] = x2 * c + x1 * s
    return y.reshape(shape)
