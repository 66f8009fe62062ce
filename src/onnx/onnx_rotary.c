/* SPDX-License-Identifier: MIT */
/* ONNX RotaryEmbedding-23 front end: validates the node's tensors and maps them onto an engine job. */
#include <string.h>

#include "../core/check.h"
#include "../core/try.h"
#include "../engine/context.h"
#include "../engine/engine.h"
#include "onnx_rotary.h"

static const rope_dtype float_types[] = {ROPE_F32, ROPE_F16, ROPE_BF16};

rope_status rope_onnx_check_attrs(const char *where, const rope_onnx_attrs *a) {
    if (a->interleaved < ROPE_ONNX_HALVES || a->interleaved > ROPE_ONNX_HALVES_SPLIT)
        return rope_fail(ROPE_ERROR_ATTRIBUTE, where,
                         "interleaved: expected 0 or 1 (ONNX), or librope's 2 (ROPE_ONNX_PAIRS_TO_HALVES) or 3 "
                         "(ROPE_ONNX_HALVES_SPLIT), found %lld",
                         (long long)a->interleaved);
    if (a->rotary_embedding_dim < 0 || a->rotary_embedding_dim % 2 != 0)
        return rope_fail(ROPE_ERROR_ATTRIBUTE, where, "rotary_embedding_dim: expected 0 or an even number > 0, found %lld",
                         (long long)a->rotary_embedding_dim);
    if (a->num_heads < 0)
        return rope_fail(ROPE_ERROR_ATTRIBUTE, where, "num_heads: expected >= 0, found %lld", (long long)a->num_heads);
    return ROPE_OK;
}

/* The checks of plan_shapes; `fly` (on-the-fly mode: no caches, no ids) skips those of the caches. */
static rope_status plan(const char *where, const rope_onnx_attrs *attrs_in, const rope_tensor *x,
                        const rope_tensor *cos, const rope_tensor *sin, const rope_tensor *ids, int fly,
                        rope_onnx_plan *p) {
    static const rope_onnx_attrs defaults = {0, 0, 0};
    const rope_onnx_attrs *attrs = attrs_in ? attrs_in : &defaults;
    ROPE_TRY(rope_check_tensor(where, "X", x));
    if (!fly) {
        ROPE_TRY(rope_check_tensor(where, "cos_cache", cos));
        ROPE_TRY(rope_check_tensor(where, "sin_cache", sin));
        if (ids) ROPE_TRY(rope_check_tensor(where, "position_ids", ids));
    }

    ROPE_TRY(rope_check_dtype(where, "X", x, float_types, 3));
    ROPE_TRY(rope_check_rank(where, "X", x, 4, 3, "[batch, heads, seq, head_size] or [batch, seq, hidden]"));
    /* The attributes alone were checked by the caller (rope_onnx_check_attrs): here only what
     * depends on X. */
    memset(p, 0, sizeof *p);
    p->batch = x->dims[0];
    if (x->rank == 4) {
        p->heads = x->dims[1];
        p->seq = x->dims[2];
        p->head_size = x->dims[3];
    } else {
        if (attrs->num_heads <= 0)
            return rope_fail(ROPE_ERROR_ATTRIBUTE, where, "num_heads: expected > 0 for 3-D X, found %lld",
                             (long long)attrs->num_heads);
        p->seq = x->dims[1];
        p->heads = attrs->num_heads;
        if (x->dims[2] % p->heads != 0)
            return rope_fail(ROPE_ERROR_SHAPE, where, "X dim 2: expected a multiple of num_heads %lld, found %lld",
                             (long long)p->heads, (long long)x->dims[2]);
        p->head_size = x->dims[2] / p->heads;
    }
    if (p->head_size % 2 != 0)
        return rope_fail(ROPE_ERROR_SHAPE, where, "head_size: expected an even number, found %lld",
                         (long long)p->head_size);
    if (attrs->rotary_embedding_dim > p->head_size)
        return rope_fail(ROPE_ERROR_ATTRIBUTE, where, "rotary_embedding_dim: expected 0..%lld (head_size), found %lld",
                         (long long)p->head_size, (long long)attrs->rotary_embedding_dim);
    p->rot = attrs->rotary_embedding_dim ? attrs->rotary_embedding_dim : p->head_size;
    p->interleaved = (int)attrs->interleaved;

    if (fly) goto rows;
    ROPE_TRY(rope_check_same_dtype(where, "cos_cache", cos, x->dtype, "same as X"));
    ROPE_TRY(rope_check_same_dtype(where, "sin_cache", sin, x->dtype, "same as X"));
    if (ids) {
        ROPE_TRY(rope_check_same_dtype(where, "position_ids", ids, ROPE_I64, "ONNX requires int64"));
        ROPE_TRY(rope_check_rank(where, "position_ids", ids, 2, 0, "[batch, seq]"));
        ROPE_TRY(rope_check_dim(where, "position_ids", ids, 0, p->batch, "batch of X"));
        ROPE_TRY(rope_check_dim(where, "position_ids", ids, 1, p->seq, "seq of X"));
        ROPE_TRY(rope_check_rank(where, "cos_cache", cos, 2, 0, "[max_pos, rotary_dim/2] with position_ids"));
        ROPE_TRY(rope_check_dim(where, "cos_cache", cos, 1, p->rot / 2, "rotary_embedding_dim/2"));
        ROPE_TRY(rope_check_dense(where, "position_ids", ids));
        p->max_pos = cos->dims[0];
    } else {
        ROPE_TRY(rope_check_rank(where, "cos_cache", cos, 3, 0, "[batch, seq, rotary_dim/2] without position_ids"));
        ROPE_TRY(rope_check_dim(where, "cos_cache", cos, 0, p->batch, "batch of X"));
        ROPE_TRY(rope_check_dim(where, "cos_cache", cos, 1, p->seq, "seq of X"));
        ROPE_TRY(rope_check_dim(where, "cos_cache", cos, 2, p->rot / 2, "rotary_embedding_dim/2"));
    }
    /* sin is compared with cos once cos is known to be right, so a message names the wrong one */
    ROPE_TRY(rope_check_same_shape(where, "cos_cache", cos, "sin_cache", sin));
    ROPE_TRY(rope_check_dense(where, "cos_cache", cos));
    ROPE_TRY(rope_check_dense(where, "sin_cache", sin));
rows:
    /* A row of X is a head vector for 4-D X and a whole token for 3-D X. */
    p->x_row = x->rank == 4 ? p->head_size : p->heads * p->head_size;
    ROPE_TRY(rope_check_row_stride(where, "X", x, p->x_row, &p->x_stride));
    return ROPE_OK;
}

rope_status rope_onnx_plan_shapes(const char *where, const rope_onnx_attrs *attrs, const rope_tensor *x,
                                  const rope_tensor *cos, const rope_tensor *sin, const rope_tensor *ids,
                                  rope_onnx_plan *p) {
    return plan(where, attrs, x, cos, sin, ids, 0, p);
}

rope_status rope_onnx_plan_fly(const char *where, const rope_onnx_attrs *attrs, const rope_tensor *x,
                               rope_onnx_plan *p) {
    return plan(where, attrs, x, NULL, NULL, NULL, 1, p);
}

rope_status rope_onnx_check_descriptors(const char *where, const char *const names[4], const rope_onnx_attrs *attrs,
                                        const rope_tensor *x, const rope_tensor *cos, const rope_tensor *sin,
                                        const rope_tensor *ids, const void *out, rope_onnx_plan *p) {
    static const rope_onnx_attrs defaults = {0, 0, 0};
    ROPE_TRY(rope_onnx_check_attrs(where, attrs ? attrs : &defaults));
    const void *const args[4] = {x, cos, sin, out};
    ROPE_TRY(rope_check_args(where, 4, names, args));
    /* The lifecycle reads a rank-0 4th input as "absent"; here absence is a NULL pointer. */
    if (ids && ids->rank == 0)
        return rope_fail(ROPE_ERROR_RANK, where, "position_ids rank: expected 2 ([batch, seq]), found 0");
    return plan(where, attrs, x, cos, sin, ids, 0, p);
}

rope_status rope_onnx_infer(const rope_onnx_attrs *attrs, const rope_tensor *x, const rope_tensor *cos,
                            const rope_tensor *sin, const rope_tensor *position_ids, rope_tensor *y_out) {
    static const char *const names[4] = {"X", "cos_cache", "sin_cache", "y_out"};
    rope_onnx_plan p;
    ROPE_TRY(rope_onnx_check_descriptors("rope_onnx_infer", names, attrs, x, cos, sin, position_ids, y_out, &p));
    rope_tensor y = *x;
    y.data = NULL;
    y.row_stride = 0;
    *y_out = y;
    return ROPE_OK;
}

rope_status rope_onnx_check_data(const char *where, const rope_onnx_plan *p, const rope_tensor *x,
                                 const rope_tensor *cos, const rope_tensor *sin, const rope_tensor *ids,
                                 const rope_tensor *y, rope_onnx_plan *out) {
    rope_onnx_plan q = *p;
    ROPE_TRY(rope_check_tensor(where, "Y", y));
    ROPE_TRY(rope_check_same_dtype(where, "Y", y, x->dtype, "same as X"));
    ROPE_TRY(rope_check_same_shape(where, "X", x, "Y", y));
    ROPE_TRY(rope_check_row_stride(where, "Y", y, q.x_row, &q.y_stride));
    ROPE_TRY(rope_onnx_check_values(where, &q, x, cos, sin, ids, y));
    *out = q;
    return ROPE_OK;
}

rope_status rope_onnx_check_values(const char *where, const rope_onnx_plan *p, const rope_tensor *x,
                                   const rope_tensor *cos, const rope_tensor *sin, const rope_tensor *ids,
                                   const rope_tensor *y) {
    const rope_onnx_plan q = *p; /* read, never copied out: a decode step stalled on the plan's copy */
    ROPE_TRY(rope_check_data(where, "X", x));
    if (cos) ROPE_TRY(rope_check_data(where, "cos_cache", cos));
    if (sin) ROPE_TRY(rope_check_data(where, "sin_cache", sin));
    if (ids) ROPE_TRY(rope_check_data(where, "position_ids", ids));
    ROPE_TRY(rope_check_data(where, "Y", y));

    rope_region ry = rope_region_of(y, q.x_row, q.y_stride);
    rope_region rx = rope_region_of(x, q.x_row, q.x_stride);
    ROPE_TRY(rope_check_in_place(where, "Y", &ry, "X", &rx));
    if (!cos) return ROPE_OK; /* on the fly: no caches */
    int64_t cw = cos->rank ? cos->dims[cos->rank - 1] : 0;
    rope_region rc = rope_region_of(cos, cw, cw), rsn = rope_region_of(sin, cw, cw);
    ROPE_TRY(rope_check_disjoint(where, "Y", &ry, "cos_cache", &rc));
    ROPE_TRY(rope_check_disjoint(where, "Y", &ry, "sin_cache", &rsn));
    if (ids) {
        rope_region ri = rope_region_of(ids, q.seq, q.seq);
        ROPE_TRY(rope_check_disjoint(where, "Y", &ry, "position_ids", &ri));
        const int64_t *v = (const int64_t *)ids->data;
        for (int64_t i = 0; i < q.batch * q.seq; i++)
            if (v[i] < 0 || v[i] >= q.max_pos)
                return rope_fail(ROPE_ERROR_INDEX, where, "position_ids[%lld][%lld] = %lld: expected in [0, %lld) (cos_cache rows)",
                                 (long long)(i / q.seq), (long long)(i % q.seq), (long long)v[i],
                                 (long long)q.max_pos);
    }
    return ROPE_OK;
}

void rope_onnx_job(const rope_onnx_plan *p, const rope_tensor *x, const rope_tensor *cos, const rope_tensor *sin,
                   const rope_tensor *ids, const rope_tensor *y, rope_job *out) {
    memset(out, 0, sizeof *out); /* built in place: a decode step pays for copying a finished job */
    out->shape.x_dtype = x->dtype;
    out->shape.cs_dtype = cos ? cos->dtype : x->dtype;
    out->shape.head_size = (size_t)p->head_size;
    out->shape.rot = (size_t)p->rot;
    /* halves (leading or split) pair at a distance, the adjacent-pair layouts (also in before halves out) at 1 */
    int halves = p->interleaved == ROPE_ONNX_HALVES || p->interleaved == ROPE_ONNX_HALVES_SPLIT;
    out->shape.pair_stride = halves ? (size_t)p->rot / 2 : 1;
    if (p->interleaved == ROPE_ONNX_HALVES_SPLIT && p->rot < p->head_size) /* full rotation: plain halves */
        out->shape.split = 1, out->shape.pair_stride = (size_t)p->head_size / 2;
    out->shape.cos_full = 0;
    out->batch = (size_t)p->batch;
    out->seq = (size_t)p->seq;
    out->n_streams = 1;
    rope_stream *st = &out->streams[0];
    st->x = x->data;
    st->y = y->data;
    st->heads = (size_t)p->heads;
    if (x->rank == 4) { /* rows are head vectors in (b, n, s) order */
        st->x_seq = p->x_stride, st->x_head = p->seq * p->x_stride, st->x_batch = p->heads * st->x_head;
        st->y_seq = p->y_stride, st->y_head = p->seq * p->y_stride, st->y_batch = p->heads * st->y_head;
    } else { /* rows are tokens in (b, s) order */
        st->x_seq = p->x_stride, st->x_head = p->head_size, st->x_batch = p->seq * p->x_stride;
        st->y_seq = p->y_stride, st->y_head = p->head_size, st->y_batch = p->seq * p->y_stride;
    }
    rope_cossin_source *src = &out->cossin; /* the table's rows, at position_ids or the token's index */
    src->kind = ROPE_COSSIN_TABLE;
    src->cos = cos ? cos->data : NULL;
    src->sin = sin ? sin->data : NULL;
    src->table_stride = p->rot / 2;
    if (ids) src->positions.kind = ROPE_POS_LIST_I64, src->positions.values = ids->data;
    else src->positions.kind = ROPE_POS_TOKEN;
}

rope_status rope_onnx_run(rope_context *ctx, const rope_onnx_plan *p, const rope_tensor *x, const rope_tensor *cos,
                          const rope_tensor *sin, const rope_tensor *ids, const rope_tensor *y, const char *where,
                          int backward) {
    rope_context *c = rope_context_resolve(ctx);
    if (rope_onnx_plan_empty(p)) return ROPE_OK;
    rope_job job;
    rope_onnx_job(p, x, cos, sin, ids, y, &job);
    rope_onnx_job_direction(p, &job, backward);
    job.cossin.where = where;
    return rope_engine_run(c, &job);
}

void rope_onnx_job_direction(const rope_onnx_plan *p, rope_job *job, int backward) {
    job->cossin.backward = backward;
    if (p->interleaved == ROPE_ONNX_PAIRS_TO_HALVES)
        job->permute = backward ? ROPE_PERMUTE_HALVES_TO_PAIRS : ROPE_PERMUTE_PAIRS_TO_HALVES;
}
