/* SPDX-License-Identifier: MIT */
/* Four user threads hammer one context (and the default one) with different shapes at once: every
 * result matches the one-thread result. Thresholds are lowered so nearly every call wants the pool
 * and the callers keep colliding on it (the losers run inline on their own thread). */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/context.h"
#include "engine/engine.h"
#include "harness.h"
#include "reference.h"

enum { N_CASES = 12, N_USERS = 4 };

typedef struct onnx_call {
    rope_dtype dt;
    rope_tensor x, cos, sin, ids;
    rope_onnx_attrs attrs;
    size_t bytes;
    void *want;
} onnx_call;

static onnx_call cases[N_CASES];
static rope_context *shared;
static atomic_int mismatches, failures, calls;

static void make_case(onnx_call *c, int i) {
    static const rope_dtype types[] = {ROPE_F32, ROPE_F16, ROPE_BF16};
    c->dt = types[i % 3];
    size_t es = rope_dtype_size(c->dt);
    int64_t B = tu_int(1, 2), N = tu_int(1, 16), S = i % 4 == 0 ? 1 : tu_int(2, 300), H = 2 * tu_int(4, 40);
    int64_t max_pos = S + tu_int(0, 10);
    size_t n = (size_t)(B * N * S * H);
    c->attrs.interleaved = i % 2;
    c->attrs.rotary_embedding_dim = 0;
    c->attrs.num_heads = 0;
    c->bytes = n * es;
    rope_tensor x = {malloc(n * es), c->dt, 4, {B, N, S, H}, 0};
    rope_tensor cs = {malloc((size_t)(max_pos * H / 2) * es), c->dt, 2, {max_pos, H / 2}, 0};
    rope_tensor sn = cs;
    sn.data = malloc((size_t)(max_pos * H / 2) * es);
    rope_tensor ids = {malloc((size_t)(B * S) * sizeof(int64_t)), ROPE_I64, 2, {B, S}, 0};
    ref_fill(c->dt, x.data, NULL, n);
    ref_fill(c->dt, cs.data, NULL, (size_t)(max_pos * H / 2));
    ref_fill(c->dt, sn.data, NULL, (size_t)(max_pos * H / 2));
    for (int64_t k = 0; k < B * S; k++) ((int64_t *)ids.data)[k] = tu_int(0, max_pos - 1);
    c->x = x, c->cos = cs, c->sin = sn, c->ids = ids;
    c->want = malloc(c->bytes);
}

static rope_status run_case(rope_context *ctx, const onnx_call *c, void *out) {
    rope_tensor y = c->x;
    y.data = out;
    return rope_onnx_rotary_embedding(ctx, &c->attrs, &c->x, &c->cos, &c->sin, &c->ids, &y);
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void *user(void *arg) {
    int id = (int)(intptr_t)arg;
    size_t most = 0;
    for (int i = 0; i < N_CASES; i++) most = cases[i].bytes > most ? cases[i].bytes : most;
    void *out = malloc(most);
    double end = now_s() + 1.0;
    for (int it = 0; out && (it < 60 || now_s() < end); it++) {
        const onnx_call *c = &cases[(id * 5 + it * (id + 1)) % N_CASES];
        rope_context *ctx = it % 4 == 3 ? NULL : shared; /* the default context too */
        memset(out, 0xa5, c->bytes);
        if (run_case(ctx, c, out) != ROPE_OK) atomic_fetch_add(&failures, 1);
        else if (memcmp(out, c->want, c->bytes) != 0) atomic_fetch_add(&mismatches, 1);
        atomic_fetch_add(&calls, 1);
    }
    free(out);
    return NULL;
}

int main(void) {
    tu_seed(77);
    rope_context_options one = {sizeof(rope_context_options), ROPE_ISA_AUTO, 1, NULL, NULL, 0, 0}, two = {sizeof(rope_context_options), ROPE_ISA_AUTO, 2, NULL, NULL, 0, 0};
    rope_context *ctx1 = NULL;
    CHECK(rope_context_create(&one, &ctx1) == ROPE_OK, "%s", rope_last_error());
    CHECK(rope_context_create(&two, &shared) == ROPE_OK, "%s", rope_last_error());
    for (int i = 0; i < N_CASES; i++) {
        make_case(&cases[i], i);
        CHECK(run_case(ctx1, &cases[i], cases[i].want) == ROPE_OK, "case %d: %s", i, rope_last_error());
    }
    rope_engine_tune.parallel_min_bytes = 4096;
    rope_engine_tune.part_min_bytes = 1024;
    unsigned long long before = rope_pool_dispatches(shared->pool);

    pthread_t th[N_USERS];
    int started = 0;
    for (int i = 0; i < N_USERS; i++) started += pthread_create(&th[i], NULL, user, (void *)(intptr_t)i) == 0;
    CHECK(started == N_USERS, "started %d user threads", started);
    for (int i = 0; i < started; i++) pthread_join(th[i], NULL);

    CHECK(atomic_load(&failures) == 0, "%d of %d calls failed", atomic_load(&failures), atomic_load(&calls));
    CHECK(atomic_load(&mismatches) == 0, "%d of %d results differ from one thread", atomic_load(&mismatches),
          atomic_load(&calls));
    CHECK(rope_pool_dispatches(shared->pool) > before, "the shared pool was never used");
    CHECK(atomic_load(&calls) >= N_USERS * 60, "only %d calls", atomic_load(&calls));

    for (int i = 0; i < N_CASES; i++) {
        free(cases[i].x.data), free(cases[i].cos.data), free(cases[i].sin.data), free(cases[i].ids.data);
        free(cases[i].want);
    }
    rope_context_free(ctx1);
    rope_context_free(shared);
    return tu_finish();
}
