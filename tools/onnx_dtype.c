/* SPDX-License-Identifier: MIT */
#include "onnx_dtype.h"

static const char *const dtype_names[] = {
    "UNDEFINED", "FLOAT",  "UINT8",  "INT8",      "UINT16",     "INT16",    "INT32",
    "INT64",     "STRING", "BOOL",   "FLOAT16",   "DOUBLE",     "UINT32",   "UINT64",
    "COMPLEX64", "COMPLEX128", "BFLOAT16", "FLOAT8E4M3FN", "FLOAT8E4M3FNUZ", "FLOAT8E5M2", "FLOAT8E5M2FNUZ",
    "UINT4",     "INT4",   "FLOAT4E2M1"};

const char *onnx_dtype_name(int32_t code) {
    if (code < 0 || (size_t)code >= sizeof dtype_names / sizeof dtype_names[0]) return "unknown";
    return dtype_names[code];
}

rope_dtype onnx_dtype_to_rope(int32_t code) {
    switch (code) {
    case ONNX_FLOAT: return ROPE_F32;
    case ONNX_FLOAT16: return ROPE_F16;
    case ONNX_BFLOAT16: return ROPE_BF16;
    case ONNX_INT32: return ROPE_I32;
    case ONNX_UINT32: return ROPE_U32;
    case ONNX_INT64: return ROPE_I64;
    case ONNX_FLOAT8E4M3FN: return ROPE_FP8_E4M3; /* KV caches (vllm RotaryEmbeddingAndCache) */
    case ONNX_FLOAT8E5M2: return ROPE_FP8_E5M2;
    default: return ROPE_DTYPE_INVALID;
    }
}

int32_t onnx_dtype_from_rope(rope_dtype dtype) {
    switch (dtype) {
    case ROPE_F32: return ONNX_FLOAT;
    case ROPE_F16: return ONNX_FLOAT16;
    case ROPE_BF16: return ONNX_BFLOAT16;
    case ROPE_I32: return ONNX_INT32;
    case ROPE_U32: return ONNX_UINT32;
    case ROPE_I64: return ONNX_INT64;
    case ROPE_FP8_E4M3: return ONNX_FLOAT8E4M3FN;
    case ROPE_FP8_E5M2: return ONNX_FLOAT8E5M2;
    default: return ONNX_UNDEFINED;
    }
}
