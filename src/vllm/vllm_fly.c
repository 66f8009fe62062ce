/* SPDX-License-Identifier: MIT */
/* rope_vllm_rotary_embedding_fly (and its backward): attributes, query, key and outputs checked as
 * the cached call checks them (rot = the frequencies' rotary_dim), positions by the same rules with
 * no cache bound, then the cached call's job with rows computed per chunk of tokens (cossin/source.h):
 * bitwise the result on a cache rope_cache_fill builds with ROPE_CACHE_VLLM. */
#include "../core/check.h"
#include "../core/try.h"
#include "../engine/context.h"
#include "vllm_rope.h"

static rope_status vllm_fly(const char *where, int backward, rope_context *ctx, const rope_vllm_attrs *attrs,
                            const rope_tensor *q, const rope_tensor *k, const rope_fly *fly, const rope_tensor *qo,
                            const rope_tensor *ko) {
    rope_vllm_attrs loaded;
    ROPE_TRY(rope_vllm_fly_args(where, attrs, &loaded, q, fly, qo));
    attrs = &loaded;
    if (!fly->freq) return rope_fail(ROPE_ERROR_NULL_ARGUMENT, where, "fly->freq is NULL");
    if (fly->kind != ROPE_POSITIONS_PER_TOKEN)
        return rope_fail(ROPE_ERROR_ATTRIBUTE, where,
                         "fly->kind: expected ROPE_POSITIONS_PER_TOKEN (0, the operator's positions), found %d",
                         (int)fly->kind);
    rope_freq_plan fp;
    ROPE_TRY(rope_freq_plan_make(where, fly->freq, &fp));
    rope_vllm_plan p;
    ROPE_TRY(rope_vllm_plan_shapes(where, attrs, &fly->positions, q, k, NULL, fp.dim, NULL, &p));
    rope_dtype cs;
    ROPE_TRY(rope_vllm_fly_cs_dtype(where, q, fly->cs_dtype, &cs));
    ROPE_TRY(rope_vllm_check_data(where, &p, &fly->positions, q, k, NULL, qo, ko, &p));
    rope_context *c = rope_context_resolve(ctx);
    if (rope_vllm_plan_empty(&p)) return rope_engine_run_fly(where, c, &fp, p.max_pos, NULL, backward);
    rope_job job;
    rope_vllm_job(&p, &fly->positions, q, k, NULL, qo, ko, &job);
    rope_mrope mrope; /* one position per axis per token */
    if (p.axes) rope_vllm_mrope(&p, &fly->positions, &mrope), job.cossin.mrope = &mrope;
    job.shape.cs_dtype = cs;
    rope_vllm_job_direction(&p, &job, backward); /* the source's backward flag: set again by run_fly below */
    return rope_engine_run_fly(where, c, &fp, p.max_pos, &job, job.cossin.backward);
}

rope_status rope_vllm_rotary_embedding_fly(rope_context *ctx, const rope_vllm_attrs *attrs, const rope_tensor *query,
                                           const rope_tensor *key, const rope_fly *fly, const rope_tensor *query_out,
                                           const rope_tensor *key_out) {
    return vllm_fly("rope_vllm_rotary_embedding_fly", 0, ctx, attrs, query, key, fly, query_out, key_out);
}

rope_status rope_vllm_rotary_embedding_fly_backward(rope_context *ctx, const rope_vllm_attrs *attrs,
                                                    const rope_tensor *grad_query, const rope_tensor *grad_key,
                                                    const rope_fly *fly, const rope_tensor *dquery,
                                                    const rope_tensor *dkey) {
    return vllm_fly("rope_vllm_rotary_embedding_fly_backward", 1, ctx, attrs, grad_query, grad_key, fly, dquery, dkey);
}
