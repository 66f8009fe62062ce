/* SPDX-License-Identifier: MIT */
/*
 * Table rows transformed for the backward pass (the vector-Jacobian product of the forward rotation:
 * given dy it yields dx):
 *   half-width cos (ONNX, vLLM): the rotation by -angle: cos kept, sin negated;
 *   full-width cos (ATB): y[a] = x[a]cos[a] - x[b]sin[a], y[b] = x[b]cos[b] + x[a]sin[b] has the
 *       transpose gx[a] = g[a]cos[a] + g[b]sin[b], gx[b] = g[b]cos[b] - g[a]sin[a]: the forward kernel
 *       with sin'[a] = -sin[b], sin'[b] = -sin[a] (the partner's sin, negated).
 * Negation flips the sign bit, so it is exact in every dtype: backward(g) is bitwise forward(g) with
 * such a transformed table.
 */
#include <string.h>

#include "slot.h"

static uint32_t sign_bit(rope_dtype dt) { return dt == ROPE_F32 ? 0x80000000u : 0x8000u; }

static uint32_t load_bits(const void *p, rope_dtype dt, size_t i) {
    if (dt == ROPE_F32) {
        uint32_t u;
        memcpy(&u, (const char *)p + 4 * i, 4);
        return u;
    }
    uint16_t h;
    memcpy(&h, (const char *)p + 2 * i, 2);
    return h;
}

static void store_bits(void *p, rope_dtype dt, size_t i, uint32_t u) {
    if (dt == ROPE_F32) memcpy((char *)p + 4 * i, &u, 4);
    else {
        uint16_t h = (uint16_t)u;
        memcpy((char *)p + 2 * i, &h, 2);
    }
}

void rope_backward_row(const rope_cossin_source *src, const rope_kernel_shape *shape, size_t row, void *out_cos,
                       void *out_sin) {
    rope_dtype dt = shape->cs_dtype;
    size_t es = rope_dtype_bytes(dt), width = rope_cos_width(shape);
    size_t off = row * (size_t)src->table_stride * es;
    const char *c = (const char *)src->cos + off, *s = (const char *)src->sin + off;
    memcpy(out_cos, c, width * es);
    uint32_t neg = sign_bit(dt);
    if (!shape->cos_full) {
        for (size_t i = 0; i < width; i++) store_bits(out_sin, dt, i, load_bits(s, dt, i) ^ neg);
        return;
    }
    size_t ps = rope_cos_pair_stride(shape); /* full width: each element takes its partner's sin, negated */
    for (size_t g = 0; g < width; g += 2 * ps)
        for (size_t j = g; j < g + ps; j++) {
            store_bits(out_sin, dt, j, load_bits(s, dt, j + ps) ^ neg);
            store_bits(out_sin, dt, j + ps, load_bits(s, dt, j) ^ neg);
        }
}
