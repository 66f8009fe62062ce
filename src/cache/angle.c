/* SPDX-License-Identifier: MIT */
/*
 * cos/sin(pos * theta) from the exact angle; see angle.h for the contract.
 *
 * Steps, and why each is exact or how much it loses:
 *   1. x = pos * theta as xh + xl: xh the rounded product, xl = fma(pos, theta, -xh) its exact error
 *      (pos <= 2^53 is exact as a double; a float64 coordinate is its own exact value).
 *   2. k = nearest integer to xh * 2/pi. k * pi/2 is formed as k*P1 + k*P2 + k*P3 with
 *      pi/2 = P1 + P2 + P3 + O(2^-164); the products k*P1 and k*P2 are split exactly into a rounded
 *      value and its fma error, k*P3 is only needed rounded (it is below 2^-60 rad).
 *   3. r = x - k*pi/2 is summed from those pieces with error-free additions (two_sum), whose
 *      rounding errors are collected in a low word. Only the low word's own additions round: the
 *      terms after xh - k*P1 are at most about ulp(x) (xl, the error of k*P1, k*P2) or 2^-53 ulp(x)
 *      (the error of k*P2, k*P3), so for |x| < 2^46 (ulp(x) <= 2^-6) the result rh + rl is within
 *      about 2^-104 |r| + 2^-110 rad of the exact r, and |rh| <= pi/4 (1 + 2^-50).
 *   4. sin and cos of rh by their Taylor polynomials (truncation below 2^-54 on [-pi/4, pi/4]), then
 *      sin(rh + rl) = sin rh + cos rh * rl and cos(rh + rl) = cos rh - sin rh * rl (|rl| <= 2^-53 |rh|,
 *      so the second-order term is below 2^-107).
 *   5. The quadrant k mod 4 swaps and negates.
 * The code is compiled with -ffp-contract=off; the fma calls are the only fused operations and are
 * intended, so the results are the same on every machine whose libm fma is correct (C99 requires it).
 */
#include "angle.h"

#include <float.h>
#include <math.h>

#include "../core/internal.h"

/* The error-free additions need every double operation rounded to double, not to a wider format. */
#if FLT_EVAL_METHOD != 0 && FLT_EVAL_METHOD != 1 && FLT_EVAL_METHOD != -1
#error "src/cache/angle.c needs double arithmetic evaluated in double (FLT_EVAL_METHOD 0)"
#endif

/* pi/2 = PIO2_1 + PIO2_2 + PIO2_3 + about 5.6e-50: each word is the float64 nearest to what the
 * previous words leave of pi/2 (worked out with bc at 200 digits). */
static const double PIO2_1 = 0x1.921fb54442d18p+0;
static const double PIO2_2 = 0x1.1a62633145c07p-54;
static const double PIO2_3 = -0x1.f1976b7ed8fbcp-110;
/* Only used to pick the quadrant k; its own rounding merely moves |r| a hair past pi/4. */
static const double TWO_OVER_PI = 0x1.45f306dc9c883p-1;

/* Taylor coefficients 1/n!: n! is exact in float64 up to 22!, so each quotient is the correctly
 * rounded coefficient. On |r| <= pi/4 the first omitted terms are r^17/17! < 5e-17 (sin) and
 * r^18/18! < 3e-18 (cos). */
#define S3 (-1.0 / 6.0)
#define S5 (1.0 / 120.0)
#define S7 (-1.0 / 5040.0)
#define S9 (1.0 / 362880.0)
#define S11 (-1.0 / 39916800.0)
#define S13 (1.0 / 6227020800.0)
#define S15 (-1.0 / 1307674368000.0)
#define C4 (1.0 / 24.0)
#define C6 (-1.0 / 720.0)
#define C8 (1.0 / 40320.0)
#define C10 (-1.0 / 3628800.0)
#define C12 (1.0 / 479001600.0)
#define C14 (-1.0 / 87178291200.0)
#define C16 (1.0 / 20922789888000.0)

/* s + e == a + b exactly (Knuth's two-sum: no condition on the magnitudes). */
static inline void two_sum(double a, double b, double *s, double *e) {
    double x = a + b;
    double bv = x - a;
    double av = x - bv;
    *s = x;
    *e = (a - av) + (b - bv);
}

/* The body of both entry points: p is any float64 (an integer position converts exactly). */
static inline void sincos_of_product(double p, double theta, double *c, double *s) {
    double xh = p * theta;
    if (!(fabs(xh) < ROPE_ANGLE_LIMIT)) {
        if (isfinite(xh)) { /* outside the accurate range: the rounded product, still a valid angle */
            *c = cos(xh);
            *s = sin(xh);
        } else {
            *c = *s = xh - xh; /* NaN for an infinite or NaN angle */
        }
        return;
    }
    double xl = fma(p, theta, -xh); /* xh + xl == pos * theta */

    double k = nearbyint(xh * TWO_OVER_PI); /* |k| < 2^46: k * PIO2_i splits exactly below */
    double h1 = k * PIO2_1, l1 = fma(k, PIO2_1, -h1);
    double h2 = k * PIO2_2, l2 = fma(k, PIO2_2, -h2);
    double h3 = k * PIO2_3;

    /* r = (xh + xl) - (h1 + l1 + h2 + l2 + h3), largest terms first. */
    double r, lo, e;
    two_sum(xh, -h1, &r, &lo);
    two_sum(r, xl, &r, &e);
    lo += e;
    two_sum(r, -l1, &r, &e);
    lo += e;
    two_sum(r, -h2, &r, &e);
    lo += e;
    lo -= l2;
    lo -= h3;
    double rh, rl;
    two_sum(r, lo, &rh, &rl);

    double z = rh * rh;
    double sp = z * (S3 + z * (S5 + z * (S7 + z * (S9 + z * (S11 + z * (S13 + z * S15))))));
    double sin_h = rh + rh * sp;
    double cp = z * z * (C4 + z * (C6 + z * (C8 + z * (C10 + z * (C12 + z * (C14 + z * C16))))));
    double cos_h = (1.0 - 0.5 * z) + cp;
    double sin_r = sin_h + cos_h * rl;
    double cos_r = cos_h - sin_h * rl;

    switch ((int)((int64_t)k & 3)) { /* two's complement: also right for negative k */
    case 0: *c = cos_r, *s = sin_r; break;
    case 1: *c = -sin_r, *s = cos_r; break;
    case 2: *c = -cos_r, *s = -sin_r; break;
    default: *c = sin_r, *s = -cos_r; break;
    }
}

void rope_angle_sincos(int64_t pos, double theta, double *c, double *s) {
    sincos_of_product((double)pos, theta, c, s);
}

void rope_angle_sincos_real(double pos, double theta, double *c, double *s) {
    sincos_of_product(pos, theta, c, s);
}

rope_status rope_angle_check(const char *where, const char *what, int64_t last, double max_inv) {
    if ((double)last * max_inv < ROPE_ANGLE_LIMIT) return ROPE_OK;
    return rope_fail(ROPE_ERROR_INDEX, where,
                     "%sposition %lld: its largest angle %lld * %g = %g rad reaches 2^46, beyond the accurate "
                     "argument reduction",
                     what, (long long)last, (long long)last, max_inv, (double)last * max_inv);
}
