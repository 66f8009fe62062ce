# SPDX-License-Identifier: MIT
"""librope.transformers.kernel_mapping() with the `kernels` library's kernelize, on the ten tiny
families of families.py: where transformers routes apply_rotary_pos_emb through kernels (transformers 5
decorates it for "rotary_pos_emb" in most families), the kernelized model must call librope on every
layer and step and give bitwise the stock float32 logits; where it does not (families transformers
leaves undecorated), the test shows that librope did not run (the drop-in of test_hf_models.py serves
those). Nothing is downloaded: the mapping's repository loads librope's own layer."""
import logging

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
try:
    import kernels
except ImportError:
    major = int(transformers.__version__.split(".")[0])
    if major < 5:
        pytest.skip(f"kernels is not installed: transformers {transformers.__version__} needs huggingface-hub<1.0, "
                    "kernels 0.19 needs huggingface-hub>=1.32, so they cannot be installed together (and "
                    "transformers 4.x routes no apply_rotary_pos_emb through kernels)", allow_module_level=True)
    pytest.skip("kernels is not installed (pip install kernels==0.19.1)", allow_module_level=True)

from kernels import Mode, kernelize, use_kernel_mapping  # noqa: E402

from families import FAMILIES  # noqa: E402
from hf_support import (Counted, build, count_librope_ops, decorated, librope_transformers, prompt,  # noqa: E402
                        rope_calls_per_run, run)

lt = librope_transformers()


@pytest.fixture(autouse=True)
def quiet_kernels():
    """kernelize warns for every decorated layer the mapping does not name (RMSNorm, SiLU, ...)."""
    logger = logging.getLogger("kernels")
    level = logger.level
    logger.setLevel(logging.ERROR)
    yield
    logger.setLevel(level)


def kernelized(model, mode):
    with use_kernel_mapping(lt.kernel_mapping()):
        return kernelize(model, mode=mode, device="cpu")


def counted_librope(monkeypatch):
    """Counts the calls of librope.transformers.apply_rotary_pos_emb, which the mapping's layer calls."""
    counted = Counted(lt.apply_rotary_pos_emb)
    monkeypatch.setattr(lt, "apply_rotary_pos_emb", counted)
    return counted


def test_mapping_names_every_mode():
    mapping = lt.kernel_mapping()
    assert list(mapping) == ["rotary_pos_emb"] and list(mapping["rotary_pos_emb"]) == ["cpu"]
    modes = mapping["rotary_pos_emb"]["cpu"]
    assert set(modes) == {Mode.INFERENCE, Mode.TRAINING, Mode.INFERENCE | Mode.TORCH_COMPILE,
                          Mode.TRAINING | Mode.TORCH_COMPILE}
    for repo in modes.values():
        layer = repo.load()
        assert issubclass(layer, torch.nn.Module) and layer.has_backward
        assert "librope" in str(repo)


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_kernelize_inference(name, monkeypatch):
    model, ids = build(name), prompt()
    stock = run(model, ids)
    kernelized(model, Mode.INFERENCE)
    counted = counted_librope(monkeypatch)
    ops = count_librope_ops(monkeypatch)
    mine = run(model, ids)
    if decorated(name):
        assert counted.calls == rope_calls_per_run(model), "kernelize did not put librope under every layer"
        assert ops["rope_atb"].calls + ops["rotary_embedding_onnx"].calls // 2 == counted.calls
    else:
        # transformers does not decorate this family's apply_rotary_pos_emb: kernelize cannot reach it
        assert counted.calls == 0 and ops["rope_atb"].calls == ops["rotary_embedding_onnx"].calls == 0
    assert torch.equal(stock[0], mine[0]), f"prefill logits differ by {(stock[0] - mine[0]).abs().max():.3g}"
    for step, (a, b) in enumerate(zip(stock[1], mine[1])):
        assert torch.equal(a, b), f"decoding step {step}: logits differ by {(a - b).abs().max():.3g}"
    assert torch.equal(stock[2], mine[2])


def test_which_families_kernelize_reaches():
    """The families this transformers decorates: the issue's core six include Phi-3 and GPT-NeoX, which
    transformers 5.25 leaves undecorated; at least the Llama lineage must be reached."""
    reached = {name for name in FAMILIES if decorated(name)}
    assert "llama3" in reached, f"transformers {transformers.__version__} decorates: {sorted(reached)}"


@pytest.mark.parametrize("name", ["llama3", "gemma3", "qwen3"])
def test_kernelize_training(name, monkeypatch):
    model, ids = build(name).train(), prompt()
    if not decorated(name):
        pytest.skip(f"transformers {transformers.__version__} does not decorate {name}'s apply_rotary_pos_emb")

    def step():
        model.zero_grad()
        out = model(input_ids=ids, labels=ids)
        out.loss.backward()
        return out.logits.detach(), {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}

    stock_logits, stock_grads = step()
    kernelized(model, Mode.TRAINING)
    counted = counted_librope(monkeypatch)
    logits, grads = step()
    assert counted.calls == model.config.num_hidden_layers
    assert torch.equal(stock_logits, logits)
    assert stock_grads.keys() == grads.keys()
    for n in grads:  # bitwise: the gradients leave librope in the stock layout (see test_hf_models.py)
        assert torch.equal(grads[n], stock_grads[n]), f"{n}: differs by {(grads[n] - stock_grads[n]).abs().max():.3g}"


@pytest.mark.parametrize("mode", ["inference", "training"])
def test_kernelize_torch_compile_mode(mode, monkeypatch):
    """In the torch.compile modes kernels uses a layer only if it declares that it compiles. librope's
    operators are torch.library custom ops, so apply_rotary_pos_emb traces with fullgraph=True and the
    layer must say so: librope then runs on every layer and step (run eagerly here; compiled models are
    test_hf_compile.py's), and the logits are the stock ones."""
    model, ids = build("llama3"), prompt()
    if not decorated("llama3"):
        pytest.skip(f"transformers {transformers.__version__} does not decorate llama's apply_rotary_pos_emb")
    assert lt._traces_whole(), "apply_rotary_pos_emb does not trace with torch.compile(fullgraph=True)"
    base = Mode.TRAINING if mode == "training" else Mode.INFERENCE
    stock = run(model, ids)
    kernelized(model, base | Mode.TORCH_COMPILE)
    counted = counted_librope(monkeypatch)
    ops = count_librope_ops(monkeypatch)
    mine = run(model, ids)
    assert counted.calls == rope_calls_per_run(model), "kernelize kept the model's own function"
    assert ops["rope_atb"].calls + ops["rotary_embedding_onnx"].calls // 2 == counted.calls
    assert torch.equal(stock[0], mine[0])
    for a, b in zip(stock[1], mine[1]):
        assert torch.equal(a, b)
