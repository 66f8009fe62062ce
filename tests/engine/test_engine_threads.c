/* SPDX-License-Identifier: MIT */
/* Every thread count gives bitwise the output of one thread: ONNX (3-D and 4-D, with and without
 * position_ids, padded rows, in place) and ATB (cosFormat 1 with random packed sequences, so blocks
 * start in the middle of a sequence and of a token). The engine's thresholds are lowered so these
 * small shapes are cut into many blocks and tiles, and every output is also compared, bit for bit,
 * with the result rope.h's arithmetic prescribes, computed here in the operators' own index order:
 * a wrong walk cannot hide behind a consistent one. */
#include <stdlib.h>
#include <string.h>

#include "contexts.h"
#include "engine/context.h"
#include "engine/engine.h"
#include "harness.h"
#include "reference.h"

static const int counts[] = {2, 3, 4, 7};
enum { N_COUNTS = sizeof counts / sizeof counts[0] };
static rope_context *ctx1, *ctxn[N_COUNTS];

/* ---- the exact expected output ---------------------------------------------------------------- */

static float ld(rope_dtype t, const void *p, size_t i) {
    if (t == ROPE_F16) return rope_f16_to_f32(((const uint16_t *)p)[i]);
    if (t == ROPE_BF16) return rope_bf16_to_f32(((const uint16_t *)p)[i]);
    return ((const float *)p)[i];
}

static void st(rope_dtype t, void *p, size_t i, float v) {
    if (t == ROPE_F16) ((uint16_t *)p)[i] = rope_f32_to_f16(v);
    else if (t == ROPE_BF16) ((uint16_t *)p)[i] = rope_f32_to_bf16(v);
    else ((float *)p)[i] = v;
}

typedef struct vec_shape {
    rope_dtype dt, ct;
    size_t hs, rot, pair_stride;
    int full; /* cos/sin rows of rot values (ATB) or rot/2 (ONNX) */
} vec_shape;

/* The head vector at element `base` of x into y, with cos/sin row `row`: float32 products, each
 * rounded, one add or subtract, one rounding to the dtype (-ffp-contract=off holds for tests too). */
static void rotate(const vec_shape *v, const void *x, void *y, size_t base, const void *c, const void *s,
                   size_t row) {
    size_t w = v->full ? v->rot : v->rot / 2;
    for (size_t g = 0; g < v->rot; g += 2 * v->pair_stride)
        for (size_t j = 0; j < v->pair_stride; j++) {
            size_t a = g + j, b = a + v->pair_stride, pa = v->full ? a : g / 2 + j, pb = v->full ? b : pa;
            float xa = ld(v->dt, x, base + a), xb = ld(v->dt, x, base + b);
            float ca = ld(v->ct, c, row * w + pa), sa = ld(v->ct, s, row * w + pa);
            float cb = ld(v->ct, c, row * w + pb), sb = ld(v->ct, s, row * w + pb);
            float p = xa * ca, q = xb * sa, r = xa * sb, u = xb * cb;
            st(v->dt, y, base + a, p - q);
            st(v->dt, y, base + b, r + u);
        }
    for (size_t i = v->rot; i < v->hs; i++) st(v->dt, y, base + i, ld(v->dt, x, base + i));
}

/* ---- ONNX ------------------------------------------------------------------------------------- */

static void onnx_case(int iter) {
    static const rope_dtype types[] = {ROPE_F32, ROPE_F16, ROPE_BF16};
    rope_dtype dt = types[tu_int(0, 2)];
    size_t es = rope_dtype_size(dt);
    int rank = (int)tu_int(3, 4), il = (int)tu_int(0, 1), with_ids = (int)tu_int(0, 1);
    int in_place = tu_int(0, 3) == 0;
    size_t B = (size_t)tu_int(1, 3), S = (size_t)tu_int(1, 40), N = (size_t)tu_int(1, 9), H = 2 * (size_t)tu_int(1, 24);
    if (rank == 4 && tu_int(0, 2) == 0) S = (size_t)tu_int(60, 160); /* heads >= 4 KiB apart: tiles */
    size_t r = tu_int(0, 1) ? H : 2 * (size_t)tu_int(1, (int64_t)H / 2);
    size_t max_pos = with_ids ? (size_t)tu_int(1, 50) : 0;
    size_t row = rank == 4 ? H : N * H, rows = B * S * N * H / row;
    size_t stride = in_place || tu_int(0, 2) ? row : row + (size_t)tu_int(1, 5); /* sometimes padded */
    size_t cs_n = (with_ids ? max_pos : B * S) * r / 2, n = rows * stride;
    char *x = calloc(n, es), *want = calloc(n, es), *y = calloc(n, es), *x0 = malloc(n * es);
    void *cs = malloc(cs_n * es), *sn = malloc(cs_n * es);
    int64_t *ids = malloc(B * S * sizeof *ids);
    for (size_t i = 0; i < rows; i++) ref_fill(dt, x + i * stride * es, NULL, row);
    memcpy(x0, x, n * es);
    ref_fill(dt, cs, NULL, cs_n);
    ref_fill(dt, sn, NULL, cs_n);
    for (size_t i = 0; i < B * S; i++) ids[i] = with_ids ? tu_int(0, (int64_t)max_pos - 1) : 0;

    vec_shape v = {dt, dt, H, r, il ? 1 : r / 2, 0};
    for (size_t b = 0; b < B; b++)
        for (size_t s = 0; s < S; s++)
            for (size_t h = 0; h < N; h++) {
                size_t base = rank == 4 ? ((b * N + h) * S + s) * stride : (b * S + s) * stride + h * H;
                rotate(&v, x, want, base, cs, sn, with_ids ? (size_t)ids[b * S + s] : b * S + s);
            }

    rope_tensor X = {x, dt, rank, {0}, stride == row ? 0 : (int64_t)stride};
    if (rank == 4) X.dims[0] = (int64_t)B, X.dims[1] = (int64_t)N, X.dims[2] = (int64_t)S, X.dims[3] = (int64_t)H;
    else X.dims[0] = (int64_t)B, X.dims[1] = (int64_t)S, X.dims[2] = (int64_t)(N * H);
    rope_tensor C = {cs, dt, with_ids ? 2 : 3, {0}, 0}, Sn;
    if (with_ids) C.dims[0] = (int64_t)max_pos, C.dims[1] = (int64_t)r / 2;
    else C.dims[0] = (int64_t)B, C.dims[1] = (int64_t)S, C.dims[2] = (int64_t)r / 2;
    Sn = C;
    Sn.data = sn;
    rope_tensor P = {ids, ROPE_I64, 2, {(int64_t)B, (int64_t)S}, 0}, Y = X;
    rope_onnx_attrs attrs = {il, (int64_t)r, rank == 3 ? (int64_t)N : 0};
    /* In place the padding of X is its own; out of place Y's padding must stay zero. */
    if (!in_place)
        for (size_t i = 0; i < rows; i++) memset(want + (i * stride + row) * es, 0, (stride - row) * es);

    for (int k = -1; k < N_COUNTS; k++) {
        rope_context *ctx = k < 0 ? ctx1 : ctxn[k];
        if (in_place) memcpy(x, x0, n * es);
        else memset(y, 0, n * es);
        Y.data = in_place ? x : y;
        rope_status status = rope_onnx_rotary_embedding(ctx, &attrs, &X, &C, &Sn, with_ids ? &P : NULL, &Y);
        CHECK(status == ROPE_OK && memcmp(Y.data, want, n * es) == 0,
              "onnx case %d (%s rank %d, B%zu S%zu N%zu H%zu r%zu il%d ids%d stride %zu in place %d), %d threads: %s",
              iter, rope_dtype_name(dt), rank, B, S, N, H, r, il, with_ids, stride, in_place, k < 0 ? 1 : counts[k],
              status == ROPE_OK ? "output differs" : rope_last_error());
    }
    free(x), free(want), free(y), free(x0), free(cs), free(sn), free(ids);
}

/* ---- ATB -------------------------------------------------------------------------------------- */

static void atb_case(int iter) {
    static const rope_dtype combos[][2] = {
        {ROPE_F16, ROPE_F16}, {ROPE_F16, ROPE_F32}, {ROPE_BF16, ROPE_BF16}, {ROPE_F32, ROPE_F32}};
    int combo = (int)tu_int(0, 3);
    rope_dtype dt = combos[combo][0], ct = combos[combo][1];
    size_t es = rope_dtype_size(dt), cs_es = rope_dtype_size(ct);
    size_t d = 4 * (size_t)tu_int(1, 8);
    int coeff = (int)(tu_int(0, 2) == 0 ? 2 : tu_int(0, 1) ? 4 : (int64_t)d);
    size_t hk = d * (size_t)tu_int(1, 3), hq = hk * (size_t)tu_int(1, 4);
    size_t batch = (size_t)tu_int(1, 6), max_seq = (size_t)tu_int(1, 12), ntokens = 0;
    int32_t *seqlen = malloc(batch * sizeof *seqlen);
    for (size_t b = 0; b < batch; b++) { /* packed sequences of random lengths, empty ones too */
        seqlen[b] = tu_int(0, 4) == 0 ? 0 : (int32_t)tu_int(1, (int64_t)max_seq);
        ntokens += (size_t)seqlen[b];
    }
    if (ntokens == 0) seqlen[0] = 1, ntokens = 1;
    size_t nq = ntokens * hq, nk = ntokens * hk, ncs = max_seq * d;
    void *q = malloc(nq * es), *k = malloc(nk * es), *cs = malloc(ncs * cs_es), *sn = malloc(ncs * cs_es);
    char *wq = calloc(nq, es), *wk = calloc(nk, es), *rq = malloc(nq * es), *rk = malloc(nk * es);
    ref_fill(dt, q, NULL, nq);
    ref_fill(dt, k, NULL, nk);
    ref_fill(ct, cs, NULL, ncs);
    ref_fill(ct, sn, NULL, ncs);

    vec_shape v = {dt, ct, d, d, d / (size_t)coeff, 1};
    for (size_t b = 0, t = 0; b < batch; b++)
        for (size_t p = 0; p < (size_t)seqlen[b]; p++, t++) { /* position p of sequence b is token t */
            for (size_t i = 0; i < hq; i += d) rotate(&v, q, wq, t * hq + i, cs, sn, p);
            for (size_t i = 0; i < hk; i += d) rotate(&v, k, wk, t * hk + i, cs, sn, p);
        }

    rope_tensor Q = {q, dt, 2, {(int64_t)ntokens, (int64_t)hq}, 0}, K = {k, dt, 2, {(int64_t)ntokens, (int64_t)hk}, 0};
    rope_tensor C = {cs, ct, 2, {(int64_t)max_seq, (int64_t)d}, 0}, Sn = C;
    Sn.data = sn;
    rope_tensor L = {seqlen, ROPE_I32, 1, {(int64_t)batch}, 0}, RQ = Q, RK = K;
    RQ.data = rq, RK.data = rk;
    rope_atb_param param = {coeff, 1, 0, {0}, 0};
    for (int n = -1; n < N_COUNTS; n++) {
        memset(rq, 0, nq * es), memset(rk, 0, nk * es);
        rope_status status = rope_atb_rope(n < 0 ? ctx1 : ctxn[n], &param, &Q, &K, &C, &Sn, &L, &RQ, &RK);
        CHECK(status == ROPE_OK && !memcmp(rq, wq, nq * es) && !memcmp(rk, wk, nk * es),
              "atb case %d (%s/%s, D %zu, coeff %d, %zu tokens in %zu sequences), %d threads: %s", iter,
              rope_dtype_name(dt), rope_dtype_name(ct), d, coeff, ntokens, batch, n < 0 ? 1 : counts[n],
              status == ROPE_OK ? "output differs" : rope_last_error());
    }
    free(seqlen), free(q), free(k), free(cs), free(sn), free(wq), free(wk), free(rq), free(rk);
}

/* ---- a large call with the real thresholds ---------------------------------------------------- */

/* A prefill-sized 4-D call with the measured defaults (pool, tiles of the automatic size). */
static void default_thresholds(void) {
    enum { SEQ = 1500, HEADS = 8, HS = 64 };
    size_t n = (size_t)SEQ * HEADS * HS;
    float *x = malloc(n * 4), *y1 = malloc(n * 4), *yn = malloc(n * 4), *cs = malloc(SEQ * HS / 2 * 4);
    int64_t *ids = malloc(SEQ * sizeof *ids);
    ref_fill(ROPE_F32, x, NULL, n);
    ref_fill(ROPE_F32, cs, NULL, SEQ * HS / 2);
    for (int i = 0; i < SEQ; i++) ids[i] = SEQ - 1 - i;
    rope_tensor X = {x, ROPE_F32, 4, {1, HEADS, SEQ, HS}, 0}, Y = X, C = {cs, ROPE_F32, 2, {SEQ, HS / 2}, 0};
    rope_tensor P = {ids, ROPE_I64, 2, {1, SEQ}, 0};
    Y.data = y1;
    CHECK(rope_onnx_rotary_embedding(ctx1, NULL, &X, &C, &C, &P, &Y) == ROPE_OK, "%s", rope_last_error());
    for (int k = 0; k < N_COUNTS; k++) {
        Y.data = yn;
        memset(yn, 0, n * 4);
        unsigned long long before = rope_pool_dispatches(ctxn[k]->pool);
        CHECK(rope_onnx_rotary_embedding(ctxn[k], NULL, &X, &C, &C, &P, &Y) == ROPE_OK && !memcmp(yn, y1, n * 4),
              "default thresholds, %d threads: output differs", counts[k]);
        CHECK(rope_pool_dispatches(ctxn[k]->pool) > before, "default thresholds, %d threads: the pool never ran",
              counts[k]);
    }
    free(x), free(y1), free(yn), free(cs), free(ids);
}

int main(void) {
    rope_context_options o = {sizeof(rope_context_options), ROPE_ISA_AUTO, 1, NULL, NULL, 0, 0};
    CHECK(rope_context_create(&o, &ctx1) == ROPE_OK, "%s", rope_last_error());
    for (int k = 0; k < N_COUNTS; k++) {
        o.threads = counts[k];
        CHECK(rope_context_create(&o, &ctxn[k]) == ROPE_OK, "%d threads: %s", counts[k], rope_last_error());
    }
    tu_seed(20240611);
    default_thresholds();
    rope_engine_tuning saved = rope_engine_tune;
    static const size_t tiles[] = {1, 3, 7, 64};
    for (int i = 0; i < 240; i++) {
        tu_split_everything(tiles[i % 4]);
        onnx_case(i);
    }
    for (int i = 0; i < 160; i++) {
        tu_split_everything(tiles[i % 4]);
        atb_case(i);
    }
    rope_engine_tune = saved;
    rope_context_free(ctx1);
    for (int k = 0; k < N_COUNTS; k++) rope_context_free(ctxn[k]);
    return tu_finish();
}
