# SPDX-License-Identifier: MIT
"""The READMEs' Python examples run as written (the top-level one's results are checked in
test_atb.py's fused-QKV and test_autograd.py's training-step tests; python/README.md's compares its
compiled and exported results with eager calls itself)."""
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


@pytest.mark.filterwarnings("ignore:.*torch.jit.*:DeprecationWarning")  # torch.export's imports warn
def test_python_readme_compile_example():
    """python/README.md's torch.compile / torch.export example runs as written (its asserts compare the
    compiled and exported results with eager calls bit for bit)."""
    pytest.importorskip("torch")
    path = os.path.join(os.path.dirname(__file__), "..", "README.md")
    text = open(path, encoding="utf-8").read()
    m = re.search(r"<!-- python-compile-example -->\s*```python\n(.*?)```", text, re.S)
    assert m, "python/README.md has no python-compile-example block"
    scope = {}
    exec(compile(m.group(1), "python/README.md", "exec"), scope)
    assert scope["program"] is not None
