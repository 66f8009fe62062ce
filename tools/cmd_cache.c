/* SPDX-License-Identifier: MIT */
/* `rope cache`: writes the cos/sin cache of a RoPE configuration (Hugging Face's rope_theta and
 * rope_scaling) as two TensorProto files, ready to be inputs of an ONNX or ATB node. The values
 * come from rope_cache_fill; this file only parses the command line and writes the files. */
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
            "                  [--layout halves|interleaved|coeff2|coeff4|coeffD|vllm]\n\n"
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
            "  -o DIR             output directory (created if missing)\n"
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
