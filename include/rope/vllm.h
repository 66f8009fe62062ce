/* SPDX-License-Identifier: MIT */
/* Part of rope.h (the serving engines' rotary_embedding (vLLM), with MRoPE):
 * include <rope.h>, not this file. The parts are rope.h split by subject;
 * rope.h includes each once, in the order of its table of contents. */
#ifndef ROPE_PART_VLLM_H
#define ROPE_PART_VLLM_H

#ifndef ROPE_H
#error "include <rope.h>, not its parts"
#endif

/* ---------------------------------------------------------------------------------------------- */
/* The serving engines' rotary_embedding (vLLM)                                                    */
/* ---------------------------------------------------------------------------------------------- */

/*
 * The third way LLM stacks call RoPE: one cache of [cos | sin] rows indexed by each token's
 * position, query and key rotated together (usually in place). It is vLLM's
 * rotary_embedding(positions, query, key, head_size, cos_sin_cache, is_neox), SGLang's and
 * FlashInfer's apply_rope_with_cos_sin_cache_inplace, and Ascend CANN's RopeWithSinCosCache, with the
 * multimodal RoPE (MRoPE) of Qwen2-VL / Qwen2.5-VL (contiguous sections) and Qwen3-VL (interleaved).
 *
 * Tensors (T tokens; "token dims" are [T] or [B, S] with T = B*S):
 *   positions:     i64 or i32, the token dims ([T] or [B, S]); with MRoPE (n_mrope_section = m > 0)
 *                  [m, T] or [m, B, S]: one position per axis (time, height, width, ...) per token.
 *                  Dense. Every value must lie in [0, P).
 *   query:         f32, f16 or bf16: [T, Hq*head_size] or [T, Hq, head_size] with positions [T] (or
 *                  [m, T]); [B, S, Hq*head_size] with positions [B, S] (or [m, B, S]).
 *                  A *row* here is one token's Hq*head_size elements in every layout: row_stride is
 *                  the distance between consecutive tokens' rows (0: dense), so q and k can be
 *                  rotated inside a fused QKV buffer. Hq may be 0 (nothing to rotate).
 *   key:           NULL (absent: query only), or as query with Hk heads (any Hk, same dtype).
 *   cos_sin_cache: [P, rot], the query's dtype or f32, dense; rot even, 2 <= rot <= head_size.
 *                  Row p is [cos(p, 0 .. rot/2) | sin(p, 0 .. rot/2)].
 *   query_out, key_out: the dtypes and dims of query / key (any row_stride); each may be its own
 *                  input (in place, vLLM's usage) and must not otherwise overlap any input or each
 *                  other.
 * For each token t and each head, with half = rot/2 and pair j < half taking row r(j, t):
 *   is_neox 1 (GPT-NeoX, halves):      (x[j], x[half + j])
 *   is_neox 0 (GPT-J, adjacent pairs): (x[2j], x[2j + 1])
 *   -> (x1*c - x2*s, x2*c + x1*s), c = cache[r][j], s = cache[r][half + j] (-s with inverse);
 *   elements [rot, head_size) of every head are copied. With rope_dim_offset o, x above is the head
 *   from element o on (elements [0, o) copied); with ROPE_PARTIAL_SPLIT the halves pair x[j] with
 *   x[head_size/2 + j]; with pairs_to_halves the adjacent pair j is written to y[j], y[half + j].
 *   Plain: r(j, t) = positions[t].
 *   MRoPE, sections s_0 .. s_{m-1} (m = 3 or 4, each > 0, summing to half):
 *     contiguous (mrope_interleaved 0): pair j in section a (s_0+..+s_{a-1} <= j < s_0+..+s_a) takes
 *       r = positions[a][t];
 *     interleaved (mrope_interleaved 1, m = 3; Qwen3-VL): axis 1 when j % 3 == 1 and j < 3*s_1,
 *       axis 2 when j % 3 == 2 and j < 3*s_2, else axis 0.
 *   With all axes' positions equal, MRoPE is bitwise the plain operator.
 * Arithmetic as everywhere (header comment): bitwise identical across instruction sets and threads.
 */
/* Versioned like rope_freq_config: start from ROPE_VLLM_ATTRS_INIT (struct_size set to the size this
 * header knows, is_neox 1, every other field 0), then set fields. The library reads only what the
 * caller's struct_size covers (later fields keep their 0 defaults). The oldest layout with
 * struct_size ends after mrope_section; a struct_size below it (0: a zero-initialised struct, or a
 * struct written for the first release's layout, which had no struct_size) or above
 * sizeof(rope_vllm_attrs) is refused with ROPE_ERROR_ATTRIBUTE naming struct_size. The fused
 * prologue's attributes (rope_qk_norm_attrs, rope_kv_cache_attrs) embed this struct: there its
 * struct_size is not read (the outer struct fixes the layout); rope_dim_offset, partial and
 * pairs_to_halves must be 0 (vLLM's fused_qk_norm_rope has none of them, and the cache write stores
 * heads rotated from their start), and inverse 0 in rope_qk_norm_attrs (vLLM's fused_qk_norm_rope
 * has no inverse), 0 or 1 in rope_kv_cache_attrs (rotary_embedding's inverse, before the cache
 * write). Each refusal is ROPE_ERROR_ATTRIBUTE naming the field, the value and why. */
typedef struct rope_vllm_attrs {
    size_t struct_size;        /* sizeof(rope_vllm_attrs), as ROPE_VLLM_ATTRS_INIT sets it */
    int64_t head_size;         /* required, > 0 (vLLM's head_size argument / the node's attribute) */
    int32_t is_neox;           /* 1: halves (GPT-NeoX, x[j] with x[rot/2 + j]); 0: adjacent pairs (GPT-J) */
    int32_t mrope_interleaved; /* 0: contiguous MRoPE sections; 1: Qwen3-VL's interleaved form (3 sections) */
    int32_t n_mrope_section;   /* 0: plain RoPE; 3 or 4: MRoPE with mrope_section[0..n) summing to rot/2 */
    int64_t mrope_section[4];  /* entries past n_mrope_section must be 0 */
    /* vLLM's rope_dim_offset: >= 0, with offset + rot <= head_size. Each head's rotated part is
     * [offset, offset + rot) (head_size - rot: at the tail, as DeepSeek V4's indexer calls it); the
     * pairings above count from offset, and every other element is copied. */
    int64_t rope_dim_offset;
    int32_t inverse;         /* vLLM's inverse: 1 rotates by the negated angle (sin negated), taking a
                                cached key back to position 0; 0 or 1 */
    int32_t partial;         /* a rope_partial: ROPE_PARTIAL_SPLIT needs is_neox 1, rope_dim_offset 0
                                and an even head_size */
    int32_t pairs_to_halves; /* 1: adjacent pairs in, halves out (DeepSeek rope_interleave,
                                ROPE_ONNX_PAIRS_TO_HALVES); needs is_neox 0. 0 or 1 */
} rope_vllm_attrs;
#define ROPE_VLLM_ATTRS_INIT                                                                                           \
    { sizeof(rope_vllm_attrs), 0, 1, 0, 0, {0, 0, 0, 0}, 0, 0, ROPE_PARTIAL_LEADING, 0 } /* head_size required */

/*
 * Output descriptors from the inputs (data not read): query_out gets query's dtype and dims, key_out
 * (not touched when key is NULL; may then be NULL) key's, both dense with NULL data.
 * Errors: NULL_ARGUMENT (attrs, positions, query, cos_sin_cache, query_out; key_out with a key),
 * ATTRIBUTE (struct_size, head_size <= 0, is_neox or mrope_interleaved not 0/1, n_mrope_section not
 * 0, 3 or 4, interleaved without 3 sections, a section <= 0, a nonzero entry past n, sections not
 * summing to rot/2; rope_dim_offset negative or rope_dim_offset + rot above head_size; inverse or
 * pairs_to_halves not 0/1; partial not a rope_partial; the combinations the fields' comments
 * exclude), DTYPE (positions not i64/i32; query not f32/f16/bf16; key not query's; cache not query's
 * or f32), RANK, SHAPE (token dims disagree with positions', MRoPE axes not n_mrope_section, hidden
 * not a multiple of head_size, [T, H, hs] with hs != head_size, rot odd, 0 or above head_size),
 * STRIDE (positions or cache not dense; a row_stride below its row). Thread-safe.
 */
ROPE_API rope_status rope_vllm_infer(const rope_vllm_attrs *attrs, const rope_tensor *positions,
                                     const rope_tensor *query, const rope_tensor *key /* NULL: absent */,
                                     const rope_tensor *cos_sin_cache, rope_tensor *query_out,
                                     rope_tensor *key_out /* may be NULL when key is NULL */);

/*
 * query_out, key_out = rotary_embedding(positions, query, key, cos_sin_cache) as above; q and k of a
 * token in one pass. key and key_out NULL: query only (key_out must be NULL exactly when key is).
 * Errors: those of rope_vllm_infer; NULL_ARGUMENT (an output, or data of a non-empty tensor);
 * SHAPE/DTYPE/STRIDE of the outputs; ALIASING (an output partly overlapping its input, or
 * overlapping another tensor); INDEX (a position outside [0, P), every one checked before anything
 * is written). Nothing is written on error. Threading: ctx's threads; concurrent calls are safe.
 * The `_backward` form takes the gradients of query_out / key_out in query's / key's places and
 * writes those of query / key in the outputs' places: the exact transposed rotation (the forward
 * with sin negated, bitwise), with the same validation, plus OUT_OF_MEMORY (a scratch of a few KiB
 * per thread).
 */
ROPE_API rope_status rope_vllm_rotary_embedding(rope_context *ctx, const rope_vllm_attrs *attrs,
                                                const rope_tensor *positions, const rope_tensor *query,
                                                const rope_tensor *key, const rope_tensor *cos_sin_cache,
                                                const rope_tensor *query_out, const rope_tensor *key_out);
ROPE_API rope_status rope_vllm_rotary_embedding_backward(rope_context *ctx, const rope_vllm_attrs *attrs,
                                                         const rope_tensor *positions, const rope_tensor *grad_query,
                                                         const rope_tensor *grad_key, const rope_tensor *cos_sin_cache,
                                                         const rope_tensor *dquery, const rope_tensor *dkey);

/*
 * The same with cos/sin computed from fly instead of read from a cache: bitwise the result of
 * rope_vllm_rotary_embedding on a cache that rope_cache_fill built with fly->freq, layout
 * ROPE_CACHE_VLLM and dtype fly->cs_dtype (0: the query's; else the query's or f32).
 * fly->positions is the operator's positions tensor ([T], [B, S], or [m, T] / [m, B, S] with MRoPE;
 * i64 or i32; every value >= 0, the angles below 2^46 rad as rope_cache_fill requires), fly->kind
 * ROPE_POSITIONS_PER_TOKEN, fly->freq->rotary_dim = rot (even, <= head_size).
 * Errors: as rope_vllm_rotary_embedding for attrs, query, key and outputs; NULL_ARGUMENT (fly,
 * fly->freq); ATTRIBUTE (fly->freq as rope_freq_compute, fly->kind); DTYPE (cs_dtype); INDEX;
 * ALIASING (outputs and positions); OUT_OF_MEMORY. Nothing is written on error. Threading: ctx's.
 * The `_backward` form is rope_vllm_rotary_embedding_backward with those values.
 */
ROPE_API rope_status rope_vllm_rotary_embedding_fly(rope_context *ctx, const rope_vllm_attrs *attrs,
                                                    const rope_tensor *query, const rope_tensor *key,
                                                    const rope_fly *fly, const rope_tensor *query_out,
                                                    const rope_tensor *key_out);
ROPE_API rope_status rope_vllm_rotary_embedding_fly_backward(rope_context *ctx, const rope_vllm_attrs *attrs,
                                                             const rope_tensor *grad_query, const rope_tensor *grad_key,
                                                             const rope_fly *fly, const rope_tensor *dquery,
                                                             const rope_tensor *dkey);

/*
 * The same with cos/sin computed from multi-axis positions (rope_fly_axes in "On the fly" above):
 * bitwise the result of rope_vllm_rotary_embedding on the cos_sin_cache that rope_cache_fill_axes
 * fills (ROPE_CACHE_VLLM, dtype fly->cs_dtype: 0 the query's, else the query's or f32) with positions
 * 0 .. T-1. fly->positions: [T, A], or [B, S, A] with a [B, S, H*hs] query; rot, the axes' width,
 * even and <= head_size - rope_dim_offset. attrs->n_mrope_section must be 0 (the axes place the
 * pairs); every other attribute applies (is_neox, rope_dim_offset, inverse, partial,
 * pairs_to_halves). Errors: as rope_vllm_rotary_embedding for attrs, query, key and outputs (with
 * ATTRIBUTE for n_mrope_section), and as rope_onnx_rotary_embedding_fly_axes for fly. Nothing is
 * written on error. Threading: ctx's. The `_backward` form is rope_vllm_rotary_embedding_backward
 * with those values.
 */
ROPE_API rope_status rope_vllm_rotary_embedding_fly_axes(rope_context *ctx, const rope_vllm_attrs *attrs,
                                                         const rope_tensor *query, const rope_tensor *key,
                                                         const rope_fly_axes *fly, const rope_tensor *query_out,
                                                         const rope_tensor *key_out);
ROPE_API rope_status rope_vllm_rotary_embedding_fly_axes_backward(rope_context *ctx, const rope_vllm_attrs *attrs,
                                                                  const rope_tensor *grad_query,
                                                                  const rope_tensor *grad_key, const rope_fly_axes *fly,
                                                                  const rope_tensor *dquery, const rope_tensor *dkey);

/*
 * The operation lifecycle (rope_operation_* above) for this operator. Inputs: positions, query, key,
 * cos_sin_cache, where key is absent when given with rank 0, or when n_inputs is 3 (then the inputs
 * are positions, query, cos_sin_cache). Outputs: query_out, key_out (n_outputs 2; 1 is accepted when
 * key is absent). Errors: NULL_ARGUMENT (attrs or out), ATTRIBUTE (attrs alone, as rope_vllm_infer
 * checks them before seeing a tensor), OUT_OF_MEMORY.
 */
ROPE_API rope_status rope_operation_create_vllm(const rope_vllm_attrs *attrs, rope_operation **out);

#endif /* ROPE_PART_VLLM_H */
