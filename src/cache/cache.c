/* SPDX-License-Identifier: MIT */
/*
 * rope_cache_fill: cos/sin tables for consecutive positions, in the ONNX (half) or ATB (full) layout.
 *
 * Every value is attention * cos(pos * inv_freq[p]) evaluated in float64 from the exact angle
 * (angle.c) and rounded once to the tensors' dtype (round.h, which explains the float16 / bfloat16
 * path).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../core/alloc.h"
#include "../core/check.h"
#include "../core/try.h"
#include "angle.h"
#include "freq.h"
#include "round.h"

/* v rounded once to the tensor's dtype (round.h: shared with the on-the-fly rows). */
static void store(void *data, rope_dtype dtype, size_t idx, double v) {
    rope_store_cs(data, dtype, idx, rope_round_cs(dtype, v));
}

static const rope_dtype cache_types[] = {ROPE_F32, ROPE_F16, ROPE_BF16};

/* 2^53: positions beyond it are not exact in float64. */

static rope_status check_tensors(const char *where, int64_t count, int64_t width, const char *why,
                                 const rope_tensor *cos, const rope_tensor *sin) {
    ROPE_TRY(rope_check_tensor(where, "cos", cos));
    ROPE_TRY(rope_check_tensor(where, "sin", sin));
    ROPE_TRY(rope_check_dtype(where, "cos", cos, cache_types, 3));
    ROPE_TRY(rope_check_same_dtype(where, "sin", sin, cos->dtype, "same as cos"));
    ROPE_TRY(rope_check_rank(where, "cos", cos, 2, 0, "[count, width]"));
    ROPE_TRY(rope_check_rank(where, "sin", sin, 2, 0, "[count, width]"));
    ROPE_TRY(rope_check_dim(where, "cos", cos, 0, count, "count"));
    ROPE_TRY(rope_check_dim(where, "cos", cos, 1, width, why));
    ROPE_TRY(rope_check_same_shape(where, "cos", cos, "sin", sin));
    ROPE_TRY(rope_check_dense(where, "cos", cos));
    ROPE_TRY(rope_check_dense(where, "sin", sin));
    ROPE_TRY(rope_check_data(where, "cos", cos));
    ROPE_TRY(rope_check_data(where, "sin", sin));
    rope_region rc = rope_region_of(cos, width, width), rsn = rope_region_of(sin, width, width);
    return rope_check_disjoint(where, "sin", &rsn, "cos", &rc);
}

/* The vLLM layout: one [count, d] tensor of [cos | sin] rows, given as cos; sin is NULL. */
static rope_status check_vllm_tensor(const char *where, int64_t count, int64_t width, const char *why,
                                     const rope_tensor *cos, const rope_tensor *sin) {
    if (sin)
        return rope_fail(ROPE_ERROR_ATTRIBUTE, where, "sin: expected NULL with ROPE_CACHE_VLLM (cos holds [cos | sin] rows)");
    ROPE_TRY(rope_check_tensor(where, "cos", cos));
    ROPE_TRY(rope_check_dtype(where, "cos", cos, cache_types, 3));
    ROPE_TRY(rope_check_rank(where, "cos", cos, 2, 0, "[count, width]"));
    ROPE_TRY(rope_check_dim(where, "cos", cos, 0, count, "count"));
    ROPE_TRY(rope_check_dim(where, "cos", cos, 1, width, why));
    ROPE_TRY(rope_check_dense(where, "cos", cos));
    return rope_check_data(where, "cos", cos);
}

rope_status rope_cache_fill(const rope_freq_config *cfg, int64_t pos_start, int64_t count, rope_cache_layout layout,
                            int32_t rotary_coeff, const rope_tensor *cos, const rope_tensor *sin) {
    static const char where[] = "rope_cache_fill";
    rope_freq_plan plan;
    ROPE_TRY(rope_freq_plan_make(where, cfg, &plan));
    const int64_t d = plan.dim, half = d / 2;

    int64_t width, ps = 1;
    const char *why;
    if (layout == ROPE_CACHE_HALF) {
        width = half;
        why = "rotary_dim/2 for ROPE_CACHE_HALF";
    } else if (layout == ROPE_CACHE_FULL) {
        if (rotary_coeff != 2 && rotary_coeff != 4 && (int64_t)rotary_coeff != d)
            return rope_fail(ROPE_ERROR_ATTRIBUTE, where,
                             "rotary_coeff: expected 2, 4 or %lld (rotary_dim) for ROPE_CACHE_FULL, found %d",
                             (long long)d, (int)rotary_coeff);
        if (d % rotary_coeff != 0)
            return rope_fail(ROPE_ERROR_ATTRIBUTE, where,
                             "rotary_coeff %d: expected a divisor of rotary_dim, but rotary_dim is %lld",
                             (int)rotary_coeff, (long long)d);
        width = d;
        ps = d / rotary_coeff;
        why = "rotary_dim for ROPE_CACHE_FULL";
    } else if (layout == ROPE_CACHE_VLLM) {
        width = d;
        why = "rotary_dim for ROPE_CACHE_VLLM ([cos | sin] rows)";
    } else {
        return rope_fail(ROPE_ERROR_ATTRIBUTE, where,
                         "layout: expected ROPE_CACHE_HALF (0), ROPE_CACHE_FULL (1) or ROPE_CACHE_VLLM (2), found %d",
                         (int)layout);
    }

    if (count < 0) return rope_fail(ROPE_ERROR_SHAPE, where, "count: expected >= 0, found %lld", (long long)count);
    if (pos_start < 0)
        return rope_fail(ROPE_ERROR_INDEX, where, "pos_start: expected >= 0, found %lld", (long long)pos_start);
    if (pos_start > ROPE_POS_LIMIT - count)
        return rope_fail(ROPE_ERROR_INDEX, where,
                         "positions %lld + %lld: expected pos_start + count <= 2^53 (exact in float64)",
                         (long long)pos_start, (long long)count);
    if (layout == ROPE_CACHE_VLLM) ROPE_TRY(check_vllm_tensor(where, count, width, why, cos, sin));
    else ROPE_TRY(check_tensors(where, count, width, why, cos, sin));

    if (count == 0) return rope_freq_plan_fill(where, &plan, NULL, NULL); /* still reports a bad config */
    if ((uint64_t)half > SIZE_MAX / sizeof(double))
        return rope_fail(ROPE_ERROR_OUT_OF_MEMORY, where, "rotary_dim %lld: frequency table too large", (long long)d);
    double *inv = (double *)rope_malloc((size_t)half * sizeof(double));
    if (!inv)
        return rope_fail(ROPE_ERROR_OUT_OF_MEMORY, where, "cannot allocate %lld inverse frequencies", (long long)half);
    double max_inv = 0.0;
    rope_status st = rope_freq_plan_fill(where, &plan, inv, &max_inv);
    if (st != ROPE_OK) {
        rope_free(inv);
        return st;
    }
    int64_t last = pos_start + count - 1;
    st = rope_angle_check(where, "", last, max_inv);
    if (st != ROPE_OK) {
        rope_free(inv);
        return st;
    }

    const double att = plan.attention;
    for (int64_t r = 0; r < count; r++) {
        size_t row = (size_t)r * (size_t)width;
        for (int64_t p = 0; p < half; p++) {
            double c, s;
            rope_angle_sincos(pos_start + r, inv[p], &c, &s);
            c *= att;
            s *= att;
            if (layout == ROPE_CACHE_VLLM) { /* [cos | sin] in one row */
                store(cos->data, cos->dtype, row + (size_t)p, c);
                store(cos->data, cos->dtype, row + (size_t)(half + p), s);
            } else if (layout == ROPE_CACHE_HALF) {
                store(cos->data, cos->dtype, row + (size_t)p, c);
                store(sin->data, sin->dtype, row + (size_t)p, s);
            } else { /* pair p = g*ps + j owns elements g*2*ps + j and that + ps */
                size_t a = row + (size_t)((p / ps) * 2 * ps + p % ps);
                store(cos->data, cos->dtype, a, c);
                store(cos->data, cos->dtype, a + (size_t)ps, c);
                store(sin->data, sin->dtype, a, s);
                store(sin->data, sin->dtype, a + (size_t)ps, s);
            }
        }
    }
    rope_free(inv);
    return ROPE_OK;
}
