/* SPDX-License-Identifier: MIT */
/* One test per rejection of the ATB operator (spec R4 and this project's additions): the distinct
 * status, a message naming the argument, and outputs left untouched. */
#include <string.h>

#include "harness.h"
#include "rope.h"

enum { T = 4, HQ = 32, HK = 16, D = 8, ROWS = 6 };

static uint16_t q[T * HQ], k[T * HK], c16[ROWS * D], s16[ROWS * D];
static float c32[ROWS * D], s32[ROWS * D];
static uint16_t rq[T * HQ], rk[T * HK];
static int32_t seqlen[2] = {2, 2};

typedef struct call {
    rope_atb_param p;
    rope_tensor q, k, c, s, l, rq, rk;
} call;

static call valid(void) {
    call a;
    rope_atb_param p = ROPE_ATB_PARAM_INIT;
    a.p = p;
    a.q = (rope_tensor){q, ROPE_F16, 2, {T, HQ}, 0};
    a.k = (rope_tensor){k, ROPE_F16, 2, {T, HK}, 0};
    a.c = (rope_tensor){c16, ROPE_F16, 2, {ROWS, D}, 0};
    a.s = (rope_tensor){s16, ROPE_F16, 2, {ROWS, D}, 0};
    a.l = (rope_tensor){seqlen, ROPE_I32, 1, {2}, 0};
    a.rq = (rope_tensor){rq, ROPE_F16, 2, {T, HQ}, 0};
    a.rk = (rope_tensor){rk, ROPE_F16, 2, {T, HK}, 0};
    return a;
}

static rope_status run(const call *a) {
    return rope_atb_rope(NULL, &a->p, &a->q, &a->k, &a->c, &a->s, &a->l, &a->rq, &a->rk);
}

static int untouched(void) {
    for (size_t i = 0; i < T * HQ; i++)
        if (rq[i] != 0xabcd) return 0;
    for (size_t i = 0; i < T * HK; i++)
        if (rk[i] != 0xabcd) return 0;
    return 1;
}

/* Runs `a`, expects `want` with every substring in `needles` in the message, and no output written. */
static void expect(const char *what, const call *a, rope_status want, const char *n1, const char *n2) {
    for (size_t i = 0; i < T * HQ; i++) rq[i] = 0xabcd;
    for (size_t i = 0; i < T * HK; i++) rk[i] = 0xabcd;
    rope_status st = run(a);
    const char *m = rope_last_error();
    CHECK(st == want, "%s: status %d, expected %d (%s)", what, (int)st, (int)want, m);
    CHECK(strstr(m, "rope_atb_rope: ") == m, "%s: message lacks the function: %s", what, m);
    CHECK(!n1 || strstr(m, n1), "%s: message lacks '%s': %s", what, n1, m);
    CHECK(!n2 || strstr(m, n2), "%s: message lacks '%s': %s", what, n2, m);
    CHECK(untouched(), "%s: an output was written", what);
    /* Shape inference agrees on everything that needs no data. */
    if (want == ROPE_ERROR_INDEX || want == ROPE_ERROR_ALIASING || want == ROPE_ERROR_NULL_ARGUMENT) return;
    if (strstr(what, "output")) return;
    rope_tensor oq, ok;
    rope_status si = rope_atb_infer(&a->p, &a->q, &a->k, &a->c, &a->s, &a->l, &oq, &ok);
    CHECK(si == want, "%s: rope_atb_infer gave %d, expected %d", what, (int)si, (int)want);
}

/* Varied finite values in the inputs (query, key, and cos/sin in f16 and f32). */
static void fill_inputs(void) {
    for (size_t i = 0; i < T * HQ; i++) q[i] = rope_f32_to_f16(0.5f + (float)(i % 3));
    for (size_t i = 0; i < T * HK; i++) k[i] = rope_f32_to_f16(-0.25f - (float)(i % 5));
    for (size_t i = 0; i < ROWS * D; i++) {
        c16[i] = rope_f32_to_f16(c32[i] = 0.125f * (float)(i % 7));
        s16[i] = rope_f32_to_f16(s32[i] = -0.0625f * (float)(i % 11));
    }
}

/* The valid call succeeds, so each rejection below is caused by its one change. */
static void valid_call(void) {
    call a = valid();
    for (size_t i = 0; i < T * HQ; i++) rq[i] = 0;
    CHECK(run(&a) == ROPE_OK, "the valid call fails: %s", rope_last_error());
}

/* rotaryCoeff, cosFormat and the reserved bytes of the parameter block. */
static void parameters(void) {
    call a;
    a = valid(), a.p.rotary_coeff = 3;
    expect("coeff 3", &a, ROPE_ERROR_ATTRIBUTE, "rotaryCoeff", "found 3");
    a = valid(), a.p.rotary_coeff = 6;
    expect("coeff 6 (not 2, 4 or D=8)", &a, ROPE_ERROR_ATTRIBUTE, "rotaryCoeff", "D = 8");
    a = valid(), a.p.rotary_coeff = 4, a.c.dims[1] = a.s.dims[1] = 6;
    a.q.dims[1] = a.rq.dims[1] = 24, a.k.dims[1] = a.rk.dims[1] = 12;
    expect("coeff 4 with D 6", &a, ROPE_ERROR_ATTRIBUTE, "rotaryCoeff", "D = 6");
    a = valid(), a.p.cos_format = 2;
    expect("cosFormat 2", &a, ROPE_ERROR_ATTRIBUTE, "cosFormat", "found 2");
    a = valid(), a.p.cos_format = -1;
    expect("cosFormat -1", &a, ROPE_ERROR_ATTRIBUTE, "cosFormat", "found -1");
    a = valid(), a.p.rsv[2] = 9;
    expect("reserved byte", &a, ROPE_ERROR_ATTRIBUTE, "rsv[2]", "found 9");
    /* librope's split partial layout: partial and head_size */
    a = valid(), a.p.partial = 2;
    expect("partial 2", &a, ROPE_ERROR_ATTRIBUTE, "partial: expected 0 (ROPE_PARTIAL_LEADING) or 1", "found 2");
    a = valid(), a.p.head_size = 8;
    expect("head_size with leading", &a, ROPE_ERROR_ATTRIBUTE, "head_size: expected 0 with partial 0", "found 8");
    a = valid(), a.p.partial = ROPE_PARTIAL_SPLIT, a.p.rotary_coeff = 2, a.p.head_size = 7;
    expect("split odd head_size", &a, ROPE_ERROR_ATTRIBUTE, "head_size: expected an even number > 0", "found 7");
    a = valid(), a.p.partial = ROPE_PARTIAL_SPLIT, a.p.head_size = 16;
    expect("split coeff 4", &a, ROPE_ERROR_ATTRIBUTE, "rotaryCoeff: expected 2 with partial 1", "found 4");
    a = valid(), a.p.partial = ROPE_PARTIAL_SPLIT, a.p.rotary_coeff = 2, a.p.head_size = D - 2;
    expect("split D above head_size", &a, ROPE_ERROR_SHAPE, "expected <= head_size", "with partial 1");
    a = valid(), a.p.partial = ROPE_PARTIAL_SPLIT, a.p.rotary_coeff = 2, a.p.head_size = HK + 2;
    expect("split hidden not whole heads", &a, ROPE_ERROR_SHAPE, "expected a multiple of head_size", "hidden size");
}

/* Each tensor's dtype, and the pairings of query, key, cos/sin and output dtypes. */
static void dtypes(void) {
    call a;
    a = valid(), a.q.dtype = a.rq.dtype = ROPE_I32;
    expect("query i32", &a, ROPE_ERROR_DTYPE, "query dtype", "found i32");
    a = valid(), a.k.dtype = ROPE_BF16;
    expect("key bf16 with f16 query", &a, ROPE_ERROR_DTYPE, "key dtype", "found bf16");
    a = valid(), a.c.dtype = a.s.dtype = ROPE_BF16;
    expect("bf16 cos with f16 query", &a, ROPE_ERROR_DTYPE, "cos dtype: expected f16 or f32", "found bf16");
    a = valid(), a.q.dtype = a.k.dtype = a.rq.dtype = a.rk.dtype = ROPE_BF16;
    a.c.data = c32, a.s.data = s32, a.c.dtype = a.s.dtype = ROPE_F32;
    expect("f32 cos with bf16 query", &a, ROPE_ERROR_DTYPE, "cos dtype: expected bf16", "found f32");
    a = valid(), a.q.dtype = a.k.dtype = a.rq.dtype = a.rk.dtype = ROPE_F32;
    expect("f16 cos with f32 query", &a, ROPE_ERROR_DTYPE, "cos dtype: expected f32", "found f16");
    a = valid(), a.s.dtype = ROPE_F32, a.s.data = s32;
    expect("sin dtype != cos dtype", &a, ROPE_ERROR_DTYPE, "sin dtype", "found f32");
    a = valid(), a.l.dtype = ROPE_I64;
    expect("seqlen i64", &a, ROPE_ERROR_DTYPE, "seqlen dtype", "found i64");
    a = valid(), a.rq.dtype = ROPE_BF16;
    expect("output ropeQ dtype", &a, ROPE_ERROR_DTYPE, "ropeQ dtype", "found bf16");
}

/* Ranks, dims and shapes: mismatches between tensors, D and hidden sizes, too few cos rows. */
static void ranks_and_shapes(void) {
    call a;
    a = valid(), a.q.rank = 3, a.q.dims[2] = 1;
    expect("query rank 3", &a, ROPE_ERROR_RANK, "query rank", "found 3");
    a = valid(), a.k.rank = 4, a.k.dims[0] = 1, a.k.dims[1] = T, a.k.dims[2] = 2, a.k.dims[3] = 8;
    expect("key rank differs", &a, ROPE_ERROR_RANK, "key rank", "found 4");
    a = valid(), a.c.rank = a.s.rank = 3, a.c.dims[2] = a.s.dims[2] = 1;
    expect("cos rank 3", &a, ROPE_ERROR_RANK, "cos rank", "found 3");
    a = valid(), a.l.rank = 2, a.l.dims[1] = 1;
    expect("seqlen rank 2", &a, ROPE_ERROR_RANK, "seqlen rank", "found 2");
    a = valid(), a.s.dims[0] = 5;
    expect("sin shape != cos shape", &a, ROPE_ERROR_SHAPE, "sin shape", "[6,8]");
    a = valid(), a.k.dims[0] = 3;
    expect("ntokens differ", &a, ROPE_ERROR_SHAPE, "key dim 0", "expected 4");
    a = valid(), a.k.dims[1] = 0;
    expect("hiddenK 0", &a, ROPE_ERROR_SHAPE, "key hidden size", "found 0");
    a = valid(), a.k.dims[1] = a.rk.dims[1] = 24;
    expect("hiddenQ % hiddenK", &a, ROPE_ERROR_SHAPE, "multiple of key hidden size 24", NULL);
    a = valid(), a.q.dims[1] = a.rq.dims[1] = 36, a.k.dims[1] = a.rk.dims[1] = 12;
    expect("hidden not a multiple of D", &a, ROPE_ERROR_SHAPE, "multiple of D = 8", "36");
    a = valid(), a.c.dims[1] = a.s.dims[1] = 7, a.p.rotary_coeff = 2;
    expect("odd D", &a, ROPE_ERROR_SHAPE, "cos dim 1", "found 7");
    a = valid(), a.c.dims[0] = a.s.dims[0] = 3;
    expect("too few cos rows, cosFormat 0", &a, ROPE_ERROR_SHAPE, "cos dim 0", "found 3");
    a = valid(), a.q.dims[0] = -1;
    expect("negative dim", &a, ROPE_ERROR_SHAPE, "query dim 0", "found -1");
    a = valid(), a.rk.dims[1] = 8;
    expect("output ropeK shape", &a, ROPE_ERROR_SHAPE, "ropeK shape", "[4,16]");
}

/* seqlen values with cosFormat 1: their sum, negative and too large values (restored after). */
static void seqlen_values(void) {
    call a;
    a = valid(), a.p.cos_format = 1, seqlen[0] = 3, seqlen[1] = 2;
    expect("sum(seqlen) != ntokens", &a, ROPE_ERROR_INDEX, "sum of seqlen", "expected 4");
    seqlen[0] = -1, seqlen[1] = 5;
    expect("negative seqlen", &a, ROPE_ERROR_INDEX, "seqlen[0] = -1", NULL);
    seqlen[0] = 0, seqlen[1] = 4;
    a.c.dims[0] = a.s.dims[0] = 3;
    expect("seqlen above the cos rows", &a, ROPE_ERROR_INDEX, "seqlen[1] = 4", "[0, 3]");
    {
        static uint32_t useq[2] = {0x80000000u, 0x80000004u};
        a = valid(), a.p.cos_format = 1, a.l = (rope_tensor){useq, ROPE_U32, 1, {2}, 0};
        expect("huge u32 seqlen", &a, ROPE_ERROR_INDEX, "seqlen[0] = 2147483648", NULL);
    }
    seqlen[0] = 2, seqlen[1] = 2;
}

/* NULL tensors and NULL data pointers. */
static void null_pointers(void) {
    call a;
    a = valid(), a.q.data = NULL;
    expect("NULL query data", &a, ROPE_ERROR_NULL_ARGUMENT, "query data is NULL", NULL);
    a = valid(), a.rk.data = NULL;
    expect("NULL ropeK data", &a, ROPE_ERROR_NULL_ARGUMENT, "ropeK data is NULL", NULL);
    a = valid();
    CHECK(rope_atb_rope(NULL, &a.p, NULL, &a.k, &a.c, &a.s, &a.l, &a.rq, &a.rk) == ROPE_ERROR_NULL_ARGUMENT &&
              strstr(rope_last_error(), "query is NULL"),
          "%s", rope_last_error());
    CHECK(rope_atb_rope(NULL, &a.p, &a.q, &a.k, &a.c, &a.s, NULL, &a.rq, &a.rk) == ROPE_ERROR_NULL_ARGUMENT &&
              strstr(rope_last_error(), "seqlen is NULL"),
          "%s", rope_last_error());
}

/* Row strides, and outputs overlapping an input or each other. */
static void strides_and_aliasing(void) {
    call a;
    a = valid(), a.q.row_stride = 16;
    expect("row_stride below the row", &a, ROPE_ERROR_STRIDE, "query row_stride", "found 16");
    a = valid(), a.c.row_stride = 16;
    expect("strided cos", &a, ROPE_ERROR_STRIDE, "cos row_stride", NULL);
    a = valid(), a.rq.data = q + 1;
    expect("ropeQ partially overlaps query", &a, ROPE_ERROR_ALIASING, "ropeQ partially overlaps query", NULL);
    a = valid(), a.rk.data = rq + 8;
    expect("ropeK overlaps ropeQ", &a, ROPE_ERROR_ALIASING, "ropeK overlaps ropeQ", NULL);
    a = valid(), a.rq.data = q, a.rk.data = q + 16;
    expect("ropeK overlaps query", &a, ROPE_ERROR_ALIASING, "ropeK overlaps query", NULL);
    a = valid(), a.rk.data = c16, a.rk.dims[0] = 2, a.k.dims[0] = 2, a.q.dims[0] = 2, a.rq.dims[0] = 2;
    expect("ropeK overlaps cos", &a, ROPE_ERROR_ALIASING, "ropeK overlaps cos", NULL);
}

int main(void) {
    fill_inputs();
    valid_call();
    parameters();
    dtypes();
    ranks_and_shapes();
    seqlen_values();
    null_pointers();
    strides_and_aliasing();
    return tu_finish();
}
