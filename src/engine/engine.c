/* SPDX-License-Identifier: MIT */
/* Walks the tokens of a job, finds each token's cos/sin row, and hands its heads to the kernel. */
#define _POSIX_C_SOURCE 200809L
#include <stdatomic.h>
#include <stdint.h>
#include <unistd.h>

#include "engine.h"
#include "cursor.h"
#include "rows.h"

#include "context.h"

/* A token's cos and sin rows. */
static void token_rows(const rope_job *job, size_t row, const void **c, const void **sn) {
    ptrdiff_t off = (ptrdiff_t)row * job->cs_row_stride * (ptrdiff_t)rope_dtype_bytes(job->shape.cs_dtype);
    *c = (const char *)job->cos + off;
    *sn = (const char *)job->sin + off;
}

/* A token as (batch, position), stepped along without a division per token. */
typedef struct token_pos {
    size_t b, s;
} token_pos;

static token_pos pos_of(const rope_job *job, size_t t) {
    token_pos p = {0, 0};
    if (t) p.b = t / job->seq, p.s = t % job->seq; /* a whole job starts at 0: no division */
    return p;
}

static void pos_next(const rope_job *job, token_pos *p) {
    if (++p->s == job->seq) p->s = 0, p->b++;
}

/* Heads [h0, h1) of the token at p (numbered across the streams: stream 0's heads, then stream
 * 1's), with cos/sin row `row`. */
static void run_token(const rope_job *job, rope_rows_fn fn, token_pos p, size_t row, size_t h0, size_t h1) {
    size_t es = rope_dtype_bytes(job->shape.x_dtype);
    const void *c, *sn;
    token_rows(job, row, &c, &sn);
    size_t first = 0; /* the token's first head in stream k */
    for (size_t k = 0; k < job->n_streams; k++) {
        const rope_stream *st = &job->streams[k];
        size_t s0 = first, s1 = first + st->heads;
        first = s1;
        size_t lo = h0 > s0 ? h0 : s0, hi = h1 < s1 ? h1 : s1;
        if (lo >= hi) continue;
        lo -= s0, hi -= s0;
        ptrdiff_t xo = (ptrdiff_t)p.b * st->x_batch + (ptrdiff_t)p.s * st->x_seq + (ptrdiff_t)lo * st->x_head;
        ptrdiff_t yo = (ptrdiff_t)p.b * st->y_batch + (ptrdiff_t)p.s * st->y_seq + (ptrdiff_t)lo * st->y_head;
        fn(&job->shape, (const char *)st->x + xo * (ptrdiff_t)es, st->x_head, (char *)st->y + yo * (ptrdiff_t)es,
           st->y_head, hi - lo, c, sn);
    }
}

/*
 * Heads far apart in memory (ONNX 4-D X, [batch, heads, seq, head_size], where a token's heads are
 * seq rows apart): a token-by-token walk handing the kernel all 32 heads of a token touches 64
 * streams (32 heads in, 32 out), more than the hardware prefetchers follow (0.55 / 0.30 of a copy
 * for f32 / f16 [1, 32, 16384, 128] on Zen). Such jobs are walked in tiles of tokens: for each head,
 * the tile's tokens in runs whose cos/sin rows follow each other (all of them for position ids
 * 0, 1, ... or no ids), each run one kernel call with the tokens as its "heads" (shape.cs_step
 * moves the cos/sin row along). The kernel sees two sequential streams (the head in and out) plus
 * the tile's cos/sin rows, which stay in L2. Against the earlier walk of two heads per call for
 * each token (a call per 256-512 bytes, half of whose instructions were call overhead under
 * callgrind), on a Xeon at [1, 32, 2048, 128], 1 thread: f32 0.79 -> 0.84, f16 0.63 -> 0.66, bf16
 * 0.58 -> 0.63 (medians of interleaved runs). The arithmetic per element is the same: same results.
 */
static int heads_far_apart(const rope_job *job) {
    size_t es = rope_dtype_bytes(job->shape.x_dtype);
    for (size_t k = 0; k < job->n_streams; k++) {
        const rope_stream *st = &job->streams[k];
        if (st->heads > 1 && ((size_t)(st->x_head < 0 ? -st->x_head : st->x_head) * es >= 4096 ||
                              (size_t)(st->y_head < 0 ? -st->y_head : st->y_head) * es >= 4096))
            return 1;
    }
    return 0;
}

/* Tokens per tile: as many as keep the tile's cos and sin rows within 512 KiB (half of L2). Longer
 * runs per head measured better up to that size (tiles of 64 tokens: 0.67 of a copy, 256: 0.76,
 * 1024 and more: 0.82-0.85 on f32 [1, 32, 16384, 128]). */
static size_t tile_tokens(const rope_job *job) {
    if (rope_engine_tune.tile_tokens) return rope_engine_tune.tile_tokens;
    size_t cs_len = rope_cs_width(&job->shape);
    size_t row = 2 * cs_len * rope_dtype_bytes(job->shape.cs_dtype);
    size_t n = row ? (512u << 10) / row : 8192;
    return n < 64 ? 64 : n > 8192 ? 8192 : n;
}

/* n whole tokens from the one at p, head by head; cursor `cur` is at that token and is left
 * n tokens further. */
static void run_tile(const rope_job *job, rope_rows_fn fn, rope_row_cursor *cur, token_pos p0, size_t n) {
    ptrdiff_t es = (ptrdiff_t)rope_dtype_bytes(job->shape.x_dtype);
    rope_kernel_shape sh = job->shape;
    sh.cs_step = job->cs_row_stride; /* a call's "heads" are consecutive tokens, each with its own row */
    rope_row_cursor start = *cur, end = *cur;
    for (size_t k = 0; k < job->n_streams; k++) {
        const rope_stream *st = &job->streams[k];
        for (size_t h = 0; h < st->heads; h++) {
            rope_row_cursor rc = start;
            token_pos p = p0;
            for (size_t i = 0; i < n;) {
                /* A run: tokens of one batch row whose cos/sin rows follow each other. */
                token_pos q = p;
                size_t row0 = rope_cursor_next(&rc), len = 1;
                pos_next(job, &p), i++;
                while (i < n && p.b == q.b) {
                    rope_row_cursor peek = rc;
                    if (rope_cursor_next(&peek) != row0 + len) break;
                    rc = peek, len++;
                    pos_next(job, &p), i++;
                }
                const void *c, *sn;
                token_rows(job, row0, &c, &sn);
                ptrdiff_t xo = (ptrdiff_t)q.b * st->x_batch + (ptrdiff_t)q.s * st->x_seq + (ptrdiff_t)h * st->x_head;
                ptrdiff_t yo = (ptrdiff_t)q.b * st->y_batch + (ptrdiff_t)q.s * st->y_seq + (ptrdiff_t)h * st->y_head;
                fn(&sh, (const char *)st->x + xo * es, st->x_seq, (char *)st->y + yo * es, st->y_seq, len, c, sn);
            }
            end = rc; /* every head's walk ends n tokens on */
        }
    }
    *cur = end;
}

/* Rotates the job's rows [u0, u1), numbering row (token t, head h) as t*H + h. A range may start
 * and end inside a token; a head vector is never cut. */
/* Rows from head h0 of token t0 up to (not including) head h1 of token t1. */
static void run_span(const rope_job *job, rope_rows_fn fn, size_t H, size_t t0, size_t h0, size_t t1, size_t h1) {
    rope_row_cursor cur;
    rope_cursor_start(&cur, job, t0);
    token_pos p = pos_of(job, t0);
    if (t0 == t1) { /* inside one token */
        run_token(job, fn, p, rope_cursor_next(&cur), h0, h1);
        return;
    }
    if (h0) {
        run_token(job, fn, p, rope_cursor_next(&cur), h0, H);
        t0++, pos_next(job, &p);
    }
    if (heads_far_apart(job)) {
        size_t tile = tile_tokens(job);
        for (size_t t = t0; t < t1; t += tile) {
            size_t n = t1 - t < tile ? t1 - t : tile;
            run_tile(job, fn, &cur, p, n);
            for (size_t i = 0; i < n; i++) pos_next(job, &p);
        }
    } else {
        for (size_t t = t0; t < t1; t++, pos_next(job, &p)) run_token(job, fn, p, rope_cursor_next(&cur), 0, H);
    }
    if (h1) run_token(job, fn, p, rope_cursor_next(&cur), 0, h1);
}

void rope_engine_walk(const rope_job *job, rope_rows_fn fn, size_t heads_per_token, size_t u0, size_t u1) {
    size_t H = heads_per_token;
    if (u0 >= u1) return;
    run_span(job, fn, H, u0 / H, u0 % H, u1 / H, u1 % H);
}

/*
 * Thresholds, measured on the 2-vCPU AMD EPYC virtual machine this project targets (medians of
 * interleaved runs, 2 threads against 1, as ratios to a copy of the same bytes):
 *   - Waking a sleeping worker takes 4 us when the caller is idle and 13 us when it is busy (futex
 *     wake of a halted vCPU), and the two vCPUs behave like the two threads of one core: compute
 *     that is not waiting on memory does not go faster on both (an AVX-512 FMA loop takes 1.8x as
 *     long when both run it). Two threads therefore only win once the data comes from DRAM.
 *   - ATB f16 q [T, 4096] k [T, 1024]: 1 thread / 2 threads at T = 16 (328 KiB) 1.01 / 0.34, T = 64
 *     (1.3 MiB) 1.01 / 0.60, T = 256 (5.2 MiB) 0.64 / 0.62, T = 512 (10.5 MiB) 0.71 / 0.76,
 *     T = 1024 (21 MiB) 0.68 / 1.04. ONNX f32 [1, 32, T, 128]: T = 8 (260 KiB) 0.86 / 0.28, T = 64
 *     (2 MiB) 0.46 / 0.44, T = 128 (4 MiB) 0.43 / 0.46, T = 1024 (33 MiB) 0.45 / 0.72.
 * Break-even is about 4 MiB moved, the threshold; each thread then gets at least 2 MiB. A decode
 * step (1 token x 32 heads x 128: 33 KiB in f32) is far below: it never touches the pool.
 * Blocks: 4 per thread (claimed dynamically, so a thread whose vCPU is taken by another process
 * does fewer), at least 64 KiB each, and at least a tile for tiled jobs (see run_part's caller).
 */
rope_engine_tuning rope_engine_tune = {4u << 20, 64u << 10, 4, 0, 0};

/* Bytes one token moves: its head vectors read and written, its cos and sin rows read. */
static size_t token_bytes(const rope_job *job, size_t *out_bytes) {
    size_t es = rope_dtype_bytes(job->shape.x_dtype);
    size_t heads = 0;
    for (size_t k = 0; k < job->n_streams; k++) heads += job->streams[k].heads;
    size_t cs_len = rope_cs_width(&job->shape);
    *out_bytes = heads * job->shape.head_size * es;
    return 2 * *out_bytes + 2 * cs_len * rope_dtype_bytes(job->shape.cs_dtype);
}

/* The last-level cache a thread can fill. Virtual machines sometimes report the whole host's (this
 * project's target reports 508 MiB for 32 MiB per core complex): a value above 256 MiB is taken
 * as that mistake. */
static size_t llc_bytes(void) {
    long v = -1;
#ifdef _SC_LEVEL3_CACHE_SIZE
    v = sysconf(_SC_LEVEL3_CACHE_SIZE);
#endif
    if (v <= 0 || (unsigned long)v > 256ul * 1024 * 1024) return 32ul * 1024 * 1024;
    return (size_t)v;
}

size_t rope_engine_nontemporal_bytes(void) {
    static atomic_size_t cached; /* 0: not computed yet; the computation is idempotent */
    if (rope_engine_tune.nontemporal_min_bytes) return rope_engine_tune.nontemporal_min_bytes;
    size_t v = atomic_load_explicit(&cached, memory_order_relaxed);
    if (!v) {
        v = 4 * llc_bytes();
        atomic_store_explicit(&cached, v, memory_order_relaxed);
    }
    return v;
}

/*
 * Streaming stores pay off only when the output would be evicted before anyone reads it again, and
 * never when an output is also an input (its lines are in the cache already). The kernels do not
 * fence; the engine fences once per block (a fence waits for every write-combining buffer to drain:
 * fenced after every call, ATB f16 [16384, 4096] + [16384, 1024], whose key calls write 2 KiB, ran
 * at 0.55 of a copy, fenced per block 0.65-0.72, on a Xeon with 1 thread). Measured on a Zen
 * machine (2 vCPU, 32 MiB L3 per core complex), 1 thread, 160 MiB and more of output: ATB f32
 * q [8192, 4096] k [8192, 1024] 40 GB/s streaming vs 34 without. On the Xeon: ONNX 4-D tiles f32
 * [1, 32, 16384, 128] 0.77 of a copy streaming vs 0.50.
 */
static int wants_nontemporal(const rope_job *job, size_t out_total) {
    if (out_total < rope_engine_nontemporal_bytes()) return 0;
    for (size_t k = 0; k < job->n_streams; k++)
        for (size_t j = 0; j < job->n_streams; j++)
            if ((const void *)job->streams[k].y == job->streams[j].x) return 0;
    return 1;
}

/* How many threads (at most `threads`) and blocks (at most `units`) a job moving `bytes` gets. Blocks
 * hold at least `min_units` units when that still leaves one per thread. */
static size_t plan_parts(int threads, size_t bytes, size_t units, size_t min_units, int *helpers) {
    size_t share = rope_engine_tune.parallel_min_bytes / 2 + 1;
    size_t k = bytes < rope_engine_tune.parallel_min_bytes ? 1 : bytes / share;
    if (k > (size_t)threads) k = (size_t)threads;
    size_t parts = k * (rope_engine_tune.parts_per_thread ? rope_engine_tune.parts_per_thread : 1);
    size_t by_size = bytes / (rope_engine_tune.part_min_bytes ? rope_engine_tune.part_min_bytes : 1);
    if (parts > by_size) parts = by_size;
    if (min_units > 1 && parts > units / min_units) parts = units / min_units;
    if (parts < k) parts = k;
    if (parts > units) parts = units;
    if (parts < 1) parts = 1;
    *helpers = (int)(k < parts ? k : parts) - 1;
    return parts;
}

typedef struct job_split {
    const rope_job *job;
    rope_rows_fn fn;
    size_t heads_per_token, tokens;
    rope_rows_scratch *rows; /* jobs with a cos/sin row provider (rows.h) */
    void (*fence)(void);     /* streaming jobs: orders a block's stores before the pool hears it is done */
} job_split;

/* Block `part` of `parts`: whole tokens when every block can have one, else rows. */
static void run_part(void *arg, size_t part, size_t parts) {
    const job_split *w = arg;
    size_t h = w->heads_per_token;
    if (parts == 1 && !w->rows) { /* the whole job (a decode step): no divisions to find a block */
        run_span(w->job, w->fn, h, 0, 0, w->tokens, 0);
    } else {
        uint64_t n = w->tokens >= parts ? w->tokens : (uint64_t)w->tokens * h;
        uint64_t lo = n * part / parts, hi = n * (part + 1) / parts;
        if (w->tokens >= parts) lo *= h, hi *= h;
        if (w->rows) rope_rows_walk(w->rows, w->job, w->fn, h, (size_t)lo, (size_t)hi);
        else rope_engine_walk(w->job, w->fn, h, (size_t)lo, (size_t)hi);
    }
    if (w->fence) w->fence();
}

rope_status rope_engine_run(rope_context *ctx, const rope_job *job_in) {
    size_t tokens = job_in->batch * job_in->seq;
    size_t heads = 0;
    for (size_t k = 0; k < job_in->n_streams; k++) heads += job_in->streams[k].heads;
    if (tokens == 0 || heads == 0) return ROPE_OK;
    size_t out_per_token;
    size_t per_token = token_bytes(job_in, &out_per_token);
    size_t bytes = per_token * tokens, out_total = out_per_token * tokens;
    /* The job is copied only to change its store hint: a decode step skips the copy (a rep movs of
     * 200 bytes was 5% of its time). */
    const rope_job *job = job_in;
    rope_job hinted;
    int nt = wants_nontemporal(job_in, out_total);
    if (nt != job_in->shape.nontemporal) {
        hinted = *job_in;
        hinted.shape.nontemporal = nt;
        job = &hinted;
    }
    rope_rows_fn fn = rope_kernels_select(ctx->kernels, &job->shape);

    int helpers = 0;
    size_t parts = 1;
    if (ctx->threads > 1 && bytes >= rope_engine_tune.parallel_min_bytes) {
        /* Tiled jobs: a block shorter than a tile would cut its runs short (prefill [1, 32, 2048,
         * 128] f16 on 2 threads: 0.74 of a copy with 2 blocks, 0.62 with 8). */
        size_t min_rows = heads_far_apart(job) ? tile_tokens(job) * heads : 1;
        parts = plan_parts(ctx->threads, bytes, tokens * heads, min_rows, &helpers);
    }
    job_split w = {job, fn, heads, tokens, NULL, job->shape.nontemporal ? ctx->kernels->fence : NULL};
    if (job->provider) { /* a scratch per thread that may run, allocated before anything is written */
        rope_status st = rope_rows_begin(job, (size_t)helpers + 1, ctx->kernels->fly_values, &w.rows);
        if (st != ROPE_OK) return st;
    }
    rope_context_run_parts(ctx, run_part, &w, parts, helpers); /* own pool, host's threads or split part */
    rope_rows_end(w.rows);
    return ROPE_OK;
}

void rope_engine_parallel(rope_context *ctx, size_t bytes, size_t max_parts, rope_pool_fn fn, void *arg) {
    int helpers = 0;
    size_t parts = 1;
    if (max_parts == 0) return;
    if (ctx->threads > 1 && bytes >= rope_engine_tune.parallel_min_bytes)
        parts = plan_parts(ctx->threads, bytes, max_parts, 1, &helpers);
    rope_context_run_parts(ctx, fn, arg, parts, helpers);
}


size_t rope_engine_tile_tokens(const rope_job *job) { return heads_far_apart(job) ? tile_tokens(job) : 0; }
