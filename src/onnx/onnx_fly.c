/* SPDX-License-Identifier: MIT */
/* rope_onnx_rotary_embedding_fly (and its backward): X, Y and the attributes checked as the forward
 * checks them, then the positions and frequencies, then the forward's job with rows computed per
 * chunk of tokens (cossin/fly.h). */
#include "../core/check.h"
#include "../core/check_positions.h"
#include "../core/try.h"
#include "../engine/engine.h"
#include "onnx_rotary.h"

static rope_status onnx_fly(const char *where, int backward, rope_context *ctx, const rope_onnx_attrs *attrs,
                            const rope_tensor *x, const rope_fly *fly, const rope_tensor *y) {
    ROPE_TRY(rope_onnx_fly_args(where, &attrs, x, fly, y));
    if (!fly->freq) return rope_fail(ROPE_ERROR_NULL_ARGUMENT, where, "fly->freq is NULL");
    rope_onnx_plan p;
    ROPE_TRY(rope_onnx_plan_fly(where, attrs, x, &p));
    rope_freq_plan fp;
    ROPE_TRY(rope_freq_plan_make(where, fly->freq, &fp));
    if (fp.dim != p.rot)
        return rope_fail(ROPE_ERROR_ATTRIBUTE, where,
                         "fly->freq->rotary_dim: expected %lld (rotary_embedding_dim, or head_size when it is 0), "
                         "found %lld",
                         (long long)p.rot, (long long)fp.dim);
    rope_dtype cs_dtype;
    ROPE_TRY(rope_onnx_fly_cs_dtype(where, x, fly->cs_dtype, &cs_dtype));
    int per_token = fly->kind == ROPE_POSITIONS_PER_TOKEN;
    const int64_t dims[2] = {p.batch, p.seq};
    static const char *const whys[2] = {"batch of X", "seq of X"};
    ROPE_TRY(rope_fly_check_positions(where, fly, per_token ? 2 : 1, dims, whys));
    ROPE_TRY(rope_onnx_check_data(where, &p, x, NULL, NULL, NULL, y, &p));
    ROPE_TRY(rope_onnx_fly_disjoint(where, &p, y, &fly->positions, 1));
    int64_t max_pos;
    ROPE_TRY(rope_fly_max_position(where, fly, p.seq, NULL, &max_pos));
    rope_context *c = rope_context_resolve(ctx);

    rope_job job;
    if (rope_onnx_plan_empty(&p)) return rope_engine_run_fly(where, c, &fp, max_pos, NULL, backward);
    rope_onnx_job(&p, x, NULL, NULL, NULL, y, &job);
    job.shape.cs_dtype = cs_dtype;
    const int64_t *v = (const int64_t *)fly->positions.data;
    if (per_token) job.cossin.positions.kind = ROPE_POS_LIST_I64, job.cossin.positions.values = v;
    else job.cossin.positions.kind = ROPE_POS_BATCH_START, job.cossin.positions.starts = v;
    rope_onnx_job_direction(&p, &job, backward);
    return rope_engine_run_fly(where, c, &fp, max_pos, &job, backward);
}

rope_status rope_onnx_rotary_embedding_fly(rope_context *ctx, const rope_onnx_attrs *attrs, const rope_tensor *x,
                                           const rope_fly *fly, const rope_tensor *y) {
    return onnx_fly("rope_onnx_rotary_embedding_fly", 0, ctx, attrs, x, fly, y);
}

rope_status rope_onnx_rotary_embedding_fly_backward(rope_context *ctx, const rope_onnx_attrs *attrs,
                                                    const rope_tensor *dy, const rope_fly *fly,
                                                    const rope_tensor *dx) {
    return onnx_fly("rope_onnx_rotary_embedding_fly_backward", 1, ctx, attrs, dy, fly, dx);
}
