/* SPDX-License-Identifier: MIT */
/* Shared command-line parsing (cli_args.h). */
#include "cli_args.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cli_value(const char *cmd, int argc, char **argv, int *i, const char *name, const char **value) {
    const char *a = argv[*i];
    size_t n = strlen(name);
    if (strncmp(a, name, n) != 0) return 0;
    if (a[n] == '=') {
        *value = a + n + 1;
    } else if (a[n] == '\0') {
        *value = *i + 1 < argc ? argv[*i + 1] : NULL;
        if (*value) (*i)++;
    } else {
        return 0; /* a longer option sharing the prefix */
    }
    if (!*value || !**value) {
        fprintf(stderr, "rope %s: %s needs a value\n", cmd, name);
        return -1;
    }
    return 1;
}

int cli_flag(const char *cmd, const char *arg, const char *name) {
    size_t n = strlen(name);
    if (strncmp(arg, name, n) != 0) return 0;
    if (arg[n] == '\0') return 1;
    if (arg[n] != '=') return 0;
    fprintf(stderr, "rope %s: %s takes no value (found '%s')\n", cmd, name, arg);
    return -1;
}

int cli_i64(const char *cmd, const char *name, const char *text, int64_t lo, int64_t hi, int64_t *out) {
    const char *p = text;
    if (*p == '+' || *p == '-') p++;
    int digits = *p != '\0';
    for (const char *q = p; *q; q++) digits &= isdigit((unsigned char)*q) != 0;
    if (!digits) {
        fprintf(stderr, "rope %s: %s '%s': expected an integer\n", cmd, name, text);
        return -1;
    }
    errno = 0;
    long long v = strtoll(text, NULL, 10);
    if (errno == ERANGE) {
        fprintf(stderr, "rope %s: %s '%s': too large (overflows a 64-bit integer); expected %lld..%lld\n", cmd, name,
                text, (long long)lo, (long long)hi);
        return -1;
    }
    if (v < lo || v > hi) {
        fprintf(stderr, "rope %s: %s %lld: out of range, expected %lld..%lld\n", cmd, name, v, (long long)lo,
                (long long)hi);
        return -1;
    }
    *out = (int64_t)v;
    return 0;
}

int cli_f64(const char *cmd, const char *name, const char *text, double *out) {
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (!*text || *end || isnan(v)) {
        fprintf(stderr, "rope %s: %s '%s': expected a number\n", cmd, name, text);
        return -1;
    }
    if (errno == ERANGE && fabs(v) > 1) {
        fprintf(stderr, "rope %s: %s '%s': too large (overflows a double)\n", cmd, name, text);
        return -1;
    }
    if (!isfinite(v)) {
        fprintf(stderr, "rope %s: %s '%s': expected a finite number\n", cmd, name, text);
        return -1;
    }
    *out = v;
    return 0;
}

int cli_bytes(const char *cmd, const char *name, const char *text, uint64_t *out) {
    size_t n = strlen(text);
    int shift = 0;
    char num[32];
    if (n && strchr("KMGT", text[n - 1])) shift = 10 * (int)(strchr("KMGT", text[n - 1]) - "KMGT" + 1), n--;
    if (n == 0 || n >= sizeof num) {
        fprintf(stderr, "rope %s: %s '%s': expected a byte count such as 4096, 512M or 4G\n", cmd, name, text);
        return -1;
    }
    memcpy(num, text, n), num[n] = 0;
    int64_t v;
    if (cli_i64(cmd, name, num, 1, INT64_MAX, &v)) return -1;
    if ((uint64_t)v > (UINT64_MAX >> shift)) {
        fprintf(stderr, "rope %s: %s '%s': too large (overflows a 64-bit byte count)\n", cmd, name, text);
        return -1;
    }
    *out = (uint64_t)v << shift;
    return 0;
}

static const char *const layout_names[CLI_LAYOUT_COUNT] = {"halves", "interleaved", "coeff2", "coeff4", "coeffD"};

int cli_layout_named(const char *cmd, const char *text, cli_layout *out) {
    for (int i = 0; i < CLI_LAYOUT_COUNT; i++)
        if (!strcmp(text, layout_names[i])) {
            *out = (cli_layout)i;
            return 0;
        }
    fprintf(stderr, "rope %s: --layout '%s': expected halves, interleaved, coeff2, coeff4 or coeffD\n", cmd, text);
    return -1;
}

const char *cli_layout_name(cli_layout l) { return (unsigned)l < CLI_LAYOUT_COUNT ? layout_names[l] : "invalid"; }

int cli_layout_is_atb(cli_layout l) { return l == CLI_COEFF2 || l == CLI_COEFF4 || l == CLI_COEFFD; }
