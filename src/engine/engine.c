/* Walks the tokens of a job, finds each token's cos/sin row, and hands its heads to the kernel. */
#include "engine.h"

#include "../core/context.h"

/* The cos/sin row of tokens, walked in order from a starting token. Packed sequences (seqlen) are
 * followed incrementally so a token costs O(1) however many sequences there are. */
typedef struct row_cursor {
    const rope_job *job;
    size_t token;    /* the next token */
    size_t seq_idx;  /* ROPE_ROW_BY_SEQLEN: the sequence holding `token` */
    size_t seq_end;  /* ... and the token that ends it */
    size_t seq_base; /* ... and the token that starts it */
} row_cursor;

static size_t seqlen_at(const rope_job *job, size_t i) {
    if (job->row_dtype == ROPE_U32) return ((const uint32_t *)job->row_data)[i];
    return (size_t)((const int32_t *)job->row_data)[i];
}

static void cursor_start(row_cursor *c, const rope_job *job, size_t token) {
    c->job = job;
    c->token = token;
    c->seq_idx = c->seq_base = c->seq_end = 0;
    if (job->rows != ROPE_ROW_BY_SEQLEN) return;
    /* The front end checked that the seqlen values add up to the token count. */
    for (;;) {
        c->seq_end = c->seq_base + seqlen_at(job, c->seq_idx);
        if (token < c->seq_end) return;
        c->seq_base = c->seq_end;
        c->seq_idx++;
    }
}

static size_t cursor_next(row_cursor *c) {
    size_t t = c->token++;
    switch (c->job->rows) {
    case ROPE_ROW_BY_ID64: return (size_t)((const int64_t *)c->job->row_data)[t];
    case ROPE_ROW_BY_SEQLEN:
        while (t >= c->seq_end) { /* skips empty sequences too */
            c->seq_base = c->seq_end;
            c->seq_end += seqlen_at(c->job, ++c->seq_idx);
        }
        return t - c->seq_base;
    case ROPE_ROW_IS_TOKEN: break;
    }
    return t;
}

/* Rotates tokens [first, last) of the job. */
static void run_tokens(const rope_job *job, rope_rows_fn fn, size_t first, size_t last) {
    size_t cs_size = rope_dtype_size(job->shape.cs_dtype);
    size_t es = rope_dtype_size(job->shape.x_dtype);
    row_cursor cur;
    cursor_start(&cur, job, first);
    for (size_t t = first; t < last; t++) {
        size_t b = t / job->seq, s = t % job->seq;
        size_t row = cursor_next(&cur);
        ptrdiff_t off = (ptrdiff_t)row * job->cs_row_stride * (ptrdiff_t)cs_size;
        const void *c = (const char *)job->cos + off;
        const void *sn = (const char *)job->sin + off;
        for (size_t k = 0; k < job->n_streams; k++) {
            const rope_stream *st = &job->streams[k];
            ptrdiff_t xo = ((ptrdiff_t)b * st->x_batch + (ptrdiff_t)s * st->x_seq) * (ptrdiff_t)es;
            ptrdiff_t yo = ((ptrdiff_t)b * st->y_batch + (ptrdiff_t)s * st->y_seq) * (ptrdiff_t)es;
            fn(&job->shape, (const char *)st->x + xo, st->x_head, (char *)st->y + yo, st->y_head, st->heads,
                   c, sn);
        }
    }
}

rope_status rope_engine_run(rope_context *ctx, const rope_job *job) {
    size_t tokens = job->batch * job->seq;
    if (tokens == 0) return ROPE_OK;
    run_tokens(job, rope_kernels_select(ctx->kernels, &job->shape), 0, tokens);
    return ROPE_OK;
}
