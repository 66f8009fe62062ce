/* SPDX-License-Identifier: MIT */
/* RoPE configurations for the on-the-fly tests: one per scaling method, with parameters that make
 * each method's particular arithmetic matter (YaRN's ramp and attention factor, Llama 3's three
 * bands, LongRoPE's long factors and attention factor, dynamic NTK past its original length,
 * proportional's standing pairs: frequency 0, cos 1, sin 0). */
#ifndef ROPE_TEST_FLY_CONFIGS_H
#define ROPE_TEST_FLY_CONFIGS_H

#include <string.h>

#include "rope.h"

enum { FLY_N_CONFIGS = 8, FLY_MAX_HALF = 128 };

/* Configuration `i` (0 .. FLY_N_CONFIGS-1) for rotary dim d (<= 2 * FLY_MAX_HALF); `name` gets a
 * label. The LongRoPE factors live in static storage shared by all calls. */
static inline rope_freq_config fly_config(int i, int64_t d, const char **name) {
    static double short_f[FLY_MAX_HALF], long_f[FLY_MAX_HALF];
    for (int j = 0; j < FLY_MAX_HALF; j++) short_f[j] = 1.0 + 0.01 * j, long_f[j] = 1.5 + 0.37 * j;
    rope_freq_config c = ROPE_FREQ_CONFIG_INIT;
    c.rotary_dim = d;
    switch (i) {
    case 0: *name = "default"; break;
    case 1: *name = "default base 500000"; c.base = 500000; break;
    case 2: *name = "linear 4"; c.scaling = ROPE_SCALING_LINEAR, c.factor = 4; break;
    case 3:
        *name = "dynamic";
        c.scaling = ROPE_SCALING_DYNAMIC, c.factor = 2, c.original_max_position_embeddings = 64, c.seq_len = 300;
        break;
    case 4:
        *name = "yarn";
        c.scaling = ROPE_SCALING_YARN, c.factor = 16, c.original_max_position_embeddings = 4096;
        c.beta_fast = 32, c.beta_slow = 1;
        break;
    case 5:
        *name = "llama3";
        c.scaling = ROPE_SCALING_LLAMA3, c.base = 500000, c.factor = 8, c.original_max_position_embeddings = 8192;
        c.low_freq_factor = 1, c.high_freq_factor = 4;
        break;
    case 7:
        *name = "proportional";
        c.scaling = ROPE_SCALING_PROPORTIONAL, c.factor = 2, c.rotated_pairs = d / 2 > 1 ? d / 4 : 0;
        break;
    default:
        *name = "longrope";
        c.scaling = ROPE_SCALING_LONGROPE, c.factor = 32, c.original_max_position_embeddings = 4096;
        c.short_factor = short_f, c.long_factor = long_f, c.seq_len = 131072;
        break;
    }
    return c;
}

#endif
