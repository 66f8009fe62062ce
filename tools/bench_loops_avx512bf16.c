/* SPDX-License-Identifier: MIT */
/* The AVX-512 floor loop with bf16 narrowed by vcvtneps2bf16 (AVX512_BF16): compiled with
 * -mavx512bf16 where the compiler has it (CMakeLists.txt), run only where the CPU has it
 * (bench_loop_cpu_has_bf16). */
#define BL_NATIVE_BF16 1
#include "bench_loop_avx512.h"

#if defined(BL_BUILT)
BL_ENTRY(bench_loop_avx512bf16)
#else
int bench_loop_avx512bf16(const bench_loop_job *job, size_t lo, size_t hi) { /* not built for this set */
    (void)job;
    (void)lo;
    (void)hi;
    return 0;
}
#endif
