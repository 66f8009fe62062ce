/* SPDX-License-Identifier: MIT */
/*
 * `rope bench`'s floor: a minimal hand-written loop of the rotation a row times, on the instruction
 * set the library's context uses and the same bytes (the case's buffers, the same positions):
 * load, widen, multiply with cos/sin, add, narrow, store. No checks, no dispatch per call, no tails,
 * no streaming stores, no prefetch. A kernel whose time is close to its loop's has no overhead left
 * to find; a loop far slower than a copy says the arithmetic (the conversions) binds.
 *
 * It computes what kernels/kernel.h specifies (f32 products rounded, one add, one rounding to the
 * data's dtype), so its output is bitwise the library's, except bf16 narrowed by vcvtneps2bf16,
 * which reads subnormal float32 results as zero (the library fixes those lanes up; the loop does not,
 * as a floor should not): tests/tools/test_bench_loops.c checks both.
 */
#ifndef ROPE_TOOL_BENCH_LOOPS_H
#define ROPE_TOOL_BENCH_LOOPS_H

#include <stddef.h>
#include <stdint.h>

#include "rope.h"

/* One stream of head vectors (ONNX: X; ATB and vLLM: query or key), read at x, written at y. */
typedef struct bench_loop_stream {
    const void *x;
    void *y;
    size_t heads;
    ptrdiff_t head_stride;  /* elements from a token's head to its next head */
    ptrdiff_t token_stride; /* elements from a head's token to its next token */
} bench_loop_stream;

/* The whole rotation: every head vector rotated over its full width (rot = head_size). */
typedef struct bench_loop_job {
    rope_dtype x_dtype, cs_dtype;
    size_t head_size;
    size_t pair_stride; /* head_size / 2 (halves, GPT-NeoX) or 1 (interleaved, GPT-J) */
    int cos_full;       /* 1: a cos/sin value per element (ATB; halves only); 0: one per pair */
    size_t tokens;
    const int64_t *positions; /* token t uses cos/sin row positions[t]; NULL: row t */
    const void *cos, *sin;    /* row r at cos + r * cs_row_stride (elements of cs_dtype) */
    size_t cs_row_stride;
    int heads_outer; /* 1: walk head by head, a head's tokens in order (ONNX 4-D, one stream) */
    bench_loop_stream s[2];
    int n_streams;
} bench_loop_job;

/* Which loop runs: the instruction set's own, or the portable C loop where the set has none (NEON,
 * scalar, a shape whose halves are not whole vectors). */
typedef enum bench_loop_kind {
    BENCH_LOOP_NONE = 0, /* the row has no loop (on the fly, backward, MRoPE, the prologue) */
    BENCH_LOOP_C = 1,
    BENCH_LOOP_AVX2 = 2,       /* AVX2 + F16C; bf16 narrowed in integer arithmetic */
    BENCH_LOOP_AVX512 = 3,     /* AVX-512 F/BW/VL + F16C; bf16 narrowed in integer arithmetic */
    BENCH_LOOP_AVX512BF16 = 4, /* as AVX512, bf16 narrowed by vcvtneps2bf16 */
} bench_loop_kind;

/* "-", "c", "avx2", "avx512", "avx512bf16". */
const char *bench_loop_name(bench_loop_kind k);

/* The loop for `job` on the library's instruction set `isa` (rope_context_isa): the set's own when
 * this build has it and the job's shape fits its vectors, else the C loop. native_bf16 (1: the CPU
 * has AVX512_BF16, bench_loop_cpu_has_bf16) picks vcvtneps2bf16 for bf16 data on AVX-512. */
bench_loop_kind bench_loop_pick(const bench_loop_job *job, rope_isa isa, int native_bf16);

/* 1 when this build has the vcvtneps2bf16 loop and the running CPU has AVX512_BF16. */
int bench_loop_cpu_has_bf16(void);

/* The units of work a job splits into: head vectors (heads_outer) or tokens. */
size_t bench_loop_units(const bench_loop_job *job);

/* Runs units [part * n / parts, (part + 1) * n / parts) of the job with loop `k` (not NONE). */
void bench_loop_run(bench_loop_kind k, const bench_loop_job *job, size_t part, size_t parts);

/* The per-set builds (bench_loops_<set>.c): units [lo, hi); 1 when they ran, 0 where the build has
 * no such set or the loop no such dtype pair (so an empty range asks whether it would run). */
int bench_loop_avx2(const bench_loop_job *job, size_t lo, size_t hi);
int bench_loop_avx512(const bench_loop_job *job, size_t lo, size_t hi);
int bench_loop_avx512bf16(const bench_loop_job *job, size_t lo, size_t hi);

#endif
