#!/usr/bin/env bash
# Runs every fuzz target in fuzz/ for SECONDS each, one after another (one libFuzzer job at a
# time: the machines this runs on are shared), and prints per target the CPU time, executions
# and crashes. Installs cargo-fuzz when missing and seeds the corpora from fixtures/ first.
#
#   scripts/fuzz.sh SECONDS [TARGET...]     (default: every target; `make fuzz FUZZ_SECONDS=60`)
#
# Logs go to fuzz/logs/<target>.log, crash reproducers to fuzz/artifacts/<target>/.
# FUZZ_ARGS adds libFuzzer flags (FUZZ_ARGS="-fork=1 -ignore_crashes=1" keeps one worker going
# past a crash, collecting every reproducer); the exit status is 1 when any target crashed.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:?usage: scripts/fuzz.sh SECONDS [TARGET...]}
shift
toolchain=${FUZZ_TOOLCHAIN:-nightly}
# No sanitizer: the library is safe Rust, and ASan would halve the executions on a shared box.
# Debug assertions (overflow checks) stay on: cargo-fuzz's default.
build_flags=(--sanitizer none)
export FUZZ_ARGS=${FUZZ_ARGS:-}

if ! cargo +"$toolchain" fuzz --version >/dev/null 2>&1; then
  echo "== installing cargo-fuzz" >&2
  cargo install cargo-fuzz
fi

bash scripts/fuzz-seeds.sh >/dev/null
(cd fuzz && cargo +"$toolchain" fuzz build "${build_flags[@]}")

if [ $# -gt 0 ]; then
  targets=("$@")
else
  mapfile -t targets < <(cd fuzz && cargo +"$toolchain" fuzz list)
fi

mkdir -p fuzz/logs
any_crash=0
printf '%-22s %10s %14s %8s\n' target cpu_s executions crashes
for target in "${targets[@]}"; do
  log=fuzz/logs/$target.log
  mkdir -p "fuzz/artifacts/$target"
  before=$(find "fuzz/artifacts/$target" -type f | wc -l)
  # -rss_limit_mb bounds memory; -print_final_stats gives stat::number_of_executed_units.
  status=0
  /usr/bin/time -f 'cpu_seconds %U %S' -o "fuzz/logs/$target.time" \
    bash -c 'cd fuzz && exec cargo +"$1" fuzz run "${@:4}" "$2" -- -max_total_time="$3" -rss_limit_mb=2048 -print_final_stats=1 $FUZZ_ARGS' \
    _ "$toolchain" "$target" "$seconds" "${build_flags[@]}" >"$log" 2>&1 || status=$?
  cpu=$(awk '/^cpu_seconds/ {printf "%.0f", $2 + $3}' "fuzz/logs/$target.time")
  execs=$(awk '/stat::number_of_executed_units/ {print $2}' "$log" | tail -1)
  if [ -z "$execs" ]; then
    # -fork=1 (with FUZZ_ARGS="-fork=1 -ignore_crashes=1") prints no final stats: its last
    # progress line "#N: cov: ..." holds the executions of every child together.
    execs=$(awk '/^#[0-9]+: cov:/ {sub(/^#/, "", $1); sub(/:$/, "", $1); n = $1} END {print n}' "$log")
  fi
  after=$(find "fuzz/artifacts/$target" -type f | wc -l)
  crashes=$((after - before))
  if [ "$status" -ne 0 ] && [ "$crashes" -eq 0 ]; then
    crashes="?(exit $status)"
  fi
  [ "$status" -ne 0 ] && any_crash=1
  printf '%-22s %10s %14s %8s\n' "$target" "${cpu:-?}" "${execs:-?}" "$crashes"
done
exit "$any_crash"
