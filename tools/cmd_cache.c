/* SPDX-License-Identifier: MIT */
/* `rope cache`: writes the cos/sin cache of a RoPE configuration (Hugging Face's rope_theta and
 * rope_scaling), or the per-token tables of a grid of multi-axis positions (--axes), as TensorProto
 * files, ready to be inputs of an ONNX, ATB or vLLM-style node. The values come from rope_cache_fill
 * and rope_cache_fill_axes; this file only parses the command line and writes the files. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache_args.h"
#include "commands.h"
#include "file_io.h"
#include "tensor_proto.h"
#include "tensor_util.h"

static void print_cache_usage(FILE *f) {
    fprintf(f,
            "usage: rope cache --dim R --positions START:END -o DIR [--base B] [--scaling TYPE[:KEY=VALUE,...]]\n"
            "                  [--seq-len N] [--dtype f32|f16|bf16]\n"
            "                  [--layout halves|interleaved|coeff2|coeff4|coeffD|vllm]\n"
            "       rope cache --axes D0,D1,... --grid N0xN1x... -o DIR [--theta T | --theta T0,T1,...]\n"
            "                  [--grid-start S0,S1,...] [--axes-freq per-axis|alternating] [--dtype ...] [--layout ...]\n\n"
            "Writes DIR/cos.pb and DIR/sin.pb (TensorProto, raw_data): row r holds the cos (sin) of position\n"
            "START + r for every rotated pair, as Hugging Face transformers computes them for the configuration,\n"
            "in float64 from the exact angle, rounded once to the dtype.\n\n"
            "  --dim R            rotary dimension (even, 2..65536): head_dim * partial_rotary_factor\n"
            "  --positions S:E    positions S .. E-1 (\"E\" alone means 0:E), 0 <= S <= E <= 2^53\n"
            "  --base B           rope_theta, > 1 (default 10000 when --base is not given)\n"
            "  --scaling TYPE:... rope_type: default, linear, dynamic, yarn, llama3, longrope, proportional\n"
            "                     (mrope: default), with keys as in Hugging Face: factor,\n"
            "                     original_max_position_embeddings, low_freq_factor, high_freq_factor,\n"
            "                     beta_fast, beta_slow, attention_factor, mscale, mscale_all_dim, truncate\n"
            "                     (true|false), short_factor, long_factor (lists of R/2 values separated by\n"
            "                     '/'), rotated_pairs (proportional: pairs that rotate; R is the head size); e.g.\n"
            "                     --scaling llama3:factor=8,original_max_position_embeddings=8192\n"
            "  --seq-len N        sequence length for dynamic and longrope (default E, as Hugging Face's\n"
            "                     forward over positions 0..E-1; 0 means as at initialisation)\n"
            "  --dtype D          f32 (default), f16 or bf16\n"
            "  --layout L         the pairing of the operator that reads the tables (the same words as rope\n"
            "                     bench): halves (default) or interleaved: [E-S, R/2], ONNX RotaryEmbedding's\n"
            "                     cos_cache/sin_cache; coeff2, coeff4 or coeffD: [E-S, R], each pair's value in\n"
            "                     both of its elements, ATB Rope's cos/sin for rotaryCoeff 2, 4 or R;\n"
            "                     vllm: one file, DIR/cos_sin_cache.pb [E-S, R], rows [cos | sin], vLLM's\n"
            "                     cos_sin_cache (for is_neox True or False alike)\n"
            "  -o DIR             output directory (created if missing)\n\n"
            "Multi-axis positions (vision towers, image and video diffusion): each token of the grid has one\n"
            "coordinate per axis, and each axis rotates its own slice of the pairs, axis 0's first.\n"
            "  --axes D0,D1,...   each axis's rotary width (even; R = their sum), e.g. 16,56,56 (Flux,\n"
            "                     HunyuanVideo), 44,42,42 (Wan, head 128), 40,40 (Qwen2-VL vision, head 80)\n"
            "  --grid N0xN1x...   the grid's extent on each axis, e.g. 1x32x32; its tokens are tabulated row\n"
            "                     major (the last axis fastest), token coordinates S_a + index_a\n"
            "  --grid-start S,... each axis's first coordinate (default 0; Llama 4 vision: 1,1)\n"
            "  --theta T[,T1...]  the base of every axis, or one per axis (default 10000; HunyuanVideo 256)\n"
            "  --axes-freq F      per-axis (default): axis a's pair j turns at T_a^(-2j/D_a); alternating\n"
            "                     (Pixtral): one sequence T^(-2k/R) dealt to the axes in turn (equal widths)\n"
            "  Files as above with one row per token: halves / interleaved write [1, tokens, R/2], ONNX\n"
            "  RotaryEmbedding's per-token caches (no position_ids); coeff* [tokens, R], ATB's rows;\n"
            "  vllm [tokens, R], read at positions 0 .. tokens-1.\n"
            "Options take --opt VALUE or --opt=VALUE. A --scaling key the type does not use is refused.\n\n"
            "Exit status: 0 written, 1 the library rejected the configuration, 2 bad usage or unwritable files.\n");
}

static int cache_write_pair(const cache_args *a, const rope_tensor *c, const rope_tensor *s) {
    if (a->layout == ROPE_CACHE_VLLM) { /* one [count, R] file of [cos | sin] rows */
        static const char *const file[1] = {"cos_sin_cache.pb"}, *const name[1] = {"cos_sin_cache"};
        return tensor_files_save("cache", a->out_dir, 1, &c, file, name);
    }
    const rope_tensor *ts[2] = {c, s};
    static const char *const files[2] = {"cos.pb", "sin.pb"};
    static const char *const names[2][2] = {{"cos_cache", "sin_cache"}, {"cos", "sin"}}; /* ONNX / ATB inputs */
    return tensor_files_save("cache", a->out_dir, 2, ts, files, names[a->layout == ROPE_CACHE_FULL]);
}

/* The tables of --axes: the grid's coordinates, token by token, through rope_cache_fill_axes. */
static int cache_axes(const cache_args *a) {
    const int n = a->axes.n_axes;
    const int64_t T = a->tokens;
    int64_t rot = 0;
    for (int k = 0; k < n; k++) rot += a->axes.axes_dims[k] > 0 && a->axes.axes_dims[k] <= 65536 ? a->axes.axes_dims[k] : 0;
    int64_t width = a->layout != ROPE_CACHE_HALF ? rot : rot / 2;
    size_t es = rope_dtype_size(a->dtype);
    /* T <= 2^31 and width <= 65536: the sizes fit 64 bits; a 32-bit size_t may still be too small */
    uint64_t table_bytes = (uint64_t)T * (uint64_t)width * es, pos_bytes = (uint64_t)T * (uint64_t)n * 8u;
    int too_big = table_bytes > SIZE_MAX || pos_bytes > SIZE_MAX;
    size_t bytes = too_big ? 0 : (size_t)table_bytes;
    int64_t *pos = too_big ? NULL : malloc(pos_bytes ? (size_t)pos_bytes : 1);
    void *cd = too_big ? NULL : malloc(bytes ? bytes : 1), *sd = too_big ? NULL : malloc(bytes ? bytes : 1);
    int status = 2;
    if (!pos || !cd || !sd) {
        fprintf(stderr, "rope cache: cannot allocate the tables of %lld tokens\n", (long long)T);
    } else {
        for (int64_t t = 0; t < T; t++) { /* row major: the last axis fastest */
            int64_t rest = t;
            for (int k = n - 1; k >= 0; k--) {
                pos[t * n + k] = a->grid_start[k] + rest % a->grid[k];
                rest /= a->grid[k];
            }
        }
        rope_tensor P = {pos, ROPE_I64, 2, {T, n}, 0};
        rope_tensor c = {cd, a->dtype, 2, {T, width}, 0}, s = {sd, a->dtype, 2, {T, width}, 0};
        if (rope_cache_fill_axes(&a->axes, &P, a->layout, a->coeff, &c, a->layout == ROPE_CACHE_VLLM ? NULL : &s) !=
            ROPE_OK) {
            fprintf(stderr, "rope cache: %s\n", rope_last_error());
            status = 1;
        } else {
            if (a->layout == ROPE_CACHE_HALF) { /* ONNX's per-token caches are [batch, seq, R/2] */
                c.rank = s.rank = 3;
                c.dims[0] = s.dims[0] = 1, c.dims[1] = s.dims[1] = T, c.dims[2] = s.dims[2] = width;
            }
            status = cache_write_pair(a, &c, &s);
        }
    }
    free(pos), free(cd), free(sd);
    return status;
}

int rope_cmd_cache(int argc, char **argv) {
    cache_args a;
    diag err;
    int st = cache_args_parse(&a, argc, argv, &err);
    if (st > 0) print_cache_usage(stdout);
    if (st < 0) {
        fprintf(stderr, "rope cache: %s\n", err.text);
        if (a.usage) print_cache_usage(stderr);
    }
    if (st != 0) {
        cache_args_free(&a);
        return st > 0 ? 0 : 2;
    }
    if (a.have_axes) {
        int status = cache_axes(&a);
        cache_args_free(&a);
        return status;
    }
    int64_t count = a.end - a.start;
    int64_t width = a.layout != ROPE_CACHE_HALF ? a.cfg.rotary_dim : a.cfg.rotary_dim / 2;
    if (width < 0) width = 0; /* a negative --dim is the library's to report */
    size_t es = rope_dtype_size(a.dtype);
    size_t bytes = 0;
    int too_big = width > 0 && (uint64_t)count > SIZE_MAX / es / (uint64_t)width;
    if (!too_big) bytes = (size_t)count * (size_t)width * es;
    void *cd = too_big ? NULL : malloc(bytes ? bytes : 1), *sd = too_big ? NULL : malloc(bytes ? bytes : 1);
    int status = 2;
    if (!cd || !sd) {
        fprintf(stderr, "rope cache: cannot allocate two %lld x %lld %s tables\n", (long long)count, (long long)width,
                rope_dtype_name(a.dtype));
    } else {
        rope_tensor c = {cd, a.dtype, 2, {count, width}, 0}, s = {sd, a.dtype, 2, {count, width}, 0};
        if (rope_cache_fill(&a.cfg, a.start, count, a.layout, a.coeff, &c,
                            a.layout == ROPE_CACHE_VLLM ? NULL : &s) != ROPE_OK) {
            fprintf(stderr, "rope cache: %s\n", rope_last_error());
            status = 1;
        } else {
            status = cache_write_pair(&a, &c, &s);
        }
    }
    free(cd), free(sd);
    cache_args_free(&a);
    return status;
}
