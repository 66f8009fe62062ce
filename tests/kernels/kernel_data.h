/* SPDX-License-Identifier: MIT */
/* Test data for the kernel tests: random shapes the contract allows and element values that mix
 * ordinary numbers with everything that stresses conversions and arithmetic (subnormals, signed
 * zeros, infinities, NaNs with payloads, values that overflow f16 or round up in bf16). */
#ifndef ROPE_TEST_KERNEL_DATA_H
#define ROPE_TEST_KERNEL_DATA_H

#include <float.h>
#include <stdint.h>
#include <string.h>

#include "harness.h"
#include "kernels/kernel.h"
#include "rope.h"

static const uint32_t tk_special_f32[] = {
    0x00000000u, 0x80000000u,                           /* +-0 */
    0x00000001u, 0x80000001u, 0x007fffffu, 0x00400000u, /* float32 subnormals */
    0x00008000u, 0x00008001u, 0x00018000u, 0x807f8000u, /* subnormals at bf16 rounding ties */
    0x00800000u, 0x80800000u,                           /* smallest normal */
    0x7f800000u, 0xff800000u,                           /* infinities */
    0x7fc00000u, 0xffc00000u, 0x7fc12345u, 0x7f800001u, 0xffa5a5a5u, 0x7fbfffffu, /* NaNs, quiet and signaling */
    0x7f7fffffu, 0xff7fffffu, 0x7f7f8000u,             /* FLT_MAX, which rounds to bf16 infinity */
    0x477fe000u, 0x477ff000u, 0xc77ff000u, 0x47800000u, /* 65504, 65520 (f16 overflow tie), 65536 */
    0x33800000u, 0x33000000u, 0x33000001u, 0xb3400000u, /* f16 smallest subnormal, ties around it */
    0x38800000u, 0x387fe000u, 0x387ff000u,             /* f16 smallest normal and its neighbours */
    0x3f808000u, 0x3f818000u, 0x3f80c000u, 0x3f801000u, /* bf16 / f16 ties and near-ties */
    0x3f800000u, 0xbf800000u, 0x40490fdbu, 0x1e3ce508u, 0x5e3ce508u,
};

static inline float tk_f32_of(uint32_t u) {
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* One element value: a special one with probability `special` (0..1), else mostly uniform in
 * [-4, 4), sometimes a random bit pattern. */
static inline float tk_value(double special) {
    if (tu_uniform(0.0, 1.0) < special) {
        if (tu_int(0, 3) == 0) return tk_f32_of((uint32_t)tu_u64());
        return tk_f32_of(tk_special_f32[tu_int(0, sizeof tk_special_f32 / sizeof tk_special_f32[0] - 1)]);
    }
    return (float)tu_uniform(-4.0, 4.0);
}

/* Fills n elements of dtype t; 16-bit types also get raw random bit patterns (every f16 / bf16
 * NaN, subnormal and infinity encoding is reachable). */
static inline void tk_fill(rope_dtype t, void *p, size_t n, double special) {
    for (size_t i = 0; i < n; i++) {
        float v = tk_value(special);
        switch (t) {
        case ROPE_F32: ((float *)p)[i] = v; break;
        case ROPE_F16:
            ((uint16_t *)p)[i] = tu_uniform(0.0, 1.0) < special / 4 ? (uint16_t)tu_u64() : rope_f32_to_f16(v);
            break;
        default:
            ((uint16_t *)p)[i] = tu_uniform(0.0, 1.0) < special / 4 ? (uint16_t)tu_u64() : rope_f32_to_bf16(v);
            break;
        }
    }
}

/* The (x, cos) dtype combinations the contract accepts. */
static const rope_dtype tk_combos[5][2] = {
    {ROPE_F32, ROPE_F32}, {ROPE_F16, ROPE_F16}, {ROPE_F16, ROPE_F32}, {ROPE_BF16, ROPE_BF16}, {ROPE_BF16, ROPE_F32},
};

/* A random rs for `rot` and the cos mode: the layouts the front ends produce (ONNX halves rot/2 and
 * interleaved 1; ATB rot/2, rot/4, 1) most of the time, otherwise any divisor of rot/2. */
static inline size_t tk_rs(size_t rot, int cos_full) {
    size_t half = rot / 2;
    switch (tu_int(0, 4)) {
    case 0: return half;
    case 1: return 1;
    case 2:
        if (cos_full && half % 2 == 0) return half / 2;
        break;
    default: break;
    }
    size_t d;
    do d = (size_t)tu_int(1, (int64_t)half);
    while (half % d != 0);
    return d;
}

static inline size_t tk_es(rope_dtype t) { return t == ROPE_F32 ? 4 : 2; }

static inline const char *tk_combo_name(const rope_kernel_shape *s) {
    static char buf[32];
    snprintf(buf, sizeof buf, "%s/%s", rope_dtype_name(s->x_dtype), rope_dtype_name(s->cs_dtype));
    return buf;
}

#endif
