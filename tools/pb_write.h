/* SPDX-License-Identifier: MIT */
/* A protobuf wire-format encoder into a growing memory buffer. */
#ifndef ROPE_TOOL_PB_WRITE_H
#define ROPE_TOOL_PB_WRITE_H

#include <stddef.h>
#include <stdint.h>

#include "pb.h"

/* Starts zeroed ({0}). A failed allocation sets `failed` and makes later writes no-ops, so a
 * writer checks once at the end. */
typedef struct pb_buf {
    uint8_t *data;
    size_t len, cap;
    int failed;
} pb_buf;

void pb_buf_free(pb_buf *b);

void pb_put_raw(pb_buf *b, const void *bytes, size_t n);
void pb_put_varint(pb_buf *b, uint64_t value);
void pb_put_tag(pb_buf *b, uint32_t number, pb_wire wire);
/* A whole field: tag then value. */
void pb_put_varint_field(pb_buf *b, uint32_t number, uint64_t value);
void pb_put_bytes_field(pb_buf *b, uint32_t number, const void *bytes, size_t n);

#endif
