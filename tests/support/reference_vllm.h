/* SPDX-License-Identifier: MIT */
/*
 * Float64 reference of the serving engines' rotary_embedding (vLLM, with MRoPE), written from
 * ../shared/vllm-tests/MANIFEST.md, never from src/. Values are doubles already rounded to their
 * dtypes (ref_fill); want / perr as in reference.h (perr: the float32 products' rounding error, -1
 * for a copied element), so ref_compare applies.
 */
#ifndef ROPE_TEST_REFERENCE_VLLM_H
#define ROPE_TEST_REFERENCE_VLLM_H

#include <stdint.h>

typedef struct ref_vllm_case {
    int64_t tokens;      /* T */
    int64_t heads;       /* of the tensor being rotated (query or key) */
    int64_t head_size;
    int64_t rot;         /* cos_sin_cache.shape[1] */
    int64_t cache_rows;  /* P */
    int is_neox;         /* 1: (x[j], x[half + j]); 0: (x[2j], x[2j + 1]) */
    int axes;            /* 0: plain; m: MRoPE with sections[0 .. m) */
    int interleaved;     /* MRoPE: Qwen3-VL's interleaved assignment (m = 3) */
    int64_t section[4];
    /* librope's and vLLM's later attributes (0: none): */
    int64_t offset;      /* rope_dim_offset: the head counts from element offset on; [0, offset) copied */
    int inverse;         /* sin negated */
    int split;           /* halves pairing (j, head_size/2 + j) for j < rot/2 */
    int pairs_to_halves; /* the adjacent pair j read from (2j, 2j+1), written to (j, half + j) */
    int backward;        /* the transpose: reads where the forward writes and writes where it reads, sin negated */
} ref_vllm_case;

/* The row of the cache pair j of token t reads: positions pos[a * T + t] of the pair's axis a (a = 0
 * when plain). -1 when the case breaks the spec (sections not summing to rot/2, interleaved without
 * 3 sections). */
int64_t ref_vllm_row(const ref_vllm_case *c, const int64_t *pos, int64_t t, int64_t j);

/* Rotates x (dense [T, heads * head_size]) (or, with backward, its transpose) with cache (dense [P, rot], row [cos | sin]) at positions
 * pos ([axes or 1][T]), writing want / perr (dense, like x). Returns 0, or -1 without writing when
 * the case breaks the spec (odd rot or above head_size, a position outside [0, P), bad sections). */
int ref_vllm_rotate(const ref_vllm_case *c, const double *x, const double *cache, const int64_t *pos, double *want,
                    double *perr);

#endif
