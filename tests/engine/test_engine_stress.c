/* SPDX-License-Identifier: MIT */
/*
 * Stress (issue 12, run under ThreadSanitizer by .ci/run): 8 user threads call every operator at
 * once (ONNX and ATB forward and backward, with tables and on the fly, vLLM plain, MRoPE and on the
 * fly, the fused prologue (QK-norm + RoPE, RoPE + KV-cache write), shape inference, the
 * operation lifecycle, rope_cache_fill, rope_freq_compute), alternating the default context, one
 * shared own context of 3 threads and an own context per user thread, each call's result compared
 * bit for bit with the same call made before on one thread. Every job is split over the pools'
 * threads (tu_split_everything), so callers keep colliding on the pools and run inline.
 * Usage: test_engine_stress [rounds per thread] (default 250: 8 x 250 x 17 calls).
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "contexts.h"
#include "harness.h"
#include "rope.h"

enum { USERS = 8, B = 2, H = 3, S = 37, D = 32, ROWS = 128, NTOK = B * S, HQ = 4, HK = 2 };
enum { OUT_FLOATS = 2 * NTOK * HQ * D + ROWS * D * 2 };

static float x[B * H * S * D], q[NTOK * HQ * D], k[NTOK * HK * D], cs[ROWS * D], sn[ROWS * D];
static uint16_t xh[B * S * H * D], csh[ROWS * D / 2], snh[ROWS * D / 2];
static int64_t ids[B * S], tok_pos[NTOK], seq_start[B];
static int32_t mpos[3 * NTOK]; /* vLLM MRoPE: [3, NTOK] i32 rows of the cache */
static int32_t seqlen[B] = {S - 5, S + 5};
static rope_freq_config cfg = ROPE_FREQ_CONFIG_INIT, cfg_yarn = ROPE_FREQ_CONFIG_INIT;
static const rope_atb_param ap2 = {2, 0, 0, {0}, 0}, ap4 = {4, 1, 0, {0}, 0};
static const rope_onnx_attrs inter = {1, 0, 0}, three_d = {0, D / 2, H};

static const rope_tensor tx = {x, ROPE_F32, 4, {B, H, S, D}, 0}, tc = {cs, ROPE_F32, 2, {ROWS, D / 2}, 0},
                         ts = {sn, ROPE_F32, 2, {ROWS, D / 2}, 0}, tids = {ids, ROPE_I64, 2, {B, S}, 0},
                         txh = {xh, ROPE_BF16, 3, {B, S, H * D}, 0},
                         tch = {csh, ROPE_BF16, 3, {B, S, D / 4}, 0}, tsh = {snh, ROPE_BF16, 3, {B, S, D / 4}, 0},
                         tq = {q, ROPE_F32, 2, {NTOK, HQ * D}, 0}, tk = {k, ROPE_F32, 2, {NTOK, HK * D}, 0},
                         tcf = {cs, ROPE_F32, 2, {ROWS, D}, 0}, tsf = {sn, ROPE_F32, 2, {ROWS, D}, 0},
                         tseq = {seqlen, ROPE_I32, 1, {B}, 0};

/* The outputs of one call: the first floats of `out` (Y, or ropeQ then ropeK, or cos then sin). */
static rope_tensor like(const rope_tensor *t, float *at) {
    rope_tensor o = *t;
    o.data = at;
    return o;
}

typedef rope_status (*op_fn)(rope_context *ctx, float *out);

static rope_status o_onnx(rope_context *c, float *o) {
    rope_tensor y = like(&tx, o);
    return rope_onnx_rotary_embedding(c, &inter, &tx, &tc, &ts, &tids, &y);
}
static rope_status o_onnx_bwd(rope_context *c, float *o) {
    rope_tensor y = like(&txh, o);
    return rope_onnx_rotary_embedding_backward(c, &three_d, &txh, &tch, &tsh, NULL, &y);
}
static rope_status o_onnx_fly(rope_context *c, float *o) {
    rope_tensor y = like(&tx, o);
    rope_fly f = {&cfg, ROPE_POSITIONS_PER_TOKEN, tids, ROPE_DTYPE_INVALID};
    return rope_onnx_rotary_embedding_fly(c, NULL, &tx, &f, &y);
}
static rope_status o_onnx_fly_bwd(rope_context *c, float *o) {
    rope_tensor y = like(&tx, o);
    rope_fly f = {&cfg_yarn, ROPE_POSITIONS_PER_SEQUENCE, {seq_start, ROPE_I64, 1, {B}, 0}, ROPE_DTYPE_INVALID};
    return rope_onnx_rotary_embedding_fly_backward(c, NULL, &tx, &f, &y);
}
static rope_status o_atb(rope_context *c, float *o) {
    rope_tensor rq = like(&tq, o), rk = like(&tk, o + NTOK * HQ * D);
    return rope_atb_rope(c, &ap2, &tq, &tk, &tcf, &tsf, &tseq, &rq, &rk);
}
static rope_status o_atb_bwd(rope_context *c, float *o) {
    rope_tensor rq = like(&tq, o), rk = like(&tk, o + NTOK * HQ * D);
    return rope_atb_rope_backward(c, &ap4, &tq, &tk, &tcf, &tsf, &tseq, &rq, &rk);
}
static rope_status o_atb_fly(rope_context *c, float *o) {
    rope_tensor rq = like(&tq, o), rk = like(&tk, o + NTOK * HQ * D);
    rope_fly f = {&cfg, ROPE_POSITIONS_PER_TOKEN, {tok_pos, ROPE_I64, 1, {NTOK}, 0}, ROPE_DTYPE_INVALID};
    return rope_atb_rope_fly(c, &ap2, &tq, &tk, &f, &tseq, &rq, &rk);
}
static rope_status o_atb_fly_bwd(rope_context *c, float *o) {
    rope_tensor rq = like(&tq, o), rk = like(&tk, o + NTOK * HQ * D);
    rope_fly f = {&cfg_yarn, ROPE_POSITIONS_PER_SEQUENCE, {seq_start, ROPE_I64, 1, {B}, 0}, ROPE_DTYPE_INVALID};
    return rope_atb_rope_fly_backward(c, &ap4, &tq, &tk, &f, &tseq, &rq, &rk);
}
/* vLLM: head_size D over the ONNX half-width table read as a [ROWS, D/2] cos_sin_cache (rot D/2,
 * the rest of each head copied); plain and Qwen3-VL interleaved MRoPE; on the fly GPT-J [B, S, H*D]. */
static const rope_vllm_attrs vneox = {sizeof(rope_vllm_attrs), D, 1, 0, 0, {0, 0, 0, 0}, 0, 0, 0, 0},
                             vmrope = {sizeof(rope_vllm_attrs), D, 1, 1, 3, {3, 3, 2, 0}, 0, 0, 0, 0},
                             vgptj = {sizeof(rope_vllm_attrs), D, 0, 0, 0, {0, 0, 0, 0}, 0, 0, 0, 0};
static const rope_tensor tvpos = {ids, ROPE_I64, 1, {NTOK}, 0}, tvmpos = {mpos, ROPE_I32, 2, {3, NTOK}, 0};
static rope_status o_vllm(rope_context *c, float *o) {
    rope_tensor rq = like(&tq, o), rk = like(&tk, o + NTOK * HQ * D);
    return rope_vllm_rotary_embedding(c, &vneox, &tvpos, &tq, &tk, &tc, &rq, &rk);
}
static rope_status o_vllm_mrope(rope_context *c, float *o) {
    rope_tensor rq = like(&tq, o), rk = like(&tk, o + NTOK * HQ * D);
    return rope_vllm_rotary_embedding(c, &vmrope, &tvmpos, &tq, &tk, &tc, &rq, &rk);
}
static rope_status o_vllm_fly(rope_context *c, float *o) {
    const rope_tensor q3 = {q, ROPE_F32, 3, {B, S, HQ * D}, 0};
    rope_tensor rq = like(&q3, o);
    rope_fly f = {&cfg_yarn, ROPE_POSITIONS_PER_TOKEN, {tok_pos, ROPE_I64, 2, {B, S}, 0}, ROPE_DTYPE_INVALID};
    return rope_vllm_rotary_embedding_fly(c, &vgptj, &q3, NULL, &f, &rq, NULL);
}
static rope_status o_infer(rope_context *c, float *o) {
    (void)c;
    rope_tensor a, b;
    rope_status st = rope_onnx_infer(&inter, &tx, &tc, &ts, &tids, &a);
    if (st == ROPE_OK) st = rope_atb_infer(&ap2, &tq, &tk, &tcf, &tsf, &tseq, &a, &b);
    if (st == ROPE_OK) o[0] = (float)(a.dims[1] + b.dims[1]);
    return st;
}
static rope_status o_lifecycle(rope_context *c, float *o) {
    rope_operation *op;
    rope_status st = rope_operation_create_atb(&ap2, &op);
    if (st != ROPE_OK) return st;
    const rope_tensor in[5] = {tq, tk, tcf, tsf, tseq}, out[2] = {like(&tq, o), like(&tk, o + NTOK * HQ * D)};
    rope_variant_pack pack = {in, 5, out, 2};
    size_t ws = 0;
    st = rope_operation_setup(op, &pack, &ws);
    if (st == ROPE_OK) st = rope_operation_execute(op, &pack, NULL, 0, c);
    rope_operation_destroy(op);
    return st;
}
static rope_status o_cache(rope_context *c, float *o) {
    (void)c;
    rope_tensor co = {o, ROPE_F32, 2, {ROWS, D}, 0}, so = {o + ROWS * D, ROPE_F32, 2, {ROWS, D}, 0};
    return rope_cache_fill(&cfg_yarn, 1000, ROWS, ROPE_CACHE_FULL, 4, &co, &so);
}
static rope_status o_freq(rope_context *c, float *o) {
    (void)c;
    double inv[D / 2], att;
    rope_status st = rope_freq_compute(&cfg_yarn, inv, &att);
    for (int i = 0; i < D / 2; i++) o[i] = (float)inv[i];
    o[D / 2] = (float)att;
    return st;
}

/* The fused prologue, in place in `out` (q copied there first): QK-norm + RoPE on qkv [NTOK,
 * (2 + 1 + 1) * D] with Qwen3-VL MRoPE; RoPE + KV-cache write with the norm, q and k at the start of
 * `out`, the fp8 e5m2 caches (10 blocks of 8 slots, HND) after them, slots scattered, some padded. */
static float wq[D], wk[D];
static int64_t slots[NTOK];
static const rope_tensor twq = {wq, ROPE_F32, 1, {D}, 0}, twk = {wk, ROPE_F32, 1, {D}, 0},
                         tslots = {slots, ROPE_I64, 1, {NTOK}, 0};
static rope_status o_qk_norm(rope_context *c, float *o) {
    memcpy(o, q, sizeof q);
    const rope_tensor qkv = {o, ROPE_F32, 2, {NTOK, 4 * D}, 0};
    const rope_qk_norm_attrs a = {vmrope, 2, 1, 1, 1e-6};
    return rope_vllm_fused_qk_norm_rope(c, &a, &tvmpos, &qkv, &twq, &twk, &tc);
}
static rope_status o_kv_cache(rope_context *c, float *o) {
    memcpy(o, q, sizeof q), memcpy(o + NTOK * HQ * D, k, sizeof k);
    rope_tensor rq = like(&tq, o), rk = like(&tk, o + NTOK * HQ * D);
    float *caches = o + NTOK * (HQ + HK) * D;
    const rope_tensor kc = {caches, ROPE_FP8_E5M2, 4, {10, HK, 8, D}, 0},
                      vc = {caches + 10 * 8 * HK * D / 4, ROPE_FP8_E5M2, 4, {10, HK, 8, D}, 0};
    const rope_kv_cache_attrs a = {vneox, ROPE_KV_HND, 0.25f, 3.0f, 1e-5};
    return rope_vllm_rotary_embedding_and_cache(c, &a, &tvpos, &rq, &rk, &tk, &tc, &kc, &vc, &tslots, &twq, &twk);
}

static const struct {
    const char *name;
    op_fn fn;
} ops[] = {{"qk_norm_rope (MRoPE)", o_qk_norm}, {"rope_and_cache (norm, fp8, HND)", o_kv_cache},{"onnx", o_onnx},     {"onnx_bwd (bf16 3-D, no ids)", o_onnx_bwd}, {"onnx_fly", o_onnx_fly},
           {"onnx_fly_bwd", o_onnx_fly_bwd}, {"atb", o_atb},        {"atb_bwd", o_atb_bwd},
           {"atb_fly", o_atb_fly},   {"atb_fly_bwd", o_atb_fly_bwd}, {"infer", o_infer},
           {"lifecycle", o_lifecycle}, {"cache_fill", o_cache},   {"freq_compute", o_freq},
           {"vllm", o_vllm}, {"vllm_mrope (i32 [3, T])", o_vllm_mrope}, {"vllm_fly (GPT-J, query only)", o_vllm_fly}};
enum { N_OPS = sizeof ops / sizeof ops[0] };

static float *want[N_OPS];
static rope_context *shared;
static int rounds = 250;
static atomic_long calls, mismatches, failures;

static void *user(void *arg) {
    int id = (int)(intptr_t)arg;
    rope_context_options o = ROPE_CONTEXT_OPTIONS_INIT;
    o.isa = ROPE_ISA_AUTO, o.threads = 2;
    rope_context *mine = NULL;
    if (rope_context_create(&o, &mine) != ROPE_OK) {
        atomic_fetch_add(&failures, 1);
        return NULL;
    }
    float *out = malloc(OUT_FLOATS * sizeof *out);
    for (int r = 0; r < rounds; r++)
        for (int i = 0; i < N_OPS; i++) {
            int op = (i + id) % N_OPS; /* the threads start at different operators */
            rope_context *ctx = (r + i) % 3 == 0 ? NULL : (r + i) % 3 == 1 ? shared : mine;
            memset(out, 0xA5, OUT_FLOATS * sizeof *out);
            rope_status st = ops[op].fn(ctx, out);
            atomic_fetch_add(&calls, 1);
            if (st != ROPE_OK) atomic_fetch_add(&failures, 1);
            else if (memcmp(out, want[op], OUT_FLOATS * sizeof *out) != 0) atomic_fetch_add(&mismatches, 1);
        }
    free(out);
    rope_context_free(mine);
    return NULL;
}

int main(int argc, char **argv) {
    if (argc > 1) rounds = atoi(argv[1]);
    tu_seed(812);
    tu_split_everything(4);
    for (size_t i = 0; i < sizeof x / sizeof x[0]; i++) x[i] = (float)tu_uniform(-2, 2);
    for (size_t i = 0; i < sizeof q / sizeof q[0]; i++) q[i] = (float)tu_uniform(-2, 2);
    for (size_t i = 0; i < sizeof k / sizeof k[0]; i++) k[i] = (float)tu_uniform(-2, 2);
    for (size_t i = 0; i < sizeof cs / sizeof cs[0]; i++) cs[i] = (float)tu_uniform(-1, 1), sn[i] = (float)tu_uniform(-1, 1);
    for (size_t i = 0; i < sizeof xh / sizeof xh[0]; i++) xh[i] = rope_f32_to_bf16((float)tu_uniform(-2, 2));
    for (size_t i = 0; i < sizeof csh / sizeof csh[0]; i++)
        csh[i] = rope_f32_to_bf16((float)tu_uniform(-1, 1)), snh[i] = rope_f32_to_bf16((float)tu_uniform(-1, 1));
    for (int i = 0; i < B * S; i++) ids[i] = tu_int(0, ROWS - 1);
    for (int i = 0; i < NTOK; i++) tok_pos[i] = tu_int(0, 100000);
    for (int i = 0; i < 3 * NTOK; i++) mpos[i] = (int32_t)tu_int(0, ROWS - 1);
    for (int b = 0; b < B; b++) seq_start[b] = tu_int(0, 5000);
    for (int i = 0; i < D; i++) wq[i] = (float)tu_uniform(0.5, 1.5), wk[i] = (float)tu_uniform(0.5, 1.5);
    for (int i = 0; i < NTOK; i++) slots[i] = i % 9 == 4 ? -1 : (i * 37) % 80; /* distinct: 37 is prime to 80 */
    cfg.rotary_dim = D;
    cfg_yarn.rotary_dim = D, cfg_yarn.scaling = ROPE_SCALING_YARN, cfg_yarn.factor = 8;
    cfg_yarn.original_max_position_embeddings = 2048;

    /* the expected results: each call once, on one thread, with the portable kernel */
    rope_context_options one = ROPE_CONTEXT_OPTIONS_INIT, three = ROPE_CONTEXT_OPTIONS_INIT;
    one.isa = ROPE_ISA_SCALAR, one.threads = 1; three.isa = ROPE_ISA_AUTO, three.threads = 3;
    rope_context *ref = NULL;
    CHECK(rope_context_create(&one, &ref) == ROPE_OK && rope_context_create(&three, &shared) == ROPE_OK, "%s",
          rope_last_error());
    for (int i = 0; i < N_OPS; i++) {
        want[i] = malloc(OUT_FLOATS * sizeof(float));
        memset(want[i], 0xA5, OUT_FLOATS * sizeof(float));
        rope_status st = ops[i].fn(ref, want[i]);
        CHECK(st == ROPE_OK, "%s on one thread: %s", ops[i].name, rope_last_error());
    }
    pthread_t t[USERS];
    for (int u = 0; u < USERS; u++) CHECK(pthread_create(&t[u], NULL, user, (void *)(intptr_t)u) == 0, "thread %d", u);
    for (int u = 0; u < USERS; u++) pthread_join(t[u], NULL);
    long n = atomic_load(&calls), bad = atomic_load(&mismatches), failed = atomic_load(&failures);
    CHECK(failed == 0, "%ld of %ld concurrent calls failed", failed, n);
    CHECK(bad == 0, "%ld of %ld concurrent calls differ from the one-thread result", bad, n);
    CHECK(n == (long)USERS * rounds * N_OPS, "%ld calls made, %ld expected", n, (long)USERS * rounds * N_OPS);
    printf("%d threads x %d rounds x %d operators: %ld calls, %ld mismatches, %ld failures\n", USERS, rounds, N_OPS, n,
           bad, failed);
    rope_context_free(shared);
    rope_context_free(ref);
    for (int i = 0; i < N_OPS; i++) free(want[i]);
    return tu_finish();
}
