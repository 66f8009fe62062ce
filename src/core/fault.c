/* SPDX-License-Identifier: MIT */
/* Fault injection (see alloc.h): compiled only into ROPE_FAULT_INJECTION test builds. */
#include "alloc.h"

#ifdef ROPE_FAULT_INJECTION
#include <errno.h>
#include <stdatomic.h>

static atomic_long allocs, threads, alloc_fail_at, thread_fail_at, failed_allocs, failed_threads;

void rope_fault_arm(long alloc_at, long thread_at) {
    atomic_store(&allocs, 0);
    atomic_store(&threads, 0);
    atomic_store(&alloc_fail_at, alloc_at);
    atomic_store(&thread_fail_at, thread_at);
}

void rope_fault_counts(long *a, long *t, long *fa, long *ft) {
    *a = atomic_load(&allocs);
    *t = atomic_load(&threads);
    *fa = atomic_load(&failed_allocs);
    *ft = atomic_load(&failed_threads);
}

/* 1 when this attempt (counted in `count`) is the one armed to fail. */
static int fails(atomic_long *count, atomic_long *at, atomic_long *failed) {
    long n = atomic_fetch_add(count, 1) + 1;
    if (n != atomic_load(at)) return 0;
    atomic_fetch_add(failed, 1);
    return 1;
}

void *rope_malloc(size_t size) {
    return fails(&allocs, &alloc_fail_at, &failed_allocs) ? NULL : malloc(size);
}

void *rope_calloc(size_t n, size_t size) {
    return fails(&allocs, &alloc_fail_at, &failed_allocs) ? NULL : calloc(n, size);
}

void *rope_aligned_alloc(size_t align, size_t size) {
    return fails(&allocs, &alloc_fail_at, &failed_allocs) ? NULL : aligned_alloc(align, size);
}

int rope_thread_create(pthread_t *thread, void *(*fn)(void *), void *arg) {
    return fails(&threads, &thread_fail_at, &failed_threads) ? EAGAIN : pthread_create(thread, NULL, fn, arg);
}
#else
typedef int rope_fault_injection_disabled; /* ISO C wants a declaration in every translation unit */
#endif
