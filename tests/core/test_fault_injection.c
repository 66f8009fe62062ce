/* SPDX-License-Identifier: MIT */
/*
 * Fault injection (issue 12): in a ROPE_FAULT_INJECTION build every allocation and thread start of
 * the library goes through src/core/alloc.h, which can make the n-th one fail. For a representative
 * set of calls (context and operation creation, the lifecycle, every operator (ONNX, ATB, vLLM plain
 * and MRoPE) forward and backward, with tables and on the fly, the fused prologue (QK-norm + RoPE,
 * RoPE + KV-cache write with fp8 and the norm), the cache fill), each call is first run clean to count its
 * allocations A and thread starts T, then once for every n in 1..A with the n-th allocation failing
 * and once for every n in 1..T with the n-th thread start failing. Each faulty run must return
 * ROPE_ERROR_OUT_OF_MEMORY with a message, leave every output byte (canary) and output argument
 * untouched, and the next clean run must succeed with the clean result bit for bit. Leaks are
 * ASan's to find (CI runs this under -DROPE_SANITIZE=ON, whose leak check fails the process).
 * The default context's pool is the documented exception: a failed thread start there makes its
 * calls run on fewer threads, with the same results. Skipped (77) in normal builds.
 */
#include <stdio.h>
#include <string.h>

#include "contexts.h"
#include "harness.h"
#include "rope.h"

#ifndef ROPE_FAULT_INJECTION
int main(void) {
    printf("skipped: needs a -DROPE_FAULT_INJECTION=ON build\n");
    return 77;
}
#else
#include "core/alloc.h"

enum { B = 2, H = 2, S = 6, D = 16, ROWS = 32, NTOK = B * S, OUT_FLOATS = 4 * B * H * S * D };
#define CANARY 0xA5u

static float x[B * H * S * D], q[NTOK * 2 * D], k[NTOK * D], cs[ROWS * D], sn[ROWS * D];
static int64_t ids[B * S], tok_pos[NTOK], mpos[3 * NTOK];
static int32_t seqlen[B] = {S, S};
static float out[OUT_FLOATS]; /* every call's outputs live here; nothing else is written */
static rope_context *own, *use; /* use: the context of the compute calls in this pass */
static rope_freq_config cfg;

static const rope_tensor tx = {x, ROPE_F32, 4, {B, H, S, D}, 0}, tcos_onnx = {cs, ROPE_F32, 2, {ROWS, D / 2}, 0},
                         tsin_onnx = {sn, ROPE_F32, 2, {ROWS, D / 2}, 0}, tids = {ids, ROPE_I64, 2, {B, S}, 0},
                         tq = {q, ROPE_F32, 2, {NTOK, 2 * D}, 0}, tk = {k, ROPE_F32, 2, {NTOK, D}, 0},
                         tcos = {cs, ROPE_F32, 2, {ROWS, D}, 0}, tsin = {sn, ROPE_F32, 2, {ROWS, D}, 0},
                         tseq = {seqlen, ROPE_I32, 1, {B}, 0};
static const rope_tensor ty = {out, ROPE_F32, 4, {B, H, S, D}, 0},
                         trq = {out, ROPE_F32, 2, {NTOK, 2 * D}, 0},
                         trk = {out + NTOK * 2 * D, ROPE_F32, 2, {NTOK, D}, 0},
                         tco = {out, ROPE_F32, 2, {ROWS, D}, 0}, tso = {out + ROWS * D, ROPE_F32, 2, {ROWS, D}, 0};
static const rope_atb_param ap = {2, 0, 0, {0}, 0};

static rope_fly fly_onnx(void) { return (rope_fly){&cfg, ROPE_POSITIONS_PER_TOKEN, tids, ROPE_DTYPE_INVALID}; }
static rope_fly fly_atb(void) {
    rope_fly f = {&cfg, ROPE_POSITIONS_PER_TOKEN, {tok_pos, ROPE_I64, 1, {NTOK}, 0}, ROPE_DTYPE_INVALID};
    return f;
}

/* Output arguments of the creating calls: left alone on failure. */
static int outarg_ok = 1;

static rope_status c_context(void) {
    rope_context_options o = ROPE_CONTEXT_OPTIONS_INIT;
    o.isa = ROPE_ISA_AUTO, o.threads = 5;
    rope_context *c = (rope_context *)&outarg_ok;
    rope_status st = rope_context_create(&o, &c);
    if (st != ROPE_OK) outarg_ok &= c == (rope_context *)&outarg_ok;
    else rope_context_free(c);
    return st;
}

static rope_status lifecycle(rope_operation *op, const rope_tensor *in, size_t n_in, const rope_tensor *o,
                             size_t n_out) {
    rope_tensor inferred[2];
    rope_variant_pack pack = {in, n_in, o, n_out};
    size_t ws = 0;
    rope_status st = rope_operation_infer_shape(op, in, n_in, inferred, n_out);
    if (st == ROPE_OK) st = rope_operation_setup(op, &pack, &ws);
    if (st == ROPE_OK) st = rope_operation_execute(op, &pack, NULL, 0, use);
    rope_operation_destroy(op);
    return st;
}

static rope_status c_op_onnx(void) {
    rope_operation *op = (rope_operation *)&outarg_ok;
    rope_status st = rope_operation_create_onnx(NULL, &op);
    if (st != ROPE_OK) return outarg_ok &= op == (rope_operation *)&outarg_ok, st;
    const rope_tensor in[4] = {tx, tcos_onnx, tsin_onnx, tids};
    return lifecycle(op, in, 4, &ty, 1);
}

static rope_status c_op_atb(void) {
    rope_operation *op = (rope_operation *)&outarg_ok;
    rope_status st = rope_operation_create_atb(&ap, &op);
    if (st != ROPE_OK) return outarg_ok &= op == (rope_operation *)&outarg_ok, st;
    const rope_tensor in[5] = {tq, tk, tcos, tsin, tseq}, o[2] = {trq, trk};
    return lifecycle(op, in, 5, o, 2);
}

static rope_status c_onnx(void) { return rope_onnx_rotary_embedding(use, NULL, &tx, &tcos_onnx, &tsin_onnx, &tids, &ty); }
static rope_status c_onnx_bwd(void) {
    return rope_onnx_rotary_embedding_backward(use, NULL, &tx, &tcos_onnx, &tsin_onnx, &tids, &ty);
}
static rope_status c_atb(void) { return rope_atb_rope(use, &ap, &tq, &tk, &tcos, &tsin, &tseq, &trq, &trk); }
static rope_status c_atb_bwd(void) {
    return rope_atb_rope_backward(use, &ap, &tq, &tk, &tcos, &tsin, &tseq, &trq, &trk);
}
static rope_status c_onnx_fly(void) {
    rope_fly f = fly_onnx();
    return rope_onnx_rotary_embedding_fly(use, NULL, &tx, &f, &ty);
}
static rope_status c_onnx_fly_bwd(void) {
    rope_fly f = fly_onnx();
    return rope_onnx_rotary_embedding_fly_backward(use, NULL, &tx, &f, &ty);
}
static rope_status c_atb_fly(void) {
    rope_fly f = fly_atb();
    return rope_atb_rope_fly(use, &ap, &tq, &tk, &f, &tseq, &trq, &trk);
}
static rope_status c_atb_fly_bwd(void) {
    rope_fly f = fly_atb();
    return rope_atb_rope_fly_backward(use, &ap, &tq, &tk, &f, &tseq, &trq, &trk);
}
/* vLLM: query [NTOK, 2*D] and key [NTOK, D] (head_size D) over the [ROWS, D] table as cos_sin_cache. */
static const rope_vllm_attrs va = {sizeof(rope_vllm_attrs), D, 1, 0, 0, {0, 0, 0, 0}, 0, 0, 0, 0},
                             vm = {sizeof(rope_vllm_attrs), D, 0, 0, 3, {3, 3, 2, 0}, 0, 0, 0, 0};
static const rope_tensor tvpos = {ids, ROPE_I64, 1, {NTOK}, 0}, tvmpos = {mpos, ROPE_I64, 2, {3, NTOK}, 0};
static rope_status c_vllm(void) { return rope_vllm_rotary_embedding(use, &va, &tvpos, &tq, &tk, &tcos, &trq, &trk); }
static rope_status c_vllm_bwd(void) {
    return rope_vllm_rotary_embedding_backward(use, &va, &tvpos, &tq, &tk, &tcos, &trq, &trk);
}
static rope_status c_vllm_mrope(void) {
    return rope_vllm_rotary_embedding(use, &vm, &tvmpos, &tq, &tk, &tcos, &trq, &trk);
}
static rope_status c_vllm_fly(void) {
    rope_fly f = fly_atb();
    return rope_vllm_rotary_embedding_fly(use, &va, &tq, &tk, &f, &trq, &trk);
}
static rope_status c_vllm_fly_bwd(void) {
    rope_fly f = {&cfg, ROPE_POSITIONS_PER_TOKEN, tvmpos, ROPE_DTYPE_INVALID};
    return rope_vllm_rotary_embedding_fly_backward(use, &vm, &tq, NULL, &f, &trq, NULL);
}
static rope_status c_op_vllm(void) {
    rope_operation *op = (rope_operation *)&outarg_ok;
    rope_status st = rope_operation_create_vllm(&va, &op);
    if (st != ROPE_OK) return outarg_ok &= op == (rope_operation *)&outarg_ok, st;
    const rope_tensor in[4] = {tvpos, tq, tk, tcos}, o[2] = {trq, trk};
    return lifecycle(op, in, 4, o, 2);
}
/* The fused prologue: qkv [NTOK, (2 + 1 + 1) * D] in place in `out` (its values the canary's, the
 * same every run); q and k of the cache write in place in `out`, the fp8 caches after them. */
static float w[D];
static int64_t slots[NTOK];
static const rope_tensor tqkv = {out, ROPE_F32, 2, {NTOK, 4 * D}, 0}, tw = {w, ROPE_F32, 1, {D}, 0},
                         tkc = {out + NTOK * 3 * D, ROPE_FP8_E4M3, 4, {4, 4, 1, D}, 0},
                         tvc = {out + NTOK * 3 * D + 64, ROPE_FP8_E4M3, 4, {4, 4, 1, D}, 0},
                         tslots = {slots, ROPE_I64, 1, {NTOK}, 0};
static rope_status c_qk_norm_mrope(void) {
    rope_qk_norm_attrs a = {vm, 2, 1, 1, 1e-6};
    return rope_vllm_fused_qk_norm_rope(use, &a, &tvmpos, &tqkv, &tw, &tw, &tcos);
}
static rope_status c_op_qk_norm(void) {
    rope_qk_norm_attrs a = {va, 2, 1, 1, 1e-6};
    rope_operation *op = (rope_operation *)&outarg_ok;
    rope_status st = rope_operation_create_vllm_qk_norm_rope(&a, &op);
    if (st != ROPE_OK) return outarg_ok &= op == (rope_operation *)&outarg_ok, st;
    const rope_tensor in[5] = {tvpos, tqkv, tw, tw, tcos}, o[1] = {tqkv};
    return lifecycle(op, in, 5, o, 1);
}
static rope_status c_kv_cache(void) { /* MRoPE, the norm, fp8: every allocation the call can make */
    rope_kv_cache_attrs a = {vm, ROPE_KV_NHD, 0.5f, 2.0f, 1e-6};
    return rope_vllm_rotary_embedding_and_cache(use, &a, &tvmpos, &trq, &trk, &tk, &tcos, &tkc, &tvc, &tslots, &tw,
                                                &tw);
}
static rope_status c_op_kv_cache(void) {
    rope_kv_cache_attrs a = {va, ROPE_KV_HND, 1.0f, 1.0f, 1e-6};
    rope_operation *op = (rope_operation *)&outarg_ok;
    rope_status st = rope_operation_create_vllm_rope_and_cache(&a, &op);
    if (st != ROPE_OK) return outarg_ok &= op == (rope_operation *)&outarg_ok, st;
    const rope_tensor kc = {out + NTOK * 3 * D, ROPE_FP8_E4M3, 4, {4, 1, 4, D}, 0},
                      vc = {out + NTOK * 3 * D + 64, ROPE_FP8_E4M3, 4, {4, 1, 4, D}, 0};
    const rope_tensor in[8] = {tvpos, trq, trk, tk, tcos, kc, vc, tslots}, o[4] = {trq, trk, kc, vc};
    rope_tensor inferred[4];
    rope_variant_pack pack = {in, 8, o, 4};
    size_t ws = 0;
    st = rope_operation_infer_shape(op, in, 8, inferred, 4);
    if (st == ROPE_OK) st = rope_operation_setup(op, &pack, &ws);
    if (st == ROPE_OK) st = rope_operation_execute(op, &pack, NULL, 0, use);
    rope_operation_destroy(op);
    return st;
}
static rope_status c_cache_half(void) {
    const rope_tensor c = {out, ROPE_F32, 2, {ROWS, D / 2}, 0}, s = {out + ROWS * D, ROPE_F32, 2, {ROWS, D / 2}, 0};
    return rope_cache_fill(&cfg, 3, ROWS, ROPE_CACHE_HALF, 0, &c, &s);
}
static rope_status c_cache_full(void) { return rope_cache_fill(&cfg, 0, ROWS, ROPE_CACHE_FULL, 4, &tco, &tso); }

static const struct {
    const char *name;
    rope_status (*run)(void);
} calls[] = {
    {"rope_context_create (5 threads)", c_context},
    {"operation lifecycle (ONNX)", c_op_onnx},
    {"operation lifecycle (ATB)", c_op_atb},
    {"rope_onnx_rotary_embedding", c_onnx},
    {"rope_onnx_rotary_embedding_backward", c_onnx_bwd},
    {"rope_atb_rope", c_atb},
    {"rope_atb_rope_backward", c_atb_bwd},
    {"rope_onnx_rotary_embedding_fly", c_onnx_fly},
    {"rope_onnx_rotary_embedding_fly_backward", c_onnx_fly_bwd},
    {"rope_atb_rope_fly", c_atb_fly},
    {"rope_atb_rope_fly_backward", c_atb_fly_bwd},
    {"operation lifecycle (vLLM)", c_op_vllm},
    {"rope_vllm_rotary_embedding", c_vllm},
    {"rope_vllm_rotary_embedding_backward", c_vllm_bwd},
    {"rope_vllm_rotary_embedding (MRoPE)", c_vllm_mrope},
    {"rope_vllm_rotary_embedding_fly", c_vllm_fly},
    {"rope_vllm_..._fly_backward (MRoPE)", c_vllm_fly_bwd},
    {"rope_vllm_fused_qk_norm_rope (MRoPE)", c_qk_norm_mrope},
    {"operation lifecycle (QK-norm + RoPE)", c_op_qk_norm},
    {"rope_vllm_..._and_cache (MRoPE, norm, fp8)", c_kv_cache},
    {"operation lifecycle (RoPE + KV cache)", c_op_kv_cache},
    {"rope_cache_fill (HALF)", c_cache_half},
    {"rope_cache_fill (FULL)", c_cache_full},
};

static unsigned char clean[sizeof out];
static long checked;

static int untouched(void) {
    const unsigned char *p = (const unsigned char *)out;
    for (size_t i = 0; i < sizeof out; i++)
        if (p[i] != CANARY) return 0;
    return 1;
}

/* One run with the alloc_at-th allocation or thread_at-th thread start failing, then a clean one. */
static void faulty(int c, long alloc_at, long thread_at) {
    memset(out, CANARY, sizeof out);
    outarg_ok = 1;
    rope_fault_arm(alloc_at, thread_at);
    rope_status st = calls[c].run();
    rope_fault_arm(0, 0);
    checked++;
    CHECK(st == ROPE_ERROR_OUT_OF_MEMORY && rope_last_error()[0] != '\0',
          "%s, allocation %ld / thread %ld failing: %s (%s)", calls[c].name, alloc_at, thread_at,
          rope_status_string(st), rope_last_error());
    CHECK(untouched() && outarg_ok, "%s, allocation %ld / thread %ld failing: an output was written",
          calls[c].name, alloc_at, thread_at);
    memset(out, CANARY, sizeof out);
    st = calls[c].run();
    CHECK(st == ROPE_OK && memcmp(out, clean, sizeof out) == 0,
          "%s after a failure: %s, %s", calls[c].name, rope_status_string(st),
          st == ROPE_OK ? "a different result" : rope_last_error());
}

int main(void) {
    tu_seed(12);
    tu_split_everything(0); /* even these small calls go to the pool's threads */
    for (size_t i = 0; i < sizeof x / sizeof x[0]; i++) x[i] = (float)tu_uniform(-2, 2);
    for (size_t i = 0; i < sizeof q / sizeof q[0]; i++) q[i] = (float)tu_uniform(-2, 2);
    for (size_t i = 0; i < sizeof k / sizeof k[0]; i++) k[i] = (float)tu_uniform(-2, 2);
    for (size_t i = 0; i < sizeof cs / sizeof cs[0]; i++) cs[i] = (float)tu_uniform(-1, 1), sn[i] = (float)tu_uniform(-1, 1);
    for (int i = 0; i < B * S; i++) ids[i] = tu_int(0, ROWS - 1), tok_pos[i] = tu_int(0, 1000);
    for (int i = 0; i < 3 * NTOK; i++) mpos[i] = tu_int(0, ROWS - 1);
    for (int i = 0; i < D; i++) w[i] = (float)tu_uniform(0.5, 1.5);
    for (int i = 0; i < NTOK; i++) slots[i] = (i * 5) % 16; /* distinct, scattered over the 16 slots */
    slots[NTOK - 1] = -1;                                     /* a padded token */
    cfg = (rope_freq_config)ROPE_FREQ_CONFIG_INIT;
    cfg.rotary_dim = D;

    /* The default context's pool starts with its first call: with its thread start failing, that
     * call runs on fewer threads (rope.h) and gives the result of a context that has them all. */
    rope_context_options o = ROPE_CONTEXT_OPTIONS_INIT;
    o.isa = ROPE_ISA_AUTO, o.threads = 3;
    CHECK(rope_context_create(&o, &own) == ROPE_OK, "%s", rope_last_error());
    memset(out, CANARY, sizeof out);
    use = own;
    CHECK(c_onnx_bwd() == ROPE_OK, "%s", rope_last_error());
    memcpy(clean, out, sizeof out);
    memset(out, CANARY, sizeof out);
    rope_fault_arm(0, 1);
    use = NULL;
    rope_status st = c_onnx_bwd();
    long a, t, fa, ft;
    rope_fault_counts(&a, &t, &fa, &ft);
    rope_fault_arm(0, 0);
    CHECK(st == ROPE_OK && memcmp(out, clean, sizeof out) == 0,
          "default context without its worker: %s (%ld thread starts tried)", rope_status_string(st), t);
    printf("default context, first worker failing to start: %s, %ld thread start(s) tried\n",
           st == ROPE_OK ? "ran on fewer threads" : "FAILED", t);

    /* every call on an own context of 3 threads, then on the default one */
    for (int pass = 0; pass < 2; pass++) {
        use = pass ? NULL : own;
        for (int c = 0; c < (int)(sizeof calls / sizeof calls[0]); c++) {
            memset(out, CANARY, sizeof out);
            rope_fault_arm(0, 0);
            st = calls[c].run();
            long allocs, threads;
            rope_fault_counts(&allocs, &threads, &fa, &ft);
            CHECK(st == ROPE_OK, "%s clean: %s", calls[c].name, rope_last_error());
            memcpy(clean, out, sizeof out);
            for (long n = 1; n <= allocs; n++) faulty(c, n, 0);
            for (long n = 1; n <= threads; n++) faulty(c, 0, n);
            printf("%-40s %-8s %2ld allocation(s), %ld thread start(s)\n", calls[c].name, pass ? "default" : "own",
                   allocs, threads);
        }
    }
    rope_context_free(own);
    rope_fault_counts(&a, &t, &fa, &ft);
    printf("fault injection: %ld allocations and %ld thread starts failed, %ld faulty calls checked\n", fa, ft,
           checked);
    CHECK(fa >= 30 && ft >= 8, "too few faults reached (%ld allocations, %ld thread starts)", fa, ft);
    return tu_finish();
}
#endif
