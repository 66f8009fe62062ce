/* SPDX-License-Identifier: MIT */
#include "convert.h"
#include "rope.h"

float rope_f16_to_f32(uint16_t h) { return rope_f16_to_f32_inline(h); }
uint16_t rope_f32_to_f16(float f) { return rope_f32_to_f16_inline(f); }
float rope_bf16_to_f32(uint16_t b) { return rope_bf16_to_f32_inline(b); }
uint16_t rope_f32_to_bf16(float f) { return rope_f32_to_bf16_inline(f); }
