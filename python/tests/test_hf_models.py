# SPDX-License-Identifier: MIT
"""librope.transformers.apply_rotary_pos_emb as a drop-in inside real transformers models: for each of
the ten families of families.py, the tiny random-weight model run as shipped and with the family's
apply_rotary_pos_emb replaced by librope's. float32 logits must be bitwise equal (the prefill at every
position, then each greedy decoding step through the KV cache), librope's operator must have run on
every call, bfloat16 logits must agree as closely as bfloat16 allows, and training gets gradients."""
import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from families import FAMILIES, modeling  # noqa: E402
from hf_support import (Counted, build, count_librope_ops, librope_transformers, prompt,  # noqa: E402
                        rope_calls_per_run, run)

lt = librope_transformers()


def drop_in(monkeypatch, name):
    counted = Counted(lt.apply_rotary_pos_emb)
    monkeypatch.setattr(modeling(name), "apply_rotary_pos_emb", counted)
    return counted


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_float32_logits_bitwise(name, monkeypatch):
    model, ids = build(name), prompt()
    stock = run(model, ids)
    ops = count_librope_ops(monkeypatch)
    counted = drop_in(monkeypatch, name)
    mine = run(model, ids)
    assert counted.calls == rope_calls_per_run(model), "the drop-in was not called on every layer and step"
    # every call reached a librope operator (rope_atb rotates q and k in one call, the ONNX path in two)
    assert ops["rope_atb"].calls + ops["rotary_embedding_onnx"].calls // 2 == counted.calls, \
        {k: v.calls for k, v in ops.items()}
    assert torch.equal(stock[0], mine[0]), f"prefill logits differ by {(stock[0] - mine[0]).abs().max():.3g}"
    assert len(stock[1]) == len(mine[1]) > 1
    for step, (a, b) in enumerate(zip(stock[1], mine[1])):
        assert torch.equal(a, b), f"decoding step {step}: logits differ by {(a - b).abs().max():.3g}"
    assert torch.equal(stock[2], mine[2])


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_bfloat16_logits_close(name, monkeypatch):
    """bfloat16: the stock formula rounds each product and the sum to bfloat16, librope rounds once,
    so the logits differ by bfloat16 rounding; both must stay as close to the float32 model's logits
    as bfloat16 allows, and librope's no farther than the stock formula's plus a few bfloat16 ulps."""
    ids = prompt()
    with torch.no_grad():
        ref = build(name)(ids).logits.double()
        model = build(name, torch.bfloat16)
        stock = model(ids).logits.double()
        counted = drop_in(monkeypatch, name)
        mine = model(ids).logits.double()
    assert counted.calls == model.config.num_hidden_layers
    scale = ref.abs().max().item()
    ulp = scale * 2.0 ** -8
    stock_err, mine_err = (stock - ref).abs().max().item(), (mine - ref).abs().max().item()
    assert mine_err <= 8 * ulp, f"bfloat16 logits off float32 by {mine_err:.3g} (max |logit| {scale:.3g})"
    assert mine_err <= stock_err + 2 * ulp, f"librope {mine_err:.3g}, stock {stock_err:.3g}"
    assert (mine - stock).abs().max().item() <= 8 * ulp


def training_step(model, ids):
    """One training step's logits and every parameter's gradient."""
    model.zero_grad()
    out = model(input_ids=ids, labels=ids)
    out.loss.backward()
    return out.logits.detach(), {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}


@pytest.mark.parametrize("attn", ["eager", "sdpa"])
@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_training_step_bitwise(name, attn, monkeypatch):
    """Training mode (dropout off, grad on): the loss's logits and every parameter's gradient bitwise
    the stock model's. Bitwise gradients need more than exact values: q's and k's gradients must leave
    the rotation in the stock layout (contiguous in q's shape), because a QK-norm before it (Qwen3,
    Gemma 3) sums its weight's gradient in memory order; in token-major order they differed by up to
    2.2e-7 relative. Eager attention hands the rotation a head-major gradient, SDPA a token-major one:
    both are run."""
    model, ids = build(name, attn=attn).train(), prompt()
    assert model.config._attn_implementation == attn
    stock_logits, stock_grads = training_step(model, ids)
    counted = drop_in(monkeypatch, name)
    ops = count_librope_ops(monkeypatch)
    logits, grads = training_step(model, ids)
    assert counted.calls == model.config.num_hidden_layers
    assert ops["rope_atb"].calls + ops["rotary_embedding_onnx"].calls // 2 == counted.calls
    assert torch.equal(stock_logits, logits)
    assert stock_grads.keys() == grads.keys() and len(grads) > 5
    for n in grads:
        assert grads[n].abs().max().item() > 0, n
        assert torch.equal(grads[n], stock_grads[n]), \
            f"{n}: differs by {(grads[n] - stock_grads[n]).abs().max().item():.3g} (max {stock_grads[n].abs().max():.3g})"
