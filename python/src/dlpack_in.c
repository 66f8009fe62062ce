/* SPDX-License-Identifier: MIT */
/* Tensor arguments without copies: DLPack first (the type's C exchange API, then __dlpack__), the
 * buffer protocol as the fallback, and NumPy arrays of ml_dtypes' bfloat16 (which neither protocol
 * can describe) through a uint16 view of the same memory. Every layout goes through the library's
 * rope_tensor_from_dlpack, so an unaddressable view is refused with the argument's name. */
#include "core.h"

#include <string.h>

/* DLPack 1.3's exchange API (a capsule "dlpack_exchange_api" in the type's __dlpack_c_exchange_api__),
 * declared here field for field because Debian's DLPack header (0.6) predates it. Only
 * dltensor_from_py_object_no_sync is called: it fills a DLTensor that stays valid while the object
 * lives, with no allocation, which keeps a decode call's overhead low. */
typedef struct rp_exchange_api {
    struct { uint32_t major, minor; } version;
    void *prev_api;
    void *managed_tensor_allocator;
    void *managed_tensor_from_py_object_no_sync;
    void *managed_tensor_to_py_object_no_sync;
    int (*dltensor_from_py_object_no_sync)(void *py_object, DLTensor *out);
    void *current_work_stream;
} rp_exchange_api;

/* Types seen so far and their exchange API (NULL: none). Types are kept alive by the cache. */
#define RP_TYPE_CACHE 8
static struct { PyTypeObject *type; const rp_exchange_api *api; } type_cache[RP_TYPE_CACHE];
static int type_cache_next;

static const rp_exchange_api *exchange_api_of(PyTypeObject *type) {
    for (int i = 0; i < RP_TYPE_CACHE; i++)
        if (type_cache[i].type == type) return type_cache[i].api;
    const rp_exchange_api *api = NULL;
    PyObject *cap = PyObject_GetAttrString((PyObject *)type, "__dlpack_c_exchange_api__");
    if (cap && PyCapsule_IsValid(cap, "dlpack_exchange_api")) {
        const rp_exchange_api *a = PyCapsule_GetPointer(cap, "dlpack_exchange_api");
        if (a && a->version.major >= 1 && a->dltensor_from_py_object_no_sync) api = a;
    }
    Py_XDECREF(cap); /* the API struct is a static of the producer's library, not the capsule's */
    PyErr_Clear();
    int slot = type_cache_next;
    type_cache_next = (type_cache_next + 1) % RP_TYPE_CACHE;
    Py_XDECREF((PyObject *)type_cache[slot].type);
    Py_INCREF((PyObject *)type);
    type_cache[slot].type = type;
    type_cache[slot].api = api;
    return api;
}

static PyObject *raise_layout(const char *what, const char *name, const char *detail) {
    PyErr_Format(PyExc_TypeError, "librope: %s: %s%s", name, what, detail ? detail : "");
    return NULL;
}

/* DLPack 1.1's float8 type codes, kDLFloat8_e4m3fn and kDLFloat8_e5m2, which rope_tensor_from_dlpack
 * maps to ROPE_FP8_E4M3 / ROPE_FP8_E5M2 (torch's float8 tensors export as them; Debian's DLPack header
 * is 0.6 and has no names for them). */
#define RP_DL_FLOAT8_E4M3FN 10
#define RP_DL_FLOAT8_E5M2 12

/* A KV cache of uint8 holding fp8 bits gets the type code of the fp8 format kv_cache_dtype named;
 * -1 with RopeError when it named none. Every other type is left as it is. */
static int uint8_cache_as_fp8(DLDataType *t, const char *name, const rp_arg *arg) {
    if (!arg->kv_cache || t->code != kDLUInt || t->bits != 8 || t->lanes != 1) return 0;
    switch (arg->u8_as) {
    case ROPE_FP8_E4M3: t->code = RP_DL_FLOAT8_E4M3FN; return 0;
    case ROPE_FP8_E5M2: t->code = RP_DL_FLOAT8_E5M2; return 0;
    case ROPE_DTYPE_INVALID:
        rp_raise_msg(ROPE_ERROR_DTYPE, "%s: uint8 holds fp8 bits, and kv_cache_dtype 'auto' names no fp8 format: "
                     "pass kv_cache_dtype 'fp8' / 'fp8_e4m3' or 'fp8_e5m2', or a cache of the key's dtype", name);
        return -1;
    default:
        rp_raise_msg(ROPE_ERROR_DTYPE, "%s: uint8 read as %s, which is no fp8 format", name,
                     rope_dtype_name(arg->u8_as));
        return -1;
    }
}

/* The description of `dl`, with a 16-bit unsigned type read as bfloat16 when as_bf16, and a KV
 * cache's uint8 as its fp8 format (arg->kv_cache). */
static int describe(DLTensor dl, const char *name, int row_rank, int as_bf16, const rp_arg *arg, rope_tensor *t) {
    if (row_rank == RP_ROW_ATB) row_rank = dl.ndim == 4 ? 2 : 1;
    if (row_rank <= RP_ROW_AFTER_TOKENS(0)) {
        row_rank = dl.ndim - (RP_ROW_AFTER_TOKENS(0) - row_rank);
        if (row_rank < 1) row_rank = 1;
    }
    if (as_bf16 && dl.dtype.code == kDLUInt && dl.dtype.bits == 16) dl.dtype.code = kDLBfloat;
    if (uint8_cache_as_fp8(&dl.dtype, name, arg) < 0) return -1;
    rope_status st = rope_tensor_from_dlpack(&dl, name, row_rank, t);
    if (st != ROPE_OK) {
        rp_raise(st);
        return -1;
    }
    return 0;
}

/* __dlpack__(): 1 imported, 0 not possible this way (no exception left), -1 error. */
static int from_dunder(PyObject *obj, const char *name, int row_rank, int as_bf16, rp_arg *out) {
    PyObject *fn = PyObject_GetAttrString(obj, "__dlpack__");
    if (!fn) {
        PyErr_Clear();
        return 0;
    }
    PyObject *cap = PyObject_CallNoArgs(fn);
    Py_DECREF(fn);
    if (!cap || !PyCapsule_IsValid(cap, "dltensor")) { /* e.g. a read-only NumPy array: BufferError */
        Py_XDECREF(cap);
        if (PyErr_Occurred() && !out->why) { /* kept for the message if no other way works either */
            PyObject *type, *value, *tb;
            PyErr_Fetch(&type, &value, &tb);
            out->why = value ? PyObject_Str(value) : NULL;
            Py_XDECREF(type);
            Py_XDECREF(value);
            Py_XDECREF(tb);
        }
        PyErr_Clear();
        return 0;
    }
    DLManagedTensor *m = PyCapsule_GetPointer(cap, "dltensor");
    PyCapsule_SetName(cap, "used_dltensor"); /* consumed: the deleter is ours to call */
    Py_DECREF(cap);
    out->managed = m;
    return describe(m->dl_tensor, name, row_rank, as_bf16, out, &out->t) == 0 ? 1 : -1;
}

/* A buffer format of one native little-endian number as a DLPack type (bits from the item size). */
static int buffer_dtype(const Py_buffer *v, DLDataType *dt) {
    const char *f = v->format ? v->format : "B";
    if (*f == '@' || *f == '=' || *f == '<') f++;
    if (f[0] == '\0' || f[1] != '\0') return -1;
    dt->lanes = 1;
    dt->bits = (uint8_t)(v->itemsize * 8);
    switch (f[0]) {
    case 'f': case 'e': case 'd': dt->code = kDLFloat; break;
    case 'b': case 'h': case 'i': case 'l': case 'q': dt->code = kDLInt; break;
    case 'B': case 'H': case 'I': case 'L': case 'Q': dt->code = kDLUInt; break;
    default: return -1;
    }
    return 0;
}

/* The buffer protocol: 1 imported, 0 no buffer (no exception left), -1 error. */
static int from_buffer(PyObject *obj, const char *name, int row_rank, int writable, int as_bf16, rp_arg *out) {
    if (!PyObject_CheckBuffer(obj)) return 0;
    if (PyObject_GetBuffer(obj, &out->view, PyBUF_RECORDS_RO | (writable ? PyBUF_WRITABLE : 0)) < 0) {
        if (writable && PyObject_GetBuffer(obj, &out->view, PyBUF_RECORDS_RO) == 0) {
            PyBuffer_Release(&out->view);
            PyErr_Clear();
            raise_layout("read-only, and the call writes it", name, NULL);
            return -1;
        }
        PyErr_Clear();
        return 0;
    }
    out->has_view = 1;
    const Py_buffer *v = &out->view;
    DLTensor dl;
    memset(&dl, 0, sizeof dl);
    if (v->ndim > ROPE_MAX_RANK) {
        raise_layout("more dimensions than librope takes", name, NULL);
        return -1;
    }
    if (buffer_dtype(v, &dl.dtype) < 0) {
        PyErr_Format(PyExc_TypeError, "librope: %s: buffer format '%s' is not a number type librope takes", name,
                     v->format ? v->format : "B");
        return -1;
    }
    int64_t shape[ROPE_MAX_RANK], strides[ROPE_MAX_RANK];
    for (int i = 0; i < v->ndim; i++) {
        shape[i] = v->shape ? (int64_t)v->shape[i] : (int64_t)(v->len / v->itemsize);
        Py_ssize_t bytes = v->strides ? v->strides[i] : 0;
        if (v->strides && bytes % v->itemsize != 0) {
            PyErr_Format(PyExc_TypeError, "librope: %s dim %d: stride of %zd bytes is not a whole number of elements",
                         name, i, bytes);
            return -1;
        }
        strides[i] = (int64_t)(bytes / v->itemsize);
    }
    dl.data = v->buf;
    dl.device.device_type = kDLCPU;
    dl.ndim = v->ndim;
    dl.shape = shape;
    dl.strides = v->strides ? strides : NULL;
    return describe(dl, name, row_rank, as_bf16, out, &out->t) == 0 ? 1 : -1;
}

/* NumPy arrays of ml_dtypes.bfloat16: a uint16 view of the same memory, read as bfloat16. */
static int from_bf16_array(PyObject *obj, const char *name, int row_rank, int writable, rp_arg *out) {
    PyObject *dtype = PyObject_GetAttrString(obj, "dtype");
    PyObject *dname = dtype ? PyObject_GetAttrString(dtype, "name") : NULL;
    Py_XDECREF(dtype);
    int is_bf16 = dname && PyUnicode_Check(dname) && PyUnicode_CompareWithASCIIString(dname, "bfloat16") == 0;
    Py_XDECREF(dname);
    PyErr_Clear();
    if (!is_bf16) return 0;
    out->holder = PyObject_CallMethod(obj, "view", "s", "uint16");
    if (!out->holder) {
        PyErr_Clear();
        return 0;
    }
    int r = from_dunder(out->holder, name, row_rank, 1, out);
    if (r == 0) r = from_buffer(out->holder, name, row_rank, writable, 1, out);
    return r;
}

/* rp_import's work on an rp_arg whose kv_cache / u8_as are already set. */
static int import_into(PyObject *obj, const char *name, int row_rank, int writable, rp_arg *out) {
    out->obj = obj;
    const rp_exchange_api *api = exchange_api_of(Py_TYPE(obj));
    if (api) {
        DLTensor dl;
        if (api->dltensor_from_py_object_no_sync(obj, &dl) == 0) {
            if (describe(dl, name, row_rank, 0, out, &out->t) == 0) return 0;
            rp_release(out);
            return -1;
        }
        PyErr_Clear(); /* e.g. a tensor the fast path declines: try the ordinary protocol */
    }
    int r = from_dunder(obj, name, row_rank, 0, out);
    if (r == 0) r = from_bf16_array(obj, name, row_rank, writable, out);
    if (r == 0) r = from_buffer(obj, name, row_rank, writable, 0, out);
    if (r == 1) {
        Py_CLEAR(out->why);
        return 0;
    }
    if (r == 0 && out->why)
        PyErr_Format(PyExc_TypeError,
                     "librope: %s: %.100s could not be exported through DLPack (%U) and has no buffer interface",
                     name, Py_TYPE(obj)->tp_name, out->why);
    else if (r == 0)
        PyErr_Format(PyExc_TypeError,
                     "librope: %s: expected a tensor (DLPack's __dlpack__ or the buffer protocol), got %.100s", name,
                     Py_TYPE(obj)->tp_name);
    rp_release(out);
    return -1;
}

int rp_import(PyObject *obj, const char *name, int row_rank, int writable, rp_arg *out) {
    memset(out, 0, sizeof *out);
    return import_into(obj, name, row_rank, writable, out);
}

int rp_import_kv_cache(PyObject *obj, const char *name, rope_dtype u8_as, rp_arg *out) {
    memset(out, 0, sizeof *out);
    out->kv_cache = 1;
    out->u8_as = u8_as;
    return import_into(obj, name, RP_ROW_DENSE, 1, out);
}

int rp_import_or_same(PyObject *obj, const char *name, int row_rank, const rp_arg *same, rp_arg *out) {
    if (same && obj == same->obj) {
        if (same->has_view && same->view.readonly) {
            raise_layout("read-only, and the call writes it", name, NULL);
            return -1;
        }
        memset(out, 0, sizeof *out);
        out->obj = obj;
        out->t = same->t;
        return 0;
    }
    return rp_import(obj, name, row_rank, 1, out);
}

void rp_release(rp_arg *a) {
    if (a->managed && a->managed->deleter) a->managed->deleter(a->managed);
    a->managed = NULL;
    if (a->has_view) PyBuffer_Release(&a->view);
    a->has_view = 0;
    Py_CLEAR(a->holder);
    Py_CLEAR(a->why);
}
