/* SPDX-License-Identifier: MIT */
/*
 * The one answer to "where do these tokens' cos/sin rows come from".
 *
 * The engine walks a job in chunks of consecutive tokens and asks the job's source for a view of
 * the chunk's rows: for each token, in order, a row of cos values and a row of sin values in the
 * layout the kernel reads (half width: one value per pair; full width: one per element).
 *   - A table source (kind TABLE, forward) hands out pointers into the caller's tables: a token's
 *     row is the table row at its position. Nothing is copied.
 *   - Every other source writes the chunk's rows into a per-thread scratch first: the backward pass
 *     (table rows transformed, backward_rows.c), on the fly (rows computed from positions and
 *     frequencies, fly_rows.c).
 * A source never calls the engine, and the kernels never know which source made their rows.
 */
#ifndef ROPE_COSSIN_SOURCE_H
#define ROPE_COSSIN_SOURCE_H

#include <stddef.h>
#include <stdint.h>

#include "../kernels/kernel.h"
#include "positions.h"

typedef enum rope_cossin_kind {
    ROPE_COSSIN_TABLE, /* rows of the caller's cos and sin tables, at each token's position */
    ROPE_COSSIN_FLY    /* rows computed from each token's position (fly_rows.c) */
} rope_cossin_kind;

struct rope_fly_freqs;
struct rope_fly_axes_rows;

/* Multimodal RoPE (MRoPE, mrope_rows.c): the rotary pairs are split among `axes` position axes
 * (time, height, width, ...), and pair j reads its values at the position its axis gives the token.
 * Contiguous sections: pairs [s_0 + .. + s_{a-1}, s_0 + .. + s_a) belong to axis a. Interleaved
 * (Qwen3-VL, 3 axes): axis 1 when j % 3 == 1 and j < 3*s_1, axis 2 when j % 3 == 2 and j < 3*s_2,
 * else axis 0. Half-width rows only (one value per pair). */
typedef struct rope_mrope {
    int axes;                /* 3 or 4 */
    int interleaved;
    int64_t section[4];      /* summing to rot / 2 */
    rope_positions axis[4];  /* each axis's positions of the job's tokens */
} rope_mrope;

typedef struct rope_cossin_source {
    rope_cossin_kind kind;
    rope_positions positions;     /* each token's position */
    int backward;                 /* the rows of the backward pass (backward_rows.c) */
    const void *cos, *sin;        /* TABLE: the tables, in the shape's cos dtype */
    ptrdiff_t table_stride;       /* TABLE: elements between the starts of consecutive table rows */
    const struct rope_fly_freqs *fly; /* FLY: the call's frequencies */
    const struct rope_fly_axes_rows *axes; /* FLY with multi-axis positions (fly_axes.c): each token's
                                              coordinates and each axis's frequencies (`fly` and
                                              `positions` are then not read) */
    const char *where;            /* the public function, for the out-of-memory message */
    const rope_mrope *mrope;      /* NULL, or MRoPE: each pair's row at its axis's position (a table or
                                     on the fly; `positions` is then not read) */
} rope_cossin_source;

/* The rows of a chunk of tokens: token i's row index comes from `rows`, its cos row starts at
 * cos + index * row_bytes (sin likewise). */
typedef struct rope_cossin_view {
    const char *cos, *sin;
    size_t row_bytes;
    rope_position_cursor rows;
    rope_positions chunk; /* a scratch view's indices: token minus the chunk's first token */
} rope_cossin_view;

/* 1 when the source writes its rows into a scratch (anything but the forward table source). */
static inline int rope_cossin_needs_scratch(const rope_cossin_source *src) {
    return src->kind != ROPE_COSSIN_TABLE || src->backward || src->mrope;
}

/* The table view at token `token` of a job with `seq` tokens per batch row: the forward table source
 * needs no scratch and no chunks, so the engine's walk of a table job is this view and a cursor. */
static inline void rope_cossin_table_view(const rope_cossin_source *src, const rope_kernel_shape *shape, size_t seq,
                                          size_t token, rope_cossin_view *v) {
    v->cos = (const char *)src->cos;
    v->sin = (const char *)src->sin;
    v->row_bytes = (size_t)src->table_stride * rope_dtype_bytes(shape->cs_dtype);
    rope_cursor_start(&v->rows, &src->positions, seq, token);
}

/* Tokens per chunk of a source that writes its rows, unless the engine walks the job in tiles. */
enum { ROPE_COSSIN_CHUNK = 64 };

typedef struct rope_cossin_scratch rope_cossin_scratch;
typedef struct rope_cossin_slot rope_cossin_slot;

/* Allocates the scratch of `slots` walks that may run at once (the threads of a run), each holding
 * the rows of `chunk` tokens; `isa` picks the build of the on-the-fly value block. Called before
 * anything is written. Errors: OUT_OF_MEMORY (the message prefixed by src->where). */
rope_status rope_cossin_scratch_create(const rope_cossin_source *src, const rope_kernel_shape *shape, size_t chunk,
                                       size_t slots, rope_isa isa, rope_cossin_scratch **out);

/* Frees the scratch. NULL is a no-op. */
void rope_cossin_scratch_free(rope_cossin_scratch *sc);

/* The tokens one scratch slot holds. */
size_t rope_cossin_chunk_tokens(const rope_cossin_scratch *sc);

/* A slot no other walk is using (one is free: at most `slots` walks run at once), and its return. */
rope_cossin_slot *rope_cossin_claim(rope_cossin_scratch *sc);
void rope_cossin_release(rope_cossin_scratch *sc, rope_cossin_slot *slot);

/* Writes the rows of tokens [token, token + n) (n <= the chunk) into `slot` and points `v` at them. */
void rope_cossin_fill(const rope_cossin_source *src, const rope_kernel_shape *shape, size_t seq,
                      rope_cossin_slot *slot, size_t token, size_t n, rope_cossin_view *v);

#endif
