/* SPDX-License-Identifier: MIT */
/* rope_onnx_rotary_embedding_fly_axes (and its backward): X, Y and the attributes checked as the
 * forward checks them, then rope_fly_axes (cache/axes.h: the struct, its axes, the positions and
 * every coordinate), then the forward's job with rows computed from each token's coordinates
 * (cossin/fly_axes.c). */
#include "../cache/axes.h"
#include "../core/check.h"
#include "../core/try.h"
#include "../engine/engine.h"
#include "onnx_rotary.h"

/* The positions' token dims: [batch*seq], [batch, seq], or [seq] shared by every batch row. */
static rope_status check_positions(const char *where, const rope_onnx_plan *p, rope_fly_axes_plan *fp) {
    const rope_tensor *t = &fp->fly.positions;
    if (t->rank == 3) {
        const int64_t dims[2] = {p->batch, p->seq};
        static const char *const whys[2] = {"batch of X", "seq of X"};
        return rope_fly_axes_check_positions(where, fp, 2, dims, whys);
    }
    int shared = t->rank == 2 && p->batch > 1 && t->dims[0] == p->seq;
    const int64_t dims[1] = {shared ? p->seq : rope_dims_product(p->batch, p->seq)};
    static const char *const all[1] = {"batch*seq of X, or seq of X for coordinates every batch row shares"};
    return rope_fly_axes_check_positions(where, fp, 1, dims, all);
}

static rope_status onnx_fly_axes(const char *where, int backward, rope_context *ctx, const rope_onnx_attrs *attrs,
                                 const rope_tensor *x, const rope_fly_axes *fly, const rope_tensor *y) {
    ROPE_TRY(rope_onnx_fly_args(where, &attrs, x, fly, y));
    rope_fly_axes_plan fp;
    ROPE_TRY(rope_fly_axes_load(where, fly, &fp));
    rope_onnx_plan p;
    ROPE_TRY(rope_onnx_plan_fly(where, attrs, x, &p));
    if (fp.rot != p.rot)
        return rope_fail(ROPE_ERROR_ATTRIBUTE, where,
                         "fly->axes->axes_dims: expected widths summing to %lld (rotary_embedding_dim, or head_size "
                         "when it is 0), found a sum of %lld",
                         (long long)p.rot, (long long)fp.rot);
    rope_dtype cs_dtype;
    ROPE_TRY(rope_onnx_fly_cs_dtype(where, x, fp.fly.cs_dtype, &cs_dtype));
    ROPE_TRY(check_positions(where, &p, &fp));
    ROPE_TRY(rope_onnx_check_data(where, &p, x, NULL, NULL, NULL, y, &p));
    ROPE_TRY(rope_onnx_fly_disjoint(where, &p, y, &fp.fly.positions, fp.axes.n_axes));
    rope_context *c = rope_context_resolve(ctx);

    if (rope_onnx_plan_empty(&p)) return rope_engine_run_fly_axes(where, c, &fp, NULL, backward);
    rope_job job;
    rope_onnx_job(&p, x, NULL, NULL, NULL, y, &job);
    job.shape.cs_dtype = cs_dtype;
    rope_onnx_job_direction(&p, &job, backward);
    return rope_engine_run_fly_axes(where, c, &fp, &job, backward);
}

rope_status rope_onnx_rotary_embedding_fly_axes(rope_context *ctx, const rope_onnx_attrs *attrs, const rope_tensor *x,
                                                const rope_fly_axes *fly, const rope_tensor *y) {
    return onnx_fly_axes("rope_onnx_rotary_embedding_fly_axes", 0, ctx, attrs, x, fly, y);
}

rope_status rope_onnx_rotary_embedding_fly_axes_backward(rope_context *ctx, const rope_onnx_attrs *attrs,
                                                         const rope_tensor *dy, const rope_fly_axes *fly,
                                                         const rope_tensor *dx) {
    return onnx_fly_axes("rope_onnx_rotary_embedding_fly_axes_backward", 1, ctx, attrs, dy, fly, dx);
}
