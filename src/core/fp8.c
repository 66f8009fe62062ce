/* SPDX-License-Identifier: MIT */
#include "fp8.h"
#include "rope.h"

uint8_t rope_f32_to_fp8(float f, rope_dtype fp8_dtype) {
    if (fp8_dtype != ROPE_FP8_E4M3 && fp8_dtype != ROPE_FP8_E5M2) return 0;
    rope_fp8_format fmt = rope_fp8_format_of(fp8_dtype == ROPE_FP8_E5M2);
    return rope_fp8_convert(f, &fmt);
}
