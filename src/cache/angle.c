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
#include "angle_body.h"

#include <float.h>
#include <math.h>

#include "../core/internal.h"

/* The error-free additions need every double operation rounded to double, not to a wider format. */
#if FLT_EVAL_METHOD != 0 && FLT_EVAL_METHOD != 1 && FLT_EVAL_METHOD != -1
#error "src/cache/angle.c needs double arithmetic evaluated in double (FLT_EVAL_METHOD 0)"
#endif

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
    rope_angle_core(p, theta, c, s); /* angle_body.h */
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
