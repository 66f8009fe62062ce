/* SPDX-License-Identifier: MIT */
#include "tensor_proto.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "file_io.h"
#include "onnx_dtype.h"
#include "tensor_util.h"

const pb_field_name tensor_proto_fields[] = {
    {TENSOR_DIMS, "dims", 1},
    {TENSOR_DATA_TYPE, "data_type", 0},
    {TENSOR_SEGMENT, "segment", 0},
    {TENSOR_FLOAT_DATA, "float_data", 1},
    {TENSOR_INT32_DATA, "int32_data", 1},
    {TENSOR_STRING_DATA, "string_data", 1},
    {TENSOR_INT64_DATA, "int64_data", 1},
    {TENSOR_NAME, "name", 0},
    {TENSOR_RAW_DATA, "raw_data", 0},
    {TENSOR_DOUBLE_DATA, "double_data", 1},
    {TENSOR_UINT64_DATA, "uint64_data", 1},
    {TENSOR_EXTERNAL_DATA, "external_data", 1},
    {TENSOR_DATA_LOCATION, "data_location", 0},
    {0, NULL, 0}};

/* The typed payload fields, in one table so scanning can count them all. */
static const struct typed_field {
    uint32_t number;
    const char *name;
    pb_scalar_kind kind; /* string_data is counted per occurrence instead */
} typed_fields[] = {
    {TENSOR_FLOAT_DATA, "float_data", PB_SCALAR_FIXED32}, {TENSOR_INT32_DATA, "int32_data", PB_SCALAR_VARINT},
    {TENSOR_STRING_DATA, "string_data", PB_SCALAR_VARINT}, {TENSOR_INT64_DATA, "int64_data", PB_SCALAR_VARINT},
    {TENSOR_DOUBLE_DATA, "double_data", PB_SCALAR_FIXED64}, {TENSOR_UINT64_DATA, "uint64_data", PB_SCALAR_VARINT}};
#define N_TYPED (sizeof typed_fields / sizeof typed_fields[0])

/* What the first pass over the message learned. */
typedef struct scan {
    int32_t data_type;
    int rank;
    int64_t dims[ROPE_MAX_RANK];
    int has_raw;
    pb_field raw;           /* the last raw_data field (a bytes field seen twice keeps the last) */
    size_t typed[N_TYPED];  /* values per typed field, summed over occurrences */
} scan;

static int typed_slot(uint32_t number) {
    for (size_t i = 0; i < N_TYPED; i++)
        if (typed_fields[i].number == number) return (int)i;
    return -1;
}

/* The typed field ONNX uses for a supported dtype. */
static uint32_t typed_field_of(rope_dtype dtype) {
    switch (dtype) {
    case ROPE_F32: return TENSOR_FLOAT_DATA;
    case ROPE_I64: return TENSOR_INT64_DATA;
    case ROPE_U32: return TENSOR_UINT64_DATA;
    default: return TENSOR_INT32_DATA; /* I32, F16 / BF16 as uint16 and FP8 as uint8 bit patterns */
    }
}

static int scan_field(pb_msg *m, const pb_field *f, scan *s, tensor_proto *out) {
    int slot = typed_slot(f->number);
    if (f->number == TENSOR_DIMS) {
        pb_scalars it;
        uint64_t v = 0;
        int r;
        if (pb_scalars_begin(&it, m, f, PB_SCALAR_VARINT)) return -1;
        while ((r = pb_scalars_next(&it, &v)) == 1) {
            if (s->rank == ROPE_MAX_RANK)
                return pb_fail(m, f, f->offset, "more than %d dims (librope's maximum rank)", ROPE_MAX_RANK);
            if ((int64_t)v < 0) return pb_fail(m, f, f->offset, "dims[%d] is %" PRId64, s->rank, (int64_t)v);
            s->dims[s->rank++] = (int64_t)v;
        }
        return r;
    }
    if (f->number == TENSOR_DATA_TYPE) return pb_int32(m, f, &s->data_type);
    if (f->number == TENSOR_NAME) return pb_string(m, f, &out->name);
    if (f->number == TENSOR_RAW_DATA) {
        if (pb_expect_wire(m, f, PB_LEN)) return -1;
        s->has_raw = 1;
        s->raw = *f;
        return 0;
    }
    if (f->number == TENSOR_SEGMENT) return pb_fail(m, f, f->offset, "segmented tensors are not supported");
    if (f->number == TENSOR_DATA_LOCATION) {
        int32_t location = 0;
        if (pb_int32(m, f, &location)) return -1;
        /* 0 is DEFAULT (in this message); 1 is EXTERNAL (in another file). */
        if (location != 0)
            return pb_fail(m, f, f->offset, "data_location %" PRId32 ": only data stored in the file is supported",
                           location);
        return 0;
    }
    if (slot < 0) return 0; /* doc_string and fields this tool has no use for */
    size_t n = 1;
    if (f->number == TENSOR_STRING_DATA) {
        if (pb_expect_wire(m, f, PB_LEN)) return -1;
    } else if (pb_scalars_count(m, f, typed_fields[slot].kind, &n)) {
        return -1;
    }
    s->typed[slot] += n;
    return 0;
}

/* Checks that exactly the payload the dtype and dims call for is present. */
static int check_payload(const pb_msg *m, const scan *s, rope_dtype dtype, size_t numel, uint32_t *source) {
    const char *type = onnx_dtype_name(s->data_type);
    uint32_t want = typed_field_of(dtype);
    char shape[128];
    rope_tensor shaped = {0};
    shaped.rank = s->rank;
    memcpy(shaped.dims, s->dims, sizeof s->dims);
    tensor_shape_str(&shaped, shape, sizeof shape);
    for (size_t i = 0; i < N_TYPED; i++) {
        if (!s->typed[i]) continue;
        if (s->has_raw)
            return pb_fail(m, NULL, s->raw.offset, "both raw_data and %s hold values", typed_fields[i].name);
        if (typed_fields[i].number != want)
            return pb_fail(m, NULL, m->begin, "%s holds %zu values, but %s tensors keep typed values in %s",
                           typed_fields[i].name, s->typed[i], type, typed_fields[typed_slot(want)].name);
    }
    size_t esize = rope_dtype_size(dtype);
    if (s->has_raw) {
        *source = TENSOR_RAW_DATA;
        if (s->raw.length != numel * esize)
            return pb_fail(m, &s->raw, s->raw.offset, "has %zu bytes; dims %s of %s need %zu", s->raw.length, shape,
                           type, numel * esize);
        return 0;
    }
    *source = want;
    size_t have = s->typed[typed_slot(want)];
    if (have != numel)
        return pb_fail(m, NULL, m->begin, "%s has %zu values; dims %s need %zu",
                       typed_fields[typed_slot(want)].name, have, shape, numel);
    return 0;
}

static int host_is_little_endian(void) {
    const uint16_t one = 1;
    unsigned char first;
    memcpy(&first, &one, 1);
    return first == 1;
}

/* Turns n elements of `esize` bytes between little-endian storage and host order (either way). */
static void swap_le(void *dst, size_t n, size_t esize) {
    if (host_is_little_endian()) return;
    unsigned char *p = dst;
    for (size_t i = 0; i < n; i++, p += esize)
        for (size_t a = 0, b = esize - 1; a < b; a++, b--) {
            unsigned char t = p[a];
            p[a] = p[b];
            p[b] = t;
        }
}

/* Copies n elements of `esize` bytes between little-endian storage and host order (either way). */
static void copy_le(void *dst, const void *src, size_t n, size_t esize) {
    memcpy(dst, src, n * esize);
    swap_le(dst, n, esize);
}

/* Stores one typed value, range-checked for the dtype. */
static int store_typed(const pb_msg *m, const pb_field *f, rope_dtype dtype, uint64_t v, void *dst) {
    int64_t sv = (int64_t)v;
    switch (dtype) {
    case ROPE_F32: {
        uint32_t bits = (uint32_t)v;
        memcpy(dst, &bits, 4);
        return 0;
    }
    case ROPE_F16:
    case ROPE_BF16: {
        if (sv < 0 || sv > UINT16_MAX)
            return pb_fail(m, f, f->offset, "%" PRId64 " is not a 16-bit pattern", sv);
        uint16_t bits = (uint16_t)sv;
        memcpy(dst, &bits, 2);
        return 0;
    }
    case ROPE_FP8_E4M3:
    case ROPE_FP8_E5M2: { /* int32_data holds float8 bit patterns, one per entry */
        if (sv < 0 || sv > UINT8_MAX) return pb_fail(m, f, f->offset, "%" PRId64 " is not an 8-bit pattern", sv);
        uint8_t bits = (uint8_t)sv;
        memcpy(dst, &bits, 1);
        return 0;
    }
    case ROPE_I32: {
        if (sv < INT32_MIN || sv > INT32_MAX) return pb_fail(m, f, f->offset, "%" PRId64 " is not an int32", sv);
        int32_t x = (int32_t)sv;
        memcpy(dst, &x, 4);
        return 0;
    }
    case ROPE_U32: {
        if (v > UINT32_MAX) return pb_fail(m, f, f->offset, "%" PRIu64 " is not a uint32", v);
        uint32_t x = (uint32_t)v;
        memcpy(dst, &x, 4);
        return 0;
    }
    default: memcpy(dst, &sv, 8); return 0;
    }
}

/* Second pass: copies the payload from `source` into data. */
static int fill(pb_msg *m, uint32_t source, rope_dtype dtype, const scan *s, unsigned char *data) {
    size_t esize = rope_dtype_size(dtype), n = 0;
    if (source == TENSOR_RAW_DATA) {
        copy_le(data, pb_bytes(m, &s->raw), s->raw.length / esize, esize);
        return 0;
    }
    pb_field f;
    int r;
    while ((r = pb_next(m, &f)) == 1) {
        if (f.number != source) continue;
        pb_scalars it;
        uint64_t v = 0;
        if (pb_scalars_begin(&it, m, &f, typed_fields[typed_slot(source)].kind)) return -1;
        while ((r = pb_scalars_next(&it, &v)) == 1)
            if (store_typed(m, &f, dtype, v, data + esize * n++)) return -1;
        if (r < 0) return -1;
    }
    return r;
}

static int read_tensor(pb_msg *m, tensor_proto *out) {
    pb_msg second = *m;
    scan s;
    memset(&s, 0, sizeof s);
    pb_field f;
    int r;
    while ((r = pb_next(m, &f)) == 1)
        if (scan_field(m, &f, &s, out)) return -1;
    if (r < 0) return -1;
    rope_dtype dtype = onnx_dtype_to_rope(s.data_type);
    if (s.data_type == ONNX_UNDEFINED) return pb_fail(m, NULL, m->begin, "data_type is missing");
    if (dtype == ROPE_DTYPE_INVALID)
        return pb_fail(m, NULL, m->begin,
                       "unsupported data_type %s (%" PRId32 "); librope takes FLOAT, FLOAT16, BFLOAT16, INT32, "
                       "UINT32, INT64",
                       onnx_dtype_name(s.data_type), s.data_type);
    rope_tensor t = {0};
    t.dtype = dtype;
    t.rank = s.rank;
    memcpy(t.dims, s.dims, sizeof t.dims);
    int64_t numel = rope_tensor_numel(&t);
    if (numel < 0 || (uint64_t)numel > SIZE_MAX / 8)
        return pb_fail(m, NULL, m->begin, "the dims hold more elements than fit in memory");
    uint32_t source = TENSOR_RAW_DATA;
    if (check_payload(m, &s, dtype, (size_t)numel, &source)) return -1;
    size_t bytes = (size_t)numel * rope_dtype_size(dtype);
    if (!out->name) out->name = calloc(1, 1);
    t.data = malloc(bytes ? bytes : 1);
    out->t = t; /* owned by out from here on, freed with it on failure */
    if (!t.data || !out->name) return pb_fail(m, NULL, m->begin, "out of memory for %zu bytes", bytes);
    return fill(&second, source, dtype, &s, t.data);
}

int tensor_proto_read(pb_msg *m, tensor_proto *out) {
    memset(out, 0, sizeof *out);
    if (read_tensor(m, out) == 0) return 0;
    tensor_proto_free(out);
    return -1;
}

int tensor_proto_decode(const char *source, const uint8_t *data, size_t size, tensor_proto *out, diag *err) {
    pb_source src = {source, data, size, err};
    pb_msg m;
    pb_open(&m, &src, "", tensor_proto_fields);
    return tensor_proto_read(&m, out);
}

int tensor_proto_load(const char *path, tensor_proto *out, diag *err) {
    uint8_t *data = NULL;
    size_t size = 0;
    memset(out, 0, sizeof *out);
    if (file_read_all(path, &data, &size, err)) return -1;
    int r = tensor_proto_decode(path, data, size, out, err);
    free(data);
    return r;
}

void tensor_proto_free(tensor_proto *tp) {
    free(tp->name);
    free(tp->t.data);
    memset(tp, 0, sizeof *tp);
}

int tensor_proto_encode(const rope_tensor *t, const char *name, pb_buf *out, diag *err) {
    int32_t code = onnx_dtype_from_rope(t->dtype);
    int64_t numel = rope_tensor_numel(t);
    if (code == ONNX_UNDEFINED) return diag_set(err, "cannot write a tensor of dtype %d", (int)t->dtype);
    if (numel < 0) return diag_set(err, "cannot write a tensor with an invalid shape");
    if (t->row_stride != 0 && !(t->rank > 0 && t->row_stride == t->dims[t->rank - 1]))
        return diag_set(err, "cannot write a tensor with row_stride %" PRId64 " (not dense)", t->row_stride);
    if (numel > 0 && !t->data) return diag_set(err, "cannot write a tensor without data");
    size_t esize = rope_dtype_size(t->dtype), n = (size_t)numel;
    if (n > SIZE_MAX / esize) return diag_set(err, "cannot write a tensor of %zu elements: too large", n);
    for (int d = 0; d < t->rank; d++) pb_put_varint_field(out, TENSOR_DIMS, (uint64_t)t->dims[d]);
    pb_put_varint_field(out, TENSOR_DATA_TYPE, (uint64_t)code);
    if (name && name[0]) pb_put_bytes_field(out, TENSOR_NAME, name, strlen(name));
    pb_put_bytes_field(out, TENSOR_RAW_DATA, t->data, n * esize);
    if (!out->failed) swap_le(out->data + out->len - n * esize, n, esize); /* raw_data is little-endian */
    return out->failed ? diag_set(err, "out of memory while encoding a tensor") : 0;
}

int tensor_proto_save(const char *path, const rope_tensor *t, const char *name, diag *err) {
    pb_buf buf = {0};
    int r = tensor_proto_encode(t, name, &buf, err);
    if (r == 0) r = file_write_all(path, buf.data, buf.len, err);
    pb_buf_free(&buf);
    if (r && err && strncmp(err->text, path, strlen(path)) != 0) {
        diag tmp = *err;
        diag_set(err, "%s: %s", path, tmp.text);
    }
    return r;
}

int tensor_files_save(const char *cmd, const char *dir, int n, const rope_tensor *const ts[],
                      const char *const leaves[], const char *const names[]) {
    diag err;
    if (make_directories(dir, &err)) {
        fprintf(stderr, "rope %s: %s\n", cmd, err.text);
        return 2;
    }
    for (int k = 0; k < n; k++) {
        char path[4096], shape[128];
        if (path_join(path, sizeof path, dir, leaves[k])) {
            fprintf(stderr, "rope %s: %s: path too long\n", cmd, dir);
            return 2;
        }
        if (tensor_proto_save(path, ts[k], names[k], &err)) {
            fprintf(stderr, "rope %s: %s\n", cmd, err.text);
            return 2;
        }
        printf("wrote %s (%s %s %s)\n", path, names[k], rope_dtype_name(ts[k]->dtype),
               tensor_shape_str(ts[k], shape, sizeof shape));
    }
    return 0;
}
