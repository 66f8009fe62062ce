/* SPDX-License-Identifier: MIT */
#include "pb.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Field numbers are 29 bits; wider tags are malformed. */
#define PB_MAX_FIELD_NUMBER 536870911u

static const char *wire_name(unsigned wire) {
    switch (wire) {
    case PB_VARINT: return "varint";
    case PB_FIXED64: return "fixed64";
    case PB_LEN: return "length-delimited";
    case PB_FIXED32: return "fixed32";
    case 3: return "start-group";
    case 4: return "end-group";
    default: return "invalid";
    }
}

static void vfail(const pb_source *src, const char *path, size_t offset, const char *fmt, va_list ap) {
    char reason[sizeof src->err->text];
    vsnprintf(reason, sizeof reason, fmt, ap);
    diag_set(src->err, "%s: %s%s%s (offset %zu of %zu)", src->name, path, path[0] ? ": " : "", reason, offset,
             src->size);
}

int pb_fail(const pb_msg *m, const pb_field *f, size_t offset, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vfail(m->src, f ? f->path : m->path, offset, fmt, ap);
    va_end(ap);
    return -1;
}

int pb_read_varint(const uint8_t *data, size_t *pos, size_t end, uint64_t *value) {
    uint64_t v = 0;
    size_t p = *pos;
    for (unsigned shift = 0; shift < 64; shift += 7) {
        if (p >= end) return -1;
        uint8_t b = data[p++];
        /* The 10th byte holds bit 63 only; anything more would be lost. */
        if (shift == 63 && b > 1) return -1;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *pos = p;
            *value = v;
            return 0;
        }
    }
    return -1;
}

static const char *varint_problem(const uint8_t *data, size_t start, size_t end) {
    for (size_t p = start; p < end && p - start < 10; p++)
        if (!(data[p] & 0x80)) return "varint is longer than 64 bits";
    return end - start >= 10 ? "varint is longer than 64 bits" : "varint runs past the end";
}

static uint64_t load_le(const uint8_t *p, unsigned n) {
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++) v |= (uint64_t)p[i] << (8 * i);
    return v;
}

/* Paths are for messages only, so an overlong one is cut and marked rather than failing. */
static void mark_if_cut(char *path, size_t size, int written) {
    if (written >= 0 && (size_t)written >= size && size > 4) memcpy(path + size - 4, "...", 4);
}

void pb_open(pb_msg *m, const pb_source *src, const char *path, const pb_field_name *names) {
    memset(m, 0, sizeof *m);
    m->src = src;
    m->names = names;
    m->end = src->size;
    mark_if_cut(m->path, sizeof m->path, snprintf(m->path, sizeof m->path, "%s", path ? path : ""));
}

static void name_field(const pb_msg *m, pb_field *f) {
    const char *sep = m->path[0] ? "." : "";
    int w;
    for (const pb_field_name *n = m->names; n && n->name; n++) {
        if (n->number != f->number) continue;
        if (n->repeated)
            w = snprintf(f->path, sizeof f->path, "%s%s%s[%" PRIu32 "]", m->path, sep, n->name, f->index);
        else
            w = snprintf(f->path, sizeof f->path, "%s%s%s", m->path, sep, n->name);
        mark_if_cut(f->path, sizeof f->path, w);
        return;
    }
    w = snprintf(f->path, sizeof f->path, "%s%sfield %" PRIu32, m->path, sep, f->number);
    mark_if_cut(f->path, sizeof f->path, w);
}

static int read_value(pb_msg *m, pb_field *f) {
    const uint8_t *d = m->src->data;
    size_t start = m->pos;
    switch (f->wire) {
    case PB_VARINT:
        if (pb_read_varint(d, &m->pos, m->end, &f->value))
            return pb_fail(m, f, start, "%s", varint_problem(d, start, m->end));
        return 0;
    case PB_FIXED32:
    case PB_FIXED64: {
        unsigned n = f->wire == PB_FIXED32 ? 4 : 8;
        if (m->end - m->pos < n)
            return pb_fail(m, f, start, "%s value needs %u bytes, %zu left", wire_name(f->wire), n, m->end - m->pos);
        f->value = load_le(d + m->pos, n);
        m->pos += n;
        return 0;
    }
    case PB_LEN: {
        uint64_t len = 0;
        if (pb_read_varint(d, &m->pos, m->end, &len))
            return pb_fail(m, f, start, "length %s", varint_problem(d, start, m->end));
        f->offset = m->pos;
        if (len > m->end - m->pos) {
            if (m->end == m->src->size)
                return pb_fail(m, f, f->offset, "length %" PRIu64 " runs past the end", len);
            return pb_fail(m, f, f->offset, "length %" PRIu64 " runs past the end of %s at offset %zu",
                           len, m->path[0] ? m->path : "its message", m->end);
        }
        f->length = (size_t)len;
        m->pos += f->length;
        return 0;
    }
    }
    return -1;
}

int pb_next(pb_msg *m, pb_field *f) {
    if (m->pos >= m->end) return 0;
    const uint8_t *d = m->src->data;
    size_t start = m->pos;
    uint64_t tag = 0;
    if (pb_read_varint(d, &m->pos, m->end, &tag))
        return pb_fail(m, NULL, start, "field tag: %s", varint_problem(d, start, m->end));
    unsigned wire = (unsigned)(tag & 7);
    uint64_t number = tag >> 3;
    if (number == 0 || number > PB_MAX_FIELD_NUMBER)
        return pb_fail(m, NULL, start, "invalid field number %" PRIu64, number);
    memset(f, 0, sizeof *f);
    f->number = (uint32_t)number;
    f->wire = (pb_wire)wire;
    f->offset = m->pos;
    if (f->number < PB_COUNTED_FIELDS) f->index = m->seen[f->number]++;
    name_field(m, f);
    if (wire == 3 || wire == 4)
        return pb_fail(m, f, start, "%s wire type (%u) is not supported (protobuf groups are obsolete)",
                       wire_name(wire), wire);
    if (wire != PB_VARINT && wire != PB_FIXED64 && wire != PB_LEN && wire != PB_FIXED32)
        return pb_fail(m, f, start, "invalid wire type %u", wire);
    return read_value(m, f) ? -1 : 1;
}

int pb_expect_wire(const pb_msg *m, const pb_field *f, pb_wire wire) {
    if (f->wire == wire) return 0;
    return pb_fail(m, f, f->offset, "wire type %s, expected %s", wire_name(f->wire), wire_name(wire));
}

int pb_enter(const pb_msg *parent, const pb_field *f, const pb_field_name *names, pb_msg *child) {
    if (pb_expect_wire(parent, f, PB_LEN)) return -1;
    if (parent->depth + 1 > PB_MAX_DEPTH)
        return pb_fail(parent, f, f->offset, "messages nested more than %d deep", PB_MAX_DEPTH);
    memset(child, 0, sizeof *child);
    child->src = parent->src;
    child->names = names;
    child->begin = child->pos = f->offset;
    child->end = f->offset + f->length;
    child->depth = parent->depth + 1;
    memcpy(child->path, f->path, sizeof child->path);
    return 0;
}

const uint8_t *pb_bytes(const pb_msg *m, const pb_field *f) { return m->src->data + f->offset; }

int pb_string(const pb_msg *m, const pb_field *f, char **out) {
    if (pb_expect_wire(m, f, PB_LEN)) return -1;
    const uint8_t *b = pb_bytes(m, f);
    if (memchr(b, 0, f->length)) return pb_fail(m, f, f->offset, "string contains a NUL byte");
    char *s = malloc(f->length + 1);
    if (!s) return pb_fail(m, f, f->offset, "out of memory for a %zu-byte string", f->length);
    memcpy(s, b, f->length);
    s[f->length] = '\0';
    free(*out); /* a repeated occurrence of a singular field replaces the earlier one */
    *out = s;
    return 0;
}

int pb_int64(const pb_msg *m, const pb_field *f, int64_t *out) {
    if (pb_expect_wire(m, f, PB_VARINT)) return -1;
    *out = (int64_t)f->value; /* int64 is two's complement on the wire */
    return 0;
}

int pb_int32(const pb_msg *m, const pb_field *f, int32_t *out) {
    int64_t v = 0;
    if (pb_int64(m, f, &v)) return -1;
    if (v < INT32_MIN || v > INT32_MAX) return pb_fail(m, f, f->offset, "int32 field holds %" PRId64, v);
    *out = (int32_t)v;
    return 0;
}

int pb_float(const pb_msg *m, const pb_field *f, float *out) {
    if (pb_expect_wire(m, f, PB_FIXED32)) return -1;
    uint32_t bits = (uint32_t)f->value;
    memcpy(out, &bits, sizeof *out);
    return 0;
}

static pb_wire kind_wire(pb_scalar_kind kind) {
    return kind == PB_SCALAR_VARINT ? PB_VARINT : kind == PB_SCALAR_FIXED32 ? PB_FIXED32 : PB_FIXED64;
}

int pb_scalars_begin(pb_scalars *it, const pb_msg *m, const pb_field *f, pb_scalar_kind kind) {
    memset(it, 0, sizeof *it);
    it->m = m;
    it->f = f;
    it->kind = kind;
    if (f->wire == kind_wire(kind)) {
        it->single_pending = 1;
        return 0;
    }
    if (f->wire != PB_LEN)
        return pb_fail(m, f, f->offset, "wire type %s, expected %s or packed", wire_name(f->wire),
                       wire_name(kind_wire(kind)));
    size_t width = kind == PB_SCALAR_FIXED32 ? 4 : kind == PB_SCALAR_FIXED64 ? 8 : 1;
    if (f->length % width)
        return pb_fail(m, f, f->offset, "packed %s payload of %zu bytes is not a multiple of %zu",
                       wire_name(kind_wire(kind)), f->length, width);
    it->pos = f->offset;
    it->end = f->offset + f->length;
    return 0;
}

int pb_scalars_next(pb_scalars *it, uint64_t *value) {
    if (it->single_pending) {
        it->single_pending = 0;
        *value = it->f->value;
        return 1;
    }
    if (it->pos >= it->end) return 0;
    const uint8_t *d = it->m->src->data;
    if (it->kind == PB_SCALAR_VARINT) {
        size_t start = it->pos;
        if (pb_read_varint(d, &it->pos, it->end, value))
            return pb_fail(it->m, it->f, start, "packed %s", varint_problem(d, start, it->end));
        return 1;
    }
    unsigned n = it->kind == PB_SCALAR_FIXED32 ? 4 : 8;
    *value = load_le(d + it->pos, n); /* begin checked the payload is whole values */
    it->pos += n;
    return 1;
}

int pb_scalars_count(const pb_msg *m, const pb_field *f, pb_scalar_kind kind, size_t *count) {
    pb_scalars it;
    uint64_t v = 0;
    int r;
    size_t n = 0;
    if (pb_scalars_begin(&it, m, f, kind)) return -1;
    while ((r = pb_scalars_next(&it, &v)) == 1) n++;
    if (r < 0) return -1;
    *count = n;
    return 0;
}
