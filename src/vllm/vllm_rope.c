/* SPDX-License-Identifier: MIT */
/* vLLM rotary_embedding front end: validates positions / query / key / cos_sin_cache and maps them
 * onto one engine job: q and k as its two streams, the cache's rows as half-width cos (the row's
 * first half) and sin (its second half), found by each token's position. */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "../core/check.h"
#include "../core/try.h"
#include "vllm_rope.h"

/* The fields of the first layout (head_size .. mrope_section). */
static rope_status check_first_fields(const char *where, const rope_vllm_attrs *a) {
    if (a->head_size <= 0)
        return rope_fail(ROPE_ERROR_ATTRIBUTE, where, "head_size: expected > 0, found %lld", (long long)a->head_size);
    if (a->is_neox != 0 && a->is_neox != 1)
        return rope_fail(ROPE_ERROR_ATTRIBUTE, where, "is_neox: expected 0 or 1, found %d", (int)a->is_neox);
    if (a->mrope_interleaved != 0 && a->mrope_interleaved != 1)
        return rope_fail(ROPE_ERROR_ATTRIBUTE, where, "mrope_interleaved: expected 0 or 1, found %d",
                         (int)a->mrope_interleaved);
    int n = a->n_mrope_section;
    if (n != 0 && n != 3 && n != 4)
        return rope_fail(ROPE_ERROR_ATTRIBUTE, where, "n_mrope_section: expected 0 (plain), 3 or 4, found %d", n);
    if (a->mrope_interleaved && n != 3)
        return rope_fail(ROPE_ERROR_ATTRIBUTE, where,
                         "mrope_interleaved 1: expected n_mrope_section 3 (Qwen3-VL's t, h, w), found %d", n);
    for (int i = 0; i < 4; i++) {
        int64_t v = a->mrope_section[i];
        if (i < n && v <= 0)
            return rope_fail(ROPE_ERROR_ATTRIBUTE, where, "mrope_section[%d]: expected > 0, found %lld", i,
                             (long long)v);
        if (i >= n && v != 0)
            return rope_fail(ROPE_ERROR_ATTRIBUTE, where,
                             "mrope_section[%d]: expected 0 (past n_mrope_section %d), found %lld", i, n,
                             (long long)v);
    }
    return ROPE_OK;
}

/* The name of the vLLM operator a fused entry point follows, for the messages. */
static const char *fused_op_name(rope_vllm_fused op) {
    switch (op) {
    case ROPE_VLLM_FUSED_QK_NORM: return "vLLM's fused_qk_norm_rope";
    case ROPE_VLLM_FUSED_CACHE: return "vLLM's rotary_embedding + reshape_and_cache_flash";
    }
    return "the fused prologue";
}

rope_status rope_vllm_check_attrs(const char *where, const rope_vllm_attrs *a, rope_vllm_fused op) {
    if (!a) return rope_fail(ROPE_ERROR_NULL_ARGUMENT, where, "attrs is NULL (head_size is required)");
    ROPE_TRY(check_first_fields(where, a));
    const char *name = fused_op_name(op);
    if (a->rope_dim_offset != 0 && op == ROPE_VLLM_FUSED_QK_NORM)
        return rope_fail(ROPE_ERROR_ATTRIBUTE, where,
                         "rope_dim_offset: expected 0, found %lld (%s has no rope_dim_offset: each head is "
                         "normalised and rotated from its start)",
                         (long long)a->rope_dim_offset, name);
    if (a->rope_dim_offset != 0)
        return rope_fail(ROPE_ERROR_ATTRIBUTE, where,
                         "rope_dim_offset: expected 0, found %lld (not supported with the cache write, which "
                         "stores heads rotated from their start; call rope_vllm_rotary_embedding with it, then "
                         "write the cache)",
                         (long long)a->rope_dim_offset);
    if (a->inverse != 0 && op == ROPE_VLLM_FUSED_QK_NORM)
        return rope_fail(ROPE_ERROR_ATTRIBUTE, where,
                         "inverse: expected 0, found %d (%s has no inverse: it rotates forward)", (int)a->inverse,
                         name);
    if (a->inverse != 0 && a->inverse != 1)
        return rope_fail(ROPE_ERROR_ATTRIBUTE, where, "inverse: expected 0 or 1, found %d", (int)a->inverse);
    if (a->partial != ROPE_PARTIAL_LEADING)
        return rope_fail(ROPE_ERROR_ATTRIBUTE, where,
                         "partial: expected 0 (ROPE_PARTIAL_LEADING), found %d (the split layout is librope's, not "
                         "an argument of %s: the fused prologue rotates each head's leading rot elements)",
                         (int)a->partial, name);
    if (a->pairs_to_halves != 0)
        return rope_fail(ROPE_ERROR_ATTRIBUTE, where,
                         "pairs_to_halves: expected 0, found %d (librope's layout, not an argument of %s: the fused "
                         "prologue writes each pair where it read it)",
                         (int)a->pairs_to_halves, name);
    return ROPE_OK;
}

rope_status rope_vllm_attrs_load(const char *where, const rope_vllm_attrs *in, rope_vllm_attrs *out) {
    if (!in) return rope_fail(ROPE_ERROR_NULL_ARGUMENT, where, "attrs is NULL (head_size is required)");
    const size_t oldest = offsetof(rope_vllm_attrs, rope_dim_offset);
    if (in->struct_size < oldest || in->struct_size > sizeof(rope_vllm_attrs))
        return rope_fail(ROPE_ERROR_ATTRIBUTE, where,
                         "struct_size: expected %zu (sizeof(rope_vllm_attrs), as ROPE_VLLM_ATTRS_INIT sets it) or an "
                         "older layout's size in [%zu, %zu), found %zu",
                         sizeof(rope_vllm_attrs), oldest, sizeof(rope_vllm_attrs), in->struct_size);
    rope_vllm_attrs a;
    memset(&a, 0, sizeof a);
    memcpy(&a, in, in->struct_size);
    ROPE_TRY(check_first_fields(where, &a));
    if (a.rope_dim_offset < 0)
        return rope_fail(ROPE_ERROR_ATTRIBUTE, where, "rope_dim_offset: expected >= 0, found %lld",
                         (long long)a.rope_dim_offset);
    if (a.inverse != 0 && a.inverse != 1)
        return rope_fail(ROPE_ERROR_ATTRIBUTE, where, "inverse: expected 0 or 1, found %d", (int)a.inverse);
    if (a.partial != ROPE_PARTIAL_LEADING && a.partial != ROPE_PARTIAL_SPLIT)
        return rope_fail(ROPE_ERROR_ATTRIBUTE, where,
                         "partial: expected 0 (ROPE_PARTIAL_LEADING) or 1 (ROPE_PARTIAL_SPLIT), found %d",
                         (int)a.partial);
    if (a.pairs_to_halves != 0 && a.pairs_to_halves != 1)
        return rope_fail(ROPE_ERROR_ATTRIBUTE, where, "pairs_to_halves: expected 0 or 1, found %d",
                         (int)a.pairs_to_halves);
    if (a.partial == ROPE_PARTIAL_SPLIT) {
        if (!a.is_neox)
            return rope_fail(ROPE_ERROR_ATTRIBUTE, where,
                             "partial ROPE_PARTIAL_SPLIT: expected is_neox 1 (split halves), found 0");
        if (a.rope_dim_offset != 0)
            return rope_fail(ROPE_ERROR_ATTRIBUTE, where,
                             "partial ROPE_PARTIAL_SPLIT: expected rope_dim_offset 0, found %lld",
                             (long long)a.rope_dim_offset);
        if (a.head_size % 2 != 0)
            return rope_fail(ROPE_ERROR_ATTRIBUTE, where,
                             "partial ROPE_PARTIAL_SPLIT: expected an even head_size (partners at head_size/2), "
                             "found %lld",
                             (long long)a.head_size);
    }
    if (a.pairs_to_halves && a.is_neox)
        return rope_fail(ROPE_ERROR_ATTRIBUTE, where,
                         "pairs_to_halves 1: expected is_neox 0 (adjacent pairs in), found 1");
    *out = a;
    return ROPE_OK;
}

/* The token dims of positions: [T] / [B, S], after MRoPE's axis dim. */
static rope_status plan_positions(const char *where, const char *name, const rope_vllm_attrs *a,
                                  const rope_tensor *pos, int *tok_rank, const int64_t **tok_dims) {
    static const rope_dtype pos_types[] = {ROPE_I64, ROPE_I32};
    ROPE_TRY(rope_check_tensor(where, name, pos));
    if (pos->dtype != ROPE_I64 && pos->dtype != ROPE_I32) /* the check builds its message as it goes */
        return rope_check_dtype(where, name, pos, pos_types, 2);
    int m = a->n_mrope_section;
    if (m) {
        ROPE_TRY(rope_check_rank(where, name, pos, 2, 3, "[m, T] or [m, B, S] with MRoPE"));
        ROPE_TRY(rope_check_dim(where, name, pos, 0, m, "n_mrope_section, one position per axis"));
    } else {
        ROPE_TRY(rope_check_rank(where, name, pos, 1, 2, "[T] or [B, S]"));
    }
    ROPE_TRY(rope_check_dense(where, name, pos));
    *tok_rank = pos->rank - (m ? 1 : 0);
    *tok_dims = pos->dims + (m ? 1 : 0);
    return ROPE_OK;
}

/* Why query's and key's token dims are what they are, naming the argument the tokens come from:
 * the table form's positions, the on-the-fly forms' fly->positions (constant strings: no formatting
 * on a decode step's path). */
static const char *const token_whys[2][3] = {
    {"T, the tokens of positions", "B of positions", "S of positions"},
    {"T, the tokens of fly->positions", "B of fly->positions", "S of fly->positions"}};

/* query / key: [T, H*hs], [T, H, hs] (positions [T]) or [B, S, H*hs] (positions [B, S]); the row
 * (a token's H*hs elements) and H. whys: token_whys' row of the positions' argument. */
static rope_status plan_qk(const char *where, const char *name, const rope_tensor *t, int tok_rank,
                           const int64_t *tok_dims, const char *const *whys, int64_t head_size, int64_t *heads,
                           int64_t *stride) {
    ROPE_TRY(rope_check_tensor(where, name, t));
    int64_t hidden;
    if (tok_rank == 1) {
        ROPE_TRY(rope_check_rank(where, name, t, 2, 3, "[T, H*head_size] or [T, H, head_size] with positions [T]"));
        ROPE_TRY(rope_check_dim(where, name, t, 0, tok_dims[0], whys[0]));
        if (t->rank == 3) {
            ROPE_TRY(rope_check_dim(where, name, t, 2, head_size, "head_size"));
            hidden = rope_dims_product(t->dims[1], t->dims[2]);
        } else {
            hidden = t->dims[1];
        }
    } else {
        ROPE_TRY(rope_check_rank(where, name, t, 3, 0, "[B, S, H*head_size] with positions [B, S]"));
        ROPE_TRY(rope_check_dim(where, name, t, 0, tok_dims[0], whys[1]));
        ROPE_TRY(rope_check_dim(where, name, t, 1, tok_dims[1], whys[2]));
        hidden = t->dims[2];
    }
    if (hidden % head_size != 0)
        return rope_fail(ROPE_ERROR_SHAPE, where, "%s hidden size %lld: expected a multiple of head_size %lld", name,
                         (long long)hidden, (long long)head_size);
    *heads = hidden / head_size;
    return rope_check_row_stride(where, name, t, hidden, stride);
}

rope_status rope_vllm_plan_shapes(const char *where, const rope_vllm_attrs *a, const rope_tensor *pos,
                                  const rope_tensor *q, const rope_tensor *k, const rope_tensor *cache, int64_t fly_rot,
                                  const char *fly_rot_name, rope_vllm_plan *p) {
    const char *rot_from = cache ? "cos_sin_cache dim 1" : fly_rot_name ? fly_rot_name : "fly->freq->rotary_dim";
    static const rope_dtype qk_types[] = {ROPE_F16, ROPE_BF16, ROPE_F32};
    memset(p, 0, sizeof *p);
    int tok_rank = 0;
    const int64_t *tok_dims = NULL;
    const char *pos_name = cache ? "positions" : "fly->positions";
    ROPE_TRY(plan_positions(where, pos_name, a, pos, &tok_rank, &tok_dims));
    ROPE_TRY(rope_check_tensor(where, "query", q));
    if (q->dtype != ROPE_F16 && q->dtype != ROPE_BF16 && q->dtype != ROPE_F32)
        return rope_check_dtype(where, "query", q, qk_types, 3); /* a decode step cannot afford its snprintf */
    if (k) {
        ROPE_TRY(rope_check_tensor(where, "key", k));
        ROPE_TRY(rope_check_same_dtype(where, "key", k, q->dtype, "same as query"));
    }
    if (cache) {
        ROPE_TRY(rope_check_tensor(where, "cos_sin_cache", cache));
        if (cache->dtype != q->dtype && cache->dtype != ROPE_F32)
            return rope_fail(ROPE_ERROR_DTYPE, where,
                             "cos_sin_cache: expected %s or f32 (the query's dtype or f32), found %s",
                             rope_dtype_name(q->dtype), rope_dtype_name(cache->dtype));
        ROPE_TRY(rope_check_rank(where, "cos_sin_cache", cache, 2, 0, "[P, rot]"));
    }
    const char *const *whys = token_whys[cache ? 0 : 1];
    ROPE_TRY(plan_qk(where, "query", q, tok_rank, tok_dims, whys, a->head_size, &p->hq, &p->q_stride));
    if (k) {
        ROPE_TRY(rope_check_rank(where, "key", k, q->rank, 0, "same as query"));
        ROPE_TRY(plan_qk(where, "key", k, tok_rank, tok_dims, whys, a->head_size, &p->hk, &p->k_stride));
    }
    p->rot = cache ? cache->dims[1] : fly_rot;

    if (p->rot <= 0 || p->rot % 2 != 0 || p->rot > a->head_size)
        return rope_fail(ROPE_ERROR_SHAPE, where, "%s (rot): expected an even number in [2, %lld] (head_size), found %lld",
                         rot_from, (long long)a->head_size, (long long)p->rot);
    if (a->rope_dim_offset > a->head_size - p->rot)
        return rope_fail(ROPE_ERROR_ATTRIBUTE, where,
                         "rope_dim_offset %lld: expected 0 .. %lld (head_size %lld - rot %lld, from %s)",
                         (long long)a->rope_dim_offset, (long long)(a->head_size - p->rot), (long long)a->head_size,
                         (long long)p->rot, rot_from);
    int m = a->n_mrope_section;
    if (m) { /* each section is in [1, INT64_MAX]: capped at rot/2 + 1 so that the sum cannot overflow */
        int64_t sum = 0, half = p->rot / 2;
        for (int i = 0; i < m; i++) sum += a->mrope_section[i] <= half ? a->mrope_section[i] : half + 1;
        if (sum != half) {
            char list[96];
            int len = 0;
            for (int i = 0; i < m; i++)
                len += snprintf(list + len, sizeof list - (size_t)len, "%s%lld", i ? ", " : "",
                                (long long)a->mrope_section[i]);
            return rope_fail(ROPE_ERROR_ATTRIBUTE, where,
                             "mrope_section [%s]: expected %d sections summing to %lld (rot/2, from %s)", list, m,
                             (long long)half, rot_from);
        }
    }
    if (cache) ROPE_TRY(rope_check_dense(where, "cos_sin_cache", cache));
    p->tokens = tok_rank == 1 ? tok_dims[0] : rope_dims_product(tok_dims[0], tok_dims[1]);
    p->head_size = a->head_size;
    p->cache_rows = cache ? cache->dims[0] : -1;
    p->has_key = k != NULL;
    p->is_neox = a->is_neox;
    p->axes = m;
    p->interleaved = a->mrope_interleaved;
    for (int i = 0; i < 4; i++) p->section[i] = a->mrope_section[i];
    p->pos_dtype = pos->dtype;
    p->max_pos = -1;
    p->offset = a->rope_dim_offset;
    p->inverse = a->inverse;
    p->split = a->partial == ROPE_PARTIAL_SPLIT && p->rot < a->head_size; /* full rotation: the halves */
    p->pairs_to_halves = a->pairs_to_halves;
    return ROPE_OK;
}

/* Every position in [0, P) (on the fly: >= 0 and below 2^53); the largest into *max_pos. */
static rope_status check_positions(const char *where, const char *name, const rope_vllm_plan *p,
                                   const rope_tensor *pos, int64_t *max_pos) {
    int64_t n = rope_numel_checked(pos), best = -1;
    int64_t hi = p->cache_rows >= 0 ? p->cache_rows : ((int64_t)1 << 53);
    for (int64_t i = 0; i < n; i++) {
        int64_t v = p->pos_dtype == ROPE_I64 ? ((const int64_t *)pos->data)[i] : ((const int32_t *)pos->data)[i];
        if (v < 0 || v >= hi) {
            char idx[80] = ""; /* the element's index in the positions' own dims, e.g. [2][0][5] */
            int64_t rest = i;
            for (int d = pos->rank - 1, len = 0; d >= 0; d--) {
                char one[24];
                snprintf(one, sizeof one, "[%lld]", (long long)(rest % pos->dims[d]));
                rest /= pos->dims[d];
                int w = (int)strlen(one);
                memmove(idx + w, idx, (size_t)len + 1);
                memcpy(idx, one, (size_t)w);
                len += w;
            }
            if (p->cache_rows >= 0)
                return rope_fail(ROPE_ERROR_INDEX, where, "%s%s = %lld: expected in [0, %lld) (cos_sin_cache rows)",
                                 name, idx, (long long)v, (long long)p->cache_rows);
            return rope_fail(ROPE_ERROR_INDEX, where, "%s%s = %lld: expected in [0, 2^53) (exact in float64)", name,
                             idx, (long long)v);
        }
        if (v > best) best = v;
    }
    *max_pos = best;
    return ROPE_OK;
}

rope_status rope_vllm_check_data(const char *where, const rope_vllm_plan *p, const rope_tensor *pos,
                                 const rope_tensor *q, const rope_tensor *k, const rope_tensor *cache,
                                 const rope_tensor *qo, const rope_tensor *ko, rope_vllm_plan *out) {
    rope_vllm_plan w = *p;
    if (!qo) return rope_fail(ROPE_ERROR_NULL_ARGUMENT, where, "query_out is NULL");
    if (k && !ko) return rope_fail(ROPE_ERROR_NULL_ARGUMENT, where, "key_out is NULL (key is given)");
    if (!k && ko) return rope_fail(ROPE_ERROR_NULL_ARGUMENT, where, "key is NULL but key_out is not (both or neither)");
    int64_t hid_q = w.hq * w.head_size, hid_k = w.hk * w.head_size;
    ROPE_TRY(rope_check_tensor(where, "query_out", qo));
    ROPE_TRY(rope_check_same_dtype(where, "query_out", qo, q->dtype, "same as query"));
    ROPE_TRY(rope_check_same_shape(where, "query", q, "query_out", qo));
    ROPE_TRY(rope_check_row_stride(where, "query_out", qo, hid_q, &w.qo_stride));
    if (k) {
        ROPE_TRY(rope_check_tensor(where, "key_out", ko));
        ROPE_TRY(rope_check_same_dtype(where, "key_out", ko, k->dtype, "same as key"));
        ROPE_TRY(rope_check_same_shape(where, "key", k, "key_out", ko));
        ROPE_TRY(rope_check_row_stride(where, "key_out", ko, hid_k, &w.ko_stride));
    }
    ROPE_TRY(rope_vllm_check_values(where, &w, pos, q, k, cache, qo, ko, &w.max_pos));
    *out = w;
    return ROPE_OK;
}

rope_status rope_vllm_check_values(const char *where, const rope_vllm_plan *p, const rope_tensor *pos,
                                   const rope_tensor *q, const rope_tensor *k, const rope_tensor *cache,
                                   const rope_tensor *qo, const rope_tensor *ko, int64_t *max_pos) {
    const rope_vllm_plan w = *p; /* read, never copied out: a decode step stalled on the plan's copy */
    const char *pos_name = cache ? "positions" : "fly->positions";
    int64_t hid_q = w.hq * w.head_size, hid_k = w.hk * w.head_size;
    if (pos) ROPE_TRY(rope_check_data(where, pos_name, pos)); /* NULL: multi-axis positions, checked by the caller */
    ROPE_TRY(rope_check_data(where, "query", q));
    if (k) ROPE_TRY(rope_check_data(where, "key", k));
    if (cache) ROPE_TRY(rope_check_data(where, "cos_sin_cache", cache));
    ROPE_TRY(rope_check_data(where, "query_out", qo));
    if (k) ROPE_TRY(rope_check_data(where, "key_out", ko));

    rope_region none = {NULL, 0, 0, 0};
    rope_region r_q = rope_region_of(q, hid_q, w.q_stride), r_qo = rope_region_of(qo, hid_q, w.qo_stride);
    rope_region r_k = k ? rope_region_of(k, hid_k, w.k_stride) : none;
    rope_region r_ko = k ? rope_region_of(ko, hid_k, w.ko_stride) : none;
    int64_t np = pos ? rope_numel_checked(pos) : 0;
    rope_region r_p = pos ? rope_region_of(pos, np, np) : none;
    rope_region r_c = cache ? rope_region_of(cache, w.rot, w.rot) : none;
    ROPE_TRY(rope_check_in_place(where, "query_out", &r_qo, "query", &r_q));
    ROPE_TRY(rope_check_disjoint(where, "query_out", &r_qo, pos_name, &r_p));
    ROPE_TRY(rope_check_disjoint(where, "query_out", &r_qo, "cos_sin_cache", &r_c));
    if (k) {
        ROPE_TRY(rope_check_in_place(where, "key_out", &r_ko, "key", &r_k));
        ROPE_TRY(rope_check_disjoint(where, "query_out", &r_qo, "key", &r_k));
        ROPE_TRY(rope_check_disjoint(where, "key_out", &r_ko, "query", &r_q));
        ROPE_TRY(rope_check_disjoint(where, "key_out", &r_ko, "query_out", &r_qo));
        ROPE_TRY(rope_check_disjoint(where, "key_out", &r_ko, pos_name, &r_p));
        ROPE_TRY(rope_check_disjoint(where, "key_out", &r_ko, "cos_sin_cache", &r_c));
    }
    return pos ? check_positions(where, pos_name, &w, pos, max_pos) : ROPE_OK;
}

/* offset: elements into each head where the kernel's head vector starts (rope_dim_offset). */
static void stream_of(rope_stream *st, const rope_tensor *x, const rope_tensor *y, int64_t heads, int64_t hs,
                      int64_t x_stride, int64_t y_stride, int64_t offset) {
    size_t skip = (size_t)offset * rope_dtype_bytes(x->dtype);
    st->x = x->data ? (const char *)x->data + skip : NULL;
    st->y = y->data ? (char *)y->data + skip : NULL;
    st->heads = (size_t)heads;
    st->x_batch = st->y_batch = 0;
    st->x_seq = x_stride;
    st->y_seq = y_stride;
    st->x_head = st->y_head = hs;
}

void rope_vllm_job(const rope_vllm_plan *p, const rope_tensor *pos, const rope_tensor *q, const rope_tensor *k,
                   const rope_tensor *cache, const rope_tensor *qo, const rope_tensor *ko, rope_job *out) {
    memset(out, 0, sizeof *out);
    out->shape.x_dtype = q->dtype;
    out->shape.cs_dtype = cache ? cache->dtype : q->dtype;
    /* rope_dim_offset: the kernel's head vector starts `offset` elements in, the ones before it its lead */
    out->shape.head_size = (size_t)(p->head_size - p->offset);
    out->shape.lead = (size_t)p->offset;
    out->shape.rot = (size_t)p->rot;
    out->shape.pair_stride = p->is_neox ? (size_t)p->rot / 2 : 1; /* the ONNX pair layouts: halves or adjacent */
    if (p->split) out->shape.split = 1, out->shape.pair_stride = (size_t)p->head_size / 2;
    out->shape.cos_full = 0;
    out->batch = 1;
    out->seq = (size_t)p->tokens;
    out->n_streams = p->has_key ? 2 : 1;
    stream_of(&out->streams[0], q, qo, p->hq, p->head_size, p->q_stride, p->qo_stride, p->offset);
    if (p->has_key) stream_of(&out->streams[1], k, ko, p->hk, p->head_size, p->k_stride, p->ko_stride, p->offset);
    rope_cossin_source *src = &out->cossin; /* the cache's rows at each token's position */
    src->kind = ROPE_COSSIN_TABLE;
    if (cache) { /* row p: cos in [0, rot/2), sin in [rot/2, rot) */
        size_t es = rope_dtype_bytes(cache->dtype);
        src->cos = cache->data;
        src->sin = (const char *)cache->data + (size_t)(p->rot / 2) * es;
    }
    src->table_stride = p->rot;
    src->positions.kind = p->pos_dtype == ROPE_I64 ? ROPE_POS_LIST_I64 : ROPE_POS_LIST_I32;
    src->positions.values = pos->data;
}

void rope_vllm_mrope(const rope_vllm_plan *p, const rope_tensor *pos, rope_mrope *m) {
    memset(m, 0, sizeof *m);
    m->axes = p->axes;
    m->interleaved = p->interleaved;
    size_t es = rope_dtype_bytes(p->pos_dtype);
    for (int a = 0; a < p->axes; a++) {
        m->section[a] = p->section[a];
        m->axis[a].kind = p->pos_dtype == ROPE_I64 ? ROPE_POS_LIST_I64 : ROPE_POS_LIST_I32;
        m->axis[a].values = (const char *)pos->data + (size_t)a * (size_t)p->tokens * es; /* row a of [m, T] */
    }
}

rope_status rope_vllm_run(const char *where, rope_context *ctx, const rope_vllm_plan *p, const rope_tensor *pos,
                          const rope_tensor *q, const rope_tensor *k, const rope_tensor *cache, const rope_tensor *qo,
                          const rope_tensor *ko, int backward) {
    rope_context *c = rope_context_resolve(ctx);
    if (rope_vllm_plan_empty(p)) return ROPE_OK;
    rope_job job;
    rope_vllm_job(p, pos, q, k, cache, qo, ko, &job);
    rope_mrope mrope;
    if (p->axes) rope_vllm_mrope(p, pos, &mrope), job.cossin.mrope = &mrope;
    rope_vllm_job_direction(p, &job, backward);
    job.cossin.where = where;
    return rope_engine_run(c, &job);
}

void rope_vllm_job_direction(const rope_vllm_plan *p, rope_job *job, int backward) {
    job->cossin.backward = backward != p->inverse; /* inverse's negated sin is the backward's row transform */
    if (p->pairs_to_halves) job->permute = backward ? ROPE_PERMUTE_HALVES_TO_PAIRS : ROPE_PERMUTE_PAIRS_TO_HALVES;
}
