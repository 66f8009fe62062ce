# SPDX-License-Identifier: MIT
"""librope under Hugging Face transformers: a drop-in `apply_rotary_pos_emb` and a `kernels` mapping.

    import librope.transformers as lt
    # 1. drop-in: replace a model family's function (any transformers version)
    transformers.models.llama.modeling_llama.apply_rotary_pos_emb = lt.apply_rotary_pos_emb
    # 2. kernelize (transformers 5 with the `kernels` package): every decorated model family
    with kernels.use_kernel_mapping(lt.kernel_mapping()):
        model = kernels.kernelize(model, mode=kernels.Mode.INFERENCE, device="cpu")

apply_rotary_pos_emb returns what transformers' own function returns: the same values (float32:
bitwise; the products and sums are rounded as the eager formula rounds them, and no FMA is used;
float16/bfloat16: computed in float32 and rounded once, where the eager formula rounds each product
and the sum), the same shapes, and gradients to q and k. Results have q's and k's dtypes: when cos is
float32 and q bfloat16 (OLMo 2), the formula runs in float32 and rounds to bfloat16 at the end, as
OLMo 2's function does (bitwise its values). Which librope operator runs:

- full rotation (cos width == head size), q and k laid out token by token (each token's heads
  contiguous: the `view(...).transpose(1, 2)` every transformers attention makes, also as a slice of
  a fused QKV projection): rope_atb with full-width cos/sin, q and k in one pass. It reads each
  element's own cos and sin, exactly as the eager formula does, so any cos/sin gives its result;
- partial rotation (cos width < head size: GPT-NeoX, Phi, StableLM), or q/k laid out head by head:
  rotary_embedding_onnx with the half-width table (rotary_embedding_dim = cos width, the rest of each
  head copied). Half-width means one cos per pair, so this path first checks that the two halves of
  cos and of sin are equal (true for every RoPE table transformers builds). When they are not, and
  whenever torch.compile traces (a check on values cannot run in a graph), rope_atb serves instead
  on a token-major copy of each head's rotated part, exact for any cos/sin as above, the rest of each
  head concatenated back as transformers' torch.cat does;
- anything else the eager formula would accept (other dtypes or devices, q and k or cos and sin of
  different dtypes, an unsqueeze_dim other than 1 or 2, shapes that only broadcast): the eager
  formula, so the result is still transformers' (and shapes that do not broadcast raise its error).

Importing this module imports torch; `import librope` alone does not.
"""
import warnings

import torch

import librope as _librope

__all__ = ["apply_rotary_pos_emb", "apply_rotary_pos_emb_single", "apply_rotary_pos_emb_interleave",
           "kernel_mapping", "LibropeRotaryPosEmb"]

_DTYPES = (torch.float32, torch.float16, torch.bfloat16)


def _rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


def _eager(q, k, cos, sin, unsqueeze_dim):
    """transformers' formula (the partial form of GPT-NeoX and Phi: the leading cos width rotated), in
    the dtype q and cos promote to, the results in q's and k's dtypes (as OLMo 2 returns them)."""
    cos = cos.unsqueeze(unsqueeze_dim)
    sin = sin.unsqueeze(unsqueeze_dim)
    rot = cos.shape[-1]
    outs = []
    for x in (q, k):
        if rot == x.shape[-1]:
            y = x * cos + _rotate_half(x) * sin
        else:
            x_rot, x_pass = x[..., :rot], x[..., rot:]
            y = torch.cat((x_rot * cos + _rotate_half(x_rot) * sin, x_pass), dim=-1)
        outs.append(y.to(x.dtype))
    return outs[0], outs[1]


def _evenly_spaced(sizes, strides, step):
    """True when rows of these leading (sizes, strides) sit `step` elements apart in row-major order
    (dims of size 1 place nothing), as the library's row_stride requires."""
    expected = step
    for size, stride in zip(reversed(sizes), reversed(strides)):
        if size == 1:
            continue
        if stride != expected:
            return False
        expected *= size
    return True


def _token_major(shape, stride, heads_dim):
    """Whether a q/k of this shape and stride (heads at heads_dim: 1 or 2) has token rows: each token's
    H*D elements contiguous, the rows evenly spaced (possibly further apart than H*D, as q or k sliced
    out of a fused QKV projection) in batch-then-sequence order."""
    seq_dim = 3 - heads_dim
    h, d = shape[heads_dim], shape[3]
    if (d > 1 and stride[3] != 1) or (h > 1 and stride[heads_dim] != d):
        return False
    sizes, strides = (shape[0], shape[seq_dim]), (stride[0], stride[seq_dim])
    step = strides[1] if sizes[1] > 1 else strides[0] if sizes[0] > 1 else h * d
    return step >= h * d and _evenly_spaced(sizes, strides, step)


def _head_rows(xh):
    """xh [B, H, S, D] if its rows (one head of one token) are contiguous and evenly spaced, or None."""
    b, h, s, d = xh.shape
    if d > 1 and xh.stride(3) != 1:
        return None
    sizes, strides = (b, h, s), xh.stride()[:3]
    step = next((st for sz, st in zip(reversed(sizes), reversed(strides)) if sz > 1), d)
    if step < d:
        return None
    return xh if _evenly_spaced(sizes, strides, step) else None


def _served(q, k, cos, sin, unsqueeze_dim):
    """The heads dimension of q and k (1 or 2) when librope serves the call, else None (the eager
    formula then runs). Reads each shape once: a decode step's call is mostly this check."""
    if type(unsqueeze_dim) is not int or not (isinstance(q, torch.Tensor) and isinstance(k, torch.Tensor)
                                               and isinstance(cos, torch.Tensor) and isinstance(sin, torch.Tensor)):
        return None
    heads_dim = {1: 1, -3: 1, 2: 2, -2: 2}.get(unsqueeze_dim)
    qs, ks, cs = q.shape, k.shape, cos.shape
    if heads_dim is None or len(qs) != 4 or len(ks) != 4 or len(cs) != 3 or sin.shape != cs:
        return None
    dtype, cos_dtype = q.dtype, cos.dtype
    if k.dtype is not dtype or sin.dtype is not cos_dtype or not (q.is_cpu and k.is_cpu and cos.is_cpu and sin.is_cpu):
        return None
    if (dtype if dtype is cos_dtype else torch.promote_types(dtype, cos_dtype)) not in _DTYPES:
        return None
    seq_dim = 3 - heads_dim
    b, s, d, rot = qs[0], qs[seq_dim], qs[3], cs[2]
    if ks[0] != b or ks[seq_dim] != s or ks[3] != d or cs[0] not in (1, b) or cs[1] != s:
        return None
    if rot == 0 or rot % 2 or rot > d or b == 0 or s == 0 or qs[heads_dim] == 0 or ks[heads_dim] == 0:
        return None
    return heads_dim


_SEQLEN = {}


def _seqlen(b, s):
    """rope_atb's seqlen [b] of s each (read with cos_format 1), kept: a decode step would otherwise pay
    for a new tensor each call. Never written."""
    t = _SEQLEN.get((b, s))
    if t is None:
        if len(_SEQLEN) > 256:
            _SEQLEN.clear()
        t = _SEQLEN[(b, s)] = torch.full((b,), s, dtype=torch.int32)
    return t


def _atb(qt, kt, cos, sin):
    """qt, kt [B, S, H, D] with token rows, full rotation: both in one rope_atb pass, exact for any
    cos/sin (each element its own value). Returns [B, S, H, D] results."""
    b, s, _, d = qt.shape
    if cos.shape[0] == b:
        cos_rows, sin_rows, cos_format = cos.reshape(b * s, d), sin.reshape(b * s, d), 0
    else:  # one cos row per position shared by the batch: each sequence restarts at row 0
        cos_rows, sin_rows, cos_format = cos[0], sin[0], 1
    if not (cos_rows.is_contiguous() and sin_rows.is_contiguous()):
        cos_rows, sin_rows = cos_rows.contiguous(), sin_rows.contiguous()
    return _librope.rope_atb(qt, kt, cos_rows, sin_rows, _seqlen(b, s), rotary_coeff=2, cos_format=cos_format)


def _atb_gathered(q, k, cos, sin, heads_dim):
    """Any q/k layout, full or partial rotation, any cos/sin values: each head's leading rot elements
    gathered token by token ([B, S, H, rot], a copy), both rotated in one rope_atb pass (each element
    its own cos and sin, as the eager formula reads them), and for rot < D the rest of each head
    concatenated back in q's axes, as transformers' torch.cat does (so the result has its layout)."""
    rot = cos.shape[2]
    qt = q.transpose(1, 2) if heads_dim == 1 else q
    kt = k.transpose(1, 2) if heads_dim == 1 else k
    rq, rk = _atb(qt[..., :rot].contiguous(), kt[..., :rot].contiguous(), cos, sin)
    if heads_dim == 1:
        rq, rk = rq.transpose(1, 2), rk.transpose(1, 2)
    if rot == q.shape[3]:
        return rq, rk
    return torch.cat((rq, q[..., rot:]), dim=-1), torch.cat((rk, k[..., rot:]), dim=-1)


def _halves_equal(t, half):
    return torch.equal(t[..., :half], t[..., half:])


def _onnx(xh, cos_half, sin_half, position_ids, rot):
    """One tensor through rotary_embedding_onnx; xh [B, H, S, D], the result in the same axes."""
    b, h, s, d = xh.shape
    rows = _head_rows(xh)
    if rows is not None:
        return _librope.rotary_embedding_onnx(rows, cos_half, sin_half, position_ids, rotary_embedding_dim=rot)
    t = xh.transpose(1, 2)
    if not _token_major(xh.shape, xh.stride(), 1):
        t = t.contiguous()
    y = _librope.rotary_embedding_onnx(t.reshape(b, s, h * d), cos_half, sin_half, position_ids,
                                       rotary_embedding_dim=rot, num_heads=h)
    return y.view(b, s, h, d).transpose(1, 2)


class _StockGradientLayout(torch.autograd.Function):
    """The identity, whose backward returns the gradient contiguous in the input's shape: the layout
    transformers' formula gives q's and k's gradients whatever the attention's gradient layout is
    (the backward of its rotate_half slices starts from zeros of q's shape, and the other terms are
    added into those). A QK-norm before the rotation (Qwen3, Gemma 3) sums its weight's gradient in
    memory order, so any other layout would round that sum differently from the stock model."""

    @staticmethod
    def forward(ctx, x):
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad):
        return grad.contiguous()


def apply_rotary_pos_emb(q, k, cos, sin, unsqueeze_dim=1):
    """q, k rotated by cos and sin, as transformers' apply_rotary_pos_emb (see the module's comment).

    q: [B, Hq, S, D] with unsqueeze_dim=1, or [B, S, Hq, D] with unsqueeze_dim=2; k likewise with its
    own head count. cos, sin: [B or 1, S, rot] as a model's rotary embedding returns them (the two
    halves of each row equal), of q's dtype or float32; rot <= D (rot < D rotates the leading rot
    elements of each head and passes the rest through, as GPT-NeoX, Phi and StableLM do). Returns
    (q_embed, k_embed)."""
    heads_dim = _served(q, k, cos, sin, unsqueeze_dim)
    if heads_dim is None:
        return _eager(q, k, cos, sin, unsqueeze_dim)
    if (q.requires_grad or k.requires_grad) and torch.is_grad_enabled():
        q, k = _StockGradientLayout.apply(q), _StockGradientLayout.apply(k)
    if q.dtype is cos.dtype:
        return _rotate(q, k, cos, sin, unsqueeze_dim, heads_dim)
    # q and cos of different dtypes (OLMo 2 passes float32 cos with bfloat16 q): the formula runs in
    # the promoted dtype, then the results are rounded to q's dtype, as that model's function does
    dtype = torch.promote_types(q.dtype, cos.dtype)
    rq, rk = _rotate(q.to(dtype), k.to(dtype), cos.to(dtype), sin.to(dtype), unsqueeze_dim, heads_dim)
    return rq.to(q.dtype), rk.to(k.dtype)


def _rotate(q, k, cos, sin, unsqueeze_dim, heads_dim):
    """apply_rotary_pos_emb on inputs of one dtype that librope takes, shapes checked by _served."""
    rot = cos.shape[2]
    if (rot == q.shape[3] and _token_major(q.shape, q.stride(), heads_dim)
            and _token_major(k.shape, k.stride(), heads_dim)):
        qt = q.transpose(1, 2) if heads_dim == 1 else q
        kt = k.transpose(1, 2) if heads_dim == 1 else k
        rq, rk = _atb(qt, kt, cos, sin)
        return (rq.transpose(1, 2), rk.transpose(1, 2)) if heads_dim == 1 else (rq, rk)
    half = rot // 2
    # While torch.compile traces, the value check cannot run: the gathered rope_atb path, exact for
    # any cos/sin, serves then (and whenever the halves differ)
    if torch.compiler.is_compiling() or not (_halves_equal(cos, half) and _halves_equal(sin, half)):
        return _atb_gathered(q, k, cos, sin, heads_dim)
    b, s = cos.shape[0], cos.shape[1]
    batch = q.shape[0]
    cos_half = cos[..., :half].contiguous()
    sin_half = sin[..., :half].contiguous()
    position_ids = None
    if b != batch:  # one row per position shared by the batch: a [S, rot/2] table
        cos_half, sin_half = cos_half[0], sin_half[0]
        position_ids = torch.arange(s, dtype=torch.int64).expand(batch, s).contiguous()
    qh = q.transpose(1, 2) if heads_dim == 2 else q
    kh = k.transpose(1, 2) if heads_dim == 2 else k
    rq = _onnx(qh, cos_half, sin_half, position_ids, rot)
    rk = _onnx(kh, cos_half, sin_half, position_ids, rot)
    return (rq.transpose(1, 2), rk.transpose(1, 2)) if heads_dim == 2 else (rq, rk)


# ---- one tensor (Gemma 4) and DeepSeek's interleaved pairs ----------------------------------------

_ONNX_HALVES, _ONNX_PAIRS_TO_HALVES, _ONNX_HALVES_SPLIT = 0, 2, 3  # rope.h's rope_onnx_layout


def _eager_single(x, cos, sin, unsqueeze_dim):
    """Gemma 4's one-tensor formula, as its modeling file computes it (the promoted dtype returned)."""
    cos = cos.unsqueeze(unsqueeze_dim)
    sin = sin.unsqueeze(unsqueeze_dim)
    return x * cos + _rotate_half(x) * sin


def _eager_interleave(q, k, cos, sin, unsqueeze_dim):
    """DeepSeek V3's interleaved formula: the first half of cos/sin per adjacent pair, halves out."""
    cos = cos[..., : cos.shape[-1] // 2].unsqueeze(unsqueeze_dim)
    sin = sin[..., : sin.shape[-1] // 2].unsqueeze(unsqueeze_dim)
    outs = []
    for x in (q, k):
        x1, x2 = x[..., 0::2], x[..., 1::2]
        outs.append(torch.cat([x1 * cos - x2 * sin, x2 * cos + x1 * sin], dim=-1))
    return outs[0], outs[1]


def _served_heads(xs, cos, sin, unsqueeze_dim):
    """The heads dimension (1 or 2) when librope serves these tensors with a head-wide cos/sin
    ([B or 1, S, D], D the head size, all of one dtype librope takes, on the CPU), else None."""
    if type(unsqueeze_dim) is not int or not all(isinstance(t, torch.Tensor) for t in (*xs, cos, sin)):
        return None
    heads_dim = {1: 1, -3: 1, 2: 2, -2: 2}.get(unsqueeze_dim)
    cs = cos.shape
    if heads_dim is None or len(cs) != 3 or sin.shape != cs or cos.dtype not in _DTYPES:
        return None
    seq_dim = 3 - heads_dim
    for x in xs:
        shape = x.shape
        if len(shape) != 4 or x.dtype is not cos.dtype or sin.dtype is not cos.dtype:
            return None
        if shape[3] != cs[2] or shape[3] % 2 or shape[seq_dim] != cs[1] or cs[0] not in (1, shape[0]):
            return None
        if shape[0] == 0 or shape[seq_dim] == 0 or shape[heads_dim] == 0 or not x.is_cpu:
            return None
    if not (cos.is_cpu and sin.is_cpu):
        return None
    return heads_dim


def _onnx_layout(xh, cos_half, sin_half, position_ids, rot, layout):
    """One tensor xh [B, H, S, D] through rotary_embedding_onnx with rope_onnx_layout `layout`; the
    result in the same axes."""
    b, h, s, d = xh.shape
    rows = _head_rows(xh)
    if rows is not None:
        return _librope.rotary_embedding_onnx(rows, cos_half, sin_half, position_ids, rotary_embedding_dim=rot,
                                              interleaved=layout)
    t = xh.transpose(1, 2)
    if not _token_major(xh.shape, xh.stride(), 1):
        t = t.contiguous()
    y = _librope.rotary_embedding_onnx(t.reshape(b, s, h * d), cos_half, sin_half, position_ids,
                                       rotary_embedding_dim=rot, num_heads=h, interleaved=layout)
    return y.view(b, s, h, d).transpose(1, 2)


def _tables(x, cos_half, sin_half):
    """ONNX's per-token [B, S, r/2] cache, or (one row per position shared by the batch) the 2-D
    [S, r/2] cache with position_ids 0 .. S-1 for every sequence."""
    b, s = cos_half.shape[0], cos_half.shape[1]
    batch = x.shape[0]
    cos_half, sin_half = cos_half.contiguous(), sin_half.contiguous()
    if b == batch:
        return cos_half, sin_half, None
    position_ids = torch.arange(s, dtype=torch.int64).expand(batch, s).contiguous()
    return cos_half[0], sin_half[0], position_ids


def _turning_pairs(cos_half, sin_half):
    """How many leading pairs may turn: the pairs after them have cos exactly 1 and sin exactly 0 in
    every row (Gemma 4's proportional table past its rotated pairs)."""
    half = cos_half.shape[-1]
    still = ((cos_half == 1) & (sin_half == 0)).reshape(-1, half).all(dim=0)
    moving = torch.nonzero(~still)
    return int(moving[-1, 0]) + 1 if moving.numel() else 0


def apply_rotary_pos_emb_single(x, cos, sin, unsqueeze_dim=1):
    """x rotated by cos and sin, as Gemma 4's one-tensor apply_rotary_pos_emb(x, cos, sin,
    unsqueeze_dim) (x * cos + rotate_half(x) * sin).

    x: [B, H, S, D] with unsqueeze_dim=1, or [B, S, H, D] with unsqueeze_dim=2 (Gemma 4's call).
    cos, sin: [B or 1, S, D], x's dtype, the two halves of each row equal (every table transformers
    builds). Served by rotary_embedding_onnx with the [*, S, n] half table, n the leading pairs that
    turn: when the pairs past n have cos 1 and sin 0 in every row (Gemma 4's proportional RoPE on
    its full-attention layers), partial="split" rotates only (x[j], x[D/2 + j]) for j < n and copies
    the rest (what the formula computes there, x*1 + y*0). float32: bitwise transformers' values
    (the same products and sum, no FMA); float16/bfloat16: computed in float32, rounded once.
    Anything else (dtypes that differ, other devices, halves that differ, shapes that only
    broadcast) and calls under torch.compile run the formula itself. Returns the rotated x, with
    gradients to x.
    """
    heads_dim = _served_heads((x,), cos, sin, unsqueeze_dim)
    if heads_dim is None or torch.compiler.is_compiling():
        return _eager_single(x, cos, sin, unsqueeze_dim)
    half = x.shape[3] // 2
    cos_half, sin_half = cos[..., :half], sin[..., :half]
    if not (torch.equal(cos_half, cos[..., half:]) and torch.equal(sin_half, sin[..., half:])):
        return _eager_single(x, cos, sin, unsqueeze_dim)
    n = max(_turning_pairs(cos_half, sin_half), 1)
    layout = _ONNX_HALVES if n == half else _ONNX_HALVES_SPLIT
    cos_t, sin_t, position_ids = _tables(x, cos_half[..., :n], sin_half[..., :n])
    xh = x.transpose(1, 2) if heads_dim == 2 else x
    y = _onnx_layout(xh, cos_t, sin_t, position_ids, 2 * n, layout)
    return y.transpose(1, 2) if heads_dim == 2 else y


def apply_rotary_pos_emb_interleave(q, k, cos, sin, position_ids=None, unsqueeze_dim=1):
    """q, k rotated as DeepSeek V2/V3's apply_rotary_pos_emb_interleave (rope_interleave): adjacent
    pairs (x[2j], x[2j+1]) in, halves out: [x_even*c - x_odd*s | x_odd*c + x_even*s], c and s the
    first half of each cos/sin row (cos and sin are cat(freqs, freqs), yarn's mscale included).

    q: [B, Hq, S, D] (unsqueeze_dim=1; DeepSeek's q_rot, a slice of the projected heads) or
    [B, S, Hq, D] (unsqueeze_dim=2); k likewise with its own head count (DeepSeek's k_pe: one shared
    head). cos, sin: [B or 1, S, D] of q's dtype. position_ids is accepted and unused, as in
    transformers. Served by rotary_embedding_onnx(interleaved="pairs_to_halves"), which reads only
    the first half of the rows, as the formula does: float32 bitwise transformers' values;
    float16/bfloat16 computed in float32 and rounded once. Anything else runs the formula itself.
    Returns (q_embed, k_embed), with gradients to q and k.
    """
    del position_ids  # transformers' signature; the cos/sin rows already are the tokens' positions
    heads_dim = _served_heads((q, k), cos, sin, unsqueeze_dim)
    if heads_dim is None:
        return _eager_interleave(q, k, cos, sin, unsqueeze_dim)
    d = q.shape[3]
    outs = []
    for x in (q, k):
        cos_t, sin_t, pid = _tables(x, cos[..., : d // 2], sin[..., : d // 2])
        xh = x.transpose(1, 2) if heads_dim == 2 else x
        y = _onnx_layout(xh, cos_t, sin_t, pid, d, _ONNX_PAIRS_TO_HALVES)
        outs.append(y.transpose(1, 2) if heads_dim == 2 else y)
    return outs[0], outs[1]


_APPLY = apply_rotary_pos_emb  # the function itself, for the trace probe (callers may wrap the name)


class LibropeRotaryPosEmb(torch.nn.Module):
    """The layer the `kernels` mapping loads for "rotary_pos_emb" (inference and training): stateless,
    its forward has the signature of the function transformers decorates and calls
    apply_rotary_pos_emb."""

    has_backward = True
    can_torch_compile = False

    def forward(self, q, k, cos, sin, unsqueeze_dim=1):
        return apply_rotary_pos_emb(q, k, cos, sin, unsqueeze_dim)


class LibropeRotaryPosEmbCompiled(LibropeRotaryPosEmb):
    """The layer for the torch.compile modes. `kernels` keeps the model's own function in those modes
    unless can_torch_compile is True, which loading sets to whether apply_rotary_pos_emb traces with
    torch.compile(fullgraph=True) in this installation (_traces_whole)."""

    can_torch_compile = False


_TRACES_WHOLE = []


def _traces_whole():
    """Whether torch.compile(fullgraph=True) traces apply_rotary_pos_emb on token-major inputs without
    a graph break (it does once librope's operators are torch.library custom ops). Probed once."""
    if not _TRACES_WHOLE:
        q = torch.randn(1, 3, 2, 8).transpose(1, 2)
        k = torch.randn(1, 3, 1, 8).transpose(1, 2)
        cos, sin = torch.randn(1, 3, 8), torch.randn(1, 3, 8)
        try:
            with warnings.catch_warnings():  # dynamo explains a graph break at length: the answer is enough
                warnings.simplefilter("ignore")
                got = torch.compile(_APPLY, fullgraph=True, backend="eager")(q, k, cos, sin)
            want = _eager(q, k, cos, sin, 1)
            ok = torch.equal(got[0], want[0]) and torch.equal(got[1], want[1])
        except Exception:  # any failure to trace means: not compilable here
            ok = False
        _TRACES_WHOLE.append(ok)
    return _TRACES_WHOLE[0]


class _Repository:
    """A `kernels` repository (its RepositoryProtocol: load() returns the layer class) that downloads
    nothing: the layer is librope's."""

    def __init__(self, compiled):
        self._compiled = compiled

    def load(self):
        if not self._compiled:
            return LibropeRotaryPosEmb
        LibropeRotaryPosEmbCompiled.can_torch_compile = _traces_whole()
        return LibropeRotaryPosEmbCompiled

    def __eq__(self, other):
        return isinstance(other, _Repository) and other._compiled == self._compiled

    def __hash__(self):
        return hash((_Repository, self._compiled))

    def __str__(self):
        return "librope (installed package, %s)" % ("torch.compile" if self._compiled else "eager")


def kernel_mapping():
    """The mapping `kernels.use_kernel_mapping` / `register_kernel_mapping` take: transformers'
    "rotary_pos_emb" on device "cpu" served by librope in every mode kernelize accepts (inference,
    training, each with or without torch.compile). Needs the `kernels` package (ImportError naming it
    otherwise); nothing is downloaded."""
    try:
        from kernels import Mode
    except ImportError as e:
        raise ImportError("librope.transformers.kernel_mapping needs the `kernels` package (pip install "
                          "kernels; transformers 5 decorates apply_rotary_pos_emb for it)") from e
    eager, compiled = _Repository(False), _Repository(True)
    return {"rotary_pos_emb": {"cpu": {
        Mode.INFERENCE: eager,
        Mode.TRAINING: eager,
        Mode.INFERENCE | Mode.TORCH_COMPILE: compiled,
        Mode.TRAINING | Mode.TORCH_COMPILE: compiled,
    }}}
