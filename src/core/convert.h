/* SPDX-License-Identifier: MIT */
/* Software float16 / bfloat16 conversions, inline so the portable kernel can use them per element.
 * Narrowing rounds to nearest even; NaN stays NaN (made quiet); infinities and subnormals are kept. */
#ifndef ROPE_CONVERT_H
#define ROPE_CONVERT_H

#include <stdint.h>
#include <string.h>

static inline uint32_t rope_bits_of(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static inline float rope_float_of(uint32_t u) {
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* Shifts `m` right by `shift` (1..31) with round to nearest, ties to even. */
static inline uint32_t rope_shift_rne(uint32_t m, unsigned shift) {
    uint32_t r = m >> shift;
    uint32_t rem = m & ((1u << shift) - 1u);
    uint32_t half = 1u << (shift - 1u);
    return r + (rem > half || (rem == half && (r & 1u)));
}

static inline uint16_t rope_f32_to_f16_inline(float f) {
    uint32_t x = rope_bits_of(f);
    uint16_t sign = (uint16_t)((x >> 16) & 0x8000u);
    uint32_t ax = x & 0x7fffffffu;
    if (ax > 0x7f800000u) return (uint16_t)(sign | 0x7e00u | ((ax >> 13) & 0x3ffu));
    if (ax >= 0x477ff000u) return (uint16_t)(sign | 0x7c00u); /* >= 65520 rounds to infinity */
    if (ax >= 0x38800000u)                                    /* a normal float16 */
        return (uint16_t)(sign | rope_shift_rne(ax - 0x38000000u, 13));
    if (ax <= 0x33000000u) return sign; /* <= 2^-25: rounds to zero (the tie goes to even 0) */
    /* A float16 subnormal: value / 2^-24 = mantissa * 2^(exponent - 126). Rounding up into the
     * smallest normal yields its encoding 0x0400 by itself. */
    uint32_t e = ax >> 23;
    uint32_t m = (ax & 0x7fffffu) | 0x800000u;
    return (uint16_t)(sign | rope_shift_rne(m, 126u - e));
}

static inline float rope_f16_to_f32_inline(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t e = (h >> 10) & 0x1fu;
    uint32_t m = h & 0x3ffu;
    if (e == 0x1fu) /* a NaN is made quiet, as the hardware conversions do */
        return rope_float_of(sign | 0x7f800000u | (m << 13) | (m ? 0x400000u : 0u));
    if (e != 0) return rope_float_of(sign | ((e + 112u) << 23) | (m << 13));
    /* zero or subnormal: exact as m * 2^-24 */
    float v = (float)m * 5.9604644775390625e-8f;
    return sign ? -v : v;
}

static inline uint16_t rope_f32_to_bf16_inline(float f) {
    uint32_t x = rope_bits_of(f);
    if ((x & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((x >> 16) | 0x40u);
    return (uint16_t)((x + 0x7fffu + ((x >> 16) & 1u)) >> 16);
}

static inline float rope_bf16_to_f32_inline(uint16_t b) {
    uint32_t x = (uint32_t)b << 16;
    if ((x & 0x7fffffffu) > 0x7f800000u) x |= 0x400000u; /* a NaN is made quiet */
    return rope_float_of(x);
}

#endif
