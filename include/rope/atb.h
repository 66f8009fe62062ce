/* SPDX-License-Identifier: MIT */
/* Part of rope.h (the ATB RopeOperation and the operation lifecycle):
 * include <rope.h>, not this file. The parts are rope.h split by subject;
 * rope.h includes each once, in the order of its table of contents. */
#ifndef ROPE_PART_ATB_H
#define ROPE_PART_ATB_H

#ifndef ROPE_H
#error "include <rope.h>, not its parts"
#endif

/* ---------------------------------------------------------------------------------------------- */
/* ATB RopeOperation                                                                               */
/* ---------------------------------------------------------------------------------------------- */

/* Mirrors atb::infer::RopeParam. Use ROPE_ATB_PARAM_INIT for ATB's defaults; functions taking a
 * `const rope_atb_param *` accept NULL for the defaults. */
typedef struct rope_atb_param {
    int32_t rotary_coeff; /* 2, 4 or D (= cos.dims[1]); D % rotary_coeff == 0 */
    int32_t cos_format;   /* 0: cos row = token index; 1: row = position inside its packed sequence */
    /* librope's partial rotation, in what were ATB's first reserved bytes (0 keeps ATB's meaning):
     * a rope_partial. ROPE_PARTIAL_LEADING: every D-wide chunk of a row is rotated (ATB); head_size
     * must be 0. ROPE_PARTIAL_SPLIT: rows are heads of head_size elements (even, >= D, dividing both
     * hidden sizes), rotary_coeff 2; in each head element j < D/2 pairs with head_size/2 + j, j taking
     * cos/sin[j] and its partner cos/sin[D/2 + j] (the D-wide rotate-half row), every other element
     * copied. */
    uint8_t partial;
    uint8_t rsv[3];    /* reserved, must be zero */
    int32_t head_size; /* ROPE_PARTIAL_SPLIT: the head size; otherwise 0 */
} rope_atb_param;

#define ROPE_ATB_PARAM_INIT                                                                                            \
    { 4, 0, ROPE_PARTIAL_LEADING, {0, 0, 0}, 0 }

/*
 * Shape inference for ATB Rope: ropeQ and ropeK get query's and key's dtype, rank and dims (data
 * NULL, row_stride 0). Checks everything rope_atb_rope checks that does not need data.
 */
ROPE_API rope_status rope_atb_infer(const rope_atb_param *param, const rope_tensor *query, const rope_tensor *key,
                                    const rope_tensor *cos, const rope_tensor *sin, const rope_tensor *seqlen,
                                    rope_tensor *rope_q_out, rope_tensor *rope_k_out);

/*
 * ropeQ, ropeK = Rope(query, key, cos, sin, seqlen) with ATB semantics, in one pass over the tokens
 * (a token's q and k rows are rotated together with one cos/sin row).
 *   query: [ntokens, hiddenQ] or [batch, seq, headsQ, head_size]; f16, bf16 or f32.
 *   key:   same rank and dtype, same ntokens, hiddenQ % hiddenK == 0.
 *   cos, sin: 2-D [rows, D], identical shapes. D = cos.dims[1] is the rotated chunk width: every
 *          D-wide chunk of a q/k row is rotated with the token's cos/sin row. Dtypes: f16 with f16
 *          q/k, f32 with f16 q/k, bf16 with bf16, f32 with f32.
 *   seqlen: 1-D [batch], i32 or u32. With cos_format 1, tokens are packed sequence after sequence
 *          and each sequence restarts at cos row 0; sum(seqlen) must equal ntokens.
 *   rope_q, rope_k: same dtype and dims as query / key, data set; each may be its own input (in
 *          place) and must not otherwise overlap any input or each other.
 * Element i of a row (d = i % D, rs = D / rotary_coeff) pairs with i + rs when d % (2*rs) < rs
 * (out = x*cos[d] - x[i+rs]*sin[d]) and with i - rs otherwise (out = x*cos[d] + x[i-rs]*sin[d]).
 * Errors: NULL_ARGUMENT, DTYPE, RANK, SHAPE (dims disagree, hiddenK 0, hiddenQ % hiddenK, hidden
 * not a multiple of D, odd D, fewer cos rows than tokens with cos_format 0), ATTRIBUTE (coefficient
 * not 2, 4 or D or not dividing D, cos_format, nonzero reserved byte), INDEX (with cos_format 1: a
 * seqlen value negative or above the cos rows, or seqlen not adding up to ntokens), STRIDE, ALIASING.
 * The seqlen values are read only with cos_format 1 (its data may then be NULL otherwise).
 */
ROPE_API rope_status rope_atb_rope(rope_context *ctx, const rope_atb_param *param, const rope_tensor *query,
                                   const rope_tensor *key, const rope_tensor *cos, const rope_tensor *sin,
                                   const rope_tensor *seqlen, const rope_tensor *rope_q, const rope_tensor *rope_k);

/* ---------------------------------------------------------------------------------------------- */
/* Operation lifecycle (as ATB's atb::Operation)                                                   */
/* ---------------------------------------------------------------------------------------------- */

typedef struct rope_operation rope_operation;

/* The tensors of one execution: inputs in the operator's order (ONNX: X, cos_cache, sin_cache,
 * position_ids, where position_ids may be left out (n_inputs 3) or given with rank 0 to mean absent;
 * ATB: query, key, cos, sin, seqlen; vLLM: positions, query, key, cos_sin_cache, see
 * rope_operation_create_vllm) and outputs (ONNX: Y; ATB: ropeQ, ropeK; vLLM: query_out, key_out). */
typedef struct rope_variant_pack {
    const rope_tensor *inputs;
    size_t n_inputs;
    const rope_tensor *outputs;
    size_t n_outputs;
} rope_variant_pack;

/* Creates an operation from its parameters, validated now (ATTRIBUTE on a bad value).
 * Errors: NULL_ARGUMENT, ATTRIBUTE, OUT_OF_MEMORY. The parameters are copied. */
ROPE_API rope_status rope_operation_create_onnx(const rope_onnx_attrs *attrs, rope_operation **out);
ROPE_API rope_status rope_operation_create_atb(const rope_atb_param *param, rope_operation **out);

/* Frees an operation. NULL is a no-op. */
ROPE_API void rope_operation_destroy(rope_operation *op);

/* Number of inputs (ONNX 4, the last optional; ATB 5; vLLM 4, key optional; QK-norm + RoPE 5; RoPE +
 * KV cache 10, the weights optional) and outputs (ONNX 1; ATB 2; vLLM 2; QK-norm + RoPE 1; RoPE + KV
 * cache 4). */
ROPE_API size_t rope_operation_input_count(const rope_operation *op);
ROPE_API size_t rope_operation_output_count(const rope_operation *op);

/* Infers the output descriptors from input descriptors (data not read). `outputs` must have room
 * for rope_operation_output_count(op) descriptors. Errors: as the operator's infer function, and
 * SHAPE when n_inputs is not a count the operator takes. */
ROPE_API rope_status rope_operation_infer_shape(const rope_operation *op, const rope_tensor *inputs, size_t n_inputs,
                                                rope_tensor *outputs, size_t n_outputs);

/* Validates every tensor of `pack` (shapes, dtypes, data values, aliasing) and remembers it for
 * execute. *workspace_size receives the bytes execute needs (0 for these operators).
 * An operation holds one setup at a time: a failed setup also forgets the previous one (execute then
 * fails with ROPE_ERROR_STATE until a setup succeeds). Not thread-safe: one operation per thread. */
ROPE_API rope_status rope_operation_setup(rope_operation *op, const rope_variant_pack *pack, size_t *workspace_size);

/* Runs the operation on the pack given to setup, which must be the same pack (same descriptors and
 * data pointers; the data may have changed). Errors: STATE (no setup, or a different pack),
 * WORKSPACE (workspace_size below what setup reported), and INDEX if data values changed to invalid
 * ones since setup. */
ROPE_API rope_status rope_operation_execute(rope_operation *op, const rope_variant_pack *pack, void *workspace,
                                            size_t workspace_size, rope_context *ctx);

#endif /* ROPE_PART_ATB_H */
