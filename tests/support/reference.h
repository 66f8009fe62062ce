/* SPDX-License-Identifier: MIT */
/*
 * Float64 references for the tests, written from the operator specifications
 * (../shared/specs/onnx-rotary-embedding.md and atb-rope.md), never from src/. They use nothing of
 * the library but its public types, so a test comparing the library with them can fail.
 *
 * Values travel as doubles: every input value is first rounded to the tensor's dtype (ref_fill
 * does it), and the reference sees exactly the rounded values the library reads.
 *
 * EXPECTED RESULTS. A reference writes two parallel arrays per output:
 *   want[i]: the exact (float64) result;
 *   perr[i]: the rounding error of the two float32 products that make element i (|fl32(p) - p|,
 *            summed), or -1 for an element that is copied unchanged (it must match bit for bit).
 *   For f16 and bf16 inputs with caches of the same dtype, perr is 0: their products have at most
 *   22 significant bits, exact in float32.
 *
 * TOLERANCE (ref_tolerance). The library computes in float32, each product rounded, then one add or
 * subtract (no FMA), then rounds once to the output dtype (rope.h). Hence:
 *   - f16 / bf16 outputs: |got - want| <= ulp_dt(want) + perr, where ulp_dt is the spacing of the
 *     output dtype at |want| (subnormal spacing below the smallest normal). With perr = 0 this is
 *     "1 unit in the last place of the output dtype": the float32 difference is correctly rounded
 *     (error <= 1/2 ulp32), then rounded to dt (error <= 1/2 ulp_dt), and 1/2 ulp32 is far below the
 *     remaining 1/2 ulp_dt. perr is only nonzero with f32 caches and f16 / bf16 data (ATB's high
 *     precision mode), where a product's rounding can matter under cancellation.
 *   - f32 outputs: |got - want| <= perr + 1/2 ulp32(|want| + perr): the products' own rounding, then
 *     one correctly rounded subtraction of a value of magnitude at most |want| + perr. This is the
 *     exact worst case of the prescribed arithmetic; it allows for cancellation (the products are
 *     rounded before the subtraction) and is 1/2 ulp when the products are exact.
 *     Why not "1 ulp32 at the scale max(|want|, |x1*c|, |x2*s|)": a correct implementation exceeds
 *     it. Measured over 10^8 random f32 operands in [-2, 2], 0.37% of results of fl(fl(a*b) -
 *     fl(c*d)) lie beyond it (worst 1.249 ulp), e.g. when both products share a binade and their
 *     errors add up with a tie in the subtraction. The bound used here never exceeds 1.5 ulp at that
 *     scale and is usually tighter.
 *   Both get a relative allowance of 2^-40 for the float64 rounding of `want` itself.
 */
#ifndef ROPE_TEST_REFERENCE_H
#define ROPE_TEST_REFERENCE_H

#include <stddef.h>
#include <stdint.h>

#include "rope.h"

/* ---- scalar formats ------------------------------------------------------------------------------ */

/* The exact value of a bit pattern (NaN for NaN patterns, signed zeros and infinities kept). */
double ref_f16_value(uint16_t h);
double ref_bf16_value(uint16_t b);

/* The nearest f16 / bf16 to v, ties to the even pattern, found by a binary search over the ordered
 * bit patterns (the pattern just past the largest finite one stands for the next power of two, so
 * overflow to infinity falls out of the same rule). NaN gives a quiet NaN of v's sign. */
uint16_t ref_f16_round(double v);
uint16_t ref_bf16_round(double v);

/* v rounded to dt (f32: the C conversion, correctly rounded). */
double ref_round(rope_dtype dt, double v);

/* The spacing of dt's values at |v|: 2^(floor(log2|v|) - mantissa bits), and the subnormal spacing
 * below the smallest normal (and for v = 0). */
double ref_ulp(rope_dtype dt, double v);

/* Element i of a dense array of dt (f32, f16, bf16), and v rounded and stored there. */
double ref_load(rope_dtype dt, const void *p, size_t i);
void ref_store(rope_dtype dt, void *p, size_t i, double v);

/* ---- random data --------------------------------------------------------------------------------- */

/* Fills n elements of dt at buf with tu_uniform(-2, 2) values rounded to dt, never zero; `vals`
 * (may be NULL) receives the rounded values the library will read. It draws from the harness's
 * random source: call it from one thread. */
void ref_fill(rope_dtype dt, void *buf, double *vals, size_t n);

/* ---- ONNX RotaryEmbedding-23 ------------------------------------------------------------------- */

typedef struct ref_onnx_case {
    int rank; /* 4: X [batch, heads, seq, head_size]; 3: X [batch, seq, heads * head_size] */
    int64_t batch, seq, heads, head_size;
    int64_t rot;     /* rotary_embedding_dim; 0 means head_size */
    int interleaved; /* 0: x1 = x[0:r/2], x2 = x[r/2:r]; 1: x1 = x[0:r:2], x2 = x[1:r:2]; librope's
                        2: x1, x2 as 1, written to y[0:r/2], y[r/2:r]; 3: x1 = x[0:r/2],
                        x2 = x[H/2:H/2 + r/2] (split halves) */
    int64_t max_pos; /* rows of the 2-D cache; used only with position ids */
    int backward;    /* the transpose: read where the forward writes, write where it reads, by -angle */
} ref_onnx_case;

/* Y = RotaryEmbedding(X, cos, sin, ids). x, want and perr are dense in X's layout; cos and sin are
 * dense [max_pos, r/2] when ids (dense [batch, seq]) is given, else [batch, seq, r/2]. Returns 0,
 * or -1 without writing when the case breaks the spec (odd or too large r, an id outside
 * [0, max_pos), interleaved not 0/1, a negative size). */
int ref_onnx_rotary(const ref_onnx_case *c, const double *x, const double *cos, const double *sin,
                    const int64_t *ids, double *want, double *perr);

/* Elements in X for the case (batch * seq * heads * head_size). */
size_t ref_onnx_numel(const ref_onnx_case *c);

/* ---- ATB RopeOperation ---------------------------------------------------------------------------- */

/* A 4-D query/key [batch, seq, heads, head_size] is the 2-D [batch*seq, heads*head_size] here. */
typedef struct ref_atb_case {
    int64_t ntokens;           /* rows of query and key */
    int64_t hidden_q, hidden_k; /* their row lengths; hidden_q a multiple of hidden_k (GQA) */
    int64_t d;                 /* cos.shape[1]: the chunk width (R1); even */
    int64_t cos_rows;          /* cos.shape[0] */
    int rotary_coeff;          /* 2, 4 or d, dividing d (R2) */
    int cos_format;            /* 0: pos(t) = t; 1: packed sequences restarting at row 0 (R3) */
    const int64_t *seqlen;     /* [batch], read with cos_format 1 only */
    int64_t batch;
    int64_t head_size;         /* librope's split partial layout (rotary_coeff 2): rows are heads of
                                  head_size >= d; element j < d/2 pairs with head_size/2 + j, j with
                                  cos/sin[j], its partner with cos/sin[d/2 + j]; the rest copied. 0: none */
} ref_atb_case;

/* Applies R1-R3 to one row-major tensor x [ntokens, hidden] (hidden a multiple of d), writing
 * want/perr [ntokens, hidden]. cos and sin are [cos_rows, d]. Returns -1 without writing when the
 * rules are broken (hidden not a multiple of d, odd d, bad coefficient, too few cos rows, seqlen
 * not adding up to ntokens or a sequence longer than cos_rows). */
int ref_atb_rotate(const ref_atb_case *c, int64_t hidden, const double *x, const double *cos, const double *sin,
                   double *want, double *perr);

/* Both tensors at once, after the checks that relate them (hidden_k > 0, hidden_q % hidden_k == 0).
 * Returns 0 or -1. */
int ref_atb_rope(const ref_atb_case *c, const double *q, const double *k, const double *cos, const double *sin,
                 double *want_q, double *perr_q, double *want_k, double *perr_k);

/* ---- comparison ---------------------------------------------------------------------------------- */

/* The allowed |got - want| for one element (see TOLERANCE); 0 for a copied element (perr < 0). */
double ref_tolerance(rope_dtype dt, double want, double perr);

typedef struct ref_report {
    size_t checked, bad; /* elements compared, elements beyond their tolerance */
    size_t worst;        /* index (into want) of the element with the largest error / tolerance */
    double got, want, ratio; /* that element; ratio = |got - want| / tolerance (inf: a copy differs) */
} ref_report;

/* Compares `rows` rows of `row_len` elements of dt, `stride` elements apart at `out`, with dense
 * want/perr [rows * row_len]. Returns the number of bad elements; *rep describes the worst. */
size_t ref_compare(rope_dtype dt, const void *out, size_t rows, size_t row_len, size_t stride, const double *want,
                   const double *perr, ref_report *rep);

/* "3 of 120 beyond tolerance; worst [17]: got 0.5, want 0.49, 1.8 x tolerance" into buf. */
const char *ref_report_str(const ref_report *rep, char *buf, size_t size);

#endif
