/* SPDX-License-Identifier: MIT */
/*
 * rope_onnx_rotary_embedding_backward on random cases (every dtype, 3-D and 4-D, halves and
 * interleaved, partial rotation, with and without position ids, in place), on every instruction set
 * with 1 and 2 threads:
 *   - bitwise: backward(dY) is the forward of dY with the sin table negated, given as input;
 *   - adjoint identity: <J x, y> = <x, J^T y> for random x, y, both sides from the library's outputs
 *     accumulated in float64;
 *   - finite differences of f(x) = <y, forward(x)>, the forward evaluated by the float64 reference,
 *     against the library's J^T y element by element;
 *   - nothing outside dX is written, and nothing at all on error.
 * The adjoint identity and the finite differences are gc_check's (tests/support/gradcheck.h, which
 * derives the tolerances); the backward's exact values are the forward reference's with the negated
 * table, the identity rope.h states.
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

typedef struct bcase {
    ref_onnx_case rc;
    rope_dtype dt;
    int use_ids, in_place;
} bcase;

/* The same values with every sign bit flipped: exactly -v in every dtype. */
static void negate(rope_dtype dt, const void *src, void *dst, size_t n) {
    size_t es = rope_dtype_size(dt);
    memcpy(dst, src, n * es);
    for (size_t i = 0; i < n; i++) ((unsigned char *)dst)[i * es + es - 1] ^= 0x80; /* little-endian */
}

/* The float64 reference forward, for gc_check: with the negated sin it gives the backward's exact
 * values. */
typedef struct onnx_ref {
    const ref_onnx_case *rc;
    const double *cos, *sin;
    const int64_t *ids; /* NULL without position ids */
} onnx_ref;

static int onnx_eval(const void *ctx, const double *in, double *want, double *perr) {
    const onnx_ref *r = ctx;
    return ref_onnx_rotary(r->rc, in, r->cos, r->sin, r->ids, want, perr);
}

static void run_case(const bcase *c, int index) {
    char name[200];
    const ref_onnx_case *rc = &c->rc;
    rope_dtype dt = c->dt;
    size_t es = rope_dtype_size(dt);
    int64_t B = rc->batch, S = rc->seq, N = rc->heads, H = rc->head_size, r = rc->rot ? rc->rot : H;
    snprintf(name, sizeof name, "case %d: %s %d-D B%lld S%lld N%lld H%lld r%lld il%d ids%d in_place%d", index,
             rope_dtype_name(dt), rc->rank, (long long)B, (long long)S, (long long)N, (long long)H, (long long)r,
             rc->interleaved, c->use_ids, c->in_place);
    size_t n = ref_onnx_numel(rc), cw = (size_t)r / 2, cs_rows = (size_t)(c->use_ids ? rc->max_pos : B * S);
    void *dy = tu_xmalloc(n * es), *x = tu_xmalloc(n * es);
    double *dyd = tu_xmalloc(n * sizeof(double)), *xd = tu_xmalloc(n * sizeof(double));
    ref_fill(dt, dy, dyd, n);
    ref_fill(dt, x, xd, n);
    void *cosb = tu_xmalloc(cs_rows * cw * es), *sinb = tu_xmalloc(cs_rows * cw * es);
    void *nsinb = tu_xmalloc(cs_rows * cw * es);
    double *cd = tu_xmalloc(cs_rows * cw * sizeof(double)), *sd = tu_xmalloc(cs_rows * cw * sizeof(double));
    double *nsd = tu_xmalloc(cs_rows * cw * sizeof(double));
    ref_fill(dt, cosb, cd, cs_rows * cw);
    ref_fill(dt, sinb, sd, cs_rows * cw);
    negate(dt, sinb, nsinb, cs_rows * cw);
    for (size_t i = 0; i < cs_rows * cw; i++) nsd[i] = -sd[i];
    int64_t *ids = tu_xmalloc((size_t)(B * S) * sizeof(int64_t));
    for (int64_t i = 0; c->use_ids && i < B * S; i++) ids[i] = tu_int(0, rc->max_pos - 1);

    rope_onnx_attrs attrs = {rc->interleaved, rc->rot, rc->rank == 3 ? N : 0};
    rope_tensor DY = {dy, dt, rc->rank, {B, N, S, H}, 0};
    if (rc->rank == 3) DY.dims[1] = S, DY.dims[2] = N * H;
    rope_tensor Cs = {cosb, dt, c->use_ids ? 2 : 3, {B, S, (int64_t)cw}, 0};
    if (c->use_ids) Cs.dims[0] = rc->max_pos, Cs.dims[1] = (int64_t)cw;
    rope_tensor Sn = Cs, NSn = Cs;
    Sn.data = sinb, NSn.data = nsinb;
    rope_tensor I = {ids, ROPE_I64, 2, {B, S}, 0};
    const rope_tensor *ip = c->use_ids ? &I : NULL;

    size_t bytes = n * es;
    unsigned char *work = tu_xmalloc(bytes + 2 * CANARY), *fwd = tu_xmalloc(bytes), *first = tu_xmalloc(bytes);
    unsigned char *jx = tu_xmalloc(bytes);
    for (int k = 0; k < ctxs.n; k++) {
        memset(work, 0xa5, bytes + 2 * CANARY);
        rope_tensor in = DY, out = DY;
        out.data = work + CANARY;
        if (c->in_place) memcpy(work + CANARY, dy, bytes), in.data = out.data;
        rope_status st = rope_onnx_rotary_embedding_backward(ctxs.ctx[k], &attrs, &in, &Cs, &Sn, ip, &out);
        CHECK(st == ROPE_OK, "%s on %s: %s", name, ctxs.name[k], rope_last_error());
        size_t outside = 0;
        for (size_t i = 0; i < CANARY; i++) outside += (work[i] != 0xa5) + (work[CANARY + bytes + i] != 0xa5);
        CHECK(outside == 0, "%s on %s: %zu canary bytes written", name, ctxs.name[k], outside);
        rope_tensor F = DY;
        F.data = fwd;
        CHECK(rope_onnx_rotary_embedding(ctxs.ctx[k], &attrs, &DY, &Cs, &NSn, ip, &F) == ROPE_OK, "%s",
              rope_last_error());
        CHECK(memcmp(work + CANARY, fwd, bytes) == 0, "%s on %s: backward differs from forward with -sin", name,
              ctxs.name[k]);
        if (k == 0) memcpy(first, work + CANARY, bytes);
        else CHECK(memcmp(first, work + CANARY, bytes) == 0, "%s: %s differs from %s", name, ctxs.name[k], ctxs.name[0]);
    }

    /* Adjoint identity, with y = dY: <J x, y> against <x, J^T y>; finite differences. */
    rope_tensor X = DY, JX = DY;
    X.data = x, JX.data = jx;
    CHECK(rope_onnx_rotary_embedding(ctxs.ctx[0], &attrs, &X, &Cs, &Sn, ip, &JX) == ROPE_OK, "%s", rope_last_error());
    onnx_ref fwd_ref = {rc, cd, sd, ip ? ids : NULL}, bwd_ref = {rc, cd, nsd, ip ? ids : NULL};
    gc_case g = {name, dt, n, xd, dyd, jx, first, {onnx_eval, &fwd_ref}, {onnx_eval, &bwd_ref}};
    gc_check(&g);

    free(dy), free(x), free(dyd), free(xd), free(cosb), free(sinb), free(nsinb), free(cd), free(sd), free(nsd);
    free(ids), free(work), free(fwd), free(first), free(jx);
}

static bcase random_case(void) {
    static const rope_dtype dts[] = {ROPE_F32, ROPE_F16, ROPE_BF16};
    bcase c;
    memset(&c, 0, sizeof c);
    int64_t H = 2 * tu_int(1, 40);
    c.rc.rank = (int)tu_int(3, 4);
    c.rc.batch = tu_int(1, 3), c.rc.seq = tu_int(1, 20), c.rc.heads = tu_int(1, 4), c.rc.head_size = H;
    c.rc.rot = tu_int(0, 2) ? 0 : 2 * tu_int(1, H / 2);
    c.rc.interleaved = (int)tu_int(0, 1);
    c.rc.max_pos = tu_int(1, 50);
    c.dt = dts[tu_int(0, 2)];
    c.use_ids = (int)tu_int(0, 1);
    c.in_place = tu_int(0, 3) == 0;
    return c;
}

/* Validation is the forward's: a few rejections, each leaving dX untouched. */
static void errors(void) {
    float dy[2 * 3 * 8], dx[2 * 3 * 8], c[4 * 2], s[4 * 2];
    int64_t ids[3] = {0, 1, 2}, bad_ids[3] = {0, 1, 9};
    for (int i = 0; i < 48; i++) dy[i] = 0.25f * (float)(i % 7) - 0.5f;
    for (int i = 0; i < 8; i++) c[i] = 0.5f, s[i] = 0.25f;
    rope_onnx_attrs attrs = {0, 4, 2};
    rope_tensor DY = {dy, ROPE_F32, 3, {1, 3, 16}, 0}, DX = DY;
    DX.data = dx;
    rope_tensor Cs = {c, ROPE_F32, 2, {4, 2}, 0}, Sn = Cs, I = {ids, ROPE_I64, 2, {1, 3}, 0}, BI = I;
    BI.data = bad_ids;
    Sn.data = s;
    rope_tensor bad_c = Cs;
    bad_c.dims[1] = 3;
    rope_tensor partial = DX;
    partial.data = dy + 1; /* overlaps dY without being it */
    struct {
        const char *what;
        const rope_tensor *dy, *c, *ids, *dx;
        rope_status want;
    } cases[] = {
        {"NULL dY", NULL, &Cs, &I, &DX, ROPE_ERROR_NULL_ARGUMENT},
        {"cache width", &DY, &bad_c, &I, &DX, ROPE_ERROR_SHAPE},
        {"position id 9 of 4 rows", &DY, &Cs, &BI, &DX, ROPE_ERROR_INDEX},
        {"dX partially over dY", &DY, &Cs, &I, &partial, ROPE_ERROR_ALIASING},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        memset(dx, 0x5a, sizeof dx);
        float before[48];
        memcpy(before, dy, sizeof dy);
        rope_status st = rope_onnx_rotary_embedding_backward(NULL, &attrs, cases[k].dy, cases[k].c, &Sn, cases[k].ids,
                                                             cases[k].dx);
        CHECK(st == cases[k].want, "%s: status %s (%s)", cases[k].what, rope_status_string(st), rope_last_error());
        CHECK(strstr(rope_last_error(), "rope_onnx_rotary_embedding_backward") != NULL, "%s: message '%s'",
              cases[k].what, rope_last_error());
        unsigned char pattern[sizeof dx];
        memset(pattern, 0x5a, sizeof pattern);
        CHECK(memcmp(dx, pattern, sizeof dx) == 0 && memcmp(dy, before, sizeof dy) == 0, "%s: written on error",
              cases[k].what);
    }
    /* The cache row width names the forward's argument (cos_cache) and dimension. */
    rope_onnx_rotary_embedding_backward(NULL, &attrs, &DY, &bad_c, &Sn, &I, &DX);
    CHECK(strstr(rope_last_error(), "cos_cache") != NULL, "message '%s'", rope_last_error());
}

int main(void) {
    tu_seed(20240607);
    tu_contexts_make(&ctxs);
    tu_split_everything(3);
    errors();
    for (int i = 0; i < 150; i++) {
        bcase c = random_case();
        run_case(&c, i);
    }
    /* A tile-walked 4-D case with the engine's own tile size (chunks of a whole tile). */
    {
        bcase c;
        memset(&c, 0, sizeof c);
        c.rc.rank = 4, c.rc.batch = 2, c.rc.seq = 300, c.rc.heads = 3, c.rc.head_size = 64, c.dt = ROPE_F32;
        c.use_ids = 1, c.rc.max_pos = 400;
        tu_split_everything(0);
        run_case(&c, 1000);
    }
    tu_contexts_free(&ctxs);
    return tu_finish();
}
