/* SPDX-License-Identifier: MIT */
/* Part of rope.h (the ONNX RotaryEmbedding-23 operator):
 * include <rope.h>, not this file. The parts are rope.h split by subject;
 * rope.h includes each once, in the order of its table of contents. */
#ifndef ROPE_PART_ONNX_H
#define ROPE_PART_ONNX_H

#ifndef ROPE_H
#error "include <rope.h>, not its parts"
#endif

/* ---------------------------------------------------------------------------------------------- */
/* ONNX RotaryEmbedding (ai.onnx, opset 23)                                                        */
/* ---------------------------------------------------------------------------------------------- */

/* The operator's attributes, with ONNX's defaults when zero-initialised. Functions taking a
 * `const rope_onnx_attrs *` accept NULL for all defaults. */
/* rope_onnx_attrs.interleaved: ONNX's two pair layouts, and librope's extensions of the attribute's
 * domain (the struct keeps its layout, so programs built against an older header are unaffected). */
typedef enum rope_onnx_layout {
    ROPE_ONNX_HALVES = 0, /* ONNX interleaved 0: pairs (x[j], x[r/2 + j]) */
    ROPE_ONNX_PAIRS = 1,  /* ONNX interleaved 1: pairs (x[2j], x[2j + 1]) */
    /* Adjacent pairs in, halves out (DeepSeek V2 / V3 MLA's rope_interleave): the pair
     * (x[2j], x[2j+1]) rotated as in ROPE_ONNX_PAIRS is written to y[j] and y[r/2 + j]:
     * y[0, r/2) = x_even*c - x_odd*s, y[r/2, r) = x_odd*c + x_even*s. The backward pass is the
     * transpose (halves in, pairs out). */
    ROPE_ONNX_PAIRS_TO_HALVES = 2,
    /* Halves with the split partial layout (ROPE_PARTIAL_SPLIT): pairs (x[j], x[head_size/2 + j]) for
     * j < r/2, every other element copied (Gemma 4's proportional rope). */
    ROPE_ONNX_HALVES_SPLIT = 3
} rope_onnx_layout;

typedef struct rope_onnx_attrs {
    int64_t interleaved;          /* a rope_onnx_layout: 0: halves (x[0:r/2], x[r/2:r]); 1: pairs
                                     (x[2j], x[2j+1]); 2 and 3: librope's layouts above */
    int64_t rotary_embedding_dim; /* r; 0 means head_size. Must be even and <= head_size */
    int64_t num_heads;            /* >= 0; required (> 0) for 3-D X; not used by 4-D X (dim 1 is the
                                     head count), but a negative value is rejected there too */
} rope_onnx_attrs;

/*
 * Shape inference: the descriptor of Y from the input descriptors and attributes alone.
 *   x:            4-D [batch, num_heads, seq, head_size] or 3-D [batch, seq, num_heads*head_size];
 *                 dtype f32, f16 or bf16.
 *   cos, sin:     2-D [max_pos, r/2] with position_ids, 3-D [batch, seq, r/2] without; same dtype as x.
 *   position_ids: NULL, or 2-D [batch, seq] of i64.
 * On success *y_out gets x's dtype, rank and dims, data NULL and row_stride 0 (dense).
 * Data pointers are not read. Errors are exactly those rope_onnx_rotary_embedding reports for the
 * same descriptors (excluding checks that need data: position id values, aliasing, NULL data).
 */
ROPE_API rope_status rope_onnx_infer(const rope_onnx_attrs *attrs, const rope_tensor *x, const rope_tensor *cos,
                                     const rope_tensor *sin, const rope_tensor *position_ids, rope_tensor *y_out);

/*
 * Y = RotaryEmbedding(X, cos, sin, position_ids) with ONNX opset-23 semantics. For every (batch b,
 * seq s, head n) the cache row c, s (row position_ids[b][s] of a 2-D cache, or row [b][s] of a 3-D
 * one) rotates the first r elements of the head vector:
 *     y1 = c*x1 - s*x2,   y2 = s*x1 + c*x2
 * and copies elements [r, head_size) unchanged.
 *   y: same dtype and dims as x, with data set; it may be x itself (in place) but must not
 *      otherwise overlap x, cos, sin or position_ids.
 * Errors: NULL_ARGUMENT, DTYPE, RANK, SHAPE (dims disagree, odd head_size, hidden not a multiple of
 * num_heads), ATTRIBUTE (interleaved not 0/1, odd, negative or too large r, num_heads missing for 3-D
 * x), INDEX (a position id outside [0, max_pos)), STRIDE (row_stride of X or Y below its row; cos,
 * sin and position_ids must be dense), ALIASING. Batch, seq or heads of 0 is valid and writes nothing.
 * Threading: uses ctx's threads; concurrent calls with one context are safe.
 */
ROPE_API rope_status rope_onnx_rotary_embedding(rope_context *ctx, const rope_onnx_attrs *attrs, const rope_tensor *x,
                                                const rope_tensor *cos, const rope_tensor *sin,
                                                const rope_tensor *position_ids, const rope_tensor *y);

#endif /* ROPE_PART_ONNX_H */
