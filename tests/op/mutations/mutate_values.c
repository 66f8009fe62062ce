/* SPDX-License-Identifier: MIT */
/* test_api_mutations mutations of the values the calls read, applied after the blocks are filled: position
 * ids, seqlen, on-the-fly positions, multi-axis coordinates and cache positions out of range or too
 * large for float64. */
#include <math.h>
#include <string.h>

#include "mutations.h"

/* Breaks the seqlen values (read ones): a negative or too large value, or a wrong sum. */
void break_seqlen(gcase *g) {
    int64_t k = tu_int(0, g->nseq - 1), v = get_seq(g, k);
    switch (tu_int(0, 2)) {
    case 0: v = PICK(-1, INT32_MIN, (int64_t)UINT32_MAX); break;
    case 1: v = fly_e(g->e) ? v + 1 : g->maxpos + 1; break;
    default: v = v >= 1 && tu_int(0, 1) ? v - 1 : v + 1; break;
    }
    set_seq(g, k, v);
    note(g, "seqlen[%lld] = %lld", (long long)k, (long long)v);
}

/* The coordinates' axes count: their last dim ([T, A]; the on-the-fly forms' [B, S, A] too). */
static int64_t coord_axes(const gcase *g) { return g->s[T_POS].t.dims[g->s[T_POS].t.rank - 1]; }

/* rope_cache_fill_axes and the multi-axis on-the-fly forms: a coordinate that is not finite, an
 * integer past 2^53, or one whose angle reaches 2^46 rad (inv of pair 0 of every axis is 1:
 * theta^0). The on-the-fly message names fly->positions[token, axis]. */
static int index_axes(gcase *g) {
    int64_t n = numel(&g->s[T_POS].t);
    rope_dtype dt = g->s[T_POS].t.dtype;
    if (n <= 0 || dt == ROPE_I32) return 0; /* an int32 coordinate stays below 2^46 */
    int64_t k = tu_int(0, n - 1), A = coord_axes(g), axis0 = k / A * A; /* 2^46: pair 0 of axis 0 turns by it */
    double v;
    if (dt == ROPE_I64) {
        int64_t w = PICK(POS_LIMIT + 1, -POS_LIMIT - 1, INT64_MAX, INT64_MIN, P2(46), -P2(46));
        if (w == P2(46) || w == -P2(46)) k = axis0;
        memcpy((char *)g->s[T_POS].t.data + 8 * k, &w, 8);
        note(g, "coordinate[%lld] = %lld", (long long)k, (long long)w);
    } else {
        const double bad[] = {NAN, INFINITY, -INFINITY, 0x1p46, -0x1p46, 1e30};
        v = bad[tu_int(0, 5)];
        if (fabs(v) == 0x1p46) k = axis0;
        set_coord(g, k, v);
        note(g, "coordinate[%lld] = %g", (long long)k, v);
    }
    if (axf_e(g->e)) g->names = "fly->positions[";
    expect(g, BIT(ROPE_ERROR_INDEX), 0);
    return 1;
}

/* The cache write's slot_mapping: a slot at or past the caches' capacity, or one taken twice. */
static int index_slots(gcase *g) {
    int64_t n = numel(&g->s[T_SLOT].t), cap = kv_capacity(g);
    if (n <= 0) return 0;
    int64_t k = tu_int(0, n - 1), j = tu_int(0, n - 1), v, taken = -1;
    if (g->s[T_SLOT].t.dtype == ROPE_I64) memcpy(&taken, (const char *)g->s[T_SLOT].t.data + 8 * j, 8);
    else {
        int32_t w;
        memcpy(&w, (const char *)g->s[T_SLOT].t.data + 4 * j, 4);
        taken = w;
    }
    if (j != k && taken >= 0 && tu_int(0, 1)) v = taken; /* twice */
    else v = g->s[T_SLOT].t.dtype == ROPE_I64 ? PICK(cap, cap + 5, INT64_MAX) : PICK(cap, cap + 5, INT32_MAX);
    set_pos(g, T_SLOT, k, v);
    note(g, "slot_mapping[%lld] = %lld (capacity %lld)", (long long)k, (long long)v, (long long)cap);
    expect(g, BIT(ROPE_ERROR_INDEX), check_e(g->e));
    return 1;
}

int m_index(gcase *g) {
    if (coords_e(g->e)) return index_axes(g); /* ATB's seqlen is not read */
    if (kv_e(g->e) && tu_int(0, 1) && index_slots(g)) return 1;
    if (g->e == E_CACHE) {
        g->pos_start = PICK(-1, -1000, INT64_MIN);
        note(g, "pos_start %lld", (long long)g->pos_start);
        expect(g, BIT(ROPE_ERROR_INDEX), 0);
        return 1;
    }
    int pos = g->s[T_POS].used && numel(&g->s[T_POS].t) > 0;
    int seq = atb_e(g->e) && g->nseq > 0 && !g->s[T_SEQ].nodata;
    int ids = (onnx_e(g->e) || vllm_e(g->e) || prologue_e(g->e)) && g->s[T_SEQ].used && numel(&g->s[T_SEQ].t) > 0;
    if (!pos && !seq && !ids) return 0;
    int i32 = g->s[pos ? T_POS : T_SEQ].t.dtype == ROPE_I32; /* vLLM positions may be int32 */
    if (ids) {
        int64_t k = tu_int(0, numel(&g->s[T_SEQ].t) - 1), v = PICK(-1, g->maxpos, g->maxpos + 3, INT64_MIN, INT64_MAX);
        if (i32) v = PICK(-1, g->maxpos, g->maxpos + 3, INT32_MIN, INT32_MAX);
        if (vllm_e(g->e) || prologue_e(g->e)) set_pos(g, T_SEQ, k, v);
        else set64(g, T_SEQ, k, v);
        note(g, "ids[%lld] = %lld", (long long)k, (long long)v);
    } else if (seq && (!pos || tu_int(0, 1))) {
        if (!seq_read(g)) { /* values nobody reads: anything goes */
            for (int64_t k = 0; k < g->nseq; k++) set_seq(g, k, (int64_t)tu_u64());
            note(g, "unread seqlen garbage");
            expect(g, 0, 1);
            return 1;
        }
        break_seqlen(g);
    } else {
        int64_t k = tu_int(0, numel(&g->s[T_POS].t) - 1), v = i32 ? PICK(-1, INT32_MIN) : PICK(-1, -P2(40), INT64_MIN);
        set_pos(g, T_POS, k, v);
        note(g, "positions[%lld] = %lld", (long long)k, (long long)v);
    }
    expect(g, BIT(ROPE_ERROR_INDEX), infer_e(g->e) || check_e(g->e));
    return 1;
}

/* INDEX when the last position reaches 2^53 or its largest angle 2^46 rad (rope.h). */
static int pos_bad(int64_t last, double max_inv) { return last >= POS_LIMIT || (double)last * max_inv >= 0x1p46; }

/* rope_cache_fill_axes: axis 0's coordinate at the edge of the angle limit (pair 0 turns by the
 * coordinate itself): 2^46 and beyond refused, just below accepted. */
static int pos_huge_axes(gcase *g) {
    int64_t n = numel(&g->s[T_POS].t), A = coord_axes(g);
    rope_dtype dt = g->s[T_POS].t.dtype;
    if (n <= 0 || A <= 0 || dt == ROPE_I32) return 0;
    int64_t k = tu_int(0, n / A - 1) * A;                         /* axis 0 of a token */
    double below = dt == ROPE_F32 ? 0x1p46 - 0x1p22 : 0x1p46 - 1; /* the largest value below 2^46 in dt */
    double v = tu_int(0, 1) ? below : 0x1p46;
    if (tu_int(0, 1)) v = -v;
    set_coord(g, k, v);
    note(g, "coordinate[%lld] = %.17g", (long long)k, v);
    int bad = fabs(v) >= 0x1p46;
    if (axf_e(g->e) && bad) g->names = "fly->positions[";
    expect(g, bad ? BIT(ROPE_ERROR_INDEX) : 0, !bad);
    return 1;
}

int m_pos_huge(gcase *g) {
    if (coords_e(g->e)) return pos_huge_axes(g);
    double inv[16], max_inv = 0;
    if (rope_freq_compute(&g->fc, inv, NULL) != ROPE_OK) return 0;
    for (int64_t i = 0; i < g->fc.rotary_dim / 2; i++) max_inv = inv[i] > max_inv ? inv[i] : max_inv;
    double lim = 0x1p46 / max_inv;
    int64_t a_bad = lim < 0x1p53 ? (int64_t)ceil(lim * (1 + 1e-9)) + 1 : POS_LIMIT;
    int64_t a_ok = (int64_t)(lim * 0.5) < POS_LIMIT / 2 ? (int64_t)(lim * 0.5) : POS_LIMIT / 2;
    if (g->e == E_CACHE) {
        int64_t c = g->count, v = PICK(POS_LIMIT - c + 1, INT64_MAX, POS_LIMIT - c, a_bad, a_ok - c, a_ok);
        g->pos_start = v;
        note(g, "pos_start %lld", (long long)v);
        int bad = v < 0 || v > POS_LIMIT - c || (c > 0 && pos_bad(v + c - 1, max_inv));
        expect(g, bad ? BIT(ROPE_ERROR_INDEX) : 0, !bad);
        return 1;
    }
    int64_t n = numel(&g->s[T_POS].t);
    if (n <= 0 || g->s[T_POS].t.dtype == ROPE_I32) return 0; /* int32 positions cannot reach 2^46 / inv */
    int64_t k = tu_int(0, n - 1), len = 1, v;
    if (g->pkind) len = atb_e(g->e) ? get_seq(g, k) : onnx_seq(g);
    if (len <= 0) {
        v = INT64_MAX;
        expect(g, BIT(ROPE_ERROR_INDEX), 1); /* an empty sequence has no last position */
    } else {
        v = PICK(POS_LIMIT - len + 1, INT64_MAX, a_bad, a_ok - len + 1 > 0 ? a_ok - len + 1 : 0);
        if (!g->pkind) v = PICK(POS_LIMIT, POS_LIMIT + 1, INT64_MAX, a_bad, a_ok);
        int bad = v > POS_LIMIT - len || pos_bad(v + len - 1, max_inv);
        expect(g, bad ? BIT(ROPE_ERROR_INDEX) : 0, !bad);
    }
    set64(g, T_POS, k, v);
    note(g, "positions[%lld] = %lld (sequence of %lld)", (long long)k, (long long)v, (long long)len);
    return 1;
}
