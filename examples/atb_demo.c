/* SPDX-License-Identifier: MIT */
/* ATB's RopeOperation demo ported to librope: the same sizes (ntokens 4, hidden 16, head size 8,
 * batch 1, seqlen {4}), every input 1.0 in fp16, default parameters (rotaryCoeff 4, cosFormat 0), and
 * the lifecycle calls in ATB's order: context, operation, tensors, setup, workspace, execute, destroy. */
#include <stdio.h>
#include <stdlib.h>

#include "rope.h"

enum { NTOKENS = 4, HIDDEN = 16, HEAD_SIZE = 8, BATCH = 1 };

#define CHECK_STATUS(call)                                                                                  \
    do {                                                                                                    \
        rope_status st_ = (call);                                                                           \
        if (st_ != ROPE_OK) {                                                                               \
            fprintf(stderr, "%s failed: %s\n  %s\n", #call, rope_status_string(st_), rope_last_error());    \
            exit(1);                                                                                        \
        }                                                                                                   \
    } while (0)

static rope_tensor fp16_tensor(uint16_t *data, int64_t rows, int64_t cols) {
    rope_tensor t = {data, ROPE_F16, 2, {rows, cols}, 0};
    return t;
}

static void fill_ones(uint16_t *v, size_t n) {
    for (size_t i = 0; i < n; i++) v[i] = rope_f32_to_f16(1.0f);
}

static void print_fp16(const char *name, const uint16_t *v, int64_t rows, int64_t cols) {
    printf("%s [%lld, %lld]:\n", name, (long long)rows, (long long)cols);
    for (int64_t r = 0; r < rows; r++) {
        for (int64_t c = 0; c < cols; c++) printf(" %g", rope_f16_to_f32(v[r * cols + c]));
        printf("\n");
    }
}

int main(void) {
    /* 1. The context (ATB: atb::CreateContext). */
    rope_context *context = NULL;
    CHECK_STATUS(rope_context_create(NULL, &context));

    /* 2. The operation with default parameters (ATB: atb::CreateOperation(RopeParam{})). */
    rope_atb_param param = ROPE_ATB_PARAM_INIT;
    rope_operation *rope_op = NULL;
    CHECK_STATUS(rope_operation_create_atb(&param, &rope_op));

    /* 3. The input tensors: query, key, cos, sin (all ones, fp16) and seqlen (int32). */
    static uint16_t query[NTOKENS * HIDDEN], key[NTOKENS * HIDDEN];
    static uint16_t cos_table[NTOKENS * HEAD_SIZE], sin_table[NTOKENS * HEAD_SIZE];
    static int32_t seqlen[BATCH] = {NTOKENS};
    fill_ones(query, NTOKENS * HIDDEN);
    fill_ones(key, NTOKENS * HIDDEN);
    fill_ones(cos_table, NTOKENS * HEAD_SIZE);
    fill_ones(sin_table, NTOKENS * HEAD_SIZE);
    rope_tensor inputs[5] = {fp16_tensor(query, NTOKENS, HIDDEN), fp16_tensor(key, NTOKENS, HIDDEN),
                             fp16_tensor(cos_table, NTOKENS, HEAD_SIZE), fp16_tensor(sin_table, NTOKENS, HEAD_SIZE),
                             {seqlen, ROPE_I32, 1, {BATCH}, 0}};

    /* 4. The outputs, shaped by the operation (ATB: InferShape). */
    rope_tensor outputs[2];
    CHECK_STATUS(rope_operation_infer_shape(rope_op, inputs, 5, outputs, 2));
    static uint16_t rope_q[NTOKENS * HIDDEN], rope_k[NTOKENS * HIDDEN];
    outputs[0].data = rope_q;
    outputs[1].data = rope_k;

    /* 5. Setup reports the workspace size; 6. allocate it; 7. execute. */
    rope_variant_pack pack = {inputs, 5, outputs, 2};
    size_t workspace_size = 0;
    CHECK_STATUS(rope_operation_setup(rope_op, &pack, &workspace_size));
    void *workspace = workspace_size ? malloc(workspace_size) : NULL;
    if (workspace_size && !workspace) return 1;
    CHECK_STATUS(rope_operation_execute(rope_op, &pack, workspace, workspace_size, context));

    print_fp16("ropeQ", rope_q, NTOKENS, HIDDEN);
    print_fp16("ropeK", rope_k, NTOKENS, HIDDEN);

    /* 8. Release everything (ATB: DestroyOperation, DestroyContext). */
    free(workspace);
    rope_operation_destroy(rope_op);
    rope_context_free(context);
    printf("Rope demo success!\n");
    return 0;
}
