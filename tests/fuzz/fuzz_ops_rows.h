/* SPDX-License-Identifier: MIT */
/*
 * What the rows of the ops fuzzer share across their files: the builders' helpers of
 * fuzz_ops_table.c that the multi-axis rows (fuzz_ops_axes.c) reuse, and those rows' attributes
 * and functions, which ops_table[] lists.
 */
#ifndef ROPE_FUZZ_OPS_ROWS_H
#define ROPE_FUZZ_OPS_ROWS_H

#include "fuzz_ops.h"

/* The attributes of a row's call (NULL when the harness nulls them). */
#define ONNX_ATTRS(c) ((c)->attrs_null ? NULL : (const rope_onnx_attrs *)(const void *)(c)->attrs)
#define ATB_PARAM(c) ((c)->attrs_null ? NULL : (const rope_atb_param *)(const void *)(c)->attrs)
#define VLLM_ATTRS(c) ((c)->attrs_null ? NULL : (const rope_vllm_attrs *)(const void *)(c)->attrs)

/* A random float dtype of data (f32, f16, bf16). */
rope_dtype fz_float_dtype(void);
/* The ONNX X of slot 0 (and Y of slot y): its batch and seq; returns the rotary width. */
int64_t fz_onnx_x(fz_call *c, int y, int64_t *batch, int64_t *seq);
/* ATB's query and key at slots l, l+1 (outputs at o, o+1): tokens, batch, longest; returns D. */
int64_t fz_atb_qk(fz_call *c, int l, int o, int64_t *ntok, int64_t *batch, int64_t *longest);
/* vLLM's positions (p), query and key (q, q+1), outputs (o, o+1), positions below hi; returns rot. */
int64_t fz_vllm_qk(fz_call *c, int p, int q, int o, int64_t hi);

/* rope_cache_fill_axes' attribute bytes: its configuration and scalar arguments. */
typedef struct axes_attrs {
    rope_axes_config cfg;
    int32_t layout, coeff;
} axes_attrs;

/* The rope_*_fly_axes rows' attribute bytes: the operator's, the axes configuration and
 * rope_fly_axes' struct_size. */
typedef struct fly_axes_attrs {
    union {
        rope_onnx_attrs onnx;
        rope_atb_param atb;
        rope_vllm_attrs vllm; /* first: fuzz_ops.c reads a vLLM row's attributes at offset 0 */
    } op;
    rope_axes_config cfg;
    size_t fly_size;
} fly_axes_attrs;

void b_axes_int(fz_call *c);
void b_axes_float(fz_call *c);
void b_axes_int_alt(fz_call *c);
void b_axes_float_alt(fz_call *c);
rope_status c_axes(rope_context *x, const fz_call *c, const rope_tensor *const *in, const rope_tensor *const *out);
void b_onnx_fly_axes(fz_call *c);
void b_atb_fly_axes(fz_call *c);
void b_vllm_fly_axes(fz_call *c);
rope_status c_onnx_fly_axes(rope_context *x, const fz_call *c, const rope_tensor *const *in,
                            const rope_tensor *const *out);
rope_status c_onnx_fly_axes_bwd(rope_context *x, const fz_call *c, const rope_tensor *const *in,
                                const rope_tensor *const *out);
rope_status c_atb_fly_axes(rope_context *x, const fz_call *c, const rope_tensor *const *in,
                           const rope_tensor *const *out);
rope_status c_atb_fly_axes_bwd(rope_context *x, const fz_call *c, const rope_tensor *const *in,
                               const rope_tensor *const *out);
rope_status c_vllm_fly_axes(rope_context *x, const fz_call *c, const rope_tensor *const *in,
                            const rope_tensor *const *out);
rope_status c_vllm_fly_axes_bwd(rope_context *x, const fz_call *c, const rope_tensor *const *in,
                                const rope_tensor *const *out);

#endif
