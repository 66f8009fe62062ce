/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: the ONNX model reader (tools/onnx_model.c). Any bytes: decoding returns without
 * reading outside the input or leaking. An accepted model has a string for every name (possibly
 * empty), every list as long as its count says (each element is read, so ASan sees a short one),
 * and every tensor attribute's offset and length inside the input; that tensor is then decoded in
 * place with the TensorProto reader, as the node-test runner does. A com.microsoft RotaryEmbedding or
 * MRotaryEmbedding node's attributes are read as the runner reads them and, when accepted, run on
 * small fixed tensors (tools/ort_contrib.c): any attribute values give a result or a message.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "onnx_model.h"
#include "ort_contrib.h"
#include "tensor_proto.h"

static size_t touch_strings(char **list, size_t n) {
    size_t sum = 0;
    FUZZ_ASSERT(n == 0 || list, "a list of %zu strings is NULL", n);
    for (size_t i = 0; i < n; i++) {
        FUZZ_ASSERT(list[i], "string %zu of %zu is NULL", i, n);
        sum += strlen(list[i]);
    }
    return sum;
}

/* Every value is read into a sum the compiler cannot drop, so ASan checks each one. */
static volatile size_t sink;

static void check_attribute(const onnx_attribute *a, const uint8_t *data, size_t size) {
    FUZZ_ASSERT(a->name, "attribute without a name string");
    size_t sum = strlen(a->name);
    FUZZ_ASSERT(a->s_len == 0 || a->s, "attribute %s: %zu string bytes without data", a->name, a->s_len);
    for (size_t i = 0; i < a->s_len; i++) sum += a->s[i];
    FUZZ_ASSERT(a->n_floats == 0 || a->floats, "attribute %s: floats missing", a->name);
    for (size_t i = 0; i < a->n_floats; i++) sum += a->floats[i] > 0;
    FUZZ_ASSERT(a->n_ints == 0 || a->ints, "attribute %s: ints missing", a->name);
    for (size_t i = 0; i < a->n_ints; i++) sum += (size_t)a->ints[i];
    sink += sum;
    if (!a->has_t) return;
    FUZZ_ASSERT(a->t_offset <= size && a->t_length <= size - a->t_offset,
                "attribute %s: tensor at %zu + %zu outside the %zu input bytes", a->name, a->t_offset, a->t_length,
                size);
    tensor_proto tp;
    diag err;
    if (tensor_proto_decode("attribute", data + a->t_offset, a->t_length, &tp, &err) == 0) tensor_proto_free(&tp);
}

/* Runs an ONNX Runtime contrib node's attributes on input [1, 2, 16] (or [1, 2, 2, 8] when num_heads
 * is 0), a [1, 2] or [3, 1, 2] position_ids and [4, 4] caches. */
static void run_ort_contrib(const onnx_node *n) {
    ort_contrib_op op = !strcmp(n->op_type, "MRotaryEmbedding") ? ORT_MROTARY_EMBEDDING : ORT_ROTARY_EMBEDDING;
    ort_contrib_attrs a;
    diag err;
    if (ort_contrib_attributes("fuzz input", n, op, &a, &err) != 0) return;
    float x[32], cos[16], sin[16];
    int64_t ids[6] = {0, 3, 1, 2, 3, 0};
    for (int i = 0; i < 32; i++) x[i] = (float)i * 0.125f - 2.0f;
    for (int i = 0; i < 16; i++) cos[i] = 0.5f, sin[i] = -0.25f;
    rope_tensor tx = {x, ROPE_F32, 3, {1, 2, 16}, 0}, tc = {cos, ROPE_F32, 2, {4, 4}, 0}, ts = tc, y;
    rope_tensor tp = {ids, ROPE_I64, 2, {1, 2}, 0};
    ts.data = sin;
    if (a.num_heads == 0) tx.rank = 4, tx.dims[1] = 2, tx.dims[2] = 2, tx.dims[3] = 8;
    if (op == ORT_MROTARY_EMBEDDING) tp.rank = 3, tp.dims[0] = 3, tp.dims[1] = 1, tp.dims[2] = 2;
    if (ort_contrib_run(&a, &tx, &tp, &tc, &ts, &y, &err) != 0) {
        FUZZ_ASSERT(y.data == NULL && err.text[0], "%s refused without a message or left an output", n->op_type);
        return;
    }
    FUZZ_ASSERT(y.data && y.rank == tx.rank && rope_tensor_numel(&y) == 32, "%s: output descriptor", n->op_type);
    free(y.data);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    onnx_model m;
    diag err;
    if (onnx_model_decode("fuzz input", data, size, &m, &err) != 0) return 0;
    FUZZ_ASSERT(m.n_opsets == 0 || m.opsets, "opsets missing");
    for (size_t i = 0; i < m.n_opsets; i++) FUZZ_ASSERT(m.opsets[i].domain, "opset %zu without a domain string", i);
    (void)onnx_model_opset(&m, "");
    (void)onnx_model_opset(&m, "ai.onnx");
    const onnx_graph *g = &m.graph;
    FUZZ_ASSERT(g->name, "graph without a name string");
    sink += touch_strings(g->initializers, g->n_initializers) + touch_strings(g->inputs, g->n_inputs) +
            touch_strings(g->outputs, g->n_outputs);
    FUZZ_ASSERT(g->n_nodes == 0 || g->nodes, "nodes missing");
    for (size_t i = 0; i < g->n_nodes; i++) {
        const onnx_node *n = &g->nodes[i];
        FUZZ_ASSERT(n->name && n->op_type && n->domain, "node %zu: a NULL name, op_type or domain", i);
        (void)onnx_is_default_domain(n->domain);
        sink += touch_strings(n->inputs, n->n_inputs) + touch_strings(n->outputs, n->n_outputs);
        FUZZ_ASSERT(n->n_attrs == 0 || n->attrs, "node %zu: attributes missing", i);
        for (size_t k = 0; k < n->n_attrs; k++) check_attribute(&n->attrs[k], data, size);
        if (n->n_attrs) FUZZ_ASSERT(onnx_node_attribute(n, n->attrs[0].name), "node %zu: its own attribute not found", i);
        if (!strcmp(n->domain, "com.microsoft")) run_ort_contrib(n);
    }
    onnx_model_free(&m);
    return 0;
}
