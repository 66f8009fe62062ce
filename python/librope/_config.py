# SPDX-License-Identifier: MIT
"""Caches from a model's configuration: a Hugging Face config (PretrainedConfig, dict or config.json
path, as transformers 4.x or 5.x writes it) read into the C library's rope_freq_config, and
rope_cache_fill's cos/sin tables in NumPy or torch.

The two generations: 4.x keeps the method in `rope_scaling` ("rope_type", or the older "type") with
`rope_theta` and `partial_rotary_factor` at the top level (GPT-NeoX: `rotary_emb_base`, `rotary_pct`;
Phi-3: `original_max_position_embeddings`; Gemma 3: `rope_local_base_freq` for its sliding layers).
5.x writes everything into `rope_parameters`, flat or one dict per layer type. Each generation is read
as that generation of transformers computes it; where the two would compute different tables from
the same 4.x config, the reader refuses the config instead of picking one."""
import json
import os

from . import _core

_LAYOUT = {"half": 0, "full": 1}

# Keys every rope dict may hold: the method's name and the two values 5.x moves into it.
_COMMON = {"rope_type", "type", "rope_theta", "partial_rotary_factor"}
# Keys that select positions, not frequencies (MRoPE's sections): the cos/sin table is the same.
_HARMLESS = {"mrope_section", "mrope_interleaved"}
# The keys each method reads (transformers' rope initialisation functions); any other key in the
# rope dict would change what the author meant, so it is refused, never ignored.
_KEYS = {
    "default": set(),
    "linear": {"factor"},
    "dynamic": {"factor"},  # original length: max_position_embeddings, in both generations
    "yarn": {"factor", "original_max_position_embeddings", "attention_factor", "beta_fast", "beta_slow", "mscale",
             "mscale_all_dim", "truncate"},
    "llama3": {"factor", "original_max_position_embeddings", "low_freq_factor", "high_freq_factor"},
    "longrope": {"short_factor", "long_factor", "factor", "attention_factor", "original_max_position_embeddings"},
    "proportional": {"factor"},
}


def _load(config):
    if isinstance(config, (str, os.PathLike)):
        with open(config, encoding="utf-8") as f:
            return json.load(f)
    if isinstance(config, dict):
        return config
    if hasattr(config, "to_dict"):  # a transformers PretrainedConfig
        return config.to_dict()
    raise TypeError("librope.cos_sin: config must be a transformers PretrainedConfig, a dict or a config.json path, "
                    f"got {type(config).__name__}")


def scaling_names():
    """The rope_type names librope reads, in the C library's order (rope_scaling_name)."""
    return _core.scaling_names()


def rope_config(config, *, layer_type=None, seq_len=0):
    """The C library's rope_freq_config (as a dict of its field names) for a Hugging Face config of
    either transformers generation (see python/README.md for the keys read per generation).

    layer_type: for configs whose layer types have different RoPE (Gemma 3's "sliding_attention" and
    "full_attention"), the one to read; required when the config has several, refused when the
    config does not have it. seq_len: the sequence length the cache serves (dynamic and longrope scale
    by it; 0: as at model initialisation). A config that is not what Hugging Face writes (a key missing,
    a value of the wrong type, a key the method does not read, a rope_type librope does not know, a 4.x
    config the two generations would read differently) raises ValueError naming it, never another
    exception; values the library rejects raise RopeError (a ValueError) from cos_sin."""
    c = _load(config)
    try:
        out = _read_config(c, layer_type, seq_len)
    except KeyError as e:
        raise ValueError(f"librope.cos_sin: config: {e.args[0]!r} is missing") from None
    except (TypeError, ValueError, ZeroDivisionError, AttributeError, OverflowError) as e:
        msg = str(e)
        raise ValueError(msg if msg.startswith("librope.") else f"librope.cos_sin: config: {msg}") from None
    if out["rotary_dim"] > _core.max_rotary_dim:  # before cos_sin allocates its tables
        raise ValueError(f"librope.cos_sin: config: the rotary dimension (head_dim x partial_rotary_factor) "
                         f"must be at most {_core.max_rotary_dim}, found {out['rotary_dim']}")
    return out


def _int(c, key):
    v = c[key]
    if isinstance(v, bool) or not isinstance(v, int):
        raise TypeError(f"{key!r} must be an integer, found {v!r}")
    return v


def _num(v, key):
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise TypeError(f"{key!r} must be a number, found {v!r}")
    return float(v)


def _real(c, key, default):
    v = c.get(key)
    if v is None or v == 0:
        return default
    return _num(v, key)


def _fail(msg):
    raise ValueError(f"librope.cos_sin: config: {msg}")


def _one_of(c, new, old):
    """A top-level value written under its current name or GPT-NeoX's older one (both when equal)."""
    a, b = c.get(new), c.get(old)
    if a is not None and b is not None and a != b:
        _fail(f"{new!r} ({a!r}) and {old!r} ({b!r}) disagree (GPT-NeoX's {old!r} is the older name of "
              f"{new!r}); keep one")
    return a if a is not None else b


def _dict(v, where):
    if not isinstance(v, dict):
        raise TypeError(f"{where} must be a JSON object, found {v!r}")
    return dict(v)


def _layer_types(c):
    lt = c.get("layer_types") or []
    if not isinstance(lt, list) or not all(isinstance(t, str) for t in lt):
        raise TypeError(f"'layer_types' must be a list of names, found {lt!r}")
    return lt


def _entries(c):
    """{layer type or None: (rope dict with rope_theta / partial_rotary_factor resolved, where, generation)}."""
    rp, rs = c.get("rope_parameters"), c.get("rope_scaling")
    if rp and rs and rp != rs:
        _fail("both 'rope_parameters' (transformers 5) and 'rope_scaling' (4.x) are set and differ; keep one")
    theta = _one_of(c, "rope_theta", "rotary_emb_base")
    partial = _one_of(c, "partial_rotary_factor", "rotary_pct")
    if rp:
        return _entries_v5(c, _dict(rp, "'rope_parameters'"), theta, partial)
    return _entries_v4(c, _dict(rs, "'rope_scaling'") if rs else {}, theta, partial)


def _entries_v5(c, rp, theta, partial):
    types = _layer_types(c)
    nested = [k for k in rp if k in types]  # as transformers 5 decides it: keys that are layer types
    if not nested:
        p = dict(rp)
        p.setdefault("rope_theta", 10000.0 if theta is None else theta)
        if partial is not None:
            p.setdefault("partial_rotary_factor", partial)
        kind = p.get("rope_type", p.get("type", "default"))
        # Phi-3's top-level original length wins over the one in rope_parameters (transformers 5)
        if kind in ("llama3", "yarn", "longrope") and c.get("original_max_position_embeddings") is not None:
            p["original_max_position_embeddings"] = c["original_max_position_embeddings"]
        return {None: (p, "rope_parameters", 5)}
    extra = [k for k in rp if k not in nested]
    if extra:
        _fail(f"rope_parameters is per layer type ({', '.join(nested)}) but also holds {extra!r}, which is no "
              f"layer type of this config (layer_types: {sorted(set(types))})")
    out = {}
    for t in nested:
        if rp[t] is None:  # a layer type without RoPE
            out[t] = (None, f"rope_parameters[{t!r}]", 5)
            continue
        p = _dict(rp[t], f"rope_parameters[{t!r}]")
        local = c.get("rope_local_base_freq") if t == "sliding_attention" else None
        default_theta = local if local is not None else theta
        if "rope_theta" not in p and default_theta is None:
            _fail(f"rope_parameters[{t!r}] has no 'rope_theta' (and the config none at the top level): "
                  "the default differs between models, so librope does not guess it")
        p.setdefault("rope_theta", default_theta)
        if partial is not None:
            p.setdefault("partial_rotary_factor", partial)
        out[t] = (p, f"rope_parameters[{t!r}]", 5)
    return out


def _entries_v4(c, rs, theta, partial):
    kind = rs.get("rope_type", rs.get("type", "default"))
    for key, top in (("rope_theta", theta), ("partial_rotary_factor", partial)):
        # transformers 4 reads these at the top level only, 5 from the rope dict first
        if key in rs and top is not None and rs[key] != top:
            _fail(f"rope_scaling[{key!r}] ({rs[key]!r}) differs from the top-level {key!r} ({top!r}): "
                  "transformers 4 reads the top-level one and 5 the other; keep one")
    p = dict(rs)
    if theta is not None:
        p.setdefault("rope_theta", theta)
    p.setdefault("rope_theta", 10000.0)
    if partial is not None:
        p.setdefault("partial_rotary_factor", partial)
    p.setdefault("rope_type", kind)
    if kind == "longrope":
        _longrope_v4(c, p)
    local = c.get("rope_local_base_freq")
    if local is None:
        return {None: (p, "rope_scaling", 4)}
    # Gemma 3 (4.x): sliding layers use plain RoPE at rope_local_base_freq, full layers rope_scaling
    if theta is None:
        _fail("'rope_local_base_freq' is set (Gemma 3) but 'rope_theta' is not: its default differs between "
              "models, so librope does not guess it")
    sliding = {"rope_type": "default", "rope_theta": local}
    if partial is not None:
        sliding["partial_rotary_factor"] = partial
    present = set(_layer_types(c)) or {"sliding_attention", "full_attention"}
    both = {"sliding_attention": (sliding, "rope_local_base_freq", 4), "full_attention": (p, "rope_scaling", 4)}
    return {t: both[t] for t in sorted(present) if t in both} or both


def _longrope_v4(c, p):
    """transformers 4's longrope: the original length and factor come from the top level (Phi-3) when
    original_max_position_embeddings is there, else max_position_embeddings and rope_scaling's factor;
    5 reads rope_scaling first. Where they differ, refuse."""
    top = c.get("original_max_position_embeddings")
    max_pos = c.get("max_position_embeddings")
    if top:
        f4 = max_pos / top
        if p.get("factor") is not None and p["factor"] != f4:
            _fail(f"longrope: rope_scaling['factor'] ({p['factor']!r}) differs from max_position_embeddings / "
                  f"original_max_position_embeddings ({f4!r}): transformers 4 uses the ratio, 5 the factor")
        p["original_max_position_embeddings"] = top
        p["factor"] = f4
    else:
        if p.get("original_max_position_embeddings") not in (None, max_pos):
            _fail(f"longrope: rope_scaling['original_max_position_embeddings'] "
                  f"({p['original_max_position_embeddings']!r}) differs from max_position_embeddings "
                  f"({max_pos!r}): transformers 4 ignores it, 5 uses it; move it to the top level (Phi-3's "
                  "place) or write the config as transformers 5 does")
        p["original_max_position_embeddings"] = max_pos


def _pick(c, entries, layer_type):
    types = sorted(t for t in entries if t is not None)
    if layer_type is None:
        if len(types) > 1:
            _fail(f"this config has {len(types)} layer types with their own RoPE ({', '.join(types)}): "
                  "pass layer_type= one of them")
        return next(iter(entries.values()))
    if types:
        if layer_type not in entries:
            _fail(f"layer_type {layer_type!r} is not one of this config's layer types ({', '.join(types)})")
        return entries[layer_type]
    if layer_type not in _layer_types(c):  # one RoPE for every layer: any layer type the config names
        named = sorted(set(_layer_types(c)))
        _fail(f"layer_type {layer_type!r} is not one of this config's layer types "
              f"({', '.join(named) if named else 'it names none'})")
    return entries[None]


def _head_dim(c, layer_type):
    head = _int(c, "head_dim") if c.get("head_dim") else _int(c, "hidden_size") // _int(c, "num_attention_heads")
    per_layer, global_head = c.get("per_layer_config"), c.get("global_head_dim")
    if layer_type is None or not (per_layer or global_head):
        return head
    # Gemma 4 style: full-attention layers have their own head size (per_layer_config, by layer index)
    idx = [i for i, t in enumerate(_layer_types(c)) if t == layer_type]
    if per_layer:
        per_layer = _dict(per_layer, "'per_layer_config'")
        dims = {(per_layer.get(i) or per_layer.get(str(i)) or {}).get("head_dim") or head for i in idx}
    else:
        dims = {global_head if layer_type == "full_attention" else head}
    if len(dims) != 1:
        _fail(f"the {layer_type} layers have different head sizes {sorted(map(str, dims))} (per_layer_config)")
    return int(_num(dims.pop(), "head_dim"))


def _read_config(c, layer_type, seq_len):
    if not isinstance(c, dict):
        raise TypeError(f"a config is a JSON object, got {type(c).__name__}")
    entries = _entries(c)
    p, where, gen = _pick(c, entries, layer_type)
    if p is None:
        _fail(f"layer type {layer_type!r} has no RoPE ({where} is null)")
    kind = p.get("rope_type", p.get("type", "default"))
    if not isinstance(kind, str):
        raise TypeError(f"{where} rope_type must be a name, found {kind!r}")
    try:
        scaling = _core.scaling_from_name(kind)  # the C library's one table of names and aliases
    except ValueError:
        _fail(f"{where} rope_type {kind!r} is not one librope knows ({', '.join(_core.scaling_names())}; "
              "mrope as default)")
    method = _core.scaling_names()[scaling]
    unknown = sorted(set(p) - _COMMON - _HARMLESS - _KEYS[method])
    if unknown:
        _fail(f"{where} holds {', '.join(map(repr, unknown))}, which {method} RoPE does not read in transformers: "
              "refused rather than ignored (it would change the tables its author meant)")
    head = _head_dim(c, layer_type)
    partial = p.get("partial_rotary_factor")  # 0 stays 0 (and is refused below or by the library)
    partial = 1.0 if partial is None else _num(partial, "partial_rotary_factor")
    base = _num(p["rope_theta"], "rope_theta")
    out = {"base": base, "scaling": scaling, "seq_len": int(seq_len)}
    max_pos = c.get("max_position_embeddings")
    if method == "proportional":
        # the table spans the whole head; int(partial * head // 2) pairs rotate at exponent 2i / head
        rotated = int(partial * head // 2)
        if rotated < 1:
            _fail(f"proportional RoPE with partial_rotary_factor {partial} rotates no pair of head {head}")
        out.update(rotary_dim=head, rotated_pairs=rotated, factor=_real(p, "factor", 1.0))
        return out
    out["rotary_dim"] = int(head * partial)
    if method in ("linear", "dynamic", "llama3"):
        out["factor"] = _num(p["factor"], "factor")
    if method == "dynamic":
        out["original_max_position_embeddings"] = _int(c, "max_position_embeddings")
    elif method == "yarn":
        orig = p.get("original_max_position_embeddings") or max_pos
        out["original_max_position_embeddings"] = orig
        # transformers 5 derives a missing factor from the two lengths (4 requires it)
        out["factor"] = _num(p["factor"], "factor") if p.get("factor") is not None else max_pos / orig
        for key in ("attention_factor", "mscale", "mscale_all_dim", "beta_fast", "beta_slow"):
            if p.get(key):
                out[key] = _num(p[key], key)
        out["no_truncate"] = 0 if p.get("truncate", True) else 1
    elif method == "llama3":
        out["original_max_position_embeddings"] = p["original_max_position_embeddings"]
        out["low_freq_factor"] = _num(p["low_freq_factor"], "low_freq_factor")
        out["high_freq_factor"] = _num(p["high_freq_factor"], "high_freq_factor")
    elif method == "longrope":
        out["short_factor"] = [_num(v, "short_factor") for v in p["short_factor"]]
        out["long_factor"] = [_num(v, "long_factor") for v in p["long_factor"]]
        if p.get("attention_factor") is not None:
            out["attention_factor"] = _num(p["attention_factor"], "attention_factor")
        orig = p.get("original_max_position_embeddings") or max_pos  # 4.x: resolved in _longrope_v4
        out["original_max_position_embeddings"] = orig
        out["factor"] = _num(p["factor"], "factor") if p.get("factor") is not None else max_pos / orig
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


def cos_sin(config, start, end, *, layer_type=None, dtype="float32", layout="half", rotary_coeff=2,
            framework="numpy", seq_len=None, head_wide=False):
    """(cos, sin) for positions start .. end-1 of the model `config` describes (a transformers
    PretrainedConfig, a dict or a config.json path, of either transformers generation; see
    rope_config), as rope_cache_fill writes them: computed in float64 and rounded once.

    layer_type: the layer type to read when the config gives its layer types different RoPE (Gemma 3:
    "sliding_attention" or "full_attention"); required then. dtype: "float32", "float16" or
    "bfloat16". layout: "half" ([n, d/2]: ONNX's cos_cache / sin_cache) or "full" ([n, d]: ATB's
    cos / sin, pairs placed as rotary_coeff 2, 4 or d says). d is the rotated width, head_dim x
    partial_rotary_factor. framework: "numpy" (bfloat16 through ml_dtypes) or "torch". seq_len: for
    dynamic and longrope scaling, the sequence length served; None means end (what transformers'
    forward computes for these positions).

    Proportional RoPE (Gemma 4 style): d is 2n, n = int(partial_rotary_factor * head_dim // 2) the
    pairs that turn, at transformers' frequencies (head_dim in the exponent): the [count, n] table an
    engine rotates with partial="split" (pairs (j, head_dim/2 + j), the rest of the head copied).
    head_wide=True gives transformers' own head_dim-wide table instead (d = head_dim, the pairs past
    n with cos 1 and sin 0), which rotates the same way at full width. Other methods ignore it.
    """
    if layout not in _LAYOUT:
        raise ValueError(f"librope.cos_sin: layout must be 'half' or 'full', got {layout!r}")
    if dtype not in ("float32", "float16", "bfloat16"):
        raise ValueError(f"librope.cos_sin: dtype must be float32, float16 or bfloat16, got {dtype!r}")
    cfg = rope_config(config, layer_type=layer_type, seq_len=end if seq_len is None else seq_len)
    if cfg.get("rotated_pairs") and not head_wide:
        return _rotated_pairs_only(cfg, start, end, dtype, layout, rotary_coeff, framework)
    d = cfg["rotary_dim"]
    count = end - start
    width = d // 2 if layout == "half" else d
    shape = (max(count, 0), max(width, 0))
    cos, sin = _alloc(framework, shape, dtype), _alloc(framework, shape, dtype)
    _core.cache_fill(cfg, start, count, _LAYOUT[layout], rotary_coeff, cos, sin)
    return cos, sin


def _full_row_pairs(d, rotary_coeff):
    """The pair each element of a [*, d] FULL-layout row holds (rope.h's ROPE_CACHE_FULL): with
    rs = d / rotary_coeff, pair g*rs + j owns elements g*2*rs + j and g*2*rs + j + rs."""
    if rotary_coeff not in (2, 4, d) or rotary_coeff <= 0 or d % rotary_coeff:
        raise ValueError(f"librope.cos_sin: rotary_coeff must be 2, 4 or the rotated width {d} (dividing it), "
                         f"got {rotary_coeff!r}")
    rs = d // rotary_coeff
    return [(e // (2 * rs)) * rs + (e % (2 * rs)) % rs for e in range(d)]


def _rotated_pairs_only(cfg, start, end, dtype, layout, rotary_coeff, framework):
    """cos_sin of a proportional config: the n rotated pairs' columns of the head-wide table (each
    value computed and rounded by rope_cache_fill exactly as there; columns only selected)."""
    n = cfg["rotated_pairs"]
    count = end - start
    shape = (max(count, 0), max(cfg["rotary_dim"] // 2, 0))
    cos, sin = _alloc(framework, shape, dtype), _alloc(framework, shape, dtype)
    _core.cache_fill(cfg, start, count, _LAYOUT["half"], 2, cos, sin)
    cols = list(range(n)) if layout == "half" else _full_row_pairs(2 * n, rotary_coeff)
    if framework == "torch":
        import torch
        index = torch.tensor(cols, dtype=torch.int64)
        return cos.index_select(1, index), sin.index_select(1, index)
    import numpy as np
    return np.ascontiguousarray(cos[:, cols]), np.ascontiguousarray(sin[:, cols])
