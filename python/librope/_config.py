# SPDX-License-Identifier: MIT
"""Caches from a model's configuration: a Hugging Face config.json (path or dict) read into the C
library's rope_freq_config, and rope_cache_fill's cos/sin tables in NumPy or torch."""
import json
import os

from . import _core

# rope_scaling's "rope_type" (or the older "type") -> rope_scaling enum value of rope.h
_SCALING = {"default": 0, "linear": 1, "dynamic": 2, "yarn": 3, "llama3": 4, "longrope": 5,
            "mrope": 0}  # Qwen2-VL's "mrope" is plain RoPE frequencies (transformers maps it to default)
_LAYOUT = {"half": 0, "full": 1}


def _load(config):
    if isinstance(config, (str, os.PathLike)):
        with open(config, encoding="utf-8") as f:
            return json.load(f)
    if isinstance(config, dict):
        return config
    if hasattr(config, "to_dict"):  # a transformers PretrainedConfig
        return config.to_dict()
    raise TypeError(f"librope.cos_sin: config must be a config.json path or a dict, got {type(config).__name__}")


def rope_config(config, *, seq_len=0):
    """The C library's rope_freq_config (as a dict of its field names) for a Hugging Face config:
    rope_theta, head_dim (or hidden_size / num_attention_heads), partial_rotary_factor, rope_scaling
    (default, linear, dynamic, yarn, llama3, longrope; Qwen2-VL's mrope is default) and
    max_position_embeddings, read as transformers' rope initialisation functions read them.
    seq_len: the sequence length the cache serves (dynamic and longrope scale by it; 0: as at model
    initialisation). A config that is not what Hugging Face writes (a key missing, a value of the
    wrong type) raises ValueError naming the field, never another exception; values the library
    rejects raise RopeError (a ValueError) from cos_sin."""
    c = _load(config)
    try:
        out = _read_config(c, seq_len)
    except KeyError as e:
        raise ValueError(f"librope.cos_sin: config: {e.args[0]!r} is missing") from None
    except (TypeError, ValueError, ZeroDivisionError, AttributeError, OverflowError) as e:
        raise ValueError(f"librope.cos_sin: config: {e}") from None
    if out["rotary_dim"] > _core.max_rotary_dim:  # before cos_sin allocates its tables
        raise ValueError(f"librope.cos_sin: config: the rotary dimension (head_dim x partial_rotary_factor) "
                         f"must be at most {_core.max_rotary_dim}, found {out['rotary_dim']}")
    return out


def _int(c, key):
    v = c[key]
    if isinstance(v, bool) or not isinstance(v, int):
        raise TypeError(f"{key!r} must be an integer, found {v!r}")
    return v


def _real(c, key, default):
    v = c.get(key)
    if v is None or v == 0:
        return default
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise TypeError(f"{key!r} must be a number, found {v!r}")
    return float(v)


def _read_config(c, seq_len):
    if not isinstance(c, dict):
        raise TypeError(f"a config is a JSON object, got {type(c).__name__}")
    head_dim = _int(c, "head_dim") if c.get("head_dim") else _int(c, "hidden_size") // _int(c, "num_attention_heads")
    dim = int(head_dim * _real(c, "partial_rotary_factor", 1.0))
    rs = c.get("rope_scaling") or {}
    kind = rs.get("rope_type", rs.get("type", "default"))
    if kind not in _SCALING:
        raise ValueError(f"librope.cos_sin: rope_scaling type {kind!r} is not one librope has "
                         f"({', '.join(sorted(_SCALING))})")
    out = {"base": float(c.get("rope_theta", 10000.0)), "rotary_dim": dim, "scaling": _SCALING[kind],
           "seq_len": int(seq_len)}
    max_pos = c.get("max_position_embeddings")
    if kind in ("linear", "dynamic", "yarn", "llama3"):
        out["factor"] = float(rs["factor"])
    if kind == "dynamic":
        out["original_max_position_embeddings"] = max_pos
    elif kind == "yarn":
        out["original_max_position_embeddings"] = rs.get("original_max_position_embeddings") or max_pos
        for key in ("attention_factor", "mscale", "mscale_all_dim", "beta_fast", "beta_slow"):
            if rs.get(key):
                out[key] = float(rs[key])
        out["no_truncate"] = 0 if rs.get("truncate", True) else 1
    elif kind == "llama3":
        out["original_max_position_embeddings"] = rs["original_max_position_embeddings"]
        out["low_freq_factor"] = float(rs["low_freq_factor"])
        out["high_freq_factor"] = float(rs["high_freq_factor"])
    elif kind == "longrope":
        out["short_factor"] = [float(v) for v in rs["short_factor"]]
        out["long_factor"] = [float(v) for v in rs["long_factor"]]
        if rs.get("attention_factor") is not None:
            out["attention_factor"] = float(rs["attention_factor"])
        orig = c.get("original_max_position_embeddings")
        if orig:  # Phi-3: the factor is the ratio of the two lengths (as transformers computes it)
            out["factor"] = max_pos / orig
        else:
            orig = max_pos
            if rs.get("factor") is not None:
                out["factor"] = float(rs["factor"])
        out["original_max_position_embeddings"] = orig
    return out


def _alloc(framework, shape, dtype):
    if framework == "numpy":
        import numpy as np
        if dtype == "bfloat16":
            import ml_dtypes
            return np.empty(shape, dtype=ml_dtypes.bfloat16)
        return np.empty(shape, dtype=np.dtype(dtype))
    if framework == "torch":
        import torch
        return torch.empty(shape, dtype=getattr(torch, dtype))
    raise ValueError(f"librope.cos_sin: framework must be 'numpy' or 'torch', got {framework!r}")


def cos_sin(config, start, end, *, dtype="float32", layout="half", rotary_coeff=2, framework="numpy",
            seq_len=None):
    """(cos, sin) for positions start .. end-1 of the model `config` describes (a config.json path or
    its dict; see rope_config), as rope_cache_fill writes them: computed in float64 and rounded once.

    dtype: "float32", "float16" or "bfloat16". layout: "half" ([n, d/2]: ONNX's cos_cache / sin_cache)
    or "full" ([n, d]: ATB's cos / sin, pairs placed as rotary_coeff 2, 4 or d says). framework:
    "numpy" (bfloat16 through ml_dtypes) or "torch". seq_len: for dynamic and longrope scaling, the
    sequence length served; None means end (what transformers' forward computes for these positions).
    """
    if layout not in _LAYOUT:
        raise ValueError(f"librope.cos_sin: layout must be 'half' or 'full', got {layout!r}")
    if dtype not in ("float32", "float16", "bfloat16"):
        raise ValueError(f"librope.cos_sin: dtype must be float32, float16 or bfloat16, got {dtype!r}")
    cfg = rope_config(config, seq_len=end if seq_len is None else seq_len)
    d = cfg["rotary_dim"]
    count = end - start
    width = d // 2 if layout == "half" else d
    shape = (max(count, 0), max(width, 0))
    cos, sin = _alloc(framework, shape, dtype), _alloc(framework, shape, dtype)
    _core.cache_fill(cfg, start, count, _LAYOUT[layout], rotary_coeff, cos, sin)
    return cos, sin
