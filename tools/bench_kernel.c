/* SPDX-License-Identifier: MIT */
/* `rope bench --kernel NAME` (bench_kernel.h): one kernel called directly, token by token, on
 * [tokens, heads, head_size] buffers with a cos/sin row per token, on the calling thread; timed in
 * batches alternating with a memcpy of the same bytes and, where the shape has one, the floor loop
 * (bench_loops.h) of the kernel's instruction set. The engine, the operators' checks and the
 * dispatch are not in the timing: what is left is the kernel itself. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_clock.h"
#include "bench_kernel.h"
#include "bench_loops.h"
#include "kernel_words.h"
#include "kernels/kernel.h"
#include "tensor_util.h"

/* ---- --kernel list ---------------------------------------------------------------------------- */

static int list_kernels(int csv) {
    static const char *const cols[] = {"name", "kind", "set", "runs", "x", "cos", "path", "width", "pair_stride"};
    static const int widths[] = {-56, -5, -7, -4, -5, -5, -8, -5, 11};
    enum { N_COLS = sizeof cols / sizeof cols[0] };
    for (int i = 0; i < N_COLS; i++) {
        if (csv) printf("%s%s", i ? "," : "", cols[i]);
        else printf("%s%*s", i ? " " : "", widths[i], cols[i]);
    }
    printf("\n");
    size_t listed = 0, runnable = 0;
    for (int isa = ROPE_ISA_SCALAR; isa < ROPE_ISA_COUNT_; isa++) {
        const rope_kernel_set *set = rope_kernels_for((rope_isa)isa);
        for (size_t i = 0; set; i++) {
            const rope_kernel_info *k = set->kernel_at(i);
            if (!k) break;
            int store = k->kind == ROPE_KERNEL_STORE, runs = k->cpu_has();
            char ps[24] = "-";
            if (k->path == ROPE_PATH_PAIRS) snprintf(ps, sizeof ps, "%zu", k->pair_stride);
            else if (!store) snprintf(ps, sizeof ps, "%s", k->path == ROPE_PATH_SPLIT ? "head/2" : "any");
            const char *cells[N_COLS] = {k->name,
                                         kernel_kind_word(k->kind),
                                         rope_isa_name(k->isa),
                                         runs ? "yes" : "no",
                                         store ? "any" : rope_dtype_name(k->x_dtype),
                                         store ? "-" : rope_dtype_name(k->cs_dtype),
                                         kernel_path_word(k->path),
                                         store         ? "-"
                                         : k->cos_full ? "full"
                                                       : "half",
                                         ps};
            for (int c = 0; c < N_COLS; c++) {
                if (csv) printf("%s%s", c ? "," : "", cells[c]);
                else printf("%s%*s", c ? " " : "", widths[c], cells[c]);
            }
            printf("\n");
            listed++, runnable += (size_t)runs;
        }
    }
    if (!csv) printf("%zu kernels in this build, %zu of them runnable on this CPU\n", listed, runnable);
    return 0;
}

/* ---- one kernel's buffers and calls ----------------------------------------------------------- */

typedef struct kernel_bench {
    const rope_kernel_info *k;
    rope_kernel_shape sh;
    size_t tokens, heads, hs, cw;
    rope_dtype src_dtype, dst_dtype; /* the store piece's */
    unsigned char *x, *y, *cs, *sn, *copy_src, *copy_dst;
    float *w;
    size_t bytes, copy_bytes; /* bytes one batch of calls moves, as `rope bench` counts them; half of it */
    bench_loop_job job;
    bench_loop_kind loop;
} kernel_bench;

static uint64_t rng = 0x9e3779b97f4a7c15u;

static float rnd(void) { /* uniform in [-1, 1) */
    rng = rng * 6364136223846793005u + 1442695040888963407u;
    return (float)((double)(rng >> 40) / (double)(1u << 23) - 1.0);
}

static void fill(void *p, rope_dtype t, size_t n) {
    for (size_t i = 0; i < n; i++) {
        float v = rnd();
        if (t == ROPE_F32) ((float *)p)[i] = v;
        else ((uint16_t *)p)[i] = t == ROPE_F16 ? rope_f32_to_f16(v) : rope_f32_to_bf16(v);
    }
}

/* One batch: every token's heads, each token with its own cos/sin row (the kernel's cs_step 0). */
static void call_kernel(kernel_bench *b) {
    const rope_kernel_info *k = b->k;
    size_t es = rope_dtype_size(k->kind == ROPE_KERNEL_STORE ? b->src_dtype : k->x_dtype);
    size_t ces = k->kind == ROPE_KERNEL_STORE ? 0 : rope_dtype_size(k->cs_dtype);
    size_t des = k->kind == ROPE_KERNEL_STORE ? rope_dtype_size(b->dst_dtype) : es, row = b->heads * b->hs;
    ptrdiff_t hs = (ptrdiff_t)b->hs;
    for (size_t t = 0; t < b->tokens; t++) {
        const unsigned char *x = b->x + t * row * es;
        unsigned char *y = b->y + t * row * des;
        const unsigned char *c = b->cs + t * b->cw * ces, *s = b->sn + t * b->cw * ces;
        switch (k->kind) {
        case ROPE_KERNEL_ROT: k->rot(&b->sh, x, hs, y, hs, b->heads, c, s); break;
        case ROPE_KERNEL_NORM: k->norm(&b->sh, x, hs, y, hs, b->heads, c, s, b->w, 1e-6f); break;
        case ROPE_KERNEL_STORE: k->store(b->src_dtype, x, hs, b->dst_dtype, y, hs, b->heads, b->hs, 1.0f, 0); break;
        }
    }
}

static void call_copy(kernel_bench *b) { memcpy(b->copy_dst, b->copy_src, b->copy_bytes); }

static void call_loop(kernel_bench *b) { bench_loop_run(b->loop, &b->job, 0, 1); }

/* The shape the kernel is timed on: full rotation over the head (the split layout: half of it), the
 * pair stride its path is built for (halves, head_size / 2, for the blocked and portable ones).
 * Returns 0, or 2 after a message. */
static int shape_of(const bench_opts *o, kernel_bench *b) {
    const rope_kernel_info *k = b->k;
    rope_kernel_shape *sh = &b->sh;
    memset(sh, 0, sizeof *sh);
    b->tokens = o->c.tokens;
    b->heads = o->c.heads_q;
    b->hs = o->c.head_size;
    if (b->hs % 2) {
        fprintf(stderr, "rope bench: --head-size %zu: must be even\n", b->hs);
        return 2;
    }
    if (k->kind == ROPE_KERNEL_STORE) {
        b->src_dtype = float_dtype_named(o->dtype ? o->dtype : "f16");
        b->dst_dtype = o->c.kv_dtype ? o->c.kv_dtype : b->src_dtype;
        if (b->src_dtype == ROPE_DTYPE_INVALID) {
            fprintf(stderr, "rope bench: --dtype '%s': expected f32, f16 or bf16 (the store piece's source)\n",
                    o->dtype);
            return 2;
        }
        return 0;
    }
    if (o->dtype || o->c.kv_dtype) {
        fprintf(stderr, "rope bench: --dtype and --kv-dtype apply to a store piece only (%s's name fixes its dtypes)\n",
                k->name);
        return 2;
    }
    sh->x_dtype = k->x_dtype;
    sh->cs_dtype = k->cs_dtype;
    sh->cos_full = k->cos_full;
    sh->head_size = sh->rot = b->hs;
    sh->pair_stride = b->hs / 2;
    if (k->path == ROPE_PATH_PAIRS) sh->pair_stride = k->pair_stride;
    if (k->path == ROPE_PATH_SPLIT) {
        sh->split = 1;
        sh->rot = b->hs / 2;
    }
    if (sh->rot % (2 * (sh->split ? 1 : sh->pair_stride)) != 0 || sh->rot == 0) {
        fprintf(stderr, "rope bench: --head-size %zu: %s needs a multiple of %zu\n", b->hs, k->name,
                sh->split ? (size_t)4 : 2 * sh->pair_stride);
        return 2;
    }
    b->cw = rope_cos_width(sh);
    return 0;
}

static void bench_free(kernel_bench *b) {
    free(b->x);
    free(b->y);
    free(b->cs);
    free(b->sn);
    free(b->copy_src);
    free(b->copy_dst);
    free(b->w);
}

/* Buffers (inputs random, outputs and the copy's written once so no timing pays a page fault), the
 * bytes, and the floor loop where the shape has one. Returns 0, or 1 out of memory. */
static int bench_make(kernel_bench *b) {
    const rope_kernel_info *k = b->k;
    int store = k->kind == ROPE_KERNEL_STORE;
    rope_dtype xt = store ? b->src_dtype : k->x_dtype, yt = store ? b->dst_dtype : k->x_dtype;
    size_t n = b->tokens * b->heads * b->hs, cn = b->tokens * b->cw;
    size_t ces = store ? 0 : rope_dtype_size(k->cs_dtype);
    b->bytes = n * (rope_dtype_size(xt) + rope_dtype_size(yt)) + 2 * cn * ces;
    b->copy_bytes = b->bytes / 2;
    b->x = malloc(n * rope_dtype_size(xt));
    b->y = malloc(n * rope_dtype_size(yt));
    b->cs = malloc(cn * ces + 1);
    b->sn = malloc(cn * ces + 1);
    b->w = malloc(b->hs * sizeof(float));
    b->copy_src = malloc(b->copy_bytes + 1);
    b->copy_dst = malloc(b->copy_bytes + 1);
    if (!b->x || !b->y || !b->cs || !b->sn || !b->w || !b->copy_src || !b->copy_dst) return 1;
    fill(b->x, xt, n);
    memset(b->y, 0, n * rope_dtype_size(yt));
    if (!store) {
        fill(b->cs, k->cs_dtype, cn);
        fill(b->sn, k->cs_dtype, cn);
    }
    for (size_t i = 0; i < b->hs; i++) b->w[i] = 0.5f + 0.5f * rnd() * rnd();
    memset(b->copy_src, 1, b->copy_bytes);
    memset(b->copy_dst, 0, b->copy_bytes);
    b->loop = BENCH_LOOP_NONE;
    const rope_kernel_shape *sh = &b->sh;
    int halves = 2 * sh->pair_stride == b->hs, adjacent = sh->pair_stride == 1 && !sh->cos_full;
    if (k->kind == ROPE_KERNEL_ROT && !sh->split && sh->rot == b->hs && (halves || adjacent)) {
        bench_loop_job *j = &b->job;
        memset(j, 0, sizeof *j);
        j->x_dtype = k->x_dtype;
        j->cs_dtype = k->cs_dtype;
        j->head_size = b->hs;
        j->pair_stride = sh->pair_stride;
        j->cos_full = sh->cos_full;
        j->tokens = b->tokens;
        j->cos = b->cs;
        j->sin = b->sn;
        j->cs_row_stride = b->cw;
        j->s[0].x = b->x;
        j->s[0].y = b->y;
        j->s[0].heads = b->heads;
        j->s[0].head_stride = (ptrdiff_t)b->hs;
        j->s[0].token_stride = (ptrdiff_t)(b->heads * b->hs);
        j->n_streams = 1;
        /* the loop of the kernel's own instruction set, bf16 narrowed as the kernel narrows it */
        b->loop = bench_loop_pick(j, k->isa, strstr(k->name, "__avx512bf16") != NULL);
    }
    return 0;
}

/* ---- timing (bench_clock.h, as bench_run.c: batches of ~200 us, medians, the three alternating) - */

typedef void (*batch_fn)(kernel_bench *b);

static double time_batch(batch_fn fn, kernel_bench *b, int inner) {
    double t0 = bench_now_us();
    for (int i = 0; i < inner; i++) fn(b);
    return (bench_now_us() - t0) / inner;
}

static int calibrate(batch_fn fn, kernel_bench *b) {
    time_batch(fn, b, 1); /* warms caches and pages */
    return bench_batch_calls(time_batch(fn, b, 1));
}

static const char *const columns[] = {"kernel",      "tokens",    "heads",     "head_size", "rot",
                                      "pair_stride", "median_us", "gbps",      "copy_gbps", "ratio",
                                      "loop",        "loop_us",   "ratio_loop"};
static const int col_widths[] = {-52, 6, 5, 9, 4, 11, 11, 8, 9, 6, 10, 9, 10};
enum { N_COLUMNS = sizeof columns / sizeof columns[0] };

static int time_kernel(const bench_opts *o, kernel_bench *b) {
    int reps = o->reps, has_loop = b->loop != BENCH_LOOP_NONE;
    double *t = malloc(3 * (size_t)reps * sizeof *t);
    if (!t) return 1;
    double *tk = t, *tc = t + reps, *tl = t + 2 * reps;
    int nk = calibrate(call_kernel, b), nc = calibrate(call_copy, b), nl = has_loop ? calibrate(call_loop, b) : 0;
    for (int r = 0; r < reps; r++) {
        tk[r] = time_batch(call_kernel, b, nk);
        tc[r] = time_batch(call_copy, b, nc);
        tl[r] = has_loop ? time_batch(call_loop, b, nl) : 0;
    }
    double us = bench_median(tk, reps), copy_us = bench_median(tc, reps), loop_us = has_loop ? bench_median(tl, reps) : 0;
    free(t);
    double gbps = (double)b->bytes / (us * 1e3), copy_gbps = (double)b->bytes / (copy_us * 1e3);
    char cells[N_COLUMNS][96];
    int store = b->k->kind == ROPE_KERNEL_STORE;
    snprintf(cells[0], sizeof cells[0], "%s", b->k->name);
    snprintf(cells[1], sizeof cells[1], "%zu", b->tokens);
    snprintf(cells[2], sizeof cells[2], "%zu", b->heads);
    snprintf(cells[3], sizeof cells[3], "%zu", b->hs);
    snprintf(cells[4], sizeof cells[4], "%zu", b->sh.rot);
    snprintf(cells[5], sizeof cells[5], "%zu", b->sh.pair_stride);
    if (store) {
        strcpy(cells[4], "-");
        strcpy(cells[5], "-");
    }
    snprintf(cells[6], sizeof cells[6], "%.3f", us);
    snprintf(cells[7], sizeof cells[7], "%.2f", gbps);
    snprintf(cells[8], sizeof cells[8], "%.2f", copy_gbps);
    snprintf(cells[9], sizeof cells[9], "%.3f", gbps / copy_gbps);
    snprintf(cells[10], sizeof cells[10], "%s", bench_loop_name(b->loop));
    snprintf(cells[11], sizeof cells[11], "%.3f", loop_us);
    snprintf(cells[12], sizeof cells[12], "%.3f", loop_us / us);
    if (!has_loop) {
        strcpy(cells[11], "-");
        strcpy(cells[12], "-");
    }
    if (!o->csv)
        printf("rope bench: kernel %s (%s set), called directly on one thread (no engine), out of place, "
               "[tokens, heads, head_size] with a cos/sin row per token; medians of %d repetitions\n",
               b->k->name, rope_isa_name(b->k->isa), reps);
    for (int i = 0; i < N_COLUMNS; i++) {
        if (o->csv) printf("%s%s", i ? "," : "", columns[i]);
        else printf("%s%*s", i ? " " : "", col_widths[i], columns[i]);
    }
    printf("\n");
    for (int i = 0; i < N_COLUMNS; i++) {
        if (o->csv) printf("%s%s", i ? "," : "", cells[i]);
        else printf("%s%*s", i ? " " : "", col_widths[i], cells[i]);
    }
    printf("\n");
    return 0;
}

int bench_kernel_run(const bench_opts *o) {
    if (!strcmp(o->kernel, "list")) return list_kernels(o->csv);
    kernel_bench b;
    memset(&b, 0, sizeof b);
    b.k = rope_kernel_named(o->kernel);
    if (!b.k) {
        fprintf(stderr, "rope bench: --kernel '%s': no kernel of that name in this build (rope bench --kernel list)\n",
                o->kernel);
        return 2;
    }
    if (!b.k->cpu_has()) {
        fprintf(stderr, "rope bench: --kernel %s: this CPU cannot run it\n", b.k->name);
        return 2;
    }
    int st = shape_of(o, &b);
    if (st) return st;
    if (bench_make(&b)) {
        fprintf(stderr, "rope bench: out of memory\n");
        bench_free(&b);
        return 1;
    }
    st = time_kernel(o, &b);
    if (st) fprintf(stderr, "rope bench: out of memory\n");
    bench_free(&b);
    return st;
}
