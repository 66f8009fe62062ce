/* SPDX-License-Identifier: MIT */
/*
 * rope_atb_rope_backward on random cases (f32, f16, bf16 and f16 with f32 cos; coefficients 2, 4 and
 * D; cosFormat 0 and 1 with packed sequences; grouped-query key; in place), on every instruction set
 * with 1 and 2 threads:
 *   - bitwise: backward(dq, dk) is the forward of (dq, dk) with sin'[a] = -sin[b], sin'[b] = -sin[a]
 *     (each element takes its pair partner's sin, negated) given as input. The random tables give
 *     a and b different cos and sin, so a backward that ignored the partner would fail;
 *   - adjoint identity <J x, y> = <x, J^T y> (q and k together), accumulated in float64;
 *   - finite differences of f(x) = <y, forward(x)> with the float64 reference forward;
 *   - canaries around the outputs, and a few rejections that write nothing.
 * The adjoint identity and the finite differences are gc_check's (tests/support/gradcheck.h, which
 * derives the tolerances), on q | k as one vector.
 */
#include <stdlib.h>
#include <string.h>

#include "contexts.h"
#include "gradcheck.h"
#include "harness.h"
#include "reference.h"
#include "rope.h"

enum { CANARY = 64 };
static tu_contexts ctxs;

typedef struct acase {
    ref_atb_case rc;
    rope_dtype dt, ct;
    int in_place;
    int64_t seqlen[8];
} acase;

/* sin' of the backward: for each pair (a, b = a + rs) of each D-wide row, sin'[a] = -sin[b] and
 * sin'[b] = -sin[a]; sign bits flipped, so exact. */
static void partner_sin(rope_dtype ct, const void *s, void *out, size_t rows, size_t d, size_t rs) {
    size_t es = rope_dtype_size(ct);
    for (size_t r = 0; r < rows; r++)
        for (size_t g = 0; g < d; g += 2 * rs)
            for (size_t j = g; j < g + rs; j++) {
                const unsigned char *sa = (const unsigned char *)s + (r * d + j) * es, *sb = sa + rs * es;
                unsigned char *oa = (unsigned char *)out + (r * d + j) * es, *ob = oa + rs * es;
                memcpy(oa, sb, es), memcpy(ob, sa, es);
                oa[es - 1] ^= 0x80, ob[es - 1] ^= 0x80; /* little-endian sign byte */
            }
}

/* The float64 reference forward of q | k as one vector, for gc_check: with the partner sin it gives
 * the backward's exact values. */
typedef struct atb_ref {
    const ref_atb_case *rc;
    size_t nq;
    const double *cos, *sin;
} atb_ref;

static int atb_eval(const void *ctx, const double *in, double *want, double *perr) {
    const atb_ref *r = ctx;
    return ref_atb_rope(r->rc, in, in + r->nq, r->cos, r->sin, want, perr, want + r->nq, perr + r->nq);
}

static void run_case(const acase *c, int index) {
    char name[200];
    ref_atb_case rcl = c->rc;
    rcl.seqlen = c->seqlen; /* the case was copied: point at its own lengths */
    const ref_atb_case *rc = &rcl;
    rope_dtype dt = c->dt, ct = c->ct;
    size_t es = rope_dtype_size(dt), cs = rope_dtype_size(ct);
    int64_t T = rc->ntokens, D = rc->d, rs = D / rc->rotary_coeff;
    snprintf(name, sizeof name, "case %d: %s/%s T%lld hq%lld hk%lld D%lld coeff%d fmt%d in_place%d", index,
             rope_dtype_name(dt), rope_dtype_name(ct), (long long)T, (long long)rc->hidden_q,
             (long long)rc->hidden_k, (long long)D, rc->rotary_coeff, rc->cos_format, c->in_place);
    size_t nq = (size_t)(T * rc->hidden_q), nk = (size_t)(T * rc->hidden_k), n = nq + nk;
    size_t ncs = (size_t)(rc->cos_rows * D);
    /* x = [q | k] and y = [gq | gk], each stored as two tensors but handled as one vector here */
    void *x = tu_xmalloc(n * es), *y = tu_xmalloc(n * es);
    double *xd = tu_xmalloc(n * sizeof(double)), *yd = tu_xmalloc(n * sizeof(double));
    ref_fill(dt, x, xd, n);
    ref_fill(dt, y, yd, n);
    void *cb = tu_xmalloc(ncs * cs), *sb = tu_xmalloc(ncs * cs), *psb = tu_xmalloc(ncs * cs);
    double *cd = tu_xmalloc(ncs * sizeof(double)), *sd = tu_xmalloc(ncs * sizeof(double));
    double *psd = tu_xmalloc(ncs * sizeof(double));
    ref_fill(ct, cb, cd, ncs);
    ref_fill(ct, sb, sd, ncs);
    partner_sin(ct, sb, psb, (size_t)rc->cos_rows, (size_t)D, (size_t)rs);
    for (size_t i = 0; i < ncs; i++) psd[i] = ref_load(ct, psb, i);
    int32_t sl[8];
    for (int64_t b = 0; b < rc->batch; b++) sl[b] = (int32_t)c->seqlen[b];

    rope_atb_param param = ROPE_ATB_PARAM_INIT;
    param.rotary_coeff = rc->rotary_coeff, param.cos_format = rc->cos_format;
    rope_tensor GQ = {y, dt, 2, {T, rc->hidden_q}, 0}, GK = {(char *)y + nq * es, dt, 2, {T, rc->hidden_k}, 0};
    rope_tensor Cs = {cb, ct, 2, {rc->cos_rows, D}, 0}, Sn = Cs, PSn = Cs;
    Sn.data = sb, PSn.data = psb;
    rope_tensor L = {sl, ROPE_I32, 1, {rc->batch}, 0};

    size_t bytes = n * es;
    unsigned char *work = tu_xmalloc(bytes + 2 * CANARY), *fwd = tu_xmalloc(bytes), *first = tu_xmalloc(bytes);
    unsigned char *jx = tu_xmalloc(bytes);
    for (int k = 0; k < ctxs.n; k++) {
        memset(work, 0xa5, bytes + 2 * CANARY);
        unsigned char *o = work + CANARY;
        rope_tensor DQ = GQ, DK = GK, iq = GQ, ik = GK;
        DQ.data = o, DK.data = o + nq * es;
        if (c->in_place) memcpy(o, y, bytes), iq.data = DQ.data, ik.data = DK.data;
        rope_status st = rope_atb_rope_backward(ctxs.ctx[k], &param, &iq, &ik, &Cs, &Sn, &L, &DQ, &DK);
        CHECK(st == ROPE_OK, "%s on %s: %s", name, ctxs.name[k], rope_last_error());
        size_t outside = 0;
        for (size_t i = 0; i < CANARY; i++) outside += (work[i] != 0xa5) + (work[CANARY + bytes + i] != 0xa5);
        CHECK(outside == 0, "%s on %s: %zu canary bytes written", name, ctxs.name[k], outside);
        rope_tensor FQ = GQ, FK = GK;
        FQ.data = fwd, FK.data = fwd + nq * es;
        CHECK(rope_atb_rope(ctxs.ctx[k], &param, &GQ, &GK, &Cs, &PSn, &L, &FQ, &FK) == ROPE_OK, "%s",
              rope_last_error());
        CHECK(memcmp(o, fwd, bytes) == 0, "%s on %s: backward differs from forward with partner sin", name,
              ctxs.name[k]);
        if (k == 0) memcpy(first, o, bytes);
        else CHECK(memcmp(first, o, bytes) == 0, "%s: %s differs from %s", name, ctxs.name[k], ctxs.name[0]);
    }

    /* Adjoint identity and finite differences. */
    rope_tensor XQ = GQ, XK = GK, JQ = GQ, JK = GK;
    XQ.data = x, XK.data = (char *)x + nq * es, JQ.data = jx, JK.data = jx + nq * es;
    CHECK(rope_atb_rope(ctxs.ctx[0], &param, &XQ, &XK, &Cs, &Sn, &L, &JQ, &JK) == ROPE_OK, "%s", rope_last_error());
    atb_ref fwd_ref = {rc, nq, cd, sd}, bwd_ref = {rc, nq, cd, psd};
    gc_case g = {name, dt, n, xd, yd, jx, first, {atb_eval, &fwd_ref}, {atb_eval, &bwd_ref}};
    gc_check(&g);

    free(x), free(y), free(xd), free(yd), free(cb), free(sb), free(psb), free(cd), free(sd), free(psd);
    free(work), free(fwd), free(first), free(jx);
}

static acase random_case(void) {
    static const rope_dtype pairs[][2] = {
        {ROPE_F32, ROPE_F32}, {ROPE_F16, ROPE_F16}, {ROPE_F16, ROPE_F32}, {ROPE_BF16, ROPE_BF16}};
    acase c;
    memset(&c, 0, sizeof c);
    int pick = (int)tu_int(0, 3);
    c.dt = pairs[pick][0], c.ct = pairs[pick][1];
    int64_t D = 4 * tu_int(1, 16);
    int coeffs[3] = {2, 4, (int)D};
    c.rc.d = D;
    c.rc.rotary_coeff = coeffs[tu_int(0, 2)];
    int64_t hk = D * tu_int(1, 2);
    c.rc.hidden_k = hk, c.rc.hidden_q = hk * tu_int(1, 3);
    c.rc.cos_format = (int)tu_int(0, 1);
    c.rc.batch = tu_int(1, 4);
    int64_t T = 0, longest = 0;
    for (int64_t b = 0; b < c.rc.batch; b++) {
        c.seqlen[b] = tu_int(0, 12);
        T += c.seqlen[b];
        if (c.seqlen[b] > longest) longest = c.seqlen[b];
    }
    if (T == 0) c.seqlen[0] = T = longest = 3;
    c.rc.ntokens = T; /* rc.seqlen is set by run_case, once the case has its final address */
    c.rc.cos_rows = (c.rc.cos_format ? longest : T) + tu_int(0, 3);
    c.in_place = tu_int(0, 3) == 0;
    return c;
}

static void errors(void) {
    uint16_t q[2 * 16], k[2 * 8], oq[2 * 16], ok[2 * 8], cb[2 * 8], sb[2 * 8];
    for (int i = 0; i < 32; i++) q[i] = rope_f32_to_f16(0.125f * (float)(i % 5) + 0.25f);
    for (int i = 0; i < 16; i++) k[i] = q[i], cb[i] = rope_f32_to_f16(0.5f), sb[i] = rope_f32_to_f16(0.75f);
    int32_t sl[1] = {2}, bad_sl[1] = {3};
    rope_atb_param param = ROPE_ATB_PARAM_INIT;
    rope_tensor Q = {q, ROPE_F16, 2, {2, 16}, 0}, K = {k, ROPE_F16, 2, {2, 8}, 0};
    rope_tensor OQ = Q, OK = K, Cs = {cb, ROPE_F16, 2, {2, 8}, 0}, Sn = Cs, L = {sl, ROPE_I32, 1, {1}, 0}, BL = L;
    OQ.data = oq, OK.data = ok, Sn.data = sb, BL.data = bad_sl;
    rope_atb_param coeff3 = param, fmt1 = param;
    coeff3.rotary_coeff = 3, fmt1.cos_format = 1;
    rope_tensor bf = Cs;
    bf.dtype = ROPE_BF16;
    struct {
        const char *what;
        const rope_atb_param *p;
        const rope_tensor *q, *c, *l, *ok;
        rope_status want;
    } cases[] = {
        {"rotaryCoeff 3", &coeff3, &Q, &Cs, &L, &OK, ROPE_ERROR_ATTRIBUTE},
        {"NULL grad_q", &param, NULL, &Cs, &L, &OK, ROPE_ERROR_NULL_ARGUMENT},
        {"bf16 cos with f16 query", &param, &Q, &bf, &L, &OK, ROPE_ERROR_DTYPE},
        {"seqlen sum 3 of 2 tokens", &fmt1, &Q, &Cs, &BL, &OK, ROPE_ERROR_INDEX},
        {"dk is dq", &param, &Q, &Cs, &L, &OQ, ROPE_ERROR_SHAPE},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        memset(oq, 0x5a, sizeof oq), memset(ok, 0x5a, sizeof ok);
        rope_status st =
            rope_atb_rope_backward(NULL, cases[i].p, cases[i].q, &K, cases[i].c, &Sn, cases[i].l, &OQ, cases[i].ok);
        CHECK(st == cases[i].want, "%s: status %s (%s)", cases[i].what, rope_status_string(st), rope_last_error());
        CHECK(strstr(rope_last_error(), "rope_atb_rope_backward") != NULL, "%s: '%s'", cases[i].what,
              rope_last_error());
        int untouched = 1;
        for (int j = 0; j < 32; j++) untouched &= oq[j] == 0x5a5a;
        for (int j = 0; j < 16; j++) untouched &= ok[j] == 0x5a5a;
        CHECK(untouched, "%s: written on error", cases[i].what);
    }
}

int main(void) {
    tu_seed(777001);
    tu_contexts_make(&ctxs);
    tu_split_everything(2);
    errors();
    for (int i = 0; i < 150; i++) {
        acase c = random_case();
        run_case(&c, i);
    }
    tu_contexts_free(&ctxs);
    return tu_finish();
}
