/* SPDX-License-Identifier: MIT */
/* `rope bench --kernel` end to end, not timed (the numbers are only checked to be numbers): `--kernel
 * list` prints every kernel of the library's lists, each once, with its set and whether it runs here;
 * a short `--kernel NAME` run of a rotation, a normalised rotation and a store piece each prints the
 * header and one row for that kernel (the floor loop's columns filled for a rotation at halves);
 * unknown names and operator options are refused with status 2. The `rope` binary is found beside the
 * tests directory of the build (exit 77, skipped, when it is not there). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "rope_cli.h"
#include "kernels/kernel.h"

static char out[1 << 16];

/* Runs `rope bench ARGS`, stdout into out; returns the exit status (-1 if it did not exit). */
static int run(const char *args) { return rope_cli_bench(args, out, sizeof out); }

/* The line of `out` that starts with `name` followed by `sep`, or NULL. */
static const char *line_of(const char *name, char sep) {
    size_t n = strlen(name);
    for (const char *l = out; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
        if (!strncmp(l, name, n) && l[n] == sep) return l;
    return NULL;
}

/* Every listed kernel is in the CSV list once, its set and "runs" column right; *pick: a runnable
 * kernel of `kind` (a rotation: a blocked one, else the portable one; both time at halves). */
static void check_list(rope_kernel_kind kind, const rope_kernel_info **pick) {
    CHECK(run("--kernel list --csv") == 0, "--kernel list failed");
    static const char header[] = "name,kind,set,runs,x,cos,path,width,pair_stride\n";
    CHECK(!strncmp(out, header, strlen(header)), "list header: %.60s", out);
    size_t listed = 0, lines = 0;
    for (const char *l = out; (l = strchr(l, '\n')) != NULL && l[1]; l++) lines++;
    for (int isa = ROPE_ISA_SCALAR; isa < ROPE_ISA_COUNT_; isa++) {
        const rope_kernel_set *set = rope_kernels_for((rope_isa)isa);
        for (size_t i = 0; set && set->kernel_at(i); i++) {
            const rope_kernel_info *k = set->kernel_at(i);
            const char *l = line_of(k->name, ',');
            char want[64];
            snprintf(want, sizeof want, ",%s,%s,", rope_isa_name(k->isa), k->cpu_has() ? "yes" : "no");
            CHECK(l && strstr(l, want) && strstr(l, want) < strchr(l, '\n'), "%s: not listed, or not as %s", k->name,
                  want);
            listed++;
            int better = !*pick || (k->path == ROPE_PATH_BLOCKED && (*pick)->path != ROPE_PATH_BLOCKED);
            int halves = k->path == ROPE_PATH_BLOCKED || k->path == ROPE_PATH_ANY;
            if (k->kind == kind && k->cpu_has() && (kind != ROPE_KERNEL_ROT || halves) && better) *pick = k;
        }
    }
    CHECK(lines == listed, "the list has %zu rows for %zu kernels", lines, listed);
    CHECK(run("--kernel list") == 0 && strstr(out, " kernels in this build, "), "--kernel list as a table");
}

/* A numeric cell: digits and one '.'. */
static int is_number(const char *s, size_t n) { return n > 0 && strspn(s, "0123456789.") >= n; }

/* One short run of kernel k: the CSV header and one row naming it, with 13 cells, the timing cells
 * numbers, the loop cells filled when want_loop. */
static void check_run(const rope_kernel_info *k, int want_loop) {
    char args[300];
    snprintf(args, sizeof args, "--kernel %s --tokens 3 --heads 2 --head-size 64 --reps 1 --csv", k->name);
    CHECK(run(args) == 0, "%s: exit status", args);
    static const char header[] =
        "kernel,tokens,heads,head_size,rot,pair_stride,median_us,gbps,copy_gbps,ratio,loop,loop_us,ratio_loop\n";
    CHECK(!strncmp(out, header, strlen(header)), "%s: header %.80s", k->name, out);
    const char *row = line_of(k->name, ',');
    CHECK(row != NULL, "%s: no row for it in %s", k->name, out);
    if (!row) return;
    const char *cell[13], *p = row;
    size_t len[13], n = 0;
    while (n < 13) {
        size_t l = strcspn(p, ",\n");
        cell[n] = p, len[n++] = l;
        if (p[l] != ',') break;
        p += l + 1;
    }
    CHECK(n == 13, "%s: %zu cells", k->name, n);
    if (n != 13) return;
    CHECK(!strncmp(cell[1], "3,2,64,", 7), "%s: sizes %.20s", k->name, cell[1]);
    for (int i = 6; i < 10; i++)
        CHECK(is_number(cell[i], len[i]), "%s: cell %d '%.*s'", k->name, i, (int)len[i], cell[i]);
    int loop = !(len[10] == 1 && cell[10][0] == '-');
    CHECK(loop == want_loop, "%s: loop column '%.*s'", k->name, (int)len[10], cell[10]);
    if (loop) CHECK(is_number(cell[11], len[11]) && is_number(cell[12], len[12]), "%s: loop cells", k->name);
}

static void refusals(void) {
    CHECK(run("--kernel rope_kernel_rot_f32_cosf32_any_half__nosuch") == 2, "an unknown kernel accepted");
    CHECK(run("--kernel list --op vllm") == 2, "--kernel with --op accepted");
    CHECK(run("--kernel rope_kernel_rot_f32_cosf32_any_half__scalar --dtype f16 --reps 1 --tokens 1") == 2,
          "--dtype accepted for a rotation kernel");
    CHECK(run("--kernel rope_kernel_rot_f32_cosf32_any_half__scalar --layout interleaved") == 2,
          "--layout accepted with --kernel");
}

int main(int argc, char **argv) {
    (void)argc;
    if (!rope_cli_find(argv[0])) {
        printf("skipped: %s is not built\n", rope_cli_path());
        return 77;
    }
    const rope_kernel_info *rot = NULL, *norm = NULL, *store = NULL;
    check_list(ROPE_KERNEL_ROT, &rot);
    check_list(ROPE_KERNEL_NORM, &norm);
    check_list(ROPE_KERNEL_STORE, &store);
    CHECK(rot && norm && store, "a runnable kernel of each kind");
    if (rot) check_run(rot, 1);
    if (norm) check_run(norm, 0);
    if (store) check_run(store, 0);
    refusals();
    return tu_finish();
}
