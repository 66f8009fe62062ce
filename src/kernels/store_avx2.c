/* SPDX-License-Identifier: MIT */
/* The store piece built with AVX2 (cmake/kernels.cmake gives this file the flags; store_body.h), with
 * streaming stores for the cache when the caller asks (store_avx512.c's copy with 32-byte vectors). */
#include <immintrin.h>
#include <stdint.h>
#include <string.h>

static void copy_stream_avx2(void *dst, const void *src, size_t bytes) {
    char *d = (char *)dst;
    const char *s = (const char *)src;
    size_t head = (32 - ((uintptr_t)d & 31)) & 31;
    if (head > bytes) head = bytes;
    memcpy(d, s, head);
    size_t i = head;
    for (; i + 32 <= bytes; i += 32)
        _mm256_stream_si256((__m256i *)(void *)(d + i), _mm256_loadu_si256((const __m256i *)(const void *)(s + i)));
    memcpy(d + i, s + i, bytes - i);
}

#define ROPE_STORE_COPY_STREAM(dst, src, bytes) copy_stream_avx2(dst, src, bytes)
#define ROPE_STORE_NAME rope_store_heads_avx2
#include "store_body.h"
