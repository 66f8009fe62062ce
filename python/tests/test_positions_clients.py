# SPDX-License-Identifier: MIT
"""Issue 17's real clients, against the code the models run: Gemma 4's one-tensor
apply_rotary_pos_emb (proportional RoPE on full-attention layers) and a tiny random Gemma 4 text model,
DeepSeek V3's apply_rotary_pos_emb_interleave and a tiny DeepSeek V3 model (rope_interleave, yarn with
mscale), Qwen2-VL vision's apply_rotary_pos_emb_vision against librope's operators with cos_sin_axes
tables. Gemma 4 and DeepSeek V3's interleave exist in transformers 5 only: under 4.57 those tests skip
and say why. Nothing is downloaded: the models are built from the configs below with random weights."""
import importlib

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

import librope  # noqa: E402
import librope.transformers as lt  # noqa: E402
from conftest import uniform  # noqa: E402

# Tiny random-weight configs in families.py's style: (config class, modeling module, kwargs, what it exercises).
POSITION_FAMILIES = {
    "gemma4": ("Gemma4TextConfig", "gemma4", dict(
        vocab_size=128, hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
        num_key_value_heads=2, head_dim=32, global_head_dim=64, sliding_window=16,
        layer_types=["sliding_attention", "full_attention"], vocab_size_per_layer_input=128,
        hidden_size_per_layer_input=16, max_position_embeddings=4096),
        "Gemma 4: sliding layers default RoPE (head 32), full layers proportional 0.25 of head 64"),
    "deepseek_v3": ("DeepseekV3Config", "deepseek_v3", dict(
        vocab_size=128, hidden_size=64, intermediate_size=128, moe_intermediate_size=32, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=4, n_routed_experts=4, n_shared_experts=1,
        num_experts_per_tok=2, n_group=1, topk_group=1, first_k_dense_replace=1, kv_lora_rank=32,
        q_lora_rank=48, qk_rope_head_dim=16, qk_nope_head_dim=16, v_head_dim=16, rope_interleave=True,
        max_position_embeddings=16384, rope_theta=10000.0,  # 4.x keeps these; 5.x folds them into rope_parameters
        rope_scaling={"rope_type": "yarn", "factor": 4.0, "original_max_position_embeddings": 4096, "mscale": 1.0,
                      "mscale_all_dim": 0.8, "beta_fast": 32, "beta_slow": 1}),
        "DeepSeek V3 MLA: rope_interleave, yarn with mscale (attention factor != 1), one shared k_pe head"),
}


def _modeling(name):
    module = POSITION_FAMILIES[name][1]
    try:
        return importlib.import_module(f"transformers.models.{module}.modeling_{module}")
    except ImportError:
        pytest.skip(f"transformers {__import__('transformers').__version__} has no {module} "
                    "(issue 17's client exists in transformers 5)")


def _model(name):
    import transformers
    cls_name, _, kwargs, _ = POSITION_FAMILIES[name]
    if not hasattr(transformers, cls_name):
        pytest.skip(f"transformers {transformers.__version__} has no {cls_name}")
    config = getattr(transformers, cls_name)(**kwargs)
    config._attn_implementation = "eager"
    torch.manual_seed(0)
    mod = _modeling(name)
    model = getattr(mod, cls_name.replace("TextConfig", "ForCausalLM").replace("Config", "ForCausalLM"))(config)
    return model.eval()


def _ulp_f32(got, want):
    """max |got - want| in float32 ulps of want (per element)."""
    g, w = got.double(), want.double()
    ulp = torch.from_numpy(np.spacing(np.abs(want.float().numpy())).astype(np.float64))
    return float(((g - w).abs() / ulp.clamp_min(2.0 ** -149)).max())


@pytest.fixture
def onnx_calls(monkeypatch):
    """Records the rope_onnx_layout of every rotary_embedding_onnx call librope.transformers makes."""
    calls = []
    real = librope.rotary_embedding_onnx

    def spy(*args, **kwargs):
        calls.append((kwargs.get("interleaved", False), kwargs.get("rotary_embedding_dim", 0)))
        return real(*args, **kwargs)

    monkeypatch.setattr(lt._librope, "rotary_embedding_onnx", spy)
    return calls


# ---- Gemma 4 ------------------------------------------------------------------------------------

def _gemma4_tables(layer_type, batch, seq, start=0):
    mod = _modeling("gemma4")
    import transformers
    config = transformers.Gemma4TextConfig(**POSITION_FAMILIES["gemma4"][2])
    rotary = mod.Gemma4TextRotaryEmbedding(config)
    pos = torch.arange(start, start + seq)[None].expand(batch, seq)
    x = torch.zeros(1, dtype=torch.float32)
    return rotary(x, pos, layer_type)


@pytest.mark.parametrize("layer_type,head", [("sliding_attention", 32), ("full_attention", 64)])
@pytest.mark.parametrize("unsqueeze_dim", [1, 2])
def test_gemma4_function_bitwise(layer_type, head, unsqueeze_dim, onnx_calls, rng):
    """lt.apply_rotary_pos_emb_single == Gemma 4's apply_rotary_pos_emb, float32 bitwise, on its own
    cos/sin (proportional: the split layout rotating 8 of 32 pairs; default: full halves)."""
    mod = _modeling("gemma4")
    cos, sin = _gemma4_tables(layer_type, 2, 9, start=1000)
    shape = (2, 4, 9, head) if unsqueeze_dim == 1 else (2, 9, 4, head)
    x = torch.tensor(uniform(rng, shape), dtype=torch.float32)
    want = mod.apply_rotary_pos_emb(x, cos, sin, unsqueeze_dim=unsqueeze_dim)
    got = lt.apply_rotary_pos_emb_single(x, cos, sin, unsqueeze_dim=unsqueeze_dim)
    assert torch.equal(got, want), f"max {_ulp_f32(got, want)} ulp"
    layout, rdim = onnx_calls[-1]
    if layer_type == "full_attention":
        assert (layout, rdim) == (3, 16), onnx_calls  # ROPE_ONNX_HALVES_SPLIT: 8 pairs of 32
    else:
        assert (layout, rdim) == (0, head), onnx_calls
    # a batch-shared table ([1, S, D]) and gradients
    xg = x.clone().requires_grad_(True)
    got = lt.apply_rotary_pos_emb_single(xg, cos[:1], sin[:1], unsqueeze_dim=unsqueeze_dim)
    assert torch.equal(got, mod.apply_rotary_pos_emb(x, cos[:1], sin[:1], unsqueeze_dim=unsqueeze_dim))
    dy = torch.randn(shape)
    (dx,) = torch.autograd.grad(got, xg, dy)
    xr = x.clone().requires_grad_(True)
    (dx_ref,) = torch.autograd.grad(mod.apply_rotary_pos_emb(xr, cos[:1], sin[:1], unsqueeze_dim=unsqueeze_dim),
                                    xr, dy)
    assert _ulp_f32(dx, dx_ref) <= 1.0


def test_gemma4_function_falls_back_outside_librope(rng):
    """Halves that differ, mixed dtypes: the stock formula, so the values stay Gemma 4's."""
    mod = _modeling("gemma4")
    x = torch.tensor(uniform(rng, (1, 2, 3, 16)), dtype=torch.float32)
    cos, sin = torch.tensor(uniform(rng, (1, 3, 16))), torch.tensor(uniform(rng, (1, 3, 16)))
    for c, s, xx in ((cos.float(), sin.float(), x), (cos.float(), sin.float(), x.bfloat16())):
        got = lt.apply_rotary_pos_emb_single(xx, c, s)
        want = mod.apply_rotary_pos_emb(xx, c, s)
        assert got.dtype == want.dtype and torch.equal(got, want)


def test_gemma4_model_logits_bitwise(monkeypatch, onnx_calls):
    """A tiny random Gemma 4 text model: logits with the drop-in are its own, bit for bit."""
    model = _model("gemma4")
    mod = _modeling("gemma4")
    ids = torch.randint(3, 128, (2, 12), generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        want = model(ids).logits
        monkeypatch.setattr(mod, "apply_rotary_pos_emb", lt.apply_rotary_pos_emb_single)
        got = model(ids).logits
    assert {c[0] for c in onnx_calls} == {0, 3}, onnx_calls  # both layer types served by librope
    assert torch.equal(got, want), f"max {(got - want).abs().max()}"


# ---- DeepSeek V3 -------------------------------------------------------------------------------

def _deepseek_interleave():
    mod = _modeling("deepseek_v3")
    if not hasattr(mod, "apply_rotary_pos_emb_interleave"):
        pytest.skip("this transformers' DeepSeek V3 has no apply_rotary_pos_emb_interleave")
    return mod


@pytest.mark.parametrize("unsqueeze_dim", [1, 2])
def test_deepseek_v3_interleave_bitwise(unsqueeze_dim, onnx_calls, rng):
    """lt.apply_rotary_pos_emb_interleave == DeepSeek V3's, float32 bitwise: q a slice of the projected
    heads (nope | rope), k_pe one shared head, the model's yarn cos/sin (mscale folded in)."""
    mod = _deepseek_interleave()
    import transformers
    config = transformers.DeepseekV3Config(**POSITION_FAMILIES["deepseek_v3"][2])
    rotary = mod.DeepseekV3RotaryEmbedding(config)
    assert rotary.attention_scaling != 1.0
    b, s, h = 2, 7, 4
    pos = torch.arange(3000, 3000 + s)[None].expand(b, s)
    cos, sin = rotary(torch.zeros(1), pos)
    q_states = torch.tensor(uniform(rng, (b, h, s, 32)), dtype=torch.float32)
    q_rot = q_states[..., 16:]  # strided rows, as torch.split leaves them
    k_rot = torch.tensor(uniform(rng, (b, 1, s, 16)), dtype=torch.float32)
    if unsqueeze_dim == 2:
        q_rot, k_rot = q_rot.transpose(1, 2), k_rot.transpose(1, 2)
    want = mod.apply_rotary_pos_emb_interleave(q_rot, k_rot, cos, sin, unsqueeze_dim=unsqueeze_dim)
    got = lt.apply_rotary_pos_emb_interleave(q_rot, k_rot, cos, sin, unsqueeze_dim=unsqueeze_dim)
    assert all(c[0] == 2 for c in onnx_calls) and len(onnx_calls) == 2, onnx_calls
    for g, w in zip(got, want):
        assert g.shape == w.shape and torch.equal(g, w), f"max {_ulp_f32(g, w)} ulp"
    # gradients through the library's backward (halves in, pairs out)
    qg, kg = q_rot.clone().requires_grad_(True), k_rot.clone().requires_grad_(True)
    gq, gk = lt.apply_rotary_pos_emb_interleave(qg, kg, cos, sin, unsqueeze_dim=unsqueeze_dim)
    dq, dk = torch.autograd.grad((gq, gk), (qg, kg), (torch.ones_like(gq), torch.ones_like(gk)))
    qr, kr = q_rot.clone().requires_grad_(True), k_rot.clone().requires_grad_(True)
    wq, wk = mod.apply_rotary_pos_emb_interleave(qr, kr, cos, sin, unsqueeze_dim=unsqueeze_dim)
    rq, rk = torch.autograd.grad((wq, wk), (qr, kr), (torch.ones_like(wq), torch.ones_like(wk)))
    assert _ulp_f32(dq, rq) <= 1.0 and _ulp_f32(dk, rk) <= 1.0


def test_deepseek_v3_model_logits_bitwise(monkeypatch, onnx_calls):
    """A tiny random DeepSeek V3 (rope_interleave, yarn with mscale): logits with the drop-in are its own."""
    mod = _deepseek_interleave()
    model = _model("deepseek_v3")
    assert model.model.rotary_emb.attention_scaling != 1.0
    ids = torch.randint(3, 128, (2, 12), generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        want = model(ids).logits
        monkeypatch.setattr(mod, "apply_rotary_pos_emb_interleave", lt.apply_rotary_pos_emb_interleave)
        got = model(ids).logits
    assert len(onnx_calls) == 2 * 2 and {c[0] for c in onnx_calls} == {2}, onnx_calls
    assert torch.equal(got, want), f"max {(got - want).abs().max()}"


# ---- Qwen2-VL vision ----------------------------------------------------------------------------

def _qwen2_vl_vision_tables(hw, head):
    """Qwen2-VL's vision cos/sin as its rotary module computes them, for [T, 2] (h, w) coordinates."""
    mod = importlib.import_module("transformers.models.qwen2_vl.modeling_qwen2_vl")
    if hasattr(mod, "Qwen2VLVisionRotaryEmbedding"):  # transformers 5: the module takes [T, 2] coordinates
        from types import SimpleNamespace
        cfg = SimpleNamespace(rope_parameters={"rope_type": "axial", "rope_theta": 10000.0}, head_dim=head)
        rotary = mod.Qwen2VLVisionRotaryEmbedding(cfg)
        return rotary(torch.zeros(1), hw)
    rotary = mod.VisionRotaryEmbedding(head // 2)  # transformers 4: a per-coordinate table, then gathered
    freqs = rotary(int(hw.max()) + 1)[hw].flatten(1)
    emb = torch.cat((freqs, freqs), dim=-1)
    return emb.cos(), emb.sin()


@pytest.mark.parametrize("grid", [(4, 6), (16, 12)])
def test_qwen2_vl_vision_vs_librope(grid, rng):
    """Qwen2-VL / 2.5-VL vision: apply_rotary_pos_emb_vision (q, k [T, H, D]; 2 axes of D/2, halves).
    librope's operator on the model's own tables: bitwise. librope's own cos_sin_axes tables
    ([T, 2] coordinates, axes_dims (D/2, D/2), theta 1e4): each value within 1/2 float32 ulp of the
    float64 truth, and the rotation they give within 1 float32 ulp of the exact one; measured
    distance to the model's float32 result (whose angles are float32 products) printed."""
    mod = importlib.import_module("transformers.models.qwen2_vl.modeling_qwen2_vl")
    head, heads = 32, 3
    gh, gw = grid
    hw = torch.stack(torch.meshgrid(torch.arange(gh), torch.arange(gw), indexing="ij"), -1).reshape(-1, 2)
    t = hw.shape[0]
    cos, sin = _qwen2_vl_vision_tables(hw, head)
    q = torch.tensor(uniform(rng, (t, heads, head)), dtype=torch.float32)
    k = torch.tensor(uniform(rng, (t, heads, head)), dtype=torch.float32)
    want_q, want_k = mod.apply_rotary_pos_emb_vision(q, k, cos, sin)
    # 1. the model's tables through rotary_embedding_onnx (3-D per-token cache): bitwise
    half = head // 2
    assert torch.equal(cos[:, :half], cos[:, half:])
    c3, s3 = cos[None, :, :half].contiguous(), sin[None, :, :half].contiguous()
    for x, want in ((q, want_q), (k, want_k)):
        got = librope.rotary_embedding_onnx(x.reshape(1, t, heads * head), c3, s3, num_heads=heads)
        assert torch.equal(got.view(t, heads, head), want)
    # 2. librope's own multi-axis tables
    lc, ls = librope.cos_sin_axes(hw, (half, half), 10000.0, framework="torch")
    inv = np.concatenate([1.0 / 10000.0 ** (np.arange(0, half, 2) / half)] * 2)
    axis = np.repeat([0, 1], half // 2)
    ang = hw.numpy().astype(np.float64)[:, axis] * inv[None]
    for got, exact in ((lc, np.cos(ang)), (ls, np.sin(ang))):
        err = np.abs(got.double().numpy() - exact) / np.spacing(np.abs(exact).astype(np.float32)).astype(np.float64)
        assert err.max() <= 0.5 + 1e-9
    gq = librope.rotary_embedding_onnx(q.reshape(1, t, heads * head), lc[None], ls[None], num_heads=heads)
    gq = gq.view(t, heads, head)
    xd = q.double().numpy()
    c, s = np.cos(ang)[:, None], np.sin(ang)[:, None]
    exact = np.concatenate([xd[..., :half] * c - xd[..., half:] * s, xd[..., half:] * c + xd[..., :half] * s], -1)
    # float32 products and sum each rounded once, the table within 1/2 ulp: |err| <= 3 * 2^-24 (|x1| + |x2|)
    scale = np.abs(np.concatenate([xd[..., :half], xd[..., half:]], -1)) + \
        np.abs(np.concatenate([xd[..., half:], xd[..., :half]], -1))
    assert (np.abs(gq.double().numpy() - exact) <= 3 * 2.0 ** -24 * scale).all()
    print(f"qwen2-vl vision {grid}: librope tables vs the model's float32 result: max "
          f"{np.abs(gq.double().numpy() - want_q.double().numpy()).max():.3g} abs")
