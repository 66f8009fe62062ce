/* SPDX-License-Identifier: MIT */
/*
 * rope_atb_rope_fly against the table operator: for every scaling method, dtype pair (f32, f16, bf16,
 * f16 with f32 cos), coefficient (2, 4, D) and positions mode, the on-the-fly result must be bitwise
 * rope_atb_rope's on a cache built by rope_cache_fill (ROPE_CACHE_FULL with the same coefficient;
 * row t at token t's position, cosFormat 0), on every instruction set with 1 and 2 threads; the
 * backward form likewise against rope_atb_rope_backward. Positions per token (random, or consecutive)
 * and per packed sequence (start offsets with seqlen, empty sequences included), small and near 2^20
 * and 2^24. Plus one call per rejection, with nothing written.
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
    rope_dtype dt, ct;
    int64_t D, hq, hk, coeff, batch, seqlen[6];
    int per_seq, consecutive, backward, in_place;
    int64_t base_pos, spread;
} fcase;

static void run_case(const fcase *c, const rope_freq_config *cfg, const char *cfg_name) {
    char name[256];
    int64_t T = 0;
    for (int64_t b = 0; b < c->batch; b++) T += c->seqlen[b];
    snprintf(name, sizeof name, "%s %s/%s T%lld D%lld hq%lld hk%lld coeff%lld %s pos %lld%s%s%s", cfg_name,
             rope_dtype_name(c->dt), rope_dtype_name(c->ct), (long long)T, (long long)c->D, (long long)c->hq,
             (long long)c->hk, (long long)c->coeff, c->per_seq ? "per-seq" : "per-token", (long long)c->base_pos,
             c->consecutive ? " consecutive" : "", c->backward ? " backward" : "", c->in_place ? " in place" : "");
    size_t es = rope_dtype_size(c->dt), cs = rope_dtype_size(c->ct);
    size_t nq = (size_t)(T * c->hq), nk = (size_t)(T * c->hk), bytes = (nq + nk) * es;
    unsigned char *x = tu_xmalloc(bytes);
    ref_fill(c->dt, x, NULL, nq + nk);
    int64_t *tok = tu_xmalloc((size_t)T * sizeof(int64_t)), starts[6];
    int32_t sl[6];
    int64_t t = 0;
    for (int64_t b = 0; b < c->batch; b++) {
        starts[b] = c->base_pos + tu_int(0, c->spread - 1);
        sl[b] = (int32_t)c->seqlen[b];
        for (int64_t s = 0; s < c->seqlen[b]; s++, t++)
            tok[t] = c->per_seq || c->consecutive ? starts[b] + s : c->base_pos + tu_int(0, c->spread - 1);
    }
    unsigned char *cb = tu_xmalloc((size_t)(T * c->D) * cs), *sb = tu_xmalloc((size_t)(T * c->D) * cs);
    for (t = 0; t < T; t++) {
        rope_tensor rc = {cb + (size_t)(t * c->D) * cs, c->ct, 2, {1, c->D}, 0}, rsn = rc;
        rsn.data = sb + (size_t)(t * c->D) * cs;
        CHECK(rope_cache_fill(cfg, tok[t], 1, ROPE_CACHE_FULL, (int32_t)c->coeff, &rc, &rsn) == ROPE_OK,
              "%s: cache fill: %s", name, rope_last_error());
    }
    rope_atb_param param = ROPE_ATB_PARAM_INIT;
    param.rotary_coeff = (int32_t)c->coeff;
    param.cos_format = 0; /* the table run reads row t */
    rope_tensor Q = {x, c->dt, 2, {T, c->hq}, 0}, K = {x + nq * es, c->dt, 2, {T, c->hk}, 0};
    rope_tensor Cs = {cb, c->ct, 2, {T, c->D}, 0}, Sn = Cs, L = {sl, ROPE_I32, 1, {c->batch}, 0};
    Sn.data = sb;
    rope_fly fly;
    memset(&fly, 0, sizeof fly);
    fly.freq = cfg;
    fly.cs_dtype = c->ct;
    fly.kind = c->per_seq ? ROPE_POSITIONS_PER_SEQUENCE : ROPE_POSITIONS_PER_TOKEN;
    rope_tensor P = {c->per_seq ? starts : tok, ROPE_I64, 1, {c->per_seq ? c->batch : T}, 0};
    fly.positions = P;
    rope_atb_param fly_param = param;
    fly_param.cos_format = (int32_t)tu_int(0, 1); /* not used on the fly */

    unsigned char *want = tu_xmalloc(bytes), *got = tu_xmalloc(bytes);
    for (int k = 0; k < ctxs.n; k++) {
        rope_tensor WQ = Q, WK = K, GQ = Q, GK = K, iq = Q, ik = K;
        WQ.data = want, WK.data = want + nq * es, GQ.data = got, GK.data = got + nq * es;
        rope_status st = c->backward ? rope_atb_rope_backward(ctxs.ctx[k], &param, &Q, &K, &Cs, &Sn, &L, &WQ, &WK)
                                     : rope_atb_rope(ctxs.ctx[k], &param, &Q, &K, &Cs, &Sn, &L, &WQ, &WK);
        CHECK(st == ROPE_OK, "%s: table: %s", name, rope_last_error());
        if (c->in_place) memcpy(got, x, bytes), iq.data = GQ.data, ik.data = GK.data;
        else memset(got, 0x5a, bytes);
        st = c->backward ? rope_atb_rope_fly_backward(ctxs.ctx[k], &fly_param, &iq, &ik, &fly, &L, &GQ, &GK)
                         : rope_atb_rope_fly(ctxs.ctx[k], &fly_param, &iq, &ik, &fly, &L, &GQ, &GK);
        CHECK(st == ROPE_OK, "%s on %s: %s", name, ctxs.name[k], rope_last_error());
        if (st != ROPE_OK) continue;
        size_t diff = 0;
        for (size_t i = 0; i < nq + nk; i++) diff += memcmp(want + i * es, got + i * es, es) != 0;
        CHECK(diff == 0, "%s on %s: %zu of %zu elements differ from the cached operator", name, ctxs.name[k], diff,
              nq + nk);
    }
    free(x), free(tok), free(cb), free(sb), free(want), free(got);
}

static void equality(void) {
    static const rope_dtype pairs[][2] = {
        {ROPE_F32, ROPE_F32}, {ROPE_F16, ROPE_F16}, {ROPE_F16, ROPE_F32}, {ROPE_BF16, ROPE_BF16}};
    static const int64_t bases[] = {0, 3000, (1 << 20) - 40, (1 << 24) - 200};
    int turn = 0;
    for (int ci = 0; ci < FLY_N_CONFIGS; ci++)
        for (int di = 0; di < 4; di++)
            for (int v = 0; v < 3; v++, turn++) {
                fcase c;
                memset(&c, 0, sizeof c);
                c.dt = pairs[di][0], c.ct = pairs[di][1];
                c.D = 4 * tu_int(1, 16);
                int64_t coeffs[3] = {2, 4, c.D};
                c.coeff = coeffs[turn % 3];
                c.hk = c.D * tu_int(1, 2), c.hq = c.hk * tu_int(1, 3);
                c.batch = tu_int(1, 5);
                for (int64_t b = 0; b < c.batch; b++) c.seqlen[b] = tu_int(0, 4) ? tu_int(1, 40) : 0;
                c.seqlen[0] += 1;
                c.per_seq = v == 2, c.consecutive = v == 1;
                c.backward = turn % 3 == 1, c.in_place = turn % 4 == 0;
                c.base_pos = bases[(turn / 2) % 4];
                c.spread = v == 0 ? 100000 : 500;
                const char *nm;
                rope_freq_config cfg = fly_config(ci, c.D, &nm);
                run_case(&c, &cfg, nm);
            }
    /* Long consecutive runs (anchors and the step table at work), prefill-like. */
    for (int ci = 0; ci < FLY_N_CONFIGS; ci++) {
        fcase c;
        memset(&c, 0, sizeof c);
        c.dt = pairs[ci % 4][0], c.ct = pairs[ci % 4][1], c.D = 128, c.coeff = 2, c.hk = 128, c.hq = 256;
        c.batch = 2, c.seqlen[0] = 600, c.seqlen[1] = 333, c.per_seq = ci % 2, c.consecutive = 1;
        c.backward = ci == 2, c.base_pos = ci % 3 == 0 ? (1 << 24) - 2000 : 0, c.spread = 1000;
        const char *nm;
        rope_freq_config cfg = fly_config(ci, 128, &nm);
        run_case(&c, &cfg, nm);
    }
}

static void errors(void) {
    uint16_t q[3 * 16], k[3 * 8], oq[3 * 16], ok[3 * 8];
    for (int i = 0; i < 48; i++) q[i] = rope_f32_to_f16(0.25f + 0.125f * (float)(i % 7));
    for (int i = 0; i < 24; i++) k[i] = q[i];
    int64_t pos[3] = {5, 6, 7}, neg[3] = {5, -6, 7}, starts[2] = {0, 100}, neg_starts[2] = {0, -1};
    int32_t sl[2] = {1, 2}, bad_sl[2] = {1, 1}, neg_sl[2] = {4, -1};
    rope_atb_param param = ROPE_ATB_PARAM_INIT;
    param.rotary_coeff = 2;
    rope_tensor Q = {q, ROPE_F16, 2, {3, 16}, 0}, K = {k, ROPE_F16, 2, {3, 8}, 0}, OQ = Q, OK = K;
    OQ.data = oq, OK.data = ok;
    rope_tensor L = {sl, ROPE_I32, 1, {2}, 0}, BL = L, NL = L;
    BL.data = bad_sl, NL.data = neg_sl;
    rope_freq_config cfg, cfg6, cfg_big;
    cfg = (rope_freq_config)ROPE_FREQ_CONFIG_INIT;
    cfg.rotary_dim = 8;
    cfg6 = cfg, cfg6.rotary_dim = 6;
    cfg_big = cfg, cfg_big.rotary_dim = 16;
    rope_fly good;
    memset(&good, 0, sizeof good);
    good.freq = &cfg;
    rope_tensor P = {pos, ROPE_I64, 1, {3}, 0};
    good.positions = P;
    rope_fly seq = good;
    rope_tensor PS = {starts, ROPE_I64, 1, {2}, 0};
    seq.kind = ROPE_POSITIONS_PER_SEQUENCE, seq.positions = PS;
    rope_fly f[9];
    for (int i = 0; i < 9; i++) f[i] = i < 5 ? good : seq;
    f[0].freq = &cfg6;    /* D 6: hidden 16 not a multiple */
    f[1].cs_dtype = ROPE_BF16;
    f[2].positions.data = neg;
    f[3].positions.dims[0] = 2;
    f[4].freq = &cfg_big; /* D 16 does not divide key hidden 8 */
    f[5].positions.dims[0] = 3;
    f[6].positions.data = neg_starts;
    f[7].kind = (rope_positions_kind)7;
    f[8].positions.dtype = ROPE_U32;
    struct {
        const char *what, *msg;
        const rope_fly *fly;
        const rope_tensor *l;
        rope_status want;
    } cases[] = {
        {"D 6", "hidden size", &f[0], &L, ROPE_ERROR_SHAPE},
        {"bf16 cs with f16 query", "fly->cs_dtype", &f[1], &L, ROPE_ERROR_DTYPE},
        {"negative position", "fly->positions[1] = -6", &f[2], &L, ROPE_ERROR_INDEX},
        {"2 positions for 3 tokens", "fly->positions dim 0", &f[3], &L, ROPE_ERROR_SHAPE},
        {"D 16 over key 8", "hidden size", &f[4], &L, ROPE_ERROR_SHAPE},
        {"3 starts for 2 sequences", "fly->positions dim 0", &f[5], &L, ROPE_ERROR_SHAPE},
        {"negative start", "fly->positions[1] = -1", &f[6], &L, ROPE_ERROR_INDEX},
        {"kind 7", "fly->kind", &f[7], &L, ROPE_ERROR_ATTRIBUTE},
        {"u32 positions", "fly->positions dtype", &f[8], &L, ROPE_ERROR_DTYPE},
        {"seqlen sum 2 of 3", "sum of seqlen", &seq, &BL, ROPE_ERROR_INDEX},
        {"negative seqlen", "seqlen[1] = -1", &seq, &NL, ROPE_ERROR_INDEX},
        {"NULL fly", "fly is NULL", NULL, &L, ROPE_ERROR_NULL_ARGUMENT},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        for (int bw = 0; bw < 2; bw++) {
            memset(oq, 0x5a, sizeof oq), memset(ok, 0x5a, sizeof ok);
            rope_status st = bw ? rope_atb_rope_fly_backward(NULL, &param, &Q, &K, cases[i].fly, cases[i].l, &OQ, &OK)
                                : rope_atb_rope_fly(NULL, &param, &Q, &K, cases[i].fly, cases[i].l, &OQ, &OK);
            CHECK(st == cases[i].want, "%s: status %s (%s)", cases[i].what, rope_status_string(st), rope_last_error());
            CHECK(strstr(rope_last_error(), cases[i].msg) != NULL, "%s: message '%s'", cases[i].what,
                  rope_last_error());
            int untouched = 1;
            for (int j = 0; j < 48; j++) untouched &= oq[j] == 0x5a5a;
            for (int j = 0; j < 24; j++) untouched &= ok[j] == 0x5a5a;
            CHECK(untouched, "%s: written on error", cases[i].what);
        }
    /* ropeQ over the positions, and the good calls. */
    rope_tensor over = {pos, ROPE_F16, 2, {1, 16}, 0}, Q1 = Q, K1 = K, O1 = OK;
    Q1.dims[0] = K1.dims[0] = O1.dims[0] = 1;
    rope_fly one = good;
    one.positions.dims[0] = 1;
    int32_t sl1[1] = {1};
    rope_tensor L1 = {sl1, ROPE_I32, 1, {1}, 0};
    CHECK(rope_atb_rope_fly(NULL, &param, &Q1, &K1, &one, &L1, &over, &O1) == ROPE_ERROR_ALIASING, "%s",
          rope_last_error());
    CHECK(rope_atb_rope_fly(NULL, &param, &Q, &K, &good, &L, &OQ, &OK) == ROPE_OK, "%s", rope_last_error());
    CHECK(rope_atb_rope_fly(NULL, &param, &Q, &K, &seq, &L, &OQ, &OK) == ROPE_OK, "%s", rope_last_error());

    /* The multi-axis form (rope_atb_rope_fly_axes; tests/cossin/test_fly_axes.c has the rest): D = 8 as
     * axes 4 + 4, (h, w) per token; its faults leave ropeQ and ropeK as they were. */
    rope_axes_config ax = ROPE_AXES_CONFIG_INIT, ax6 = ROPE_AXES_CONFIG_INIT;
    ax.n_axes = 2, ax.axes_dims[0] = 4, ax.axes_dims[1] = 4;
    ax6 = ax, ax6.axes_dims[1] = 2;
    double hw[6] = {0, 0, 0, 1, 0.5, -2}, hw_inf[6] = {0, 0, 0, 1, 0.5, -INFINITY};
    rope_fly_axes fa = ROPE_FLY_AXES_INIT, g[5];
    fa.axes = &ax;
    fa.positions = (rope_tensor){hw, ROPE_F64, 2, {3, 2}, 0};
    for (int i = 0; i < 5; i++) g[i] = fa;
    g[0].axes = &ax6;                       /* D 6: the 16- and 8-wide rows are no multiple of it */
    g[1].positions.data = hw_inf;
    g[2].positions.dims[0] = 2;
    g[3].cs_dtype = ROPE_BF16;
    g[4].positions.row_stride = 3;
    struct {
        const char *what, *in_msg;
        rope_status want;
    } ac[] = {
        {"axes summing to 6", "fly->axes->axes_dims' sum", ROPE_ERROR_SHAPE},
        {"infinite coordinate", "fly->positions[2, 1]: expected a finite coordinate", ROPE_ERROR_INDEX},
        {"2 tokens of coordinates", "fly->positions dim 0: expected 3 (ntokens of query)", ROPE_ERROR_SHAPE},
        {"bf16 cos with f16 query", "fly->cs_dtype", ROPE_ERROR_DTYPE},
        {"strided coordinates", "fly->positions", ROPE_ERROR_STRIDE},
    };
    rope_tensor L3 = {sl, ROPE_I32, 1, {1}, 0};
    int32_t three[1] = {3};
    L3.data = three;
    for (size_t i = 0; i < sizeof ac / sizeof ac[0]; i++)
        for (int bw = 0; bw < 2; bw++) {
            memset(oq, 0x5a, sizeof oq), memset(ok, 0x5a, sizeof ok);
            rope_status st = bw ? rope_atb_rope_fly_axes_backward(NULL, &param, &Q, &K, &g[i], &L3, &OQ, &OK)
                                : rope_atb_rope_fly_axes(NULL, &param, &Q, &K, &g[i], &L3, &OQ, &OK);
            CHECK(st == ac[i].want, "%s: status %s (%s)", ac[i].what, rope_status_string(st), rope_last_error());
            CHECK(strstr(rope_last_error(), ac[i].in_msg) != NULL, "%s: message '%s'", ac[i].what,
                  rope_last_error());
            int untouched = 1;
            for (int j = 0; j < 48; j++) untouched &= oq[j] == 0x5a5a;
            for (int j = 0; j < 24; j++) untouched &= ok[j] == 0x5a5a;
            CHECK(untouched, "%s: written on error", ac[i].what);
        }
    CHECK(rope_atb_rope_fly_axes(NULL, &param, &Q, &K, &fa, &L3, &OQ, &OK) == ROPE_OK, "%s", rope_last_error());
}

int main(void) {
    tu_seed(99173);
    tu_contexts_make(&ctxs);
    errors();
    tu_split_everything(0);
    equality();
    tu_contexts_free(&ctxs);
    return tu_finish();
}
