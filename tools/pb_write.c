/* SPDX-License-Identifier: MIT */
#include "pb_write.h"

#include <stdlib.h>
#include <string.h>

void pb_buf_free(pb_buf *b) {
    free(b->data);
    memset(b, 0, sizeof *b);
}

static int reserve(pb_buf *b, size_t n) {
    if (b->failed) return -1;
    if (n <= b->cap - b->len) return 0;
    if (n > SIZE_MAX / 2 - b->len) {
        b->failed = 1;
        return -1;
    }
    size_t cap = b->cap ? b->cap : 64;
    while (cap - b->len < n) cap *= 2;
    uint8_t *p = realloc(b->data, cap);
    if (!p) {
        b->failed = 1;
        return -1;
    }
    b->data = p;
    b->cap = cap;
    return 0;
}

void pb_put_raw(pb_buf *b, const void *bytes, size_t n) {
    if (n == 0 || reserve(b, n)) return;
    memcpy(b->data + b->len, bytes, n);
    b->len += n;
}

void pb_put_varint(pb_buf *b, uint64_t value) {
    uint8_t tmp[10];
    size_t n = 0;
    do {
        uint8_t byte = (uint8_t)(value & 0x7f);
        value >>= 7;
        tmp[n++] = (uint8_t)(byte | (value ? 0x80 : 0));
    } while (value);
    pb_put_raw(b, tmp, n);
}

void pb_put_tag(pb_buf *b, uint32_t number, pb_wire wire) { pb_put_varint(b, ((uint64_t)number << 3) | wire); }

void pb_put_varint_field(pb_buf *b, uint32_t number, uint64_t value) {
    pb_put_tag(b, number, PB_VARINT);
    pb_put_varint(b, value);
}

void pb_put_bytes_field(pb_buf *b, uint32_t number, const void *bytes, size_t n) {
    pb_put_tag(b, number, PB_LEN);
    pb_put_varint(b, n);
    pb_put_raw(b, bytes, n);
}
