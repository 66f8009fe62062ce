/* SPDX-License-Identifier: MIT */
/* The bf16-output AVX-512 kernels with vcvtneps2bf16 (AVX512_BF16). Built only when the compiler
 * accepts -mavx512bf16 (cmake/kernels.cmake) and called only when the CPU has it (avx512.c). */
#define K_NATIVE_BF16 1
#include "avx512_prims.h"
#include "simd_paths.h"

K_FAMILY(bf16_bf16, ROPE_BF16, ROPE_BF16);
K_FAMILY(bf16_f32, ROPE_BF16, ROPE_F32);

rope_rows_fn rope_avx512bf16_select(const rope_kernel_shape *sh) {
    const k_family *f = k_family_of(sh, NULL, NULL, NULL, &bf16_bf16, &bf16_f32);
    return f ? k_pick_path(f, sh) : NULL;
}
