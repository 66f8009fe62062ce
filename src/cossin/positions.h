/* SPDX-License-Identifier: MIT */
/*
 * Each token's position: the cos/sin table row it reads, or, on the fly, the position its angles are
 * computed from. Tokens are numbered t = b*seq + s across a job's batch rows; a cursor walks
 * consecutive tokens from any starting one, and follows packed sequences incrementally, so a token
 * costs O(1) however many sequences there are.
 */
#ifndef ROPE_COSSIN_POSITIONS_H
#define ROPE_COSSIN_POSITIONS_H

#include <stddef.h>
#include <stdint.h>

#include "../core/internal.h"

typedef enum rope_position_kind {
    ROPE_POS_TOKEN,       /* t - first_token: consecutive tokens, consecutive positions */
    ROPE_POS_LIST_I64,    /* values[t], int64 */
    ROPE_POS_LIST_I32,    /* values[t], int32 */
    ROPE_POS_PACKED,      /* t minus the first token of its packed sequence (lengths in values, i32 or
                             u32, adding up to the token count), plus starts[sequence] when given */
    ROPE_POS_BATCH_START  /* starts[b] + s */
} rope_position_kind;

typedef struct rope_positions {
    rope_position_kind kind;
    const void *values;    /* LIST: the positions; PACKED: the sequence lengths */
    rope_dtype values_dtype; /* PACKED: ROPE_I32 or ROPE_U32 */
    const int64_t *starts; /* PACKED: an offset per sequence (NULL: none); BATCH_START: per batch row */
    size_t first_token;    /* TOKEN: the token at position 0 */
} rope_positions;

typedef struct rope_position_cursor {
    const rope_positions *pos;
    size_t token; /* the next token */
    size_t seq;   /* tokens per batch row */
    size_t idx;   /* PACKED: the sequence holding `token`; BATCH_START: its batch row */
    size_t base;  /* PACKED: the token that starts that sequence; BATCH_START: `token`'s s */
    size_t end;   /* PACKED: the token that ends it */
} rope_position_cursor;

static inline size_t rope_packed_length(const rope_positions *pos, size_t i) {
    return (size_t)rope_seqlen_value(pos->values, pos->values_dtype, i); /* checked >= 0 */
}

/* A cursor at `token` of a job with `seq` tokens per batch row. */
static inline void rope_cursor_start(rope_position_cursor *c, const rope_positions *pos, size_t seq, size_t token) {
    c->pos = pos;
    c->token = token;
    c->seq = seq;
    c->idx = c->base = c->end = 0;
    if (pos->kind == ROPE_POS_BATCH_START && token) {
        c->idx = token / seq;
        c->base = token % seq;
    }
    if (pos->kind != ROPE_POS_PACKED) return;
    for (;;) { /* the front end checked that the lengths add up to the token count */
        c->end = c->base + rope_packed_length(pos, c->idx);
        if (token < c->end) return;
        c->base = c->end;
        c->idx++;
    }
}

/* The position of the cursor's token; the cursor moves to the next token. */
static inline size_t rope_cursor_next(rope_position_cursor *c) {
    size_t t = c->token++;
    const rope_positions *pos = c->pos;
    switch (pos->kind) {
    case ROPE_POS_LIST_I64: return (size_t)((const int64_t *)pos->values)[t];
    case ROPE_POS_LIST_I32: return (size_t)((const int32_t *)pos->values)[t];
    case ROPE_POS_PACKED:
        while (t >= c->end) { /* skips empty sequences too */
            c->base = c->end;
            c->end += rope_packed_length(pos, ++c->idx);
        }
        return (pos->starts ? (size_t)pos->starts[c->idx] : 0) + (t - c->base);
    case ROPE_POS_BATCH_START: {
        size_t r = (size_t)pos->starts[c->idx] + c->base;
        if (++c->base == c->seq) c->base = 0, c->idx++;
        return r;
    }
    case ROPE_POS_TOKEN: break;
    }
    return t - pos->first_token;
}

#endif
