/* SPDX-License-Identifier: MIT */
/* Part of rope.h (on-the-fly mode):
 * include <rope.h>, not this file. The parts are rope.h split by subject;
 * rope.h includes each once, in the order of its table of contents. */
#ifndef ROPE_PART_FLY_H
#define ROPE_PART_FLY_H

#ifndef ROPE_H
#error "include <rope.h>, not its parts"
#endif

/* ---------------------------------------------------------------------------------------------- */
/* On the fly: positions and frequencies instead of cos/sin tensors                               */
/* ---------------------------------------------------------------------------------------------- */

/*
 * Both operators can compute their cos/sin values themselves, from each token's position and a
 * rope_freq_config, instead of reading tables. The values are those rope_cache_fill computes, to
 * the bit: attention * cos(pos * inv_freq[i]) from the exact angle, rounded once from float64 to
 * the cos/sin dtype (float32: within 2 ulp of exact, in practice correctly rounded, for positions
 * up to 2^24 and beyond). So the result is bitwise that of the table operator run on a cache that
 * rope_cache_fill built with the same configuration and dtype (ROPE_CACHE_HALF for ONNX,
 * ROPE_CACHE_FULL with the call's rotary_coeff for ATB), and no table is stored or read.
 */

/* How rope_fly.positions gives each token's position. */
typedef enum rope_positions_kind {
    /* One position per token: ONNX [batch, seq] (as position_ids), ATB [ntokens]. */
    ROPE_POSITIONS_PER_TOKEN = 0,
    /* One start offset per sequence; token i of a sequence is at start + i. The sequences are ONNX's
     * batch rows (positions [batch]) or ATB's packed sequences (positions [batch], seqlen's length;
     * seqlen gives their lengths, which must add up to ntokens). Offsets 0 give ATB cosFormat 1. */
    ROPE_POSITIONS_PER_SEQUENCE = 1
} rope_positions_kind;

/* The on-the-fly inputs. */
typedef struct rope_fly {
    const rope_freq_config *freq; /* the frequencies (rope_freq_config above); required. Its rotary_dim
                                     is the rotated width: ONNX r (rotary_embedding_dim, or head_size
                                     when that is 0), ATB the chunk width D, vLLM rot */
    rope_positions_kind kind;
    rope_tensor positions; /* i64 (vLLM: or i32), dense, shaped as `kind` says; every value >= 0 */
    rope_dtype cs_dtype;   /* the dtype cos/sin are rounded to, as a cache of that dtype would
                              be: 0 means the data's dtype. ONNX: the data's dtype only; ATB:
                              as rope_atb_rope's cos (f16 data may take ROPE_F32);
                              vLLM: the query's or ROPE_F32 */
} rope_fly;

/*
 * Y = RotaryEmbedding(X) with cos/sin computed from fly (see above). attrs, X and Y as in
 * rope_onnx_rotary_embedding (without caches and position_ids: fly replaces them). Y may be X (in
 * place) and must not otherwise overlap X or the positions.
 * Errors: those of rope_onnx_rotary_embedding for X, Y and the attributes; NULL_ARGUMENT (fly,
 * fly->freq, positions data); ATTRIBUTE (fly->freq as rope_freq_compute reports it, freq->rotary_dim
 * not equal to r, kind not one of the two); DTYPE (positions not i64, cs_dtype not X's); RANK and
 * SHAPE (positions not [batch, seq] or [batch]); STRIDE (positions not dense); INDEX (a position
 * below 0, a last position past 2^53, or an angle position * inv_freq reaching 2^46 rad, as
 * rope_cache_fill); ALIASING; OUT_OF_MEMORY (frequency tables, a few tens of KiB, and a scratch of
 * cos/sin rows per thread). Nothing is written on error. Threading: ctx's threads; concurrent calls
 * are safe. The `_backward` form computes dX from dY (dY in X's place, dX in Y's), as
 * rope_onnx_rotary_embedding_backward does with the same values.
 */
ROPE_API rope_status rope_onnx_rotary_embedding_fly(rope_context *ctx, const rope_onnx_attrs *attrs,
                                                    const rope_tensor *x, const rope_fly *fly, const rope_tensor *y);
ROPE_API rope_status rope_onnx_rotary_embedding_fly_backward(rope_context *ctx, const rope_onnx_attrs *attrs,
                                                             const rope_tensor *dy, const rope_fly *fly,
                                                             const rope_tensor *dx);

/*
 * ropeQ, ropeK = Rope(query, key) with cos/sin computed from fly. param, query, key, seqlen, ropeQ
 * and ropeK as in rope_atb_rope, with D = fly->freq->rotary_dim (no cos tensor gives it) and
 * param->cos_format not used (fly's positions say where each token is; it must still be 0 or 1).
 * seqlen's values are read only with ROPE_POSITIONS_PER_SEQUENCE: each >= 0, adding up to ntokens.
 * Outputs may be their own inputs (in place) and must not otherwise overlap any input or positions.
 * Errors: those of rope_atb_rope for query, key, seqlen, outputs and param; NULL_ARGUMENT,
 * ATTRIBUTE, DTYPE (positions not i64; cs_dtype not a cos dtype rope_atb_rope takes with this
 * query), RANK, SHAPE (positions not [ntokens] or [batch]), STRIDE, INDEX, ALIASING and OUT_OF_MEMORY
 * as rope_onnx_rotary_embedding_fly. Nothing is written on error. Threading: as rope_atb_rope. The
 * `_backward` form computes (dq, dk) from the gradients of ropeQ and ropeK, as
 * rope_atb_rope_backward does with the same values.
 */
ROPE_API rope_status rope_atb_rope_fly(rope_context *ctx, const rope_atb_param *param, const rope_tensor *query,
                                       const rope_tensor *key, const rope_fly *fly, const rope_tensor *seqlen,
                                       const rope_tensor *rope_q, const rope_tensor *rope_k);
ROPE_API rope_status rope_atb_rope_fly_backward(rope_context *ctx, const rope_atb_param *param,
                                                const rope_tensor *grad_q, const rope_tensor *grad_k,
                                                const rope_fly *fly, const rope_tensor *seqlen, const rope_tensor *dq,
                                                const rope_tensor *dk);

/*
 * Multi-axis positions on the fly (vision towers, image and video diffusion; rope_cache_fill_axes in
 * "Cos/sin caches" above): each token has A coordinates and the operators compute its row of rot/2
 * pairs themselves, axis 0's pairs first, pair j of axis a at pos[t][a] * inv_a[j], each value
 * rounded once from float64 to the cos/sin dtype exactly as rope_cache_fill_axes rounds it. So the
 * result is bitwise that of the table operator on the per-token tables rope_cache_fill_axes fills
 * from the same configuration and positions (ONNX: ROPE_CACHE_HALF as the 3-D [batch, seq, rot/2]
 * caches; ATB: ROPE_CACHE_FULL with the call's rotary_coeff, cosFormat 0; vLLM: ROPE_CACHE_VLLM as a
 * cos_sin_cache with positions 0 .. T-1), and no table is stored or read. The rotated width rot is
 * the sum of axes->axes_dims (ONNX r, ATB D, vLLM rot).
 *
 * Versioned like rope_axes_config: start from ROPE_FLY_AXES_INIT (struct_size set, every other field
 * 0), then set the fields; the library reads only what the caller's struct_size covers. A
 * struct_size of 0, below the first layout or above sizeof(rope_fly_axes) is refused with
 * ROPE_ERROR_ATTRIBUTE naming fly->struct_size.
 */
typedef struct rope_fly_axes {
    size_t struct_size;           /* sizeof(rope_fly_axes), as ROPE_FLY_AXES_INIT sets it */
    const rope_axes_config *axes; /* the axes' widths, bases, frequency layout, attention; required */
    rope_tensor positions;        /* each token's A coordinates, dense: i64 or i32 (|value| <= 2^53) or
                                     f32 or f64 (any finite value, fractional and negative ones too),
                                     the angles below 2^46 rad, as rope_cache_fill_axes takes them.
                                     ONNX: [batch*seq, A], [batch, seq, A], or [seq, A] (every batch
                                     row at the same coordinates); ATB: [ntokens, A]; vLLM: [T, A], or
                                     [B, S, A] with a [B, S, H*hs] query */
    rope_dtype cs_dtype;          /* the dtype values are rounded to, as a table of that dtype would be:
                                     0 means the data's dtype; as rope_fly.cs_dtype per operator */
} rope_fly_axes;

#define ROPE_FLY_AXES_INIT                                                                                             \
    { sizeof(rope_fly_axes), NULL, {NULL, ROPE_DTYPE_INVALID, 0, {0}, 0}, ROPE_DTYPE_INVALID }

/*
 * Y = RotaryEmbedding(X) with cos/sin computed from multi-axis positions (see above). attrs, X and Y
 * as in rope_onnx_rotary_embedding_fly; r (rotary_embedding_dim, or head_size when 0) must be the
 * axes' rot. Y may be X (in place) and must not otherwise overlap X or the positions.
 * Errors: those of rope_onnx_rotary_embedding for X, Y and the attributes; NULL_ARGUMENT (fly,
 * fly->axes, positions data); ATTRIBUTE (fly->struct_size; fly->axes as rope_cache_fill_axes reports
 * its cfg, named fly->axes->...; the axes' rot not equal to r); DTYPE (positions not i64, i32, f32
 * or f64; cs_dtype not X's); RANK and SHAPE (positions not one of the shapes above, dim -1 not
 * n_axes); STRIDE (positions not dense); INDEX (a non-finite coordinate, an i64 beyond 2^53, an angle
 * reaching 2^46 rad: the message names the token and the axis); ALIASING; OUT_OF_MEMORY. Nothing is
 * written on error. Threading: ctx's threads; concurrent calls are safe. The `_backward` form
 * computes dX from dY as rope_onnx_rotary_embedding_backward does with the same values.
 */
ROPE_API rope_status rope_onnx_rotary_embedding_fly_axes(rope_context *ctx, const rope_onnx_attrs *attrs,
                                                         const rope_tensor *x, const rope_fly_axes *fly,
                                                         const rope_tensor *y);
ROPE_API rope_status rope_onnx_rotary_embedding_fly_axes_backward(rope_context *ctx, const rope_onnx_attrs *attrs,
                                                                  const rope_tensor *dy, const rope_fly_axes *fly,
                                                                  const rope_tensor *dx);

/*
 * ropeQ, ropeK = Rope(query, key) with cos/sin computed from multi-axis positions, one row of
 * coordinates per token (positions [ntokens, A]). param, query, key, seqlen (checked as
 * rope_atb_rope checks it; its values are not read), ropeQ and ropeK as in rope_atb_rope_fly, with
 * D = the axes' rot; param->cos_format must be 0 or 1 and is not used. Outputs may be their own
 * inputs and must not otherwise overlap any input or the positions.
 * Errors: those of rope_atb_rope for query, key, seqlen, outputs and param, and those of
 * rope_onnx_rotary_embedding_fly_axes for fly (cs_dtype: a cos dtype rope_atb_rope takes with this
 * query). Nothing is written on error. Threading: as rope_atb_rope. The `_backward` form computes
 * (dq, dk) as rope_atb_rope_backward does with the same values.
 */
ROPE_API rope_status rope_atb_rope_fly_axes(rope_context *ctx, const rope_atb_param *param, const rope_tensor *query,
                                            const rope_tensor *key, const rope_fly_axes *fly, const rope_tensor *seqlen,
                                            const rope_tensor *rope_q, const rope_tensor *rope_k);
ROPE_API rope_status rope_atb_rope_fly_axes_backward(rope_context *ctx, const rope_atb_param *param,
                                                     const rope_tensor *grad_q, const rope_tensor *grad_k,
                                                     const rope_fly_axes *fly, const rope_tensor *seqlen,
                                                     const rope_tensor *dq, const rope_tensor *dk);

#endif /* ROPE_PART_FLY_H */
