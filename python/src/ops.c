/* SPDX-License-Identifier: MIT */
/* The operators on Python arguments: librope._core.onnx, .atb and .vllm. Every tensor is imported
 * without a copy (dlpack_in.c), the library runs without the GIL, and an output that is its input's
 * own object (in place) reuses the input's description. The Python layer allocates outputs. */
#include "core.h"

/* An integer attribute that must fit in 32 bits; ValueError naming it otherwise. */
static int as_i32(PyObject *o, const char *name, int32_t *v) {
    int64_t x;
    if (rp_as_i64(o, name, &x) < 0) return -1;
    if (x < INT32_MIN || x > INT32_MAX) {
        PyErr_Format(PyExc_ValueError, "librope: %s must fit in 32 bits, found %lld", name, (long long)x);
        return -1;
    }
    *v = (int32_t)x;
    return 0;
}


/* onnx(x, cos, sin, position_ids or None, y, interleaved, rotary_embedding_dim, num_heads, backward[,
 *      fresh]); fresh: y was just allocated (its pages are mapped before the library writes them). */
static PyObject *onnx(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    (void)self;
    static const Py_ssize_t counts[] = {9, 10};
    if (rp_expect_args(nargs, counts, 2, "9 or 10", "onnx") < 0) return NULL;
    rope_onnx_attrs attrs;
    if (rp_as_i64(args[5], "interleaved", &attrs.interleaved) < 0 ||
        rp_as_i64(args[6], "rotary_embedding_dim", &attrs.rotary_embedding_dim) < 0 ||
        rp_as_i64(args[7], "num_heads", &attrs.num_heads) < 0)
        return NULL;
    int backward = PyObject_IsTrue(args[8]);
    int fresh = nargs == 10 && PyObject_IsTrue(args[9]) == 1;
    rp_arg a[5];
    int n = 0, has_pos = args[3] != Py_None;
    if (rp_import(args[0], backward ? "dy" : "x", 1, 0, &a[n]) < 0) goto fail;
    n++;
    if (rp_import(args[1], "cos_cache", RP_ROW_DENSE, 0, &a[n]) < 0) goto fail;
    n++;
    if (rp_import(args[2], "sin_cache", RP_ROW_DENSE, 0, &a[n]) < 0) goto fail;
    n++;
    if (rp_import_or_same(args[4], backward ? "dx" : "y", 1, &a[0], &a[n]) < 0) goto fail;
    n++;
    if (has_pos) {
        if (rp_import(args[3], "position_ids", RP_ROW_DENSE, 0, &a[n]) < 0) goto fail;
        n++;
    }
    rope_context *ctx = rp_context_acquire();
    rope_status st;
    Py_BEGIN_ALLOW_THREADS
    if (fresh) rp_populate(&a[3].t);
    if (backward)
        st = rope_onnx_rotary_embedding_backward(ctx, &attrs, &a[0].t, &a[1].t, &a[2].t, has_pos ? &a[4].t : NULL,
                                                 &a[3].t);
    else
        st = rope_onnx_rotary_embedding(ctx, &attrs, &a[0].t, &a[1].t, &a[2].t, has_pos ? &a[4].t : NULL, &a[3].t);
    Py_END_ALLOW_THREADS
    return rp_finish(ctx, a, n, st);
fail:
    rp_release_all(a, n);
    return NULL;
}

/* atb(query, key, cos, sin, seqlen, rope_q, rope_k, rotary_coeff, cos_format, backward[, partial,
 *     head_size[, fresh]]); fresh: rope_q and rope_k were just allocated (as onnx's y). */
static PyObject *atb(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    (void)self;
    static const Py_ssize_t counts[] = {10, 12, 13};
    if (rp_expect_args(nargs, counts, 3, "10, 12 or 13", "atb") < 0) return NULL;
    int64_t coeff, format;
    if (rp_as_i64(args[7], "rotary_coeff", &coeff) < 0 || rp_as_i64(args[8], "cos_format", &format) < 0) return NULL;
    if (coeff < INT32_MIN || coeff > INT32_MAX || format < INT32_MIN || format > INT32_MAX) {
        PyErr_SetString(PyExc_OverflowError, "librope: rotary_coeff and cos_format must fit in 32 bits");
        return NULL;
    }
    rope_atb_param param = ROPE_ATB_PARAM_INIT;
    param.rotary_coeff = (int32_t)coeff;
    param.cos_format = (int32_t)format;
    if (nargs >= 12) {
        int32_t partial;
        if (as_i32(args[10], "partial", &partial) < 0 || as_i32(args[11], "head_size", &param.head_size) < 0)
            return NULL;
        if (partial < 0 || partial > UINT8_MAX) { /* the field is one byte: no rope_partial out there */
            PyErr_Format(PyExc_ValueError, "librope: partial must be a rope_partial (0 leading, 1 split), found %d",
                         (int)partial);
            return NULL;
        }
        param.partial = (uint8_t)partial;
    }
    int backward = PyObject_IsTrue(args[9]);
    int fresh = nargs == 13 && PyObject_IsTrue(args[12]) == 1;
    static const char *const fwd_names[] = {"query", "key", "cos", "sin", "seqlen", "rope_q", "rope_k"};
    static const char *const bwd_names[] = {"grad_q", "grad_k", "cos", "sin", "seqlen", "dq", "dk"};
    const char *const *names = backward ? bwd_names : fwd_names;
    static const int row_ranks[] = {RP_ROW_ATB, RP_ROW_ATB, RP_ROW_DENSE, RP_ROW_DENSE, RP_ROW_DENSE};
    rp_arg a[7];
    int n = 0;
    for (; n < 5; n++)
        if (rp_import(args[n], names[n], row_ranks[n], 0, &a[n]) < 0) goto fail;
    if (rp_import_or_same(args[5], names[5], RP_ROW_ATB, &a[0], &a[5]) < 0) goto fail;
    n++;
    if (rp_import_or_same(args[6], names[6], RP_ROW_ATB, &a[1], &a[6]) < 0) goto fail;
    n++;
    rope_context *ctx = rp_context_acquire();
    rope_status st;
    Py_BEGIN_ALLOW_THREADS
    if (fresh) {
        rp_populate(&a[5].t);
        rp_populate(&a[6].t);
    }
    if (backward)
        st = rope_atb_rope_backward(ctx, &param, &a[0].t, &a[1].t, &a[2].t, &a[3].t, &a[4].t, &a[5].t, &a[6].t);
    else
        st = rope_atb_rope(ctx, &param, &a[0].t, &a[1].t, &a[2].t, &a[3].t, &a[4].t, &a[5].t, &a[6].t);
    Py_END_ALLOW_THREADS
    return rp_finish(ctx, a, n, st);
fail:
    rp_release_all(a, n);
    return NULL;
}

/* vllm(positions, query, key or None, head_size, cos_sin_cache, is_neox, mrope_section or None,
 *      mrope_interleaved[, rope_dim_offset, inverse, partial, pairs_to_halves]): in place, vLLM's
 * rotary_embedding. */
static PyObject *vllm(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    (void)self;
    static const Py_ssize_t counts[] = {8, 12};
    if (rp_expect_args(nargs, counts, 2, "8 or 12", "vllm") < 0) return NULL;
    rope_vllm_attrs attrs;
    if (rp_vllm_attrs(args[3], args[5], args[6], args[7], &attrs) < 0) return NULL;
    if (nargs == 12) {
        if (rp_as_i64(args[8], "rope_dim_offset", &attrs.rope_dim_offset) < 0 ||
            as_i32(args[10], "partial", &attrs.partial) < 0)
            return NULL;
        attrs.inverse = PyObject_IsTrue(args[9]) ? 1 : 0;
        attrs.pairs_to_halves = PyObject_IsTrue(args[11]) ? 1 : 0;
    }
    int has_key = args[2] != Py_None;
    rp_arg a[4];
    int n = 0;
    if (rp_import(args[0], "positions", RP_ROW_DENSE, 0, &a[n]) < 0) goto fail;
    n++;
    /* query's token dims are the positions' (less the MRoPE axis); the rest is one row */
    int token_rank = rp_token_rank(&a[0], &attrs);
    if (rp_import(args[1], "query", RP_ROW_AFTER_TOKENS(token_rank), 1, &a[n]) < 0) goto fail;
    n++;
    if (rp_import(args[4], "cos_sin_cache", RP_ROW_DENSE, 0, &a[n]) < 0) goto fail;
    n++;
    if (has_key) {
        if (rp_import(args[2], "key", RP_ROW_AFTER_TOKENS(token_rank), 1, &a[n]) < 0) goto fail;
        n++;
    }
    rope_context *ctx = rp_context_acquire();
    rope_status st;
    const rope_tensor *key = has_key ? &a[3].t : NULL;
    Py_BEGIN_ALLOW_THREADS
    st = rope_vllm_rotary_embedding(ctx, &attrs, &a[0].t, &a[1].t, key, &a[2].t, &a[1].t, key);
    Py_END_ALLOW_THREADS
    return rp_finish(ctx, a, n, st);
fail:
    rp_release_all(a, n);
    return NULL;
}

PyMethodDef rp_ops_methods[] = {
    {"onnx", (PyCFunction)(void (*)(void))onnx, METH_FASTCALL,
     "onnx(x, cos, sin, position_ids, y, interleaved, rotary_embedding_dim, num_heads, backward)"},
    {"atb", (PyCFunction)(void (*)(void))atb, METH_FASTCALL,
     "atb(query, key, cos, sin, seqlen, rope_q, rope_k, rotary_coeff, cos_format, backward[, partial, head_size])"},
    {"vllm", (PyCFunction)(void (*)(void))vllm, METH_FASTCALL,
     "vllm(positions, query, key, head_size, cos_sin_cache, is_neox, mrope_section, mrope_interleaved[, "
     "rope_dim_offset, inverse, partial, pairs_to_halves])"},
    {NULL, NULL, 0, NULL}};
