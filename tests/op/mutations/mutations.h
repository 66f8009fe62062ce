/* SPDX-License-Identifier: MIT */
/*
 * The case of test_api_mutations.c, shared by the files of tests/op/mutations: a valid random call of one entry
 * point, up to two mutations applied to it, and what rope.h allows the result to be.
 *
 * A case holds up to N_T tensors in fixed slots (the ONNX, ATB, cache and frequency calls map their
 * arguments onto them). A slot's bytes live in the heap block of its `home` slot at `off`: its own,
 * exactly as large as the tensor's extent, unless a mutation places it inside another's block.
 *
 * Expectations: each mutation adds the statuses it allows (`errs`) and says whether the call may
 * still succeed (`ok`: a legal mutation). A call with an illegal mutation must fail, with one of
 * the statuses of the mutations applied. Mutations that change what a valid call means (attributes
 * within their domain, NULL attributes meaning other defaults) set `wild`: any status goes, but the
 * other checks (known status, message, nothing written on failure, outputs written on success) hold.
 */
#ifndef ROPE_TEST_GARBAGE_H
#define ROPE_TEST_GARBAGE_H

#include <stddef.h>
#include <stdint.h>

#include "harness.h"
#include "rope.h"

#if defined(__GNUC__) || defined(__clang__)
#define ROPE_TEST_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define ROPE_TEST_PRINTF(f, a)
#endif

#define BIT(s) (1u << (unsigned)(s))
#define ANY_ERR ((BIT(ROPE_STATUS_COUNT_) - 1u) & ~1u)
#define P2(n) ((int64_t)1 << (n))
#define POS_LIMIT P2(53)
/* One of the listed values, uniformly. */
#define PICK(...) pick64((const int64_t[]){__VA_ARGS__}, sizeof((const int64_t[]){__VA_ARGS__}) / sizeof(int64_t))

/* The entry points (entry_name) and their families: ONNX, ATB, vLLM, on the fly, inference, lifecycle;
 * the caches (rope_cache_fill, rope_cache_fill_axes) and frequencies; the fused prologue (QK-norm +
 * RoPE and RoPE + KV-cache write: the call, its descriptors-only check, its lifecycle). */
enum entry { E_ONNX, E_ONNX_BWD, E_ONNX_INFER, E_ONNX_OP, E_ONNX_FLY, E_ONNX_FLY_BWD, E_ONNX_AXF, E_ONNX_AXF_BWD,
             E_ATB, E_ATB_BWD, E_ATB_INFER, E_ATB_OP, E_ATB_FLY, E_ATB_FLY_BWD, E_ATB_AXF, E_ATB_AXF_BWD, E_VLLM,
             E_VLLM_BWD, E_VLLM_INFER, E_VLLM_OP, E_VLLM_FLY, E_VLLM_FLY_BWD, E_VLLM_AXF, E_VLLM_AXF_BWD, E_CACHE,
             E_FREQ, E_AXES, E_QKN, E_QKN_CHECK, E_QKN_OP, E_KV, E_KV_CHECK, E_KV_OP, N_ENTRY };
static inline int onnx_e(int e) { return e <= E_ONNX_AXF_BWD; }
static inline int atb_e(int e) { return e >= E_ATB && e <= E_ATB_AXF_BWD; }
/* vLLM slots: query X, key K (unused when absent), cos_sin_cache COS, positions SEQ (tables) or POS
 * (on the fly), query_out Y, key_out RK. */
static inline int vllm_e(int e) { return e >= E_VLLM && e <= E_VLLM_AXF_BWD; }
/* The multi-axis on-the-fly forms (rope_fly_axes: g->fa, its axes g->ax, coordinates in POS:
 * ONNX [batch*seq, A], [batch, seq, A] or [seq, A]; ATB [ntokens, A]; vLLM [T, A] or [B, S, A]). They
 * are not fly_e: that one's rope_fly (kind, freq) they do not have. */
static inline int axf_e(int e) {
    return e == E_ONNX_AXF || e == E_ONNX_AXF_BWD || e == E_ATB_AXF || e == E_ATB_AXF_BWD || e == E_VLLM_AXF ||
           e == E_VLLM_AXF_BWD;
}
/* Entry points whose positions are rope_cache_fill_axes' coordinates (any of four dtypes, [.., A]). */
static inline int coords_e(int e) { return axf_e(e) || e == E_AXES; }
static inline int fly_e(int e) {
    return e == E_ONNX_FLY || e == E_ONNX_FLY_BWD || e == E_ATB_FLY || e == E_ATB_FLY_BWD || e == E_VLLM_FLY ||
           e == E_VLLM_FLY_BWD;
}
static inline int infer_e(int e) { return e == E_ONNX_INFER || e == E_ATB_INFER || e == E_VLLM_INFER; }
/* The fused prologue. Slots: positions SEQ, cos_sin_cache COS; QK-norm: qkv X (in place);
 * KV: query X and key K (in place), value V, key_cache KC and value_cache VC (outputs: only the
 * mapped slots' entries written), slot_mapping SLOT; q_weight QW and k_weight KW (KV: optional). */
static inline int qkn_e(int e) { return e == E_QKN || e == E_QKN_CHECK || e == E_QKN_OP; }
static inline int kv_e(int e) { return e == E_KV || e == E_KV_CHECK || e == E_KV_OP; }
static inline int prologue_e(int e) { return qkn_e(e) || kv_e(e); }
/* The descriptors-only checks of the fused prologue: every tensor given, no data read. */
static inline int check_e(int e) { return e == E_QKN_CHECK || e == E_KV_CHECK; }
static inline int op_e(int e) {
    return e == E_ONNX_OP || e == E_ATB_OP || e == E_VLLM_OP || e == E_QKN_OP || e == E_KV_OP;
}
static inline int table_e(int e) { return (onnx_e(e) || atb_e(e) || vllm_e(e)) && !fly_e(e) && !axf_e(e); }
static inline int cfg_e(int e) { return fly_e(e) || e == E_CACHE || e == E_FREQ; }

/* The mutation kinds (kind_name; K_VALID: none). */
enum kind { K_VALID, K_NULL_PTR, K_NULL_DATA, K_NULL_ATTRS, K_DTYPE, K_RANK, K_DIM_NEG, K_DIM_HUGE, K_DIM_OFF,
            K_EMPTY_HUGE, K_STRIDE_BAD, K_STRIDE_HUGE, K_STRIDE_OK, K_IN_PLACE, K_SHARED_IN, K_OVERLAP, K_INDEX,
            K_POS_HUGE, K_ATTR, K_ATTR_SEM, K_FREQ, K_LIFECYCLE, N_KIND };
/* Lifecycle disturbances: NULL arguments (K_NULL_PTR) up to L_EXEC_PACK_NULL, then K_LIFECYCLE's. */
enum life { L_NONE, L_CREATE_NULL, L_INFER_OP_NULL, L_INFER_IN_NULL, L_INFER_OUT_NULL, L_SETUP_OP_NULL,
            L_SETUP_PACK_NULL, L_SETUP_WS_NULL, L_SETUP_IN_NULL, L_SETUP_OUTS_NULL, L_EXEC_OP_NULL, L_EXEC_PACK_NULL,
            L_EXEC_FIRST, L_EXEC_OTHER, L_EXEC_COPY, L_WORKSPACE, L_RESETUP_BAD, L_DATA_CHANGED, L_COUNT_IN,
            L_COUNT_OUT, N_LIFE };

/* Slots: X or query (qkv), key, cos, sin, position_ids or seqlen, Y or ropeQ (inv_freq for
 * rope_freq_compute), ropeK (attention_scale), on-the-fly (and multi-axis) positions; the fused
 * prologue's value, key_cache, value_cache, slot_mapping, q_weight, k_weight. */
enum { T_X, T_K, T_COS, T_SIN, T_SEQ, T_Y, T_RK, T_POS, T_V, T_KC, T_VC, T_SLOT, T_QW, T_KW, N_T };
extern const char *const entry_name[N_ENTRY], *const kind_name[N_KIND], *const slot_name[N_T];
extern const char *const short_status[ROPE_STATUS_COUNT_];

typedef struct slot {
    rope_tensor t;
    int used, out, strided, null_ptr, nodata; /* nodata: valid with data NULL (unread seqlen) */
    int io;                                   /* in place: read, then its rows written (the prologue's q, k, qkv) */
    int sparse;                               /* an output written only at the mapped slots (KV caches) */
    int64_t row;                              /* elements of a row (the last dim for dense-only tensors) */
    int home;                                 /* the slot whose block holds it */
    size_t off, bytes;
} slot;

typedef struct gcase {
    int e, it;
    slot s[N_T];
    rope_onnx_attrs oa;
    rope_atb_param ap;
    rope_vllm_attrs va;
    rope_freq_config fc;
    rope_axes_config ax;
    rope_qk_norm_attrs qn;
    rope_kv_cache_attrs kv;
    int64_t hq, hk, hv, hd; /* the prologue's heads and head size as the valid call made them */
    double sf[16], lf[16];
    rope_fly fly;
    rope_fly_axes fa;
    int attrs_null, cfg_null, fly_null, n_in, life, pkind;
    size_t bad_count;
    int64_t maxpos, ntok, nseq, seql[4], pos_start, count;
    int layout;
    int32_t coeff;
    int kinds[2], nk, wild, ok, shaped; /* shaped: a dim changed (rows may no longer be what they were) */
    unsigned errs;
    unsigned char *mem[N_T], *snap[N_T];
    size_t size[N_T];
    char desc[400];
    const char *names; /* a string the message must hold (the argument a lone refused mutation names) */
} gcase;

/* cases.c: the case's description, element counts, slots and the choice of one */
void note(gcase *g, const char *fmt, ...) ROPE_TEST_PRINTF(2, 3);
int64_t numel(const rope_tensor *t);
int64_t pick64(const int64_t *v, size_t n);
slot *put(gcase *g, int i, rope_dtype dt, int rank, const int64_t *dims, int64_t row, int out, int strided);
void copy_slot(gcase *g, int to, int from, int out);
int pick_slot(const gcase *g, int (*pred)(const gcase *, int));
int has_dims(const gcase *g, int i);
int has_data(const gcase *g, int i);
int not_ids(const gcase *g, int i);
int is_atb_seq(const gcase *g, int i);
int not_vllm_cache(const gcase *g, int i);
void set_pos(gcase *g, int i, int64_t k, int64_t v);
int shares(const gcase *g, int i);

/* expected_status.c: what the contract allows */
int applicable_kind(int e, int k);
unsigned allowed(const gcase *g);
void expect(gcase *g, unsigned errs, int ok);
int in_mask(unsigned m, rope_status s);
const char *status_name(rope_status s);
const char *mask_str(unsigned m);
int seq_read(const gcase *g);
int coeff_valid(int64_t rc, int64_t d);
int partner(const gcase *g, int i);
int rank_accepted(const gcase *g, int i, int r);
int dtype_accepted(const gcase *g, int i, rope_dtype d);

/* buffers.c: the heap blocks, their canary, values and snapshot */
size_t extent(const slot *s);
int is_canary(const unsigned char *p, size_t o, size_t n);
void set64(gcase *g, int i, int64_t k, int64_t v);
int64_t get_seq(gcase *g, int64_t k);
void set_seq(gcase *g, int64_t k, int64_t v);
void set_coord(gcase *g, int64_t k, double v);
int64_t kv_capacity(const gcase *g);
void place(gcase *g);
void take_snapshot(gcase *g);
int unchanged(const gcase *g);
void release(gcase *g);

/* valid_calls.c: valid calls */
int64_t onnx_seq(const gcase *g);
void generate(gcase *g);

/* mutate_*.c, lifecycle.c: the mutations (1 when applied, 0 when the case declines) */
int m_null_ptr(gcase *g);
int m_null_data(gcase *g);
int m_null_attrs(gcase *g);
int m_dtype(gcase *g);
int m_rank(gcase *g);
int m_dim_neg(gcase *g);
int m_dim_huge(gcase *g);
int m_dim_off(gcase *g);
int m_empty_huge(gcase *g);
int m_stride_bad(gcase *g);
int m_stride_huge(gcase *g);
int m_stride_ok(gcase *g);
int m_in_place(gcase *g);
int m_shared_in(gcase *g);
int m_overlap(gcase *g);
int m_index(gcase *g);
int m_pos_huge(gcase *g);
void break_seqlen(gcase *g);
int m_attr(gcase *g);
int m_attr_sem(gcase *g);
int m_freq(gcase *g);
int m_lifecycle(gcase *g);

/* mutate.c */
void mutate_and_place(gcase *g);

/* checks.c: the checks of a call's effects */
void check(gcase *g, int cond, const char *fmt, ...) ROPE_TEST_PRINTF(3, 4);
void failed_step(gcase *g, const char *fn, rope_status st);
void verify_written(gcase *g);
int same_desc(const rope_tensor *a, const rope_tensor *want);

/* run.c: builds, runs and checks case `it` of entry point e; the tallies test_api_mutations prints */
void mutations_one(int it, int e, rope_context *ctx);
extern long mutations_seen[N_KIND][ROPE_STATUS_COUNT_ + 1], mutations_cover[N_ENTRY][N_KIND];
/* checks.c: set by the fuzzer, a failed check aborts (after its message) */
extern int mutations_fatal;

/* lifecycle.c */
rope_status run_op(gcase *g, rope_context *ctx, rope_status *shown);

#endif
