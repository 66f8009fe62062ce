/* The one-shot calls: the lifecycle's steps (plan the shapes, check the data, run) called directly,
 * without an operation object: a decode step is a few microseconds of work or less, and copying
 * tensors into an operation and validating them twice cost it 15%. */
#include "../core/context.h"
#include "../core/internal.h"
#include "../core/try.h"
#include "operation.h"

static rope_status need(const char *where, const char *name, const rope_tensor *t) {
    return t ? ROPE_OK : rope_fail(ROPE_ERROR_NULL_ARGUMENT, where, "%s is NULL", name);
}

rope_status rope_onnx_rotary_embedding(rope_context *ctx, const rope_onnx_attrs *attrs, const rope_tensor *x,
                                       const rope_tensor *cos, const rope_tensor *sin,
                                       const rope_tensor *position_ids, const rope_tensor *y) {
    static const char where[] = "rope_onnx_rotary_embedding";
    static const rope_onnx_attrs defaults = {0, 0, 0};
    if (!attrs) attrs = &defaults;
    ROPE_TRY(rope_op_check_onnx_attrs(where, attrs));
    ROPE_TRY(need(where, "X", x));
    ROPE_TRY(need(where, "cos_cache", cos));
    ROPE_TRY(need(where, "sin_cache", sin));
    ROPE_TRY(need(where, "Y", y));
    /* The lifecycle reads a rank-0 4th input as "absent"; here absence is a NULL pointer. */
    if (position_ids && position_ids->rank == 0)
        return rope_fail(ROPE_ERROR_RANK, where, "position_ids rank: expected 2 ([batch, seq]), found 0");
    rope_onnx_plan p;
    rope_context *c;
    ROPE_TRY(rope_onnx_plan_shapes(where, attrs, x, cos, sin, position_ids, &p));
    ROPE_TRY(rope_onnx_check_data(where, &p, x, cos, sin, position_ids, y, &p));
    ROPE_TRY(rope_context_resolve(ctx, where, &c));
    return rope_onnx_run(c, &p, x, cos, sin, position_ids, y);
}

rope_status rope_atb_rope(rope_context *ctx, const rope_atb_param *param, const rope_tensor *query,
                          const rope_tensor *key, const rope_tensor *cos, const rope_tensor *sin,
                          const rope_tensor *seqlen, const rope_tensor *rope_q, const rope_tensor *rope_k) {
    static const char where[] = "rope_atb_rope";
    static const rope_atb_param defaults = ROPE_ATB_PARAM_INIT;
    if (!param) param = &defaults;
    ROPE_TRY(rope_atb_check_param(where, param));
    ROPE_TRY(need(where, "query", query));
    ROPE_TRY(need(where, "key", key));
    ROPE_TRY(need(where, "cos", cos));
    ROPE_TRY(need(where, "sin", sin));
    ROPE_TRY(need(where, "seqlen", seqlen));
    ROPE_TRY(need(where, "ropeQ", rope_q));
    ROPE_TRY(need(where, "ropeK", rope_k));
    rope_atb_plan p;
    rope_context *c;
    ROPE_TRY(rope_atb_plan_shapes(where, param, query, key, cos, sin, seqlen, &p));
    ROPE_TRY(rope_atb_check_data(where, &p, query, key, cos, sin, seqlen, rope_q, rope_k, &p));
    ROPE_TRY(rope_context_resolve(ctx, where, &c));
    return rope_atb_run(c, &p, query, key, cos, sin, seqlen, rope_q, rope_k);
}
