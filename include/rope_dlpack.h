/* SPDX-License-Identifier: MIT */
/*
 * librope's DLPack entry: a DLTensor (the tensor exchange struct of PyTorch, NumPy, JAX, TVM, ...)
 * described as a rope_tensor, so C/C++ frameworks hand their tensors to the operators of rope.h
 * without copying them.
 *
 * This header needs DLPack's own header (<dlpack/dlpack.h>, Debian's libdlpack-dev, DLPack 0.6 or
 * later) at build time only; the library is built with this function when that header is found (the
 * build defines nothing else, and the library keeps depending on libc, libm and pthreads only).
 */
#ifndef ROPE_DLPACK_H
#define ROPE_DLPACK_H

#include <dlpack/dlpack.h>

#include "rope.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Describes `src` as a rope_tensor, without copying: data = src->data + src->byte_offset, the same
 * rank and dims, dtype from (code, bits) and row_stride from the strides.
 *   name:     the argument's name, used in error messages ("query"); NULL reads "tensor".
 *   row_rank: how many trailing dimensions form one row of the operator (rope.h, rope_tensor): 1 for
 *             most tensors, 2 for a 4-D ATB query/key [batch, seq, heads, head_size]; a value at or
 *             above src->ndim asks for a dense tensor (cos/sin caches, position ids, seqlen).
 * The row's dimensions must be contiguous (stride 1 for the last, each other the product of the dims
 * after it) and the dimensions before them must step through the rows by one common row stride (as
 * a dense tensor of rows would, with any row stride >= the row length): what torch.split or slicing
 * the last dimension of a fused QKV tensor gives. Dimensions of size 1 may have any stride; a tensor
 * with no elements takes any strides. NULL strides mean dense (DLPack's compact layout).
 * On success *out is set (row_stride 0 when the rows are dense). The data pointer is not checked:
 * the operators report a NULL data pointer themselves.
 * Types: float32, float16, bfloat16, float64, int32, uint32, int64, and DLPack 1.1's float8 codes
 * kDLFloat8_e4m3fn (10) and kDLFloat8_e5m2 (12) with 8 bits as ROPE_FP8_E4M3 / ROPE_FP8_E5M2 (what
 * torch.float8_e4m3fn / float8_e5m2 export; the operators take them for KV caches only).
 * Errors: NULL_ARGUMENT (src or out NULL), UNSUPPORTED (device not kDLCPU), RANK (ndim outside
 * 0..ROPE_MAX_RANK, shape NULL with ndim > 0), DTYPE (lanes != 1, or a type other than those),
 * SHAPE (a negative dim), ATTRIBUTE (row_rank < 1),
 * STRIDE (a row not contiguous, leading dims not stepping by one row stride, a negative stride or a
 * row stride below the row length: what the library cannot address). *out is unchanged on failure.
 * Thread-safe.
 */
ROPE_API rope_status rope_tensor_from_dlpack(const DLTensor *src, const char *name, int row_rank, rope_tensor *out);

#ifdef __cplusplus
}
#endif

#endif /* ROPE_DLPACK_H */
