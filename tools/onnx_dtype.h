/* SPDX-License-Identifier: MIT */
/* ONNX TensorProto.DataType codes and their mapping onto rope_dtype. */
#ifndef ROPE_TOOL_ONNX_DTYPE_H
#define ROPE_TOOL_ONNX_DTYPE_H

#include <stdint.h>

#include "rope.h"

enum {
    ONNX_UNDEFINED = 0,
    ONNX_FLOAT = 1,
    ONNX_UINT8 = 2,
    ONNX_INT8 = 3,
    ONNX_UINT16 = 4,
    ONNX_INT16 = 5,
    ONNX_INT32 = 6,
    ONNX_INT64 = 7,
    ONNX_STRING = 8,
    ONNX_BOOL = 9,
    ONNX_FLOAT16 = 10,
    ONNX_DOUBLE = 11,
    ONNX_UINT32 = 12,
    ONNX_UINT64 = 13,
    ONNX_BFLOAT16 = 16,
    ONNX_FLOAT8E4M3FN = 17,
    ONNX_FLOAT8E5M2 = 19
};

/* "FLOAT", "BFLOAT16", ... or "unknown". */
const char *onnx_dtype_name(int32_t code);
/* The rope dtype holding this ONNX type, or ROPE_DTYPE_INVALID when librope has none. */
rope_dtype onnx_dtype_to_rope(int32_t code);
/* The ONNX code of a rope dtype (ONNX_UNDEFINED for an invalid one). */
int32_t onnx_dtype_from_rope(rope_dtype dtype);

#endif
