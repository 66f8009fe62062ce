# SPDX-License-Identifier: MIT
"""Shared by the real-client tests of librope.transformers (test_hf_models.py, test_hf_kernels.py): the
tiny models of families.py built and run, and counters that show which librope operator ran."""
import importlib

import torch
import transformers

import librope
from families import make_config, modeling

PROMPT_BATCH, PROMPT_LEN, NEW_TOKENS = 2, 20, 3


def build(name, dtype=torch.float32, attn="eager"):
    """Family `name`'s tiny model, random weights from a fixed seed, in eval mode, with the attention
    implementation `attn` ("eager" or "sdpa")."""
    torch.manual_seed(1234)
    config = make_config(name)
    config._attn_implementation = attn
    model = transformers.AutoModelForCausalLM.from_config(config)
    return model.to(dtype).eval()


def prompt():
    g = torch.Generator().manual_seed(99)
    return torch.randint(3, 128, (PROMPT_BATCH, PROMPT_LEN), generator=g)


def run(model, ids):
    """The prefill's logits at every position, then greedy decoding with the KV cache: each step's
    logits and the generated tokens."""
    mask = torch.ones_like(ids)
    with torch.no_grad():
        prefill = model(input_ids=ids, attention_mask=mask).logits
        out = model.generate(input_ids=ids, attention_mask=mask, max_new_tokens=NEW_TOKENS, min_new_tokens=NEW_TOKENS,
                             do_sample=False, output_logits=True, return_dict_in_generate=True, pad_token_id=0)
    return prefill, list(out.logits), out.sequences


def rope_calls_per_run(model):
    """How many times a run() calls apply_rotary_pos_emb: once per layer per forward (the prefill, the
    generate's prefill and one per decoded token after the first)."""
    return model.config.num_hidden_layers * (1 + NEW_TOKENS)


def decorated(name):
    """True when this transformers routes family `name`'s apply_rotary_pos_emb through the `kernels`
    library (transformers 5 with kernels installed decorates it for "rotary_pos_emb")."""
    fn = modeling(name).apply_rotary_pos_emb
    return getattr(type(fn), "kernel_layer_name", getattr(fn, "kernel_layer_name", None)) == "rotary_pos_emb"


class Counted:
    """A function wrapped so that its calls are counted."""

    def __init__(self, fn):
        self.fn, self.calls = fn, 0

    def __call__(self, *args, **kwargs):
        self.calls += 1
        return self.fn(*args, **kwargs)


def count_librope_ops(monkeypatch):
    """Counters on the two operators librope.transformers calls (looked up on the package at each call)."""
    counters = {}
    for op in ("rope_atb", "rotary_embedding_onnx"):
        counters[op] = Counted(getattr(librope, op))
        monkeypatch.setattr(librope, op, counters[op])
    return counters


def librope_transformers():
    return importlib.import_module("librope.transformers")
