/* SPDX-License-Identifier: MIT */
/*
 * The descriptors of a call whose descriptor checks passed, remembered per thread, so that the next
 * call with the same descriptors skips those checks (a decode step repeats its shapes every step,
 * and their checks were a third of its overhead; docs/PERFORMANCE.md, "Batched decode and the single
 * call"). A key holds everything the descriptor checks read: the public function, the attribute
 * bytes and each tensor argument's presence, dtype, rank, dims and row_stride, but never a data
 * pointer. So a hit stands for checks that would pass again; everything that reads data (NULL data,
 * aliasing, positions) is checked on every call. Bytes compared raw: a struct's padding that differs
 * between calls only costs a miss (the full checks), never a wrong answer.
 */
#ifndef ROPE_MEMO_H
#define ROPE_MEMO_H

#include <stddef.h>
#include <string.h>

#include "internal.h"

enum { ROPE_MEMO_BYTES = 768 };

typedef struct rope_memo_key {
    size_t len;
    int full; /* more bytes than fit: such a key never matches (the call is not remembered) */
    unsigned char bytes[ROPE_MEMO_BYTES];
} rope_memo_key;

static inline void rope_memo_start(rope_memo_key *k, const char *where) {
    k->len = 0;
    k->full = 0;
    memcpy(k->bytes, &where, sizeof where);
    k->len = sizeof where;
}

static inline void rope_memo_add(rope_memo_key *k, const void *p, size_t n) {
    if (k->full || n > ROPE_MEMO_BYTES - k->len) {
        k->full = 1;
        return;
    }
    memcpy(k->bytes + k->len, p, n);
    k->len += n;
}

/* A tensor argument: absent (NULL), or everything but its data pointer. */
static inline void rope_memo_add_tensor(rope_memo_key *k, const rope_tensor *t) {
    unsigned char present = t != NULL;
    rope_memo_add(k, &present, 1);
    if (t) rope_memo_add(k, &t->dtype, sizeof *t - offsetof(rope_tensor, dtype));
}

/* 1 when `k` is the key `memo` holds (a full key never is). */
static inline int rope_memo_same(const rope_memo_key *k, const rope_memo_key *memo) {
    return !k->full && k->len == memo->len && memcmp(k->bytes, memo->bytes, k->len) == 0;
}

/* data is the last member before the described fields: nothing of them is left out of a key. */
_Static_assert(offsetof(rope_tensor, data) == 0 && offsetof(rope_tensor, dtype) == sizeof(void *),
               "rope_tensor: the data pointer first, the descriptor after it");

#endif
