/* SPDX-License-Identifier: MIT */
/* The runner's vllm::FusedQKNormRope and vllm::RotaryEmbeddingAndCache nodes (tools/vllm_prologue.c):
 * attributes as the runner reads them (defaults, wrong types, unknown names, missing required ones,
 * bad strings), bad attribute values refused when the node runs with the library's message and no
 * output, kv_cache_dtype disagreeing with the caches, and a good run's results bitwise the library's
 * own call (the float64 checks are the conformance cases, tests/conformance/vllm-prologue). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "onnx_builder.h"
#include "onnx_model.h"
#include "tensor_util.h"
#include "vllm_prologue.h"

/* A model of one vllm node `op` with attributes `attrs` (n of them), decoded, then read. */
static int read_attrs(const char *op, msg *attrs, int n, vllm_prologue_attrs *out, diag *why) {
    const char *in[1] = {"positions"}, *outs[1] = {"out"};
    msg node = node_proto(op, "vllm", in, 1, outs, 1), g = {0};
    for (int i = 0; i < n; i++) msg_sub(&node, 5, &attrs[i]);
    msg_sub(&g, 1, &node);
    msg m = model_proto(&g, "vllm", 1);
    onnx_model model;
    diag err;
    int rc = -2;
    if (onnx_model_decode("model.onnx", m.b, m.n, &model, &err) == 0) {
        int which = vllm_prologue_op_of(op);
        rc = which < 0 ? -3 : vllm_prologue_attributes("model.onnx", &model.graph.nodes[0], (vllm_prologue_op)which,
                                                       out, why);
        onnx_model_free(&model);
    }
    msg_free(&m);
    return rc;
}

static msg int_attr(const char *name, int64_t v) {
    msg a = {0};
    msg_str(&a, 1, name);
    msg_int(&a, 3, (uint64_t)v);
    msg_int(&a, 20, 2);
    return a;
}

static msg float_attr(const char *name, float v) {
    msg a = {0};
    msg_str(&a, 1, name);
    msg_float(&a, 2, v);
    msg_int(&a, 20, 1);
    return a;
}

static msg string_attr(const char *name, const char *v) {
    msg a = {0};
    msg_str(&a, 1, name);
    msg_str(&a, 4, v);
    msg_int(&a, 20, 3);
    return a;
}

static void qk_required(msg *a) {
    a[0] = int_attr("head_dim", 16);
    a[1] = int_attr("num_heads_q", 2);
    a[2] = int_attr("num_heads_k", 1);
    a[3] = int_attr("num_heads_v", 1);
}

static void test_attributes(void) {
    vllm_prologue_attrs p;
    diag why;
    msg a[8];
    qk_required(a);
    CHECK(read_attrs("FusedQKNormRope", a, 4, &p, &why) == 0 && p.qk.rope.head_size == 16 && p.qk.num_heads_q == 2 &&
              p.qk.eps == 1e-6 && p.qk.rope.is_neox == 1, "FusedQKNormRope defaults: %s", why.text);
    qk_required(a);
    a[4] = float_attr("eps", 0.5f);
    a[5] = int_attr("is_neox", 0);
    CHECK(read_attrs("FusedQKNormRope", a, 6, &p, &why) == 0 && p.qk.eps == 0.5 && p.qk.rope.is_neox == 0, "eps");
    qk_required(a);
    msg_free(&a[3]); /* built by qk_required, left out of the node: read_attrs frees the ones it gets */
    CHECK(read_attrs("FusedQKNormRope", a, 3, &p, &why) < 0 && strstr(why.text, "'num_heads_v' is required"),
          "num_heads_v missing: %s", why.text);
    qk_required(a);
    a[4] = int_attr("eps", 1); /* INT where FLOAT belongs */
    CHECK(read_attrs("FusedQKNormRope", a, 5, &p, &why) < 0 &&
              strstr(why.text, "'eps' of vllm::FusedQKNormRope: type 2, expected FLOAT (1)"), "eps INT: %s", why.text);
    qk_required(a);
    a[4] = int_attr("kv_layout", 1); /* an attribute of the other node */
    CHECK(read_attrs("FusedQKNormRope", a, 5, &p, &why) < 0 &&
              strstr(why.text, "vllm::FusedQKNormRope has no attribute 'kv_layout'"), "kv_layout: %s", why.text);
    qk_required(a);
    a[4] = float_attr("num_heads_q", 2.0f);
    CHECK(read_attrs("FusedQKNormRope", a, 5, &p, &why) < 0 && strstr(why.text, "expected INT (2)"), "heads FLOAT");
    qk_required(a);
    a[4] = int_attr("is_neox", (int64_t)1 << 40);
    CHECK(read_attrs("FusedQKNormRope", a, 5, &p, &why) < 0 && strstr(why.text, "does not fit int32"), "is_neox");
    for (int k = 0; k < 4; k++) msg_free(&a[k]);

    a[0] = int_attr("head_size", 32);
    CHECK(read_attrs("RotaryEmbeddingAndCache", a, 1, &p, &why) == 0 && p.kv.rope.head_size == 32 &&
              p.kv.kv_layout == ROPE_KV_NHD && p.kv.k_scale == 1.0f && p.kv.v_scale == 1.0f && !p.has_kv_cache_dtype,
          "RotaryEmbeddingAndCache defaults: %s", why.text);
    a[0] = int_attr("head_size", 32);
    a[1] = string_attr("kv_layout", "HND");
    a[2] = float_attr("k_scale", 0.5f);
    a[3] = string_attr("kv_cache_dtype", "fp8_e5m2");
    CHECK(read_attrs("RotaryEmbeddingAndCache", a, 4, &p, &why) == 0 && p.kv.kv_layout == ROPE_KV_HND &&
              p.kv.k_scale == 0.5f && p.has_kv_cache_dtype && p.kv_cache_dtype == ROPE_FP8_E5M2, "HND: %s", why.text);
    a[0] = int_attr("head_size", 32);
    a[1] = string_attr("kv_layout", "NCHW");
    CHECK(read_attrs("RotaryEmbeddingAndCache", a, 2, &p, &why) < 0 &&
              strstr(why.text, "'kv_layout' of vllm::RotaryEmbeddingAndCache: 'NCHW', expected 'NHD' or 'HND'"),
          "kv_layout NCHW: %s", why.text);
    a[0] = int_attr("head_size", 32);
    a[1] = int_attr("kv_layout", 0);
    CHECK(read_attrs("RotaryEmbeddingAndCache", a, 2, &p, &why) < 0 && strstr(why.text, "expected STRING (3)"),
          "kv_layout INT: %s", why.text);
    a[0] = int_attr("head_size", 32);
    a[1] = string_attr("kv_cache_dtype", "int8");
    CHECK(read_attrs("RotaryEmbeddingAndCache", a, 2, &p, &why) < 0 && strstr(why.text, "'int8', expected 'auto'"),
          "kv_cache_dtype int8: %s", why.text);
    a[0] = float_attr("v_scale", 2.0f);
    CHECK(read_attrs("RotaryEmbeddingAndCache", a, 1, &p, &why) < 0 && strstr(why.text, "'head_size' is required"),
          "head_size missing: %s", why.text);
    a[0] = int_attr("head_size", 32);
    a[1] = int_attr("num_heads_q", 2);
    CHECK(read_attrs("RotaryEmbeddingAndCache", a, 2, &p, &why) < 0 &&
              strstr(why.text, "has no attribute 'num_heads_q'"), "num_heads_q: %s", why.text);
    a[0] = int_attr("head_size", 32);
    a[1] = int_attr("mrope_section", 2);
    CHECK(read_attrs("RotaryEmbeddingAndCache", a, 2, &p, &why) < 0 && strstr(why.text, "expected INTS (7)"),
          "mrope_section INT: %s", why.text);
}

/* ---- running: refused values, no output; a good run is the library's call ------------------------ */

/* A tensor_new (tools/tensor_util.c) of random values. */
static rope_tensor tensor(rope_dtype dt, int rank, const int64_t *dims) {
    rope_tensor t = tensor_new(dt, rank, dims);
    if (!t.data) abort(); /* as tu_xmalloc does */
    int64_t n = rope_tensor_numel(&t);
    for (int64_t i = 0; i < n; i++) {
        if (dt == ROPE_F32) ((float *)t.data)[i] = (float)tu_uniform(-1, 1);
        if (dt == ROPE_BF16) ((uint16_t *)t.data)[i] = rope_f32_to_bf16((float)tu_uniform(-1, 1));
        if (dt == ROPE_FP8_E4M3) ((uint8_t *)t.data)[i] = (uint8_t)tu_int(0, 0x70);
        if (dt == ROPE_I64) ((int64_t *)t.data)[i] = i % 4;
    }
    return t;
}

enum { T = 4, HQ = 2, HK = 1, HS = 16, P = 6 };

static void kv_inputs(rope_tensor in[10], rope_dtype cache_dtype) {
    const int64_t pd[1] = {T}, qd[2] = {T, HQ * HS}, kd[2] = {T, HK * HS}, cd[2] = {P, HS}, cached[4] = {2, 4, HK, HS},
                  wd[1] = {HS};
    in[0] = tensor(ROPE_I64, 1, pd);
    in[1] = tensor(ROPE_BF16, 2, qd);
    in[2] = tensor(ROPE_BF16, 2, kd);
    in[3] = tensor(ROPE_BF16, 2, kd);
    in[4] = tensor(ROPE_F32, 2, cd);
    in[5] = tensor(cache_dtype, 4, cached);
    in[6] = tensor(cache_dtype, 4, cached);
    in[7] = tensor(ROPE_I64, 1, pd);
    int64_t slots[T] = {3, -1, 0, 7};
    memcpy(in[7].data, slots, sizeof slots);
    in[8] = tensor(ROPE_F32, 1, wd);
    in[9] = tensor(ROPE_BF16, 1, wd);
}

static void free_all(rope_tensor *t, int n) {
    for (int i = 0; i < n; i++) free(t[i].data);
}

static void kv_attrs(vllm_prologue_attrs *p) {
    const rope_vllm_attrs r = ROPE_VLLM_ATTRS_INIT;
    memset(p, 0, sizeof *p);
    p->op = VLLM_ROTARY_EMBEDDING_AND_CACHE;
    p->kv.rope = r;
    p->kv.rope.head_size = HS;
    p->kv.k_scale = p->kv.v_scale = 0.5f;
    p->kv.eps = 1e-6;
}

static void expect_refused(const vllm_prologue_attrs *p, rope_tensor *in, int n_in, const char *words,
                           const char *label) {
    rope_tensor out[4];
    diag err;
    memset(out, 0, sizeof out);
    err.text[0] = '\0';
    CHECK(vllm_prologue_run(p, in, n_in, out, &err) < 0 && strstr(err.text, words), "%s: %s", label, err.text);
    for (int k = 0; k < 4; k++) CHECK(out[k].data == NULL, "%s: output %d left allocated", label, k);
}

static void test_run(void) {
    vllm_prologue_attrs p;
    rope_tensor in[10], out[4];
    diag err;
    kv_inputs(in, ROPE_FP8_E4M3);
    kv_attrs(&p);
    p.kv.kv_layout = ROPE_KV_HND; /* the caches are NHD-shaped: Hk and block_size disagree */
    expect_refused(&p, in, 8, "key_cache", "HND on NHD caches");
    kv_attrs(&p);
    p.kv.k_scale = 0.0f;
    expect_refused(&p, in, 8, "scale", "k_scale 0");
    kv_attrs(&p);
    p.kv.eps = -1.0;
    expect_refused(&p, in, 10, "eps", "eps -1 with weights");
    kv_attrs(&p);
    p.kv.rope.head_size = 8;
    expect_refused(&p, in, 8, "head_size", "head_size 8");
    kv_attrs(&p);
    p.kv.rope.n_mrope_section = 3;
    p.kv.rope.mrope_section[0] = p.kv.rope.mrope_section[1] = p.kv.rope.mrope_section[2] = 3;
    expect_refused(&p, in, 8, "with MRoPE", "MRoPE sections on plain positions");
    kv_attrs(&p);
    p.has_kv_cache_dtype = 1;
    p.kv_cache_dtype = ROPE_FP8_E5M2;
    expect_refused(&p, in, 8, "kv_cache_dtype says fp8_e5m2", "kv_cache_dtype e5m2 on e4m3 caches");
    p.kv_cache_dtype = ROPE_DTYPE_INVALID;
    expect_refused(&p, in, 8, "'auto'", "kv_cache_dtype auto on fp8 caches");
    free(in[9].data);
    in[9].data = NULL; /* q_weight without k_weight */
    kv_attrs(&p);
    expect_refused(&p, in, 10, "weight", "one weight");
    free_all(in, 10);

    /* a good run: the node's outputs are the library's in-place results on copies of the inputs */
    kv_inputs(in, ROPE_FP8_E4M3);
    kv_attrs(&p);
    p.has_kv_cache_dtype = 1;
    p.kv_cache_dtype = ROPE_FP8_E4M3;
    CHECK(vllm_prologue_run(&p, in, 10, out, &err) == 0, "good run: %s", err.text);
    CHECK(rope_vllm_rotary_embedding_and_cache(NULL, &p.kv, &in[0], &in[1], &in[2], &in[3], &in[4], &in[5], &in[6],
                                               &in[7], &in[8], &in[9]) == ROPE_OK, "%s", rope_last_error());
    static const int written[4] = {1, 2, 5, 6};
    for (int k = 0; k < 4; k++) {
        size_t bytes = (size_t)rope_tensor_numel(&in[written[k]]) * rope_dtype_size(in[written[k]].dtype);
        CHECK(memcmp(out[k].data, in[written[k]].data, bytes) == 0, "output %d differs from the library's call", k);
        free(out[k].data);
    }
    free_all(in, 10);

    /* FusedQKNormRope: a bad head count is refused, nothing allocated */
    const int64_t pd[1] = {T}, xd[2] = {T, (HQ + 2 * HK) * HS}, wd[1] = {HS}, cd[2] = {P, HS};
    rope_tensor q[5] = {tensor(ROPE_I64, 1, pd), tensor(ROPE_BF16, 2, xd), tensor(ROPE_BF16, 1, wd),
                        tensor(ROPE_F32, 1, wd), tensor(ROPE_F32, 2, cd)};
    memset(&p, 0, sizeof p);
    const rope_vllm_attrs r = ROPE_VLLM_ATTRS_INIT;
    p.op = VLLM_FUSED_QK_NORM_ROPE;
    p.qk.rope = r;
    p.qk.rope.head_size = HS;
    p.qk.num_heads_q = HQ + 1;
    p.qk.num_heads_k = p.qk.num_heads_v = HK;
    p.qk.eps = 1e-6;
    expect_refused(&p, q, 5, "qkv", "FusedQKNormRope heads");
    p.qk.num_heads_q = HQ;
    p.qk.eps = NAN;
    expect_refused(&p, q, 5, "eps", "FusedQKNormRope eps NaN");
    p.qk.eps = 1e-6;
    CHECK(vllm_prologue_run(&p, q, 5, out, &err) == 0, "FusedQKNormRope good run: %s", err.text);
    CHECK(rope_vllm_fused_qk_norm_rope(NULL, &p.qk, &q[0], &q[1], &q[2], &q[3], &q[4]) == ROPE_OK, "%s",
          rope_last_error());
    CHECK(memcmp(out[0].data, q[1].data, (size_t)rope_tensor_numel(&q[1]) * 2) == 0, "qkv_out differs");
    free(out[0].data);
    free_all(q, 5);
}

int main(void) {
    tu_seed(1616);
    test_attributes();
    test_run();
    return tu_finish();
}
