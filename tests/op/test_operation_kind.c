/* SPDX-License-Identifier: MIT */
/*
 * An operation whose kind is none of operation.c's (memory that is no operation, a freed one) fails
 * loudly: every lifecycle call returns ROPE_ERROR_STATE naming the kind, the counts are 0, and no
 * front end runs (the output stays as it was). Before the switches, such a kind fell through to the
 * ATB branch of each chain. The kind is the struct's first member (C11 6.7.2.1: a pointer to a
 * struct, suitably converted, points to its first member), which is what the test overwrites.
 */
#include <string.h>

#include "harness.h"
#include "rope.h"

int main(void) {
    rope_operation *op = NULL;
    CHECK(rope_operation_create_onnx(NULL, &op) == ROPE_OK, "%s", rope_last_error());
    if (!op) return tu_finish();
    CHECK(rope_operation_input_count(op) == 4 && rope_operation_output_count(op) == 1, "ONNX counts");
    int *kind = (int *)(void *)op, saved = *kind;
    static const int bad_kinds[] = {0, 6, 99, -1};
    float x[1 * 2 * 3 * 8], cs[3 * 4], y[sizeof x / sizeof x[0]];
    for (size_t i = 0; i < sizeof x / sizeof x[0]; i++) x[i] = (float)i * 0.25f - 3.0f;
    for (size_t i = 0; i < sizeof cs / sizeof cs[0]; i++) cs[i] = 0.5f;
    rope_tensor in[3] = {
        {x, ROPE_F32, 4, {1, 2, 3, 8}, 0}, {cs, ROPE_F32, 3, {1, 3, 4}, 0}, {cs, ROPE_F32, 3, {1, 3, 4}, 0}};
    rope_tensor out[1] = {{y, ROPE_F32, 4, {1, 2, 3, 8}, 0}};
    rope_variant_pack pack = {in, 3, out, 1};
    for (size_t k = 0; k < sizeof bad_kinds / sizeof bad_kinds[0]; k++) {
        *kind = bad_kinds[k];
        memset(y, 0x5a, sizeof y);
        rope_tensor shapes[1];
        size_t ws = 7;
        CHECK(rope_operation_input_count(op) == 0 && rope_operation_output_count(op) == 0, "kind %d: counts",
              bad_kinds[k]);
        CHECK(rope_operation_infer_shape(op, in, 3, shapes, 1) == ROPE_ERROR_STATE && strstr(rope_last_error(), "kind"),
              "kind %d: infer_shape: %s", bad_kinds[k], rope_last_error());
        CHECK(rope_operation_setup(op, &pack, &ws) == ROPE_ERROR_STATE && strstr(rope_last_error(), "kind") && ws == 7,
              "kind %d: setup: %s", bad_kinds[k], rope_last_error());
        unsigned char untouched[sizeof y];
        memset(untouched, 0x5a, sizeof untouched);
        CHECK(!memcmp(y, untouched, sizeof y), "kind %d: the output was written", bad_kinds[k]);
    }
    /* the same operation with its kind restored runs (the test's inputs are a valid ONNX call) */
    *kind = saved;
    size_t ws = 7;
    CHECK(rope_operation_setup(op, &pack, &ws) == ROPE_OK && ws == 0, "restored: setup: %s", rope_last_error());
    CHECK(rope_operation_execute(op, &pack, NULL, 0, NULL) == ROPE_OK, "restored: execute: %s", rope_last_error());
    /* execute after a successful setup, then the kind corrupted: refused too, nothing written */
    *kind = 99;
    memset(y, 0x5a, sizeof y);
    CHECK(rope_operation_execute(op, &pack, NULL, 0, NULL) == ROPE_ERROR_STATE && strstr(rope_last_error(), "kind"),
          "execute with kind 99: %s", rope_last_error());
    unsigned char untouched[sizeof y];
    memset(untouched, 0x5a, sizeof untouched);
    CHECK(!memcmp(y, untouched, sizeof y), "execute with kind 99 wrote the output");
    *kind = saved;
    rope_operation_destroy(op);
    return tu_finish();
}
