/* SPDX-License-Identifier: MIT */
/*
 * rope_onnx_rotary_embedding_fly against the table operator: for every scaling method, dtype, layout
 * and positions mode, the on-the-fly result must be bitwise that of rope_onnx_rotary_embedding on a
 * cache built by rope_cache_fill with the same configuration (row t of a 3-D cache [batch, seq, r/2]
 * filled at token t's position), on every instruction set with 1 and 2 threads; the backward form
 * likewise against rope_onnx_rotary_embedding_backward on that cache. Positions: random per token,
 * consecutive runs, per-sequence start offsets, and large ones near 2^20 and 2^24 (where a float32
 * angle would be far off). Plus the rejections, one each, with nothing written.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "contexts.h"
#include "fly_configs.h"
#include "harness.h"
#include "reference.h"
#include "rope.h"

static tu_contexts ctxs;

typedef struct fcase {
    int rank, interleaved, per_seq, backward, in_place;
    int64_t B, S, N, H, rot;
    rope_dtype dt;
    int64_t base_pos; /* positions are drawn from [base_pos, base_pos + spread) */
    int64_t spread;
    int consecutive;
} fcase;

static void run_case(const fcase *c, const rope_freq_config *cfg, const char *cfg_name) {
    char name[256];
    int64_t B = c->B, S = c->S, N = c->N, H = c->H, r = c->rot ? c->rot : H, cw = r / 2;
    snprintf(name, sizeof name, "%s %s %d-D B%lld S%lld N%lld H%lld r%lld il%d %s pos %lld%s%s%s", cfg_name,
             rope_dtype_name(c->dt), c->rank, (long long)B, (long long)S, (long long)N, (long long)H, (long long)r,
             c->interleaved, c->per_seq ? "per-seq" : "per-token", (long long)c->base_pos,
             c->consecutive ? " consecutive" : "", c->backward ? " backward" : "", c->in_place ? " in place" : "");
    size_t es = rope_dtype_size(c->dt), n = (size_t)(B * S * N * H), bytes = n * es;
    void *x = tu_xmalloc(bytes);
    ref_fill(c->dt, x, NULL, n);
    int64_t *pos = tu_xmalloc((size_t)(B * S) * sizeof(int64_t));
    int64_t *tok = tu_xmalloc((size_t)(B * S) * sizeof(int64_t));
    for (int64_t b = 0; b < B; b++) {
        int64_t start = c->base_pos + tu_int(0, c->spread - 1);
        if (c->per_seq) pos[b] = start;
        for (int64_t s = 0; s < S; s++)
            tok[b * S + s] = c->per_seq || c->consecutive ? start + s : c->base_pos + tu_int(0, c->spread - 1);
    }
    if (!c->per_seq) memcpy(pos, tok, (size_t)(B * S) * sizeof(int64_t));
    /* The cache: row t at token t's position, as a 3-D [B, S, r/2] table. */
    void *cb = tu_xmalloc((size_t)(B * S * cw) * es), *sb = tu_xmalloc((size_t)(B * S * cw) * es);
    for (int64_t t = 0; t < B * S; t++) {
        rope_tensor rc = {(char *)cb + (size_t)(t * cw) * es, c->dt, 2, {1, cw}, 0}, rsn = rc;
        rsn.data = (char *)sb + (size_t)(t * cw) * es;
        rope_status st = rope_cache_fill(cfg, tok[t], 1, ROPE_CACHE_HALF, 0, &rc, &rsn);
        CHECK(st == ROPE_OK, "%s: cache fill: %s", name, rope_last_error());
    }
    rope_onnx_attrs attrs = {c->interleaved, c->rot, c->rank == 3 ? N : 0};
    rope_tensor X = {x, c->dt, c->rank, {B, N, S, H}, 0};
    if (c->rank == 3) X.dims[1] = S, X.dims[2] = N * H;
    rope_tensor Cs = {cb, c->dt, 3, {B, S, cw}, 0}, Sn = Cs;
    Sn.data = sb;
    rope_fly fly;
    memset(&fly, 0, sizeof fly);
    fly.freq = cfg;
    fly.kind = c->per_seq ? ROPE_POSITIONS_PER_SEQUENCE : ROPE_POSITIONS_PER_TOKEN;
    rope_tensor P = {pos, ROPE_I64, c->per_seq ? 1 : 2, {B, S}, 0};
    fly.positions = P;

    void *want = tu_xmalloc(bytes), *got = tu_xmalloc(bytes);
    for (int k = 0; k < ctxs.n; k++) {
        rope_tensor W = X, G = X, in = X;
        W.data = want, G.data = got;
        rope_status st = c->backward ? rope_onnx_rotary_embedding_backward(ctxs.ctx[k], &attrs, &X, &Cs, &Sn, NULL, &W)
                                     : rope_onnx_rotary_embedding(ctxs.ctx[k], &attrs, &X, &Cs, &Sn, NULL, &W);
        CHECK(st == ROPE_OK, "%s: table: %s", name, rope_last_error());
        if (c->in_place) memcpy(got, x, bytes), in.data = got;
        else memset(got, 0x5a, bytes);
        st = c->backward ? rope_onnx_rotary_embedding_fly_backward(ctxs.ctx[k], &attrs, &in, &fly, &G)
                         : rope_onnx_rotary_embedding_fly(ctxs.ctx[k], &attrs, &in, &fly, &G);
        CHECK(st == ROPE_OK, "%s on %s: %s", name, ctxs.name[k], rope_last_error());
        if (st != ROPE_OK) continue;
        size_t diff = 0, first = 0;
        for (size_t i = 0; i < n; i++)
            if (memcmp((char *)want + i * es, (char *)got + i * es, es)) diff++ == 0 ? (void)(first = i) : (void)0;
        CHECK(diff == 0, "%s on %s: %zu of %zu elements differ from the cached operator (first %zu: %.9g vs %.9g)",
              name, ctxs.name[k], diff, n, first, ref_load(c->dt, got, first), ref_load(c->dt, want, first));
    }
    free(x), free(pos), free(tok), free(cb), free(sb), free(want), free(got);
}

static void equality(void) {
    static const rope_dtype dts[] = {ROPE_F32, ROPE_F16, ROPE_BF16};
    static const int64_t bases[] = {0, 1000, (1 << 20) - 50, (1 << 24) - 300};
    int turn = 0;
    for (int ci = 0; ci < FLY_N_CONFIGS; ci++)
        for (int di = 0; di < 3; di++)
            for (int v = 0; v < 4; v++, turn++) {
                fcase c;
                memset(&c, 0, sizeof c);
                c.rank = turn % 2 ? 3 : 4;
                c.interleaved = (turn / 2) % 4; /* librope's 2 (pairs to halves) and 3 (split halves) too */
                c.B = tu_int(1, 3), c.S = tu_int(1, 70), c.N = tu_int(1, 3), c.H = 2 * tu_int(2, 32);
                c.rot = tu_int(0, 2) ? 0 : 2 * tu_int(1, c.H / 2);
                c.dt = dts[di];
                c.per_seq = v == 2;
                c.consecutive = v == 1;
                c.backward = turn % 3 == 0;
                c.in_place = turn % 5 == 0;
                c.base_pos = bases[(turn / 3) % 4];
                c.spread = v == 3 ? 200000 : 300;
                const char *nm;
                rope_freq_config cfg = fly_config(ci, c.rot ? c.rot : c.H, &nm);
                run_case(&c, &cfg, nm);
            }
    /* Long runs of consecutive positions: anchors and the step table carry the values. */
    for (int ci = 0; ci < FLY_N_CONFIGS; ci++) {
        fcase c;
        memset(&c, 0, sizeof c);
        c.rank = 4, c.B = 2, c.S = 700, c.N = 2, c.H = 64, c.dt = dts[ci % 3], c.per_seq = ci % 2;
        c.consecutive = 1, c.backward = ci == 3, c.base_pos = ci % 2 ? (1 << 24) - 500 : 5, c.spread = 1000;
        const char *nm;
        rope_freq_config cfg = fly_config(ci, 64, &nm);
        run_case(&c, &cfg, nm);
    }
}

/* One call per rejection; Y must stay as it was. */
static void errors(void) {
    float x[2 * 3 * 16], y[2 * 3 * 16];
    int64_t pos[6] = {0, 1, 2, 3, 4, 5}, neg[6] = {0, 1, -2, 3, 4, 5}, huge[6] = {0, 1, (int64_t)1 << 50, 3, 4, 5};
    int64_t starts[2] = {0, 7};
    for (int i = 0; i < 96; i++) x[i] = 0.5f + 0.125f * (float)(i % 9);
    rope_onnx_attrs attrs = {0, 0, 2};
    rope_tensor X = {x, ROPE_F32, 3, {2, 3, 16}, 0}, Y = X;
    Y.data = y;
    rope_freq_config cfg, cfg4, bad_cfg;
    cfg = (rope_freq_config)ROPE_FREQ_CONFIG_INIT;
    cfg.rotary_dim = 8;
    cfg4 = cfg, cfg4.rotary_dim = 4;
    bad_cfg = cfg, bad_cfg.base = 0.5;
    rope_fly ok;
    memset(&ok, 0, sizeof ok);
    ok.freq = &cfg;
    rope_tensor P = {pos, ROPE_I64, 2, {2, 3}, 0};
    ok.positions = P;
    rope_fly f[12];
    for (int i = 0; i < 12; i++) f[i] = ok;
    f[0].freq = NULL;
    f[1].freq = &cfg4;
    f[2].freq = &bad_cfg;
    f[3].kind = (rope_positions_kind)2;
    f[4].positions.dtype = ROPE_I32;
    f[5].positions.rank = 1;
    f[6].positions.dims[1] = 4;
    f[7].positions.data = NULL;
    f[8].positions.data = neg;
    f[9].positions.data = huge;
    f[10].cs_dtype = ROPE_F16;
    f[11].kind = ROPE_POSITIONS_PER_SEQUENCE, f[11].positions.rank = 1, f[11].positions.data = starts;
    f[11].positions.dims[0] = 3;
    struct {
        const char *what, *in_msg;
        const rope_fly *fly;
        rope_status want;
    } cases[] = {
        {"NULL freq", "fly->freq is NULL", &f[0], ROPE_ERROR_NULL_ARGUMENT},
        {"rotary_dim 4 for r 8", "rotary_dim", &f[1], ROPE_ERROR_ATTRIBUTE},
        {"base 0.5", "base", &f[2], ROPE_ERROR_ATTRIBUTE},
        {"kind 2", "fly->kind", &f[3], ROPE_ERROR_ATTRIBUTE},
        {"i32 positions", "fly->positions dtype", &f[4], ROPE_ERROR_DTYPE},
        {"rank 1 per token", "fly->positions rank", &f[5], ROPE_ERROR_RANK},
        {"seq 4", "fly->positions dim 1", &f[6], ROPE_ERROR_SHAPE},
        {"NULL positions", "fly->positions data is NULL", &f[7], ROPE_ERROR_NULL_ARGUMENT},
        {"negative position", "fly->positions[2] = -2", &f[8], ROPE_ERROR_INDEX},
        {"angle past 2^46", "2^46", &f[9], ROPE_ERROR_INDEX},
        {"f16 cs with f32 X", "cs_dtype", &f[10], ROPE_ERROR_DTYPE},
        {"3 starts for 2 batches", "fly->positions dim 0", &f[11], ROPE_ERROR_SHAPE},
        {"NULL fly", "fly is NULL", NULL, ROPE_ERROR_NULL_ARGUMENT},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        for (int bw = 0; bw < 2; bw++) {
            memset(y, 0x5a, sizeof y);
            rope_status st = bw ? rope_onnx_rotary_embedding_fly_backward(NULL, &attrs, &X, cases[i].fly, &Y)
                                : rope_onnx_rotary_embedding_fly(NULL, &attrs, &X, cases[i].fly, &Y);
            CHECK(st == cases[i].want, "%s: status %s (%s)", cases[i].what, rope_status_string(st), rope_last_error());
            CHECK(strstr(rope_last_error(), cases[i].in_msg) != NULL, "%s: message '%s'", cases[i].what,
                  rope_last_error());
            unsigned char pat[sizeof y];
            memset(pat, 0x5a, sizeof pat);
            CHECK(memcmp(y, pat, sizeof y) == 0, "%s: Y written on error", cases[i].what);
        }
    /* The checks X and Y share with the table operator: a partial overlap, and a bad attribute. */
    rope_tensor partial = Y;
    partial.data = x + 1;
    CHECK(rope_onnx_rotary_embedding_fly(NULL, &attrs, &X, &ok, &partial) == ROPE_ERROR_ALIASING, "%s",
          rope_last_error());
    rope_tensor over_pos = {pos, ROPE_F32, 3, {1, 1, 16}, 0}; /* Y over the positions */
    rope_tensor X1 = X;
    X1.dims[0] = 1, X1.dims[1] = 1;
    rope_fly one = ok;
    one.positions.dims[0] = 1, one.positions.dims[1] = 1;
    CHECK(rope_onnx_rotary_embedding_fly(NULL, &attrs, &X1, &one, &over_pos) == ROPE_ERROR_ALIASING, "%s",
          rope_last_error());
    rope_onnx_attrs odd = {0, 3, 2};
    CHECK(rope_onnx_rotary_embedding_fly(NULL, &odd, &X, &ok, &Y) == ROPE_ERROR_ATTRIBUTE, "%s", rope_last_error());
    CHECK(rope_onnx_rotary_embedding_fly(NULL, &attrs, &X, &ok, &Y) == ROPE_OK, "%s", rope_last_error());

    /* The multi-axis form (rope_onnx_rotary_embedding_fly_axes, tests/cossin/test_fly_axes.c has the
     * rest) on the same X and Y: axes 2 + 6 = r, one (h, w) per token. */
    rope_axes_config ax = ROPE_AXES_CONFIG_INIT, ax9 = ROPE_AXES_CONFIG_INIT, ax10 = ROPE_AXES_CONFIG_INIT;
    ax.n_axes = 2, ax.axes_dims[0] = 2, ax.axes_dims[1] = 6;
    ax9 = ax, ax9.n_axes = 9;
    ax10 = ax, ax10.axes_dims[1] = 8;
    float hw[12] = {0, 0, 0, 1, 0, 2, 1, 0, 1, 1, 1, 2}, hw_nan[12];
    int64_t hw_big[12] = {0, 0, 0, 1, 0, 2, 1, 0, 1, ((int64_t)1 << 53) + 1, 1, 2};
    memcpy(hw_nan, hw, sizeof hw);
    hw_nan[9] = NAN;
    rope_fly_axes fa = ROPE_FLY_AXES_INIT, g[8];
    fa.axes = &ax;
    fa.positions = (rope_tensor){hw, ROPE_F32, 2, {6, 2}, 0};
    for (int i = 0; i < 8; i++) g[i] = fa;
    g[0].axes = NULL;
    g[1].axes = &ax9;
    g[2].positions.data = hw_nan;
    g[3].positions.data = hw_big, g[3].positions.dtype = ROPE_I64;
    g[4].positions.dims[1] = 3;
    g[5].positions.dtype = ROPE_F16;
    g[6].struct_size = 0;
    g[7].axes = &ax10;
    struct {
        const char *what, *in_msg;
        rope_status want;
    } axes_cases[] = {
        {"NULL axes", "fly->axes is NULL", ROPE_ERROR_NULL_ARGUMENT},
        {"9 axes", "fly->axes->n_axes: expected 1 .. 8, found 9", ROPE_ERROR_ATTRIBUTE},
        {"NaN coordinate", "fly->positions[4, 1]: expected a finite coordinate", ROPE_ERROR_INDEX},
        {"i64 past 2^53", "fly->positions[4, 1]: expected |value| <= 2^53", ROPE_ERROR_INDEX},
        {"3 coordinates for 2 axes", "fly->positions dim 1", ROPE_ERROR_SHAPE},
        {"f16 coordinates", "fly->positions dtype", ROPE_ERROR_DTYPE},
        {"struct_size 0", "fly->struct_size", ROPE_ERROR_ATTRIBUTE},
        {"widths summing to 10", "expected widths summing to 8", ROPE_ERROR_ATTRIBUTE},
    };
    for (size_t i = 0; i < sizeof axes_cases / sizeof axes_cases[0]; i++)
        for (int bw = 0; bw < 2; bw++) {
            memset(y, 0x5a, sizeof y);
            rope_status st = bw ? rope_onnx_rotary_embedding_fly_axes_backward(NULL, &attrs, &X, &g[i], &Y)
                                : rope_onnx_rotary_embedding_fly_axes(NULL, &attrs, &X, &g[i], &Y);
            CHECK(st == axes_cases[i].want, "%s: status %s (%s)", axes_cases[i].what, rope_status_string(st),
                  rope_last_error());
            CHECK(strstr(rope_last_error(), axes_cases[i].in_msg) != NULL, "%s: message '%s'", axes_cases[i].what,
                  rope_last_error());
            unsigned char pat[sizeof y];
            memset(pat, 0x5a, sizeof pat);
            CHECK(memcmp(y, pat, sizeof y) == 0, "%s: Y written on error", axes_cases[i].what);
        }
    CHECK(rope_onnx_rotary_embedding_fly_axes(NULL, &attrs, &X, &fa, &Y) == ROPE_OK, "%s", rope_last_error());
}

int main(void) {
    tu_seed(424242);
    tu_contexts_make(&ctxs);
    errors();
    tu_split_everything(5);
    equality();
    tu_contexts_free(&ctxs);
    return tu_finish();
}
