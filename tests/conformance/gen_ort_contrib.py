# SPDX-License-Identifier: MIT
"""Writes tests/conformance/ort-contrib/: ONNX Runtime contrib-op conformance cases for `rope test`.

Each case is a directory in the ONNX backend node-test layout: model.onnx holding one
com.microsoft RotaryEmbedding or MRotaryEmbedding node, and test_data_set_0/ with input_0..3.pb
(input, position_ids, cos_cache, sin_cache) and output_0.pb, the output of ONNX Runtime's CPU
execution provider on those inputs: ONNX Runtime is the reference, not librope.

Run with the pinned packages in a venv of its own (never the system python):
    python3 -m venv --system-site-packages /work/venv-ort
    /work/venv-ort/bin/pip install onnxruntime==1.30.0 onnx==1.23.2
    /work/venv-ort/bin/python tests/conformance/gen_ort_contrib.py [OUTDIR]
The inputs come from fixed seeds, so a rerun with the same packages writes the same files. ONNX
Runtime 1.30.0's CPU kernels take float32 and float16 (no bfloat16 kernel is registered) and its
RotaryEmbedding ignores `scale`: those cases are tested against float64 references in
tests/tools/test_ort_contrib.c instead.
"""
import os
import shutil
import sys

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

ORT_VERSION = "1.30.0"
ONNX_VERSION = "1.23.2"
HERE = os.path.dirname(os.path.abspath(__file__))


def rope_tables(max_pos, half, theta=10000.0):
    """Real cos/sin tables [max_pos, half]: pair j turns by pos / theta^(2j / (2 half))."""
    inv = 1.0 / theta ** (np.arange(half, dtype=np.float64) * 2.0 / (2 * half))
    ang = np.arange(max_pos, dtype=np.float64)[:, None] * inv[None, :]
    return np.cos(ang), np.sin(ang)


def model(op, attrs, feeds):
    dtype = feeds["input"].dtype
    node = helper.make_node(op, ["input", "position_ids", "cos_cache", "sin_cache"], ["output"],
                            domain="com.microsoft", **attrs)
    elem = helper.np_dtype_to_tensor_dtype(np.dtype(dtype))
    graph = helper.make_graph(
        [node], "ort_contrib",
        [helper.make_tensor_value_info("input", elem, feeds["input"].shape),
         helper.make_tensor_value_info("position_ids", TensorProto.INT64, feeds["position_ids"].shape),
         helper.make_tensor_value_info("cos_cache", elem, feeds["cos_cache"].shape),
         helper.make_tensor_value_info("sin_cache", elem, feeds["sin_cache"].shape)],
        [helper.make_tensor_value_info("output", elem, feeds["input"].shape)])
    # IR 10: the newest ONNX Runtime 1.30.0 loads.
    return helper.make_model(graph, ir_version=10, opset_imports=[helper.make_opsetid("", 23),
                                                                  helper.make_opsetid("com.microsoft", 1)])


def run_ort(m, feeds):
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    sess = ort.InferenceSession(m.SerializeToString(), so, providers=["CPUExecutionProvider"])
    return sess.run(None, feeds)[0]


def write_case(root, name, op, attrs, x, pos, cos, sin):
    feeds = {"input": x, "position_ids": pos, "cos_cache": cos, "sin_cache": sin}
    m = model(op, attrs, feeds)
    onnx.checker.check_model(m)
    y = run_ort(m, feeds)
    d = os.path.join(root, name)
    sets = os.path.join(d, "test_data_set_0")
    os.makedirs(sets)
    onnx.save(m, os.path.join(d, "model.onnx"))
    for k, key in enumerate(["input", "position_ids", "cos_cache", "sin_cache"]):
        with open(os.path.join(sets, "input_%d.pb" % k), "wb") as f:
            f.write(numpy_helper.from_array(feeds[key], key).SerializeToString())
    with open(os.path.join(sets, "output_0.pb"), "wb") as f:
        f.write(numpy_helper.from_array(y, "output").SerializeToString())
    print("wrote %s: %s %s, input %s %s" % (name, op, attrs, x.dtype, list(x.shape)))


def rotary_cases(root, rng):
    """com.microsoft::RotaryEmbedding: 3-D / 4-D, halves / interleaved, [B, S] ids or the one-element
    offset, partial rotation, packed batching, no num_heads, float32 and float16."""
    def case(name, *, b=2, s=3, n=2, h=8, rot=0, m=16, inter=0, four_d=False, form="ids", packed=0,
             heads_attr=True, dtype=np.float32):
        half = (rot or h) // 2
        c, sn = rope_tables(m, half)
        x = rng.standard_normal((b, n, s, h) if four_d else (b, s, n * h)).astype(dtype)
        if form == "ids":
            pos = rng.integers(0, m, (b, s)).astype(np.int64)
        elif form == "offset":
            pos = np.array([m - s - 1], np.int64)
        elif form == "scalar":
            pos = np.array(m - s, np.int64)
        elif form == "packed":  # sequences of 5, 4 and 3 tokens packed in one row, each from 0
            pos = np.concatenate([np.arange(5), np.arange(4), np.arange(3)]).astype(np.int64)[None, :]
        attrs = {"interleaved": inter}
        if heads_attr:
            attrs["num_heads"] = n
        if rot:
            attrs["rotary_embedding_dim"] = rot
        if packed:
            attrs["is_packed_batching"] = 1
        write_case(root, name, "RotaryEmbedding", attrs, x, pos, c.astype(dtype), sn.astype(dtype))

    case("re_3d_halves_f32")
    case("re_3d_interleaved_f32", inter=1)
    case("re_4d_halves_f32", four_d=True, heads_attr=False)
    case("re_4d_interleaved_f32", four_d=True, inter=1, n=3, h=16)
    case("re_3d_no_num_heads_f32", heads_attr=False, n=4)
    case("re_offset_f32", form="offset", b=3, s=5)
    case("re_offset_scalar_f32", form="scalar", four_d=True, heads_attr=False)
    case("re_offset_f16", form="offset", dtype=np.float16)
    case("re_partial_f32", rot=4, h=10, n=3)
    case("re_partial_interleaved_4d_f32", rot=6, h=16, inter=1, four_d=True)
    case("re_partial_f16", rot=8, h=12, inter=1, dtype=np.float16)
    # 12 packed tokens and an 8-row cache: without is_packed_batching ONNX Runtime refuses a
    # sequence longer than the cache; every position is still inside it.
    case("re_packed_batching_f32", b=1, s=12, m=8, form="packed", packed=1)
    case("re_3d_halves_f16", dtype=np.float16, s=7, n=4, h=16)
    case("re_4d_interleaved_f16", four_d=True, inter=1, dtype=np.float16)


def assign_ok(sections, layout, half):
    return sum(sections) == half


def mrotary_cases(root, rng):
    """com.microsoft::MRotaryEmbedding: both mrope_layouts, sections with a zero, 3-D / 4-D,
    partial rotation, interleaved pairs, scale, packed batching, float32 and float16."""
    def case(name, sections, *, layout=0, b=2, s=4, n=2, h=16, rot=0, m=12, inter=0, four_d=False, scale=None,
             packed=0, dtype=np.float32):
        half = (rot or h) // 2
        assert assign_ok(sections, layout, half)
        c, sn = rope_tables(m, half)
        x = rng.standard_normal((b, n, s, h) if four_d else (b, s, n * h)).astype(dtype)
        pos = rng.integers(0, m, (3, b, s)).astype(np.int64)
        attrs = {"mrope_section": sections, "mrope_layout": layout, "interleaved": inter}
        if not four_d or rot:
            attrs["num_heads"] = n
        if rot:
            attrs["rotary_embedding_dim"] = rot
        if scale is not None:
            attrs["scale"] = scale
        if packed:
            attrs["is_packed_batching"] = 1
        write_case(root, name, "MRotaryEmbedding", attrs, x, pos, c.astype(dtype), sn.astype(dtype))

    case("mre_sections_f32", [4, 2, 2])
    case("mre_interleaved_layout_f32", [4, 2, 2], layout=1)
    case("mre_interleaved_layout_pairs_4d_f32", [2, 3, 3], layout=1, inter=1, four_d=True)
    case("mre_sections_4d_f32", [3, 3, 2], four_d=True, n=3)
    case("mre_zero_section_f32", [5, 0, 3])
    case("mre_zero_sections_interleaved_f32", [0, 6, 6], layout=1, h=24, n=1)
    case("mre_partial_f32", [2, 1, 1], rot=8, h=12, n=3)
    case("mre_scale_f32", [4, 2, 2], scale=0.75)
    case("mre_packed_batching_f32", [4, 2, 2], b=1, s=20, m=12, packed=1)
    case("mre_sections_f16", [4, 2, 2], dtype=np.float16)
    case("mre_interleaved_layout_f16", [8, 4, 4], layout=1, h=32, dtype=np.float16)
    case("mre_scale_f16", [2, 1, 1], h=8, scale=1.5, inter=1, dtype=np.float16)


def main():
    if ort.__version__ != ORT_VERSION or onnx.__version__ != ONNX_VERSION:
        sys.exit("needs onnxruntime==%s and onnx==%s, found %s and %s" % (ORT_VERSION, ONNX_VERSION,
                                                                          ort.__version__, onnx.__version__))
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "ort-contrib")
    if os.path.isdir(root):
        shutil.rmtree(root)
    os.makedirs(root)
    rotary_cases(root, np.random.default_rng(17))
    mrotary_cases(root, np.random.default_rng(1705))


if __name__ == "__main__":
    main()
