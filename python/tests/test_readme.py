# SPDX-License-Identifier: MIT
"""The README's Python example runs as written (its operators' results are checked in test_atb.py's
fused-QKV and test_autograd.py's training-step tests)."""
import os
import re

import pytest

README = os.path.join(os.path.dirname(__file__), "..", "..", "README.md")


def test_readme_example(capsys):
    torch = pytest.importorskip("torch")
    text = open(README, encoding="utf-8").read()
    m = re.search(r"<!-- python-example -->\s*```python\n(.*?)```", text, re.S)
    assert m, "README has no python-example block"
    scope = {}
    exec(compile(m.group(1), "README.md", "exec"), scope)
    assert "grad norm" in capsys.readouterr().out
    assert scope["qkv_proj"].weight.grad is not None and torch.isfinite(scope["loss"])
