/* SPDX-License-Identifier: MIT */
/* Execution contexts: instruction-set choice (ROPE_ISA or explicit), thread count and the thread pool. */
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../core/alloc.h"
#include "context.h"

static const char *const isa_names[] = {"auto", "scalar", "avx2", "avx512", "neon"};
_Static_assert(sizeof isa_names / sizeof isa_names[0] == ROPE_ISA_COUNT_, "a name for every rope_isa");

const char *rope_isa_name(rope_isa isa) {
    if ((unsigned)isa < sizeof isa_names / sizeof isa_names[0]) return isa_names[isa];
    return "invalid";
}

int rope_isa_available(rope_isa isa) {
    if (isa == ROPE_ISA_AUTO) return 1;
    const rope_kernel_set *set = rope_kernels_for(isa);
    return set && set->cpu_has();
}

static int online_cpus(void) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > ROPE_MAX_THREADS ? ROPE_MAX_THREADS : (int)n;
}

/* ROPE_ISA as it may appear in a message: at most 32 characters, anything unprintable as '?'. */
static void env_quote(const char *env, char *out, size_t n) {
    size_t i = 0;
    for (; env[i] && i < 32 && i + 1 < n; i++) out[i] = env[i] >= 0x20 && env[i] < 0x7f ? env[i] : '?';
    out[i] = 0;
}

/* Whether `isa` can run here: NULL, or why not. */
static const char *why_not(rope_isa isa) {
    const rope_kernel_set *set = rope_kernels_for(isa);
    if (!set) return "not compiled into this build";
    if (!set->cpu_has()) return "this CPU cannot execute it";
    return NULL;
}

static void use_isa(rope_context *ctx, rope_isa isa) {
    ctx->isa = isa;
    ctx->kernels = rope_kernels_for(isa);
}

/*
 * Resolves `isa` into a kernel set for `ctx` and records why (rope_context_isa_reason). An explicit
 * request that cannot be served fails. AUTO reads ROPE_ISA, which never fails: a host program must
 * not break because of a stray environment variable, so an unknown or unavailable name is ignored
 * (the automatic choice is kept, as oneDNN and OpenBLAS treat theirs) and the reason says so.
 */
static rope_status choose_isa(rope_context *ctx, rope_isa isa, const char *where) {
    size_t nr = sizeof ctx->isa_reason;
    if (isa != ROPE_ISA_AUTO) {
        if ((unsigned)isa >= sizeof isa_names / sizeof isa_names[0])
            return rope_fail(ROPE_ERROR_ATTRIBUTE, where, "isa: expected a rope_isa value, found %d", (int)isa);
        const char *no = why_not(isa);
        if (no) return rope_fail(ROPE_ERROR_UNSUPPORTED, where, "requested isa %s: %s", rope_isa_name(isa), no);
        use_isa(ctx, isa);
        snprintf(ctx->isa_reason, nr, "%s (requested)", rope_isa_name(isa));
        return ROPE_OK;
    }
    rope_isa best = rope_kernels_best();
    use_isa(ctx, best);
    const char *env = getenv("ROPE_ISA");
    if (!env || !*env || strcmp(env, "auto") == 0) {
        snprintf(ctx->isa_reason, nr, "%s (auto)", rope_isa_name(best));
        return ROPE_OK;
    }
    char shown[40];
    env_quote(env, shown, sizeof shown);
    rope_isa named = ROPE_ISA_AUTO;
    for (size_t i = 1; i < sizeof isa_names / sizeof isa_names[0]; i++)
        if (strcmp(env, isa_names[i]) == 0) named = (rope_isa)i;
    const char *no = named == ROPE_ISA_AUTO ? "unknown" : why_not(named);
    if (no) {
        snprintf(ctx->isa_reason, nr, "%s (ROPE_ISA=%s ignored: %s)", rope_isa_name(best), shown, no);
        return ROPE_OK;
    }
    use_isa(ctx, named);
    snprintf(ctx->isa_reason, nr, "%s (ROPE_ISA=%s)", rope_isa_name(named), shown);
    return ROPE_OK;
}

/* The first release's rope_context_options was {isa, threads}; every version since starts with
 * struct_size. The oldest layout with struct_size ends after split_parts. */
#define OPTIONS_V1_SIZE (offsetof(rope_context_options, split_parts) + sizeof(int))

/* Copies the fields the caller's struct_size covers over the defaults in *opt. */
static rope_status read_options(const rope_context_options *in, rope_context_options *opt, const char *where) {
    size_t n = in->struct_size;
    if (n < OPTIONS_V1_SIZE || n > sizeof *opt)
        return rope_fail(ROPE_ERROR_ATTRIBUTE, where,
                         "options->struct_size: expected %zu (start from ROPE_CONTEXT_OPTIONS_INIT), found %zu",
                         sizeof *opt, n);
    memcpy(opt, in, n);
    opt->struct_size = sizeof *opt;
    return ROPE_OK;
}

static rope_status check_threads(const rope_context_options *o, const char *where) {
    if (o->threads < 0 || o->threads > ROPE_MAX_THREADS)
        return rope_fail(ROPE_ERROR_ATTRIBUTE, where, "threads: expected 0..%d, found %d", ROPE_MAX_THREADS,
                         o->threads);
    if (o->split_parts < 0 || o->split_parts > ROPE_MAX_THREADS)
        return rope_fail(ROPE_ERROR_ATTRIBUTE, where, "split_parts: expected 0..%d, found %d", ROPE_MAX_THREADS,
                         o->split_parts);
    if (o->split_parts == 0 && o->split_part != 0)
        return rope_fail(ROPE_ERROR_ATTRIBUTE, where, "split_part: expected 0 without split_parts, found %d",
                         o->split_part);
    if (o->split_parts > 0) {
        if (o->split_part < 0 || o->split_part >= o->split_parts)
            return rope_fail(ROPE_ERROR_ATTRIBUTE, where, "split_part: expected 0..%d (split_parts %d), found %d",
                             o->split_parts - 1, o->split_parts, o->split_part);
        if (o->threads != 0)
            return rope_fail(ROPE_ERROR_ATTRIBUTE, where,
                             "threads: expected 0 with split_parts (the host's workers are the threads), found %d",
                             o->threads);
        if (o->parallel_for)
            return rope_fail(ROPE_ERROR_ATTRIBUTE, where, "parallel_for: expected NULL with split_parts");
    }
    if (!o->parallel_for && o->parallel_user)
        return rope_fail(ROPE_ERROR_ATTRIBUTE, where, "parallel_user: set without parallel_for");
    return ROPE_OK;
}

rope_status rope_context_create(const rope_context_options *options, rope_context **out) {
    static const char where[] = "rope_context_create";
    if (!out) return rope_fail(ROPE_ERROR_NULL_ARGUMENT, where, "out is NULL");
    rope_context_options opt = ROPE_CONTEXT_OPTIONS_INIT;
    rope_status st = options ? read_options(options, &opt, where) : ROPE_OK;
    if (st == ROPE_OK) st = check_threads(&opt, where);
    if (st != ROPE_OK) return st;
    rope_context tmp;
    memset(&tmp, 0, sizeof tmp);
    st = choose_isa(&tmp, opt.isa, where);
    if (st != ROPE_OK) return st;
    tmp.threads = opt.split_parts ? opt.split_parts : opt.threads ? opt.threads : online_cpus();
    tmp.parallel_for = opt.parallel_for;
    tmp.parallel_user = opt.parallel_user;
    tmp.split_part = opt.split_part;
    tmp.split_parts = opt.split_parts;
    rope_context *ctx = rope_malloc(sizeof *ctx);
    if (!ctx) return rope_fail(ROPE_ERROR_OUT_OF_MEMORY, where, "context of %zu bytes", sizeof *ctx);
    if (tmp.threads > 1 && !tmp.parallel_for && !tmp.split_parts) {
        st = rope_pool_create(tmp.threads - 1, &tmp.pool);
        if (st != ROPE_OK) {
            rope_free(ctx);
            return st;
        }
    }
    *ctx = tmp;
    *out = ctx;
    return ROPE_OK;
}

void rope_context_free(rope_context *ctx) {
    if (!ctx) return;
    rope_pool_free(ctx->pool);
    rope_free(ctx);
}

static rope_context default_ctx;
static pthread_once_t default_once = PTHREAD_ONCE_INIT;
static pthread_once_t default_pool_once = PTHREAD_ONCE_INIT;

static void default_init(void) {
    choose_isa(&default_ctx, ROPE_ISA_AUTO, "default context"); /* AUTO never fails */
    default_ctx.threads = online_cpus();
}

static rope_context *default_context(void) {
    pthread_once(&default_once, default_init);
    return &default_ctx;
}

/* Lives for the process: there is no point at which the default context is known to be unused.
 * A failure is not an error: the default context's calls then run on the calling thread. */
static void default_pool_init(void) {
    if (default_ctx.threads > 1 && rope_pool_create(default_ctx.threads - 1, &default_ctx.pool) != ROPE_OK)
        default_ctx.pool = NULL;
}

rope_pool *rope_context_pool(rope_context *ctx) {
    if (ctx == &default_ctx) pthread_once(&default_pool_once, default_pool_init);
    return ctx->pool;
}

rope_context *rope_context_resolve(rope_context *ctx) { return ctx ? ctx : default_context(); }

/* A call's blocks handed to the host: each task claims blocks until none is left. */
typedef struct host_run {
    rope_pool_fn fn;
    void *arg;
    size_t parts;
    atomic_size_t next;
} host_run;

static void host_task(void *arg, int64_t i) {
    host_run *h = arg;
    (void)i;
    for (;;) {
        size_t p = atomic_fetch_add_explicit(&h->next, 1, memory_order_relaxed);
        if (p >= h->parts) return;
        h->fn(h->arg, p, h->parts);
    }
}

void rope_context_run_parts(rope_context *ctx, rope_pool_fn fn, void *arg, size_t parts, int helpers) {
    if (ctx->split_parts) { /* this worker's share of the blocks; part 0 does a call that is not split */
        size_t n = (size_t)ctx->split_parts, me = (size_t)ctx->split_part;
        if (parts < 2 || helpers < 1) {
            if (me == 0) fn(arg, 0, 1);
            return;
        }
        for (size_t i = parts * me / n; i < parts * (me + 1) / n; i++) fn(arg, i, parts);
        return;
    }
    if (parts < 2 || helpers < 1) { /* one thread's worth of work: on the calling thread */
        fn(arg, 0, 1);
        return;
    }
    if (ctx->parallel_for) {
        host_run h = {fn, arg, parts, 0};
        atomic_init(&h.next, 0);
        size_t tasks = (size_t)helpers + 1 < parts ? (size_t)helpers + 1 : parts; /* >= 2 */
        ctx->parallel_for(ctx->parallel_user, (int64_t)tasks, host_task, &h);
        return;
    }
    if (!rope_pool_run(rope_context_pool(ctx), fn, arg, parts, helpers)) fn(arg, 0, 1);
}

rope_status rope_context_set_isa(rope_context *ctx, rope_isa isa) {
    rope_context *c = ctx ? ctx : default_context();
    /* Only the instruction set changes: the threads stay as they are. */
    rope_context tmp;
    memset(&tmp, 0, sizeof tmp);
    rope_status st = choose_isa(&tmp, isa, "rope_context_set_isa");
    if (st != ROPE_OK) return st;
    c->isa = tmp.isa;
    c->kernels = tmp.kernels;
    memcpy(c->isa_reason, tmp.isa_reason, sizeof c->isa_reason);
    return ROPE_OK;
}

rope_isa rope_context_isa(const rope_context *ctx) { return (ctx ? ctx : default_context())->isa; }

const char *rope_context_isa_reason(const rope_context *ctx) { return (ctx ? ctx : default_context())->isa_reason; }

int rope_context_threads(const rope_context *ctx) { return (ctx ? ctx : default_context())->threads; }
