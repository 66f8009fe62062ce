/* SPDX-License-Identifier: MIT */
/*
 * The body of rope_angle_sincos (angle.c explains each step and its error), written once as
 * branch-free C so that it serves both the scalar entry points and a block of angles that the
 * compiler vectorizes (rope_angle_sincos_block, built per instruction set by cossin/fly_values_*.c:
 * the on-the-fly anchors and step tables, many angles of one position). Every operation is an IEEE
 * one (-ffp-contract=off; fma is the correctly rounded fused operation, a call or an instruction),
 * so each build gives the scalar's bits.
 *
 * Two steps are written so that they vectorize and still equal what they replace:
 *   - k = nearbyint(y) for y = xh * 2/pi: (y + 1.5 * 2^52) - 1.5 * 2^52 rounds y to the nearest
 *     integer, ties to even, exactly as nearbyint in the default rounding mode, for |y| < 2^51
 *     (here |y| < 2^46); and the low bits of y + 1.5 * 2^52 are those of k in two's complement,
 *     which give the quadrant k & 3 without a conversion to an integer (a zero k takes y's sign, as
 *     nearbyint's does; |k| < 2^46, so k * PIO2_i splits exactly).
 *   - the quadrant's swap and negations are selects: the same values as the switch they replace.
 */
#ifndef ROPE_CACHE_ANGLE_BODY_H
#define ROPE_CACHE_ANGLE_BODY_H

#include <float.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "angle.h"

/* The error-free additions need every double operation rounded to double, not to a wider format. */
#if FLT_EVAL_METHOD != 0 && FLT_EVAL_METHOD != 1 && FLT_EVAL_METHOD != -1
#error "src/cache/angle_body.h needs double arithmetic evaluated in double (FLT_EVAL_METHOD 0)"
#endif

/* pi/2 = PIO2_1 + PIO2_2 + PIO2_3 + about 5.6e-50: each word is the float64 nearest to what the
 * previous words leave of pi/2 (worked out with bc at 200 digits). */
#define ROPE_PIO2_1 0x1.921fb54442d18p+0
#define ROPE_PIO2_2 0x1.1a62633145c07p-54
#define ROPE_PIO2_3 (-0x1.f1976b7ed8fbcp-110)
/* Only used to pick the quadrant k; its own rounding merely moves |r| a hair past pi/4. */
#define ROPE_TWO_OVER_PI 0x1.45f306dc9c883p-1
#define ROPE_ROUND_MAGIC 0x1.8p52

/* Taylor coefficients 1/n!: n! is exact in float64 up to 22!, so each quotient is the correctly
 * rounded coefficient. On |r| <= pi/4 the first omitted terms are r^17/17! < 5e-17 (sin) and
 * r^18/18! < 3e-18 (cos). */
#define ROPE_S3 (-1.0 / 6.0)
#define ROPE_S5 (1.0 / 120.0)
#define ROPE_S7 (-1.0 / 5040.0)
#define ROPE_S9 (1.0 / 362880.0)
#define ROPE_S11 (-1.0 / 39916800.0)
#define ROPE_S13 (1.0 / 6227020800.0)
#define ROPE_S15 (-1.0 / 1307674368000.0)
#define ROPE_C4 (1.0 / 24.0)
#define ROPE_C6 (-1.0 / 720.0)
#define ROPE_C8 (1.0 / 40320.0)
#define ROPE_C10 (-1.0 / 3628800.0)
#define ROPE_C12 (1.0 / 479001600.0)
#define ROPE_C14 (-1.0 / 87178291200.0)
#define ROPE_C16 (1.0 / 20922789888000.0)

/* s + e == a + b exactly (Knuth's two-sum: no condition on the magnitudes). */
static inline void rope_two_sum(double a, double b, double *s, double *e) {
    double x = a + b;
    double bv = x - a;
    double av = x - bv;
    *s = x;
    *e = (a - av) + (b - bv);
}

/* cos/sin(p * theta) for |p * theta| < ROPE_ANGLE_LIMIT (the caller checks the range). */
static inline void rope_angle_core(double p, double theta, double *c, double *s) {
    double xh = p * theta;
    double xl = fma(p, theta, -xh); /* xh + xl == pos * theta */

    double y = xh * ROPE_TWO_OVER_PI;
    double kb = y + ROPE_ROUND_MAGIC;
    double k = copysign(kb - ROPE_ROUND_MAGIC, y); /* nearbyint(y), the sign of a zero k included */
    uint64_t kbits;
    memcpy(&kbits, &kb, sizeof kbits);
    double h1 = k * ROPE_PIO2_1, l1 = fma(k, ROPE_PIO2_1, -h1);
    double h2 = k * ROPE_PIO2_2, l2 = fma(k, ROPE_PIO2_2, -h2);
    double h3 = k * ROPE_PIO2_3;

    /* r = (xh + xl) - (h1 + l1 + h2 + l2 + h3), largest terms first. */
    double r, lo, e;
    rope_two_sum(xh, -h1, &r, &lo);
    rope_two_sum(r, xl, &r, &e);
    lo += e;
    rope_two_sum(r, -l1, &r, &e);
    lo += e;
    rope_two_sum(r, -h2, &r, &e);
    lo += e;
    lo -= l2;
    lo -= h3;
    double rh, rl;
    rope_two_sum(r, lo, &rh, &rl);

    double z = rh * rh;
    double sp = z * (ROPE_S3 + z * (ROPE_S5 + z * (ROPE_S7 + z * (ROPE_S9 + z * (ROPE_S11 + z * (ROPE_S13 + z * ROPE_S15))))));
    double sin_h = rh + rh * sp;
    double cp = z * z * (ROPE_C4 + z * (ROPE_C6 + z * (ROPE_C8 + z * (ROPE_C10 + z * (ROPE_C12 + z * (ROPE_C14 + z * ROPE_C16))))));
    double cos_h = (1.0 - 0.5 * z) + cp;
    double sin_r = sin_h + cos_h * rl;
    double cos_r = cos_h - sin_h * rl;

    /* quadrant q = k & 3: 0 (cos, sin), 1 (-sin, cos), 2 (-cos, -sin), 3 (sin, -cos) */
    double c0 = (kbits & 1u) ? sin_r : cos_r, s0 = (kbits & 1u) ? cos_r : sin_r;
    *c = ((kbits + 1u) & 2u) ? -c0 : c0;
    *s = (kbits & 2u) ? -s0 : s0;
}

/* c[i], s[i] = cos/sin(p * inv[i]) for i < n, bitwise rope_angle_sincos(p, inv[i]): a loop free of
 * calls and branches, then the angles outside the accurate range (never, for positions and
 * frequencies checked by rope_angle_check) through the scalar entry point. */
static inline void rope_angle_sincos_block(int64_t p, const double *restrict inv, size_t n, double *restrict c,
                                           double *restrict s) {
    double pd = (double)p;
    int any = 0;
    for (size_t i = 0; i < n; i++) {
        rope_angle_core(pd, inv[i], &c[i], &s[i]);
        any |= !(fabs(pd * inv[i]) < ROPE_ANGLE_LIMIT);
    }
    for (size_t i = 0; any && i < n; i++)
        if (!(fabs(pd * inv[i]) < ROPE_ANGLE_LIMIT)) rope_angle_sincos(p, inv[i], &c[i], &s[i]);
}

#endif
