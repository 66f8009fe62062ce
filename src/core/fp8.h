/* SPDX-License-Identifier: MIT */
/* float32 -> fp8 (OCP e4m3fn and e5m2), the KV-cache store of issue 16: round to nearest even,
 * saturate to the largest finite value (448, 57344; infinities included), NaN kept as the format's
 * NaN with its sign. Scalar and inline: every instruction set stores through it, so every one
 * stores the same bits. */
#ifndef ROPE_FP8_H
#define ROPE_FP8_H

#include <stdint.h>

#include "convert.h"

/* A format: mantissa bits, exponent bias, the largest finite encoding and the NaN one. */
typedef struct rope_fp8_format {
    unsigned mant, bias;
    uint8_t max_code, nan_code;
} rope_fp8_format;

/* e4m3fn: 0x7e = 448, 0x7f NaN (no infinity). e5m2: 0x7b = 57344, 0x7e a quiet NaN. */
static inline rope_fp8_format rope_fp8_format_of(int e5m2) {
    rope_fp8_format e4 = {3, 7, 0x7e, 0x7f}, e5 = {2, 15, 0x7b, 0x7e};
    return e5m2 ? e5 : e4;
}

/* Branch-free (the stores convert whole heads; value-dependent branches mispredicted at 10 ns an
 * element): every path is computed and one selected.
 *   normal (|f| >= 2^(1 - bias)): the float32 bits rounded at the format's last mantissa bit
 *     (nearest even, a carry moving into the exponent), then rebiased;
 *   subnormal: |f| * 2^(bias - 1 + mant) (exact: a power of two) is below 2^mant, and adding then
 *     subtracting 2^23 rounds it to the nearest integer, ties to even: the code itself (the
 *     smallest normal's code 2^mant when it rounds up);
 *   |f| is first clamped to the largest finite value, so rounding never passes it (saturation,
 *   infinities included); a NaN is selected last. */
static inline uint8_t rope_fp8_convert(float f, const rope_fp8_format *fmt) {
    uint32_t x = rope_bits_of(f);
    uint32_t sign = (x >> 24) & 0x80u;
    uint32_t ax = x & 0x7fffffffu;
    uint32_t nan = 0u - (uint32_t)(ax > 0x7f800000u); /* all ones for a NaN: selections by mask, so loops vectorize */
    uint32_t mant = fmt->mant, bias = fmt->bias;
    uint32_t max_exp = (uint32_t)fmt->max_code >> mant;
    uint32_t max_bits = ((max_exp + 127u - bias) << 23) | (((uint32_t)fmt->max_code & ((1u << mant) - 1u)) << (23u - mant));
    uint32_t big = 0u - (uint32_t)(ax >= max_bits);
    uint32_t a = (ax & ~big) | (max_bits & big); /* NaN patterns too: replaced below */
    uint32_t shift = 23u - mant;
    uint32_t rounded = a + ((1u << (shift - 1u)) - 1u) + ((a >> shift) & 1u);
    uint32_t normal = (rounded >> shift) - ((127u - bias) << mant);
    uint32_t is_normal = 0u - (uint32_t)(a >= ((128u - bias) << 23));
    /* the subnormal path on the subnormal values only (0 in its place for a normal one): a normal
     * value scaled here would overflow the int32 conversion below (undefined behaviour in C, even
     * with the result discarded; the fuzzer's finding) */
    float scaled = rope_float_of(a & ~is_normal) * rope_float_of((bias - 1u + mant + 127u) << 23);
    float sub = (scaled + 8388608.0f) - 8388608.0f;
    uint32_t subnormal = (uint32_t)(int32_t)sub; /* sub in [0, 2^mant]: exact either way; signed converts in SIMD */
    uint32_t code = (normal & is_normal) | (subnormal & ~is_normal);
    code = ((uint32_t)fmt->nan_code & nan) | (code & ~nan);
    return (uint8_t)(sign | code);
}

#endif
