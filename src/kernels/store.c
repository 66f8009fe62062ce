/* SPDX-License-Identifier: MIT */
/* The store piece of the KV-cache write: head vectors copied, or converted to fp8, into a cache.
 * Portable code for every instruction set: a copy keeps the bits, and the fp8 conversion is the one
 * scalar converter (core/fp8.h), so every set stores the same bytes. */
#include <string.h>

#include "../core/fp8.h"
#include "../core/internal.h"
#include "kernel.h"

static float widen(rope_dtype t, const void *p, size_t i) {
    switch (t) {
    case ROPE_F16: return rope_f16_to_f32_inline(((const uint16_t *)p)[i]);
    case ROPE_BF16: return rope_bf16_to_f32_inline(((const uint16_t *)p)[i]);
    case ROPE_F32: return ((const float *)p)[i];
    default: return 0.0f; /* not reached: the front end admits f32, f16 and bf16 only */
    }
}

void rope_store_heads(rope_dtype src_dtype, const void *src, ptrdiff_t src_head_stride, rope_dtype dst_dtype,
                      void *dst, ptrdiff_t dst_head_stride, size_t heads, size_t head_size, float scale) {
    size_t ses = rope_dtype_bytes(src_dtype), des = rope_dtype_bytes(dst_dtype);
    for (size_t h = 0; h < heads; h++) {
        const char *s = (const char *)src + (ptrdiff_t)h * src_head_stride * (ptrdiff_t)ses;
        char *d = (char *)dst + (ptrdiff_t)h * dst_head_stride * (ptrdiff_t)des;
        if (dst_dtype == src_dtype) {
            memcpy(d, s, head_size * ses);
            continue;
        }
        rope_fp8_format fmt = rope_fp8_format_of(dst_dtype == ROPE_FP8_E5M2);
        for (size_t i = 0; i < head_size; i++) ((uint8_t *)d)[i] = rope_fp8_convert(widen(src_dtype, s, i) / scale, &fmt);
    }
}
