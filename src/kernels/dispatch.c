/* SPDX-License-Identifier: MIT */
/* The one registration point of instruction-set kernels, and the kernels by name. */
#include <string.h>

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
    return set && set->store_heads ? set->store_heads : rope_kernel_store__scalar;
}

/* The layout part of rope_kernel_serves: does path `k` walk the shape's pairs? */
static int path_serves(const rope_kernel_info *k, const rope_kernel_shape *sh) {
    switch (k->path) {
    case ROPE_PATH_ANY: return 1;
    case ROPE_PATH_BLOCKED: return !sh->split;
    case ROPE_PATH_PAIRS: return !sh->split && sh->pair_stride == k->pair_stride;
    case ROPE_PATH_SPLIT: return sh->split != 0;
    }
    return 0; /* not a path: serves nothing */
}

int rope_kernel_serves(const rope_kernel_info *k, const rope_kernel_shape *sh) {
    switch (k->kind) {
    case ROPE_KERNEL_STORE: return 1;
    case ROPE_KERNEL_NORM:
        if (sh->cos_full || sh->split || sh->lead) return 0;
        return k->x_dtype == sh->x_dtype && k->cs_dtype == sh->cs_dtype && path_serves(k, sh);
    case ROPE_KERNEL_ROT:
        if ((sh->cos_full != 0) != (k->cos_full != 0)) return 0;
        return k->x_dtype == sh->x_dtype && k->cs_dtype == sh->cs_dtype && path_serves(k, sh);
    }
    return 0; /* not a kind: serves nothing */
}

const rope_kernel_info *rope_kernel_named(const char *name) {
    for (size_t s = 0; s < sizeof registry / sizeof registry[0]; s++)
        for (size_t i = 0;; i++) {
            const rope_kernel_info *k = registry[s]->kernel_at(i);
            if (!k) break;
            if (strcmp(k->name, name) == 0) return k;
        }
    return NULL;
}
