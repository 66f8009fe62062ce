/* SPDX-License-Identifier: MIT */
/*
 * The one engine the front ends drive. A job is a set of tokens (batch x seq), each carrying the
 * head vectors of one or two streams (ONNX: X; ATB and vLLM: query and key), all rotated with the
 * token's cos/sin row, which the job's cos/sin source gives (cossin/source.h). The front ends
 * validate everything, positions included; the engine trusts the job.
 */
#ifndef ROPE_ENGINE_H
#define ROPE_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "../cache/axes.h"
#include "../cossin/fly.h"
#include "../cossin/source.h"
#include "../kernels/kernel.h"
#include "context.h"

/* A paged cache a stream's heads are also written to (the per-token destination of the KV-cache
 * write): token t's head h, as the stream stored it (its y, or its x for a store-only stream), goes
 * to slot s = slots[t] (nothing when s < 0) at element
 *     (s / block_size) * block_stride + (s % block_size) * slot_stride + h * head_stride
 * of base, in `dtype`: the stream's own dtype (a copy) or fp8 (value / scale, core/fp8.h). */
typedef struct rope_slot_store {
    void *base;
    rope_dtype dtype;
    float scale;
    const void *slots;
    rope_dtype slots_dtype; /* i64 or i32 */
    int64_t block_size;
    ptrdiff_t block_stride, slot_stride, head_stride;
} rope_slot_store;

/* Where a token's head vectors live. Strides are in elements of the stream's dtype: token (b, s)
 * head n starts at x + b*x_batch + s*x_seq + n*x_head. */
typedef struct rope_stream {
    const void *x;
    void *y;
    ptrdiff_t x_batch, x_seq, x_head;
    ptrdiff_t y_batch, y_seq, y_head;
    size_t heads;
    /* The composable parts of a stream (all zero: rotate x into y). */
    const float *norm_weight;     /* transform: RMSNorm with these head_size weights before the rotation */
    int store_only;               /* no rotation and no y: the heads go to `cache` only (the value) */
    const rope_slot_store *cache; /* store: also to each token's slot of a paged cache */
} rope_stream;

/* The pairs-to-halves layout's permutation piece (kernels/permute.c) around the rotation: the
 * forward rotates adjacent pairs and then moves them to halves; the backward (its transpose) moves
 * halves back to pairs first and rotates those in place. */
typedef enum rope_permute {
    ROPE_PERMUTE_NONE = 0,
    ROPE_PERMUTE_PAIRS_TO_HALVES = 1, /* after the rotation, in y */
    ROPE_PERMUTE_HALVES_TO_PAIRS = 2  /* before it: x's heads to y, then y rotated in place */
} rope_permute;

typedef struct rope_job {
    rope_kernel_shape shape;
    rope_permute permute; /* streams with the rotation only: no norm, store-only or cache part */
    size_t batch, seq;
    rope_stream streams[3];
    size_t n_streams;
    float eps;                 /* the RMSNorm epsilon of streams with norm_weight */
    rope_cossin_source cossin; /* where each token's cos/sin row comes from (cossin/source.h) */
} rope_job;

/*
 * Runs the job with ctx's kernels and threads. The work is the job's head vectors (token t, head h
 * numbered t * heads + h), cut into contiguous blocks (whole tokens when there are enough of them,
 * else head ranges inside tokens);
 * a head vector is never split, so every thread count gives bitwise the same output. A job moving
 * fewer than rope_engine_tune.parallel_min_bytes runs on the calling thread without touching the
 * pool. Sets shape.nontemporal on its copy of the shape when the output is far beyond the
 * last-level cache and no output is its own input. A source that writes its rows gets a scratch per
 * thread, allocated before anything is written. Errors: OUT_OF_MEMORY (that scratch).
 */
rope_status rope_engine_run(rope_context *ctx, const rope_job *job);

/* Runs a fully checked job whose cos/sin rows are computed on the fly from its positions: makes the
 * call's frequency tables from `plan` (their errors are reported even when `job` is NULL, a call with
 * nothing to rotate), sets the job's source (forward, or backward when `backward`) and runs it.
 * Errors: those of rope_fly_freqs_make and rope_engine_run. */
rope_status rope_engine_run_fly(const char *where, rope_context *ctx, const rope_freq_plan *plan, int64_t max_pos,
                                rope_job *job, int backward);

/* Runs a fully checked job whose rows are computed on the fly from multi-axis positions: `fp` a
 * loaded and checked rope_fly_axes (cache/axes.h, its positions' rows set), whose frequencies and
 * coordinates are made and checked here, as rope_engine_run_fly makes its tables, so that their
 * errors are reported even when `job` is NULL (a call with nothing to rotate); token t reads
 * coordinate row t % rows. Makes the per-axis tables, sets the job's source and runs it.
 * Errors: those of rope_fly_axes_freqs, OUT_OF_MEMORY. */
rope_status rope_engine_run_fly_axes(const char *where, rope_context *ctx, const rope_fly_axes_plan *fp, rope_job *job,
                                     int backward);

/* The engine's thresholds, in bytes; the defaults are measured (see engine.c). Internal: tests and
 * the benchmark may change them while no call is running. */
typedef struct rope_engine_tuning {
    size_t parallel_min_bytes;     /* below this a job runs on the calling thread */
    size_t part_min_bytes;         /* blocks are at least this large (fewer blocks otherwise) */
    size_t parts_per_thread;       /* blocks per thread (claimed dynamically, so a busy core does fewer) */
    size_t nontemporal_min_bytes;  /* output bytes from which stores stream; 0: from the LLC size */
    size_t tile_tokens;            /* tokens per tile of a job whose heads are far apart; 0: auto */
    size_t cache_stream_min_bytes; /* cache bytes a call writes from which its cache stores stream */
} rope_engine_tuning;

extern rope_engine_tuning rope_engine_tune;

/* The output size from which jobs use non-temporal stores (resolves nontemporal_min_bytes 0). */
size_t rope_engine_nontemporal_bytes(void);

#endif
