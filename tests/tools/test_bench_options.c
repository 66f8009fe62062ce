/* SPDX-License-Identifier: MIT */
/* `rope bench` never surprises: --opt=value, the one layout vocabulary, the pool column (own, host,
 * split), the header naming the ISA actually run and why, no partial table before a failure, and
 * --plot writing a PNG. The `rope` binary beside the tests directory is run (exit 77 when absent). */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "rope.h"

static char rope[4200];
static char out[1 << 16], err[1 << 14];

/* Runs `ENV rope bench ARGS`; stdout into out, stderr into err; returns the exit status. */
static int run(const char *env, const char *args) {
    char cmd[5000], errfile[] = "/tmp/rope_bench_err_XXXXXX";
    int fd = mkstemp(errfile);
    if (fd < 0) return -1;
    close(fd);
    const char *emu = getenv("ROPE_EMULATOR");
    snprintf(cmd, sizeof cmd, "%s %s '%s' bench %s 2>'%s'", env ? env : "", emu ? emu : "", rope, args, errfile);
    FILE *p = popen(cmd, "r");
    if (!p) return -1;
    size_t n = fread(out, 1, sizeof out - 1, p);
    out[n] = '\0';
    int st = pclose(p);
    FILE *e = fopen(errfile, "r");
    n = e ? fread(err, 1, sizeof err - 1, e) : 0;
    err[n] = '\0';
    if (e) fclose(e);
    remove(errfile);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Rows of CSV output whose 10th field (pool) is `pool`. */
static int rows_with_pool(const char *pool) {
    int n = 0;
    char copy[sizeof out];
    snprintf(copy, sizeof copy, "%s", out);
    char *save = NULL;
    for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        int field = 0;
        char *f = line;
        for (; field < 9 && f; field++) f = strchr(f, ','), f = f ? f + 1 : NULL;
        if (f && !strncmp(f, pool, strlen(pool)) && f[strlen(pool)] == ',') n++;
    }
    return n;
}

static const char *best_isa_name(void) {
    if (rope_isa_available(ROPE_ISA_AVX512)) return "avx512";
    if (rope_isa_available(ROPE_ISA_AVX2)) return "avx2";
    if (rope_isa_available(ROPE_ISA_NEON)) return "neon";
    return "scalar";
}

int main(void) {
    char self[4096];
    ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
    if (len <= 0) return 77;
    self[len] = '\0';
    char *slash = strrchr(self, '/');
    if (slash) *slash = '\0';
    snprintf(rope, sizeof rope, "%s/../rope", self);
    if (access(rope, X_OK) != 0) {
        printf("skipped: %s is not built\n", rope);
        return 77;
    }
    const char *small = "--tokens=64 --heads=4 --head-size=64 --reps=1";
    char args[512];

    /* Every pool gives a row; --opt=value and --opt value alike. */
    snprintf(args, sizeof args, "--csv --op=atb --layout=coeff2 %s --threads=2 --pool=all", small);
    CHECK(run(NULL, args) == 0, "--pool=all: %s", err);
    CHECK(rows_with_pool("own") == 1 && rows_with_pool("host") == 1 && rows_with_pool("split") == 1,
          "--pool all rows:\n%s", out);
    snprintf(args, sizeof args, "--csv --op onnx --layout interleaved %s --threads 3 --pool split", small);
    CHECK(run(NULL, args) == 0 && rows_with_pool("split") == 1, "--pool split: %s%s", out, err);
    CHECK(run(NULL, "--pool=threads") == 2 && strstr(err, "--pool 'threads'"), "bad --pool: %s", err);

    /* One layout vocabulary: the words of rope cache; a wrong word for the operator is refused. */
    CHECK(run(NULL, "--op onnx --layout coeff2 --tokens 1") == 2 && strstr(err, "with --op onnx") && !out[0],
          "onnx coeff2: %s", err);
    CHECK(run(NULL, "--layout half --tokens 1") == 2 && strstr(err, "expected halves, interleaved, coeff2"),
          "old word 'half': %s", err);
    CHECK(run(NULL, "--op vllm --layout neox --tokens 1") == 2 && strstr(err, "halves (is_neox=True)") && !out[0],
          "vLLM's neox: %s", err);
    snprintf(args, sizeof args, "--csv --op=vllm --layout=interleaved %s --threads=2 --pool=all --scatter", small);
    CHECK(run(NULL, args) == 0 && rows_with_pool("own") == 1 && rows_with_pool("host") == 1 &&
              rows_with_pool("split") == 1,
          "vllm --pool=all: %s%s", out, err);
    CHECK(run(NULL, "--csv=yes") == 2 && strstr(err, "takes no value"), "--csv=yes: %s", err);
    CHECK(run(NULL, "--tokens=") == 2 && strstr(err, "needs a value"), "--tokens=: %s", err);
    CHECK(run(NULL, "--tokens 99999999999999999999") == 2 && strstr(err, "overflows"), "overflow: %s", err);

    /* The header names the ISA run and why; a bad ROPE_ISA is ignored, never fatal. */
    snprintf(args, sizeof args, "--op onnx %s --threads 1", small);
    CHECK(run("ROPE_ISA=foo", args) == 0, "ROPE_ISA=foo: %s", err);
    char want[128];
    snprintf(want, sizeof want, "isa %s (ROPE_ISA=foo ignored: unknown)", best_isa_name());
    CHECK(strstr(out, want) != NULL, "header with ROPE_ISA=foo:\n%s", out);
    CHECK(run("ROPE_ISA=scalar", args) == 0 && strstr(out, "isa scalar (ROPE_ISA=scalar)"), "scalar header:\n%s", out);
    snprintf(want, sizeof want, "isa %s (auto)", best_isa_name());
    CHECK(run("ROPE_ISA=", args) == 0 && strstr(out, want), "auto header:\n%s", out);

    /* An impossible size fails before anything reaches stdout. */
    CHECK(run(NULL, "--tokens 16777216 --heads 16777216 --threads 1") == 1 && out[0] == '\0' && err[0],
          "impossible size: stdout '%s', stderr '%s'", out, err);

    /* --plot draws a PNG (gnuplot is installed by scripts/ensure-tools.sh). */
    char pdir[] = "/tmp/rope_plot_XXXXXX", png[64];
    CHECK(mkdtemp(pdir) != NULL, "mkdtemp");
    snprintf(png, sizeof png, "%s/ratios.png", pdir);
    snprintf(args, sizeof args, "--op atb %s --pool all --plot %s", small, png);
    int st = run(NULL, args);
    struct stat sb;
    unsigned char magic[8] = {0};
    FILE *f = fopen(png, "rb");
    if (f) {
        if (fread(magic, 1, 8, f) != 8) magic[0] = 0;
        fclose(f);
    }
    if (system("command -v gnuplot >/dev/null 2>&1") == 0)
        CHECK(st == 0 && stat(png, &sb) == 0 && sb.st_size > 1000 && !memcmp(magic, "\x89PNG\r\n\x1a\n", 8),
              "--plot: status %d, %s", st, err);
    else /* scripts/ensure-tools.sh could not install it: the option says so before measuring */
        CHECK(st == 2 && strstr(err, "needs gnuplot") && !out[0], "--plot without gnuplot: %d %s", st, err);
    remove(png), rmdir(pdir);
    CHECK(run(NULL, "--plot out.svg --tokens 1") == 2 && strstr(err, "FILE.png") && !out[0], "--plot out.svg: %s", err);
    return tu_finish();
}
