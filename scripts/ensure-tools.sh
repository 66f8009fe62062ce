#!/bin/sh
# Installs what building and testing librope needs when it is missing, so that on a fresh Debian
# machine `make demo` and `make test` are the whole set-up: a C compiler, cmake, make; DLPack's header
# and Python's development headers (the Python package); the Python packages its tests import.
need=""
command -v cmake >/dev/null 2>&1 || need="$need cmake"
command -v cc >/dev/null 2>&1 || need="$need gcc libc6-dev"
[ -f /usr/include/dlpack/dlpack.h ] || need="$need libdlpack-dev"
py=$(command -v python3 || true)
if [ -n "$py" ] && ! "$py" -c 'import sysconfig, os, sys; sys.exit(not os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")))' 2>/dev/null; then
  need="$need python3-dev"
fi
if [ -n "$need" ]; then
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "librope needs:$need (install them, then run make again)" >&2
    exit 1
  fi
  echo "installing:$need" >&2
  apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $need >/dev/null || exit 1
fi

# The Python tests' packages (PyPI), pinned. torch only ever as 2.13.0: the CPU build this machine kind
# keeps on disk (an unpinned torch pulls a CUDA build of several GB). transformers 4.57 has the rope
# init functions with rope_scaling configs, Llama's and Qwen2-VL's apply_*_pos_emb, and Qwen3-VL.
[ -n "$py" ] || exit 0
missing=""
for spec in numpy:numpy pytest:pytest ml_dtypes:ml_dtypes==0.5.4 torch:torch==2.13.0 transformers:transformers==4.57.6; do
  mod=${spec%%:*}
  "$py" -c "import $mod" >/dev/null 2>&1 || missing="$missing ${spec#*:}"
done
[ -z "$missing" ] && exit 0
echo "installing (pip):$missing" >&2
"$py" -m pip install -q $missing >/dev/null 2>&1 || echo "warning: pip could not install$missing; the Python tests that need them will be skipped" >&2
exit 0
