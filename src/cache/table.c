/* SPDX-License-Identifier: MIT */
/* The layouts and tensor checks of the cos/sin tables (table.h). */
#include "table.h"

#include "../core/check.h"
#include "../core/try.h"

static const rope_dtype cache_types[] = {ROPE_F32, ROPE_F16, ROPE_BF16};

rope_status rope_table_shape_make(const char *where, rope_cache_layout layout, int32_t rotary_coeff, int64_t d,
                                  rope_table_shape *out) {
    rope_table_shape sh = {layout, d / 2, d, 1, "rotary_dim for ROPE_CACHE_VLLM ([cos | sin] rows)"};
    switch (layout) {
    case ROPE_CACHE_HALF:
        sh.width = d / 2;
        sh.why = "rotary_dim/2 for ROPE_CACHE_HALF";
        break;
    case ROPE_CACHE_FULL:
        if (rotary_coeff != 2 && rotary_coeff != 4 && (int64_t)rotary_coeff != d)
            return rope_fail(ROPE_ERROR_ATTRIBUTE, where,
                             "rotary_coeff: expected 2, 4 or %lld (rotary_dim) for ROPE_CACHE_FULL, found %d",
                             (long long)d, (int)rotary_coeff);
        if (d % rotary_coeff != 0)
            return rope_fail(ROPE_ERROR_ATTRIBUTE, where,
                             "rotary_coeff %d: expected a divisor of rotary_dim, but rotary_dim is %lld",
                             (int)rotary_coeff, (long long)d);
        sh.ps = d / rotary_coeff;
        sh.why = "rotary_dim for ROPE_CACHE_FULL";
        break;
    case ROPE_CACHE_VLLM: break;
    default:
        return rope_fail(ROPE_ERROR_ATTRIBUTE, where,
                         "layout: expected ROPE_CACHE_HALF (0), ROPE_CACHE_FULL (1) or ROPE_CACHE_VLLM (2), found %d",
                         (int)layout);
    }
    *out = sh;
    return ROPE_OK;
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

rope_status rope_table_check(const char *where, const rope_table_shape *shape, int64_t count, const rope_tensor *cos,
                             const rope_tensor *sin) {
    const int64_t width = shape->width;
    const char *why = shape->why;
    if (shape->layout == ROPE_CACHE_VLLM) return check_vllm_tensor(where, count, width, why, cos, sin);
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
