# SPDX-License-Identifier: MIT
"""librope.cos_sin: every scaling type against a float64 reference of rope.h's formulas, bitwise against
the C library's own `rope cache` for the same configuration, every dtype, layout and framework, and
config.json files."""
import json
import os
import subprocess

import numpy as np
import pytest

import librope
from configs import CONFIGS, cli_scaling, ref_inv_freq, rotary_dim
from conftest import need
from reference import f64

ROPE_CLI = os.environ.get("ROPE_CLI") or os.path.join(os.path.dirname(__file__), "..", "..", "build", "rope")


@pytest.mark.parametrize("name", sorted(CONFIGS))
@pytest.mark.parametrize("span", [(0, 64), (3000, 3100), (10000, 10050)])
def test_vs_float64_reference(name, span):
    c = CONFIGS[name]
    start, end = span
    cos, sin = librope.cos_sin(c, start, end)
    inv, att = ref_inv_freq(c, end)
    ang = np.arange(start, end, dtype=np.float64)[:, None] * inv[None, :]
    want_c, want_s = att * np.cos(ang), att * np.sin(ang)
    assert cos.shape == (end - start, rotary_dim(c) // 2) and cos.dtype == np.float32
    # float32 results within 2 ulp of the exact values (rope.h)
    tol = 2 * 2.0 ** -23 * np.maximum(np.abs(want_c), 2.0 ** -10)
    assert (np.abs(f64(cos) - want_c) <= tol * 1.0001 + 1e-12).all(), np.abs(f64(cos) - want_c).max()
    tol = 2 * 2.0 ** -23 * np.maximum(np.abs(want_s), 2.0 ** -10)
    assert (np.abs(f64(sin) - want_s) <= tol * 1.0001 + 1e-12).all(), np.abs(f64(sin) - want_s).max()


def test_freq_compute_matches_reference():
    for name, c in CONFIGS.items():
        for seq_len in (0, 100000):
            inv, att = librope._core.freq_compute(librope.rope_config(c, seq_len=seq_len))
            want_inv, want_att = ref_inv_freq(c, seq_len)
            assert np.allclose(inv, want_inv, rtol=1e-12, atol=0), name
            assert abs(att - want_att) <= 1e-12 * want_att, name


def _read_tensor_proto(path):
    """dims and raw_data of a TensorProto file (protobuf fields 1 and 9; the rest skipped)."""
    buf = open(path, "rb").read()
    pos, dims, raw, dtype = 0, [], b"", 0

    def varint():
        nonlocal pos
        v, shift = 0, 0
        while True:
            b = buf[pos]
            pos += 1
            v |= (b & 0x7F) << shift
            shift += 7
            if b < 0x80:
                return v

    while pos < len(buf):
        key = varint()
        field, wire = key >> 3, key & 7
        if wire == 0:
            v = varint()
            if field == 1:
                dims.append(v)
            elif field == 2:
                dtype = v
        elif wire == 2:
            n = varint()
            chunk = buf[pos:pos + n]
            pos += n
            if field == 9:
                raw = chunk
            elif field == 1:  # packed dims
                sub, p2 = chunk, 0
                while p2 < len(sub):
                    v, shift = 0, 0
                    while True:
                        b = sub[p2]
                        p2 += 1
                        v |= (b & 0x7F) << shift
                        shift += 7
                        if b < 0x80:
                            break
                    dims.append(v)
        elif wire == 5:
            pos += 4
        elif wire == 1:
            pos += 8
    return dims, raw, dtype


@pytest.mark.skipif(not os.path.exists(ROPE_CLI), reason="the rope CLI is not built")
@pytest.mark.parametrize("name", sorted(CONFIGS))
@pytest.mark.parametrize("dtype,layout,coeff", [("float32", "half", 2), ("float16", "full", 2),
                                                ("bfloat16", "full", 4)])
def test_bitwise_as_the_c_library(name, dtype, layout, coeff, tmp_path):
    need("numpy", dtype)
    c = CONFIGS[name]
    start, end = 100, 300
    cos, sin = librope.cos_sin(c, start, end, dtype=dtype, layout=layout, rotary_coeff=coeff)
    cli_dtype = {"float32": "f32", "float16": "f16", "bfloat16": "bf16"}[dtype]
    cmd = [ROPE_CLI, "cache", *cli_scaling(c), "--positions", f"{start}:{end}", "--dtype", cli_dtype,
           "--layout", "halves" if layout == "half" else f"coeff{coeff}", "-o", str(tmp_path)]
    emulator = os.environ.get("ROPE_EMULATOR", "").split()
    subprocess.run(emulator + cmd, check=True, capture_output=True)
    for got, fname in ((cos, "cos.pb"), (sin, "sin.pb")):
        dims, raw, _ = _read_tensor_proto(tmp_path / fname)
        assert list(got.shape) == dims
        assert np.asarray(got).tobytes() == raw, f"{name} {fname} differs from the C library's"


@pytest.mark.parametrize("framework,dtype", [("torch", "float32"), ("torch", "bfloat16"), ("numpy", "float16"),
                                             ("numpy", "bfloat16")])
def test_dtypes_frameworks_and_files(framework, dtype, tmp_path):
    need(framework, dtype)
    c = CONFIGS["llama3"]
    path = tmp_path / "config.json"
    path.write_text(json.dumps(c))
    cos, sin = librope.cos_sin(str(path), 0, 50, dtype=dtype, layout="full", rotary_coeff=128, framework=framework)
    ref_c, ref_s = librope.cos_sin(c, 0, 50, layout="full", rotary_coeff=128)
    assert tuple(cos.shape) == (50, 128)
    # the same values, rounded once from float64: within half an ulp of the output dtype of float32's
    rel = {"float32": 2.0 ** -23, "float16": 2.0 ** -10, "bfloat16": 2.0 ** -7}[dtype]
    assert np.allclose(f64(cos), f64(ref_c), rtol=rel, atol=2.0 ** -24)
    assert np.allclose(f64(sin), f64(ref_s), rtol=rel, atol=2.0 ** -24)
    # full layout, rotary_coeff = d: each pair's value in both of its elements, adjacent
    assert np.array_equal(f64(cos)[:, 0::2], f64(cos)[:, 1::2])


def test_bad_configs():
    with pytest.raises(ValueError, match="rope_scaling rope_type 'su' is not one librope knows"):
        librope.cos_sin({**CONFIGS["default"], "rope_scaling": {"type": "su"}}, 0, 4)
    with pytest.raises(librope.RopeError) as e:
        librope.cos_sin({**CONFIGS["default"], "rope_theta": 0.5}, 0, 4)
    assert e.value.status == "ROPE_ERROR_ATTRIBUTE" and "base" in str(e.value)
    with pytest.raises(librope.RopeError) as e:
        librope.cos_sin(CONFIGS["default"], -1, 4)
    assert e.value.status == "ROPE_ERROR_INDEX"
    with pytest.raises(ValueError, match="layout"):
        librope.cos_sin(CONFIGS["default"], 0, 4, layout="diag")
