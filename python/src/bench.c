/* SPDX-License-Identifier: MIT */
/* librope._core.atb_c_seconds: the time of the C call alone, for python/bench.py's decode overhead
 * (a Python call's time minus this is what the binding adds). */
#include "core.h" /* first: Python.h sets the POSIX feature macros */

#include <time.h>

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* atb_c_seconds(query, key, cos, sin, seqlen, rotary_coeff, iterations) -> seconds per in-place call */
static PyObject *atb_c_seconds(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    (void)self;
    if (nargs != 7) {
        PyErr_SetString(PyExc_TypeError, "librope._core.atb_c_seconds takes 7 arguments");
        return NULL;
    }
    long coeff = PyLong_AsLong(args[5]), iters = PyLong_AsLong(args[6]);
    if (PyErr_Occurred()) return NULL;
    static const char *const names[] = {"query", "key", "cos", "sin", "seqlen"};
    rp_arg a[5];
    int n = 0;
    for (; n < 5; n++)
        if (rp_import(args[n], names[n], n < 2 ? RP_ROW_ATB : RP_ROW_DENSE, n < 2, &a[n]) < 0) {
            while (n-- > 0) rp_release(&a[n]);
            return NULL;
        }
    rope_atb_param param = ROPE_ATB_PARAM_INIT;
    param.rotary_coeff = (int32_t)coeff;
    rope_context *ctx = rp_context_acquire();
    rope_status st = ROPE_OK;
    double t0 = 0, t1 = 0;
    Py_BEGIN_ALLOW_THREADS
    t0 = now();
    for (long i = 0; i < iters && st == ROPE_OK; i++)
        st = rope_atb_rope(ctx, &param, &a[0].t, &a[1].t, &a[2].t, &a[3].t, &a[4].t, &a[0].t, &a[1].t);
    t1 = now();
    Py_END_ALLOW_THREADS
    rp_context_release(ctx);
    for (int i = 0; i < 5; i++) rp_release(&a[i]);
    if (st != ROPE_OK) return rp_raise(st);
    return PyFloat_FromDouble((t1 - t0) / (double)(iters > 0 ? iters : 1));
}

PyMethodDef rp_bench_methods[] = {
    {"atb_c_seconds", (PyCFunction)(void (*)(void))atb_c_seconds, METH_FASTCALL,
     "atb_c_seconds(query, key, cos, sin, seqlen, rotary_coeff, iterations) -> seconds per C call"},
    {NULL, NULL, 0, NULL}};
