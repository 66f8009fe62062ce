/* rope_onnx_rotary_embedding_backward: the forward's validation and job, with the cos/sin rows
 * transformed per chunk (engine/rows.h: sin negated, the rotation by -angle). */
#include "../core/context.h"
#include "../core/try.h"
#include "../engine/rows.h"
#include "../op/operation.h"
#include "onnx_rotary.h"

static rope_status need(const char *where, const char *name, const void *t) {
    return t ? ROPE_OK : rope_fail(ROPE_ERROR_NULL_ARGUMENT, where, "%s is NULL", name);
}

rope_status rope_onnx_rotary_embedding_backward(rope_context *ctx, const rope_onnx_attrs *attrs,
                                                const rope_tensor *dy, const rope_tensor *cos,
                                                const rope_tensor *sin, const rope_tensor *position_ids,
                                                const rope_tensor *dx) {
    static const char where[] = "rope_onnx_rotary_embedding_backward";
    static const rope_onnx_attrs defaults = {0, 0, 0};
    if (!attrs) attrs = &defaults;
    ROPE_TRY(rope_op_check_onnx_attrs(where, attrs));
    ROPE_TRY(need(where, "X (dY)", dy));
    ROPE_TRY(need(where, "cos_cache", cos));
    ROPE_TRY(need(where, "sin_cache", sin));
    ROPE_TRY(need(where, "Y (dX)", dx));
    if (position_ids && position_ids->rank == 0)
        return rope_fail(ROPE_ERROR_RANK, where, "position_ids rank: expected 2 ([batch, seq]), found 0");
    rope_onnx_plan p;
    rope_context *c;
    ROPE_TRY(rope_onnx_plan_shapes(where, attrs, dy, cos, sin, position_ids, &p));
    ROPE_TRY(rope_onnx_check_data(where, &p, dy, cos, sin, position_ids, dx, &p));
    ROPE_TRY(rope_context_resolve(ctx, where, &c));
    if (p.batch == 0 || p.seq == 0 || p.heads == 0 || p.head_size == 0) return ROPE_OK;
    rope_job job;
    rope_onnx_job(&p, dy, cos, sin, position_ids, dx, &job);
    rope_cs_rows rows = {where, 1, NULL, ROPE_POS_TOKEN, NULL, NULL, NULL, ROPE_DTYPE_INVALID};
    job.provider = &rows;
    return rope_engine_run(c, &job);
}
