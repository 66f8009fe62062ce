/* SPDX-License-Identifier: MIT */
/* Shared internals of the library: failure reporting and attribute portability. Not installed. */
#ifndef ROPE_INTERNAL_H
#define ROPE_INTERNAL_H

#include "rope.h"

#if defined(__GNUC__) || defined(__clang__)
#define ROPE_PRINTF(fmt_index, first_arg) __attribute__((format(printf, fmt_index, first_arg)))
#define ROPE_ALWAYS_INLINE inline __attribute__((always_inline))
#define ROPE_HIDDEN __attribute__((visibility("hidden")))
#else
#define ROPE_PRINTF(fmt_index, first_arg)
#define ROPE_ALWAYS_INLINE inline
#define ROPE_HIDDEN
#endif

/* rope_dtype_size and rope_tensor_numel, inline for the per-call paths (validation, the engine),
 * where a decode step makes dozens of these calls. */
static inline size_t rope_dtype_bytes(rope_dtype dtype) {
    switch (dtype) {
    case ROPE_F32: case ROPE_I32: case ROPE_U32: return 4;
    case ROPE_F16: case ROPE_BF16: return 2;
    case ROPE_I64: case ROPE_F64: return 8;
    case ROPE_FP8_E4M3: case ROPE_FP8_E5M2: return 1;
    case ROPE_DTYPE_INVALID: break;
    }
    return 0;
}

/* The element count of a tensor rope_check_tensor accepted (dims >= 0, count below 2^59). With a 0
 * dim the others may be anything up to INT64_MAX, so their product is never formed. */
static inline int64_t rope_numel_checked(const rope_tensor *t) {
    uint64_t n = 1; /* unsigned: wraps harmlessly when a 0 dim makes the count 0 anyway */
    int zero = 0;
    for (int i = 0; i < t->rank; i++) zero |= t->dims[i] == 0, n *= (uint64_t)t->dims[i];
    return zero ? 0 : (int64_t)n;
}

/* a * b for dims a, b >= 0 of an accepted tensor, clamped to INT64_MAX: only an empty tensor's other
 * dims can make it overflow (a tensor with a 0 dim may have huge ones). */
static inline int64_t rope_dims_product(int64_t a, int64_t b) {
    if ((a < ((int64_t)1 << 31) && b < ((int64_t)1 << 31)) || a == 0) return a * b; /* no division */
    return b > INT64_MAX / a ? INT64_MAX : a * b;
}

/* Positions stay below 2^53, where float64 holds every integer exactly (caches and on the fly). */
#define ROPE_POS_LIMIT ((int64_t)1 << 53)

/* Value i of a seqlen tensor's data, int32 or uint32 (as ATB allows), widened. */
static inline int64_t rope_seqlen_value(const void *data, rope_dtype dtype, size_t i) {
    if (dtype == ROPE_U32) return (int64_t)((const uint32_t *)data)[i];
    return (int64_t)((const int32_t *)data)[i];
}

/* Records "<where>: <formatted message>" as the calling thread's last error and returns `status`,
 * so validation code reads `return rope_fail(ROPE_ERROR_SHAPE, fn, "...", ...);`. */
rope_status rope_fail(rope_status status, const char *where, const char *fmt, ...) ROPE_PRINTF(3, 4);

#endif
