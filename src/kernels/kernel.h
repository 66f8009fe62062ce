/* SPDX-License-Identifier: MIT */
/*
 * The contract between the engine and the per-instruction-set kernels.
 *
 * A kernel call rotates `heads` head vectors of `head_size` elements: the n-th at x + n*x_head_stride
 * (elements of x_dtype), written to y + n*y_head_stride. They are a token's heads, all with the same
 * cos/sin row (shape.cs_step 0), or one head over a run of consecutive tokens, the n-th with the row
 * cs_step elements further. Within the rotated prefix [0, rot), with ps the pair stride, element
 * g*2*ps + j (j < ps) pairs with g*2*ps + j + ps; elements [rot, head_size) are copied (and the
 * `lead` elements before the head, and with `split` other pairs: see the shape). y may equal x
 * (same stride): every pair is read before it is written.
 *
 *   cos_full = 0: a cos/sin row holds rot/2 values (the cos width); the pair (a, b) with index
 *                 p = g*ps + j uses c = cos[p], s = sin[p]:
 *                 y[a] = x[a]*c - x[b]*s,  y[b] = x[a]*s + x[b]*c                      (ONNX, vLLM)
 *   cos_full = 1: a row holds rot values; each element uses its own index:
 *                 y[a] = x[a]*cos[a] - x[b]*sin[a],  y[b] = x[b]*cos[b] + x[a]*sin[b]  (ATB)
 *
 * Arithmetic: float32, each product rounded, then one add or subtract, rounded once to x_dtype.
 * Every kernel must give bitwise the results of the portable one (kernels/scalar.c), except the
 * payload of a NaN made from two NaN operands (x86 and ARM pick different operands' payloads).
 */
#ifndef ROPE_KERNEL_H
#define ROPE_KERNEL_H

#include <stddef.h>
#include <math.h>
#include <stdint.h>

#include "rope.h"

typedef struct rope_kernel_shape {
    rope_dtype x_dtype;  /* x and y: f32, f16 or bf16 */
    rope_dtype cs_dtype; /* cos and sin: f32, f16 or bf16 */
    size_t head_size;
    size_t rot;         /* the rotated width: even, <= head_size, a multiple of 2 * pair_stride */
    size_t pair_stride; /* >= 1: the distance between the two elements of a pair */
    int cos_full;
    /* 1: y is far larger than the last-level cache and does not alias x, so a kernel may write it
     * with non-temporal (streaming) stores. Never changes results. Kernels do not order those
     * stores: the caller calls its set's `fence` once a block of calls is done, before the outputs
     * are read or another thread is told they are ready. */
    int nontemporal;
    /* Elements of cs_dtype from one head vector's cos/sin row to the next one's: 0 when all the
     * head vectors of a call share one row (the heads of a token); the table's row stride when they
     * are consecutive tokens of one head (the engine's walk over 4-D ONNX input, where a head's
     * tokens are adjacent in memory). Never changes results. */
    ptrdiff_t cs_step;
    /* Elements just before each head vector that belong to it and are copied like the tail (vLLM's
     * rope_dim_offset: the front end points x and y `lead` elements into each head, and head_size
     * counts from there): y[-lead, 0) gets x[-lead, 0) when y is not x. 0: none. */
    size_t lead;
    /* Split-half partial rotation (Gemma 4's proportional rope): the pairs are (j, j + pair_stride)
     * for j < rot/2, with pair_stride = head_size/2 > rot/2 (one group, not rot/(2*pair_stride));
     * cos/sin index j (half width) or j and rot/2 + j (full width, a rotary_coeff-2 row of rot
     * values); [rot/2, pair_stride) and [pair_stride + rot/2, head_size) are copied. */
    int split;
} rope_kernel_shape;

/* The distance between the cos/sin values of a pair's two elements in a full-width row: the pair
 * stride, or rot/2 for the split layout. */
static inline size_t rope_cos_pair_stride(const rope_kernel_shape *shape) {
    return shape->split ? shape->rot / 2 : shape->pair_stride;
}

/* The cos width: values in a cos/sin row, rot (element-indexed, cos_full) or rot/2 (one per pair). */
static inline size_t rope_cos_width(const rope_kernel_shape *shape) {
    return shape->cos_full ? shape->rot : shape->rot / 2;
}

typedef void (*rope_kernel_fn)(const rope_kernel_shape *shape, const void *x, ptrdiff_t x_head_stride, void *y,
                             ptrdiff_t y_head_stride, size_t heads, const void *cos, const void *sin);

/*
 * The normalised rotation (QK-norm + RoPE, issue 16): the same call, with a transform between the
 * load and the rotation. Each head vector x is first scaled by RMSNorm,
 *     n[i] = x[i] * (r * weight[i]),   r = rope_rms_factor(rope_sum_squares order, head_size, eps),
 * then n is rotated as rope_kernel_fn rotates x (half-width rows only: one cos per pair), and the
 * tail [rot, head_size) gets n itself; one rounding to x_dtype per element. weight is head_size f32
 * values. A kernel is composed of the pieces every kernel uses: load (widen), transform (the sum of
 * squares in the fixed order below, then the scale), rotate (the four products and two adds),
 * store (narrow); so it rounds exactly as the portable one.
 */
typedef void (*rope_kernel_norm_fn)(const rope_kernel_shape *shape, const void *x, ptrdiff_t x_head_stride, void *y,
                                    ptrdiff_t y_head_stride, size_t heads, const void *cos, const void *sin,
                                    const float *weight, float eps);

/* The sum of squares of a head: ROPE_SQ_LANES partial sums, partial l adding the rounded squares of
 * elements l, l + 16, l + 32, ... in that order (from +0), then combined pairwise: p[l] += p[l + 8]
 * for l < 8, then += p[l + 4] for l < 4, += p[l + 2], += p[l + 1]. Independent of the vector width,
 * so every instruction set (4, 8 or 16 lanes) forms the same sums. */
#define ROPE_SQ_LANES 16

static inline float rope_sum_partials(const float *p) { /* the tree written out: its adds stay in registers */
    float a0 = p[0] + p[8], a1 = p[1] + p[9], a2 = p[2] + p[10], a3 = p[3] + p[11];
    float a4 = p[4] + p[12], a5 = p[5] + p[13], a6 = p[6] + p[14], a7 = p[7] + p[15];
    float b0 = a0 + a4, b1 = a1 + a5, b2 = a2 + a6, b3 = a3 + a7;
    float c0 = b0 + b2, c1 = b1 + b3;
    return c0 + c1;
}

/* r = 1 / sqrt(sum / head_size + eps), each operation rounded once in float32 (sqrtf and the
 * division are correctly rounded everywhere). */
static inline float rope_rms_factor(float sum, size_t head_size, float eps) {
    float mean = sum / (float)head_size;
    return 1.0f / sqrtf(mean + eps);
}

/* The store piece of a cache write (kernels/store_body.h): `heads` head vectors of head_size
 * elements (src + h*src_head_stride, in src_dtype) written to dst + h*dst_head_stride in dst_dtype:
 * the same dtype (bits copied) or fp8 (ROPE_FP8_E4M3 / ROPE_FP8_E5M2: each value widened to
 * float32, divided by scale in float32, converted by core/fp8.h). Strides in elements of each side's
 * dtype. nontemporal: a hint that dst will not be read soon, so a build may write its aligned whole
 * lines with streaming stores (never changes the bytes); the caller then calls its set's `fence`
 * before the cache is read or another thread is told it is written. A set without a fence never
 * streams. */
typedef void (*rope_store_fn)(rope_dtype src_dtype, const void *src, ptrdiff_t src_head_stride, rope_dtype dst_dtype,
                              void *dst, ptrdiff_t dst_head_stride, size_t heads, size_t head_size, float scale,
                              int nontemporal);
void rope_kernel_store__scalar(rope_dtype src_dtype, const void *src, ptrdiff_t src_head_stride, rope_dtype dst_dtype,
                               void *dst, ptrdiff_t dst_head_stride, size_t heads, size_t head_size, float scale,
                               int nontemporal);
void rope_kernel_store__avx2(rope_dtype src_dtype, const void *src, ptrdiff_t src_head_stride, rope_dtype dst_dtype,
                             void *dst, ptrdiff_t dst_head_stride, size_t heads, size_t head_size, float scale,
                             int nontemporal);
void rope_kernel_store__avx512(rope_dtype src_dtype, const void *src, ptrdiff_t src_head_stride, rope_dtype dst_dtype,
                               void *dst, ptrdiff_t dst_head_stride, size_t heads, size_t head_size, float scale,
                               int nontemporal);

/*
 * Kernels by name. Every kernel of every set is a function of its own, named by one scheme and listed
 * by its set (rope_kernel_set.kernel_at) with the shapes it serves, so that a test or `rope bench
 * --kernel NAME` runs one on its own and a profile names it. The instruction set comes last, after a
 * double underscore (as XNNPACK's xnn_f32_vcmul_ukernel__avx512f_u16):
 *
 *   rope_kernel_rot_<x>_cos<c>_<path>_<width>[_ps<N>]__<isa>   the rotation (rope_kernel_fn)
 *   rope_kernel_norm_<x>_cos<c>_<path>_half[_ps<N>]__<isa>     the normalised rotation (rope_kernel_norm_fn)
 *   rope_kernel_store__<isa>                                   the store piece (rope_store_fn)
 *
 *   <x>      the dtype of x and y: f32, f16, bf16
 *   cos<c>   the dtype of cos and sin: cosf32, cosf16, cosbf16
 *   <path>   the layouts it walks (rope_kernel_path): any, blocked, pairs, split
 *   <width>  half: one cos/sin value per pair (cos_full 0); full: one per element (cos_full 1)
 *   _ps<N>   pairs only: the one pair stride it is built for
 *   <isa>    scalar (portable C), avx2, avx512 (bf16 narrowed in integer arithmetic), avx512bf16
 *            (bf16 narrowed by vcvtneps2bf16: listed by the avx512 set, runnable where the CPU has
 *            AVX512_BF16), neon
 *
 * e.g. rope_kernel_rot_f16_cosf32_blocked_half__avx512 (vLLM halves, f16 data, an f32 cache),
 * rope_kernel_rot_bf16_cosbf16_pairs_full_ps1__avx2, rope_kernel_norm_bf16_cosf32_blocked_half__avx512bf16.
 * The rotation of a SIMD kernel runs in a leaf named <name>_loop (simd_paths.h, K_ROT_KERNEL), where a
 * profile shows its time; <name> calls it, then copies the tail and lead.
 */
typedef enum rope_kernel_kind { ROPE_KERNEL_ROT, ROPE_KERNEL_NORM, ROPE_KERNEL_STORE } rope_kernel_kind;

/* The layouts a kernel walks (<path> in its name). */
typedef enum rope_kernel_path {
    ROPE_PATH_ANY,     /* every layout of the contract, split included (the portable kernels) */
    ROPE_PATH_BLOCKED, /* any pair stride, not split: each run of ps elements a vector at a time (best
                        * for ps >= the vector width: halves, ATB coefficients 2 and 4 on wide heads) */
    ROPE_PATH_PAIRS,   /* the pair stride `pair_stride` only (below the vector width), not split: both
                        * elements of a pair in one vector (interleaved pairs, ATB coefficient D) */
    ROPE_PATH_SPLIT    /* the split layout only */
} rope_kernel_path;

typedef struct rope_kernel_info {
    const char *name;          /* the function's own name (the scheme above) */
    rope_kernel_kind kind;
    rope_isa isa;              /* the set that lists it */
    int (*cpu_has)(void);      /* 1 when the running CPU can execute it */
    rope_dtype x_dtype;        /* x and y; ROPE_DTYPE_INVALID for the store piece (any, told per call) */
    rope_dtype cs_dtype;       /* cos and sin; ROPE_DTYPE_INVALID for the store piece */
    rope_kernel_path path;     /* the store piece: ROPE_PATH_ANY */
    int cos_full;              /* the cos width it reads (rotations; 0 for the others) */
    size_t pair_stride;        /* ROPE_PATH_PAIRS: the pair stride it serves; else 0 */
    rope_kernel_fn rot;        /* ROPE_KERNEL_ROT; else NULL */
    rope_kernel_norm_fn norm;  /* ROPE_KERNEL_NORM; else NULL */
    rope_store_fn store;       /* ROPE_KERNEL_STORE; else NULL */
} rope_kernel_info;

/* 1 when kernel `k` computes `shape` as the contract says: a rotation or normalised kernel of the
 * shape's dtypes and cos width whose path covers its layout (the normalised ones: half width only;
 * they have no split layout nor lead, which the operators with a norm never give); the store piece
 * serves every shape. Selection never picks a kernel that does not serve the shape
 * (tests/kernels/test_kernels_by_name.c). */
int rope_kernel_serves(const rope_kernel_info *k, const rope_kernel_shape *shape);

/* The kernel called `name` in any set this build has (whether or not the CPU can run it), or NULL. */
const rope_kernel_info *rope_kernel_named(const char *name);

/* One instruction set's kernels, defined by its kernel file. Adding an ISA takes that file (its
 * primitives, its K_FAMILY / K_NORM_FAMILY lines, which define and name its kernels, its tables and
 * this struct), its extern line below, its registry entry in dispatch.c, a cmake/kernels.cmake line,
 * a rope_isa value and its name: docs/ARCHITECTURE.md, "Adding an instruction set", has the list.
 * Adding a layout variant to every SIMD set is one K_ROT_KERNEL line and one K_ROT_INFO row in
 * simd_paths.h's K_FAMILY, with its k_layout value and its case in k_layout_of (a portable kernel:
 * a scalar.c line and its row in that file's list): the function, its name, its list entry and its
 * selection all come from those lines (docs/ARCHITECTURE.md, "Adding a kernel"). */
typedef struct rope_kernel_set {
    rope_isa isa;
    /* 1 when the running CPU (and OS) can execute this set. */
    int (*cpu_has)(void);
    /* The kernel for `shape`, or NULL when this set has none (the engine then uses the portable one). */
    rope_kernel_fn (*select)(const rope_kernel_shape *shape);
    /* Orders the streaming stores of this set's kernels before later stores; NULL when its kernels
     * never stream. One fence per block instead of one per call: a fence waits for every
     * write-combining buffer to drain, and ATB calls write as little as 2 KiB (the key heads of a
     * token). */
    void (*fence)(void);
    /* The normalised rotation for `shape` (half-width rows), or NULL (the portable one is used). */
    rope_kernel_norm_fn (*select_norm)(const rope_kernel_shape *shape);
    /* The store piece built for this set (store_<isa>.c), or NULL (the portable build). */
    rope_store_fn store_heads;
    /* Kernel i of this set (every one select, select_norm and store_heads can return, each once, in a
     * fixed order), NULL for i past the last: the list that `select` and `select_norm` read too. */
    const rope_kernel_info *(*kernel_at)(size_t i);
} rope_kernel_set;

/* The set for `isa` if this build has it, else NULL. */
const rope_kernel_set *rope_kernels_for(rope_isa isa);

/* The best set this build has that the CPU can run. */
rope_isa rope_kernels_best(void);

/* The kernel of `set` for `shape`, falling back to the portable kernel. Never NULL for a valid shape. */
rope_kernel_fn rope_kernels_select(const rope_kernel_set *set, const rope_kernel_shape *shape);

/* The normalised rotation of `set` for `shape`, falling back to the portable one. */
rope_kernel_norm_fn rope_kernels_select_norm(const rope_kernel_set *set, const rope_kernel_shape *shape);



/* The store piece of `set` (its own build, or the portable one). */
rope_store_fn rope_kernels_store(const rope_kernel_set *set);

/* The permutation piece of the pairs-to-halves layout (kernels/permute.c). rope_pairs_to_halves: in
 * place, the rotated run [0, rot) of each head (h at y + h*y_head_stride), adjacent pairs
 * (e0 o0 e1 o1 ...), becomes halves (e0 e1 ... | o0 o1 ...). rope_halves_to_pairs: the inverse,
 * from x's heads into y's (y may be x; out of place the `lead` elements before each head and
 * [rot, head_size) are copied too). Strides in elements; only bits move. */
void rope_pairs_to_halves(rope_dtype dt, void *y, ptrdiff_t y_head_stride, size_t heads, size_t rot);
void rope_halves_to_pairs(rope_dtype dt, const void *x, ptrdiff_t x_head_stride, void *y, ptrdiff_t y_head_stride,
                          size_t heads, size_t lead, size_t rot, size_t head_size);

/* The sets, one per kernel file; only those the build compiles are defined (and registered in
 * dispatch.c). */
extern const rope_kernel_set rope_kernels_scalar;
extern const rope_kernel_set rope_kernels_avx2;
extern const rope_kernel_set rope_kernels_avx512;
extern const rope_kernel_set rope_kernels_neon;

#endif
