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
    ROPE_ROW_BY_SEQLEN, /* row t - (sum of seqlen before t's sequence); seqlen i32 or u32 */
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
    size_t row_count;        /* number of seqlen values */
} rope_job;

/* Runs the job with ctx's kernels. */
rope_status rope_engine_run(rope_context *ctx, const rope_job *job);

#endif
