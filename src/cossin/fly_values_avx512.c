/* SPDX-License-Identifier: MIT */
/* The on-the-fly value block and angle block built with AVX-512 (cmake/kernels.cmake gives this file
 * the flags). */
#include "fly_values.h"

uint32_t rope_fly_values_avx512(const rope_fly_block *b, rope_dtype dt) { return rope_fly_values_of(b, dt); }

void rope_fly_sincos_avx512(int64_t p, const double *inv, size_t n, double *c, double *s) {
    rope_angle_sincos_block(p, inv, n, c, s);
}

void rope_fly_cmul_avx512(size_t n, double *ca, double *sa, const double *c, const double *s) {
    rope_fly_cmul_block(n, ca, sa, c, s);
}
