/* Execution contexts: creation options, instruction-set choice (explicit, ROPE_ISA, automatic),
 * thread counts, the default context, and identical results whatever the context. */
/* setenv, unsetenv, fork */
#define _POSIX_C_SOURCE 200809L

#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "reference.h"
#include "rope.h"

static const rope_isa real_isas[] = {ROPE_ISA_SCALAR, ROPE_ISA_AVX2, ROPE_ISA_AVX512, ROPE_ISA_NEON};

/* The best set the CPU has, as rope.h ranks them. */
static rope_isa best_isa(void) {
    static const rope_isa order[] = {ROPE_ISA_AVX512, ROPE_ISA_AVX2, ROPE_ISA_NEON};
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++)
        if (rope_isa_available(order[i])) return order[i];
    return ROPE_ISA_SCALAR;
}

/* A small valid ONNX call on `ctx`; used to see whether a context works. */
static rope_status small_call(rope_context *ctx) {
    float x[8] = {1, 2, 3, 4, 5, 6, 7, 8}, y[8], c[2] = {1, 0}, s[2] = {0, 1};
    rope_tensor X = {x, ROPE_F32, 4, {1, 1, 1, 8}, 0}, Y = {y, ROPE_F32, 4, {1, 1, 1, 8}, 0};
    rope_tensor C = {c, ROPE_F32, 3, {1, 1, 2}, 0}, S = {s, ROPE_F32, 3, {1, 1, 2}, 0};
    rope_onnx_attrs a = {0, 4, 0};
    return rope_onnx_rotary_embedding(ctx, &a, &X, &C, &S, NULL, &Y);
}

/* ---- the default context reads ROPE_ISA once, at its first use: each case in a fresh child ---- */

/* Runs `fn` in a child process with ROPE_ISA = value; returns the child's exit code. */
static int in_child(const char *value, int (*fn)(void)) {
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        setenv("ROPE_ISA", value, 1);
        _exit(fn());
    }
    int status = 0;
    if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status)) return 100;
    return WEXITSTATUS(status);
}

static int child_scalar(void) {
    if (rope_context_isa(NULL) != ROPE_ISA_SCALAR) return 1;
    return small_call(NULL) == ROPE_OK ? 0 : 2;
}

static int child_bogus(void) {
    if (small_call(NULL) != ROPE_ERROR_ATTRIBUTE) return 1;
    if (!strstr(rope_last_error(), "ROPE_ISA") || !strstr(rope_last_error(), "bogus")) return 2;
    /* Forcing a set repairs the default context. */
    if (rope_context_set_isa(NULL, ROPE_ISA_SCALAR) != ROPE_OK) return 3;
    return small_call(NULL) == ROPE_OK ? 0 : 4;
}

static int child_unavailable(void) { return small_call(NULL) == ROPE_ERROR_UNSUPPORTED ? 0 : 1; }

static const char *unavailable_name(void) {
    static const char *const names[] = {"avx2", "avx512", "neon"};
    for (int i = 0; i < 3; i++)
        if (!rope_isa_available(real_isas[i + 1])) return names[i];
    return NULL;
}

static void default_context_env(void) {
    int code = in_child("scalar", child_scalar);
    CHECK(code == 0, "ROPE_ISA=scalar: default context check %d failed", code);
    code = in_child("bogus", child_bogus);
    CHECK(code == 0, "ROPE_ISA=bogus: default context check %d failed", code);
    const char *name = unavailable_name();
    if (name) {
        code = in_child(name, child_unavailable);
        CHECK(code == 0, "ROPE_ISA=%s (not available here): the default context did not refuse it", name);
    }
}

/* ---- rope_context_create ------------------------------------------------------------------------ */

static void names_and_availability(void) {
    static const char *const names[] = {"auto", "scalar", "avx2", "avx512", "neon"};
    for (int i = 0; i < 5; i++)
        CHECK(strcmp(rope_isa_name((rope_isa)i), names[i]) == 0, "isa %d: %s", i, rope_isa_name((rope_isa)i));
    CHECK(strcmp(rope_isa_name((rope_isa)5), "invalid") == 0 && strcmp(rope_isa_name((rope_isa)-1), "invalid") == 0,
          "invalid isa names");
    CHECK(rope_isa_available(ROPE_ISA_AUTO) == 1 && rope_isa_available(ROPE_ISA_SCALAR) == 1, "auto and scalar");
    CHECK(rope_isa_available((rope_isa)5) == 0 && rope_isa_available((rope_isa)-1) == 0, "invalid isa available");
    for (size_t i = 0; i < sizeof real_isas / sizeof real_isas[0]; i++) {
        rope_isa isa = real_isas[i];
        int avail = rope_isa_available(isa);
        CHECK(avail == 0 || avail == 1, "%s: available %d", rope_isa_name(isa), avail);
        rope_context_options o = {isa, 1};
        rope_context *ctx = NULL;
        rope_status st = rope_context_create(&o, &ctx);
        if (avail) {
            CHECK(st == ROPE_OK && rope_context_isa(ctx) == isa, "%s: %s", rope_isa_name(isa), rope_last_error());
            CHECK(st != ROPE_OK || small_call(ctx) == ROPE_OK, "%s: a call fails", rope_isa_name(isa));
        } else {
            CHECK(st == ROPE_ERROR_UNSUPPORTED && ctx == NULL && strstr(rope_last_error(), rope_isa_name(isa)),
                  "%s (unavailable): status %d: %s", rope_isa_name(isa), (int)st, rope_last_error());
        }
        rope_context_free(ctx);
    }
}

static void create_options(void) {
    rope_context *ctx = NULL;
    CHECK(rope_context_create(NULL, &ctx) == ROPE_OK && ctx, "NULL options: %s", rope_last_error());
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    CHECK(rope_context_threads(ctx) == (cpus < 1 ? 1 : cpus), "NULL options: %d threads, %ld CPUs online",
          rope_context_threads(ctx), cpus);
    CHECK(rope_context_isa(ctx) == best_isa(), "NULL options: isa %s, best %s", rope_isa_name(rope_context_isa(ctx)),
          rope_isa_name(best_isa()));
    rope_context_free(ctx);

    const int counts[] = {1, 2, 3, 7};
    for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++) {
        rope_context_options o = {ROPE_ISA_AUTO, counts[i]};
        ctx = NULL;
        CHECK(rope_context_create(&o, &ctx) == ROPE_OK && rope_context_threads(ctx) == counts[i],
              "%d threads: got %d (%s)", counts[i], ctx ? rope_context_threads(ctx) : -1, rope_last_error());
        CHECK(ctx && rope_context_isa(ctx) == best_isa(), "%d threads: isa", counts[i]);
        rope_context_free(ctx);
    }

    rope_context *keep = (rope_context *)&keep; /* must survive every failure untouched */
    const int bad_threads[] = {-1, INT_MIN};
    for (int i = 0; i < 2; i++) {
        rope_context_options o = {ROPE_ISA_AUTO, bad_threads[i]};
        char found[32];
        snprintf(found, sizeof found, "found %d", bad_threads[i]);
        CHECK(rope_context_create(&o, &keep) == ROPE_ERROR_ATTRIBUTE && strstr(rope_last_error(), "threads") &&
                  strstr(rope_last_error(), found),
              "threads %d: %s", bad_threads[i], rope_last_error());
    }
    const int bad_isas[] = {ROPE_ISA_COUNT_, -1, 1000};
    for (int i = 0; i < 3; i++) {
        rope_context_options o = {(rope_isa)bad_isas[i], 1};
        CHECK(rope_context_create(&o, &keep) == ROPE_ERROR_ATTRIBUTE && strstr(rope_last_error(), "isa"),
              "isa %d: %s", bad_isas[i], rope_last_error());
    }
    CHECK(strstr(rope_last_error(), "rope_context_create: ") == rope_last_error(), "prefix: %s", rope_last_error());
    CHECK(keep == (rope_context *)&keep, "*out written on failure");
    CHECK(rope_context_create(NULL, NULL) == ROPE_ERROR_NULL_ARGUMENT && strstr(rope_last_error(), "out"), "%s",
          rope_last_error());
    rope_context_free(NULL); /* a no-op */
}

/* ROPE_ISA is read by every create with ROPE_ISA_AUTO, and by set_isa(AUTO). */
static void create_env(void) {
    rope_context *ctx = NULL;
    setenv("ROPE_ISA", "scalar", 1);
    CHECK(rope_context_create(NULL, &ctx) == ROPE_OK && rope_context_isa(ctx) == ROPE_ISA_SCALAR,
          "ROPE_ISA=scalar: %s", rope_last_error());
    rope_context_free(ctx), ctx = NULL;
    rope_context_options o = {ROPE_ISA_AUTO, 1};
    CHECK(rope_context_create(&o, &ctx) == ROPE_OK && rope_context_isa(ctx) == ROPE_ISA_SCALAR, "AUTO option");
    CHECK(ctx && rope_context_set_isa(ctx, ROPE_ISA_AUTO) == ROPE_OK && rope_context_isa(ctx) == ROPE_ISA_SCALAR,
          "set_isa(AUTO) follows ROPE_ISA");
    rope_context_free(ctx), ctx = NULL;

    const char *const to_best[] = {"auto", ""};
    for (int i = 0; i < 2; i++) {
        setenv("ROPE_ISA", to_best[i], 1);
        CHECK(rope_context_create(NULL, &ctx) == ROPE_OK && rope_context_isa(ctx) == best_isa(),
              "ROPE_ISA=\"%s\": %s", to_best[i], rope_last_error());
        rope_context_free(ctx), ctx = NULL;
    }

    rope_context *keep = (rope_context *)&keep;
    setenv("ROPE_ISA", "bogus", 1);
    CHECK(rope_context_create(NULL, &keep) == ROPE_ERROR_ATTRIBUTE && strstr(rope_last_error(), "ROPE_ISA") &&
              strstr(rope_last_error(), "bogus"),
          "ROPE_ISA=bogus: %s", rope_last_error());
    char longval[1000];
    memset(longval, 'x', sizeof longval - 1), longval[sizeof longval - 1] = '\0';
    setenv("ROPE_ISA", longval, 1);
    CHECK(rope_context_create(NULL, &keep) == ROPE_ERROR_ATTRIBUTE && strlen(rope_last_error()) < 500,
          "a 999-character ROPE_ISA: %s", rope_last_error());
    CHECK(keep == (rope_context *)&keep, "*out written on failure");
    /* An explicit set is not overridden by the variable. */
    setenv("ROPE_ISA", "bogus", 1);
    rope_context_options sc = {ROPE_ISA_SCALAR, 1};
    CHECK(rope_context_create(&sc, &ctx) == ROPE_OK && rope_context_isa(ctx) == ROPE_ISA_SCALAR,
          "explicit scalar with ROPE_ISA=bogus: %s", rope_last_error());
    rope_context_free(ctx), ctx = NULL;
    const char *name = unavailable_name();
    if (name) {
        setenv("ROPE_ISA", name, 1);
        CHECK(rope_context_create(NULL, &keep) == ROPE_ERROR_UNSUPPORTED && strstr(rope_last_error(), name),
              "ROPE_ISA=%s: %s", name, rope_last_error());
    }
    unsetenv("ROPE_ISA");
}

static void set_isa(void) {
    rope_context_options o = {ROPE_ISA_AUTO, 3};
    rope_context *ctx = NULL;
    CHECK(rope_context_create(&o, &ctx) == ROPE_OK, "%s", rope_last_error());
    if (!ctx) return;
    CHECK(rope_context_set_isa(ctx, ROPE_ISA_SCALAR) == ROPE_OK && rope_context_isa(ctx) == ROPE_ISA_SCALAR, "scalar");
    CHECK(rope_context_threads(ctx) == 3, "set_isa changed the threads to %d", rope_context_threads(ctx));
    CHECK(rope_context_set_isa(ctx, (rope_isa)9) == ROPE_ERROR_ATTRIBUTE && rope_context_isa(ctx) == ROPE_ISA_SCALAR,
          "invalid isa: %s", rope_last_error());
    for (size_t i = 1; i < sizeof real_isas / sizeof real_isas[0]; i++)
        if (!rope_isa_available(real_isas[i]))
            CHECK(rope_context_set_isa(ctx, real_isas[i]) == ROPE_ERROR_UNSUPPORTED &&
                      rope_context_isa(ctx) == ROPE_ISA_SCALAR,
                  "%s: %s", rope_isa_name(real_isas[i]), rope_last_error());
    CHECK(rope_context_set_isa(ctx, ROPE_ISA_AUTO) == ROPE_OK && rope_context_isa(ctx) == best_isa(), "AUTO: %s",
          rope_isa_name(rope_context_isa(ctx)));
    CHECK(small_call(ctx) == ROPE_OK, "call after set_isa: %s", rope_last_error());
    rope_context_free(ctx);

    /* The default context (ctx NULL). */
    CHECK(rope_context_threads(NULL) >= 1, "default threads %d", rope_context_threads(NULL));
    CHECK(rope_context_isa(NULL) == best_isa(), "default isa %s", rope_isa_name(rope_context_isa(NULL)));
    CHECK(rope_context_set_isa(NULL, ROPE_ISA_SCALAR) == ROPE_OK && rope_context_isa(NULL) == ROPE_ISA_SCALAR,
          "default set to scalar");
    CHECK(small_call(NULL) == ROPE_OK, "%s", rope_last_error());
    CHECK(rope_context_set_isa(NULL, ROPE_ISA_AUTO) == ROPE_OK && rope_context_isa(NULL) == best_isa(),
          "default back to auto");
}

/* ---- same results whatever the context, also from several threads at once ------------------------ */

enum { B = 2, N = 8, S = 64, H = 96, R = 64, N_EL = B * N * S * H };
static float x[N_EL], y_first[N_EL], cs[B * S * R / 2], sn[B * S * R / 2];

static rope_status big_call(rope_context *ctx, float *y) {
    rope_tensor X = {x, ROPE_F32, 4, {B, N, S, H}, 0}, Y = {y, ROPE_F32, 4, {B, N, S, H}, 0};
    rope_tensor C = {cs, ROPE_F32, 3, {B, S, R / 2}, 0}, Sn = {sn, ROPE_F32, 3, {B, S, R / 2}, 0};
    rope_onnx_attrs a = {1, R, 0};
    return rope_onnx_rotary_embedding(ctx, &a, &X, &C, &Sn, NULL, &Y);
}

typedef struct worker {
    rope_context *ctx;
    int same;
} worker;

static void *hammer(void *arg) {
    worker *w = arg;
    float *y = malloc(sizeof x);
    w->same = y != NULL;
    for (int i = 0; y && i < 8; i++) w->same &= big_call(w->ctx, y) == ROPE_OK && memcmp(y, y_first, sizeof x) == 0;
    free(y);
    return NULL;
}

static void same_results(void) {
    tu_seed(5);
    ref_fill(ROPE_F32, x, NULL, N_EL);
    ref_fill(ROPE_F32, cs, NULL, B * S * R / 2);
    ref_fill(ROPE_F32, sn, NULL, B * S * R / 2);
    CHECK(big_call(NULL, y_first) == ROPE_OK, "%s", rope_last_error());
    static float y[N_EL];
    const int counts[] = {1, 2, 3};
    rope_context *shared = NULL;
    for (int i = 0; i < 3; i++) {
        rope_context_options o = {ROPE_ISA_SCALAR, counts[i]};
        rope_context *ctx = NULL;
        CHECK(rope_context_create(&o, &ctx) == ROPE_OK, "%s", rope_last_error());
        memset(y, 0, sizeof y);
        CHECK(big_call(ctx, y) == ROPE_OK && memcmp(y, y_first, sizeof y) == 0, "%d threads: another result",
              counts[i]);
        if (counts[i] == 2) shared = ctx;
        else rope_context_free(ctx);
    }
    /* One context, three callers at once. */
    worker w[3] = {{shared, 0}, {shared, 0}, {shared, 0}};
    pthread_t th[3];
    for (int i = 0; i < 3; i++) CHECK(pthread_create(&th[i], NULL, hammer, &w[i]) == 0, "pthread_create");
    for (int i = 0; i < 3; i++) pthread_join(th[i], NULL);
    for (int i = 0; i < 3; i++) CHECK(w[i].same, "concurrent caller %d saw an error or another result", i);
    rope_context_free(shared);
}

int main(void) {
    /* This test decides ROPE_ISA itself: it starts with the variable unset. */
    unsetenv("ROPE_ISA");
    default_context_env(); /* first: children must not inherit worker threads */
    names_and_availability();
    create_options();
    create_env();
    set_isa();
    same_results();
    return tu_finish();
}
