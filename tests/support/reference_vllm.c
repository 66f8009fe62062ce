/* SPDX-License-Identifier: MIT */
/* The vLLM rotary_embedding reference (reference_vllm.h), from the MANIFEST's formulas. */
#include "reference_vllm.h"

#include <math.h>

/* The axis of pair j. Contiguous: the section holding j. Interleaved: axis 1 on j = 1, 4, 7, ...
 * while j < 3*s1, axis 2 on j = 2, 5, 8, ... while j < 3*s2, axis 0 for every other pair. */
static int axis_of(const ref_vllm_case *c, int64_t j) {
    if (c->axes == 0) return 0;
    if (c->interleaved) {
        if (j % 3 == 1 && j < 3 * c->section[1]) return 1;
        if (j % 3 == 2 && j < 3 * c->section[2]) return 2;
        return 0;
    }
    int64_t end = 0;
    for (int a = 0; a < c->axes; a++) {
        end += c->section[a];
        if (j < end) return a;
    }
    return -1;
}

static int sections_ok(const ref_vllm_case *c) {
    if (c->axes == 0) return 1;
    if (c->axes != 3 && c->axes != 4) return 0;
    if (c->interleaved && c->axes != 3) return 0;
    int64_t sum = 0;
    for (int a = 0; a < c->axes; a++) sum += c->section[a];
    return sum == c->rot / 2;
}

int64_t ref_vllm_row(const ref_vllm_case *c, const int64_t *pos, int64_t t, int64_t j) {
    if (!sections_ok(c)) return -1;
    int a = axis_of(c, j);
    return a < 0 ? -1 : pos[a * c->tokens + t];
}

/* |fl32(a*b) - a*b|: the product of two float32 (or narrower) values is exact in double. */
static double product_error(double a, double b) {
    volatile float f = (float)(a * b);
    return fabs((double)f - a * b);
}

int ref_vllm_rotate(const ref_vllm_case *c, const double *x, const double *cache, const int64_t *pos, double *want,
                    double *perr) {
    int64_t half = c->rot / 2, hs = c->head_size;
    if (c->rot <= 0 || c->rot % 2 || c->rot > hs || !sections_ok(c)) return -1;
    int64_t n_pos = c->tokens * (c->axes ? c->axes : 1);
    for (int64_t i = 0; i < n_pos; i++)
        if (pos[i] < 0 || pos[i] >= c->cache_rows) return -1;
    int64_t o = c->offset;
    if (o < 0 || o + c->rot > hs || (c->split && (!c->is_neox || o || hs % 2)) || (c->pairs_to_halves && c->is_neox))
        return -1;
    for (int64_t t = 0; t < c->tokens; t++)
        for (int64_t h = 0; h < c->heads; h++) {
            int64_t base = (t * c->heads + h) * hs;
            for (int64_t e = 0; e < hs; e++) want[base + e] = x[base + e], perr[base + e] = -1; /* copied */
            for (int64_t j = 0; j < half; j++) {
                const double *row = cache + ref_vllm_row(c, pos, t, j) * c->rot;
                double cs = row[j], sn = c->inverse ? -row[half + j] : row[half + j];
                /* where the forward reads the pair (r1, r2) and writes it (w1, w2) */
                int64_t r1 = o + (c->is_neox ? j : 2 * j), r2 = o + (c->is_neox ? half + j : 2 * j + 1);
                if (c->split) r2 = hs / 2 + j;
                int64_t w1 = r1, w2 = r2;
                if (c->pairs_to_halves) w1 = o + j, w2 = o + half + j;
                if (c->backward) { /* the transpose: from the forward's outputs to its inputs, by -angle */
                    int64_t t1 = r1, t2 = r2;
                    r1 = w1, r2 = w2, w1 = t1, w2 = t2;
                    sn = -sn;
                }
                double x1 = x[base + r1], x2 = x[base + r2];
                want[base + w1] = x1 * cs - x2 * sn;
                want[base + w2] = x2 * cs + x1 * sn;
                perr[base + w1] = product_error(x1, cs) + product_error(x2, sn);
                perr[base + w2] = product_error(x2, cs) + product_error(x1, sn);
            }
        }
    return 0;
}
