/* SPDX-License-Identifier: MIT */
/* The one-shot calls, forward and backward: the lifecycle's steps (plan the shapes, check the data,
 * run) called directly, without an operation object: a decode step is a few microseconds of work or
 * less, and copying tensors into an operation and validating them twice is a visible part of it. The backward
 * forms are the forward with the table rows transformed per chunk (cossin/source.h). */
#include "../core/check.h"
#include "../core/internal.h"
#include "../core/try.h"
#include "../atb/atb_rope.h"
#include "../onnx/onnx_rotary.h"

/* ONNX with tables; names[]: X, cos_cache, sin_cache, Y as the messages call them. */
static rope_status onnx_table(const char *where, const char *const names[4], int backward, rope_context *ctx,
                              const rope_onnx_attrs *attrs, const rope_tensor *x, const rope_tensor *cos,
                              const rope_tensor *sin, const rope_tensor *position_ids, const rope_tensor *y) {
    rope_onnx_plan p;
    ROPE_TRY(rope_onnx_check_descriptors(where, names, attrs, x, cos, sin, position_ids, y, &p));
    ROPE_TRY(rope_onnx_check_data(where, &p, x, cos, sin, position_ids, y, &p));
    return rope_onnx_run(ctx, &p, x, cos, sin, position_ids, y, where, backward);
}

/* ATB with tables; names[]: query, key, cos, sin, seqlen, ropeQ, ropeK as the messages call them. */
static rope_status atb_table(const char *where, const char *const names[7], int backward, rope_context *ctx,
                             const rope_atb_param *param, const rope_tensor *q, const rope_tensor *k,
                             const rope_tensor *cos, const rope_tensor *sin, const rope_tensor *seqlen,
                             const rope_tensor *rq, const rope_tensor *rk) {
    rope_atb_plan p;
    ROPE_TRY(rope_atb_check_descriptors(where, names, param, q, k, cos, sin, seqlen, rq, rk, &p));
    ROPE_TRY(rope_atb_check_data(where, &p, q, k, cos, sin, seqlen, rq, rk, &p));
    return rope_atb_run(ctx, &p, q, k, cos, sin, seqlen, rq, rk, where, backward);
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
