/* SPDX-License-Identifier: MIT */
/* Draws the benchmark's ratios (bench_plot.h): a data file and a gnuplot script in a temporary
 * directory, gnuplot started with posix_spawnp (no shell, so no quoting of the user's path). */
#define _POSIX_C_SOURCE 200809L
#include "bench_plot.h"

#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

typedef struct plot_row {
    char group[64], series[32];
    double ratio;
} plot_row;

struct bench_plot {
    plot_row *rows;
    size_t n, cap;
};

bench_plot *bench_plot_new(void) { return calloc(1, sizeof(bench_plot)); }

void bench_plot_free(bench_plot *p) {
    if (p) free(p->rows);
    free(p);
}

void bench_plot_add(bench_plot *p, const char *op, const char *dtype, const char *layout, size_t tokens, int threads,
                    const char *pool, int loop, double ratio) {
    if (p->n == p->cap) {
        size_t cap = p->cap ? 2 * p->cap : 64;
        plot_row *r = realloc(p->rows, cap * sizeof *r);
        if (!r) return; /* the plot loses a row; the table has it */
        p->rows = r, p->cap = cap;
    }
    plot_row *r = &p->rows[p->n++];
    snprintf(r->group, sizeof r->group, "%s %s %s %zu", op, dtype, layout, tokens);
    snprintf(r->series, sizeof r->series, "%d thread%s%s%s%s", threads, threads > 1 ? "s" : "",
             strcmp(pool, "own") ? ", " : "", strcmp(pool, "own") ? pool : "", loop ? ", loop" : "");
    r->ratio = ratio;
}

static int on_path(const char *prog) {
    const char *path = getenv("PATH");
    char buf[4096];
    for (const char *p = path ? path : ""; *p;) {
        const char *colon = strchr(p, ':');
        size_t n = colon ? (size_t)(colon - p) : strlen(p);
        if (n && snprintf(buf, sizeof buf, "%.*s/%s", (int)n, p, prog) < (int)sizeof buf && access(buf, X_OK) == 0)
            return 1;
        p += n + (colon != NULL);
    }
    return 0;
}

int bench_plot_check(const char *png) {
    if (strpbrk(png, "\"\\\n")) {
        fprintf(stderr, "rope bench: --plot '%s': the file name may not contain quotes, backslashes or newlines\n", png);
        return -1;
    }
    if (!on_path("gnuplot")) {
        fprintf(stderr, "rope bench: --plot needs gnuplot on PATH (scripts/ensure-tools.sh installs it; "
                        "apt-get install gnuplot-nox)\n");
        return -1;
    }
    return 0;
}

/* Index of `s` in names[0..n), appended when new. */
static size_t index_of(const char **names, size_t *n, const char *s) {
    for (size_t i = 0; i < *n; i++)
        if (!strcmp(names[i], s)) return i;
    names[*n] = s;
    return (*n)++;
}

static int write_files(const bench_plot *p, const char *dat, const char *gp, const char *png, const char *title) {
    const char **groups = calloc(p->n + 1, sizeof *groups), **series = calloc(p->n + 1, sizeof *series);
    double *cell = NULL;
    size_t ng = 0, ns = 0;
    int st = -1;
    if (!groups || !series) goto done;
    for (size_t i = 0; i < p->n; i++) index_of(groups, &ng, p->rows[i].group), index_of(series, &ns, p->rows[i].series);
    cell = malloc((ng * ns + 1) * sizeof *cell);
    if (!cell) goto done;
    for (size_t i = 0; i < ng * ns; i++) cell[i] = -1;
    for (size_t i = 0; i < p->n; i++) {
        size_t g = index_of(groups, &ng, p->rows[i].group), s = index_of(series, &ns, p->rows[i].series);
        cell[g * ns + s] = p->rows[i].ratio;
    }
    FILE *f = fopen(dat, "w");
    if (!f) goto done;
    fprintf(f, "case");
    for (size_t s = 0; s < ns; s++) fprintf(f, "\t\"%s\"", series[s]);
    fprintf(f, "\n");
    for (size_t g = 0; g < ng; g++) {
        fprintf(f, "\"%s\"", groups[g]);
        for (size_t s = 0; s < ns; s++)
            if (cell[g * ns + s] < 0) fprintf(f, "\t?");
            else fprintf(f, "\t%.3f", cell[g * ns + s]);
        fprintf(f, "\n");
    }
    int bad = fclose(f) != 0;
    f = fopen(gp, "w");
    if (bad || !f) goto done;
    size_t title_len = strcspn(title, "\n\"\\");
    double width = 300 + 15.0 * (double)(ng * (ns + 1));
    fprintf(f,
            "set terminal pngcairo size %d,700 font 'sans,8'\n"
            "set bmargin 15\n"
            "set rmargin 10\n"
            "set output \"%s\"\n"
            "set title \"%.*s\" noenhanced\n"
            "set datafile separator '\\t'\n"
            "set datafile missing '?'\n"
            "set style data histograms\n"
            "set style histogram clustered gap 1\n"
            "set style fill solid 0.85 border -1\n"
            "set ylabel 'throughput / memcpy of the same bytes'\n"
            "set yrange [0:*]\n"
            "set grid ytics\n"
            "set xtics rotate by -60 noenhanced\n"
            "set key top left noenhanced\n"
            "set arrow from graph 0, first 1 to graph 1, first 1 nohead dashtype 2 lc rgb '#555555'\n"
            "plot for [i=2:%zu] '%s' using i:xtic(1) title columnheader(i)\n",
            width > 2400 ? 2400 : (int)width, png, (int)title_len, title, ns + 1, dat);
    st = fclose(f) != 0 ? -1 : 0;
done:
    free(groups), free(series), free(cell);
    return st;
}

int bench_plot_write(const bench_plot *p, const char *png, const char *title) {
    if (p->n == 0) {
        fprintf(stderr, "rope bench: --plot: no rows were measured\n");
        return -1;
    }
    /* mkdtemp's template: the name, then six placeholder characters it replaces */
    char dir[] = "/tmp/rope-plot-......", dat[64], gp[64];
    memset(dir + sizeof dir - 7, 'X', 6);
    if (!mkdtemp(dir)) {
        perror("rope bench: --plot: temporary directory");
        return -1;
    }
    snprintf(dat, sizeof dat, "%s/ratios.tsv", dir);
    snprintf(gp, sizeof gp, "%s/plot.gp", dir);
    int st = write_files(p, dat, gp, png, title);
    if (st) fprintf(stderr, "rope bench: --plot: cannot write the data for gnuplot in %s\n", dir);
    if (!st) {
        char *args[] = {"gnuplot", gp, NULL};
        pid_t pid;
        int ws = 0;
        fflush(NULL);
        if (posix_spawnp(&pid, "gnuplot", NULL, NULL, args, environ) != 0 || waitpid(pid, &ws, 0) != pid ||
            !WIFEXITED(ws) || WEXITSTATUS(ws) != 0) {
            fprintf(stderr, "rope bench: --plot: gnuplot failed to draw %s\n", png);
            st = -1;
        }
    }
    remove(dat), remove(gp), rmdir(dir);
    return st;
}
