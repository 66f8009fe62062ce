/* SPDX-License-Identifier: MIT */
/* rope_vllm_rotary_embedding_and_cache: vLLM's rotary_embedding then reshape_and_cache_flash in one
 * pass. The rotation is the rotary_embedding job (q and k in place; with weights, normalised first);
 * the cache write adds parts to it: a slot store on the key stream (the rotated key as stored) and a
 * third, store-only stream for the value. Every slot is checked (range, no slot twice) before
 * anything is written. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../core/alloc.h"
#include "../core/check.h"
#include "../core/try.h"
#include "vllm_prologue.h"

rope_status rope_vllm_kv_check_attrs(const char *where, const rope_kv_cache_attrs *a) {
    if (!a) return rope_fail(ROPE_ERROR_NULL_ARGUMENT, where, "attrs is NULL (head_size is required)");
    ROPE_TRY(rope_vllm_check_attrs(where, &a->rope, ROPE_VLLM_FUSED_CACHE));
    if (a->kv_layout != ROPE_KV_NHD && a->kv_layout != ROPE_KV_HND)
        return rope_fail(ROPE_ERROR_ATTRIBUTE, where, "kv_layout: expected ROPE_KV_NHD (0) or ROPE_KV_HND (1), found %d",
                         (int)a->kv_layout);
    return ROPE_OK;
}

/* key_cache / value_cache: 4-D in the layout, Hk and head_size of key, dense; dtype key's or fp8. */
static rope_status check_cache(const char *where, const char *name, const rope_tensor *c, const rope_kv_cache_attrs *a,
                               const rope_vllm_plan *p, rope_dtype key_dtype) {
    ROPE_TRY(rope_check_tensor(where, name, c));
    if (c->dtype != key_dtype && c->dtype != ROPE_FP8_E4M3 && c->dtype != ROPE_FP8_E5M2)
        return rope_fail(ROPE_ERROR_DTYPE, where,
                         "%s: expected %s (the key's, kv_cache_dtype auto), fp8_e4m3 or fp8_e5m2, found %s", name,
                         rope_dtype_name(key_dtype), rope_dtype_name(c->dtype));
    int nhd = a->kv_layout == ROPE_KV_NHD;
    ROPE_TRY(rope_check_rank(where, name, c, 4, 0,
                             nhd ? "[num_blocks, block_size, Hk, head_size] (NHD)"
                                 : "[num_blocks, Hk, block_size, head_size] (HND)"));
    ROPE_TRY(rope_check_dim(where, name, c, nhd ? 2 : 1, p->hk, "Hk, the key's heads"));
    ROPE_TRY(rope_check_dim(where, name, c, 3, p->head_size, "head_size"));
    return rope_check_dense(where, name, c);
}

static rope_status check_scale(const char *where, const char *name, float s) {
    if (!(s > 0.0f) || !isfinite(s))
        return rope_fail(ROPE_ERROR_ATTRIBUTE, where, "%s: expected a finite value > 0 with an fp8 cache, found %g",
                         name, (double)s);
    return ROPE_OK;
}

rope_status rope_vllm_kv_plan_shapes(const char *where, const rope_kv_cache_attrs *a, const rope_tensor *pos,
                               const rope_tensor *q, const rope_tensor *k, const rope_tensor *v,
                               const rope_tensor *cs, const rope_tensor *kc, const rope_tensor *vc,
                                    const rope_tensor *slots, const rope_tensor *qw, const rope_tensor *kw,
                                    rope_kv_plan *p) {
    static const char *const names[8] = {"positions",   "query",       "key",         "value",
                                         "cos_sin_cache", "key_cache", "value_cache", "slot_mapping"};
    const void *const args[8] = {pos, q, k, v, cs, kc, vc, slots};
    ROPE_TRY(rope_check_args(where, 8, names, args));
    if (!qw != !kw)
        return rope_fail(ROPE_ERROR_NULL_ARGUMENT, where, "%s is NULL but %s is not (both weights, or neither)",
                         qw ? "k_weight" : "q_weight", qw ? "q_weight" : "k_weight");
    memset(p, 0, sizeof *p);
    ROPE_TRY(rope_vllm_plan_shapes(where, &a->rope, pos, q, k, cs, 0, NULL, &p->rope));
    ROPE_TRY(rope_check_tensor(where, "value", v));
    ROPE_TRY(rope_check_same_dtype(where, "value", v, k->dtype, "same as key"));
    ROPE_TRY(rope_check_same_shape(where, "key", k, "value", v));
    ROPE_TRY(rope_check_row_stride(where, "value", v, p->rope.hk * p->rope.head_size, &p->v_stride));
    ROPE_TRY(check_cache(where, "key_cache", kc, a, &p->rope, k->dtype));
    ROPE_TRY(check_cache(where, "value_cache", vc, a, &p->rope, k->dtype));
    ROPE_TRY(rope_check_same_dtype(where, "value_cache", vc, kc->dtype, "same as key_cache"));
    ROPE_TRY(rope_check_same_shape(where, "key_cache", kc, "value_cache", vc));
    ROPE_TRY(rope_check_tensor(where, "slot_mapping", slots));
    if (slots->dtype != ROPE_I64 && slots->dtype != ROPE_I32) {
        static const rope_dtype slot_types[] = {ROPE_I64, ROPE_I32};
        return rope_check_dtype(where, "slot_mapping", slots, slot_types, 2);
    }
    ROPE_TRY(rope_check_rank(where, "slot_mapping", slots, 1, 0, "[T], one slot per token"));
    ROPE_TRY(rope_check_dim(where, "slot_mapping", slots, 0, p->rope.tokens, "T, the tokens of positions"));
    ROPE_TRY(rope_check_dense(where, "slot_mapping", slots));
    if (qw) {
        ROPE_TRY(rope_vllm_check_weight(where, "q_weight", qw, p->rope.head_size, q->dtype));
        ROPE_TRY(rope_vllm_check_weight(where, "k_weight", kw, p->rope.head_size, q->dtype));
        ROPE_TRY(rope_vllm_check_eps(where, "eps", a->eps));
    }
    if (kc->dtype != k->dtype) {
        ROPE_TRY(check_scale(where, "k_scale", a->k_scale));
        ROPE_TRY(check_scale(where, "v_scale", a->v_scale));
    }
    int nhd = a->kv_layout == ROPE_KV_NHD;
    p->blocks = kc->dims[0];
    p->block_size = nhd ? kc->dims[1] : kc->dims[2];
    p->normed = qw != NULL;
    return ROPE_OK;
}

/* A slot's index in slot_mapping, for the messages. */
static int64_t slot_at(const rope_tensor *s, int64_t i) {
    return s->dtype == ROPE_I64 ? ((const int64_t *)s->data)[i] : ((const int32_t *)s->data)[i];
}

static int by_value(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Every slot < 0 or below num_blocks * block_size, and none twice (two tokens in one slot would make
 * the result depend on which thread writes last). */
static rope_status check_slots(const char *where, const rope_kv_plan *p, const rope_tensor *s) {
    int64_t n = p->rope.tokens, cap = rope_dims_product(p->blocks, p->block_size), used = 0;
    for (int64_t i = 0; i < n; i++) {
        int64_t v = slot_at(s, i);
        if (v >= cap)
            return rope_fail(ROPE_ERROR_INDEX, where,
                             "slot_mapping[%lld] = %lld: expected < %lld (num_blocks %lld * block_size %lld) or < 0 "
                             "(padding)",
                             (long long)i, (long long)v, (long long)cap, (long long)p->blocks,
                             (long long)p->block_size);
        used += v >= 0;
    }
    if (used < 2) return ROPE_OK;
    int64_t *sorted = rope_malloc((size_t)used * sizeof *sorted);
    if (!sorted)
        return rope_fail(ROPE_ERROR_OUT_OF_MEMORY, where, "slot_mapping duplicate check (%lld bytes)",
                         (long long)(used * 8));
    for (int64_t i = 0, j = 0; i < n; i++)
        if (slot_at(s, i) >= 0) sorted[j++] = slot_at(s, i);
    qsort(sorted, (size_t)used, sizeof *sorted, by_value);
    int64_t dup = -1;
    for (int64_t i = 1; i < used && dup < 0; i++)
        if (sorted[i] == sorted[i - 1]) dup = sorted[i];
    rope_free(sorted);
    if (dup < 0) return ROPE_OK;
    int64_t first = -1, second = -1;
    for (int64_t i = 0; i < n && second < 0; i++)
        if (slot_at(s, i) == dup) {
            if (first < 0) first = i;
            else second = i;
        }
    return rope_fail(ROPE_ERROR_INDEX, where,
                     "slot_mapping[%lld] = %lld: slot already taken by slot_mapping[%lld] (each slot at most once)",
                     (long long)second, (long long)dup, (long long)first);
}

rope_status rope_vllm_kv_check_data(const char *where, rope_kv_plan *p, const rope_tensor *pos, const rope_tensor *q,
                              const rope_tensor *k, const rope_tensor *v, const rope_tensor *cs,
                              const rope_tensor *kc, const rope_tensor *vc, const rope_tensor *slots,
                              const rope_tensor *qw, const rope_tensor *kw) {
    ROPE_TRY(rope_check_data(where, "value", v));
    ROPE_TRY(rope_check_data(where, "key_cache", kc));
    ROPE_TRY(rope_check_data(where, "value_cache", vc));
    ROPE_TRY(rope_check_data(where, "slot_mapping", slots));
    if (qw) {
        ROPE_TRY(rope_check_data(where, "q_weight", qw));
        ROPE_TRY(rope_check_data(where, "k_weight", kw));
    }
    int64_t hs = p->rope.head_size, hq = p->rope.hq * hs, hk = p->rope.hk * hs;
    rope_region none = {NULL, 0, 0, 0};
    int64_t nkc = rope_numel_checked(kc), nsl = rope_numel_checked(slots);
    rope_region r_q = rope_region_of(q, hq, p->rope.q_stride), r_k = rope_region_of(k, hk, p->rope.k_stride);
    rope_region r_v = rope_region_of(v, hk, p->v_stride);
    rope_region r_kc = rope_region_of(kc, nkc, nkc), r_vc = rope_region_of(vc, nkc, nkc);
    rope_region r_s = rope_region_of(slots, nsl, nsl);
    int64_t np = rope_numel_checked(pos);
    rope_region r_p = rope_region_of(pos, np, np), r_c = rope_region_of(cs, p->rope.rot, p->rope.rot);
    rope_region r_qw = qw ? rope_region_of(qw, hs, hs) : none, r_kw = kw ? rope_region_of(kw, hs, hs) : none;
    /* what is written (query, key, the caches) against everything else */
    const char *const wn[4] = {"query", "key", "key_cache", "value_cache"};
    const rope_region *wr[4] = {&r_q, &r_k, &r_kc, &r_vc};
    const char *const on[10] = {"query", "key", "key_cache", "value_cache", "value",
                                "positions", "cos_sin_cache", "slot_mapping", "q_weight", "k_weight"};
    const rope_region *orr[10] = {&r_q, &r_k, &r_kc, &r_vc, &r_v, &r_p, &r_c, &r_s, &r_qw, &r_kw};
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 10; j++)
            if (j != i && !(i < 2 && j < 2)) ROPE_TRY(rope_check_disjoint(where, wn[i], wr[i], on[j], orr[j]));
    /* the rotation's own data checks (query and key in place, disjoint) and every position */
    ROPE_TRY(rope_vllm_check_data(where, &p->rope, pos, q, k, cs, q, k, &p->rope));
    return check_slots(where, p, slots);
}

static void slot_store(rope_slot_store *st, const rope_kv_cache_attrs *a, const rope_kv_plan *p, const rope_tensor *c,
                       const rope_tensor *slots, float scale) {
    int64_t hk = p->rope.hk, hs = p->rope.head_size, bs = p->block_size;
    memset(st, 0, sizeof *st);
    st->base = c->data;
    st->dtype = c->dtype;
    st->scale = scale;
    st->slots = slots->data;
    st->slots_dtype = slots->dtype;
    st->block_size = bs;
    st->block_stride = (ptrdiff_t)(bs * hk * hs);
    if (a->kv_layout == ROPE_KV_NHD) st->slot_stride = (ptrdiff_t)(hk * hs), st->head_stride = (ptrdiff_t)hs;
    else st->slot_stride = (ptrdiff_t)hs, st->head_stride = (ptrdiff_t)(bs * hs);
}

rope_status rope_vllm_kv_run(const char *where, rope_context *ctx, const rope_kv_cache_attrs *attrs,
                             const rope_kv_plan *pl, const rope_tensor *positions, const rope_tensor *query,
                             const rope_tensor *key, const rope_tensor *value, const rope_tensor *cos_sin_cache,
                             const rope_tensor *key_cache, const rope_tensor *value_cache,
                             const rope_tensor *slot_mapping, const rope_tensor *q_weight, const rope_tensor *k_weight) {
    const rope_kv_plan p = *pl;
    if (rope_vllm_plan_empty(&p.rope)) return ROPE_OK;
    rope_vllm_prologue_call call;
    ROPE_TRY(rope_vllm_prologue_begin(where, &p.rope, positions, query, key, cos_sin_cache,
                                      p.normed ? q_weight : NULL, p.normed ? k_weight : NULL, attrs->eps, &call));
    rope_slot_store ks, vs;
    slot_store(&ks, attrs, &p, key_cache, slot_mapping, attrs->k_scale);
    slot_store(&vs, attrs, &p, value_cache, slot_mapping, attrs->v_scale);
    call.job.streams[1].cache = &ks;
    rope_stream *vst = &call.job.streams[2]; /* the value: stored only */
    vst->x = value->data;
    vst->heads = (size_t)p.rope.hk;
    vst->x_seq = (ptrdiff_t)p.v_stride;
    vst->x_head = (ptrdiff_t)p.rope.head_size;
    vst->store_only = 1;
    vst->cache = &vs;
    call.job.n_streams = 3;
    rope_vllm_job_direction(&p.rope, &call.job, 0); /* inverse: the rows' sin negated, as rotary_embedding's */
    return rope_vllm_prologue_run(ctx, &call);
}

rope_status rope_vllm_rotary_embedding_and_cache_check(const rope_kv_cache_attrs *attrs, const rope_tensor *positions,
                                                       const rope_tensor *query, const rope_tensor *key,
                                                       const rope_tensor *value, const rope_tensor *cos_sin_cache,
                                                       const rope_tensor *key_cache, const rope_tensor *value_cache,
                                                       const rope_tensor *slot_mapping, const rope_tensor *q_weight,
                                                       const rope_tensor *k_weight) {
    static const char where[] = "rope_vllm_rotary_embedding_and_cache_check";
    ROPE_TRY(rope_vllm_kv_check_attrs(where, attrs));
    rope_kv_plan p;
    return rope_vllm_kv_plan_shapes(where, attrs, positions, query, key, value, cos_sin_cache, key_cache, value_cache,
                                    slot_mapping, q_weight, k_weight, &p);
}

rope_status rope_vllm_rotary_embedding_and_cache(rope_context *ctx, const rope_kv_cache_attrs *attrs,
                                                 const rope_tensor *positions, const rope_tensor *query,
                                                 const rope_tensor *key, const rope_tensor *value,
                                                 const rope_tensor *cos_sin_cache, const rope_tensor *key_cache,
                                                 const rope_tensor *value_cache, const rope_tensor *slot_mapping,
                                                 const rope_tensor *q_weight, const rope_tensor *k_weight) {
    static const char where[] = "rope_vllm_rotary_embedding_and_cache";
    ROPE_TRY(rope_vllm_kv_check_attrs(where, attrs));
    rope_kv_plan p;
    ROPE_TRY(rope_vllm_kv_plan_shapes(where, attrs, positions, query, key, value, cos_sin_cache, key_cache,
                                      value_cache, slot_mapping, q_weight, k_weight, &p));
    ROPE_TRY(rope_vllm_kv_check_data(where, &p, positions, query, key, value, cos_sin_cache, key_cache, value_cache,
                                     slot_mapping, q_weight, k_weight));
    return rope_vllm_kv_run(where, ctx, attrs, &p, positions, query, key, value, cos_sin_cache, key_cache,
                            value_cache, slot_mapping, q_weight, k_weight);
}
