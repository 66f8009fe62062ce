/* SPDX-License-Identifier: MIT */
/* The instruction-set kernel tables the kernel tests run: every ISA this build has and this CPU
 * executes, plus (x86 with gcc/clang) the AVX-512 table that narrows bf16 in integer arithmetic,
 * which the dispatcher bypasses on CPUs with AVX512_BF16. */
#ifndef ROPE_TEST_KERNEL_SETS_H
#define ROPE_TEST_KERNEL_SETS_H

#include "kernels/kernel.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
/* Weak: a build without avx512.c leaves it NULL. */
extern const rope_kernel_set rope_kernels_avx512_intbf16 __attribute__((weak));
#endif

typedef struct tk_set {
    const rope_kernel_set *set;
    const char *name;
} tk_set;

/* Fills `out` (room for 8) with the runnable SIMD sets; returns their count. */
static inline int tk_sets(tk_set *out) {
    int n = 0;
    for (int isa = ROPE_ISA_SCALAR + 1; isa < ROPE_ISA_COUNT_; isa++) {
        const rope_kernel_set *s = rope_kernels_for((rope_isa)isa);
        if (s && s->cpu_has()) out[n].set = s, out[n++].name = rope_isa_name((rope_isa)isa);
    }
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    if (&rope_kernels_avx512_intbf16 && rope_kernels_avx512_intbf16.cpu_has())
        out[n].set = &rope_kernels_avx512_intbf16, out[n++].name = "avx512 (integer bf16)";
#endif
    return n;
}

#endif
