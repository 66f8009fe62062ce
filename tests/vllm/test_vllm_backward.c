/* SPDX-License-Identifier: MIT */
/* The vLLM operator's backward on random cases (every layout, pairing, dtype pair, partial
 * rotation, key absent, MRoPE contiguous and interleaved): (1) bitwise the forward run on a cache whose
 * sin halves are negated (the transposed rotation is the rotation by -angle), on every instruction
 * set and thread count; (2) the adjoint identity <backward(g), x> = <g, forward(x)> in float64,
 * within the rounding the two passes may each make. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "contexts.h"
#include "harness.h"
#include "vllm_case.h"

static tu_contexts ctxs;

/* The sum over the case's query and key output elements of f(out, other) where `other` is the
 * dense values of the other side; also the sum of |out * other| (the scale of the rounding). */
static double dot(const vllm_case *c, const vllm_bufs *out, const double *q_other, const double *k_other,
                  double *scale) {
    double s = 0, a = 0;
    size_t es = rope_dtype_size(c->xt);
    int64_t hs = c->attrs.head_size;
    for (int w = 0; w < 1 + (c->hk >= 0); w++) {
        int j = w ? 3 : 2;
        int64_t row = (w ? c->hk : c->hq) * hs;
        const unsigned char *base = out->mem[out->bi[j]] + (size_t)out->off[j] * es;
        const double *o = w ? k_other : q_other;
        for (int64_t t = 0; t < c->tokens; t++)
            for (int64_t e = 0; e < row; e++) {
                double v = ref_load(c->xt, base, (size_t)(t * out->str[j] + e)) * o[t * row + e];
                s += v, a += fabs(v);
            }
    }
    *scale = a;
    return s;
}

static void one_case(int mrope) {
    vllm_case c;
    vllm_bufs x, g;
    char desc[400];
    vc_draw(&c, mrope);
    vc_layouts(&c, 0); /* pairs_to_halves' backward is no forward on a negated cache: test_vllm_random */
    vc_build(&c, &x, 0);
    vc_build(&c, &g, 0);
    vc_str(&c, desc, sizeof desc);
    memcpy(g.pos, x.pos, (size_t)rope_tensor_numel(&x.positions) * rope_dtype_size(c.pt));
    const rope_tensor *cache = &x.cache_t;
    int has_k = c.hk >= 0;
    /* The cache with every sin negated. */
    size_t ce = rope_dtype_size(c.ct), nc = (size_t)(c.cache_rows * c.rot);
    unsigned char *neg = tu_xmalloc(nc * ce);
    memcpy(neg, x.cache, nc * ce);
    for (int64_t r = 0; r < c.cache_rows; r++)
        for (int64_t j = c.rot / 2; j < c.rot; j++) neg[(size_t)(r * c.rot + j) * ce + ce - 1] ^= 0x80;
    rope_tensor neg_t = *cache;
    neg_t.data = neg;

    /* forward(g) with the negated cache, on the scalar context: the expected bits */
    vc_restore(&g);
    rope_status st = rope_vllm_rotary_embedding(ctxs.ctx[0], &c.attrs, &g.positions, &g.query, has_k ? &g.key : NULL,
                                                &neg_t, &g.query_out, has_k ? &g.key_out : NULL);
    CHECK(st == ROPE_OK, "forward, negated sin, %s: %s", desc, rope_last_error());
    unsigned char *want[4] = {0};
    for (int i = 0; i < 4; i++)
        if (g.mem[i]) want[i] = tu_xmalloc(g.bytes[i]), memcpy(want[i], g.mem[i], g.bytes[i]);
    for (int k = 0; k < ctxs.n; k++) {
        vc_restore(&g);
        st = rope_vllm_rotary_embedding_backward(ctxs.ctx[k], &c.attrs, &g.positions, &g.query, has_k ? &g.key : NULL,
                                                 cache, &g.query_out, has_k ? &g.key_out : NULL);
        CHECK(st == ROPE_OK, "backward on %s, %s: %s", ctxs.name[k], desc, rope_last_error());
        int same = 1;
        for (int i = 0; i < 4; i++)
            if (g.mem[i]) same &= !memcmp(want[i], g.mem[i], g.bytes[i]);
        CHECK(same, "backward on %s, %s: not bitwise the forward with sin negated", ctxs.name[k], desc);
    }
    /* adjoint: g.outputs now hold backward(g); run forward(x) */
    vc_restore(&x);
    st = rope_vllm_rotary_embedding(NULL, &c.attrs, &x.positions, &x.query, has_k ? &x.key : NULL, cache,
                                    &x.query_out, has_k ? &x.key_out : NULL);
    CHECK(st == ROPE_OK, "forward %s: %s", desc, rope_last_error());
    double s1, s2, a1, a2;
    double lhs = dot(&c, &g, x.q_v, x.k_v, &a1); /* <backward(g), x> */
    double rhs = dot(&c, &x, g.q_v, g.k_v, &a2); /* <forward(x), g> */
    double eps = c.xt == ROPE_F32 ? ldexp(1, -23) : c.xt == ROPE_F16 ? ldexp(1, -10) : ldexp(1, -7);
    s1 = lhs, s2 = rhs;
    CHECK(fabs(s1 - s2) <= 2 * eps * (a1 + a2) + 1e-300, "adjoint %s: %.17g vs %.17g (scale %g)", desc, s1, s2,
          a1 + a2);
    for (int i = 0; i < 4; i++) free(want[i]);
    free(neg);
    vc_free(&x), vc_free(&g);
}

int main(void) {
    tu_seed(90091);
    tu_contexts_make(&ctxs);
    tu_split_everything(0);
    for (int i = 0; i < 300; i++) one_case(-1);
    tu_contexts_free(&ctxs);
    return tu_finish();
}
