/* SPDX-License-Identifier: MIT */
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

/* Every set, scalar first (rope.h: the values from ROPE_ISA_SCALAR up to ROPE_ISA_COUNT_). */
static rope_isa real_isas[ROPE_ISA_COUNT_ - ROPE_ISA_SCALAR];

static void list_isas(void) {
    for (size_t i = 0; i < sizeof real_isas / sizeof real_isas[0]; i++) real_isas[i] = (rope_isa)(ROPE_ISA_SCALAR + (int)i);
}

/* The best set the CPU has, as rope.h ranks them: the available one with the largest value. */
static rope_isa best_isa(void) {
    rope_isa best = ROPE_ISA_SCALAR;
    for (size_t i = 0; i < sizeof real_isas / sizeof real_isas[0]; i++)
        if (rope_isa_available(real_isas[i])) best = real_isas[i];
    return best;
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
    if (strcmp(rope_context_isa_reason(NULL), "scalar (ROPE_ISA=scalar)") != 0) return 3;
    return small_call(NULL) == ROPE_OK ? 0 : 2;
}

/* The reason an ignored ROPE_ISA leaves: "<best> (ROPE_ISA=<value> ignored: <why>)". */
static int ignored_reason(const char *reason, const char *value, const char *why) {
    char want[160];
    snprintf(want, sizeof want, "%s (ROPE_ISA=%s ignored: %s)", rope_isa_name(best_isa()), value, why);
    return strcmp(reason, want) == 0;
}

/* A host program must not break because of a stray variable: the default context and AUTO contexts
 * keep the automatic choice, every call works, and the reason tells the variable was ignored. */
static int child_bogus(void) {
    if (small_call(NULL) != ROPE_OK) return 1;
    if (rope_context_isa(NULL) != best_isa()) return 2;
    if (!ignored_reason(rope_context_isa_reason(NULL), "bogus", "unknown")) return 3;
    rope_context *c = NULL;
    if (rope_context_create(NULL, &c) != ROPE_OK || rope_context_isa(c) != best_isa()) return 4;
    int bad = small_call(c) != ROPE_OK || !ignored_reason(rope_context_isa_reason(c), "bogus", "unknown");
    rope_context_free(c);
    if (bad) return 5;
    /* An explicit request still wins, and says so. */
    if (rope_context_set_isa(NULL, ROPE_ISA_SCALAR) != ROPE_OK) return 6;
    if (strcmp(rope_context_isa_reason(NULL), "scalar (requested)") != 0) return 7;
    return small_call(NULL) == ROPE_OK ? 0 : 8;
}

static const char *unavailable_why(rope_isa isa) {
    /* This build compiles every set of its architecture in; the others are not compiled. */
#if defined(__x86_64__) || defined(_M_X64)
    return isa == ROPE_ISA_NEON ? "not compiled into this build" : "this CPU cannot execute it";
#elif defined(__aarch64__)
    return isa == ROPE_ISA_NEON ? "this CPU cannot execute it" : "not compiled into this build";
#else
    (void)isa;
    return "not compiled into this build";
#endif
}

static rope_isa unavailable_isa(void) {
    for (int i = 1; i < 4; i++)
        if (!rope_isa_available(real_isas[i])) return real_isas[i];
    return ROPE_ISA_AUTO;
}

static int child_unavailable(void) {
    rope_isa isa = unavailable_isa();
    if (small_call(NULL) != ROPE_OK || rope_context_isa(NULL) != best_isa()) return 1;
    return ignored_reason(rope_context_isa_reason(NULL), rope_isa_name(isa), unavailable_why(isa)) ? 0 : 2;
}

/* Unprintable bytes in the variable are not copied into the reason. */
static int child_unprintable(void) {
    if (small_call(NULL) != ROPE_OK) return 1;
    return ignored_reason(rope_context_isa_reason(NULL), "a?b", "unknown") ? 0 : 2;
}

static int child_auto(void) {
    char want[64];
    snprintf(want, sizeof want, "%s (auto)", rope_isa_name(best_isa()));
    return rope_context_isa(NULL) == best_isa() && strcmp(rope_context_isa_reason(NULL), want) == 0 ? 0 : 1;
}

static void default_context_env(void) {
    int code = in_child("scalar", child_scalar);
    CHECK(code == 0, "ROPE_ISA=scalar: default context check %d failed", code);
    code = in_child("bogus", child_bogus);
    CHECK(code == 0, "ROPE_ISA=bogus: default context check %d failed", code);
    rope_isa un = unavailable_isa();
    if (un != ROPE_ISA_AUTO) {
        code = in_child(rope_isa_name(un), child_unavailable);
        CHECK(code == 0, "ROPE_ISA=%s (not available here): default context check %d failed", rope_isa_name(un), code);
    }
    code = in_child("a\tb", child_unprintable);
    CHECK(code == 0, "ROPE_ISA with a tab: check %d failed", code);
    code = in_child("auto", child_auto);
    CHECK(code == 0, "ROPE_ISA=auto: check %d failed", code);
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
        rope_context_options o = {sizeof(rope_context_options), isa, 1, NULL, NULL, 0, 0};
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
        rope_context_options o = {sizeof(rope_context_options), ROPE_ISA_AUTO, counts[i], NULL, NULL, 0, 0};
        ctx = NULL;
        CHECK(rope_context_create(&o, &ctx) == ROPE_OK && rope_context_threads(ctx) == counts[i],
              "%d threads: got %d (%s)", counts[i], ctx ? rope_context_threads(ctx) : -1, rope_last_error());
        CHECK(ctx && rope_context_isa(ctx) == best_isa(), "%d threads: isa", counts[i]);
        rope_context_free(ctx);
    }

    rope_context *keep = (rope_context *)&keep; /* must survive every failure untouched */
    const int bad_threads[] = {-1, INT_MIN};
    for (int i = 0; i < 2; i++) {
        rope_context_options o = {sizeof(rope_context_options), ROPE_ISA_AUTO, bad_threads[i], NULL, NULL, 0, 0};
        char found[32];
        snprintf(found, sizeof found, "found %d", bad_threads[i]);
        CHECK(rope_context_create(&o, &keep) == ROPE_ERROR_ATTRIBUTE && strstr(rope_last_error(), "threads") &&
                  strstr(rope_last_error(), found),
              "threads %d: %s", bad_threads[i], rope_last_error());
    }
    const int bad_isas[] = {ROPE_ISA_COUNT_, -1, 1000};
    for (int i = 0; i < 3; i++) {
        rope_context_options o = {sizeof(rope_context_options), (rope_isa)bad_isas[i], 1, NULL, NULL, 0, 0};
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
    rope_context_options o = {sizeof(rope_context_options), ROPE_ISA_AUTO, 1, NULL, NULL, 0, 0};
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

    /* Invalid values are ignored (the automatic choice), never a failure; a long value is cut in
     * the reason. */
    setenv("ROPE_ISA", "bogus", 1);
    CHECK(rope_context_create(NULL, &ctx) == ROPE_OK && rope_context_isa(ctx) == best_isa() &&
              ignored_reason(rope_context_isa_reason(ctx), "bogus", "unknown"),
          "ROPE_ISA=bogus: %s", ctx ? rope_context_isa_reason(ctx) : rope_last_error());
    rope_context_free(ctx), ctx = NULL;
    char longval[1000];
    memset(longval, 'x', sizeof longval - 1), longval[sizeof longval - 1] = '\0';
    setenv("ROPE_ISA", longval, 1);
    CHECK(rope_context_create(NULL, &ctx) == ROPE_OK && strlen(rope_context_isa_reason(ctx)) < 96 &&
              strstr(rope_context_isa_reason(ctx), "xxxxxxxx ignored: unknown"),
          "a 999-character ROPE_ISA: %s", ctx ? rope_context_isa_reason(ctx) : "-");
    rope_context_free(ctx), ctx = NULL;
    /* An explicit set is not overridden by the variable. */
    setenv("ROPE_ISA", "bogus", 1);
    rope_context_options sc = {sizeof(rope_context_options), ROPE_ISA_SCALAR, 1, NULL, NULL, 0, 0};
    CHECK(rope_context_create(&sc, &ctx) == ROPE_OK && rope_context_isa(ctx) == ROPE_ISA_SCALAR &&
              strcmp(rope_context_isa_reason(ctx), "scalar (requested)") == 0,
          "explicit scalar with ROPE_ISA=bogus: %s", rope_last_error());
    rope_context_free(ctx), ctx = NULL;
    rope_isa un = unavailable_isa();
    if (un != ROPE_ISA_AUTO) {
        setenv("ROPE_ISA", rope_isa_name(un), 1);
        CHECK(rope_context_create(NULL, &ctx) == ROPE_OK && rope_context_isa(ctx) == best_isa() &&
                  ignored_reason(rope_context_isa_reason(ctx), rope_isa_name(un), unavailable_why(un)),
              "ROPE_ISA=%s: %s", rope_isa_name(un), ctx ? rope_context_isa_reason(ctx) : rope_last_error());
        rope_context_free(ctx), ctx = NULL;
        /* Asked for explicitly, it is refused. */
        rope_context_options uo = {sizeof(rope_context_options), un, 1, NULL, NULL, 0, 0};
        rope_context *keep = (rope_context *)&keep;
        CHECK(rope_context_create(&uo, &keep) == ROPE_ERROR_UNSUPPORTED && keep == (rope_context *)&keep &&
                  strstr(rope_last_error(), rope_isa_name(un)),
              "explicit %s: %s", rope_isa_name(un), rope_last_error());
    }
    unsetenv("ROPE_ISA");
}

static void set_isa(void) {
    rope_context_options o = {sizeof(rope_context_options), ROPE_ISA_AUTO, 3, NULL, NULL, 0, 0};
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
        rope_context_options o = {sizeof(rope_context_options), ROPE_ISA_SCALAR, counts[i], NULL, NULL, 0, 0};
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
    list_isas();
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
