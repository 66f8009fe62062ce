/* SPDX-License-Identifier: MIT */
/*
 * rope_cache_fill: values (against libm at small positions), the attention factor, the half layout
 * and the full layout for rotary_coeff 2, 4 and d, float16 / bfloat16 rounded once (including values
 * where rounding through an ordinary float32 would round twice and go wrong), and every error with
 * nothing written.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cache/angle.h"
#include "harness.h"
#include "reference.h"
#include "rope.h"

enum { D = 16, H = D / 2, N = 40 };

static rope_freq_config cfg_default(int64_t dim) {
    rope_freq_config c = ROPE_FREQ_CONFIG_INIT;
    c.rotary_dim = dim;
    return c;
}

static rope_tensor t2(void *data, rope_dtype dt, int64_t rows, int64_t cols) {
    rope_tensor t;
    memset(&t, 0, sizeof t);
    t.data = data, t.dtype = dt, t.rank = 2, t.dims[0] = rows, t.dims[1] = cols;
    return t;
}

/* |f - v| in float32 ulps of v. */
static double ulp32(double f, double v) {
    return fabs(f - v) / ref_ulp(ROPE_F32, v);
}

static void values_and_attention(void) {
    static float c[N][H], s[N][H];
    double inv[H];
    rope_freq_config cfg = cfg_default(D);
    CHECK(rope_freq_compute(&cfg, inv, NULL) == ROPE_OK, "%s", rope_last_error());
    rope_tensor C = t2(c, ROPE_F32, N, H), S = t2(s, ROPE_F32, N, H);
    CHECK(rope_cache_fill(&cfg, 100, N, ROPE_CACHE_HALF, 0, &C, &S) == ROPE_OK, "%s", rope_last_error());
    double worst = 0;
    for (int r = 0; r < N; r++)
        for (int i = 0; i < H; i++) { /* p * inv is within 2^-40 rad in float64 here: libm is exact enough */
            worst = fmax(worst, ulp32(c[r][i], cos((100 + r) * inv[i])));
            worst = fmax(worst, ulp32(s[r][i], sin((100 + r) * inv[i])));
        }
    CHECK(worst <= 1.0, "half f32 against libm: %.3f ulp", worst);
    CHECK(c[0][0] == (float)cos(100.0) && s[0][0] == (float)sin(100.0), "pair 0 turns one radian per position");

    /* YaRN's attention factor (0.1 ln 4 + 1 for factor 4) multiplies both tables. */
    static float ca[N][H], sa[N][H];
    rope_freq_config y = cfg_default(D);
    y.scaling = ROPE_SCALING_YARN, y.factor = 4, y.original_max_position_embeddings = 64;
    double att, yinv[H];
    CHECK(rope_freq_compute(&y, yinv, &att) == ROPE_OK && att > 1.13, "%s", rope_last_error());
    rope_tensor CA = t2(ca, ROPE_F32, N, H), SA = t2(sa, ROPE_F32, N, H);
    CHECK(rope_cache_fill(&y, 0, N, ROPE_CACHE_HALF, 0, &CA, &SA) == ROPE_OK, "%s", rope_last_error());
    CHECK(ca[0][0] == (float)att && sa[0][0] == 0.0f, "position 0: cos %g (attention %g), sin %g", ca[0][0], att,
          sa[0][0]);
    worst = 0;
    for (int r = 0; r < N; r++)
        for (int i = 0; i < H; i++) {
            double cc, ss;
            rope_angle_sincos(r, yinv[i], &cc, &ss);
            worst = fmax(worst, fmax(ulp32(ca[r][i], att * cc), ulp32(sa[r][i], att * ss)));
        }
    CHECK(worst <= 0.5, "attention-scaled values: %.3f ulp", worst);
}

/* Full layout against the half one: pair p = g*rs + j at elements g*2rs + j and g*2rs + j + rs. */
static void layouts(void) {
    int64_t dims[3] = {16, 8, 12};
    for (int di = 0; di < 3; di++) {
        int64_t d = dims[di], h = d / 2;
        float *half_c = malloc(sizeof(float) * N * h), *half_s = malloc(sizeof(float) * N * h);
        float *fc = malloc(sizeof(float) * N * d), *fs = malloc(sizeof(float) * N * d);
        rope_freq_config cfg = cfg_default(d);
        cfg.base = 500;
        rope_tensor HC = t2(half_c, ROPE_F32, N, h), HS = t2(half_s, ROPE_F32, N, h);
        CHECK(rope_cache_fill(&cfg, 7, N, ROPE_CACHE_HALF, 3 /* ignored */, &HC, &HS) == ROPE_OK, "%s",
              rope_last_error());
        int32_t coeffs[3] = {2, 4, (int32_t)d};
        for (int k = 0; k < 3; k++) {
            int32_t rc = coeffs[k];
            if (d % rc) continue;
            int64_t rs = d / rc;
            rope_tensor FC = t2(fc, ROPE_F32, N, d), FS = t2(fs, ROPE_F32, N, d);
            CHECK(rope_cache_fill(&cfg, 7, N, ROPE_CACHE_FULL, rc, &FC, &FS) == ROPE_OK, "%s", rope_last_error());
            int bad = 0;
            for (int64_t r = 0; r < N; r++)
                for (int64_t e = 0; e < d; e++) { /* element e belongs to pair (e / 2rs) * rs + e % rs */
                    int64_t p = (e / (2 * rs)) * rs + e % rs;
                    bad += fc[r * d + e] != half_c[r * h + p] || fs[r * d + e] != half_s[r * h + p];
                }
            CHECK(bad == 0, "dim %lld coeff %d: %d elements differ from their pair", (long long)d, rc, bad);
            /* the spelled-out shapes of the header */
            const float *row = fc + 3 * d, *hr = half_c + 3 * h;
            if (rc == 2)
                CHECK(row[0] == hr[0] && row[h - 1] == hr[h - 1] && row[h] == hr[0] && row[d - 1] == hr[h - 1],
                      "coeff 2");
            if (rc == d)
                CHECK(row[0] == hr[0] && row[1] == hr[0] && row[2] == hr[1] && row[d - 1] == hr[h - 1], "coeff d");
            if (rc == 4 && d == 8)
                CHECK(row[0] == hr[0] && row[1] == hr[1] && row[2] == hr[0] && row[3] == hr[1] && row[4] == hr[2] &&
                          row[5] == hr[3] && row[6] == hr[2] && row[7] == hr[3],
                      "coeff 4, dim 8: [c0 c1 c0 c1 c2 c3 c2 c3]");
        }
        free(half_c), free(half_s), free(fc), free(fs);
    }
}

static void narrow_dtypes(void) {
    rope_freq_config cfg = cfg_default(D);
    cfg.scaling = ROPE_SCALING_YARN, cfg.factor = 8, cfg.original_max_position_embeddings = 128;
    double inv[H], att;
    CHECK(rope_freq_compute(&cfg, inv, &att) == ROPE_OK, "%s", rope_last_error());
    rope_dtype dts[2] = {ROPE_F16, ROPE_BF16};
    for (int k = 0; k < 2; k++) {
        static uint16_t c[N][D], s[N][D];
        rope_tensor C = t2(c, dts[k], N, D), S = t2(s, dts[k], N, D);
        int64_t start = 1000000;
        CHECK(rope_cache_fill(&cfg, start, N, ROPE_CACHE_FULL, 2, &C, &S) == ROPE_OK, "%s", rope_last_error());
        int bad = 0;
        for (int r = 0; r < N; r++)
            for (int e = 0; e < D; e++) {
                double cc, ss;
                rope_angle_sincos(start + r, inv[e % H], &cc, &ss);
                /* the float16 / bfloat16 nearest to the double value (ties to even) */
                double wc = ref_round(dts[k], att * cc), ws = ref_round(dts[k], att * ss);
                double gc = ref_load(dts[k], c[r], (size_t)e), gs = ref_load(dts[k], s[r], (size_t)e);
                bad += gc != wc || gs != ws;
            }
        CHECK(bad == 0, "%s: %d values not the nearest", rope_dtype_name(dts[k]), bad);
    }
    /* Rounded once: at position 0, cos is exactly the attention factor. 1 + 2^-11 + 2^-30 lies just
     * above the float16 midpoint between 1 and 1 + 2^-10, so the answer is 1 + 2^-10, but a float32
     * on the way would land on the midpoint and tie to 1. The same one bit lower for bfloat16. */
    struct {
        rope_dtype dt;
        double att, want;
    } once[2] = {{ROPE_F16, 1 + 0x1p-11 + 0x1p-30, 1 + 0x1p-10}, {ROPE_BF16, 1 + 0x1p-8 + 0x1p-30, 1 + 0x1p-7}};
    for (int k = 0; k < 2; k++) {
        uint16_t c[2][4], s[2][4];
        rope_freq_config y = cfg_default(4);
        y.scaling = ROPE_SCALING_YARN, y.factor = 2, y.original_max_position_embeddings = 64,
        y.attention_factor = once[k].att;
        rope_tensor C = t2(c, once[k].dt, 2, 4), S = t2(s, once[k].dt, 2, 4);
        CHECK(rope_cache_fill(&y, 0, 2, ROPE_CACHE_FULL, 4, &C, &S) == ROPE_OK, "%s", rope_last_error());
        double got = ref_load(once[k].dt, c[0], 0);
        CHECK(got == once[k].want, "%s: %a rounds to %a, expected %a", rope_dtype_name(once[k].dt), once[k].att, got,
              once[k].want);
        CHECK((float)once[k].att == (float)((1.0 + once[k].want) / 2), "the float32 of it is the midpoint");
    }
}

/* The operators take the tables as they come: HALF as ONNX cos_cache/sin_cache with position_ids,
 * FULL as ATB cos/sin for the same rotary_coeff, and each rotates pair p of position t by exactly
 * t * inv_freq[p] (checked in float64 from the inputs, to float32 rounding). */
static void operators_accept(void) {
    enum { T = 24 };
    double inv[H];
    rope_freq_config cfg = cfg_default(D);
    CHECK(rope_freq_compute(&cfg, inv, NULL) == ROPE_OK, "%s", rope_last_error());
    static float x[T][D], y[T][D], y2[T][D], hc[T][H], hs[T][H], fc[T][D], fs[T][D];
    tu_seed(11);
    for (int t = 0; t < T; t++)
        for (int e = 0; e < D; e++) x[t][e] = (float)tu_uniform(-1, 1);

    /* ONNX, interleaved 0: pair p is (p, p + D/2); 4-D X [1, 1, T, D], ids 0..T-1 */
    rope_tensor HC = t2(hc, ROPE_F32, T, H), HS = t2(hs, ROPE_F32, T, H);
    CHECK(rope_cache_fill(&cfg, 0, T, ROPE_CACHE_HALF, 0, &HC, &HS) == ROPE_OK, "%s", rope_last_error());
    int64_t ids[T];
    for (int t = 0; t < T; t++) ids[t] = t;
    rope_tensor X = {x, ROPE_F32, 4, {1, 1, T, D}, 0}, Y = {y, ROPE_F32, 4, {1, 1, T, D}, 0};
    rope_tensor I = {ids, ROPE_I64, 2, {1, T}, 0};
    rope_onnx_attrs attrs = {0, 0, 0};
    CHECK(rope_onnx_rotary_embedding(NULL, &attrs, &X, &HC, &HS, &I, &Y) == ROPE_OK, "onnx: %s", rope_last_error());
    double worst = 0;
    for (int t = 0; t < T; t++)
        for (int p = 0; p < H; p++) {
            double a = t * inv[p], x1 = x[t][p], x2 = x[t][p + H];
            worst = fmax(worst, fabs(y[t][p] - (x1 * cos(a) - x2 * sin(a))));
            worst = fmax(worst, fabs(y[t][p + H] - (x1 * sin(a) + x2 * cos(a))));
        }
    CHECK(worst < 1e-6, "onnx with the half cache: off by %g", worst);

    /* ATB for each rotary_coeff: pair p = g*rs + j is (g*2rs + j, g*2rs + j + rs) */
    int32_t coeffs[3] = {2, 4, D};
    for (int k = 0; k < 3; k++) {
        int32_t rc = coeffs[k];
        int64_t rs = D / rc;
        rope_tensor FC = t2(fc, ROPE_F32, T, D), FS = t2(fs, ROPE_F32, T, D);
        CHECK(rope_cache_fill(&cfg, 0, T, ROPE_CACHE_FULL, rc, &FC, &FS) == ROPE_OK, "%s", rope_last_error());
        int32_t seqlen[1] = {T};
        rope_tensor Q = t2(x, ROPE_F32, T, D), K = t2(x, ROPE_F32, T, D), RQ = t2(y, ROPE_F32, T, D),
                    RK = t2(y2, ROPE_F32, T, D);
        rope_tensor SL = {seqlen, ROPE_I32, 1, {1}, 0};
        rope_atb_param prm = ROPE_ATB_PARAM_INIT;
        prm.rotary_coeff = rc;
        CHECK(rope_atb_rope(NULL, &prm, &Q, &K, &FC, &FS, &SL, &RQ, &RK) == ROPE_OK, "atb coeff %d: %s", rc,
              rope_last_error());
        worst = 0;
        for (int t = 0; t < T; t++)
            for (int64_t p = 0; p < H; p++) {
                int64_t a = (p / rs) * 2 * rs + p % rs, b = a + rs;
                double ang = t * inv[p], x1 = x[t][a], x2 = x[t][b];
                worst = fmax(worst, fabs(y[t][a] - (x1 * cos(ang) - x2 * sin(ang))));
                worst = fmax(worst, fabs(y[t][b] - (x1 * sin(ang) + x2 * cos(ang))));
            }
        CHECK(worst < 1e-6, "atb coeff %d with the full cache: off by %g", rc, worst);
    }
}

/* ---- errors ----------------------------------------------------------------------------------- */

static unsigned char bufc[4096], bufs[4096];

static int untouched(void) {
    for (size_t i = 0; i < sizeof bufc; i++)
        if (bufc[i] != 0xAB || bufs[i] != 0xCD) return 0;
    return 1;
}

static void expect(rope_status want, const char *needle, const rope_freq_config *cfg, int64_t start, int64_t count,
                   rope_cache_layout layout, int32_t coeff, const rope_tensor *c, const rope_tensor *s, int line) {
    memset(bufc, 0xAB, sizeof bufc);
    memset(bufs, 0xCD, sizeof bufs);
    rope_status st = rope_cache_fill(cfg, start, count, layout, coeff, c, s);
    CHECK(st == want, "line %d: status %d, expected %d (%s)", line, (int)st, (int)want, rope_last_error());
    CHECK(strstr(rope_last_error(), needle) != NULL, "line %d: message \"%s\" lacks \"%s\"", line, rope_last_error(),
          needle);
    CHECK(untouched(), "line %d: written on failure", line);
}

static void errors(void) {
    rope_freq_config cfg = cfg_default(D);
    rope_tensor C = t2(bufc, ROPE_F32, 4, H), S = t2(bufs, ROPE_F32, 4, H);
    rope_tensor CF = t2(bufc, ROPE_F32, 4, D), SF = t2(bufs, ROPE_F32, 4, D);
#define E(st, needle, ...) expect(st, needle, __VA_ARGS__, __LINE__)
    E(ROPE_ERROR_NULL_ARGUMENT, "cfg is NULL", NULL, 0, 4, ROPE_CACHE_HALF, 0, &C, &S);
    rope_freq_config bad = cfg;
    bad.base = 1;
    E(ROPE_ERROR_ATTRIBUTE, "rope_cache_fill: base", &bad, 0, 4, ROPE_CACHE_HALF, 0, &C, &S);
    bad = cfg, bad.rotary_dim = 15;
    E(ROPE_ERROR_ATTRIBUTE, "rotary_dim", &bad, 0, 4, ROPE_CACHE_HALF, 0, &C, &S);
    double tiny[H] = {1e-320, 1, 1, 1, 1, 1, 1, 1}, one[H] = {1, 1, 1, 1, 1, 1, 1, 1};
    bad = cfg, bad.scaling = ROPE_SCALING_LONGROPE, bad.short_factor = tiny, bad.long_factor = one;
    bad.original_max_position_embeddings = 64, bad.attention_factor = 1;
    E(ROPE_ERROR_ATTRIBUTE, "inv_freq[0]", &bad, 0, 4, ROPE_CACHE_HALF, 0, &C, &S);
    rope_tensor Z0 = t2(NULL, ROPE_F32, 0, H); /* count 0 still reports a bad configuration */
    E(ROPE_ERROR_ATTRIBUTE, "inv_freq[0]", &bad, 0, 0, ROPE_CACHE_HALF, 0, &Z0, &Z0);

    E(ROPE_ERROR_ATTRIBUTE, "layout", &cfg, 0, 4, (rope_cache_layout)3, 0, &C, &S);
    E(ROPE_ERROR_ATTRIBUTE, "rotary_coeff: expected 2, 4 or 16", &cfg, 0, 4, ROPE_CACHE_FULL, 3, &CF, &SF);
    E(ROPE_ERROR_ATTRIBUTE, "rotary_coeff", &cfg, 0, 4, ROPE_CACHE_FULL, 0, &CF, &SF);
    E(ROPE_ERROR_ATTRIBUTE, "rotary_coeff", &cfg, 0, 4, ROPE_CACHE_FULL, 8, &CF, &SF);
    rope_freq_config six = cfg_default(6);
    rope_tensor C6 = t2(bufc, ROPE_F32, 4, 6), S6 = t2(bufs, ROPE_F32, 4, 6);
    E(ROPE_ERROR_ATTRIBUTE, "rotary_coeff 4: expected a divisor", &six, 0, 4, ROPE_CACHE_FULL, 4, &C6, &S6);

    E(ROPE_ERROR_SHAPE, "count", &cfg, 0, -1, ROPE_CACHE_HALF, 0, &C, &S);
    E(ROPE_ERROR_INDEX, "pos_start", &cfg, -1, 4, ROPE_CACHE_HALF, 0, &C, &S);
    E(ROPE_ERROR_INDEX, "2^53", &cfg, ((int64_t)1 << 53) - 3, 4, ROPE_CACHE_HALF, 0, &C, &S);
    E(ROPE_ERROR_INDEX, "2^53", &cfg, INT64_MAX, 4, ROPE_CACHE_HALF, 0, &C, &S);
    E(ROPE_ERROR_INDEX, "2^46", &cfg, (int64_t)1 << 46, 4, ROPE_CACHE_HALF, 0, &C, &S);

    E(ROPE_ERROR_NULL_ARGUMENT, "cos is NULL", &cfg, 0, 4, ROPE_CACHE_HALF, 0, NULL, &S);
    E(ROPE_ERROR_NULL_ARGUMENT, "sin is NULL", &cfg, 0, 4, ROPE_CACHE_HALF, 0, &C, NULL);
    rope_tensor X = C;
    X.data = NULL;
    E(ROPE_ERROR_NULL_ARGUMENT, "cos data is NULL", &cfg, 0, 4, ROPE_CACHE_HALF, 0, &X, &S);
    E(ROPE_ERROR_NULL_ARGUMENT, "sin data is NULL", &cfg, 0, 4, ROPE_CACHE_HALF, 0, &C, &X);
    X = C, X.dtype = ROPE_I32;
    E(ROPE_ERROR_DTYPE, "cos dtype: expected f32, f16 or bf16, found i32", &cfg, 0, 4, ROPE_CACHE_HALF, 0, &X, &S);
    X = S, X.dtype = ROPE_F16;
    E(ROPE_ERROR_DTYPE, "sin dtype: expected f32 (same as cos), found f16", &cfg, 0, 4, ROPE_CACHE_HALF, 0, &C, &X);
    X = C, X.rank = 3, X.dims[2] = 1;
    E(ROPE_ERROR_RANK, "cos rank: expected 2", &cfg, 0, 4, ROPE_CACHE_HALF, 0, &X, &S);
    X = S, X.rank = 1;
    E(ROPE_ERROR_RANK, "sin rank", &cfg, 0, 4, ROPE_CACHE_HALF, 0, &C, &X);
    X = C, X.dims[1] = -1;
    E(ROPE_ERROR_SHAPE, "cos dim 1: expected >= 0", &cfg, 0, 4, ROPE_CACHE_HALF, 0, &X, &S);
    E(ROPE_ERROR_SHAPE, "cos dim 0: expected 3 (count), found 4", &cfg, 0, 3, ROPE_CACHE_HALF, 0, &C, &S);
    E(ROPE_ERROR_SHAPE, "cos dim 1: expected 8 (rotary_dim/2 for ROPE_CACHE_HALF), found 16", &cfg, 0, 4,
      ROPE_CACHE_HALF, 0, &CF, &SF);
    E(ROPE_ERROR_SHAPE, "cos dim 1: expected 16 (rotary_dim for ROPE_CACHE_FULL), found 8", &cfg, 0, 4, ROPE_CACHE_FULL,
      2, &C, &S);
    X = S, X.dims[0] = 5;
    E(ROPE_ERROR_SHAPE, "sin shape: expected [4,8]", &cfg, 0, 4, ROPE_CACHE_HALF, 0, &C, &X);
    X = C, X.row_stride = 12;
    E(ROPE_ERROR_STRIDE, "cos row_stride", &cfg, 0, 4, ROPE_CACHE_HALF, 0, &X, &S);
    X = S, X.row_stride = 4;
    E(ROPE_ERROR_STRIDE, "sin row_stride", &cfg, 0, 4, ROPE_CACHE_HALF, 0, &C, &X);
    X = C, X.row_stride = 8; /* dense spelled out: accepted */
    memset(bufc, 0, sizeof bufc);
    CHECK(rope_cache_fill(&cfg, 0, 4, ROPE_CACHE_HALF, 0, &X, &S) == ROPE_OK, "row_stride 8: %s", rope_last_error());
    E(ROPE_ERROR_ALIASING, "sin overlaps cos", &cfg, 0, 4, ROPE_CACHE_HALF, 0, &C, &C);
    X = C, X.data = bufc + 4 * 20; /* starts inside cos's third row */
    E(ROPE_ERROR_ALIASING, "sin overlaps cos", &cfg, 0, 4, ROPE_CACHE_HALF, 0, &C, &X);
#undef E
    /* count 0: valid, nothing written, data may be NULL */
    rope_tensor Z = t2(NULL, ROPE_F32, 0, H);
    CHECK(rope_cache_fill(&cfg, 5, 0, ROPE_CACHE_HALF, 0, &Z, &Z) == ROPE_OK, "count 0: %s", rope_last_error());
}

int main(void) {
    values_and_attention();
    layouts();
    narrow_dtypes();
    operators_accept();
    errors();
    return tu_finish();
}
