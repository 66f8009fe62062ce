# SPDX-License-Identifier: MIT
"""The config reader handed garbage (issue 12: the Python package's config reader among the fuzzed
parsers): valid Hugging Face configs of every scaling type, mutated at random (keys dropped, values
replaced by other types, negative, zero, huge, NaN, nested garbage), then read by librope.cos_sin. Each
call must return finite tables of the documented shape or raise ValueError / TypeError (RopeError is a
ValueError); nothing else, never a crash. ROPE_PY_FUZZ_ITERS sets the number of cases (default 3000);
scripts/fuzz.sh runs it longer."""
import math
import os
import random

import pytest

import librope

np = pytest.importorskip("numpy")

BASES = [
    {"hidden_size": 4096, "num_attention_heads": 32, "rope_theta": 500000.0, "max_position_embeddings": 131072,
     "rope_scaling": {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                      "original_max_position_embeddings": 8192}},
    {"head_dim": 64, "hidden_size": 2048, "num_attention_heads": 16, "rope_theta": 10000.0,
     "partial_rotary_factor": 0.5, "max_position_embeddings": 4096,
     "rope_scaling": {"type": "yarn", "factor": 4.0, "original_max_position_embeddings": 1024, "beta_fast": 32,
                      "beta_slow": 1, "mscale": 1.0, "mscale_all_dim": 0.5}},
    {"hidden_size": 3072, "num_attention_heads": 32, "max_position_embeddings": 131072,
     "original_max_position_embeddings": 4096,
     "rope_scaling": {"type": "longrope", "short_factor": [1.0] * 48, "long_factor": [2.0] * 48}},
    {"hidden_size": 512, "num_attention_heads": 8, "rope_theta": 10000.0, "max_position_embeddings": 2048,
     "rope_scaling": {"type": "dynamic", "factor": 2.0}},
    {"hidden_size": 512, "num_attention_heads": 8, "rope_scaling": {"type": "linear", "factor": 2.0}},
    {"hidden_size": 512, "num_attention_heads": 8},
]

GARBAGE = [None, 0, -1, 1, 3, 2**40, -(2**63), 1e308, -0.0, float("nan"), float("inf"), "", "x", "12", [],
           [1.0], [float("nan")] * 32, {}, {"type": "yarn"}, True, 0.5]


def mutate(rng, value, depth=0):
    if isinstance(value, dict) and value and depth < 3:
        out = dict(value)
        for _ in range(rng.randint(1, 3)):
            key = rng.choice(list(out))
            action = rng.random()
            if action < 0.25:
                del out[key]
                if not out:
                    break
            elif action < 0.6:
                out[key] = rng.choice(GARBAGE)
            else:
                out[key] = mutate(rng, out[key], depth + 1)
        return out
    if isinstance(value, list) and value:
        out = list(value)
        i = rng.randrange(len(out))
        out[i] = rng.choice(GARBAGE)
        if rng.random() < 0.3:
            del out[rng.randrange(len(out))]
        return out
    if isinstance(value, (int, float)) and rng.random() < 0.5:
        return value * rng.choice([-1, 0, 0.5, 2, 1e6])
    return rng.choice(GARBAGE)


def test_config_reader_under_mutation():
    rng = random.Random(0xC0F16)
    iters = int(os.environ.get("ROPE_PY_FUZZ_ITERS", "3000"))
    returned = refused = 0
    for it in range(iters):
        config = mutate(rng, rng.choice(BASES))
        layout = rng.choice(["half", "full"])
        coeff = rng.choice([2, 4])
        try:
            cos, sin = librope.cos_sin(config, 0, 4, layout=layout, rotary_coeff=coeff)
        except (ValueError, TypeError):
            refused += 1
            continue
        except Exception as e:  # pragma: no cover - a finding
            pytest.fail(f"case {it}: {type(e).__name__}: {e} for {config!r}")
        returned += 1
        assert cos.shape == sin.shape and cos.shape[0] == 4, f"case {it}: shape {cos.shape}"
        assert np.all(np.isfinite(cos)) and np.all(np.isfinite(sin)), f"case {it}: non-finite values"
        assert all(math.isfinite(float(v)) for v in cos[0]), f"case {it}"
    assert returned > iters // 20 and refused > iters // 20, (returned, refused)
