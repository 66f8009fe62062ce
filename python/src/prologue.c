/* SPDX-License-Identifier: MIT */
/* The fused attention prologue on Python arguments: librope._core.qk_norm_rope (vLLM's
 * fused_qk_norm_rope) and librope._core.rope_and_cache (rotary_embedding + reshape_and_cache_flash,
 * optionally with the QK-norm). Both are in place; tensors are imported without copies (dlpack_in.c;
 * KV caches may be torch float8 tensors or uint8 holding fp8 bits), the library runs without the GIL
 * and checks everything else itself. What only the binding knows (kv_cache_dtype and kv_layout as
 * strings, the scales as numbers or one-element tensors, a cache of another fp8 format than
 * kv_cache_dtype names) is checked here, before the library is called, so nothing is written. */
#include "core.h"

#include <string.h>

static int as_double(PyObject *o, const char *name, double *v) {
    double x = PyFloat_AsDouble(o); /* floats, ints, and one-element tensors / arrays (their __float__) */
    if (x == -1.0 && PyErr_Occurred()) {
        PyErr_Clear();
        PyErr_Format(PyExc_TypeError, "librope: %s must be a number or a one-element tensor, got %.100s", name,
                     Py_TYPE(o)->tp_name);
        return -1;
    }
    *v = x;
    return 0;
}

/* qk_norm_rope(qkv, num_heads_q, num_heads_k, num_heads_v, head_dim, eps, q_weight, k_weight,
 *              cos_sin_cache, is_neox, position_ids, mrope_section, mrope_interleaved) */
static PyObject *qk_norm_rope(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    (void)self;
    static const Py_ssize_t counts[] = {13};
    if (rp_expect_args(nargs, counts, 1, "13", "qk_norm_rope") < 0) return NULL;
    rope_qk_norm_attrs attrs;
    memset(&attrs, 0, sizeof attrs);
    if (rp_as_i64(args[1], "num_heads_q", &attrs.num_heads_q) < 0 ||
        rp_as_i64(args[2], "num_heads_k", &attrs.num_heads_k) < 0 ||
        rp_as_i64(args[3], "num_heads_v", &attrs.num_heads_v) < 0 || as_double(args[5], "eps", &attrs.eps) < 0 ||
        rp_vllm_attrs(args[4], args[9], args[11], args[12], &attrs.rope) < 0)
        return NULL;
    rp_arg a[5];
    int n = 0;
    if (rp_import(args[0], "qkv", 1, 1, &a[n]) < 0) goto fail;
    n++;
    if (rp_import(args[6], "q_weight", RP_ROW_DENSE, 0, &a[n]) < 0) goto fail;
    n++;
    if (rp_import(args[7], "k_weight", RP_ROW_DENSE, 0, &a[n]) < 0) goto fail;
    n++;
    if (rp_import(args[8], "cos_sin_cache", RP_ROW_DENSE, 0, &a[n]) < 0) goto fail;
    n++;
    if (rp_import(args[10], "position_ids", RP_ROW_DENSE, 0, &a[n]) < 0) goto fail;
    n++;
    rope_context *ctx = rp_context_acquire();
    rope_status st;
    Py_BEGIN_ALLOW_THREADS
    st = rope_vllm_fused_qk_norm_rope(ctx, &attrs, &a[4].t, &a[0].t, &a[1].t, &a[2].t, &a[3].t);
    Py_END_ALLOW_THREADS
    return rp_finish(ctx, a, n, st);
fail:
    rp_release_all(a, n);
    return NULL;
}

/* vLLM's kv_cache_dtype names reshape_and_cache_flash takes: the fp8 format (ROPE_DTYPE_INVALID for
 * "auto"), or -1 with RopeError. */
static int kv_cache_dtype_of(PyObject *o, rope_dtype *fp8) {
    const char *s = PyUnicode_Check(o) ? PyUnicode_AsUTF8(o) : NULL;
    if (!s) {
        PyErr_Clear();
        rp_raise_msg(ROPE_ERROR_ATTRIBUTE, "kv_cache_dtype: expected a str ('auto', 'fp8', 'fp8_e4m3' or "
                     "'fp8_e5m2'), got %.100s", Py_TYPE(o)->tp_name);
        return -1;
    }
    if (!strcmp(s, "auto")) *fp8 = ROPE_DTYPE_INVALID;
    else if (!strcmp(s, "fp8") || !strcmp(s, "fp8_e4m3")) *fp8 = ROPE_FP8_E4M3;
    else if (!strcmp(s, "fp8_e5m2")) *fp8 = ROPE_FP8_E5M2;
    else {
        rp_raise_msg(ROPE_ERROR_ATTRIBUTE, "kv_cache_dtype: '%s', expected 'auto', 'fp8', 'fp8_e4m3' or "
                     "'fp8_e5m2'", s);
        return -1;
    }
    return 0;
}

static int kv_layout_of(PyObject *o, rope_kv_layout *layout) {
    const char *s = PyUnicode_Check(o) ? PyUnicode_AsUTF8(o) : NULL;
    if (s && !strcmp(s, "NHD")) *layout = ROPE_KV_NHD;
    else if (s && !strcmp(s, "HND")) *layout = ROPE_KV_HND;
    else {
        PyErr_Clear();
        rp_raise_msg(ROPE_ERROR_ATTRIBUTE, "kv_layout: %R, expected 'NHD' ([num_blocks, block_size, Hk, "
                     "head_size]) or 'HND' ([num_blocks, Hk, block_size, head_size])", o);
        return -1;
    }
    return 0;
}

/* A cache whose dtype kv_cache_dtype does not describe: "auto" with an fp8 cache, or an fp8 name with
 * a cache of another dtype (the library would otherwise take the cache's dtype as the truth). */
static int check_cache_kind(const rope_tensor *cache, const char *name, rope_dtype fp8, PyObject *kv_cache_dtype) {
    int is_fp8 = cache->dtype == ROPE_FP8_E4M3 || cache->dtype == ROPE_FP8_E5M2;
    if (fp8 == ROPE_DTYPE_INVALID && is_fp8) {
        rp_raise_msg(ROPE_ERROR_DTYPE, "%s: dtype %s, and kv_cache_dtype 'auto' means the key's dtype: pass "
                     "kv_cache_dtype '%s' for an fp8 cache", name, rope_dtype_name(cache->dtype),
                     cache->dtype == ROPE_FP8_E4M3 ? "fp8_e4m3" : "fp8_e5m2");
        return -1;
    }
    if (fp8 != ROPE_DTYPE_INVALID && cache->dtype != fp8) {
        rp_raise_msg(ROPE_ERROR_DTYPE, "%s: dtype %s, expected %s (kv_cache_dtype %R: torch.%s or uint8)", name,
                     rope_dtype_name(cache->dtype), rope_dtype_name(fp8), kv_cache_dtype,
                     fp8 == ROPE_FP8_E4M3 ? "float8_e4m3fn" : "float8_e5m2");
        return -1;
    }
    return 0;
}

/* rope_and_cache(positions, query, key, value, head_size, cos_sin_cache, is_neox, key_cache,
 *                value_cache, slot_mapping, kv_cache_dtype, k_scale, v_scale, kv_layout, q_weight,
 *                k_weight, eps, mrope_section, mrope_interleaved, inverse) */
static PyObject *rope_and_cache(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    (void)self;
    static const Py_ssize_t counts[] = {20};
    if (rp_expect_args(nargs, counts, 1, "20", "rope_and_cache") < 0) return NULL;
    rope_kv_cache_attrs attrs;
    memset(&attrs, 0, sizeof attrs);
    rope_dtype fp8;
    double k_scale = 1.0, v_scale = 1.0;
    if (rp_vllm_attrs(args[4], args[6], args[17], args[18], &attrs.rope) < 0 ||
        kv_cache_dtype_of(args[10], &fp8) < 0 || kv_layout_of(args[13], &attrs.kv_layout) < 0 ||
        (args[11] != Py_None && as_double(args[11], "k_scale", &k_scale) < 0) ||
        (args[12] != Py_None && as_double(args[12], "v_scale", &v_scale) < 0) ||
        as_double(args[16], "eps", &attrs.eps) < 0)
        return NULL;
    int inverse = PyObject_IsTrue(args[19]); /* rotary_embedding's inverse: the negated angle */
    if (inverse < 0) return NULL;
    attrs.rope.inverse = inverse;
    attrs.k_scale = (float)k_scale;
    attrs.v_scale = (float)v_scale;
    int has_weights = args[14] != Py_None || args[15] != Py_None;
    rp_arg a[10];
    int n = 0;
    if (rp_import(args[0], "positions", RP_ROW_DENSE, 0, &a[n]) < 0) goto fail;
    n++;
    int rows = RP_ROW_AFTER_TOKENS(rp_token_rank(&a[0], &attrs.rope));
    if (rp_import(args[1], "query", rows, 1, &a[n]) < 0) goto fail;
    n++;
    if (rp_import(args[2], "key", rows, 1, &a[n]) < 0) goto fail;
    n++;
    if (rp_import(args[3], "value", rows, 0, &a[n]) < 0) goto fail;
    n++;
    if (rp_import(args[5], "cos_sin_cache", RP_ROW_DENSE, 0, &a[n]) < 0) goto fail;
    n++;
    if (rp_import_kv_cache(args[7], "key_cache", fp8, &a[n]) < 0) goto fail;
    n++;
    if (rp_import_kv_cache(args[8], "value_cache", fp8, &a[n]) < 0) goto fail;
    n++;
    if (check_cache_kind(&a[5].t, "key_cache", fp8, args[10]) < 0 ||
        check_cache_kind(&a[6].t, "value_cache", fp8, args[10]) < 0)
        goto fail;
    if (rp_import(args[9], "slot_mapping", RP_ROW_DENSE, 0, &a[n]) < 0) goto fail;
    n++;
    /* one weight without the other reaches the library as NULL, which refuses it by name */
    if (has_weights && args[14] != Py_None) {
        if (rp_import(args[14], "q_weight", RP_ROW_DENSE, 0, &a[n]) < 0) goto fail;
        n++;
    }
    const rope_tensor *qw = has_weights && args[14] != Py_None ? &a[n - 1].t : NULL;
    if (has_weights && args[15] != Py_None) {
        if (rp_import(args[15], "k_weight", RP_ROW_DENSE, 0, &a[n]) < 0) goto fail;
        n++;
    }
    const rope_tensor *kw = has_weights && args[15] != Py_None ? &a[n - 1].t : NULL;
    rope_context *ctx = rp_context_acquire();
    rope_status st;
    Py_BEGIN_ALLOW_THREADS
    st = rope_vllm_rotary_embedding_and_cache(ctx, &attrs, &a[0].t, &a[1].t, &a[2].t, &a[3].t, &a[4].t, &a[5].t,
                                              &a[6].t, &a[7].t, qw, kw);
    Py_END_ALLOW_THREADS
    return rp_finish(ctx, a, n, st);
fail:
    rp_release_all(a, n);
    return NULL;
}

PyMethodDef rp_prologue_methods[] = {
    {"qk_norm_rope", (PyCFunction)(void (*)(void))qk_norm_rope, METH_FASTCALL,
     "qk_norm_rope(qkv, num_heads_q, num_heads_k, num_heads_v, head_dim, eps, q_weight, k_weight, "
     "cos_sin_cache, is_neox, position_ids, mrope_section, mrope_interleaved)"},
    {"rope_and_cache", (PyCFunction)(void (*)(void))rope_and_cache, METH_FASTCALL,
     "rope_and_cache(positions, query, key, value, head_size, cos_sin_cache, is_neox, key_cache, value_cache, "
     "slot_mapping, kv_cache_dtype, k_scale, v_scale, kv_layout, q_weight, k_weight, eps, mrope_section, "
     "mrope_interleaved, inverse)"},
    {NULL, NULL, 0, NULL}};
