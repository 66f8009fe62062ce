/* SPDX-License-Identifier: MIT */
/* The steps rope_onnx_rotary_embedding_fly and _fly_axes share (onnx_fly.c, onnx_fly_axes.c), written
 * once so that both forms check, and word their errors, alike. */
#include "../core/check.h"
#include "../core/try.h"
#include "onnx_rotary.h"

rope_status rope_onnx_fly_args(const char *where, const rope_onnx_attrs **attrs, const rope_tensor *x, const void *fly,
                               const rope_tensor *y) {
    static const rope_onnx_attrs defaults = {0, 0, 0};
    if (!*attrs) *attrs = &defaults;
    ROPE_TRY(rope_onnx_check_attrs(where, *attrs));
    static const char *const names[3] = {"X", "fly", "Y"};
    const void *const args[3] = {x, fly, y};
    return rope_check_args(where, 3, names, args);
}

rope_status rope_onnx_fly_cs_dtype(const char *where, const rope_tensor *x, rope_dtype requested,
                                   rope_dtype *cs_dtype) {
    *cs_dtype = requested ? requested : x->dtype;
    if (*cs_dtype != x->dtype)
        return rope_fail(ROPE_ERROR_DTYPE, where,
                         "fly->cs_dtype: expected 0 or %s (ONNX caches have X's dtype), found %s",
                         rope_dtype_name(x->dtype), rope_dtype_name(*cs_dtype));
    return ROPE_OK;
}

rope_status rope_onnx_fly_disjoint(const char *where, const rope_onnx_plan *p, const rope_tensor *y,
                                   const rope_tensor *positions, int64_t width) {
    rope_region ry = rope_region_of(y, p->x_row, p->y_stride);
    rope_region rp = rope_region_of(positions, width, width);
    return rope_check_disjoint(where, "Y", &ry, "fly->positions", &rp);
}
