/* Execution contexts: instruction-set choice (ROPE_ISA or explicit), thread count and the thread pool. */
#include <pthread.h>
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

/* Resolves `isa` (possibly AUTO, then ROPE_ISA decides) into a kernel set for `ctx`. */
static rope_status choose_isa(rope_context *ctx, rope_isa isa, const char *where) {
    const char *from = "requested";
    if (isa == ROPE_ISA_AUTO) {
        const char *env = getenv("ROPE_ISA");
        if (env && *env && strcmp(env, "auto") != 0) {
            from = "ROPE_ISA";
            isa = ROPE_ISA_AUTO;
            for (size_t i = 1; i < sizeof isa_names / sizeof isa_names[0]; i++)
                if (strcmp(env, isa_names[i]) == 0) isa = (rope_isa)i;
            if (isa == ROPE_ISA_AUTO)
                return rope_fail(ROPE_ERROR_ATTRIBUTE, where,
                                 "ROPE_ISA=\"%.32s\": expected scalar, avx2, avx512, neon or auto", env);
        } else {
            isa = rope_kernels_best();
        }
    }
    if ((unsigned)isa >= sizeof isa_names / sizeof isa_names[0])
        return rope_fail(ROPE_ERROR_ATTRIBUTE, where, "isa: expected a rope_isa value, found %d", (int)isa);
    const rope_kernel_set *set = rope_kernels_for(isa);
    if (!set) return rope_fail(ROPE_ERROR_UNSUPPORTED, where, "%s isa %s: not compiled into this build", from,
                               rope_isa_name(isa));
    if (!set->cpu_has())
        return rope_fail(ROPE_ERROR_UNSUPPORTED, where, "%s isa %s: this CPU cannot execute it", from,
                         rope_isa_name(isa));
    ctx->isa = isa;
    ctx->kernels = set;
    return ROPE_OK;
}

rope_status rope_context_create(const rope_context_options *options, rope_context **out) {
    static const char where[] = "rope_context_create";
    if (!out) return rope_fail(ROPE_ERROR_NULL_ARGUMENT, where, "out is NULL");
    rope_context_options opt = {ROPE_ISA_AUTO, 0};
    if (options) opt = *options;
    if (opt.threads < 0 || opt.threads > ROPE_MAX_THREADS)
        return rope_fail(ROPE_ERROR_ATTRIBUTE, where, "threads: expected 0..%d, found %d", ROPE_MAX_THREADS,
                         opt.threads);
    rope_context tmp;
    memset(&tmp, 0, sizeof tmp);
    rope_status st = choose_isa(&tmp, opt.isa, where);
    if (st != ROPE_OK) return st;
    tmp.threads = opt.threads ? opt.threads : online_cpus();
    rope_context *ctx = rope_malloc(sizeof *ctx);
    if (!ctx) return rope_fail(ROPE_ERROR_OUT_OF_MEMORY, where, "context of %zu bytes", sizeof *ctx);
    if (tmp.threads > 1) {
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
static rope_status default_status;
static char default_msg[256];
static pthread_once_t default_once = PTHREAD_ONCE_INIT;
static pthread_once_t default_pool_once = PTHREAD_ONCE_INIT;

static void default_init(void) {
    default_status = choose_isa(&default_ctx, ROPE_ISA_AUTO, "default context");
    if (default_status != ROPE_OK) {
        strncpy(default_msg, rope_last_error(), sizeof default_msg - 1);
        default_ctx.isa = ROPE_ISA_SCALAR;
        default_ctx.kernels = &rope_kernels_scalar;
    }
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

rope_status rope_context_resolve(rope_context *ctx, const char *where, rope_context **out) {
    if (!ctx) {
        ctx = default_context();
        if (default_status != ROPE_OK) return rope_fail(default_status, where, "%s", default_msg);
    }
    *out = ctx;
    return ROPE_OK;
}

rope_status rope_context_set_isa(rope_context *ctx, rope_isa isa) {
    rope_context *c = ctx ? ctx : default_context();
    /* Only the instruction set changes: the threads stay as they are. */
    rope_context tmp = {0};
    rope_status st = choose_isa(&tmp, isa, "rope_context_set_isa");
    if (st != ROPE_OK) return st;
    c->isa = tmp.isa;
    c->kernels = tmp.kernels;
    if (!ctx) default_status = ROPE_OK;
    return ROPE_OK;
}

rope_isa rope_context_isa(const rope_context *ctx) { return (ctx ? ctx : default_context())->isa; }

int rope_context_threads(const rope_context *ctx) { return (ctx ? ctx : default_context())->threads; }
