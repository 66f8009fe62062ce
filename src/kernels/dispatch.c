/* SPDX-License-Identifier: MIT */
/* The one registration point of instruction-set kernels. */
#include "kernel.h"

/* Best first: one entry per instruction set, each defined in its own kernel file and compiled only
 * where cmake/kernels.cmake builds that file (ROPE_HAVE_<ISA>). */
static const rope_kernel_set *const registry[] = {
#if defined(ROPE_HAVE_AVX512)
    &rope_kernels_avx512,
#endif
#if defined(ROPE_HAVE_AVX2)
    &rope_kernels_avx2,
#endif
#if defined(ROPE_HAVE_NEON)
    &rope_kernels_neon,
#endif
    &rope_kernels_scalar,
};

const rope_kernel_set *rope_kernels_for(rope_isa isa) {
    for (size_t i = 0; i < sizeof registry / sizeof registry[0]; i++)
        if (registry[i]->isa == isa) return registry[i];
    return NULL;
}

rope_isa rope_kernels_best(void) {
    for (size_t i = 0; i < sizeof registry / sizeof registry[0]; i++)
        if (registry[i]->cpu_has()) return registry[i]->isa;
    return ROPE_ISA_SCALAR;
}

rope_kernel_fn rope_kernels_select(const rope_kernel_set *set, const rope_kernel_shape *shape) {
    rope_kernel_fn fn = set ? set->select(shape) : NULL;
    return fn ? fn : rope_kernels_scalar.select(shape);
}

rope_kernel_norm_fn rope_kernels_select_norm(const rope_kernel_set *set, const rope_kernel_shape *shape) {
    rope_kernel_norm_fn fn = set && set->select_norm ? set->select_norm(shape) : NULL;
    return fn ? fn : rope_kernels_scalar.select_norm(shape);
}

rope_store_fn rope_kernels_store(const rope_kernel_set *set) {
    return set && set->store_heads ? set->store_heads : rope_store_heads_portable;
}
