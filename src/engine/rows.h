/* SPDX-License-Identifier: MIT */
/*
 * Cos/sin rows made while a job runs, instead of read from the caller's tables: the backward pass
 * (the tables' rows transformed) and the on-the-fly mode (rows computed from positions and
 * frequencies). The kernels are the same; only the rows they are handed differ.
 *
 * A job with a provider (rope_job.provider) is walked in chunks of tokens. For each chunk the rows of
 * its tokens are written, in the job's cos/sin dtype and layout, to a scratch table, and the chunk
 * runs as an ordinary table job on that scratch (rope_engine_walk). Chunks are a tile of tokens for
 * jobs the engine walks in tiles (the scratch then holds what the tile's table rows would), else
 * ROPE_ROWS_CHUNK tokens (tens of KiB, still in L1 or L2 when the kernel reads them).
 *
 * Backward (the vector-Jacobian product of the forward rotation, given dy it yields dx):
 *   half-width cos (ONNX): the rotation by -angle: cos kept, sin negated;
 *   full-width cos (ATB):  y[a] = x[a]cos[a] - x[b]sin[a], y[b] = x[b]cos[b] + x[a]sin[b] has the
 *       transpose gx[a] = g[a]cos[a] + g[b]sin[b], gx[b] = g[b]cos[b] - g[a]sin[a]: the forward
 *       kernel with sin'[a] = -sin[b], sin'[b] = -sin[a] (the partner's sin, negated).
 *   Negation flips the sign bit, so it is exact in every dtype: backward(g) is bitwise forward(g)
 *   with such a transformed table.
 *
 * On the fly: cos/sin(pos * inv_freq[i]) * attention, rounded to the cs dtype exactly as
 * rope_cache_fill rounds (cache/round.h), so the result is bitwise the cached operator's. See rows.c
 * for how the values are made fast and still equal to the cache's.
 */
#ifndef ROPE_ENGINE_ROWS_H
#define ROPE_ENGINE_ROWS_H

#include <stddef.h>
#include <stdint.h>

#include "engine.h"

enum { ROPE_ROWS_CHUNK = 64 };

/* The frequencies of an on-the-fly job (fly.c makes them). */
typedef struct rope_fly_freqs {
    int64_t half;     /* pairs: rotary_dim / 2 */
    const double *inv; /* [half] inverse frequencies */
    double attention;  /* multiplies cos and sin */
    /* Positions per anchor block, and the table of cos/sin(j * inv[i]) for j < block: [j][i] cos,
     * [j][half + i] sin. block 0: no table, every value comes from rope_angle_sincos directly. */
    size_t block;
    const double *step;
} rope_fly_freqs;

/* What a job with a provider reads instead of its tables. */
typedef struct rope_cs_rows {
    const char *where;          /* the public function, for the out-of-memory message */
    int backward;               /* transform rows for the backward pass (see above) */
    /* NULL: rows are the job's table rows (job->cos/sin, job->rows). Otherwise the values are
     * computed, and job->rows (with row_data, row_starts) gives each token's position instead. */
    const rope_fly_freqs *fly;
} rope_cs_rows;

typedef struct rope_rows_scratch rope_rows_scratch;

/* Allocates the scratch of `slots` concurrently running walks (the threads a run may use);
 * `values` is the context's build of the value block (NULL: the portable one).
 * Errors: ROPE_ERROR_OUT_OF_MEMORY (message prefixed by the provider's `where`). */
rope_status rope_rows_begin(const rope_job *job, size_t slots, rope_fly_values_fn values, rope_rows_scratch **out);

/* Rotates the job's rows [u0, u1) (row = token * heads_per_token + head), as the engine's own walk
 * does, with rows made per chunk. Safe to call from `slots` threads at once. */
void rope_rows_walk(rope_rows_scratch *scratch, const rope_job *job, rope_rows_fn fn, size_t heads_per_token,
                    size_t u0, size_t u1);

/* Frees the scratch. NULL is a no-op. */
void rope_rows_end(rope_rows_scratch *scratch);

#endif
