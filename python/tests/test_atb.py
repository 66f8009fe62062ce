# SPDX-License-Identifier: MIT
"""rope_atb against the float64 reference: torch and NumPy, f32/f16/bf16 (and f16 data with f32 cos),
2-D and 4-D, rotary_coeff 2 / 4 / D, cos_format 0 and 1 (packed sequences), GQA, in place, out=, and q
and k split out of a fused QKV tensor."""
import numpy as np
import pytest

import librope
from conftest import KINDS, assert_close, kind_of, make, make_int, need, uniform
from reference import atb_ref, f64

CASES = [  # (rank, seqlens, heads_q, heads_k, D, head_size, coeff)
    (2, [1], 1, 1, 2, 2, 2), (2, [5], 4, 2, 8, 8, 4), (2, [3, 4], 8, 8, 16, 16, 16), (2, [2, 7, 1], 4, 1, 64, 64, 2),
    (4, [6], 2, 1, 32, 32, 4), (4, [3, 3], 4, 4, 8, 16, 2), (2, [9], 2, 2, 128, 128, 2),
]


def _cos_sin(rng, rows, d, coeff):
    """Full-width cos/sin in ATB's layout: each pair's angle in both of its elements."""
    rs = d // coeff
    ang = np.zeros((rows, d))
    for g in range(d // (2 * rs)):
        a = rng.uniform(-np.pi, np.pi, size=(rows, rs))
        ang[:, g * 2 * rs: g * 2 * rs + rs] = a
        ang[:, g * 2 * rs + rs: (g + 1) * 2 * rs] = a
    return np.cos(ang), np.sin(ang)


@pytest.mark.parametrize("framework,dtype", KINDS)
@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("cos_format", [0, 1])
def test_random(framework, dtype, case, cos_format, rng):
    need(framework, dtype)
    rank, seqlens, hq, hk, d, hs, coeff = case
    t = sum(seqlens)
    if rank == 4:
        b, s = len(seqlens), seqlens[0]
        if any(n != s for n in seqlens):
            pytest.skip("4-D needs equal sequences")
        qs, ks = (b, s, hq, hs), (b, s, hk, hs)
    else:
        qs, ks = (t, hq * hs), (t, hk * hs)
    q = make(framework, dtype, uniform(rng, qs))
    k = make(framework, dtype, uniform(rng, ks))
    c, sn = _cos_sin(rng, t, d, coeff)
    cos, sin = make(framework, dtype, c), make(framework, dtype, sn)
    seqlen = make_int(framework, seqlens, "int32")
    rq, rk = librope.rope_atb(q, k, cos, sin, seqlen, rotary_coeff=coeff, cos_format=cos_format)
    assert kind_of(rq) == framework and rq.dtype == q.dtype and rk.dtype == k.dtype
    want_q, want_k = atb_ref(q, k, cos, sin, seqlen, coeff, cos_format)
    assert_close(rq, want_q, dtype, "ropeQ")
    assert_close(rk, want_k, dtype, "ropeK")
    # out= a pair of the caller's tensors
    oq, ok = make(framework, dtype, np.zeros(qs)), make(framework, dtype, np.zeros(ks))
    got = librope.rope_atb(q, k, cos, sin, seqlen, rotary_coeff=coeff, cos_format=cos_format, out=(oq, ok))
    assert got[0] is oq and got[1] is ok
    assert np.array_equal(f64(oq), f64(rq)) and np.array_equal(f64(ok), f64(rk))
    # in place: out = the inputs
    out = librope.rope_atb(q, k, cos, sin, seqlen, rotary_coeff=coeff, cos_format=cos_format, out=(q, k))
    assert out[0] is q and out[1] is k
    assert np.array_equal(f64(q), f64(rq)) and np.array_equal(f64(k), f64(rk))


@pytest.mark.parametrize("framework", ["torch", "numpy"])
def test_f16_with_f32_cos(framework, rng):
    need(framework)
    t, d = 6, 16
    q = make(framework, "float16", uniform(rng, (t, 4 * d)))
    k = make(framework, "float16", uniform(rng, (t, d)))
    c, sn = _cos_sin(rng, t, d, 2)
    cos, sin = make(framework, "float32", c), make(framework, "float32", sn)
    seqlen = make_int(framework, [t], "int32")
    rq, rk = librope.rope_atb(q, k, cos, sin, seqlen, rotary_coeff=2)
    want_q, want_k = atb_ref(q, k, cos, sin, seqlen, 2, 0)
    assert_close(rq, want_q, "float16", "ropeQ")
    assert_close(rk, want_k, "float16", "ropeK")


@pytest.mark.parametrize("framework,dtype", KINDS)
def test_fused_qkv_split(framework, dtype, rng):
    """Llama-style: q and k split out of [T, (hq + 2 hk) * hs] with torch.split / slicing, rotated in
    place where they sit, in one call; v untouched."""
    need(framework, dtype)
    t, hq, hk, hs = 7, 8, 2, 32
    qkv = make(framework, dtype, uniform(rng, (t, (hq + 2 * hk) * hs)))
    before = f64(qkv).copy()
    if framework == "torch":
        import torch
        q, k, v = torch.split(qkv, [hq * hs, hk * hs, hk * hs], dim=-1)
    else:
        q, k, v = qkv[:, : hq * hs], qkv[:, hq * hs:(hq + hk) * hs], qkv[:, (hq + hk) * hs:]
    c, sn = _cos_sin(rng, t, hs, 2)
    cos, sin = make(framework, dtype, c), make(framework, dtype, sn)
    seqlen = make_int(framework, [t], "int32")
    want_q, want_k = atb_ref(q, k, cos, sin, seqlen, 2, 0)
    librope.rope_atb(q, k, cos, sin, seqlen, rotary_coeff=2, out=(q, k))
    after = f64(qkv)
    assert_close(after[:, : hq * hs], want_q, dtype, "q in qkv")
    assert_close(after[:, hq * hs:(hq + hk) * hs], want_k, dtype, "k in qkv")
    assert np.array_equal(after[:, (hq + hk) * hs:], before[:, (hq + hk) * hs:]), "v was touched"
