/* SPDX-License-Identifier: MIT */
/* rope_cli.h: finding and running the `rope` binary for the end-to-end tools tests. */
#define _POSIX_C_SOURCE 200809L /* popen, readlink */
#include "rope_cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static char rope[4200];

int rope_cli_find(const char *argv0) {
    char self[4096];
    ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
    if (len <= 0) snprintf(self, sizeof self, "%s", argv0);
    else self[len] = '\0';
    char *slash = strrchr(self, '/');
    if (slash) *slash = '\0';
    snprintf(rope, sizeof rope, "%s/../rope", slash ? self : ".");
    return access(rope, X_OK) == 0;
}

const char *rope_cli_path(void) { return rope; }

int rope_cli_bench(const char *args, char *out, size_t size) {
    char cmd[5000];
    const char *emu = getenv("ROPE_EMULATOR");
    snprintf(cmd, sizeof cmd, "%s '%s' bench %s 2>/dev/null", emu ? emu : "", rope, args);
    FILE *p = popen(cmd, "r");
    if (!p) return -1;
    size_t n = fread(out, 1, size - 1, p);
    out[n] = '\0';
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}
