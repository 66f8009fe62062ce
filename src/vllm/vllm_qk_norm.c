/* SPDX-License-Identifier: MIT */
/* rope_vllm_fused_qk_norm_rope: vLLM's fused_qk_norm_rope on a packed qkv. q and k are two column
 * ranges of qkv's rows, so the call is the rotary_embedding job on those two views (in place) with
 * a norm weight on each stream; v is never read or written. */
#include <float.h>
#include <string.h>

#include "../core/check.h"
#include "../core/try.h"
#include "vllm_prologue.h"

rope_status rope_vllm_check_eps(const char *where, const char *name, double eps) {
    if (!(eps >= 0.0) || !(eps <= FLT_MAX)) /* used as float32: finite there too */
        return rope_fail(ROPE_ERROR_ATTRIBUTE, where, "%s: expected a value in [0, FLT_MAX] (finite in float32), found %g",
                         name, eps);
    return ROPE_OK;
}

rope_status rope_vllm_check_weight(const char *where, const char *name, const rope_tensor *w, int64_t head_size,
                                   rope_dtype x_dtype) {
    ROPE_TRY(rope_check_tensor(where, name, w));
    if (w->dtype != x_dtype && w->dtype != ROPE_F32)
        return rope_fail(ROPE_ERROR_DTYPE, where, "%s: expected %s or f32 (the data's dtype or f32), found %s", name,
                         rope_dtype_name(x_dtype), rope_dtype_name(w->dtype));
    ROPE_TRY(rope_check_rank(where, name, w, 1, 0, "[head_size]"));
    ROPE_TRY(rope_check_dim(where, name, w, 0, head_size, "head_size"));
    return rope_check_dense(where, name, w);
}

rope_status rope_vllm_qk_norm_check_attrs(const char *where, const rope_qk_norm_attrs *a) {
    if (!a) return rope_fail(ROPE_ERROR_NULL_ARGUMENT, where, "attrs is NULL");
    ROPE_TRY(rope_vllm_check_attrs(where, &a->rope, ROPE_VLLM_FUSED_QK_NORM));
    const int64_t heads[3] = {a->num_heads_q, a->num_heads_k, a->num_heads_v};
    static const char *const names[3] = {"num_heads_q", "num_heads_k", "num_heads_v"};
    for (int i = 0; i < 3; i++)
        if (heads[i] < 0 || heads[i] > ((int64_t)1 << 31))
            return rope_fail(ROPE_ERROR_ATTRIBUTE, where, "%s: expected in [0, 2^31], found %lld", names[i],
                             (long long)heads[i]);
    return rope_vllm_check_eps(where, "eps", a->eps);
}

/* The view of qkv's columns [first * hd, (first + heads) * hd): rank 2, qkv's row stride. */
static rope_tensor column_view(const rope_tensor *qkv, int64_t stride, int64_t first, int64_t heads, int64_t hd) {
    rope_tensor v = *qkv;
    v.dims[1] = heads * hd;
    v.row_stride = stride;
    if (qkv->data) v.data = (char *)qkv->data + (size_t)(first * hd) * rope_dtype_bytes(qkv->dtype);
    return v;
}

rope_status rope_vllm_qk_norm_plan_shapes(const char *where, const rope_qk_norm_attrs *a, const rope_tensor *pos,
                                          const rope_tensor *qkv, const rope_tensor *qw, const rope_tensor *kw,
                                          const rope_tensor *cache, rope_qk_norm_plan *p) {
    static const rope_dtype x_types[] = {ROPE_F32, ROPE_F16, ROPE_BF16};
    static const char *const names[5] = {"positions", "qkv", "q_weight", "k_weight", "cos_sin_cache"};
    const void *const args[5] = {pos, qkv, qw, kw, cache};
    ROPE_TRY(rope_check_args(where, 5, names, args));
    int64_t hd = a->rope.head_size, heads = a->num_heads_q + a->num_heads_k + a->num_heads_v;
    ROPE_TRY(rope_check_tensor(where, "qkv", qkv));
    ROPE_TRY(rope_check_dtype(where, "qkv", qkv, x_types, 3));
    ROPE_TRY(rope_check_rank(where, "qkv", qkv, 2, 0, "[T, (num_heads_q + num_heads_k + num_heads_v) * head_dim]"));
    if (heads > INT64_MAX / hd || qkv->dims[1] != heads * hd)
        return rope_fail(ROPE_ERROR_SHAPE, where,
                         "qkv dim 1: expected %lld ((num_heads_q %lld + num_heads_k %lld + num_heads_v %lld) * "
                         "head_dim %lld), found %lld",
                         heads > INT64_MAX / hd ? -1LL : (long long)(heads * hd), (long long)a->num_heads_q,
                         (long long)a->num_heads_k, (long long)a->num_heads_v, (long long)hd,
                         (long long)qkv->dims[1]);
    int64_t stride;
    ROPE_TRY(rope_check_row_stride(where, "qkv", qkv, qkv->dims[1], &stride));
    ROPE_TRY(rope_vllm_check_weight(where, "q_weight", qw, hd, qkv->dtype));
    ROPE_TRY(rope_vllm_check_weight(where, "k_weight", kw, hd, qkv->dtype));
    ROPE_TRY(rope_check_tensor(where, "positions", pos));
    if (pos->rank != 1 + (a->rope.n_mrope_section ? 1 : 0))
        return rope_fail(ROPE_ERROR_RANK, where, "positions: expected rank %d ([T]%s, with qkv [T, hidden]), found %d",
                         a->rope.n_mrope_section ? 2 : 1, a->rope.n_mrope_section ? " per MRoPE axis: [m, T]" : "",
                         pos->rank);
    ROPE_TRY(rope_check_dim(where, "qkv", qkv, 0, pos->dims[pos->rank - 1], "T, the tokens of positions"));
    p->q_view = column_view(qkv, stride, 0, a->num_heads_q, hd);
    p->k_view = column_view(qkv, stride, a->num_heads_q, a->num_heads_k, hd);
    return rope_vllm_plan_shapes(where, &a->rope, pos, &p->q_view, &p->k_view, cache, 0, NULL, &p->rope);
}

rope_status rope_vllm_qk_norm_check_data(const char *where, rope_qk_norm_plan *p, const rope_tensor *pos,
                                         const rope_tensor *qkv, const rope_tensor *qw, const rope_tensor *kw,
                                         const rope_tensor *cache) {
    ROPE_TRY(rope_check_data(where, "positions", pos));
    ROPE_TRY(rope_check_data(where, "qkv", qkv));
    ROPE_TRY(rope_check_data(where, "q_weight", qw));
    ROPE_TRY(rope_check_data(where, "k_weight", kw));
    ROPE_TRY(rope_check_data(where, "cos_sin_cache", cache));
    int64_t stride = p->rope.q_stride;
    rope_region r_x = rope_region_of(qkv, qkv->dims[1], stride);
    int64_t np = rope_numel_checked(pos);
    rope_region r_p = rope_region_of(pos, np, np), r_c = rope_region_of(cache, p->rope.rot, p->rope.rot);
    rope_region r_qw = rope_region_of(qw, p->rope.head_size, p->rope.head_size);
    rope_region r_kw = rope_region_of(kw, p->rope.head_size, p->rope.head_size);
    ROPE_TRY(rope_check_disjoint(where, "qkv", &r_x, "positions", &r_p));
    ROPE_TRY(rope_check_disjoint(where, "qkv", &r_x, "q_weight", &r_qw));
    ROPE_TRY(rope_check_disjoint(where, "qkv", &r_x, "k_weight", &r_kw));
    ROPE_TRY(rope_check_disjoint(where, "qkv", &r_x, "cos_sin_cache", &r_c));
    /* the rotation's own checks (q and k in place, disjoint), then every position against P */
    return rope_vllm_check_data(where, &p->rope, pos, &p->q_view, &p->k_view, cache, &p->q_view, &p->k_view,
                                &p->rope);
}

rope_status rope_vllm_qk_norm_run(const char *where, rope_context *ctx, const rope_qk_norm_attrs *a,
                                  const rope_qk_norm_plan *p, const rope_tensor *pos, const rope_tensor *qw,
                                  const rope_tensor *kw, const rope_tensor *cache) {
    if (rope_vllm_plan_empty(&p->rope)) return ROPE_OK;
    rope_vllm_prologue_call call;
    ROPE_TRY(rope_vllm_prologue_begin(where, &p->rope, pos, &p->q_view, &p->k_view, cache, qw, kw, a->eps, &call));
    return rope_vllm_prologue_run(ctx, &call);
}

rope_status rope_vllm_fused_qk_norm_rope_check(const rope_qk_norm_attrs *attrs, const rope_tensor *positions,
                                               const rope_tensor *qkv, const rope_tensor *q_weight,
                                               const rope_tensor *k_weight, const rope_tensor *cos_sin_cache) {
    static const char where[] = "rope_vllm_fused_qk_norm_rope_check";
    ROPE_TRY(rope_vllm_qk_norm_check_attrs(where, attrs));
    rope_qk_norm_plan p;
    return rope_vllm_qk_norm_plan_shapes(where, attrs, positions, qkv, q_weight, k_weight, cos_sin_cache, &p);
}

rope_status rope_vllm_fused_qk_norm_rope(rope_context *ctx, const rope_qk_norm_attrs *attrs,
                                         const rope_tensor *positions, const rope_tensor *qkv,
                                         const rope_tensor *q_weight, const rope_tensor *k_weight,
                                         const rope_tensor *cos_sin_cache) {
    static const char where[] = "rope_vllm_fused_qk_norm_rope";
    ROPE_TRY(rope_vllm_qk_norm_check_attrs(where, attrs));
    rope_qk_norm_plan p;
    ROPE_TRY(rope_vllm_qk_norm_plan_shapes(where, attrs, positions, qkv, q_weight, k_weight, cos_sin_cache, &p));
    ROPE_TRY(rope_vllm_qk_norm_check_data(where, &p, positions, qkv, q_weight, k_weight, cos_sin_cache));
    return rope_vllm_qk_norm_run(where, ctx, attrs, &p, positions, q_weight, k_weight, cos_sin_cache);
}
