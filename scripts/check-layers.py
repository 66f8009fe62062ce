#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Checks that src/ is layered: every #include "..." of a file under src/ points to a file of the same
folder or of a folder below it, and no files include each other in a cycle.

Layers, lowest first (a folder may include its own layer and any lower one):
  core     statuses, validation helpers, conversions, the thread pool: libc and pthreads only
  kernels  the per-instruction-set kernels and their dispatch table
  cache    frequencies, exact angles, cos/sin caches
  cossin   the cos/sin sources the engine reads rows from
  engine   the execution context and the walk over a job
  onnx, atb, vllm   the operators' front ends (none includes another)
  dlpack   rope_tensor_from_dlpack (reads DLPack's structs; uses core only)
  op       the one-shot calls and the operation lifecycle
Usage: scripts/check-layers.py [SRC_DIR]; exit 1 with the offending includes listed.
"""
import os
import re
import sys

LAYERS = [["core"], ["kernels"], ["cache"], ["cossin"], ["engine"], ["onnx", "atb", "vllm", "dlpack"], ["op"]]
RANK = {folder: i for i, group in enumerate(LAYERS) for folder in group}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def main():
    src = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "src"))
    include_dir = os.path.join(os.path.dirname(src), "include")
    graph, problems = {}, []
    for folder, _, files in os.walk(src):
        for name in files:
            if not name.endswith((".c", ".h")):
                continue
            path = os.path.join(folder, name)
            rel = os.path.relpath(path, src)
            layer = rel.split(os.sep)[0]
            if layer not in RANK:
                problems.append(f"{rel}: folder '{layer}' has no layer in scripts/check-layers.py")
                continue
            graph[rel] = []
            with open(path, encoding="utf-8") as f:
                for inc in INCLUDE.findall(f.read()):
                    target = os.path.normpath(os.path.join(folder, inc))
                    if not os.path.exists(target):
                        if os.path.exists(os.path.join(include_dir, inc)):
                            continue  # the public header
                        problems.append(f"{rel}: includes \"{inc}\", which does not exist")
                        continue
                    trel = os.path.relpath(target, src)
                    tlayer = trel.split(os.sep)[0]
                    graph[rel].append(trel)
                    if tlayer not in RANK:
                        problems.append(f"{rel}: includes {trel}, outside the layered folders")
                    elif tlayer != layer and RANK[tlayer] >= RANK[layer]:
                        problems.append(f"{rel} ({layer}) includes {trel} ({tlayer}): a layer may only look down")
    # Cycles among files.
    state = {}

    def visit(node, stack):
        state[node] = 1
        stack.append(node)
        for nxt in graph.get(node, []):
            if state.get(nxt) == 1:
                problems.append("include cycle: " + " -> ".join(stack[stack.index(nxt):] + [nxt]))
            elif nxt not in state:
                visit(nxt, stack)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [])
    for p in problems:
        print(p)
    print(f"check-layers: {len(graph)} files, {sum(len(v) for v in graph.values())} includes, "
          f"{len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
