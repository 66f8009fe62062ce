/* SPDX-License-Identifier: MIT */
/*
 * librope: rotary position embedding (RoPE) on CPUs.
 *
 * This header is the manual. It declares everything a user calls:
 *   1. versions, dtypes, tensors, statuses and error messages;
 *   2. execution contexts (instruction set, threads);
 *   3. the ONNX RotaryEmbedding-23 operator;
 *   4. the Ascend Transformer Boost (ATB) RopeOperation;
 *   5. the operation lifecycle shared by the operators (create, infer shape, setup, execute, destroy);
 *   6. cos/sin caches from a model's RoPE configuration;
 *   7. the backward (training) form of the operators;
 *   8. on-the-fly mode: positions and frequencies instead of cos/sin tensors;
 *   9. the serving engines' rotary_embedding (vLLM, SGLang, FlashInfer, CANN), with MRoPE;
 *  10. the fused attention prologue: QK-norm + RoPE, RoPE + KV-cache write (vLLM);
 *  11. scalar f16 / bf16 conversions.
 *
 * Conventions that hold for every function below unless its comment says otherwise:
 *   - Every function that can fail returns a rope_status. On failure it writes nothing to any output
 *     tensor or output argument, and rope_last_error() describes the failure (which argument, which
 *     dimension, expected versus found) for the calling thread.
 *   - The library never aborts, never prints, and never touches memory outside the tensors it is given
 *     (a tensor's extent is defined by its dims and row_stride).
 *   - Compute functions take a rope_context *; NULL means the process-wide default context.
 *   - All arithmetic is float32, with every product rounded before it is added (no fused multiply-add);
 *     float16 / bfloat16 results are rounded once, to nearest even. Results are bitwise identical for
 *     every instruction set and thread count, with one exception: where NaN inputs meet, the result
 *     is a NaN, but which payload it carries may differ between instruction sets.
 */
#ifndef ROPE_H
#define ROPE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ROPE_API marks what the shared library exports; everything else in it is hidden. Define
 * ROPE_STATIC when linking the static library on Windows. */
#if defined(_WIN32) && !defined(ROPE_STATIC)
#ifdef ROPE_BUILDING
#define ROPE_API __declspec(dllexport)
#else
#define ROPE_API __declspec(dllimport)
#endif
#elif defined(__GNUC__) || defined(__clang__)
#define ROPE_API __attribute__((visibility("default")))
#else
#define ROPE_API
#endif

/* ---------------------------------------------------------------------------------------------- */
/* Versions                                                                                        */
/* ---------------------------------------------------------------------------------------------- */

#define ROPE_VERSION_MAJOR 0
#define ROPE_VERSION_MINOR 1
#define ROPE_VERSION_PATCH 0
#define ROPE_VERSION_NUMBER (ROPE_VERSION_MAJOR * 10000 + ROPE_VERSION_MINOR * 100 + ROPE_VERSION_PATCH)
#define ROPE_VERSION_STRING "0.1.0"

/* The version of the library actually linked, as ROPE_VERSION_NUMBER / ROPE_VERSION_STRING would
 * give it. Compare with the macros to detect a header / library mismatch. Thread-safe. */
ROPE_API unsigned rope_version_number(void);
ROPE_API const char *rope_version_string(void);

/* ---------------------------------------------------------------------------------------------- */
/* Tensors                                                                                         */
/* ---------------------------------------------------------------------------------------------- */

typedef enum rope_dtype {
    ROPE_DTYPE_INVALID = 0,
    ROPE_F32 = 1,  /* IEEE binary32 */
    ROPE_F16 = 2,  /* IEEE binary16, stored as uint16_t */
    ROPE_BF16 = 3, /* bfloat16 (upper half of a binary32), stored as uint16_t */
    ROPE_I32 = 4,
    ROPE_U32 = 5,
    ROPE_I64 = 6,
    ROPE_F64 = 7,      /* IEEE binary64: only where a function says so (rope_cache_fill_axes' coordinates) */
    ROPE_FP8_E4M3 = 8, /* OCP float8 e4m3fn (torch.float8_e4m3fn): KV caches only */
    ROPE_FP8_E5M2 = 9  /* OCP float8 e5m2 (torch.float8_e5m2): KV caches only */
} rope_dtype;

/* Size in bytes of one element, or 0 for a value that is not a rope_dtype. */
ROPE_API size_t rope_dtype_size(rope_dtype dtype);
/* "f32", "f16", "bf16", "i32", "u32", "i64", "f64", "fp8_e4m3", "fp8_e5m2", or "invalid". Never NULL. */
ROPE_API const char *rope_dtype_name(rope_dtype dtype);

#define ROPE_MAX_RANK 8

/*
 * A tensor descriptor. The library never owns or frees `data`.
 *
 * Elements are laid out row-major. A *row* is the unit one token occupies contiguously in the
 * operator's own layout: the last dimension, except for a 4-D ATB query/key [batch, seq, heads,
 * head_size] whose row is heads*head_size. `row_stride` is the distance, in elements, between the
 * starts of consecutive rows; 0 means dense (row_stride = row length). A larger stride lets q and k
 * be rotated where they sit inside a fused QKV buffer.
 *
 * For shape inference only dtype, rank, dims and row_stride (which must be valid) are read; data may
 * be NULL.
 */
typedef struct rope_tensor {
    void *data;
    rope_dtype dtype;
    int rank;
    int64_t dims[ROPE_MAX_RANK];
    int64_t row_stride;
} rope_tensor;

/* Number of elements (product of dims), or -1 if rank is out of [0, ROPE_MAX_RANK], a dim is
 * negative, or the product overflows int64. */
ROPE_API int64_t rope_tensor_numel(const rope_tensor *t);

/* ---------------------------------------------------------------------------------------------- */
/* Status and errors                                                                               */
/* ---------------------------------------------------------------------------------------------- */

typedef enum rope_status {
    ROPE_OK = 0,
    ROPE_ERROR_NULL_ARGUMENT = 1,  /* a required pointer (tensor, data, parameter) is NULL */
    ROPE_ERROR_DTYPE = 2,          /* a dtype, or a combination of dtypes, is not accepted */
    ROPE_ERROR_RANK = 3,           /* a tensor has a rank the operator does not take */
    ROPE_ERROR_SHAPE = 4,          /* a dimension does not match what the others imply */
    ROPE_ERROR_ATTRIBUTE = 5,      /* an attribute or parameter has a value outside its domain */
    ROPE_ERROR_INDEX = 6,          /* a position id or seqlen value lies outside its valid range */
    ROPE_ERROR_ALIASING = 7,       /* an output partially overlaps an input or another output */
    ROPE_ERROR_STRIDE = 8,         /* a row_stride is negative or smaller than its row */
    ROPE_ERROR_OUT_OF_MEMORY = 9,  /* an allocation failed */
    ROPE_ERROR_UNSUPPORTED = 10,   /* a request this build or this CPU cannot serve (e.g. an ISA) */
    ROPE_ERROR_STATE = 11,         /* a lifecycle call out of order (execute before setup, ...) */
    ROPE_ERROR_WORKSPACE = 12,     /* the workspace given to execute is smaller than setup asked */
    ROPE_STATUS_COUNT_ = 13
} rope_status;

/* A short readable name for a status ("ROPE_ERROR_SHAPE: tensor dimension mismatch"), never NULL;
 * an unknown value gives "unknown rope_status". Thread-safe. */
ROPE_API const char *rope_status_string(rope_status status);

/* The message of the last failure of a librope call on the calling thread, such as
 * "rope_onnx_rotary_embedding: cos_cache dim 1: expected 4 (rotary_embedding_dim/2), found 3".
 * Successful calls leave it unchanged. Empty string if nothing failed yet. The pointer stays valid
 * until the thread's next failing call. Thread-safe (per-thread storage). */
ROPE_API const char *rope_last_error(void);

/* ---------------------------------------------------------------------------------------------- */
/* Execution contexts                                                                              */
/* ---------------------------------------------------------------------------------------------- */

/* Instruction sets with a kernel. ROPE_ISA_AUTO picks the best the CPU has, in this order of
 * preference: AVX-512, AVX2, NEON, then the portable kernel (the values do not rank the sets). Every value from ROPE_ISA_SCALAR up to ROPE_ISA_COUNT_ (excluded)
 * names a set, so a loop over them visits each. */
typedef enum rope_isa {
    ROPE_ISA_AUTO = 0,
    ROPE_ISA_SCALAR = 1, /* portable C: the reference every other kernel is tested against */
    ROPE_ISA_AVX2 = 2,   /* x86-64 AVX2 + F16C */
    ROPE_ISA_AVX512 = 3, /* x86-64 AVX-512 F/BW/VL (+ AVX512_BF16 when present) */
    ROPE_ISA_NEON = 4,   /* aarch64 Advanced SIMD */
    ROPE_ISA_COUNT_ = 5  /* not a set: the number of values above */
} rope_isa;

/* "auto", "scalar", "avx2", "avx512", "neon", or "invalid". Never NULL. */
ROPE_API const char *rope_isa_name(rope_isa isa);
/* 1 when this build has a kernel for `isa` and the running CPU can execute it, else 0.
 * ROPE_ISA_AUTO and ROPE_ISA_SCALAR are always available. Thread-safe. */
ROPE_API int rope_isa_available(rope_isa isa);

typedef struct rope_context rope_context;

/*
 * The host's own threads. An engine that owns its threads (ONNX Runtime's intra-op pool, OpenMP, a
 * serving engine's workers) gives a context its parallel-for; the context then starts no thread.
 * A call large enough to be split calls parallel_for(user, n_tasks, task, arg) once, with
 * 2 <= n_tasks <= the context's threads; the host must call task(arg, i) once for every i in
 * [0, n_tasks), on any threads, possibly at once, and return when all have returned. Each task takes
 * blocks of the call's work from a shared counter, so the host may run the tasks in any order and
 * on fewer threads (even one) than n_tasks. Smaller calls run on the calling thread alone.
 */
typedef void (*rope_task_fn)(void *arg, int64_t i);
typedef void (*rope_parallel_for_fn)(void *user, int64_t n_tasks, rope_task_fn task, void *arg);

/*
 * Context options. Versioned: start from ROPE_CONTEXT_OPTIONS_INIT, which sets struct_size to the
 * size this header knows, then set fields. A library reads only the fields the caller's struct_size
 * covers (later fields keep their defaults), so programs built against an older header keep working
 * when options are added. An options struct without struct_size (zero-initialised, or written for
 * the first release's {isa, threads} layout) is refused with ROPE_ERROR_ATTRIBUTE naming the field.
 */
typedef struct rope_context_options {
    size_t struct_size; /* sizeof(rope_context_options), as ROPE_CONTEXT_OPTIONS_INIT sets it */
    rope_isa isa;       /* ROPE_ISA_AUTO: the environment variable ROPE_ISA if valid, else the best */
    int threads;        /* 0..1024. Own pool: worker threads (0: the number of online CPUs). With
                           parallel_for: the most tasks a call hands the host (0: online CPUs). A call
                           moving less than 4 MiB (inputs, outputs and cos/sin rows) runs on the calling
                           thread alone; a larger one on up to `threads` threads, each moving 2 MiB or more */
    rope_parallel_for_fn parallel_for; /* NULL: the library's own pool; else the host's (see above) */
    void *parallel_user;               /* passed to parallel_for as `user` */
    /* Work split, for engines that call every worker with the same arguments (ggml's ith / nth):
     * split_parts > 0 makes this context do part split_part (0 <= split_part < split_parts) of every
     * call and start no thread. split_parts contexts, one per part, called at once with the same
     * arguments, together do the whole call; each call returns when its own part is done, so the
     * host waits for all of them (its barrier) before reading the outputs. Every part validates the
     * whole call and gets the same status. Small calls are done by part 0 alone (the others return
     * ROPE_OK at once). threads must be 0 and parallel_for NULL. */
    int split_part;
    int split_parts; /* 0: no split; else 1..1024 */
} rope_context_options;

#define ROPE_CONTEXT_OPTIONS_INIT {sizeof(rope_context_options), ROPE_ISA_AUTO, 0, NULL, NULL, 0, 0}

/*
 * Creates an execution context. `options` may be NULL (all defaults).
 * Errors: ROPE_ERROR_NULL_ARGUMENT (out is NULL), ROPE_ERROR_ATTRIBUTE (struct_size not that of a
 * known version, threads outside 0..1024, isa unknown, split_part outside 0..split_parts-1,
 * split_parts outside 0..1024, split_parts with threads or parallel_for, parallel_user without
 * parallel_for), ROPE_ERROR_UNSUPPORTED
 * (the requested ISA is not available), ROPE_ERROR_OUT_OF_MEMORY. On failure *out is left unchanged.
 * An invalid or unavailable ROPE_ISA environment variable never fails: it is ignored (the choice is
 * automatic) and rope_context_isa_reason says so.
 * A context may be used by several threads at once; every call on it is thread-safe (a split
 * context: one call at a time, from its part's worker).
 */
ROPE_API rope_status rope_context_create(const rope_context_options *options, rope_context **out);

/* Frees a context and its resources. NULL is a no-op. No call may be using it. */
ROPE_API void rope_context_free(rope_context *ctx);

/* Forces the instruction set of `ctx` (NULL: the default context). ROPE_ISA_AUTO restores the
 * automatic choice. Errors: ROPE_ERROR_ATTRIBUTE (unknown value), ROPE_ERROR_UNSUPPORTED (not
 * available here). Must not race with compute calls on the same context. */
ROPE_API rope_status rope_context_set_isa(rope_context *ctx, rope_isa isa);

/* The instruction set compute calls on `ctx` (NULL: the default context) actually use. */
ROPE_API rope_isa rope_context_isa(const rope_context *ctx);

/* Which instruction set `ctx` (NULL: the default context) uses and why, e.g. "avx512 (auto)",
 * "scalar (ROPE_ISA=scalar)", "avx2 (requested)", "avx512 (ROPE_ISA=foo ignored: unknown)",
 * "avx512 (ROPE_ISA=neon ignored: not compiled into this build)". Never NULL; valid while the
 * context lives and its ISA is not changed. */
ROPE_API const char *rope_context_isa_reason(const rope_context *ctx);

/* The number of threads compute calls on `ctx` (NULL: the default context) may use (>= 1): the
 * caller plus the own pool's workers, the host's task count with parallel_for, or split_parts. */
ROPE_API int rope_context_threads(const rope_context *ctx);

/* ---------------------------------------------------------------------------------------------- */
/* Partial rotation layouts (all three operators)                                                  */
/* ---------------------------------------------------------------------------------------------- */

/* Where the rot rotated elements of a head of head_size sit when rot < head_size:
 *   LEADING  the first rot elements: pairs (j, rot/2 + j) for halves, (2j, 2j + 1) for adjacent
 *            pairs; [rot, head_size) copied (ONNX, ATB, vLLM as they define it);
 *   SPLIT    halves with the partner at head_size/2: pairs (j, head_size/2 + j) for j < rot/2
 *            (Gemma 4's "proportional" rope type on its full-attention layers); every other element
 *            copied. head_size must be even. With rot = head_size both layouts are the same. */
typedef enum rope_partial {
    ROPE_PARTIAL_LEADING = 0,
    ROPE_PARTIAL_SPLIT = 1
} rope_partial;

/* ---------------------------------------------------------------------------------------------- */
/* ONNX RotaryEmbedding (ai.onnx, opset 23)                                                        */
/* ---------------------------------------------------------------------------------------------- */

/* The operator's attributes, with ONNX's defaults when zero-initialised. Functions taking a
 * `const rope_onnx_attrs *` accept NULL for all defaults. */
/* rope_onnx_attrs.interleaved: ONNX's two pair layouts, and librope's extensions of the attribute's
 * domain (the struct keeps its layout, so programs built against an older header are unaffected). */
typedef enum rope_onnx_layout {
    ROPE_ONNX_HALVES = 0,          /* ONNX interleaved 0: pairs (x[j], x[r/2 + j]) */
    ROPE_ONNX_PAIRS = 1,           /* ONNX interleaved 1: pairs (x[2j], x[2j + 1]) */
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
    uint8_t rsv[3];       /* reserved, must be zero */
    int32_t head_size;    /* ROPE_PARTIAL_SPLIT: the head size; otherwise 0 */
} rope_atb_param;

#define ROPE_ATB_PARAM_INIT {4, 0, ROPE_PARTIAL_LEADING, {0, 0, 0}, 0}

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

/* ---------------------------------------------------------------------------------------------- */
/* Cos/sin caches                                                                                  */
/* ---------------------------------------------------------------------------------------------- */

/*
 * The cos/sin tables the operators above take, computed from a model's RoPE configuration as Hugging
 * Face transformers' rope initialisation functions define it (modeling_rope_utils.py: the default,
 * linear, dynamic, yarn, llama3, longrope and proportional rope types), including context-extension
 * scalings.
 *
 * Unlike the operators, these functions compute in float64: the inverse frequencies with libm pow and
 * log (Hugging Face evaluates them in float32), and each angle pos * inv_freq[i] as the exact product
 * of the position and the float64 inverse frequency, reduced modulo pi/2 in double-double. A cos/sin
 * value is therefore rounded once, from an accurate float64 value, to the output dtype: float32
 * results are within 2 units in the last place of the exact attention * cos(pos * inv_freq[i]) for
 * every position up to 2^24 and beyond, as long as the angle stays below 2^46 rad (measured: under
 * 0.5 ulp, i.e. correctly rounded, on 370,000 test angles at positions up to 2^31). A float32 angle
 * pos * inv_freq, as most frameworks compute it, is off by about 0.06 rad at position 10^6.
 *
 * The scaling methods. Notation: d = rotary_dim, i = 0 .. d/2-1 the pair index, e_i = 2i/d,
 * ln the natural logarithm, orig = original_max_position_embeddings, pi = 3.14159...
 *
 *   DEFAULT   inv[i] = 1 / base^e_i.                                          attention 1.
 *   LINEAR    inv[i] = (1 / base^e_i) / factor: positions are divided by factor (position
 *             interpolation).                                                  attention 1.
 *   DYNAMIC   dynamic NTK: with L = seq_len when seq_len > orig, else orig,
 *               base' = base * (factor * L / orig - (factor - 1))^(d / (d - 2)),
 *               inv[i] = 1 / base'^e_i,
 *             so the frequencies only change once seq_len exceeds orig.        attention 1.
 *   YARN      extrap[i] = 1 / base^e_i, interp[i] = 1 / (factor * base^e_i);
 *             corr(n) = d * ln(orig / (n * 2 * pi)) / (2 * ln(base)), the pair index whose wavelength
 *             fits n times into orig positions;
 *             low = max(floor(corr(beta_fast)), 0), high = min(ceil(corr(beta_slow)), d - 1)
 *             (without floor and ceil when no_truncate is set); high += 0.001 when low == high;
 *             ramp[i] = clamp((i - low) / (high - low), 0, 1), w = 1 - ramp[i];
 *             inv[i] = interp[i] * (1 - w) + extrap[i] * w
 *             (fast-turning pairs below low keep extrap, slow ones above high get interp).
 *             attention = attention_factor when set; else, when mscale and mscale_all_dim are both
 *             set, m(factor, mscale) / m(factor, mscale_all_dim); else m(factor, 1), where
 *             m(s, k) = 1 for s <= 1 and 0.1 * k * ln(s) + 1 otherwise (YaRN's get_mscale).
 *   LLAMA3    inv0 = 1 / base^e_i, wavelen = 2 * pi / inv0;
 *             wavelen < orig / high_freq_factor:   inv[i] = inv0            (high frequencies kept)
 *             wavelen > orig / low_freq_factor:    inv[i] = inv0 / factor   (low ones interpolated)
 *             otherwise, with s = (orig / wavelen - low_freq_factor) / (high_freq_factor - low_freq_factor):
 *                                                  inv[i] = (1 - s) * inv0 / factor + s * inv0.
 *                                                                              attention 1.
 *   LONGROPE  ext = long_factor when seq_len > orig, else short_factor (both arrays of d/2 values);
 *             inv[i] = 1 / (ext[i] * base^e_i).
 *             attention = attention_factor when set; else 1 when factor <= 1; else
 *             sqrt(1 + ln(factor) / ln(orig)).
 *   PROPORTIONAL  (Gemma 4 style; d is the whole head size, the table's width) with
 *             n = rotated_pairs: inv[i] = (1 / base^e_i) / factor for i < n, and inv[i] = 0 for
 *             n <= i < d/2, so those pairs get cos 1 and sin 0 (not rotated): the rotated pairs keep
 *             the head size in their exponent.                                attention 1.
 *
 * Fields a method does not use are ignored (attention_factor too: only YARN and LONGROPE read it,
 * as in Hugging Face).
 */
typedef enum rope_scaling {
    ROPE_SCALING_DEFAULT = 0,  /* "default": plain RoPE */
    ROPE_SCALING_LINEAR = 1,   /* "linear" */
    ROPE_SCALING_DYNAMIC = 2,  /* "dynamic" (dynamic NTK) */
    ROPE_SCALING_YARN = 3,     /* "yarn" */
    ROPE_SCALING_LLAMA3 = 4,   /* "llama3" (Llama 3.1) */
    ROPE_SCALING_LONGROPE = 5, /* "longrope" (Phi-3) */
    ROPE_SCALING_PROPORTIONAL = 6 /* "proportional" (Gemma 4 style: partial rotation, head-size exponent) */
} rope_scaling;

/* The name Hugging Face's rope_type gives `scaling` ("default", "linear", "dynamic", "yarn",
 * "llama3", "longrope", "proportional"); NULL for a value that is not a rope_scaling (so a caller
 * can list every name by counting up from 0 until NULL). The string is static. Thread-safe. */
ROPE_API const char *rope_scaling_name(rope_scaling scaling);

/* The rope_scaling a Hugging Face rope_type names: every name rope_scaling_name returns, and the
 * aliases transformers itself reads as one of them: "mrope" (Qwen2-VL / Qwen2.5-VL configs) is
 * DEFAULT, since their configuration maps it to the default frequencies. Names are case-sensitive.
 * Errors: NULL_ARGUMENT (name or out is NULL), ATTRIBUTE (a name that is none of these: the message
 * quotes it and lists the known names). *out is written only on success. Thread-safe. */
ROPE_API rope_status rope_scaling_from_name(const char *name, rope_scaling *out);

/* The widest rotary_dim a configuration takes (model heads rotate 64 to 512 elements); a bound that
 * keeps the frequency tables of a call, computed even when it has nothing to rotate, small. */
#define ROPE_MAX_ROTARY_DIM 65536

/* The largest attention factor a configuration may give (the largest float16), so that every cos/sin
 * value of a table is finite in every dtype. */
#define ROPE_MAX_ATTENTION 65504.0

/* A RoPE configuration: Hugging Face's rope_theta, rotary dimension and rope_scaling entries.
 * Versioned like rope_context_options: start from ROPE_FREQ_CONFIG_INIT (struct_size set to the size
 * this header knows, every other field 0), then set what the model's config gives; a field left 0
 * takes the default in its comment ("required" fields have none and fail with ROPE_ERROR_ATTRIBUTE
 * when 0). The library reads only the fields the caller's struct_size covers (later fields keep
 * their 0 defaults), so a program built against an older header keeps working when fields are
 * added. The oldest layout with struct_size ends after seq_len (rotated_pairs came later). A
 * struct_size of 0 (a zero-initialised config), below that oldest layout, or above
 * sizeof(rope_freq_config) is refused with ROPE_ERROR_ATTRIBUTE naming struct_size. */
typedef struct rope_freq_config {
    size_t struct_size;   /* sizeof(rope_freq_config), as ROPE_FREQ_CONFIG_INIT sets it */
    double base;          /* rope_theta; 0: 10000. Must be finite and > 1 */
    int64_t rotary_dim;   /* d, the rotated width of a head: even, 2 .. ROPE_MAX_ROTARY_DIM (>= 4 for
                             DYNAMIC). Required */
    rope_scaling scaling; /* the method; 0: DEFAULT */
    double factor;        /* required (> 0 for LINEAR, >= 1 for DYNAMIC, YARN, LLAMA3); LONGROPE:
                             >= 1, needed only when attention_factor is 0. A config without one
                             means max_position_embeddings / original_max_position_embeddings.
                             PROPORTIONAL: > 0; 0: 1 */
    int64_t original_max_position_embeddings; /* orig, the pre-training context length (> 0):
                             required by DYNAMIC (Hugging Face's max_position_embeddings there),
                             YARN, LLAMA3 and LONGROPE */
    double low_freq_factor;  /* LLAMA3; 0: 1. Must be > 0 */
    double high_freq_factor; /* LLAMA3; 0: 4. Must be > low_freq_factor */
    double beta_fast;        /* YARN; 0: 32. Must be > 0 and >= beta_slow */
    double beta_slow;        /* YARN; 0: 1. Must be > 0 */
    double mscale;           /* YARN (DeepSeek); 0: unset */
    double mscale_all_dim;   /* YARN (DeepSeek); 0: unset */
    int32_t no_truncate;     /* YARN: 0 floors/ceils the correction range (Hugging Face's default,
                                truncate = true); 1 keeps it fractional (truncate = false) */
    double attention_factor; /* YARN, LONGROPE: multiplies every cos and sin; 0: computed as above.
                                Must be >= 0 */
    const double *short_factor; /* LONGROPE: d/2 values, each finite and > 0. Required */
    const double *long_factor;  /* LONGROPE: d/2 values, each finite and > 0. Required */
    int64_t seq_len; /* DYNAMIC, LONGROPE: the sequence length the cache serves (Hugging Face's
                        forward uses the largest position + 1); 0: not given, as at model
                        initialisation (no dynamic scaling, short factors). Must be >= 0 */
    int64_t rotated_pairs; /* PROPORTIONAL: n, the pairs that rotate (Hugging Face:
                              int(partial_rotary_factor * head_dim // 2)); 0 .. rotary_dim/2, where
                              0 means all of them. Other methods: must be 0 */
} rope_freq_config;

#define ROPE_FREQ_CONFIG_INIT                                                                                  \
    {sizeof(rope_freq_config), 0.0, 0, ROPE_SCALING_DEFAULT, 0.0, 0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0, 0.0, NULL, \
     NULL, 0, 0}

/*
 * The inverse frequencies inv_freq[0 .. rotary_dim/2) of `cfg` (the formulas above, in float64) and,
 * when attention_scale is not NULL, the factor that multiplies cos and sin.
 * Errors: NULL_ARGUMENT (cfg or inv_freq), ATTRIBUTE (struct_size, a field outside its domain, or a
 * configuration whose frequencies come out non-finite or not positive (PROPORTIONAL's unrotated
 * pairs are exactly 0), or whose attention factor exceeds ROPE_MAX_ATTENTION; the message names the
 * field, the expected domain and the value found). Nothing is written on failure. Thread-safe.
 */
ROPE_API rope_status rope_freq_compute(const rope_freq_config *cfg, double *inv_freq, double *attention_scale);

/* How rope_cache_fill lays a position's cos (or sin) values out in a row. */
typedef enum rope_cache_layout {
    /* [count, d/2]: value i belongs to pair i. The ONNX RotaryEmbedding cos_cache / sin_cache
     * (2-D, indexed by position_ids), for interleaved 0 and 1 alike. */
    ROPE_CACHE_HALF = 0,
    /* [count, d]: each pair's value in both of its elements, as the ATB operator reads it. With
     * rs = d / rotary_coeff, pair p = g*rs + j (j < rs) owns elements g*2*rs + j and g*2*rs + j + rs.
     * rotary_coeff 2: [c0 .. c(d/2-1), c0 .. c(d/2-1)] (rotate-half);
     * rotary_coeff d: [c0, c0, c1, c1, ...] (adjacent pairs);
     * rotary_coeff 4: [c0 .. c(d/4-1), c0 .. c(d/4-1), c(d/4) .. c(d/2-1), c(d/4) .. c(d/2-1)]. */
    ROPE_CACHE_FULL = 1,
    /* [count, d]: vLLM's cos_sin_cache, row = [cos of the d/2 pairs | sin of the d/2 pairs], written
     * to the `cos` tensor alone (`sin` must be NULL). */
    ROPE_CACHE_VLLM = 2
} rope_cache_layout;

/*
 * Fills cos and sin for the `count` consecutive positions pos_start .. pos_start+count-1: row r holds
 * attention * cos((pos_start + r) * inv_freq[p]) (and sin) for every pair p, laid out as `layout`
 * says, each value rounded once from float64 to the tensors' dtype (nearest even).
 *   cos, sin: 2-D, [count, d/2] (HALF) or [count, d] (FULL); f32, f16 or bf16, the same for both;
 *             dense (row_stride 0 or the row length); not overlapping each other. VLLM: cos is the
 *             [count, d] cos_sin_cache (f32, f16 or bf16, dense) and sin must be NULL.
 *   rotary_coeff: FULL only (ignored for HALF): 2, 4 or d, with d % rotary_coeff == 0.
 *   Positions: pos_start >= 0 and pos_start + count <= 2^53; the largest angle
 *             (pos_start + count - 1) * max(inv_freq) must stay below 2^46 rad, the range of the
 *             accurate argument reduction.
 * seq_len (DYNAMIC, LONGROPE) comes from cfg; set it to pos_start + count to get what Hugging Face's
 * forward computes for those positions.
 * Errors: NULL_ARGUMENT, ATTRIBUTE (cfg as rope_freq_compute, layout, rotary_coeff), DTYPE, RANK,
 * SHAPE (count < 0, dims), STRIDE, ALIASING, INDEX (positions), OUT_OF_MEMORY. Nothing is written on
 * failure. count 0 is valid and writes nothing. Thread-safe.
 */
ROPE_API rope_status rope_cache_fill(const rope_freq_config *cfg, int64_t pos_start, int64_t count,
                            rope_cache_layout layout, int32_t rotary_coeff, const rope_tensor *cos,
                            const rope_tensor *sin);

/*
 * Multi-axis positions (vision towers, image and video diffusion): each token has A coordinates
 * (e.g. time, height, width) and each axis rotates its own slice of the pairs. The rotated width is
 * rot = axes_dims[0] + ... + axes_dims[A-1]; a token's row holds axis 0's axes_dims[0]/2 pairs
 * first, then axis 1's, and so on, and pair j of axis a turns by pos[a] * inv_a[j]:
 *   ROPE_AXES_FREQ_PER_AXIS     inv_a[j] = theta_a^(-2j / axes_dims[a]): each axis's frequency index
 *                               restarts at 0 (Flux, HunyuanVideo, Wan, Qwen2-VL / Qwen2.5-VL vision,
 *                               Llama 4 vision, ggml's GGML_ROPE_TYPE_VISION).
 *   ROPE_AXES_FREQ_ALTERNATING  one frequency sequence over the whole width, dealt to the axes in
 *                               turn: inv_a[j] = theta_a^(-2k / rot) with k = j*A + a (Pixtral: height
 *                               takes the even frequencies 0, 2, 4, ..., width the odd ones). Every
 *                               axis has the same axes_dims.
 * Each power is evaluated as rope_freq_compute evaluates the default method (1 / theta^(2i/d) in
 * float64, d = axes_dims[a] or rot). How the rotated pairs sit in the head (halves or adjacent
 * pairs) is the operator's choice, not the table's: Flux, HunyuanVideo, Wan and Llama 4 vision pair
 * adjacent elements (ONNX interleaved 1, vLLM is_neox 0, ATB rotary_coeff rot), Qwen2-VL vision and
 * Pixtral pair halves (interleaved 0, is_neox 1, rotary_coeff 2).
 */
#define ROPE_MAX_AXES 8

typedef enum rope_axes_freq {
    ROPE_AXES_FREQ_PER_AXIS = 0,   /* each axis its own frequencies, index restarting per axis */
    ROPE_AXES_FREQ_ALTERNATING = 1 /* one sequence over rot, axes taking every A-th frequency */
} rope_axes_freq;

/* A multi-axis configuration. Versioned: start from ROPE_AXES_CONFIG_INIT (struct_size set, every
 * other field 0), then set the fields; the library reads only what the caller's struct_size covers. */
typedef struct rope_axes_config {
    size_t struct_size;                /* sizeof(rope_axes_config), as ROPE_AXES_CONFIG_INIT sets it */
    int32_t n_axes;                    /* A: 1 .. ROPE_MAX_AXES */
    int64_t axes_dims[ROPE_MAX_AXES];  /* each even and >= 2, summing to rot <= ROPE_MAX_ROTARY_DIM;
                                          entries from n_axes on must be 0 */
    double theta[ROPE_MAX_AXES];       /* each axis's base: finite and > 1; 0: 10000. Entries from
                                          n_axes on must be 0 */
    rope_axes_freq freq;               /* 0: ROPE_AXES_FREQ_PER_AXIS */
    double attention;                  /* multiplies every cos and sin; 0: 1. Else finite, > 0 and
                                          <= ROPE_MAX_ATTENTION */
} rope_axes_config;

#define ROPE_AXES_CONFIG_INIT {sizeof(rope_axes_config), 0, {0}, {0.0}, ROPE_AXES_FREQ_PER_AXIS, 0.0}

/*
 * Fills cos and sin for T tokens at multi-axis positions: row t holds, for every pair p of the rot/2
 * (axis by axis, as above), attention * cos(pos[t][a] * inv_a[j]) (and sin), laid out as `layout`
 * says (ROPE_CACHE_HALF [T, rot/2], ROPE_CACHE_FULL [T, rot] with rotary_coeff, ROPE_CACHE_VLLM
 * [T, rot] [cos | sin] rows in cos, sin NULL: as rope_cache_fill, with token t in the place of
 * position pos_start + t). The angle is the exact product of the coordinate and the float64 inverse
 * frequency, reduced as rope_cache_fill reduces it, and each value is rounded once from float64 to
 * the tables' dtype. These are per-token tables: ONNX RotaryEmbedding takes them as its 3-D
 * [batch, seq, rot/2] caches without position_ids, ATB as cos/sin rows of each token (cosFormat 0),
 * vLLM as a cos_sin_cache with positions 0 .. T-1.
 *   positions: [T, A], dense; i64 or i32 (integer coordinates, |value| <= 2^53) or f32 or f64
 *              (coordinates as diffusion pipelines pass them: any finite value, fractional and
 *              negative ones included). Every angle |pos[t][a]| * max_j inv_a[j] must stay below
 *              2^46 rad.
 *   cos, sin:  as rope_cache_fill with count T; they must not overlap positions.
 * Errors: NULL_ARGUMENT (cfg, positions, cos; sin except with ROPE_CACHE_VLLM; data of a non-empty
 * tensor), ATTRIBUTE (struct_size, n_axes, an axes_dims or theta entry, freq, ALTERNATING with
 * unequal dims, attention, layout, rotary_coeff: the message names the entry, the expected domain
 * and the value found), DTYPE, RANK, SHAPE (positions' dim 1 not A; the tables' dims), STRIDE (a
 * tensor not dense), ALIASING, INDEX (a non-finite coordinate, an integer beyond 2^53, an angle
 * reaching 2^46 rad: the message names the token and the axis), OUT_OF_MEMORY. Every position is
 * checked before anything is written; nothing is written on failure. T = 0 is valid and writes
 * nothing. Thread-safe.
 */
ROPE_API rope_status rope_cache_fill_axes(const rope_axes_config *cfg, const rope_tensor *positions,
                                 rope_cache_layout layout, int32_t rotary_coeff, const rope_tensor *cos,
                                 const rope_tensor *sin);

/* ---------------------------------------------------------------------------------------------- */
/* Backward (training)                                                                             */
/* ---------------------------------------------------------------------------------------------- */

/*
 * The exact vector-Jacobian products of the operators: given the gradient of a loss with respect to
 * the output, the gradient with respect to the input. Both operators are linear in their input, so
 * the backward pass is the transposed rotation, run by the same kernels at the same speed:
 *   ONNX: the rotation by -angle (the forward with sin negated):
 *         dx1 = c*dy1 + s*dy2,   dx2 = -s*dy1 + c*dy2.
 *   ATB:  element a pairs with b = a + rs as in rope_atb_rope, and cos/sin of a and b may differ;
 *         the forward y[a] = x[a]cos[a] - x[b]sin[a], y[b] = x[b]cos[b] + x[a]sin[b] has the transpose
 *         dx[a] = dy[a]cos[a] + dy[b]sin[b],   dx[b] = dy[b]cos[b] - dy[a]sin[a]:
 *         the forward with sin'[a] = -sin[b] and sin'[b] = -sin[a] (the partner's sin, negated).
 * The result is bitwise the forward operator's run on dy with that transformed sin table (negating
 * is exact in every dtype), and so has the forward's accuracy and rounding (float32 arithmetic,
 * products rounded, one rounding to the output dtype). Elements past the rotated width are copied.
 */

/*
 * dX = the ONNX RotaryEmbedding backward of dY. Arguments as rope_onnx_rotary_embedding, with dy in
 * the role of X and dx in that of Y (error messages name them X and Y): same shapes, dtypes,
 * attributes, caches and position_ids, same validation and errors. dx may be dy itself (in place)
 * and must not otherwise overlap any input. Nothing is written on error. Threading: ctx's threads;
 * concurrent calls are safe. Errors also include OUT_OF_MEMORY (a scratch of a few KiB per thread for
 * the transformed cos/sin rows; up to 512 KiB for 4-D X, whose tokens are walked in tiles).
 */
ROPE_API rope_status rope_onnx_rotary_embedding_backward(rope_context *ctx, const rope_onnx_attrs *attrs,
                                                const rope_tensor *dy, const rope_tensor *cos,
                                                const rope_tensor *sin, const rope_tensor *position_ids,
                                                const rope_tensor *dx);

/*
 * dq, dk = the ATB Rope backward of (grad_q, grad_k), the gradients of ropeQ and ropeK. Arguments as
 * rope_atb_rope, with grad_q / grad_k in the roles of query / key and dq / dk in those of ropeQ /
 * ropeK (error messages use those names): same shapes, dtypes, param, cos, sin and seqlen, same
 * validation and errors, plus OUT_OF_MEMORY (a scratch of a few KiB per thread). dq may be grad_q
 * and dk grad_k (in place). Nothing is written on error. Threading: as rope_atb_rope.
 */
ROPE_API rope_status rope_atb_rope_backward(rope_context *ctx, const rope_atb_param *param, const rope_tensor *grad_q,
                                   const rope_tensor *grad_k, const rope_tensor *cos, const rope_tensor *sin,
                                   const rope_tensor *seqlen, const rope_tensor *dq, const rope_tensor *dk);

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
    rope_tensor positions;        /* i64 (vLLM: or i32), dense, shaped as `kind` says; every value >= 0 */
    rope_dtype cs_dtype;          /* the dtype cos/sin are rounded to, as a cache of that dtype would
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
ROPE_API rope_status rope_onnx_rotary_embedding_fly(rope_context *ctx, const rope_onnx_attrs *attrs, const rope_tensor *x,
                                           const rope_fly *fly, const rope_tensor *y);
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
ROPE_API rope_status rope_atb_rope_fly_backward(rope_context *ctx, const rope_atb_param *param, const rope_tensor *grad_q,
                                       const rope_tensor *grad_k, const rope_fly *fly, const rope_tensor *seqlen,
                                       const rope_tensor *dq, const rope_tensor *dk);

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
 * struct_size is not read (the outer struct fixes the layout) and the fields after mrope_section must
 * be 0. */
typedef struct rope_vllm_attrs {
    size_t struct_size;         /* sizeof(rope_vllm_attrs), as ROPE_VLLM_ATTRS_INIT sets it */
    int64_t head_size;          /* required, > 0 (vLLM's head_size argument / the node's attribute) */
    int32_t is_neox;            /* 1: halves (GPT-NeoX, x[j] with x[rot/2 + j]); 0: adjacent pairs (GPT-J) */
    int32_t mrope_interleaved;  /* 0: contiguous MRoPE sections; 1: Qwen3-VL's interleaved form (3 sections) */
    int32_t n_mrope_section;    /* 0: plain RoPE; 3 or 4: MRoPE with mrope_section[0..n) summing to rot/2 */
    int64_t mrope_section[4];   /* entries past n_mrope_section must be 0 */
    /* vLLM's rope_dim_offset: >= 0, with offset + rot <= head_size. Each head's rotated part is
     * [offset, offset + rot) (head_size - rot: at the tail, as DeepSeek V4's indexer calls it); the
     * pairings above count from offset, and every other element is copied. */
    int64_t rope_dim_offset;
    int32_t inverse;            /* vLLM's inverse: 1 rotates by the negated angle (sin negated), taking a
                                   cached key back to position 0; 0 or 1 */
    int32_t partial;            /* a rope_partial: ROPE_PARTIAL_SPLIT needs is_neox 1, rope_dim_offset 0
                                   and an even head_size */
    int32_t pairs_to_halves;    /* 1: adjacent pairs in, halves out (DeepSeek rope_interleave,
                                   ROPE_ONNX_PAIRS_TO_HALVES); needs is_neox 0. 0 or 1 */
} rope_vllm_attrs;
#define ROPE_VLLM_ATTRS_INIT                                                                                    \
    {sizeof(rope_vllm_attrs), 0, 1, 0, 0, {0, 0, 0, 0}, 0, 0, ROPE_PARTIAL_LEADING, 0} /* head_size required */

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
ROPE_API rope_status rope_vllm_infer(const rope_vllm_attrs *attrs, const rope_tensor *positions, const rope_tensor *query,
                            const rope_tensor *key /* NULL: absent */, const rope_tensor *cos_sin_cache,
                            rope_tensor *query_out, rope_tensor *key_out /* may be NULL when key is NULL */);

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
                                       const rope_tensor *positions, const rope_tensor *query, const rope_tensor *key,
                                       const rope_tensor *cos_sin_cache, const rope_tensor *query_out,
                                       const rope_tensor *key_out);
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
ROPE_API rope_status rope_vllm_rotary_embedding_fly(rope_context *ctx, const rope_vllm_attrs *attrs, const rope_tensor *query,
                                           const rope_tensor *key, const rope_fly *fly, const rope_tensor *query_out,
                                           const rope_tensor *key_out);
ROPE_API rope_status rope_vllm_rotary_embedding_fly_backward(rope_context *ctx, const rope_vllm_attrs *attrs,
                                                    const rope_tensor *grad_query, const rope_tensor *grad_key,
                                                    const rope_fly *fly, const rope_tensor *dquery,
                                                    const rope_tensor *dkey);

/*
 * The operation lifecycle (rope_operation_* above) for this operator. Inputs: positions, query, key,
 * cos_sin_cache, where key is absent when given with rank 0, or when n_inputs is 3 (then the inputs
 * are positions, query, cos_sin_cache). Outputs: query_out, key_out (n_outputs 2; 1 is accepted when
 * key is absent). Errors: NULL_ARGUMENT (attrs or out), ATTRIBUTE (attrs alone, as rope_vllm_infer
 * checks them before seeing a tensor), OUT_OF_MEMORY.
 */
ROPE_API rope_status rope_operation_create_vllm(const rope_vllm_attrs *attrs, rope_operation **out);

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
    rope_vllm_attrs rope;  /* rope.head_size is head_dim; is_neox and MRoPE as rope_vllm_attrs */
    int64_t num_heads_q;   /* >= 0 */
    int64_t num_heads_k;   /* >= 0 */
    int64_t num_heads_v;   /* >= 0: v is not touched, only skipped */
    double eps;            /* in [0, FLT_MAX] (1e-6 in Qwen3); used as float32 */
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
typedef enum rope_kv_layout {
    ROPE_KV_NHD = 0,
    ROPE_KV_HND = 1
} rope_kv_layout;

typedef struct rope_kv_cache_attrs {
    rope_vllm_attrs rope;    /* head_size, is_neox, MRoPE as rope_vllm_rotary_embedding */
    rope_kv_layout kv_layout;
    float k_scale, v_scale;  /* fp8 caches: finite and > 0 (the stored value is element / scale); not
                                read for caches of the key's dtype */
    double eps;              /* with q_weight / k_weight: the norm's epsilon, in [0, FLT_MAX]; else not read */
} rope_kv_cache_attrs;

/*
 * vLLM's rotary_embedding(positions, query, key, head_size, cos_sin_cache, is_neox) followed by
 * reshape_and_cache_flash(key, value, key_cache, value_cache, slot_mapping, kv_cache_dtype, k_scale,
 * v_scale), in one pass: query and key rotated in place (normalised first when q_weight and k_weight
 * are given: the whole Qwen3 prologue), and token t's rotated key (as stored in key, rounded to its
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
ROPE_API rope_status rope_operation_create_vllm_rope_and_cache(const rope_kv_cache_attrs *attrs,
                                                               rope_operation **out);

/* The scalar fp8 conversion the cache write uses: f to ROPE_FP8_E4M3 or ROPE_FP8_E5M2 bits, rounded to
 * nearest even, saturated to the largest finite value, NaN kept (as above). Any other dtype gives 0.
 * Thread-safe, no errors. */
ROPE_API uint8_t rope_f32_to_fp8(float f, rope_dtype fp8_dtype);

/* ---------------------------------------------------------------------------------------------- */
/* Scalar conversions                                                                              */
/* ---------------------------------------------------------------------------------------------- */

/* IEEE binary16 and bfloat16 conversions, exact in the widening direction and rounded to nearest
 * even in the narrowing one. Infinities and NaN are kept (a NaN stays a NaN, made quiet); float16
 * subnormals are produced and read. Thread-safe, no errors. */
ROPE_API float rope_f16_to_f32(uint16_t h);
ROPE_API uint16_t rope_f32_to_f16(float f);
ROPE_API float rope_bf16_to_f32(uint16_t b);
ROPE_API uint16_t rope_f32_to_bf16(float f);

#ifdef __cplusplus
}
#endif

#endif /* ROPE_H */
