/* SPDX-License-Identifier: MIT */
/* AVX-512 F/BW/VL/DQ kernels: 16 lanes, masked partial vectors (see avx512_prims.h). bf16 output
 * goes through avx512_bf16.c's kernels when the CPU has AVX512_BF16 and the compiler could build
 * them, else through the integer rounding here. */
#include "avx512_prims.h"
#define K_ISA avx512 /* after the double underscore in its kernels' names (kernel.h) */
#define K_SET_ISA ROPE_ISA_AVX512
#define K_CPU_HAS rope_x86_has_avx512
#include "simd_paths.h"
#include "simd_norm_paths.h"
#include "x86_features.h"

K_FAMILY(f32_cosf32, ROPE_F32, ROPE_F32); /* f32 x, f32 cos/sin: rope_kernel_rot_f32_cosf32_<layout>__avx512 */
K_FAMILY(f16_cosf16, ROPE_F16, ROPE_F16);
K_FAMILY(f16_cosf32, ROPE_F16, ROPE_F32);
K_FAMILY(bf16_cosbf16, ROPE_BF16, ROPE_BF16);
K_FAMILY(bf16_cosf32, ROPE_BF16, ROPE_F32);

K_NORM_FAMILY(f32_cosf32, ROPE_F32, ROPE_F32); /* norm_f32_cosf32: rope_kernel_norm_f32_cosf32_...__avx512 */
K_NORM_FAMILY(f16_cosf16, ROPE_F16, ROPE_F16);
K_NORM_FAMILY(f16_cosf32, ROPE_F16, ROPE_F32);
K_NORM_FAMILY(bf16_cosbf16, ROPE_BF16, ROPE_BF16);
K_NORM_FAMILY(bf16_cosf32, ROPE_BF16, ROPE_F32);

static const k_norm_entry avx512_norm_table[] = {
    {ROPE_F32, ROPE_F32, &norm_f32_cosf32},
    {ROPE_F16, ROPE_F16, &norm_f16_cosf16},
    {ROPE_F16, ROPE_F32, &norm_f16_cosf32},
    {ROPE_BF16, ROPE_BF16, &norm_bf16_cosbf16},
    {ROPE_BF16, ROPE_F32, &norm_bf16_cosf32},
};

/* bf16 output narrowed in integer arithmetic. */
static rope_kernel_norm_fn select_norm_integer_bf16(const rope_kernel_shape *sh) {
    return k_select_norm(avx512_norm_table, K_COUNT(avx512_norm_table), sh);
}

/* bf16 output through avx512_bf16.c's kernels where the CPU has AVX512_BF16, as select_best. */
static rope_kernel_norm_fn select_norm_best(const rope_kernel_shape *sh) {
#if defined(ROPE_HAVE_AVX512BF16)
    if (sh->x_dtype == ROPE_BF16 && rope_x86_has_avx512bf16()) {
        rope_kernel_norm_fn fn = rope_avx512bf16_select_norm(sh);
        if (fn) return fn;
    }
#endif
    return select_norm_integer_bf16(sh);
}

/* x dtype, cos dtype -> the family serving them; k_select then picks the layout's kernel. */
static const k_entry avx512_table[] = {
    {ROPE_F32, ROPE_F32, &f32_cosf32},
    {ROPE_F16, ROPE_F16, &f16_cosf16},
    {ROPE_F16, ROPE_F32, &f16_cosf32},
    {ROPE_BF16, ROPE_BF16, &bf16_cosbf16},
    {ROPE_BF16, ROPE_F32, &bf16_cosf32},
};

static rope_kernel_fn select_integer_bf16(const rope_kernel_shape *sh) { return k_select(avx512_table, K_COUNT(avx512_table), sh); }

static rope_kernel_fn select_best(const rope_kernel_shape *sh) {
#if defined(ROPE_HAVE_AVX512BF16)
    if (sh->x_dtype == ROPE_BF16 && rope_x86_has_avx512bf16()) {
        rope_kernel_fn fn = rope_avx512bf16_select(sh);
        if (fn) return fn;
    }
#endif
    return select_integer_bf16(sh);
}

static void avx512_fence(void) { _mm_sfence(); }

static const rope_kernel_info avx512_store_info = K_STORE_INFO(rope_kernel_store__avx512);

/* This file's kernels (integer bf16 narrowing). */
static const rope_kernel_info *kernel_at_integer_bf16(size_t i) {
    return k_kernel_at(avx512_table, K_COUNT(avx512_table), avx512_norm_table, K_COUNT(avx512_norm_table),
                       &avx512_store_info, &i);
}

/* Those, then avx512_bf16.c's, which select_best and select_norm_best return where the CPU has
 * AVX512_BF16. */
static const rope_kernel_info *kernel_at_best(size_t i) {
    const rope_kernel_info *k = k_kernel_at(avx512_table, K_COUNT(avx512_table), avx512_norm_table,
                                            K_COUNT(avx512_norm_table), &avx512_store_info, &i);
#if defined(ROPE_HAVE_AVX512BF16)
    if (!k) k = rope_avx512bf16_kernel_at(i);
#endif
    return k;
}

const rope_kernel_set rope_kernels_avx512 = {ROPE_ISA_AVX512, rope_x86_has_avx512, select_best, avx512_fence,
                                                 select_norm_best, rope_kernel_store__avx512, kernel_at_best};

/* Not registered: the same kernels with bf16 always narrowed in integer arithmetic, so the tests can
 * compare that path with the portable kernel on a CPU that has AVX512_BF16. */
ROPE_HIDDEN const rope_kernel_set rope_kernels_avx512_intbf16 = {ROPE_ISA_AVX512, rope_x86_has_avx512,
                                                                select_integer_bf16, avx512_fence, select_norm_integer_bf16,
                                                                rope_kernel_store__avx512, kernel_at_integer_bf16};
