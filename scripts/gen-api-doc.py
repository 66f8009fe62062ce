#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Writes docs/API.md from include/rope.h, the one source of the API's documentation.

The header is read as paragraphs (separated by blank lines). A banner (a /* ---- */ line, a
/* Title */ line, a banner) starts a section; in a paragraph, each comment at column 0 documents the
declarations after it. Each item becomes a heading naming what it declares, the comment as text and
the declaration as C.

Usage: gen-api-doc.py [HEADER [OUTPUT]]      write OUTPUT (default docs/API.md)
       gen-api-doc.py --check [HEADER [OUTPUT]]  exit 1 when OUTPUT is not what HEADER gives
"""
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BANNER = re.compile(r"^/\* -{10,} \*/$")
TITLE = re.compile(r"^/\* (.*?)\s*\*/$")
NAME = re.compile(r"\b(rope_[a-z0-9_]+)\s*\(|^typedef\s.*?\b(rope_[a-z0-9_]+)\s*;|^typedef\s+(?:struct|enum)\s+(rope_[a-z0-9_]+)|"
                  r"^#define\s+(ROPE_[A-Z0-9_]+)|^\}\s*(rope_[a-z0-9_]+)\s*;|^typedef\s+\w+\s*\(\*\s*(rope_[a-z0-9_]+)\)")
SKIP = re.compile(r"^(#ifndef ROPE_H|#define ROPE_H|#endif|#ifdef __cplusplus|#include|extern \"C\"|\}$)")


def comment_text(lines):
    out = []
    for ln in lines:
        s = ln.strip()
        s = re.sub(r"^/\*+\s?", "", s)
        s = re.sub(r"\s*\*/$", "", s)
        s = re.sub(r"^\* ?", "", s) if not ln.startswith("/*") else s
        out.append(s.rstrip())
    while out and not out[0]:
        out.pop(0)
    while out and not out[-1]:
        out.pop()
    return "\n".join(out)


def names_in(code):
    found = []
    for ln in code:
        for m in NAME.finditer(ln.strip()):
            n = next(g for g in m.groups() if g)
            if n not in found and n not in ("ROPE_H", "ROPE_API"):
                found.append(n)
    return found


def split_items(par):
    """A paragraph into (comment lines, code lines) items: a comment at column 0 after code starts one."""
    items, com, code, in_com = [], [], [], False
    for ln in par:
        starts = ln.startswith("/*")
        if not in_com and starts and code:
            items.append((com, code))
            com, code = [], []
        if in_com or (starts and not code):
            com.append(ln)
            in_com = "*/" not in ln
        else:
            code.append(ln)
    items.append((com, code))
    return items


PART = re.compile(r'^#include "(rope/[a-z0-9_]+\.h)"$')


def expand_parts(header_path, lines):
    """rope.h with each of its parts (#include "rope/NAME.h") in place: the part's lines after its
    preamble (up to the first #endif, which closes its 'include rope.h' check) and before its guard's
    #endif, so the reference reads as one header."""
    out = []
    for ln in lines:
        m = PART.match(ln.strip())
        if not m:
            out.append(ln)
            continue
        path = os.path.join(os.path.dirname(header_path), m.group(1))
        part = open(path, encoding="utf-8").read().rstrip("\n").split("\n")
        first = part.index("#endif") + 1
        last = max(i for i, p in enumerate(part) if p.startswith("#endif /* ROPE_PART_"))
        out += part[first:last]
    return out


def generate(header_path):
    text = open(header_path, encoding="utf-8").read()
    lines = expand_parts(header_path, text.split("\n"))
    # The header's opening comment is the introduction.
    start = next(i for i, ln in enumerate(lines) if ln.startswith("/*") and "SPDX-License-Identifier" not in ln)
    end = next(i for i in range(start, len(lines)) if "*/" in lines[i])
    intro = comment_text(lines[start:end + 1])
    rel = os.path.relpath(header_path, ROOT) if header_path.startswith(ROOT) else os.path.basename(header_path)
    out = ["# librope API reference", "",
           "Generated from [`%s`](../%s) by `scripts/gen-api-doc.py`; do not edit (the header is the" % (rel, rel),
           "source: change its comments, then run `python3 scripts/gen-api-doc.py`). A test fails when this",
           "file is not current.", "", "```text", intro, "```", ""]
    pars, cur = [], []
    for ln in lines[end + 1:]:
        if ln.strip() == "":
            if cur:
                pars.append(cur)
            cur = []
        elif not SKIP.match(ln.strip()) or ln.startswith("#define"):
            if ln.strip().startswith("#") and (not ln.startswith("#define ROPE_") or ln.startswith("#define ROPE_H")):
                continue
            cur.append(ln)
    if cur:
        pars.append(cur)
    sections, body = [], []
    for par in pars:
        if len(par) >= 3 and BANNER.match(par[0]) and BANNER.match(par[2]):
            title = TITLE.match(par[1]).group(1)
            sections.append(title)
            body += ["## %s" % title, ""]
            par = par[3:]
            if not par:
                continue
        if par and par[0].startswith("/* ROPE_API marks"):
            body += ["### ROPE_API", "", "```text", comment_text(par[:2]), "```", ""]
            continue
        for com, code in split_items(par):
            names = names_in(code)
            if names:
                body += ["### " + ", ".join("`%s`" % n for n in names), ""]
            if com:
                body += ["```text", comment_text(com), "```", ""]
            if code:
                body += ["```c"] + [c.rstrip() for c in code] + ["```", ""]
    toc = ["Sections:", ""] + ["- [%s](#%s)" % (t, re.sub(r"[^a-z0-9 -]", "", t.lower()).replace(" ", "-"))
                              for t in sections] + [""]
    return "\n".join(out + toc + body).rstrip() + "\n"


def main(argv):
    check = "--check" in argv
    args = [a for a in argv if a != "--check"]
    header = args[0] if args else os.path.join(ROOT, "include", "rope.h")
    output = args[1] if len(args) > 1 else os.path.join(ROOT, "docs", "API.md")
    doc = generate(header)
    if check:
        current = open(output, encoding="utf-8").read() if os.path.exists(output) else ""
        if current != doc:
            print("%s is not current: run python3 scripts/gen-api-doc.py (0 passed, 1 failed)" % output)
            return 1
        print("1 passed, 0 failed (%s matches %s)" % (output, header))
        return 0
    with open(output, "w", encoding="utf-8") as f:
        f.write(doc)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
