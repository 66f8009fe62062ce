/* SPDX-License-Identifier: MIT */
/* rope_atb_rope_fly_axes (and its backward): query, key, seqlen and outputs checked as the forward
 * checks them (D = the axes' rotated width), then rope_fly_axes (cache/axes.h), then the forward's
 * job with each token's row computed from its coordinates (cossin/fly_axes.c), placed full width as
 * rope_cache_fill_axes places a ROPE_CACHE_FULL row for the call's rotary_coeff. */
#include "../cache/axes.h"
#include "../core/check.h"
#include "../core/try.h"
#include "../engine/engine.h"
#include "atb_rope.h"

static rope_status atb_fly_axes(const char *where, int backward, rope_context *ctx, const rope_atb_param *param,
                                const rope_tensor *q, const rope_tensor *k, const rope_fly_axes *fly,
                                const rope_tensor *seqlen, const rope_tensor *rq, const rope_tensor *rk) {
    ROPE_TRY(rope_atb_fly_args(where, &param, q, k, fly, seqlen, rq, rk));
    rope_fly_axes_plan fp;
    ROPE_TRY(rope_fly_axes_load(where, fly, &fp));
    rope_atb_plan p;
    ROPE_TRY(rope_atb_plan_fly(where, param, q, k, seqlen, fp.rot, "fly->axes->axes_dims' sum", &p));
    rope_dtype cs_dtype;
    ROPE_TRY(rope_atb_fly_cs_dtype(where, q, fp.fly.cs_dtype, &cs_dtype));
    const int64_t dims[1] = {p.ntokens};
    static const char *const whys[1] = {"ntokens of query"};
    ROPE_TRY(rope_fly_axes_check_positions(where, &fp, 1, dims, whys));
    p.cos_format = 0; /* one row per token: the seqlen values are not read */
    ROPE_TRY(rope_atb_check_data(where, &p, q, k, NULL, NULL, seqlen, rq, rk, &p));
    ROPE_TRY(rope_atb_fly_disjoint(where, &p, rq, rk, &fp.fly.positions, fp.axes.n_axes));
    rope_context *c = rope_context_resolve(ctx);

    if (rope_atb_plan_empty(&p)) return rope_engine_run_fly_axes(where, c, &fp, NULL, backward);
    rope_job job;
    rope_atb_job(&p, q, k, NULL, NULL, seqlen, rq, rk, &job);
    job.shape.cs_dtype = cs_dtype;
    return rope_engine_run_fly_axes(where, c, &fp, &job, backward);
}

rope_status rope_atb_rope_fly_axes(rope_context *ctx, const rope_atb_param *param, const rope_tensor *query,
                                   const rope_tensor *key, const rope_fly_axes *fly, const rope_tensor *seqlen,
                                   const rope_tensor *rope_q, const rope_tensor *rope_k) {
    return atb_fly_axes("rope_atb_rope_fly_axes", 0, ctx, param, query, key, fly, seqlen, rope_q, rope_k);
}

rope_status rope_atb_rope_fly_axes_backward(rope_context *ctx, const rope_atb_param *param, const rope_tensor *grad_q,
                                            const rope_tensor *grad_k, const rope_fly_axes *fly,
                                            const rope_tensor *seqlen, const rope_tensor *dq, const rope_tensor *dk) {
    return atb_fly_axes("rope_atb_rope_fly_axes_backward", 1, ctx, param, grad_q, grad_k, fly, seqlen, dq, dk);
}
