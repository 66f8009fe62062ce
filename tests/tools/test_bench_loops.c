/* SPDX-License-Identifier: MIT */
/*
 * `rope bench`'s floor is honest: every loop (tools/bench_loops.h) computes the rotation the library
 * computes, on the bench's own buffers (random data, random or scattered positions). For each case
 * and each instruction set this machine runs, the library's output is kept, the outputs are filled
 * with a marker, the loop picked for that set runs (whole, and split in parts as on several threads),
 * and every output element is compared: bitwise, except bf16 narrowed by vcvtneps2bf16 (the
 * avx512bf16 loop), which reads subnormal float32 results as zero where the library rounds them,
 * and so may differ by one bf16 unit. The portable loop is checked on every case too, whatever the
 * set. Shapes: one token to 33, head sizes 128 (the suite's), 64, 32 (whole vectors or not) and 18
 * (halves of 9: no vector loop, the portable one).
 */
#include <stdlib.h>
#include <string.h>

#include "bench_run.h"
#include "harness.h"

static const uint8_t marker = 0xa5;

/* |a - b| in units of the last place of a 16-bit float format (same sign: ordered as integers). */
static unsigned diff_units(uint16_t a, uint16_t b) {
    if ((a ^ b) & 0x8000u) return a == b ? 0 : 0xffffu;
    return a > b ? (unsigned)(a - b) : (unsigned)(b - a);
}

static const char *case_name(const bench_case *c, char *buf, size_t size) {
    static const char *const ops[] = {"onnx", "atb", "vllm", "qknorm", "kvcache"};
    snprintf(buf, size, "%s %s/%s layout %d tokens %zu heads %zu+%zu hs %zu%s", ops[c->op], rope_dtype_name(c->x_dtype),
             rope_dtype_name(c->cs_dtype), c->layout, c->tokens, c->heads_q, c->heads_k, c->head_size,
             c->scatter ? " scattered" : "");
    return buf;
}

/* Runs loop k over the job in `parts` parts and compares every output with `want`. */
static void check_loop(bench_data *d, const bench_case *c, bench_loop_kind k, size_t parts, uint8_t *const want[2],
                       const char *what) {
    bench_loop_job job;
    CHECK(bench_loop_job_of(d, &job) == 0, "%s: no loop job", what);
    size_t bytes[2];
    uint8_t *y[2];
    for (int i = 0; i < 2; i++) {
        y[i] = bench_output(d, i, &bytes[i]);
        if (y[i]) memset(y[i], marker, bytes[i]);
    }
    for (size_t p = 0; p < parts; p++) bench_loop_run(k, &job, p, parts);
    size_t es = rope_dtype_size(c->x_dtype), bad = 0, first = (size_t)-1;
    int one_unit = k == BENCH_LOOP_AVX512BF16 && c->x_dtype == ROPE_BF16;
    for (int i = 0; i < 2; i++) {
        for (size_t e = 0; y[i] && e < bytes[i] / es; e++) {
            int same = !memcmp(y[i] + e * es, want[i] + e * es, es);
            if (!same && one_unit) {
                uint16_t a, b;
                memcpy(&a, y[i] + e * es, 2);
                memcpy(&b, want[i] + e * es, 2);
                same = diff_units(a, b) <= 1;
            }
            if (!same && bad++ == 0) first = e;
        }
    }
    CHECK(bad == 0, "%s: loop %s in %zu parts: %zu elements differ from the library (first %zu)", what,
          bench_loop_name(k), parts, bad, first);
}

/* The library's output on `isa`, then each loop that set can pick, and the portable one. */
static void check_case(const bench_case *c) {
    char what[160];
    case_name(c, what, sizeof what);
    bench_data *d = bench_data_create(c);
    CHECK(d != NULL, "%s: bench_data_create", what);
    if (!d) return;
    uint8_t *want[2] = {NULL, NULL};
    size_t bytes[2];
    for (int i = 0; i < 2; i++) {
        uint8_t *y = bench_output(d, i, &bytes[i]);
        if (y) want[i] = tu_xmalloc(bytes[i]);
    }
    for (int isa = ROPE_ISA_SCALAR; isa < ROPE_ISA_COUNT_; isa++) {
        if (!rope_isa_available((rope_isa)isa)) continue;
        rope_context_options o = ROPE_CONTEXT_OPTIONS_INIT;
        o.isa = (rope_isa)isa;
        o.threads = 1;
        rope_context *ctx = NULL;
        CHECK(rope_context_create(&o, &ctx) == ROPE_OK, "%s: context for %s", what, rope_isa_name((rope_isa)isa));
        if (!ctx) continue;
        for (int i = 0; i < 2; i++) {
            uint8_t *y = bench_output(d, i, &bytes[i]);
            if (y) memset(y, 0, bytes[i]);
        }
        CHECK(bench_call(d, ctx) == ROPE_OK, "%s: the library call: %s", what, rope_last_error());
        size_t untouched = 0;
        for (int i = 0; i < 2; i++) {
            uint8_t *y = bench_output(d, i, &bytes[i]);
            if (!y) continue;
            memcpy(want[i], y, bytes[i]);
            for (size_t b = 0; b < bytes[i]; b++) untouched += y[b] == 0;
        }
        /* random data: a zero byte here and there, never most of them */
        CHECK(untouched < (bytes[0] + (want[1] ? bytes[1] : 0)) / 8, "%s: the library wrote %zu zero bytes", what,
              untouched);
        bench_loop_job job;
        if (bench_loop_job_of(d, &job) == 0) {
            bench_loop_kind kinds[3] = {bench_loop_pick(&job, (rope_isa)isa, 0),
                                        bench_loop_pick(&job, (rope_isa)isa, bench_loop_cpu_has_bf16()), BENCH_LOOP_C};
            for (int k = 0; k < 3; k++) {
                CHECK(kinds[k] != BENCH_LOOP_NONE, "%s: no loop picked", what);
                if (kinds[k] == BENCH_LOOP_NONE || (k > 0 && kinds[k] == kinds[k - 1])) continue;
                char w[220];
                snprintf(w, sizeof w, "%s on %s", what, rope_isa_name((rope_isa)isa));
                check_loop(d, c, kinds[k], 1, want, w);
                check_loop(d, c, kinds[k], 3, want, w);
            }
            if (isa == ROPE_ISA_AVX512 && c->head_size % 32 == 0 && bench_loop_avx512(&job, 0, 0))
                CHECK(kinds[0] == BENCH_LOOP_AVX512, "%s: AVX-512 picked %s", what, bench_loop_name(kinds[0]));
        }
        rope_context_free(ctx);
    }
    free(want[0]);
    free(want[1]);
    bench_data_free(d);
}

static bench_case make(bench_op op, rope_dtype x, rope_dtype cs, int layout, size_t tokens, size_t hq, size_t hk,
                       size_t hs) {
    bench_case c;
    memset(&c, 0, sizeof c);
    c.op = op;
    c.x_dtype = x;
    c.cs_dtype = cs;
    c.layout = layout;
    c.tokens = tokens;
    c.heads_q = hq;
    c.heads_k = op == BENCH_ONNX ? 0 : hk;
    c.head_size = hs;
    c.rot = hs;
    return c;
}

/* Rows without a loop say so; the job refuses them. */
static void rows_without_loop(void) {
    bench_case c = make(BENCH_ONNX, ROPE_F16, ROPE_F16, 0, 4, 2, 0, 32);
    bench_loop_job job;
    int modes[3][3] = {{1, 0, 0}, {0, 1, 0}, {0, 0, 1}}; /* fly, backward, MRoPE */
    for (int m = 0; m < 3; m++) {
        bench_case v = c;
        v.fly = modes[m][0];
        v.backward = modes[m][1];
        if (modes[m][2]) {
            v.op = BENCH_VLLM;
            v.heads_k = 1;
            v.mrope = 1;
        }
        bench_data *d = bench_data_create(&v);
        CHECK(d && bench_loop_job_of(d, &job) == -1, "mode %d has a loop job", m);
        bench_data_free(d);
    }
    bench_case a = make(BENCH_ATB, ROPE_F16, ROPE_F16, 4, 3, 2, 1, 32);
    bench_data *d = bench_data_create(&a);
    CHECK(d && bench_loop_job_of(d, &job) == -1, "atb coeff4 has a loop job");
    bench_data_free(d);
}

int main(void) {
    static const rope_dtype same[] = {ROPE_F32, ROPE_F16, ROPE_BF16};
    static const size_t sizes[] = {128, 64, 32, 18};
    static const size_t tokens[] = {1, 5, 33};
    for (size_t s = 0; s < 4; s++)
        for (size_t t = 0; t < 3; t++)
            for (int layout = 0; layout < 2; layout++)
                for (size_t k = 0; k < 3; k++) {
                    bench_case c = make(BENCH_ONNX, same[k], same[k], layout, tokens[t], 3, 0, sizes[s]);
                    check_case(&c);
                }
    /* vLLM: f16 / bf16 data with an f32 cache (the suite's rows) or the data's dtype, f32; scattered
     * positions over a 32768-row cache, and consecutive ones */
    static const rope_dtype vx[] = {ROPE_F16, ROPE_BF16, ROPE_F16, ROPE_BF16, ROPE_F32};
    static const rope_dtype vc[] = {ROPE_F32, ROPE_F32, ROPE_F16, ROPE_BF16, ROPE_F32};
    for (size_t s = 0; s < 4; s++)
        for (int layout = 0; layout < 2; layout++)
            for (size_t k = 0; k < 5; k++)
                for (int scatter = 0; scatter < 2; scatter++) {
                    bench_case c = make(BENCH_VLLM, vx[k], vc[k], layout, scatter ? 64 : 7, 4, 2, sizes[s]);
                    c.scatter = scatter;
                    check_case(&c);
                }
    /* ATB coefficient 2: element-indexed rows */
    static const rope_dtype ax[] = {ROPE_F16, ROPE_F16, ROPE_BF16, ROPE_F32};
    static const rope_dtype ac[] = {ROPE_F16, ROPE_F32, ROPE_BF16, ROPE_F32};
    for (size_t s = 0; s < 4; s++)
        for (size_t k = 0; k < 4; k++) {
            bench_case c = make(BENCH_ATB, ax[k], ac[k], 2, 9, 4, 2, sizes[s]);
            check_case(&c);
        }
    rows_without_loop();
    return tu_finish();
}
