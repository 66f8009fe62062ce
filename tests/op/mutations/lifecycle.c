/* SPDX-License-Identifier: MIT */
/* test_api_mutations: the operation lifecycle (create, infer_shape, setup, execute, destroy) with its
 * disturbances: the K_LIFECYCLE mutation, the changes to a pack or its data after setup, and the run
 * of one case through the lifecycle. */
#include <stdlib.h>
#include <string.h>

#include "mutations.h"

int m_lifecycle(gcase *g) {
    int L = (int)tu_int(L_EXEC_FIRST, L_COUNT_OUT), onnx = g->e == E_ONNX_OP, vllm = g->e == E_VLLM_OP;
    int ids = onnx || vllm || prologue_e(g->e); /* positions (ids) in T_SEQ; else ATB's seqlen */
    if (L == L_DATA_CHANGED && !(ids ? g->s[T_SEQ].used && numel(&g->s[T_SEQ].t) > 0
                                     : g->ap.cos_format == 1 && g->nseq > 0 && !g->s[T_SEQ].nodata))
        L = L_EXEC_OTHER;
    g->life = L;
    if (L == L_COUNT_IN) /* QK-norm + RoPE takes 5; RoPE + KV cache 8 or 10 */
        g->bad_count = (size_t)(g->e == E_QKN_OP  ? PICK(0, 1, 4, 6, -1)
                                : g->e == E_KV_OP ? PICK(0, 1, 7, 9, 11, -1)
                                : onnx || vllm    ? PICK(0, 1, 2, 5, 6, -1)
                                                  : PICK(0, 3, 4, 6, -1));
    if (L == L_COUNT_OUT) /* vLLM without key: 1 or 2 outputs; QK-norm + RoPE 1; RoPE + KV cache 4 */
        g->bad_count = (size_t)(g->e == E_QKN_OP ? PICK(0, 2)
                                : g->e == E_KV_OP ? PICK(0, 3, 5)
                                : onnx           ? PICK(0, 2, 3)
                                : vllm && !g->s[T_K].used ? PICK(0, 3)
                                                          : PICK(0, 1, 3));
    note(g, "lifecycle %d", L);
    if (L == L_DATA_CHANGED) expect(g, BIT(ROPE_ERROR_INDEX), 0);
    else if (L == L_COUNT_IN || L == L_COUNT_OUT) expect(g, BIT(ROPE_ERROR_SHAPE), 0);
    else if (L == L_RESETUP_BAD) expect(g, BIT(ROPE_ERROR_STATE), 1);
    else expect(g, 0, 1);
    return 1;
}

/* After setup, position ids or seqlen values changed to invalid ones. */
static void break_data(gcase *g) {
    if (g->e == E_ONNX_OP) set64(g, T_SEQ, 0, g->maxpos), note(g, "ids[0] = max_pos after setup");
    else if (g->e == E_VLLM_OP || prologue_e(g->e))
        set_pos(g, T_SEQ, 0, g->maxpos), note(g, "positions[0] = P after setup");
    else break_seqlen(g);
    int b = g->s[T_SEQ].home;
    memcpy(g->snap[b], g->mem[b], g->size[b]);
}

/* A pack that differs from the one given to setup in one descriptor. */
static void disturb_pack(gcase *g, rope_variant_pack *p) {
    rope_tensor *in = (rope_tensor *)p->inputs, *out = (rope_tensor *)p->outputs;
    switch (tu_int(0, 4)) {
    case 0:
        if (out[0].data && g->s[T_Y].bytes >= 4) {
            out[0].data = (char *)out[0].data + 2;
            break;
        }
        /* fall through */
    case 1: in[0].dims[0] += 1; break;
    case 2: in[0].row_stride = in[0].row_stride ? 0 : g->s[T_X].row; break;
    case 3: p->n_inputs -= 1; break;
    default: out[p->n_outputs - 1].dtype = (rope_dtype)(out[p->n_outputs - 1].dtype == ROPE_F32 ? ROPE_F16 : ROPE_F32);
    }
}

static rope_status exec(rope_operation *op, const rope_variant_pack *pack, rope_context *ctx) {
    return rope_operation_execute(op, pack, NULL, 0, ctx);
}

/* Create, infer_shape, setup, execute with the case's tensors and g->life's disturbance. Returns the
 * status the case's expectation is about (create's or setup's failure, else the last execute's);
 * *shown gets the one to tally: the disturbed step's when that does not decide the case. */
/* The lifecycle's tensors: inputs and outputs in the operator's order, as slots. */
typedef struct op_slots {
    const int *in, *out;
    size_t n_in, n_out;
} op_slots;

static op_slots slots_of(const gcase *g) {
    static const int onnx_in[4] = {T_X, T_COS, T_SIN, T_SEQ}, atb_in[5] = {T_X, T_K, T_COS, T_SIN, T_SEQ};
    static const int vllm_in[4] = {T_SEQ, T_X, T_K, T_COS}, vllm_in3[3] = {T_SEQ, T_X, T_COS}; /* 3: no key */
    static const int qkn_in[5] = {T_SEQ, T_X, T_QW, T_KW, T_COS};
    static const int kv_in[10] = {T_SEQ, T_X, T_K, T_V, T_COS, T_KC, T_VC, T_SLOT, T_QW, T_KW};
    static const int y[1] = {T_Y}, yk[2] = {T_Y, T_RK}, x[1] = {T_X}, kv_out[4] = {T_X, T_K, T_KC, T_VC};
    switch (g->e) {
    case E_ONNX_OP: return (op_slots){onnx_in, y, (size_t)g->n_in, 1};
    case E_ATB_OP: return (op_slots){atb_in, yk, 5, 2};
    case E_VLLM_OP: return (op_slots){g->n_in == 3 ? vllm_in3 : vllm_in, yk, (size_t)g->n_in, 2};
    case E_QKN_OP: return (op_slots){qkn_in, x, 5, 1};
    default: return (op_slots){kv_in, kv_out, (size_t)g->n_in, 4};
    }
}

static rope_status create(const gcase *g, rope_operation **out) {
    switch (g->e) {
    case E_ONNX_OP: return rope_operation_create_onnx(g->attrs_null ? NULL : &g->oa, out);
    case E_ATB_OP: return rope_operation_create_atb(g->attrs_null ? NULL : &g->ap, out);
    case E_VLLM_OP: return rope_operation_create_vllm(g->attrs_null ? NULL : &g->va, out);
    case E_QKN_OP: return rope_operation_create_vllm_qk_norm_rope(g->attrs_null ? NULL : &g->qn, out);
    default: return rope_operation_create_vllm_rope_and_cache(g->attrs_null ? NULL : &g->kv, out);
    }
}

rope_status run_op(gcase *g, rope_context *ctx, rope_status *shown) {
    const int onnx = g->e == E_ONNX_OP, vllm = g->e == E_VLLM_OP, L = g->life;
    const char *fc = onnx                ? "rope_operation_create_onnx"
                     : vllm              ? "rope_operation_create_vllm"
                     : g->e == E_QKN_OP  ? "rope_operation_create_vllm_qk_norm_rope"
                     : g->e == E_KV_OP   ? "rope_operation_create_vllm_rope_and_cache"
                                         : "rope_operation_create_atb";
    const char *fi = "rope_operation_infer_shape", *fs = "rope_operation_setup", *fe = "rope_operation_execute";
    rope_operation *const sentinel = (rope_operation *)(void *)g;
    rope_operation *op = sentinel;
    rope_operation **out_op = L == L_CREATE_NULL ? NULL : &op;
    rope_status st = create(g, out_op);
    *shown = st;
    if (st != ROPE_OK || L == L_CREATE_NULL) {
        check(g, st == ROPE_ERROR_NULL_ARGUMENT || L != L_CREATE_NULL, "create with a NULL out gave %s",
              status_name(st));
        if (st == ROPE_OK) rope_operation_destroy(op);
        else failed_step(g, fc, st);
        check(g, op == sentinel, "%s failed but wrote *out", fc);
        return st;
    }
    const op_slots os = slots_of(g);
    const size_t n_in = os.n_in, n_out = os.n_out;
    rope_tensor *in = tu_xmalloc(n_in * sizeof *in), *out = tu_xmalloc(n_out * sizeof *out);
    for (size_t i = 0; i < n_in; i++) {
        int s = os.in[i];
        if (g->s[s].used) in[i] = g->s[s].t;
        else memset(&in[i], 0, sizeof in[i]), in[i].dtype = ROPE_I64; /* rank 0: ids / key / weights absent */
    }
    for (size_t i = 0; i < n_out; i++) {
        int s = os.out[i];
        if (g->s[s].used) out[i] = g->s[s].t;
        else memset(&out[i], 0, sizeof out[i]); /* vLLM without key: key_out is not read */
    }
    const size_t nin = L == L_COUNT_IN ? g->bad_count : n_in, nout = L == L_COUNT_OUT ? g->bad_count : n_out;
    int side = -1; /* the status of a disturbed step that does not decide the case */

    /* infer_shape: a failure must be allowed and leave its outputs alone; the setup then fails too. */
    rope_tensor *inf = tu_xmalloc(n_out * sizeof *inf), *inf0 = tu_xmalloc(n_out * sizeof *inf0);
    memset(inf, 0x5a, n_out * sizeof *inf);
    memcpy(inf0, inf, n_out * sizeof *inf);
    st = rope_operation_infer_shape(L == L_INFER_OP_NULL ? NULL : op, L == L_INFER_IN_NULL ? NULL : in, nin,
                                    L == L_INFER_OUT_NULL ? NULL : inf, nout);
    int infer_failed = st != ROPE_OK;
    if (L >= L_INFER_OP_NULL && L <= L_INFER_OUT_NULL) {
        check(g, st == ROPE_ERROR_NULL_ARGUMENT, "infer_shape with a NULL argument gave %s", status_name(st));
        side = st, infer_failed = 0;
    } else if (st != ROPE_OK) {
        check(g, in_mask(allowed(g), st), "infer_shape gave %s, not among %s", status_name(st),
              mask_str(allowed(g)));
    } else {
        for (size_t i = 0; i < n_out; i++) { /* vLLM: query_out, key_out from query, key; the prologue: in place */
            int s = vllm ? (i ? T_K : T_X) : prologue_e(g->e) ? os.out[i] : -1;
            if (s >= 0 && !g->s[s].used) continue;
            const rope_tensor *want = s >= 0 ? &g->s[s].t : &in[i];
            rope_tensor got = inf[i];
            if (prologue_e(g->e) && got.row_stride == want->row_stride) got.row_stride = 0; /* in place: its own */
            check(g, same_desc(&got, want), "infer_shape output %zu is not its input's descriptor", i);
        }
    }
    if (st != ROPE_OK) {
        failed_step(g, fi, st);
        check(g, memcmp(inf, inf0, n_out * sizeof *inf) == 0, "infer_shape failed but wrote its outputs");
    }
    free(inf);
    free(inf0);

    rope_variant_pack pack = {in, nin, out, nout};
    if (L == L_EXEC_FIRST) {
        side = exec(op, &pack, ctx);
        check(g, side == ROPE_ERROR_STATE, "execute before setup gave %s", status_name(side));
        if (side != ROPE_OK) failed_step(g, fe, side);
    }
    size_t ws = 777;
    if (L == L_SETUP_IN_NULL) pack.inputs = NULL;
    if (L == L_SETUP_OUTS_NULL) pack.outputs = NULL;
    st = rope_operation_setup(L == L_SETUP_OP_NULL ? NULL : op, L == L_SETUP_PACK_NULL ? NULL : &pack,
                              L == L_SETUP_WS_NULL ? NULL : &ws);
    pack.inputs = in, pack.outputs = out;
    const int setup_null = L >= L_SETUP_OP_NULL && L <= L_SETUP_OUTS_NULL;
    if (setup_null) check(g, st == ROPE_ERROR_NULL_ARGUMENT, "setup with a NULL argument gave %s", status_name(st));
    rope_status final = st;
    if (st != ROPE_OK) {
        failed_step(g, fs, st);
        check(g, ws == 777, "setup failed but wrote *workspace_size");
        rope_status s2 = exec(op, &pack, ctx);
        check(g, s2 == ROPE_ERROR_STATE, "execute after a failed setup gave %s", status_name(s2));
        if (s2 != ROPE_OK) failed_step(g, fe, s2);
    } else {
        check(g, !infer_failed, "setup accepted a pack infer_shape rejected");
        check(g, ws == 0, "setup reported a workspace of %zu bytes", ws);
        rope_tensor *in2 = tu_xmalloc(n_in * sizeof *in2), *out2 = tu_xmalloc(n_out * sizeof *out2);
        memcpy(in2, in, n_in * sizeof *in2);
        memcpy(out2, out, n_out * sizeof *out2);
        rope_variant_pack pack2 = {in2, n_in, out2, n_out};
        int again = 1; /* then execute the pack of the setup */
        switch (L) {
        case L_EXEC_OP_NULL: side = exec(NULL, &pack, ctx); break;
        case L_EXEC_PACK_NULL: side = exec(op, NULL, ctx); break;
        case L_EXEC_OTHER: disturb_pack(g, &pack2), side = exec(op, &pack2, ctx); break;
        case L_EXEC_COPY: final = exec(op, &pack2, ctx), again = 0; break;
        case L_WORKSPACE: {
            unsigned char *w = tu_xmalloc(64);
            final = rope_operation_execute(op, &pack, w, 64, ctx), again = 0;
            free(w);
            break;
        }
        case L_DATA_CHANGED: break_data(g); break;
        case L_RESETUP_BAD: {
            in2[0].dtype = (rope_dtype)42;
            rope_status s2 = rope_operation_setup(op, &pack2, &ws);
            check(g, s2 == ROPE_ERROR_DTYPE, "setup with a bad dtype gave %s", status_name(s2));
            if (s2 != ROPE_OK) failed_step(g, fs, s2);
            break;
        }
        default: break;
        }
        if (L == L_EXEC_OP_NULL || L == L_EXEC_PACK_NULL)
            check(g, side == ROPE_ERROR_NULL_ARGUMENT, "execute with a NULL argument gave %s", status_name(side));
        if (L == L_EXEC_OTHER)
            check(g, side == ROPE_ERROR_STATE, "execute with another pack gave %s", status_name(side));
        if (side > ROPE_OK && (L == L_EXEC_OP_NULL || L == L_EXEC_PACK_NULL || L == L_EXEC_OTHER))
            failed_step(g, fe, (rope_status)side);
        free(in2);
        free(out2);
        if (again) final = exec(op, &pack, ctx);
        if (final != ROPE_OK) failed_step(g, fe, final);
    }
    rope_operation_destroy(op);
    free(in);
    free(out);
    *shown = side >= 0 ? (rope_status)side : final;
    return final;
}
