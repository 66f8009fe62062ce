/* SPDX-License-Identifier: MIT */
/*
 * On-the-fly rows at scattered positions (cossin/fly_rows.c: an anchor that is not the slot's comes
 * from the digit tables, one entry or a complex product of several, instead of an angle block per
 * token) are bitwise the cache's: vLLM rotary_embedding on the fly, 32 to 600 tokens at random
 * positions up to 2^24 (and runs of consecutive ones), against the table operator on a cache whose
 * row t rope_cache_fill built for token t's position, forward and backward, every context (ISA,
 * threads). cos/sin in the data's dtype or f32, three frequency configurations. Random data, fixed
 * seed; tests/cossin/test_fly_bound.c measures the product anchors' error against their slack.
 */
#include <stdlib.h>
#include <string.h>

#include "contexts.h"
#include "harness.h"
#include "reference.h"

static tu_contexts ctxs;

static void one_case(int n) {
    static const rope_dtype types[] = {ROPE_F32, ROPE_F16, ROPE_BF16};
    static const size_t tokens[] = {32, 47, 64, 130, 600};
    static const int64_t reach[] = {300, 5000, (int64_t)1 << 20, (int64_t)1 << 24};
    rope_dtype xt = types[n % 3], ct = tu_int(0, 1) ? xt : ROPE_F32;
    size_t T = tokens[tu_int(0, 4)], rot = 2 * (size_t)tu_int(1, 40), H = (size_t)tu_int(1, 2);
    int64_t P = reach[tu_int(0, 3)];
    size_t xe = rope_dtype_size(xt), ce = rope_dtype_size(ct), w = H * rot;
    int64_t *pos = tu_xmalloc(T * sizeof *pos), *idx = tu_xmalloc(T * sizeof *idx);
    for (size_t t = 0; t < T; t++) {
        pos[t] = t && tu_int(0, 3) == 0 ? pos[t - 1] + 1 : tu_int(0, P - 1); /* some runs */
        if (pos[t] >= P) pos[t] = P - 1;
        idx[t] = (int64_t)t;
    }
    rope_freq_config cfg;
    cfg = (rope_freq_config)ROPE_FREQ_CONFIG_INIT;
    cfg.rotary_dim = (int64_t)rot;
    cfg.base = n % 3 == 0 ? 10000 : n % 3 == 1 ? 500000 : 1000;
    if (n % 4 == 3) cfg.scaling = ROPE_SCALING_LINEAR, cfg.factor = 4;
    unsigned char *cache = tu_xmalloc(T * rot * ce), *x = tu_xmalloc(T * w * xe), *want = tu_xmalloc(T * w * xe);
    unsigned char *got = tu_xmalloc(T * w * xe);
    for (size_t t = 0; t < T; t++) {
        rope_tensor row = {cache + t * rot * ce, ct, 2, {1, (int64_t)rot}, 0};
        CHECK(rope_cache_fill(&cfg, pos[t], 1, ROPE_CACHE_VLLM, 0, &row, NULL) == ROPE_OK, "fill: %s", rope_last_error());
    }
    ref_fill(xt, x, NULL, T * w);
    rope_vllm_attrs a = ROPE_VLLM_ATTRS_INIT;
    a.head_size = (int64_t)rot;
    a.is_neox = (int)tu_int(0, 1);
    rope_tensor q = {x, xt, 2, {(int64_t)T, (int64_t)w}, 0}, qw = q, qg = q;
    qw.data = want, qg.data = got;
    rope_tensor cs = {cache, ct, 2, {(int64_t)T, (int64_t)rot}, 0};
    rope_tensor pt = {pos, ROPE_I64, 1, {(int64_t)T}, 0}, it = {idx, ROPE_I64, 1, {(int64_t)T}, 0};
    rope_fly fly;
    memset(&fly, 0, sizeof fly);
    fly.freq = &cfg, fly.kind = ROPE_POSITIONS_PER_TOKEN, fly.positions = pt, fly.cs_dtype = ct;
    for (int bwd = 0; bwd < 2; bwd++) {
        rope_status st = bwd ? rope_vllm_rotary_embedding_backward(NULL, &a, &it, &q, NULL, &cs, &qw, NULL)
                             : rope_vllm_rotary_embedding(NULL, &a, &it, &q, NULL, &cs, &qw, NULL);
        CHECK(st == ROPE_OK, "table: %s", rope_last_error());
        for (int c = 0; c < ctxs.n; c++) {
            memset(got, 0, T * w * xe);
            st = bwd ? rope_vllm_rotary_embedding_fly_backward(ctxs.ctx[c], &a, &q, NULL, &fly, &qg, NULL)
                     : rope_vllm_rotary_embedding_fly(ctxs.ctx[c], &a, &q, NULL, &fly, &qg, NULL);
            CHECK(st == ROPE_OK, "fly: %s", rope_last_error());
            CHECK(!memcmp(got, want, T * w * xe),
                  "%s: %s x, %s cos, T %zu, rot %zu, positions < %lld, base %g%s: not bitwise the cache's",
                  ctxs.name[c], rope_dtype_name(xt), rope_dtype_name(ct), T, rot, (long long)P, cfg.base,
                  bwd ? ", backward" : "");
        }
    }
    free(pos), free(idx), free(cache), free(x), free(want), free(got);
}

int main(void) {
    tu_seed(1618);
    tu_contexts_make(&ctxs);
    for (int n = 0; n < 120; n++) one_case(n);
    tu_contexts_free(&ctxs);
    return tu_finish();
}
