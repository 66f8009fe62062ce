/* SPDX-License-Identifier: MIT */
/* The vLLM front end's steps (rotary_embedding with a positions-indexed [cos | sin] cache, and
 * MRoPE), shared by the one-shot calls, the on-the-fly calls and the operation lifecycle. */
#ifndef ROPE_VLLM_ROPE_H
#define ROPE_VLLM_ROPE_H

#include "rope.h"
#include "../engine/engine.h"

/* What validation learned about a call. Strides are in elements. */
typedef struct rope_vllm_plan {
    int64_t tokens;       /* T: the product of the positions' token dims */
    int64_t head_size, rot, hq, hk; /* hk 0 when key is absent */
    int64_t cache_rows;   /* P; -1 on the fly (positions only need to be >= 0) */
    int has_key, is_neox;
    int axes;             /* MRoPE: positions' leading dim (3 or 4); 0: plain */
    int interleaved;      /* MRoPE: Qwen3-VL's interleaved sections */
    int64_t section[4];
    rope_dtype pos_dtype; /* i64 or i32 */
    int64_t q_stride, k_stride, qo_stride, ko_stride;
    int64_t max_pos;      /* set by check_data: the largest position (-1: none) */
    int64_t offset;       /* rope_dim_offset: the rotated part starts there in each head */
    int inverse;          /* sin negated (vLLM's inverse) */
    int split;            /* ROPE_PARTIAL_SPLIT with rot < head_size */
    int pairs_to_halves;  /* adjacent pairs in, halves out */
} rope_vllm_plan;

/* 1 when the call has nothing to rotate (no tokens, or no heads). */
static inline int rope_vllm_plan_empty(const rope_vllm_plan *p) { return p->tokens == 0 || p->hq + p->hk == 0; }

/* The fused entry points, which take different subsets of rope_vllm_attrs' later fields. */
typedef enum rope_vllm_fused {
    ROPE_VLLM_FUSED_QK_NORM = 0, /* rope_vllm_fused_qk_norm_rope: vLLM's fused_qk_norm_rope, none of them */
    ROPE_VLLM_FUSED_CACHE = 1    /* rope_vllm_rotary_embedding_and_cache: rotary_embedding's inverse */
} rope_vllm_fused;

/* The checks of the attributes alone (before any tensor is seen), as the fused prologue makes them:
 * struct_size is not read; rope_dim_offset, partial and pairs_to_halves must be 0 (the fused kernels
 * rotate from each head's start, leading halves or adjacent pairs, in place); inverse 0, or 0 or 1
 * for the cache write (vLLM's rotary_embedding argument). Each refusal says why. */
rope_status rope_vllm_check_attrs(const char *where, const rope_vllm_attrs *attrs, rope_vllm_fused op);

/* rotary_embedding's attributes: checks attrs (NULL, struct_size, every field alone) and copies them
 * into *out, the fields past the caller's struct_size set to their 0 defaults. */
rope_status rope_vllm_attrs_load(const char *where, const rope_vllm_attrs *attrs, rope_vllm_attrs *out);

/* Sets the direction of a checked plan's job: its rows transformed (sin negated) for the backward
 * pass or for inverse, not both, and the pairs-to-halves permutation's side. */
void rope_vllm_job_direction(const rope_vllm_plan *p, rope_job *job, int backward);

/* Checks the input descriptors (no data read) and fills *p (all but the output strides). The caller
 * has checked attrs. key may be NULL (absent). cache NULL: the on-the-fly mode, with rot given and
 * fly_rot_name saying where it comes from in messages (NULL: "fly->freq->rotary_dim"). */
rope_status rope_vllm_plan_shapes(const char *where, const rope_vllm_attrs *attrs, const rope_tensor *positions,
                                  const rope_tensor *q, const rope_tensor *k, const rope_tensor *cache, int64_t fly_rot,
                                  const char *fly_rot_name, rope_vllm_plan *p);

/* Checks the outputs (ko NULL exactly when k is), data pointers, aliasing and every position value;
 * on success stores the completed plan. cache NULL on the fly; positions NULL with multi-axis
 * positions, which the caller checks (their values, and the outputs' overlap with them). */
rope_status rope_vllm_check_data(const char *where, const rope_vllm_plan *p, const rope_tensor *positions,
                                 const rope_tensor *q, const rope_tensor *k, const rope_tensor *cache,
                                 const rope_tensor *qo, const rope_tensor *ko, rope_vllm_plan *out);

/* The part of rope_vllm_check_data that reads data (data pointers, aliasing, every position value),
 * for a plan whose descriptors rope_vllm_check_data has accepted: what a call must check again when
 * it repeats the descriptors of one it remembers (core/memo.h). On success stores the largest
 * position (-1: none) in *max_pos. */
rope_status rope_vllm_check_values(const char *where, const rope_vllm_plan *p, const rope_tensor *positions,
                                   const rope_tensor *q, const rope_tensor *k, const rope_tensor *cache,
                                   const rope_tensor *qo, const rope_tensor *ko, int64_t *max_pos);

/* The engine job of a fully checked plain (non-MRoPE) call. cache NULL on the fly: the caller sets
 * the cos/sin source and the cos dtype. */
void rope_vllm_job(const rope_vllm_plan *p, const rope_tensor *positions, const rope_tensor *q, const rope_tensor *k,
                   const rope_tensor *cache, const rope_tensor *qo, const rope_tensor *ko, rope_job *out);

/* The MRoPE description of a checked plan with axes (the positions tensor's axis rows). */
void rope_vllm_mrope(const rope_vllm_plan *p, const rope_tensor *positions, rope_mrope *out);

/* Runs a fully checked table call (plain or MRoPE), forward or backward, on ctx (NULL: the default
 * context, resolved here). */
rope_status rope_vllm_run(const char *where, rope_context *ctx, const rope_vllm_plan *p, const rope_tensor *positions,
                          const rope_tensor *q, const rope_tensor *k, const rope_tensor *cache, const rope_tensor *qo,
                          const rope_tensor *ko, int backward);

/* ---- the on-the-fly calls' shared steps (vllm_fly_checks.c), for rope_fly and rope_fly_axes ---- */

/* The attributes loaded into *loaded (rope_vllm_attrs_load), then query, fly and query_out present
 * (NULL_ARGUMENT naming the first missing one). */
rope_status rope_vllm_fly_args(const char *where, const rope_vllm_attrs *attrs, rope_vllm_attrs *loaded,
                               const rope_tensor *q, const void *fly, const rope_tensor *qo);

/* fly->cs_dtype (0: query's) must be query's dtype or f32; stored in *cs_dtype. DTYPE otherwise. */
rope_status rope_vllm_fly_cs_dtype(const char *where, const rope_tensor *q, rope_dtype requested, rope_dtype *cs_dtype);

#endif
