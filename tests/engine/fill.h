/* Random tensor data for the engine tests: values in [-2, 2) stored as f32, f16 or bf16 (kept
 * here rather than in tests/support so these tests depend on nothing but the harness). */
#ifndef ROPE_TEST_ENGINE_FILL_H
#define ROPE_TEST_ENGINE_FILL_H

#include <stddef.h>
#include <stdint.h>

#include "harness.h"
#include "rope.h"

static inline void fill(rope_dtype dt, void *buf, size_t n) {
    for (size_t i = 0; i < n; i++) {
        float v = (float)tu_uniform(-2.0, 2.0);
        if (dt == ROPE_F16) ((uint16_t *)buf)[i] = rope_f32_to_f16(v);
        else if (dt == ROPE_BF16) ((uint16_t *)buf)[i] = rope_f32_to_bf16(v);
        else ((float *)buf)[i] = v;
    }
}

#endif
