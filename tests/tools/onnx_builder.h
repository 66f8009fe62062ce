/* SPDX-License-Identifier: MIT */
/* Builders for ONNX messages in the tests (TensorProto, NodeProto, GraphProto, ModelProto), on top
 * of pb_builder.h. Field numbers are spelled out here on purpose, independently of the tool. */
#ifndef ROPE_TEST_ONNX_BUILDER_H
#define ROPE_TEST_ONNX_BUILDER_H

#include "pb_builder.h"

/* A TensorProto with dims, data_type, name and little-endian raw_data of `bytes` bytes. */
static inline msg tensor_raw(const char *name, int32_t data_type, const int64_t *dims, int rank, const void *data,
                             size_t bytes) {
    msg t = {0};
    for (int i = 0; i < rank; i++) msg_int(&t, 1, (uint64_t)dims[i]);
    msg_int(&t, 2, (uint64_t)(int64_t)data_type);
    if (name) msg_str(&t, 8, name);
    msg_bytes(&t, 9, data, bytes);
    return t;
}

/* An INT attribute (name=1, i=3, type=20). */
static inline void node_int_attr(msg *node, const char *name, int64_t v) {
    msg a = {0};
    msg_str(&a, 1, name);
    msg_int(&a, 3, (uint64_t)v);
    msg_int(&a, 20, 2);
    msg_sub(node, 5, &a);
}

/* A NodeProto: inputs (a "" entry is an omitted input), outputs, op_type, domain. */
static inline msg node_proto(const char *op_type, const char *domain, const char *const *inputs, int n_in,
                             const char *const *outputs, int n_out) {
    msg n = {0};
    for (int i = 0; i < n_in; i++) msg_str(&n, 1, inputs[i]);
    for (int i = 0; i < n_out; i++) msg_str(&n, 2, outputs[i]);
    msg_str(&n, 3, "node0");
    msg_str(&n, 4, op_type);
    if (domain) msg_str(&n, 7, domain);
    return n;
}

/* A ValueInfoProto holding only a name. */
static inline void graph_value_info(msg *graph, uint32_t field, const char *name) {
    msg v = {0};
    msg_str(&v, 1, name);
    msg_sub(graph, field, &v);
}

/* A ModelProto: ir_version, opset imports, then the graph last, so that every strict prefix of the
 * file lacks a complete graph. */
static inline msg model_proto(msg *graph, const char *domain, int64_t opset) {
    msg m = {0}, op = {0};
    msg_int(&m, 1, 10);
    msg_str(&op, 1, domain);
    msg_int(&op, 2, (uint64_t)opset);
    msg_sub(&m, 8, &op);
    msg_sub(&m, 7, graph);
    return m;
}

#endif
