/* SPDX-License-Identifier: MIT */
#include "tensor_util.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

rope_tensor tensor_new(rope_dtype dtype, int rank, const int64_t *dims) {
    rope_tensor t;
    memset(&t, 0, sizeof t);
    t.dtype = dtype;
    t.rank = rank;
    int64_t n = 1;
    for (int i = 0; i < rank; i++) {
        t.dims[i] = dims[i];
        n *= dims[i];
    }
    t.data = malloc(n > 0 ? (size_t)n * rope_dtype_size(dtype) : 1);
    return t;
}

/* "[a,b,c]" into buf, cut short (still terminated) when it does not fit. */
static const char *join_ints(const int64_t *v, int n, char *buf, size_t size) {
    size_t used = 0;
    if (size == 0) return buf;
    buf[0] = '\0';
    for (int i = 0; i <= n && used < size; i++) {
        int w = i == n ? snprintf(buf + used, size - used, "]")
                       : snprintf(buf + used, size - used, "%s%" PRId64, i ? "," : "[", v[i]);
        if (w < 0) break;
        used += (size_t)w;
    }
    if (n == 0 && size > 2) memcpy(buf, "[]", 3);
    return buf;
}

const char *tensor_shape_str(const rope_tensor *t, char *buf, size_t size) {
    int rank = t->rank < 0 ? 0 : t->rank > ROPE_MAX_RANK ? ROPE_MAX_RANK : t->rank;
    return join_ints(t->dims, rank, buf, size);
}

const char *tensor_index_str(const rope_tensor *t, size_t flat, char *buf, size_t size) {
    int64_t idx[ROPE_MAX_RANK] = {0};
    int rank = t->rank < 0 ? 0 : t->rank > ROPE_MAX_RANK ? ROPE_MAX_RANK : t->rank;
    for (int d = rank - 1; d >= 0; d--) {
        int64_t n = t->dims[d] > 0 ? t->dims[d] : 1;
        idx[d] = (int64_t)(flat % (uint64_t)n);
        flat /= (uint64_t)n;
    }
    return join_ints(idx, rank, buf, size);
}

/* An OCP float8 value (e4m3fn: no infinities, 0x7f / 0xff NaN; e5m2: IEEE-like), exactly. */
static double fp8_value(uint8_t b, rope_dtype dtype) {
    const int mbits = dtype == ROPE_FP8_E4M3 ? 3 : 2, bias = dtype == ROPE_FP8_E4M3 ? 7 : 15;
    const int emax = dtype == ROPE_FP8_E4M3 ? 15 : 31;
    const int e = (b & 0x7f) >> mbits, m = b & ((1 << mbits) - 1);
    double v;
    if (dtype == ROPE_FP8_E4M3 && e == emax && m == (1 << mbits) - 1) v = NAN;
    else if (dtype == ROPE_FP8_E5M2 && e == emax) v = m ? NAN : INFINITY;
    else if (e == 0) v = ldexp(m, 1 - bias - mbits);
    else v = ldexp(m + (1 << mbits), e - bias - mbits);
    return b & 0x80 ? -v : v;
}

double tensor_element(const rope_tensor *t, size_t flat) {
    const unsigned char *p = (const unsigned char *)t->data + flat * rope_dtype_size(t->dtype);
    switch (t->dtype) {
    case ROPE_F32: {
        float v;
        memcpy(&v, p, sizeof v);
        return v;
    }
    case ROPE_F16:
    case ROPE_BF16: {
        uint16_t v;
        memcpy(&v, p, sizeof v);
        return t->dtype == ROPE_F16 ? rope_f16_to_f32(v) : rope_bf16_to_f32(v);
    }
    case ROPE_I32: {
        int32_t v;
        memcpy(&v, p, sizeof v);
        return v;
    }
    case ROPE_U32: {
        uint32_t v;
        memcpy(&v, p, sizeof v);
        return v;
    }
    case ROPE_I64: {
        int64_t v;
        memcpy(&v, p, sizeof v);
        return (double)v;
    }
    case ROPE_FP8_E4M3:
    case ROPE_FP8_E5M2: return fp8_value(*p, t->dtype);
    default: return 0.0;
    }
}

int tensor_same_shape(const rope_tensor *a, const rope_tensor *b) {
    if (a->rank != b->rank || a->rank < 0 || a->rank > ROPE_MAX_RANK) return 0;
    for (int d = 0; d < a->rank; d++)
        if (a->dims[d] != b->dims[d]) return 0;
    return 1;
}

rope_dtype float_dtype_named(const char *name) {
    static const rope_dtype floats[] = {ROPE_F32, ROPE_F16, ROPE_BF16};
    for (size_t i = 0; i < sizeof floats / sizeof floats[0]; i++)
        if (!strcmp(name, rope_dtype_name(floats[i]))) return floats[i];
    return ROPE_DTYPE_INVALID;
}
