/* SPDX-License-Identifier: MIT */
/* The ATB front end's steps, shared by the one-shot call and the operation lifecycle. */
#ifndef ROPE_ATB_ROPE_H
#define ROPE_ATB_ROPE_H

#include "rope.h"
#include "../engine/engine.h"

/* What validation learned about a call. Strides are in elements. */
typedef struct rope_atb_plan {
    int64_t ntokens, hidden_q, hidden_k, d, pair_stride, cos_rows;
    int64_t head; /* the head vector's width: D, or param->head_size with ROPE_PARTIAL_SPLIT */
    int split;    /* ROPE_PARTIAL_SPLIT with D < head_size */
    int32_t cos_format;
    int64_t q_stride, k_stride, rq_stride, rk_stride;
} rope_atb_plan;

/* 1 when the call has nothing to rotate (no tokens, or 0-wide rows). */
static inline int rope_atb_plan_empty(const rope_atb_plan *p) { return p->ntokens == 0 || p->hidden_q == 0; }

/* The cos dtype `ct` goes with a query of dtype `qt` (f16, bf16 or f32): the same, or f32 with f16.
 * The message reads "<what>: expected <also><dtypes> (with <qt> query), found <ct>". */
rope_status rope_atb_check_cos_dtype(const char *where, const char *what, const char *also, rope_dtype qt,
                                     rope_dtype ct);

/* Checks the parameter alone (usable at operation creation). */
rope_status rope_atb_check_param(const char *where, const rope_atb_param *param);

/* Checks the input descriptors (no data read) and fills *p (all but the output strides). The caller
 * has checked `param` (NULL: the defaults) with rope_atb_check_param. */
rope_status rope_atb_plan_shapes(const char *where, const rope_atb_param *param, const rope_tensor *q,
                                 const rope_tensor *k, const rope_tensor *cos, const rope_tensor *sin,
                                 const rope_tensor *seqlen, rope_atb_plan *p);

/* Every check of a call that reads descriptors only, in the one order the call and rope_atb_infer
 * share: the parameter (NULL: the defaults), the NULL pointers (names[]: query, key, cos, sin,
 * seqlen and the two outputs, whose pointers are the call's ropeQ / ropeK or infer's *_out), then
 * plan_shapes. */
rope_status rope_atb_check_descriptors(const char *where, const char *const names[7], const rope_atb_param *param,
                                       const rope_tensor *q, const rope_tensor *k, const rope_tensor *cos,
                                       const rope_tensor *sin, const rope_tensor *seqlen, const void *out_q,
                                       const void *out_k, rope_atb_plan *p);

/* plan_shapes for the on-the-fly mode: no cos / sin, the chunk width D given (the frequencies'
 * rotary_dim, or the axes' width), d_name saying where it comes from in messages. cos_rows is -1 in
 * the plan: seqlen values then only need to be >= 0. */
rope_status rope_atb_plan_fly(const char *where, const rope_atb_param *param, const rope_tensor *q,
                              const rope_tensor *k, const rope_tensor *seqlen, int64_t d, const char *d_name,
                              rope_atb_plan *p);

/* Checks outputs, data pointers, aliasing and seqlen values; on success stores the completed plan.
 * cos and sin may be NULL on the fly. */
rope_status rope_atb_check_data(const char *where, const rope_atb_plan *p, const rope_tensor *q,
                                const rope_tensor *k, const rope_tensor *cos, const rope_tensor *sin,
                                const rope_tensor *seqlen, const rope_tensor *rq, const rope_tensor *rk,
                                rope_atb_plan *out);

/* The part of rope_atb_check_data that reads data (data pointers, aliasing, seqlen values), for a
 * plan whose descriptors rope_atb_check_data has accepted (core/memo.h). */
rope_status rope_atb_check_values(const char *where, const rope_atb_plan *p, const rope_tensor *q,
                                  const rope_tensor *k, const rope_tensor *cos, const rope_tensor *sin,
                                  const rope_tensor *seqlen, const rope_tensor *rq, const rope_tensor *rk);

/* The engine job of a fully checked call: a forward table source (cos and sin NULL on the fly: the
 * caller then sets the source and the cos dtype). */
void rope_atb_job(const rope_atb_plan *p, const rope_tensor *q, const rope_tensor *k, const rope_tensor *cos,
                  const rope_tensor *sin, const rope_tensor *seqlen, const rope_tensor *rq, const rope_tensor *rk,
                  rope_job *out);

/* Runs a fully checked call on ctx (NULL: the default context), q and k of each token in one pass,
 * forward or backward (the table's rows transformed, cossin/source.h); `where` names the public
 * function in error messages. */
rope_status rope_atb_run(rope_context *ctx, const rope_atb_plan *p, const rope_tensor *q, const rope_tensor *k,
                         const rope_tensor *cos, const rope_tensor *sin, const rope_tensor *seqlen,
                         const rope_tensor *rq, const rope_tensor *rk, const char *where, int backward);

/* ---- the on-the-fly calls' shared steps (atb_fly_checks.c), for rope_fly and rope_fly_axes ---- */

/* The parameters (NULL: the defaults, stored in *param) checked as the forward checks them, then
 * query, key, fly, seqlen, ropeQ and ropeK present (NULL_ARGUMENT naming the first missing one). */
rope_status rope_atb_fly_args(const char *where, const rope_atb_param **param, const rope_tensor *q,
                              const rope_tensor *k, const void *fly, const rope_tensor *seqlen, const rope_tensor *rq,
                              const rope_tensor *rk);

/* fly->cs_dtype (0: query's) checked as the forward checks cos' dtype; stored in *cs_dtype. */
rope_status rope_atb_fly_cs_dtype(const char *where, const rope_tensor *q, rope_dtype requested, rope_dtype *cs_dtype);

/* ropeQ and ropeK must not overlap fly->positions (`width` values a row: 1, or the axes' count). */
rope_status rope_atb_fly_disjoint(const char *where, const rope_atb_plan *p, const rope_tensor *rq,
                                  const rope_tensor *rk, const rope_tensor *positions, int64_t width);

#endif
