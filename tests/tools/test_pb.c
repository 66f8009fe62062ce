/* SPDX-License-Identifier: MIT */
/* The protobuf wire decoder: values, paths in error messages, bounds, depth, packed fields. */
#define _POSIX_C_SOURCE 200809L

#include <string.h>

#include "harness.h"
#include "tensor_proto.h"
#include "pb_builder.h"

static diag err;

static void open_msg(pb_msg *m, pb_source *src, const msg *b, const pb_field_name *names) {
    src->name = "t.pb";
    src->data = b->b;
    src->size = b->n;
    src->err = &err;
    pb_open(m, src, "", names);
}

static void test_varints(void) {
    const uint64_t values[] = {0, 1, 127, 128, 300, 16383, 16384, 0xffffffffu, 1ull << 35, 1ull << 63, UINT64_MAX};
    const size_t lengths[] = {1, 1, 1, 2, 2, 2, 3, 5, 6, 10, 10};
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        msg b = {0};
        msg_varint(&b, values[i]);
        size_t pos = 0;
        uint64_t v = 0;
        CHECK(pb_read_varint(b.b, &pos, b.n, &v) == 0 && v == values[i] && pos == lengths[i],
              "value %llu: got %llu after %zu bytes", (unsigned long long)values[i], (unsigned long long)v, pos);
        for (size_t cut = 0; cut < b.n; cut++) {
            uint8_t *p = msg_prefix_copy(&b, cut);
            pos = 0;
            CHECK(pb_read_varint(p, &pos, cut, &v) == -1 && pos == 0, "value %llu cut at %zu decoded",
                  (unsigned long long)values[i], cut);
            free(p);
        }
        msg_free(&b);
    }
    /* Eleven bytes, or a tenth byte carrying more than bit 63, do not fit 64 bits. */
    const uint8_t eleven[] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01};
    const uint8_t tenth_big[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02};
    size_t pos = 0;
    uint64_t v = 0;
    CHECK(pb_read_varint(eleven, &pos, sizeof eleven, &v) == -1, "11-byte varint accepted");
    pos = 0;
    CHECK(pb_read_varint(tenth_big, &pos, sizeof tenth_big, &v) == -1, "65-bit varint accepted");
}

static const pb_field_name flat_names[] = {{1, "a", 0}, {2, "b", 1}, {3, "c", 0}, {4, "d", 0}, {0, NULL, 0}};

static void test_wire_types(void) {
    msg b = {0};
    msg_int(&b, 1, 150);
    msg_str(&b, 2, "hi");
    msg_str(&b, 2, "there");
    msg_fixed32(&b, 3, 0xdeadbeefu);
    msg_fixed64(&b, 4, 0x0123456789abcdefull);
    msg_int(&b, 1000, 7); /* unknown, high field number */
    pb_source src;
    pb_msg m;
    pb_field f;
    open_msg(&m, &src, &b, flat_names);
    CHECK(pb_next(&m, &f) == 1 && f.number == 1 && f.wire == PB_VARINT && f.value == 150, "varint field");
    CHECK(!strcmp(f.path, "a"), "path %s", f.path);
    CHECK(pb_next(&m, &f) == 1 && f.number == 2 && f.wire == PB_LEN && f.length == 2 &&
              !memcmp(pb_bytes(&m, &f), "hi", 2) && f.index == 0,
          "first string");
    CHECK(pb_next(&m, &f) == 1 && f.index == 1 && !strcmp(f.path, "b[1]"), "second string path %s", f.path);
    char *s = NULL;
    CHECK(pb_string(&m, &f, &s) == 0 && s && !strcmp(s, "there"), "pb_string");
    free(s);
    CHECK(pb_next(&m, &f) == 1 && f.wire == PB_FIXED32 && f.value == 0xdeadbeefu, "fixed32");
    CHECK(pb_next(&m, &f) == 1 && f.wire == PB_FIXED64 && f.value == 0x0123456789abcdefull, "fixed64");
    CHECK(pb_next(&m, &f) == 1 && f.number == 1000 && !strcmp(f.path, "field 1000"), "unknown field %s", f.path);
    CHECK(pb_next(&m, &f) == 0, "end of message");
    CHECK(pb_next(&m, &f) == 0, "end stays end");
    msg_free(&b);
}

static int decode_all(const uint8_t *data, size_t n) {
    pb_source src = {"t.pb", data, n, &err};
    pb_msg m;
    pb_field f;
    int r;
    pb_open(&m, &src, "", flat_names);
    while ((r = pb_next(&m, &f)) == 1) {
    }
    return r;
}

static void test_malformed(void) {
    const uint8_t group[] = {0x0b, 0x0c};        /* field 1, start group */
    const uint8_t wire6[] = {0x0e, 0x00};        /* field 1, wire type 6 */
    const uint8_t field0[] = {0x00, 0x01};       /* field number 0 */
    const uint8_t short32[] = {0x1d, 0x01, 0x02}; /* fixed32 with 2 bytes */
    const uint8_t long_len[] = {0x12, 0xa0, 0x1f, 'x', 'y'};
    CHECK(decode_all(group, sizeof group) == -1 && strstr(err.text, "group"), "group: %s", err.text);
    CHECK(decode_all(wire6, sizeof wire6) == -1 && strstr(err.text, "invalid wire type 6"), "wire 6: %s", err.text);
    CHECK(decode_all(field0, sizeof field0) == -1 && strstr(err.text, "field number 0"), "field 0: %s", err.text);
    CHECK(decode_all(short32, sizeof short32) == -1 && strstr(err.text, "needs 4 bytes, 2 left"), "fixed32: %s",
          err.text);
    CHECK(decode_all(long_len, sizeof long_len) == -1, "overlong length accepted");
    CHECK(!strcmp(err.text, "t.pb: b[0]: length 4000 runs past the end (offset 3 of 5)"), "message: %s", err.text);
}

/* Paths name the nested field whose length is wrong, and the parent's end bounds the child. */
static const pb_field_name inner_names[] = {{1, "attribute", 1}, {0, NULL, 0}};
static const pb_field_name outer_names[] = {{1, "node", 1}, {0, NULL, 0}};
static const pb_field_name top_names[] = {{7, "graph", 0}, {0, NULL, 0}};

static void test_nested_paths(void) {
    /* graph { node { attribute {} attribute <length 4000> } } followed by padding in the file. */
    msg node = {0}, graph = {0}, top = {0};
    msg_str(&node, 1, "ok");
    msg_tag(&node, 1, 2);
    msg_varint(&node, 4000);
    msg_raw(&node, "abc", 3);
    msg_sub(&graph, 1, &node);
    msg_sub(&top, 7, &graph);
    pb_source src;
    pb_msg m, g, n;
    pb_field f;
    open_msg(&m, &src, &top, top_names);
    CHECK(pb_next(&m, &f) == 1 && pb_enter(&m, &f, outer_names, &g) == 0, "enter graph");
    CHECK(pb_next(&g, &f) == 1 && pb_enter(&g, &f, inner_names, &n) == 0, "enter node");
    CHECK(pb_next(&n, &f) == 1 && !strcmp(f.path, "graph.node[0].attribute[0]"), "path %s", f.path);
    CHECK(pb_next(&n, &f) == -1, "overlong attribute accepted");
    CHECK(strstr(err.text, "t.pb: graph.node[0].attribute[1]: length 4000 runs past the end") == err.text,
          "message: %s", err.text);
    msg_free(&top);

    /* A child whose length fits in the file but not in its parent. */
    msg inner = {0}, outer = {0};
    msg_tag(&inner, 1, 2);
    msg_varint(&inner, 3);
    msg_sub(&outer, 1, &inner);
    msg_raw(&outer, "pad", 3); /* the file goes on after the parent */
    open_msg(&m, &src, &outer, outer_names);
    CHECK(pb_next(&m, &f) == 1 && pb_enter(&m, &f, inner_names, &n) == 0, "enter");
    CHECK(pb_next(&n, &f) == -1 && strstr(err.text, "runs past the end of node[0] at offset 4"), "parent bound: %s",
          err.text);
    CHECK(pb_expect_wire(&m, &f, PB_VARINT) == -1 && strstr(err.text, "expected varint"), "wire check: %s", err.text);
    msg_free(&outer);
}

/* Walks every message-looking field recursively, as a hostile-input reader would. */
static int walk(const pb_msg *m, int *max_depth) {
    pb_field f;
    int r;
    pb_msg copy = *m;
    if (m->depth > *max_depth) *max_depth = m->depth;
    while ((r = pb_next(&copy, &f)) == 1) {
        pb_msg child;
        if (f.wire == PB_LEN && f.length > 0) {
            if (pb_enter(&copy, &f, inner_names, &child) || walk(&child, max_depth)) return -1;
        }
    }
    return r;
}

static msg nested(int levels) {
    msg m = {0};
    msg_int(&m, 2, 1);
    for (int i = 0; i < levels; i++) {
        msg outer = {0};
        msg_sub(&outer, 1, &m);
        m = outer;
    }
    return m;
}

static void test_depth_limit(void) {
    pb_source src;
    pb_msg m;
    int depth = 0;
    msg ok = nested(PB_MAX_DEPTH);
    open_msg(&m, &src, &ok, inner_names);
    CHECK(walk(&m, &depth) == 0 && depth == PB_MAX_DEPTH, "depth %d: %s", depth, err.text);
    msg deep = nested(PB_MAX_DEPTH + 1);
    open_msg(&m, &src, &deep, inner_names);
    CHECK(walk(&m, &depth) == -1 && strstr(err.text, "nested more than 32 deep"), "deep: %s", err.text);
    CHECK(strstr(err.text, "attribute[0].attribute[0]") != NULL, "deep path: %s", err.text);
    msg_free(&ok);
    msg_free(&deep);
}

static int collect(const msg *b, pb_scalar_kind kind, uint64_t *out, size_t cap, size_t *n) {
    pb_source src;
    pb_msg m;
    pb_field f;
    int r;
    *n = 0;
    open_msg(&m, &src, b, flat_names);
    while ((r = pb_next(&m, &f)) == 1) {
        pb_scalars it;
        uint64_t v = 0;
        size_t count;
        if (pb_scalars_count(&m, &f, kind, &count) || pb_scalars_begin(&it, &m, &f, kind)) return -1;
        while ((r = pb_scalars_next(&it, &v)) == 1 && *n < cap) out[(*n)++] = v;
        if (r < 0) return -1;
    }
    return r;
}

static void test_packed(void) {
    const uint64_t vals[] = {3, 270, 86942, 0, UINT64_MAX};
    for (int kind = 0; kind < 3; kind++) {
        msg unpacked = {0}, packed = {0}, payload = {0};
        for (size_t i = 0; i < 5; i++) {
            uint64_t v = kind == PB_SCALAR_FIXED32 ? (uint32_t)vals[i] : vals[i];
            if (kind == PB_SCALAR_VARINT) msg_int(&unpacked, 2, v), msg_varint(&payload, v);
            if (kind == PB_SCALAR_FIXED32) msg_fixed32(&unpacked, 2, (uint32_t)v), msg_le(&payload, v, 4);
            if (kind == PB_SCALAR_FIXED64) msg_fixed64(&unpacked, 2, v), msg_le(&payload, v, 8);
        }
        /* Packed, split over two occurrences, as a concatenating writer may produce. */
        size_t half = kind == PB_SCALAR_VARINT ? 3 : kind == PB_SCALAR_FIXED32 ? 8 : 16;
        msg_bytes(&packed, 2, payload.b, half);
        msg_bytes(&packed, 2, payload.b + half, payload.n - half);
        uint64_t a[8], b[8];
        size_t na, nb;
        CHECK(collect(&unpacked, (pb_scalar_kind)kind, a, 8, &na) == 0 && na == 5, "unpacked kind %d: %zu", kind, na);
        CHECK(collect(&packed, (pb_scalar_kind)kind, b, 8, &nb) == 0 && nb == 5, "packed kind %d: %zu", kind, nb);
        CHECK(na == nb && !memcmp(a, b, sizeof a[0] * na), "packed and unpacked differ (kind %d)", kind);
        CHECK(a[1] == 270 && a[2] == 86942, "values kind %d", kind);
        /* A packed payload that is not whole values. */
        msg bad = {0};
        msg_bytes(&bad, 2, payload.b, payload.n - 1);
        CHECK(collect(&bad, (pb_scalar_kind)kind, a, 8, &na) == -1, "cut packed payload accepted (kind %d)", kind);
        msg_free(&bad);
        msg_free(&unpacked);
        msg_free(&packed);
        msg_free(&payload);
    }
    /* A scalar field with the wrong wire type. */
    msg wrong = {0};
    msg_fixed32(&wrong, 2, 5);
    uint64_t a[2];
    size_t n;
    CHECK(collect(&wrong, PB_SCALAR_VARINT, a, 2, &n) == -1 && strstr(err.text, "expected varint or packed"), "%s",
          err.text);
    msg_free(&wrong);
}

static void test_typed_getters(void) {
    msg b = {0};
    msg_int(&b, 1, (uint64_t)-5);    /* negative int32: ten bytes, sign-extended */
    msg_int(&b, 1, 1ull << 31);      /* too large for int32 */
    msg_float(&b, 3, 1.5f);
    msg_bytes(&b, 2, "a\0b", 3);
    pb_source src;
    pb_msg m;
    pb_field f;
    int32_t i32 = 0;
    float fl = 0;
    char *s = NULL;
    open_msg(&m, &src, &b, flat_names);
    CHECK(pb_next(&m, &f) == 1 && pb_int32(&m, &f, &i32) == 0 && i32 == -5, "int32 -5: %d", i32);
    CHECK(pb_next(&m, &f) == 1 && pb_int32(&m, &f, &i32) == -1 && strstr(err.text, "int32 field holds 2147483648"),
          "%s", err.text);
    CHECK(pb_float(&m, &f, &fl) == -1, "float from a varint");
    CHECK(pb_next(&m, &f) == 1 && pb_float(&m, &f, &fl) == 0 && fl == 1.5f, "float");
    CHECK(pb_string(&m, &f, &s) == -1 && s == NULL, "string from fixed32");
    CHECK(pb_next(&m, &f) == 1 && pb_string(&m, &f, &s) == -1 && strstr(err.text, "NUL"), "%s", err.text);
    msg_free(&b);
}

/* Random bytes and mutations of a valid message never crash the recursive walker. */
static void test_fuzz(void) {
    msg base = nested(5);
    msg_str(&base, 3, "name");
    msg_fixed64(&base, 4, 42);
    tu_seed(7);
    int errors = 0;
    for (int iter = 0; iter < 20000; iter++) {
        size_t n = iter % 2 ? base.n : (size_t)tu_int(0, 40);
        uint8_t *p = tu_xmalloc(n);
        if (iter % 2) {
            memcpy(p, base.b, n);
            for (int k = (int)tu_int(1, 4); k > 0; k--) p[tu_int(0, (int64_t)n - 1)] = (uint8_t)tu_u64();
        } else {
            for (size_t i = 0; i < n; i++) p[i] = (uint8_t)tu_u64();
        }
        pb_source src = {"fuzz.pb", p, n, &err};
        pb_msg m;
        int depth = 0;
        pb_open(&m, &src, "", inner_names);
        errors += walk(&m, &depth) != 0;
        free(p);
    }
    CHECK(errors > 0, "no mutation was rejected");
    msg_free(&base);
}

int main(void) {
    test_varints();
    test_wire_types();
    test_malformed();
    test_nested_paths();
    test_depth_limit();
    test_packed();
    test_typed_getters();
    test_fuzz();
    return tu_finish();
}
