/* SPDX-License-Identifier: MIT */
/* ATB RopeOperation front end: validates query/key/cos/sin/seqlen and maps them onto one engine job
 * with two streams, so a token's q and k rows are rotated together with one cos/sin row. */
#include <string.h>

#include "../core/check.h"
#include "../engine/context.h"
#include "../core/try.h"
#include "../engine/engine.h"
#include "atb_rope.h"

static const rope_atb_param default_param = ROPE_ATB_PARAM_INIT;

rope_status rope_atb_check_param(const char *where, const rope_atb_param *param) {
    if (param->cos_format != 0 && param->cos_format != 1)
        return rope_fail(ROPE_ERROR_ATTRIBUTE, where, "cosFormat: expected 0 or 1, found %d", (int)param->cos_format);
    /* The coefficient is 2, 4 or D, and D (cos width) is even: so it is even and positive. */
    if (param->rotary_coeff < 2 || param->rotary_coeff % 2 != 0)
        return rope_fail(ROPE_ERROR_ATTRIBUTE, where, "rotaryCoeff: expected 2, 4 or head width D (even), found %d",
                         (int)param->rotary_coeff);
    if (param->partial != ROPE_PARTIAL_LEADING && param->partial != ROPE_PARTIAL_SPLIT)
        return rope_fail(ROPE_ERROR_ATTRIBUTE, where,
                         "partial: expected 0 (ROPE_PARTIAL_LEADING) or 1 (ROPE_PARTIAL_SPLIT), found %u",
                         (unsigned)param->partial);
    for (int i = 0; i < 3; i++)
        if (param->rsv[i] != 0)
            return rope_fail(ROPE_ERROR_ATTRIBUTE, where, "rsv[%d]: expected 0 (reserved), found %u", i,
                             (unsigned)param->rsv[i]);
    if (param->partial == ROPE_PARTIAL_LEADING && param->head_size != 0)
        return rope_fail(ROPE_ERROR_ATTRIBUTE, where,
                         "head_size: expected 0 with partial 0 (every D-wide chunk is rotated), found %d",
                         (int)param->head_size);
    if (param->partial == ROPE_PARTIAL_SPLIT) {
        if (param->head_size <= 0 || param->head_size % 2 != 0)
            return rope_fail(ROPE_ERROR_ATTRIBUTE, where,
                             "head_size: expected an even number > 0 with partial 1 (ROPE_PARTIAL_SPLIT), found %d",
                             (int)param->head_size);
        if (param->rotary_coeff != 2)
            return rope_fail(ROPE_ERROR_ATTRIBUTE, where,
                             "rotaryCoeff: expected 2 with partial 1 (ROPE_PARTIAL_SPLIT: split halves), found %d",
                             (int)param->rotary_coeff);
    }
    return ROPE_OK;
}

/* Tokens and row width of a 2-D [ntokens, hidden] or 4-D [batch, seq, heads, head_size] tensor. */
static void token_view(const rope_tensor *t, int64_t *ntokens, int64_t *hidden) {
    if (t->rank == 4) { /* clamped: only an empty tensor's dims can overflow */
        *ntokens = rope_dims_product(t->dims[0], t->dims[1]);
        *hidden = rope_dims_product(t->dims[2], t->dims[3]);
    } else {
        *ntokens = t->dims[0];
        *hidden = t->dims[1];
    }
}

rope_status rope_atb_check_cos_dtype(const char *where, const char *what, const char *also, rope_dtype qt,
                                     rope_dtype ct) {
    if (ct == qt || (qt == ROPE_F16 && ct == ROPE_F32)) return ROPE_OK; /* qt: f16, bf16 or f32 */
    const char *want = qt == ROPE_F16 ? "f16 or f32" : rope_dtype_name(qt);
    return rope_fail(ROPE_ERROR_DTYPE, where, "%s: expected %s%s (with %s query), found %s", what, also, want,
                     rope_dtype_name(qt), rope_dtype_name(ct));
}

/* The checks of plan_shapes. On the fly (fly_d > 0: D, no cos / sin) those of cos and sin are
 * skipped, and cos_rows is -1 (no bound on positions here). */
static rope_status plan(const char *where, const rope_atb_param *param_in, const rope_tensor *q, const rope_tensor *k,
                        const rope_tensor *cos, const rope_tensor *sin, const rope_tensor *seqlen, int64_t fly_d,
                        const char *fly_d_name, rope_atb_plan *p) {
    const char *d_name = fly_d_name ? fly_d_name : "cos dim 1"; /* what gives D, for messages */
    const int fly = fly_d > 0;
    static const rope_dtype qk_types[] = {ROPE_F16, ROPE_BF16, ROPE_F32};
    static const rope_dtype seqlen_types[] = {ROPE_I32, ROPE_U32};
    /* The callers checked the parameter (a one-shot first of all, an operation at its creation). */
    const rope_atb_param *param = param_in ? param_in : &default_param;
    ROPE_TRY(rope_check_tensor(where, "query", q));
    ROPE_TRY(rope_check_tensor(where, "key", k));
    if (!fly) {
        ROPE_TRY(rope_check_tensor(where, "cos", cos));
        ROPE_TRY(rope_check_tensor(where, "sin", sin));
    }
    ROPE_TRY(rope_check_tensor(where, "seqlen", seqlen));

    ROPE_TRY(rope_check_dtype(where, "query", q, qk_types, 3));
    ROPE_TRY(rope_check_same_dtype(where, "key", k, q->dtype, "same as query"));
    if (!fly) {
        ROPE_TRY(rope_atb_check_cos_dtype(where, "cos dtype", "", q->dtype, cos->dtype));
        ROPE_TRY(rope_check_same_dtype(where, "sin", sin, cos->dtype, "same as cos"));
    }
    ROPE_TRY(rope_check_dtype(where, "seqlen", seqlen, seqlen_types, 2));

    ROPE_TRY(rope_check_rank(where, "query", q, 2, 4, "[ntokens, hidden] or [batch, seq, heads, head_size]"));
    ROPE_TRY(rope_check_rank(where, "key", k, q->rank, 0, "same as query"));
    if (!fly) {
        ROPE_TRY(rope_check_rank(where, "cos", cos, 2, 0, "[rows, D]"));
        ROPE_TRY(rope_check_same_shape(where, "cos", cos, "sin", sin));
    }
    ROPE_TRY(rope_check_rank(where, "seqlen", seqlen, 1, 0, "[batch]"));

    memset(p, 0, sizeof *p);
    int64_t k_tokens;
    token_view(q, &p->ntokens, &p->hidden_q);
    token_view(k, &k_tokens, &p->hidden_k);
    if (q->rank == 4) {
        ROPE_TRY(rope_check_dim(where, "key", k, 0, q->dims[0], "batch of query"));
        ROPE_TRY(rope_check_dim(where, "key", k, 1, q->dims[1], "seq of query"));
    } else {
        ROPE_TRY(rope_check_dim(where, "key", k, 0, q->dims[0], "ntokens of query"));
    }
    (void)k_tokens;
    if (p->hidden_k == 0)
        return rope_fail(ROPE_ERROR_SHAPE, where, "key hidden size: expected > 0, found 0");
    if (p->hidden_q % p->hidden_k != 0)
        return rope_fail(ROPE_ERROR_SHAPE, where,
                         "query hidden size %lld: expected a multiple of key hidden size %lld (more query heads than key heads)",
                         (long long)p->hidden_q, (long long)p->hidden_k);
    p->d = fly ? fly_d : cos->dims[1];
    if (p->d <= 0 || p->d % 2 != 0)
        return rope_fail(ROPE_ERROR_SHAPE, where, "%s (D, the rotated width): expected an even number > 0, found %lld",
                         d_name, (long long)p->d);
    if (param->partial == ROPE_PARTIAL_LEADING && (p->hidden_q % p->d != 0 || p->hidden_k % p->d != 0))
        return rope_fail(ROPE_ERROR_SHAPE, where,
                         "%s hidden size %lld: expected a multiple of D = %lld (%s)",
                         p->hidden_q % p->d ? "query" : "key",
                         (long long)(p->hidden_q % p->d ? p->hidden_q : p->hidden_k), (long long)p->d, d_name);
    int64_t rc = param->rotary_coeff;
    if (!(rc == 2 || rc == 4 || rc == p->d) || p->d % rc != 0)
        return rope_fail(ROPE_ERROR_ATTRIBUTE, where,
                         "rotaryCoeff: expected 2, 4 or D = %lld dividing D, found %lld", (long long)p->d,
                         (long long)rc);
    p->pair_stride = p->d / rc;
    p->head = p->d; /* the head vector the kernel sees: a D-wide chunk, or a split head */
    if (param->partial == ROPE_PARTIAL_SPLIT) {
        int64_t hs = param->head_size;
        if (p->d > hs)
            return rope_fail(ROPE_ERROR_SHAPE, where,
                             "%s (D, the rotated width): expected <= head_size %lld with partial 1, found %lld",
                             d_name, (long long)hs, (long long)p->d);
        if (p->hidden_q % hs != 0 || p->hidden_k % hs != 0)
            return rope_fail(ROPE_ERROR_SHAPE, where, "%s hidden size %lld: expected a multiple of head_size %lld",
                             p->hidden_q % hs ? "query" : "key",
                             (long long)(p->hidden_q % hs ? p->hidden_q : p->hidden_k), (long long)hs);
        p->head = hs;
        p->split = p->d < hs; /* D = head_size: the rotate-half layout itself */
        if (p->split) p->pair_stride = hs / 2;
    }
    p->cos_rows = fly ? -1 : cos->dims[0];
    p->cos_format = param->cos_format;
    if (!fly && p->cos_format == 0 && p->cos_rows < p->ntokens)
        return rope_fail(ROPE_ERROR_SHAPE, where,
                         "cos dim 0: expected >= %lld rows (one per token with cosFormat 0), found %lld",
                         (long long)p->ntokens, (long long)p->cos_rows);

    if (!fly) {
        ROPE_TRY(rope_check_dense(where, "cos", cos));
        ROPE_TRY(rope_check_dense(where, "sin", sin));
    }
    ROPE_TRY(rope_check_dense(where, "seqlen", seqlen));
    ROPE_TRY(rope_check_row_stride(where, "query", q, p->hidden_q, &p->q_stride));
    ROPE_TRY(rope_check_row_stride(where, "key", k, p->hidden_k, &p->k_stride));
    return ROPE_OK;
}

rope_status rope_atb_plan_shapes(const char *where, const rope_atb_param *param, const rope_tensor *q,
                                 const rope_tensor *k, const rope_tensor *cos, const rope_tensor *sin,
                                 const rope_tensor *seqlen, rope_atb_plan *p) {
    return plan(where, param, q, k, cos, sin, seqlen, 0, NULL, p);
}

rope_status rope_atb_plan_fly(const char *where, const rope_atb_param *param, const rope_tensor *q,
                              const rope_tensor *k, const rope_tensor *seqlen, int64_t d, const char *d_name,
                              rope_atb_plan *p) {
    return plan(where, param, q, k, NULL, NULL, seqlen, d, d_name, p);
}

rope_status rope_atb_check_descriptors(const char *where, const char *const names[7], const rope_atb_param *param,
                                       const rope_tensor *q, const rope_tensor *k, const rope_tensor *cos,
                                       const rope_tensor *sin, const rope_tensor *seqlen, const void *out_q,
                                       const void *out_k, rope_atb_plan *p) {
    ROPE_TRY(rope_atb_check_param(where, param ? param : &default_param));
    const void *const args[7] = {q, k, cos, sin, seqlen, out_q, out_k};
    ROPE_TRY(rope_check_args(where, 7, names, args));
    return rope_atb_plan_shapes(where, param, q, k, cos, sin, seqlen, p);
}

rope_status rope_atb_infer(const rope_atb_param *param, const rope_tensor *query, const rope_tensor *key,
                           const rope_tensor *cos, const rope_tensor *sin, const rope_tensor *seqlen,
                           rope_tensor *rope_q_out, rope_tensor *rope_k_out) {
    static const char *const names[7] = {"query", "key", "cos", "sin", "seqlen", "rope_q_out", "rope_k_out"};
    rope_atb_plan p;
    ROPE_TRY(rope_atb_check_descriptors("rope_atb_infer", names, param, query, key, cos, sin, seqlen, rope_q_out,
                                        rope_k_out, &p));
    rope_tensor rq = *query, rk = *key;
    rq.data = rk.data = NULL;
    rq.row_stride = rk.row_stride = 0;
    *rope_q_out = rq;
    *rope_k_out = rk;
    return ROPE_OK;
}

/* With cosFormat 1 every sequence restarts at cos row 0: its length is bounded by the rows, and the
 * lengths add up to the token count. */
static rope_status check_seqlen_values(const char *where, const rope_atb_plan *p, const rope_tensor *seqlen) {
    uint64_t sum = 0;
    for (int64_t b = 0; b < seqlen->dims[0]; b++) {
        int64_t v = rope_seqlen_value(seqlen->data, seqlen->dtype, (size_t)b);
        if (p->cos_rows < 0) { /* on the fly: no cos rows bound a sequence */
            if (v < 0)
                return rope_fail(ROPE_ERROR_INDEX, where, "seqlen[%lld] = %lld: expected >= 0", (long long)b,
                                 (long long)v);
        } else if (v > p->cos_rows || v < 0)
            return rope_fail(ROPE_ERROR_INDEX, where, "seqlen[%lld] = %lld: expected in [0, %lld] (cos rows)",
                             (long long)b, (long long)v, (long long)p->cos_rows);
        sum += (uint64_t)v;
    }
    if (sum != (uint64_t)p->ntokens)
        return rope_fail(ROPE_ERROR_INDEX, where, "sum of seqlen: expected %lld (ntokens), found %llu",
                         (long long)p->ntokens, (unsigned long long)sum);
    return ROPE_OK;
}

rope_status rope_atb_check_data(const char *where, const rope_atb_plan *p, const rope_tensor *q,
                                const rope_tensor *k, const rope_tensor *cos, const rope_tensor *sin,
                                const rope_tensor *seqlen, const rope_tensor *rq, const rope_tensor *rk,
                                rope_atb_plan *out) {
    rope_atb_plan w = *p;
    ROPE_TRY(rope_check_tensor(where, "ropeQ", rq));
    ROPE_TRY(rope_check_tensor(where, "ropeK", rk));
    ROPE_TRY(rope_check_same_dtype(where, "ropeQ", rq, q->dtype, "same as query"));
    ROPE_TRY(rope_check_same_dtype(where, "ropeK", rk, k->dtype, "same as key"));
    ROPE_TRY(rope_check_same_shape(where, "query", q, "ropeQ", rq));
    ROPE_TRY(rope_check_same_shape(where, "key", k, "ropeK", rk));
    ROPE_TRY(rope_check_row_stride(where, "ropeQ", rq, w.hidden_q, &w.rq_stride));
    ROPE_TRY(rope_check_row_stride(where, "ropeK", rk, w.hidden_k, &w.rk_stride));
    ROPE_TRY(rope_atb_check_values(where, &w, q, k, cos, sin, seqlen, rq, rk));
    *out = w;
    return ROPE_OK;
}

rope_status rope_atb_check_values(const char *where, const rope_atb_plan *p, const rope_tensor *q,
                                  const rope_tensor *k, const rope_tensor *cos, const rope_tensor *sin,
                                  const rope_tensor *seqlen, const rope_tensor *rq, const rope_tensor *rk) {
    const rope_atb_plan w = *p; /* read, never copied out: a decode step stalled on the plan's copy */
    ROPE_TRY(rope_check_data(where, "query", q));
    ROPE_TRY(rope_check_data(where, "key", k));
    if (cos) ROPE_TRY(rope_check_data(where, "cos", cos));
    if (sin) ROPE_TRY(rope_check_data(where, "sin", sin));
    if (w.cos_format == 1) ROPE_TRY(rope_check_data(where, "seqlen", seqlen));
    ROPE_TRY(rope_check_data(where, "ropeQ", rq));
    ROPE_TRY(rope_check_data(where, "ropeK", rk));

    rope_region r_q = rope_region_of(q, w.hidden_q, w.q_stride), r_k = rope_region_of(k, w.hidden_k, w.k_stride);
    rope_region r_rq = rope_region_of(rq, w.hidden_q, w.rq_stride), r_rk = rope_region_of(rk, w.hidden_k, w.rk_stride);
    rope_region none = {NULL, 0, 0, 0}; /* on the fly: no cos / sin */
    rope_region r_c = cos ? rope_region_of(cos, w.d, w.d) : none, r_s = sin ? rope_region_of(sin, w.d, w.d) : none;
    rope_region r_l = rope_region_of(seqlen, seqlen->dims[0], seqlen->dims[0]);
    ROPE_TRY(rope_check_in_place(where, "ropeQ", &r_rq, "query", &r_q));
    ROPE_TRY(rope_check_in_place(where, "ropeK", &r_rk, "key", &r_k));
    ROPE_TRY(rope_check_disjoint(where, "ropeQ", &r_rq, "key", &r_k));
    ROPE_TRY(rope_check_disjoint(where, "ropeK", &r_rk, "query", &r_q));
    ROPE_TRY(rope_check_disjoint(where, "ropeK", &r_rk, "ropeQ", &r_rq));
    const rope_region *others[] = {&r_c, &r_s, &r_l};
    static const char *const other_names[] = {"cos", "sin", "seqlen"};
    for (int i = 0; i < 3; i++) {
        if (i == 2 && w.cos_format == 0 && !seqlen->data) break;
        ROPE_TRY(rope_check_disjoint(where, "ropeQ", &r_rq, other_names[i], others[i]));
        ROPE_TRY(rope_check_disjoint(where, "ropeK", &r_rk, other_names[i], others[i]));
    }
    if (w.cos_format == 1) ROPE_TRY(check_seqlen_values(where, &w, seqlen));
    return ROPE_OK;
}

static void stream_of(rope_stream *st, const rope_tensor *x, const rope_tensor *y, int64_t hidden, int64_t d,
                      int64_t x_stride, int64_t y_stride) {
    st->x = x->data;
    st->y = y->data;
    st->heads = (size_t)(hidden / d); /* d: the head vector's width (plan.head) */
    st->x_batch = st->y_batch = 0;
    st->x_seq = x_stride;
    st->y_seq = y_stride;
    st->x_head = st->y_head = d;
}

void rope_atb_job(const rope_atb_plan *p, const rope_tensor *q, const rope_tensor *k, const rope_tensor *cos,
                  const rope_tensor *sin, const rope_tensor *seqlen, const rope_tensor *rq, const rope_tensor *rk,
                  rope_job *out) {
    memset(out, 0, sizeof *out); /* built in place: a decode step pays for copying a finished job */
    out->shape.x_dtype = q->dtype;
    out->shape.cs_dtype = cos ? cos->dtype : q->dtype;
    out->shape.head_size = (size_t)p->head;
    out->shape.rot = (size_t)p->d;
    out->shape.pair_stride = (size_t)p->pair_stride;
    out->shape.split = p->split;
    out->shape.cos_full = 1;
    out->batch = 1;
    out->seq = (size_t)p->ntokens;
    out->n_streams = 2;
    stream_of(&out->streams[0], q, rq, p->hidden_q, p->head, p->q_stride, p->rq_stride);
    stream_of(&out->streams[1], k, rk, p->hidden_k, p->head, p->k_stride, p->rk_stride);
    rope_cossin_source *src = &out->cossin; /* the table's rows, by token or inside packed sequences */
    src->kind = ROPE_COSSIN_TABLE;
    src->cos = cos ? cos->data : NULL;
    src->sin = sin ? sin->data : NULL;
    src->table_stride = p->d;
    if (p->cos_format == 1) {
        src->positions.kind = ROPE_POS_PACKED;
        src->positions.values = seqlen->data;
        src->positions.values_dtype = seqlen->dtype;
    } else {
        src->positions.kind = ROPE_POS_TOKEN;
    }
}

rope_status rope_atb_run(rope_context *ctx, const rope_atb_plan *p, const rope_tensor *q, const rope_tensor *k,
                         const rope_tensor *cos, const rope_tensor *sin, const rope_tensor *seqlen,
                         const rope_tensor *rq, const rope_tensor *rk, const char *where, int backward) {
    rope_context *c = rope_context_resolve(ctx);
    if (rope_atb_plan_empty(p)) return ROPE_OK;
    rope_job job;
    rope_atb_job(p, q, k, cos, sin, seqlen, rq, rk, &job);
    job.cossin.backward = backward;
    job.cossin.where = where;
    return rope_engine_run(c, &job);
}
