/* SPDX-License-Identifier: MIT */
/* The bf16-output AVX-512 kernels with vcvtneps2bf16 (AVX512_BF16). Built only when the compiler
 * accepts -mavx512bf16 (cmake/kernels.cmake) and called only when the CPU has it (avx512.c): the plain
 * rotation's and the normalised rotation's. */
#define K_NATIVE_BF16 1
#include "avx512_prims.h"
#define K_ISA avx512bf16 /* in the names of the normalised kernels */
#include "simd_paths.h"
#include "simd_norm_paths.h"

K_FAMILY(bf16_bf16, ROPE_BF16, ROPE_BF16); /* defines bf16_bf16, with native bf16 rounding */
K_FAMILY(bf16_f32, ROPE_BF16, ROPE_F32);   /* defines bf16_f32 */

static const k_entry avx512bf16_table[] = {
    {ROPE_BF16, ROPE_BF16, &bf16_bf16},
    {ROPE_BF16, ROPE_F32, &bf16_f32},
};

rope_kernel_fn rope_avx512bf16_select(const rope_kernel_shape *sh) {
    return k_select(avx512bf16_table, K_COUNT(avx512bf16_table), sh);
}

/* The normalised kernels with bf16 output (avx512bf16_norm_norm_bf16_f32_halves, ...): the integer
 * narrowing cost 6 instructions per vector where vcvtneps2bf16 with its subnormal check costs 3. */
K_NORM_FAMILY(norm_bf16_bf16, ROPE_BF16, ROPE_BF16);
K_NORM_FAMILY(norm_bf16_f32, ROPE_BF16, ROPE_F32);

static const k_norm_entry avx512bf16_norm_table[] = {
    {ROPE_BF16, ROPE_BF16, &norm_bf16_bf16},
    {ROPE_BF16, ROPE_F32, &norm_bf16_f32},
};

rope_kernel_norm_fn rope_avx512bf16_select_norm(const rope_kernel_shape *sh) {
    return k_select_norm(avx512bf16_norm_table, K_COUNT(avx512bf16_norm_table), sh);
}
