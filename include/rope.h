/* SPDX-License-Identifier: MIT */
/*
 * librope: rotary position embedding (RoPE) on CPUs.
 *
 * This header is the manual. It declares everything a user calls, the subjects from 3 on in parts it
 * includes (include/rope/NAME.h: onnx, atb, cache, backward, fly, vllm, prologue), each its own file so
 * each stays readable; a program includes rope.h alone:
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
    ROPE_ERROR_NULL_ARGUMENT = 1, /* a required pointer (tensor, data, parameter) is NULL */
    ROPE_ERROR_DTYPE = 2,         /* a dtype, or a combination of dtypes, is not accepted */
    ROPE_ERROR_RANK = 3,          /* a tensor has a rank the operator does not take */
    ROPE_ERROR_SHAPE = 4,         /* a dimension does not match what the others imply */
    ROPE_ERROR_ATTRIBUTE = 5,     /* an attribute or parameter has a value outside its domain */
    ROPE_ERROR_INDEX = 6,         /* a position id or seqlen value lies outside its valid range */
    ROPE_ERROR_ALIASING = 7,      /* an output partially overlaps an input or another output */
    ROPE_ERROR_STRIDE = 8,        /* a row_stride is negative or smaller than its row */
    ROPE_ERROR_OUT_OF_MEMORY = 9, /* an allocation failed */
    ROPE_ERROR_UNSUPPORTED = 10,  /* a request this build or this CPU cannot serve (e.g. an ISA) */
    ROPE_ERROR_STATE = 11,        /* a lifecycle call out of order (execute before setup, ...) */
    ROPE_ERROR_WORKSPACE = 12,    /* the workspace given to execute is smaller than setup asked */
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
 * preference: AVX-512, AVX2, NEON, then the portable kernel (the values do not rank the sets).
 * Every value from ROPE_ISA_SCALAR up to ROPE_ISA_COUNT_ (excluded) names a set, so a loop over them
 * visits each. */
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
    /* 0..1024. Own pool: worker threads (0: the number of online CPUs). With parallel_for: the most
     * tasks a call hands the host (0: online CPUs). A call moving less than 4 MiB (inputs, outputs and
     * cos/sin rows) runs on the calling thread alone; a larger one on up to `threads` threads, each
     * moving 2 MiB or more */
    int threads;
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

#define ROPE_CONTEXT_OPTIONS_INIT                                                                                      \
    { sizeof(rope_context_options), ROPE_ISA_AUTO, 0, NULL, NULL, 0, 0 }

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
typedef enum rope_partial { ROPE_PARTIAL_LEADING = 0, ROPE_PARTIAL_SPLIT = 1 } rope_partial;

#include "rope/onnx.h"

#include "rope/atb.h"

#include "rope/cache.h"

#include "rope/backward.h"

#include "rope/fly.h"

#include "rope/vllm.h"

#include "rope/prologue.h"

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
