/* SPDX-License-Identifier: MIT */
/*
 * The operators on the fly from multi-axis positions (rope_*_fly_axes) against the table operators
 * on the tables rope_cache_fill_axes fills from the same configuration and positions: bitwise equal
 * outputs, forward and backward, in place and out of place, on every instruction set with 1 and 2
 * threads, for random configurations (1 .. 8 axes, per-axis and alternating frequencies, bases,
 * attention), every position dtype (integer grids as Flux / Wan / Qwen2-VL lay their tokens out,
 * random and negative integers, fractional coordinates, large ones), every data dtype and cos dtype,
 * and every pairing of each operator. The results are also held against float64 references: the
 * tables' values within 1 ulp of cos / sin of the exact angle (long double, here), and the rotation
 * (tests/support's references, fed with those values). Then the rejections of each operator, one
 * each, with nothing written.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "contexts.h"
#include "harness.h"
#include "reference.h"
#include "reference_vllm.h"
#include "rope.h"

static tu_contexts ctxs;
static long n_cases, n_compared;

/* ---- configurations and coordinates ------------------------------------------------------------ */

static int64_t rot_of(const rope_axes_config *c) {
    int64_t r = 0;
    for (int a = 0; a < c->n_axes; a++) r += c->axes_dims[a];
    return r;
}

/* A random configuration whose rotated width is at most max_rot (>= 2). */
static rope_axes_config draw_config(int64_t max_rot) {
    rope_axes_config c = ROPE_AXES_CONFIG_INIT;
    int max_axes = (int)(max_rot / 2 < ROPE_MAX_AXES ? max_rot / 2 : ROPE_MAX_AXES);
    c.n_axes = (int32_t)(tu_int(0, 2) ? tu_int(1, max_axes < 3 ? max_axes : 3) : tu_int(1, max_axes));
    c.freq = tu_int(0, 3) == 0 ? ROPE_AXES_FREQ_ALTERNATING : ROPE_AXES_FREQ_PER_AXIS;
    int64_t left = max_rot, same = 2 * tu_int(1, max_rot / 2 / c.n_axes);
    for (int a = 0; a < c.n_axes; a++) {
        int64_t most = (left - 2 * (c.n_axes - 1 - a)) / 2;
        c.axes_dims[a] = c.freq == ROPE_AXES_FREQ_ALTERNATING ? same : 2 * tu_int(1, most < 24 ? most : 24);
        left -= c.axes_dims[a];
    }
    double shared = tu_int(0, 1) ? 10000.0 : 256.0;
    for (int a = 0; a < c.n_axes; a++)
        c.theta[a] = tu_int(0, 2) == 0 ? exp(tu_uniform(log(2.0), log(1e6))) : tu_int(0, 1) ? shared : 0.0;
    c.attention = tu_int(0, 3) == 0 ? tu_uniform(0.5, 2.0) : 0.0;
    return c;
}

enum { POS_GRID, POS_INTEGERS, POS_FRACTIONS, POS_LARGE, POS_MODES };
static const char *const pos_mode_names[POS_MODES] = {"grid", "integers", "fractions", "large"};

/* rows x A coordinates of dtype dt: a grid walked row-major from a random origin (each axis's extent
 * a few tokens: the last axis moves fastest, as image patches do), random integers in [-300, 300],
 * any fractional values in [-500, 500] (integers among them), or integers near 2^20; zeros of both
 * signs (the float dtypes keep -0.0). */
static void draw_positions(rope_dtype dt, int64_t rows, int A, int mode, void *out) {
    int64_t ext[ROPE_MAX_AXES], org[ROPE_MAX_AXES];
    for (int a = 0; a < A; a++) ext[a] = tu_int(1, 9), org[a] = tu_int(-4, 20);
    for (int64_t r = 0; r < rows; r++) {
        int64_t rest = r;
        for (int a = A - 1; a >= 0; a--) {
            double v;
            switch (mode) {
            case POS_GRID: v = (double)(org[a] + rest % ext[a]), rest /= ext[a]; break;
            case POS_INTEGERS: v = (double)tu_int(-300, 300); break;
            case POS_FRACTIONS: v = tu_int(0, 3) ? tu_uniform(-500, 500) : (double)tu_int(-500, 500); break;
            default: v = (double)tu_int((1 << 20) - 400, (1 << 20) + 400); break;
            }
            if (v == 0.0 && tu_int(0, 1)) v = -0.0; /* a zero of either sign: the angle's sign follows it */
            if (dt == ROPE_I64 || dt == ROPE_I32) v = floor(v);
            size_t i = (size_t)(r * A + a);
            switch (dt) {
            case ROPE_I64: ((int64_t *)out)[i] = (int64_t)v; break;
            case ROPE_I32: ((int32_t *)out)[i] = (int32_t)v; break;
            case ROPE_F32: ((float *)out)[i] = (float)v; break;
            default: ((double *)out)[i] = v; break;
            }
        }
    }
}

static long double coord_at(rope_dtype dt, const void *p, size_t i) {
    switch (dt) {
    case ROPE_I64: return (long double)((const int64_t *)p)[i];
    case ROPE_I32: return (long double)((const int32_t *)p)[i];
    case ROPE_F32: return (long double)((const float *)p)[i];
    default: return (long double)((const double *)p)[i];
    }
}

/* The frequency of pair j of axis a as rope.h defines it: 1 / theta^(2k/d) evaluated in float64
 * (k = j, d = axes_dims[a]; alternating: k = j*A + a, d = rot). The tables' angle is the exact product
 * of the coordinate and this float64 value, formed here in long double. */
static long double ref_inv(const rope_axes_config *c, int a, int64_t j) {
    double theta = c->theta[a] == 0 ? 10000.0 : c->theta[a];
    int64_t k = j, d = c->axes_dims[a];
    if (c->freq == ROPE_AXES_FREQ_ALTERNATING) k = j * c->n_axes + a, d = rot_of(c);
    return (long double)(1.0 / pow(theta, (double)(2 * k) / (double)d));
}

/* The half-width tables [rows, rot/2] of the case as doubles, from rope_cache_fill_axes (dtype dt),
 * after checking every value within 1 ulp of dt of attention * cos / sin of the exact angle. */
static void half_tables(const rope_axes_config *c, rope_dtype pdt, const void *pos, int64_t rows, rope_dtype dt,
                        double *cd, double *sd, const char *name) {
    const int64_t half = rot_of(c) / 2;
    const int A = c->n_axes;
    size_t es = rope_dtype_size(dt);
    void *cb = tu_xmalloc((size_t)(rows * half) * es), *sb = tu_xmalloc((size_t)(rows * half) * es);
    rope_tensor P = {(void *)pos, pdt, 2, {rows, A}, 0};
    rope_tensor C = {cb, dt, 2, {rows, half}, 0}, S = C;
    S.data = sb;
    rope_status st = rope_cache_fill_axes(c, &P, ROPE_CACHE_HALF, 0, &C, &S);
    CHECK(st == ROPE_OK, "%s: half table: %s", name, rope_last_error());
    long double att = c->attention == 0 ? 1.0L : (long double)c->attention;
    double worst = 0;
    for (int64_t r = 0; r < rows; r++) {
        int64_t p = 0;
        for (int a = 0; a < A; a++)
            for (int64_t j = 0; j < c->axes_dims[a] / 2; j++, p++) {
                long double ang = coord_at(pdt, pos, (size_t)(r * A + a)) * ref_inv(c, a, j);
                double wc = (double)(att * cosl(ang)), ws = (double)(att * sinl(ang));
                size_t i = (size_t)(r * half + p);
                cd[i] = ref_load(dt, cb, i), sd[i] = ref_load(dt, sb, i);
                double e = fmax(fabs(cd[i] - wc) / ref_ulp(dt, wc), fabs(sd[i] - ws) / ref_ulp(dt, ws));
                if (e > worst) worst = e;
            }
    }
    CHECK(worst <= 1.0, "%s: a table value %.3g ulp from the exact cos/sin", name, worst);
    free(cb), free(sb);
}

/* Compares `bytes` of got with want; records the first differing element. */
static void same_bits(const void *want, const void *got, size_t n, rope_dtype dt, const char *name, const char *ctx) {
    size_t es = rope_dtype_size(dt), diff = 0, first = 0;
    for (size_t i = 0; i < n; i++)
        if (memcmp((const char *)want + i * es, (const char *)got + i * es, es))
            diff++ == 0 ? (void)(first = i) : (void)0;
    CHECK(diff == 0, "%s on %s: %zu of %zu elements differ from the table operator (first %zu: %.9g vs %.9g)", name,
          ctx, diff, n, first, diff ? ref_load(dt, got, first) : 0.0, diff ? ref_load(dt, want, first) : 0.0);
    n_compared++;
}

static const rope_dtype pos_types[] = {ROPE_I64, ROPE_I32, ROPE_F32, ROPE_F64};
static const rope_dtype data_types[] = {ROPE_F32, ROPE_F16, ROPE_BF16};

/* ---- ONNX ---------------------------------------------------------------------------------------- */

static void onnx_case(int turn) {
    char name[300];
    int64_t H = 2 * tu_int(2, 40);
    rope_axes_config cfg = draw_config(H);
    const int64_t rot = rot_of(&cfg), half = rot / 2;
    const int A = cfg.n_axes;
    int rank = turn % 2 ? 3 : 4, interleaved = (int)((turn / 2) % 4), backward = turn % 3 == 0;
    int in_place = turn % 5 == 0, mode = (turn / 7) % POS_MODES;
    if (interleaved == 3 && (rot == H || H % 2)) interleaved = 0; /* split halves: a partial rotation */
    int64_t B = tu_int(1, 3), S = tu_int(1, 90), N = tu_int(1, 3), T = B * S;
    rope_dtype dt = data_types[turn % 3], pdt = pos_types[(turn / 3) % 4];
    int pshape = (int)tu_int(0, 2); /* 0: [B*S, A]; 1: [B, S, A]; 2: [S, A] shared by the batch rows */
    if (pshape == 2 && B == 1) pshape = 0;
    int64_t rows = pshape == 2 ? S : T;
    snprintf(name, sizeof name, "onnx %s %d-D B%lld S%lld N%lld H%lld rot%lld A%d %s il%d pos %s %s%s%s%s",
             rope_dtype_name(dt), rank, (long long)B, (long long)S, (long long)N, (long long)H, (long long)rot, A,
             cfg.freq ? "alternating" : "per-axis", interleaved, rope_dtype_name(pdt), pos_mode_names[mode],
             pshape == 2   ? " shared"
             : pshape == 1 ? " [B,S,A]"
                           : "",
             backward ? " backward" : "", in_place ? " in place" : "");
    n_cases++;
    void *pos = tu_xmalloc((size_t)(rows * A) * 8), *full = tu_xmalloc((size_t)(T * A) * 8);
    draw_positions(pdt, rows, A, mode, pos);
    size_t pes = rope_dtype_size(pdt);
    for (int64_t t = 0; t < T; t++) /* the table's positions: one row per token */
        memcpy((char *)full + (size_t)(t * A) * pes, (char *)pos + (size_t)((t % rows) * A) * pes, (size_t)A * pes);
    size_t es = rope_dtype_size(dt), n = (size_t)(T * N * H), bytes = n * es;
    void *x = tu_xmalloc(bytes);
    double *xv = tu_xmalloc(n * sizeof(double));
    ref_fill(dt, x, xv, n);
    double *cd = tu_xmalloc((size_t)(T * half) * sizeof(double)), *sd = tu_xmalloc((size_t)(T * half) * sizeof(double));
    half_tables(&cfg, pdt, full, T, dt, cd, sd, name);
    void *cb = tu_xmalloc((size_t)(T * half) * es), *sb = tu_xmalloc((size_t)(T * half) * es);
    for (size_t i = 0; i < (size_t)(T * half); i++) ref_store(dt, cb, i, cd[i]), ref_store(dt, sb, i, sd[i]);

    rope_onnx_attrs attrs = {interleaved, rot == H ? 0 : rot, rank == 3 ? N : 0};
    rope_tensor X = {x, dt, rank, {B, N, S, H}, 0};
    if (rank == 3) X.dims[1] = S, X.dims[2] = N * H;
    rope_tensor Cs = {cb, dt, 3, {B, S, half}, 0}, Sn = Cs;
    Sn.data = sb;
    rope_fly_axes fly = ROPE_FLY_AXES_INIT;
    fly.axes = &cfg;
    rope_tensor P = {pos, pdt, 2, {rows, A}, 0};
    if (pshape == 1) P.rank = 3, P.dims[0] = B, P.dims[1] = S, P.dims[2] = A;
    fly.positions = P;
    fly.cs_dtype = tu_int(0, 1) ? dt : (rope_dtype)0;

    void *want = tu_xmalloc(bytes), *got = tu_xmalloc(bytes);
    rope_tensor W = X;
    W.data = want;
    rope_status st = backward ? rope_onnx_rotary_embedding_backward(ctxs.ctx[0], &attrs, &X, &Cs, &Sn, NULL, &W)
                              : rope_onnx_rotary_embedding(ctxs.ctx[0], &attrs, &X, &Cs, &Sn, NULL, &W);
    CHECK(st == ROPE_OK, "%s: table: %s", name, rope_last_error());
    /* The table operator against the float64 rotation of the checked table values. */
    ref_onnx_case rc = {rank, B, S, N, H, rot == H ? 0 : rot, interleaved, 0, backward};
    double *rw = tu_xmalloc(n * sizeof(double)), *rp = tu_xmalloc(n * sizeof(double));
    if (ref_onnx_rotary(&rc, xv, cd, sd, NULL, rw, rp) == 0) {
        ref_report rep;
        char buf[200];
        size_t bad = ref_compare(dt, want, n, 1, 1, rw, rp, &rep);
        CHECK(bad == 0, "%s: against the float64 reference: %s", name, ref_report_str(&rep, buf, sizeof buf));
    } else {
        CHECK(0, "%s: the reference refuses the case", name);
    }
    for (int k = 0; k < ctxs.n; k++) {
        rope_tensor G = X, in = X;
        G.data = got;
        if (in_place) memcpy(got, x, bytes), in.data = got;
        else memset(got, 0x5a, bytes);
        st = backward ? rope_onnx_rotary_embedding_fly_axes_backward(ctxs.ctx[k], &attrs, &in, &fly, &G)
                      : rope_onnx_rotary_embedding_fly_axes(ctxs.ctx[k], &attrs, &in, &fly, &G);
        CHECK(st == ROPE_OK, "%s on %s: %s", name, ctxs.name[k], rope_last_error());
        if (st == ROPE_OK) same_bits(want, got, n, dt, name, ctxs.name[k]);
    }
    free(pos), free(full), free(x), free(xv), free(cd), free(sd), free(cb), free(sb), free(want), free(got);
    free(rw), free(rp);
}

/* ---- ATB ----------------------------------------------------------------------------------------- */

static void atb_case(int turn) {
    char name[300];
    rope_axes_config cfg = draw_config(2 * tu_int(1, 48));
    const int64_t D = rot_of(&cfg), half = D / 2;
    const int A = cfg.n_axes;
    int32_t coeffs[3] = {2, 4, (int32_t)D};
    int32_t coeff = coeffs[turn % 3];
    if (D % coeff) coeff = 2;
    int backward = turn % 4 == 1, in_place = turn % 5 == 2, mode = (turn / 3) % POS_MODES;
    int64_t T = tu_int(1, 150), hk = D * tu_int(1, 3), hq = hk * tu_int(1, 3);
    rope_dtype dt = data_types[turn % 3], pdt = pos_types[(turn / 4) % 4];
    rope_dtype ct = dt == ROPE_F16 && tu_int(0, 1) ? ROPE_F32 : dt; /* ATB's f16 data with f32 cos */
    snprintf(name, sizeof name, "atb %s cos %s T%lld hq%lld hk%lld D%lld coeff %d A%d %s pos %s %s%s%s",
             rope_dtype_name(dt), rope_dtype_name(ct), (long long)T, (long long)hq, (long long)hk, (long long)D,
             (int)coeff, A, cfg.freq ? "alternating" : "per-axis", rope_dtype_name(pdt), pos_mode_names[mode],
             backward ? " backward" : "", in_place ? " in place" : "");
    n_cases++;
    void *pos = tu_xmalloc((size_t)(T * A) * 8);
    draw_positions(pdt, T, A, mode, pos);
    /* The tables: full width for the coefficient, and the half-width values for the reference. */
    size_t ces = rope_dtype_size(ct);
    void *cb = tu_xmalloc((size_t)(T * D) * ces), *sb = tu_xmalloc((size_t)(T * D) * ces);
    rope_tensor P = {pos, pdt, 2, {T, A}, 0};
    rope_tensor C = {cb, ct, 2, {T, D}, 0}, Sn = C;
    Sn.data = sb;
    rope_status st = rope_cache_fill_axes(&cfg, &P, ROPE_CACHE_FULL, coeff, &C, &Sn);
    CHECK(st == ROPE_OK, "%s: full table: %s", name, rope_last_error());
    double *cd = tu_xmalloc((size_t)(T * half) * sizeof(double)), *sd = tu_xmalloc((size_t)(T * half) * sizeof(double));
    half_tables(&cfg, pdt, pos, T, ct, cd, sd, name);
    double *cfull = tu_xmalloc((size_t)(T * D) * sizeof(double)), *sfull = tu_xmalloc((size_t)(T * D) * sizeof(double));
    for (size_t i = 0; i < (size_t)(T * D); i++) cfull[i] = ref_load(ct, cb, i), sfull[i] = ref_load(ct, sb, i);
    int64_t ps = D / coeff; /* every pair's two elements hold the half table's value (rope.h's FULL) */
    int placed = 1;
    for (int64_t t = 0; t < T; t++)
        for (int64_t p = 0; p < half; p++) {
            size_t e = (size_t)(t * D + (p / ps) * 2 * ps + p % ps), h = (size_t)(t * half + p);
            placed &= cfull[e] == cd[h] && cfull[e + (size_t)ps] == cd[h] && sfull[e] == sd[h] &&
                      sfull[e + (size_t)ps] == sd[h];
        }
    CHECK(placed, "%s: the full table's pairs are not the half table's values", name);

    size_t es = rope_dtype_size(dt), nq = (size_t)(T * hq), nk = (size_t)(T * hk);
    void *q = tu_xmalloc(nq * es), *k = tu_xmalloc(nk * es);
    double *qv = tu_xmalloc(nq * sizeof(double)), *kv = tu_xmalloc(nk * sizeof(double));
    ref_fill(dt, q, qv, nq), ref_fill(dt, k, kv, nk);
    int32_t seq[1] = {(int32_t)T};
    rope_tensor Q = {q, dt, 2, {T, hq}, 0}, K = {k, dt, 2, {T, hk}, 0}, L = {seq, ROPE_I32, 1, {1}, 0};
    rope_atb_param param = ROPE_ATB_PARAM_INIT;
    param.rotary_coeff = coeff;
    param.cos_format = 0;
    void *wq = tu_xmalloc(nq * es), *wk = tu_xmalloc(nk * es), *gq = tu_xmalloc(nq * es), *gk = tu_xmalloc(nk * es);
    rope_tensor WQ = Q, WK = K;
    WQ.data = wq, WK.data = wk;
    st = backward ? rope_atb_rope_backward(ctxs.ctx[0], &param, &Q, &K, &C, &Sn, &L, &WQ, &WK)
                  : rope_atb_rope(ctxs.ctx[0], &param, &Q, &K, &C, &Sn, &L, &WQ, &WK);
    CHECK(st == ROPE_OK, "%s: table: %s", name, rope_last_error());
    if (!backward) { /* the table operator against the float64 rotation (ATB's R1-R3) */
        ref_atb_case rc = {T, hq, hk, D, T, coeff, 0, NULL, 1, 0};
        double *rq = tu_xmalloc(nq * sizeof(double)), *pq = tu_xmalloc(nq * sizeof(double));
        double *rk = tu_xmalloc(nk * sizeof(double)), *pk = tu_xmalloc(nk * sizeof(double));
        CHECK(ref_atb_rope(&rc, qv, kv, cfull, sfull, rq, pq, rk, pk) == 0, "%s: the reference refuses the case", name);
        ref_report rep;
        char buf[200];
        CHECK(ref_compare(dt, wq, nq, 1, 1, rq, pq, &rep) == 0, "%s: q against the float64 reference: %s", name,
              ref_report_str(&rep, buf, sizeof buf));
        CHECK(ref_compare(dt, wk, nk, 1, 1, rk, pk, &rep) == 0, "%s: k against the float64 reference: %s", name,
              ref_report_str(&rep, buf, sizeof buf));
        free(rq), free(pq), free(rk), free(pk);
    }
    rope_fly_axes fly = ROPE_FLY_AXES_INIT;
    fly.axes = &cfg, fly.positions = P, fly.cs_dtype = ct == dt && tu_int(0, 1) ? (rope_dtype)0 : ct;
    for (int c = 0; c < ctxs.n; c++) {
        rope_tensor GQ = Q, GK = K, IQ = Q, IK = K;
        GQ.data = gq, GK.data = gk;
        if (in_place) memcpy(gq, q, nq * es), memcpy(gk, k, nk * es), IQ.data = gq, IK.data = gk;
        else memset(gq, 0x5a, nq * es), memset(gk, 0x5a, nk * es);
        st = backward ? rope_atb_rope_fly_axes_backward(ctxs.ctx[c], &param, &IQ, &IK, &fly, &L, &GQ, &GK)
                      : rope_atb_rope_fly_axes(ctxs.ctx[c], &param, &IQ, &IK, &fly, &L, &GQ, &GK);
        CHECK(st == ROPE_OK, "%s on %s: %s", name, ctxs.name[c], rope_last_error());
        if (st != ROPE_OK) continue;
        same_bits(wq, gq, nq, dt, name, ctxs.name[c]);
        same_bits(wk, gk, nk, dt, name, ctxs.name[c]);
    }
    free(pos), free(cb), free(sb), free(cd), free(sd), free(cfull), free(sfull), free(q), free(k), free(qv), free(kv);
    free(wq), free(wk), free(gq), free(gk);
}

/* ---- vLLM ---------------------------------------------------------------------------------------- */

static void vllm_case(int turn) {
    char name[300];
    int64_t hs = 2 * tu_int(2, 40);
    rope_axes_config cfg = draw_config(hs);
    const int64_t rot = rot_of(&cfg);
    const int A = cfg.n_axes;
    rope_vllm_attrs attrs = ROPE_VLLM_ATTRS_INIT;
    attrs.head_size = hs;
    attrs.is_neox = turn % 2;
    attrs.rope_dim_offset = tu_int(0, 2) == 0 ? tu_int(0, hs - rot) : 0;
    attrs.inverse = tu_int(0, 3) == 0;
    if (!attrs.is_neox && tu_int(0, 2) == 0) attrs.pairs_to_halves = 1;
    if (attrs.is_neox && !attrs.rope_dim_offset && rot < hs && tu_int(0, 2) == 0) attrs.partial = ROPE_PARTIAL_SPLIT;
    int backward = turn % 3 == 2, in_place = turn % 2 == 0, mode = (turn / 2) % POS_MODES, has_k = turn % 5 != 4;
    int64_t T = tu_int(1, 150), hq = tu_int(1, 4), hk = tu_int(1, 2);
    rope_dtype dt = data_types[turn % 3], pdt = pos_types[(turn / 3) % 4];
    rope_dtype ct = tu_int(0, 1) ? ROPE_F32 : dt;
    snprintf(name, sizeof name,
             "vllm %s cache %s T%lld hq%lld hk%lld hs%lld rot%lld A%d %s neox %d offset %lld inverse %d split %d "
             "p2h %d pos %s %s%s%s%s",
             rope_dtype_name(dt), rope_dtype_name(ct), (long long)T, (long long)hq, has_k ? (long long)hk : -1LL,
             (long long)hs, (long long)rot, A, cfg.freq ? "alternating" : "per-axis", (int)attrs.is_neox,
             (long long)attrs.rope_dim_offset, (int)attrs.inverse, (int)attrs.partial, (int)attrs.pairs_to_halves,
             rope_dtype_name(pdt), pos_mode_names[mode], backward ? " backward" : "", in_place ? " in place" : "",
             has_k ? "" : " no key");
    n_cases++;
    void *pos = tu_xmalloc((size_t)(T * A) * 8);
    draw_positions(pdt, T, A, mode, pos);
    size_t ces = rope_dtype_size(ct);
    void *cache = tu_xmalloc((size_t)(T * rot) * ces);
    rope_tensor P = {pos, pdt, 2, {T, A}, 0};
    rope_tensor CS = {cache, ct, 2, {T, rot}, 0};
    rope_status st = rope_cache_fill_axes(&cfg, &P, ROPE_CACHE_VLLM, 0, &CS, NULL);
    CHECK(st == ROPE_OK, "%s: cache: %s", name, rope_last_error());
    double *cd = tu_xmalloc((size_t)(T * rot / 2) * sizeof(double)),
           *sd = tu_xmalloc((size_t)(T * rot / 2) * sizeof(double));
    half_tables(&cfg, pdt, pos, T, ct, cd, sd, name);
    double *cached = tu_xmalloc((size_t)(T * rot) * sizeof(double));
    int placed = 1;
    for (size_t i = 0; i < (size_t)(T * rot); i++) cached[i] = ref_load(ct, cache, i);
    for (int64_t t = 0; t < T; t++)
        for (int64_t j = 0; j < rot / 2; j++)
            placed &=
                cached[t * rot + j] == cd[t * rot / 2 + j] && cached[t * rot + rot / 2 + j] == sd[t * rot / 2 + j];
    CHECK(placed, "%s: the cos_sin_cache rows are not the half tables' values", name);
    int64_t *rows = tu_xmalloc((size_t)T * sizeof(int64_t));
    for (int64_t t = 0; t < T; t++) rows[t] = t;
    rope_tensor R = {rows, ROPE_I64, 1, {T}, 0};

    size_t es = rope_dtype_size(dt), nq = (size_t)(T * hq * hs), nk = (size_t)(T * hk * hs);
    void *q = tu_xmalloc(nq * es), *k = tu_xmalloc(nk * es);
    double *qv = tu_xmalloc(nq * sizeof(double)), *kv = tu_xmalloc(nk * sizeof(double));
    ref_fill(dt, q, qv, nq), ref_fill(dt, k, kv, nk);
    rope_tensor Q = {q, dt, 2, {T, hq * hs}, 0}, K = {k, dt, 2, {T, hk * hs}, 0};
    void *wq = tu_xmalloc(nq * es), *wk = tu_xmalloc(nk * es), *gq = tu_xmalloc(nq * es), *gk = tu_xmalloc(nk * es);
    rope_tensor WQ = Q, WK = K;
    WQ.data = wq, WK.data = wk;
    const rope_tensor *kin = has_k ? &K : NULL, *kw = has_k ? &WK : NULL;
    st = backward ? rope_vllm_rotary_embedding_backward(ctxs.ctx[0], &attrs, &R, &Q, kin, &CS, &WQ, kw)
                  : rope_vllm_rotary_embedding(ctxs.ctx[0], &attrs, &R, &Q, kin, &CS, &WQ, kw);
    CHECK(st == ROPE_OK, "%s: table: %s", name, rope_last_error());
    /* The table operator against the float64 rotation (vLLM's manifest) of the checked cache values. */
    ref_vllm_case rc;
    memset(&rc, 0, sizeof rc);
    rc.tokens = T, rc.heads = hq, rc.head_size = hs, rc.rot = rot, rc.cache_rows = T, rc.is_neox = attrs.is_neox;
    rc.offset = attrs.rope_dim_offset, rc.inverse = attrs.inverse, rc.split = attrs.partial == ROPE_PARTIAL_SPLIT;
    rc.pairs_to_halves = attrs.pairs_to_halves, rc.backward = backward;
    double *rw = tu_xmalloc(nq * sizeof(double)), *rp = tu_xmalloc(nq * sizeof(double));
    CHECK(ref_vllm_rotate(&rc, qv, cached, rows, rw, rp) == 0, "%s: the reference refuses the case", name);
    ref_report rep;
    char buf[200];
    CHECK(ref_compare(dt, wq, nq, 1, 1, rw, rp, &rep) == 0, "%s: query against the float64 reference: %s", name,
          ref_report_str(&rep, buf, sizeof buf));

    rope_fly_axes fly = ROPE_FLY_AXES_INIT;
    fly.axes = &cfg, fly.positions = P, fly.cs_dtype = ct == dt && tu_int(0, 1) ? (rope_dtype)0 : ct;
    for (int c = 0; c < ctxs.n; c++) {
        rope_tensor GQ = Q, GK = K, IQ = Q, IK = K;
        GQ.data = gq, GK.data = gk;
        if (in_place) memcpy(gq, q, nq * es), memcpy(gk, k, nk * es), IQ.data = gq, IK.data = gk;
        else memset(gq, 0x5a, nq * es), memset(gk, 0x5a, nk * es);
        const rope_tensor *ik = has_k ? &IK : NULL, *gkk = has_k ? &GK : NULL;
        st = backward ? rope_vllm_rotary_embedding_fly_axes_backward(ctxs.ctx[c], &attrs, &IQ, ik, &fly, &GQ, gkk)
                      : rope_vllm_rotary_embedding_fly_axes(ctxs.ctx[c], &attrs, &IQ, ik, &fly, &GQ, gkk);
        CHECK(st == ROPE_OK, "%s on %s: %s", name, ctxs.name[c], rope_last_error());
        if (st != ROPE_OK) continue;
        same_bits(wq, gq, nq, dt, name, ctxs.name[c]);
        if (has_k) same_bits(wk, gk, nk, dt, name, ctxs.name[c]);
    }
    free(pos), free(cache), free(cd), free(sd), free(cached), free(rows), free(q), free(k), free(qv), free(kv);
    free(wq), free(wk), free(gq), free(gk), free(rw), free(rp);
}

/* Flux's image tokens (axes 16, 56, 56, theta 1e4, adjacent pairs) at prefill size: long runs along
 * the last axis, f32 coordinates as diffusers passes them, through every operator form. */
static void flux_grid(void) {
    rope_axes_config cfg = ROPE_AXES_CONFIG_INIT;
    cfg.n_axes = 3, cfg.axes_dims[0] = 16, cfg.axes_dims[1] = 56, cfg.axes_dims[2] = 56;
    cfg.theta[0] = cfg.theta[1] = cfg.theta[2] = 10000.0;
    const int64_t Hh = 24, Ww = 40, T = Hh * Ww, hd = 128, N = 2;
    float *pos = tu_xmalloc((size_t)(T * 3) * sizeof(float));
    for (int64_t t = 0; t < T; t++)
        pos[3 * t] = 0.0f, pos[3 * t + 1] = (float)(t / Ww), pos[3 * t + 2] = (float)(t % Ww);
    rope_tensor P = {pos, ROPE_F32, 2, {T, 3}, 0};
    for (int di = 0; di < 3; di++) {
        rope_dtype dt = data_types[di];
        size_t es = rope_dtype_size(dt), n = (size_t)(T * N * hd);
        void *cb = tu_xmalloc((size_t)(T * 64) * es), *sb = tu_xmalloc((size_t)(T * 64) * es);
        rope_tensor C = {cb, dt, 2, {T, 64}, 0}, S = C;
        S.data = sb;
        CHECK(rope_cache_fill_axes(&cfg, &P, ROPE_CACHE_HALF, 0, &C, &S) == ROPE_OK, "flux table: %s",
              rope_last_error());
        C.rank = S.rank = 3, C.dims[0] = S.dims[0] = 1, C.dims[1] = S.dims[1] = T, C.dims[2] = S.dims[2] = 64;
        void *x = tu_xmalloc(n * es), *want = tu_xmalloc(n * es), *got = tu_xmalloc(n * es);
        ref_fill(dt, x, NULL, n);
        rope_onnx_attrs attrs = {1, 0, 0};
        rope_tensor X = {x, dt, 4, {1, N, T, hd}, 0}, W = X, G = X;
        W.data = want, G.data = got;
        CHECK(rope_onnx_rotary_embedding(NULL, &attrs, &X, &C, &S, NULL, &W) == ROPE_OK, "%s", rope_last_error());
        rope_fly_axes fly = ROPE_FLY_AXES_INIT;
        fly.axes = &cfg, fly.positions = P;
        for (int k = 0; k < ctxs.n; k++) {
            memset(got, 0, n * es);
            rope_status st = rope_onnx_rotary_embedding_fly_axes(ctxs.ctx[k], &attrs, &X, &fly, &G);
            CHECK(st == ROPE_OK, "flux %s: %s", rope_dtype_name(dt), rope_last_error());
            if (st == ROPE_OK) same_bits(want, got, n, dt, "flux grid", ctxs.name[k]);
        }
        free(cb), free(sb), free(x), free(want), free(got);
    }
    free(pos);
}

/* ---- rejections ---------------------------------------------------------------------------------- */

typedef struct reject {
    const char *what, *in_msg;
    rope_status want;
    const char *atb_vllm_msg; /* ATB's and vLLM's message and status where they differ (NULL: the same) */
    rope_status atb_vllm_want;
} reject;

/* Variant i of a valid fly argument (3 axes of widths 2, 2, 4 over rot 8, f32 coordinates of 6
 * tokens) with one fault; returns its expectation, or NULL past the last. `f` points to the
 * argument to pass (NULL for the NULL-fly row). */
static const reject *fly_fault(int i, rope_fly_axes *fly, rope_axes_config *cfg, const rope_fly_axes **f) {
    static float nan_pos[18], inf_pos[18], far_pos[18];
    static int64_t big_pos[18];
    static const reject rows[] = {
        {"NULL fly", "fly is NULL", ROPE_ERROR_NULL_ARGUMENT, NULL, ROPE_OK},
        {"struct_size 0", "fly->struct_size", ROPE_ERROR_ATTRIBUTE, NULL, ROPE_OK},
        {"struct_size too large", "fly->struct_size", ROPE_ERROR_ATTRIBUTE, NULL, ROPE_OK},
        {"NULL axes", "fly->axes is NULL", ROPE_ERROR_NULL_ARGUMENT, NULL, ROPE_OK},
        {"axes struct_size 0", "fly->axes->struct_size", ROPE_ERROR_ATTRIBUTE, NULL, ROPE_OK},
        {"n_axes 0", "fly->axes->n_axes", ROPE_ERROR_ATTRIBUTE, NULL, ROPE_OK},
        {"n_axes past the max", "fly->axes->n_axes", ROPE_ERROR_ATTRIBUTE, NULL, ROPE_OK},
        {"odd axis width", "fly->axes->axes_dims[1]", ROPE_ERROR_ATTRIBUTE, NULL, ROPE_OK},
        {"width past n_axes", "fly->axes->axes_dims[3] / theta[3]", ROPE_ERROR_ATTRIBUTE, NULL, ROPE_OK},
        {"theta 1", "fly->axes->theta[2]", ROPE_ERROR_ATTRIBUTE, NULL, ROPE_OK},
        {"theta NaN", "fly->axes->theta[0]", ROPE_ERROR_ATTRIBUTE, NULL, ROPE_OK},
        {"freq 2", "fly->axes->freq", ROPE_ERROR_ATTRIBUTE, NULL, ROPE_OK},
        {"alternating unequal widths", "fly->axes->axes_dims[2]: expected 2", ROPE_ERROR_ATTRIBUTE, NULL, ROPE_OK},
        {"attention negative", "fly->axes->attention", ROPE_ERROR_ATTRIBUTE, NULL, ROPE_OK},
        {"widths summing to 10", "fly->axes->axes_dims: expected widths summing to 8", ROPE_ERROR_ATTRIBUTE,
         "fly->axes->axes_dims' sum", ROPE_ERROR_SHAPE},
        {"f16 coordinates", "fly->positions dtype", ROPE_ERROR_DTYPE, NULL, ROPE_OK},
        {"rank 1 coordinates", "fly->positions rank", ROPE_ERROR_RANK, NULL, ROPE_OK},
        {"4 coordinates per token", "fly->positions dim", ROPE_ERROR_SHAPE, NULL, ROPE_OK},
        {"5 tokens of coordinates", "fly->positions dim 0: expected 6", ROPE_ERROR_SHAPE,
         "query dim 0: expected 5 (T, the tokens of fly->positions), found 6", ROPE_ERROR_SHAPE},
        {"strided coordinates", "fly->positions", ROPE_ERROR_STRIDE, NULL, ROPE_OK},
        {"NULL coordinates", "fly->positions data is NULL", ROPE_ERROR_NULL_ARGUMENT, NULL, ROPE_OK},
        {"NaN coordinate", "fly->positions[4, 1]: expected a finite coordinate", ROPE_ERROR_INDEX, NULL, ROPE_OK},
        {"infinite coordinate", "fly->positions[2, 0]: expected a finite coordinate", ROPE_ERROR_INDEX, NULL, ROPE_OK},
        {"i64 beyond 2^53", "fly->positions[5, 2]: expected |value| <= 2^53", ROPE_ERROR_INDEX, NULL, ROPE_OK},
        {"angle past 2^46", "fly->positions[3, 0]: the angle", ROPE_ERROR_INDEX, NULL, ROPE_OK},
        {"cs_dtype f16 with f32 data", "fly->cs_dtype", ROPE_ERROR_DTYPE, NULL, ROPE_OK},
    };
    if (i >= (int)(sizeof rows / sizeof rows[0])) return NULL;
    for (int j = 0; j < 18; j++) nan_pos[j] = inf_pos[j] = far_pos[j] = (float)(j % 5), big_pos[j] = j;
    nan_pos[4 * 3 + 1] = NAN, inf_pos[2 * 3] = -INFINITY, far_pos[3 * 3] = 1e30f;
    big_pos[5 * 3 + 2] = ((int64_t)1 << 53) + 1;
    *f = fly;
    switch (i) {
    case 0: *f = NULL; break;
    case 1: fly->struct_size = 0; break;
    case 2: fly->struct_size = sizeof *fly + 8; break;
    case 3: fly->axes = NULL; break;
    case 4: cfg->struct_size = 0; break;
    case 5: cfg->n_axes = 0; break;
    case 6: cfg->n_axes = ROPE_MAX_AXES + 1; break;
    case 7: cfg->axes_dims[1] = 3; break;
    case 8: cfg->axes_dims[3] = 2; break;
    case 9: cfg->theta[2] = 1.0; break;
    case 10: cfg->theta[0] = NAN; break;
    case 11: cfg->freq = (rope_axes_freq)2; break;
    case 12: cfg->freq = ROPE_AXES_FREQ_ALTERNATING; break;
    case 13: cfg->attention = -1.0; break;
    case 14: cfg->axes_dims[2] = 6; break;
    case 15: fly->positions.dtype = ROPE_F16; break;
    case 16: fly->positions.rank = 1; break;
    case 17: fly->positions.dims[1] = 4; break;
    case 18: fly->positions.dims[0] = 5; break;
    case 19: fly->positions.row_stride = 5; break;
    case 20: fly->positions.data = NULL; break;
    case 21: fly->positions.data = nan_pos; break;
    case 22: fly->positions.data = inf_pos; break;
    case 23: fly->positions.data = big_pos, fly->positions.dtype = ROPE_I64; break;
    case 24: fly->positions.data = far_pos; break;
    case 25: fly->cs_dtype = ROPE_F16; break;
    }
    return &rows[i];
}

static void rejections(void) {
    float pos[18];
    for (int j = 0; j < 18; j++) pos[j] = (float)(j % 5);
    /* 6 tokens, rot 8 (axes 2, 2, 4), head size 8: X [1, 6, 16] (ONNX, 2 heads), q / k [6, 16]. */
    float x[96], k[96], y[96], yk[96];
    for (int j = 0; j < 96; j++) x[j] = 0.25f + 0.125f * (float)(j % 7), k[j] = -x[j];
    unsigned char pat[sizeof y];
    memset(pat, 0x5a, sizeof pat);
    int32_t seq[1] = {6};
    for (int op = 0; op < 3; op++)
        for (int i = 0;; i++) {
            rope_axes_config cfg = ROPE_AXES_CONFIG_INIT;
            cfg.n_axes = 3, cfg.axes_dims[0] = 2, cfg.axes_dims[1] = 2, cfg.axes_dims[2] = 4;
            rope_fly_axes fly = ROPE_FLY_AXES_INIT;
            fly.axes = &cfg;
            fly.positions = (rope_tensor){pos, ROPE_F32, 2, {6, 3}, 0};
            const rope_fly_axes *f;
            const reject *r = fly_fault(i, &fly, &cfg, &f);
            if (!r) break;
            for (int bw = 0; bw < 2; bw++) {
                memset(y, 0x5a, sizeof y), memset(yk, 0x5a, sizeof yk);
                rope_status st;
                const char *opn = op == 0 ? "onnx" : op == 1 ? "atb" : "vllm";
                if (op == 0) {
                    rope_onnx_attrs attrs = {0, 0, 2};
                    rope_tensor X = {x, ROPE_F32, 3, {1, 6, 16}, 0}, Y = X;
                    Y.data = y;
                    st = bw ? rope_onnx_rotary_embedding_fly_axes_backward(NULL, &attrs, &X, f, &Y)
                            : rope_onnx_rotary_embedding_fly_axes(NULL, &attrs, &X, f, &Y);
                } else if (op == 1) {
                    rope_atb_param param = ROPE_ATB_PARAM_INIT;
                    rope_tensor Q = {x, ROPE_F32, 2, {6, 16}, 0}, K = {k, ROPE_F32, 2, {6, 16}, 0}, RQ = Q, RK = K;
                    rope_tensor L = {seq, ROPE_I32, 1, {1}, 0};
                    RQ.data = y, RK.data = yk;
                    st = bw ? rope_atb_rope_fly_axes_backward(NULL, &param, &Q, &K, f, &L, &RQ, &RK)
                            : rope_atb_rope_fly_axes(NULL, &param, &Q, &K, f, &L, &RQ, &RK);
                } else {
                    rope_vllm_attrs attrs = ROPE_VLLM_ATTRS_INIT;
                    attrs.head_size = 8;
                    rope_tensor Q = {x, ROPE_F32, 2, {6, 16}, 0}, K = {k, ROPE_F32, 2, {6, 16}, 0}, RQ = Q, RK = K;
                    RQ.data = y, RK.data = yk;
                    st = bw ? rope_vllm_rotary_embedding_fly_axes_backward(NULL, &attrs, &Q, &K, f, &RQ, &RK)
                            : rope_vllm_rotary_embedding_fly_axes(NULL, &attrs, &Q, &K, f, &RQ, &RK);
                }
                const char *msg = r->in_msg;
                rope_status want = r->want;
                if (r->atb_vllm_msg && (op == 2 || (op == 1 && i != 18)))
                    msg = r->atb_vllm_msg, want = r->atb_vllm_want;
                CHECK(st == want, "%s %s: status %s, expected %s (%s)", opn, r->what, rope_status_string(st),
                      rope_status_string(want), rope_last_error());
                CHECK(strstr(rope_last_error(), msg) != NULL, "%s %s: message '%s', expected '%s' in it", opn, r->what,
                      rope_last_error(), msg);
                CHECK(memcmp(y, pat, sizeof y) == 0 && memcmp(yk, pat, sizeof yk) == 0, "%s %s: output written", opn,
                      r->what);
            }
        }
}

/* The faults of each operator's own arguments and of how they meet the coordinates. */
static void operator_rejections(void) {
    float pos[18], x[96], y[96];
    for (int j = 0; j < 18; j++) pos[j] = (float)j;
    for (int j = 0; j < 96; j++) x[j] = 0.5f + 0.25f * (float)(j % 5);
    rope_axes_config cfg = ROPE_AXES_CONFIG_INIT;
    cfg.n_axes = 3, cfg.axes_dims[0] = 2, cfg.axes_dims[1] = 2, cfg.axes_dims[2] = 4;
    rope_fly_axes fly = ROPE_FLY_AXES_INIT;
    fly.axes = &cfg;
    fly.positions = (rope_tensor){pos, ROPE_F32, 2, {6, 3}, 0};
    unsigned char pat[sizeof y];
    memset(pat, 0x5a, sizeof pat);
    rope_status st;
    /* ONNX: rot 8 against a head of 16 with rotary_embedding_dim 0 (r = 16). */
    rope_onnx_attrs a16 = {0, 0, 1};
    rope_tensor X = {x, ROPE_F32, 3, {1, 6, 16}, 0}, Y = X;
    Y.data = y;
    memset(y, 0x5a, sizeof y);
    st = rope_onnx_rotary_embedding_fly_axes(NULL, &a16, &X, &fly, &Y);
    CHECK(st == ROPE_ERROR_ATTRIBUTE && strstr(rope_last_error(), "summing to 16"), "onnx rot: %s", rope_last_error());
    CHECK(memcmp(y, pat, sizeof y) == 0, "onnx rot: Y written");
    /* ONNX: [S, A] shared coordinates with a batch of 2 are accepted; [B, S+1, A] is not. */
    rope_onnx_attrs a8 = {0, 8, 1};
    rope_tensor X2 = {x, ROPE_F32, 3, {2, 3, 16}, 0}, Y2 = X2;
    Y2.data = y;
    rope_fly_axes shared = fly;
    shared.positions.dims[0] = 3;
    CHECK(rope_onnx_rotary_embedding_fly_axes(NULL, &a8, &X2, &shared, &Y2) == ROPE_OK, "shared: %s",
          rope_last_error());
    rope_fly_axes b3 = fly;
    b3.positions = (rope_tensor){pos, ROPE_F32, 3, {2, 2, 3}, 0};
    memset(y, 0x5a, sizeof y);
    st = rope_onnx_rotary_embedding_fly_axes(NULL, &a8, &X2, &b3, &Y2);
    CHECK(st == ROPE_ERROR_SHAPE && strstr(rope_last_error(), "fly->positions dim 1"), "onnx [B,S,A]: %s",
          rope_last_error());
    CHECK(memcmp(y, pat, sizeof y) == 0, "onnx [B,S,A]: Y written");
    /* ONNX: Y over the coordinates. */
    rope_tensor Yp = {pos, ROPE_F32, 3, {1, 1, 8}, 0}, X1 = {x, ROPE_F32, 3, {1, 1, 8}, 0};
    rope_fly_axes one = fly;
    one.positions.dims[0] = 1;
    st = rope_onnx_rotary_embedding_fly_axes(NULL, &a8, &X1, &one, &Yp);
    CHECK(st == ROPE_ERROR_ALIASING && strstr(rope_last_error(), "fly->positions"), "onnx alias: %s",
          rope_last_error());
    /* ATB: cs_dtype bf16 with f32 data. */
    rope_atb_param param = ROPE_ATB_PARAM_INIT;
    int32_t seq[1] = {6};
    rope_tensor Q = {x, ROPE_F32, 2, {6, 16}, 0}, RQ = Q, L = {seq, ROPE_I32, 1, {1}, 0};
    RQ.data = y;
    rope_fly_axes bf = fly;
    bf.cs_dtype = ROPE_BF16;
    memset(y, 0x5a, sizeof y);
    st = rope_atb_rope_fly_axes(NULL, &param, &Q, &Q, &bf, &L, &RQ, &RQ);
    CHECK(st == ROPE_ERROR_DTYPE && strstr(rope_last_error(), "fly->cs_dtype"), "atb cs: %s", rope_last_error());
    CHECK(memcmp(y, pat, sizeof y) == 0, "atb cs: written");
    /* vLLM: MRoPE sections with multi-axis positions, a query of 5 tokens, rot past the head. */
    rope_vllm_attrs va = ROPE_VLLM_ATTRS_INIT;
    va.head_size = 8, va.n_mrope_section = 3, va.mrope_section[0] = 1, va.mrope_section[1] = 1;
    va.mrope_section[2] = 2;
    memset(y, 0x5a, sizeof y);
    st = rope_vllm_rotary_embedding_fly_axes(NULL, &va, &Q, NULL, &fly, &RQ, NULL);
    CHECK(st == ROPE_ERROR_ATTRIBUTE && strstr(rope_last_error(), "n_mrope_section"), "vllm mrope: %s",
          rope_last_error());
    va = (rope_vllm_attrs)ROPE_VLLM_ATTRS_INIT;
    va.head_size = 8;
    rope_tensor Q5 = {x, ROPE_F32, 2, {5, 16}, 0}, R5 = Q5;
    R5.data = y;
    st = rope_vllm_rotary_embedding_fly_axes(NULL, &va, &Q5, NULL, &fly, &R5, NULL);
    CHECK(st == ROPE_ERROR_SHAPE && strstr(rope_last_error(), "query dim 0"), "vllm T: %s", rope_last_error());
    va.head_size = 4;
    st = rope_vllm_rotary_embedding_fly_axes(NULL, &va, &Q, NULL, &fly, &RQ, NULL);
    CHECK(st == ROPE_ERROR_SHAPE && strstr(rope_last_error(), "rot"), "vllm rot: %s", rope_last_error());
    CHECK(memcmp(y, pat, sizeof y) == 0, "vllm: written");
}

int main(void) {
    tu_seed(1717);
    tu_contexts_make(&ctxs);
    tu_split_everything(3);
    for (int turn = 0; turn < 120; turn++) onnx_case(turn);
    for (int turn = 0; turn < 90; turn++) atb_case(turn);
    for (int turn = 0; turn < 90; turn++) vllm_case(turn);
    flux_grid();
    rejections();
    operator_rejections();
    printf("%ld cases, %ld fly results compared bitwise over %d contexts\n", n_cases, n_compared, ctxs.n);
    tu_contexts_free(&ctxs);
    return tu_finish();
}
