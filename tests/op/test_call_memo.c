/* SPDX-License-Identifier: MIT */
/*
 * The one-shot table calls remember the descriptors of their last accepted call per thread and then
 * skip the descriptor checks (core/memo.h). Everything that reads data must still be checked on the
 * next call with the same descriptors: for each operator, an accepted call, then the same
 * descriptors with a position out of range, NULL data, an output overlapping an input, and a changed
 * descriptor; each fails with its own status and writes nothing, and the accepted call then gives
 * bitwise the result of its first run (which an independent float64 reference checks).
 */
#include <math.h>
#include <string.h>

#include "harness.h"
#include "rope.h"

enum { T = 3, HQ = 2, HK = 1, HS = 8, P = 5 };

static float q[T * HQ * HS], k[T * HK * HS], qo[T * HQ * HS], ko[T * HK * HS], first_q[T * HQ * HS];
static float cache[P * HS]; /* vLLM: [P, rot]; ONNX and ATB read it as their cos/sin tables */
static float sin_t[P * HS];

static void fill(void) {
    for (size_t i = 0; i < sizeof q / sizeof q[0]; i++) q[i] = (float)((i * 37) % 23) * 0.125f - 1.3f;
    for (size_t i = 0; i < sizeof k / sizeof k[0]; i++) k[i] = (float)((i * 11) % 17) * 0.25f - 2.1f;
    for (size_t i = 0; i < sizeof cache / sizeof cache[0]; i++) cache[i] = (float)cos(0.3 * (double)i + 0.1);
    for (size_t i = 0; i < sizeof sin_t / sizeof sin_t[0]; i++) sin_t[i] = (float)sin(0.3 * (double)i + 0.1);
}

/* vLLM: token t's query head h, element j (halves) against a float64 reference. */
static int vllm_matches(const int64_t *pos) {
    for (int t = 0; t < T; t++)
        for (int h = 0; h < HQ; h++)
            for (int j = 0; j < HS / 2; j++) {
                const float *x = q + (t * HQ + h) * HS, *y = qo + (t * HQ + h) * HS;
                double c = cache[pos[t] * HS + j], s = cache[pos[t] * HS + HS / 2 + j];
                double a = (double)x[j] * c - (double)x[j + HS / 2] * s;
                double b = (double)x[j] * s + (double)x[j + HS / 2] * c;
                if (fabs(a - y[j]) > 1e-5 || fabs(b - y[j + HS / 2]) > 1e-5) return 0;
            }
    return 1;
}

static void fresh_outputs(void) {
    memset(qo, 0x5a, sizeof qo);
    memset(ko, 0x5a, sizeof ko);
}

static int outputs_untouched(void) {
    unsigned char u[sizeof qo];
    memset(u, 0x5a, sizeof u);
    return !memcmp(qo, u, sizeof qo) && !memcmp(ko, u, sizeof ko);
}

static void test_vllm(void) {
    rope_vllm_attrs a = ROPE_VLLM_ATTRS_INIT;
    a.head_size = HS;
    int64_t pos[T] = {4, 0, 2};
    rope_tensor tp = {pos, ROPE_I64, 1, {T}, 0}, tq = {q, ROPE_F32, 2, {T, HQ * HS}, 0};
    rope_tensor tk = {k, ROPE_F32, 2, {T, HK * HS}, 0}, tc = {cache, ROPE_F32, 2, {P, HS}, 0};
    rope_tensor tqo = {qo, ROPE_F32, 2, {T, HQ * HS}, 0}, tko = {ko, ROPE_F32, 2, {T, HK * HS}, 0};
    fresh_outputs();
    CHECK(rope_vllm_rotary_embedding(NULL, &a, &tp, &tq, &tk, &tc, &tqo, &tko) == ROPE_OK, "vllm: %s",
          rope_last_error());
    CHECK(vllm_matches(pos), "vllm: the first call differs from the reference");
    memcpy(first_q, qo, sizeof qo);
    /* the same descriptors: a position out of range */
    pos[1] = P;
    fresh_outputs();
    CHECK(rope_vllm_rotary_embedding(NULL, &a, &tp, &tq, &tk, &tc, &tqo, &tko) == ROPE_ERROR_INDEX &&
              strstr(rope_last_error(), "positions[1] = 5"),
          "vllm: position out of range after an accepted call: %s", rope_last_error());
    CHECK(outputs_untouched(), "vllm: written on a bad position");
    pos[1] = 0;
    /* NULL data */
    tk.data = NULL;
    CHECK(rope_vllm_rotary_embedding(NULL, &a, &tp, &tq, &tk, &tc, &tqo, &tko) == ROPE_ERROR_NULL_ARGUMENT &&
              strstr(rope_last_error(), "key data is NULL"),
          "vllm: NULL key data: %s", rope_last_error());
    tk.data = k;
    /* key_out overlapping query (same descriptors, another pointer) */
    tko.data = q + HS;
    CHECK(rope_vllm_rotary_embedding(NULL, &a, &tp, &tq, &tk, &tc, &tqo, &tko) == ROPE_ERROR_ALIASING,
          "vllm: key_out over query: %s", rope_last_error());
    tko.data = ko;
    /* query_out a row shifted: a partial overlap of query */
    tqo.data = q + HS;
    CHECK(rope_vllm_rotary_embedding(NULL, &a, &tp, &tq, &tk, &tc, &tqo, &tko) == ROPE_ERROR_ALIASING,
          "vllm: query_out shifted over query: %s", rope_last_error());
    tqo.data = qo;
    CHECK(outputs_untouched(), "vllm: written on bad data");
    /* a changed descriptor is checked in full */
    tqo.dims[1] = HQ * HS - 1;
    CHECK(rope_vllm_rotary_embedding(NULL, &a, &tp, &tq, &tk, &tc, &tqo, &tko) == ROPE_ERROR_SHAPE,
          "vllm: query_out dims: %s", rope_last_error());
    tqo.dims[1] = HQ * HS;
    a.is_neox = 2;
    CHECK(rope_vllm_rotary_embedding(NULL, &a, &tp, &tq, &tk, &tc, &tqo, &tko) == ROPE_ERROR_ATTRIBUTE,
          "vllm: is_neox 2: %s", rope_last_error());
    a.is_neox = 1;
    CHECK(outputs_untouched(), "vllm: written on bad descriptors");
    CHECK(rope_vllm_rotary_embedding(NULL, &a, &tp, &tq, &tk, &tc, &tqo, &tko) == ROPE_OK, "vllm again: %s",
          rope_last_error());
    CHECK(!memcmp(qo, first_q, sizeof qo), "vllm: the repeated call differs from the first");
}

static void test_onnx(void) {
    rope_onnx_attrs a = {0, 0, 0};
    int64_t ids[T] = {1, 4, 3};
    rope_tensor x = {q, ROPE_F32, 4, {1, HQ, T, HS}, 0}, y = {qo, ROPE_F32, 4, {1, HQ, T, HS}, 0};
    rope_tensor c = {cache, ROPE_F32, 2, {P, HS / 2}, 0}, s = {sin_t, ROPE_F32, 2, {P, HS / 2}, 0};
    rope_tensor ti = {ids, ROPE_I64, 2, {1, T}, 0};
    fresh_outputs();
    CHECK(rope_onnx_rotary_embedding(NULL, &a, &x, &c, &s, &ti, &y) == ROPE_OK, "onnx: %s", rope_last_error());
    memcpy(first_q, qo, sizeof qo);
    ids[2] = -1;
    fresh_outputs();
    CHECK(rope_onnx_rotary_embedding(NULL, &a, &x, &c, &s, &ti, &y) == ROPE_ERROR_INDEX, "onnx: id -1: %s",
          rope_last_error());
    ids[2] = 3;
    y.data = q + 1; /* Y over X, shifted by an element */
    CHECK(rope_onnx_rotary_embedding(NULL, &a, &x, &c, &s, &ti, &y) == ROPE_ERROR_ALIASING, "onnx: Y over X: %s",
          rope_last_error());
    y.data = cache; /* Y over cos_cache */
    CHECK(rope_onnx_rotary_embedding(NULL, &a, &x, &c, &s, &ti, &y) == ROPE_ERROR_ALIASING,
          "onnx: Y over cos_cache: %s", rope_last_error());
    y.data = qo;
    s.data = NULL;
    CHECK(rope_onnx_rotary_embedding(NULL, &a, &x, &c, &s, &ti, &y) == ROPE_ERROR_NULL_ARGUMENT,
          "onnx: NULL sin data: %s", rope_last_error());
    s.data = sin_t;
    CHECK(outputs_untouched(), "onnx: written on bad data");
    CHECK(rope_onnx_rotary_embedding(NULL, &a, &x, &c, &s, NULL, &y) == ROPE_ERROR_RANK, "onnx: no ids: %s",
          rope_last_error());
    CHECK(rope_onnx_rotary_embedding(NULL, &a, &x, &c, &s, &ti, &y) == ROPE_OK, "onnx again: %s", rope_last_error());
    CHECK(!memcmp(qo, first_q, sizeof qo), "onnx: the repeated call differs from the first");
}

static void test_atb(void) {
    rope_atb_param p = ROPE_ATB_PARAM_INIT;
    p.rotary_coeff = 2;
    rope_tensor tq = {q, ROPE_F32, 2, {T, HQ * HS}, 0}, tk = {k, ROPE_F32, 2, {T, HK * HS}, 0};
    rope_tensor rq = {qo, ROPE_F32, 2, {T, HQ * HS}, 0}, rk = {ko, ROPE_F32, 2, {T, HK * HS}, 0};
    rope_tensor c = {cache, ROPE_F32, 2, {T, HS}, 0}, s = {sin_t, ROPE_F32, 2, {T, HS}, 0};
    int32_t seqlen[1] = {T};
    rope_tensor sl = {seqlen, ROPE_I32, 1, {1}, 0};
    fresh_outputs();
    CHECK(rope_atb_rope(NULL, &p, &tq, &tk, &c, &s, &sl, &rq, &rk) == ROPE_OK, "atb: %s", rope_last_error());
    memcpy(first_q, qo, sizeof qo);
    fresh_outputs();
    rk.data = sin_t; /* ropeK over sin */
    CHECK(rope_atb_rope(NULL, &p, &tq, &tk, &c, &s, &sl, &rq, &rk) == ROPE_ERROR_ALIASING, "atb: ropeK over sin: %s",
          rope_last_error());
    rk.data = ko;
    tq.data = NULL;
    CHECK(rope_atb_rope(NULL, &p, &tq, &tk, &c, &s, &sl, &rq, &rk) == ROPE_ERROR_NULL_ARGUMENT,
          "atb: NULL query data: %s", rope_last_error());
    tq.data = q;
    CHECK(outputs_untouched(), "atb: written on bad data");
    CHECK(rope_atb_rope(NULL, &p, &tq, &tk, &c, &s, &sl, &rq, &rk) == ROPE_OK, "atb again: %s", rope_last_error());
    CHECK(!memcmp(qo, first_q, sizeof qo), "atb: the repeated call differs from the first");
}

int main(void) {
    fill();
    /* twice: the second round starts with each operator's memo holding the first round's last call */
    for (int round = 0; round < 2; round++) {
        test_vllm();
        test_onnx();
        test_atb();
    }
    return tu_finish();
}
