/* SPDX-License-Identifier: MIT */
/* The vLLM operator on the fly against the cached operator on a cache rope_cache_fill built with
 * ROPE_CACHE_VLLM for the same configuration and dtype: bitwise equal outputs, forward and
 * backward, for random cases (every layout, pairing, dtype pair, partial rotation, key absent, i32
 * and i64 positions up to 40000, several scalings, MRoPE with one position per axis per token), on
 * every instruction set and thread count;
 * also the on-the-fly rejections (kind, cs_dtype, rotary_dim, NULLs) with nothing written. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "contexts.h"
#include "harness.h"
#include "vllm_case.h"

static tu_contexts ctxs;

static int same(const vllm_bufs *a, unsigned char *const want[4]) {
    for (int i = 0; i < 4; i++)
        if (a->mem[i] && memcmp(a->mem[i], want[i], a->bytes[i])) return 0;
    return 1;
}

static void one_case(int mrope) {
    vllm_case c;
    vllm_bufs b;
    char desc[400];
    vc_draw(&c, mrope);
    vc_layouts(&c, 1);
    /* far positions, with a cache that fills fast */
    if (tu_int(0, 3) == 0) c.cache_rows = tu_int(1000, c.rot <= 32 ? 40000 : 4000);
    vc_build(&c, &b, 0);
    vc_str(&c, desc, sizeof desc);
    rope_freq_config cfg;
    cfg = (rope_freq_config)ROPE_FREQ_CONFIG_INIT;
    cfg.rotary_dim = c.rot;
    cfg.base = tu_int(0, 1) ? 10000 : 1000000;
    if (tu_int(0, 2) == 0) cfg.scaling = ROPE_SCALING_LINEAR, cfg.factor = 4;
    size_t ce = rope_dtype_size(c.ct);
    void *cache = tu_xmalloc((size_t)(c.cache_rows * c.rot) * ce);
    rope_tensor ct = {cache, c.ct, 2, {c.cache_rows, c.rot}, 0};
    CHECK(rope_cache_fill(&cfg, 0, c.cache_rows, ROPE_CACHE_VLLM, 0, &ct, NULL) == ROPE_OK, "cache %s: %s", desc,
          rope_last_error());
    rope_fly fly;
    memset(&fly, 0, sizeof fly);
    fly.freq = &cfg, fly.kind = ROPE_POSITIONS_PER_TOKEN, fly.positions = b.positions;
    fly.cs_dtype = c.ct == c.xt && tu_int(0, 1) ? (rope_dtype)0 : c.ct;
    int has_k = c.hk >= 0;
    const rope_tensor *k = has_k ? &b.key : NULL, *ko = has_k ? &b.key_out : NULL;
    for (int bwd = 0; bwd < 2; bwd++) {
        vc_restore(&b);
        rope_status st = bwd ? rope_vllm_rotary_embedding_backward(NULL, &c.attrs, &b.positions, &b.query, k, &ct,
                                                                   &b.query_out, ko)
                             : rope_vllm_rotary_embedding(NULL, &c.attrs, &b.positions, &b.query, k, &ct, &b.query_out,
                                                          ko);
        CHECK(st == ROPE_OK, "cached %s: %s", desc, rope_last_error());
        unsigned char *want[4] = {0};
        for (int i = 0; i < 4; i++)
            if (b.mem[i]) want[i] = tu_xmalloc(b.bytes[i]), memcpy(want[i], b.mem[i], b.bytes[i]);
        for (int x = 0; x < ctxs.n; x++) {
            vc_restore(&b);
            rope_context *cx = ctxs.ctx[x];
            st = bwd ? rope_vllm_rotary_embedding_fly_backward(cx, &c.attrs, &b.query, k, &fly, &b.query_out, ko)
                     : rope_vllm_rotary_embedding_fly(cx, &c.attrs, &b.query, k, &fly, &b.query_out, ko);
            CHECK(st == ROPE_OK, "fly%s on %s, %s: %s", bwd ? " backward" : "", ctxs.name[x], desc, rope_last_error());
            CHECK(same(&b, want), "fly%s on %s, %s: not bitwise the cached result", bwd ? " backward" : "",
                  ctxs.name[x], desc);
        }
        for (int i = 0; i < 4; i++) free(want[i]);
    }
    free(cache);
    vc_free(&b);
}

static void rejections(void) {
    enum { T = 3, HS = 8 };
    static uint16_t q[T * HS], qo[T * HS];
    static int64_t pos[T] = {0, 1, 2};
    rope_vllm_attrs a = ROPE_VLLM_ATTRS_INIT;
    a.head_size = HS;
    rope_freq_config cfg;
    cfg = (rope_freq_config)ROPE_FREQ_CONFIG_INIT;
    cfg.rotary_dim = HS;
    rope_tensor tq = {q, ROPE_F16, 2, {T, HS}, 0}, tqo = {qo, ROPE_F16, 2, {T, HS}, 0};
    rope_fly ok = {&cfg, ROPE_POSITIONS_PER_TOKEN, {pos, ROPE_I64, 1, {T}, 0}, 0};
    struct {
        const char *what;
        rope_fly f;
        rope_status want;
        const char *needle;
    } cases[9];
    int n = 0;
    cases[n].what = "kind", cases[n].f = ok, cases[n].f.kind = ROPE_POSITIONS_PER_SEQUENCE;
    cases[n].want = ROPE_ERROR_ATTRIBUTE, cases[n++].needle = "fly->kind";
    cases[n].what = "cs_dtype", cases[n].f = ok, cases[n].f.cs_dtype = ROPE_BF16;
    cases[n].want = ROPE_ERROR_DTYPE, cases[n++].needle = "fly->cs_dtype";
    rope_freq_config big = cfg;
    big.rotary_dim = 2 * HS;
    cases[n].what = "rotary_dim", cases[n].f = ok, cases[n].f.freq = &big;
    cases[n].want = ROPE_ERROR_SHAPE, cases[n++].needle = "fly->freq->rotary_dim";
    cases[n].what = "freq NULL", cases[n].f = ok, cases[n].f.freq = NULL;
    cases[n].want = ROPE_ERROR_NULL_ARGUMENT, cases[n++].needle = "fly->freq";
    cases[n].what = "positions rank", cases[n].f = ok, cases[n].f.positions.rank = 3;
    cases[n].want = ROPE_ERROR_RANK, cases[n++].needle = "fly->positions";
    /* query's tokens against the positions': the argument they come from is fly->positions */
    cases[n].what = "positions' tokens", cases[n].f = ok, cases[n].f.positions.dims[0] = T - 1;
    cases[n].want = ROPE_ERROR_SHAPE, cases[n++].needle = "(T, the tokens of fly->positions)";
    static int64_t bad_pos[T] = {0, -4, 1};
    cases[n].what = "negative position", cases[n].f = ok, cases[n].f.positions.data = bad_pos;
    cases[n].want = ROPE_ERROR_INDEX, cases[n++].needle = "fly->positions[1]";
    static int64_t far_pos[T] = {0, (int64_t)1 << 50, 1};
    cases[n].what = "angle too large", cases[n].f = ok, cases[n].f.positions.data = far_pos;
    cases[n].want = ROPE_ERROR_INDEX, cases[n++].needle = "fly->positions";
    for (int i = 0; i < n; i++) {
        for (int e = 0; e < T * HS; e++) qo[e] = 0xabcd;
        rope_status st = rope_vllm_rotary_embedding_fly(NULL, &a, &tq, NULL, &cases[i].f, &tqo, NULL);
        CHECK(st == cases[i].want, "%s: status %d, expected %d (%s)", cases[i].what, (int)st, (int)cases[i].want,
              rope_last_error());
        CHECK(strstr(rope_last_error(), cases[i].needle) != NULL, "%s: %s", cases[i].what, rope_last_error());
        int untouched = 1;
        for (int e = 0; e < T * HS; e++) untouched &= qo[e] == 0xabcd;
        CHECK(untouched, "%s: output written", cases[i].what);
    }
    CHECK(rope_vllm_rotary_embedding_fly(NULL, &a, &tq, NULL, NULL, &tqo, NULL) == ROPE_ERROR_NULL_ARGUMENT,
          "NULL fly");

    /* The multi-axis form (rope_vllm_rotary_embedding_fly_axes; tests/cossin/test_fly_axes.c has the
     * rest): rot = HS as axes 2 + 6, (h, w) per token. */
    rope_axes_config ax = ROPE_AXES_CONFIG_INIT, ax_big = ROPE_AXES_CONFIG_INIT;
    ax.n_axes = 2, ax.axes_dims[0] = 2, ax.axes_dims[1] = 6;
    ax_big = ax, ax_big.axes_dims[1] = 8;
    static int32_t hw[2 * T] = {0, 0, 0, 1, 1, 0};
    static float hw_nan[2 * T] = {0, 0, 0, 1, 1, 0};
    hw_nan[3] = NAN;
    rope_fly_axes fa = ROPE_FLY_AXES_INIT;
    fa.axes = &ax;
    fa.positions = (rope_tensor){hw, ROPE_I32, 2, {T, 2}, 0};
    struct {
        const char *what;
        rope_fly_axes f;
        rope_vllm_attrs a;
        rope_status want;
        const char *needle;
    } ac[5];
    int m = 0;
    ac[m].what = "axes past the head", ac[m].f = fa, ac[m].f.axes = &ax_big, ac[m].a = a;
    ac[m].want = ROPE_ERROR_SHAPE, ac[m++].needle = "fly->axes->axes_dims' sum (rot)";
    ac[m].what = "NaN coordinate", ac[m].f = fa, ac[m].f.positions.data = hw_nan, ac[m].f.positions.dtype = ROPE_F32;
    ac[m].a = a, ac[m].want = ROPE_ERROR_INDEX, ac[m++].needle = "fly->positions[1, 1]: expected a finite";
    ac[m].what = "MRoPE sections", ac[m].f = fa, ac[m].a = a, ac[m].a.n_mrope_section = 3;
    ac[m].a.mrope_section[0] = 1, ac[m].a.mrope_section[1] = 1, ac[m].a.mrope_section[2] = 2;
    ac[m].want = ROPE_ERROR_ATTRIBUTE, ac[m++].needle = "n_mrope_section: expected 0 with multi-axis positions";
    ac[m].what = "coordinates rank 1", ac[m].f = fa, ac[m].f.positions.rank = 1, ac[m].a = a;
    ac[m].want = ROPE_ERROR_RANK, ac[m++].needle = "fly->positions rank";
    ac[m].what = "fly struct_size", ac[m].f = fa, ac[m].f.struct_size = 8, ac[m].a = a;
    ac[m].want = ROPE_ERROR_ATTRIBUTE, ac[m++].needle = "fly->struct_size";
    for (int i = 0; i < m; i++) {
        for (int e = 0; e < T * HS; e++) qo[e] = 0xabcd;
        rope_status st = rope_vllm_rotary_embedding_fly_axes(NULL, &ac[i].a, &tq, NULL, &ac[i].f, &tqo, NULL);
        CHECK(st == ac[i].want, "%s: status %d, expected %d (%s)", ac[i].what, (int)st, (int)ac[i].want,
              rope_last_error());
        CHECK(strstr(rope_last_error(), ac[i].needle) != NULL, "%s: %s", ac[i].what, rope_last_error());
        int untouched = 1;
        for (int e = 0; e < T * HS; e++) untouched &= qo[e] == 0xabcd;
        CHECK(untouched, "%s: output written", ac[i].what);
    }
    CHECK(rope_vllm_rotary_embedding_fly_axes(NULL, &a, &tq, NULL, &fa, &tqo, NULL) == ROPE_OK, "%s",
          rope_last_error());
}

int main(void) {
    tu_seed(90092);
    tu_contexts_make(&ctxs);
    tu_split_everything(0);
    for (int i = 0; i < 200; i++) one_case(-1);
    rejections();
    tu_contexts_free(&ctxs);
    return tu_finish();
}
