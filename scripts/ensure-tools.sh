#!/bin/sh
# SPDX-License-Identifier: MIT
# Installs what building and testing librope needs when it is missing, so that on a fresh Debian
# machine `make demo` and `make test` are the whole set-up: a C compiler, cmake, make; DLPack's header
# and Python's development headers (the Python package); the Python packages its tests import. Also,
# when it can, the tools some tests and features use: pkg-config (the install check), gnuplot
# (`rope bench --plot`) and python3 (the docs/API.md and layering checks); without them those still
# run, and say what is missing.
# `ensure-tools.sh fuzz` also makes sure clang can build libFuzzer and sanitizer targets (clang and
# its compiler runtime, libclang-rt-<version>-dev), for scripts/fuzz.sh and the TSan run of .ci/run.
need=""
command -v cmake >/dev/null 2>&1 || need="$need cmake"
command -v cc >/dev/null 2>&1 || need="$need gcc libc6-dev"
[ -f /usr/include/dlpack/dlpack.h ] || need="$need libdlpack-dev"
py=$(command -v python3 || true)
if [ -n "$py" ] && ! "$py" -c 'import sysconfig, os, sys; sys.exit(not os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")))' 2>/dev/null; then
  need="$need python3-dev"
fi
want=""
command -v pkg-config >/dev/null 2>&1 || want="$want pkg-config"
command -v gnuplot >/dev/null 2>&1 || want="$want gnuplot-nox"
[ -n "$py" ] || want="$want python3"
if [ "${1:-}" = fuzz ]; then
  probe=$(mktemp -d)
  printf '#include <stddef.h>\n#include <stdint.h>\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }\n' >"$probe/f.c"
  if ! clang -fsanitize=fuzzer,address,undefined "$probe/f.c" -o "$probe/f" >/dev/null 2>&1 ||
     ! clang -fsanitize=thread -x c - -o "$probe/t" >/dev/null 2>&1 <<'C'
int main(void) { return 0; }
C
  then
    command -v clang >/dev/null 2>&1 || need="$need clang"
    # the runtime of the clang that is (or will be) installed: Debian's default clang names it
    version=$(clang --version 2>/dev/null | sed -n 's/.*clang version \([0-9]*\).*/\1/p' | head -n 1)
    [ -n "$version" ] || version=$(apt-cache depends clang 2>/dev/null | sed -n 's/.*Depends: clang-\([0-9]*\)$/\1/p' | head -n 1)
    need="$need libclang-rt-${version:-14}-dev"
  fi
  rm -rf "$probe"
fi
if [ -n "$need$want" ]; then
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    [ -n "$want" ] && echo "note: optional tools missing:$want (rope bench --plot, the install and API-doc checks need them)" >&2
    if [ -n "$need" ]; then
      echo "librope needs:$need (install them, then run make again)" >&2
      exit 1
    fi
  else
    echo "installing:$need$want" >&2
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $need $want >/dev/null || [ -z "$need" ] || exit 1
  fi
fi
[ "${1:-}" = fuzz ] && exit 0

# The Python tests' packages (PyPI), pinned, installed only when missing: an installed version is kept
# (the tests take transformers 4.57.6 or 5.25.0; .ci/run runs them under each in its own venv). torch
# only ever as 2.13.0: the CPU build this machine kind keeps on disk (an unpinned torch pulls a CUDA
# build of several GB). transformers 4.57 has the rope init functions with rope_scaling configs,
# Llama's and Qwen2-VL's apply_*_pos_emb, and Qwen3-VL. `kernels` is optional and never installed or
# changed here (it needs transformers 5: huggingface-hub>=1; test_hf_kernels.py skips without it).
py=$(command -v python3 || true)
[ -n "$py" ] || exit 0
missing=$("$py" -c '
import importlib.util as u
specs = {"numpy": "numpy", "pytest": "pytest", "ml_dtypes": "ml_dtypes==0.5.4", "torch": "torch==2.13.0",
         "transformers": "transformers==4.57.6"}
print(" ".join(v for k, v in specs.items() if u.find_spec(k) is None))' 2>/dev/null)
[ -z "$missing" ] && exit 0
echo "installing (pip): $missing" >&2
"$py" -m pip install -q $missing >/dev/null 2>&1 || echo "warning: pip could not install $missing; the Python tests that need them will be skipped" >&2
exit 0
