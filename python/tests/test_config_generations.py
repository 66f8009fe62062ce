# SPDX-License-Identifier: MIT
"""librope.cos_sin on the configs of both transformers generations (issue 15, part 1): the ten families
of families.py against each model's own rotary embedding (built from the config; positions < 64, and
for dynamic and longrope at the sequence length the model's forward uses) and against a float64
evaluation of transformers' formulas written in configs.py at positions 10^5 .. 10^6; the config as
PretrainedConfig, dict and config.json path, in 4.x and in 5.x form, whatever transformers is
installed; and the errors (unknown keys and rope types, layer types)."""
import json

import numpy as np
import pytest

import librope
from configs import ref_inv_freq
from families import FAMILIES, make_config, rope_layer_types, v4_dict, v5_dict
from reference import f64

CASES = [(n, t) for n in sorted(FAMILIES) for t in rope_layer_types(n)]
IDS = [f"{n}-{t}" if t else n for n, t in CASES]


def _flat_v4(name, layer_type):
    """The 4.x dict of one layer type, as configs.ref_inv_freq reads it (top-level rope_theta and
    partial_rotary_factor, rope_scaling): the input of the float64 formulas."""
    c = v4_dict(name)
    if "rotary_emb_base" in c:
        c["rope_theta"] = c.pop("rotary_emb_base")
    if "rotary_pct" in c:
        c["partial_rotary_factor"] = c.pop("rotary_pct")
    if layer_type == "sliding_attention":
        c["rope_theta"] = c["rope_local_base_freq"]
        c.pop("rope_scaling", None)
    return c


def _ulp2(got, want):
    """float32 results within 2 ulp of the float64 values (rope.h's bound)."""
    tol = 2 * 2.0 ** -23 * np.maximum(np.abs(want), 2.0 ** -10)
    err = np.abs(f64(got) - want)
    assert (err <= tol * 1.0001 + 1e-12).all(), f"worst {err.max():.3g}"


# ---- the model's own rotary embedding -------------------------------------------------------------

def _model_rotary(name, layer_type, end):
    """(cos, sin) [end, rot] from the rotary embedding module of the model built from the config, for
    positions 0 .. end-1 in one forward (so dynamic and longrope see seq_len = end)."""
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    import inspect
    config = make_config(name)
    model = transformers.AutoModel.from_config(config)
    rotary = model.rotary_emb
    pos = torch.arange(end)[None]
    x = torch.zeros(1, end, 8, dtype=torch.float32)
    if layer_type is not None and "layer_type" in inspect.signature(rotary.forward).parameters:
        cos, sin = rotary(x, pos, layer_type=layer_type)  # transformers 5: one module, per layer type
    elif layer_type == "sliding_attention":
        cos, sin = model.rotary_emb_local(x, pos)  # transformers 4's Gemma 3: a second module
    else:
        cos, sin = rotary(x, pos)
    return cos[0].double().numpy(), sin[0].double().numpy(), config


def _near_the_model(got, model, exact):
    """|librope - model| <= 1e-6; where the model's own float32 evaluation (float32 pow for inv_freq,
    float32 angles) is itself farther than that from the exact value, librope may be as far from the
    model as the model is from the exact value (plus 2 float32 ulp): it is the exact side that counts.
    Measured: Llama 3 and OLMo 2 (rope_theta 5e5) and Phi-3 reach 1.2e-6 / 1.3e-6, the model's own
    error; the other families stay below 9e-7."""
    diff = np.abs(f64(got) - model)
    allowed = np.maximum(1e-6, np.abs(model - exact) + 2 * 2.0 ** -23)
    assert (diff <= allowed).all(), f"worst {diff.max():.3g} (the model's own error: {np.abs(model - exact).max():.3g})"
    assert np.abs(f64(got) - exact).max() <= 2 * 2.0 ** -23  # and librope itself within 2 ulp of exact


@pytest.mark.parametrize("name,layer_type", CASES, ids=IDS)
def test_cos_sin_vs_the_models_rotary_embedding(name, layer_type):
    want_c, want_s, config = _model_rotary(name, layer_type, 64)
    cos, sin = librope.cos_sin(config, 0, 64, layer_type=layer_type, layout="full", rotary_coeff=2)
    assert cos.shape == want_c.shape, f"{name}: width {cos.shape[1]}, the model's {want_c.shape[1]}"
    inv, att = ref_inv_freq(_flat_v4(name, layer_type), 64)
    ang = np.arange(64, dtype=np.float64)[:, None] * np.concatenate([inv, inv])[None, :]
    _near_the_model(cos, want_c, att * np.cos(ang))
    _near_the_model(sin, want_s, att * np.sin(ang))


@pytest.mark.parametrize("name,end", [("qwen2_dynamic", 2000), ("phi3_longrope", 1500), ("phi3_longrope", 900)])
def test_dynamic_and_longrope_at_the_forwards_sequence_length(name, end):
    """A forward over positions 0 .. end-1 past the original length rescales (dynamic) or switches to
    the long factors (longrope); cos_sin's seq_len defaults to end, the same length. transformers'
    angles are float32 products (off by up to ulp(end) rad), so the frequencies are compared with the
    module's own and the first 64 rows within 1e-6."""
    want_c, want_s, config = _model_rotary(name, None, end)
    cos, sin = librope.cos_sin(config, 0, end, layout="full", rotary_coeff=2)
    inv, att = ref_inv_freq(_flat_v4(name, None), end)
    ang = np.arange(64, dtype=np.float64)[:, None] * np.concatenate([inv, inv])[None, :]
    _near_the_model(cos[:64], want_c[:64], att * np.cos(ang))
    _near_the_model(sin[:64], want_s[:64], att * np.sin(ang))
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    model = transformers.AutoModel.from_config(config)
    model.rotary_emb(torch.zeros(1, end, 8), torch.arange(end)[None])  # the forward updates inv_freq
    hf_inv = model.rotary_emb.inv_freq.double().numpy()
    inv, _ = librope._core.freq_compute(librope.rope_config(config, seq_len=end))
    assert np.allclose(inv, hf_inv, rtol=4e-6, atol=0)
    # and librope's own against the float64 formulas, at this seq_len
    ref, _ = ref_inv_freq(_flat_v4(name, None), end)
    assert np.allclose(inv, ref, rtol=1e-12, atol=0)


@pytest.mark.parametrize("name,layer_type", CASES, ids=IDS)
@pytest.mark.parametrize("start", [100000, 999937])
def test_long_positions_vs_float64_formula(name, layer_type, start):
    c4 = _flat_v4(name, layer_type)
    end = start + 48
    inv, att = ref_inv_freq(c4, end)
    ang = np.arange(start, end, dtype=np.float64)[:, None] * inv[None, :]
    for config in (v4_dict(name), v5_dict(name)):
        cos, sin = librope.cos_sin(config, start, end, layer_type=layer_type)
        _ulp2(cos, att * np.cos(ang))
        _ulp2(sin, att * np.sin(ang))


# ---- every form of the config gives the same tables ------------------------------------------------

@pytest.mark.parametrize("name,layer_type", CASES, ids=IDS)
def test_forms_and_generations_agree(name, layer_type, tmp_path):
    """4.x dict, 5.x dict, their config.json files, and (with transformers installed) the
    PretrainedConfig and its to_dict(): bitwise the same tables."""
    forms = {"v4 dict": v4_dict(name), "v5 dict": v5_dict(name)}
    for label in list(forms):
        path = tmp_path / f"{label.replace(' ', '_')}.json"
        path.write_text(json.dumps(forms[label]))
        forms[label + " file"] = str(path)
    try:
        import transformers  # noqa: F401
        config = make_config(name)
        forms["PretrainedConfig"] = config
        forms["to_dict()"] = config.to_dict()
        path = tmp_path / "to_json_file.json"
        config.to_json_file(str(path))
        forms["to_json_file()"] = str(path)
    except ImportError:
        pass
    want_c, want_s = librope.cos_sin(forms["v4 dict"], 0, 300, layer_type=layer_type)
    for label, config in forms.items():
        cos, sin = librope.cos_sin(config, 0, 300, layer_type=layer_type)
        assert cos.tobytes() == want_c.tobytes() and sin.tobytes() == want_s.tobytes(), label


def test_the_installed_generations_dict_is_the_one_written_here():
    """make_config(name).to_dict() holds the rope keys v4_dict / v5_dict write, so the two forms
    tested above are what transformers writes (the generation installed; the other written by hand)."""
    transformers = pytest.importorskip("transformers")
    five = int(transformers.__version__.split(".")[0]) >= 5
    for name in FAMILIES:
        d = make_config(name).to_dict()
        if five:
            mine = v5_dict(name)["rope_parameters"]
            if "sliding_attention" in mine:
                assert {k: dict(v) for k, v in d["rope_parameters"].items()} == mine, name
            else:
                theirs = {k: v for k, v in d["rope_parameters"].items() if k != "type"}
                assert theirs == mine, (name, theirs, mine)
        else:
            assert "rope_parameters" not in d
            assert (d.get("rope_scaling") or None) == (v4_dict(name).get("rope_scaling") or None), name


# ---- errors ------------------------------------------------------------------------------------------

def test_unknown_key_that_changes_the_result():
    c = v5_dict("mistral_yarn")
    c["rope_parameters"]["extrapolation_boost"] = 2.0
    with pytest.raises(ValueError, match="extrapolation_boost"):
        librope.cos_sin(c, 0, 4)
    c = v4_dict("llama3")
    c["rope_scaling"]["beta_fast"] = 16  # a yarn key: llama3 does not read it
    with pytest.raises(ValueError, match="'beta_fast'.*llama3"):
        librope.cos_sin(c, 0, 4)
    c = v5_dict("qwen2_dynamic")
    c["rope_parameters"]["original_max_position_embeddings"] = 128  # transformers' dynamic ignores it
    with pytest.raises(ValueError, match="original_max_position_embeddings"):
        librope.cos_sin(c, 0, 4)
    # keys that select positions (MRoPE), not frequencies, are read and change nothing
    c = v5_dict("qwen3")
    c["rope_parameters"]["mrope_section"] = [2, 3, 3]
    assert librope.cos_sin(c, 0, 4)[0].tobytes() == librope.cos_sin(v5_dict("qwen3"), 0, 4)[0].tobytes()


def test_unknown_rope_type():
    for c, where in ((v5_dict("qwen3"), "rope_parameters"), (v4_dict("llama3"), "rope_scaling")):
        rope = c[where]
        rope.pop("rope_type", None)
        rope["type"] = "ntk-by-parts"
        with pytest.raises(ValueError, match=f"{where} rope_type 'ntk-by-parts' is not one librope knows "
                                             r"\(default, linear, dynamic, yarn, llama3, longrope, proportional"):
            librope.cos_sin(c, 0, 4)
    # Qwen2-VL's "mrope" is default RoPE, in the C library's table of aliases
    c = v4_dict("qwen3")
    c["rope_scaling"] = {"type": "mrope", "mrope_section": [2, 3, 3]}
    assert librope.cos_sin(c, 0, 8)[1].tobytes() == librope.cos_sin(v4_dict("qwen3"), 0, 8)[1].tobytes()


def test_several_layer_types_need_one():
    for c in (v4_dict("gemma3"), v5_dict("gemma3")):
        with pytest.raises(ValueError, match="2 layer types.*full_attention, sliding_attention.*layer_type="):
            librope.cos_sin(c, 0, 4)
        with pytest.raises(ValueError, match="layer_type 'chunked_attention' is not one of this config's layer "
                                             r"types \(full_attention, sliding_attention\)"):
            librope.cos_sin(c, 0, 4, layer_type="chunked_attention")


def test_layer_type_of_a_single_rope_config():
    c = v5_dict("qwen3")
    c["layer_types"] = ["full_attention", "full_attention"]
    want = librope.cos_sin(c, 0, 8)[0]
    assert librope.cos_sin(c, 0, 8, layer_type="full_attention")[0].tobytes() == want.tobytes()
    with pytest.raises(ValueError, match="layer_type 'sliding_attention' is not one of this config's layer types "
                                         r"\(full_attention\)"):
        librope.cos_sin(c, 0, 8, layer_type="sliding_attention")
    with pytest.raises(ValueError, match="it names none"):
        librope.cos_sin(v4_dict("llama3"), 0, 8, layer_type="full_attention")


def test_generations_that_disagree_are_refused():
    """A 4.x longrope config that transformers 4 and 5 read differently: refused, naming the key."""
    c = v4_dict("phi3_longrope")
    c["rope_scaling"]["factor"] = 4.0  # 4.x: max / original = 8, 5.x: 4
    with pytest.raises(ValueError, match=r"rope_scaling\['factor'\] \(4.0\) differs"):
        librope.cos_sin(c, 0, 4)
    c = v4_dict("phi3_longrope")
    del c["original_max_position_embeddings"]
    c["rope_scaling"]["original_max_position_embeddings"] = 1024  # 4.x ignores it, 5.x uses it
    with pytest.raises(ValueError, match="transformers 4 ignores it, 5 uses it"):
        librope.cos_sin(c, 0, 4)
    c = v4_dict("gpt_neox_partial")
    c["partial_rotary_factor"] = 0.5
    with pytest.raises(ValueError, match="'partial_rotary_factor' .* and 'rotary_pct' .* disagree"):
        librope.cos_sin(c, 0, 4)
    c = v4_dict("llama3")
    c["rope_parameters"] = v5_dict("qwen3")["rope_parameters"]
    with pytest.raises(ValueError, match="both 'rope_parameters'"):
        librope.cos_sin(c, 0, 4)


# ---- transformers 5's own types: proportional, yarn's truncate --------------------------------------

def _proportional(partial=0.25, factor=None, head=32):
    params = {"rope_type": "proportional", "rope_theta": 1000000.0, "partial_rotary_factor": partial}
    if factor is not None:
        params["factor"] = factor
    return {"hidden_size": 64, "num_attention_heads": 2, "head_dim": head, "max_position_embeddings": 4096,
            "layer_types": ["sliding_attention", "full_attention"],
            "rope_parameters": {"sliding_attention": {"rope_type": "default", "rope_theta": 10000.0},
                                "full_attention": params}}


@pytest.mark.parametrize("partial,factor", [(0.25, None), (0.5, 2.0), (1.0, None), (0.3, None)])
def test_proportional_vs_float64_formula(partial, factor):
    """transformers 5.25's proportional RoPE: a head_dim-wide table; int(partial * head // 2) pairs turn
    at 1 / base^(2i / head) / factor, the rest stand still (cos 1, sin 0)."""
    head, base = 32, 1000000.0
    c = _proportional(partial, factor, head)
    start, end = 999000, 999064
    cos, sin = librope.cos_sin(c, start, end, layer_type="full_attention", head_wide=True)
    assert cos.shape == (end - start, head // 2)
    n = int(partial * head // 2)
    i = np.arange(head // 2, dtype=np.float64)
    inv = np.where(i < n, 1.0 / base ** (2 * i / head), 0.0) / (factor or 1.0)
    ang = np.arange(start, end, dtype=np.float64)[:, None] * inv[None, :]
    _ulp2(cos, np.cos(ang))
    _ulp2(sin, np.sin(ang))
    assert (f64(cos)[:, n:] == 1).all() and (f64(sin)[:, n:] == 0).all()


def test_proportional_vs_transformers():
    torch = pytest.importorskip("torch")
    pytest.importorskip("transformers")
    from transformers import modeling_rope_utils as mru
    if "proportional" not in getattr(mru, "ROPE_INIT_FUNCTIONS", {}):
        pytest.skip("this transformers has no proportional RoPE (added in 5.x)")
    from types import SimpleNamespace
    for partial, factor in ((0.25, None), (0.5, 2.0)):
        c = _proportional(partial, factor)
        params = c["rope_parameters"]

        class Cfg(SimpleNamespace):
            def standardize_rope_params(self):
                pass

        cfg = Cfg(head_dim=c["head_dim"], hidden_size=c["hidden_size"], num_attention_heads=2,
                  rope_parameters=params, per_layer_config={"full_attention": None})
        cfg.per_layer_config = {"full_attention": cfg}
        hf_inv, hf_att = mru.ROPE_INIT_FUNCTIONS["proportional"](cfg, "cpu", layer_type="full_attention")
        inv, att = librope._core.freq_compute(librope.rope_config(c, layer_type="full_attention"))
        assert np.allclose(inv, hf_inv.double().numpy(), rtol=4e-6, atol=0) and att == hf_att == 1.0
        # the table as the models compute it from those frequencies (float32 angles), against the exact one
        pos = torch.arange(64, dtype=torch.float32)[:, None]
        emb = pos * hf_inv.float()[None]
        cos, sin = librope.cos_sin(c, 0, 64, layer_type="full_attention", head_wide=True)
        n = int(partial * 32 // 2)
        i = np.arange(16, dtype=np.float64)
        ang = np.arange(64.0)[:, None] * (np.where(i < n, 1.0 / 1e6 ** (2 * i / 32), 0.0) / (factor or 1.0))[None]
        _near_the_model(cos, emb.cos().double().numpy(), np.cos(ang))
        _near_the_model(sin, emb.sin().double().numpy(), np.sin(ang))


def test_proportional_errors():
    with pytest.raises(ValueError, match="rotates no pair"):
        librope.cos_sin(_proportional(0.0), 0, 4, layer_type="full_attention")
    c = _proportional()
    c["rope_parameters"]["full_attention"]["low_freq_factor"] = 1.0
    with pytest.raises(ValueError, match="'low_freq_factor'.*proportional"):
        librope.cos_sin(c, 0, 4, layer_type="full_attention")


@pytest.mark.parametrize("truncate", [True, False])
def test_yarn_truncate_in_both_generations(truncate):
    c4 = v4_dict("mistral_yarn")
    c4["rope_scaling"]["truncate"] = truncate
    c5 = v5_dict("mistral_yarn")
    c5["rope_parameters"]["truncate"] = truncate
    inv, att = ref_inv_freq(c4, 0)
    for c in (c4, c5):
        got, got_att = librope._core.freq_compute(librope.rope_config(c))
        assert np.allclose(got, inv, rtol=1e-12, atol=0) and abs(got_att - att) <= 1e-12
    if not truncate:
        assert not np.allclose(inv, ref_inv_freq(v4_dict("mistral_yarn"), 0)[0], rtol=1e-9, atol=0)
