/* SPDX-License-Identifier: MIT */
/*
 * The one engine both front ends drive. A job is a set of tokens (batch x seq), each carrying the
 * head vectors of one or two streams (ONNX: X; ATB: query and key), all rotated with the token's
 * cos/sin row. The front ends validate everything; the engine trusts the job.
 */
#ifndef ROPE_ENGINE_H
#define ROPE_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "../kernels/kernel.h"
#include "../core/pool.h"

/* Where a token's head vectors live. Strides are in elements of the stream's dtype: token (b, s)
 * head n starts at x + b*x_batch + s*x_seq + n*x_head. */
typedef struct rope_stream {
    const void *x;
    void *y;
    ptrdiff_t x_batch, x_seq, x_head;
    ptrdiff_t y_batch, y_seq, y_head;
    size_t heads;
} rope_stream;

/* How token t = b*seq + s finds its cos/sin row. */
typedef enum rope_row_source {
    ROPE_ROW_IS_TOKEN,  /* row t */
    ROPE_ROW_BY_ID64,   /* row ids[t] (int64) */
    ROPE_ROW_BY_SEQLEN, /* row t - (sum of seqlen before t's sequence), plus row_starts[sequence] when
                           given; seqlen i32 or u32 */
    ROPE_ROW_BY_BATCH,  /* row row_starts[b] + s (on the fly: a start position per batch row) */
} rope_row_source;

typedef struct rope_job {
    rope_kernel_shape shape;
    size_t batch, seq;
    rope_stream streams[2];
    size_t n_streams;
    const void *cos, *sin;
    ptrdiff_t cs_row_stride; /* elements of cs_dtype between consecutive cos/sin rows */
    rope_row_source rows;
    const void *row_data;    /* ids (i64) or seqlen values */
    rope_dtype row_dtype;    /* ROPE_I64 for ids, ROPE_I32 / ROPE_U32 for seqlen */
    const int64_t *row_starts; /* BY_SEQLEN: added per sequence (NULL: none); BY_BATCH: per batch row */
    /* NULL: cos/sin rows are read from the tables above. Otherwise rows are made per chunk of
     * tokens, for the backward pass or on the fly (rows.h). */
    const struct rope_cs_rows *provider;
} rope_job;

/*
 * Runs the job with ctx's kernels and threads. The work is the job's (token, head) rows, cut into
 * contiguous blocks (whole tokens when there are enough of them, else head ranges inside tokens);
 * a head vector is never split, so every thread count gives bitwise the same output. A job moving
 * fewer than rope_engine_tune.parallel_min_bytes runs on the calling thread without touching the
 * pool. Sets shape.nontemporal on its copy of the shape when the output is far beyond the
 * last-level cache and no output is its own input.
 */
rope_status rope_engine_run(rope_context *ctx, const rope_job *job);

/* Rotates the rows [u0, u1) of a table job (row = token * heads_per_token + head) on the calling
 * thread: the engine's own walk, for rows.c, which runs each chunk as a table job. */
void rope_engine_walk(const rope_job *job, rope_rows_fn fn, size_t heads_per_token, size_t u0, size_t u1);

/* The tokens of a tile when the engine walks `job` in tiles (heads far apart in memory), else 0. */
size_t rope_engine_tile_tokens(const rope_job *job);

/* Runs fn(arg, i, parts) for i in [0, parts) with the threads ctx would give a job moving `bytes`
 * bytes (on the calling thread alone when that is below the threshold); parts is at least 1 and at
 * most max_parts. For work outside jobs that must be split exactly like a job (the benchmark's copy
 * baseline). */
void rope_engine_parallel(rope_context *ctx, size_t bytes, size_t max_parts, rope_pool_fn fn, void *arg);

/* The engine's thresholds, in bytes; the defaults are measured (see engine.c). Internal: tests and
 * the benchmark may change them while no call is running. */
typedef struct rope_engine_tuning {
    size_t parallel_min_bytes;    /* below this a job runs on the calling thread */
    size_t part_min_bytes;        /* blocks are at least this large (fewer blocks otherwise) */
    size_t parts_per_thread;      /* blocks per thread (claimed dynamically, so a busy core does fewer) */
    size_t nontemporal_min_bytes; /* output bytes from which stores stream; 0: from the LLC size */
    size_t tile_tokens;           /* tokens per tile of a job whose heads are far apart; 0: auto */
} rope_engine_tuning;

extern rope_engine_tuning rope_engine_tune;

/* The output size from which jobs use non-temporal stores (resolves nontemporal_min_bytes 0). */
size_t rope_engine_nontemporal_bytes(void);

#endif
