/* SPDX-License-Identifier: MIT */
/*
 * The one table of scaling method names (rope.h: rope_scaling_name, rope_scaling_from_name). The C
 * library's messages, the `rope cache` CLI and the Python config reader all map names through it,
 * so a method added to rope_scaling gets its name in one place.
 */
#include <string.h>

#include "../core/internal.h"

/* Indexed by rope_scaling; a static assertion below keeps it as long as the enum. */
static const char *const scaling_names[] = {"default", "linear", "dynamic", "yarn", "llama3", "longrope",
                                            "proportional"};
#define SCALING_COUNT (sizeof scaling_names / sizeof scaling_names[0])
_Static_assert(SCALING_COUNT == (size_t)ROPE_SCALING_PROPORTIONAL + 1, "one name per rope_scaling value");

/* Names transformers itself reads as another method. Qwen2-VL's and Qwen2.5-VL's configurations turn
 * rope_type "mrope" into "default": MRoPE changes which position each pair sees, not the frequencies. */
static const struct {
    const char *alias;
    rope_scaling scaling;
} scaling_aliases[] = {{"mrope", ROPE_SCALING_DEFAULT}};

/* Appends s to the string in buf[cap], cutting it short rather than overflowing. */
static void append(char *buf, size_t cap, const char *s) {
    size_t n = strlen(buf), m = strlen(s);
    if (m > cap - 1 - n) m = cap - 1 - n;
    memcpy(buf + n, s, m);
    buf[n + m] = '\0';
}

const char *rope_scaling_name(rope_scaling scaling) {
    if ((unsigned)scaling >= SCALING_COUNT) return NULL;
    return scaling_names[scaling];
}

rope_status rope_scaling_from_name(const char *name, rope_scaling *out) {
    static const char where[] = "rope_scaling_from_name";
    if (!name) return rope_fail(ROPE_ERROR_NULL_ARGUMENT, where, "name is NULL");
    if (!out) return rope_fail(ROPE_ERROR_NULL_ARGUMENT, where, "out is NULL");
    for (size_t i = 0; i < SCALING_COUNT; i++) {
        if (strcmp(name, scaling_names[i]) == 0) {
            *out = (rope_scaling)i;
            return ROPE_OK;
        }
    }
    for (size_t i = 0; i < sizeof scaling_aliases / sizeof scaling_aliases[0]; i++) {
        if (strcmp(name, scaling_aliases[i].alias) == 0) {
            *out = scaling_aliases[i].scaling;
            return ROPE_OK;
        }
    }
    char known[256] = ""; /* the names, from the tables above: the message never lags behind them */
    for (size_t i = 0; i < SCALING_COUNT; i++) {
        append(known, sizeof known, i ? ", " : "");
        append(known, sizeof known, scaling_names[i]);
    }
    for (size_t i = 0; i < sizeof scaling_aliases / sizeof scaling_aliases[0]; i++) {
        append(known, sizeof known, i ? ", " : "; aliases: ");
        append(known, sizeof known, scaling_aliases[i].alias);
    }
    return rope_fail(ROPE_ERROR_ATTRIBUTE, where, "name: expected one of %s, found '%.64s'", known, name);
}
