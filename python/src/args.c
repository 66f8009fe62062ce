/* SPDX-License-Identifier: MIT */
/* Python arguments the operators share (ops.c, prologue.c): integers, argument counts, and vLLM's
 * rotation attributes with MRoPE's sections. */
#include "core.h"

int rp_as_i64(PyObject *o, const char *name, int64_t *v) {
    long long x = PyLong_AsLongLong(o);
    if (x == -1 && PyErr_Occurred()) {
        PyErr_Format(PyExc_TypeError, "librope: %s must be an integer", name);
        return -1;
    }
    *v = (int64_t)x;
    return 0;
}

int rp_expect_args(Py_ssize_t nargs, const Py_ssize_t *counts, int n, const char *said, const char *fn) {
    for (int i = 0; i < n; i++)
        if (nargs == counts[i]) return 0;
    PyErr_Format(PyExc_TypeError, "librope._core.%s takes %s arguments (%zd given)", fn, said, nargs);
    return -1;
}

/* mrope_section: 3 or 4 integers (the library checks their values and count); more than 4 would not
 * fit the attributes. */
static int mrope_section(PyObject *section, rope_vllm_attrs *attrs) {
    PyObject *seq = PySequence_Fast(section, "librope: mrope_section must be a sequence of integers");
    if (!seq) return -1;
    Py_ssize_t m = PySequence_Fast_GET_SIZE(seq);
    if (m > 4) {
        Py_DECREF(seq);
        PyErr_Format(PyExc_ValueError, "librope: mrope_section has %zd entries, expected 3 or 4", m);
        return -1;
    }
    attrs->n_mrope_section = (int32_t)m;
    for (Py_ssize_t i = 0; i < m; i++)
        if (rp_as_i64(PySequence_Fast_GET_ITEM(seq, i), "mrope_section[i]", &attrs->mrope_section[i]) < 0) {
            Py_DECREF(seq);
            return -1;
        }
    Py_DECREF(seq);
    return 0;
}

int rp_vllm_attrs(PyObject *head_size, PyObject *is_neox, PyObject *section, PyObject *interleaved,
                  rope_vllm_attrs *attrs) {
    const rope_vllm_attrs defaults = ROPE_VLLM_ATTRS_INIT;
    *attrs = defaults;
    if (rp_as_i64(head_size, "head_size", &attrs->head_size) < 0) return -1;
    int neox = PyObject_IsTrue(is_neox), inter = PyObject_IsTrue(interleaved);
    if (neox < 0 || inter < 0) return -1;
    attrs->is_neox = neox;
    attrs->mrope_interleaved = inter;
    return section == Py_None ? 0 : mrope_section(section, attrs);
}

int rp_token_rank(const rp_arg *positions, const rope_vllm_attrs *attrs) {
    int r = positions->t.rank - (attrs->n_mrope_section > 0 ? 1 : 0);
    return r < 1 ? 1 : r;
}
