/* SPDX-License-Identifier: MIT */
/*
 * The fused attention prologue as runner nodes in domain "vllm" (rope.h's section 10):
 *   FusedQKNormRope(positions, qkv, q_weight, k_weight, cos_sin_cache) -> qkv_out
 *     attributes num_heads_q, num_heads_k, num_heads_v, head_dim (INT, required), eps (FLOAT,
 *     default 1e-6), is_neox (INT, default 1), mrope_section (INTS), mrope_interleaved (INT):
 *     rope_vllm_fused_qk_norm_rope on a copy of qkv (the node's output is the in-place result).
 *   RotaryEmbeddingAndCache(positions, query, key, value, cos_sin_cache, key_cache, value_cache,
 *     slot_mapping[, q_weight, k_weight]) -> query_out, key_out, key_cache_out, value_cache_out
 *     attributes head_size (INT, required), is_neox, mrope_section, mrope_interleaved, kv_layout
 *     (STRING "NHD" / "HND", default "NHD"), k_scale, v_scale (FLOAT, default 1), eps (FLOAT,
 *     default 1e-6; read with the weights), inverse (INT 0 / 1, default 0: rotary_embedding's
 *     negated angle), kv_cache_dtype (STRING "auto", "fp8", "fp8_e4m3",
 *     "fp8_e5m2"; optional: the caches' own dtype, FLOAT8E4M3FN / FLOAT8E5M2 or the key's, says it,
 *     and the attribute, when given, must agree): rope_vllm_rotary_embedding_and_cache on copies
 *     of query, key and the caches.
 * Attributes are read here (unknown names and wrong types fail); their values are the library's to
 * check when the node runs, so a bad value is a refused case with the library's message.
 */
#ifndef ROPE_TOOL_VLLM_PROLOGUE_H
#define ROPE_TOOL_VLLM_PROLOGUE_H

#include "diag.h"
#include "onnx_model.h"
#include "rope.h"

typedef enum vllm_prologue_op { VLLM_FUSED_QK_NORM_ROPE, VLLM_ROTARY_EMBEDDING_AND_CACHE } vllm_prologue_op;

typedef struct vllm_prologue_attrs {
    vllm_prologue_op op;
    rope_qk_norm_attrs qk;      /* FusedQKNormRope */
    rope_kv_cache_attrs kv;     /* RotaryEmbeddingAndCache */
    int has_kv_cache_dtype;     /* the attribute was given: kv_cache_dtype then says the caches' kind */
    rope_dtype kv_cache_dtype;  /* ROPE_DTYPE_INVALID for "auto", else the fp8 format */
} vllm_prologue_attrs;

/* "vllm::FusedQKNormRope" or "vllm::RotaryEmbeddingAndCache". */
const char *vllm_prologue_name(vllm_prologue_op op);

/* The op of a node type in domain vllm, or -1 when op_type is neither. */
int vllm_prologue_op_of(const char *op_type);

/* Inputs the node must have, and may have; outputs it has. */
int vllm_prologue_required_inputs(vllm_prologue_op op);
int vllm_prologue_max_inputs(vllm_prologue_op op);
int vllm_prologue_outputs(vllm_prologue_op op);

/* Reads the node's attributes into *a; the diag names the model file, the attribute and what was
 * expected when one is unknown, of the wrong type, or a required one is missing. */
int vllm_prologue_attributes(const char *model_path, const onnx_node *node, vllm_prologue_op op,
                             vllm_prologue_attrs *a, diag *why);

/*
 * Runs the node on dense inputs in[0 .. n_in) (in the node's order; q_weight / k_weight absent when
 * n_in is 8 or their data is NULL). On success out[0 .. outputs) are malloc'd dense tensors holding
 * the in-place results (the caller frees each data). On failure the diag quotes the library's
 * message (or says which attribute disagrees with the caches) and out[] is left empty.
 */
int vllm_prologue_run(const vllm_prologue_attrs *a, const rope_tensor *in, int n_in, rope_tensor *out, diag *err);

#endif
