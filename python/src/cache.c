/* SPDX-License-Identifier: MIT */
/* Caches from a RoPE configuration: librope._core.cache_fill and .freq_compute. The configuration
 * arrives as a dict of rope_freq_config's field names (the Python layer reads Hugging Face's config
 * into it); factor arrays are lists of floats. And cache_fill_axes: the tables of multi-axis
 * positions (rope_cache_fill_axes), the configuration as plain arguments. */
#include "core.h"

#include <string.h>

typedef struct rp_freq {
    rope_freq_config cfg;
    double *short_factor, *long_factor;
} rp_freq;

static int get_double(PyObject *d, const char *key, double *v) {
    PyObject *o = PyDict_GetItemString(d, key); /* borrowed */
    if (!o || o == Py_None) return 0;
    double x = PyFloat_AsDouble(o);
    if (x == -1.0 && PyErr_Occurred()) {
        PyErr_Format(PyExc_TypeError, "librope: config %s must be a number", key);
        return -1;
    }
    *v = x;
    return 0;
}

static int get_i64(PyObject *d, const char *key, int64_t *v) {
    PyObject *o = PyDict_GetItemString(d, key);
    if (!o || o == Py_None) return 0;
    long long x = PyLong_AsLongLong(o);
    if (x == -1 && PyErr_Occurred()) {
        PyErr_Format(PyExc_TypeError, "librope: config %s must be an integer", key);
        return -1;
    }
    *v = (int64_t)x;
    return 0;
}

static int get_array(PyObject *d, const char *key, double **out) {
    PyObject *o = PyDict_GetItemString(d, key);
    if (!o || o == Py_None) return 0;
    PyObject *seq = PySequence_Fast(o, "librope: config factor arrays must be sequences of numbers");
    if (!seq) return -1;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    double *a = PyMem_Malloc((size_t)(n > 0 ? n : 1) * sizeof(double));
    if (!a) {
        Py_DECREF(seq);
        PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        a[i] = PyFloat_AsDouble(PySequence_Fast_GET_ITEM(seq, i));
        if (a[i] == -1.0 && PyErr_Occurred()) {
            PyMem_Free(a);
            Py_DECREF(seq);
            return -1;
        }
    }
    Py_DECREF(seq);
    *out = a;
    return 0;
}

static void freq_free(rp_freq *f) {
    PyMem_Free(f->short_factor);
    PyMem_Free(f->long_factor);
}

static int freq_from_dict(PyObject *d, rp_freq *f) {
    memset(f, 0, sizeof *f);
    if (!PyDict_Check(d)) {
        PyErr_SetString(PyExc_TypeError, "librope: the frequency configuration must be a dict");
        return -1;
    }
    rope_freq_config *c = &f->cfg;
    *c = (rope_freq_config)ROPE_FREQ_CONFIG_INIT;
    int64_t scaling = 0, no_truncate = 0;
    if (get_double(d, "base", &c->base) < 0 || get_i64(d, "rotary_dim", &c->rotary_dim) < 0 ||
        get_i64(d, "scaling", &scaling) < 0 || get_double(d, "factor", &c->factor) < 0 ||
        get_i64(d, "original_max_position_embeddings", &c->original_max_position_embeddings) < 0 ||
        get_double(d, "low_freq_factor", &c->low_freq_factor) < 0 ||
        get_double(d, "high_freq_factor", &c->high_freq_factor) < 0 || get_double(d, "beta_fast", &c->beta_fast) < 0 ||
        get_double(d, "beta_slow", &c->beta_slow) < 0 || get_double(d, "mscale", &c->mscale) < 0 ||
        get_double(d, "mscale_all_dim", &c->mscale_all_dim) < 0 || get_i64(d, "no_truncate", &no_truncate) < 0 ||
        get_double(d, "attention_factor", &c->attention_factor) < 0 || get_i64(d, "seq_len", &c->seq_len) < 0 ||
        get_i64(d, "rotated_pairs", &c->rotated_pairs) < 0 ||
        get_array(d, "short_factor", &f->short_factor) < 0 || get_array(d, "long_factor", &f->long_factor) < 0) {
        freq_free(f);
        return -1;
    }
    c->scaling = (rope_scaling)scaling;
    c->no_truncate = no_truncate ? 1 : 0;
    c->short_factor = f->short_factor;
    c->long_factor = f->long_factor;
    return 0;
}

/* freq_compute(config) -> (inv_freq list, attention_scale) */
static PyObject *freq_compute(PyObject *self, PyObject *arg) {
    (void)self;
    rp_freq f;
    if (freq_from_dict(arg, &f) < 0) return NULL;
    /* the factor arrays' length is checked by the library against rotary_dim / 2 */
    int64_t half = f.cfg.rotary_dim > 0 && f.cfg.rotary_dim < (1 << 24) ? f.cfg.rotary_dim / 2 : 0;
    double *inv = PyMem_Malloc((size_t)(half > 0 ? half : 1) * sizeof(double));
    if (!inv) {
        freq_free(&f);
        return PyErr_NoMemory();
    }
    double scale = 0;
    rope_status st = rope_freq_compute(&f.cfg, inv, &scale);
    freq_free(&f);
    if (st != ROPE_OK) {
        PyMem_Free(inv);
        return rp_raise(st);
    }
    PyObject *list = PyList_New(half);
    for (int64_t i = 0; list && i < half; i++) PyList_SET_ITEM(list, i, PyFloat_FromDouble(inv[i]));
    PyMem_Free(inv);
    if (!list) return NULL;
    return Py_BuildValue("(Nd)", list, scale);
}

/* cache_fill(config, pos_start, count, layout, rotary_coeff, cos, sin) */
static PyObject *cache_fill(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    (void)self;
    if (nargs != 7) {
        PyErr_Format(PyExc_TypeError, "librope._core.cache_fill takes 7 arguments (%zd given)", nargs);
        return NULL;
    }
    long long start = PyLong_AsLongLong(args[1]), count = PyLong_AsLongLong(args[2]);
    long layout = PyLong_AsLong(args[3]), coeff = PyLong_AsLong(args[4]);
    if (PyErr_Occurred()) return NULL;
    rp_freq f;
    if (freq_from_dict(args[0], &f) < 0) return NULL;
    rp_arg cos, sin;
    if (rp_import(args[5], "cos", RP_ROW_DENSE, 1, &cos) < 0) {
        freq_free(&f);
        return NULL;
    }
    if (rp_import(args[6], "sin", RP_ROW_DENSE, 1, &sin) < 0) {
        rp_release(&cos);
        freq_free(&f);
        return NULL;
    }
    rope_status st;
    Py_BEGIN_ALLOW_THREADS
    st = rope_cache_fill(&f.cfg, start, count, (rope_cache_layout)layout, (int32_t)coeff, &cos.t, &sin.t);
    Py_END_ALLOW_THREADS
    rp_release(&cos);
    rp_release(&sin);
    freq_free(&f);
    if (st != ROPE_OK) return rp_raise(st);
    Py_RETURN_NONE;
}

/* Reads a sequence of up to ROPE_MAX_AXES numbers into out[]; *n gets its full length (longer ones
 * are the library's to refuse, by n_axes). */
static int axes_numbers(PyObject *o, const char *what, int as_int, int64_t *ints, double *reals, Py_ssize_t *n) {
    PyObject *seq = PySequence_Fast(o, what);
    if (!seq) return -1;
    *n = PySequence_Fast_GET_SIZE(seq);
    for (Py_ssize_t i = 0; i < *n && i < ROPE_MAX_AXES; i++) {
        PyObject *item = PySequence_Fast_GET_ITEM(seq, i);
        if (as_int) {
            long long v = PyLong_AsLongLong(item);
            ints[i] = (int64_t)v;
        } else {
            reals[i] = PyFloat_AsDouble(item);
        }
        if (PyErr_Occurred()) {
            Py_DECREF(seq);
            PyErr_Format(PyExc_TypeError, "%s", what);
            return -1;
        }
    }
    Py_DECREF(seq);
    return 0;
}

int rp_axes_config(PyObject *dims, PyObject *thetas, PyObject *freq, PyObject *attention, rope_axes_config *out) {
    rope_axes_config c = ROPE_AXES_CONFIG_INIT;
    Py_ssize_t n_dims = 0, n_theta = 0;
    if (axes_numbers(dims, "librope: axes_dims must be a sequence of integers", 1, c.axes_dims, NULL, &n_dims) < 0 ||
        axes_numbers(thetas, "librope: theta must be a sequence of numbers", 0, NULL, c.theta, &n_theta) < 0)
        return -1;
    long f = PyLong_AsLong(freq);
    c.attention = PyFloat_AsDouble(attention);
    if (PyErr_Occurred()) return -1;
    c.n_axes = n_dims > ROPE_MAX_AXES ? (int32_t)ROPE_MAX_AXES + 1 : (int32_t)n_dims; /* refused by the library */
    c.freq = (rope_axes_freq)f;
    *out = c;
    return 0;
}

/* cache_fill_axes(axes_dims, thetas, freq, attention, positions, layout, rotary_coeff, cos, sin):
 * rope_cache_fill_axes; sin is None with the vLLM layout. */
static PyObject *cache_fill_axes(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    (void)self;
    if (nargs != 9) {
        PyErr_Format(PyExc_TypeError, "librope._core.cache_fill_axes takes 9 arguments (%zd given)", nargs);
        return NULL;
    }
    rope_axes_config c;
    if (rp_axes_config(args[0], args[1], args[2], args[3], &c) < 0) return NULL;
    long layout = PyLong_AsLong(args[5]), coeff = PyLong_AsLong(args[6]);
    if (PyErr_Occurred()) return NULL;
    rp_arg pos, cos, sin;
    if (rp_import(args[4], "positions", RP_ROW_DENSE, 0, &pos) < 0) return NULL;
    if (rp_import(args[7], "cos", RP_ROW_DENSE, 1, &cos) < 0) {
        rp_release(&pos);
        return NULL;
    }
    int has_sin = args[8] != Py_None;
    if (has_sin && rp_import(args[8], "sin", RP_ROW_DENSE, 1, &sin) < 0) {
        rp_release(&cos);
        rp_release(&pos);
        return NULL;
    }
    rope_status st;
    Py_BEGIN_ALLOW_THREADS
    st = rope_cache_fill_axes(&c, &pos.t, (rope_cache_layout)layout, (int32_t)coeff, &cos.t, has_sin ? &sin.t : NULL);
    Py_END_ALLOW_THREADS
    if (has_sin) rp_release(&sin);
    rp_release(&cos);
    rp_release(&pos);
    if (st != ROPE_OK) return rp_raise(st);
    Py_RETURN_NONE;
}

/* scaling_names() -> tuple of rope_scaling_name(0), (1), ...: the names the enum values carry */
static PyObject *scaling_names(PyObject *self, PyObject *unused) {
    (void)self, (void)unused;
    Py_ssize_t n = 0;
    while (rope_scaling_name((rope_scaling)n)) n++;
    PyObject *t = PyTuple_New(n);
    for (Py_ssize_t i = 0; t && i < n; i++) {
        PyObject *name = PyUnicode_FromString(rope_scaling_name((rope_scaling)i));
        if (!name) {
            Py_DECREF(t);
            return NULL;
        }
        PyTuple_SET_ITEM(t, i, name);
    }
    return t;
}

/* scaling_from_name(name) -> int: rope_scaling_from_name (aliases included); RopeError otherwise */
static PyObject *scaling_from_name(PyObject *self, PyObject *arg) {
    (void)self;
    const char *name = PyUnicode_Check(arg) ? PyUnicode_AsUTF8(arg) : NULL;
    if (!name) {
        if (!PyErr_Occurred()) PyErr_SetString(PyExc_TypeError, "librope: a rope_type name must be a str");
        return NULL;
    }
    rope_scaling s;
    rope_status st = rope_scaling_from_name(name, &s);
    if (st != ROPE_OK) return rp_raise(st);
    return PyLong_FromLong((long)s);
}

PyMethodDef rp_cache_methods[] = {
    {"scaling_names", scaling_names, METH_NOARGS, "scaling_names() -> the rope_scaling names, by enum value"},
    {"scaling_from_name", scaling_from_name, METH_O,
     "scaling_from_name(name) -> the rope_scaling value of a rope_type name or alias"},
    {"freq_compute", freq_compute, METH_O, "freq_compute(config) -> (inv_freq, attention_scale)"},
    {"cache_fill", (PyCFunction)(void (*)(void))cache_fill, METH_FASTCALL,
     "cache_fill(config, pos_start, count, layout, rotary_coeff, cos, sin)"},
    {"cache_fill_axes", (PyCFunction)(void (*)(void))cache_fill_axes, METH_FASTCALL,
     "cache_fill_axes(axes_dims, thetas, freq, attention, positions, layout, rotary_coeff, cos, sin)"},
    {NULL, NULL, 0, NULL}};
