# SPDX-License-Identifier: MIT
"""The operators on the fly from multi-axis positions (axes_dims= of rotary_embedding_onnx, rope_atb
and rotary_embedding; rope_*_fly_axes in C): bitwise the table form on librope.cos_sin_axes' tables of
the same coordinates (random splits, both frequency assignments, every position dtype, integer and
fractional coordinates, every data dtype, NumPy and torch, in place), against a float64 reference
written here, with grad (torch: the table form's backward), the errors; and against diffusers' Flux
and Wan rotary embeddings and rotation (Flux: within the 1-ulp value difference of diffusers' own
values and bitwise with librope's values in diffusers' arithmetic; measured bitwise diffusers' own
results for both) when diffusers is installed (skipped, saying so, otherwise)."""
import numpy as np
import pytest

import librope
from conftest import make, need
from reference import f64

DTYPES = ["float32", "float16", "bfloat16"]


def bits(t):
    """The bit patterns of a tensor or array (torch or NumPy, any float dtype) as a NumPy array."""
    if hasattr(t, "detach"):
        import torch
        t = t.detach().contiguous()
        return t.view({2: torch.int16, 4: torch.int32}[t.element_size()]).numpy().copy()
    a = np.ascontiguousarray(t)
    return a.view({2: np.uint16, 4: np.uint32}[a.dtype.itemsize])


def draw_axes(rng, rot):
    """A split of rot into 1..4 even widths (or equal ones for the alternating assignment)."""
    pairs = rot // 2
    n = int(rng.integers(1, min(4, pairs) + 1))
    if pairs % n == 0 and rng.integers(0, 3) == 0:
        return [rot // n] * n, "alternating"
    cuts = sorted(rng.choice(np.arange(1, pairs), size=n - 1, replace=False)) if n > 1 else []
    edges = [0, *cuts, pairs]
    return [2 * int(edges[i + 1] - edges[i]) for i in range(n)], "per_axis"


def coordinates(rng, kind, rows, A):
    """A grid walked row-major (the last axis fastest, as image patches), or random integers (negative
    ones too), or fractional values, in `kind`."""
    if kind == "grid":
        ext = rng.integers(1, 7, size=A)
        idx = np.arange(rows)
        cols = []
        for a in range(A - 1, -1, -1):
            cols.append(idx % ext[a])
            idx = idx // ext[a]
        return np.stack(cols[::-1], axis=1).astype(np.float32)
    if kind in ("int64", "int32"):
        return rng.integers(-200, 200, size=(rows, A)).astype(kind)
    return rng.uniform(-300, 300, size=(rows, A)).astype(kind)


def as_framework(framework, a):
    if framework == "torch":
        import torch
        return torch.from_numpy(np.ascontiguousarray(a))
    return a


@pytest.mark.parametrize("framework", ["numpy", "torch"])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("pos_kind", ["grid", "int64", "int32", "float32", "float64"])
def test_onnx_matches_the_table_form(framework, dtype, pos_kind, rng):
    need(framework, dtype)
    for it in range(6):
        B, N, S, H = int(rng.integers(1, 4)), int(rng.integers(1, 4)), int(rng.integers(1, 40)), 2 * int(rng.integers(2, 33))
        rot = H if rng.integers(0, 2) else 2 * int(rng.integers(1, H // 2 + 1))
        dims, freq = draw_axes(rng, rot)
        theta = float(rng.choice([10000.0, 256.0])) if rng.integers(0, 2) else list(rng.uniform(2, 1e5, size=len(dims)))
        interleaved = bool(rng.integers(0, 2))
        shape = int(rng.integers(0, 3))  # [B*S, A], [B, S, A], [S, A] shared
        rows = S if shape == 2 else B * S
        pos = coordinates(rng, pos_kind, rows, len(dims))
        full = np.tile(pos, (B, 1)) if shape == 2 else pos
        p = pos.reshape(B, S, -1) if shape == 1 else pos
        x = make(framework, dtype, rng.uniform(-2, 2, size=(B, N, S, H)))
        rdim = 0 if rot == H else rot
        cos, sin = librope.cos_sin_axes(full, dims, theta, dtype=dtype, framework=framework, freq=freq)
        cos, sin = cos.reshape(B, S, rot // 2), sin.reshape(B, S, rot // 2)
        want = librope.rotary_embedding_onnx(x, cos, sin, interleaved=interleaved, rotary_embedding_dim=rdim)
        got = librope.rotary_embedding_onnx(x, None, None, as_framework(framework, p), axes_dims=dims, theta=theta,
                                            axes_freq=freq, interleaved=interleaved, rotary_embedding_dim=rdim)
        assert type(got) is type(x)
        assert np.array_equal(bits(got), bits(want)), f"case {it}: dims {dims} {freq}, shape form {shape}"
        # in place
        y = x.clone() if framework == "torch" else x.copy()
        librope.rotary_embedding_onnx(y, None, None, as_framework(framework, p), axes_dims=dims, theta=theta,
                                      axes_freq=freq, interleaved=interleaved, rotary_embedding_dim=rdim, out=y)
        assert np.array_equal(bits(y), bits(want))


@pytest.mark.parametrize("framework", ["numpy", "torch"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_atb_matches_the_table_form(framework, dtype, rng):
    need(framework, dtype)
    for it in range(12):
        D = 2 * int(rng.integers(1, 33))
        dims, freq = draw_axes(rng, D) if D > 2 else ([2], "per_axis")
        coeff = int(rng.choice([c for c in (2, 4, D) if D % c == 0]))
        T, hk = int(rng.integers(1, 60)), D * int(rng.integers(1, 3))
        hq = hk * int(rng.integers(1, 3))
        pos = coordinates(rng, ["grid", "int64", "float32"][it % 3], T, len(dims))
        q = make(framework, dtype, rng.uniform(-2, 2, size=(T, hq)))
        k = make(framework, dtype, rng.uniform(-2, 2, size=(T, hk)))
        seqlen = as_framework(framework, np.array([T], dtype=np.int32))
        cos, sin = librope.cos_sin_axes(pos, dims, 1e4, dtype=dtype, framework=framework, freq=freq, layout="full",
                                        rotary_coeff=coeff)
        wq, wk = librope.rope_atb(q, k, cos, sin, seqlen, rotary_coeff=coeff)
        gq, gk = librope.rope_atb(q, k, None, None, None, positions=as_framework(framework, pos), axes_dims=dims,
                                  theta=1e4, axes_freq=freq, rotary_coeff=coeff)
        assert np.array_equal(bits(gq), bits(wq)) and np.array_equal(bits(gk), bits(wk)), f"case {it}: {dims} {coeff}"


@pytest.mark.parametrize("framework", ["numpy", "torch"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_vllm_matches_the_table_form(framework, dtype, rng):
    need(framework, dtype)
    if not librope.has_vllm():
        pytest.skip("this build has no vLLM-style operator")
    for it in range(12):
        hs = 2 * int(rng.integers(2, 33))
        rot = hs if rng.integers(0, 2) else 2 * int(rng.integers(1, hs // 2 + 1))
        dims, freq = draw_axes(rng, rot) if rot > 2 else ([2], "per_axis")
        is_neox = bool(rng.integers(0, 2))
        T, hq, hk = int(rng.integers(1, 60)), int(rng.integers(1, 4)), int(rng.integers(1, 3))
        pos = coordinates(rng, ["grid", "int32", "float64"][it % 3], T, len(dims))
        q0 = make(framework, dtype, rng.uniform(-2, 2, size=(T, hq * hs)))
        k0 = make(framework, dtype, rng.uniform(-2, 2, size=(T, hk * hs)))
        cos, sin = librope.cos_sin_axes(pos, dims, 1e4, dtype=dtype, framework=framework, freq=freq)
        if framework == "torch":
            import torch
            cache = torch.cat([cos, sin], 1).contiguous()
            rows = torch.arange(T)
            qw, kw, qg, kg = q0.clone(), k0.clone(), q0.clone(), k0.clone()
        else:
            cache = np.ascontiguousarray(np.concatenate([cos, sin], 1))
            rows = np.arange(T)
            qw, kw, qg, kg = q0.copy(), k0.copy(), q0.copy(), k0.copy()
        librope.rotary_embedding(rows, qw, kw, hs, cache, is_neox)
        librope.rotary_embedding(as_framework(framework, pos), qg, kg, hs, None, is_neox, axes_dims=dims, theta=1e4,
                                 axes_freq=freq)
        assert np.array_equal(bits(qg), bits(qw)) and np.array_equal(bits(kg), bits(kw)), f"case {it}: {dims}"


def test_against_a_float64_reference(rng):
    """Flux-like axes, adjacent pairs, fractional coordinates: every element within the float32
    arithmetic's error of the rotation by the exact angles (computed here in float64)."""
    B, N, S, H = 2, 3, 50, 64
    dims, thetas = (8, 28, 28), (1e4, 1e4, 256.0)
    pos = np.stack([rng.integers(0, 4, size=S), rng.uniform(0, 30, size=S), rng.uniform(-5, 30, size=S)], 1)
    x = rng.uniform(-2, 2, size=(B, N, S, H)).astype(np.float32)
    got = librope.rotary_embedding_onnx(x, None, None, pos, axes_dims=dims, theta=list(thetas), interleaved=True)
    angs = []
    for a, d in enumerate(dims):
        inv = 1.0 / thetas[a] ** (np.arange(d // 2) * 2.0 / d)
        angs.append(pos[:, a:a + 1] * inv[None, :])
    ang = np.concatenate(angs, 1)  # [S, 32]
    c, s = np.cos(ang), np.sin(ang)
    xd = x.astype(np.float64)
    x1, x2 = xd[..., 0::2], xd[..., 1::2]
    want = np.empty_like(xd)
    want[..., 0::2] = x1 * c - x2 * s
    want[..., 1::2] = x2 * c + x1 * s
    scale = np.abs(x1) + np.abs(x2)  # the terms' size: cos/sin rounded once, products rounded, one add
    tol = np.repeat(scale, 2, axis=-1) * 2.0 ** -23 + np.spacing(np.abs(want).astype(np.float32))
    err = np.abs(f64(got) - want)
    assert (err <= tol).all(), f"worst {(err / tol).max():.2f} x tolerance"


def test_grad_takes_the_table_form(rng):
    torch = pytest.importorskip("torch")
    B, N, S, H = 2, 2, 9, 32
    pos = coordinates(rng, "grid", S, 3)
    x = torch.from_numpy(rng.uniform(-2, 2, size=(B, N, S, H)).astype(np.float32)).requires_grad_()
    y = librope.rotary_embedding_onnx(x, None, None, torch.from_numpy(pos), axes_dims=(8, 12, 12), interleaved=True)
    assert y.grad_fn is not None
    g = torch.from_numpy(rng.uniform(-1, 1, size=y.shape).astype(np.float32))
    (dx,) = torch.autograd.grad(y, x, g)
    cos, sin = librope.cos_sin_axes(np.tile(pos, (B, 1)), (8, 12, 12), 1e4, framework="torch")
    x2 = x.detach().clone().requires_grad_()
    y2 = librope.rotary_embedding_onnx(x2, cos.reshape(B, S, -1), sin.reshape(B, S, -1), interleaved=True)
    (dx2,) = torch.autograd.grad(y2, x2, g)
    with torch.no_grad():
        y3 = librope.rotary_embedding_onnx(x, None, None, torch.from_numpy(pos), axes_dims=(8, 12, 12),
                                           interleaved=True)
    assert torch.equal(y.detach(), y2.detach()) and torch.equal(y3, y2.detach()) and torch.equal(dx, dx2)


def test_errors_name_the_fault():
    x = np.ones((1, 2, 4, 16), dtype=np.float32)
    pos = np.zeros((4, 3), dtype=np.float32)
    y = np.full_like(x, 7.0)
    cases = [
        (dict(axes_dims=(4, 4, 4)), "ROPE_ERROR_ATTRIBUTE", "axes_dims: expected widths summing to 16"),
        (dict(axes_dims=(4, 3, 9)), "ROPE_ERROR_ATTRIBUTE", "fly->axes->axes_dims[1]"),
        (dict(axes_dims=(4, 4, 8), theta=[1e4, 0.5, 1e4]), "ROPE_ERROR_ATTRIBUTE", "fly->axes->theta[1]"),
        (dict(axes_dims=(4, 4, 8), axes_freq="alternating"), "ROPE_ERROR_ATTRIBUTE", "ALTERNATING"),
        (dict(axes_dims=(4, 12)), "ROPE_ERROR_SHAPE", "fly->positions dim 1"),
    ]
    for kw, status, word in cases:
        with pytest.raises(librope.RopeError) as e:
            librope.rotary_embedding_onnx(x, None, None, pos, out=y, **kw)
        assert e.value.status == status and word in str(e.value), str(e.value)
        assert (y == 7.0).all()
    bad = pos.copy()
    bad[2, 1] = np.nan
    with pytest.raises(librope.RopeError) as e:
        librope.rotary_embedding_onnx(x, None, None, bad, axes_dims=(4, 4, 8), out=y)
    assert e.value.status == "ROPE_ERROR_INDEX" and "fly->positions[2, 1]" in str(e.value)
    bad[2, 1] = 1e30  # finite in float32, its angle far past 2^46 rad
    with pytest.raises(librope.RopeError) as e:
        librope.rotary_embedding_onnx(x, None, None, bad, axes_dims=(4, 4, 8), out=y)
    assert e.value.status == "ROPE_ERROR_INDEX" and "2^46" in str(e.value)
    with pytest.raises(librope.RopeError) as e:  # a dtype the library does not read as coordinates
        librope._core.onnx_fly_axes(x, pos.astype(np.float16), y, 0, 0, 0, False, (4, 4, 8), (1e4,) * 3, 0, 1.0, 0)
    assert e.value.status == "ROPE_ERROR_DTYPE" and "fly->positions dtype" in str(e.value)
    assert (y == 7.0).all()
    with pytest.raises(ValueError, match="cos_cache must be None"):
        librope.rotary_embedding_onnx(x, pos, None, pos, axes_dims=(4, 4, 8))
    with pytest.raises(ValueError, match="theta 0"):
        librope.rotary_embedding_onnx(x, None, None, pos, axes_dims=(4, 4, 8), theta=0)
    with pytest.raises(ValueError, match="position_ids holds the coordinates"):
        librope.rotary_embedding_onnx(x, None, None, None, axes_dims=(4, 4, 8))
    with pytest.raises(ValueError, match="needs axes_dims"):
        librope.rope_atb(x[0, 0], x[0, 0], None, None, None, positions=pos)
    if librope.has_vllm():
        q = np.ones((4, 16), dtype=np.float32)
        with pytest.raises(ValueError, match="mrope_section"):
            librope.rotary_embedding(pos, q, None, 16, None, axes_dims=(4, 4, 8), mrope_section=(2, 3, 3))
        with pytest.raises(librope.RopeError) as e:
            librope.rotary_embedding(pos[:3], q, None, 16, None, axes_dims=(4, 4, 8))
        assert e.value.status == "ROPE_ERROR_SHAPE" and "query dim 0" in str(e.value)
        assert (q == 1.0).all()


# ---- diffusers' Flux ------------------------------------------------------------------------------

def test_flux_against_diffusers(rng):
    pytest.importorskip("torch")
    pytest.importorskip("diffusers", reason="diffusers (pip install diffusers==0.42.1) is not installed")
    import torch
    from diffusers.models.embeddings import apply_rotary_emb
    from diffusers.models.transformers.transformer_flux import FluxPosEmbed
    T_text, Hh, Ww = 7, 16, 24
    img = torch.zeros(Hh, Ww, 3)
    img[..., 1] += torch.arange(Hh)[:, None]
    img[..., 2] += torch.arange(Ww)[None, :]
    ids = torch.cat([torch.zeros(T_text, 3), img.reshape(Hh * Ww, 3)], 0)
    ids[:T_text, 0] = torch.arange(T_text)  # the first axis turns too (Flux Kontext offsets it)
    T, B, H, D = ids.shape[0], 2, 3, 128
    fc, fs = FluxPosEmbed(theta=10000, axes_dim=[16, 56, 56])(ids)  # diffusers' own f32 values, [T, 128]
    q = torch.from_numpy(rng.uniform(-2, 2, size=(B, H, T, D)).astype(np.float32))
    want = apply_rotary_emb(q, (fc, fs))  # diffusers' rotation with its own values (q [B, H, T, D])
    got = librope.rotary_embedding_onnx(q, None, None, ids, axes_dims=(16, 56, 56), theta=10000, interleaved=True)
    # librope's values in diffusers' arithmetic: bitwise (the same products and sum in float32)
    cos, sin = librope.cos_sin_axes(ids, (16, 56, 56), 10000, framework="torch")
    same_order = apply_rotary_emb(q, (cos.repeat_interleave(2, 1), sin.repeat_interleave(2, 1)))
    assert torch.equal(got, same_order)
    # against diffusers' own values: where its cos/sin equal librope's (to the bit), so does the
    # result; elsewhere each differs by at most 1 ulp of the value (checked), and the result by the
    # error that ulp carries through the products (|x1| ulp(c) + |x2| ulp(s)) plus 1 ulp of the result
    dc, ds = (fc[:, ::2] - cos).abs(), (fs[:, ::2] - sin).abs()
    assert (dc <= torch.from_numpy(np.spacing(cos.abs().numpy()))).all()
    assert (ds <= torch.from_numpy(np.spacing(sin.abs().numpy()))).all()
    x1, x2 = q[..., 0::2].abs(), q[..., 1::2].abs()
    slack = (x1 * dc + x2 * ds).repeat_interleave(2, -1)
    ulp = torch.from_numpy(np.spacing(want.abs().numpy()))
    err = (got - want).abs()
    assert (err <= slack * 1.0001 + ulp).all()
    exact_rows = ((dc == 0) & (ds == 0)).all(1)
    assert torch.equal(got[:, :, exact_rows], want[:, :, exact_rows])
    within_one_ulp = float((err <= ulp).float().mean())
    print(f"Flux: {100 * float((err == 0).float().mean()):.3f}% bitwise diffusers', {100 * within_one_ulp:.3f}% "
          f"within 1 ulp, {int(exact_rows.sum())} of {T} tokens with diffusers' exact values")


def test_wan_against_diffusers(rng):
    """Wan 2.x's axes (t D - 4*(D//6), h and w 2*(D//6)) on a video grid: librope on the fly against
    diffusers' own WanRotaryPosEmbed values in diffusers' apply_rotary_emb (Wan's processor computes
    the same products and sums, x1*cos - x2*sin and x1*sin + x2*cos)."""
    pytest.importorskip("torch")
    pytest.importorskip("diffusers", reason="diffusers (pip install diffusers==0.42.1) is not installed")
    import torch
    from diffusers.models.embeddings import apply_rotary_emb
    from diffusers.models.transformers.transformer_wan import WanRotaryPosEmbed
    D, F, Hh, Ww, B, H = 128, 3, 6, 10, 1, 2
    emb = WanRotaryPosEmbed(attention_head_dim=D, patch_size=(1, 2, 2), max_seq_len=1024)
    fc, fs = emb(torch.zeros(1, 4, F, 2 * Hh, 2 * Ww))  # [1, T, 1, D], repeat-interleaved
    dims = (D - 4 * (D // 6), 2 * (D // 6), 2 * (D // 6))
    t, h, w = np.meshgrid(np.arange(F), np.arange(Hh), np.arange(Ww), indexing="ij")
    pos = torch.from_numpy(np.stack([t.ravel(), h.ravel(), w.ravel()], axis=1).astype(np.float32))
    T = pos.shape[0]
    q = torch.from_numpy(rng.uniform(-2, 2, size=(B, T, H, D)).astype(np.float32))
    want = apply_rotary_emb(q, (fc[0, :, 0], fs[0, :, 0]), sequence_dim=1)
    got = librope.rotary_embedding_onnx(q.reshape(B, T, H * D), None, None, pos, axes_dims=dims, theta=10000,
                                        interleaved=True, num_heads=H)
    u = (got.reshape(B, T, H, D) - want).abs() / torch.from_numpy(np.spacing(want.abs().numpy()))
    eq = float((got.reshape(B, T, H, D) == want).float().mean())
    print(f"Wan: {100 * eq:.3f}% bitwise diffusers', max {float(u.max()):.2f} ulp")
    assert torch.equal(got.reshape(B, T, H, D), want)
