/* SPDX-License-Identifier: MIT */
/* The operation lifecycle: create, infer shape, setup, execute, destroy, for both operators, and
 * every out-of-order or mismatched call. */
#include <string.h>

#include "harness.h"
#include "rope.h"

#define HAS(msg) (strstr(rope_last_error(), (msg)) != NULL)

static void test_create(void) {
    rope_operation *op = (rope_operation *)&op; /* must stay untouched on error */
    rope_onnx_attrs bad_inter = {4, 0, 0}, bad_dim = {0, 3, 0}, bad_heads = {0, 0, -1};
    CHECK(rope_operation_create_onnx(&bad_inter, &op) == ROPE_ERROR_ATTRIBUTE && HAS("interleaved"), "%s",
          rope_last_error());
    CHECK(rope_operation_create_onnx(&bad_dim, &op) == ROPE_ERROR_ATTRIBUTE && HAS("rotary_embedding_dim"), "%s",
          rope_last_error());
    CHECK(rope_operation_create_onnx(&bad_heads, &op) == ROPE_ERROR_ATTRIBUTE && HAS("num_heads"), "%s",
          rope_last_error());
    CHECK(op == (rope_operation *)&op, "out written on error");
    CHECK(rope_operation_create_onnx(NULL, NULL) == ROPE_ERROR_NULL_ARGUMENT, "NULL out");

    rope_atb_param p = ROPE_ATB_PARAM_INIT;
    p.cos_format = 2;
    CHECK(rope_operation_create_atb(&p, &op) == ROPE_ERROR_ATTRIBUTE && HAS("cosFormat"), "%s", rope_last_error());
    p.cos_format = 0;
    p.rotary_coeff = 3;
    CHECK(rope_operation_create_atb(&p, &op) == ROPE_ERROR_ATTRIBUTE && HAS("rotaryCoeff"), "%s", rope_last_error());
    p.rotary_coeff = 4;
    p.rsv[1] = 1;
    CHECK(rope_operation_create_atb(&p, &op) == ROPE_ERROR_ATTRIBUTE && HAS("rsv[1]"), "%s", rope_last_error());
    CHECK(op == (rope_operation *)&op, "out written on error");

    CHECK(rope_operation_create_atb(NULL, &op) == ROPE_OK, "%s", rope_last_error());
    CHECK(rope_operation_input_count(op) == 5 && rope_operation_output_count(op) == 2, "ATB counts");
    rope_operation_destroy(op);
    CHECK(rope_operation_create_onnx(NULL, &op) == ROPE_OK, "%s", rope_last_error());
    CHECK(rope_operation_input_count(op) == 4 && rope_operation_output_count(op) == 1, "ONNX counts");
    rope_operation_destroy(op);
    rope_operation_destroy(NULL);
}

enum { B = 2, N = 3, S = 5, H = 8, MAXPOS = 16 };

static float x[B * N * S * H], y[B * N * S * H], y_ref[B * N * S * H];
static float cs[MAXPOS * H / 2], sn[MAXPOS * H / 2];
static int64_t ids[B * S];

static void test_onnx_lifecycle(void) {
    tu_seed(7);
    for (size_t i = 0; i < sizeof x / sizeof x[0]; i++) x[i] = (float)tu_uniform(-2, 2);
    for (size_t i = 0; i < sizeof cs / sizeof cs[0]; i++) cs[i] = (float)tu_uniform(-1, 1), sn[i] = (float)tu_uniform(-1, 1);
    for (int i = 0; i < B * S; i++) ids[i] = tu_int(0, MAXPOS - 1);
    rope_tensor in[4] = {{x, ROPE_F32, 4, {B, N, S, H}, 0},
                         {cs, ROPE_F32, 2, {MAXPOS, H / 2}, 0},
                         {sn, ROPE_F32, 2, {MAXPOS, H / 2}, 0},
                         {ids, ROPE_I64, 2, {B, S}, 0}};
    rope_tensor out[1];
    rope_operation *op;
    rope_onnx_attrs attrs = {1, 0, 0};
    CHECK(rope_operation_create_onnx(&attrs, &op) == ROPE_OK, "%s", rope_last_error());

    CHECK(rope_operation_infer_shape(op, in, 4, out, 1) == ROPE_OK, "%s", rope_last_error());
    CHECK(out[0].dtype == ROPE_F32 && out[0].rank == 4 && out[0].dims[3] == H && out[0].data == NULL, "inferred Y");
    CHECK(rope_operation_infer_shape(op, in, 2, out, 1) == ROPE_ERROR_SHAPE && HAS("number of inputs"), "%s",
          rope_last_error());
    CHECK(rope_operation_infer_shape(op, in, 4, out, 2) == ROPE_ERROR_SHAPE && HAS("number of outputs"), "%s",
          rope_last_error());

    out[0].data = y;
    rope_variant_pack pack = {in, 4, out, 1};
    size_t ws = 123;
    CHECK(rope_operation_execute(op, &pack, NULL, 0, NULL) == ROPE_ERROR_STATE && HAS("before a successful setup"),
          "%s", rope_last_error());
    CHECK(rope_operation_setup(op, &pack, &ws) == ROPE_OK && ws == 0, "%s", rope_last_error());
    CHECK(rope_operation_execute(op, &pack, NULL, 0, NULL) == ROPE_OK, "%s", rope_last_error());
    CHECK(rope_onnx_rotary_embedding(NULL, &attrs, &in[0], &in[1], &in[2], &in[3],
                                     &(rope_tensor){y_ref, ROPE_F32, 4, {B, N, S, H}, 0}) == ROPE_OK,
          "%s", rope_last_error());
    CHECK(memcmp(y, y_ref, sizeof y) == 0, "lifecycle and one-shot differ");

    /* A different pack than setup's. */
    rope_tensor other[1] = {out[0]};
    other[0].data = y_ref;
    rope_variant_pack pack2 = {in, 4, other, 1};
    CHECK(rope_operation_execute(op, &pack2, NULL, 0, NULL) == ROPE_ERROR_STATE && HAS("output 0 differs"), "%s",
          rope_last_error());

    /* Data values are checked again at execute: an id changed to out of range. */
    memset(y, 0x5a, sizeof y);
    ids[3] = MAXPOS;
    CHECK(rope_operation_execute(op, &pack, NULL, 0, NULL) == ROPE_ERROR_INDEX && HAS("position_ids[0][3] = 16"),
          "%s", rope_last_error());
    for (size_t i = 0; i < sizeof y / sizeof y[0]; i++) {
        uint32_t bits;
        memcpy(&bits, &y[i], 4);
        if (bits != 0x5a5a5a5au) {
            CHECK(0, "Y written by a failing execute at %zu", i);
            break;
        }
    }
    /* A failed setup leaves the operation not ready. */
    CHECK(rope_operation_setup(op, &pack, &ws) == ROPE_ERROR_INDEX, "%s", rope_last_error());
    ids[3] = 0;
    CHECK(rope_operation_execute(op, &pack, NULL, 0, NULL) == ROPE_ERROR_STATE, "%s", rope_last_error());

    /* Without position_ids: three inputs, or a rank-0 fourth. */
    rope_tensor in3[4] = {in[0], {cs, ROPE_F32, 3, {B, S, H / 2}, 0}, {sn, ROPE_F32, 3, {B, S, H / 2}, 0}, {0}};
    pack.inputs = in3;
    pack.n_inputs = 3;
    CHECK(rope_operation_setup(op, &pack, &ws) == ROPE_OK, "%s", rope_last_error());
    CHECK(rope_operation_execute(op, &pack, NULL, 0, NULL) == ROPE_OK, "%s", rope_last_error());
    pack.n_inputs = 4;
    CHECK(rope_operation_setup(op, &pack, &ws) == ROPE_OK, "%s", rope_last_error());
    CHECK(rope_operation_setup(NULL, &pack, &ws) == ROPE_ERROR_NULL_ARGUMENT, "NULL op");
    CHECK(rope_operation_setup(op, NULL, &ws) == ROPE_ERROR_NULL_ARGUMENT, "NULL pack");
    CHECK(rope_operation_setup(op, &pack, NULL) == ROPE_ERROR_NULL_ARGUMENT, "NULL workspace size");
    rope_operation_destroy(op);

    /* The one-shot call treats a present position_ids of rank 0 as an error, not as absent. */
    rope_tensor ids0 = {ids, ROPE_I64, 0, {0}, 0};
    CHECK(rope_onnx_rotary_embedding(NULL, &attrs, &in[0], &in[1], &in[2], &ids0, &out[0]) == ROPE_ERROR_RANK,
          "%s", rope_last_error());
}

static void test_atb_lifecycle(void) {
    enum { T = 6, HQ = 32, HK = 16, D = 8 };
    static uint16_t q[T * HQ], k[T * HK], rq[T * HQ], rk[T * HK], rq1[T * HQ], rk1[T * HK];
    static uint16_t c[T * D], s[T * D];
    int32_t seqlen[2] = {4, 2};
    for (int i = 0; i < T * HQ; i++) q[i] = rope_f32_to_f16((float)tu_uniform(-2, 2));
    for (int i = 0; i < T * HK; i++) k[i] = rope_f32_to_f16((float)tu_uniform(-2, 2));
    for (int i = 0; i < T * D; i++) c[i] = rope_f32_to_f16((float)tu_uniform(-1, 1)), s[i] = rope_f32_to_f16((float)tu_uniform(-1, 1));
    rope_tensor in[5] = {{q, ROPE_F16, 2, {T, HQ}, 0}, {k, ROPE_F16, 2, {T, HK}, 0}, {c, ROPE_F16, 2, {T, D}, 0},
                         {s, ROPE_F16, 2, {T, D}, 0}, {seqlen, ROPE_I32, 1, {2}, 0}};
    rope_tensor out[2];
    rope_atb_param p = ROPE_ATB_PARAM_INIT;
    p.cos_format = 1;
    rope_operation *op;
    CHECK(rope_operation_create_atb(&p, &op) == ROPE_OK, "%s", rope_last_error());
    CHECK(rope_operation_infer_shape(op, in, 5, out, 2) == ROPE_OK, "%s", rope_last_error());
    CHECK(out[0].dims[1] == HQ && out[1].dims[1] == HK && out[1].dtype == ROPE_F16, "inferred outputs");
    out[0].data = rq;
    out[1].data = rk;
    rope_variant_pack pack = {in, 5, out, 2};
    size_t ws = 99;
    CHECK(rope_operation_setup(op, &pack, &ws) == ROPE_OK && ws == 0, "%s", rope_last_error());
    CHECK(rope_operation_execute(op, &pack, NULL, 0, NULL) == ROPE_OK, "%s", rope_last_error());
    rope_tensor o1[2] = {{rq1, ROPE_F16, 2, {T, HQ}, 0}, {rk1, ROPE_F16, 2, {T, HK}, 0}};
    CHECK(rope_atb_rope(NULL, &p, &in[0], &in[1], &in[2], &in[3], &in[4], &o1[0], &o1[1]) == ROPE_OK, "%s",
          rope_last_error());
    CHECK(memcmp(rq, rq1, sizeof rq) == 0 && memcmp(rk, rk1, sizeof rk) == 0, "lifecycle and one-shot differ");
    seqlen[1] = 3; /* no longer adds up to T */
    CHECK(rope_operation_execute(op, &pack, NULL, 0, NULL) == ROPE_ERROR_INDEX && HAS("sum of seqlen"), "%s",
          rope_last_error());
    rope_operation_destroy(op);
}

int main(void) {
    test_create();
    test_onnx_lifecycle();
    test_atb_lifecycle();
    return tu_finish();
}
