/* SPDX-License-Identifier: MIT */
/* The floor loop on AVX-512 (bench_loops.h), bf16 narrowed in integer arithmetic. */
#include "bench_loop_avx512.h"

#if defined(BL_BUILT)
BL_ENTRY(bench_loop_avx512)
#else
int bench_loop_avx512(const bench_loop_job *job, size_t lo, size_t hi) { /* not built for this set */
    (void)job;
    (void)lo;
    (void)hi;
    return 0;
}
#endif
