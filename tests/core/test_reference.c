/* SPDX-License-Identifier: MIT */
/* The test references themselves (tests/support/reference.c), on cases worked out by hand from the
 * specs, so a wrong reference cannot hide a wrong library; then one cross-check of the ATB
 * reference with the library on random data. */
#include <math.h>
#include <string.h>

#include "harness.h"
#include "reference.h"
#include "rope.h"


static void ulps_and_tolerances(void) {
    CHECK(ref_ulp(ROPE_F32, 1.0) == 0x1p-23 && ref_ulp(ROPE_F32, 1.999) == 0x1p-23, "f32 ulp near 1");
    CHECK(ref_ulp(ROPE_F32, -2.0) == 0x1p-22, "f32 ulp of -2");
    CHECK(ref_ulp(ROPE_F32, 0x1p-126) == 0x1p-149 && ref_ulp(ROPE_F32, 0x1p-140) == 0x1p-149 &&
              ref_ulp(ROPE_F32, 0) == 0x1p-149,
          "f32 subnormal spacing");
    CHECK(ref_ulp(ROPE_F16, 1.0) == 0x1p-10 && ref_ulp(ROPE_F16, 65504) == 32 && ref_ulp(ROPE_F16, 0x1p-14) == 0x1p-24,
          "f16 ulps");
    CHECK(ref_ulp(ROPE_F16, 1e-7) == 0x1p-24 && ref_ulp(ROPE_F16, 0) == 0x1p-24, "f16 subnormal spacing");
    CHECK(ref_ulp(ROPE_BF16, 1.0) == 0x1p-7 && ref_ulp(ROPE_BF16, 0x1p-130) == 0x1p-133, "bf16 ulps");
    CHECK(ref_tolerance(ROPE_F16, 1.5, 0) >= 0x1p-10 && ref_tolerance(ROPE_F16, 1.5, 0) < 0x1.01p-10, "f16 tolerance");
    CHECK(ref_tolerance(ROPE_F32, 1.5, 0) >= 0x1p-24 && ref_tolerance(ROPE_F32, 1.5, 0) < 0x1.01p-24,
          "f32 tolerance with exact products: half an ulp");
    CHECK(ref_tolerance(ROPE_F32, 1.5, -1) == 0 && ref_tolerance(ROPE_BF16, 1.5, -1) == 0, "copies are exact");
    CHECK(ref_round(ROPE_BF16, 1.00390625) == 1.0 && ref_round(ROPE_BF16, 1.01171875) == 1.015625, "bf16 ties");
    CHECK(ref_round(ROPE_F16, 70000) == INFINITY && ref_round(ROPE_F16, -65519) == -65504, "f16 overflow");
}

static void comparison(void) {
    float out[6] = {1.0f, 2.0f, 3.0f, 4.0f, 5.0f, 6.0f};
    double want[6] = {1.0, 2.0, 3.0, 4.0, 5.0, 6.0}, perr[6] = {0, 0, 0, 0, -1, -1};
    ref_report rep;
    CHECK(ref_compare(ROPE_F32, out, 2, 3, 3, want, perr, &rep) == 0 && rep.checked == 6 && rep.ratio == 0, "equal");
    out[1] = nextafterf(2.0f, 3.0f); /* 1 ulp = 2 x the half-ulp tolerance */
    CHECK(ref_compare(ROPE_F32, out, 2, 3, 3, want, perr, &rep) == 1 && rep.worst == 1 && fabs(rep.ratio - 2.0) < 1e-3,
          "one ulp off: bad %zu worst %zu ratio %g", rep.bad, rep.worst, rep.ratio);
    out[1] = 2.0f, out[4] = nextafterf(5.0f, 0.0f);
    CHECK(ref_compare(ROPE_F32, out, 2, 3, 3, want, perr, &rep) == 1 && rep.worst == 4 && isinf(rep.ratio),
          "a copy one ulp off");
    out[4] = 5.0f, out[2] = NAN;
    CHECK(ref_compare(ROPE_F32, out, 2, 3, 3, want, perr, &rep) == 1 && rep.worst == 2, "NaN");
    /* Strided rows: the gap element (out[2]) is skipped. */
    double w4[4] = {1.0, 2.0, 4.0, 5.0}, p4[4] = {0, 0, 0, 0};
    CHECK(ref_compare(ROPE_F32, out, 2, 2, 3, w4, p4, &rep) == 0, "gaps are not compared");
}

static void onnx_by_hand(void) {
    const double x[4] = {1, 2, 3, 4}, c[2] = {0.5, 0.25}, s[2] = {0.75, -0.5};
    double y[4], e[4];
    ref_onnx_case k = {4, 1, 1, 1, 4, 0, 0, 0, 0};
    CHECK(ref_onnx_rotary(&k, x, c, s, NULL, y, e) == 0 && y[0] == -1.75 && y[1] == 2.5 && y[2] == 2.25 && y[3] == 0,
          "halves: %g %g %g %g", y[0], y[1], y[2], y[3]);
    CHECK(e[0] == 0 && e[3] == 0, "products of short values are exact");
    k.interleaved = 1;
    CHECK(ref_onnx_rotary(&k, x, c, s, NULL, y, e) == 0 && y[0] == -1 && y[1] == 1.75 && y[2] == 2.75 && y[3] == -0.5,
          "interleaved: %g %g %g %g", y[0], y[1], y[2], y[3]);
    k.interleaved = 0, k.rot = 2;
    CHECK(ref_onnx_rotary(&k, x, c, s, NULL, y, e) == 0 && y[0] == -1 && y[1] == 1.75 && y[2] == 3 && y[3] == 4 &&
              e[2] < 0 && e[3] < 0,
          "partial r = 2: %g %g %g %g", y[0], y[1], y[2], y[3]);
    /* Position ids pick cache rows; 3-D X is [batch, seq, heads * head_size]. */
    const double x3[8] = {1, 0, 0, 1, 2, 0, 0, 2}, c3[3] = {1, 0, 0}, s3[3] = {0, 1, 0};
    const int64_t ids[2] = {2, 1};
    ref_onnx_case k3 = {3, 1, 2, 2, 2, 0, 0, 3, 0};
    double y3[8], e3[8];
    /* Token 0 uses row 2 (c = 0, s = 0): zero. Token 1 uses row 1 (c = 0, s = 1): (x1, x2) -> (-x2, x1). */
    CHECK(ref_onnx_rotary(&k3, x3, c3, s3, ids, y3, e3) == 0 && y3[0] == 0 && y3[3] == 0 && y3[4] == 0 &&
              y3[5] == 2 && y3[6] == -2 && y3[7] == 0,
          "3-D with ids: %g %g %g %g", y3[4], y3[5], y3[6], y3[7]);
    const int64_t bad[2] = {3, 0};
    CHECK(ref_onnx_rotary(&k3, x3, c3, s3, bad, y3, e3) == -1, "id == max_pos refused");
    k.rot = 3;
    CHECK(ref_onnx_rotary(&k, x, c, s, NULL, y, e) == -1, "odd r refused");
}

static void atb_by_hand(void) {
    /* ATB's demo: all ones, rotaryCoeff 4, D = 8, hidden 16: every row is 0 0 2 2 0 0 2 2 ... */
    double ones[4 * 16], cs[4 * 8], yq[4 * 16], eq[4 * 16], yk[4 * 16], ek[4 * 16];
    for (int i = 0; i < 64; i++) ones[i] = 1;
    for (int i = 0; i < 32; i++) cs[i] = 1;
    ref_atb_case a = {4, 16, 16, 8, 4, 4, 0, NULL, 1, 0};
    int demo = ref_atb_rope(&a, ones, ones, cs, cs, yq, eq, yk, ek) == 0;
    for (int i = 0; i < 64; i++) demo &= yq[i] == ((i % 4) < 2 ? 0 : 2) && yk[i] == yq[i];
    CHECK(demo, "ATB demo rows");

    /* One token, D = 4, every cos/sin element different: element i uses cos[i], sin[i]. */
    const double x[4] = {1, 2, 3, 4}, c[4] = {1, 2, 3, 4}, s[4] = {0.5, 0.25, 0.125, 2};
    double y[4], e[4];
    ref_atb_case h = {1, 4, 4, 4, 1, 2, 0, NULL, 1, 0}; /* rc 2: pairs (0, 2), (1, 3) */
    CHECK(ref_atb_rotate(&h, 4, x, c, s, y, e) == 0 && y[0] == 1 * 1 - 3 * 0.5 && y[1] == 2 * 2 - 4 * 0.25 &&
              y[2] == 3 * 3 + 1 * 0.125 && y[3] == 4 * 4 + 2 * 2,
          "rc 2: %g %g %g %g", y[0], y[1], y[2], y[3]);
    h.rotary_coeff = 4; /* rc = D: adjacent pairs (0, 1), (2, 3) */
    CHECK(ref_atb_rotate(&h, 4, x, c, s, y, e) == 0 && y[0] == 1 - 2 * 0.5 && y[1] == 4 + 1 * 0.25 &&
              y[2] == 9 - 4 * 0.125 && y[3] == 16 + 3 * 2,
          "rc D: %g %g %g %g", y[0], y[1], y[2], y[3]);

    /* cosFormat 1: sequences of 2 and 3 tokens restart at row 0; x = 1, cos row r = r, sin 0. */
    const int64_t seqlen[2] = {2, 3};
    double xs[5 * 2] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1}, cr[3 * 2] = {0, 0, 1, 1, 2, 2}, sr[6] = {0}, ys[10], es[10];
    ref_atb_case f = {5, 2, 2, 2, 3, 2, 1, seqlen, 2, 0};
    CHECK(ref_atb_rotate(&f, 2, xs, cr, sr, ys, es) == 0 && ys[0] == 0 && ys[2] == 1 && ys[4] == 0 && ys[6] == 1 &&
              ys[8] == 2,
          "cosFormat 1 positions: %g %g %g %g %g", ys[0], ys[2], ys[4], ys[6], ys[8]);
    ref_atb_case bad = f;
    bad.ntokens = 4;
    CHECK(ref_atb_rotate(&bad, 2, xs, cr, sr, ys, es) == -1, "sum(seqlen) != ntokens refused");
    bad = f, bad.cos_rows = 2;
    CHECK(ref_atb_rotate(&bad, 2, xs, cr, sr, ys, es) == -1, "a sequence longer than the cos rows refused");
    bad = f, bad.cos_format = 0;
    CHECK(ref_atb_rotate(&bad, 2, xs, cr, sr, ys, es) == -1, "cosFormat 0 with fewer rows than tokens refused");
    h.rotary_coeff = 3;
    CHECK(ref_atb_rotate(&h, 4, x, c, s, y, e) == -1, "rotaryCoeff 3 refused");
    h.rotary_coeff = 2;
    CHECK(ref_atb_rotate(&h, 6, x, c, s, y, e) == -1, "hidden not a multiple of D refused");
    ref_atb_case g = {4, 16, 12, 4, 4, 2, 0, NULL, 1, 0};
    CHECK(ref_atb_rope(&g, ones, ones, cs, cs, yq, eq, yk, ek) == -1, "hiddenQ %% hiddenK refused");
}

/* The library's ATB operator on random data, as a second opinion on the ATB reference: q [T, 32],
 * k [T, 16] (GQA), D = 8, every coefficient, both cos formats, the dtype combinations of the spec. */
static void atb_random(void) {
    enum { T = 7, HQ = 32, HK = 16, D = 8, ROWS = 5 };
    static const rope_dtype xts[] = {ROPE_F16, ROPE_F16, ROPE_BF16, ROPE_F32};
    static const rope_dtype cts[] = {ROPE_F16, ROPE_F32, ROPE_BF16, ROPE_F32};
    static float qb[T * HQ], kb[T * HK], rqb[T * HQ], rkb[T * HK], cb[ROWS * D], sb[ROWS * D];
    static double q[T * HQ], k[T * HK], c[ROWS * D], s[ROWS * D], wq[T * HQ], pq[T * HQ], wk[T * HK], pk[T * HK];
    int32_t seq32[3] = {2, 0, 5};
    int64_t seq64[3] = {2, 0, 5};
    const int coeffs[] = {2, 4, D};
    tu_seed(99);
    for (int d = 0; d < 4; d++)
        for (int ci = 0; ci < 3; ci++)
            for (int fmt = 0; fmt < 2; fmt++) {
                rope_dtype xt = xts[d], ct = cts[d];
                ref_fill(xt, qb, q, T * HQ), ref_fill(xt, kb, k, T * HK);
                ref_fill(ct, cb, c, ROWS * D), ref_fill(ct, sb, s, ROWS * D);
                int rows = fmt ? ROWS : T + 1;
                static float cbig[(T + 1) * D], sbig[(T + 1) * D];
                static double cbd[(T + 1) * D], sbd[(T + 1) * D];
                if (!fmt) ref_fill(ct, cbig, cbd, (T + 1) * D), ref_fill(ct, sbig, sbd, (T + 1) * D);
                ref_atb_case a = {T, HQ, HK, D, rows, coeffs[ci], fmt, seq64, 3, 0};
                int ok = ref_atb_rope(&a, q, k, fmt ? c : cbd, fmt ? s : sbd, wq, pq, wk, pk) == 0;
                CHECK(ok, "reference refused a valid ATB case");
                rope_atb_param p = {coeffs[ci], fmt, 0, {0}, 0};
                rope_tensor Q = {qb, xt, 2, {T, HQ}, 0}, K = {kb, xt, 2, {T, HK}, 0};
                rope_tensor C = {fmt ? cb : cbig, ct, 2, {rows, D}, 0}, Sn = {fmt ? sb : sbig, ct, 2, {rows, D}, 0};
                rope_tensor L = {seq32, ROPE_I32, 1, {3}, 0};
                rope_tensor RQ = {rqb, xt, 2, {T, HQ}, 0}, RK = {rkb, xt, 2, {T, HK}, 0};
                rope_status st = rope_atb_rope(NULL, &p, &Q, &K, &C, &Sn, &L, &RQ, &RK);
                CHECK(st == ROPE_OK, "%s/%s rc %d fmt %d: %s", rope_dtype_name(xt), rope_dtype_name(ct), coeffs[ci],
                      fmt, rope_last_error());
                if (st != ROPE_OK || !ok) continue;
                ref_report r1, r2;
                char b1[200], b2[200];
                ref_compare(xt, rqb, T, HQ, HQ, wq, pq, &r1);
                ref_compare(xt, rkb, T, HK, HK, wk, pk, &r2);
                CHECK(r1.bad == 0 && r2.bad == 0, "%s/%s rc %d fmt %d: q %s; k %s", rope_dtype_name(xt),
                      rope_dtype_name(ct), coeffs[ci], fmt, ref_report_str(&r1, b1, sizeof b1),
                      ref_report_str(&r2, b2, sizeof b2));
            }
}

int main(void) {
    ulps_and_tolerances();
    comparison();
    onnx_by_hand();
    atb_by_hand();
    atb_random();
    return tu_finish();
}
