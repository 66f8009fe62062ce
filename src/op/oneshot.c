/* The one-shot calls: each runs the operation lifecycle on an operation living on its stack. */
#include "../core/internal.h"
#include "../core/try.h"
#include "operation.h"

static rope_status run_pack(const char *where, rope_operation *op, rope_context *ctx, const rope_tensor *in,
                            size_t n_in, const rope_tensor *out, size_t n_out) {
    rope_variant_pack pack = {in, n_in, out, n_out};
    ROPE_TRY(rope_op_setup(where, op, &pack));
    return rope_op_execute(where, op, 0, ctx);
}

static rope_status need(const char *where, const char *name, const rope_tensor *t) {
    return t ? ROPE_OK : rope_fail(ROPE_ERROR_NULL_ARGUMENT, where, "%s is NULL", name);
}

rope_status rope_onnx_rotary_embedding(rope_context *ctx, const rope_onnx_attrs *attrs, const rope_tensor *x,
                                       const rope_tensor *cos, const rope_tensor *sin,
                                       const rope_tensor *position_ids, const rope_tensor *y) {
    static const char where[] = "rope_onnx_rotary_embedding";
    rope_operation op;
    ROPE_TRY(rope_op_init_onnx(where, &op, attrs));
    ROPE_TRY(need(where, "X", x));
    ROPE_TRY(need(where, "cos_cache", cos));
    ROPE_TRY(need(where, "sin_cache", sin));
    ROPE_TRY(need(where, "Y", y));
    /* The lifecycle reads a rank-0 4th input as "absent"; here absence is a NULL pointer. */
    if (position_ids && position_ids->rank == 0)
        return rope_fail(ROPE_ERROR_RANK, where, "position_ids rank: expected 2 ([batch, seq]), found 0");
    rope_tensor in[4] = {*x, *cos, *sin, {0}};
    if (position_ids) in[3] = *position_ids;
    return run_pack(where, &op, ctx, in, position_ids ? 4 : 3, y, 1);
}

rope_status rope_atb_rope(rope_context *ctx, const rope_atb_param *param, const rope_tensor *query,
                          const rope_tensor *key, const rope_tensor *cos, const rope_tensor *sin,
                          const rope_tensor *seqlen, const rope_tensor *rope_q, const rope_tensor *rope_k) {
    static const char where[] = "rope_atb_rope";
    rope_operation op;
    ROPE_TRY(rope_op_init_atb(where, &op, param));
    ROPE_TRY(need(where, "query", query));
    ROPE_TRY(need(where, "key", key));
    ROPE_TRY(need(where, "cos", cos));
    ROPE_TRY(need(where, "sin", sin));
    ROPE_TRY(need(where, "seqlen", seqlen));
    ROPE_TRY(need(where, "ropeQ", rope_q));
    ROPE_TRY(need(where, "ropeK", rope_k));
    rope_tensor in[5] = {*query, *key, *cos, *sin, *seqlen};
    rope_tensor out[2] = {*rope_q, *rope_k};
    return run_pack(where, &op, ctx, in, 5, out, 2);
}
