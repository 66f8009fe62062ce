/* SPDX-License-Identifier: MIT */
/* Buffers between two inaccessible pages: a kernel that reads or writes one element before or after
 * a buffer faults, and the crash fails the test. A region is mapped once and reused: a buffer is
 * placed either flush against the guard after it or flush against the guard before it.
 * Needs _DEFAULT_SOURCE (MAP_ANONYMOUS) defined before the first system header. */
#ifndef ROPE_TEST_GUARD_H
#define ROPE_TEST_GUARD_H

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

typedef struct tg_region {
    unsigned char *base; /* first usable byte (just after the leading guard page) */
    size_t size;         /* usable bytes, a multiple of the page size */
} tg_region;

static inline tg_region tg_map(size_t bytes) {
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size_t usable = (bytes + page - 1) / page * page;
    unsigned char *m = mmap(NULL, usable + 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED || mprotect(m, page, PROT_NONE) != 0 || mprotect(m + page + usable, page, PROT_NONE) != 0) {
        perror("guard pages");
        exit(1);
    }
    tg_region r = {m + page, usable};
    return r;
}

/* `bytes` bytes ending exactly at the trailing guard (at_end) or starting at the leading one. */
static inline void *tg_place(const tg_region *r, size_t bytes, int at_end) {
    if (bytes > r->size) {
        fprintf(stderr, "guard region of %zu bytes too small for %zu\n", r->size, bytes);
        exit(1);
    }
    return at_end ? r->base + r->size - bytes : r->base;
}

#endif
