#!/bin/sh
# Installs what building librope needs (a C compiler, cmake, make) when it is missing, so that on a
# fresh Debian machine `make demo` and `make test` are the whole set-up.
# `ensure-tools.sh fuzz` also makes sure clang can build libFuzzer and sanitizer targets (clang and
# its compiler runtime, libclang-rt-<version>-dev), for scripts/fuzz.sh and the TSan run of .ci/run.
need=""
command -v cmake >/dev/null 2>&1 || need="$need cmake"
command -v cc >/dev/null 2>&1 || need="$need gcc libc6-dev"
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
[ -z "$need" ] && exit 0
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "librope needs:$need (install them, then run make again)" >&2
  exit 1
fi
echo "installing:$need" >&2
apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $need >/dev/null
