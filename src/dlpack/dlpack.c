/* SPDX-License-Identifier: MIT */
/* rope_tensor_from_dlpack: a DLTensor described as a rope_tensor (rope_dlpack.h). Compiled only where
 * <dlpack/dlpack.h> is found; it reads the structs and calls nothing of DLPack's. */
#include "rope_dlpack.h"

#include "../core/internal.h"

static const char *const fn = "rope_tensor_from_dlpack";

/* DLPack 1.1's float8 type codes, kDLFloat8_e4m3fn and kDLFloat8_e5m2 (torch's float8_e4m3fn and
 * float8_e5m2 export as them), by value: DLPack's codes are its ABI, and a header before 1.1 (Debian's
 * is 0.6) has no names for them. Where the header names them, they must agree. */
enum { DL_FLOAT8_E4M3FN = 10, DL_FLOAT8_E5M2 = 12 };
#if defined(DLPACK_MAJOR_VERSION) && (DLPACK_MAJOR_VERSION > 1 || (DLPACK_MAJOR_VERSION == 1 && DLPACK_MINOR_VERSION >= 1))
_Static_assert((int)kDLFloat8_e4m3fn == (int)DL_FLOAT8_E4M3FN && (int)kDLFloat8_e5m2 == (int)DL_FLOAT8_E5M2,
               "DLPack's float8 codes");
#endif

static rope_dtype dtype_of(DLDataType t) {
    if (t.lanes != 1) return ROPE_DTYPE_INVALID;
    switch (t.code) {
    case kDLFloat: return t.bits == 32 ? ROPE_F32 : t.bits == 16 ? ROPE_F16 : t.bits == 64 ? ROPE_F64 : ROPE_DTYPE_INVALID;
    case kDLBfloat: return t.bits == 16 ? ROPE_BF16 : ROPE_DTYPE_INVALID;
    case kDLInt: return t.bits == 32 ? ROPE_I32 : t.bits == 64 ? ROPE_I64 : ROPE_DTYPE_INVALID;
    case kDLUInt: return t.bits == 32 ? ROPE_U32 : ROPE_DTYPE_INVALID;
    case DL_FLOAT8_E4M3FN: return t.bits == 8 ? ROPE_FP8_E4M3 : ROPE_DTYPE_INVALID;
    case DL_FLOAT8_E5M2: return t.bits == 8 ? ROPE_FP8_E5M2 : ROPE_DTYPE_INVALID;
    default: return ROPE_DTYPE_INVALID;
    }
}

static const char *code_name(unsigned code) {
    switch (code) {
    case kDLInt: return "int";
    case kDLUInt: return "uint";
    case kDLFloat: return "float";
    case kDLBfloat: return "bfloat";
    case kDLComplex: return "complex";
    case DL_FLOAT8_E4M3FN: return "float8_e4m3fn ";
    case DL_FLOAT8_E5M2: return "float8_e5m2 ";
    default: return "code";
    }
}

/* The row stride (elements) of src's layout, or a STRIDE failure naming the dimension. */
static rope_status row_stride_of(const DLTensor *src, const char *name, int row_rank, int64_t *row_stride) {
    const int nd = src->ndim;
    const int first_row_dim = row_rank >= nd ? 0 : nd - row_rank;
    int64_t expected = 1;
    for (int i = nd - 1; i >= first_row_dim; i--) {
        if (src->shape[i] != 1 && src->strides[i] != expected)
            return rope_fail(ROPE_ERROR_STRIDE, fn,
                             "%s dim %d: stride %lld, expected %lld (the dims of a row must be contiguous)", name, i,
                             (long long)src->strides[i], (long long)expected);
        expected *= src->shape[i];
    }
    const int64_t row_len = expected;
    int64_t step = -1; /* the row stride, once a leading dim of size > 1 gives it */
    for (int i = first_row_dim - 1; i >= 0; i--) {
        if (src->shape[i] == 1) continue;
        if (step < 0) {
            step = src->strides[i];
            if (step < row_len)
                return rope_fail(ROPE_ERROR_STRIDE, fn,
                                 "%s dim %d: stride %lld, expected at least the row length %lld (rows must not "
                                 "overlap or run backwards)", name, i, (long long)step, (long long)row_len);
            expected = step;
        } else if (src->strides[i] != expected) {
            return rope_fail(ROPE_ERROR_STRIDE, fn,
                             "%s dim %d: stride %lld, expected %lld (the rows must be evenly spaced: row stride "
                             "%lld)", name, i, (long long)src->strides[i], (long long)expected, (long long)step);
        }
        expected *= src->shape[i];
    }
    *row_stride = step < 0 || step == row_len ? 0 : step;
    return ROPE_OK;
}

rope_status rope_tensor_from_dlpack(const DLTensor *src, const char *name, int row_rank, rope_tensor *out) {
    if (!name) name = "tensor";
    if (!src || !out) return rope_fail(ROPE_ERROR_NULL_ARGUMENT, fn, "%s is NULL", src ? "out" : name);
    if (src->device.device_type != kDLCPU)
        return rope_fail(ROPE_ERROR_UNSUPPORTED, fn,
                         "%s: device type %d, expected kDLCPU (%d): librope runs on the CPU", name,
                         (int)src->device.device_type, (int)kDLCPU);
    if (src->ndim < 0 || src->ndim > ROPE_MAX_RANK || (src->ndim > 0 && !src->shape))
        return rope_fail(ROPE_ERROR_RANK, fn, "%s: ndim %d%s, expected 0..%d", name, (int)src->ndim,
                         src->shape ? "" : " with a NULL shape", ROPE_MAX_RANK);
    const rope_dtype dtype = dtype_of(src->dtype);
    if (dtype == ROPE_DTYPE_INVALID)
        return rope_fail(ROPE_ERROR_DTYPE, fn,
                         "%s: dtype %s%u x%u, expected float32, float16, bfloat16, float64, float8_e4m3fn, "
                         "float8_e5m2, int32, uint32 or int64", name,
                         code_name(src->dtype.code), (unsigned)src->dtype.bits, (unsigned)src->dtype.lanes);
    if (row_rank < 1) return rope_fail(ROPE_ERROR_ATTRIBUTE, fn, "%s: row_rank %d, expected >= 1", name, row_rank);
    int zero = 0;
    for (int i = 0; i < src->ndim; i++) {
        if (src->shape[i] < 0)
            return rope_fail(ROPE_ERROR_SHAPE, fn, "%s dim %d: %lld, expected >= 0", name, i, (long long)src->shape[i]);
        zero |= src->shape[i] == 0;
    }
    int64_t row_stride = 0;
    if (src->strides && !zero) {
        rope_status st = row_stride_of(src, name, row_rank, &row_stride);
        if (st != ROPE_OK) return st;
    }
    rope_tensor t = {0};
    t.data = src->data ? (void *)((char *)src->data + src->byte_offset) : NULL;
    t.dtype = dtype;
    t.rank = src->ndim;
    for (int i = 0; i < src->ndim; i++) t.dims[i] = src->shape[i];
    t.row_stride = row_stride;
    *out = t;
    return ROPE_OK;
}
