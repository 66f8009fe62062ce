/* SPDX-License-Identifier: MIT */
/*
 * The fused prologue's descriptors-only checks (rope_vllm_fused_qk_norm_rope_check,
 * rope_vllm_rotary_embedding_and_cache_check) and the calls agree on every input that fails on its
 * descriptors, multi-fault ones included: a valid call of each gets every single fault and every pair
 * of faults of its tensor arguments (NULL pointer, rank -1 and 9, an invalid dtype, a negative first
 * dim, a negative row_stride) and attributes (values outside their domain). When the check fails,
 * the call fails with the same status and the same message after the function's name, and writes
 * nothing; when the check passes, the call succeeds (the data are valid). The cache write's weights
 * are optional: both NULL is a valid call, one of them alone is not.
 */
#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "rope.h"

enum { F_NULL, F_RANK_NEG, F_RANK_BIG, F_DTYPE, F_DIM_NEG, F_STRIDE_NEG, N_TFAULT };
enum { MAX_SLOT = 10, N_ATTR = 3 };

typedef struct call {
    int kv; /* 0: QK-norm + RoPE (slots positions, qkv, q_weight, k_weight, cos_sin_cache); 1: the cache
               write (positions, query, key, value, cos_sin_cache, key_cache, value_cache, slot_mapping,
               q_weight, k_weight) */
    int n_slot;
    rope_tensor t[MAX_SLOT];
    int null[MAX_SLOT];
    rope_qk_norm_attrs qa;
    rope_kv_cache_attrs ka;
} call;

enum { T = 3, HS = 8, P = 6 };
static float qkv[T * 4 * HS], q[T * 2 * HS], k[T * HS], v[T * HS], w[HS], cs[P * HS];
static uint8_t kc[2 * 2 * 1 * HS], vc[2 * 2 * 1 * HS];
static int64_t pos[T] = {0, 5, 2}, slots[T] = {3, -1, 0};
static unsigned char snap_qkv[sizeof qkv], snap_q[sizeof q], snap_k[sizeof k], snap_kc[sizeof kc], snap_vc[sizeof vc];

static rope_tensor tensor(void *data, rope_dtype dt, int rank, int64_t d0, int64_t d1, int64_t d2, int64_t d3) {
    rope_tensor t = {data, dt, rank, {d0, d1, d2, d3}, 0};
    return t;
}

static void valid(call *c, int kv) {
    memset(c, 0, sizeof *c);
    c->kv = kv;
    rope_vllm_attrs ra = ROPE_VLLM_ATTRS_INIT;
    ra.head_size = HS;
    ra.is_neox = 1;
    if (!kv) {
        c->n_slot = 5;
        c->qa.rope = ra, c->qa.num_heads_q = 2, c->qa.num_heads_k = 1, c->qa.num_heads_v = 1, c->qa.eps = 1e-6;
        c->t[0] = tensor(pos, ROPE_I64, 1, T, 0, 0, 0);
        c->t[1] = tensor(qkv, ROPE_F32, 2, T, 4 * HS, 0, 0);
        c->t[2] = c->t[3] = tensor(w, ROPE_F32, 1, HS, 0, 0, 0);
        c->t[4] = tensor(cs, ROPE_F32, 2, P, HS, 0, 0);
        return;
    }
    c->n_slot = 10;
    c->ka.rope = ra, c->ka.kv_layout = ROPE_KV_NHD, c->ka.k_scale = 0.5f, c->ka.v_scale = 2.0f, c->ka.eps = 1e-6;
    c->t[0] = tensor(pos, ROPE_I64, 1, T, 0, 0, 0);
    c->t[1] = tensor(q, ROPE_F32, 2, T, 2 * HS, 0, 0);
    c->t[2] = tensor(k, ROPE_F32, 2, T, HS, 0, 0);
    c->t[3] = tensor(v, ROPE_F32, 2, T, HS, 0, 0);
    c->t[4] = tensor(cs, ROPE_F32, 2, P, HS, 0, 0);
    c->t[5] = tensor(kc, ROPE_FP8_E4M3, 4, 2, 2, 1, HS);
    c->t[6] = tensor(vc, ROPE_FP8_E4M3, 4, 2, 2, 1, HS);
    c->t[7] = tensor(slots, ROPE_I64, 1, T, 0, 0, 0);
    c->t[8] = c->t[9] = tensor(w, ROPE_F32, 1, HS, 0, 0, 0);
}

static void tensor_fault(call *c, int slot, int f) {
    rope_tensor *t = &c->t[slot];
    switch (f) {
    case F_NULL: c->null[slot] = 1; break;
    case F_RANK_NEG: t->rank = -1; break;
    case F_RANK_BIG: t->rank = ROPE_MAX_RANK + 1; break;
    case F_DTYPE: t->dtype = ROPE_DTYPE_INVALID; break;
    case F_DIM_NEG: t->dims[0] = -1; break;
    default: t->row_stride = -1; break;
    }
}

static void attr_fault(call *c, int a) {
    switch (a) {
    case 0: c->kv ? (void)(c->ka.rope.head_size = 0) : (void)(c->qa.rope.head_size = 0); break;
    case 1: c->kv ? (void)(c->ka.rope.is_neox = 3) : (void)(c->qa.num_heads_q = -1); break;
    default: c->kv ? (void)(c->ka.kv_layout = (rope_kv_layout)5) : (void)(c->qa.eps = -1.0); break;
    }
}

/* Fault index f: a tensor fault (slot f / N_TFAULT) or an attribute fault. */
static void fault(call *c, int f) {
    if (f < c->n_slot * N_TFAULT) tensor_fault(c, f / N_TFAULT, f % N_TFAULT);
    else attr_fault(c, f - c->n_slot * N_TFAULT);
}

static const rope_tensor *arg(const call *c, int i) { return c->null[i] ? NULL : &c->t[i]; }

static rope_status run(const call *c, int check) {
    if (!c->kv) {
        if (check) return rope_vllm_fused_qk_norm_rope_check(&c->qa, arg(c, 0), arg(c, 1), arg(c, 2), arg(c, 3), arg(c, 4));
        return rope_vllm_fused_qk_norm_rope(NULL, &c->qa, arg(c, 0), arg(c, 1), arg(c, 2), arg(c, 3), arg(c, 4));
    }
    if (check)
        return rope_vllm_rotary_embedding_and_cache_check(&c->ka, arg(c, 0), arg(c, 1), arg(c, 2), arg(c, 3), arg(c, 4),
                                                          arg(c, 5), arg(c, 6), arg(c, 7), arg(c, 8), arg(c, 9));
    return rope_vllm_rotary_embedding_and_cache(NULL, &c->ka, arg(c, 0), arg(c, 1), arg(c, 2), arg(c, 3), arg(c, 4),
                                                arg(c, 5), arg(c, 6), arg(c, 7), arg(c, 8), arg(c, 9));
}

static const char *tail(const char *m) {
    const char *p = strstr(m, ": ");
    return p ? p + 2 : m;
}

static void snapshot(void) {
    memcpy(snap_qkv, qkv, sizeof qkv), memcpy(snap_q, q, sizeof q), memcpy(snap_k, k, sizeof k);
    memcpy(snap_kc, kc, sizeof kc), memcpy(snap_vc, vc, sizeof vc);
}

static int untouched(void) {
    return !memcmp(snap_qkv, qkv, sizeof qkv) && !memcmp(snap_q, q, sizeof q) && !memcmp(snap_k, k, sizeof k) &&
           !memcmp(snap_kc, kc, sizeof kc) && !memcmp(snap_vc, vc, sizeof vc);
}

static long compared;

static void agree(const call *c, const char *what) {
    char msg[512];
    snapshot();
    rope_status sc = run(c, 1);
    snprintf(msg, sizeof msg, "%s", sc == ROPE_OK ? "" : rope_last_error());
    rope_status st = run(c, 0);
    compared++;
    if (sc != ROPE_OK) {
        CHECK(st == sc && strcmp(tail(rope_last_error()), tail(msg)) == 0,
              "%s %s: the check gives %d \"%s\", the call %d \"%s\"", c->kv ? "cache write" : "qk-norm", what, (int)sc,
              msg, (int)st, rope_last_error());
        CHECK(untouched(), "%s %s: refused, yet something was written", c->kv ? "cache write" : "qk-norm", what);
    } else {
        CHECK(st == ROPE_OK, "%s %s: the check passes, the call fails: %s", c->kv ? "cache write" : "qk-norm", what,
              rope_last_error());
    }
}

int main(void) {
    tu_seed(1212);
    for (size_t i = 0; i < sizeof qkv / sizeof qkv[0]; i++) qkv[i] = (float)tu_uniform(-2, 2);
    for (size_t i = 0; i < sizeof q / sizeof q[0]; i++) q[i] = (float)tu_uniform(-2, 2);
    for (size_t i = 0; i < sizeof k / sizeof k[0]; i++) k[i] = (float)tu_uniform(-2, 2), v[i] = (float)tu_uniform(-2, 2);
    for (size_t i = 0; i < sizeof cs / sizeof cs[0]; i++) cs[i] = (float)tu_uniform(-1, 1);
    for (int i = 0; i < HS; i++) w[i] = (float)tu_uniform(0.5, 1.5);
    char what[64];
    for (int kv = 0; kv < 2; kv++) {
        call c;
        valid(&c, kv);
        int nf = c.n_slot * N_TFAULT + N_ATTR;
        agree(&c, "valid");
        for (int a = 0; a < nf; a++) {
            valid(&c, kv), fault(&c, a);
            snprintf(what, sizeof what, "fault %d", a);
            agree(&c, what);
            for (int b = a + 1; b < nf; b++) {
                if (a / N_TFAULT == b / N_TFAULT && b < c.n_slot * N_TFAULT) continue; /* one fault per tensor */
                valid(&c, kv), fault(&c, a), fault(&c, b);
                snprintf(what, sizeof what, "faults %d and %d", a, b);
                agree(&c, what);
            }
        }
    }
    printf("%ld single and double faults: checks and calls agree\n", compared);
    return tu_finish();
}
