/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: the table-driven API fuzzer (fuzz_ops.h). Byte 0 of the input picks the row of
 * ops_table[], byte 1 the context (default, or an own context of 2 threads); the rest drives the
 * builder's and the mutations' choices (tu_source). Checked for every row:
 *   - every tensor sits in an exactly sized heap block (ASan sees any access past its extent), its
 *     stride gaps and every output byte hold a canary;
 *   - a failure has a known status, a message starting with the function's name, and leaves every
 *     byte of every block as it was;
 *   - a success writes only inside the outputs' rows (gaps, inputs and canaries around stay);
 *   - with shape inference (and every output given): when inference fails the call failed with the
 *     same status and message, and when the call succeeded inference gives the outputs' dtype,
 *     rank and dims.
 */
#include <string.h>

#include "fuzz.h"
#include "fuzz_ops.h"
#include "harness.h"

#define CANARY 0xA5u
enum { MAX_BLOCK = 1 << 20 };

/* Elements of a row of slot i under rope.h's rule; 0 for a rank-0 or invalid tensor. */
static int64_t row_len(const fz_call *c, int i) {
    const rope_tensor *t = &c->t[i];
    if (t->rank < 1 || t->rank > ROPE_MAX_RANK) return 0;
    if (c->head_rows[i] && t->rank == 4) {
        int64_t a = t->dims[2], b = t->dims[3];
        return a < 0 || b < 0 || (a > 0 && b > INT64_MAX / a) ? 0 : a * b;
    }
    if (c->head_rows[i] == 2 && t->rank == 3 && c->vllm_pos) { /* [T, H, hs] with positions [T] / [m, T] */
        rope_vllm_attrs a;
        memcpy(&a, c->attrs, sizeof a);
        if (c->t[c->vllm_pos - 1].rank - (a.n_mrope_section ? 1 : 0) == 1) {
            int64_t h = t->dims[1], hs = t->dims[2];
            return h < 0 || hs < 0 || (h > 0 && hs > INT64_MAX / h) ? 0 : h * hs;
        }
    }
    return t->dims[t->rank - 1];
}

/* Bytes the tensor's rows span, 0 for none (invalid or empty: the library must not read it), or
 * -1 when larger than the harness gives (the case is skipped). */
static int64_t extent(const fz_call *c, int i) {
    const rope_tensor *t = &c->t[i];
    size_t es = rope_dtype_size(t->dtype);
    if (es == 0 || t->rank < 0 || t->rank > ROPE_MAX_RANK) return 0;
    uint64_t n = 1;
    for (int d = 0; d < t->rank; d++) {
        if (t->dims[d] < 0) return 0;
        if (t->dims[d] == 0) return 0;
        if ((uint64_t)t->dims[d] > MAX_BLOCK || n * (uint64_t)t->dims[d] > MAX_BLOCK) return -1;
        n *= (uint64_t)t->dims[d];
    }
    int64_t row = t->rank ? row_len(c, i) : 1;
    if (row <= 0 || (int64_t)n % row != 0) return (int64_t)(n * es);
    int64_t stride = t->row_stride > row ? t->row_stride : row, rows = (int64_t)n / row;
    if (stride > MAX_BLOCK || (rows - 1) * stride + row > MAX_BLOCK) return -1;
    return ((rows - 1) * stride + row) * (int64_t)es;
}

typedef struct layout {
    unsigned char *block[FZ_MAX_T], *snap[FZ_MAX_T], *writable[FZ_MAX_T];
    size_t size[FZ_MAX_T];
    int home[FZ_MAX_T];      /* the slot whose block holds slot i */
    size_t off[FZ_MAX_T];    /* its byte offset there */
    int nodata[FZ_MAX_T];
} layout;

static void put_value(rope_tensor *t, size_t k, int64_t v) {
    switch (t->dtype) {
    case ROPE_I64: ((int64_t *)t->data)[k] = v; break;
    case ROPE_I32: ((int32_t *)t->data)[k] = (int32_t)v; break;
    case ROPE_U32: ((uint32_t *)t->data)[k] = (uint32_t)v; break;
    case ROPE_F32: ((float *)t->data)[k] = (float)tu_uniform(-2, 2); break;
    case ROPE_F16: ((uint16_t *)t->data)[k] = rope_f32_to_f16((float)tu_uniform(-2, 2)); break;
    case ROPE_BF16: ((uint16_t *)t->data)[k] = rope_f32_to_bf16((float)tu_uniform(-2, 2)); break;
    case ROPE_F64: ((double *)t->data)[k] = (double)v; break; /* no draw: the other rows' streams stay */
    default: break;
    }
}

/* Writes input slot i's row elements (integers from its values or range, floats at random). */
static void fill_input(fz_call *c, int i) {
    rope_tensor *t = &c->t[i];
    int64_t ext = extent(c, i), row = t->rank ? row_len(c, i) : 1;
    if (ext <= 0 || row <= 0) return;
    int64_t n = 1;
    for (int d = 0; d < t->rank; d++) n *= t->dims[d];
    int64_t stride = t->row_stride > row ? t->row_stride : row;
    for (int64_t e = 0; e < n; e++) {
        int64_t v = c->n_vals[i] ? c->vals[i][e % c->n_vals[i]] : c->hi[i] > c->lo[i] ? tu_int(c->lo[i], c->hi[i]) : c->lo[i];
        size_t k = (size_t)((e / row) * stride + e % row);
        double f = c->n_vals[i] ? c->fvals[i][e % c->n_vals[i]] : 0;
        if (c->float_vals[i] && c->n_vals[i] && t->dtype == ROPE_F32) ((float *)t->data)[k] = (float)f;
        else if (c->float_vals[i] && c->n_vals[i] && t->dtype == ROPE_F64) ((double *)t->data)[k] = f;
        else put_value(t, k, v);
    }
}

/* ---- mutations -------------------------------------------------------------------------------- */

static int64_t special(int64_t near) {
    static const int64_t v[] = {0, -1, 1, 2, 3, 7, INT32_MAX, (int64_t)1 << 31, (int64_t)1 << 40, (int64_t)1 << 53,
                                INT64_MAX, INT64_MIN};
    int k = (int)tu_int(0, (int64_t)(sizeof v / sizeof v[0]) + 3);
    /* neighbours, wrapping (unsigned) at the ends of the range */
    if (k == (int)(sizeof v / sizeof v[0])) return (int64_t)((uint64_t)near + 1);
    if (k > (int)(sizeof v / sizeof v[0])) return (int64_t)((uint64_t)near - (uint64_t)tu_int(1, 2));
    return v[k];
}

/* One mutation of the call or its layout (before the blocks exist). */
static void mutate(const fz_entry *e, fz_call *c, layout *l) {
    int nt = e->n_in + e->n_out, i = nt ? (int)tu_int(0, nt - 1) : 0;
    rope_tensor *t = &c->t[i];
    switch (tu_int(0, 13)) {
    case 0: t->dtype = (rope_dtype)tu_int(0, 8); break;
    case 1: t->rank = (int)tu_int(-1, ROPE_MAX_RANK + 1); break;
    case 2: if (t->rank > 0 && t->rank <= ROPE_MAX_RANK) t->dims[tu_int(0, t->rank - 1)] = special(t->dims[0]); break;
    case 3: t->row_stride = special(row_len(c, i)); break;
    case 4: c->null_t[i] = 1; break;
    case 5: l->nodata[i] = 1; break;
    case 6: /* an output placed over an input (in place when equal) or over the other output */
        if (e->n_out && nt > 1) {
            int o = e->n_in + (int)tu_int(0, e->n_out - 1), to = (int)tu_int(0, nt - 1), hosts = 0;
            for (int j = 0; j < nt; j++) hosts |= j != o && l->home[j] == o;
            if (to == o || l->home[to] != to || hosts) break; /* one level: blocks of their own only */
            if (tu_int(0, 1)) c->t[o] = c->t[to], c->head_rows[o] = c->head_rows[to];
            l->home[o] = to;
            l->off[o] = (size_t)tu_int(0, 2) * rope_dtype_size(c->t[to].dtype);
        }
        break;
    case 7: /* an integer value out of its range */
        if (c->n_vals[i]) c->vals[i][tu_int(0, c->n_vals[i] - 1)] = special(c->hi[i]);
        else c->lo[i] = c->hi[i] = special(c->hi[i]);
        break;
    case 8: /* an attribute byte or word */
        if (e->attr_size) {
            size_t at = (size_t)tu_int(0, (int64_t)e->attr_size - 1);
            if (tu_int(0, 1)) c->attrs[at] = (unsigned char)tu_int(0, 255);
            else {
                at &= ~(size_t)7;
                int64_t v = special(0);
                memcpy(c->attrs + at, &v, at + 8 <= e->attr_size ? 8 : e->attr_size - at);
            }
        }
        break;
    case 9: c->attrs_null = 1; break;
    case 10: c->freq.rotary_dim = special(c->freq.rotary_dim); break;
    case 11:
        c->freq.scaling = (rope_scaling)tu_int(0, 7);
        c->freq.factor = (double)special(2) / 2;
        c->freq.original_max_position_embeddings = special(64);
        c->freq.rotated_pairs = tu_int(0, 3) ? 0 : special(2); /* proportional's field, refused elsewhere */
        if (tu_int(0, 3) == 0) c->freq.struct_size = (size_t)tu_int(0, (int64_t)sizeof c->freq + 8);
        break;
    case 12: tu_int(0, 1) ? (void)(c->freq_null = 1) : (void)(c->fly_null = 1); break;
    default: c->kind = (rope_positions_kind)tu_int(0, 2), c->cs_dtype = (rope_dtype)tu_int(0, 7); break;
    }
}

/* ---- blocks ----------------------------------------------------------------------------------- */

/* Allocates the blocks (exact sizes, canary), places the tensors, fills the inputs; 0 to skip. */
static int place(const fz_entry *e, fz_call *c, layout *l) {
    int nt = e->n_in + e->n_out;
    int64_t ext[FZ_MAX_T];
    for (int i = 0; i < nt; i++)
        if ((ext[i] = extent(c, i)) < 0) return 0;
    size_t need[FZ_MAX_T] = {0};
    for (int i = 0; i < nt; i++) {
        int h = l->home[i];
        size_t end = l->off[i] + (size_t)ext[i];
        if (end > need[h]) need[h] = end;
    }
    for (int i = 0; i < nt; i++) {
        if (l->home[i] != i) continue;
        l->size[i] = need[i];
        l->block[i] = malloc(need[i] ? need[i] : 1); /* 1 byte for none: any access is past it */
        FUZZ_ASSERT(l->block[i], "out of memory");
        memset(l->block[i], CANARY, need[i]);
    }
    for (int i = 0; i < nt; i++) c->t[i].data = l->nodata[i] ? NULL : l->block[l->home[i]] + l->off[i];
    for (int i = 0; i < e->n_in; i++)
        if (!l->nodata[i]) fill_input(c, i);
    for (int i = 0; i < nt; i++)
        if (l->block[i]) {
            l->snap[i] = malloc(l->size[i] + 1), l->writable[i] = calloc(l->size[i] + 1, 1);
            FUZZ_ASSERT(l->snap[i] && l->writable[i], "out of memory");
            memcpy(l->snap[i], l->block[i], l->size[i]);
        }
    return 1;
}

/* Marks the rows of output slot o as writable in its home block. An output the call ignored may
 * have any rank (the vLLM lifecycle's key_out when key is absent: reproducer crash-19000e32...). */
static void mark_rows(const fz_call *c, layout *l, int o) {
    const rope_tensor *t = &c->t[o];
    if (t->rank < 0 || t->rank > ROPE_MAX_RANK) return;
    int64_t row = t->rank ? row_len(c, o) : 1, n = 1;
    size_t es = rope_dtype_size(t->dtype);
    for (int d = 0; d < t->rank; d++) {
        if (t->dims[d] < 0 || (t->dims[d] > 0 && n > INT64_MAX / t->dims[d])) return; /* ignored, garbage */
        n *= t->dims[d];
    }
    if (n <= 0 || row <= 0 || es == 0 || !t->data) return;
    int64_t stride = t->row_stride ? t->row_stride : row;
    /* an ignored output's descriptor may be anything (a negative or huge stride: reproducer
     * crash-2d7fa11e...): only rows that lie inside its block are marked */
    if (stride < row || n / row - 1 > (INT64_MAX - row) / stride) return;
    uint64_t elems = (uint64_t)((n / row - 1) * stride + row);
    if (elems > UINT64_MAX / es) return;
    uint64_t extent = elems * es;
    if (l->off[o] > l->size[l->home[o]] || extent > l->size[l->home[o]] - l->off[o]) return;
    unsigned char *w = l->writable[l->home[o]];
    for (int64_t r = 0; r < n / row; r++) memset(w + l->off[o] + (size_t)(r * stride) * es, 1, (size_t)row * es);
}

static const char *tail(const char *m) {
    const char *p = strstr(m, ": ");
    return p ? p + 2 : m;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static rope_context *two;
    if (!two) {
        rope_context_options o = ROPE_CONTEXT_OPTIONS_INIT;
        o.isa = ROPE_ISA_AUTO, o.threads = 2;
        FUZZ_ASSERT(rope_context_create(&o, &two) == ROPE_OK, "%s", rope_last_error());
    }
    if (size < 2) return 0;
    const fz_entry *e = &ops_table[data[0] % ops_table_size];
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < size; i++) h = (h ^ data[i]) * 0x100000001b3ull;
    tu_seed(h);
    tu_source(data + 2, size - 2);

    fz_call *c = calloc(1, sizeof *c);
    layout *l = calloc(1, sizeof *l);
    FUZZ_ASSERT(c && l, "out of memory");
    int nt = e->n_in + e->n_out;
    for (int i = 0; i < FZ_MAX_T; i++) l->home[i] = i;
    e->build(c);
    for (int m = (int)tu_int(0, 3); m > 0; m--) mutate(e, c, l);

    if (place(e, c, l)) {
        const rope_tensor *args[FZ_MAX_T];
        for (int i = 0; i < nt; i++) args[i] = c->null_t[i] ? NULL : &c->t[i];
        rope_status st = e->call(data[1] & 1 ? two : NULL, c, args, args + e->n_in);
        char msg[1024];
        snprintf(msg, sizeof msg, "%s", st == ROPE_OK ? "" : rope_last_error());
        if (st != ROPE_OK) {
            FUZZ_ASSERT(st > ROPE_OK && st < ROPE_STATUS_COUNT_, "%s returned the unknown status %d", e->name, (int)st);
            FUZZ_ASSERT(strncmp(msg, e->name, strlen(e->name)) == 0 && strstr(msg, ": ") && *tail(msg),
                        "%s failed with the message \"%s\"", e->name, msg);
            for (int i = 0; i < nt; i++)
                FUZZ_ASSERT(!l->block[i] || memcmp(l->block[i], l->snap[i], l->size[i]) == 0,
                            "%s failed (%s) but changed the block of argument %d", e->name, msg, i);
        } else {
            for (int o = e->n_in; o < nt; o++)
                if (args[o]) mark_rows(c, l, o);
            for (int i = 0; i < nt; i++)
                for (size_t b = 0; l->block[i] && b < l->size[i]; b++)
                    FUZZ_ASSERT(l->writable[i][b] || l->block[i][b] == l->snap[i][b],
                                "%s succeeded but changed byte %zu of argument %d's block, outside the outputs' rows",
                                e->name, b, i);
        }
        int outs_given = 1;
        for (int o = e->n_in; o < nt; o++) outs_given &= args[o] != NULL;
        if (e->infer && outs_given) {
            rope_tensor inferred[FZ_MAX_T];
            rope_status si = e->infer(c, args, inferred);
            if (si != ROPE_OK)
                FUZZ_ASSERT(si == st && strcmp(tail(rope_last_error()), tail(msg)) == 0,
                            "%s: the call gives %d \"%s\", shape inference %d \"%s\"", e->name, (int)st, msg, (int)si,
                            rope_last_error());
            if (st == ROPE_OK) {
                FUZZ_ASSERT(si == ROPE_OK, "%s succeeded, shape inference failed: %s", e->name, rope_last_error());
                for (int o = 0; o < e->n_out; o++) {
                    const rope_tensor *a = &inferred[o], *b = &c->t[e->n_in + o];
                    /* an output the call ignored (see mark_rows) may have any rank */
                    int dims_ok = b->rank < 0 || b->rank > ROPE_MAX_RANK ||
                                  memcmp(a->dims, b->dims, (size_t)b->rank * sizeof b->dims[0]) == 0;
                    FUZZ_ASSERT(a->dtype == b->dtype && a->rank == b->rank && dims_ok,
                                "%s: inferred output %d differs from the output given", e->name, o);
                }
            }
        }
    }
    for (int i = 0; i < FZ_MAX_T; i++) free(l->block[i]), free(l->snap[i]), free(l->writable[i]);
    free(c), free(l);
    tu_source(NULL, 0);
    return 0;
}
