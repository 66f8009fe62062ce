/* SPDX-License-Identifier: MIT */
/* The subcommands of the `rope` tool; each lives in its own tools/cmd_*.c file. argv[0] is the
 * subcommand's name. Each returns the process exit status. */
#ifndef ROPE_TOOL_COMMANDS_H
#define ROPE_TOOL_COMMANDS_H

typedef struct rope_command {
    const char *name;
    const char *summary;
    int (*run)(int argc, char **argv);
} rope_command;

int rope_cmd_test(int argc, char **argv);
int rope_cmd_run(int argc, char **argv);
int rope_cmd_bench(int argc, char **argv);
int rope_cmd_cache(int argc, char **argv);

#endif
