/* SPDX-License-Identifier: MIT */
/* The bf16-output AVX-512 kernels with vcvtneps2bf16 (AVX512_BF16). Built only when the compiler
 * accepts -mavx512bf16 (cmake/kernels.cmake) and called only when the CPU has it (avx512.c): the plain
 * rotation's and the normalised rotation's. */
#define K_NATIVE_BF16 1
#include "avx512_prims.h"
#define K_ISA avx512bf16          /* after the double underscore in its kernels' names (kernel.h) */
#define K_SET_ISA ROPE_ISA_AVX512 /* listed and selected by the avx512 set */
#define K_CPU_HAS rope_x86_has_avx512bf16
#include "simd_paths.h"
#include "simd_norm_paths.h"
#include "x86_features.h"

K_FAMILY(bf16_cosbf16, ROPE_BF16, ROPE_BF16);
K_FAMILY(bf16_cosf32, ROPE_BF16, ROPE_F32);

static const k_entry avx512bf16_table[] = {
    {ROPE_BF16, ROPE_BF16, &bf16_cosbf16},
    {ROPE_BF16, ROPE_F32, &bf16_cosf32},
};

rope_kernel_fn rope_avx512bf16_select(const rope_kernel_shape *sh) {
    return k_select(avx512bf16_table, K_COUNT(avx512bf16_table), sh);
}

/* The normalised kernels with bf16 output (avx512bf16_norm_norm_bf16_f32_halves, ...): the integer
 * narrowing cost 6 instructions per vector where vcvtneps2bf16 with its subnormal check costs 3. */
K_NORM_FAMILY(bf16_cosbf16, ROPE_BF16, ROPE_BF16);
K_NORM_FAMILY(bf16_cosf32, ROPE_BF16, ROPE_F32);

static const k_norm_entry avx512bf16_norm_table[] = {
    {ROPE_BF16, ROPE_BF16, &norm_bf16_cosbf16},
    {ROPE_BF16, ROPE_F32, &norm_bf16_cosf32},
};

rope_kernel_norm_fn rope_avx512bf16_select_norm(const rope_kernel_shape *sh) {
    return k_select_norm(avx512bf16_norm_table, K_COUNT(avx512bf16_norm_table), sh);
}

/* This file's kernels in the avx512 set's list (after its own): entry i, or NULL past the last. */
const rope_kernel_info *rope_avx512bf16_kernel_at(size_t i) {
    return k_kernel_at(avx512bf16_table, K_COUNT(avx512bf16_table), avx512bf16_norm_table,
                       K_COUNT(avx512bf16_norm_table), NULL, &i);
}
