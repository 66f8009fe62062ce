/* SPDX-License-Identifier: MIT */
/* The library's one door to the heap and to new threads. Normal builds compile these to malloc,
 * calloc, aligned_alloc, free and pthread_create (inline: zero cost). A fault-injection build
 * (CMake ROPE_FAULT_INJECTION, tests/core/test_fault_injection.c) counts every allocation and thread
 * start and can make the n-th one fail, as SQLite's malloc tests do, to prove that each failure
 * becomes ROPE_ERROR_OUT_OF_MEMORY (or fewer threads where rope.h says so) with nothing written
 * and nothing leaked. */
#ifndef ROPE_ALLOC_H
#define ROPE_ALLOC_H

#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>

#include "internal.h"

#ifdef ROPE_FAULT_INJECTION
void *rope_malloc(size_t size);
void *rope_calloc(size_t n, size_t size);
void *rope_aligned_alloc(size_t align, size_t size);
int rope_thread_create(pthread_t *thread, void *(*fn)(void *), void *arg);

/* Test controls (fault-injection builds only). From now on, the alloc_at-th allocation and the
 * thread_at-th thread start (1-based) fail, once each; 0 fails none. The counts restart at 0. */
void rope_fault_arm(long alloc_at, long thread_at);
/* Allocations and thread starts attempted since the last rope_fault_arm, and failures injected in
 * the whole run. */
void rope_fault_counts(long *allocs, long *threads, long *failed_allocs, long *failed_threads);
#else
static inline void *rope_malloc(size_t size) { return malloc(size); }
static inline void *rope_calloc(size_t n, size_t size) { return calloc(n, size); }
static inline void *rope_aligned_alloc(size_t align, size_t size) { return aligned_alloc(align, size); }
static inline int rope_thread_create(pthread_t *thread, void *(*fn)(void *), void *arg) {
    return pthread_create(thread, NULL, fn, arg);
}
#endif

static inline void rope_free(void *p) { free(p); }

#endif
