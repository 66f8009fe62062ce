/* SPDX-License-Identifier: MIT */
/*
 * The public calls run every instruction set this machine has, and each gives the portable
 * kernel's bits:
 *   - ROPE_ISA picks the default context's set (and an AUTO context's), rejecting unknown names and
 *     sets this CPU lacks;
 *   - rope_context_create({isa, 1}) and rope_context_set_isa (also on the default context) force a
 *     set; ONNX (halves, interleaved, partial rotation, position ids, 3-D and 4-D, in place) and ATB
 *     (rotary_coeff 2, 4, D; both cos formats; every dtype pairing) are compared with a scalar
 *     context bit for bit (NaN payloads aside, see test_kernels_vs_scalar.c).
 */
#define _DEFAULT_SOURCE /* setenv */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "kernel_data.h"

enum { CASES = 300 };

static int same_bits(rope_dtype t, const unsigned char *a, const unsigned char *b, size_t n) {
    size_t es = tk_es(t);
    for (size_t i = 0; i < n; i++) {
        if (memcmp(a + i * es, b + i * es, es) == 0) continue;
        uint32_t u = 0, v = 0;
        memcpy(&u, a + i * es, es);
        memcpy(&v, b + i * es, es);
        uint32_t mag = es == 4 ? 0x7fffffffu : 0x7fffu;
        uint32_t inf = es == 4 ? 0x7f800000u : t == ROPE_F16 ? 0x7c00u : 0x7f80u;
        if ((u & mag) > inf && (v & mag) > inf) continue; /* both NaN */
        return 0;
    }
    return 1;
}

/* One random ONNX call on `ctx` and on the scalar context; 1 when the outputs agree. */
static int onnx_case(rope_context *ctx, rope_context *ref, char *what, size_t wn) {
    static const rope_dtype types[] = {ROPE_F32, ROPE_F16, ROPE_BF16};
    rope_dtype t = types[tu_int(0, 2)];
    int64_t b = tu_int(1, 2), heads = tu_int(1, 4), seq = tu_int(1, 5), hs = tu_int(1, 130) * 2, max_pos = 16;
    int64_t rot = tu_int(0, 2) ? hs : tu_int(1, hs / 2) * 2;
    rope_onnx_attrs at = {tu_int(0, 1), rot, heads};
    int three_d = (int)tu_int(0, 1), in_place = (int)tu_int(0, 2) == 0;
    size_t es = tk_es(t), n = (size_t)(b * heads * seq * hs), cn = (size_t)(max_pos * rot / 2);
    snprintf(what, wn, "onnx %s %s-D b %lld heads %lld seq %lld head_size %lld r %lld interleaved %lld%s",
             rope_dtype_name(t), three_d ? "3" : "4", (long long)b, (long long)heads, (long long)seq, (long long)hs,
             (long long)rot, (long long)at.interleaved, in_place ? " in place" : "");
    unsigned char *x = malloc(n * es), *c = malloc(cn * es), *s = malloc(cn * es);
    unsigned char *y0 = malloc(n * es), *y1 = malloc(n * es);
    int64_t *ids = malloc((size_t)(b * seq) * sizeof *ids);
    tk_fill(t, x, n, 0.02);
    tk_fill(t, c, cn, 0.02);
    tk_fill(t, s, cn, 0.02);
    for (int64_t i = 0; i < b * seq; i++) ids[i] = tu_int(0, max_pos - 1);
    rope_tensor X = {x, t, 4, {b, heads, seq, hs}, 0};
    if (three_d) X.rank = 3, X.dims[1] = seq, X.dims[2] = heads * hs;
    rope_tensor C = {c, t, 2, {max_pos, rot / 2}, 0}, S = C, P = {ids, ROPE_I64, 2, {b, seq}, 0};
    S.data = s;
    rope_tensor Y0 = X, Y1 = X;
    Y0.data = y0, Y1.data = y1;
    if (in_place) memcpy(y0, x, n * es), memcpy(y1, x, n * es), X.data = y0;
    rope_status s0 = rope_onnx_rotary_embedding(ref, &at, &X, &C, &S, &P, &Y0);
    if (in_place) X.data = y1;
    rope_status s1 = rope_onnx_rotary_embedding(ctx, &at, &X, &C, &S, &P, &Y1);
    int ok = s0 == ROPE_OK && s1 == ROPE_OK && same_bits(t, y0, y1, n);
    free(x), free(c), free(s), free(y0), free(y1), free(ids);
    return ok;
}

/* One random ATB call (two streams, packed sequences or token rows). */
static int atb_case(rope_context *ctx, rope_context *ref, char *what, size_t wn) {
    static const rope_dtype combos[4][2] = {
        {ROPE_F32, ROPE_F32}, {ROPE_F16, ROPE_F16}, {ROPE_F16, ROPE_F32}, {ROPE_BF16, ROPE_BF16}};
    int k = (int)tu_int(0, 3);
    rope_dtype t = combos[k][0], ct = combos[k][1];
    int64_t d = tu_int(1, 80) * 2, hk = tu_int(1, 2), hq = hk * tu_int(1, 3), ntok = 6;
    int32_t coeffs[3] = {2, 4, (int32_t)d}, coeff;
    do coeff = coeffs[tu_int(0, 2)];
    while (d % coeff != 0);
    rope_atb_param p = ROPE_ATB_PARAM_INIT;
    p.rotary_coeff = coeff;
    p.cos_format = (int32_t)tu_int(0, 1);
    snprintf(what, wn, "atb %s cos %s D %lld coeff %d q heads %lld k heads %lld cos_format %d", rope_dtype_name(t),
             rope_dtype_name(ct), (long long)d, (int)coeff, (long long)hq, (long long)hk, (int)p.cos_format);
    size_t es = tk_es(t), ces = tk_es(ct), nq = (size_t)(ntok * hq * d), nk = (size_t)(ntok * hk * d);
    size_t cn = (size_t)(ntok * d);
    unsigned char *q = malloc(nq * es), *kk = malloc(nk * es), *c = malloc(cn * ces), *s = malloc(cn * ces);
    unsigned char *oq[2] = {malloc(nq * es), malloc(nq * es)}, *ok[2] = {malloc(nk * es), malloc(nk * es)};
    tk_fill(t, q, nq, 0.02);
    tk_fill(t, kk, nk, 0.02);
    tk_fill(ct, c, cn, 0.02);
    tk_fill(ct, s, cn, 0.02);
    int32_t lens[2] = {2, 4};
    rope_tensor Q = {q, t, 2, {ntok, hq * d}, 0}, K = {kk, t, 2, {ntok, hk * d}, 0};
    rope_tensor C = {c, ct, 2, {ntok, d}, 0}, S = C, L = {lens, ROPE_I32, 1, {2}, 0};
    S.data = s;
    rope_status st[2];
    rope_context *ctxs[2] = {ref, ctx};
    for (int i = 0; i < 2; i++) {
        rope_tensor OQ = Q, OK = K;
        OQ.data = oq[i], OK.data = ok[i];
        st[i] = rope_atb_rope(ctxs[i], &p, &Q, &K, &C, &S, &L, &OQ, &OK);
    }
    int good = st[0] == ROPE_OK && st[1] == ROPE_OK && same_bits(t, oq[0], oq[1], nq) && same_bits(t, ok[0], ok[1], nk);
    free(q), free(kk), free(c), free(s), free(oq[0]), free(oq[1]), free(ok[0]), free(ok[1]);
    return good;
}

static void compare_with_scalar(rope_context *ctx, rope_context *ref, const char *how) {
    char what[256];
    for (int i = 0; i < CASES; i++) {
        int good = onnx_case(ctx, ref, what, sizeof what);
        CHECK(good, "%s: %s differs from scalar (%s)", how, what, rope_last_error());
        good = atb_case(ctx, ref, what, sizeof what);
        CHECK(good, "%s: %s differs from scalar (%s)", how, what, rope_last_error());
    }
}

enum { N_ISAS = ROPE_ISA_COUNT_ - 1 }; /* every set, scalar first */

static rope_isa isa_number(size_t i) {
    return (rope_isa)(ROPE_ISA_SCALAR + (int)i);
}

/* ROPE_ISA, read when the default context is first used: a set that is not the best, so the
 * variable visibly wins over the automatic choice; unknown names and sets this CPU lacks are ignored
 * (the automatic choice stays, never a failure). */
static void rope_isa_variable(void) {
    rope_isa forced = rope_isa_available(ROPE_ISA_AVX2) ? ROPE_ISA_AVX2 : ROPE_ISA_SCALAR;
    setenv("ROPE_ISA", rope_isa_name(forced), 1);
    CHECK(rope_context_isa(NULL) == forced, "default context: %s with ROPE_ISA=%s",
          rope_isa_name(rope_context_isa(NULL)), rope_isa_name(forced));
    rope_context *c = NULL;
    CHECK(rope_context_create(NULL, &c) == ROPE_OK && rope_context_isa(c) == forced, "auto context with ROPE_ISA");
    rope_context_free(c);
    setenv("ROPE_ISA", "sse9", 1);
    c = NULL;
    rope_isa best = ROPE_ISA_SCALAR; /* the last available set: later values are preferred (rope.h) */
    for (size_t i = 0; i < N_ISAS; i++)
        if (rope_isa_available(isa_number(i))) best = isa_number(i);
    CHECK(rope_context_create(NULL, &c) == ROPE_OK && c && rope_context_isa(c) == best, "ROPE_ISA=sse9 not ignored");
    rope_context_free(c);
    for (size_t i = 0; i < N_ISAS; i++) {
        if (rope_isa_available(isa_number(i))) continue;
        setenv("ROPE_ISA", rope_isa_name(isa_number(i)), 1);
        c = NULL;
        CHECK(rope_context_create(NULL, &c) == ROPE_OK && c && rope_context_isa(c) == best, "ROPE_ISA=%s not ignored",
              rope_isa_name(isa_number(i)));
        rope_context_free(c);
    }
    unsetenv("ROPE_ISA");
}

/* One available set forced at creation, then chosen by set_isa on a context and on the default one:
 * each matches the scalar context `ref`. Returns 0 when the context could not be created. */
static int isa_matches_scalar(rope_isa isa, rope_context *ref) {
    rope_context_options o = ROPE_CONTEXT_OPTIONS_INIT;
    o.isa = isa, o.threads = 1;
    rope_context *ctx = NULL;
    CHECK(rope_context_create(&o, &ctx) == ROPE_OK && rope_context_isa(ctx) == isa, "context %s: %s",
          rope_isa_name(isa), rope_last_error());
    if (!ctx) return 0;
    compare_with_scalar(ctx, ref, rope_isa_name(isa));
    /* the same set chosen after creation, on a context and on the default one */
    rope_context *other = NULL;
    rope_context_options ao = ROPE_CONTEXT_OPTIONS_INIT;
    ao.isa = ROPE_ISA_SCALAR, ao.threads = 2;
    CHECK(rope_context_create(&ao, &other) == ROPE_OK, "%s", rope_last_error());
    CHECK(rope_context_set_isa(other, isa) == ROPE_OK && rope_context_isa(other) == isa, "set_isa %s",
          rope_isa_name(isa));
    compare_with_scalar(other, ref, "set_isa");
    CHECK(rope_context_set_isa(NULL, isa) == ROPE_OK && rope_context_isa(NULL) == isa, "default set_isa %s",
          rope_isa_name(isa));
    compare_with_scalar(NULL, ref, "default context");
    rope_context_free(other);
    rope_context_free(ctx);
    printf("isa %s: public calls match scalar\n", rope_isa_name(isa));
    return 1;
}

/* Every set this machine has against the scalar context; then set_isa AUTO brings back the best set,
 * and at least one non-scalar set was compared when any is available. */
static void every_available_isa(rope_context *ref) {
    int ran = 0, simd = 0; /* non-scalar sets compared with scalar, and available */
    for (size_t i = 0; i < N_ISAS; i++) {
        rope_isa isa = isa_number(i);
        if (!rope_isa_available(isa)) {
            printf("isa %s: not available here\n", rope_isa_name(isa));
            continue;
        }
        simd += isa != ROPE_ISA_SCALAR;
        if (!isa_matches_scalar(isa, ref)) continue;
        ran += isa != ROPE_ISA_SCALAR; /* scalar against itself proves nothing */
    }
    CHECK(rope_context_set_isa(NULL, ROPE_ISA_AUTO) == ROPE_OK && rope_context_isa(NULL) == rope_kernels_best(),
          "auto after set_isa: %s", rope_isa_name(rope_context_isa(NULL)));
    if (simd) CHECK(ran >= 1, "no instruction set ran");
    else printf("only scalar: nothing compared\n");
}

int main(void) {
    tu_seed(0x15a);
    rope_isa_variable();
    rope_context_options so = ROPE_CONTEXT_OPTIONS_INIT;
    so.isa = ROPE_ISA_SCALAR, so.threads = 1;
    rope_context *ref = NULL;
    CHECK(rope_context_create(&so, &ref) == ROPE_OK, "scalar context: %s", rope_last_error());
    if (!ref) return tu_finish();
    every_available_isa(ref);
    rope_context_free(ref);
    return tu_finish();
}
