/* SPDX-License-Identifier: MIT */
/* The one-shot calls, forward and backward: the lifecycle's steps (plan the shapes, check the data,
 * run) called directly, without an operation object: a decode step is a few microseconds of work or
 * less, and copying tensors into an operation and validating them twice cost it 15%. The backward
 * forms are the forward with the table rows transformed per chunk (engine/rows.h). */
#include "../core/check.h"
#include "../engine/context.h"
#include "../core/internal.h"
#include "../core/try.h"
#include "../engine/rows.h"
#include "../atb/atb_rope.h"
#include "../onnx/onnx_rotary.h"

/* ONNX with tables; names[]: X, cos_cache, sin_cache, Y as the messages call them. */
static rope_status onnx_table(const char *where, const char *const names[4], int backward, rope_context *ctx,
                              const rope_onnx_attrs *attrs, const rope_tensor *x, const rope_tensor *cos,
                              const rope_tensor *sin, const rope_tensor *position_ids, const rope_tensor *y) {
    static const rope_onnx_attrs defaults = {0, 0, 0};
    if (!attrs) attrs = &defaults;
    ROPE_TRY(rope_onnx_check_attrs(where, attrs));
    const void *const args[4] = {x, cos, sin, y};
    ROPE_TRY(rope_check_args(where, 4, names, args));
    /* The lifecycle reads a rank-0 4th input as "absent"; here absence is a NULL pointer. */
    if (position_ids && position_ids->rank == 0)
        return rope_fail(ROPE_ERROR_RANK, where, "position_ids rank: expected 2 ([batch, seq]), found 0");
    rope_onnx_plan p;
    rope_context *c;
    ROPE_TRY(rope_onnx_plan_shapes(where, attrs, x, cos, sin, position_ids, &p));
    ROPE_TRY(rope_onnx_check_data(where, &p, x, cos, sin, position_ids, y, &p));
    ROPE_TRY(rope_context_resolve(ctx, where, &c));
    rope_cs_rows rows = {where, 1, NULL};
    return rope_onnx_run(c, &p, x, cos, sin, position_ids, y, backward ? &rows : NULL);
}

/* ATB with tables; names[]: query, key, cos, sin, seqlen, ropeQ, ropeK as the messages call them. */
static rope_status atb_table(const char *where, const char *const names[7], int backward, rope_context *ctx,
                             const rope_atb_param *param, const rope_tensor *q, const rope_tensor *k,
                             const rope_tensor *cos, const rope_tensor *sin, const rope_tensor *seqlen,
                             const rope_tensor *rq, const rope_tensor *rk) {
    static const rope_atb_param defaults = ROPE_ATB_PARAM_INIT;
    if (!param) param = &defaults;
    ROPE_TRY(rope_atb_check_param(where, param));
    const void *const args[7] = {q, k, cos, sin, seqlen, rq, rk};
    ROPE_TRY(rope_check_args(where, 7, names, args));
    rope_atb_plan p;
    rope_context *c;
    ROPE_TRY(rope_atb_plan_shapes(where, param, q, k, cos, sin, seqlen, &p));
    ROPE_TRY(rope_atb_check_data(where, &p, q, k, cos, sin, seqlen, rq, rk, &p));
    ROPE_TRY(rope_context_resolve(ctx, where, &c));
    rope_cs_rows rows = {where, 1, NULL};
    return rope_atb_run(c, &p, q, k, cos, sin, seqlen, rq, rk, backward ? &rows : NULL);
}

static const char *const onnx_names[4] = {"X", "cos_cache", "sin_cache", "Y"};
static const char *const onnx_grad_names[4] = {"X (dY)", "cos_cache", "sin_cache", "Y (dX)"};
static const char *const atb_names[7] = {"query", "key", "cos", "sin", "seqlen", "ropeQ", "ropeK"};
static const char *const atb_grad_names[7] = {"query (grad_q)", "key (grad_k)", "cos", "sin",
                                              "seqlen", "ropeQ (dq)", "ropeK (dk)"};

rope_status rope_onnx_rotary_embedding(rope_context *ctx, const rope_onnx_attrs *attrs, const rope_tensor *x,
                                       const rope_tensor *cos, const rope_tensor *sin,
                                       const rope_tensor *position_ids, const rope_tensor *y) {
    return onnx_table("rope_onnx_rotary_embedding", onnx_names, 0, ctx, attrs, x, cos, sin, position_ids, y);
}

rope_status rope_onnx_rotary_embedding_backward(rope_context *ctx, const rope_onnx_attrs *attrs,
                                                const rope_tensor *dy, const rope_tensor *cos,
                                                const rope_tensor *sin, const rope_tensor *position_ids,
                                                const rope_tensor *dx) {
    return onnx_table("rope_onnx_rotary_embedding_backward", onnx_grad_names, 1, ctx, attrs, dy, cos, sin,
                      position_ids, dx);
}

rope_status rope_atb_rope(rope_context *ctx, const rope_atb_param *param, const rope_tensor *query,
                          const rope_tensor *key, const rope_tensor *cos, const rope_tensor *sin,
                          const rope_tensor *seqlen, const rope_tensor *rope_q, const rope_tensor *rope_k) {
    return atb_table("rope_atb_rope", atb_names, 0, ctx, param, query, key, cos, sin, seqlen, rope_q, rope_k);
}

rope_status rope_atb_rope_backward(rope_context *ctx, const rope_atb_param *param, const rope_tensor *grad_q,
                                   const rope_tensor *grad_k, const rope_tensor *cos, const rope_tensor *sin,
                                   const rope_tensor *seqlen, const rope_tensor *dq, const rope_tensor *dk) {
    return atb_table("rope_atb_rope_backward", atb_grad_names, 1, ctx, param, grad_q, grad_k, cos, sin, seqlen, dq,
                     dk);
}
