/* SPDX-License-Identifier: MIT */
/* test_api_mutations: the case record's names, description and element counts, its slots, and the choice
 * of the slot a mutation applies to. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "mutations.h"

const char *const entry_name[N_ENTRY] = {
    "rope_onnx_rotary_embedding", "rope_onnx_rotary_embedding_backward", "rope_onnx_infer", "onnx lifecycle",
    "rope_onnx_rotary_embedding_fly", "rope_onnx_rotary_embedding_fly_backward", "rope_onnx_rotary_embedding_fly_axes",
    "rope_onnx_rotary_embedding_fly_axes_backward", "rope_atb_rope", "rope_atb_rope_backward", "rope_atb_infer",
    "atb lifecycle", "rope_atb_rope_fly", "rope_atb_rope_fly_backward", "rope_atb_rope_fly_axes",
    "rope_atb_rope_fly_axes_backward", "rope_vllm_rotary_embedding", "rope_vllm_rotary_embedding_backward",
    "rope_vllm_infer", "vllm lifecycle", "rope_vllm_rotary_embedding_fly", "rope_vllm_rotary_embedding_fly_backward",
    "rope_vllm_rotary_embedding_fly_axes", "rope_vllm_rotary_embedding_fly_axes_backward", "rope_cache_fill",
    "rope_freq_compute", "rope_cache_fill_axes", "rope_vllm_fused_qk_norm_rope", "rope_vllm_fused_qk_norm_rope_check",
    "qk_norm_rope lifecycle", "rope_vllm_rotary_embedding_and_cache", "rope_vllm_rotary_embedding_and_cache_check",
    "rope_and_cache lifecycle"};
const char *const kind_name[N_KIND] = {
    "valid", "null-pointer", "null-data", "null-attrs", "dtype", "rank", "dim<0", "dim-huge", "dim+-1",
    "empty-huge", "stride-bad", "stride-huge", "stride-legal", "in-place", "shared-in", "overlap", "index",
    "pos>=2^53", "attr-domain", "attr-legal", "freq-config", "lifecycle"};
const char *const short_status[ROPE_STATUS_COUNT_] = {"OK", "NULL", "DTYPE", "RANK", "SHAPE", "ATTR", "INDEX",
                                                      "ALIAS", "STRIDE", "OOM", "UNSUP", "STATE", "WSPACE"};
const char *const slot_name[N_T] = {"X/query/qkv", "key",          "cos",       "sin",
                                    "ids/seqlen",  "Y/ropeQ/inv_freq", "ropeK/attention", "positions",
                                    "value",       "key_cache",    "value_cache", "slot_mapping",
                                    "q_weight",    "k_weight"};

void note(gcase *g, const char *fmt, ...) {
    size_t n = strlen(g->desc);
    if (n + 4 >= sizeof g->desc) return;
    if (n) strcat(g->desc, "; "), n += 2;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(g->desc + n, sizeof g->desc - n, fmt, ap);
    va_end(ap);
}

/* Element count: 0 when a dim is 0 (even past an overflowing product), -1 on a bad rank, a negative
 * dim or an overflow. */
int64_t numel(const rope_tensor *t) {
    if (t->rank < 0 || t->rank > ROPE_MAX_RANK) return -1;
    int64_t n = 1, over = 0;
    for (int i = 0; i < t->rank; i++) {
        if (t->dims[i] < 0) return -1;
        if (t->dims[i] == 0) return 0;
        if (n > INT64_MAX / t->dims[i]) over = 1;
        else n *= t->dims[i];
    }
    return over ? -1 : n;
}

int64_t pick64(const int64_t *v, size_t n) { return v[tu_int(0, (int64_t)n - 1)]; }

slot *put(gcase *g, int i, rope_dtype dt, int rank, const int64_t *dims, int64_t row, int out, int strided) {
    slot *s = &g->s[i];
    memset(s, 0, sizeof *s);
    s->t.dtype = dt, s->t.rank = rank;
    for (int d = 0; d < rank; d++) s->t.dims[d] = dims[d];
    s->row = row, s->out = out, s->strided = strided, s->used = 1, s->home = i;
    return s;
}

void copy_slot(gcase *g, int to, int from, int out) {
    g->s[to] = g->s[from];
    g->s[to].home = to, g->s[to].out = out;
}

/* ---- slot choice ------------------------------------------------------------------------------- */

/* A tensor the call is given (not an output of shape inference, which takes none). */
static int given(const gcase *g, int i) {
    const slot *s = &g->s[i];
    return s->used && !s->null_ptr && !(infer_e(g->e) && s->out) && g->e != E_FREQ;
}

int pick_slot(const gcase *g, int (*pred)(const gcase *, int)) {
    int c[N_T], n = 0;
    for (int i = 0; i < N_T; i++)
        if (given(g, i) && (!pred || pred(g, i))) c[n++] = i;
    return n ? c[tu_int(0, n - 1)] : -1;
}

int has_dims(const gcase *g, int i) { return g->s[i].t.rank >= 1 && g->s[i].t.rank <= ROPE_MAX_RANK; }
int has_data(const gcase *g, int i) { return g->s[i].t.data != NULL; }
int not_ids(const gcase *g, int i) { return !(onnx_e(g->e) && i == T_SEQ); }
int is_atb_seq(const gcase *g, int i) { return atb_e(g->e) && i == T_SEQ; }
/* vLLM's cache claims more rows or a wider row than its block holds, and the call may still be valid
 * (positions below the old row count, a rot still <= head_size): its dims are not mutated. */
int not_vllm_cache(const gcase *g, int i) {
    return has_dims(g, i) && !((vllm_e(g->e) || prologue_e(g->e)) && i == T_COS);
}

/* Whether slot i shares its block with another slot (in place, overlap, shared inputs). */
int shares(const gcase *g, int i) {
    for (int j = 0; j < N_T; j++)
        if (j != i && g->s[j].used && (g->s[j].home == i || g->s[i].home == j)) return 1;
    return 0;
}
