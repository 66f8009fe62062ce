/* SPDX-License-Identifier: MIT */
/* The vLLM operator on random cases against the float64 reference (reference_vllm.c): head sizes
 * from 2 to 256 (and 1024 / 2048, walked in tiles), full and partial rotation, both pairings,
 * positions [T] / [B, S] (i64 and i32, scattered and repeated), query/key [T, H*hs] / [T, H, hs] /
 * [B, S, H*hs], key absent, 0 heads, MRoPE with 3 and 4 contiguous sections and the interleaved form
 * (sections of every size), every dtype pair, out of place, in place, strided rows and q/k inside one
 * fused QKV buffer. Each case runs on every instruction set with 1 and 2 threads (small jobs split
 * too) and the default context: the first result against the reference (no byte outside the outputs
 * touched), the others bit for bit against it; every other case also through the operation
 * lifecycle. Half the cases carry the later attributes (vc_layouts: rope_dim_offset, inverse, the
 * split partial layout, pairs in / halves out), and the backward runs against the transposed
 * reference. */
#include <stdlib.h>
#include <string.h>

#include "contexts.h"
#include "harness.h"
#include "vllm_case.h"

static tu_contexts ctxs;

static int same_bytes(const vllm_bufs *b, unsigned char *const first[4]) {
    for (int i = 0; i < 4; i++)
        if (b->mem[i] && memcmp(b->mem[i], first[i], b->bytes[i]) != 0) return 0;
    return 1;
}

static rope_status run_lifecycle(const vllm_case *c, vllm_bufs *b) {
    rope_operation *op = NULL;
    rope_status st = rope_operation_create_vllm(&c->attrs, &op);
    if (st != ROPE_OK) return st;
    int has_k = c->hk >= 0;
    rope_tensor in[4] = {b->positions, b->query, b->key, b->cache_t}, out[2] = {b->query_out, b->key_out};
    size_t n_in = 4;
    if (!has_k) { /* both ways of leaving key out */
        if (c->tokens % 2) in[2] = b->cache_t, n_in = 3;
        else memset(&in[2], 0, sizeof in[2]);
    }
    rope_variant_pack pack = {in, n_in, out, has_k ? 2 : 1};
    size_t ws = 1;
    st = rope_operation_setup(op, &pack, &ws);
    if (st == ROPE_OK) st = rope_operation_execute(op, &pack, NULL, ws, NULL);
    rope_operation_destroy(op);
    return st;
}

/* backward: the _backward call against the transposed reference (the lifecycle has no backward). */
static void one_case(int index, int backward) {
    vllm_case c;
    vllm_bufs b;
    char desc[400], msg[300];
    vc_draw(&c, -1);
    vc_layouts(&c, 1);
    vc_build(&c, &b, 0);
    vc_str(&c, desc, sizeof desc);
    if (backward) snprintf(desc + strlen(desc), sizeof desc - strlen(desc), " (backward)");
    int has_k = c.hk >= 0;
    int64_t hs = c.attrs.head_size;
    size_t nq = (size_t)(c.tokens * c.hq * hs), nk = has_k ? (size_t)(c.tokens * c.hk * hs) : 0;
    double *want[2] = {tu_xmalloc(nq * sizeof(double)), tu_xmalloc(nk * sizeof(double))};
    double *perr[2] = {tu_xmalloc(nq * sizeof(double)), tu_xmalloc(nk * sizeof(double))};
    int (*ref)(const vllm_case *, const vllm_bufs *, int, double *, double *) =
        backward ? vc_reference_backward : vc_reference;
    CHECK(ref(&c, &b, 0, want[0], perr[0]) == 0, "reference refused %s", desc);
    if (has_k) CHECK(ref(&c, &b, 1, want[1], perr[1]) == 0, "reference refused %s", desc);
    unsigned char *first[4] = {0};
    for (int x = 0; x <= ctxs.n + 1; x++) {
        vc_restore(&b);
        rope_status st;
        const char *how = x < ctxs.n ? ctxs.name[x] : x == ctxs.n ? "default context" : "lifecycle";
        if (x == ctxs.n + 1) {
            if (index % 2 || backward) continue;
            st = run_lifecycle(&c, &b);
        } else {
            rope_status (*call)(rope_context *, const rope_vllm_attrs *, const rope_tensor *, const rope_tensor *,
                                const rope_tensor *, const rope_tensor *, const rope_tensor *, const rope_tensor *) =
                backward ? rope_vllm_rotary_embedding_backward : rope_vllm_rotary_embedding;
            st = call(x < ctxs.n ? ctxs.ctx[x] : NULL, &c.attrs, &b.positions, &b.query, has_k ? &b.key : NULL,
                      &b.cache_t, &b.query_out, has_k ? &b.key_out : NULL);
        }
        CHECK(st == ROPE_OK, "%s on %s: %s", how, desc, rope_last_error());
        if (st != ROPE_OK) continue;
        if (x == 0) {
            int bad = 0;
            for (int w = 0; w < 1 + has_k && !bad; w++) bad = vc_verify(&c, &b, w, want[w], perr[w], msg, sizeof msg);
            CHECK(!bad, "%s on %s: %s", how, desc, msg);
            for (int i = 0; i < 4; i++)
                if (b.mem[i]) first[i] = tu_xmalloc(b.bytes[i]), memcpy(first[i], b.mem[i], b.bytes[i]);
        } else {
            CHECK(same_bytes(&b, first), "%s on %s: not bitwise the scalar result", how, desc);
        }
    }
    for (int i = 0; i < 4; i++) free(first[i]);
    for (int w = 0; w < 2; w++) free(want[w]), free(perr[w]);
    vc_free(&b);
}

int main(void) {
    tu_seed(9009);
    tu_contexts_make(&ctxs);
    tu_split_everything(0);
    for (int i = 0; i < 600; i++) one_case(i, 0);
    for (int i = 0; i < 300; i++) one_case(i, 1); /* the backward, with the later attributes' layouts too */
    tu_contexts_free(&ctxs);
    return tu_finish();
}
