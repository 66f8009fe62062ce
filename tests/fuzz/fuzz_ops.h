/* SPDX-License-Identifier: MIT */
/*
 * The table-driven API fuzzer (fuzz_ops.c): one row of ops_table[] (fuzz_ops_table.c) per public
 * entry point. A row names the function, says which of its tensor arguments are inputs and
 * outputs, and gives a builder of a valid call with small shapes and two thin wrappers (the call,
 * and its shape inference if it has one). The harness does the rest for every row alike: it
 * mutates the valid call (dtypes, ranks, dims, strides, NULL pointers and data, aliasing, integer
 * values, attribute bytes, frequency configuration), places each tensor in an exactly sized heap
 * block with canaries in every gap and output, calls, and checks the contract.
 *
 * Adding an operator is one row per entry point plus its builder (as the ONNX, ATB and vLLM rows):
 * see the comment above ops_table[].
 */
#ifndef ROPE_FUZZ_OPS_H
#define ROPE_FUZZ_OPS_H

#include <stddef.h>
#include <stdint.h>

#include "rope.h"

enum { FZ_MAX_T = 10, FZ_MAX_VALS = 64, FZ_ATTR_BYTES = 256 }; /* the fly_axes rows': 256 */

/* One call's arguments. Slots [0, n_in) are inputs, [n_in, n_in + n_out) outputs. */
typedef struct fz_call {
    rope_tensor t[FZ_MAX_T];
    int null_t[FZ_MAX_T];               /* the argument is a NULL pointer */
    int head_rows[FZ_MAX_T];            /* 1: a 4-D tensor's row is dims[2]*dims[3] (ATB query/key);
                                         * 2: vLLM's rule, a 3-D tensor's row is dims[1]*dims[2] when
                                         * slot vllm_pos - 1 (positions) has one token dim */
    int vllm_pos;                       /* vLLM entries: the positions slot + 1 (rope_vllm_attrs in attrs) */
    int64_t lo[FZ_MAX_T], hi[FZ_MAX_T]; /* integer inputs: values drawn from [lo, hi] ... */
    int64_t vals[FZ_MAX_T][FZ_MAX_VALS]; /* ... unless n_vals > 0: these, repeated */
    int n_vals[FZ_MAX_T];
    double fvals[FZ_MAX_T][FZ_MAX_VALS]; /* with float_vals[i] and n_vals[i] > 0: slot i's values when
                                          * its dtype is f32 or f64 (the axes' coordinates: fractional,
                                          * negative, non-finite) */
    int float_vals[FZ_MAX_T];
    _Alignas(8) unsigned char attrs[FZ_ATTR_BYTES]; /* the entry's attribute struct */
    int attrs_null;
    rope_freq_config freq; /* on-the-fly and cache entries */
    int freq_null, fly_null;
    rope_positions_kind kind; /* on the fly: how slot `pos_slot` gives positions */
    int pos_slot;
    rope_dtype cs_dtype;
} fz_call;

typedef struct fz_entry {
    const char *name; /* the function: its messages start with "name: " */
    int n_in, n_out;
    size_t attr_size;                /* bytes of c->attrs the function reads (mutated) */
    void (*build)(fz_call *c);      /* a valid call (random choices from tu_int) */
    rope_status (*call)(rope_context *ctx, const fz_call *c, const rope_tensor *const *in,
                        const rope_tensor *const *out);
    /* shape inference of the same inputs into out[0..n_out), or NULL when the entry has none */
    rope_status (*infer)(const fz_call *c, const rope_tensor *const *in, rope_tensor *out);
} fz_entry;

extern const fz_entry ops_table[];
extern const size_t ops_table_size;

/* The rope_fly of an on-the-fly call: positions from slot c->pos_slot (NULL when that is NULL). */
rope_fly fz_fly(const fz_call *c, const rope_tensor *const *in);

/* Builder helpers: slot i gets dtype, rank and dims (dense). */
void fz_tensor(fz_call *c, int i, rope_dtype dt, int rank, int64_t d0, int64_t d1, int64_t d2, int64_t d3);

#endif
