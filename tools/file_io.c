/* SPDX-License-Identifier: MIT */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include "file_io.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <fcntl.h>
#include <unistd.h>

uint64_t file_max_bytes = FILE_DEFAULT_MAX_BYTES;

int file_read_all(const char *path, uint8_t **data, size_t *size, diag *err) {
    /* Refused before anything is read: a FIFO would block, a device (/dev/zero) never ends. The file
     * is opened without blocking and checked again on the descriptor, in case it changed. */
    struct stat st;
    if (stat(path, &st) != 0) return diag_set(err, "%s: cannot open: %s", path, strerror(errno));
    if (!S_ISREG(st.st_mode)) return diag_set(err, "%s: not a regular file (refused before reading)", path);
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) return diag_set(err, "%s: cannot open: %s", path, strerror(errno));
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return diag_set(err, "%s: not a regular file (refused before reading)", path);
    }
    if ((uint64_t)st.st_size > file_max_bytes || (uint64_t)st.st_size > SIZE_MAX - 1) {
        close(fd);
        return diag_set(err, "%s: %llu bytes, past the input limit of %llu bytes (--max-input)", path,
                        (unsigned long long)st.st_size, (unsigned long long)file_max_bytes);
    }
    size_t cap = (size_t)st.st_size + 1, len = 0; /* one byte more: a file that grew is noticed */
    uint8_t *buf = malloc(cap);
    if (!buf) {
        close(fd);
        return diag_set(err, "%s: out of memory for %zu bytes", path, cap - 1);
    }
    for (;;) {
        ssize_t r = read(fd, buf + len, cap - len);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) {
            int e = errno;
            free(buf);
            close(fd);
            return diag_set(err, "%s: read failed: %s", path, strerror(e));
        }
        if (r == 0) break;
        len += (size_t)r;
        if (len == cap) {
            free(buf);
            close(fd);
            return diag_set(err, "%s: grew while being read (refused)", path);
        }
    }
    close(fd);
    *data = buf;
    *size = len;
    return 0;
}

int file_write_all(const char *path, const void *data, size_t size, diag *err) {
    FILE *f = fopen(path, "wb");
    if (!f) return diag_set(err, "%s: cannot create: %s", path, strerror(errno));
    size_t written = size ? fwrite(data, 1, size, f) : 0;
    int e = errno;
    int closed = fclose(f);
    if (written != size || closed != 0) {
        if (closed != 0) e = errno;
        return diag_set(err, "%s: write failed: %s", path, strerror(e));
    }
    return 0;
}

int is_directory(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int is_regular_file(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

int make_directories(const char *path, diag *err) {
    size_t n = strlen(path);
    char *p = malloc(n + 1);
    if (!p) return diag_set(err, "%s: out of memory", path);
    memcpy(p, path, n + 1);
    /* Create each prefix ending before a '/', then the whole path. */
    for (size_t i = 1; i <= n; i++) {
        if (p[i] != '/' && p[i] != '\0') continue;
        char saved = p[i];
        p[i] = '\0';
        if (mkdir(p, 0777) != 0 && errno != EEXIST) {
            int e = errno;
            diag_set(err, "%s: cannot create directory: %s", p, strerror(e));
            free(p);
            return -1;
        }
        p[i] = saved;
    }
    free(p);
    if (!is_directory(path)) return diag_set(err, "%s: exists and is not a directory", path);
    return 0;
}

int path_join(char *buf, size_t size, const char *dir, const char *name) {
    size_t n = strlen(dir);
    const char *sep = (n > 0 && dir[n - 1] == '/') ? "" : "/";
    int w = snprintf(buf, size, "%s%s%s", dir, sep, name);
    return (w < 0 || (size_t)w >= size) ? -1 : 0;
}
