/* SPDX-License-Identifier: MIT */
/* `rope bench` internals: one benchmark case's buffers, and its interleaved kernel/copy timing. */
#ifndef ROPE_TOOL_BENCH_RUN_H
#define ROPE_TOOL_BENCH_RUN_H

#include <stddef.h>

#include "bench_loops.h"
#include "rope.h"

/* QK_NORM: rope_vllm_fused_qk_norm_rope on qkv [T, (Hq + 2 Hk) * hs] (Hv = Hk), in place. KV_CACHE:
 * rope_vllm_rotary_embedding_and_cache (q, k in place; value and the NHD caches written). */
typedef enum bench_op { BENCH_ONNX, BENCH_ATB, BENCH_VLLM, BENCH_QK_NORM, BENCH_KV_CACHE } bench_op;

typedef struct bench_case {
    bench_op op;
    rope_dtype x_dtype, cs_dtype;
    /* ONNX: 0 halves, 1 interleaved. ATB: the rotary coefficient (2, 4, or head_size for "D").
     * vLLM: 0 halves (GPT-NeoX, is_neox 1), 1 interleaved (GPT-J adjacent pairs, is_neox 0). */
    int layout;
    size_t tokens, heads_q, heads_k, head_size, rot; /* ONNX: heads_k 0, rot = head_size */
    /* fly: cos/sin computed from positions 0..tokens-1 and a default rope_freq_config (rope.h's
     * on-the-fly mode) instead of read from tables; backward: the operator's backward form. */
    int fly, backward;
    /* fly with multi-axis positions (rope_*_fly_axes): axes.n_axes > 0. The coordinates are the grid
     * grid[0] x .. x grid[n_axes-1] walked row-major (the last axis fastest, as image patches), as
     * float32 (as diffusion pipelines pass them); tokens is the grid's size. */
    rope_axes_config axes;
    int64_t grid[ROPE_MAX_AXES];
    /* vLLM: positions random in [0, BENCH_SCATTER_POSITIONS) (a batched decode step: one token of each
     * running sequence) into a cache of that many rows; 0: positions 0..tokens-1 (prefill). */
    int scatter;
    /* vLLM: MRoPE, positions [3, tokens] (time, height, width; the three axes differ), sections
     * [rot/8, 3*rot/16, rot/2 - rot/8 - 3*rot/16] (Qwen2-VL's [16, 24, 24] at rot 128); 2: interleaved
     * (Qwen3-VL). 0: plain. */
    int mrope;
    /* KV_CACHE: the caches' dtype (0: the data's, kv_cache_dtype auto; or ROPE_FP8_E4M3 / E5M2), and
     * norm 1 for the QK-norm too (the whole Qwen3 prologue). */
    rope_dtype kv_dtype;
    int norm;
    /* KV_CACHE: the baseline of issue 16's target instead: rope_vllm_rotary_embedding (in place),
     * then a separate pass writing each token's key and value to its slot with the library's store
     * piece (the fused call's copy or fp8 conversion and streaming rule). Same bytes counted. */
    int separate;
} bench_case;

enum { BENCH_SCATTER_POSITIONS = 32768 };

typedef struct bench_result {
    size_t bytes;     /* input read + output written + cos/sin rows read, per call */
    double median_us; /* one call of the kernel */
    double gbps, copy_gbps, ratio;
    /* The floor (bench_loops.h): which loop ran (BENCH_LOOP_NONE: the row has none, the two values
     * are 0), its median time on the case's buffers and threads, and ratio_loop = loop_us /
     * median_us (1: the kernel is as fast as the minimal loop of its arithmetic). */
    int loop;
    double loop_us, ratio_loop;
} bench_result;

/* The buffers of one case, filled with random data (inputs) and touched (outputs, copy buffers) so
 * no timing pays a page fault. */
typedef struct bench_data bench_data;

/* Bytes one call moves, as counted for gbps. */
size_t bench_bytes(const bench_case *c);

/* Allocates and fills. Returns NULL (after a message on stderr) when memory runs out. */
bench_data *bench_data_create(const bench_case *c);
void bench_data_free(bench_data *d);

/* Times the case on `ctx`: `reps` repetitions, each a batch of kernel calls followed by a batch of
 * copies of bytes/2 and a batch of the floor loop (same threads as the copy; none for rows without a
 * loop), batches long enough for the clock; medians per call.
 * Returns 0, or -1 after printing the library's error on stderr. */
int bench_measure(bench_data *d, rope_context *ctx, int reps, bench_result *out);

/* Makes bench_measure run the case split: the n workers of `host` each call with parts[i] (contexts
 * made with split_part i of n), and the copy and the loop are split over the same workers. With n 0 and a host
 * (--pool host), the kernel runs on the context given and the copy on the host's workers, split by
 * the rule rope.h gives for compute calls (the loop too). (NULL, 0, NULL): the copy and the loop on
 * the tool's own copy_team. */
struct host_pool;
void bench_set_split(bench_data *d, rope_context **parts, int n, struct host_pool *host);

/* The case's rotation as the floor loop sees it (bench_loops.h): 0 and *job filled, or -1 for a
 * row with no loop (on the fly, backward, MRoPE, the prologue ops, ATB coefficients 4 and D). */
int bench_loop_job_of(const bench_data *d, bench_loop_job *job);

/* The case's buffers, for a test that runs the library and the loop on the same data: the outputs
 * (ONNX: Y; ATB and vLLM: the rotated query and key) and their sizes in bytes. */
void *bench_output(bench_data *d, int i, size_t *bytes);

/* One kernel call of the case on ctx (the library's status). */
rope_status bench_call(bench_data *d, rope_context *ctx);

#endif
