/* SPDX-License-Identifier: MIT */
/* librope.RopeError: a ValueError carrying the library's message and its status name. */
#include "core.h"

#include <stdarg.h>
#include <string.h>

static PyObject *rope_error_type;

int rp_errors_init(PyObject *module) {
    rope_error_type = PyErr_NewExceptionWithDoc(
        "librope.RopeError",
        "A librope call refused its arguments. str(err) is the library's message (which argument, which "
        "dimension, expected versus found); err.status is the status name, such as 'ROPE_ERROR_SHAPE'.",
        PyExc_ValueError, NULL);
    if (!rope_error_type) return -1;
    Py_INCREF(rope_error_type);
    if (PyModule_AddObject(module, "RopeError", rope_error_type) < 0) {
        Py_DECREF(rope_error_type);
        return -1;
    }
    return 0;
}

PyObject *rp_raise(rope_status status) {
    /* "ROPE_ERROR_SHAPE: tensor dimension mismatch" -> "ROPE_ERROR_SHAPE" */
    const char *full = rope_status_string(status);
    const char *colon = strchr(full, ':');
    PyObject *name = PyUnicode_FromStringAndSize(full, colon ? (Py_ssize_t)(colon - full) : (Py_ssize_t)strlen(full));
    PyObject *err = name ? PyObject_CallFunction(rope_error_type, "s", rope_last_error()) : NULL;
    if (err && PyObject_SetAttrString(err, "status", name) == 0) PyErr_SetObject(rope_error_type, err);
    Py_XDECREF(err);
    Py_XDECREF(name);
    return NULL;
}

PyObject *rp_raise_msg(rope_status status, const char *format, ...) {
    /* the library's message for the library's checks; this one for what the binding checks itself
     * (kv_cache_dtype, kv_layout, a cache of the wrong fp8 kind), with the same status names */
    va_list ap;
    va_start(ap, format);
    PyObject *msg = PyUnicode_FromFormatV(format, ap);
    va_end(ap);
    if (!msg) return NULL;
    const char *full = rope_status_string(status);
    const char *colon = strchr(full, ':');
    PyObject *name = PyUnicode_FromStringAndSize(full, colon ? (Py_ssize_t)(colon - full) : (Py_ssize_t)strlen(full));
    PyObject *err = name ? PyObject_CallOneArg(rope_error_type, msg) : NULL;
    if (err && PyObject_SetAttrString(err, "status", name) == 0) PyErr_SetObject(rope_error_type, err);
    Py_XDECREF(err);
    Py_XDECREF(name);
    Py_DECREF(msg);
    return NULL;
}
