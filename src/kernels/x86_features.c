/* SPDX-License-Identifier: MIT */
/* CPUID + XGETBV feature tests (see x86_features.h for why this file has no ISA flags). */
#include "x86_features.h"

#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
#include <cpuid.h>
#include <stdatomic.h>

typedef struct x86_bits {
    unsigned l1_ecx, l7_ebx, l71_eax;
    unsigned long long xcr0;
} x86_bits;

/* A CPU may support an instruction set that the OS does not enable (it would not save the wider
 * registers on a context switch): XCR0 says which register states the OS manages. */
static unsigned long long read_xcr0(void) {
    unsigned eax, edx;
    __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
    return ((unsigned long long)edx << 32) | eax;
}

static x86_bits query(void) {
    x86_bits b = {0, 0, 0, 0};
    unsigned eax, ebx, ecx, edx;
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return b;
    b.l1_ecx = ecx;
    if (ecx & (1u << 27)) b.xcr0 = read_xcr0(); /* OSXSAVE: xgetbv is usable */
    if (__get_cpuid_max(0, 0) >= 7) {
        __cpuid_count(7, 0, eax, ebx, ecx, edx);
        b.l7_ebx = ebx;
        unsigned max_sub = eax;
        if (max_sub >= 1) {
            __cpuid_count(7, 1, eax, ebx, ecx, edx);
            b.l71_eax = eax;
        }
    }
    return b;
}

#define BIT(v, n) (((v) >> (n)) & 1u)

enum { HAS_AVX2 = 1, HAS_AVX512 = 2, HAS_AVX512BF16 = 4, KNOWN = 8 };

static int detect(void) {
    x86_bits b = query();
    int f = KNOWN;
    int avx_os = (b.xcr0 & 0x6u) == 0x6u;      /* xmm + ymm state */
    int zmm_os = (b.xcr0 & 0xe6u) == 0xe6u;    /* ... + opmask, upper zmm0-15, zmm16-31 */
    if (avx_os && BIT(b.l1_ecx, 28) && BIT(b.l1_ecx, 29) && BIT(b.l7_ebx, 5)) f |= HAS_AVX2; /* AVX F16C AVX2 */
    if ((f & HAS_AVX2) && zmm_os && BIT(b.l7_ebx, 16) && BIT(b.l7_ebx, 17) && BIT(b.l7_ebx, 30) &&
        BIT(b.l7_ebx, 31)) /* F DQ BW VL */
        f |= HAS_AVX512;
    if ((f & HAS_AVX512) && BIT(b.l71_eax, 5)) f |= HAS_AVX512BF16;
    return f;
}

/* CPUID is slow (and traps to the hypervisor in a virtual machine), and select() may ask on every
 * call: the answer is computed once. Racing first calls compute the same value. */
static int features(void) {
    static atomic_int cache;
    int f = atomic_load_explicit(&cache, memory_order_relaxed);
    if (!f) {
        f = detect();
        atomic_store_explicit(&cache, f, memory_order_relaxed);
    }
    return f;
}

int rope_x86_has_avx2(void) { return (features() & HAS_AVX2) != 0; }
int rope_x86_has_avx512(void) { return (features() & HAS_AVX512) != 0; }
int rope_x86_has_avx512bf16(void) { return (features() & HAS_AVX512BF16) != 0; }

#else
int rope_x86_has_avx2(void) { return 0; }
int rope_x86_has_avx512(void) { return 0; }
int rope_x86_has_avx512bf16(void) { return 0; }
#endif
