/* SPDX-License-Identifier: MIT */
/* The store piece of the KV-cache write, written once and built per instruction set (store.c for
 * the portable build, store_avx2.c and store_avx512.c with their flags, so that the compiler's
 * vectorisation of these plain loops uses the wider vectors): head vectors copied, or converted to
 * fp8. Every operation is exact or one IEEE operation (the division), and the conversion is
 * core/fp8.h's, so every build stores the same bytes. Include once per file, after defining
 * ROPE_STORE_NAME (the function's name). A build that has streaming stores defines
 * ROPE_STORE_STREAM_BYTES and ROPE_STORE_STREAM_VECTOR(dst, src) (that many bytes from src written
 * to dst, aligned to them, by a streaming store), and its ROPE_STORE_CONVERT_VECTORS takes the hint
 * too. */
#ifndef ROPE_STORE_BODY_H
#define ROPE_STORE_BODY_H

#include <string.h>

#include "../core/fp8.h"
#include "../core/internal.h"
#include "kernel.h"

/* A head's elements as float32 (exact; a NaN made quiet by mask, so the loops vectorise). */
static void widen_head(rope_dtype t, const void *p, size_t n, float *out) {
    const uint16_t *h = (const uint16_t *)p;
    switch (t) {
    case ROPE_F16:
        for (size_t i = 0; i < n; i++) out[i] = rope_f16_to_f32_inline(h[i]);
        return;
    case ROPE_BF16:
        for (size_t i = 0; i < n; i++) {
            uint32_t x = (uint32_t)h[i] << 16;
            uint32_t nan = 0u - (uint32_t)((x & 0x7fffffffu) > 0x7f800000u);
            out[i] = rope_float_of(x | (nan & 0x400000u));
        }
        return;
    case ROPE_F32: memcpy(out, p, n * sizeof(float)); return;
    default: memset(out, 0, n * sizeof(float)); return; /* not reached: the front end admits f32, f16, bf16 */
    }
}

enum { STORE_CHUNK = 256 };

/* One loop per format, its parameters constants, so that the compiler can turn the branch-free
 * conversion into vector code. A build may convert the leading elements itself first
 * (ROPE_STORE_CONVERT_VECTORS(v, out, n, fmt, nt) returns how many it did: store_avx512.c's
 * intrinsics, the same operations lane by lane, streaming when nt). */
#ifndef ROPE_STORE_CONVERT_VECTORS
#define ROPE_STORE_CONVERT_VECTORS(v, out, n, fmt, nt) \
    ((void)(v), (void)(out), (void)(n), (void)(fmt), (void)(nt), (size_t)0)
#endif

/* A copy whose whole aligned vectors of dst are written with streaming stores (no read for
 * ownership of lines about to be overwritten, no eviction of data still in use; consecutive vectors
 * fill whole lines); the ragged ends through the cache. A plain copy without streaming stores. */
static void copy_stream(void *dst, const void *src, size_t bytes) {
#ifdef ROPE_STORE_STREAM_VECTOR
    char *d = (char *)dst;
    const char *s = (const char *)src;
    const size_t w = ROPE_STORE_STREAM_BYTES;
    size_t head = (w - ((uintptr_t)d & (w - 1))) & (w - 1);
    if (head > bytes) head = bytes;
    memcpy(d, s, head);
    size_t i = head;
    for (; i + w <= bytes; i += w) ROPE_STORE_STREAM_VECTOR(d + i, s + i);
    memcpy(d + i, s + i, bytes - i);
#else
    memcpy(dst, src, bytes);
#endif
}

static void convert_e4m3(const float *v, uint8_t *out, size_t n, int nt) {
    const rope_fp8_format fmt = {3, 7, 0x7e, 0x7f};
    for (size_t i = ROPE_STORE_CONVERT_VECTORS(v, out, n, &fmt, nt); i < n; i++) out[i] = rope_fp8_convert(v[i], &fmt);
}

static void convert_e5m2(const float *v, uint8_t *out, size_t n, int nt) {
    const rope_fp8_format fmt = {2, 15, 0x7b, 0x7e};
    for (size_t i = ROPE_STORE_CONVERT_VECTORS(v, out, n, &fmt, nt); i < n; i++) out[i] = rope_fp8_convert(v[i], &fmt);
}

/* A bit copy of `bytes`, streaming (nt) or through the cache. */
static void copy_bits(void *dst, const void *src, size_t bytes, int nt) {
    if (nt) copy_stream(dst, src, bytes);
    else memcpy(dst, src, bytes);
}

/* 1 / scale when it is exact: scale a power of two (a normal float) whose reciprocal is a normal
 * float too. Then value * (1 / scale) is value / scale bit for bit (both are the same real number
 * rounded once, NaN, infinities, zeros and subnormal results included), and a multiply has
 * several times a division's throughput. Scale 1, the serving engines' default without calibrated
 * scales, needs neither. */
static int exact_reciprocal(float scale, float *inv) {
    uint32_t b = rope_bits_of(scale), e = (b >> 23) & 0xffu;
    if ((b & 0x807fffffu) != 0 || e == 0 || e > 253) return 0; /* not a positive power of two, or 1/scale not normal */
    *inv = rope_float_of((254u - e) << 23);
    return 1;
}

void ROPE_STORE_NAME(rope_dtype src_dtype, const void *src, ptrdiff_t src_head_stride, rope_dtype dst_dtype,
                      void *dst, ptrdiff_t dst_head_stride, size_t heads, size_t head_size, float scale, int nt) {
    size_t ses = rope_dtype_bytes(src_dtype), des = rope_dtype_bytes(dst_dtype);
    float v[STORE_CHUNK], inv = 1.0f;
    int by_inverse = exact_reciprocal(scale, &inv);
    if (dst_dtype == src_dtype && src_head_stride == (ptrdiff_t)head_size && dst_head_stride == (ptrdiff_t)head_size) {
        copy_bits(dst, src, heads * head_size * ses, nt); /* a token's heads, contiguous on both sides (NHD): one copy */
        return;
    }
    for (size_t h = 0; h < heads; h++) {
        const char *s = (const char *)src + (ptrdiff_t)h * src_head_stride * (ptrdiff_t)ses;
        char *d = (char *)dst + (ptrdiff_t)h * dst_head_stride * (ptrdiff_t)des;
        if (dst_dtype == src_dtype) {
            copy_bits(d, s, head_size * ses, nt);
            continue;
        }
        for (size_t i0 = 0; i0 < head_size; i0 += STORE_CHUNK) { /* widen, divide, convert: three plain loops */
            size_t n = head_size - i0 < STORE_CHUNK ? head_size - i0 : STORE_CHUNK;
            widen_head(src_dtype, s + i0 * ses, n, v);
            if (!by_inverse)
                for (size_t i = 0; i < n; i++) v[i] = v[i] / scale;
            else if (inv != 1.0f) /* x * 1 == x: nothing to do at scale 1 */
                for (size_t i = 0; i < n; i++) v[i] = v[i] * inv;
            if (dst_dtype == ROPE_FP8_E5M2) convert_e5m2(v, (uint8_t *)d + i0, n, nt);
            else convert_e4m3(v, (uint8_t *)d + i0, n, nt);
        }
    }
}

#endif
