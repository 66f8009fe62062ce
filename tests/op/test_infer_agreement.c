/* SPDX-License-Identifier: MIT */
/*
 * Shape inference and the call agree on every input that fails on descriptors alone, multi-fault
 * ones included (rope.h: infer reports exactly the errors of the call). A valid ONNX and a valid ATB
 * call get every single fault and every pair (and, at random, triples) of faults of their input
 * descriptors and attributes: NULL pointers, ranks -1 and 9, an invalid dtype, a negative dim, a
 * negative row_stride, attributes outside their domain. The call must fail, and inference (same
 * descriptors, non-NULL outputs) must give the same status and the same message after the
 * function's name. Issue 12's example is one of the pairs: X of rank -1 and a NULL cos.
 */
#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "rope.h"

enum { F_NULL, F_RANK_NEG, F_RANK_BIG, F_DTYPE, F_DIM_NEG, F_STRIDE_NEG, N_TFAULT };
#define N_SLOT 5
#define N_ATTR 3
#define N_FAULT (N_SLOT * N_TFAULT + N_ATTR)

typedef struct call {
    int atb;
    rope_tensor t[N_SLOT], y[2]; /* ONNX: X, cos, sin, ids (slot 4 unused); ATB: q, k, cos, sin, seqlen */
    int null[N_SLOT];
    rope_onnx_attrs oa;
    rope_atb_param ap;
} call;

static float xq[2 * 4 * 8], xk[2 * 4 * 8], cs[16 * 8], sn[16 * 8], yq[2 * 4 * 8], yk[2 * 4 * 8];
static int64_t ids[2 * 4];
static int32_t seqlen[2] = {4, 4};

static call valid(int atb) {
    call c;
    memset(&c, 0, sizeof c);
    c.atb = atb;
    if (!atb) {
        c.t[0] = (rope_tensor){xq, ROPE_F32, 4, {2, 1, 4, 8}, 0};
        c.t[1] = (rope_tensor){cs, ROPE_F32, 2, {16, 4}, 0};
        c.t[2] = (rope_tensor){sn, ROPE_F32, 2, {16, 4}, 0};
        c.t[3] = (rope_tensor){ids, ROPE_I64, 2, {2, 4}, 0};
        c.y[0] = c.t[0], c.y[0].data = yq;
        c.null[4] = 1;
    } else {
        c.t[0] = (rope_tensor){xq, ROPE_F32, 2, {8, 8}, 0};
        c.t[1] = (rope_tensor){xk, ROPE_F32, 2, {8, 8}, 0};
        c.t[2] = (rope_tensor){cs, ROPE_F32, 2, {16, 8}, 0};
        c.t[3] = (rope_tensor){sn, ROPE_F32, 2, {16, 8}, 0};
        c.t[4] = (rope_tensor){seqlen, ROPE_I32, 1, {2}, 0};
        c.y[0] = c.t[0], c.y[0].data = yq;
        c.y[1] = c.t[1], c.y[1].data = yk;
        c.ap = (rope_atb_param)ROPE_ATB_PARAM_INIT;
    }
    return c;
}

/* Applies fault f; 0 when it does not apply (an unused slot, ONNX's optional position_ids NULL). */
static int apply(call *c, int f) {
    if (f >= N_SLOT * N_TFAULT) {
        int a = f - N_SLOT * N_TFAULT;
        if (!c->atb) {
            if (a == 0) c->oa.interleaved = 4;
            if (a == 1) c->oa.rotary_embedding_dim = 3;
            if (a == 2) c->oa.num_heads = -1;
        } else {
            if (a == 0) c->ap.rotary_coeff = 3;
            if (a == 1) c->ap.cos_format = 2;
            if (a == 2) c->ap.rsv[0] = 1;
        }
        return 1;
    }
    int s = f / N_TFAULT, k = f % N_TFAULT;
    if (c->null[s] || (!c->atb && s == 3 && k == F_NULL)) return 0;
    rope_tensor *t = &c->t[s];
    switch (k) {
    case F_NULL: c->null[s] = 1; break;
    case F_RANK_NEG: t->rank = -1; break;
    case F_RANK_BIG: t->rank = ROPE_MAX_RANK + 1; break;
    case F_DTYPE: t->dtype = (rope_dtype)99; break;
    case F_DIM_NEG: t->dims[0] = -3; break;
    case F_STRIDE_NEG: t->row_stride = -1; break;
    }
    return 1;
}

static const rope_tensor *P(const call *c, int s) { return c->null[s] ? NULL : &c->t[s]; }

static rope_status run(const call *c) {
    if (!c->atb) return rope_onnx_rotary_embedding(NULL, &c->oa, P(c, 0), P(c, 1), P(c, 2), P(c, 3), &c->y[0]);
    return rope_atb_rope(NULL, &c->ap, P(c, 0), P(c, 1), P(c, 2), P(c, 3), P(c, 4), &c->y[0], &c->y[1]);
}

static rope_status infer(const call *c) {
    rope_tensor o[2];
    if (!c->atb) return rope_onnx_infer(&c->oa, P(c, 0), P(c, 1), P(c, 2), P(c, 3), &o[0]);
    return rope_atb_infer(&c->ap, P(c, 0), P(c, 1), P(c, 2), P(c, 3), P(c, 4), &o[0], &o[1]);
}

/* The message after "<function>: ". */
static const char *tail(const char *m) {
    const char *p = strstr(m, ": ");
    return p ? p + 2 : m;
}

static long cases[2];

static void agree(const call *c, const char *what) {
    rope_status sc = run(c);
    char msg[512];
    snprintf(msg, sizeof msg, "%s", rope_last_error());
    rope_status si = infer(c);
    cases[c->atb]++;
    CHECK(sc != ROPE_OK, "%s %s: the call succeeded", c->atb ? "ATB" : "ONNX", what);
    CHECK(si == sc && strcmp(tail(rope_last_error()), tail(msg)) == 0,
          "%s %s: the call gives %s \"%s\", inference %s \"%s\"", c->atb ? "ATB" : "ONNX", what,
          rope_status_string(sc), msg, rope_status_string(si), rope_last_error());
}

int main(void) {
    for (size_t i = 0; i < sizeof xq / sizeof xq[0]; i++) xq[i] = xk[i] = 0.5f - (float)i / 64.0f;
    for (size_t i = 0; i < sizeof cs / sizeof cs[0]; i++) cs[i] = 1.0f, sn[i] = 0.0f;
    for (int atb = 0; atb <= 1; atb++) {
        call v = valid(atb);
        CHECK(run(&v) == ROPE_OK && infer(&v) == ROPE_OK, "%s: the valid call fails: %s", atb ? "ATB" : "ONNX",
              rope_last_error());
        for (int f = 0; f < N_FAULT; f++)
            for (int g = f; g < N_FAULT; g++) {
                call c = valid(atb);
                if (!apply(&c, f) || (g != f && !apply(&c, g))) continue;
                char what[64];
                snprintf(what, sizeof what, "faults %d+%d", f, g);
                agree(&c, what);
            }
        tu_seed(12u + (unsigned)atb);
        for (int it = 0; it < 3000; it++) { /* triples */
            call c = valid(atb);
            int f[3], n = 0;
            for (int j = 0; j < 3; j++) n += apply(&c, f[j] = (int)tu_int(0, N_FAULT - 1));
            if (n == 0) continue;
            char what[64];
            snprintf(what, sizeof what, "faults %d+%d+%d", f[0], f[1], f[2]);
            agree(&c, what);
        }
    }
    /* issue 12's example, by name */
    call c = valid(0);
    c.t[0].rank = -1, c.null[1] = 1;
    rope_tensor o;
    CHECK(rope_onnx_infer(NULL, &c.t[0], NULL, &c.t[2], NULL, &o) == ROPE_ERROR_NULL_ARGUMENT,
          "ONNX X rank -1 and NULL cos: inference gives %s", rope_last_error());
    c = valid(1);
    c.t[0].rank = -1;
    rope_tensor o2;
    CHECK(rope_atb_infer(NULL, &c.t[0], &c.t[1], NULL, &c.t[3], &c.t[4], &o, &o2) == ROPE_ERROR_NULL_ARGUMENT,
          "ATB query rank -1 and NULL cos: inference gives %s", rope_last_error());
    printf("%ld ONNX and %ld ATB fault combinations compared\n", cases[0], cases[1]);
    return tu_finish();
}
