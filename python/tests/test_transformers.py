# SPDX-License-Identifier: MIT
"""Against a real client, Hugging Face transformers: librope.cos_sin against its rope initialisation
functions for every scaling type both have, and the operators against Llama's apply_rotary_pos_emb
(Qwen2-VL's MRoPE is in test_vllm.py)."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
from transformers.modeling_rope_utils import ROPE_INIT_FUNCTIONS  # noqa: E402
from transformers.models.llama import modeling_llama  # noqa: E402

import librope  # noqa: E402
from configs import CONFIGS  # noqa: E402
from conftest import uniform  # noqa: E402


def hf_config(c):
    return transformers.LlamaConfig(**c)


def _default_init():
    """transformers' default rope initialisation: ROPE_INIT_FUNCTIONS["default"] in 4.x; in 5.x each
    model's compute_default_rope_parameters, taken from one that honours partial_rotary_factor
    (GPT-NeoX's; Llama's reads the whole head in 5.x)."""
    if "default" in ROPE_INIT_FUNCTIONS:
        return ROPE_INIT_FUNCTIONS["default"]
    from transformers.models.gpt_neox import modeling_gpt_neox
    return modeling_gpt_neox.GPTNeoXRotaryEmbedding.compute_default_rope_parameters


def hf_init(c, seq_len):
    rs = c.get("rope_scaling") or {}
    kind = rs.get("rope_type", rs.get("type", "default"))
    init = _default_init() if kind == "default" else ROPE_INIT_FUNCTIONS[kind]
    inv, att = init(hf_config(c), "cpu", seq_len=seq_len)
    return inv.double().numpy(), float(att)


@pytest.mark.parametrize("name", sorted(CONFIGS))
@pytest.mark.parametrize("seq_len", [None, 200000])
def test_cos_sin_vs_rope_init_functions(name, seq_len):
    c = CONFIGS[name]
    hf_inv, hf_att = hf_init(c, seq_len)
    inv, att = librope._core.freq_compute(librope.rope_config(c, seq_len=seq_len or 0))
    # transformers evaluates in float32; librope in float64
    assert np.allclose(inv, hf_inv, rtol=4e-6, atol=0), f"{name}: {np.abs(np.array(inv) / hf_inv - 1).max()}"
    assert abs(att - hf_att) <= 1e-6 * hf_att
    # the tables: transformers' forward (float32 angles) at positions up to 512
    end = 512
    cos, sin = librope.cos_sin(c, 0, end, layout="full", rotary_coeff=2, seq_len=seq_len or 0)
    pos = torch.arange(end, dtype=torch.float32)[:, None]
    freqs = pos * torch.from_numpy(hf_inv).float()[None]
    emb = torch.cat((freqs, freqs), dim=-1)
    assert np.allclose(cos, (emb.cos() * hf_att).numpy(), atol=3e-4, rtol=0)
    assert np.allclose(sin, (emb.sin() * hf_att).numpy(), atol=3e-4, rtol=0)


@pytest.mark.parametrize("dtype,tol", [(torch.float32, 2e-6), (torch.bfloat16, 2 ** -7), (torch.float16, 2 ** -10)])
def test_llama_apply_rotary_pos_emb(dtype, tol, rng):
    """Llama's attention: q [B, H, S, D], k [B, Hk, S, D], cos/sin from LlamaRotaryEmbedding; librope's
    ONNX operator (4-D) and ATB operator (q and k in a fused QKV output) give the same results."""
    cfg = transformers.LlamaConfig(hidden_size=512, num_attention_heads=8, num_key_value_heads=2,
                                   rope_theta=500000.0, max_position_embeddings=1024,
                                   rope_scaling={"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                                                 "high_freq_factor": 4.0, "original_max_position_embeddings": 256})
    b, s, h, hk, d = 2, 9, 8, 2, 64
    rope = modeling_llama.LlamaRotaryEmbedding(cfg)
    pos = torch.from_numpy(rng.integers(0, 1024, size=(b, s)))
    x = torch.from_numpy(uniform(rng, (b, s, d))).float()
    cos_hf, sin_hf = rope(x, pos)  # [b, s, d], float32
    q = torch.from_numpy(uniform(rng, (b, h, s, d))).to(dtype)
    k = torch.from_numpy(uniform(rng, (b, hk, s, d))).to(dtype)
    want_q, want_k = modeling_llama.apply_rotary_pos_emb(q.double(), k.double(), cos_hf.to(dtype).double(),
                                                         sin_hf.to(dtype).double())
    # ONNX, 4-D, caches from librope.cos_sin of the same config (the values transformers rounds to dtype)
    c, sn = librope.cos_sin(cfg.to_dict(), 0, 1024, framework="torch",
                            dtype={torch.float32: "float32", torch.bfloat16: "bfloat16",
                                   torch.float16: "float16"}[dtype])
    assert torch.allclose(c[pos].double(), cos_hf[..., : d // 2].double(), atol=3e-4 + tol)
    # transformers' own cos/sin rows as the cache (one row per token), picked by position_ids
    cos_half = cos_hf[..., : d // 2].reshape(b * s, d // 2).to(dtype).contiguous()
    sin_half = sin_hf[..., : d // 2].reshape(b * s, d // 2).to(dtype).contiguous()
    ids = torch.arange(b * s).reshape(b, s)
    yq = librope.rotary_embedding_onnx(q, cos_half, sin_half, ids)
    yk = librope.rotary_embedding_onnx(k, cos_half, sin_half, ids)
    assert torch.allclose(yq.double(), want_q, atol=tol * 2, rtol=tol)
    assert torch.allclose(yk.double(), want_k, atol=tol * 2, rtol=tol)
    # ATB, q and k rotated in place inside a fused [tokens, (h + 2 hk) * d] QKV output
    qkv = torch.cat([q.transpose(1, 2).reshape(b * s, h * d), k.transpose(1, 2).reshape(b * s, hk * d),
                     torch.zeros(b * s, hk * d, dtype=dtype)], dim=-1)
    qv, kv, _ = qkv.split([h * d, hk * d, hk * d], dim=-1)
    full_cos = cos_hf.reshape(b * s, d).to(dtype).contiguous()
    full_sin = sin_hf.reshape(b * s, d).to(dtype).contiguous()
    librope.rope_atb(qv, kv, full_cos, full_sin, torch.tensor([b * s], dtype=torch.int32), rotary_coeff=2,
                     out=(qv, kv))
    got_q = qkv[:, : h * d].reshape(b, s, h, d).transpose(1, 2)
    got_k = qkv[:, h * d:(h + hk) * d].reshape(b, s, hk, d).transpose(1, 2)
    assert torch.allclose(got_q.double(), want_q, atol=tol * 2, rtol=tol)
    assert torch.allclose(got_k.double(), want_k, atol=tol * 2, rtol=tol)
