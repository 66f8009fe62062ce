/* SPDX-License-Identifier: MIT */
/* Command-line parsing shared by every `rope` subcommand, so they all behave alike: "--opt=value"
 * and "--opt value" are the same, numbers are read whole and range-checked (an overflow says so),
 * and one vocabulary names the layouts. Like the parsers built on them (bench_args, cache_args), they
 * never print or exit: a message goes into a diag (without the "rope CMD: " prefix, which the
 * command adds when it prints it). */
#ifndef ROPE_TOOL_CLI_ARGS_H
#define ROPE_TOOL_CLI_ARGS_H

#include <stdint.h>

#include "diag.h"

/*
 * Whether argv[*i] is option `name` (e.g. "--dim", or "-o"): returns 1 with *value set to the text
 * after "name=" or to the next argument (then *i is advanced past it), 0 when argv[*i] is another
 * option, -1 with "NAME needs a value" in *err when the value is missing or empty.
 */
int cli_value(int argc, char **argv, int *i, const char *name, const char **value, diag *err);

/* Whether `arg` is the flag `name` ("--csv"). "--csv=..." is refused (-1, message in *err): flags
 * take no value. */
int cli_flag(const char *arg, const char *name, diag *err);

/* A whole decimal integer in [lo, hi] into *out; 0, or -1 with a message naming the option that says
 * whether the text is not a number, overflows a 64-bit integer, or lies outside the range. */
int cli_i64(const char *name, const char *text, int64_t lo, int64_t hi, int64_t *out, diag *err);

/* A finite decimal number into *out; 0, or -1 with a message (not a number, overflow). */
int cli_f64(const char *name, const char *text, double *out, diag *err);

/* A byte count: an integer with an optional K, M, G or T suffix (powers of 1024); 0 or -1 (message). */
int cli_bytes(const char *name, const char *text, uint64_t *out, diag *err);

/*
 * The layouts, one vocabulary for every subcommand. A layout names how the operator that consumes
 * the data pairs the elements of a head (and so which cos/sin table it reads):
 *   halves       ONNX interleaved 0: x[i] with x[i + r/2]        (table [positions, r/2])
 *   interleaved  ONNX interleaved 1: x[2i] with x[2i + 1]         (table [positions, r/2])
 *   coeff2       ATB rotaryCoeff 2 (rotate-half)                  (table [positions, r], coefficient 2)
 *   coeff4       ATB rotaryCoeff 4                                (table [positions, r], coefficient 4)
 *   coeffD       ATB rotaryCoeff D (adjacent pairs)               (table [positions, r], coefficient r)
 *   vllm         vLLM's cos_sin_cache, one table for either pairing (table [positions, r], rows [cos | sin])
 * vLLM's own pairings are not words of their own: is_neox=True is halves, is_neox=False (GPT-J) is
 * interleaved (`rope bench --op vllm --layout halves|interleaved`).
 */
typedef enum cli_layout {
    CLI_HALVES,
    CLI_INTERLEAVED,
    CLI_COEFF2,
    CLI_COEFF4,
    CLI_COEFFD,
    CLI_VLLM,
    CLI_LAYOUT_COUNT
} cli_layout;

/* The layout named `text`; -1 with "--layout 'x': expected halves, interleaved, coeff2, coeff4,
 * coeffD or vllm" in *err (vLLM's neox and gptj get the word to use instead). */
int cli_layout_named(const char *text, cli_layout *out, diag *err);
const char *cli_layout_name(cli_layout l);
/* 1 for the ATB layouts (coeff2, coeff4, coeffD). */
int cli_layout_is_atb(cli_layout l);

#endif
