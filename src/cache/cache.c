/* SPDX-License-Identifier: MIT */
/*
 * rope_cache_fill: cos/sin tables for consecutive positions, in the ONNX (half) or ATB (full) layout.
 *
 * Every value is attention * cos(pos * inv_freq[p]) evaluated in float64 from the exact angle
 * (angle.c) and rounded once to the tensors' dtype (round.h, which explains the float16 / bfloat16
 * path); table.h checks the tensors and places each pair's values.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../core/alloc.h"
#include "../core/check.h"
#include "../core/try.h"
#include "angle.h"
#include "freq.h"
#include "table.h"

rope_status rope_cache_fill(const rope_freq_config *cfg, int64_t pos_start, int64_t count, rope_cache_layout layout,
                            int32_t rotary_coeff, const rope_tensor *cos, const rope_tensor *sin) {
    static const char where[] = "rope_cache_fill";
    rope_freq_plan plan;
    ROPE_TRY(rope_freq_plan_make(where, cfg, &plan));
    const int64_t d = plan.dim, half = d / 2;

    rope_table_shape shape;
    ROPE_TRY(rope_table_shape_make(where, layout, rotary_coeff, d, &shape));

    if (count < 0) return rope_fail(ROPE_ERROR_SHAPE, where, "count: expected >= 0, found %lld", (long long)count);
    if (pos_start < 0)
        return rope_fail(ROPE_ERROR_INDEX, where, "pos_start: expected >= 0, found %lld", (long long)pos_start);
    if (pos_start > ROPE_POS_LIMIT - count)
        return rope_fail(ROPE_ERROR_INDEX, where,
                         "positions %lld + %lld: expected pos_start + count <= 2^53 (exact in float64)",
                         (long long)pos_start, (long long)count);
    ROPE_TRY(rope_table_check(where, &shape, count, cos, sin));

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
    for (int64_t r = 0; r < count; r++)
        for (int64_t p = 0; p < half; p++) {
            double c, s;
            rope_angle_sincos(pos_start + r, inv[p], &c, &s);
            rope_table_store(&shape, cos, sin, r, p, c * att, s * att);
        }
    rope_free(inv);
    return ROPE_OK;
}
