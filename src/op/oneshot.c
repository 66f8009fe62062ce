/* SPDX-License-Identifier: MIT */
/* The one-shot calls, forward and backward: the lifecycle's steps (plan the shapes, check the data,
 * run) called directly, without an operation object: a decode step is a few microseconds of work or
 * less, and copying tensors into an operation and validating them twice is a visible part of it. The backward
 * forms are the forward with the table rows transformed per chunk (cossin/source.h). */
#include "../core/check.h"
#include "../core/internal.h"
#include "../core/memo.h"
#include "../core/try.h"
#include "../atb/atb_rope.h"
#include "../onnx/onnx_rotary.h"

/* The last table call of each operator on this thread whose descriptors passed (core/memo.h): a
 * call repeating its key checks only what reads data. */
static _Thread_local struct {
    rope_memo_key key;
    rope_onnx_plan plan;
} last_onnx;

static _Thread_local struct {
    rope_memo_key key;
    rope_atb_plan plan;
} last_atb;

/* An attribute struct's bytes, or a marker for NULL (the defaults). */
static void key_attrs(rope_memo_key *key, const void *attrs, size_t bytes) {
    unsigned char given = attrs != NULL;
    rope_memo_add(key, &given, 1);
    if (attrs) rope_memo_add(key, attrs, bytes);
}

/* ONNX with tables; names[]: X, cos_cache, sin_cache, Y as the messages call them. */
static rope_status onnx_table(const char *where, const char *const names[4], int backward, rope_context *ctx,
                              const rope_onnx_attrs *attrs, const rope_tensor *x, const rope_tensor *cos,
                              const rope_tensor *sin, const rope_tensor *position_ids, const rope_tensor *y) {
    rope_memo_key key;
    rope_memo_start(&key, where);
    key_attrs(&key, attrs, sizeof *attrs);
    const rope_tensor *args[5] = {x, cos, sin, position_ids, y};
    for (int i = 0; i < 5; i++) rope_memo_add_tensor(&key, args[i]);
    if (rope_memo_same(&key, &last_onnx.key)) { /* the descriptors of the last call: only data is new */
        ROPE_TRY(rope_onnx_check_values(where, &last_onnx.plan, x, cos, sin, position_ids, y));
        return rope_onnx_run(ctx, &last_onnx.plan, x, cos, sin, position_ids, y, where, backward);
    }
    rope_onnx_plan p;
    ROPE_TRY(rope_onnx_check_descriptors(where, names, attrs, x, cos, sin, position_ids, y, &p));
    rope_onnx_plan checked;
    ROPE_TRY(rope_onnx_check_data(where, &p, x, cos, sin, position_ids, y, &checked));
    last_onnx.key = key; /* a key that is `full` never matches */
    last_onnx.plan = checked;
    return rope_onnx_run(ctx, &checked, x, cos, sin, position_ids, y, where, backward);
}

/* ATB with tables; names[]: query, key, cos, sin, seqlen, ropeQ, ropeK as the messages call them. */
static rope_status atb_table(const char *where, const char *const names[7], int backward, rope_context *ctx,
                             const rope_atb_param *param, const rope_tensor *q, const rope_tensor *k,
                             const rope_tensor *cos, const rope_tensor *sin, const rope_tensor *seqlen,
                             const rope_tensor *rq, const rope_tensor *rk) {
    rope_memo_key key;
    rope_memo_start(&key, where);
    key_attrs(&key, param, sizeof *param);
    const rope_tensor *args[7] = {q, k, cos, sin, seqlen, rq, rk};
    for (int i = 0; i < 7; i++) rope_memo_add_tensor(&key, args[i]);
    if (rope_memo_same(&key, &last_atb.key)) { /* the descriptors of the last call: only data is new */
        ROPE_TRY(rope_atb_check_values(where, &last_atb.plan, q, k, cos, sin, seqlen, rq, rk));
        return rope_atb_run(ctx, &last_atb.plan, q, k, cos, sin, seqlen, rq, rk, where, backward);
    }
    rope_atb_plan p;
    ROPE_TRY(rope_atb_check_descriptors(where, names, param, q, k, cos, sin, seqlen, rq, rk, &p));
    rope_atb_plan checked;
    ROPE_TRY(rope_atb_check_data(where, &p, q, k, cos, sin, seqlen, rq, rk, &checked));
    last_atb.key = key; /* a key that is `full` never matches */
    last_atb.plan = checked;
    return rope_atb_run(ctx, &checked, q, k, cos, sin, seqlen, rq, rk, where, backward);
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
