/* SPDX-License-Identifier: MIT */
#include "check.h"

#include <stdio.h>

const char *rope_shape_str(const rope_tensor *t, char *buf, size_t size) {
    size_t n = 0;
    buf[0] = '\0';
    n += (size_t)snprintf(buf + n, size - n, "[");
    for (int i = 0; i < t->rank && i < ROPE_MAX_RANK && n < size; i++)
        n += (size_t)snprintf(buf + n, size - n, i ? ",%lld" : "%lld", (long long)t->dims[i]);
    if (n < size) snprintf(buf + n, size - n, "]");
    return buf;
}

rope_status rope_check_args(const char *where, size_t n, const char *const names[], const void *const ptrs[]) {
    for (size_t i = 0; i < n; i++)
        if (!ptrs[i]) return rope_fail(ROPE_ERROR_NULL_ARGUMENT, where, "%s is NULL", names[i]);
    return ROPE_OK;
}

rope_status rope_check_tensor(const char *where, const char *name, const rope_tensor *t) {
    if (!t) return rope_fail(ROPE_ERROR_NULL_ARGUMENT, where, "%s is NULL", name);
    if (t->rank < 0 || t->rank > ROPE_MAX_RANK)
        return rope_fail(ROPE_ERROR_RANK, where, "%s rank: expected 0..%d, found %d", name, ROPE_MAX_RANK, t->rank);
    /* One pass without branches or divisions, as every call checks every tensor: the element count
     * as a float64 product (0 when a dim is 0; +inf past the range) and whether a dim is negative.
     * Counts below 2^59 pass: the product is within 8 float64 roundings of the exact count, so the
     * byte counts computed later (at most 8 bytes an element, plus row strides checked alike) stay
     * far below PTRDIFF_MAX. */
    const double limit = 0x1p59;
    double n = 1.0;
    int negative = 0;
    for (int i = 0; i < t->rank; i++) {
        negative |= t->dims[i] < 0;
        n *= (double)t->dims[i];
    }
    if (negative)
        for (int i = 0; i < t->rank; i++)
            if (t->dims[i] < 0)
                return rope_fail(ROPE_ERROR_SHAPE, where, "%s dim %d: expected >= 0, found %lld", name, i,
                                 (long long)t->dims[i]);
    if (n >= limit) {
        char s[160];
        return rope_fail(ROPE_ERROR_SHAPE, where, "%s shape %s: element count overflows", name,
                         rope_shape_str(t, s, sizeof s));
    }
    return ROPE_OK;
}

rope_status rope_check_dtype(const char *where, const char *name, const rope_tensor *t, const rope_dtype *allowed,
                             size_t n) {
    for (size_t i = 0; i < n; i++)
        if (t->dtype == allowed[i]) return ROPE_OK; /* the passing path builds no message */
    char list[64] = "";
    size_t len = 0;
    for (size_t i = 0; i < n && len < sizeof list; i++)
        len += (size_t)snprintf(list + len, sizeof list - len, "%s%s", i == 0 ? "" : i + 1 == n ? " or " : ", ",
                                rope_dtype_name(allowed[i]));
    return rope_fail(ROPE_ERROR_DTYPE, where, "%s dtype: expected %s, found %s", name, list,
                     rope_dtype_name(t->dtype));
}

rope_status rope_check_same_dtype_slow(const char *where, const char *name, const rope_tensor *t, rope_dtype expected,
                                  const char *why) {
    if (t->dtype == expected) return ROPE_OK;
    return rope_fail(ROPE_ERROR_DTYPE, where, "%s dtype: expected %s (%s), found %s", name,
                     rope_dtype_name(expected), why, rope_dtype_name(t->dtype));
}

rope_status rope_check_rank_slow(const char *where, const char *name, const rope_tensor *t, int rank, int alt,
                            const char *why) {
    if (t->rank == rank || (alt > 0 && t->rank == alt)) return ROPE_OK;
    if (alt > 0)
        return rope_fail(ROPE_ERROR_RANK, where, "%s rank: expected %d or %d (%s), found %d", name, rank, alt, why,
                         t->rank);
    return rope_fail(ROPE_ERROR_RANK, where, "%s rank: expected %d (%s), found %d", name, rank, why, t->rank);
}

rope_status rope_check_dim_slow(const char *where, const char *name, const rope_tensor *t, int dim, int64_t expected,
                           const char *why) {
    if (t->dims[dim] == expected) return ROPE_OK;
    return rope_fail(ROPE_ERROR_SHAPE, where, "%s dim %d: expected %lld (%s), found %lld", name, dim,
                     (long long)expected, why, (long long)t->dims[dim]);
}

rope_status rope_check_same_shape_slow(const char *where, const char *name_a, const rope_tensor *a, const char *name_b,
                                  const rope_tensor *b) {
    int same = a->rank == b->rank;
    for (int i = 0; same && i < a->rank; i++) same = a->dims[i] == b->dims[i];
    if (same) return ROPE_OK;
    char sa[160], sb[160];
    return rope_fail(ROPE_ERROR_SHAPE, where, "%s shape: expected %s (same as %s), found %s", name_b,
                     rope_shape_str(a, sa, sizeof sa), name_a, rope_shape_str(b, sb, sizeof sb));
}

rope_status rope_check_row_stride(const char *where, const char *name, const rope_tensor *t, int64_t row_len,
                                  int64_t *stride) {
    if (t->row_stride == 0 || t->row_stride == row_len) {
        *stride = row_len;
        return ROPE_OK;
    }
    if (t->row_stride < row_len)
        return rope_fail(ROPE_ERROR_STRIDE, where, "%s row_stride: expected 0 (dense) or >= %lld (its row), found %lld",
                         name, (long long)row_len, (long long)t->row_stride);
    int64_t rows = row_len ? rope_numel_checked(t) / row_len : 0;
    if (rows > 0 && t->row_stride > (int64_t)(PTRDIFF_MAX / 8) / rows)
        return rope_fail(ROPE_ERROR_STRIDE, where, "%s row_stride %lld over %lld rows: extent overflows", name,
                         (long long)t->row_stride, (long long)rows);
    *stride = t->row_stride;
    return ROPE_OK;
}

rope_status rope_check_dense_slow(const char *where, const char *name, const rope_tensor *t) {
    int64_t last = t->rank > 0 ? t->dims[t->rank - 1] : 1;
    if (t->row_stride == 0 || t->row_stride == last) return ROPE_OK;
    return rope_fail(ROPE_ERROR_STRIDE, where, "%s row_stride: expected 0 (only dense is accepted), found %lld",
                     name, (long long)t->row_stride);
}

rope_status rope_check_data_slow(const char *where, const char *name, const rope_tensor *t) {
    if (t->data || rope_numel_checked(t) == 0) return ROPE_OK;
    return rope_fail(ROPE_ERROR_NULL_ARGUMENT, where, "%s data is NULL", name);
}

static size_t region_span(const rope_region *r) { return (r->rows - 1) * r->stride_bytes + r->row_bytes; }

int rope_regions_overlap(const rope_region *a, const rope_region *b) {
    if (!a->base || !b->base || a->rows == 0 || b->rows == 0 || a->row_bytes == 0 || b->row_bytes == 0) return 0;
    uintptr_t a0 = (uintptr_t)a->base, b0 = (uintptr_t)b->base;
    if (a0 + region_span(a) <= b0 || b0 + region_span(b) <= a0) return 0;
    if (a->stride_bytes != b->stride_bytes || a->stride_bytes == 0) return 1;
    /* Equal strides s: b's row j starts delta + (j-i)*s after a's row i. Only the two row pairs
     * whose offset lands in (-s, s) can meet; check that they exist and meet. */
    intptr_t s = (intptr_t)a->stride_bytes;
    intptr_t delta = (intptr_t)(b0 - a0);
    intptr_t d = ((delta % s) + s) % s; /* offset of the nearest b row at or after an a row */
    intptr_t m = (d - delta) / s;       /* j - i for that pairing */
    intptr_t ra = (intptr_t)a->rows, rb = (intptr_t)b->rows;
    if (d < (intptr_t)a->row_bytes && m > -ra && m < rb) return 1;
    /* the b row starting at d - s (before a's row) reaches into it when d - s + row_bytes > 0 */
    if (d - s + (intptr_t)b->row_bytes > 0 && m - 1 > -ra && m - 1 < rb) return 1;
    return 0;
}

rope_status rope_check_in_place_slow(const char *where, const char *out_name, const rope_region *out,
                                     const char *in_name, const rope_region *in) {
    if (out->base == in->base && out->rows == in->rows && out->row_bytes == in->row_bytes &&
        out->stride_bytes == in->stride_bytes)
        return ROPE_OK;
    if (!rope_regions_overlap(out, in)) return ROPE_OK;
    return rope_fail(ROPE_ERROR_ALIASING, where,
                     "%s partially overlaps %s: it must be exactly %s (in place, same row_stride) or disjoint",
                     out_name, in_name, in_name);
}

rope_status rope_check_disjoint_slow(const char *where, const char *out_name, const rope_region *out,
                                     const char *other_name, const rope_region *other) {
    if (!rope_regions_overlap(out, other)) return ROPE_OK;
    return rope_fail(ROPE_ERROR_ALIASING, where, "%s overlaps %s: expected disjoint memory", out_name, other_name);
}
