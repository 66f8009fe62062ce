/* SPDX-License-Identifier: MIT */
/* test_api_mutations: the heap blocks of a case (one per home slot, exactly as large as its tensors'
 * extents), the canary its outputs start as, the input values, and the snapshot the checks compare
 * the blocks with after the call. */
#include <stdlib.h>
#include <string.h>

#include "mutations.h"
#include "reference.h"

/* The bytes a slot's tensor spans, first element to last (0 without elements). */
size_t extent(const slot *s) {
    int64_t n = numel(&s->t);
    if (n <= 0 || s->row <= 0) return 0;
    int64_t rows = n / s->row, st = s->t.row_stride ? s->t.row_stride : s->row;
    return (size_t)(((rows - 1) * st + s->row) * (int64_t)rope_dtype_size(s->t.dtype));
}

/* The canary: bytes A5 7F repeated from a block's start, so every f32, f16, bf16 and f64 element of
 * an output is a NaN pattern no rotation of finite inputs produces. */
static unsigned char canary_at(size_t o) { return (o & 1) ? 0x7f : 0xa5; }
int is_canary(const unsigned char *p, size_t o, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (p[i] != canary_at(o + i)) return 0;
    return 1;
}

/* Values in a slot's memory: 8-byte ids and positions, 4-byte seqlen (i32 or u32). */
static void *at(gcase *g, int i) { return g->mem[g->s[i].home] + g->s[i].off; }
void set64(gcase *g, int i, int64_t k, int64_t v) { memcpy((char *)at(g, i) + 8 * k, &v, 8); }
/* vLLM positions: i64 or i32 (a value outside int32 is stored truncated). */
void set_pos(gcase *g, int i, int64_t k, int64_t v) {
    if (g->s[i].t.dtype != ROPE_I32) {
        set64(g, i, k, v);
        return;
    }
    int32_t w = (int32_t)(uint32_t)(uint64_t)v;
    memcpy((char *)at(g, i) + 4 * k, &w, 4);
}
int64_t get_seq(gcase *g, int64_t k) {
    int32_t v;
    memcpy(&v, (char *)at(g, T_SEQ) + 4 * k, 4);
    return g->s[T_SEQ].t.dtype == ROPE_U32 ? (int64_t)(uint32_t)v : v;
}
void set_seq(gcase *g, int64_t k, int64_t v) {
    int32_t w = (int32_t)(uint32_t)v;
    memcpy((char *)at(g, T_SEQ) + 4 * k, &w, 4);
}

/* A coordinate of rope_cache_fill_axes in its dtype: integers (negative ones too) or fractions. */
void set_coord(gcase *g, int64_t k, double v) {
    char *p = (char *)at(g, T_POS);
    switch (g->s[T_POS].t.dtype) {
    case ROPE_I64: {
        int64_t w = (int64_t)v;
        memcpy(p + 8 * k, &w, 8);
        break;
    }
    case ROPE_I32: {
        int32_t w = (int32_t)v;
        memcpy(p + 4 * k, &w, 4);
        break;
    }
    case ROPE_F32: {
        float w = (float)v;
        memcpy(p + 4 * k, &w, 4);
        break;
    }
    default: memcpy(p + 8 * k, &v, 8); break;
    }
}

/* The capacity of the KV caches in slots: num_blocks * block_size (NHD [blocks, bs, Hk, hd], HND
 * [blocks, Hk, bs, hd]). */
int64_t kv_capacity(const gcase *g) {
    const rope_tensor *c = &g->s[T_KC].t;
    return c->dims[0] * (g->kv.kv_layout == ROPE_KV_NHD ? c->dims[1] : c->dims[2]);
}

/* slot_mapping: distinct slots of the caches, about one token in five padded (a negative slot). */
static void fill_slots(gcase *g, size_t n) {
    int64_t cap = kv_capacity(g), *perm = tu_xmalloc((size_t)(cap + 1) * sizeof *perm);
    for (int64_t i = 0; i < cap; i++) perm[i] = i;
    for (int64_t i = cap - 1; i > 0; i--) {
        int64_t j = tu_int(0, i), t = perm[i];
        perm[i] = perm[j], perm[j] = t;
    }
    for (size_t k = 0; k < n; k++)
        set_pos(g, T_SLOT, (int64_t)k, tu_int(0, 4) == 0 ? -1 - tu_int(0, 3) : perm[(int64_t)k % cap]);
    free(perm);
}

/* Input values: random floats, valid position ids and positions, seqlen adding up to ntokens. */
static void fill(gcase *g, int i) {
    slot *s = &g->s[i];
    size_t es = rope_dtype_size(s->t.dtype), n = es ? s->bytes / es : 0;
    if (coords_e(g->e) && i == T_POS) {
        int whole = s->t.dtype == ROPE_I64 || s->t.dtype == ROPE_I32;
        for (size_t k = 0; k < n; k++)
            set_coord(g, (int64_t)k, whole ? (double)tu_int(-50, 500) : tu_uniform(-100, 900));
        return;
    }
    if (s->t.dtype == ROPE_F32 || s->t.dtype == ROPE_F16 || s->t.dtype == ROPE_BF16) {
        ref_fill(s->t.dtype, at(g, i), NULL, n);
        return;
    }
    if (i == T_SLOT) {
        fill_slots(g, n);
        return;
    }
    for (size_t k = 0; k < n; k++) {
        if (i == T_POS) set_pos(g, i, (int64_t)k, tu_int(0, 3) ? tu_int(0, 64) : tu_int(0, 1000000));
        else if (vllm_e(g->e) || prologue_e(g->e)) set_pos(g, i, (int64_t)k, tu_int(0, g->maxpos - 1));
        else if (onnx_e(g->e)) set64(g, i, (int64_t)k, tu_int(0, g->maxpos - 1));
        else set_seq(g, (int64_t)k, seq_read(g) ? g->seql[k] : (int64_t)tu_u64());
    }
}

/* Allocates the blocks (outputs' ones hold the canary), points the tensors into them and fills
 * the inputs. */
void place(gcase *g) {
    for (int i = 0; i < N_T; i++) g->s[i].bytes = g->s[i].used && !g->s[i].nodata ? extent(&g->s[i]) : 0;
    for (int b = 0; b < N_T; b++) {
        size_t size = 0;
        int any = 0, outs = 0;
        for (int i = 0; i < N_T; i++) {
            slot *s = &g->s[i];
            if (!s->used || s->nodata || s->home != b) continue;
            any = 1, outs |= s->out;
            if (s->off + s->bytes > size) size = s->off + s->bytes;
        }
        if (!any) continue;
        g->mem[b] = malloc(size);
        if (!g->mem[b] && size) abort();
        g->size[b] = size;
        if (outs)
            for (size_t o = 0; o < size; o++) g->mem[b][o] = canary_at(o);
    }
    for (int i = 0; i < N_T; i++)
        if (g->s[i].used && !g->s[i].nodata) g->s[i].t.data = at(g, i);
    for (int i = 0; i < N_T; i++)
        if (g->s[i].used && !g->s[i].nodata && !g->s[i].out) fill(g, i);
}

/* The copy of every block the checks compare with after the call. */
void take_snapshot(gcase *g) {
    for (int b = 0; b < N_T; b++)
        if (g->mem[b]) g->snap[b] = tu_xmalloc(g->size[b]), memcpy(g->snap[b], g->mem[b], g->size[b]);
}

int unchanged(const gcase *g) {
    for (int i = 0; i < N_T; i++)
        if (g->mem[i] && memcmp(g->mem[i], g->snap[i], g->size[i]) != 0) return 0;
    return 1;
}

void release(gcase *g) {
    for (int b = 0; b < N_T; b++) free(g->mem[b]), free(g->snap[b]);
}
