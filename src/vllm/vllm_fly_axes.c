/* SPDX-License-Identifier: MIT */
/* rope_vllm_rotary_embedding_fly_axes (and its backward): attributes, query, key and outputs checked
 * as the cached call checks them (rot = the axes' width, the token dims those of the coordinates
 * [T, A] / [B, S, A]), then rope_fly_axes (cache/axes.h), then the cached call's job with each
 * token's row computed from its coordinates (cossin/fly_axes.c): bitwise the result on the
 * cos_sin_cache rope_cache_fill_axes fills with ROPE_CACHE_VLLM, at positions 0 .. T-1. */
#include "../cache/axes.h"
#include "../core/check.h"
#include "../core/try.h"
#include "../engine/context.h"
#include "vllm_rope.h"

static rope_status vllm_fly_axes(const char *where, int backward, rope_context *ctx, const rope_vllm_attrs *attrs,
                                 const rope_tensor *q, const rope_tensor *k, const rope_fly_axes *fly,
                                 const rope_tensor *qo, const rope_tensor *ko) {
    rope_vllm_attrs loaded;
    ROPE_TRY(rope_vllm_fly_args(where, attrs, &loaded, q, fly, qo));
    attrs = &loaded;
    if (attrs->n_mrope_section != 0)
        return rope_fail(ROPE_ERROR_ATTRIBUTE, where,
                         "n_mrope_section: expected 0 with multi-axis positions (fly->axes places the pairs), found %d",
                         (int)attrs->n_mrope_section);
    rope_fly_axes_plan fp;
    ROPE_TRY(rope_fly_axes_load(where, fly, &fp));
    /* The coordinates' own token dims ([T] or [B, S]); the query must agree with them (plan_shapes). */
    const rope_tensor *pos = &fp.fly.positions;
    ROPE_TRY(rope_check_tensor(where, "fly->positions", pos));
    ROPE_TRY(rope_check_rank(where, "fly->positions", pos, 2, 3, "[T, n_axes] or [B, S, n_axes]"));
    static const char *const whys[2] = {"T or B: the tokens", "S: the tokens of a batch row"};
    ROPE_TRY(rope_fly_axes_check_positions(where, &fp, pos->rank - 1, pos->dims, whys));
    rope_tensor tokens = {NULL, ROPE_I64, pos->rank - 1, {pos->dims[0], pos->rank == 3 ? pos->dims[1] : 0}, 0};
    rope_vllm_plan p;
    ROPE_TRY(rope_vllm_plan_shapes(where, attrs, &tokens, q, k, NULL, fp.rot, "fly->axes->axes_dims' sum", &p));
    rope_dtype cs;
    ROPE_TRY(rope_vllm_fly_cs_dtype(where, q, fp.fly.cs_dtype, &cs));
    ROPE_TRY(rope_vllm_check_data(where, &p, NULL, q, k, NULL, qo, ko, &p));
    const int64_t A = fp.axes.n_axes;
    rope_region rp = rope_region_of(pos, A, A);
    rope_region r_qo = rope_region_of(qo, p.hq * p.head_size, p.qo_stride);
    ROPE_TRY(rope_check_disjoint(where, "query_out", &r_qo, "fly->positions", &rp));
    if (k) {
        rope_region r_ko = rope_region_of(ko, p.hk * p.head_size, p.ko_stride);
        ROPE_TRY(rope_check_disjoint(where, "key_out", &r_ko, "fly->positions", &rp));
    }
    rope_context *c = rope_context_resolve(ctx);

    if (rope_vllm_plan_empty(&p)) return rope_engine_run_fly_axes(where, c, &fp, NULL, backward);
    rope_job job;
    rope_vllm_job(&p, &tokens, q, k, NULL, qo, ko, &job);
    job.shape.cs_dtype = cs;
    job.cossin.positions.kind = ROPE_POS_TOKEN;  /* not read: the rows come from the coordinates */
    rope_vllm_job_direction(&p, &job, backward); /* inverse is the backward's row transform */
    return rope_engine_run_fly_axes(where, c, &fp, &job, job.cossin.backward);
}

rope_status rope_vllm_rotary_embedding_fly_axes(rope_context *ctx, const rope_vllm_attrs *attrs,
                                                const rope_tensor *query, const rope_tensor *key,
                                                const rope_fly_axes *fly, const rope_tensor *query_out,
                                                const rope_tensor *key_out) {
    return vllm_fly_axes("rope_vllm_rotary_embedding_fly_axes", 0, ctx, attrs, query, key, fly, query_out, key_out);
}

rope_status rope_vllm_rotary_embedding_fly_axes_backward(rope_context *ctx, const rope_vllm_attrs *attrs,
                                                         const rope_tensor *grad_query, const rope_tensor *grad_key,
                                                         const rope_fly_axes *fly, const rope_tensor *dquery,
                                                         const rope_tensor *dkey) {
    return vllm_fly_axes("rope_vllm_rotary_embedding_fly_axes_backward", 1, ctx, attrs, grad_query, grad_key, fly,
                         dquery, dkey);
}
