/* SPDX-License-Identifier: MIT */
/*
 * ONNX TensorProto <-> dense rope_tensor.
 *
 * Reading accepts the payload in raw_data (little endian) or in the typed field ONNX assigns to
 * the data type: float_data (FLOAT), int32_data (INT32, and FLOAT16 / BFLOAT16 bit patterns),
 * int64_data (INT64), uint64_data (UINT32). The payload must hold exactly the elements the dims
 * imply. Writing always uses raw_data, as ONNX's own tools do for test data.
 */
#ifndef ROPE_TOOL_TENSOR_PROTO_H
#define ROPE_TOOL_TENSOR_PROTO_H

#include <stddef.h>

#include "diag.h"
#include "pb.h"
#include "pb_write.h"
#include "rope.h"

/* TensorProto field numbers. */
enum {
    TENSOR_DIMS = 1,
    TENSOR_DATA_TYPE = 2,
    TENSOR_SEGMENT = 3,
    TENSOR_FLOAT_DATA = 4,
    TENSOR_INT32_DATA = 5,
    TENSOR_STRING_DATA = 6,
    TENSOR_INT64_DATA = 7,
    TENSOR_NAME = 8,
    TENSOR_RAW_DATA = 9,
    TENSOR_DOUBLE_DATA = 10,
    TENSOR_UINT64_DATA = 11,
    TENSOR_EXTERNAL_DATA = 13,
    TENSOR_DATA_LOCATION = 14
};

extern const pb_field_name tensor_proto_fields[];

typedef struct tensor_proto {
    char *name;    /* "" when the message has none; never NULL after a successful read */
    rope_tensor t; /* dense; t.data is malloc'd and owned (non-NULL even with no elements) */
} tensor_proto;

/* Decodes the TensorProto message m. On failure *out is left empty. */
int tensor_proto_read(pb_msg *m, tensor_proto *out);
/* Decodes bytes holding one serialized TensorProto; `source` names them in messages. */
int tensor_proto_decode(const char *source, const uint8_t *data, size_t size, tensor_proto *out, diag *err);
/* Reads a .pb file holding one TensorProto. */
int tensor_proto_load(const char *path, tensor_proto *out, diag *err);
void tensor_proto_free(tensor_proto *tp);

/* Appends t (dense: row_stride 0) as a TensorProto with dims, data_type, name and raw_data. */
int tensor_proto_encode(const rope_tensor *t, const char *name, pb_buf *out, diag *err);
/* Writes t as a TensorProto file. */
int tensor_proto_save(const char *path, const rope_tensor *t, const char *name, diag *err);

/* Writes tensor k of `n` to DIR/leaves[k] (DIR made if needed) named names[k], printing
 * "wrote PATH (NAME DTYPE SHAPE)" for each. On failure prints "rope CMD: ..." to stderr and
 * returns 2; else 0. */
int tensor_files_save(const char *cmd, const char *dir, int n, const rope_tensor *const ts[],
                      const char *const leaves[], const char *const names[]);

#endif
