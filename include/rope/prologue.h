/* SPDX-License-Identifier: MIT */
/* Part of rope.h (the fused attention prologue (vLLM)):
 * include <rope.h>, not this file. The parts are rope.h split by subject;
 * rope.h includes each once, in the order of its table of contents. */
#ifndef ROPE_PART_PROLOGUE_H
#define ROPE_PART_PROLOGUE_H

#ifndef ROPE_H
#error "include <rope.h>, not its parts"
#endif

/* ---------------------------------------------------------------------------------------------- */
/* The fused attention prologue (vLLM): QK-norm + RoPE, and RoPE + KV-cache write                  */
/* ---------------------------------------------------------------------------------------------- */

/*
 * What a decoder layer does to q and k between the QKV projection and attention, in one pass over
 * the tokens: Qwen3 / Gemma 3's per-head RMSNorm of q and k, the rotation of rope_vllm_rotary_embedding
 * (its cos_sin_cache, positions, pairings and MRoPE, see above), and the serving engines' write of
 * the rotated key and the value into a paged KV cache (vLLM reshape_and_cache_flash).
 *
 * The norm (vLLM fused_qk_norm_rope): each q and k head x of head_size elements becomes
 *     n[i] = x[i] * (r * weight[i]),   r = 1 / sqrt(ss / head_size + eps)
 * in float32, where ss is the sum of the rounded squares x[i]*x[i] in this fixed order (so that
 * every instruction set and thread count forms the same sum): 16 partial sums, partial l adding
 * elements l, l+16, l+32, ... in increasing order (from +0), then combined pairwise
 * p[l] += p[l+8] (l < 8), p[l] += p[l+4] (l < 4), p[l] += p[l+2] (l < 2), p[0] += p[1]; ss = p[0].
 * ss / head_size, + eps, sqrt and 1 / are each one float32 operation (eps rounded to float32 once).
 * n is then rotated exactly as rope_vllm_rotary_embedding rotates x (products rounded, no fused
 * multiply-add), elements [rot, head_size) keep n, and each element is rounded once to the tensor's
 * dtype: n itself is never rounded. Gemma's (1 + w) norm is this with weight = 1 + w, which the
 * caller computes (in the dtype the model would). Results are bitwise identical on every
 * instruction set and thread count (NaN payloads aside, as everywhere).
 */
typedef struct rope_qk_norm_attrs {
    rope_vllm_attrs rope; /* rope.head_size is head_dim; is_neox and MRoPE as rope_vllm_attrs; the
                             later fields 0 (rope_vllm_attrs' comment) */
    int64_t num_heads_q;  /* >= 0 */
    int64_t num_heads_k;  /* >= 0 */
    int64_t num_heads_v;  /* >= 0: v is not touched, only skipped */
    double eps;           /* in [0, FLT_MAX] (1e-6 in Qwen3); used as float32 */
} rope_qk_norm_attrs;

/*
 * The checks of rope_vllm_fused_qk_norm_rope that need no data (the shape inference of an in-place
 * operator: it has no output but qkv itself). Tensors:
 *   positions:     [T] (or [m, T] with MRoPE), i64 or i32, dense.
 *   qkv:           [T, (Hq + Hk + Hv) * head_dim], f32, f16 or bf16; each token's row holds its Hq q
 *                  heads, then Hk k heads, then Hv v heads; any row_stride >= the row (0: dense).
 *   q_weight, k_weight: [head_dim], qkv's dtype or f32, dense.
 *   cos_sin_cache: [P, rot], qkv's dtype or f32, dense, rot even in [2, head_dim].
 * Errors: NULL_ARGUMENT (attrs, any tensor), ATTRIBUTE (as rope_vllm_infer for attrs->rope; a
 * negative head count; eps negative, NaN or above FLT_MAX), DTYPE, RANK, SHAPE (qkv's dims: T of the
 * positions, (Hq + Hk + Hv) * head_dim; weights not [head_dim]; the cache as rope_vllm_infer),
 * STRIDE. Thread-safe.
 */
ROPE_API rope_status rope_vllm_fused_qk_norm_rope_check(const rope_qk_norm_attrs *attrs, const rope_tensor *positions,
                                                        const rope_tensor *qkv, const rope_tensor *q_weight,
                                                        const rope_tensor *k_weight, const rope_tensor *cos_sin_cache);

/*
 * vLLM's fused_qk_norm_rope(qkv, num_heads_q, num_heads_k, num_heads_v, head_dim, eps, q_weight,
 * k_weight, cos_sin_cache, is_neox, position_ids), in place: every q head normalised with q_weight
 * and every k head with k_weight (above), then rotated at its token's position; v untouched.
 * Errors: those of rope_vllm_fused_qk_norm_rope_check; NULL_ARGUMENT (data of a non-empty tensor);
 * ALIASING (qkv overlapping positions, a weight or the cache); INDEX (a position outside [0, P),
 * every one checked before anything is written); OUT_OF_MEMORY (head_dim above 512 with weights not
 * in f32: their float32 copy). Nothing is written on error. Threading: ctx's threads; concurrent
 * calls on different qkv are safe.
 */
ROPE_API rope_status rope_vllm_fused_qk_norm_rope(rope_context *ctx, const rope_qk_norm_attrs *attrs,
                                                  const rope_tensor *positions, const rope_tensor *qkv,
                                                  const rope_tensor *q_weight, const rope_tensor *k_weight,
                                                  const rope_tensor *cos_sin_cache);

/*
 * The operation lifecycle (rope_operation_* above) for rope_vllm_fused_qk_norm_rope. Inputs:
 * positions, qkv, q_weight, k_weight, cos_sin_cache; one output, qkv itself (in place: the same
 * descriptor as input 1; shape inference gives qkv's descriptor with data NULL). Errors:
 * NULL_ARGUMENT (attrs or out), ATTRIBUTE (attrs alone), OUT_OF_MEMORY; setup: those of the call,
 * and SHAPE when the output is not qkv.
 */
ROPE_API rope_status rope_operation_create_vllm_qk_norm_rope(const rope_qk_norm_attrs *attrs, rope_operation **out);

/* The paged KV-cache layouts: a cache is [num_blocks, block_size, Hk, head_size] (NHD: vLLM's flash
 * layout, FlashInfer's NHD) or [num_blocks, Hk, block_size, head_size] (HND). */
typedef enum rope_kv_layout { ROPE_KV_NHD = 0, ROPE_KV_HND = 1 } rope_kv_layout;

typedef struct rope_kv_cache_attrs {
    rope_vllm_attrs rope; /* head_size, is_neox, MRoPE and inverse as rope_vllm_rotary_embedding;
                             rope_dim_offset, partial and pairs_to_halves 0 */
    rope_kv_layout kv_layout;
    float k_scale, v_scale; /* fp8 caches: finite and > 0 (the stored value is element / scale); not
                               read for caches of the key's dtype */
    double eps;             /* with q_weight / k_weight: the norm's epsilon, in [0, FLT_MAX]; else not read */
} rope_kv_cache_attrs;

/*
 * vLLM's rotary_embedding(positions, query, key, head_size, cos_sin_cache, is_neox) followed by
 * reshape_and_cache_flash(key, value, key_cache, value_cache, slot_mapping, kv_cache_dtype, k_scale,
 * v_scale), in one pass: query and key rotated in place (normalised first when q_weight and k_weight
 * are given: the whole Qwen3 prologue; by the negated angle with rope.inverse, as rotary_embedding's
 * inverse=True), and token t's rotated key (as stored in key, rounded to its
 * dtype) and its value written to slot s = slot_mapping[t] of the caches: block s / block_size,
 * entry s % block_size; a negative slot is a padded token and writes nothing to the caches.
 *   positions, query, key, cos_sin_cache: as rope_vllm_rotary_embedding (key required).
 *   value:         key's dtype and dims (any row_stride); only read.
 *   key_cache, value_cache: 4-D as kv_layout says, with Hk and head_size of key; dense; the same
 *                  dtype and dims. Dtype: key's (vLLM's kv_cache_dtype "auto": the bits copied) or
 *                  ROPE_FP8_E4M3 / ROPE_FP8_E5M2 ("fp8" / "fp8_e4m3", "fp8_e5m2"; torch's float8
 *                  dtypes, or uint8 holding their bits): element (a float32 from key's dtype) /
 *                  scale in float32, rounded to nearest even, saturated to the largest finite value
 *                  (448, 57344; infinities too), a NaN stored as the format's NaN (0x7f, 0x7e) with
 *                  its sign.
 *   slot_mapping:  [T] (T the positions' tokens), i64 or i32, dense: every value < 0 or in
 *                  [0, num_blocks * block_size), no slot twice.
 *   q_weight, k_weight: both NULL (no norm) or both [head_size], key's dtype or f32, dense.
 * Errors: those of rope_vllm_rotary_embedding for positions, query, key and the cache;
 * NULL_ARGUMENT (any tensor but the weights, one weight without the other, data of a non-empty
 * tensor), ATTRIBUTE (kv_layout, a scale of an fp8 cache, eps), DTYPE, RANK, SHAPE, STRIDE (of value,
 * the caches, slot_mapping, the weights), ALIASING (query, key or a cache overlapping another tensor),
 * INDEX (a position outside [0, P), a slot at or past num_blocks * block_size, a slot twice),
 * OUT_OF_MEMORY (the duplicate check: 8 bytes per token; weights as rope_vllm_fused_qk_norm_rope).
 * Every position and slot is checked before anything, caches included, is written; nothing is
 * written on error. Threading: ctx's threads; results bitwise identical for every thread count.
 * A call writing 256 KiB of cache or more writes the slots with streaming (non-temporal) stores, on
 * x86 with AVX2 or AVX-512: they are in memory, not in the CPU's caches, when the call returns.
 */
ROPE_API rope_status rope_vllm_rotary_embedding_and_cache(
    rope_context *ctx, const rope_kv_cache_attrs *attrs, const rope_tensor *positions, const rope_tensor *query,
    const rope_tensor *key, const rope_tensor *value, const rope_tensor *cos_sin_cache, const rope_tensor *key_cache,
    const rope_tensor *value_cache, const rope_tensor *slot_mapping, const rope_tensor *q_weight /* NULL: no norm */,
    const rope_tensor *k_weight /* NULL: no norm */);

/* The checks of rope_vllm_rotary_embedding_and_cache that need no data (its shape inference: every
 * output is an input, written in place), in the call's order, with its errors. Thread-safe. */
ROPE_API rope_status rope_vllm_rotary_embedding_and_cache_check(
    const rope_kv_cache_attrs *attrs, const rope_tensor *positions, const rope_tensor *query, const rope_tensor *key,
    const rope_tensor *value, const rope_tensor *cos_sin_cache, const rope_tensor *key_cache,
    const rope_tensor *value_cache, const rope_tensor *slot_mapping, const rope_tensor *q_weight,
    const rope_tensor *k_weight);

/*
 * The operation lifecycle (rope_operation_* above) for rope_vllm_rotary_embedding_and_cache. Inputs:
 * positions, query, key, value, cos_sin_cache, key_cache, value_cache, slot_mapping, q_weight,
 * k_weight, where the weights are absent when n_inputs is 8 or when given with rank 0. Outputs
 * (4): query, key, key_cache, value_cache, each the same descriptor as its input (in place; shape
 * inference gives those descriptors with data NULL). Errors: NULL_ARGUMENT (attrs or out), ATTRIBUTE
 * (attrs alone: the rotation's attributes and kv_layout), OUT_OF_MEMORY; setup: those of the call,
 * and SHAPE when an output is not its input. Positions and slots are data: execute checks them again.
 */
ROPE_API rope_status rope_operation_create_vllm_rope_and_cache(const rope_kv_cache_attrs *attrs, rope_operation **out);

/* The scalar fp8 conversion the cache write uses: f to ROPE_FP8_E4M3 or ROPE_FP8_E5M2 bits, rounded to
 * nearest even, saturated to the largest finite value, NaN kept (as above). Any other dtype gives 0.
 * Thread-safe, no errors. */
ROPE_API uint8_t rope_f32_to_fp8(float f, rope_dtype fp8_dtype);

#endif /* ROPE_PART_PROLOGUE_H */
