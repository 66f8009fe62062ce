/* SPDX-License-Identifier: MIT */
/* A tiny protobuf encoder for the tests, written independently of tools/pb_write.c so that the
 * decoder is checked against bytes the tool's own writer did not produce. Aborts when out of memory. */
#ifndef ROPE_TEST_PB_BUILDER_H
#define ROPE_TEST_PB_BUILDER_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

typedef struct msg {
    uint8_t *b;
    size_t n, cap;
} msg;

static inline void msg_raw(msg *m, const void *p, size_t len) {
    if (m->n + len > m->cap) {
        size_t cap = m->cap ? m->cap : 64;
        while (cap < m->n + len) cap *= 2;
        uint8_t *nb = realloc(m->b, cap);
        if (!nb) {
            fprintf(stderr, "pb_builder: out of memory\n");
            abort();
        }
        m->b = nb;
        m->cap = cap;
    }
    if (len) memcpy(m->b + m->n, p, len);
    m->n += len;
}

static inline void msg_byte(msg *m, uint8_t v) { msg_raw(m, &v, 1); }

static inline void msg_varint(msg *m, uint64_t v) {
    while (v >= 0x80) {
        msg_byte(m, (uint8_t)(v | 0x80));
        v >>= 7;
    }
    msg_byte(m, (uint8_t)v);
}

static inline void msg_tag(msg *m, uint32_t field, unsigned wire) { msg_varint(m, (uint64_t)field << 3 | wire); }

static inline void msg_int(msg *m, uint32_t field, uint64_t v) {
    msg_tag(m, field, 0);
    msg_varint(m, v);
}

static inline void msg_le(msg *m, uint64_t v, unsigned bytes) {
    for (unsigned i = 0; i < bytes; i++) msg_byte(m, (uint8_t)(v >> (8 * i)));
}

static inline void msg_fixed32(msg *m, uint32_t field, uint32_t v) {
    msg_tag(m, field, 5);
    msg_le(m, v, 4);
}

static inline void msg_fixed64(msg *m, uint32_t field, uint64_t v) {
    msg_tag(m, field, 1);
    msg_le(m, v, 8);
}

static inline void msg_float(msg *m, uint32_t field, float f) {
    uint32_t bits;
    memcpy(&bits, &f, 4);
    msg_fixed32(m, field, bits);
}

static inline void msg_bytes(msg *m, uint32_t field, const void *p, size_t len) {
    msg_tag(m, field, 2);
    msg_varint(m, len);
    msg_raw(m, p, len);
}

static inline void msg_str(msg *m, uint32_t field, const char *s) { msg_bytes(m, field, s, strlen(s)); }

/* Embeds `sub` as field `field` and frees it. */
static inline void msg_sub(msg *m, uint32_t field, msg *sub) {
    msg_bytes(m, field, sub->b, sub->n);
    free(sub->b);
    memset(sub, 0, sizeof *sub);
}

static inline void msg_free(msg *m) {
    free(m->b);
    memset(m, 0, sizeof *m);
}

/* A copy of the first `len` bytes in its own allocation, so ASan sees any read past `len`. */
static inline uint8_t *msg_prefix_copy(const msg *m, size_t len) {
    uint8_t *p = tu_xmalloc(len);
    if (len) memcpy(p, m->b, len);
    return p;
}

#endif
