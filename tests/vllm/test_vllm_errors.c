/* SPDX-License-Identifier: MIT */
/* One test per rejection of the vLLM operator: the distinct status, a message naming the argument
 * (and the expected versus found value where there is one), and outputs left untouched. Each
 * rejection also goes through the lifecycle (setup must fail the same way) and, where no data is
 * involved, through shape inference. */
#include <stddef.h>
#include <string.h>

#include "harness.h"
#include "rope.h"

enum { T = 4, HQ = 3, HK = 2, HS = 8, ROT = 8, P = 6 };

static uint16_t q[T * HQ * HS], k[T * HK * HS], c16[P * ROT], qo[T * HQ * HS], ko[T * HK * HS];
static float c32[P * ROT];
static int64_t pos[3 * T] = {0, 5, 2, 2, 1, 1, 1, 1, 0, 3, 4, 5};
static int32_t pos32[T] = {1, 2, 3, 4};

typedef struct call {
    rope_vllm_attrs a;
    rope_tensor pos, q, k, c, qo, ko;
    int no_key;
} call;

static call valid(void) {
    call v;
    memset(&v, 0, sizeof v);
    rope_vllm_attrs a = ROPE_VLLM_ATTRS_INIT;
    a.head_size = HS;
    v.a = a;
    v.pos = (rope_tensor){pos, ROPE_I64, 1, {T}, 0};
    v.q = (rope_tensor){q, ROPE_F16, 2, {T, HQ * HS}, 0};
    v.k = (rope_tensor){k, ROPE_F16, 2, {T, HK * HS}, 0};
    v.c = (rope_tensor){c16, ROPE_F16, 2, {P, ROT}, 0};
    v.qo = (rope_tensor){qo, ROPE_F16, 2, {T, HQ * HS}, 0};
    v.ko = (rope_tensor){ko, ROPE_F16, 2, {T, HK * HS}, 0};
    return v;
}

static void poison(void) {
    for (size_t i = 0; i < T * HQ * HS; i++) qo[i] = 0xabcd;
    for (size_t i = 0; i < T * HK * HS; i++) ko[i] = 0xabcd;
}

static int untouched(void) {
    for (size_t i = 0; i < T * HQ * HS; i++)
        if (qo[i] != 0xabcd) return 0;
    for (size_t i = 0; i < T * HK * HS; i++)
        if (ko[i] != 0xabcd) return 0;
    return 1;
}

/* Runs `v` (forward, backward, lifecycle), expects `want` with n1 and n2 in the message, nothing
 * written. */
static void expect(const char *what, const call *v, rope_status want, const char *n1, const char *n2) {
    const rope_tensor *key = v->no_key ? NULL : &v->k, *key_out = v->no_key ? NULL : &v->ko;
    for (int pass = 0; pass < 2; pass++) {
        poison();
        rope_status st = pass ? rope_vllm_rotary_embedding_backward(NULL, &v->a, &v->pos, &v->q, key, &v->c, &v->qo,
                                                                    key_out)
                              : rope_vllm_rotary_embedding(NULL, &v->a, &v->pos, &v->q, key, &v->c, &v->qo, key_out);
        const char *m = rope_last_error();
        const char *fn = pass ? "rope_vllm_rotary_embedding_backward: " : "rope_vllm_rotary_embedding: ";
        CHECK(st == want, "%s (pass %d): status %d, expected %d (%s)", what, pass, (int)st, (int)want, m);
        CHECK(strstr(m, fn) == m, "%s: message lacks the function: %s", what, m);
        CHECK(!n1 || strstr(m, n1), "%s: message lacks '%s': %s", what, n1, m);
        CHECK(!n2 || strstr(m, n2), "%s: message lacks '%s': %s", what, n2, m);
        CHECK(untouched(), "%s: an output was written", what);
    }
    /* The lifecycle: attributes at creation, the rest at setup. */
    rope_operation *op = NULL;
    rope_status st = rope_operation_create_vllm(&v->a, &op);
    if (st == ROPE_OK) {
        rope_tensor in[4] = {v->pos, v->q, v->k, v->c}, out[2] = {v->qo, v->ko};
        if (v->no_key) memset(&in[2], 0, sizeof in[2]);
        rope_variant_pack pack = {in, 4, out, 2};
        size_t ws = 0;
        poison();
        st = rope_operation_setup(op, &pack, &ws);
        rope_operation_destroy(op);
    }
    if (strstr(what, "NULL")) return; /* pointers the pack cannot express */
    CHECK(st == want, "%s (lifecycle): status %d, expected %d (%s)", what, (int)st, (int)want, rope_last_error());
    CHECK(untouched(), "%s (lifecycle): an output was written", what);
    if (want == ROPE_ERROR_INDEX || want == ROPE_ERROR_ALIASING || strstr(what, "output")) return;
    rope_tensor oq, ok;
    st = rope_vllm_infer(&v->a, &v->pos, &v->q, key, &v->c, &oq, &ok);
    CHECK(st == want, "%s (infer): status %d, expected %d (%s)", what, (int)st, (int)want, rope_last_error());
}

/* Sets MRoPE sections (3 of them) on a call; positions become [3, T] when `pos3`. */
static void mrope3(call *v, int64_t s0, int64_t s1, int64_t s2, int pos3) {
    v->a.n_mrope_section = 3, v->a.mrope_section[0] = s0, v->a.mrope_section[1] = s1, v->a.mrope_section[2] = s2;
    if (pos3) v->pos.rank = 2, v->pos.dims[0] = 3, v->pos.dims[1] = T;
}

static rope_status forward(const call *v, const rope_vllm_attrs *a, const rope_tensor *pos, const rope_tensor *k,
                           const rope_tensor *c, const rope_tensor *ko) {
    return rope_vllm_rotary_embedding(NULL, a, pos, &v->q, k, c, &v->qo, ko);
}

static void attributes(void) {
    call v = valid();
    CHECK(forward(&v, NULL, &v.pos, &v.k, &v.c, &v.ko) == ROPE_ERROR_NULL_ARGUMENT, "NULL attrs");
    CHECK(strstr(rope_last_error(), "head_size is required") != NULL, "%s", rope_last_error());
    v = valid(), v.a.head_size = 0;
    expect("head_size 0", &v, ROPE_ERROR_ATTRIBUTE, "head_size: expected > 0", "0");
    v = valid(), v.a.is_neox = 2;
    expect("is_neox 2", &v, ROPE_ERROR_ATTRIBUTE, "is_neox: expected 0 or 1", "2");
    v = valid(), v.a.mrope_interleaved = -1;
    expect("interleaved -1", &v, ROPE_ERROR_ATTRIBUTE, "mrope_interleaved", "-1");
    v = valid(), v.a.n_mrope_section = 2;
    expect("2 sections", &v, ROPE_ERROR_ATTRIBUTE, "n_mrope_section", "found 2");
    v = valid(), mrope3(&v, 1, 1, 1, 0), v.a.n_mrope_section = 4, v.a.mrope_section[3] = 1, v.a.mrope_interleaved = 1;
    expect("interleaved 4 sections", &v, ROPE_ERROR_ATTRIBUTE, "expected n_mrope_section 3", "found 4");
    v = valid(), mrope3(&v, 2, 0, 2, 0);
    expect("section 0", &v, ROPE_ERROR_ATTRIBUTE, "mrope_section[1]: expected > 0", "found 0");
    v = valid(), v.a.mrope_section[3] = 5;
    expect("stray section", &v, ROPE_ERROR_ATTRIBUTE, "mrope_section[3]", "5");
    v = valid(), mrope3(&v, 1, 1, 1, 1);
    expect("sections sum", &v, ROPE_ERROR_ATTRIBUTE, "mrope_section [1, 1, 1]", "summing to 4 (rot/2");
    v.a.mrope_section[1] = INT64_MAX; /* no overflow in the sum */
    expect("huge section", &v, ROPE_ERROR_ATTRIBUTE, "9223372036854775807", "summing to 4");
}

static void null_pointers_and_data(void) {
    call v = valid();
    CHECK(forward(&v, &v.a, NULL, &v.k, &v.c, &v.ko) == ROPE_ERROR_NULL_ARGUMENT &&
              strstr(rope_last_error(), "positions"),
          "NULL positions: %s", rope_last_error());
    CHECK(forward(&v, &v.a, &v.pos, &v.k, NULL, &v.ko) == ROPE_ERROR_NULL_ARGUMENT &&
              strstr(rope_last_error(), "cos_sin_cache"),
          "NULL cache: %s", rope_last_error());
    CHECK(forward(&v, &v.a, &v.pos, &v.k, &v.c, NULL) == ROPE_ERROR_NULL_ARGUMENT &&
              strstr(rope_last_error(), "key_out"),
          "NULL key_out: %s", rope_last_error());
    CHECK(forward(&v, &v.a, &v.pos, NULL, &v.c, &v.ko) == ROPE_ERROR_NULL_ARGUMENT &&
              strstr(rope_last_error(), "both or neither"),
          "key NULL, key_out not: %s", rope_last_error());
    v = valid(), v.q.data = NULL;
    expect("query data NULL", &v, ROPE_ERROR_NULL_ARGUMENT, "query data", NULL);
    v = valid(), v.pos.data = NULL;
    expect("positions data NULL", &v, ROPE_ERROR_NULL_ARGUMENT, "positions data", NULL);
}

static void dtypes(void) {
    call v = valid();
    v.pos.dtype = ROPE_U32;
    expect("positions u32", &v, ROPE_ERROR_DTYPE, "positions", "u32");
    v = valid(), v.q.dtype = v.qo.dtype = ROPE_I32;
    expect("query i32", &v, ROPE_ERROR_DTYPE, "query", "i32");
    v = valid(), v.k.dtype = ROPE_BF16;
    expect("key bf16", &v, ROPE_ERROR_DTYPE, "key", "same as query");
    v = valid(), v.c.dtype = ROPE_BF16;
    expect("cache bf16", &v, ROPE_ERROR_DTYPE, "cos_sin_cache: expected f16 or f32", "bf16");
    v = valid(), v.qo.dtype = ROPE_BF16;
    expect("query_out dtype (output)", &v, ROPE_ERROR_DTYPE, "query_out", "same as query");
}

static void ranks_and_shapes(void) {
    call v = valid();
    v.pos.rank = 3, v.pos.dims[1] = v.pos.dims[2] = 1;
    expect("positions rank 3", &v, ROPE_ERROR_RANK, "positions", "[T] or [B, S]");
    v = valid(), mrope3(&v, 2, 1, 1, 0);
    expect("MRoPE positions rank 1", &v, ROPE_ERROR_RANK, "[m, T] or [m, B, S]", NULL);
    v.pos.rank = 2, v.pos.dims[0] = 4, v.pos.dims[1] = T / 4 * 3;
    expect("MRoPE 4 axes for 3", &v, ROPE_ERROR_SHAPE, "positions dim 0", "n_mrope_section");
    v = valid(), v.q.rank = 4;
    expect("query rank 4", &v, ROPE_ERROR_RANK, "query", "[T, H*head_size]");
    v = valid(), v.pos.dims[0] = 3;
    expect("T mismatch", &v, ROPE_ERROR_SHAPE, "query dim 0", "T, the tokens of positions");
    v = valid(), v.pos.rank = 2, v.pos.dims[0] = 2, v.pos.dims[1] = 2;
    expect("[B,S] with 2-D query", &v, ROPE_ERROR_RANK, "query", "[B, S, H*head_size]");
    v = valid(), v.q.rank = v.qo.rank = 3, v.q.dims[1] = v.qo.dims[1] = HQ * 2, v.q.dims[2] = v.qo.dims[2] = HS / 2;
    expect("[T,H,hs] with hs != head_size", &v, ROPE_ERROR_SHAPE, "query dim 2", "head_size");
    v = valid(), v.q.dims[1] = v.qo.dims[1] = HQ * HS - 4;
    expect("hidden not a multiple", &v, ROPE_ERROR_SHAPE, "query hidden size 20", "multiple of head_size 8");
    v = valid(), v.c.data = c32, v.c.dtype = ROPE_F32, v.q.dtype = v.k.dtype = v.qo.dtype = v.ko.dtype = ROPE_F32;
    v.q.dims[1] = v.qo.dims[1] = HQ * HS / 2, v.k.dims[1] = v.ko.dims[1] = HK * HS / 2; /* f32, the same bytes */
    expect("f32 hidden not a multiple", &v, ROPE_ERROR_SHAPE, "query hidden size 12", "multiple of head_size 8");
    v = valid(), v.k.rank = 3, v.k.dims[1] = HK, v.k.dims[2] = HS;
    expect("key rank differs", &v, ROPE_ERROR_RANK, "key", "same as query");
    v = valid(), v.c.rank = 3;
    expect("cache rank 3", &v, ROPE_ERROR_RANK, "cos_sin_cache", "[P, rot]");
    v = valid(), v.c.dims[1] = 7;
    expect("rot odd", &v, ROPE_ERROR_SHAPE, "cos_sin_cache dim 1 (rot)", "found 7");
    v = valid(), v.c.dims[0] = 3, v.c.dims[1] = 16;
    expect("rot > head_size", &v, ROPE_ERROR_SHAPE, "[2, 8]", "found 16");
    v = valid(), v.qo.dims[0] = 3;
    expect("query_out dims (output)", &v, ROPE_ERROR_SHAPE, "query_out", NULL);
}

static void strides(void) {
    call v = valid();
    v.c.row_stride = 9;
    expect("cache strided", &v, ROPE_ERROR_STRIDE, "cos_sin_cache row_stride", "9");
    v = valid(), v.pos.row_stride = 5;
    expect("positions strided", &v, ROPE_ERROR_STRIDE, "positions row_stride", "5");
    v = valid(), v.q.row_stride = 20;
    expect("query stride < row", &v, ROPE_ERROR_STRIDE, "query row_stride", ">= 24");
    v = valid(), v.ko.row_stride = -1;
    expect("key_out stride (output)", &v, ROPE_ERROR_STRIDE, "key_out row_stride", NULL);
}

/* Positions outside the cache: every one checked before anything is written. */
static void positions_outside(void) {
    call v = valid();
    pos[3] = P;
    expect("position == P", &v, ROPE_ERROR_INDEX, "positions[3]", "expected in [0, 6)");
    pos[3] = -1;
    expect("position -1", &v, ROPE_ERROR_INDEX, "positions[3]", "-1");
    pos[3] = 2;
    v = valid(), v.pos.data = pos32, v.pos.dtype = ROPE_I32, pos32[1] = 1 << 30;
    expect("i32 position beyond", &v, ROPE_ERROR_INDEX, "positions[1]", "1073741824");
    pos32[1] = 2;
    v = valid(), mrope3(&v, 2, 1, 1, 1), pos[9] = 6;
    expect("MRoPE axis 2 position", &v, ROPE_ERROR_INDEX, "positions[2][1]", "[0, 6)");
    pos[9] = 3;
}

static void aliasing(void) {
    call v = valid();
    v.qo.data = q + 1;
    expect("query_out shifted", &v, ROPE_ERROR_ALIASING, "query_out partially overlaps query", NULL);
    v = valid(), v.ko.data = q;
    expect("key_out over query", &v, ROPE_ERROR_ALIASING, "key_out overlaps query", NULL);
    v = valid(), v.qo.data = c16;
    expect("query_out over cache", &v, ROPE_ERROR_ALIASING, "query_out overlaps cos_sin_cache", NULL);
    v = valid(), v.ko.data = qo + 8;
    expect("key_out over query_out", &v, ROPE_ERROR_ALIASING, "key_out overlaps query_out", NULL);
    v = valid(), v.qo.data = pos;
    expect("query_out over positions", &v, ROPE_ERROR_ALIASING, "query_out overlaps positions", NULL);
}

/* The valid edges next to the rejections: in place, key absent. */
static void valid_edges(void) {
    call v = valid();
    poison();
    CHECK(forward(&v, &v.a, &v.pos, &v.k, &v.c, &v.ko) == ROPE_OK, "valid: %s", rope_last_error());
    CHECK(rope_vllm_rotary_embedding(NULL, &v.a, &v.pos, &v.q, &v.k, &v.c, &v.q, &v.k) == ROPE_OK, "in place: %s",
          rope_last_error());
    CHECK(forward(&v, &v.a, &v.pos, NULL, &v.c, NULL) == ROPE_OK, "no key: %s", rope_last_error());
}

/* The versioned struct's later fields: struct_size, rope_dim_offset, inverse, partial,
 * pairs_to_halves, alone and in combination; the first layout's size accepted (its later fields
 * then not read: garbage there changes nothing); the fused prologue refusing them. */
static void later_attributes(void) {
    call v = valid();
    v.a.struct_size = 0;
    expect("struct_size 0", &v, ROPE_ERROR_ATTRIBUTE, "struct_size: expected", "found 0");
    v.a.struct_size = sizeof(rope_vllm_attrs) + 8;
    expect("struct_size too large", &v, ROPE_ERROR_ATTRIBUTE, "struct_size", "(sizeof(rope_vllm_attrs)");
    v = valid(), v.a.rope_dim_offset = -1;
    expect("offset -1", &v, ROPE_ERROR_ATTRIBUTE, "rope_dim_offset: expected >= 0", "found -1");
    v = valid(), v.c.dims[1] = 4, v.a.rope_dim_offset = 5; /* rot 4 of head_size 8: offsets 0 .. 4 */
    expect("offset past the head", &v, ROPE_ERROR_ATTRIBUTE, "rope_dim_offset 5: expected 0 .. 4", "rot 4");
    v = valid(), v.a.inverse = 2;
    expect("inverse 2", &v, ROPE_ERROR_ATTRIBUTE, "inverse: expected 0 or 1", "found 2");
    v = valid(), v.a.partial = 2;
    expect("partial 2", &v, ROPE_ERROR_ATTRIBUTE, "partial: expected 0 (ROPE_PARTIAL_LEADING) or 1", "found 2");
    v = valid(), v.a.partial = ROPE_PARTIAL_SPLIT, v.a.is_neox = 0;
    expect("split with adjacent pairs", &v, ROPE_ERROR_ATTRIBUTE, "expected is_neox 1", "found 0");
    v = valid(), v.a.partial = ROPE_PARTIAL_SPLIT, v.a.rope_dim_offset = 2, v.c.dims[1] = 4;
    expect("split with an offset", &v, ROPE_ERROR_ATTRIBUTE, "expected rope_dim_offset 0", "found 2");
    v = valid(), v.a.pairs_to_halves = 3;
    expect("pairs_to_halves 3", &v, ROPE_ERROR_ATTRIBUTE, "pairs_to_halves: expected 0 or 1", "found 3");
    v = valid(), v.a.pairs_to_halves = 1;
    expect("pairs_to_halves with halves", &v, ROPE_ERROR_ATTRIBUTE, "expected is_neox 0", "found 1");

    /* The first layout: struct_size covering head_size .. mrope_section; the later fields are not read. */
    call old = valid(), cur = valid();
    old.a.struct_size = offsetof(rope_vllm_attrs, rope_dim_offset);
    old.a.rope_dim_offset = -7, old.a.inverse = 9, old.a.partial = 9, old.a.pairs_to_halves = 9;
    for (size_t i = 0; i < T * HQ * HS; i++) q[i] = (uint16_t)(0x3000 + i * 7 % 1024);
    for (size_t i = 0; i < P * ROT; i++) c16[i] = (uint16_t)(0x3400 + i * 13 % 512);
    poison();
    CHECK(rope_vllm_rotary_embedding(NULL, &old.a, &old.pos, &old.q, NULL, &old.c, &old.qo, NULL) == ROPE_OK, "%s",
          rope_last_error());
    uint16_t first[T * HQ * HS];
    memcpy(first, qo, sizeof first);
    poison();
    CHECK(rope_vllm_rotary_embedding(NULL, &cur.a, &cur.pos, &cur.q, NULL, &cur.c, &cur.qo, NULL) == ROPE_OK, "%s",
          rope_last_error());
    CHECK(memcmp(first, qo, sizeof first) == 0, "the first layout's struct_size: later fields were read");

    /* The fused prologue embeds the struct: its later fields must be 0 there. */
    rope_qk_norm_attrs na;
    memset(&na, 0, sizeof na);
    na.rope.head_size = HS, na.rope.is_neox = 1, na.num_heads_q = 1, na.eps = 1e-6;
    rope_tensor qkv = {q, ROPE_F16, 2, {T, HS}, 0}, w = {c32, ROPE_F32, 1, {HS}, 0};
    na.rope.inverse = 1;
    CHECK(rope_vllm_fused_qk_norm_rope_check(&na, &cur.pos, &qkv, &w, &w, &cur.c) == ROPE_ERROR_ATTRIBUTE &&
              strstr(rope_last_error(), "inverse: expected 0"),
          "fused inverse: %s", rope_last_error());
    na.rope.inverse = 0, na.rope.rope_dim_offset = 1;
    CHECK(rope_vllm_fused_qk_norm_rope_check(&na, &cur.pos, &qkv, &w, &w, &cur.c) == ROPE_ERROR_ATTRIBUTE &&
              strstr(rope_last_error(), "rope_dim_offset: expected 0"),
          "fused offset: %s", rope_last_error());
    /* each refusal names the field, the value and why: vLLM's fused_qk_norm_rope has none of them */
    static const struct {
        int field, value;
        const char *msg;
    } refusals[] = {
        {0, 3, "rope_vllm_fused_qk_norm_rope_check: rope_dim_offset: expected 0, found 3 (vLLM's fused_qk_norm_rope "
               "has no rope_dim_offset"},
        {1, 1, "rope_vllm_fused_qk_norm_rope_check: inverse: expected 0, found 1 (vLLM's fused_qk_norm_rope has no "
               "inverse: it rotates forward)"},
        {1, -2, "inverse: expected 0, found -2 (vLLM's fused_qk_norm_rope has no inverse"},
        {2, 1, "partial: expected 0 (ROPE_PARTIAL_LEADING), found 1 (the split layout is librope's, not an argument "
               "of vLLM's fused_qk_norm_rope"},
        {3, 1, "pairs_to_halves: expected 0, found 1 (librope's layout, not an argument of vLLM's "
               "fused_qk_norm_rope"},
    };
    for (size_t i = 0; i < sizeof refusals / sizeof refusals[0]; i++) {
        rope_qk_norm_attrs b = na;
        b.rope.rope_dim_offset = 0;
        if (refusals[i].field == 0) b.rope.rope_dim_offset = refusals[i].value;
        if (refusals[i].field == 1) b.rope.inverse = refusals[i].value;
        if (refusals[i].field == 2) b.rope.partial = refusals[i].value;
        if (refusals[i].field == 3) b.rope.pairs_to_halves = refusals[i].value, b.rope.is_neox = 0;
        CHECK(rope_vllm_fused_qk_norm_rope_check(&b, &cur.pos, &qkv, &w, &w, &cur.c) == ROPE_ERROR_ATTRIBUTE &&
                  strstr(rope_last_error(), refusals[i].msg),
              "fused refusal %zu: \"%s\"", i, rope_last_error());
        uint16_t before[T * HS];
        memcpy(before, q, sizeof before);
        CHECK(rope_vllm_fused_qk_norm_rope(NULL, &b, &cur.pos, &qkv, &w, &w, &cur.c) == ROPE_ERROR_ATTRIBUTE &&
                  memcmp(before, q, sizeof before) == 0,
              "fused refusal %zu: the call: \"%s\" (or written)", i, rope_last_error());
        rope_operation *op = NULL;
        CHECK(rope_operation_create_vllm_qk_norm_rope(&b, &op) == ROPE_ERROR_ATTRIBUTE && op == NULL,
              "fused refusal %zu: the operation: \"%s\"", i, rope_last_error());
    }
}

int main(void) {
    valid_edges();
    attributes();
    later_attributes();
    null_pointers_and_data();
    dtypes();
    ranks_and_shapes();
    strides();
    positions_outside();
    aliasing();
    return tu_finish();
}
