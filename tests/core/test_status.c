/* SPDX-License-Identifier: MIT */
/* Statuses, per-thread error messages, versions, dtypes and element counts. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "rope.h"

static void status_strings(void) {
    static const char *const names[] = {
        "ROPE_OK",           "ROPE_ERROR_NULL_ARGUMENT", "ROPE_ERROR_DTYPE",       "ROPE_ERROR_RANK",
        "ROPE_ERROR_SHAPE",  "ROPE_ERROR_ATTRIBUTE",     "ROPE_ERROR_INDEX",       "ROPE_ERROR_ALIASING",
        "ROPE_ERROR_STRIDE", "ROPE_ERROR_OUT_OF_MEMORY", "ROPE_ERROR_UNSUPPORTED", "ROPE_ERROR_STATE",
        "ROPE_ERROR_WORKSPACE"};
    CHECK(sizeof names / sizeof names[0] == ROPE_STATUS_COUNT_, "a status without a name here");
    for (int i = 0; i < ROPE_STATUS_COUNT_; i++) {
        const char *s = rope_status_string((rope_status)i);
        CHECK(s != NULL, "status %d: NULL", i);
        if (!s) continue;
        /* "ROPE_ERROR_SHAPE: tensor dimension mismatch": the enum's name, a colon, a description. */
        size_t n = strlen(names[i]);
        CHECK(strncmp(s, names[i], n) == 0 && s[n] == ':' && strlen(s) > n + 3, "status %d: \"%s\"", i, s);
        for (int j = 0; j < i; j++)
            CHECK(strcmp(s, rope_status_string((rope_status)j)) != 0, "statuses %d and %d share \"%s\"", i, j, s);
    }
    const int unknown[] = {-1, ROPE_STATUS_COUNT_, 100, 1 << 30};
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
        const char *s = rope_status_string((rope_status)unknown[i]);
        CHECK(s && strcmp(s, "unknown rope_status") == 0, "status %d: \"%s\"", unknown[i], s ? s : "(null)");
    }
}

static void versions(void) {
    char want[32];
    snprintf(want, sizeof want, "%d.%d.%d", ROPE_VERSION_MAJOR, ROPE_VERSION_MINOR, ROPE_VERSION_PATCH);
    CHECK(strcmp(ROPE_VERSION_STRING, want) == 0, "ROPE_VERSION_STRING %s vs the numbers %s", ROPE_VERSION_STRING,
          want);
    CHECK(rope_version_number() == ROPE_VERSION_NUMBER, "linked %u, header %d", rope_version_number(),
          ROPE_VERSION_NUMBER);
    CHECK(ROPE_VERSION_NUMBER == ROPE_VERSION_MAJOR * 10000 + ROPE_VERSION_MINOR * 100 + ROPE_VERSION_PATCH,
          "version number layout");
    CHECK(rope_version_string() && strcmp(rope_version_string(), ROPE_VERSION_STRING) == 0, "linked \"%s\"",
          rope_version_string() ? rope_version_string() : "(null)");
}

static void dtypes(void) {
    static const struct {
        rope_dtype t;
        size_t size;
        const char *name;
    } all[] = {{ROPE_F32, 4, "f32"}, {ROPE_F16, 2, "f16"}, {ROPE_BF16, 2, "bf16"}, {ROPE_I32, 4, "i32"},
               {ROPE_U32, 4, "u32"}, {ROPE_I64, 8, "i64"}, {ROPE_F64, 8, "f64"}, {ROPE_FP8_E4M3, 1, "fp8_e4m3"},
               {ROPE_FP8_E5M2, 1, "fp8_e5m2"}, {ROPE_DTYPE_INVALID, 0, "invalid"},
               {(rope_dtype)10, 0, "invalid"}, {(rope_dtype)-1, 0, "invalid"}};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        CHECK(rope_dtype_size(all[i].t) == all[i].size, "size of %d: %zu", (int)all[i].t, rope_dtype_size(all[i].t));
        CHECK(strcmp(rope_dtype_name(all[i].t), all[i].name) == 0, "name of %d: %s", (int)all[i].t,
              rope_dtype_name(all[i].t));
    }
}

static void element_counts(void) {
    rope_tensor t = {NULL, ROPE_F32, 3, {2, 3, 4}, 0};
    CHECK(rope_tensor_numel(&t) == 24, "[2,3,4]");
    t.rank = 0;
    CHECK(rope_tensor_numel(&t) == 1, "a scalar has one element");
    t.rank = 3, t.dims[1] = 0;
    CHECK(rope_tensor_numel(&t) == 0, "a zero dim");
    t.dims[1] = -1;
    CHECK(rope_tensor_numel(&t) == -1, "a negative dim");
    t.dims[1] = 0, t.dims[0] = INT64_MAX, t.dims[2] = INT64_MAX; /* zero anywhere: no overflow */
    CHECK(rope_tensor_numel(&t) == 0, "a zero dim beside huge ones");
    t.dims[1] = 2;
    CHECK(rope_tensor_numel(&t) == -1, "overflow");
    rope_tensor m = {NULL, ROPE_F32, 2, {INT64_MAX / 2, 2}, 0};
    CHECK(rope_tensor_numel(&m) == (INT64_MAX / 2) * 2, "largest product that fits");
    m.dims[1] = 3;
    CHECK(rope_tensor_numel(&m) == -1, "just past it");
    t.rank = ROPE_MAX_RANK + 1;
    CHECK(rope_tensor_numel(&t) == -1, "rank 9");
    t.rank = -1;
    CHECK(rope_tensor_numel(&t) == -1, "rank -1");
    CHECK(rope_tensor_numel(NULL) == -1, "NULL");
}

/* ---- rope_last_error is per thread ---------------------------------------------------------------- */

/* Makes the library fail with a message naming `heads` (a 3-D X with a bad num_heads). */
static rope_status fail_with(int64_t heads) {
    float x[8] = {0}, y[8], c[4] = {0}, s[4] = {0};
    rope_onnx_attrs a = {0, 0, heads};
    rope_tensor X = {x, ROPE_F32, 3, {1, 1, 8}, 0}, Y = {y, ROPE_F32, 3, {1, 1, 8}, 0};
    rope_tensor C = {c, ROPE_F32, 3, {1, 1, 4}, 0}, S = {s, ROPE_F32, 3, {1, 1, 4}, 0};
    return rope_onnx_rotary_embedding(NULL, &a, &X, &C, &S, NULL, &Y);
}

typedef struct thread_seen {
    char before[256], after[256];
    rope_status st;
} thread_seen;

static void *second_thread(void *arg) {
    thread_seen *t = arg;
    snprintf(t->before, sizeof t->before, "%s", rope_last_error());
    t->st = fail_with(3); /* 8 % 3 != 0 */
    snprintf(t->after, sizeof t->after, "%s", rope_last_error());
    return NULL;
}

static void per_thread_errors(void) {
    thread_seen t;
    memset(&t, 0, sizeof t);
    pthread_t th;
    CHECK(strcmp(rope_last_error(), "") == 0, "nothing failed yet, but: %s", rope_last_error());
    CHECK(fail_with(-2) == ROPE_ERROR_ATTRIBUTE, "num_heads -2: %s", rope_last_error());
    char mine[256];
    snprintf(mine, sizeof mine, "%s", rope_last_error());
    CHECK(strstr(mine, "rope_onnx_rotary_embedding: ") == mine && strstr(mine, "found -2"), "%s", mine);
    CHECK(pthread_create(&th, NULL, second_thread, &t) == 0, "pthread_create");
    pthread_join(th, NULL);
    CHECK(strcmp(t.before, "") == 0, "a new thread starts with an empty message, saw: %s", t.before);
    CHECK(t.st == ROPE_ERROR_SHAPE && strstr(t.after, "multiple of num_heads 3"), "second thread: %s", t.after);
    CHECK(strcmp(rope_last_error(), mine) == 0, "main thread's message changed to: %s", rope_last_error());
    /* A success leaves it as it was. */
    CHECK(fail_with(1) == ROPE_OK, "valid call: %s", rope_last_error());
    CHECK(strcmp(rope_last_error(), mine) == 0, "a successful call changed the message to: %s", rope_last_error());
}

int main(void) {
    per_thread_errors(); /* first: it checks the message is empty before any failure */
    status_strings();
    versions();
    dtypes();
    element_counts();
    return tu_finish();
}
