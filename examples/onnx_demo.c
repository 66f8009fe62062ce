/* SPDX-License-Identifier: MIT */
/* A worked ONNX RotaryEmbedding call: X [batch 1, heads 2, seq 3, head_size 4] rotated with a cos/sin
 * cache of base 10000 at positions {0, 1, 5}, printed as tables. `make demo` runs it. */
#include <math.h>
#include <stdio.h>

#include "rope.h"

enum { HEADS = 2, SEQ = 3, HEAD = 4, HALF = HEAD / 2, MAX_POS = 8 };

static void print_head(const char *label, const float *t, int head) {
    printf("  %s head %d:\n", label, head);
    for (int s = 0; s < SEQ; s++) {
        printf("    seq %d: ", s);
        for (int d = 0; d < HEAD; d++) printf("%9.5f", t[(head * SEQ + s) * HEAD + d]);
        printf("\n");
    }
}

int main(void) {
    float x[HEADS * SEQ * HEAD], y[HEADS * SEQ * HEAD];
    float cos_cache[MAX_POS * HALF], sin_cache[MAX_POS * HALF];
    int64_t ids[SEQ] = {0, 1, 5};

    for (int i = 0; i < HEADS * SEQ * HEAD; i++) x[i] = (float)(i % HEAD + 1) * (i / HEAD % 2 ? -0.5f : 1.0f);
    /* The usual table: angle(pos, j) = pos * 10000^(-2j / head_size). */
    for (int p = 0; p < MAX_POS; p++)
        for (int j = 0; j < HALF; j++) {
            double angle = p * pow(10000.0, -2.0 * j / HEAD);
            cos_cache[p * HALF + j] = (float)cos(angle);
            sin_cache[p * HALF + j] = (float)sin(angle);
        }

    rope_tensor X = {x, ROPE_F32, 4, {1, HEADS, SEQ, HEAD}, 0};
    rope_tensor C = {cos_cache, ROPE_F32, 2, {MAX_POS, HALF}, 0};
    rope_tensor S = {sin_cache, ROPE_F32, 2, {MAX_POS, HALF}, 0};
    rope_tensor P = {ids, ROPE_I64, 2, {1, SEQ}, 0};
    rope_tensor Y = {y, ROPE_F32, 4, {1, HEADS, SEQ, HEAD}, 0};
    rope_onnx_attrs attrs = {0}; /* halves layout, full rotation */

    printf("librope %s: ONNX RotaryEmbedding, X [1, %d, %d, %d], position_ids {%d, %d, %d}, interleaved 0\n\n",
           rope_version_string(), HEADS, SEQ, HEAD, (int)ids[0], (int)ids[1], (int)ids[2]);
    printf("cos/sin rows used (position: cos | sin):\n");
    for (int s = 0; s < SEQ; s++) {
        const float *c = &cos_cache[ids[s] * HALF], *sn = &sin_cache[ids[s] * HALF];
        printf("  %d: %9.5f%9.5f | %9.5f%9.5f\n", (int)ids[s], c[0], c[1], sn[0], sn[1]);
    }
    printf("\ninput X:\n");
    for (int h = 0; h < HEADS; h++) print_head("X", x, h);

    rope_status st = rope_onnx_rotary_embedding(NULL, &attrs, &X, &C, &S, &P, &Y);
    if (st != ROPE_OK) {
        fprintf(stderr, "rope_onnx_rotary_embedding failed: %s\n  %s\n", rope_status_string(st), rope_last_error());
        return 1;
    }
    printf("\noutput Y (pairs (d, d+2) rotated by pos * freq_d; position 0 is unchanged):\n");
    for (int h = 0; h < HEADS; h++) print_head("Y", y, h);

    /* A bad call: a position id past the cache. Y is left untouched and the message says why. */
    ids[2] = MAX_POS;
    st = rope_onnx_rotary_embedding(NULL, &attrs, &X, &C, &S, &P, &Y);
    printf("\nwith position_ids[0][2] = %d: %s\n  %s\n", MAX_POS, rope_status_string(st), rope_last_error());
    return st == ROPE_ERROR_INDEX ? 0 : 1;
}
