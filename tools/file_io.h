/* SPDX-License-Identifier: MIT */
/* Whole-file reads and writes and directory helpers for the CLI, with errors naming the path. */
#ifndef ROPE_TOOL_FILE_IO_H
#define ROPE_TOOL_FILE_IO_H

#include <stddef.h>
#include <stdint.h>

#include "diag.h"

/* The largest input file the tool reads: 4 GiB unless --max-input says otherwise. */
#define FILE_DEFAULT_MAX_BYTES (4ull << 30)
extern uint64_t file_max_bytes;

/* Reads the whole file into a malloc'd buffer (*data is non-NULL even for an empty file). Refuses,
 * before reading, what is not a regular file (a FIFO, a device, a directory; symbolic links are
 * followed) and a file larger than file_max_bytes. */
int file_read_all(const char *path, uint8_t **data, size_t *size, diag *err);
/* Creates or truncates the file and writes the bytes. */
int file_write_all(const char *path, const void *data, size_t size, diag *err);
/* 1 when path names a directory. */
int is_directory(const char *path);

/* 1 when `path` exists and is a regular file. */
int is_regular_file(const char *path);
/* Creates the directory and any missing parents (as mkdir -p). */
int make_directories(const char *path, diag *err);
/* "dir/name" into buf, without doubling a trailing slash of dir; -1 when it does not fit. */
int path_join(char *buf, size_t size, const char *dir, const char *name);

#endif
