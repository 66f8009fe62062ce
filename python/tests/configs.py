# SPDX-License-Identifier: MIT
"""Hugging Face style configurations, one or more per rope_scaling type librope has, and a float64
reference of their inverse frequencies and attention factor written from rope.h's formulas."""
import math

import numpy as np

BASE = {"hidden_size": 2048, "num_attention_heads": 16, "max_position_embeddings": 4096, "rope_theta": 10000.0}


def _cfg(**kw):
    c = dict(BASE)
    c.update(kw)
    return c


_D = 64  # the rotary dims of the configs below with partial_rotary_factor 1 (hidden 2048 / 16 heads = 128)
CONFIGS = {
    "default": _cfg(rope_theta=500000.0),
    "default_partial": _cfg(head_dim=96, partial_rotary_factor=0.5),
    "linear": _cfg(rope_scaling={"rope_type": "linear", "factor": 4.0}),
    "dynamic": _cfg(rope_scaling={"type": "dynamic", "factor": 2.0}, max_position_embeddings=2048),
    "yarn": _cfg(rope_scaling={"rope_type": "yarn", "factor": 4.0, "original_max_position_embeddings": 4096},
                 max_position_embeddings=16384),
    "yarn_deepseek": _cfg(rope_scaling={"rope_type": "yarn", "factor": 40.0, "mscale": 1.0, "mscale_all_dim": 0.707,
                                        "beta_fast": 32, "beta_slow": 1, "original_max_position_embeddings": 4096},
                          head_dim=64),
    "yarn_no_truncate": _cfg(rope_scaling={"rope_type": "yarn", "factor": 8.0, "truncate": False}),
    "llama3": _cfg(rope_theta=500000.0, max_position_embeddings=131072,
                   rope_scaling={"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                                 "high_freq_factor": 4.0, "original_max_position_embeddings": 8192}),
    "longrope": _cfg(head_dim=_D, max_position_embeddings=131072, original_max_position_embeddings=4096,
                     rope_scaling={"rope_type": "longrope",
                                   "short_factor": [1.0 + 0.01 * i for i in range(_D // 2)],
                                   "long_factor": [1.0 + 0.5 * i for i in range(_D // 2)]}),
}


def rotary_dim(c):
    head = c.get("head_dim") or c["hidden_size"] // c["num_attention_heads"]
    return int(head * (c.get("partial_rotary_factor") or 1.0))


def ref_inv_freq(c, seq_len):
    """(inv_freq, attention) in float64, from rope.h's description of each method."""
    d = rotary_dim(c)
    base = c.get("rope_theta", 10000.0)
    i = np.arange(d // 2, dtype=np.float64)
    e = 2 * i / d
    inv0 = 1.0 / base ** e
    rs = c.get("rope_scaling") or {}
    kind = rs.get("rope_type", rs.get("type", "default"))
    if kind == "default":
        return inv0, 1.0
    if kind == "linear":
        return inv0 / rs["factor"], 1.0
    if kind == "dynamic":
        orig, f = c["max_position_embeddings"], rs["factor"]
        length = seq_len if seq_len > orig else orig
        b2 = base * (f * length / orig - (f - 1)) ** (d / (d - 2))
        return 1.0 / b2 ** e, 1.0
    if kind == "yarn":
        f = rs["factor"]
        orig = rs.get("original_max_position_embeddings") or c["max_position_embeddings"]
        bf, bs = rs.get("beta_fast") or 32, rs.get("beta_slow") or 1

        def corr(n):
            return d * math.log(orig / (n * 2 * math.pi)) / (2 * math.log(base))

        lo, hi = corr(bf), corr(bs)
        if rs.get("truncate", True):
            lo, hi = math.floor(lo), math.ceil(hi)
        lo, hi = max(lo, 0), min(hi, d - 1)
        if lo == hi:
            hi += 0.001
        ramp = np.clip((i - lo) / (hi - lo), 0, 1)
        w = 1 - ramp
        inv = (inv0 / f) * (1 - w) + inv0 * w

        def m(s, k=1.0):
            return 1.0 if s <= 1 else 0.1 * k * math.log(s) + 1

        if rs.get("attention_factor"):
            att = rs["attention_factor"]
        elif rs.get("mscale") and rs.get("mscale_all_dim"):
            att = m(f, rs["mscale"]) / m(f, rs["mscale_all_dim"])
        else:
            att = m(f)
        return inv, att
    if kind == "llama3":
        f, lf, hf = rs["factor"], rs["low_freq_factor"], rs["high_freq_factor"]
        orig = rs["original_max_position_embeddings"]
        wl = 2 * math.pi / inv0
        s = (orig / wl - lf) / (hf - lf)
        inv = np.where(wl < orig / hf, inv0, np.where(wl > orig / lf, inv0 / f, (1 - s) * inv0 / f + s * inv0))
        return inv, 1.0
    if kind == "longrope":
        orig = c["original_max_position_embeddings"]
        f = c["max_position_embeddings"] / orig
        ext = np.array(rs["long_factor"] if seq_len > orig else rs["short_factor"])
        att = 1.0 if f <= 1 else math.sqrt(1 + math.log(f) / math.log(orig))
        return 1.0 / (ext * base ** e), att
    raise ValueError(kind)


def cli_scaling(c):
    """The same configuration as `rope cache` arguments."""
    rs = c.get("rope_scaling") or {}
    kind = rs.get("rope_type", rs.get("type", "default"))
    args = ["--dim", str(rotary_dim(c)), "--base", repr(float(c.get("rope_theta", 10000.0)))]
    keys = dict(rs)
    keys.pop("rope_type", None)
    keys.pop("type", None)
    if kind == "dynamic":
        keys["original_max_position_embeddings"] = c["max_position_embeddings"]
    if kind == "yarn" and not keys.get("original_max_position_embeddings"):
        keys["original_max_position_embeddings"] = c["max_position_embeddings"]
    if kind == "longrope":
        keys["original_max_position_embeddings"] = c["original_max_position_embeddings"]
        keys["factor"] = c["max_position_embeddings"] / c["original_max_position_embeddings"]
    if kind != "default":
        parts = []
        for k, v in keys.items():
            if isinstance(v, list):
                v = "/".join(repr(float(x)) for x in v)
            elif isinstance(v, bool):
                v = "true" if v else "false"
            parts.append(f"{k}={v}")
        args += ["--scaling", kind + (":" + ",".join(parts) if parts else "")]
    return args
