#!/bin/sh
# Installs what building librope needs (a C compiler, cmake, make) when it is missing, so that on a
# fresh Debian machine `make demo` and `make test` are the whole set-up.
need=""
command -v cmake >/dev/null 2>&1 || need="$need cmake"
command -v cc >/dev/null 2>&1 || need="$need gcc libc6-dev"
[ -z "$need" ] && exit 0
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "librope needs:$need (install them, then run make again)" >&2
  exit 1
fi
echo "installing:$need" >&2
apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $need >/dev/null
