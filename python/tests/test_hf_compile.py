# SPDX-License-Identifier: MIT
"""librope inside a compiled transformers model: torch.compile(model) over the tiny families of
families.py with librope put in by the drop-in (either transformers generation) or by kernelize's
torch.compile modes (transformers 5 with `kernels`). The compiled graphs must hold librope's custom ops
(forward, and the backward ops in a training step's backward graph), with no graph break (fullgraph=True
wherever transformers' own code allows it; elsewhere no break inside apply_rotary_pos_emb). With an
AOTAutograd backend that runs the traced graphs as they are (aot_eager: the rest of the model is left to
eager kernels) the logits and every parameter's gradient must be bitwise those of the eager model with
librope (which are the stock ones: test_hf_models.py); with inductor, within a stated bound. Each compile
takes seconds, so the cases are few and chosen: full rotation, QK-norm, a data-dependent rotary embedding,
partial rotation."""
import logging
import warnings

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from families import modeling  # noqa: E402
from hf_support import build, decorated, librope_transformers, prompt  # noqa: E402

lt = librope_transformers()
# AOTAutograd's and inductor's imports touch torch.jit, which warns of its own deprecation
pytestmark = pytest.mark.filterwarnings("ignore:.*torch.jit.*:DeprecationWarning")
LIBROPE_OPS = ("librope.rope_atb.default", "librope.rotary_embedding_onnx.default")
LIBROPE_BACKWARD_OPS = ("librope.rope_atb_backward.default", "librope.rotary_embedding_onnx_backward.default")


class Recorded:
    """An AOTAutograd backend (aot_eager with a record): the forward and backward graphs' call targets
    are kept, and the graphs run as traced."""

    def __init__(self):
        from functorch.compile import make_boxed_func
        from torch._dynamo.backends.common import aot_autograd
        self.forward, self.backward = [], []

        def recorder(into):
            def compiler(gm, example_inputs):
                into.extend(str(n.target) for n in gm.graph.nodes if n.op == "call_function")
                return make_boxed_func(gm.forward)
            return compiler

        self.backend = aot_autograd(fw_compiler=recorder(self.forward), bw_compiler=recorder(self.backward))

    def librope_calls(self, which):
        """How many times the graph calls a librope forward op ('forward') or backward op ('backward')."""
        graph, names = (self.forward, LIBROPE_OPS) if which == "forward" else (self.backward, LIBROPE_BACKWARD_OPS)
        return sum(target in names for target in graph)


class CountingCore:
    """librope's C extension as the custom ops' kernels see it, counting each kernel's calls: shows
    that compiled code ran librope (a fake implementation or a traced formula would not call it)."""

    def __init__(self, monkeypatch):
        import librope._torch_ops as ops
        self._core, self.calls = ops._core, {}
        monkeypatch.setattr(ops, "_core", self)

    def __getattr__(self, name):
        function = getattr(self._core, name)

        def counted(*args):
            self.calls[name] = self.calls.get(name, 0) + 1
            return function(*args)
        return counted


def expected_op_calls(model, name):
    """Calls of librope's ops per compiled forward: one rope_atb per layer (q and k in one pass; partial
    rotation too: under the compiler librope.transformers takes no path that needs a check on values)."""
    return model.config.num_hidden_layers


def put_librope(model, name, how, mode, monkeypatch):
    """librope into the model: the drop-in (the family's apply_rotary_pos_emb replaced) or kernelize in
    the torch.compile mode `mode` ("inference" or "training")."""
    if how == "drop-in":
        monkeypatch.setattr(modeling(name), "apply_rotary_pos_emb", lt.apply_rotary_pos_emb)
        return model
    kernels = pytest.importorskip("kernels", reason="kernelize needs the `kernels` package (transformers 5)")
    if not decorated(name):
        pytest.skip(f"transformers {transformers.__version__} does not decorate {name}'s apply_rotary_pos_emb")
    logging.getLogger("kernels").setLevel(logging.ERROR)  # it warns for every layer the mapping leaves
    base = kernels.Mode.TRAINING if mode == "training" else kernels.Mode.INFERENCE
    with kernels.use_kernel_mapping(lt.kernel_mapping()):
        return kernels.kernelize(model, mode=base | kernels.Mode.TORCH_COMPILE, device="cpu")


def training_step(model, ids):
    """The logits and every parameter's gradient of one training step (model may be compiled)."""
    params = getattr(model, "_orig_mod", model).named_parameters()  # a compiled model's names: its module's
    for p in model.parameters():
        p.grad = None
    out = model(input_ids=ids, labels=ids)
    out.loss.backward()
    return out.logits.detach(), {n: p.grad.clone() for n, p in params if p.grad is not None}


def inference_step(model, ids):
    """The logits of a forward without grad, and no gradients."""
    with torch.no_grad():
        return model(input_ids=ids).logits, {}


def compiled(model, backend, fullgraph):
    torch._dynamo.reset()
    with warnings.catch_warnings():  # transformers' and dynamo's notes on what they trace
        warnings.simplefilter("ignore")
        return torch.compile(model, backend=backend, fullgraph=fullgraph)


# drop-in cases run under either transformers; kernelize cases where transformers 5 and kernels are
CASES = [
    ("llama3", "drop-in", "inference"),
    ("gpt_neox_partial", "drop-in", "inference"),
    ("qwen3", "drop-in", "training"),
    ("llama3", "kernelize", "inference"),
    ("gemma3", "kernelize", "training"),
]


@pytest.mark.parametrize("name,how,mode", CASES, ids=["-".join(c) for c in CASES])
def test_compiled_model_bitwise_with_librope_in_the_graph(name, how, mode, monkeypatch):
    """The stock eager model, the eager model with librope, and that model compiled: the same logits
    (and, training, the same gradients of every parameter) bit for bit, librope's ops in the graphs."""
    model, ids = build(name), prompt()
    if mode == "training":
        model.train()
    step = training_step if mode == "training" else inference_step
    stock = step(model, ids)
    model = put_librope(model, name, how, mode, monkeypatch)
    recorded = Recorded()
    fast = compiled(model, recorded.backend, fullgraph=True)  # no graph break anywhere
    for what, got in (("eager with librope", step(model, ids)), ("compiled", step(fast, ids))):
        assert torch.equal(got[0], stock[0]), f"{what}: logits differ by {(got[0] - stock[0]).abs().max():.3g}"
        assert got[1].keys() == stock[1].keys() and (len(got[1]) > 5 or mode == "inference")
        for n in stock[1]:
            difference = (got[1][n] - stock[1][n]).abs().max()
            assert torch.equal(got[1][n], stock[1][n]), f"{what}: {n} differs by {difference:.3g}"
    assert recorded.librope_calls("forward") == expected_op_calls(model, name), recorded.forward
    if mode == "training":
        assert recorded.librope_calls("backward") == expected_op_calls(model, name), recorded.backward


def test_data_dependent_rotary_embedding_breaks_outside_librope(monkeypatch):
    """Qwen2's dynamic NTK rotary embedding compares the sequence length with its cache on values (a
    data-dependent branch transformers writes), so fullgraph=True cannot hold; the graph breaks there,
    never inside apply_rotary_pos_emb, whose every call is in a compiled graph."""
    name = "qwen2_dynamic"
    model, ids = build(name), prompt()
    put_librope(model, name, "drop-in", "inference", monkeypatch)
    torch._dynamo.reset()
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        explained = torch._dynamo.explain(model)(input_ids=ids)
        want = model(input_ids=ids).logits
    assert explained.graph_break_count >= 1  # else this test shows nothing: fullgraph would hold
    for reason in explained.break_reasons:
        frames = [(f.filename, f.name) for f in reason.user_stack]
        assert not any(fn.endswith("librope/transformers.py") or func == "apply_rotary_pos_emb"
                       for fn, func in frames), (reason.reason, frames)
    targets = [str(n.target) for g in explained.graphs for n in g.graph.nodes if n.op == "call_function"]
    assert sum(t in LIBROPE_OPS for t in targets) == model.config.num_hidden_layers, targets
    recorded = Recorded()
    with torch.no_grad():
        got = compiled(model, recorded.backend, fullgraph=False)(input_ids=ids).logits
    assert torch.equal(got, want)


def test_inductor_logits_within_bound(monkeypatch):
    """With inductor the rest of the model is compiled too: inductor fuses and reorders the float32
    reductions around RoPE (RMSNorm's mean of 64 squares, softmax's sums), and librope's op, opaque to
    it, runs its own bitwise kernel. The compiled logits may then move from the eager ones by a few
    float32 ulps per reordered reduction; the bound is 32 ulps of the largest logit (the stock model
    under inductor measured 2.3e-7 of it here, as did librope's). librope must be in the graph."""
    from torch._inductor.compile_fx import compile_fx
    name = "llama3"
    model, ids = build(name), prompt()
    put_librope(model, name, "drop-in", "inference", monkeypatch)
    targets = []

    def backend(gm, example_inputs):
        targets.extend(str(n.target) for n in gm.graph.nodes if n.op == "call_function")
        return compile_fx(gm, example_inputs)

    with torch.no_grad():
        want = model(input_ids=ids).logits
        fast = compiled(model, backend, fullgraph=True)
        fast(input_ids=ids)  # compiles
        core = CountingCore(monkeypatch)
        got = fast(input_ids=ids).logits
    assert sum(t in LIBROPE_OPS for t in targets) == model.config.num_hidden_layers, targets
    assert core.calls["atb"] == model.config.num_hidden_layers, "the compiled code did not run librope's kernel"
    scale = want.abs().max().item()
    assert (got - want).abs().max().item() <= 32 * scale * 2.0 ** -23
