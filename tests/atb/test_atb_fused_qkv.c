/* SPDX-License-Identifier: MIT */
/* Strided rows: q and k rotated in place where they sit inside one fused QKV buffer, for both
 * operators. The strided result must equal, bit for bit, the dense call on packed copies (which the
 * float64-reference tests check), and V and the gaps must stay untouched. */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "rope.h"

static uint16_t f16(double v) { return rope_f32_to_f16((float)v); }

static void test_atb(int64_t t, int64_t hq, int64_t hk, int64_t d, int coeff, int fmt) {
    int64_t w = hq + 2 * hk; /* one fused row: q | k | v */
    uint16_t *qkv = malloc((size_t)(t * w) * 2), *orig = malloc((size_t)(t * w) * 2);
    uint16_t *q = malloc((size_t)(t * hq) * 2), *k = malloc((size_t)(t * hk) * 2);
    uint16_t *cs = malloc((size_t)(t * d) * 2), *sn = malloc((size_t)(t * d) * 2);
    for (int64_t i = 0; i < t * w; i++) orig[i] = qkv[i] = f16(tu_uniform(-3, 3));
    for (int64_t i = 0; i < t * d; i++) cs[i] = f16(tu_uniform(-1, 1)), sn[i] = f16(tu_uniform(-1, 1));
    for (int64_t r = 0; r < t; r++) {
        memcpy(q + r * hq, qkv + r * w, (size_t)hq * 2);
        memcpy(k + r * hk, qkv + r * w + hq, (size_t)hk * 2);
    }
    int32_t seqlen[3] = {(int32_t)(t / 3), (int32_t)(t / 3), (int32_t)(t - 2 * (t / 3))};
    rope_atb_param p = ROPE_ATB_PARAM_INIT;
    p.rotary_coeff = coeff;
    p.cos_format = fmt;
    rope_tensor Q = {q, ROPE_F16, 2, {t, hq}, 0}, K = {k, ROPE_F16, 2, {t, hk}, 0};
    rope_tensor C = {cs, ROPE_F16, 2, {t, d}, 0}, S = {sn, ROPE_F16, 2, {t, d}, 0};
    rope_tensor L = {seqlen, ROPE_I32, 1, {3}, 0};
    rope_tensor FQ = {qkv, ROPE_F16, 2, {t, hq}, w}, FK = {qkv + hq, ROPE_F16, 2, {t, hk}, w};
    rope_status s1 = rope_atb_rope(NULL, &p, &Q, &K, &C, &S, &L, &Q, &K);
    rope_status s2 = rope_atb_rope(NULL, &p, &FQ, &FK, &C, &S, &L, &FQ, &FK);
    CHECK(s1 == ROPE_OK && s2 == ROPE_OK, "t %lld d %lld: %s", (long long)t, (long long)d, rope_last_error());
    int bad = 0;
    for (int64_t r = 0; r < t && !bad; r++) {
        bad |= memcmp(qkv + r * w, q + r * hq, (size_t)hq * 2) != 0;
        bad |= memcmp(qkv + r * w + hq, k + r * hk, (size_t)hk * 2) != 0;
        bad |= memcmp(qkv + r * w + hq + hk, orig + r * w + hq + hk, (size_t)hk * 2) != 0;
    }
    CHECK(!bad, "fused ATB t %lld hq %lld hk %lld d %lld coeff %d fmt %d differs from dense", (long long)t,
          (long long)hq, (long long)hk, (long long)d, coeff, fmt);
    free(qkv), free(orig), free(q), free(k), free(cs), free(sn);
}

/* ONNX 3-D X [B, S, N*H] inside a fused [B, S, 3*N*H] buffer, rotated in place. */
static void test_onnx(int64_t b, int64_t s, int64_t n, int64_t h, int64_t r, int inter) {
    int64_t hid = n * h, w = 3 * hid, tok = b * s;
    float *qkv = malloc((size_t)(tok * w) * 4), *orig = malloc((size_t)(tok * w) * 4), *x = malloc((size_t)(tok * hid) * 4);
    float *cs = malloc((size_t)(tok * r / 2) * 4), *sn = malloc((size_t)(tok * r / 2) * 4);
    for (int64_t i = 0; i < tok * w; i++) orig[i] = qkv[i] = (float)tu_uniform(-3, 3);
    for (int64_t i = 0; i < tok * r / 2; i++) cs[i] = (float)tu_uniform(-1, 1), sn[i] = (float)tu_uniform(-1, 1);
    for (int64_t i = 0; i < tok; i++) memcpy(x + i * hid, qkv + i * w + hid, (size_t)hid * 4); /* the k slot */
    rope_onnx_attrs at = {inter, r, n};
    rope_tensor X = {x, ROPE_F32, 3, {b, s, hid}, 0}, FX = {qkv + hid, ROPE_F32, 3, {b, s, hid}, w};
    rope_tensor C = {cs, ROPE_F32, 3, {b, s, r / 2}, 0}, S = {sn, ROPE_F32, 3, {b, s, r / 2}, 0};
    rope_status s1 = rope_onnx_rotary_embedding(NULL, &at, &X, &C, &S, NULL, &X);
    rope_status s2 = rope_onnx_rotary_embedding(NULL, &at, &FX, &C, &S, NULL, &FX);
    CHECK(s1 == ROPE_OK && s2 == ROPE_OK, "%s", rope_last_error());
    int bad = 0;
    for (int64_t i = 0; i < tok && !bad; i++) {
        bad |= memcmp(qkv + i * w, orig + i * w, (size_t)hid * 4) != 0;
        bad |= memcmp(qkv + i * w + hid, x + i * hid, (size_t)hid * 4) != 0;
        bad |= memcmp(qkv + i * w + 2 * hid, orig + i * w + 2 * hid, (size_t)hid * 4) != 0;
    }
    CHECK(!bad, "fused ONNX b %lld s %lld n %lld h %lld r %lld differs from dense", (long long)b, (long long)s,
          (long long)n, (long long)h, (long long)r);
    free(qkv), free(orig), free(x), free(cs), free(sn);
}

int main(void) {
    tu_seed(11);
    static const int64_t ds[] = {2, 8, 24, 64, 128};
    for (size_t i = 0; i < sizeof ds / sizeof ds[0]; i++) {
        int64_t d = ds[i];
        int coeffs[3] = {2, d % 4 == 0 ? 4 : 2, (int)d};
        for (int c = 0; c < 3; c++)
            for (int fmt = 0; fmt < 2; fmt++) test_atb(tu_int(3, 40), d * tu_int(1, 4) * 2, d * tu_int(1, 2), d, coeffs[c], fmt);
    }
    test_atb(7, 4096 / 8, 1024 / 8, 64, 2, 0);
    for (int i = 0; i < 20; i++) {
        int64_t h = 2 * tu_int(1, 40);
        test_onnx(tu_int(1, 3), tu_int(1, 9), tu_int(1, 4), h, 2 * tu_int(1, h / 2), (int)tu_int(0, 1));
    }
    return tu_finish();
}
