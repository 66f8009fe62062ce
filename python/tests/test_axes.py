# SPDX-License-Identifier: MIT
"""librope.cos_sin_axes (rope_cache_fill_axes): multi-axis positions of vision towers and video
diffusion. Against a float64 reference written here (random splits, integer and fractional
coordinates of every dtype, both frequency assignments, every output dtype and layout), the tables
fed to the operators, the errors; and against the real clients: diffusers' Flux, Wan and
HunyuanVideo rotary embeddings and rotation, transformers' Qwen2-VL vision, Pixtral and Llama 4
vision rotary embeddings (either transformers generation).

Agreement with a client is measured in float32 ulps. Where the client computes its angles in
float64 and rounds once (Flux, Wan), librope must be within 1 ulp (and is almost always bitwise).
Where it computes them in float32 (HunyuanVideo, Qwen2-VL vision, Pixtral, Llama 4 vision), its own
values are off the exact ones by the float32 rounding of the frequency and of the angle; librope is
checked within 1 ulp of the client's formula evaluated in float64, and within that float32 error
bound of the client's own float32 values (the measured worst cases are printed)."""
import numpy as np
import pytest

import librope
from conftest import make, need
from reference import f64, onnx_ref


def ref_axes(pos, dims, thetas, alternating=False):
    """cos, sin [T, rot/2] in float64 from rope.h's definition."""
    pos = np.asarray(pos, dtype=np.float64)
    rot, n = sum(dims), len(dims)
    angs = []
    for a, d in enumerate(dims):
        j = np.arange(d // 2, dtype=np.float64)
        if alternating:
            inv = 1.0 / thetas[a] ** (2.0 * (j * n + a) / rot)
        else:
            inv = 1.0 / thetas[a] ** (2.0 * j / d)
        angs.append(pos[:, a:a + 1] * inv[None, :])
    ang = np.concatenate(angs, axis=1)
    return np.cos(ang), np.sin(ang)


def ulps(got, want):
    """Per-element |got - want| in float32 ulps of want (want float64 or float32)."""
    g, w = f64(got), f64(want)
    return np.abs(g - w) / np.spacing(np.abs(w).astype(np.float32)).astype(np.float64)


def _spacing(dtype, v):
    if dtype == "float32":
        return np.spacing(np.abs(v).astype(np.float32)).astype(np.float64)
    mant, emin = (10, -14) if dtype == "float16" else (7, -126)
    e = np.floor(np.log2(np.maximum(np.abs(v), 2.0 ** emin)))
    return 2.0 ** (e - mant)


def _positions(rng, kind, T, A, lim):
    if kind in ("int64", "int32"):
        return rng.integers(-lim, lim + 1, size=(T, A)).astype(kind)
    p = rng.integers(-lim, lim + 1, size=(T, A)).astype(np.float64)
    frac = rng.uniform(-lim, lim, size=(T, A))
    p = np.where(rng.integers(0, 2, size=(T, A)) == 1, frac, p)  # integer and fractional coordinates
    return p.astype(kind)


@pytest.mark.parametrize("framework", ["numpy", "torch"])
@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16"])
@pytest.mark.parametrize("kind", ["int64", "int32", "float32", "float64"])
def test_vs_float64_reference(framework, dtype, kind, rng):
    need(framework, dtype)
    worst = 0.0
    for it in range(12):
        A = int(rng.integers(1, 9))
        alternating = it % 4 == 3
        same = 2 * int(rng.integers(1, 9))
        dims = [same if alternating else 2 * int(rng.integers(1, 33)) for _ in range(A)]
        thetas = [float(np.exp(rng.uniform(np.log(2), np.log(1e6)))) for _ in range(A)]
        T = int(rng.integers(1, 50))
        pos = _positions(rng, kind, T, A, 2000)
        src = pos
        if framework == "torch":
            import torch
            src = torch.from_numpy(pos.copy())
        cos, sin = librope.cos_sin_axes(src, dims, thetas if it % 2 else thetas[0] if A == 1 else thetas,
                                        dtype=dtype, framework=framework,
                                        freq="alternating" if alternating else "per_axis")
        assert cos.shape == (T, sum(dims) // 2) and type(cos).__module__.split(".")[0] == framework
        rc, rs = ref_axes(pos, dims, thetas, alternating)
        for got, want in ((cos, rc), (sin, rs)):
            err = np.abs(f64(got) - want) / _spacing(dtype, want)
            worst = max(worst, float(err.max()))
    assert worst <= 1.0, f"{worst:.3f} ulp of {dtype} from the float64 reference"


def test_one_theta_and_integer_forms_agree(rng):
    pos = rng.integers(0, 300, size=(40, 3))
    a = librope.cos_sin_axes(pos, (16, 56, 56), 256.0)
    b = librope.cos_sin_axes(pos.astype(np.float32), [16, 56, 56], [256, 256, 256])
    c = librope.cos_sin_axes(pos.tolist(), np.array([16, 56, 56]), (256.0,) * 3)
    d = librope.cos_sin_axes(pos.astype(np.int16), (16, 56, 56), 256)  # widened exactly
    for other in (b, c, d):
        assert np.array_equal(a[0], other[0]) and np.array_equal(a[1], other[1])


def test_full_layout_spreads_the_half_table(rng):
    pos = rng.uniform(-50, 50, size=(20, 2))
    hc, hs = librope.cos_sin_axes(pos, (8, 24), 1e4)
    for coeff in (2, 4, 32):
        fc, fs = librope.cos_sin_axes(pos, (8, 24), 1e4, layout="full", rotary_coeff=coeff)
        ps = 32 // coeff
        for p in range(16):
            e = (p // ps) * 2 * ps + p % ps
            assert np.array_equal(fc[:, e], hc[:, p]) and np.array_equal(fc[:, e + ps], hc[:, p])
            assert np.array_equal(fs[:, e], hs[:, p]) and np.array_equal(fs[:, e + ps], hs[:, p])
    ac, _ = librope.cos_sin_axes(pos, (8, 24), 1e4, attention=0.5)
    assert np.array_equal(ac, (f64(hc) * 0.5).astype(np.float32))  # a power of two scales exactly


@pytest.mark.parametrize("framework", ["numpy", "torch"])
def test_operators_take_the_tables(framework, rng):
    """The tables as ONNX's 3-D per-token caches (both pairings) and as ATB's per-token rows."""
    need(framework)
    B, S, H, D = 2, 12, 3, 64
    dims = (16, 24, 24)
    pos = rng.integers(0, 40, size=(B * S, 3))
    x = make(framework, "float32", rng.uniform(-1, 1, size=(B, S, H * D)))
    cos, sin = librope.cos_sin_axes(pos, dims, 1e4, framework=framework)
    c3, s3 = cos.reshape(B, S, 32), sin.reshape(B, S, 32)
    for inter in (0, 1):
        y = librope.rotary_embedding_onnx(x, c3, s3, interleaved=inter, num_heads=H)
        want = onnx_ref(x, c3, s3, interleaved=inter, num_heads=H)
        assert np.abs(f64(y) - want).max() <= 4 * 2.0 ** -24 * 2
    fc, fs = librope.cos_sin_axes(pos, dims, 1e4, framework=framework, layout="full", rotary_coeff=64)
    q = make(framework, "float32", rng.uniform(-1, 1, size=(B * S, H * D)))
    seqlen = make(framework, "int32", np.array([B * S])) if framework == "numpy" else None
    if seqlen is None:
        import torch
        seqlen = torch.tensor([B * S], dtype=torch.int32)
    rq, _ = librope.rope_atb(q, q, fc, fs, seqlen, rotary_coeff=64)
    y = librope.rotary_embedding_onnx(q.reshape(1, B * S, H * D), cos.reshape(1, B * S, 32),
                                      sin.reshape(1, B * S, 32), interleaved=1, num_heads=H)
    assert np.array_equal(f64(rq), f64(y).reshape(B * S, H * D))  # same pairs, same arithmetic


def test_errors_name_the_fault():
    pos = np.zeros((4, 3), dtype=np.int64)
    cases = [
        (lambda: librope.cos_sin_axes(pos, (16, 55, 56), 1e4), "ROPE_ERROR_ATTRIBUTE", "axes_dims[1]"),
        (lambda: librope.cos_sin_axes(pos, (16, 56, 56), [1e4, 1.0, 1e4]), "ROPE_ERROR_ATTRIBUTE", "theta[1]"),
        (lambda: librope.cos_sin_axes(pos, (16, 56), 1e4), "ROPE_ERROR_SHAPE", "positions dim 1"),
        (lambda: librope.cos_sin_axes(np.zeros((4, 9)), (2,) * 9, 1e4), "ROPE_ERROR_ATTRIBUTE", "n_axes"),
        (lambda: librope.cos_sin_axes(pos, (16, 56, 56), 1e4, freq="alternating"), "ROPE_ERROR_ATTRIBUTE",
         "ROPE_AXES_FREQ_ALTERNATING"),
        (lambda: librope.cos_sin_axes(np.array([[0.0, 1.0, np.inf]]), (16, 56, 56), 1e4), "ROPE_ERROR_INDEX",
         "positions[0, 2]"),
        (lambda: librope.cos_sin_axes(np.array([[0.0, 1e300, 0.0]]), (16, 56, 56), 1e4), "ROPE_ERROR_INDEX",
         "2^46"),
        (lambda: librope.cos_sin_axes(np.zeros(4), (16,), 1e4), "ROPE_ERROR_RANK", "positions"),
        (lambda: librope.cos_sin_axes(pos, (16, 56, 56), 1e4, layout="full", rotary_coeff=3),
         "ROPE_ERROR_ATTRIBUTE", "rotary_coeff"),
    ]
    for fn, status, word in cases:
        with pytest.raises(librope.RopeError) as e:
            fn()
        assert e.value.status == status and word in str(e.value), str(e.value)
    for bad in (dict(theta=[1e4, 1e4]), dict(freq="pixtral"), dict(layout="vllm"), dict(dtype="float64"),
                dict(theta=0)):
        kw = dict(theta=1e4)
        kw.update(bad)
        with pytest.raises(ValueError):
            librope.cos_sin_axes(pos, (16, 56, 56), kw.pop("theta"), **kw)


# ---- real clients ------------------------------------------------------------------------------

def _f32_error_bound(angle, value):
    """How far a float32 evaluation of cos/sin(angle) (inv_freq from a float32 power, the product
    rounded, cos/sin rounded) may be from the exact value: 4 float32 roundings of the angle, and an ulp
    for the result and for librope's own rounding."""
    return 4 * 2.0 ** -24 * np.abs(angle) + 2 * np.spacing(np.abs(value).astype(np.float32))


def _report(name, got, want):
    u = ulps(got, want)
    eq = float(np.mean(f64(got) == f64(want)))
    absolute = float(np.abs(f64(got) - f64(want)).max()) / 2.0 ** -24
    print(f"{name}: max {u.max():.2f} ulp of the value ({absolute:.1f} x 2^-24 absolute), {100 * eq:.2f}% bitwise")
    return float(u.max())


def _diffusers():
    pytest.importorskip("torch")
    return pytest.importorskip("diffusers", reason="diffusers (pip install diffusers==0.42.1) is not installed")


def _flux_ids(torch, T_text, H, W):
    txt = torch.zeros(T_text, 3)
    img = torch.zeros(H, W, 3)
    img[..., 1] += torch.arange(H)[:, None]
    img[..., 2] += torch.arange(W)[None, :]
    return torch.cat([txt, img.reshape(H * W, 3)], 0)


def test_flux_pos_embed_and_rotation(rng):
    _diffusers()
    import torch
    from diffusers.models.embeddings import apply_rotary_emb
    from diffusers.models.transformers.transformer_flux import FluxPosEmbed
    ids = _flux_ids(torch, 7, 24, 40)
    ids[:7, 0] = torch.arange(7)  # let the first axis turn too (Flux Kontext offsets it)
    fc, fs = FluxPosEmbed(theta=10000, axes_dim=[16, 56, 56])(ids)  # [T, 128], repeat-interleaved
    cos, sin = librope.cos_sin_axes(ids, (16, 56, 56), 10000, framework="torch")
    worst = max(_report("Flux cos", cos, fc[:, ::2]), _report("Flux sin", sin, fs[:, ::2]))
    assert worst <= 1.0
    assert torch.equal(fc[:, ::2], fc[:, 1::2])
    # the rotation: diffusers' apply_rotary_emb (interleaved pairs) with librope's tables, against
    # librope's ONNX operator, interleaved, on the 3-D per-token cache: the same arithmetic, bitwise
    B, H, D = 2, 3, 128
    T = ids.shape[0]
    for dt in (torch.float32, torch.bfloat16):
        q = torch.from_numpy(rng.uniform(-2, 2, size=(B, T, H, D))).to(dt)
        want = apply_rotary_emb(q, (cos.repeat_interleave(2, 1), sin.repeat_interleave(2, 1)), sequence_dim=1)
        c3, s3 = cos.to(dt).expand(B, T, 64).contiguous(), sin.to(dt).expand(B, T, 64).contiguous()
        if dt != torch.float32:  # the operator takes x's dtype: librope's bf16 tables (rounded once)
            c3b, s3b = librope.cos_sin_axes(ids, (16, 56, 56), 10000, framework="torch", dtype="bfloat16")
            c3, s3 = c3b.expand(B, T, 64).contiguous(), s3b.expand(B, T, 64).contiguous()
            want = apply_rotary_emb(q, (c3b.float().repeat_interleave(2, 1), s3b.float().repeat_interleave(2, 1)),
                                    sequence_dim=1)
        got = librope.rotary_embedding_onnx(q.reshape(B, T, H * D), c3, s3, interleaved=True, num_heads=H)
        assert torch.equal(got.reshape(B, T, H, D), want), f"{dt}: rotation differs from diffusers'"


def test_wan_rotary_pos_embed(rng):
    _diffusers()
    import torch
    from diffusers.models.transformers.transformer_wan import WanRotaryPosEmbed
    D = 128
    emb = WanRotaryPosEmbed(attention_head_dim=D, patch_size=(1, 2, 2), max_seq_len=1024)
    F, Hh, Ww = 5, 12, 20
    fc, fs = emb(torch.zeros(1, 4, F, 2 * Hh, 2 * Ww))  # [1, T, 1, D] repeat-interleaved
    t, h, w = np.meshgrid(np.arange(F), np.arange(Hh), np.arange(Ww), indexing="ij")
    pos = np.stack([t.ravel(), h.ravel(), w.ravel()], axis=1)
    dims = (D - 4 * (D // 6), 2 * (D // 6), 2 * (D // 6))
    assert dims == (emb.t_dim, emb.h_dim, emb.w_dim)
    cos, sin = librope.cos_sin_axes(pos, dims, 10000, framework="torch")
    worst = max(_report("Wan cos", cos, fc[0, :, 0, ::2]), _report("Wan sin", sin, fs[0, :, 0, ::2]))
    assert worst <= 1.0


def test_hunyuan_video_rotary_pos_embed(rng):
    _diffusers()
    import torch
    from diffusers.models.embeddings import apply_rotary_emb, get_1d_rotary_pos_embed
    from diffusers.models.transformers.transformer_hunyuan_video import HunyuanVideoRotaryPosEmbed
    rope_dim, theta = [16, 56, 56], 256.0
    F, Hh, Ww = 6, 10, 14
    emb = HunyuanVideoRotaryPosEmbed(patch_size=2, patch_size_t=1, rope_dim=rope_dim, theta=theta)
    fc, fs = emb(torch.zeros(1, 4, F, 2 * Hh, 2 * Ww))  # [T, 128], computed in float32
    t, h, w = np.meshgrid(np.arange(F), np.arange(Hh), np.arange(Ww), indexing="ij")
    pos = np.stack([t.ravel(), h.ravel(), w.ravel()], axis=1)
    cos, sin = librope.cos_sin_axes(pos, rope_dim, theta, framework="torch")
    # diffusers' own formula in float64 (its freqs_dtype argument), assembled as the module does
    grid = torch.from_numpy(pos.astype(np.float64))
    parts = [get_1d_rotary_pos_embed(rope_dim[i], grid[:, i], theta, use_real=True, freqs_dtype=torch.float64)
             for i in range(3)]
    c64 = torch.cat([p[0] for p in parts], 1)[:, ::2]
    s64 = torch.cat([p[1] for p in parts], 1)[:, ::2]
    assert max(_report("HunyuanVideo cos vs float64 formula", cos, c64),
               _report("HunyuanVideo sin vs float64 formula", sin, s64)) <= 1.0
    # the module's float32 values: within their float32 error of librope's
    ang = np.concatenate([pos[:, a:a + 1] / theta ** (np.arange(0, d, 2) / d) for a, d in enumerate(rope_dim)], 1)
    for name, got, want in (("cos", cos, fc[:, ::2]), ("sin", sin, fs[:, ::2])):
        _report(f"HunyuanVideo {name} vs the module's float32", got, want)
        assert np.all(np.abs(f64(got) - f64(want)) <= _f32_error_bound(ang, f64(want)))
    # the rotation with librope's tables: diffusers' apply_rotary_emb vs librope's ONNX operator
    T, H, D = pos.shape[0], 2, 128
    q = torch.from_numpy(rng.uniform(-2, 2, size=(1, H, T, D))).float()
    want = apply_rotary_emb(q, (cos.repeat_interleave(2, 1), sin.repeat_interleave(2, 1)))  # sequence_dim 2
    got = librope.rotary_embedding_onnx(q, cos.reshape(1, T, 64), sin.reshape(1, T, 64), interleaved=True)
    assert torch.equal(got, want)


def _qwen2_vl_vision(torch, head_dim, pos):
    """(cos, sin) [T, head_dim] of Qwen2-VL's vision rotary embedding at (h, w) positions."""
    from transformers.models.qwen2_vl import modeling_qwen2_vl as q
    if hasattr(q, "Qwen2VLVisionRotaryEmbedding"):  # transformers 5: the module takes (h, w) per token
        from transformers.models.qwen2_vl.configuration_qwen2_vl import Qwen2VLVisionConfig
        cfg = Qwen2VLVisionConfig(embed_dim=2 * head_dim, num_heads=2)
        return q.Qwen2VLVisionRotaryEmbedding(cfg)(torch.zeros(1), pos)
    if not hasattr(q, "VisionRotaryEmbedding"):
        pytest.skip("this transformers has neither Qwen2-VL vision rotary embedding")
    # transformers 4: a [seqlen, head_dim/4] table per axis, gathered at (h, w) as rot_pos_emb does
    freqs = q.VisionRotaryEmbedding(head_dim // 2)(int(pos.max()) + 1)[pos].flatten(1)
    emb = torch.cat([freqs, freqs], -1)
    return emb.cos(), emb.sin()


def test_qwen2_vl_vision_rotary(rng):
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    import torch
    from transformers.models.qwen2_vl.modeling_qwen2_vl import apply_rotary_pos_emb_vision
    head_dim = 80  # Qwen2-VL's vision tower: 1280 / 16
    pos = torch.from_numpy(rng.integers(0, 96, size=(300, 2)))
    fc, fs = _qwen2_vl_vision(torch, head_dim, pos)
    cos, sin = librope.cos_sin_axes(pos, (head_dim // 2, head_dim // 2), 10000, framework="torch")
    half = head_dim // 2
    assert torch.equal(fc[:, :half], fc[:, half:])
    inv = 1.0 / 10000 ** (np.arange(0, half, 2) / half)
    ang = np.concatenate([f64(pos[:, :1]) * inv, f64(pos[:, 1:]) * inv], 1)
    rc, rs = np.cos(ang), np.sin(ang)
    assert ulps(cos, rc).max() <= 1.0 and ulps(sin, rs).max() <= 1.0
    for name, got, want in (("cos", cos, fc[:, :half]), ("sin", sin, fs[:, :half])):
        _report(f"Qwen2-VL vision {name} vs the module's float32", got, want)
        assert np.all(np.abs(f64(got) - f64(want)) <= _f32_error_bound(ang, f64(want)))
    # the rotation: transformers' apply_rotary_pos_emb_vision vs librope's ONNX operator (halves) on
    # the same table: bitwise
    T, H = pos.shape[0], 2
    q = torch.from_numpy(rng.uniform(-2, 2, size=(T, H, head_dim))).float()
    k = torch.from_numpy(rng.uniform(-2, 2, size=(T, H, head_dim))).float()
    full_c, full_s = torch.cat([cos, cos], -1), torch.cat([sin, sin], -1)
    wq, wk = apply_rotary_pos_emb_vision(q, k, full_c, full_s)
    gq = librope.rotary_embedding_onnx(q.reshape(1, T, H * head_dim), cos.reshape(1, T, half),
                                       sin.reshape(1, T, half), num_heads=H)
    assert torch.equal(gq.reshape(T, H, head_dim), wq)
    gq, gk = librope.rope_atb(q.reshape(T, H * head_dim), k.reshape(T, H * head_dim), full_c.contiguous(),
                              full_s.contiguous(), torch.tensor([T], dtype=torch.int32), rotary_coeff=2)
    assert torch.equal(gq.reshape(T, H, head_dim), wq) and torch.equal(gk.reshape(T, H, head_dim), wk)


def test_pixtral_vision_rotary(rng):
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    import torch
    from transformers.models.pixtral import modeling_pixtral as px
    from transformers.models.pixtral.configuration_pixtral import PixtralVisionConfig
    head_dim, side = 64, 48
    cfg = PixtralVisionConfig(hidden_size=2 * head_dim, num_attention_heads=2, head_dim=head_dim,
                              image_size=16 * side, patch_size=16)
    pos = torch.from_numpy(rng.integers(0, side, size=(200, 2)))
    x = torch.zeros(1, pos.shape[0], 2 * head_dim)
    if hasattr(px, "PixtralVisionRotaryEmbedding"):  # transformers 5: (h, w) per token
        fc, fs = px.PixtralVisionRotaryEmbedding(cfg)(x, pos)
    else:  # transformers 4: a flat index h * side + w into the precomputed grid
        fc, fs = px.PixtralRotaryEmbedding(cfg)(x, pos[:, 0] * side + pos[:, 1])
    fc, fs = fc.reshape(-1, head_dim), fs.reshape(-1, head_dim)
    half = head_dim // 2
    cos, sin = librope.cos_sin_axes(pos, (half, half), 10000, framework="torch", freq="alternating")
    freqs = 1.0 / 10000 ** (np.arange(0, head_dim, 2) / head_dim)  # Pixtral: h even, w odd frequencies
    ang = np.concatenate([f64(pos[:, :1]) * freqs[0::2], f64(pos[:, 1:]) * freqs[1::2]], 1)
    assert ulps(cos, np.cos(ang)).max() <= 1.0 and ulps(sin, np.sin(ang)).max() <= 1.0
    for name, got, want in (("cos", cos, fc[:, :half]), ("sin", sin, fs[:, :half])):
        _report(f"Pixtral {name} vs the module's float32", got, want)
        assert np.all(np.abs(f64(got) - f64(want)) <= _f32_error_bound(ang, f64(want)))


def test_llama4_vision_rotary():
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    import torch
    try:
        from transformers.models.llama4 import modeling_llama4 as l4
        from transformers.models.llama4.configuration_llama4 import Llama4VisionConfig
    except ImportError as e:
        pytest.skip(f"no Llama 4 in this transformers: {e}")
    side, head_dim = 24, 88
    cfg = Llama4VisionConfig(hidden_size=2 * head_dim, num_attention_heads=2, image_size=14 * side, patch_size=14)
    fci = l4.Llama4VisionRotaryEmbedding(cfg).freqs_ci.reshape(side * side + 1, -1)  # complex [T, head/2]
    # positions: (x + 1, y + 1) per patch, row major; the class token last, at (0, 0)
    idx = np.arange(side * side)
    pos = np.concatenate([np.stack([idx % side + 1, idx // side + 1], 1), [[0, 0]]])
    cos, sin = librope.cos_sin_axes(pos, (head_dim // 2, head_dim // 2), 10000, framework="torch")
    fd = head_dim // 2
    inv = 1.0 / 10000 ** (np.arange(0, fd, 2)[: fd // 2] / fd)
    ang = np.concatenate([pos[:, :1] * inv, pos[:, 1:] * inv], 1)
    assert ulps(cos, np.cos(ang)).max() <= 1.0 and ulps(sin, np.sin(ang)).max() <= 1.0
    for name, got, want in (("cos", cos, fci.real), ("sin", sin, fci.imag)):
        _report(f"Llama 4 vision {name} vs the module's float32", got, want)
        assert np.all(np.abs(f64(got) - f64(want)) <= _f32_error_bound(ang, f64(want)))
