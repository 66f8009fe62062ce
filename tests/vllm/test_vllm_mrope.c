/* SPDX-License-Identifier: MIT */
/* MRoPE with every axis holding the same position is the plain operator: on random MRoPE cases
 * (3 and 4 contiguous sections, interleaved, sections of any size) whose axes are equal, the MRoPE
 * call is bitwise the plain call on positions[0], forward, backward and on the fly, on every
 * instruction set and thread count. (Distinct axes are checked against the reference in
 * test_vllm_random, and on the fly against the cache in test_vllm_fly.) */
#include <stdlib.h>
#include <string.h>

#include "contexts.h"
#include "harness.h"
#include "vllm_case.h"

static tu_contexts ctxs;

typedef enum { FWD, BWD, FLY } mode;

static rope_status call(mode md, rope_context *ctx, const rope_vllm_attrs *a, const rope_tensor *pos,
                        const vllm_case *c, vllm_bufs *b, const rope_freq_config *cfg) {
    const rope_tensor *k = c->hk >= 0 ? &b->key : NULL, *ko = c->hk >= 0 ? &b->key_out : NULL;
    if (md == FWD) return rope_vllm_rotary_embedding(ctx, a, pos, &b->query, k, &b->cache_t, &b->query_out, ko);
    if (md == BWD)
        return rope_vllm_rotary_embedding_backward(ctx, a, pos, &b->query, k, &b->cache_t, &b->query_out, ko);
    rope_fly fly = {cfg, ROPE_POSITIONS_PER_TOKEN, *pos, c->ct};
    return rope_vllm_rotary_embedding_fly(ctx, a, &b->query, k, &fly, &b->query_out, ko);
}

static void one_case(void) {
    vllm_case c;
    vllm_bufs b;
    char desc[400];
    vc_draw(&c, 1);
    vc_layouts(&c, 1);
    vc_build(&c, &b, 1);
    vc_str(&c, desc, sizeof desc);
    rope_vllm_attrs plain = c.attrs;
    plain.n_mrope_section = 0, plain.mrope_interleaved = 0;
    memset(plain.mrope_section, 0, sizeof plain.mrope_section);
    rope_tensor pos0 = b.positions; /* axis 0: the first row of [m, ...] */
    pos0.rank--;
    memmove(pos0.dims, pos0.dims + 1, (size_t)pos0.rank * sizeof pos0.dims[0]);
    rope_freq_config cfg;
    cfg = (rope_freq_config)ROPE_FREQ_CONFIG_INIT;
    cfg.rotary_dim = c.rot;
    for (mode md = FWD; md <= FLY; md++) {
        vc_restore(&b);
        rope_status st = call(md, ctxs.ctx[0], &plain, &pos0, &c, &b, &cfg);
        CHECK(st == ROPE_OK, "plain mode %d %s: %s", (int)md, desc, rope_last_error());
        unsigned char *want[4] = {0};
        for (int i = 0; i < 4; i++)
            if (b.mem[i]) want[i] = tu_xmalloc(b.bytes[i]), memcpy(want[i], b.mem[i], b.bytes[i]);
        for (int x = 0; x < ctxs.n; x++) {
            vc_restore(&b);
            st = call(md, ctxs.ctx[x], &c.attrs, &b.positions, &c, &b, &cfg);
            CHECK(st == ROPE_OK, "MRoPE mode %d on %s, %s: %s", (int)md, ctxs.name[x], desc, rope_last_error());
            int same = 1;
            for (int i = 0; i < 4; i++)
                if (b.mem[i]) same &= !memcmp(b.mem[i], want[i], b.bytes[i]);
            CHECK(same, "MRoPE mode %d on %s, %s: not bitwise the plain result", (int)md, ctxs.name[x], desc);
        }
        for (int i = 0; i < 4; i++) free(want[i]);
    }
    vc_free(&b);
}

int main(void) {
    tu_seed(90093);
    tu_contexts_make(&ctxs);
    tu_split_everything(0);
    for (int i = 0; i < 200; i++) one_case();
    tu_contexts_free(&ctxs);
    return tu_finish();
}
