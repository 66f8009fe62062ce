/* SPDX-License-Identifier: MIT */
/*
 * Accurate cos/sin of a RoPE angle pos * theta, for the cache builder and the on-the-fly kernels.
 *
 * A float32 angle pos * inv_freq loses the angle's low bits as pos grows (about 0.06 rad at
 * position 10^6). Here the angle is the exact product of the integer position and the float64
 * inverse frequency (an fma two-product), reduced modulo pi/2 in double-double with a three-word
 * pi/2, and its cos/sin come from polynomials on [-pi/4, pi/4] with the reduced argument's low word
 * applied as a first-order correction. The float64 results are within a few float64 ulps of the
 * exact cos/sin(pos * theta), so rounding them to float32 (or narrower) gives the correctly rounded
 * value except within a hair of a rounding boundary.
 */
#ifndef ROPE_CACHE_ANGLE_H
#define ROPE_CACHE_ANGLE_H

#include <stdint.h>

#include "../core/internal.h" /* ROPE_POS_LIMIT */

/* The angles |pos * theta| below which rope_angle_sincos is accurate: the reduction's quotient
 * stays below 2^46 and the three-word pi/2 (about 164 bits) leaves an error under 2^-110 rad. */
#define ROPE_ANGLE_LIMIT 0x1p46


/* ROPE_ERROR_INDEX unless `last * max_inv`, the largest angle of positions up to `last`, is below
 * ROPE_ANGLE_LIMIT; `what` names the positions in the message ("fly->positions: " or ""). */
rope_status rope_angle_check(const char *where, const char *what, int64_t last, double max_inv);

/*
 * *c = cos(pos * theta), *s = sin(pos * theta), with pos * theta the exact real product.
 * Accurate (a few float64 ulps) when |pos| <= 2^53 and |pos * theta| < ROPE_ANGLE_LIMIT, and theta
 * is not so small that pos * theta underflows (|theta| > 2^-900 is plenty). Beyond the limit the
 * result is cos/sin of the float64-rounded product (still in [-1, 1]); a non-finite theta gives NaN.
 * Pure, thread-safe, no errors.
 */
void rope_angle_sincos(int64_t pos, double theta, double *c, double *s);

/* The same for a float64 coordinate `pos` (multi-axis positions may be fractional or negative):
 * accurate when |pos * theta| < ROPE_ANGLE_LIMIT and the product does not underflow (its error term
 * is then exact). rope_angle_sincos(pos, ...) is rope_angle_sincos_real((double)pos, ...) bit for
 * bit. */
void rope_angle_sincos_real(double pos, double theta, double *c, double *s);

#endif
