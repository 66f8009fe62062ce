/* SPDX-License-Identifier: MIT */
/* Random cases of the vLLM operator for the tests in this directory: shapes, layouts, dtypes,
 * positions and MRoPE sections drawn at random, the tensors built over guarded buffers, and the
 * float64 reference's expected outputs. */
#ifndef ROPE_TEST_VLLM_CASE_H
#define ROPE_TEST_VLLM_CASE_H

#include <stddef.h>
#include <stdint.h>

#include "reference.h"
#include "reference_vllm.h"
#include "rope.h"

enum { VC_LIMIT = 6000 /* q + k elements of a case */ };

typedef struct vllm_case {
    rope_vllm_attrs attrs;
    int64_t tokens, batch, seq; /* batch 0: positions [T]; else [B, S] */
    int q_rank3;                /* [T, H, head_size] tensors (positions [T] only) */
    int64_t hq, hk;             /* hk -1: key absent */
    int64_t rot, cache_rows;
    rope_dtype xt, ct, pt;      /* query/key, cache, positions */
    int mode;                   /* 0 out of place dense, 1 in place, 2 out of place strided, 3 fused QKV in place */
    int64_t gap;                /* extra elements per row in modes 2 and 3 */
} vllm_case;

/* A drawn case: its tensors (over buffers of their own, or one fused buffer) and references. */
typedef struct vllm_bufs {
    unsigned char *mem[4], *pristine[4]; /* buffers; NULL when unused */
    size_t bytes[4];
    int bi[4];          /* buffer of query, key, query_out, key_out */
    int64_t off[4];     /* element offset there */
    int64_t str[4];     /* row stride (elements) */
    void *cache, *pos;
    double *cache_v, *q_v, *k_v;   /* values read by the library (dense) */
    int64_t *pos_v;                /* [axes or 1][T] */
    rope_tensor positions, query, key, cache_t, query_out, key_out;
} vllm_bufs;

/* Draws a case (small, every feature on some draws). `mrope`: -1 random, 0 never, 1 always. */
void vc_draw(vllm_case *c, int mrope);
/* Gives half the drawn cases the later attributes: inverse, rope_dim_offset, ROPE_PARTIAL_SPLIT (at a
 * rot below head_size when the case has no MRoPE) or, when `permute` is set, pairs_to_halves. Call
 * between vc_draw and vc_build. */
void vc_layouts(vllm_case *c, int permute);
/* Allocates and fills the tensors; positions in [0, P) (all axes equal when `equal_axes`). */
void vc_build(const vllm_case *c, vllm_bufs *b, int equal_axes);
/* Restores the buffers to their first contents. */
void vc_restore(vllm_bufs *b);
void vc_free(vllm_bufs *b);
/* The reference for query (which 0) or key (1) into want / perr (dense [T, H*hs]). 0 on success.
 * vc_reference_backward: the backward pass's (query / key holding the gradients). */
int vc_reference(const vllm_case *c, const vllm_bufs *b, int which, double *want, double *perr);
int vc_reference_backward(const vllm_case *c, const vllm_bufs *b, int which, double *want, double *perr);
/* Compares an output (which 0/1) with want / perr and checks that no byte outside output elements
 * changed. Returns the number of failures; describes the first in msg. */
int vc_verify(const vllm_case *c, const vllm_bufs *b, int which, const double *want, const double *perr, char *msg,
              size_t n);
const char *vc_str(const vllm_case *c, char *buf, size_t n);

#endif
