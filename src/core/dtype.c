/* SPDX-License-Identifier: MIT */
#include "internal.h"

size_t rope_dtype_size(rope_dtype dtype) { return rope_dtype_bytes(dtype); }

const char *rope_dtype_name(rope_dtype dtype) {
    switch (dtype) {
    case ROPE_F32: return "f32";
    case ROPE_F16: return "f16";
    case ROPE_BF16: return "bf16";
    case ROPE_I32: return "i32";
    case ROPE_U32: return "u32";
    case ROPE_I64: return "i64";
    case ROPE_F64: return "f64";
    case ROPE_FP8_E4M3: return "fp8_e4m3";
    case ROPE_FP8_E5M2: return "fp8_e5m2";
    case ROPE_DTYPE_INVALID: break;
    }
    return "invalid";
}

int64_t rope_tensor_numel(const rope_tensor *t) {
    if (!t || t->rank < 0 || t->rank > ROPE_MAX_RANK) return -1;
    int64_t n = 1;
    for (int i = 0; i < t->rank; i++) {
        int64_t d = t->dims[i];
        if (d < 0) return -1;
        if (d != 0 && n > INT64_MAX / d) return -1;
        n *= d;
    }
    return n;
}
