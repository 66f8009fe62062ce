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

/* The region of `t` seen as rows of `row_len` elements `stride` apart. */
rope_region rope_region_of(const rope_tensor *t, int64_t row_len, int64_t stride);

/* 1 when a byte of `a` is also a byte of `b`. Exact when both have the same stride; otherwise it
 * compares the address spans. */
int rope_regions_overlap(const rope_region *a, const rope_region *b);

/* Output `out` either is exactly `in` (same base, rows, row and stride: in place) or shares no byte
 * with it. */
rope_status rope_check_in_place(const char *where, const char *out_name, const rope_region *out,
                                const char *in_name, const rope_region *in);

/* `out` shares no byte with `other`. */
rope_status rope_check_disjoint(const char *where, const char *out_name, const rope_region *out,
                                const char *other_name, const rope_region *other);

#endif
