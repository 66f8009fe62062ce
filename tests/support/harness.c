/* SPDX-License-Identifier: MIT */
#include "harness.h"

#include <stdlib.h>
#include <sys/stat.h>

int tu_passed, tu_failed;

int tu_finish(void) {
    printf("%d passed, %d failed\n", tu_passed, tu_failed);
    return tu_failed ? 1 : 0;
}

static uint64_t state = 0x9e3779b97f4a7c15ull;

void tu_seed(uint64_t seed) { state = seed ^ 0x9e3779b97f4a7c15ull; }

static const uint8_t *src;
static size_t src_left;

void tu_source(const uint8_t *data, size_t size) {
    src = data;
    src_left = data ? size : 0;
}

uint64_t tu_u64(void) { /* splitmix64 */
    if (src_left) {
        uint64_t v = 0;
        size_t n = src_left < 8 ? src_left : 8;
        for (size_t i = 0; i < n; i++) v |= (uint64_t)src[i] << (8 * i);
        src += n, src_left -= n;
        return v;
    }
    uint64_t z = (state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

int64_t tu_int(int64_t lo, int64_t hi) { return lo + (int64_t)(tu_u64() % (uint64_t)(hi - lo + 1)); }

double tu_uniform(double lo, double hi) {
    double u = (double)(tu_u64() >> 11) * (1.0 / 9007199254740992.0);
    double v = lo + (hi - lo) * u;
    return v == 0.0 ? (hi - lo) * 0.125 + lo * 0.5 + 1e-3 : v;
}

void *tu_xmalloc(size_t n) {
    void *p = malloc(n ? n : 1);
    if (!p) abort();
    return p;
}

const char *tu_shared_dir(void) {
    const char *d = getenv("ROPE_SHARED_DIR");
    struct stat st;
    if (!d || stat(d, &st) != 0 || !S_ISDIR(st.st_mode)) return NULL;
    return d;
}
