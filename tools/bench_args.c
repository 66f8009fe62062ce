/* `rope bench`'s argument parser (bench_args.h): options into one case or the suite's settings.
 * Messages go to a diag, never to a stream. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_args.h"
#include "tensor_util.h"

/* A message the usage text follows. */
static int bad(bench_opts *o, diag *err, const char *fmt, const char *arg) {
    o->usage = 1;
    return diag_set(err, fmt, arg);
}

static int parse_count(diag *err, const char *name, const char *s, long lo, long hi, long *out) {
    char *end;
    long v = strtol(s, &end, 10);
    if (!*s || *end || v < lo || v > hi) {
        diag_set(err, "%s: expected an integer in [%ld, %ld], found '%s'", name, lo, hi, s);
        return 0;
    }
    *out = v;
    return 1;
}

/* Builds the single case from the options (dtype and layout names were kept until the op is known). */
static int finish_case(bench_opts *o, diag *err) {
    bench_case *c = &o->c;
    if (c->op == BENCH_ONNX && o->heads_k > 0)
        return bad(o, err, "%s", "--heads-k applies to --op atb and vllm only");
    if (c->scatter && c->op != BENCH_VLLM) return bad(o, err, "%s", "--scatter applies to --op vllm only");
    if (c->mrope && c->op != BENCH_VLLM) return bad(o, err, "%s", "--mrope applies to --op vllm only");
    if (c->mrope && c->head_size < 16) return bad(o, err, "%s", "--mrope needs --head-size 16 or more (3 sections)");
    const char *dt = o->dtype ? o->dtype : c->op == BENCH_ONNX ? "f32" : "f16";
    if (float_dtype_named(dt) != ROPE_DTYPE_INVALID) c->x_dtype = c->cs_dtype = float_dtype_named(dt);
    else if (!strcmp(dt, "f16-f32cos") && c->op != BENCH_ONNX) c->x_dtype = ROPE_F16, c->cs_dtype = ROPE_F32;
    else if (!strcmp(dt, "bf16-f32cos") && c->op == BENCH_VLLM) c->x_dtype = ROPE_BF16, c->cs_dtype = ROPE_F32;
    else return bad(o, err, "--dtype '%s': expected f32, f16, bf16, f16-f32cos (atb, vllm) or bf16-f32cos (vllm)", dt);
    c->rot = c->head_size;
    if (c->op == BENCH_VLLM) {
        const char *vl = o->layout ? o->layout : "neox";
        if (!strcmp(vl, "neox")) c->layout = 0;
        else if (!strcmp(vl, "gptj")) c->layout = 1;
        else return bad(o, err, "--layout '%s': expected neox or gptj with --op vllm", vl);
        c->heads_k = o->heads_k > 0 ? (size_t)o->heads_k : c->heads_q >= 4 ? c->heads_q / 4 : 1;
        if (c->head_size % 2 != 0) return bad(o, err, "%s", "--head-size must be even");
        return 0;
    }
    const char *ly = o->layout ? o->layout : c->op == BENCH_ONNX ? "halves" : "coeff2";
    if (c->op == BENCH_ONNX) {
        if (!strcmp(ly, "halves")) c->layout = 0;
        else if (!strcmp(ly, "interleaved")) c->layout = 1;
        else return bad(o, err, "--layout '%s': expected halves or interleaved with --op onnx", ly);
        c->heads_k = 0;
    } else {
        if (!strcmp(ly, "coeff2")) c->layout = 2;
        else if (!strcmp(ly, "coeff4")) c->layout = 4;
        else if (!strcmp(ly, "coeffD")) c->layout = (int)c->head_size;
        else return bad(o, err, "--layout '%s': expected coeff2, coeff4 or coeffD with --op atb", ly);
        if (c->head_size % (size_t)c->layout != 0) return bad(o, err, "--layout %s: head size must be a multiple", ly);
        c->heads_k = o->heads_k > 0 ? (size_t)o->heads_k : c->heads_q >= 4 ? c->heads_q / 4 : 1;
        if (c->heads_q % c->heads_k != 0) return bad(o, err, "%s", "--heads must be a multiple of --heads-k");
    }
    if (c->head_size % 2 != 0) return bad(o, err, "%s", "--head-size must be even");
    return 0;
}

int bench_args_parse(bench_opts *o, int argc, char **argv, diag *err) {
    memset(o, 0, sizeof *o);
    o->c.op = BENCH_ONNX;
    o->c.tokens = 2048, o->c.heads_q = 32, o->c.head_size = 128;
    int op_given = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) return 1;
        if (!strcmp(a, "--csv")) { o->csv = 1; continue; }
        if (!strcmp(a, "--quick")) { o->quick = 1; continue; }
        if (!strcmp(a, "--fly")) { o->c.fly = o->single = 1; continue; }
        if (!strcmp(a, "--backward")) { o->c.backward = o->single = 1; continue; }
        if (!strcmp(a, "--scatter")) { o->c.scatter = o->single = 1; continue; }
        if (i + 1 >= argc) return bad(o, err, "%s: expected a value (or unknown option)", a);
        const char *v = argv[++i];
        long n = 0;
        if (!strcmp(a, "--mrope")) {
            if (!strcmp(v, "contiguous")) o->c.mrope = 1;
            else if (!strcmp(v, "interleaved")) o->c.mrope = 2;
            else return bad(o, err, "--mrope '%s': expected contiguous or interleaved", v);
            o->single = 1;
        } else if (!strcmp(a, "--op")) {
            if (!strcmp(v, "onnx")) o->c.op = BENCH_ONNX;
            else if (!strcmp(v, "atb")) o->c.op = BENCH_ATB;
            else if (!strcmp(v, "vllm")) o->c.op = BENCH_VLLM;
            else return bad(o, err, "--op '%s': expected onnx, atb or vllm", v);
            op_given = o->single = 1;
        } else if (!strcmp(a, "--dtype")) o->dtype = v, o->single = 1;
        else if (!strcmp(a, "--layout")) o->layout = v, o->single = 1;
        else if (!strcmp(a, "--tokens") || !strcmp(a, "--heads") || !strcmp(a, "--heads-k") ||
                 !strcmp(a, "--head-size")) {
            if (!parse_count(err, a, v, 1, 1l << 24, &n)) return -1;
            if (!strcmp(a, "--tokens")) o->c.tokens = (size_t)n;
            else if (!strcmp(a, "--heads")) o->c.heads_q = (size_t)n;
            else if (!strcmp(a, "--heads-k")) o->heads_k = n;
            else o->c.head_size = (size_t)n;
            o->single = 1;
        } else if (!strcmp(a, "--threads")) {
            if (!parse_count(err, a, v, 1, 1024, &n)) return -1;
            o->threads = (int)n;
        } else if (!strcmp(a, "--reps")) {
            if (!parse_count(err, a, v, 1, 100000, &n)) return -1;
            o->reps = (int)n;
        } else {
            return bad(o, err, "unknown option '%s'", a);
        }
    }
    if (!o->reps) o->reps = o->quick ? 5 : 11;
    /* A coefficient layout names the ATB operation even without --op. */
    if (!op_given && o->layout && !strncmp(o->layout, "coeff", 5)) o->c.op = BENCH_ATB;
    if (o->single) {
        int st = finish_case(o, err);
        if (st) return st;
    }
    return 0;
}
