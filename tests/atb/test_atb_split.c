/* SPDX-License-Identifier: MIT */
/*
 * ATB's split-half partial layout (ROPE_PARTIAL_SPLIT, issue 17: Gemma 4's proportional rope) through
 * every form of the operator: rope_atb_rope, rope_atb_rope_backward, rope_atb_rope_fly and
 * rope_atb_rope_fly_backward, against a float64 reference written here from rope.h's contract:
 *   in each head of head_size elements, element a = j < D/2 pairs with b = head_size/2 + j;
 *   forward   y[a] = x[a] cos[j] - x[b] sin[j],      y[b] = x[b] cos[D/2+j] + x[a] sin[D/2+j];
 *   backward  (the transpose) dx[a] = g[a] cos[j] + g[b] sin[D/2+j],  dx[b] = g[b] cos[D/2+j] - g[a] sin[j];
 *   every other element copied bit for bit.
 * Tables are random with cos[j] != cos[D/2+j] and sin[j] != sin[D/2+j], so a backward that ignored
 * the partner's sin, or a kernel that took the wrong half of the row, fails. On the fly the values
 * are cos / sin(pos * base^(-2i/D)) computed here in float64; the library rounds them to the cos
 * dtype, which the tolerance allows for (2 ulps of that dtype per value). Every dtype pair (f32,
 * f16, bf16, f16 with f32 cos), 2-D and 4-D query / key, grouped-query key, cosFormat 0 and 1,
 * positions per token and per packed sequence, in place and not, D < head_size and D = head_size;
 * each result bitwise identical on every instruction set with 1 and 2 threads, canaries around the
 * outputs untouched, and the on-the-fly forms bitwise the table forms on rope_cache_fill's table.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "contexts.h"
#include "harness.h"
#include "reference.h"
#include "rope.h"

enum { CANARY = 48, MAX_SEQ = 4 };
static tu_contexts ctxs;

typedef struct scase {
    rope_dtype dt, ct;
    int64_t hs, D, nq, nk; /* head size, rotated width, heads of query and key */
    int64_t batch, seqlen[MAX_SEQ], T;
    int rank4, cos_format, backward, fly, per_seq, in_place;
    int64_t rows; /* cos / sin rows (tables) */
    double base;
} scase;

/* |fl32(p) - p| for the exact product p of two values read from f32 / f16 / bf16 (exact in float64). */
static double product_err(double a, double b) {
    double p = a * b;
    return fabs((double)(float)p - p);
}

/* The float64 reference of one tensor [T, heads * hs] (rows of a token dense): want and perr as
 * reference.h defines them. cs_err: the allowance for each cos / sin value the library rounded
 * itself (on the fly), 0 for tables it reads. */
static void reference(const scase *c, int64_t heads, const double *x, const double *cos, const double *sin,
                      const int64_t *row_of, double cs_err_ulps, double *want, double *perr) {
    int64_t hs = c->hs, half = c->D / 2, hidden = heads * hs;
    for (int64_t t = 0; t < c->T; t++) {
        const double *xr = x + t * hidden, *cr = cos + row_of[t] * c->D, *sr = sin + row_of[t] * c->D;
        double *w = want + t * hidden, *e = perr + t * hidden;
        for (int64_t i = 0; i < hidden; i++) w[i] = xr[i], e[i] = -1;
        for (int64_t h = 0; h < hidden; h += hs)
            for (int64_t j = 0; j < half; j++) {
                int64_t a = h + j, b = h + hs / 2 + j;
                double ca = cr[j], sa = sr[j], cb = cr[half + j], sb = sr[half + j];
                double xa = xr[a], xb = xr[b];
                /* the products the library forms: (x[a], ca), (x[b], s1), (x[b], cb), (x[a], s2) */
                double s1 = c->backward ? -sb : sa, s2 = c->backward ? -sa : sb;
                w[a] = xa * ca - xb * s1;
                w[b] = xb * cb + xa * s2;
                e[a] = product_err(xa, ca) + product_err(xb, s1);
                e[b] = product_err(xb, cb) + product_err(xa, s2);
                if (cs_err_ulps > 0) { /* the library's own rounding of cos / sin, and its products' */
                    double u = cs_err_ulps;
                    e[a] = fabs(xa) * u * ref_ulp(c->ct, ca) + fabs(xb) * u * ref_ulp(c->ct, s1) +
                           ref_ulp(ROPE_F32, fabs(xa * ca)) + ref_ulp(ROPE_F32, fabs(xb * s1));
                    e[b] = fabs(xb) * u * ref_ulp(c->ct, cb) + fabs(xa) * u * ref_ulp(c->ct, s2) +
                           ref_ulp(ROPE_F32, fabs(xb * cb)) + ref_ulp(ROPE_F32, fabs(xa * s2));
                }
            }
    }
}

/* Random table values with both halves of a row different (the partner's value is never the own). */
static void fill_table(rope_dtype ct, void *buf, double *vals, int64_t rows, int64_t D) {
    ref_fill(ct, buf, vals, (size_t)(rows * D));
    for (int64_t r = 0; r < rows; r++)
        for (int64_t j = 0; j < D / 2; j++) {
            size_t a = (size_t)(r * D + j), b = a + (size_t)(D / 2);
            if (vals[a] == vals[b]) ref_store(ct, buf, b, -vals[a]), vals[b] = ref_load(ct, buf, b);
        }
}

static void describe(const scase *c, char *buf, size_t n) {
    snprintf(buf, n, "%s/%s hs %lld D %lld nq %lld nk %lld T %lld %s%s cf %d%s%s%s", rope_dtype_name(c->dt),
             rope_dtype_name(c->ct), (long long)c->hs, (long long)c->D, (long long)c->nq, (long long)c->nk,
             (long long)c->T, c->rank4 ? "4-D" : "2-D", c->fly ? (c->per_seq ? " fly per-seq" : " fly per-token") : "",
             c->cos_format, c->backward ? " backward" : "", c->in_place ? " in place" : "",
             c->base != 10000.0 ? " base" : "");
}

static rope_tensor tensor_of(const scase *c, void *data, int64_t heads) {
    rope_tensor t = {data, c->dt, 2, {c->T, heads * c->hs}, 0};
    if (c->rank4) { /* [batch, seq, heads, head_size]: one batch of T tokens */
        t.rank = 4;
        t.dims[0] = 1, t.dims[1] = c->T, t.dims[2] = heads, t.dims[3] = c->hs;
    }
    return t;
}

static void run_case(const scase *c, int index) {
    char name[256];
    describe(c, name, sizeof name);
    size_t es = rope_dtype_size(c->dt), cs = rope_dtype_size(c->ct);
    size_t nq = (size_t)(c->T * c->nq * c->hs), nk = (size_t)(c->T * c->nk * c->hs), n = nq + nk;
    unsigned char *x = tu_xmalloc(n * es);
    double *xd = tu_xmalloc(n * sizeof(double));
    ref_fill(c->dt, x, xd, n);

    /* each token's position (fly) or cos row (tables) */
    int64_t *pos = tu_xmalloc((size_t)(c->T + 1) * sizeof(int64_t)), starts[MAX_SEQ];
    int32_t sl[MAX_SEQ];
    for (int64_t b = 0, t = 0; b < c->batch; b++) {
        sl[b] = (int32_t)c->seqlen[b];
        starts[b] = tu_int(0, 3) ? tu_int(0, 5000) : tu_int(0, 1 << 20);
        for (int64_t s = 0; s < c->seqlen[b]; s++, t++) {
            if (c->fly) pos[t] = c->per_seq ? starts[b] + s : tu_int(0, 1 << 20);
            else pos[t] = c->cos_format ? s : t;
        }
    }
    /* the values the library reads (tables) or that it must compute (fly), in float64 */
    int64_t rows = c->fly ? c->T : c->rows;
    size_t ncs = (size_t)(rows * c->D);
    void *cb = tu_xmalloc(ncs * cs + 1), *sb = tu_xmalloc(ncs * cs + 1);
    double *cd = tu_xmalloc(ncs * sizeof(double) + 8), *sd = tu_xmalloc(ncs * sizeof(double) + 8);
    int64_t *row_of = tu_xmalloc((size_t)(c->T + 1) * sizeof(int64_t));
    rope_freq_config cfg = ROPE_FREQ_CONFIG_INIT;
    cfg.rotary_dim = c->D, cfg.base = c->base;
    if (c->fly) {
        for (int64_t t = 0; t < c->T; t++) {
            row_of[t] = t;
            for (int64_t j = 0; j < c->D / 2; j++) {
                double inv = 1.0 / pow(c->base, (double)(2 * j) / (double)c->D), ang = (double)pos[t] * inv;
                cd[t * c->D + j] = cd[t * c->D + c->D / 2 + j] = cos(ang);
                sd[t * c->D + j] = sd[t * c->D + c->D / 2 + j] = sin(ang);
            }
            /* the table rope_atb_rope reads for the bitwise comparison: rope_cache_fill's rows */
            rope_tensor rc = {(char *)cb + (size_t)(t * c->D) * cs, c->ct, 2, {1, c->D}, 0}, rsn = rc;
            rsn.data = (char *)sb + (size_t)(t * c->D) * cs;
            CHECK(rope_cache_fill(&cfg, pos[t], 1, ROPE_CACHE_FULL, 2, &rc, &rsn) == ROPE_OK, "%s: fill: %s", name,
                  rope_last_error());
        }
    } else {
        fill_table(c->ct, cb, cd, rows, c->D);
        fill_table(c->ct, sb, sd, rows, c->D);
        for (int64_t t = 0; t < c->T; t++) row_of[t] = pos[t];
    }
    double *want = tu_xmalloc(n * sizeof(double) + 8), *perr = tu_xmalloc(n * sizeof(double) + 8);
    reference(c, c->nq, xd, cd, sd, row_of, c->fly ? 2.0 : 0.0, want, perr);
    reference(c, c->nk, xd + nq, cd, sd, row_of, c->fly ? 2.0 : 0.0, want + nq, perr + nq);

    rope_atb_param param = ROPE_ATB_PARAM_INIT;
    param.rotary_coeff = 2, param.partial = ROPE_PARTIAL_SPLIT, param.head_size = (int32_t)c->hs;
    param.cos_format = c->fly ? 0 : c->cos_format;
    rope_tensor Q = tensor_of(c, x, c->nq), K = tensor_of(c, x + nq * es, c->nk);
    rope_tensor Cs = {cb, c->ct, 2, {rows, c->D}, 0}, Sn = Cs, L = {sl, ROPE_I32, 1, {c->batch}, 0};
    Sn.data = sb;
    rope_fly fly;
    memset(&fly, 0, sizeof fly);
    fly.freq = &cfg, fly.cs_dtype = c->ct;
    fly.kind = c->per_seq ? ROPE_POSITIONS_PER_SEQUENCE : ROPE_POSITIONS_PER_TOKEN;
    rope_tensor P = {c->per_seq ? starts : pos, ROPE_I64, 1, {c->per_seq ? c->batch : c->T}, 0};
    fly.positions = P;

    size_t bytes = n * es;
    unsigned char *work = tu_xmalloc(bytes + 2 * CANARY), *first = tu_xmalloc(bytes + 1),
                  *table = tu_xmalloc(bytes + 1);
    for (int k = 0; k < ctxs.n; k++) {
        memset(work, 0xa5, bytes + 2 * CANARY);
        unsigned char *o = work + CANARY;
        rope_tensor OQ = Q, OK = K, iq = Q, ik = K;
        OQ.data = o, OK.data = o + nq * es;
        if (c->in_place) memcpy(o, x, bytes), iq.data = OQ.data, ik.data = OK.data;
        rope_status st;
        if (c->fly)
            st = c->backward ? rope_atb_rope_fly_backward(ctxs.ctx[k], &param, &iq, &ik, &fly, &L, &OQ, &OK)
                             : rope_atb_rope_fly(ctxs.ctx[k], &param, &iq, &ik, &fly, &L, &OQ, &OK);
        else
            st = c->backward ? rope_atb_rope_backward(ctxs.ctx[k], &param, &iq, &ik, &Cs, &Sn, &L, &OQ, &OK)
                             : rope_atb_rope(ctxs.ctx[k], &param, &iq, &ik, &Cs, &Sn, &L, &OQ, &OK);
        CHECK(st == ROPE_OK, "case %d %s on %s: %s", index, name, ctxs.name[k], rope_last_error());
        if (st != ROPE_OK) continue;
        size_t outside = 0;
        for (size_t i = 0; i < CANARY; i++) outside += (work[i] != 0xa5) + (work[CANARY + bytes + i] != 0xa5);
        CHECK(outside == 0, "case %d %s on %s: %zu canary bytes written", index, name, ctxs.name[k], outside);
        if (k == 0) {
            ref_report rep;
            char rb[200];
            size_t bad = ref_compare(c->dt, o, 1, n, n, want, perr, &rep);
            CHECK(bad == 0, "case %d %s: %s", index, name, ref_report_str(&rep, rb, sizeof rb));
            memcpy(first, o, bytes);
        } else {
            CHECK(memcmp(first, o, bytes) == 0, "case %d %s: %s differs from %s", index, name, ctxs.name[k],
                  ctxs.name[0]);
        }
    }
    if (c->fly) { /* bitwise the table form on the cache rope_cache_fill built (row t: token t) */
        rope_atb_param tp = param;
        tp.cos_format = 0;
        rope_tensor TQ = Q, TK = K;
        TQ.data = table, TK.data = table + nq * es;
        rope_status st = c->backward ? rope_atb_rope_backward(ctxs.ctx[0], &tp, &Q, &K, &Cs, &Sn, &L, &TQ, &TK)
                                     : rope_atb_rope(ctxs.ctx[0], &tp, &Q, &K, &Cs, &Sn, &L, &TQ, &TK);
        CHECK(st == ROPE_OK && memcmp(table, first, bytes) == 0, "case %d %s: on the fly differs from the table (%s)",
              index, name, st == ROPE_OK ? "bits" : rope_last_error());
    }
    free(x), free(xd), free(pos), free(cb), free(sb), free(cd), free(sd), free(row_of), free(want), free(perr);
    free(work), free(first), free(table);
}

static scase random_case(int i) {
    static const rope_dtype pairs[][2] = {
        {ROPE_F32, ROPE_F32}, {ROPE_F16, ROPE_F16}, {ROPE_F16, ROPE_F32}, {ROPE_BF16, ROPE_BF16}};
    scase c;
    memset(&c, 0, sizeof c);
    c.dt = pairs[i % 4][0], c.ct = pairs[i % 4][1];
    c.hs = 2 * tu_int(1, i % 7 == 0 ? 160 : 40);
    c.D = i % 9 == 0 ? c.hs : 2 * tu_int(1, c.hs / 2); /* D = head_size: the rotate-half layout itself */
    c.nk = tu_int(1, 2), c.nq = c.nk * tu_int(1, 3);
    c.rank4 = tu_int(0, 3) == 0;
    c.backward = (i / 4) % 2;
    c.fly = (i / 8) % 2;
    c.per_seq = c.fly && tu_int(0, 1);
    c.cos_format = !c.fly && tu_int(0, 1);
    c.in_place = tu_int(0, 2) == 0;
    c.base = tu_int(0, 2) ? 10000.0 : 500000.0;
    c.batch = c.rank4 && !c.per_seq && !c.cos_format ? 1 : tu_int(1, MAX_SEQ);
    int64_t longest = 0;
    for (int64_t b = 0; b < c.batch; b++) {
        c.seqlen[b] = tu_int(0, 9);
        c.T += c.seqlen[b];
        if (c.seqlen[b] > longest) longest = c.seqlen[b];
    }
    if (c.T == 0) c.seqlen[0] = c.T = longest = 2;
    c.rows = (c.cos_format ? longest : c.T) + tu_int(0, 2);
    return c;
}

int main(void) {
    tu_seed(0x5b117);
    tu_contexts_make(&ctxs);
    tu_split_everything(2);
    for (int i = 0; i < 320; i++) {
        scase c = random_case(i);
        run_case(&c, i);
    }
    tu_contexts_free(&ctxs);
    return tu_finish();
}
