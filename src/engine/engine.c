/* SPDX-License-Identifier: MIT */
/* Walks the tokens of a job, takes each token's cos/sin row from the job's source, and hands its
 * heads to the kernel. */
#define _POSIX_C_SOURCE 200809L
#include <stdatomic.h>
#include <stdint.h>
#include <unistd.h>

#include "engine.h"

#include "../core/alloc.h"
#include "../core/try.h"

/* Row `row` of a view's cos and sin. */
static void view_row(const rope_cossin_view *v, size_t row, const void **c, const void **sn) {
    size_t off = row * v->row_bytes;
    *c = v->cos + off;
    *sn = v->sin + off;
}

/* A token as (batch, position), stepped along without a division per token. */
typedef struct token_pos {
    size_t b, s;
} token_pos;

static token_pos pos_of(const rope_job *job, size_t t) {
    token_pos p = {0, 0};
    if (t) { /* a whole job starts at 0: no division */
        p.b = t / job->seq;
        p.s = t % job->seq;
    }
    return p;
}

static void pos_next(const rope_job *job, token_pos *p) {
    if (++p->s == job->seq) p->s = 0, p->b++;
}

/* The kernels of a job: the plain rotation and, for streams with a norm weight, the normalised one;
 * the store piece of its cache parts and whether it streams (cache_stream_bytes). */
typedef struct job_kernels {
    rope_kernel_fn rotate;
    rope_kernel_norm_fn rotate_norm;
    rope_store_fn store;
    int store_nt;
} job_kernels;

/* The store part: heads [lo, hi) of stream st of token (b, s), as the stream left them, to the
 * token's cache slot (nothing for a negative slot, a padded token). */
static void store_slots(const rope_job *job, const job_kernels *kn, const rope_stream *st, token_pos p, size_t lo,
                        size_t hi) {
    const rope_slot_store *c = st->cache;
    size_t t = p.b * job->seq + p.s;
    int64_t slot = c->slots_dtype == ROPE_I64 ? ((const int64_t *)c->slots)[t] : ((const int32_t *)c->slots)[t];
    if (slot < 0) return;
    rope_dtype dt = job->shape.x_dtype;
    ptrdiff_t es = (ptrdiff_t)rope_dtype_bytes(dt);
    const char *src;
    ptrdiff_t src_head;
    if (st->store_only) {
        src = (const char *)st->x + ((ptrdiff_t)p.b * st->x_batch + (ptrdiff_t)p.s * st->x_seq) * es;
        src_head = st->x_head;
    } else {
        src = (const char *)st->y + ((ptrdiff_t)p.b * st->y_batch + (ptrdiff_t)p.s * st->y_seq) * es;
        src_head = st->y_head;
    }
    ptrdiff_t at = (ptrdiff_t)(slot / c->block_size) * c->block_stride +
                   (ptrdiff_t)(slot % c->block_size) * c->slot_stride + (ptrdiff_t)lo * c->head_stride;
    kn->store(dt, src + (ptrdiff_t)lo * src_head * es, src_head, c->dtype,
              (char *)c->base + at * (ptrdiff_t)rope_dtype_bytes(c->dtype), c->head_stride, hi - lo,
              job->shape.head_size, c->scale, kn->store_nt);
}

/* The rotation of n head vectors with its permutation piece (job->permute) around it. */
static void rotate_heads(const rope_job *job, rope_kernel_fn fn, const rope_kernel_shape *sh, const char *x,
                         ptrdiff_t xs, char *y, ptrdiff_t ys, size_t n, const void *c, const void *sn) {
    switch (job->permute) {
    case ROPE_PERMUTE_NONE:
        fn(sh, x, xs, y, ys, n, c, sn);
        return;
    case ROPE_PERMUTE_PAIRS_TO_HALVES:
        fn(sh, x, xs, y, ys, n, c, sn);
        rope_pairs_to_halves(sh->x_dtype, y, ys, n, sh->rot);
        return;
    case ROPE_PERMUTE_HALVES_TO_PAIRS:
        rope_halves_to_pairs(sh->x_dtype, x, xs, y, ys, n, sh->lead, sh->rot, sh->head_size);
        fn(sh, y, ys, y, ys, n, c, sn);
        return;
    }
}

/* Heads [h0, h1) of the token at p (numbered across the streams: stream 0's heads, then stream
 * 1's, ...), with cos/sin row `row`: each stream's parts in order, transform and rotation (or
 * nothing, for a store-only stream) into y, then the cache store. */
static void run_token(const rope_job *job, const job_kernels *kn, const rope_cossin_view *v, token_pos p,
                      size_t row, size_t h0, size_t h1) {
    size_t es = rope_dtype_bytes(job->shape.x_dtype);
    const void *c, *sn;
    view_row(v, row, &c, &sn);
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
        if (st->norm_weight)
            kn->rotate_norm(&job->shape, (const char *)st->x + xo * (ptrdiff_t)es, st->x_head,
                            (char *)st->y + yo * (ptrdiff_t)es, st->y_head, hi - lo, c, sn, st->norm_weight, job->eps);
        else if (!st->store_only)
            rotate_heads(job, kn->rotate, &job->shape, (const char *)st->x + xo * (ptrdiff_t)es, st->x_head,
                         (char *)st->y + yo * (ptrdiff_t)es, st->y_head, hi - lo, c, sn);
        if (st->cache) store_slots(job, kn, st, p, lo, hi);
    }
}

/*
 * Heads far apart in memory (ONNX 4-D X, [batch, heads, seq, head_size], where a token's heads are
 * seq rows apart): a token-by-token walk handing the kernel all 32 heads of a token touches 64
 * streams (32 heads in, 32 out), more than the hardware prefetchers follow. Such jobs are walked in
 * tiles of tokens: for each head, the tile's tokens in runs whose cos/sin rows follow each other (all
 * of them for positions 0, 1, ...), each run one kernel call with the tokens as its "heads"
 * (shape.cs_step moves the cos/sin row along). The kernel sees two sequential streams (the head in
 * and out) plus the tile's cos/sin rows, which stay in L2. The arithmetic per element is the same:
 * same results. Measurements: docs/PERFORMANCE.md, "Tiles".
 */
static int heads_far_apart(const rope_job *job) {
    size_t es = rope_dtype_bytes(job->shape.x_dtype);
    for (size_t k = 0; k < job->n_streams; k++) { /* a stream with other parts than the rotation: never tiled */
        const rope_stream *st = &job->streams[k];
        if (st->norm_weight || st->store_only || st->cache) return 0;
    }
    for (size_t k = 0; k < job->n_streams; k++) {
        const rope_stream *st = &job->streams[k];
        if (st->heads > 1 && ((size_t)(st->x_head < 0 ? -st->x_head : st->x_head) * es >= 4096 ||
                              (size_t)(st->y_head < 0 ? -st->y_head : st->y_head) * es >= 4096))
            return 1;
    }
    return 0;
}

/* Tokens per tile: as many as keep the tile's cos and sin rows within 512 KiB (half of L2); longer
 * runs per head measured better up to that size (docs/PERFORMANCE.md). */
static size_t tile_tokens(const rope_job *job) {
    if (rope_engine_tune.tile_tokens) return rope_engine_tune.tile_tokens;
    size_t cos_width = rope_cos_width(&job->shape);
    size_t row = 2 * cos_width * rope_dtype_bytes(job->shape.cs_dtype);
    size_t n = row ? (512u << 10) / row : 8192;
    return n < 64 ? 64 : n > 8192 ? 8192 : n;
}

/* A run of a tile: `len` tokens of one batch row from token p, whose cos/sin rows follow each other
 * from row0. */
typedef struct tile_run {
    token_pos p;
    size_t row0, len;
} tile_run;

/* The run starting at the cursor's token (token p, the i-th of the tile's n); the cursor, p and i
 * move past it. */
static tile_run next_run(const rope_job *job, rope_position_cursor *rc, token_pos *p, size_t *i, size_t n) {
    tile_run r = {*p, rope_cursor_next(rc), 1};
    pos_next(job, p), (*i)++;
    while (*i < n && p->b == r.p.b) {
        rope_position_cursor peek = *rc;
        if (rope_cursor_next(&peek) != r.row0 + r.len) break;
        *rc = peek, r.len++;
        pos_next(job, p), (*i)++;
    }
    return r;
}

/* One head's part of a run: a kernel call with the run's tokens as its "heads". */
static void run_head(const rope_job *job, rope_kernel_fn fn, const rope_kernel_shape *sh, const rope_cossin_view *v,
                     const rope_stream *st, size_t h, tile_run r) {
    ptrdiff_t es = (ptrdiff_t)rope_dtype_bytes(job->shape.x_dtype);
    const void *c, *sn;
    view_row(v, r.row0, &c, &sn);
    ptrdiff_t xo = (ptrdiff_t)r.p.b * st->x_batch + (ptrdiff_t)r.p.s * st->x_seq + (ptrdiff_t)h * st->x_head;
    ptrdiff_t yo = (ptrdiff_t)r.p.b * st->y_batch + (ptrdiff_t)r.p.s * st->y_seq + (ptrdiff_t)h * st->y_head;
    rotate_heads(job, fn, sh, (const char *)st->x + xo * es, st->x_seq, (char *)st->y + yo * es, st->y_seq, r.len, c,
                 sn);
}

/* Runs found once per tile for all its heads when there are at most this many (a batch row's
 * prefill is one); finding them per head cost about 30 instructions a token and head, a fifth of an
 * f16 prefill's instructions (docs/PERFORMANCE.md, "16-bit prefill"). More: found per head. */
enum { TILE_RUNS_MAX = 64 };

/* n whole tokens from the one at p, head by head; the view's cursor is at that token and is left
 * n tokens further. */
static void run_tile(const rope_job *job, const job_kernels *kn, rope_cossin_view *v, token_pos p0, size_t n) {
    rope_kernel_fn fn = kn->rotate; /* tiled streams have the rotation only */
    rope_kernel_shape sh = job->shape;
    /* a call's "heads" are consecutive tokens, each with its own row */
    sh.cs_step = (ptrdiff_t)(v->row_bytes / rope_dtype_bytes(job->shape.cs_dtype));
    rope_position_cursor start = v->rows, rc = start;
    tile_run runs[TILE_RUNS_MAX];
    size_t nr = 0, i = 0;
    token_pos p = p0;
    while (i < n && nr < TILE_RUNS_MAX) runs[nr++] = next_run(job, &rc, &p, &i, n);
    int found = i == n;
    for (size_t k = 0; k < job->n_streams; k++) {
        const rope_stream *st = &job->streams[k];
        for (size_t h = 0; h < st->heads; h++) {
            if (found) {
                for (size_t r = 0; r < nr; r++) run_head(job, fn, &sh, v, st, h, runs[r]);
                continue;
            }
            rc = start, p = p0;
            for (i = 0; i < n;) run_head(job, fn, &sh, v, st, h, next_run(job, &rc, &p, &i, n));
        }
    }
    if (!found) /* rc, walked to the tile's end above (every head's walk ends n tokens on) */
        for (; i < n;) next_run(job, &rc, &p, &i, n);
    v->rows = rc;
}

/* Head vectors from head h0 of token t0 up to (not including) head h1 of token t1, with the rows of
 * view `v`, whose cursor is at token t0. */
static void run_span(const rope_job *job, const job_kernels *fn, rope_cossin_view *v, size_t H, size_t t0, size_t h0,
                     size_t t1, size_t h1) {
    token_pos p = pos_of(job, t0);
    if (t0 == t1) { /* inside one token */
        run_token(job, fn, v, p, rope_cursor_next(&v->rows), h0, h1);
        return;
    }
    if (h0) {
        run_token(job, fn, v, p, rope_cursor_next(&v->rows), h0, H);
        t0++, pos_next(job, &p);
    }
    if (heads_far_apart(job)) {
        size_t tile = tile_tokens(job);
        for (size_t t = t0; t < t1; t += tile) {
            size_t n = t1 - t < tile ? t1 - t : tile;
            run_tile(job, fn, v, p, n);
            for (size_t i = 0; i < n; i++) pos_next(job, &p);
        }
    } else {
        for (size_t t = t0; t < t1; t++, pos_next(job, &p)) run_token(job, fn, v, p, rope_cursor_next(&v->rows), 0, H);
    }
    if (h1) run_token(job, fn, v, p, rope_cursor_next(&v->rows), 0, h1);
}

typedef struct job_split {
    const rope_job *job;
    const job_kernels *fn;
    size_t heads_per_token, tokens;
    rope_cossin_scratch *scratch; /* sources that write their rows */
    void (*fence)(void);          /* streaming jobs: orders a block's stores before the pool hears it is done */
} job_split;

/* Head vectors [v0, v1), numbered t * heads_per_token + h. A range may start and end inside a token;
 * a head vector is never cut. */
static void walk(const job_split *w, size_t v0, size_t v1) {
    const rope_job *job = w->job;
    size_t H = w->heads_per_token;
    if (v0 >= v1) return;
    rope_cossin_view view;
    if (!w->scratch) {
        rope_cossin_table_view(&job->cossin, &job->shape, job->seq, v0 / H, &view);
        run_span(job, w->fn, &view, H, v0 / H, v0 % H, v1 / H, v1 % H);
        return;
    }
    /* Chunk by chunk: the source writes a chunk's rows, then the chunk is walked on them. */
    rope_cossin_slot *slot = rope_cossin_claim(w->scratch);
    size_t chunk = rope_cossin_chunk_tokens(w->scratch);
    for (size_t t = v0 / H, t_end = (v1 - 1) / H + 1; t < t_end;) {
        size_t n = t_end - t < chunk ? t_end - t : chunk;
        rope_cossin_fill(&job->cossin, &job->shape, job->seq, slot, t, n, &view);
        size_t a = v0 > t * H ? v0 : t * H, b = v1 < (t + n) * H ? v1 : (t + n) * H;
        run_span(job, w->fn, &view, H, a / H, a % H, b / H, b % H);
        t += n;
    }
    rope_cossin_release(w->scratch, slot);
}

/*
 * Thresholds. Waking a sleeping worker costs microseconds, and two vCPUs behave like the two threads
 * of one core, so two threads only win once the data comes from DRAM: break-even was about 4 MiB
 * moved, the threshold; each thread then gets at least 2 MiB (docs/PERFORMANCE.md, "Threads"). A
 * decode step (1 token x 32 heads x 128: 33 KiB in f32) is far below: it never touches the pool.
 * Blocks: 4 per thread (claimed dynamically, so a thread whose vCPU is taken by another process
 * does fewer), at least 64 KiB each, and at least a tile for tiled jobs (see run_part's caller).
 */
rope_engine_tuning rope_engine_tune = {4u << 20, 64u << 10, 4, 0, 0, 256u << 10};

/* Bytes one token moves: its head vectors read and written, its cos and sin rows read. */
static size_t token_bytes(const rope_job *job, size_t *out_bytes) {
    size_t es = rope_dtype_bytes(job->shape.x_dtype);
    size_t heads = 0;
    for (size_t k = 0; k < job->n_streams; k++) heads += job->streams[k].heads;
    size_t cos_width = rope_cos_width(&job->shape);
    *out_bytes = heads * job->shape.head_size * es;
    return 2 * *out_bytes + 2 * cos_width * rope_dtype_bytes(job->shape.cs_dtype);
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
 * fence; the engine fences once per block, since a fence waits for every write-combining buffer to
 * drain and ATB key calls write as little as 2 KiB (docs/PERFORMANCE.md, "Streaming stores").
 */
static int wants_nontemporal(const rope_job *job, size_t out_total) {
    if (out_total < rope_engine_nontemporal_bytes()) return 0;
    if (job->permute != ROPE_PERMUTE_NONE) return 0; /* the permutation reads y right back */
    for (size_t k = 0; k < job->n_streams; k++)
        for (size_t j = 0; j < job->n_streams; j++)
            if ((const void *)job->streams[k].y == job->streams[j].x) return 0;
    return 1;
}

/*
 * The cache parts (the KV-cache write) stream their stores when a call writes at least
 * rope_engine_tune.cache_stream_min_bytes to the caches: the slots are lines the call only
 * overwrites, and through the cache each is first read from memory (a read for ownership) and
 * evicts data in use; a token's key and value rows and their slots also sit at the same offsets
 * modulo 4 KiB when the tensors are page-aligned, which made the copy's loads wait on its stores.
 * Streaming made the fused call about 2x faster at prefill 2048 and faster at decode 256
 * (docs/PERFORMANCE.md, "The cache write's stores"); the threshold keeps a few tokens' writes (a
 * small decode step's, which attention reads right after) in the cache.
 */
static size_t cache_bytes(const rope_job *job, size_t tokens) {
    size_t per_token = 0;
    for (size_t k = 0; k < job->n_streams; k++) {
        const rope_stream *st = &job->streams[k];
        if (st->cache) per_token += st->heads * job->shape.head_size * rope_dtype_bytes(st->cache->dtype);
    }
    return per_token * tokens;
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

/* Block `part` of `parts`: whole tokens when every block can have one, else head vectors. */
static void run_part(void *arg, size_t part, size_t parts) {
    const job_split *w = arg;
    size_t h = w->heads_per_token;
    if (parts == 1 && !w->scratch) { /* the whole job (a decode step): no divisions to find a block */
        rope_cossin_view view;
        rope_cossin_table_view(&w->job->cossin, &w->job->shape, w->job->seq, 0, &view);
        run_span(w->job, w->fn, &view, h, 0, 0, w->tokens, 0);
    } else {
        uint64_t n = w->tokens >= parts ? w->tokens : (uint64_t)w->tokens * h;
        uint64_t lo = n * part / parts, hi = n * (part + 1) / parts;
        if (w->tokens >= parts) {
            lo *= h;
            hi *= h;
        }
        walk(w, (size_t)lo, (size_t)hi);
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
     * a few hundred bytes is a visible part of its time). */
    const rope_job *job = job_in;
    rope_job hinted;
    int nt = wants_nontemporal(job_in, out_total);
    if (nt != job_in->shape.nontemporal) {
        hinted = *job_in;
        hinted.shape.nontemporal = nt;
        job = &hinted;
    }
    job_kernels kn = {rope_kernels_select(ctx->kernels, &job->shape), NULL, rope_kernels_store(ctx->kernels),
                      ctx->kernels->fence && cache_bytes(job, tokens) >= rope_engine_tune.cache_stream_min_bytes};
    for (size_t k = 0; k < job->n_streams; k++)
        if (job->streams[k].norm_weight) kn.rotate_norm = rope_kernels_select_norm(ctx->kernels, &job->shape);

    int helpers = 0;
    size_t parts = 1;
    if (ctx->threads > 1 && bytes >= rope_engine_tune.parallel_min_bytes) {
        /* Tiled jobs: a block shorter than a tile would cut its runs short. */
        size_t min_vectors = heads_far_apart(job) ? tile_tokens(job) * heads : 1;
        parts = plan_parts(ctx->threads, bytes, tokens * heads, min_vectors, &helpers);
    }
    if (parts == 1 && tokens == 1 && !rope_cossin_needs_scratch(&job->cossin)) {
        /* A decode step (one token, one block, table rows): the token's heads straight from here,
         * without the block walk's layers (run_parts, run_part, run_span), a visible part of a call
         * of a few hundred nanoseconds. A split context runs it in part 0, as run_parts would. */
        if (ctx->split_parts && ctx->split_part != 0) return ROPE_OK;
        rope_cossin_view view;
        rope_cossin_table_view(&job->cossin, &job->shape, job->seq, 0, &view);
        token_pos p0 = {0, 0};
        run_token(job, &kn, &view, p0, rope_cursor_next(&view.rows), 0, heads);
        if ((job->shape.nontemporal || kn.store_nt) && ctx->kernels->fence) ctx->kernels->fence();
        return ROPE_OK;
    }
    job_split w = {job, &kn, heads, tokens, NULL, job->shape.nontemporal || kn.store_nt ? ctx->kernels->fence : NULL};
    if (rope_cossin_needs_scratch(&job->cossin)) {
        /* Chunks of a tile for tiled jobs (the scratch then holds what the tile's table rows would),
         * else ROPE_COSSIN_CHUNK tokens (tens of KiB, still in L1 or L2 when the kernel reads them). */
        size_t chunk = heads_far_apart(job) ? tile_tokens(job) : ROPE_COSSIN_CHUNK;
        if (chunk > tokens) chunk = tokens;
        rope_status st =
            rope_cossin_scratch_create(&job->cossin, &job->shape, chunk, (size_t)helpers + 1, ctx->isa, &w.scratch);
        if (st != ROPE_OK) return st;
    }
    rope_context_run_parts(ctx, run_part, &w, parts, helpers); /* own pool, host's threads or split part */
    rope_cossin_scratch_free(w.scratch);
    return ROPE_OK;
}

rope_status rope_engine_run_fly(const char *where, rope_context *ctx, const rope_freq_plan *plan, int64_t max_pos,
                                rope_job *job, int backward) {
    rope_fly_freqs freqs;
    rope_status st = rope_fly_freqs_make(where, plan, max_pos, job ? job->batch * job->seq : 0, ctx->isa, &freqs);
    if (st != ROPE_OK || !job) {
        if (st == ROPE_OK) rope_fly_freqs_free(&freqs);
        return st;
    }
    job->cossin.kind = ROPE_COSSIN_FLY;
    job->cossin.fly = &freqs;
    job->cossin.backward = backward;
    job->cossin.where = where;
    st = rope_engine_run(ctx, job);
    rope_fly_freqs_free(&freqs);
    return st;
}

/* The job's part: the per-axis tables from inv, then the run. */
static rope_status run_fly_axes_job(const char *where, rope_context *ctx, const rope_fly_axes_plan *fp,
                                    const double *inv, rope_job *job, int backward) {
    rope_fly_axes_rows r;
    r.positions = fp->fly.positions.data;
    r.pos_dtype = fp->fly.positions.dtype;
    r.rows = fp->rows ? (size_t)fp->rows : 1;
    ROPE_TRY(rope_fly_axes_rows_make(where, &fp->axes, inv, job->batch * job->seq, ctx->isa, &r));
    job->cossin.kind = ROPE_COSSIN_FLY;
    job->cossin.fly = NULL;
    job->cossin.axes = &r;
    job->cossin.mrope = NULL;
    job->cossin.backward = backward;
    job->cossin.where = where;
    rope_status st = rope_engine_run(ctx, job);
    rope_fly_axes_rows_free(&r);
    return st;
}

rope_status rope_engine_run_fly_axes(const char *where, rope_context *ctx, const rope_fly_axes_plan *fp, rope_job *job,
                                     int backward) {
    double *inv;
    ROPE_TRY(rope_fly_axes_freqs(where, fp, &inv));
    rope_status st = ROPE_OK;
    if (job) st = run_fly_axes_job(where, ctx, fp, inv, job, backward);
    rope_free(inv);
    return st;
}
