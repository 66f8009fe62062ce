# SPDX-License-Identifier: MIT
"""Importing librope needs no torch and imports none; with torch, the ops torch.ops.librope.* exist
as soon as librope is imported after torch, or from the first call with a torch tensor. Each case
runs in a fresh interpreter (this one has long imported both)."""
import os
import subprocess
import sys
import textwrap

import pytest


def run(code):
    """Runs `code` in a fresh interpreter with this one's sys.path; returns its stdout."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=env, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_import_and_numpy_calls_without_torch():
    """torch made unimportable: librope imports and rotates NumPy arrays as ever."""
    out = run("""
        import sys
        sys.modules["torch"] = None  # import torch now raises ImportError
        import numpy as np
        import librope
        x = np.ones((1, 1, 2, 4), np.float32)
        cos, sin = np.zeros((1, 2, 2), np.float32), np.ones((1, 2, 2), np.float32)
        y = librope.rotary_embedding_onnx(x, cos, sin)
        print(type(y).__name__, y.ravel().tolist())
    """)
    # cos 0, sin 1: (x1, x2) -> (-x2, x1)
    assert out.split() == ["ndarray", "[-1.0,", "-1.0,", "1.0,", "1.0,", "-1.0,", "-1.0,", "1.0,", "1.0]"]


def test_import_does_not_import_torch():
    out = run("""
        import sys
        import librope
        print("torch" in sys.modules)
    """)
    assert out.split() == ["False"]


def test_ops_registered_when_torch_came_first():
    pytest.importorskip("torch")
    out = run("""
        import torch
        import librope
        print(hasattr(torch.ops.librope, "rope_atb"), hasattr(torch.ops.librope, "rotary_embedding_onnx_inplace"))
    """)
    assert out.split() == ["True", "True"]


def test_ops_registered_by_the_first_torch_call():
    """librope imported first: NumPy calls leave torch alone, the first torch call registers the ops,
    and a function compiled before any eager call traces (the registration runs inside Dynamo)."""
    pytest.importorskip("torch")
    out = run("""
        import numpy as np
        import librope
        import torch
        x = np.ones((1, 1, 2, 4), np.float32)
        librope.rotary_embedding_onnx(x, np.ones((1, 2, 2), np.float32), np.zeros((1, 2, 2), np.float32))
        print(hasattr(torch.ops.librope, "rope_atb"))
        f = torch.compile(lambda x, c, s: librope.rotary_embedding_onnx(x, c, s) * 2, fullgraph=True,
                          backend="aot_eager")
        xt = torch.ones(1, 1, 2, 4)
        y = f(xt, torch.ones(1, 2, 2), torch.zeros(1, 2, 2))
        print(hasattr(torch.ops.librope, "rope_atb"), torch.equal(y, 2 * xt))
    """)
    assert out.split() == ["False", "True", "True"]
