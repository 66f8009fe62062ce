# SPDX-License-Identifier: MIT
"""librope's Python benchmark (not a test): prefill against Hugging Face style PyTorch, eager and
torch.compile'd, and the per-call overhead of a decode step from Python over the C call.

    PYTHONPATH=build/python python3 python/bench.py [--threads N] [--repeat R] [--no-compile]
    PYTHONPATH=build/python python3 python/bench.py --model-only [--model-repeat R]   # the model row

Prefill: q [1, 32, 2048, 128] (f32, bf16) rotated by position: HF's `q * cos + rotate_half(q) * sin`
with cos/sin [1, 1, 2048, 128] (eager, and compiled by inductor), against librope's ONNX operator with
its [2048, 64] cos/sin caches and position_ids, writing a new tensor (as HF does) and in place. Both
sides use the same thread count. Times are medians of R runs, A and B runs interleaved; q.clone()
and out.copy_(q) give memcpy of the same bytes (a new tensor pays for fresh pages: so does any
operator that returns one).
Decode: one token, query [1, 32*128], key [1, 8*128], f16, cos/sin [1, 128], ATB rotary_coeff 2, in
place: librope.rope_atb from Python versus the same rope_atb C call timed in a C loop, and the op
torch.ops.librope.rope_atb_inplace called through torch's dispatcher (what a compiled graph runs;
librope.rope_atb's eager calls skip it).
Model (--model, --model-only; minutes): one transformers LlamaDecoderLayer shaped as Llama 3.2 1B's
(hidden 2048, 32 query heads and 8 key/value heads of 64, MLP 8192, sdpa attention), a 2048-token
prefill, float32 and bfloat16, 1 and 2 threads (torch's and librope's): as shipped against librope
under it (kernelize with librope.transformers.kernel_mapping() where transformers decorates
apply_rotary_pos_emb and `kernels` is installed, else the drop-in), and the time spent inside
apply_rotary_pos_emb during each layer call (its share of the layer's time), and
apply_rotary_pos_emb alone on the layer's q and k (6R+1 interleaved runs).
New outputs (--new-output-only: these rows alone): the prefill q's new output against q.clone()
and its parts (the allocation and first touch, the kernel into an existing tensor, a copy into one,
and the call with the pages left to fault inside the kernel, as before the binding mapped them),
as medians of wall and CPU time (the process's, every thread's: on a shared machine the wall time
also holds the waits for a core) and page faults per call, with the load average.
QK-norm + RoPE (--prologue-only: these rows alone): Qwen3-8B's shape, bf16, prefill 2048 and decode
64 / 256 tokens: librope.fused_qk_norm_rope against torch doing transformers' Qwen3 steps, eager and
compiled.
"""
import argparse
import os
import resource
import statistics
import sys
import time

# python/ (this script's folder) holds the package's sources without the built extension: import the
# built or installed librope instead
sys.path = [p for p in sys.path if os.path.abspath(p or ".") != os.path.dirname(os.path.abspath(__file__))]

import torch  # noqa: E402

import librope  # noqa: E402
from librope import _core  # noqa: E402


def rotate_half(x):
    x1, x2 = x[..., : x.shape[-1] // 2], x[..., x.shape[-1] // 2:]
    return torch.cat((-x2, x1), dim=-1)


def hf_rope(q, cos, sin):
    return q * cos + rotate_half(q) * sin


def median_time(fns, repeat):
    """Runs each function `repeat` times, interleaved; the median seconds of each."""
    times = [[] for _ in fns]
    for _ in range(repeat):
        for i, fn in enumerate(fns):
            t0 = time.perf_counter()
            fn()
            times[i].append(time.perf_counter() - t0)
    return [statistics.median(t) for t in times]


def prefill(dtype, repeat, compile_):
    b, h, s, d = 1, 32, 2048, 128
    q = torch.randn(b, h, s, d).to(dtype)
    cos_half, sin_half = librope.cos_sin({"rope_theta": 10000.0, "head_dim": d, "hidden_size": h * d,
                                          "num_attention_heads": h}, 0, s, framework="torch",
                                         dtype=str(dtype).split(".")[1])
    cos = torch.cat((cos_half, cos_half), -1)[None, None]
    sin = torch.cat((sin_half, sin_half), -1)[None, None]
    ids = torch.arange(s)[None]
    out = torch.empty_like(q)
    qi = q.clone()
    fns = {
        "torch eager (HF)": lambda: hf_rope(q, cos, sin),
        "librope, new output": lambda: librope.rotary_embedding_onnx(q, cos_half, sin_half, ids),
        "librope, out=": lambda: librope.rotary_embedding_onnx(q, cos_half, sin_half, ids, out=out),
        "librope, in place": lambda: librope.rotary_embedding_onnx(qi, cos_half, sin_half, ids, out=qi),
        # memcpy of the same bytes in the same run: into a new tensor (fresh pages, as a new output
        # gets them) and into an existing one
        "memcpy: q.clone()": lambda: q.clone(),
        "memcpy: out.copy_(q)": lambda: out.copy_(q),
    }
    # the results agree (HF's formula in the tensor dtype rounds each op; librope rounds once)
    err = (hf_rope(q.float(), cos.float(), sin.float()) - librope.rotary_embedding_onnx(q, cos_half, sin_half, ids)
           .float()).abs().max().item()
    if compile_:
        compiled = torch.compile(hf_rope)
        for _ in range(3):
            compiled(q, cos, sin)  # compile and warm up
        fns["torch.compile (inductor)"] = lambda: compiled(q, cos, sin)
    for fn in fns.values():
        fn()
    names = list(fns)
    secs = dict(zip(names, median_time([fns[n] for n in names], repeat)))
    return secs, err, q.numel() * q.element_size()


def new_output(dtype, repeat):
    """Medians of wall seconds, CPU seconds and page faults per call of a new output's rows, timed
    interleaved."""
    b, h, s, d = 1, 32, 2048, 128
    q = torch.randn(b, h, s, d).to(dtype)
    name = str(dtype).split(".")[1]
    cos, sin = librope.cos_sin({"rope_theta": 10000.0, "head_dim": d, "hidden_size": h * d,
                                "num_attention_heads": h}, 0, s, framework="torch", dtype=name)
    ids = torch.arange(s)[None]
    out = torch.zeros_like(q)

    def faulting():  # the call as it was: the kernel's first stores fault every page in
        y = torch.empty(q.shape, dtype=q.dtype)
        _core.onnx(q, cos, sin, ids, y, 0, 0, 0, False, False)
        return y

    fns = {
        "q.clone()": lambda: q.clone(),
        "librope, new output": lambda: librope.rotary_embedding_onnx(q, cos, sin, ids),
        "librope, new output, pages faulted by the kernel": faulting,
        "torch.empty + zero_ (allocation, first touch)": lambda: torch.empty(q.shape, dtype=q.dtype).zero_(),
        "librope, out= an existing tensor (the kernel)": lambda: librope.rotary_embedding_onnx(q, cos, sin, ids,
                                                                                               out=out),
        "out.copy_(q) (a copy)": lambda: out.copy_(q),
    }
    for fn in fns.values():
        fn()
    wall, cpu, faults = ({n: [] for n in fns} for _ in range(3))
    for _ in range(repeat):
        for n, fn in fns.items():
            f0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
            c0, t0 = time.process_time(), time.perf_counter()
            fn()
            t1, c1 = time.perf_counter(), time.process_time()
            faults[n].append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - f0)
            wall[n].append(t1 - t0)
            cpu[n].append(c1 - c0)
    return {n: (statistics.median(wall[n]), statistics.median(cpu[n]), statistics.median(faults[n])) for n in fns}


def print_new_output(repeat):
    for dtype in (torch.float32, torch.bfloat16):
        load0 = os.getloadavg()[0]
        rows = new_output(dtype, repeat)
        wc, cc, _ = rows["q.clone()"]
        print(f"\nnew output, prefill q [1, 32, 2048, 128] {str(dtype).split('.')[1]}, medians of {repeat} interleaved "
              f"runs, load average {load0:.1f} -> {os.getloadavg()[0]:.1f}")
        print(f"| {'what':50} | {'wall ms':>8} | {'x clone':>7} | {'cpu ms':>8} | {'x clone':>7} | {'faults':>6} |")
        print(f"|{'-' * 52}|{'-' * 10}|{'-' * 9}|{'-' * 10}|{'-' * 9}|{'-' * 8}|")
        for n, (w, c, f) in rows.items():
            print(f"| {n:50} | {w * 1e3:8.2f} | {w / wc:7.2f} | {c * 1e3:8.2f} | {c / cc:7.2f} | {f:6.0f} |")


def decode(iterations):
    q = torch.randn(1, 32 * 128).half()
    k = torch.randn(1, 8 * 128).half()
    cos = torch.randn(1, 128).half()
    sin = torch.randn(1, 128).half()
    seqlen = torch.tensor([1], dtype=torch.int32)
    out = (q, k)

    def py_loop():
        for _ in range(iterations):
            librope.rope_atb(q, k, cos, sin, seqlen, rotary_coeff=2, out=out)

    def core_loop():
        for _ in range(iterations):
            _core.atb(q, k, cos, sin, seqlen, q, k, 2, 0, False)

    librope.load_torch_ops()
    op = torch.ops.librope.rope_atb_inplace.default
    op_iterations = max(1, iterations // 10)  # tens of microseconds a call

    def op_loop():
        for _ in range(op_iterations):
            op(q, k, cos, sin, seqlen, 2, 0)

    res = {}
    for _ in range(3):  # interleaved, best of 3
        t0 = time.perf_counter()
        py_loop()
        res.setdefault("librope.rope_atb from Python", []).append((time.perf_counter() - t0) / iterations)
        t0 = time.perf_counter()
        core_loop()
        res.setdefault("librope._core.atb (no Python wrapper)", []).append((time.perf_counter() - t0) / iterations)
        t0 = time.perf_counter()
        op_loop()
        res.setdefault("torch.ops.librope.rope_atb_inplace", []).append((time.perf_counter() - t0) / op_iterations)
        res.setdefault("rope_atb C call (C loop)", []).append(_core.atb_c_seconds(q, k, cos, sin, seqlen, 2,
                                                                                    iterations))
    return {k: min(v) for k, v in res.items()}


MODEL_SHAPE = {"hidden_size": 2048, "num_attention_heads": 32, "num_key_value_heads": 8, "head_dim": 64,
               "intermediate_size": 8192}  # Llama 3.2 1B's decoder layer
MODEL_TOKENS = 2048


class _Timed:
    """apply_rotary_pos_emb wrapped: the seconds spent in it are summed."""

    def __init__(self, fn):
        self.fn, self.seconds = fn, 0.0

    def __call__(self, *args, **kwargs):
        t0 = time.perf_counter()
        try:
            return self.fn(*args, **kwargs)
        finally:
            self.seconds += time.perf_counter() - t0


def _librope_layer(ml, layer):
    """(layer with librope under it, how, the apply_rotary_pos_emb its attention should call)."""
    import copy
    import logging
    import librope.transformers as lt
    mine = copy.deepcopy(layer)
    decorated = getattr(type(ml.apply_rotary_pos_emb), "kernel_layer_name", None) == "rotary_pos_emb"
    try:
        import kernels
    except ImportError:
        kernels = None
    if kernels is not None and decorated:
        logging.getLogger("kernels").setLevel(logging.ERROR)  # it warns for every layer it leaves alone
        with kernels.use_kernel_mapping(lt.kernel_mapping()):
            kernels.kernelize(mine, mode=kernels.Mode.INFERENCE, device="cpu")
        return mine, "kernelize", ml.apply_rotary_pos_emb
    return mine, "drop-in", lt.apply_rotary_pos_emb


def model_layer(repeat):
    """The model row: {(dtype, threads): {variant: (layer s, rope s)}}, how librope was put in, and
    whether the float32 outputs were bitwise equal."""
    import transformers
    from transformers.models.llama import modeling_llama as ml
    config = transformers.LlamaConfig(num_hidden_layers=1, vocab_size=128, rope_theta=500000.0,
                                      max_position_embeddings=131072, **MODEL_SHAPE,
                                      rope_scaling={"rope_type": "llama3", "factor": 32.0, "low_freq_factor": 1.0,
                                                    "high_freq_factor": 4.0, "original_max_position_embeddings": 8192})
    config._attn_implementation = "sdpa"
    torch.manual_seed(0)
    stock_layer = ml.LlamaDecoderLayer(config, 0).eval()
    librope_layer, how, librope_apply = _librope_layer(ml, stock_layer)
    shipped = ml.apply_rotary_pos_emb
    rotary = ml.LlamaRotaryEmbedding(config)
    pos = torch.arange(MODEL_TOKENS)[None]
    results, bitwise = {}, None
    for dtype in (torch.float32, torch.bfloat16):
        stock_layer.to(dtype)
        librope_layer.to(dtype)
        hidden = torch.randn(1, MODEL_TOKENS, MODEL_SHAPE["hidden_size"]).to(dtype)
        cos, sin = rotary(hidden, pos)
        variants = {"stock": (stock_layer, shipped), "librope": (librope_layer, librope_apply)}

        def call(variant):
            layer, apply = variants[variant]
            timed = _Timed(apply)
            ml.apply_rotary_pos_emb = timed
            try:
                with torch.no_grad():
                    t0 = time.perf_counter()
                    out = layer(hidden, attention_mask=None, position_ids=pos, position_embeddings=(cos, sin))
                    seconds = time.perf_counter() - t0
            finally:
                ml.apply_rotary_pos_emb = shipped
            return (out[0] if isinstance(out, tuple) else out), seconds, timed.seconds

        # librope really runs under the librope variant, and only there
        calls = []
        atb = librope.rope_atb
        librope.rope_atb = lambda *a, **k: calls.append(1) or atb(*a, **k)
        try:
            ref = call("stock")[0]
            assert not calls, "librope ran in the stock layer"
            got = call("librope")[0]
            assert calls, f"librope did not run under the {how} layer"
        finally:
            librope.rope_atb = atb
        if dtype == torch.float32:
            bitwise = torch.equal(ref, got)
        # apply_rotary_pos_emb alone on the layer's q and k (views of the projections, as the
        # attention makes them): cheap, so many more runs than the layer gets
        heads, kv_heads, d = MODEL_SHAPE["num_attention_heads"], MODEL_SHAPE["num_key_value_heads"], MODEL_SHAPE["head_dim"]
        q = torch.randn(1, MODEL_TOKENS, heads * d).to(dtype).view(1, MODEL_TOKENS, heads, d).transpose(1, 2)
        k = torch.randn(1, MODEL_TOKENS, kv_heads * d).to(dtype).view(1, MODEL_TOKENS, kv_heads, d).transpose(1, 2)
        import librope.transformers as lt
        alone = [lambda: shipped(q, k, cos, sin), lambda: lt.apply_rotary_pos_emb(q, k, cos, sin)]
        for threads in (1, 2):
            torch.set_num_threads(threads)
            librope.set_num_threads(threads)
            runs = {"stock": [], "librope": []}
            for _ in range(repeat):  # interleaved
                for variant in runs:
                    runs[variant].append(call(variant)[1:])
            rope_alone = median_time(alone, 6 * repeat + 1)
            results[(dtype, threads)] = {v: tuple(statistics.median(x[i] for x in r) for i in (0, 1)) + (a,)
                                         for (v, r), a in zip(runs.items(), rope_alone)}
    return results, how, bitwise


def print_model_layer(repeat):
    import transformers
    results, how, bitwise = model_layer(repeat)
    shape = ", ".join(f"{k} {v}" for k, v in MODEL_SHAPE.items())
    print(f"\nmodel: one LlamaDecoderLayer ({shape}; sdpa), prefill {MODEL_TOKENS} tokens, transformers "
          f"{transformers.__version__}, librope by {how}; float32 outputs bitwise equal: {bitwise}; medians of "
          f"{repeat} interleaved runs")
    print("| dtype | threads | layer ms: stock | librope | RoPE in the layer ms (share): stock | librope | "
          "RoPE alone ms: stock | librope |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for (dtype, threads), r in results.items():
        (sl, sr, sa), (ll, lr, la) = r["stock"], r["librope"]
        print(f"| {str(dtype).split('.')[1]} | {threads} | {sl * 1e3:.0f} | {ll * 1e3:.0f} | "
              f"{sr * 1e3:.1f} ({100 * sr / sl:.1f} %) | {lr * 1e3:.1f} ({100 * lr / ll:.2f} %) | {sa * 1e3:.1f} | "
              f"{la * 1e3:.2f} |")

# ---- the fused attention prologue: QK-norm + RoPE (issue 16) --------------------------------------

def _qwen3_steps():
    """transformers' Qwen3 q_norm / k_norm (Qwen3RMSNorm) and apply_rotary_pos_emb, or (without
    transformers) the same torch code written out."""
    try:
        from transformers.models.qwen3.modeling_qwen3 import Qwen3RMSNorm, apply_rotary_pos_emb
        return Qwen3RMSNorm, apply_rotary_pos_emb, "transformers Qwen3RMSNorm + apply_rotary_pos_emb"
    except ImportError:
        class Qwen3RMSNorm(torch.nn.Module):
            def __init__(self, n, eps=1e-6):
                super().__init__()
                self.weight = torch.nn.Parameter(torch.ones(n))
                self.variance_epsilon = eps

            def forward(self, x):
                xf = x.to(torch.float32)
                xf = xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + self.variance_epsilon)
                return self.weight * xf.to(x.dtype)

        def apply_rotary_pos_emb(q, k, cos, sin):
            cos, sin = cos.unsqueeze(1), sin.unsqueeze(1)
            return q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin
        return Qwen3RMSNorm, apply_rotary_pos_emb, "torch (transformers' Qwen3 steps written out)"


def qk_norm_prologue(tokens, repeat, compile_, dtype=torch.bfloat16):
    """QK-norm + RoPE at Qwen3-8B's shape (Hq 32, Hk 8, Hv 8, head 128): torch doing transformers'
    steps on the projections (q_norm / k_norm, then apply_rotary_pos_emb with cos/sin gathered once
    outside the timing, as Qwen3RotaryEmbedding does once per forward), eager and compiled, against
    librope.fused_qk_norm_rope in place on the packed qkv with the [P, 128] table and the positions.
    Prefill positions 0..T-1; decode T tokens at scattered positions below 4096."""
    rms_norm, apply_rope, source = _qwen3_steps()
    hq, hk, hv, hd, p, eps = 32, 8, 8, 128, 4096, 1e-6
    qkv = torch.randn(tokens, (hq + hk + hv) * hd).to(dtype)
    pos = torch.arange(tokens) if tokens >= 1024 else torch.randint(0, p, (tokens,))
    q_norm, k_norm = rms_norm(hd, eps=eps).to(dtype), rms_norm(hd, eps=eps).to(dtype)
    with torch.no_grad():
        q_norm.weight.uniform_(0.5, 1.5)
        k_norm.weight.uniform_(0.5, 1.5)
    inv = 1.0 / (1e6 ** (torch.arange(0, hd, 2, dtype=torch.float32) / hd))
    ang = torch.arange(p, dtype=torch.float32)[:, None] * inv[None]
    table = torch.cat([ang.cos(), ang.sin()], dim=-1)  # [P, 128]: cos | sin, f32
    emb = torch.cat([ang, ang], dim=-1)[pos][None]  # [1, T, 128], HF's cos/sin of these positions
    cos, sin = emb.cos().to(dtype), emb.sin().to(dtype)

    def torch_steps(x):
        q, k, _ = x.view(1, tokens, hq + hk + hv, hd).split([hq, hk, hv], dim=2)
        return apply_rope(q_norm(q).transpose(1, 2), k_norm(k).transpose(1, 2), cos, sin)

    work = qkv.clone()
    qw, kw = q_norm.weight.detach(), k_norm.weight.detach()
    fns = {
        "torch eager (" + source.split(" ")[0] + ")": lambda: torch_steps(qkv),
        "librope.fused_qk_norm_rope": lambda: librope.fused_qk_norm_rope(work, hq, hk, hv, hd, eps, qw, kw, table,
                                                                         True, pos),
    }
    # the results agree: librope's q against the steps computed in float32
    check = qkv.clone()
    librope.fused_qk_norm_rope(check, hq, hk, hv, hd, eps, qw, kw, table, True, pos)
    with torch.no_grad():
        want_q, _ = torch_steps(qkv)
    err = (check[:, : hq * hd].view(tokens, hq, hd).float() - want_q[0].transpose(0, 1).float()).abs().max().item()
    if compile_:
        compiled = torch.compile(torch_steps, fullgraph=True)
        with torch.no_grad():
            for _ in range(3):
                compiled(qkv)
        fns["torch.compile (inductor)"] = lambda: compiled(qkv)
    names = list(fns)
    with torch.no_grad():
        for fn in fns.values():
            fn()
        secs = dict(zip(names, median_time([fns[n] for n in names], repeat)))
    return secs, err, source


def print_prologue(repeat, compile_):
    for tokens, what in ((2048, "prefill 2048"), (64, "decode 64"), (256, "decode 256")):
        secs, err, source = qk_norm_prologue(tokens, repeat, compile_)
        eager = next(v for k, v in secs.items() if k.startswith("torch eager"))
        comp = secs.get("torch.compile (inductor)")
        print(f"\nQK-norm + RoPE, Qwen3-8B shape (Hq 32, Hk 8, Hv 8, head 128), bf16, {what}; torch: {source}; "
              f"max |librope - torch| on q = {err:.3g}")
        print(f"| {'what':32} | {'us':>9} | {'x eager':>8} | {'x compiled':>10} |")
        print(f"|{'-' * 34}|{'-' * 11}|{'-' * 10}|{'-' * 12}|")
        for name, t in secs.items():
            vs_c = f"{comp / t:10.2f}" if comp else f"{'-':>10}"
            print(f"| {name:32} | {t * 1e6:9.1f} | {eager / t:8.2f} | {vs_c} |")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=0, help="threads for both sides (0: all CPUs)")
    ap.add_argument("--repeat", type=int, default=15)
    ap.add_argument("--no-compile", action="store_true")
    ap.add_argument("--decode-iterations", type=int, default=50000)
    ap.add_argument("--model", action="store_true", help="also the model row (a decoder layer; minutes)")
    ap.add_argument("--model-only", action="store_true", help="only the model row")
    ap.add_argument("--model-repeat", type=int, default=5)
    ap.add_argument("--prologue-only", action="store_true", help="only the QK-norm + RoPE rows")
    ap.add_argument("--new-output-only", action="store_true", help="only the new output rows")
    args = ap.parse_args()
    if args.model_only:
        print(f"librope {librope.__version__}, isa {librope.isa()}, torch {torch.__version__}")
        print_model_layer(args.model_repeat)
        return
    librope.set_num_threads(args.threads)
    threads = librope.get_num_threads()
    torch.set_num_threads(threads)
    print(f"librope {librope.__version__}, isa {librope.isa()}, torch {torch.__version__}, {threads} threads "
          f"for both")
    if args.prologue_only:
        print_prologue(args.repeat, not args.no_compile)
        return
    if args.new_output_only:
        print_new_output(args.repeat)
        return
    for dtype in (torch.float32, torch.bfloat16):
        secs, err, nbytes = prefill(dtype, args.repeat, not args.no_compile)
        eager = secs["torch eager (HF)"]
        comp = secs.get("torch.compile (inductor)")
        print(f"\nprefill q [1, 32, 2048, 128] {str(dtype).split('.')[1]} ({nbytes / 2**20:.0f} MiB), "
              f"max |librope - HF f32| = {err:.2g}")
        print(f"| {'what':28} | {'ms':>8} | {'x eager':>8} | {'x compiled':>10} |")
        print(f"|{'-' * 30}|{'-' * 10}|{'-' * 10}|{'-' * 12}|")
        for name, t in secs.items():
            vs_c = f"{comp / t:10.2f}" if comp else f"{'-':>10}"
            print(f"| {name:28} | {t * 1e3:8.3f} | {eager / t:8.2f} | {vs_c} |")
    print_new_output(args.repeat)
    res = decode(args.decode_iterations)
    c_call = res["rope_atb C call (C loop)"]
    print("\ndecode: query [1, 4096], key [1, 1024] f16, in place (best of 3 runs of "
          f"{args.decode_iterations} calls)")
    print(f"| {'what':38} | {'us/call':>8} | {'over C':>8} |")
    print(f"|{'-' * 40}|{'-' * 10}|{'-' * 10}|")
    for name, t in res.items():
        print(f"| {name:38} | {t * 1e6:8.3f} | {(t - c_call) * 1e6:8.3f} |")
    if args.model:
        print_model_layer(args.model_repeat)
    print_prologue(args.repeat, not args.no_compile)


if __name__ == "__main__":
    main()
