/* SPDX-License-Identifier: MIT */
/*
 * rope_cache_fill_axes against a long double reference written here: random positions (integer
 * and fractional, negative too) in every position dtype, many splits of the rotated width into
 * 1 .. 8 axes, per-axis and alternating frequencies, every table dtype and layout, attention; the
 * published families' splits (Flux, HunyuanVideo, Wan, Qwen2-VL vision, Pixtral's alternating
 * frequencies built the way Pixtral builds them); a single axis against rope_cache_fill; and every
 * error with nothing written.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "reference.h"
#include "rope.h"

enum { MAXT = 64, MAXW = 512 };

static rope_tensor t2(void *data, rope_dtype dt, int64_t rows, int64_t cols) {
    rope_tensor t;
    memset(&t, 0, sizeof t);
    t.data = data, t.dtype = dt, t.rank = 2, t.dims[0] = rows, t.dims[1] = cols;
    return t;
}

/* The reference frequency of pair j of axis a, by the formula of rope.h, in long double. */
static long double ref_inv(const rope_axes_config *c, int a, int64_t j) {
    long double theta = c->theta[a] == 0 ? 10000.0L : (long double)c->theta[a];
    if (c->freq == ROPE_AXES_FREQ_ALTERNATING) {
        int64_t rot = 0;
        for (int b = 0; b < c->n_axes; b++) rot += c->axes_dims[b];
        return powl(theta, -(long double)(2 * (j * c->n_axes + a)) / (long double)rot);
    }
    return powl(theta, -(long double)(2 * j) / (long double)c->axes_dims[a]);
}

/* Element i of a positions array as the library reads it. */
static long double pos_at(rope_dtype dt, const void *p, size_t i) {
    switch (dt) {
    case ROPE_I64: return (long double)((const int64_t *)p)[i];
    case ROPE_I32: return (long double)((const int32_t *)p)[i];
    case ROPE_F32: return (long double)((const float *)p)[i];
    default: return (long double)((const double *)p)[i];
    }
}

typedef struct table_case {
    rope_axes_config cfg;
    rope_dtype pos_dtype, dtype;
    rope_cache_layout layout;
    int32_t coeff;
    int64_t T;
} table_case;

static int64_t rot_of(const rope_axes_config *c) {
    int64_t r = 0;
    for (int a = 0; a < c->n_axes; a++) r += c->axes_dims[a];
    return r;
}

/* Where pair p's cos (or sin) of row r sits: element index in cos / sin, and the second copy (FULL). */
static size_t slot(const table_case *k, int64_t rot, int64_t r, int64_t p, int sin_part, int copy) {
    switch (k->layout) {
    case ROPE_CACHE_HALF: return (size_t)(r * (rot / 2) + p);
    case ROPE_CACHE_VLLM: return (size_t)(r * rot + p + (sin_part ? rot / 2 : 0));
    case ROPE_CACHE_FULL: {
        int64_t ps = rot / k->coeff;
        return (size_t)(r * rot + (p / ps) * 2 * ps + p % ps + (copy ? ps : 0));
    }
    }
    return 0;
}

/* Fills the case's tables from `pos` and checks every value against the reference: within 1 ulp of
 * the table dtype; *exact counts the values equal to the correctly rounded reference. */
static void check_case(const table_case *k, const void *pos, double *worst, long *exact, long *total) {
    static unsigned char cbuf[MAXT * MAXW * 4], sbuf[MAXT * MAXW * 4];
    const int64_t rot = rot_of(&k->cfg), width = k->layout == ROPE_CACHE_HALF ? rot / 2 : rot;
    const int A = k->cfg.n_axes;
    rope_tensor P = t2((void *)pos, k->pos_dtype, k->T, A);
    rope_tensor C = t2(cbuf, k->dtype, k->T, width), S = t2(sbuf, k->dtype, k->T, width);
    int vllm = k->layout == ROPE_CACHE_VLLM;
    rope_status st = rope_cache_fill_axes(&k->cfg, &P, k->layout, k->coeff, &C, vllm ? NULL : &S);
    CHECK(st == ROPE_OK, "%s", rope_last_error());
    if (st != ROPE_OK) return;
    long double att = k->cfg.attention == 0 ? 1.0L : (long double)k->cfg.attention;
    for (int64_t r = 0; r < k->T; r++) {
        int64_t p = 0;
        for (int a = 0; a < A; a++)
            for (int64_t j = 0; j < k->cfg.axes_dims[a] / 2; j++, p++) {
                long double ang = pos_at(k->pos_dtype, pos, (size_t)(r * A + a)) * ref_inv(&k->cfg, a, j);
                double want[2] = {(double)(att * cosl(ang)), (double)(att * sinl(ang))};
                for (int part = 0; part < 2; part++)
                    for (int copy = 0; copy < (k->layout == ROPE_CACHE_FULL ? 2 : 1); copy++) {
                        const void *buf = part && !vllm ? sbuf : cbuf;
                        double got = ref_load(k->dtype, buf, slot(k, rot, r, p, part, copy));
                        double err = fabs(got - want[part]) / ref_ulp(k->dtype, want[part]);
                        if (err > *worst) *worst = err;
                        *exact += got == ref_round(k->dtype, want[part]);
                        *total += 1;
                    }
            }
    }
}

/* Random coordinates for the case: integers in [-lim, lim] (i32 / i64), or for float dtypes
 * integers and fractional values alike. */
static void random_positions(const table_case *k, void *pos, int64_t lim) {
    for (int64_t i = 0; i < k->T * k->cfg.n_axes; i++) {
        int64_t n = tu_int(-lim, lim);
        double f = tu_int(0, 1) ? (double)n : tu_uniform(-(double)lim, (double)lim);
        switch (k->pos_dtype) {
        case ROPE_I64: ((int64_t *)pos)[i] = n; break;
        case ROPE_I32: ((int32_t *)pos)[i] = (int32_t)n; break;
        case ROPE_F32: ((float *)pos)[i] = (float)f; break;
        default: ((double *)pos)[i] = f; break;
        }
    }
}

static void random_tables(void) {
    static const rope_dtype pos_types[] = {ROPE_I64, ROPE_I32, ROPE_F32, ROPE_F64};
    static const rope_dtype dtypes[] = {ROPE_F32, ROPE_F16, ROPE_BF16};
    static double pos[MAXT * ROPE_MAX_AXES]; /* big enough for every position dtype */
    double worst[3] = {0, 0, 0};
    long exact[3] = {0, 0, 0}, total[3] = {0, 0, 0};
    for (int it = 0; it < 400; it++) {
        table_case k;
        memset(&k, 0, sizeof k);
        k.cfg = (rope_axes_config)ROPE_AXES_CONFIG_INIT;
        k.cfg.n_axes = (int32_t)tu_int(1, ROPE_MAX_AXES);
        k.cfg.freq = tu_int(0, 3) == 0 ? ROPE_AXES_FREQ_ALTERNATING : ROPE_AXES_FREQ_PER_AXIS;
        int64_t same = 2 * tu_int(1, 8);
        for (int a = 0; a < k.cfg.n_axes; a++) {
            k.cfg.axes_dims[a] = k.cfg.freq == ROPE_AXES_FREQ_ALTERNATING ? same : 2 * tu_int(1, 32);
            k.cfg.theta[a] = tu_int(0, 4) == 0 ? 0.0 : exp(tu_uniform(log(2.0), log(1e6)));
        }
        k.cfg.attention = tu_int(0, 2) == 0 ? tu_uniform(0.5, 2.0) : 0.0;
        k.pos_dtype = pos_types[tu_int(0, 3)];
        int di = (int)tu_int(0, 2);
        k.dtype = dtypes[di];
        k.layout = (rope_cache_layout)tu_int(0, 2);
        int64_t rot = rot_of(&k.cfg);
        int32_t coeffs[3] = {2, 4, (int32_t)rot};
        do k.coeff = coeffs[tu_int(0, 2)];
        while (rot % k.coeff != 0);
        k.T = tu_int(1, MAXT);
        random_positions(&k, pos, tu_int(0, 2) == 0 ? 4096 : 64);
        check_case(&k, pos, &worst[di], &exact[di], &total[di]);
    }
    for (int d = 0; d < 3; d++) {
        CHECK(worst[d] <= 1.0, "%s: worst %.3f ulp of the long double reference", rope_dtype_name(dtypes[d]), worst[d]);
        CHECK(exact[d] >= total[d] - total[d] / 1000, "%s: %ld of %ld values correctly rounded",
              rope_dtype_name(dtypes[d]), exact[d], total[d]);
    }
    printf("random tables: f32 %.3f ulp (%ld/%ld exact), f16 %.3f (%ld/%ld), bf16 %.3f (%ld/%ld)\n", worst[0],
           exact[0], total[0], worst[1], exact[1], total[1], worst[2], exact[2], total[2]);
}

/* Integer coordinates give the same bits whichever dtype carries them. */
static void position_dtypes_agree(void) {
    enum { T = 33, A = 3, W = 64 };
    int64_t p64[T * A];
    int32_t p32[T * A];
    float pf[T * A];
    double pd[T * A];
    for (int i = 0; i < T * A; i++) {
        p64[i] = tu_int(-3000, 3000);
        p32[i] = (int32_t)p64[i], pf[i] = (float)p64[i], pd[i] = (double)p64[i];
    }
    rope_axes_config c = ROPE_AXES_CONFIG_INIT;
    c.n_axes = A, c.axes_dims[0] = 16, c.axes_dims[1] = 56, c.axes_dims[2] = 56;
    static float cos[4][T * W], sin[4][T * W];
    const void *src[4] = {p64, p32, pf, pd};
    const rope_dtype dt[4] = {ROPE_I64, ROPE_I32, ROPE_F32, ROPE_F64};
    for (int k = 0; k < 4; k++) {
        rope_tensor P = t2((void *)src[k], dt[k], T, A), C = t2(cos[k], ROPE_F32, T, W), S = t2(sin[k], ROPE_F32, T, W);
        CHECK(rope_cache_fill_axes(&c, &P, ROPE_CACHE_HALF, 0, &C, &S) == ROPE_OK, "%s", rope_last_error());
    }
    for (int k = 1; k < 4; k++)
        CHECK(!memcmp(cos[0], cos[k], sizeof cos[0]) && !memcmp(sin[0], sin[k], sizeof sin[0]),
              "positions as %s differ from i64", rope_dtype_name(dt[k]));
}

/* One axis is rope_cache_fill's table at the same positions, bit for bit, in every layout. */
static void one_axis_is_cache_fill(void) {
    enum { T = 50, D = 24 };
    int64_t pos[T];
    for (int i = 0; i < T; i++) pos[i] = 1000 + i;
    rope_axes_config c = ROPE_AXES_CONFIG_INIT;
    c.n_axes = 1, c.axes_dims[0] = D, c.theta[0] = 500000;
    rope_freq_config f = ROPE_FREQ_CONFIG_INIT;
    f.rotary_dim = D, f.base = 500000;
    static uint16_t a[2][T * D], b[2][T * D];
    for (int layout = 0; layout < 3; layout++) {
        int64_t w = layout == ROPE_CACHE_HALF ? D / 2 : D;
        rope_tensor P = t2(pos, ROPE_I64, T, 1);
        rope_tensor C0 = t2(a[0], ROPE_BF16, T, w), S0 = t2(a[1], ROPE_BF16, T, w);
        rope_tensor C1 = t2(b[0], ROPE_BF16, T, w), S1 = t2(b[1], ROPE_BF16, T, w);
        int vllm = layout == ROPE_CACHE_VLLM;
        memset(a, 0, sizeof a), memset(b, 0, sizeof b);
        CHECK(rope_cache_fill_axes(&c, &P, (rope_cache_layout)layout, 4, &C0, vllm ? NULL : &S0) == ROPE_OK, "%s",
              rope_last_error());
        CHECK(rope_cache_fill(&f, 1000, T, (rope_cache_layout)layout, 4, &C1, vllm ? NULL : &S1) == ROPE_OK, "%s",
              rope_last_error());
        CHECK(!memcmp(a, b, sizeof a), "layout %d: one axis differs from rope_cache_fill", layout);
    }
}

/* The families' splits, with the frequencies built as each model builds them (written out here). */
static double family_worst(const rope_axes_config *c, int T, const double *pos, const double *inv_by_pair) {
    enum { W = 256 };
    static float cos[64 * W], sin[64 * W];
    int64_t rot = rot_of(c);
    rope_tensor P = t2((void *)pos, ROPE_F64, T, c->n_axes), C = t2(cos, ROPE_F32, T, rot / 2),
                S = t2(sin, ROPE_F32, T, rot / 2);
    CHECK(rope_cache_fill_axes(c, &P, ROPE_CACHE_HALF, 0, &C, &S) == ROPE_OK, "%s", rope_last_error());
    double worst = 0;
    for (int t = 0; t < T; t++) {
        int64_t p = 0;
        for (int a = 0; a < c->n_axes; a++)
            for (int64_t j = 0; j < c->axes_dims[a] / 2; j++, p++) {
                long double ang = (long double)pos[t * c->n_axes + a] * inv_by_pair[p];
                double wc = (double)cosl(ang), ws = (double)sinl(ang);
                worst = fmax(worst, fabs(cos[t * rot / 2 + p] - wc) / ref_ulp(ROPE_F32, wc));
                worst = fmax(worst, fabs(sin[t * rot / 2 + p] - ws) / ref_ulp(ROPE_F32, ws));
            }
    }
    return worst;
}

static void families(void) {
    enum { T = 64 };
    static double pos3[T * 3], pos2[T * 2], inv[256];
    for (int t = 0; t < T; t++) {
        pos3[3 * t] = t / 16, pos3[3 * t + 1] = (t / 4) % 4 + 7, pos3[3 * t + 2] = t % 4 + 300;
        pos2[2 * t] = t / 8 + 1, pos2[2 * t + 1] = t % 8 + 1;
    }
    /* Flux (16, 56, 56; theta 1e4) and HunyuanVideo (theta 256): each axis's own 1/theta^(2j/d_a). */
    const double thetas[2] = {10000.0, 256.0};
    for (int f = 0; f < 2; f++) {
        rope_axes_config c = ROPE_AXES_CONFIG_INIT;
        c.n_axes = 3, c.axes_dims[0] = 16, c.axes_dims[1] = 56, c.axes_dims[2] = 56;
        for (int a = 0; a < 3; a++) c.theta[a] = thetas[f];
        int p = 0;
        for (int a = 0; a < 3; a++)
            for (int j = 0; j < c.axes_dims[a] / 2; j++) inv[p++] = 1.0 / pow(thetas[f], 2.0 * j / c.axes_dims[a]);
        double w = family_worst(&c, T, pos3, inv);
        CHECK(w <= 1.0, "%s: %.3f ulp", f ? "HunyuanVideo" : "Flux", w);
    }
    /* Wan, head 128: t gets 128 - 4*(128/6) = 44, h and w 2*(128/6) = 42 each. */
    {
        rope_axes_config c = ROPE_AXES_CONFIG_INIT;
        c.n_axes = 3, c.axes_dims[1] = c.axes_dims[2] = 2 * (128 / 6), c.axes_dims[0] = 128 - 4 * (128 / 6);
        CHECK(c.axes_dims[0] == 44 && c.axes_dims[1] == 42, "Wan's split");
        int p = 0;
        for (int a = 0; a < 3; a++)
            for (int j = 0; j < c.axes_dims[a] / 2; j++) inv[p++] = 1.0 / pow(10000.0, 2.0 * j / c.axes_dims[a]);
        double w = family_worst(&c, T, pos3, inv);
        CHECK(w <= 1.0, "Wan: %.3f ulp", w);
    }
    /* Pixtral, head 64: freqs[k] = 1/theta^(2k/64), k < 32; height takes freqs[0::2], width freqs[1::2]. */
    {
        rope_axes_config c = ROPE_AXES_CONFIG_INIT;
        c.n_axes = 2, c.axes_dims[0] = c.axes_dims[1] = 32, c.freq = ROPE_AXES_FREQ_ALTERNATING;
        c.theta[0] = c.theta[1] = 10000.0;
        double freqs[32];
        for (int k = 0; k < 32; k++) freqs[k] = 1.0 / pow(10000.0, 2.0 * k / 64);
        for (int j = 0; j < 16; j++) inv[j] = freqs[2 * j], inv[16 + j] = freqs[2 * j + 1];
        double w = family_worst(&c, T, pos2, inv);
        CHECK(w <= 1.0, "Pixtral: %.3f ulp", w);
    }
}

/* The inputs of a valid call; each error case breaks one thing. */
typedef struct call {
    rope_axes_config cfg;
    rope_tensor pos, cos, sin;
    rope_cache_layout layout;
    int32_t coeff;
    int no_cfg, no_pos, no_sin;
} call;

static int64_t g_pos[12 * 3];
static float g_cos[12 * 64], g_sin[12 * 64];

static call valid_call(void) {
    call k;
    memset(&k, 0, sizeof k);
    k.cfg = (rope_axes_config)ROPE_AXES_CONFIG_INIT;
    k.cfg.n_axes = 3, k.cfg.axes_dims[0] = 16, k.cfg.axes_dims[1] = 24, k.cfg.axes_dims[2] = 24;
    for (int i = 0; i < 36; i++) g_pos[i] = i % 7;
    k.pos = t2(g_pos, ROPE_I64, 12, 3);
    k.cos = t2(g_cos, ROPE_F32, 12, 32);
    k.sin = t2(g_sin, ROPE_F32, 12, 32);
    k.layout = ROPE_CACHE_HALF;
    return k;
}

static void expect_error(call k, rope_status want, const char *fragment) {
    memset(g_cos, 0x5a, sizeof g_cos), memset(g_sin, 0x5a, sizeof g_sin);
    rope_status st = rope_cache_fill_axes(k.no_cfg ? NULL : &k.cfg, k.no_pos ? NULL : &k.pos, k.layout, k.coeff,
                                          &k.cos, k.no_sin ? NULL : &k.sin);
    CHECK(st == want, "expected %s, got %s (%s)", rope_status_string(want), rope_status_string(st), rope_last_error());
    CHECK(strstr(rope_last_error(), fragment) != NULL, "message '%s' lacks '%s'", rope_last_error(), fragment);
    int untouched = 1;
    for (size_t i = 0; i < sizeof g_cos; i++)
        untouched &= ((unsigned char *)g_cos)[i] == 0x5a && ((unsigned char *)g_sin)[i] == 0x5a;
    CHECK(untouched, "%s: the tables were written", fragment);
}

static void errors(void) {
    call k = valid_call();
    CHECK(rope_cache_fill_axes(&k.cfg, &k.pos, k.layout, 0, &k.cos, &k.sin) == ROPE_OK, "%s", rope_last_error());

    k = valid_call(), k.no_cfg = 1, expect_error(k, ROPE_ERROR_NULL_ARGUMENT, "cfg is NULL");
    k = valid_call(), k.cfg.struct_size = 0, expect_error(k, ROPE_ERROR_ATTRIBUTE, "cfg->struct_size");
    k = valid_call(), k.cfg.n_axes = 0, expect_error(k, ROPE_ERROR_ATTRIBUTE, "cfg->n_axes: expected 1 .. 8, found 0");
    k = valid_call(), k.cfg.n_axes = 9, expect_error(k, ROPE_ERROR_ATTRIBUTE, "found 9");
    k = valid_call(), k.cfg.axes_dims[1] = 23, expect_error(k, ROPE_ERROR_ATTRIBUTE, "cfg->axes_dims[1]: expected an even");
    k = valid_call(), k.cfg.axes_dims[2] = 0, expect_error(k, ROPE_ERROR_ATTRIBUTE, "cfg->axes_dims[2]");
    k = valid_call(), k.cfg.axes_dims[3] = 2, expect_error(k, ROPE_ERROR_ATTRIBUTE, "expected 0 past n_axes (3)");
    k = valid_call(), k.cfg.theta[4] = 2, expect_error(k, ROPE_ERROR_ATTRIBUTE, "theta[4]");
    k = valid_call(), k.cfg.axes_dims[0] = 65536, expect_error(k, ROPE_ERROR_ATTRIBUTE, "expected a sum");
    k = valid_call(), k.cfg.theta[1] = 1.0, expect_error(k, ROPE_ERROR_ATTRIBUTE, "cfg->theta[1]: expected a finite value > 1");
    k = valid_call(), k.cfg.theta[2] = NAN, expect_error(k, ROPE_ERROR_ATTRIBUTE, "cfg->theta[2]");
    k = valid_call(), k.cfg.freq = (rope_axes_freq)7, expect_error(k, ROPE_ERROR_ATTRIBUTE, "cfg->freq");
    k = valid_call(), k.cfg.freq = ROPE_AXES_FREQ_ALTERNATING,
    expect_error(k, ROPE_ERROR_ATTRIBUTE, "cfg->axes_dims[1]: expected 16 (ROPE_AXES_FREQ_ALTERNATING");
    k = valid_call(), k.cfg.attention = -1, expect_error(k, ROPE_ERROR_ATTRIBUTE, "cfg->attention");
    k = valid_call(), k.cfg.attention = 1e6, expect_error(k, ROPE_ERROR_ATTRIBUTE, "cfg->attention");
    k = valid_call(), k.layout = (rope_cache_layout)5, expect_error(k, ROPE_ERROR_ATTRIBUTE, "layout");
    k = valid_call(), k.layout = ROPE_CACHE_FULL, k.coeff = 3, expect_error(k, ROPE_ERROR_ATTRIBUTE, "rotary_coeff");
    k = valid_call(), k.no_pos = 1, expect_error(k, ROPE_ERROR_NULL_ARGUMENT, "positions");
    k = valid_call(), k.pos.dtype = ROPE_U32, expect_error(k, ROPE_ERROR_DTYPE, "positions");
    k = valid_call(), k.pos.rank = 1, expect_error(k, ROPE_ERROR_RANK, "positions");
    k = valid_call(), k.pos.dims[1] = 2, k.pos.dims[0] = 18, expect_error(k, ROPE_ERROR_SHAPE, "positions dim 1");
    k = valid_call(), k.pos.row_stride = 4, expect_error(k, ROPE_ERROR_STRIDE, "positions");
    k = valid_call(), k.pos.data = NULL, expect_error(k, ROPE_ERROR_NULL_ARGUMENT, "positions");
    k = valid_call(), k.cos.dims[1] = 64, expect_error(k, ROPE_ERROR_SHAPE, "cos dim 1");
    k = valid_call(), k.cos.dims[0] = 11, expect_error(k, ROPE_ERROR_SHAPE, "cos dim 0");
    k = valid_call(), k.sin.dtype = ROPE_F16, expect_error(k, ROPE_ERROR_DTYPE, "sin");
    k = valid_call(), k.no_sin = 1, expect_error(k, ROPE_ERROR_NULL_ARGUMENT, "sin");
    k = valid_call(), k.layout = ROPE_CACHE_VLLM, k.cos.dims[1] = 64, expect_error(k, ROPE_ERROR_ATTRIBUTE, "sin: expected NULL");
    k = valid_call(), k.sin.data = g_cos + 16, expect_error(k, ROPE_ERROR_ALIASING, "sin");
    /* cos over the positions: both inside one buffer of cos' size, so that the only overlap is that one
     * whatever order the compiler lays the static arrays out in */
    static float g_shared[12 * 32];
    memcpy(g_shared, g_pos, sizeof g_pos);
    k = valid_call(), k.pos.data = g_shared, k.cos.data = g_shared;
    expect_error(k, ROPE_ERROR_ALIASING, "positions");

    /* coordinates: every one read before anything is written */
    k = valid_call(), g_pos[35] = -((int64_t)1 << 53) - 1;
    expect_error(k, ROPE_ERROR_INDEX, "positions[11, 2]: expected |value| <= 2^53");
    static double fpos[36];
    for (int i = 0; i < 36; i++) fpos[i] = 0.5 * i;
    k = valid_call(), k.pos = t2(fpos, ROPE_F64, 12, 3), fpos[20] = NAN;
    expect_error(k, ROPE_ERROR_INDEX, "positions[6, 2]: expected a finite coordinate, found nan");
    fpos[20] = INFINITY, expect_error(k, ROPE_ERROR_INDEX, "found inf");
    fpos[20] = -0x1p47, expect_error(k, ROPE_ERROR_INDEX, "positions[6, 2]: the angle");
    fpos[20] = 0x1p45, fpos[33] = 0x1p46;
    expect_error(k, ROPE_ERROR_INDEX, "positions[11, 0]");
    static float f32pos[36];
    k = valid_call(), k.pos = t2(f32pos, ROPE_F32, 12, 3), f32pos[4] = -NAN;
    expect_error(k, ROPE_ERROR_INDEX, "positions[1, 1]");

    /* T = 0: valid, nothing written, data may be NULL; a bad config is still reported */
    k = valid_call(), k.pos.dims[0] = 0, k.cos.dims[0] = 0, k.sin.dims[0] = 0;
    k.pos.data = k.cos.data = k.sin.data = NULL;
    CHECK(rope_cache_fill_axes(&k.cfg, &k.pos, k.layout, 0, &k.cos, &k.sin) == ROPE_OK, "%s", rope_last_error());
    k.cfg.axes_dims[0] = 3, expect_error(k, ROPE_ERROR_ATTRIBUTE, "axes_dims[0]");
}

int main(void) {
    tu_seed(17);
    random_tables();
    position_dtypes_agree();
    one_axis_is_cache_fill();
    families();
    errors();
    return tu_finish();
}
