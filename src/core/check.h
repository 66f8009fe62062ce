/* SPDX-License-Identifier: MIT */
/* Validation helpers shared by the front ends: each returns ROPE_OK or records a precise message
 * prefixed by `where` (the public function's name) and returns the failing status. The checks a
 * call makes a dozen times have their passing case inline (a decode step is a few hundred
 * nanoseconds, and calls were a fifth of its validation); the _slow halves decide and write the
 * message. */
#ifndef ROPE_CHECK_H
#define ROPE_CHECK_H

#include <stddef.h>
#include <stdint.h>

#include "internal.h"

/* The bytes a tensor's rows occupy: `rows` rows of `row_bytes`, `stride_bytes` apart. */
typedef struct rope_region {
    const char *base;
    size_t rows, row_bytes, stride_bytes;
} rope_region;

/* Writes "[d0,d1,...]" into buf. */
const char *rope_shape_str(const rope_tensor *t, char *buf, size_t size);

/* `t` is non-NULL, its rank is in [0, ROPE_MAX_RANK], its dims are >= 0 and its element count fits. */
rope_status rope_check_tensor(const char *where, const char *name, const rope_tensor *t);

/* t->dtype is one of the `n` listed; the message lists them. */
rope_status rope_check_dtype(const char *where, const char *name, const rope_tensor *t, const rope_dtype *allowed,
                             size_t n);

/* t->dtype == expected; `why` names what fixes the expectation ("same as X"). */
rope_status rope_check_same_dtype_slow(const char *where, const char *name, const rope_tensor *t, rope_dtype expected,
                                       const char *why);
static inline rope_status rope_check_same_dtype(const char *where, const char *name, const rope_tensor *t,
                                                rope_dtype expected, const char *why) {
    return t->dtype == expected ? ROPE_OK : rope_check_same_dtype_slow(where, name, t, expected, why);
}

/* t->rank is `rank` (or, when `alt` > 0, alt); `why` explains the expectation. */
rope_status rope_check_rank_slow(const char *where, const char *name, const rope_tensor *t, int rank, int alt,
                                 const char *why);
static inline rope_status rope_check_rank(const char *where, const char *name, const rope_tensor *t, int rank,
                                          int alt, const char *why) {
    if (t->rank == rank || (alt > 0 && t->rank == alt)) return ROPE_OK;
    return rope_check_rank_slow(where, name, t, rank, alt, why);
}

/* t->dims[dim] == expected; `why` explains the expectation. */
rope_status rope_check_dim_slow(const char *where, const char *name, const rope_tensor *t, int dim, int64_t expected,
                                const char *why);
static inline rope_status rope_check_dim(const char *where, const char *name, const rope_tensor *t, int dim,
                                         int64_t expected, const char *why) {
    return t->dims[dim] == expected ? ROPE_OK : rope_check_dim_slow(where, name, t, dim, expected, why);
}

/* `b` has exactly a's rank and dims. */
rope_status rope_check_same_shape_slow(const char *where, const char *name_a, const rope_tensor *a,
                                       const char *name_b, const rope_tensor *b);
static inline rope_status rope_check_same_shape(const char *where, const char *name_a, const rope_tensor *a,
                                                const char *name_b, const rope_tensor *b) {
    int same = a->rank == b->rank;
    for (int i = 0; same && i < a->rank; i++) same = a->dims[i] == b->dims[i];
    return same ? ROPE_OK : rope_check_same_shape_slow(where, name_a, a, name_b, b);
}

/* The `n` arguments ptrs[i] of a public call are not NULL; else NULL_ARGUMENT naming the first that is
 * (names[i]). */
rope_status rope_check_args(const char *where, size_t n, const char *const names[], const void *const ptrs[]);

/* The functions below take a tensor that rope_check_tensor has accepted (dims >= 0, no overflow). */

/* The row stride of `t` whose rows are `row_len` elements: 0 (dense) or >= row_len. Stores the
 * effective stride (row_len when dense) in *stride. */
rope_status rope_check_row_stride(const char *where, const char *name, const rope_tensor *t, int64_t row_len,
                                  int64_t *stride);

/* `t` must be dense (row_stride 0 or equal to its last dimension). */
rope_status rope_check_dense_slow(const char *where, const char *name, const rope_tensor *t);
static inline rope_status rope_check_dense(const char *where, const char *name, const rope_tensor *t) {
    return t->row_stride == 0 ? ROPE_OK : rope_check_dense_slow(where, name, t);
}

/* `t` has data unless it has no elements. */
rope_status rope_check_data_slow(const char *where, const char *name, const rope_tensor *t);
static inline rope_status rope_check_data(const char *where, const char *name, const rope_tensor *t) {
    return t->data ? ROPE_OK : rope_check_data_slow(where, name, t);
}

/* The region of `t` seen as rows of `row_len` elements `stride` apart. Inline: a call takes five to
 * seven of them, and the calls were a tenth of a decode step's overhead. */
static inline rope_region rope_region_of(const rope_tensor *t, int64_t row_len, int64_t stride) {
    size_t es = rope_dtype_bytes(t->dtype);
    rope_region r;
    r.base = (const char *)t->data;
    /* The rows before the last dim, in one pass: unsigned, since next to a 0 dim (an empty tensor,
     * no bytes) the others may be huge. */
    uint64_t lead = 1;
    int zero = t->rank > 0 && t->dims[t->rank - 1] == 0;
    for (int i = 0; i < t->rank - 1; i++) zero |= t->dims[i] == 0, lead *= (uint64_t)t->dims[i];
    if (zero || row_len <= 0) r.rows = 0;
    else if (t->rank > 0 && row_len == t->dims[t->rank - 1]) r.rows = (size_t)lead; /* the usual row: no division */
    else r.rows = (size_t)(rope_numel_checked(t) / row_len);
    r.row_bytes = (size_t)row_len * es;
    r.stride_bytes = (size_t)stride * es;
    return r;
}

/* 1 when a byte of `a` is also a byte of `b`. Exact when both have the same stride; otherwise it
 * compares the address spans. */
int rope_regions_overlap(const rope_region *a, const rope_region *b);

/* 1 when a and b cannot share a byte because one of them is empty or their address spans do not
 * meet: the usual answer, decided inline (a vLLM call checks eleven pairs, and the calls were a
 * tenth of a decode step's overhead); 0 leaves it to the exact test. */
static inline int rope_regions_apart(const rope_region *a, const rope_region *b) {
    if (!a->base || !b->base || a->rows == 0 || b->rows == 0 || a->row_bytes == 0 || b->row_bytes == 0) return 1;
    uintptr_t a0 = (uintptr_t)a->base, b0 = (uintptr_t)b->base;
    return a0 + (a->rows - 1) * a->stride_bytes + a->row_bytes <= b0 ||
           b0 + (b->rows - 1) * b->stride_bytes + b->row_bytes <= a0;
}

/* Output `out` either is exactly `in` (same base, rows, row and stride: in place) or shares no byte
 * with it. */
rope_status rope_check_in_place_slow(const char *where, const char *out_name, const rope_region *out,
                                     const char *in_name, const rope_region *in);
static inline rope_status rope_check_in_place(const char *where, const char *out_name, const rope_region *out,
                                              const char *in_name, const rope_region *in) {
    return rope_regions_apart(out, in) ? ROPE_OK : rope_check_in_place_slow(where, out_name, out, in_name, in);
}

/* `out` shares no byte with `other`. */
rope_status rope_check_disjoint_slow(const char *where, const char *out_name, const rope_region *out,
                                     const char *other_name, const rope_region *other);
static inline rope_status rope_check_disjoint(const char *where, const char *out_name, const rope_region *out,
                                              const char *other_name, const rope_region *other) {
    return rope_regions_apart(out, other) ? ROPE_OK : rope_check_disjoint_slow(where, out_name, out, other_name, other);
}

#endif
