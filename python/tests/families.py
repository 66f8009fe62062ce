# SPDX-License-Identifier: MIT
"""Tiny random-weight decoder configurations of the model families the real-client tests run, built with
the keyword arguments both transformers generations accept (4.x keeps them as rope_scaling and
rope_theta; 5.x folds them into rope_parameters), so that one description serves both.

FAMILIES[name] = (config class name, modeling module, keyword arguments, what the family exercises).
Nothing is downloaded: the models are built from these configs with random weights."""

# The size every family shares: 2 layers, 4 query heads and 2 key/value heads of 16, a small vocabulary.
_TINY = {"hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2, "num_attention_heads": 4,
         "num_key_value_heads": 2, "vocab_size": 128, "bos_token_id": 1, "eos_token_id": 2,
         "pad_token_id": 0}

_LONGROPE_HALF = 8  # head 16 -> 8 pairs
FAMILIES = {
    "llama3": ("LlamaConfig", "llama", dict(
        _TINY, rope_theta=500000.0, max_position_embeddings=4096,
        rope_scaling={"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                      "original_max_position_embeddings": 512}), "Llama 3.x: llama3 scaling"),
    "qwen2_dynamic": ("Qwen2Config", "qwen2", dict(
        _TINY, rope_theta=1000000.0, max_position_embeddings=512,
        rope_scaling={"rope_type": "dynamic", "factor": 2.0}), "Qwen2: dynamic NTK scaling"),
    "qwen3": ("Qwen3Config", "qwen3", dict(
        _TINY, head_dim=16, rope_theta=1000000.0, max_position_embeddings=4096), "Qwen3: QK-norm, default"),
    "mistral_yarn": ("MistralConfig", "mistral", dict(
        _TINY, head_dim=16, rope_theta=1000000.0, max_position_embeddings=16384, sliding_window=None,
        rope_scaling={"rope_type": "yarn", "factor": 4.0, "original_max_position_embeddings": 4096}),
        "Mistral: yarn"),
    "phi3_longrope": ("Phi3Config", "phi3", dict(
        _TINY, rope_theta=10000.0, max_position_embeddings=8192, original_max_position_embeddings=1024,
        rope_scaling={"type": "longrope",
                                      "short_factor": [1.0 + 0.05 * i for i in range(_LONGROPE_HALF)],
                                      "long_factor": [1.0 + 0.75 * i for i in range(_LONGROPE_HALF)]}),
        "Phi-3: longrope, factor from the two lengths"),
    "gpt_neox_partial": ("GPTNeoXConfig", "gpt_neox", dict(
        hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4, vocab_size=128,
        bos_token_id=1, eos_token_id=2, pad_token_id=0, rotary_pct=0.25, rotary_emb_base=10000, max_position_embeddings=2048), "GPT-NeoX: rotary_pct 0.25"),
    "gemma3": ("Gemma3TextConfig", "gemma3", dict(
        _TINY, head_dim=16, rope_theta=1000000.0, rope_local_base_freq=10000.0, sliding_window=16,
        layer_types=["sliding_attention", "full_attention"], max_position_embeddings=4096,
        rope_scaling={"rope_type": "linear", "factor": 8.0}),
        "Gemma 3: sliding layers at 1e4, full layers at 1e6 with linear scaling"),
    "granite": ("GraniteConfig", "granite", dict(
        _TINY, rope_theta=10000000.0, max_position_embeddings=4096), "IBM Granite: default"),
    "olmo2": ("Olmo2Config", "olmo2", dict(
        _TINY, rope_theta=500000.0, max_position_embeddings=4096), "AI2 OLMo 2: QK-norm over the projections"),
    "stablelm_partial": ("StableLmConfig", "stablelm", dict(
        _TINY, partial_rotary_factor=0.25, rope_theta=10000.0, max_position_embeddings=4096),
        "StableLM: partial_rotary_factor 0.25"),
}

# The families the issue names for bitwise logits with the drop-in and with kernelize.
CORE_SIX = ("llama3", "qwen3", "mistral_yarn", "phi3_longrope", "gpt_neox_partial", "qwen2_dynamic")


def make_config(name):
    """The transformers config object of family `name` (eager attention: the path the logits compare)."""
    import transformers
    cls_name, _, kwargs, _ = FAMILIES[name]
    config = getattr(transformers, cls_name)(**kwargs)
    config._attn_implementation = "eager"
    return config


def modeling(name):
    """The transformers modeling module of family `name` (where apply_rotary_pos_emb lives)."""
    import importlib
    _, module, _, _ = FAMILIES[name]
    return importlib.import_module(f"transformers.models.{module}.modeling_{module}")


def rope_layer_types(name):
    """The layer types with their own RoPE in family `name` ([None]: one RoPE for every layer)."""
    kwargs = FAMILIES[name][2]
    return sorted(set(kwargs["layer_types"])) if "rope_local_base_freq" in kwargs else [None]


def v4_dict(name):
    """Family `name` as a transformers 4.x config.json holds it: the keyword arguments themselves
    (rope_scaling, top-level rope_theta; GPT-NeoX's rotary_pct / rotary_emb_base; Phi-3's top-level
    original_max_position_embeddings; Gemma 3's rope_local_base_freq). Written here, so that it is
    there whichever transformers is installed."""
    import copy
    return copy.deepcopy(FAMILIES[name][2])


def v5_dict(name):
    """Family `name` as transformers 5 writes it (rope_parameters holding rope_type, rope_theta,
    partial_rotary_factor and the scaling keys; per layer type for Gemma 3; Phi-3 keeps its top-level
    original_max_position_embeddings, as 5.x's to_dict does). Written by hand from the keyword
    arguments, so that it exists without transformers 5 installed."""
    c = v4_dict(name)
    scaling = c.pop("rope_scaling", None) or {}
    theta = c.pop("rope_theta", None)
    theta = c.pop("rotary_emb_base", theta)
    partial = c.pop("partial_rotary_factor", None)
    partial = c.pop("rotary_pct", partial)
    params = dict(scaling)
    if "type" in params:
        params["rope_type"] = params.pop("type")
    params.setdefault("rope_type", "default")
    params["rope_theta"] = float(theta if theta is not None else 10000.0)
    if partial is not None:
        params["partial_rotary_factor"] = partial
    if params["rope_type"] in ("llama3", "yarn", "longrope"):
        params.setdefault("original_max_position_embeddings",
                          c.get("original_max_position_embeddings", c["max_position_embeddings"]))
    local = c.pop("rope_local_base_freq", None)
    if local is not None:
        params = {"sliding_attention": {"rope_type": "default", "rope_theta": float(local)}, "full_attention": params}
    c["rope_parameters"] = params
    return c
