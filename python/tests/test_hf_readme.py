# SPDX-License-Identifier: MIT
"""The README's transformers examples run as written: the drop-in under any transformers, kernelize
where transformers decorates Llama's apply_rotary_pos_emb and `kernels` is installed; librope is
counted in each (their assertions check the logits)."""
import os
import re

import pytest

README = os.path.join(os.path.dirname(__file__), "..", "..", "README.md")


def block(name):
    text = open(README, encoding="utf-8").read()
    m = re.search(rf"<!-- {name} -->\s*```python\n(.*?)```", text, re.S)
    assert m, f"README has no {name} block"
    return compile(m.group(1), f"README.md ({name})", "exec")


def run_dropin_example(monkeypatch):
    """Runs the drop-in example (restoring Llama's function after it); its scope and the counter of
    librope.transformers.apply_rotary_pos_emb's calls."""
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    from transformers.models.llama import modeling_llama
    import librope.transformers as lt
    from hf_support import Counted

    shipped = modeling_llama.apply_rotary_pos_emb
    counted = Counted(lt.apply_rotary_pos_emb)
    monkeypatch.setattr(lt, "apply_rotary_pos_emb", counted)
    scope = {}
    try:
        exec(block("python-transformers-dropin"), scope)
    finally:
        modeling_llama.apply_rotary_pos_emb = shipped  # the example replaces it for good
    return scope, counted


def test_readme_dropin_example(monkeypatch):
    scope, counted = run_dropin_example(monkeypatch)
    # the example assigned the function it found on librope.transformers: the counted one
    assert counted.calls == scope["config"].num_hidden_layers


def test_readme_kernelize_example(monkeypatch):
    pytest.importorskip("transformers")
    try:
        import kernels  # noqa: F401
    except ImportError:
        pytest.skip("kernels is not installed: the README's kernelize example needs it (and transformers 5)")
    from hf_support import decorated
    if not decorated("llama3"):
        pytest.skip("this transformers does not route Llama's apply_rotary_pos_emb through kernels")
    scope, counted = run_dropin_example(monkeypatch)
    counted.calls = 0
    exec(block("python-transformers-kernelize"), scope)
    assert counted.calls == scope["config"].num_hidden_layers
