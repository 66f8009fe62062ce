/* SPDX-License-Identifier: MIT */
/*
 * The host's threads: a context given the host's parallel-for (a pthread host and, when the compiler
 * has it, an OpenMP host) or a work split (part i of n, every worker called with the same
 * arguments) starts no thread and gives bitwise the output of the library's own pool, which is
 * itself checked against the float64 reference. Outputs are poisoned before every run, so a block
 * no task ran shows. Also: the versioned options (struct_size) and the checks of the new fields.
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#ifdef ROPE_TEST_OPENMP
#include <omp.h>
#endif

#include "contexts.h"
#include "engine/context.h"
#include "engine/engine.h"
#include "harness.h"
#include "reference.h"

enum { HOST_THREADS = 3, MAX_PARTS = 5 };

/* ---- hosts --------------------------------------------------------------------------------------- */

typedef struct host_stats {
    atomic_int calls, max_tasks;
} host_stats;

static void note_call(host_stats *h, int64_t n) {
    atomic_fetch_add(&h->calls, 1);
    if (n > atomic_load(&h->max_tasks)) atomic_store(&h->max_tasks, (int)n);
}

/* A pthread host: each call starts HOST_THREADS threads that take tasks i, i + HOST_THREADS, ... */
typedef struct pt_share {
    int64_t n, first;
    rope_task_fn task;
    void *arg;
} pt_share;

static void *pt_worker(void *p) {
    pt_share *s = p;
    for (int64_t i = s->first; i < s->n; i += HOST_THREADS) s->task(s->arg, i);
    return NULL;
}

static void pthread_host(void *user, int64_t n_tasks, rope_task_fn task, void *arg) {
    note_call(user, n_tasks);
    pthread_t t[HOST_THREADS];
    pt_share s[HOST_THREADS];
    int started[HOST_THREADS] = {0};
    for (int i = 0; i < HOST_THREADS; i++) {
        s[i] = (pt_share){n_tasks, i, task, arg};
        started[i] = i > 0 && pthread_create(&t[i], NULL, pt_worker, &s[i]) == 0;
    }
    pt_worker(&s[0]);
    for (int i = 1; i < HOST_THREADS; i++)
        if (started[i]) pthread_join(t[i], NULL);
        else pt_worker(&s[i]); /* a thread the system refused: its tasks run here */
}

/* A host that runs every task on its own calling thread, in reverse order. */
static void serial_host(void *user, int64_t n_tasks, rope_task_fn task, void *arg) {
    note_call(user, n_tasks);
    for (int64_t i = n_tasks - 1; i >= 0; i--) task(arg, i);
}

#ifdef ROPE_TEST_OPENMP
static void openmp_host(void *user, int64_t n_tasks, rope_task_fn task, void *arg) {
    note_call(user, n_tasks);
#pragma omp parallel for num_threads(HOST_THREADS) schedule(dynamic, 1)
    for (int64_t i = 0; i < n_tasks; i++) task(arg, i);
}
#endif

/* ---- the cases ----------------------------------------------------------------------------------- */

/* One ONNX call (table or on the fly) with its inputs; y is written by run_case. */
typedef struct onnx_case {
    ref_onnx_case rc;
    rope_dtype dt;
    int fly;
    void *x, *y, *cos, *sin;
    int64_t *ids;
    rope_freq_config freq;
    size_t n, cs_n;
} onnx_case;

static rope_status call(const onnx_case *c, rope_context *ctx, void *y) {
    rope_onnx_attrs a = {c->rc.interleaved, c->rc.rot, c->rc.rank == 3 ? c->rc.heads : 0};
    rope_tensor X = {c->x, c->dt, c->rc.rank, {0}, 0}, Y;
    if (c->rc.rank == 4) {
        int64_t d[4] = {c->rc.batch, c->rc.heads, c->rc.seq, c->rc.head_size};
        memcpy(X.dims, d, sizeof d);
    } else {
        int64_t d[3] = {c->rc.batch, c->rc.seq, c->rc.heads * c->rc.head_size};
        memcpy(X.dims, d, sizeof d);
    }
    Y = X, Y.data = y;
    int64_t r2 = (c->rc.rot ? c->rc.rot : c->rc.head_size) / 2;
    rope_tensor P = {c->ids, ROPE_I64, 2, {c->rc.batch, c->rc.seq}, 0};
    if (c->fly) {
        rope_fly f = {&c->freq, ROPE_POSITIONS_PER_TOKEN, P, 0};
        return rope_onnx_rotary_embedding_fly(ctx, &a, &X, &f, &Y);
    }
    rope_tensor C = {c->cos, c->dt, 2, {c->rc.max_pos, r2}, 0}, S = C;
    S.data = c->sin;
    return rope_onnx_rotary_embedding(ctx, &a, &X, &C, &S, &P, &Y);
}

static void make_case(onnx_case *c, int iter) {
    static const rope_dtype dts[] = {ROPE_F32, ROPE_F16, ROPE_BF16};
    memset(c, 0, sizeof *c);
    c->dt = dts[iter % 3];
    c->fly = iter % 4 == 3;
    c->rc.rank = iter % 2 ? 4 : 3;
    c->rc.batch = tu_int(1, 3);
    c->rc.seq = tu_int(1, 70);
    c->rc.heads = tu_int(1, 6);
    c->rc.head_size = 2 * tu_int(1, 24);
    c->rc.rot = 2 * tu_int(1, c->rc.head_size / 2);
    c->rc.interleaved = (int)tu_int(0, 1);
    c->rc.max_pos = tu_int(1, 300);
    c->n = ref_onnx_numel(&c->rc);
    c->cs_n = (size_t)c->rc.max_pos * (size_t)(c->rc.rot / 2);
    size_t es = rope_dtype_size(c->dt);
    c->x = tu_xmalloc(c->n * es), c->y = tu_xmalloc(c->n * es);
    c->cos = tu_xmalloc(c->cs_n * es), c->sin = tu_xmalloc(c->cs_n * es);
    c->ids = tu_xmalloc((size_t)(c->rc.batch * c->rc.seq) * sizeof(int64_t));
    ref_fill(c->dt, c->x, NULL, c->n);
    for (int64_t i = 0; i < c->rc.batch * c->rc.seq; i++) c->ids[i] = tu_int(0, c->rc.max_pos - 1);
    c->freq = (rope_freq_config)ROPE_FREQ_CONFIG_INIT;
    c->freq.rotary_dim = c->rc.rot;
    c->freq.base = 10000;
    /* Table values: the cache the on-the-fly call would compute, so the reference serves both. */
    rope_tensor C = {c->cos, c->dt, 2, {c->rc.max_pos, c->rc.rot / 2}, 0}, S = C;
    S.data = c->sin;
    CHECK(rope_cache_fill(&c->freq, 0, c->rc.max_pos, ROPE_CACHE_HALF, 0, &C, &S) == ROPE_OK, "cache: %s",
          rope_last_error());
}

static void free_case(onnx_case *c) {
    free(c->x), free(c->y), free(c->cos), free(c->sin), free(c->ids);
}

/* The own pool's output, checked against the float64 reference. */
static void check_reference(const onnx_case *c, const char *what) {
    double *x = tu_xmalloc(c->n * sizeof(double)), *want = tu_xmalloc(c->n * sizeof(double));
    double *perr = tu_xmalloc(c->n * sizeof(double));
    double *cs = tu_xmalloc(c->cs_n * sizeof(double)), *sn = tu_xmalloc(c->cs_n * sizeof(double));
    for (size_t i = 0; i < c->n; i++) x[i] = ref_load(c->dt, c->x, i);
    for (size_t i = 0; i < c->cs_n; i++) cs[i] = ref_load(c->dt, c->cos, i), sn[i] = ref_load(c->dt, c->sin, i);
    CHECK(ref_onnx_rotary(&c->rc, x, cs, sn, c->ids, want, perr) == 0, "%s: reference refused the case", what);
    ref_report rep;
    char buf[160];
    size_t bad = ref_compare(c->dt, c->y, c->n, 1, 1, want, perr, &rep);
    CHECK(bad == 0, "%s: own pool vs float64 reference: %s", what, ref_report_str(&rep, buf, sizeof buf));
    free(x), free(want), free(perr), free(cs), free(sn);
}

/* ---- split workers ------------------------------------------------------------------------------- */

typedef struct split_worker {
    const onnx_case *c;
    rope_context *ctx;
    void *y;
    rope_status st;
} split_worker;

static void *split_main(void *p) {
    split_worker *w = p;
    w->st = call(w->c, w->ctx, w->y);
    return NULL;
}

/* parts pthreads, each calling with its own split context, joined (the host's barrier). */
static rope_status run_split_pthreads(const onnx_case *c, rope_context **parts, int n, void *y) {
    pthread_t t[MAX_PARTS];
    split_worker w[MAX_PARTS];
    int started[MAX_PARTS] = {0};
    for (int i = 0; i < n; i++) {
        w[i] = (split_worker){c, parts[i], y, ROPE_OK};
        started[i] = pthread_create(&t[i], NULL, split_main, &w[i]) == 0;
        if (!started[i]) split_main(&w[i]);
    }
    rope_status st = ROPE_OK;
    for (int i = 0; i < n; i++) {
        if (started[i]) pthread_join(t[i], NULL);
        if (w[i].st != ROPE_OK) st = w[i].st;
    }
    return st;
}

#ifdef ROPE_TEST_OPENMP
static rope_status run_split_openmp(const onnx_case *c, rope_context **parts, int n, void *y) {
    rope_status sts[MAX_PARTS];
#pragma omp parallel num_threads(n)
    {
        /* The team may be smaller than asked: each thread takes the parts i == tid (mod team). */
        int tid = omp_get_thread_num(), team = omp_get_num_threads();
        for (int i = tid; i < n; i += team) sts[i] = call(c, parts[i], y);
    }
    for (int i = 0; i < n; i++)
        if (sts[i] != ROPE_OK) return sts[i];
    return ROPE_OK;
}
#endif

/* ---- the comparison ------------------------------------------------------------------------------ */

static rope_context *own, *pthread_ctx, *serial_ctx, *openmp_ctx;
static rope_context *split_ctx[MAX_PARTS][MAX_PARTS]; /* [n - 1][part] */
static host_stats pthread_stats, serial_stats;
#ifdef ROPE_TEST_OPENMP
static host_stats openmp_stats;
#endif

static void poison(const onnx_case *c, void *y) { memset(y, 0x7f, c->n * rope_dtype_size(c->dt)); }

static void compare_host(const onnx_case *c, const void *want, rope_context *ctx, const char *host, int iter) {
    void *y = tu_xmalloc(c->n * rope_dtype_size(c->dt));
    poison(c, y);
    rope_status st = call(c, ctx, y);
    CHECK(st == ROPE_OK, "case %d, %s host: %s", iter, host, rope_last_error());
    CHECK(st != ROPE_OK || memcmp(y, want, c->n * rope_dtype_size(c->dt)) == 0,
          "case %d (%s, rank %d, fly %d), %s host: output differs from the own pool's", iter, rope_dtype_name(c->dt),
          c->rc.rank, c->fly, host);
    free(y);
}

static void compare_split(const onnx_case *c, const void *want, int n, int openmp, int iter) {
    void *y = tu_xmalloc(c->n * rope_dtype_size(c->dt));
    poison(c, y);
    rope_status st = ROPE_OK;
#ifdef ROPE_TEST_OPENMP
    if (openmp) st = run_split_openmp(c, split_ctx[n - 1], n, y);
    else
#endif
        st = run_split_pthreads(c, split_ctx[n - 1], n, y);
    (void)openmp;
    CHECK(st == ROPE_OK, "case %d, split %d: %s", iter, n, rope_last_error());
    CHECK(st != ROPE_OK || memcmp(y, want, c->n * rope_dtype_size(c->dt)) == 0,
          "case %d (%s, rank %d, fly %d), split in %d parts (%s): output differs from the own pool's", iter,
          rope_dtype_name(c->dt), c->rc.rank, c->fly, n, openmp ? "OpenMP" : "pthreads");
    free(y);
}

static rope_context *make(rope_context_options o) {
    rope_context *ctx = NULL;
    if (rope_context_create(&o, &ctx) != ROPE_OK) {
        fprintf(stderr, "cannot create a context: %s\n", rope_last_error());
        exit(1);
    }
    return ctx;
}

static void make_contexts(void) {
    rope_context_options o = ROPE_CONTEXT_OPTIONS_INIT;
    o.threads = HOST_THREADS;
    own = make(o);
    o.parallel_for = pthread_host, o.parallel_user = &pthread_stats;
    pthread_ctx = make(o);
    o.parallel_for = serial_host, o.parallel_user = &serial_stats;
    serial_ctx = make(o);
#ifdef ROPE_TEST_OPENMP
    o.parallel_for = openmp_host, o.parallel_user = &openmp_stats;
    openmp_ctx = make(o);
#endif
    for (int n = 1; n <= MAX_PARTS; n++)
        for (int i = 0; i < n; i++) {
            rope_context_options s = ROPE_CONTEXT_OPTIONS_INIT;
            s.split_part = i, s.split_parts = n;
            split_ctx[n - 1][i] = make(s);
        }
}

static void free_contexts(void) {
    rope_context_free(own), rope_context_free(pthread_ctx), rope_context_free(serial_ctx);
    rope_context_free(openmp_ctx);
    for (int n = 1; n <= MAX_PARTS; n++)
        for (int i = 0; i < n; i++) rope_context_free(split_ctx[n - 1][i]);
}

static void host_contexts_start_no_thread(void) {
    CHECK(pthread_ctx->pool == NULL && serial_ctx->pool == NULL, "a host-threads context started a pool");
    CHECK(rope_context_threads(pthread_ctx) == HOST_THREADS, "threads %d", rope_context_threads(pthread_ctx));
    for (int n = 1; n <= MAX_PARTS; n++)
        for (int i = 0; i < n; i++)
            CHECK(split_ctx[n - 1][i]->pool == NULL && rope_context_threads(split_ctx[n - 1][i]) == n,
                  "split %d/%d: pool %p, threads %d", i, n, (void *)split_ctx[n - 1][i]->pool,
                  rope_context_threads(split_ctx[n - 1][i]));
    CHECK(own->pool != NULL, "the own-pool context has no pool");
}

/* ---- options ------------------------------------------------------------------------------------- */

static void expect_refused(rope_context_options o, const char *field, const char *what) {
    rope_context *keep = (rope_context *)&keep;
    rope_status st = rope_context_create(&o, &keep);
    CHECK(st == ROPE_ERROR_ATTRIBUTE && keep == (rope_context *)&keep && strstr(rope_last_error(), field),
          "%s: status %d, message %s", what, (int)st, rope_last_error());
}

static void options(void) {
    rope_context_options z;
    memset(&z, 0, sizeof z);
    z.threads = 2;
    expect_refused(z, "struct_size: expected", "zero-initialised options");
    rope_context_options o = ROPE_CONTEXT_OPTIONS_INIT;
    o.struct_size = sizeof o + 8;
    expect_refused(o, "struct_size", "struct_size past this library's");
    o = (rope_context_options)ROPE_CONTEXT_OPTIONS_INIT;
    o.split_parts = 2, o.split_part = 2;
    expect_refused(o, "split_part: expected 0..1", "split part 2 of 2");
    o.split_part = -1;
    expect_refused(o, "split_part", "split part -1");
    o.split_part = 0, o.split_parts = ROPE_MAX_THREADS + 1;
    expect_refused(o, "split_parts", "too many parts");
    o.split_parts = -1;
    expect_refused(o, "split_parts", "negative parts");
    o.split_parts = 2, o.threads = 2;
    expect_refused(o, "threads: expected 0 with split_parts", "threads with a split");
    o.threads = 0, o.parallel_for = serial_host;
    expect_refused(o, "parallel_for", "parallel_for with a split");
    o = (rope_context_options)ROPE_CONTEXT_OPTIONS_INIT;
    o.split_part = 1;
    expect_refused(o, "split_part", "split_part without split_parts");
    o.split_part = 0, o.parallel_user = &o;
    expect_refused(o, "parallel_user", "parallel_user without parallel_for");
    o = (rope_context_options)ROPE_CONTEXT_OPTIONS_INIT;
    rope_context *ctx = NULL;
    CHECK(rope_context_create(&o, &ctx) == ROPE_OK && ctx, "INIT options: %s", rope_last_error());
    rope_context_free(ctx);
}

/* Every part of a split call gets the same error, and nothing is written. */
static void split_errors(void) {
    onnx_case c;
    make_case(&c, 0);
    c.ids[0] = c.rc.max_pos; /* out of range */
    void *y = tu_xmalloc(c.n * rope_dtype_size(c.dt));
    poison(&c, y);
    for (int i = 0; i < 3; i++) {
        rope_status st = call(&c, split_ctx[2][i], y);
        CHECK(st == ROPE_ERROR_INDEX, "split part %d of 3: status %d", i, (int)st);
    }
    unsigned char *b = y;
    size_t touched = 0;
    for (size_t i = 0; i < c.n * rope_dtype_size(c.dt); i++) touched += b[i] != 0x7f;
    CHECK(touched == 0, "a failing split call wrote %zu bytes", touched);
    free(y);
    free_case(&c);
}

int main(void) {
    tu_seed(0x7e57);
    tu_split_everything(8); /* tiny jobs split into many blocks, so every task gets work */
    make_contexts();
    host_contexts_start_no_thread();
    options();
    for (int iter = 0; iter < 48; iter++) {
        onnx_case c;
        make_case(&c, iter);
        poison(&c, c.y);
        rope_status st = call(&c, own, c.y);
        CHECK(st == ROPE_OK, "case %d, own pool: %s", iter, rope_last_error());
        if (st != ROPE_OK) {
            free_case(&c);
            continue;
        }
        char what[32];
        snprintf(what, sizeof what, "case %d", iter);
        check_reference(&c, what);
        compare_host(&c, c.y, pthread_ctx, "pthread", iter);
        compare_host(&c, c.y, serial_ctx, "serial", iter);
        if (openmp_ctx) compare_host(&c, c.y, openmp_ctx, "OpenMP", iter);
        for (int n = 1; n <= MAX_PARTS; n++) {
            compare_split(&c, c.y, n, 0, iter);
#ifdef ROPE_TEST_OPENMP
            compare_split(&c, c.y, n, 1, iter);
#endif
        }
        free_case(&c);
    }
    /* The hosts were handed work in several tasks, never more than the context's threads. */
    CHECK(atomic_load(&pthread_stats.calls) > 0 && atomic_load(&pthread_stats.max_tasks) >= 2 &&
              atomic_load(&pthread_stats.max_tasks) <= HOST_THREADS,
          "pthread host: %d calls, at most %d tasks", atomic_load(&pthread_stats.calls),
          atomic_load(&pthread_stats.max_tasks));
#ifdef ROPE_TEST_OPENMP
    CHECK(atomic_load(&openmp_stats.calls) > 0 && atomic_load(&openmp_stats.max_tasks) >= 2,
          "OpenMP host: %d calls", atomic_load(&openmp_stats.calls));
#else
    printf("built without OpenMP: the OpenMP host was not tested\n");
#endif
    split_errors();
    free_contexts();
    return tu_finish();
}
