#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Runs every libFuzzer target of tests/fuzz for SECONDS each (default 60), FUZZ_JOBS at a time
# (default: the number of CPUs), starting from the committed corpus tests/fuzz/corpus/<target>/.
# New coverage goes to a working corpus in the build directory (not committed); a crash, leak,
# timeout or violated property stops that target, leaves its reproducer in
# tests/fuzz/corpus/<target>/ (commit it: `make test` then replays it forever) and fails the script.
# Prints executions, coverage (edges: cov, features: ft) and the corpus size per target.
#   usage: scripts/fuzz.sh [SECONDS] [TARGET...]      (targets: tensor_proto onnx_model cli_args api ops)
# Without targets it also runs the Python config reader's mutation test (python/tests/test_config_fuzz.py)
# for about SECONDS, when `make` has built the Python package.
set -uo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
shift || true
targets=("$@")
explicit_targets=$#
[ ${#targets[@]} -gt 0 ] || targets=(tensor_proto onnx_model cli_args api ops)
jobs=${FUZZ_JOBS:-$(nproc 2>/dev/null || echo 2)}
build=${FUZZ_BUILD:-build-fuzz}

scripts/ensure-tools.sh fuzz || exit 1
CC=clang cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DROPE_FUZZ=ON >/dev/null || exit 1
cmake --build "$build" -j "$jobs" --target $(printf 'fuzz_%s ' "${targets[@]}") >/dev/null || exit 1

run_one() { # target: runs it, leaves its log in $build/fuzz-logs/<target>.log
  local t=$1 work="$build/fuzz-corpus/$t" log="$build/fuzz-logs/$t.log"
  mkdir -p "$work" "$build/fuzz-logs"
  # -rss_limit_mb: the harnesses allocate small blocks; anything near 2 GB is a finding.
  # -timeout: one input taking 20 s is a finding (a hang).
  "$build/tests/fuzz/fuzz_$t" -max_total_time="$seconds" -timeout=20 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="tests/fuzz/corpus/$t/" "$work" "tests/fuzz/corpus/$t" >"$log" 2>&1
  echo $? >"$log.rc"
}

start=$(date +%s)
running=0
for t in "${targets[@]}"; do
  run_one "$t" &
  running=$((running + 1))
  if [ "$running" -ge "$jobs" ]; then wait -n; running=$((running - 1)); fi
done
wait

status=0 total=0
printf '%-14s %12s %9s %8s %8s %7s  %s\n' target executions exec/s cov ft corpus result
for t in "${targets[@]}"; do
  log="$build/fuzz-logs/$t.log"
  rc=$(cat "$log.rc" 2>/dev/null || echo 1)
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
  last=$(grep -E '^#[0-9]+' "$log" | tail -n 1)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
  corp=$(sed -n 's/.* corp: \([0-9]*\)\/.*/\1/p' <<<"$last")
  result=ok
  if [ "$rc" != 0 ]; then
    result="FOUND (exit $rc): $(grep -m1 -E 'ERROR|fuzz property violated|Test unit written' "$log" || echo "see $log")"
    status=1
  fi
  total=$((total + ${execs:-0}))
  printf '%-14s %12s %9s %8s %8s %7s  %s\n' "$t" "${execs:-?}" "${rate:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}" "$result"
done
echo "fuzz: $total executions in $(( $(date +%s) - start )) s (${seconds} s per target, $jobs at a time)"

# The Python package's config reader (librope.cos_sin on mutated Hugging Face configs), when the normal
# build has the package (build/python, made by `make`): about SECONDS of random cases.
if [ "$explicit_targets" -eq 0 ] && [ -d build/python/librope ] && PYTHONPATH=build/python python3 -c "import librope" 2>/dev/null; then
  iters=$((seconds * 20000))
  if PYTHONPATH=build/python ROPE_PY_FUZZ_ITERS=$iters python3 -m pytest -q -p no:cacheprovider \
       python/tests/test_config_fuzz.py >"$build/fuzz-logs/pyconfig.log" 2>&1; then
    echo "fuzz: Python config reader: $iters mutated configs, no finding"
  else
    echo "fuzz: Python config reader: FOUND (see $build/fuzz-logs/pyconfig.log)"
    status=1
  fi
fi
[ "$status" = 0 ] || echo "fuzz: findings above; their inputs are in tests/fuzz/corpus/<target>/ (logs: $build/fuzz-logs/)"
exit "$status"
