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

static inline uint8_t rope_fp8_convert(float f, const rope_fp8_format *fmt) {
    uint32_t x = rope_bits_of(f);
    uint8_t sign = (uint8_t)((x >> 24) & 0x80u);
    uint32_t ax = x & 0x7fffffffu;
    if (ax > 0x7f800000u) return (uint8_t)(sign | fmt->nan_code);
    /* the largest finite value's float32 bits: exponent field max_exp + 127 - bias, mantissa 11 */
    uint32_t max_exp = (uint32_t)fmt->max_code >> fmt->mant;
    uint32_t max_bits = ((max_exp + 127u - fmt->bias) << 23) | (((uint32_t)fmt->max_code & ((1u << fmt->mant) - 1u))
                                                                << (23u - fmt->mant));
    if (ax >= max_bits) return (uint8_t)(sign | fmt->max_code); /* saturated (rounding would not go lower) */
    uint32_t e = ax >> 23;
    if (e >= 128u - fmt->bias) /* normal in the format: rebias, then round the mantissa */
        return (uint8_t)(sign | rope_shift_rne(ax - ((127u - fmt->bias) << 23), 23u - fmt->mant));
    if (e == 0) return sign; /* float32 zero or subnormal: far below the format's smallest subnormal */
    /* A subnormal of the format: value / 2^(1 - bias - mant) = m * 2^(e - 151 + bias + mant). */
    uint32_t m = (ax & 0x7fffffu) | 0x800000u;
    uint32_t shift = 151u - fmt->bias - fmt->mant - e;
    if (shift > 31u) return sign;
    return (uint8_t)(sign | rope_shift_rne(m, shift));
}

#endif
