/* SPDX-License-Identifier: MIT */
/* The operators on the fly from multi-axis positions: librope._core.onnx_fly_axes, .atb_fly_axes and
 * .vllm_fly_axes (rope_*_fly_axes). The axes configuration arrives as plain arguments (axes_dims,
 * thetas, freq, attention: rp_axes_config), the coordinates as a tensor [tokens, A] imported without
 * a copy; the library runs without the GIL. */
#include "core.h"

static int as_i64(PyObject *o, const char *name, int64_t *v) {
    long long x = PyLong_AsLongLong(o);
    if (x == -1 && PyErr_Occurred()) {
        PyErr_Format(PyExc_TypeError, "librope: %s must be an integer", name);
        return -1;
    }
    *v = (int64_t)x;
    return 0;
}

static int as_i32(PyObject *o, const char *name, int32_t *v) {
    int64_t x;
    if (as_i64(o, name, &x) < 0) return -1;
    if (x < INT32_MIN || x > INT32_MAX) {
        PyErr_Format(PyExc_ValueError, "librope: %s must fit in 32 bits, found %lld", name, (long long)x);
        return -1;
    }
    *v = (int32_t)x;
    return 0;
}

static int expect(Py_ssize_t nargs, Py_ssize_t want, const char *fn) {
    if (nargs == want) return 0;
    PyErr_Format(PyExc_TypeError, "librope._core.%s takes %zd arguments (%zd given)", fn, want, nargs);
    return -1;
}

/* The trailing five arguments of every call: axes_dims, thetas, freq, attention, cs_dtype (0: the
 * data's; else a rope_dtype value). */
static int fly_of(PyObject *const *args, rope_axes_config *cfg, rope_fly_axes *fly) {
    if (rp_axes_config(args[0], args[1], args[2], args[3], cfg) < 0) return -1;
    int32_t cs;
    if (as_i32(args[4], "cs_dtype", &cs) < 0) return -1;
    *fly = (rope_fly_axes)ROPE_FLY_AXES_INIT;
    fly->axes = cfg;
    fly->cs_dtype = (rope_dtype)cs;
    return 0;
}

/* onnx_fly_axes(x, positions, y, interleaved, rotary_embedding_dim, num_heads, backward, axes_dims,
 *               thetas, freq, attention, cs_dtype) */
static PyObject *onnx_fly_axes(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    (void)self;
    if (expect(nargs, 12, "onnx_fly_axes") < 0) return NULL;
    rope_onnx_attrs attrs;
    if (as_i64(args[3], "interleaved", &attrs.interleaved) < 0 ||
        as_i64(args[4], "rotary_embedding_dim", &attrs.rotary_embedding_dim) < 0 ||
        as_i64(args[5], "num_heads", &attrs.num_heads) < 0)
        return NULL;
    int backward = PyObject_IsTrue(args[6]);
    rope_axes_config cfg;
    rope_fly_axes fly;
    if (fly_of(args + 7, &cfg, &fly) < 0) return NULL;
    rp_arg a[3];
    int n = 0;
    if (rp_import(args[0], backward ? "dy" : "x", 1, 0, &a[n]) < 0) goto fail;
    n++;
    if (rp_import(args[1], "positions", RP_ROW_DENSE, 0, &a[n]) < 0) goto fail;
    n++;
    if (rp_import_or_same(args[2], backward ? "dx" : "y", 1, &a[0], &a[n]) < 0) goto fail;
    n++;
    fly.positions = a[1].t;
    rope_context *ctx = rp_context_acquire();
    rope_status st;
    Py_BEGIN_ALLOW_THREADS st = backward
                                    ? rope_onnx_rotary_embedding_fly_axes_backward(ctx, &attrs, &a[0].t, &fly, &a[2].t)
                                    : rope_onnx_rotary_embedding_fly_axes(ctx, &attrs, &a[0].t, &fly, &a[2].t);
    Py_END_ALLOW_THREADS return rp_finish(ctx, a, n, st);
fail:
    rp_release_all(a, n);
    return NULL;
}

/* atb_fly_axes(query, key, positions, seqlen, rope_q, rope_k, rotary_coeff, backward, partial,
 *              head_size, axes_dims, thetas, freq, attention, cs_dtype) */
static PyObject *atb_fly_axes(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    (void)self;
    if (expect(nargs, 15, "atb_fly_axes") < 0) return NULL;
    rope_atb_param param = ROPE_ATB_PARAM_INIT;
    int32_t partial;
    if (as_i32(args[6], "rotary_coeff", &param.rotary_coeff) < 0 || as_i32(args[8], "partial", &partial) < 0 ||
        as_i32(args[9], "head_size", &param.head_size) < 0)
        return NULL;
    if (partial < 0 || partial > UINT8_MAX) {
        PyErr_Format(PyExc_ValueError, "librope: partial must be a rope_partial (0 leading, 1 split), found %d",
                     (int)partial);
        return NULL;
    }
    param.partial = (uint8_t)partial;
    param.cos_format = 0;
    int backward = PyObject_IsTrue(args[7]);
    rope_axes_config cfg;
    rope_fly_axes fly;
    if (fly_of(args + 10, &cfg, &fly) < 0) return NULL;
    static const char *const fwd_names[] = {"query", "key", "positions", "seqlen", "rope_q", "rope_k"};
    static const char *const bwd_names[] = {"grad_q", "grad_k", "positions", "seqlen", "dq", "dk"};
    const char *const *names = backward ? bwd_names : fwd_names;
    static const int row_ranks[] = {RP_ROW_ATB, RP_ROW_ATB, RP_ROW_DENSE, RP_ROW_DENSE};
    rp_arg a[6];
    int n = 0;
    for (; n < 4; n++)
        if (rp_import(args[n], names[n], row_ranks[n], 0, &a[n]) < 0) goto fail;
    if (rp_import_or_same(args[4], names[4], RP_ROW_ATB, &a[0], &a[4]) < 0) goto fail;
    n++;
    if (rp_import_or_same(args[5], names[5], RP_ROW_ATB, &a[1], &a[5]) < 0) goto fail;
    n++;
    fly.positions = a[2].t;
    rope_context *ctx = rp_context_acquire();
    rope_status st;
    Py_BEGIN_ALLOW_THREADS st =
        backward ? rope_atb_rope_fly_axes_backward(ctx, &param, &a[0].t, &a[1].t, &fly, &a[3].t, &a[4].t, &a[5].t)
                 : rope_atb_rope_fly_axes(ctx, &param, &a[0].t, &a[1].t, &fly, &a[3].t, &a[4].t, &a[5].t);
    Py_END_ALLOW_THREADS return rp_finish(ctx, a, n, st);
fail:
    rp_release_all(a, n);
    return NULL;
}

/* vllm_fly_axes(positions, query, key or None, head_size, is_neox, rope_dim_offset, inverse, partial,
 *               pairs_to_halves, axes_dims, thetas, freq, attention, cs_dtype): in place. */
static PyObject *vllm_fly_axes(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    (void)self;
    if (expect(nargs, 14, "vllm_fly_axes") < 0) return NULL;
    rope_vllm_attrs attrs = ROPE_VLLM_ATTRS_INIT;
    if (as_i64(args[3], "head_size", &attrs.head_size) < 0 ||
        as_i64(args[5], "rope_dim_offset", &attrs.rope_dim_offset) < 0 ||
        as_i32(args[7], "partial", &attrs.partial) < 0)
        return NULL;
    attrs.is_neox = PyObject_IsTrue(args[4]) ? 1 : 0;
    attrs.inverse = PyObject_IsTrue(args[6]) ? 1 : 0;
    attrs.pairs_to_halves = PyObject_IsTrue(args[8]) ? 1 : 0;
    rope_axes_config cfg;
    rope_fly_axes fly;
    if (fly_of(args + 9, &cfg, &fly) < 0) return NULL;
    int has_key = args[2] != Py_None;
    rp_arg a[3];
    int n = 0;
    if (rp_import(args[0], "positions", RP_ROW_DENSE, 0, &a[n]) < 0) goto fail;
    n++;
    int token_rank = a[0].t.rank - 1; /* [T, A] or [B, S, A]: the query's token dims */
    if (token_rank < 1) token_rank = 1;
    if (rp_import(args[1], "query", RP_ROW_AFTER_TOKENS(token_rank), 1, &a[n]) < 0) goto fail;
    n++;
    if (has_key) {
        if (rp_import(args[2], "key", RP_ROW_AFTER_TOKENS(token_rank), 1, &a[n]) < 0) goto fail;
        n++;
    }
    fly.positions = a[0].t;
    rope_context *ctx = rp_context_acquire();
    rope_status st;
    const rope_tensor *key = has_key ? &a[2].t : NULL;
    Py_BEGIN_ALLOW_THREADS st = rope_vllm_rotary_embedding_fly_axes(ctx, &attrs, &a[1].t, key, &fly, &a[1].t, key);
    Py_END_ALLOW_THREADS return rp_finish(ctx, a, n, st);
fail:
    rp_release_all(a, n);
    return NULL;
}

PyMethodDef rp_fly_axes_methods[] = {
    {"onnx_fly_axes", (PyCFunction)(void (*)(void))onnx_fly_axes, METH_FASTCALL,
     "onnx_fly_axes(x, positions, y, interleaved, rotary_embedding_dim, num_heads, backward, axes_dims, thetas, "
     "freq, attention, cs_dtype)"},
    {"atb_fly_axes", (PyCFunction)(void (*)(void))atb_fly_axes, METH_FASTCALL,
     "atb_fly_axes(query, key, positions, seqlen, rope_q, rope_k, rotary_coeff, backward, partial, head_size, "
     "axes_dims, thetas, freq, attention, cs_dtype)"},
    {"vllm_fly_axes", (PyCFunction)(void (*)(void))vllm_fly_axes, METH_FASTCALL,
     "vllm_fly_axes(positions, query, key, head_size, is_neox, rope_dim_offset, inverse, partial, pairs_to_halves, "
     "axes_dims, thetas, freq, attention, cs_dtype)"},
    {NULL, NULL, 0, NULL}};
