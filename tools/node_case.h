/* SPDX-License-Identifier: MIT */
/*
 * One conformance directory in the ONNX backend node-test layout: model.onnx holding a single
 * node, and test_data_set_N/ directories with input_K.pb (the K-th node input that is not an
 * omitted "") and output_K.pb (the K-th node output).
 *
 * Supported nodes: ONNX RotaryEmbedding (domain "" or "ai.onnx"), ATB Rope (domain "atb"), the
 * serving engines' rotary_embedding (RotaryEmbedding in domain "vllm"; key optional), the fused
 * attention prologue (FusedQKNormRope, RotaryEmbeddingAndCache in domain "vllm"; vllm_prologue.h) and ONNX
 * Runtime's contrib ops RotaryEmbedding and MRotaryEmbedding (domain "com.microsoft"; ort_contrib.h).
 * Anything else is skipped with a reason rather than failed: the directory may test other ops.
 */
#ifndef ROPE_TOOL_NODE_CASE_H
#define ROPE_TOOL_NODE_CASE_H

#include "diag.h"
#include "ort_contrib.h"
#include "rope.h"
#include "tensor_proto.h"
#include "vllm_prologue.h"

#define CASE_MAX_SLOTS 10  /* vllm RotaryEmbeddingAndCache: positions ... slot_mapping, q_weight, k_weight */
#define CASE_MAX_OUTPUTS 4 /* vllm RotaryEmbeddingAndCache: query, key, key_cache, value_cache */
#define CASE_PATH_MAX 4096

typedef enum case_op {
    CASE_ONNX_ROTARY_EMBEDDING,
    CASE_ATB_ROPE,
    CASE_VLLM_ROTARY_EMBEDDING,
    CASE_ORT_CONTRIB, /* com.microsoft RotaryEmbedding / MRotaryEmbedding: `ort` says which */
    CASE_VLLM_PROLOGUE /* vllm FusedQKNormRope / RotaryEmbeddingAndCache: `prologue` says which */
} case_op;

typedef enum case_status {
    CASE_READY = 0,
    CASE_SKIP = 1, /* a valid model this runner does not handle; the diag says why */
    CASE_ERROR = 2 /* unreadable or malformed; the diag names the file and the reason */
} case_status;

typedef struct node_case {
    char dir[CASE_PATH_MAX];
    char name[256]; /* the directory's last path component */
    case_op op;
    rope_onnx_attrs onnx;
    rope_atb_param atb;
    rope_vllm_attrs vllm;
    ort_contrib_attrs ort;
    vllm_prologue_attrs prologue;
    int n_slots; /* operator inputs: 4 for ONNX (position_ids optional), 5 for ATB, 4 for vLLM (key optional),
                    4 for the com.microsoft ops (all required), 5 / 10 for the vllm prologue nodes */
    int file_of_slot[CASE_MAX_SLOTS]; /* input_K.pb feeding each slot, or -1 for an omitted input */
    int n_files;
    int n_outputs;
    char output_names[CASE_MAX_OUTPUTS][256]; /* the graph's output names (TensorProto names to write) */
} node_case;

/* The last path component of dir, ignoring trailing slashes, into buf. */
void case_name_of(const char *dir, char *buf, size_t size);

/* Reads dir/model.onnx and recognises its node. */
case_status case_load(const char *dir, node_case *c, diag *why);

/* The number of data sets: test_data_set_0, _1, ... up to the first missing one. */
int case_count_data_sets(const node_case *c);

/* Reads set_dir/input_K.pb into the operator slots (an omitted slot stays empty, t.data NULL). */
int case_read_inputs(const node_case *c, const char *set_dir, tensor_proto in[CASE_MAX_SLOTS], diag *err);

/* Runs the node through the public API. out[] gets malloc'd dense tensors (free each data).
 * A failure here is the library rejecting the inputs; the diag holds rope_last_error(). */
int case_run(const node_case *c, const tensor_proto in[CASE_MAX_SLOTS], rope_tensor out[CASE_MAX_OUTPUTS],
             diag *err);

void case_free_inputs(tensor_proto in[CASE_MAX_SLOTS]);

#endif
