/* SPDX-License-Identifier: MIT */
/* The portable builds of the on-the-fly value block and angle block, and the choice of a build per
 * instruction set. */
#include "fly_values.h"

uint32_t rope_fly_values_portable(const rope_fly_block *b, rope_dtype dt) { return rope_fly_values_of(b, dt); }

rope_fly_values_fn rope_fly_values_for(rope_isa isa) {
    switch (isa) {
#if defined(ROPE_HAVE_AVX512)
    case ROPE_ISA_AVX512: return rope_fly_values_avx512;
#endif
#if defined(ROPE_HAVE_AVX2)
    case ROPE_ISA_AVX2: return rope_fly_values_avx2;
#endif
    default: break; /* aarch64 already vectorizes the portable build two doubles wide */
    }
    return rope_fly_values_portable;
}

void rope_fly_sincos_portable(int64_t p, const double *inv, size_t n, double *c, double *s) {
    rope_angle_sincos_block(p, inv, n, c, s);
}

rope_fly_sincos_fn rope_fly_sincos_for(rope_isa isa) {
    switch (isa) {
#if defined(ROPE_HAVE_AVX512)
    case ROPE_ISA_AVX512: return rope_fly_sincos_avx512; /* AVX-512F has the fma the block needs */
#endif
    default: break; /* the AVX2 set is built without -mfma: its fma would be a call per angle */
    }
    return rope_fly_sincos_portable;
}

void rope_fly_cmul_portable(size_t n, double *ca, double *sa, const double *c, const double *s) {
    rope_fly_cmul_block(n, ca, sa, c, s);
}

rope_fly_cmul_fn rope_fly_cmul_for(rope_isa isa) {
    switch (isa) {
#if defined(ROPE_HAVE_AVX512)
    case ROPE_ISA_AVX512: return rope_fly_cmul_avx512;
#endif
    default: break;
    }
    return rope_fly_cmul_portable;
}
