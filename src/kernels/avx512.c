/* SPDX-License-Identifier: MIT */
/* AVX-512 F/BW/VL/DQ kernels: 16 lanes, masked partial vectors (see avx512_prims.h). bf16 output
 * goes through avx512_bf16.c's kernels when the CPU has AVX512_BF16 and the compiler could build
 * them, else through the integer rounding here. */
#include "avx512_prims.h"
#include "fly_values.h"
#include "simd_paths.h"
#include "x86_features.h"

K_ALL_FAMILIES(select_integer_bf16)

static rope_rows_fn select_best(const rope_kernel_shape *sh) {
#if defined(ROPE_HAVE_AVX512BF16)
    if (sh->x_dtype == ROPE_BF16 && rope_x86_has_avx512bf16()) {
        rope_rows_fn fn = rope_avx512bf16_select(sh);
        if (fn) return fn;
    }
#endif
    return select_integer_bf16(sh);
}

static void avx512_fence(void) { _mm_sfence(); }

ROPE_FLY_VALUES_FN(avx512_fly_values)

const rope_kernel_set rope_kernels_avx512 = {ROPE_ISA_AVX512, rope_x86_has_avx512, select_best, avx512_fence,
                                             avx512_fly_values};

/* Not registered: the same kernels with bf16 always narrowed in integer arithmetic, so the tests can
 * compare that path with the portable kernel on a CPU that has AVX512_BF16. */
ROPE_HIDDEN const rope_kernel_set rope_kernels_avx512_intbf16 = {ROPE_ISA_AVX512, rope_x86_has_avx512,
                                                                select_integer_bf16, avx512_fence, avx512_fly_values};
