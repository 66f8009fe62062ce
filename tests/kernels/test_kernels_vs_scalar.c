/* SPDX-License-Identifier: MIT */
/*
 * Every instruction-set kernel this CPU runs gives bitwise the results of the portable kernel:
 * random shapes (head_size 2..300, every even rot, every rs the contract allows for both cos modes),
 * all dtype combinations, 1..5 heads with strides wider than a head, one cos/sin row shared by the
 * heads or one per head (cs_step), in place and not, streaming
 * stores on and off, and data full of special values. The whole output buffer is compared, so a
 * kernel that writes between heads or past a head is caught as well.
 *
 * NaN payloads: IEEE 754 does not say which NaN an operation returns when both operands are NaN,
 * and compilers commute the operands of * and + freely (the portable kernel, auto-vectorised, does
 * not even agree with itself between its vector body and its remainder loop). So where two NaNs
 * meet, both results must be NaN but their payloads may differ. Where a single NaN flows through
 * (the nan_mode cases: NaNs planted so that no operation sees two), payload and sign must match bit
 * for bit, which checks that every conversion quiets and truncates NaNs as the scalar code does.
 */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "kernel_data.h"
#include "kernel_sets.h"

typedef struct tk_case {
    rope_kernel_shape shape;
    size_t heads, x_stride, y_stride;
    size_t x_shift, y_shift; /* elements from a 64-byte boundary: varies the alignment */
    int in_place;
    double special;
    int nan_mode; /* 0: none planted; 1: NaNs in x, never both of a pair; 2: in cos only; 3: in sin only */
} tk_case;

enum { SENTINEL = 0xa5 };

/* Runs `fn` on the case's x (a fresh copy) and returns the y buffer (of *bytes bytes). */
/* `fence`: the set's, called after a streaming call as the engine does (NULL: none). */
static unsigned char *run(rope_kernel_fn fn, void (*fence)(void), const tk_case *c, const void *x, const void *cs,
                          const void *sn, size_t *bytes) {
    size_t es = tk_es(c->shape.x_dtype);
    size_t xn = c->x_shift + (c->heads - 1) * c->x_stride + c->shape.head_size;
    size_t yn = c->y_shift + (c->heads - 1) * c->y_stride + c->shape.head_size + 16;
    unsigned char *xb = aligned_alloc(64, (xn * es + 63) / 64 * 64);
    memcpy(xb, x, xn * es);
    unsigned char *out;
    if (c->in_place) {
        out = xb;
        *bytes = xn * es;
        fn(&c->shape, xb + c->x_shift * es, (ptrdiff_t)c->x_stride, xb + c->x_shift * es, (ptrdiff_t)c->x_stride,
           c->heads, cs, sn);
    } else {
        out = aligned_alloc(64, (yn * es + 63) / 64 * 64);
        memset(out, SENTINEL, yn * es);
        *bytes = yn * es;
        fn(&c->shape, xb + c->x_shift * es, (ptrdiff_t)c->x_stride, out + c->y_shift * es, (ptrdiff_t)c->y_stride,
           c->heads, cs, sn);
        free(xb);
    }
    if (c->shape.nontemporal && fence) fence();
    return out;
}

static void describe(const tk_case *c, const char *isa, char *buf, size_t n) {
    snprintf(buf, n,
             "%s %s cos_full=%d head_size=%zu rot=%zu rs=%zu heads=%zu strides=%zu/%zu cs_step=%td %s nt=%d split=%d "
             "lead=%zu",
             isa, tk_combo_name(&c->shape), c->shape.cos_full, c->shape.head_size, c->shape.rot, c->shape.pair_stride,
             c->heads, c->x_stride, c->y_stride, c->shape.cs_step, c->in_place ? "in-place" : "out-of-place",
             c->shape.nontemporal, c->shape.split, c->shape.lead);
}

static int is_nan(size_t es, rope_dtype t, const unsigned char *p, size_t i) {
    if (es == 4) {
        uint32_t u;
        memcpy(&u, p + 4 * i, 4);
        return (u & 0x7fffffffu) > 0x7f800000u;
    }
    uint16_t h;
    memcpy(&h, p + 2 * i, 2);
    return t == ROPE_F16 ? (h & 0x7fffu) > 0x7c00u : (h & 0x7fffu) > 0x7f80u;
}

static uint32_t bits_at(size_t es, const unsigned char *p, size_t i) {
    if (es == 4) {
        uint32_t u;
        memcpy(&u, p + 4 * i, 4);
        return u;
    }
    uint16_t h;
    memcpy(&h, p + 2 * i, 2);
    return h;
}

/* A NaN of dtype t with a random payload, sign and quiet bit. */
static void put_nan(rope_dtype t, void *p, size_t i) {
    uint32_t r = (uint32_t)tu_u64();
    if (t == ROPE_F32) ((uint32_t *)p)[i] = (r & 0x803fffffu) | 0x7f800000u | (r & 1u ? 0x400000u : 1u);
    else if (t == ROPE_F16) ((uint16_t *)p)[i] = (uint16_t)((r & 0x81ffu) | 0x7c00u | (r & 2u ? 0x200u : 1u));
    else ((uint16_t *)p)[i] = (uint16_t)((r & 0x803fu) | 0x7f80u | (r & 2u ? 0x40u : 1u));
}

/* Plants NaNs so that no arithmetic operation sees two of them (x, cos and sin hold finite values of
 * magnitude < 4, so no other NaN arises either). */
static void plant_nans(const tk_case *c, void *x, void *cs, void *sn) {
    const rope_kernel_shape *sh = &c->shape;
    if (c->nan_mode == 1) {
        for (size_t h = 0; h < c->heads; h++) {
            size_t base = c->x_shift + h * c->x_stride;
            for (size_t i = 0; i < sh->head_size; i++) {
                if (tu_int(0, 5) != 0) continue;
                size_t o = i % (2 * sh->pair_stride);
                size_t partner = i >= sh->rot ? i : o < sh->pair_stride ? i + sh->pair_stride : i - sh->pair_stride;
                if (partner == i || !is_nan(tk_es(sh->x_dtype), sh->x_dtype, x, base + partner))
                    put_nan(sh->x_dtype, x, base + i);
            }
        }
    } else {
        size_t cn = sh->cos_full ? sh->rot : sh->rot / 2;
        for (size_t i = 0; i < cn; i++)
            if (tu_int(0, 3) == 0) put_nan(sh->cs_dtype, c->nan_mode == 2 ? cs : sn, i);
    }
}

static void check_case(const tk_set *set, const tk_case *c) {
    const rope_kernel_shape *sh = &c->shape;
    size_t es = tk_es(sh->x_dtype), ces = tk_es(sh->cs_dtype);
    size_t xn = c->x_shift + (c->heads - 1) * c->x_stride + sh->head_size;
    size_t cn = sh->cos_full ? sh->rot : sh->rot / 2;
    /* with cs_step, each head vector has its own cos/sin row, cs_step elements after the previous */
    cn += (c->heads - 1) * (size_t)sh->cs_step;
    void *x = malloc(xn * es), *cs = malloc(cn * ces + 1), *sn = malloc(cn * ces + 1);
    tk_fill(sh->x_dtype, x, xn, c->special);
    tk_fill(sh->cs_dtype, cs, cn, c->special);
    tk_fill(sh->cs_dtype, sn, cn, c->special);
    if (c->nan_mode) plant_nans(c, x, cs, sn);

    char what[300];
    describe(c, set->name, what, sizeof what);
    rope_kernel_fn fn = set->set->select(sh);
    CHECK(fn != NULL, "%s: no kernel (falls back to scalar)", what);
    if (fn) {
        size_t nb_ref, nb_got;
        unsigned char *ref = run(rope_kernels_scalar.select(sh), NULL, c, x, cs, sn, &nb_ref);
        unsigned char *got = run(fn, set->set->fence, c, x, cs, sn, &nb_got);
        size_t bad = nb_ref, n = nb_ref / es;
        for (size_t i = 0; i < n && bad == nb_ref; i++) {
            if (bits_at(es, ref, i) == bits_at(es, got, i)) continue;
            if (!c->nan_mode && is_nan(es, sh->x_dtype, ref, i) && is_nan(es, sh->x_dtype, got, i)) continue;
            bad = i;
        }
        size_t stride = c->in_place ? c->x_stride : c->y_stride, off = c->in_place ? c->x_shift : c->y_shift;
        CHECK(bad == nb_ref, "%s nan_mode=%d: first difference at element %zu (head %zu, index %zu): scalar 0x%0*x, "
              "kernel 0x%0*x", what, c->nan_mode, bad, (bad - off) / stride, (bad - off) % stride, (int)es * 2,
              bits_at(es, ref, bad), (int)es * 2, bits_at(es, got, bad));
        free(ref);
        free(got);
    }
    free(x);
    free(cs);
    free(sn);
}

static tk_case random_case(size_t head_size, int combo, int cos_full) {
    tk_case c;
    memset(&c, 0, sizeof c);
    c.shape.x_dtype = tk_combos[combo][0];
    c.shape.cs_dtype = tk_combos[combo][1];
    c.shape.head_size = head_size;
    c.shape.rot = head_size < 2 ? 0 : (size_t)tu_int(1, (int64_t)head_size / 2) * 2;
    if (tu_int(0, 2) == 0) c.shape.rot = head_size & ~(size_t)1; /* full rotation is the common case */
    c.shape.cos_full = cos_full;
    c.shape.pair_stride = tk_rs(c.shape.rot, cos_full);
    c.heads = (size_t)tu_int(1, 5);
    if (tu_int(0, 1)) { /* a cos/sin row per head vector (the engine's runs of tokens) */
        size_t cn = cos_full ? c.shape.rot : c.shape.rot / 2;
        c.shape.cs_step = (ptrdiff_t)(cn + (tu_int(0, 1) ? (size_t)tu_int(0, 9) : 0));
    }
    c.in_place = tu_int(0, 3) == 0;
    c.x_stride = head_size + (tu_int(0, 2) ? (size_t)tu_int(0, 40) : 0);
    c.y_stride = c.in_place ? c.x_stride : head_size + (tu_int(0, 2) ? (size_t)tu_int(0, 40) : 0);
    c.x_shift = tu_int(0, 1) ? 0 : (size_t)tu_int(0, 31);
    c.y_shift = c.in_place ? c.x_shift : tu_int(0, 1) ? 0 : (size_t)tu_int(0, 31);
    /* streaming stores are promised only when y does not alias x */
    c.shape.nontemporal = !c.in_place && tu_int(0, 1);
    /* The split layout (one group of rot/2 pairs, partners head_size/2 away) and a lead (vLLM's
     * rope_dim_offset: elements before each head copied), each on some draws. */
    if (head_size >= 4 && head_size % 2 == 0 && tu_int(0, 3) == 0) {
        c.shape.split = 1;
        c.shape.rot = 2 * (size_t)tu_int(1, (int64_t)head_size / 2 - 1);
        c.shape.pair_stride = head_size / 2;
        if (c.shape.cs_step) c.shape.cs_step = (ptrdiff_t)(cos_full ? c.shape.rot : c.shape.rot / 2);
    }
    if (tu_int(0, 3) == 0) {
        c.shape.lead = (size_t)tu_int(1, 9);
        c.x_stride += c.shape.lead, c.y_stride = c.in_place ? c.x_stride : c.y_stride + c.shape.lead;
        c.x_shift += c.shape.lead, c.y_shift = c.in_place ? c.x_shift : c.y_shift + c.shape.lead;
    }
    static const double special[] = {0.0, 0.02, 0.3};
    c.special = special[tu_int(0, 2)];
    if (tu_int(0, 3) == 0) { /* a single NaN per operation: payloads must match exactly */
        c.special = 0.0;
        c.nan_mode = (int)tu_int(c.shape.split ? 2 : 1, 3); /* split: plant_nans knows the leading pairs only */
    }
    return c;
}

/* Every head size from 2 to 300, every dtype combination and cos mode, with a random rot / rs / stride. */
static void every_head_size(const tk_set *set) {
    for (size_t hs = 2; hs <= 300; hs++)
        for (int combo = 0; combo < 5; combo++)
            for (int full = 0; full < 2; full++) {
                tk_case c = random_case(hs, combo, full);
                check_case(set, &c);
            }
}

/* Every rs that divides rot/2, for every even rot up to 64 and some wider ones. */
static void every_pair_stride(const tk_set *set) {
    static const size_t wide[] = {72, 96, 120, 128, 160, 192, 256, 288};
    for (size_t k = 0; k < 32 + sizeof wide / sizeof wide[0]; k++) {
        size_t rot = k < 32 ? 2 * (k + 1) : wide[k - 32];
        for (size_t rs = 1; rs <= rot / 2; rs++) {
            if ((rot / 2) % rs != 0) continue;
            for (int combo = 0; combo < 5; combo++)
                for (int full = 0; full < 2; full++) {
                    tk_case c = random_case(rot + (size_t)tu_int(0, 5), combo, full);
                    c.shape.rot = rot;
                    c.shape.pair_stride = rs;
                    c.shape.split = 0; /* the leading layouts' strides, set here */
                    check_case(set, &c);
                }
        }
    }
}

/* The shapes that matter for speed, with every rs of the front ends, many times over. */
static void common_shapes_repeated(const tk_set *set) {
    static const size_t common[] = {64, 80, 96, 128, 256};
    for (int rep = 0; rep < 40; rep++)
        for (size_t k = 0; k < sizeof common / sizeof common[0]; k++)
            for (int combo = 0; combo < 5; combo++)
                for (int full = 0; full < 2; full++) {
                    tk_case c = random_case(common[k], combo, full);
                    c.shape.rot = common[k];
                    c.shape.pair_stride = tk_rs(c.shape.rot, full);
                    c.shape.split = 0; /* the leading layouts' strides, set here */
                    if (rep % 2) c.shape.cs_step = 0, c.heads = 2 + (size_t)rep % 4; /* a token's heads */
                    check_case(set, &c);
                }
}

int main(void) {
    tk_set sets[8];
    int n = tk_sets(sets);
    printf("kernel sets on this CPU:");
    for (int i = 0; i < n; i++) printf(" [%s]", sets[i].name);
    printf("\n");
    if (n == 0) {
        printf("no SIMD kernel runs on this CPU: nothing to compare\n");
        return 77;
    }
    for (int s = 0; s < n; s++) {
        tu_seed(0x5eed0000u + (uint64_t)s);
        every_head_size(&sets[s]);
        every_pair_stride(&sets[s]);
        common_shapes_repeated(&sets[s]);
    }
    return tu_finish();
}
