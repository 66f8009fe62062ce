/* SPDX-License-Identifier: MIT */
/* A serving engine's decode step with librope's vLLM-style rotary_embedding: one token of each of 4
 * running sequences, at scattered positions, q and k rotated in place inside a fused QKV buffer,
 * with the [P, rot] cos_sin_cache a model keeps (built by rope_cache_fill). Then the same step for a
 * vision-language model's MRoPE (Qwen2-VL sections, positions per time / height / width axis). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "rope.h"

enum { T = 4, HQ = 4, HK = 2, HS = 64, ROT = 64, P = 4096, WIDTH = (HQ + 2 * HK) * HS };

static float qkv[T * WIDTH], before[T * WIDTH], cache[P * ROT];

int main(void) {
    /* The cache: Llama-style frequencies, [cos | sin] rows for positions 0..P-1. */
    rope_freq_config cfg = ROPE_FREQ_CONFIG_INIT;
    cfg.rotary_dim = ROT;
    cfg.base = 500000;
    rope_tensor cs = {cache, ROPE_F32, 2, {P, ROT}, 0};
    if (rope_cache_fill(&cfg, 0, P, ROPE_CACHE_VLLM, 0, &cs, NULL) != ROPE_OK) goto fail;

    for (int i = 0; i < T * WIDTH; i++) qkv[i] = before[i] = (float)sin(0.37 * i);
    int64_t positions[T] = {17, 4000, 3, 1234};
    /* q and k where they sit in the fused buffer: rows WIDTH elements apart. */
    rope_tensor pos = {positions, ROPE_I64, 1, {T}, 0};
    rope_tensor q = {qkv, ROPE_F32, 2, {T, HQ * HS}, WIDTH};
    rope_tensor k = {qkv + HQ * HS, ROPE_F32, 2, {T, HK * HS}, WIDTH};
    rope_vllm_attrs attrs = ROPE_VLLM_ATTRS_INIT;
    attrs.head_size = HS; /* is_neox 1: GPT-NeoX halves */
    if (rope_vllm_rotary_embedding(NULL, &attrs, &pos, &q, &k, &cs, &q, &k) != ROPE_OK) goto fail;

    /* Check against the formula: (x[j], x[32 + j]) rotated by positions[t] * inv_freq[j]. */
    double worst = 0;
    for (int t = 0; t < T; t++)
        for (int h = 0; h < HQ + HK; h++)
            for (int j = 0; j < ROT / 2; j++) {
                const float *x = before + t * WIDTH + h * HS;
                double a = (double)positions[t] * pow(500000.0, -2.0 * j / ROT);
                double y1 = x[j] * cos(a) - x[j + ROT / 2] * sin(a);
                double got = qkv[t * WIDTH + h * HS + j];
                if (fabs(got - y1) > worst) worst = fabs(got - y1);
            }
    int v_untouched = !memcmp(qkv + (HQ + HK) * HS, before + (HQ + HK) * HS, HK * HS * sizeof(float));
    printf("decode step: 4 tokens, max error %.1e, v untouched: %s\n", worst, v_untouched ? "yes" : "no");

    /* MRoPE (Qwen2-VL): sections [8, 12, 12] of the 32 pairs take the time, height, width position. */
    int64_t mpos[3 * T] = {17, 4000, 3, 1234, /* t */ 17, 12, 3, 40, /* h */ 17, 9, 3, 41 /* w */};
    rope_tensor mp = {mpos, ROPE_I64, 2, {3, T}, 0};
    attrs.n_mrope_section = 3;
    attrs.mrope_section[0] = 8, attrs.mrope_section[1] = 12, attrs.mrope_section[2] = 12;
    if (rope_vllm_rotary_embedding(NULL, &attrs, &mp, &q, &k, &cs, &q, &k) != ROPE_OK) goto fail;
    printf("MRoPE step: %s\n", rope_status_string(ROPE_OK));

    /* A position past the cache: a precise error, nothing written. */
    mpos[5] = P;
    rope_status st = rope_vllm_rotary_embedding(NULL, &attrs, &mp, &q, &k, &cs, &q, &k);
    printf("%s\n", rope_last_error());
    return st == ROPE_ERROR_INDEX && worst < 1e-5 && v_untouched ? 0 : 1;
fail:
    fprintf(stderr, "%s\n", rope_last_error());
    return 1;
}
