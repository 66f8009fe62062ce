/* SPDX-License-Identifier: MIT */
/* rope_atb_rope_fly (and its backward): query, key, seqlen and outputs checked as the forward checks
 * them (with D = the frequencies' rotary_dim), then the positions and frequencies, then the
 * forward's job with rows computed per chunk of tokens (cossin/fly.h). */
#include "../core/check.h"
#include "../core/check_positions.h"
#include "../core/try.h"
#include "../engine/engine.h"
#include "atb_rope.h"

static rope_status atb_fly(const char *where, int backward, rope_context *ctx, const rope_atb_param *param,
                           const rope_tensor *q, const rope_tensor *k, const rope_fly *fly, const rope_tensor *seqlen,
                           const rope_tensor *rq, const rope_tensor *rk) {
    ROPE_TRY(rope_atb_fly_args(where, &param, q, k, fly, seqlen, rq, rk));
    if (!fly->freq) return rope_fail(ROPE_ERROR_NULL_ARGUMENT, where, "fly->freq is NULL");
    rope_freq_plan fp;
    ROPE_TRY(rope_freq_plan_make(where, fly->freq, &fp));
    rope_atb_plan p;
    ROPE_TRY(rope_atb_plan_fly(where, param, q, k, seqlen, fp.dim, "fly->freq->rotary_dim", &p));
    rope_dtype cs_dtype;
    ROPE_TRY(rope_atb_fly_cs_dtype(where, q, fly->cs_dtype, &cs_dtype));
    int per_token = fly->kind == ROPE_POSITIONS_PER_TOKEN;
    const int64_t dims[1] = {per_token ? p.ntokens : seqlen->dims[0]};
    static const char *const token_why[1] = {"ntokens of query"}, *const seq_why[1] = {"batch: seqlen's length"};
    ROPE_TRY(rope_fly_check_positions(where, fly, 1, dims, per_token ? token_why : seq_why));
    p.cos_format = per_token ? 0 : 1; /* the seqlen values are read (and checked) only per sequence */
    ROPE_TRY(rope_atb_check_data(where, &p, q, k, NULL, NULL, seqlen, rq, rk, &p));
    ROPE_TRY(rope_atb_fly_disjoint(where, &p, rq, rk, &fly->positions, 1));
    int64_t max_pos;
    ROPE_TRY(rope_fly_max_position(where, fly, 0, per_token ? NULL : seqlen, &max_pos));
    rope_context *c = rope_context_resolve(ctx);

    rope_job job;
    if (rope_atb_plan_empty(&p)) return rope_engine_run_fly(where, c, &fp, max_pos, NULL, backward);
    rope_atb_job(&p, q, k, NULL, NULL, seqlen, rq, rk, &job);
    job.shape.cs_dtype = cs_dtype;
    const int64_t *v = (const int64_t *)fly->positions.data;
    /* per token, or the job's packed sequences (cos_format 1) each from its start */
    if (per_token) job.cossin.positions.kind = ROPE_POS_LIST_I64, job.cossin.positions.values = v;
    else job.cossin.positions.starts = v;
    return rope_engine_run_fly(where, c, &fp, max_pos, &job, backward);
}

rope_status rope_atb_rope_fly(rope_context *ctx, const rope_atb_param *param, const rope_tensor *query,
                              const rope_tensor *key, const rope_fly *fly, const rope_tensor *seqlen,
                              const rope_tensor *rope_q, const rope_tensor *rope_k) {
    return atb_fly("rope_atb_rope_fly", 0, ctx, param, query, key, fly, seqlen, rope_q, rope_k);
}

rope_status rope_atb_rope_fly_backward(rope_context *ctx, const rope_atb_param *param, const rope_tensor *grad_q,
                                       const rope_tensor *grad_k, const rope_fly *fly, const rope_tensor *seqlen,
                                       const rope_tensor *dq, const rope_tensor *dk) {
    return atb_fly("rope_atb_rope_fly_backward", 1, ctx, param, grad_q, grad_k, fly, seqlen, dq, dk);
}
