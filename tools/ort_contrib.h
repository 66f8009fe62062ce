/* SPDX-License-Identifier: MIT */
/*
 * ONNX Runtime's contrib ops com.microsoft::RotaryEmbedding and com.microsoft::MRotaryEmbedding,
 * run through the library's ONNX RotaryEmbedding-23 front end (no kernel of their own):
 *   RotaryEmbedding(input, position_ids, cos_cache, sin_cache): position_ids [batch, sequence] are
 *     handed to rope_onnx_rotary_embedding as they are; a one-element position_ids is an offset, and
 *     token s of every sequence sits at offset + s (the [batch, sequence] ids are built here).
 *   MRotaryEmbedding(input, position_ids [3, batch, sequence], cos_cache, sin_cache): each token's
 *     cos/sin row is assembled pair by pair from the (t, h, w) axis that owns the pair (mrope_section,
 *     mrope_layout), into the per-token 3-D cache [batch, sequence, rot/2] the ONNX operator takes.
 * `scale` multiplies every cos and sin value (the product rounded to the cache dtype) before the
 * rotation, as ONNX Runtime's MRotaryEmbedding kernel does; its CPU RotaryEmbedding kernel ignores
 * it (README: the differences). is_packed_batching only lifts ONNX Runtime's refusal of sequences
 * longer than the cache, which librope never makes, so it changes nothing here.
 * Every attribute, shape and position is checked before anything is allocated or written.
 */
#ifndef ROPE_TOOL_ORT_CONTRIB_H
#define ROPE_TOOL_ORT_CONTRIB_H

#include <stdint.h>

#include "diag.h"
#include "onnx_model.h"
#include "rope.h"

typedef enum ort_contrib_op { ORT_ROTARY_EMBEDDING, ORT_MROTARY_EMBEDDING } ort_contrib_op;

/* The node's attributes as written (defaults: 0, scale 1, mrope_layout 0); values are checked when
 * the node runs, so that a bad value is a refused case with a message, as the library's are. */
typedef struct ort_contrib_attrs {
    ort_contrib_op op;
    int64_t interleaved;
    int64_t num_heads;
    int64_t rotary_embedding_dim;
    int64_t is_packed_batching;
    float scale;
    int64_t mrope_layout;
    int has_mrope_section;    /* MRotaryEmbedding requires the attribute */
    int64_t n_mrope_section;  /* entries the attribute holds (3 expected) */
    int64_t mrope_section[3]; /* the first three of them */
} ort_contrib_attrs;

/* "com.microsoft::RotaryEmbedding" or "com.microsoft::MRotaryEmbedding". */
const char *ort_contrib_name(ort_contrib_op op);

/* Reads the node's attributes into *a: unknown names and wrong attribute types fail (the diag names
 * the model file, the attribute and the type expected). */
int ort_contrib_attributes(const char *model_path, const onnx_node *node, ort_contrib_op op, ort_contrib_attrs *a,
                           diag *why);

/*
 * Runs the node on dense input tensors. On success *y is a dense malloc'd tensor of input's dtype and
 * dims (the caller frees y->data). On failure the diag says which attribute, tensor, dimension or
 * position is wrong (expected versus found), or quotes the library's message, and *y is left empty
 * (data NULL): nothing is written.
 */
int ort_contrib_run(const ort_contrib_attrs *a, const rope_tensor *input, const rope_tensor *position_ids,
                    const rope_tensor *cos_cache, const rope_tensor *sin_cache, rope_tensor *y, diag *err);

#endif
