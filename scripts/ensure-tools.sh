#!/bin/sh
# SPDX-License-Identifier: MIT
# Installs what building librope needs (a C compiler, cmake, make) when it is missing, so that on a
# fresh Debian machine `make demo` and `make test` are the whole set-up. Also, when it can, the tools
# some tests and features use: pkg-config (the install check), gnuplot (`rope bench --plot`) and
# python3 (the docs/API.md check);
# without them those still run, and say what is missing.
need=""
command -v cmake >/dev/null 2>&1 || need="$need cmake"
command -v cc >/dev/null 2>&1 || need="$need gcc libc6-dev"
want=""
command -v pkg-config >/dev/null 2>&1 || want="$want pkg-config"
command -v gnuplot >/dev/null 2>&1 || want="$want gnuplot-nox"
command -v python3 >/dev/null 2>&1 || want="$want python3"
[ -z "$need$want" ] && exit 0
can_install=0
[ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && can_install=1
if [ "$can_install" = 0 ]; then
  [ -n "$want" ] && echo "note: optional tools missing:$want (rope bench --plot, the install and API-doc checks need them)" >&2
  [ -z "$need" ] && exit 0
  echo "librope needs:$need (install them, then run make again)" >&2
  exit 1
fi
echo "installing:$need$want" >&2
apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $need $want >/dev/null
