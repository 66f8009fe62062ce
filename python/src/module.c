/* SPDX-License-Identifier: MIT */
/* librope._core: module set-up, version and ISA queries, and the execution context every call runs
 * on (the library's default until set_num_threads makes one of the extension's own). */
#include "core.h"

/* The extension's context, counted while calls run on it without the GIL: set_num_threads swaps in a
 * new one and frees the old only when its last call has returned. NULL ctx: the library default. */
typedef struct rp_ctx {
    rope_context *ctx;
    long users;
    int retired;
} rp_ctx;

#define RP_MAX_CTX 64 /* contexts alive at once: the current one plus those still finishing calls */
static rp_ctx contexts[RP_MAX_CTX];
static rp_ctx *current;

rope_context *rp_context_acquire(void) {
    if (!current) return NULL;
    current->users++;
    return current->ctx;
}

void rp_context_release(rope_context *ctx) {
    if (!ctx) return;
    for (int i = 0; i < RP_MAX_CTX; i++) {
        rp_ctx *c = &contexts[i];
        if (c->ctx != ctx) continue;
        if (--c->users == 0 && c->retired) {
            rope_context_free(c->ctx);
            c->ctx = NULL;
            c->retired = 0;
        }
        return;
    }
}

static PyObject *set_num_threads(PyObject *self, PyObject *arg) {
    (void)self;
    long n = PyLong_AsLong(arg);
    if (n == -1 && PyErr_Occurred()) return NULL;
    rp_ctx *slot = NULL;
    for (int i = 0; i < RP_MAX_CTX && !slot; i++)
        if (!contexts[i].ctx) slot = &contexts[i];
    if (!slot) {
        PyErr_SetString(PyExc_RuntimeError, "librope.set_num_threads: too many calls still running on old contexts");
        return NULL;
    }
    rope_context_options opt = ROPE_CONTEXT_OPTIONS_INIT;
    opt.threads = n < 0 || n > 1 << 20 ? -1 : (int)n;
    rope_context *ctx = NULL;
    rope_status st = rope_context_create(&opt, &ctx);
    if (st != ROPE_OK) return rp_raise(st);
    if (current) {
        if (current->users == 0) {
            rope_context_free(current->ctx);
            current->ctx = NULL;
        } else {
            current->retired = 1;
        }
    }
    slot->ctx = ctx;
    slot->users = 0;
    slot->retired = 0;
    current = slot;
    Py_RETURN_NONE;
}

static PyObject *get_num_threads(PyObject *self, PyObject *unused) {
    (void)self, (void)unused;
    return PyLong_FromLong(rope_context_threads(current ? current->ctx : NULL));
}

static PyObject *isa(PyObject *self, PyObject *unused) {
    (void)self, (void)unused;
    return PyUnicode_FromString(rope_isa_name(rope_context_isa(current ? current->ctx : NULL)));
}

static PyMethodDef module_methods[] = {
    {"set_num_threads", set_num_threads, METH_O,
     "set_num_threads(n): the threads librope's calls use from now on (0: every online CPU)."},
    {"get_num_threads", get_num_threads, METH_NOARGS, "get_num_threads() -> the threads librope's calls use."},
    {"isa", isa, METH_NOARGS,
     "isa() -> the instruction set librope's kernels use: 'avx512', 'avx2', 'neon', 'scalar'."},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef module_def = {PyModuleDef_HEAD_INIT, "librope._core",
                                        "librope's C extension (use the librope package).", -1, module_methods,
                                        NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit__core(void) {
    PyObject *m = PyModule_Create(&module_def);
    if (!m) return NULL;
    if (rp_errors_init(m) < 0 || PyModule_AddFunctions(m, rp_ops_methods) < 0 || PyModule_AddFunctions(m, rp_fly_axes_methods) < 0 ||
        PyModule_AddFunctions(m, rp_cache_methods) < 0 || PyModule_AddFunctions(m, rp_bench_methods) < 0 ||
        PyModule_AddFunctions(m, rp_prologue_methods) < 0 ||
        PyModule_AddStringConstant(m, "version", rope_version_string()) < 0 ||
        PyModule_AddIntConstant(m, "max_rotary_dim", ROPE_MAX_ROTARY_DIM) < 0 ||
        PyModule_AddIntConstant(m, "has_vllm", 1) < 0) { /* every build has it (rope.h's vllm.h part) */
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
