/* SPDX-License-Identifier: MIT */
/* Shared declarations of the extension librope._core: tensor import (dlpack_in.c), errors
 * (errors.c), the context calls run on (module.c), and the method tables of ops.c and cache.c. */
#ifndef LIBROPE_CORE_H
#define LIBROPE_CORE_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "rope.h"
#include "rope_dlpack.h"

/* A tensor argument described without copying it. `keep` holds what keeps the description valid
 * (a DLPack capsule or managed tensor, a buffer view); rp_release lets it go. */
typedef struct rp_arg {
    rope_tensor t;
    PyObject *obj;          /* the argument (borrowed) */
    DLManagedTensor *managed; /* from __dlpack__: its deleter runs on release */
    Py_buffer view;         /* from the buffer protocol, when has_view */
    int has_view;
    PyObject *holder;       /* a view object made for the import (ml_dtypes bfloat16), or NULL */
    PyObject *why;          /* why the object's own DLPack export failed (a str), or NULL */
    rope_dtype u8_as;       /* set before rp_import_kv_cache: the fp8 format a uint8 tensor holds */
    int kv_cache;           /* a KV cache: uint8 read as u8_as */
} rp_arg;

/* Describes `obj` (argument `name`) as a rope_tensor whose trailing `row_rank` dims form a row
 * (rope_tensor_from_dlpack). Tries the type's DLPack C exchange API, then __dlpack__, then the buffer
 * protocol (`writable`: the call writes it). Never copies. Returns 0, or -1 with an exception set
 * (TypeError: not a tensor; RopeError: a layout, device or dtype the library cannot take). */
/* row_rank values resolved from the tensor's own rank: ATB's query/key (a 4-D one's row is heads x
 * head_size), and "every dim after the first n" (the vLLM query after the positions' token dims). */
#define RP_ROW_ATB (-1)
#define RP_ROW_AFTER_TOKENS(n) (-100 - (n))
#define RP_ROW_DENSE ROPE_MAX_RANK
int rp_import(PyObject *obj, const char *name, int row_rank, int writable, rp_arg *out);
/* Imports `obj` as `out` unless it is the same object as `same` (in place): then `out` copies
 * `same`'s description and owns nothing. */
int rp_import_or_same(PyObject *obj, const char *name, int row_rank, const rp_arg *same, rp_arg *out);
void rp_release(rp_arg *a);
/* Imports a paged KV cache (dense): uint8 holding fp8 bits becomes `u8_as` (ROPE_DTYPE_INVALID:
 * uint8 refused, kv_cache_dtype "auto" names no fp8 format); any other dtype as rp_import (torch's
 * float8_e4m3fn / float8_e5m2 become ROPE_FP8_E4M3 / ROPE_FP8_E5M2 there, as every tensor's do). */
int rp_import_kv_cache(PyObject *obj, const char *name, rope_dtype u8_as, rp_arg *out);

/* Maps the pages of `t`, a dense output the Python layer has just allocated, before the library
 * writes it (populate.c): one system call instead of a page fault per page. Changes no value; does
 * nothing for small tensors or where the system has no such call. Call it without the GIL. */
void rp_populate(const rope_tensor *t);

/* Arguments (args.c). An integer, or -1 with TypeError naming it. */
int rp_as_i64(PyObject *o, const char *name, int64_t *v);
/* 0 when nargs is one of the `n` counts in `counts`, else -1 with TypeError (`said` lists them): the
 * longer forms of a call add trailing attributes that older callers, such as bench.py, leave out. */
int rp_expect_args(Py_ssize_t nargs, const Py_ssize_t *counts, int n, const char *said, const char *fn);
/* vLLM's rotation attributes from ROPE_VLLM_ATTRS_INIT and head_size, is_neox, mrope_section (None
 * or 3 / 4 integers) and mrope_interleaved; -1 with an exception. */
int rp_vllm_attrs(PyObject *head_size, PyObject *is_neox, PyObject *section, PyObject *interleaved,
                  rope_vllm_attrs *attrs);
/* The rank of a vLLM query's token dims: the positions' rank, less the MRoPE axis (at least 1). */
int rp_token_rank(const rp_arg *positions, const rope_vllm_attrs *attrs);

/* Raises librope.RopeError for `status` with rope_last_error() as message; returns NULL. */
PyObject *rp_raise(rope_status status);
/* Raises RopeError for `status` with a message of the binding's own (PyUnicode_FromFormat's format). */
PyObject *rp_raise_msg(rope_status status, const char *format, ...);
int rp_errors_init(PyObject *module);

/* The context compute calls use (NULL: the library's default), pinned while in use so that
 * set_num_threads from another thread cannot free it under a running call. Both need the GIL. */
rope_context *rp_context_acquire(void);
void rp_context_release(rope_context *ctx);

/* A rope_axes_config from Python values (cache.c): axes_dims and thetas sequences (one theta per
 * axis), freq a rope_axes_freq, attention a float. More than ROPE_MAX_AXES widths give an n_axes the
 * library refuses. Returns 0, or -1 with an exception set. */
int rp_axes_config(PyObject *dims, PyObject *thetas, PyObject *freq, PyObject *attention, rope_axes_config *out);

extern PyMethodDef rp_ops_methods[];
extern PyMethodDef rp_fly_axes_methods[];
extern PyMethodDef rp_cache_methods[];
extern PyMethodDef rp_bench_methods[];
extern PyMethodDef rp_prologue_methods[];

/* Every imported tensor let go. */
static inline void rp_release_all(rp_arg *a, int n) {
    for (int i = 0; i < n; i++) rp_release(&a[i]);
}

/* The end of a call made with the GIL released: the context and the tensors go back, a failure
 * becomes RopeError. */
static inline PyObject *rp_finish(rope_context *ctx, rp_arg *a, int n, rope_status st) {
    rp_context_release(ctx);
    rp_release_all(a, n);
    if (st != ROPE_OK) return rp_raise(st);
    Py_RETURN_NONE;
}

#endif
