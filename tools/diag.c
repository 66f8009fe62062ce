/* SPDX-License-Identifier: MIT */
#include "diag.h"

#include <stdio.h>

int diag_vset(diag *d, const char *fmt, va_list ap) {
    if (d) vsnprintf(d->text, sizeof d->text, fmt, ap);
    return -1;
}

int diag_set(diag *d, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    diag_vset(d, fmt, ap);
    va_end(ap);
    return -1;
}
