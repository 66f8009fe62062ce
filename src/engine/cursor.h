/* SPDX-License-Identifier: MIT */
/* The row of consecutive tokens of a job, walked from a starting token: the cos/sin table row, or,
 * for a job whose rows are made on the fly (rows.h), the token's position. Packed sequences are
 * followed incrementally, so a token costs O(1) however many sequences there are. Shared by the
 * engine's walk and the row provider's. */
#ifndef ROPE_ENGINE_CURSOR_H
#define ROPE_ENGINE_CURSOR_H

#include "../core/internal.h"
#include "engine.h"

typedef struct rope_row_cursor {
    const rope_job *job;
    size_t token; /* the next token */
    size_t idx;   /* BY_SEQLEN: the sequence holding `token`; BY_BATCH: its batch row */
    size_t base;  /* BY_SEQLEN: the token that starts that sequence; BY_BATCH: `token`'s s */
    size_t end;   /* BY_SEQLEN: the token that ends it */
} rope_row_cursor;

static inline size_t rope_cursor_seqlen(const rope_job *job, size_t i) {
    return (size_t)rope_seqlen_value(job->row_data, job->row_dtype, i); /* checked >= 0 */
}

static inline void rope_cursor_start(rope_row_cursor *c, const rope_job *job, size_t token) {
    c->job = job;
    c->token = token;
    c->idx = c->base = c->end = 0;
    if (job->rows == ROPE_ROW_BY_BATCH && token) c->idx = token / job->seq, c->base = token % job->seq;
    if (job->rows != ROPE_ROW_BY_SEQLEN) return;
    /* The front end checked that the seqlen values add up to the token count. */
    for (;;) {
        c->end = c->base + rope_cursor_seqlen(job, c->idx);
        if (token < c->end) return;
        c->base = c->end;
        c->idx++;
    }
}

static inline size_t rope_cursor_next(rope_row_cursor *c) {
    size_t t = c->token++;
    const rope_job *job = c->job;
    switch (job->rows) {
    case ROPE_ROW_BY_ID64: return (size_t)((const int64_t *)job->row_data)[t];
    case ROPE_ROW_BY_SEQLEN:
        while (t >= c->end) { /* skips empty sequences too */
            c->base = c->end;
            c->end += rope_cursor_seqlen(job, ++c->idx);
        }
        return (job->row_starts ? (size_t)job->row_starts[c->idx] : 0) + (t - c->base);
    case ROPE_ROW_BY_BATCH: {
        size_t r = (size_t)job->row_starts[c->idx] + c->base;
        if (++c->base == job->seq) c->base = 0, c->idx++;
        return r;
    }
    case ROPE_ROW_IS_TOKEN: break;
    }
    return t;
}

#endif
