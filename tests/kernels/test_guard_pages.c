/* SPDX-License-Identifier: MIT */
/*
 * No kernel touches memory outside its buffers. Every input and output buffer sits between two
 * inaccessible pages, flush against the trailing guard and, separately, against the leading one,
 * and every available instruction set runs over head sizes 2..300, every even partial width, every
 * dtype combination and pair layout, in place and not:
 *   1. through the kernel tables (scalar, then each SIMD set the CPU has), and the layouts that place
 *      the rotated elements inside the head: split halves (shape.split) and the `lead` elements of
 *      vLLM's rope_dim_offset (the buffer starts that far before the head vector), and the
 *      pairs-to-halves permutation piece (kernels/permute.c, its recursive path for long runs too);
 *   2. through the public calls, rope_onnx_rotary_embedding (all four layouts) and rope_atb_rope (and
 *      the split partial layout's forward, backward and on-the-fly forms), with a context forced to
 *      each instruction set; and the vLLM calls (table, backward, on the fly, plain and MRoPE, key
 *      present or absent, rope_dim_offset, split, pairs to halves and inverse, positions and the
 *      cos_sin_cache guarded too, every head size 2..300); and the fused prologue (the cache write with
 *      its slots at the caches' first and last entries, fp8 or not, normed or not; QK-norm + RoPE).
 * A stray access faults and the crashed test fails.
 */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS */
#include <stdint.h>
#include <string.h>

#include "guard.h"
#include "harness.h"
#include "kernel_data.h"
#include "kernel_sets.h"

enum { MAXH = 300, HEADS = 3, REGION = 64 * 1024 };

static tg_region rx, ry, rk, ryk, rc, rsn, rpos, rv, rw, rw2;

/* Every even partial width of head size hs (rotary width 2..hs). */
static size_t widths(size_t hs, size_t *out) {
    size_t n = 0;
    for (size_t r = 2; r <= hs; r += 2) out[n++] = r;
    return n;
}

/* The layouts to run for one width: ONNX halves and interleaved; ATB rot/2, rot/4, 1, and a rs
 * that is odd or not a multiple of any vector width when rot/2 has such a divisor. */
static size_t layouts(size_t rot, int *full, size_t *rs) {
    size_t n = 0, half = rot / 2;
    full[n] = 0, rs[n++] = half;
    full[n] = 0, rs[n++] = 1;
    full[n] = 1, rs[n++] = half;
    full[n] = 1, rs[n++] = 1;
    if (half % 2 == 0) full[n] = 1, rs[n++] = half / 2;
    for (size_t d = 3; d < half; d++)
        if (half % d == 0 && d % 4 != 0) {
            full[n] = 1, rs[n++] = d;
            break;
        }
    return n;
}

static void run_table(const rope_kernel_set *set) {
    size_t ws[MAXH];
    for (size_t hs = 2; hs <= MAXH; hs++) {
        size_t nw = widths(hs, ws);
        for (int combo = 0; combo < 5; combo++) {
            rope_kernel_shape sh = {tk_combos[combo][0], tk_combos[combo][1], hs, 0, 0, 0, 0, 0, 0, 0};
            size_t es = tk_es(sh.x_dtype), ces = tk_es(sh.cs_dtype);
            for (size_t w = 0; w < nw; w++) {
                int full[8];
                size_t rss[8], nl = layouts(ws[w], full, rss);
                sh.rot = ws[w];
                for (size_t l = 0; l < nl; l++) {
                    sh.cos_full = full[l], sh.pair_stride = rss[l];
                    rope_kernel_fn fn = rope_kernels_select(set, &sh);
                    size_t cn = sh.cos_full ? sh.rot : sh.rot / 2;
                    for (int at_end = 0; at_end < 2; at_end++)
                        for (int in_place = 0; in_place < 2; in_place++) {
                            size_t heads = (size_t)tu_int(1, HEADS), xs = hs + (size_t)tu_int(0, 2) * 7;
                            size_t ys = in_place ? xs : hs + (size_t)tu_int(0, 2) * 5;
                            size_t xn = (heads - 1) * xs + hs, yn = (heads - 1) * ys + hs;
                            sh.nontemporal = !in_place && at_end;
                            void *x = tg_place(&rx, xn * es, at_end);
                            void *y = in_place ? x : tg_place(&ry, yn * es, !at_end);
                            fn(&sh, x, (ptrdiff_t)xs, y, (ptrdiff_t)ys, heads, tg_place(&rc, cn * ces, at_end),
                               tg_place(&rsn, cn * ces, !at_end));
                            if (sh.nontemporal && set->fence) set->fence();
                        }
                }
            }
        }
    }
}

/* The layouts that place the rotated elements inside the head (issue 17), through the kernel tables:
 *   split: pairs (j, head_size/2 + j) for j < rot/2 < head_size/2, half- and full-width cos;
 *   lead: `lead` elements before each head vector copied with it (vLLM's rope_dim_offset), halves
 *   and adjacent pairs with half-width cos, the buffer starting `lead` elements before x.
 * Every even head size, each partial width up to 64 and six others past it. */
static void run_table_positions(const rope_kernel_set *set) {
    for (size_t hs = 2; hs <= MAXH; hs++) {
        size_t ws[MAXH], nw = widths(hs, ws), picked[MAXH], np = 0;
        for (size_t w = 0; w < nw; w++)
            if (ws[w] <= 64 || tu_int(0, (int64_t)nw) < 6) picked[np++] = ws[w];
        for (int combo = 0; combo < 5; combo++) {
            rope_kernel_shape sh = {tk_combos[combo][0], tk_combos[combo][1], hs, 0, 0, 0, 0, 0, 0, 0};
            size_t es = tk_es(sh.x_dtype), ces = tk_es(sh.cs_dtype);
            for (size_t w = 0; w < np; w++)
                for (int v = 0; v < 4; v++) {
                    sh.rot = picked[w];
                    sh.split = v < 2, sh.lead = 0, sh.cos_full = v == 1;
                    if (sh.split && (hs % 2 || sh.rot >= hs)) continue; /* split: a partial width of an even head */
                    if (sh.split) sh.pair_stride = hs / 2;
                    else sh.pair_stride = v == 2 ? sh.rot / 2 : 1, sh.lead = (size_t)tu_int(1, 9);
                    rope_kernel_fn fn = rope_kernels_select(set, &sh);
                    size_t cn = sh.cos_full ? sh.rot : sh.rot / 2, lead = sh.lead;
                    for (int at_end = 0; at_end < 2; at_end++)
                        for (int in_place = 0; in_place < 2; in_place++) {
                            size_t heads = (size_t)tu_int(1, HEADS), xs = lead + hs + (size_t)tu_int(0, 2) * 7;
                            size_t ys = in_place ? xs : lead + hs + (size_t)tu_int(0, 2) * 5;
                            size_t xn = (heads - 1) * xs + lead + hs, yn = (heads - 1) * ys + lead + hs;
                            sh.nontemporal = !in_place && at_end;
                            unsigned char *xb = tg_place(&rx, xn * es, at_end);
                            unsigned char *yb = in_place ? xb : tg_place(&ry, yn * es, !at_end);
                            fn(&sh, xb + lead * es, (ptrdiff_t)xs, yb + lead * es, (ptrdiff_t)ys, heads,
                               tg_place(&rc, cn * ces, at_end), tg_place(&rsn, cn * ces, !at_end));
                            if (sh.nontemporal && set->fence) set->fence();
                        }
                }
        }
    }
}

/* The pairs-to-halves piece (kernels/permute.c) over rotated runs up to MAXH and a few past its
 * stack buffer (4096 bytes: the recursive path), both directions, in place and not, with a lead. */
static void run_permute(void) {
    static const rope_dtype types[] = {ROPE_F32, ROPE_F16, ROPE_BF16};
    size_t long_rots[] = {1026, 2050, 3074, 4098};
    for (int t = 0; t < 3; t++) {
        size_t es = tk_es(types[t]);
        for (size_t k = 0; k < MAXH / 2 + 4; k++) {
            size_t rot = k < MAXH / 2 ? 2 * (k + 1) : long_rots[k - MAXH / 2];
            size_t hs = rot + (size_t)tu_int(0, 1) * 2 * (size_t)tu_int(1, 5);
            size_t lead = (size_t)tu_int(0, 1) * (size_t)tu_int(1, 9);
            for (int at_end = 0; at_end < 2; at_end++)
                for (int in_place = 0; in_place < 2; in_place++) {
                    size_t heads = (size_t)tu_int(1, HEADS), xs = lead + hs + (size_t)tu_int(0, 1) * 3;
                    size_t ys = in_place ? xs : lead + hs + (size_t)tu_int(0, 1) * 5;
                    size_t xn = (heads - 1) * xs + lead + hs, yn = (heads - 1) * ys + lead + hs;
                    unsigned char *xb = tg_place(&rx, xn * es, at_end);
                    unsigned char *yb = in_place ? xb : tg_place(&ry, yn * es, !at_end);
                    rope_halves_to_pairs(types[t], xb + lead * es, (ptrdiff_t)xs, yb + lead * es, (ptrdiff_t)ys, heads,
                                         lead, rot, hs);
                    rope_pairs_to_halves(types[t], yb + lead * es, (ptrdiff_t)ys, heads, rot);
                    /* the run flush against either guard, the head's tail included or not */
                    unsigned char *zb = tg_place(&ryk, ((heads - 1) * rot + rot) * es, at_end);
                    rope_pairs_to_halves(types[t], zb, (ptrdiff_t)rot, heads, rot);
                    rope_halves_to_pairs(types[t], zb, (ptrdiff_t)rot, zb, (ptrdiff_t)rot, heads, 0, rot, rot);
                }
        }
    }
}

/* ONNX through the public call: X [1, heads, 1, head_size] (heads contiguous), cos/sin [1, 1, r/2]. */
static void run_onnx(rope_context *ctx, const char *isa) {
    static const rope_dtype types[] = {ROPE_F32, ROPE_F16, ROPE_BF16};
    size_t ws[MAXH];
    for (size_t hs = 2; hs <= MAXH; hs += 2) {
        size_t nw = widths(hs, ws);
        for (int t = 0; t < 3; t++)
            for (size_t w = 0; w < nw; w++)
                for (int il = 0; il < 4; il++) { /* halves, pairs, pairs to halves, split halves */
                    int at_end = (int)tu_int(0, 1), in_place = (int)tu_int(0, 1);
                    int64_t heads = tu_int(1, HEADS);
                    size_t es = tk_es(types[t]), bytes = (size_t)heads * hs * es, cb = ws[w] / 2 * es;
                    rope_onnx_attrs at = {il, (int64_t)ws[w], 0};
                    rope_tensor X = {tg_place(&rx, bytes, at_end), types[t], 4, {1, heads, 1, (int64_t)hs}, 0};
                    rope_tensor Y = X;
                    if (!in_place) Y.data = tg_place(&ry, bytes, !at_end);
                    rope_tensor C = {tg_place(&rc, cb, at_end), types[t], 3, {1, 1, (int64_t)ws[w] / 2}, 0};
                    rope_tensor S = C;
                    S.data = tg_place(&rsn, cb, !at_end);
                    rope_status st = rope_onnx_rotary_embedding(ctx, &at, &X, &C, &S, NULL, &Y);
                    CHECK(st == ROPE_OK, "%s onnx %s head_size %zu r %zu interleaved %d: %s", isa,
                          rope_dtype_name(types[t]), hs, ws[w], il, rope_last_error());
                }
    }
}

/* ATB through the public call: one token, query [1, D*hq], key [1, D], cos/sin [1, D]. */
static void run_atb(rope_context *ctx, const char *isa) {
    static const rope_dtype combos[4][2] = {
        {ROPE_F32, ROPE_F32}, {ROPE_F16, ROPE_F16}, {ROPE_F16, ROPE_F32}, {ROPE_BF16, ROPE_BF16}};
    for (int64_t d = 2; d <= MAXH; d += 2)
        for (int c = 0; c < 4; c++) {
            int32_t coeffs[4] = {2, 4, (int32_t)d, 2};
            for (int k = 0; k < 4; k++) {
                if (d % coeffs[k] != 0) continue;
                int at_end = (int)tu_int(0, 1), in_place = (int)tu_int(0, 1);
                int64_t hq = tu_int(1, HEADS);
                size_t es = tk_es(combos[c][0]), ces = tk_es(combos[c][1]);
                rope_atb_param p = ROPE_ATB_PARAM_INIT;
                p.rotary_coeff = coeffs[k];
                int64_t w = d; /* a row's unit: the D-wide chunk, or (k 3: split partial) a head of w >= D */
                if (k == 3) {
                    w = d + 2 * tu_int(0, 6);
                    p.partial = ROPE_PARTIAL_SPLIT, p.head_size = (int32_t)w;
                }
                int32_t one = 1;
                rope_tensor Q = {tg_place(&rx, (size_t)(w * hq) * es, at_end), combos[c][0], 2, {1, w * hq}, 0};
                rope_tensor K = {tg_place(&rk, (size_t)w * es, !at_end), combos[c][0], 2, {1, w}, 0};
                rope_tensor OQ = Q, OK = K;
                if (!in_place) {
                    OQ.data = tg_place(&ry, (size_t)(w * hq) * es, !at_end);
                    OK.data = tg_place(&ryk, (size_t)w * es, at_end);
                }
                rope_tensor C = {tg_place(&rc, (size_t)d * ces, at_end), combos[c][1], 2, {1, d}, 0};
                rope_tensor S = C;
                S.data = tg_place(&rsn, (size_t)d * ces, !at_end);
                rope_tensor L = {&one, ROPE_I32, 1, {1}, 0};
                rope_status st = rope_atb_rope(ctx, &p, &Q, &K, &C, &S, &L, &OQ, &OK);
                CHECK(st == ROPE_OK, "%s atb q %s cos %s D %lld coeff %d head %lld: %s", isa,
                      rope_dtype_name(combos[c][0]), rope_dtype_name(combos[c][1]), (long long)d, (int)coeffs[k],
                      (long long)w, rope_last_error());
                if (k == 3) { /* the split layout's backward and on-the-fly forms too */
                    rope_freq_config cfg = ROPE_FREQ_CONFIG_INIT;
                    cfg.rotary_dim = d;
                    int64_t zero = 0;
                    rope_fly fly = {&cfg, ROPE_POSITIONS_PER_TOKEN, {&zero, ROPE_I64, 1, {1}, 0}, combos[c][1]};
                    st = rope_atb_rope_backward(ctx, &p, &Q, &K, &C, &S, &L, &OQ, &OK);
                    CHECK(st == ROPE_OK, "%s atb split backward D %lld head %lld: %s", isa, (long long)d, (long long)w,
                          rope_last_error());
                    st = rope_atb_rope_fly(ctx, &p, &Q, &K, &fly, &L, &OQ, &OK);
                    CHECK(st == ROPE_OK, "%s atb split fly D %lld head %lld: %s", isa, (long long)d, (long long)w,
                          rope_last_error());
                    st = rope_atb_rope_fly_backward(ctx, &p, &Q, &K, &fly, &L, &OQ, &OK);
                    CHECK(st == ROPE_OK, "%s atb split fly backward D %lld head %lld: %s", isa, (long long)d,
                          (long long)w, rope_last_error());
                }
            }
        }
}

/* vLLM: two tokens at the cache's last and first rows, q [2, hq*hs], k [2, hs] or absent, the
 * [P, rot] cache, the positions (i64 or i32; [3, 2] with MRoPE): table, backward and on the fly. */
static void run_vllm(rope_context *ctx, const char *isa) {
    static const rope_dtype combos[5][2] = {{ROPE_F32, ROPE_F32}, {ROPE_F16, ROPE_F16}, {ROPE_F16, ROPE_F32},
                                            {ROPE_BF16, ROPE_BF16}, {ROPE_BF16, ROPE_F32}};
    enum { T = 2, P = 3 };
    for (int64_t hs = 2; hs <= MAXH; hs++) {
        int64_t rots[3] = {hs - hs % 2, 2, 2 * tu_int(1, hs / 2)};
        for (int r = 0; r < 3; r++)
            for (int c = 0; c < 5; c++) {
                int64_t rot = rots[r];
                int at_end = (int)tu_int(0, 1), in_place = (int)tu_int(0, 1), no_key = tu_int(0, 3) == 0;
                int mrope = rot >= 6 && tu_int(0, 1), i32 = (int)tu_int(0, 1);
                int64_t hq = tu_int(1, HEADS);
                size_t es = tk_es(combos[c][0]), ces = tk_es(combos[c][1]);
                rope_vllm_attrs a = ROPE_VLLM_ATTRS_INIT;
                a.head_size = hs;
                a.is_neox = (int32_t)tu_int(0, 1);
                /* where the rotated part sits (issue 17): plain, rope_dim_offset (the last possible one
                 * or any), split halves, pairs to halves; inverse on any */
                int place = (int)tu_int(0, 3);
                if (place == 1 && rot < hs) a.rope_dim_offset = tu_int(0, 1) ? hs - rot : tu_int(0, hs - rot);
                if (place == 2 && rot < hs && hs % 2 == 0) a.is_neox = 1, a.partial = ROPE_PARTIAL_SPLIT;
                if (place == 3) a.is_neox = 0, a.pairs_to_halves = 1;
                a.inverse = (int32_t)tu_int(0, 1);
                if (mrope) {
                    a.n_mrope_section = 3, a.mrope_interleaved = (int32_t)tu_int(0, 1);
                    a.mrope_section[0] = rot / 2 - 2, a.mrope_section[1] = a.mrope_section[2] = 1;
                }
                int64_t n_pos = mrope ? 3 * T : T;
                size_t pb = (size_t)n_pos * (i32 ? 4 : 8);
                void *pd = tg_place(&rpos, pb, at_end);
                for (int64_t i = 0; i < n_pos; i++) { /* the cache's last and first rows */
                    int64_t v = i % 2 ? 0 : P - 1;
                    if (i32) ((int32_t *)pd)[i] = (int32_t)v;
                    else ((int64_t *)pd)[i] = v;
                }
                rope_tensor pos = {pd, i32 ? ROPE_I32 : ROPE_I64, mrope ? 2 : 1, {mrope ? 3 : T, T}, 0};
                if (!mrope) pos.dims[1] = 0;
                rope_tensor Q = {tg_place(&rx, (size_t)(T * hq * hs) * es, at_end), combos[c][0], 2, {T, hq * hs}, 0};
                rope_tensor K = {tg_place(&rk, (size_t)(T * hs) * es, !at_end), combos[c][0], 2, {T, hs}, 0};
                rope_tensor OQ = Q, OK = K;
                if (!in_place) {
                    OQ.data = tg_place(&ry, (size_t)(T * hq * hs) * es, !at_end);
                    OK.data = tg_place(&ryk, (size_t)(T * hs) * es, at_end);
                }
                rope_tensor C = {tg_place(&rc, (size_t)(P * rot) * ces, at_end), combos[c][1], 2, {P, rot}, 0};
                const rope_tensor *k = no_key ? NULL : &K, *ok = no_key ? NULL : &OK;
                rope_freq_config cfg;
                cfg = (rope_freq_config)ROPE_FREQ_CONFIG_INIT;
                cfg.rotary_dim = rot;
                rope_fly fly = {&cfg, ROPE_POSITIONS_PER_TOKEN, pos, combos[c][1]};
                for (int mode = 0; mode < 3; mode++) {
                    rope_status st = mode == 0   ? rope_vllm_rotary_embedding(ctx, &a, &pos, &Q, k, &C, &OQ, ok)
                                     : mode == 1 ? rope_vllm_rotary_embedding_backward(ctx, &a, &pos, &Q, k, &C, &OQ, ok)
                                                 : rope_vllm_rotary_embedding_fly(ctx, &a, &Q, k, &fly, &OQ, ok);
                    CHECK(st == ROPE_OK, "%s vllm mode %d q %s cache %s hs %lld rot %lld mrope %d place %d: %s", isa,
                          mode, rope_dtype_name(combos[c][0]), rope_dtype_name(combos[c][1]), (long long)hs,
                          (long long)rot, mrope, place, rope_last_error());
                }
            }
    }
}

/* The fused prologue (issue 16): rope_vllm_rotary_embedding_and_cache with two tokens whose slots are
 * the caches' first and last entries (so the store piece writes up to either end of the cache, which
 * sits against a guard), caches of the data's dtype or fp8 (the vectorised conversion), NHD and HND,
 * with and without the norm; rope_vllm_fused_qk_norm_rope on a guarded qkv. Every tensor is guarded:
 * query, key, value, cos_sin_cache, positions, slot_mapping, the weights and both caches. Every head
 * size 2..300. */
static void run_prologue(rope_context *ctx, const char *isa) {
    static const rope_dtype dts[3] = {ROPE_F32, ROPE_F16, ROPE_BF16};
    enum { T = 2, P = 3 };
    for (int64_t hs = 2; hs <= MAXH; hs++)
        for (int d = 0; d < 3; d++)
            for (int kind = 0; kind < 3; kind++) {
                rope_dtype dt = dts[d], ct = kind == 0 ? dt : kind == 1 ? ROPE_FP8_E4M3 : ROPE_FP8_E5M2;
                rope_dtype cdt = tu_int(0, 1) ? ROPE_F32 : dt, wdt = tu_int(0, 1) ? ROPE_F32 : dt;
                int at_end = (int)tu_int(0, 1), normed = (int)tu_int(0, 1), nhd = (int)tu_int(0, 1);
                int64_t rot = tu_int(0, 1) ? hs - hs % 2 : 2 * tu_int(1, hs / 2), hq = tu_int(1, HEADS);
                int64_t hk = tu_int(1, 2), bs = 2;
                size_t es = tk_es(dt), ces = rope_dtype_size(ct), cse = tk_es(cdt), wes = tk_es(wdt);
                rope_kv_cache_attrs a;
                memset(&a, 0, sizeof a);
                a.rope = (rope_vllm_attrs)ROPE_VLLM_ATTRS_INIT;
                a.rope.head_size = hs, a.rope.is_neox = (int32_t)tu_int(0, 1), a.rope.inverse = (int32_t)tu_int(0, 1);
                a.kv_layout = nhd ? ROPE_KV_NHD : ROPE_KV_HND;
                a.k_scale = 0.5f, a.v_scale = 0.25f, a.eps = 1e-6;
                int64_t *pd = tg_place(&rpos, T * sizeof(int64_t), at_end), *sd;
                pd[0] = P - 1, pd[1] = 0;
                sd = tg_place(&rsn, T * sizeof(int64_t), !at_end);
                sd[0] = at_end ? bs - 1 : 0, sd[1] = at_end ? 0 : bs - 1; /* the caches' last and first entries */
                rope_tensor pos = {pd, ROPE_I64, 1, {T}, 0}, slots = {sd, ROPE_I64, 1, {T}, 0};
                rope_tensor Q = {tg_place(&rx, (size_t)(T * hq * hs) * es, at_end), dt, 2, {T, hq * hs}, 0};
                rope_tensor K = {tg_place(&rk, (size_t)(T * hk * hs) * es, !at_end), dt, 2, {T, hk * hs}, 0};
                rope_tensor V = {tg_place(&rv, (size_t)(T * hk * hs) * es, at_end), dt, 2, {T, hk * hs}, 0};
                rope_tensor C = {tg_place(&rc, (size_t)(P * rot) * cse, !at_end), cdt, 2, {P, rot}, 0};
                size_t cache_bytes = (size_t)(bs * hk * hs) * ces;
                rope_tensor KC = {tg_place(&ry, cache_bytes, at_end), ct, 4, {1, nhd ? bs : hk, nhd ? hk : bs, hs}, 0};
                rope_tensor VC = KC;
                VC.data = tg_place(&ryk, cache_bytes, !at_end);
                rope_tensor QW = {tg_place(&rw, (size_t)hs * wes, at_end), wdt, 1, {hs}, 0}, KW = QW;
                KW.data = tg_place(&rw2, (size_t)hs * wes, !at_end);
                rope_status st = rope_vllm_rotary_embedding_and_cache(ctx, &a, &pos, &Q, &K, &V, &C, &KC, &VC, &slots,
                                                                      normed ? &QW : NULL, normed ? &KW : NULL);
                CHECK(st == ROPE_OK, "%s rope+cache %s cache %s hs %lld rot %lld %s normed %d: %s", isa,
                      rope_dtype_name(dt), rope_dtype_name(ct), (long long)hs, (long long)rot, nhd ? "NHD" : "HND",
                      normed, rope_last_error());
                /* QK-norm + RoPE on qkv [T, (hq + hk + hv) * hs] flush against a guard */
                rope_qk_norm_attrs qa;
                memset(&qa, 0, sizeof qa);
                qa.rope = (rope_vllm_attrs)ROPE_VLLM_ATTRS_INIT;
                qa.rope.head_size = hs, qa.rope.is_neox = a.rope.is_neox;
                qa.num_heads_q = hq, qa.num_heads_k = hk, qa.num_heads_v = tu_int(0, 1), qa.eps = 1e-6;
                int64_t row = (hq + hk + qa.num_heads_v) * hs;
                rope_tensor X = {tg_place(&rx, (size_t)(T * row) * es, !at_end), dt, 2, {T, row}, 0};
                st = rope_vllm_fused_qk_norm_rope(ctx, &qa, &pos, &X, &QW, &KW, &C);
                CHECK(st == ROPE_OK, "%s qk-norm %s hs %lld rot %lld: %s", isa, rope_dtype_name(dt), (long long)hs,
                      (long long)rot, rope_last_error());
            }
}

int main(void) {
    tu_seed(0x9a7d);
    rx = tg_map(REGION), ry = tg_map(REGION), rk = tg_map(REGION), ryk = tg_map(REGION);
    rc = tg_map(REGION), rsn = tg_map(REGION), rpos = tg_map(4096);
    rv = tg_map(REGION), rw = tg_map(4096), rw2 = tg_map(4096);

    tk_set sets[8];
    int n = tk_sets(sets);
    run_table(&rope_kernels_scalar);
    run_table_positions(&rope_kernels_scalar);
    CHECK(1, "scalar table");
    run_permute();
    CHECK(1, "pairs-to-halves permutation");
    printf("pairs-to-halves permutation: no stray access\n");
    for (int i = 0; i < n; i++) {
        run_table(sets[i].set);
        run_table_positions(sets[i].set);
        CHECK(1, "%s table", sets[i].name);
        printf("kernel table %s: no stray access\n", sets[i].name);
    }

    rope_isa isas[ROPE_ISA_COUNT_ - 1]; /* every set, scalar first */
    for (size_t i = 0; i < sizeof isas / sizeof isas[0]; i++) isas[i] = (rope_isa)(ROPE_ISA_SCALAR + (int)i);
    for (size_t i = 0; i < sizeof isas / sizeof isas[0]; i++) {
        if (!rope_isa_available(isas[i])) continue;
        rope_context_options o = {sizeof(rope_context_options), isas[i], 1, NULL, NULL, 0, 0};
        rope_context *ctx = NULL;
        rope_status st = rope_context_create(&o, &ctx);
        CHECK(st == ROPE_OK, "context %s: %s", rope_isa_name(isas[i]), rope_last_error());
        if (st != ROPE_OK) continue;
        CHECK(rope_context_isa(ctx) == isas[i], "context isa %s", rope_isa_name(rope_context_isa(ctx)));
        run_onnx(ctx, rope_isa_name(isas[i]));
        run_atb(ctx, rope_isa_name(isas[i]));
        run_vllm(ctx, rope_isa_name(isas[i]));
        run_prologue(ctx, rope_isa_name(isas[i]));
        printf("public calls with isa %s: no stray access\n", rope_isa_name(isas[i]));
        rope_context_free(ctx);
    }
    return tu_finish();
}
