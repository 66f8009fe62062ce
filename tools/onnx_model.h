/* SPDX-License-Identifier: MIT */
/*
 * The parts of an ONNX ModelProto a node-test runner needs: the opset imports and the main graph's
 * nodes (with their attributes), initializer names, and input / output names. Fields this tool does
 * not use are skipped, but every byte is still bounds-checked while skipping.
 */
#ifndef ROPE_TOOL_ONNX_MODEL_H
#define ROPE_TOOL_ONNX_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "diag.h"

/* AttributeProto.AttributeType values. */
enum {
    ONNX_ATTR_UNDEFINED = 0,
    ONNX_ATTR_FLOAT = 1,
    ONNX_ATTR_INT = 2,
    ONNX_ATTR_STRING = 3,
    ONNX_ATTR_TENSOR = 4,
    ONNX_ATTR_GRAPH = 5,
    ONNX_ATTR_FLOATS = 6,
    ONNX_ATTR_INTS = 7,
    ONNX_ATTR_STRINGS = 8
};

typedef struct onnx_attribute {
    char *name;
    int32_t type; /* as stored; ONNX_ATTR_UNDEFINED when the field is absent */
    int has_f, has_i, has_s, has_t;
    float f;
    int64_t i;
    uint8_t *s; /* s_len bytes (not NUL-terminated: protobuf bytes) */
    size_t s_len;
    size_t t_offset, t_length; /* where the TensorProto `t` lies in the model file (not decoded) */
    float *floats;
    size_t n_floats;
    int64_t *ints;
    size_t n_ints;
} onnx_attribute;

typedef struct onnx_node {
    char *name, *op_type, *domain; /* "" when absent */
    char **inputs;                 /* an input named "" is an omitted optional input */
    size_t n_inputs;
    char **outputs;
    size_t n_outputs;
    onnx_attribute *attrs;
    size_t n_attrs;
} onnx_node;

typedef struct onnx_opset {
    char *domain; /* "" is the default domain ai.onnx */
    int64_t version;
} onnx_opset;

typedef struct onnx_graph {
    char *name;
    onnx_node *nodes;
    size_t n_nodes;
    char **initializers; /* names only */
    size_t n_initializers;
    char **inputs, **outputs; /* ValueInfoProto names */
    size_t n_inputs, n_outputs;
} onnx_graph;

typedef struct onnx_model {
    int64_t ir_version;
    onnx_opset *opsets;
    size_t n_opsets;
    onnx_graph graph;
} onnx_model;

/* Decodes a serialized ModelProto; `source` names it in messages. A model without a graph fails. */
int onnx_model_decode(const char *source, const uint8_t *data, size_t size, onnx_model *out, diag *err);
/* Reads a model.onnx file. */
int onnx_model_load(const char *path, onnx_model *out, diag *err);
void onnx_model_free(onnx_model *model);

/* The version imported for `domain` ("" and "ai.onnx" are the same domain), or -1 when absent. */
int64_t onnx_model_opset(const onnx_model *model, const char *domain);

/* 1 for the default ONNX domain, spelled "" or "ai.onnx". */
int onnx_is_default_domain(const char *domain);
/* The attribute called `name`, or NULL. */
const onnx_attribute *onnx_node_attribute(const onnx_node *node, const char *name);

#endif
