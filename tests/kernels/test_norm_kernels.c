/* SPDX-License-Identifier: MIT */
/*
 * The normalised rotation (kernel.h's rope_kernel_norm_fn, issue 16) of every instruction set this
 * CPU runs against the portable one, bit for bit, and without a stray access: head sizes 2..300,
 * every even rotated width, halves (pair stride rot/2) and adjacent pairs, every (x, cos) dtype
 * combination, 1..5 heads and runs crossing the kernels' 16-head batches and 4-head interleave
 * (17..21 heads), every combination on the whole-head path (full rotation), strides wider than a head, in place and not, one cos/sin row for all heads or one
 * per head (cs_step), data with special values (infinities, huge, tiny, subnormal). Every buffer
 * (x, y, cos, sin, weights) sits flush against an inaccessible page, before or after it, so a read
 * or write past a head faults; the whole output buffer is compared, so writes between heads show.
 * Where NaNs meet, only NaN-ness must agree (kernel.h).
 */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "guard.h"
#include "harness.h"
#include "kernel_data.h"
#include "kernel_sets.h"

enum { MAXH = 300, REGION = 256 * 1024 };

static tg_region rx, ry, rc, rsn, rw;

typedef struct nk_case {
    rope_kernel_shape sh;
    size_t heads, xs, ys;
    int in_place, at_end;
    double special;
} nk_case;

static int is_nan(rope_dtype t, const unsigned char *p) {
    if (t == ROPE_F32) {
        uint32_t u;
        memcpy(&u, p, 4);
        return (u & 0x7fffffffu) > 0x7f800000u;
    }
    uint16_t h;
    memcpy(&h, p, 2);
    return t == ROPE_F16 ? (h & 0x7fffu) > 0x7c00u : (h & 0x7fffu) > 0x7f80u;
}

/* Output bytes equal, or both elements NaN. */
static int same_output(rope_dtype t, const unsigned char *a, const unsigned char *b, size_t n) {
    size_t es = tk_es(t);
    for (size_t i = 0; i < n; i++)
        if (memcmp(a + i * es, b + i * es, es) != 0 && !(is_nan(t, a + i * es) && is_nan(t, b + i * es))) return 0;
    return 1;
}

/* Runs fn on the case with inputs x, cos, sin, w copied into the guarded regions; returns a copy of
 * the output buffer (yn elements). */
static unsigned char *run(rope_kernel_norm_fn fn, const nk_case *c, const void *x, size_t xn, const void *cs,
                          const void *sn, size_t cn, const float *w, size_t yn, float eps) {
    size_t es = tk_es(c->sh.x_dtype), ces = tk_es(c->sh.cs_dtype), hs = c->sh.head_size;
    void *gx = tg_place(&rx, xn * es, c->at_end);
    memcpy(gx, x, xn * es);
    void *gy = gx;
    if (!c->in_place) {
        gy = tg_place(&ry, yn * es, !c->at_end);
        memset(gy, 0xa5, yn * es);
    }
    void *gc = tg_place(&rc, cn * ces, c->at_end), *gs = tg_place(&rsn, cn * ces, !c->at_end);
    memcpy(gc, cs, cn * ces), memcpy(gs, sn, cn * ces);
    float *gw = tg_place(&rw, hs * sizeof(float), c->at_end);
    memcpy(gw, w, hs * sizeof(float));
    fn(&c->sh, gx, (ptrdiff_t)c->xs, gy, (ptrdiff_t)c->ys, c->heads, gc, gs, gw, eps);
    size_t n = c->in_place ? xn : yn;
    unsigned char *out = tu_xmalloc(n * es);
    memcpy(out, gy, n * es);
    return out;
}

static long compared;

static void one(const rope_kernel_set *set, const char *name, nk_case *c) {
    size_t es = tk_es(c->sh.x_dtype), ces = tk_es(c->sh.cs_dtype), hs = c->sh.head_size;
    size_t xn = (c->heads - 1) * c->xs + hs, yn = c->in_place ? xn : (c->heads - 1) * c->ys + hs;
    size_t cw = c->sh.rot / 2, cn = c->sh.cs_step ? (c->heads - 1) * (size_t)c->sh.cs_step + cw : cw;
    unsigned char *x = tu_xmalloc(xn * es), *cs = tu_xmalloc(cn * ces), *sn = tu_xmalloc(cn * ces);
    float *w = tu_xmalloc(hs * sizeof(float));
    tk_fill(c->sh.x_dtype, x, xn, c->special);
    tk_fill(c->sh.cs_dtype, cs, cn, c->special / 4);
    tk_fill(c->sh.cs_dtype, sn, cn, c->special / 4);
    for (size_t i = 0; i < hs; i++) w[i] = (float)tu_uniform(0.25, 2.0);
    float eps = tu_int(0, 1) ? 1e-6f : 0.0f;
    unsigned char *want = run(rope_kernels_scalar.select_norm(&c->sh), c, x, xn, cs, sn, cn, w, yn, eps);
    rope_kernel_norm_fn fn = rope_kernels_select_norm(set, &c->sh);
    unsigned char *got = run(fn, c, x, xn, cs, sn, cn, w, yn, eps);
    compared++;
    CHECK(same_output(c->sh.x_dtype, want, got, c->in_place ? xn : yn),
          "%s %s: head_size %zu rot %zu ps %zu heads %zu xs %zu ys %zu in_place %d cs_step %td special %g", name,
          tk_combo_name(&c->sh), hs, c->sh.rot, c->sh.pair_stride, c->heads, c->xs, c->ys, c->in_place,
          c->sh.cs_step, c->special);
    free(x), free(cs), free(sn), free(w), free(want), free(got);
}

static void sweep(const rope_kernel_set *set, const char *name) {
    for (size_t hs = 2; hs <= MAXH; hs++)
        for (size_t rot = 2; rot <= hs; rot += 2)
            for (int pairing = 0; pairing < 2; pairing++) {
                nk_case c;
                memset(&c, 0, sizeof c);
                int combo = (int)tu_int(0, 4);
                c.sh.x_dtype = tk_combos[combo][0], c.sh.cs_dtype = tk_combos[combo][1];
                c.sh.head_size = hs, c.sh.rot = rot, c.sh.pair_stride = pairing ? 1 : rot / 2;
                c.heads = tu_int(0, 3) == 0 ? (size_t)tu_int(17, 21) : (size_t)tu_int(1, 5);
                c.xs = hs + (size_t)tu_int(0, 2) * 3;
                c.in_place = (int)tu_int(0, 1);
                c.ys = c.in_place ? c.xs : hs + (size_t)tu_int(0, 2) * 5;
                c.at_end = (int)tu_int(0, 1);
                c.sh.cs_step = tu_int(0, 3) == 0 ? (ptrdiff_t)(rot / 2 + (size_t)tu_int(0, 3)) : 0;
                c.special = tu_int(0, 4) == 0 ? 0.05 : 0.0;
                one(set, name, &c);
            }
}

/* The whole-head register path (full rotation, halves, head_size a multiple of the vector width):
 * the sweep above meets it once per head size with one dtype; here every combination, 1..21 heads,
 * both eps, with and without special values (the sums' order and NaN flow), at every head size
 * that is a multiple of 8 up to 256. */
static void sweep_whole_heads(const rope_kernel_set *set, const char *name) {
    for (size_t hs = 8; hs <= 256; hs += 8)
        for (int combo = 0; combo < 5; combo++)
            for (int special = 0; special < 2; special++) {
                nk_case c;
                memset(&c, 0, sizeof c);
                c.sh.x_dtype = tk_combos[combo][0], c.sh.cs_dtype = tk_combos[combo][1];
                c.sh.head_size = hs, c.sh.rot = hs, c.sh.pair_stride = hs / 2;
                c.heads = (size_t)tu_int(1, 21);
                c.xs = hs + (size_t)tu_int(0, 2) * 3;
                c.in_place = (int)tu_int(0, 1);
                c.ys = c.in_place ? c.xs : hs + (size_t)tu_int(0, 2) * 5;
                c.at_end = (int)tu_int(0, 1);
                c.sh.cs_step = tu_int(0, 3) == 0 ? (ptrdiff_t)(hs / 2 + (size_t)tu_int(0, 3)) : 0;
                c.special = special ? 0.05 : 0.0;
                one(set, name, &c);
            }
}

int main(void) {
    tk_set sets[8];
    int n = tk_sets(sets);
    if (n == 0) {
        printf("no SIMD kernel runs on this CPU: nothing to compare\n");
        return 77;
    }
    rx = tg_map(REGION), ry = tg_map(REGION), rc = tg_map(REGION), rsn = tg_map(REGION), rw = tg_map(4096);
    for (int s = 0; s < n; s++) {
        tu_seed(0x16000u + (uint64_t)s);
        sweep(sets[s].set, sets[s].name);
        sweep_whole_heads(sets[s].set, sets[s].name);
        printf("normalised kernels %s: %ld cases bitwise the portable one, no stray access\n", sets[s].name, compared);
        compared = 0;
    }
    return tu_finish();
}
