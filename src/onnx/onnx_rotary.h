/* SPDX-License-Identifier: MIT */
/* The ONNX front end's steps, shared by the one-shot call and the operation lifecycle. */
#ifndef ROPE_ONNX_ROTARY_H
#define ROPE_ONNX_ROTARY_H

#include "rope.h"
#include "../engine/engine.h"

/* What validation learned about a call. Strides are in elements. */
typedef struct rope_onnx_plan {
    int64_t batch, seq, heads, head_size, rot, max_pos;
    int interleaved; /* a rope_onnx_layout */
    int64_t x_row, x_stride, y_stride;
} rope_onnx_plan;

/* Checks the descriptors of the inputs (no data read) and fills *p (all but y_stride). The caller
 * has checked `attrs` (NULL: the defaults) with rope_onnx_check_attrs. */
rope_status rope_onnx_plan_shapes(const char *where, const rope_onnx_attrs *attrs, const rope_tensor *x,
                                  const rope_tensor *cos, const rope_tensor *sin, const rope_tensor *ids,
                                  rope_onnx_plan *p);

/* Every check of a call that reads descriptors only, in the one order the call and rope_onnx_infer
 * share (so both report the same first fault): the attributes (NULL: the defaults), the NULL
 * pointers (names[]: X, the caches, the output, whose pointer `out` is Y or infer's y_out), a
 * rank-0 position_ids, then plan_shapes. */
rope_status rope_onnx_check_descriptors(const char *where, const char *const names[4], const rope_onnx_attrs *attrs,
                                        const rope_tensor *x, const rope_tensor *cos, const rope_tensor *sin,
                                        const rope_tensor *ids, const void *out, rope_onnx_plan *p);

/* plan_shapes for the on-the-fly mode: X and the attributes only (no caches, no position ids). */
rope_status rope_onnx_plan_fly(const char *where, const rope_onnx_attrs *attrs, const rope_tensor *x,
                               rope_onnx_plan *p);

/* Checks Y, data pointers, aliasing and position id values; on success stores the completed plan.
 * cos, sin and ids may be NULL on the fly (nothing of theirs is checked then). */
rope_status rope_onnx_check_data(const char *where, const rope_onnx_plan *p, const rope_tensor *x,
                                 const rope_tensor *cos, const rope_tensor *sin, const rope_tensor *ids,
                                 const rope_tensor *y, rope_onnx_plan *out);

/* The part of rope_onnx_check_data that reads data (data pointers, aliasing, every position id),
 * for a plan whose descriptors rope_onnx_check_data has accepted (core/memo.h). */
rope_status rope_onnx_check_values(const char *where, const rope_onnx_plan *p, const rope_tensor *x,
                                   const rope_tensor *cos, const rope_tensor *sin, const rope_tensor *ids,
                                   const rope_tensor *y);

/* 1 when the call has nothing to rotate (a 0 batch, seq, head count or head size). */
static inline int rope_onnx_plan_empty(const rope_onnx_plan *p) {
    return p->batch == 0 || p->seq == 0 || p->heads == 0 || p->head_size == 0;
}

/* The checks of the attributes alone (before any tensor is seen), as operation creation makes them. */
rope_status rope_onnx_check_attrs(const char *where, const rope_onnx_attrs *attrs);

/* The engine job of a fully checked call: a forward table source (cos and sin NULL on the fly: the
 * caller then sets the source and the cos dtype). */
void rope_onnx_job(const rope_onnx_plan *p, const rope_tensor *x, const rope_tensor *cos, const rope_tensor *sin,
                   const rope_tensor *ids, const rope_tensor *y, rope_job *out);

/* Sets the direction of a plan's job: the backward pass's row transform, and the side of the
 * pairs-to-halves permutation. */
void rope_onnx_job_direction(const rope_onnx_plan *p, rope_job *job, int backward);

/* Runs a fully checked call on ctx (NULL: the default context), forward or backward (the table's rows
 * transformed, cossin/source.h); `where` names the public function in error messages. */
rope_status rope_onnx_run(rope_context *ctx, const rope_onnx_plan *p, const rope_tensor *x, const rope_tensor *cos,
                          const rope_tensor *sin, const rope_tensor *ids, const rope_tensor *y, const char *where,
                          int backward);

/* ---- the on-the-fly calls' shared steps (onnx_fly_checks.c), for rope_fly and rope_fly_axes ---- */

/* The attributes (NULL: the defaults, stored in *attrs) checked as the forward checks them, then X,
 * fly and Y present (NULL_ARGUMENT naming the first missing one). */
rope_status rope_onnx_fly_args(const char *where, const rope_onnx_attrs **attrs, const rope_tensor *x, const void *fly,
                               const rope_tensor *y);

/* fly->cs_dtype (0: X's) must be X's dtype: ONNX caches have it. DTYPE otherwise. */
rope_status rope_onnx_fly_cs_dtype(const char *where, const rope_tensor *x, rope_dtype requested, rope_dtype *cs_dtype);

/* Y must not overlap fly->positions (`width` values a row: 1, or the axes' count). */
rope_status rope_onnx_fly_disjoint(const char *where, const rope_onnx_plan *p, const rope_tensor *y,
                                   const rope_tensor *positions, int64_t width);

#endif
