/* SPDX-License-Identifier: MIT */
/* The store piece built with AVX2 (cmake/kernels.cmake gives this file the flags; store_body.h), with
 * 32-byte streaming stores for the cache when the caller asks. */
#include <immintrin.h>

#define ROPE_STORE_STREAM_BYTES 32
#define ROPE_STORE_STREAM_VECTOR(d, s)                                                                                 \
    _mm256_stream_si256((__m256i *)(void *)(d), _mm256_loadu_si256((const __m256i *)(const void *)(s)))
#define ROPE_STORE_NAME rope_kernel_store__avx2
#include "store_body.h"
