/* SPDX-License-Identifier: MIT */
/* Contexts and their pools: create/free many times (ASan sees any leak or thread left behind), the
 * thread count limits, the default context's lazy pool, and the small-call path: a decode step never
 * wakes a worker, a prefill does. */
#include <stdlib.h>
#include <string.h>

#include "engine/context.h"
#include "engine/engine.h"
#include "harness.h"
#include "reference.h"

/* ONNX [1, heads, seq, 128] f32 with position ids: a decode step when seq is 1. */
static rope_status onnx_call(rope_context *ctx, int64_t heads, int64_t seq) {
    size_t n = (size_t)(heads * seq * 128);
    float *x = malloc(n * 4), *y = malloc(n * 4), *cs = malloc((size_t)seq * 64 * 4);
    int64_t *ids = malloc((size_t)seq * sizeof *ids);
    rope_status st = ROPE_ERROR_OUT_OF_MEMORY;
    if (x && y && cs && ids) {
        ref_fill(ROPE_F32, x, NULL, n);
        ref_fill(ROPE_F32, cs, NULL, (size_t)seq * 64);
        for (int64_t i = 0; i < seq; i++) ids[i] = i;
        rope_tensor X = {x, ROPE_F32, 4, {1, heads, seq, 128}, 0}, Y = X, C = {cs, ROPE_F32, 2, {seq, 64}, 0};
        rope_tensor P = {ids, ROPE_I64, 2, {1, seq}, 0};
        Y.data = y;
        st = rope_onnx_rotary_embedding(ctx, NULL, &X, &C, &C, &P, &Y);
    }
    free(x), free(y), free(cs), free(ids);
    return st;
}

/* ATB decode: q [1, 4096], k [1, 1024] f16, cos [1, 128] f16. */
static rope_status atb_decode(rope_context *ctx) {
    static uint16_t q[4096], k[1024], rq[4096], rk[1024], cs[128];
    ref_fill(ROPE_F16, q, NULL, 4096);
    ref_fill(ROPE_F16, k, NULL, 1024);
    ref_fill(ROPE_F16, cs, NULL, 128);
    int32_t seqlen = 1;
    rope_tensor Q = {q, ROPE_F16, 2, {1, 4096}, 0}, K = {k, ROPE_F16, 2, {1, 1024}, 0};
    rope_tensor RQ = Q, RK = K, C = {cs, ROPE_F16, 2, {1, 128}, 0}, L = {&seqlen, ROPE_I32, 1, {1}, 0};
    RQ.data = rq, RK.data = rk;
    rope_atb_param p = {2, 0, 0, {0}, 0};
    return rope_atb_rope(ctx, &p, &Q, &K, &C, &C, &L, &RQ, &RK);
}

static void lifecycle(void) {
    int bad = 0;
    for (int i = 0; i < 300; i++) {
        rope_context_options o = {sizeof(rope_context_options), ROPE_ISA_AUTO, 1 + i % 8, NULL, NULL, 0, 0};
        rope_context *ctx = NULL;
        if (rope_context_create(&o, &ctx) != ROPE_OK || rope_context_threads(ctx) != o.threads ||
            rope_pool_workers(ctx->pool) != o.threads - 1)
            bad++;
        /* Every tenth one does real work on its pool before going away. */
        if (ctx && i % 10 == 0 && onnx_call(ctx, 32, 160) != ROPE_OK) bad++;
        rope_context_free(ctx);
    }
    CHECK(bad == 0, "%d of 300 create/use/free rounds went wrong", bad);
    rope_context_free(NULL);

    rope_context *keep = (rope_context *)&keep;
    rope_context_options over = {sizeof(rope_context_options), ROPE_ISA_AUTO, ROPE_MAX_THREADS + 1, NULL, NULL, 0, 0};
    CHECK(rope_context_create(&over, &keep) == ROPE_ERROR_ATTRIBUTE && keep == (rope_context *)&keep,
          "threads %d accepted", over.threads);
    rope_context_options one = {sizeof(rope_context_options), ROPE_ISA_AUTO, 1, NULL, NULL, 0, 0};
    rope_context *ctx = NULL;
    CHECK(rope_context_create(&one, &ctx) == ROPE_OK && ctx->pool == NULL, "1 thread: a pool was made");
    rope_context_free(ctx);

    /* Changing the instruction set keeps the threads and the pool. */
    rope_context_options three = {sizeof(rope_context_options), ROPE_ISA_AUTO, 3, NULL, NULL, 0, 0};
    CHECK(rope_context_create(&three, &ctx) == ROPE_OK, "%s", rope_last_error());
    rope_pool *pool = ctx->pool;
    CHECK(rope_context_set_isa(ctx, ROPE_ISA_SCALAR) == ROPE_OK && ctx->pool == pool && rope_context_threads(ctx) == 3,
          "set_isa changed the threads");
    CHECK(onnx_call(ctx, 8, 1100) == ROPE_OK, "%s", rope_last_error());
    rope_context_free(ctx);
}

static void small_calls(void) {
    rope_context_options two = {sizeof(rope_context_options), ROPE_ISA_AUTO, 2, NULL, NULL, 0, 0};
    rope_context *ctx = NULL;
    CHECK(rope_context_create(&two, &ctx) == ROPE_OK, "%s", rope_last_error());
    if (!ctx) return;
    /* The decode shapes are well below the threshold... */
    CHECK(32 * 128 * 4 * 2 + 2 * 64 * 4 < rope_engine_tune.parallel_min_bytes, "threshold %zu below a decode step",
          rope_engine_tune.parallel_min_bytes);
    unsigned long long before = rope_pool_dispatches(ctx->pool);
    for (int i = 0; i < 100; i++) {
        CHECK(onnx_call(ctx, 32, 1) == ROPE_OK, "%s", rope_last_error());
        CHECK(atb_decode(ctx) == ROPE_OK, "%s", rope_last_error());
    }
    CHECK(rope_pool_dispatches(ctx->pool) == before, "decode steps woke the pool %llu times",
          rope_pool_dispatches(ctx->pool) - before);
    /* ... and a prefill of 256 tokens (8 MiB) is above it. */
    CHECK(onnx_call(ctx, 32, 256) == ROPE_OK, "%s", rope_last_error());
    CHECK(rope_pool_dispatches(ctx->pool) == before + 1, "a prefill did not use the pool");
    rope_context_free(ctx);
}

/* The default context starts its pool only when a call is large enough to need it. */
static void default_pool(void) {
    rope_context *def = rope_context_resolve(NULL);
    CHECK(def != NULL, "no default context");
    if (!def) return;
    CHECK(def->pool == NULL, "the default context started threads before any call");
    CHECK(onnx_call(NULL, 32, 1) == ROPE_OK, "%s", rope_last_error());
    CHECK(def->pool == NULL, "a decode step started the default context's threads");
    CHECK(onnx_call(NULL, 32, 256) == ROPE_OK, "%s", rope_last_error());
    CHECK((def->pool != NULL) == (rope_context_threads(NULL) > 1), "default pool after a prefill: %p, %d threads",
          (void *)def->pool, rope_context_threads(NULL));
}

/* The system refusing a thread midway: the context fails cleanly (the started workers are joined,
 * nothing leaks under ASan) and *out is left alone. */
static void thread_refused(void) {
    static const int fail_at[] = {0, 1, 4};
    for (int i = 0; i < 3; i++) {
        rope_pool_fail_start = fail_at[i];
        rope_context_options six = {sizeof(rope_context_options), ROPE_ISA_AUTO, 6, NULL, NULL, 0, 0};
        rope_context *keep = (rope_context *)&keep;
        rope_status st = rope_context_create(&six, &keep);
        CHECK(st == ROPE_ERROR_OUT_OF_MEMORY && keep == (rope_context *)&keep &&
                  strstr(rope_last_error(), "rope_context_create: could not start worker thread"),
              "refused thread %d: status %d, %s", fail_at[i], (int)st, rope_last_error());
    }
    rope_pool_fail_start = -1;
    rope_context_options two = {sizeof(rope_context_options), ROPE_ISA_AUTO, 2, NULL, NULL, 0, 0};
    rope_context *ctx = NULL;
    CHECK(rope_context_create(&two, &ctx) == ROPE_OK, "after refusals: %s", rope_last_error());
    rope_context_free(ctx);
}

int main(void) {
    tu_seed(3);
    thread_refused();
    default_pool(); /* first: nothing may have used the default context yet */
    lifecycle();
    small_calls();
    return tu_finish();
}
