# SPDX-License-Identifier: MIT
"""Shared helpers: tensors of every framework and dtype made from float64 data, the tolerance of each
output dtype against the float64 references, and a seeded random source."""
import os
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(__file__))

import librope  # noqa: E402

KINDS = [("torch", "float32"), ("torch", "float16"), ("torch", "bfloat16"),
         ("numpy", "float32"), ("numpy", "float16"), ("numpy", "bfloat16")]

# The library computes in float32 (products rounded) and rounds once to the output dtype: at most half
# an ulp of the output type plus a few float32 ulps of the terms (inputs and cos/sin within [-2, 2]).
_REL = {"float32": 2.0 ** -24, "float16": 2.0 ** -11, "bfloat16": 2.0 ** -8}


def need(framework, dtype="float32"):
    """Skips (visibly) when the framework or ml_dtypes is not installed."""
    if framework == "torch":
        pytest.importorskip("torch")
    if framework == "numpy" and dtype == "bfloat16":
        pytest.importorskip("ml_dtypes")


def make(framework, dtype, data):
    """The float64 array `data` rounded to `dtype` in `framework` (a fresh dense tensor)."""
    data = np.asarray(data, dtype=np.float64)
    if framework == "torch":
        import torch
        return torch.from_numpy(data).to(getattr(torch, dtype)).contiguous()
    if dtype == "bfloat16":
        import ml_dtypes
        return data.astype(ml_dtypes.bfloat16)
    return data.astype(np.dtype(dtype))


def make_int(framework, data, dtype="int64"):
    data = np.asarray(data).astype(dtype)
    if framework == "torch":
        import torch
        return torch.from_numpy(data.copy())
    return data


def kind_of(t):
    return "torch" if type(t).__module__.startswith("torch") else "numpy"


def assert_close(got, ref, dtype, what=""):
    from reference import f64
    g = f64(got)
    assert g.shape == ref.shape, f"{what}: shape {g.shape}, expected {ref.shape}"
    tol = _REL[dtype] * np.maximum(np.abs(ref), 1.0) * 1.01 + 8 * 2.0 ** -24 * 4
    bad = np.abs(g - ref) > tol
    assert not bad.any(), (f"{what}: {bad.sum()} of {bad.size} values off; worst {np.abs(g - ref).max():.3g} "
                           f"(dtype {dtype})")


@pytest.fixture
def rng(request):
    # one seed per test, from its name: reproducible and different between tests
    return np.random.default_rng(abs(hash(request.node.name)) % (2 ** 32))


def uniform(rng, shape, lo=-1.0, hi=1.0):
    a = rng.uniform(lo, hi, size=shape)
    a[a == 0] = 0.5  # never an exact zero
    return a


def angles_cache(rng, rows, half):
    """A cos/sin pair of a real rotation (cos^2 + sin^2 = 1) at random angles."""
    ang = rng.uniform(-np.pi, np.pi, size=(rows, half))
    return np.cos(ang), np.sin(ang)
