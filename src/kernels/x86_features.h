/* SPDX-License-Identifier: MIT */
/* What the running x86 CPU and OS can execute, for the cpu_has() entries of the x86 kernel tables.
 * Lives in its own file, compiled without instruction-set flags: the kernel files are compiled with
 * -mavx2 / -mavx512*, so any code in them (even a feature test) may contain instructions an older CPU
 * faults on. */
#ifndef ROPE_X86_FEATURES_H
#define ROPE_X86_FEATURES_H

#include "../core/internal.h"

/* AVX2 + F16C, with the OS saving the ymm state. */
ROPE_HIDDEN int rope_x86_has_avx2(void);
/* AVX-512 F/BW/VL/DQ (+ AVX2, F16C), with the OS saving the opmask and zmm state. */
ROPE_HIDDEN int rope_x86_has_avx512(void);
/* AVX512_BF16 on top of rope_x86_has_avx512(). */
ROPE_HIDDEN int rope_x86_has_avx512bf16(void);

#endif
