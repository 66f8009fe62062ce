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

int file_read_all(const char *path, uint8_t **data, size_t *size, diag *err) {
    FILE *f = fopen(path, "rb");
    if (!f) return diag_set(err, "%s: cannot open: %s", path, strerror(errno));
    size_t len = 0, cap = 4096;
    uint8_t *buf = malloc(cap);
    while (buf) {
        len += fread(buf + len, 1, cap - len, f);
        if (len < cap) break;
        uint8_t *bigger = cap <= SIZE_MAX / 2 ? realloc(buf, cap * 2) : NULL;
        if (!bigger) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = bigger;
        cap *= 2;
    }
    if (!buf) {
        fclose(f);
        return diag_set(err, "%s: out of memory while reading", path);
    }
    if (ferror(f)) {
        int e = errno;
        free(buf);
        fclose(f);
        return diag_set(err, "%s: read failed: %s", path, strerror(e));
    }
    fclose(f);
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
