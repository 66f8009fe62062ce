/* SPDX-License-Identifier: MIT */
/*
 * A protobuf wire-format decoder for files read whole into memory.
 *
 * Every read is bounds-checked against the message being read (which never extends past its
 * parent or the file), so truncated or hostile input yields an error and never an out-of-bounds
 * read. Errors read like
 *   "model.onnx: graph.node[0].attribute[1]: length 4000 runs past the end (offset 120 of 130)"
 * because each message knows its path; the path grows from the field names the caller supplies.
 *
 * Functions returning int give 0 (or 1 where noted) on success and -1 on failure, with the
 * message in the source's diag.
 */
#ifndef ROPE_TOOL_PB_H
#define ROPE_TOOL_PB_H

#include <stddef.h>
#include <stdint.h>

#include "diag.h"

/* Deep enough for ModelProto > GraphProto > NodeProto > AttributeProto > TensorProto with room to
 * spare; anything deeper is hostile or not ONNX. */
#define PB_MAX_DEPTH 32
/* Repeated fields numbered below this are counted so that their paths read "node[3]". */
#define PB_COUNTED_FIELDS 32
#define PB_PATH_MAX 192

typedef enum pb_wire {
    PB_VARINT = 0,
    PB_FIXED64 = 1,
    PB_LEN = 2,
    PB_FIXED32 = 5
} pb_wire;

/* The bytes being decoded. `name` prefixes every message (usually the file name). */
typedef struct pb_source {
    const char *name;
    const uint8_t *data;
    size_t size;
    diag *err;
} pb_source;

/* How a message's fields are called, for paths. A table ends with a {0, NULL, 0} entry. */
typedef struct pb_field_name {
    uint32_t number;
    const char *name;
    int repeated;
} pb_field_name;

/* One message being decoded: bytes [begin, end) of the source, read from `pos` on. */
typedef struct pb_msg {
    const pb_source *src;
    const pb_field_name *names;
    size_t begin, end, pos;
    int depth;
    uint32_t seen[PB_COUNTED_FIELDS];
    char path[PB_PATH_MAX];
} pb_msg;

/* One field as it appears on the wire. */
typedef struct pb_field {
    uint32_t number;
    pb_wire wire;
    uint64_t value;   /* PB_VARINT, PB_FIXED32, PB_FIXED64: the raw value */
    size_t offset;    /* where the value starts in the source (PB_LEN: its first data byte) */
    size_t length;    /* PB_LEN: the number of data bytes */
    uint32_t index;   /* how many fields with this number came earlier in the message */
    char path[PB_PATH_MAX];
} pb_field;

/* The whole source as a top-level message whose path is `path` ("" for none). */
void pb_open(pb_msg *m, const pb_source *src, const char *path, const pb_field_name *names);

/* Reads the next field. Returns 1 with *f filled, 0 at the end of the message, -1 on malformed
 * input (a truncated tag or value, a length past the end, a bad wire type or field number). */
int pb_next(pb_msg *m, pb_field *f);

/* Opens the embedded message held by `f` (which must be PB_LEN), one level deeper. */
int pb_enter(const pb_msg *parent, const pb_field *f, const pb_field_name *names, pb_msg *child);

/* Fails unless f has wire type `wire`. */
int pb_expect_wire(const pb_msg *m, const pb_field *f, pb_wire wire);

/* Reports a failure about field f (or, with f NULL, about the message m) found at `offset`. */
int pb_fail(const pb_msg *m, const pb_field *f, size_t offset, const char *fmt, ...) DIAG_PRINTF(4, 5);

/* The data bytes of a PB_LEN field (inside the source, not copied). */
const uint8_t *pb_bytes(const pb_msg *m, const pb_field *f);

/* A NUL-terminated malloc'd copy of a string field into *out, which must be NULL or an earlier
 * copy (freed: a singular field seen twice keeps its last value). An embedded NUL is an error. */
int pb_string(const pb_msg *m, const pb_field *f, char **out);

/* The value of a single varint / fixed field as a specific type, failing on the wrong wire type or
 * a value that does not fit ("int32 field holds 4294967296"). */
int pb_int64(const pb_msg *m, const pb_field *f, int64_t *out);
int pb_int32(const pb_msg *m, const pb_field *f, int32_t *out);
int pb_float(const pb_msg *m, const pb_field *f, float *out);

/* Repeated scalar fields accept both encodings: one value per field (unpacked) or a PB_LEN field
 * holding the values back to back (packed). Kinds say how one value is encoded. */
typedef enum pb_scalar_kind {
    PB_SCALAR_VARINT,
    PB_SCALAR_FIXED32,
    PB_SCALAR_FIXED64
} pb_scalar_kind;

typedef struct pb_scalars {
    const pb_msg *m;
    const pb_field *f;
    pb_scalar_kind kind;
    size_t pos, end;
    int single_pending; /* unpacked: the one value not yet returned */
} pb_scalars;

/* Starts iterating the values of one occurrence of a repeated scalar field. */
int pb_scalars_begin(pb_scalars *it, const pb_msg *m, const pb_field *f, pb_scalar_kind kind);
/* Returns 1 with the next raw value, 0 when done, -1 on a truncated value. */
int pb_scalars_next(pb_scalars *it, uint64_t *value);
/* The number of values in one occurrence, validating all of them. */
int pb_scalars_count(const pb_msg *m, const pb_field *f, pb_scalar_kind kind, size_t *count);

/* Decodes a varint from data[*pos, end); advances *pos. 0 on success, -1 when truncated or longer
 * than 64 bits. Exposed for tests and for packed payloads. */
int pb_read_varint(const uint8_t *data, size_t *pos, size_t end, uint64_t *value);

#endif
