/* SPDX-License-Identifier: MIT */
#include "tensor_compare.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "tensor_util.h"

tolerance tolerance_for(rope_dtype dtype) {
    tolerance t = {0.0, 0.0};
    if (dtype == ROPE_F32) t = (tolerance){1e-5, 1e-6};
    if (dtype == ROPE_F16) t = (tolerance){1e-3, 1e-3};
    if (dtype == ROPE_BF16) t = (tolerance){8e-3, 8e-3};
    /* fp8 caches: one step of the format (the key or value rounded to its dtype may sit a step of
     * that dtype away from the float64 reference's, which can move a near-tie quotient a step) */
    if (dtype == ROPE_FP8_E4M3) t = (tolerance){0.125, 0x1p-9};
    if (dtype == ROPE_FP8_E5M2) t = (tolerance){0.25, 0x1p-16};
    return t;
}

void tensor_compare(const rope_tensor *got, const rope_tensor *expected, tolerance tol, compare_result *res) {
    char a[128], b[128];
    memset(res, 0, sizeof *res);
    if (got->dtype != expected->dtype) {
        snprintf(res->mismatch, sizeof res->mismatch, "dtype %s, expected %s", rope_dtype_name(got->dtype),
                 rope_dtype_name(expected->dtype));
        return;
    }
    if (!tensor_same_shape(got, expected)) {
        snprintf(res->mismatch, sizeof res->mismatch, "dims %s, expected %s", tensor_shape_str(got, a, sizeof a),
                 tensor_shape_str(expected, b, sizeof b));
        return;
    }
    int64_t n = rope_tensor_numel(expected);
    for (int64_t i = 0; i < n; i++) {
        double g = tensor_element(got, (size_t)i), e = tensor_element(expected, (size_t)i);
        int same = g == e || (isnan(g) && isnan(e));
        double err = same ? 0.0 : fabs(g - e);
        if (isnan(err)) err = INFINITY; /* a NaN against a number */
        double limit = isinf(e) ? 0.0 : tol.atol + tol.rtol * fabs(e); /* an infinity only matches itself */
        if (err > res->max_abs_err) res->max_abs_err = err;
        if (same || err <= limit) continue;
        if (res->n_bad++ == 0) {
            res->first_bad = (size_t)i;
            res->got = g;
            res->expected = e;
            res->limit = limit;
        }
    }
    res->ok = res->n_bad == 0;
}
