/* SPDX-License-Identifier: MIT */
/* Element-wise comparison of a computed tensor with an expected one, numpy-allclose style. */
#ifndef ROPE_TOOL_TENSOR_COMPARE_H
#define ROPE_TOOL_TENSOR_COMPARE_H

#include <stddef.h>

#include "rope.h"

typedef struct tolerance {
    double rtol, atol;
} tolerance;

/* The defaults per output dtype: about one unit in the last place of f16 / bf16, and a few of f32.
 * Integer outputs compare exactly. */
tolerance tolerance_for(rope_dtype dtype);

typedef struct compare_result {
    int ok;
    char mismatch[320];  /* why not: a dtype or dims difference; empty when elements were compared */
    double max_abs_err;  /* over all elements (infinite when a NaN or infinity disagrees) */
    size_t n_bad;        /* elements outside |got - exp| <= atol + rtol*|exp| */
    size_t first_bad;    /* flat index of the first of them */
    double got, expected, limit; /* at first_bad */
} compare_result;

/* Compares dense `got` with dense `expected`; NaN matches NaN, an infinity matches itself. */
void tensor_compare(const rope_tensor *got, const rope_tensor *expected, tolerance tol, compare_result *res);

#endif
