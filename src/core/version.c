/* SPDX-License-Identifier: MIT */
#include "rope.h"

unsigned rope_version_number(void) { return ROPE_VERSION_NUMBER; }

const char *rope_version_string(void) { return ROPE_VERSION_STRING; }
