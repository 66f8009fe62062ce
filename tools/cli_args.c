/* SPDX-License-Identifier: MIT */
/* Shared command-line parsing (cli_args.h). */
#include "cli_args.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

int cli_value(int argc, char **argv, int *i, const char *name, const char **value, diag *err) {
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
    if (!*value || !**value) return diag_set(err, "%s needs a value", name);
    return 1;
}

int cli_flag(const char *arg, const char *name, diag *err) {
    size_t n = strlen(name);
    if (strncmp(arg, name, n) != 0) return 0;
    if (arg[n] == '\0') return 1;
    if (arg[n] != '=') return 0;
    return diag_set(err, "%s takes no value (found '%s')", name, arg);
}

int cli_i64(const char *name, const char *text, int64_t lo, int64_t hi, int64_t *out, diag *err) {
    const char *p = text;
    if (*p == '+' || *p == '-') p++;
    int digits = *p != '\0';
    for (const char *q = p; *q; q++) digits &= isdigit((unsigned char)*q) != 0;
    if (!digits)
        return diag_set(err, "%s '%s': expected an integer", name, text);
    errno = 0;
    long long v = strtoll(text, NULL, 10);
    if (errno == ERANGE)
        return diag_set(err, "%s '%s': too large (overflows a 64-bit integer); expected %lld..%lld", name, text,
                        (long long)lo, (long long)hi);
    if (v < lo || v > hi)
        return diag_set(err, "%s %lld: out of range, expected %lld..%lld", name, v, (long long)lo, (long long)hi);
    *out = (int64_t)v;
    return 0;
}

int cli_f64(const char *name, const char *text, double *out, diag *err) {
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (!*text || *end || isnan(v))
        return diag_set(err, "%s '%s': expected a number", name, text);
    if (errno == ERANGE && fabs(v) > 1)
        return diag_set(err, "%s '%s': too large (overflows a double)", name, text);
    if (!isfinite(v))
        return diag_set(err, "%s '%s': expected a finite number", name, text);
    *out = v;
    return 0;
}

int cli_bytes(const char *name, const char *text, uint64_t *out, diag *err) {
    size_t n = strlen(text);
    int shift = 0;
    char num[32];
    if (n && strchr("KMGT", text[n - 1])) shift = 10 * (int)(strchr("KMGT", text[n - 1]) - "KMGT" + 1), n--;
    if (n == 0 || n >= sizeof num)
        return diag_set(err, "%s '%s': expected a byte count such as 4096, 512M or 4G", name, text);
    memcpy(num, text, n), num[n] = 0;
    int64_t v;
    if (cli_i64(name, num, 1, INT64_MAX, &v, err)) return -1;
    if ((uint64_t)v > (UINT64_MAX >> shift))
        return diag_set(err, "%s '%s': too large (overflows a 64-bit byte count)", name, text);
    *out = (uint64_t)v << shift;
    return 0;
}

static const char *const layout_names[CLI_LAYOUT_COUNT] = {"halves", "interleaved", "coeff2", "coeff4", "coeffD",
                                                           "vllm"};

int cli_layout_named(const char *text, cli_layout *out, diag *err) {
    for (int i = 0; i < CLI_LAYOUT_COUNT; i++)
        if (!strcmp(text, layout_names[i])) {
            *out = (cli_layout)i;
            return 0;
        }
    if (!strcmp(text, "neox") || !strcmp(text, "gptj"))
        return diag_set(err, "--layout '%s': vLLM's pairings are named as everywhere else: %s", text,
                        text[0] == 'n' ? "halves (is_neox=True)" : "interleaved (is_neox=False, GPT-J)");
    return diag_set(err, "--layout '%s': expected halves, interleaved, coeff2, coeff4, coeffD or vllm", text);
}

const char *cli_layout_name(cli_layout l) { return (unsigned)l < CLI_LAYOUT_COUNT ? layout_names[l] : "invalid"; }

int cli_layout_is_atb(cli_layout l) { return l == CLI_COEFF2 || l == CLI_COEFF4 || l == CLI_COEFFD; }
