/* SPDX-License-Identifier: MIT */
/* Small helpers over dense rope tensors for making, printing and comparing. */
#ifndef ROPE_TOOL_TENSOR_UTIL_H
#define ROPE_TOOL_TENSOR_UTIL_H

#include <stddef.h>

#include "rope.h"

/* A dense tensor of dtype and the rank dims, with fresh uninitialised storage from malloc (data NULL
 * when that failed; at least one byte, so an empty tensor's data is not NULL); free(t.data) lets it
 * go. */
rope_tensor tensor_new(rope_dtype dtype, int rank, const int64_t *dims);

/* "[2,4,3,8]" (or "[]" for a scalar) into buf; returns buf. */
const char *tensor_shape_str(const rope_tensor *t, char *buf, size_t size);
/* The multi-index of dense element `flat`, as "[1,2,0,3]"; returns buf. */
const char *tensor_index_str(const rope_tensor *t, size_t flat, char *buf, size_t size);
/* Element `flat` of a dense tensor, widened to double (exact for every rope dtype but large i64). */
double tensor_element(const rope_tensor *t, size_t flat);
/* 1 when the tensors have the same rank and dims. */
int tensor_same_shape(const rope_tensor *a, const rope_tensor *b);

/* The floating dtype rope_dtype_name calls `name` ("f32", "f16", "bf16"), else ROPE_DTYPE_INVALID. */
rope_dtype float_dtype_named(const char *name);

#endif
